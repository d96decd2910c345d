//! The fetch epoch (`Guest::code_epoch`) under which compiled code trusts its jump cache's
//! translations of virtual pcs: it must change whenever a fetch may translate differently.

use mimic_arch_aarch64::cpu::CpuConfig;
use mimic_arch_aarch64::Aarch64Cpu;
use mimic_exec::Guest;

fn cpu() -> Aarch64Cpu {
    let mut c = Aarch64Cpu::new(CpuConfig::test());
    c.reset(0x4000_0000);
    c
}

#[test]
fn a_new_asid_changes_the_fetch_epoch_even_when_nothing_was_flushed() {
    let mut c = cpu();
    let before = c.code_epoch();
    // No translation was ever filled, so the context switch drops no TLB entry.
    c.mmu_regs.ttbr0_el1 = 7 << 48 | 0x4010_0000;
    c.mmu_changed();
    assert_ne!(c.code_epoch(), before);
}

#[test]
fn a_tlb_flush_changes_the_fetch_epoch() {
    let mut c = cpu();
    let before = c.code_epoch();
    c.tlb_flush_all();
    assert_ne!(c.code_epoch(), before);
}
