//! Semantics snippets: RV64I arithmetic and control flow, M, Zba, Zbb, Zbs, Zicond, Zicsr and
//! the system instructions, run on every execution tier (see `common`).
//!
//! Expected values come from the ISA manual, worked by hand or with host Rust arithmetic; never
//! from the emulator's own helpers. Memory, atomics and compressed instructions are in
//! `semantics_mem.rs`, floating point in `semantics_fp.rs`.

mod common;

use common::*;
use mimic_arch_riscv::decode::{enc, enc16};
use proptest::prelude::*;

const I64_MIN: u64 = i64::MIN as u64;
const I64_MAX: u64 = i64::MAX as u64;
const NEG1: u64 = u64::MAX;

/// Sign-extend the low 32 bits (host arithmetic).
fn sx32(v: u64) -> u64 {
    v as u32 as i32 as i64 as u64
}

// ---- RV64I: add, sub and their W forms ---------------------------------------------------------

#[test]
fn add_signed_overflow_wraps() {
    assert_eq!(rr(enc::add(3, 1, 2), I64_MAX, 1), I64_MIN);
}

#[test]
fn sub_below_zero_wraps_to_all_ones() {
    assert_eq!(rr(enc::sub(3, 1, 2), 0, 1), NEG1);
}

#[test]
fn addw_overflow_sign_extends_32bit_result() {
    assert_eq!(rr(enc::addw(3, 1, 2), 0x7fff_ffff, 1), 0xffff_ffff_8000_0000);
}

#[test]
fn addw_upper_operand_bits_ignored() {
    assert_eq!(rr(enc::addw(3, 1, 2), 0xdead_beef_0000_0001, 0x1234_5678_0000_0002), 3);
}

#[test]
fn subw_result_sign_extended() {
    assert_eq!(rr(enc::subw(3, 1, 2), 0, 1), NEG1);
    assert_eq!(rr(enc::subw(3, 1, 2), 0x8000_0000, 1), 0x7fff_ffff);
}

#[test]
fn addi_negative_immediate_subtracts() {
    assert_eq!(r1(enc::addi(3, 1, -2048), 0), (-2048i64) as u64);
    assert_eq!(r1(enc::addi(3, 1, 2047), 1), 2048);
}

#[test]
fn addiw_overflow_sign_extends() {
    assert_eq!(r1(enc::addiw(3, 1, 1), 0x7fff_ffff), 0xffff_ffff_8000_0000);
}

#[test]
fn addiw_zero_sign_extends_low_word() {
    assert_eq!(r1(enc::addiw(3, 1, 0), 0x0000_0001_8000_0000), 0xffff_ffff_8000_0000);
}

// ---- RV64I: logic ----------------------------------------------------------------------------

#[test]
fn xor_or_and_registers_bitwise() {
    let (a, b) = (0xff00_ff00_f0f0_1234, 0x0ff0_0ff0_ff00_4321);
    assert_eq!(rr(enc::xor(3, 1, 2), a, b), a ^ b);
    assert_eq!(rr(enc::or(3, 1, 2), a, b), a | b);
    assert_eq!(rr(enc::and(3, 1, 2), a, b), a & b);
}

#[test]
fn logic_immediates_sign_extended() {
    let a = 0x1234_5678_9abc_def0;
    assert_eq!(r1(enc::xori(3, 1, -1), a), !a);
    assert_eq!(r1(enc::ori(3, 1, -2048), 0), 0xffff_ffff_ffff_f800);
    assert_eq!(r1(enc::andi(3, 1, -16), a), a & !15);
    assert_eq!(r1(enc::andi(3, 1, 0x7ff), a), a & 0x7ff);
}

// ---- RV64I: set-less-than --------------------------------------------------------------------

#[test]
fn slt_int_min_below_zero_is_one() {
    assert_eq!(rr(enc::slt(3, 1, 2), I64_MIN, 0), 1);
    assert_eq!(rr(enc::slt(3, 1, 2), 0, I64_MIN), 0);
}

#[test]
fn sltu_int_min_above_zero_is_zero() {
    assert_eq!(rr(enc::sltu(3, 1, 2), I64_MIN, 0), 0);
}

#[test]
fn sltu_minus_one_is_largest_unsigned() {
    assert_eq!(rr(enc::sltu(3, 1, 2), 0, NEG1), 1);
    assert_eq!(rr(enc::sltu(3, 1, 2), NEG1, 0), 0);
}

#[test]
fn slt_equal_operands_is_zero() {
    assert_eq!(rr(enc::slt(3, 1, 2), 5, 5), 0);
    assert_eq!(rr(enc::sltu(3, 1, 2), 5, 5), 0);
}

#[test]
fn slti_compares_signed_immediate() {
    assert_eq!(r1(enc::slti(3, 1, -1), I64_MIN), 1);
    assert_eq!(r1(enc::slti(3, 1, -1), 0), 0);
}

#[test]
fn sltiu_minus_one_immediate_is_max_unsigned() {
    // The immediate is sign-extended, then compared unsigned: x < 0xffff...ffff.
    assert_eq!(r1(enc::sltiu(3, 1, -1), 0x7fff_ffff_ffff_fffe), 1);
    assert_eq!(r1(enc::sltiu(3, 1, -1), NEG1), 0);
}

#[test]
fn sltiu_one_is_seqz() {
    assert_eq!(r1(enc::sltiu(3, 1, 1), 0), 1);
    assert_eq!(r1(enc::sltiu(3, 1, 1), 7), 0);
}

// ---- RV64I: shifts ---------------------------------------------------------------------------

#[test]
fn sll_shift_by_0_31_32_63() {
    let a = 0x8000_0000_0000_0001;
    for n in [0u64, 31, 32, 63] {
        assert_eq!(rr(enc::sll(3, 1, 2), a, n), a << n, "n = {n}");
    }
}

