//! A64 data-processing semantics: each snippet runs on every tier (interpreter and JIT) and all
//! must end in the same state, which is then checked against the Arm ARM's definition.
//! Register convention of the helpers: rd = 3, rn = 1, rm = 2.

mod common;

use common::nzcv::{C, N, V, Z};
use common::*;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::Fault;

const X: u32 = 1;
const W: u32 = 0;
const LSL: u32 = 0;
const LSR: u32 = 1;
const ASR: u32 = 2;
const ROR: u32 = 3;

// ---- ADD/SUB and their flags ----------------------------------------------------------------------

#[test]
fn add_imm_shifted_by_12_adds_to_sp() {
    let f = Snippet::of(&[enc::add_imm(X, 31, 31, 0x3, 1), enc::add_imm(X, 4, 31, 8, 0)]).x(31, 0x1000).ok();
    assert_eq!(f.sp(), 0x4000);
    assert_eq!(f.x(4), 0x4008);
}

#[test]
fn adds_x_signed_overflow_sets_n_and_v() {
    assert_eq!(rr_flags(enc::adds_reg(3, 1, 2, LSL, 0), i64::MAX as u64, 1), (1 << 63, N | V));
}

#[test]
fn adds_x_unsigned_wrap_sets_z_and_c() {
    assert_eq!(rr_flags(enc::adds_reg(3, 1, 2, LSL, 0), u64::MAX, 1), (0, Z | C));
}

#[test]
fn adds_w_ignores_upper_halves_and_flags_at_bit_31() {
    assert_eq!(
        rr_flags(enc::adds_reg_w(3, 1, 2, LSL, 0), 0xffff_ffff_7fff_ffff, 0xaaaa_aaaa_0000_0001),
        (0x8000_0000, N | V)
    );
    assert_eq!(rr_flags(enc::adds_reg_w(3, 1, 2, LSL, 0), 0xffff_ffff, 1), (0, Z | C));
}

#[test]
fn subs_x_borrow_clears_c() {
    assert_eq!(rr_flags(enc::subs_reg(3, 1, 2, LSL, 0), 0, 1), (u64::MAX, N));
    assert_eq!(rr_flags(enc::subs_reg(3, 1, 2, LSL, 0), 5, 5), (0, Z | C));
}

#[test]
fn subs_x_min_minus_one_overflows() {
    assert_eq!(rr_flags(enc::subs_reg(3, 1, 2, LSL, 0), 1 << 63, 1), (i64::MAX as u64, C | V));
}

#[test]
fn subs_w_min_minus_one_overflows_at_bit_31() {
    assert_eq!(rr_flags(enc::subs_reg_w(3, 1, 2, LSL, 0), 0x8000_0000, 1), (0x7fff_ffff, C | V));
}

#[test]
fn subs_imm_with_zero_register_destination_is_cmp_and_leaves_sp() {
    let f = Snippet::of(&[enc::subs_imm(X, 31, 1, 5, 0)]).x(1, 5).x(31, 0x1234).ok();
    assert_eq!(f.sp(), 0x1234);
    assert_eq!(f.nzcv, Z | C);
}

#[test]
fn add_reg_rn_31_reads_zero_not_sp() {
    let f = Snippet::of(&[enc::add_reg(3, 31, 2, LSL, 0)]).x(2, 7).x(31, 0x1000).ok();
    assert_eq!(f.x(3), 7);
}

#[test]
fn adc_adds_the_carry_flag() {
    let f = Snippet::of(&[enc::adc(X, 3, 1, 2)]).x(1, 1).x(2, 2).nzcv(C).ok();
    assert_eq!(f.x(3), 4);
    let f = Snippet::of(&[enc::adcs(X, 3, 1, 2)]).x(1, u64::MAX).x(2, 0).nzcv(C).ok();
    assert_eq!((f.x(3), f.nzcv), (0, Z | C));
}

#[test]
fn adcs_x_carry_in_completes_wrap() {
    // MAX + MAX + 1 = 2^65 - 1: result MAX, carry out.
    let f = Snippet::of(&[enc::adcs(X, 3, 1, 2)]).x(1, u64::MAX).x(2, u64::MAX).nzcv(C).ok();
    assert_eq!((f.x(3), f.nzcv), (u64::MAX, N | C));
}

