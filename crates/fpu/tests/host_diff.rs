//! Differential check against the host FPU, which is IEEE-754 round-to-nearest-even on x86-64 and
//! AArch64 (Rust never enables flush-to-zero). Only results are compared, plus the inexact flag
//! where it can be derived from the host result; the host cannot report flags or other modes.

use mimic_fpu::*;
use proptest::prelude::*;

fn finite32() -> impl Strategy<Value = u32> {
    prop_oneof![
        any::<u32>(),
        // Subnormals and tiny normals are rare among random bit patterns; ask for them.
        (any::<bool>(), 0u32..0x0100_0000).prop_map(|(s, m)| m | if s { 0x8000_0000 } else { 0 }),
    ]
    .prop_filter("finite", |&b| f32::from_bits(b).is_finite())
}

fn finite64() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (any::<bool>(), 0u64..0x0020_0000_0000_0000).prop_map(|(s, m)| m | if s { 1 << 63 } else { 0 }),
    ]
    .prop_filter("finite", |&b| f64::from_bits(b).is_finite())
}

fn same32(ours: u32, host: f32) -> Result<(), TestCaseError> {
    if host.is_nan() {
        prop_assert_eq!(ours, F32_CANONICAL_NAN);
    } else {
        prop_assert_eq!(ours, host.to_bits(), "ours {:e} host {:e}", f32::from_bits(ours), host);
    }
    Ok(())
}

fn same64(ours: u64, host: f64) -> Result<(), TestCaseError> {
    if host.is_nan() {
        prop_assert_eq!(ours, F64_CANONICAL_NAN);
    } else {
        prop_assert_eq!(ours, host.to_bits(), "ours {:e} host {:e}", f64::from_bits(ours), host);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn f32_rne_matches_host(a in finite32(), b in finite32(), c in finite32()) {
        let (x, y, z) = (f32::from_bits(a), f32::from_bits(b), f32::from_bits(c));
        same32(f32_add(a, b, Rm::Rne).0, x + y)?;
        same32(f32_sub(a, b, Rm::Rne).0, x - y)?;
        same32(f32_mul(a, b, Rm::Rne).0, x * y)?;
        same32(f32_div(a, b, Rm::Rne).0, x / y)?;
        same32(f32_sqrt(a, Rm::Rne).0, x.sqrt())?;
        same32(f32_fma(a, b, c, false, false, Rm::Rne).0, x.mul_add(y, z))?;
        same32(f32_fma(a, b, c, true, true, Rm::Rne).0, (-x).mul_add(y, -z))?;
        // Widening is exact; narrowing with `as` rounds to nearest-even.
        same64(f32_to_f64(a).0, f64::from(x))?;
    }

    #[test]
    fn f64_rne_matches_host(a in finite64(), b in finite64(), c in finite64()) {
        let (x, y, z) = (f64::from_bits(a), f64::from_bits(b), f64::from_bits(c));
        same64(f64_add(a, b, Rm::Rne).0, x + y)?;
        same64(f64_sub(a, b, Rm::Rne).0, x - y)?;
        same64(f64_mul(a, b, Rm::Rne).0, x * y)?;
        same64(f64_div(a, b, Rm::Rne).0, x / y)?;
        same64(f64_sqrt(a, Rm::Rne).0, x.sqrt())?;
        same64(f64_fma(a, b, c, false, true, Rm::Rne).0, x.mul_add(y, -z))?;
        same32(f64_to_f32(a, Rm::Rne).0, x as f32)?;
    }

    #[test]
    fn comparisons_match_host(a in finite64(), b in finite64()) {
        let (x, y) = (f64::from_bits(a), f64::from_bits(b));
        prop_assert_eq!(f64_lt(a, b), (x < y, Flags::NONE));
        prop_assert_eq!(f64_le(a, b), (x <= y, Flags::NONE));
        prop_assert_eq!(f64_eq(a, b), (x == y, Flags::NONE));
        let (a32, b32) = (f64_to_f32(a, Rm::Rtz).0, f64_to_f32(b, Rm::Rtz).0);
        let (x32, y32) = (f32::from_bits(a32), f32::from_bits(b32));
        prop_assert_eq!(f32_lt(a32, b32).0, x32 < y32);
        // Host min/max agree except for the sign of equal zeros, which is unspecified there.
        if !(x32 == 0.0 && y32 == 0.0) {
            prop_assert_eq!(f32_min(a32, b32).0, x32.min(y32).to_bits());
            prop_assert_eq!(f32_max(a32, b32).0, x32.max(y32).to_bits());
        }
    }

    #[test]
    fn rtz_conversions_match_host_casts_in_range(a in finite64(), i in any::<i64>()) {
        let x = f64::from_bits(a);
        // `as` truncates toward zero; inside the range it agrees with RTZ, and NX is exactly
        // "the truncated value differs from the input".
        if x > -2147483649.0 && x < 2147483648.0 {
            let t = x as i32;
            let nx = if f64::from(t) == x { Flags::NONE } else { Flags::NX };
            prop_assert_eq!(f64_to_i32(a, Rm::Rtz), (t, nx));
        }
        if x > -1.0 && x < 18446744073709551616.0 {
            let t = x as u64;
            let nx = if t as f64 == x { Flags::NONE } else { Flags::NX };
            prop_assert_eq!(f64_to_u64(a, Rm::Rtz), (t, nx));
        }
        // Integer to float with `as` rounds to nearest-even.
        same64(i64_to_f64(i, Rm::Rne).0, i as f64)?;
        same32(i64_to_f32(i, Rm::Rne).0, i as f32)?;
        same64(u64_to_f64(i as u64, Rm::Rne).0, i as u64 as f64)?;
        same32(i32_to_f32(i as i32, Rm::Rne).0, i as i32 as f32)?;
        same32(u32_to_f32(i as u32, Rm::Rne).0, i as u32 as f32)?;
    }
}
