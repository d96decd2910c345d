//! Hand-computed vectors: each expected value was worked out from the IEEE-754 rounding rules and
//! the RISC-V F/D chapter, not taken from the implementation.

use mimic_fpu::*;

const NX: Flags = Flags::NX;
const UF: Flags = Flags::UF;
const OF: Flags = Flags::OF;
const DZ: Flags = Flags::DZ;
const NV: Flags = Flags::NV;
const NONE: Flags = Flags::NONE;

// binary32
const P0: u32 = 0x0000_0000;
const N0: u32 = 0x8000_0000;
const ONE: u32 = 0x3f80_0000;
const NEG_ONE: u32 = 0xbf80_0000;
const TWO: u32 = 0x4000_0000;
const THREE: u32 = 0x4040_0000;
const HALF: u32 = 0x3f00_0000;
const PINF: u32 = 0x7f80_0000;
const NINF: u32 = 0xff80_0000;
const MAXF: u32 = 0x7f7f_ffff;
const MIN_NORM: u32 = 0x0080_0000;
const MIN_SUB: u32 = 0x0000_0001;
const MAX_SUB: u32 = 0x007f_ffff;
const QNAN: u32 = 0x7fc0_0000;
const QNAN_PAYLOAD: u32 = 0x7fc1_2345;
const NEG_QNAN: u32 = 0xffc0_0001;
const SNAN: u32 = 0x7f80_0001;
const NEG_SNAN: u32 = 0xff81_2345;
const CNAN: u32 = F32_CANONICAL_NAN;

// binary64
const D_P0: u64 = 0;
const D_N0: u64 = 0x8000_0000_0000_0000;
const D_ONE: u64 = 0x3ff0_0000_0000_0000;
const D_TWO: u64 = 0x4000_0000_0000_0000;
const D_THREE: u64 = 0x4008_0000_0000_0000;
const D_HALF: u64 = 0x3fe0_0000_0000_0000;
const D_PINF: u64 = 0x7ff0_0000_0000_0000;
const D_NINF: u64 = 0xfff0_0000_0000_0000;
const D_MAX: u64 = 0x7fef_ffff_ffff_ffff;
const D_MIN_NORM: u64 = 0x0010_0000_0000_0000;
const D_MIN_SUB: u64 = 0x0000_0000_0000_0001;
const D_MAX_SUB: u64 = 0x000f_ffff_ffff_ffff;
const D_QNAN_PAYLOAD: u64 = 0x7ff8_0000_0000_0123;
const D_SNAN: u64 = 0x7ff0_0000_0000_0001;
const D_NEG_SNAN: u64 = 0xfff4_0000_0000_0000;
const D_CNAN: u64 = F64_CANONICAL_NAN;

const RM: [Rm; 5] = Rm::ALL;

/// Checks one operation under all five rounding modes (RNE, RTZ, RDN, RUP, RMM order).
#[track_caller]
fn modes<T: PartialEq + std::fmt::Debug + Copy>(what: &str, op: impl Fn(Rm) -> (T, Flags), want: [T; 5], flags: Flags) {
    for (rm, w) in RM.into_iter().zip(want) {
        assert_eq!(op(rm), (w, flags), "{what} under {rm:?}");
    }
}

/// Same result and flags in every rounding mode.
#[track_caller]
fn all<T: PartialEq + std::fmt::Debug + Copy>(what: &str, op: impl Fn(Rm) -> (T, Flags), want: T, flags: Flags) {
    modes(what, op, [want; 5], flags);
}

// ---------------------------------------------------------------- Rm / Flags

#[test]
fn rm_from_bits() {
    assert_eq!(Rm::from_bits(0), Some(Rm::Rne));
    assert_eq!(Rm::from_bits(1), Some(Rm::Rtz));
    assert_eq!(Rm::from_bits(2), Some(Rm::Rdn));
    assert_eq!(Rm::from_bits(3), Some(Rm::Rup));
    assert_eq!(Rm::from_bits(4), Some(Rm::Rmm));
    for b in [5, 6, 7, 8, u64::MAX] {
        assert_eq!(Rm::from_bits(b), None);
    }
}

#[test]
fn flags_layout_and_ops() {
    assert_eq!([NX.0, UF.0, OF.0, DZ.0, NV.0], [1, 2, 4, 8, 16]);
    let mut f = NX | OF;
    assert!(f.contains(NX) && f.contains(OF) && !f.contains(NV));
    f |= NV;
    assert_eq!(f.bits(), 0b10101);
    assert!(NONE.is_empty() && Flags::empty() == Flags::default());
    assert_eq!(format!("{:?}", NV | NX), "Flags(NV|NX)");
}

// ---------------------------------------------------------------- add / sub

#[test]
fn add_exact_and_rounding_modes() {
    all("1+2", |rm| f32_add(ONE, TWO, rm), THREE, NONE);
    // 1 + 2^-24: exactly half an ulp above 1.
    modes("1+2^-24", |rm| f32_add(ONE, 0x3380_0000, rm), [ONE, ONE, ONE, 0x3f80_0001, 0x3f80_0001], NX);
    modes(
        "-1-2^-24",
        |rm| f32_add(NEG_ONE, 0xb380_0000, rm),
        [NEG_ONE, NEG_ONE, 0xbf80_0001, NEG_ONE, 0xbf80_0001],
        NX,
    );
    // 1 + 0.75 ulp: not a tie.
    modes("1+.75ulp", |rm| f32_add(ONE, 0x33c0_0000, rm), [0x3f80_0001, ONE, ONE, 0x3f80_0001, 0x3f80_0001], NX);
    // (1 + 2^-23) + 2^-24: tie with an odd lower neighbour, RNE goes up.
    modes(
        "odd tie",
        |rm| f32_add(0x3f80_0001, 0x3380_0000, rm),
        [0x3f80_0002, 0x3f80_0001, 0x3f80_0001, 0x3f80_0002, 0x3f80_0002],
        NX,
    );
    // binary64: 1 + 2^-53.
    modes(
        "d 1+2^-53",
        |rm| f64_add(D_ONE, 0x3ca0_0000_0000_0000, rm),
        [D_ONE, D_ONE, D_ONE, 0x3ff0_0000_0000_0001, 0x3ff0_0000_0000_0001],
        NX,
    );
    all("d 1+2", |rm| f64_add(D_ONE, D_TWO, rm), D_THREE, NONE);
}

