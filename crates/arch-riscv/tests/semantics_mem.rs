//! Semantics snippets: loads and stores (widths, extension, byte order, misaligned accesses),
//! the A extension (LR/SC, every AMO), the C extension (every compressed pattern against its
//! base instruction), self-modifying code and instructions straddling a page boundary (also
//! under Sv39), run on every execution tier (see `common`).

mod common;

use common::*;
use mimic_arch_riscv::decode::{enc, enc16};

const NEG1: u64 = u64::MAX;

// ---- loads: width, sign and zero extension ---------------------------------------------------

/// Load with `insn` (built as `op(3, 1, 0)`) from DATA holding `bytes`.
fn load(insn: u32, bytes: &[u8]) -> u64 {
    Snippet::of(&[insn]).x(1, DATA).mem(DATA, bytes).ok().x(3)
}

#[test]
fn lb_sign_extends_byte() {
    assert_eq!(load(enc::lb(3, 1, 0), &[0x80]), 0xffff_ffff_ffff_ff80);
    assert_eq!(load(enc::lb(3, 1, 0), &[0x7f]), 0x7f);
}

#[test]
fn lbu_zero_extends_byte() {
    assert_eq!(load(enc::lbu(3, 1, 0), &[0x80]), 0x80);
}

#[test]
fn lh_sign_extends_halfword() {
    assert_eq!(load(enc::lh(3, 1, 0), &[0x00, 0x80]), 0xffff_ffff_ffff_8000);
}

#[test]
fn lhu_zero_extends_halfword() {
    assert_eq!(load(enc::lhu(3, 1, 0), &[0x01, 0x80]), 0x8001);
}

#[test]
fn lw_sign_extends_word() {
    assert_eq!(load(enc::lw(3, 1, 0), &[0, 0, 0, 0x80]), 0xffff_ffff_8000_0000);
}

#[test]
fn lwu_zero_extends_word() {
    assert_eq!(load(enc::lwu(3, 1, 0), &[0, 0, 0, 0x80]), 0x8000_0000);
}

#[test]
fn ld_reads_little_endian() {
    let bytes = [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11];
    assert_eq!(load(enc::ld(3, 1, 0), &bytes), 0x1122_3344_5566_7788);
    assert_eq!(load(enc::lh(3, 1, 0), &bytes), 0x7788);
    assert_eq!(load(enc::lbu(3, 1, 0), &bytes), 0x88);
}

#[test]
fn load_negative_offset_below_base() {
    let f = Snippet::of(&[enc::lw(3, 1, -4)]).x(1, DATA + 8).mem32(DATA + 4, 0x1234_5678).ok();
    assert_eq!(f.x(3), 0x1234_5678);
}

// ---- stores: width and byte order ------------------------------------------------------------

/// Store x2 with `insn` (built as `op(1, 2, 0)`) into DATA pre-filled with 0xff.
fn store(insn: u32, v: u64) -> Final {
    Snippet::of(&[insn]).x(1, DATA).x(2, v).mem(DATA, &[0xff; 16]).ok()
}

#[test]
fn sd_writes_little_endian() {
    let f = store(enc::sd(1, 2, 0), 0x1122_3344_5566_7788);
    assert_eq!(&f.data[..9], &[0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xff]);
}

#[test]
fn sb_writes_only_one_byte() {
    let f = store(enc::sb(1, 2, 0), 0x1122_3344_5566_7788);
    assert_eq!(&f.data[..2], &[0x88, 0xff]);
}

#[test]
fn sh_writes_only_two_bytes() {
    let f = store(enc::sh(1, 2, 0), 0x1122_3344_5566_7788);
    assert_eq!(&f.data[..3], &[0x88, 0x77, 0xff]);
}

#[test]
fn sw_writes_only_four_bytes() {
    let f = store(enc::sw(1, 2, 0), 0x1122_3344_5566_7788);
    assert_eq!(&f.data[..5], &[0x88, 0x77, 0x66, 0x55, 0xff]);
}

#[test]
fn store_then_load_round_trips_through_memory() {
    let f = Snippet::of(&[enc::sd(1, 2, 16), enc::ld(3, 1, 16), enc::lw(4, 1, 20)])
        .x(1, DATA)
        .x(2, 0x8000_0000_7fff_ffff)
        .ok();
    assert_eq!(f.x(3), 0x8000_0000_7fff_ffff);
    assert_eq!(f.x(4), 0xffff_ffff_8000_0000);
}

/// x3 = ((x4 + x5) ^ x6) << 3, stored with `sd` at 0(x1): three instructions compute the stored
/// value in the store's own block, so a compiling tier stores it from the block's main path
/// (through the context's scratch words when the TLB misses, then the slow path).
fn computed_store_code() -> [u32; 4] {
    [enc::add(3, 4, 5), enc::xor(3, 3, 6), enc::slli(3, 3, 3), enc::sd(1, 3, 0)]
}
const COMPUTED: u64 = ((0x1111_0000_0000_0007u64 + 0x0202) ^ 0xff) << 3;

fn computed_store(first: &[u32], at: u64) -> Snippet {
    let code: Vec<u32> = first.iter().copied().chain(computed_store_code()).collect();
    Snippet::of(&code).x(1, at).x(4, 0x1111_0000_0000_0007).x(5, 0x0202).x(6, 0xff).mem(DATA, &[0xaa; 32])
}

#[test]
fn a_value_computed_in_its_block_is_stored_on_a_page_the_tlb_does_not_hold() {
    let f = computed_store(&[], DATA + 8).ok();
    assert_eq!(f.mem64(DATA + 8), COMPUTED);
    assert_eq!(f.x(3), COMPUTED);
    assert_eq!((f.mem64(DATA), f.mem64(DATA + 16)), (0xaaaa_aaaa_aaaa_aaaa, 0xaaaa_aaaa_aaaa_aaaa));
}

