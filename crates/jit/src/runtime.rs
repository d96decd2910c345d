//! What generated code sees at run time: the context block it is passed, and the `extern "C"`
//! entry points back into Rust for slow memory accesses and helpers.
//!
//! Generated code holds no Rust references. It gets raw pointers (register file, data TLB, RAM)
//! in [`Ctx`], derived from the CPU and bus just before the call; every entry point re-derives
//! its `&mut` from `Ctx::env` and refreshes those pointers before returning, because a helper may
//! have switched the data TLB (e.g. `mstatus.MPRV`).

use mimic_core::{Endian, MemOp, Size};
use mimic_exec::{Env, Guest};
use mimic_ir::{Exit, Helper};
use mimic_softmmu::{TlbEntry, TLB_ALIGNED_ONLY, TLB_ENTRIES};
use std::ffi::c_void;

/// The context block. Do not reorder: generated code uses the `OFF_*` offsets.
#[repr(C)]
pub struct Ctx {
    pub regs: *mut u64,
    pub tlb: *const TlbEntry,
    pub ram: *mut u8,
    /// `*mut Env<'_, G>` for the guest type the code was compiled for.
    pub env: *mut c_void,
    /// Result of the last load or helper that went through Rust.
    pub ret: u64,
    /// Where the block ended: the next pc, or the faulting instruction's pc.
    pub exit_pc: u64,
    /// Instructions of the block that completed.
    pub executed: u64,
    /// Of those, how many the entry points have already counted as retired (so a helper that
    /// reads `minstret` mid-block sees the exact count).
    pub retired: u64,
    /// Chained jumps are taken only while `executed` is below this (0 once `stop` is set, so
    /// generated code checks one word).
    pub budget: u64,
    /// Set by entry points that may have changed what later blocks depend on (privilege,
    /// translation, interrupt state, code pages): no more chained jumps in this run.
    pub stop: u64,
    /// The jump slot of the exit taken, or 0 when the exit has none.
    pub exit_slot: u64,
    /// The tier's code generation: `lookup` hands out only code of this one.
    pub generation: u64,
    /// The tier's [`JumpCache`], for `lookup`.
    pub jump_cache: *mut JumpCache,
    /// The same cache's entries, for generated code's inline probe.
    pub jump_table: *const JumpEntry,
    /// `Guest::code_epoch` as of the last refresh, or [`NO_EPOCH`] for a guest without one.
    pub fetch_epoch: u64,
    /// The status of the last entry point called through a stub ([`Stubs`]).
    pub status: u64,
    /// The TLB of accesses with the least privileged mode's permissions (`MemOp::unpriv`).
    pub tlb_user: *const TlbEntry,
    /// Where a store's fast path writes when the TLB missed and its slow path does the store
    /// (see `Emitter::store_from_main_path`).
    pub scratch: [u64; 2],
    /// The second result of a load pair that went through Rust (the first is in `ret`).
    pub ret2: u64,
}

/// `Ctx::fetch_epoch` of guests that keep no fetch epoch: no entry's `fetch` equals it, so
/// generated code's probe never hits and `lookup` checks the translation itself.
pub const NO_EPOCH: u64 = u64::MAX;

/// One block `lookup` found: its key and its code's entry.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct JumpEntry {
    pc: u64,
    /// The fetch epoch the entry was made in (guests with `Guest::FETCH_EPOCH`), or the
    /// backing-store offset `pc` translated to (the others).
    fetch: u64,
    /// Block flags the target was translated under.
    flags: u64,
    /// The code's entry; 0 for an empty slot.
    entry: u64,
}

pub const JUMP_BITS: u32 = 12;
pub const JUMP_ENTRIES: usize = 1 << JUMP_BITS;
pub const JE_PC: i32 = 0;
pub const JE_FETCH: i32 = 8;
pub const JE_FLAGS: i32 = 16;
pub const JE_ENTRY: i32 = 24;

