//! The virtio PCI transport ("modern", virtio 1.x, spec §4.1): a PCI function whose BAR 4 holds
//! the common configuration, notification, ISR and device-configuration structures, each
//! announced by a vendor capability. The feature/status/queue state machine is the transport-
//! independent `VirtioCommon`, shared with virtio-mmio.
//!
//! ```text
//!   BAR 4 (16 KiB, 64-bit memory)
//!   0x0000  common cfg   (features, status, queue select/size/enable/addresses)
//!   0x1000  ISR status   (read clears: bit 0 queue, bit 1 config)
//!   0x2000  device cfg   (the device's own configuration space)
//!   0x3000  notify       (queue i at 0x3000 + 4 * i)
//! ```
//!
//! Interrupts are INTx (no MSI-X capability, so drivers fall back to the pin): the pin is high
//! while ISR is non-zero.
//!
//! A fifth capability, `VIRTIO_PCI_CAP_PCI_CFG` (§4.1.4.9), is a window onto the BAR through
//! configuration space, for drivers that cannot map BARs: the driver writes `cap.bar`,
//! `cap.offset` and `cap.length` (1, 2 or 4, offset aligned to it), then reading
//! `pci_cfg_data` reads that many bytes of the BAR there and writing it writes them. Any other
//! BAR, length or a misaligned or out-of-range offset is logged and does nothing (reads give 0).

use crate::pci::{BarKind, ConfigSpace, PciFunction};
use mimic_core::{guest_error, Size};
use mimic_memory::GuestMemory;
use mimic_virtio::{VirtioCommon, VirtioDevice};

const BAR: usize = 4;
const BAR_SIZE: u64 = 0x4000;
const COMMON: u64 = 0x0000;
const COMMON_LEN: u64 = 0x40;
const ISR: u64 = 0x1000;
const DEVICE: u64 = 0x2000;
const DEVICE_LEN: u64 = 0x1000;
const NOTIFY: u64 = 0x3000;
const NOTIFY_MULTIPLIER: u32 = 4;
const NO_VECTOR: u16 = 0xffff;

const CAP_VENDOR: u8 = 0x09;
const CFG_COMMON: u8 = 1;
const CFG_NOTIFY: u8 = 2;
const CFG_ISR: u8 = 3;
const CFG_DEVICE: u8 = 4;
const CFG_PCI: u8 = 5;
/// Offsets inside the PCI_CFG capability: `bar`, `offset`, `length`, `pci_cfg_data`.
const PCI_CFG_BAR: usize = 4;
const PCI_CFG_OFFSET: usize = 8;
const PCI_CFG_LENGTH: usize = 12;
const PCI_CFG_DATA: usize = 16;

/// The PCI class for a virtio device type (storage, network, or "other").
fn class_of(device_id: u32) -> u32 {
    match device_id {
        1 => 0x02_00_00,
        2 => 0x01_80_00,
        _ => 0xff_00_00,
    }
}

fn cap_body(cfg_type: u8, offset: u64, length: u64, extra: &[u8]) -> Vec<u8> {
    // cap_len, cfg_type, bar, id, padding[2], offset, length (+ extra), after vndr and next.
    let mut b = vec![16 + extra.len() as u8, cfg_type, BAR as u8, 0, 0, 0];
    b.extend_from_slice(&(offset as u32).to_le_bytes());
    b.extend_from_slice(&(length as u32).to_le_bytes());
    b.extend_from_slice(extra);
    b
}

pub struct VirtioPci<D> {
    config: ConfigSpace,
    common: VirtioCommon<D>,
    device_feature_select: u32,
    driver_feature_select: u32,
    queue_select: u16,
    isr: u8,
    /// Where the PCI_CFG capability starts in configuration space.
    pci_cfg: usize,
}

