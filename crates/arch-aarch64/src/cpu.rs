//! One AArch64 processing element's architectural state and its place in the CPU loop.
//!
//! The flat register file (what `mimic_ir::Reg` indexes):
//!
//! ```text
//!   0..=30   X0..X30
//!   31       SP of the current exception level (SP_EL0 or SP_ELx as PSTATE.SP selects);
//!            the others wait (SP_EL0 in register 103, SP_EL1..3 in `sp_el`) and are swapped
//!            in at exception entry and return
//!   32..=35  PSTATE.N, Z, C, V in the form flag-setting instructions produce them cheaply
//!            (as QEMU keeps them): N is bit 63 of register 32 (the result, sign-extended from
//!            a W form), Z is set when register 33 is zero (the result), C is register 34 (0
//!            or 1), V is bit 63 of register 35; `nzcv` and `set_nzcv` convert
//!   36..=99  V0..V31: V`n` is 36 + 2n (bits 63:0) and 37 + 2n (bits 127:64)
//!   100      PSTATE.BTYPE (FEAT_BTI), 0..=3: set by indirect branches, checked and cleared by
//!            the next instruction (see `sem::translate`)
//!   101      TPIDR_EL0, 102 TPIDR_EL1: the thread pointers user code (TLS, errno) and the
//!            kernel (per-CPU offsets) read all the time, here so that MRS/MSR of them
//!            compile to register moves (`sysreg::in_register_file`)
//!   103      SP_EL0 while it is not the current SP: Linux keeps `current` (the running task)
//!            there, and MRS/MSR of it at EL1 with PSTATE.SP = 1 compile to register moves
//! ```
//!
//! FPCR and FPSR are fields (`fpcr`, `fpsr`): FP helpers read the former and OR the cumulative
//! exception flags into the latter at run time.
//!
//! Register number 31 in an instruction means SP or XZR depending on the instruction; XZR never
//! reaches the register file (reads are the constant 0, writes are dropped in `sem.rs`).
//!
//! The rest of PSTATE (EL, SP, DAIF, PAN, IL) lives in plain fields; the system registers in
//! [`crate::sysreg::SysRegs`], [`crate::mmu_regs::MmuRegs`] and the FP control fields.

use crate::decode::{self, Insn};
use crate::mmu::{MmuState, NUM_MMU};
use crate::mmu_regs::MmuRegs;
use crate::sysreg::SysRegs;
use mimic_core::{IrqLine, MemOp, NullIrq, SharedBits, SharedGicCpuInterface};
use mimic_exec::{BlockCache, Direct, Env, Guest};
use mimic_ir::{Exit, Sem};
use mimic_memory::AddressSpace;
use mimic_softmmu::{Tlb, TlbEntry, TLB_ENTRIES};
use std::sync::Arc;

/// Index of the current SP in the register file.
pub const SP: usize = 31;
/// Indices of the condition flags.
pub const NF: usize = 32;
pub const ZF: usize = 33;
pub const CF: usize = 34;
pub const VF: usize = 35;
/// V0 (bits 63:0); V`n` is `VREG_BASE + 2n` (low half) and `VREG_BASE + 2n + 1` (high half).
pub const VREG_BASE: usize = 36;
/// PSTATE.BTYPE.
pub const BTYPE: usize = 100;
pub const TPIDR_EL0: usize = 101;
pub const TPIDR_EL1: usize = 102;
/// SP_EL0 while it is not the current SP (see the module's table).
pub const SP_EL0: usize = 103;
pub const NUM_REGS: usize = 104;

/// The values of the flag registers (NF, ZF, CF, VF) for the 4-bit NZCV value `nzcv`.
pub fn flag_regs(nzcv: u32) -> [u64; 4] {
    let bit = |i: u32| u64::from(nzcv >> i & 1);
    [bit(3) << 63, bit(2) ^ 1, bit(1), bit(0) << 63]
}

/// A decoded instruction as the block cache keeps it: [`decode::Packed`] (the word and its
/// pattern number, eight bytes rather than the 56 of an `Option<Insn>`, which keeps the block
/// cache small: the arm64 Debian boot's resident memory at its READY marker 143 MB -> 125 MB,
/// interpreted boots no slower within this machine's noise) and the BTYPE its block was
/// entered with. The raw bits also give the syndrome of an undefined instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct A64Insn {
    pub insn: decode::Packed,
    /// PSTATE.BTYPE its block was entered with. Nonzero only for the first (and only)
    /// instruction of a block that an indirect branch reached: it checks the branch target
    /// (FEAT_BTI) before it runs.
    pub btype: u8,
}

