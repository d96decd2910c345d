//! A64 loads, stores and branches: each snippet runs on every tier (interpreter and JIT) and
//! all must end in the same state, which is then checked against the Arm ARM's definition.

mod common;

use common::*;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::mmu::fsc;
use mimic_arch_aarch64::Fault;

const X: u32 = 1;
const W: u32 = 0;

// size field values and opc values of the load/store encodings.
const B: u32 = 0;
const H: u32 = 1;
const S: u32 = 2;
const D: u32 = 3;
const STORE: u32 = 0;
const LOAD: u32 = 1;
const LOAD_SX: u32 = 2;
const LOAD_SW: u32 = 3;

/// Bytes 0x87, 0x86, ... 0x80 at DATA: every width of it has its sign bit set.
const PATTERN: u64 = 0x8081_8283_8485_8687;

fn load(size: u32, opc: u32) -> u64 {
    Snippet::of(&[enc::ldst_uimm(size, opc, 3, 1, 0)]).x(1, DATA).mem64(DATA, PATTERN).ok().x(3)
}

#[test]
fn loads_zero_extend_by_default() {
    assert_eq!(load(B, LOAD), 0x87);
    assert_eq!(load(H, LOAD), 0x8687);
    assert_eq!(load(S, LOAD), 0x8485_8687);
    assert_eq!(load(D, LOAD), PATTERN);
}

#[test]
fn signed_loads_extend_to_64_or_32_bits() {
    assert_eq!(load(B, LOAD_SX), 0xffff_ffff_ffff_ff87);
    assert_eq!(load(H, LOAD_SX), 0xffff_ffff_ffff_8687);
    assert_eq!(load(S, LOAD_SX), 0xffff_ffff_8485_8687);
    assert_eq!(load(B, LOAD_SW), 0xffff_ff87);
    assert_eq!(load(H, LOAD_SW), 0xffff_8687);
}

#[test]
fn stores_write_only_their_width() {
    let f = Snippet::of(&[
        enc::ldst_uimm(B, STORE, 2, 1, 0),
        enc::ldst_uimm(H, STORE, 2, 1, 1),  // DATA + 2
        enc::ldst_uimm(S, STORE, 2, 1, 1),  // DATA + 4
        enc::ldst_uimm(D, STORE, 2, 1, 1),  // DATA + 8
        enc::ldst_uimm(D, STORE, 31, 1, 2), // xzr to DATA + 16
    ])
    .x(1, DATA)
    .x(2, 0x1122_3344_5566_7788)
    .mem64(DATA + 16, u64::MAX)
    .ok();
    assert_eq!(f.mem(DATA, 8), 0x5566_7788_7788_0088);
    assert_eq!(f.mem(DATA + 8, 8), 0x1122_3344_5566_7788);
    assert_eq!(f.mem(DATA + 16, 8), 0);
}

#[test]
fn unsigned_offset_is_scaled_by_the_access_size() {
    let f = Snippet::of(&[enc::ldst_uimm(D, LOAD, 3, 1, 2), enc::ldst_uimm(H, LOAD, 4, 1, 3)])
        .x(1, DATA)
        .mem64(DATA + 16, 0xdead_beef)
        .mem64(DATA, 0x2222_1111_0000_0000)
        .ok();
    assert_eq!(f.x(3), 0xdead_beef);
    assert_eq!(f.x(4), 0x2222);
}

#[test]
fn unscaled_offset_may_be_negative_and_misaligned() {
    // Misaligned accesses need Normal memory: with the MMU off, data is Device memory.
    let f = Snippet::of(&[enc::ldst_unscaled(D, LOAD, 3, 1, -8), enc::ldst_unscaled(S, LOAD, 4, 1, -7)])
        .x(1, DATA + 16)
        .mem64(DATA + 8, 0x8877_6655_4433_2211)
        .normal_memory()
        .ok();
    assert_eq!(f.x(3), 0x8877_6655_4433_2211);
    assert_eq!(f.x(4), 0x5544_3322);
}

