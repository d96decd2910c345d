use super::*;
use crate::mock::RecordingIrq;
use std::sync::{Arc, Mutex};

type TestGic = GicV3<RecordingIrq>;

struct Lines {
    irq: Vec<RecordingIrq>,
    fiq: Vec<RecordingIrq>,
}

fn gic(cpus: usize) -> (TestGic, Lines) {
    let irq: Vec<RecordingIrq> = (0..cpus).map(|_| RecordingIrq::new()).collect();
    let fiq: Vec<RecordingIrq> = (0..cpus).map(|_| RecordingIrq::new()).collect();
    let outputs = irq.iter().zip(&fiq).map(|(i, f)| GicCpuLines { irq: i.clone(), fiq: f.clone() }).collect();
    (GicV3::new(256, outputs).unwrap(), Lines { irq, fiq })
}

fn dw(g: &mut TestGic, off: u64, v: u32) {
    g.dist_write(off, Size::B4, u64::from(v));
}
fn dr(g: &mut TestGic, off: u64) -> u32 {
    g.dist_read(off, Size::B4) as u32
}
fn rw(g: &mut TestGic, cpu: usize, off: u64, v: u32) {
    g.redist_write(cpu as u64 * REDIST_STRIDE + off, Size::B4, u64::from(v));
}
fn rr(g: &mut TestGic, cpu: usize, off: u64) -> u32 {
    g.redist_read(cpu as u64 * REDIST_STRIDE + off, Size::B4) as u32
}

/// Linux's irq-gic-v3 bring-up: everything group 1, SPIs routed to CPU 0, redistributors
/// awake, system registers on, PMR 0xf0, group 1 enabled.
fn linux_init(g: &mut TestGic) {
    dw(g, GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_ENABLE_GRP1 | GICD_CTLR_ENABLE_GRP0);
    for w in 1..9 {
        dw(g, GICD_IGROUPR + 4 * w, u32::MAX);
    }
    for c in 0..g.num_cpus() {
        rw(g, c, GICR_WAKER, 0);
        rw(g, c, SGI_BASE + GICR_IGROUPR0, u32::MAX);
        rw(g, c, SGI_BASE + GICR_ISENABLER0, 0xffff);
        g.icc_write(c, IccReg::Pmr, 0xf0);
        g.icc_write(c, IccReg::Igrpen1, 1);
    }
}

fn enable_spi(g: &mut TestGic, intid: u32, prio: u8, cpu: usize) {
    g.dist_write(GICD_IPRIORITYR + u64::from(intid), Size::B1, u64::from(prio));
    g.dist_write(GICD_IROUTER + 8 * u64::from(intid), Size::B8, u64::from(virt_affinity(cpu)));
    dw(g, GICD_ISENABLER + 4 * u64::from(intid / 32), 1 << (intid % 32));
}

#[test]
fn gicv3_ctlr_reports_are_and_ds() {
    let (mut g, _) = gic(1);
    dw(&mut g, GICD_CTLR, 0);
    assert_eq!(dr(&mut g, GICD_CTLR), GICD_CTLR_ARE | GICD_CTLR_DS);
}

#[test]
fn gicv3_pidr2_reports_archrev_3() {
    let (mut g, _) = gic(1);
    assert_eq!((dr(&mut g, GICD_PIDR2) >> 4, rr(&mut g, 0, GICR_PIDR2) >> 4), (3, 3));
}

#[test]
fn gicv3_typer_reports_lines_and_id_bits() {
    let (mut g, _) = gic(2);
    assert_eq!(dr(&mut g, GICD_TYPER), 8 | (1 << 5) | (9 << 19));
}

#[test]
fn gicv3_redist_typer_has_affinity_and_last_bit() {
    let (mut g, _) = gic(18);
    let t0 = g.redist_read(GICR_TYPER, Size::B8);
    let t17 = g.redist_read(17 * REDIST_STRIDE + GICR_TYPER, Size::B8);
    assert_eq!((t0, t17), (0, (0x0101u64 << 32) | (17 << 8) | (1 << 4)));
}

#[test]
fn gicv3_waker_children_asleep_follows_processor_sleep() {
    let (mut g, _) = gic(1);
    let before = rr(&mut g, 0, GICR_WAKER);
    rw(&mut g, 0, GICR_WAKER, 0);
    assert_eq!((before, rr(&mut g, 0, GICR_WAKER)), (GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP, 0));
}

