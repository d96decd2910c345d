//! EL2 on every tier: HVC and ERET between EL1 and EL2, interrupt routing by HCR_EL2, the traps
//! EL2 sets on EL1 (TWI, TVM, TSC), the EL2 stage-1 regime through TTBR0_EL2, what EL1 sees of
//! VPIDR/VMPIDR/CNTVOFF, and the illegal returns EL2 adds.
//!
//! Every snippet's CPU has EL2 (`has_el2`) with VBAR_EL2 at the same vector table as VBAR_EL1,
//! so `Final::sys.el` tells which EL took an exception and `Final::sys.el2` holds its syndrome.

mod common;

use common::*;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::el2::hcr;
use mimic_arch_aarch64::sysreg::key;
use mimic_arch_aarch64::{Aarch64Cpu, Fault};

const HCR_EL2: u32 = key(3, 4, 1, 1, 0);
const SPSR_EL2: u32 = key(3, 4, 4, 0, 0);
const ELR_EL2: u32 = key(3, 4, 4, 0, 1);
const VPIDR_EL2: u32 = key(3, 4, 0, 0, 0);
const SCTLR_EL1: u32 = key(3, 0, 1, 0, 0);
const MIDR_EL1: u32 = key(3, 0, 0, 0, 0);
const CNTVCT_EL0: u32 = key(3, 3, 14, 0, 2);
const CURRENT_EL: u32 = key(3, 0, 4, 2, 2);

const EC_WFX: u64 = 0x01;
const EC_ILLEGAL: u64 = 0x0e;
const EC_HVC: u64 = 0x16;
const EC_SMC: u64 = 0x17;
const EC_SYS: u64 = 0x18;
const EC_DABT_SAME: u64 = 0x25;
/// ESR.IL: a 32-bit instruction.
const IL: u64 = 1 << 25;

const DAIF_ALL: u64 = 0x3c0;
const EL1H: u64 = 0b0101;
const EL2H: u64 = 0b1001;

/// Where the EL2 stage-1 test puts its level-1 table.
const EL2_TABLE: u64 = RAM_BASE + 0x2_0000;
/// A VA the EL2 table maps onto RAM (and nothing maps at EL1).
const HIGH_ALIAS: u64 = 0x8000_0000;

/// EL2 exists; the snippet starts at EL1 as a kernel does once it left EL2.
fn with_el2(cpu: &mut Aarch64Cpu) {
    cpu.has_el2 = true;
    cpu.el2.vbar = VECTORS;
}

/// EL2 exists and the snippet starts there (EL2h, DAIF masked).
fn at_el2(cpu: &mut Aarch64Cpu) {
    with_el2(cpu);
    cpu.set_el_sp(2, true);
    cpu.mmu_changed();
}

#[test]
fn hvc_from_el1_enters_el2_with_elr_spsr_and_esr() {
    let f = Snippet::of(&[enc::movz(1, 5, 0), enc::hvc(0x42)]).setup(with_el2).run();
    assert_eq!(f.taken, Some((Fault::Hvc { imm: 0x42 }, CODE + 4)));
    assert_eq!((f.sys.el, f.vector()), (2, Some(vec::SYNC_LOWER)));
    assert_eq!(f.sys.el2.esr, EC_HVC << 26 | IL | 0x42);
    assert_eq!(f.sys.el2.elr, CODE + 8, "the preferred return address is after the HVC");
    assert_eq!(f.sys.el2.spsr, DAIF_ALL | EL1H);
    assert_eq!(f.sys.esr, 0, "EL1's syndrome is untouched");
}

#[test]
fn el2_registers_are_undefined_at_el1() {
    let f = Snippet::of(&[msr(HCR_EL2, 1)]).x(1, hcr::IMO).setup(with_el2).run();
    assert!(matches!(f.taken, Some((Fault::Undefined { .. }, CODE))), "{:?}", f.taken);
    assert_eq!(f.sys.el, 1, "taken at EL1");
}

#[test]
fn hvc_without_el2_is_undefined_at_el1() {
    let f = Snippet::of(&[enc::hvc(1)]).run();
    assert!(matches!(f.taken, Some((Fault::Undefined { .. }, _))), "{:?}", f.taken);
    assert_eq!(f.sys.el, 1);
}

