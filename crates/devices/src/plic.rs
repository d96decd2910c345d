//! SiFive PLIC (platform-level interrupt controller), as in the RISC-V PLIC specification and
//! QEMU's `virt` machine (`0x0c00_0000`, `riscv,ndev = 95`, priorities 0..=7, two contexts per
//! hart: context `2h` is hart h's M-mode, `2h + 1` its S-mode).
//!
//! | offset | register | meaning |
//! |---|---|---|
//! | `0x000000 + 4s` | `priority[s]` | 0 (never interrupts) ..= 7; source 0 does not exist |
//! | `0x001000 + 4w` | `pending[w]` | bit b = source 32w + b is pending (read-only) |
//! | `0x002000 + 0x80c + 4w` | `enable[c][w]` | bit b = source 32w + b may interrupt context c |
//! | `0x200000 + 0x1000c` | `threshold[c]` | only priorities above it interrupt context c |
//! | `0x200004 + 0x1000c` | `claim/complete[c]` | read: claim; write: complete |
//!
//! All registers are 32 bits wide; an aligned 8-byte access is split into two 32-bit accesses
//! (low word first), anything else is logged, reads 0 and is ignored.
//!
//! ```text
//!  device line ──▶ gateway (level) ──▶ pending ──▶ enabled & priority > threshold ──▶ context line
//!                     ▲                   │ claim clears pending, marks in service
//!                     └── complete ───────┘ re-samples the level
//! ```
//!
//! Every source has a level-triggered gateway: while its input is high and it is not in service
//! (claimed and not yet completed) it sets its pending bit. A pending bit stays set until the
//! source is claimed, even if the line falls meanwhile (the spec's behaviour, and QEMU's since
//! 9.2); the handler then finds nothing to do, which drivers handle. Claim returns the
//! highest-priority pending source that is enabled for the context with priority above its
//! threshold (ties: lowest id), or 0. Completion is ignored unless the source is enabled for that
//! context (the spec's rule; Linux's driver allows for it) and in service.
//!
//! Each context's output is high while some source could be claimed by it. Outputs are driven
//! only on changes.
//!
//! # Wiring inputs, and the lock rule
//! A device gets its interrupt line to the PLIC as a [`PlicInput`] (`Plic::input(&plic, n)`),
//! which locks the shared PLIC and calls [`Plic::set_level`]. That is safe because devices only
//! drive their line while *their own* lock is held (the bus locks the device for an MMIO access;
//! a backend locks it to feed input), never the PLIC's. The rule that keeps it so:
//! **lock order is device → PLIC → nothing**. The PLIC's own output lines must not take locks
//! (the board wires them to the harts' atomic `mip` bits), and no code may drive a `PlicInput`
//! while holding the PLIC's lock (std mutexes are not re-entrant: it would deadlock).

use crate::access::DrivenLine;
use mimic_core::{guest_error, IrqLine, Size};
use mimic_memory::{MmioDevice, Shared};

/// Number of sources on QEMU's `virt` (`riscv,ndev`).
pub const VIRT_NUM_SOURCES: u32 = 95;
/// Highest priority (3 priority bits).
pub const MAX_PRIORITY: u32 = 7;
/// Most sources the register layout has room for.
pub const MAX_SOURCES: u32 = 1023;
/// Most contexts the register layout has room for.
pub const MAX_CONTEXTS: usize = 15872;

pub const PRIORITY_BASE: u64 = 0x0;
pub const PENDING_BASE: u64 = 0x1000;
pub const ENABLE_BASE: u64 = 0x2000;
pub const ENABLE_STRIDE: u64 = 0x80;
pub const CONTEXT_BASE: u64 = 0x20_0000;
pub const CONTEXT_STRIDE: u64 = 0x1000;

/// Size of the register window for `contexts` contexts (as QEMU's `VIRT_PLIC_SIZE`).
pub const fn mmio_size(contexts: usize) -> u64 {
    CONTEXT_BASE + contexts as u64 * CONTEXT_STRIDE
}

/// Building or wiring a PLIC went wrong (a board bug).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlicError {
    #[error("a PLIC has 1 to {MAX_SOURCES} sources, not {0}")]
    SourceCount(u32),
    #[error("a PLIC has 1 to {MAX_CONTEXTS} contexts, not {0}")]
    ContextCount(usize),
    #[error("no interrupt source {id} (valid: 1 to {max})")]
    NoSuchSource { id: u32, max: u32 },
}

