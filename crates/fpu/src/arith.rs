//! Arithmetic goes through SoftFloat rather than the host FPU because the guest can observe what
//! the host hides: the rounding mode is a per-instruction operand, every operation's exception
//! flags are visible in `fflags`, and RISC-V replaces every NaN result by the canonical NaN
//! (no payload propagation), which the SoftFloat `riscv` specialization does for us.
//!
//! Fused multiply-add has a single rounding; the four RISC-V forms are expressed by flipping the
//! sign bits of the multiplicand and addend *before* the fused operation. That is exact (negation
//! of an operand never rounds) and gives the sign IEEE-754 prescribes for an exact-zero sum of the
//! negated terms — negating the rounded result afterwards would give the wrong zero sign. Because
//! RISC-V NaN results are canonical, flipping a NaN operand's sign cannot leak out.
//!
//! AArch64 note: an Arm NaN-propagation layer (FPCR.DN = 0) would wrap these functions: on a NaN
//! result pick the first sNaN, else the first qNaN operand (Arm's operand order for FMA is
//! addend first), and quieten it. For the negating FMA forms the Arm pseudocode applies `FPNeg`
//! to the operand before NaN selection, so with FPCR.AH = 0 the propagated NaN carries the flipped
//! sign, i.e. select among the operands *after* the flips done here. Not built yet.

use crate::env::{w32, w64, with_rm};
use crate::{Flags, Rm, F32_SIGN, F64_SIGN};
use softfloat_sys as sf;

macro_rules! binop {
    ($(#[$m:meta])* $name:ident, $sf:ident, $t:ty, $w:ident) => {
        $(#[$m])*
        pub fn $name(a: $t, b: $t, rm: Rm) -> ($t, Flags) {
            with_rm(rm, || {
                // SAFETY: SoftFloat arithmetic takes and returns plain values and touches only
                // this thread's rounding-mode/flag state; every bit pattern is a valid input.
                unsafe { sf::$sf($w(a), $w(b)) }.v
            })
        }
    };
}

binop!(/// binary32 `a + b` (fadd.s).
    f32_add, f32_add, u32, w32);
binop!(/// binary32 `a - b` (fsub.s).
    f32_sub, f32_sub, u32, w32);
binop!(/// binary32 `a * b` (fmul.s).
    f32_mul, f32_mul, u32, w32);
binop!(/// binary32 `a / b` (fdiv.s).
    f32_div, f32_div, u32, w32);
binop!(/// binary64 `a + b` (fadd.d).
    f64_add, f64_add, u64, w64);
binop!(/// binary64 `a - b` (fsub.d).
    f64_sub, f64_sub, u64, w64);
binop!(/// binary64 `a * b` (fmul.d).
    f64_mul, f64_mul, u64, w64);
binop!(/// binary64 `a / b` (fdiv.d).
    f64_div, f64_div, u64, w64);

/// binary32 square root (fsqrt.s).
pub fn f32_sqrt(a: u32, rm: Rm) -> (u32, Flags) {
    // SAFETY: pure SoftFloat call on a plain value; touches only this thread's state.
    with_rm(rm, || unsafe { sf::f32_sqrt(w32(a)) }.v)
}

/// binary64 square root (fsqrt.d).
pub fn f64_sqrt(a: u64, rm: Rm) -> (u64, Flags) {
    // SAFETY: pure SoftFloat call on a plain value; touches only this thread's state.
    with_rm(rm, || unsafe { sf::f64_sqrt(w64(a)) }.v)
}

/// binary32 fused multiply-add, `(±(a·b)) ± c` with one rounding.
///
/// | instruction | `negate_product` | `negate_addend` | computes |
/// |---|---|---|---|
/// | fmadd.s  | false | false | `a·b + c` |
/// | fmsub.s  | false | true  | `a·b − c` |
/// | fnmsub.s | true  | false | `−a·b + c` |
/// | fnmadd.s | true  | true  | `−a·b − c` |
///
/// `∞·0 + c` raises NV even when `c` is a quiet NaN, as RISC-V requires.
pub fn f32_fma(a: u32, b: u32, c: u32, negate_product: bool, negate_addend: bool, rm: Rm) -> (u32, Flags) {
    let a = if negate_product { a ^ F32_SIGN } else { a };
    let c = if negate_addend { c ^ F32_SIGN } else { c };
    // SAFETY: pure SoftFloat call on plain values; touches only this thread's state.
    with_rm(rm, || unsafe { sf::f32_mulAdd(w32(a), w32(b), w32(c)) }.v)
}

/// binary64 fused multiply-add; see [`f32_fma`] for the meaning of the negation flags.
pub fn f64_fma(a: u64, b: u64, c: u64, negate_product: bool, negate_addend: bool, rm: Rm) -> (u64, Flags) {
    let a = if negate_product { a ^ F64_SIGN } else { a };
    let c = if negate_addend { c ^ F64_SIGN } else { c };
    // SAFETY: pure SoftFloat call on plain values; touches only this thread's state.
    with_rm(rm, || unsafe { sf::f64_mulAdd(w64(a), w64(b), w64(c)) }.v)
}
