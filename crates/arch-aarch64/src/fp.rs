//! Floating-point helpers: scalar FP data processing and conversions, and the FP forms of the
//! Advanced SIMD classes. Arithmetic, NaN rules, flush-to-zero and FPSR flags come from
//! `mimic_fpu::arm`; FPCR is read at run time, flags are OR-ed into FPSR.

use crate::cpu::Aarch64Cpu;
use crate::simd::{elem, f, put, set_elem, undef};
use mimic_exec::Env;
use mimic_fpu::arm::{self as fa, Op2, Prec};
use mimic_fpu::Rm;
use mimic_ir::Exit;

type E<'e, 'a> = &'e mut Env<'a, Aarch64Cpu>;
type Res = Result<u64, Exit>;

fn prec(ftype: u32) -> Option<Prec> {
    match ftype {
        0 => Some(Prec::S),
        1 => Some(Prec::D),
        _ => None,
    }
}

fn bits(p: Prec) -> u32 {
    match p {
        Prec::S => 32,
        Prec::D => 64,
    }
}

/// The scalar in the low `p` bits of V`n`.
fn rd_s(c: &Aarch64Cpu, n: u32, p: Prec) -> u64 {
    elem(c.v(n as usize), 0, bits(p))
}

/// Write a scalar, zeroing the rest of V`d`.
fn wr_s(c: &mut Aarch64Cpu, d: u32, p: Prec, v: u64) {
    put(c, d, u128::from(v), bits(p));
}

fn flags(c: &mut Aarch64Cpu, fsr: u32) {
    c.fpsr |= u64::from(fsr);
}

fn cond_holds(c: &Aarch64Cpu, cond: u32) -> bool {
    let f = c.nzcv();
    let (n, z, cf, v) = (f & 8 != 0, f & 4 != 0, f & 2 != 0, f & 1 != 0);
    let r = match cond >> 1 {
        0 => z,
        1 => cf,
        2 => n,
        3 => v,
        4 => cf && !z,
        5 => n == v,
        6 => n == v && !z,
        _ => true,
    };
    if cond & 1 == 1 && cond != 15 {
        !r
    } else {
        r
    }
}

fn set_nzcv(c: &mut Aarch64Cpu, nzcv: u32) {
    c.set_nzcv(nzcv);
}

/// FMOV (scalar, immediate).
pub fn fp_imm(e: E, raw: u64, _: u64, _: u64) -> Res {
    let Some(p) = prec(f(raw, 22, 2)) else { return undef(e, raw) };
    wr_s(e.cpu, f(raw, 0, 5), p, fa::expand_imm(p, f(raw, 13, 8)));
    Ok(0)
}

fn rint_mode(op: u32, fpcr: u64) -> Option<(Rm, bool)> {
    Some(match op {
        8 => (Rm::Rne, false),
        9 => (Rm::Rup, false),
        10 => (Rm::Rdn, false),
        11 => (Rm::Rtz, false),
        12 => (Rm::Rmm, false),
        14 => (fa::fpcr_rm(fpcr), true),
        15 => (fa::fpcr_rm(fpcr), false),
        _ => return None,
    })
}

/// FMOV (register), FABS, FNEG, FSQRT, FCVT (S/D), FRINT*.
pub fn fp_1src(e: E, raw: u64, _: u64, _: u64) -> Res {
    let op = f(raw, 15, 6);
    let (rd, rn) = (f(raw, 0, 5), f(raw, 5, 5));
    if matches!(op, 4 | 5 | 7) && (op == 7 || f(raw, 22, 2) == 3) {
        return crate::fp_v80::fcvt_half(e, raw);
    }
    let Some(p) = prec(f(raw, 22, 2)) else { return undef(e, raw) };
    let c = &mut *e.cpu;
    let fpcr = c.fpcr;
    let a = rd_s(c, rn, p);
    let (r, fsr, rp) = match op {
        0 => (a, 0, p),
        1 => (a & !p.sign(), 0, p),
        2 => (p.neg(a), 0, p),
        3 => {
            let (r, s) = fa::sqrt(p, a, fpcr);
            (r, s, p)
        }
        4 | 5 => {
            let to = if op == 4 { Prec::S } else { Prec::D };
            if to == p {
                return undef(e, raw);
            }
            let (r, s) = fa::convert(p, to, a, fpcr);
            (r, s, to)
        }
        _ => {
            let Some((rm, exact)) = rint_mode(op, fpcr) else { return undef(e, raw) };
            let (r, s) = fa::round_int(p, a, rm, exact, fpcr);
            (r, s, p)
        }
    };
    flags(c, fsr);
    wr_s(c, rd, rp, r);
    Ok(0)
}

