//! The GICv3 virtualization interface on every tier: list registers EL2 fills are taken by
//! EL1 as virtual interrupts through its ICC_* registers (never reaching the physical GIC),
//! the virtual priority mask holds them back, and the maintenance interrupt follows
//! ICH_HCR_EL2.
//!
//! Each snippet starts at EL2 with a (mock) GICv3 connected, sets up HCR_EL2.IMO and the ICH
//! registers, and returns to EL1 with interrupts unmasked; VBAR_EL1 and VBAR_EL2 share the
//! common vector table.

mod common;

use common::*;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::el2::hcr;
use mimic_arch_aarch64::ich::{ich_hcr, lr, misr, vmcr};
use mimic_arch_aarch64::sysreg::key;
use mimic_arch_aarch64::Aarch64Cpu;
use mimic_core::IccReg;

const HCR_EL2: u32 = key(3, 4, 1, 1, 0);
const SPSR_EL2: u32 = key(3, 4, 4, 0, 0);
const ELR_EL2: u32 = key(3, 4, 4, 0, 1);
const ICH_HCR_EL2: u32 = key(3, 4, 12, 11, 0);
const ICH_VMCR_EL2: u32 = key(3, 4, 12, 11, 7);
const ICH_LR0_EL2: u32 = key(3, 4, 12, 12, 0);
const ICH_LR1_EL2: u32 = key(3, 4, 12, 12, 1);
const ICC_IAR1_EL1: u32 = key(3, 0, 12, 12, 0);
const ICC_EOIR1_EL1: u32 = key(3, 0, 12, 12, 1);

/// EL1h with D, A, I, F clear.
const EL1H_UNMASKED: u64 = 0b0101;

fn at_el2(cpu: &mut Aarch64Cpu) {
    cpu.has_el2 = true;
    cpu.el2.vbar = VECTORS;
    cpu.set_el_sp(2, true);
    cpu.mmu_changed();
}

/// A pending group-1 list register for `vintid` at `prio`.
fn pending_lr(vintid: u64, prio: u64) -> u64 {
    lr::PENDING | lr::GROUP | prio << lr::PRIORITY_SHIFT | vintid
}

/// EL2 code: HCR_EL2 = IMO, ICH_HCR_EL2 = `ich`, ICH_VMCR_EL2 = `vmcr`, the list registers,
/// then ERET to EL1 (interrupts unmasked) at the `movz x9, #1` that ends the snippet.
fn enter_guest(ich: u64, vmcr: u64, lrs: &[u64]) -> Vec<u32> {
    let mut c = mov64(0, hcr::IMO | hcr::RW);
    c.push(enc::msr_reg(HCR_EL2, 0));
    c.extend(mov64(0, ich));
    c.push(enc::msr_reg(ICH_HCR_EL2, 0));
    c.extend(mov64(0, vmcr));
    c.push(enc::msr_reg(ICH_VMCR_EL2, 0));
    for (n, &l) in lrs.iter().enumerate() {
        c.extend(mov64(0, l));
        c.push(enc::msr_reg([ICH_LR0_EL2, ICH_LR1_EL2][n], 0));
    }
    c.extend(mov64(0, EL1H_UNMASKED));
    c.push(enc::msr_reg(SPSR_EL2, 0));
    // ELR_EL2 = the instruction after the ERET: four words of MOV, the MSR, the ERET.
    let guest = CODE + 4 * (c.len() as u64 + 6);
    let mut set = mov64(0, guest);
    set.resize(4, enc::hint(0));
    c.extend(set);
    c.push(enc::msr_reg(ELR_EL2, 0));
    c.push(enc::eret());
    assert_eq!(CODE + 4 * c.len() as u64, guest);
    c.push(enc::movz(9, 1, 0));
    c
}

/// EL1's IRQ handler: acknowledge into x4, EOI it, count the entry in x5, return.
fn guest_irq_handler() -> Vec<u32> {
    vec![enc::mrs(ICC_IAR1_EL1, 4), enc::msr_reg(ICC_EOIR1_EL1, 4), enc::add_imm(1, 5, 5, 1, 0), enc::eret()]
}

/// Run `s` on every tier (with the mock GIC and a maintenance line); check each.
fn on_every_tier(s: Snippet, check: impl Fn(&Rig, &Final, &MockLine)) {
    for &tier in TIERS {
        let mut rig = s.build();
        let maint = MockLine::default();
        rig.cpu.ich_maint_line = Some(Box::new(maint.clone()));
        let outcome = rig.run(tier);
        assert_eq!(outcome, mimic_exec::RunOutcome::Halted, "{tier:?}: did not finish (pc {:#x})", rig.cpu.pc);
        let f = rig.snapshot();
        check(&rig, &f, &maint);
    }
}

