//! The Armv8.0 FP operations SoftFloat has no counterpart for, written from the Arm ARM
//! pseudocode: FPConvert with half precision (and FPCR.AHP's alternative format) and round to
//! odd (through a Rust FPRound), the reciprocal and reciprocal square root estimates with their
//! integer algorithms (RecipEstimate, RecipSqrtEstimate: the tables are computed, not stored),
//! FPRecpX, the fused step operations FPRecipStepFused/FPRSqrtStepFused, and the unsigned
//! estimates URECPE/URSQRTE.
//!
//! Half precision is only a conversion format in Armv8.0: it is never flushed (FPUnpackCV and
//! FPRoundCV clear FZ16), while single and double inputs and results follow FPCR.FZ.

use super::{flush_in, fpcr_rm, muladd, process_nans, Prec, FPCR_AHP, FPCR_DN, FPCR_FZ, IDC, IOC, IXC, OFC, UFC};
use super::{Rm, DZC};

/// A format FPConvert can read or write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fmt {
    H,
    S,
    D,
}

impl Fmt {
    /// Exponent and fraction widths.
    const fn ef(self) -> (u32, u32) {
        match self {
            Fmt::H => (5, 10),
            Fmt::S => (8, 23),
            Fmt::D => (11, 52),
        }
    }
    const fn bias(self) -> i32 {
        (1 << (self.ef().0 - 1)) - 1
    }
    const fn sign_bit(self) -> u32 {
        self.ef().0 + self.ef().1
    }
    fn default_nan(self) -> u64 {
        let (e, f) = self.ef();
        ((1 << e) - 1) << f | 1 << (f - 1)
    }
    fn inf(self, sign: u64) -> u64 {
        let (e, f) = self.ef();
        sign << self.sign_bit() | ((1 << e) - 1) << f
    }
}

impl From<Prec> for Fmt {
    fn from(p: Prec) -> Fmt {
        match p {
            Prec::S => Fmt::S,
            Prec::D => Fmt::D,
        }
    }
}

/// How FPRound rounds: an IEEE mode, or round to odd (FCVTXN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    Ieee(Rm),
    Odd,
}

/// An unpacked operand: a finite non-zero one is `mant × 2^exp`.
enum Val {
    Zero,
    Inf,
    Nan { signalling: bool },
    Num { mant: u64, exp: i32 },
}

/// FPUnpack/FPUnpackCV: `flush` applies FZ to a denormal (IDC), `ahp` reads a half as the
/// alternative format (no infinities or NaNs). Returns (sign, value).
fn unpack(fmt: Fmt, v: u64, flush: bool, ahp: bool, fsr: &mut u32) -> (u64, Val) {
    let (e, f) = fmt.ef();
    let sign = v >> fmt.sign_bit() & 1;
    let exp = (v >> f) & ((1 << e) - 1);
    let frac = v & ((1 << f) - 1);
    let val = if exp == 0 {
        if frac == 0 {
            Val::Zero
        } else if flush {
            *fsr |= IDC;
            Val::Zero
        } else {
            Val::Num { mant: frac, exp: 1 - fmt.bias() - f as i32 }
        }
    } else if exp == (1 << e) - 1 && !ahp {
        if frac == 0 {
            Val::Inf
        } else {
            Val::Nan { signalling: frac >> (f - 1) == 0 }
        }
    } else {
        Val::Num { mant: frac | 1 << f, exp: exp as i32 - fmt.bias() - f as i32 }
    };
    (sign, val)
}

