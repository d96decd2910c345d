//! SIMD&FP semantics: loads and stores of V registers and FMOV between register files are
//! written against `Sem` here (they are hot in glibc's string functions and in context
//! switches); the data-processing classes call the helpers in [`crate::simd`] and [`crate::fp`],
//! which get the instruction word and work on the register file.
//!
//! Every method first checks the block flag `FP_EN` (CPACR_EL1.FPEN), known at translation
//! time, and raises `Fault::FpAccess` instead when it is clear.

use super::{Index, R, T};
use crate::cpu::{flags::FP_EN, Aarch64Cpu, VREG_BASE};
use crate::decode::*;
use crate::{fp, simd};
use mimic_core::{MemOp, Size};
use mimic_exec::Env;
use mimic_ir::{BinOp, Cond, Exit, Helper, Reg, Sem, UnOp};

/// The vector three-same integer operations done inline, on each 64-bit half with SWAR
/// (lanes of a half computed at once in a 64-bit register); the others go to the helper.
#[derive(Clone, Copy, PartialEq, Eq)]
enum V3 {
    /// AND, BIC, ORR, ORN, EOR, BSL, BIT, BIF: selected by `u:size`.
    Logic,
    Add,
    Sub,
    Cmeq,
    Cmtst,
    Cmgt,
    Cmge,
    Cmhi,
    Cmhs,
}

/// The top bit of each `esz`-bit lane of a 64-bit half (`esz` < 64).
fn lane_tops(esz: u32) -> u64 {
    match esz {
        8 => 0x8080_8080_8080_8080,
        16 => 0x8000_8000_8000_8000,
        _ => 0x8000_0000_8000_0000,
    }
}

/// `v` (within an `esz`-bit lane) in every `esz`-bit lane of a 64-bit half.
fn lane_rep(v: u64, esz: u32) -> u64 {
    if esz >= 64 {
        v
    } else {
        v * (u64::MAX / simd::mask(esz))
    }
}

/// Register-file index of V`n`'s low (bits 63:0) or high half.
fn vreg(n: u32, hi: bool) -> Reg {
    Reg((VREG_BASE + 2 * (n as usize % 32) + usize::from(hi)) as u16)
}

/// log2 of the bytes a SIMD&FP load/store of `size:opc` moves (4 = Q), and whether it loads.
fn vaccess(size: u32, opc: u32) -> Option<(u32, bool)> {
    if opc & 2 != 0 {
        (size == 0).then_some((4, opc & 1 == 1))
    } else {
        Some((size, opc & 1 == 1))
    }
}

fn mem_size(lg: u32) -> Size {
    match lg {
        0 => Size::B1,
        1 => Size::B2,
        2 => Size::B4,
        _ => Size::B8,
    }
}

impl<'a, 's, S: Sem<Env = Env<'a, Aarch64Cpu>>> T<'s, S> {
    /// Raise `FpAccess` if FP/SIMD is disabled for this block.
    pub(super) fn fp_check(&mut self) -> R {
        if self.flags & FP_EN == 0 {
            let z = self.k(0);
            self.s.call(simd::fp_access, z, z, z)?;
        }
        Ok(())
    }

    /// An instruction done entirely by a helper that decodes `raw` itself. These touch only
    /// registers, FPSR and memory, so compiled code chains on after them.
    pub(super) fn fp_helper(&mut self, f: Helper<Env<'a, Aarch64Cpu>>) -> R {
        self.fp_check()?;
        let raw = self.k(u64::from(self.raw));
        let z = self.k(0);
        self.s.call_local(f, raw, z, z)?;
        Ok(())
    }

    /// Write a scalar of `lg` (2: S, 3: D) bytes to V`rd`, zeroing the rest of the register.
    pub(super) fn set_vscalar(&mut self, rd: u32, v: S::V, lg: u32) {
        let v = match lg {
            0 => self.s.un(UnOp::Zext8, v),
            1 => self.s.un(UnOp::Zext16, v),
            2 => self.s.un(UnOp::Zext32, v),
            _ => v,
        };
        let z = self.k(0);
        self.s.set(vreg(rd, false), v);
        self.s.set(vreg(rd, true), z);
    }

