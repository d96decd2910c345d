use super::*;
use crate::mock::RecordingIrq;
use std::sync::Mutex;

type TestGic = GicV2<RecordingIrq>;

struct Lines {
    irq: Vec<RecordingIrq>,
    fiq: Vec<RecordingIrq>,
}

fn gic(cpus: usize) -> (TestGic, Lines) {
    let irq: Vec<RecordingIrq> = (0..cpus).map(|_| RecordingIrq::new()).collect();
    let fiq: Vec<RecordingIrq> = (0..cpus).map(|_| RecordingIrq::new()).collect();
    let outputs = irq.iter().zip(&fiq).map(|(i, f)| GicCpuLines { irq: i.clone(), fiq: f.clone() }).collect();
    (GicV2::new(VIRT_NUM_SPIS, outputs).unwrap(), Lines { irq, fiq })
}

fn dw(g: &mut TestGic, cpu: usize, off: u64, v: u32) {
    g.dist_write(cpu, off, Size::B4, u64::from(v));
}
fn dr(g: &mut TestGic, cpu: usize, off: u64) -> u32 {
    g.dist_read(cpu, off, Size::B4) as u32
}
fn cw(g: &mut TestGic, cpu: usize, off: u64, v: u32) {
    g.cpu_write(cpu, off, Size::B4, u64::from(v));
}
fn cr(g: &mut TestGic, cpu: usize, off: u64) -> u32 {
    g.cpu_read(cpu, off, Size::B4) as u32
}

/// What Linux's irq-gic does: distributor and every CPU interface on (group 0), PMR 0xf0.
fn linux_init(g: &mut TestGic) {
    dw(g, 0, GICD_CTLR, GICD_CTLR_ENABLE_GRP0);
    for c in 0..g.num_cpus() {
        cw(g, c, GICC_PMR, 0xf0);
        cw(g, c, GICC_CTLR, GICC_CTLR_ENABLE_GRP0);
    }
}

/// Enable SPI `intid` at priority `prio`, targeted at the CPUs in `targets`.
fn enable_spi(g: &mut TestGic, intid: u32, prio: u8, targets: u8) {
    g.dist_write(0, GICD_IPRIORITYR + u64::from(intid), Size::B1, u64::from(prio));
    g.dist_write(0, GICD_ITARGETSR + u64::from(intid), Size::B1, u64::from(targets));
    dw(g, 0, GICD_ISENABLER + 4 * u64::from(intid / 32), 1 << (intid % 32));
}

fn set_edge(g: &mut TestGic, intid: u32) {
    let off = GICD_ICFGR + 4 * u64::from(intid / 16);
    let v = dr(g, 0, off) | (2 << (2 * (intid % 16)));
    dw(g, 0, off, v);
}

#[test]
fn gic_typer_reports_lines_and_cpus() {
    let (mut g, _) = gic(2);
    assert_eq!(dr(&mut g, 0, GICD_TYPER), 8 | (1 << 5));
}

#[test]
fn gic_new_rejects_bad_shapes() {
    let none: Vec<GicCpuLines<RecordingIrq>> = Vec::new();
    assert_eq!(GicV2::new(32, none).unwrap_err(), GicError::CpuCount { n: 0, max: MAX_CPUS });
}

#[test]
fn gic_level_spi_raises_irq_of_target_only() {
    let (mut g, l) = gic(2);
    linux_init(&mut g);
    enable_spi(&mut g, 33, 0xa0, 0b01);
    g.set_irq(33, true);
    assert_eq!((l.irq[0].level(), l.irq[1].level(), l.fiq[0].level()), (true, false, false));
}

#[test]
fn gic_iar_acknowledges_and_lowers_line() {
    let (mut g, l) = gic(2);
    linux_init(&mut g);
    enable_spi(&mut g, 33, 0xa0, 0b01);
    g.set_irq(33, true);
    let iar = cr(&mut g, 0, GICC_IAR);
    assert_eq!((iar, l.irq[0].level(), dr(&mut g, 0, GICD_ISACTIVER + 4) & 2), (33, false, 2));
}

#[test]
fn gic_level_spi_still_high_after_eoi_is_signalled_again() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 40, 0xa0, 1);
    g.set_irq(40, true);
    cr(&mut g, 0, GICC_IAR);
    cw(&mut g, 0, GICC_EOIR, 40);
    assert_eq!((l.irq[0].level(), cr(&mut g, 0, GICC_IAR)), (true, 40));
}