#[test]
fn add_signed_zeros() {
    // x + (-x) is +0 except when rounding down.
    modes("1+-1", |rm| f32_add(ONE, NEG_ONE, rm), [P0, P0, N0, P0, P0], NONE);
    modes("1-1", |rm| f32_sub(ONE, ONE, rm), [P0, P0, N0, P0, P0], NONE);
    modes("+0+-0", |rm| f32_add(P0, N0, rm), [P0, P0, N0, P0, P0], NONE);
    all("-0+-0", |rm| f32_add(N0, N0, rm), N0, NONE);
    all("-0-+0", |rm| f32_sub(N0, P0, rm), N0, NONE);
    modes("d 1-1", |rm| f64_sub(D_ONE, D_ONE, rm), [D_P0, D_P0, D_N0, D_P0, D_P0], NONE);
    all("d -0+-0", |rm| f64_add(D_N0, D_N0, rm), D_N0, NONE);
}

#[test]
fn add_overflow() {
    modes("max+max", |rm| f32_add(MAXF, MAXF, rm), [PINF, MAXF, MAXF, PINF, PINF], OF | NX);
    let nmax = MAXF | 0x8000_0000;
    modes("-max-max", |rm| f32_add(nmax, nmax, rm), [NINF, nmax, NINF, nmax, NINF], OF | NX);
    modes("d max+max", |rm| f64_add(D_MAX, D_MAX, rm), [D_PINF, D_MAX, D_MAX, D_PINF, D_PINF], OF | NX);
    all("inf+1", |rm| f32_add(PINF, ONE, rm), PINF, NONE);
    all("-inf-max", |rm| f32_sub(NINF, MAXF, rm), NINF, NONE);
}

#[test]
fn add_nan_rules() {
    all("inf-inf", |rm| f32_add(PINF, NINF, rm), CNAN, NV);
    all("inf-inf sub", |rm| f32_sub(PINF, PINF, rm), CNAN, NV);
    // Quiet NaN operands propagate no payload and raise nothing.
    all("qnan+1", |rm| f32_add(QNAN_PAYLOAD, ONE, rm), CNAN, NONE);
    all("1+-qnan", |rm| f32_add(ONE, NEG_QNAN, rm), CNAN, NONE);
    all("snan+1", |rm| f32_add(SNAN, ONE, rm), CNAN, NV);
    all("1-snan", |rm| f32_sub(ONE, NEG_SNAN, rm), CNAN, NV);
    all("qnan+snan", |rm| f32_add(QNAN, SNAN, rm), CNAN, NV);
    all("d qnan+1", |rm| f64_add(D_QNAN_PAYLOAD, D_ONE, rm), D_CNAN, NONE);
    all("d snan+1", |rm| f64_add(D_ONE, D_SNAN, rm), D_CNAN, NV);
    all("d inf-inf", |rm| f64_sub(D_PINF, D_PINF, rm), D_CNAN, NV);
}

#[test]
fn add_subnormals_are_exact() {
    // Sums of subnormals are multiples of the smallest subnormal: exact, so tiny but no UF.
    all("sub+sub", |rm| f32_add(MIN_SUB, MIN_SUB, rm), 0x0000_0002, NONE);
    all("maxsub+minsub", |rm| f32_add(MAX_SUB, MIN_SUB, rm), MIN_NORM, NONE);
    all("minnorm-minsub", |rm| f32_sub(MIN_NORM, MIN_SUB, rm), MAX_SUB, NONE);
    all("d maxsub+minsub", |rm| f64_add(D_MAX_SUB, D_MIN_SUB, rm), D_MIN_NORM, NONE);
}

// ---------------------------------------------------------------- mul

#[test]
fn mul_basic_and_signs() {
    all("2*3", |rm| f32_mul(TWO, THREE, rm), 0x40c0_0000, NONE);
    all("-0*1", |rm| f32_mul(N0, ONE, rm), N0, NONE);
    all("-0*-1", |rm| f32_mul(N0, NEG_ONE, rm), P0, NONE);
    all("inf*0", |rm| f32_mul(PINF, P0, rm), CNAN, NV);
    all("0*-inf", |rm| f32_mul(P0, NINF, rm), CNAN, NV);
    all("inf*-2", |rm| f32_mul(PINF, 0xc000_0000, rm), NINF, NONE);
    all("snan*0", |rm| f32_mul(SNAN, P0, rm), CNAN, NV);
    all("qnan*inf", |rm| f32_mul(QNAN_PAYLOAD, PINF, rm), CNAN, NONE);
    all("d 2*3", |rm| f64_mul(D_TWO, D_THREE, rm), 0x4018_0000_0000_0000, NONE);
    all("d inf*0", |rm| f64_mul(D_PINF, D_N0, rm), D_CNAN, NV);
    // (1+2^-23)^2 = 1 + 2^-22 + 2^-46
    modes(
        "(1+u)^2",
        |rm| f32_mul(0x3f80_0001, 0x3f80_0001, rm),
        [0x3f80_0002, 0x3f80_0002, 0x3f80_0002, 0x3f80_0003, 0x3f80_0002],
        NX,
    );
}

#[test]
fn mul_overflow() {
    modes("max*2", |rm| f32_mul(MAXF, TWO, rm), [PINF, MAXF, MAXF, PINF, PINF], OF | NX);
    let nmax = MAXF | 0x8000_0000;
    modes("max*-2", |rm| f32_mul(MAXF, 0xc000_0000, rm), [NINF, nmax, NINF, nmax, NINF], OF | NX);
    let dnmax = D_MAX | D_N0;
    modes("d -max*2", |rm| f64_mul(dnmax, D_TWO, rm), [D_NINF, dnmax, D_NINF, dnmax, D_NINF], OF | NX);
}

#[test]
fn mul_underflow() {
    // 2^-149 * 0.5 = 2^-150: a tie between 0 and the smallest subnormal.
    modes("minsub/2", |rm| f32_mul(MIN_SUB, HALF, rm), [P0, P0, P0, MIN_SUB, MIN_SUB], UF | NX);
    let nsub = MIN_SUB | 0x8000_0000;
    modes("-minsub/2", |rm| f32_mul(nsub, HALF, rm), [N0, N0, nsub, N0, nsub], UF | NX);
    modes("d minsub/2", |rm| f64_mul(D_MIN_SUB, D_HALF, rm), [D_P0, D_P0, D_P0, D_MIN_SUB, D_MIN_SUB], UF | NX);
    // Exact subnormal results raise nothing; subnormal inputs are handled exactly.
    all("minsub*2", |rm| f32_mul(MIN_SUB, TWO, rm), 0x0000_0002, NONE);
    all("2^-127*4", |rm| f32_mul(0x0040_0000, 0x4080_0000, rm), 0x0100_0000, NONE);
    all("minnorm/2", |rm| f32_mul(MIN_NORM, HALF, rm), 0x0040_0000, NONE);
}