#[test]
fn sbc_without_carry_subtracts_one_more() {
    let f = Snippet::of(&[enc::sbc(X, 3, 1, 2)]).x(1, 10).x(2, 3).ok();
    assert_eq!(f.x(3), 6);
    let f = Snippet::of(&[enc::sbcs(W, 3, 1, 2)]).x(1, 0).x(2, 0).ok();
    assert_eq!((f.x(3), f.nzcv), (0xffff_ffff, N));
}

#[test]
fn shifted_operands_by_0_and_63() {
    assert_eq!(rr(enc::add_reg(3, 1, 2, LSL, 63), 1, 3), 1 | 1 << 63);
    assert_eq!(rr(enc::add_reg(3, 1, 2, LSR, 63), 1, 1 << 63), 2);
    assert_eq!(rr(enc::add_reg(3, 1, 2, ASR, 63), 0, 1 << 63), u64::MAX);
    assert_eq!(rr(enc::add_reg(3, 1, 2, LSR, 0), 1, 0x10), 0x11);
}

#[test]
fn shifted_w_operands_stay_in_32_bits() {
    assert_eq!(rr(enc::sub_reg_w(3, 1, 2, ASR, 31), 0, 0x8000_0000), 1);
    assert_eq!(rr(enc::add_reg_w(3, 1, 2, LSL, 31), 0, 3), 0x8000_0000);
    // The shifted-out bit must not reach the flags: 0 + (2 << 31) is 0 in 32 bits.
    assert_eq!(rr_flags(enc::adds_reg_w(3, 1, 2, LSL, 31), 0, 2), (0, Z));
}

#[test]
fn logical_shifted_ror() {
    assert_eq!(rr(enc::orr_reg(3, 31, 2, ROR, 8), 0, 0xff), 0xff00_0000_0000_0000);
    assert_eq!(rr(enc::orr_reg_w(3, 31, 2, ROR, 4), 0, 0xf), 0xf000_0000);
}

#[test]
fn extended_register_from_sp_with_sxtw_and_shift() {
    // add x3, sp, w2, sxtw #2
    let f = Snippet::of(&[enc::add_ext(X, 3, 31, 2, 6, 2)]).x(31, 0x1000).x(2, 0xffff_ffff_ffff_fffc).ok();
    assert_eq!(f.x(3), 0x1000 - 16);
}

#[test]
fn extended_register_uxtb_and_sxth() {
    assert_eq!(rr(enc::sub_ext(X, 3, 1, 2, 0, 0), 0x1000, 0x1ff), 0x1000 - 0xff);
    assert_eq!(rr(enc::add_ext(X, 3, 1, 2, 5, 4), 0, 0x8000), (-0x8000i64 << 4) as u64);
    // Non-S forms may write SP.
    let f = Snippet::of(&[enc::add_ext(X, 31, 1, 2, 3, 0)]).x(1, 0x100).x(2, 0x20).ok();
    assert_eq!(f.sp(), 0x120);
}

#[test]
fn subs_ext_w_compares_bytes() {
    // cmp w1, w2, uxtb
    let f = Snippet::of(&[enc::subs_ext(W, 31, 1, 2, 0, 0)]).x(1, 0x41).x(2, 0xff41).ok();
    assert_eq!(f.nzcv, Z | C);
}

// ---- logical immediates ---------------------------------------------------------------------------

#[test]
fn logical_immediates_of_every_element_size() {
    // orr x3, xzr, #imm for element sizes 2, 4, 8, 16, 32, 64.
    let cases = [
        (0, 0, 0b111100, 0x5555_5555_5555_5555u64),
        (0, 1, 0b111001, 0x9999_9999_9999_9999),
        (0, 0, 0b110010, 0x0707_0707_0707_0707),
        (0, 4, 0b100111, 0xf00f_f00f_f00f_f00f),
        (0, 16, 0b001111, 0xffff_0000_ffff_0000),
        (1, 32, 0b011111, 0xffff_ffff_0000_0000),
        (1, 1, 0b111110, 0xbfff_ffff_ffff_ffff),
    ];
    for (n, immr, imms, want) in cases {
        let f = Snippet::of(&[enc::orr_imm(3, 31, n, immr, imms)]).ok();
        assert_eq!(f.x(3), want, "N={n} immr={immr} imms={imms:#08b}");
    }
}

