//! Branch target identification (FEAT_BTI) on every tier: which instructions an indirect
//! branch may land on in a guarded page, what BTYPE each branch leaves, the Branch Target
//! exception, and BTYPE across exception entry and return.
//!
//! The guarded snippets run with the MMU on and RAM mapped by one block whose GP bit is set
//! (`Snippet::guarded`).

mod common;

use common::*;
use mimic_arch_aarch64::cpu::Fault;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::sysreg::{key, sctlr};
use mimic_arch_aarch64::Aarch64Cpu;

const BTI: u32 = 32;
const BTI_C: u32 = 34;
const BTI_J: u32 = 36;
const BTI_JC: u32 = 38;
const PACIASP: u32 = 0b001_1001;

fn bti_on(c: &mut Aarch64Cpu) {
    c.features.bti = true;
}

fn bti_and_pauth_on(c: &mut Aarch64Cpu) {
    c.features.bti = true;
    c.features.pauth = true;
}

fn bti_on_bt1(c: &mut Aarch64Cpu) {
    c.features.bti = true;
    c.mmu_regs.sctlr_el1 |= sctlr::BT1;
}

/// `br/blr x<rn>` to the next-but-one instruction `landing`, skipping `movz x9, #1`.
fn branch_to(branch: u32, landing: u32) -> Vec<u32> {
    vec![branch, enc::movz(9, 1, 0), landing]
}

fn guarded(code: &[u32], rn: usize, setup: fn(&mut Aarch64Cpu)) -> Snippet {
    Snippet::of(code).x(rn, CODE + 8).x(31, 0x4008_0000).normal_memory().guarded().setup(setup)
}

#[test]
fn br_to_bti_j_in_a_guarded_page_lands() {
    let f = guarded(&branch_to(enc::br(0), enc::bti(BTI_J)), 0, bti_on).ok();
    assert_eq!(f.x(9), 0);
}

#[test]
fn br_to_an_ordinary_instruction_in_a_guarded_page_raises_branch_target() {
    let f = guarded(&branch_to(enc::br(0), enc::movz(1, 1, 0)), 0, bti_on).run();
    assert_eq!(f.taken, Some((Fault::BranchTarget { btype: 3 }, CODE + 8)));
    assert_eq!(f.ec(), 0x0d);
    assert_eq!(f.sys.esr & 0x1ff_ffff, 3, "ISS holds BTYPE");
    assert_eq!(f.sys.elr, CODE + 8);
    assert_eq!(f.sys.spsr >> 10 & 3, 3, "SPSR_EL1.BTYPE");
    assert_eq!(f.x(1), 0, "the target did not execute");
}

#[test]
fn br_to_plain_bti_raises_branch_target() {
    let f = guarded(&branch_to(enc::br(0), enc::bti(BTI)), 0, bti_on).run();
    assert_eq!(f.taken, Some((Fault::BranchTarget { btype: 3 }, CODE + 8)));
}

#[test]
fn br_through_x16_lands_on_bti_c() {
    let f = guarded(&branch_to(enc::br(16), enc::bti(BTI_C)), 16, bti_on).ok();
    assert_eq!(f.x(9), 0);
}

#[test]
fn br_through_x0_does_not_land_on_bti_c() {
    let f = guarded(&branch_to(enc::br(0), enc::bti(BTI_C)), 0, bti_on).run();
    assert_eq!(f.taken, Some((Fault::BranchTarget { btype: 3 }, CODE + 8)));
}

#[test]
fn blr_does_not_land_on_bti_j() {
    let f = guarded(&branch_to(enc::blr(0), enc::bti(BTI_J)), 0, bti_on).run();
    assert_eq!(f.taken, Some((Fault::BranchTarget { btype: 2 }, CODE + 8)));
    assert_eq!(f.x(30), CODE + 4, "the call linked before the target faulted");
}

#[test]
fn blr_lands_on_bti_jc_and_on_paciasp() {
    guarded(&branch_to(enc::blr(0), enc::bti(BTI_JC)), 0, bti_on).ok();
    guarded(&branch_to(enc::blr(0), enc::pauth_hint_lr(PACIASP)), 0, bti_and_pauth_on).ok();
}

#[test]
fn br_lands_on_paciasp_unless_sctlr_bt1_is_set() {
    guarded(&branch_to(enc::br(0), enc::pauth_hint_lr(PACIASP)), 0, bti_on).ok();
    let f = guarded(&branch_to(enc::br(0), enc::pauth_hint_lr(PACIASP)), 0, bti_on_bt1).run();
    assert_eq!(f.taken, Some((Fault::BranchTarget { btype: 3 }, CODE + 8)));
}

#[test]
fn braa_sets_btype_as_br_does() {
    let f = guarded(&branch_to(enc::braz(0, 0), enc::movz(1, 1, 0)), 0, bti_and_pauth_on).run();
    assert_eq!(f.taken, Some((Fault::BranchTarget { btype: 3 }, CODE + 8)));
}

#[test]
fn ret_to_an_ordinary_instruction_is_no_branch_target() {
    let f = guarded(&branch_to(enc::ret(0), enc::movz(1, 1, 0)), 0, bti_on).ok();
    assert_eq!(f.x(1), 1);
}

#[test]
fn an_unguarded_page_accepts_any_target() {
    let f = Snippet::of(&branch_to(enc::br(0), enc::movz(1, 1, 0))).x(0, CODE + 8).normal_memory().setup(bti_on).ok();
    assert_eq!(f.x(1), 1);
}

