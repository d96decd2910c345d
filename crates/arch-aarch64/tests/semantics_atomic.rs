//! FEAT_LSE: the atomic memory operations, SWP, CAS and CASP, on every tier, against the Arm
//! ARM's definitions; and UNDEFINED when the CPU lacks the feature.

mod common;

use common::*;
use mimic_arch_aarch64::cpu::Aarch64Cpu;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::Fault;

// size field values.
const B: u32 = 0;
const H: u32 = 1;
const S: u32 = 2;
const D: u32 = 3;
// A:R and L:o0 (acquire, release) of the encodings.
const PLAIN: u32 = 0;
const ACQ_REL: u32 = 3;

/// A different value in every byte, with the sign bit set at every width.
const OLD: u64 = 0x8877_6655_4433_2291;

fn with_lse(c: &mut Aarch64Cpu) {
    c.features.lse = true;
}

fn mask(size: u32) -> u64 {
    if size == D {
        u64::MAX
    } else {
        (1 << (8 << size)) - 1
    }
}

/// Run `insn` (Rs = X2, Rn = X1, Rt = X3) on DATA holding OLD with X2 = `operand`; returns
/// (X3, the 8 bytes at DATA).
fn ldop(insn: u32, operand: u64) -> (u64, u64) {
    let f = Snippet::of(&[insn]).setup(with_lse).x(1, DATA).x(2, operand).x(3, 0xdead).mem64(DATA, OLD).ok();
    (f.x(3), f.mem(DATA, 8))
}

#[test]
fn ldadd_returns_the_old_value_and_adds_at_every_size() {
    for size in [B, H, S, D] {
        let (got, mem) = ldop(enc::ldadd(size, PLAIN, 2, 1, 3), 0x7f);
        let m = mask(size);
        assert_eq!(got, OLD & m, "size {size}: Rt gets the old value, zero-extended");
        assert_eq!(mem, (OLD & !m) | (OLD.wrapping_add(0x7f) & m), "size {size}: only the access's bytes change");
    }
}

/// `enc::ldadd` and its siblings: (size, A:R, Rs, Rn, Rt) -> word.
type Encoder = fn(u32, u32, u32, u32, u32) -> u32;

#[test]
fn each_operation_computes_what_the_arm_arm_defines() {
    let operand = 0x0000_0000_0000_00f0u64;
    let cases: [(Encoder, u64); 9] = [
        (enc::ldadd, OLD.wrapping_add(operand)),
        (enc::ldclr, OLD & !operand),
        (enc::ldeor, OLD ^ operand),
        (enc::ldset, OLD | operand),
        (enc::ldsmax, operand), // OLD is negative as a signed doubleword
        (enc::ldsmin, OLD),
        (enc::ldumax, OLD),
        (enc::ldumin, operand),
        (enc::swp, operand),
    ];
    for (i, (e, want)) in cases.into_iter().enumerate() {
        let (got, mem) = ldop(e(D, ACQ_REL, 2, 1, 3), operand);
        assert_eq!((got, mem), (OLD, want), "operation {i}");
    }
}

#[test]
fn signed_and_unsigned_max_compare_at_the_access_size() {
    // Byte 0x91 is -111 signed, 145 unsigned; the operand's upper bits do not take part.
    let (_, mem) = ldop(enc::ldsmax(B, PLAIN, 2, 1, 3), 0xffff_ff05);
    assert_eq!(mem & 0xff, 0x05);
    let (_, mem) = ldop(enc::ldumax(B, PLAIN, 2, 1, 3), 0xffff_ff05);
    assert_eq!(mem & 0xff, 0x91);
    let (_, mem) = ldop(enc::ldsmin(H, PLAIN, 2, 1, 3), 0x7fff);
    assert_eq!(mem & 0xffff, 0x2291);
}

#[test]
fn st_alias_with_rt_xzr_updates_memory_and_writes_no_register() {
    let f = Snippet::of(&[enc::ldadd(D, PLAIN, 2, 1, 31)])
        .setup(with_lse)
        .x(1, DATA)
        .x(2, 1)
        .x(31, 0x4000_8000)
        .mem64(DATA, 41)
        .ok();
    assert_eq!(f.mem(DATA, 8), 42);
    assert_eq!(f.sp(), 0x4000_8000, "register 31 is XZR for Rt, not SP");
}

#[test]
fn xzr_operand_reads_as_zero_and_sp_is_the_base() {
    let f = Snippet::of(&[enc::swp(D, PLAIN, 31, 31, 3)]).setup(with_lse).x(31, DATA + 8).mem64(DATA + 8, OLD).ok();
    assert_eq!((f.x(3), f.mem(DATA + 8, 8)), (OLD, 0));
}

#[test]
fn cas_that_matches_stores_and_returns_the_old_value() {
    let f = Snippet::of(&[enc::cas(D, ACQ_REL, 2, 1, 3)])
        .setup(with_lse)
        .x(1, DATA)
        .x(2, OLD)
        .x(3, 7)
        .mem64(DATA, OLD)
        .ok();
    assert_eq!((f.x(2), f.mem(DATA, 8)), (OLD, 7));
}

#[test]
fn cas_that_fails_loads_memory_into_rs_and_stores_nothing() {
    let f =
        Snippet::of(&[enc::cas(D, PLAIN, 2, 1, 3)]).setup(with_lse).x(1, DATA).x(2, 5).x(3, 7).mem64(DATA, OLD).ok();
    assert_eq!((f.x(2), f.mem(DATA, 8)), (OLD, OLD));
}

