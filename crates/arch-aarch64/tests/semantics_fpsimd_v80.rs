//! The Armv8.0 FP/SIMD instructions added after the rest (half precision conversions, the
//! estimates and steps, FCVTL/FCVTN/FCVTXN, SHLL, the scalar long multiplies): each snippet
//! runs on every tier, and the common final state is checked against values worked out from
//! the Arm ARM pseudocode (FPRecipEstimate, FPRSqrtEstimate, FPConvert, ...).

mod common;

use common::*;

const FPCR_DN: u64 = 1 << 25;
const FPCR_FZ: u64 = 1 << 24;
const FPCR_AHP: u64 = 1 << 26;
const RP: u64 = 1 << 22;
const RZ: u64 = 3 << 22;

const IOC: u64 = 1;
const DZC: u64 = 2;
const OFC: u64 = 4;
const UFC: u64 = 8;
const IXC: u64 = 16;
const IDC: u64 = 128;
const QC: u64 = 1 << 27;

const ONE_S: u64 = 0x3f80_0000;
const ONE_D: u64 = 0x3ff0_0000_0000_0000;
const INF_S: u64 = 0x7f80_0000;

// Instruction words (rd 3, rn 1, rm 2), from aarch64-linux-gnu-as.
const FRECPE_S: u32 = 0x5ea1_d823; // frecpe s3, s1
const FRECPE_D: u32 = 0x5ee1_d823; // frecpe d3, d1
const FRECPE_4S: u32 = 0x4ea1_d823; // frecpe v3.4s, v1.4s
const FRSQRTE_S: u32 = 0x7ea1_d823; // frsqrte s3, s1
const FRECPX_S: u32 = 0x5ea1_f823; // frecpx s3, s1
const FRECPS_S: u32 = 0x5e22_fc23; // frecps s3, s1, s2
const FRECPS_2D: u32 = 0x4e62_fc23; // frecps v3.2d, v1.2d, v2.2d
const FRSQRTS_S: u32 = 0x5ea2_fc23; // frsqrts s3, s1, s2
const FRSQRTS_D: u32 = 0x5ee2_fc23; // frsqrts d3, d1, d2
const URECPE_4S: u32 = 0x4ea1_c823; // urecpe v3.4s, v1.4s
const URSQRTE_2S: u32 = 0x2ea1_c823; // ursqrte v3.2s, v1.2s
const FCVT_S_H: u32 = 0x1ee2_4023; // fcvt s3, h1
const FCVT_D_H: u32 = 0x1ee2_c023; // fcvt d3, h1
const FCVT_H_S: u32 = 0x1e23_c023; // fcvt h3, s1
const FCVT_H_D: u32 = 0x1e63_c023; // fcvt h3, d1
const FCVTL_4S: u32 = 0x0e21_7823; // fcvtl v3.4s, v1.4h
const FCVTL2_4S: u32 = 0x4e21_7823; // fcvtl2 v3.4s, v1.8h
const FCVTL_2D: u32 = 0x0e61_7823; // fcvtl v3.2d, v1.2s
const FCVTN_4H: u32 = 0x0e21_6823; // fcvtn v3.4h, v1.4s
const FCVTN2_8H: u32 = 0x4e21_6823; // fcvtn2 v3.8h, v1.4s
const FCVTXN_S: u32 = 0x7e61_6823; // fcvtxn s3, d1
const FCVTXN2_4S: u32 = 0x6e61_6823; // fcvtxn2 v3.4s, v1.2d
const SHLL_8H: u32 = 0x2e21_3823; // shll v3.8h, v1.8b, #8
const SHLL2_4S: u32 = 0x6e61_3823; // shll2 v3.4s, v1.8h, #16
const SHLL_2D: u32 = 0x2ea1_3823; // shll v3.2d, v1.2s, #32
const SQDMULL_S_H: u32 = 0x5e62_d023; // sqdmull s3, h1, h2
const SQDMLAL_D_S: u32 = 0x5ea2_9023; // sqdmlal d3, s1, s2
const SQDMLSL_D_S: u32 = 0x5ea2_b023; // sqdmlsl d3, s1, s2
const SQDMULL_S_HELEM: u32 = 0x5f72_b023; // sqdmull s3, h1, v2.h[3]
const SQDMLAL_D_SELEM: u32 = 0x5fa2_3023; // sqdmlal d3, s1, v2.s[1]

