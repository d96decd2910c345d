//! Stores that take the compiled code's slow path because the memory is Device memory, as all
//! of it is while the MMU is off (firmware's early code): they still go to RAM, so they let the
//! compiled run go on chaining instead of handing back to the loop after each one.

mod common;

use common::*;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::Aarch64Cpu;
use mimic_exec::{CountRuns, LogFlags, RunOutcome, Tiers};
use mimic_jit::Jit;

const ROUNDS: u64 = 200;

#[test]
fn stores_to_ram_with_the_mmu_off_do_not_end_the_compiled_run() {
    let code = [
        enc::ldst_uimm(0, 0, 1, 6, 0), // loop: strb w1, [x6]
        enc::add_imm(1, 6, 6, 1, 0),   // add x6, x6, #1
        enc::subs_imm(1, 2, 2, 1, 0),  // subs x2, x2, #1
        enc::b_cond(cond::NE, -12),    // b.ne loop
    ];
    let mut rig = Snippet::of(&code).x(1, 0x5a).x(2, ROUNDS).x(6, DATA).build();
    assert_eq!(rig.cpu.mmu_regs.sctlr_el1 & 1, 0, "the MMU is off");
    let mut counting = CountRuns::new(Jit::<Aarch64Cpu>::new().expect("a JIT for this host"));
    let tiers = Tiers { compiler: &mut counting, threshold: 0 };
    let out = mimic_exec::run_tiered(&mut rig.cpu, &mut rig.bus, 1_000_000, LogFlags::default(), tiers);
    assert_eq!(out, RunOutcome::Halted);
    let data = rig.snapshot().data;
    assert!(data[..ROUNDS as usize].iter().all(|&b| b == 0x5a), "every round stored its byte");
    assert_eq!(data[ROUNDS as usize], 0, "and no more");
    // Entering the loop, the loop again to link its jump to itself, the end.
    assert!(counting.runs < 10, "{} compiled runs for {ROUNDS} rounds", counting.runs);
}
