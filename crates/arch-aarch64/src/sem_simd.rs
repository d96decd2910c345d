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
use mimic_ir::{BinOp, Exit, Helper, Reg, Sem, UnOp};

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
            let lo = self.s.load(addr, MemOp::U64)?;
            let a2 = self.opk(BinOp::Add, addr, 8);
            let hi = self.s.load(a2, MemOp::U64)?;
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
            self.s.store(addr, lo, MemOp::U64)?;
            let a2 = self.opk(BinOp::Add, addr, 8);
            self.s.store(a2, hi, MemOp::U64)
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
}
