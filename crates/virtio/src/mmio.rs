//! The virtio-mmio transport, version 2 ("modern"; device tree `compatible = "virtio,mmio"`),
//! virtio 1.2 §4.2.2. Registers are 32 bits wide and must be accessed with aligned 32-bit loads
//! and stores; the device configuration space from `0x100` takes 8/16/32/64-bit accesses.
//!
//! | offset | register | dir | notes |
//! |---|---|---|---|
//! | `0x000` | MagicValue | R | `0x74726976` ("virt") |
//! | `0x004` | Version | R | 2 |
//! | `0x008` | DeviceID | R | 0 = empty slot |
//! | `0x00c` | VendorID | R | `0x554d4551` ("QEMU") |
//! | `0x010` | DeviceFeatures | R | 32 bits selected by DeviceFeaturesSel |
//! | `0x014` | DeviceFeaturesSel | W | |
//! | `0x020` | DriverFeatures | W | 32 bits selected by DriverFeaturesSel |
//! | `0x024` | DriverFeaturesSel | W | |
//! | `0x030` | QueueSel | W | |
//! | `0x034` | QueueNumMax | R | 0 if the selected queue does not exist |
//! | `0x038` | QueueNum | W | |
//! | `0x044` | QueueReady | RW | |
//! | `0x050` | QueueNotify | W | queue index; recorded for [`VirtioMmio::process`] |
//! | `0x060` | InterruptStatus | R | bit 0 used buffer, bit 1 configuration change |
//! | `0x064` | InterruptACK | W | clears the bits written |
//! | `0x070` | Status | RW | 0 resets the device |
//! | `0x080`/`0x084` | QueueDescLow/High | W | descriptor table |
//! | `0x090`/`0x094` | QueueDriverLow/High | W | available ring |
//! | `0x0a0`/`0x0a4` | QueueDeviceLow/High | W | used ring |
//! | `0x0ac` | SHMSel | W | no shared memory regions: |
//! | `0x0b0`/`0x0b4` | SHMLenLow/High | R | … length reads as -1 |
//! | `0x0b8`/`0x0bc` | SHMBaseLow/High | R | … base reads as -1 |
//! | `0x0c0` | QueueReset | RW | `VIRTIO_F_RING_RESET` is not offered: reads 0 |
//! | `0x0fc` | ConfigGeneration | R | |
//! | `0x100`+ | Config | RW | device-specific |
//!
//! The interrupt line is level-triggered: high while InterruptStatus is not zero.
//! Other offsets, widths and misalignments are logged; they read 0 and ignore writes.

use crate::common::VirtioCommon;
use crate::device::{NoDevice, VirtioDevice};
use mimic_core::{guest_error, IrqLine, Size};
use mimic_memory::{GuestMemory, MmioDevice};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub const MAGIC_VALUE: u64 = 0x000;
pub const VERSION: u64 = 0x004;
pub const DEVICE_ID: u64 = 0x008;
pub const VENDOR_ID: u64 = 0x00c;
pub const DEVICE_FEATURES: u64 = 0x010;
pub const DEVICE_FEATURES_SEL: u64 = 0x014;
pub const DRIVER_FEATURES: u64 = 0x020;
pub const DRIVER_FEATURES_SEL: u64 = 0x024;
pub const QUEUE_SEL: u64 = 0x030;
pub const QUEUE_NUM_MAX: u64 = 0x034;
pub const QUEUE_NUM: u64 = 0x038;
pub const QUEUE_READY: u64 = 0x044;
pub const QUEUE_NOTIFY: u64 = 0x050;
pub const INTERRUPT_STATUS: u64 = 0x060;
pub const INTERRUPT_ACK: u64 = 0x064;
pub const STATUS: u64 = 0x070;
pub const QUEUE_DESC_LOW: u64 = 0x080;
pub const QUEUE_DESC_HIGH: u64 = 0x084;
pub const QUEUE_DRIVER_LOW: u64 = 0x090;
pub const QUEUE_DRIVER_HIGH: u64 = 0x094;
pub const QUEUE_DEVICE_LOW: u64 = 0x0a0;
pub const QUEUE_DEVICE_HIGH: u64 = 0x0a4;
pub const SHM_SEL: u64 = 0x0ac;
pub const SHM_LEN_LOW: u64 = 0x0b0;
pub const SHM_LEN_HIGH: u64 = 0x0b4;
pub const SHM_BASE_LOW: u64 = 0x0b8;
pub const SHM_BASE_HIGH: u64 = 0x0bc;
pub const QUEUE_RESET: u64 = 0x0c0;
pub const CONFIG_GENERATION: u64 = 0x0fc;
pub const CONFIG: u64 = 0x100;

/// "virt" in little-endian ASCII.
pub const MAGIC: u32 = 0x7472_6976;
/// "QEMU", the vendor ID QEMU's virtio-mmio devices report.
pub const VENDOR_QEMU: u32 = 0x554d_4551;
/// Bytes of register space one virtio-mmio slot decodes (QEMU's `virt` spaces slots 0x1000 apart).
pub const REG_SPACE: u64 = 0x200;