/// Guest-visible PLIC state. Bit vectors are 32-bit words, bit `s % 32` of word `s / 32` for
/// source `s`, as in the register layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlicState {
    /// Priority per source, index = source id (index 0 unused, always 0).
    pub priority: Vec<u32>,
    pub pending: Vec<u32>,
    /// Sources claimed and not yet completed (in service in their gateway).
    pub claimed: Vec<u32>,
    /// Current level of each input line (wires, kept so that completion can re-sample them).
    pub level: Vec<u32>,
    /// Enable words, `words` per context, context after context.
    pub enable: Vec<u32>,
    pub threshold: Vec<u32>,
}

/// A PLIC with `num_sources` sources and one output line per context.
pub struct Plic<I> {
    num_sources: u32,
    words: usize,
    state: PlicState,
    outputs: Vec<DrivenLine<I>>,
}

impl<I> std::fmt::Debug for Plic<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plic")
            .field("num_sources", &self.num_sources)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<I: IrqLine> Plic<I> {
    /// A PLIC in its reset state with sources `1..=num_sources` and one output per context, in
    /// context order (on `virt`: hart 0 M, hart 0 S, hart 1 M, ...).
    pub fn new(num_sources: u32, contexts: Vec<I>) -> Result<Self, PlicError> {
        if num_sources == 0 || num_sources > MAX_SOURCES {
            return Err(PlicError::SourceCount(num_sources));
        }
        if contexts.is_empty() || contexts.len() > MAX_CONTEXTS {
            return Err(PlicError::ContextCount(contexts.len()));
        }
        let words = (num_sources as usize + 1).div_ceil(32);
        let n = contexts.len();
        let state = PlicState {
            priority: vec![0; num_sources as usize + 1],
            pending: vec![0; words],
            claimed: vec![0; words],
            level: vec![0; words],
            enable: vec![0; words * n],
            threshold: vec![0; n],
        };
        let outputs = contexts.into_iter().map(DrivenLine::new).collect();
        Ok(Plic { num_sources, words, state, outputs })
    }

    /// An [`IrqLine`] driving input `source` of the shared `plic`, to hand to a device.
    pub fn input(plic: &Shared<Self>, source: u32) -> Result<PlicInput<I>, PlicError> {
        let max = lock(plic).num_sources;
        if source == 0 || source > max {
            return Err(PlicError::NoSuchSource { id: source, max });
        }
        Ok(PlicInput { plic: plic.clone(), source })
    }

    pub fn num_sources(&self) -> u32 {
        self.num_sources
    }

    pub fn num_contexts(&self) -> usize {
        self.outputs.len()
    }

    /// Set the level of input `source` (1..=num_sources; others are ignored with a warning).
    pub fn set_level(&mut self, source: u32, high: bool) {
        if source == 0 || source > self.num_sources {
            tracing::warn!("plic: set_level on nonexistent source {source}");
            return;
        }
        let (w, b) = bit(source);
        if high {
            self.state.level[w] |= b;
            if self.state.claimed[w] & b == 0 {
                self.state.pending[w] |= b;
            }
        } else {
            self.state.level[w] &= !b;
        }
        self.update();
    }

    /// Whether context `ctx`'s output is high.
    pub fn output_level(&self, ctx: usize) -> bool {
        self.outputs.get(ctx).is_some_and(|o| o.level())
    }

    /// Hardware reset: priorities, enables, thresholds, pending and in-service bits cleared. Input
    /// levels are wires, not state: high inputs become pending again at once.
    pub fn reset(&mut self) {
        let s = &mut self.state;
        s.priority.fill(0);
        s.claimed.fill(0);
        s.enable.fill(0);
        s.threshold.fill(0);
        s.pending.copy_from_slice(&s.level);
        self.update();
    }

    pub fn state(&self) -> &PlicState {
        &self.state
    }

    /// Restore a saved state (of a PLIC with the same source and context counts; vectors of
    /// other lengths are cut or zero-padded) and drive the outputs to match.
    pub fn set_state(&mut self, mut state: PlicState) {
        let (words, n) = (self.words, self.outputs.len());
        state.priority.resize(self.num_sources as usize + 1, 0);
        state.priority[0] = 0;
        for v in [&mut state.pending, &mut state.claimed, &mut state.level] {
            v.resize(words, 0);
        }
        state.enable.resize(words * n, 0);
        state.threshold.resize(n, 0);
        self.state = state;
        for ctx in 0..n {
            let level = self.best(ctx).is_some();
            self.outputs[ctx].force(level);
        }
    }

    /// The source context `ctx` would claim now.
    fn best(&self, ctx: usize) -> Option<u32> {
        let s = &self.state;
        let enable = &s.enable[ctx * self.words..(ctx + 1) * self.words];
        let mut best: Option<(u32, u32)> = None; // (priority, source)
        for (w, (&p, &e)) in s.pending.iter().zip(enable).enumerate() {
            let mut bits = p & e & !s.claimed[w];
            while bits != 0 {
                let source = w as u32 * 32 + bits.trailing_zeros();
                bits &= bits - 1;
                let prio = s.priority.get(source as usize).copied().unwrap_or(0);
                if prio > s.threshold[ctx] && best.is_none_or(|(bp, _)| prio > bp) {
                    best = Some((prio, source));
                }
            }
        }
        best.map(|(_, source)| source)
    }

    fn update(&mut self) {
        for ctx in 0..self.outputs.len() {
            let level = self.best(ctx).is_some();
            self.outputs[ctx].set(level);
        }
    }

    fn claim(&mut self, ctx: usize) -> u32 {
        let Some(source) = self.best(ctx) else {
            return 0;
        };
        let (w, b) = bit(source);
        self.state.pending[w] &= !b;
        self.state.claimed[w] |= b;
        self.update();
        source
    }

    fn complete(&mut self, ctx: usize, source: u32) {
        if source == 0 || source > self.num_sources {
            guest_error!("plic: context {ctx} completes nonexistent source {source}");
            return;
        }
        let (w, b) = bit(source);
        if self.state.enable[ctx * self.words + w] & b == 0 || self.state.claimed[w] & b == 0 {
            return; // not enabled for this context, or not in service: ignored (spec)
        }
        self.state.claimed[w] &= !b;
        if self.state.level[w] & b != 0 {
            self.state.pending[w] |= b;
        }
        self.update();
    }

    fn read32(&mut self, offset: u64) -> Option<u32> {
        let s = &self.state;
        match offset {
            PRIORITY_BASE..PENDING_BASE => s.priority.get(((offset - PRIORITY_BASE) / 4) as usize).copied(),
            PENDING_BASE..ENABLE_BASE => s.pending.get(((offset - PENDING_BASE) / 4) as usize).copied(),
            ENABLE_BASE..CONTEXT_BASE => {
                let (ctx, w) = self.enable_index(offset)?;
                Some(self.state.enable[ctx * self.words + w])
            }
            _ => {
                let (ctx, reg) = self.context_index(offset)?;
                match reg {
                    0 => Some(self.state.threshold[ctx]),
                    4 => Some(self.claim(ctx)),
                    _ => None,
                }
            }
        }
    }

    fn write32(&mut self, offset: u64, value: u32) -> bool {
        match offset {
            PRIORITY_BASE..PENDING_BASE => {
                let source = ((offset - PRIORITY_BASE) / 4) as usize;
                if source == 0 || source >= self.state.priority.len() {
                    return false;
                }
                self.state.priority[source] = value & MAX_PRIORITY;
            }
            ENABLE_BASE..CONTEXT_BASE => {
                let Some((ctx, w)) = self.enable_index(offset) else {
                    return false;
                };
                let valid = self.valid_mask(w);
                self.state.enable[ctx * self.words + w] = value & valid;
            }
            CONTEXT_BASE.. => {
                let Some((ctx, reg)) = self.context_index(offset) else {
                    return false;
                };
                match reg {
                    0 => self.state.threshold[ctx] = value & MAX_PRIORITY,
                    4 => {
                        self.complete(ctx, value);
                        return true;
                    }
                    _ => return false,
                }
            }
            _ => return false, // pending bits are read-only
        }
        self.update();
        true
    }

    /// The bits of word `w` that name existing sources.
    fn valid_mask(&self, w: usize) -> u32 {
        let first = w as u32 * 32;
        let mut mask = u32::MAX;
        if first == 0 {
            mask &= !1; // source 0 does not exist
        }
        let last = self.num_sources; // highest valid id
        if last < first + 31 {
            mask &= (1u32 << (last - first + 1)) - 1;
        }
        mask
    }

    fn enable_index(&self, offset: u64) -> Option<(usize, usize)> {
        let rel = offset - ENABLE_BASE;
        let ctx = (rel / ENABLE_STRIDE) as usize;
        let w = ((rel % ENABLE_STRIDE) / 4) as usize;
        (ctx < self.outputs.len() && w < self.words).then_some((ctx, w))
    }

    fn context_index(&self, offset: u64) -> Option<(usize, u64)> {
        let rel = offset.checked_sub(CONTEXT_BASE)?;
        let ctx = usize::try_from(rel / CONTEXT_STRIDE).ok()?;
        (ctx < self.outputs.len()).then_some((ctx, rel % CONTEXT_STRIDE))
    }
}

