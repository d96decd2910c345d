//! ARM Generic Interrupt Controller v3 (IHI 0069) with a single security state
//! (GICD_CTLR.DS = 1) and no LPIs/ITS, as QEMU's `virt,gic-version=3` has it without
//! `secure=on` (`arm,gic-v3`: distributor at `0x0800_0000` (64 KiB), redistributors from
//! `0x080a_0000`, 128 KiB per CPU; Linux's `irq-gic-v3`).
//!
//! ```text
//!  set_irq(32..) ─▶ distributor ── IROUTER affinity ──┐
//!  set_ppi(c, n) ─▶ redistributor c (SGIs, PPIs) ─────┤──▶ CPU interface c (ICC_* system
//!  ICC_SGI1R_EL1 ─▶ redistributors by affinity ───────┘    registers) ──▶ IRQ (group 1) / FIQ (group 0)
//! ```
//!
//! # Wiring (for the board)
//! - [`GicV3::new`]`(num_spis, outputs)`: one [`GicCpuLines`] per CPU (IRQ and FIQ, as for
//!   [`crate::gicv2`]). CPU `c` has the affinity [`virt_affinity`]`(c)` (QEMU's `virt`: Aff1 =
//!   c / 16, Aff0 = c % 16); the CPU model's MPIDR_EL1 must report the same.
//! - Inputs: [`GicV3::set_irq`] (INTID 32..) and [`GicV3::set_ppi`] (`ppi` 0..16 = INTID
//!   16 + ppi), or [`GicV3::spi_line`] / [`GicV3::ppi_line`] as [`IrqLine`]s.
//! - MMIO: [`GicV3DistMmio`] for the distributor (nothing in it is banked: affinity routing is
//!   always on) and [`GicV3RedistMmio`] for the whole redistributor range (CPU `c`'s frames at
//!   `c * REDIST_STRIDE`: RD_base, then SGI_base at `+0x1_0000`). Neither needs a current CPU.
//! - The CPU interface is system registers, not MMIO: the contract ([`IccReg`],
//!   [`GicCpuInterface`]) lives in `mimic-core` (re-exported here), because `arch-aarch64` must
//!   not import `mimic-devices`. [`GicV3`] implements it; the board coerces its
//!   `Arc<Mutex<GicV3>>` to `mimic_core::SharedGicCpuInterface` and hands each CPU that and its
//!   index, and the CPU's MRS/MSR code calls [`GicCpuInterface::icc_read`] /
//!   [`GicCpuInterface::icc_write`] with the executing CPU's index.
//! - Lock rule as for the GICv2: device → GIC → nothing.
//!
//! # Model
//! - GICD_CTLR: EnableGrp0 (bit 0), EnableGrp1 (bit 1); ARE (bit 4) and DS (bit 6) read 1 and
//!   ignore writes (legacy, non-affinity-routed operation is not implemented); RWP reads 0.
//!   Distributor registers for INTIDs 0..32 are RAZ/WI (they live in the redistributors).
//! - Group 0 is signalled as FIQ, group 1 as IRQ; ICC_IAR0/EOIR0/HPPIR0 serve group 0,
//!   ICC_IAR1/EOIR1/HPPIR1 group 1. Priority, preemption (BPR0/BPR1, ICC_CTLR.CBPR), PMR,
//!   EOImode (ICC_CTLR bit 1) and level/edge behave as in [`crate::gicv2`]. 8 priority bits
//!   (ICC_CTLR.PRIbits = 7), 16 INTID bits reported, no LPIs.
//! - SPIs go to the CPU whose affinity matches GICD_IROUTER; with IROUTER.IRM (bit 31) set, to
//!   every CPU (the first to acknowledge takes it). An unmatched route delivers nowhere.
//! - SGIs: ICC_SGI1R/ASGI1R pend group 1 SGIs and ICC_SGI0R group 0 SGIs on the targets (a
//!   target whose SGI is configured in the other group ignores it, as QEMU without EL3); IRM
//!   (bit 40) targets every other CPU. The source CPU is not reported (affinity routing).
//! - GICR_WAKER.ProcessorSleep resets to 1 and ChildrenAsleep follows it; it does not gate
//!   delivery. ICC_SRE_EL1 reads 7 (system registers always on).
//! - Accesses: 32-bit registers take 4-byte accesses, IPRIORITYR also 1-byte ones, IROUTER and
//!   GICR_TYPER 8-byte ones (or two 4-byte halves). Other shapes, unknown offsets and writes to
//!   read-only registers are logged, read 0 and are ignored.

use crate::access::DrivenLine;
use crate::gicv2::{bit, lock, GicActiveEntry, GicCpuLines, GicError};
use mimic_core::{guest_error, IrqLine, Size};
pub use mimic_core::{GicCpuInterface, IccReg};
use mimic_memory::{MmioDevice, Shared};

/// Device-tree `compatible` (`#interrupt-cells = <3>`, `interrupt-controller`,
/// `#redistributor-regions = <1>`, `reg` = distributor then the redistributor range).
pub const COMPATIBLE: &str = "arm,gic-v3";
/// Most CPUs this model serves (QEMU's `virt` limit with GICv3).
pub const MAX_CPUS: usize = 512;
/// Most SPIs (INTIDs 32..1020).
pub const MAX_SPIS: u32 = 988;
/// The spurious INTID.
pub const SPURIOUS: u32 = 1023;
/// Size of the distributor window.
pub const DIST_SIZE: u64 = 0x1_0000;
/// Bytes of redistributor space per CPU (RD_base + SGI_base).
pub const REDIST_STRIDE: u64 = 0x2_0000;
/// Offset of SGI_base within a CPU's redistributor.
pub const SGI_BASE: u64 = 0x1_0000;

