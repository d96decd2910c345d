//! Semantics snippets: the F and D extensions, run on every execution tier (see `common`).
//!
//! Conventions: inputs in f1, f2, f3 (or x1), results in f10 (or x10). Expected values are IEEE
//! 754 as the RISC-V manual specifies it (canonical NaNs, no payload propagation, NaN boxing),
//! worked by hand or with host `f32`/`f64` arithmetic (round to nearest even) where that is exact.

mod common;

use common::*;
use mimic_arch_riscv::decode::enc;

const BOX: u64 = 0xffff_ffff_0000_0000;
const CNAN_S: u32 = 0x7fc0_0000;
const CNAN_D: u64 = 0x7ff8_0000_0000_0000;
const SNAN_S: u32 = 0x7f80_0001;
const SNAN_D: u64 = 0x7ff0_0000_0000_0001;
const QNAN_D_PAYLOAD: u64 = 0x7ff8_0000_dead_beef;
const NEG1: u64 = u64::MAX;

/// A NaN-boxed single from its bits.
fn sb(bits: u32) -> u64 {
    BOX | bits as u64
}
fn s(v: f32) -> u64 {
    sb(v.to_bits())
}
fn d(v: f64) -> u64 {
    v.to_bits()
}

/// Run `insn` (reading f1, f2, f3) and return the final state.
fn fp(insn: u32, a: u64, b: u64) -> Final {
    Snippet::of(&[insn]).f(1, a).f(2, b).ok()
}
fn fp3(insn: u32, a: u64, b: u64, c: u64) -> Final {
    Snippet::of(&[insn]).f(1, a).f(2, b).f(3, c).ok()
}
/// Run with dynamic rounding: `frm` = `mode`.
fn fp_dyn(insn: u32, a: u64, b: u64, mode: u32) -> Final {
    Snippet::of(&[insn]).f(1, a).f(2, b).frm(mode as u64).ok()
}
/// (f10, fflags)
fn res(f: &Final) -> (u64, u64) {
    (f.f(10), f.fflags)
}
/// (x10, fflags)
fn xres(f: &Final) -> (u64, u64) {
    (f.x(10), f.fflags)
}

const NX: u64 = fflag::NX;
const UF: u64 = fflag::UF;
const OF: u64 = fflag::OF;
const DZ: u64 = fflag::DZ;
const NV: u64 = fflag::NV;
const MODES: [u32; 5] = [rm::RNE, rm::RTZ, rm::RDN, rm::RUP, rm::RMM];

// ---- add/sub and rounding modes ---------------------------------------------------------------

#[test]
fn fadd_s_exact_sum_no_flags() {
    let f = fp(enc::fadd_s(10, 1, 2, rm::RNE), s(1.5), s(2.25));
    assert_eq!(res(&f), (s(3.75), 0));
}

#[test]
fn fsub_d_exact_difference_no_flags() {
    let f = fp(enc::fsub_d(10, 1, 2, rm::RNE), d(1.5), d(2.25));
    assert_eq!(res(&f), (d(-0.75), 0));
}

/// 1.0 + 2^-53 is exactly halfway between 1.0 and 1.0 + 2^-52.
const HALF_ULP_D: u64 = 0x3ca0_0000_0000_0000;
const ONE_D: u64 = 0x3ff0_0000_0000_0000;
const ONE_PLUS_ULP_D: u64 = 0x3ff0_0000_0000_0001;

#[test]
fn fadd_d_tie_each_static_rounding_mode() {
    let want = [ONE_D, ONE_D, ONE_D, ONE_PLUS_ULP_D, ONE_PLUS_ULP_D];
    for (m, w) in MODES.iter().zip(want) {
        let f = fp(enc::fadd_d(10, 1, 2, *m), ONE_D, HALF_ULP_D);
        assert_eq!(res(&f), (w, NX), "rm {m}");
    }
}

#[test]
fn fadd_d_negative_three_quarter_ulp_each_static_rounding_mode() {
    // -(1 + 0.75 ulp): RNE, RDN and RMM grow the magnitude; RTZ and RUP give -1.
    let (neg_one, neg_next) = (0xbff0_0000_0000_0000, 0xbff0_0000_0000_0001);
    let want = [neg_next, neg_one, neg_next, neg_one, neg_next];
    for (m, w) in MODES.iter().zip(want) {
        let f = fp(enc::fadd_d(10, 1, 2, *m), d(-1.0), 0xbca8_0000_0000_0000);
        assert_eq!(res(&f), (w, NX), "rm {m}");
    }
}

#[test]
fn fadd_d_tie_each_dynamic_rounding_mode() {
    let want = [ONE_D, ONE_D, ONE_D, ONE_PLUS_ULP_D, ONE_PLUS_ULP_D];
    for (m, w) in MODES.iter().zip(want) {
        let f = fp_dyn(enc::fadd_d(10, 1, 2, rm::DYN), ONE_D, HALF_ULP_D, *m);
        assert_eq!(res(&f), (w, NX), "frm {m}");
    }
}

#[test]
fn fadd_s_tie_each_static_and_dynamic_rounding_mode() {
    // 1.0 + 2^-24 is halfway between 1.0 and 1.0 + 2^-23.
    let want = [0x3f80_0000, 0x3f80_0000, 0x3f80_0000, 0x3f80_0001, 0x3f80_0001];
    for (m, w) in MODES.iter().zip(want) {
        let f = fp(enc::fadd_s(10, 1, 2, *m), s(1.0), sb(0x3380_0000));
        assert_eq!(res(&f), (sb(w), NX), "rm {m}");
        let f = fp_dyn(enc::fadd_s(10, 1, 2, rm::DYN), s(1.0), sb(0x3380_0000), *m);
        assert_eq!(res(&f), (sb(w), NX), "frm {m}");
    }
}

