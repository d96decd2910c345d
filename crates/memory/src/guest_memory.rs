//! Guest memory as devices see it: DMA by guest-physical address, bounds-checked.
//!
//! Devices never hold the address space (it owns them); the machine lends them a
//! `&mut dyn GuestMemory` when they have work to do (a virtqueue notification, a completed I/O).

use crate::space::BusError;
use mimic_core::LentMemory;

pub trait GuestMemory {
    /// Copy `buf.len()` bytes from guest-physical `addr`. Fails, touching nothing, unless the
    /// whole span is RAM or ROM.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), BusError>;
    /// Copy `data` to guest-physical `addr`. Fails, writing nothing, unless the whole span is RAM.
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), BusError>;
    /// Lend the RAM at `spans` (guest-physical address, length), in that order, to a backend
    /// that fills it on another thread, so read data need not be copied on the machine thread.
    /// `None` (the caller copies instead) when this memory cannot lend, or unless every span
    /// is writable RAM and no two overlap. Once the backend is done, tell
    /// [`GuestMemory::dma_written`] which spans it wrote.
    fn lend(&mut self, spans: &[(u64, u64)]) -> Option<Box<dyn LentMemory>> {
        let _ = spans;
        None
    }
    /// A backend wrote `len` bytes at `addr` through memory this lent: code decoded from there
    /// must be decoded again.
    fn dma_written(&mut self, addr: u64, len: u64) {
        let _ = (addr, len);
    }
}

impl GuestMemory for crate::AddressSpace {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), BusError> {
        self.read_bytes(addr, buf).map_err(|_| BusError { addr })
    }
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), BusError> {
        match self.lookup_ram(addr) {
            Some(l) if l.writable && l.remaining >= data.len() as u64 => {
                self.write_bytes(addr, data).map_err(|_| BusError { addr })?;
                // Written code must be decoded again: mark the pages for the CPUs to notice.
                self.note_dma_write(l.offset, data.len());
                Ok(())
            }
            _ => Err(BusError { addr }),
        }
    }
    fn lend(&mut self, spans: &[(u64, u64)]) -> Option<Box<dyn LentMemory>> {
        Some(Box::new(self.lend_ram(spans)?))
    }
    fn dma_written(&mut self, addr: u64, len: u64) {
        if let Some(l) = self.lookup_ram(addr) {
            self.note_dma_write(l.offset, len.min(l.remaining) as usize);
        }
    }
}

/// A flat test memory for device unit tests: `size` bytes at `base`.
#[derive(Debug, Clone)]
pub struct FlatMemory {
    pub base: u64,
    pub bytes: Vec<u8>,
}

impl FlatMemory {
    pub fn new(base: u64, size: usize) -> Self {
        FlatMemory { base, bytes: vec![0; size] }
    }
    fn range(&self, addr: u64, len: usize) -> Option<std::ops::Range<usize>> {
        let start = usize::try_from(addr.checked_sub(self.base)?).ok()?;
        let end = start.checked_add(len)?;
        (end <= self.bytes.len()).then_some(start..end)
    }
}

impl GuestMemory for FlatMemory {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), BusError> {
        let r = self.range(addr, buf.len()).ok_or(BusError { addr })?;
        buf.copy_from_slice(&self.bytes[r]);
        Ok(())
    }
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), BusError> {
        let r = self.range(addr, data.len()).ok_or(BusError { addr })?;
        self.bytes[r].copy_from_slice(data);
        Ok(())
    }
}