pub const GICD_CTLR: u64 = 0x0000;
pub const GICD_TYPER: u64 = 0x0004;
pub const GICD_IIDR: u64 = 0x0008;
pub const GICD_TYPER2: u64 = 0x000c;
pub const GICD_IGROUPR: u64 = 0x0080;
pub const GICD_ISENABLER: u64 = 0x0100;
pub const GICD_ICENABLER: u64 = 0x0180;
pub const GICD_ISPENDR: u64 = 0x0200;
pub const GICD_ICPENDR: u64 = 0x0280;
pub const GICD_ISACTIVER: u64 = 0x0300;
pub const GICD_ICACTIVER: u64 = 0x0380;
pub const GICD_IPRIORITYR: u64 = 0x0400;
pub const GICD_ICFGR: u64 = 0x0c00;
pub const GICD_IGRPMODR: u64 = 0x0d00;
pub const GICD_IROUTER: u64 = 0x6000;
pub const GICD_PIDR2: u64 = 0xffe8;

pub const GICR_CTLR: u64 = 0x0000;
pub const GICR_IIDR: u64 = 0x0004;
pub const GICR_TYPER: u64 = 0x0008;
pub const GICR_WAKER: u64 = 0x0014;
pub const GICR_PIDR2: u64 = 0xffe8;
/// SGI_base registers (offsets from SGI_BASE).
pub const GICR_IGROUPR0: u64 = 0x0080;
pub const GICR_ISENABLER0: u64 = 0x0100;
pub const GICR_ICENABLER0: u64 = 0x0180;
pub const GICR_ISPENDR0: u64 = 0x0200;
pub const GICR_ICPENDR0: u64 = 0x0280;
pub const GICR_ISACTIVER0: u64 = 0x0300;
pub const GICR_ICACTIVER0: u64 = 0x0380;
pub const GICR_IPRIORITYR: u64 = 0x0400;
pub const GICR_ICFGR0: u64 = 0x0c00;
pub const GICR_ICFGR1: u64 = 0x0c04;
pub const GICR_IGRPMODR0: u64 = 0x0d00;
pub const GICR_NSACR: u64 = 0x0e00;

pub const GICD_CTLR_ENABLE_GRP0: u32 = 1 << 0;
pub const GICD_CTLR_ENABLE_GRP1: u32 = 1 << 1;
pub const GICD_CTLR_ARE: u32 = 1 << 4;
pub const GICD_CTLR_DS: u32 = 1 << 6;

pub const GICR_WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
pub const GICR_WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;

pub const ICC_CTLR_CBPR: u64 = 1 << 0;
pub const ICC_CTLR_EOIMODE: u64 = 1 << 1;
/// ICC_CTLR_EL1 read-only part: PRIbits = 7 (8 bits), IDbits = 0 (16 bits).
const ICC_CTLR_RO: u64 = 7 << 8;

const IIDR: u32 = 0x0300_043b;
/// PIDR4..7, PIDR0..3, CIDR0..3 at `0xffd0..0x10000` (QEMU's `gicd_ids` / `gicr_ids`).
const DIST_ID: [u8; 12] = [0x44, 0x00, 0x00, 0x00, 0x92, 0xb4, 0x3b, 0x00, 0x0d, 0xf0, 0x05, 0xb1];
const REDIST_ID: [u8; 12] = [0x44, 0x00, 0x00, 0x00, 0x93, 0xb4, 0x3b, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

/// The affinity (MPIDR_EL1 bits 23:0: Aff2.Aff1.Aff0) QEMU's `virt` gives CPU `cpu` with a
/// GICv3: 16 CPUs per cluster.
pub const fn virt_affinity(cpu: usize) -> u32 {
    (((cpu / 16) as u32) << 8) | (cpu % 16) as u32
}

/// One CPU's redistributor (SGIs 0–15, PPIs 16–31) and CPU interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GicV3CpuState {
    pub enable: u32,
    /// Edge/software pend latch (SGIs are always edge).
    pub pend: u32,
    pub active: u32,
    /// PPI input levels.
    pub level: u32,
    /// Edge-triggered PPIs (bits 16..32).
    pub edge: u32,
    pub group: u32,
    pub priority: [u8; 32],
    pub waker: u32,
    // CPU interface
    pub pmr: u8,
    pub bpr0: u8,
    pub bpr1: u8,
    pub icc_ctlr: u64,
    pub igrpen0: bool,
    pub igrpen1: bool,
    pub running: Vec<GicActiveEntry>,
}

impl Default for GicV3CpuState {
    fn default() -> Self {
        GicV3CpuState {
            enable: 0,
            pend: 0,
            active: 0,
            level: 0,
            edge: 0,
            group: 0,
            priority: [0; 32],
            waker: GICR_WAKER_PROCESSOR_SLEEP,
            pmr: 0,
            bpr0: 0,
            bpr1: 1,
            icc_ctlr: 0,
            igrpen0: false,
            igrpen1: false,
            running: Vec::new(),
        }
    }
}

/// Every guest-visible bit of the GICv3. SPI bit vectors are 32-bit words indexed by
/// `intid / 32` (word 0 unused).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GicV3State {
    pub ctlr: u32,
    pub enable: Vec<u32>,
    pub pend: Vec<u32>,
    pub active: Vec<u32>,
    pub level: Vec<u32>,
    pub edge: Vec<u32>,
    pub group: Vec<u32>,
    /// Priority per INTID (0..32 unused).
    pub priority: Vec<u8>,
    /// GICD_IROUTER per INTID (0..32 unused).
    pub router: Vec<u64>,
    pub cpu: Vec<GicV3CpuState>,
}

