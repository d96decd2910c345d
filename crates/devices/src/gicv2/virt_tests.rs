use super::*;
use crate::gicv2::*;
use crate::mock::RecordingIrq;

type TestGic = GicV2<RecordingIrq>;

struct Lines {
    virq: Vec<RecordingIrq>,
    vfiq: Vec<RecordingIrq>,
}

fn gic(cpus: usize) -> (TestGic, Lines) {
    let phys = (0..cpus).map(|_| GicCpuLines { irq: RecordingIrq::new(), fiq: RecordingIrq::new() }).collect();
    let mut g = GicV2::new(VIRT_NUM_SPIS, phys).unwrap();
    let virq: Vec<RecordingIrq> = (0..cpus).map(|_| RecordingIrq::new()).collect();
    let vfiq: Vec<RecordingIrq> = (0..cpus).map(|_| RecordingIrq::new()).collect();
    g.set_virtual_outputs(
        virq.iter().zip(&vfiq).map(|(i, f)| GicCpuLines { irq: i.clone(), fiq: f.clone() }).collect(),
    );
    (g, Lines { virq, vfiq })
}

fn hw(g: &mut TestGic, cpu: usize, off: u64, v: u32) {
    assert!(g.gich_write32(cpu, off, v), "GICH write at {off:#x}");
}
fn hr(g: &TestGic, cpu: usize, off: u64) -> u32 {
    g.gich_read32(cpu, off).expect("GICH register")
}
fn vw(g: &mut TestGic, cpu: usize, off: u64, v: u32) {
    assert!(g.gicv_write32(cpu, off, v), "GICV write at {off:#x}");
}
fn vr(g: &mut TestGic, cpu: usize, off: u64) -> u32 {
    g.gicv_read32(cpu, off).expect("GICV register")
}

/// A pending group 1 LR for `vintid` at `priority`.
fn pending_lr(vintid: u32, priority: u32) -> u32 {
    lr::PENDING | lr::GROUP1 | (priority >> 3) << lr::PRIORITY_SHIFT | vintid
}

/// Hypervisor setup: interface on, group 1 enabled with AckCtl, PMR 0xf8.
fn enable(g: &mut TestGic, cpu: usize) {
    hw(g, cpu, GICH_HCR, hcr::EN);
    hw(g, cpu, GICH_VMCR, vmcr::GRP1EN | vmcr::ACKCTL | 0x1f << vmcr::PMR_SHIFT);
}

#[test]
fn vtr_reports_four_list_registers_and_five_priority_bits() {
    let (g, _) = gic(1);
    let v = hr(&g, 0, GICH_VTR);
    assert_eq!(v & 0x3f, 3);
    assert_eq!(v >> 29, 4);
    assert_eq!(v >> 26 & 7, 4);
}

#[test]
fn list_registers_keep_their_writable_bits_and_bank_per_cpu() {
    let (mut g, _) = gic(2);
    hw(&mut g, 1, GICH_LR0 + 8, 0xffff_ffff);
    assert_eq!(hr(&g, 1, GICH_LR0 + 8), lr::WRITABLE);
    assert_eq!(hr(&g, 0, GICH_LR0 + 8), 0);
    // LRs past the fourth do not exist: RAZ/WI.
    hw(&mut g, 1, GICH_LR0 + 16, 0xffff_ffff);
    assert_eq!(hr(&g, 1, GICH_LR0 + 16), 0);
}

#[test]
fn pending_lr_above_pmr_raises_the_virtual_irq() {
    let (mut g, l) = gic(2);
    enable(&mut g, 1);
    hw(&mut g, 1, GICH_LR0, pending_lr(27, 0xa0));
    assert!(l.virq[1].level());
    assert!(!l.virq[0].level());
    assert!(!l.vfiq[1].level());
}

#[test]
fn lr_at_or_below_the_virtual_pmr_is_not_signalled() {
    let (mut g, l) = gic(1);
    enable(&mut g, 0);
    vw(&mut g, 0, GICC_PMR, 0xa0);
    hw(&mut g, 0, GICH_LR0, pending_lr(27, 0xa0));
    assert!(!l.virq[0].level());
    vw(&mut g, 0, GICC_PMR, 0xa8);
    assert!(l.virq[0].level());
}

#[test]
fn nothing_is_signalled_while_gich_hcr_en_is_clear() {
    let (mut g, l) = gic(1);
    enable(&mut g, 0);
    hw(&mut g, 0, GICH_HCR, 0);
    hw(&mut g, 0, GICH_LR0, pending_lr(27, 0xa0));
    assert!(!l.virq[0].level());
}