impl<D: VirtioDevice> VirtioPci<D> {
    pub fn new(device: D) -> Self {
        let id = device.device_id();
        let mut config = ConfigSpace::new(0x1af4, 0x1040 + id as u16, class_of(id), 1, 0x1af4, 0x1100);
        config.add_bar(BAR, BarKind::Mem64, BAR_SIZE);
        config.set_interrupt_pin(1);
        config.add_capability(CAP_VENDOR, &cap_body(CFG_COMMON, COMMON, COMMON_LEN, &[]));
        config.add_capability(CAP_VENDOR, &cap_body(CFG_ISR, ISR, 1, &[]));
        config.add_capability(CAP_VENDOR, &cap_body(CFG_DEVICE, DEVICE, DEVICE_LEN, &[]));
        config.add_capability(CAP_VENDOR, &cap_body(CFG_NOTIFY, NOTIFY, 0x1000, &NOTIFY_MULTIPLIER.to_le_bytes()));
        // bar, offset and length start at 0 and are the driver's to set; then 4 data bytes.
        let mut body = cap_body(CFG_PCI, 0, 0, &[0; 4]);
        body[2] = 0;
        let pci_cfg = config.add_capability(CAP_VENDOR, &body);
        config.allow_write(pci_cfg + PCI_CFG_BAR..pci_cfg + PCI_CFG_BAR + 1);
        config.allow_write(pci_cfg + PCI_CFG_OFFSET..pci_cfg + PCI_CFG_DATA + 4);
        VirtioPci {
            config,
            common: VirtioCommon::new(device),
            device_feature_select: 0,
            driver_feature_select: 0,
            queue_select: 0,
            isr: 0,
            pci_cfg,
        }
    }

    pub fn common(&self) -> &VirtioCommon<D> {
        &self.common
    }

    pub fn needs_processing(&self) -> bool {
        self.common.needs_processing()
    }

    /// Run notified queues and backend work; the INTx level follows ISR.
    pub fn process(&mut self, mem: &mut dyn GuestMemory) {
        let sig = self.common.process(mem);
        if !sig.queues.is_empty() {
            self.isr |= 1;
        }
        if sig.config {
            self.isr |= 2;
        }
    }

    /// The BAR access the PCI_CFG window is set up for: (offset, size), if valid.
    fn pci_cfg_target(&self) -> Option<(u64, Size)> {
        let c = &self.config;
        let bar = c.read(self.pci_cfg + PCI_CFG_BAR, 1);
        let offset = u64::from(c.read(self.pci_cfg + PCI_CFG_OFFSET, 4));
        let length = c.read(self.pci_cfg + PCI_CFG_LENGTH, 4);
        let size = match length {
            1 | 2 | 4 => Size::from_bytes(u64::from(length)),
            _ => None,
        };
        match size {
            Some(size)
                if bar == BAR as u32 && offset.is_multiple_of(size.bytes()) && offset + size.bytes() <= BAR_SIZE =>
            {
                Some((offset, size))
            }
            _ => {
                guest_error!(
                    bar,
                    offset,
                    length,
                    "virtio-pci: PCI_CFG access with a bad bar, offset or length, ignored"
                );
                None
            }
        }
    }

    /// Whether a config access of `size` bytes at `reg` touches `pci_cfg_data`.
    fn touches_pci_cfg_data(&self, reg: usize, size: usize) -> bool {
        let data = self.pci_cfg + PCI_CFG_DATA;
        reg < data + 4 && data < reg + size
    }

    fn queue(&self) -> usize {
        self.queue_select as usize
    }

    fn read_common(&mut self, off: u64) -> u64 {
        let q = self.common.queue(self.queue());
        match off {
            0x00 => self.device_feature_select as u64,
            0x04 => self.common.device_features_word(self.device_feature_select) as u64,
            0x08 => self.driver_feature_select as u64,
            0x0c => (self.common.driver_features() >> (32 * (self.driver_feature_select & 1))) as u32 as u64,
            0x10 => NO_VECTOR as u64,
            0x12 => self.common.num_queues() as u64,
            0x14 => self.common.status() as u64,
            0x15 => self.common.config_generation() as u8 as u64,
            0x16 => self.queue_select as u64,
            0x18 => q.map_or(0, |q| q.size() as u64),
            0x1a => NO_VECTOR as u64,
            0x1c => q.map_or(0, |q| q.ready() as u64),
            0x1e => self.queue_select as u64,
            0x20 => q.map_or(0, |q| q.desc_table()),
            0x24 => q.map_or(0, |q| q.desc_table() >> 32),
            0x28 => q.map_or(0, |q| q.avail_ring()),
            0x2c => q.map_or(0, |q| q.avail_ring() >> 32),
            0x30 => q.map_or(0, |q| q.used_ring()),
            0x34 => q.map_or(0, |q| q.used_ring() >> 32),
            0x38 => self.queue_select as u64,
            _ => 0,
        }
    }

