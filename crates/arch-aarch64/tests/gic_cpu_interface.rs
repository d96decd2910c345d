//! The GICv3 CPU interface as system registers, on every tier: with a board-connected GIC (a
//! mock behind `mimic_core::GicCpuInterface`) the ICC_* encodings reach it with this CPU's
//! index; without one they are UNDEFINED and ID_AA64PFR0_EL1 says so.

mod common;

use common::*;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::sysreg::key;
use mimic_arch_aarch64::{Aarch64Cpu, Fault};
use mimic_core::IccReg;

const ID_AA64PFR0_EL1: u32 = key(3, 0, 0, 4, 0);
const ICC_PMR_EL1: u32 = key(3, 0, 4, 6, 0);
const ICC_IAR1_EL1: u32 = key(3, 0, 12, 12, 0);
const ICC_EOIR1_EL1: u32 = key(3, 0, 12, 12, 1);
const ICC_SGI1R_EL1: u32 = key(3, 0, 12, 11, 5);
const ICC_SRE_EL1: u32 = key(3, 0, 12, 12, 5);
const ICC_IGRPEN1_EL1: u32 = key(3, 0, 12, 12, 7);
const ICC_AP1R0_EL1: u32 = key(3, 0, 12, 9, 0);

const INTID: u32 = 33;

fn daifclr(imm: u32) -> u32 {
    enc::msr_imm(3, imm, 7)
}
fn start_at_el0(cpu: &mut Aarch64Cpu) {
    cpu.set_el_sp(0, false);
    cpu.mmu_changed();
}

#[test]
fn icc_iar1_read_returns_the_gic_intid_for_this_cpu() {
    let f = Snippet::of(&[mrs(3, ICC_IAR1_EL1)]).gic(INTID).ok();
    assert_eq!((f.x(3), f.icc), (u64::from(INTID), vec![Icc::Read(MOCK_GIC_CPU, IccReg::Iar1)]));
}

#[test]
fn icc_eoir1_write_reaches_the_gic_with_the_value() {
    let f = Snippet::of(&[msr(ICC_EOIR1_EL1, 1)]).x(1, u64::from(INTID)).gic(INTID).ok();
    assert_eq!(f.icc, vec![Icc::Write(MOCK_GIC_CPU, IccReg::Eoir1, u64::from(INTID))]);
}

#[test]
fn linux_cpu_interface_bring_up_reaches_the_gic_in_order() {
    let f = Snippet::of(&[
        mrs(3, ICC_SRE_EL1),
        msr(ICC_PMR_EL1, 1),
        msr(ICC_AP1R0_EL1, 31),
        msr(ICC_IGRPEN1_EL1, 2),
        msr(ICC_SGI1R_EL1, 4),
    ])
    .x(1, 0xf0)
    .x(2, 1)
    .x(4, 1 << 24 | 1)
    .gic(INTID)
    .ok();
    let c = MOCK_GIC_CPU;
    let want = vec![
        Icc::Read(c, IccReg::Sre),
        Icc::Write(c, IccReg::Pmr, 0xf0),
        Icc::Write(c, IccReg::Ap1r(0), 0),
        Icc::Write(c, IccReg::Igrpen1, 1),
        Icc::Write(c, IccReg::Sgi1r, 1 << 24 | 1),
    ];
    assert_eq!((f.x(3), f.icc), (7, want));
}

#[test]
fn irq_handler_acknowledges_and_ends_through_the_system_registers() {
    let handler = [mrs(5, ICC_IAR1_EL1), msr(ICC_EOIR1_EL1, 5)];
    let f = Snippet::of(&[daifclr(2), enc::movz(3, 1, 0)]).irq(1).gic(INTID).vector(vec::IRQ_SPX, &handler).run();
    assert_eq!((f.vector(), f.x(5), f.sys.irq_lines), (Some(vec::IRQ_SPX), u64::from(INTID), 0));
    let c = MOCK_GIC_CPU;
    assert_eq!(f.icc, vec![Icc::Read(c, IccReg::Iar1), Icc::Write(c, IccReg::Eoir1, u64::from(INTID))]);
}

#[test]
fn icc_registers_without_a_gic_are_undefined() {
    for word in [mrs(3, ICC_IAR1_EL1), msr(ICC_EOIR1_EL1, 1), mrs(3, ICC_SRE_EL1), msr(ICC_PMR_EL1, 1)] {
        let f = Snippet::of(&[word]).run();
        assert_eq!(f.taken, Some((Fault::Undefined { raw: word }, CODE)), "{word:#010x}");
    }
}

#[test]
fn icc_registers_refuse_el0_and_the_wrong_direction_without_reaching_the_gic() {
    for (word, el0) in [(mrs(3, ICC_IAR1_EL1), true), (mrs(3, ICC_EOIR1_EL1), false), (msr(ICC_IAR1_EL1, 1), false)] {
        let s = Snippet::of(&[word]).gic(INTID);
        let f = if el0 { s.setup(start_at_el0).run() } else { s.run() };
        assert_eq!((f.taken, f.icc), (Some((Fault::Undefined { raw: word }, CODE)), vec![]), "{word:#010x}");
    }
}

#[test]
fn id_aa64pfr0_gic_field_is_one_only_with_a_gic() {
    let without = Snippet::of(&[mrs(3, ID_AA64PFR0_EL1)]).ok().x(3);
    let with = Snippet::of(&[mrs(3, ID_AA64PFR0_EL1)]).gic(INTID).ok().x(3);
    assert_eq!((without >> 24 & 0xf, with >> 24 & 0xf, with & !(0xf << 24)), (0, 1, without));
}

#[test]
fn icc_registers_disassemble_by_name() {
    use mimic_exec::Guest;
    let insn = mimic_arch_aarch64::A64Insn::decode(mrs(0, ICC_IAR1_EL1));
    assert_eq!(<Aarch64Cpu as Guest>::disasm(&insn), "mrs x0, ICC_IAR1_EL1");
}
