//! The background compiler as `-accel tcg,tier=auto` uses it: code compiled on its own thread
//! and installed between slices, and a threshold that drops while that thread has nothing to do.

mod common;

use common::*;
use mimic_arch_riscv::decode::enc;
use mimic_arch_riscv::RiscvCpu;
use mimic_exec::{Compile, Compiler, Guest, LogFlags, RunOutcome, Tiers, QUEUED};
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

/// A loop of three blocks that all run once per round, so they grow hot together:
/// A (0, 4) → B (16, 20) → C (8) → A, x1 counting up to x2; then out through 12.
fn three_block_loop() -> Vec<u32> {
    vec![
        enc::addi(1, 1, 1), // 0: A
        enc::jal(0, 12),    // 4 → B
        enc::bne(1, 2, -8), // 8: C → A
        enc::jal(0, 12),    // 12 → the end
        enc::addi(4, 4, 1), // 16: B
        enc::jal(0, -12),   // 20 → C
    ]
}

#[test]
fn the_other_blocks_of_a_queued_region_wait_for_its_code_and_then_enter_it_where_they_start() {
    let (mut cpu, mut bus, _) = Snippet::of(&three_block_loop()).x(2, 100).build();
    let mut jit = Jit::<RiscvCpu>::new_background().expect("a JIT for this host");
    // Interpreted to the end (no threshold is reached): the blocks are cached and warm.
    let tiers = Tiers { compiler: &mut jit, threshold: u32::MAX };
    let out = mimic_exec::run_tiered(&mut cpu, &mut bus, 10_000, LogFlags::default(), tiers);
    assert_eq!(out, RunOutcome::Halted);
    let (phys, flags) = (cpu.translate_fetch(&mut bus, CODE).expect("code is mapped"), cpu.block_flags());
    let head = cpu.cache().lookup(CODE, phys, flags).expect("the loop's first block is cached");
    let region = mimic_exec::region::gather::<RiscvCpu>(cpu.cache(), &head, 50, 0);
    assert_eq!(region.len(), 3, "the region is the whole loop");

    assert!(matches!(jit.compile(&region), Compile::Queued));
    head.heat.set(QUEUED); // as the run loop marks the block it asked for
    for member in &region[1..] {
        assert_ne!(member.heat.get() & QUEUED, 0, "block {:#x} would queue a job of its own", member.pc);
    }

    let start = std::time::Instant::now();
    while head.compiled.get().is_none() {
        assert!(start.elapsed().as_secs() < 20, "the region was not compiled");
        std::thread::sleep(std::time::Duration::from_millis(1));
        jit.collect(cpu.cache());
    }
    // The others enter the region's code where they start.
    for member in &region[1..] {
        assert!(member.compiled.get().is_some(), "block {:#x} has no code", member.pc);
    }
    assert_eq!(jit.stats().compiled, 1);

    // Entered at B, the second block: B runs once more than A (entered at A it would not).
    let b = &region[1];
    assert_eq!(b.pc, CODE + 16);
    cpu.regs[1] = 0;
    cpu.regs[4] = 0;
    cpu.pc = b.pc;
    cpu.halted = false;
    let tiers = Tiers { compiler: &mut jit, threshold: u32::MAX };
    let out = mimic_exec::run_tiered(&mut cpu, &mut bus, 10_000, LogFlags::default(), tiers);
    assert_eq!(out, RunOutcome::Halted);
    assert_eq!((cpu.regs[1], cpu.regs[4]), (100, 101));
    assert_eq!(jit.stats().compiled, 1);
}

/// A prologue block P (0, 4) that jumps into the three-block loop of [`three_block_loop`],
/// moved up by two instructions: A (8, 12) → B (24, 28) → C (16) → A; out through 20.
fn loop_after_a_prologue() -> Vec<u32> {
    vec![
        enc::addi(5, 5, 1), // 0: P
        enc::jal(0, 4),     // 4 → A
        enc::addi(1, 1, 1), // 8: A
        enc::jal(0, 12),    // 12 → B
        enc::bne(1, 2, -8), // 16: C → A
        enc::jal(0, 12),    // 20 → the end
        enc::addi(4, 4, 1), // 24: B
        enc::jal(0, -12),   // 28 → C
    ]
}

#[test]
fn a_region_leaves_out_the_blocks_that_already_have_code_or_wait_for_it() {
    let (mut cpu, mut bus, _) = Snippet::of(&loop_after_a_prologue()).x(2, 100).build();
    let mut jit = Jit::<RiscvCpu>::new_background().expect("a JIT for this host");
    let tiers = Tiers { compiler: &mut jit, threshold: u32::MAX };
    let out = mimic_exec::run_tiered(&mut cpu, &mut bus, 10_000, LogFlags::default(), tiers);
    assert_eq!(out, RunOutcome::Halted);
    let (phys, flags) = (cpu.translate_fetch(&mut bus, CODE).expect("code is mapped"), cpu.block_flags());
    let block_at = |cpu: &mut RiscvCpu, off: u64| cpu.cache().lookup(CODE + off, phys + off as usize, flags).unwrap();
    let (prologue, head) = (block_at(&mut cpu, 0), block_at(&mut cpu, 8));
    let generation = jit.generation();
    let whole = mimic_exec::region::gather::<RiscvCpu>(cpu.cache(), &prologue, 0, generation);
    let pcs: Vec<u64> = whole.iter().map(|b| b.pc).collect();
    assert!(
        pcs.starts_with(&[CODE, CODE + 8]),
        "with nothing compiled, the prologue's region takes in the loop: {pcs:x?}"
    );

    let region = mimic_exec::region::gather::<RiscvCpu>(cpu.cache(), &head, 50, generation);
    assert_eq!(region.len(), 3, "the region is the whole loop");
    assert!(matches!(jit.compile(&region), Compile::Queued));
    head.heat.set(QUEUED);
    let waiting = mimic_exec::region::gather::<RiscvCpu>(cpu.cache(), &prologue, 0, generation);
    assert_eq!(waiting.iter().map(|b| b.pc).collect::<Vec<_>>(), [CODE], "the loop waits for its job");

    let start = std::time::Instant::now();
    while head.compiled.get().is_none() {
        assert!(start.elapsed().as_secs() < 20, "the region was not compiled");
        std::thread::sleep(std::time::Duration::from_millis(1));
        jit.collect(cpu.cache());
    }
    let compiled = mimic_exec::region::gather::<RiscvCpu>(cpu.cache(), &prologue, 0, generation);
    assert_eq!(compiled.iter().map(|b| b.pc).collect::<Vec<_>>(), [CODE], "the loop has code");
}