fn op2_of(op: u32) -> Option<Op2> {
    Some(match op {
        0 => Op2::Mul,
        1 => Op2::Div,
        2 => Op2::Add,
        3 => Op2::Sub,
        4 => Op2::Max,
        5 => Op2::Min,
        6 => Op2::MaxNum,
        7 => Op2::MinNum,
        8 => Op2::Nmul,
        _ => return None,
    })
}

/// FMUL, FDIV, FADD, FSUB, FMAX, FMIN, FMAXNM, FMINNM, FNMUL.
pub fn fp_2src(e: E, raw: u64, _: u64, _: u64) -> Res {
    let (Some(p), Some(op)) = (prec(f(raw, 22, 2)), op2_of(f(raw, 12, 4))) else { return undef(e, raw) };
    let c = &mut *e.cpu;
    let (a, b) = (rd_s(c, f(raw, 5, 5), p), rd_s(c, f(raw, 16, 5), p));
    let (r, fsr) = fa::op2(op, p, a, b, c.fpcr);
    flags(c, fsr);
    wr_s(c, f(raw, 0, 5), p, r);
    Ok(0)
}

/// FMADD, FMSUB, FNMADD, FNMSUB.
pub fn fp_3src(e: E, raw: u64, _: u64, _: u64) -> Res {
    let Some(p) = prec(f(raw, 22, 2)) else { return undef(e, raw) };
    let (o1, o0) = (f(raw, 21, 1), f(raw, 15, 1));
    let c = &mut *e.cpu;
    let n = rd_s(c, f(raw, 5, 5), p);
    let m = rd_s(c, f(raw, 16, 5), p);
    let a = rd_s(c, f(raw, 10, 5), p);
    // FMSUB and FNMADD negate the product (through op1), FNMADD and FNMSUB the addend.
    let n = if o0 != o1 { p.neg(n) } else { n };
    let a = if o1 == 1 { p.neg(a) } else { a };
    let (r, fsr) = fa::muladd(p, a, n, m, c.fpcr);
    flags(c, fsr);
    wr_s(c, f(raw, 0, 5), p, r);
    Ok(0)
}

/// FCMP, FCMPE (register and zero).
pub fn fp_cmp(e: E, raw: u64, _: u64, _: u64) -> Res {
    let Some(p) = prec(f(raw, 22, 2)) else { return undef(e, raw) };
    let op = f(raw, 0, 5);
    if op & 0b00111 != 0 {
        return undef(e, raw);
    }
    let c = &mut *e.cpu;
    let a = rd_s(c, f(raw, 5, 5), p);
    let b = if op & 0b01000 != 0 { 0 } else { rd_s(c, f(raw, 16, 5), p) };
    let (nzcv, fsr) = fa::compare(p, a, b, op & 0b10000 != 0, c.fpcr);
    flags(c, fsr);
    set_nzcv(c, nzcv);
    Ok(0)
}

/// FCCMP, FCCMPE.
pub fn fp_ccmp(e: E, raw: u64, _: u64, _: u64) -> Res {
    let Some(p) = prec(f(raw, 22, 2)) else { return undef(e, raw) };
    let c = &mut *e.cpu;
    if cond_holds(c, f(raw, 12, 4)) {
        let a = rd_s(c, f(raw, 5, 5), p);
        let b = rd_s(c, f(raw, 16, 5), p);
        let (nzcv, fsr) = fa::compare(p, a, b, f(raw, 4, 1) == 1, c.fpcr);
        flags(c, fsr);
        set_nzcv(c, nzcv);
    } else {
        set_nzcv(c, f(raw, 0, 4));
    }
    Ok(0)
}

/// FCSEL.
pub fn fp_csel(e: E, raw: u64, _: u64, _: u64) -> Res {
    let Some(p) = prec(f(raw, 22, 2)) else { return undef(e, raw) };
    let c = &mut *e.cpu;
    let src = if cond_holds(c, f(raw, 12, 4)) { f(raw, 5, 5) } else { f(raw, 16, 5) };
    let v = rd_s(c, src, p);
    wr_s(c, f(raw, 0, 5), p, v);
    Ok(0)
}

