//! One AArch64 processing element's architectural state and its place in the CPU loop.
//!
//! The flat register file (what `mimic_ir::Reg` indexes):
//!
//! ```text
//!   0..=30   X0..X30
//!   31       SP of the current exception level (SP_EL0 or SP_ELx as PSTATE.SP selects);
//!            the others wait in `sp_el` and are swapped in at exception entry and return
//!   32..=35  PSTATE.N, Z, C, V, each 0 or 1
//! ```
//!
//! Register number 31 in an instruction means SP or XZR depending on the instruction; XZR never
//! reaches the register file (reads are the constant 0, writes are dropped in `sem.rs`).

use crate::decode::{self, Insn};
use crate::mmu::{MmuState, NUM_MMU};
use crate::mmu_regs::MmuRegs;
use mimic_core::MemOp;
use mimic_exec::{BlockCache, Direct, Env, Guest};
use mimic_ir::{Exit, Sem};
use mimic_memory::AddressSpace;
use mimic_softmmu::{Tlb, TlbEntry, TLB_ENTRIES};

/// Index of the current SP in the register file.
pub const SP: usize = 31;
/// Indices of the condition flags.
pub const NF: usize = 32;
pub const ZF: usize = 33;
pub const CF: usize = 34;
pub const VF: usize = 35;
pub const NUM_REGS: usize = 36;

/// A decoded instruction as the block cache keeps it: the raw bits stay for the syndrome of an
/// undefined instruction and for disassembly of unallocated words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct A64Insn {
    pub op: Option<Insn>,
    pub raw: u32,
}

/// Block-flag bits: state the translation of a block depends on.
pub mod flags {
    /// PSTATE.EL.
    pub const EL_MASK: u32 = 3;
}

/// A synchronous exception the last `Exit` recorded, with what its syndrome needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Unallocated or (for this CPU) unimplemented encoding: `raw` is the instruction word.
    Undefined {
        raw: u32,
    },
    /// Instruction fetch fault; `fsc` is the IFSC ([`crate::mmu::fsc`]: 0x04+level translation,
    /// 0x08+level access flag, 0x0c+level permission, 0x00+level address size, 0x10 external
    /// abort: no memory there, 0x14+level external abort on the table walk).
    InsnAbort {
        va: u64,
        fsc: u8,
    },
    /// Data access fault; `fsc` is the DFSC, as for [`Fault::InsnAbort`], or 0x21 alignment.
    DataAbort {
        va: u64,
        write: bool,
        fsc: u8,
    },
    /// A branch left the pc not a multiple of 4.
    PcAlignment {
        va: u64,
    },
    /// An access that must be aligned (exclusives) was not.
    Alignment {
        va: u64,
        write: bool,
    },
    /// SVC, HVC, SMC and BRK with their immediates. Whether HVC/SMC are UNDEFINED (no EL2/EL3)
    /// or answered by the board (PSCI) is decided where they are taken.
    Svc {
        imm: u16,
    },
    Hvc {
        imm: u16,
    },
    Smc {
        imm: u16,
    },
    Breakpoint {
        imm: u16,
    },
}

impl Fault {
    /// The exception class (ESR_ELx.EC) the architecture reports it with, taken from the
    /// current exception level (the "same EL" classes, as there is only one EL so far).
    pub fn ec(self) -> u32 {
        match self {
            Fault::Undefined { .. } => 0x00,
            Fault::InsnAbort { .. } => 0x21,
            Fault::PcAlignment { .. } => 0x22,
            Fault::DataAbort { .. } | Fault::Alignment { .. } => 0x25,
            Fault::Svc { .. } => 0x15,
            Fault::Hvc { .. } => 0x16,
            Fault::Smc { .. } => 0x17,
            Fault::Breakpoint { .. } => 0x3c,
        }
    }

    /// The preferred return address (what ELR_ELx gets) for this exception raised by the
    /// instruction at `pc`: the next instruction for the calls, the instruction itself otherwise.
    pub fn return_address(self, pc: u64) -> u64 {
        match self {
            Fault::Svc { .. } | Fault::Hvc { .. } | Fault::Smc { .. } => pc.wrapping_add(4),
            _ => pc,
        }
    }
}

/// The local exclusive monitor in its Exclusive Access state: what LDXR/LDXP read. STXR succeeds
/// only while memory still holds `data` there (as QEMU does), which also catches a store by
/// another CPU in between that changed the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Monitor {
    pub addr: u64,
    /// Bytes covered: 1, 2, 4, 8, or 16 for an X pair.
    pub size: u64,
    pub data: [u64; 2],
}

