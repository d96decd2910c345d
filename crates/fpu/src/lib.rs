//! Guest floating point for the emulator: bit-exact IEEE-754 binary32/binary64 arithmetic with the
//! RISC-V F and D extensions' rounding modes, exception flags and NaN rules.
//!
//! Everything here takes and returns raw bit patterns (`u32` for binary32, `u64` for binary64),
//! never host `f32`/`f64`. Host floating point cannot be used for guest instructions: it only
//! rounds to nearest-even, does not report `fflags`, and both the host compiler and the host CPU
//! are free to change NaN payloads. Results here come from Berkeley SoftFloat 3e built with its
//! RISC-V specialization, so they match the RISC-V specification bit for bit, including the sticky
//! flags the guest observes through `fflags`.
//!
//! The caller owns the architectural glue: resolving the dynamic rounding mode (frm = 7) from the
//! `frm` CSR, NaN-boxing narrower values in the 64-bit register file, OR-ing the returned [`Flags`]
//! into `fflags`, and sign-extending 32-bit integer results.
//!
//! Every operation returns `(result, Flags)` where the flags are exactly those this single
//! operation raised. Both execution tiers (the `Direct` interpreter and JIT helpers) call the same
//! functions.
//!
//! # Other architectures
//! NaN handling is a property of the SoftFloat build (the `riscv` specialization: every NaN result
//! is the canonical NaN). AArch64 needs something different: with `FPCR.DN = 0` it propagates the
//! first signalling/quiet NaN operand (quietened), with `FPCR.DN = 1` it returns its default NaN
//! (`0x7fc00000`, same as RISC-V). The SoftFloat specialization is a compile-time, crate-wide
//! feature of `softfloat-sys` and its features are mutually exclusive, so a second specialization
//! cannot be linked alongside this one (and no other crate in the workspace may enable another
//! `softfloat-sys` feature: Cargo would unify them and the build would fail). The plan for AArch64
//! is to keep this build and add a NaN-propagation layer on top, in a sibling module of `arith`
//! (see the notes in `arith.rs` and `cmp.rs`): compute here, and when the result is NaN and
//! `DN = 0`, pick the operand NaN by the Arm rules in Rust. Flush-to-zero (`FPCR.FZ`) would go
//! in the same layer. Arm detects tininess *before* rounding; unlike the NaN rules that is a
//! run-time SoftFloat setting (`softfloat_detectTininess`), so it would become a parameter of the
//! per-operation state setup in `env.rs`.

#![deny(unsafe_op_in_unsafe_fn)]

mod arith;
pub mod arm;
mod cmp;
mod convert;
mod env;

pub use arith::*;
pub use cmp::*;
pub use convert::*;

use core::fmt;
use core::ops::{BitOr, BitOrAssign};

/// Rounding mode, numbered as the RISC-V `rm` instruction field and `frm` CSR encode it.
///
/// The numbering also equals SoftFloat's `softfloat_round_*` constants, which is relied on (and
/// tested) when the mode is handed to the C library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Rm {
    /// Round to nearest, ties to even.
    Rne = 0,
    /// Round towards zero.
    Rtz = 1,
    /// Round down (towards −∞).
    Rdn = 2,
    /// Round up (towards +∞).
    Rup = 3,
    /// Round to nearest, ties to max magnitude.
    Rmm = 4,
}

impl Rm {
    /// All five static rounding modes, in encoding order.
    pub const ALL: [Rm; 5] = [Rm::Rne, Rm::Rtz, Rm::Rdn, Rm::Rup, Rm::Rmm];

    /// Decodes a 3-bit `rm`/`frm` value. 5 and 6 are reserved and 7 (dynamic) must be resolved by
    /// the caller from `frm`, so all three give `None` (an illegal-instruction condition).
    pub fn from_bits(b: u64) -> Option<Rm> {
        match b {
            0 => Some(Rm::Rne),
            1 => Some(Rm::Rtz),
            2 => Some(Rm::Rdn),
            3 => Some(Rm::Rup),
            4 => Some(Rm::Rmm),
            _ => None,
        }
    }
}

/// IEEE exception flags in the RISC-V `fflags` layout (which is also SoftFloat's layout).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// Inexact.
    pub const NX: Flags = Flags(1);
    /// Underflow (tiny after rounding, and inexact).
    pub const UF: Flags = Flags(2);
    /// Overflow.
    pub const OF: Flags = Flags(4);
    /// Divide by zero.
    pub const DZ: Flags = Flags(8);
    /// Invalid operation.
    pub const NV: Flags = Flags(16);
    /// No flag raised.
    pub const NONE: Flags = Flags(0);

    /// No flag raised.
    pub const fn empty() -> Flags {
        Flags(0)
    }
    /// The five-bit `fflags` value.
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// True if no flag is raised.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// True if every flag in `other` is raised in `self`.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(u8, &str); 5] = [(16, "NV"), (8, "DZ"), (4, "OF"), (2, "UF"), (1, "NX")];
        if self.0 == 0 {
            return f.write_str("Flags(-)");
        }
        f.write_str("Flags(")?;
        let mut first = true;
        for (bit, name) in NAMES {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        let rest = self.0 & !0x1f;
        if rest != 0 {
            write!(f, "|{rest:#x}")?;
        }
        f.write_str(")")
    }
}

/// The RISC-V canonical binary32 NaN: every NaN an F instruction produces.
pub const F32_CANONICAL_NAN: u32 = 0x7fc0_0000;
/// The RISC-V canonical binary64 NaN: every NaN a D instruction produces.
pub const F64_CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

pub(crate) const F32_SIGN: u32 = 0x8000_0000;
pub(crate) const F64_SIGN: u64 = 0x8000_0000_0000_0000;

/// True if `a` is any binary32 NaN.
pub const fn f32_is_nan(a: u32) -> bool {
    a & 0x7fff_ffff > 0x7f80_0000
}
/// True if `a` is a binary32 signalling NaN (quiet bit clear).
pub const fn f32_is_snan(a: u32) -> bool {
    f32_is_nan(a) && a & 0x0040_0000 == 0
}
/// True if `a` is any binary64 NaN.
pub const fn f64_is_nan(a: u64) -> bool {
    a & 0x7fff_ffff_ffff_ffff > 0x7ff0_0000_0000_0000
}
/// True if `a` is a binary64 signalling NaN (quiet bit clear).
pub const fn f64_is_snan(a: u64) -> bool {
    f64_is_nan(a) && a & 0x0008_0000_0000_0000 == 0
}
