//! EL3 on every tier: SMC and ERET between the lower ELs and EL3 in either Security state,
//! interrupt routing by SCR_EL3, the controls that make SMC and HVC UNDEFINED, EL3's traps
//! (TWI, CPTR_EL3.TFP), the EL3 stage-1 regime through TTBR0_EL3, the illegal returns EL3 adds,
//! and secure-only memory as Non-secure accesses (and NS descriptors) see it.
//!
//! Every snippet's CPU has EL3 (`has_el3`) with VBAR_EL3 at the same vector table as VBAR_EL1,
//! so `Final::sys.el` tells which EL took an exception and `Final::sys.el3` holds its syndrome.

mod common;

use common::*;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::el3::scr;
use mimic_arch_aarch64::sysreg::key;
use mimic_arch_aarch64::{Aarch64Cpu, Fault};
use mimic_core::AddrRange;

const SCR_EL3: u32 = key(3, 6, 1, 1, 0);
const SPSR_EL3: u32 = key(3, 6, 4, 0, 0);
const ELR_EL3: u32 = key(3, 6, 4, 0, 1);
const ESR_EL3: u32 = key(3, 6, 5, 2, 0);
const CURRENT_EL: u32 = key(3, 0, 4, 2, 2);
const ID_AA64PFR0_EL1: u32 = key(3, 0, 0, 4, 0);
const FPCR: u32 = key(3, 3, 4, 4, 0);

const EC_UNKNOWN: u64 = 0x00;
const EC_WFX: u64 = 0x01;
const EC_FP: u64 = 0x07;
const EC_ILLEGAL: u64 = 0x0e;
const EC_HVC: u64 = 0x16;
const EC_SMC: u64 = 0x17;
const EC_DABT_SAME: u64 = 0x25;
/// ESR.IL: a 32-bit instruction.
const IL: u64 = 1 << 25;
/// DFSC: synchronous external abort.
const EXTERNAL: u64 = 0x10;

const DAIF_ALL: u64 = 0x3c0;
const EL1H: u64 = 0b0101;
const EL2H: u64 = 0b1001;
/// AArch32 User mode (M[4] set).
const AARCH32_USR: u64 = 0b1_0000;

/// SCR_EL3 of a Non-secure world below EL3: NS, RW and the RES1 bits.
const SCR_NS: u64 = scr::NS | scr::RW | scr::RES1;

/// Where the EL3 stage-1 test puts its level-1 table.
const EL3_TABLE: u64 = RAM_BASE + 0x2_0000;
/// A VA the EL3 table maps onto RAM (and nothing maps at EL1).
const HIGH_ALIAS: u64 = 0x8000_0000;

/// EL3 exists and the snippet runs in Non-secure EL1, as a kernel does.
fn with_el3(cpu: &mut Aarch64Cpu) {
    cpu.has_el3 = true;
    cpu.el3.vbar = VECTORS;
    cpu.el3.scr = SCR_NS;
    cpu.mmu_changed();
}

/// EL3 exists and the snippet starts there (EL3h, Secure, DAIF masked), as firmware does.
fn at_el3(cpu: &mut Aarch64Cpu) {
    cpu.has_el3 = true;
    cpu.el3.vbar = VECTORS;
    cpu.set_el_sp(3, true);
    cpu.mmu_changed();
}

/// Code that sets SCR_EL3 to `scr`, SPSR_EL3 to `spsr` and ELR_EL3 to the instruction after
/// its ERET, then returns; `then` follows.
fn eret_from_el3(scr: u64, spsr: u64, then: &[u32]) -> Vec<u32> {
    eret_from_el3_after(&[], scr, spsr, then)
}

/// [`eret_from_el3`] after the instructions `first`.
fn eret_from_el3_after(first: &[u32], scr: u64, spsr: u64, then: &[u32]) -> Vec<u32> {
    let mut code = first.to_vec();
    code.extend(mov64(10, scr));
    code.push(msr(SCR_EL3, 10));
    code.extend(mov64(10, spsr));
    code.push(msr(SPSR_EL3, 10));
    // Four words load the address whatever it is; then MSR and ERET.
    let after = CODE + 4 * (code.len() + 4 + 2) as u64;
    code.push(enc::movz(10, (after & 0xffff) as u32, 0));
    code.extend((1..4).map(|hw| enc::movk(10, (after >> (16 * hw) & 0xffff) as u32, hw)));
    code.push(msr(ELR_EL3, 10));
    code.push(enc::eret());
    code.extend_from_slice(then);
    code
}

