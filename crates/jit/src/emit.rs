//! [`Sem`] over Cranelift IR: running an instruction's semantics against [`Emitter`] records
//! them as IR instead of performing them.
//!
//! Guest registers live in Cranelift variables while a block runs: read from the register file
//! on first use, written back at the block's exits and before any helper (which may read or write
//! the register file itself, so the cache starts over after it). Loads and stores inline the
//! softmmu TLB compare; a miss calls [`runtime::load_slow`]/[`runtime::store_slow`]. Any entry
//! into Rust that reports a fault leaves through a cold exit that writes back what the
//! instructions before it wrote and records the faulting pc: exceptions are precise.

use crate::runtime::{self, OFF_EXECUTED, OFF_EXIT_PC, OFF_RAM, OFF_REGS, OFF_RET, OFF_TLB};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, AbiParam, InstBuilder, MemFlagsData, SigRef, Signature, Value};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, Variable};
use mimic_core::{Endian, MemOp, Size};
use mimic_exec::{Env, Guest};
use mimic_ir::{BinOp, Cond, Exit, Helper, Reg, Sem, UnOp};
use mimic_memory::PAGE_SHIFT;
use mimic_softmmu::{PAGE_MASK, TLB_ENTRIES};
use std::marker::PhantomData;

const I64: types::Type = types::I64;

/// Signatures of the entry points into Rust, imported into the function being built.
pub struct Sigs {
    pub load: SigRef,
    pub store: SigRef,
    pub helper: SigRef,
}

impl Sigs {
    pub fn import(b: &mut FunctionBuilder<'_>, cc: CallConv) -> Sigs {
        let sig = |params: usize| {
            let mut s = Signature::new(cc);
            s.params.extend(std::iter::repeat_n(AbiParam::new(I64), params));
            s.returns.push(AbiParam::new(I64));
            s
        };
        Sigs {
            load: b.import_signature(sig(4)),
            store: b.import_signature(sig(5)),
            helper: b.import_signature(sig(6)),
        }
    }
}

struct RegSlot {
    var: Variable,
    /// The variable holds the register's current value.
    cached: bool,
    /// ... and the register file does not yet.
    dirty: bool,
}

pub struct Emitter<'f, 'b, 'a, G> {
    pub b: &'b mut FunctionBuilder<'f>,
    ctx: Value,
    regs: Value,
    sigs: Sigs,
    slots: Vec<Option<RegSlot>>,
    /// The pc the block continues at; instructions that jump or branch set it.
    next: Variable,
    /// The current instruction: its pc and how many of the block's instructions precede it.
    pc: u64,
    index: u64,
    _env: PhantomData<fn(&mut Env<'a, G>)>,
}

