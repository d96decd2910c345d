//! The background compiler as `-accel tcg,tier=auto` uses it: code compiled on its own thread
//! and installed between slices, and a threshold that drops while that thread has nothing to do.

mod common;

use common::*;
use mimic_arch_riscv::decode::enc;
use mimic_arch_riscv::RiscvCpu;
use mimic_exec::{LogFlags, RunOutcome, Tiers};
use mimic_jit::Jit;

/// Rounds of the counting loop below.
const ROUNDS: u64 = 1_000_000;

/// x1 counts up to x2 (= ROUNDS), one block of two instructions per round.
fn counting_loop() -> Vec<u32> {
    vec![
        enc::addi(1, 1, 1), // 0: loop
        enc::bne(1, 2, -4), // 4 → loop
    ]
}

#[test]
fn an_idle_background_compiler_takes_a_block_below_the_threshold() {
    let (mut cpu, mut bus, _) = Snippet::of(&counting_loop()).x(2, ROUNDS).build();
    let mut jit = Jit::<RiscvCpu>::new_background().expect("a JIT for this host");
    // At this threshold a busy compiler would never see the loop: it runs ROUNDS times.
    let threshold = 2 * ROUNDS as u32;
    let mut slices = 0;
    let out = loop {
        let tiers = Tiers { compiler: &mut jit, threshold };
        let out = mimic_exec::run_tiered(&mut cpu, &mut bus, 10_000, LogFlags::default(), tiers);
        slices += 1;
        if out != RunOutcome::Budget || slices > 1000 {
            break out;
        }
    };
    assert_eq!(out, RunOutcome::Halted);
    assert_eq!(cpu.regs[1], ROUNDS);
    let stats = jit.stats();
    assert!(stats.compiled > 0, "nothing was compiled: {stats:?}");
    assert_eq!(stats.failed, 0);
}
