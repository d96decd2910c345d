//! PCI configuration space and a generic PCIe host bridge with ECAM, as QEMU's `virt` boards
//! have it (`pci-host-ecam-generic` in the device tree).
//!
//! ```text
//!   ECAM window:  offset = bus << 20 | device << 15 | function << 12 | register
//!   MMIO window:  BARs the guest assigned, dispatched to the function that owns the range
//!   PIO window:   I/O BARs, likewise
//! ```
//!
//! Functions implement [`PciFunction`]; the common header (IDs, command/status, BAR sizing,
//! capability list, interrupt pin) lives in [`ConfigSpace`] so a function only describes itself.
//! INTx pin `p` of device slot `d` reaches host interrupt `(d + p - 1) % 4` (the standard
//! swizzle, which the device tree's `interrupt-map` describes).

use mimic_core::{guest_error, IrqLine, Size};
use mimic_memory::{GuestMemory, MmioDevice};

pub const CONFIG_SIZE: usize = 4096;
const COMMAND: usize = 0x04;
const BAR0: usize = 0x10;
const CAP_PTR: usize = 0x34;
const INTERRUPT_LINE: usize = 0x3c;
const INTERRUPT_PIN: usize = 0x3d;
pub const COMMAND_IO: u16 = 1 << 0;
pub const COMMAND_MEMORY: u16 = 1 << 1;
pub const COMMAND_INTX_DISABLE: u16 = 1 << 10;
const STATUS_CAP_LIST: u16 = 1 << 4;
const STATUS_INTERRUPT: u16 = 1 << 3;

/// One base address register as the function declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarKind {
    Mem32,
    /// Takes two BAR slots.
    Mem64,
    Io,
}

#[derive(Clone, Copy, Debug)]
struct Bar {
    kind: BarKind,
    size: u64,
    /// What the guest wrote (the address bits).
    addr: u64,
}

/// The standard type-0 header plus capabilities, with the write masks that make BAR sizing and
/// read-only fields work.
#[derive(Clone)]
pub struct ConfigSpace {
    bytes: Vec<u8>,
    bars: [Option<Bar>; 6],
    /// Where the next capability goes (capabilities start at 0x40).
    next_cap: usize,
    last_cap: usize,
    /// Capability bytes the driver may write (e.g. the virtio PCI_CFG access window).
    writable: Vec<std::ops::Range<usize>>,
}

impl ConfigSpace {
    pub fn new(vendor: u16, device: u16, class: u32, revision: u8, subsys_vendor: u16, subsys: u16) -> Self {
        let mut bytes = vec![0u8; CONFIG_SIZE];
        bytes[0..2].copy_from_slice(&vendor.to_le_bytes());
        bytes[2..4].copy_from_slice(&device.to_le_bytes());
        bytes[8] = revision;
        bytes[9..12].copy_from_slice(&class.to_le_bytes()[..3]);
        bytes[0x2c..0x2e].copy_from_slice(&subsys_vendor.to_le_bytes());
        bytes[0x2e..0x30].copy_from_slice(&subsys.to_le_bytes());
        ConfigSpace { bytes, bars: [None; 6], next_cap: 0x40, last_cap: 0, writable: Vec::new() }
    }

    /// Declare BAR `index` (a power-of-two `size`). A 64-bit BAR also uses `index + 1`.
    pub fn add_bar(&mut self, index: usize, kind: BarKind, size: u64) {
        let size = size.max(if kind == BarKind::Io { 4 } else { 16 }).next_power_of_two();
        self.bars[index] = Some(Bar { kind, size, addr: 0 });
        self.refresh_bar_bytes(index);
    }

    /// Use interrupt pin INTA (1) .. INTD (4).
    pub fn set_interrupt_pin(&mut self, pin: u8) {
        self.bytes[INTERRUPT_PIN] = pin;
    }

    /// Append a capability (`id`, then `body` after the two-byte header); returns its offset.
    pub fn add_capability(&mut self, id: u8, body: &[u8]) -> usize {
        let at = self.next_cap;
        self.bytes[at] = id;
        self.bytes[at + 1] = 0;
        self.bytes[at + 2..at + 2 + body.len()].copy_from_slice(body);
        if self.last_cap == 0 {
            self.bytes[CAP_PTR] = at as u8;
        } else {
            self.bytes[self.last_cap + 1] = at as u8;
        }
        self.last_cap = at;
        self.next_cap = (at + 2 + body.len()).next_multiple_of(4);
        let status = u16::from_le_bytes([self.bytes[6], self.bytes[7]]) | STATUS_CAP_LIST;
        self.bytes[6..8].copy_from_slice(&status.to_le_bytes());
        at
    }