/// A GICv3 distributor, one redistributor and CPU interface per entry of `outputs`.
pub struct GicV3<I> {
    num_irqs: u32,
    state: GicV3State,
    outputs: Vec<(DrivenLine<I>, DrivenLine<I>)>,
}

impl<I> std::fmt::Debug for GicV3<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GicV3").field("num_irqs", &self.num_irqs).field("state", &self.state).finish_non_exhaustive()
    }
}

fn set_bits(word: &mut u32, mask: u32, on: bool) {
    if on {
        *word |= mask;
    } else {
        *word &= !mask;
    }
}

/// IROUTER's affinity fields as packed in [`virt_affinity`] (Aff3 is not supported: A3V = 0).
fn router_affinity(router: u64) -> u32 {
    (router & 0xff_ffff) as u32
}

impl<I: IrqLine> GicV3<I> {
    /// A GICv3 in its reset state with `num_spis` SPIs (rounded up to a multiple of 32) and one
    /// redistributor and CPU interface per entry of `outputs`.
    pub fn new(num_spis: u32, outputs: Vec<GicCpuLines<I>>) -> Result<Self, GicError> {
        if outputs.is_empty() || outputs.len() > MAX_CPUS {
            return Err(GicError::CpuCount { n: outputs.len(), max: MAX_CPUS });
        }
        if num_spis > MAX_SPIS {
            return Err(GicError::SpiCount(num_spis));
        }
        let num_irqs = ((32 + num_spis).div_ceil(32) * 32).min(1020);
        let state = Self::reset_state(num_irqs, outputs.len());
        let outputs = outputs.into_iter().map(|l| (DrivenLine::new(l.irq), DrivenLine::new(l.fiq))).collect();
        Ok(GicV3 { num_irqs, state, outputs })
    }

    fn reset_state(num_irqs: u32, cpus: usize) -> GicV3State {
        let words = num_irqs.div_ceil(32) as usize;
        GicV3State {
            ctlr: 0,
            enable: vec![0; words],
            pend: vec![0; words],
            active: vec![0; words],
            level: vec![0; words],
            edge: vec![0; words],
            group: vec![0; words],
            priority: vec![0; num_irqs as usize],
            router: vec![0; num_irqs as usize],
            cpu: vec![GicV3CpuState::default(); cpus],
        }
    }

    /// An [`IrqLine`] driving SPI `intid` (32..) of the shared `gic`.
    pub fn spi_line(gic: &Shared<Self>, intid: u32) -> Result<GicV3SpiLine<I>, GicError> {
        let last = lock(gic).num_irqs - 1;
        if !(32..=last).contains(&intid) {
            return Err(GicError::NoSuchSpi { intid, last });
        }
        Ok(GicV3SpiLine { gic: gic.clone(), intid })
    }

    /// An [`IrqLine`] driving PPI `ppi` (0..16) of CPU `cpu` of the shared `gic`.
    pub fn ppi_line(gic: &Shared<Self>, cpu: usize, ppi: u32) -> Result<GicV3PpiLine<I>, GicError> {
        let last_cpu = lock(gic).num_cpus() - 1;
        if cpu > last_cpu || ppi >= 16 {
            return Err(GicError::NoSuchPpi { cpu, ppi, last_cpu });
        }
        Ok(GicV3PpiLine { gic: gic.clone(), cpu, ppi })
    }

    pub fn num_cpus(&self) -> usize {
        self.outputs.len()
    }

    pub fn num_irqs(&self) -> u32 {
        self.num_irqs
    }

    /// Bytes of redistributor space the board maps for this GIC.
    pub fn redist_size(&self) -> u64 {
        self.num_cpus() as u64 * REDIST_STRIDE
    }

    /// Set the input level of SPI `intid` (32..num_irqs; others are ignored with a warning).
    pub fn set_irq(&mut self, intid: u32, level: bool) {
        if intid < 32 || intid >= self.num_irqs {
            tracing::warn!("gicv3: set_irq on nonexistent SPI {intid}");
            return;
        }
        let (w, b) = bit(intid);
        let s = &mut self.state;
        if level && s.level[w] & b == 0 && s.edge[w] & b != 0 {
            s.pend[w] |= b;
        }
        set_bits(&mut s.level[w], b, level);
        self.update();
    }

    /// Set the input level of PPI `ppi` (0..16, INTID 16 + ppi) of CPU `cpu`.
    pub fn set_ppi(&mut self, cpu: usize, ppi: u32, level: bool) {
        if cpu >= self.num_cpus() || ppi >= 16 {
            tracing::warn!("gicv3: set_ppi on nonexistent PPI {ppi} of CPU {cpu}");
            return;
        }
        let b = 1u32 << (16 + ppi);
        let c = &mut self.state.cpu[cpu];
        if level && c.level & b == 0 && c.edge & b != 0 {
            c.pend |= b;
        }
        set_bits(&mut c.level, b, level);
        self.update();
    }

    pub fn irq_level(&self, cpu: usize) -> bool {
        self.outputs.get(cpu).is_some_and(|o| o.0.level())
    }

    pub fn fiq_level(&self, cpu: usize) -> bool {
        self.outputs.get(cpu).is_some_and(|o| o.1.level())
    }

    /// Hardware reset; input levels (wires) stay.
    pub fn reset(&mut self) {
        let mut fresh = Self::reset_state(self.num_irqs, self.num_cpus());
        fresh.level.clone_from(&self.state.level);
        for (f, old) in fresh.cpu.iter_mut().zip(&self.state.cpu) {
            f.level = old.level;
        }
        self.state = fresh;
        self.update();
    }

