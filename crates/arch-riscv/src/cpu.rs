//! One RISC-V hart's architectural state and its place in the CPU loop.

use crate::csr::Csrs;
use crate::decode::{self, Insn};
use crate::trap::Cause;
use mimic_core::{MemOp, SharedBits};
use mimic_exec::{BlockCache, Direct, Env, Guest};
use mimic_ir::{Exit, Sem};
use mimic_memory::AddressSpace;
use mimic_softmmu::{Tlb, TlbEntry, TLB_ENTRIES};
use std::sync::Arc;

/// Privilege levels, numbered as in `mstatus.MPP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priv {
    U = 0,
    S = 1,
    M = 3,
}

impl Priv {
    pub fn from_bits(b: u64) -> Priv {
        match b & 3 {
            0 => Priv::U,
            1 => Priv::S,
            // 2 is reserved; MPP is WARL and never holds it.
            _ => Priv::M,
        }
    }
}

/// MMU indices: one TLB per translation regime.
pub const MMU_U: usize = 0;
pub const MMU_S: usize = 1;
/// S-mode with `mstatus.SUM` set: may also read and write user pages.
pub const MMU_S_SUM: usize = 2;
/// M-mode: no translation.
pub const MMU_M: usize = 3;
pub const NUM_MMU: usize = 4;

/// Index of `f0` in the flat register file (`x0..x31` come first).
pub const FREG_BASE: usize = 32;
pub const NUM_REGS: usize = 64;

/// A decoded instruction as the block cache keeps it: [`decode::Packed`] (the word and its
/// pattern number, eight bytes rather than the size of an `Option<Insn>`, which keeps the block
/// cache small) and its length. The raw bits also give `mtval` on illegal instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RvInsn {
    pub insn: decode::Packed,
    pub len: u8,
}

impl RvInsn {
    /// Decode `raw`, a compressed instruction if `len` is 2.
    pub fn decode(raw: u32, len: u8) -> Self {
        let insn = if len == 2 { decode::Packed::from16(raw as u16) } else { decode::Packed::from32(raw) };
        RvInsn { insn, len }
    }

    /// The instruction; `None` for an illegal word.
    pub fn op(&self) -> Option<Insn> {
        self.insn.op()
    }
}

/// Block-flag bits: state the translation of a block depends on.
pub mod flags {
    pub const PRIV_MASK: u32 = 3;
    /// `mstatus.FS` is not Off: FP instructions are legal.
    pub const FS_ON: u32 = 1 << 2;
    /// `mstatus.FS` is Dirty already: FP writes need not mark it.
    pub const FS_DIRTY: u32 = 1 << 3;
}

/// A source of the `time` CSR value (the machine's `mtime`).
pub type TimeSource = Arc<dyn Fn() -> u64 + Send + Sync>;

pub struct RiscvCpu {
    /// `x0..x31` then `f0..f31` (FP values NaN-boxed in 64 bits).
    pub regs: [u64; NUM_REGS],
    pub pc: u64,
    pub prv: Priv,
    pub csr: Csrs,
    pub hartid: u64,
    pub tlb: Tlb<NUM_MMU>,
    pub cache: BlockCache<RvInsn>,
    /// MMU index for data accesses (privilege after `mstatus.MPRV`, and `SUM`).
    pub data_mmu: usize,
    /// The exception recorded by the last `Exit`.
    pub pending: Option<(Cause, u64)>,
    /// Physical address reserved by LR, if any.
    pub reservation: Option<u64>,
    pub halted: bool,
    /// Interrupt-pending bits driven by devices (MSIP, MTIP, MEIP, SEIP), ORed into `mip`.
    pub irq_lines: SharedBits,
    pub time: TimeSource,
    /// Sstc: `time >= stimecmp`, sampled by [`RiscvCpu::update_timer`].
    pub timer_stip: bool,
    /// Instructions retired since reset; the base of `mcycle` and `minstret`.
    pub instret: u64,
    pub counters: crate::csr::Counters,
    /// Debugger data watchpoints, and the last one an access hit (address, was a write).
    pub watchpoints: Vec<crate::mmu::Watchpoint>,
    pub watch_hit: Option<(u64, bool)>,
}