#[test]
fn sll_register_amount_masked_to_6_bits() {
    assert_eq!(rr(enc::sll(3, 1, 2), 1, 64), 1);
    assert_eq!(rr(enc::sll(3, 1, 2), 1, 0xffff_ffff_ffff_ff41), 2);
}

#[test]
fn srl_shifts_in_zeros() {
    assert_eq!(rr(enc::srl(3, 1, 2), I64_MIN, 63), 1);
    assert_eq!(rr(enc::srl(3, 1, 2), NEG1, 64 + 4), NEG1 >> 4);
}

#[test]
fn sra_shifts_in_sign() {
    assert_eq!(rr(enc::sra(3, 1, 2), I64_MIN, 63), NEG1);
    assert_eq!(rr(enc::sra(3, 1, 2), I64_MIN, 0), I64_MIN);
    assert_eq!(rr(enc::sra(3, 1, 2), 0x4000_0000_0000_0000, 127), 0);
}

#[test]
fn shift_immediates_by_0_and_63() {
    let a = 0x8000_0000_0000_0001;
    assert_eq!(r1(enc::slli(3, 1, 0), a), a);
    assert_eq!(r1(enc::slli(3, 1, 63), a), I64_MIN);
    assert_eq!(r1(enc::srli(3, 1, 63), a), 1);
    assert_eq!(r1(enc::srai(3, 1, 63), a), NEG1);
    assert_eq!(r1(enc::srai(3, 1, 0), a), a);
}

#[test]
fn sllw_result_sign_extended() {
    assert_eq!(rr(enc::sllw(3, 1, 2), 1, 31), 0xffff_ffff_8000_0000);
}

#[test]
fn sllw_amount_masked_to_5_bits() {
    assert_eq!(rr(enc::sllw(3, 1, 2), 1, 32), 1);
    assert_eq!(rr(enc::sllw(3, 1, 2), 1, 33), 2);
}

#[test]
fn srlw_zero_extends_operand_then_sign_extends_result() {
    assert_eq!(rr(enc::srlw(3, 1, 2), 0xffff_ffff_8000_0000, 0), 0xffff_ffff_8000_0000);
    assert_eq!(rr(enc::srlw(3, 1, 2), 0xffff_ffff_8000_0000, 31), 1);
    assert_eq!(rr(enc::srlw(3, 1, 2), 0xffff_ffff_8000_0000, 1), 0x4000_0000);
}

#[test]
fn sraw_shifts_in_bit_31() {
    assert_eq!(rr(enc::sraw(3, 1, 2), 0x0000_0000_8000_0000, 31), NEG1);
    assert_eq!(rr(enc::sraw(3, 1, 2), 0x8000_0000_7fff_ffff, 30), 1);
    assert_eq!(rr(enc::sraw(3, 1, 2), 0x8000_0000, 32), 0xffff_ffff_8000_0000);
}

#[test]
fn w_shift_immediates_by_0_and_31() {
    assert_eq!(r1(enc::slliw(3, 1, 0), 0x1_8000_0000), 0xffff_ffff_8000_0000);
    assert_eq!(r1(enc::slliw(3, 1, 31), 3), 0xffff_ffff_8000_0000);
    assert_eq!(r1(enc::srliw(3, 1, 0), 0xffff_ffff), NEG1);
    assert_eq!(r1(enc::srliw(3, 1, 31), 0xffff_ffff), 1);
    assert_eq!(r1(enc::sraiw(3, 1, 31), 0x8000_0000), NEG1);
    assert_eq!(r1(enc::sraiw(3, 1, 0), 0x1234_5678_8000_0000), 0xffff_ffff_8000_0000);
}

// ---- RV64I: lui, auipc -----------------------------------------------------------------------

#[test]
fn lui_negative_immediate_sign_extends() {
    // `lui x3, 0x80000` as GNU as encodes it.
    assert_eq!(Snippet::of(&[0x8000_01b7]).ok().x(3), 0xffff_ffff_8000_0000);
    assert_eq!(Snippet::of(&[enc::lui(3, -4096)]).ok().x(3), 0xffff_ffff_ffff_f000);
}

#[test]
fn lui_positive_immediate_fills_bits_31_12() {
    assert_eq!(Snippet::of(&[enc::lui(3, 0x7fff_f000)]).ok().x(3), 0x7fff_f000);
}

#[test]
fn auipc_adds_to_own_pc() {
    let s = Snippet::of(&[enc::addi(0, 0, 0), enc::auipc(3, -4096), enc::auipc(4, 0x1000)]);
    let f = s.ok();
    assert_eq!(f.x(3), CODE + 4 - 4096);
    assert_eq!(f.x(4), CODE + 8 + 0x1000);
}

// ---- RV64I: jumps ----------------------------------------------------------------------------

#[test]
fn jal_links_next_pc_and_skips() {
    let f = Snippet::of(&[enc::jal(1, 8), enc::addi(5, 0, 1), enc::addi(6, 0, 2)]).ok();
    assert_eq!(f.x(1), CODE + 4);
    assert_eq!(f.x(5), 0);
    assert_eq!(f.x(6), 2);
}

#[test]
fn jal_backwards_loops() {
    // x1 = 5; loop: x1 -= 1; x2 += 1; bnez x1, loop
    let f = Snippet::of(&[enc::addi(1, 1, -1), enc::addi(2, 2, 1), enc::bne(1, 0, -8)]).x(1, 5).ok();
    assert_eq!(f.x(2), 5);
}