#[test]
fn underflow_is_detected_after_rounding() {
    // (1 - 2^-23) * 2^-126 (1 + 2^-23) = 2^-126 (1 - 2^-46): below the smallest normal, but
    // rounding to 24 bits with an unbounded exponent gives 2^-126, so it is not tiny under
    // RISC-V's after-rounding rule: RNE gives the min normal with NX only. Under RTZ the rounded
    // value stays below 2^-126, so it is tiny: UF.
    let (a, b) = (0x3f7f_fffe, 0x0080_0001);
    assert_eq!(f32_mul(a, b, Rm::Rne), (MIN_NORM, NX));
    assert_eq!(f32_mul(a, b, Rm::Rup), (MIN_NORM, NX));
    assert_eq!(f32_mul(a, b, Rm::Rmm), (MIN_NORM, NX));
    assert_eq!(f32_mul(a, b, Rm::Rtz), (MAX_SUB, UF | NX));
    assert_eq!(f32_mul(a, b, Rm::Rdn), (MAX_SUB, UF | NX));
    // (1 - 2^-24) * 2^-126 = 2^-126 - 2^-150 is exactly representable with 24 bits, hence tiny,
    // and it is a tie in the subnormal range: UF even though RNE rounds it up to the min normal.
    assert_eq!(f32_mul(0x3f7f_ffff, MIN_NORM, Rm::Rne), (MIN_NORM, UF | NX));
    // binary64 analogue: (1 - 2^-52) * 2^-1022 (1 + 2^-52) = 2^-1022 (1 - 2^-104).
    let (a, b) = (0x3fef_ffff_ffff_fffe, 0x0010_0000_0000_0001);
    assert_eq!(f64_mul(a, b, Rm::Rne), (D_MIN_NORM, NX));
    assert_eq!(f64_mul(a, b, Rm::Rtz), (D_MAX_SUB, UF | NX));
}

// ---------------------------------------------------------------- div

#[test]
fn div_rounding_and_special_cases() {
    // 1/3 = 1.0101...b * 2^-2
    modes("1/3", |rm| f32_div(ONE, THREE, rm), [0x3eaa_aaab, 0x3eaa_aaaa, 0x3eaa_aaaa, 0x3eaa_aaab, 0x3eaa_aaab], NX);
    modes(
        "-1/3",
        |rm| f32_div(NEG_ONE, THREE, rm),
        [0xbeaa_aaab, 0xbeaa_aaaa, 0xbeaa_aaab, 0xbeaa_aaaa, 0xbeaa_aaab],
        NX,
    );
    modes(
        "d 1/3",
        |rm| f64_div(D_ONE, D_THREE, rm),
        [
            0x3fd5_5555_5555_5555,
            0x3fd5_5555_5555_5555,
            0x3fd5_5555_5555_5555,
            0x3fd5_5555_5555_5556,
            0x3fd5_5555_5555_5555,
        ],
        NX,
    );
    all("6/3", |rm| f32_div(0x40c0_0000, THREE, rm), TWO, NONE);
    all("1/0", |rm| f32_div(ONE, P0, rm), PINF, DZ);
    all("-1/0", |rm| f32_div(NEG_ONE, P0, rm), NINF, DZ);
    all("1/-0", |rm| f32_div(ONE, N0, rm), NINF, DZ);
    all("d 1/-0", |rm| f64_div(D_ONE, D_N0, rm), D_NINF, DZ);
    all("0/0", |rm| f32_div(P0, P0, rm), CNAN, NV);
    all("inf/inf", |rm| f32_div(PINF, NINF, rm), CNAN, NV);
    all("d 0/0", |rm| f64_div(D_N0, D_P0, rm), D_CNAN, NV);
    all("inf/0", |rm| f32_div(PINF, P0, rm), PINF, NONE);
    all("0/inf", |rm| f32_div(N0, PINF, rm), N0, NONE);
    all("1/inf", |rm| f32_div(ONE, NINF, rm), N0, NONE);
    all("snan/0", |rm| f32_div(SNAN, P0, rm), CNAN, NV);
    all("qnan/0", |rm| f32_div(QNAN_PAYLOAD, P0, rm), CNAN, NONE);
    modes("max/0.5", |rm| f32_div(MAXF, HALF, rm), [PINF, MAXF, MAXF, PINF, PINF], OF | NX);
    modes("minsub/3", |rm| f32_div(MIN_SUB, 0x4040_0000, rm), [P0, P0, P0, MIN_SUB, P0], UF | NX);
}

// ---------------------------------------------------------------- sqrt

#[test]
fn sqrt_vectors() {
    all("sqrt4", |rm| f32_sqrt(0x4080_0000, rm), TWO, NONE);
    // sqrt(2) = 1.41421356237...; 0x3fb504f3 = 1.41421353816..., 0x3fb504f4 = 1.41421365737...
    modes("sqrt2", |rm| f32_sqrt(TWO, rm), [0x3fb5_04f3, 0x3fb5_04f3, 0x3fb5_04f3, 0x3fb5_04f4, 0x3fb5_04f3], NX);
    // 0x3ff6a09e667f3bcd = 1.41421356237309514547... lies above sqrt(2).
    modes(
        "d sqrt2",
        |rm| f64_sqrt(D_TWO, rm),
        [
            0x3ff6_a09e_667f_3bcd,
            0x3ff6_a09e_667f_3bcc,
            0x3ff6_a09e_667f_3bcc,
            0x3ff6_a09e_667f_3bcd,
            0x3ff6_a09e_667f_3bcd,
        ],
        NX,
    );
    all("sqrt-0", |rm| f32_sqrt(N0, rm), N0, NONE);
    all("sqrt+0", |rm| f32_sqrt(P0, rm), P0, NONE);
    all("sqrt-1", |rm| f32_sqrt(NEG_ONE, rm), CNAN, NV);
    all("sqrt-minsub", |rm| f32_sqrt(MIN_SUB | 0x8000_0000, rm), CNAN, NV);
    all("sqrt+inf", |rm| f32_sqrt(PINF, rm), PINF, NONE);
    all("sqrt-inf", |rm| f32_sqrt(NINF, rm), CNAN, NV);
    all("sqrt qnan", |rm| f32_sqrt(NEG_QNAN, rm), CNAN, NONE);
    all("sqrt snan", |rm| f32_sqrt(SNAN, rm), CNAN, NV);
    // sqrt(2^-148) = 2^-74: a subnormal input with an exact result.
    all("sqrt sub", |rm| f32_sqrt(0x0000_0002, rm), 0x1a80_0000, NONE);
    all("d sqrt-0", |rm| f64_sqrt(D_N0, rm), D_N0, NONE);
    all("d sqrt-1", |rm| f64_sqrt(0xbff0_0000_0000_0000, rm), D_CNAN, NV);
    all("d sqrt snan", |rm| f64_sqrt(D_NEG_SNAN, rm), D_CNAN, NV);
    // sqrt(2^-1072) = 2^-536
    all("d sqrt sub", |rm| f64_sqrt(0x4, rm), 0x1e70_0000_0000_0000, NONE);
}