impl A64Insn {
    /// Decode `raw`, outside any block's BTYPE context.
    pub fn decode(raw: u32) -> Self {
        Self::decode_with_btype(raw, 0)
    }

    /// Decode `raw` as the first instruction of a block entered with PSTATE.BTYPE `btype`.
    pub fn decode_with_btype(raw: u32, btype: u8) -> Self {
        A64Insn { insn: decode::Packed::from32(raw), btype }
    }

    /// The instruction; `None` for an unallocated word.
    pub fn op(&self) -> Option<Insn> {
        self.insn.op()
    }

    /// The word.
    pub fn raw(&self) -> u32 {
        self.insn.raw()
    }
}

/// Block-flag bits: state the translation of a block depends on.
pub mod flags {
    /// PSTATE.EL.
    pub const EL_MASK: u32 = 3;
    /// CPACR_EL1.FPEN lets the current EL use FP/SIMD.
    pub const FP_EN: u32 = 1 << 2;
    /// PSTATE.IL: an illegal exception return happened; the next instruction raises the
    /// Illegal Execution state exception instead of executing.
    pub const IL: u32 = 1 << 3;
    /// FEAT_PAuth is implemented (`Features::pauth`): its instructions are not UNDEFINED and
    /// its hints are not NOPs.
    pub const PAUTH: u32 = 1 << 4;
    /// FEAT_BTI is implemented: indirect branches set PSTATE.BTYPE.
    pub const BTI: u32 = 1 << 5;
    /// PSTATE.BTYPE at block entry (bits 7:6).
    pub const BTYPE_SHIFT: u32 = 6;
    pub const BTYPE_MASK: u32 = 3 << BTYPE_SHIFT;
    /// PSTATE.SP: at EL1 and above SP_EL0 is then not the current SP and may be read and
    /// written as a system register, which is register [`super::SP_EL0`].
    pub const SPSEL: u32 = 1 << 8;
}

/// The interrupt inputs in [`CpuConfig::irq_lines`] (driven by the GIC's CPU interface).
pub mod irq {
    pub const IRQ: u64 = 1 << 0;
    pub const FIQ: u64 = 1 << 1;
    /// The virtual IRQ and FIQ a GICv2's virtual CPU interface (GICV) raises: taken at EL1/EL0
    /// while HCR_EL2.IMO/FMO route the physical ones to EL2, as HCR_EL2.VI/VF.
    pub const VIRQ: u64 = 1 << 2;
    pub const VFIQ: u64 = 1 << 3;
}

/// PSTATE.{D,A,I,F} in the bit positions of the DAIF register and of SPSR.
pub mod daif {
    pub const D: u64 = 1 << 9;
    pub const A: u64 = 1 << 8;
    pub const I: u64 = 1 << 7;
    pub const F: u64 = 1 << 6;
    pub const ALL: u64 = D | A | I | F;
}