const _: () = {
    assert!(std::mem::offset_of!(JumpEntry, pc) == JE_PC as usize);
    assert!(std::mem::offset_of!(JumpEntry, fetch) == JE_FETCH as usize);
    assert!(std::mem::offset_of!(JumpEntry, flags) == JE_FLAGS as usize);
    assert!(std::mem::offset_of!(JumpEntry, entry) == JE_ENTRY as usize);
    assert!(std::mem::size_of::<JumpEntry>() == 32);
};

/// The slot of `pc`; generated code computes the same.
#[inline(always)]
pub fn jump_index(pc: u64) -> usize {
    ((pc >> 1) ^ (pc >> 13)) as usize & (JUMP_ENTRIES - 1)
}

/// The targets `lookup` found, direct-mapped by pc: a computed jump (a return, a call through a
/// pointer, a jump to another page) then finds its target's code with a few compares instead of
/// a block-cache lookup, and for guests with a fetch epoch generated code probes it inline
/// without calling `lookup` at all. Holds only code of the current generation whose block is
/// alive: the tier empties it whenever it invalidates code or recycles code memory.
pub struct JumpCache(Box<[JumpEntry; JUMP_ENTRIES]>);

impl Default for JumpCache {
    fn default() -> Self {
        JumpCache(Box::new([JumpEntry::default(); JUMP_ENTRIES]))
    }
}

impl JumpCache {
    pub fn clear(&mut self) {
        self.0.fill(JumpEntry::default());
    }

    #[inline]
    fn slot(&mut self, pc: u64) -> &mut JumpEntry {
        &mut self.0[jump_index(pc)]
    }

    /// The entries, at an address that stays put for the cache's life.
    pub fn table(&self) -> *const JumpEntry {
        self.0.as_ptr()
    }
}

pub const OFF_REGS: i32 = 0;
pub const OFF_TLB: i32 = 8;
pub const OFF_RAM: i32 = 16;
pub const OFF_RET: i32 = 32;
pub const OFF_EXIT_PC: i32 = 40;
pub const OFF_EXECUTED: i32 = 48;
pub const OFF_BUDGET: i32 = 64;
pub const OFF_STOP: i32 = 72;
pub const OFF_EXIT_SLOT: i32 = 80;
pub const OFF_JUMP_TABLE: i32 = 104;
pub const OFF_FETCH_EPOCH: i32 = 112;
pub const OFF_STATUS: i32 = 120;
pub const OFF_TLB_USER: i32 = 128;
pub const OFF_SCRATCH: i32 = 136;
pub const OFF_RET2: i32 = 152;

const _: () = {
    assert!(std::mem::offset_of!(Ctx, regs) == OFF_REGS as usize);
    assert!(std::mem::offset_of!(Ctx, tlb) == OFF_TLB as usize);
    assert!(std::mem::offset_of!(Ctx, ram) == OFF_RAM as usize);
    assert!(std::mem::offset_of!(Ctx, ret) == OFF_RET as usize);
    assert!(std::mem::offset_of!(Ctx, exit_pc) == OFF_EXIT_PC as usize);
    assert!(std::mem::offset_of!(Ctx, executed) == OFF_EXECUTED as usize);
    assert!(std::mem::offset_of!(Ctx, budget) == OFF_BUDGET as usize);
    assert!(std::mem::offset_of!(Ctx, stop) == OFF_STOP as usize);
    assert!(std::mem::offset_of!(Ctx, exit_slot) == OFF_EXIT_SLOT as usize);
    assert!(std::mem::offset_of!(Ctx, jump_table) == OFF_JUMP_TABLE as usize);
    assert!(std::mem::offset_of!(Ctx, fetch_epoch) == OFF_FETCH_EPOCH as usize);
    assert!(std::mem::offset_of!(Ctx, status) == OFF_STATUS as usize);
    assert!(std::mem::offset_of!(Ctx, tlb_user) == OFF_TLB_USER as usize);
    assert!(std::mem::offset_of!(Ctx, scratch) == OFF_SCRATCH as usize);
    assert!(std::mem::offset_of!(Ctx, ret2) == OFF_RET2 as usize);
};