#[test]
fn gicv3_spi_routed_by_irouter_raises_irq_of_that_cpu() {
    let (mut g, l) = gic(2);
    linux_init(&mut g);
    enable_spi(&mut g, 33, 0xa0, 1);
    g.set_irq(33, true);
    assert_eq!((l.irq[0].level(), l.irq[1].level(), g.icc_read(1, IccReg::Iar1)), (false, true, 33));
}

#[test]
fn gicv3_level_spi_still_high_after_eoi_is_signalled_again() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 40, 0xa0, 0);
    g.set_irq(40, true);
    g.icc_read(0, IccReg::Iar1);
    let during = l.irq[0].level();
    g.icc_write(0, IccReg::Eoir1, 40);
    assert_eq!((during, l.irq[0].level()), (false, true));
}

#[test]
fn gicv3_edge_spi_is_not_pending_after_eoi() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    dw(&mut g, GICD_ICFGR + 8, 2 << 2); // INTID 33 edge
    enable_spi(&mut g, 33, 0xa0, 0);
    g.set_irq(33, true);
    g.icc_read(0, IccReg::Iar1);
    g.icc_write(0, IccReg::Eoir1, 33);
    assert_eq!((l.irq[0].level(), g.icc_read(0, IccReg::Iar1)), (false, u64::from(SPURIOUS)));
}

#[test]
fn gicv3_irm_routes_to_any_cpu() {
    let (mut g, l) = gic(2);
    linux_init(&mut g);
    enable_spi(&mut g, 50, 0xa0, 0);
    g.dist_write(GICD_IROUTER + 8 * 50, Size::B8, 1 << 31);
    g.set_irq(50, true);
    assert_eq!((l.irq[0].level(), l.irq[1].level()), (true, true));
}

#[test]
fn gicv3_sgi1r_targets_cpu_by_affinity() {
    let (mut g, l) = gic(3);
    linux_init(&mut g);
    g.icc_write(0, IccReg::Sgi1r, (3 << 24) | 0b100);
    let levels: Vec<bool> = l.irq.iter().map(RecordingIrq::level).collect();
    assert_eq!((levels, g.icc_read(2, IccReg::Iar1)), (vec![false, false, true], 3));
}

#[test]
fn gicv3_sgi1r_aff1_selects_second_cluster() {
    let (mut g, l) = gic(17);
    linux_init(&mut g);
    g.icc_write(0, IccReg::Sgi1r, (1 << 16) | (1 << 24) | 1);
    assert_eq!((l.irq[16].level(), l.irq[0].level()), (true, false));
}

#[test]
fn gicv3_sgi1r_irm_targets_all_but_self() {
    let (mut g, l) = gic(3);
    linux_init(&mut g);
    g.icc_write(1, IccReg::Sgi1r, 1 << 40);
    let levels: Vec<bool> = l.irq.iter().map(RecordingIrq::level).collect();
    assert_eq!(levels, vec![true, false, true]);
}

#[test]
fn gicv3_sgi0r_ignores_group1_sgi() {
    let (mut g, l) = gic(2);
    linux_init(&mut g);
    g.icc_write(0, IccReg::Sgi0r, 0b10);
    assert!(!l.irq[1].level() && !l.fiq[1].level());
}

#[test]
fn gicv3_group0_signals_fiq_and_needs_iar0() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    dw(&mut g, GICD_IGROUPR + 4, 0);
    g.icc_write(0, IccReg::Igrpen0, 1);
    enable_spi(&mut g, 33, 0x80, 0);
    g.set_irq(33, true);
    let fiq = (l.fiq[0].level(), l.irq[0].level());
    assert_eq!((fiq, g.icc_read(0, IccReg::Iar1), g.icc_read(0, IccReg::Iar0)), ((true, false), 1023, 33));
}

#[test]
fn gicv3_ppi_raises_only_its_cpu() {
    let (mut g, l) = gic(2);
    linux_init(&mut g);
    rw(&mut g, 1, SGI_BASE + GICR_ISENABLER0, 1 << 27);
    g.set_ppi(1, 11, true);
    assert_eq!((l.irq[0].level(), l.irq[1].level(), g.icc_read(1, IccReg::Iar1)), (false, true, 27));
}

