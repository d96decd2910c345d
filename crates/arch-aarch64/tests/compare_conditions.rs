//! Conditions read in the block of the compare that set the flags (B.cond, CSEL after CMP): a
//! compiling tier tests the compare's operands themselves (`Sem::compared`). Every condition,
//! at both widths, on operands at the signed and unsigned edges, must give what the Arm ARM's
//! ConditionHolds gives for the flags of the subtraction, on every tier.

mod common;

use common::nzcv::{C, N, V, Z};
use common::*;
use mimic_arch_aarch64::decode::enc;

const EDGES: [u64; 10] =
    [0, 1, 2, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, i64::MAX as u64, i64::MIN as u64, u64::MAX];

/// The conditions tested: all but AL and NV.
const CONDS: u32 = 14;

/// NZCV of `a - b` at `bits`, from exact integer arithmetic.
fn flags_of_sub(bits: u32, a: u64, b: u64) -> u32 {
    let mask = if bits == 64 { u64::MAX } else { (1 << bits) - 1 };
    let (a, b) = (a & mask, b & mask);
    let signed = |v: u64| -> i128 { ((v as i128) << (128 - bits)) >> (128 - bits) };
    let r = a.wrapping_sub(b) & mask;
    let mut f = 0;
    if r >> (bits - 1) & 1 == 1 {
        f |= N;
    }
    if r == 0 {
        f |= Z;
    }
    if a >= b {
        f |= C;
    }
    if signed(a) - signed(b) != signed(r) {
        f |= V;
    }
    f
}

/// ConditionHolds(cond) for the flags `f`.
fn holds(cond: u32, f: u32) -> bool {
    let (n, z, c, v) = (f & N != 0, f & Z != 0, f & C != 0, f & V != 0);
    let base = match cond >> 1 {
        0 => z,
        1 => c,
        2 => n,
        3 => v,
        4 => c && !z,
        5 => n == v,
        6 => n == v && !z,
        _ => true,
    };
    if cond & 1 == 1 && cond != 15 {
        !base
    } else {
        base
    }
}

/// CMP X1, X2 (W1, W2 if not `wide`) and then, per condition, a CSEL into X3 + cond and, after
/// another CMP, a B.cond that sets the condition's bit of X22 (most significant: EQ).
fn program(wide: bool) -> Vec<u32> {
    let cmp = if wide { enc::subs_reg(31, 1, 2, 0, 0) } else { enc::subs_reg_w(31, 1, 2, 0, 0) };
    let mut code = vec![cmp];
    code.extend((0..CONDS).map(|c| enc::csel(1, 3 + c, 20, 21, c)));
    for c in 0..CONDS {
        code.extend([
            enc::add_reg(22, 22, 22, 0, 0), // x22 <<= 1
            cmp,
            enc::b_cond(c, 8),             // taken: to the add
            enc::b(8),                     // not taken: past it
            enc::add_imm(1, 22, 22, 1, 0), // x22 += 1
        ]);
    }
    code
}

#[test]
fn conditions_after_a_compare_hold_as_the_flags_say_on_every_tier() {
    for wide in [false, true] {
        let code = program(wide);
        for a in EDGES {
            for b in EDGES {
                let f = Snippet::of(&code).x(1, a).x(2, b).x(20, 1).x(21, 0).ok();
                let flags = flags_of_sub(if wide { 64 } else { 32 }, a, b);
                let mut branches = 0;
                for c in 0..CONDS {
                    let want = holds(c, flags);
                    assert_eq!(
                        f.x(3 + c as usize),
                        u64::from(want),
                        "CSEL cond {c} after cmp {a:#x}, {b:#x} (wide {wide})"
                    );
                    branches = branches << 1 | u64::from(want);
                }
                assert_eq!(f.x(22), branches, "B.cond bits after cmp {a:#x}, {b:#x} (wide {wide})");
                assert_eq!(f.nzcv, flags);
            }
        }
    }
}
