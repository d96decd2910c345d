//! The meaning of every A64 instruction, written once against `mimic_ir::Sem`.
//!
//! Each method of the generated `Visitor` is one instruction. Register numbers, immediates, the
//! pc and the block flags are translation-time Rust values; everything else is `S::V`. The
//! 32-bit (W) forms compute on 64-bit values and zero-extend what they write, as the
//! architecture does; flags are computed from the operands at the form's width.

use crate::atomic::AtomicOp;
use crate::bti::{self, Landing};
use crate::cpu::{flags, A64Insn, Aarch64Cpu, BTYPE, CF, NF, VF, ZF};
use crate::decode::*;
use crate::helpers as h;
use crate::pauth;
use crate::sysreg;
use mimic_core::MemOp;
use mimic_exec::Env;
use mimic_ir::{BinOp, Cond, Exit, Reg, Sem, UnOp};

#[path = "sem_simd.rs"]
mod sem_simd;

#[path = "sem_atomic.rs"]
mod sem_atomic;

/// Emit (or run) one instruction's semantics on any tier.
#[inline(always)]
pub fn translate<'a, S: Sem<Env = Env<'a, Aarch64Cpu>>>(
    insn: &A64Insn,
    block_flags: u32,
    s: &mut S,
) -> Result<(), Exit> {
    let mut t = T { s, raw: insn.raw(), flags: block_flags };
    if block_flags & flags::IL != 0 {
        let z = t.k(0);
        t.s.call(h::illegal_state, z, z, z)?;
        return Ok(());
    }
    // The first instruction after an indirect branch (FEAT_BTI): a landing pad, or checked
    // against its page's GP bit; then BTYPE is cleared, unless the instruction sets it anew.
    let btype = insn.btype;
    if btype != 0 {
        let what = match bti::landing(insn.op().as_ref(), btype) {
            Landing::Pad => None,
            Landing::PacSp => Some(u64::from(btype) | 4),
            Landing::NotPad => Some(u64::from(btype)),
        };
        if let Some(w) = what {
            let (pc, w, z) = (t.k(t.s.pc()), t.k(w), t.k(0));
            t.s.call_local(bti::check, pc, w, z)?;
        }
    }
    match insn.insn.visit(&mut t) {
        Some(r) => r?,
        None => t.undefined()?,
    }
    if btype != 0 && !sets_btype(insn) {
        let z = t.k(0);
        t.s.set(Reg(BTYPE as u16), z);
    }
    Ok(())
}

/// The instructions that write PSTATE.BTYPE themselves: indirect branches and calls, and the
/// exception returns (from SPSR_EL1).
fn sets_btype(insn: &A64Insn) -> bool {
    use Insn::*;
    matches!(insn.op(), Some(Br(_) | Blr(_) | Braz(_) | Blraz(_) | Bra(_) | Blra(_) | Eret(_) | Ereta(_)))
}

/// Whether a block must end after this instruction: control flow, WFI, anything that raises,
/// and writes of system state that later instructions' translation or interrupt masking depend
/// on (MSR and SYS but for the local ones, ERET), so that the loop re-reads the block flags and
/// polls interrupts.
pub fn ends_block(insn: &A64Insn) -> bool {
    use Insn::*;
    // A branch target with a BTYPE to check is a block of its own (see `translate`).
    if insn.btype != 0 {
        return true;
    }
    match insn.op() {
        None => true,
        Some(i) => {
            matches!(
                i,
                B(_) | Bl(_)
                    | BCond(_)
                    | Cbz(_)
                    | Cbnz(_)
                    | Tbz(_)
                    | Tbnz(_)
                    | Br(_)
                    | Blr(_)
                    | Ret(_)
                    | Braz(_)
                    | Blraz(_)
                    | Bra(_)
                    | Blra(_)
                    | Reta(_)
                    | Ereta(_)
                    | Wfi(_)
                    | Isb(_)
                    | Eret(_)
                    | MsrImm(_)
                    | Svc(_)
                    | Hvc(_)
                    | Smc(_)
                    | Brk(_)
            ) || match i {
                MsrReg(a) => !sysreg::write_is_local(a.key),
                Sys(a) => !sys_is_local(a.op1, a.crn, a.crm, a.op2),
                _ => false,
            }
        }
    }
}

/// The SYS operations that only touch memory (DC ZVA) or do nothing here (the DC clean and
/// invalidate by VA and set/way operations): they need not end the block, and compiled code
/// chains on after them. IC, TLBI and AT change what later code translates to.
fn sys_is_local(op1: u32, crn: u32, crm: u32, op2: u32) -> bool {
    matches!((op1, crn, crm, op2), (3, 7, 4 | 10 | 11 | 14, 1) | (0, 7, 6, 1 | 2) | (0, 7, 10 | 14, 2))
}

/// `(wmask, tmask)` of the Arm ARM's DecodeBitMasks for a `datasize`-bit operation, or `None`
/// for a reserved combination. `immediate` is set for the logical-immediate instructions, where
/// an all-ones element is reserved too.
pub fn decode_bit_masks(n: u32, imms: u32, immr: u32, immediate: bool, datasize: u32) -> Option<(u64, u64)> {
    // len = HighestSetBit(N:NOT(imms)), over 7 bits.
    let combined = (n << 6) | (!imms & 0x3f);
    if combined == 0 {
        return None;
    }
    let len = 31 - combined.leading_zeros();
    if len < 1 {
        return None;
    }
    let esize = 1u32 << len;
    if esize > datasize {
        return None;
    }
    let levels = esize - 1;
    if immediate && imms & levels == levels {
        return None;
    }
    let s = imms & levels;
    let r = immr & levels;
    let d = s.wrapping_sub(r) & levels;
    let ones = |k: u32| if k >= 64 { u64::MAX } else { (1u64 << k) - 1 };
    let emask = ones(esize);
    let welem = ones(s + 1);
    let telem = ones(d + 1);
    let ror = |v: u64, r: u32| if r == 0 { v } else { ((v >> r) | (v << (esize - r))) & emask };
    let replicate = |e: u64| {
        let mut out = 0u64;
        let mut i = 0;
        while i < datasize {
            out |= e << i;
            i += esize;
        }
        out
    };
    Some((replicate(ror(welem, r)), replicate(telem)))
}

struct T<'s, S> {
    s: &'s mut S,
    raw: u32,
    /// The block's flags (EL), for the instructions whose meaning will depend on them.
    flags: u32,
}

type R = Result<(), Exit>;

/// The four condition flags in N, Z, C, V order, as the register file keeps them (see
/// [`crate::cpu`]): N in bit 63, Z when zero, C as 0 or 1, V in bit 63.
type Nzcv<V> = [V; 4];

const FLAGS: [Reg; 4] = [Reg(NF as u16), Reg(ZF as u16), Reg(CF as u16), Reg(VF as u16)];

fn bits(sf: u32) -> u32 {
    if sf == 1 {
        64
    } else {
        32
    }
}

/// Whether bit 0 of a condition inverts the one its upper bits name (every pair but AL/NV).
fn cond_inverts(cond: u32) -> bool {
    cond & 1 == 1 && cond >> 1 != 7
}

/// How an extended-register operand is extended (Arm ARM ExtendType, `option` field).
fn extend_op(option: u32) -> Option<UnOp> {
    match option {
        0 => Some(UnOp::Zext8),
        1 => Some(UnOp::Zext16),
        2 => Some(UnOp::Zext32),
        4 => Some(UnOp::Sext8),
        5 => Some(UnOp::Sext16),
        6 => Some(UnOp::Sext32),
        // UXTX, SXTX: the whole register.
        _ => None,
    }
}

/// The access a load/store's `size:opc` selects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Store(MemOp),
    /// Load, then zero-extend to 32 bits when `w` is set (the signed-to-W loads).
    Load(MemOp, bool),
    Prefetch,
}

fn size_of(size: u32) -> mimic_core::Size {
    match size {
        0 => mimic_core::Size::B1,
        1 => mimic_core::Size::B2,
        2 => mimic_core::Size::B4,
        _ => mimic_core::Size::B8,
    }
}

fn access(size: u32, opc: u32) -> Option<Access> {
    let sz = size_of(size);
    Some(match (opc, size) {
        (0, _) => Access::Store(MemOp::new(sz, false)),
        (1, _) => Access::Load(MemOp::new(sz, false), false),
        (2, 3) => Access::Prefetch,
        (2, _) => Access::Load(MemOp::new(sz, true), false),
        (3, 0 | 1) => Access::Load(MemOp::new(sz, true), true),
        _ => return None,
    })
}

/// Which branch an authenticating branch is (for PSTATE.BTYPE).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Jump,
    Call,
    Return,
}

/// Where a load/store finds its address, and what it writes back to the base.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Index {
    /// `[base, #off]`
    Offset,
    /// `[base, #off]!`
    Pre,
    /// `[base], #off`
    Post,
}

impl<'a, 's, S: Sem<Env = Env<'a, Aarch64Cpu>>> T<'s, S> {
    // ---- registers ----------------------------------------------------------------------------

    /// Read X`r`, 31 being XZR.
    #[inline(always)]
    fn x(&mut self, r: u32) -> S::V {
        if r == 31 {
            self.s.imm(0)
        } else {
            self.s.get(Reg(r as u16))
        }
    }
    /// Read X`r` at the form's width (W reads zero-extended), 31 being XZR.
    #[inline(always)]
    fn xw(&mut self, sf: u32, r: u32) -> S::V {
        let v = self.x(r);
        self.narrow(sf, v)
    }
    /// Read X`r`, 31 being SP.
    #[inline(always)]
    fn xsp(&mut self, r: u32) -> S::V {
        self.s.get(Reg(r as u16))
    }
    /// Write X`rd` (31 is XZR: dropped); W forms zero-extend.
    #[inline(always)]
    fn wx(&mut self, sf: u32, rd: u32, v: S::V) {
        if rd != 31 {
            let v = self.narrow(sf, v);
            self.s.set(Reg(rd as u16), v);
        }
    }
    /// Write X`rd`, 31 being SP; W forms zero-extend.
    #[inline(always)]
    fn wsp(&mut self, sf: u32, rd: u32, v: S::V) {
        let v = self.narrow(sf, v);
        self.s.set(Reg(rd as u16), v);
    }
    #[inline(always)]
    fn narrow(&mut self, sf: u32, v: S::V) -> S::V {
        if sf == 1 {
            v
        } else {
            self.s.un(UnOp::Zext32, v)
        }
    }
    #[inline(always)]
    fn k(&mut self, v: u64) -> S::V {
        self.s.imm(v)
    }
    #[inline(always)]
    fn op(&mut self, op: BinOp, a: S::V, b: S::V) -> S::V {
        self.s.bin(op, a, b)
    }
    #[inline(always)]
    fn opk(&mut self, op: BinOp, a: S::V, b: u64) -> S::V {
        let b = self.s.imm(b);
        self.s.bin(op, a, b)
    }