/// InterruptStatus bit: the device used a buffer.
pub const INT_VRING: u32 = 1;
/// InterruptStatus bit: the configuration changed (or the device needs a reset).
pub const INT_CONFIG: u32 = 2;

/// A virtio device behind the MMIO transport, driving `irq`.
pub struct VirtioMmio<D, I> {
    common: VirtioCommon<D>,
    irq: I,
    irq_level: bool,
    interrupt_status: u32,
    device_features_sel: u32,
    driver_features_sel: u32,
    queue_sel: u32,
    queue_desc: u64,
    queue_driver: u64,
    queue_device: u64,
    doorbell: Option<Arc<AtomicBool>>,
}

impl<D, I> std::fmt::Debug for VirtioMmio<D, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtioMmio")
            .field("interrupt_status", &self.interrupt_status)
            .field("queue_sel", &self.queue_sel)
            .finish_non_exhaustive()
    }
}

impl<I: IrqLine> VirtioMmio<NoDevice, I> {
    /// An empty slot (DeviceID 0).
    pub fn empty(irq: I) -> Self {
        VirtioMmio::new(NoDevice, irq)
    }
}

impl<D: VirtioDevice, I: IrqLine> VirtioMmio<D, I> {
    pub fn new(device: D, irq: I) -> Self {
        VirtioMmio {
            common: VirtioCommon::new(device),
            irq,
            irq_level: false,
            interrupt_status: 0,
            device_features_sel: 0,
            driver_features_sel: 0,
            queue_sel: 0,
            queue_desc: 0,
            queue_driver: 0,
            queue_device: 0,
            doorbell: None,
        }
    }

    /// A flag this transport sets on every QueueNotify, so the run loop can learn of new work
    /// with one atomic load (and end a CPU slice early) instead of locking each device. The run
    /// loop clears it, then calls [`Self::needs_processing`] / [`Self::process`]. Several
    /// transports may share one flag.
    pub fn set_doorbell(&mut self, doorbell: Arc<AtomicBool>) {
        self.doorbell = Some(doorbell);
    }

    pub fn device(&self) -> &D {
        self.common.device()
    }
    /// The device model (e.g. to push console input); call [`Self::needs_processing`] after.
    pub fn device_mut(&mut self) -> &mut D {
        self.common.device_mut()
    }
    pub fn common(&self) -> &VirtioCommon<D> {
        &self.common
    }
    pub fn interrupt_status(&self) -> u32 {
        self.interrupt_status
    }
    /// The level driven on the interrupt line.
    pub fn irq_level(&self) -> bool {
        self.irq_level
    }

    /// Whether [`Self::process`] has work: a queue notification is pending or the backend has
    /// work (input, received frames). One call per run-loop slice is cheap.
    pub fn needs_processing(&self) -> bool {
        self.common.needs_processing()
    }

    /// Whether the device waits for work on another thread (disk I/O).
    pub fn io_in_flight(&self) -> bool {
        self.common.io_in_flight()
    }

    /// Handle notified queues and backend work with guest memory at hand, then update
    /// InterruptStatus and the interrupt line.
    pub fn process(&mut self, mem: &mut dyn GuestMemory) {
        let sig = self.common.process(mem);
        if !sig.queues.is_empty() {
            self.interrupt_status |= INT_VRING;
        }
        if sig.config {
            self.interrupt_status |= INT_CONFIG;
        }
        self.update_irq();
    }

    /// Hardware reset of the transport and device (machine reset).
    pub fn reset(&mut self) {
        self.common.reset();
        self.interrupt_status = 0;
        self.device_features_sel = 0;
        self.driver_features_sel = 0;
        self.queue_sel = 0;
        self.update_irq();
    }

    fn update_irq(&mut self) {
        if self.common.take_config_interrupt() {
            self.interrupt_status |= INT_CONFIG;
        }
        let level = self.interrupt_status != 0;
        if level != self.irq_level {
            self.irq_level = level;
            self.irq.set_level(level);
        }
    }

    fn sel(&self) -> usize {
        self.queue_sel as usize
    }

