//! Stores that take the compiled code's slow path. One to plain RAM (a TLB miss) lets the
//! compiled run go on chaining; only stores to devices and code pages make it hand back to the
//! loop first.

mod common;

use common::*;
use mimic_arch_riscv::decode::enc;
use mimic_arch_riscv::RiscvCpu;
use mimic_exec::{CountRuns, LogFlags, RunOutcome, Tiers};
use mimic_jit::Jit;

const ROUNDS: u64 = 200;
const PAGE: u64 = 4096;

#[test]
fn stores_that_miss_the_tlb_for_plain_ram_do_not_end_the_compiled_run() {
    // Each round stores x1 to a page of its own, so every store misses the data TLB.
    let code = [
        enc::addi(2, 0, ROUNDS as i64), // 0
        enc::sd(10, 1, 0),              // 4: loop
        enc::add(10, 10, 11),           // 8
        enc::addi(2, 2, -1),            // 12
        enc::bne(2, 0, -12),            // 16 → loop
    ];
    let (mut cpu, mut bus, _) = Snippet::of(&code).x(1, 0x1234).x(10, DATA).x(11, PAGE).build();
    let mut counting = CountRuns::new(Jit::<RiscvCpu>::new().expect("a JIT for this host"));
    let tiers = Tiers { compiler: &mut counting, threshold: 0 };
    let out = mimic_exec::run_tiered(&mut cpu, &mut bus, 1_000_000, LogFlags::default(), tiers);
    assert_eq!(out, RunOutcome::Halted);
    for round in [0, 1, ROUNDS / 2, ROUNDS - 1] {
        let mut b = [0u8; 8];
        bus.read_bytes(DATA + round * PAGE, &mut b).expect("RAM");
        assert_eq!(u64::from_le_bytes(b), 0x1234, "round {round}");
    }
    // Entering the first block, the loop, the loop again to link its jump to itself, the end.
    assert!(counting.runs < 10, "{} compiled runs for {ROUNDS} rounds", counting.runs);
}