#[test]
fn a_value_computed_in_its_block_is_stored_on_a_page_the_tlb_holds() {
    // The first store puts the page in the TLB for stores.
    let f = computed_store(&[enc::sd(1, 0, 8)], DATA + 8).ok();
    assert_eq!(f.mem64(DATA + 8), COMPUTED);
    assert_eq!(f.x(3), COMPUTED);
    assert_eq!((f.mem64(DATA), f.mem64(DATA + 16)), (0xaaaa_aaaa_aaaa_aaaa, 0));
}

#[test]
fn a_faulting_store_of_a_value_computed_in_its_block_traps_after_computing_it() {
    let f = computed_store(&[], 0x1000_0000).run();
    assert_eq!(f.trapped(), Trap { cause: cause::STORE_ACCESS, epc: CODE + 12, tval: 0x1000_0000 });
    assert_eq!(f.x(3), COMPUTED);
    assert!(f.data[..32].iter().all(|&b| b == 0xaa), "nothing stored: {:x?}", &f.data[..32]);
}

// ---- misaligned accesses are performed (as QEMU does), not trapped ---------------------------

#[test]
fn misaligned_lw_performed() {
    let f = Snippet::of(&[enc::lw(3, 1, 1)]).x(1, DATA).mem(DATA, &[0, 0x11, 0x22, 0x33, 0x84]).ok();
    assert_eq!(f.x(3), 0xffff_ffff_8433_2211);
}

#[test]
fn misaligned_ld_and_lhu_performed() {
    let bytes: Vec<u8> = (1..=16).collect();
    let f = Snippet::of(&[enc::ld(3, 1, 3), enc::lhu(4, 1, 7)]).x(1, DATA).mem(DATA, &bytes).ok();
    assert_eq!(f.x(3), 0x0b0a_0908_0706_0504);
    assert_eq!(f.x(4), 0x0908);
}

#[test]
fn misaligned_sw_sd_performed() {
    let f = Snippet::of(&[enc::sw(1, 2, 1), enc::sd(1, 2, 9)]).x(1, DATA).x(2, 0x1122_3344_5566_7788).ok();
    assert_eq!(f.mem(DATA, 8), 0x0000_0055_6677_8800);
    assert_eq!(f.mem(DATA + 9, 8), 0x1122_3344_5566_7788);
    assert_eq!(f.data[8], 0);
    assert_eq!(f.data[17], 0);
}

#[test]
fn misaligned_ld_across_page_boundary_performed() {
    let f = Snippet::of(&[enc::ld(3, 1, -4)]).x(1, DATA).mem(DATA - 4, &[1, 2, 3, 4, 5, 6, 7, 8]).ok();
    assert_eq!(f.x(3), 0x0807_0605_0403_0201);
}

#[test]
fn misaligned_sd_across_page_boundary_performed() {
    let f = Snippet::of(&[enc::sd(1, 2, -2), enc::ld(3, 1, -2)]).x(1, DATA).x(2, 0x1122_3344_5566_7788).ok();
    assert_eq!(f.mem(DATA, 6), 0x1122_3344_5566);
    assert_eq!(f.x(3), 0x1122_3344_5566_7788);
}

#[test]
fn load_from_unmapped_address_access_fault() {
    let t = Snippet::of(&[enc::lw(3, 1, 4)]).x(1, 0x1000_0000).trap();
    assert_eq!(t, Trap { cause: 5, epc: CODE, tval: 0x1000_0004 });
}

#[test]
fn load_into_x0_still_faults() {
    let t = Snippet::of(&[enc::ld(0, 1, 0)]).x(1, 0x1000_0000).trap();
    assert_eq!(t, Trap { cause: 5, epc: CODE, tval: 0x1000_0000 });
}

#[test]
fn store_to_unmapped_address_access_fault() {
    let t = Snippet::of(&[enc::sd(1, 2, 0)]).x(1, 0x1000_0000).trap();
    assert_eq!(t, Trap { cause: 7, epc: CODE, tval: 0x1000_0000 });
}

// ---- A: LR/SC --------------------------------------------------------------------------------

#[test]
fn lr_w_sc_w_pair_succeeds() {
    let f = Snippet::of(&[enc::lr_w(3, 1, 0, 0), enc::sc_w(4, 1, 2, 0, 0)])
        .x(1, DATA)
        .x(2, 0x1234_5678)
        .mem32(DATA, 0x8000_0001)
        .ok();
    assert_eq!(f.x(3), 0xffff_ffff_8000_0001);
    assert_eq!(f.x(4), 0);
    assert_eq!(f.mem32(DATA), 0x1234_5678);
}

#[test]
fn lr_d_sc_d_pair_succeeds() {
    let f = Snippet::of(&[enc::lr_d(3, 1, 1, 0), enc::sc_d(4, 1, 2, 0, 1)])
        .x(1, DATA + 8)
        .x(2, NEG1)
        .mem64(DATA + 8, 0x8000_0000_0000_0001)
        .ok();
    assert_eq!(f.x(3), 0x8000_0000_0000_0001);
    assert_eq!(f.x(4), 0);
    assert_eq!(f.mem64(DATA + 8), NEG1);
}