    fn exception_call(&mut self, kind: u64, imm: u32) -> R {
        let (k, i, raw) = (self.k(kind), self.k(u64::from(imm)), self.k(u64::from(self.raw)));
        self.s.call(h::exception_call, k, i, raw)?;
        Ok(())
    }

    /// A helper taking one operand and the instruction word.
    fn call_raw(&mut self, f: mimic_ir::Helper<Env<'a, Aarch64Cpu>>, a: u64) -> Result<S::V, Exit> {
        let (a, raw, z) = (self.k(a), self.k(u64::from(self.raw)), self.k(0));
        self.s.call(f, a, raw, z)
    }

    fn undefined(&mut self) -> R {
        let raw = self.k(u64::from(self.raw));
        let z = self.k(0);
        self.s.call(h::undefined, raw, z, z)?;
        Ok(())
    }

    // ---- flags --------------------------------------------------------------------------------

    fn set_flags(&mut self, f: Nzcv<S::V>) {
        for (r, v) in FLAGS.into_iter().zip(f) {
            self.s.set(r, v);
        }
    }
    fn flag(&mut self, r: usize) -> S::V {
        self.s.get(Reg(r as u16))
    }

    /// The Arm ARM's AddWithCarry at the form's width: `a + b + carry_in` and its flags. `a`
    /// and `b` must already be narrowed (W operands zero-extended); `cin` is 0 or 1.
    fn add_with_carry(&mut self, sf: u32, a: S::V, b: S::V, cin: Option<S::V>) -> (S::V, Nzcv<S::V>) {
        let t = self.op(BinOp::Add, a, b);
        let sum = match cin {
            Some(c) => self.op(BinOp::Add, t, c),
            None => t,
        };
        let (r, c) = if sf == 1 {
            // Carry out of 64 bits: the sum wrapped below an addend, in either of the two steps.
            let c1 = self.s.setcond(Cond::LtU, t, a);
            let c = match cin {
                Some(_) => {
                    let c2 = self.s.setcond(Cond::LtU, sum, t);
                    self.op(BinOp::Or, c1, c2)
                }
                None => c1,
            };
            (sum, c)
        } else {
            // 32-bit operands cannot carry out of 64 bits: the carry is bit 32.
            let c = self.opk(BinOp::Shr, sum, 32);
            (self.s.un(UnOp::Zext32, sum), c)
        };
        let n = self.sign_at_63(sf, r);
        // Overflow: both operands' signs differ from the result's.
        let ar = self.op(BinOp::Xor, a, r);
        let br = self.op(BinOp::Xor, b, r);
        let v = self.op(BinOp::And, ar, br);
        let v = self.sign_at_63(sf, v);
        (r, [n, r, c, v])
    }

    /// `v` (narrowed) with the form's sign bit in bit 63, where the flag registers keep N and V.
    fn sign_at_63(&mut self, sf: u32, v: S::V) -> S::V {
        if sf == 1 {
            v
        } else {
            self.s.un(UnOp::Sext32, v)
        }
    }

    /// `a - b` (with `borrow` the carry flag of SBC) through AddWithCarry(a, NOT(b), 1 or C).
    fn sub_with_carry(&mut self, sf: u32, a: S::V, b: S::V, cin: Option<S::V>) -> (S::V, Nzcv<S::V>) {
        if cin.is_none() {
            return self.sub_flags(sf, a, b);
        }
        let nb = self.s.un(UnOp::Not, b);
        let nb = self.narrow(sf, nb);
        let cin = match cin {
            Some(c) => c,
            None => self.k(1),
        };
        self.add_with_carry(sf, a, nb, Some(cin))
    }

    /// SUBS/CMP: AddWithCarry(a, NOT(b), 1) in the form compilers know (`a`, `b` narrowed):
    /// N and Z come from the difference itself, the carry is "no borrow", `a >= b` unsigned.
    fn sub_flags(&mut self, sf: u32, a: S::V, b: S::V) -> (S::V, Nzcv<S::V>) {
        let r = self.op(BinOp::Sub, a, b);
        let r = self.narrow(sf, r);
        let n = self.sign_at_63(sf, r);
        let c = self.s.setcond(Cond::GeU, a, b);
        // Overflow: the operands' signs differ and the result's differs from the first's.
        let ab = self.op(BinOp::Xor, a, b);
        let ar = self.op(BinOp::Xor, a, r);
        let v = self.op(BinOp::And, ab, ar);
        let v = self.sign_at_63(sf, v);
        (r, [n, r, c, v])
    }

    /// N and Z of a logical result (narrowed); C and V cleared.
    fn logic_flags(&mut self, sf: u32, r: S::V) -> Nzcv<S::V> {
        let n = self.sign_at_63(sf, r);
        let zero = self.k(0);
        [n, r, zero, zero]
    }

    /// ConditionHolds(cond) as 0/1.
    fn cond_holds(&mut self, cond: u32) -> S::V {
        let base = self.cond_base(cond);
        if cond_inverts(cond) {
            let one = self.k(1);
            self.op(BinOp::Xor, base, one)
        } else {
            base
        }
    }

    /// The condition `cond` as 0/1 before [`cond_inverts`] applies, which callers fold into
    /// what they do with it (AL and NV: 1).
    fn cond_base(&mut self, cond: u32) -> S::V {
        if let Some(c) = self.cond_of_compare(cond) {
            return c;
        }
        let zero = self.k(0);
        match cond >> 1 {
            0 => {
                let z = self.flag(ZF);
                self.s.setcond(Cond::Eq, z, zero)
            }
            1 => self.flag(CF),
            2 => {
                let n = self.flag(NF);
                self.s.setcond(Cond::LtS, n, zero)
            }
            3 => {
                let v = self.flag(VF);
                self.s.setcond(Cond::LtS, v, zero)
            }
            4 => {
                let c = self.flag(CF);
                let z = self.flag(ZF);
                let nz = self.s.setcond(Cond::Ne, z, zero);
                self.op(BinOp::And, c, nz)
            }
            5 => self.n_eq_v(),
            6 => {
                let ge = self.n_eq_v();
                let z = self.flag(ZF);
                let nz = self.s.setcond(Cond::Ne, z, zero);
                self.op(BinOp::And, ge, nz)
            }
            _ => self.k(1),
        }
    }

    /// [`Self::cond_base`] straight from the operands of the compare that set the flags, when
    /// the tier still knows them ([`Sem::compared`]): one comparison instead of recombining
    /// N, Z, C and V (a SUBS's difference is zero exactly when the operands are equal, it
    /// borrows exactly when `a < b` unsigned, and N == V exactly when `a >= b` signed). MI and
    /// VS read their flag as ever.
    fn cond_of_compare(&mut self, cond: u32) -> Option<S::V> {
        let (a, b, wide) = self.s.compared()?;
        let signed = |t: &mut Self, v: S::V| if wide { v } else { t.s.un(UnOp::Sext32, v) };
        Some(match cond >> 1 {
            0 => self.s.setcond(Cond::Eq, a, b),
            1 => self.s.setcond(Cond::GeU, a, b),
            4 => self.s.setcond(Cond::LtU, b, a),
            5 | 6 => {
                let (a, b) = (signed(self, a), signed(self, b));
                if cond >> 1 == 5 {
                    self.s.setcond(Cond::GeS, a, b)
                } else {
                    self.s.setcond(Cond::LtS, b, a)
                }
            }
            _ => return None,
        })
    }

    /// N == V as 0/1: bit 63 of both registers alike.
    fn n_eq_v(&mut self) -> S::V {
        let n = self.flag(NF);
        let v = self.flag(VF);
        let x = self.op(BinOp::Xor, n, v);
        let zero = self.k(0);
        self.s.setcond(Cond::GeS, x, zero)
    }

    // ---- operand shapes ------------------------------------------------------------------------

    /// ShiftReg: `v` (narrowed) shifted by a constant at the form's width.
    fn shift_reg(&mut self, sf: u32, v: S::V, shift: u32, amount: u32) -> S::V {
        if amount == 0 {
            return v;
        }
        let amt = u64::from(amount);
        match shift {
            0 => self.opk(BinOp::Shl, v, amt),
            1 => self.opk(BinOp::Shr, v, amt),
            2 if sf == 1 => self.opk(BinOp::Sar, v, amt),
            2 => {
                let sx = self.s.un(UnOp::Sext32, v);
                self.opk(BinOp::Sar, sx, amt)
            }
            _ if sf == 1 => self.opk(BinOp::Rotr, v, amt),
            _ => self.ror32(v, amt),
        }
    }
    /// Rotate the low 32 bits of `v` right by a constant below 32 (zero-extended).
    fn ror32(&mut self, v: S::V, amt: u64) -> S::V {
        self.opk(BinOp::Rotr32, v, amt)
    }
    fn shifted_operand(&mut self, a: &ArgsShifted) -> S::V {
        let m = self.xw(a.sf, a.rm);
        // LSL and ASR reach above bit 31 in a W form: narrow again, as the flags need.
        let m = self.shift_reg(a.sf, m, a.shift, a.amount);
        self.narrow(a.sf, m)
    }
    /// ExtendReg: X`rm` extended per `option`, shifted left by `amount` (0..=4).
    fn extended_operand(&mut self, a: &ArgsExtended) -> S::V {
        let m = self.x(a.rm);
        let m = match extend_op(a.option) {
            Some(e) => self.s.un(e, m),
            None => m,
        };
        let m = self.opk(BinOp::Shl, m, u64::from(a.amount));
        self.narrow(a.sf, m)
    }

