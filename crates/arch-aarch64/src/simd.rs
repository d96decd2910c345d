//! Advanced SIMD helpers: each gets the instruction word (its class already matched by
//! `decode/simd.decode`), reads its fields, and computes lane by lane on the register file.
//! Encodings a class's helper does not implement raise Undefined, as unallocated ones do.
//!
//! Field positions shared by the classes: Rd 4:0, Rn 9:5, Rm 20:16, size 23:22, U 29, Q 30,
//! bit 28 set for the scalar forms.

use crate::cpu::{Aarch64Cpu, Fault};
use crate::fp;
use mimic_core::{MemOp, Size};
use mimic_exec::Env;
use mimic_fpu::arm::{self as fa, Prec, QC};
use mimic_ir::Exit;

type E<'e, 'a> = &'e mut Env<'a, Aarch64Cpu>;
type Res = Result<u64, Exit>;

/// An FP/SIMD instruction while CPACR_EL1.FPEN traps them.
pub fn fp_access(e: E, _: u64, _: u64, _: u64) -> Res {
    e.cpu.exception(Fault::FpAccess)
}

pub(crate) fn undef(e: E, raw: u64) -> Res {
    e.cpu.exception(Fault::Undefined { raw: raw as u32 })
}

pub(crate) fn f(raw: u64, lo: u32, len: u32) -> u32 {
    (raw >> lo) as u32 & ((1 << len) - 1)
}

/// All ones in an `esz`-bit lane (`esz` <= 64).
pub(crate) fn mask(esz: u32) -> u64 {
    if esz >= 64 {
        u64::MAX
    } else {
        (1u64 << esz) - 1
    }
}

pub(crate) fn elem(v: u128, i: u32, esz: u32) -> u64 {
    (v >> (i * esz)) as u64 & mask(esz)
}

pub(crate) fn set_elem(v: &mut u128, i: u32, esz: u32, x: u64) {
    let m = u128::from(mask(esz)) << (i * esz);
    *v = (*v & !m) | (u128::from(x & mask(esz)) << (i * esz));
}

fn sx(x: u64, esz: u32) -> i64 {
    if esz >= 64 {
        x as i64
    } else {
        ((x << (64 - esz)) as i64) >> (64 - esz)
    }
}

/// Write V`rd` as a `bytes`-wide result: Q=0 results clear bits 127:64.
pub(crate) fn put(c: &mut Aarch64Cpu, rd: u32, v: u128, bits: u32) {
    let v = if bits >= 128 { v } else { v & ((1u128 << bits) - 1) };
    c.set_v(rd as usize, v);
}

fn setx(c: &mut Aarch64Cpu, rd: u32, v: u64) {
    if rd != 31 {
        c.regs[rd as usize] = v;
    }
}

fn getx(c: &Aarch64Cpu, r: u32) -> u64 {
    if r == 31 {
        0
    } else {
        c.regs[r as usize]
    }
}

struct Ops {
    rd: u32,
    rn: u32,
    rm: u32,
    size: u32,
    u: bool,
    q: bool,
    scalar: bool,
}

fn ops(raw: u64) -> Ops {
    Ops {
        rd: f(raw, 0, 5),
        rn: f(raw, 5, 5),
        rm: f(raw, 16, 5),
        size: f(raw, 22, 2),
        u: f(raw, 29, 1) == 1,
        q: f(raw, 30, 1) == 1,
        scalar: f(raw, 28, 1) == 1,
    }
}

/// Saturate a wide result to `esz` bits; sets QC when it had to.
fn sat(c: &mut Aarch64Cpu, v: i128, esz: u32, unsigned: bool) -> u64 {
    let (lo, hi) =
        if unsigned { (0i128, (1i128 << esz) - 1) } else { (-(1i128 << (esz - 1)), (1i128 << (esz - 1)) - 1) };
    if v < lo || v > hi {
        c.fpsr |= u64::from(QC);
    }
    (v.clamp(lo, hi) as u64) & mask(esz)
}

/// One lane of the three-same integer operations; `None` for unimplemented opcodes.
fn lane3(c: &mut Aarch64Cpu, opc: u32, u: bool, esz: u32, a: u64, b: u64, d: u64) -> Option<u64> {
    let (sa, sb) = (i128::from(sx(a, esz)), i128::from(sx(b, esz)));
    let (ua, ub) = (i128::from(a), i128::from(b));
    let (x, y) = if u { (ua, ub) } else { (sa, sb) };
    let all = mask(esz);
    let t = |b: bool| if b { all } else { 0 };
    Some(
        match opc {
            0b00000 => ((x + y) >> 1) as u64,
            0b00010 => ((x + y + 1) >> 1) as u64,
            0b00100 => ((x - y) >> 1) as u64,
            0b00001 => sat(c, x + y, esz, u),
            0b00101 => sat(c, x - y, esz, u),
            0b00110 => t(x > y),
            0b00111 => t(x >= y),
            0b01000..=0b01011 => {
                // SSHL/USHL, SQSHL/UQSHL, SRSHL/URSHL, SQRSHL/UQRSHL: by the signed low byte of b.
                let (saturate, round) = (opc & 1 == 1, opc & 2 != 0);
                let sh = i32::from(b as u8 as i8);
                if sh >= 0 {
                    let s = sh as u32;
                    if saturate {
                        if x == 0 {
                            0
                        } else if s >= esz {
                            sat(c, if x < 0 { i128::MIN } else { i128::MAX }, esz, u)
                        } else {
                            sat(c, x << s, esz, u)
                        }
                    } else if s >= esz {
                        0
                    } else {
                        a << s
                    }
                } else {
                    let r = ((-sh) as u32).min(esz + 1);
                    let v = (x + if round { 1i128 << (r - 1) } else { 0 }) >> r;
                    if saturate {
                        sat(c, v, esz, u)
                    } else {
                        v as u64
                    }
                }
            }
            0b10110 => {
                // SQDMULH / SQRDMULH.
                let p = 2 * sa * sb + if u { 1i128 << (esz - 1) } else { 0 };
                sat(c, p >> esz, esz, false)
            }
            0b01100 => x.max(y) as u64,
            0b01101 => x.min(y) as u64,
            0b01110 => (x - y).unsigned_abs() as u64,
            0b01111 => d.wrapping_add((x - y).unsigned_abs() as u64),
            0b10000 if !u => a.wrapping_add(b),
            0b10000 => a.wrapping_sub(b),
            0b10001 if !u => t(a & b != 0),
            0b10001 => t(a == b),
            0b10010 if !u => d.wrapping_add(a.wrapping_mul(b)),
            0b10010 => d.wrapping_sub(a.wrapping_mul(b)),
            0b10011 if !u => a.wrapping_mul(b),
            0b10011 => {
                // PMUL: carry-less product of bytes.
                let mut r = 0u64;
                for i in 0..esz {
                    if b >> i & 1 == 1 {
                        r ^= a << i;
                    }
                }
                r
            }
            _ => return None,
        } & all,
    )
}