#[test]
fn call_and_return_loop_runs_every_iteration() {
    // loop: x1 -= 1; call f; bnez x1, loop; j end.  f: x2 += 3; ret (through x5).
    // Compiled code finds the return target at run time, then in the jump cache.
    let f = Snippet::of(&[
        enc::addi(1, 1, -1),
        enc::jal(5, 12),
        enc::bne(1, 0, -8),
        enc::jal(0, 12),
        enc::addi(2, 2, 3),
        enc::jalr(0, 5, 0),
    ])
    .x(1, 50)
    .ok();
    assert_eq!(f.x(1), 0);
    assert_eq!(f.x(2), 150);
    assert_eq!(f.x(5), CODE + 8);
}

#[test]
fn jalr_clears_target_bit_0() {
    let f = Snippet::of(&[enc::jalr(1, 5, 0), enc::addi(6, 0, 1), enc::addi(6, 0, 2), enc::addi(7, 0, 3)])
        .x(5, CODE + 13)
        .ok();
    assert_eq!(f.x(1), CODE + 4);
    assert_eq!(f.x(6), 0);
    assert_eq!(f.x(7), 3);
}

#[test]
fn jalr_negative_offset_added_to_base() {
    let f = Snippet::of(&[enc::jalr(1, 5, -4), enc::addi(6, 0, 1), enc::addi(7, 0, 3)]).x(5, CODE + 12).ok();
    assert_eq!(f.x(6), 0);
    assert_eq!(f.x(7), 3);
}

#[test]
fn jalr_rd_equal_rs1_uses_old_base() {
    let f = Snippet::of(&[enc::jalr(5, 5, 0), enc::addi(6, 0, 1), enc::addi(7, 0, 3)]).x(5, CODE + 8).ok();
    assert_eq!(f.x(5), CODE + 4);
    assert_eq!(f.x(6), 0);
    assert_eq!(f.x(7), 3);
}

#[test]
fn jal_x0_writes_no_link() {
    let f = Snippet::of(&[enc::jal(0, 4)]).ok();
    assert_eq!(f.x, [0; 32]);
}

// ---- RV64I: branches -------------------------------------------------------------------------

type BranchEnc = fn(u32, u32, i64) -> u32;

/// Whether `b x1, x2, +8` skips the instruction after it.
fn taken(b: BranchEnc, x1: u64, x2: u64) -> bool {
    let f = Snippet::of(&[b(1, 2, 8), enc::addi(3, 0, 1)]).x(1, x1).x(2, x2).ok();
    f.x(3) == 0
}

#[test]
fn beq_taken_only_when_equal() {
    assert!(taken(enc::beq, 7, 7));
    assert!(!taken(enc::beq, 7, 8));
}

#[test]
fn bne_taken_only_when_different() {
    assert!(taken(enc::bne, 7, 8));
    assert!(!taken(enc::bne, NEG1, NEG1));
}

#[test]
fn blt_compares_signed() {
    assert!(taken(enc::blt, NEG1, 1));
    assert!(!taken(enc::blt, 1, NEG1));
    assert!(!taken(enc::blt, 3, 3));
}

#[test]
fn bge_compares_signed_and_takes_equal() {
    assert!(taken(enc::bge, 1, NEG1));
    assert!(taken(enc::bge, 3, 3));
    assert!(!taken(enc::bge, I64_MIN, 0));
}

#[test]
fn bltu_compares_unsigned() {
    assert!(!taken(enc::bltu, NEG1, 1));
    assert!(taken(enc::bltu, 1, NEG1));
    assert!(!taken(enc::bltu, 3, 3));
}

#[test]
fn bgeu_compares_unsigned_and_takes_equal() {
    assert!(taken(enc::bgeu, NEG1, 1));
    assert!(!taken(enc::bgeu, 0, NEG1));
    assert!(taken(enc::bgeu, 3, 3));
}

#[test]
fn branch_backwards_offset_reaches_earlier_code() {
    // j +8 ; (target of the backward branch) addi x4, x0, 9 ; j end ; beq x0, x0, -8
    let f = Snippet::of(&[enc::jal(0, 12), enc::addi(4, 0, 9), enc::jal(0, 8), enc::beq(0, 0, -8)]).ok();
    assert_eq!(f.x(4), 9);
}

// ---- RV64I: x0 -------------------------------------------------------------------------------

#[test]
fn x0_writes_discarded() {
    let f = Snippet::of(&[enc::addi(0, 0, 5), enc::lui(0, 0x1000), enc::add(3, 0, 0), enc::ld(0, 1, 0)])
        .x(1, DATA)
        .mem64(DATA, 0x55)
        .ok();
    assert_eq!(f.x(0), 0);
    assert_eq!(f.x(3), 0);
}

// ---- M ---------------------------------------------------------------------------------------

#[test]
fn mul_keeps_low_64_bits() {
    assert_eq!(rr(enc::mul(3, 1, 2), I64_MAX, 3), I64_MAX.wrapping_mul(3));
    assert_eq!(rr(enc::mul(3, 1, 2), NEG1, NEG1), 1);
}

#[test]
fn mulh_signed_high_half() {
    assert_eq!(rr(enc::mulh(3, 1, 2), NEG1, NEG1), 0);
    assert_eq!(rr(enc::mulh(3, 1, 2), NEG1, 1), NEG1);
    assert_eq!(rr(enc::mulh(3, 1, 2), I64_MIN, I64_MIN), 0x4000_0000_0000_0000);
    assert_eq!(rr(enc::mulh(3, 1, 2), I64_MIN, I64_MAX), 0xc000_0000_0000_0000);
}

#[test]
fn mulhsu_signed_times_unsigned_high_half() {
    // -1 * (2^64 - 1) = -2^64 + 1: high half all ones.
    assert_eq!(rr(enc::mulhsu(3, 1, 2), NEG1, NEG1), NEG1);
    // 2 * (2^64 - 1) = 2^65 - 2: high half 1.
    assert_eq!(rr(enc::mulhsu(3, 1, 2), 2, NEG1), 1);
    // rs1 signed, rs2 unsigned: the roles do not swap.
    assert_eq!(rr(enc::mulhsu(3, 1, 2), 1, NEG1), 0);
}

