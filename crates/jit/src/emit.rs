//! [`Sem`] over Cranelift IR: running an instruction's semantics against [`Emitter`] records
//! them as IR instead of performing them.
//!
//! Guest registers live in Cranelift variables while a block runs: read from the register file
//! on first use, written back at the block's exits and before any helper (which may read or write
//! the register file itself, so the cache starts over after it). Loads and stores inline the
//! softmmu TLB compare; a miss calls [`runtime::load_slow`]/[`runtime::store_slow`] (through
//! [`Stubs`] that keep every register, as do helper calls). Before any entry into Rust the
//! registers the block changed are written back and the calling instruction's pc stored in the
//! context, so an entry point that faults records where the run stopped itself, and the function leaves
//! through its one shared fault exit: exceptions are precise, and a region compiles no exit
//! block per access.

use crate::runtime::{
    self, Stubs, JE_ENTRY, JE_FETCH, JE_FLAGS, JE_PC, JUMP_ENTRIES, OFF_BUDGET, OFF_EXECUTED, OFF_EXIT_PC,
    OFF_EXIT_SLOT, OFF_FETCH_EPOCH, OFF_JUMP_TABLE, OFF_RAM, OFF_REGS, OFF_RET, OFF_RET2, OFF_SCRATCH, OFF_STATUS,
    OFF_TLB, OFF_TLB_USER,
};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, AbiParam, InstBuilder, JumpTableData, MemFlagsData, SigRef, Signature, Value, ValueDef,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, Variable};
use mimic_core::{Endian, MemOp, Size};
use mimic_exec::region::RegSet;
use mimic_exec::{Env, Guest};
use mimic_ir::{BinOp, Cond, Exit, Helper, Reg, Sem, UnOp};
use mimic_memory::PAGE_SHIFT;
use mimic_softmmu::{PAGE_MASK, TLB_ENTRIES};
use std::marker::PhantomData;

const I64: types::Type = types::I64;

/// Signatures of the entry points into Rust, imported into the function being built.
pub struct Sigs {
    /// Through [`Stubs`] (no return value: the status is left in the context).
    pub load: SigRef,
    pub store: SigRef,
    pub load_pair: SigRef,
    pub store_pair: SigRef,
    pub helper: SigRef,
    /// A compiled block, for chained jumps.
    pub block: SigRef,
    pub lookup: SigRef,
}

/// The signature of every compiled block: a status out; `tail` so that blocks can end in a
/// jump to the next one. The context comes in the pinned register (see [`Emitter::ctx`]).
pub fn block_signature() -> Signature {
    let mut s = Signature::new(CallConv::Tail);
    s.returns.push(AbiParam::new(I64));
    s
}

