//! The CPU loop: interrupts, block lookup or decode, interpretation, exceptions.

use crate::cache::{Block, BlockCache, DecodedInsn, QUEUED};
use crate::direct::{Direct, Env};
use crate::tier::{Compile, CompiledExit, Tiers};
use mimic_core::MemOp;
use mimic_ir::{Exit, Sem};
use mimic_memory::{AddressSpace, PAGE_SIZE};
use mimic_softmmu::{TlbEntry, TLB_ENTRIES};
use std::rc::Rc;

/// Longest block, in instructions; bounds the work between interrupt checks.
const MAX_BLOCK_INSNS: usize = 64;

/// What the loop needs of an ISA's CPU.
pub trait Guest: Sized {
    type Insn: Copy + std::fmt::Debug;

    /// The flat register file `Reg` indexes.
    fn regs(&mut self) -> &mut [u64];
    fn pc(&self) -> u64;
    fn set_pc(&mut self, pc: u64);
    /// Translation-relevant state (privilege, FP enabled, ...), part of the block cache key.
    fn block_flags(&self) -> u32;
    fn cache(&mut self) -> &mut BlockCache<Self::Insn>;

    fn load(&mut self, bus: &mut AddressSpace, vaddr: u64, op: MemOp) -> Result<u64, Exit>;
    fn store(&mut self, bus: &mut AddressSpace, vaddr: u64, val: u64, op: MemOp) -> Result<(), Exit>;
    /// Backing-store offset of `vaddr` for instruction fetch; on a fault the exception is
    /// recorded (for [`Guest::raise`]) and `Exit` returned.
    fn translate_fetch(&mut self, bus: &mut AddressSpace, vaddr: u64) -> Result<usize, Exit>;
    /// A block was decoded from this backing-store page: writes to it must now be watched.
    fn watch_code_page(&mut self, bus: &mut AddressSpace, page_offset: usize);

    /// Length in bytes of the instruction whose first 16 bits are `lo`.
    fn insn_len(lo: u16) -> u8;
    /// Decode one instruction; illegal encodings decode to something that raises when executed.
    fn decode(word: u32, len: u8, flags: u32) -> Self::Insn;
    /// Whether the block must end after this instruction.
    fn ends_block(insn: &Self::Insn) -> bool;
    fn execute(insn: &Self::Insn, flags: u32, s: &mut Direct<'_, Self>) -> Result<(), Exit>;
    /// The same semantics on any tier (a compiling tier records them instead of running them).
    fn translate<'a, S: Sem<Env = Env<'a, Self>>>(insn: &Self::Insn, flags: u32, s: &mut S) -> Result<(), Exit>
    where
        Self: 'a;
    fn disasm(insn: &Self::Insn) -> String;

    /// Deliver the exception recorded by the last `Exit`, raised by the instruction at `pc`.
    fn raise(&mut self, pc: u64);
    /// Take a pending, enabled interrupt (changing pc and privilege). Also wakes a halted CPU
    /// when any interrupt is pending.
    fn check_interrupts(&mut self);
    /// Count one retired instruction.
    fn retire(&mut self);
    /// Count `n` retired instructions.
    fn retire_n(&mut self, n: u64) {
        for _ in 0..n {
            self.retire();
        }
    }
    /// The TLB that data accesses use now, for generated code's inline lookup; `None` sends
    /// every access of compiled code through [`Guest::load`]/[`Guest::store`].
    fn data_tlb(&self) -> Option<&[TlbEntry; TLB_ENTRIES]> {
        None
    }
    /// The TLB of accesses with the least privileged mode's permissions ([`mimic_core::MemOp::unpriv`]),
    /// which [`Guest::load`]/[`Guest::store`] must honour wherever a guest's semantics make
    /// such accesses; `None` sends them down the slow path.
    fn unpriv_tlb(&self) -> Option<&[TlbEntry; TLB_ENTRIES]> {
        None
    }
    /// Whether [`Guest::code_epoch`] is meaningful: then a compiling tier may reuse a run-time
    /// lookup of a pc (a return, an indirect jump) without translating the pc again while the
    /// epoch lasts, and compare block flags with those its code was translated under. That needs
    /// both: instruction-fetch translations change only when the epoch does, and during a
    /// compiled run that goes on chaining (no [`Sem::call`] helper ran) the block flags either
    /// stay as they were, change only in ways that leave code translated for the old flags
    /// correct, or change as [`Guest::flags_from_reg`] describes.
    const FETCH_EPOCH: bool = false;
    /// Block-flag bits that a register carries from one block to the next (AArch64's
    /// PSTATE.BTYPE, which an indirect branch sets for its target): `Some((reg, shift, mask))`
    /// when, for a block translated under `flags`, the next block's flags are `flags` with bits
    /// `mask << shift` replaced by the low bits of register `reg` as the block leaves it. A
    /// compiling tier's inline jump-cache probe (with [`Guest::FETCH_EPOCH`]) then expects
    /// those flags of its target rather than the block's own.
    fn flags_from_reg(_flags: u32) -> Option<(usize, u32, u32)> {
        None
    }
    /// A number that changes whenever instruction-fetch translations may have (TLB flushes).
    fn code_epoch(&self) -> u64 {
        0
    }
    /// Waiting for an interrupt (WFI).
    fn halted(&self) -> bool;
    /// Whether the instruction that just returned `Exit` stopped at a watched address rather
    /// than raising an exception (debug runs only).
    fn watch_hit_pending(&mut self) -> bool {
        false
    }
}

/// Which `-d` log items are on.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogFlags {
    pub in_asm: bool,
    pub exec: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// The instruction budget ran out.
    Budget,
    /// The CPU waits for an interrupt.
    Halted,
    /// Stopped before an instruction at a breakpoint (the pc is its address).
    Breakpoint,
    /// One instruction was executed (single-step).
    Stepped,
    /// An instruction was about to touch a watched address; the pc is that instruction's, and
    /// it has not executed.
    Watchpoint,
}