/// A synchronous exception the last `Exit` recorded, with what its syndrome needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Unallocated or (for this CPU) unimplemented encoding, or an access the current EL may not
    /// make: `raw` is the instruction word. EC 0x00.
    Undefined {
        raw: u32,
    },
    /// WFI (or WFE) at EL0 with SCTLR_EL1.nTWI (nTWE) clear. EC 0x01.
    WfxTrap {
        wfe: bool,
    },
    /// FP/SIMD use (including FPCR/FPSR access) that CPACR_EL1.FPEN traps. EC 0x07.
    FpAccess,
    /// An instruction executed with PSTATE.IL set (after an illegal exception return). EC 0x0e.
    IllegalState,
    /// SVC, HVC, SMC and BRK with their immediates. HVC and SMC are never raised as such while
    /// EL2/EL3 do not exist: they are answered by the board ([`Conduit`]) or UNDEFINED.
    Svc {
        imm: u16,
    },
    Hvc {
        imm: u16,
    },
    Smc {
        imm: u16,
    },
    /// MSR, MRS or a system instruction trapped by an EL1 control (SCTLR_EL1.UCT/UCI/DZE/UMA,
    /// CNTKCTL_EL1): `iss` is the ESR ISS (Op0, Op2, Op1, CRn, Rt, CRm, direction). EC 0x18.
    SysTrap {
        iss: u32,
    },
    /// Instruction fetch fault; `fsc` is the IFSC (0x10 external abort: no memory there,
    /// 0x04+level translation, 0x08+level access flag, 0x0c+level permission). EC 0x20/0x21.
    InsnAbort {
        va: u64,
        fsc: u8,
    },
    /// A branch left the pc not a multiple of 4. EC 0x22.
    PcAlignment {
        va: u64,
    },
    /// Data access fault; `fsc` is the DFSC, as for [`Fault::InsnAbort`]. EC 0x24/0x25.
    DataAbort {
        va: u64,
        write: bool,
        fsc: u8,
    },
    /// An access that must be aligned (exclusives, LSE atomics) was not: a data abort with DFSC
    /// 0x21.
    Alignment {
        va: u64,
        write: bool,
    },
    Breakpoint {
        imm: u16,
    },
    /// The first instruction after an indirect branch (PSTATE.BTYPE `btype`) in a guarded page
    /// is not a landing pad that BTYPE allows (FEAT_BTI). EC 0x0d.
    BranchTarget {
        btype: u8,
    },
}

/// DFSC/IFSC values.
pub mod fsc {
    /// Synchronous external abort (nothing at that address).
    pub const EXTERNAL: u8 = 0x10;
    pub const ALIGNMENT: u8 = 0x21;
}

impl Fault {
    /// The exception class (ESR_EL1.EC) the architecture reports it with; `from_lower` says
    /// the exception came from EL0 (the "lower EL" classes of aborts).
    pub fn ec(self, from_lower: bool) -> u32 {
        match self {
            Fault::Undefined { .. } => 0x00,
            Fault::WfxTrap { .. } => 0x01,
            Fault::FpAccess => 0x07,
            Fault::IllegalState => 0x0e,
            Fault::BranchTarget { .. } => 0x0d,
            Fault::Svc { .. } => 0x15,
            Fault::Hvc { .. } => 0x16,
            Fault::Smc { .. } => 0x17,
            Fault::SysTrap { .. } => 0x18,
            Fault::InsnAbort { .. } => {
                if from_lower {
                    0x20
                } else {
                    0x21
                }
            }
            Fault::PcAlignment { .. } => 0x22,
            Fault::DataAbort { .. } | Fault::Alignment { .. } => {
                if from_lower {
                    0x24
                } else {
                    0x25
                }
            }
            Fault::Breakpoint { .. } => 0x3c,
        }
    }

    /// ESR_EL1.ISS.
    pub fn iss(self) -> u32 {
        // CV = 1, COND = 0b1110: how a trapped AArch64 (unconditional) instruction reports.
        const CV_AL: u32 = 1 << 24 | 0xe << 20;
        match self {
            Fault::Undefined { .. } | Fault::IllegalState | Fault::PcAlignment { .. } => 0,
            Fault::WfxTrap { wfe } => CV_AL | u32::from(wfe),
            Fault::FpAccess => CV_AL,
            Fault::Svc { imm } | Fault::Hvc { imm } | Fault::Smc { imm } | Fault::Breakpoint { imm } => u32::from(imm),
            Fault::SysTrap { iss } => iss,
            Fault::InsnAbort { fsc, .. } => u32::from(fsc & 0x3f),
            Fault::DataAbort { write, fsc, .. } => u32::from(write) << 6 | u32::from(fsc & 0x3f),
            Fault::Alignment { write, .. } => u32::from(write) << 6 | u32::from(fsc::ALIGNMENT),
            Fault::BranchTarget { btype } => u32::from(btype & 3),
        }
    }

    /// ESR_EL1 as the exception writes it (IL = 1: every A64 instruction is 32 bits, and the
    /// aborts and EC 0 report IL = 1 too).
    pub fn esr(self, from_lower: bool) -> u64 {
        u64::from(self.ec(from_lower)) << 26 | 1 << 25 | u64::from(self.iss())
    }