    fn vload(&mut self, rt: u32, addr: S::V, lg: u32) -> Result<(S::V, Option<S::V>), Exit> {
        if lg == 4 {
            let (lo, hi) = self.s.load_pair(addr, MemOp::U64)?;
            let _ = rt;
            Ok((lo, Some(hi)))
        } else {
            Ok((self.s.load(addr, MemOp::new(mem_size(lg), false))?, None))
        }
    }

    fn vput(&mut self, rt: u32, lo: S::V, hi: Option<S::V>, lg: u32) {
        match hi {
            Some(hi) => {
                self.s.set(vreg(rt, false), lo);
                self.s.set(vreg(rt, true), hi);
            }
            None => self.set_vscalar(rt, lo, lg),
        }
    }

    fn vstore(&mut self, rt: u32, addr: S::V, lg: u32) -> R {
        let lo = self.s.get(vreg(rt, false));
        if lg == 4 {
            let hi = self.s.get(vreg(rt, true));
            self.s.store_pair(addr, lo, hi, MemOp::U64)
        } else {
            self.s.store(addr, lo, MemOp::new(mem_size(lg), false))
        }
    }

    fn vldst_at(&mut self, rt: u32, lg: u32, load: bool, addr: S::V, wb: Option<(u32, S::V)>) -> R {
        if load {
            let (lo, hi) = self.vload(rt, addr, lg)?;
            self.vput(rt, lo, hi, lg);
        } else {
            self.vstore(rt, addr, lg)?;
        }
        if let Some((rn, nb)) = wb {
            self.s.set(Reg(rn as u16), nb);
        }
        Ok(())
    }

    pub(super) fn vldst_imm(&mut self, a: &ArgsVldst, scaled: bool, index: Index) -> R {
        self.fp_check()?;
        let Some((lg, load)) = vaccess(a.size, a.opc) else { return self.undefined() };
        let off = if scaled { a.imm << lg } else { a.imm };
        let base = self.xsp(a.rn);
        let moved = self.opk(BinOp::Add, base, off as u64);
        let (addr, wb) = match index {
            Index::Offset => (moved, None),
            Index::Pre => (moved, Some((a.rn, moved))),
            Index::Post => (base, Some((a.rn, moved))),
        };
        self.vldst_at(a.rt, lg, load, addr, wb)
    }

    pub(super) fn vldst_regoff(&mut self, a: &ArgsVldstReg) -> R {
        self.fp_check()?;
        let Some((lg, load)) = vaccess(a.size, a.opc) else { return self.undefined() };
        let base = self.xsp(a.rn);
        let m = self.x(a.rm);
        let m = match a.ext {
            0 => self.s.un(UnOp::Zext32, m),
            2 => self.s.un(UnOp::Sext32, m),
            _ => m,
        };
        let m = if a.s == 1 { self.opk(BinOp::Shl, m, u64::from(lg)) } else { m };
        let addr = self.op(BinOp::Add, base, m);
        self.vldst_at(a.rt, lg, load, addr, None)
    }

    pub(super) fn vldr_literal(&mut self, a: &ArgsVldlit) -> R {
        self.fp_check()?;
        let lg = match a.opc {
            0 => 2,
            1 => 3,
            2 => 4,
            _ => return self.undefined(),
        };
        let addr = self.k(self.s.pc().wrapping_add(a.imm as u64));
        self.vldst_at(a.rt, lg, true, addr, None)
    }

    pub(super) fn vldst_pair(&mut self, a: &ArgsVldstp, index: Index) -> R {
        self.fp_check()?;
        let lg = match a.opc {
            0 => 2,
            1 => 3,
            2 => 4,
            _ => return self.undefined(),
        };
        let base = self.xsp(a.rn);
        let moved = self.opk(BinOp::Add, base, (a.imm << lg) as u64);
        let addr = if index == Index::Post { base } else { moved };
        let addr2 = self.opk(BinOp::Add, addr, 1 << lg);
        if a.l == 1 {
            let (lo1, hi1) = self.vload(a.rt, addr, lg)?;
            let (lo2, hi2) = self.vload(a.rt2, addr2, lg)?;
            self.vput(a.rt, lo1, hi1, lg);
            self.vput(a.rt2, lo2, hi2, lg);
        } else {
            self.vstore(a.rt, addr, lg)?;
            self.vstore(a.rt2, addr2, lg)?;
        }
        if index != Index::Offset {
            self.s.set(Reg(a.rn as u16), moved);
        }
        Ok(())
    }

