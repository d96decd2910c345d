//! The system level on every tier: exception entry and return, PSTATE, system registers and
//! their access checks, system instructions, interrupts, WFI, the generic timer and firmware
//! calls.

mod common;

use common::*;
use mimic_arch_aarch64::cpu::{flags, Conduit, CpuModel, Features};
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::sysreg::key;
use mimic_arch_aarch64::{Aarch64Cpu, Fault};
use mimic_exec::{Guest, RunOutcome};

const SCTLR_EL1: u32 = key(3, 0, 1, 0, 0);
const CPACR_EL1: u32 = key(3, 0, 1, 0, 2);
const TTBR0_EL1: u32 = key(3, 0, 2, 0, 0);
const TCR_EL1: u32 = key(3, 0, 2, 0, 2);
const MAIR_EL1: u32 = key(3, 0, 10, 2, 0);
const CONTEXTIDR_EL1: u32 = key(3, 0, 13, 0, 1);
const TPIDR_EL1: u32 = key(3, 0, 13, 0, 4);
const TPIDR_EL0: u32 = key(3, 3, 13, 0, 2);
const TPIDRRO_EL0: u32 = key(3, 3, 13, 0, 3);
const SPSR_EL1: u32 = key(3, 0, 4, 0, 0);
const ELR_EL1: u32 = key(3, 0, 4, 0, 1);
const SP_EL0: u32 = key(3, 0, 4, 1, 0);
const SPSEL: u32 = key(3, 0, 4, 2, 0);
const CURRENT_EL: u32 = key(3, 0, 4, 2, 2);
const PAN: u32 = key(3, 0, 4, 2, 3);
const NZCV: u32 = key(3, 3, 4, 2, 0);
const DAIF: u32 = key(3, 3, 4, 2, 1);
const FPCR: u32 = key(3, 3, 4, 4, 0);
const FPSR: u32 = key(3, 3, 4, 4, 1);
const MIDR_EL1: u32 = key(3, 0, 0, 0, 0);
const MPIDR_EL1: u32 = key(3, 0, 0, 0, 5);
const ID_AA64PFR0_EL1: u32 = key(3, 0, 0, 4, 0);
const ID_AA64ZFR0_EL1: u32 = key(3, 0, 0, 4, 4);
const ID_AA64DFR0_EL1: u32 = key(3, 0, 0, 5, 0);
const ID_AA64ISAR0_EL1: u32 = key(3, 0, 0, 6, 0);
const ID_AA64ISAR1_EL1: u32 = key(3, 0, 0, 6, 1);
const ID_AA64MMFR0_EL1: u32 = key(3, 0, 0, 7, 0);
const ID_AA64MMFR1_EL1: u32 = key(3, 0, 0, 7, 1);
const CTR_EL0: u32 = key(3, 3, 0, 0, 1);
const DCZID_EL0: u32 = key(3, 3, 0, 0, 7);
const ISR_EL1: u32 = key(3, 0, 12, 1, 0);
const PMCR_EL0: u32 = key(3, 3, 9, 12, 0);
const DBGBCR5_EL1: u32 = key(2, 0, 0, 5, 5);
const OSLAR_EL1: u32 = key(2, 0, 1, 0, 4);
const OSLSR_EL1: u32 = key(2, 0, 1, 1, 4);
const CNTFRQ_EL0: u32 = key(3, 3, 14, 0, 0);
const CNTPCT_EL0: u32 = key(3, 3, 14, 0, 1);
const CNTVCT_EL0: u32 = key(3, 3, 14, 0, 2);
const CNTP_CTL_EL0: u32 = key(3, 3, 14, 2, 1);
const CNTP_CVAL_EL0: u32 = key(3, 3, 14, 2, 2);
const CNTV_TVAL_EL0: u32 = key(3, 3, 14, 3, 0);
const CNTV_CTL_EL0: u32 = key(3, 3, 14, 3, 1);
const CNTV_CVAL_EL0: u32 = key(3, 3, 14, 3, 2);

const EC_UNKNOWN: u64 = 0x00;
const EC_WFX: u64 = 0x01;
const EC_FP: u64 = 0x07;
const EC_ILLEGAL: u64 = 0x0e;
const EC_SVC: u64 = 0x15;
const EC_SYS: u64 = 0x18;
const EC_DABT_SAME: u64 = 0x25;

/// PSTATE.{D,A,I,F} all set, as in SPSR.
const DAIF_ALL: u64 = 0x3c0;
const EL1H: u64 = 0b0101;
const EL0T: u64 = 0b0000;

fn daifclr(imm: u32) -> u32 {
    enc::msr_imm(3, imm, 7)
}
fn daifset(imm: u32) -> u32 {
    enc::msr_imm(3, imm, 6)
}
fn msr_spsel(imm: u32) -> u32 {
    enc::msr_imm(0, imm, 5)
}
fn msr_pan(imm: u32) -> u32 {
    enc::msr_imm(0, imm, 4)
}
fn dc_zva(rt: u32) -> u32 {
    enc::sys(3, 7, 4, 1, rt)
}
fn ic_iallu() -> u32 {
    enc::sys(0, 7, 5, 0, 31)
}

