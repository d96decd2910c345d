//! The AArch64 ISA (A64 instruction set), as far as the base integer instructions, exclusives,
//! acquire/release, barriers, and FP/Advanced SIMD: the CPU core that
//! `mimic -M virt -cpu cortex-a57` will run.
//!
//! Encodings live in `decode/a64.decode` (base), `decode/fp.decode` (scalar FP) and
//! `decode/simd.decode` (SIMD&FP loads/stores, Advanced SIMD), and are turned into one decoder, a
//! visitor trait and an encoder at build time; each instruction's meaning is one visitor method
//! in [`sem`], written against `mimic_ir::Sem` so every execution tier runs the same definition. Condition flags are
//! kept as four 0/1 registers in the flat register file and computed explicitly from the
//! operands.
//!
//! FP/SIMD: V0-V31 live in the flat register file (two 64-bit halves each, `cpu::VREG_BASE`);
//! FPCR/FPSR are `Aarch64Cpu` fields. SIMD&FP loads/stores and FMOV between register files are
//! `Sem` code ([`sem`]'s `sem_simd.rs`); the data-processing classes are helpers ([`simd`] lane by
//! lane, [`fp`] through `mimic_fpu::arm`, which layers Arm's NaN propagation, flush-to-zero and
//! before-rounding tininess over SoftFloat). Every FP/SIMD instruction checks the block flag
//! `cpu::flags::FP_EN` at translation time and raises `Fault::FpAccess` (EC 0x07) when it is clear.
//! Not implemented (Undefined): half precision (FEAT_FP16 and the FCVT H forms), the reciprocal
//! estimates and steps (FRECPE/FRSQRTE/FRECPX/FRECPS/FRSQRTS), FCVTL/FCVTN/FCVTXN, SHLL, the
//! scalar long by-element forms, crypto (AES/SHA), and everything after Armv8.0 (dot product,
//! RDM, ...).
//! `tests/qemu_diff.rs` checks the rest against `qemu-aarch64 -cpu cortex-a57` when available.
//!
//! Not yet here: exception entry and the exception levels' vectors, system registers, the MMU
//! (addresses are physical). Exceptions are recorded in [`cpu::Fault`] form with their
//! architectural exception class, and [`mimic_exec::Guest::raise`] stops the CPU until
//! exception entry exists.
#![forbid(unsafe_code)]

pub mod cpu;
pub mod decode;
pub mod fp;
pub mod helpers;
pub mod sem;
pub mod simd;

pub use cpu::{A64Insn, Aarch64Cpu, Fault};
