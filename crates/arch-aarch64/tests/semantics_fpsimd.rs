//! SIMD&FP semantics: each snippet runs on every tier, and the common final state is checked
//! against the Arm ARM (values cross-checked with QEMU 10.0.2 `qemu-aarch64`, see qemu_diff.rs).

mod common;

use common::*;
use mimic_arch_aarch64::decode::enc;

const S: u32 = 0;
const D: u32 = 1;
const Q: u32 = 2;
const LD: u32 = 1;
const ST: u32 = 0;

const FPCR_DN: u64 = 1 << 25;
const FPCR_FZ: u64 = 1 << 24;
const RP: u64 = 1 << 22;
const RM: u64 = 2 << 22;
const RZ: u64 = 3 << 22;

const IOC: u64 = 1;
const DZC: u64 = 2;
const OFC: u64 = 4;
const UFC: u64 = 8;
const IXC: u64 = 16;
const IDC: u64 = 128;
const QC: u64 = 1 << 27;

const V1: u128 = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100;
const ONE: u64 = 0x3ff0_0000_0000_0000;
const TWO: u64 = 0x4000_0000_0000_0000;
const THREE: u64 = 0x4008_0000_0000_0000;
const QNAN: u64 = 0x7ff8_0000_0000_0000;
const SNAN: u64 = 0x7ff0_0000_0000_0001;
const DEFAULT_NAN: u64 = 0x7ff8_0000_0000_0000;

fn dv(x: u64) -> u128 {
    u128::from(x)
}

// ---- loads and stores ----------------------------------------------------------------------------

#[test]
fn q_store_then_load_moves_all_128_bits() {
    let f = Snippet::of(&[
        enc::vldst_uimm(0, 2, 1, 0, 1), // str q1, [x0, #16]
        enc::vldst_uimm(0, 3, 2, 0, 1), // ldr q2, [x0, #16]
    ])
    .x(0, DATA)
    .v(1, V1)
    .ok();
    assert_eq!(f.v(2), V1);
    assert_eq!(f.mem(DATA + 16, 8), V1 as u64);
    assert_eq!(f.mem(DATA + 24, 8), (V1 >> 64) as u64);
}

#[test]
fn scalar_loads_zero_the_rest_of_the_register() {
    let f = Snippet::of(&[
        enc::vldst_uimm(0, LD, 1, 0, 0), // ldr b1, [x0]
        enc::vldst_uimm(1, LD, 2, 0, 0), // ldr h2, [x0]
        enc::vldst_uimm(2, LD, 3, 0, 0), // ldr s3, [x0]
        enc::vldst_uimm(3, LD, 4, 0, 0), // ldr d4, [x0]
    ])
    .x(0, DATA)
    .mem64(DATA, 0x8877_6655_4433_2211)
    .v(1, u128::MAX)
    .v(2, u128::MAX)
    .v(3, u128::MAX)
    .v(4, u128::MAX)
    .ok();
    assert_eq!([f.v(1), f.v(2), f.v(3), f.v(4)], [0x11, 0x2211, 0x4433_2211, 0x8877_6655_4433_2211]);
}

#[test]
fn scalar_stores_write_only_their_width() {
    let f = Snippet::of(&[
        enc::vldst_unscaled(1, ST, 1, 0, 1),  // stur h1, [x0, #1]
        enc::vldst_reg(2, ST, 1, 0, 2, 3, 1), // str s1, [x0, x2, lsl #2]
    ])
    .x(0, DATA)
    .x(2, 2)
    .v(1, V1)
    // The unaligned `stur` needs Normal memory (with the MMU off, data is Device memory).
    .normal_memory()
    .ok();
    assert_eq!(f.mem(DATA, 8), 0x0001_0000);
    assert_eq!(f.mem(DATA + 8, 4), 0x0302_0100);
}

#[test]
fn q_pairs_pre_and_post_index_write_back() {
    let f = Snippet::of(&[
        enc::vldstp_pre(Q, ST, 1, 2, 31, -2), // stp q1, q2, [sp, #-32]!
        enc::vldstp_post(Q, LD, 3, 4, 31, 2), // ldp q3, q4, [sp], #32
        enc::vldstp_off(D, ST, 1, 2, 0, 1),   // stp d1, d2, [x0, #8]
        enc::vldstp_nt(S, LD, 5, 6, 0, 2),    // ldnp s5, s6, [x0, #8]
    ])
    .x(31, DATA + 0x100)
    .x(0, DATA)
    .v(1, V1)
    .v(2, !V1)
    .ok();
    assert_eq!((f.v(3), f.v(4)), (V1, !V1));
    assert_eq!(f.sp(), DATA + 0x100);
    assert_eq!(f.mem(DATA + 0xe0, 8), V1 as u64);
    assert_eq!(f.mem(DATA + 0xf0, 8), !V1 as u64);
    assert_eq!((f.v(5), f.v(6)), (0x0302_0100, 0x0706_0504));
}

#[test]
fn literal_loads_read_relative_to_pc() {
    let f = Snippet::of(&[
        enc::vldr_lit(2, 1, 8), // ldr q1, .+8
        enc::b(20),
        0x3322_1100,
        0x7766_5544,
        0xbbaa_9988,
        0xffee_ddcc,
        enc::vldr_lit(0, 2, -16), // ldr s2, .-16
    ])
    .ok();
    assert_eq!(f.v(1), 0xffee_ddcc_bbaa_9988_7766_5544_3322_1100);
    assert_eq!(f.v(2), 0x3322_1100);
}

#[test]
fn ld1_multiple_post_index_moves_by_the_size() {
    let bytes: Vec<u8> = (0..64).collect();
    let f = Snippet::of(&[
        enc::vldst_multi_post(1, 1, 0b1010, 0, 0, 31, 1), // ld1 {v1.16b, v2.16b}, [x0], #32
        enc::vldst_multi(0, 0, 0b0111, 0, 3, 1),          // st1 {v1.8b}, [x3]
    ])
    .x(0, DATA)
    .x(3, DATA + 0x200)
    .mem(DATA, &bytes)
    .ok();
    assert_eq!(f.v(1), V1);
    assert_eq!(f.v(2), V1 + 0x1010_1010_1010_1010_1010_1010_1010_1010);
    assert_eq!(f.x(0), DATA + 32);
    assert_eq!(f.mem(DATA + 0x200, 8), V1 as u64);
}

