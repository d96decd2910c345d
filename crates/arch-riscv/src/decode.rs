//! RISC-V instruction decoding, generated at build time from `decode/insn32.decode` and
//! `decode/insn16.decode` by `tools/decodegen`.
//!
//! ```text
//!   u16/u32 word ──decode16/decode32──▶ Option<Insn> ──Insn::visit──▶ Visitor (semantics)
//!                                            │
//!                                            └──disasm──▶ "addi x1, x2, -5"
//!   enc::addi(1, 2, -5) / enc16::c_addi(1, -5) ──▶ word   (in-tree assembler for tests)
//! ```
//!
//! Covered (RV64): I, M, A, F, D, C, Zicsr, Zifencei, Zba, Zbb, Zbs, Zicond, and the privileged
//! `mret`, `sret`, `wfi`, `sfence.vma`. Compressed instructions decode to the `Insn` of the base
//! instruction they expand to (`c.addi4spn x8, 16` is `Insn::Addi(ArgsI { rd: 8, rs1: 2, imm: 16 })`);
//! reserved encodings decode to `None`, HINTs to their (no-op) base instruction.
//!
//! Immediates are fully assembled: sign-extended to `i64` and scaled (`ArgsU::imm` is already
//! shifted left by 12, branch and jump offsets are in bytes). For `csrr*i`, `ArgsCsr::rs1` holds the
//! 5-bit uimm. Floating-point `rm` is decoded for every value; reserved modes must trap at run time.
//!
//! Encoders: `enc::<name>` takes the argument set's field-backed arguments in declaration order
//! (`enc::lr_w(rd, rs1, aq, rl)` has no `rs2`, which is fixed at 0); `enc16::<c_name>` takes the
//! pattern's own fields with their real values (`enc16::c_lw(rd, rs1, imm)` with `rd`, `rs1` in
//! 8..=15). Out-of-range or misaligned values trip a `debug_assert!`; release builds mask them.

include!(concat!(env!("OUT_DIR"), "/decode_gen.rs"));

/// Length in bytes of the instruction whose first (lowest-addressed) halfword is `first_half`:
/// 2 for compressed, 4 for 32-bit, 0 for the reserved longer (48-bit and up) encodings.
#[must_use]
pub fn insn_len(first_half: u16) -> usize {
    if first_half & 0b11 != 0b11 {
        2
    } else if first_half & 0b1_1100 != 0b1_1100 {
        4
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insn_len_low_bits_select_length() {
        assert_eq!(insn_len(0x0001), 2); // c.nop
        assert_eq!(insn_len(0x8082), 2); // c.jr ra
        assert_eq!(insn_len(0x0513), 4); // low half of addi a0, a0, 0
        assert_eq!(insn_len(0x001f), 0); // 48-bit prefix
        assert_eq!(insn_len(0x003f), 0); // 64-bit prefix
        assert_eq!(insn_len(0x007f), 0); // >= 80-bit prefix
    }

    #[test]
    fn decode_addi_returns_assembled_immediate() {
        // addi x1, x2, -5
        assert_eq!(decode32(0xffb1_0093), Some(Insn::Addi(ArgsI { rd: 1, rs1: 2, imm: -5 })));
    }

    #[test]
    fn disasm_formats_common_shapes() {
        assert_eq!(disasm(&Insn::Addi(ArgsI { rd: 1, rs1: 2, imm: -5 })), "addi x1, x2, -5");
        assert_eq!(disasm(&Insn::Lw(ArgsI { rd: 5, rs1: 2, imm: 8 })), "lw x5, 8(x2)");
        assert_eq!(disasm(&Insn::FaddD(ArgsRRm { rd: 1, rs1: 2, rs2: 3, rm: 0 })), "fadd.d f1, f2, f3, rne");
        assert_eq!(disasm(&Insn::FaddD(ArgsRRm { rd: 1, rs1: 2, rs2: 3, rm: 7 })), "fadd.d f1, f2, f3");
        assert_eq!(disasm(&Insn::FcvtWS(ArgsR2Rm { rd: 10, rs1: 11, rm: 1 })), "fcvt.w.s x10, f11, rtz");
        assert_eq!(disasm(&Insn::Ecall(ArgsEmpty {})), "ecall");
        assert_eq!(
            disasm(&Insn::AmoaddW(ArgsAtomic { rd: 1, rs1: 2, rs2: 3, aq: 1, rl: 1 })),
            "amoadd.w.aq.rl x1, x3, (x2)"
        );
        assert_eq!(disasm(&Insn::LrD(ArgsAtomic { rd: 1, rs1: 2, rs2: 0, aq: 0, rl: 0 })), "lr.d x1, (x2)");
        assert_eq!(disasm(&Insn::Lui(ArgsU { rd: 3, imm: 0x12345 << 12 })), "lui x3, 0x12345");
        assert_eq!(disasm(&Insn::Csrrwi(ArgsCsr { rd: 0, rs1: 5, csr: 0x300 })), "csrrwi x0, 0x300, 5");
        assert_eq!(disasm(&Insn::Fence(ArgsFence { pred: 0xf, succ: 0x3, fm: 0 })), "fence iorw, rw");
    }
}