    /// Let the driver write `range` (inside a capability the function added).
    pub fn allow_write(&mut self, range: std::ops::Range<usize>) {
        self.writable.push(range);
    }

    /// Store bytes as the function itself (read-only fields included).
    pub fn set_bytes(&mut self, reg: usize, data: &[u8]) {
        if let Some(dst) = self.bytes.get_mut(reg..reg + data.len()) {
            dst.copy_from_slice(data);
        }
    }

    pub fn command(&self) -> u16 {
        u16::from_le_bytes([self.bytes[COMMAND], self.bytes[COMMAND + 1]])
    }

    /// The address BAR `index` decodes at, when its space is enabled in the command register.
    pub fn bar_address(&self, index: usize) -> Option<(u64, u64, BarKind)> {
        let b = self.bars.get(index)?.as_ref()?;
        let enabled = match b.kind {
            BarKind::Io => self.command() & COMMAND_IO != 0,
            _ => self.command() & COMMAND_MEMORY != 0,
        };
        (enabled && b.addr != 0).then_some((b.addr, b.size, b.kind))
    }

    fn refresh_bar_bytes(&mut self, index: usize) {
        let Some(b) = self.bars[index] else { return };
        let (flags, mask) = match b.kind {
            BarKind::Io => (1u64, !(b.size - 1)),
            BarKind::Mem32 => (0, !(b.size - 1) & 0xffff_ffff),
            BarKind::Mem64 => (0b100, !(b.size - 1)),
        };
        let v = (b.addr & mask) | flags;
        let at = BAR0 + 4 * index;
        self.bytes[at..at + 4].copy_from_slice(&(v as u32).to_le_bytes());
        if b.kind == BarKind::Mem64 && index < 5 {
            self.bytes[at + 4..at + 8].copy_from_slice(&((v >> 32) as u32).to_le_bytes());
        }
    }

    pub fn read(&self, reg: usize, size: usize) -> u32 {
        let mut v = 0u32;
        for i in 0..size {
            v |= (*self.bytes.get(reg + i).unwrap_or(&0) as u32) << (8 * i);
        }
        v
    }

    /// Write with the header's rules: IDs and capability bytes are read-only, BARs keep only
    /// their address bits (so writing all ones reads back the size mask).
    pub fn write(&mut self, reg: usize, size: usize, value: u32) {
        for i in 0..size {
            let r = reg + i;
            let b = (value >> (8 * i)) as u8;
            match r {
                0x04 => self.bytes[r] = b & 0x07,
                0x05 => self.bytes[r] = b & 0x04,
                // Status: write-one-to-clear bits we never set; ignore.
                0x06 | 0x07 => {}
                0x0c | 0x0d => self.bytes[r] = b,
                0x10..=0x27 => self.write_bar_byte(r, b),
                INTERRUPT_LINE => self.bytes[r] = b,
                _ if self.writable.iter().any(|w| w.contains(&r)) => self.bytes[r] = b,
                _ => {}
            }
        }
    }

    fn write_bar_byte(&mut self, r: usize, b: u8) {
        let slot = (r - BAR0) / 4;
        let shift = 8 * ((r - BAR0) % 4);
        // The upper half of a 64-bit BAR lives in the next slot.
        let (index, shift) = match (slot, self.bars.get(slot.wrapping_sub(1)).copied().flatten()) {
            (s, Some(Bar { kind: BarKind::Mem64, .. })) if s > 0 && self.bars[s].is_none() => (s - 1, shift + 32),
            _ => (slot, shift),
        };
        let Some(bar) = self.bars[index].as_mut() else { return };
        bar.addr = (bar.addr & !(0xff << shift)) | ((b as u64) << shift);
        let mask = match bar.kind {
            BarKind::Mem32 => !(bar.size - 1) & 0xffff_ffff,
            BarKind::Io => !(bar.size - 1) & 0xffff_ffff,
            BarKind::Mem64 => !(bar.size - 1),
        };
        bar.addr &= mask;
        self.refresh_bar_bytes(index);
    }

    pub fn set_interrupt_status(&mut self, pending: bool) {
        let mut status = u16::from_le_bytes([self.bytes[6], self.bytes[7]]) & !STATUS_INTERRUPT;
        if pending {
            status |= STATUS_INTERRUPT;
        }
        self.bytes[6..8].copy_from_slice(&status.to_le_bytes());
    }
}