#[test]
fn ld2_deinterleaves_and_st2_interleaves() {
    let bytes: Vec<u8> = (0..32).collect();
    let f = Snippet::of(&[
        enc::vldst_multi(1, 1, 0b1000, 0, 0, 1), // ld2 {v1.16b, v2.16b}, [x0]
        enc::vldst_multi(1, 0, 0b1000, 0, 3, 1), // st2 {v1.16b, v2.16b}, [x3]
    ])
    .x(0, DATA)
    .x(3, DATA + 0x100)
    .mem(DATA, &bytes)
    .ok();
    assert_eq!(f.v(1) as u64, 0x0e0c_0a08_0604_0200);
    assert_eq!(f.v(2) as u64, 0x0f0d_0b09_0705_0301);
    assert_eq!(&f.data[0x100..0x120], &bytes[..]);
}

#[test]
fn ld1r_replicates_and_single_lanes_keep_the_rest() {
    let f = Snippet::of(&[
        enc::vldst_single(1, 1, 0, 0b110, 0, 1, 0, 1), // ld1r {v1.8h}, [x0]
        enc::vldst_single(1, 1, 0, 0b100, 0, 1, 0, 2), // ld1 {v2.d}[1], [x0]
        enc::vldst_single_post(0, 0, 0, 0b100, 1, 0, 3, 31, 2), // st1 {v2.s}[1], [x3], #4
    ])
    .x(0, DATA)
    .x(3, DATA + 0x100)
    .mem64(DATA, 0x1122_3344_5566_7788)
    .v(2, 0xaaaa_bbbb_cccc_dddd)
    .ok();
    assert_eq!(f.v(1), 0x7788_7788_7788_7788_7788_7788_7788_7788);
    assert_eq!(f.v(2), 0x1122_3344_5566_7788_aaaa_bbbb_cccc_dddd);
    assert_eq!(f.mem(DATA + 0x100, 4), 0xaaaa_bbbb);
    assert_eq!(f.x(3), DATA + 0x104);
}

// ---- moves ----------------------------------------------------------------------------------------

#[test]
fn fmov_between_register_files() {
    let f = Snippet::of(&[
        enc::fp_int(1, 1, 0, 7, 1, 2), // fmov d2, x1
        enc::fp_int(1, 2, 1, 7, 1, 2), // fmov v2.d[1], x1
        enc::fp_int(0, 0, 0, 6, 3, 4), // fmov w4, s3
        enc::fp_int(1, 2, 1, 6, 3, 5), // fmov x5, v3.d[1]
        enc::fp_int(0, 0, 0, 7, 1, 6), // fmov s6, w1
    ])
    .x(1, 0x1234_5678_9abc_def0)
    .v(3, V1)
    .v(6, u128::MAX)
    .ok();
    assert_eq!(f.v(2), 0x1234_5678_9abc_def0_1234_5678_9abc_def0);
    assert_eq!(f.x(4), 0x0302_0100);
    assert_eq!(f.x(5), 0x0f0e_0d0c_0b0a_0908);
    assert_eq!(f.v(6), 0x9abc_def0);
}

#[test]
fn dup_umov_smov_ins() {
    let f = Snippet::of(&[
        enc::simd_copy(1, 0, 0b00001, 0b0001, 1, 2), // dup v2.16b, w1
        enc::simd_copy(0, 0, 0b00111, 0b0111, 3, 4), // umov w4, v3.b[3]
        enc::simd_copy(1, 0, 0b01111, 0b0101, 3, 5), // smov x5, v3.b[7]
        enc::simd_copy(1, 0, 0b11100, 0b0011, 1, 3), // mov v3.s[3], w1
        enc::simd_copy(1, 1, 0b11000, 0b0000, 3, 6), // mov v6.d[1], v3.d[0]
        enc::simd_copy(0, 0, 0b01010, 0b0000, 3, 7), // dup v7.4h, v3.h[2]
    ])
    .x(1, 0x1ff)
    .v(3, 0x0f0e_0d0c_0b0a_0908_8706_0504_0302_0100)
    .ok();
    assert_eq!(f.v(2), 0xffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff);
    assert_eq!(f.x(4), 3);
    assert_eq!(f.x(5), 0xffff_ffff_ffff_ff87);
    assert_eq!(f.v(3) >> 96, 0x1ff);
    assert_eq!(f.v(6) >> 64, 0x8706_0504_0302_0100);
    assert_eq!(f.v(7), 0x0504_0504_0504_0504);
}

#[test]
fn dup_ins_umov_reach_every_lane_size_and_both_halves() {
    let f = Snippet::of(&[
        enc::simd_copy(1, 0, 0b00010, 0b0001, 1, 2),  // dup v2.8h, w1
        enc::simd_copy(0, 0, 0b00100, 0b0001, 1, 4),  // dup v4.2s, w1
        enc::simd_copy(1, 0, 0b01000, 0b0001, 1, 5),  // dup v5.2d, x1
        enc::simd_copy(1, 0, 0b11100, 0b0000, 3, 6),  // dup v6.4s, v3.s[3]
        enc::simd_copy(1, 0, 0b11000, 0b0111, 3, 7),  // umov x7, v3.d[1]
        enc::simd_copy(0, 0, 0b10110, 0b0111, 3, 8),  // umov w8, v3.h[5]
        enc::simd_copy(1, 1, 0b00011, 0b1100, 3, 9),  // mov v9.b[1], v3.b[12]
        enc::simd_copy(1, 0, 0b10100, 0b0011, 1, 10), // mov v10.s[2], w1
    ])
    .x(1, 0x1234_5678_9abc_def0)
    .v(3, 0x0f0e_0d0c_0b0a_0908_8706_0504_0302_0100)
    .v(4, u128::MAX)
    .v(9, u128::MAX)
    .v(10, 0)
    .ok();
    assert_eq!(f.v(2), 0xdef0_def0_def0_def0_def0_def0_def0_def0);
    assert_eq!(f.v(4), 0x9abc_def0_9abc_def0, "a 64-bit DUP clears the upper half");
    assert_eq!(f.v(5), 0x1234_5678_9abc_def0_1234_5678_9abc_def0);
    assert_eq!(f.v(6), 0x0f0e_0d0c_0f0e_0d0c_0f0e_0d0c_0f0e_0d0c);
    assert_eq!(f.x(7), 0x0f0e_0d0c_0b0a_0908);
    assert_eq!(f.x(8), 0x0b0a);
    assert_eq!(f.v(9), !0xff00 | 0x0c00, "INS keeps the other lanes");
    assert_eq!(f.v(10), 0x9abc_def0_0000_0000_0000_0000);
}

#[test]
fn dup_of_a_d_lane_without_q_is_undefined() {
    let f = Snippet::of(&[enc::simd_copy(0, 0, 0b01000, 0b0001, 1, 2)]).run(); // dup v2.1d, x1
    assert_eq!(f.ec(), 0, "EC Unknown");
}

