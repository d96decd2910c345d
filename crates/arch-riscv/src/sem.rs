//! The meaning of every instruction, written once against `mimic_ir::Sem`.
//!
//! Each method of the generated `Visitor` is one instruction. Register numbers, immediates, the
//! pc and the block flags are translation-time Rust values; everything else is `S::V`.

use crate::cpu::{flags, RiscvCpu, RvInsn, FREG_BASE};
use crate::decode::*;
use crate::helpers::{self as h, amo, cvt, fop, pack};
use mimic_core::MemOp;
use mimic_exec::{Direct, Env};
use mimic_ir::{BinOp, Cond, Exit, Helper, Reg, Sem, UnOp};

/// Execute one decoded instruction on the interpreter tier.
#[inline(always)]
pub fn execute(insn: &RvInsn, block_flags: u32, s: &mut Direct<'_, RiscvCpu>) -> Result<(), Exit> {
    translate(insn, block_flags, s)
}

/// Emit (or run) one instruction's semantics on any tier.
#[inline(always)]
pub fn translate<'a, S: Sem<Env = Env<'a, RiscvCpu>>>(insn: &RvInsn, block_flags: u32, s: &mut S) -> Result<(), Exit> {
    let mut t = T { s, raw: insn.insn.raw(), len: insn.len as u64, flags: block_flags };
    match insn.insn.visit(&mut t) {
        Some(r) => r,
        None => t.illegal(),
    }
}

/// Whether a block must end after this instruction: control flow, and anything that changes
/// privilege, translation or the flags later instructions were decoded under.
pub fn ends_block(insn: &RvInsn) -> bool {
    use Insn::*;
    match insn.op() {
        None => true,
        Some(i) => matches!(
            i,
            Jal(_)
                | Jalr(_)
                | Beq(_)
                | Bne(_)
                | Blt(_)
                | Bge(_)
                | Bltu(_)
                | Bgeu(_)
                | Ecall(_)
                | Ebreak(_)
                | Mret(_)
                | Sret(_)
                | Wfi(_)
                | SfenceVma(_)
                | FenceI(_)
                | Csrrw(_)
                | Csrrs(_)
                | Csrrc(_)
                | Csrrwi(_)
                | Csrrsi(_)
                | Csrrci(_)
        ),
    }
}

/// Whether a CSR instruction changes nothing that the translation of later code, the choice of
/// the next block or the delivery of an interrupt depends on, so that compiled code may chain on
/// after it ([`Sem::call_local`]) instead of returning to the loop: a read without side effects
/// (`sip`/`mip` reads update the timer bit, which may make an interrupt pending), a write of
/// trap-handling state (`xscratch`, `xepc`, `xcause`, `xtval`), and clearing only `SIE`/`MIE`
/// of `sstatus`/`mstatus` with an immediate (Linux's `local_irq_save`/`_disable`: masking makes
/// no interrupt deliverable). Unmasking, and everything else, returns to the loop.
fn csr_is_local(csr: u16, op: u64, write: bool, uimm: Option<u64>) -> bool {
    const SIE: u64 = 1 << 1;
    const MIE: u64 = 1 << 3;
    match (csr, write) {
        (0x144 | 0x344, _) => false,
        (_, false) => true,
        (0x140..=0x143 | 0x340..=0x343, true) => true,
        (0x100 | 0x300, true) => op == 2 && uimm.is_some_and(|v| v & !(SIE | MIE) == 0),
        _ => false,
    }
}

/// Where FSGNJ* takes the result's sign from.
#[derive(Clone, Copy)]
enum Sgnj {
    /// rs2's sign.
    Copy,
    /// rs2's sign, inverted.
    Negate,
    /// rs1's sign xor rs2's.
    Xor,
}

struct T<'s, S> {
    s: &'s mut S,
    raw: u32,
    len: u64,
    flags: u32,
}

type R = Result<(), Exit>;

fn xr(r: u32) -> Reg {
    Reg(r as u16)
}

impl<'a, 's, S: Sem<Env = Env<'a, RiscvCpu>>> T<'s, S> {
    #[inline(always)]
    fn x(&mut self, r: u32) -> S::V {
        if r == 0 {
            self.s.imm(0)
        } else {
            self.s.get(xr(r))
        }
    }
    #[inline(always)]
    fn wx(&mut self, rd: u32, v: S::V) {
        if rd != 0 {
            self.s.set(xr(rd), v);
        }
    }
    #[inline(always)]
    fn imm(&mut self, v: i64) -> S::V {
        self.s.imm(v as u64)
    }
    fn illegal(&mut self) -> R {
        let raw = self.s.imm(self.raw as u64);
        let z = self.s.imm(0);
        self.s.call(h::illegal, raw, z, z)?;
        Ok(())
    }
    fn call(&mut self, f: Helper<S::Env>, a: u64, b: u64) -> Result<S::V, Exit> {
        let (a, b, raw) = (self.s.imm(a), self.s.imm(b), self.s.imm(self.raw as u64));
        self.s.call(f, a, b, raw)
    }