#[test]
fn sc_w_without_reservation_fails_and_does_not_store() {
    let f = Snippet::of(&[enc::sc_w(4, 1, 2, 0, 0)]).x(1, DATA).x(2, 0x1234_5678).mem32(DATA, 0xaaaa_aaaa).ok();
    assert_eq!(f.x(4), 1);
    assert_eq!(f.mem32(DATA), 0xaaaa_aaaa);
}

#[test]
fn second_sc_after_successful_sc_fails() {
    let f = Snippet::of(&[enc::lr_d(3, 1, 0, 0), enc::sc_d(4, 1, 2, 0, 0), enc::sc_d(5, 1, 6, 0, 0)])
        .x(1, DATA)
        .x(2, 7)
        .x(6, 9)
        .ok();
    assert_eq!((f.x(4), f.x(5)), (0, 1));
    assert_eq!(f.mem64(DATA), 7);
}

#[test]
fn sc_d_to_other_address_than_lr_fails() {
    let f = Snippet::of(&[enc::lr_d(3, 1, 0, 0), enc::sc_d(4, 5, 2, 0, 0)]).x(1, DATA).x(5, DATA + 64).x(2, 7).ok();
    assert_eq!(f.x(4), 1);
    assert_eq!(f.mem64(DATA + 64), 0);
}

/// lr.d (x1); [x5 warm-up store]; sd x2, 0(x5); sc.d x4 -> x4.
fn sc_after_store_elsewhere(warm_tlb: bool) -> u64 {
    let store = enc::sd(5, 2, 0);
    let mut s = Snippet::new();
    if warm_tlb {
        s = s.i(store);
    }
    s.i(enc::lr_d(3, 1, 0, 0)).i(store).i(enc::sc_d(4, 1, 2, 0, 0)).x(1, DATA).x(5, DATA + 0x2000).x(2, 9).ok().x(4)
}

#[test]
fn sc_after_store_to_other_page_independent_of_tlb_state() {
    // Either outcome is allowed by the ISA; which one must not depend on whether the other
    // page happened to be in the TLB (tiers fill TLBs differently).
    assert_eq!(sc_after_store_elsewhere(false), sc_after_store_elsewhere(true));
}

#[test]
fn lr_w_misaligned_traps_load_misaligned() {
    let t = Snippet::of(&[enc::lr_w(3, 1, 0, 0)]).x(1, DATA + 2).trap();
    assert_eq!(t, Trap { cause: cause::LOAD_MISALIGNED, epc: CODE, tval: DATA + 2 });
}

#[test]
fn sc_d_misaligned_traps_store_misaligned() {
    let t = Snippet::of(&[enc::sc_d(3, 1, 2, 0, 0)]).x(1, DATA + 4).trap();
    assert_eq!(t, Trap { cause: cause::STORE_MISALIGNED, epc: CODE, tval: DATA + 4 });
}

// ---- A: AMOs ---------------------------------------------------------------------------------

type Amo = fn(u32, u32, u32, u32, u32) -> u32;

/// `amo x3, x2, (x1)` with x1 = DATA, memory word/doubleword `old`, x2 = `src`.
/// Returns (x3, memory at DATA as 8 bytes).
fn amo(op: Amo, old: u64, src: u64) -> (u64, u64) {
    let f = Snippet::of(&[op(3, 1, 2, 0, 0)]).x(1, DATA).x(2, src).mem64(DATA, old).ok();
    (f.x(3), f.mem64(DATA))
}

/// The upper word at DATA + 4 is this guard; a .w AMO must leave it alone.
const GUARD: u64 = 0x5a5a_5a5a_0000_0000;

#[test]
fn amoswap_w_returns_sign_extended_old_and_stores_word() {
    assert_eq!(
        amo(enc::amoswap_w, GUARD | 0x8000_0000, 0xffff_ffff_1234_5678),
        (0xffff_ffff_8000_0000, GUARD | 0x1234_5678)
    );
}

#[test]
fn amoadd_w_wraps_within_word() {
    assert_eq!(amo(enc::amoadd_w, GUARD | 0xffff_ffff, 2), (NEG1, GUARD | 1));
}

#[test]
fn amoxor_and_or_w_bitwise() {
    assert_eq!(amo(enc::amoxor_w, GUARD | 0xff00_ff00, 0x0ff0), (0xffff_ffff_ff00_ff00, GUARD | 0xff00_f0f0));
    assert_eq!(amo(enc::amoand_w, GUARD | 0xff00_ff00, 0x0ff0), (0xffff_ffff_ff00_ff00, GUARD | 0x0f00));
    assert_eq!(amo(enc::amoor_w, GUARD | 0x0000_ff00, 0x8000_0000), (0xff00, GUARD | 0x8000_ff00));
}

#[test]
fn amomin_w_signed_vs_amominu_w_unsigned() {
    // memory -1, source 1
    assert_eq!(amo(enc::amomin_w, GUARD | 0xffff_ffff, 1), (NEG1, GUARD | 0xffff_ffff));
    assert_eq!(amo(enc::amominu_w, GUARD | 0xffff_ffff, 1), (NEG1, GUARD | 1));
}

#[test]
fn amomax_w_signed_vs_amomaxu_w_unsigned() {
    assert_eq!(amo(enc::amomax_w, GUARD | 0xffff_ffff, 1), (NEG1, GUARD | 1));
    assert_eq!(amo(enc::amomaxu_w, GUARD | 0xffff_ffff, 1), (NEG1, GUARD | 0xffff_ffff));
}

#[test]
fn amo_w_ignores_upper_source_bits() {
    // Source 0x1_0000_0002 is the word 2.
    assert_eq!(amo(enc::amomaxu_w, GUARD | 3, 0x1_0000_0002), (3, GUARD | 3));
    assert_eq!(amo(enc::amomin_w, GUARD | 3, 0x1_0000_0002), (3, GUARD | 2));
    assert_eq!(amo(enc::amomax_w, GUARD | 3, 0xffff_ffff), (3, GUARD | 3));
}