#[test]
fn fmov_fabs_fneg_of_singles_touch_only_the_sign_and_clear_the_rest() {
    let snan_s = 0xff80_0001u64;
    let s = |op: u32| {
        let f = Snippet::of(&[enc::fp_1src(0, op, 1, 3)])
            .v(1, 0xdead_beef_0000_0000_0000_0000 | dv(snan_s))
            .v(3, u128::MAX)
            .ok();
        (f.v(3), f.fpsr)
    };
    assert_eq!(s(0), (dv(snan_s), 0)); // fmov s3, s1
    assert_eq!(s(1), (dv(0x7f80_0001), 0)); // fabs: no Invalid Operation for a signalling NaN
    assert_eq!(s(2), (dv(0x7f80_0001), 0)); // fneg
}

#[test]
fn movi_mvni_orr_bic_immediates() {
    let f = Snippet::of(&[
        enc::simd_modimm(1, 0, 0, 0b0000, 0, 1),           // movi v1.4s, #0
        enc::simd_modimm(1, 0, 0b111, 0b0010, 0x1f, 2),    // movi v2.4s, #0xff, lsl #8
        enc::simd_modimm(0, 1, 0, 0b1110, 0b10101, 3),     // movi d3, #0x00ff00ff00
        enc::simd_modimm(1, 1, 0, 0b1100, 0x1f, 4),        // mvni v4.4s, #0x1f, msl #8
        enc::simd_modimm(1, 0, 0b010, 0b1110, 0, 5),       // movi v5.16b, #0x40
        enc::simd_modimm(0, 1, 0b111, 0b1011, 0x1f, 6),    // bic v6.4h, #0xff, lsl #8
        enc::simd_modimm(1, 0, 0b011, 0b1111, 0b10000, 7), // fmov v7.4s, #1.0
    ])
    .v(1, u128::MAX)
    .v(6, u128::MAX)
    .ok();
    assert_eq!(f.v(1), 0);
    assert_eq!(f.v(2), 0x0000_ff00_0000_ff00_0000_ff00_0000_ff00);
    assert_eq!(f.v(3), 0x0000_00ff_00ff_00ff);
    assert_eq!(f.v(4), 0xffff_e000_ffff_e000_ffff_e000_ffff_e000);
    assert_eq!(f.v(5), 0x4040_4040_4040_4040_4040_4040_4040_4040);
    assert_eq!(f.v(6), 0x00ff_00ff_00ff_00ff);
    assert_eq!(f.v(7), 0x3f80_0000_3f80_0000_3f80_0000_3f80_0000);
}

// ---- integer SIMD -----------------------------------------------------------------------------------

fn v3(insn: u32, a: u128, b: u128) -> u128 {
    Snippet::of(&[insn]).v(1, a).v(2, b).v(3, 0x5555).ok().v(3)
}

#[test]
fn bitwise_family() {
    let (a, b, d) = (0xff00_ff00u128, 0x0ff0_0ff0u128, 0x5555);
    assert_eq!(v3(enc::simd_3same(1, 0, 0, 0b00011, 2, 1, 3), a, b), a & b);
    assert_eq!(v3(enc::simd_3same(1, 0, 1, 0b00011, 2, 1, 3), a, b), a & !b);
    assert_eq!(v3(enc::simd_3same(1, 0, 2, 0b00011, 2, 1, 3), a, b), a | b);
    assert_eq!(v3(enc::simd_3same(1, 0, 3, 0b00011, 2, 1, 3), a, b), a | !b);
    assert_eq!(v3(enc::simd_3same(0, 1, 0, 0b00011, 2, 1, 3), a, b), a ^ b);
    assert_eq!(v3(enc::simd_3same(1, 1, 1, 0b00011, 2, 1, 3), a, b), (d & a) | (!d & b));
    assert_eq!(v3(enc::simd_3same(1, 1, 2, 0b00011, 2, 1, 3), a, b), (b & a) | (!b & d));
    assert_eq!(v3(enc::simd_3same(1, 1, 3, 0b00011, 2, 1, 3), a, b), (!b & a) | (b & d));
    // NOT
    assert_eq!(v3(enc::simd_2misc(0, 1, 0, 0b00101, 1, 3), a, 0), u128::from(!(a as u64)));
}

#[test]
fn compares_give_all_ones_lanes() {
    let a = 0x80_7f_00_01u128;
    let b = 0x7f_80_00_02u128;
    assert_eq!(v3(enc::simd_3same(0, 1, 0, 0b10001, 2, 1, 3), a, b), 0xffff_ffff_0000_ff00);
    assert_eq!(v3(enc::simd_3same(0, 0, 0, 0b00110, 2, 1, 3), a, b) & 0xffff_ffff, 0x00ff_0000); // cmgt (signed)
    assert_eq!(v3(enc::simd_3same(0, 1, 0, 0b00110, 2, 1, 3), a, b) & 0xffff_ffff, 0xff00_0000); // cmhi
    assert_eq!(v3(enc::simd_3same(0, 1, 0, 0b00111, 2, 1, 3), a, b) & 0xffff_ffff, 0xff00_ff00); // cmhs
    assert_eq!(v3(enc::simd_3same(0, 0, 0, 0b10001, 2, 1, 3), a, b) & 0xffff_ffff, 0x0000_0000); // cmtst
    assert_eq!(v3(enc::simd_2misc(0, 0, 0, 0b01001, 1, 3), a, 0), 0xffff_ffff_0000_ff00); // cmeq #0
    assert_eq!(v3(enc::simd_s2misc(1, 3, 0b01000, 1, 3), 1 << 63, 0), 0); // cmge d, #0
}

// The inline three-same operations, checked lane by lane against the Arm ARM's per-element
// definitions at every lane size, with Q=1 and with Q=0 (which zeroes bits 127:64).

/// Operands whose lanes meet every case at every size: tops set in one and clear in the
/// other, 0x7f.. against 0x80.., zero against all ones, carries and borrows across lane
/// boundaries, and equal lanes (the top 32 bits of each pair, and all of `P` against itself).
const P: u128 = 0x0123_4567_89ab_cdef_8000_7fff_ff80_7f00;
const Q2: u128 = 0x0123_4567_7654_3210_7fff_8000_80ff_007f;
const R2: u128 = 0xffff_0000_0000_ffff_0001_ff01_00ff_ff80;

fn lane_of(x: u128, i: u32, esz: u32) -> u64 {
    ((x >> (i * esz)) as u64) & (u64::MAX >> (64 - esz))
}

fn signed(x: u64, esz: u32) -> i64 {
    ((x << (64 - esz)) as i64) >> (64 - esz)
}

