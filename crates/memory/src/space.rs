//! The address-space table and byte-level access to RAM and ROM.

use crate::ram::{LentRam, Ram, RAM_ALIGN};
use crate::{MmioDevice, RomDevice};
use mimic_core::{AddrRange, Size};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const PAGE_SHIFT: u32 = 12;
pub const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;

/// Building the address space went wrong (a board bug or a bad user-supplied size).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("region {name} at {range:?} overlaps region {other}")]
    Overlap { name: String, range: AddrRange, other: String },
    #[error("region {name} is empty or not page aligned: {range:?}")]
    BadRange { name: String, range: AddrRange },
    #[error("cannot allocate {size} bytes of guest memory")]
    TooLarge { size: u64 },
    #[error("{len} bytes at {addr:#x} do not fit in RAM or ROM")]
    NotRam { addr: u64, len: u64 },
}

/// A guest access that no RAM, ROM or device answers (the CPU turns it into an access fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusError {
    pub addr: u64,
}

pub enum RegionKind {
    /// Writable memory at `offset` in the backing store.
    Ram {
        offset: usize,
    },
    /// Read-only memory at `offset` in the backing store; writes are ignored.
    Rom {
        offset: usize,
    },
    Mmio(Box<dyn MmioDevice>),
    /// A ROM device whose array is at `offset` in the backing store: fetched from directly, read
    /// and written through the device.
    RomDevice {
        offset: usize,
        dev: Box<dyn RomDevice>,
    },
}

pub struct Region {
    pub name: String,
    pub range: AddrRange,
    pub kind: RegionKind,
}

/// Where a RAM/ROM address lives in the backing store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RamLookup {
    /// Offset of the address itself in the backing store.
    pub offset: usize,
    pub writable: bool,
    /// Bytes from the address to the end of its region.
    pub remaining: u64,
    /// Data accesses may use the backing store directly (RAM, ROM); false for a ROM device's
    /// array, which only instruction fetches, loaders and debuggers read there.
    pub direct: bool,
}

#[derive(Default)]
pub struct AddressSpace {
    store: Ram,
    /// Sorted by start address; never overlapping.
    regions: Vec<Region>,
    /// One bit per backing-store page: set while translated code exists for that page, so a write
    /// to it must invalidate translations (self-modifying code).
    code_pages: Vec<u64>,
    /// Code pages written by devices, for the CPUs to invalidate.
    dma_dirty_code: Vec<usize>,
    /// Pages that became code pages, when the board asks to hear of them (several CPUs: each
    /// must make its stores to such a page take the slow path).
    new_code_pages: Option<Vec<usize>>,
    /// The index of the region [`AddressSpace::find_index`] found last: page-table walks and
    /// TLB fills look up one region (RAM) over and over. In EDK2's boot to its shell, `peek`
    /// (the walker's reads) took 8.8 % of the samples, mostly in the binary search; 3.6 %
    /// with this. Only a hint: it is checked against the address, so a region list changed
    /// since costs one search.
    last: AtomicUsize,
}

impl AddressSpace {
    pub fn new() -> Self {
        Self::default()
    }

    fn insert(&mut self, region: Region) -> Result<(), Error> {
        if region.range.size() == 0 || region.range.end < region.range.start {
            return Err(Error::BadRange { name: region.name, range: region.range });
        }
        if let Some(o) = self.regions.iter().find(|r| r.range.overlaps(&region.range)) {
            return Err(Error::Overlap { name: region.name, range: region.range, other: o.name.clone() });
        }
        let pos = self.regions.partition_point(|r| r.range.start < region.range.start);
        self.regions.insert(pos, region);
        Ok(())
    }