#[test]
fn without_bti_a_guarded_page_accepts_any_target() {
    let f = guarded(&branch_to(enc::br(0), enc::movz(1, 1, 0)), 0, |_| {}).ok();
    assert_eq!(f.x(1), 1);
}

#[test]
fn bti_in_straight_line_code_is_a_nop() {
    let f = guarded(&[enc::bti(BTI), enc::movz(1, 1, 0)], 0, bti_on).ok();
    assert_eq!(f.x(1), 1);
}

#[test]
fn eret_restores_btype_and_checks_the_instruction_returned_to() {
    // SPSR_EL1 = EL1h, DAIF masked, BTYPE 11; ELR_EL1 = an ordinary instruction.
    let code = [
        enc::msr_reg(key(3, 0, 4, 0, 1), 0),
        enc::movz(1, 0xfc5, 0),
        enc::msr_reg(key(3, 0, 4, 0, 0), 1),
        enc::eret(),
        enc::movz(2, 1, 0),
    ];
    let f = Snippet::of(&code).x(0, CODE + 16).normal_memory().guarded().setup(bti_on).run();
    assert_eq!(f.taken, Some((Fault::BranchTarget { btype: 3 }, CODE + 16)));
    assert_eq!(f.x(2), 0);
}

#[test]
fn an_interrupt_after_an_indirect_branch_saves_btype_in_spsr() {
    // MMU off, so the BR's page is not guarded: BTYPE 01. The store raises the IRQ line, which
    // is taken after the branch, before its target; the IRQ vector lowers the line.
    let code =
        [enc::msr_imm(3, 2, 7), enc::ldst_uimm(3, 0, 5, 6, 0), enc::br(0), enc::movz(9, 1, 0), enc::movz(1, 1, 0)];
    let f = Snippet::of(&code)
        .x(0, CODE + 16)
        .x(5, 1)
        .x(6, IRQCTL)
        .vector(vec::IRQ_SPX, &[enc::ldst_uimm(3, 0, 31, 6, 0)])
        .setup(bti_on)
        .run();
    assert_eq!(f.vector(), Some(vec::IRQ_SPX));
    assert_eq!(f.sys.elr, CODE + 16);
    assert_eq!(f.sys.spsr >> 10 & 3, 1);
    assert_eq!(f.x(1), 0);
}

#[test]
fn calls_through_landing_pads_in_a_loop_agree_once_compiled() {
    // for x3 in 5..0 { blr f } where f: bti c; add x1, x1, #1; ret. Hot enough for the warm JIT.
    let code = [
        enc::movz(3, 5, 0),
        enc::blr(0),
        enc::sub_imm(1, 3, 3, 1, 0),
        enc::cbnz(1, 3, -8),
        enc::b(16),
        enc::bti(BTI_C),
        enc::add_imm(1, 1, 1, 1, 0),
        enc::ret(30),
    ];
    let f = Snippet::of(&code).x(0, CODE + 20).x(31, 0x4008_0000).normal_memory().guarded().setup(bti_on).ok();
    assert_eq!(f.x(1), 5);
}

#[test]
fn a_target_found_after_a_return_is_checked_when_a_br_reaches_it() {
    // The loop returns to T three times with BTYPE 00, so compiled code has T's block in its
    // jump cache; then BR X0 reaches T with BTYPE 11, and T (not a landing pad) must fault
    // rather than run the block translated for BTYPE 00.
    let code = [
        enc::movz(3, 3, 0),
        enc::bl(20),
        enc::add_imm(1, 1, 1, 1, 0), // T
        enc::sub_imm(1, 3, 3, 1, 0),
        enc::cbnz(1, 3, -12),
        enc::br(0),
        enc::ret(30),
    ];
    let f = guarded(&code, 0, bti_on).run();
    assert_eq!(f.taken, Some((Fault::BranchTarget { btype: 3 }, CODE + 8)));
    assert_eq!(f.x(1), 3, "T ran once per return, not after the BR");
}

#[test]
fn landing_pads_reached_by_br_and_by_ret_in_one_loop_agree_once_compiled() {
    // for x3 in 4..0 { br x0 to `bti j; add x1, #1; ret` with x30 = the loop's tail }: the
    // landing pad's block (BTYPE 11) and the body after it (BTYPE 00) are both reached
    // through the jump cache.
    let code = [
        enc::movz(3, 4, 0),
        enc::bl(16),
        enc::sub_imm(1, 3, 3, 1, 0),
        enc::cbnz(1, 3, -8),
        enc::b(20),
        enc::br(0),
        enc::bti(BTI_J),
        enc::add_imm(1, 1, 1, 1, 0),
        enc::ret(30),
    ];
    let f = guarded(&code, 0, bti_on).x(0, CODE + 24).ok();
    assert_eq!(f.x(1), 4);
}

const ID_AA64PFR1: u32 = key(3, 0, 0, 4, 1);

#[test]
fn id_aa64pfr1_reports_bt_with_bti() {
    let f = Snippet::of(&[enc::mrs(ID_AA64PFR1, 0)]).setup(bti_on).ok();
    assert_eq!(f.x(0) & 0xf, 1);
}

#[test]
fn id_aa64pfr1_reads_zero_without_bti() {
    let f = Snippet::of(&[enc::mrs(ID_AA64PFR1, 0)]).x(0, 7).ok();
    assert_eq!(f.x(0), 0);
}