    pub fn state(&self) -> &GicV3State {
        &self.state
    }

    /// Restore a saved state (vectors of other lengths are cut or zero-padded) and drive the
    /// outputs to match.
    pub fn set_state(&mut self, mut state: GicV3State) {
        let words = self.num_irqs.div_ceil(32) as usize;
        for v in [&mut state.enable, &mut state.pend, &mut state.active, &mut state.level, &mut state.edge] {
            v.resize(words, 0);
        }
        state.group.resize(words, 0);
        state.priority.resize(self.num_irqs as usize, 0);
        state.router.resize(self.num_irqs as usize, 0);
        state.cpu.resize(self.num_cpus(), GicV3CpuState::default());
        self.state = state;
        for cpu in 0..self.num_cpus() {
            let (irq, fiq) = self.signal(cpu);
            self.outputs[cpu].0.force(irq);
            self.outputs[cpu].1.force(fiq);
        }
    }

    // ---- per-interrupt views -------------------------------------------------------------

    fn group_of(&self, cpu: usize, intid: u32) -> usize {
        let g = if intid < 32 {
            self.state.cpu[cpu].group & (1 << intid)
        } else {
            let (w, b) = bit(intid);
            self.state.group[w] & b
        };
        usize::from(g != 0)
    }

    fn priority_of(&self, cpu: usize, intid: u32) -> u8 {
        if intid < 32 {
            self.state.cpu[cpu].priority[intid as usize]
        } else {
            self.state.priority[intid as usize]
        }
    }

    fn group_priority(&self, cpu: usize, intid: u32) -> u8 {
        let c = &self.state.cpu[cpu];
        let bpr = if self.group_of(cpu, intid) == 1 && c.icc_ctlr & ICC_CTLR_CBPR == 0 {
            c.bpr1.saturating_sub(1)
        } else {
            c.bpr0
        };
        let mask = (0xffu32 << ((bpr & 7) + 1)) as u8;
        self.priority_of(cpu, intid) & mask
    }

    fn running_priority(&self, cpu: usize) -> u8 {
        self.state.cpu[cpu].running.iter().map(|e| e.group_prio).min().unwrap_or(0xff)
    }

    fn set_active(&mut self, cpu: usize, intid: u32, on: bool) {
        if intid < 32 {
            set_bits(&mut self.state.cpu[cpu].active, 1 << intid, on);
        } else {
            let (w, b) = bit(intid);
            set_bits(&mut self.state.active[w], b, on);
        }
    }

    fn routed_to(&self, cpu: usize, intid: u32) -> bool {
        let r = self.state.router[intid as usize];
        r & (1 << 31) != 0 || router_affinity(r) == virt_affinity(cpu)
    }

    /// The highest-priority interrupt forwarded to `cpu` (pending, enabled, inactive, routed
    /// there, its group enabled in GICD_CTLR); ties to the lowest INTID.
    fn best(&self, cpu: usize) -> Option<u32> {
        let s = &self.state;
        if s.ctlr & (GICD_CTLR_ENABLE_GRP0 | GICD_CTLR_ENABLE_GRP1) == 0 {
            return None;
        }
        let mut best: Option<(u8, u32)> = None;
        let mut consider = |intid: u32| {
            if s.ctlr & (1 << self.group_of(cpu, intid)) == 0 {
                return;
            }
            let p = self.priority_of(cpu, intid);
            if best.is_none_or(|(bp, _)| p < bp) {
                best = Some((p, intid));
            }
        };
        let c = &s.cpu[cpu];
        let mut bits = (c.pend | (c.level & !c.edge & 0xffff_0000)) & c.enable & !c.active;
        while bits != 0 {
            let intid = bits.trailing_zeros();
            bits &= bits - 1;
            consider(intid);
        }
        for w in 1..s.enable.len() {
            let mut bits = (s.pend[w] | (s.level[w] & !s.edge[w])) & s.enable[w] & !s.active[w];
            while bits != 0 {
                let intid = w as u32 * 32 + bits.trailing_zeros();
                bits &= bits - 1;
                if self.routed_to(cpu, intid) {
                    consider(intid);
                }
            }
        }
        best.map(|(_, i)| i)
    }

    fn group_enabled(&self, cpu: usize, g: usize) -> bool {
        let c = &self.state.cpu[cpu];
        if g == 0 {
            c.igrpen0
        } else {
            c.igrpen1
        }
    }

    fn signal(&self, cpu: usize) -> (bool, bool) {
        let Some(intid) = self.best(cpu) else {
            return (false, false);
        };
        let g = self.group_of(cpu, intid);
        if !self.group_enabled(cpu, g)
            || self.priority_of(cpu, intid) >= self.state.cpu[cpu].pmr
            || self.group_priority(cpu, intid) >= self.running_priority(cpu)
        {
            return (false, false);
        }
        (g == 1, g == 0)
    }

    fn update(&mut self) {
        for cpu in 0..self.num_cpus() {
            let (irq, fiq) = self.signal(cpu);
            self.outputs[cpu].0.set(irq);
            self.outputs[cpu].1.set(fiq);
        }
    }

    // ---- CPU interface -------------------------------------------------------------------

    fn highest_pending(&self, cpu: usize, group: usize) -> u32 {
        match self.best(cpu) {
            Some(intid)
                if self.group_of(cpu, intid) == group && self.priority_of(cpu, intid) < self.state.cpu[cpu].pmr =>
            {
                intid
            }
            _ => SPURIOUS,
        }
    }

