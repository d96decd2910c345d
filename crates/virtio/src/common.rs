//! The transport-independent half of a virtio device (§2.1, §2.2, §3.1): feature negotiation,
//! device status, queue setup, pending notifications and processing. The MMIO transport maps its
//! registers onto this; a PCI transport maps its capability structures onto the same calls.
//!
//! Status machine (driver writes; the device only ever adds `DEVICE_NEEDS_RESET`):
//!
//! ```text
//!  0 ──ACKNOWLEDGE──▶ DRIVER ──(features written)──▶ FEATURES_OK ──(queues set up)──▶ DRIVER_OK
//!  │                                   │ refused unless VERSION_1 is accepted and no unoffered bit
//!  └──── writing 0 at any point resets the device, its queues and its features ◀───────────┘
//! ```
//!
//! - `FEATURES_OK` is refused (stays clear when read back, §3.1.1 step 6) if the driver accepted
//!   a bit the device did not offer or did not accept `VIRTIO_F_VERSION_1`.
//! - `DRIVER_OK` without `FEATURES_OK` is ignored. Clearing bits without writing 0 is ignored.
//! - Queues are processed only after `DRIVER_OK` and not while `DEVICE_NEEDS_RESET` is set;
//!   notifications that arrive earlier wait, and `DRIVER_OK` itself counts as a notification of
//!   every queue (drivers may fill queues before it).
//! - A broken queue (see [`crate::queue`]) sets `DEVICE_NEEDS_RESET` and, if `DRIVER_OK` is set,
//!   a configuration-change interrupt (§2.1.2).

use crate::device::VirtioDevice;
use crate::features::{
    status, TRANSPORT_FEATURES, VIRTIO_F_RING_EVENT_IDX, VIRTIO_F_RING_INDIRECT_DESC, VIRTIO_F_VERSION_1,
};
use crate::queue::{Queue, MAX_QUEUE_SIZE};
use mimic_core::guest_error;
use mimic_memory::GuestMemory;

/// Interrupts a [`VirtioCommon::process`] call asks the transport to raise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signals {
    /// Queues with new used elements whose driver wants an interrupt.
    pub queues: Vec<u16>,
    /// A configuration change (including `DEVICE_NEEDS_RESET`) to announce.
    pub config: bool,
}

impl Signals {
    pub fn any(&self) -> bool {
        self.config || !self.queues.is_empty()
    }
}

/// A device plus its negotiated state and queues.
#[derive(Debug)]
pub struct VirtioCommon<D> {
    device: D,
    queues: Vec<Queue>,
    device_features: u64,
    driver_features: u64,
    status: u8,
    config_generation: u32,
    notified: Vec<bool>,
    any_notified: bool,
    config_irq: bool,
}

impl<D: VirtioDevice> VirtioCommon<D> {
    pub fn new(device: D) -> Self {
        let n = device.num_queues();
        let queues = (0..n).map(|i| Queue::new(device.queue_max_size(i).min(MAX_QUEUE_SIZE))).collect();
        let device_features = device.features() | TRANSPORT_FEATURES;
        VirtioCommon {
            device,
            queues,
            device_features,
            driver_features: 0,
            status: 0,
            config_generation: 0,
            notified: vec![false; n],
            any_notified: false,
            config_irq: false,
        }
    }