    // ---- family shapes -------------------------------------------------------------------------

    /// ADD/SUB(S) with a second operand already computed. The non-flag-setting forms may write
    /// SP; with `rn_sp`, register 31 as the first operand is SP.
    // Always inlined, as are the other semantics marked so (the add/sub, logical, bitfield,
    // conditional and load/store cores, and the visitor methods of the commonest instructions):
    // most interpreted instructions go through them, and inlined into the decoder's dispatch
    // their flag arguments are constants. Interpreter-only arm64 boots, paired: 5 % faster (8
    // of 10 pairs) for the add/sub, logical and single load/store cores, 6 % more (5 of 6) for
    // the rest.
    #[inline(always)]
    fn addsub(&mut self, sf: u32, rd: u32, rn: u32, b: S::V, sub: bool, setflags: bool, rn_sp: bool) -> R {
        let a = if rn_sp { self.xsp(rn) } else { self.x(rn) };
        let a = self.narrow(sf, a);
        if setflags {
            let (r, f) = if sub { self.sub_flags(sf, a, b) } else { self.add_with_carry(sf, a, b, None) };
            self.set_flags(f);
            if sub {
                // Written out: an array `map` here stayed a call in the interpreter's dispatch.
                let [n, z, c, v] = f;
                let [rn, rz, rc, rv] = FLAGS;
                self.s.note_compare(a, b, sf == 1, [(rn, n), (rz, z), (rc, c), (rv, v)]);
            }
            self.wx(sf, rd, r);
            return Ok(());
        }
        let r = self.op(if sub { BinOp::Sub } else { BinOp::Add }, a, b);
        if rn_sp {
            self.wsp(sf, rd, r);
        } else {
            self.wx(sf, rd, r);
        }
        Ok(())
    }
    #[inline(always)]
    fn addsub_imm(&mut self, a: &ArgsAddsubImm, sub: bool, setflags: bool) -> R {
        let imm = u64::from(a.imm) << (12 * a.sh);
        let b = self.k(imm);
        self.addsub(a.sf, a.rd, a.rn, b, sub, setflags, true)
    }
    #[inline(always)]
    fn addsub_reg(&mut self, a: &ArgsShifted, sub: bool, setflags: bool) -> R {
        let b = self.shifted_operand(a);
        self.addsub(a.sf, a.rd, a.rn, b, sub, setflags, false)
    }
    #[inline(always)]
    fn addsub_ext(&mut self, a: &ArgsExtended, sub: bool, setflags: bool) -> R {
        let b = self.extended_operand(a);
        self.addsub(a.sf, a.rd, a.rn, b, sub, setflags, true)
    }
    #[inline(always)]
    fn adc_sbc(&mut self, a: &ArgsRrr, sub: bool, setflags: bool) -> R {
        let x = self.xw(a.sf, a.rn);
        let y = self.xw(a.sf, a.rm);
        let c = self.flag(CF);
        let (r, f) =
            if sub { self.sub_with_carry(a.sf, x, y, Some(c)) } else { self.add_with_carry(a.sf, x, y, Some(c)) };
        if setflags {
            self.set_flags(f);
        }
        self.wx(a.sf, a.rd, r);
        Ok(())
    }

    /// AND/ORR/EOR/ANDS with a computed second operand; only the immediate forms (not ANDS)
    /// may write SP.
    #[inline(always)]
    fn logic(&mut self, sf: u32, rd: u32, rn: u32, b: S::V, op: BinOp, setflags: bool, rd_sp: bool) -> R {
        let x = self.xw(sf, rn);
        let r = self.op(op, x, b);
        let r = self.narrow(sf, r);
        if setflags {
            let f = self.logic_flags(sf, r);
            self.set_flags(f);
        }
        if rd_sp {
            self.wsp(sf, rd, r);
        } else {
            self.wx(sf, rd, r);
        }
        Ok(())
    }
    #[inline(always)]
    fn logic_imm(&mut self, a: &ArgsLogicImm, op: BinOp, setflags: bool) -> R {
        let Some((wmask, _)) = decode_bit_masks(a.n, a.imms, a.immr, true, bits(a.sf)) else {
            return self.undefined();
        };
        let b = self.k(wmask);
        self.logic(a.sf, a.rd, a.rn, b, op, setflags, !setflags)
    }
    #[inline(always)]
    fn logic_reg(&mut self, a: &ArgsShifted, op: BinOp, setflags: bool) -> R {
        let b = self.shifted_operand(a);
        self.logic(a.sf, a.rd, a.rn, b, op, setflags, false)
    }

    /// MOVN/MOVZ/MOVK: `keep` says whether the other bits of Rd survive (MOVK).
    fn mov_wide(&mut self, a: &ArgsMovw, invert: bool, keep: bool) -> R {
        let pos = 16 * a.hw;
        let imm = u64::from(a.imm) << pos;
        let r = if keep {
            let old = self.x(a.rd);
            let old = self.opk(BinOp::And, old, !(0xffffu64 << pos));
            self.opk(BinOp::Or, old, imm)
        } else {
            self.k(if invert { !imm } else { imm })
        };
        self.wx(a.sf, a.rd, r);
        Ok(())
    }

    /// SBFM/BFM/UBFM as the Arm ARM's pseudocode has them: `inzero` starts from zero instead of
    /// Rd, `extend` fills the top with bit S of the source.
    #[inline(always)]
    fn bitfield(&mut self, a: &ArgsBitfield, inzero: bool, extend: bool) -> R {
        let n = a.sf; // the decoder only accepts N == sf
        let Some((wmask, tmask)) = decode_bit_masks(n, a.imms, a.immr, false, bits(a.sf)) else {
            return self.undefined();
        };
        let src = self.xw(a.sf, a.rn);
        if inzero {
            if let Some(r) = self.shift_or_extend(a, src, extend) {
                self.wx(a.sf, a.rd, r);
                return Ok(());
            }
        }
        let rot = if a.immr == 0 {
            src
        } else if a.sf == 1 {
            self.opk(BinOp::Rotr, src, u64::from(a.immr))
        } else {
            self.ror32(src, u64::from(a.immr))
        };
        let moved = self.opk(BinOp::And, rot, wmask);
        let bot = if inzero {
            moved
        } else {
            let dst = self.x(a.rd);
            let kept = self.opk(BinOp::And, dst, !wmask);
            self.op(BinOp::Or, kept, moved)
        };
        let bot = self.opk(BinOp::And, bot, tmask);
        let top = if extend {
            // Replicate(src<S>): move bit S to bit 63 and spread it down.
            let up = self.opk(BinOp::Shl, src, 63 - u64::from(a.imms));
            Some(self.opk(BinOp::Sar, up, 63))
        } else if inzero {
            None
        } else {
            Some(self.x(a.rd))
        };
        let r = match top {
            Some(t) => {
                let t = self.opk(BinOp::And, t, !tmask);
                self.op(BinOp::Or, t, bot)
            }
            None => bot,
        };
        self.wx(a.sf, a.rd, r);
        Ok(())
    }

    /// The aliases of SBFM/UBFM that are one shift or one extension (SXTB/SXTH/SXTW, ASR, LSR
    /// and LSL by an immediate), as that operation: the general rotate-and-mask formula is what
    /// a compiler then has to see through (SXTW took five host instructions). `src` is Rn
    /// narrowed to the form's width; the caller narrows the result.
    #[inline(always)]
    fn shift_or_extend(&mut self, a: &ArgsBitfield, src: S::V, signed: bool) -> Option<S::V> {
        let width = bits(a.sf);
        let (immr, imms) = (u64::from(a.immr), u64::from(a.imms));
        Some(if signed && immr == 0 && matches!(imms, 7 | 15 | 31) {
            let op = match imms {
                7 => UnOp::Sext8,
                15 => UnOp::Sext16,
                _ => UnOp::Sext32,
            };
            self.s.un(op, src)
        } else if imms == u64::from(width) - 1 {
            if signed {
                let wide = if a.sf == 1 { src } else { self.s.un(UnOp::Sext32, src) };
                self.opk(BinOp::Sar, wide, immr)
            } else {
                self.opk(BinOp::Shr, src, immr)
            }
        } else if !signed && imms + 1 == immr {
            self.opk(BinOp::Shl, src, u64::from(width) - immr)
        } else {
            return None;
        })
    }

    #[inline(always)]
    fn csel_op(&mut self, a: &ArgsCsel, f: impl FnOnce(&mut Self, S::V) -> S::V) -> R {
        let c = self.cond_base(a.cond);
        let t = self.x(a.rn);
        let e = self.x(a.rm);
        let e = f(self, e);
        let r = if cond_inverts(a.cond) { self.s.select(c, e, t) } else { self.s.select(c, t, e) };
        self.wx(a.sf, a.rd, r);
        Ok(())
    }

    /// CCMP/CCMN: the comparison's flags if the condition holds, else the immediate `nzcv`.
    #[inline(always)]
    fn ccmp(&mut self, sf: u32, rn: u32, b: S::V, cond: u32, nzcv: u32, sub: bool) -> R {
        let c = self.cond_holds(cond);
        let x = self.xw(sf, rn);
        let (_, f) = if sub { self.sub_with_carry(sf, x, b, None) } else { self.add_with_carry(sf, x, b, None) };
        let mut out = f;
        for (i, (v, k)) in f.into_iter().zip(crate::cpu::flag_regs(nzcv)).enumerate() {
            let k = self.k(k);
            out[i] = self.s.select(c, v, k);
        }
        self.set_flags(out);
        Ok(())
    }