/// `f` applied to each `esz`-bit lane of n and m (of the low 64 bits only when !q).
fn per_lane(n: u128, m: u128, esz: u32, q: bool, f: impl Fn(u64, u64, u32) -> u64) -> u128 {
    let bits = if q { 128 } else { 64 };
    let mut r = 0u128;
    for i in 0..bits / esz {
        let x = f(lane_of(n, i, esz), lane_of(m, i, esz), esz) & (u64::MAX >> (64 - esz));
        r |= u128::from(x) << (i * esz);
    }
    r
}

fn all_ones_if(c: bool) -> u64 {
    if c {
        u64::MAX
    } else {
        0
    }
}

/// Runs `u:opcode` at every lane size (no D lanes without Q) on every pair of operands.
fn check_3same_lanes(u: u32, opcode: u32, f: impl Fn(u64, u64, u32) -> u64) {
    for (n, m) in [(P, Q2), (Q2, P), (P, P), (R2, P), (Q2, R2)] {
        for size in 0..4u32 {
            for q in [1u32, 0] {
                if size == 3 && q == 0 {
                    continue;
                }
                let esz = 8 << size;
                let got = Snippet::of(&[enc::simd_3same(q, u, size, opcode, 2, 1, 3)])
                    .v(1, n)
                    .v(2, m)
                    .v(3, u128::MAX)
                    .ok()
                    .v(3);
                let want = per_lane(n, m, esz, q == 1, &f);
                assert_eq!(got, want, "u={u} opcode={opcode:#07b} size={size} q={q} n={n:#x} m={m:#x}");
            }
        }
    }
}

#[test]
fn add_sub_wrap_within_each_lane() {
    check_3same_lanes(0, 0b10000, |a, b, _| a.wrapping_add(b));
    check_3same_lanes(1, 0b10000, |a, b, _| a.wrapping_sub(b));
}

#[test]
fn cmeq_cmtst_test_each_lane() {
    check_3same_lanes(1, 0b10001, |a, b, _| all_ones_if(a == b));
    check_3same_lanes(0, 0b10001, |a, b, _| all_ones_if(a & b != 0));
}

#[test]
fn unsigned_compares_of_each_lane() {
    check_3same_lanes(1, 0b00110, |a, b, _| all_ones_if(a > b)); // cmhi
    check_3same_lanes(1, 0b00111, |a, b, _| all_ones_if(a >= b)); // cmhs
}

#[test]
fn signed_compares_of_each_lane() {
    check_3same_lanes(0, 0b00110, |a, b, e| all_ones_if(signed(a, e) > signed(b, e))); // cmgt
    check_3same_lanes(0, 0b00111, |a, b, e| all_ones_if(signed(a, e) >= signed(b, e)));
    // cmge
}

#[test]
fn add_and_compare_known_answers() {
    let a = 0x7fff_0080_ff01u128;
    let b = 0x0001_8080_0101u128;
    // add v3.8b: 01+01, ff+01 wraps to 00 without carrying into 0x80+0x80 (also wrapping).
    assert_eq!(v3(enc::simd_3same(0, 0, 0, 0b10000, 2, 1, 3), a, b), 0x7f00_8000_0002);
    // add v3.4h: 0x7fff + 0x0001 = 0x8000; ff01 + 0101 = 0002 with the carry dropped.
    assert_eq!(v3(enc::simd_3same(0, 0, 1, 0b10000, 2, 1, 3), a, b), 0x8000_8100_0002);
    // sub v3.16b: 0x00 - 0x80 = 0x80 and 0x01 - 0x01 = 0 with no borrow from the next lane.
    assert_eq!(v3(enc::simd_3same(1, 1, 0, 0b10000, 2, 1, 3), b, a), 0x8102_8000_0200);
    // cmgt v3.8b: 0x00 > 0x80 (-128) and 0x7f > 0x00; 0xff (-1) is not greater than 0x01.
    assert_eq!(v3(enc::simd_3same(0, 0, 0, 0b00110, 2, 1, 3), a, b), 0xff00_ff00_0000);
}

#[test]
fn bitwise_ops_of_64_bit_vectors_zero_the_upper_half() {
    let (n, m, d) = (P, Q2, R2);
    let run = |u: u32, size: u32| {
        Snippet::of(&[enc::simd_3same(0, u, size, 0b00011, 2, 1, 3)]).v(1, n).v(2, m).v(3, d).ok().v(3)
    };
    let lo = |x: u128| x & u128::from(u64::MAX);
    assert_eq!(run(0, 0), lo(n & m));
    assert_eq!(run(0, 1), lo(n & !m));
    assert_eq!(run(0, 2), lo(n | m));
    assert_eq!(run(0, 3), lo(n | !m));
    assert_eq!(run(1, 0), lo(n ^ m));
    assert_eq!(run(1, 1), lo((d & n) | (!d & m))); // bsl
    assert_eq!(run(1, 2), lo((m & n) | (!m & d))); // bit
    assert_eq!(run(1, 3), lo((!m & n) | (m & d))); // bif
}

#[test]
fn d_lane_add_without_q_is_undefined() {
    let f = Snippet::of(&[enc::simd_3same(0, 0, 3, 0b10000, 2, 1, 3)]).run(); // add v3.1d
    assert_eq!(f.ec(), 0, "EC Unknown");
}

#[test]
fn pairwise_and_across_lanes() {
    let a = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100u128;
    assert_eq!(v3(enc::simd_3same(1, 1, 0, 0b10100, 2, 1, 3), a, 0) as u64, 0x0f0d_0b09_0705_0301); // umaxp
    assert_eq!(v3(enc::simd_3same(1, 0, 0, 0b10111, 2, 1, 3), a, a) as u64, 0x1d19_1511_0d09_0501); // addp
    assert_eq!(v3(enc::simd_across(1, 0, 0, 0b11011, 1, 3), a, 0), 120); // addv b
    assert_eq!(v3(enc::simd_across(1, 1, 0, 0b01010, 1, 3), a | 0x80, 0), 0x80); // umaxv b
    assert_eq!(v3(enc::simd_across(1, 0, 0, 0b01010, 1, 3), a | 0x80, 0), 0x0f); // smaxv b
    assert_eq!(v3(enc::simd_across(1, 1, 0, 0b00011, 1, 3), u128::MAX, 0), 16 * 255); // uaddlv h
    assert_eq!(v3(enc::simd_spair(0, 3, 0b11011, 1, 3), (3u128 << 64) | 4, 0), 7);
    // addp d
}

