//! The contract between the CPU loop and a compiling tier (the JIT lives in its own crate, which
//! this one must not know): the loop decides *when* a block is hot, the tier turns it into host
//! code and runs that code.

use crate::cache::{Block, BlockCache};
use crate::run::Guest;
use mimic_memory::AddressSpace;
use std::rc::Rc;

/// A handle to one block's host code. Only the tier that made it can run it, and only while its
/// code memory still holds it (`generation` matches [`Compiler::generation`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compiled {
    pub entry: usize,
    pub generation: u64,
}

/// How a run of compiled code ended. `executed` instructions completed (and were retired by the
/// tier, which keeps the guest's instruction counters exact).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompiledExit {
    /// The code ran to an exit; continue at `next`. `link`, when set, is the exit's jump slot:
    /// if the block at `next` has code, [`Compiler::chain`] may point the slot at it so later
    /// runs jump there directly.
    Next { next: u64, executed: u32, link: Option<usize> },
    /// The instruction at `pc` stopped with an exception the CPU has recorded (for `Guest::raise`).
    Fault { pc: u64, executed: u32 },
}

/// What became of a request to compile a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compile {
    Done(Compiled),
    /// Compiling elsewhere; [`Compiler::collect`] installs the code in the block when it is ready.
    Queued,
    /// This tier cannot compile the block; the interpreter keeps it.
    Refused,
}

/// A tier that compiles hot blocks.
pub trait Compiler<G: Guest> {
    /// Compile `region[0]` together with the blocks after it that it reaches (see
    /// [`crate::region`]); the code belongs to `region[0]` and enters there.
    fn compile(&mut self, region: &[Rc<Block<G::Insn>>]) -> Compile;
    /// Install finished background work into the blocks of `cache` that still stand for it.
    fn collect(&mut self, cache: &mut BlockCache<G::Insn>);
    /// Run compiled code on `cpu`, following chained jumps while fewer than `budget`
    /// instructions have run. `code` must come from this tier's current generation.
    fn execute(&mut self, code: Compiled, cpu: &mut G, bus: &mut AddressSpace, budget: u64) -> CompiledExit;
    /// Make the jump slot `link` (from [`CompiledExit::Next`]) go straight to `to`.
    fn chain(&mut self, link: usize, to: Compiled);
    /// `code`'s block was dropped (its guest code changed or was unmapped): never run it again,
    /// also not through chained jumps.
    fn invalidate(&mut self, code: Compiled);
    /// Bumped whenever code memory is recycled, voiding every `Compiled` handed out before.
    fn generation(&self) -> u64;
    /// Compile requests waiting for this tier's background compiler; `None` when it compiles
    /// on the CPU thread.
    fn backlog(&self) -> Option<usize> {
        None
    }
}

/// A compiling tier that counts the compiled runs the loop starts: how often generated code
/// hands back to the loop, which tests of chaining assert on.
pub struct CountRuns<C> {
    pub inner: C,
    pub runs: u64,
}

impl<C> CountRuns<C> {
    pub fn new(inner: C) -> Self {
        CountRuns { inner, runs: 0 }
    }
}

impl<G: Guest, C: Compiler<G>> Compiler<G> for CountRuns<C> {
    fn compile(&mut self, region: &[Rc<Block<G::Insn>>]) -> Compile {
        self.inner.compile(region)
    }
    fn collect(&mut self, cache: &mut BlockCache<G::Insn>) {
        self.inner.collect(cache)
    }
    fn execute(&mut self, code: Compiled, cpu: &mut G, bus: &mut AddressSpace, budget: u64) -> CompiledExit {
        self.runs += 1;
        self.inner.execute(code, cpu, bus, budget)
    }
    fn chain(&mut self, link: usize, to: Compiled) {
        self.inner.chain(link, to)
    }
    fn invalidate(&mut self, code: Compiled) {
        self.inner.invalidate(code)
    }
    fn generation(&self) -> u64 {
        self.inner.generation()
    }
    fn backlog(&self) -> Option<usize> {
        self.inner.backlog()
    }
}