#[test]
fn gicv3_pmr_masks_and_rpr_tracks_running() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 33, 0xa0, 0);
    g.icc_write(0, IccReg::Pmr, 0xa0);
    g.set_irq(33, true);
    let masked = l.irq[0].level();
    g.icc_write(0, IccReg::Pmr, 0xf0);
    g.icc_read(0, IccReg::Iar1);
    assert_eq!((masked, g.icc_read(0, IccReg::Rpr)), (false, 0xa0));
}

#[test]
fn gicv3_higher_priority_preempts() {
    let (mut g, _) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 33, 0xa0, 0);
    enable_spi(&mut g, 34, 0x80, 0);
    g.set_irq(33, true);
    g.icc_read(0, IccReg::Iar1);
    g.set_irq(34, true);
    assert_eq!((g.icc_read(0, IccReg::Hppir1), g.icc_read(0, IccReg::Iar1)), (34, 34));
}

#[test]
fn gicv3_eoimode_needs_dir() {
    let (mut g, l) = gic(1);
    linux_init(&mut g);
    g.icc_write(0, IccReg::Ctlr, ICC_CTLR_EOIMODE);
    enable_spi(&mut g, 40, 0xa0, 0);
    g.set_irq(40, true);
    g.icc_read(0, IccReg::Iar1);
    g.icc_write(0, IccReg::Eoir1, 40);
    let before = l.irq[0].level();
    g.icc_write(0, IccReg::Dir, 40);
    assert_eq!((before, l.irq[0].level()), (false, true));
}

#[test]
fn gicv3_icc_ctlr_and_sre_read_fixed_bits() {
    let (mut g, _) = gic(1);
    g.icc_write(0, IccReg::Sre, 0);
    assert_eq!((g.icc_read(0, IccReg::Ctlr), g.icc_read(0, IccReg::Sre)), (7 << 8, 7));
}

#[test]
fn gicv3_bpr1_is_at_least_one() {
    let (mut g, _) = gic(1);
    g.icc_write(0, IccReg::Bpr1, 0);
    assert_eq!(g.icc_read(0, IccReg::Bpr1), 1);
}

#[test]
fn gicv3_icc_encodings_decode() {
    let got = [
        IccReg::from_encoding(3, 0, 12, 12, 0),
        IccReg::from_encoding(3, 0, 4, 6, 0),
        IccReg::from_encoding(3, 0, 12, 11, 5),
        IccReg::from_encoding(3, 0, 12, 9, 2),
        IccReg::from_encoding(3, 0, 12, 13, 0),
    ];
    assert_eq!(got, [Some(IccReg::Iar1), Some(IccReg::Pmr), Some(IccReg::Sgi1r), Some(IccReg::Ap1r(2)), None]);
}

#[test]
fn gicv3_dist_banked_range_is_raz_wi() {
    let (mut g, _) = gic(1);
    dw(&mut g, GICD_ISENABLER, u32::MAX);
    dw(&mut g, GICD_IPRIORITYR, u32::MAX);
    assert_eq!(
        (dr(&mut g, GICD_ISENABLER), dr(&mut g, GICD_IPRIORITYR), rr(&mut g, 0, SGI_BASE + GICR_ISENABLER0)),
        (0, 0, 0)
    );
}

#[test]
fn gicv3_redist_registers_are_per_cpu() {
    let (mut g, _) = gic(2);
    rw(&mut g, 1, SGI_BASE + GICR_IPRIORITYR + 28, 0xa0a0_a0a0);
    rw(&mut g, 1, SGI_BASE + GICR_ICFGR1, 2 << 22);
    let got = (rr(&mut g, 0, SGI_BASE + GICR_IPRIORITYR + 28), rr(&mut g, 1, SGI_BASE + GICR_IPRIORITYR + 28));
    assert_eq!(
        (got, rr(&mut g, 1, SGI_BASE + GICR_ICFGR1), rr(&mut g, 0, SGI_BASE + GICR_ICFGR0)),
        ((0, 0xa0a0_a0a0), 2 << 22, 0xaaaa_aaaa)
    );
}

