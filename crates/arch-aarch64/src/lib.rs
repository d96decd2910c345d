//! The AArch64 ISA (A64 instruction set) at EL0 and EL1, and EL2 when the board asks for it
//! (`-M virt,virtualization=on`): the CPU core that `mimic -M virt -cpu cortex-a57` runs, up to
//! booting an arm64 Linux kernel at EL1 or EL2.
//!
//! Encodings live in `decode/a64.decode` (base), `decode/fp.decode` (scalar FP) and
//! `decode/simd.decode` (SIMD&FP loads/stores, Advanced SIMD), and are turned into one decoder, a
//! visitor trait and an encoder at build time; each instruction's meaning is one visitor method
//! in [`sem`], written against `mimic_ir::Sem` so every execution tier runs the same definition. Condition flags are
//! kept as four 0/1 registers in the flat register file and computed explicitly from the
//! operands.
//!
//! ```text
//!   cpu.rs        state, PSTATE (EL, SP, DAIF, PAN, IL), Fault and its syndrome, the Guest impl
//!   exception.rs  exception entry to EL1/EL2 (VBAR_ELx vectors), ERET, IRQ/FIQ from `irq_lines`
//!   el2.rs        EL2: HCR_EL2 and the other EL2 registers, its traps and interrupt routing
//!   sysreg.rs     the system register table (MRS/MSR), access checks, ID register values
//!   timer.rs      generic timer: counter, EL1 physical and virtual timers, their output lines
//!   helpers.rs    what both tiers call: MRS/MSR/SYS, ERET, WFI/WFE, exclusives, CRC32, ...
//!   atomic.rs     FEAT_LSE: LD<op>/ST<op>/SWP/CAS/CASP as one checked read-modify-write each
//!   crypto.rs     AES, SHA-1 and SHA-256 instructions (PMULL is in simd.rs)
//!   mmu_regs.rs   SCTLR/TCR/TTBR/MAIR/AMAIR/PAR_EL1 and SCTLR/TCR/TTBR0/MAIR_EL2 for the walks
//!   mmu.rs        the stage-1 EL1&0 and EL2 walks behind the softmmu TLB, TLBI, AT, data and
//!                 fetch paths
//!   pauth.rs      FEAT_PAuth: QARMA5 ComputePAC, AddPAC/Auth/Strip, their helpers
//!   bti.rs        FEAT_BTI: which instruction may follow which indirect branch
//! ```
//!
//! Implemented: the base integer ISA, exclusives, acquire/release, barriers, CRC32; the optional
//! features of [`cpu::Features`] a model has (FEAT_LSE atomics, FEAT_AES with PMULL, FEAT_SHA1,
//! FEAT_SHA256; their instructions are UNDEFINED on a CPU without them); EL0 and EL1
//! in AArch64 with SP_EL0/SP_EL1 banking; synchronous exceptions (UNDEFINED, SVC, BRK, aborts,
//! alignment, PC alignment, trapped WFI/WFE/MSR/MRS/FP, illegal execution state), IRQ and FIQ,
//! exception return with the illegal-return rules; MRS/MSR/MSR (immediate)/SYS for the registers
//! and operations Linux uses (see [`sysreg`]), including the GICv3 CPU interface (ICC_*) when the
//! board connects one ([`cpu::GicPort`]); DC ZVA; IC IALLU/IALLUIS (drop every decoded block)
//! and IC IVAU (drop the blocks of that page); WFI; the generic timer; HVC/SMC as firmware calls for the board ([`cpu::Conduit`]).
//!
//! Optional (per `cpu::Features`, as `-cpu max` has them): pointer authentication (FEAT_PAuth
//! with QARMA5; no FEAT_EPAC, FEAT_PAuth2 or FEAT_FPAC: a failed authentication leaves an
//! address that faults when used) and branch target identification (FEAT_BTI).
//!
//! Not here: EL2, EL3 and AArch32 (HVC/SMC are UNDEFINED unless they are the firmware conduit;
//! ERET to them is an illegal return); SP alignment checking;
//! debug exceptions (breakpoint, watchpoint, single-step: the debug registers read as zero);
//! the PMU (absent, its registers UNDEFINED); events for WFE (it completes at once); SError.
//!
//! Addresses are virtual: [`mmu`] is the VMSAv8-64 stage-1 EL1&0 translation regime (4K, 16K
//! and 64K granules, TTBR0/TTBR1, permissions with PAN/UXN/PXN/WXN, access flag, MAIR memory
//! types and their alignment rules) behind a softmmu TLB per MMU index that compiled code
//! probes inline; TLBI and AT are [`mmu::tlbi`] and [`mmu::at`]. Its controls live in
//! [`mmu_regs::MmuRegs`], and [`cpu::Aarch64Cpu::mmu_changed`] must follow any change of them,
//! of the EL or of PSTATE.PAN.
//!
//! FP/SIMD: V0-V31 live in the flat register file (two 64-bit halves each, `cpu::VREG_BASE`);
//! FPCR/FPSR are `Aarch64Cpu` fields. SIMD&FP loads/stores and FMOV between register files are
//! `Sem` code ([`sem`]'s `sem_simd.rs`); the data-processing classes are helpers ([`simd`] lane by
//! lane, [`fp`] through `mimic_fpu::arm`, which layers Arm's NaN propagation, flush-to-zero and
//! before-rounding tininess over SoftFloat). Every FP/SIMD instruction checks the block flag
//! `cpu::flags::FP_EN` at translation time and raises `Fault::FpAccess` (EC 0x07) when it is clear.
//! The Armv8.0 conversions and estimates are [`fp_v80`]: FCVT between half precision and
//! single/double (with FPCR.AHP's alternative format), FCVTL/FCVTN/FCVTXN (round to odd),
//! FRECPE/FRSQRTE/FRECPX, URECPE/URSQRTE; FRECPS/FRSQRTS are [`fp`] lanes, SHLL and the scalar
//! SQDMULL/SQDMLAL/SQDMLSL (three-different and by element) [`simd`] ones.
//! Not implemented (Undefined): half precision arithmetic (FEAT_FP16, Armv8.2),
//! SHA-512/SHA-3/SM3/SM4, and everything after Armv8.0 but LSE (dot product, RDM, ...).
//! `tests/qemu_diff.rs` checks the rest against `qemu-aarch64 -cpu cortex-a57` when available.
#![forbid(unsafe_code)]

pub mod atomic;
pub mod bti;
pub mod cpu;
pub mod crypto;
pub mod decode;
pub mod el2;
pub mod el3;
pub mod exception;
pub mod fp;
pub mod fp_v80;
pub mod helpers;
pub mod ich;
pub mod mmu;
pub mod mmu_regs;
pub mod pauth;
pub mod sem;
pub mod simd;
pub mod stage2;
pub mod sysreg;
pub mod timer;

pub use cpu::{A64Insn, Aarch64Cpu, Conduit, CpuConfig, CpuModel, Fault, GicPort, TimeSource};