    fn acknowledge(&mut self, cpu: usize, group: usize) -> u32 {
        let intid = self.highest_pending(cpu, group);
        if intid == SPURIOUS || !self.group_enabled(cpu, group) {
            return SPURIOUS;
        }
        let group_prio = self.group_priority(cpu, intid);
        if group_prio >= self.running_priority(cpu) {
            return SPURIOUS;
        }
        if intid < 32 {
            self.state.cpu[cpu].pend &= !(1 << intid);
        } else {
            let (w, b) = bit(intid);
            self.state.pend[w] &= !b;
        }
        self.set_active(cpu, intid, true);
        self.state.cpu[cpu].running.push(GicActiveEntry { iar: intid, group_prio });
        self.update();
        intid
    }

    fn end_of_interrupt(&mut self, cpu: usize, value: u64, group: usize) {
        let intid = (value & 0xff_ffff) as u32;
        if intid >= self.num_irqs {
            if !(1020..=1023).contains(&intid) {
                guest_error!("gicv3: CPU {cpu} EOI of nonexistent INTID {intid}");
            }
            return;
        }
        if self.group_of(cpu, intid) != group {
            guest_error!("gicv3: CPU {cpu} EOI{group} of INTID {intid} in the other group");
            return;
        }
        let running = &mut self.state.cpu[cpu].running;
        let Some(pos) = running.iter().rposition(|e| e.iar == intid) else {
            guest_error!("gicv3: CPU {cpu} EOI of INTID {intid} that it did not acknowledge");
            return;
        };
        running.remove(pos);
        if self.state.cpu[cpu].icc_ctlr & ICC_CTLR_EOIMODE == 0 {
            self.set_active(cpu, intid, false);
        }
        self.update();
    }

    fn send_sgi(&mut self, cpu: usize, value: u64, group: usize) {
        let sgi = ((value >> 24) & 0xf) as u32;
        let irm = value & (1 << 40) != 0;
        let aff_hi = (((value >> 32) & 0xff) << 16 | ((value >> 16) & 0xff) << 8) as u32; // Aff2.Aff1
        let rs = ((value >> 44) & 0xf) as u32;
        let list = (value & 0xffff) as u32;
        for t in 0..self.num_cpus() {
            let aff = virt_affinity(t);
            let hit = if irm {
                t != cpu
            } else {
                let aff0 = aff & 0xff;
                aff & 0xff_ff00 == aff_hi && aff0 / 16 == rs && list & (1 << (aff0 % 16)) != 0
            };
            if hit && self.group_of(t, sgi) == group {
                self.state.cpu[t].pend |= 1 << sgi;
            }
        }
        self.update();
    }

    /// Read CPU interface register `reg` as CPU `cpu` (0 for a CPU that does not exist).
    pub fn icc_read(&mut self, cpu: usize, reg: IccReg) -> u64 {
        if cpu >= self.num_cpus() {
            guest_error!("gicv3: ICC read of {reg:?} by nonexistent CPU {cpu}");
            return 0;
        }
        let c = &self.state.cpu[cpu];
        match reg {
            IccReg::Pmr => u64::from(c.pmr),
            IccReg::Bpr0 => u64::from(c.bpr0),
            IccReg::Bpr1 => u64::from(if c.icc_ctlr & ICC_CTLR_CBPR != 0 { (c.bpr0 + 1).min(7) } else { c.bpr1 }),
            IccReg::Ctlr => c.icc_ctlr | ICC_CTLR_RO,
            IccReg::Sre => 7,
            IccReg::SreEl2 => 0xf,
            IccReg::Igrpen0 => u64::from(c.igrpen0),
            IccReg::Igrpen1 => u64::from(c.igrpen1),
            IccReg::Rpr => u64::from(self.running_priority(cpu)),
            IccReg::Iar0 => u64::from(self.acknowledge(cpu, 0)),
            IccReg::Iar1 => u64::from(self.acknowledge(cpu, 1)),
            IccReg::Hppir0 => u64::from(self.highest_pending(cpu, 0)),
            IccReg::Hppir1 => u64::from(self.highest_pending(cpu, 1)),
            IccReg::Ap0r(_) | IccReg::Ap1r(_) => 0,
            IccReg::Eoir0 | IccReg::Eoir1 | IccReg::Dir | IccReg::Sgi0r | IccReg::Sgi1r | IccReg::Asgi1r => {
                guest_error!("gicv3: CPU {cpu} reads write-only {reg:?}");
                0
            }
        }
    }

    /// Write CPU interface register `reg` as CPU `cpu`.
    pub fn icc_write(&mut self, cpu: usize, reg: IccReg, value: u64) {
        if cpu >= self.num_cpus() {
            guest_error!("gicv3: ICC write of {reg:?} by nonexistent CPU {cpu}");
            return;
        }
        let c = &mut self.state.cpu[cpu];
        match reg {
            IccReg::Pmr => c.pmr = value as u8,
            IccReg::Bpr0 => c.bpr0 = (value & 7) as u8,
            IccReg::Bpr1 => {
                if c.icc_ctlr & ICC_CTLR_CBPR == 0 {
                    c.bpr1 = ((value & 7) as u8).max(1);
                }
            }
            IccReg::Ctlr => c.icc_ctlr = value & (ICC_CTLR_CBPR | ICC_CTLR_EOIMODE),
            IccReg::Sre | IccReg::SreEl2 | IccReg::Ap0r(_) | IccReg::Ap1r(_) => {}
            IccReg::Igrpen0 => c.igrpen0 = value & 1 != 0,
            IccReg::Igrpen1 => c.igrpen1 = value & 1 != 0,
            IccReg::Eoir0 => return self.end_of_interrupt(cpu, value, 0),
            IccReg::Eoir1 => return self.end_of_interrupt(cpu, value, 1),
            IccReg::Dir => {
                let intid = (value & 0xff_ffff) as u32;
                if intid < self.num_irqs {
                    self.set_active(cpu, intid, false);
                }
            }
            IccReg::Sgi0r => return self.send_sgi(cpu, value, 0),
            IccReg::Sgi1r | IccReg::Asgi1r => return self.send_sgi(cpu, value, 1),
            IccReg::Iar0 | IccReg::Iar1 | IccReg::Hppir0 | IccReg::Hppir1 | IccReg::Rpr => {
                guest_error!("gicv3: CPU {cpu} writes {value:#x} to read-only {reg:?}");
                return;
            }
        }
        self.update();
    }