    /// Variable shifts: the amount is Rm modulo the width.
    #[inline(always)]
    fn shiftv(&mut self, a: &ArgsRrr, op: BinOp) -> R {
        let x = self.xw(a.sf, a.rn);
        let m = self.x(a.rm);
        let amt = self.opk(BinOp::And, m, u64::from(bits(a.sf) - 1));
        let r = if a.sf == 1 {
            self.op(op, x, amt)
        } else {
            match op {
                BinOp::Sar => {
                    let sx = self.s.un(UnOp::Sext32, x);
                    self.op(BinOp::Sar, sx, amt)
                }
                BinOp::Rotr => self.op(BinOp::Rotr32, x, amt),
                _ => self.op(op, x, amt),
            }
        };
        self.wx(a.sf, a.rd, r);
        Ok(())
    }

    /// UDIV/SDIV: division by zero gives 0 on Arm (`Sem` gives all ones, so select around it);
    /// the most negative value divided by -1 wraps to itself, as `Sem` has it.
    fn div(&mut self, a: &ArgsRrr, signed: bool) -> R {
        let (x, y) = if signed && a.sf == 0 {
            let x = self.x(a.rn);
            let y = self.x(a.rm);
            (self.s.un(UnOp::Sext32, x), self.s.un(UnOp::Sext32, y))
        } else {
            (self.xw(a.sf, a.rn), self.xw(a.sf, a.rm))
        };
        let q = self.op(if signed { BinOp::DivS } else { BinOp::DivU }, x, y);
        let zero = self.k(0);
        let by_zero = self.s.setcond(Cond::Eq, y, zero);
        let r = self.s.select(by_zero, zero, q);
        self.wx(a.sf, a.rd, r);
        Ok(())
    }

    /// MADD/MSUB and the widening SMADDL/UMADDL family: `ra ± f(rn) * f(rm)`.
    #[inline(always)]
    fn mul_add(&mut self, a: &ArgsRrrr, widen: Option<UnOp>, sub: bool) -> R {
        let mut x = self.x(a.rn);
        let mut y = self.x(a.rm);
        if let Some(w) = widen {
            x = self.s.un(w, x);
            y = self.s.un(w, y);
        }
        let p = self.op(BinOp::Mul, x, y);
        let acc = self.x(a.ra);
        let r = self.op(if sub { BinOp::Sub } else { BinOp::Add }, acc, p);
        self.wx(a.sf, a.rd, r);
        Ok(())
    }

    fn unary(&mut self, a: &ArgsRr, f: impl FnOnce(&mut Self, S::V) -> S::V) -> R {
        let x = self.xw(a.sf, a.rn);
        let r = f(self, x);
        self.wx(a.sf, a.rd, r);
        Ok(())
    }

    /// Swap the bit groups selected by `mask` with their neighbours `n` bits away.
    fn swap_bits(&mut self, v: S::V, mask: u64, n: u64) -> S::V {
        let lo = self.opk(BinOp::And, v, mask);
        let lo = self.opk(BinOp::Shl, lo, n);
        let hi = self.opk(BinOp::Shr, v, n);
        let hi = self.opk(BinOp::And, hi, mask);
        self.op(BinOp::Or, lo, hi)
    }

    // ---- branches ------------------------------------------------------------------------------

    fn target(&self, imm: i64) -> u64 {
        self.s.pc().wrapping_add(imm as u64)
    }
    fn link(&mut self) {
        let ret = self.k(self.s.pc().wrapping_add(4));
        self.s.set(Reg(30), ret);
    }

    // ---- pointer authentication ----------------------------------------------------------------

    fn pauth(&self) -> bool {
        self.flags & flags::PAUTH != 0
    }
    /// The modifier operand `rn`: 31 is SP, 32 (the Z forms) zero.
    fn modifier(&mut self, rn: u32) -> S::V {
        if rn == 32 {
            self.k(0)
        } else {
            self.xsp(rn)
        }
    }
    /// X`rd` = `f`(X`rd`, `m`, key): a PAC or AUT helper on a register in place.
    fn sign(&mut self, rd: u32, m: S::V, key: u64, f: mimic_ir::Helper<Env<'a, Aarch64Cpu>>) -> R {
        let (v, key) = (self.x(rd), self.k(key));
        let r = self.s.call_local(f, v, m, key)?;
        self.wx(1, rd, r);
        Ok(())
    }
    /// BRA*, BLRA*, RETA*: branch to X`rn` authenticated with key A or B (`m`) and modifier
    /// `rm` (31 SP, 32 zero). A failed authentication leaves an address that faults when
    /// fetched.
    fn branch_auth(&mut self, a: &ArgsBra, kind: Kind) -> R {
        if !self.pauth() {
            return self.undefined();
        }
        let (ptr, m, key) = (self.x(a.rn), self.modifier(a.rm), self.k(u64::from(a.m)));
        let target = self.s.call_local(pauth::aut, ptr, m, key)?;
        match kind {
            Kind::Jump => self.branch_btype(Some(a.rn))?,
            Kind::Call => {
                self.link();
                self.branch_btype(None)?;
            }
            Kind::Return => {}
        }
        self.s.jump(target);
        Ok(())
    }

    /// PSTATE.BTYPE after an indirect jump through X`rn` (`Some`) or an indirect call (`None`),
    /// with FEAT_BTI.
    fn branch_btype(&mut self, jump_through: Option<u32>) -> R {
        if self.flags & flags::BTI == 0 {
            return Ok(());
        }
        let v = match jump_through {
            None => self.k(2),
            Some(16 | 17) => self.k(1),
            Some(_) => {
                let (pc, z) = (self.k(self.s.pc()), self.k(0));
                self.s.call_local(bti::br_btype, pc, z, z)?
            }
        };
        self.s.set(Reg(BTYPE as u16), v);
        Ok(())
    }

    // ---- loads and stores ----------------------------------------------------------------------

    /// One load or store: `addr` is where it goes, `wb` the new base to write back.
    #[inline(always)]
    fn ldst_at(&mut self, acc: Access, rt: u32, addr: S::V, wb: Option<(u32, S::V)>) -> R {
        match acc {
            Access::Prefetch => {}
            Access::Store(op) => {
                // Read before the write-back: a store of the base register stores its old value.
                let v = self.x(rt);
                self.s.store(addr, v, op)?;
            }
            Access::Load(op, w) => {
                let v = self.s.load(addr, op)?;
                let v = if w { self.s.un(UnOp::Zext32, v) } else { v };
                if let Some((rn, nb)) = wb {
                    self.s.set(Reg(rn as u16), nb);
                }
                // A load that writes back into its own destination is CONSTRAINED UNPREDICTABLE;
                // the loaded value wins here.
                self.wx(1, rt, v);
                return Ok(());
            }
        }
        if let Some((rn, nb)) = wb {
            self.s.set(Reg(rn as u16), nb);
        }
        Ok(())
    }

    #[inline(always)]
    fn ldst_imm(&mut self, a: &ArgsLdst, off: i64, index: Index) -> R {
        let Some(acc) = access(a.size, a.opc) else { return self.undefined() };
        let base = self.xsp(a.rn);
        let moved = self.opk(BinOp::Add, base, off as u64);
        let (addr, wb) = match index {
            Index::Offset => (moved, None),
            Index::Pre => (moved, Some((a.rn, moved))),
            Index::Post => (base, Some((a.rn, moved))),
        };
        self.ldst_at(acc, a.rt, addr, wb)
    }

    #[inline(always)]
    fn ldst_pair(&mut self, a: &ArgsLdstp, index: Index) -> R {
        // opc 00: 32-bit, 01: LDPSW (32-bit, sign-extended), 10: 64-bit.
        let (op, scale) = match a.opc {
            0 => (MemOp::U32, 2),
            1 => (MemOp::S32, 2),
            _ => (MemOp::U64, 3),
        };
        let off = (a.imm << scale) as u64;
        let base = self.xsp(a.rn);
        let moved = self.opk(BinOp::Add, base, off);
        let addr = if index == Index::Post { base } else { moved };
        if a.l == 1 {
            let (v1, v2) = self.s.load_pair(addr, op)?;
            if index != Index::Offset {
                self.s.set(Reg(a.rn as u16), moved);
            }
            self.wx(1, a.rt, v1);
            self.wx(1, a.rt2, v2);
        } else {
            let v1 = self.x(a.rt);
            let v2 = self.x(a.rt2);
            self.s.store_pair(addr, v1, v2, op)?;
            if index != Index::Offset {
                self.s.set(Reg(a.rn as u16), moved);
            }
        }
        Ok(())
    }

    fn load_literal(&mut self, rt: u32, imm: i64, op: MemOp) -> R {
        let addr = self.k(self.target(imm));
        let v = self.s.load(addr, op)?;
        self.wx(1, rt, v);
        Ok(())
    }
}

impl<'a, 's, S: Sem<Env = Env<'a, Aarch64Cpu>>> Visitor for T<'s, S> {
    type Output = R;