    /// LD1/ST1 (multiple structures) of 1-4 whole registers inline; LD2-LD4/ST2-ST4 in a helper.
    pub(super) fn vldst_multiple(&mut self, a: &ArgsVlsm) -> R {
        self.fp_check()?;
        let (nregs, selem) = match a.opcode {
            0b0111 => (1, 1),
            0b1010 => (2, 1),
            0b0110 => (3, 1),
            0b0010 => (4, 1),
            0b1000 | 0b0100 | 0b0000 => return self.fp_helper(simd::ldst_multiple),
            _ => return self.undefined(),
        };
        if a.size == 3 && a.q == 0 && selem > 1 {
            return self.undefined();
        }
        let _ = selem;
        let lg = if a.q == 1 { 4 } else { 3 };
        let base = self.xsp(a.rn);
        let mut loaded = Vec::new();
        for r in 0..nregs {
            let addr = self.opk(BinOp::Add, base, (r << lg) as u64);
            let rt = (a.rt + r) % 32;
            if a.l == 1 {
                loaded.push((rt, self.vload(rt, addr, lg)?));
            } else {
                self.vstore(rt, addr, lg)?;
            }
        }
        for (rt, (lo, hi)) in loaded {
            self.vput(rt, lo, hi, 3);
        }
        if a.post == 1 {
            let nb = if a.rm == 31 {
                self.opk(BinOp::Add, base, u64::from(nregs << lg))
            } else {
                let m = self.x(a.rm);
                self.op(BinOp::Add, base, m)
            };
            self.s.set(Reg(a.rn as u16), nb);
        }
        Ok(())
    }

    /// Element `idx` of `esz` bits of V`n`, zero-extended.
    fn velem(&mut self, n: u32, idx: u32, esz: u32) -> S::V {
        let bit = idx * esz;
        let half = self.s.get(vreg(n, bit >= 64));
        let v = if bit.is_multiple_of(64) { half } else { self.opk(BinOp::Shr, half, u64::from(bit % 64)) };
        self.zext_to(v, esz)
    }

    fn zext_to(&mut self, v: S::V, esz: u32) -> S::V {
        match esz {
            8 => self.s.un(UnOp::Zext8, v),
            16 => self.s.un(UnOp::Zext16, v),
            32 => self.s.un(UnOp::Zext32, v),
            _ => v,
        }
    }

    /// Replace element `idx` of `esz` bits of V`d` with the zero-extended `x`.
    fn set_velem(&mut self, d: u32, idx: u32, esz: u32, x: S::V) {
        let bit = idx * esz;
        let r = vreg(d, bit >= 64);
        let sh = u64::from(bit % 64);
        let lane = if esz >= 64 { u64::MAX } else { ((1u64 << esz) - 1) << sh };
        let old = self.s.get(r);
        let kept = self.opk(BinOp::And, old, !lane);
        let moved = self.opk(BinOp::Shl, x, sh);
        let v = self.op(BinOp::Or, kept, moved);
        self.s.set(r, v);
    }

    /// DUP (element and general), INS (element and general) and UMOV inline: glibc's memset,
    /// memchr and string functions move lanes in their loops. SMOV, and the encodings that are
    /// UNDEFINED, go to the helper.
    pub(super) fn simd_copy_inline(&mut self, a: &ArgsVcopy) -> R {
        let size = a.imm5.trailing_zeros();
        if size > 3 {
            return self.fp_helper(simd::copy);
        }
        self.fp_check()?;
        let esz = 8 << size;
        let idx = a.imm5 >> (size + 1);
        match (a.op, a.imm4, a.q) {
            // DUP: replicate a lane or a general register; a D lane needs Q.
            (0, 0b0000 | 0b0001, q) if size < 3 || q == 1 => {
                let x = if a.imm4 == 0 {
                    self.velem(a.rn, idx, esz)
                } else {
                    let x = self.x(a.rn);
                    self.zext_to(x, esz)
                };
                // Copies of a zero-extended element, by multiplying with ones at each lane.
                let ones = match esz {
                    8 => 0x0101_0101_0101_0101,
                    16 => 0x0001_0001_0001_0001,
                    32 => 0x0000_0001_0000_0001,
                    _ => 1,
                };
                let rep = if ones == 1 { x } else { self.opk(BinOp::Mul, x, ones) };
                let hi = if q == 1 { rep } else { self.k(0) };
                self.s.set(vreg(a.rd, false), rep);
                self.s.set(vreg(a.rd, true), hi);
                Ok(())
            }
            // INS (general)
            (0, 0b0011, 1) => {
                let x = self.x(a.rn);
                let x = self.zext_to(x, esz);
                self.set_velem(a.rd, idx, esz, x);
                Ok(())
            }
            // UMOV: to W for B/H/S lanes (Q=0), to X for a D lane (Q=1).
            (0, 0b0111, q) if (q == 1) == (size == 3) => {
                let x = self.velem(a.rn, idx, esz);
                self.wx(1, a.rd, x);
                Ok(())
            }
            // INS (element)
            (1, imm4, 1) => {
                let x = self.velem(a.rn, imm4 >> size, esz);
                self.set_velem(a.rd, idx, esz, x);
                Ok(())
            }
            _ => self.fp_helper(simd::copy),
        }
    }