/// Code that returns with ERET to `CODE + 4 * target` in the mode `spsr`, from EL1.
fn eret_to(spsr: u64, target: usize) -> Vec<u32> {
    let mut w = mov64(10, spsr);
    w.push(msr(SPSR_EL1, 10));
    w.extend(mov64(10, CODE + 4 * target as u64));
    w.push(msr(ELR_EL1, 10));
    w.push(enc::eret());
    w
}

fn start_at_el0(cpu: &mut Aarch64Cpu) {
    cpu.set_el_sp(0, false);
    cpu.daif = 0;
}

// ---- exception entry and return ----------------------------------------------------------------

#[test]
fn svc_from_el1_vectors_to_current_spx_with_syndrome() {
    let f = Snippet::of(&[enc::movz(4, 1, 0), enc::svc(0x42), enc::movz(5, 1, 0)])
        .x(31, 0x1234_5670)
        .nzcv(nzcv::Z | nzcv::C)
        .run();
    assert_eq!(f.taken, Some((Fault::Svc { imm: 0x42 }, CODE + 4)));
    assert_eq!(f.vector(), Some(vec::SYNC_SPX));
    assert_eq!(f.sys.esr, EC_SVC << 26 | 1 << 25 | 0x42);
    assert_eq!(f.sys.elr, CODE + 8);
    assert_eq!(f.sys.spsr, 0x6 << 28 | DAIF_ALL | EL1H);
    assert_eq!((f.sys.el, f.sys.spsel, f.sys.daif), (1, true, DAIF_ALL));
    assert_eq!(f.sp(), 0x1234_5670, "SP_EL1 stays the stack");
    assert_eq!((f.x(4), f.x(5)), (1, 0));
}

#[test]
fn svc_with_sp_el0_selected_uses_the_sp0_vectors() {
    let f = Snippet::of(&[msr_spsel(0), enc::svc(1)]).run();
    assert_eq!(f.vector(), Some(vec::SYNC_SP0));
    assert_eq!(f.sys.spsr, DAIF_ALL | 0b0100, "EL1t");
    assert!(f.sys.spsel, "entry selects SP_EL1");
}

#[test]
fn svc_from_el0_vectors_to_lower_el_and_switches_stack() {
    let f = Snippet::of(&[enc::movz(4, 1, 0), enc::svc(7)])
        .setup(|c| {
            start_at_el0(c);
            c.sp_el[1] = 0x4000_f000;
            c.regs[31] = 0x4000_e000;
        })
        .run();
    assert_eq!(f.vector(), Some(vec::SYNC_LOWER));
    assert_eq!(f.sys.esr, EC_SVC << 26 | 1 << 25 | 7);
    assert_eq!(f.sys.elr, CODE + 8);
    assert_eq!(f.sys.spsr, EL0T);
    assert_eq!((f.sys.el, f.sys.spsel), (1, true));
    assert_eq!((f.sp(), f.sys.sp_el0, f.sys.sp_el1), (0x4000_f000, 0x4000_e000, 0x4000_f000));
}

#[test]
fn eret_to_el0_drops_to_sp_el0_and_restores_flags_and_masks() {
    let mut code = vec![enc::movz(11, 0x77, 0), msr(SP_EL0, 11)];
    let target = code.len() + eret_to(0x8 << 28 | EL0T, 0).len();
    code.extend(eret_to(0x8 << 28 | EL0T, target));
    code.push(mrs(3, NZCV));
    let f = Snippet::of(&code).ok();
    assert_eq!((f.sys.el, f.sys.spsel, f.sys.daif), (0, false, 0));
    assert_eq!(f.sp(), 0x77);
    assert_eq!(f.nzcv, nzcv::N);
    assert_eq!(f.x(3), 0x8 << 28);
}

#[test]
fn eret_to_el1_returns_to_elr_with_spsr_state() {
    let mut code = eret_to(0x4 << 28 | 0x80 | EL1H, 0);
    let n = code.len();
    code = eret_to(0x4 << 28 | 0x80 | EL1H, n + 1);
    code.push(enc::movz(3, 9, 0)); // skipped
    code.push(enc::movz(4, 9, 0));
    let f = Snippet::of(&code).ok();
    assert_eq!((f.x(3), f.x(4)), (0, 9));
    assert_eq!((f.sys.el, f.sys.spsel, f.sys.daif, f.nzcv), (1, true, 0x80, nzcv::Z));
}

#[test]
fn round_trip_el0_svc_and_back() {
    // EL1: eret to EL0; EL0: svc; handler at the lower-EL vector: eret back to EL0.
    let mut code = eret_to(EL0T, 0);
    let el0 = code.len();
    code = eret_to(EL0T, el0);
    code.push(enc::svc(3));
    code.push(enc::movz(5, 5, 0));
    let f = Snippet::of(&code).vector(vec::SYNC_LOWER, &[enc::movz(6, 6, 0), enc::eret()]).run();
    assert_eq!(f.pc, f.end + 4, "back at EL0 to the end marker");
    assert_eq!(f.taken, Some((Fault::Svc { imm: 3 }, CODE + 4 * el0 as u64)));
    assert_eq!((f.x(5), f.x(6)), (5, 6));
    assert_eq!(f.sys.el, 0);
    assert_eq!(f.sys.elr, CODE + 4 * el0 as u64 + 4);
}