#[test]
fn amo_d_arithmetic_on_doublewords() {
    let m = 0x8000_0000_0000_0000u64;
    assert_eq!(amo(enc::amoswap_d, m, 5), (m, 5));
    assert_eq!(amo(enc::amoadd_d, NEG1, 2), (NEG1, 1));
    assert_eq!(amo(enc::amoxor_d, m, NEG1), (m, !m));
    assert_eq!(amo(enc::amoand_d, m | 1, m), (m | 1, m));
    assert_eq!(amo(enc::amoor_d, m, 1), (m, m | 1));
}

#[test]
fn amomin_max_d_signed_vs_unsigned() {
    let m = 0x8000_0000_0000_0000u64;
    assert_eq!(amo(enc::amomin_d, m, 1).1, m);
    assert_eq!(amo(enc::amominu_d, m, 1).1, 1);
    assert_eq!(amo(enc::amomax_d, m, 1).1, 1);
    assert_eq!(amo(enc::amomaxu_d, m, 1).1, m);
}

#[test]
fn amo_rd_equal_rs2_gets_old_value() {
    let f = Snippet::of(&[enc::amoadd_d(2, 1, 2, 0, 0)]).x(1, DATA).x(2, 10).mem64(DATA, 32).ok();
    assert_eq!(f.x(2), 32);
    assert_eq!(f.mem64(DATA), 42);
}

#[test]
fn amo_rd_x0_discards_old_but_stores() {
    let f = Snippet::of(&[enc::amoswap_d(0, 1, 2, 0, 0)]).x(1, DATA).x(2, 10).mem64(DATA, 32).ok();
    assert_eq!(f.x(0), 0);
    assert_eq!(f.mem64(DATA), 10);
}

#[test]
fn amoadd_w_misaligned_traps_store_misaligned_with_address() {
    let f = Snippet::of(&[enc::amoadd_w(3, 1, 2, 0, 0)]).x(1, DATA + 2).x(2, 1).x(3, 77).run();
    assert_eq!(f.trapped(), Trap { cause: cause::STORE_MISALIGNED, epc: CODE, tval: DATA + 2 });
    assert_eq!(f.x(3), 77);
    assert_eq!(f.mem64(DATA), 0);
}

#[test]
fn amoswap_d_misaligned_to_4_traps_store_misaligned() {
    let t = Snippet::of(&[enc::amoswap_d(3, 1, 2, 0, 0)]).x(1, DATA + 4).trap();
    assert_eq!(t, Trap { cause: cause::STORE_MISALIGNED, epc: CODE, tval: DATA + 4 });
}

/// Every AMO, the .W forms first.
const AMOS: [Amo; 18] = [
    enc::amoswap_w,
    enc::amoadd_w,
    enc::amoxor_w,
    enc::amoand_w,
    enc::amoor_w,
    enc::amomin_w,
    enc::amomax_w,
    enc::amominu_w,
    enc::amomaxu_w,
    enc::amoswap_d,
    enc::amoadd_d,
    enc::amoxor_d,
    enc::amoand_d,
    enc::amoor_d,
    enc::amomin_d,
    enc::amomax_d,
    enc::amominu_d,
    enc::amomaxu_d,
];

#[test]
fn every_amo_misaligned_traps_cause_6() {
    for (i, op) in AMOS.iter().enumerate() {
        let t = Snippet::of(&[op(3, 1, 2, 0, 0)]).x(1, DATA + 1).trap();
        assert_eq!((t.cause, t.tval), (cause::STORE_MISALIGNED, DATA + 1), "amo #{i}");
    }
}

/// As [`amo`], after a load and a store of the doubleword at DATA have put its page in the
/// TLB for both: a compiling tier then does the AMO inline, which every tier must agree on.
fn amo_in_tlb(op: Amo, old: u64, src: u64) -> (u64, u64) {
    let code = [enc::ld(5, 1, 0), enc::sd(1, 5, 0), op(3, 1, 2, 0, 0)];
    let f = Snippet::of(&code).x(1, DATA).x(2, src).mem64(DATA, old).ok();
    (f.x(3), f.mem64(DATA))
}

#[test]
fn every_amo_on_a_page_in_the_tlb_gives_what_it_gives_on_one_that_is_not() {
    let cases = [
        (GUARD | 0x8000_0000, 0xffff_ffff_1234_5678),
        (GUARD | 0x7fff_ffff, 0x8000_0000),
        (0x8000_0000_0000_0001, 0x7fff_ffff_ffff_ffff),
        (0xffff_ffff_ffff_fffe, 3),
    ];
    for (i, op) in AMOS.iter().enumerate() {
        for &(old, src) in &cases {
            assert_eq!(amo_in_tlb(*op, old, src), amo(*op, old, src), "amo #{i}, old {old:#x}, src {src:#x}");
        }
    }
}

#[test]
fn a_misaligned_amo_on_a_page_in_the_tlb_still_traps() {
    let code = [enc::ld(5, 1, 0), enc::sd(1, 5, 0), enc::amoadd_w(3, 6, 2, 0, 0)];
    let t = Snippet::of(&code).x(1, DATA).x(6, DATA + 2).trap();
    assert_eq!(t, Trap { cause: cause::STORE_MISALIGNED, epc: CODE + 8, tval: DATA + 2 });
}

// ---- C: every compressed pattern equals its base instruction ---------------------------------