#[test]
fn gic_level_spi_lowered_before_eoi_is_not_pending_after() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 40, 0xa0, 1);
    g.set_irq(40, true);
    cr(&mut g, 0, GICC_IAR);
    g.set_irq(40, false);
    cw(&mut g, 0, GICC_EOIR, 40);
    assert_eq!((l.irq[0].level(), cr(&mut g, 0, GICC_IAR)), (false, SPURIOUS));
}

#[test]
fn gic_edge_spi_pends_once_per_rising_edge() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    set_edge(&mut g, 34);
    enable_spi(&mut g, 34, 0xa0, 1);
    g.set_irq(34, true);
    cr(&mut g, 0, GICC_IAR);
    cw(&mut g, 0, GICC_EOIR, 34);
    let after_first = l.irq[0].level();
    g.set_irq(34, false);
    g.set_irq(34, true);
    assert_eq!((after_first, l.irq[0].level()), (false, true));
}

#[test]
fn gic_edge_while_active_is_pending_and_signalled_after_eoi() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    set_edge(&mut g, 34);
    enable_spi(&mut g, 34, 0xa0, 1);
    g.set_irq(34, true);
    cr(&mut g, 0, GICC_IAR);
    g.set_irq(34, false);
    g.set_irq(34, true);
    let during = l.irq[0].level();
    cw(&mut g, 0, GICC_EOIR, 34);
    assert_eq!((during, l.irq[0].level()), (false, true));
}

#[test]
fn gic_iar_with_nothing_pending_is_spurious() {
    let (mut g, _) = gic(1);
    linux_init(&mut g);
    assert_eq!(cr(&mut g, 0, GICC_IAR), SPURIOUS);
}

#[test]
fn gic_priority_at_or_below_pmr_is_masked() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    cw(&mut g, 0, GICC_PMR, 0x80);
    enable_spi(&mut g, 35, 0x80, 1);
    g.set_irq(35, true);
    assert_eq!((l.irq[0].level(), cr(&mut g, 0, GICC_IAR), cr(&mut g, 0, GICC_HPPIR)), (false, SPURIOUS, SPURIOUS));
}

#[test]
fn gic_higher_priority_preempts_running_one() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 35, 0x80, 1);
    enable_spi(&mut g, 36, 0x40, 1);
    g.set_irq(35, true);
    cr(&mut g, 0, GICC_IAR);
    g.set_irq(36, true);
    assert_eq!((l.irq[0].level(), cr(&mut g, 0, GICC_IAR)), (true, 36));
}

#[test]
fn gic_equal_priority_does_not_preempt() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 35, 0x80, 1);
    enable_spi(&mut g, 36, 0x80, 1);
    g.set_irq(35, true);
    cr(&mut g, 0, GICC_IAR);
    g.set_irq(36, true);
    assert_eq!((l.irq[0].level(), cr(&mut g, 0, GICC_IAR), cr(&mut g, 0, GICC_HPPIR)), (false, SPURIOUS, 36));
}

#[test]
fn gic_lower_intid_wins_priority_tie() {
    let (mut g, _) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 50, 0x80, 1);
    enable_spi(&mut g, 45, 0x80, 1);
    g.set_irq(50, true);
    g.set_irq(45, true);
    assert_eq!(cr(&mut g, 0, GICC_IAR), 45);
}

#[test]
fn gic_rpr_follows_acknowledge_and_eoi() {
    let (mut g, _) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 35, 0x80, 1);
    g.set_irq(35, true);
    let idle = cr(&mut g, 0, GICC_RPR);
    cr(&mut g, 0, GICC_IAR);
    let running = cr(&mut g, 0, GICC_RPR);
    cw(&mut g, 0, GICC_EOIR, 35);
    assert_eq!((idle, running, cr(&mut g, 0, GICC_RPR)), (0xff, 0x80, 0xff));
}

#[test]
fn gic_sgi_reports_source_cpu() {
    let (mut g, l) = gic(2);
    linux_init(&mut g);
    dw(&mut g, 1, GICD_SGIR, (0b01 << 16) | 3);
    assert_eq!((l.irq[0].level(), l.irq[1].level(), cr(&mut g, 0, GICC_IAR)), (true, false, 3 | (1 << 10)));
}