#[test]
fn shifts_narrow_and_widen() {
    let h = 0x1234_5678_9abc_def0_0fed_cba9_8765_4321u128;
    // shrn v3.8b, v1.8h, #4
    assert_eq!(v3(enc::simd_shift(0, 0, 0b0001, 4, 0b10000, 1, 3), h, 0), 0x23_67_ab_ef_fe_ba_76_32);
    // ushr v3.4s, v1.4s, #4 / sshr
    assert_eq!(v3(enc::simd_shift(1, 1, 0b0111, 4, 0, 1, 3), 0x8000_0000, 0), 0x0800_0000);
    assert_eq!(v3(enc::simd_shift(1, 0, 0b0111, 4, 0, 1, 3), 0x8000_0000, 0), 0xf800_0000);
    // shl v3.2d, v1.2d, #8
    assert_eq!(v3(enc::simd_shift(1, 0, 0b1001, 0, 0b01010, 1, 3), 0x1_0000_0000_0000_00ff, 0), (0x100 << 64) | 0xff00);
    // usra d3, d1, #1
    assert_eq!(v3(enc::simd_sshift(1, 0b1111, 7, 0b00010, 1, 3), 4, 0), 0x5555 + 2);
    // uxtl v3.2d, v1.2s / sxtl
    assert_eq!(
        v3(enc::simd_shift(0, 1, 0b0100, 0, 0b10100, 1, 3), 0x8000_0000_0000_0001, 0),
        0x8000_0000_0000_0000_0000_0001
    );
    assert_eq!(
        v3(enc::simd_shift(0, 0, 0b0100, 0, 0b10100, 1, 3), 0x8000_0000_0000_0001, 0),
        0xffff_ffff_8000_0000_0000_0000_0000_0001
    );
}

#[test]
fn widening_and_narrowing_arithmetic() {
    // saddl v3.2d, v1.2s, v2.2s
    assert_eq!(v3(enc::simd_3diff(0, 0, 2, 0, 2, 1, 3), 0xffff_ffff, 0xffff_ffff), u128::from(u64::MAX - 1));
    // uaddw v3.2d, v1.2d, v2.2s
    assert_eq!(v3(enc::simd_3diff(0, 1, 2, 1, 2, 1, 3), 5, 0xffff_ffff), 0x1_0000_0004);
    // addhn v3.8b, v1.8h, v2.8h
    assert_eq!(v3(enc::simd_3diff(0, 0, 0, 0b0100, 2, 1, 3), 0x0180, 0x0080) as u8, 0x02);
    // xtn v3.2s, v1.2d
    assert_eq!(v3(enc::simd_2misc(0, 0, 2, 0b10010, 1, 3), (5u128 << 64) | 0x1_0000_0007, 0), 0x5_0000_0007);
    // sqxtn b, h: saturates and sets QC
    let f = Snippet::of(&[enc::simd_s2misc(0, 0, 0b10100, 1, 3)]).v(1, 0x1234).ok();
    assert_eq!((f.v(3), f.fpsr), (0x7f, QC));
}

#[test]
fn permutes_ext_tbl() {
    let a = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100u128;
    let b = 0x1f1e_1d1c_1b1a_1918_1716_1514_1312_1110u128;
    assert_eq!(v3(enc::simd_ext(1, 2, 8, 1, 3), a, b), 0x1716_1514_1312_1110_0f0e_0d0c_0b0a_0908);
    assert_eq!(v3(enc::simd_perm(1, 2, 0b001, 2, 1, 3), a, b), 0x1b1a_1918_1312_1110_0b0a_0908_0302_0100); // uzp1 .4s
    assert_eq!(v3(enc::simd_perm(0, 0, 0b011, 2, 1, 3), a, b), 0x1303_1202_1101_1000); // zip1 .8b
    assert_eq!(v3(enc::simd_perm(0, 0, 0b110, 2, 1, 3), a, b), 0x1707_1505_1303_1101); // trn2 .8b
                                                                                       // tbl v3.8b, {v1.16b}, v2.8b: out of range indexes give 0
    assert_eq!(v3(enc::simd_tbl(0, 2, 0, 0, 1, 3), a, 0x00ff_0f01), 0x0f01);
}

#[test]
fn cnt_rev_and_mul() {
    assert_eq!(v3(enc::simd_2misc(0, 0, 0, 0b00101, 1, 3), 0xff_0f_01_00, 0), 0x08_04_01_00);
    assert_eq!(v3(enc::simd_2misc(0, 0, 2, 0b00000, 1, 3), 0x1111_1111_2222_2222, 0), 0x2222_2222_1111_1111); // rev64 .2s
    assert_eq!(v3(enc::simd_2misc(0, 1, 0, 0b00000, 1, 3), 0x0403_0201, 0), 0x0102_0304); // rev32 .8b
    assert_eq!(v3(enc::simd_3same(1, 0, 2, 0b10011, 2, 1, 3), 0x1_0000_0003, 0x5_0000_0007), 0x5_0000_0015);
    assert_eq!(v3(enc::simd_3same(1, 0, 2, 0b10000, 2, 1, 3), 0xffff_ffff, 1), 0); // add .4s wraps
    assert_eq!(v3(enc::simd_3same(1, 1, 3, 0b10000, 2, 1, 3), 0, 1), u128::from(u64::MAX));
    // sub .2d, lane 0
}

// ---- scalar FP ----------------------------------------------------------------------------------

/// Run `insn` (rd 3, rn 1, rm 2) with D1 = a, D2 = b under `fpcr`: (D3, FPSR).
fn fd(insn: u32, a: u64, b: u64, fpcr: u64) -> (u64, u64) {
    let f = Snippet::of(&[insn]).v(1, dv(a)).v(2, dv(b)).v(3, u128::MAX).fpcr(fpcr).ok();
    assert_eq!(f.v(3) >> 64, 0, "scalar write must clear the upper half");
    (f.d(3), f.fpsr)
}

fn fadd_d() -> u32 {
    enc::fp_2src(1, 2, 2, 1, 3)
}

#[test]
fn double_arithmetic() {
    assert_eq!(fd(fadd_d(), ONE, TWO, 0), (THREE, 0));
    assert_eq!(fd(enc::fp_2src(1, 3, 2, 1, 3), ONE, TWO, 0), (0xbff0_0000_0000_0000, 0)); // fsub
    assert_eq!(fd(enc::fp_2src(1, 0, 2, 1, 3), THREE, TWO, 0), (0x4018_0000_0000_0000, 0)); // fmul
    assert_eq!(fd(enc::fp_2src(1, 1, 2, 1, 3), ONE, THREE, 0), (0x3fd5_5555_5555_5555, IXC)); // fdiv
    assert_eq!(fd(enc::fp_2src(1, 1, 2, 1, 3), ONE, 0, 0), (0x7ff0_0000_0000_0000, DZC));
    assert_eq!(fd(enc::fp_2src(1, 8, 2, 1, 3), ONE, TWO, 0), (0xc000_0000_0000_0000, 0)); // fnmul
    assert_eq!(fd(enc::fp_1src(1, 3, 1, 3), 0x4010_0000_0000_0000, 0, 0), (TWO, 0)); // fsqrt
    assert_eq!(fd(enc::fp_1src(1, 3, 1, 3), 0xbff0_0000_0000_0000, 0, 0), (DEFAULT_NAN, IOC));
    assert_eq!(fd(enc::fp_1src(1, 1, 1, 3), 0xbff0_0000_0000_0000, 0, 0), (ONE, 0)); // fabs
    assert_eq!(fd(enc::fp_1src(1, 2, 1, 3), ONE, 0, 0), (0xbff0_0000_0000_0000, 0));
    // fneg
}