    // ---- data processing: immediate ----
    fn adr(&mut self, a: &ArgsAdr) -> R {
        let v = self.k(self.target(a.imm));
        self.wx(1, a.rd, v);
        Ok(())
    }
    fn adrp(&mut self, a: &ArgsAdr) -> R {
        let v = self.k((self.s.pc() & !0xfff).wrapping_add(a.imm as u64));
        self.wx(1, a.rd, v);
        Ok(())
    }
    fn add_imm(&mut self, a: &ArgsAddsubImm) -> R {
        self.addsub_imm(a, false, false)
    }
    #[inline(always)]
    fn adds_imm(&mut self, a: &ArgsAddsubImm) -> R {
        self.addsub_imm(a, false, true)
    }
    fn sub_imm(&mut self, a: &ArgsAddsubImm) -> R {
        self.addsub_imm(a, true, false)
    }
    #[inline(always)]
    fn subs_imm(&mut self, a: &ArgsAddsubImm) -> R {
        self.addsub_imm(a, true, true)
    }
    #[inline(always)]
    fn and_imm(&mut self, a: &ArgsLogicImm) -> R {
        self.logic_imm(a, BinOp::And, false)
    }
    #[inline(always)]
    fn orr_imm(&mut self, a: &ArgsLogicImm) -> R {
        self.logic_imm(a, BinOp::Or, false)
    }
    fn eor_imm(&mut self, a: &ArgsLogicImm) -> R {
        self.logic_imm(a, BinOp::Xor, false)
    }
    #[inline(always)]
    fn ands_imm(&mut self, a: &ArgsLogicImm) -> R {
        self.logic_imm(a, BinOp::And, true)
    }
    fn movn(&mut self, a: &ArgsMovw) -> R {
        self.mov_wide(a, true, false)
    }
    fn movz(&mut self, a: &ArgsMovw) -> R {
        self.mov_wide(a, false, false)
    }
    fn movk(&mut self, a: &ArgsMovw) -> R {
        self.mov_wide(a, false, true)
    }
    #[inline(always)]
    fn sbfm(&mut self, a: &ArgsBitfield) -> R {
        self.bitfield(a, true, true)
    }
    fn bfm(&mut self, a: &ArgsBitfield) -> R {
        self.bitfield(a, false, false)
    }
    #[inline(always)]
    fn ubfm(&mut self, a: &ArgsBitfield) -> R {
        self.bitfield(a, true, false)
    }
    #[inline(always)]
    fn extr(&mut self, a: &ArgsExtr) -> R {
        let lo = self.xw(a.sf, a.rm);
        let r = if a.lsb == 0 {
            lo
        } else if a.rn == a.rm {
            // ROR (immediate): one host rotate instead of two shifts and an or (sha256's
            // rounds are full of them).
            let rot = if a.sf == 1 { BinOp::Rotr } else { BinOp::Rotr32 };
            self.opk(rot, lo, u64::from(a.lsb))
        } else if a.sf == 1 {
            let hi = self.x(a.rn);
            let lo = self.opk(BinOp::Shr, lo, u64::from(a.lsb));
            let hi = self.opk(BinOp::Shl, hi, 64 - u64::from(a.lsb));
            self.op(BinOp::Or, hi, lo)
        } else {
            // Rn:Rm fits in 64 bits.
            let hi = self.x(a.rn);
            let hi = self.opk(BinOp::Shl, hi, 32);
            let both = self.op(BinOp::Or, hi, lo);
            self.opk(BinOp::Shr, both, u64::from(a.lsb))
        };
        self.wx(a.sf, a.rd, r);
        Ok(())
    }

    // ---- data processing: register ----
    #[inline(always)]
    fn and_reg(&mut self, a: &ArgsShifted) -> R {
        self.logic_reg(a, BinOp::And, false)
    }
    fn bic_reg(&mut self, a: &ArgsShifted) -> R {
        self.logic_reg(a, BinOp::AndNot, false)
    }
    #[inline(always)]
    fn orr_reg(&mut self, a: &ArgsShifted) -> R {
        self.logic_reg(a, BinOp::Or, false)
    }
    #[inline(always)]
    fn orn_reg(&mut self, a: &ArgsShifted) -> R {
        self.logic_reg(a, BinOp::OrNot, false)
    }
    #[inline(always)]
    fn eor_reg(&mut self, a: &ArgsShifted) -> R {
        self.logic_reg(a, BinOp::Xor, false)
    }
    fn eon_reg(&mut self, a: &ArgsShifted) -> R {
        self.logic_reg(a, BinOp::XorNot, false)
    }
    fn ands_reg(&mut self, a: &ArgsShifted) -> R {
        self.logic_reg(a, BinOp::And, true)
    }
    fn bics_reg(&mut self, a: &ArgsShifted) -> R {
        self.logic_reg(a, BinOp::AndNot, true)
    }
    #[inline(always)]
    fn add_reg(&mut self, a: &ArgsShifted) -> R {
        self.addsub_reg(a, false, false)
    }
    #[inline(always)]
    fn adds_reg(&mut self, a: &ArgsShifted) -> R {
        self.addsub_reg(a, false, true)
    }
    #[inline(always)]
    fn sub_reg(&mut self, a: &ArgsShifted) -> R {
        self.addsub_reg(a, true, false)
    }
    #[inline(always)]
    fn subs_reg(&mut self, a: &ArgsShifted) -> R {
        self.addsub_reg(a, true, true)
    }
    fn add_ext(&mut self, a: &ArgsExtended) -> R {
        self.addsub_ext(a, false, false)
    }
    fn adds_ext(&mut self, a: &ArgsExtended) -> R {
        self.addsub_ext(a, false, true)
    }
    fn sub_ext(&mut self, a: &ArgsExtended) -> R {
        self.addsub_ext(a, true, false)
    }
    fn subs_ext(&mut self, a: &ArgsExtended) -> R {
        self.addsub_ext(a, true, true)
    }
    fn adc(&mut self, a: &ArgsRrr) -> R {
        self.adc_sbc(a, false, false)
    }
    fn adcs(&mut self, a: &ArgsRrr) -> R {
        self.adc_sbc(a, false, true)
    }
    fn sbc(&mut self, a: &ArgsRrr) -> R {
        self.adc_sbc(a, true, false)
    }
    fn sbcs(&mut self, a: &ArgsRrr) -> R {
        self.adc_sbc(a, true, true)
    }
    fn ccmn_reg(&mut self, a: &ArgsCcmp) -> R {
        let b = self.xw(a.sf, a.rm);
        self.ccmp(a.sf, a.rn, b, a.cond, a.nzcv, false)
    }
    #[inline(always)]
    fn ccmp_reg(&mut self, a: &ArgsCcmp) -> R {
        let b = self.xw(a.sf, a.rm);
        self.ccmp(a.sf, a.rn, b, a.cond, a.nzcv, true)
    }
    fn ccmn_imm(&mut self, a: &ArgsCcmpImm) -> R {
        let b = self.k(u64::from(a.imm));
        self.ccmp(a.sf, a.rn, b, a.cond, a.nzcv, false)
    }
    #[inline(always)]
    fn ccmp_imm(&mut self, a: &ArgsCcmpImm) -> R {
        let b = self.k(u64::from(a.imm));
        self.ccmp(a.sf, a.rn, b, a.cond, a.nzcv, true)
    }
    #[inline(always)]
    fn csel(&mut self, a: &ArgsCsel) -> R {
        self.csel_op(a, |_, v| v)
    }
    #[inline(always)]
    fn csinc(&mut self, a: &ArgsCsel) -> R {
        self.csel_op(a, |t, v| t.opk(BinOp::Add, v, 1))
    }
    fn csinv(&mut self, a: &ArgsCsel) -> R {
        self.csel_op(a, |t, v| t.s.un(UnOp::Not, v))
    }
    fn csneg(&mut self, a: &ArgsCsel) -> R {
        self.csel_op(a, |t, v| t.s.un(UnOp::Neg, v))
    }
    fn udiv(&mut self, a: &ArgsRrr) -> R {
        self.div(a, false)
    }
    fn sdiv(&mut self, a: &ArgsRrr) -> R {
        self.div(a, true)
    }
    fn lslv(&mut self, a: &ArgsRrr) -> R {
        self.shiftv(a, BinOp::Shl)
    }
    fn lsrv(&mut self, a: &ArgsRrr) -> R {
        self.shiftv(a, BinOp::Shr)
    }
    fn asrv(&mut self, a: &ArgsRrr) -> R {
        self.shiftv(a, BinOp::Sar)
    }
    fn rorv(&mut self, a: &ArgsRrr) -> R {
        self.shiftv(a, BinOp::Rotr)
    }
    fn crc32(&mut self, a: &ArgsCrc) -> R {
        let acc = self.xw(0, a.rn);
        let v = self.x(a.rm);
        let op = self.k((1u64 << a.sz) | u64::from(a.c) << 4);
        let r = self.s.call_local(h::crc32, acc, v, op)?;
        self.wx(0, a.rd, r);
        Ok(())
    }
    fn rbit(&mut self, a: &ArgsRr) -> R {
        let sf = a.sf;
        self.unary(a, |t, x| {
            // Reverse the bytes, then the bits within each byte; a W value ends up in the top
            // half and moves down.
            let v = t.s.un(UnOp::Bswap, x);
            let v = t.swap_bits(v, 0x0f0f_0f0f_0f0f_0f0f, 4);
            let v = t.swap_bits(v, 0x3333_3333_3333_3333, 2);
            let v = t.swap_bits(v, 0x5555_5555_5555_5555, 1);
            if sf == 1 {
                v
            } else {
                t.opk(BinOp::Shr, v, 32)
            }
        })
    }
    fn rev16(&mut self, a: &ArgsRr) -> R {
        self.unary(a, |t, x| t.swap_bits(x, 0x00ff_00ff_00ff_00ff, 8))
    }
    fn rev32(&mut self, a: &ArgsRr) -> R {
        self.unary(a, |t, x| {
            let v = t.s.un(UnOp::Bswap, x);
            t.opk(BinOp::Rotr, v, 32)
        })
    }
    fn rev(&mut self, a: &ArgsRr) -> R {
        let sf = a.sf;
        self.unary(a, |t, x| {
            let v = t.s.un(UnOp::Bswap, x);
            if sf == 1 {
                v
            } else {
                t.opk(BinOp::Shr, v, 32)
            }
        })
    }
    fn clz(&mut self, a: &ArgsRr) -> R {
        let sf = a.sf;
        self.unary(a, |t, x| {
            let n = t.s.un(UnOp::Clz, x);
            if sf == 1 {
                n
            } else {
                t.opk(BinOp::Sub, n, 32)
            }
        })
    }
    fn cls(&mut self, a: &ArgsRr) -> R {
        let sf = a.sf;
        self.unary(a, |t, x| {
            // CountLeadingSignBits: leading zeros of x<N-1:1> EOR x<N-2:0>. Put the value at the
            // top of 64 bits; the bit set just below its lowest position stops the count.
            let (v, stop) = if sf == 1 { (x, 1) } else { (t.opk(BinOp::Shl, x, 32), 1u64 << 32) };
            let sh = t.opk(BinOp::Shl, v, 1);
            let d = t.op(BinOp::Xor, v, sh);
            let d = t.opk(BinOp::Or, d, stop);
            t.s.un(UnOp::Clz, d)
        })
    }
    #[inline(always)]
    fn madd(&mut self, a: &ArgsRrrr) -> R {
        self.mul_add(a, None, false)
    }
    fn msub(&mut self, a: &ArgsRrrr) -> R {
        self.mul_add(a, None, true)
    }
    fn smaddl(&mut self, a: &ArgsRrrr) -> R {
        self.mul_add(a, Some(UnOp::Sext32), false)
    }
    fn smsubl(&mut self, a: &ArgsRrrr) -> R {
        self.mul_add(a, Some(UnOp::Sext32), true)
    }
    #[inline(always)]
    fn umaddl(&mut self, a: &ArgsRrrr) -> R {
        self.mul_add(a, Some(UnOp::Zext32), false)
    }
    fn umsubl(&mut self, a: &ArgsRrrr) -> R {
        self.mul_add(a, Some(UnOp::Zext32), true)
    }
    fn smulh(&mut self, a: &ArgsRrr) -> R {
        let (x, y) = (self.x(a.rn), self.x(a.rm));
        let r = self.op(BinOp::MulHS, x, y);
        self.wx(1, a.rd, r);
        Ok(())
    }
    fn umulh(&mut self, a: &ArgsRrr) -> R {
        let (x, y) = (self.x(a.rn), self.x(a.rm));
        let r = self.op(BinOp::MulHU, x, y);
        self.wx(1, a.rd, r);
        Ok(())
    }