#[test]
fn group0_with_fiqen_is_a_virtual_fiq() {
    let (mut g, l) = gic(1);
    hw(&mut g, 0, GICH_HCR, hcr::EN);
    hw(&mut g, 0, GICH_VMCR, vmcr::GRP0EN | vmcr::FIQEN | 0x1f << vmcr::PMR_SHIFT);
    hw(&mut g, 0, GICH_LR0, pending_lr(3, 0x80) & !lr::GROUP1);
    assert!(l.vfiq[0].level());
    assert!(!l.virq[0].level());
}

#[test]
fn iar_acknowledges_the_highest_priority_lr_and_eoir_retires_it() {
    let (mut g, l) = gic(1);
    enable(&mut g, 0);
    hw(&mut g, 0, GICH_LR0, pending_lr(40, 0xa0));
    hw(&mut g, 0, GICH_LR0 + 4, pending_lr(41, 0x80));
    assert_eq!(vr(&mut g, 0, GICC_HPPIR), 41);
    assert_eq!(vr(&mut g, 0, GICC_IAR), 41);
    assert_eq!(hr(&g, 0, GICH_LR0 + 4) & (lr::PENDING | lr::ACTIVE), lr::ACTIVE);
    assert_eq!(vr(&mut g, 0, GICC_RPR), 0x80);
    assert_eq!(hr(&g, 0, GICH_APR), 1 << (0x80 >> 3));
    // 0xa0 does not preempt the running 0x80.
    assert!(!l.virq[0].level());
    vw(&mut g, 0, GICC_EOIR, 41);
    assert_eq!(hr(&g, 0, GICH_LR0 + 4) & (lr::PENDING | lr::ACTIVE), 0);
    assert_eq!(hr(&g, 0, GICH_APR), 0);
    assert_eq!(vr(&mut g, 0, GICC_RPR), 0xff);
    assert!(l.virq[0].level());
    assert_eq!(vr(&mut g, 0, GICC_IAR), 40);
}

#[test]
fn iar_is_spurious_with_no_signallable_lr() {
    let (mut g, _) = gic(1);
    enable(&mut g, 0);
    assert_eq!(vr(&mut g, 0, GICC_IAR), SPURIOUS);
    hw(&mut g, 0, GICH_VMCR, vmcr::GRP1EN | 0x1f << vmcr::PMR_SHIFT);
    hw(&mut g, 0, GICH_LR0, pending_lr(27, 0xa0));
    // Group 1 without AckCtl: GICV_IAR reads 1022, GICV_AIAR acknowledges it.
    assert_eq!(vr(&mut g, 0, GICC_IAR), SPURIOUS_GROUP1);
    assert_eq!(vr(&mut g, 0, GICC_AIAR), 27);
}

#[test]
fn split_eoi_mode_waits_for_dir_to_deactivate() {
    let (mut g, _) = gic(1);
    enable(&mut g, 0);
    let ctlr = vr(&mut g, 0, GICC_CTLR);
    vw(&mut g, 0, GICC_CTLR, ctlr | vmcr::EOIMODE);
    hw(&mut g, 0, GICH_LR0, pending_lr(27, 0xa0));
    assert_eq!(vr(&mut g, 0, GICC_IAR), 27);
    vw(&mut g, 0, GICC_EOIR, 27);
    assert_eq!(hr(&g, 0, GICH_APR), 0);
    assert_eq!(hr(&g, 0, GICH_LR0) & lr::ACTIVE, lr::ACTIVE);
    vw(&mut g, 0, GICC_DIR, 27);
    assert_eq!(hr(&g, 0, GICH_LR0) & lr::ACTIVE, 0);
}

#[test]
fn sgi_iar_carries_the_source_cpu() {
    let (mut g, _) = gic(1);
    enable(&mut g, 0);
    hw(&mut g, 0, GICH_LR0, pending_lr(5, 0xa0) | 3 << lr::CPUID_SHIFT);
    assert_eq!(vr(&mut g, 0, GICC_IAR), 3 << 10 | 5);
}

#[test]
fn eoi_of_an_lr_with_eoi_bit_raises_maintenance_and_shows_in_eisr() {
    let (mut g, _) = gic(1);
    enable(&mut g, 0);
    hw(&mut g, 0, GICH_LR0, pending_lr(27, 0xa0) | lr::EOI);
    assert_eq!(hr(&g, 0, GICH_ELRSR0), 0b1110);
    assert_eq!(vr(&mut g, 0, GICC_IAR), 27);
    assert_eq!(g.state().banked[0].level & (1 << (16 + MAINTENANCE_PPI)), 0);
    vw(&mut g, 0, GICC_EOIR, 27);
    assert_eq!(hr(&g, 0, GICH_EISR0), 1);
    assert_eq!(hr(&g, 0, GICH_MISR), misr::EOI);
    assert_eq!(hr(&g, 0, GICH_ELRSR0), 0b1110);
    assert_ne!(g.state().banked[0].level & (1 << (16 + MAINTENANCE_PPI)), 0);
    // The hypervisor empties the LR: maintenance drops.
    hw(&mut g, 0, GICH_LR0, 0);
    assert_eq!(hr(&g, 0, GICH_ELRSR0), 0b1111);
    assert_eq!(g.state().banked[0].level & (1 << (16 + MAINTENANCE_PPI)), 0);
}

