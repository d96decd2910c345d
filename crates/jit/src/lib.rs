//! The compiling tier: hot guest blocks become host code through Cranelift.
//!
//! The CPU loop (`mimic_exec`) decides when a block is hot and asks [`Jit`] (its
//! `Compiler`) for code. The block's instructions are translated by the ISA's own semantics
//! functions, the same ones the interpreter runs, against [`emit::Emitter`], which records
//! Cranelift IR instead of computing; so no instruction's meaning is written twice.
//!
//! ```text
//!   Block ──G::translate(insn, Emitter)──▶ Cranelift IR ──compile──▶ bytes ──▶ CodeMemory
//!                                                                         │
//!   run loop ──Jit::execute──▶ Ctx{regs, tlb, ram, env} ──call──▶ host code ┘
//!                                  ▲                                 │ TLB miss / helper
//!                                  └──── runtime::{load,store}_slow, call_helper (Rust)
//! ```
//!
//! This crate owns the executable-memory `unsafe` (`code_mem`) and the calls between generated
//! code and Rust (`runtime`), each with a `// SAFETY:` comment.

mod backend;
mod code_mem;
mod emit;
mod queue;
mod runtime;
mod thunks;

use backend::Backend;
use code_mem::CodeMemory;
use emit::BlockMeta;
use mimic_exec::{region, Block, BlockCache, Compile, Compiled, CompiledExit, Compiler, Env, Guest, QUEUED};
use mimic_memory::AddressSpace;
use runtime::{Ctx, EnterFn, JumpCache, Stubs};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};

/// Generations are unique in the process, not per tier: a block cache may outlive the tier that
/// compiled its blocks, and a new tier must never accept the old one's handles.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