    // ---- distributor ---------------------------------------------------------------------

    /// The SPI bitmap word a distributor register word at `offset` from `base` covers.
    fn spi_word(&self, base: u64, offset: u64) -> Option<usize> {
        let w = ((offset - base) / 4) as usize;
        (w < self.state.enable.len()).then_some(w)
    }

    fn dist_read32(&self, offset: u64) -> Option<u32> {
        let s = &self.state;
        let typer = (self.num_irqs / 32 - 1) | (((self.num_cpus().min(8) - 1) as u32) << 5) | (9 << 19);
        Some(match offset {
            GICD_CTLR => s.ctlr | GICD_CTLR_ARE | GICD_CTLR_DS,
            GICD_TYPER => typer,
            GICD_IIDR => IIDR,
            GICD_TYPER2 => 0,
            0x0080..0x0100 => self.spi_word(GICD_IGROUPR, offset).map_or(0, |w| if w == 0 { 0 } else { s.group[w] }),
            0x0100..0x0200 => {
                self.spi_word(GICD_ISENABLER, offset & !0x80).map_or(0, |w| if w == 0 { 0 } else { s.enable[w] })
            }
            0x0200..0x0300 => self.spi_word(GICD_ISPENDR, offset & !0x80).map_or(0, |w| {
                if w == 0 {
                    0
                } else {
                    s.pend[w] | (s.level[w] & !s.edge[w])
                }
            }),
            0x0300..0x0400 => {
                self.spi_word(GICD_ISACTIVER, offset & !0x80).map_or(0, |w| if w == 0 { 0 } else { s.active[w] })
            }
            0x0400..0x0800 => {
                let first = (offset - GICD_IPRIORITYR) as usize;
                if first < 32 || first >= self.num_irqs as usize {
                    0
                } else {
                    u32::from_le_bytes([
                        s.priority[first],
                        s.priority[first + 1],
                        s.priority[first + 2],
                        s.priority[first + 3],
                    ])
                }
            }
            0x0c00..0x0d00 => {
                let first = ((offset - GICD_ICFGR) * 4) as u32;
                if first < 32 || first >= self.num_irqs {
                    0
                } else {
                    let edge = s.edge[(first / 32) as usize] >> (first % 32);
                    (0..16).filter(|i| edge & (1 << i) != 0).fold(0, |a, i| a | (2 << (2 * i)))
                }
            }
            0x0d00..0x0d80 => 0,
            0x6000..0x8000 => {
                let intid = ((offset - GICD_IROUTER) / 8) as usize;
                let r = if (32..self.num_irqs as usize).contains(&intid) { s.router[intid] } else { 0 };
                if offset.is_multiple_of(8) {
                    r as u32
                } else {
                    (r >> 32) as u32
                }
            }
            0xffd0..0x10000 => u32::from(DIST_ID[((offset - 0xffd0) / 4) as usize]),
            _ => return None,
        })
    }

    fn dist_write32(&mut self, offset: u64, v: u32) -> bool {
        let n = self.num_irqs;
        match offset {
            GICD_CTLR => self.state.ctlr = v & (GICD_CTLR_ENABLE_GRP0 | GICD_CTLR_ENABLE_GRP1),
            GICD_TYPER | GICD_IIDR | GICD_TYPER2 | 0xffd0..0x10000 => {
                guest_error!("gicv3: write {v:#x} to read-only distributor register {offset:#x}");
            }
            0x0080..0x0100 => {
                if let Some(w) = self.spi_word(GICD_IGROUPR, offset).filter(|&w| w != 0) {
                    self.state.group[w] = v;
                }
            }
            0x0100..0x0400 => {
                let base = offset & !0x7f;
                let Some(w) = self.spi_word(base & !0x80, offset & !0x80) else { return true };
                if w == 0 {
                    return true; // banked INTIDs live in the redistributors
                }
                let set = offset & 0x80 == 0;
                let s = &mut self.state;
                match base & !0x80 {
                    GICD_ISENABLER => set_bits(&mut s.enable[w], v, set),
                    GICD_ISPENDR => set_bits(&mut s.pend[w], v, set),
                    GICD_ISACTIVER => set_bits(&mut s.active[w], v, set),
                    _ => {}
                }
            }
            0x0400..0x0800 => {
                let first = (offset - GICD_IPRIORITYR) as u32;
                for (i, b) in v.to_le_bytes().into_iter().enumerate() {
                    let intid = first + i as u32;
                    if (32..n).contains(&intid) {
                        self.state.priority[intid as usize] = b;
                    }
                }
            }
            0x0c00..0x0d00 => {
                let first = ((offset - GICD_ICFGR) * 4) as u32;
                if first >= 32 && first < n {
                    let word = &mut self.state.edge[(first / 32) as usize];
                    for i in 0..16 {
                        set_bits(word, 1 << ((first + i) % 32), v & (2 << (2 * i)) != 0);
                    }
                }
            }
            0x0d00..0x0d80 => {}
            0x6000..0x8000 => {
                let intid = ((offset - GICD_IROUTER) / 8) as usize;
                if (32..n as usize).contains(&intid) {
                    let r = &mut self.state.router[intid];
                    *r = if offset.is_multiple_of(8) {
                        (*r & !0xffff_ffff) | u64::from(v & 0x80ff_ffff)
                    } else {
                        (*r & 0xffff_ffff) | (u64::from(v & 0xff) << 32)
                    };
                }
            }
            _ => return false,
        }
        true
    }