    fn grow_store(&mut self, name: &str, range: AddrRange) -> Result<usize, Error> {
        if !range.start.is_multiple_of(PAGE_SIZE) || !range.size().is_multiple_of(PAGE_SIZE) {
            return Err(Error::BadRange { name: name.into(), range });
        }
        let offset = self.store.len();
        let size = usize::try_from(range.size()).map_err(|_| Error::TooLarge { size: range.size() })?;
        let new_len = offset.checked_add(size).ok_or(Error::TooLarge { size: range.size() })?;
        // Probe that the address space can hold it (nothing is touched), then take zeroed memory
        // from the allocator: pages the guest never touches are never made resident.
        let too_large = || Error::TooLarge { size: range.size() };
        Vec::<u8>::new()
            .try_reserve_exact(new_len.checked_add(RAM_ALIGN).ok_or_else(too_large)?)
            .map_err(|_| too_large())?;
        let mut store = Ram::new(new_len);
        // Copy only pages holding something: the untouched rest of the old store (a large flash
        // or RAM region added earlier) stays unbacked in the new one.
        // Compared whole (memcmp): a byte-wise scan took a fifth of a second for the 128 MiB of
        // an arm64 board's flash, before the guest's first instruction.
        static ZERO_PAGE: [u8; PAGE_SIZE as usize] = [0; PAGE_SIZE as usize];
        for (dst, src) in store[..offset].chunks_mut(PAGE_SIZE as usize).zip(self.store.chunks(PAGE_SIZE as usize)) {
            if src != &ZERO_PAGE[..src.len()] {
                dst.copy_from_slice(src);
            }
        }
        self.store = store;
        self.code_pages.resize(new_len.div_ceil(PAGE_SIZE as usize * 64), 0);
        Ok(offset)
    }

    pub fn add_ram(&mut self, name: &str, range: AddrRange) -> Result<(), Error> {
        let offset = self.grow_store(name, range)?;
        self.insert(Region { name: name.into(), range, kind: RegionKind::Ram { offset } })
    }

    /// ROM contents are written with [`AddressSpace::write_bytes`], which may write ROM.
    pub fn add_rom(&mut self, name: &str, range: AddrRange) -> Result<(), Error> {
        let offset = self.grow_store(name, range)?;
        self.insert(Region { name: name.into(), range, kind: RegionKind::Rom { offset } })
    }

    /// A ROM device (flash) whose array is `range.size()` bytes of backing store; fill it with
    /// [`AddressSpace::write_bytes`].
    pub fn add_rom_device(&mut self, name: &str, range: AddrRange, dev: Box<dyn RomDevice>) -> Result<(), Error> {
        let offset = self.grow_store(name, range)?;
        self.insert(Region { name: name.into(), range, kind: RegionKind::RomDevice { offset, dev } })
    }