/// FPRoundBase of the non-zero `mant × 2^exp` with sign `sign` into `fmt`: `fz` flushes a
/// result that is tiny before rounding (UFC), `ahp` writes the alternative half format.
fn round(fmt: Fmt, sign: u64, mant: u64, exp: i32, rounding: Rounding, fz: bool, ahp: bool) -> (u64, u32) {
    let (e, f) = fmt.ef();
    let sbit = sign << fmt.sign_bit();
    let exponent = exp + 63 - mant.leading_zeros() as i32;
    let min_exp = 1 - fmt.bias();
    if fz && exponent < min_exp {
        return (sbit, UFC);
    }
    let mut biased = (exponent - min_exp + 1).max(0);
    let e_eff = if biased == 0 { min_exp } else { exponent };
    // int_mant = RoundDown(value × 2^(F − e_eff)), error compared with one half ulp.
    let shift = f as i32 - e_eff + exp;
    let (mut int_mant, err_nonzero, err_vs_half) = if shift >= 0 {
        (u128::from(mant) << shift, false, core::cmp::Ordering::Less)
    } else if -shift > 64 {
        (0, true, core::cmp::Ordering::Less)
    } else {
        let r = (-shift) as u32;
        let m = u128::from(mant);
        let rem = m & ((1u128 << r) - 1);
        (m >> r, rem != 0, rem.cmp(&(1u128 << (r - 1))))
    };
    let mut fsr = 0;
    if biased == 0 && err_nonzero {
        fsr |= UFC;
    }
    let neg = sign == 1;
    let (round_up, overflow_to_inf) = match rounding {
        Rounding::Ieee(Rm::Rne) => (err_vs_half.is_gt() || (err_vs_half.is_eq() && int_mant & 1 == 1), true),
        Rounding::Ieee(Rm::Rup) => (err_nonzero && !neg, !neg),
        Rounding::Ieee(Rm::Rdn) => (err_nonzero && neg, neg),
        Rounding::Ieee(Rm::Rtz) | Rounding::Odd => (false, false),
        Rounding::Ieee(Rm::Rmm) => (!err_vs_half.is_lt(), true),
    };
    if round_up {
        int_mant += 1;
        if int_mant == 1 << f {
            biased = 1;
        }
        if int_mant == 1 << (f + 1) {
            biased += 1;
            int_mant >>= 1;
        }
    }
    if err_nonzero && rounding == Rounding::Odd {
        int_mant |= 1;
    }
    let mut inexact = err_nonzero;
    let frac = (int_mant as u64) & ((1 << f) - 1);
    let r = if !ahp {
        if biased >= (1 << e) - 1 {
            fsr |= OFC;
            inexact = true;
            if overflow_to_inf {
                fmt.inf(sign)
            } else {
                // FPMaxNormal.
                sbit | ((1 << e) - 2) << f | ((1 << f) - 1)
            }
        } else {
            sbit | (biased as u64) << f | frac
        }
    } else if biased >= 1 << e {
        fsr |= IOC;
        inexact = false;
        sbit | ((1 << fmt.sign_bit()) - 1)
    } else {
        sbit | (biased as u64) << f | frac
    };
    if inexact {
        fsr |= IXC;
    }
    (r, fsr)
}

/// FPConvertNaN: the sign and the fraction's top bits carried over, quietened.
fn convert_nan(from: Fmt, to: Fmt, a: u64) -> u64 {
    let (_, ff) = from.ef();
    let (_, tf) = to.ef();
    let sign = a >> from.sign_bit() & 1;
    // The payload below the quiet bit, left-aligned to the 51 bits a double has.
    let payload = (a & ((1 << (ff - 1)) - 1)) << (52 - ff);
    to.inf(sign) | 1 << (tf - 1) | payload >> (52 - tf)
}

/// FPConvert of `a` from `from` to `to` (FCVT, FCVTL, FCVTN, FCVTXN), with the rounding FPCR
/// selects or round to odd, FPCR.AHP for half precision, FZ for single and double, DN.
pub fn fp_convert(from: Fmt, to: Fmt, a: u64, odd: bool, fpcr: u64) -> (u64, u32) {
    let mut fsr = 0;
    let ahp = fpcr & FPCR_AHP != 0;
    let fz = fpcr & FPCR_FZ != 0;
    let alt_hp = to == Fmt::H && ahp;
    let (sign, v) = unpack(from, a, fz && from != Fmt::H, ahp && from == Fmt::H, &mut fsr);
    let tsign = sign << to.sign_bit();
    let r = match v {
        Val::Nan { signalling } => {
            if signalling || alt_hp {
                fsr |= IOC;
            }
            if alt_hp {
                tsign
            } else if fpcr & FPCR_DN != 0 {
                to.default_nan()
            } else {
                convert_nan(from, to, a)
            }
        }
        Val::Inf if alt_hp => {
            fsr |= IOC;
            tsign | 0x7fff
        }
        Val::Inf => to.inf(sign),
        Val::Zero => tsign,
        Val::Num { mant, exp } => {
            let rounding = if odd { Rounding::Odd } else { Rounding::Ieee(fpcr_rm(fpcr)) };
            let (r, f) = round(to, sign, mant, exp, rounding, fz && to != Fmt::H, alt_hp);
            fsr |= f;
            r
        }
    };
    (r, fsr)
}