/// Conversions between FP and general registers (rmode:opcode), integer and fixed point; the
/// FMOV forms are inline in `sem_simd.rs`.
pub fn fp_int(e: E, raw: u64, _: u64, _: u64) -> Res {
    let sf = f(raw, 31, 1) == 1;
    let Some(p) = prec(f(raw, 22, 2)) else { return undef(e, raw) };
    let rmode = f(raw, 19, 2);
    let opcode = f(raw, 16, 3);
    let fixed = f(raw, 21, 1) == 0;
    let scale = f(raw, 10, 6);
    let fbits = if fixed { 64 - scale } else { 0 };
    if fixed && (!sf && scale < 32) {
        return undef(e, raw);
    }
    let (rd, rn) = (f(raw, 0, 5), f(raw, 5, 5));
    let c = &mut *e.cpu;
    let fpcr = c.fpcr;
    let to_int_rm = match (rmode, opcode >> 1, fixed) {
        (0, 0, false) => Some(Rm::Rne),
        (1, 0, false) => Some(Rm::Rup),
        (2, 0, false) => Some(Rm::Rdn),
        (3, 0, _) => Some(Rm::Rtz),
        (0, 2, false) => Some(Rm::Rmm),
        _ => None,
    };
    if let Some(rm) = to_int_rm {
        let a = rd_s(c, rn, p);
        let (r, fsr) = fa::to_int(p, a, rm, opcode & 1 == 0, sf, fbits, fpcr);
        flags(c, fsr);
        if rd != 31 {
            c.regs[rd as usize] = r;
        }
        return Ok(0);
    }
    if rmode == 0 && opcode >> 1 == 1 {
        let x = if rn == 31 { 0 } else { c.regs[rn as usize] };
        let (r, fsr) = fa::from_int(p, x, opcode & 1 == 0, sf, fbits, fpcr);
        flags(c, fsr);
        wr_s(c, rd, p, r);
        return Ok(0);
    }
    undef(e, raw)
}

/// One lane of the FP three-same operations (`a` is size<1>, bit 23); `None` if unimplemented.
fn fp_lane3(p: Prec, opc: u32, u: bool, a: bool, x: u64, y: u64, d: u64, fpcr: u64) -> Option<(u64, u32)> {
    let all = if p == Prec::S { 0xffff_ffff } else { u64::MAX };
    let cmp = |x: u64, y: u64, signal: bool, want: &[u32]| {
        let (nzcv, fsr) = fa::compare(p, x, y, signal, fpcr);
        (if want.contains(&nzcv) { all } else { 0 }, fsr)
    };
    let abs = |v: u64| v & !p.sign();
    Some(match (opc, u, a) {
        (0b11000, false, false) => fa::op2(Op2::MaxNum, p, x, y, fpcr),
        (0b11000, false, true) => fa::op2(Op2::MinNum, p, x, y, fpcr),
        (0b11001, false, false) => fa::muladd(p, d, x, y, fpcr),
        (0b11001, false, true) => fa::muladd(p, d, p.neg(x), y, fpcr),
        (0b11010, false, false) => fa::op2(Op2::Add, p, x, y, fpcr),
        (0b11010, false, true) => fa::op2(Op2::Sub, p, x, y, fpcr),
        (0b11010, true, true) => {
            let (r, f) = fa::op2(Op2::Sub, p, x, y, fpcr);
            (abs(r), f)
        }
        (0b11011, true, false) => fa::op2(Op2::Mul, p, x, y, fpcr),
        (0b11011, false, false) => {
            // FMULX: 0 × ∞ is ±2.0.
            let fz = |v: u64| if fpcr & fa::FPCR_FZ != 0 && p.is_denormal(v) { v & p.sign() } else { v };
            let (fx, fy) = (fz(x), fz(y));
            let special = (p.is_inf(fx) && p.is_zero(fy)) || (p.is_zero(fx) && p.is_inf(fy));
            if special && !p.is_nan(fx) && !p.is_nan(fy) {
                let two = fa::expand_imm(p, 0);
                // A denormal flushed to the zero still raises IDC, as in any FZ operation.
                let flushed = (fx, fy) != (x, y);
                ((fx ^ fy) & p.sign() | two, if flushed { fa::IDC } else { 0 })
            } else {
                fa::op2(Op2::Mul, p, x, y, fpcr)
            }
        }
        (0b11100, false, false) => cmp(x, y, false, &[0b0110]),
        (0b11100, true, false) => cmp(x, y, true, &[0b0110, 0b0010]),
        (0b11100, true, true) => cmp(x, y, true, &[0b0010]),
        (0b11101, true, false) => cmp(abs(x), abs(y), true, &[0b0110, 0b0010]),
        (0b11101, true, true) => cmp(abs(x), abs(y), true, &[0b0010]),
        (0b11110, false, false) => fa::op2(Op2::Max, p, x, y, fpcr),
        (0b11110, false, true) => fa::op2(Op2::Min, p, x, y, fpcr),
        (0b11111, true, false) => fa::op2(Op2::Div, p, x, y, fpcr),
        (0b11111, false, false) => fa::fp_recip_step(p, x, y, fpcr),
        (0b11111, false, true) => fa::fp_rsqrt_step(p, x, y, fpcr),
        _ => return None,
    })
}

