//! The interface every memory-mapped device implements.

use crate::GuestMemory;
use mimic_core::Size;
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// A memory-mapped device: register reads and writes at offsets from its base.
///
/// A device answers every offset and size; offsets it does not implement read as zero and ignore
/// writes (with a rate-limited log), as most hardware does. It never panics on guest input.
pub trait MmioDevice: Send {
    fn read(&mut self, offset: u64, size: Size) -> u64;
    fn write(&mut self, offset: u64, size: Size, value: u64);
    /// Whether the last write started a transfer the device must finish before the CPU runs
    /// its next instruction (a DMA whose completion the driver checks right away, like
    /// fw_cfg's). The bus then lends the device guest memory through [`MmioDevice::run_dma`].
    fn dma_pending(&self) -> bool {
        false
    }
    /// Finish the transfer [`MmioDevice::dma_pending`] announced. `mem` is the address space
    /// without this device (its own registers are not memory to it).
    fn run_dma(&mut self, _mem: &mut dyn GuestMemory) {}
}

/// A device whose contents live in the backing store, like NOR flash: QEMU's "ROM device".
///
/// Instruction fetches read the array straight from the backing store (so firmware runs from
/// it at RAM speed); every data access goes through the device, which is handed the array to
/// answer from (array reads, or status and query data in a command mode) or to change
/// (program, erase). The bus invalidates translated code in the bytes a write reports changed.
pub trait RomDevice: Send {
    /// A read at `offset` (the region's whole array is `array`).
    fn read(&mut self, offset: u64, size: Size, array: &[u8]) -> u64;
    /// A write at `offset`; returns the byte range of `array` it changed, if any.
    fn write(&mut self, offset: u64, size: Size, value: u64, array: &mut [u8]) -> Option<Range<usize>>;
    /// What a read at `offset` would return, when reading has no side effects (a flash's read
    /// modes): page-table walks read translation tables through this, as they must see what
    /// a data read sees (the array, or a status word in a command mode). `None` (the default)
    /// says reads have side effects, so a walk through the device gets an external abort.
    fn peek(&self, _offset: u64, _size: Size, _array: &[u8]) -> Option<u64> {
        None
    }
}

/// A device shared between the bus and something else that drives it (an interrupt input, a
/// timer poll, a console backend).
pub type Shared<T> = Arc<Mutex<T>>;

impl<T: MmioDevice> MmioDevice for Arc<Mutex<T>> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        // A poisoned lock means another thread panicked mid-update; the device state is still
        // the best we have, and the guest must not bring the host down.
        let mut d = self.lock().unwrap_or_else(|e| e.into_inner());
        d.read(offset, size)
    }
    fn write(&mut self, offset: u64, size: Size, value: u64) {
        let mut d = self.lock().unwrap_or_else(|e| e.into_inner());
        d.write(offset, size, value)
    }
    fn dma_pending(&self) -> bool {
        self.lock().unwrap_or_else(|e| e.into_inner()).dma_pending()
    }
    fn run_dma(&mut self, mem: &mut dyn GuestMemory) {
        self.lock().unwrap_or_else(|e| e.into_inner()).run_dma(mem)
    }
}

impl<T: RomDevice> RomDevice for Arc<Mutex<T>> {
    fn read(&mut self, offset: u64, size: Size, array: &[u8]) -> u64 {
        let mut d = self.lock().unwrap_or_else(|e| e.into_inner());
        d.read(offset, size, array)
    }
    fn write(&mut self, offset: u64, size: Size, value: u64, array: &mut [u8]) -> Option<Range<usize>> {
        let mut d = self.lock().unwrap_or_else(|e| e.into_inner());
        d.write(offset, size, value, array)
    }
    fn peek(&self, offset: u64, size: Size, array: &[u8]) -> Option<u64> {
        let d = self.lock().unwrap_or_else(|e| e.into_inner());
        d.peek(offset, size, array)
    }
}