/// RecipEstimate: `a` in 256..512 is a fixed-point value in [0.5, 1) in steps of 1/512; the
/// result in 256..512 is its reciprocal in [1, 2), in steps of 1/256.
pub fn recip_estimate(a: u32) -> u32 {
    let a = a * 2 + 1;
    let b = (1 << 19) / a;
    // (b + 1) DIV 2: to nearest.
    b.div_ceil(2)
}

/// RecipSqrtEstimate: `a` in 128..512 is a fixed-point value in [0.25, 1) in steps of 1/512;
/// the result in 256..512 is its reciprocal square root in [1, 2), in steps of 1/256.
pub fn recip_sqrt_estimate(a: u32) -> u32 {
    // Below 256: units of 1/512 rounded to nearest; above: the bottom bit dropped, units of
    // 1/256 rounded to nearest.
    let a = if a < 256 { a * 2 + 1 } else { ((a >> 1 << 1) + 1) * 2 };
    let mut b: u64 = 512;
    while u64::from(a) * (b + 1) * (b + 1) < 1 << 28 {
        b += 1;
    }
    // (b + 1) DIV 2: to nearest; b < 2^10.
    b.div_ceil(2) as u32
}

/// The fraction of a normal or denormal `a` left-aligned to 52 bits, and its biased exponent.
fn frac52(p: Prec, a: u64) -> (u64, i32) {
    match p {
        Prec::S => ((a & 0x7f_ffff) << 29, (a >> 23 & 0xff) as i32),
        Prec::D => (a & 0xf_ffff_ffff_ffff, (a >> 52 & 0x7ff) as i32),
    }
}

/// FPRecipEstimate (FRECPE) of a single or double.
pub fn fp_recip_estimate(p: Prec, a: u64, fpcr: u64) -> (u64, u32) {
    let mut fsr = 0;
    let a = flush_in(p, a, fpcr, &mut fsr);
    if let Some((r, f)) = process_nans(p, &[a], fpcr) {
        return (r, fsr | f);
    }
    let sign = a & p.sign();
    let neg = sign != 0;
    if p.is_inf(a) {
        return (sign, fsr);
    }
    if p.is_zero(a) {
        return (p.inf(neg), fsr | DZC);
    }
    let (mant_exp, n) = match p {
        Prec::S => (exponent_of(p, a), 32),
        Prec::D => (exponent_of(p, a), 64),
    };
    // |a| < 2^-128 (single) or 2^-1024 (double): the reciprocal overflows.
    let tiny = if n == 32 { -128 } else { -1024 };
    if mant_exp < tiny {
        let to_inf = match fpcr_rm(fpcr) {
            Rm::Rne | Rm::Rmm => true,
            Rm::Rup => !neg,
            Rm::Rdn => neg,
            Rm::Rtz => false,
        };
        let r = if to_inf { p.inf(neg) } else { p.inf(neg) - 1 };
        return (r, fsr | OFC | IXC);
    }
    let big = if n == 32 { 126 } else { 1022 };
    if fpcr & FPCR_FZ != 0 && mant_exp >= big {
        return (sign, fsr | UFC);
    }
    let (mut fraction, mut exp) = frac52(p, a);
    if exp == 0 {
        if fraction >> 51 == 0 {
            exp = -1;
            fraction = (fraction << 2) & 0xf_ffff_ffff_ffff;
        } else {
            fraction = (fraction << 1) & 0xf_ffff_ffff_ffff;
        }
    }
    let scaled = 0x100 | (fraction >> 44) as u32;
    let mut result_exp = if n == 32 { 253 - exp } else { 2045 - exp };
    let estimate = recip_estimate(scaled);
    let mut fraction = u64::from(estimate & 0xff) << 44;
    if result_exp == 0 {
        fraction = 1 << 51 | fraction >> 1;
    } else if result_exp == -1 {
        fraction = 1 << 50 | fraction >> 2;
        result_exp = 0;
    }
    let r = match p {
        Prec::S => sign | ((result_exp as u64) & 0xff) << 23 | fraction >> 29,
        Prec::D => sign | ((result_exp as u64) & 0x7ff) << 52 | fraction,
    };
    (r, fsr)
}