#[test]
fn fadd_d_inf_minus_inf_invalid_canonical_nan() {
    let f = fp(enc::fadd_d(10, 1, 2, rm::RNE), d(f64::INFINITY), d(f64::NEG_INFINITY));
    assert_eq!(res(&f), (CNAN_D, NV));
}

#[test]
fn fadd_s_signaling_nan_input_canonical_nan_and_invalid() {
    let f = fp(enc::fadd_s(10, 1, 2, rm::RNE), sb(SNAN_S), s(1.0));
    assert_eq!(res(&f), (sb(CNAN_S), NV));
}

#[test]
fn fadd_d_quiet_nan_payload_not_propagated() {
    let f = fp(enc::fadd_d(10, 1, 2, rm::RNE), QNAN_D_PAYLOAD, d(1.0));
    assert_eq!(res(&f), (CNAN_D, 0));
}

#[test]
fn fp_flags_accrue_with_earlier_flags() {
    let f = Snippet::of(&[enc::fdiv_d(10, 1, 2, rm::RNE)]).fd(1, 1.0).fd(2, 0.0).fflags(NX).ok();
    assert_eq!(f.fflags, NX | DZ);
}

// ---- mul, div: overflow, underflow, divide by zero --------------------------------------------

#[test]
fn fmul_d_overflow_by_rounding_mode() {
    let max = d(f64::MAX);
    let inf = d(f64::INFINITY);
    let want = [inf, max, max, inf, inf];
    for (m, w) in MODES.iter().zip(want) {
        let f = fp(enc::fmul_d(10, 1, 2, *m), max, d(2.0));
        assert_eq!(res(&f), (w, OF | NX), "rm {m}");
    }
}

#[test]
fn fmul_s_negative_overflow_rdn_gives_minus_inf_rup_gives_minus_max() {
    let f = fp(enc::fmul_s(10, 1, 2, rm::RDN), s(-f32::MAX), s(2.0));
    assert_eq!(res(&f), (s(f32::NEG_INFINITY), OF | NX));
    let f = fp(enc::fmul_s(10, 1, 2, rm::RUP), s(-f32::MAX), s(2.0));
    assert_eq!(res(&f), (s(-f32::MAX), OF | NX));
}

#[test]
fn fmul_d_inexact_tiny_result_underflows() {
    // min subnormal * 0.5 is halfway between 0 and min subnormal.
    let f = fp(enc::fmul_d(10, 1, 2, rm::RNE), 1, d(0.5));
    assert_eq!(res(&f), (0, UF | NX));
    let f = fp(enc::fmul_d(10, 1, 2, rm::RUP), 1, d(0.5));
    assert_eq!(res(&f), (1, UF | NX));
}

#[test]
fn fmul_s_inexact_tiny_result_underflows() {
    let f = fp(enc::fmul_s(10, 1, 2, rm::RNE), sb(1), s(0.5));
    assert_eq!(res(&f), (sb(0), UF | NX));
}

#[test]
fn fmul_d_exact_subnormal_result_no_underflow() {
    let f = fp(enc::fmul_d(10, 1, 2, rm::RNE), d(f64::MIN_POSITIVE), d(0.5));
    assert_eq!(res(&f), (0x0008_0000_0000_0000, 0));
}

#[test]
fn fdiv_d_by_zero_sets_dz_and_gives_signed_inf() {
    assert_eq!(res(&fp(enc::fdiv_d(10, 1, 2, rm::RNE), d(1.0), d(0.0))), (d(f64::INFINITY), DZ));
    assert_eq!(res(&fp(enc::fdiv_d(10, 1, 2, rm::RNE), d(-1.0), d(0.0))), (d(f64::NEG_INFINITY), DZ));
    assert_eq!(res(&fp(enc::fdiv_d(10, 1, 2, rm::RNE), d(1.0), d(-0.0))), (d(f64::NEG_INFINITY), DZ));
}

#[test]
fn fdiv_zero_by_zero_invalid_canonical_nan() {
    assert_eq!(res(&fp(enc::fdiv_d(10, 1, 2, rm::RNE), d(0.0), d(0.0))), (CNAN_D, NV));
    assert_eq!(res(&fp(enc::fdiv_s(10, 1, 2, rm::RNE), s(0.0), s(0.0))), (sb(CNAN_S), NV));
}

#[test]
fn fdiv_one_third_inexact() {
    assert_eq!(res(&fp(enc::fdiv_d(10, 1, 2, rm::RNE), d(1.0), d(3.0))), (d(1.0 / 3.0), NX));
    assert_eq!(res(&fp(enc::fdiv_s(10, 1, 2, rm::RNE), s(1.0), s(3.0))), (s(1.0f32 / 3.0), NX));
    // 1/3 lies between 0x3eaaaaaa and 0x3eaaaaab, nearer the upper.
    assert_eq!(res(&fp(enc::fdiv_s(10, 1, 2, rm::RNE), s(1.0), s(3.0))), (sb(0x3eaa_aaab), NX));
    assert_eq!(res(&fp(enc::fdiv_s(10, 1, 2, rm::RTZ), s(1.0), s(3.0))), (sb(0x3eaa_aaaa), NX));
    assert_eq!(res(&fp(enc::fdiv_s(10, 1, 2, rm::RUP), s(1.0), s(3.0))), (sb(0x3eaa_aaab), NX));
}

// ---- sqrt --------------------------------------------------------------------------------------

#[test]
fn fsqrt_d_two_by_rounding_mode() {
    // sqrt(2) lies between 0x3ff6a09e667f3bcc and ...bcd, nearer the upper.
    let (lo, hi) = (0x3ff6_a09e_667f_3bcc, 0x3ff6_a09e_667f_3bcd);
    let want = [hi, lo, lo, hi, hi];
    for (m, w) in MODES.iter().zip(want) {
        let f = Snippet::of(&[enc::fsqrt_d(10, 1, *m)]).fd(1, 2.0).ok();
        assert_eq!(res(&f), (w, NX), "rm {m}");
    }
}