#[test]
fn unprivileged_forms_access_like_unscaled_ones_at_el1() {
    let f = Snippet::of(&[enc::ldst_unpriv(H, LOAD_SX, 3, 1, -2), enc::ldst_unpriv(B, STORE, 3, 1, 5)])
        .x(1, DATA + 2)
        .mem64(DATA, 0x8001)
        .ok();
    assert_eq!(f.x(3), 0xffff_ffff_ffff_8001);
    assert_eq!(f.mem(DATA + 7, 1), 0x01);
}

#[test]
fn pre_index_writes_back_the_moved_base() {
    let f = Snippet::of(&[enc::ldst_pre(D, STORE, 2, 1, 16)]).x(1, DATA).x(2, 0xabcd).ok();
    assert_eq!(f.mem(DATA + 16, 8), 0xabcd);
    assert_eq!(f.x(1), DATA + 16);
}

#[test]
fn post_index_accesses_the_old_base() {
    let f = Snippet::of(&[enc::ldst_post(D, LOAD, 3, 1, -8)]).x(1, DATA).mem64(DATA, 0x1234).ok();
    assert_eq!(f.x(3), 0x1234);
    assert_eq!(f.x(1), DATA - 8);
}

#[test]
fn writeback_on_sp_base() {
    // str x2, [sp, #-16]!; ldr x3, [sp], #16
    let f = Snippet::of(&[enc::ldst_pre(D, STORE, 2, 31, -16), enc::ldst_post(D, LOAD, 3, 31, 16)])
        .x(31, DATA + 0x100)
        .x(2, 0x5a5a)
        .ok();
    assert_eq!(f.sp(), DATA + 0x100);
    assert_eq!(f.x(3), 0x5a5a);
    assert_eq!(f.mem(DATA + 0xf0, 8), 0x5a5a);
}

#[test]
fn store_with_writeback_of_its_own_base_stores_the_old_value() {
    let f = Snippet::of(&[enc::ldst_pre(D, STORE, 1, 1, 8)]).x(1, DATA).ok();
    assert_eq!(f.mem(DATA + 8, 8), DATA);
    assert_eq!(f.x(1), DATA + 8);
}

#[test]
fn register_offset_extends_and_scales() {
    let f = Snippet::of(&[
        enc::ldst_reg(D, LOAD, 3, 1, 2, 2, 1),  // ldr x3, [x1, w2, sxtw #3]
        enc::ldst_reg(B, LOAD, 4, 1, 5, 0, 1),  // ldrb w4, [x1, w5, uxtw]
        enc::ldst_reg(H, LOAD, 6, 1, 7, 1, 0),  // ldrh w6, [x1, x7]
        enc::ldst_reg(S, STORE, 8, 1, 9, 3, 1), // str w8, [x1, x9, sxtx #2]
    ])
    .x(1, DATA + 16)
    .x(2, 0xffff_ffff) // w2 = -1
    .x(5, 0xffff_ffff_0000_0003) // only w5 = 3 counts
    .x(7, 4)
    .x(8, 0x7777_7777)
    .x(9, (-4i64) as u64)
    .mem64(DATA + 8, 0x1111)
    .mem64(DATA + 16, 0x0000_4433_2200_0000)
    .ok();
    assert_eq!(f.x(3), 0x1111);
    assert_eq!(f.x(4), 0x22);
    assert_eq!(f.x(6), 0x4433);
    assert_eq!(f.mem(DATA, 4), 0x7777_7777);
}

#[test]
fn literal_loads_are_pc_relative() {
    let f = Snippet::of(&[
        enc::ldr_lit_x(3, (DATA - CODE) as i64),
        enc::ldr_lit_w(4, (DATA - CODE - 4) as i64),
        enc::ldrsw_lit(5, (DATA - CODE - 8) as i64),
        enc::prfm_lit(0, 0),
    ])
    .mem64(DATA, PATTERN)
    .ok();
    assert_eq!(f.x(3), PATTERN);
    assert_eq!(f.x(4), 0x8485_8687);
    assert_eq!(f.x(5), 0xffff_ffff_8485_8687);
}

#[test]
fn prefetches_have_no_effect() {
    // prfm (unsigned offset and register) to an address with nothing behind it.
    let f = Snippet::of(&[enc::ldst_uimm(D, LOAD_SX, 0, 1, 0), enc::ldst_reg(D, LOAD_SX, 0, 1, 1, 1, 0)]).x(1, 8).ok();
    assert_eq!(f.x(0), 0);
}