/// Run blocks until about `budget` instructions have executed or the CPU halts.
pub fn run<G: Guest>(cpu: &mut G, bus: &mut AddressSpace, budget: u64, log: LogFlags) -> RunOutcome {
    run_impl::<G, false, false>(cpu, bus, budget, log, &Debug::default(), None)
}

/// Like [`run`], compiling blocks that have run `tiers.threshold` times and running their host
/// code from then on.
pub fn run_tiered<G: Guest>(
    cpu: &mut G,
    bus: &mut AddressSpace,
    budget: u64,
    log: LogFlags,
    tiers: Tiers<'_, G>,
) -> RunOutcome {
    run_impl::<G, false, true>(cpu, bus, budget, log, &Debug::default(), Some(tiers))
}

/// What a debugger asks of the loop.
#[derive(Clone, Debug, Default)]
pub struct Debug {
    /// Stop before executing an instruction at any of these addresses.
    pub breakpoints: Vec<u64>,
    /// The breakpoint at the current pc was just reported: execute that instruction once.
    pub skip_breakpoint_at: Option<u64>,
    /// Execute one instruction (with interrupts masked, as QEMU's default stepping does), then stop.
    pub single_step: bool,
}

/// Like [`run`], but honouring breakpoints, single-stepping and watchpoints (reported by
/// [`Guest::watch_hit_pending`]). Slower: every instruction is checked.
pub fn run_debug<G: Guest>(
    cpu: &mut G,
    bus: &mut AddressSpace,
    budget: u64,
    log: LogFlags,
    debug: &Debug,
) -> RunOutcome {
    run_impl::<G, true, false>(cpu, bus, budget, log, debug, None)
}