// ---------------------------------------------------------------- fma

#[test]
fn fma_variants() {
    // fmadd, fmsub, fnmsub, fnmadd of (2, 3, 1)
    all("fmadd", |rm| f32_fma(TWO, THREE, ONE, false, false, rm), 0x40e0_0000, NONE); // 7
    all("fmsub", |rm| f32_fma(TWO, THREE, ONE, false, true, rm), 0x40a0_0000, NONE); // 5
    all("fnmsub", |rm| f32_fma(TWO, THREE, ONE, true, false, rm), 0xc0a0_0000, NONE); // -5
    all("fnmadd", |rm| f32_fma(TWO, THREE, ONE, true, true, rm), 0xc0e0_0000, NONE); // -7
    all("d fmadd", |rm| f64_fma(D_TWO, D_THREE, D_ONE, false, false, rm), 0x401c_0000_0000_0000, NONE);
    all("d fmsub", |rm| f64_fma(D_TWO, D_THREE, D_ONE, false, true, rm), 0x4014_0000_0000_0000, NONE);
    all("d fnmsub", |rm| f64_fma(D_TWO, D_THREE, D_ONE, true, false, rm), 0xc014_0000_0000_0000, NONE);
    all("d fnmadd", |rm| f64_fma(D_TWO, D_THREE, D_ONE, true, true, rm), 0xc01c_0000_0000_0000, NONE);
}

#[test]
fn fma_single_rounding() {
    // (1 + 2^-23)(1 - 2^-23) - 1 = -2^-46 exactly; a separately rounded product would give 0.
    all("fused", |rm| f32_fma(0x3f80_0001, 0x3f7f_fffe, ONE, false, true, rm), 0xa880_0000, NONE);
    all("fused fnmsub", |rm| f32_fma(0x3f80_0001, 0x3f7f_fffe, ONE, true, false, rm), 0x2880_0000, NONE);
    // (1 + 2^-52)(1 - 2^-52) - 1 = -2^-104
    all(
        "d fused",
        |rm| f64_fma(0x3ff0_0000_0000_0001, 0x3fef_ffff_ffff_fffe, D_ONE, false, true, rm),
        0xb970_0000_0000_0000,
        NONE,
    );
    // (1+2^-23)^2 + 0 = 1 + 2^-22 + 2^-46 rounds once.
    modes(
        "fma round",
        |rm| f32_fma(0x3f80_0001, 0x3f80_0001, P0, false, false, rm),
        [0x3f80_0002, 0x3f80_0002, 0x3f80_0002, 0x3f80_0003, 0x3f80_0002],
        NX,
    );
    // -(1+2^-23)^2 - 0: the negated product rounds in the negative direction.
    modes(
        "fnmadd round",
        |rm| f32_fma(0x3f80_0001, 0x3f80_0001, P0, true, true, rm),
        [0xbf80_0002, 0xbf80_0002, 0xbf80_0003, 0xbf80_0002, 0xbf80_0002],
        NX,
    );
    modes("fma overflow", |rm| f32_fma(MAXF, TWO, P0, false, false, rm), [PINF, MAXF, MAXF, PINF, PINF], OF | NX);
    modes("fma underflow", |rm| f32_fma(MIN_SUB, HALF, P0, false, false, rm), [P0, P0, P0, MIN_SUB, MIN_SUB], UF | NX);
    // The addend rescues an otherwise out-of-range product: max*2 - max = max, exactly.
    all("fma no overflow", |rm| f32_fma(MAXF, TWO, MAXF, false, true, rm), MAXF, NONE);
}

#[test]
fn fma_zero_signs() {
    // 1*1 - 1: exact zero sum, +0 except in RDN.
    modes("fmsub 1*1-1", |rm| f32_fma(ONE, ONE, ONE, false, true, rm), [P0, P0, N0, P0, P0], NONE);
    // fnmadd: -(1*1) - (-1) = -1 + 1: also +0 except RDN (negating the rounded result would
    // wrongly give -0 here).
    modes("fnmadd -(1)-(-1)", |rm| f32_fma(ONE, ONE, NEG_ONE, true, true, rm), [P0, P0, N0, P0, P0], NONE);
    modes("fnmsub -(1)+1", |rm| f32_fma(ONE, ONE, ONE, true, false, rm), [P0, P0, N0, P0, P0], NONE);
    // Zero product plus zero addend.
    modes("+0*1 + -0", |rm| f32_fma(P0, ONE, N0, false, false, rm), [P0, P0, N0, P0, P0], NONE);
    all("-0*1 + -0", |rm| f32_fma(N0, ONE, N0, false, false, rm), N0, NONE);
    all("fnmadd 0,1,0 = -0 - 0", |rm| f32_fma(P0, ONE, P0, true, true, rm), N0, NONE);
    modes("fnmsub 0,1,0 = -0 + 0", |rm| f32_fma(P0, ONE, P0, true, false, rm), [P0, P0, N0, P0, P0], NONE);
    modes("fmsub 0,1,0 = 0 - 0", |rm| f32_fma(P0, ONE, P0, false, true, rm), [P0, P0, N0, P0, P0], NONE);
    all("fmsub -0,1,0 = -0 - 0", |rm| f32_fma(N0, ONE, P0, false, true, rm), N0, NONE);
    // A zero product does not disturb a nonzero addend, and a tiny nonzero product keeps the sign.
    all("0*5 + -1", |rm| f32_fma(P0, 0x40a0_0000, NEG_ONE, false, false, rm), NEG_ONE, NONE);
    modes(
        "d fnmadd -(1)-(-1)",
        |rm| f64_fma(D_ONE, D_ONE, 0xbff0_0000_0000_0000, true, true, rm),
        [D_P0, D_P0, D_N0, D_P0, D_P0],
        NONE,
    );
    all("d fnmadd 0,1,0", |rm| f64_fma(D_P0, D_ONE, D_P0, true, true, rm), D_N0, NONE);
}