#[test]
fn smc_from_el1_enters_el3_with_elr_spsr_and_esr() {
    let f = Snippet::of(&[enc::movz(1, 5, 0), enc::smc(0x33)]).setup(with_el3).run();
    assert_eq!(f.taken, Some((Fault::Smc { imm: 0x33 }, CODE + 4)));
    assert_eq!((f.sys.el, f.vector()), (3, Some(vec::SYNC_LOWER)));
    assert_eq!(f.sys.el3.esr, EC_SMC << 26 | IL | 0x33);
    assert_eq!(f.sys.el3.elr, CODE + 8, "the preferred return address is after the SMC");
    assert_eq!(f.sys.el3.spsr, DAIF_ALL | EL1H);
    assert_eq!(f.sys.esr, 0, "EL1's syndrome is untouched");
}

#[test]
fn smc_handled_at_el3_returns_to_non_secure_el1_after_the_smc() {
    // EL3's handler reads its syndrome and returns; EL1 goes on after the SMC.
    let f = Snippet::of(&[enc::smc(9), enc::movz(3, 1, 0), mrs(4, CURRENT_EL)])
        .setup(with_el3)
        .vector(vec::SYNC_LOWER, &[mrs(2, ESR_EL3), enc::eret()])
        .run();
    assert_eq!(f.pc, f.end + 4, "the snippet ran to its end");
    assert_eq!(f.x(2), EC_SMC << 26 | IL | 9);
    assert_eq!((f.x(3), f.x(4), f.sys.el), (1, 1 << 2, 1));
    assert_eq!(f.sys.el3.scr & scr::NS, scr::NS, "still Non-secure");
}

#[test]
fn eret_from_el3_with_ns_set_enters_non_secure_el1() {
    let code = eret_from_el3(SCR_NS, DAIF_ALL | EL1H, &[mrs(1, CURRENT_EL)]);
    let f = Snippet::of(&code).setup(at_el3).ok();
    assert_eq!((f.sys.el, f.x(1)), (1, 1 << 2));
    assert_eq!(f.sys.el3.scr & scr::NS, scr::NS);
}

#[test]
fn eret_from_el3_to_el2_with_ns_set_enters_el2() {
    let code = eret_from_el3(SCR_NS | scr::HCE, DAIF_ALL | EL2H, &[mrs(1, CURRENT_EL)]);
    let f = Snippet::of(&code)
        .setup(|c| {
            at_el3(c);
            c.has_el2 = true;
        })
        .ok();
    assert_eq!((f.sys.el, f.x(1)), (2, 2 << 2));
}

#[test]
fn eret_to_el2_in_secure_state_is_an_illegal_return() {
    // NS = 0: there is no Secure EL2, so the return keeps EL3 and sets PSTATE.IL.
    let code = eret_from_el3(scr::RW | scr::RES1, DAIF_ALL | EL2H, &[enc::movz(3, 1, 0)]);
    let n = code.len() as u64 - 1;
    let f = Snippet::of(&code)
        .setup(|c| {
            at_el3(c);
            c.has_el2 = true;
        })
        .run();
    assert_eq!(f.taken, Some((Fault::IllegalState, CODE + 4 * n)));
    assert_eq!((f.sys.el, f.vector(), f.sys.el3.esr >> 26), (3, Some(vec::SYNC_SPX), EC_ILLEGAL));
    assert_eq!(f.x(3), 0);
}

#[test]
fn eret_to_el2_without_el2_is_an_illegal_return() {
    let code = eret_from_el3(SCR_NS, DAIF_ALL | EL2H, &[enc::movz(3, 1, 0)]);
    let n = code.len() as u64 - 1;
    let f = Snippet::of(&code).setup(at_el3).run();
    assert_eq!(f.taken, Some((Fault::IllegalState, CODE + 4 * n)));
    assert_eq!((f.sys.el, f.sys.el3.esr >> 26), (3, EC_ILLEGAL));
}