/// The pairwise FP opcode's lane operation: (opcode, U, a) of FADDP/FMAXP/... → the plain one.
fn pairwise_op(opc: u32, a: bool) -> Option<(u32, bool, bool)> {
    match (opc, a) {
        (0b11000, _) => Some((0b11000, false, a)),
        (0b11010, false) => Some((0b11010, false, false)),
        (0b11110, _) => Some((0b11110, false, a)),
        _ => None,
    }
}

/// FP forms of three-same (vector and scalar): FADD, FSUB, FMUL, FDIV, FMULX, FABD, FMAX,
/// FMIN, FMAXNM, FMINNM, FMLA, FMLS, FCMEQ/GE/GT, FACGE/GT, and the pairwise FADDP, FMAXP,
/// FMINP, FMAXNMP, FMINNMP.
pub fn vec_three_same(e: E, raw: u64, m: Option<u128>) -> Res {
    let (rd, rn, rm) = (f(raw, 0, 5), f(raw, 5, 5), f(raw, 16, 5));
    let opc = f(raw, 11, 5);
    let u = f(raw, 29, 1) == 1;
    let a = f(raw, 23, 1) == 1;
    let q = f(raw, 30, 1) == 1;
    let scalar = f(raw, 28, 1) == 1;
    let p = if f(raw, 22, 1) == 1 { Prec::D } else { Prec::S };
    if !scalar && p == Prec::D && !q {
        return undef(e, raw);
    }
    // The scalar forms: FMULX, FCMEQ/GE/GT, FACGE/GT, FABD, FRECPS, FRSQRTS.
    if scalar
        && m.is_none()
        && !matches!(
            (opc, u, a),
            (0b11011, false, false)
                | (0b11100, _, _)
                | (0b11101, true, _)
                | (0b11010, true, true)
                | (0b11111, false, _)
        )
    {
        return undef(e, raw);
    }
    let esz = bits(p);
    let total = if scalar {
        esz
    } else if q {
        128
    } else {
        64
    };
    let lanes = total / esz;
    let c = &mut *e.cpu;
    let fpcr = c.fpcr;
    let (n, dv) = (c.v(rn as usize), c.v(rd as usize));
    let m = m.unwrap_or_else(|| c.v(rm as usize));
    let mut r = 0u128;
    let mut fsr = 0;
    let pairwise = u && !scalar && matches!((opc, a), (0b11000, _) | (0b11010, false) | (0b11110, _));
    for i in 0..lanes {
        let out = if pairwise {
            let Some((po, pu, pa)) = pairwise_op(opc, a) else { return undef(e, raw) };
            let src = if i < lanes / 2 { n } else { m };
            let j = (i % (lanes / 2).max(1)) * 2;
            fp_lane3(p, po, pu, pa, elem(src, j, esz), elem(src, j + 1, esz), 0, fpcr)
        } else {
            fp_lane3(p, opc, u, a, elem(n, i, esz), elem(m, i, esz), elem(dv, i, esz), fpcr)
        };
        let Some((v, s)) = out else { return undef(e, raw) };
        fsr |= s;
        set_elem(&mut r, i, esz, v);
    }
    flags(c, fsr);
    put(c, rd, r, total);
    Ok(0)
}