/// Three registers, same type (vector and scalar), including the bitwise operations.
pub fn three_same(e: E, raw: u64, _: u64, _: u64) -> Res {
    three_same_with(e, raw, None)
}

/// Three-same with the second operand `m` given (the by-element forms) instead of read from Vm.
fn three_same_with(e: E, raw: u64, given: Option<u128>) -> Res {
    let o = ops(raw);
    let opc = f(raw, 11, 5);
    let c = &mut *e.cpu;
    let (n, d) = (c.v(o.rn as usize), c.v(o.rd as usize));
    let m = given.unwrap_or_else(|| c.v(o.rm as usize));
    let bits = if o.q { 128 } else { 64 };
    if opc == 0b00011 && !o.scalar {
        let r = match (o.u, o.size) {
            (false, 0) => n & m,
            (false, 1) => n & !m,
            (false, 2) => n | m,
            (false, _) => n | !m,
            (true, 0) => n ^ m,
            (true, 1) => (d & n) | (!d & m),
            (true, 2) => (m & n) | (!m & d),
            (true, _) => (!m & n) | (m & d),
        };
        put(c, o.rd, r, bits);
        return Ok(0);
    }
    if opc >= 0b11000 {
        return fp::vec_three_same(e, raw, given);
    }
    // Sizes each opcode allows: SQDMULH only H/S, MUL no D, PMUL only B; D lanes only for the
    // saturating, compare, shift and add/sub ones (and ADDP).
    let d_ok = matches!(opc, 0b00001 | 0b00101 | 0b00110 | 0b00111 | 0b01000..=0b01011 | 0b10000 | 0b10001 | 0b10111);
    if (opc == 0b10110 && !matches!(o.size, 1 | 2))
        || (opc == 0b10011 && (o.size == 3 || (o.u && o.size != 0)))
        || (opc == 0b10111 && o.u)
        || (o.size == 3 && !d_ok)
    {
        return undef(e, raw);
    }
    // The scalar forms: saturating ones at every size, SQDMULH on H/S, the others on D only.
    if o.scalar
        && !(matches!(opc, 0b00001 | 0b00101 | 0b01001 | 0b01011 | 0b10110)
            || (o.size == 3 && matches!(opc, 0b00110 | 0b00111 | 0b01000 | 0b01010 | 0b10000 | 0b10001)))
    {
        return undef(e, raw);
    }
    let esz = 8 << o.size;
    if o.scalar {
        let Some(r) = lane3(c, opc, o.u, esz, elem(n, 0, esz), elem(m, 0, esz), 0) else { return undef(e, raw) };
        put(c, o.rd, u128::from(r), esz);
        return Ok(0);
    }
    if o.size == 3 && !o.q {
        return undef(e, raw);
    }
    let lanes = bits / esz;
    let mut r = 0u128;
    if matches!(opc, 0b10100 | 0b10101 | 0b10111) {
        // Pairwise: over the concatenation n:m.
        let pop = match opc {
            0b10100 => 0b01100,
            0b10101 => 0b01101,
            0b10111 if !o.u => 0b10000,
            _ => return undef(e, raw),
        };
        for i in 0..lanes {
            let src = if i < lanes / 2 { n } else { m };
            let j = (i % (lanes / 2)) * 2;
            let Some(x) = lane3(c, pop, o.u && pop != 0b10000, esz, elem(src, j, esz), elem(src, j + 1, esz), 0) else {
                return undef(e, raw);
            };
            set_elem(&mut r, i, esz, x);
        }
    } else {
        for i in 0..lanes {
            let Some(x) = lane3(c, opc, o.u, esz, elem(n, i, esz), elem(m, i, esz), elem(d, i, esz)) else {
                return undef(e, raw);
            };
            set_elem(&mut r, i, esz, x);
        }
    }
    put(c, o.rd, r, bits);
    Ok(0)
}

/// Three registers, different types: widening (L, W), narrowing (HN) and long multiplies.
pub fn three_diff(e: E, raw: u64, _: u64, _: u64) -> Res {
    three_diff_with(e, raw, None)
}