#[test]
fn eret_to_aarch32_from_el3_is_an_illegal_return() {
    let code = eret_from_el3(SCR_NS, AARCH32_USR, &[enc::movz(3, 1, 0)]);
    let n = code.len() as u64 - 1;
    let f = Snippet::of(&code).setup(at_el3).run();
    assert_eq!(f.taken, Some((Fault::IllegalState, CODE + 4 * n)));
    assert_eq!((f.sys.el, f.x(3)), (3, 0));
}

#[test]
fn eret_to_el3_from_el1_is_illegal_even_with_el3() {
    let code = [msr(key(3, 0, 4, 0, 0), 10), msr(key(3, 0, 4, 0, 1), 11), enc::eret(), enc::movz(3, 1, 0)];
    let f = Snippet::of(&code).x(10, DAIF_ALL | 0b1101).x(11, CODE + 12).setup(with_el3).run();
    assert_eq!(f.taken, Some((Fault::IllegalState, CODE + 12)));
    assert_eq!((f.sys.el, f.x(3)), (1, 0), "taken at EL1, which the return never left");
}

#[test]
fn irq_routed_by_scr_irq_is_taken_to_el3_even_with_pstate_i_set_at_el1() {
    let f = Snippet::of(&[enc::movz(1, 1, 0)])
        .setup(|c| {
            with_el3(c);
            c.el3.scr |= scr::IRQ;
        })
        .irq(1)
        .vector(vec::IRQ_LOWER, &ack_irq())
        .run();
    assert_eq!((f.sys.el, f.vector()), (3, Some(vec::IRQ_LOWER)));
    assert_eq!(f.sys.el3.spsr & 0x3cf, DAIF_ALL | EL1H);
    assert_eq!(f.sys.el3.elr, CODE, "taken before the first instruction");
}

#[test]
fn irq_routed_to_el3_is_masked_by_pstate_i_at_el3() {
    let mut code = vec![enc::movz(1, 1, 0)];
    code.extend(ack_irq());
    let f = Snippet::of(&code)
        .setup(|c| {
            at_el3(c);
            c.el3.scr |= scr::IRQ;
        })
        .irq(1)
        .run();
    assert_eq!((f.taken, f.sys.el, f.x(1), f.vector()), (None, 3, 1, None));
}

#[test]
fn irq_not_routed_to_el3_stays_pending_while_el3_runs() {
    // Unmasked at EL3, but routed to EL1: not taken there.
    let mut code = vec![enc::msr_imm(3, 2, 7), enc::movz(1, 1, 0)];
    code.extend(ack_irq());
    let f = Snippet::of(&code).setup(at_el3).irq(1).run();
    assert_eq!(f.taken, None);
    assert_eq!((f.sys.el, f.x(1), f.vector()), (3, 1, None));
}

#[test]
fn smc_with_scr_smd_set_is_undefined_at_el1() {
    let f = Snippet::of(&[enc::smc(1)])
        .setup(|c| {
            with_el3(c);
            c.el3.scr |= scr::SMD;
        })
        .run();
    assert!(matches!(f.taken, Some((Fault::Undefined { .. }, CODE))), "{:?}", f.taken);
    assert_eq!((f.sys.el, f.ec()), (1, EC_UNKNOWN));
}

#[test]
fn hvc_with_scr_hce_clear_is_undefined_even_with_el2() {
    let f = Snippet::of(&[enc::hvc(1)])
        .setup(|c| {
            with_el3(c);
            c.has_el2 = true;
        })
        .run();
    assert!(matches!(f.taken, Some((Fault::Undefined { .. }, CODE))), "{:?}", f.taken);
    assert_eq!(f.sys.el, 1);
}

