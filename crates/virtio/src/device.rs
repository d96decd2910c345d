//! What a virtio device model implements; the transports ([`crate::VirtioMmio`], later PCI) and
//! [`crate::VirtioCommon`] do the rest.

use crate::queue::Queue;
use mimic_memory::GuestMemory;

/// A virtio device behind any transport.
///
/// The transport owns the queues and the status/feature state machine; the device sees its queues
/// only while handling work, and guest memory only as the `&mut dyn GuestMemory` lent to it then.
/// Used elements a device adds are noticed by the queue itself (and turned into an interrupt if
/// the driver wants one), so the handlers return nothing. A device that finds a request it cannot
/// make sense of either answers it with an error status (its device type's rule) or breaks the
/// queue with [`Queue::fail`] (the transport then sets `DEVICE_NEEDS_RESET`).
pub trait VirtioDevice: Send {
    /// The virtio device ID (1 net, 2 block, 3 console, 4 entropy; 0 = no device).
    fn device_id(&self) -> u32;
    /// Device-type feature bits offered (the transport adds `VERSION_1`, `INDIRECT_DESC` and
    /// `EVENT_IDX`).
    fn features(&self) -> u64;
    /// How many virtqueues the device has.
    fn num_queues(&self) -> usize;
    /// The largest size the driver may give queue `index`.
    fn queue_max_size(&self, index: usize) -> u16;
    /// Read device-specific configuration space; bytes past its end read as 0.
    fn read_config(&self, offset: u64, data: &mut [u8]);
    /// Write device-specific configuration space (most devices ignore writes).
    fn write_config(&mut self, _offset: u64, _data: &[u8]) {}
    /// The driver set DRIVER_OK with these negotiated features.
    fn activate(&mut self, _negotiated: u64) {}
    /// Device reset (status 0): forget everything guest-visible.
    fn reset(&mut self) {}
    /// The driver notified queue `index` (only called while that queue is ready).
    fn process_queue(&mut self, index: usize, queue: &mut Queue, mem: &mut dyn GuestMemory);
    /// Backend-driven work (received packets, console input). Called on every `process` while
    /// the driver is running the device.
    fn poll(&mut self, _queues: &mut [Queue], _mem: &mut dyn GuestMemory) {}
    /// Whether [`VirtioDevice::poll`] has something to do (cheap: called by the run loop).
    fn has_backend_work(&self) -> bool {
        false
    }
    /// Whether work was handed to another thread (disk I/O) and will finish on its own: the
    /// board then waits for its wake-up rather than sleeping until the next timer.
    fn io_in_flight(&self) -> bool {
        false
    }
}

impl<T: VirtioDevice + ?Sized> VirtioDevice for Box<T> {
    fn device_id(&self) -> u32 {
        (**self).device_id()
    }
    fn features(&self) -> u64 {
        (**self).features()
    }
    fn num_queues(&self) -> usize {
        (**self).num_queues()
    }
    fn queue_max_size(&self, index: usize) -> u16 {
        (**self).queue_max_size(index)
    }
    fn read_config(&self, offset: u64, data: &mut [u8]) {
        (**self).read_config(offset, data)
    }
    fn write_config(&mut self, offset: u64, data: &[u8]) {
        (**self).write_config(offset, data)
    }
    fn activate(&mut self, negotiated: u64) {
        (**self).activate(negotiated)
    }
    fn reset(&mut self) {
        (**self).reset()
    }
    fn process_queue(&mut self, index: usize, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        (**self).process_queue(index, queue, mem)
    }
    fn poll(&mut self, queues: &mut [Queue], mem: &mut dyn GuestMemory) {
        (**self).poll(queues, mem)
    }
    fn has_backend_work(&self) -> bool {
        (**self).has_backend_work()
    }
    fn io_in_flight(&self) -> bool {
        (**self).io_in_flight()
    }
}

/// An empty transport slot: DeviceID 0, which drivers ignore (QEMU's unused virtio-mmio slots).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoDevice;

impl VirtioDevice for NoDevice {
    fn device_id(&self) -> u32 {
        0
    }
    fn features(&self) -> u64 {
        0
    }
    fn num_queues(&self) -> usize {
        0
    }
    fn queue_max_size(&self, _index: usize) -> u16 {
        0
    }
    fn read_config(&self, _offset: u64, data: &mut [u8]) {
        data.fill(0);
    }
    fn process_queue(&mut self, _index: usize, _queue: &mut Queue, _mem: &mut dyn GuestMemory) {}
}

/// Copy the part of `config` (a device's config space image) at `offset` into `data`; bytes past
/// the end read as 0. A helper for [`VirtioDevice::read_config`].
pub fn read_config_bytes(config: &[u8], offset: u64, data: &mut [u8]) {
    data.fill(0);
    let Ok(start) = usize::try_from(offset) else { return };
    if start >= config.len() {
        return;
    }
    let n = (config.len() - start).min(data.len());
    data[..n].copy_from_slice(&config[start..start + n]);
}