#[test]
fn eret_from_el2_returns_to_el1_at_elr() {
    let mut code = mov64(10, DAIF_ALL | EL1H);
    code.push(msr(SPSR_EL2, 10));
    let after = code.len() + mov64(10, CODE).len() + 2;
    code.extend(mov64(10, CODE + 4 * after as u64));
    code.push(msr(ELR_EL2, 10));
    code.push(enc::eret());
    code.push(mrs(1, CURRENT_EL));
    let f = Snippet::of(&code).setup(at_el2).ok();
    assert_eq!(f.sys.el, 1);
    assert_eq!(f.x(1), 1 << 2, "CurrentEL reads EL1 after the return");
}

#[test]
fn thread_pointers_written_at_el2_are_what_el1_reads_and_back() {
    // At EL2 MRS/MSR of the thread pointers go through the system-register helper; at EL1 they
    // are moves of the register file: both must reach the same registers.
    let (tpidr_el0, tpidr_el1) = (key(3, 3, 13, 0, 2), key(3, 0, 13, 0, 4));
    let mut code = mov64(10, DAIF_ALL | EL1H);
    code.push(msr(SPSR_EL2, 10));
    code.extend(mov64(5, 0x1111_2222_3333_4444));
    code.extend(mov64(6, 0x5555_6666_7777_8888));
    code.push(msr(tpidr_el0, 5));
    code.push(msr(tpidr_el1, 6));
    let after = code.len() + mov64(10, CODE).len() + 2;
    code.extend(mov64(10, CODE + 4 * after as u64));
    code.push(msr(ELR_EL2, 10));
    code.push(enc::eret());
    code.extend([mrs(1, tpidr_el0), mrs(2, tpidr_el1), msr(tpidr_el0, 2), msr(tpidr_el1, 1), enc::hvc(0)]);
    let f = Snippet::of(&code).setup(at_el2).vector(vec::SYNC_LOWER, &[mrs(3, tpidr_el0), mrs(4, tpidr_el1)]).run();
    assert_eq!((f.sys.el, f.vector()), (2, Some(vec::SYNC_LOWER)), "the HVC returned to EL2");
    assert_eq!((f.x(1), f.x(2)), (0x1111_2222_3333_4444, 0x5555_6666_7777_8888), "read at EL1");
    assert_eq!((f.x(3), f.x(4)), (0x5555_6666_7777_8888, 0x1111_2222_3333_4444), "read back at EL2");
}

#[test]
fn irq_routed_by_imo_is_taken_to_el2_even_with_pstate_i_set_at_el1() {
    let f = Snippet::of(&[enc::movz(1, 1, 0)])
        .setup(|c| {
            with_el2(c);
            c.el2.hcr |= hcr::IMO;
        })
        .irq(1)
        .vector(vec::IRQ_LOWER, &ack_irq())
        .run();
    assert_eq!((f.sys.el, f.vector()), (2, Some(vec::IRQ_LOWER)));
    assert_eq!(f.sys.el2.spsr & 0x3cf, DAIF_ALL | EL1H);
}

#[test]
fn irq_not_routed_to_el2_stays_pending_while_el2_runs() {
    // Routed to EL1 (IMO clear), the interrupt is not taken at EL2, whatever PSTATE.I says;
    // the snippet lowers the line itself before its end.
    let mut code = vec![enc::msr_imm(3, 2, 7), enc::movz(1, 1, 0)];
    code.extend(ack_irq());
    let f = Snippet::of(&code).setup(at_el2).irq(1).run();
    assert_eq!(f.taken, None);
    assert_eq!((f.sys.el, f.x(1), f.vector()), (2, 1, None));
}

#[test]
fn virtual_irq_from_hcr_vi_is_taken_at_el1_when_unmasked() {
    // The EL1 handler calls EL2 (a pending virtual interrupt would end every WFI at EL1).
    let f = Snippet::of(&[enc::msr_imm(3, 2, 7), enc::movz(1, 1, 0)])
        .setup(|c| {
            with_el2(c);
            c.el2.hcr |= hcr::IMO | hcr::VI;
        })
        .vector(vec::IRQ_SPX, &[enc::hvc(1)])
        .run();
    assert_eq!(f.sys.elr, CODE + 4, "taken at EL1 right after DAIFClr");
    assert_eq!(f.x(1), 0);
    assert_eq!(f.sys.el2.elr, VECTORS + vec::IRQ_SPX + 4, "then EL1's IRQ vector made the HVC");
}