/// The unbiased exponent of the leading bit of a finite non-zero `a`.
fn exponent_of(p: Prec, a: u64) -> i32 {
    let (fraction, exp) = frac52(p, a);
    let bias = if p == Prec::S { 127 } else { 1023 };
    if exp != 0 {
        exp - bias
    } else {
        // Denormal: 0.fraction × 2^(1 − bias).
        1 - bias - (fraction.leading_zeros() as i32 - 12 + 1)
    }
}

/// FPRSqrtEstimate (FRSQRTE) of a single or double.
pub fn fp_rsqrt_estimate(p: Prec, a: u64, fpcr: u64) -> (u64, u32) {
    let mut fsr = 0;
    let a = flush_in(p, a, fpcr, &mut fsr);
    if let Some((r, f)) = process_nans(p, &[a], fpcr) {
        return (r, fsr | f);
    }
    if p.is_zero(a) {
        return (p.inf(a & p.sign() != 0), fsr | DZC);
    }
    if a & p.sign() != 0 {
        return (p.default_nan(), fsr | IOC);
    }
    if p.is_inf(a) {
        return (0, fsr);
    }
    let (mut fraction, mut exp) = frac52(p, a);
    if exp == 0 {
        while fraction >> 51 == 0 {
            fraction <<= 1;
            exp -= 1;
        }
        fraction = (fraction << 1) & 0xf_ffff_ffff_ffff;
    }
    let scaled = if exp & 1 == 0 { 0x100 | (fraction >> 44) as u32 } else { 0x80 | (fraction >> 45) as u32 };
    let result_exp = match p {
        Prec::S => (380 - exp).div_euclid(2),
        Prec::D => (3068 - exp).div_euclid(2),
    };
    let estimate = u64::from(recip_sqrt_estimate(scaled) & 0xff);
    let r = match p {
        Prec::S => ((result_exp as u64) & 0xff) << 23 | estimate << 15,
        Prec::D => ((result_exp as u64) & 0x7ff) << 52 | estimate << 44,
    };
    (r, fsr)
}

/// FPRecpX (FRECPX): the exponent inverted, the fraction cleared.
pub fn fp_recpx(p: Prec, a: u64, fpcr: u64) -> (u64, u32) {
    let mut fsr = 0;
    let a_in = a;
    let a = flush_in(p, a, fpcr, &mut fsr);
    if let Some((r, f)) = process_nans(p, &[a], fpcr) {
        return (r, fsr | f);
    }
    let (shift, emask) = match p {
        Prec::S => (23, 0xffu64),
        Prec::D => (52, 0x7ff),
    };
    let exp = a_in >> shift & emask;
    let sign = a & p.sign();
    let r = if exp == 0 { sign | (emask - 1) << shift } else { sign | (!exp & emask) << shift };
    (r, fsr)
}

/// Halve a normal value whose exponent field is above 1 (exactly).
fn halve(p: Prec, v: u64) -> u64 {
    v - match p {
        Prec::S => 1 << 23,
        Prec::D => 1 << 52,
    }
}

fn exp_field(p: Prec, v: u64) -> u64 {
    match p {
        Prec::S => v >> 23 & 0xff,
        Prec::D => v >> 52 & 0x7ff,
    }
}

/// Shared by the two steps: NaNs (of −a and b), 0 × ∞ (`special`), ∞; `None` for finite
/// operands, which the caller computes. `a` and `b` come back flushed.
fn step_prologue(p: Prec, a: u64, b: u64, special: u64, fpcr: u64, fsr: &mut u32) -> Result<(u64, u64), u64> {
    let a = p.neg(flush_in(p, a, fpcr, fsr));
    let b = flush_in(p, b, fpcr, fsr);
    if let Some((r, f)) = process_nans(p, &[a, b], fpcr) {
        *fsr |= f;
        return Err(r);
    }
    let (ia, ib) = (p.is_inf(a), p.is_inf(b));
    if (ia && p.is_zero(b)) || (p.is_zero(a) && ib) {
        return Err(special);
    }
    if ia || ib {
        return Err(p.inf((a ^ b) & p.sign() != 0));
    }
    Ok((a, b))
}

/// FPRecipStepFused (FRECPS): 2 − a × b, one rounding; 0 × ∞ gives 2.
pub fn fp_recip_step(p: Prec, a: u64, b: u64, fpcr: u64) -> (u64, u32) {
    let mut fsr = 0;
    let two = super::expand_imm(p, 0);
    match step_prologue(p, a, b, two, fpcr, &mut fsr) {
        Err(r) => (r, fsr),
        Ok((na, b)) => {
            let (r, f) = muladd(p, two, na, b, fpcr);
            (r, fsr | f)
        }
    }
}