/// Which tiers the loop uses.
pub struct Tiers<'c, G: Guest> {
    pub compiler: &'c mut dyn Compiler<G>,
    /// Interpreted runs before a block is compiled; 0 compiles before the first run. A
    /// background compiler with little to do takes blocks earlier, see [`Tiers::threshold_now`].
    pub threshold: u32,
}

impl<G: Guest> Tiers<'_, G> {
    /// The runs after which a block is compiled, given the compiler's backlog. The background
    /// compiler has a core of its own, idle whenever its queue is empty: then lukewarm blocks
    /// (a 64th of the threshold) are worth its time, as they run compiled from then on
    /// instead of interpreted. With a queue, only warmer blocks join it, the hot ones first, so
    /// that they do not wait behind lukewarm ones (a low fixed threshold made boots slower for
    /// that reason, see [`TierPolicy::HOT`]). Measured with `cargo xtask bench-linux`, boot to
    /// READY, three alternating runs each, against one threshold: riscv64 2.91-3.01 s →
    /// 2.42-2.62 s, arm64 3.41-3.89 s → 2.95-3.15 s (fractions 1/16, 1/4, 1).
    ///
    /// Kernel code that runs a few times per disk request (virtio-blk submission and
    /// completion, the block layer) reached a sixteenth only after hundreds of requests, and
    /// a 256 MiB guest `dd` read ran most of it interpreted. The present fractions (1/64, 1/16,
    /// 1/4), alternating with (1/16, 1/4, 1) on one machine: the riscv64 disk guest's first read
    /// 0.206-0.231 s of main-thread CPU against 0.212-0.248 s; `bench-linux` workload totals
    /// riscv64 18.03-18.56 s against 18.79-19.85 s, arm64 18.86-19.11 s against 19.38-20.64 s;
    /// arm64 boot 2.74-2.90 s against 2.77-3.03 s.
    pub fn threshold_now(&self) -> u32 {
        match self.compiler.backlog() {
            None => self.threshold,
            Some(0) => self.threshold / 64,
            Some(1..=3) => self.threshold / 16,
            Some(_) => self.threshold / 4,
        }
    }
}

/// Which tier runs guest code (`-accel tcg,tier=...`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TierPolicy {
    /// Interpret everything.
    Interp,
    /// Compile every block before it first runs.
    Jit,
    /// Interpret cold code; compile blocks once they have run [`TierPolicy::HOT`] times.
    #[default]
    Auto,
}

impl TierPolicy {
    /// Interpreted runs before `Auto` compiles a block: most blocks run only a few times (boot
    /// code, one-off initialisation), and compiling them costs more than interpreting them.
    /// With regions (several blocks per compile, on the background thread) a lower threshold
    /// also keeps the compiler busy with lukewarm code while hot blocks wait in its queue.
    /// Measured with `cargo xtask bench-linux --arch riscv64` (boot to READY / workload total):
    /// 3000 → 3.2-3.7 s / 15.1-17.3 s, 6000 → 2.8-3.0 / 13.7-14.3, 12000 → 2.7-2.9 /
    /// 13.3-14.2, 25000 → 2.7-2.8 / 13.7-13.9, 50000 → 3.2-3.3 / 14.5-17.4; arm64 at 12000
    /// against 3000: boot the same, total 15.1 s against 16.4 s.
    pub const HOT: u32 = 12000;

    pub fn parse(s: &str) -> Option<TierPolicy> {
        match s {
            "interp" => Some(TierPolicy::Interp),
            "jit" => Some(TierPolicy::Jit),
            "auto" => Some(TierPolicy::Auto),
            _ => None,
        }
    }

    /// The compile threshold, or `None` for no compiling tier.
    pub fn threshold(self) -> Option<u32> {
        match self {
            TierPolicy::Interp => None,
            TierPolicy::Jit => Some(0),
            TierPolicy::Auto => Some(Self::HOT),
        }
    }
}