/// A PCI function: its configuration space and what its BARs do.
pub trait PciFunction: Send {
    fn config(&self) -> &ConfigSpace;
    fn config_mut(&mut self) -> &mut ConfigSpace;
    /// A config write landed (e.g. a capability the function watches).
    fn config_written(&mut self, _reg: usize, _size: usize) {}
    /// A config read; functions with registers that act when read override it.
    fn config_read(&mut self, reg: usize, size: usize) -> u32 {
        self.config().read(reg, size)
    }
    fn bar_read(&mut self, bar: usize, offset: u64, size: Size) -> u64;
    fn bar_write(&mut self, bar: usize, offset: u64, size: Size, value: u64);
    /// The function's INTx level (before the command register's INTx-disable).
    fn intx_level(&self) -> bool {
        false
    }
    /// Whether the function has work that needs guest memory (see [`PciFunction::process`]).
    fn needs_processing(&self) -> bool {
        false
    }
    /// Do that work: an MMIO access cannot reach guest memory, so the board calls this after.
    fn process(&mut self, _mem: &mut dyn GuestMemory) {}
    /// Whether work runs on another thread and will wake the board when done.
    fn io_in_flight(&self) -> bool {
        false
    }
}

/// The host bridge itself (bus 0, device 0): Red Hat's generic PCIe host ID, as QEMU's gpex.
struct HostBridge(ConfigSpace);

impl PciFunction for HostBridge {
    fn config(&self) -> &ConfigSpace {
        &self.0
    }
    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.0
    }
    fn bar_read(&mut self, _bar: usize, _offset: u64, _size: Size) -> u64 {
        0
    }
    fn bar_write(&mut self, _bar: usize, _offset: u64, _size: Size, _value: u64) {}
}

/// Bus 0 with up to 32 device slots (function 0 each), plus the MMIO and PIO windows.
pub struct PciHost<I> {
    slots: Vec<Option<Box<dyn PciFunction>>>,
    /// Host interrupt lines for INTA..INTD after swizzling.
    intx: Vec<I>,
    levels: [bool; 4],
    /// Guest-physical base of the MMIO and PIO windows (BAR values are bus addresses equal to
    /// CPU addresses for MMIO, offsets for PIO).
    pio_base: u64,
}

impl<I: IrqLine> PciHost<I> {
    pub fn new(intx: Vec<I>, pio_base: u64) -> Self {
        let mut slots: Vec<Option<Box<dyn PciFunction>>> = (0..32).map(|_| None).collect();
        slots[0] = Some(Box::new(HostBridge(ConfigSpace::new(0x1b36, 0x0008, 0x06_00_00, 0, 0x1af4, 0x1100))));
        PciHost { slots, intx, levels: [false; 4], pio_base }
    }

    /// Plug a function into the first free slot; returns the slot number.
    pub fn plug(&mut self, f: Box<dyn PciFunction>) -> Option<usize> {
        let slot = self.slots.iter().position(|s| s.is_none())?;
        self.slots[slot] = Some(f);
        Some(slot)
    }

    pub fn function_mut(&mut self, slot: usize) -> Option<&mut (dyn PciFunction + 'static)> {
        self.slots.get_mut(slot)?.as_deref_mut()
    }

    /// Let every function with pending work use guest memory, then update the INTx lines.
    /// Whether any function waits for work on another thread (disk I/O).
    pub fn io_in_flight(&self) -> bool {
        self.slots.iter().flatten().any(|f| f.io_in_flight())
    }

    pub fn process(&mut self, mem: &mut dyn GuestMemory) {
        let mut any = false;
        for f in self.slots.iter_mut().flatten() {
            if f.needs_processing() {
                f.process(mem);
                any = true;
            }
        }
        if any {
            self.update_irqs();
        }
    }

    /// Re-evaluate the INTx lines from every function's level (standard swizzle).
    pub fn update_irqs(&mut self) {
        let mut levels = [false; 4];
        for (slot, f) in self.slots.iter_mut().enumerate() {
            let Some(f) = f else { continue };
            let pin = f.config().read(INTERRUPT_PIN, 1) as usize;
            let level = f.intx_level();
            f.config_mut().set_interrupt_status(level);
            if pin == 0 || !level || f.config().command() & COMMAND_INTX_DISABLE != 0 {
                continue;
            }
            levels[(slot + pin - 1) % 4] = true;
        }
        for (i, l) in levels.iter().enumerate() {
            if *l != self.levels[i] {
                if let Some(line) = self.intx.get(i) {
                    line.set_level(*l);
                }
            }
        }
        self.levels = levels;
    }

