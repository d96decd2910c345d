//! Address newtypes and half-open ranges.
//!
//! Guest-virtual and guest-physical addresses are different types so that a page walk result can
//! never be used where a virtual address is expected, and vice versa.

use std::fmt;

/// A guest-virtual address, as the guest's CPU sees it before translation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct GuestAddr(pub u64);

/// A guest-physical address, after the guest MMU (if any) translated it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PhysAddr(pub u64);

impl fmt::Debug for GuestAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GuestAddr({:#x})", self.0)
    }
}
impl fmt::Debug for PhysAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhysAddr({:#x})", self.0)
    }
}
impl fmt::Display for PhysAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// A half-open range `[start, end)` of physical addresses.
///
/// Half-open so that adjacent regions never overlap by one byte and an empty range is expressible.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrRange {
    pub start: u64,
    pub end: u64,
}

impl AddrRange {
    /// `[base, base + size)`. Panics in debug builds if it would wrap; board tables are constants.
    pub const fn new(base: u64, size: u64) -> Self {
        AddrRange { start: base, end: base + size }
    }
    pub const fn size(&self) -> u64 {
        self.end - self.start
    }
    pub const fn contains(&self, addr: u64) -> bool {
        addr >= self.start && addr < self.end
    }
    /// Whether `[addr, addr + len)` lies entirely inside this range (false when it would wrap).
    pub const fn contains_span(&self, addr: u64, len: u64) -> bool {
        match addr.checked_add(len) {
            Some(end) => addr >= self.start && end <= self.end,
            None => false,
        }
    }
    pub const fn overlaps(&self, other: &AddrRange) -> bool {
        self.start < other.end && other.start < self.end
    }
}

impl fmt::Debug for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:#x}, {:#x})", self.start, self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_end_is_exclusive() {
        let r = AddrRange::new(0x1000, 0x100);
        assert!(r.contains(0x10ff));
        assert!(!r.contains(0x1100));
    }

    #[test]
    fn span_that_wraps_is_not_contained() {
        let r = AddrRange::new(0, u64::MAX);
        assert!(!r.contains_span(u64::MAX - 1, 4));
    }

    #[test]
    fn adjacent_ranges_do_not_overlap() {
        assert!(!AddrRange::new(0, 0x10).overlaps(&AddrRange::new(0x10, 0x10)));
    }
}
