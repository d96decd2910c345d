//! AArch64 floating point on top of the RISC-V SoftFloat build: the Arm rules layered in Rust.
//!
//! - **NaNs** (`FPCR.DN = 0`): the result of an operation with a NaN operand is the first
//!   signalling NaN operand, else the first quiet one, quietened (FPProcessNaNs). With `DN = 1`
//!   it is the default NaN. For fused multiply-add the order is addend, multiplicand, multiplier,
//!   and a quiet-NaN addend with `0 × ∞` gives the default NaN (and IOC).
//! - **Flush to zero** (`FPCR.FZ = 1`): denormal inputs are replaced by a zero of the same sign
//!   (IDC), and results that are tiny *before rounding* become zero (UFC, no IXC).
//! - **Tininess** is detected before rounding (SoftFloat's `softfloat_detectTininess` is set for
//!   each operation here and restored to the RISC-V setting afterwards).
//! - **Float → integer**: a NaN converts to 0 (IOC); out-of-range values saturate (IOC only).
//!
//! Values are raw bit patterns held in `u64` (binary32 in the low 32 bits); [`Prec`] says which.
//! Every function returns the FPSR cumulative bits its operation raised.

use crate::{Flags, Rm};
use softfloat_sys as sf;

mod v80;
pub use v80::*;

/// FPSR cumulative exception bits.
pub const IOC: u32 = 1;
pub const DZC: u32 = 1 << 1;
pub const OFC: u32 = 1 << 2;
pub const UFC: u32 = 1 << 3;
pub const IXC: u32 = 1 << 4;
pub const IDC: u32 = 1 << 7;
pub const QC: u32 = 1 << 27;

/// FPCR fields.
pub const FPCR_FZ: u64 = 1 << 24;
pub const FPCR_DN: u64 = 1 << 25;
pub const FPCR_AHP: u64 = 1 << 26;

/// The rounding mode FPCR.RMode (bits 23:22) selects.
pub fn fpcr_rm(fpcr: u64) -> Rm {
    match fpcr >> 22 & 3 {
        0 => Rm::Rne,
        1 => Rm::Rup,
        2 => Rm::Rdn,
        _ => Rm::Rtz,
    }
}

/// SoftFloat flags as FPSR bits.
pub fn fpsr_bits(f: Flags) -> u32 {
    let mut r = 0;
    for (ff, b) in [(Flags::NV, IOC), (Flags::DZ, DZC), (Flags::OF, OFC), (Flags::UF, UFC), (Flags::NX, IXC)] {
        if f.contains(ff) {
            r |= b;
        }
    }
    r
}

/// Runs `op` with tininess detected before rounding, as Arm specifies.
fn before_rounding<T>(op: impl FnOnce() -> T) -> T {
    // SAFETY: writes this thread's `softfloat_detectTininess` byte; restored below so RISC-V
    // operations on this thread keep after-rounding detection.
    unsafe { sf::softfloat_detectTininess_write_helper(sf::softfloat_tininess_beforeRounding) };
    let r = op();
    // SAFETY: as above.
    unsafe { sf::softfloat_detectTininess_write_helper(sf::softfloat_tininess_afterRounding) };
    r
}

/// Precision of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prec {
    S,
    D,
}

impl Prec {
    pub const fn sign(self) -> u64 {
        match self {
            Prec::S => 1 << 31,
            Prec::D => 1 << 63,
        }
    }
    const fn exp_mask(self) -> u64 {
        match self {
            Prec::S => 0x7f80_0000,
            Prec::D => 0x7ff0_0000_0000_0000,
        }
    }
    const fn frac_mask(self) -> u64 {
        match self {
            Prec::S => 0x007f_ffff,
            Prec::D => 0x000f_ffff_ffff_ffff,
        }
    }
    const fn quiet(self) -> u64 {
        match self {
            Prec::S => 0x0040_0000,
            Prec::D => 0x0008_0000_0000_0000,
        }
    }
    /// FPDefaultNaN.
    pub const fn default_nan(self) -> u64 {
        self.exp_mask() | self.quiet()
    }
    pub const fn is_nan(self, v: u64) -> bool {
        v & self.exp_mask() == self.exp_mask() && v & self.frac_mask() != 0
    }
    pub const fn is_snan(self, v: u64) -> bool {
        self.is_nan(v) && v & self.quiet() == 0
    }
    pub const fn is_inf(self, v: u64) -> bool {
        v & !self.sign() == self.exp_mask()
    }
    pub const fn is_zero(self, v: u64) -> bool {
        v & !self.sign() == 0
    }
    pub const fn is_denormal(self, v: u64) -> bool {
        v & self.exp_mask() == 0 && v & self.frac_mask() != 0
    }
    /// The value with its sign flipped (FPNeg).
    pub const fn neg(self, v: u64) -> u64 {
        v ^ self.sign()
    }
    /// ±∞.
    pub const fn inf(self, negative: bool) -> u64 {
        self.exp_mask() | if negative { self.sign() } else { 0 }
    }
    const fn zero_like(self, v: u64) -> u64 {
        v & self.sign()
    }
    /// 2^n as a value of this precision (n small enough to be normal).
    fn pow2(self, n: u32) -> u64 {
        match self {
            Prec::S => u64::from(127 + n) << 23,
            Prec::D => u64::from(1023 + n) << 52,
        }
    }
}