    // Shapes shared by instruction families.
    #[inline(always)]
    fn rr(&mut self, a: &ArgsR, op: BinOp) -> R {
        let (x, y) = (self.x(a.rs1), self.x(a.rs2));
        let v = self.s.bin(op, x, y);
        self.wx(a.rd, v);
        Ok(())
    }
    #[inline(always)]
    fn rr_w(&mut self, a: &ArgsR, op: BinOp, pre: Option<UnOp>) -> R {
        let (mut x, mut y) = (self.x(a.rs1), self.x(a.rs2));
        if let Some(p) = pre {
            x = self.s.un(p, x);
            y = self.s.un(p, y);
        }
        let v = self.s.bin(op, x, y);
        let v = self.s.un(UnOp::Sext32, v);
        self.wx(a.rd, v);
        Ok(())
    }
    #[inline(always)]
    fn ri(&mut self, a: &ArgsI, op: BinOp) -> R {
        let x = self.x(a.rs1);
        let y = self.imm(a.imm);
        let v = self.s.bin(op, x, y);
        self.wx(a.rd, v);
        Ok(())
    }
    #[inline(always)]
    fn sh(&mut self, a: &ArgsShift, op: BinOp) -> R {
        let x = self.x(a.rs1);
        let y = self.s.imm(a.shamt as u64);
        let v = self.s.bin(op, x, y);
        self.wx(a.rd, v);
        Ok(())
    }
    /// 32-bit shift: `pre` extends the operand, the amount is masked to 5 bits, and the result
    /// is sign-extended.
    #[inline(always)]
    fn shw(&mut self, rd: u32, x: S::V, amt: S::V, op: BinOp, pre: UnOp) -> R {
        let x = self.s.un(pre, x);
        let m = self.s.imm(31);
        let amt = self.s.bin(BinOp::And, amt, m);
        let v = self.s.bin(op, x, amt);
        let v = self.s.un(UnOp::Sext32, v);
        self.wx(rd, v);
        Ok(())
    }
    #[inline(always)]
    fn un(&mut self, a: &ArgsR2, op: UnOp) -> R {
        let x = self.x(a.rs1);
        let v = self.s.un(op, x);
        self.wx(a.rd, v);
        Ok(())
    }
    #[inline(always)]
    fn setc(&mut self, rd: u32, c: Cond, x: S::V, y: S::V) -> R {
        let v = self.s.setcond(c, x, y);
        self.wx(rd, v);
        Ok(())
    }
    #[inline(always)]
    fn br(&mut self, a: &ArgsB, c: Cond) -> R {
        let (x, y) = (self.x(a.rs1), self.x(a.rs2));
        let target = self.s.pc().wrapping_add(a.imm as u64);
        self.s.branch(c, x, y, target);
        Ok(())
    }
    #[inline(always)]
    fn ld(&mut self, a: &ArgsI, op: MemOp) -> R {
        let base = self.x(a.rs1);
        let addr = self.s.addi(base, a.imm as u64);
        let v = self.s.load(addr, op)?;
        self.wx(a.rd, v);
        Ok(())
    }
    #[inline(always)]
    fn st(&mut self, a: &ArgsS, op: MemOp) -> R {
        let base = self.x(a.rs1);
        let addr = self.s.addi(base, a.imm as u64);
        let v = self.x(a.rs2);
        self.s.store(addr, v, op)
    }
    /// `rs2 + (f(rs1) << n)` for the Zba shift-and-add family.
    #[inline(always)]
    fn shadd(&mut self, a: &ArgsR, n: u64, uw: bool) -> R {
        let mut x = self.x(a.rs1);
        if uw {
            x = self.s.un(UnOp::Zext32, x);
        }
        let n = self.s.imm(n);
        let x = self.s.bin(BinOp::Shl, x, n);
        let y = self.x(a.rs2);
        let v = self.s.add(x, y);
        self.wx(a.rd, v);
        Ok(())
    }
    /// Single-bit operations: `op(rs1, 1 << (amt & 63))`, or extract.
    #[inline(always)]
    fn bit(&mut self, rd: u32, rs1: u32, amt: S::V, op: Option<BinOp>) -> R {
        let x = self.x(rs1);
        let m = self.s.imm(63);
        let amt = self.s.bin(BinOp::And, amt, m);
        let v = match op {
            Some(op) => {
                let one = self.s.imm(1);
                let b = self.s.bin(BinOp::Shl, one, amt);
                self.s.bin(op, x, b)
            }
            None => {
                let v = self.s.bin(BinOp::Shr, x, amt);
                let one = self.s.imm(1);
                self.s.bin(BinOp::And, v, one)
            }
        };
        self.wx(rd, v);
        Ok(())
    }
    /// 32-bit rotate of the low word by `amt & 31`, sign-extended.
    #[inline(always)]
    fn rotw(&mut self, rd: u32, x: S::V, amt: S::V, left: bool) -> R {
        let x = self.s.un(UnOp::Zext32, x);
        let m = self.s.imm(31);
        let amt = self.s.bin(BinOp::And, amt, m);
        let k32 = self.s.imm(32);
        let inv = self.s.bin(BinOp::Sub, k32, amt);
        let (a, b) = if left { (BinOp::Shl, BinOp::Shr) } else { (BinOp::Shr, BinOp::Shl) };
        let p = self.s.bin(a, x, amt);
        let q = self.s.bin(b, x, inv);
        // A rotate by 0 must not shift by 32 in the other direction and keep stray bits: the
        // sign extension below only looks at the low word, where a shift by 32 leaves zeros.
        let v = self.s.bin(BinOp::Or, p, q);
        let v = self.s.un(UnOp::Sext32, v);
        self.wx(rd, v);
        Ok(())
    }
    /// `uimm` is the source of the immediate forms, which [`csr_is_local`] may look at.
    fn csr(&mut self, a: &ArgsCsr, op: u64, src: S::V, write: bool, uimm: Option<u64>) -> R {
        let packed = a.csr as u64 | op << 12 | (write as u64) << 14;
        let p = self.s.imm(packed);
        let raw = self.s.imm(self.raw as u64);
        let old = if csr_is_local(a.csr as u16, op, write, uimm) {
            self.s.call_local(h::csr, src, p, raw)?
        } else {
            self.s.call(h::csr, src, p, raw)?
        };
        self.wx(a.rd, old);
        Ok(())
    }
    /// LR and SC (and the AMOs' helper, see `rmw`) touch registers, memory and the reservation
    /// only: a compiled run may go on into the next block after them (a store into a code page
    /// still stops it).
    fn amo(&mut self, a: &ArgsAtomic, f: Helper<S::Env>) -> R {
        let addr = self.x(a.rs1);
        let v = self.x(a.rs2);
        let z = self.s.imm(0);
        let old = self.s.call_local(f, addr, v, z)?;
        self.wx(a.rd, old);
        Ok(())
    }