    fn ecam_target(offset: u64) -> (usize, usize, usize, usize) {
        let bus = (offset >> 20) as usize & 0xff;
        let dev = (offset >> 15) as usize & 0x1f;
        let func = (offset >> 12) as usize & 7;
        (bus, dev, func, (offset & 0xfff) as usize)
    }

    /// The function and BAR decoding `addr` in the given space.
    fn find_bar(&self, addr: u64, io: bool) -> Option<(usize, usize, u64)> {
        for (slot, f) in self.slots.iter().enumerate() {
            let Some(f) = f else { continue };
            for bar in 0..6 {
                if let Some((base, size, kind)) = f.config().bar_address(bar) {
                    if (kind == BarKind::Io) == io && addr >= base && addr - base < size {
                        return Some((slot, bar, addr - base));
                    }
                }
            }
        }
        None
    }
}

impl<I: IrqLine> PciHost<I> {
    pub fn ecam_read(&mut self, offset: u64, size: Size) -> u64 {
        let (bus, dev, func, reg) = Self::ecam_target(offset);
        if bus != 0 || func != 0 {
            return if size == Size::B8 { u64::MAX } else { (1u64 << size.bits()) - 1 };
        }
        match self.slots.get_mut(dev).and_then(|s| s.as_mut()) {
            Some(f) => {
                // A config read may act (the virtio PCI_CFG window can read the ISR).
                let v = f.config_read(reg, size.bytes() as usize) as u64;
                self.update_irqs();
                v
            }
            // No device: all ones, which is how software sees an empty slot.
            None => (1u64 << size.bits().min(63)) - 1,
        }
    }

    pub fn ecam_write(&mut self, offset: u64, size: Size, value: u64) {
        let (bus, dev, func, reg) = Self::ecam_target(offset);
        if bus != 0 || func != 0 || size == Size::B8 {
            return;
        }
        if let Some(Some(f)) = self.slots.get_mut(dev) {
            f.config_mut().write(reg, size.bytes() as usize, value as u32);
            f.config_written(reg, size.bytes() as usize);
        }
        self.update_irqs();
    }

    pub fn mmio_read(&mut self, addr: u64, size: Size, io: bool) -> u64 {
        let addr = if io { addr - self.pio_base } else { addr };
        match self.find_bar(addr, io) {
            Some((slot, bar, off)) => {
                let v = self.slots[slot].as_mut().map_or(0, |f| f.bar_read(bar, off, size));
                // Reads can lower a function's INTx (virtio's ISR is read-to-clear); a line left
                // high would re-raise the interrupt with no cause ("nobody cared" in Linux).
                self.update_irqs();
                v
            }
            None => {
                guest_error!(addr, "PCI read outside any BAR");
                0
            }
        }
    }

    pub fn mmio_write(&mut self, addr: u64, size: Size, value: u64, io: bool) {
        let addr = if io { addr - self.pio_base } else { addr };
        match self.find_bar(addr, io) {
            Some((slot, bar, off)) => {
                if let Some(f) = self.slots[slot].as_mut() {
                    f.bar_write(bar, off, size, value);
                }
                self.update_irqs();
            }
            None => guest_error!(addr, "PCI write outside any BAR"),
        }
    }
}

/// An MMIO view of one of the host's windows, to put on the bus.
pub enum Window {
    Ecam,
    /// Memory BARs: the window's guest-physical base (BAR addresses are CPU addresses).
    Mmio {
        base: u64,
    },
    Pio {
        base: u64,
    },
}

pub struct PciWindow<I> {
    pub host: mimic_memory::Shared<PciHost<I>>,
    pub window: Window,
}