/// FP forms of across-lanes (4S only): FMAXV, FMINV, FMAXNMV, FMINNMV, reduced pairwise.
pub fn vec_across(e: E, raw: u64) -> Res {
    let opc = f(raw, 12, 5);
    let a = f(raw, 23, 1) == 1;
    if f(raw, 29, 1) == 0 || f(raw, 30, 1) == 0 || f(raw, 22, 1) == 1 {
        return undef(e, raw);
    }
    let op = match (opc, a) {
        (0b01100, false) => Op2::MaxNum,
        (0b01100, true) => Op2::MinNum,
        (0b01111, false) => Op2::Max,
        (0b01111, true) => Op2::Min,
        _ => return undef(e, raw),
    };
    let c = &mut *e.cpu;
    let n = c.v(f(raw, 5, 5) as usize);
    let fpcr = c.fpcr;
    let x: Vec<u64> = (0..4).map(|i| elem(n, i, 32)).collect();
    let (lo, f1) = fa::op2(op, Prec::S, x[0], x[1], fpcr);
    let (hi, f2) = fa::op2(op, Prec::S, x[2], x[3], fpcr);
    let (r, f3) = fa::op2(op, Prec::S, lo, hi, fpcr);
    flags(c, f1 | f2 | f3);
    put(c, f(raw, 0, 5), u128::from(r), 32);
    Ok(0)
}

/// FP pairwise scalar forms: FADDP, FMAXP, FMINP, FMAXNMP, FMINNMP (S and D).
pub fn scalar_pair_fp(e: E, raw: u64) -> Res {
    let opc = f(raw, 12, 5);
    let a = f(raw, 23, 1) == 1;
    if f(raw, 29, 1) == 0 {
        return undef(e, raw);
    }
    let p = if f(raw, 22, 1) == 1 { Prec::D } else { Prec::S };
    let op = match (opc, a) {
        (0b01100, false) => Op2::MaxNum,
        (0b01100, true) => Op2::MinNum,
        (0b01101, false) => Op2::Add,
        (0b01111, false) => Op2::Max,
        (0b01111, true) => Op2::Min,
        _ => return undef(e, raw),
    };
    let c = &mut *e.cpu;
    let n = c.v(f(raw, 5, 5) as usize);
    let esz = bits(p);
    let (r, fsr) = fa::op2(op, p, elem(n, 0, esz), elem(n, 1, esz), c.fpcr);
    flags(c, fsr);
    put(c, f(raw, 0, 5), u128::from(r), esz);
    Ok(0)
}

/// Fixed-point SCVTF/UCVTF/FCVTZS/FCVTZU by immediate (vector and scalar).
pub fn vec_fixed(e: E, raw: u64) -> Res {
    let immh = f(raw, 19, 4);
    let immhb = f(raw, 16, 7);
    let opc = f(raw, 11, 5);
    let scalar = f(raw, 28, 1) == 1;
    let q = f(raw, 30, 1) == 1;
    let u = f(raw, 29, 1) == 1;
    let p = match immh {
        0b0100..=0b0111 => Prec::S,
        0b1000..=0b1111 => Prec::D,
        _ => return undef(e, raw),
    };
    let esz = bits(p);
    if !scalar && p == Prec::D && !q {
        return undef(e, raw);
    }
    let fbits = 2 * esz - immhb;
    lanes_fp(e, raw, p, scalar, q, |c, a| match opc {
        0b11100 => Some(fa::from_int(p, a, !u, esz == 64, fbits, c.fpcr)),
        0b11111 => Some(fa::to_int(p, a, Rm::Rtz, !u, esz == 64, fbits, c.fpcr)),
        _ => None,
    })
}

/// Apply `op` to each FP lane (or the one scalar) of V`rn` into V`rd`.
fn lanes_fp(
    e: E,
    raw: u64,
    p: Prec,
    scalar: bool,
    q: bool,
    op: impl Fn(&Aarch64Cpu, u64) -> Option<(u64, u32)>,
) -> Res {
    let (rd, rn) = (f(raw, 0, 5), f(raw, 5, 5));
    let esz = bits(p);
    let total = if scalar {
        esz
    } else if q {
        128
    } else {
        64
    };
    let c = &mut *e.cpu;
    let n = c.v(rn as usize);
    let mut r = 0u128;
    let mut fsr = 0;
    for i in 0..total / esz {
        let Some((v, s)) = op(c, elem(n, i, esz)) else { return undef(e, raw) };
        fsr |= s;
        set_elem(&mut r, i, esz, v);
    }
    flags(c, fsr);
    put(c, rd, r, total);
    Ok(0)
}

