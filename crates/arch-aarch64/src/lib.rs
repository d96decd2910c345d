//! The AArch64 ISA (A64 instruction set), as far as the base integer instructions, exclusives,
//! acquire/release and barriers: the CPU core that `mimic -M virt -cpu cortex-a57` will run.
//!
//! Encodings live in `decode/a64.decode` and are turned into a decoder, a visitor trait and an
//! encoder at build time; each instruction's meaning is one visitor method in [`sem`], written
//! against `mimic_ir::Sem` so every execution tier runs the same definition. Condition flags are
//! kept as four 0/1 registers in the flat register file and computed explicitly from the
//! operands.
//!
//! Addresses are virtual: [`mmu`] is the VMSAv8-64 stage-1 EL1&0 translation regime (4K, 16K
//! and 64K granules, TTBR0/TTBR1, permissions with PAN/UXN/PXN/WXN, access flag, MAIR memory
//! types and their alignment rules) behind a softmmu TLB per MMU index that compiled code
//! probes inline; TLBI and AT are [`mmu::tlbi`] and [`mmu::at`]. Its controls live in
//! [`mmu_regs::MmuRegs`], and [`cpu::Aarch64Cpu::mmu_changed`] must follow any change of them,
//! of the EL or of PSTATE.PAN.
//!
//! Not yet here: exception entry and the exception levels' vectors, system registers, FP/SIMD.
//! Exceptions are recorded in [`cpu::Fault`] form with their architectural exception class, and
//! [`mimic_exec::Guest::raise`] stops the CPU until exception entry exists.
#![forbid(unsafe_code)]

pub mod cpu;
pub mod decode;
pub mod helpers;
pub mod mmu;
pub mod mmu_regs;
pub mod sem;

pub use cpu::{A64Insn, Aarch64Cpu, Fault};
