//! The contract between an AArch64 CPU and a GICv3 CPU interface.
//!
//! A GICv3's CPU interface is reached through system registers (`ICC_*_EL1`), not MMIO, so the
//! CPU model must call into the interrupt controller while the two live in crates that may not
//! know each other (`arch-aarch64` never imports `devices`). This is the whole of what they
//! share: which register ([`IccReg`], decoded from an MRS/MSR encoding) and the two calls
//! ([`GicCpuInterface`]). The board hands each CPU a [`SharedGicCpuInterface`] and its index.
//!
//! ```text
//!   MRS/MSR ICC_* ── IccReg::from_encoding ──▶ icc_read/icc_write(cpu, reg) ──▶ the GIC
//!   the GIC ── IRQ/FIQ output lines (IrqLine) ──▶ the CPU's interrupt inputs
//! ```
//!
//! Lock rule: the CPU holds no lock of its own while it calls in, and the GIC drives the CPU
//! only through lock-free lines, so neither waits for the other.

use std::sync::{Arc, Mutex};

/// The CPU interface system registers (AArch64 names, EL1 unless noted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IccReg {
    Pmr,
    Iar0,
    Eoir0,
    Hppir0,
    Bpr0,
    /// `ICC_AP0R<n>_EL1` (n 0..4).
    Ap0r(u8),
    /// `ICC_AP1R<n>_EL1` (n 0..4).
    Ap1r(u8),
    Dir,
    Rpr,
    Sgi1r,
    Asgi1r,
    Sgi0r,
    Iar1,
    Eoir1,
    Hppir1,
    Bpr1,
    Ctlr,
    Sre,
    Igrpen0,
    Igrpen1,
    /// ICC_SRE_EL2 (firmware and hypervisors write it to open ICC_SRE_EL1).
    SreEl2,
}

impl IccReg {
    /// The register an MRS/MSR encoding names (op0 op1 CRn CRm op2), if it is a GIC one.
    pub fn from_encoding(op0: u8, op1: u8, crn: u8, crm: u8, op2: u8) -> Option<IccReg> {
        use IccReg::*;
        Some(match (op0, op1, crn, crm, op2) {
            (3, 0, 4, 6, 0) => Pmr,
            (3, 0, 12, 8, 0) => Iar0,
            (3, 0, 12, 8, 1) => Eoir0,
            (3, 0, 12, 8, 2) => Hppir0,
            (3, 0, 12, 8, 3) => Bpr0,
            (3, 0, 12, 8, n @ 4..=7) => Ap0r(n - 4),
            (3, 0, 12, 9, n @ 0..=3) => Ap1r(n),
            (3, 0, 12, 11, 1) => Dir,
            (3, 0, 12, 11, 3) => Rpr,
            (3, 0, 12, 11, 5) => Sgi1r,
            (3, 0, 12, 11, 6) => Asgi1r,
            (3, 0, 12, 11, 7) => Sgi0r,
            (3, 0, 12, 12, 0) => Iar1,
            (3, 0, 12, 12, 1) => Eoir1,
            (3, 0, 12, 12, 2) => Hppir1,
            (3, 0, 12, 12, 3) => Bpr1,
            (3, 0, 12, 12, 4) => Ctlr,
            (3, 0, 12, 12, 5) => Sre,
            (3, 0, 12, 12, 6) => Igrpen0,
            (3, 0, 12, 12, 7) => Igrpen1,
            (3, 4, 12, 9, 5) => SreEl2,
            _ => return None,
        })
    }

    /// Whether software may read it (the acknowledge, highest-pending and running-priority
    /// registers are read-only, the EOI, deactivate and SGI-generation ones write-only).
    pub fn readable(self) -> bool {
        !matches!(self, IccReg::Eoir0 | IccReg::Eoir1 | IccReg::Dir | IccReg::Sgi0r | IccReg::Sgi1r | IccReg::Asgi1r)
    }

    /// Whether software may write it.
    pub fn writable(self) -> bool {
        !matches!(self, IccReg::Iar0 | IccReg::Iar1 | IccReg::Hppir0 | IccReg::Hppir1 | IccReg::Rpr)
    }
}

/// What the CPU's system-register code calls for ICC_* accesses, with the index of the
/// executing CPU as the board numbered it.
pub trait GicCpuInterface: Send {
    fn icc_read(&mut self, cpu: usize, reg: IccReg) -> u64;
    fn icc_write(&mut self, cpu: usize, reg: IccReg, value: u64);
}

/// A CPU interface shared by every CPU of a board.
pub type SharedGicCpuInterface = Arc<Mutex<dyn GicCpuInterface>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_decode_to_their_registers() {
        assert_eq!(IccReg::from_encoding(3, 0, 12, 12, 0), Some(IccReg::Iar1));
        assert_eq!(IccReg::from_encoding(3, 0, 4, 6, 0), Some(IccReg::Pmr));
        assert_eq!(IccReg::from_encoding(3, 0, 12, 9, 3), Some(IccReg::Ap1r(3)));
        assert_eq!(IccReg::from_encoding(3, 0, 12, 8, 7), Some(IccReg::Ap0r(3)));
        assert_eq!(IccReg::from_encoding(3, 0, 12, 0, 0), None, "VBAR_EL1 is not a GIC register");
    }

    #[test]
    fn direction_follows_the_architecture() {
        assert!(IccReg::Iar1.readable() && !IccReg::Iar1.writable());
        assert!(!IccReg::Eoir1.readable() && IccReg::Eoir1.writable());
        assert!(IccReg::Pmr.readable() && IccReg::Pmr.writable());
    }
}