#[test]
fn gic_sgi_from_two_sources_is_acknowledged_twice() {
    let (mut g, _) = gic(3);
    linux_init(&mut g);
    dw(&mut g, 1, GICD_SGIR, (0b001 << 16) | 5);
    dw(&mut g, 2, GICD_SGIR, (0b001 << 16) | 5);
    let first = cr(&mut g, 0, GICC_IAR);
    cw(&mut g, 0, GICC_EOIR, first);
    assert_eq!((first, cr(&mut g, 0, GICC_IAR)), (5 | (1 << 10), 5 | (2 << 10)));
}

#[test]
fn gic_sgir_all_but_self_filter() {
    let (mut g, l) = gic(3);
    linux_init(&mut g);
    dw(&mut g, 1, GICD_SGIR, (1 << 24) | 1);
    let levels: Vec<bool> = l.irq.iter().map(RecordingIrq::level).collect();
    assert_eq!(levels, vec![true, false, true]);
}

#[test]
fn gic_sgir_self_filter() {
    let (mut g, _) = gic(2);
    linux_init(&mut g);
    dw(&mut g, 1, GICD_SGIR, (2 << 24) | 7);
    assert_eq!((cr(&mut g, 0, GICC_IAR), cr(&mut g, 1, GICC_IAR)), (SPURIOUS, 7 | (1 << 10)));
}

#[test]
fn gic_spendsgir_and_cpendsgir_set_and_clear_sources() {
    let (mut g, _) = gic(2);
    g.dist_write(0, GICD_SPENDSGIR + 2, Size::B1, 0b11);
    let set = dr(&mut g, 0, GICD_SPENDSGIR);
    g.dist_write(0, GICD_CPENDSGIR + 2, Size::B1, 0b01);
    assert_eq!((set, dr(&mut g, 0, GICD_CPENDSGIR)), (0x0003_0000, 0x0002_0000));
}

#[test]
fn gic_itargetsr_for_private_interrupts_reads_own_cpu() {
    let (mut g, _) = gic(2);
    assert_eq!((dr(&mut g, 0, GICD_ITARGETSR), dr(&mut g, 1, GICD_ITARGETSR + 28)), (0x0101_0101, 0x0202_0202));
}

#[test]
fn gic_itargetsr_spi_masks_missing_cpus() {
    let (mut g, _) = gic(2);
    g.dist_write(0, GICD_ITARGETSR + 32, Size::B1, 0xff);
    assert_eq!(dr(&mut g, 0, GICD_ITARGETSR + 32) & 0xff, 0x03);
}

#[test]
fn gic_uniprocessor_targets_raz_and_spis_reach_cpu0() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 33, 0xa0, 0);
    g.set_irq(33, true);
    assert_eq!((dr(&mut g, 0, GICD_ITARGETSR + 32), l.irq[0].level()), (0, true));
}

#[test]
fn gic_ipriorityr_byte_write_reads_back_in_word() {
    let (mut g, _) = gic(1);
    g.dist_write(0, GICD_IPRIORITYR + 33, Size::B1, 0xa0);
    assert_eq!(dr(&mut g, 0, GICD_IPRIORITYR + 32), 0x0000_a000);
}

#[test]
fn gic_private_priorities_are_banked() {
    let (mut g, _) = gic(2);
    dw(&mut g, 1, GICD_IPRIORITYR + 28, 0xa0a0_a0a0);
    assert_eq!((dr(&mut g, 0, GICD_IPRIORITYR + 28), dr(&mut g, 1, GICD_IPRIORITYR + 28)), (0, 0xa0a0_a0a0));
}

#[test]
fn gic_reset_icfgr0_and_sgi_enables_read_fixed() {
    let (mut g, _) = gic(1);
    dw(&mut g, 0, GICD_ICENABLER, u32::MAX);
    assert_eq!((dr(&mut g, 0, GICD_ICFGR), dr(&mut g, 0, GICD_ISENABLER)), (0xaaaa_aaaa, 0xffff));
}

#[test]
fn gic_ppi_raises_only_its_cpu() {
    let (mut g, l) = gic(2);
    linux_init(&mut g);
    dw(&mut g, 1, GICD_ISENABLER, 1 << 30);
    g.set_ppi(1, 14, true);
    assert_eq!((l.irq[0].level(), l.irq[1].level(), cr(&mut g, 1, GICC_IAR)), (false, true, 30));
}