    /// A distributor read of width `size` at `offset`.
    pub fn dist_read(&mut self, offset: u64, size: Size) -> u64 {
        let v = match size {
            Size::B4 if offset.is_multiple_of(4) => self.dist_read32(offset).map(u64::from),
            Size::B8 if offset.is_multiple_of(8) => self
                .dist_read32(offset)
                .zip(self.dist_read32(offset + 4))
                .map(|(lo, hi)| u64::from(lo) | u64::from(hi) << 32),
            Size::B1 if (GICD_IPRIORITYR..0x0800).contains(&offset) => {
                self.dist_read32(offset & !3).map(|w| u64::from((w >> (8 * (offset % 4))) as u8))
            }
            _ => None,
        };
        v.unwrap_or_else(|| {
            guest_error!("gicv3: {}-byte distributor read at bad offset {offset:#x}", size.bytes());
            0
        })
    }

    /// A distributor write of width `size` at `offset`.
    pub fn dist_write(&mut self, offset: u64, size: Size, value: u64) {
        let ok = match size {
            Size::B4 if offset.is_multiple_of(4) => self.dist_write32(offset, value as u32),
            Size::B8 if offset.is_multiple_of(8) => {
                self.dist_write32(offset, value as u32) && self.dist_write32(offset + 4, (value >> 32) as u32)
            }
            Size::B1 if (GICD_IPRIORITYR..0x0800).contains(&offset) => {
                let intid = (offset - GICD_IPRIORITYR) as u32;
                if (32..self.num_irqs).contains(&intid) {
                    self.state.priority[intid as usize] = value as u8;
                }
                true
            }
            _ => false,
        };
        if !ok {
            guest_error!("gicv3: {}-byte distributor write {value:#x} at bad offset {offset:#x}", size.bytes());
        }
        self.update();
    }

    // ---- redistributors ------------------------------------------------------------------

    fn redist_read32(&self, cpu: usize, offset: u64) -> Option<u32> {
        let c = &self.state.cpu[cpu];
        let last = cpu + 1 == self.num_cpus();
        Some(match offset {
            GICR_CTLR => 0,
            GICR_IIDR => IIDR,
            GICR_TYPER => ((cpu as u32) << 8) | (u32::from(last) << 4),
            0x000c => virt_affinity(cpu),
            0x0010 => 0, // GICR_STATUSR
            GICR_WAKER => {
                let sleep = c.waker & GICR_WAKER_PROCESSOR_SLEEP;
                sleep | if sleep != 0 { GICR_WAKER_CHILDREN_ASLEEP } else { 0 }
            }
            0xffd0..0x10000 => u32::from(REDIST_ID[((offset - 0xffd0) / 4) as usize]),
            o if o >= SGI_BASE => match o - SGI_BASE {
                GICR_IGROUPR0 => c.group,
                GICR_ISENABLER0 | GICR_ICENABLER0 => c.enable,
                GICR_ISPENDR0 | GICR_ICPENDR0 => c.pend | (c.level & !c.edge & 0xffff_0000),
                GICR_ISACTIVER0 | GICR_ICACTIVER0 => c.active,
                p @ 0x0400..0x0420 => {
                    let i = (p - GICR_IPRIORITYR) as usize;
                    u32::from_le_bytes([c.priority[i], c.priority[i + 1], c.priority[i + 2], c.priority[i + 3]])
                }
                GICR_ICFGR0 => 0xaaaa_aaaa,
                GICR_ICFGR1 => {
                    let edge = c.edge >> 16;
                    (0..16).filter(|i| edge & (1 << i) != 0).fold(0, |a, i| a | (2 << (2 * i)))
                }
                GICR_IGRPMODR0 | GICR_NSACR => 0,
                _ => return None,
            },
            _ => return None,
        })
    }

    fn redist_write32(&mut self, cpu: usize, offset: u64, v: u32) -> bool {
        let c = &mut self.state.cpu[cpu];
        match offset {
            GICR_CTLR => {}
            GICR_WAKER => c.waker = v & GICR_WAKER_PROCESSOR_SLEEP,
            GICR_IIDR | GICR_TYPER | 0x000c | 0x0010 | 0xffd0..0x10000 => {
                guest_error!("gicv3: write {v:#x} to read-only redistributor register {offset:#x}");
            }
            o if o >= SGI_BASE => match o - SGI_BASE {
                GICR_IGROUPR0 => c.group = v,
                GICR_ISENABLER0 => c.enable |= v,
                GICR_ICENABLER0 => c.enable &= !v,
                GICR_ISPENDR0 => c.pend |= v,
                GICR_ICPENDR0 => c.pend &= !v,
                GICR_ISACTIVER0 => c.active |= v,
                GICR_ICACTIVER0 => c.active &= !v,
                p @ 0x0400..0x0420 => {
                    let i = (p - GICR_IPRIORITYR) as usize;
                    c.priority[i..i + 4].copy_from_slice(&v.to_le_bytes());
                }
                GICR_ICFGR0 | GICR_IGRPMODR0 | GICR_NSACR => {}
                GICR_ICFGR1 => {
                    for i in 0..16 {
                        set_bits(&mut c.edge, 1 << (16 + i), v & (2 << (2 * i)) != 0);
                    }
                }
                _ => return false,
            },
            _ => return false,
        }
        true
    }