/// `TIERED` keeps the compiled-code paths out of the interpreter-only loops entirely.
fn run_impl<G: Guest, const DEBUG: bool, const TIERED: bool>(
    cpu: &mut G,
    bus: &mut AddressSpace,
    budget: u64,
    log: LogFlags,
    debug: &Debug,
    mut tiers: Option<Tiers<'_, G>>,
) -> RunOutcome {
    let mut executed = 0u64;
    let mut skip = debug.skip_breakpoint_at;
    // A jump slot of the last compiled exit, its target pc, and the flags it was taken under.
    let mut link: Option<(usize, u64, u32)> = None;
    // The block run last, whose remembered successor may spare the next lookup.
    let mut prev: Option<Rc<Block<G::Insn>>> = None;
    // The heat at which blocks compile now; follows the compiler's backlog, which changes
    // little within a slice except by this loop's own requests.
    let mut hot = u32::MAX;
    if let Some(t) = tiers.as_mut().filter(|_| TIERED) {
        t.compiler.collect(cpu.cache());
        hot = t.threshold_now();
    }
    while executed < budget {
        // Good for this iteration only: anything run in between may have changed the mappings.
        let pending_link = if TIERED { link.take() } else { None };
        if !(DEBUG && debug.single_step) {
            cpu.check_interrupts();
        }
        if cpu.halted() {
            return RunOutcome::Halted;
        }
        let pc = cpu.pc();
        let flags = cpu.block_flags();
        let fetch_epoch = G::FETCH_EPOCH.then(|| cpu.code_epoch());
        let prev_block = prev.take();
        let known = match (&prev_block, fetch_epoch) {
            (Some(p), Some(e)) => p.successor(pc, flags, e),
            _ => None,
        };
        let block = match known {
            Some(b) => b,
            None => {
                let Ok(phys) = cpu.translate_fetch(bus, pc) else {
                    cpu.raise(pc);
                    // An exception counts against the budget: a guest whose vector faults again (an
                    // unmapped VBAR or mtvec) must not keep the loop from returning to the board.
                    executed += 1;
                    if DEBUG && debug.single_step {
                        return RunOutcome::Stepped;
                    }
                    continue;
                };
                let cached = cpu.cache().lookup(pc, phys, flags).filter(|b| second_page_unchanged(cpu, bus, b));
                let block = match cached {
                    Some(b) => b,
                    None => match build_block(cpu, bus, pc, phys, flags) {
                        Ok(b) => {
                            if log.in_asm {
                                log_block::<G>(&b);
                            }
                            cpu.cache().insert(b)
                        }
                        Err(Exit) => {
                            cpu.raise(pc);
                            executed += 1;
                            if DEBUG && debug.single_step {
                                return RunOutcome::Stepped;
                            }
                            continue;
                        }
                    },
                };
                if let (Some(p), Some(e)) = (&prev_block, fetch_epoch) {
                    p.set_successor(pc, flags, e, &block);
                }
                block
            }
        };
        prev = Some(block.clone());
        if log.exec {
            tracing::info!(target: "exec", "Trace {:#x} [{:#x}/{:#x}]", pc, block.phys, flags);
        }
        if let Some(t) = tiers.as_mut().filter(|_| TIERED) {
            let generation = t.compiler.generation();
            let mut code = block.compiled.get().filter(|c| c.generation == generation);
            if code.is_none() {
                let heat = block.heat.get();
                if heat & QUEUED != 0 {
                    // Waiting for the background compiler, which takes the busiest block first.
                    block.heat.set(heat.saturating_add(1));
                } else if heat >= hot {
                    // The blocks of a loop run about as often as its first, which is hot now.
                    let region =
                        crate::region::gather_across::<G>(cpu.cache(), &block, hot / 2, generation, fetch_epoch);
                    match t.compiler.compile(&region) {
                        Compile::Done(c) => {
                            code = Some(c);
                            block.compiled.set(code);
                        }
                        Compile::Queued => {
                            block.heat.set(QUEUED);
                            hot = t.threshold_now();
                        }
                        // Not compilable: stay interpreted without asking again soon.
                        Compile::Refused => block.heat.set(0),
                    }
                } else {
                    block.heat.set(heat + 1);
                }
            }
            if let Some(code) = code {
                // The previous compiled block jumped here through a slot: link them, unless an
                // interrupt or a change of flags came in between, or this block's second page
                // could change under the link (only a fresh lookup re-checks it).
                if let Some((slot, to_pc, from_flags)) = pending_link {
                    if to_pc == pc && from_flags == flags && block.pages[0] == block.pages[1] {
                        t.compiler.chain(slot, code);
                    }
                }
                // Blocks dropped since compiled code last ran (by this hart's stores, by DMA or
                // by another hart, between slices) must be dead to chained jumps before any runs.
                if cpu.cache().has_dead() {
                    for c in cpu.cache().take_dead() {
                        t.compiler.invalidate(c);
                    }
                }
                match t.compiler.execute(code, cpu, bus, budget.saturating_sub(executed)) {
                    CompiledExit::Next { next, executed: n, link: l } => {
                        if n == 0 && next == pc {
                            // Its code handed back before running anything: the region it
                            // belongs to was dropped (a member on another page was written)
                            // while this block lives on. Interpreted until compiled anew.
                            block.compiled.set(None);
                        }
                        cpu.set_pc(next);
                        executed += n as u64;
                        link = l.map(|s| (s, next, flags));
                    }
                    CompiledExit::Fault { pc, executed: n } => {
                        cpu.raise(pc);
                        executed += n as u64;
                    }
                }
                executed += 1;
                continue;
            }
        }
        let mut d = Direct { env: Env { cpu: &mut *cpu, bus: &mut *bus }, pc, next: pc };
        let mut faulted = false;
        for di in &block.insns {
            if DEBUG {
                if debug.breakpoints.contains(&di.pc) && skip != Some(di.pc) {
                    d.env.cpu.set_pc(di.pc);
                    return RunOutcome::Breakpoint;
                }
                skip = None;
            }
            d.pc = di.pc;
            d.next = di.pc.wrapping_add(di.len as u64);
            if G::execute(&di.insn, block.flags, &mut d).is_err() {
                // A watched access stops the instruction before it commits (GDB steps over it).
                if DEBUG && d.env.cpu.watch_hit_pending() {
                    d.env.cpu.set_pc(di.pc);
                    return RunOutcome::Watchpoint;
                }
                d.env.cpu.raise(di.pc);
                faulted = true;
                break;
            }
            d.env.cpu.retire();
            executed += 1;
            if DEBUG && debug.single_step {
                let next = d.next;
                d.env.cpu.set_pc(next);
                return RunOutcome::Stepped;
            }
        }
        if !faulted {
            let next = d.next;
            cpu.set_pc(next);
        }
        if DEBUG && faulted && debug.single_step {
            return RunOutcome::Stepped;
        }
        executed += 1;
    }
    RunOutcome::Budget
}

