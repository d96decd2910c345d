//! Interrupt lines: how a device tells the world that its output level changed.
//!
//! Devices hold an `IrqLine` and never know what is on the other end: an interrupt controller's
//! input, a bit in a CPU's pending register, or a test's recorder.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A level-triggered interrupt line.
pub trait IrqLine: Send {
    fn set_level(&self, high: bool);
}

/// A line that goes nowhere.
#[derive(Default, Debug, Clone, Copy)]
pub struct NullIrq;
impl IrqLine for NullIrq {
    fn set_level(&self, _high: bool) {}
}

/// A word of interrupt-pending bits shared between devices and a CPU (for example RISC-V's
/// hardware-driven `mip` bits). Atomic so that a later multi-threaded CPU loop needs no change.
#[derive(Default, Debug, Clone)]
pub struct SharedBits(Arc<AtomicU64>);

impl SharedBits {
    pub fn new() -> Self {
        Self::default()
    }
    #[inline]
    pub fn load(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
    pub fn set(&self, mask: u64, high: bool) {
        if high {
            self.0.fetch_or(mask, Ordering::AcqRel);
        } else {
            self.0.fetch_and(!mask, Ordering::AcqRel);
        }
    }
    /// A line driving the bits in `mask`.
    pub fn line(&self, mask: u64) -> BitIrq {
        BitIrq { bits: self.clone(), mask }
    }
}

/// An [`IrqLine`] that drives some bits of a [`SharedBits`].
#[derive(Debug, Clone)]
pub struct BitIrq {
    bits: SharedBits,
    mask: u64,
}

impl IrqLine for BitIrq {
    fn set_level(&self, high: bool) {
        self.bits.set(self.mask, high);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_line_sets_and_clears_only_its_mask() {
        let bits = SharedBits::new();
        let a = bits.line(1 << 3);
        let b = bits.line(1 << 5);
        a.set_level(true);
        b.set_level(true);
        a.set_level(false);
        assert_eq!(bits.load(), 1 << 5);
    }
}
