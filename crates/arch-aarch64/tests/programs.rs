//! Small A64 programs with loops, assembled with the in-tree encoder, run on every tier
//! (including one that switches a block from the interpreter to compiled code mid-loop), checked
//! against the same computation in Rust.

mod common;

use common::*;
use mimic_arch_aarch64::decode::enc;

const X: u32 = 1;
const D: u32 = 3;
const LOAD: u32 = 1;
const STORE: u32 = 0;
const LSL_EXT: u32 = 1;

/// Insertion sort of `x1` signed 64-bit values at `x0`, then `x7 = sum(a[k] * (k + 1))`.
fn sort_and_checksum() -> Vec<u32> {
    vec![
        enc::movz(2, 1, 0),                           // 0:  i = 1
        enc::subs_reg(31, 2, 1, 0, 0),                // 4:  outer: cmp i, n
        enc::b_cond(cond::GE, 60),                    // 8:  b.ge done (68)
        enc::ldst_reg(D, LOAD, 3, 0, 2, LSL_EXT, 1),  // 12: key = a[i]
        enc::sub_imm(X, 4, 2, 1, 0),                  // 16: j = i - 1
        enc::tbnz(4, 63, 32),                         // 20: inner: j < 0 -> place (52)
        enc::ldst_reg(D, LOAD, 5, 0, 4, LSL_EXT, 1),  // 24: a[j]
        enc::subs_reg(31, 5, 3, 0, 0),                // 28: cmp a[j], key
        enc::b_cond(cond::LE, 20),                    // 32: b.le place (52)
        enc::add_imm(X, 6, 4, 1, 0),                  // 36
        enc::ldst_reg(D, STORE, 5, 0, 6, LSL_EXT, 1), // 40: a[j + 1] = a[j]
        enc::sub_imm(X, 4, 4, 1, 0),                  // 44: j -= 1
        enc::b(-28),                                  // 48: b inner (20)
        enc::add_imm(X, 6, 4, 1, 0),                  // 52: place:
        enc::ldst_reg(D, STORE, 3, 0, 6, LSL_EXT, 1), // 56: a[j + 1] = key
        enc::add_imm(X, 2, 2, 1, 0),                  // 60: i += 1
        enc::b(-60),                                  // 64: b outer (4)
        enc::orr_reg(8, 31, 0, 0, 0),                 // 68: done: p = a
        enc::movz(9, 0, 0),                           // 72: k = 0
        enc::movz(7, 0, 0),                           // 76: sum = 0
        enc::ldst_post(D, LOAD, 10, 8, 8),            // 80: loop: v = *p++
        enc::add_imm(X, 9, 9, 1, 0),                  // 84: k += 1
        enc::madd(X, 7, 10, 9, 7),                    // 88: sum += v * k
        enc::subs_reg(31, 9, 1, 0, 0),                // 92
        enc::b_cond(cond::NE, -16),                   // 96: b.ne loop (80)
    ]
}

#[test]
fn insertion_sort_sorts_signed_values_and_checksums() {
    let values: Vec<i64> = vec![5, -3, i64::MAX, 0, i64::MIN, 42, -42, 7, 7, 1 << 40, -1, 3, 100, -100, 2, 1];
    let mut s = Snippet::of(&sort_and_checksum()).x(0, DATA).x(1, values.len() as u64);
    for (i, v) in values.iter().enumerate() {
        s = s.mem64(DATA + 8 * i as u64, *v as u64);
    }
    let f = s.ok();
    let mut sorted = values.clone();
    sorted.sort();
    for (i, v) in sorted.iter().enumerate() {
        assert_eq!(f.mem(DATA + 8 * i as u64, 8), *v as u64, "a[{i}]");
    }
    let checksum =
        sorted.iter().enumerate().fold(0u64, |acc, (k, v)| acc.wrapping_add((*v as u64).wrapping_mul(k as u64 + 1)));
    assert_eq!(f.x(7), checksum);
}

/// Fibonacci modulo 2^32 with W registers, `x0` iterations: the result in w1.
#[test]
fn fibonacci_in_w_registers_wraps_at_32_bits() {
    let code = [
        enc::movz_w(1, 0, 0),           // a = 0
        enc::movz_w(2, 1, 0),           // b = 1
        enc::add_reg_w(3, 1, 2, 0, 0),  // loop: t = a + b
        enc::orr_reg_w(1, 31, 2, 0, 0), // a = b
        enc::orr_reg_w(2, 31, 3, 0, 0), // b = t
        enc::sub_imm(0, 0, 0, 1, 0),    // n -= 1 (W)
        enc::cbnz(0, 0, -16),           // cbnz w0, loop
    ];
    let f = Snippet::of(&code).x(0, 0xffff_ffff_0000_0064).ok(); // w0 = 100; the upper half is ignored
    let (mut a, mut b) = (0u32, 1u32);
    for _ in 0..100 {
        (a, b) = (b, a.wrapping_add(b));
    }
    assert_eq!(f.x(1), u64::from(a));
    assert_eq!(f.x(0), 0);
}