    /// An AMO: `h::amo` is its meaning, which a compiling tier may do inline (`Sem::rmw`).
    fn rmw<const OP: u8, const D: bool>(&mut self, a: &ArgsAtomic) -> R {
        let addr = self.x(a.rs1);
        let v = self.x(a.rs2);
        let mem = if D { MemOp::U64 } else { MemOp::S32 };
        let old = self.s.rmw(h::amo_op(OP), addr, v, mem, h::amo::<OP, D>)?;
        self.wx(a.rd, old);
        Ok(())
    }

    // Floating point: legal only while mstatus.FS is not Off (a translation-time flag).
    fn fp_on(&self) -> bool {
        self.flags & flags::FS_ON != 0
    }
    /// The FP helpers read and write FP registers, `frm` and `fflags`, and set `mstatus.FS` to
    /// Dirty. Only that last change touches the block flags, and code translated for a clean FS
    /// is still right once it is dirty (it just marks it again), so a compiled run may go on.
    fn fp(&mut self, f: Helper<S::Env>, regs: u64, rm: u32) -> R {
        if !self.fp_on() {
            return self.illegal();
        }
        let (regs, rm, raw) = (self.s.imm(regs), self.s.imm(rm as u64), self.s.imm(self.raw as u64));
        self.s.call_local(f, regs, rm, raw)?;
        Ok(())
    }
    fn fs_dirty(&mut self) -> R {
        if self.flags & flags::FS_DIRTY == 0 {
            self.call(h::fs_dirty, 0, 0)?;
        }
        Ok(())
    }
    /// A single's register value as the F extension reads it: NaN-boxed as it is, or the
    /// (boxed) canonical NaN when the upper half is not all ones.
    fn unbox_s(&mut self, v: S::V) -> S::V {
        let boxv = self.s.imm(0xffff_ffff_0000_0000);
        let ok = self.s.setcond(Cond::GeU, v, boxv);
        let nan = self.s.imm(0xffff_ffff_7fc0_0000);
        self.s.select(ok, v, nan)
    }
    /// FSGNJ/FSGNJN/FSGNJX (and so FMV, FNEG, FABS): bit operations only, no flags, so inline
    /// rather than a helper. A single's result keeps the all-ones upper half of its unboxed
    /// first operand, so it comes out NaN-boxed.
    fn sgnj(&mut self, a: &ArgsR, kind: Sgnj, double: bool) -> R {
        if !self.fp_on() {
            return self.illegal();
        }
        let mut x = self.s.get(Reg(FREG_BASE as u16 + a.rs1 as u16));
        let mut y = self.s.get(Reg(FREG_BASE as u16 + a.rs2 as u16));
        if !double {
            x = self.unbox_s(x);
            y = self.unbox_s(y);
        }
        let sign = self.s.imm(if double { 1 << 63 } else { 1 << 31 });
        let s = match kind {
            Sgnj::Copy => self.s.bin(BinOp::And, y, sign),
            Sgnj::Negate => self.s.bin(BinOp::AndNot, sign, y),
            Sgnj::Xor => {
                let t = self.s.bin(BinOp::Xor, x, y);
                self.s.bin(BinOp::And, t, sign)
            }
        };
        let mag = self.s.bin(BinOp::AndNot, x, sign);
        let v = self.s.bin(BinOp::Or, mag, s);
        self.s.set(Reg(FREG_BASE as u16 + a.rd as u16), v);
        self.fs_dirty()
    }
    fn fload(&mut self, a: &ArgsI, op: MemOp, boxed: bool) -> R {
        if !self.fp_on() {
            return self.illegal();
        }
        let base = self.x(a.rs1);
        let addr = self.s.addi(base, a.imm as u64);
        let mut v = self.s.load(addr, op)?;
        if boxed {
            let b = self.s.imm(0xffff_ffff_0000_0000);
            v = self.s.bin(BinOp::Or, v, b);
        }
        self.s.set(Reg(FREG_BASE as u16 + a.rd as u16), v);
        self.fs_dirty()
    }
    fn fstore(&mut self, a: &ArgsS, op: MemOp) -> R {
        if !self.fp_on() {
            return self.illegal();
        }
        let base = self.x(a.rs1);
        let addr = self.s.addi(base, a.imm as u64);
        let v = self.s.get(Reg(FREG_BASE as u16 + a.rs2 as u16));
        self.s.store(addr, v, op)
    }
}