impl RiscvCpu {
    pub fn new(hartid: u64, irq_lines: SharedBits, time: TimeSource) -> Self {
        let mut cpu = RiscvCpu {
            regs: [0; NUM_REGS],
            pc: 0,
            prv: Priv::M,
            csr: Csrs::default(),
            hartid,
            tlb: Tlb::new(),
            cache: BlockCache::new(),
            data_mmu: MMU_M,
            pending: None,
            reservation: None,
            halted: false,
            irq_lines,
            time,
            timer_stip: false,
            instret: 0,
            counters: Default::default(),
            watchpoints: Vec::new(),
            watch_hit: None,
        };
        cpu.reset(0);
        cpu
    }

    /// Architectural reset: M-mode at `pc`, interrupts off, translation off.
    pub fn reset(&mut self, pc: u64) {
        self.regs = [0; NUM_REGS];
        self.pc = pc;
        self.prv = Priv::M;
        self.csr = Csrs::default();
        self.tlb.flush_all();
        self.cache.clear();
        self.pending = None;
        self.reservation = None;
        self.halted = false;
        self.instret = 0;
        self.counters = Default::default();
        self.timer_stip = false;
        self.update_mmu_state();
    }

    #[inline(always)]
    pub fn x(&self, r: usize) -> u64 {
        self.regs[r & 31]
    }
    #[inline(always)]
    pub fn set_x(&mut self, r: usize, v: u64) {
        if r & 31 != 0 {
            self.regs[r & 31] = v;
        }
    }
    #[inline(always)]
    pub fn f(&self, r: usize) -> u64 {
        self.regs[FREG_BASE + (r & 31)]
    }
    #[inline(always)]
    pub fn set_f(&mut self, r: usize, v: u64) {
        self.regs[FREG_BASE + (r & 31)] = v;
    }

    /// Record an exception for the loop to deliver; always returns `Err(Exit)`.
    #[inline]
    pub fn exception<T>(&mut self, cause: Cause, tval: u64) -> Result<T, Exit> {
        self.pending = Some((cause, tval));
        Err(Exit)
    }

    /// Recompute the data MMU index after a change of privilege or `mstatus`.
    pub fn update_mmu_state(&mut self) {
        use crate::csr::mstatus as ms;
        let st = self.csr.mstatus;
        let eff =
            if self.prv == Priv::M && st & ms::MPRV != 0 { Priv::from_bits(st >> ms::MPP_SHIFT) } else { self.prv };
        self.data_mmu = self.mmu_index(eff);
    }

    pub fn mmu_index(&self, p: Priv) -> usize {
        match p {
            Priv::M => MMU_M,
            Priv::S if self.csr.mstatus & crate::csr::mstatus::SUM != 0 => MMU_S_SUM,
            Priv::S => MMU_S,
            Priv::U => MMU_U,
        }
    }

    /// The privilege an MMU index stands for.
    pub fn mmu_priv(idx: usize) -> Priv {
        match idx {
            MMU_U => Priv::U,
            MMU_S | MMU_S_SUM => Priv::S,
            _ => Priv::M,
        }
    }

    pub fn fetch_mmu(&self) -> usize {
        match self.prv {
            Priv::M => MMU_M,
            Priv::S => MMU_S,
            Priv::U => MMU_U,
        }
    }
}

impl Guest for RiscvCpu {
    type Insn = RvInsn;

