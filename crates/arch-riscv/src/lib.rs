//! The RISC-V 64 ISA (RV64GC with Zba, Zbb, Zbs, Zicond; M, S and U modes; Sv39/48/57).
//!
//! Encodings live in `decode/*.decode` and are turned into a decoder, a visitor trait and an
//! encoder at build time; each instruction's meaning is one visitor method in [`sem`], written
//! against `mimic_ir::Sem` so every execution tier runs the same definition. Everything heavier
//! (floating point, CSRs, atomics, privileged instructions) is a helper in [`helpers`], a plain
//! function both tiers call.
#![forbid(unsafe_code)]

pub mod cpu;
pub mod csr;
pub mod decode;
pub mod dump;
pub mod helpers;
pub mod mmu;
pub mod sem;
pub mod trap;

pub use cpu::{Priv, RiscvCpu, RvInsn};
