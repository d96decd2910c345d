//! Comparisons and classification differ between architectures in exactly the details a guest can
//! test, so they are spelled out here rather than left to host `f32::min` and friends:
//!
//! * `fmin`/`fmax` follow RISC-V F/D 2.2 (IEEE 754-2019 `minimumNumber`/`maximumNumber`): a NaN
//!   operand is ignored, two NaNs give the canonical NaN, −0.0 orders below +0.0, and a signalling
//!   NaN raises NV even when the other operand is returned. (The pre-2.2 `minNum` behaviour, which
//!   returned the canonical NaN for an sNaN input, is deliberately not implemented.) These need no
//!   rounding, so they are plain Rust on bit patterns.
//! * `feq` is a quiet comparison (NV only for sNaN), `flt`/`fle` are signalling (NV for any NaN);
//!   SoftFloat's `_eq`/`_lt`/`_le` have exactly those semantics.
//! * `fclass` is a bit pattern decode.
//!
//! AArch64 note: Arm's FMIN/FMAX propagate NaNs (unlike FMINNM/FMAXNM, which match the behaviour
//! here except for returning a quietened sNaN); that variant would sit beside these functions.

use crate::env::{w32, w64, with_flags};
use crate::{f32_is_nan, f32_is_snan, f64_is_nan, f64_is_snan, Flags, F32_CANONICAL_NAN, F64_CANONICAL_NAN};
use softfloat_sys as sf;

macro_rules! minmax {
    (
        $(#[$m:meta])* $name:ident, $t:ty, $ft:ty, $is_nan:ident, $is_snan:ident, $cnan:expr,
        $want_min:expr
    ) => {
        $(#[$m])*
        pub fn $name(a: $t, b: $t) -> ($t, Flags) {
            let flags = if $is_snan(a) || $is_snan(b) { Flags::NV } else { Flags::NONE };
            let r = match ($is_nan(a), $is_nan(b)) {
                (true, true) => $cnan,
                (true, false) => b,
                (false, true) => a,
                (false, false) => {
                    let (x, y) = (<$ft>::from_bits(a), <$ft>::from_bits(b));
                    // Neither is NaN, so host comparison is exact and raises nothing observable.
                    if x == y {
                        // Equal values differ in bits only for ±0: min keeps a set sign, max a
                        // clear one.
                        if $want_min { a | b } else { a & b }
                    } else if (x < y) == $want_min {
                        a
                    } else {
                        b
                    }
                }
            };
            (r, flags)
        }
    };
}

minmax!(/// binary32 fmin.s (RISC-V 2.2 `minimumNumber`).
    f32_min, u32, f32, f32_is_nan, f32_is_snan, F32_CANONICAL_NAN, true);
minmax!(/// binary32 fmax.s (RISC-V 2.2 `maximumNumber`).
    f32_max, u32, f32, f32_is_nan, f32_is_snan, F32_CANONICAL_NAN, false);
minmax!(/// binary64 fmin.d (RISC-V 2.2 `minimumNumber`).
    f64_min, u64, f64, f64_is_nan, f64_is_snan, F64_CANONICAL_NAN, true);
minmax!(/// binary64 fmax.d (RISC-V 2.2 `maximumNumber`).
    f64_max, u64, f64, f64_is_nan, f64_is_snan, F64_CANONICAL_NAN, false);

macro_rules! compare {
    ($(#[$m:meta])* $name:ident, $sf:ident, $t:ty, $w:ident) => {
        $(#[$m])*
        pub fn $name(a: $t, b: $t) -> (bool, Flags) {
            with_flags(|| {
                // SAFETY: SoftFloat comparison on plain values; touches only this thread's flags.
                unsafe { sf::$sf($w(a), $w(b)) }
            })
        }
    };
}

compare!(/// binary32 feq.s: quiet equality (NV only for a signalling NaN operand).
    f32_eq, f32_eq, u32, w32);
compare!(/// binary32 flt.s: signalling less-than (NV for any NaN operand).
    f32_lt, f32_lt, u32, w32);
compare!(/// binary32 fle.s: signalling less-or-equal (NV for any NaN operand).
    f32_le, f32_le, u32, w32);
compare!(/// binary64 feq.d: quiet equality (NV only for a signalling NaN operand).
    f64_eq, f64_eq, u64, w64);
compare!(/// binary64 flt.d: signalling less-than (NV for any NaN operand).
    f64_lt, f64_lt, u64, w64);
compare!(/// binary64 fle.d: signalling less-or-equal (NV for any NaN operand).
    f64_le, f64_le, u64, w64);

/// Bits of the `fclass` result mask.
pub mod class {
    /// −∞
    pub const NEG_INF: u64 = 1 << 0;
    /// Negative normal number.
    pub const NEG_NORMAL: u64 = 1 << 1;
    /// Negative subnormal number.
    pub const NEG_SUBNORMAL: u64 = 1 << 2;
    /// −0
    pub const NEG_ZERO: u64 = 1 << 3;
    /// +0
    pub const POS_ZERO: u64 = 1 << 4;
    /// Positive subnormal number.
    pub const POS_SUBNORMAL: u64 = 1 << 5;
    /// Positive normal number.
    pub const POS_NORMAL: u64 = 1 << 6;
    /// +∞
    pub const POS_INF: u64 = 1 << 7;
    /// Signalling NaN.
    pub const SNAN: u64 = 1 << 8;
    /// Quiet NaN.
    pub const QNAN: u64 = 1 << 9;
}

fn classify(sign: bool, exp_all_ones: bool, exp_zero: bool, frac_zero: bool, quiet: bool) -> u64 {
    use class::*;
    let pick = |neg: u64, pos: u64| if sign { neg } else { pos };
    match (exp_all_ones, exp_zero, frac_zero) {
        (true, _, true) => pick(NEG_INF, POS_INF),
        (true, _, false) => {
            if quiet {
                QNAN
            } else {
                SNAN
            }
        }
        (false, true, true) => pick(NEG_ZERO, POS_ZERO),
        (false, true, false) => pick(NEG_SUBNORMAL, POS_SUBNORMAL),
        (false, false, _) => pick(NEG_NORMAL, POS_NORMAL),
    }
}

/// binary32 fclass.s: a one-hot 10-bit mask (see [`class`]). Raises no flags.
pub fn f32_classify(a: u32) -> u64 {
    let exp = (a >> 23) & 0xff;
    let frac = a & 0x7f_ffff;
    classify(a >> 31 != 0, exp == 0xff, exp == 0, frac == 0, a & 0x40_0000 != 0)
}

/// binary64 fclass.d: a one-hot 10-bit mask (see [`class`]). Raises no flags.
pub fn f64_classify(a: u64) -> u64 {
    let exp = (a >> 52) & 0x7ff;
    let frac = a & 0x000f_ffff_ffff_ffff;
    classify(a >> 63 != 0, exp == 0x7ff, exp == 0, frac == 0, a & 0x0008_0000_0000_0000 != 0)
}