    /// The faulting virtual address FAR_EL1 gets, for the exceptions that set it.
    pub fn far(self) -> Option<u64> {
        match self {
            Fault::InsnAbort { va, .. }
            | Fault::PcAlignment { va }
            | Fault::DataAbort { va, .. }
            | Fault::Alignment { va, .. } => Some(va),
            _ => None,
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

/// A source of the system counter (CNTPCT_EL0): ticks of the 62.5 MHz generic timer clock.
pub type TimeSource = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The generic timer frequency CNTFRQ_EL0 reports (QEMU's `virt` default).
pub const CNTFRQ_HZ: u64 = 62_500_000;

/// Which CPU the ID registers describe: MIDR_EL1 (see [`crate::sysreg`]) and the default
/// [`Features`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CpuModel {
    #[default]
    CortexA57,
    Max,
}

impl CpuModel {
    /// The optional features this model has unless the command line turns some off.
    pub fn features(self) -> Features {
        match self {
            // As QEMU's cortex-a57: AES with PMULL, SHA1 and SHA2 (SHA-256); no LSE (Armv8.1).
            CpuModel::CortexA57 => Features { aes: true, sha1: true, sha256: true, ..Features::default() },
            CpuModel::Max => Features { aes: true, sha1: true, sha256: true, lse: true, pauth: true, bti: true },
        }
    }
}

/// The optional architecture features a CPU implements. The ID registers report exactly these,
/// and an instruction of a feature that is off is UNDEFINED.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// FEAT_AES and FEAT_PMULL.
    pub aes: bool,
    /// FEAT_SHA1.
    pub sha1: bool,
    /// FEAT_SHA256.
    pub sha256: bool,
    /// FEAT_LSE: the atomic memory operations, CAS and CASP.
    pub lse: bool,
    /// FEAT_PAuth: pointer authentication.
    pub pauth: bool,
    /// FEAT_BTI: branch target identification.
    pub bti: bool,
}

/// Which of HVC and SMC the board answers as firmware calls (PSCI/SMCCC), as the device tree's
/// `psci` node `method` says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Conduit {
    #[default]
    None,
    Hvc,
    Smc,
}

/// A GICv3 CPU interface as the board connects it to one CPU: the ICC_* system registers
/// ([`crate::sysreg`]) call `gic` with `cpu`, this CPU's index in the GIC. The GIC raises
/// this CPU's IRQ/FIQ through [`CpuConfig::irq_lines`].
#[derive(Clone)]
pub struct GicPort {
    pub gic: SharedGicCpuInterface,
    pub cpu: usize,
}

impl std::fmt::Debug for GicPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GicPort").field("cpu", &self.cpu).finish_non_exhaustive()
    }
}

impl GicPort {
    /// Read ICC register `reg` of this CPU. The CPU holds no lock while it calls.
    pub fn read(&self, reg: mimic_core::IccReg) -> u64 {
        self.gic.lock().unwrap_or_else(std::sync::PoisonError::into_inner).icc_read(self.cpu, reg)
    }

    pub fn write(&self, reg: mimic_core::IccReg, value: u64) {
        self.gic.lock().unwrap_or_else(std::sync::PoisonError::into_inner).icc_write(self.cpu, reg, value);
    }
}

/// What a CPU is built from.
pub struct CpuConfig {
    pub model: CpuModel,
    pub features: Features,
    /// MPIDR_EL1's affinity fields (bit 31, RES1, is added).
    pub mpidr: u64,
    /// Interrupt inputs: [`irq::IRQ`] and [`irq::FIQ`].
    pub irq_lines: SharedBits,
    pub time: TimeSource,
    /// Generic timer outputs: 0 = EL1 physical timer (PPI 30), 1 = virtual timer (PPI 27).
    pub timer_lines: [Box<dyn IrqLine>; 2],
}

impl CpuConfig {
    /// A Cortex-A57, MPIDR 0, no interrupt inputs, the counter stopped at 0, timers
    /// unconnected: for tests.
    pub fn test() -> Self {
        CpuConfig {
            model: CpuModel::CortexA57,
            features: CpuModel::CortexA57.features(),
            mpidr: 0,
            irq_lines: SharedBits::new(),
            time: Arc::new(|| 0),
            timer_lines: [Box::new(NullIrq), Box::new(NullIrq)],
        }
    }
}