#[test]
fn rounding_modes_follow_fpcr() {
    let third = |fpcr| fd(enc::fp_2src(1, 1, 2, 1, 3), ONE, THREE, fpcr).0;
    assert_eq!(third(0), 0x3fd5_5555_5555_5555);
    assert_eq!(third(RP), 0x3fd5_5555_5555_5556);
    assert_eq!(third(RM), 0x3fd5_5555_5555_5555);
    assert_eq!(third(RZ), 0x3fd5_5555_5555_5555);
    let neg_third = |fpcr| fd(enc::fp_2src(1, 1, 2, 1, 3), 0xbff0_0000_0000_0000, THREE, fpcr).0;
    assert_eq!(neg_third(RM), 0xbfd5_5555_5555_5556);
    assert_eq!(neg_third(RP), 0xbfd5_5555_5555_5555);
}

#[test]
fn nan_propagation_dn0_picks_first_signalling_then_quiet() {
    let q2 = QNAN | 2;
    assert_eq!(fd(fadd_d(), q2, SNAN, 0), (SNAN | 1 << 51, IOC));
    assert_eq!(fd(fadd_d(), q2, QNAN | 3, 0), (q2, 0));
    assert_eq!(fd(fadd_d(), ONE, q2 | 1 << 63, 0), (q2 | 1 << 63, 0));
    assert_eq!(fd(fadd_d(), q2, SNAN, FPCR_DN), (DEFAULT_NAN, IOC));
    assert_eq!(fd(fadd_d(), 0x7ff0_0000_0000_0000, 0xfff0_0000_0000_0000, 0), (DEFAULT_NAN, IOC));
}

#[test]
fn flush_to_zero_for_inputs_and_outputs() {
    let denorm = 0x0000_0000_0000_0001;
    assert_eq!(fd(fadd_d(), denorm, 0, 0), (denorm, 0));
    assert_eq!(fd(fadd_d(), denorm, 0, FPCR_FZ), (0, IDC));
    let min_normal = 0x0010_0000_0000_0000;
    // min_normal / 3 is tiny and inexact: without FZ a denormal with UFC|IXC, with FZ +0 and UFC.
    assert_eq!(fd(enc::fp_2src(1, 1, 2, 1, 3), min_normal, THREE, 0).1, UFC | IXC);
    assert_eq!(fd(enc::fp_2src(1, 1, 2, 1, 3), min_normal, THREE, FPCR_FZ), (0, UFC));
}

#[test]
fn fpsr_accumulates_across_instructions() {
    let f = Snippet::of(&[
        enc::fp_2src(1, 1, 2, 1, 3), // 1/3: IXC
        enc::fp_2src(1, 1, 4, 1, 5), // 1/0: DZC
        enc::fp_2src(1, 0, 6, 6, 7), // max*max: OFC|IXC
    ])
    .v(1, dv(ONE))
    .v(2, dv(THREE))
    .v(6, dv(0x7fef_ffff_ffff_ffff))
    .ok();
    assert_eq!(f.fpsr, IXC | DZC | OFC);
    assert_eq!(f.d(7), 0x7ff0_0000_0000_0000);
}

#[test]
fn fused_multiply_add_forms() {
    let f = Snippet::of(&[
        enc::fp_3src(1, 0, 0, 2, 4, 1, 3), // fmadd d3 = d4 + d1*d2
        enc::fp_3src(1, 0, 1, 2, 4, 1, 5), // fmsub d5 = d4 - d1*d2
        enc::fp_3src(1, 1, 0, 2, 4, 1, 6), // fnmadd d6 = -d4 - d1*d2
        enc::fp_3src(1, 1, 1, 2, 4, 1, 7), // fnmsub d7 = -d4 + d1*d2
    ])
    .v(1, dv(TWO))
    .v(2, dv(THREE))
    .v(4, dv(ONE))
    .ok();
    assert_eq!(
        [f.d(3), f.d(5), f.d(6), f.d(7)],
        [0x401c_0000_0000_0000, 0xc014_0000_0000_0000, 0xc01c_0000_0000_0000, 0x4014_0000_0000_0000]
    );
    // A quiet-NaN addend with 0 × ∞ gives the default NaN and IOC.
    let f = Snippet::of(&[enc::fp_3src(1, 0, 0, 2, 4, 1, 3)])
        .v(1, 0)
        .v(2, dv(0x7ff0_0000_0000_0000))
        .v(4, dv(QNAN | 5))
        .ok();
    assert_eq!((f.d(3), f.fpsr), (DEFAULT_NAN, IOC));
}

#[test]
fn min_max_and_their_number_forms() {
    let q = QNAN | 7;
    assert_eq!(fd(enc::fp_2src(1, 4, 2, 1, 3), ONE, TWO, 0).0, TWO); // fmax
    assert_eq!(fd(enc::fp_2src(1, 5, 2, 1, 3), 0, 1 << 63, 0).0, 1 << 63); // fmin(+0,-0)
    assert_eq!(fd(enc::fp_2src(1, 4, 2, 1, 3), 0, 1 << 63, 0).0, 0); // fmax(+0,-0)
    assert_eq!(fd(enc::fp_2src(1, 4, 2, 1, 3), ONE, q, 0), (q, 0));
    assert_eq!(fd(enc::fp_2src(1, 6, 2, 1, 3), ONE, q, 0), (ONE, 0)); // fmaxnm
    assert_eq!(fd(enc::fp_2src(1, 7, 2, 1, 3), q, TWO, 0), (TWO, 0)); // fminnm
    assert_eq!(fd(enc::fp_2src(1, 6, 2, 1, 3), ONE, SNAN, 0), (SNAN | 1 << 51, IOC));
}

fn cmp(insn: u32, a: u64, b: u64) -> (u32, u64) {
    let f = Snippet::of(&[insn]).v(1, dv(a)).v(2, dv(b)).ok();
    (f.nzcv, f.fpsr)
}