#[test]
fn fsqrt_s_two_by_rounding_mode() {
    // sqrt(2) lies between 0x3fb504f3 and 0x3fb504f4, nearer the lower.
    let want = [0x3fb5_04f3, 0x3fb5_04f3, 0x3fb5_04f3, 0x3fb5_04f4, 0x3fb5_04f3];
    for (m, w) in MODES.iter().zip(want) {
        let f = Snippet::of(&[enc::fsqrt_s(10, 1, *m)]).fs(1, 2.0).ok();
        assert_eq!(res(&f), (sb(w), NX), "rm {m}");
    }
}

#[test]
fn fsqrt_negative_invalid_canonical_nan() {
    let f = Snippet::of(&[enc::fsqrt_d(10, 1, rm::RNE)]).fd(1, -1.0).ok();
    assert_eq!(res(&f), (CNAN_D, NV));
    let f = Snippet::of(&[enc::fsqrt_s(10, 1, rm::RNE)]).fs(1, -4.0).ok();
    assert_eq!(res(&f), (sb(CNAN_S), NV));
}

#[test]
fn fsqrt_minus_zero_is_minus_zero_exact() {
    let f = Snippet::of(&[enc::fsqrt_d(10, 1, rm::RNE)]).fd(1, -0.0).ok();
    assert_eq!(res(&f), (d(-0.0), 0));
}

// ---- fused multiply-add ------------------------------------------------------------------------

#[test]
fn fma_d_family_signs() {
    let (a, b, c) = (d(2.0), d(3.0), d(1.0));
    assert_eq!(fp3(enc::fmadd_d(10, 1, 2, 3, rm::RNE), a, b, c).f(10), d(7.0));
    assert_eq!(fp3(enc::fmsub_d(10, 1, 2, 3, rm::RNE), a, b, c).f(10), d(5.0));
    assert_eq!(fp3(enc::fnmsub_d(10, 1, 2, 3, rm::RNE), a, b, c).f(10), d(-5.0));
    assert_eq!(fp3(enc::fnmadd_d(10, 1, 2, 3, rm::RNE), a, b, c).f(10), d(-7.0));
}

#[test]
fn fma_s_family_signs() {
    let (a, b, c) = (s(2.0), s(3.0), s(1.0));
    assert_eq!(fp3(enc::fmadd_s(10, 1, 2, 3, rm::RNE), a, b, c).f(10), s(7.0));
    assert_eq!(fp3(enc::fmsub_s(10, 1, 2, 3, rm::RNE), a, b, c).f(10), s(5.0));
    assert_eq!(fp3(enc::fnmsub_s(10, 1, 2, 3, rm::RNE), a, b, c).f(10), s(-5.0));
    assert_eq!(fp3(enc::fnmadd_s(10, 1, 2, 3, rm::RNE), a, b, c).f(10), s(-7.0));
}

#[test]
fn fmadd_d_rounds_once() {
    // (1 + 2^-52)(1 - 2^-52) - 1 = -2^-104 exactly; a separate multiply would round to 0.
    let (a, b) = (f64::from_bits(ONE_PLUS_ULP_D), f64::from_bits(0x3fef_ffff_ffff_fffe));
    let f = fp3(enc::fmadd_d(10, 1, 2, 3, rm::RNE), d(a), d(b), d(-1.0));
    assert_eq!(res(&f), (d(a.mul_add(b, -1.0)), 0));
    assert_eq!(f.f(10), 0xb970_0000_0000_0000);
}

#[test]
fn fmadd_s_rounding_mode_applies_to_fused_result() {
    // 1 * 1 + 2^-24 is a tie: RNE keeps 1.0, RUP goes up.
    let f = fp3(enc::fmadd_s(10, 1, 2, 3, rm::RNE), s(1.0), s(1.0), sb(0x3380_0000));
    assert_eq!(res(&f), (s(1.0), NX));
    let f = fp3(enc::fmadd_s(10, 1, 2, 3, rm::RUP), s(1.0), s(1.0), sb(0x3380_0000));
    assert_eq!(res(&f), (sb(0x3f80_0001), NX));
}

#[test]
fn fmadd_d_zero_sum_sign_depends_on_rounding_mode() {
    // (+1 * +0) + -0 = +0, except -0 when rounding down.
    let f = fp3(enc::fmadd_d(10, 1, 2, 3, rm::RNE), d(1.0), d(0.0), d(-0.0));
    assert_eq!(res(&f), (d(0.0), 0));
    let f = fp3(enc::fmadd_d(10, 1, 2, 3, rm::RDN), d(1.0), d(0.0), d(-0.0));
    assert_eq!(res(&f), (d(-0.0), 0));
}

#[test]
fn fmadd_inf_times_zero_plus_quiet_nan_invalid() {
    let f = fp3(enc::fmadd_d(10, 1, 2, 3, rm::RNE), d(f64::INFINITY), d(0.0), CNAN_D);
    assert_eq!(res(&f), (CNAN_D, NV));
    let f = fp3(enc::fmadd_s(10, 1, 2, 3, rm::RNE), s(0.0), s(f32::INFINITY), sb(CNAN_S));
    assert_eq!(res(&f), (sb(CNAN_S), NV));
}

// ---- NaN boxing --------------------------------------------------------------------------------

/// 1.0f not NaN-boxed (upper half zero).
const UNBOXED_ONE: u64 = 0x0000_0000_3f80_0000;

#[test]
fn unboxed_single_input_reads_as_canonical_nan() {
    let f = fp(enc::fadd_s(10, 1, 2, rm::RNE), UNBOXED_ONE, s(1.0));
    assert_eq!(res(&f), (sb(CNAN_S), 0));
}

#[test]
fn partly_boxed_single_input_reads_as_canonical_nan() {
    let f = fp(enc::fmul_s(10, 1, 2, rm::RNE), 0xffff_fffe_3f80_0000, s(1.0));
    assert_eq!(res(&f), (sb(CNAN_S), 0));
}