    /// FMOV, FABS and FNEG (register) of S and D registers inline (they only move or flip the
    /// sign bit, and raise nothing); the other one-source operations and half precision in
    /// the helper.
    pub(super) fn fp_1src_inline(&mut self, a: &ArgsF1) -> R {
        if a.op > 2 || a.ftype > 1 {
            return self.fp_helper(fp::fp_1src);
        }
        self.fp_check()?;
        let sign = if a.ftype == 0 { 1u64 << 31 } else { 1u64 << 63 };
        let v = self.s.get(vreg(a.rn, false));
        let v = match a.op {
            0 => v,
            1 => self.opk(BinOp::AndNot, v, sign),
            _ => self.opk(BinOp::Xor, v, sign),
        };
        self.set_vscalar(a.rd, v, 2 + a.ftype);
        Ok(())
    }

    /// FMOV between general and FP registers inline; the conversions in a helper.
    pub(super) fn fp_int_moves(&mut self, a: &ArgsFint) -> R {
        self.fp_check()?;
        match (a.sf, a.ftype, a.rmode, a.opcode) {
            // FMOV Wd, Sn / Xd, Dn
            (0, 0, 0, 6) | (1, 1, 0, 6) => {
                let v = self.s.get(vreg(a.rn, false));
                self.wx(a.sf, a.rd, v);
                Ok(())
            }
            // FMOV Sd, Wn / Dd, Xn
            (0, 0, 0, 7) | (1, 1, 0, 7) => {
                let v = self.x(a.rn);
                self.set_vscalar(a.rd, v, 2 + a.sf);
                Ok(())
            }
            // FMOV Xd, Vn.D[1]
            (1, 2, 1, 6) => {
                let v = self.s.get(vreg(a.rn, true));
                self.wx(1, a.rd, v);
                Ok(())
            }
            // FMOV Vd.D[1], Xn (the low half is kept)
            (1, 2, 1, 7) => {
                let v = self.x(a.rn);
                self.s.set(vreg(a.rd, true), v);
                Ok(())
            }
            _ => self.fp_helper(fp::fp_int),
        }
    }