    fn read_reg(&mut self, offset: u64) -> u32 {
        let c = &self.common;
        let q = c.queue(self.sel());
        match offset {
            MAGIC_VALUE => MAGIC,
            VERSION => 2,
            DEVICE_ID => c.device_id(),
            VENDOR_ID => VENDOR_QEMU,
            DEVICE_FEATURES => c.device_features_word(self.device_features_sel),
            QUEUE_NUM_MAX => q.map_or(0, |q| u32::from(q.max_size())),
            QUEUE_READY => q.map_or(0, |q| u32::from(q.ready())),
            INTERRUPT_STATUS => self.interrupt_status,
            STATUS => u32::from(c.status()),
            SHM_LEN_LOW | SHM_LEN_HIGH | SHM_BASE_LOW | SHM_BASE_HIGH => u32::MAX,
            QUEUE_RESET => 0,
            CONFIG_GENERATION => c.config_generation(),
            DEVICE_FEATURES_SEL | DRIVER_FEATURES | DRIVER_FEATURES_SEL | QUEUE_SEL | QUEUE_NUM | QUEUE_NOTIFY
            | INTERRUPT_ACK | QUEUE_DESC_LOW | QUEUE_DESC_HIGH | QUEUE_DRIVER_LOW | QUEUE_DRIVER_HIGH
            | QUEUE_DEVICE_LOW | QUEUE_DEVICE_HIGH | SHM_SEL => {
                guest_error!(offset, "virtio-mmio: read of a write-only register");
                0
            }
            _ => {
                guest_error!(offset, "virtio-mmio: read of an unknown register");
                0
            }
        }
    }

    fn write_reg(&mut self, offset: u64, v: u32) {
        let sel = self.sel();
        let lo = |r: u64| (r & !0xffff_ffff) | u64::from(v);
        let hi = |r: u64| (r & 0xffff_ffff) | (u64::from(v) << 32);
        match offset {
            DEVICE_FEATURES_SEL => self.device_features_sel = v,
            DRIVER_FEATURES => self.common.set_driver_features_word(self.driver_features_sel, v),
            DRIVER_FEATURES_SEL => self.driver_features_sel = v,
            QUEUE_SEL => {
                self.queue_sel = v;
                // The address registers are write-only; start from the queue's current values.
                if let Some(q) = self.common.queue(self.sel()) {
                    self.queue_desc = q.desc_table();
                    self.queue_driver = q.avail_ring();
                    self.queue_device = q.used_ring();
                }
            }
            QUEUE_NUM => match u16::try_from(v) {
                Ok(n) => self.common.set_queue_size(sel, n),
                Err(_) => {
                    guest_error!(v, "virtio-mmio: QueueNum too large");
                    self.common.set_queue_size(sel, 0);
                }
            },
            QUEUE_READY => self.common.set_queue_ready(sel, v & 1 != 0),
            QUEUE_NOTIFY => {
                self.common.notify(v as usize);
                if let Some(d) = &self.doorbell {
                    d.store(true, Ordering::Release);
                }
            }
            INTERRUPT_ACK => self.interrupt_status &= !v,
            STATUS => {
                match u8::try_from(v) {
                    Ok(s) => self.common.set_status(s),
                    Err(_) => guest_error!(v, "virtio-mmio: Status value above 8 bits, ignored"),
                }
                if self.common.status() == 0 {
                    self.interrupt_status = 0;
                }
            }
            QUEUE_DESC_LOW | QUEUE_DESC_HIGH => {
                self.queue_desc = if offset == QUEUE_DESC_LOW { lo(self.queue_desc) } else { hi(self.queue_desc) };
                self.common.set_queue_desc(sel, self.queue_desc);
            }
            QUEUE_DRIVER_LOW | QUEUE_DRIVER_HIGH => {
                self.queue_driver =
                    if offset == QUEUE_DRIVER_LOW { lo(self.queue_driver) } else { hi(self.queue_driver) };
                self.common.set_queue_avail(sel, self.queue_driver);
            }
            QUEUE_DEVICE_LOW | QUEUE_DEVICE_HIGH => {
                self.queue_device =
                    if offset == QUEUE_DEVICE_LOW { lo(self.queue_device) } else { hi(self.queue_device) };
                self.common.set_queue_used(sel, self.queue_device);
            }
            SHM_SEL => {}
            QUEUE_RESET => {
                if v != 0 {
                    guest_error!("virtio-mmio: QueueReset without VIRTIO_F_RING_RESET, ignored");
                }
            }
            _ => guest_error!(offset, v, "virtio-mmio: write to an unknown or read-only register"),
        }
    }
}

impl<D: VirtioDevice, I: IrqLine> MmioDevice for VirtioMmio<D, I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        if offset >= CONFIG {
            let mut b = [0u8; 8];
            let n = size.bytes() as usize;
            self.common.read_config(offset - CONFIG, &mut b[..n]);
            return u64::from_le_bytes(b);
        }
        if size != Size::B4 || !offset.is_multiple_of(4) {
            guest_error!(offset, bytes = size.bytes(), "virtio-mmio: register read not 32-bit aligned");
            return 0;
        }
        u64::from(self.read_reg(offset))
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) {
        if offset >= CONFIG {
            let n = size.bytes() as usize;
            self.common.write_config(offset - CONFIG, &value.to_le_bytes()[..n]);
        } else if size != Size::B4 || !offset.is_multiple_of(4) {
            guest_error!(offset, bytes = size.bytes(), "virtio-mmio: register write not 32-bit aligned");
        } else {
            self.write_reg(offset, value as u32);
        }
        self.update_irq();
    }
}