    pub fn add_mmio(&mut self, name: &str, range: AddrRange, dev: Box<dyn MmioDevice>) -> Result<(), Error> {
        self.insert(Region { name: name.into(), range, kind: RegionKind::Mmio(dev) })
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    #[inline]
    fn find_index(&self, addr: u64) -> Option<usize> {
        let last = self.last.load(Ordering::Relaxed);
        if self.regions.get(last).is_some_and(|r| r.range.contains(addr)) {
            return Some(last);
        }
        let i = self.regions.partition_point(|r| r.range.start <= addr);
        if i == 0 {
            return None;
        }
        let found = self.regions[i - 1].range.contains(addr).then_some(i - 1);
        if let Some(k) = found {
            self.last.store(k, Ordering::Relaxed);
        }
        found
    }

    /// The backing-store location of a RAM or ROM address: where data accesses may go directly.
    pub fn lookup_ram(&self, addr: u64) -> Option<RamLookup> {
        self.lookup_backing(addr).filter(|l| l.direct)
    }

    /// The backing-store location of a RAM, ROM or ROM-device address: where instructions are
    /// fetched from, loaders write and debuggers read.
    pub fn lookup_backing(&self, addr: u64) -> Option<RamLookup> {
        let r = &self.regions[self.find_index(addr)?];
        let (base, writable, direct) = match r.kind {
            RegionKind::Ram { offset } => (offset, true, true),
            RegionKind::Rom { offset } => (offset, false, true),
            RegionKind::RomDevice { offset, .. } => (offset, false, false),
            RegionKind::Mmio(_) => return None,
        };
        let delta = (addr - r.range.start) as usize;
        Some(RamLookup { offset: base + delta, writable, remaining: r.range.end - addr, direct })
    }

    /// The whole backing store (RAM and ROM bytes).
    #[inline]
    pub fn store(&self) -> &[u8] {
        &self.store[..]
    }
    #[inline]
    pub fn store_mut(&mut self) -> &mut [u8] {
        &mut self.store[..]
    }

    /// Read `size` bytes (little-endian) at a physical address: RAM, ROM or a device.
    pub fn read(&mut self, addr: u64, size: Size) -> Result<u64, BusError> {
        let i = self.find_index(addr).ok_or(BusError { addr })?;
        let r = &mut self.regions[i];
        if !r.range.contains_span(addr, size.bytes()) {
            return Err(BusError { addr });
        }
        let delta = addr - r.range.start;
        match &mut r.kind {
            RegionKind::Ram { offset } | RegionKind::Rom { offset } => {
                let at = *offset + delta as usize;
                Ok(read_le(&self.store[at..at + size.bytes() as usize]))
            }
            RegionKind::Mmio(dev) => Ok(dev.read(delta, size)),
            RegionKind::RomDevice { offset, dev } => {
                let array = &self.store[*offset..*offset + r.range.size() as usize];
                Ok(dev.read(delta, size, array))
            }
        }
    }

    /// Read `size` bytes (little-endian) without side effects, as a page-table walk does: RAM,
    /// ROM, or a ROM device that can answer without changing state ([`RomDevice::peek`]).
    /// `None` for MMIO, unmapped addresses and spans leaving their region.
    pub fn peek(&self, addr: u64, size: Size) -> Option<u64> {
        let r = &self.regions[self.find_index(addr)?];
        if !r.range.contains_span(addr, size.bytes()) {
            return None;
        }
        let delta = addr - r.range.start;
        match &r.kind {
            RegionKind::Ram { offset } | RegionKind::Rom { offset } => {
                let at = *offset + delta as usize;
                Some(read_le(&self.store[at..at + size.bytes() as usize]))
            }
            RegionKind::Mmio(_) => None,
            RegionKind::RomDevice { offset, dev } => {
                dev.peek(delta, size, &self.store[*offset..*offset + r.range.size() as usize])
            }
        }
    }

    /// Write `size` bytes (little-endian). Writes to ROM are ignored, as on real hardware.
    pub fn write(&mut self, addr: u64, size: Size, value: u64) -> Result<(), BusError> {
        let i = self.find_index(addr).ok_or(BusError { addr })?;
        let r = &mut self.regions[i];
        if !r.range.contains_span(addr, size.bytes()) {
            return Err(BusError { addr });
        }
        let delta = addr - r.range.start;
        match &mut r.kind {
            RegionKind::Ram { offset } => {
                let at = *offset + delta as usize;
                write_le(&mut self.store[at..at + size.bytes() as usize], value);
                Ok(())
            }
            RegionKind::Rom { .. } => Ok(()),
            RegionKind::Mmio(dev) => {
                dev.write(delta, size, value);
                if dev.dma_pending() {
                    self.run_device_dma(i);
                }
                Ok(())
            }
            RegionKind::RomDevice { offset, dev } => {
                let base = *offset;
                let array = &mut self.store[base..base + r.range.size() as usize];
                if let Some(changed) = dev.write(delta, size, value, array) {
                    // Programmed or erased: translated code from those bytes is stale.
                    self.note_dma_write(base + changed.start, changed.len());
                }
                Ok(())
            }
        }
    }

    /// Let the MMIO device of region `i` finish the transfer its write started, with the rest
    /// of the address space as its guest memory. The device is lifted out of its region for
    /// the time (a DMA aimed at its own registers then finds no RAM there and fails, as it
    /// should), so it and the memory it writes are never borrowed twice.
    fn run_device_dma(&mut self, i: usize) {
        let RegionKind::Mmio(slot) = &mut self.regions[i].kind else {
            return;
        };
        let mut dev = std::mem::replace(slot, Box::new(Lifted));
        dev.run_dma(self);
        if let RegionKind::Mmio(slot) = &mut self.regions[i].kind {
            *slot = dev;
        }
    }

    /// Copy bytes into RAM, ROM or a ROM device's array (loaders). Fails unless the whole span
    /// is inside one region.
    pub fn write_bytes(&mut self, addr: u64, data: &[u8]) -> Result<(), Error> {
        let len = data.len() as u64;
        let l = self.lookup_backing(addr).filter(|l| l.remaining >= len).ok_or(Error::NotRam { addr, len })?;
        crate::copy_bytes(&mut self.store[l.offset..l.offset + data.len()], data);
        Ok(())
    }

    /// Copy bytes out of RAM, ROM or a ROM device's array (debuggers, tests).
    pub fn read_bytes(&self, addr: u64, out: &mut [u8]) -> Result<(), Error> {
        let len = out.len() as u64;
        let l = self.lookup_backing(addr).filter(|l| l.remaining >= len).ok_or(Error::NotRam { addr, len })?;
        crate::copy_bytes(out, &self.store[l.offset..l.offset + out.len()]);
        Ok(())
    }

    /// Lend the RAM at `spans` (guest-physical address, length), in that order, to a backend
    /// thread that fills it ([`LentRam`]). `None` unless every span is writable RAM inside one
    /// region and no two spans overlap. When the backend is done, [`AddressSpace::note_dma_write`]
    /// the pieces ([`LentRam::pieces`]) before the guest may run code from them.
    pub fn lend_ram(&mut self, spans: &[(u64, u64)]) -> Option<LentRam> {
        let mut pieces = Vec::with_capacity(spans.len());
        for &(addr, len) in spans {
            let l = self.lookup_ram(addr).filter(|l| l.writable && l.remaining >= len)?;
            pieces.push((l.offset, usize::try_from(len).ok()?));
        }
        self.store.lend(&pieces)
    }

    /// A device wrote guest RAM: remember which pages held decoded code, so the CPUs drop those
    /// blocks before running them again.
    pub fn note_dma_write(&mut self, offset: usize, len: usize) {
        let first = offset >> PAGE_SHIFT;
        let last = (offset + len.max(1) - 1) >> PAGE_SHIFT;
        for page in first..=last {
            let at = page << PAGE_SHIFT;
            if self.is_code_page(at) {
                self.clear_code_page(at);
                self.dma_dirty_code.push(page);
            }
        }
    }

    /// A CPU wrote to the code page `page` (and dropped its own blocks from it): the other CPUs
    /// must drop theirs too before they run again.
    pub fn note_code_write(&mut self, page: usize) {
        self.dma_dirty_code.push(page);
    }

    /// Whether `take_dma_dirty_code` has pages to give.
    pub fn has_dirty_code(&self) -> bool {
        !self.dma_dirty_code.is_empty()
    }

    /// Pages of decoded code that devices or CPUs overwrote since the last call.
    pub fn take_dma_dirty_code(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.dma_dirty_code)
    }