#[test]
fn eret_at_el0_is_undefined() {
    let f = Snippet::of(&[enc::eret()]).setup(start_at_el0).run();
    assert_eq!(f.taken, Some((Fault::Undefined { raw: enc::eret() }, CODE)));
    assert_eq!((f.vector(), f.ec()), (Some(vec::SYNC_LOWER), EC_UNKNOWN));
}

#[test]
fn illegal_return_sets_il_and_the_next_instruction_raises() {
    // SPSR M = EL2h: EL2 is not implemented.
    let mut code = eret_to(0x9, 0);
    let n = code.len();
    code = eret_to(0x9, n);
    code.push(enc::movz(3, 1, 0));
    let f = Snippet::of(&code).run();
    assert_eq!(f.taken, Some((Fault::IllegalState, CODE + 4 * n as u64)));
    assert_eq!(f.ec(), EC_ILLEGAL);
    assert_eq!(f.x(3), 0);
    assert_eq!(f.sys.spsr >> 20 & 1, 1, "SPSR.IL records it");
    assert_eq!(f.sys.spsr & 0xf, EL1H, "EL and SP unchanged");
}

#[test]
fn data_abort_sets_far_and_wnr() {
    let f = Snippet::of(&[enc::ldst_uimm(3, 0, 2, 1, 1)]).x(1, 0x1000).run();
    assert_eq!(f.sys.esr, EC_DABT_SAME << 26 | 1 << 25 | 1 << 6 | 0x10);
    assert_eq!((f.sys.far, f.sys.elr), (0x1008, CODE));
}

#[test]
fn data_abort_from_el0_uses_the_lower_el_class() {
    let f = Snippet::of(&[enc::ldst_uimm(3, 1, 2, 1, 0)]).x(1, 0x1000).setup(start_at_el0).run();
    assert_eq!(f.sys.esr, 0x24 << 26 | 1 << 25 | 0x10);
    assert_eq!(f.vector(), Some(vec::SYNC_LOWER));
}

#[test]
fn pc_alignment_fault_reports_far() {
    let f = Snippet::of(&[enc::br(1)]).x(1, CODE + 6).run();
    assert_eq!((f.ec(), f.sys.far, f.sys.elr), (0x22, CODE + 6, CODE + 6));
}

#[test]
fn entry_sets_pan_unless_sctlr_span() {
    let f = Snippet::of(&[enc::svc(0)]).run();
    assert!(!f.sys.pan, "reset SCTLR_EL1 has SPAN set");
    let f = Snippet::of(&[enc::svc(0)]).setup(|c| c.mmu_regs.sctlr_el1 &= !(1 << 23)).run();
    assert!(f.sys.pan);
}

// ---- system registers ----------------------------------------------------------------------------

#[test]
fn el1_registers_round_trip() {
    let regs = [TTBR0_EL1, TCR_EL1, MAIR_EL1, TPIDR_EL1, TPIDR_EL0, TPIDRRO_EL0, ELR_EL1];
    let mut code = mov64(1, 0x1234_5678_9abc_def0);
    for (i, r) in regs.iter().enumerate() {
        code.push(msr(*r, 1));
        code.push(mrs(2 + i as u32, *r));
    }
    let f = Snippet::of(&code).ok();
    for i in 0..regs.len() {
        assert_eq!(f.x(2 + i), 0x1234_5678_9abc_def0, "register {i}");
    }
}

#[test]
fn writes_keep_only_defined_bits() {
    // Everything but SCTLR_EL1.M: the MMU stays off.
    let mut code = vec![enc::movn(1, 0, 0), enc::movn(7, 1, 0)];
    for (i, r) in [SCTLR_EL1, CPACR_EL1, CONTEXTIDR_EL1, SPSR_EL1].iter().enumerate() {
        code.push(msr(*r, if i == 0 { 7 } else { 1 }));
        code.push(mrs(2 + i as u32, *r));
    }
    code.push(msr(SCTLR_EL1, 31));
    code.push(mrs(6, SCTLR_EL1));
    let f = Snippet::of(&code).ok();
    assert_eq!(f.x(2), 0x3050_0800 | 0x048d_d3be);
    assert_eq!(f.x(3), 0x0030_0000);
    assert_eq!(f.x(4), 0xffff_ffff);
    assert_eq!(f.x(5), 0xf070_03df);
    assert_eq!(f.x(6), 0x3050_0800, "RES1 bits stay set");
}

#[test]
fn id_registers_describe_what_is_implemented() {
    let regs = [
        MIDR_EL1,
        MPIDR_EL1,
        ID_AA64PFR0_EL1,
        ID_AA64ZFR0_EL1,
        ID_AA64DFR0_EL1,
        ID_AA64ISAR0_EL1,
        ID_AA64ISAR1_EL1,
        ID_AA64MMFR0_EL1,
        ID_AA64MMFR1_EL1,
        CTR_EL0,
        DCZID_EL0,
        CURRENT_EL,
    ];
    let code: Vec<u32> = regs.iter().enumerate().map(|(i, r)| mrs(i as u32, *r)).collect();
    let f = Snippet::of(&code).ok();
    // ISAR0: CRC32 1, and Cortex-A57's crypto: AES 2 (with PMULL), SHA1 1, SHA2 1.
    let want = [0x411f_d073, 0x8000_0000, 0x11, 0, 0x0010_1006, 0x1_1120, 0, 0x0010_0022, 0x10_0000, 0x8444_c004, 4, 4];
    for (i, w) in want.iter().enumerate() {
        assert_eq!(f.x(i), *w, "register {i}");
    }
}