fn new_generation() -> u64 {
    NEXT_GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// `/tmp/perf-<pid>.map` once [`enable_perf_map`] opened it: every tier of the process adds
/// its blocks, so `perf report` names generated code by guest pc.
static PERF_MAP: OnceLock<Mutex<std::fs::File>> = OnceLock::new();

/// Write a perf map (QEMU's `-perfmap`): each compiled block as `guest:<pc>` in
/// `/tmp/perf-<pid>.map`, the file `perf` reads to name code that has no symbols.
pub fn enable_perf_map() -> std::io::Result<()> {
    if PERF_MAP.get().is_none() {
        // perf looks there, whatever TMPDIR says.
        let path = format!("/tmp/perf-{}.map", std::process::id());
        let _ = PERF_MAP.set(Mutex::new(std::fs::File::create(path)?));
    }
    Ok(())
}

fn perf_map_add(entry: usize, len: usize, pc: u64) {
    if let Some(f) = PERF_MAP.get() {
        use std::io::Write;
        if let Ok(mut f) = f.lock() {
            // Unbuffered: perf may read the map while the emulator still runs.
            let _ = writeln!(f, "{entry:x} {len:x} guest:{pc:#x}");
        }
    }
}

/// Address space reserved for generated code per tier instance; recycled whole when full.
const CODE_BYTES: usize = 256 << 20;
/// ... and for the stubs, which stay.
const STUB_BYTES: usize = 16 << 10;

/// What the tier has done, for tests and investigations.
#[derive(Clone, Copy, Debug, Default)]
pub struct JitStats {
    pub compiled: u64,
    pub failed: u64,
    pub flushes: u64,
    pub code_bytes: u64,
    pub chained: u64,
    /// Compile requests for a region of more than one block.
    pub regions: u64,
}

/// A region for the background compiler: its blocks, copied (the key and instructions; the
/// worker makes blocks of them, which cannot cross threads themselves).
struct Job<I> {
    region: Vec<Member<I>>,
    meta: usize,
}

struct Member<I> {
    pc: u64,
    phys: usize,
    flags: u32,
    insns: Vec<mimic_exec::DecodedInsn<I>>,
    pages: [usize; 2],
}

/// The background compiler's answer: code for job `id`, or `None`.
type Done = (u64, Option<Vec<u8>>);

/// A job on the worker's queue, as the CPU thread keeps it.
struct Pending<I> {
    /// The region's first block, whose code the job makes (if it still exists).
    block: Weak<Block<I>>,
    /// The region's other blocks, in order, and whether this job marked each [`QUEUED`]: they
    /// wait for its code (and then enter it through their thunks) instead of queueing regions
    /// of their own, which would compile mostly the same blocks again.
    members: Vec<(Weak<Block<I>>, bool)>,
    /// The region's validity flag and jump slots.
    meta: Box<BlockMeta>,
}

impl<I> Pending<I> {
    /// The runs the job's first block and the members it marked have had while waiting for
    /// it; `None` once the first block is gone.
    fn urgency(&self) -> Option<u32> {
        let block = self.block.upgrade().filter(|b| !b.is_dropped())?;
        let waiting = |b: &Block<I>| b.heat.get() & !QUEUED;
        let marked = self.members.iter().filter(|(_, marked)| *marked).filter_map(|(m, _)| m.upgrade());
        Some(marked.fold(waiting(&block), |sum, m| sum.saturating_add(waiting(&m))))
    }

    /// The job is over. Members it marked that get no entry into its code (it failed, or was
    /// withdrawn) may grow hot again and queue regions of their own.
    fn release_members(&self) {
        for (m, marked) in &self.members {
            if let Some(m) = m.upgrade().filter(|_| *marked) {
                if m.heat.get() & QUEUED != 0 {
                    m.heat.set(0);
                }
            }
        }
    }
}

/// A compiler thread. Compiling costs the CPU thread nothing while the guest keeps running the
/// block in the interpreter; the code is installed between slices (`Compiler::collect`).
struct Worker<I> {
    jobs: Arc<queue::Queue<Job<I>>>,
    thread: std::thread::JoinHandle<()>,
    done: mpsc::Receiver<Done>,
    /// Queued blocks by job id.
    pending: HashMap<u64, Pending<I>>,
    next_id: u64,
}

pub struct Jit<G: Guest> {
    backend: Backend,
    worker: Option<Worker<G::Insn>>,
    mem: CodeMemory,
    /// The stubs, never recycled: code in flight on the worker refers to them.
    _stub_mem: CodeMemory,
    /// The stub Rust calls to enter a block (blocks use the `tail` convention).
    enter: EnterFn,
    stubs: Stubs,
    /// Each compiled block's validity flag and jump slots, by entry address. Boxed so their
    /// addresses, baked into code, stay put; freed only when code memory is recycled.
    metas: HashMap<usize, Box<BlockMeta>>,
    /// Jump-slot address → (owning block's entry, slot index).
    slot_owner: HashMap<usize, (usize, usize)>,
    /// Entry thunk → its region's function.
    thunk_owner: HashMap<usize, usize>,
    generation: u64,
    /// What `runtime::lookup` found, emptied before a run when code was invalidated since.
    jump_cache: JumpCache,
    jump_cache_stale: bool,
    stats: JitStats,
    _guest: PhantomData<fn(&mut G)>,
}

impl<G: Guest + 'static> Jit<G>
where
    G::Insn: Send + 'static,
{
    /// A JIT that compiles on the CPU thread, or why there is none (unsupported host, no memory).
    pub fn new() -> Result<Jit<G>, String> {
        if !cfg!(target_arch = "x86_64") {
            // Other hosts need an instruction-cache flush after writing code; not done yet.
            return Err("the JIT supports x86-64 hosts only".into());
        }
        let mut backend = Backend::new()?;
        let mem = CodeMemory::new(CODE_BYTES).map_err(|e| format!("code memory: {e}"))?;
        let mut stub_mem = CodeMemory::new(STUB_BYTES).map_err(|e| format!("code memory: {e}"))?;
        let enter = install_enter_stub(&mut backend, &mut stub_mem).ok_or("cannot compile the entry stub")?;
        let mut stub = |(target, args)| {
            let bytes = backend.compile_stub(target, args).ok_or("cannot compile the entry-point stubs")?;
            stub_mem.push(&bytes).ok_or("no room for the entry-point stubs")
        };
        let [load, store, load_pair, store_pair, helper, helper_local] = runtime::stub_targets::<G>();
        let stubs = Stubs {
            load: stub(load)?,
            store: stub(store)?,
            load_pair: stub(load_pair)?,
            store_pair: stub(store_pair)?,
            helper: stub(helper)?,
            helper_local: stub(helper_local)?,
        };
        Ok(Jit {
            backend,
            worker: None,
            mem,
            _stub_mem: stub_mem,
            enter,
            stubs,
            metas: HashMap::new(),
            slot_owner: HashMap::new(),
            thunk_owner: HashMap::new(),
            generation: new_generation(),
            jump_cache: JumpCache::default(),
            jump_cache_stale: false,
            stats: JitStats::default(),
            _guest: PhantomData,
        })
    }

    /// Like [`Jit::new`], compiling on a thread of its own: the guest goes on interpreting a hot
    /// block until its code is ready, instead of waiting for Cranelift.
    pub fn new_background() -> Result<Jit<G>, String> {
        let mut jit = Self::new()?;
        let jobs = Arc::new(queue::Queue::<Job<G::Insn>>::new());
        let (done_tx, done) = mpsc::channel::<Done>();
        let mut backend = jit.backend.fork();
        let stubs = jit.stubs;
        let queue = jobs.clone();
        let thread = std::thread::Builder::new()
            .name("mimic-jit".into())
            .spawn(move || {
                while let Some((id, job)) = queue.take() {
                    let blocks: Vec<Block<G::Insn>> =
                        job.region.into_iter().map(|m| Block::new(m.pc, m.phys, m.flags, m.insns, m.pages)).collect();
                    let region: Vec<&Block<G::Insn>> = blocks.iter().collect();
                    let code = backend.compile_region::<G>(&region, job.meta as *const BlockMeta, stubs);
                    if done_tx.send((id, code)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| format!("JIT thread: {e}"))?;
        jit.worker = Some(Worker { jobs, thread, done, pending: HashMap::new(), next_id: 0 });
        Ok(jit)
    }

    pub fn stats(&self) -> JitStats {
        JitStats { code_bytes: self.mem.used() as u64, ..self.stats }
    }

    /// Put the code of a region of `blocks` blocks into code memory (recycling it when full),
    /// with its entry thunks, and register its metadata; the entry of each block.
    fn install(&mut self, code: &[u8], mut meta: Box<BlockMeta>, pc: u64, blocks: usize) -> Option<Vec<Compiled>> {
        let (bytes, offsets) = thunks::image(code, blocks);
        let bytes = &bytes[..];
        let entry = match self.mem.push(bytes) {
            Some(e) => e,
            None => {
                // Full: recycle all code memory; every earlier handle is void from now on, and
                // with the old code gone so are the slots and flags it used.
                self.mem.reset();
                self.metas.clear();
                self.slot_owner.clear();
                self.thunk_owner.clear();
                self.generation = new_generation();
                self.jump_cache.clear();
                self.stats.flushes += 1;
                self.mem.push(bytes)?
            }
        };
        for (i, slot) in meta.slots.iter().enumerate() {
            self.slot_owner.insert(slot as *const u64 as usize, (entry, i));
        }
        for (own, &o) in meta.entries.iter_mut().zip(&offsets) {
            *own = (entry + o) as u64;
        }
        self.metas.insert(entry, meta);
        self.stats.compiled += 1;
        perf_map_add(entry, bytes.len(), pc);
        let generation = self.generation;
        let entries: Vec<Compiled> = offsets.iter().map(|&o| Compiled { entry: entry + o, generation }).collect();
        for c in &entries[..] {
            if c.entry != entry {
                self.thunk_owner.insert(c.entry, entry);
            }
        }
        Some(entries)
    }

    /// `member`, a block of a region just installed, starts there from now on (through the
    /// thunk `code`) unless it has code of its own or is no longer the block its pc maps to
    /// (checked in `cache` when given; the CPU-thread compiler got it from the cache just now).
    fn enter_member(&mut self, member: &Rc<Block<G::Insn>>, code: Compiled, cache: Option<&mut BlockCache<G::Insn>>) {
        let own = member.compiled.get().is_some_and(|c| c.generation == self.generation);
        let current = !member.is_dropped() && cache.is_none_or(|cache| is_current(cache, member));
        if !own && current {
            member.compiled.set(Some(code));
            member.heat.set(0);
        }
    }
}

impl<I> Drop for Worker<I> {
    fn drop(&mut self) {
        self.jobs.close();
    }
}

impl<G: Guest + 'static> Compiler<G> for Jit<G>
where
    G::Insn: Send + 'static,
{
    fn compile(&mut self, region: &[Rc<Block<G::Insn>>]) -> Compile {
        let Some(block) = region.first() else {
            return Compile::Refused;
        };
        if region.len() > 1 {
            self.stats.regions += 1;
        }
        let mut meta = Box::new(BlockMeta {
            valid: 1,
            slots: [0; emit::SLOTS],
            pcs: [0; region::MAX_BLOCKS],
            entries: [0; region::MAX_BLOCKS],
        });
        for (pc, b) in meta.pcs.iter_mut().zip(region) {
            *pc = b.pc;
        }
        if let Some(w) = &mut self.worker {
            let id = w.next_id;
            w.next_id += 1;
            let copy = |b: &Rc<Block<G::Insn>>| Member {
                pc: b.pc,
                phys: b.phys,
                flags: b.flags,
                insns: b.insns.to_vec(),
                pages: b.pages,
            };
            let job = Job { region: region.iter().map(copy).collect(), meta: &*meta as *const BlockMeta as usize };
            if !w.thread.is_finished() {
                w.jobs.push(id, job);
                let generation = self.generation;
                let members = region[1..]
                    .iter()
                    .map(|m| {
                        let waiting = m.heat.get() & QUEUED != 0;
                        let compiled = m.compiled.get().is_some_and(|c| c.generation == generation);
                        let mark = !waiting && !compiled;
                        if mark {
                            m.heat.set(QUEUED);
                        }
                        (Rc::downgrade(m), mark)
                    })
                    .collect();
                w.pending.insert(id, Pending { block: Rc::downgrade(block), members, meta });
                return Compile::Queued;
            }
            // The thread is gone: compile here from now on.
            self.worker = None;
        }
        let members: Vec<&Block<G::Insn>> = region.iter().map(|b| &**b).collect();
        let Some(bytes) = self.backend.compile_region::<G>(&members, &*meta, self.stubs) else {
            self.stats.failed += 1;
            return Compile::Refused;
        };
        let Some(entries) = self.install(&bytes, meta, block.pc, region.len()) else {
            return Compile::Refused;
        };
        for (m, &c) in region.iter().zip(&entries).skip(1) {
            self.enter_member(m, c, None);
        }
        Compile::Done(entries[0])
    }

    fn collect(&mut self, cache: &mut BlockCache<G::Insn>) {
        let Some(w) = &mut self.worker else {
            return;
        };
        // The runs its blocks have had while waiting decide what compiles next: those of the
        // first block and of the members the job marked, which wait for this job alone (a hot
        // loop marked by a lukewarm caller's region ran 90 000 times interpreted in an arm64
        // boot while the caller's job sat behind warmer ones).
        let pending = &w.pending;
        let gone = w.jobs.reprioritize(|id| pending.get(&id)?.urgency());
        for id in gone {
            if let Some(p) = w.pending.remove(&id) {
                p.release_members();
            }
        }
        let mut ready = Vec::new();
        while let Ok((id, code)) = w.done.try_recv() {
            if let Some(p) = w.pending.remove(&id) {
                p.release_members();
                ready.push((p, code));
            }
        }
        for (p, code) in ready {
            let Some(block) = p.block.upgrade() else {
                continue;
            };
            match code {
                Some(bytes) if is_current(cache, &block) => {
                    let entries = self.install(&bytes, p.meta, block.pc, p.members.len() + 1);
                    block.compiled.set(entries.as_ref().map(|e| e[0]));
                    match entries {
                        Some(entries) => {
                            for ((m, _), &c) in p.members.iter().zip(&entries[1..]) {
                                if let Some(m) = m.upgrade() {
                                    self.enter_member(&m, c, Some(&mut *cache));
                                }
                            }
                        }
                        None => block.heat.set(0),
                    }
                }
                Some(_) => {}
                None => {
                    self.stats.failed += 1;
                    block.heat.set(0);
                }
            }
        }
    }

    fn execute(&mut self, code: Compiled, cpu: &mut G, bus: &mut AddressSpace, budget: u64) -> CompiledExit {
        assert_eq!(code.generation, self.generation, "stale compiled code");
        if std::mem::take(&mut self.jump_cache_stale) {
            self.jump_cache.clear();
        }
        let mut env = Env { cpu, bus };
        let mut ctx = Ctx {
            regs: std::ptr::null_mut(),
            tlb: std::ptr::null(),
            ram: std::ptr::null_mut(),
            env: (&mut env as *mut Env<'_, G>).cast(),
            ret: 0,
            exit_pc: 0,
            executed: 0,
            retired: 0,
            budget,
            stop: 0,
            exit_slot: 0,
            generation: self.generation,
            jump_table: self.jump_cache.table(),
            fetch_epoch: runtime::NO_EPOCH,
            jump_cache: &mut self.jump_cache,
            status: 0,
            tlb_user: std::ptr::null(),
            scratch: [0; 2],
            ret2: 0,
        };
        // SAFETY: `ctx.env` points at `env`, which lives across the call and is used by nothing
        // else until it returns. `code.entry` is the start of a function this tier compiled with
        // the block signature, or of one of the entry thunks laid out after a region's function
        // (which passes that function a valid block index), in code memory of the current
        // generation (checked above), so it is still there; the function touches only what
        // `ctx` points at, through the
        // entry points in `runtime` instantiated for this `G`, and jumps only to blocks linked
        // into its slots, which are of the same generation.
        let status = unsafe {
            runtime::refresh::<G>(&mut ctx);
            (self.enter)(&mut ctx, code.entry)
        };
        let rest = ctx.executed.saturating_sub(ctx.retired);
        env.cpu.retire_n(rest);
        let executed = ctx.executed as u32;
        if status == runtime::OK {
            let link = (ctx.stop == 0 && ctx.exit_slot != 0).then_some(ctx.exit_slot as usize);
            CompiledExit::Next { next: ctx.exit_pc, executed, link }
        } else {
            CompiledExit::Fault { pc: ctx.exit_pc, executed }
        }
    }

    fn chain(&mut self, link: usize, to: Compiled) {
        if to.generation != self.generation {
            return;
        }
        // `link` came from a slot address baked into a block of this generation; write through
        // its owner rather than through an unchecked address.
        let Some(&(owner, i)) = self.slot_owner.get(&link) else {
            return;
        };
        if let Some(meta) = self.metas.get_mut(&owner) {
            meta.slots[i] = to.entry as u64;
            self.stats.chained += 1;
        }
    }

    fn invalidate(&mut self, code: Compiled) {
        if code.generation == self.generation {
            // A thunk's region goes with it: all its blocks are on one page, dropped together.
            let entry = self.thunk_owner.get(&code.entry).copied().unwrap_or(code.entry);
            if let Some(meta) = self.metas.get_mut(&entry) {
                meta.valid = 0;
            }
            // Dropped code must not be found again: a jump into it would return to the loop
            // with the jumping block's slot still recorded, to be linked to the wrong block.
            // Emptied before the next run rather than once per dropped block.
            self.jump_cache_stale = true;
        }
    }

    fn generation(&self) -> u64 {
        self.generation
    }

    fn backlog(&self) -> Option<usize> {
        self.worker.as_ref().map(|w| w.jobs.len())
    }
}

/// Whether the cache still maps `block`'s key to this very block: a block dropped (its code
/// changed) or replaced meanwhile must not get code for its old contents.
fn is_current<I>(cache: &mut BlockCache<I>, block: &Rc<Block<I>>) -> bool {
    cache.lookup(block.pc, block.phys, block.flags).is_some_and(|b| Rc::ptr_eq(&b, block))
}

/// Compile the entry stub into `mem`.
fn install_enter_stub(backend: &mut Backend, mem: &mut CodeMemory) -> Option<EnterFn> {
    let bytes = backend.compile_enter_stub()?;
    let addr = mem.push(&bytes)?;
    // SAFETY: `addr` is the start of the function just compiled with exactly this signature and
    // calling convention (the ISA's default, which is C's on this host).
    Some(unsafe { std::mem::transmute::<usize, EnterFn>(addr) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(pc: u64, heat: u32) -> Rc<Block<()>> {
        let b = Rc::new(Block::new(pc, 0, 0, Vec::new(), [0, 0]));
        b.heat.set(heat);
        b
    }

    fn meta() -> Box<BlockMeta> {
        Box::new(BlockMeta {
            valid: 1,
            slots: [0; emit::SLOTS],
            pcs: [0; region::MAX_BLOCKS],
            entries: [0; region::MAX_BLOCKS],
        })
    }

    #[test]
    fn a_job_is_as_urgent_as_the_runs_of_its_block_and_of_the_members_waiting_for_it() {
        let (first, hot_member, own_job) = (block(0, QUEUED | 10), block(4, QUEUED | 90_000), block(8, QUEUED | 500));
        let p = Pending {
            block: Rc::downgrade(&first),
            // The third member was queued by a job of its own: its runs count there.
            members: vec![(Rc::downgrade(&hot_member), true), (Rc::downgrade(&own_job), false)],
            meta: meta(),
        };
        assert_eq!(p.urgency(), Some(90_010));
    }

    #[test]
    fn a_job_whose_first_block_is_gone_has_no_urgency() {
        let member = block(4, QUEUED | 7);
        let p = Pending {
            block: Rc::downgrade(&block(0, QUEUED)),
            members: vec![(Rc::downgrade(&member), true)],
            meta: meta(),
        };
        assert_eq!(p.urgency(), None);
    }
}
