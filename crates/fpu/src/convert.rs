//! Conversions are where architectures disagree most visibly, so the RISC-V rules are the point of
//! this module: the host's `as` casts saturate differently (NaN → 0) and raise no flags.
//!
//! Float → integer (fcvt.{w,wu,l,lu}.{s,d}) rounds with the given mode and raises NX when the value
//! was not an integer. When the rounded value does not fit, the result saturates and only NV is
//! raised (no NX):
//!
//! | input | signed | unsigned |
//! |---|---|---|
//! | NaN (any) | max positive | max (all ones) |
//! | +∞ or too large | max positive | max |
//! | −∞ or too small | min negative | 0 |
//!
//! A negative input that *rounds* to zero is not out of range for an unsigned target: −0.3 with
//! RTZ gives 0 with NX only, −0.0 gives 0 with no flag. SoftFloat's RISC-V specialization encodes
//! exactly this table (`ui32_fromNaN` etc. in its `specialize.h`); the tests pin each edge.
//!
//! 32-bit results are returned as `i32`/`u32`. RISC-V writes *both* fcvt.w and fcvt.wu results to
//! an XLEN register sign-extended from bit 31 (so fcvt.wu.s of 3e9 yields 0xffff_ffff_b2d0_5e00
//! on RV64); that extension is the caller's job.
//!
//! Integer → float rounds with the given mode (NX when inexact). binary32 → binary64 is exact; a
//! NaN input yields the canonical NaN (RISC-V does not propagate payloads) and NV if it was
//! signalling. binary64 → binary32 rounds and can raise NX/UF/OF, and NV for sNaN.

use crate::env::{w32, w64, with_flags, with_rm};
use crate::{Flags, Rm};
use softfloat_sys as sf;

macro_rules! to_int {
    ($(#[$m:meta])* $name:ident, $sf:ident, $from:ty, $w:ident, $to:ty) => {
        $(#[$m])*
        pub fn $name(a: $from, rm: Rm) -> ($to, Flags) {
            // `exact = true` asks SoftFloat to raise NX for a non-integral input. The C result
            // is an `int_fast*_t`/`uint_fast*_t` holding a value that fits `$to`: the cast is
            // exact.
            with_flags(|| {
                // SAFETY: SoftFloat conversion on a plain value with a valid rounding mode;
                // touches only this thread's flag state.
                unsafe { sf::$sf($w(a), rm as u8, true) as $to }
            })
        }
    };
}

to_int!(/// fcvt.w.s: binary32 → i32 (caller sign-extends to XLEN).
    f32_to_i32, f32_to_i32, u32, w32, i32);
to_int!(/// fcvt.wu.s: binary32 → u32 (caller sign-extends bit 31 to XLEN, as RISC-V specifies).
    f32_to_u32, f32_to_ui32, u32, w32, u32);
to_int!(/// fcvt.l.s: binary32 → i64.
    f32_to_i64, f32_to_i64, u32, w32, i64);
to_int!(/// fcvt.lu.s: binary32 → u64.
    f32_to_u64, f32_to_ui64, u32, w32, u64);
to_int!(/// fcvt.w.d: binary64 → i32 (caller sign-extends to XLEN).
    f64_to_i32, f64_to_i32, u64, w64, i32);
to_int!(/// fcvt.wu.d: binary64 → u32 (caller sign-extends bit 31 to XLEN, as RISC-V specifies).
    f64_to_u32, f64_to_ui32, u64, w64, u32);
to_int!(/// fcvt.l.d: binary64 → i64.
    f64_to_i64, f64_to_i64, u64, w64, i64);
to_int!(/// fcvt.lu.d: binary64 → u64.
    f64_to_u64, f64_to_ui64, u64, w64, u64);

macro_rules! from_int {
    ($(#[$m:meta])* $name:ident, $sf:ident, $from:ty, $to:ty) => {
        $(#[$m])*
        pub fn $name(a: $from, rm: Rm) -> ($to, Flags) {
            // SAFETY: SoftFloat conversion on a plain value; reads this thread's rounding mode
            // and writes its flags, nothing else.
            with_rm(rm, || unsafe { sf::$sf(a) }.v)
        }
    };
}

from_int!(/// fcvt.s.w: i32 → binary32.
    i32_to_f32, i32_to_f32, i32, u32);
from_int!(/// fcvt.s.wu: u32 → binary32 (the caller passes the low 32 bits of the register).
    u32_to_f32, ui32_to_f32, u32, u32);
from_int!(/// fcvt.s.l: i64 → binary32.
    i64_to_f32, i64_to_f32, i64, u32);
from_int!(/// fcvt.s.lu: u64 → binary32.
    u64_to_f32, ui64_to_f32, u64, u32);
from_int!(/// fcvt.d.w: i32 → binary64 (always exact; `rm` is accepted for uniformity).
    i32_to_f64, i32_to_f64, i32, u64);
from_int!(/// fcvt.d.wu: u32 → binary64 (always exact; `rm` is accepted for uniformity).
    u32_to_f64, ui32_to_f64, u32, u64);
from_int!(/// fcvt.d.l: i64 → binary64.
    i64_to_f64, i64_to_f64, i64, u64);
from_int!(/// fcvt.d.lu: u64 → binary64.
    u64_to_f64, ui64_to_f64, u64, u64);

/// fcvt.d.s: binary32 → binary64. Exact, so it takes no rounding mode; NaN → canonical NaN
/// (NV if signalling).
pub fn f32_to_f64(a: u32) -> (u64, Flags) {
    // SAFETY: SoftFloat conversion on a plain value; touches only this thread's flag state.
    with_flags(|| unsafe { sf::f32_to_f64(w32(a)) }.v)
}

/// fcvt.s.d: binary64 → binary32, rounded with `rm`; NaN → canonical NaN (NV if signalling).
pub fn f64_to_f32(a: u64, rm: Rm) -> (u32, Flags) {
    // SAFETY: SoftFloat conversion on a plain value; touches only this thread's state.
    with_rm(rm, || unsafe { sf::f64_to_f32(w64(a)) }.v)
}