#[test]
fn logical_immediate_w_replicates_in_32_bits() {
    let f = Snippet::of(&[enc::orr_imm_w(3, 31, 0, 0b110000), enc::eor_imm_w(4, 1, 0, 0b000111)]).x(1, u64::MAX).ok();
    assert_eq!(f.x(3), 0x0101_0101);
    assert_eq!(f.x(4), 0xffff_ff00);
}

#[test]
fn and_imm_may_write_sp_but_ands_writes_xzr() {
    let f = Snippet::of(&[enc::and_imm(31, 1, 1, 60, 59)]).x(1, 0xffff).ok();
    assert_eq!(f.sp(), 0xfff0); // and sp, x1, #~0xf
    let f = Snippet::of(&[enc::ands_imm(31, 1, 1, 0, 0)]).x(1, 0x2).x(31, 0x55).ok();
    assert_eq!((f.sp(), f.nzcv), (0x55, Z)); // tst x1, #1
}

#[test]
fn ands_sets_n_and_clears_c_v() {
    let f = Snippet::of(&[enc::ands_imm(3, 1, 1, 1, 0)]).x(1, 1 << 63).nzcv(C | V).ok();
    assert_eq!((f.x(3), f.nzcv), (1 << 63, N));
}

#[test]
fn reserved_logical_immediate_is_undefined() {
    let word = enc::orr_imm(3, 31, 1, 0, 0b111111);
    let f = Snippet::of(&[enc::movz(4, 1, 0), word]).run();
    assert_eq!(f.taken, Some((Fault::Undefined { raw: word }, CODE + 4)));
    assert_eq!(f.x(4), 1, "the instruction before still completed");
    assert_eq!(f.x(3), 0);
}

// ---- moves, ADR -----------------------------------------------------------------------------------

#[test]
fn move_wide_family() {
    let f = Snippet::of(&[
        enc::movz(3, 0x1234, 3),
        enc::movn(4, 0, 0),
        enc::movn_w(5, 0, 0),
        enc::movk(6, 0xabcd, 2),
        enc::movk_w(7, 0x1234, 0),
        enc::movn(8, 0x1234, 1),
    ])
    .x(6, 0x1111_2222_3333_4444)
    .x(7, u64::MAX)
    .ok();
    assert_eq!(f.x(3), 0x1234 << 48);
    assert_eq!(f.x(4), u64::MAX);
    assert_eq!(f.x(5), 0xffff_ffff);
    assert_eq!(f.x(6), 0x1111_abcd_3333_4444);
    assert_eq!(f.x(7), 0xffff_1234);
    assert_eq!(f.x(8), !0x1234_0000u64);
}

#[test]
fn adr_and_adrp_are_pc_relative() {
    let f = Snippet::of(&[enc::hint(0), enc::adr(3, -8), enc::adrp(4, 0x3000), enc::adrp(5, -0x1000)]).ok();
    assert_eq!(f.x(3), CODE + 4 - 8);
    assert_eq!(f.x(4), CODE + 0x3000);
    assert_eq!(f.x(5), CODE - 0x1000);
}

// ---- bitfields, EXTR ------------------------------------------------------------------------------

#[test]
fn bitfield_aliases_shift_and_extend() {
    assert_eq!(r1(enc::ubfm(3, 1, 60, 59), 0xf), 0xf0); // lsl #4
    assert_eq!(r1(enc::ubfm(3, 1, 63, 63), 1 << 63), 1); // lsr #63
    assert_eq!(r1(enc::sbfm(3, 1, 63, 63), 1 << 63), u64::MAX); // asr #63
    assert_eq!(r1(enc::sbfm(3, 1, 0, 31), 0x8000_0000), 0xffff_ffff_8000_0000); // sxtw
    assert_eq!(r1(enc::ubfm_w(3, 1, 0, 7), 0xffff_ff80), 0x80); // uxtb
    assert_eq!(r1(enc::sbfm_w(3, 1, 0, 7), 0x80), 0xffff_ff80); // sxtb w
    assert_eq!(r1(enc::ubfm_w(3, 1, 1, 0), 3), 0x8000_0000); // lsl w, #31
    assert_eq!(r1(enc::ubfm(3, 1, 0, 63), 0x1234), 0x1234); // all-ones element: a move
}