#[test]
fn mulhu_unsigned_high_half() {
    assert_eq!(rr(enc::mulhu(3, 1, 2), NEG1, NEG1), NEG1 - 1);
    assert_eq!(rr(enc::mulhu(3, 1, 2), I64_MIN, 2), 1);
}

#[test]
fn mulw_sign_extends_low_32_bits() {
    assert_eq!(rr(enc::mulw(3, 1, 2), 0x1_0000, 0x8000), 0xffff_ffff_8000_0000);
    assert_eq!(rr(enc::mulw(3, 1, 2), 0xffff_ffff_0000_0003, 5), 15);
}

#[test]
fn div_rem_round_toward_zero() {
    let (a, b) = ((-7i64) as u64, 2);
    assert_eq!(rr(enc::div(3, 1, 2), a, b), (-3i64) as u64);
    assert_eq!(rr(enc::rem(3, 1, 2), a, b), NEG1);
    assert_eq!(rr(enc::divu(3, 1, 2), 7, 2), 3);
    assert_eq!(rr(enc::remu(3, 1, 2), 7, 2), 1);
}

#[test]
fn div_by_zero_gives_all_ones() {
    assert_eq!(rr(enc::div(3, 1, 2), 42, 0), NEG1);
    assert_eq!(rr(enc::divu(3, 1, 2), 42, 0), NEG1);
}

#[test]
fn rem_by_zero_gives_dividend() {
    assert_eq!(rr(enc::rem(3, 1, 2), I64_MIN, 0), I64_MIN);
    assert_eq!(rr(enc::remu(3, 1, 2), NEG1, 0), NEG1);
}

#[test]
fn div_int_min_by_minus_one_overflows_to_int_min() {
    assert_eq!(rr(enc::div(3, 1, 2), I64_MIN, NEG1), I64_MIN);
    assert_eq!(rr(enc::rem(3, 1, 2), I64_MIN, NEG1), 0);
}

#[test]
fn divw_int32_min_by_minus_one_overflows() {
    assert_eq!(rr(enc::divw(3, 1, 2), 0x8000_0000, NEG1), 0xffff_ffff_8000_0000);
    assert_eq!(rr(enc::remw(3, 1, 2), 0x8000_0000, NEG1), 0);
}

#[test]
fn divw_by_zero_gives_all_ones() {
    assert_eq!(rr(enc::divw(3, 1, 2), 5, 0xffff_ffff_0000_0000), NEG1);
    assert_eq!(rr(enc::divuw(3, 1, 2), 5, 0), NEG1);
}

#[test]
fn remw_by_zero_gives_sign_extended_dividend_word() {
    assert_eq!(rr(enc::remw(3, 1, 2), 0x1234_5678_8000_0001, 0), 0xffff_ffff_8000_0001);
    assert_eq!(rr(enc::remuw(3, 1, 2), 0x1234_5678_8000_0001, 0), 0xffff_ffff_8000_0001);
}

#[test]
fn divuw_treats_words_as_unsigned() {
    // 0xffff_fffe / 2 = 0x7fff_ffff; upper operand bits are ignored.
    assert_eq!(rr(enc::divuw(3, 1, 2), 0xaaaa_aaaa_ffff_fffe, 2), 0x7fff_ffff);
    // 0xffff_fffe / 1 sign-extends.
    assert_eq!(rr(enc::divuw(3, 1, 2), 0xffff_fffe, 1), 0xffff_ffff_ffff_fffe);
    assert_eq!(rr(enc::remuw(3, 1, 2), 0xffff_ffff, 0x10), 0xf);
}

#[test]
fn divw_remw_signed_words() {
    assert_eq!(rr(enc::divw(3, 1, 2), 0xffff_fff9, 2), (-3i64) as u64);
    assert_eq!(rr(enc::remw(3, 1, 2), 0xffff_fff9, 2), NEG1);
}

// ---- Zba -------------------------------------------------------------------------------------

#[test]
fn add_uw_zero_extends_rs1_word() {
    assert_eq!(rr(enc::add_uw(3, 1, 2), 0xffff_ffff_8000_0000, 1), 0x8000_0001);
}

#[test]
fn shnadd_shifts_rs1_and_adds_rs2() {
    let (a, b) = (0xffff_ffff_0000_0003, 0x100);
    assert_eq!(rr(enc::sh1add(3, 1, 2), a, b), (a << 1).wrapping_add(b));
    assert_eq!(rr(enc::sh2add(3, 1, 2), a, b), (a << 2).wrapping_add(b));
    assert_eq!(rr(enc::sh3add(3, 1, 2), a, b), (a << 3).wrapping_add(b));
}

#[test]
fn shnadd_uw_zero_extends_rs1_word() {
    let (a, b) = (0xffff_ffff_8000_0001, 0x100);
    let w = 0x8000_0001u64;
    assert_eq!(rr(enc::sh1add_uw(3, 1, 2), a, b), (w << 1) + b);
    assert_eq!(rr(enc::sh2add_uw(3, 1, 2), a, b), (w << 2) + b);
    assert_eq!(rr(enc::sh3add_uw(3, 1, 2), a, b), (w << 3) + b);
}

#[test]
fn slli_uw_zero_extends_then_shifts() {
    assert_eq!(r1(enc::slli_uw(3, 1, 4), 0xffff_ffff_8000_0001), 0x8_0000_0010);
    assert_eq!(r1(enc::slli_uw(3, 1, 0), 0xffff_ffff_8000_0001), 0x8000_0001);
    assert_eq!(r1(enc::slli_uw(3, 1, 63), 0xffff_ffff_0000_0001), I64_MIN);
}

// ---- Zbb -------------------------------------------------------------------------------------