#[test]
fn hvc_with_scr_hce_set_goes_to_el2() {
    let f = Snippet::of(&[enc::hvc(4)])
        .setup(|c| {
            with_el3(c);
            c.has_el2 = true;
            c.el2.vbar = VECTORS;
            c.el3.scr |= scr::HCE;
        })
        .run();
    assert_eq!(f.taken, Some((Fault::Hvc { imm: 4 }, CODE)));
    assert_eq!((f.sys.el, f.sys.el2.esr), (2, EC_HVC << 26 | IL | 4));
}

#[test]
fn hvc_in_secure_el1_is_undefined() {
    // NS = 0: no Secure EL2 to take it, whatever HCE says.
    let f = Snippet::of(&[enc::hvc(1)])
        .setup(|c| {
            with_el3(c);
            c.has_el2 = true;
            c.el3.scr = scr::HCE | scr::RW | scr::RES1;
        })
        .run();
    assert!(matches!(f.taken, Some((Fault::Undefined { .. }, CODE))), "{:?}", f.taken);
    assert_eq!(f.sys.el, 1);
}

#[test]
fn wfi_trapped_by_scr_twi_goes_to_el3_and_returns_to_itself() {
    let f = Snippet::of(&[enc::wfi()])
        .setup(|c| {
            with_el3(c);
            c.el3.scr |= scr::TWI;
        })
        .run();
    assert_eq!(f.taken, Some((Fault::WfxTrap { wfe: false }, CODE)));
    assert_eq!((f.sys.el, f.vector()), (3, Some(vec::SYNC_LOWER)));
    assert_eq!(f.sys.el3.esr, EC_WFX << 26 | IL | 1 << 24 | 0xe << 20);
    assert_eq!(f.sys.el3.elr, CODE);
}

#[test]
fn fp_access_trapped_by_cptr_el3_goes_to_el3() {
    let f = Snippet::of(&[mrs(1, FPCR)])
        .setup(|c| {
            with_el3(c);
            c.el3.cptr = mimic_arch_aarch64::el3::cptr::TFP;
        })
        .run();
    assert_eq!(f.taken, Some((Fault::FpAccess, CODE)));
    assert_eq!((f.sys.el, f.sys.el3.esr >> 26), (3, EC_FP));
}

#[test]
fn el3_registers_are_undefined_at_el1() {
    let f = Snippet::of(&[msr(SCR_EL3, 1)]).x(1, scr::IRQ).setup(with_el3).run();
    assert!(matches!(f.taken, Some((Fault::Undefined { .. }, CODE))), "{:?}", f.taken);
    assert_eq!((f.sys.el, f.sys.el3.scr), (1, SCR_NS));
}

#[test]
fn id_aa64pfr0_reports_el3_only_with_el3() {
    let with = Snippet::of(&[mrs(1, ID_AA64PFR0_EL1)]).setup(with_el3).ok();
    let without = Snippet::of(&[mrs(1, ID_AA64PFR0_EL1)]).ok();
    assert_eq!((with.x(1) >> 12 & 0xf, without.x(1) >> 12 & 0xf), (1, 0));
}

/// EL3 stage 1 on: 4K granule, 39-bit VAs (T0SZ 25, walk from level 1), PS 40 bits; RAM's
/// gigabyte identity mapped (the code) and again at [`HIGH_ALIAS`] with the NS bit `alias_ns`,
/// Normal memory.
fn el3_mmu_on(cpu: &mut Aarch64Cpu) {
    at_el3(cpu);
    cpu.mmu_regs.tcr_el3 = 25 | 2 << 16 | 1 << 31 | 1 << 23;
    cpu.mmu_regs.ttbr0_el3 = EL3_TABLE;
    cpu.mmu_regs.mair_el3 = 0xff;
    cpu.mmu_regs.sctlr_el3 |= 1;
    cpu.mmu_changed();
}

fn el3_table(alias_ns: bool) -> Vec<u8> {
    let block = |pa: u64, ns: bool| pa | 1 << 10 | 3 << 8 | u64::from(ns) << 5 | 1;
    let mut t = vec![0u8; 8 * 4];
    t[8..16].copy_from_slice(&block(RAM_BASE, false).to_le_bytes());
    t[16..24].copy_from_slice(&block(RAM_BASE, alias_ns).to_le_bytes());
    t
}