/// Three-different with the second operand `m` given (the by-element forms).
fn three_diff_with(e: E, raw: u64, m_given: Option<u128>) -> Res {
    let o = ops(raw);
    let opc = f(raw, 12, 4);
    // The scalar forms: SQDMLAL, SQDMLSL, SQDMULL on H and S.
    if o.scalar && (o.u || !matches!(opc, 0b1001 | 0b1011 | 0b1101) || !matches!(o.size, 1 | 2)) {
        return undef(e, raw);
    }
    if o.size == 3 {
        if opc == 0b1110 && !o.u && m_given.is_none() && e.cpu.features.aes {
            // PMULL (1Q): 64 x 64 -> 128 carry-less; FEAT_PMULL, which comes with FEAT_AES.
            let half = u32::from(o.q);
            let (x, y) = (elem(e.cpu.v(o.rn as usize), half, 64), elem(e.cpu.v(o.rm as usize), half, 64));
            let mut r = 0u128;
            for k in 0..64 {
                if y >> k & 1 == 1 {
                    r ^= u128::from(x) << k;
                }
            }
            put(e.cpu, o.rd, r, 128);
            return Ok(0);
        }
        return undef(e, raw);
    }
    let c = &mut *e.cpu;
    let (n, d) = (c.v(o.rn as usize), c.v(o.rd as usize));
    let m = m_given.unwrap_or_else(|| c.v(o.rm as usize));
    let esz = 8 << o.size;
    let wsz = 2 * esz;
    let half = if o.q && !o.scalar { 64 / esz } else { 0 };
    let count = if o.scalar { 1 } else { 64 / esz };
    let ext = |v: u64| -> i128 {
        if o.u {
            i128::from(v)
        } else {
            i128::from(sx(v, esz))
        }
    };
    let mut r = 0u128;
    match opc {
        0b0100 | 0b0110 => {
            // ADDHN/SUBHN (R: rounding): high halves of wide sums into the narrow lanes.
            let round = if o.u { 1u64 << (esz - 1) } else { 0 };
            let mut out = if o.q { d & u128::from(u64::MAX) } else { 0 };
            for i in 0..64 / esz {
                let (a, b) = (elem(n, i, wsz), elem(m, i, wsz));
                let s = if opc == 0b0100 { a.wrapping_add(b) } else { a.wrapping_sub(b) };
                set_elem(&mut out, i + half, esz, s.wrapping_add(round) >> esz);
            }
            put(c, o.rd, out, 128);
            return Ok(0);
        }
        _ => {}
    }
    for i in 0..count {
        let b = ext(elem(m, i + half, esz));
        let a_narrow = ext(elem(n, i + half, esz));
        let a_wide = if o.u { i128::from(elem(n, i, wsz)) } else { i128::from(sx(elem(n, i, wsz), wsz)) };
        let acc = i128::from(elem(d, i, wsz));
        let x: i128 = match opc {
            0b0000 => a_narrow + b,
            0b0001 => a_wide + b,
            0b0010 => a_narrow - b,
            0b0011 => a_wide - b,
            0b0101 => acc + (a_narrow - b).abs(),
            0b0111 => (a_narrow - b).abs(),
            0b1000 => acc + a_narrow * b,
            0b1010 => acc - a_narrow * b,
            0b1100 => a_narrow * b,
            0b1001 | 0b1011 | 0b1101 if !o.u && matches!(o.size, 1 | 2) => {
                // SQDMLAL, SQDMLSL, SQDMULL: doubled product saturated, then accumulated.
                let p = i128::from(sx(sat(c, 2 * a_narrow * b, wsz, false), wsz));
                let acc = i128::from(sx(elem(d, i, wsz), wsz));
                match opc {
                    0b1001 => i128::from(sx(sat(c, acc + p, wsz, false), wsz)),
                    0b1011 => i128::from(sx(sat(c, acc - p, wsz, false), wsz)),
                    _ => p,
                }
            }
            0b1110 if !o.u && o.size == 0 => {
                // PMULL (8H): carry-less byte products.
                let (x, y) = (elem(n, i + half, 8), elem(m, i + half, 8));
                let mut r = 0i128;
                for k in 0..8 {
                    if y >> k & 1 == 1 {
                        r ^= i128::from(x << k);
                    }
                }
                r
            }
            _ => return undef(e, raw),
        };
        set_elem(&mut r, i, wsz, x as u64);
    }
    put(c, o.rd, r, if o.scalar { wsz } else { 128 });
    Ok(0)
}