    // ---- branches, hints ----
    fn b(&mut self, a: &ArgsB) -> R {
        let t = self.k(self.target(a.imm));
        self.s.jump(t);
        Ok(())
    }
    fn bl(&mut self, a: &ArgsB) -> R {
        self.link();
        let t = self.k(self.target(a.imm));
        self.s.jump(t);
        Ok(())
    }
    #[inline(always)]
    fn b_cond(&mut self, a: &ArgsBcond) -> R {
        let target = self.target(a.imm);
        if a.cond >> 1 == 7 {
            let t = self.k(target);
            self.s.jump(t);
        } else {
            let c = self.cond_base(a.cond);
            let zero = self.k(0);
            self.s.branch(if cond_inverts(a.cond) { Cond::Eq } else { Cond::Ne }, c, zero, target);
        }
        Ok(())
    }
    fn cbz(&mut self, a: &ArgsCb) -> R {
        let v = self.xw(a.sf, a.rt);
        let zero = self.k(0);
        let target = self.target(a.imm);
        self.s.branch(Cond::Eq, v, zero, target);
        Ok(())
    }
    fn cbnz(&mut self, a: &ArgsCb) -> R {
        let v = self.xw(a.sf, a.rt);
        let zero = self.k(0);
        let target = self.target(a.imm);
        self.s.branch(Cond::Ne, v, zero, target);
        Ok(())
    }
    fn tbz(&mut self, a: &ArgsTb) -> R {
        let v = self.x(a.rt);
        let bit = self.opk(BinOp::And, v, 1u64 << a.bit);
        let zero = self.k(0);
        let target = self.target(a.imm);
        self.s.branch(Cond::Eq, bit, zero, target);
        Ok(())
    }
    fn tbnz(&mut self, a: &ArgsTb) -> R {
        let v = self.x(a.rt);
        let bit = self.opk(BinOp::And, v, 1u64 << a.bit);
        let zero = self.k(0);
        let target = self.target(a.imm);
        self.s.branch(Cond::Ne, bit, zero, target);
        Ok(())
    }
    fn br(&mut self, a: &ArgsBr) -> R {
        let t = self.x(a.rn);
        self.branch_btype(Some(a.rn))?;
        self.s.jump(t);
        Ok(())
    }
    fn blr(&mut self, a: &ArgsBr) -> R {
        // The target is read before the link is written: BLR X30 jumps to the old X30.
        let t = self.x(a.rn);
        self.link();
        self.branch_btype(None)?;
        self.s.jump(t);
        Ok(())
    }
    /// BTI, BTI c/j/jc: a NOP once executed (`translate` checked it as a branch target).
    fn bti(&mut self, _a: &ArgsHint) -> R {
        Ok(())
    }
    fn ret(&mut self, a: &ArgsBr) -> R {
        let t = self.x(a.rn);
        self.s.jump(t);
        Ok(())
    }
    fn wfi(&mut self, _a: &ArgsEmpty) -> R {
        let z = self.k(0);
        self.s.call(h::wfi, z, z, z)?;
        Ok(())
    }
    fn wfe(&mut self, _a: &ArgsEmpty) -> R {
        let z = self.k(0);
        self.s.call(h::wfe, z, z, z)?;
        Ok(())
    }
    /// NOP, YIELD, SEV, SEVL, and the hints of features this CPU does not implement (PAuth,
    /// BTI, ...): no effect.
    fn hint(&mut self, _a: &ArgsHint) -> R {
        Ok(())
    }

    // ---- pointer authentication ----
    fn pac(&mut self, a: &ArgsPac) -> R {
        if !self.pauth() {
            return self.undefined();
        }
        let m = self.modifier(a.rn);
        self.sign(a.rd, m, u64::from(a.key), pauth::pac)
    }
    fn aut(&mut self, a: &ArgsPac) -> R {
        if !self.pauth() {
            return self.undefined();
        }
        let m = self.modifier(a.rn);
        self.sign(a.rd, m, u64::from(a.key), pauth::aut)
    }
    fn xpac(&mut self, a: &ArgsPac) -> R {
        if !self.pauth() {
            return self.undefined();
        }
        let (v, d, z) = (self.x(a.rd), self.k(u64::from(a.key)), self.k(0));
        let r = self.s.call_local(pauth::xpac, v, d, z)?;
        self.wx(1, a.rd, r);
        Ok(())
    }
    fn pacga(&mut self, a: &ArgsRrr) -> R {
        if !self.pauth() {
            return self.undefined();
        }
        let (v, m, z) = (self.x(a.rn), self.xsp(a.rm), self.k(0));
        let r = self.s.call_local(pauth::pacga_helper, v, m, z)?;
        self.wx(1, a.rd, r);
        Ok(())
    }
    /// The hint-space forms: PAC/AUT IA/IB on X17 with X16 (1716), on X30 with zero (Z) or SP
    /// (SP). NOPs without FEAT_PAuth, so that the same binary runs on older CPUs.
    fn pauth_hint(&mut self, a: &ArgsHint) -> R {
        if !self.pauth() {
            return Ok(());
        }
        let (rd, m) = match a.imm {
            8..=15 => (17, self.x(16)),
            _ if a.imm & 1 == 0 => (30, self.k(0)),
            _ => (30, self.s.get(Reg(31))),
        };
        // Bit 1 picks key B, bit 2 authentication (op2 of the 1716 forms, CRm:op2 of the others).
        let key = u64::from(a.imm >> 1 & 1);
        if a.imm & 4 == 0 {
            self.sign(rd, m, key, pauth::pac)
        } else {
            self.sign(rd, m, key, pauth::aut)
        }
    }
    fn xpaclri(&mut self, _a: &ArgsEmpty) -> R {
        if !self.pauth() {
            return Ok(());
        }
        let (v, d, z) = (self.x(30), self.k(0), self.k(0));
        let r = self.s.call_local(pauth::xpac, v, d, z)?;
        self.s.set(Reg(30), r);
        Ok(())
    }
    fn braz(&mut self, a: &ArgsBra) -> R {
        self.branch_auth(a, Kind::Jump)
    }
    fn blraz(&mut self, a: &ArgsBra) -> R {
        self.branch_auth(a, Kind::Call)
    }
    fn bra(&mut self, a: &ArgsBra) -> R {
        self.branch_auth(a, Kind::Jump)
    }
    fn blra(&mut self, a: &ArgsBra) -> R {
        self.branch_auth(a, Kind::Call)
    }
    fn reta(&mut self, a: &ArgsBra) -> R {
        self.branch_auth(a, Kind::Return)
    }
    fn ereta(&mut self, a: &ArgsBra) -> R {
        if !self.pauth() {
            return self.undefined();
        }
        let (raw, key, sp) = (self.k(u64::from(self.raw)), self.k(u64::from(a.m)), self.s.get(Reg(31)));
        let target = self.s.call(pauth::ereta, raw, key, sp)?;
        self.s.jump(target);
        Ok(())
    }
    fn ldra(&mut self, a: &ArgsLdra) -> R {
        if !self.pauth() {
            return self.undefined();
        }
        let base = self.xsp(a.rn);
        let (z, key) = (self.k(0), self.k(2 + u64::from(a.m)));
        let authed = self.s.call_local(pauth::aut, base, z, key)?;
        let addr = self.opk(BinOp::Add, authed, a.imm as u64);
        let wb = (a.w == 1).then_some((a.rn, addr));
        self.ldst_at(Access::Load(MemOp::U64, false), a.rt, addr, wb)
    }

