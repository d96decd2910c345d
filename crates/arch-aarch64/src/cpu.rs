//! One AArch64 processing element's architectural state and its place in the CPU loop.
//!
//! The flat register file (what `mimic_ir::Reg` indexes):
//!
//! ```text
//!   0..=30   X0..X30
//!   31       SP of the current exception level (SP_EL0 or SP_ELx as PSTATE.SP selects);
//!            the others wait in `sp_el` and are swapped in at exception entry and return
//!   32..=35  PSTATE.N, Z, C, V, each 0 or 1
//!   36..=99  V0..V31: V`n` is 36 + 2n (bits 63:0) and 37 + 2n (bits 127:64)
//! ```
//!
//! FPCR and FPSR are fields (`fpcr`, `fpsr`): FP helpers read the former and OR the cumulative
//! exception flags into the latter at run time.
//!
//! Register number 31 in an instruction means SP or XZR depending on the instruction; XZR never
//! reaches the register file (reads are the constant 0, writes are dropped in `sem.rs`).

use crate::decode::{self, Insn};
use mimic_core::{MemOp, Size};
use mimic_exec::{BlockCache, Direct, Env, Guest};
use mimic_ir::{Exit, Sem};
use mimic_memory::{AddressSpace, PAGE_SIZE};

/// Index of the current SP in the register file.
pub const SP: usize = 31;
/// Indices of the condition flags.
pub const NF: usize = 32;
pub const ZF: usize = 33;
pub const CF: usize = 34;
pub const VF: usize = 35;
/// V0 (bits 63:0); V`n` is `VREG_BASE + 2n` (low half) and `VREG_BASE + 2n + 1` (high half).
pub const VREG_BASE: usize = 36;
pub const NUM_REGS: usize = 100;

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
    /// FP/SIMD instructions are enabled at the current EL (CPACR_EL1.FPEN); clear: they trap.
    pub const FP_EN: u32 = 1 << 2;
}

/// A synchronous exception the last `Exit` recorded, with what its syndrome needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Unallocated or (for this CPU) unimplemented encoding: `raw` is the instruction word.
    Undefined {
        raw: u32,
    },
    /// An instruction fetch reached no RAM or ROM.
    InsnAbort {
        va: u64,
    },
    /// A data access reached nothing (external abort).
    DataAbort {
        va: u64,
        write: bool,
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
    /// An FP/SIMD instruction while CPACR_EL1.FPEN disables them.
    FpAccess,
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
            Fault::FpAccess => 0x07,
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
    /// FPCR: rounding mode (RMode, 23:22), FZ (24), DN (25), AHP (26).
    pub fpcr: u64,
    /// FPSR: cumulative flags IOC, DZC, OFC, UFC, IXC (bits 0..4), IDC (7), QC (27).
    pub fpsr: u64,
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
            fpcr: 0,
            fpsr: 0,
        };
        cpu.reset(0);
        cpu
    }

    /// Reset to EL1 at `pc` (the level the arm64 boot protocol enters a kernel at, with the MMU
    /// off); registers zero.
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
        self.fpcr = 0;
        self.fpsr = 0;
    }

    /// V`n` as a 128-bit value.
    pub fn v(&self, n: usize) -> u128 {
        u128::from(self.regs[VREG_BASE + 2 * n]) | u128::from(self.regs[VREG_BASE + 2 * n + 1]) << 64
    }

    pub fn set_v(&mut self, n: usize, v: u128) {
        self.regs[VREG_BASE + 2 * n] = v as u64;
        self.regs[VREG_BASE + 2 * n + 1] = (v >> 64) as u64;
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

    /// Stores to a page that decoded blocks came from drop those blocks (self-modifying code).
    fn notice_code_write(&mut self, bus: &mut AddressSpace, vaddr: u64) {
        let Some(l) = bus.lookup_ram(vaddr) else { return };
        if bus.is_code_page(l.offset) {
            let page = l.offset / PAGE_SIZE as usize;
            self.cache.invalidate_page(page);
            bus.clear_code_page(page * PAGE_SIZE as usize);
            bus.note_code_write(page);
        }
    }

    // Data accesses go straight to physical addresses until the MMU exists. Misaligned accesses
    // are performed byte by byte (as normal memory allows with SCTLR_ELx.A clear); the alignment
    // faults of Device memory arrive with the MMU's memory attributes.

    pub fn load_data(&mut self, bus: &mut AddressSpace, vaddr: u64, op: MemOp) -> Result<u64, Exit> {
        let n = op.size.bytes();
        let raw = if vaddr & (n - 1) == 0 {
            bus.read(vaddr, op.size).or_else(|_| self.exception(Fault::DataAbort { va: vaddr, write: false }))?
        } else {
            let mut raw = 0u64;
            for i in 0..n {
                let a = vaddr.wrapping_add(i);
                let b = bus.read(a, Size::B1).or_else(|_| self.exception(Fault::DataAbort { va: a, write: false }))?;
                raw |= b << (8 * i);
            }
            raw
        };
        Ok(op.extend(raw))
    }

    pub fn store_data(&mut self, bus: &mut AddressSpace, vaddr: u64, val: u64, op: MemOp) -> Result<(), Exit> {
        let n = op.size.bytes();
        if vaddr & (n - 1) == 0 {
            bus.write(vaddr, op.size, val).or_else(|_| self.exception(Fault::DataAbort { va: vaddr, write: true }))?;
            self.notice_code_write(bus, vaddr);
            return Ok(());
        }
        // Every byte is checked before any is written, so a fault leaves memory unchanged.
        for i in 0..n {
            let a = vaddr.wrapping_add(i);
            if !bus.regions().iter().any(|r| r.range.contains(a)) {
                return self.exception(Fault::DataAbort { va: a, write: true });
            }
        }
        for i in 0..n {
            let a = vaddr.wrapping_add(i);
            bus.write(a, Size::B1, val >> (8 * i))
                .or_else(|_| self.exception(Fault::DataAbort { va: a, write: true }))?;
            self.notice_code_write(bus, a);
        }
        Ok(())
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
        // FP_EN always set until CPACR_EL1 exists: the CPACR_EL1.FPEN check replaces it.
        u32::from(self.el) & flags::EL_MASK | flags::FP_EN
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
    fn translate_fetch(&mut self, bus: &mut AddressSpace, vaddr: u64) -> Result<usize, Exit> {
        if vaddr & 3 != 0 {
            return self.exception(Fault::PcAlignment { va: vaddr });
        }
        match bus.lookup_ram(vaddr) {
            Some(l) => Ok(l.offset),
            None => self.exception(Fault::InsnAbort { va: vaddr }),
        }
    }
    fn watch_code_page(&mut self, bus: &mut AddressSpace, page_offset: usize) {
        bus.set_code_page(page_offset);
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
    fn halted(&self) -> bool {
        self.halted
    }
}