impl<'f, 'b, 'a, G: Guest + 'a> Emitter<'f, 'b, 'a, G> {
    /// Start emitting into `b`, positioned in the entry block whose only parameter is the context.
    pub fn new(b: &'b mut FunctionBuilder<'f>, ctx: Value, cc: CallConv) -> Self {
        let sigs = Sigs::import(b, cc);
        let regs = b.ins().load(I64, MemFlagsData::trusted(), ctx, OFF_REGS);
        let next = b.declare_var(I64);
        Emitter { b, ctx, regs, sigs, slots: Vec::new(), next, pc: 0, index: 0, _env: PhantomData }
    }

    /// The next instruction starts: `index` instructions precede it in the block.
    pub fn begin_insn(&mut self, index: u64, pc: u64, fallthrough: u64) {
        self.index = index;
        self.pc = pc;
        let v = self.b.ins().iconst(I64, fallthrough as i64);
        self.b.def_var(self.next, v);
    }

    /// End the block after `executed` instructions, continuing at `next`.
    pub fn finish(&mut self, executed: u64) {
        self.write_back();
        let next = self.b.use_var(self.next);
        self.b.ins().store(MemFlagsData::trusted(), next, self.ctx, OFF_EXIT_PC);
        let n = self.b.ins().iconst(I64, executed as i64);
        self.b.ins().store(MemFlagsData::trusted(), n, self.ctx, OFF_EXECUTED);
        let ok = self.b.ins().iconst(I64, runtime::OK as i64);
        self.b.ins().return_(&[ok]);
    }

    fn slot(&mut self, r: Reg) -> &mut RegSlot {
        let i = r.0 as usize;
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || None);
        }
        if self.slots[i].is_none() {
            let var = self.b.declare_var(I64);
            self.slots[i] = Some(RegSlot { var, cached: false, dirty: false });
        }
        self.slots[i].as_mut().unwrap()
    }

    /// Store every register the block changed and the register file lacks.
    fn write_back(&mut self) {
        for (i, s) in self.slots.iter().enumerate() {
            if let Some(s) = s {
                if s.dirty {
                    let v = self.b.use_var(s.var);
                    self.b.ins().store(MemFlagsData::trusted(), v, self.regs, (i * 8) as i32);
                }
            }
        }
    }

    /// After `write_back`, before Rust code that may change the register file.
    fn forget_registers(&mut self) {
        for s in self.slots.iter_mut().flatten() {
            s.cached = false;
            s.dirty = false;
        }
    }

    /// Branch to a cold exit when `status` (from an entry point) says the instruction faulted.
    fn check_fault(&mut self, status: Value) {
        let fault = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(fault);
        self.b.ins().brif(status, fault, &[], cont, &[]);
        self.b.switch_to_block(fault);
        self.write_back();
        let pc = self.b.ins().iconst(I64, self.pc as i64);
        self.b.ins().store(MemFlagsData::trusted(), pc, self.ctx, OFF_EXIT_PC);
        let n = self.b.ins().iconst(I64, self.index as i64);
        self.b.ins().store(MemFlagsData::trusted(), n, self.ctx, OFF_EXECUTED);
        let f = self.b.ins().iconst(I64, runtime::FAULT as i64);
        self.b.ins().return_(&[f]);
        self.b.switch_to_block(cont);
    }

    fn call_rust(&mut self, sig: SigRef, entry: usize, args: &[Value]) -> Value {
        let callee = self.b.ins().iconst(I64, entry as i64);
        let call = self.b.ins().call_indirect(sig, callee, args);
        let status = self.b.inst_results(call)[0];
        self.check_fault(status);
        status
    }

    fn ins(&mut self) -> cranelift_frontend::FuncInstBuilder<'_, 'f> {
        self.b.ins()
    }

    fn ret(&mut self) -> Value {
        self.b.ins().load(I64, MemFlagsData::trusted(), self.ctx, OFF_RET)
    }

    /// The TLB entry for `addr` and whether `addr` hits it for an access of `size` bytes
    /// through the tag at `tag_off` (read or write).
    fn tlb_probe(&mut self, addr: Value, size: u64, tag_off: i32) -> (Value, Value) {
        let tlb = self.b.ins().load(I64, MemFlagsData::trusted(), self.ctx, OFF_TLB);
        let idx = self.b.ins().ushr_imm_s(addr, PAGE_SHIFT as i64);
        let idx = self.b.ins().band_imm_s(idx, (TLB_ENTRIES - 1) as i64);
        let off = self.b.ins().ishl_imm_s(idx, 5);
        const _: () = assert!(std::mem::size_of::<mimic_softmmu::TlbEntry>() == 32);
        let entry = self.b.ins().iadd(tlb, off);
        let tag = self.b.ins().load(I64, MemFlagsData::trusted(), entry, tag_off);
        let masked = self.b.ins().band_imm_s(addr, (PAGE_MASK | (size - 1)) as i64);
        let hit = self.b.ins().icmp(IntCC::Equal, masked, tag);
        (entry, hit)
    }

    /// The host address of a TLB hit.
    fn host_addr(&mut self, entry: Value, addr: Value) -> Value {
        let addend = self.b.ins().load(I64, MemFlagsData::trusted(), entry, 24);
        let ram = self.b.ins().load(I64, MemFlagsData::trusted(), self.ctx, OFF_RAM);
        let off = self.b.ins().iadd(addr, addend);
        self.b.ins().iadd(ram, off)
    }

    fn mem_type(size: Size) -> types::Type {
        match size {
            Size::B1 => types::I8,
            Size::B2 => types::I16,
            Size::B4 => types::I32,
            Size::B8 => types::I64,
        }
    }
}