#[test]
fn andn_orn_xnor_invert_rs2() {
    let (a, b) = (0xff00_ff00_1234_5678, 0x0ff0_0ff0_0000_ffff);
    assert_eq!(rr(enc::andn(3, 1, 2), a, b), a & !b);
    assert_eq!(rr(enc::orn(3, 1, 2), a, b), a | !b);
    assert_eq!(rr(enc::xnor(3, 1, 2), a, b), !(a ^ b));
}

#[test]
fn clz_ctz_of_zero_are_64() {
    assert_eq!(r1(enc::clz(3, 1), 0), 64);
    assert_eq!(r1(enc::ctz(3, 1), 0), 64);
}

#[test]
fn clz_ctz_count_from_each_end() {
    assert_eq!(r1(enc::clz(3, 1), 1), 63);
    assert_eq!(r1(enc::clz(3, 1), I64_MIN), 0);
    assert_eq!(r1(enc::ctz(3, 1), I64_MIN), 63);
    assert_eq!(r1(enc::ctz(3, 1), 0x10), 4);
}

#[test]
fn clzw_ctzw_of_zero_word_are_32() {
    assert_eq!(r1(enc::clzw(3, 1), 0xffff_ffff_0000_0000), 32);
    assert_eq!(r1(enc::ctzw(3, 1), 0xffff_ffff_0000_0000), 32);
}

#[test]
fn clzw_ctzw_ignore_upper_bits() {
    assert_eq!(r1(enc::clzw(3, 1), 0xffff_ffff_0000_0001), 31);
    assert_eq!(r1(enc::clzw(3, 1), 0x8000_0000), 0);
    assert_eq!(r1(enc::ctzw(3, 1), 0x0000_0001_8000_0000), 31);
}

#[test]
fn cpop_counts_all_64_bits() {
    assert_eq!(r1(enc::cpop(3, 1), NEG1), 64);
    assert_eq!(r1(enc::cpop(3, 1), 0), 0);
}

#[test]
fn cpopw_ignores_upper_bits() {
    assert_eq!(r1(enc::cpopw(3, 1), 0xffff_ffff_0000_0003), 2);
    assert_eq!(r1(enc::cpopw(3, 1), NEG1), 32);
}

#[test]
fn sext_b_h_sign_extend_low_bits() {
    assert_eq!(r1(enc::sext_b(3, 1), 0x1234_0080), 0xffff_ffff_ffff_ff80);
    assert_eq!(r1(enc::sext_b(3, 1), 0xffff_ff7f), 0x7f);
    assert_eq!(r1(enc::sext_h(3, 1), 0x1234_8000), 0xffff_ffff_ffff_8000);
    assert_eq!(r1(enc::sext_h(3, 1), 0xffff_7fff), 0x7fff);
}

#[test]
fn zext_h_clears_upper_48_bits() {
    assert_eq!(r1(enc::zext_h(3, 1), 0xffff_ffff_ffff_8001), 0x8001);
}

#[test]
fn min_max_signed_vs_unsigned() {
    assert_eq!(rr(enc::min(3, 1, 2), NEG1, 1), NEG1);
    assert_eq!(rr(enc::max(3, 1, 2), NEG1, 1), 1);
    assert_eq!(rr(enc::minu(3, 1, 2), NEG1, 1), 1);
    assert_eq!(rr(enc::maxu(3, 1, 2), NEG1, 1), NEG1);
    assert_eq!(rr(enc::min(3, 1, 2), I64_MIN, I64_MAX), I64_MIN);
    assert_eq!(rr(enc::maxu(3, 1, 2), I64_MIN, I64_MAX), I64_MIN);
}

#[test]
fn rol_ror_amount_masked_to_6_bits() {
    let a = 0x8000_0000_0000_0001;
    assert_eq!(rr(enc::rol(3, 1, 2), a, 0), a);
    assert_eq!(rr(enc::rol(3, 1, 2), a, 1), 3);
    assert_eq!(rr(enc::rol(3, 1, 2), a, 65), 3);
    assert_eq!(rr(enc::ror(3, 1, 2), a, 1), 0xc000_0000_0000_0000);
    assert_eq!(rr(enc::ror(3, 1, 2), a, 63), 3);
    assert_eq!(rr(enc::ror(3, 1, 2), a, 64), a);
}

#[test]
fn rolw_rorw_by_zero_sign_extend_word() {
    assert_eq!(rr(enc::rolw(3, 1, 2), 0x1234_5678_8000_0000, 0), 0xffff_ffff_8000_0000);
    assert_eq!(rr(enc::rorw(3, 1, 2), 0x1234_5678_8000_0000, 32), 0xffff_ffff_8000_0000);
}

#[test]
fn rorw_rotates_within_word() {
    assert_eq!(rr(enc::rorw(3, 1, 2), 0xffff_ffff_0000_0001, 1), 0xffff_ffff_8000_0000);
    assert_eq!(rr(enc::rolw(3, 1, 2), 0x8000_0000, 1), 1);
    assert_eq!(rr(enc::rolw(3, 1, 2), 0x4000_0000, 33), 0xffff_ffff_8000_0000);
}

#[test]
fn rori_roriw_by_zero() {
    let a = 0x1234_5678_9abc_def0;
    assert_eq!(r1(enc::rori(3, 1, 0), a), a);
    assert_eq!(r1(enc::roriw(3, 1, 0), a), 0xffff_ffff_9abc_def0);
}

#[test]
fn rori_roriw_by_nonzero() {
    assert_eq!(r1(enc::rori(3, 1, 63), 0x8000_0000_0000_0001), 3);
    assert_eq!(r1(enc::roriw(3, 1, 31), 0x8000_0001), 3);
    assert_eq!(r1(enc::roriw(3, 1, 4), 0x0000_0000_0000_0001), 0x1000_0000);
}