/// Run `insn` with V1 = a, V2 = b and V3 all ones under `fpcr`: (V3, FPSR).
fn run(insn: u32, a: u128, b: u128, fpcr: u64) -> (u128, u64) {
    let f = Snippet::of(&[insn]).v(1, a).v(2, b).v(3, u128::MAX).fpcr(fpcr).ok();
    (f.v(3), f.fpsr)
}

fn one(insn: u32, a: u64, fpcr: u64) -> (u128, u64) {
    run(insn, u128::from(a), 0, fpcr)
}

fn two(insn: u32, a: u64, b: u64, fpcr: u64) -> (u128, u64) {
    run(insn, u128::from(a), u128::from(b), fpcr)
}

// ---- reciprocal estimates ------------------------------------------------------------------------

#[test]
fn frecpe_of_one_is_the_top_of_the_table() {
    // scaled 256 → RecipEstimate 511: 0.998046875.
    assert_eq!(one(FRECPE_S, ONE_S, 0), (0x3f7f_8000, 0));
    assert_eq!(one(FRECPE_D, ONE_D, 0), (0x3fef_f000_0000_0000, 0));
}

#[test]
fn frecpe_of_a_large_denormal_scales_its_fraction() {
    // 2^-127: the result exponent is 253, the estimate of 1.0 again.
    assert_eq!(one(FRECPE_S, 0x0040_0000, 0), (0x7eff_8000, 0));
}

#[test]
fn frecpe_of_a_tiny_denormal_overflows_by_rounding_mode() {
    assert_eq!(one(FRECPE_S, 1, 0), (u128::from(INF_S), OFC | IXC));
    assert_eq!(one(FRECPE_S, 1, RZ), (0x7f7f_ffff, OFC | IXC));
    assert_eq!(one(FRECPE_S, 0x8000_0001, RP), (0xff7f_ffff, OFC | IXC));
}

#[test]
fn frecpe_of_a_huge_value_is_denormal_or_flushed() {
    // 2^127: result exponent −1, the fraction shifted in with its leading one.
    assert_eq!(one(FRECPE_S, 0x7f00_0000, 0), (0x003f_e000, 0));
    assert_eq!(one(FRECPE_S, 0x7f00_0000, FPCR_FZ), (0, UFC));
}

#[test]
fn frecpe_of_infinity_zero_and_nan() {
    assert_eq!(one(FRECPE_S, INF_S, 0), (0, 0));
    assert_eq!(one(FRECPE_S, 0x8000_0000, 0), (0xff80_0000, DZC));
    assert_eq!(one(FRECPE_S, 0x7f80_0001, 0), (0x7fc0_0001, IOC));
    assert_eq!(one(FRECPE_S, 0x7f80_0001, FPCR_DN), (0x7fc0_0000, IOC));
}

#[test]
fn frecpe_flushes_a_denormal_input_to_a_zero_with_fz() {
    assert_eq!(one(FRECPE_S, 0x0040_0000, FPCR_FZ), (u128::from(INF_S), IDC | DZC));
}

#[test]
fn frecpe_vector_works_lane_by_lane() {
    let a = u128::from(ONE_S) | u128::from(INF_S) << 32 | 0x4000_0000u128 << 64 | u128::from(ONE_S) << 96;
    let (r, fsr) = run(FRECPE_4S, a, 0, 0);
    assert_eq!(r, 0x3f7f_8000 | 0x3eff_8000u128 << 64 | 0x3f7f_8000u128 << 96);
    assert_eq!(fsr, 0);
}