pub struct Aarch64Cpu {
    pub regs: [u64; NUM_REGS],
    pub pc: u64,
    /// PSTATE.EL.
    pub el: u8,
    /// The stack pointers not in use (index = EL; the one in use lives in `regs[SP]`).
    pub sp_el: [u64; 4],
    pub cache: BlockCache<A64Insn>,
    /// The exception recorded by the last `Exit`.
    pub pending: Option<Fault>,
    /// The last exception taken and the pc of the instruction that raised it. Until exception
    /// entry (vectors, ESR/ELR/FAR) exists, taking one stops the CPU here.
    pub taken: Option<(Fault, u64)>,
    pub halted: bool,
    pub monitor: Option<Monitor>,
    /// Instructions retired since reset.
    pub instret: u64,
    /// PSTATE.PAN.
    pub pan: bool,
    pub mmu_regs: MmuRegs,
    /// The softmmu TLB, one table per MMU index ([`crate::mmu::MMU_EL0`] ...).
    pub tlb: Tlb<NUM_MMU>,
    /// MMU index of data accesses and of instruction fetch now (see [`Aarch64Cpu::mmu_changed`]).
    pub data_mmu: usize,
    pub fetch_mmu: usize,
    pub mmu: MmuState,
}

impl Aarch64Cpu {
    pub fn new() -> Self {
        let mut cpu = Aarch64Cpu {
            regs: [0; NUM_REGS],
            pc: 0,
            el: 1,
            sp_el: [0; 4],
            cache: BlockCache::new(),
            pending: None,
            taken: None,
            halted: false,
            monitor: None,
            instret: 0,
            pan: false,
            mmu_regs: MmuRegs::default(),
            tlb: Tlb::new(),
            data_mmu: crate::mmu::MMU_EL1,
            fetch_mmu: crate::mmu::MMU_EL1,
            mmu: MmuState::default(),
        };
        cpu.reset(0);
        cpu
    }

    /// Reset to EL1 at `pc` (the level the arm64 boot protocol enters a kernel at, with the MMU
    /// off); registers zero, MMU registers zero, the TLB empty.
    pub fn reset(&mut self, pc: u64) {
        self.regs = [0; NUM_REGS];
        self.pc = pc;
        self.el = 1;
        self.sp_el = [0; 4];
        self.cache.clear();
        self.pending = None;
        self.taken = None;
        self.halted = false;
        self.monitor = None;
        self.instret = 0;
        self.pan = false;
        self.mmu_regs = MmuRegs::default();
        self.tlb_flush_all();
        self.mmu_changed();
    }

    /// X`r` as an instruction reading XZR sees it.
    pub fn x(&self, r: usize) -> u64 {
        if r == 31 {
            0
        } else {
            self.regs[r]
        }
    }

    /// PSTATE.{N,Z,C,V} as the 4-bit value NZCV holds in bits 31:28.
    pub fn nzcv(&self) -> u32 {
        (self.regs[NF] as u32) << 3 | (self.regs[ZF] as u32) << 2 | (self.regs[CF] as u32) << 1 | self.regs[VF] as u32
    }

    pub fn set_nzcv(&mut self, nzcv: u32) {
        self.regs[NF] = u64::from(nzcv >> 3 & 1);
        self.regs[ZF] = u64::from(nzcv >> 2 & 1);
        self.regs[CF] = u64::from(nzcv >> 1 & 1);
        self.regs[VF] = u64::from(nzcv & 1);
    }

    /// Record an exception for the loop to deliver; always returns `Err(Exit)`.
    #[inline]
    pub fn exception<T>(&mut self, f: Fault) -> Result<T, Exit> {
        self.pending = Some(f);
        Err(Exit)
    }
}

impl Guest for Aarch64Cpu {
    type Insn = A64Insn;

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
        u32::from(self.el) & flags::EL_MASK
    }
    #[inline(always)]
    fn cache(&mut self) -> &mut BlockCache<A64Insn> {
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
        self.watch_code(bus, page_offset);
    }
    #[inline]
    fn insn_len(_lo: u16) -> u8 {
        4
    }
    fn decode(word: u32, _len: u8, _flags: u32) -> A64Insn {
        A64Insn { op: decode::decode32(word), raw: word }
    }
    fn ends_block(insn: &A64Insn) -> bool {
        crate::sem::ends_block(insn)
    }
    #[inline(always)]
    fn execute(insn: &A64Insn, flags: u32, s: &mut Direct<'_, Self>) -> Result<(), Exit> {
        crate::sem::translate(insn, flags, s)
    }
    fn translate<'a, S: Sem<Env = Env<'a, Self>>>(insn: &A64Insn, flags: u32, s: &mut S) -> Result<(), Exit> {
        crate::sem::translate(insn, flags, s)
    }
    fn disasm(insn: &A64Insn) -> String {
        match &insn.op {
            Some(i) => decode::disasm(i),
            None => format!(".inst {:#010x} (undefined)", insn.raw),
        }
    }
    fn raise(&mut self, pc: u64) {
        let f = self.pending.take().unwrap_or(Fault::Undefined { raw: 0 });
        tracing::debug!(target: "a64", "exception {f:?} (EC {:#x}) at {pc:#x}; no vectors yet, stopping", f.ec());
        self.taken = Some((f, pc));
        self.pc = pc;
        self.halted = true;
    }
    fn check_interrupts(&mut self) {}
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
    #[inline(always)]
    fn halted(&self) -> bool {
        self.halted
    }
}