pub struct Aarch64Cpu {
    pub regs: [u64; NUM_REGS],
    pub pc: u64,
    /// PSTATE.EL (0, 1, 2 with `has_el2`, 3 with `has_el3`).
    pub el: u8,
    /// PSTATE.SP: SP_ELx (true) or SP_EL0 (false) is the current stack pointer.
    pub spsel: bool,
    /// PSTATE.{D,A,I,F} in DAIF's bit positions ([`daif`]).
    pub daif: u64,
    /// PSTATE.PAN.
    pub pan: bool,
    /// PSTATE.IL.
    pub il: bool,
    /// The stack pointers not in use (index = EL; the one in use lives in `regs[SP]`).
    pub sp_el: [u64; 4],
    pub model: CpuModel,
    pub features: Features,
    pub mpidr: u64,
    pub sys: SysRegs,
    pub mmu_regs: MmuRegs,
    /// FPCR and FPSR as MSR wrote them (only their defined bits).
    pub fpcr: u64,
    pub fpsr: u64,
    pub cache: BlockCache<A64Insn>,
    /// The exception recorded by the last `Exit`.
    pub pending: Option<Fault>,
    /// The last synchronous exception taken and the pc of the instruction that raised it.
    pub taken: Option<(Fault, u64)>,
    /// Waiting for an interrupt (WFI), or stopped for the board to answer a firmware call.
    pub halted: bool,
    pub monitor: Option<Monitor>,
    /// Instructions retired since reset.
    pub instret: u64,
    pub irq_lines: SharedBits,
    pub time: TimeSource,
    pub timer_lines: [Box<dyn IrqLine>; 2],
    /// The levels last driven on `timer_lines`.
    pub timer_levels: [bool; 3],
    /// HVC or SMC (whichever matches) are firmware calls for the board rather than exceptions.
    pub conduit: Conduit,
    /// A firmware call stopped the CPU (pc already past it): the board serves it from X0..X3,
    /// writes X0, and clears this and `halted`.
    pub fw_call: bool,
    /// The GICv3 CPU interface behind the ICC_* system registers, when the board has one (set
    /// by the board; kept across reset). Without it those encodings are UNDEFINED and
    /// ID_AA64PFR0_EL1.GIC reads 0.
    pub gic: Option<GicPort>,
    /// The softmmu TLB, one table per MMU index ([`crate::mmu::MMU_EL0`] ...).
    pub tlb: Tlb<NUM_MMU>,
    /// MMU index of data accesses and of instruction fetch now (see [`Aarch64Cpu::mmu_changed`]).
    pub data_mmu: usize,
    pub fetch_mmu: usize,
    pub mmu: MmuState,
    /// The pointer authentication keys (APIAKey ... APGAKey).
    pub pac_keys: crate::pauth::PacKeys,
    pub pac_cache: crate::pauth::PacCache,
    /// EL2 is implemented (`-M virt,virtualization=on`; set by the board before `reset`).
    pub has_el2: bool,
    /// The EL2 registers (meaningful only with `has_el2`).
    pub el2: crate::el2::El2Regs,
    /// The recorded exception is one of EL2's traps: it goes to EL2 whatever its kind.
    pub pending_to_el2: bool,
    /// The EL2 physical timer's output (CNTHP_*, PPI 26), when the board connects one.
    pub hyp_timer_line: Option<Box<dyn IrqLine>>,
    /// EL3 is implemented (`-M virt,secure=on`; set by the board before `reset`).
    pub has_el3: bool,
    /// The EL3 registers (meaningful only with `has_el3`).
    pub el3: crate::el3::El3Regs,
    /// The recorded exception is one of EL3's traps: it goes to EL3 whatever its kind.
    pub pending_to_el3: bool,
    /// Physical ranges only Secure accesses reach (set by the board; kept across reset).
    pub secure_only: Vec<mimic_core::AddrRange>,
    /// The recorded exception is a stage-2 fault ([`crate::stage2`]).
    pub stage2_fault: Option<crate::stage2::S2Fault>,
    /// ESR_EL2 waits for the instruction syndrome of the load or store at this backing-store
    /// offset (the next instruction fetch adds it).
    pub isv_fixup: Option<usize>,
    /// The GICv3 virtualization interface's registers ([`crate::ich`]).
    pub ich: crate::ich::IchState,
    /// The virtualization interface's maintenance interrupt (PPI 25), when the board
    /// connects one.
    pub ich_maint_line: Option<Box<dyn IrqLine>>,
    /// Counts the Inner Shareable TLB invalidations of every CPU of the machine (shared by
    /// the board); `tlbi_seen` is the count this CPU's TLB reflects.
    pub tlbi_epoch: Option<Arc<std::sync::atomic::AtomicU64>>,
    pub tlbi_seen: u64,
}