/// FZ input flushing: a denormal becomes a signed zero and raises IDC.
fn flush_in(p: Prec, v: u64, fpcr: u64, fsr: &mut u32) -> u64 {
    if fpcr & FPCR_FZ != 0 && p.is_denormal(v) {
        *fsr |= IDC;
        p.zero_like(v)
    } else {
        v
    }
}

/// FZ output flushing of an arithmetic result with the flags it raised (tininess before rounding:
/// UF is raised for a tiny inexact result even when it rounds to the smallest normal).
fn flush_out(p: Prec, v: u64, f: Flags, fpcr: u64) -> (u64, u32) {
    if fpcr & FPCR_FZ != 0 && (p.is_denormal(v) || f.contains(Flags::UF)) {
        let rest = Flags(f.0 & !(Flags::UF.0 | Flags::NX.0));
        return (p.zero_like(v), fpsr_bits(rest) | UFC);
    }
    (v, fpsr_bits(f))
}

/// FPProcessNaNs over `ops` in Arm's order: `Some` if any operand is a NaN.
fn process_nans(p: Prec, ops: &[u64], fpcr: u64) -> Option<(u64, u32)> {
    let pick = ops.iter().find(|&&v| p.is_snan(v)).or_else(|| ops.iter().find(|&&v| p.is_nan(v)))?;
    let fsr = if p.is_snan(*pick) { IOC } else { 0 };
    let r = if fpcr & FPCR_DN != 0 { p.default_nan() } else { pick | p.quiet() };
    Some((r, fsr))
}

/// Two-operand arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op2 {
    Add,
    Sub,
    Mul,
    Div,
    /// FNMUL: −(a × b), negated after rounding.
    Nmul,
    Max,
    Min,
    MaxNum,
    MinNum,
}

fn sf_op2(op: Op2, p: Prec, a: u64, b: u64, rm: Rm) -> (u64, Flags) {
    let (sa, sb) = (a as u32, b as u32);
    match (p, op) {
        (Prec::S, Op2::Add) => widen(crate::f32_add(sa, sb, rm)),
        (Prec::S, Op2::Sub) => widen(crate::f32_sub(sa, sb, rm)),
        (Prec::S, Op2::Mul | Op2::Nmul) => widen(crate::f32_mul(sa, sb, rm)),
        (Prec::S, _) => widen(crate::f32_div(sa, sb, rm)),
        (Prec::D, Op2::Add) => crate::f64_add(a, b, rm),
        (Prec::D, Op2::Sub) => crate::f64_sub(a, b, rm),
        (Prec::D, Op2::Mul | Op2::Nmul) => crate::f64_mul(a, b, rm),
        (Prec::D, _) => crate::f64_div(a, b, rm),
    }
}

fn widen((v, f): (u32, Flags)) -> (u64, Flags) {
    (u64::from(v), f)
}

/// `a > b` on non-NaN values (zeros of either sign are equal).
fn gt(p: Prec, a: u64, b: u64) -> bool {
    key(p, a) > key(p, b)
}

/// A signed integer that orders non-NaN values as their real values (both zeros equal).
fn key(p: Prec, v: u64) -> i128 {
    let mag = i128::from(v & !p.sign());
    if v & p.sign() != 0 {
        -mag
    } else {
        mag
    }
}

