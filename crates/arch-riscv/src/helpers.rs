//! Helpers: plain functions every execution tier calls for the instructions too large or too rare
//! to express as `Sem` operations — floating point, CSRs, atomics and privileged instructions.
//!
//! Each takes the environment and three operands and returns a value or `Exit` (exception
//! recorded). Register numbers and operation variants arrive as translation-time constants
//! (packed operands, const generics), so a helper reads and writes the register file itself.

use crate::cpu::{Priv, RiscvCpu};
use crate::csr::{mstatus as ms, CsrOp};
use crate::mmu::Target;
use crate::trap::Cause;
use mimic_core::Size;
use mimic_exec::Env;
use mimic_fpu::{self as fpu, Flags, Rm};
use mimic_ir::{BinOp, Exit};

/// Pack FP register numbers for a helper: `rd | rs1 << 5 | rs2 << 10 | rs3 << 15`.
pub const fn pack(rd: u32, rs1: u32, rs2: u32, rs3: u32) -> u64 {
    (rd | rs1 << 5 | rs2 << 10 | rs3 << 15) as u64
}
fn unpack(p: u64) -> (usize, usize, usize, usize) {
    ((p & 31) as usize, (p >> 5 & 31) as usize, (p >> 10 & 31) as usize, (p >> 15 & 31) as usize)
}

pub fn illegal(e: &mut Env<'_, RiscvCpu>, insn: u64, _: u64, _: u64) -> Result<u64, Exit> {
    e.cpu.exception(Cause::IllegalInstruction, insn)
}

// ---- system --------------------------------------------------------------------------------

pub fn ecall(e: &mut Env<'_, RiscvCpu>, _: u64, _: u64, _: u64) -> Result<u64, Exit> {
    let cause = match e.cpu.prv {
        Priv::U => Cause::EcallU,
        Priv::S => Cause::EcallS,
        Priv::M => Cause::EcallM,
    };
    e.cpu.exception(cause, 0)
}

pub fn ebreak(e: &mut Env<'_, RiscvCpu>, pc: u64, _: u64, _: u64) -> Result<u64, Exit> {
    e.cpu.exception(Cause::Breakpoint, pc)
}

pub fn mret(e: &mut Env<'_, RiscvCpu>, insn: u64, _: u64, _: u64) -> Result<u64, Exit> {
    if e.cpu.prv != Priv::M {
        return illegal(e, insn, 0, 0);
    }
    Ok(e.cpu.mret())
}

pub fn sret(e: &mut Env<'_, RiscvCpu>, insn: u64, _: u64, _: u64) -> Result<u64, Exit> {
    let c = &e.cpu;
    if c.prv == Priv::U || (c.prv == Priv::S && c.csr.mstatus & ms::TSR != 0) {
        return illegal(e, insn, 0, 0);
    }
    Ok(e.cpu.sret())
}

pub fn wfi(e: &mut Env<'_, RiscvCpu>, insn: u64, _: u64, _: u64) -> Result<u64, Exit> {
    let c = &e.cpu;
    if c.prv == Priv::U || (c.prv == Priv::S && c.csr.mstatus & ms::TW != 0) {
        return illegal(e, insn, 0, 0);
    }
    e.cpu.halted = true;
    Ok(0)
}

pub fn sfence_vma(e: &mut Env<'_, RiscvCpu>, insn: u64, vaddr: u64, _: u64) -> Result<u64, Exit> {
    let c = &e.cpu;
    if c.prv == Priv::U || (c.prv == Priv::S && c.csr.mstatus & ms::TVM != 0) {
        return illegal(e, insn, 0, 0);
    }
    // rs1 = x0 orders every address; otherwise only the page of rs1's value (of any ASID: the
    // TLB has no ASID tags, so dropping more than asked is always allowed).
    if (insn >> 15) & 31 == 0 {
        e.cpu.tlb.flush_all();
    } else {
        e.cpu.tlb.flush_page(vaddr);
    }
    Ok(0)
}

/// `b` packs `csr | op << 12 | write << 14`; `a` is the operand (rs1 value or uimm).
pub fn csr(e: &mut Env<'_, RiscvCpu>, val: u64, packed: u64, insn: u64) -> Result<u64, Exit> {
    let op = match packed >> 12 & 3 {
        0 => CsrOp::Write,
        1 => CsrOp::Set,
        _ => CsrOp::Clear,
    };
    e.cpu.csr_access((packed & 0xfff) as u16, op, val, packed >> 14 & 1 != 0, insn as u32)
}

pub fn fs_dirty(e: &mut Env<'_, RiscvCpu>, _: u64, _: u64, _: u64) -> Result<u64, Exit> {
    e.cpu.set_fs_dirty();
    Ok(0)
}