    /// 64-bit queue addresses are written as two 32-bit halves.
    fn set_half(old: u64, high: bool, v: u64) -> u64 {
        if high {
            (old & 0xffff_ffff) | (v << 32)
        } else {
            (old & !0xffff_ffff) | (v & 0xffff_ffff)
        }
    }

    fn write_common(&mut self, off: u64, v: u64) {
        let qi = self.queue();
        let q = self.common.queue(qi).map(|q| (q.desc_table(), q.avail_ring(), q.used_ring()));
        match off {
            0x00 => self.device_feature_select = v as u32,
            0x08 => self.driver_feature_select = v as u32,
            0x0c => self.common.set_driver_features_word(self.driver_feature_select, v as u32),
            0x14 => {
                self.common.set_status(v as u8);
                if v == 0 {
                    self.isr = 0;
                }
            }
            0x16 => self.queue_select = v as u16,
            0x18 => self.common.set_queue_size(qi, v as u16),
            0x1c => self.common.set_queue_ready(qi, v & 1 != 0),
            0x20 | 0x24 => {
                if let Some((d, _, _)) = q {
                    self.common.set_queue_desc(qi, Self::set_half(d, off == 0x24, v));
                }
            }
            0x28 | 0x2c => {
                if let Some((_, a, _)) = q {
                    self.common.set_queue_avail(qi, Self::set_half(a, off == 0x2c, v));
                }
            }
            0x30 | 0x34 => {
                if let Some((_, _, u)) = q {
                    self.common.set_queue_used(qi, Self::set_half(u, off == 0x34, v));
                }
            }
            0x10 | 0x1a => {}
            _ => guest_error!(off, "virtio-pci: write to read-only common config"),
        }
    }
}