/// A rich starting state: pointers in x2 (sp) and x8..x9, assorted values elsewhere, a byte
/// pattern in DATA and doubles in f8..f15.
fn rich(s: Snippet) -> Snippet {
    let pattern: Vec<u8> = (0..512u32).map(|i| (i * 37 + 11) as u8).collect();
    let mut s = s
        .x(1, 0x1111_2222_3333_4444)
        .x(2, DATA + 0x100)
        .x(8, DATA + 0x40)
        .x(9, 0xffff_ffff_8000_0001)
        .x(10, 0x7fff_ffff)
        .x(11, 0x1234_5678_9abc_def0)
        .x(12, NEG1)
        .x(13, 5)
        .x(14, 0x8000_0000_0000_0000)
        .x(15, 3)
        .x(20, 0xdead_beef)
        .x(31, 0x8000_0000)
        .mem(DATA, &pattern);
    for r in 8..16 {
        s = s.fd(r, r as f64 * -1.25);
    }
    s
}

/// The parts of a final state that do not depend on instruction length.
#[derive(Debug, PartialEq, Eq)]
struct Observable {
    x: [u64; 32],
    f: [u64; 32],
    fflags: u64,
    mstatus: u64,
    trap: Option<(u64, u64)>,
    data: Vec<u8>,
}

fn observable(f: &Final) -> Observable {
    Observable {
        x: f.x,
        f: f.f,
        fflags: f.fflags,
        mstatus: f.mstatus,
        trap: f.trap.map(|t| (t.cause, t.tval)),
        data: f.data.clone(),
    }
}

/// Run the compressed and the base form from the same rich state; both must end alike and
/// neither may trap. Returns the compressed run.
#[track_caller]
fn same_as_base(c: &[u16], base: &[u32]) -> Final {
    let fc = rich(Snippet::of16(c)).ok();
    let fb = rich(Snippet::of(base)).ok();
    assert_eq!(observable(&fc), observable(&fb), "compressed {c:04x?} vs base {base:08x?}");
    fc
}

#[test]
fn c_addi4spn_matches_addi_from_sp() {
    let f = same_as_base(&[enc16::c_addi4spn(9, 1020)], &[enc::addi(9, 2, 1020)]);
    assert_eq!(f.x(9), DATA + 0x100 + 1020);
    same_as_base(&[enc16::c_addi4spn(15, 4)], &[enc::addi(15, 2, 4)]);
}

#[test]
fn c_lw_c_ld_match_base_loads() {
    let f =
        same_as_base(&[enc16::c_lw(9, 8, 124), enc16::c_ld(10, 8, 248)], &[enc::lw(9, 8, 124), enc::ld(10, 8, 248)]);
    assert_ne!(f.x(9), 0xffff_ffff_8000_0001);
}

#[test]
fn c_sw_c_sd_match_base_stores() {
    let f = same_as_base(&[enc16::c_sw(8, 9, 4), enc16::c_sd(8, 11, 248)], &[enc::sw(8, 9, 4), enc::sd(8, 11, 248)]);
    assert_eq!(f.mem32(DATA + 0x44), 0x8000_0001);
}

#[test]
fn c_fld_c_fsd_match_base() {
    let f = same_as_base(&[enc16::c_fld(9, 8, 8), enc16::c_fsd(8, 10, 16)], &[enc::fld(9, 8, 8), enc::fsd(8, 10, 16)]);
    assert_eq!(f.mem64(DATA + 0x50), (-12.5f64).to_bits());
}

#[test]
fn c_addi_matches_addi_incl_nop() {
    let f = same_as_base(
        &[enc16::c_addi(10, -32), enc16::c_addi(11, 31), enc16::c_addi(0, 0)],
        &[enc::addi(10, 10, -32), enc::addi(11, 11, 31), enc::addi(0, 0, 0)],
    );
    assert_eq!(f.x(10), 0x7fff_ffff - 32);
}

#[test]
fn c_addiw_matches_addiw() {
    let f = same_as_base(&[enc16::c_addiw(10, 1), enc16::c_addiw(9, 0)], &[enc::addiw(10, 10, 1), enc::addiw(9, 9, 0)]);
    assert_eq!(f.x(10), 0xffff_ffff_8000_0000);
}

#[test]
fn c_li_matches_addi_from_x0() {
    let f = same_as_base(&[enc16::c_li(20, -32), enc16::c_li(21, 31)], &[enc::addi(20, 0, -32), enc::addi(21, 0, 31)]);
    assert_eq!(f.x(20), (-32i64) as u64);
}

#[test]
fn c_addi16sp_matches_addi_sp() {
    let f = same_as_base(
        &[enc16::c_addi16sp(-512), enc16::c_addi16sp(496)],
        &[enc::addi(2, 2, -512), enc::addi(2, 2, 496)],
    );
    assert_eq!(f.x(2), DATA + 0x100 - 16);
}

#[test]
fn c_lui_matches_lui_with_negative_immediate() {
    let f = same_as_base(
        &[enc16::c_lui(20, -4096), enc16::c_lui(21, 0x1f000)],
        &[enc::lui(20, -4096), enc::lui(21, 0x1f000)],
    );
    assert_eq!(f.x(20), 0xffff_ffff_ffff_f000);
}

#[test]
fn c_srli_c_srai_match_base_shifts() {
    let f = same_as_base(
        &[enc16::c_srli(9, 63), enc16::c_srai(14, 63), enc16::c_srai(11, 1)],
        &[enc::srli(9, 9, 63), enc::srai(14, 14, 63), enc::srai(11, 11, 1)],
    );
    assert_eq!(f.x(14), NEG1);
}