    // ---- system ----
    fn mrs(&mut self, a: &ArgsSysreg) -> R {
        if let Some(r) = sysreg::in_register_file(a.key, self.flags) {
            let v = self.s.get(Reg(r as u16));
            self.wx(1, a.rt, v);
            return Ok(());
        }
        if let Some(c) = sysreg::constant_read(a.key, self.flags) {
            let v = self.k(c);
            self.wx(1, a.rt, v);
            return Ok(());
        }
        let Some(row) = sysreg::lookup(a.key) else {
            self.call_raw(h::unknown_sysreg_read, u64::from(a.key))?;
            return Ok(());
        };
        // Reads change nothing later code depends on (an ICC_IAR1 read only lowers an IRQ).
        let k = self.k(h::pack_sysreg(row, a.key, a.rt));
        let raw = self.k(u64::from(self.raw));
        let z = self.k(0);
        let v = self.s.call_local(h::mrs, k, raw, z)?;
        self.wx(1, a.rt, v);
        Ok(())
    }
    fn msr_reg(&mut self, a: &ArgsSysreg) -> R {
        if let Some(r) = sysreg::in_register_file(a.key, self.flags) {
            let v = self.x(a.rt);
            self.s.set(Reg(r as u16), v);
            return Ok(());
        }
        let Some(row) = sysreg::lookup(a.key) else {
            self.call_raw(h::unknown_sysreg_write, u64::from(a.key))?;
            return Ok(());
        };
        let v = self.x(a.rt);
        let p = self.k(h::pack_sysreg(row, a.key, a.rt));
        let raw = self.k(u64::from(self.raw));
        if sysreg::write_is_local(a.key) {
            self.s.call_local(h::msr, v, p, raw)?;
        } else {
            self.s.call(h::msr, v, p, raw)?;
        }
        Ok(())
    }
    fn msr_imm(&mut self, a: &ArgsPstate) -> R {
        self.call_raw(h::msr_imm, u64::from(a.op1 << 8 | a.crm << 4 | a.op2))?;
        Ok(())
    }
    fn sys(&mut self, a: &ArgsSys) -> R {
        let xt = self.x(a.rt);
        // DC ZVA is allowed above EL0 (no EL2 trap of it is modelled); at EL0 the helper
        // checks SCTLR_EL1.DZE first. Its stores are emitted here, so that a compiling tier
        // makes them inline: Linux clears pages with it, a million times in a boot.
        let zva = (a.op1, a.crn, a.crm, a.op2) == (3, 7, 4, 1);
        if !zva || self.flags & flags::EL_MASK == 0 {
            let op = self.k(u64::from(a.rt << 16 | a.op1 << 12 | a.crn << 8 | a.crm << 4 | a.op2));
            let raw = self.k(u64::from(self.raw));
            if sys_is_local(a.op1, a.crn, a.crm, a.op2) {
                self.s.call_local(h::sys, xt, op, raw)?;
            } else {
                self.s.call(h::sys, xt, op, raw)?;
            }
        }
        if zva {
            // The aligned block, as eight doubleword stores in order (a fault leaves the
            // earlier ones done, and reports its own address).
            let mask = self.k(!(sysreg::DCZ_BYTES - 1));
            let base = self.s.bin(BinOp::And, xt, mask);
            let zero = self.k(0);
            for i in 0..sysreg::DCZ_BYTES / 16 {
                let at = self.s.addi(base, 16 * i);
                self.s.store_pair(at, zero, zero, MemOp::U64)?;
            }
        }
        Ok(())
    }
    fn eret(&mut self, _a: &ArgsEmpty) -> R {
        let raw = self.k(u64::from(self.raw));
        let z = self.k(0);
        let target = self.s.call(h::eret, raw, z, z)?;
        self.s.jump(target);
        Ok(())
    }
    fn svc(&mut self, a: &ArgsExc) -> R {
        self.exception_call(0, a.imm)
    }
    fn hvc(&mut self, a: &ArgsExc) -> R {
        self.exception_call(1, a.imm)
    }
    fn smc(&mut self, a: &ArgsExc) -> R {
        self.exception_call(2, a.imm)
    }
    fn brk(&mut self, a: &ArgsExc) -> R {
        self.exception_call(3, a.imm)
    }
    fn clrex(&mut self, _a: &ArgsEmpty) -> R {
        let z = self.k(0);
        self.s.call_local(h::clear_exclusive, z, z, z)?;
        Ok(())
    }
    // One host thread runs every CPU in turn and devices see memory between slices, so every
    // access is already observed in program order: data barriers have nothing to wait for.
    fn dsb(&mut self, _a: &ArgsBarrier) -> R {
        Ok(())
    }
    fn dmb(&mut self, _a: &ArgsBarrier) -> R {
        Ok(())
    }
    /// Ends the block (see `ends_block`), so that what follows is translated afresh: the
    /// context synchronization system-register writes will rely on.
    fn isb(&mut self, _a: &ArgsEmpty) -> R {
        Ok(())
    }

    // ---- exclusives, acquire/release ----
    // Acquire/release ordering (`ordered`, LDAR/STLR) is implied by the single-threaded
    // execution described above.
    fn ldxr(&mut self, a: &ArgsLdx) -> R {
        let addr = self.xsp(a.rn);
        let n = self.k(1 << a.size);
        let z = self.k(0);
        let v = self.s.call_local(h::load_exclusive, addr, n, z)?;
        self.wx(1, a.rt, v);
        Ok(())
    }
    fn stxr(&mut self, a: &ArgsStx) -> R {
        let addr = self.xsp(a.rn);
        let v = self.x(a.rt);
        let n = self.k(1 << a.size);
        let status = self.s.call_local(h::store_exclusive, addr, v, n)?;
        self.wx(0, a.rs, status);
        Ok(())
    }
    fn ldxp(&mut self, a: &ArgsLdxp) -> R {
        let addr = self.xsp(a.rn);
        let z = self.k(0);
        if a.sz == 1 {
            let regs = self.k(u64::from(a.rt | a.rt2 << 5));
            self.s.call_local(h::load_exclusive_pair, addr, regs, z)?;
        } else {
            // Two W registers are one 8-byte exclusive access, Rt from the lower address.
            let n = self.k(8);
            let v = self.s.call_local(h::load_exclusive, addr, n, z)?;
            let hi = self.opk(BinOp::Shr, v, 32);
            self.wx(0, a.rt, v);
            self.wx(0, a.rt2, hi);
        }
        Ok(())
    }
    fn stxp(&mut self, a: &ArgsStxp) -> R {
        let addr = self.xsp(a.rn);
        let status = if a.sz == 1 {
            let regs = self.k(u64::from(a.rt | a.rt2 << 5));
            let z = self.k(0);
            self.s.call_local(h::store_exclusive_pair, addr, regs, z)?
        } else {
            let lo = self.xw(0, a.rt);
            let hi = self.x(a.rt2);
            let hi = self.opk(BinOp::Shl, hi, 32);
            let v = self.op(BinOp::Or, lo, hi);
            let n = self.k(8);
            self.s.call_local(h::store_exclusive, addr, v, n)?
        };
        self.wx(0, a.rs, status);
        Ok(())
    }
    fn ldar(&mut self, a: &ArgsLdar) -> R {
        let addr = self.xsp(a.rn);
        let op = MemOp::new(size_of(a.size), false);
        let v = self.s.load(addr, op)?;
        self.wx(1, a.rt, v);
        Ok(())
    }
    fn stlr(&mut self, a: &ArgsLdar) -> R {
        let addr = self.xsp(a.rn);
        let v = self.x(a.rt);
        let op = MemOp::new(size_of(a.size), false);
        self.s.store(addr, v, op)
    }

    // ---- FEAT_LSE atomics (sem_atomic.rs) ----
    fn ldadd(&mut self, a: &ArgsAtomic) -> R {
        self.lse_ldop(a, AtomicOp::Add)
    }
    fn ldclr(&mut self, a: &ArgsAtomic) -> R {
        self.lse_ldop(a, AtomicOp::Clr)
    }
    fn ldeor(&mut self, a: &ArgsAtomic) -> R {
        self.lse_ldop(a, AtomicOp::Eor)
    }
    fn ldset(&mut self, a: &ArgsAtomic) -> R {
        self.lse_ldop(a, AtomicOp::Set)
    }
    fn ldsmax(&mut self, a: &ArgsAtomic) -> R {
        self.lse_ldop(a, AtomicOp::Smax)
    }
    fn ldsmin(&mut self, a: &ArgsAtomic) -> R {
        self.lse_ldop(a, AtomicOp::Smin)
    }
    fn ldumax(&mut self, a: &ArgsAtomic) -> R {
        self.lse_ldop(a, AtomicOp::Umax)
    }
    fn ldumin(&mut self, a: &ArgsAtomic) -> R {
        self.lse_ldop(a, AtomicOp::Umin)
    }
    fn swp(&mut self, a: &ArgsAtomic) -> R {
        self.lse_ldop(a, AtomicOp::Swp)
    }
    fn cas(&mut self, a: &ArgsCas) -> R {
        self.lse_cas(a)
    }
    fn casp(&mut self, a: &ArgsCas) -> R {
        self.lse_casp(a)
    }