#[test]
fn rev8_reverses_bytes() {
    assert_eq!(r1(enc::rev8(3, 1), 0x0102_0304_0506_0708), 0x0807_0605_0403_0201);
}

#[test]
fn orc_b_fills_nonzero_bytes() {
    assert_eq!(r1(enc::orc_b(3, 1), 0x0001_0000_ff00_0010), 0x00ff_0000_ff00_00ff);
    assert_eq!(r1(enc::orc_b(3, 1), 0), 0);
}

// ---- Zbs -------------------------------------------------------------------------------------

#[test]
fn bset_bclr_binv_bext_index_masked_to_6_bits() {
    let a = 0x8000_0000_0000_00f0;
    assert_eq!(rr(enc::bset(3, 1, 2), a, 64 + 3), a | 8);
    assert_eq!(rr(enc::bclr(3, 1, 2), a, 64 + 63), 0xf0);
    assert_eq!(rr(enc::binv(3, 1, 2), a, 128 + 4), a ^ 0x10);
    assert_eq!(rr(enc::bext(3, 1, 2), a, 64 + 63), 1);
    assert_eq!(rr(enc::bext(3, 1, 2), a, 3), 0);
}

#[test]
fn bit_immediates_reach_bit_63() {
    assert_eq!(r1(enc::bseti(3, 1, 63), 0), I64_MIN);
    assert_eq!(r1(enc::bclri(3, 1, 63), NEG1), I64_MAX);
    assert_eq!(r1(enc::binvi(3, 1, 0), 1), 0);
    assert_eq!(r1(enc::bexti(3, 1, 63), I64_MIN), 1);
    assert_eq!(r1(enc::bexti(3, 1, 62), I64_MIN), 0);
}

// ---- Zicond ----------------------------------------------------------------------------------

#[test]
fn czero_eqz_zero_condition_gives_zero() {
    assert_eq!(rr(enc::czero_eqz(3, 1, 2), 0x1234, 0), 0);
    assert_eq!(rr(enc::czero_eqz(3, 1, 2), 0x1234, I64_MIN), 0x1234);
}

#[test]
fn czero_nez_nonzero_condition_gives_zero() {
    assert_eq!(rr(enc::czero_nez(3, 1, 2), 0x1234, 1), 0);
    assert_eq!(rr(enc::czero_nez(3, 1, 2), 0x1234, 0), 0x1234);
}

// ---- Zicsr -----------------------------------------------------------------------------------

const MSCRATCH: u32 = 0x340;
const MHARTID: u32 = 0xf14;
const MVENDORID: u32 = 0xf11;
const FFLAGS: u32 = 0x001;
const FRM: u32 = 0x002;
const FCSR: u32 = 0x003;

#[test]
fn csrrw_swaps_register_and_csr() {
    let f = Snippet::of(&[enc::csrrw(0, 1, MSCRATCH), enc::csrrw(3, 2, MSCRATCH), enc::csrrs(4, 0, MSCRATCH)])
        .x(1, 0x1111)
        .x(2, 0x2222)
        .ok();
    assert_eq!(f.x(3), 0x1111);
    assert_eq!(f.x(4), 0x2222);
}

#[test]
fn csrrs_csrrc_set_and_clear_bits_returning_old() {
    let f = Snippet::of(&[
        enc::csrrw(0, 1, MSCRATCH),
        enc::csrrs(3, 2, MSCRATCH),
        enc::csrrc(4, 5, MSCRATCH),
        enc::csrrs(6, 0, MSCRATCH),
    ])
    .x(1, 0xf0)
    .x(2, 0x0f)
    .x(5, 0x81)
    .ok();
    assert_eq!(f.x(3), 0xf0);
    assert_eq!(f.x(4), 0xff);
    assert_eq!(f.x(6), 0x7e);
}

#[test]
fn csr_immediates_use_5_bit_uimm() {
    let f = Snippet::of(&[
        enc::csrrwi(0, 31, MSCRATCH),
        enc::csrrsi(3, 0, MSCRATCH),
        enc::csrrci(4, 3, MSCRATCH),
        enc::csrrsi(5, 0, MSCRATCH),
    ])
    .ok();
    assert_eq!(f.x(3), 31);
    assert_eq!(f.x(4), 31);
    assert_eq!(f.x(5), 28);
}

#[test]
fn csrrs_rs1_x0_on_read_only_csr_does_not_trap() {
    let f = Snippet::of(&[enc::csrrs(3, 0, MHARTID), enc::csrrc(4, 0, MVENDORID), enc::csrrsi(5, 0, MHARTID)])
        .x(3, 99)
        .ok();
    assert_eq!(f.x(3), 0);
    assert_eq!(f.x(4), 0);
}

#[test]
fn csrrw_read_only_csr_traps_illegal() {
    let insn = enc::csrrw(3, 1, MHARTID);
    let t = Snippet::of(&[enc::addi(0, 0, 0), insn]).trap();
    assert_eq!(t, Trap { cause: cause::ILLEGAL, epc: CODE + 4, tval: insn as u64 });
}

#[test]
fn csrrs_nonzero_rs1_holding_zero_on_read_only_csr_traps() {
    // A write is attempted whenever rs1 is not x0, whatever its value.
    let insn = enc::csrrs(3, 1, MHARTID);
    let t = Snippet::of(&[insn]).x(1, 0).trap();
    assert_eq!((t.cause, t.tval), (cause::ILLEGAL, insn as u64));
}

#[test]
fn csrrw_unknown_csr_traps_illegal() {
    let insn = enc::csrrs(3, 0, 0x7ff);
    let t = Snippet::of(&[insn]).trap();
    assert_eq!((t.cause, t.tval), (cause::ILLEGAL, insn as u64));
}

