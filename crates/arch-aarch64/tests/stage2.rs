//! Stage-2 translation on every tier: EL1's accesses through VTTBR_EL2's tables, stage-2
//! faults taken to EL2 with their syndrome (ISV, S1PTW, WnR), HPFAR_EL2 and FAR_EL2, the
//! invalidations and VMID changes that make new mappings visible, and AT S12E1R.
//!
//! Every snippet's CPU has EL2 with VBAR_EL2 at the common vector table and starts at EL1 with
//! its own MMU off (so VA = IPA) unless a test turns stage 1 on. Stage 2 (4K granule, 40-bit
//! IPAs: T0SZ 24, SL0 1, so the walk starts at level 1 with two concatenated tables) maps
//! RAM's gigabyte onto itself and the page at [`GUEST`] onto [`DATA`] (read-write), the page
//! after it onto [`DATA`] again (read-only), and nothing at the third page.

mod common;

use common::*;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::el2::{hcr, VTCR_RES1};
use mimic_arch_aarch64::sysreg::key;
use mimic_arch_aarch64::Aarch64Cpu;

/// An IPA range outside RAM's gigabyte that only stage 2 gives meaning to.
const GUEST: u64 = 0x8000_0000;
/// The stage-2 tables: level 1 (two concatenated pages, 8 KiB aligned), level 2, level 3.
const S2_L1: u64 = RAM_BASE + 0x2_0000;
const S2_L2: u64 = RAM_BASE + 0x2_2000;
const S2_L3: u64 = RAM_BASE + 0x2_3000;
/// A second set for another VMID, mapping [`GUEST`] onto [`OTHER`].
const S2B_L1: u64 = RAM_BASE + 0x2_4000;
const S2B_L2: u64 = RAM_BASE + 0x2_6000;
const S2B_L3: u64 = RAM_BASE + 0x2_7000;
/// EL1's stage-1 level-1 table (an IPA, which stage 2 maps onto itself).
const S1_L1: u64 = RAM_BASE + 0x2_8000;
/// Another RAM page, with its own value.
const OTHER: u64 = RAM_BASE + 0x3_0000;

const PAR_EL1: u32 = key(3, 0, 7, 4, 0);
const VTTBR_EL2: u32 = key(3, 4, 2, 1, 0);

const EC_DABT_LOWER: u64 = 0x24;
const IL: u64 = 1 << 25;
const ISV: u64 = 1 << 24;
const S1PTW: u64 = 1 << 7;
const WNR: u64 = 1 << 6;

/// Stage-2 leaf attributes: valid, AF, inner shareable, MemAttr Normal write-back, S2AP.
const S2_RW: u64 = 1 | 1 << 10 | 3 << 8 | 0xf << 2 | 3 << 6;
const S2_RO: u64 = 1 | 1 << 10 | 3 << 8 | 0xf << 2 | 1 << 6;
const TABLE: u64 = 3;

fn s2_page(pa: u64, attrs: u64) -> u64 {
    pa | attrs | 2
}

/// Both sets of stage-2 tables and the values in DATA and OTHER.
fn tables(s: Snippet) -> Snippet {
    let ram_block = RAM_BASE | S2_RW;
    s.mem64(S2_L1 + 8, ram_block)
        .mem64(S2_L1 + 8 * 2, S2_L2 | TABLE)
        .mem64(S2_L2, S2_L3 | TABLE)
        .mem64(S2_L3, s2_page(DATA, S2_RW))
        .mem64(S2_L3 + 8, s2_page(DATA, S2_RO))
        .mem64(S2B_L1 + 8, ram_block)
        .mem64(S2B_L1 + 8 * 2, S2B_L2 | TABLE)
        .mem64(S2B_L2, S2B_L3 | TABLE)
        .mem64(S2B_L3, s2_page(OTHER, S2_RW))
        .mem64(DATA, 0x1111)
        .mem64(DATA + 8, 0x2222)
        .mem64(OTHER, 0x3333)
}

/// EL2 exists, stage 2 is on with VMID 1, and the snippet starts at EL1.
fn stage2_on(cpu: &mut Aarch64Cpu) {
    cpu.has_el2 = true;
    cpu.el2.vbar = VECTORS;
    // T0SZ 24, SL0 1 (level 1), inner shareable, TG0 4K, PS 40 bits.
    cpu.el2.vtcr = 24 | 1 << 6 | 3 << 12 | 2 << 16 | VTCR_RES1;
    cpu.el2.vttbr = S2_L1 | 1 << 48;
    cpu.el2.hcr |= hcr::VM;
    cpu.tlb_flush_all();
}

/// [`stage2_on`], and stage 1 at EL1 on: 4K, T0SZ 25, its level-1 table maps RAM's gigabyte
/// onto itself and points the gigabyte at [`GUEST`] to a level-2 table at IPA `GUEST + 0x2000`,
/// which stage 2 does not map.
fn stage1_and_2_on(cpu: &mut Aarch64Cpu) {
    stage2_on(cpu);
    cpu.mmu_regs.tcr_el1 = 25 | 1 << 23 | 2 << 32;
    cpu.mmu_regs.ttbr0_el1 = S1_L1;
    cpu.mmu_regs.mair_el1 = 0xff;
    cpu.mmu_regs.sctlr_el1 |= 1;
    cpu.mmu_changed();
}