impl Aarch64Cpu {
    pub fn new(cfg: CpuConfig) -> Self {
        let mut cpu = Aarch64Cpu {
            regs: [0; NUM_REGS],
            pc: 0,
            el: 1,
            spsel: true,
            daif: daif::ALL,
            pan: false,
            il: false,
            sp_el: [0; 4],
            model: cfg.model,
            features: cfg.features,
            mpidr: cfg.mpidr,
            sys: SysRegs::default(),
            mmu_regs: MmuRegs::default(),
            fpcr: 0,
            fpsr: 0,
            cache: BlockCache::new(),
            pending: None,
            taken: None,
            halted: false,
            monitor: None,
            instret: 0,
            irq_lines: cfg.irq_lines,
            time: cfg.time,
            timer_lines: cfg.timer_lines,
            timer_levels: [false; 3],
            conduit: Conduit::None,
            fw_call: false,
            gic: None,
            tlb: Tlb::new(),
            data_mmu: crate::mmu::MMU_EL1,
            fetch_mmu: crate::mmu::MMU_EL1,
            mmu: MmuState::default(),
            pac_keys: Default::default(),
            pac_cache: Default::default(),
            has_el2: false,
            el2: Default::default(),
            pending_to_el2: false,
            hyp_timer_line: None,
            has_el3: false,
            el3: Default::default(),
            pending_to_el3: false,
            secure_only: Vec::new(),
            stage2_fault: None,
            isv_fixup: None,
            ich: Default::default(),
            ich_maint_line: None,
            tlbi_epoch: None,
            tlbi_seen: 0,
        };
        cpu.reset(0);
        cpu
    }

    /// Reset to the highest implemented EL (EL3h in Secure state with `has_el3`, else EL2h
    /// with `has_el2`, else EL1h) at `pc` with DAIF masked (without EL3, the level and state
    /// the arm64 boot protocol enters a kernel in, with the MMU off); registers zero, system
    /// registers at their reset values, timers off.
    pub fn reset(&mut self, pc: u64) {
        self.regs = [0; NUM_REGS];
        // Zero in the flag registers' form would be Z set.
        self.set_nzcv(0);
        self.pc = pc;
        self.el = if self.has_el3 {
            3
        } else if self.has_el2 {
            2
        } else {
            1
        };
        self.spsel = true;
        self.daif = daif::ALL;
        self.pan = false;
        self.il = false;
        self.sp_el = [0; 4];
        self.sys = SysRegs::default();
        self.mmu_regs = MmuRegs {
            sctlr_el1: crate::sysreg::SCTLR_RESET,
            sctlr_el2: crate::el2::sctlr2::RES1,
            sctlr_el3: crate::el3::sctlr3::RES1,
            ..MmuRegs::default()
        };
        self.el2 = crate::el2::El2Regs {
            hcr: crate::el2::hcr::RW,
            cptr: crate::el2::cptr::RES1,
            vpidr: crate::sysreg::midr_of(self.model),
            vmpidr: crate::sysreg::MPIDR_RES1 | self.mpidr & crate::sysreg::MPIDR_AFF,
            vtcr: crate::el2::VTCR_RES1,
            ..Default::default()
        };
        self.pending_to_el2 = false;
        self.el3 = crate::el3::reset_regs(pc);
        self.pending_to_el3 = false;
        self.stage2_fault = None;
        self.isv_fixup = None;
        self.ich = Default::default();
        if let Some(line) = &self.ich_maint_line {
            line.set_level(false);
        }
        self.fpcr = 0;
        self.fpsr = 0;
        self.cache.clear();
        self.pending = None;
        self.taken = None;
        self.halted = false;
        self.monitor = None;
        self.instret = 0;
        self.fw_call = false;
        self.pac_keys = Default::default();
        self.update_timers();
        self.tlb_flush_all();
        self.mmu_changed();
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
        let n = self.regs[NF] >> 63;
        let z = u64::from(self.regs[ZF] == 0);
        let c = self.regs[CF] & 1;
        let v = self.regs[VF] >> 63;
        (n << 3 | z << 2 | c << 1 | v) as u32
    }