#[test]
fn fma_nan_rules() {
    // inf * 0 + qNaN raises NV on RISC-V (the invalid product is detected before the NaN addend).
    all("inf*0+qnan", |rm| f32_fma(PINF, P0, QNAN, false, false, rm), CNAN, NV);
    all("0*inf+qnan", |rm| f32_fma(P0, NINF, QNAN_PAYLOAD, false, false, rm), CNAN, NV);
    all("fnmadd inf*0+qnan", |rm| f32_fma(PINF, N0, QNAN, true, true, rm), CNAN, NV);
    all("d inf*0+qnan", |rm| f64_fma(D_N0, D_PINF, D_QNAN_PAYLOAD, false, false, rm), D_CNAN, NV);
    all("inf*0+1", |rm| f32_fma(PINF, P0, ONE, false, false, rm), CNAN, NV);
    all("inf*1-inf", |rm| f32_fma(PINF, ONE, PINF, false, true, rm), CNAN, NV);
    all("inf*1+inf", |rm| f32_fma(PINF, ONE, PINF, false, false, rm), PINF, NONE);
    all("fnmadd inf*1+inf", |rm| f32_fma(PINF, ONE, PINF, true, true, rm), NINF, NONE);
    all("1*1+inf", |rm| f32_fma(ONE, ONE, NINF, false, false, rm), NINF, NONE);
    all("qnan*1+1", |rm| f32_fma(QNAN_PAYLOAD, ONE, ONE, false, false, rm), CNAN, NONE);
    all("1*1+qnan", |rm| f32_fma(ONE, ONE, NEG_QNAN, false, true, rm), CNAN, NONE);
    all("1*1+snan", |rm| f32_fma(ONE, ONE, SNAN, false, false, rm), CNAN, NV);
    all("snan*0+qnan", |rm| f32_fma(NEG_SNAN, P0, QNAN, true, false, rm), CNAN, NV);
    all("d 1*snan+1", |rm| f64_fma(D_ONE, D_SNAN, D_ONE, false, false, rm), D_CNAN, NV);
}

// ---------------------------------------------------------------- min / max

#[test]
fn min_max_numbers_and_zeros() {
    assert_eq!(f32_min(ONE, TWO), (ONE, NONE));
    assert_eq!(f32_max(ONE, TWO), (TWO, NONE));
    assert_eq!(f32_min(NEG_ONE, 0xc000_0000), (0xc000_0000, NONE));
    assert_eq!(f32_max(NINF, MIN_SUB), (MIN_SUB, NONE));
    assert_eq!(f32_min(MIN_SUB, P0), (P0, NONE));
    assert_eq!(f32_min(PINF, MAXF), (MAXF, NONE));
    // -0 orders below +0, in either operand order.
    assert_eq!(f32_min(P0, N0), (N0, NONE));
    assert_eq!(f32_min(N0, P0), (N0, NONE));
    assert_eq!(f32_max(P0, N0), (P0, NONE));
    assert_eq!(f32_max(N0, P0), (P0, NONE));
    assert_eq!(f32_min(N0, N0), (N0, NONE));
    assert_eq!(f64_min(D_P0, D_N0), (D_N0, NONE));
    assert_eq!(f64_max(D_N0, D_P0), (D_P0, NONE));
    assert_eq!(f64_min(D_ONE, D_TWO), (D_ONE, NONE));
    assert_eq!(f64_max(D_NINF, D_MAX_SUB), (D_MAX_SUB, NONE));
}

#[test]
fn min_max_nans() {
    // One NaN: the other operand; a signalling NaN still raises NV.
    assert_eq!(f32_min(QNAN_PAYLOAD, ONE), (ONE, NONE));
    assert_eq!(f32_max(ONE, NEG_QNAN), (ONE, NONE));
    assert_eq!(f32_min(SNAN, ONE), (ONE, NV));
    assert_eq!(f32_max(NINF, NEG_SNAN), (NINF, NV));
    // Two NaNs: the canonical NaN, never either payload.
    assert_eq!(f32_min(QNAN_PAYLOAD, NEG_QNAN), (CNAN, NONE));
    assert_eq!(f32_max(NEG_QNAN, NEG_QNAN), (CNAN, NONE));
    assert_eq!(f32_min(SNAN, QNAN), (CNAN, NV));
    assert_eq!(f32_max(QNAN, NEG_SNAN), (CNAN, NV));
    assert_eq!(f64_min(D_QNAN_PAYLOAD, D_ONE), (D_ONE, NONE));
    assert_eq!(f64_max(D_ONE, D_SNAN), (D_ONE, NV));
    assert_eq!(f64_min(D_SNAN, D_QNAN_PAYLOAD), (D_CNAN, NV));
    assert_eq!(f64_max(D_QNAN_PAYLOAD, D_QNAN_PAYLOAD), (D_CNAN, NONE));
}

// ---------------------------------------------------------------- compare

#[test]
fn compares() {
    assert_eq!(f32_eq(ONE, ONE), (true, NONE));
    assert_eq!(f32_eq(ONE, TWO), (false, NONE));
    assert_eq!(f32_eq(P0, N0), (true, NONE));
    assert_eq!(f32_lt(N0, P0), (false, NONE));
    assert_eq!(f32_le(N0, P0), (true, NONE));
    assert_eq!(f32_lt(ONE, TWO), (true, NONE));
    assert_eq!(f32_lt(TWO, ONE), (false, NONE));
    assert_eq!(f32_lt(NINF, MIN_SUB | 0x8000_0000), (true, NONE));
    assert_eq!(f32_lt(MAX_SUB, MIN_NORM), (true, NONE));
    assert_eq!(f32_le(PINF, PINF), (true, NONE));
    assert_eq!(f32_lt(PINF, PINF), (false, NONE));
    assert_eq!(f64_lt(D_N0, D_MIN_SUB), (true, NONE));
    assert_eq!(f64_le(D_TWO, D_ONE), (false, NONE));
    assert_eq!(f64_eq(D_N0, D_P0), (true, NONE));
}

#[test]
fn compare_nans() {
    // feq is quiet: NV only for signalling NaNs.
    assert_eq!(f32_eq(QNAN, QNAN), (false, NONE));
    assert_eq!(f32_eq(ONE, QNAN_PAYLOAD), (false, NONE));
    assert_eq!(f32_eq(SNAN, ONE), (false, NV));
    assert_eq!(f32_eq(SNAN, SNAN), (false, NV));
    assert_eq!(f64_eq(D_QNAN_PAYLOAD, D_QNAN_PAYLOAD), (false, NONE));
    assert_eq!(f64_eq(D_ONE, D_NEG_SNAN), (false, NV));
    // flt/fle are signalling: NV for any NaN.
    assert_eq!(f32_lt(QNAN, ONE), (false, NV));
    assert_eq!(f32_le(ONE, NEG_QNAN), (false, NV));
    assert_eq!(f32_le(SNAN, ONE), (false, NV));
    assert_eq!(f64_lt(D_ONE, D_QNAN_PAYLOAD), (false, NV));
    assert_eq!(f64_le(D_QNAN_PAYLOAD, D_QNAN_PAYLOAD), (false, NV));
}