#[test]
fn wfi_trapped_by_twi_reports_ec_wfx_to_el2() {
    let f = Snippet::of(&[enc::wfi()])
        .setup(|c| {
            with_el2(c);
            c.el2.hcr |= hcr::TWI;
        })
        .run();
    assert_eq!(f.taken, Some((Fault::WfxTrap { wfe: false }, CODE)));
    assert_eq!((f.sys.el, f.vector()), (2, Some(vec::SYNC_LOWER)));
    // CV = 1, COND = AL, TI = 0 (WFI).
    assert_eq!(f.sys.el2.esr, EC_WFX << 26 | IL | 1 << 24 | 0xe << 20);
    assert_eq!(f.sys.el2.elr, CODE, "the WFI itself is returned to");
}

#[test]
fn sctlr_el1_write_trapped_by_tvm_goes_to_el2_and_leaves_the_register() {
    let f = Snippet::of(&[msr(SCTLR_EL1, 3)])
        .x(3, 0x30d5_0839)
        .setup(|c| {
            with_el2(c);
            c.el2.hcr |= hcr::TVM;
        })
        .run();
    assert_eq!((f.sys.el, f.sys.el2.esr >> 26), (2, EC_SYS));
    // Op0 3, Op2 0, Op1 0, CRn 1, Rt 3, CRm 0, write.
    assert_eq!(f.sys.el2.esr & 0x1ff_ffff, 3 << 20 | 1 << 10 | 3 << 5);
}

#[test]
fn smc_trapped_by_tsc_goes_to_el2_with_its_immediate() {
    let f = Snippet::of(&[enc::smc(7)])
        .setup(|c| {
            with_el2(c);
            c.el2.hcr |= hcr::TSC;
        })
        .run();
    assert_eq!((f.sys.el, f.sys.el2.esr), (2, EC_SMC << 26 | IL | 7));
    assert_eq!(f.sys.el2.elr, CODE, "a trapped SMC returns to itself");
}

#[test]
fn midr_at_el1_reads_vpidr_el2() {
    let mut code = mov64(2, 0x4100_0000);
    code.push(msr(VPIDR_EL2, 2));
    let mut after = mov64(10, DAIF_ALL | EL1H);
    after.push(msr(SPSR_EL2, 10));
    let n = code.len() + after.len() + mov64(10, CODE).len() + 2;
    code.extend(after);
    code.extend(mov64(10, CODE + 4 * n as u64));
    code.push(msr(ELR_EL2, 10));
    code.push(enc::eret());
    code.push(mrs(1, MIDR_EL1));
    let f = Snippet::of(&code).setup(at_el2).ok();
    assert_eq!((f.sys.el, f.x(1)), (1, 0x4100_0000));
}

#[test]
fn cntvct_is_the_counter_minus_cntvoff_el2() {
    let f = Snippet::of(&[mrs(1, CNTVCT_EL0)])
        .time(10_000)
        .setup(|c| {
            with_el2(c);
            c.el2.cntvoff = 1_234;
        })
        .ok();
    assert_eq!(f.x(1), 10_000 - 1_234);
}

#[test]
fn eret_to_el1_from_el2_while_tge_is_set_is_an_illegal_return() {
    let mut code = mov64(10, DAIF_ALL | EL1H);
    code.push(msr(SPSR_EL2, 10));
    let n = code.len() + mov64(10, CODE).len() + 2;
    code.extend(mov64(10, CODE + 4 * n as u64));
    code.push(msr(ELR_EL2, 10));
    code.push(enc::eret());
    code.push(enc::movz(3, 1, 0));
    let f = Snippet::of(&code)
        .setup(|c| {
            at_el2(c);
            c.el2.hcr |= hcr::TGE;
        })
        .run();
    assert_eq!(f.taken, Some((Fault::IllegalState, CODE + 4 * n as u64)));
    assert_eq!((f.sys.el, f.sys.el2.esr >> 26), (2, EC_ILLEGAL));
    assert_eq!(f.x(3), 0);
}