/// Generated code reaches the entry points it calls on slow paths (TLB misses, MMIO, helpers)
/// through stubs that keep every register: calls in cold paths then leave the hot path's
/// register allocation alone, where a C call would make every value live across it take a
/// callee-saved register (saved and restored by each block) or a stack slot. A stub passes its
/// arguments on to the entry point and leaves the status in [`Ctx::status`].
#[derive(Clone, Copy, Debug)]
pub struct Stubs {
    pub load: usize,
    pub store: usize,
    pub load_pair: usize,
    pub store_pair: usize,
    pub helper: usize,
    pub helper_local: usize,
}

/// Entry points with their argument counts, as [`Stubs`] wraps them.
pub fn stub_targets<G: Guest>() -> [(usize, usize); 6] {
    [
        (load_slow::<G> as *const () as usize, 3),
        (store_slow::<G> as *const () as usize, 4),
        (load_pair_slow::<G> as *const () as usize, 3),
        (store_pair_slow::<G> as *const () as usize, 5),
        (call_helper::<G> as *const () as usize, 6),
        (call_helper_local::<G> as *const () as usize, 6),
    ]
}

/// A TLB that never hits, for guests without one: every access takes the slow path.
static NO_TLB: [TlbEntry; TLB_ENTRIES] = [TlbEntry::EMPTY; TLB_ENTRIES];

/// Status words entry points and generated functions return.
pub const OK: u64 = 0;
pub const FAULT: u64 = 1;

/// The signature of the generated entry stub: it calls the block at the given address (blocks
/// use Cranelift's `tail` convention, so they can jump to each other).
pub type EnterFn = unsafe extern "C" fn(*mut Ctx, usize) -> u64;

/// An entry point's call that faulted: the exception is the loop's to raise at the pc
/// generated code stored in `exit_pc` before the call, after the `index` instructions before it
/// in its block. Generated code then only returns the status (it wrote the block's registers
/// back before the call).
fn fault(ctx: &mut Ctx, index: u64) -> u64 {
    ctx.executed += index;
    FAULT
}

/// A slow path's access and instruction index as its one constant operand: the access in the
/// low byte ([`encode_memop`]), above it how many instructions of the block precede the one
/// making it. One constant instead of two is one instruction less in every slow path, and
/// slow paths are about a third of what Cranelift compiles.
pub fn encode_site(op: MemOp, index: u64) -> u64 {
    encode_memop(op) | index << 8
}

fn decode_site(site: u64) -> (MemOp, u64) {
    (decode_memop(site & 0xff), site >> 8)
}

/// `MemOp` as one integer operand for the slow paths.
fn encode_memop(op: MemOp) -> u64 {
    let size = match op.size {
        Size::B1 => 0,
        Size::B2 => 1,
        Size::B4 => 2,
        Size::B8 => 3,
    };
    size | (op.signed as u64) << 2 | ((op.endian == Endian::Big) as u64) << 3 | (op.unpriv as u64) << 4
}

fn decode_memop(v: u64) -> MemOp {
    let size = match v & 3 {
        0 => Size::B1,
        1 => Size::B2,
        2 => Size::B4,
        _ => Size::B8,
    };
    let endian = if v & 8 != 0 { Endian::Big } else { Endian::Little };
    MemOp { size, signed: v & 4 != 0, endian, unpriv: v & 16 != 0 }
}