#[test]
fn bitfield_extract_and_insert() {
    assert_eq!(r1(enc::sbfm_w(3, 1, 4, 11), 0x0f80), 0xffff_fff8); // sbfx w3, w1, #4, #8
    assert_eq!(r1(enc::ubfm(3, 1, 4, 11), 0xab0), 0xab); // ubfx
                                                         // bfi x3, x1, #8, #4 keeps the other bits of x3.
    let f = Snippet::of(&[enc::bfm(3, 1, 56, 3)]).x(1, 0x5).x(3, u64::MAX).ok();
    assert_eq!(f.x(3), 0xffff_ffff_ffff_f5ff);
    // bfxil x3, x1, #4, #8
    let f = Snippet::of(&[enc::bfm(3, 1, 4, 11)]).x(1, 0xab0).x(3, 0xffff_0000).ok();
    assert_eq!(f.x(3), 0xffff_00ab);
    // A W BFM clears the upper half of the destination.
    let f = Snippet::of(&[enc::bfm_w(3, 1, 0, 3)]).x(1, 0x5).x(3, u64::MAX).ok();
    assert_eq!(f.x(3), 0xffff_fff5);
}

#[test]
fn extr_concatenates() {
    let f = Snippet::of(&[enc::extr(3, 1, 2, 8), enc::extr(4, 2, 2, 0), enc::extr_w(5, 6, 7, 4)])
        .x(1, 0x11)
        .x(2, 0xaabb_ccdd_eeff_0011)
        .x(6, 0xffff_ffff_0000_0001)
        .x(7, 0x0234_5678)
        .ok();
    assert_eq!(f.x(3), 0x11aa_bbcc_ddee_ff00);
    assert_eq!(f.x(4), 0xaabb_ccdd_eeff_0011);
    assert_eq!(f.x(5), 0x1023_4567);
}

#[test]
fn ror_immediate_is_extr_of_one_register_with_itself() {
    let f = Snippet::of(&[enc::extr(3, 1, 1, 8), enc::extr_w(4, 2, 2, 11), enc::extr_w(5, 2, 2, 31)])
        .x(1, 0x1122_3344_5566_7788)
        .x(2, 0xdead_beef_8000_0401)
        .ok();
    assert_eq!(f.x(3), 0x8811_2233_4455_6677);
    assert_eq!(f.x(4), 0x8030_0000);
    assert_eq!(f.x(5), 0x0000_0803);
}

// ---- conditional select and compare --------------------------------------------------------------

/// ConditionHolds from the Arm ARM's condition table, written independently of sem.rs.
fn holds(cond: u32, nzcv: u32) -> bool {
    let (n, z, c, v) = (nzcv & N != 0, nzcv & Z != 0, nzcv & C != 0, nzcv & V != 0);
    match cond {
        cond::EQ => z,
        cond::NE => !z,
        cond::CS => c,
        cond::CC => !c,
        cond::MI => n,
        cond::PL => !n,
        cond::VS => v,
        cond::VC => !v,
        cond::HI => c && !z,
        cond::LS => !c || z,
        cond::GE => n == v,
        cond::LT => n != v,
        cond::GT => !z && n == v,
        cond::LE => z || n != v,
        _ => true,
    }
}

#[test]
fn every_condition_under_every_flag_combination() {
    for flags in 0..16 {
        // csinc x<c>, xzr, xzr, <c>: 0 when the condition holds, else 1.
        let code: Vec<u32> = (0..16).map(|c| enc::csinc(X, c, 31, 31, c)).collect();
        let f = Snippet::of(&code).nzcv(flags).ok();
        for c in 0..16 {
            assert_eq!(f.x(c as usize) == 0, holds(c, flags), "cond {c} with NZCV {flags:04b}");
        }
        assert_eq!(f.nzcv, flags, "csinc leaves the flags alone");
    }
}