    pub fn device(&self) -> &D {
        &self.device
    }
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }
    pub fn device_id(&self) -> u32 {
        self.device.device_id()
    }
    /// Every feature bit offered.
    pub fn device_features(&self) -> u64 {
        self.device_features
    }
    /// 32 bits of the offered features: word 0 = bits 0..32, word 1 = bits 32..64, others 0.
    pub fn device_features_word(&self, sel: u32) -> u32 {
        match sel {
            0 => self.device_features as u32,
            1 => (self.device_features >> 32) as u32,
            _ => 0,
        }
    }
    /// The features the driver wrote (negotiated once `FEATURES_OK` is set).
    pub fn driver_features(&self) -> u64 {
        self.driver_features
    }
    /// The driver writes 32 bits of its accepted features (ignored after `FEATURES_OK`).
    pub fn set_driver_features_word(&mut self, sel: u32, value: u32) {
        if self.status & status::FEATURES_OK != 0 {
            guest_error!("virtio: driver features written after FEATURES_OK, ignored");
            return;
        }
        match sel {
            0 => self.driver_features = (self.driver_features & !0xffff_ffff) | u64::from(value),
            1 => self.driver_features = (self.driver_features & 0xffff_ffff) | (u64::from(value) << 32),
            _ if value != 0 => guest_error!(sel, value, "virtio: driver accepted features in unknown word"),
            _ => {}
        }
    }
    pub fn status(&self) -> u8 {
        self.status
    }
    pub fn config_generation(&self) -> u32 {
        self.config_generation
    }
    pub fn num_queues(&self) -> usize {
        self.queues.len()
    }
    pub fn queue(&self, index: usize) -> Option<&Queue> {
        self.queues.get(index)
    }
    pub fn queues(&self) -> &[Queue] {
        &self.queues
    }

    /// Device reset (status 0): status, features, queues and pending work cleared.
    pub fn reset(&mut self) {
        self.status = 0;
        self.driver_features = 0;
        for q in &mut self.queues {
            q.reset();
        }
        self.notified.fill(false);
        self.any_notified = false;
        self.config_irq = false;
        self.device.reset();
    }

    /// The driver writes the device status.
    pub fn set_status(&mut self, value: u8) {
        if value == 0 {
            self.reset();
            return;
        }
        let old = self.status;
        let mut new = (value & !status::DEVICE_NEEDS_RESET) | (old & status::DEVICE_NEEDS_RESET);
        if new & old != old {
            guest_error!(old, value, "virtio: driver cleared status bits without a reset, ignored");
            return;
        }
        if new & status::FEATURES_OK != 0 && old & status::FEATURES_OK == 0 {
            let unoffered = self.driver_features & !self.device_features;
            if unoffered != 0 || self.driver_features & VIRTIO_F_VERSION_1 == 0 {
                guest_error!(
                    accepted = self.driver_features,
                    offered = self.device_features,
                    "virtio: FEATURES_OK refused (unoffered bits or no VERSION_1)"
                );
                new &= !status::FEATURES_OK;
            } else {
                let f = self.driver_features;
                for q in &mut self.queues {
                    q.set_features(f & VIRTIO_F_RING_EVENT_IDX != 0, f & VIRTIO_F_RING_INDIRECT_DESC != 0);
                }
            }
        }
        if new & status::DRIVER_OK != 0 && old & status::DRIVER_OK == 0 {
            if new & status::FEATURES_OK == 0 {
                guest_error!("virtio: DRIVER_OK without FEATURES_OK, ignored");
                new &= !status::DRIVER_OK;
            } else {
                self.device.activate(self.driver_features);
                // Drivers may populate queues before DRIVER_OK (§3.1.1 step 7) without a kick:
                // look at every queue once.
                self.notified.fill(true);
                self.any_notified = !self.notified.is_empty();
            }
        }
        self.status = new;
    }

    /// Mark the device broken (§2.1.2): `DEVICE_NEEDS_RESET`, announced by a configuration
    /// change interrupt if the driver is running it.
    pub fn set_needs_reset(&mut self) {
        if self.status & status::DEVICE_NEEDS_RESET != 0 {
            return;
        }
        self.status |= status::DEVICE_NEEDS_RESET;
        if self.status & status::DRIVER_OK != 0 {
            self.config_irq = true;
        }
    }

    /// Whether the driver may still change queue `index`'s layout (it exists and is not ready).
    fn queue_configurable(&mut self, index: usize) -> Option<&mut Queue> {
        match self.queues.get_mut(index) {
            Some(q) if !q.ready() => Some(q),
            Some(_) => {
                guest_error!(index, "virtio: queue layout written while the queue is ready, ignored");
                None
            }
            None => {
                guest_error!(index, "virtio: layout written for a queue that does not exist");
                None
            }
        }
    }
    pub fn set_queue_size(&mut self, index: usize, size: u16) {
        if let Some(q) = self.queue_configurable(index) {
            q.set_size(size);
        }
    }
    pub fn set_queue_desc(&mut self, index: usize, addr: u64) {
        if let Some(q) = self.queue_configurable(index) {
            q.set_desc_table(addr);
        }
    }
    pub fn set_queue_avail(&mut self, index: usize, addr: u64) {
        if let Some(q) = self.queue_configurable(index) {
            q.set_avail_ring(addr);
        }
    }
    pub fn set_queue_used(&mut self, index: usize, addr: u64) {
        if let Some(q) = self.queue_configurable(index) {
            q.set_used_ring(addr);
        }
    }
    /// The driver enables (or disables) queue `index`. An invalid size sets `DEVICE_NEEDS_RESET`.
    pub fn set_queue_ready(&mut self, index: usize, ready: bool) {
        let Some(q) = self.queues.get_mut(index) else {
            guest_error!(index, "virtio: QueueReady for a queue that does not exist");
            return;
        };
        if !ready {
            q.disable();
        } else if !q.ready() {
            if let Err(e) = q.enable() {
                guest_error!(index, "virtio: queue cannot be enabled: {e}");
                self.set_needs_reset();
            }
        }
    }

    /// The driver notified queue `index`: remember it for the next [`Self::process`].
    pub fn notify(&mut self, index: usize) {
        match self.notified.get_mut(index) {
            Some(n) => {
                *n = true;
                self.any_notified = true;
            }
            None => guest_error!(index, "virtio: notify for a queue that does not exist"),
        }
    }

    fn running(&self) -> bool {
        self.status & (status::DRIVER_OK | status::DEVICE_NEEDS_RESET) == status::DRIVER_OK
    }

    /// Whether [`Self::process`] has anything to do: a notification is pending or the backend
    /// has work, while the driver is running the device.
    pub fn needs_processing(&self) -> bool {
        self.running() && (self.any_notified || self.device.has_backend_work())
    }

    /// Whether the device waits for work on another thread (see [`VirtioDevice::io_in_flight`]).
    pub fn io_in_flight(&self) -> bool {
        self.device.io_in_flight()
    }

    /// Take a pending configuration-change interrupt (raised outside `process`, e.g. by a
    /// register write that broke the device).
    pub fn take_config_interrupt(&mut self) -> bool {
        std::mem::take(&mut self.config_irq)
    }

    /// Handle notified queues and backend work with guest memory at hand; report the interrupts
    /// the driver should get.
    pub fn process(&mut self, mem: &mut dyn GuestMemory) -> Signals {
        let mut sig = Signals::default();
        if self.running() {
            if std::mem::take(&mut self.any_notified) {
                for i in 0..self.queues.len() {
                    if std::mem::take(&mut self.notified[i]) && self.queues[i].ready() {
                        self.device.process_queue(i, &mut self.queues[i], mem);
                    }
                }
            }
            self.device.poll(&mut self.queues, mem);
            let mut broken = false;
            for (i, q) in self.queues.iter_mut().enumerate() {
                if q.error().is_some() {
                    broken = true;
                } else if q.needs_notification(&*mem) {
                    sig.queues.push(i as u16);
                }
                // needs_notification may itself break the queue.
                broken |= q.error().is_some();
            }
            if broken {
                self.set_needs_reset();
            }
        }
        sig.config = self.take_config_interrupt();
        sig
    }

    /// Read the device configuration space.
    pub fn read_config(&self, offset: u64, data: &mut [u8]) {
        self.device.read_config(offset, data);
    }
    /// Write the device configuration space.
    pub fn write_config(&mut self, offset: u64, data: &[u8]) {
        self.device.write_config(offset, data);
    }
    /// The device changed its configuration: bump the generation and interrupt the driver.
    pub fn config_changed(&mut self) {
        self.config_generation = self.config_generation.wrapping_add(1);
        if self.status & status::DRIVER_OK != 0 {
            self.config_irq = true;
        }
    }
}