#[test]
fn list_register_is_taken_by_el1_and_eoi_clears_it() {
    let code = enter_guest(ich_hcr::EN, vmcr::VENG1 | 0xf0 << vmcr::VPMR_SHIFT, &[pending_lr(42, 0xa0)]);
    let s = Snippet::of(&code).gic(1023).setup(at_el2).vector(vec::IRQ_SPX, &guest_irq_handler());
    on_every_tier(s, |rig, f, _| {
        assert_eq!((f.sys.el, f.pc), (1, f.end + 4), "back in the guest, at the end");
        assert_eq!(f.x(4), 42, "ICC_IAR1_EL1 read the vINTID");
        assert_eq!(f.x(5), 1, "taken once");
        assert_eq!(f.x(9), 1);
        assert_eq!(rig.cpu.ich.lr[0] & (lr::PENDING | lr::ACTIVE), 0, "EOI deactivated the list register");
        assert_eq!(rig.cpu.ich.ap1r, 0, "and dropped its priority");
        let physical = f.icc.iter().any(|a| matches!(a, Icc::Read(_, IccReg::Iar1) | Icc::Write(_, IccReg::Eoir1, _)));
        assert!(!physical, "the physical GIC saw none of it: {:?}", f.icc);
    });
}

#[test]
fn list_register_below_the_virtual_priority_mask_is_not_taken() {
    let code = enter_guest(ich_hcr::EN, vmcr::VENG1 | 0x80 << vmcr::VPMR_SHIFT, &[pending_lr(42, 0xa0)]);
    let s = Snippet::of(&code).gic(1023).setup(at_el2).vector(vec::IRQ_SPX, &guest_irq_handler());
    on_every_tier(s, |rig, f, _| {
        assert_eq!((f.sys.el, f.pc, f.x(5)), (1, f.end + 4, 0), "no interrupt taken");
        assert_eq!(rig.cpu.ich.lr[0] & lr::PENDING, lr::PENDING, "still pending");
    });
}

#[test]
fn maintenance_interrupt_rises_when_underflow_is_asked_and_one_list_register_is_left() {
    // Two pending LRs: the guest takes the higher priority one (7) and returns; LR1 (8) is
    // still pending when it returns, so it is taken next. Underflow is signalled from when
    // at most one LR holds an interrupt.
    let lrs = [pending_lr(7, 0x40), pending_lr(8, 0x60)];
    let code = enter_guest(ich_hcr::EN | ich_hcr::UIE, vmcr::VENG1 | 0xf0 << vmcr::VPMR_SHIFT, &lrs);
    let s = Snippet::of(&code).gic(1023).setup(at_el2).vector(vec::IRQ_SPX, &guest_irq_handler());
    on_every_tier(s, |rig, f, maint| {
        assert_eq!((f.x(4), f.x(5)), (8, 2), "both taken, LR1 last");
        assert_eq!(rig.cpu.ich.misr() & misr::U, misr::U);
        assert!(maint.level(), "the maintenance interrupt is raised");
    });
}

#[test]
fn no_maintenance_interrupt_while_two_list_registers_hold_interrupts() {
    // Masked by VPMR, both LRs stay pending: no underflow.
    let lrs = [pending_lr(7, 0x40), pending_lr(8, 0x60)];
    let code = enter_guest(ich_hcr::EN | ich_hcr::UIE, vmcr::VENG1 | 0x20 << vmcr::VPMR_SHIFT, &lrs);
    let s = Snippet::of(&code).gic(1023).setup(at_el2).vector(vec::IRQ_SPX, &guest_irq_handler());
    on_every_tier(s, |rig, f, maint| {
        assert_eq!(f.x(5), 0);
        assert_eq!(rig.cpu.ich.misr(), 0);
        assert!(!maint.level());
    });
}

#[test]
fn eoi_of_an_interrupt_in_no_list_register_counts_and_signals_lrenp() {
    // The guest EOIs vINTID 99, which no LR holds: EOIcount becomes 1, LRENPIE asks for it.
    let mut code = enter_guest(ich_hcr::EN | ich_hcr::LRENPIE, vmcr::VENG1 | 0xf0 << vmcr::VPMR_SHIFT, &[]);
    code.extend([enc::movz(4, 99, 0), enc::msr_reg(ICC_EOIR1_EL1, 4)]);
    let s = Snippet::of(&code).gic(1023).setup(at_el2);
    on_every_tier(s, |rig, _, maint| {
        assert_eq!(rig.cpu.ich.hcr >> ich_hcr::EOICOUNT_SHIFT, 1);
        assert_eq!(rig.cpu.ich.misr(), misr::LRENP);
        assert!(maint.level());
    });
}