macro_rules! r3 { ($($name:ident => $op:expr;)*) => { $(
    #[inline(always)] fn $name(&mut self, a: &ArgsR) -> R { self.rr(a, $op) }
)* } }
macro_rules! ri { ($($name:ident => $op:expr;)*) => { $(
    #[inline(always)] fn $name(&mut self, a: &ArgsI) -> R { self.ri(a, $op) }
)* } }
macro_rules! shi { ($($name:ident => $op:expr;)*) => { $(
    #[inline(always)] fn $name(&mut self, a: &ArgsShift) -> R { self.sh(a, $op) }
)* } }
macro_rules! un { ($($name:ident => $op:expr;)*) => { $(
    #[inline(always)] fn $name(&mut self, a: &ArgsR2) -> R { self.un(a, $op) }
)* } }
macro_rules! loads { ($($name:ident => $op:expr;)*) => { $(
    #[inline(always)] fn $name(&mut self, a: &ArgsI) -> R { self.ld(a, $op) }
)* } }
macro_rules! stores { ($($name:ident => $op:expr;)*) => { $(
    #[inline(always)] fn $name(&mut self, a: &ArgsS) -> R { self.st(a, $op) }
)* } }
macro_rules! branches { ($($name:ident => $c:expr;)*) => { $(
    #[inline(always)] fn $name(&mut self, a: &ArgsB) -> R { self.br(a, $c) }
)* } }
macro_rules! amos { ($($name:ident => $f:expr;)*) => { $(
    fn $name(&mut self, a: &ArgsAtomic) -> R { self.amo(a, $f) }
)* } }
macro_rules! rmws { ($($name:ident => $op:expr, $d:expr;)*) => { $(
    fn $name(&mut self, a: &ArgsAtomic) -> R { self.rmw::<{ $op }, $d>(a) }
)* } }
macro_rules! fp_rrm { ($($name:ident => $f:expr;)*) => { $(
    fn $name(&mut self, a: &ArgsRRm) -> R { self.fp($f, pack(a.rd, a.rs1, a.rs2, 0), a.rm) }
)* } }
macro_rules! fp_rr { ($($name:ident => $f:expr;)*) => { $(
    fn $name(&mut self, a: &ArgsR) -> R { self.fp($f, pack(a.rd, a.rs1, a.rs2, 0), 0) }
)* } }
macro_rules! fp_r2rm { ($($name:ident => $f:expr;)*) => { $(
    fn $name(&mut self, a: &ArgsR2Rm) -> R { self.fp($f, pack(a.rd, a.rs1, 0, 0), a.rm) }
)* } }
macro_rules! fp_r4 { ($($name:ident => $f:expr;)*) => { $(
    fn $name(&mut self, a: &ArgsR4Rm) -> R { self.fp($f, pack(a.rd, a.rs1, a.rs2, a.rs3), a.rm) }
)* } }

impl<'a, 's, S: Sem<Env = Env<'a, RiscvCpu>>> Visitor for T<'s, S> {
    type Output = R;