impl<'f, 'b, 'a, G: Guest + 'a> Sem for Emitter<'f, 'b, 'a, G> {
    type V = Value;
    type Env = Env<'a, G>;

    fn pc(&self) -> u64 {
        self.pc
    }

    fn imm(&mut self, v: u64) -> Value {
        self.b.ins().iconst(I64, v as i64)
    }

    fn get(&mut self, r: Reg) -> Value {
        let (regs, off) = (self.regs, r.0 as i32 * 8);
        let s = self.slot(r);
        let (var, cached) = (s.var, s.cached);
        if cached {
            return self.b.use_var(var);
        }
        let v = self.b.ins().load(I64, MemFlagsData::trusted(), regs, off);
        self.b.def_var(var, v);
        let s = self.slot(r);
        s.cached = true;
        v
    }

    fn set(&mut self, r: Reg, v: Value) {
        let s = self.slot(r);
        s.cached = true;
        s.dirty = true;
        let var = s.var;
        self.b.def_var(var, v);
    }

    fn bin(&mut self, op: BinOp, a: Value, b: Value) -> Value {
        match op {
            BinOp::Add => self.ins().iadd(a, b),
            BinOp::Sub => self.ins().isub(a, b),
            BinOp::Mul => self.ins().imul(a, b),
            BinOp::MulHS => self.ins().smulhi(a, b),
            BinOp::MulHU => self.ins().umulhi(a, b),
            BinOp::MulHSU => {
                // signed(a) * unsigned(b): the unsigned high product, less b when a is negative.
                let hi = self.ins().umulhi(a, b);
                let neg = self.ins().sshr_imm_s(a, 63);
                let corr = self.ins().band(neg, b);
                self.ins().isub(hi, corr)
            }
            // Host division traps on a zero divisor and on MIN / -1; the IR's convention gives
            // values instead, so divide by 1 in those cases and select the defined result.
            BinOp::DivU | BinOp::RemU => {
                let zero = self.ins().icmp_imm_s(IntCC::Equal, b, 0);
                let one = self.ins().iconst(I64, 1);
                let d = self.ins().select(zero, one, b);
                if op == BinOp::DivU {
                    let q = self.ins().udiv(a, d);
                    let all = self.ins().iconst(I64, -1);
                    self.ins().select(zero, all, q)
                } else {
                    let r = self.ins().urem(a, d);
                    self.ins().select(zero, a, r)
                }
            }
            BinOp::DivS | BinOp::RemS => {
                let zero = self.ins().icmp_imm_s(IntCC::Equal, b, 0);
                let min = self.ins().icmp_imm_s(IntCC::Equal, a, i64::MIN);
                let m1 = self.ins().icmp_imm_s(IntCC::Equal, b, -1);
                let ovf = self.ins().band(min, m1);
                let bad = self.ins().bor(zero, ovf);
                let one = self.ins().iconst(I64, 1);
                let d = self.ins().select(bad, one, b);
                if op == BinOp::DivS {
                    // MIN / 1 is MIN, the defined overflow result.
                    let q = self.ins().sdiv(a, d);
                    let all = self.ins().iconst(I64, -1);
                    self.ins().select(zero, all, q)
                } else {
                    // MIN % 1 is 0, the defined overflow remainder.
                    let r = self.ins().srem(a, d);
                    self.ins().select(zero, a, r)
                }
            }
            BinOp::And => self.ins().band(a, b),
            BinOp::Or => self.ins().bor(a, b),
            BinOp::Xor => self.ins().bxor(a, b),
            BinOp::AndNot => self.ins().band_not(a, b),
            BinOp::OrNot => self.ins().bor_not(a, b),
            BinOp::XorNot => self.ins().bxor_not(a, b),
            // Cranelift takes shift amounts modulo the width, as the IR defines them.
            BinOp::Shl => self.ins().ishl(a, b),
            BinOp::Shr => self.ins().ushr(a, b),
            BinOp::Sar => self.ins().sshr(a, b),
            BinOp::Rotl => self.ins().rotl(a, b),
            BinOp::Rotr => self.ins().rotr(a, b),
            BinOp::MinS => self.ins().smin(a, b),
            BinOp::MinU => self.ins().umin(a, b),
            BinOp::MaxS => self.ins().smax(a, b),
            BinOp::MaxU => self.ins().umax(a, b),
        }
    }

    fn un(&mut self, op: UnOp, a: Value) -> Value {
        match op {
            UnOp::Not => self.ins().bnot(a),
            UnOp::Neg => self.ins().ineg(a),
            UnOp::Clz => self.ins().clz(a),
            UnOp::Ctz => self.ins().ctz(a),
            UnOp::Popcnt => self.ins().popcnt(a),
            UnOp::Bswap => self.ins().bswap(a),
            UnOp::Sext8 | UnOp::Sext16 | UnOp::Sext32 => {
                let ty = match op {
                    UnOp::Sext8 => types::I8,
                    UnOp::Sext16 => types::I16,
                    _ => types::I32,
                };
                let n = self.ins().ireduce(ty, a);
                self.ins().sextend(I64, n)
            }
            UnOp::Zext8 => self.ins().band_imm_s(a, 0xff),
            UnOp::Zext16 => self.ins().band_imm_s(a, 0xffff),
            UnOp::Zext32 => self.ins().band_imm_s(a, 0xffff_ffff),
            UnOp::OrcB => {
                // Per byte: bit 7 of ((b & 0x7f) + 0x7f) | b is set iff b != 0, and no carry
                // crosses into the next byte; then spread that bit over the byte.
                const LOW7: i64 = 0x7f7f_7f7f_7f7f_7f7f;
                let t = self.ins().band_imm_s(a, LOW7);
                let t = self.ins().iadd_imm_s(t, LOW7);
                let t = self.ins().bor(t, a);
                let t = self.ins().band_imm_s(t, 0x8080_8080_8080_8080u64 as i64);
                let t = self.ins().ushr_imm_s(t, 7);
                self.ins().imul_imm_s(t, 0xff)
            }
        }
    }

    fn setcond(&mut self, c: Cond, a: Value, b: Value) -> Value {
        let f = self.b.ins().icmp(intcc(c), a, b);
        self.b.ins().uextend(I64, f)
    }

    fn select(&mut self, c: Value, t: Value, f: Value) -> Value {
        let c = self.b.ins().icmp_imm_s(IntCC::NotEqual, c, 0);
        self.b.ins().select(c, t, f)
    }

    fn load(&mut self, addr: Value, op: MemOp) -> Result<Value, Exit> {
        let size = op.size.bytes();
        let (entry, hit) = self.tlb_probe(addr, size, 0);
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        let result = self.b.append_block_param(join, I64);
        self.b.set_cold_block(slow);
        self.b.ins().brif(hit, fast, &[], slow, &[]);

        self.b.switch_to_block(fast);
        let host = self.host_addr(entry, addr);
        let ty = Self::mem_type(op.size);
        let raw = self.b.ins().load(ty, MemFlagsData::trusted(), host, 0);
        let raw = if op.endian == Endian::Big && size > 1 { self.b.ins().bswap(raw) } else { raw };
        let v = match (size, op.signed) {
            (8, _) => raw,
            (_, true) => self.b.ins().sextend(I64, raw),
            (_, false) => self.b.ins().uextend(I64, raw),
        };
        self.b.ins().jump(join, &[v.into()]);

        self.b.switch_to_block(slow);
        let (ctx, idx) = (self.ctx, self.index);
        let opv = self.b.ins().iconst(I64, runtime::encode_memop(op) as i64);
        let done = self.b.ins().iconst(I64, idx as i64);
        self.call_rust(self.sigs.load, runtime::load_slow::<G> as *const () as usize, &[ctx, addr, opv, done]);
        let v = self.ret();
        self.b.ins().jump(join, &[v.into()]);

        self.b.switch_to_block(join);
        Ok(result)
    }

    fn store(&mut self, addr: Value, val: Value, op: MemOp) -> Result<(), Exit> {
        let size = op.size.bytes();
        let (entry, hit) = self.tlb_probe(addr, size, 8);
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        self.b.set_cold_block(slow);
        self.b.ins().brif(hit, fast, &[], slow, &[]);

        self.b.switch_to_block(fast);
        let host = self.host_addr(entry, addr);
        let ty = Self::mem_type(op.size);
        let narrow = if size == 8 { val } else { self.b.ins().ireduce(ty, val) };
        let narrow = if op.endian == Endian::Big && size > 1 { self.b.ins().bswap(narrow) } else { narrow };
        self.b.ins().store(MemFlagsData::trusted(), narrow, host, 0);
        self.b.ins().jump(join, &[]);

        self.b.switch_to_block(slow);
        let (ctx, idx) = (self.ctx, self.index);
        let opv = self.b.ins().iconst(I64, runtime::encode_memop(op) as i64);
        let done = self.b.ins().iconst(I64, idx as i64);
        self.call_rust(self.sigs.store, runtime::store_slow::<G> as *const () as usize, &[ctx, addr, val, opv, done]);
        self.b.ins().jump(join, &[]);

        self.b.switch_to_block(join);
        Ok(())
    }

    fn call(&mut self, f: Helper<Self::Env>, a: Value, b: Value, c: Value) -> Result<Value, Exit> {
        // The helper sees the register file, and may change it.
        self.write_back();
        self.forget_registers();
        let (ctx, idx) = (self.ctx, self.index);
        let fv = self.b.ins().iconst(I64, f as usize as i64);
        let done = self.b.ins().iconst(I64, idx as i64);
        self.call_rust(self.sigs.helper, runtime::call_helper::<G> as *const () as usize, &[ctx, fv, a, b, c, done]);
        Ok(self.ret())
    }

    fn jump(&mut self, target: Value) {
        self.b.def_var(self.next, target);
    }

    fn branch(&mut self, c: Cond, a: Value, b: Value, target: u64) {
        let taken = self.b.ins().icmp(intcc(c), a, b);
        let t = self.b.ins().iconst(I64, target as i64);
        let n = self.b.use_var(self.next);
        let v = self.b.ins().select(taken, t, n);
        self.b.def_var(self.next, v);
    }
}

fn intcc(c: Cond) -> IntCC {
    match c {
        Cond::Eq => IntCC::Equal,
        Cond::Ne => IntCC::NotEqual,
        Cond::LtS => IntCC::SignedLessThan,
        Cond::GeS => IntCC::SignedGreaterThanOrEqual,
        Cond::LtU => IntCC::UnsignedLessThan,
        Cond::GeU => IntCC::UnsignedGreaterThanOrEqual,
    }
}