/// FADD, FSUB, FMUL, FDIV, FNMUL, FMAX, FMIN, FMAXNM, FMINNM.
pub fn op2(op: Op2, p: Prec, a: u64, b: u64, fpcr: u64) -> (u64, u32) {
    let mut fsr = 0;
    let mut a = flush_in(p, a, fpcr, &mut fsr);
    let mut b = flush_in(p, b, fpcr, &mut fsr);
    if matches!(op, Op2::MaxNum | Op2::MinNum) {
        // A single quiet NaN is treated as the infinity that loses.
        let losing = p.inf(op == Op2::MaxNum);
        if p.is_nan(a) && !p.is_snan(a) && !p.is_nan(b) {
            a = losing;
        } else if p.is_nan(b) && !p.is_snan(b) && !p.is_nan(a) {
            b = losing;
        }
    }
    if let Some((r, f)) = process_nans(p, &[a, b], fpcr) {
        // FNMUL negates whatever the multiplication gave, a NaN included.
        let r = if op == Op2::Nmul { p.neg(r) } else { r };
        return (r, fsr | f);
    }
    match op {
        Op2::Max | Op2::MaxNum | Op2::Min | Op2::MinNum => {
            let max = matches!(op, Op2::Max | Op2::MaxNum);
            let r = if p.is_zero(a) && p.is_zero(b) {
                // max(+0, −0) = +0, min(+0, −0) = −0.
                if max {
                    a & b
                } else {
                    a | b
                }
            } else if gt(p, a, b) == max {
                a
            } else {
                b
            };
            (r, fsr)
        }
        _ => {
            let (r, f) = before_rounding(|| sf_op2(op, p, a, b, fpcr_rm(fpcr)));
            let (r, f) = flush_out(p, r, f, fpcr);
            let r = if op == Op2::Nmul { p.neg(r) } else { r };
            (r, fsr | f)
        }
    }
}

/// Fused `addend + op1 × op2` (FPMulAdd); the FMSUB/FNMADD/FNMSUB forms negate operands first.
pub fn muladd(p: Prec, addend: u64, op1: u64, op2: u64, fpcr: u64) -> (u64, u32) {
    let mut fsr = 0;
    let a = flush_in(p, addend, fpcr, &mut fsr);
    let n = flush_in(p, op1, fpcr, &mut fsr);
    let m = flush_in(p, op2, fpcr, &mut fsr);
    let inf_zero = (p.is_inf(n) && p.is_zero(m)) || (p.is_zero(n) && p.is_inf(m));
    if p.is_nan(a) && !p.is_snan(a) && inf_zero {
        return (p.default_nan(), fsr | IOC);
    }
    if let Some((r, f)) = process_nans(p, &[a, n, m], fpcr) {
        return (r, fsr | f);
    }
    let rm = fpcr_rm(fpcr);
    let (r, f) = before_rounding(|| match p {
        Prec::S => widen(crate::f32_fma(n as u32, m as u32, a as u32, false, false, rm)),
        Prec::D => crate::f64_fma(n, m, a, false, false, rm),
    });
    let (r, f) = flush_out(p, r, f, fpcr);
    (r, fsr | f)
}

/// FSQRT.
pub fn sqrt(p: Prec, a: u64, fpcr: u64) -> (u64, u32) {
    let mut fsr = 0;
    let a = flush_in(p, a, fpcr, &mut fsr);
    if let Some((r, f)) = process_nans(p, &[a], fpcr) {
        return (r, fsr | f);
    }
    let rm = fpcr_rm(fpcr);
    let (r, f) = before_rounding(|| match p {
        Prec::S => widen(crate::f32_sqrt(a as u32, rm)),
        Prec::D => crate::f64_sqrt(a, rm),
    });
    let (r, f) = flush_out(p, r, f, fpcr);
    (r, fsr | f)
}

/// FCMP/FCMPE: the NZCV result (0b0110 equal, 0b1000 less, 0b0010 greater, 0b0011 unordered).
/// `signal` (FCMPE) raises IOC for any NaN, FCMP only for a signalling one.
pub fn compare(p: Prec, a: u64, b: u64, signal: bool, fpcr: u64) -> (u32, u32) {
    let mut fsr = 0;
    let a = flush_in(p, a, fpcr, &mut fsr);
    let b = flush_in(p, b, fpcr, &mut fsr);
    if p.is_nan(a) || p.is_nan(b) {
        if signal || p.is_snan(a) || p.is_snan(b) {
            fsr |= IOC;
        }
        return (0b0011, fsr);
    }
    let nzcv = match key(p, a).cmp(&key(p, b)) {
        core::cmp::Ordering::Equal => 0b0110,
        core::cmp::Ordering::Less => 0b1000,
        core::cmp::Ordering::Greater => 0b0010,
    };
    (nzcv, fsr)
}