    /// A read of width `size` at `offset` into the redistributor range (CPU `offset /
    /// REDIST_STRIDE`).
    pub fn redist_read(&mut self, offset: u64, size: Size) -> u64 {
        let cpu = (offset / REDIST_STRIDE) as usize;
        let off = offset % REDIST_STRIDE;
        let v = if cpu >= self.num_cpus() {
            None
        } else {
            match size {
                Size::B4 if off.is_multiple_of(4) => self.redist_read32(cpu, off).map(u64::from),
                Size::B8 if off.is_multiple_of(8) => self
                    .redist_read32(cpu, off)
                    .zip(self.redist_read32(cpu, off + 4))
                    .map(|(lo, hi)| u64::from(lo) | u64::from(hi) << 32),
                Size::B1 if (SGI_BASE + GICR_IPRIORITYR..SGI_BASE + 0x420).contains(&off) => {
                    Some(u64::from(self.state.cpu[cpu].priority[(off - SGI_BASE - GICR_IPRIORITYR) as usize]))
                }
                _ => None,
            }
        };
        v.unwrap_or_else(|| {
            guest_error!("gicv3: {}-byte redistributor read at bad offset {offset:#x}", size.bytes());
            0
        })
    }

    /// A write of width `size` at `offset` into the redistributor range.
    pub fn redist_write(&mut self, offset: u64, size: Size, value: u64) {
        let cpu = (offset / REDIST_STRIDE) as usize;
        let off = offset % REDIST_STRIDE;
        let ok = cpu < self.num_cpus()
            && match size {
                Size::B4 if off.is_multiple_of(4) => self.redist_write32(cpu, off, value as u32),
                Size::B8 if off.is_multiple_of(8) => {
                    self.redist_write32(cpu, off, value as u32)
                        && self.redist_write32(cpu, off + 4, (value >> 32) as u32)
                }
                Size::B1 if (SGI_BASE + GICR_IPRIORITYR..SGI_BASE + 0x420).contains(&off) => {
                    self.state.cpu[cpu].priority[(off - SGI_BASE - GICR_IPRIORITYR) as usize] = value as u8;
                    true
                }
                _ => false,
            };
        if !ok {
            guest_error!("gicv3: {}-byte redistributor write {value:#x} at bad offset {offset:#x}", size.bytes());
        }
        self.update();
    }
}

impl<I: IrqLine> GicCpuInterface for GicV3<I> {
    fn icc_read(&mut self, cpu: usize, reg: IccReg) -> u64 {
        GicV3::icc_read(self, cpu, reg)
    }
    fn icc_write(&mut self, cpu: usize, reg: IccReg, value: u64) {
        GicV3::icc_write(self, cpu, reg, value);
    }
}

/// An SPI input of a shared GICv3.
pub struct GicV3SpiLine<I> {
    gic: Shared<GicV3<I>>,
    intid: u32,
}

impl<I> Clone for GicV3SpiLine<I> {
    fn clone(&self) -> Self {
        GicV3SpiLine { gic: self.gic.clone(), intid: self.intid }
    }
}

impl<I> std::fmt::Debug for GicV3SpiLine<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GicV3SpiLine").field("intid", &self.intid).finish_non_exhaustive()
    }
}

impl<I: IrqLine> IrqLine for GicV3SpiLine<I> {
    fn set_level(&self, high: bool) {
        lock(&self.gic).set_irq(self.intid, high);
    }
}

/// A PPI input of one CPU of a shared GICv3.
pub struct GicV3PpiLine<I> {
    gic: Shared<GicV3<I>>,
    cpu: usize,
    ppi: u32,
}

impl<I> Clone for GicV3PpiLine<I> {
    fn clone(&self) -> Self {
        GicV3PpiLine { gic: self.gic.clone(), cpu: self.cpu, ppi: self.ppi }
    }
}

impl<I> std::fmt::Debug for GicV3PpiLine<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GicV3PpiLine").field("cpu", &self.cpu).field("ppi", &self.ppi).finish_non_exhaustive()
    }
}

impl<I: IrqLine> IrqLine for GicV3PpiLine<I> {
    fn set_level(&self, high: bool) {
        lock(&self.gic).set_ppi(self.cpu, self.ppi, high);
    }
}

/// The distributor window of a shared GICv3.
pub struct GicV3DistMmio<I>(pub Shared<GicV3<I>>);

impl<I: IrqLine> MmioDevice for GicV3DistMmio<I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        lock(&self.0).dist_read(offset, size)
    }
    fn write(&mut self, offset: u64, size: Size, value: u64) {
        lock(&self.0).dist_write(offset, size, value);
    }
}

/// The redistributor range of a shared GICv3 (`num_cpus * REDIST_STRIDE` bytes).
pub struct GicV3RedistMmio<I>(pub Shared<GicV3<I>>);

impl<I: IrqLine> MmioDevice for GicV3RedistMmio<I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        lock(&self.0).redist_read(offset, size)
    }
    fn write(&mut self, offset: u64, size: Size, value: u64) {
        lock(&self.0).redist_write(offset, size, value);
    }
}

#[cfg(test)]
#[path = "gicv3_tests.rs"]
mod tests;