#[test]
fn compares_set_nzcv_and_signal_as_specified() {
    let fcmp = enc::fp_cmp(1, 2, 1, 0);
    let fcmpe = enc::fp_cmp(1, 2, 1, 0b10000);
    assert_eq!(cmp(fcmp, ONE, ONE), (nzcv::Z | nzcv::C, 0));
    assert_eq!(cmp(fcmp, ONE, TWO), (nzcv::N, 0));
    assert_eq!(cmp(fcmp, TWO, ONE), (nzcv::C, 0));
    assert_eq!(cmp(fcmp, 0, 1 << 63), (nzcv::Z | nzcv::C, 0));
    assert_eq!(cmp(fcmp, QNAN, ONE), (nzcv::C | nzcv::V, 0));
    assert_eq!(cmp(fcmp, SNAN, ONE), (nzcv::C | nzcv::V, IOC));
    assert_eq!(cmp(fcmpe, QNAN, ONE), (nzcv::C | nzcv::V, IOC));
    // fcmp d1, #0.0
    assert_eq!(cmp(enc::fp_cmp(1, 0, 1, 0b01000), 1 << 63, 0), (nzcv::Z | nzcv::C, 0));
}

#[test]
fn conditional_compare_and_select() {
    // fccmp d1, d2, #0b0010, eq with Z clear: flags = 0b0010
    let f = Snippet::of(&[enc::fp_ccmp(1, 2, cond::EQ, 1, 0, 0b0010)]).v(1, dv(ONE)).v(2, dv(ONE)).ok();
    assert_eq!(f.nzcv, 0b0010);
    let f = Snippet::of(&[enc::fp_ccmp(1, 2, cond::EQ, 1, 0, 0b0010)]).nzcv(nzcv::Z).v(1, dv(ONE)).v(2, dv(TWO)).ok();
    assert_eq!(f.nzcv, nzcv::N);
    let f = Snippet::of(&[enc::fp_csel(1, 2, cond::GT, 1, 3), enc::fp_csel(0, 2, cond::LE, 1, 4)])
        .v(1, dv(ONE))
        .v(2, V1)
        .ok();
    assert_eq!((f.d(3), f.v(4)), (ONE, 0x0302_0100));
}

fn cvt(insn: u32, a: u64, fpcr: u64) -> (u64, u64) {
    let f = Snippet::of(&[insn]).v(1, dv(a)).x(1, a).fpcr(fpcr).ok();
    (f.x(3), f.fpsr)
}

#[test]
fn float_to_int_saturates_and_nan_gives_zero() {
    let fcvtzs_w = enc::fp_int(0, 1, 3, 0, 1, 3);
    let fcvtzs_x = enc::fp_int(1, 1, 3, 0, 1, 3);
    let fcvtzu_w = enc::fp_int(0, 1, 3, 1, 1, 3);
    assert_eq!(cvt(fcvtzs_w, 0xc004_0000_0000_0000, 0), (0xffff_fffe, IXC)); // -2.5 -> -2
    assert_eq!(cvt(fcvtzs_w, 0x41e0_0000_0000_0000, 0), (0x7fff_ffff, IOC)); // 2^31
    assert_eq!(cvt(fcvtzs_w, 0xc1e0_0000_0020_0000, 0), (0x8000_0000, IOC));
    assert_eq!(cvt(fcvtzs_x, 0x43e0_0000_0000_0000, 0), (i64::MAX as u64, IOC)); // 2^63
    assert_eq!(cvt(fcvtzs_x, QNAN, 0), (0, IOC));
    assert_eq!(cvt(fcvtzu_w, 0xbff0_0000_0000_0000, 0), (0, IOC)); // -1.0
    assert_eq!(cvt(fcvtzu_w, 0xbfe0_0000_0000_0000, 0), (0, IXC)); // -0.5 rounds to 0
    assert_eq!(cvt(fcvtzu_w, 0x41f0_0000_0000_0000, 0), (0xffff_ffff, IOC)); // 2^32
                                                                             // fcvtns/fcvtms/fcvtps/fcvtas on 2.5
    let x = 0x4004_0000_0000_0000;
    assert_eq!(cvt(enc::fp_int(1, 1, 0, 0, 1, 3), x, 0).0, 2);
    assert_eq!(cvt(enc::fp_int(1, 1, 2, 0, 1, 3), x, 0).0, 2);
    assert_eq!(cvt(enc::fp_int(1, 1, 1, 0, 1, 3), x, 0).0, 3);
    assert_eq!(cvt(enc::fp_int(1, 1, 0, 4, 1, 3), x, 0).0, 3);
    // Fixed point: fcvtzs w3, d1, #4 (scale 60)
    assert_eq!(cvt(enc::fp_fixed(0, 1, 3, 0, 60, 1, 3), 0x3ff8_0000_0000_0000, 0).0, 24);
}

#[test]
fn int_to_float_rounds_with_fpcr() {
    let scvtf = |sf, ftype| enc::fp_int(sf, ftype, 0, 2, 1, 3);
    let f = |insn, x: u64, fpcr| {
        let s = Snippet::of(&[insn]).x(1, x).fpcr(fpcr).ok();
        (s.v(3), s.fpsr)
    };
    assert_eq!(f(scvtf(0, 1), 0xffff_ffff, 0), (0xbff0_0000_0000_0000, 0)); // scvtf d3, w1 (-1)
    assert_eq!(f(enc::fp_int(0, 1, 0, 3, 1, 3), 0xffff_ffff, 0), (0x41ef_ffff_ffe0_0000, 0)); // ucvtf d, w
    assert_eq!(f(scvtf(1, 0), (1 << 24) + 1, 0), (0x4b80_0000, IXC)); // scvtf s3, x1
    assert_eq!(f(scvtf(1, 0), (1 << 24) + 1, RP), (0x4b80_0001, IXC));
    // scvtf d3, x1, #1 (scale 63): 3 / 2
    assert_eq!(f(enc::fp_fixed(1, 1, 0, 2, 63, 1, 3), 3, 0), (0x3ff8_0000_0000_0000, 0));
}

#[test]
fn precision_conversions_keep_nan_payloads() {
    // fcvt d3, s1 / fcvt s3, d1
    let to_d = enc::fp_1src(0, 0b000101, 1, 3);
    let to_s = enc::fp_1src(1, 0b000100, 1, 3);
    assert_eq!(fd(to_d, 0x3f80_0000, 0, 0), (ONE, 0));
    assert_eq!(fd(to_d, 0x7f80_0001, 0, 0), (0x7ff8_0000_2000_0000, IOC));
    assert_eq!(fd(to_s, 0x3ff0_0000_1000_0000, 0, 0), (0x3f80_0000, IXC));
    assert_eq!(fd(to_s, 0x7ff0_0000_0000_0000, 0, 0), (0x7f80_0000, 0));
    assert_eq!(fd(to_s, QNAN | 1 << 40, 0, FPCR_DN), (0x7fc0_0000, 0));
}