#[test]
fn fcsr_packs_frm_and_fflags() {
    let f = Snippet::of(&[
        enc::csrrw(3, 1, FCSR),
        enc::csrrs(4, 0, FRM),
        enc::csrrs(5, 0, FFLAGS),
        enc::csrrwi(0, 0x15, FFLAGS),
        enc::csrrs(6, 0, FCSR),
    ])
    .x(1, 0x1ff)
    .frm(2)
    .fflags(1)
    .ok();
    assert_eq!(f.x(3), 2 << 5 | 1);
    assert_eq!(f.x(4), 7);
    assert_eq!(f.x(5), 0x1f);
    assert_eq!(f.x(6), 7 << 5 | 0x15);
}

#[test]
fn fflags_csr_with_fs_off_traps_illegal() {
    let insn = enc::csrrs(3, 0, FFLAGS);
    let t = Snippet::of(&[insn]).mstatus_fs(fs::OFF).trap();
    assert_eq!((t.cause, t.tval), (cause::ILLEGAL, insn as u64));
}

// ---- system: ecall, ebreak, illegal ----------------------------------------------------------

#[test]
fn ecall_from_m_mode_cause_11() {
    let t = Snippet::of(&[enc::addi(0, 0, 0), enc::ecall()]).trap();
    assert_eq!(t, Trap { cause: cause::ECALL_M, epc: CODE + 4, tval: 0 });
}

#[test]
fn ebreak_cause_3_tval_pc() {
    let t = Snippet::of(&[enc::addi(0, 0, 0), enc::ebreak()]).trap();
    assert_eq!(t, Trap { cause: cause::BREAKPOINT, epc: CODE + 4, tval: CODE + 4 });
}

#[test]
fn c_ebreak_cause_3_tval_pc() {
    let t = Snippet::new().c(enc16::c_mv(5, 6)).c(enc16::c_ebreak()).trap();
    assert_eq!(t, Trap { cause: cause::BREAKPOINT, epc: CODE + 2, tval: CODE + 2 });
}

#[test]
fn trap_keeps_earlier_results_and_skips_later() {
    let f = Snippet::of(&[enc::addi(5, 0, 1), enc::ecall(), enc::addi(6, 0, 1)]).run();
    assert_eq!(f.trapped().cause, cause::ECALL_M);
    assert_eq!(f.x(5), 1);
    assert_eq!(f.x(6), 0);
}

#[test]
fn illegal_custom_opcode_tval_is_insn_bits() {
    let t = Snippet::of(&[0x1234_500b]).trap();
    assert_eq!(t, Trap { cause: cause::ILLEGAL, epc: CODE, tval: 0x1234_500b });
}

#[test]
fn illegal_slliw_shamt_32_traps() {
    // slliw x1, x0, 32: shamt[5] set is reserved on RV64.
    let t = Snippet::of(&[0x0200_109b]).trap();
    assert_eq!((t.cause, t.tval), (cause::ILLEGAL, 0x0200_109b));
}

#[test]
fn reserved_32bit_encodings_trap_illegal_with_insn_bits() {
    for (what, insn) in [
        ("jalr with funct3 1", 0x0000_90e7u32),
        ("load with funct3 7", 0x0000_7083),
        ("store with funct3 4", 0x0000_4023),
        ("slli with funct6 1", 0x0400_1093),
        ("OP with funct7 3", 0x0600_0033),
        ("SYSTEM with funct3 4", 0x0000_4073),
        ("AMO with funct3 0", 0x0000_002f),
        ("lr.w with rs2 1", 0x1010_a02f),
        ("fadd.h (no Zfh)", 0x0400_0053),
    ] {
        let t = Snippet::of(&[insn]).trap();
        assert_eq!(t, Trap { cause: cause::ILLEGAL, epc: CODE, tval: insn as u64 }, "{what}");
    }
}

#[test]
fn illegal_compressed_tval_is_16_bits() {
    // c.lwsp x0, 0(sp) is reserved.
    let t = Snippet::new().c(enc16::c_li(8, 1)).c(0x4002).trap();
    assert_eq!(t, Trap { cause: cause::ILLEGAL, epc: CODE + 2, tval: 0x4002 });
}

#[test]
fn all_zero_halfword_is_illegal() {
    let t = Snippet::new().c(0x0000).trap();
    assert_eq!((t.cause, t.epc, t.tval), (cause::ILLEGAL, CODE, 0));
}

/// Drop to U-mode at CODE + 12 (mepc = x1, MPP = U), then run `insn` there.
fn in_u_mode(insn: u32) -> Final {
    Snippet::of(&[enc::csrrw(0, 30, 0x341), enc::csrrc(0, 31, 0x300), enc::mret(), insn])
        .x(30, CODE + 12)
        .x(31, 3 << 11)
        .run()
}

#[test]
fn ecall_from_u_mode_cause_8() {
    let f = in_u_mode(enc::ecall());
    assert_eq!(f.trapped(), Trap { cause: 8, epc: CODE + 12, tval: 0 });
    assert_eq!(f.prv, mimic_arch_riscv::Priv::M);
}

#[test]
fn m_mode_csr_from_u_mode_traps_illegal() {
    let insn = enc::csrrs(3, 0, MSCRATCH);
    let t = in_u_mode(insn).trapped();
    assert_eq!(t, Trap { cause: cause::ILLEGAL, epc: CODE + 12, tval: insn as u64 });
}

#[test]
fn mret_from_u_mode_traps_illegal() {
    let t = in_u_mode(enc::mret()).trapped();
    assert_eq!(t, Trap { cause: cause::ILLEGAL, epc: CODE + 12, tval: enc::mret() as u64 });
}