// ---------------------------------------------------------------- classify

#[test]
fn classify_all_classes() {
    let cases32 = [
        (NINF, class::NEG_INF),
        (NEG_ONE, class::NEG_NORMAL),
        (0x8000_0001, class::NEG_SUBNORMAL),
        (0x807f_ffff, class::NEG_SUBNORMAL),
        (N0, class::NEG_ZERO),
        (P0, class::POS_ZERO),
        (MIN_SUB, class::POS_SUBNORMAL),
        (MAX_SUB, class::POS_SUBNORMAL),
        (MIN_NORM, class::POS_NORMAL),
        (MAXF, class::POS_NORMAL),
        (PINF, class::POS_INF),
        (SNAN, class::SNAN),
        (NEG_SNAN, class::SNAN),
        (QNAN, class::QNAN),
        (NEG_QNAN, class::QNAN),
    ];
    for (v, want) in cases32 {
        assert_eq!(f32_classify(v), want, "{v:#x}");
    }
    let cases64 = [
        (D_NINF, 1 << 0),
        (0xbff0_0000_0000_0000, 1 << 1),
        (D_MAX_SUB | D_N0, 1 << 2),
        (D_N0, 1 << 3),
        (D_P0, 1 << 4),
        (D_MIN_SUB, 1 << 5),
        (D_MAX, 1 << 6),
        (D_PINF, 1 << 7),
        (D_SNAN, 1 << 8),
        (D_NEG_SNAN, 1 << 8),
        (D_QNAN_PAYLOAD, 1 << 9),
        (D_CNAN | D_N0, 1 << 9),
    ];
    for (v, want) in cases64 {
        assert_eq!(f64_classify(v), want, "{v:#x}");
    }
}

// ---------------------------------------------------------------- float -> int

#[test]
fn f_to_int_rounding() {
    let (f1_5, f2_5, fm1_5, fm2_5) = (0x3fc0_0000, 0x4020_0000, 0xbfc0_0000, 0xc020_0000);
    modes("1.5->i32", |rm| f32_to_i32(f1_5, rm), [2, 1, 1, 2, 2], NX);
    modes("2.5->i32", |rm| f32_to_i32(f2_5, rm), [2, 2, 2, 3, 3], NX);
    modes("-1.5->i32", |rm| f32_to_i32(fm1_5, rm), [-2, -1, -2, -1, -2], NX);
    modes("-2.5->i32", |rm| f32_to_i32(fm2_5, rm), [-2, -2, -3, -2, -3], NX);
    modes("2.5->u64", |rm| f32_to_u64(f2_5, rm), [2, 2, 2, 3, 3], NX);
    modes("-2.5->i64", |rm| f32_to_i64(fm2_5, rm), [-2, -2, -3, -2, -3], NX);
    all("3->i32", |rm| f32_to_i32(THREE, rm), 3, NONE);
    all("-0->i32", |rm| f32_to_i32(N0, rm), 0, NONE);
    modes("minsub->i32 value", |rm| f32_to_i32(MIN_SUB, rm), [0, 0, 0, 1, 0], NX);
    modes("d 2.5->i32", |rm| f64_to_i32(0x4004_0000_0000_0000, rm), [2, 2, 2, 3, 3], NX);
    modes("d -2.5->i64", |rm| f64_to_i64(0xc004_0000_0000_0000, rm), [-2, -2, -3, -2, -3], NX);
    modes("d 0.5->u32", |rm| f64_to_u32(D_HALF, rm), [0, 0, 0, 1, 1], NX);
}

#[test]
fn f_to_i32_saturation() {
    // 2^31 does not fit: max with NV only (no NX).
    all("2^31", |rm| f32_to_i32(0x4f00_0000, rm), i32::MAX, NV);
    all("-2^31", |rm| f32_to_i32(0xcf00_0000, rm), i32::MIN, NONE);
    // The binary32 just below -2^31 (-2^31 - 256).
    all("-2^31-256", |rm| f32_to_i32(0xcf00_0001, rm), i32::MIN, NV);
    all("+inf", |rm| f32_to_i32(PINF, rm), i32::MAX, NV);
    all("-inf", |rm| f32_to_i32(NINF, rm), i32::MIN, NV);
    // Every NaN, whatever its sign, gives the max positive value.
    all("qnan", |rm| f32_to_i32(QNAN, rm), i32::MAX, NV);
    all("-qnan", |rm| f32_to_i32(NEG_QNAN, rm), i32::MAX, NV);
    all("-snan", |rm| f32_to_i32(NEG_SNAN, rm), i32::MAX, NV);
    all("maxf", |rm| f32_to_i32(MAXF, rm), i32::MAX, NV);
    // binary64 can express the edges exactly.
    all("d 2^31-1", |rm| f64_to_i32(0x41df_ffff_ffc0_0000, rm), i32::MAX, NONE);
    all("d 2^31", |rm| f64_to_i32(0x41e0_0000_0000_0000, rm), i32::MAX, NV);
    all("d -2^31-1", |rm| f64_to_i32(0xc1e0_0000_0020_0000, rm), i32::MIN, NV);
    // 2^31 - 0.5: rounds into range or out of it depending on the mode.
    let (m, nv) = (i32::MAX, NV);
    let r: Vec<_> = RM.iter().map(|&rm| f64_to_i32(0x41df_ffff_ffe0_0000, rm)).collect();
    assert_eq!(r, vec![(m, nv), (m, NX), (m, NX), (m, nv), (m, nv)]);
    // -2^31 - 0.5: RNE ties to the even -2^31 (in range); RDN and RMM leave the range.
    let r: Vec<_> = RM.iter().map(|&rm| f64_to_i32(0xc1e0_0000_0010_0000, rm)).collect();
    let min = i32::MIN;
    assert_eq!(r, vec![(min, NX), (min, NX), (min, NV), (min, NX), (min, NV)]);
    all("d nan", |rm| f64_to_i32(D_QNAN_PAYLOAD | D_N0, rm), i32::MAX, NV);
    all("d -inf", |rm| f64_to_i32(D_NINF, rm), i32::MIN, NV);
}