impl<I: IrqLine + 'static> MmioDevice for PciWindow<I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        let mut h = self.host.lock().unwrap_or_else(|e| e.into_inner());
        match self.window {
            Window::Ecam => h.ecam_read(offset, size),
            Window::Mmio { base } => h.mmio_read(base + offset, size, false),
            Window::Pio { base } => h.mmio_read(base + offset, size, true),
        }
    }
    fn write(&mut self, offset: u64, size: Size, value: u64) {
        let mut h = self.host.lock().unwrap_or_else(|e| e.into_inner());
        match self.window {
            Window::Ecam => h.ecam_write(offset, size, value),
            Window::Mmio { base } => h.mmio_write(base + offset, size, value, false),
            Window::Pio { base } => h.mmio_write(base + offset, size, value, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::RecordingIrq;

    struct Dummy {
        cfg: ConfigSpace,
        reg: u64,
        irq: bool,
    }

    impl PciFunction for Dummy {
        fn config(&self) -> &ConfigSpace {
            &self.cfg
        }
        fn config_mut(&mut self) -> &mut ConfigSpace {
            &mut self.cfg
        }
        fn bar_read(&mut self, _bar: usize, offset: u64, _size: Size) -> u64 {
            // 0x1000 is read-to-clear, like virtio's ISR.
            if offset == 0x1000 {
                return std::mem::take(&mut self.irq) as u64;
            }
            self.reg + offset
        }
        fn bar_write(&mut self, _bar: usize, _offset: u64, _size: Size, value: u64) {
            self.reg = value;
            self.irq = value == 0x1;
        }
        fn intx_level(&self) -> bool {
            self.irq
        }
    }

    fn host() -> (PciHost<RecordingIrq>, Vec<RecordingIrq>) {
        let lines: Vec<RecordingIrq> = (0..4).map(|_| RecordingIrq::default()).collect();
        let mut h = PciHost::new(lines.clone(), 0x0300_0000);
        let mut cfg = ConfigSpace::new(0x1af4, 0x1042, 0x01_80_00, 1, 0x1af4, 0x1100);
        cfg.add_bar(4, BarKind::Mem64, 0x4000);
        cfg.set_interrupt_pin(1);
        h.plug(Box::new(Dummy { cfg, reg: 0, irq: false }));
        (h, lines)
    }

    fn ecam(dev: u64, reg: u64) -> u64 {
        dev << 15 | reg
    }

    #[test]
    fn empty_slot_reads_all_ones() {
        let (mut h, _) = host();
        assert_eq!(h.ecam_read(ecam(5, 0), Size::B4), 0xffff_ffff);
    }

    #[test]
    fn ids_are_read_only() {
        let (mut h, _) = host();
        h.ecam_write(ecam(1, 0), Size::B4, 0);
        assert_eq!(h.ecam_read(ecam(1, 0), Size::B4), 0x1042_1af4);
    }

    #[test]
    fn bar_sizing_reads_back_the_size_mask() {
        let (mut h, _) = host();
        h.ecam_write(ecam(1, 0x20), Size::B4, 0xffff_ffff);
        h.ecam_write(ecam(1, 0x24), Size::B4, 0xffff_ffff);
        assert_eq!(h.ecam_read(ecam(1, 0x20), Size::B4), 0xffff_c004);
        assert_eq!(h.ecam_read(ecam(1, 0x24), Size::B4), 0xffff_ffff);
    }

    #[test]
    fn assigned_bar_decodes_only_with_memory_enabled() {
        let (mut h, _) = host();
        h.ecam_write(ecam(1, 0x20), Size::B4, 0x4000_0000);
        h.ecam_write(ecam(1, 0x24), Size::B4, 0);
        h.mmio_write(0x4000_0000, Size::B4, 7, false);
        assert_eq!(h.mmio_read(0x4000_0010, Size::B4, false), 0);
        h.ecam_write(ecam(1, 0x04), Size::B2, COMMAND_MEMORY as u64);
        h.mmio_write(0x4000_0000, Size::B4, 7, false);
        assert_eq!(h.mmio_read(0x4000_0010, Size::B4, false), 0x17);
    }

    #[test]
    fn intx_is_swizzled_by_slot() {
        let (mut h, lines) = host();
        h.ecam_write(ecam(1, 0x20), Size::B4, 0x4000_0000);
        h.ecam_write(ecam(1, 0x04), Size::B2, COMMAND_MEMORY as u64);
        h.mmio_write(0x4000_0000, Size::B4, 1, false);
        // Slot 1, pin INTA → host line (1 + 1 - 1) % 4 = 1.
        assert!(lines[1].level());
        assert!(!lines[0].level());
    }

    #[test]
    fn intx_drops_when_a_read_clears_the_cause() {
        let (mut h, lines) = host();
        h.ecam_write(ecam(1, 0x20), Size::B4, 0x4000_0000);
        h.ecam_write(ecam(1, 0x04), Size::B2, COMMAND_MEMORY as u64);
        h.mmio_write(0x4000_0000, Size::B4, 1, false);
        let raised = lines[1].level();
        h.mmio_read(0x4000_1000, Size::B1, false);
        assert_eq!((raised, lines[1].level()), (true, false));
    }

    #[test]
    fn capability_list_is_linked() {
        let mut c = ConfigSpace::new(1, 2, 0, 0, 0, 0);
        let a = c.add_capability(0x09, &[0; 14]);
        let b = c.add_capability(0x09, &[0; 14]);
        assert_eq!(c.read(CAP_PTR, 1) as usize, a);
        assert_eq!(c.read(a + 1, 1) as usize, b);
        assert_ne!(c.read(6, 2) & STATUS_CAP_LIST as u32, 0);
    }
}