#[test]
fn cas_w_compares_32_bits_and_zero_extends_into_ws() {
    let f = Snippet::of(&[enc::cas(S, PLAIN, 2, 1, 3)])
        .setup(with_lse)
        .x(1, DATA)
        .x(2, 0xffff_ffff_4433_2291)
        .x(3, 0x1234_5678_9abc_def0)
        .mem64(DATA, OLD)
        .ok();
    assert_eq!(f.x(2), 0x4433_2291);
    assert_eq!(f.mem(DATA, 8), 0x8877_6655_9abc_def0);
}

#[test]
fn cas_byte_with_rs_xzr_swaps_in_rt_only_when_memory_is_zero() {
    let f = Snippet::of(&[enc::cas(B, PLAIN, 31, 1, 3), enc::cas(B, PLAIN, 31, 4, 3)])
        .setup(with_lse)
        .x(1, DATA)
        .x(4, DATA + 8)
        .x(3, 0xab)
        .mem64(DATA, 0x100)
        .mem64(DATA + 8, 0x1)
        .ok();
    assert_eq!((f.mem(DATA, 8), f.mem(DATA + 8, 8)), (0x1ab, 0x1));
}

#[test]
fn casp_of_x_pairs_compares_and_swaps_sixteen_bytes() {
    let f = Snippet::of(&[enc::casp(1, ACQ_REL, 2, 1, 4), enc::casp(1, PLAIN, 6, 1, 4)])
        .setup(with_lse)
        .x(1, DATA)
        .x(2, 0x1111)
        .x(3, 0x2222)
        .x(4, 0xaaaa)
        .x(5, 0xbbbb)
        .x(6, 0x1111)
        .x(7, 0x2222)
        .mem64(DATA, 0x1111)
        .mem64(DATA + 8, 0x2222)
        .ok();
    // The first matches (Xs from the lower address) and stores X4:X5; the second then fails.
    assert_eq!((f.x(2), f.x(3)), (0x1111, 0x2222));
    assert_eq!((f.x(6), f.x(7)), (0xaaaa, 0xbbbb));
    assert_eq!((f.mem(DATA, 8), f.mem(DATA + 8, 8)), (0xaaaa, 0xbbbb));
}

#[test]
fn casp_of_w_pairs_uses_eight_bytes() {
    let f = Snippet::of(&[enc::casp(0, PLAIN, 2, 1, 4)])
        .setup(with_lse)
        .x(1, DATA)
        .x(2, 0xffff_0000_4433_2291)
        .x(3, 0x8877_6655)
        .x(4, 0x1)
        .x(5, 0x2)
        .mem64(DATA, OLD)
        .ok();
    assert_eq!((f.x(2), f.x(3)), (0x4433_2291, 0x8877_6655));
    assert_eq!(f.mem(DATA, 8), 0x2_0000_0001);
}

#[test]
fn casp_with_an_odd_register_is_undefined() {
    for word in [enc::casp(1, PLAIN, 3, 1, 4), enc::casp(1, PLAIN, 2, 1, 5)] {
        let f = Snippet::of(&[word]).setup(with_lse).x(1, DATA).run();
        assert_eq!(f.taken, Some((Fault::Undefined { raw: word }, CODE)));
    }
}

#[test]
fn misaligned_atomics_fault_even_on_normal_memory() {
    for (word, va) in [
        (enc::ldadd(H, PLAIN, 2, 1, 3), DATA + 1),
        (enc::cas(S, PLAIN, 2, 1, 3), DATA + 2),
        (enc::casp(1, PLAIN, 2, 1, 4), DATA + 8),
    ] {
        let f = Snippet::of(&[word]).setup(with_lse).normal_memory().x(1, va).x(3, 0x77).mem64(DATA, OLD).run();
        assert_eq!(f.taken, Some((Fault::Alignment { va, write: false }, CODE)), "{word:#x}");
        assert_eq!((f.mem(DATA, 8), f.x(3)), (OLD, 0x77), "nothing changed");
    }
}

#[test]
fn atomics_are_undefined_without_feat_lse() {
    for word in [
        enc::ldadd(D, PLAIN, 2, 1, 3),
        enc::swp(S, ACQ_REL, 2, 1, 3),
        enc::cas(D, PLAIN, 2, 1, 3),
        enc::casp(1, PLAIN, 2, 1, 4),
    ] {
        let f = Snippet::of(&[word]).setup(|c| c.features.lse = false).x(1, DATA).mem64(DATA, OLD).run();
        assert_eq!(f.taken, Some((Fault::Undefined { raw: word }, CODE)), "{word:#x}");
        assert_eq!(f.mem(DATA, 8), OLD);
    }
}

#[test]
fn an_atomic_write_clears_this_cpus_exclusive_monitor() {
    // LDADD of 0 leaves the value as it was, so only the cleared monitor fails the STXR.
    let f = Snippet::of(&[enc::ldxr(D, 3, 1, 0), enc::ldadd(D, PLAIN, 31, 1, 4), enc::stxr(D, 5, 3, 1, 0)])
        .setup(with_lse)
        .x(1, DATA)
        .mem64(DATA, OLD)
        .ok();
    assert_eq!(f.x(5), 1);
}

#[test]
fn ldadd_in_a_loop_counts_every_iteration() {
    // x2 = 2000; loop: ldadd x4, x3, [x1]; subs x2, x2, #1; b.ne loop
    let f = Snippet::of(&[
        enc::movz(2, 2000, 0),
        enc::ldadd(D, ACQ_REL, 4, 1, 3),
        enc::subs_imm(1, 2, 2, 1, 0),
        enc::b_cond(cond::NE, -8),
    ])
    .setup(with_lse)
    .x(1, DATA)
    .x(4, 3)
    .ok();
    assert_eq!(f.mem(DATA, 8), 6000);
    assert_eq!(f.x(3), 5997);
}