#[test]
fn pairs_push_and_pop() {
    // stp x1, x2, [sp, #-16]!; ldp x3, x4, [sp], #16
    let f = Snippet::of(&[enc::ldstp_pre(2, 0, 1, 2, 31, -2), enc::ldstp_post(2, 1, 3, 4, 31, 2)])
        .x(31, DATA + 0x100)
        .x(1, 0x1111)
        .x(2, 0x2222)
        .ok();
    assert_eq!((f.x(3), f.x(4)), (0x1111, 0x2222));
    assert_eq!(f.sp(), DATA + 0x100);
    assert_eq!((f.mem(DATA + 0xf0, 8), f.mem(DATA + 0xf8, 8)), (0x1111, 0x2222));
}

#[test]
fn word_pairs_and_ldpsw() {
    let f = Snippet::of(&[
        enc::ldstp_off(0, 0, 1, 2, 5, 1), // stp w1, w2, [x5, #4]
        enc::ldstp_off(0, 1, 3, 4, 5, 1), // ldp w3, w4, [x5, #4]
        enc::ldstp_off(1, 1, 6, 7, 5, 1), // ldpsw x6, x7, [x5, #4]
        enc::ldstp_nt(2, 1, 8, 9, 5, 0),  // ldnp x8, x9, [x5]
    ])
    .x(5, DATA)
    .x(1, 0xaaaa_aaaa_8000_0000)
    .x(2, 0x7fff_ffff)
    .ok();
    assert_eq!(f.mem(DATA + 4, 8), 0x7fff_ffff_8000_0000);
    assert_eq!((f.x(3), f.x(4)), (0x8000_0000, 0x7fff_ffff));
    assert_eq!((f.x(6), f.x(7)), (0xffff_ffff_8000_0000, 0x7fff_ffff));
    assert_eq!((f.x(8), f.x(9)), (0x8000_0000_0000_0000, 0x7fff_ffff));
    assert_eq!(f.x(5), DATA, "signed-offset forms do not write back");
}

#[test]
fn faulting_load_leaves_base_and_destination_unwritten() {
    let f = Snippet::of(&[enc::ldst_pre(D, LOAD, 3, 1, 8)]).x(1, 0x1000).x(3, 0x33).run();
    assert_eq!(f.taken, Some((Fault::DataAbort { va: 0x1008, write: false, fsc: fsc::EXTERNAL }, CODE)));
    assert_eq!((f.x(1), f.x(3)), (0x1000, 0x33));
}

#[test]
fn faulting_pair_store_leaves_base_unwritten() {
    let f = Snippet::of(&[enc::ldstp_pre(2, 0, 1, 2, 31, -2)]).x(31, 0x1010).run();
    assert_eq!(f.taken, Some((Fault::DataAbort { va: 0x1000, write: true, fsc: fsc::EXTERNAL }, CODE)));
    assert_eq!(f.sp(), 0x1010);
}

#[test]
fn store_over_decoded_code_is_seen_when_it_runs_again() {
    // A subroutine at +16 runs once (so its block is decoded, and compiled on the JIT tier),
    // is overwritten with `movz x4, #7`, and runs again.
    let patch = enc::movz(4, 7, 0);
    let f = Snippet::of(&[
        enc::bl(16),                       // 0
        enc::ldst_uimm(S, STORE, 2, 1, 0), // 4: patch the subroutine
        enc::bl(8),                        // 8
        enc::b(12),                        // 12: to the end marker
        enc::movz(4, 1, 0),                // 16: the subroutine
        enc::ret(30),                      // 20
    ])
    .x(1, CODE + 16)
    .x(2, u64::from(patch))
    .ok();
    assert_eq!(f.x(4), 7);
}

// ---- branches -------------------------------------------------------------------------------------

#[test]
fn b_skips_and_bl_links() {
    let f = Snippet::of(&[enc::b(8), enc::movz(3, 1, 0), enc::bl(8), enc::movz(4, 1, 0)]).ok();
    assert_eq!((f.x(3), f.x(4)), (0, 0));
    assert_eq!(f.x(30), CODE + 12);
}