    pub fn set_nzcv(&mut self, nzcv: u32) {
        let [n, z, c, v] = flag_regs(nzcv);
        self.regs[NF] = n;
        self.regs[ZF] = z;
        self.regs[CF] = c;
        self.regs[VF] = v;
    }

    /// CPACR_EL1.FPEN lets EL0/EL1 use FP/SIMD (0b01 at EL1 only, 0b11 at EL0 and EL1),
    /// CPTR_EL2.TFP does not trap it (EL0, EL1, EL2), nor CPTR_EL3.TFP (any EL).
    #[inline]
    pub fn fp_enabled(&self) -> bool {
        self.fp_allowed_by_cpacr() && !self.fp_trapped_to_el2() && !self.fp_trapped_to_el3()
    }

    /// CPACR_EL1.FPEN allows FP/SIMD at the current EL (it does not govern EL2).
    #[inline]
    pub fn fp_allowed_by_cpacr(&self) -> bool {
        match self.sys.cpacr >> 20 & 3 {
            _ if self.el >= 2 => true,
            0b01 => self.el == 1,
            0b11 => true,
            _ => false,
        }
    }

    /// Which `sp_el` slot a PSTATE.{EL, SP} pair uses.
    fn sp_slot(el: u8, spsel: bool) -> usize {
        if spsel {
            usize::from(el)
        } else {
            0
        }
    }

    /// Move to PSTATE.{EL, SP} = (`el`, `spsel`), swapping stack pointers as needed.
    pub fn set_el_sp(&mut self, el: u8, spsel: bool) {
        let (old, new) = (Self::sp_slot(self.el, self.spsel), Self::sp_slot(el, spsel));
        if old != new {
            *self.waiting_sp(old) = self.regs[SP];
            self.regs[SP] = *self.waiting_sp(new);
        }
        self.el = el;
        self.spsel = spsel;
    }

    /// Where SP_EL`n` waits while it is not the current SP.
    fn waiting_sp(&mut self, n: usize) -> &mut u64 {
        match n {
            0 => &mut self.regs[SP_EL0],
            _ => &mut self.sp_el[n],
        }
    }

    /// SP_EL`n` wherever it lives now.
    pub fn sp_of(&self, n: usize) -> u64 {
        match n {
            _ if n == Self::sp_slot(self.el, self.spsel) => self.regs[SP],
            0 => self.regs[SP_EL0],
            _ => self.sp_el[n],
        }
    }

    pub fn set_sp_of(&mut self, n: usize, v: u64) {
        if n == Self::sp_slot(self.el, self.spsel) {
            self.regs[SP] = v;
        } else {
            *self.waiting_sp(n) = v;
        }
    }