    /// ADD, SUB, CMEQ, CMTST, CMGT, CMGE, CMHI, CMHS and the bitwise operations (vector
    /// forms) inline: bzip2's and gunzip's loops run them, and each helper call decodes the
    /// word and loops over lanes. The rest, and the UNDEFINED encodings, go to the helper.
    /// SHRN, USHR and SHL (vector, by immediate) inline, each 64-bit half shifted whole and its
    /// lanes masked (SWAR); the other shifts go to the helper. glibc's string functions take
    /// SHRN (`shrn v.8b, v.8h, #4`) to turn a byte compare into a bit mask on every call.
    pub(super) fn simd_shift_inline(&mut self, a: &ArgsVshift) -> R {
        if a.immh == 0 {
            return self.fp_helper(simd::shift);
        }
        let lg = 31 - a.immh.leading_zeros();
        let esz = 8u32 << lg;
        let immhb = a.immh << 3 | a.immb;
        let narrow = a.u == 0 && a.op == 0b10000 && lg < 3;
        let ushr = a.u == 1 && a.op == 0b00000;
        let shl = a.u == 0 && a.op == 0b01010;
        // D lanes need Q (the helper raises UNDEFINED).
        if !(narrow || ((ushr || shl) && (lg < 3 || a.q == 1))) {
            return self.fp_helper(simd::shift);
        }
        self.fp_check()?;
        if narrow {
            // From lanes of 2*esz bits, shifted right by 1..=esz: each half narrows to 32 bits.
            let wide = 2 * esz;
            let sh = u64::from(2 * esz - immhb);
            let keep = lane_rep(simd::mask(wide) >> sh & simd::mask(esz), wide);
            let mut packed = Vec::with_capacity(2);
            for hi in [false, true] {
                let n = self.s.get(vreg(a.rn, hi));
                let t = self.opk(BinOp::Shr, n, sh);
                let mut t = self.opk(BinOp::And, t, keep);
                // Close up the lanes: halve the gaps until the result is 32 contiguous bits.
                let mut gap = esz;
                while gap < 64 - esz && gap <= 16 {
                    let moved = self.opk(BinOp::Shr, t, u64::from(gap));
                    let both = self.op(BinOp::Or, t, moved);
                    let pairs = lane_rep(simd::mask(2 * gap), 4 * gap);
                    t = self.opk(BinOp::And, both, pairs);
                    gap *= 2;
                }
                packed.push(self.opk(BinOp::And, t, 0xffff_ffff));
            }
            let up = self.opk(BinOp::Shl, packed[1], 32);
            let r = self.op(BinOp::Or, packed[0], up);
            if a.q == 1 {
                // SHRN2: the upper half of Vd; the lower stays.
                self.s.set(vreg(a.rd, true), r);
            } else {
                let z = self.k(0);
                self.s.set(vreg(a.rd, false), r);
                self.s.set(vreg(a.rd, true), z);
            }
            return Ok(());
        }
        let mut out = Vec::with_capacity(2);
        for hi in [false, true].into_iter().take(1 + a.q as usize) {
            let n = self.s.get(vreg(a.rn, hi));
            let r = if ushr {
                // By 1..=esz; by the whole lane nothing is left.
                let sh = 2 * esz - immhb;
                if sh >= esz {
                    self.k(0)
                } else {
                    let t = self.opk(BinOp::Shr, n, u64::from(sh));
                    self.opk(BinOp::And, t, lane_rep(simd::mask(esz) >> sh, esz))
                }
            } else {
                let sh = immhb - esz;
                let t = self.opk(BinOp::Shl, n, u64::from(sh));
                self.opk(BinOp::And, t, lane_rep(simd::mask(esz) << sh & simd::mask(esz), esz))
            };
            out.push(r);
        }
        let hi = if a.q == 1 { out[1] } else { self.k(0) };
        self.s.set(vreg(a.rd, false), out[0]);
        self.s.set(vreg(a.rd, true), hi);
        Ok(())
    }

    pub(super) fn simd_3same_inline(&mut self, a: &ArgsV3) -> R {
        if (a.op, a.u, a.size) == (0b10100, 1, 0) {
            return self.umaxp_bytes(a);
        }
        let kind = match (a.op, a.u) {
            (0b00011, _) => V3::Logic,
            (0b10000, 0) => V3::Add,
            (0b10000, _) => V3::Sub,
            (0b10001, 0) => V3::Cmtst,
            (0b10001, _) => V3::Cmeq,
            (0b00110, 0) => V3::Cmgt,
            (0b00110, _) => V3::Cmhi,
            (0b00111, 0) => V3::Cmge,
            (0b00111, _) => V3::Cmhs,
            _ => return self.fp_helper(simd::three_same),
        };
        // D lanes need Q (the helper raises UNDEFINED).
        if kind != V3::Logic && a.size == 3 && a.q == 0 {
            return self.fp_helper(simd::three_same);
        }
        self.fp_check()?;
        let esz = 8u32 << a.size;
        let mut out = Vec::with_capacity(2);
        for hi in [false, true].into_iter().take(1 + a.q as usize) {
            let n = self.s.get(vreg(a.rn, hi));
            let m = self.s.get(vreg(a.rm, hi));
            let r = match kind {
                V3::Logic => self.v3_logic(a.u, a.size, a.rd, hi, n, m),
                V3::Add => self.lanes_add(n, m, esz),
                V3::Sub => self.lanes_sub(n, m, esz),
                V3::Cmeq => {
                    let x = self.op(BinOp::Xor, n, m);
                    self.lanes_zero(x, esz)
                }
                V3::Cmtst => {
                    let x = self.op(BinOp::And, n, m);
                    let z = self.lanes_zero(x, esz);
                    self.s.un(UnOp::Not, z)
                }
                V3::Cmhi => self.lanes_lt(m, n, esz, false),
                V3::Cmgt => self.lanes_lt(m, n, esz, true),
                V3::Cmhs => {
                    let lt = self.lanes_lt(n, m, esz, false);
                    self.s.un(UnOp::Not, lt)
                }
                V3::Cmge => {
                    let lt = self.lanes_lt(n, m, esz, true);
                    self.s.un(UnOp::Not, lt)
                }
            };
            out.push(r);
        }
        let hi = if a.q == 1 { out[1] } else { self.k(0) };
        self.s.set(vreg(a.rd, false), out[0]);
        self.s.set(vreg(a.rd, true), hi);
        Ok(())
    }