    // ---- RV64I ----
    fn lui(&mut self, a: &ArgsU) -> R {
        let v = self.imm(a.imm);
        self.wx(a.rd, v);
        Ok(())
    }
    fn auipc(&mut self, a: &ArgsU) -> R {
        let v = self.s.imm(self.s.pc().wrapping_add(a.imm as u64));
        self.wx(a.rd, v);
        Ok(())
    }
    fn jal(&mut self, a: &ArgsJ) -> R {
        let pc = self.s.pc();
        let link = self.s.imm(pc.wrapping_add(self.len));
        let target = self.s.imm(pc.wrapping_add(a.imm as u64));
        self.wx(a.rd, link);
        self.s.jump(target);
        Ok(())
    }
    fn jalr(&mut self, a: &ArgsI) -> R {
        let base = self.x(a.rs1);
        let t = self.s.addi(base, a.imm as u64);
        let mask = self.s.imm(!1);
        let t = self.s.bin(BinOp::And, t, mask);
        let link = self.s.imm(self.s.pc().wrapping_add(self.len));
        self.wx(a.rd, link);
        self.s.jump(t);
        Ok(())
    }
    branches! {
        beq => Cond::Eq; bne => Cond::Ne; blt => Cond::LtS; bge => Cond::GeS; bltu => Cond::LtU; bgeu => Cond::GeU;
    }
    loads! {
        lb => MemOp::S8; lh => MemOp::S16; lw => MemOp::S32; ld => MemOp::U64;
        lbu => MemOp::U8; lhu => MemOp::U16; lwu => MemOp::U32;
    }
    stores! { sb => MemOp::U8; sh => MemOp::U16; sw => MemOp::U32; sd => MemOp::U64; }
    ri! { addi => BinOp::Add; xori => BinOp::Xor; ori => BinOp::Or; andi => BinOp::And; }
    fn slti(&mut self, a: &ArgsI) -> R {
        let (x, y) = (self.x(a.rs1), self.imm(a.imm));
        self.setc(a.rd, Cond::LtS, x, y)
    }
    fn sltiu(&mut self, a: &ArgsI) -> R {
        let (x, y) = (self.x(a.rs1), self.imm(a.imm));
        self.setc(a.rd, Cond::LtU, x, y)
    }
    shi! { slli => BinOp::Shl; srli => BinOp::Shr; srai => BinOp::Sar; rori => BinOp::Rotr; }
    fn addiw(&mut self, a: &ArgsI) -> R {
        let x = self.x(a.rs1);
        let v = self.s.addi(x, a.imm as u64);
        let v = self.s.un(UnOp::Sext32, v);
        self.wx(a.rd, v);
        Ok(())
    }
    fn slliw(&mut self, a: &ArgsShift) -> R {
        let (x, n) = (self.x(a.rs1), self.s.imm(a.shamt as u64));
        self.shw(a.rd, x, n, BinOp::Shl, UnOp::Zext32)
    }
    fn srliw(&mut self, a: &ArgsShift) -> R {
        let (x, n) = (self.x(a.rs1), self.s.imm(a.shamt as u64));
        self.shw(a.rd, x, n, BinOp::Shr, UnOp::Zext32)
    }
    fn sraiw(&mut self, a: &ArgsShift) -> R {
        let (x, n) = (self.x(a.rs1), self.s.imm(a.shamt as u64));
        self.shw(a.rd, x, n, BinOp::Sar, UnOp::Sext32)
    }
    r3! {
        add => BinOp::Add; sub => BinOp::Sub; sll => BinOp::Shl; xor => BinOp::Xor; srl => BinOp::Shr;
        sra => BinOp::Sar; or => BinOp::Or; and => BinOp::And;
        mul => BinOp::Mul; mulh => BinOp::MulHS; mulhsu => BinOp::MulHSU; mulhu => BinOp::MulHU;
        div => BinOp::DivS; divu => BinOp::DivU; rem => BinOp::RemS; remu => BinOp::RemU;
        andn => BinOp::AndNot; orn => BinOp::OrNot; xnor => BinOp::XorNot;
        max => BinOp::MaxS; maxu => BinOp::MaxU; min => BinOp::MinS; minu => BinOp::MinU;
        rol => BinOp::Rotl; ror => BinOp::Rotr;
    }
    fn slt(&mut self, a: &ArgsR) -> R {
        let (x, y) = (self.x(a.rs1), self.x(a.rs2));
        self.setc(a.rd, Cond::LtS, x, y)
    }
    fn sltu(&mut self, a: &ArgsR) -> R {
        let (x, y) = (self.x(a.rs1), self.x(a.rs2));
        self.setc(a.rd, Cond::LtU, x, y)
    }
    fn addw(&mut self, a: &ArgsR) -> R {
        self.rr_w(a, BinOp::Add, None)
    }
    fn subw(&mut self, a: &ArgsR) -> R {
        self.rr_w(a, BinOp::Sub, None)
    }
    fn mulw(&mut self, a: &ArgsR) -> R {
        self.rr_w(a, BinOp::Mul, None)
    }
    // Extending the operands first makes the 64-bit division rules produce the 32-bit ones:
    // INT32_MIN / -1 stays INT32_MIN after sign extension, and x / 0 is -1.
    fn divw(&mut self, a: &ArgsR) -> R {
        self.rr_w(a, BinOp::DivS, Some(UnOp::Sext32))
    }
    fn divuw(&mut self, a: &ArgsR) -> R {
        self.rr_w(a, BinOp::DivU, Some(UnOp::Zext32))
    }
    fn remw(&mut self, a: &ArgsR) -> R {
        self.rr_w(a, BinOp::RemS, Some(UnOp::Sext32))
    }
    fn remuw(&mut self, a: &ArgsR) -> R {
        self.rr_w(a, BinOp::RemU, Some(UnOp::Zext32))
    }
    fn sllw(&mut self, a: &ArgsR) -> R {
        let (x, n) = (self.x(a.rs1), self.x(a.rs2));
        self.shw(a.rd, x, n, BinOp::Shl, UnOp::Zext32)
    }
    fn srlw(&mut self, a: &ArgsR) -> R {
        let (x, n) = (self.x(a.rs1), self.x(a.rs2));
        self.shw(a.rd, x, n, BinOp::Shr, UnOp::Zext32)
    }
    fn sraw(&mut self, a: &ArgsR) -> R {
        let (x, n) = (self.x(a.rs1), self.x(a.rs2));
        self.shw(a.rd, x, n, BinOp::Sar, UnOp::Sext32)
    }
    // Memory ordering is trivially satisfied by one hart executing in program order.
    fn fence(&mut self, _a: &ArgsFence) -> R {
        Ok(())
    }
    // Stores to pages holding decoded code already dropped the stale blocks; ending the block
    // here is what makes the new code visible.
    fn fence_i(&mut self, _a: &ArgsEmpty) -> R {
        Ok(())
    }
    fn ecall(&mut self, _a: &ArgsEmpty) -> R {
        self.call(h::ecall, 0, 0)?;
        Ok(())
    }
    fn ebreak(&mut self, _a: &ArgsEmpty) -> R {
        let pc = self.s.pc();
        self.call(h::ebreak, pc, 0)?;
        Ok(())
    }