    // ---- cryptographic extension (crypto.rs) ----
    fn aese(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::aes)
    }
    fn aesd(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::aes)
    }
    fn aesmc(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::aes)
    }
    fn aesimc(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::aes)
    }
    fn sha1c(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::sha3)
    }
    fn sha1p(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::sha3)
    }
    fn sha1m(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::sha3)
    }
    fn sha1su0(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::sha3)
    }
    fn sha256h(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::sha3)
    }
    fn sha256h2(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::sha3)
    }
    fn sha256su1(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::sha3)
    }
    fn sha1h(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::sha2)
    }
    fn sha1su1(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::sha2)
    }
    fn sha256su0(&mut self, _a: &ArgsVcrypt) -> R {
        self.fp_helper(crate::crypto::sha2)
    }

    // ---- loads and stores ----
    #[inline(always)]
    fn ldst_uimm(&mut self, a: &ArgsLdst) -> R {
        self.ldst_imm(a, a.imm << a.size, Index::Offset)
    }
    #[inline(always)]
    fn ldst_unscaled(&mut self, a: &ArgsLdst) -> R {
        self.ldst_imm(a, a.imm, Index::Offset)
    }
    fn ldst_unpriv(&mut self, a: &ArgsLdst) -> R {
        // At EL0 and EL2 an ordinary access; at EL1 one checked with EL0's permissions (PAN
        // aside): EL0's MMU index, inline in compiled code like any access (the kernel's
        // copies to and from user memory are made of these).
        if self.flags & crate::cpu::flags::EL_MASK != 1 {
            return self.ldst_imm(a, a.imm, Index::Offset);
        }
        let Some(acc) = access(a.size, a.opc) else { return self.undefined() };
        let base = self.xsp(a.rn);
        let addr = self.opk(BinOp::Add, base, a.imm as u64);
        match acc {
            Access::Prefetch => {}
            Access::Store(op) => {
                let v = self.x(a.rt);
                self.s.store(addr, v, op.unprivileged())?;
            }
            Access::Load(op, w) => {
                let v = self.s.load(addr, op.unprivileged())?;
                let v = if w { self.s.un(UnOp::Zext32, v) } else { v };
                self.wx(1, a.rt, v);
            }
        }
        Ok(())
    }
    #[inline(always)]
    fn ldst_post(&mut self, a: &ArgsLdst) -> R {
        self.ldst_imm(a, a.imm, Index::Post)
    }
    #[inline(always)]
    fn ldst_pre(&mut self, a: &ArgsLdst) -> R {
        self.ldst_imm(a, a.imm, Index::Pre)
    }
    #[inline(always)]
    fn ldst_reg(&mut self, a: &ArgsLdstReg) -> R {
        let Some(acc) = access(a.size, a.opc) else { return self.undefined() };
        let base = self.xsp(a.rn);
        let m = self.x(a.rm);
        // ext: option<2> (signed) and option<0> (64-bit), option<1> being 1.
        let m = match a.ext {
            0 => self.s.un(UnOp::Zext32, m),
            2 => self.s.un(UnOp::Sext32, m),
            _ => m,
        };
        let m = if a.s == 1 { self.opk(BinOp::Shl, m, u64::from(a.size)) } else { m };
        let addr = self.op(BinOp::Add, base, m);
        self.ldst_at(acc, a.rt, addr, None)
    }
    fn ldr_lit_w(&mut self, a: &ArgsLdlit) -> R {
        self.load_literal(a.rt, a.imm, MemOp::U32)
    }
    fn ldr_lit_x(&mut self, a: &ArgsLdlit) -> R {
        self.load_literal(a.rt, a.imm, MemOp::U64)
    }
    fn ldrsw_lit(&mut self, a: &ArgsLdlit) -> R {
        self.load_literal(a.rt, a.imm, MemOp::S32)
    }
    fn prfm_lit(&mut self, _a: &ArgsLdlit) -> R {
        Ok(())
    }
    fn ldstp_nt(&mut self, a: &ArgsLdstp) -> R {
        self.ldst_pair(a, Index::Offset)
    }
    #[inline(always)]
    fn ldstp_post(&mut self, a: &ArgsLdstp) -> R {
        self.ldst_pair(a, Index::Post)
    }
    #[inline(always)]
    fn ldstp_off(&mut self, a: &ArgsLdstp) -> R {
        self.ldst_pair(a, Index::Offset)
    }
    #[inline(always)]
    fn ldstp_pre(&mut self, a: &ArgsLdstp) -> R {
        self.ldst_pair(a, Index::Pre)
    }

    // ---- SIMD&FP (sem_simd.rs, simd.rs, fp.rs) ----
    fn vldst_uimm(&mut self, a: &ArgsVldst) -> R {
        self.vldst_imm(a, true, Index::Offset)
    }
    fn vldst_unscaled(&mut self, a: &ArgsVldst) -> R {
        self.vldst_imm(a, false, Index::Offset)
    }
    fn vldst_post(&mut self, a: &ArgsVldst) -> R {
        self.vldst_imm(a, false, Index::Post)
    }
    fn vldst_pre(&mut self, a: &ArgsVldst) -> R {
        self.vldst_imm(a, false, Index::Pre)
    }
    fn vldst_reg(&mut self, a: &ArgsVldstReg) -> R {
        self.vldst_regoff(a)
    }
    fn vldr_lit(&mut self, a: &ArgsVldlit) -> R {
        self.vldr_literal(a)
    }
    fn vldstp_nt(&mut self, a: &ArgsVldstp) -> R {
        self.vldst_pair(a, Index::Offset)
    }
    fn vldstp_post(&mut self, a: &ArgsVldstp) -> R {
        self.vldst_pair(a, Index::Post)
    }
    fn vldstp_off(&mut self, a: &ArgsVldstp) -> R {
        self.vldst_pair(a, Index::Offset)
    }
    fn vldstp_pre(&mut self, a: &ArgsVldstp) -> R {
        self.vldst_pair(a, Index::Pre)
    }
    fn vldst_multi(&mut self, a: &ArgsVlsm) -> R {
        self.vldst_multiple(a)
    }
    fn vldst_multi_post(&mut self, a: &ArgsVlsm) -> R {
        self.vldst_multiple(a)
    }
    fn vldst_single(&mut self, _a: &ArgsVlss) -> R {
        self.fp_helper(crate::simd::ldst_single)
    }
    fn vldst_single_post(&mut self, _a: &ArgsVlss) -> R {
        self.fp_helper(crate::simd::ldst_single)
    }
    fn fp_int(&mut self, a: &ArgsFint) -> R {
        self.fp_int_moves(a)
    }
    fn fp_fixed(&mut self, _a: &ArgsFint) -> R {
        self.fp_helper(crate::fp::fp_int)
    }
    fn fp_imm(&mut self, _a: &ArgsFimm) -> R {
        self.fp_helper(crate::fp::fp_imm)
    }
    fn fp_1src(&mut self, a: &ArgsF1) -> R {
        self.fp_1src_inline(a)
    }
    fn fp_2src(&mut self, _a: &ArgsF2) -> R {
        self.fp_helper(crate::fp::fp_2src)
    }
    fn fp_3src(&mut self, _a: &ArgsF3) -> R {
        self.fp_helper(crate::fp::fp_3src)
    }
    fn fp_cmp(&mut self, _a: &ArgsFcmp) -> R {
        self.fp_helper(crate::fp::fp_cmp)
    }
    fn fp_ccmp(&mut self, _a: &ArgsFccmp) -> R {
        self.fp_helper(crate::fp::fp_ccmp)
    }
    fn fp_csel(&mut self, _a: &ArgsFcsel) -> R {
        self.fp_helper(crate::fp::fp_csel)
    }
    fn simd_3same(&mut self, a: &ArgsV3) -> R {
        self.simd_3same_inline(a)
    }
    fn simd_3diff(&mut self, _a: &ArgsV3) -> R {
        self.fp_helper(crate::simd::three_diff)
    }
    fn simd_2misc(&mut self, _a: &ArgsV2) -> R {
        self.fp_helper(crate::simd::two_misc)
    }
    fn simd_across(&mut self, _a: &ArgsV2) -> R {
        self.fp_helper(crate::simd::across)
    }
    fn simd_copy(&mut self, a: &ArgsVcopy) -> R {
        self.simd_copy_inline(a)
    }
    fn simd_modimm(&mut self, _a: &ArgsVmodimm) -> R {
        self.fp_helper(crate::simd::modimm)
    }
    fn simd_shift(&mut self, a: &ArgsVshift) -> R {
        self.simd_shift_inline(a)
    }
    fn simd_ext(&mut self, _a: &ArgsVext) -> R {
        self.fp_helper(crate::simd::ext)
    }
    fn simd_perm(&mut self, _a: &ArgsV3) -> R {
        self.fp_helper(crate::simd::perm)
    }
    fn simd_tbl(&mut self, _a: &ArgsVtbl) -> R {
        self.fp_helper(crate::simd::tbl)
    }
    fn simd_s3same(&mut self, _a: &ArgsV3) -> R {
        self.fp_helper(crate::simd::three_same)
    }
    fn simd_s3diff(&mut self, _a: &ArgsV3) -> R {
        self.fp_helper(crate::simd::three_diff)
    }
    fn simd_s2misc(&mut self, _a: &ArgsV2) -> R {
        self.fp_helper(crate::simd::two_misc)
    }
    fn simd_spair(&mut self, _a: &ArgsV2) -> R {
        self.fp_helper(crate::simd::scalar_pair)
    }
    fn simd_sshift(&mut self, _a: &ArgsVshift) -> R {
        self.fp_helper(crate::simd::shift)
    }
    fn simd_scopy(&mut self, _a: &ArgsVcopy) -> R {
        self.fp_helper(crate::simd::copy)
    }
    fn simd_elem(&mut self, _a: &ArgsVelem) -> R {
        self.fp_helper(crate::simd::by_elem)
    }
    fn simd_selem(&mut self, _a: &ArgsVelem) -> R {
        self.fp_helper(crate::simd::by_elem)
    }
}

#[cfg(test)]
mod tests {
    use super::decode_bit_masks;

    #[test]
    fn bit_masks_cover_every_element_size() {
        // (N, imms, immr) -> 64-bit wmask, one per element size 2..64.
        assert_eq!(decode_bit_masks(0, 0b111100, 0, true, 64), Some((0x5555_5555_5555_5555, 0x5555_5555_5555_5555)));
        assert_eq!(decode_bit_masks(0, 0b111001, 1, true, 64).unwrap().0, 0x9999_9999_9999_9999);
        assert_eq!(decode_bit_masks(0, 0b110010, 0, true, 64).unwrap().0, 0x0707_0707_0707_0707);
        assert_eq!(decode_bit_masks(0, 0b100111, 4, true, 64).unwrap().0, 0xf00f_f00f_f00f_f00f);
        assert_eq!(decode_bit_masks(0, 0b001111, 16, true, 64).unwrap().0, 0xffff_0000_ffff_0000);
        assert_eq!(decode_bit_masks(1, 0b011111, 32, true, 64).unwrap().0, 0xffff_ffff_0000_0000);
        assert_eq!(decode_bit_masks(1, 0b111110, 0, true, 64).unwrap().0, 0x7fff_ffff_ffff_ffff);
    }

    #[test]
    fn bit_masks_reject_all_ones_and_no_length() {
        assert_eq!(decode_bit_masks(1, 0b111111, 0, true, 64), None);
        assert_eq!(decode_bit_masks(0, 0b111101, 0, true, 64), None);
        assert_eq!(decode_bit_masks(0, 0b111111, 0, true, 32), None);
        // All-ones elements are fine for the bitfield instructions.
        assert!(decode_bit_masks(1, 0b111111, 0, false, 64).is_some());
    }

    #[test]
    fn bit_masks_w_form_replicates_over_32_bits() {
        assert_eq!(decode_bit_masks(0, 0b000111, 0, true, 32).unwrap().0, 0xff);
        assert_eq!(decode_bit_masks(0, 0b110000, 0, true, 32).unwrap().0, 0x0101_0101);
    }
}