/// Point `ctx` at the CPU's current register file, data TLB and RAM.
///
/// # Safety
/// `ctx.env` points to a live `Env<'_, G>` that nothing else is using.
pub unsafe fn refresh<G: Guest>(ctx: &mut Ctx) {
    // SAFETY: the caller's contract.
    let env = unsafe { &mut *ctx.env.cast::<Env<'_, G>>() };
    ctx.regs = env.cpu.regs().as_mut_ptr();
    ctx.tlb = env.cpu.data_tlb().unwrap_or(&NO_TLB).as_ptr();
    ctx.tlb_user = env.cpu.unpriv_tlb().unwrap_or(&NO_TLB).as_ptr();
    ctx.ram = env.bus.store_mut().as_mut_ptr();
    ctx.fetch_epoch = if G::FETCH_EPOCH { env.cpu.code_epoch() } else { NO_EPOCH };
}

/// Count as retired the instructions before the one now calling into Rust (`index` of them
/// precede it in its block).
fn sync_retired<G: Guest>(ctx: &mut Ctx, env: &mut Env<'_, G>, index: u64) {
    let done = ctx.executed + index;
    if done > ctx.retired {
        env.cpu.retire_n(done - ctx.retired);
        ctx.retired = done;
    }
}

/// Where a block whose next pc is known only at run time (returns, indirect jumps) goes on: the
/// compiled code of the block at `pc`, found as the loop would find it (translating `pc` and
/// looking up the cache under the current flags), or 0 to return to the loop.
///
/// # Safety
/// Called only by generated code, with the `ctx` it was given.
pub unsafe extern "C" fn lookup<G: Guest>(ctx: *mut Ctx, pc: u64) -> u64 {
    // SAFETY: see `load_slow`.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: see `load_slow`.
    let env = unsafe { &mut *ctx.env.cast::<Env<'_, G>>() };
    let flags = env.cpu.block_flags();
    // SAFETY: the tier points `jump_cache` at its own cache for the duration of the run and
    // touches it only between runs.
    let jc = unsafe { &mut *ctx.jump_cache };
    if G::FETCH_EPOCH {
        // While the epoch lasts, `pc` still translates as it did when the entry was made.
        let epoch = env.cpu.code_epoch();
        let hit = jc.slot(pc);
        if hit.entry != 0 && hit.pc == pc && hit.fetch == epoch && hit.flags == u64::from(flags) {
            return hit.entry;
        }
    }
    let Ok(phys) = env.cpu.translate_fetch(env.bus, pc) else {
        // The fault is the loop's to raise; it translates again.
        return 0;
    };
    let fetch = if G::FETCH_EPOCH { env.cpu.code_epoch() } else { phys as u64 };
    let hit = jc.slot(pc);
    if hit.entry != 0 && hit.pc == pc && hit.fetch == fetch && hit.flags == u64::from(flags) {
        return hit.entry;
    }
    let Some(block) = env.cpu.cache().lookup(pc, phys, flags) else {
        return 0;
    };
    // A block reaching into a second page is entered only from the loop, which re-checks it.
    if block.pages[0] != block.pages[1] {
        return 0;
    }
    match block.compiled.get() {
        Some(c) if c.generation == ctx.generation => {
            *jc.slot(pc) = JumpEntry { pc, fetch, flags: u64::from(flags), entry: c.entry as u64 };
            c.entry as u64
        }
        _ => 0,
    }
}

/// A load the inline TLB probe missed, by the instruction at `site` ([`encode_site`]).
///
/// # Safety
/// Called only by generated code, with the `ctx` it was given.
pub unsafe extern "C" fn load_slow<G: Guest>(ctx: *mut Ctx, addr: u64, site: u64) -> u64 {
    // SAFETY: generated code passes the context it received; its `env` is live and unaliased for
    // the duration of the block.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: as above.
    let env = unsafe { &mut *ctx.env.cast::<Env<'_, G>>() };
    let (op, index) = decode_site(site);
    sync_retired(ctx, env, index);
    let r = env.cpu.load(env.bus, addr, op);
    // SAFETY: as above.
    unsafe { refresh::<G>(ctx) };
    match r {
        Ok(v) => {
            ctx.ret = v;
            OK
        }
        Err(Exit) => fault(ctx, index),
    }
}

/// Both loads of a pair whose inline probe missed (across a page, unaligned, not in the TLB):
/// at `addr` and at the next element, one after the other as `Sem::load_pair` says, the
/// values in `ret` and `ret2`.
///
/// # Safety
/// Called only by generated code, with the `ctx` it was given.
pub unsafe extern "C" fn load_pair_slow<G: Guest>(ctx: *mut Ctx, addr: u64, site: u64) -> u64 {
    // SAFETY: see `load_slow`.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: see `load_slow`.
    let env = unsafe { &mut *ctx.env.cast::<Env<'_, G>>() };
    let (op, index) = decode_site(site);
    sync_retired(ctx, env, index);
    let next = addr.wrapping_add(op.size.bytes());
    let r = env.cpu.load(env.bus, addr, op).and_then(|a| Ok((a, env.cpu.load(env.bus, next, op)?)));
    // SAFETY: see `load_slow`.
    unsafe { refresh::<G>(ctx) };
    match r {
        Ok((a, b)) => {
            ctx.ret = a;
            ctx.ret2 = b;
            OK
        }
        Err(Exit) => fault(ctx, index),
    }
}

/// As [`load_slow`], a store.
///
/// # Safety
/// Called only by generated code, with the `ctx` it was given.
pub unsafe extern "C" fn store_slow<G: Guest>(ctx: *mut Ctx, addr: u64, val: u64, site: u64) -> u64 {
    // SAFETY: see `load_slow`.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: see `load_slow`.
    let env = unsafe { &mut *ctx.env.cast::<Env<'_, G>>() };
    let (op, index) = decode_site(site);
    sync_retired(ctx, env, index);
    let r = env.cpu.store(env.bus, addr, val, op);
    after_store::<G>(ctx, env, addr, op);
    match r {
        Ok(()) => OK,
        Err(Exit) => fault(ctx, index),
    }
}

/// As [`load_pair_slow`], the two stores of a pair (the first made when the second faults).
///
/// # Safety
/// Called only by generated code, with the `ctx` it was given.
pub unsafe extern "C" fn store_pair_slow<G: Guest>(
    ctx: *mut Ctx,
    addr: u64,
    first: u64,
    second: u64,
    site: u64,
) -> u64 {
    // SAFETY: see `load_slow`.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: see `load_slow`.
    let env = unsafe { &mut *ctx.env.cast::<Env<'_, G>>() };
    let (op, index) = decode_site(site);
    sync_retired(ctx, env, index);
    let next = addr.wrapping_add(op.size.bytes());
    let r = env.cpu.store(env.bus, addr, first, op);
    after_store::<G>(ctx, env, addr, op);
    let r = r.and_then(|()| {
        let r = env.cpu.store(env.bus, next, second, op);
        after_store::<G>(ctx, env, next, op);
        r
    });
    match r {
        Ok(()) => OK,
        Err(Exit) => fault(ctx, index),
    }
}

/// After a store through Rust: the context's pointers refreshed, and the run stopped unless
/// the store went to plain RAM.
fn after_store<G: Guest>(ctx: &mut Ctx, env: &mut Env<'_, G>, addr: u64, op: MemOp) {
    // SAFETY: `ctx` is the context generated code passed to the calling entry point, whose
    // `env` is the `env` given here.
    unsafe { refresh::<G>(ctx) };
    // A store to a device may change interrupt state, and one into a code page drops code: the
    // loop must look before any more chained code runs. A store to plain RAM (a TLB miss, the
    // first store to a clean page) does neither, and went on chaining: such stores are tens
    // of thousands a second, each a trip through the loop when they stopped the run.
    let tlb = if op.unpriv { ctx.tlb_user } else { ctx.tlb };
    if !writes_plain_ram(tlb, addr, op.size.bytes()) || env.cpu.cache().has_dead() {
        ctx.stop = 1;
        ctx.budget = 0;
    }
}

/// Whether a store of `size` bytes at `addr` now hits `tlb` (the context's data or
/// unprivileged TLB) as one to plain RAM: the entry's write tag carries no flag (MMIO, code
/// page, invalid) and the access is aligned. RAM where alignment matters (`TLB_ALIGNED_ONLY`:
/// Device memory, which is all of it while an AArch64 MMU is off, or alignment checking on)
/// is plain RAM too: every access to it takes the slow path, and stopping the run after each
/// store made a firmware loop with the MMU off ten times slower.
fn writes_plain_ram(tlb: *const TlbEntry, addr: u64, size: u64) -> bool {
    let index = (addr >> mimic_memory::PAGE_SHIFT) as usize & (TLB_ENTRIES - 1);
    // SAFETY: `tlb` is `ctx.tlb` or `ctx.tlb_user`, each pointing at a table of `TLB_ENTRIES`
    // entries (set by `refresh`), and `index` is below that.
    let entry = unsafe { &*tlb.add(index) };
    entry.addr_write & !TLB_ALIGNED_ONLY == addr & (mimic_softmmu::PAGE_MASK | (size - 1))
}

/// # Safety
/// Called only by generated code, with the `ctx` it was given and `f` a `Helper<Env<'_, G>>`
/// cast to an integer when the block was compiled.
pub unsafe extern "C" fn call_helper<G: Guest>(ctx: *mut Ctx, f: usize, a: u64, b: u64, c: u64, index: u64) -> u64 {
    // SAFETY: see `load_slow`.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: see `load_slow`.
    let env = unsafe { &mut *ctx.env.cast::<Env<'_, G>>() };
    // SAFETY: `f` was made from a `Helper<Env<'a, G>>` for this `G`; helpers are ordinary
    // functions generic over the environment's lifetime, so the pointer is the same function at
    // this lifetime.
    let f = unsafe { std::mem::transmute::<usize, Helper<Env<'_, G>>>(f) };
    sync_retired(ctx, env, index);
    // Helpers change privilege, CSRs, translation and interrupt state.
    ctx.stop = 1;
    ctx.budget = 0;
    let r = f(env, a, b, c);
    // SAFETY: see `load_slow`.
    unsafe { refresh::<G>(ctx) };
    match r {
        Ok(v) => {
            ctx.ret = v;
            OK
        }
        Err(Exit) => fault(ctx, index),
    }
}

/// Like [`call_helper`], for a helper emitted with `Sem::call_local`: chained jumps go on after
/// it unless it dropped compiled code (a store into a code page), which the loop must retire
/// before any more compiled code runs.
///
/// # Safety
/// As for [`call_helper`].
pub unsafe extern "C" fn call_helper_local<G: Guest>(
    ctx: *mut Ctx,
    f: usize,
    a: u64,
    b: u64,
    c: u64,
    index: u64,
) -> u64 {
    // SAFETY: see `load_slow`.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: see `load_slow`.
    let env = unsafe { &mut *ctx.env.cast::<Env<'_, G>>() };
    // SAFETY: see `call_helper`.
    let f = unsafe { std::mem::transmute::<usize, Helper<Env<'_, G>>>(f) };
    sync_retired(ctx, env, index);
    let r = f(env, a, b, c);
    if env.cpu.cache().has_dead() {
        ctx.stop = 1;
        ctx.budget = 0;
    }
    // SAFETY: see `load_slow`.
    unsafe { refresh::<G>(ctx) };
    match r {
        Ok(v) => {
            ctx.ret = v;
            OK
        }
        Err(Exit) => fault(ctx, index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memop_encoding_round_trips() {
        for size in [Size::B1, Size::B2, Size::B4, Size::B8] {
            for signed in [false, true] {
                for endian in [Endian::Little, Endian::Big] {
                    for unpriv in [false, true] {
                        let op = MemOp { size, signed, endian, unpriv };
                        assert_eq!(decode_memop(encode_memop(op)), op);
                    }
                }
            }
        }
    }

    #[test]
    fn site_encoding_keeps_the_access_and_the_instruction_index() {
        let op = MemOp { size: Size::B8, signed: true, endian: Endian::Big, unpriv: true };
        for index in [0, 1, 255, 256, 4095] {
            assert_eq!(decode_site(encode_site(op, index)), (op, index));
        }
    }
}
