//! Registers a compiled region leaves unwritten on a jump between its blocks, because the next
//! block overwrites them before anything could read them (its compare sets the flags again):
//! wherever the run stops instead of jumping, the register file still gets them.

mod common;

use common::*;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::Aarch64Cpu;
use mimic_exec::{LogFlags, RunOutcome, Tiers};
use mimic_jit::Jit;

const ROUNDS: u64 = 500;

/// Two blocks, each of which starts by overwriting what the other leaves in X4 and the flags.
fn two_block_loop() -> Vec<u32> {
    vec![
        enc::add_imm(1, 2, 2, 1, 0),  // 0x00: loop: add x2, x2, #1
        enc::subs_reg(4, 2, 5, 0, 0), // 0x04: subs x4, x2, x5
        enc::b(4),                    // 0x08: b next
        enc::subs_imm(1, 4, 1, 1, 0), // 0x0c: next: subs x4, x1, #1
        enc::orr_reg(1, 31, 4, 0, 0), // 0x10: mov x1, x4
        enc::b_cond(cond::NE, -0x14), // 0x14: b.ne loop
    ]
}

#[test]
fn a_run_stopped_between_blocks_of_a_region_leaves_their_registers_in_the_register_file() {
    let mut rig = Snippet::of(&two_block_loop()).x(1, ROUNDS).x(5, 1 << 40).build();
    let mut jit = Jit::<Aarch64Cpu>::new().expect("a JIT for this host");
    let mut stops_at_loop = 0;
    // Small budgets stop the compiled loop at its backward jump, the one that leaves X4 and the
    // flags of `next` unwritten when it stays inside the region.
    for budget in (7..).step_by(3) {
        let tiers = Tiers { compiler: &mut jit, threshold: 2 };
        let out = mimic_exec::run_tiered(&mut rig.cpu, &mut rig.bus, budget, LogFlags::default(), tiers);
        if out == RunOutcome::Halted {
            break;
        }
        assert_eq!(out, RunOutcome::Budget);
        let f = rig.snapshot();
        if f.pc == CODE && f.x(2) > 0 {
            stops_at_loop += 1;
            // `next` left X4 = X1 and the flags of X1 + 1 - 1: not zero, no borrow.
            assert_eq!(f.x(4), f.x(1), "X4 after {} rounds", f.x(2));
            let n = if (f.x(1) as i64) < 0 { nzcv::N } else { 0 };
            assert_eq!(f.nzcv, n | nzcv::C, "NZCV after {} rounds", f.x(2));
        }
    }
    let f = rig.snapshot();
    assert_eq!((f.x(1), f.x(2), f.x(4)), (0, ROUNDS, 0));
    assert!(stops_at_loop > 10, "the run stopped at the loop's start only {stops_at_loop} times");
    assert!(jit.stats().regions > 0, "the loop did not compile as one region: {:?}", jit.stats());
}