#[test]
fn compares_with_unboxed_single_act_as_quiet_nan() {
    assert_eq!(xres(&fp(enc::feq_s(10, 1, 2), UNBOXED_ONE, s(1.0))), (0, 0));
    assert_eq!(xres(&fp(enc::fle_s(10, 1, 2), UNBOXED_ONE, s(1.0))), (0, NV));
}

#[test]
fn fclass_s_unboxed_input_is_quiet_nan() {
    let f = Snippet::of(&[enc::fclass_s(10, 1)]).f(1, UNBOXED_ONE).ok();
    assert_eq!(f.x(10), 1 << 9);
}

#[test]
fn fcvt_d_s_unboxed_input_gives_canonical_nan() {
    let f = Snippet::of(&[enc::fcvt_d_s(10, 1, rm::RNE)]).f(1, UNBOXED_ONE).ok();
    assert_eq!(res(&f), (CNAN_D, 0));
}

#[test]
fn fsgnj_s_unboxed_input_is_canonical_nan_with_new_sign() {
    let f = fp(enc::fsgnj_s(10, 1, 2), UNBOXED_ONE, s(-2.0));
    assert_eq!(res(&f), (sb(CNAN_S | 0x8000_0000), 0));
}

#[test]
fn single_results_are_nan_boxed() {
    let f = Snippet::of(&[enc::fcvt_s_w(10, 1, rm::RNE), enc::fmv_w_x(11, 2), enc::flw(12, 3, 0)])
        .x(1, 3)
        .x(2, 0x1234_5678_9abc_def0)
        .x(3, DATA)
        .mem32(DATA, 0x3fc0_0000)
        .ok();
    assert_eq!(f.f(10), s(3.0));
    assert_eq!(f.f(11), sb(0x9abc_def0));
    assert_eq!(f.f(12), s(1.5));
}

#[test]
fn fmv_x_w_reads_low_bits_of_unboxed_register() {
    let f = Snippet::of(&[enc::fmv_x_w(10, 1)]).f(1, 0x0000_0000_8000_0001).ok();
    assert_eq!(f.x(10), 0xffff_ffff_8000_0001);
}

// ---- min, max ----------------------------------------------------------------------------------

#[test]
fn fmin_fmax_d_order_minus_zero_below_plus_zero() {
    let (pz, nz) = (d(0.0), d(-0.0));
    assert_eq!(res(&fp(enc::fmin_d(10, 1, 2), nz, pz)), (nz, 0));
    assert_eq!(res(&fp(enc::fmin_d(10, 1, 2), pz, nz)), (nz, 0));
    assert_eq!(res(&fp(enc::fmax_d(10, 1, 2), nz, pz)), (pz, 0));
    assert_eq!(res(&fp(enc::fmax_d(10, 1, 2), pz, nz)), (pz, 0));
}

#[test]
fn fmin_fmax_s_order_minus_zero_below_plus_zero() {
    let (pz, nz) = (s(0.0), s(-0.0));
    assert_eq!(res(&fp(enc::fmin_s(10, 1, 2), pz, nz)), (nz, 0));
    assert_eq!(res(&fp(enc::fmax_s(10, 1, 2), nz, pz)), (pz, 0));
}

#[test]
fn fmin_quiet_nan_operand_returns_other_without_flags() {
    assert_eq!(res(&fp(enc::fmin_s(10, 1, 2), sb(CNAN_S), s(1.0))), (s(1.0), 0));
    assert_eq!(res(&fp(enc::fmax_d(10, 1, 2), d(-3.0), QNAN_D_PAYLOAD)), (d(-3.0), 0));
}

#[test]
fn fmin_signaling_nan_operand_returns_other_and_invalid() {
    assert_eq!(res(&fp(enc::fmin_s(10, 1, 2), sb(SNAN_S), s(1.0))), (s(1.0), NV));
    assert_eq!(res(&fp(enc::fmax_d(10, 1, 2), d(2.0), SNAN_D)), (d(2.0), NV));
}

#[test]
fn fmax_both_nan_gives_canonical_nan() {
    assert_eq!(res(&fp(enc::fmax_d(10, 1, 2), QNAN_D_PAYLOAD, QNAN_D_PAYLOAD)), (CNAN_D, 0));
    assert_eq!(res(&fp(enc::fmin_d(10, 1, 2), SNAN_D, QNAN_D_PAYLOAD)), (CNAN_D, NV));
    assert_eq!(res(&fp(enc::fmin_s(10, 1, 2), sb(SNAN_S), sb(SNAN_S))), (sb(CNAN_S), NV));
}

#[test]
fn fmin_s_unboxed_operand_acts_as_quiet_nan() {
    assert_eq!(res(&fp(enc::fmin_s(10, 1, 2), UNBOXED_ONE, s(2.0))), (s(2.0), 0));
}

// ---- compare -----------------------------------------------------------------------------------

#[test]
fn feq_quiet_nan_false_without_invalid() {
    assert_eq!(xres(&fp(enc::feq_d(10, 1, 2), CNAN_D, d(1.0))), (0, 0));
    assert_eq!(xres(&fp(enc::feq_s(10, 1, 2), s(1.0), sb(CNAN_S))), (0, 0));
}

#[test]
fn feq_signaling_nan_false_with_invalid() {
    assert_eq!(xres(&fp(enc::feq_d(10, 1, 2), SNAN_D, d(1.0))), (0, NV));
    assert_eq!(xres(&fp(enc::feq_s(10, 1, 2), sb(SNAN_S), sb(SNAN_S))), (0, NV));
}

#[test]
fn flt_fle_quiet_nan_false_with_invalid() {
    assert_eq!(xres(&fp(enc::flt_d(10, 1, 2), CNAN_D, d(1.0))), (0, NV));
    assert_eq!(xres(&fp(enc::fle_d(10, 1, 2), d(1.0), CNAN_D)), (0, NV));
    assert_eq!(xres(&fp(enc::flt_s(10, 1, 2), sb(CNAN_S), s(1.0))), (0, NV));
    assert_eq!(xres(&fp(enc::fle_s(10, 1, 2), s(1.0), sb(CNAN_S))), (0, NV));
}