#[test]
fn backward_branch_loops() {
    // x1 = 5; loop: add x2, x2, #3; subs x1, x1, #1; b.ne loop
    let f = Snippet::of(&[enc::add_imm(X, 2, 2, 3, 0), enc::subs_imm(X, 1, 1, 1, 0), enc::b_cond(cond::NE, -8)])
        .x(1, 5)
        .ok();
    assert_eq!((f.x(1), f.x(2)), (0, 15));
}

#[test]
fn b_cond_taken_and_not_taken() {
    let s = |flags| Snippet::of(&[enc::b_cond(cond::GE, 8), enc::movz(3, 1, 0)]).nzcv(flags).ok().x(3);
    assert_eq!(s(0), 0);
    assert_eq!(s(nzcv::N), 1);
    assert_eq!(s(nzcv::N | nzcv::V), 0);
    let nv = Snippet::of(&[enc::b_cond(cond::NV, 8), enc::movz(3, 1, 0)]).ok();
    assert_eq!(nv.x(3), 0, "NV is always taken in A64");
}

#[test]
fn cbz_w_looks_at_32_bits_only() {
    let s = |insn, v| Snippet::of(&[insn, enc::movz(3, 1, 0)]).x(1, v).ok().x(3);
    assert_eq!(s(enc::cbz(W, 1, 8), 0xffff_ffff_0000_0000), 0);
    assert_eq!(s(enc::cbz(X, 1, 8), 0xffff_ffff_0000_0000), 1);
    assert_eq!(s(enc::cbnz(W, 1, 8), 0xffff_ffff_0000_0000), 1);
    assert_eq!(s(enc::cbnz(X, 1, 8), 1), 0);
}

#[test]
fn tbz_and_tbnz_test_bits_0_and_63() {
    let s = |insn, v| Snippet::of(&[insn, enc::movz(3, 1, 0)]).x(1, v).ok().x(3);
    assert_eq!(s(enc::tbz(1, 63, 8), 1 << 63), 1);
    assert_eq!(s(enc::tbnz(1, 63, 8), 1 << 63), 0);
    assert_eq!(s(enc::tbz(1, 0, 8), 2), 0);
    assert_eq!(s(enc::tbnz(1, 0, 8), 2), 1);
}

#[test]
fn register_branches() {
    let end = CODE + 12;
    let f = Snippet::of(&[enc::blr(1), enc::movz(3, 1, 0), enc::movz(4, 1, 0)]).x(1, end).ok();
    assert_eq!((f.x(3), f.x(4), f.x(30)), (0, 0, CODE + 4));
    let f = Snippet::of(&[enc::br(1), enc::movz(3, 1, 0), enc::movz(4, 1, 0)]).x(1, CODE + 8).ok();
    assert_eq!((f.x(3), f.x(4), f.x(30)), (0, 1, 0));
    let f = Snippet::of(&[enc::ret(30), enc::movz(3, 1, 0)]).x(30, CODE + 8).ok();
    assert_eq!(f.x(3), 0);
}

#[test]
fn blr_x30_jumps_to_the_old_link_value() {
    let f = Snippet::of(&[enc::blr(30), enc::movz(3, 1, 0)]).x(30, CODE + 8).ok();
    assert_eq!((f.x(3), f.x(30)), (0, CODE + 4));
}

#[test]
fn branch_to_a_misaligned_address_raises_pc_alignment() {
    let f = Snippet::of(&[enc::br(1)]).x(1, CODE + 6).run();
    assert_eq!(f.taken, Some((Fault::PcAlignment { va: CODE + 6 }, CODE + 6)));
}

#[test]
fn branch_to_nothing_raises_instruction_abort() {
    let f = Snippet::of(&[enc::br(1)]).x(1, 0x1000).run();
    assert_eq!(f.taken, Some((Fault::InsnAbort { va: 0x1000, fsc: fsc::EXTERNAL }, 0x1000)));
}

// ---- exclusives, acquire/release, barriers ---------------------------------------------------------