    #[inline(always)]
    fn regs(&mut self) -> &mut [u64] {
        &mut self.regs
    }
    #[inline(always)]
    fn pc(&self) -> u64 {
        self.pc
    }
    #[inline(always)]
    fn set_pc(&mut self, pc: u64) {
        self.pc = pc;
    }
    #[inline]
    fn block_flags(&self) -> u32 {
        use crate::csr::mstatus as ms;
        let fs = (self.csr.mstatus >> ms::FS_SHIFT) & 3;
        let mut f = self.prv as u32;
        if fs != 0 {
            f |= flags::FS_ON;
        }
        if fs == 3 {
            f |= flags::FS_DIRTY;
        }
        f
    }
    #[inline(always)]
    fn cache(&mut self) -> &mut BlockCache<RvInsn> {
        &mut self.cache
    }
    #[inline(always)]
    fn load(&mut self, bus: &mut AddressSpace, vaddr: u64, op: MemOp) -> Result<u64, Exit> {
        self.load_data(bus, vaddr, op)
    }
    #[inline(always)]
    fn store(&mut self, bus: &mut AddressSpace, vaddr: u64, val: u64, op: MemOp) -> Result<(), Exit> {
        self.store_data(bus, vaddr, val, op)
    }
    #[inline]
    fn translate_fetch(&mut self, bus: &mut AddressSpace, vaddr: u64) -> Result<usize, Exit> {
        self.fetch_offset(bus, vaddr)
    }
    fn watch_code_page(&mut self, bus: &mut AddressSpace, page_offset: usize) {
        if !bus.is_code_page(page_offset) {
            bus.set_code_page(page_offset);
            self.tlb.set_code_flag(page_offset);
        }
    }
    #[inline]
    fn insn_len(lo: u16) -> u8 {
        if lo & 3 == 3 {
            4
        } else {
            2
        }
    }
    fn decode(word: u32, len: u8, _flags: u32) -> RvInsn {
        RvInsn::decode(word, len)
    }
    fn ends_block(insn: &RvInsn) -> bool {
        crate::sem::ends_block(insn)
    }
    #[inline(always)]
    fn execute(insn: &RvInsn, flags: u32, s: &mut Direct<'_, Self>) -> Result<(), Exit> {
        crate::sem::execute(insn, flags, s)
    }
    fn translate<'a, S: Sem<Env = Env<'a, Self>>>(insn: &RvInsn, flags: u32, s: &mut S) -> Result<(), Exit> {
        crate::sem::translate(insn, flags, s)
    }
    fn disasm(insn: &RvInsn) -> String {
        match &insn.op() {
            Some(i) => decode::disasm(i),
            None => format!(".insn {:#x} (illegal)", insn.insn.raw()),
        }
    }
    fn raise(&mut self, pc: u64) {
        let (cause, tval) = self.pending.take().unwrap_or((Cause::IllegalInstruction, 0));
        self.take_trap(cause as u64, false, tval, pc);
    }
    #[inline(always)]
    fn check_interrupts(&mut self) {
        self.poll_interrupts();
    }
    #[inline(always)]
    fn retire(&mut self) {
        self.instret = self.instret.wrapping_add(1);
    }
    #[inline(always)]
    fn retire_n(&mut self, n: u64) {
        self.instret = self.instret.wrapping_add(n);
    }
    #[inline(always)]
    fn data_tlb(&self) -> Option<&[TlbEntry; TLB_ENTRIES]> {
        Some(self.tlb.table(self.data_mmu))
    }
    /// Fetch translations change only through TLB flushes (sfence.vma, satp, mstatus and PMP
    /// writes). Block flags change within a chaining run only from FS clean to dirty (FP helpers
    /// are `call_local`), and code translated for a clean FS is right for a dirty one.
    const FETCH_EPOCH: bool = true;
    #[inline(always)]
    fn code_epoch(&self) -> u64 {
        self.tlb.epoch()
    }
    #[inline(always)]
    fn halted(&self) -> bool {
        self.halted
    }
    fn watch_hit_pending(&mut self) -> bool {
        self.watch_hit.is_some()
    }
}
