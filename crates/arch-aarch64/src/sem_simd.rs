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