#[test]
fn frsqrte_of_one_two_and_four() {
    assert_eq!(one(FRSQRTE_S, ONE_S, 0), (0x3f7f_8000, 0));
    // 1/sqrt(2): RecipSqrtEstimate(256) = 361.
    assert_eq!(one(FRSQRTE_S, 0x4000_0000, 0), (0x3f34_8000, 0));
    assert_eq!(one(FRSQRTE_S, 0x4080_0000, 0), (0x3eff_8000, 0));
}

#[test]
fn frsqrte_of_negative_zero_and_infinity() {
    assert_eq!(one(FRSQRTE_S, 0xbf80_0000, 0), (0x7fc0_0000, IOC));
    assert_eq!(one(FRSQRTE_S, 0x8000_0000, 0), (0xff80_0000, DZC));
    assert_eq!(one(FRSQRTE_S, INF_S, 0), (0, 0));
}

#[test]
fn frecpx_inverts_the_exponent_and_clears_the_fraction() {
    assert_eq!(one(FRECPX_S, 0x3fc0_0000, 0), (0x4000_0000, 0));
    assert_eq!(one(FRECPX_S, 0, 0), (0x7f00_0000, 0));
    assert_eq!(one(FRECPX_S, 0x8000_0001, 0), (0xff00_0000, 0));
    assert_eq!(one(FRECPX_S, 0x8000_0001, FPCR_FZ), (0xff00_0000, IDC));
    assert_eq!(one(FRECPX_S, 0x7fc0_0001, 0), (0x7fc0_0001, 0));
}

#[test]
fn urecpe_and_ursqrte_estimate_fixed_point_lanes() {
    let a = 0x8000_0000u128 | 0x7fff_ffff << 32 | 0xffff_ffffu128 << 64;
    let (r, _) = run(URECPE_4S, a, 0, 0);
    // Lane 3 is 0: below 0.5, all ones.
    assert_eq!(r, 0xff80_0000 | 0xffff_ffff << 32 | 0x8000_0000u128 << 64 | 0xffff_ffffu128 << 96);
    let (r, _) = run(URSQRTE_2S, 0x4000_0000 | 0x3fff_ffff << 32, 0, 0);
    assert_eq!(r, 0xff80_0000 | 0xffff_ffff << 32);
}

// ---- steps ---------------------------------------------------------------------------------------

#[test]
fn frecps_is_two_minus_the_product() {
    assert_eq!(two(FRECPS_S, 0x3fc0_0000, ONE_S, 0), (0x3f00_0000, 0));
}

#[test]
fn frecps_of_zero_and_infinity_is_two() {
    assert_eq!(two(FRECPS_S, 0, INF_S, 0), (0x4000_0000, 0));
    assert_eq!(two(FRECPS_S, 1, INF_S, FPCR_FZ), (0x4000_0000, IDC));
    assert_eq!(two(FRECPS_S, ONE_S, INF_S, 0), (0xff80_0000, 0));
}

#[test]
fn frecps_negates_a_nan_first_operand() {
    assert_eq!(two(FRECPS_S, 0x7fc0_0001, ONE_S, 0), (0xffc0_0001, 0));
    assert_eq!(two(FRECPS_S, ONE_S, 0x7f80_0002, 0), (0x7fc0_0002, IOC));
}

#[test]
fn frecps_vector_on_doubles() {
    let a = u128::from(ONE_D) | u128::from(0x4000_0000_0000_0000u64) << 64;
    let (r, fsr) = run(FRECPS_2D, a, a, 0);
    // 2 − 1·1 = 1; 2 − 2·2 = −2.
    assert_eq!(r, u128::from(ONE_D) | u128::from(0xc000_0000_0000_0000u64) << 64);
    assert_eq!(fsr, 0);
}

#[test]
fn frsqrts_is_three_minus_the_product_halved() {
    assert_eq!(two(FRSQRTS_S, ONE_S, ONE_S, 0), (u128::from(ONE_S), 0));
    assert_eq!(two(FRSQRTS_S, 0, INF_S, 0), (0x3fc0_0000, 0));
}