#[test]
fn c_andi_matches_andi() {
    let f =
        same_as_base(&[enc16::c_andi(11, -16), enc16::c_andi(12, 5)], &[enc::andi(11, 11, -16), enc::andi(12, 12, 5)]);
    assert_eq!(f.x(12), 5);
}

#[test]
fn c_register_ops_match_base() {
    let c = [
        enc16::c_sub(9, 10),
        enc16::c_xor(11, 12),
        enc16::c_or(13, 14),
        enc16::c_and(15, 11),
        enc16::c_subw(10, 13),
        enc16::c_addw(12, 15),
    ];
    let base = [
        enc::sub(9, 9, 10),
        enc::xor(11, 11, 12),
        enc::or(13, 13, 14),
        enc::and(15, 15, 11),
        enc::subw(10, 10, 13),
        enc::addw(12, 12, 15),
    ];
    let f = same_as_base(&c, &base);
    assert_eq!(f.x(12), 2);
}

#[test]
fn c_slli_matches_slli() {
    let f = same_as_base(&[enc16::c_slli(20, 63), enc16::c_slli(1, 1)], &[enc::slli(20, 20, 63), enc::slli(1, 1, 1)]);
    assert_eq!(f.x(20), 0x8000_0000_0000_0000);
}

#[test]
fn c_mv_c_add_match_add() {
    let f = same_as_base(&[enc16::c_mv(20, 11), enc16::c_add(20, 12)], &[enc::add(20, 0, 11), enc::add(20, 20, 12)]);
    assert_eq!(f.x(20), 0x1234_5678_9abc_deef);
}

#[test]
fn c_sp_loads_match_base() {
    let f = same_as_base(
        &[enc16::c_lwsp(20, 252), enc16::c_ldsp(21, 504), enc16::c_fldsp(1, 8)],
        &[enc::lw(20, 2, 252), enc::ld(21, 2, 504), enc::fld(1, 2, 8)],
    );
    assert_ne!(f.x(20), 0xdead_beef);
}

#[test]
fn c_sp_stores_match_base() {
    let f = same_as_base(
        &[enc16::c_swsp(20, 252), enc16::c_sdsp(11, 504), enc16::c_fsdsp(8, 8)],
        &[enc::sw(2, 20, 252), enc::sd(2, 11, 504), enc::fsd(2, 8, 8)],
    );
    assert_eq!(f.mem32(DATA + 0x100 + 252), 0xdead_beef);
}

#[test]
fn c_j_matches_jal_x0() {
    // c.j +6 skips the 4-byte addi; j +8 skips it in the base form.
    let f = same_as_base(&[enc16::c_j(6), 0x0513, 0x0010], &[enc::jal(0, 8), enc::addi(10, 0, 1)]);
    assert_eq!(f.x(10), 0x7fff_ffff);
}

#[test]
fn c_beqz_c_bnez_match_beq_bne() {
    // x13 = 5: beqz not taken, bnez taken past `c.li x20, 1`.
    let c = [enc16::c_beqz(13, 4), enc16::c_li(21, 7), enc16::c_bnez(13, 4), enc16::c_li(20, 1)];
    let base = [enc::beq(13, 0, 8), enc::addi(21, 0, 7), enc::bne(13, 0, 8), enc::addi(20, 0, 1)];
    let f = same_as_base(&c, &base);
    assert_eq!((f.x(20), f.x(21)), (0xdead_beef, 7));
}

#[test]
fn c_jr_matches_jalr_x0() {
    // x20 points past the `c.li x21, 1` / `addi x21, x0, 1` in each form.
    let fc = rich(Snippet::of16(&[enc16::c_jr(20), enc16::c_li(21, 1)])).x(20, CODE + 4).ok();
    let fb = rich(Snippet::of(&[enc::jalr(0, 20, 0), enc::addi(21, 0, 1)])).x(20, CODE + 8).ok();
    assert_eq!((fc.x(21), fb.x(21)), (0, 0));
    assert_eq!(fc.x(1), fb.x(1));
}

#[test]
fn c_jalr_links_pc_plus_2() {
    let f = rich(Snippet::of16(&[enc16::c_jalr(20), enc16::c_li(21, 1)])).x(20, CODE + 4).ok();
    assert_eq!(f.x(1), CODE + 2);
    assert_eq!(f.x(21), 0);
}

#[test]
fn c_jalr_ra_jumps_to_old_ra() {
    let f = rich(Snippet::of16(&[enc16::c_jalr(1), enc16::c_li(21, 1)])).x(1, CODE + 4).ok();
    assert_eq!(f.x(1), CODE + 2);
    assert_eq!(f.x(21), 0);
}

#[test]
fn mixed_16_and_32_bit_instructions_run_in_sequence() {
    let f =
        Snippet::new().c(enc16::c_li(10, 3)).i(enc::addi(10, 10, 4)).c(enc16::c_slli(10, 2)).i(enc::auipc(11, 0)).ok();
    assert_eq!(f.x(10), 28);
    assert_eq!(f.x(11), CODE + 8);
}

// ---- self-modifying code ---------------------------------------------------------------------

#[test]
fn fence_i_after_code_store_runs_new_code() {
    // Two passes over the same block; the first patches `addi x5, x0, 1` into `addi x5, x0, 42`.
    let f = Snippet::of(&[
        enc::addi(7, 7, 1),
        enc::addi(5, 0, 1),
        enc::add(8, 8, 5),
        enc::sw(1, 2, 4),
        enc::fence_i(),
        enc::blt(7, 9, -20),
    ])
    .x(1, CODE)
    .x(2, enc::addi(5, 0, 42) as u64)
    .x(9, 2)
    .ok();
    assert_eq!(f.x(8), 43);
}

