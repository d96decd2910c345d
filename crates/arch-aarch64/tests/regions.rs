//! Regions whose blocks lie on two pages: a loop that straddles a page boundary compiles as one
//! region (the blocks on the second page join through the interpreter's successor links), gives
//! the interpreter's results, and goes on right when code on either page is rewritten meanwhile
//! (the region is dropped while the blocks of the other page live on).

mod common;

use common::*;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::Aarch64Cpu;
use mimic_exec::{LogFlags, RunOutcome, Tiers};
use mimic_jit::{Jit, JitStats};

const X: u32 = 1;
/// Where the loop starts: four instructions before the end of the first page.
const LOOP: u64 = 0xff0;
/// The instruction on the first page that a patch may rewrite: `add x3, x3, x2`.
const ON_FIRST_PAGE: u64 = 0xff4;
/// ... and on the second page: `add x4, x4, x3`.
const ON_SECOND_PAGE: u64 = 0x1000;

/// `x1` rounds of a loop split across the page boundary at 0x1000; in the round where `x1`
/// equals `x5` (after its decrement) the loop stores `w7` at `x6`, rewriting one of its own
/// instructions.
fn straddling_loop() -> Vec<u32> {
    let mut words = vec![enc::wfi(); (LOOP / 4) as usize];
    words[0] = enc::b(LOOP as i64);
    words.extend([
        enc::add_reg(2, 2, 1, 0, 0),   // 0xff0: loop: x2 += x1
        enc::add_reg(3, 3, 2, 0, 0),   // 0xff4: x3 += x2
        enc::subs_imm(X, 1, 1, 1, 0),  // 0xff8: x1 -= 1
        enc::b_cond(cond::EQ, 0x18),   // 0xffc: b.eq done (0x1014)
        enc::add_reg(4, 4, 3, 0, 0),   // 0x1000: x4 += x3
        enc::subs_reg(31, 1, 5, 0, 0), // 0x1004: cmp x1, x5
        enc::b_cond(cond::NE, -0x18),  // 0x1008: b.ne loop
        enc::ldst_uimm(2, 0, 7, 6, 0), // 0x100c: str w7, [x6]
        enc::b(-0x20),                 // 0x1010: b loop
    ]); // 0x1014: done
    words
}

/// The loop in Rust: (x2, x3, x4) after `n` rounds, the instruction at `patched` doubling its
/// addend once the round where x1 reaches `patch_at` has stored the patch.
fn model(n: u64, patch_at: u64, patched: u64) -> (u64, u64, u64) {
    let (mut x1, mut x2, mut x3, mut x4, mut done) = (n, 0u64, 0u64, 0u64, false);
    let twice = |at: u64, done: bool, v: u64| if done && patched == at { v << 1 } else { v };
    loop {
        x2 = x2.wrapping_add(x1);
        x3 = x3.wrapping_add(twice(ON_FIRST_PAGE, done, x2));
        x1 -= 1;
        if x1 == 0 {
            return (x2, x3, x4);
        }
        x4 = x4.wrapping_add(twice(ON_SECOND_PAGE, done, x3));
        if x1 == patch_at {
            done = true;
        }
    }
}

/// `n` rounds, patching the instruction at `patched` (an offset from CODE) to shift its addend
/// left by one in the round where x1 reaches `patch_at` (0: never).
fn snippet(n: u64, patch_at: u64, patched: u64) -> Snippet {
    let twice = match patched {
        ON_FIRST_PAGE => enc::add_reg(3, 3, 2, 0, 1),
        _ => enc::add_reg(4, 4, 3, 0, 1),
    };
    Snippet::of(&straddling_loop()).x(1, n).x(5, patch_at).x(6, CODE + patched).x(7, u64::from(twice))
}

/// Run warm (blocks compiled after two interpreted runs), returning the JIT's statistics too.
fn run_warm(s: &Snippet) -> (Final, JitStats) {
    let mut rig = s.build();
    let mut jit = Jit::<Aarch64Cpu>::new().expect("a JIT for this host");
    let tiers = Tiers { compiler: &mut jit, threshold: 2 };
    let out = mimic_exec::run_tiered(&mut rig.cpu, &mut rig.bus, BUDGET, LogFlags::default(), tiers);
    assert_eq!(out, RunOutcome::Halted, "still running (pc {:#x})", rig.cpu.pc);
    (rig.snapshot(), jit.stats())
}