// ---- atomics --------------------------------------------------------------------------------

fn size_of<const D: bool>() -> Size {
    if D {
        Size::B8
    } else {
        Size::B4
    }
}
fn ext<const D: bool>(v: u64) -> u64 {
    if D {
        v
    } else {
        v as i32 as i64 as u64
    }
}
/// Reservations are kept by location. Backing-store offsets are tagged with the top bit so they
/// never equal a device's physical address.
fn location(t: Target) -> u64 {
    match t {
        Target::Ram(off) => (1 << 63) | off as u64,
        Target::Phys(pa) => pa,
    }
}

pub fn lr<const D: bool>(e: &mut Env<'_, RiscvCpu>, addr: u64, _: u64, _: u64) -> Result<u64, Exit> {
    let size = size_of::<D>();
    if addr & (size.bytes() - 1) != 0 {
        return e.cpu.exception(Cause::LoadMisaligned, addr);
    }
    let t = e.cpu.translate_load(e.bus, addr, size.bytes())?;
    let v = match t {
        Target::Ram(off) => mimic_memory::read_le(&e.bus.store()[off..off + size.bytes() as usize]),
        Target::Phys(pa) => match e.bus.read(pa, size) {
            Ok(v) => v,
            Err(_) => return e.cpu.exception(Cause::LoadAccess, addr),
        },
    };
    e.cpu.reservation = Some(location(t));
    Ok(ext::<D>(v))
}

pub fn sc<const D: bool>(e: &mut Env<'_, RiscvCpu>, addr: u64, val: u64, _: u64) -> Result<u64, Exit> {
    let size = size_of::<D>();
    if addr & (size.bytes() - 1) != 0 {
        return e.cpu.exception(Cause::StoreMisaligned, addr);
    }
    let t = e.cpu.translate_store(e.bus, addr, size.bytes())?;
    let held = e.cpu.reservation.take();
    if held != Some(location(t)) {
        return Ok(1);
    }
    e.cpu.write_target(e.bus, addr, t, size, val)?;
    Ok(0)
}

pub mod amo {
    pub const SWAP: u8 = 0;
    pub const ADD: u8 = 1;
    pub const XOR: u8 = 2;
    pub const AND: u8 = 3;
    pub const OR: u8 = 4;
    pub const MIN: u8 = 5;
    pub const MAX: u8 = 6;
    pub const MINU: u8 = 7;
    pub const MAXU: u8 = 8;
}

/// What AMO `op` computes from the old value and the operand (`None`: the operand). On the
/// sign-extended values of a .W form the 64-bit operation has the right low 32 bits: sign
/// extension keeps both signed and unsigned order.
pub const fn amo_op(op: u8) -> Option<BinOp> {
    match op {
        amo::ADD => Some(BinOp::Add),
        amo::XOR => Some(BinOp::Xor),
        amo::AND => Some(BinOp::And),
        amo::OR => Some(BinOp::Or),
        amo::MIN => Some(BinOp::MinS),
        amo::MAX => Some(BinOp::MaxS),
        amo::MINU => Some(BinOp::MinU),
        amo::MAXU => Some(BinOp::MaxU),
        _ => None,
    }
}

pub fn amo<const OP: u8, const D: bool>(e: &mut Env<'_, RiscvCpu>, addr: u64, val: u64, _: u64) -> Result<u64, Exit> {
    let size = size_of::<D>();
    if addr & (size.bytes() - 1) != 0 {
        return e.cpu.exception(Cause::StoreMisaligned, addr);
    }
    let t = e.cpu.translate_store(e.bus, addr, size.bytes())?;
    let old = ext::<D>(e.cpu.read_target(e.bus, addr, t, size)?);
    let b = ext::<D>(val);
    let new = match amo_op(OP) {
        Some(op) => op.eval(old, b),
        None => b,
    };
    e.cpu.write_target(e.bus, addr, t, size, new)?;
    Ok(old)
}

// ---- floating point -------------------------------------------------------------------------

const BOX: u64 = 0xffff_ffff_0000_0000;

/// A single-precision value is valid only NaN-boxed; anything else reads as the canonical NaN.
fn unbox(v: u64) -> u32 {
    if v & BOX == BOX {
        v as u32
    } else {
        fpu::F32_CANONICAL_NAN
    }
}
fn boxed(v: u32) -> u64 {
    BOX | v as u64
}

fn rm(cpu: &mut RiscvCpu, rm: u64, insn: u64) -> Result<Rm, Exit> {
    let r = if rm == 7 { cpu.csr.frm } else { rm };
    match Rm::from_bits(r) {
        Some(m) => Ok(m),
        None => cpu.exception(Cause::IllegalInstruction, insn),
    }
}