/// Two-register miscellaneous (vector and scalar).
pub fn two_misc(e: E, raw: u64, _: u64, _: u64) -> Res {
    let o = ops(raw);
    let opc = f(raw, 12, 5);
    if opc >= 0b01100 && !(0b10010..=0b10100).contains(&opc) {
        return fp::vec_two_misc(e, raw);
    }
    let c = &mut *e.cpu;
    let n = c.v(o.rn as usize);
    let d = c.v(o.rd as usize);
    let esz = 8 << o.size;
    let bits = if o.scalar {
        esz
    } else if o.q {
        128
    } else {
        64
    };
    if !o.scalar && o.size == 3 && !o.q && !matches!(opc, 0b10010 | 0b10100) {
        return undef(e, raw);
    }
    // Scalar: compares with zero and ABS/NEG only on D.
    if o.scalar && matches!(opc, 0b01000..=0b01011) && o.size != 3 {
        return undef(e, raw);
    }
    let lanes = (bits / esz).max(1);
    let all = mask(esz);
    let t = |b: bool| if b { all } else { 0 };
    let mut r = 0u128;
    match (opc, o.u) {
        (0b00000 | 0b00001, _) => {
            // REV64 / REV32 / REV16: reverse esz-bit elements within containers.
            let cont = match (opc, o.u) {
                (0, false) => 64,
                (0, true) => 32,
                _ => 16,
            };
            if esz >= cont || o.scalar {
                return undef(e, raw);
            }
            let per = cont / esz;
            for i in 0..lanes {
                let j = (i / per) * per + (per - 1 - i % per);
                set_elem(&mut r, i, esz, elem(n, j, esz));
            }
        }
        (0b00101, false) if o.size == 0 && !o.scalar => {
            for i in 0..lanes {
                set_elem(&mut r, i, 8, u64::from(elem(n, i, 8).count_ones()));
            }
        }
        (0b00101, true) if o.size == 0 && !o.scalar => r = !n,
        (0b00101, true) if o.size == 1 && !o.scalar => {
            for i in 0..lanes * 2 {
                set_elem(&mut r, i, 8, u64::from((elem(n, i, 8) as u8).reverse_bits()));
            }
        }
        (0b00100, _) if o.size != 3 && !o.scalar => {
            for i in 0..lanes {
                let x = elem(n, i, esz);
                let v = if o.u {
                    u64::from(x.leading_zeros()) - u64::from(64 - esz)
                } else {
                    let s = sx(x, esz);
                    let y = if s < 0 { !s as u64 } else { s as u64 };
                    u64::from(y.leading_zeros()) - u64::from(64 - esz) - 1
                };
                set_elem(&mut r, i, esz, v);
            }
        }
        (0b00011 | 0b00111, _) => {
            // SUQADD/USQADD (accumulate into Vd), SQABS/SQNEG.
            for i in 0..lanes {
                let x = elem(n, i, esz);
                let acc = elem(d, i, esz);
                let v = match (opc, o.u) {
                    (0b00011, false) => sat(c, i128::from(sx(acc, esz)) + i128::from(x), esz, false),
                    (0b00011, true) => sat(c, i128::from(acc) + i128::from(sx(x, esz)), esz, true),
                    (_, false) => sat(c, i128::from(sx(x, esz)).abs(), esz, false),
                    (_, true) => sat(c, -i128::from(sx(x, esz)), esz, false),
                };
                set_elem(&mut r, i, esz, v);
            }
        }
        (0b01000..=0b01011, _) => {
            for i in 0..lanes {
                let x = sx(elem(n, i, esz), esz);
                let v = match (opc, o.u) {
                    (0b01000, false) => t(x > 0),
                    (0b01000, true) => t(x >= 0),
                    (0b01001, false) => t(x == 0),
                    (0b01001, true) => t(x <= 0),
                    (0b01010, false) => t(x < 0),
                    (0b01011, false) => x.unsigned_abs(),
                    (0b01011, true) => x.wrapping_neg() as u64,
                    _ => return undef(e, raw),
                };
                set_elem(&mut r, i, esz, v);
            }
        }
        (0b00010 | 0b00110, _) if !o.scalar && o.size != 3 => {
            // SADDLP/UADDLP, SADALP/UADALP.
            let wsz = 2 * esz;
            for i in 0..lanes / 2 {
                let (a, b) = (elem(n, 2 * i, esz), elem(n, 2 * i + 1, esz));
                let s = if o.u { a.wrapping_add(b) } else { sx(a, esz).wrapping_add(sx(b, esz)) as u64 };
                let acc = if opc == 0b00110 { elem(d, i, wsz) } else { 0 };
                set_elem(&mut r, i, wsz, s.wrapping_add(acc));
            }
        }
        (0b10010, false) if !o.scalar && o.size != 3 => {
            // XTN / XTN2.
            let mut out = if o.q { d & u128::from(u64::MAX) } else { 0 };
            let half = if o.q { 64 / esz } else { 0 };
            for i in 0..64 / esz {
                set_elem(&mut out, i + half, esz, elem(n, i, 2 * esz));
            }
            put(c, o.rd, out, 128);
            return Ok(0);
        }
        (0b10010, true) | (0b10100, _) if o.size != 3 => {
            // SQXTUN, SQXTN, UQXTN (vector and scalar).
            let count = if o.scalar { 1 } else { 64 / esz };
            let mut out = if o.q && !o.scalar { d & u128::from(u64::MAX) } else { 0 };
            let half = if o.q && !o.scalar { 64 / esz } else { 0 };
            for i in 0..count {
                let w = elem(n, i, 2 * esz);
                let v = match (opc, o.u) {
                    (0b10010, _) => sat(c, i128::from(sx(w, 2 * esz)), esz, true),
                    (_, false) => sat(c, i128::from(sx(w, 2 * esz)), esz, false),
                    (_, true) => sat(c, i128::from(w), esz, true),
                };
                set_elem(&mut out, i + half, esz, v);
            }
            put(c, o.rd, out, 128);
            return Ok(0);
        }
        (0b10011, true) if !o.scalar && o.size != 3 => {
            // SHLL/SHLL2: the lower or upper half's lanes widened and shifted by their width.
            let half = if o.q { 64 / esz } else { 0 };
            for i in 0..64 / esz {
                set_elem(&mut r, i, 2 * esz, elem(n, i + half, esz) << esz);
            }
            put(c, o.rd, r, 128);
            return Ok(0);
        }
        _ => return undef(e, raw),
    }
    put(c, o.rd, r, bits);
    Ok(0)
}