    /// UMAXP on bytes (glibc's strlen and memchr loops reduce a byte compare with it): the
    /// pairs of Vn then of Vm (their low halves without Q), each half's four pair maxima
    /// computed in 16-bit lanes and closed up into 32 bits.
    fn umaxp_bytes(&mut self, a: &ArgsV3) -> R {
        self.fp_check()?;
        let halves = if a.q == 1 {
            [(a.rn, false), (a.rn, true), (a.rm, false), (a.rm, true)]
        } else {
            [(a.rn, false), (a.rm, false), (0, false), (0, false)]
        };
        let mut packed = Vec::with_capacity(4);
        for &(r, hi) in halves.iter().take(2 + 2 * a.q as usize) {
            let x = self.s.get(vreg(r, hi));
            let even = self.opk(BinOp::And, x, 0x00ff_00ff_00ff_00ff);
            let odd = self.opk(BinOp::Shr, x, 8);
            let odd = self.opk(BinOp::And, odd, 0x00ff_00ff_00ff_00ff);
            // Bit 8 of each lane of (even + 0x100) - odd is set where even >= odd; no lane
            // borrows from the next.
            let biased = self.opk(BinOp::Or, even, 0x0100_0100_0100_0100);
            let diff = self.op(BinOp::Sub, biased, odd);
            let ge = self.opk(BinOp::Shr, diff, 8);
            let ge = self.opk(BinOp::And, ge, 0x0001_0001_0001_0001);
            let sel = self.opk(BinOp::Mul, ge, 0xff);
            let flip = self.op(BinOp::Xor, even, odd);
            let flip = self.op(BinOp::And, flip, sel);
            let max = self.op(BinOp::Xor, odd, flip);
            let moved = self.opk(BinOp::Shr, max, 8);
            let t = self.op(BinOp::Or, max, moved);
            let t = self.opk(BinOp::And, t, 0x0000_ffff_0000_ffff);
            let moved = self.opk(BinOp::Shr, t, 16);
            let t = self.op(BinOp::Or, t, moved);
            packed.push(self.opk(BinOp::And, t, 0xffff_ffff));
        }
        let mut out = Vec::with_capacity(2);
        for pair in packed.chunks(2) {
            let up = self.opk(BinOp::Shl, pair[1], 32);
            out.push(self.op(BinOp::Or, pair[0], up));
        }
        let hi = if a.q == 1 { out[1] } else { self.k(0) };
        self.s.set(vreg(a.rd, false), out[0]);
        self.s.set(vreg(a.rd, true), hi);
        Ok(())
    }

    fn v3_logic(&mut self, u: u32, size: u32, rd: u32, hi: bool, n: S::V, m: S::V) -> S::V {
        match (u, size) {
            (0, 0) => self.op(BinOp::And, n, m),
            (0, 1) => self.op(BinOp::AndNot, n, m),
            (0, 2) => self.op(BinOp::Or, n, m),
            (0, _) => self.op(BinOp::OrNot, n, m),
            (_, 0) => self.op(BinOp::Xor, n, m),
            _ => {
                // BSL: d selects n (1) or m (0); BIT: m selects n or d; BIF: m selects d or n.
                // Each is base ^ ((base ^ other) & selector).
                let d = self.s.get(vreg(rd, hi));
                let (base, other, sel) = match size {
                    1 => (m, n, d),
                    2 => (d, n, m),
                    _ => (n, d, m),
                };
                let x = self.op(BinOp::Xor, base, other);
                let x = self.op(BinOp::And, x, sel);
                self.op(BinOp::Xor, base, x)
            }
        }
    }