#[test]
fn f_to_u32_saturation() {
    all("nan", |rm| f32_to_u32(QNAN, rm), u32::MAX, NV);
    all("-nan", |rm| f32_to_u32(NEG_QNAN, rm), u32::MAX, NV);
    all("snan", |rm| f32_to_u32(SNAN, rm), u32::MAX, NV);
    all("+inf", |rm| f32_to_u32(PINF, rm), u32::MAX, NV);
    all("-inf", |rm| f32_to_u32(NINF, rm), 0, NV);
    all("-1", |rm| f32_to_u32(NEG_ONE, rm), 0, NV);
    all("2^32", |rm| f32_to_u32(0x4f80_0000, rm), u32::MAX, NV);
    all("2^32-256", |rm| f32_to_u32(0x4f7f_ffff, rm), 0xffff_ff00, NONE);
    // 3e9 fits u32; the caller sign-extends bit 31 for fcvt.wu.s.
    all("3e9", |rm| f32_to_u32(0x4f32_d05e, rm), 3_000_000_000, NONE);
    // -0.0 is zero, not negative: no flags.
    all("-0", |rm| f32_to_u32(N0, rm), 0, NONE);
    // Negative values that round to zero: NX only; RDN rounds -0.3 to -1, out of range.
    let r: Vec<_> = RM.iter().map(|&rm| f32_to_u32(0xbe99_999a, rm)).collect();
    assert_eq!(r, vec![(0, NX), (0, NX), (0, NV), (0, NX), (0, NX)]);
    // -0.7 rounds to -1 (out of range) in RNE/RDN/RMM, to 0 in RTZ/RUP.
    let r: Vec<_> = RM.iter().map(|&rm| f32_to_u32(0xbf33_3333, rm)).collect();
    assert_eq!(r, vec![(0, NV), (0, NX), (0, NV), (0, NX), (0, NV)]);
    // -0.5 ties to the even 0 in RNE, away from zero (-1) in RMM.
    let r: Vec<_> = RM.iter().map(|&rm| f32_to_u32(0xbf00_0000, rm)).collect();
    assert_eq!(r, vec![(0, NX), (0, NX), (0, NV), (0, NX), (0, NV)]);
    // binary64 edges.
    all("d 2^32-1", |rm| f64_to_u32(0x41ef_ffff_ffe0_0000, rm), u32::MAX, NONE);
    let r: Vec<_> = RM.iter().map(|&rm| f64_to_u32(0x41ef_ffff_fff0_0000, rm)).collect(); // 2^32 - 0.5
    assert_eq!(r, vec![(u32::MAX, NV), (u32::MAX, NX), (u32::MAX, NX), (u32::MAX, NV), (u32::MAX, NV)]);
    all("d 2^32", |rm| f64_to_u32(0x41f0_0000_0000_0000, rm), u32::MAX, NV);
    all("d -0", |rm| f64_to_u32(D_N0, rm), 0, NONE);
    let r: Vec<_> = RM.iter().map(|&rm| f64_to_u32(D_MIN_SUB | D_N0, rm)).collect();
    assert_eq!(r, vec![(0, NX), (0, NX), (0, NV), (0, NX), (0, NX)]);
}

#[test]
fn f_to_64bit_saturation() {
    all("2^63 i64", |rm| f32_to_i64(0x5f00_0000, rm), i64::MAX, NV);
    all("-2^63 i64", |rm| f32_to_i64(0xdf00_0000, rm), i64::MIN, NONE);
    all("below -2^63 i64", |rm| f32_to_i64(0xdf00_0001, rm), i64::MIN, NV);
    all("nan i64", |rm| f32_to_i64(NEG_SNAN, rm), i64::MAX, NV);
    all("-inf i64", |rm| f32_to_i64(NINF, rm), i64::MIN, NV);
    all("2^63 u64", |rm| f32_to_u64(0x5f00_0000, rm), 1 << 63, NONE);
    all("2^64 u64", |rm| f32_to_u64(0x5f80_0000, rm), u64::MAX, NV);
    all("nan u64", |rm| f32_to_u64(NEG_QNAN, rm), u64::MAX, NV);
    all("-1 u64", |rm| f32_to_u64(NEG_ONE, rm), 0, NV);
    all("-inf u64", |rm| f32_to_u64(NINF, rm), 0, NV);
    all("-0 u64", |rm| f32_to_u64(N0, rm), 0, NONE);
    // Largest binary64 below 2^63 is 2^63 - 1024.
    all("d 2^63-1024", |rm| f64_to_i64(0x43df_ffff_ffff_ffff, rm), i64::MAX - 1023, NONE);
    all("d 2^63", |rm| f64_to_i64(0x43e0_0000_0000_0000, rm), i64::MAX, NV);
    all("d -2^63-2048", |rm| f64_to_i64(0xc3e0_0000_0000_0001, rm), i64::MIN, NV);
    all("d +inf", |rm| f64_to_i64(D_PINF, rm), i64::MAX, NV);
    all("d nan", |rm| f64_to_i64(D_CNAN, rm), i64::MAX, NV);
    all("d 2^64", |rm| f64_to_u64(0x43f0_0000_0000_0000, rm), u64::MAX, NV);
    all("d 2^64-2048", |rm| f64_to_u64(0x43ef_ffff_ffff_ffff, rm), u64::MAX - 2047, NONE);
    all("d -inf u64", |rm| f64_to_u64(D_NINF, rm), 0, NV);
    all("d snan u64", |rm| f64_to_u64(D_NEG_SNAN, rm), u64::MAX, NV);
    let r: Vec<_> = RM.iter().map(|&rm| f64_to_u64(0xbfd3_3333_3333_3333, rm)).collect();
    assert_eq!(r, vec![(0, NX), (0, NX), (0, NV), (0, NX), (0, NX)]);
    all("d -1 u64", |rm| f64_to_u64(0xbff0_0000_0000_0000, rm), 0, NV);
}

// ---------------------------------------------------------------- int -> float

#[test]
fn int_to_f32() {
    // 2^24 + 1 is a tie between 2^24 and 2^24 + 2.
    modes(
        "2^24+1",
        |rm| i32_to_f32(16_777_217, rm),
        [0x4b80_0000, 0x4b80_0000, 0x4b80_0000, 0x4b80_0001, 0x4b80_0001],
        NX,
    );
    modes(
        "-(2^24+1)",
        |rm| i32_to_f32(-16_777_217, rm),
        [0xcb80_0000, 0xcb80_0000, 0xcb80_0001, 0xcb80_0000, 0xcb80_0001],
        NX,
    );
    all("i32 min", |rm| i32_to_f32(i32::MIN, rm), 0xcf00_0000, NONE);
    // Zero converts to +0 in every mode, including RDN.
    all("0", |rm| i32_to_f32(0, rm), P0, NONE);
    all("u 0", |rm| u64_to_f64(0, rm), D_P0, NONE);
    all("-1", |rm| i32_to_f32(-1, rm), NEG_ONE, NONE);
    modes(
        "u32 max",
        |rm| u32_to_f32(u32::MAX, rm),
        [0x4f80_0000, 0x4f7f_ffff, 0x4f7f_ffff, 0x4f80_0000, 0x4f80_0000],
        NX,
    );
    all("u32 2^31", |rm| u32_to_f32(0x8000_0000, rm), 0x4f00_0000, NONE);
    modes(
        "i64 max",
        |rm| i64_to_f32(i64::MAX, rm),
        [0x5f00_0000, 0x5eff_ffff, 0x5eff_ffff, 0x5f00_0000, 0x5f00_0000],
        NX,
    );
    all("i64 min", |rm| i64_to_f32(i64::MIN, rm), 0xdf00_0000, NONE);
    modes(
        "u64 max",
        |rm| u64_to_f32(u64::MAX, rm),
        [0x5f80_0000, 0x5f7f_ffff, 0x5f7f_ffff, 0x5f80_0000, 0x5f80_0000],
        NX,
    );
}