#[test]
fn frsqrts_rounds_once_without_overflowing_early() {
    // (3 + 2·max)/2 = max + 1.5: representable range, inexact.
    let max = 0x7fef_ffff_ffff_ffff;
    assert_eq!(two(FRSQRTS_D, max, 0xc000_0000_0000_0000, 0), (u128::from(max), IXC));
}

// ---- conversions with half precision -------------------------------------------------------------

#[test]
fn fcvt_half_to_single_and_double_is_exact() {
    assert_eq!(one(FCVT_S_H, 0x3c00, 0), (u128::from(ONE_S), 0));
    assert_eq!(one(FCVT_D_H, 0xbc00, 0), (u128::from(ONE_D | 1 << 63), 0));
}

#[test]
fn fcvt_of_a_half_denormal_is_never_flushed() {
    assert_eq!(one(FCVT_S_H, 0x0001, FPCR_FZ), (0x3380_0000, 0));
}

#[test]
fn fcvt_single_to_half_rounds_by_fpcr() {
    // 1 + 2^-11 is halfway: to even, or up with RP.
    assert_eq!(one(FCVT_H_S, 0x3f80_1000, 0), (0x3c00, IXC));
    assert_eq!(one(FCVT_H_S, 0x3f80_1000, RP), (0x3c01, IXC));
    assert_eq!(one(FCVT_H_D, ONE_D, 0), (0x3c00, 0));
}

#[test]
fn fcvt_to_half_overflows_and_underflows() {
    assert_eq!(one(FCVT_H_S, 0x4800_0000, 0), (0x7c00, OFC | IXC));
    // 2^-26 is below half the smallest half denormal.
    assert_eq!(one(FCVT_H_S, 0x3280_0000, 0), (0, UFC | IXC));
    assert_eq!(one(FCVT_H_S, 0x0000_0001, FPCR_FZ), (0, IDC));
}

#[test]
fn fcvt_nan_to_half_keeps_the_payload_top() {
    assert_eq!(one(FCVT_H_S, 0x7f80_2001, 0), (0x7e01, IOC));
    assert_eq!(one(FCVT_S_H, 0xfd01, 0), (0xffe0_2000, IOC));
    assert_eq!(one(FCVT_S_H, 0xfd01, FPCR_DN), (0x7fc0_0000, IOC));
}

#[test]
fn ahp_has_no_infinity_or_nan() {
    // The all-ones exponent is a normal number: 2^16.
    assert_eq!(one(FCVT_S_H, 0x7c00, FPCR_AHP), (0x4780_0000, 0));
    assert_eq!(one(FCVT_H_S, INF_S, FPCR_AHP), (0x7fff, IOC));
    assert_eq!(one(FCVT_H_S, 0xffc0_0000, FPCR_AHP), (0x8000, IOC));
    assert_eq!(one(FCVT_H_S, 0x4800_0000, FPCR_AHP), (0x7fff, IOC));
    assert_eq!(one(FCVT_H_S, 0x4780_0000, FPCR_AHP), (0x7c00, 0));
}

#[test]
fn fcvtl_widens_the_lower_half_and_fcvtl2_the_upper() {
    let h = 0x3c00u128 | 0x4000 << 16 | 0xc000 << 32 | 0x3800 << 48 | 0x4400 << 64 | 0x7c00 << 80;
    let (r, _) = run(FCVTL_4S, h, 0, 0);
    assert_eq!(r, 0x3f80_0000 | 0x4000_0000 << 32 | 0xc000_0000u128 << 64 | 0x3f00_0000u128 << 96);
    let (r, _) = run(FCVTL2_4S, h, 0, 0);
    assert_eq!(r, 0x4080_0000 | 0x7f80_0000 << 32);
    let (r, _) = run(FCVTL_2D, u128::from(ONE_S) | 0x4000_0000 << 32, 0, 0);
    assert_eq!(r, u128::from(ONE_D) | u128::from(0x4000_0000_0000_0000u64) << 64);
}