#[test]
fn mret_from_m_mode_jumps_to_mepc() {
    // mepc = CODE + 16 (skipping the addi); MPP = M so mret stays in M-mode.
    let f = Snippet::of(&[enc::csrrw(0, 1, 0x341), enc::csrrs(0, 2, 0x300), enc::mret(), enc::addi(5, 0, 1)])
        .x(1, CODE + 16)
        .x(2, 3 << 11)
        .ok();
    assert_eq!(f.x(5), 0);
    assert_eq!(f.prv, mimic_arch_riscv::Priv::M);
}

// ---- property: integer ops match host arithmetic ---------------------------------------------

type Enc = fn(u32, u32, u32) -> u32;
type Host = fn(u64, u64) -> u64;

fn host_div(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i64, b as i64);
    if b == 0 {
        u64::MAX
    } else if a == i64::MIN && b == -1 {
        a as u64
    } else {
        (a / b) as u64
    }
}

fn host_rem(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i64, b as i64);
    if b == 0 {
        a as u64
    } else if a == i64::MIN && b == -1 {
        0
    } else {
        (a % b) as u64
    }
}

const PROP_OPS: &[(&str, Enc, Host)] = &[
    ("add", enc::add, |a, b| a.wrapping_add(b)),
    ("sub", enc::sub, |a, b| a.wrapping_sub(b)),
    ("sll", enc::sll, |a, b| a << (b % 64)),
    ("srl", enc::srl, |a, b| a >> (b % 64)),
    ("sra", enc::sra, |a, b| ((a as i64) >> (b % 64)) as u64),
    ("slt", enc::slt, |a, b| ((a as i64) < (b as i64)) as u64),
    ("sltu", enc::sltu, |a, b| (a < b) as u64),
    ("addw", enc::addw, |a, b| sx32(a.wrapping_add(b))),
    ("subw", enc::subw, |a, b| sx32(a.wrapping_sub(b))),
    ("sllw", enc::sllw, |a, b| sx32((a as u32 as u64) << (b % 32))),
    ("srlw", enc::srlw, |a, b| sx32((a as u32 as u64) >> (b % 32))),
    ("sraw", enc::sraw, |a, b| ((a as i32) >> (b % 32)) as i64 as u64),
    ("mul", enc::mul, |a, b| a.wrapping_mul(b)),
    ("mulh", enc::mulh, |a, b| ((a as i64 as i128 * b as i64 as i128) >> 64) as u64),
    ("mulhu", enc::mulhu, |a, b| ((a as u128 * b as u128) >> 64) as u64),
    ("mulhsu", enc::mulhsu, |a, b| ((a as i64 as i128 * b as i128) >> 64) as u64),
    ("div", enc::div, host_div),
    ("divu", enc::divu, |a, b| a.checked_div(b).unwrap_or(u64::MAX)),
    ("rem", enc::rem, host_rem),
    ("remu", enc::remu, |a, b| if b == 0 { a } else { a % b }),
    ("divw", enc::divw, |a, b| sx32(host_div(sx32(a), sx32(b)))),
    ("remw", enc::remw, |a, b| sx32(host_rem(sx32(a), sx32(b)))),
    ("divuw", enc::divuw, |a, b| sx32((a as u32).checked_div(b as u32).unwrap_or(u32::MAX) as u64)),
    ("remuw", enc::remuw, |a, b| sx32((a as u32).checked_rem(b as u32).unwrap_or(a as u32) as u64)),
    ("mulw", enc::mulw, |a, b| sx32(a.wrapping_mul(b))),
    ("rol", enc::rol, |a, b| a.rotate_left((b % 64) as u32)),
    ("ror", enc::ror, |a, b| a.rotate_right((b % 64) as u32)),
    ("rolw", enc::rolw, |a, b| sx32((a as u32).rotate_left((b % 32) as u32) as u64)),
    ("rorw", enc::rorw, |a, b| sx32((a as u32).rotate_right((b % 32) as u32) as u64)),
    ("min", enc::min, |a, b| (a as i64).min(b as i64) as u64),
    ("max", enc::max, |a, b| (a as i64).max(b as i64) as u64),
    ("minu", enc::minu, |a, b| a.min(b)),
    ("maxu", enc::maxu, |a, b| a.max(b)),
    ("andn", enc::andn, |a, b| a & !b),
    ("add.uw", enc::add_uw, |a, b| (a as u32 as u64).wrapping_add(b)),
    ("sh3add.uw", enc::sh3add_uw, |a, b| ((a as u32 as u64) << 3).wrapping_add(b)),
    ("bclr", enc::bclr, |a, b| a & !(1 << (b % 64))),
    ("bext", enc::bext, |a, b| (a >> (b % 64)) & 1),
    ("czero.eqz", enc::czero_eqz, |a, b| if b == 0 { 0 } else { a }),
    ("czero.nez", enc::czero_nez, |a, b| if b != 0 { 0 } else { a }),
];

fn edgy_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        Just(0u64),
        Just(1u64),
        Just(NEG1),
        Just(I64_MIN),
        Just(I64_MAX),
        Just(0x8000_0000u64),
        Just(0xffff_ffff_8000_0000u64),
        0u64..70,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]
    #[test]
    fn integer_op_random_operands_match_host(op in 0..PROP_OPS.len(), a in edgy_u64(), b in edgy_u64()) {
        let (name, e, host) = PROP_OPS[op];
        let got = rr(e(3, 1, 2), a, b);
        prop_assert_eq!(got, host(a, b), "{} {:#x}, {:#x}", name, a, b);
    }
}

// ---- the harness itself ----------------------------------------------------------------------

#[test]
#[should_panic(expected = "still running")]
fn harness_infinite_loop_fails_fast() {
    Snippet::of(&[enc::jal(0, 0)]).run();
}

#[test]
#[should_panic(expected = "snippet trapped")]
fn harness_unexpected_trap_fails_ok() {
    Snippet::of(&[enc::ecall()]).ok();
}