/// A block whose last instruction straddles into another page is keyed by its first page only;
/// the second page's mapping may have changed since, so translate it again.
fn second_page_unchanged<G: Guest>(cpu: &mut G, bus: &mut AddressSpace, b: &Block<G::Insn>) -> bool {
    if b.pages[0] == b.pages[1] {
        return true;
    }
    let Some(last) = b.insns.last() else {
        return false;
    };
    let second = last.pc.wrapping_add(2);
    match cpu.translate_fetch(bus, second) {
        Ok(off) => off / PAGE_SIZE as usize == b.pages[1],
        Err(Exit) => false,
    }
}

fn log_block<G: Guest>(b: &Block<G::Insn>) {
    let mut s = String::new();
    for i in &b.insns {
        s.push_str(&format!("\n  {:#018x}:  {}", i.pc, G::disasm(&i.insn)));
    }
    tracing::info!(target: "in_asm", "IN: {:#x}{}", b.pc, s);
}

fn read_u16(bus: &AddressSpace, off: usize) -> u16 {
    let s = bus.store();
    u16::from_le_bytes([s[off], s[off + 1]])
}

/// Decode a block starting at `pc` (backing-store offset `phys`). Only the first instruction's
/// fetch fault is reported; a later one ends the block before that instruction.
fn build_block<G: Guest>(
    cpu: &mut G,
    bus: &mut AddressSpace,
    pc: u64,
    phys: usize,
    flags: u32,
) -> Result<Block<G::Insn>, Exit> {
    let page = phys / PAGE_SIZE as usize;
    let mut pages = [page, page];
    let page_end = (pc | (PAGE_SIZE - 1)).wrapping_add(1);
    let mut insns = Vec::new();
    let (mut cur, mut off) = (pc, phys);
    loop {
        let lo = read_u16(bus, off);
        let len = G::insn_len(lo);
        let word = if len == 4 {
            let hi = if cur.wrapping_add(2) != page_end {
                read_u16(bus, off + 2)
            } else {
                // The instruction straddles two pages: its second half lives elsewhere.
                match cpu.translate_fetch(bus, cur.wrapping_add(2)) {
                    Ok(o2) => {
                        pages[1] = o2 / PAGE_SIZE as usize;
                        read_u16(bus, o2)
                    }
                    Err(e) if insns.is_empty() => return Err(e),
                    Err(_) => break,
                }
            };
            lo as u32 | (hi as u32) << 16
        } else {
            lo as u32
        };
        let insn = G::decode(word, len, flags);
        insns.push(DecodedInsn { insn, pc: cur, len });
        cur = cur.wrapping_add(len as u64);
        off += len as usize;
        if G::ends_block(&insn) || cur == page_end || pages[1] != pages[0] || insns.len() >= MAX_BLOCK_INSNS {
            break;
        }
    }
    for p in pages {
        cpu.watch_code_page(bus, p * PAGE_SIZE as usize);
    }
    Ok(Block::new(pc, phys, flags, insns, pages))
}