#[test]
fn id_aa64isar0_of_max_adds_lse_atomics() {
    let f = Snippet::of(&[mrs(0, ID_AA64ISAR0_EL1)])
        .setup(|c| {
            c.model = CpuModel::Max;
            c.features = CpuModel::Max.features();
        })
        .ok();
    assert_eq!(f.x(0), 0x21_1120, "Atomic 2 on top of CRC32, AES, SHA1, SHA2");
}

#[test]
fn id_aa64isar0_without_features_reports_crc32_only() {
    let f = Snippet::of(&[mrs(0, ID_AA64ISAR0_EL1)]).setup(|c| c.features = Features::default()).ok();
    assert_eq!(f.x(0), 0x1_0000);
}

#[test]
fn el0_reading_sctlr_is_undefined() {
    let word = mrs(3, SCTLR_EL1);
    let f = Snippet::of(&[word]).setup(start_at_el0).run();
    assert_eq!(f.taken, Some((Fault::Undefined { raw: word }, CODE)));
    assert_eq!((f.ec(), f.sys.elr, f.vector()), (EC_UNKNOWN, CODE, Some(vec::SYNC_LOWER)));
}

#[test]
fn el0_access_follows_sctlr_controls() {
    // CTR_EL0 with SCTLR_EL1.UCT clear: trapped with the MRS syndrome.
    let f = Snippet::of(&[mrs(3, CTR_EL0)]).setup(|c| {
        c.mmu_regs.sctlr_el1 &= !(1 << 15);
        start_at_el0(c);
    });
    let f = f.run();
    let iss = 3 << 20 | 1 << 17 | 3 << 14 | 3 << 5 | 1;
    assert_eq!(f.sys.esr, EC_SYS << 26 | 1 << 25 | iss);
    // With UCT set it reads; TPIDRRO_EL0 is read-only and TPIDR_EL0 read-write at EL0.
    let f = Snippet::of(&[mrs(3, CTR_EL0), mrs(4, TPIDRRO_EL0), msr(TPIDR_EL0, 1), mrs(5, TPIDR_EL0)])
        .x(1, 0x55)
        .setup(|c| {
            c.mmu_regs.sctlr_el1 |= 1 << 15;
            c.sys.tpidrro_el0 = 0x99;
            start_at_el0(c);
        })
        .ok();
    assert_eq!((f.x(3), f.x(4), f.x(5)), (0x8444_c004, 0x99, 0x55));
    let f = Snippet::of(&[msr(TPIDRRO_EL0, 1)]).setup(start_at_el0).run();
    assert_eq!(f.ec(), EC_UNKNOWN);
    // TPIDR_EL1 is EL1's: MRS and MSR of it at EL0 are undefined.
    let f = Snippet::of(&[mrs(3, TPIDR_EL1)]).setup(start_at_el0).run();
    assert_eq!(f.ec(), EC_UNKNOWN);
    let f = Snippet::of(&[msr(TPIDR_EL1, 1)]).setup(start_at_el0).run();
    assert_eq!(f.ec(), EC_UNKNOWN);
}

#[test]
fn el0_daif_access_needs_uma() {
    let f = Snippet::of(&[daifset(2)]).setup(start_at_el0).run();
    assert_eq!(f.ec(), EC_SYS);
    let f = Snippet::of(&[daifset(2), mrs(3, DAIF)])
        .setup(|c| {
            c.mmu_regs.sctlr_el1 |= 1 << 9;
            start_at_el0(c);
        })
        .ok();
    assert_eq!(f.x(3), 0x80);
}

#[test]
fn unimplemented_registers_are_undefined() {
    // PMU registers: ID_AA64DFR0.PMUVer is 0.
    let f = Snippet::of(&[mrs(3, PMCR_EL0)]).run();
    assert_eq!(f.taken, Some((Fault::Undefined { raw: mrs(3, PMCR_EL0) }, CODE)));
    // The debug banks and the OS lock are there, minimally.
    let f = Snippet::of(&[
        msr(DBGBCR5_EL1, 1),
        mrs(3, DBGBCR5_EL1),
        mrs(4, OSLSR_EL1),
        msr(OSLAR_EL1, 31),
        mrs(5, OSLSR_EL1),
    ])
    .x(1, 0xff)
    .x(3, 7)
    .ok();
    assert_eq!((f.x(3), f.x(4), f.x(5)), (0, 0b1010, 0b1000));
}

#[test]
fn sp_el0_is_reachable_only_while_sp_el1_is_selected() {
    let f = Snippet::of(&[msr(SP_EL0, 1), mrs(2, SP_EL0), msr_spsel(0), enc::add_imm(1, 3, 31, 0, 0), mrs(4, SPSEL)])
        .x(1, 0x8000)
        .x(31, 0x9000)
        .ok();
    assert_eq!((f.x(2), f.x(3), f.x(4)), (0x8000, 0x8000, 0));
    assert_eq!(f.sys.sp_el1, 0x9000);
    let f = Snippet::of(&[msr_spsel(0), mrs(2, SP_EL0)]).run();
    assert_eq!(f.ec(), EC_UNKNOWN);
}