#[test]
fn compares_treat_minus_zero_equal_to_plus_zero() {
    let (pz, nz) = (d(0.0), d(-0.0));
    assert_eq!(xres(&fp(enc::feq_d(10, 1, 2), nz, pz)), (1, 0));
    assert_eq!(xres(&fp(enc::flt_d(10, 1, 2), nz, pz)), (0, 0));
    assert_eq!(xres(&fp(enc::fle_d(10, 1, 2), pz, nz)), (1, 0));
}

#[test]
fn flt_fle_order_numbers() {
    assert_eq!(xres(&fp(enc::flt_s(10, 1, 2), s(-1.0), s(1.0))), (1, 0));
    assert_eq!(xres(&fp(enc::flt_s(10, 1, 2), s(1.0), s(1.0))), (0, 0));
    assert_eq!(xres(&fp(enc::fle_s(10, 1, 2), s(1.0), s(1.0))), (1, 0));
    assert_eq!(xres(&fp(enc::fle_d(10, 1, 2), d(2.0), d(1.0))), (0, 0));
}

// ---- classify ----------------------------------------------------------------------------------

#[test]
fn fclass_d_each_class() {
    let cases: [(u64, u64); 10] = [
        (d(f64::NEG_INFINITY), 1 << 0),
        (d(-1.0), 1 << 1),
        (0x8000_0000_0000_0001, 1 << 2),
        (d(-0.0), 1 << 3),
        (d(0.0), 1 << 4),
        (0x0000_0000_0000_0001, 1 << 5),
        (d(1.0), 1 << 6),
        (d(f64::INFINITY), 1 << 7),
        (SNAN_D, 1 << 8),
        (CNAN_D, 1 << 9),
    ];
    for (v, class) in cases {
        let f = Snippet::of(&[enc::fclass_d(10, 1)]).f(1, v).ok();
        assert_eq!(xres(&f), (class, 0), "{v:#x}");
    }
}

#[test]
fn fclass_s_each_class() {
    let cases: [(u32, u64); 10] = [
        (0xff80_0000, 1 << 0),
        (0xbf80_0000, 1 << 1),
        (0x8000_0001, 1 << 2),
        (0x8000_0000, 1 << 3),
        (0x0000_0000, 1 << 4),
        (0x0000_0001, 1 << 5),
        (0x3f80_0000, 1 << 6),
        (0x7f80_0000, 1 << 7),
        (SNAN_S, 1 << 8),
        (CNAN_S, 1 << 9),
    ];
    for (v, class) in cases {
        let f = Snippet::of(&[enc::fclass_s(10, 1)]).f(1, sb(v)).ok();
        assert_eq!(xres(&f), (class, 0), "{v:#x}");
    }
}

// ---- float to integer ----------------------------------------------------------------------

/// fcvt to an integer register from f1 = `v` with `insn` built as `op(10, 1, rm)`.
fn cvt(insn: u32, v: u64) -> (u64, u64) {
    xres(&Snippet::of(&[insn]).f(1, v).ok())
}

#[test]
fn fcvt_w_saturates_and_sets_invalid() {
    assert_eq!(cvt(enc::fcvt_w_s(10, 1, rm::RTZ), s(f32::INFINITY)), (0x7fff_ffff, NV));
    assert_eq!(cvt(enc::fcvt_w_s(10, 1, rm::RTZ), s(f32::NEG_INFINITY)), (0xffff_ffff_8000_0000, NV));
    assert_eq!(cvt(enc::fcvt_w_s(10, 1, rm::RTZ), sb(CNAN_S)), (0x7fff_ffff, NV));
    assert_eq!(cvt(enc::fcvt_w_d(10, 1, rm::RTZ), d(3e9)), (0x7fff_ffff, NV));
    assert_eq!(cvt(enc::fcvt_w_d(10, 1, rm::RTZ), d(-3e9)), (0xffff_ffff_8000_0000, NV));
}

#[test]
fn fcvt_w_result_sign_extended() {
    assert_eq!(cvt(enc::fcvt_w_s(10, 1, rm::RTZ), s(-1.0)), (NEG1, 0));
    assert_eq!(cvt(enc::fcvt_w_d(10, 1, rm::RTZ), d(-2147483648.9)), (0xffff_ffff_8000_0000, NX));
}

#[test]
fn fcvt_wu_saturates_and_sign_extends_result() {
    assert_eq!(cvt(enc::fcvt_wu_d(10, 1, rm::RTZ), d(4e9)), (0xffff_ffff_ee6b_2800, 0));
    assert_eq!(cvt(enc::fcvt_wu_d(10, 1, rm::RTZ), d(-1.0)), (0, NV));
    assert_eq!(cvt(enc::fcvt_wu_d(10, 1, rm::RTZ), d(5e9)), (NEG1, NV));
    assert_eq!(cvt(enc::fcvt_wu_s(10, 1, rm::RTZ), sb(CNAN_S)), (NEG1, NV));
}

#[test]
fn fcvt_wu_small_negative_rounding_to_zero_is_inexact_not_invalid() {
    assert_eq!(cvt(enc::fcvt_wu_d(10, 1, rm::RTZ), d(-0.5)), (0, NX));
    assert_eq!(cvt(enc::fcvt_wu_d(10, 1, rm::RDN), d(-0.5)), (0, NV));
}

#[test]
fn fcvt_wu_minus_zero_is_zero_exact() {
    assert_eq!(cvt(enc::fcvt_wu_d(10, 1, rm::RNE), d(-0.0)), (0, 0));
    assert_eq!(cvt(enc::fcvt_lu_s(10, 1, rm::RNE), s(-0.0)), (0, 0));
}