impl Sigs {
    pub fn import(b: &mut FunctionBuilder<'_>, cc: CallConv) -> Sigs {
        let sig = |params: usize| {
            let mut s = Signature::new(cc);
            s.params.extend(std::iter::repeat_n(AbiParam::new(I64), params));
            s.returns.push(AbiParam::new(I64));
            s
        };
        let stub = |params: usize| {
            let mut s = Signature::new(CallConv::PreserveAll);
            s.params.extend(std::iter::repeat_n(AbiParam::new(I64), params));
            s
        };
        Sigs {
            load: b.import_signature(stub(3)),
            store: b.import_signature(stub(4)),
            load_pair: b.import_signature(stub(3)),
            store_pair: b.import_signature(stub(5)),
            helper: b.import_signature(stub(6)),
            block: b.import_signature(block_signature()),
            lookup: b.import_signature(sig(2)),
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

/// How the block's last instruction leaves it, when the emitter can tell at translation time.
#[derive(Clone, Copy)]
enum Leave {
    /// To the next instruction in memory (the last instruction does not jump).
    Fall,
    /// To a target known only at run time.
    Dynamic,
    Jump(u64),
    Branch(Cond, Value, Value, u64),
}

/// Where a block's chainable exits keep their jump slots and whether the block is still valid.
/// Lives in memory the tier owns, at a fixed address baked into the code.
#[repr(C)]
pub struct BlockMeta {
    /// Cleared when the block is invalidated: chained jumps into it then return to the loop.
    pub valid: u64,
    /// Jump slots: per block of the region, the taken branch (or the jump), and the
    /// fall-through.
    pub slots: [u64; SLOTS],
    /// The pc of each block of the region, by entry index (where a stale entry leaves).
    pub pcs: [u64; MAX_BLOCKS],
    /// Each block's entry (its thunk), by index, once installed (0 before): a jump between the
    /// region's blocks on different pages stays inside only when the jump cache maps the
    /// target to this entry ([`Emitter::finish`]).
    pub entries: [u64; MAX_BLOCKS],
}

const MAX_BLOCKS: usize = mimic_exec::region::MAX_BLOCKS;
const _: () = assert!(MAX_BLOCKS.is_power_of_two());

/// The signature of a region of several blocks: the index of the block to start at, which the
/// entry thunks ([`crate::thunks`]) pass, in the first argument register.
pub fn region_signature() -> Signature {
    let mut s = block_signature();
    s.params.push(AbiParam::new(I64));
    s
}

/// Jump slots per compiled region.
pub const SLOTS: usize = 2 * mimic_exec::region::MAX_BLOCKS;

/// The blocks of a region compiled into one function, while it is being emitted: where each
/// starts, by guest pc.
struct Region {
    heads: std::collections::HashMap<u64, cranelift_codegen::ir::Block>,
    /// Each block's entry index, by guest pc.
    index: std::collections::HashMap<u64, usize>,
    /// The virtual page of the block being emitted.
    page: u64,
    /// The entry index of the block being emitted.
    current: usize,
    /// Per page of the region's blocks, a variable that is 1 once a jump into that page from
    /// another passed the jump-cache probe in this call of the function ([`Emitter::goto`]).
    checked: std::collections::HashMap<u64, Variable>,
    /// Whether that block calls into Rust where the run may be stopped (the budget zeroed):
    /// a helper, or a store's slow path (`runtime::store_slow`); a load's never stops it.
    may_stop: bool,
    /// Per block, by guest pc, the registers it writes before anything could see their old
    /// values ([`mimic_exec::region::killed`]): a jump to it from another block of the region
    /// leaves them unwritten ([`Emitter::finish`]).
    kills: std::collections::HashMap<u64, RegSet>,
}

/// A compare's operands and width, where its flags were set, and what it set them to.
#[derive(Clone, Copy)]
struct Compare {
    block: cranelift_codegen::ir::Block,
    a: Value,
    b: Value,
    wide: bool,
    flags: [(Reg, Value); 4],
}

pub struct Emitter<'f, 'b, 'a, G> {
    pub b: &'b mut FunctionBuilder<'f>,
    regs: Value,
    sigs: Sigs,
    stubs: Stubs,
    slots: Vec<Option<RegSlot>>,
    /// A computed jump's target (`Sem::jump`), read when the block leaves for it.
    next: Variable,
    /// The current instruction: its pc and how many of the block's instructions precede it.
    pc: u64,
    index: u64,
    /// Values made by `imm`, so a jump to a constant is recognised as a direct jump.
    consts: std::collections::HashMap<Value, u64>,
    /// Block parameters known to fit in so many low bits: the results of unsigned loads
    /// narrower than 64 bits, which both paths zero-extend ([`Emitter::fits_unsigned`]).
    narrow: std::collections::HashMap<Value, u32>,
    leave: Leave,
    /// The block flags it is translated under (set by `finish`).
    flags: u32,
    /// The data TLB and RAM base as last loaded from the context; a helper may switch the TLB,
    /// so they are reloaded after one.
    tlb_ram: Option<(Value, Value)>,
    /// The TLB of unprivileged accesses, likewise.
    tlb_user: Option<Value>,
    /// Set while emitting a region of several blocks ([`Emitter::enter_region`]).
    region: Option<Region>,
    /// A region's entry index (its function's parameter).
    entry_index: Option<Value>,
    /// `Ctx::executed` and `Ctx::budget`, kept in variables: a jump between a region's blocks
    /// adds and compares in registers. `executed` goes to the context before every entry into
    /// Rust (which reads it) and at every exit; `budget` is read again after every entry into
    /// Rust (which may stop the run by zeroing it).
    executed: Variable,
    budget: Variable,
    /// [`Emitter::fault_exit`], once made.
    fault: Option<cranelift_codegen::ir::Block>,
    /// The context as last read from the pinned register, and in which block ([`Emitter::ctx`]).
    ctx_read: Option<(cranelift_codegen::ir::Block, Value)>,
    /// [`Emitter::leave_exit`], once made.
    leave_block: Option<cranelift_codegen::ir::Block>,
    /// The last compare `Sem::note_compare` told of, in the IR block it was emitted in, and the
    /// values it left in its flag registers.
    compare: Option<Compare>,
    _env: PhantomData<fn(&mut Env<'a, G>)>,
}

impl<'f, 'b, 'a, G: Guest + 'a> Emitter<'f, 'b, 'a, G> {
    /// Start emitting into `b`, positioned in the function's entry block, with the context in the
    /// pinned register. The block at `pc` keeps its validity flag and jump slots at `meta`.
    /// A region of several blocks passes the index of the block to start at in `entry_index`.
    pub fn new(
        b: &'b mut FunctionBuilder<'f>,
        cc: CallConv,
        pc: u64,
        meta: *const BlockMeta,
        stubs: Stubs,
        entry_index: Option<Value>,
    ) -> Self {
        let ctx = b.ins().get_pinned_reg(I64);
        let sigs = Sigs::import(b, cc);
        // An invalidated block reached through a stale jump slot hands back to the loop at once,
        // leaving `exit_slot` as the jumping block set it so the loop can re-link that slot.
        let meta = b.ins().iconst(I64, meta as i64);
        let valid = b.ins().load(I64, MemFlagsData::trusted(), meta, 0);
        let body = b.create_block();
        let stale = b.create_block();
        b.set_cold_block(stale);
        b.ins().brif(valid, body, &[], stale, &[]);
        b.switch_to_block(stale);
        let at = match entry_index {
            // The index comes from a thunk of this region; masked all the same.
            Some(i) => {
                let i = b.ins().band_imm_s(i, (MAX_BLOCKS - 1) as i64);
                let off = b.ins().ishl_imm_s(i, 3);
                let a = b.ins().iadd(meta, off);
                b.ins().load(I64, MemFlagsData::trusted(), a, std::mem::offset_of!(BlockMeta, pcs) as i32)
            }
            None => b.ins().iconst(I64, pc as i64),
        };
        b.ins().store(MemFlagsData::trusted(), at, ctx, OFF_EXIT_PC);
        let ok = b.ins().iconst(I64, runtime::OK as i64);
        b.ins().return_(&[ok]);
        b.switch_to_block(body);
        let regs = b.ins().load(I64, MemFlagsData::trusted(), ctx, OFF_REGS);
        let next = b.declare_var(I64);
        let [executed, budget] = [OFF_EXECUTED, OFF_BUDGET].map(|off| {
            let var = b.declare_var(I64);
            let v = b.ins().load(I64, MemFlagsData::trusted(), ctx, off);
            b.def_var(var, v);
            var
        });
        Emitter {
            b,
            regs,
            sigs,
            stubs,
            slots: Vec::new(),
            next,
            pc: 0,
            index: 0,
            consts: Default::default(),
            narrow: Default::default(),
            leave: Leave::Fall,
            flags: 0,
            tlb_ram: None,
            tlb_user: None,
            region: None,
            entry_index,
            executed,
            budget,
            fault: None,
            ctx_read: None,
            leave_block: None,
            compare: None,
            _env: PhantomData,
        }
    }

    /// Emit the blocks starting at `pcs` (the first is the entry) as one region: each block
    /// begins with [`Emitter::begin_block`], and direct exits between them become jumps inside
    /// the function. A single block whose exit leads back to its start is a region too: its
    /// loop then stays inside the function instead of leaving through a jump slot each round.
    pub fn enter_region(&mut self, pcs: &[u64], kills: &[RegSet]) {
        let heads: Vec<_> = pcs.iter().map(|_| self.b.create_block()).collect();
        let mut checked = std::collections::HashMap::new();
        if G::FETCH_EPOCH {
            for &pc in pcs {
                checked.entry(pc & PAGE_MASK).or_insert_with(|| {
                    let var = self.b.declare_var(I64);
                    let no = self.b.ins().iconst(I64, 0);
                    self.b.def_var(var, no);
                    var
                });
            }
        }
        self.region = Some(Region {
            heads: pcs.iter().copied().zip(heads.clone()).collect(),
            index: pcs.iter().enumerate().map(|(k, &pc)| (pc, k)).collect(),
            page: pcs[0] & PAGE_MASK,
            current: 0,
            may_stop: false,
            checked,
            kills: pcs.iter().copied().zip(kills.iter().copied()).collect(),
        });
        // A block of its own that jumps back to itself is entered only at its start.
        let Some(index) = self.entry_index else {
            self.b.ins().jump(heads[0], &[]);
            return;
        };
        // Start at the block the entry thunk asked for: the first with a branch that is
        // nearly always taken (calls and loops mostly enter a region at its start), the others
        // through a jump table.
        let others = self.b.create_block();
        self.b.ins().brif(index, others, &[], heads[0], &[]);
        self.b.switch_to_block(others);
        // Each call its own: the SSA builder may append arguments to any of them.
        let calls: Vec<_> = heads.iter().map(|&h| self.b.func.dfg.block_call(h, &[])).collect();
        let default = self.b.func.dfg.block_call(heads[0], &[]);
        let table = self.b.create_jump_table(JumpTableData::new(default, &calls));
        let index = self.b.ins().ireduce(types::I32, index);
        self.b.ins().br_table(index, table);
    }

    /// The region's block at `pc` starts. Every way in (the entry, the other blocks' jumps)
    /// leaves the register file up to date but for registers this block overwrites before it
    /// reads them, so registers are read again as in a block of its own: keeping them in
    /// variables across blocks made Cranelift spill them to the stack, which was no faster and
    /// took longer to compile.
    pub fn begin_block(&mut self, pc: u64) {
        let Some(region) = self.region.as_mut() else { return };
        region.page = pc & PAGE_MASK;
        region.current = region.index[&pc];
        region.may_stop = false;
        let head = region.heads[&pc];
        self.b.switch_to_block(head);
        self.forget_registers();
        // Loaded again in each block, where the load dominates its uses.
        self.tlb_ram = None;
        self.tlb_user = None;
    }

    /// The next instruction starts: `index` instructions precede it in the block.
    pub fn begin_insn(&mut self, index: u64, pc: u64) {
        // Only the block's last instruction decides how it leaves.
        self.leave = Leave::Fall;
        self.index = index;
        self.pc = pc;
    }

    /// End the block after its `n` instructions; `fallthrough` follows the last one. Exits to a
    /// target on `page` (the block's own virtual page) may chain through `meta`'s jump slots
    /// `slot_base` and `slot_base + 1`; in a region, exits to its blocks go straight there.
    /// `flags` are the block flags the block was translated under.
    pub fn finish(
        &mut self,
        n: u64,
        fallthrough: u64,
        page: Option<u64>,
        meta: *const BlockMeta,
        flags: u32,
        slot_base: usize,
    ) {
        self.flags = flags;
        // Every way out of a block leaves the register file up to date, but for the registers
        // a jump's target in the region overwrites before anything could read them: those are
        // written on every other way out only (`goto`). In a loop whose next block starts with
        // a compare, the flags of this block's compare then never reach memory.
        let dead = |e: &Self, pc: Option<u64>| {
            pc.and_then(|pc| e.region.as_ref()?.kills.get(&pc).copied()).unwrap_or(RegSet::EMPTY)
        };
        let (taken, fall) = match self.leave {
            Leave::Dynamic => (RegSet::EMPTY, RegSet::EMPTY),
            Leave::Fall => (dead(self, Some(fallthrough)), RegSet::EMPTY),
            Leave::Jump(target) => (dead(self, Some(target)), RegSet::EMPTY),
            Leave::Branch(_, _, _, target) => (dead(self, Some(target)), dead(self, Some(fallthrough))),
        };
        let deferred = self.dirty().intersection(taken.union(fall));
        self.write_regs(|r| !deferred.contains(r));
        let before = self.b.use_var(self.executed);
        let total = self.b.ins().iadd_imm_s(before, n as i64);
        self.b.def_var(self.executed, total);
        // A block entered with register-carried flag bits set (AArch64's one-instruction block
        // after an indirect branch) leaves under other flags than its own, so the loop never
        // links its slots: it goes on through the jump-cache probe, which expects those flags.
        let leaves_other_flags =
            G::FETCH_EPOCH && G::flags_from_reg(flags).is_some_and(|(_, shift, mask)| flags >> shift & mask != 0);
        let slot = |i: usize, target: u64| {
            let same_page = page.is_some_and(|p| target & PAGE_MASK == p) && !leaves_other_flags;
            let i = slot_base + i;
            same_page.then(|| meta as u64 + std::mem::offset_of!(BlockMeta, slots) as u64 + 8 * i as u64)
        };
        match self.leave {
            Leave::Dynamic => {
                let next = self.b.use_var(self.next);
                self.exit_dynamic(next, total);
            }
            Leave::Fall => self.goto(fallthrough, slot(0, fallthrough), total, meta, deferred),
            Leave::Jump(target) => self.goto(target, slot(0, target), total, meta, deferred),
            Leave::Branch(c, a, b, target) => {
                let (holds, inverted) = self.condition(c, a, b);
                let (tb, fb) = (self.b.create_block(), self.b.create_block());
                let (then, or) = if inverted { (fb, tb) } else { (tb, fb) };
                self.b.ins().brif(holds, then, &[], or, &[]);
                self.b.switch_to_block(tb);
                self.write_regs(|r| deferred.contains(r) && !taken.contains(r));
                self.goto(target, slot(0, target), total, meta, deferred.intersection(taken));
                self.b.switch_to_block(fb);
                self.write_regs(|r| deferred.contains(r) && !fall.contains(r));
                self.goto(fallthrough, slot(1, fallthrough), total, meta, deferred.intersection(fall));
            }
        }
    }

    /// `a c b` as a boolean to branch on, and whether it is inverted (true when `a c b` does
    /// not hold). Guests test a 0/1 flag against zero (an A64 B.NE after a compare reads Z,
    /// which the compare set from a comparison): the comparison itself then serves, without
    /// widening it and comparing again.
    fn condition(&mut self, c: Cond, a: Value, b: Value) -> (Value, bool) {
        use cranelift_codegen::ir::Opcode;
        if matches!(c, Cond::Eq | Cond::Ne) && self.consts.get(&b) == Some(&0) {
            let dfg = &self.b.func.dfg;
            if let ValueDef::Result(ext, 0) = dfg.value_def(a) {
                let flag = dfg.inst_args(ext).first().copied();
                if let Some(flag) = flag.filter(|_| dfg.insts[ext].opcode() == Opcode::Uextend) {
                    if let ValueDef::Result(cmp, 0) = dfg.value_def(flag) {
                        if dfg.insts[cmp].opcode() == Opcode::Icmp {
                            return (flag, c == Cond::Eq);
                        }
                    }
                }
            }
        }
        (self.b.ins().icmp(intcc(c), a, b), false)
    }

    /// After the last block: emit what the blocks branch to in common.
    pub fn end(&mut self) {
        if let Some(b) = self.leave_block {
            self.b.switch_to_block(b);
            let [pc, slot] = [0, 1].map(|i| self.b.block_params(b)[i]);
            self.store_ctx(pc, OFF_EXIT_PC);
            self.store_ctx(slot, OFF_EXIT_SLOT);
            let ok = self.b.ins().iconst(I64, runtime::OK as i64);
            self.b.ins().return_(&[ok]);
        }
        if let Some(b) = self.fault {
            self.b.switch_to_block(b);
            let f = self.b.ins().iconst(I64, runtime::FAULT as i64);
            self.b.ins().return_(&[f]);
        }
    }

    /// Go on at `target`, known at translation time: inside the function when it starts a block
    /// of the region and the run may go on (the budget check that also ends a run once an entry
    /// point asked the loop to look at interrupts or code), else out through `exit_direct`.
    ///
    /// A block on another page than this one is trusted only as far as the jump cache vouches
    /// for it: the jump stays inside when the cache maps `target`, in this fetch epoch and under
    /// these flags, to that block's own entry in `meta` (so `runtime::lookup` found the page
    /// mapped where the region was compiled from, and the block is alive: a store to its page
    /// drops it, its entry and with it this whole region's code). Anything else leaves as a jump
    /// to another page does.
    ///
    /// A jump forward in the region (to a block after this one in region order) from a block
    /// that cannot stop the run (no helper call, no store slow path) needs no budget check:
    /// every cycle in the region has a jump backward, which is checked, so a run still stops
    /// within one pass through the region once the budget is spent.
    ///
    /// `unwritten` are registers this block changed and left for `target` to overwrite: a jump
    /// inside the function leaves them so, every other way writes them first.
    fn goto(&mut self, target: u64, slot: Option<u64>, total: Value, meta: *const BlockMeta, unwritten: RegSet) {
        let member = self.region.as_ref().and_then(|r| {
            let head = r.heads.get(&target).copied()?;
            let index = r.index[&target];
            let other_page = target & PAGE_MASK != r.page;
            let checked = r.checked.get(&(target & PAGE_MASK)).copied();
            Some((head, index, other_page, index > r.current && !r.may_stop && !other_page, checked))
        });
        let Some((head, index, other_page, unchecked, checked)) = member.filter(|m| !m.2 || G::FETCH_EPOCH) else {
            self.write_regs(|r| unwritten.contains(r));
            return self.exit_direct(target, slot, total);
        };
        if unchecked {
            self.b.ins().jump(head, &[]);
            return;
        }
        let (inside, out) = (self.b.create_block(), self.b.create_block());
        let budget = self.b.use_var(self.budget);
        let go = self.b.ins().icmp(IntCC::UnsignedLessThan, total, budget);
        match checked.filter(|_| other_page) {
            // Into another page: the jump cache must map the target to this region's own entry
            // for it, as the loop would find it (the page may be mapped differently now). Once
            // that held in this call of the function it holds until the run stops: only
            // helpers that zero the budget change translations or drop code, and the budget
            // is still checked. So a loop across a page boundary probes on its first round.
            Some(var) => {
                let (probe, passed) = (self.b.create_block(), self.b.create_block());
                let known = self.b.use_var(var);
                let quick = self.b.create_block();
                self.b.ins().brif(known, quick, &[], probe, &[]);
                self.b.switch_to_block(quick);
                self.b.ins().brif(go, inside, &[], out, &[]);

                self.b.switch_to_block(probe);
                let table = self.load_ctx(OFF_JUMP_TABLE);
                let e = self.b.ins().iadd_imm_s(table, (runtime::jump_index(target) * 32) as i64);
                let pc = self.b.ins().iconst(I64, target as i64);
                let d = self.jump_entry_differs(e, pc);
                let entry = self.b.ins().load(I64, MemFlagsData::trusted(), e, JE_ENTRY);
                let own = meta as u64 + (std::mem::offset_of!(BlockMeta, entries) + 8 * index) as u64;
                let own = self.b.ins().iconst(I64, own as i64);
                let own = self.b.ins().load(I64, MemFlagsData::trusted(), own, 0);
                let d_entry = self.b.ins().bxor(entry, own);
                let d = self.b.ins().bor(d, d_entry);
                // One branch however many conditions: every block costs compile time (regions
                // are mostly exits), and the loads are harmless when the run is to stop anyway.
                let go = self.hit_and(d, entry, go);
                self.b.ins().brif(go, passed, &[], out, &[]);
                self.b.switch_to_block(passed);
                let yes = self.b.ins().iconst(I64, 1);
                self.b.def_var(var, yes);
                self.b.ins().jump(inside, &[]);
            }
            None if other_page => return self.exit_direct(target, slot, total),
            None => {
                self.b.ins().brif(go, inside, &[], out, &[]);
            }
        }
        self.b.switch_to_block(inside);
        self.b.ins().jump(head, &[]);
        self.b.switch_to_block(out);
        self.write_regs(|r| unwritten.contains(r));
        match slot {
            // Only a spent budget gets here, and `exit_with` would leave for the same reason
            // after testing the slot: leave at once.
            Some(s) if !other_page => {
                self.store_ctx(total, OFF_EXECUTED);
                let ret = self.leave_exit();
                let (pc, s) = (self.b.ins().iconst(I64, target as i64), self.b.ins().iconst(I64, s as i64));
                self.b.ins().jump(ret, &[pc.into(), s.into()]);
            }
            _ => self.exit_direct(target, slot, total),
        }
    }

    /// Leave for `target`, known at translation time: through a jump slot when it is on this
    /// block's page; otherwise (its page may be mapped differently next time) through the
    /// run-time lookup, as a computed jump would, which still avoids a trip through the loop.
    fn exit_direct(&mut self, target: u64, slot: Option<u64>, total: Value) {
        let t = self.b.ins().iconst(I64, target as i64);
        match slot {
            Some(_) => self.exit_with(t, slot, total),
            None => self.exit_dynamic(t, total),
        }
    }

    /// Leave for a pc known only now: straight into its compiled code if the run may go on and
    /// `runtime::lookup` finds some, else back to the loop.
    fn exit_dynamic(&mut self, pc: Value, total: Value) {
        self.store_ctx(total, OFF_EXECUTED);
        let ret = self.leave_exit();
        let zero = self.b.ins().iconst(I64, 0);
        let back = [pc.into(), zero.into()];
        let (find, jump) = (self.b.create_block(), self.b.create_block());
        let budget = self.b.use_var(self.budget);
        let go = self.b.ins().icmp(IntCC::UnsignedLessThan, total, budget);
        if G::FETCH_EPOCH {
            // The jump cache's hit path inline (as `runtime::lookup` checks it): the guest
            // promises that while this run goes on chaining, code translated under this block's
            // flags is right, and that `pc` translates as it did while the epoch lasts. One
            // branch on the way in, as in `goto`.
            let table = self.load_ctx(OFF_JUMP_TABLE);
            let a = self.b.ins().ushr_imm_s(pc, 1);
            let c = self.b.ins().ushr_imm_s(pc, 13);
            let idx = self.b.ins().bxor(a, c);
            let idx = self.b.ins().band_imm_s(idx, (JUMP_ENTRIES - 1) as i64);
            let off = self.b.ins().ishl_imm_s(idx, 5);
            let e = self.b.ins().iadd(table, off);
            let d = self.jump_entry_differs(e, pc);
            let target = self.b.ins().load(I64, MemFlagsData::trusted(), e, JE_ENTRY);
            let hit = self.hit_and(d, target, go);
            let (entry_ok, miss) = (self.b.create_block(), self.b.create_block());
            self.b.ins().brif(hit, entry_ok, &[], miss, &[]);
            self.b.switch_to_block(entry_ok);
            self.jump_dynamic(target);
            self.b.switch_to_block(miss);
            self.b.ins().brif(go, find, &[], ret, &back);
        } else {
            self.b.ins().brif(go, find, &[], ret, &back);
        }
        self.b.switch_to_block(find);
        let callee = self.b.ins().iconst(I64, runtime::lookup::<G> as *const () as usize as i64);
        let ctx = self.ctx();
        let call = self.b.ins().call_indirect(self.sigs.lookup, callee, &[ctx, pc]);
        self.ctx_read = None;
        let target = self.b.inst_results(call)[0];
        self.b.ins().brif(target, jump, &[], ret, &back);
        self.b.switch_to_block(jump);
        self.jump_dynamic(target);
    }

    /// Nonzero unless the jump-cache entry at `e` is for `pc`, made in this fetch epoch and
    /// under the flags this block leaves with (the hit test of `runtime::lookup`).
    fn jump_entry_differs(&mut self, e: Value, pc: Value) -> Value {
        let [epc, efetch, eflags] =
            [JE_PC, JE_FETCH, JE_FLAGS].map(|off| self.b.ins().load(I64, MemFlagsData::trusted(), e, off));
        let epoch = self.load_ctx(OFF_FETCH_EPOCH);
        let want = self.exit_flags();
        let d_pc = self.b.ins().bxor(epc, pc);
        let d_fetch = self.b.ins().bxor(efetch, epoch);
        let d_flags = self.b.ins().bxor(eflags, want);
        let d = self.b.ins().bor(d_pc, d_fetch);
        self.b.ins().bor(d, d_flags)
    }

    /// Whether a jump-cache probe hit (`differs` is 0 and the entry names code: an empty slot
    /// never does) and the run may go on (`go`), as one flag for one branch.
    fn hit_and(&mut self, differs: Value, entry: Value, go: Value) -> Value {
        let same = self.b.ins().icmp_imm_s(IntCC::Equal, differs, 0);
        let named = self.b.ins().icmp_imm_s(IntCC::NotEqual, entry, 0);
        let hit = self.b.ins().band(same, named);
        self.b.ins().band(hit, go)
    }

    /// The block flags the next block runs under, as far as this block decides them: its own,
    /// with the bits a register carries (`Guest::flags_from_reg`) taken from that register.
    fn exit_flags(&mut self) -> Value {
        let Some((reg, shift, mask)) = G::flags_from_reg(self.flags) else {
            return self.b.ins().iconst(I64, i64::from(self.flags));
        };
        // Registers were written back; read the variable only where it holds the value, so
        // that nothing defined on this exit's path alone is used elsewhere.
        let cached = self.slots.get(reg).and_then(Option::as_ref).filter(|s| s.cached).map(|s| s.var);
        let v = match cached {
            Some(var) => self.b.use_var(var),
            None => self.b.ins().load(I64, MemFlagsData::trusted(), self.regs, (reg * 8) as i32),
        };
        let field = self.b.ins().band_imm_s(v, i64::from(mask));
        let field = self.b.ins().ishl_imm_s(field, i64::from(shift));
        self.b.ins().bor_imm_s(field, i64::from(self.flags & !(mask << shift)))
    }

    /// Tail-call `target`, found at run time: no slot took us there, so a stale target (which
    /// hands back at once) leaves nothing for the loop to link.
    fn jump_dynamic(&mut self, target: Value) {
        let zero = self.b.ins().iconst(I64, 0);
        self.store_ctx(zero, OFF_EXIT_SLOT);
        self.b.ins().return_call_indirect(self.sigs.block, target, &[]);
    }

    /// Leave for `pc`: through the jump slot at `slot` if it is linked and the run may go on,
    /// else back to the loop (which may link the slot).
    fn exit_with(&mut self, pc: Value, slot: Option<u64>, total: Value) {
        self.store_ctx(total, OFF_EXECUTED);
        let ret = self.leave_exit();
        let slot_addr = self.b.ins().iconst(I64, slot.unwrap_or(0) as i64);
        let back = [pc.into(), slot_addr.into()];
        if slot.is_some() {
            let budget = self.b.use_var(self.budget);
            let go = self.b.ins().icmp(IntCC::UnsignedLessThan, total, budget);
            let target = self.b.ins().load(I64, MemFlagsData::trusted(), slot_addr, 0);
            let linked = self.b.ins().icmp_imm_s(IntCC::NotEqual, target, 0);
            let go = self.b.ins().band(go, linked);
            let jump = self.b.create_block();
            self.b.ins().brif(go, jump, &[], ret, &back);
            self.b.switch_to_block(jump);
            // A stale target hands back at once; the loop then re-links this slot.
            self.store_ctx(slot_addr, OFF_EXIT_SLOT);
            self.b.ins().return_call_indirect(self.sigs.block, target, &[]);
        } else {
            self.b.ins().jump(ret, &back);
        }
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
        self.write_regs(|_| true);
    }

    /// Store the registers `which` of those the block changed and the register file lacks.
    fn write_regs(&mut self, which: impl Fn(usize) -> bool) {
        for (i, s) in self.slots.iter().enumerate() {
            if let Some(s) = s {
                if s.dirty && which(i) {
                    let v = self.b.use_var(s.var);
                    self.b.ins().store(MemFlagsData::trusted(), v, self.regs, (i * 8) as i32);
                }
            }
        }
    }

    /// The registers the block changed and the register file lacks.
    fn dirty(&self) -> RegSet {
        let mut set = RegSet::EMPTY;
        for (i, s) in self.slots.iter().enumerate() {
            if s.as_ref().is_some_and(|s| s.dirty) {
                set.insert(i);
            }
        }
        set
    }

    /// After `write_back`, before Rust code that may change the register file.
    fn forget_registers(&mut self) {
        for s in self.slots.iter_mut().flatten() {
            s.cached = false;
            s.dirty = false;
        }
    }

    /// Call an entry point through its stub `stub` ([`Stubs`]); the status it returns, which
    /// the caller then checks (a fault leaves through [`Emitter::fault_exit`]). `stops` says
    /// whether the entry point may stop the run (zero the budget): only then is the budget read
    /// again, which after a load would only redefine it on the slow path.
    fn call_rust(&mut self, sig: SigRef, stub: usize, args: &[Value], stops: bool) -> Value {
        // Entry points count retired instructions from `Ctx::executed`, and one that faults
        // leaves the run at the calling instruction.
        let executed = self.b.use_var(self.executed);
        self.store_ctx(executed, OFF_EXECUTED);
        let pc = self.b.ins().iconst(I64, self.pc as i64);
        self.store_ctx(pc, OFF_EXIT_PC);
        let callee = self.b.ins().iconst(I64, stub as i64);
        self.b.ins().call_indirect(sig, callee, args);
        self.ctx_read = None;
        if stops {
            let budget = self.load_ctx(OFF_BUDGET);
            self.b.def_var(self.budget, budget);
        }
        self.load_ctx(OFF_STATUS)
    }

    /// The block being emitted calls into Rust where the run may be stopped.
    fn may_stop(&mut self) {
        if let Some(r) = self.region.as_mut() {
            r.may_stop = true;
        }
    }

    /// Call helper `f` through the stub `entry` (of `runtime::call_helper` or
    /// `call_helper_local`).
    fn call_through(&mut self, entry: usize, f: Helper<Env<'a, G>>, [a, b, c]: [Value; 3]) -> Result<Value, Exit> {
        // The helper sees the register file, and may change it, and the data TLB.
        self.write_back();
        self.forget_registers();
        self.tlb_ram = None;
        self.tlb_user = None;
        self.may_stop();
        let status = self.helper_status(entry, f, [a, b, c]);
        let (cont, fault) = (self.b.create_block(), self.fault_exit());
        self.b.ins().brif(status, fault, &[], cont, &[]);
        self.b.switch_to_block(cont);
        Ok(self.ret())
    }

    /// Call helper `f` with `args` through the stub `entry`, which also takes the context and
    /// this instruction's index; the status it returns.
    fn helper_status(&mut self, entry: usize, f: Helper<Env<'a, G>>, [a, b, c]: [Value; 3]) -> Value {
        let ctx = self.ctx();
        let fv = self.b.ins().iconst(I64, f as usize as i64);
        let done = self.b.ins().iconst(I64, self.index as i64);
        self.call_rust(self.sigs.helper, entry, &[ctx, fv, a, b, c, done], true)
    }

    /// The context. It lives in Cranelift's pinned register from the entry stub on, never
    /// spilled and never saved by the blocks it passes through. The register is read afresh
    /// in each IR block and after each call (the read has side effects, so Cranelift neither
    /// merges nor moves it), so that no copy lives long enough to be spilled; within a block
    /// one read serves every use, which spares an IR instruction per context access.
    fn ctx(&mut self) -> Value {
        let here = self.b.current_block().expect("emitting into a block");
        match self.ctx_read {
            Some((block, v)) if block == here => v,
            _ => {
                let v = self.b.ins().get_pinned_reg(I64);
                self.ctx_read = Some((here, v));
                v
            }
        }
    }

    fn load_ctx(&mut self, offset: i32) -> Value {
        let ctx = self.ctx();
        self.b.ins().load(I64, MemFlagsData::trusted(), ctx, offset)
    }

    fn store_ctx(&mut self, v: Value, offset: i32) {
        let ctx = self.ctx();
        self.b.ins().store(MemFlagsData::trusted(), v, ctx, offset);
    }

    fn ins(&mut self) -> cranelift_frontend::FuncInstBuilder<'_, 'f> {
        self.b.ins()
    }

    fn ret(&mut self) -> Value {
        self.load_ctx(OFF_RET)
    }

    /// The TLB entry for `addr` and whether `addr` hits it for an access of `size` bytes
    /// through the tag at `tag_off` (read or write).
    fn tlb_probe(&mut self, addr: Value, op: MemOp, tag_off: i32) -> (Value, Value) {
        self.tlb_probe_pair(addr, addr, op, tag_off)
    }

    /// As [`Emitter::tlb_probe`], for two accesses at `addr` and `next` (the element after it):
    /// the entry is `addr`'s, and the tag is compared with the page of `next`'s last byte. They
    /// match only when that byte is in the entry's page, and then so is `addr`: the entries of
    /// adjacent pages differ, so the page is `addr`'s, and everything between lies in it.
    fn tlb_probe_pair(&mut self, addr: Value, next: Value, op: MemOp, tag_off: i32) -> (Value, Value) {
        const _: () = assert!(TLB_ENTRIES > 1 && std::mem::size_of::<mimic_softmmu::TlbEntry>() == 32);
        let size = op.size.bytes();
        // Both on the main path: `host_addr` takes the RAM base from `tlb_ram` in the fast path.
        let (data_tlb, _) = self.tlb_ram();
        let tlb = if op.unpriv { self.tlb_user() } else { data_tlb };
        // The entry's offset, (page number mod TLB_ENTRIES) * 32, in two operations.
        let off = self.b.ins().ushr_imm_s(addr, (PAGE_SHIFT - 5) as i64);
        let off = self.b.ins().band_imm_s(off, ((TLB_ENTRIES - 1) << 5) as i64);
        let entry = self.b.ins().iadd(tlb, off);
        let hit = self.tag_hit(entry, next, size, tag_off);
        (entry, hit)
    }

    /// Whether the tag at `tag_off` of the TLB entry `entry` names the page of the last byte of
    /// `size` bytes at `addr`: the access hits only if it ends in the entry's page, whatever
    /// its alignment (pages where alignment matters carry a flag that no address matches).
    fn tag_hit(&mut self, entry: Value, addr: Value, size: u64, tag_off: i32) -> Value {
        let tag = self.b.ins().load(I64, MemFlagsData::trusted(), entry, tag_off);
        let last = self.b.ins().iadd_imm_s(addr, (size - 1) as i64);
        let masked = self.b.ins().band_imm_s(last, PAGE_MASK as i64);
        self.b.ins().icmp(IntCC::Equal, masked, tag)
    }

    /// Branch on a TLB probe's `hit` into a fast path, where emission goes on, and a cold slow
    /// path; both are to end by jumping to the join block (whose parameters the caller adds).
    fn split_on_hit(&mut self, hit: Value) -> (cranelift_codegen::ir::Block, cranelift_codegen::ir::Block) {
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        self.b.set_cold_block(slow);
        self.b.ins().brif(hit, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        (slow, join)
    }

    /// Whether a store of `vals` is better made on the main path than in a fast-path branch of
    /// its own. Cranelift places a pure value where it is first used, and again in each later
    /// block that that one does not dominate: a value computed in this block and stored from a
    /// fast-path branch is computed there and once more after the join for its register's
    /// write-back (the sums of a SHA-256 message schedule, the products of the kernel's bignum
    /// self-tests). Stored from the main path ([`Emitter::store_target`]) it is computed once,
    /// for a select and a second compare of the tag: worth it when more than that would be
    /// computed twice.
    fn store_from_main_path(&self, vals: &[Value]) -> bool {
        const WORTH: usize = 3;
        let func = &self.b.func;
        let here = self.b.current_block();
        let mut todo: Vec<Value> = vals.to_vec();
        let mut seen = Vec::new();
        while let Some(v) = todo.pop() {
            let ValueDef::Result(inst, _) = func.dfg.value_def(v) else { continue };
            let op = func.dfg.insts[inst].opcode();
            // Loads, calls and the like stay where they are: only pure instructions move.
            if func.layout.inst_block(inst) != here
                || op.can_load()
                || op.is_call()
                || op.other_side_effects()
                || seen.contains(&inst)
            {
                continue;
            }
            seen.push(inst);
            if seen.len() >= WORTH {
                return true;
            }
            todo.extend_from_slice(func.dfg.inst_args(inst));
        }
        false
    }

    /// Where a store from the main path writes: the host address of a TLB hit, else the
    /// context's scratch words (the slow path then makes the store).
    fn store_target(&mut self, entry: Value, addr: Value, hit: Value) -> Value {
        let host = self.host_addr(entry, addr);
        let ctx = self.ctx();
        let scratch = self.b.ins().iadd_imm_s(ctx, i64::from(OFF_SCRATCH));
        self.b.ins().select(hit, host, scratch)
    }

    /// The fast path of a store of `vals` (each at its byte offset) at `addr`, whose TLB probe
    /// gave `entry` and `hit`: from the main path or in a branch of its own. Returns the join
    /// block, where emission goes on, and leaves the cold slow path current, which is to store
    /// through the entry point and jump there.
    fn store_fast(
        &mut self,
        entry: Value,
        addr: Value,
        hit: Value,
        vals: &[(i32, Value)],
        op: MemOp,
    ) -> cranelift_codegen::ir::Block {
        let values: Vec<Value> = vals.iter().map(|&(_, v)| v).collect();
        let from_main = self.store_from_main_path(&values);
        let branch = (!from_main).then(|| self.split_on_hit(hit));
        let host = if from_main { self.store_target(entry, addr, hit) } else { self.host_addr(entry, addr) };
        for &(off, v) in vals {
            self.store_host(host, off, v, op);
        }
        let (slow, join) = match branch {
            Some((slow, join)) => {
                self.b.ins().jump(join, &[]);
                (slow, join)
            }
            None => {
                let (slow, join) = (self.b.create_block(), self.b.create_block());
                self.b.set_cold_block(slow);
                self.b.ins().brif(hit, join, &[], slow, &[]);
                (slow, join)
            }
        };
        self.b.switch_to_block(slow);
        join
    }

    /// How the fast path reaches guest RAM: it cannot trap (the TLB said the page is there),
    /// but may be misaligned.
    fn guest_ram() -> MemFlagsData {
        MemFlagsData::new().with_notrap()
    }

    /// The fast path's load of `op` at `host + offset`, extended to 64 bits.
    fn load_host(&mut self, host: Value, offset: i32, op: MemOp) -> Value {
        let ty = Self::mem_type(op.size);
        let raw = self.b.ins().load(ty, Self::guest_ram(), host, offset);
        let raw = if op.endian == Endian::Big && op.size.bytes() > 1 { self.b.ins().bswap(raw) } else { raw };
        match (op.size.bytes(), op.signed) {
            (8, _) => raw,
            (_, true) => self.b.ins().sextend(I64, raw),
            (_, false) => self.b.ins().uextend(I64, raw),
        }
    }

    /// The fast path's store of the low bytes of `val` (per `op`) at `host + offset`.
    fn store_host(&mut self, host: Value, offset: i32, val: Value, op: MemOp) {
        let size = op.size.bytes();
        let narrow = if size == 8 { val } else { self.b.ins().ireduce(Self::mem_type(op.size), val) };
        let narrow = if op.endian == Endian::Big && size > 1 { self.b.ins().bswap(narrow) } else { narrow };
        self.b.ins().store(Self::guest_ram(), narrow, host, offset);
    }

    /// Loaded on the block's main path (never inside a fast/slow diamond), so the values
    /// dominate every later use.
    fn tlb_ram(&mut self) -> (Value, Value) {
        if let Some(v) = self.tlb_ram {
            return v;
        }
        let tlb = self.load_ctx(OFF_TLB);
        let ram = self.load_ctx(OFF_RAM);
        self.tlb_ram = Some((tlb, ram));
        (tlb, ram)
    }

    /// As `tlb_ram`, the TLB of unprivileged accesses.
    fn tlb_user(&mut self) -> Value {
        if let Some(v) = self.tlb_user {
            return v;
        }
        let tlb = self.load_ctx(OFF_TLB_USER);
        self.tlb_user = Some(tlb);
        tlb
    }

    /// The host address of a TLB hit.
    fn host_addr(&mut self, entry: Value, addr: Value) -> Value {
        let addend = self.b.ins().load(I64, MemFlagsData::trusted(), entry, 24);
        let (_, ram) = self.tlb_ram();
        let off = self.b.ins().iadd(addr, addend);
        self.b.ins().iadd(ram, off)
    }

    /// Where the fast path missed: the load entry point's answer for `addr` (which looks in
    /// the TLB itself), passed on to `to` after `args`; on a fault, out through
    /// [`Emitter::fault_exit`].
    fn load_entry(&mut self, addr: Value, op: MemOp, to: cranelift_codegen::ir::Block, args: &[Value]) {
        let [ctx, site] = self.entry_operands(op);
        let status = self.call_rust(self.sigs.load, self.stubs.load, &[ctx, addr, site], false);
        // Read before the check, so that one branch goes on with it (unused on a fault).
        let v = self.ret();
        let args: Vec<_> = args.iter().copied().chain([v]).map(|a| a.into()).collect();
        let fault = self.fault_exit();
        self.b.ins().brif(status, fault, &[], to, &args);
    }

    /// As [`Emitter::load_entry`], both loads of a pair in one call, passed on to `to`.
    fn load_pair_entry(&mut self, addr: Value, op: MemOp, to: cranelift_codegen::ir::Block) {
        let [ctx, site] = self.entry_operands(op);
        let status = self.call_rust(self.sigs.load_pair, self.stubs.load_pair, &[ctx, addr, site], false);
        let first = self.ret();
        let second = self.load_ctx(OFF_RET2);
        let fault = self.fault_exit();
        self.b.ins().brif(status, fault, &[], to, &[first.into(), second.into()]);
    }

    /// As [`Emitter::load_entry`], a store; `to` gets no arguments.
    fn store_entry(&mut self, addr: Value, val: Value, op: MemOp, to: cranelift_codegen::ir::Block) {
        self.may_stop();
        let [ctx, site] = self.entry_operands(op);
        let status = self.call_rust(self.sigs.store, self.stubs.store, &[ctx, addr, val, site], true);
        let fault = self.fault_exit();
        self.b.ins().brif(status, fault, &[], to, &[]);
    }

    /// As [`Emitter::store_entry`], both stores of a pair in one call.
    fn store_pair_entry(&mut self, addr: Value, vals: [Value; 2], op: MemOp, to: cranelift_codegen::ir::Block) {
        self.may_stop();
        let [ctx, site] = self.entry_operands(op);
        let args = [ctx, addr, vals[0], vals[1], site];
        let status = self.call_rust(self.sigs.store_pair, self.stubs.store_pair, &args, true);
        let fault = self.fault_exit();
        self.b.ins().brif(status, fault, &[], to, &[]);
    }

    /// The context and site ([`runtime::encode_site`]) operands of a slow path, which records
    /// a fault itself (`runtime::load_slow`): so the registers the block changed are written
    /// back first, on this cold path only; the fast path keeps them in host registers.
    fn entry_operands(&mut self, op: MemOp) -> [Value; 2] {
        self.write_back();
        let ctx = self.ctx();
        let site = self.b.ins().iconst(I64, runtime::encode_site(op, self.index) as i64);
        [ctx, site]
    }

    /// The function's one way back to the loop, for every exit that does not chain: it takes
    /// the pc to go on at and the jump slot the loop may link (0 for none). Filled by
    /// [`Emitter::end`].
    fn leave_exit(&mut self) -> cranelift_codegen::ir::Block {
        if let Some(b) = self.leave_block {
            return b;
        }
        let b = self.b.create_block();
        self.b.append_block_param(b, I64);
        self.b.append_block_param(b, I64);
        self.leave_block = Some(b);
        b
    }

    /// The function's one way out for a slow path that faulted and recorded where: it only
    /// returns the status. Filled by [`Emitter::end`], as the builder fills one block at a time.
    fn fault_exit(&mut self) -> cranelift_codegen::ir::Block {
        if let Some(b) = self.fault {
            return b;
        }
        let b = self.b.create_block();
        self.b.set_cold_block(b);
        self.fault = Some(b);
        b
    }

    /// Whether `v` is known, from the instructions that made it (looking `depth` deep), to
    /// have no bit set above its low `bits`. A W-form A64 instruction narrows each operand it
    /// reads and its result again on the way out: every narrowing of an already narrow value
    /// left out is two IR instructions Cranelift neither has to build nor to simplify away.
    fn fits_unsigned(&self, v: Value, bits: u32, depth: u32) -> bool {
        use cranelift_codegen::ir::{InstructionData, Opcode};
        if let Some(&n) = self.narrow.get(&v) {
            return n <= bits;
        }
        let dfg = &self.b.func.dfg;
        let ValueDef::Result(inst, 0) = dfg.value_def(v) else { return false };
        let args = dfg.inst_args(inst);
        let deeper = |w: Value| depth > 0 && self.fits_unsigned(w, bits, depth - 1);
        let constant = |w: Value| match dfg.value_def(w) {
            ValueDef::Result(i, 0) => match dfg.insts[i] {
                InstructionData::UnaryImm { opcode: Opcode::Iconst, imm } => Some(imm.bits() as u64),
                _ => None,
            },
            _ => None,
        };
        match dfg.insts[inst].opcode() {
            Opcode::Uextend => dfg.value_type(args[0]).bits() <= bits,
            Opcode::Iconst => constant(v).is_some_and(|k| bits >= 64 || k >> bits == 0),
            Opcode::Band => deeper(args[0]) || deeper(args[1]),
            Opcode::Bor | Opcode::Bxor => deeper(args[0]) && deeper(args[1]),
            // Shifted right far enough, or already narrow.
            Opcode::Ushr => {
                constant(args[1]).is_some_and(|k| (1..64).contains(&k) && 64 - k <= u64::from(bits)) || deeper(args[0])
            }
            _ => false,
        }
    }

    /// Record that the result `v` of a load of `op` fits its width, when the load zero-extends.
    fn note_narrow(&mut self, v: Value, op: MemOp) {
        if !op.signed && op.size.bytes() < 8 {
            self.narrow.insert(v, 8 * op.size.bytes() as u32);
        }
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
        let c = self.b.ins().iconst(I64, v as i64);
        self.consts.insert(c, v);
        c
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
            BinOp::Rotr32 => {
                let (a, b) = (self.ins().ireduce(types::I32, a), self.ins().ireduce(types::I32, b));
                let r = self.ins().rotr(a, b);
                self.ins().uextend(I64, r)
            }
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
            // As a narrowing and a widening (not a mask): Cranelift then moves the narrowing
            // into the arithmetic that produced `a`, so 32-bit guest operations become 32-bit
            // host ones, whose results x86-64 zero-extends for free.
            UnOp::Zext8 | UnOp::Zext16 | UnOp::Zext32 => {
                let ty = match op {
                    UnOp::Zext8 => types::I8,
                    UnOp::Zext16 => types::I16,
                    _ => types::I32,
                };
                if self.fits_unsigned(a, ty.bits(), 3) {
                    return a;
                }
                let n = self.ins().ireduce(ty, a);
                self.ins().uextend(I64, n)
            }
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

    fn note_compare(&mut self, a: Value, b: Value, wide: bool, flags: [(Reg, Value); 4]) {
        let block = self.b.current_block().expect("emitting into a block");
        self.compare = Some(Compare { block, a, b, wide, flags });
    }

    /// Only within the IR block the compare was emitted in (a load's fast and slow paths start
    /// new ones), where each flag register's variable still holding the value the compare gave
    /// it shows that nothing wrote it since.
    fn compared(&mut self) -> Option<(Value, Value, bool)> {
        let c = self.compare?;
        if self.b.current_block() != Some(c.block) {
            return None;
        }
        for (r, v) in c.flags {
            let s = self.slots.get(r.0 as usize).and_then(Option::as_ref)?;
            if !s.cached || self.b.use_var(s.var) != v {
                return None;
            }
        }
        Some((c.a, c.b, c.wide))
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
        let (entry, hit) = self.tlb_probe(addr, op, 0);
        let (slow, join) = self.split_on_hit(hit);
        let result = self.b.append_block_param(join, I64);
        let host = self.host_addr(entry, addr);
        let v = self.load_host(host, 0, op);
        self.b.ins().jump(join, &[v.into()]);

        self.b.switch_to_block(slow);
        self.load_entry(addr, op, join, &[]);

        self.b.switch_to_block(join);
        self.note_narrow(result, op);
        Ok(result)
    }

    fn store(&mut self, addr: Value, val: Value, op: MemOp) -> Result<(), Exit> {
        let (entry, hit) = self.tlb_probe(addr, op, 8);
        let join = self.store_fast(entry, addr, hit, &[(0, val)], op);
        self.store_entry(addr, val, op, join);

        self.b.switch_to_block(join);
        Ok(())
    }

    fn load_pair(&mut self, addr: Value, op: MemOp) -> Result<(Value, Value), Exit> {
        let next = self.b.ins().iadd_imm_s(addr, op.size.bytes() as i64);
        let (entry, hit) = self.tlb_probe_pair(addr, next, op, 0);
        let (slow, join) = self.split_on_hit(hit);
        let first = self.b.append_block_param(join, I64);
        let second = self.b.append_block_param(join, I64);
        let host = self.host_addr(entry, addr);
        let v1 = self.load_host(host, 0, op);
        let v2 = self.load_host(host, op.size.bytes() as i32, op);
        self.b.ins().jump(join, &[v1.into(), v2.into()]);

        // Across a page, unaligned, or not in the TLB: the two loads one after the other, in
        // one call of the entry point (which looks in the TLB itself: a second inline probe
        // would only add blocks that Cranelift compiles at every pair in the region).
        self.b.switch_to_block(slow);
        self.load_pair_entry(addr, op, join);

        self.b.switch_to_block(join);
        self.note_narrow(first, op);
        self.note_narrow(second, op);
        Ok((first, second))
    }

    fn store_pair(&mut self, addr: Value, first: Value, second: Value, op: MemOp) -> Result<(), Exit> {
        let next = self.b.ins().iadd_imm_s(addr, op.size.bytes() as i64);
        let (entry, hit) = self.tlb_probe_pair(addr, next, op, 8);
        let join = self.store_fast(entry, addr, hit, &[(0, first), (op.size.bytes() as i32, second)], op);
        self.store_pair_entry(addr, [first, second], op, join);

        self.b.switch_to_block(join);
        Ok(())
    }

    /// Inline when the TLB entry of `addr` lets this code both read and write it as plain RAM
    /// (no flag in either tag: not a device, not a page with decoded code) and `addr` is
    /// aligned; anything else calls `helper`, which checks, faults and performs it all, from a
    /// cold path that, like a load's slow path, writes the registers back first and leaves
    /// the cached registers and TLB alone (the helper touches only memory).
    fn rmw(
        &mut self,
        op: Option<BinOp>,
        addr: Value,
        val: Value,
        mem: MemOp,
        helper: Helper<Self::Env>,
    ) -> Result<Value, Exit> {
        let size = mem.size.bytes();
        let (entry, writes) = self.tlb_probe(addr, mem, 8);
        let reads = self.tag_hit(entry, addr, size, 0);
        let low = self.b.ins().band_imm_s(addr, (size - 1) as i64);
        let aligned = self.b.ins().icmp_imm_s(IntCC::Equal, low, 0);
        let ok = self.b.ins().band(writes, reads);
        let ok = self.b.ins().band(ok, aligned);
        let (slow, join) = self.split_on_hit(ok);
        let result = self.b.append_block_param(join, I64);
        let host = self.host_addr(entry, addr);
        let old = self.load_host(host, 0, mem);
        let new = match op {
            // The operand as the helper sees it: extended like the old value, so that a
            // 32-bit minimum or maximum compares the right way.
            Some(op) => {
                let operand = if size < 8 { self.un(UnOp::Sext32, val) } else { val };
                self.bin(op, old, operand)
            }
            None => val,
        };
        self.store_host(host, 0, new, mem);
        self.b.ins().jump(join, &[old.into()]);

        self.b.switch_to_block(slow);
        self.may_stop();
        self.write_back();
        let zero = self.b.ins().iconst(I64, 0);
        let status = self.helper_status(self.stubs.helper_local, helper, [addr, val, zero]);
        let v = self.ret();
        let fault = self.fault_exit();
        self.b.ins().brif(status, fault, &[], join, &[v.into()]);

        self.b.switch_to_block(join);
        Ok(result)
    }

    fn call(&mut self, f: Helper<Self::Env>, a: Value, b: Value, c: Value) -> Result<Value, Exit> {
        self.call_through(self.stubs.helper, f, [a, b, c])
    }

    fn call_local(&mut self, f: Helper<Self::Env>, a: Value, b: Value, c: Value) -> Result<Value, Exit> {
        self.call_through(self.stubs.helper_local, f, [a, b, c])
    }

    fn jump(&mut self, target: Value) {
        self.b.def_var(self.next, target);
        self.leave = match self.consts.get(&target) {
            Some(&t) => Leave::Jump(t),
            None => Leave::Dynamic,
        };
    }

    fn branch(&mut self, c: Cond, a: Value, b: Value, target: u64) {
        // `finish` compares and branches; nothing reads `next` after a branch.
        self.leave = Leave::Branch(c, a, b, target);
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