#[test]
fn a_loop_across_a_page_boundary_gives_the_same_result_on_every_tier() {
    let f = snippet(200, 0, ON_FIRST_PAGE).ok();
    assert_eq!((f.x(2), f.x(3), f.x(4)), model(200, 0, ON_FIRST_PAGE));
}

#[test]
fn a_loop_across_a_page_boundary_compiles_as_one_region() {
    let (f, stats) = run_warm(&snippet(200, 0, ON_FIRST_PAGE));
    assert_eq!((f.x(2), f.x(3), f.x(4)), model(200, 0, ON_FIRST_PAGE));
    // Each page's blocks alone reach no block of their own page: without the blocks of the
    // other page every compile would be of one block.
    assert!(stats.regions > 0, "no region of several blocks: {stats:?}");
}

#[test]
fn rewriting_the_first_page_mid_loop_runs_the_new_code_on_every_tier() {
    let f = snippet(200, 100, ON_FIRST_PAGE).ok();
    assert_eq!((f.x(2), f.x(3), f.x(4)), model(200, 100, ON_FIRST_PAGE));
    assert_ne!(model(200, 100, ON_FIRST_PAGE), model(200, 0, ON_FIRST_PAGE), "the patch changes the result");
}

#[test]
fn rewriting_the_second_page_mid_loop_runs_the_new_code_on_every_tier() {
    let f = snippet(200, 100, ON_SECOND_PAGE).ok();
    assert_eq!((f.x(2), f.x(3), f.x(4)), model(200, 100, ON_SECOND_PAGE));
    assert_ne!(model(200, 100, ON_SECOND_PAGE), model(200, 0, ON_SECOND_PAGE), "the patch changes the result");
}

#[test]
fn a_region_dropped_for_a_write_to_one_page_leaves_the_other_pages_blocks_runnable() {
    // Compiled as one region first, then each page rewritten in turn: the blocks of the page
    // not written keep their entries into the dropped region, which must not stop the loop.
    for patched in [ON_FIRST_PAGE, ON_SECOND_PAGE] {
        let (f, stats) = run_warm(&snippet(400, 100, patched));
        assert!(stats.regions > 0, "no region of several blocks: {stats:?}");
        assert_eq!((f.x(2), f.x(3), f.x(4)), model(400, 100, patched), "patching {patched:#x}");
    }
}

/// A store that rewrites a later block of its own region takes effect when the run gets there:
/// the store's block may stop the run (its slow path, taken for a store to a code page), so
/// its jump forward checks the budget, which dropping the region's code zeroed. (A jump forward
/// from a block that cannot stop the run skips that check.)
#[test]
fn a_store_rewriting_a_later_block_of_its_region_runs_the_new_code_next() {
    let words = [
        enc::add_reg(2, 2, 1, 0, 0),       // 0x00: loop: x2 += x1
        enc::subs_reg(31, 1, 5, 0, 0),     // 0x04: cmp x1, x5
        enc::csel(1, 10, 11, 6, cond::HI), // 0x08: x10 = x1 > x5 ? DATA : the add at 0x14
        enc::ldst_uimm(2, 0, 7, 10, 0),    // 0x0c: str w7, [x10]
        enc::b(4),                         // 0x10: ends the block, on to the next
        enc::add_reg(3, 3, 2, 0, 0),       // 0x14: x3 += x2 (patched: x3 += x2 << 1)
        enc::subs_imm(X, 1, 1, 1, 0),      // 0x18: x1 -= 1
        enc::b_cond(cond::NE, -0x1c),      // 0x1c: b.ne loop
    ];
    let patched = enc::add_reg(3, 3, 2, 0, 1);
    let s = Snippet::of(&words).x(1, 200).x(5, 100).x(6, CODE + 0x14).x(11, DATA).x(7, u64::from(patched));
    let (mut x1, mut x2, mut x3) = (200u64, 0u64, 0u64);
    while x1 != 0 {
        x2 += x1;
        x3 += if x1 > 100 { x2 } else { x2 << 1 };
        x1 -= 1;
    }
    let f = s.ok();
    assert_eq!((f.x(2), f.x(3)), (x2, x3));
    let (warm, stats) = run_warm(&s);
    assert_eq!((warm.x(2), warm.x(3)), (x2, x3));
    assert!(stats.regions > 0, "no region of several blocks: {stats:?}");
}