#[test]
fn csel_family_on_w_and_x() {
    let s = |insn, flags| Snippet::of(&[insn]).x(1, 10).x(2, 5).nzcv(flags).ok().x(3);
    assert_eq!(s(enc::csel(X, 3, 1, 2, cond::EQ), Z), 10);
    assert_eq!(s(enc::csel(X, 3, 1, 2, cond::EQ), 0), 5);
    assert_eq!(s(enc::csinc(X, 3, 1, 2, cond::NE), Z), 6);
    assert_eq!(s(enc::csinv(X, 3, 1, 2, cond::NE), Z), !5);
    assert_eq!(s(enc::csinv(W, 3, 1, 2, cond::NE), Z), 0xffff_fffa);
    assert_eq!(s(enc::csneg(W, 3, 1, 2, cond::NE), Z), 0xffff_fffb);
    assert_eq!(s(enc::csneg(X, 3, 1, 2, cond::AL), 0), 10);
}

#[test]
fn ccmp_compares_when_condition_holds_else_sets_nzcv() {
    let s = |insn, flags| Snippet::of(&[insn]).x(1, 5).x(2, 7).nzcv(flags).ok().nzcv;
    assert_eq!(s(enc::ccmp_imm(X, 1, 5, cond::EQ, 0b0010), Z), Z | C);
    assert_eq!(s(enc::ccmp_imm(X, 1, 5, cond::EQ, 0b1001), 0), N | V);
    assert_eq!(s(enc::ccmp_reg(X, 1, 2, cond::AL, 0), 0), N); // 5 - 7
    assert_eq!(s(enc::ccmn_reg(W, 1, 2, cond::NE, 0b0100), 0), 0); // 5 + 7
    assert_eq!(s(enc::ccmn_imm(X, 1, 0x1b, cond::NE, 0b0100), Z), Z);
}

// ---- shifts, division, multiplication -------------------------------------------------------------

#[test]
fn variable_shifts_take_the_amount_modulo_the_width() {
    assert_eq!(rr(enc::lslv(X, 3, 1, 2), 0x1234, 64), 0x1234);
    assert_eq!(rr(enc::lslv(X, 3, 1, 2), 1, 63), 1 << 63);
    assert_eq!(rr(enc::lsrv(X, 3, 1, 2), u64::MAX, 127), 1);
    assert_eq!(rr(enc::lslv(W, 3, 1, 2), 0x1234, 32), 0x1234);
    assert_eq!(rr(enc::lslv(W, 3, 1, 2), 3, 31), 0x8000_0000);
    assert_eq!(rr(enc::lsrv(W, 3, 1, 2), 0xffff_ffff_8000_0000, 31), 1);
    assert_eq!(rr(enc::asrv(W, 3, 1, 2), 0x8000_0000, 4), 0xf800_0000);
    assert_eq!(rr(enc::asrv(X, 3, 1, 2), 1 << 63, 63), u64::MAX);
    assert_eq!(rr(enc::rorv(W, 3, 1, 2), 0xf, 4), 0xf000_0000);
    assert_eq!(rr(enc::rorv(W, 3, 1, 2), 0x1234_5678, 0), 0x1234_5678);
    assert_eq!(rr(enc::rorv(X, 3, 1, 2), 0xf, 68), 0xf000_0000_0000_0000);
}

#[test]
fn division_by_zero_gives_zero() {
    assert_eq!(rr(enc::udiv(X, 3, 1, 2), 7, 0), 0);
    assert_eq!(rr(enc::sdiv(X, 3, 1, 2), 7, 0), 0);
    assert_eq!(rr(enc::udiv(W, 3, 1, 2), 7, 0x1_0000_0000), 0);
    assert_eq!(rr(enc::sdiv(W, 3, 1, 2), 7, 0xffff_ffff_0000_0000), 0);
}

#[test]
fn signed_division_of_min_by_minus_one_wraps() {
    assert_eq!(rr(enc::sdiv(X, 3, 1, 2), 1 << 63, u64::MAX), 1 << 63);
    assert_eq!(rr(enc::sdiv(W, 3, 1, 2), 0x8000_0000, 0xffff_ffff), 0x8000_0000);
}

#[test]
fn division_truncates_toward_zero() {
    assert_eq!(rr(enc::sdiv(X, 3, 1, 2), -7i64 as u64, 2), -3i64 as u64);
    assert_eq!(rr(enc::sdiv(W, 3, 1, 2), 0xffff_fff9, 2), 0xffff_fffd);
    assert_eq!(rr(enc::udiv(W, 3, 1, 2), 0xffff_ffff_ffff_fff9, 2), 0x7fff_fffc);
    assert_eq!(rr(enc::udiv(X, 3, 1, 2), u64::MAX, 2), u64::MAX / 2);
}