impl<D: VirtioDevice> PciFunction for VirtioPci<D> {
    fn config(&self) -> &ConfigSpace {
        &self.config
    }
    fn config_read(&mut self, reg: usize, size: usize) -> u32 {
        if self.touches_pci_cfg_data(reg, size) {
            let value = match self.pci_cfg_target() {
                Some((offset, size)) => self.bar_read(BAR, offset, size) as u32,
                None => 0,
            };
            let at = self.pci_cfg + PCI_CFG_DATA;
            self.config.set_bytes(at, &value.to_le_bytes());
        }
        self.config.read(reg, size)
    }
    fn config_written(&mut self, reg: usize, size: usize) {
        if self.touches_pci_cfg_data(reg, size) {
            if let Some((offset, size)) = self.pci_cfg_target() {
                let value = self.config.read(self.pci_cfg + PCI_CFG_DATA, size.bytes() as usize);
                self.bar_write(BAR, offset, size, u64::from(value));
            }
        }
    }
    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }

    fn bar_read(&mut self, bar: usize, offset: u64, size: Size) -> u64 {
        if bar != BAR {
            return 0;
        }
        match offset {
            COMMON..0x40 => {
                // Split 64-bit reads into the two 32-bit fields.
                let lo = self.read_common(offset);
                if size == Size::B8 {
                    lo & 0xffff_ffff | self.read_common(offset + 4) << 32
                } else {
                    lo & ((1u64 << size.bits()) - 1)
                }
            }
            ISR => std::mem::take(&mut self.isr) as u64,
            DEVICE..0x3000 => {
                let mut b = [0u8; 8];
                let n = size.bytes() as usize;
                self.common.read_config(offset - DEVICE, &mut b[..n]);
                u64::from_le_bytes(b)
            }
            _ => 0,
        }
    }

    fn bar_write(&mut self, bar: usize, offset: u64, size: Size, value: u64) {
        if bar != BAR {
            return;
        }
        match offset {
            COMMON..0x40 => {
                if size == Size::B8 {
                    self.write_common(offset, value & 0xffff_ffff);
                    self.write_common(offset + 4, value >> 32);
                } else {
                    self.write_common(offset, value);
                }
            }
            DEVICE..0x3000 => {
                let n = size.bytes() as usize;
                self.common.write_config(offset - DEVICE, &value.to_le_bytes()[..n]);
            }
            NOTIFY..0x4000 => self.common.notify(((offset - NOTIFY) / NOTIFY_MULTIPLIER as u64) as usize),
            _ => guest_error!(offset, "virtio-pci: write to an unused part of the BAR"),
        }
    }

    fn intx_level(&self) -> bool {
        self.isr != 0
    }
    fn needs_processing(&self) -> bool {
        self.common.needs_processing()
    }
    fn process(&mut self, mem: &mut dyn GuestMemory) {
        VirtioPci::process(self, mem)
    }
    fn io_in_flight(&self) -> bool {
        self.common.io_in_flight()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::virtio_rng::VirtioRng;

    type RngPci = VirtioPci<VirtioRng<fn(&mut [u8])>>;

    fn dev() -> RngPci {
        fn zeros(b: &mut [u8]) {
            b.fill(0)
        }
        VirtioPci::new(VirtioRng::new(zeros as fn(&mut [u8])))
    }

    /// Config-space offset of the vendor capability with this `cfg_type`, walking the list.
    fn find_cap(f: &mut impl PciFunction, cfg_type: u8) -> Option<usize> {
        let mut at = f.config_read(0x34, 1) as usize;
        while at != 0 {
            if f.config_read(at, 1) == u32::from(CAP_VENDOR) && f.config_read(at + 3, 1) == u32::from(cfg_type) {
                return Some(at);
            }
            at = f.config_read(at + 1, 1) as usize;
        }
        None
    }

    fn cfg_write(f: &mut impl PciFunction, reg: usize, size: usize, v: u32) {
        f.config_mut().write(reg, size, v);
        f.config_written(reg, size);
    }

    /// Point the PCI_CFG window at (`bar`, `offset`, `length`).
    fn aim(f: &mut impl PciFunction, cap: usize, bar: u8, offset: u32, length: u32) {
        cfg_write(f, cap + PCI_CFG_BAR, 1, u32::from(bar));
        cfg_write(f, cap + PCI_CFG_OFFSET, 4, offset);
        cfg_write(f, cap + PCI_CFG_LENGTH, 4, length);
    }

    #[test]
    fn pci_cfg_capability_is_listed_with_its_length() {
        let mut f = dev();
        let cap = find_cap(&mut f, CFG_PCI).expect("PCI_CFG capability");
        assert_eq!(f.config_read(cap + 2, 1), 20);
    }

    #[test]
    fn pci_cfg_window_reads_the_common_config() {
        let mut f = dev();
        let cap = find_cap(&mut f, CFG_PCI).unwrap();
        aim(&mut f, cap, BAR as u8, 0x12, 2); // num_queues
        assert_eq!(f.config_read(cap + PCI_CFG_DATA, 4) & 0xffff, 1);
    }

    #[test]
    fn pci_cfg_window_writes_reach_the_device_status() {
        let mut f = dev();
        let cap = find_cap(&mut f, CFG_PCI).unwrap();
        aim(&mut f, cap, BAR as u8, 0x14, 1); // device_status
        cfg_write(&mut f, cap + PCI_CFG_DATA, 1, 1); // ACKNOWLEDGE
        assert_eq!((f.common().status(), f.config_read(cap + PCI_CFG_DATA, 1)), (1, 1));
    }

    #[test]
    fn pci_cfg_window_with_bad_length_or_bar_does_nothing() {
        let mut f = dev();
        let cap = find_cap(&mut f, CFG_PCI).unwrap();
        aim(&mut f, cap, BAR as u8, 0x14, 3);
        cfg_write(&mut f, cap + PCI_CFG_DATA, 4, 1);
        let bad_len = (f.common().status(), f.config_read(cap + PCI_CFG_DATA, 4));
        aim(&mut f, cap, 0, 0x14, 1);
        cfg_write(&mut f, cap + PCI_CFG_DATA, 1, 1);
        aim(&mut f, cap, BAR as u8, 0x13, 2); // misaligned
        let misaligned = f.config_read(cap + PCI_CFG_DATA, 4);
        assert_eq!((bad_len, f.common().status(), misaligned), ((0, 0), 0, 0));
    }

    #[test]
    fn other_capabilities_stay_read_only() {
        let mut f = dev();
        let cap = find_cap(&mut f, CFG_COMMON).unwrap();
        cfg_write(&mut f, cap + 8, 4, 0x1234);
        assert_eq!(f.config_read(cap + 8, 4), COMMON as u32);
    }
}