/// Across lanes: ADDV, S/UMAXV, S/UMINV, S/UADDLV.
pub fn across(e: E, raw: u64, _: u64, _: u64) -> Res {
    let o = ops(raw);
    let opc = f(raw, 12, 5);
    let esz = 8 << o.size;
    if matches!(opc, 0b01100 | 0b01111) {
        return fp::vec_across(e, raw);
    }
    if o.size == 3 || (o.size == 2 && !o.q) {
        return undef(e, raw);
    }
    let c = &mut *e.cpu;
    let n = c.v(o.rn as usize);
    let lanes = if o.q { 128 } else { 64 } / esz;
    let xs: Vec<i128> = (0..lanes)
        .map(|i| if o.u { i128::from(elem(n, i, esz)) } else { i128::from(sx(elem(n, i, esz), esz)) })
        .collect();
    let (v, osz) = match opc {
        0b11011 if !o.u => (xs.iter().sum::<i128>(), esz),
        0b00011 => (xs.iter().sum::<i128>(), 2 * esz),
        0b01010 => (*xs.iter().max().unwrap_or(&0), esz),
        0b11010 => (*xs.iter().min().unwrap_or(&0), esz),
        _ => return undef(e, raw),
    };
    put(c, o.rd, u128::from(v as u64 & mask(osz)), osz);
    Ok(0)
}

/// ADDP (scalar): the sum of the two D lanes.
pub fn scalar_pair(e: E, raw: u64, _: u64, _: u64) -> Res {
    let o = ops(raw);
    let opc = f(raw, 12, 5);
    if opc != 0b11011 || o.u || o.size != 3 {
        return fp::scalar_pair_fp(e, raw);
    }
    let n = e.cpu.v(o.rn as usize);
    let r = elem(n, 0, 64).wrapping_add(elem(n, 1, 64));
    put(e.cpu, o.rd, u128::from(r), 64);
    Ok(0)
}

/// DUP, INS, UMOV, SMOV (vector) and DUP (element, scalar).
pub fn copy(e: E, raw: u64, _: u64, _: u64) -> Res {
    let o = ops(raw);
    let imm5 = f(raw, 16, 5);
    let imm4 = f(raw, 11, 4);
    let op = o.u;
    let size = imm5.trailing_zeros();
    if size > 3 {
        return undef(e, raw);
    }
    let esz = 8 << size;
    let idx = imm5 >> (size + 1);
    let c = &mut *e.cpu;
    let n = c.v(o.rn as usize);
    let bits = if o.q { 128 } else { 64 };
    if o.scalar {
        put(c, o.rd, u128::from(elem(n, idx, esz)), esz);
        return Ok(0);
    }
    match (op, imm4) {
        (false, 0b0000) | (false, 0b0001) => {
            if size == 3 && !o.q {
                return undef(e, raw);
            }
            let x = if imm4 == 0 { elem(n, idx, esz) } else { getx(c, o.rn) & mask(esz) };
            let mut r = 0u128;
            for i in 0..bits / esz {
                set_elem(&mut r, i, esz, x);
            }
            put(c, o.rd, r, bits);
        }
        (false, 0b0011) if o.q => {
            let mut d = c.v(o.rd as usize);
            set_elem(&mut d, idx, esz, getx(c, o.rn));
            c.set_v(o.rd as usize, d);
        }
        (false, 0b0101) => {
            // SMOV: to W (Q=0, sizes B/H) or X (Q=1, sizes B/H/S).
            if size >= 2 + u32::from(o.q) {
                return undef(e, raw);
            }
            let v = sx(elem(n, idx, esz), esz) as u64;
            setx(c, o.rd, if o.q { v } else { v & 0xffff_ffff });
        }
        (false, 0b0111) => {
            // UMOV: to W (sizes B/H/S) or X (size D only).
            if o.q != (size == 3) {
                return undef(e, raw);
            }
            setx(c, o.rd, elem(n, idx, esz));
        }
        (true, _) if o.q => {
            let src = imm4 >> size;
            let mut d = c.v(o.rd as usize);
            set_elem(&mut d, idx, esz, elem(n, src, esz));
            c.set_v(o.rd as usize, d);
        }
        _ => return undef(e, raw),
    }
    Ok(0)
}

/// AdvSIMDExpandImm.
fn expand_imm(op: bool, cmode: u32, imm8: u64) -> Option<u64> {
    let rep32 = |x: u64| x | x << 32;
    let rep16 = |x: u64| x | x << 16 | x << 32 | x << 48;
    Some(match cmode >> 1 {
        0 => rep32(imm8),
        1 => rep32(imm8 << 8),
        2 => rep32(imm8 << 16),
        3 => rep32(imm8 << 24),
        4 => rep16(imm8),
        5 => rep16(imm8 << 8),
        6 if cmode & 1 == 0 => rep32(imm8 << 8 | 0xff),
        6 => rep32(imm8 << 16 | 0xffff),
        _ if cmode & 1 == 0 && !op => imm8 * 0x0101_0101_0101_0101,
        _ if cmode & 1 == 0 => (0..8).fold(0, |acc, i| acc | if imm8 >> i & 1 == 1 { 0xff << (8 * i) } else { 0 }),
        _ if !op => rep32(fa::expand_imm(Prec::S, imm8 as u32)),
        _ => fa::expand_imm(Prec::D, imm8 as u32),
    })
}

/// MOVI, MVNI, ORR, BIC (vector, immediate) and FMOV (vector, immediate).
pub fn modimm(e: E, raw: u64, _: u64, _: u64) -> Res {
    let o = ops(raw);
    let cmode = f(raw, 12, 4);
    let imm8 = u64::from(f(raw, 16, 3) << 5 | f(raw, 5, 5));
    let op = o.u;
    if cmode == 0b1111 && op && !o.q {
        return undef(e, raw);
    }
    let Some(imm) = expand_imm(op, cmode, imm8) else { return undef(e, raw) };
    let imm128 = u128::from(imm) | u128::from(imm) << 64;
    let bits = if o.q { 128 } else { 64 };
    let c = &mut *e.cpu;
    let d = c.v(o.rd as usize);
    let orr_bic = cmode < 0b1100 && cmode & 1 == 1;
    let r = match (orr_bic, op) {
        (true, false) => d | imm128,
        (true, true) => d & !imm128,
        // MVNI: shifted 32/16-bit and MSL forms with op set.
        (false, true) if cmode < 0b1110 => !imm128,
        (false, _) => imm128,
    };
    put(c, o.rd, r, bits);
    Ok(0)
}