#[test]
fn el3_stage1_translates_through_ttbr0_el3() {
    let f = Snippet::of(&[enc::ldst_uimm(3, 1, 1, 0, 0)])
        .x(0, HIGH_ALIAS + (DATA - RAM_BASE))
        .mem(EL3_TABLE, &el3_table(false))
        .mem64(DATA, 0x1122_3344_5566_7788)
        .setup(el3_mmu_on)
        .ok();
    assert_eq!(f.x(1), 0x1122_3344_5566_7788);
}

#[test]
fn el3_stage1_fault_reports_the_va_in_far_el3() {
    let va = 0xc000_0040;
    let f = Snippet::of(&[enc::ldst_uimm(3, 1, 1, 0, 0)])
        .x(0, va)
        .mem(EL3_TABLE, &el3_table(false))
        .setup(el3_mmu_on)
        .run();
    assert_eq!((f.sys.el, f.vector()), (3, Some(vec::SYNC_SPX)));
    assert_eq!(f.sys.el3.esr, EC_DABT_SAME << 26 | IL | 0x05);
    assert_eq!(f.sys.el3.far, va);
}

#[test]
fn el3_translations_do_not_serve_el1() {
    // EL3 loads through HIGH_ALIAS, then returns to EL1, whose MMU is off: the same VA is no
    // memory there, so the load faults at EL1 instead of hitting EL3's TLB entry.
    let va = HIGH_ALIAS + (DATA - RAM_BASE);
    let code = eret_from_el3_after(
        &[enc::ldst_uimm(3, 1, 1, 0, 0)],
        SCR_NS,
        DAIF_ALL | EL1H,
        &[enc::ldst_uimm(3, 1, 2, 0, 0)],
    );
    let f = Snippet::of(&code).x(0, va).mem(EL3_TABLE, &el3_table(false)).mem64(DATA, 99).setup(el3_mmu_on).run();
    assert_eq!(f.x(1), 99, "EL3 read through its mapping");
    assert_eq!((f.sys.el, f.sys.esr >> 26), (1, EC_DABT_SAME));
    assert_eq!(f.sys.far, va);
    assert_eq!(f.x(2), 0);
}

/// DATA's page is secure-only memory.
fn data_secure_only(cpu: &mut Aarch64Cpu) {
    cpu.secure_only = vec![AddrRange::new(DATA, 0x1000)];
}

#[test]
fn non_secure_el1_load_from_secure_only_memory_is_an_external_abort() {
    let f = Snippet::of(&[enc::ldst_uimm(3, 1, 1, 0, 0)])
        .x(0, DATA)
        .mem64(DATA, 0x5ec)
        .setup(|c| {
            with_el3(c);
            data_secure_only(c);
        })
        .run();
    assert_eq!((f.sys.el, f.sys.esr), (1, EC_DABT_SAME << 26 | IL | EXTERNAL));
    assert_eq!((f.sys.far, f.x(1)), (DATA, 0), "the secret was not read");
}

#[test]
fn non_secure_el1_store_to_secure_only_memory_leaves_it() {
    let f = Snippet::of(&[enc::ldst_uimm(3, 0, 1, 0, 0)])
        .x(0, DATA)
        .x(1, 0xbad)
        .mem64(DATA, 0x5ec)
        .setup(|c| {
            with_el3(c);
            data_secure_only(c);
        })
        .run();
    assert_eq!(f.sys.esr, EC_DABT_SAME << 26 | IL | 1 << 6 | EXTERNAL);
    assert_eq!(f.mem(DATA, 8), 0x5ec);
}

#[test]
fn secure_el1_reaches_secure_only_memory() {
    let f = Snippet::of(&[enc::ldst_uimm(3, 1, 1, 0, 0)])
        .x(0, DATA)
        .mem64(DATA, 0x5ec)
        .setup(|c| {
            with_el3(c);
            c.el3.scr = scr::RW | scr::RES1;
            data_secure_only(c);
        })
        .ok();
    assert_eq!(f.x(1), 0x5ec);
}