    /// Mark the backing-store page holding `offset` as containing translated code.
    pub fn set_code_page(&mut self, offset: usize) {
        let page = offset >> PAGE_SHIFT;
        if let Some(w) = self.code_pages.get_mut(page / 64) {
            *w |= 1 << (page % 64);
            if let Some(new) = &mut self.new_code_pages {
                new.push(page);
            }
        }
    }

    /// Start recording pages that become code pages, for [`AddressSpace::take_new_code_pages`].
    pub fn track_new_code_pages(&mut self) {
        self.new_code_pages.get_or_insert_with(Vec::new);
    }

    /// Pages that became code pages since the last call (empty unless tracking).
    pub fn take_new_code_pages(&mut self) -> Vec<usize> {
        self.new_code_pages.as_mut().map(std::mem::take).unwrap_or_default()
    }
    pub fn clear_code_page(&mut self, offset: usize) {
        let page = offset >> PAGE_SHIFT;
        if let Some(w) = self.code_pages.get_mut(page / 64) {
            *w &= !(1 << (page % 64));
        }
    }
    #[inline]
    pub fn is_code_page(&self, offset: usize) -> bool {
        let page = offset >> PAGE_SHIFT;
        self.code_pages.get(page / 64).is_some_and(|w| w & (1 << (page % 64)) != 0)
    }
}