#[test]
fn pan_is_set_and_read_back() {
    let f = Snippet::of(&[msr_pan(1), mrs(3, PAN), msr_pan(0), mrs(4, PAN)]).ok();
    assert_eq!((f.x(3), f.x(4)), (1 << 22, 0));
}

#[test]
fn nzcv_and_daif_registers() {
    let f = Snippet::of(&[msr(NZCV, 1), mrs(3, NZCV), daifclr(0xf), daifset(0x2), mrs(4, DAIF)]).x(1, 0xa << 28).ok();
    assert_eq!((f.x(3), f.nzcv, f.x(4)), (0xa << 28, nzcv::N | nzcv::C, 0x80));
}

// ---- FP enable ---------------------------------------------------------------------------------------

#[test]
fn fpcr_access_traps_while_cpacr_fpen_is_off() {
    let f = Snippet::of(&[mrs(3, FPCR)]).setup(|c| c.sys.cpacr = 0).run();
    assert_eq!(f.taken, Some((Fault::FpAccess, CODE)));
    assert_eq!(f.ec(), EC_FP);
}

#[test]
fn fpcr_and_fpsr_keep_their_defined_bits_once_enabled() {
    let f = Snippet::of(&[
        enc::movz(1, 0x30, 1),
        msr(CPACR_EL1, 1),
        enc::movn(2, 0, 0),
        msr(FPCR, 2),
        msr(FPSR, 2),
        mrs(3, FPCR),
        mrs(4, FPSR),
    ])
    .ok();
    assert_eq!((f.x(3), f.x(4)), (0x07c8_0000, 0x0800_009f));
}

#[test]
fn fp_en_flag_follows_cpacr_and_el() {
    let mut cpu = Aarch64Cpu::new(mimic_arch_aarch64::CpuConfig::test());
    assert_eq!(cpu.block_flags() & flags::FP_EN, 0);
    cpu.sys.cpacr = 1 << 20;
    assert_ne!(cpu.block_flags() & flags::FP_EN, 0);
    cpu.set_el_sp(0, false);
    assert_eq!(cpu.block_flags() & flags::FP_EN, 0, "FPEN 0b01 traps EL0");
    cpu.sys.cpacr = 3 << 20;
    assert_ne!(cpu.block_flags() & flags::FP_EN, 0);
    assert_eq!(cpu.block_flags() & flags::EL_MASK, 0);
}

// ---- system instructions -------------------------------------------------------------------------

#[test]
fn dc_zva_zeroes_the_aligned_64_bytes() {
    let ones = vec![0xffu8; 0x100];
    let f = Snippet::of(&[dc_zva(1)]).x(1, DATA + 0x47).mem(DATA, &ones).ok();
    assert_eq!(f.data[..0x40], ones[..0x40]);
    assert!(f.data[0x40..0x80].iter().all(|&b| b == 0));
    assert_eq!(f.data[0x80..0x100], ones[0x80..0x100]);
}

#[test]
fn dc_zva_on_a_page_the_tlb_holds_for_stores_zeroes_the_same_bytes() {
    // The store before it puts the page in the TLB, so a compiling tier zeroes it inline.
    let ones = vec![0xffu8; 0x200];
    let code = [enc::ldst_uimm(3, 0, 2, 5, 0), dc_zva(1)];
    let f = Snippet::of(&code).x(1, DATA + 0x47).x(2, u64::MAX).x(5, DATA + 0x100).mem(DATA, &ones).ok();
    assert_eq!(f.data[..0x40], ones[..0x40]);
    assert!(f.data[0x40..0x80].iter().all(|&b| b == 0));
    assert_eq!(f.data[0x80..0x200], ones[0x80..0x200]);
}

#[test]
fn dc_zva_faults_like_a_store() {
    let f = Snippet::of(&[dc_zva(1)]).x(1, 0x1010).run();
    assert_eq!(f.taken, Some((Fault::DataAbort { va: 0x1000, write: true, fsc: 0x10 }, CODE)));
}

#[test]
fn dc_zva_over_compiled_code_is_seen_when_it_runs_again() {
    // A subroutine in its own 64-byte line at +0x80 runs often enough to be compiled, is
    // zeroed by DC ZVA (which does not end its block) and is called again: it is now UDF #0.
    let mut code = vec![
        enc::movz(3, 8, 0),           // 0x00
        enc::bl(0x7c),                // 0x04: loop: call the subroutine
        enc::subs_imm(1, 3, 3, 1, 0), // 0x08
        enc::b_cond(cond::NE, -8),    // 0x0c
        dc_zva(1),                    // 0x10
        enc::bl(0x6c),                // 0x14
        enc::b(0x6c),                 // 0x18: to the end marker (0x84)
    ];
    code.resize(0x80 / 4, enc::hint(0));
    code.push(enc::ret(30)); // 0x80: the subroutine
    let f = Snippet::of(&code).x(1, CODE + 0x80).run();
    assert_eq!(f.x(3), 0);
    assert_eq!(f.taken, Some((Fault::Undefined { raw: 0 }, CODE + 0x80)));
}