    // ---- Zicsr ----
    fn csrrw(&mut self, a: &ArgsCsr) -> R {
        let v = self.x(a.rs1);
        self.csr(a, 0, v, true, None)
    }
    fn csrrs(&mut self, a: &ArgsCsr) -> R {
        let v = self.x(a.rs1);
        self.csr(a, 1, v, a.rs1 != 0, None)
    }
    fn csrrc(&mut self, a: &ArgsCsr) -> R {
        let v = self.x(a.rs1);
        self.csr(a, 2, v, a.rs1 != 0, None)
    }
    fn csrrwi(&mut self, a: &ArgsCsr) -> R {
        let v = self.s.imm(a.rs1 as u64);
        self.csr(a, 0, v, true, Some(a.rs1 as u64))
    }
    fn csrrsi(&mut self, a: &ArgsCsr) -> R {
        let v = self.s.imm(a.rs1 as u64);
        self.csr(a, 1, v, a.rs1 != 0, Some(a.rs1 as u64))
    }
    fn csrrci(&mut self, a: &ArgsCsr) -> R {
        let v = self.s.imm(a.rs1 as u64);
        self.csr(a, 2, v, a.rs1 != 0, Some(a.rs1 as u64))
    }

    // ---- privileged ----
    fn mret(&mut self, _a: &ArgsEmpty) -> R {
        let pc = self.call(h::mret, self.raw as u64, 0)?;
        self.s.jump(pc);
        Ok(())
    }
    fn sret(&mut self, _a: &ArgsEmpty) -> R {
        let pc = self.call(h::sret, self.raw as u64, 0)?;
        self.s.jump(pc);
        Ok(())
    }
    fn wfi(&mut self, _a: &ArgsEmpty) -> R {
        self.call(h::wfi, self.raw as u64, 0)?;
        Ok(())
    }
    fn sfence_vma(&mut self, a: &ArgsSfence) -> R {
        let raw = self.s.imm(self.raw as u64);
        let va = self.x(a.rs1);
        let z = self.s.imm(0);
        self.s.call(h::sfence_vma, raw, va, z)?;
        Ok(())
    }

    // ---- A ----
    fn lr_w(&mut self, a: &ArgsAtomic) -> R {
        self.amo(a, h::lr::<false>)
    }
    fn lr_d(&mut self, a: &ArgsAtomic) -> R {
        self.amo(a, h::lr::<true>)
    }
    amos! {
        sc_w => h::sc::<false>; sc_d => h::sc::<true>;
    }
    rmws! {
        amoswap_w => amo::SWAP, false; amoadd_w => amo::ADD, false; amoxor_w => amo::XOR, false;
        amoand_w => amo::AND, false; amoor_w => amo::OR, false; amomin_w => amo::MIN, false;
        amomax_w => amo::MAX, false; amominu_w => amo::MINU, false; amomaxu_w => amo::MAXU, false;
        amoswap_d => amo::SWAP, true; amoadd_d => amo::ADD, true; amoxor_d => amo::XOR, true;
        amoand_d => amo::AND, true; amoor_d => amo::OR, true; amomin_d => amo::MIN, true;
        amomax_d => amo::MAX, true; amominu_d => amo::MINU, true; amomaxu_d => amo::MAXU, true;
    }