#[test]
fn fcvt_l_lu_saturate() {
    assert_eq!(cvt(enc::fcvt_l_d(10, 1, rm::RTZ), CNAN_D), (i64::MAX as u64, NV));
    assert_eq!(cvt(enc::fcvt_l_d(10, 1, rm::RTZ), d(f64::NEG_INFINITY)), (i64::MIN as u64, NV));
    assert_eq!(cvt(enc::fcvt_l_d(10, 1, rm::RTZ), d(9.3e18)), (i64::MAX as u64, NV));
    assert_eq!(cvt(enc::fcvt_lu_d(10, 1, rm::RTZ), CNAN_D), (NEG1, NV));
    assert_eq!(cvt(enc::fcvt_lu_d(10, 1, rm::RTZ), d(f64::NEG_INFINITY)), (0, NV));
    assert_eq!(cvt(enc::fcvt_lu_s(10, 1, rm::RTZ), s(2e19)), (NEG1, NV));
    assert_eq!(cvt(enc::fcvt_l_s(10, 1, rm::RTZ), s(f32::NEG_INFINITY)), (i64::MIN as u64, NV));
}

#[test]
fn fcvt_l_d_exact_large_values() {
    assert_eq!(cvt(enc::fcvt_l_d(10, 1, rm::RTZ), d(i64::MIN as f64)), (i64::MIN as u64, 0));
    assert_eq!(cvt(enc::fcvt_lu_d(10, 1, rm::RTZ), d((u64::MAX - 2047) as f64)), (0xffff_ffff_ffff_f800, 0));
}

#[test]
fn fcvt_w_d_two_and_a_half_each_rounding_mode() {
    let want: [i64; 5] = [2, 2, 2, 3, 3];
    for (m, w) in MODES.iter().zip(want) {
        assert_eq!(cvt(enc::fcvt_w_d(10, 1, *m), d(2.5)), (w as u64, NX), "rm {m}");
    }
    let want: [i64; 5] = [-2, -2, -3, -2, -3];
    for (m, w) in MODES.iter().zip(want) {
        assert_eq!(cvt(enc::fcvt_w_d(10, 1, *m), d(-2.5)), (w as u64, NX), "rm {m}");
    }
}

#[test]
fn fcvt_w_s_dynamic_rounding_uses_frm() {
    let f = Snippet::of(&[enc::fcvt_w_s(10, 1, rm::DYN)]).fs(1, 1.5).frm(rm::RUP as u64).ok();
    assert_eq!(xres(&f), (2, NX));
    let f = Snippet::of(&[enc::fcvt_w_s(10, 1, rm::DYN)]).fs(1, 1.5).frm(rm::RTZ as u64).ok();
    assert_eq!(xres(&f), (1, NX));
}

// ---- integer to float ----------------------------------------------------------------------

fn icvt(insn: u32, x: u64) -> (u64, u64) {
    res(&Snippet::of(&[insn]).x(1, x).ok())
}

#[test]
fn fcvt_s_w_uses_low_word_signed() {
    assert_eq!(icvt(enc::fcvt_s_w(10, 1, rm::RNE), 0x1_ffff_ffff), (s(-1.0), 0));
    assert_eq!(icvt(enc::fcvt_d_w(10, 1, rm::RNE), 0x1_ffff_ffff), (d(-1.0), 0));
}

#[test]
fn fcvt_d_wu_uses_low_word_unsigned() {
    assert_eq!(icvt(enc::fcvt_d_wu(10, 1, rm::RNE), NEG1), (d(4294967295.0), 0));
    assert_eq!(icvt(enc::fcvt_s_wu(10, 1, rm::RTZ), NEG1), (sb(0x4f7f_ffff), NX));
}

#[test]
fn fcvt_s_w_inexact_by_rounding_mode() {
    // 2^24 + 1 is halfway between 2^24 and 2^24 + 2.
    assert_eq!(icvt(enc::fcvt_s_w(10, 1, rm::RNE), 16_777_217), (sb(0x4b80_0000), NX));
    assert_eq!(icvt(enc::fcvt_s_w(10, 1, rm::RUP), 16_777_217), (sb(0x4b80_0001), NX));
}

#[test]
fn fcvt_from_64bit_integers_round() {
    assert_eq!(icvt(enc::fcvt_s_l(10, 1, rm::RNE), i64::MAX as u64), (sb(0x5f00_0000), NX));
    assert_eq!(icvt(enc::fcvt_s_l(10, 1, rm::RTZ), i64::MAX as u64), (sb(0x5eff_ffff), NX));
    assert_eq!(icvt(enc::fcvt_s_lu(10, 1, rm::RNE), NEG1), (sb(0x5f80_0000), NX));
    assert_eq!(icvt(enc::fcvt_d_l(10, 1, rm::RNE), i64::MAX as u64), (0x43e0_0000_0000_0000, NX));
    assert_eq!(icvt(enc::fcvt_d_l(10, 1, rm::RTZ), i64::MAX as u64), (0x43df_ffff_ffff_ffff, NX));
    assert_eq!(icvt(enc::fcvt_d_lu(10, 1, rm::RNE), NEG1), (0x43f0_0000_0000_0000, NX));
    assert_eq!(icvt(enc::fcvt_d_l(10, 1, rm::RNE), i64::MIN as u64), (d(i64::MIN as f64), 0));
}

// ---- moves, sign injection -------------------------------------------------------------------

#[test]
fn fmv_x_w_sign_extends() {
    let f = Snippet::of(&[enc::fmv_x_w(10, 1)]).f(1, sb(0x8000_0000)).ok();
    assert_eq!(f.x(10), 0xffff_ffff_8000_0000);
    let f = Snippet::of(&[enc::fmv_x_w(10, 1)]).f(1, sb(0x7fff_ffff)).ok();
    assert_eq!(f.x(10), 0x7fff_ffff);
}