#[test]
fn el1_access_through_a_stage2_mapping_reaches_the_mapped_pa() {
    let code = [enc::ldst_uimm(3, 1, 2, 1, 1), enc::ldst_uimm(3, 0, 4, 1, 2)];
    let f = tables(Snippet::of(&code)).x(1, GUEST).x(4, 0xabcd).setup(stage2_on).ok();
    assert_eq!(f.x(2), 0x2222, "GUEST + 8 is DATA + 8");
    assert_eq!(f.mem(DATA + 16, 8), 0xabcd, "the store reached DATA + 16");
}

#[test]
fn el1_load_from_an_unmapped_ipa_faults_to_el2_with_the_instruction_syndrome() {
    // ldr x3, [x1, #8] with the IPA in the third page: no level-3 entry.
    let ipa = GUEST + 0x2010;
    let f = tables(Snippet::of(&[enc::ldst_uimm(3, 1, 3, 1, 1)])).x(1, ipa - 8).setup(stage2_on).run();
    assert_eq!((f.sys.el, f.vector()), (2, Some(vec::SYNC_LOWER)));
    // SAS 3 (doubleword), SRT 3, SF 1; DFSC 0x07: translation fault at level 3.
    let iss = ISV | 3 << 22 | 3 << 16 | 1 << 15 | 0x07;
    assert_eq!(f.sys.el2.esr, EC_DABT_LOWER << 26 | IL | iss);
    assert_eq!(f.sys.el2.far, ipa);
    assert_eq!(f.sys.el2.hpfar, (ipa >> 12) << 4, "HPFAR_EL2.FIPA holds IPA[47:12]");
    assert_eq!(f.sys.el2.elr, CODE, "the load is returned to");
    assert_eq!(f.sys.esr, 0, "EL1 saw nothing");
}

#[test]
fn store_to_a_stage2_read_only_page_is_a_permission_fault_with_wnr() {
    // The read-only page reads, then `str w4, [x1]` faults.
    let code = [enc::ldst_uimm(3, 1, 2, 1, 0), enc::ldst_uimm(2, 0, 4, 1, 0)];
    let ipa = GUEST + 0x1000;
    let f = tables(Snippet::of(&code)).x(1, ipa).setup(stage2_on).run();
    assert_eq!(f.x(2), 0x1111, "the read-only alias of DATA reads");
    assert_eq!(f.sys.el, 2);
    // SAS 2 (word), SRT 4, SF 0; WnR; DFSC 0x0f: permission fault at level 3.
    let iss = ISV | 2 << 22 | 4 << 16 | WNR | 0x0f;
    assert_eq!(f.sys.el2.esr, EC_DABT_LOWER << 26 | IL | iss);
    assert_eq!(f.sys.el2.hpfar, (ipa >> 12) << 4);
    assert_eq!(f.sys.el2.elr, CODE + 4);
    assert_eq!(f.mem(DATA, 8), 0x1111, "memory unchanged");
}

#[test]
fn stage1_walk_through_an_unmapped_stage2_table_faults_with_s1ptw() {
    let va = GUEST + 0x10;
    let f = tables(Snippet::of(&[enc::ldst_uimm(3, 1, 2, 1, 0)]))
        .mem64(S1_L1 + 8, RAM_BASE | 1 << 10 | 3 << 8 | 1)
        .mem64(S1_L1 + 8 * 2, (GUEST + 0x2000) | TABLE)
        .x(1, va)
        .setup(stage1_and_2_on)
        .run();
    assert_eq!(f.sys.el, 2);
    // No instruction syndrome on a walk; the descriptor read is a read (WnR 0).
    assert_eq!(f.sys.el2.esr, EC_DABT_LOWER << 26 | IL | S1PTW | 0x07);
    assert_eq!(f.sys.el2.far, va);
    assert_eq!(f.sys.el2.hpfar, ((GUEST + 0x2000) >> 12) << 4, "the IPA of the stage-1 table");
}

/// The EL2 vector for a lower EL's HVC: `str x5, [x6]` rewrites a stage-2 descriptor, then
/// TLBI IPAS2E1 of x1's IPA page, DSB, TLBI VMALLE1, DSB, ERET.
fn remap_and_invalidate() -> Vec<u32> {
    vec![
        enc::ldst_uimm(3, 0, 5, 6, 0),
        enc::ubfm(7, 1, 12, 63),
        enc::sys(4, 8, 4, 1, 7),
        enc::dsb(0xb),
        enc::sys(0, 8, 7, 0, 31),
        enc::dsb(0xb),
        enc::eret(),
    ]
}