/// FPRSqrtStepFused (FRSQRTS): (3 − a × b) / 2, one rounding; 0 × ∞ gives 1.5.
pub fn fp_rsqrt_step(p: Prec, a: u64, b: u64, fpcr: u64) -> (u64, u32) {
    let mut fsr = 0;
    let one_half = super::expand_imm(p, 0x78);
    let three = super::expand_imm(p, 0x08);
    match step_prologue(p, a, b, one_half, fpcr, &mut fsr) {
        Err(r) => (r, fsr),
        Ok((na, b)) => {
            // Halving an operand first keeps the one rounding of (3 − ab)/2 exact and clear
            // of a spurious overflow; when both are too small to halve exactly, 3 − ab is
            // close to 3 and halving the rounded sum is exact.
            let (r, f) = if exp_field(p, na) > 1 {
                muladd(p, one_half, halve(p, na), b, fpcr)
            } else if exp_field(p, b) > 1 {
                muladd(p, one_half, na, halve(p, b), fpcr)
            } else {
                let (r, f) = muladd(p, three, na, b, fpcr);
                (halve(p, r), f)
            };
            (r, fsr | f)
        }
    }
}

/// UnsignedRecipEstimate (URECPE) of a 32-bit lane.
pub fn unsigned_recip_estimate(a: u32) -> u32 {
    if a >> 31 == 0 {
        u32::MAX
    } else {
        recip_estimate(a >> 23) << 23
    }
}

/// UnsignedRSqrtEstimate (URSQRTE) of a 32-bit lane.
pub fn unsigned_rsqrt_estimate(a: u32) -> u32 {
    if a >> 30 == 0 {
        u32::MAX
    } else {
        recip_sqrt_estimate(a >> 23) << 23
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recip_estimate_endpoints_follow_the_integer_algorithm() {
        // 0.5 + 1/1024 → 2^19 / 513 = 1022 → 511; 1 − 1/1024 → 2^19 / 1023 = 512 → 256.
        assert_eq!(recip_estimate(256), 511);
        assert_eq!(recip_estimate(511), 256);
    }

    #[test]
    fn recip_sqrt_estimate_of_a_quarter_is_near_two() {
        assert_eq!(recip_sqrt_estimate(128), 511);
        assert_eq!(recip_sqrt_estimate(511), 256);
    }

    #[test]
    fn half_to_single_is_exact_and_single_to_half_rounds() {
        assert_eq!(fp_convert(Fmt::H, Fmt::S, 0x3c00, false, 0), (0x3f80_0000, 0));
        assert_eq!(fp_convert(Fmt::H, Fmt::S, 0x0001, false, 0), (0x3380_0000, 0));
        // 1 + 2^-11 is a tie: to even (1.0); 1 + 3·2^-12 rounds up.
        assert_eq!(fp_convert(Fmt::S, Fmt::H, 0x3f80_1000, false, 0), (0x3c00, IXC));
        assert_eq!(fp_convert(Fmt::S, Fmt::H, 0x3f80_1800, false, 0), (0x3c01, IXC));
    }

    #[test]
    fn single_to_half_overflows_to_infinity_but_ahp_saturates_with_ioc() {
        // 2^17 is beyond both formats; AHP's largest value is 131008.
        assert_eq!(fp_convert(Fmt::S, Fmt::H, 0x4800_0000, false, 0), (0x7c00, OFC | IXC));
        assert_eq!(fp_convert(Fmt::S, Fmt::H, 0x4800_0000, false, FPCR_AHP), (0x7fff, IOC));
        assert_eq!(fp_convert(Fmt::S, Fmt::H, 0x4780_0000, false, FPCR_AHP), (0x7c00, 0));
    }

    #[test]
    fn double_to_single_round_to_odd_sets_the_last_bit_when_inexact() {
        // 1 + 2^-24: truncated to 1.0, made odd.
        assert_eq!(fp_convert(Fmt::D, Fmt::S, 0x3ff0_0000_1000_0000, true, 0), (0x3f80_0001, IXC));
        assert_eq!(fp_convert(Fmt::D, Fmt::S, 0x3ff0_0000_0000_0000, true, 0), (0x3f80_0000, 0));
    }
}