#[test]
fn multiply_add_family() {
    let f = Snippet::of(&[
        enc::madd(X, 3, 1, 2, 4),
        enc::msub(W, 5, 6, 7, 4),
        enc::smaddl(8, 9, 7, 4),
        enc::umaddl(10, 11, 11, 31),
        enc::smsubl(12, 9, 7, 4),
        enc::umsubl(13, 11, 11, 31),
    ])
    .x(1, 3)
    .x(2, u64::MAX)
    .x(4, 10)
    .x(6, 3)
    .x(7, 4)
    .x(9, 0x0000_0001_ffff_fffe)
    .x(11, 0xffff_ffff)
    .ok();
    assert_eq!(f.x(3), 7); // 10 + 3 * -1
    assert_eq!(f.x(5), 0xffff_fffe); // 10 - 12, in 32 bits
    assert_eq!(f.x(8), 2); // 10 + -2 * 4
    assert_eq!(f.x(10), 0xffff_fffe_0000_0001);
    assert_eq!(f.x(12), 18); // 10 - -2 * 4
    assert_eq!(f.x(13), 0u64.wrapping_sub(0xffff_fffe_0000_0001));
}

#[test]
fn multiply_high() {
    assert_eq!(rr(enc::smulh(3, 1, 2), u64::MAX, u64::MAX), 0);
    assert_eq!(rr(enc::smulh(3, 1, 2), 1 << 63, 2), u64::MAX);
    assert_eq!(rr(enc::umulh(3, 1, 2), u64::MAX, u64::MAX), u64::MAX - 1);
    assert_eq!(rr(enc::umulh(3, 1, 2), 1 << 63, 2), 1);
}

// ---- one-source ----------------------------------------------------------------------------------

#[test]
fn count_leading_zeros_and_sign_bits() {
    assert_eq!(r1(enc::clz(X, 3, 1), 0), 64);
    assert_eq!(r1(enc::clz(X, 3, 1), 1 << 63), 0);
    assert_eq!(r1(enc::clz(W, 3, 1), 0xffff_ffff_0000_0000), 32);
    assert_eq!(r1(enc::clz(W, 3, 1), 1), 31);
    assert_eq!(r1(enc::cls(X, 3, 1), 0), 63);
    assert_eq!(r1(enc::cls(X, 3, 1), u64::MAX), 63);
    assert_eq!(r1(enc::cls(X, 3, 1), 0x00ff_ffff_ffff_ffff), 7);
    assert_eq!(r1(enc::cls(X, 3, 1), 0x4000_0000_0000_0000), 0);
    assert_eq!(r1(enc::cls(W, 3, 1), 0xffff_ffff_0000_0001), 30);
    assert_eq!(r1(enc::cls(W, 3, 1), 0xffff_ffff), 31);
    assert_eq!(r1(enc::cls(W, 3, 1), 0), 31);
}

#[test]
fn bit_and_byte_reversal() {
    assert_eq!(r1(enc::rbit(X, 3, 1), 1), 1 << 63);
    assert_eq!(r1(enc::rbit(X, 3, 1), 0x0123_4567_89ab_cdef), 0xf7b3_d591_e6a2_c480);
    assert_eq!(r1(enc::rbit(W, 3, 1), 0xffff_ffff_0000_0001), 0x8000_0000);
    assert_eq!(r1(enc::rev(3, 1), 0x0102_0304_0506_0708), 0x0807_0605_0403_0201);
    assert_eq!(r1(enc::rev_w(3, 1), 0x1111_1111_0102_0304), 0x0403_0201);
    assert_eq!(r1(enc::rev16(X, 3, 1), 0x0102_0304_0506_0708), 0x0201_0403_0605_0807);
    assert_eq!(r1(enc::rev16(W, 3, 1), 0x0102_0304_0506_0708), 0x0605_0807);
    assert_eq!(r1(enc::rev32(3, 1), 0x0102_0304_0506_0708), 0x0403_0201_0807_0605);
}

// ---- CRC32 ----------------------------------------------------------------------------------------