#[test]
fn fcvtn_narrows_into_the_lower_half_and_fcvtn2_keeps_it() {
    let s = u128::from(ONE_S) | 0x4000_0000 << 32 | 0xc000_0000u128 << 64 | 0x3f00_0000u128 << 96;
    let (r, _) = run(FCVTN_4H, s, 0, 0);
    assert_eq!(r, 0x3c00 | 0x4000 << 16 | 0xc000 << 32 | 0x3800 << 48);
    let (r, _) = run(FCVTN2_8H, s, 0, 0);
    assert_eq!(r, u128::from(u64::MAX) | (0x3c00u128 | 0x4000 << 16 | 0xc000 << 32 | 0x3800 << 48) << 64);
}

#[test]
fn fcvtxn_rounds_to_odd() {
    // 1 + 2^-24 is not a single: truncated and made odd.
    assert_eq!(one(FCVTXN_S, 0x3ff0_0000_1000_0000, 0), (0x3f80_0001, IXC));
    assert_eq!(one(FCVTXN_S, 0x3ff0_0000_1000_0000, RP), (0x3f80_0001, IXC));
    assert_eq!(one(FCVTXN_S, ONE_D, 0), (u128::from(ONE_S), 0));
    // Overflow gives the largest normal, not infinity.
    assert_eq!(one(FCVTXN_S, 0x7fef_ffff_ffff_ffff, 0), (0x7f7f_ffff, OFC | IXC));
}

#[test]
fn fcvtxn2_writes_the_upper_half() {
    let d = u128::from(ONE_D) | u128::from(0x3ff0_0000_1000_0000u64) << 64;
    let (r, fsr) = run(FCVTXN2_4S, d, 0, 0);
    assert_eq!(r, u128::from(u64::MAX) | (u128::from(ONE_S) | 0x3f80_0001 << 32) << 64);
    assert_eq!(fsr, IXC);
}

// ---- SHLL and the scalar long multiplies ---------------------------------------------------------

#[test]
fn shll_shifts_by_the_element_size() {
    let (r, _) = run(SHLL_8H, 0x81 | 0x7f << 8 | 0xff << 56, 0, 0);
    assert_eq!(r, 0x8100 | 0x7f00 << 16 | 0xff00u128 << 112);
    let (r, _) = run(SHLL2_4S, 0x1234u128 << 64 | 0x8001u128 << 112, 0, 0);
    assert_eq!(r, 0x1234_0000 | 0x8001_0000u128 << 96);
    let (r, _) = run(SHLL_2D, 0xffff_ffff | 0x1 << 32, 0, 0);
    assert_eq!(r, 0xffff_ffff_0000_0000 | 0x1_0000_0000u128 << 64);
}

#[test]
fn scalar_sqdmull_doubles_and_saturates() {
    assert_eq!(two(SQDMULL_S_H, 3, 0xfffe, 0), (0xffff_fff4, 0));
    assert_eq!(two(SQDMULL_S_H, 0x8000, 0x8000, 0), (0x7fff_ffff, QC));
}

#[test]
fn scalar_sqdmlal_and_sqdmlsl_accumulate_into_d() {
    let f = Snippet::of(&[SQDMLAL_D_S]).v(1, 5).v(2, 7).v(3, 100 | 1 << 64).ok();
    assert_eq!((f.v(3), f.fpsr), (170, 0));
    let f = Snippet::of(&[SQDMLSL_D_S]).v(1, 0x8000_0000).v(2, 0x8000_0000).v(3, 1 << 63).ok();
    // −2^63 − 2^63 saturates.
    assert_eq!((f.v(3), f.fpsr), (1 << 63, QC));
}

#[test]
fn scalar_long_multiplies_by_element_pick_the_lane() {
    assert_eq!(two(SQDMULL_S_HELEM, 0x10, 0x0003_0000_0000_0000, 0), (0x60, 0));
    let f = Snippet::of(&[SQDMLAL_D_SELEM]).v(1, 2).v(2, 0x0000_0004_ffff_ffff).v(3, 1).ok();
    assert_eq!(f.v(3), 17);
}
