//! ADDS/SUBS/ADCS/SBCS against a model of the Arm ARM's AddWithCarry written with 128-bit
//! integers (independently of sem.rs's 64-bit formulation), for random and edge operands at both
//! widths, on every tier.

mod common;

use common::nzcv::{C, N, V, Z};
use common::Snippet;
use mimic_arch_aarch64::decode::enc;
use proptest::prelude::*;

/// AddWithCarry(x, y, carry_in) at `bits`: the result and NZCV, from the definition: unsigned
/// and signed sums computed exactly, C and V set when they differ from the truncated result.
fn model(bits: u32, x: u64, y: u64, carry: bool) -> (u64, u32) {
    let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let (x, y) = (x & mask, y & mask);
    let signed = |v: u64| -> i128 {
        let sh = 128 - bits;
        ((v as i128) << sh) >> sh
    };
    let usum = x as u128 + y as u128 + carry as u128;
    let ssum = signed(x) + signed(y) + carry as i128;
    let result = (usum as u64) & mask;
    let mut f = 0;
    if result >> (bits - 1) & 1 == 1 {
        f |= N;
    }
    if result == 0 {
        f |= Z;
    }
    if result as u128 != usum {
        f |= C;
    }
    if signed(result) != ssum {
        f |= V;
    }
    (result, f)
}

fn operand() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(u64::MAX),
        Just(1 << 63),
        Just(i64::MAX as u64),
        Just(0x8000_0000),
        Just(0x7fff_ffff),
        Just(0xffff_ffff),
        any::<u64>(),
    ]
}

/// Run `insn` (rd 3, rn 1, rm 2) with carry in `c`; return X3 and NZCV.
fn run(insn: u32, a: u64, b: u64, c: bool) -> (u64, u32) {
    let f = Snippet::of(&[insn]).x(1, a).x(2, b).nzcv(if c { C } else { 0 }).ok();
    (f.x(3), f.nzcv)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn adds_matches_add_with_carry(a in operand(), b in operand()) {
        prop_assert_eq!(run(enc::adds_reg(3, 1, 2, 0, 0), a, b, false), model(64, a, b, false));
        prop_assert_eq!(run(enc::adds_reg_w(3, 1, 2, 0, 0), a, b, false), model(32, a, b, false));
    }

    #[test]
    fn subs_matches_add_with_carry_of_the_complement(a in operand(), b in operand()) {
        prop_assert_eq!(run(enc::subs_reg(3, 1, 2, 0, 0), a, b, false), model(64, a, !b, true));
        prop_assert_eq!(run(enc::subs_reg_w(3, 1, 2, 0, 0), a, b, false), model(32, a, !b, true));
    }

    #[test]
    fn adcs_and_sbcs_use_the_carry_flag(a in operand(), b in operand(), c in any::<bool>()) {
        prop_assert_eq!(run(enc::adcs(1, 3, 1, 2), a, b, c), model(64, a, b, c));
        prop_assert_eq!(run(enc::adcs(0, 3, 1, 2), a, b, c), model(32, a, b, c));
        prop_assert_eq!(run(enc::sbcs(1, 3, 1, 2), a, b, c), model(64, a, !b, c));
        prop_assert_eq!(run(enc::sbcs(0, 3, 1, 2), a, b, c), model(32, a, !b, c));
    }
}