fn rshift(x: i128, sh: u32, round: bool) -> i128 {
    let r = if round && sh > 0 { 1i128 << (sh - 1) } else { 0 };
    (x + r) >> sh
}

/// Shift by immediate (vector and scalar).
pub fn shift(e: E, raw: u64, _: u64, _: u64) -> Res {
    let o = ops(raw);
    let immh = f(raw, 19, 4);
    let immhb = f(raw, 16, 7);
    let opc = f(raw, 11, 5);
    if immh == 0 {
        return undef(e, raw);
    }
    if opc >= 0b11100 {
        return fp::vec_fixed(e, raw);
    }
    let lg = 31 - immh.leading_zeros();
    let esz = 8 << lg;
    let narrow = matches!(opc, 0b10000..=0b10011);
    let long = opc == 0b10100;
    // Scalar: the narrowing forms exist for B/H/S results, the saturating left shift for every
    // size, the rest only on D; SHRN/RSHRN and the long forms have no scalar encoding.
    if o.scalar {
        let ok = match opc {
            0b10000 | 0b10001 => o.u,
            0b10010 | 0b10011 => true,
            0b01110 => true,
            0b01100 => o.u,
            0b10100 => false,
            _ => lg == 3,
        };
        if !ok {
            return undef(e, raw);
        }
    }
    if (narrow || long) && lg == 3 {
        return undef(e, raw);
    }
    if !o.scalar && !narrow && !long && lg == 3 && !o.q {
        return undef(e, raw);
    }
    let rsh = 2 * esz - immhb;
    let lsh = immhb - esz;
    let c = &mut *e.cpu;
    let n = c.v(o.rn as usize);
    let d = c.v(o.rd as usize);
    let bits = if o.scalar {
        esz
    } else if o.q {
        128
    } else {
        64
    };
    let lanes = (bits / esz).max(1);
    let ext = |x: u64, w: u32| -> i128 {
        if o.u {
            i128::from(x)
        } else {
            i128::from(sx(x, w))
        }
    };
    if narrow {
        // SHRN, RSHRN, SQSHRUN, SQRSHRUN, SQSHRN, UQSHRN, ...: from 2*esz lanes.
        let round = opc & 1 == 1;
        let count = if o.scalar { 1 } else { 64 / esz };
        let half = if o.q && !o.scalar { 64 / esz } else { 0 };
        let mut out = if o.q && !o.scalar { d & u128::from(u64::MAX) } else { 0 };
        for i in 0..count {
            let w = elem(n, i, 2 * esz);
            let v = match (opc >> 1, o.u) {
                (0b1000, false) => (rshift(i128::from(w), rsh, round) as u64) & mask(esz),
                (0b1000, true) => sat(c, rshift(i128::from(sx(w, 2 * esz)), rsh, round), esz, true),
                (_, u) => {
                    let x = if u { i128::from(w) } else { i128::from(sx(w, 2 * esz)) };
                    sat(c, rshift(x, rsh, round), esz, u)
                }
            };
            set_elem(&mut out, i + half, esz, v);
        }
        put(c, o.rd, out, if o.scalar { esz } else { 128 });
        return Ok(0);
    }
    if long {
        // SSHLL/USHLL (SXTL/UXTL): from the lower or upper half.
        let half = if o.q { 64 / esz } else { 0 };
        let mut r = 0u128;
        for i in 0..64 / esz {
            let x = ext(elem(n, i + half, esz), esz);
            set_elem(&mut r, i, 2 * esz, (x << lsh) as u64);
        }
        put(c, o.rd, r, 128);
        return Ok(0);
    }
    let mut r = 0u128;
    for i in 0..lanes {
        let x = elem(n, i, esz);
        let acc = elem(d, i, esz);
        let v = match opc {
            0b00000 | 0b00100 => rshift(ext(x, esz), rsh, opc == 0b00100) as u64,
            0b00010 | 0b00110 => acc.wrapping_add(rshift(ext(x, esz), rsh, opc == 0b00110) as u64),
            0b01010 if !o.u => x << lsh,
            0b01010 => {
                // SLI: keep the destination's low `lsh` bits.
                (x << lsh) | (acc & mask(lsh))
            }
            0b01000 if o.u => {
                // SRI: keep the destination's top `rsh` bits.
                let keep = if rsh >= esz { mask(esz) } else { !(mask(esz) >> rsh) };
                (if rsh >= esz { 0 } else { x >> rsh }) | (acc & keep)
            }
            0b01110 => sat(c, ext(x, esz) << lsh, esz, o.u),
            0b01100 if o.u => sat(c, i128::from(sx(x, esz)) << lsh, esz, true),
            _ => return undef(e, raw),
        };
        set_elem(&mut r, i, esz, v & mask(esz));
    }
    put(c, o.rd, r, bits);
    Ok(0)
}

/// EXT: bytes of Vm:Vn from byte `imm4`.
pub fn ext(e: E, raw: u64, _: u64, _: u64) -> Res {
    let o = ops(raw);
    let pos = f(raw, 11, 4);
    let bytes = if o.q { 16 } else { 8 };
    if pos >= bytes {
        return undef(e, raw);
    }
    let c = &mut *e.cpu;
    let (n, m) = (c.v(o.rn as usize), c.v(o.rm as usize));
    let mut r = 0u128;
    for i in 0..bytes {
        let j = i + pos;
        let b = if j < bytes { elem(n, j, 8) } else { elem(m, j - bytes, 8) };
        set_elem(&mut r, i, 8, b);
    }
    put(c, o.rd, r, bytes * 8);
    Ok(0)
}