    /// Lane-wise a + b: the low bits of each lane add without reaching the next lane, and the
    /// top bit is the sum of the two tops and the carry into it, modulo 2.
    fn lanes_add(&mut self, a: S::V, b: S::V, esz: u32) -> S::V {
        if esz == 64 {
            return self.op(BinOp::Add, a, b);
        }
        let h = lane_tops(esz);
        let al = self.opk(BinOp::And, a, !h);
        let bl = self.opk(BinOp::And, b, !h);
        let low = self.op(BinOp::Add, al, bl);
        let x = self.op(BinOp::Xor, a, b);
        let top = self.opk(BinOp::And, x, h);
        self.op(BinOp::Xor, low, top)
    }

    /// Lane-wise a - b: each lane's top bit set in a and clear in b absorbs any borrow, and
    /// is then corrected to a.top - b.top - borrow, modulo 2.
    fn lanes_sub(&mut self, a: S::V, b: S::V, esz: u32) -> S::V {
        if esz == 64 {
            return self.op(BinOp::Sub, a, b);
        }
        let h = lane_tops(esz);
        let ah = self.opk(BinOp::Or, a, h);
        let bl = self.opk(BinOp::And, b, !h);
        let low = self.op(BinOp::Sub, ah, bl);
        let x = self.op(BinOp::XorNot, a, b);
        let top = self.opk(BinOp::And, x, h);
        self.op(BinOp::Xor, low, top)
    }

    /// Each lane all ones where its top bit is set in `t` (which has only lane tops set).
    fn lanes_from_tops(&mut self, t: S::V, esz: u32) -> S::V {
        let lsb = self.opk(BinOp::Shr, t, u64::from(esz - 1));
        self.opk(BinOp::Mul, lsb, (1u64 << esz) - 1)
    }

    /// Each lane all ones where the lane of `x` is zero, else zero.
    fn lanes_zero(&mut self, x: S::V, esz: u32) -> S::V {
        if esz == 64 {
            let z = self.k(0);
            let c = self.s.setcond(Cond::Eq, x, z);
            return self.s.un(UnOp::Neg, c);
        }
        // (low bits + all-low-ones) reaches the top bit exactly when the low bits are not all
        // zero, and never carries out of the lane; or-ing x adds the lane's own top bit.
        let h = lane_tops(esz);
        let low = self.opk(BinOp::And, x, !h);
        let t = self.opk(BinOp::Add, low, !h);
        let nz = self.op(BinOp::Or, t, x);
        let tops = self.k(h);
        let zt = self.op(BinOp::AndNot, tops, nz);
        self.lanes_from_tops(zt, esz)
    }

    /// Each lane all ones where a < b (signed or unsigned), else zero.
    fn lanes_lt(&mut self, a: S::V, b: S::V, esz: u32, signed: bool) -> S::V {
        if esz == 64 {
            let c = self.s.setcond(if signed { Cond::LtS } else { Cond::LtU }, a, b);
            return self.s.un(UnOp::Neg, c);
        }
        let h = lane_tops(esz);
        // Signed order is unsigned order with the sign bits flipped.
        let (a, b) = if signed { (self.opk(BinOp::Xor, a, h), self.opk(BinOp::Xor, b, h)) } else { (a, b) };
        // The borrow out of each lane's a - b: set where a's top is clear and b's set, or
        // where the tops agree and the difference's top is set.
        let d = self.lanes_sub(a, b, esz);
        let bnota = self.op(BinOp::AndNot, b, a);
        let same = self.op(BinOp::XorNot, a, b);
        let agree = self.op(BinOp::And, same, d);
        let borrow = self.op(BinOp::Or, bnota, agree);
        let t = self.opk(BinOp::And, borrow, h);
        self.lanes_from_tops(t, esz)
    }
}