#[test]
fn secure_only_memory_read_at_secure_el1_is_refused_once_ns_is_set() {
    // Secure EL1 reads DATA, calls EL3, which sets SCR_EL3.NS and returns: the same load
    // from (now Non-secure) EL1 faults rather than hitting the Secure TLB entry.
    let mut handler = mov64(10, SCR_NS);
    handler.extend([msr(SCR_EL3, 10), enc::eret()]);
    let code = [enc::ldst_uimm(3, 1, 1, 0, 0), enc::smc(0), enc::ldst_uimm(3, 1, 2, 0, 0)];
    let f = Snippet::of(&code)
        .x(0, DATA)
        .mem64(DATA, 0x5ec)
        .setup(|c| {
            with_el3(c);
            c.el3.scr = scr::RW | scr::RES1;
            data_secure_only(c);
        })
        .vector(vec::SYNC_LOWER, &handler)
        .run();
    assert_eq!(f.x(1), 0x5ec, "read while Secure");
    assert_eq!((f.sys.el, f.sys.esr, f.x(2)), (1, EC_DABT_SAME << 26 | IL | EXTERNAL, 0));
}

#[test]
fn el3_access_through_an_ns_descriptor_does_not_reach_secure_only_memory() {
    let va = HIGH_ALIAS + (DATA - RAM_BASE);
    let f = Snippet::of(&[enc::ldst_uimm(3, 1, 1, 0, 0), enc::ldst_uimm(3, 1, 2, 3, 0)])
        .x(0, DATA)
        .x(3, va)
        .mem(EL3_TABLE, &el3_table(true))
        .mem64(DATA, 0x5ec)
        .setup(|c| {
            el3_mmu_on(c);
            data_secure_only(c);
        })
        .run();
    assert_eq!(f.x(1), 0x5ec, "through the Secure identity map");
    assert_eq!((f.sys.el, f.sys.el3.esr, f.sys.el3.far), (3, EC_DABT_SAME << 26 | IL | EXTERNAL, va));
    assert_eq!(f.x(2), 0);
}

#[test]
fn at_s1e3r_translates_through_the_el3_regime_into_par_el1() {
    let va = HIGH_ALIAS + (DATA - RAM_BASE);
    let f = Snippet::of(&[enc::sys(6, 7, 8, 0, 0), mrs(1, key(3, 0, 7, 4, 0))])
        .x(0, va)
        .mem(EL3_TABLE, &el3_table(false))
        .setup(el3_mmu_on)
        .ok();
    assert_eq!(f.x(1) & 1, 0, "no fault");
    assert_eq!(f.x(1) & 0xff_ffff_f000, DATA);
}

#[test]
fn tlbi_alle3_is_undefined_below_el3() {
    let f = Snippet::of(&[enc::sys(6, 8, 7, 0, 31)]).setup(with_el3).run();
    assert!(matches!(f.taken, Some((Fault::Undefined { .. }, CODE))), "{:?}", f.taken);
    assert_eq!(f.sys.el, 1);
}

#[test]
fn tlbi_alle3_drops_the_el3_translation_of_a_changed_table() {
    // EL3 reads through HIGH_ALIAS, remaps it (level-1 entry 2) to nothing, and reads again
    // after TLBI ALLE3: a translation fault rather than the stale entry.
    let va = HIGH_ALIAS + (DATA - RAM_BASE);
    let code = [
        enc::ldst_uimm(3, 1, 1, 0, 0),
        enc::ldst_uimm(3, 0, 31, 5, 2), // str xzr, [x5, #16]: clear entry 2
        enc::sys(6, 8, 7, 0, 31),
        enc::ldst_uimm(3, 1, 2, 0, 0),
    ];
    let f = Snippet::of(&code)
        .x(0, va)
        .x(5, EL3_TABLE)
        .mem(EL3_TABLE, &el3_table(false))
        .mem64(DATA, 77)
        .setup(el3_mmu_on)
        .run();
    assert_eq!(f.x(1), 77);
    assert_eq!((f.sys.el, f.sys.el3.esr, f.sys.el3.far), (3, EC_DABT_SAME << 26 | IL | 0x05, va));
    assert_eq!(f.x(2), 0);
}