/// FCVT between single and double.
pub fn convert(from: Prec, to: Prec, a: u64, fpcr: u64) -> (u64, u32) {
    let mut fsr = 0;
    let a = flush_in(from, a, fpcr, &mut fsr);
    if from.is_nan(a) {
        if from.is_snan(a) {
            fsr |= IOC;
        }
        if fpcr & FPCR_DN != 0 {
            return (to.default_nan(), fsr);
        }
        // FPConvertNaN: sign kept, the fraction's top bits carried over, quietened.
        let r = match (from, to) {
            (Prec::S, Prec::D) => (a >> 31 & 1) << 63 | 0x7ff8_0000_0000_0000 | (a & 0x3f_ffff) << 29,
            (Prec::D, Prec::S) => (a >> 63) << 31 | 0x7fc0_0000 | (a >> 29 & 0x3f_ffff),
            _ => a | to.quiet(),
        };
        return (r, fsr);
    }
    match (from, to) {
        (Prec::S, Prec::D) => {
            let (r, f) = crate::f32_to_f64(a as u32);
            (r, fsr | fpsr_bits(f))
        }
        (Prec::D, Prec::S) => {
            let (r, f) = before_rounding(|| crate::f64_to_f32(a, fpcr_rm(fpcr)));
            let (r, f) = flush_out(Prec::S, u64::from(r), f, fpcr);
            (r, fsr | f)
        }
        _ => (a, fsr),
    }
}

/// FRINT*: round to an integral value in the same format; `exact` (FRINTX) raises IXC when the
/// value changed.
pub fn round_int(p: Prec, a: u64, rm: Rm, exact: bool, fpcr: u64) -> (u64, u32) {
    let mut fsr = 0;
    let a = flush_in(p, a, fpcr, &mut fsr);
    if let Some((r, f)) = process_nans(p, &[a], fpcr) {
        return (r, fsr | f);
    }
    let (r, f) = crate::env::with_flags(|| match p {
        // SAFETY: SoftFloat rounding on a plain value with a valid mode; touches only this
        // thread's flag state.
        Prec::S => u64::from(unsafe { sf::f32_roundToInt(crate::env::w32(a as u32), rm as u8, exact) }.v),
        // SAFETY: as above.
        Prec::D => unsafe { sf::f64_roundToInt(crate::env::w64(a), rm as u8, exact) }.v,
    });
    (r, fsr | fpsr_bits(f))
}

/// FCVT{N,P,M,Z,A}{S,U}: float → integer of `bits64` ? 64 : 32 bits, after scaling by
/// 2^`fbits` (fixed point). The result is zero-extended to 64 bits.
pub fn to_int(p: Prec, a: u64, rm: Rm, signed: bool, bits64: bool, fbits: u32, fpcr: u64) -> (u64, u32) {
    let mut fsr = 0;
    let mut a = flush_in(p, a, fpcr, &mut fsr);
    if p.is_nan(a) {
        return (0, fsr | IOC);
    }
    if fbits != 0 {
        // Exact (or overflowing to ∞, which saturates the same way).
        a = sf_op2(Op2::Mul, p, a, p.pow2(fbits), Rm::Rne).0;
    }
    let (r, f) = match (p, signed, bits64) {
        (Prec::S, true, false) => {
            let (v, f) = crate::f32_to_i32(a as u32, rm);
            (u64::from(v as u32), f)
        }
        (Prec::S, false, false) => {
            let (v, f) = crate::f32_to_u32(a as u32, rm);
            (u64::from(v), f)
        }
        (Prec::S, true, true) => {
            let (v, f) = crate::f32_to_i64(a as u32, rm);
            (v as u64, f)
        }
        (Prec::S, false, true) => crate::f32_to_u64(a as u32, rm),
        (Prec::D, true, false) => {
            let (v, f) = crate::f64_to_i32(a, rm);
            (u64::from(v as u32), f)
        }
        (Prec::D, false, false) => {
            let (v, f) = crate::f64_to_u32(a, rm);
            (u64::from(v), f)
        }
        (Prec::D, true, true) => {
            let (v, f) = crate::f64_to_i64(a, rm);
            (v as u64, f)
        }
        (Prec::D, false, true) => crate::f64_to_u64(a, rm),
    };
    (r, fsr | fpsr_bits(f))
}