fn accrue(cpu: &mut RiscvCpu, f: Flags) {
    cpu.csr.fflags |= f.bits() as u64;
    cpu.set_fs_dirty();
}

/// Write an FP result: NaN-box singles.
fn set_fp<const D: bool>(cpu: &mut RiscvCpu, rd: usize, v: u64, f: Flags) {
    cpu.set_f(rd, if D { v } else { boxed(v as u32) });
    accrue(cpu, f);
}

fn fop<const D: bool>(cpu: &RiscvCpu, r: usize) -> u64 {
    if D {
        cpu.f(r)
    } else {
        unbox(cpu.f(r)) as u64
    }
}

pub mod fop {
    pub const ADD: u8 = 0;
    pub const SUB: u8 = 1;
    pub const MUL: u8 = 2;
    pub const DIV: u8 = 3;
    pub const MIN: u8 = 4;
    pub const MAX: u8 = 5;
}

pub fn fp_bin<const OP: u8, const D: bool>(
    e: &mut Env<'_, RiscvCpu>,
    regs: u64,
    r: u64,
    insn: u64,
) -> Result<u64, Exit> {
    let (rd, rs1, rs2, _) = unpack(regs);
    let cpu = &mut *e.cpu;
    let (a, b) = (fop::<D>(cpu, rs1), fop::<D>(cpu, rs2));
    let (v, f) = if matches!(OP, fop::MIN | fop::MAX) {
        match (OP, D) {
            (fop::MIN, true) => fpu::f64_min(a, b),
            (fop::MIN, false) => widen(fpu::f32_min(a as u32, b as u32)),
            (_, true) => fpu::f64_max(a, b),
            (_, false) => widen(fpu::f32_max(a as u32, b as u32)),
        }
    } else {
        let m = rm(cpu, r, insn)?;
        match (OP, D) {
            (fop::ADD, true) => fpu::f64_add(a, b, m),
            (fop::SUB, true) => fpu::f64_sub(a, b, m),
            (fop::MUL, true) => fpu::f64_mul(a, b, m),
            (_, true) => fpu::f64_div(a, b, m),
            (fop::ADD, false) => widen(fpu::f32_add(a as u32, b as u32, m)),
            (fop::SUB, false) => widen(fpu::f32_sub(a as u32, b as u32, m)),
            (fop::MUL, false) => widen(fpu::f32_mul(a as u32, b as u32, m)),
            (_, false) => widen(fpu::f32_div(a as u32, b as u32, m)),
        }
    };
    set_fp::<D>(cpu, rd, v, f);
    Ok(0)
}

fn widen((v, f): (u32, Flags)) -> (u64, Flags) {
    (v as u64, f)
}

pub fn fp_sqrt<const D: bool>(e: &mut Env<'_, RiscvCpu>, regs: u64, r: u64, insn: u64) -> Result<u64, Exit> {
    let (rd, rs1, _, _) = unpack(regs);
    let cpu = &mut *e.cpu;
    let m = rm(cpu, r, insn)?;
    let a = fop::<D>(cpu, rs1);
    let (v, f) = if D { fpu::f64_sqrt(a, m) } else { widen(fpu::f32_sqrt(a as u32, m)) };
    set_fp::<D>(cpu, rd, v, f);
    Ok(0)
}

pub fn fp_fma<const NEG_PROD: bool, const NEG_ADD: bool, const D: bool>(
    e: &mut Env<'_, RiscvCpu>,
    regs: u64,
    r: u64,
    insn: u64,
) -> Result<u64, Exit> {
    let (rd, rs1, rs2, rs3) = unpack(regs);
    let cpu = &mut *e.cpu;
    let m = rm(cpu, r, insn)?;
    let (a, b, c) = (fop::<D>(cpu, rs1), fop::<D>(cpu, rs2), fop::<D>(cpu, rs3));
    let (v, f) = if D {
        fpu::f64_fma(a, b, c, NEG_PROD, NEG_ADD, m)
    } else {
        widen(fpu::f32_fma(a as u32, b as u32, c as u32, NEG_PROD, NEG_ADD, m))
    };
    set_fp::<D>(cpu, rd, v, f);
    Ok(0)
}

/// feq (KIND 0), flt (1), fle (2): the result goes to an integer register.
pub fn fp_cmp<const KIND: u8, const D: bool>(
    e: &mut Env<'_, RiscvCpu>,
    regs: u64,
    _: u64,
    _: u64,
) -> Result<u64, Exit> {
    let (rd, rs1, rs2, _) = unpack(regs);
    let cpu = &mut *e.cpu;
    let (a, b) = (fop::<D>(cpu, rs1), fop::<D>(cpu, rs2));
    let (v, f) = match (KIND, D) {
        (0, true) => fpu::f64_eq(a, b),
        (1, true) => fpu::f64_lt(a, b),
        (_, true) => fpu::f64_le(a, b),
        (0, false) => fpu::f32_eq(a as u32, b as u32),
        (1, false) => fpu::f32_lt(a as u32, b as u32),
        (_, false) => fpu::f32_le(a as u32, b as u32),
    };
    cpu.set_x(rd, v as u64);
    accrue(cpu, f);
    Ok(0)
}