#[test]
fn gic_ppi_enable_is_banked() {
    let (mut g, l) = gic(2);
    linux_init(&mut g);
    dw(&mut g, 0, GICD_ISENABLER, 1 << 27);
    g.set_ppi(1, 11, true);
    assert!(!l.irq[1].level());
}

#[test]
fn gic_group0_with_fiqen_signals_fiq() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    cw(&mut g, 0, GICC_CTLR, GICC_CTLR_ENABLE_GRP0 | GICC_CTLR_FIQEN);
    enable_spi(&mut g, 33, 0xa0, 1);
    g.set_irq(33, true);
    assert_eq!((l.irq[0].level(), l.fiq[0].level()), (false, true));
}

#[test]
fn gic_group1_without_ackctl_reads_1022_and_aiar_acknowledges() {
    let (mut g, l) = gic(1);
    dw(&mut g, 0, GICD_CTLR, GICD_CTLR_ENABLE_GRP1);
    cw(&mut g, 0, GICC_PMR, 0xff);
    cw(&mut g, 0, GICC_CTLR, GICC_CTLR_ENABLE_GRP1);
    dw(&mut g, 0, GICD_IGROUPR + 4, 1 << 1);
    enable_spi(&mut g, 33, 0xa0, 1);
    g.set_irq(33, true);
    let level = l.irq[0].level();
    assert_eq!((level, cr(&mut g, 0, GICC_IAR), cr(&mut g, 0, GICC_AIAR)), (true, SPURIOUS_GROUP1, 33));
}

#[test]
fn gic_group_disabled_in_distributor_is_not_signalled() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    dw(&mut g, 0, GICD_CTLR, 0);
    enable_spi(&mut g, 33, 0xa0, 1);
    g.set_irq(33, true);
    assert_eq!((l.irq[0].level(), cr(&mut g, 0, GICC_IAR)), (false, SPURIOUS));
}

#[test]
fn gic_eoimode_split_needs_dir_to_deactivate() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    cw(&mut g, 0, GICC_CTLR, GICC_CTLR_ENABLE_GRP0 | GICC_CTLR_EOIMODE);
    enable_spi(&mut g, 40, 0xa0, 1);
    g.set_irq(40, true);
    cr(&mut g, 0, GICC_IAR);
    cw(&mut g, 0, GICC_EOIR, 40);
    let (rpr, still_active) = (cr(&mut g, 0, GICC_RPR), l.irq[0].level());
    cw(&mut g, 0, GICC_DIR, 40);
    assert_eq!((rpr, still_active, l.irq[0].level()), (0xff, false, true));
}

#[test]
fn gic_ispendr_pends_and_icpendr_clears_spi() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 33, 0xa0, 1);
    dw(&mut g, 0, GICD_ISPENDR + 4, 1 << 1);
    let pended = l.irq[0].level();
    dw(&mut g, 0, GICD_ICPENDR + 4, 1 << 1);
    assert_eq!((pended, l.irq[0].level()), (true, false));
}

#[test]
fn gic_icpendr_does_not_clear_high_level_input() {
    let (mut g, _) = gic(1);
    g.set_irq(33, true);
    dw(&mut g, 0, GICD_ICPENDR + 4, 1 << 1);
    assert_eq!(dr(&mut g, 0, GICD_ISPENDR + 4), 1 << 1);
}

#[test]
fn gic_icenabler_disables_and_lowers_line() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 33, 0xa0, 1);
    g.set_irq(33, true);
    dw(&mut g, 0, GICD_ICENABLER + 4, 1 << 1);
    assert_eq!((l.irq[0].history(), dr(&mut g, 0, GICD_ISENABLER + 4)), (vec![true, false], 0));
}

#[test]
fn gic_icactiver_clears_active() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 33, 0xa0, 1);
    g.set_irq(33, true);
    cr(&mut g, 0, GICC_IAR);
    dw(&mut g, 0, GICD_ICACTIVER + 4, 1 << 1);
    assert_eq!(dr(&mut g, 0, GICD_ISACTIVER + 4), 0);
    // the running priority still waits for the EOI; the interrupt is pending again but masked by it
    assert!(!l.irq[0].level());
}

#[test]
fn gic_peripheral_id2_reports_gicv2() {
    let (mut g, _) = gic(1);
    assert_eq!((dr(&mut g, 0, 0xfe8) >> 4) & 0xf, 2);
}