#[test]
fn msr_of_thread_and_return_state_keeps_the_block_going() {
    use mimic_arch_aarch64::sem::ends_block;
    let insn = |w: u32| <Aarch64Cpu as Guest>::decode(w, 4, 0);
    for reg in [key(3, 3, 13, 0, 2), key(3, 0, 13, 0, 4), key(3, 0, 4, 1, 0), key(3, 0, 4, 0, 1), key(3, 3, 4, 2, 0)] {
        assert!(!ends_block(&insn(msr(reg, 1))), "MSR {reg:#x}");
    }
    // SCTLR_EL1, TTBR0_EL1, CPACR_EL1, CNTV_CTL_EL0, DAIF: translation, flags or interrupts.
    for reg in [key(3, 0, 1, 0, 0), key(3, 0, 2, 0, 0), key(3, 0, 1, 0, 2), key(3, 3, 14, 3, 1), key(3, 3, 4, 2, 1)] {
        assert!(ends_block(&insn(msr(reg, 1))), "MSR {reg:#x}");
    }
    assert!(!ends_block(&insn(dc_zva(1))));
    assert!(ends_block(&insn(ic_iallu())));
    assert!(ends_block(&insn(enc::sys(0, 8, 7, 0, 31))), "TLBI VMALLE1");
}

#[test]
fn dc_zva_at_el0_needs_dze() {
    let f = Snippet::of(&[dc_zva(1)]).x(1, DATA).setup(start_at_el0).run();
    assert_eq!(f.ec(), EC_SYS);
}

#[test]
fn ic_iallu_drops_decoded_blocks() {
    for tier in TIERS {
        let mut rig = Snippet::of(&[enc::hint(0), ic_iallu()]).build();
        assert_eq!(rig.run(*tier), RunOutcome::Halted);
        assert_eq!(rig.cpu.cache.len(), 1, "{tier:?}: only the block after the IC remains");
    }
}

#[test]
fn other_cache_maintenance_and_tlbi_are_accepted() {
    let f = Snippet::of(&[
        enc::sys(3, 7, 14, 1, 1), // dc civac
        enc::sys(0, 7, 6, 1, 1),  // dc ivac
        enc::sys(3, 7, 5, 1, 1),  // ic ivau
        enc::sys(0, 8, 7, 0, 31), // tlbi vmalle1
        enc::sys(0, 8, 3, 1, 1),  // tlbi vae1is
        enc::sys(0, 7, 8, 0, 1),  // at s1e1r
        mrs(3, key(3, 0, 7, 4, 0)),
        enc::movz(4, 1, 0),
    ])
    .x(1, DATA + 0x123)
    .ok();
    assert_eq!(f.x(4), 1);
}

// ---- interrupts and WFI -------------------------------------------------------------------------

#[test]
fn irq_is_taken_once_unmasked() {
    let mut handler = ack_irq();
    handler.push(mrs(7, ISR_EL1));
    let f = Snippet::of(&[mrs(6, ISR_EL1), enc::movz(3, 1, 0), daifclr(2), enc::movz(4, 1, 0)])
        .irq(1)
        .vector(vec::IRQ_SPX, &handler)
        .run();
    assert_eq!(f.vector(), Some(vec::IRQ_SPX));
    assert_eq!((f.x(3), f.x(4)), (1, 0));
    assert_eq!(f.sys.elr, CODE + 12);
    assert_eq!(f.sys.spsr, 0x340 | EL1H, "I was clear");
    assert_eq!((f.x(6), f.x(7)), (0x80, 0));
    assert_eq!(f.taken, None, "interrupts are not synchronous exceptions");
}

#[test]
fn irq_from_el0_goes_to_the_lower_el_vector() {
    let f = Snippet::of(&[enc::movz(3, 1, 0)]).irq(1).setup(start_at_el0).vector(vec::IRQ_LOWER, &ack_irq()).run();
    assert_eq!(f.vector(), Some(vec::IRQ_LOWER));
    assert_eq!((f.sys.elr, f.sys.spsr, f.x(3)), (CODE, EL0T, 0));
}

#[test]
fn fiq_is_masked_by_f_only() {
    let f = Snippet::of(&[daifclr(2), enc::movz(3, 1, 0), daifclr(1)]).irq(2).vector(vec::FIQ_SPX, &ack_irq()).run();
    assert_eq!(f.vector(), Some(vec::FIQ_SPX));
    assert_eq!((f.x(3), f.sys.elr), (1, CODE + 12));
}

#[test]
fn wfi_completes_at_once_with_a_masked_interrupt_pending() {
    let mut code = vec![enc::wfi(), enc::movz(3, 1, 0)];
    code.extend(ack_irq());
    let f = Snippet::of(&code).irq(1).ok();
    assert_eq!(f.x(3), 1);
}

#[test]
fn wfi_halts_and_wakes_on_a_pending_interrupt() {
    for tier in TIERS {
        let mut rig =
            Snippet::of(&[daifclr(2), enc::wfi(), enc::movz(3, 1, 0)]).vector(vec::IRQ_SPX, &ack_irq()).build();
        assert_eq!(rig.run(*tier), RunOutcome::Halted);
        assert_eq!(rig.cpu.pc, CODE + 8, "{tier:?}: waiting after the WFI");
        rig.cpu.check_interrupts();
        assert!(rig.cpu.halted, "nothing pending: still waiting");
        rig.irq.set(1, true);
        assert_eq!(rig.run(*tier), RunOutcome::Halted);
        let f = rig.snapshot();
        assert_eq!(f.vector(), Some(vec::IRQ_SPX), "{tier:?}");
        assert_eq!((f.sys.elr, f.x(3)), (CODE + 8, 0));
    }
}