    // ---- F and D ----
    fn flw(&mut self, a: &ArgsI) -> R {
        self.fload(a, MemOp::U32, true)
    }
    fn fld(&mut self, a: &ArgsI) -> R {
        self.fload(a, MemOp::U64, false)
    }
    fn fsw(&mut self, a: &ArgsS) -> R {
        self.fstore(a, MemOp::U32)
    }
    fn fsd(&mut self, a: &ArgsS) -> R {
        self.fstore(a, MemOp::U64)
    }
    fp_r4! {
        fmadd_s => h::fp_fma::<false, false, false>; fmsub_s => h::fp_fma::<false, true, false>;
        fnmsub_s => h::fp_fma::<true, false, false>; fnmadd_s => h::fp_fma::<true, true, false>;
        fmadd_d => h::fp_fma::<false, false, true>; fmsub_d => h::fp_fma::<false, true, true>;
        fnmsub_d => h::fp_fma::<true, false, true>; fnmadd_d => h::fp_fma::<true, true, true>;
    }
    fp_rrm! {
        fadd_s => h::fp_bin::<{ fop::ADD }, false>; fsub_s => h::fp_bin::<{ fop::SUB }, false>;
        fmul_s => h::fp_bin::<{ fop::MUL }, false>; fdiv_s => h::fp_bin::<{ fop::DIV }, false>;
        fadd_d => h::fp_bin::<{ fop::ADD }, true>; fsub_d => h::fp_bin::<{ fop::SUB }, true>;
        fmul_d => h::fp_bin::<{ fop::MUL }, true>; fdiv_d => h::fp_bin::<{ fop::DIV }, true>;
    }
    fp_rr! {
        fmin_s => h::fp_bin::<{ fop::MIN }, false>; fmax_s => h::fp_bin::<{ fop::MAX }, false>;
        fmin_d => h::fp_bin::<{ fop::MIN }, true>; fmax_d => h::fp_bin::<{ fop::MAX }, true>;
        feq_s => h::fp_cmp::<0, false>; flt_s => h::fp_cmp::<1, false>; fle_s => h::fp_cmp::<2, false>;
        feq_d => h::fp_cmp::<0, true>; flt_d => h::fp_cmp::<1, true>; fle_d => h::fp_cmp::<2, true>;
    }
    fp_r2rm! {
        fsqrt_s => h::fp_sqrt::<false>; fsqrt_d => h::fp_sqrt::<true>;
        fcvt_w_s => h::fp_to_int::<{ cvt::W }, false>; fcvt_wu_s => h::fp_to_int::<{ cvt::WU }, false>;
        fcvt_l_s => h::fp_to_int::<{ cvt::L }, false>; fcvt_lu_s => h::fp_to_int::<{ cvt::LU }, false>;
        fcvt_w_d => h::fp_to_int::<{ cvt::W }, true>; fcvt_wu_d => h::fp_to_int::<{ cvt::WU }, true>;
        fcvt_l_d => h::fp_to_int::<{ cvt::L }, true>; fcvt_lu_d => h::fp_to_int::<{ cvt::LU }, true>;
        fcvt_s_w => h::fp_from_int::<{ cvt::W }, false>; fcvt_s_wu => h::fp_from_int::<{ cvt::WU }, false>;
        fcvt_s_l => h::fp_from_int::<{ cvt::L }, false>; fcvt_s_lu => h::fp_from_int::<{ cvt::LU }, false>;
        fcvt_d_w => h::fp_from_int::<{ cvt::W }, true>; fcvt_d_wu => h::fp_from_int::<{ cvt::WU }, true>;
        fcvt_d_l => h::fp_from_int::<{ cvt::L }, true>; fcvt_d_lu => h::fp_from_int::<{ cvt::LU }, true>;
        fcvt_s_d => h::fp_convert::<false>; fcvt_d_s => h::fp_convert::<true>;
    }
    fn fsgnj_s(&mut self, a: &ArgsR) -> R {
        self.sgnj(a, Sgnj::Copy, false)
    }
    fn fsgnjn_s(&mut self, a: &ArgsR) -> R {
        self.sgnj(a, Sgnj::Negate, false)
    }
    fn fsgnjx_s(&mut self, a: &ArgsR) -> R {
        self.sgnj(a, Sgnj::Xor, false)
    }
    fn fsgnj_d(&mut self, a: &ArgsR) -> R {
        self.sgnj(a, Sgnj::Copy, true)
    }
    fn fsgnjn_d(&mut self, a: &ArgsR) -> R {
        self.sgnj(a, Sgnj::Negate, true)
    }
    fn fsgnjx_d(&mut self, a: &ArgsR) -> R {
        self.sgnj(a, Sgnj::Xor, true)
    }
    fn fclass_s(&mut self, a: &ArgsR2) -> R {
        self.fp(h::fp_class::<false>, pack(a.rd, a.rs1, 0, 0), 0)
    }
    fn fclass_d(&mut self, a: &ArgsR2) -> R {
        self.fp(h::fp_class::<true>, pack(a.rd, a.rs1, 0, 0), 0)
    }
    fn fmv_x_w(&mut self, a: &ArgsR2) -> R {
        if !self.fp_on() {
            return self.illegal();
        }
        let v = self.s.get(Reg(FREG_BASE as u16 + a.rs1 as u16));
        let v = self.s.un(UnOp::Sext32, v);
        self.wx(a.rd, v);
        Ok(())
    }
    fn fmv_x_d(&mut self, a: &ArgsR2) -> R {
        if !self.fp_on() {
            return self.illegal();
        }
        let v = self.s.get(Reg(FREG_BASE as u16 + a.rs1 as u16));
        self.wx(a.rd, v);
        Ok(())
    }
    fn fmv_w_x(&mut self, a: &ArgsR2) -> R {
        if !self.fp_on() {
            return self.illegal();
        }
        let v = self.x(a.rs1);
        let v = self.s.un(UnOp::Zext32, v);
        let b = self.s.imm(0xffff_ffff_0000_0000);
        let v = self.s.bin(BinOp::Or, v, b);
        self.s.set(Reg(FREG_BASE as u16 + a.rd as u16), v);
        self.fs_dirty()
    }
    fn fmv_d_x(&mut self, a: &ArgsR2) -> R {
        if !self.fp_on() {
            return self.illegal();
        }
        let v = self.x(a.rs1);
        self.s.set(Reg(FREG_BASE as u16 + a.rd as u16), v);
        self.fs_dirty()
    }

    // ---- Zba ----
    fn add_uw(&mut self, a: &ArgsR) -> R {
        self.shadd(a, 0, true)
    }
    fn sh1add(&mut self, a: &ArgsR) -> R {
        self.shadd(a, 1, false)
    }
    fn sh2add(&mut self, a: &ArgsR) -> R {
        self.shadd(a, 2, false)
    }
    fn sh3add(&mut self, a: &ArgsR) -> R {
        self.shadd(a, 3, false)
    }
    fn sh1add_uw(&mut self, a: &ArgsR) -> R {
        self.shadd(a, 1, true)
    }
    fn sh2add_uw(&mut self, a: &ArgsR) -> R {
        self.shadd(a, 2, true)
    }
    fn sh3add_uw(&mut self, a: &ArgsR) -> R {
        self.shadd(a, 3, true)
    }
    fn slli_uw(&mut self, a: &ArgsShift) -> R {
        let x = self.x(a.rs1);
        let x = self.s.un(UnOp::Zext32, x);
        let n = self.s.imm(a.shamt as u64);
        let v = self.s.bin(BinOp::Shl, x, n);
        self.wx(a.rd, v);
        Ok(())
    }