#[test]
fn exclusive_pair_of_load_and_store_succeeds() {
    // ldaxr x3, [x1]; add x3, x3, #1; stlxr w4, x3, [x1]
    let f = Snippet::of(&[enc::ldxr(D, 3, 1, 1), enc::add_imm(X, 3, 3, 1, 0), enc::stxr(D, 4, 3, 1, 1)])
        .x(1, DATA)
        .x(4, 0xffff)
        .mem64(DATA, 41)
        .ok();
    assert_eq!(f.x(4), 0, "status: stored");
    assert_eq!(f.mem(DATA, 8), 42);
}

#[test]
fn store_exclusive_without_a_load_fails_and_stores_nothing() {
    let f = Snippet::of(&[enc::stxr(S, 4, 3, 1, 0)]).x(1, DATA).x(3, 7).ok();
    assert_eq!(f.x(4), 1);
    assert_eq!(f.mem(DATA, 8), 0);
}

#[test]
fn clrex_and_a_changed_value_make_store_exclusive_fail() {
    let f = Snippet::of(&[
        enc::ldxr(S, 3, 1, 0),
        enc::clrex(),
        enc::stxr(S, 4, 2, 1, 0),
        enc::ldxr(S, 3, 1, 0),
        enc::ldst_uimm(S, STORE, 5, 1, 0), // an ordinary store changes the value
        enc::stxr(S, 6, 2, 1, 0),
        enc::ldxr(B, 7, 1, 0),
        enc::stxr(S, 8, 2, 1, 0), // a different size than the monitor holds
        enc::stxr(S, 9, 2, 1, 0), // the failed attempt disarmed the monitor
    ])
    .x(1, DATA)
    .x(2, 0x2222)
    .x(5, 0x5555)
    .ok();
    assert_eq!((f.x(4), f.x(6), f.x(8), f.x(9)), (1, 1, 1, 1));
    assert_eq!(f.mem(DATA, 4), 0x5555);
}

#[test]
fn exclusive_pairs_of_w_and_x_registers() {
    let f = Snippet::of(&[
        enc::ldxp(0, 3, 4, 1, 0),    // ldxp w3, w4, [x1]
        enc::stxp(0, 5, 4, 3, 1, 0), // stxp w5, w4, w3, [x1]: swapped halves
        enc::ldxp(1, 6, 7, 2, 1),    // ldaxp x6, x7, [x2]
        enc::stxp(1, 8, 7, 6, 2, 1), // stlxp w8, x7, x6, [x2]
    ])
    .x(1, DATA)
    .x(2, DATA + 16)
    .mem64(DATA, 0x2222_2222_1111_1111)
    .mem64(DATA + 16, 0xaaaa)
    .mem64(DATA + 24, 0xbbbb)
    .ok();
    assert_eq!((f.x(3), f.x(4), f.x(5)), (0x1111_1111, 0x2222_2222, 0));
    assert_eq!(f.mem(DATA, 8), 0x1111_1111_2222_2222);
    assert_eq!((f.x(6), f.x(7), f.x(8)), (0xaaaa, 0xbbbb, 0));
    assert_eq!((f.mem(DATA + 16, 8), f.mem(DATA + 24, 8)), (0xbbbb, 0xaaaa));
}

#[test]
fn misaligned_exclusive_raises_an_alignment_fault() {
    let f = Snippet::of(&[enc::ldxr(D, 3, 1, 0)]).x(1, DATA + 4).run();
    assert_eq!(f.taken, Some((Fault::Alignment { va: DATA + 4, write: false }, CODE)));
    let f = Snippet::of(&[enc::ldxp(1, 3, 4, 1, 0)]).x(1, DATA + 8).run();
    assert_eq!(f.taken, Some((Fault::Alignment { va: DATA + 8, write: false }, CODE)));
}

#[test]
fn acquire_release_and_barriers() {
    let f = Snippet::of(&[
        enc::stlr(H, 2, 1),
        enc::dmb(0xb),
        enc::ldar(B, 3, 1),
        enc::dsb(0xf),
        enc::isb(),
        enc::ldar(D, 4, 1),
    ])
    .x(1, DATA)
    .x(2, 0x1_8081)
    .mem64(DATA, u64::MAX)
    .ok();
    assert_eq!(f.x(3), 0x81);
    assert_eq!(f.x(4), 0xffff_ffff_ffff_8081);
}
