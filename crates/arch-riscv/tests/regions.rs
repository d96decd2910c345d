//! Loops of several blocks compiled as one region (`mimic_exec::region`), and single blocks that
//! loop to themselves: the same results on every tier, code patched inside a region taking
//! effect, and a region that never leaves still handing back to the loop at the budget.

mod common;

use common::*;
use mimic_arch_riscv::decode::enc;
use mimic_exec::RunOutcome;

/// The loop body of the tests below: for x2 = n down to 1, odd x2 adds x2 to x1, even x2 adds
/// the immediate of the instruction at [`EVEN_ADD`]; x1 is stored to DATA each round.
const EVEN_ADD: u64 = 24;

fn odd_even_loop(n: i64) -> Vec<u32> {
    vec![
        enc::addi(2, 0, n),  // 0
        enc::addi(1, 0, 0),  // 4
        enc::andi(3, 2, 1),  // 8: loop
        enc::beq(3, 0, 12),  // 12 → even
        enc::add(1, 1, 2),   // 16: odd
        enc::jal(0, 8),      // 20 → next
        enc::addi(1, 1, 3),  // 24: even
        enc::sd(10, 1, 0),   // 28: next
        enc::addi(2, 2, -1), // 32
        enc::bne(2, 0, -28), // 36 → loop
    ]
}

fn model(n: u64, even_add: impl Fn(u64) -> u64) -> u64 {
    (1..=n).rev().map(|i| if i % 2 == 1 { i } else { even_add(i) }).sum()
}

#[test]
fn a_loop_of_three_blocks_gives_the_same_result_on_every_tier() {
    let f = Snippet::of(&odd_even_loop(200)).x(10, DATA).ok();
    assert_eq!(f.x(1), model(200, |_| 3));
    assert_eq!(f.mem64(DATA), model(200, |_| 3));
}

#[test]
fn a_warm_loop_is_compiled_as_a_region() {
    let (mut cpu, mut bus, _) = Snippet::of(&odd_even_loop(200)).x(10, DATA).build();
    let (out, stats) = warm_jit(&mut cpu, &mut bus, BUDGET);
    assert_eq!(out, RunOutcome::Halted);
    assert_eq!(cpu.regs[1], model(200, |_| 3));
    assert!(stats.regions > 0, "no region was compiled: {stats:?}");
}

#[test]
fn an_instruction_patched_inside_a_region_runs_patched_after_fence_i() {
    // At x2 == 100 the loop rewrites its even-branch `addi x1, x1, 3` into `addi x1, x1, 5`.
    let mut code = odd_even_loop(200);
    code.truncate(7); // up to and including the even add at 24
    code.extend([
        enc::addi(4, 2, -100), // 28
        enc::bne(4, 0, 12),    // 32 → 44
        enc::sw(12, 11, 0),    // 36: patch
        enc::fence_i(),        // 40
        enc::sd(10, 1, 0),     // 44
        enc::addi(2, 2, -1),   // 48
        enc::bne(2, 0, -44),   // 52 → loop at 8
    ]);
    let f = Snippet::of(&code).x(10, DATA).x(11, u64::from(enc::addi(1, 1, 5))).x(12, CODE + EVEN_ADD).ok();
    let want = model(200, |i| if i >= 100 { 3 } else { 5 });
    assert_eq!(f.x(1), want);
    assert_eq!(f.mem64(DATA), want);
}

#[test]
fn an_endless_loop_region_still_returns_at_the_budget() {
    let code = [
        enc::addi(1, 1, 1), // 0
        enc::andi(3, 1, 1), // 4
        enc::beq(3, 0, 8),  // 8 → 16
        enc::jal(0, -12),   // 12 → 0
        enc::jal(0, -16),   // 16 → 0
    ];
    let (mut cpu, mut bus, _) = Snippet::of(&code).build();
    let (out, stats) = warm_jit(&mut cpu, &mut bus, 200_000);
    assert_eq!(out, RunOutcome::Budget);
    assert!(stats.regions > 0, "no region was compiled: {stats:?}");
    // About four instructions a round; well over half the budget ran as rounds.
    assert!(cpu.regs[1] > 25_000, "only {} rounds", cpu.regs[1]);
}

#[test]
fn a_block_that_loops_to_itself_goes_round_inside_its_code() {
    let code = [
        enc::addi(2, 0, 1000), // 0
        enc::addi(1, 1, 3),    // 4: loop
        enc::addi(2, 2, -1),   // 8
        enc::bne(2, 0, -8),    // 12 → loop
    ];
    assert_eq!(Snippet::of(&code).ok().x(1), 3000);
    let (mut cpu, mut bus, _) = Snippet::of(&code).build();
    let (out, stats) = warm_jit(&mut cpu, &mut bus, BUDGET);
    assert_eq!(out, RunOutcome::Halted);
    assert_eq!(cpu.regs[1], 3000);
    assert!(stats.compiled > 0, "{stats:?}");
    // Its branch back is a jump inside its own code, not a jump slot the loop links.
    assert_eq!(stats.chained, 0, "{stats:?}");
}

#[test]
fn an_endless_loop_of_one_block_still_returns_at_the_budget() {
    let code = [enc::addi(1, 1, 1), enc::jal(0, -4)];
    let (mut cpu, mut bus, _) = Snippet::of(&code).build();
    let (out, stats) = warm_jit(&mut cpu, &mut bus, 200_000);
    assert_eq!(out, RunOutcome::Budget);
    assert!(stats.compiled > 0, "{stats:?}");
    assert!(cpu.regs[1] > 50_000, "only {} rounds", cpu.regs[1]);
}
