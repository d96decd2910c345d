//! A64 instruction decoding, generated at build time from `decode/{a64,fp,simd}.decode` by
//! `tools/decodegen`.
//!
//! ```text
//!   u32 word ──decode32──▶ Option<Insn> ──Insn::visit──▶ Visitor (semantics, sem.rs)
//!   enc::add_imm(sf, rd, rn, imm12, sh) ──▶ word   (in-tree assembler for tests)
//! ```
//!
//! Covered: the base integer ISA — data processing (immediate and register), branches, WFI and
//! the hint space, loads and stores of general registers (unsigned offset, unscaled,
//! unprivileged, pre/post index, register offset, literal, pairs), exclusives (LDXR/STXR and
//! pairs, with acquire/release), LDAR/STLR, the FEAT_LSE atomics (LD<op>, SWP, CAS, CASP),
//! DMB/DSB/ISB/CLREX, CRC32/CRC32C, the AES/SHA-1/SHA-256 instructions,
//! SVC/HVC/SMC/BRK; the system space: MRS/MSR (register; the operand is `sysreg::key`),
//! MSR (immediate), SYS, ERET, WFE; SIMD&FP loads and stores, scalar FP and the Advanced SIMD classes
//! (see `fp.decode`/`simd.decode`). Unallocated encodings decode to `None`.
//!
//! Immediates are as the table's fields give them: branch and literal offsets are sign-extended
//! and already in bytes, ADRP's is shifted left by 12; load/store offsets (`imm12`, `imm7`) are
//! still in units of the access size, which the semantics scales. Register numbers are raw
//! (31 is SP or XZR depending on the instruction). The W forms of instructions whose legal
//! encodings differ by `sf` have their own encoders (`enc::and_imm_w`, `enc::sbfm_w`, ...).

include!(concat!(env!("OUT_DIR"), "/decode_gen.rs"));