pub fn fp_class<const D: bool>(e: &mut Env<'_, RiscvCpu>, regs: u64, _: u64, _: u64) -> Result<u64, Exit> {
    let (rd, rs1, _, _) = unpack(regs);
    let cpu = &mut *e.cpu;
    let a = fop::<D>(cpu, rs1);
    let v = if D { fpu::f64_classify(a) } else { fpu::f32_classify(a as u32) };
    cpu.set_x(rd, v);
    Ok(0)
}

pub mod cvt {
    pub const W: u8 = 0;
    pub const WU: u8 = 1;
    pub const L: u8 = 2;
    pub const LU: u8 = 3;
}

/// fcvt.{w,wu,l,lu}.{s,d}: float to integer register.
pub fn fp_to_int<const KIND: u8, const D: bool>(
    e: &mut Env<'_, RiscvCpu>,
    regs: u64,
    r: u64,
    insn: u64,
) -> Result<u64, Exit> {
    let (rd, rs1, _, _) = unpack(regs);
    let cpu = &mut *e.cpu;
    let m = rm(cpu, r, insn)?;
    let a = fop::<D>(cpu, rs1);
    let (v, f) = match (KIND, D) {
        (cvt::W, true) => {
            let (v, f) = fpu::f64_to_i32(a, m);
            (v as i64 as u64, f)
        }
        (cvt::WU, true) => {
            let (v, f) = fpu::f64_to_u32(a, m);
            (v as i32 as i64 as u64, f)
        }
        (cvt::L, true) => {
            let (v, f) = fpu::f64_to_i64(a, m);
            (v as u64, f)
        }
        (_, true) => fpu::f64_to_u64(a, m),
        (cvt::W, false) => {
            let (v, f) = fpu::f32_to_i32(a as u32, m);
            (v as i64 as u64, f)
        }
        (cvt::WU, false) => {
            let (v, f) = fpu::f32_to_u32(a as u32, m);
            (v as i32 as i64 as u64, f)
        }
        (cvt::L, false) => {
            let (v, f) = fpu::f32_to_i64(a as u32, m);
            (v as u64, f)
        }
        (_, false) => fpu::f32_to_u64(a as u32, m),
    };
    cpu.set_x(rd, v);
    accrue(cpu, f);
    Ok(0)
}

/// fcvt.{s,d}.{w,wu,l,lu}: integer register to float.
pub fn fp_from_int<const KIND: u8, const D: bool>(
    e: &mut Env<'_, RiscvCpu>,
    regs: u64,
    r: u64,
    insn: u64,
) -> Result<u64, Exit> {
    let (rd, rs1, _, _) = unpack(regs);
    let cpu = &mut *e.cpu;
    let m = rm(cpu, r, insn)?;
    let x = cpu.x(rs1);
    let (v, f) = match (KIND, D) {
        (cvt::W, true) => fpu::i32_to_f64(x as i32, m),
        (cvt::WU, true) => fpu::u32_to_f64(x as u32, m),
        (cvt::L, true) => fpu::i64_to_f64(x as i64, m),
        (_, true) => fpu::u64_to_f64(x, m),
        (cvt::W, false) => widen(fpu::i32_to_f32(x as i32, m)),
        (cvt::WU, false) => widen(fpu::u32_to_f32(x as u32, m)),
        (cvt::L, false) => widen(fpu::i64_to_f32(x as i64, m)),
        (_, false) => widen(fpu::u64_to_f32(x, m)),
    };
    set_fp::<D>(cpu, rd, v, f);
    Ok(0)
}

/// fcvt.s.d (TO_D false) and fcvt.d.s (TO_D true).
pub fn fp_convert<const TO_D: bool>(e: &mut Env<'_, RiscvCpu>, regs: u64, r: u64, insn: u64) -> Result<u64, Exit> {
    let (rd, rs1, _, _) = unpack(regs);
    let cpu = &mut *e.cpu;
    let m = rm(cpu, r, insn)?;
    if TO_D {
        let (v, f) = fpu::f32_to_f64(unbox(cpu.f(rs1)));
        set_fp::<true>(cpu, rd, v, f);
    } else {
        let (v, f) = fpu::f64_to_f32(cpu.f(rs1), m);
        set_fp::<false>(cpu, rd, v as u64, f);
    }
    Ok(0)
}