#[test]
fn gic_bad_distributor_accesses_read_zero_without_effect() {
    let (mut g, _) = gic(1);
    let before = g.state().clone();
    dw(&mut g, 0, 0x00c, 1);
    dw(&mut g, 0, GICD_TYPER, 0);
    g.dist_write(0, GICD_ISENABLER + 1, Size::B2, 0xffff);
    g.dist_write(0, GICD_CTLR, Size::B8, 1);
    dw(&mut g, 0, GICD_IPRIORITYR + 0x3f8, 0xffff_ffff); // beyond the last INTID
    let reads = [
        u64::from(dr(&mut g, 0, 0x00c)),
        g.dist_read(0, 0x101, Size::B4),
        g.dist_read(0, 0, Size::B8),
        u64::from(dr(&mut g, 7, 0)),
    ];
    assert_eq!((reads, g.state() == &before), ([0; 4], true));
}

#[test]
fn gic_bad_cpu_interface_accesses_read_zero() {
    let (mut g, _) = gic(1);
    cw(&mut g, 0, 0x400, 1);
    g.cpu_write(0, GICC_PMR, Size::B1, 0xff);
    let reads =
        [u64::from(cr(&mut g, 0, 0x400)), g.cpu_read(0, GICC_PMR, Size::B2), u64::from(cr(&mut g, 3, GICC_IAR))];
    assert_eq!((reads, cr(&mut g, 0, GICC_PMR)), ([0; 3], 0));
}

#[test]
fn gic_eoi_of_unacknowledged_interrupt_is_ignored() {
    let (mut g, _) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 33, 0xa0, 1);
    enable_spi(&mut g, 34, 0x80, 1);
    g.set_irq(33, true);
    cr(&mut g, 0, GICC_IAR);
    cw(&mut g, 0, GICC_EOIR, 34);
    cw(&mut g, 0, GICC_EOIR, 1023);
    assert_eq!(cr(&mut g, 0, GICC_RPR), 0xa0);
}

#[test]
fn gic_binary_point_groups_priorities() {
    let (mut g, _) = gic(1);
    linux_init(&mut g);
    cw(&mut g, 0, GICC_BPR, 5); // group priority = bits 7:6
    enable_spi(&mut g, 35, 0x90, 1);
    enable_spi(&mut g, 36, 0x80, 1);
    g.set_irq(35, true);
    cr(&mut g, 0, GICC_IAR);
    g.set_irq(36, true);
    assert_eq!((cr(&mut g, 0, GICC_RPR), cr(&mut g, 0, GICC_IAR)), (0x80, SPURIOUS));
}

#[test]
fn gic_spi_line_drives_shared_gic() {
    let (g, l) = gic(1);
    let g = Arc::new(Mutex::new(g));
    linux_init(&mut lock(&g));
    enable_spi(&mut lock(&g), 33, 0xa0, 1);
    GicV2::spi_line(&g, 33).unwrap().set_level(true);
    assert!(l.irq[0].level());
}

#[test]
fn gic_line_constructors_reject_bad_numbers() {
    let (g, _) = gic(2);
    let g = Arc::new(Mutex::new(g));
    let spi = GicV2::spi_line(&g, 31).unwrap_err();
    let ppi = GicV2::ppi_line(&g, 2, 0).unwrap_err();
    assert_eq!(
        (spi, ppi),
        (GicError::NoSuchSpi { intid: 31, last: 287 }, GicError::NoSuchPpi { cpu: 2, ppi: 0, last_cpu: 1 })
    );
}

#[test]
fn gic_mmio_adapters_use_current_cpu() {
    let (g, _) = gic(2);
    let g = Arc::new(Mutex::new(g));
    let cur = CurrentCpu::new();
    let mut dist = GicDistMmio::new(g.clone(), cur.clone());
    let mut cpu = GicCpuMmio::new(g.clone(), cur.clone());
    cur.set(1);
    cpu.write(GICC_PMR, Size::B4, 0x80);
    let t = dist.read(GICD_ITARGETSR, Size::B1);
    let pmrs = lock(&g).state().cpu.iter().map(|c| c.pmr).collect::<Vec<_>>();
    assert_eq!((pmrs, t), (vec![0, 0x80], 2));
}

#[test]
fn gic_reset_keeps_high_level_inputs_pending() {
    let (mut g, _) = gic(1);
    linux_init(&mut g);
    g.set_irq(33, true);
    g.reset();
    assert_eq!((dr(&mut g, 0, GICD_ISPENDR + 4), dr(&mut g, 0, GICD_CTLR)), (1 << 1, 0));
}