/// The standard check values: CRC-32 and CRC-32C of "123456789" are 0xcbf43926 and 0xe3069283
/// (initial value all ones, result inverted, as software wraps the instructions).
#[test]
fn crc32_and_crc32c_give_the_standard_check_values() {
    for (c, check) in [(0, 0xcbf4_3926u64), (1, 0xe306_9283)] {
        // x2 = "12345678", x4 = "9"; fold them in with the X form and the B form.
        let f = Snippet::of(&[
            enc::movn_w(3, 0, 0),
            enc::crc32x(c, 3, 3, 2),
            enc::crc32(0, c, 3, 3, 4),
            enc::orn_reg_w(3, 31, 3, 0, 0),
        ])
        .x(2, u64::from_le_bytes(*b"12345678"))
        .x(4, u64::from(b'9'))
        .ok();
        assert_eq!(f.x(3), check, "c={c}");
    }
}

#[test]
fn crc32_byte_half_and_word_forms_agree_with_bytewise() {
    // "1234" as one word, as two halves, and as four bytes.
    let word = u64::from(u32::from_le_bytes(*b"1234"));
    let s = |code: &[u32]| {
        Snippet::of(code)
            .x(1, 0xffff_ffff_1234_5678)
            .x(2, word)
            .x(5, word >> 16)
            .x(6, 0x31)
            .x(7, 0x32)
            .x(8, 0x33)
            .x(9, 0x34)
            .ok()
            .x(3)
    };
    let by_word = s(&[enc::crc32(2, 0, 3, 1, 2)]);
    let by_half = s(&[enc::crc32(1, 0, 3, 1, 2), enc::crc32(1, 0, 3, 3, 5)]);
    let by_byte = s(&[
        enc::crc32(0, 0, 3, 1, 6),
        enc::crc32(0, 0, 3, 3, 7),
        enc::crc32(0, 0, 3, 3, 8),
        enc::crc32(0, 0, 3, 3, 9),
    ]);
    assert_eq!(by_word, by_half);
    assert_eq!(by_word, by_byte);
    assert_ne!(by_word, 0x1234_5678);
    assert_eq!(by_word >> 32, 0);
}

// ---- the undefined path, hints --------------------------------------------------------------------

#[test]
fn unallocated_word_raises_undefined_at_its_pc() {
    let f = Snippet::of(&[enc::movz(4, 7, 0), 0x0000_0000, enc::movz(5, 7, 0)]).run();
    assert_eq!(f.taken, Some((Fault::Undefined { raw: 0 }, CODE + 4)));
    assert_eq!((f.sys.elr, f.ec()), (CODE + 4, 0));
    assert_eq!((f.x(4), f.x(5)), (7, 0));
}

#[test]
fn exception_generating_instructions_record_their_immediate() {
    // Without EL2/EL3 and with no firmware conduit, HVC and SMC are UNDEFINED.
    let cases = [
        (enc::svc(0x1234), Fault::Svc { imm: 0x1234 }, 0x15, 0x1234, CODE + 8),
        (enc::hvc(0), Fault::Undefined { raw: enc::hvc(0) }, 0, 0, CODE + 4),
        (enc::smc(0xffff), Fault::Undefined { raw: enc::smc(0xffff) }, 0, 0, CODE + 4),
        (enc::brk(0x3e8), Fault::Breakpoint { imm: 0x3e8 }, 0x3c, 0x3e8, CODE + 4),
    ];
    for (insn, fault, ec, iss, ret) in cases {
        let f = Snippet::of(&[enc::movz(4, 1, 0), insn, enc::movz(5, 1, 0)]).run();
        assert_eq!(f.taken, Some((fault, CODE + 4)));
        assert_eq!((f.x(4), f.x(5)), (1, 0));
        assert_eq!(fault.ec(false), ec);
        assert_eq!(f.sys.esr, u64::from(ec) << 26 | 1 << 25 | iss);
        assert_eq!(fault.return_address(CODE + 4), ret);
        assert_eq!(f.sys.elr, ret);
    }
}

#[test]
fn hints_of_absent_features_are_nops() {
    // nop, paciasp, bti c: no effect on registers or flags.
    let f = Snippet::of(&[enc::hint(0), enc::hint(0x19), enc::hint(0x22)]).x(30, 0x1234).nzcv(N).ok();
    assert_eq!((f.x(30), f.nzcv), (0x1234, N));
}
