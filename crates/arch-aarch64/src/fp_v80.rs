//! The Armv8.0 FP/SIMD instructions built on `mimic_fpu::arm`'s FPConvert with half precision
//! and round to odd, and on its estimates and steps: FCVT to and from half precision,
//! FCVTL/FCVTL2, FCVTN/FCVTN2, FCVTXN/FCVTXN2 (round to odd), FRECPE, FRSQRTE, FRECPX, URECPE
//! and URSQRTE. FRECPS/FRSQRTS are lanes of [`crate::fp`]'s three-same, SHLL and the scalar
//! long multiplies are in [`crate::simd`].

use crate::cpu::Aarch64Cpu;
use crate::simd::{elem, f, put, set_elem, undef};
use mimic_exec::Env;
use mimic_fpu::arm::{self as fa, Fmt, Prec};
use mimic_ir::Exit;

type E<'e, 'a> = &'e mut Env<'a, Aarch64Cpu>;
type Res = Result<u64, Exit>;

fn fmt_of(ftype: u32) -> Option<Fmt> {
    match ftype {
        0 => Some(Fmt::S),
        1 => Some(Fmt::D),
        3 => Some(Fmt::H),
        _ => None,
    }
}

fn width(fmt: Fmt) -> u32 {
    match fmt {
        Fmt::H => 16,
        Fmt::S => 32,
        Fmt::D => 64,
    }
}

/// FCVT (scalar) when either side is half precision: ftype is the source, opc<1:0> of the
/// 1-source opcode (0b0001oo) the destination (00 S, 01 D, 11 H).
pub fn fcvt_half(e: E, raw: u64) -> Res {
    let (Some(from), Some(to)) = (fmt_of(f(raw, 22, 2)), fmt_of(f(raw, 15, 2))) else { return undef(e, raw) };
    if from == to {
        return undef(e, raw);
    }
    let c = &mut *e.cpu;
    let a = elem(c.v(f(raw, 5, 5) as usize), 0, width(from));
    let (r, fsr) = fa::fp_convert(from, to, a, false, c.fpcr);
    c.fpsr |= u64::from(fsr);
    put(c, f(raw, 0, 5), u128::from(r), width(to));
    Ok(0)
}

/// FCVTN/FCVTN2, FCVTXN/FCVTXN2 (vector and scalar): each wide lane converted into the lower
/// (Q = 0, upper half cleared) or upper (Q = 1, lower half kept) half of Vd.
fn narrow(e: E, raw: u64, odd: bool) -> Res {
    let sz = f(raw, 22, 1);
    let scalar = f(raw, 28, 1) == 1;
    let q = f(raw, 30, 1) == 1;
    let (from, to) = if sz == 1 { (Fmt::D, Fmt::S) } else { (Fmt::S, Fmt::H) };
    // FCVTXN only narrows double to single; FCVTN has no scalar form.
    if (odd && sz == 0) || (scalar && !odd) {
        return undef(e, raw);
    }
    let c = &mut *e.cpu;
    let n = c.v(f(raw, 5, 5) as usize);
    let rd = f(raw, 0, 5);
    let (wn, wt) = (width(from), width(to));
    let count = if scalar { 1 } else { 64 / wt };
    let base = if q && !scalar { 64 / wt } else { 0 };
    let mut out = if q && !scalar { c.v(rd as usize) & u128::from(u64::MAX) } else { 0 };
    let mut fsr = 0;
    for i in 0..count {
        let (r, s) = fa::fp_convert(from, to, elem(n, i, wn), odd, c.fpcr);
        fsr |= s;
        set_elem(&mut out, base + i, wt, r);
    }
    c.fpsr |= u64::from(fsr);
    put(c, rd, out, if scalar { wt } else { 128 });
    Ok(0)
}

/// FCVTL/FCVTL2: the lower (Q = 0) or upper (Q = 1) half's lanes widened.
fn widen(e: E, raw: u64) -> Res {
    if f(raw, 28, 1) == 1 {
        return undef(e, raw);
    }
    let (from, to) = if f(raw, 22, 1) == 1 { (Fmt::S, Fmt::D) } else { (Fmt::H, Fmt::S) };
    let q = f(raw, 30, 1) == 1;
    let c = &mut *e.cpu;
    let n = c.v(f(raw, 5, 5) as usize);
    let (wn, wt) = (width(from), width(to));
    let base = if q { 64 / wn } else { 0 };
    let mut out = 0u128;
    let mut fsr = 0;
    for i in 0..128 / wt {
        let (r, s) = fa::fp_convert(from, to, elem(n, base + i, wn), false, c.fpcr);
        fsr |= s;
        set_elem(&mut out, i, wt, r);
    }
    c.fpsr |= u64::from(fsr);
    put(c, f(raw, 0, 5), out, 128);
    Ok(0)
}

/// Each lane of V`rn` (or the one scalar) through `op` into V`rd`: 32-bit lanes when `p` is S.
fn lanes(e: E, raw: u64, p: Prec, op: impl Fn(u64, u64) -> (u64, u32)) -> Res {
    let scalar = f(raw, 28, 1) == 1;
    let q = f(raw, 30, 1) == 1;
    let esz = if p == Prec::S { 32 } else { 64 };
    if !scalar && esz == 64 && !q {
        return undef(e, raw);
    }
    let total = if scalar {
        esz
    } else if q {
        128
    } else {
        64
    };
    let c = &mut *e.cpu;
    let n = c.v(f(raw, 5, 5) as usize);
    let mut out = 0u128;
    let mut fsr = 0;
    for i in 0..total / esz {
        let (r, s) = op(elem(n, i, esz), c.fpcr);
        fsr |= s;
        set_elem(&mut out, i, esz, r);
    }
    c.fpsr |= u64::from(fsr);
    put(c, f(raw, 0, 5), out, total);
    Ok(0)
}

/// The Armv8.0 two-register-misc FP forms this module implements, or `None` for the others.
pub fn two_misc(e: E, raw: u64) -> Option<Res> {
    let opc = f(raw, 12, 5);
    let u = f(raw, 29, 1) == 1;
    let size = f(raw, 22, 2);
    let scalar = f(raw, 28, 1) == 1;
    let p = if size & 1 == 1 { Prec::D } else { Prec::S };
    Some(match (opc, size >> 1, u) {
        (0b10110, 0, false) => narrow(e, raw, false),
        (0b10110, 0, true) => narrow(e, raw, true),
        (0b10111, 0, false) => widen(e, raw),
        (0b11100, 1, _) if size == 2 && !scalar => {
            let est = if u { fa::unsigned_rsqrt_estimate } else { fa::unsigned_recip_estimate };
            lanes(e, raw, Prec::S, |a, _| (u64::from(est(a as u32)), 0))
        }
        (0b11100, 1, _) => undef(e, raw),
        (0b11101, 1, false) => lanes(e, raw, p, |a, fpcr| fa::fp_recip_estimate(p, a, fpcr)),
        (0b11101, 1, true) => lanes(e, raw, p, |a, fpcr| fa::fp_rsqrt_estimate(p, a, fpcr)),
        (0b11111, 1, false) if scalar => lanes(e, raw, p, |a, fpcr| fa::fp_recpx(p, a, fpcr)),
        _ => return None,
    })
}