fn bit(source: u32) -> (usize, u32) {
    ((source / 32) as usize, 1 << (source % 32))
}

fn lock<T>(m: &Shared<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock: another thread panicked mid-update; carry on with the state we have.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<I: IrqLine> MmioDevice for Plic<I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        let v = match size {
            Size::B4 if offset.is_multiple_of(4) => self.read32(offset).map(u64::from),
            Size::B8 if offset.is_multiple_of(8) => {
                let lo = self.read32(offset);
                let hi = self.read32(offset + 4);
                lo.map(|lo| u64::from(lo) | (u64::from(hi.unwrap_or(0)) << 32))
            }
            _ => None,
        };
        v.unwrap_or_else(|| {
            guest_error!("plic: {}-byte read at bad offset {offset:#x}", size.bytes());
            0
        })
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) {
        let ok = match size {
            Size::B4 if offset.is_multiple_of(4) => self.write32(offset, value as u32),
            Size::B8 if offset.is_multiple_of(8) => {
                let lo = self.write32(offset, value as u32);
                let hi = self.write32(offset + 4, (value >> 32) as u32);
                lo && hi
            }
            _ => false,
        };
        if !ok {
            guest_error!("plic: {}-byte write of {value:#x} at bad offset {offset:#x}", size.bytes());
        }
    }
}