/// SCVTF/UCVTF: integer (`bits64` ? 64 : 32 bits of `a`) → float, divided by 2^`fbits`.
pub fn from_int(p: Prec, a: u64, signed: bool, bits64: bool, fbits: u32, fpcr: u64) -> (u64, u32) {
    let rm = fpcr_rm(fpcr);
    let (r, f) = match (p, signed, bits64) {
        (Prec::S, true, false) => widen(crate::i32_to_f32(a as u32 as i32, rm)),
        (Prec::S, false, false) => widen(crate::u32_to_f32(a as u32, rm)),
        (Prec::S, true, true) => widen(crate::i64_to_f32(a as i64, rm)),
        (Prec::S, false, true) => widen(crate::u64_to_f32(a, rm)),
        (Prec::D, true, false) => crate::i32_to_f64(a as u32 as i32, rm),
        (Prec::D, false, false) => crate::u32_to_f64(a as u32, rm),
        (Prec::D, true, true) => crate::i64_to_f64(a as i64, rm),
        (Prec::D, false, true) => crate::u64_to_f64(a, rm),
    };
    let r = if fbits != 0 {
        // Exact: the quotient of a rounded integer by a power of two stays normal.
        sf_op2(Op2::Div, p, r, p.pow2(fbits), Rm::Rne).0
    } else {
        r
    };
    (r, fpsr_bits(f))
}

/// FMOV (immediate): VFPExpandImm of the 8-bit `imm8`.
pub fn expand_imm(p: Prec, imm8: u32) -> u64 {
    let sign = u64::from(imm8 >> 7 & 1);
    let b6 = u64::from(imm8 >> 6 & 1);
    let low = u64::from(imm8 & 0x3f);
    match p {
        Prec::S => {
            let exp = (1 - b6) << 7 | if b6 == 1 { 0x1f } else { 0 } << 2 | (low >> 4);
            sign << 31 | exp << 23 | (low & 0xf) << 19
        }
        Prec::D => {
            let exp = (1 - b6) << 10 | if b6 == 1 { 0xff } else { 0 } << 2 | (low >> 4);
            sign << 63 | exp << 52 | (low & 0xf) << 48
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: u64 = 0x3ff0_0000_0000_0000;
    const SNAN: u64 = 0x7ff0_0000_0000_0001;
    const QNAN: u64 = 0x7ff8_0000_0000_0002;

    #[test]
    fn first_snan_wins_and_is_quietened() {
        assert_eq!(op2(Op2::Add, Prec::D, QNAN, SNAN, 0), (SNAN | 0x0008_0000_0000_0000, IOC));
        assert_eq!(op2(Op2::Add, Prec::D, QNAN, ONE, 0), (QNAN, 0));
        assert_eq!(op2(Op2::Add, Prec::D, ONE, QNAN, FPCR_DN), (Prec::D.default_nan(), 0));
    }

    #[test]
    fn fnmul_negates_a_nan_result_too() {
        assert_eq!(op2(Op2::Nmul, Prec::D, QNAN, ONE, 0), (QNAN | 1 << 63, 0));
        assert_eq!(op2(Op2::Nmul, Prec::D, SNAN, ONE, FPCR_DN), (Prec::D.default_nan() | 1 << 63, IOC));
    }

    #[test]
    fn fz_flushes_inputs_and_tiny_results() {
        let tiny = 1u64;
        assert_eq!(op2(Op2::Add, Prec::D, tiny, 0, FPCR_FZ), (0, IDC));
        // min normal / 2 is tiny and exact: flushed with UFC only.
        let minn = 0x0010_0000_0000_0000;
        assert_eq!(op2(Op2::Div, Prec::D, minn, 0x4000_0000_0000_0000, FPCR_FZ), (0, UFC));
        assert_eq!(op2(Op2::Div, Prec::D, minn, 0x4000_0000_0000_0000, 0), (0x0008_0000_0000_0000, 0));
    }

    #[test]
    fn tininess_is_before_rounding() {
        // The largest subnormal plus a bit rounds up to the smallest normal: tiny before rounding.
        let (_, f) = op2(Op2::Mul, Prec::D, 0x000f_ffff_ffff_ffff, 0x3ff0_0000_0000_0001, 0);
        assert_eq!(f, UFC | IXC);
    }

    #[test]
    fn nan_converts_to_zero_with_ioc() {
        assert_eq!(to_int(Prec::D, QNAN, Rm::Rtz, true, true, 0, 0), (0, IOC));
        assert_eq!(to_int(Prec::D, 0x7ff0_0000_0000_0000, Rm::Rtz, true, false, 0, 0), (0x7fff_ffff, IOC));
        assert_eq!(to_int(Prec::D, 0xfff0_0000_0000_0000, Rm::Rtz, false, true, 0, 0), (0, IOC));
    }

    #[test]
    fn expand_imm_gives_one_and_minus_half() {
        assert_eq!(expand_imm(Prec::D, 0x70), ONE);
        assert_eq!(expand_imm(Prec::S, 0x70), 0x3f80_0000);
        assert_eq!(expand_imm(Prec::D, 0xe0), 0xbfe0_0000_0000_0000);
    }
}