    // ---- Zbb ----
    un! {
        clz => UnOp::Clz; ctz => UnOp::Ctz; cpop => UnOp::Popcnt; sext_b => UnOp::Sext8; sext_h => UnOp::Sext16;
        zext_h => UnOp::Zext16; orc_b => UnOp::OrcB; rev8 => UnOp::Bswap;
    }
    // clzw/ctzw count within the low word; a sentinel bit makes a zero word count as 32.
    fn clzw(&mut self, a: &ArgsR2) -> R {
        let x = self.x(a.rs1);
        let k = self.s.imm(32);
        let x = self.s.bin(BinOp::Shl, x, k);
        let sentinel = self.s.imm(1 << 31);
        let x = self.s.bin(BinOp::Or, x, sentinel);
        let v = self.s.un(UnOp::Clz, x);
        self.wx(a.rd, v);
        Ok(())
    }
    fn ctzw(&mut self, a: &ArgsR2) -> R {
        let x = self.x(a.rs1);
        let sentinel = self.s.imm(1 << 32);
        let x = self.s.bin(BinOp::Or, x, sentinel);
        let v = self.s.un(UnOp::Ctz, x);
        self.wx(a.rd, v);
        Ok(())
    }
    fn cpopw(&mut self, a: &ArgsR2) -> R {
        let x = self.x(a.rs1);
        let x = self.s.un(UnOp::Zext32, x);
        let v = self.s.un(UnOp::Popcnt, x);
        self.wx(a.rd, v);
        Ok(())
    }
    fn rolw(&mut self, a: &ArgsR) -> R {
        let (x, n) = (self.x(a.rs1), self.x(a.rs2));
        self.rotw(a.rd, x, n, true)
    }
    fn rorw(&mut self, a: &ArgsR) -> R {
        let (x, n) = (self.x(a.rs1), self.x(a.rs2));
        self.rotw(a.rd, x, n, false)
    }
    fn roriw(&mut self, a: &ArgsShift) -> R {
        let (x, n) = (self.x(a.rs1), self.s.imm(a.shamt as u64));
        self.rotw(a.rd, x, n, false)
    }

    // ---- Zbs ----
    fn bclr(&mut self, a: &ArgsR) -> R {
        let n = self.x(a.rs2);
        self.bit(a.rd, a.rs1, n, Some(BinOp::AndNot))
    }
    fn bext(&mut self, a: &ArgsR) -> R {
        let n = self.x(a.rs2);
        self.bit(a.rd, a.rs1, n, None)
    }
    fn binv(&mut self, a: &ArgsR) -> R {
        let n = self.x(a.rs2);
        self.bit(a.rd, a.rs1, n, Some(BinOp::Xor))
    }
    fn bset(&mut self, a: &ArgsR) -> R {
        let n = self.x(a.rs2);
        self.bit(a.rd, a.rs1, n, Some(BinOp::Or))
    }
    fn bclri(&mut self, a: &ArgsShift) -> R {
        let n = self.s.imm(a.shamt as u64);
        self.bit(a.rd, a.rs1, n, Some(BinOp::AndNot))
    }
    fn bexti(&mut self, a: &ArgsShift) -> R {
        let n = self.s.imm(a.shamt as u64);
        self.bit(a.rd, a.rs1, n, None)
    }
    fn binvi(&mut self, a: &ArgsShift) -> R {
        let n = self.s.imm(a.shamt as u64);
        self.bit(a.rd, a.rs1, n, Some(BinOp::Xor))
    }
    fn bseti(&mut self, a: &ArgsShift) -> R {
        let n = self.s.imm(a.shamt as u64);
        self.bit(a.rd, a.rs1, n, Some(BinOp::Or))
    }

    // ---- Zicond ----
    fn czero_eqz(&mut self, a: &ArgsR) -> R {
        let (x, c, z) = (self.x(a.rs1), self.x(a.rs2), self.s.imm(0));
        let v = self.s.select(c, x, z);
        self.wx(a.rd, v);
        Ok(())
    }
    fn czero_nez(&mut self, a: &ArgsR) -> R {
        let (x, c, z) = (self.x(a.rs1), self.x(a.rs2), self.s.imm(0));
        let v = self.s.select(c, z, x);
        self.wx(a.rd, v);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::csr_is_local;

    const CLEAR: u64 = 2;
    const SET: u64 = 1;

    #[test]
    fn masking_and_trap_state_csr_writes_chain_on_but_unmasking_returns_to_the_loop() {
        // csrci sstatus, SIE / csrrci a0, mstatus, MIE|SIE: local_irq_save and _disable.
        assert!(csr_is_local(0x100, CLEAR, true, Some(2)));
        assert!(csr_is_local(0x300, CLEAR, true, Some(8 | 2)));
        assert!(csr_is_local(0x140, 0, true, None), "sscratch");
        assert!(csr_is_local(0x341, 0, true, None), "mepc");
        assert!(csr_is_local(0xc01, SET, false, None), "rdtime");
        // Unmasking, a register operand, another bit, satp or sie: back to the loop.
        assert!(!csr_is_local(0x100, SET, true, Some(2)));
        assert!(!csr_is_local(0x100, CLEAR, true, None));
        assert!(!csr_is_local(0x100, CLEAR, true, Some(0x12)), "SIE and bit 4");
        assert!(!csr_is_local(0x180, 0, true, None), "satp");
        assert!(!csr_is_local(0x104, 0, true, None), "sie");
        // Reading sip/mip brings the timer bit up to date.
        assert!(!csr_is_local(0x144, SET, false, None));
        assert!(!csr_is_local(0x344, SET, false, None));
    }
}
