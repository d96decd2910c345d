//! The AArch64 ISA (A64 instruction set), as far as the base integer instructions, exclusives,
//! acquire/release and barriers: the CPU core that `mimic -M virt -cpu cortex-a57` will run.
//!
//! Encodings live in `decode/a64.decode` and are turned into a decoder, a visitor trait and an
//! encoder at build time; each instruction's meaning is one visitor method in [`sem`], written
//! against `mimic_ir::Sem` so every execution tier runs the same definition. Condition flags are
//! kept as four 0/1 registers in the flat register file and computed explicitly from the
//! operands.
//!
//! Not yet here: exception entry and the exception levels' vectors, system registers, the MMU
//! (addresses are physical), FP/SIMD. Exceptions are recorded in [`cpu::Fault`] form with their
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