    /// PSTATE as SPSR_EL1 saves it: N Z C V (31:28), PAN (22), IL (20), BTYPE (11:10), D A I F (9:6), and
    /// `M[3:0]` = EL:SP (AArch64 state, `M[4]` = 0).
    pub fn pstate(&self) -> u64 {
        u64::from(self.nzcv()) << 28
            | u64::from(self.pan) << 22
            | u64::from(self.il) << 20
            | (self.regs[BTYPE] & 3) << 10
            | self.daif
            | u64::from(self.el) << 2
            | u64::from(self.spsel)
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
        let mut f = u32::from(self.el) & flags::EL_MASK;
        if self.fp_enabled() {
            f |= flags::FP_EN;
        }
        if self.il {
            f |= flags::IL;
        }
        if self.features.pauth {
            f |= flags::PAUTH;
        }
        if self.features.bti {
            f |= flags::BTI | (self.regs[BTYPE] as u32 & 3) << flags::BTYPE_SHIFT;
        }
        if self.spsel {
            f |= flags::SPSEL;
        }
        f
    }
    #[inline(always)]
    fn cache(&mut self) -> &mut BlockCache<A64Insn> {
        &mut self.cache
    }
    #[inline(always)]
    fn load(&mut self, bus: &mut AddressSpace, vaddr: u64, op: MemOp) -> Result<u64, Exit> {
        if op.unpriv {
            return self.load_idx(bus, vaddr, op, crate::mmu::MMU_EL0);
        }
        self.load_data(bus, vaddr, op)
    }
    #[inline(always)]
    fn store(&mut self, bus: &mut AddressSpace, vaddr: u64, val: u64, op: MemOp) -> Result<(), Exit> {
        if op.unpriv {
            return self.store_idx(bus, vaddr, val, op, crate::mmu::MMU_EL0);
        }
        self.store_data(bus, vaddr, val, op)
    }
    #[inline]
    fn translate_fetch(&mut self, bus: &mut AddressSpace, vaddr: u64) -> Result<usize, Exit> {
        self.fetch_offset(bus, vaddr)
    }
    fn watch_code_page(&mut self, bus: &mut AddressSpace, page_offset: usize) {
        self.watch_code(bus, page_offset);
    }
    fn watch_hit_pending(&mut self) -> bool {
        Aarch64Cpu::watch_hit_pending(self)
    }
    #[inline]
    fn insn_len(_lo: u16) -> u8 {
        4
    }
    fn decode(word: u32, _len: u8, flags: u32) -> A64Insn {
        let btype = ((flags & flags::BTYPE_MASK) >> flags::BTYPE_SHIFT) as u8;
        A64Insn::decode_with_btype(word, btype)
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
        use crate::sysreg::name;
        match &insn.op() {
            Some(Insn::Mrs(a)) => format!("mrs x{}, {}", a.rt, name(a.key)),
            Some(Insn::MsrReg(a)) => format!("msr {}, x{}", name(a.key), a.rt),
            Some(i) => decode::disasm(i),
            None => format!(".inst {:#010x} (undefined)", insn.raw()),
        }
    }
    fn raise(&mut self, pc: u64) {
        let f = self.pending.take().unwrap_or(Fault::Undefined { raw: 0 });
        self.taken = Some((f, pc));
        self.take_sync(f, pc);
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
    /// LDTR/STTR at EL1 (the only unprivileged accesses the semantics make) use EL0's.
    fn unpriv_tlb(&self) -> Option<&[TlbEntry; TLB_ENTRIES]> {
        Some(self.tlb.table(crate::mmu::MMU_EL0))
    }
    /// Fetch translations change only through TLB flushes (TLBI; SCTLR, TCR and MAIR writes;
    /// a change of ASID drops the non-global entries) and with the ASID itself, which the epoch
    /// folds in so that a context switch that happened to flush nothing still changes it. EL,
    /// and with it the fetch MMU index, is a block flag. Block flags change within a chaining
    /// run only in PSTATE.BTYPE (system-register writes that change the others are `Sem::call`
    /// helpers), which [`Guest::flags_from_reg`] describes.
    const FETCH_EPOCH: bool = true;
    #[inline(always)]
    fn code_epoch(&self) -> u64 {
        let r = &self.mmu_regs;
        let ttbr = if r.tcr_el1 & crate::mmu::tcr::A1 != 0 { r.ttbr1_el1 } else { r.ttbr0_el1 };
        // TTBR bits 63:48 are the ASID (the upper byte ignored with 8-bit ASIDs: folding it in
        // anyway only changes the epoch more often).
        self.tlb.epoch() ^ (ttbr & (0xffff << 48))
    }
    #[inline(always)]
    fn flags_from_reg(flags: u32) -> Option<(usize, u32, u32)> {
        (flags & flags::BTI != 0).then_some((BTYPE, flags::BTYPE_SHIFT, flags::BTYPE_MASK >> flags::BTYPE_SHIFT))
    }
    #[inline(always)]
    fn halted(&self) -> bool {
        self.halted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_leaves_the_condition_flags_clear() {
        let mut cpu = Aarch64Cpu::new(CpuConfig::test());
        assert_eq!(cpu.nzcv(), 0);
        cpu.set_nzcv(0b0110);
        cpu.reset(0x4000_0000);
        assert_eq!(cpu.nzcv(), 0);
    }

    #[test]
    fn nzcv_round_trips_through_the_flag_registers() {
        let mut cpu = Aarch64Cpu::new(CpuConfig::test());
        for nzcv in 0..16 {
            cpu.set_nzcv(nzcv);
            assert_eq!(cpu.nzcv(), nzcv);
        }
    }
}