/// What stands in a region while its device runs a DMA ([`AddressSpace::run_device_dma`]).
struct Lifted;

impl MmioDevice for Lifted {
    fn read(&mut self, _offset: u64, _size: Size) -> u64 {
        0
    }
    fn write(&mut self, _offset: u64, _size: Size, _value: u64) {}
}

#[inline(always)]
pub fn read_le(b: &[u8]) -> u64 {
    match b.len() {
        1 => b[0] as u64,
        2 => u16::from_le_bytes([b[0], b[1]]) as u64,
        4 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64,
        // One bounds check, so the eight bytes are one load (indexing each byte made the
        // compiler keep the byte loads apart, each able to panic on its own).
        _ => u64::from_le_bytes(b[..8].try_into().expect("eight bytes")),
    }
}

#[inline(always)]
pub fn write_le(b: &mut [u8], v: u64) {
    match b.len() {
        1 => b[0] = v as u8,
        2 => b.copy_from_slice(&(v as u16).to_le_bytes()),
        4 => b.copy_from_slice(&(v as u32).to_le_bytes()),
        _ => b.copy_from_slice(&v.to_le_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo(u64);
    impl MmioDevice for Echo {
        fn read(&mut self, offset: u64, _size: Size) -> u64 {
            self.0 + offset
        }
        fn write(&mut self, _offset: u64, _size: Size, value: u64) {
            self.0 = value;
        }
    }

    /// Reads the array doubled; a write stores its low byte at the offset (a one-byte "program").
    struct Doubler;
    impl RomDevice for Doubler {
        fn read(&mut self, offset: u64, _size: Size, array: &[u8]) -> u64 {
            u64::from(array[offset as usize]) * 2
        }
        fn write(&mut self, offset: u64, _size: Size, value: u64, array: &mut [u8]) -> Option<std::ops::Range<usize>> {
            array[offset as usize] = value as u8;
            Some(offset as usize..offset as usize + 1)
        }
        fn peek(&self, offset: u64, _size: Size, array: &[u8]) -> Option<u64> {
            Some(u64::from(array[offset as usize]) * 2)
        }
    }

    /// A write of an address asks for a DMA that copies the device's tag byte there.
    struct Copier {
        to: Option<u64>,
        result: Option<bool>,
    }
    impl MmioDevice for Copier {
        fn read(&mut self, _offset: u64, _size: Size) -> u64 {
            0
        }
        fn write(&mut self, _offset: u64, _size: Size, value: u64) {
            self.to = Some(value);
        }
        fn dma_pending(&self) -> bool {
            self.to.is_some()
        }
        fn run_dma(&mut self, mem: &mut dyn crate::GuestMemory) {
            let to = self.to.take().unwrap();
            self.result = Some(mem.write(to, &[0x5a]).is_ok());
        }
    }

    #[test]
    fn a_device_dma_is_done_when_the_store_that_starts_it_returns() {
        let dev = std::sync::Arc::new(std::sync::Mutex::new(Copier { to: None, result: None }));
        let mut s = AddressSpace::new();
        s.add_mmio("copier", AddrRange::new(0x1000, 0x100), Box::new(dev.clone())).unwrap();
        s.add_ram("ram", AddrRange::new(0x8000_0000, 0x10000)).unwrap();
        s.write(0x1000, Size::B8, 0x8000_0010).unwrap();
        assert_eq!(s.read(0x8000_0010, Size::B1).unwrap(), 0x5a);
        assert_eq!(dev.lock().unwrap().result, Some(true));
        // Aimed at its own registers, the DMA finds no RAM there; the device is back in place.
        s.write(0x1000, Size::B8, 0x1008).unwrap();
        assert_eq!(dev.lock().unwrap().result, Some(false));
        s.write(0x1000, Size::B8, 0x8000_0020).unwrap();
        assert_eq!(s.read(0x8000_0020, Size::B1).unwrap(), 0x5a);
    }

    fn space_with_rom_device() -> AddressSpace {
        let mut s = AddressSpace::new();
        s.add_rom_device("flash", AddrRange::new(0, 0x2000), Box::new(Doubler)).unwrap();
        s.add_ram("ram", AddrRange::new(0x8000_0000, 0x10000)).unwrap();
        s
    }

    #[test]
    fn rom_device_is_fetchable_but_not_direct_for_data() {
        let s = space_with_rom_device();
        assert_eq!(s.lookup_ram(0x10), None);
        let l = s.lookup_backing(0x10).unwrap();
        assert!(!l.direct && !l.writable);
        assert_eq!(l.remaining, 0x2000 - 0x10);
        assert!(s.lookup_ram(0x8000_0000).unwrap().direct);
    }

    #[test]
    fn rom_device_data_accesses_go_through_the_device() {
        let mut s = space_with_rom_device();
        s.write_bytes(0x1001, &[21]).unwrap();
        assert_eq!(s.read(0x1001, Size::B1).unwrap(), 42);
        s.write(0x1002, Size::B1, 7).unwrap();
        let mut b = [0u8; 2];
        s.read_bytes(0x1001, &mut b).unwrap();
        assert_eq!(b, [21, 7]);
    }

    #[test]
    fn peek_reads_ram_and_asks_a_rom_device_but_never_mmio() {
        let mut s = space_with_rom_device();
        s.add_mmio("regs", AddrRange::new(0x1000_0000, 0x1000), Box::new(Echo(5))).unwrap();
        s.write_bytes(0x8000_0008, &[9]).unwrap();
        s.write_bytes(0x1001, &[21]).unwrap();
        assert_eq!(s.peek(0x8000_0008, Size::B1), Some(9));
        assert_eq!(s.peek(0x1001, Size::B1), Some(42));
        assert_eq!(s.peek(0x1000_0000, Size::B8), None);
        assert_eq!(s.peek(0x8000_fffc, Size::B8), None, "a span leaving its region");
        assert_eq!(s.peek(0x4000_0000, Size::B8), None, "nothing mapped");
    }

    #[test]
    fn rom_device_write_invalidates_code_in_the_changed_page() {
        let mut s = space_with_rom_device();
        let page = s.lookup_backing(0x1000).unwrap().offset;
        s.set_code_page(page);
        s.write(0x1004, Size::B1, 1).unwrap();
        assert!(!s.is_code_page(page));
        assert_eq!(s.take_dma_dirty_code(), vec![page >> PAGE_SHIFT]);
    }

    #[test]
    fn growing_the_store_keeps_earlier_contents() {
        let mut s = AddressSpace::new();
        s.add_rom("rom", AddrRange::new(0, 0x3000)).unwrap();
        s.write_bytes(0x1ffe, &[1, 2, 3, 4]).unwrap();
        s.add_ram("ram", AddrRange::new(0x8000_0000, 0x1000)).unwrap();
        let mut b = [0u8; 4];
        s.read_bytes(0x1ffe, &mut b).unwrap();
        assert_eq!(b, [1, 2, 3, 4]);
    }

    #[test]
    fn lookups_stay_right_when_regions_are_added_between_them() {
        let mut s = AddressSpace::new();
        s.add_ram("high", AddrRange::new(0x8000_0000, 0x1000)).unwrap();
        s.write(0x8000_0010, Size::B4, 0x1234_5678).unwrap();
        assert_eq!(s.peek(0x8000_0010, Size::B4), Some(0x1234_5678));
        // The last region found moves to another index.
        s.add_ram("low", AddrRange::new(0x1000, 0x1000)).unwrap();
        s.write(0x1010, Size::B4, 0xaabb).unwrap();
        assert_eq!(s.peek(0x1010, Size::B4), Some(0xaabb));
        assert_eq!(s.peek(0x8000_0010, Size::B4), Some(0x1234_5678));
        assert_eq!(s.peek(0x2010, Size::B4), None, "between the regions");
        assert_eq!(s.peek(0x1010, Size::B4), Some(0xaabb));
    }

    fn space() -> AddressSpace {
        let mut s = AddressSpace::new();
        s.add_rom("rom", AddrRange::new(0x1000, 0x1000)).unwrap();
        s.add_ram("ram", AddrRange::new(0x8000_0000, 0x10000)).unwrap();
        s.add_mmio("dev", AddrRange::new(0x1000_0000, 0x100), Box::new(Echo(0))).unwrap();
        s
    }

    #[test]
    fn new_code_pages_are_reported_only_when_tracked() {
        let mut s = space();
        s.set_code_page(0x1000);
        assert!(s.take_new_code_pages().is_empty());
        s.track_new_code_pages();
        s.set_code_page(0x3000);
        assert_eq!(s.take_new_code_pages(), vec![3]);
        assert!(s.take_new_code_pages().is_empty());
    }

    #[test]
    fn code_written_by_a_cpu_is_dirty_for_the_others() {
        let mut s = space();
        assert!(!s.has_dirty_code());
        s.note_code_write(5);
        assert!(s.has_dirty_code());
        assert_eq!(s.take_dma_dirty_code(), vec![5]);
        assert!(!s.has_dirty_code());
    }

    #[test]
    fn ram_write_then_read_round_trips() {
        let mut s = space();
        s.write(0x8000_0010, Size::B8, 0x1122_3344_5566_7788).unwrap();
        assert_eq!(s.read(0x8000_0012, Size::B2).unwrap(), 0x5566);
    }

    #[test]
    fn rom_ignores_guest_writes_but_loader_can_fill_it() {
        let mut s = space();
        s.write_bytes(0x1000, &[1, 2, 3, 4]).unwrap();
        s.write(0x1000, Size::B4, 0).unwrap();
        assert_eq!(s.read(0x1000, Size::B4).unwrap(), 0x0403_0201);
    }

    #[test]
    fn unmapped_address_is_bus_error() {
        assert_eq!(space().read(0x4000_0000, Size::B4), Err(BusError { addr: 0x4000_0000 }));
    }

    #[test]
    fn access_straddling_region_end_is_bus_error() {
        assert!(space().read(0x8000_fffc, Size::B8).is_err());
    }

    #[test]
    fn mmio_gets_offset_from_region_base() {
        let mut s = space();
        s.write(0x1000_0000, Size::B4, 100).unwrap();
        assert_eq!(s.read(0x1000_0008, Size::B4).unwrap(), 108);
    }

    #[test]
    fn overlapping_regions_are_rejected() {
        let mut s = space();
        assert!(matches!(s.add_ram("x", AddrRange::new(0x8000_f000, 0x2000)), Err(Error::Overlap { .. })));
    }

    #[test]
    fn loader_write_past_ram_end_fails() {
        let mut s = space();
        assert!(s.write_bytes(0x8000_fffe, &[0; 4]).is_err());
    }
}