/// UZP1/2, TRN1/2, ZIP1/2.
pub fn perm(e: E, raw: u64, _: u64, _: u64) -> Res {
    let o = ops(raw);
    let opc = f(raw, 12, 3);
    let esz = 8 << o.size;
    if opc & 3 == 0 || (o.size == 3 && !o.q) {
        return undef(e, raw);
    }
    let bits = if o.q { 128 } else { 64 };
    let lanes = bits / esz;
    let part = opc >> 2;
    let c = &mut *e.cpu;
    let (n, m) = (c.v(o.rn as usize), c.v(o.rm as usize));
    let cat = |i: u32| if i < lanes { elem(n, i, esz) } else { elem(m, i - lanes, esz) };
    let mut r = 0u128;
    for i in 0..lanes {
        let v = match opc & 3 {
            1 => cat(2 * i + part),
            2 => {
                let src = if i % 2 == 0 { n } else { m };
                elem(src, (i & !1) + part, esz)
            }
            _ => {
                let src = if i % 2 == 0 { n } else { m };
                elem(src, part * lanes / 2 + i / 2, esz)
            }
        };
        set_elem(&mut r, i, esz, v);
    }
    put(c, o.rd, r, bits);
    Ok(0)
}

/// TBL/TBX.
pub fn tbl(e: E, raw: u64, _: u64, _: u64) -> Res {
    let o = ops(raw);
    let len = f(raw, 13, 2) + 1;
    let tbx = f(raw, 12, 1) == 1;
    let c = &mut *e.cpu;
    let table: Vec<u128> = (0..len).map(|i| c.v(((o.rn + i) % 32) as usize)).collect();
    let idx = c.v(o.rm as usize);
    let d = c.v(o.rd as usize);
    let bytes = if o.q { 16 } else { 8 };
    let mut r = 0u128;
    for i in 0..bytes {
        let k = elem(idx, i, 8) as u32;
        let v = if k < 16 * len {
            elem(table[(k / 16) as usize], k % 16, 8)
        } else if tbx {
            elem(d, i, 8)
        } else {
            0
        };
        set_elem(&mut r, i, 8, v);
    }
    put(c, o.rd, r, bytes * 8);
    Ok(0)
}

fn load(e: E, addr: u64, bytes: u32) -> Res {
    let sz = match bytes {
        1 => Size::B1,
        2 => Size::B2,
        4 => Size::B4,
        _ => Size::B8,
    };
    e.cpu.load_data(e.bus, addr, MemOp::new(sz, false))
}

fn store(e: E, addr: u64, bytes: u32, v: u64) -> Result<(), Exit> {
    let sz = match bytes {
        1 => Size::B1,
        2 => Size::B2,
        4 => Size::B4,
        _ => Size::B8,
    };
    e.cpu.store_data(e.bus, addr, v, MemOp::new(sz, false))
}

fn base_reg(c: &Aarch64Cpu, rn: u32) -> u64 {
    c.regs[rn as usize]
}

/// Post-index write-back: Rm 31 adds the bytes moved, else X[Rm].
fn writeback(c: &mut Aarch64Cpu, raw: u64, base: u64, moved: u64) {
    if f(raw, 23, 1) == 1 {
        let rm = f(raw, 16, 5);
        let off = if rm == 31 { moved } else { c.regs[rm as usize] };
        c.regs[f(raw, 5, 5) as usize] = base.wrapping_add(off);
    }
}

/// LD2-LD4/ST2-ST4 (multiple structures): interleaved elements.
pub fn ldst_multiple(e: E, raw: u64, _: u64, _: u64) -> Res {
    let o = ops(raw);
    let size = f(raw, 10, 2);
    let load_ = f(raw, 22, 1) == 1;
    let selem = match f(raw, 12, 4) {
        0b1000 => 2,
        0b0100 => 3,
        _ => 4,
    };
    if size == 3 && !o.q {
        return undef(e, raw);
    }
    let esz = 8 << size;
    let bits = if o.q { 128 } else { 64 };
    let lanes = bits / esz;
    let rt = o.rd;
    let base = base_reg(e.cpu, o.rn);
    let mut regs: Vec<u128> = (0..selem).map(|s| e.cpu.v(((rt + s) % 32) as usize)).collect();
    let mut addr = base;
    for i in 0..lanes {
        for (s, reg) in regs.iter_mut().enumerate() {
            if load_ {
                let v = load(e, addr, esz / 8)?;
                set_elem(reg, i, esz, v);
            } else {
                store(e, addr, esz / 8, elem(*reg, i, esz))?;
            }
            let _ = s;
            addr = addr.wrapping_add(u64::from(esz / 8));
        }
    }
    if load_ {
        for (s, reg) in regs.into_iter().enumerate() {
            put(e.cpu, (rt + s as u32) % 32, reg, bits);
        }
    }
    writeback(e.cpu, raw, base, addr.wrapping_sub(base));
    Ok(0)
}