#[test]
fn fmv_d_x_and_x_d_copy_raw_bits() {
    let f = Snippet::of(&[enc::fmv_d_x(10, 1), enc::fmv_x_d(11, 10)]).x(1, SNAN_D).ok();
    assert_eq!(f.f(10), SNAN_D);
    assert_eq!(f.x(11), SNAN_D);
    assert_eq!(f.fflags, 0);
}

#[test]
fn fsgnj_family_d() {
    assert_eq!(fp(enc::fsgnj_d(10, 1, 2), d(1.0), d(-2.0)).f(10), d(-1.0));
    assert_eq!(fp(enc::fsgnjn_d(10, 1, 2), d(1.0), d(-2.0)).f(10), d(1.0));
    assert_eq!(fp(enc::fsgnjx_d(10, 1, 2), d(-1.0), d(-2.0)).f(10), d(1.0));
    assert_eq!(fp(enc::fsgnjx_d(10, 1, 2), d(-1.0), d(2.0)).f(10), d(-1.0));
}

#[test]
fn fsgnj_family_s() {
    assert_eq!(fp(enc::fsgnj_s(10, 1, 2), s(1.0), s(-2.0)).f(10), s(-1.0));
    assert_eq!(fp(enc::fsgnjn_s(10, 1, 2), s(1.0), s(-2.0)).f(10), s(1.0));
    assert_eq!(fp(enc::fsgnjx_s(10, 1, 2), s(-1.0), s(-2.0)).f(10), s(1.0));
}

#[test]
fn fsgnj_s_unboxed_operands_read_as_canonical_nan() {
    // rs1 unboxed: the canonical NaN with rs2's sign.
    assert_eq!(res(&fp(enc::fsgnj_s(10, 1, 2), UNBOXED_ONE, s(-2.0))), (sb(CNAN_S | 0x8000_0000), 0));
    // rs2 unboxed: its sign is the canonical NaN's (positive), so fsgnjx keeps rs1's sign.
    assert_eq!(res(&fp(enc::fsgnjx_s(10, 1, 2), s(-3.0), UNBOXED_ONE)), (s(-3.0), 0));
    assert_eq!(res(&fp(enc::fsgnjn_s(10, 1, 2), s(3.0), 0xffff_fffe_bf80_0000)), (s(-3.0), 0));
}

#[test]
fn fsgnj_keeps_nan_payload_and_raises_nothing() {
    let f = fp(enc::fsgnjn_d(10, 1, 2), SNAN_D, SNAN_D);
    assert_eq!(res(&f), (SNAN_D | 1 << 63, 0));
}

// ---- single/double conversion ----------------------------------------------------------------

#[test]
fn fcvt_s_d_rounds_and_overflows() {
    let one_third = 1.0f64 / 3.0;
    assert_eq!(res(&Snippet::of(&[enc::fcvt_s_d(10, 1, rm::RNE)]).fd(1, one_third).ok()), (s(one_third as f32), NX));
    assert_eq!(res(&Snippet::of(&[enc::fcvt_s_d(10, 1, rm::RNE)]).fd(1, 1e300).ok()), (s(f32::INFINITY), OF | NX));
    assert_eq!(res(&Snippet::of(&[enc::fcvt_s_d(10, 1, rm::RTZ)]).fd(1, 1e300).ok()), (s(f32::MAX), OF | NX));
}

#[test]
fn fcvt_s_d_tiny_inexact_result_underflows() {
    let f = Snippet::of(&[enc::fcvt_s_d(10, 1, rm::RNE)]).fd(1, 1e-40).ok();
    assert_eq!(res(&f), (s(1e-40f64 as f32), UF | NX));
    assert!((1e-40f64 as f32).is_subnormal());
}

#[test]
fn fcvt_s_d_nan_gives_canonical_nan() {
    assert_eq!(res(&Snippet::of(&[enc::fcvt_s_d(10, 1, rm::RNE)]).f(1, QNAN_D_PAYLOAD).ok()), (sb(CNAN_S), 0));
    assert_eq!(res(&Snippet::of(&[enc::fcvt_s_d(10, 1, rm::RNE)]).f(1, SNAN_D).ok()), (sb(CNAN_S), NV));
}

#[test]
fn fcvt_d_s_exact_and_nan() {
    assert_eq!(res(&Snippet::of(&[enc::fcvt_d_s(10, 1, rm::RNE)]).fs(1, 1.5).ok()), (d(1.5), 0));
    assert_eq!(res(&Snippet::of(&[enc::fcvt_d_s(10, 1, rm::RNE)]).f(1, sb(SNAN_S)).ok()), (CNAN_D, NV));
}

#[test]
fn f0_is_an_ordinary_register() {
    let f = Snippet::of(&[enc::fmv_d_x(0, 1), enc::fmv_x_d(10, 0)]).x(1, 0x55).ok();
    assert_eq!((f.f(0), f.x(10)), (0x55, 0x55));
}

// ---- FP loads and stores -----------------------------------------------------------------------

#[test]
fn flw_boxes_and_fsw_stores_low_word() {
    let f = Snippet::of(&[enc::flw(10, 1, 0), enc::fsw(1, 10, 8)]).x(1, DATA).mem32(DATA, SNAN_S).ok();
    assert_eq!(f.f(10), sb(SNAN_S));
    assert_eq!(f.mem64(DATA + 8), SNAN_S as u64);
    assert_eq!(f.fflags, 0);
}

#[test]
fn fsw_of_unboxed_register_stores_raw_low_bits() {
    let f = Snippet::of(&[enc::fsw(1, 2, 0)]).x(1, DATA).f(2, 0x1234_5678_9abc_def0).ok();
    assert_eq!(f.mem64(DATA), 0x9abc_def0);
}

#[test]
fn fld_fsd_round_trip_signaling_nan_unchanged() {
    let f = Snippet::of(&[enc::fld(10, 1, 0), enc::fsd(1, 10, -8)]).x(1, DATA + 8).mem64(DATA + 8, SNAN_D).ok();
    assert_eq!(f.f(10), SNAN_D);
    assert_eq!(f.mem64(DATA), SNAN_D);
}