#[test]
fn fmov_immediate_and_frint() {
    let f = Snippet::of(&[enc::fp_imm(1, 0x70, 3), enc::fp_imm(0, 0xe0, 4)]).ok();
    assert_eq!((f.d(3), f.v(4)), (ONE, 0xbf00_0000));
    let x = 0x4004_0000_0000_0000; // 2.5
    assert_eq!(fd(enc::fp_1src(1, 8, 1, 3), x, 0, 0), (TWO, 0)); // frintn
    assert_eq!(fd(enc::fp_1src(1, 12, 1, 3), x, 0, 0), (THREE, 0)); // frinta
    assert_eq!(fd(enc::fp_1src(1, 14, 1, 3), x, 0, RP), (THREE, IXC)); // frintx
    assert_eq!(fd(enc::fp_1src(1, 11, 1, 3), x, 0, 0), (TWO, 0)); // frintz
}

#[test]
fn vector_and_scalar_simd_conversions() {
    // scvtf d3, d1 ; fcvtzs d3, d1 ; fcvtzu v3.2d, v1.2d
    assert_eq!(fd(enc::simd_s2misc(0, 1, 0b11101, 1, 3), u64::MAX, 0, 0).0, 0xbff0_0000_0000_0000);
    assert_eq!(fd(enc::simd_s2misc(0, 3, 0b11011, 1, 3), 0xc004_0000_0000_0000, 0, 0), ((-2i64) as u64, IXC));
    let f =
        Snippet::of(&[enc::simd_2misc(1, 1, 3, 0b11011, 1, 3)]).v(1, (u128::from(TWO) << 64) | u128::from(QNAN)).ok();
    assert_eq!((f.v(3), f.fpsr), (2u128 << 64, IOC));
}

#[test]
fn vector_fp_arithmetic_lane_by_lane() {
    let one_s = 0x3f80_0000u128;
    let two_s = 0x4000_0000u128;
    let a = one_s | two_s << 32 | 0x7fc0_0001 << 64 | 0xff80_0000 << 96; // 1, 2, qNaN, -inf
    let b = two_s | two_s << 32 | one_s << 64 | one_s << 96;
    // fadd v3.4s, v1.4s, v2.4s
    let f = Snippet::of(&[enc::simd_3same(1, 0, 0, 0b11010, 2, 1, 3)]).v(1, a).v(2, b).ok();
    assert_eq!(f.v(3), 0x4040_0000 | 0x4080_0000 << 32 | 0x7fc0_0001 << 64 | 0xff80_0000 << 96);
    // fcmgt v3.4s, v1.4s, v2.4s: NaN compares false and signals
    let f = Snippet::of(&[enc::simd_3same(1, 1, 2, 0b11100, 2, 1, 3)]).v(1, a).v(2, b).ok();
    assert_eq!((f.v(3), f.fpsr), (0, IOC));
    // faddp v3.2d, v1.2d, v2.2d
    let f = Snippet::of(&[enc::simd_3same(1, 1, 1, 0b11010, 2, 1, 3)])
        .v(1, dv(ONE) | dv(TWO) << 64)
        .v(2, dv(TWO) | dv(TWO) << 64)
        .ok();
    assert_eq!(f.v(3), dv(THREE) | dv(0x4010_0000_0000_0000) << 64);
    // fmaxv s3, v1.4s
    let f = Snippet::of(&[enc::simd_across(1, 1, 0, 0b01111, 1, 3)])
        .v(1, one_s | two_s << 32 | 0x4040_0000 << 64 | one_s << 96)
        .ok();
    assert_eq!(f.v(3), 0x4040_0000);
}

#[test]
fn by_element_multiplies() {
    // mul v3.4s, v1.4s, v2.s[3]  (size 2: index H:L = 11, Rm = M:Rm)
    let f = Snippet::of(&[enc::simd_elem(1, 0, 2, 1, 0, 2, 0b1000, 1, 1, 3)])
        .v(1, 1 | 2 << 32 | 3 << 64 | 4 << 96)
        .v(2, 7 << 96)
        .ok();
    assert_eq!(f.v(3), 7 | 14 << 32 | 21 << 64 | 28 << 96);
    // fmla v3.2d, v1.2d, v2.d[1]
    let f = Snippet::of(&[enc::simd_elem(1, 0, 3, 0, 0, 2, 0b0001, 1, 1, 3)])
        .v(1, dv(ONE) | dv(TWO) << 64)
        .v(2, dv(THREE) << 64)
        .v(3, dv(ONE) | dv(ONE) << 64)
        .ok();
    assert_eq!(f.v(3), dv(0x4010_0000_0000_0000) | dv(0x401c_0000_0000_0000) << 64);
    // fmulx d3, d1, v2.d[0] (scalar)
    let f = Snippet::of(&[enc::simd_selem(1, 3, 0, 0, 2, 0b1001, 0, 1, 3)]).v(1, dv(TWO)).v(2, dv(THREE)).ok();
    assert_eq!(f.v(3), dv(0x4018_0000_0000_0000));
}

#[test]
fn by_element_fmul_of_zero_and_infinity_is_invalid_but_fmulx_gives_two() {
    const INF: u64 = 0x7ff0_0000_0000_0000;
    // fmul d3, d1, v2.d[0]: U = 0.
    let f = Snippet::of(&[enc::simd_selem(0, 3, 0, 0, 2, 0b1001, 0, 1, 3)]).v(1, 0).v(2, dv(INF)).ok();
    assert_eq!((f.d(3), f.fpsr), (DEFAULT_NAN, IOC));
    // fmulx d3, d1, v2.d[0]: U = 1.
    let f = Snippet::of(&[enc::simd_selem(1, 3, 0, 0, 2, 0b1001, 0, 1, 3)]).v(1, 0).v(2, dv(INF)).ok();
    assert_eq!((f.d(3), f.fpsr), (TWO, 0));
    // With FZ a denormal is that zero, and raises IDC as it is flushed (found by the diff test
    // against qemu-aarch64).
    let f = Snippet::of(&[enc::simd_selem(1, 3, 0, 0, 2, 0b1001, 0, 1, 3)]).v(1, 1).v(2, dv(INF)).fpcr(FPCR_FZ).ok();
    assert_eq!((f.d(3), f.fpsr), (TWO, IDC));
}