#[test]
fn tlbi_ipas2e1_and_vmalle1_make_a_changed_stage2_mapping_visible() {
    let code = [enc::ldst_uimm(3, 1, 2, 1, 0), enc::hvc(0), enc::ldst_uimm(3, 1, 3, 1, 0)];
    let f = tables(Snippet::of(&code))
        .x(1, GUEST)
        .x(5, s2_page(OTHER, S2_RW))
        .x(6, S2_L3)
        .vector(vec::SYNC_LOWER, &remap_and_invalidate())
        .setup(stage2_on)
        .run();
    assert_eq!((f.sys.el, f.pc), (1, f.end + 4), "back at EL1 and through to the end");
    assert_eq!(f.x(2), 0x1111, "before: DATA");
    assert_eq!(f.x(3), 0x3333, "after: OTHER");
}

#[test]
fn another_vmid_never_sees_the_old_translations() {
    // EL2 switches VTTBR_EL2 to the second table set (VMID 2) and returns.
    let code = [enc::ldst_uimm(3, 1, 2, 1, 0), enc::hvc(0), enc::ldst_uimm(3, 1, 3, 1, 0)];
    let f = tables(Snippet::of(&code))
        .x(1, GUEST)
        .x(8, S2B_L1 | 2 << 48)
        .vector(vec::SYNC_LOWER, &[enc::msr_reg(VTTBR_EL2, 8), enc::isb(), enc::eret()])
        .setup(stage2_on)
        .run();
    assert_eq!((f.sys.el, f.pc), (1, f.end + 4), "back at EL1 and through to the end");
    assert_eq!(f.x(2), 0x1111, "VMID 1: DATA");
    assert_eq!(f.x(3), 0x3333, "VMID 2: OTHER");
}

fn at_el2_with_stage2(cpu: &mut Aarch64Cpu) {
    stage2_on(cpu);
    cpu.set_el_sp(2, true);
    cpu.mmu_changed();
}

#[test]
fn at_s12e1r_translates_both_stages() {
    // at s12e1r, x1; mrs x2, par_el1; at s12e1r, x3; mrs x4, par_el1.
    let code = [enc::sys(4, 7, 8, 4, 1), enc::mrs(PAR_EL1, 2), enc::sys(4, 7, 8, 4, 3), enc::mrs(PAR_EL1, 4)];
    let f = tables(Snippet::of(&code)).x(1, GUEST + 0x18).x(3, GUEST + 0x2000).setup(at_el2_with_stage2).ok();
    assert_eq!(f.x(2) & 1, 0, "no fault: {:#x}", f.x(2));
    assert_eq!(f.x(2) & 0xff_ffff_f000, DATA, "PAR holds the PA of the stage-2 page");
    // F, FST 0x07 (translation, level 3), S: the fault was at stage 2.
    assert_eq!(f.x(4) & 0x3ff, 1 | 0x07 << 1 | 1 << 9);
}

/// After `ldr x2, [x1]` (x1 = GUEST) ran once on `tier`, whether the TLB still serves GUEST
/// once `other` (standing for another CPU) acted on the shared epoch and this CPU looked for
/// interrupts (where it takes remote invalidations).
fn still_cached_after(tier: Tier, other: impl Fn(&std::sync::atomic::AtomicU64)) -> bool {
    let mut rig = tables(Snippet::of(&[enc::ldst_uimm(3, 1, 2, 1, 0)])).x(1, GUEST).setup(stage2_on).build();
    let epoch = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    rig.cpu.tlbi_epoch = Some(epoch.clone());
    assert_eq!(rig.run(tier), mimic_exec::RunOutcome::Halted);
    assert_eq!(rig.cpu.regs[2], 0x1111);
    assert!(rig.cpu.tlb.lookup_page(rig.cpu.data_mmu, GUEST, false).is_some(), "{tier:?}: the load filled the TLB");
    other(&epoch);
    rig.cpu.poll_interrupts();
    rig.cpu.tlb.lookup_page(rig.cpu.data_mmu, GUEST, false).is_some()
}

#[test]
fn inner_shareable_invalidation_by_another_cpu_empties_this_ones_tlb() {
    for &tier in TIERS {
        // Another CPU's TLBI VMALLS12E1IS counted in the shared epoch.
        let bump = |e: &std::sync::atomic::AtomicU64| {
            e.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        };
        assert!(!still_cached_after(tier, bump), "{tier:?}");
        assert!(still_cached_after(tier, |_| {}), "{tier:?}: nothing to take without one");
    }
}

#[test]
fn inner_shareable_tlbi_counts_in_the_shared_epoch() {
    // tlbi vmalls12e1is at EL2.
    let s = Snippet::of(&[enc::sys(4, 8, 3, 6, 31)]).setup(at_el2_with_stage2);
    for &tier in TIERS {
        let mut rig = s.build();
        let epoch = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(5));
        rig.cpu.tlbi_epoch = Some(epoch.clone());
        rig.cpu.tlbi_seen = 5;
        assert_eq!(rig.run(tier), mimic_exec::RunOutcome::Halted);
        assert_eq!(epoch.load(std::sync::atomic::Ordering::SeqCst), 6, "{tier:?}");
        assert_eq!(rig.cpu.tlbi_seen, 6, "{tier:?}: its own invalidation is not taken twice");
    }
}