// ---- reserved rounding modes -------------------------------------------------------------------

#[test]
fn static_rm_5_and_6_trap_illegal_with_insn_bits() {
    for m in [5, 6] {
        for insn in [
            enc::fadd_s(10, 1, 2, m),
            enc::fmul_d(10, 1, 2, m),
            enc::fsqrt_d(10, 1, m),
            enc::fmadd_d(10, 1, 2, 3, m),
            enc::fcvt_w_d(10, 1, m),
            enc::fcvt_d_l(10, 1, m),
            enc::fcvt_s_d(10, 1, m),
        ] {
            let f = Snippet::of(&[insn]).fd(1, 1.5).fd(2, 2.5).run();
            assert_eq!(f.trapped(), Trap { cause: cause::ILLEGAL, epc: CODE, tval: insn as u64 }, "{insn:#x}");
            assert_eq!((f.f(10), f.x(10), f.fflags), (0, 0, 0), "{insn:#x} changed state");
        }
    }
}

#[test]
fn dynamic_rm_with_frm_5_6_7_traps_illegal() {
    for frm in [5, 6, 7] {
        let insn = enc::fadd_d(10, 1, 2, rm::DYN);
        let f = Snippet::of(&[insn]).fd(1, 1.5).fd(2, 2.5).frm(frm).run();
        assert_eq!(f.trapped(), Trap { cause: cause::ILLEGAL, epc: CODE, tval: insn as u64 }, "frm {frm}");
        assert_eq!(f.f(10), 0);
    }
}

#[test]
fn dynamic_rm_invalid_frm_traps_for_exact_conversion_too() {
    let insn = enc::fcvt_d_w(10, 1, rm::DYN);
    let t = Snippet::of(&[insn]).x(1, 1).frm(5).trap();
    assert_eq!((t.cause, t.tval), (cause::ILLEGAL, insn as u64));
}

#[test]
fn instructions_without_rounding_ignore_invalid_frm() {
    let f = Snippet::of(&[enc::fmin_d(10, 1, 2), enc::fsgnj_d(11, 1, 2), enc::feq_d(12, 1, 2)])
        .fd(1, 1.0)
        .fd(2, 2.0)
        .frm(7)
        .ok();
    assert_eq!((f.f(10), f.f(11), f.x(12)), (d(1.0), d(1.0), 0));
}

// ---- mstatus.FS --------------------------------------------------------------------------------

#[test]
fn fp_instruction_with_fs_off_traps_illegal() {
    for insn in [
        enc::fadd_d(10, 1, 2, rm::RNE),
        enc::flw(10, 1, 0),
        enc::fsd(1, 2, 0),
        enc::fmv_x_d(10, 1),
        enc::fmv_w_x(10, 1),
        enc::fclass_s(10, 1),
        enc::feq_d(10, 1, 2),
        enc::fsgnj_s(10, 1, 2),
        enc::fmadd_s(10, 1, 2, 3, rm::RNE),
        enc::fcvt_d_l(10, 1, rm::RNE),
    ] {
        let f = Snippet::of(&[insn]).x(1, DATA).mstatus_fs(fs::OFF).run();
        assert_eq!(f.trapped(), Trap { cause: cause::ILLEGAL, epc: CODE, tval: insn as u64 }, "{insn:#x}");
        assert_eq!(f.mem64(DATA), 0, "{insn:#x} stored");
    }
}

#[test]
fn c_fld_with_fs_off_traps_with_16_bit_tval() {
    let insn = mimic_arch_riscv::decode::enc16::c_fld(9, 8, 8);
    let t = Snippet::new().c(insn).x(8, DATA).mstatus_fs(fs::OFF).trap();
    assert_eq!(t, Trap { cause: cause::ILLEGAL, epc: CODE, tval: insn as u64 });
}

#[test]
fn fp_result_write_makes_fs_dirty() {
    for (start, insn) in [
        (fs::INITIAL, enc::fadd_d(10, 1, 2, rm::RNE)),
        (fs::CLEAN, enc::flw(10, 3, 0)),
        (fs::CLEAN, enc::fmv_d_x(10, 3)),
        (fs::INITIAL, enc::fcvt_s_w(10, 3, rm::RNE)),
    ] {
        let f = Snippet::of(&[insn]).x(3, DATA).mstatus_fs(start).ok();
        assert_eq!(f.fs_field(), fs::DIRTY, "{insn:#x}");
    }
}

#[test]
fn mstatus_read_shows_sd_once_fs_dirty() {
    let f = Snippet::of(&[enc::csrrs(10, 0, 0x300), enc::fadd_d(1, 1, 1, rm::RNE), enc::csrrs(11, 0, 0x300)])
        .mstatus_fs(fs::CLEAN)
        .ok();
    assert_eq!(f.x(10) >> 63, 0);
    assert_eq!(f.x(11) >> 63, 1);
    assert_eq!((f.x(11) >> 13) & 3, fs::DIRTY);
}

#[test]
fn fp_after_enabling_fs_in_same_snippet_runs() {
    // csrrs mstatus, x1 (FS = Initial), then an FP instruction in the next block.
    let f = Snippet::of(&[enc::csrrs(0, 1, 0x300), enc::fmv_d_x(10, 2)])
        .x(1, 1 << 13)
        .x(2, 0x1234)
        .mstatus_fs(fs::OFF)
        .ok();
    assert_eq!(f.f(10), 0x1234);
}

#[test]
fn fp_after_disabling_fs_in_same_snippet_traps() {
    let insn = enc::fmv_d_x(10, 2);
    let f = Snippet::of(&[enc::fmv_d_x(11, 2), enc::csrrc(0, 1, 0x300), insn]).x(1, 3 << 13).x(2, 0x1234).run();
    assert_eq!(f.trapped(), Trap { cause: cause::ILLEGAL, epc: CODE + 8, tval: insn as u64 });
    assert_eq!((f.f(11), f.f(10)), (0x1234, 0));
}