#[test]
fn wfi_at_el0_traps_without_ntwi() {
    let f = Snippet::of(&[enc::wfi()]).setup(|c| {
        c.mmu_regs.sctlr_el1 &= !(1 << 16);
        start_at_el0(c);
    });
    let f = f.run();
    assert_eq!(f.taken, Some((Fault::WfxTrap { wfe: false }, CODE)));
    assert_eq!(f.sys.esr, EC_WFX << 26 | 1 << 25 | 1 << 24 | 0xe << 20);
}

#[test]
fn wfe_sev_and_yield_complete() {
    let f = Snippet::of(&[enc::wfe(), enc::hint(4), enc::hint(5), enc::hint(1), enc::movz(3, 1, 0)]).ok();
    assert_eq!(f.x(3), 1);
}

// ---- generic timer ---------------------------------------------------------------------------------

#[test]
fn counter_and_frequency() {
    let f = Snippet::of(&[mrs(3, CNTPCT_EL0), mrs(4, CNTVCT_EL0), mrs(5, CNTFRQ_EL0)]).time(123_456).ok();
    assert_eq!((f.x(3), f.x(4), f.x(5)), (123_456, 123_456, 62_500_000));
}

#[test]
fn timer_condition_sets_istatus_and_the_line() {
    let f = Snippet::of(&[
        enc::movz(1, 500, 0),
        msr(CNTV_CVAL_EL0, 1),
        enc::movz(2, 1, 0),
        msr(CNTV_CTL_EL0, 2),
        mrs(3, CNTV_CTL_EL0),
    ])
    .time(1000)
    .ok();
    assert_eq!(f.x(3), 0b101, "ENABLE and ISTATUS");
    assert_eq!(f.sys.timer_lines, [false, true]);
}

#[test]
fn masked_or_future_timer_keeps_the_line_low() {
    let f = Snippet::of(&[
        enc::movz(1, 500, 0),
        msr(CNTP_CVAL_EL0, 1),
        enc::movz(2, 3, 0),
        msr(CNTP_CTL_EL0, 2), // enabled but masked
        mrs(3, CNTP_CTL_EL0),
        enc::movz(2, 1, 0),
        enc::movz(1, 2000, 0),
        msr(CNTP_CVAL_EL0, 1), // in the future
        msr(CNTP_CTL_EL0, 2),
        mrs(4, CNTP_CTL_EL0),
    ])
    .time(1000)
    .ok();
    assert_eq!((f.x(3), f.x(4)), (0b111, 0b001));
    assert_eq!(f.sys.timer_lines, [false, false]);
}

#[test]
fn tval_is_relative_to_the_counter() {
    let f = Snippet::of(&[
        enc::movz(1, 100, 0),
        msr(CNTV_TVAL_EL0, 1),
        mrs(3, CNTV_CVAL_EL0),
        mrs(4, CNTV_TVAL_EL0),
        enc::movn(1, 9, 0), // -10 as a 32-bit TVAL
        msr(CNTV_TVAL_EL0, 1),
        mrs(5, CNTV_CVAL_EL0),
        mrs(6, CNTV_TVAL_EL0),
    ])
    .time(5000)
    .ok();
    assert_eq!((f.x(3), f.x(4)), (5100, 100));
    assert_eq!((f.x(5), f.x(6)), (4990, 0xffff_fff6));
}

#[test]
fn timer_fires_when_time_passes_and_reports_its_deadline() {
    for tier in TIERS {
        let mut rig =
            Snippet::of(&[enc::movz(1, 2000, 0), msr(CNTV_CVAL_EL0, 1), enc::movz(2, 1, 0), msr(CNTV_CTL_EL0, 2)])
                .time(1000)
                .build();
        assert_eq!(rig.run(*tier), RunOutcome::Halted);
        assert_eq!(rig.cpu.timer_deadline(), Some(2000));
        assert!(!rig.lines[1].level());
        rig.clock.set(1999);
        rig.cpu.update_timers();
        assert!(!rig.lines[1].level());
        rig.clock.set(2000);
        rig.cpu.update_timers();
        assert!(rig.lines[1].level(), "{tier:?}");
        assert_eq!(rig.cpu.timer_deadline(), None, "fired timers have no deadline");
    }
}

#[test]
fn el0_timer_access_follows_cntkctl() {
    let f = Snippet::of(&[mrs(3, CNTVCT_EL0)]).setup(start_at_el0).run();
    assert_eq!(f.ec(), EC_SYS);
    let f = Snippet::of(&[mrs(3, CNTVCT_EL0)])
        .time(77)
        .setup(|c| {
            c.sys.cntkctl = 0b10;
            start_at_el0(c);
        })
        .ok();
    assert_eq!(f.x(3), 77);
}

// ---- firmware calls ------------------------------------------------------------------------------