#[test]
fn underflow_and_no_pending_maintenance_follow_gich_hcr() {
    let (mut g, _) = gic(1);
    hw(&mut g, 0, GICH_HCR, hcr::EN | hcr::UIE | hcr::NPIE);
    assert_eq!(hr(&g, 0, GICH_MISR), misr::U | misr::NP);
    hw(&mut g, 0, GICH_LR0, pending_lr(27, 0xa0));
    hw(&mut g, 0, GICH_LR0 + 4, pending_lr(28, 0xa0));
    assert_eq!(hr(&g, 0, GICH_MISR), 0);
}

#[test]
fn eoi_without_a_matching_lr_counts_in_eoicount() {
    let (mut g, _) = gic(1);
    enable(&mut g, 0);
    hw(&mut g, 0, GICH_HCR, hcr::EN | hcr::LRENPIE);
    vw(&mut g, 0, GICC_EOIR, 99);
    assert_eq!(hr(&g, 0, GICH_HCR) >> hcr::EOICOUNT_SHIFT, 1);
    assert_eq!(hr(&g, 0, GICH_MISR), misr::LRENP);
}

#[test]
fn deactivating_a_hardware_lr_deactivates_the_physical_interrupt() {
    let (mut g, _) = gic(1);
    enable(&mut g, 0);
    g.dist_write(0, GICD_CTLR, Size::B4, 1);
    g.dist_write(0, GICD_ISENABLER, Size::B4, 1 << 27);
    g.dist_write(0, GICD_IPRIORITYR + 24, Size::B4, 0x1000_0000);
    g.cpu_write(0, GICC_CTLR, Size::B4, 1);
    g.cpu_write(0, GICC_PMR, Size::B4, 0xff);
    g.set_ppi(0, 11, true);
    assert_eq!(g.cpu_read(0, GICC_IAR, Size::B4), 27);
    g.cpu_write(0, GICC_CTLR, Size::B4, 1 | u64::from(GICC_CTLR_EOIMODE));
    g.cpu_write(0, GICC_EOIR, Size::B4, 27);
    assert_ne!(g.state().banked[0].active & 1 << 27, 0);
    hw(&mut g, 0, GICH_LR0, pending_lr(27, 0xa0) | lr::HW | 27 << lr::PINTID_SHIFT);
    assert_eq!(vr(&mut g, 0, GICC_IAR), 27);
    vw(&mut g, 0, GICC_EOIR, 27);
    assert_eq!(g.state().banked[0].active & 1 << 27, 0);
}

#[test]
fn gicv_ctlr_pmr_and_binary_points_are_views_of_gich_vmcr() {
    let (mut g, _) = gic(1);
    assert_eq!(vr(&mut g, 0, GICC_BPR), 2);
    assert_eq!(vr(&mut g, 0, GICC_ABPR), 3);
    vw(&mut g, 0, GICC_CTLR, 0x3);
    vw(&mut g, 0, GICC_PMR, 0xf0);
    vw(&mut g, 0, GICC_BPR, 0);
    assert_eq!(vr(&mut g, 0, GICC_BPR), 2);
    vw(&mut g, 0, GICC_BPR, 5);
    assert_eq!(hr(&g, 0, GICH_VMCR), 0x3 | 5 << vmcr::BP_SHIFT | 3 << vmcr::ABP_SHIFT | 0x1e << vmcr::PMR_SHIFT);
    assert_eq!(vr(&mut g, 0, GICC_PMR), 0xf0);
}

#[test]
fn the_windows_answer_32_bit_accesses_of_the_current_cpu_only() {
    let (g, _) = gic(2);
    let g = std::sync::Arc::new(std::sync::Mutex::new(g));
    let current = CurrentCpu::new();
    let mut gich = GicVirtMmio::control(g.clone(), current.clone());
    current.set(1);
    gich.write(GICH_HCR, Size::B4, 1);
    assert_eq!(gich.read(GICH_HCR, Size::B4), 1);
    assert_eq!(gich.read(GICH_HCR, Size::B8), 0);
    current.set(0);
    assert_eq!(gich.read(GICH_HCR, Size::B4), 0);
    assert_eq!(gich.read(0x40, Size::B4), 0);
}