// ---- instructions straddling a page boundary -------------------------------------------------

/// Where the straddling code starts: its first 32-bit instruction covers both pages.
const STRADDLE: u64 = CODE + 0x1ffe;

fn code_bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[test]
fn insn_straddling_page_boundary_executes() {
    // j STRADDLE; there: addi x5, x0, 7 (split over two pages); jr x6 (back to the end marker).
    let f = Snippet::of(&[enc::jal(0, (STRADDLE - CODE) as i64)])
        .mem(STRADDLE, &code_bytes(&[enc::addi(5, 0, 7), enc::jalr(0, 6, 0)]))
        .x(6, CODE + 4)
        .ok();
    assert_eq!(f.x(5), 7);
}

#[test]
fn store_to_second_page_of_straddling_insn_takes_effect_after_fence_i() {
    // Two passes; the first rewrites the upper half of `addi x5, x0, 1`, which lies in the
    // second page, into that of `addi x5, x0, 42`.
    let new_hi = (enc::addi(5, 0, 42) >> 16) as u64;
    let body = code_bytes(&[
        enc::addi(5, 0, 1),
        enc::add(8, 8, 5),
        enc::addi(7, 7, 1),
        enc::sh(1, 2, 0),
        enc::fence_i(),
        enc::blt(7, 9, -20),
        enc::jalr(0, 6, 0),
    ]);
    let f = Snippet::of(&[enc::jal(0, (STRADDLE - CODE) as i64)])
        .mem(STRADDLE, &body)
        .x(1, STRADDLE + 2)
        .x(2, new_hi)
        .x(6, CODE + 4)
        .x(9, 2)
        .ok();
    assert_eq!(f.x(8), 43);
}

// ---- reserved compressed encodings -----------------------------------------------------------

#[test]
fn reserved_compressed_encodings_trap_illegal_with_16_bit_tval() {
    for (what, half) in [
        ("c.addi4spn x9, 0", 0x0004u16),
        ("c.addiw x0, 1", 0x2005),
        ("c.lui x1, 0", 0x6081),
        ("c.addi16sp 0", 0x6101),
        ("c.jr x0", 0x8002),
        ("c.ldsp x0", 0x6002),
    ] {
        let t = Snippet::new().c(half).trap();
        assert_eq!(t, Trap { cause: cause::ILLEGAL, epc: CODE, tval: half as u64 }, "{what}");
    }
}

// ---- a straddling instruction under paging ---------------------------------------------------

/// Sv39 tables: VA 0x8000_0000.. is an identity RWX gigapage (so the snippet keeps running in
/// S-mode), and VA 0x40_0000 / 0x40_1000 map to the 4 KiB pages PA1 / PA2.
mod sv39 {
    use super::*;
    pub const ROOT: u64 = RAM_BASE + 0x4_0000;
    pub const L1: u64 = ROOT + 0x1000;
    pub const L0: u64 = ROOT + 0x2000;
    pub const VA: u64 = 0x40_0000;
    pub const PA1: u64 = RAM_BASE + 0x2_0000;
    pub const PA2: u64 = PA1 + 0x1000;
    pub const PA3: u64 = PA1 + 0x2000;
    pub const SATP: u64 = 8 << 60 | ROOT >> 12;
    const V: u64 = 1;
    const RWX_AD: u64 = 0b1100_1110;
    const RX_AD: u64 = 0b1100_1010;
    const RW_AD: u64 = 0b1100_0110;
    pub fn pointer(pa: u64) -> u64 {
        (pa >> 12) << 10 | V
    }
    pub fn leaf(pa: u64, perm: u64) -> u64 {
        (pa >> 12) << 10 | perm | V
    }
    pub fn code_leaf(pa: u64) -> u64 {
        leaf(pa, RX_AD)
    }
    pub fn data_leaf(pa: u64) -> u64 {
        leaf(pa, RW_AD)
    }
    /// M-mode turns Sv39 on with [`tables`] and drops to S-mode at `body` (identity mapped);
    /// the body may use every register but x10-x12.
    pub fn in_s_mode(body: &[u32]) -> Snippet {
        let mut code = vec![enc::csrrw(0, 10, 0x180), enc::csrrw(0, 11, 0x341), enc::csrrs(0, 12, 0x300), enc::mret()];
        code.extend_from_slice(body);
        tables(Snippet::of(&code)).x(10, SATP).x(11, CODE + 16).x(12, 1 << 11)
    }
    pub fn tables(s: Snippet) -> Snippet {
        s.mem64(ROOT, pointer(L1))
            .mem64(ROOT + 2 * 8, leaf(RAM_BASE, RWX_AD))
            .mem64(L1 + 2 * 8, pointer(L0))
            .mem64(L0, code_leaf(PA1))
            .mem64(L0 + 8, code_leaf(PA2))
    }
}

#[test]
fn straddling_insn_refetched_after_second_page_remapped() {
    use sv39::*;
    // In S-mode: call the straddling `addi x5, x0, N` at VA + 0xffe twice, remapping its second
    // page from PA2 (N = 1) to PA3 (N = 42) in between; x8 sums the two results; ecall ends.
    let code = [
        enc::jalr(1, 13, 0),
        enc::add(8, 8, 5),
        enc::sd(15, 14, 0),
        enc::sfence_vma(0, 0),
        enc::jalr(1, 13, 0),
        enc::add(8, 8, 5),
        enc::ecall(),
    ];
    let (one, forty_two) = (enc::addi(5, 0, 1), enc::addi(5, 0, 42));
    let ret = enc::jalr(0, 1, 0).to_le_bytes();
    let tail = |w: u32| [&w.to_le_bytes()[2..], &ret[..]].concat();
    let f = in_s_mode(&code)
        .mem(PA1 + 0xffe, &one.to_le_bytes()[..2])
        .mem(PA2, &tail(one))
        .mem(PA3, &tail(forty_two))
        .x(13, VA + 0xffe)
        .x(14, code_leaf(PA3))
        .x(15, L0 + 8)
        .run();
    assert_eq!(f.trapped().cause, 9, "ends with ecall from S-mode");
    assert_eq!(f.x(8), 1 + 42);
}