/// FP forms of two-register misc (vector and scalar): SCVTF, UCVTF, FCVT{N,M,A,P,Z}{S,U},
/// FABS, FNEG, FSQRT; the Armv8.0 conversions and estimates are in [`crate::fp_v80`].
pub fn vec_two_misc(e: E, raw: u64) -> Res {
    let opc = f(raw, 12, 5);
    let size = f(raw, 22, 2);
    let scalar = f(raw, 28, 1) == 1;
    let q = f(raw, 30, 1) == 1;
    let u = f(raw, 29, 1) == 1;
    let p = if size & 1 == 1 { Prec::D } else { Prec::S };
    if let Some(r) = crate::fp_v80::two_misc(e, raw) {
        return r;
    }
    if !scalar && p == Prec::D && !q {
        return undef(e, raw);
    }
    let hi = size >> 1 == 1;
    let esz = bits(p);
    let conv = |rm: Rm| move |c: &Aarch64Cpu, a: u64| Some(fa::to_int(p, a, rm, !u, esz == 64, 0, c.fpcr));
    match (opc, hi, u) {
        (0b11101, false, _) => {
            lanes_fp(e, raw, p, scalar, q, |c, a| Some(fa::from_int(p, a, !u, esz == 64, 0, c.fpcr)))
        }
        (0b11010, false, _) => lanes_fp(e, raw, p, scalar, q, conv(Rm::Rne)),
        (0b11011, false, _) => lanes_fp(e, raw, p, scalar, q, conv(Rm::Rdn)),
        (0b11100, false, _) => lanes_fp(e, raw, p, scalar, q, conv(Rm::Rmm)),
        (0b11010, true, _) => lanes_fp(e, raw, p, scalar, q, conv(Rm::Rup)),
        (0b11011, true, _) => lanes_fp(e, raw, p, scalar, q, conv(Rm::Rtz)),
        (0b01100..=0b01110, true, _) => {
            // FCMGT, FCMGE, FCMEQ, FCMLE, FCMLT against zero.
            let want: &[u32] = match (opc, u) {
                (0b01100, false) => &[0b0010],
                (0b01100, true) => &[0b0010, 0b0110],
                (0b01101, false) => &[0b0110],
                (0b01101, true) => &[0b1000, 0b0110],
                (0b01110, false) => &[0b1000],
                _ => return undef(e, raw),
            };
            let signal = opc != 0b01101 || u;
            let all = if p == Prec::S { 0xffff_ffff } else { u64::MAX };
            lanes_fp(e, raw, p, scalar, q, |c, a| {
                let (nzcv, fsr) = fa::compare(p, a, 0, signal, c.fpcr);
                Some((if want.contains(&nzcv) { all } else { 0 }, fsr))
            })
        }
        (0b11000 | 0b11001, _, _) if !(u && opc == 0b11000 && hi) => {
            // FRINTN/M (a=0), FRINTP/Z (a=1); U: FRINTA/X (a=0), FRINTI (a=1).
            let fpcr_rm = fa::fpcr_rm(e.cpu.fpcr);
            let (rm, exact) = match (u, hi, opc & 1) {
                (false, false, 0) => (Rm::Rne, false),
                (false, false, _) => (Rm::Rdn, false),
                (false, true, 0) => (Rm::Rup, false),
                (false, true, _) => (Rm::Rtz, false),
                (true, false, 0) => (Rm::Rmm, false),
                (true, false, _) => (fpcr_rm, true),
                (true, true, _) => (fpcr_rm, false),
            };
            if scalar {
                return undef(e, raw);
            }
            lanes_fp(e, raw, p, scalar, q, |c, a| Some(fa::round_int(p, a, rm, exact, c.fpcr)))
        }
        (0b01111, true, false) if !scalar => lanes_fp(e, raw, p, scalar, q, |_, a| Some((a & !p.sign(), 0))),
        (0b01111, true, true) if !scalar => lanes_fp(e, raw, p, scalar, q, |_, a| Some((p.neg(a), 0))),
        (0b11111, true, true) if !scalar => lanes_fp(e, raw, p, scalar, q, |c, a| Some(fa::sqrt(p, a, c.fpcr))),
        _ => undef(e, raw),
    }
}