#[test]
fn gicv3_irouter_reads_back_as_64_bits() {
    let (mut g, _) = gic(1);
    g.dist_write(GICD_IROUTER + 8 * 40, Size::B8, 0x0000_00ff_8001_0203);
    assert_eq!(g.dist_read(GICD_IROUTER + 8 * 40, Size::B8), 0x0000_00ff_8001_0203);
}

#[test]
fn gicv3_bad_accesses_read_zero_without_effect() {
    let (mut g, l) = gic(1);
    let before = g.state().clone();
    g.dist_write(GICD_CTLR, Size::B2, 3);
    g.dist_write(0x5000, Size::B4, 3);
    g.redist_write(REDIST_STRIDE, Size::B4, 1); // no CPU 1
    g.redist_write(SGI_BASE + 0x800, Size::B4, 1);
    g.icc_write(4, IccReg::Pmr, 0xff);
    g.icc_write(0, IccReg::Eoir1, 77);
    let reads = [g.dist_read(0x5000, Size::B4), g.redist_read(0x30, Size::B4), g.icc_read(3, IccReg::Iar1)];
    assert_eq!((reads, g.state() == &before, l.irq[0].history()), ([0; 3], true, vec![]));
}

#[test]
fn gicv3_as_core_cpu_interface_object_acknowledges_and_ends_an_spi() {
    let (g, l) = gic(1);
    let shared = Arc::new(Mutex::new(g));
    linux_init(&mut lock(&shared));
    enable_spi(&mut lock(&shared), 33, 0xa0, 0);
    // What the board hands the CPU: the same GIC behind the core contract.
    let cpu_if: mimic_core::SharedGicCpuInterface = shared.clone();
    GicV3::spi_line(&shared, 33).unwrap().set_level(true);
    let iar = cpu_if.lock().unwrap().icc_read(0, IccReg::Iar1);
    let irq_after_ack = l.irq[0].level();
    GicV3::spi_line(&shared, 33).unwrap().set_level(false);
    cpu_if.lock().unwrap().icc_write(0, IccReg::Eoir1, 33);
    let active = dr(&mut lock(&shared), GICD_ISACTIVER + 4);
    assert_eq!((iar, irq_after_ack, active), (33, false, 0));
}

#[test]
fn gicv3_reset_keeps_levels_and_set_state_restores() {
    let (mut g, _) = gic(1);
    linux_init(&mut g);
    enable_spi(&mut g, 33, 0xa0, 0);
    g.set_irq(33, true);
    let saved = g.state().clone();
    g.reset();
    let pend = dr(&mut g, GICD_ISPENDR + 4);
    let (mut h, l) = gic(1);
    h.set_state(saved);
    assert_eq!((pend, l.irq[0].level()), (1 << 1, true));
}

proptest::proptest! {
    /// Random distributor, redistributor and system-register traffic never panics.
    #[test]
    fn gicv3_random_accesses_never_panic(
        ops in proptest::collection::vec((0usize..5, 0u64..0x10000, 0u8..6, proptest::prelude::any::<u64>(), 0u32..300), 1..80),
    ) {
        let (mut g, l) = gic(3);
        linux_init(&mut g);
        let regs = [IccReg::Pmr, IccReg::Iar0, IccReg::Iar1, IccReg::Eoir0, IccReg::Eoir1, IccReg::Bpr0, IccReg::Bpr1,
            IccReg::Ctlr, IccReg::Dir, IccReg::Sgi1r, IccReg::Sgi0r, IccReg::Igrpen0, IccReg::Igrpen1, IccReg::Hppir1, IccReg::Rpr];
        for (cpu, offset, kind, v, intid) in ops {
            let size = [Size::B1, Size::B2, Size::B4, Size::B8][usize::from(kind % 4)];
            match kind {
                0 => g.dist_write(offset, size, v),
                1 => g.redist_write(offset * 8, size, v),
                2 => { g.dist_read(offset, size); g.redist_read(offset * 8, size); }
                3 => g.icc_write(cpu, regs[intid as usize % regs.len()], v),
                4 => { g.icc_read(cpu, regs[intid as usize % regs.len()]); }
                _ => { g.set_irq(intid, v & 1 != 0); g.set_ppi(cpu, intid % 17, v & 2 != 0); }
            }
        }
        for c in 0..3 {
            let (irq, fiq) = g.signal(c);
            proptest::prop_assert_eq!((l.irq[c].level(), l.fiq[c].level()), (irq, fiq));
        }
    }
}