/// LD1-LD4/ST1-ST4 (single structure) and LD1R-LD4R.
pub fn ldst_single(e: E, raw: u64, _: u64, _: u64) -> Res {
    let o = ops(raw);
    let load_ = f(raw, 22, 1) == 1;
    let r = f(raw, 21, 1);
    let opcode = f(raw, 13, 3);
    let s = f(raw, 12, 1);
    let size = f(raw, 10, 2);
    let selem = ((opcode & 1) << 1 | r) + 1;
    let q = u32::from(o.q);
    let (esz, index, replicate) = match opcode >> 1 {
        0 => (8, q << 3 | s << 2 | size, false),
        1 if size & 1 == 0 => (16, q << 2 | s << 1 | size >> 1, false),
        2 if size == 0 => (32, q << 1 | s, false),
        2 if size == 1 && s == 0 => (64, q, false),
        3 if load_ && s == 0 => (8 << size, 0, true),
        _ => return undef(e, raw),
    };
    let rt = o.rd;
    let base = base_reg(e.cpu, o.rn);
    let bits = if o.q { 128 } else { 64 };
    let mut addr = base;
    let mut vals = Vec::new();
    for k in 0..selem {
        let reg = (rt + k) % 32;
        if load_ {
            vals.push((reg, load(e, addr, esz / 8)?));
        } else {
            let v = elem(e.cpu.v(reg as usize), index, esz);
            store(e, addr, esz / 8, v)?;
        }
        addr = addr.wrapping_add(u64::from(esz / 8));
    }
    for (reg, v) in vals {
        if replicate {
            let mut x = 0u128;
            for i in 0..bits / esz {
                set_elem(&mut x, i, esz, v);
            }
            put(e.cpu, reg, x, bits);
        } else {
            let mut x = e.cpu.v(reg as usize);
            set_elem(&mut x, index, esz, v);
            e.cpu.set_v(reg as usize, x);
        }
    }
    writeback(e.cpu, raw, base, addr.wrapping_sub(base));
    Ok(0)
}

/// Vector (and scalar) x indexed element: MUL, MLA, MLS, S/UMULL, S/UMLAL, S/UMLSL, SQDMULL,
/// SQDMLAL, SQDMLSL, SQDMULH, SQRDMULH, FMUL, FMULX, FMLA, FMLS. Each is its three-same or
/// three-different counterpart with Vm replaced by the element replicated.
pub fn by_elem(e: E, raw: u64, _: u64, _: u64) -> Res {
    let o = ops(raw);
    let (l, mbit, rm4, opc, h) = (f(raw, 21, 1), f(raw, 20, 1), f(raw, 16, 4), f(raw, 12, 4), f(raw, 11, 1));
    let fp_op = match (opc, o.u) {
        (0b0001, false) => Some((0b11001u32, false, false)),
        (0b0101, false) => Some((0b11001, false, true)),
        // By element FMUL is U=0 and FMULX U=1; in three-same it is the other way round.
        (0b1001, false) => Some((0b11011, true, false)),
        (0b1001, true) => Some((0b11011, false, false)),
        _ => None,
    };
    // The synthesized three-same/three-different word keeps Q, the scalar bits, Rn and Rd.
    let keep = raw & (0xc000_0000 | 1 << 28 | 0x3ff);
    if let Some((op3, u, a)) = fp_op {
        if o.size < 2 {
            return undef(e, raw);
        }
        let sz = o.size & 1;
        if sz == 1 && (l == 1 || (!o.q && !o.scalar)) {
            return undef(e, raw);
        }
        let (esz, index) = if sz == 0 { (32, h << 1 | l) } else { (64, h) };
        let x = elem(e.cpu.v((mbit << 4 | rm4) as usize), index, esz);
        let mut rep = 0u128;
        for i in 0..128 / esz {
            set_elem(&mut rep, i, esz, x);
        }
        let word =
            keep | u64::from(u) << 29 | 0x0e20_0400 | u64::from(a) << 23 | u64::from(sz) << 22 | u64::from(op3) << 11;
        return three_same_with(e, word, Some(rep));
    }
    let (rm, index) = match o.size {
        1 => (rm4, h << 2 | l << 1 | mbit),
        2 => (mbit << 4 | rm4, h << 1 | l),
        _ => return undef(e, raw),
    };
    let esz = 8 << o.size;
    let x = elem(e.cpu.v(rm as usize), index, esz);
    let mut rep = 0u128;
    for i in 0..128 / esz {
        set_elem(&mut rep, i, esz, x);
    }
    let size = u64::from(o.size) << 22;
    // Same-width forms as three-same, long forms as three-different.
    let same = match (opc, o.u) {
        (0b1000, false) => Some((0b10011u32, false)),
        (0b0000, true) => Some((0b10010, false)),
        (0b0100, true) => Some((0b10010, true)),
        (0b1100, false) => Some((0b10110, false)),
        (0b1101, false) => Some((0b10110, true)),
        _ => None,
    };
    if let Some((op3, u)) = same {
        if o.scalar && op3 != 0b10110 {
            return undef(e, raw);
        }
        let word = keep | u64::from(u) << 29 | 0x0e20_0400 | size | u64::from(op3) << 11;
        return three_same_with(e, word, Some(rep));
    }
    let long = match (opc, o.u) {
        (0b0010, u) => Some((0b1000u32, u)),
        (0b0110, u) => Some((0b1010, u)),
        (0b1010, u) => Some((0b1100, u)),
        (0b0011, false) => Some((0b1001, false)),
        (0b0111, false) => Some((0b1011, false)),
        (0b1011, false) => Some((0b1101, false)),
        _ => None,
    };
    match long {
        Some((op3, u)) if !o.scalar || matches!(op3, 0b1001 | 0b1011 | 0b1101) => {
            let word = keep | u64::from(u) << 29 | 0x0e20_0000 | size | u64::from(op3) << 12;
            three_diff_with(e, word, Some(rep))
        }
        _ => undef(e, raw),
    }
}