#[test]
fn int_to_f64() {
    all("i32 min", |rm| i32_to_f64(i32::MIN, rm), 0xc1e0_0000_0000_0000, NONE);
    all("u32 max", |rm| u32_to_f64(u32::MAX, rm), 0x41ef_ffff_ffe0_0000, NONE);
    all("i32 -1", |rm| i32_to_f64(-1, rm), 0xbff0_0000_0000_0000, NONE);
    // 2^53 + 1: tie between 2^53 and 2^53 + 2.
    modes(
        "2^53+1",
        |rm| i64_to_f64((1 << 53) + 1, rm),
        [
            0x4340_0000_0000_0000,
            0x4340_0000_0000_0000,
            0x4340_0000_0000_0000,
            0x4340_0000_0000_0001,
            0x4340_0000_0000_0001,
        ],
        NX,
    );
    modes(
        "-(2^53+1)",
        |rm| i64_to_f64(-(1 << 53) - 1, rm),
        [
            0xc340_0000_0000_0000,
            0xc340_0000_0000_0000,
            0xc340_0000_0000_0001,
            0xc340_0000_0000_0000,
            0xc340_0000_0000_0001,
        ],
        NX,
    );
    all("i64 min", |rm| i64_to_f64(i64::MIN, rm), 0xc3e0_0000_0000_0000, NONE);
    modes(
        "u64 max",
        |rm| u64_to_f64(u64::MAX, rm),
        [
            0x43f0_0000_0000_0000,
            0x43ef_ffff_ffff_ffff,
            0x43ef_ffff_ffff_ffff,
            0x43f0_0000_0000_0000,
            0x43f0_0000_0000_0000,
        ],
        NX,
    );
}

// ---------------------------------------------------------------- f32 <-> f64

#[test]
fn widen() {
    assert_eq!(f32_to_f64(ONE), (D_ONE, NONE));
    assert_eq!(f32_to_f64(N0), (D_N0, NONE));
    assert_eq!(f32_to_f64(NINF), (D_NINF, NONE));
    // The smallest binary32 subnormal, 2^-149, is a binary64 normal.
    assert_eq!(f32_to_f64(MIN_SUB), (0x36a0_0000_0000_0000, NONE));
    assert_eq!(f32_to_f64(MAXF), (0x47ef_ffff_e000_0000, NONE));
    // No payload propagation: every NaN becomes the positive canonical NaN.
    assert_eq!(f32_to_f64(QNAN_PAYLOAD), (D_CNAN, NONE));
    assert_eq!(f32_to_f64(NEG_QNAN), (D_CNAN, NONE));
    assert_eq!(f32_to_f64(SNAN), (D_CNAN, NV));
    assert_eq!(f32_to_f64(NEG_SNAN), (D_CNAN, NV));
}

#[test]
fn narrow() {
    modes(
        "d 1/3",
        |rm| f64_to_f32(0x3fd5_5555_5555_5555, rm),
        [0x3eaa_aaab, 0x3eaa_aaaa, 0x3eaa_aaaa, 0x3eaa_aaab, 0x3eaa_aaab],
        NX,
    );
    all("d 1", |rm| f64_to_f32(D_ONE, rm), ONE, NONE);
    all("d -0", |rm| f64_to_f32(D_N0, rm), N0, NONE);
    all("d inf", |rm| f64_to_f32(D_PINF, rm), PINF, NONE);
    modes("d max", |rm| f64_to_f32(D_MAX, rm), [PINF, MAXF, MAXF, PINF, PINF], OF | NX);
    let nmax = MAXF | 0x8000_0000;
    modes("d -max", |rm| f64_to_f32(D_MAX | D_N0, rm), [NINF, nmax, NINF, nmax, NINF], OF | NX);
    // 1e-50 is far below the binary32 range.
    modes("1e-50", |rm| f64_to_f32(0x358d_ee7a_4ad4_b81f, rm), [P0, P0, P0, MIN_SUB, P0], UF | NX);
    all("d 2^-149", |rm| f64_to_f32(0x36a0_0000_0000_0000, rm), MIN_SUB, NONE);
    // 2^-126 (1 - 2^-26): tiny before rounding, not after (except when rounding down).
    let r: Vec<_> = RM.iter().map(|&rm| f64_to_f32(0x380f_ffff_f800_0000, rm)).collect();
    assert_eq!(r, vec![(MIN_NORM, NX), (MAX_SUB, UF | NX), (MAX_SUB, UF | NX), (MIN_NORM, NX), (MIN_NORM, NX)]);
    all("d qnan", |rm| f64_to_f32(D_QNAN_PAYLOAD, rm), CNAN, NONE);
    all("d -qnan", |rm| f64_to_f32(D_CNAN | D_N0, rm), CNAN, NONE);
    all("d snan", |rm| f64_to_f32(D_SNAN, rm), CNAN, NV);
    // A binary64 sNaN whose payload lives only in the low bits is still a NaN, not infinity.
    all("d snan low", |rm| f64_to_f32(0x7ff0_0000_0000_0001, rm), CNAN, NV);
}

// ---------------------------------------------------------------- concurrency

#[test]
fn threads_do_not_share_rounding_or_flags() {
    // Each thread hammers an operation whose result and flags depend on the rounding mode; if the
    // SoftFloat state were shared, interleavings would produce wrong results or stray flags.
    let handles: Vec<_> = RM
        .into_iter()
        .map(|rm| {
            std::thread::spawn(move || {
                let want = f32_div(ONE, THREE, rm);
                for _ in 0..20_000 {
                    assert_eq!(f32_div(ONE, THREE, rm), want);
                    assert_eq!(f32_add(ONE, TWO, rm), (THREE, NONE));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