/// Input `source` of a shared PLIC, as an [`IrqLine`] for a device (see the module's lock rule).
pub struct PlicInput<I> {
    plic: Shared<Plic<I>>,
    source: u32,
}

impl<I> Clone for PlicInput<I> {
    fn clone(&self) -> Self {
        PlicInput { plic: self.plic.clone(), source: self.source }
    }
}

impl<I> std::fmt::Debug for PlicInput<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlicInput").field("source", &self.source).finish_non_exhaustive()
    }
}

impl<I> PlicInput<I> {
    pub fn source(&self) -> u32 {
        self.source
    }
}

impl<I: IrqLine> IrqLine for PlicInput<I> {
    fn set_level(&self, high: bool) {
        lock(&self.plic).set_level(self.source, high);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::RecordingIrq;
    use std::sync::{Arc, Mutex};

    const CLAIM0: u64 = CONTEXT_BASE + 4;
    const CLAIM1: u64 = CONTEXT_BASE + CONTEXT_STRIDE + 4;

    fn plic() -> (Plic<RecordingIrq>, Vec<RecordingIrq>) {
        let lines: Vec<RecordingIrq> = (0..4).map(|_| RecordingIrq::new()).collect();
        (Plic::new(VIRT_NUM_SOURCES, lines.clone()).unwrap(), lines)
    }

    fn w(p: &mut Plic<RecordingIrq>, offset: u64, value: u32) {
        p.write(offset, Size::B4, u64::from(value));
    }

    fn r(p: &mut Plic<RecordingIrq>, offset: u64) -> u32 {
        p.read(offset, Size::B4) as u32
    }

    /// Give `source` a priority and enable it for context `ctx`.
    fn arm(p: &mut Plic<RecordingIrq>, ctx: u64, source: u32, prio: u32) {
        w(p, PRIORITY_BASE + 4 * u64::from(source), prio);
        let en = ENABLE_BASE + ctx * ENABLE_STRIDE + 4 * u64::from(source / 32);
        let old = r(p, en);
        w(p, en, old | 1 << (source % 32));
    }

    #[test]
    fn plic_high_input_sets_pending_bit() {
        let (mut p, _) = plic();
        p.set_level(10, true);
        assert_eq!(r(&mut p, PENDING_BASE), 1 << 10);
    }

    #[test]
    fn plic_pending_enabled_source_raises_context_line() {
        let (mut p, lines) = plic();
        arm(&mut p, 1, 10, 1);
        p.set_level(10, true);
        assert_eq!((lines[0].level(), lines[1].level()), (false, true));
    }

    #[test]
    fn plic_priority_zero_never_interrupts() {
        let (mut p, lines) = plic();
        arm(&mut p, 0, 10, 0);
        p.set_level(10, true);
        assert_eq!((lines[0].level(), r(&mut p, CLAIM0)), (false, 0));
    }

    #[test]
    fn plic_priority_at_threshold_is_masked() {
        let (mut p, lines) = plic();
        arm(&mut p, 0, 10, 3);
        w(&mut p, CONTEXT_BASE, 3);
        p.set_level(10, true);
        assert!(!lines[0].level());
    }

    #[test]
    fn plic_threshold_lowered_raises_line() {
        let (mut p, lines) = plic();
        arm(&mut p, 0, 10, 3);
        w(&mut p, CONTEXT_BASE, 3);
        p.set_level(10, true);
        w(&mut p, CONTEXT_BASE, 2);
        assert!(lines[0].level());
    }

    #[test]
    fn plic_claim_returns_highest_priority() {
        let (mut p, _) = plic();
        arm(&mut p, 0, 5, 2);
        arm(&mut p, 0, 40, 6);
        arm(&mut p, 0, 7, 4);
        for s in [5, 40, 7] {
            p.set_level(s, true);
        }
        assert_eq!(r(&mut p, CLAIM0), 40);
    }

    #[test]
    fn plic_claim_ties_go_to_lowest_id() {
        let (mut p, _) = plic();
        arm(&mut p, 0, 9, 3);
        arm(&mut p, 0, 4, 3);
        p.set_level(9, true);
        p.set_level(4, true);
        assert_eq!(r(&mut p, CLAIM0), 4);
    }

    #[test]
    fn plic_claim_clears_pending_and_lowers_line() {
        let (mut p, lines) = plic();
        arm(&mut p, 0, 10, 1);
        p.set_level(10, true);
        r(&mut p, CLAIM0);
        assert_eq!((r(&mut p, PENDING_BASE), lines[0].level()), (0, false));
    }

    #[test]
    fn plic_claim_with_nothing_pending_returns_zero() {
        let (mut p, _) = plic();
        assert_eq!(r(&mut p, CLAIM0), 0);
    }

    #[test]
    fn plic_claim_ignores_sources_enabled_for_other_context() {
        let (mut p, _) = plic();
        arm(&mut p, 1, 10, 1);
        p.set_level(10, true);
        assert_eq!((r(&mut p, CLAIM0), r(&mut p, CLAIM1)), (0, 10));
    }

    #[test]
    fn plic_claimed_source_with_high_line_stays_quiet_until_complete() {
        let (mut p, lines) = plic();
        arm(&mut p, 0, 10, 1);
        p.set_level(10, true);
        r(&mut p, CLAIM0);
        p.set_level(10, false);
        p.set_level(10, true);
        assert_eq!((r(&mut p, PENDING_BASE), lines[0].level()), (0, false));
    }

    #[test]
    fn plic_complete_with_line_still_high_repends() {
        let (mut p, lines) = plic();
        arm(&mut p, 0, 10, 1);
        p.set_level(10, true);
        r(&mut p, CLAIM0);
        w(&mut p, CLAIM0, 10);
        assert_eq!((r(&mut p, PENDING_BASE), lines[0].level()), (1 << 10, true));
    }

    #[test]
    fn plic_complete_with_line_low_stays_idle() {
        let (mut p, lines) = plic();
        arm(&mut p, 0, 10, 1);
        p.set_level(10, true);
        r(&mut p, CLAIM0);
        p.set_level(10, false);
        w(&mut p, CLAIM0, 10);
        assert_eq!((r(&mut p, PENDING_BASE), lines[0].level()), (0, false));
    }

    #[test]
    fn plic_complete_of_source_disabled_for_context_is_ignored() {
        let (mut p, _) = plic();
        arm(&mut p, 0, 10, 1);
        p.set_level(10, true);
        r(&mut p, CLAIM0);
        w(&mut p, CLAIM1, 10);
        assert_eq!(p.state().claimed[0], 1 << 10);
    }

    #[test]
    fn plic_line_falling_before_claim_keeps_pending() {
        let (mut p, _) = plic();
        p.set_level(10, true);
        p.set_level(10, false);
        assert_eq!(r(&mut p, PENDING_BASE), 1 << 10);
    }

    #[test]
    fn plic_priority_write_masks_to_three_bits() {
        let (mut p, _) = plic();
        w(&mut p, PRIORITY_BASE + 4, 0xff);
        assert_eq!(r(&mut p, PRIORITY_BASE + 4), MAX_PRIORITY);
    }

    #[test]
    fn plic_source0_priority_and_enable_are_hardwired_zero() {
        let (mut p, _) = plic();
        w(&mut p, PRIORITY_BASE, 7);
        w(&mut p, ENABLE_BASE, u32::MAX);
        assert_eq!((r(&mut p, PRIORITY_BASE), r(&mut p, ENABLE_BASE)), (0, !1));
    }

    #[test]
    fn plic_enable_bits_past_last_source_read_zero() {
        let (mut p, _) = plic();
        w(&mut p, ENABLE_BASE + 8, u32::MAX); // sources 64..=95
        assert_eq!(r(&mut p, ENABLE_BASE + 8), u32::MAX);
        let mut small = Plic::new(40, vec![RecordingIrq::new()]).unwrap();
        w(&mut small, ENABLE_BASE + 4, u32::MAX); // sources 32..=40
        assert_eq!(r(&mut small, ENABLE_BASE + 4), 0x1ff);
    }

    #[test]
    fn plic_pending_write_is_ignored() {
        let (mut p, _) = plic();
        w(&mut p, PENDING_BASE, u32::MAX);
        assert_eq!(r(&mut p, PENDING_BASE), 0);
    }

    #[test]
    fn plic_bad_offsets_and_sizes_read_zero() {
        let (mut p, _) = plic();
        arm(&mut p, 0, 10, 1);
        p.set_level(10, true);
        w(&mut p, CONTEXT_BASE + 4 * CONTEXT_STRIDE, 1); // context 4 does not exist
        w(&mut p, CONTEXT_BASE + 8, 1);
        let reads = [
            p.read(CLAIM0, Size::B1),
            p.read(CLAIM0 + 2, Size::B4),
            p.read(PRIORITY_BASE + 4 * 96, Size::B4),
            p.read(CONTEXT_BASE + 4 * CONTEXT_STRIDE + 4, Size::B4),
            p.read(u64::MAX - 3, Size::B4),
        ];
        assert_eq!((reads, p.state().pending[0]), ([0; 5], 1 << 10));
    }

    #[test]
    fn plic_8byte_read_of_threshold_claims_high_word() {
        let (mut p, _) = plic();
        arm(&mut p, 0, 10, 1);
        p.set_level(10, true);
        assert_eq!(p.read(CONTEXT_BASE, Size::B8), 10 << 32);
    }

    #[test]
    fn plic_reset_repends_high_inputs() {
        let (mut p, _) = plic();
        arm(&mut p, 0, 10, 1);
        p.set_level(10, true);
        r(&mut p, CLAIM0);
        p.reset();
        assert_eq!((p.state().pending[0], p.state().claimed[0], p.state().priority[10]), (1 << 10, 0, 0));
    }

    #[test]
    fn plic_input_drives_shared_plic() {
        let (p, lines) = plic();
        let shared = Arc::new(Mutex::new(p));
        arm(&mut lock(&shared), 0, 10, 1);
        let input = Plic::input(&shared, 10).unwrap();
        input.set_level(true);
        assert!(lines[0].level());
    }

    #[test]
    fn plic_input_for_missing_source_is_an_error() {
        let (p, _) = plic();
        let shared = Arc::new(Mutex::new(p));
        let err = Plic::input(&shared, 96).unwrap_err();
        assert_eq!(err, PlicError::NoSuchSource { id: 96, max: 95 });
    }

    #[test]
    fn plic_set_state_drives_outputs() {
        let (mut p, _) = plic();
        arm(&mut p, 0, 10, 1);
        p.set_level(10, true);
        let saved = p.state().clone();
        let (mut q, lines) = plic();
        q.set_state(saved);
        assert_eq!((lines[0].level(), r(&mut q, CLAIM0)), (true, 10));
    }
}
