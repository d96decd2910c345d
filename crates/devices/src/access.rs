//! Small helpers shared by the device models: driving an output line only on a change of level,
//! and 32-bit halves of 64-bit registers.

use mimic_core::{IrqLine, Size};

/// An interrupt output and the level last driven on it. Devices call [`DrivenLine::set`] after
/// every access; the line itself sees only changes.
#[derive(Debug)]
pub(crate) struct DrivenLine<I> {
    line: I,
    level: bool,
}

impl<I: IrqLine> DrivenLine<I> {
    /// A line assumed low (wires are low until a device drives them).
    pub(crate) fn new(line: I) -> Self {
        DrivenLine { line, level: false }
    }
    pub(crate) fn set(&mut self, high: bool) {
        if high != self.level {
            self.level = high;
            self.line.set_level(high);
        }
    }
    /// Drive the line even if it is believed to be at `high` already (after a state restore).
    pub(crate) fn force(&mut self, high: bool) {
        self.level = high;
        self.line.set_level(high);
    }
    pub(crate) fn level(&self) -> bool {
        self.level
    }
}

/// The part of a 64-bit little-endian register that an access at byte `sub` (0..8) of it with
/// width `size` reads: the whole register, or one aligned 32-bit half. `None` for any other shape.
pub(crate) fn read_part(reg: u64, sub: u64, size: Size) -> Option<u64> {
    match (size, sub) {
        (Size::B8, 0) => Some(reg),
        (Size::B4, 0) => Some(reg & 0xffff_ffff),
        (Size::B4, 4) => Some(reg >> 32),
        _ => None,
    }
}

/// The register after a write of `value` at byte `sub` with width `size` (see [`read_part`]).
pub(crate) fn write_part(reg: u64, sub: u64, size: Size, value: u64) -> Option<u64> {
    match (size, sub) {
        (Size::B8, 0) => Some(value),
        (Size::B4, 0) => Some((reg & !0xffff_ffff) | (value & 0xffff_ffff)),
        (Size::B4, 4) => Some((reg & 0xffff_ffff) | (value << 32)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_part_high_half_keeps_low_half() {
        assert_eq!(write_part(0x1111_2222_3333_4444, 4, Size::B4, 0xaaaa_bbbb), Some(0xaaaa_bbbb_3333_4444));
    }

    #[test]
    fn read_part_unaligned_half_is_none() {
        assert_eq!(read_part(u64::MAX, 2, Size::B4), None);
    }
}