#[test]
fn a_code_page_remapped_and_flushed_by_address_runs_its_new_code() {
    use sv39::*;
    // In S-mode: call the function at VA + 0x1000 (`addi x5, x0, 1; ret` in PA2) twice over,
    // remapping that page to PA3 (`addi x5, x0, 42; ret`) and flushing it by address (the form
    // a kernel uses for one page) before the last call; x8 sums the results. The jump cache and
    // the compiled calls must not keep reaching PA2's code.
    let code = [
        enc::jalr(1, 13, 0),
        enc::add(8, 8, 5),
        enc::jalr(1, 13, 0),
        enc::add(8, 8, 5),
        enc::sd(15, 14, 0),
        enc::sfence_vma(13, 0),
        enc::jalr(1, 13, 0),
        enc::add(8, 8, 5),
        enc::ecall(),
    ];
    let func =
        |n: i64| [enc::addi(5, 0, n), enc::jalr(0, 1, 0)].iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<_>>();
    let f = in_s_mode(&code)
        .mem(PA2, &func(1))
        .mem(PA3, &func(42))
        .x(13, VA + 0x1000)
        .x(14, code_leaf(PA3))
        .x(15, L0 + 8)
        .run();
    assert_eq!(f.trapped().cause, 9, "ends with ecall from S-mode");
    assert_eq!(f.x(8), 1 + 1 + 42);
}

#[test]
fn straddling_insn_with_unmapped_second_page_faults_at_second_page() {
    use sv39::*;
    // As above, but VA + 0x1000 is unmapped: an instruction page fault whose epc is the
    // instruction and whose tval is the start of the missing page.
    let code = [enc::addi(5, 0, 3), enc::jalr(1, 13, 0)];
    let f = in_s_mode(&code)
        .mem64(L0 + 8, 0)
        .mem(PA1 + 0xffe, &enc::addi(5, 0, 1).to_le_bytes()[..2])
        .x(13, VA + 0xffe)
        .run();
    assert_eq!(f.trapped(), Trap { cause: 12, epc: VA + 0xffe, tval: VA + 0x1000 });
    assert_eq!(f.x(5), 3);
}

#[test]
fn atomics_use_the_translation_the_tlb_holds_until_sfence_vma() {
    use sv39::*;
    // Without SFENCE.VMA a hart may use either the old or the new translation of a rewritten
    // PTE. Ours keep the one the TLB holds, for LR/SC and AMOs as for loads: a helper that
    // walked the tables on every atomic would see the new one (and cost a walk per atomic).
    // S-mode: a load fills the TLB with VA -> PA1; the leaf is rewritten to PA2; an AMO, an LR,
    // an SC and a load follow; after SFENCE.VMA a second AMO and a load reach PA2.
    let code = [
        enc::ld(5, 13, 0),
        enc::sd(15, 14, 0),
        enc::amoadd_d(6, 13, 7, 0, 0),
        enc::lr_d(8, 13, 0, 0),
        enc::sc_d(9, 13, 7, 0, 0),
        enc::ld(17, 13, 0),
        enc::sfence_vma(0, 0),
        enc::amoadd_d(16, 13, 7, 0, 0),
        enc::ld(18, 13, 0),
        enc::ecall(),
    ];
    let f = in_s_mode(&code)
        .mem64(L0, data_leaf(PA1))
        .mem64(PA1, 100)
        .mem64(PA2, 200)
        .x(7, 1)
        .x(13, VA)
        .x(14, data_leaf(PA2))
        .x(15, L0)
        .run();
    assert_eq!(f.trapped().cause, 9, "ends with ecall from S-mode");
    assert_eq!((f.x(5), f.x(6), f.x(8), f.x(9), f.x(17)), (100, 100, 101, 0, 1), "PA1 throughout");
    assert_eq!((f.x(16), f.x(18)), (200, 201), "after SFENCE.VMA, PA2");
}

// ---- stores to code pages ---------------------------------------------------------------------

#[test]
fn a_misaligned_store_over_code_that_ran_takes_effect() {
    // The 8-byte store at 28 (4 mod 8) rewrites the instructions at 28 and 32, which already
    // ran once: the second call must run them as rewritten.
    let patch = u64::from(enc::addi(4, 4, 100)) | u64::from(enc::jalr(0, 5, 0)) << 32;
    let code = [
        enc::jal(5, 24),    // 0: call 24
        enc::sd(1, 2, 0),   // 4: patch
        enc::fence_i(),     // 8
        enc::jal(5, 12),    // 12: call 24
        enc::jal(0, 20),    // 16 → 36 (end)
        enc::addi(0, 0, 0), // 20
        enc::addi(3, 3, 1), // 24: the called code
        enc::addi(4, 4, 1), // 28: rewritten
        enc::jalr(0, 5, 0), // 32: return (rewritten to the same)
    ];
    let f = Snippet::of(&code).x(1, CODE + 28).x(2, patch).ok();
    assert_eq!((f.x(3), f.x(4)), (2, 101));
}