#[test]
fn gic_set_state_restores_and_drives_lines() {
    let (mut g, _) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 33, 0xa0, 1);
    g.set_irq(33, true);
    let saved = g.state().clone();
    let (mut h, l) = gic(1);
    h.set_state(saved);
    assert_eq!((l.irq[0].level(), cr(&mut h, 0, GICC_IAR)), (true, 33));
}

#[test]
fn gicv2m_typer_reports_range() {
    let (g, _) = gic(1);
    let mut m = GicV2m::new(Arc::new(Mutex::new(g)), 80, 64).unwrap();
    assert_eq!(m.read(V2M_MSI_TYPER, Size::B4), (80 << 16) | 64);
}

#[test]
fn gicv2m_setspi_pulses_edge_spi() {
    let (g, l) = gic(1);
    let g = Arc::new(Mutex::new(g));
    linux_init(&mut lock(&g));
    set_edge(&mut lock(&g), 81);
    enable_spi(&mut lock(&g), 81, 0xa0, 1);
    let mut m = GicV2m::new(g.clone(), 80, 64).unwrap();
    m.write(V2M_MSI_SETSPI_NS, Size::B4, 81);
    let iar = cr(&mut lock(&g), 0, GICC_IAR);
    assert_eq!((l.irq[0].history(), iar), (vec![true, false], 81));
}

#[test]
fn gicv2m_msi_outside_range_is_ignored() {
    let (g, l) = gic(1);
    let g = Arc::new(Mutex::new(g));
    linux_init(&mut lock(&g));
    set_edge(&mut lock(&g), 33);
    enable_spi(&mut lock(&g), 33, 0xa0, 1);
    let mut m = GicV2m::new(g.clone(), 80, 64).unwrap();
    m.write(V2M_MSI_SETSPI_NS, Size::B4, 33);
    m.write(0x44, Size::B4, 81);
    assert_eq!((l.irq[0].history(), m.read(0x44, Size::B4)), (vec![], 0));
}

#[test]
fn gicv2m_new_rejects_range_past_last_spi() {
    let (g, _) = gic(1);
    assert!(GicV2m::new(Arc::new(Mutex::new(g)), 280, 64).is_err());
}

#[test]
fn gic_id_registers_read_one_byte_per_word() {
    let (mut g, _) = gic(1);
    assert_eq!((dr(&mut g, 0, 0xfe8), dr(&mut g, 0, 0xff0)), (0x2b, 0x0d));
}

proptest::proptest! {
    /// Whatever CPUs write and read wherever, the GIC neither panics nor leaves its outputs
    /// inconsistent with its state.
    #[test]
    fn gic_random_accesses_never_panic(
        ops in proptest::collection::vec((0usize..10, 0u64..0x2010, 0u8..5, proptest::prelude::any::<u32>(), 0u32..300), 1..80),
    ) {
        let (mut g, l) = gic(3);
        linux_init(&mut g);
        for (cpu, offset, kind, v, intid) in ops {
            let size = [Size::B1, Size::B2, Size::B4, Size::B8, Size::B4][usize::from(kind)];
            match kind {
                0 | 1 => g.dist_write(cpu, offset % 0x1008, size, u64::from(v)),
                2 => { g.cpu_write(cpu, offset, size, u64::from(v)); }
                3 => { g.dist_read(cpu, offset % 0x1008, size); g.cpu_read(cpu, offset, Size::B4); }
                _ => { g.set_irq(intid, v & 1 != 0); g.set_ppi(cpu, intid % 17, v & 2 != 0); }
            }
        }
        for c in 0..3 {
            let (irq, fiq) = g.signal(c);
            proptest::prop_assert_eq!((l.irq[c].level(), l.fiq[c].level()), (irq, fiq));
        }
    }
}

#[test]
fn gic_sgi_eoi_without_source_still_completes() {
    let (mut g, l) = gic(2);
    linux_init(&mut g);
    dw(&mut g, 1, GICD_SGIR, (0b01 << 16) | 3);
    cr(&mut g, 0, GICC_IAR);
    cw(&mut g, 0, GICC_EOIR, 3);
    assert_eq!((cr(&mut g, 0, GICC_RPR), dr(&mut g, 0, GICD_ISACTIVER), l.irq[0].level()), (0xff, 0, false));
}