#[test]
fn eret_to_el2_from_el1_is_illegal_even_with_el2() {
    // A return may not go up: EL1 to EL2h.
    let code = [msr(key(3, 0, 4, 0, 0), 10), msr(key(3, 0, 4, 0, 1), 11), enc::eret(), enc::movz(3, 1, 0)];
    let f = Snippet::of(&code).x(10, DAIF_ALL | EL2H).x(11, CODE + 12).setup(with_el2).run();
    assert_eq!(f.taken, Some((Fault::IllegalState, CODE + 12)));
    assert_eq!((f.sys.el, f.x(3)), (1, 0));
}

/// EL2 stage 1 on: 4K granule, 39-bit VAs (T0SZ 25, walk from level 1), PS 40 bits; RAM's
/// gigabyte identity mapped (the code) and again at [`HIGH_ALIAS`], Normal memory.
fn el2_mmu_on(cpu: &mut Aarch64Cpu) {
    at_el2(cpu);
    cpu.mmu_regs.tcr_el2 = 25 | 2 << 16 | 1 << 31 | 1 << 23;
    cpu.mmu_regs.ttbr0_el2 = EL2_TABLE;
    cpu.mmu_regs.mair_el2 = 0xff;
    cpu.mmu_regs.sctlr_el2 |= 1;
    cpu.mmu_changed();
}

fn el2_table() -> Vec<u8> {
    let block = |pa: u64| pa | 1 << 10 | 3 << 8 | 1;
    let mut t = vec![0u8; 8 * 4];
    t[8..16].copy_from_slice(&block(RAM_BASE).to_le_bytes());
    t[16..24].copy_from_slice(&block(RAM_BASE).to_le_bytes());
    t
}

#[test]
fn el2_stage1_translates_through_ttbr0_el2() {
    let f = Snippet::of(&[enc::ldst_uimm(3, 1, 1, 0, 0)])
        .x(0, HIGH_ALIAS + (DATA - RAM_BASE))
        .mem(EL2_TABLE, &el2_table())
        .mem64(DATA, 0x1122_3344_5566_7788)
        .setup(el2_mmu_on)
        .ok();
    assert_eq!(f.x(1), 0x1122_3344_5566_7788);
}

#[test]
fn el2_stage1_fault_reports_the_va_in_far_el2() {
    // Level-1 entry 3 is invalid: a level-1 translation fault.
    let va = 0xc000_0040;
    let f = Snippet::of(&[enc::ldst_uimm(3, 1, 1, 0, 0)]).x(0, va).mem(EL2_TABLE, &el2_table()).setup(el2_mmu_on).run();
    assert_eq!((f.sys.el, f.vector()), (2, Some(vec::SYNC_SPX)));
    assert_eq!(f.sys.el2.esr, EC_DABT_SAME << 26 | IL | 0x05);
    assert_eq!(f.sys.el2.far, va);
}

#[test]
fn el2_translations_do_not_serve_el1() {
    // EL2 loads through HIGH_ALIAS, then returns to EL1, whose MMU is off: the same VA is no
    // memory there, so the load faults at EL1 instead of hitting EL2's TLB entry.
    let mut code = vec![enc::ldst_uimm(3, 1, 1, 0, 0)];
    code.extend(mov64(10, DAIF_ALL | EL1H));
    code.push(msr(SPSR_EL2, 10));
    let n = code.len() + mov64(10, CODE).len() + 2;
    code.extend(mov64(10, CODE + 4 * n as u64));
    code.push(msr(ELR_EL2, 10));
    code.push(enc::eret());
    code.push(enc::ldst_uimm(3, 1, 2, 0, 0));
    let va = HIGH_ALIAS + (DATA - RAM_BASE);
    let f = Snippet::of(&code)
        .x(0, va)
        .mem(EL2_TABLE, &el2_table())
        .mem64(DATA, 99)
        .setup(|c| {
            el2_mmu_on(c);
            // EL1 runs from the identity mapped code with its MMU off.
        })
        .run();
    assert_eq!(f.x(1), 99, "EL2 read through its mapping");
    assert_eq!((f.sys.el, f.sys.esr >> 26), (1, EC_DABT_SAME));
    assert_eq!(f.sys.far, va);
    assert_eq!(f.x(2), 0);
}