#[test]
fn hvc_on_the_hvc_conduit_stops_for_the_board() {
    for tier in TIERS {
        let mut rig =
            Snippet::of(&[enc::movz(0, 0x8400, 1), enc::hvc(0), enc::movz(5, 1, 0)]).conduit(Conduit::Hvc).build();
        assert_eq!(rig.run(*tier), RunOutcome::Halted);
        assert!(rig.cpu.fw_call && rig.cpu.halted, "{tier:?}");
        assert_eq!((rig.cpu.pc, rig.cpu.regs[0], rig.cpu.regs[5]), (CODE + 8, 0x8400_0000, 0));
        assert_eq!(rig.cpu.taken, None);
        // The board answers in X0 and lets the CPU go on.
        rig.cpu.regs[0] = 0x1_0001;
        rig.cpu.fw_call = false;
        rig.cpu.halted = false;
        assert_eq!(rig.run(*tier), RunOutcome::Halted);
        let f = rig.snapshot().ok();
        assert_eq!((f.x(0), f.x(5)), (0x1_0001, 1));
    }
}

#[test]
fn fw_call_is_not_disturbed_by_a_pending_interrupt() {
    // The IRQ rises in the same block as the SMC, with interrupts unmasked.
    let code = [enc::movz(1, 1, 0), enc::movz(9, (IRQCTL >> 16) as u32, 1), enc::ldst_uimm(3, 0, 1, 9, 0), enc::smc(0)];
    let f = Snippet::of(&code).conduit(Conduit::Smc).setup(|c| c.daif = 0).run();
    assert!(f.sys.fw_call);
    assert_eq!((f.pc, f.sys.irq_lines), (CODE + 16, 1));
}

#[test]
fn hvc_without_its_conduit_or_from_el0_is_undefined() {
    let f = Snippet::of(&[enc::smc(0)]).conduit(Conduit::Hvc).run();
    assert_eq!(f.taken, Some((Fault::Undefined { raw: enc::smc(0) }, CODE)));
    let f = Snippet::of(&[enc::hvc(0)]).run();
    assert_eq!(f.taken, Some((Fault::Undefined { raw: enc::hvc(0) }, CODE)));
    let f = Snippet::of(&[enc::hvc(0)]).conduit(Conduit::Hvc).setup(start_at_el0).run();
    assert_eq!((f.ec(), f.sys.fw_call), (EC_UNKNOWN, false));
}

#[test]
fn read_only_and_write_only_registers_refuse_the_other_direction() {
    for word in [msr(MIDR_EL1, 1), msr(CURRENT_EL, 1), mrs(3, OSLAR_EL1), msr(DCZID_EL0, 1)] {
        let f = Snippet::of(&[word]).run();
        assert_eq!(f.taken, Some((Fault::Undefined { raw: word }, CODE)), "{word:#010x}");
    }
}

#[test]
fn el0_cannot_touch_el1_exception_state() {
    for word in [mrs(3, ELR_EL1), msr(SPSR_EL1, 1), mrs(3, key(3, 0, 12, 0, 0)), msr_spsel(1), msr_pan(1)] {
        let f = Snippet::of(&[word]).setup(start_at_el0).run();
        assert_eq!(f.taken, Some((Fault::Undefined { raw: word }, CODE)), "{word:#010x}");
    }
}

#[test]
fn unnamed_id_registers_read_as_zero_and_uao_is_ignored() {
    let f = Snippet::of(&[mrs(3, key(3, 0, 0, 6, 2)), mrs(4, key(3, 0, 0, 7, 4)), enc::msr_imm(0, 1, 3)])
        .x(3, 1)
        .x(4, 1)
        .ok();
    assert_eq!((f.x(3), f.x(4)), (0, 0));
}

#[test]
fn cntfrq_is_readable_at_el0_when_a_counter_is() {
    let f = Snippet::of(&[mrs(3, CNTFRQ_EL0)]).setup(|c| {
        c.sys.cntkctl = 0b10;
        start_at_el0(c);
    });
    assert_eq!(f.ok().x(3), 62_500_000);
}

#[test]
fn system_registers_disassemble_by_name() {
    let insn = mimic_arch_aarch64::A64Insn::decode(mrs(3, SCTLR_EL1));
    assert_eq!(<Aarch64Cpu as Guest>::disasm(&insn), "mrs x3, SCTLR_EL1");
    let insn = mimic_arch_aarch64::A64Insn::decode(msr(key(3, 0, 0, 6, 2), 1));
    assert_eq!(<Aarch64Cpu as Guest>::disasm(&insn), "msr S3_0_C0_C6_2, x1");
}

#[test]
fn a_loop_of_system_calls_between_el0_and_el1() {
    // EL1 drops to EL0, which makes 50 system calls; the handler counts them in x20 and returns.
    let el0 = eret_to(EL0T, 0).len();
    let mut code = eret_to(EL0T, el0);
    code.extend([enc::movz(1, 50, 0), enc::svc(0), enc::sub_imm(1, 1, 1, 1, 0), enc::cbnz(1, 1, -8)]);
    let handler = [enc::add_imm(1, 20, 20, 1, 0), mrs(21, key(3, 0, 5, 2, 0)), enc::eret()];
    let f = Snippet::of(&code).vector(vec::SYNC_LOWER, &handler).run();
    assert_eq!(f.pc, f.end + 4);
    assert_eq!((f.x(1), f.x(20), f.x(21)), (0, 50, EC_SVC << 26 | 1 << 25));
    assert_eq!(f.sys.el, 0);
}
