//! ARM Generic Interrupt Controller v2 (IHI 0048B) without the Security Extensions, as QEMU's
//! `virt` board has it without `secure=on` (`arm,cortex-a15-gic`: distributor at `0x0800_0000`,
//! CPU interface at `0x0801_0000`, 256 SPIs; Linux's `irq-gic`, U-Boot, EDK2).
//!
//! ```text
//!  set_irq(32..) ─▶ ┌─────────────┐  per CPU c: highest-priority pending, enabled, inactive
//!  set_ppi(c, n) ─▶ │ distributor │  interrupt targeted at c, group enabled in GICD_CTLR
//!  GICD_SGIR ─────▶ └─────────────┘ ──▶ CPU interface c: prio < PMR and group prio < running
//!                                        prio and group enabled in GICC_CTLR ──▶ IRQ / FIQ line
//! ```
//!
//! # Wiring (for the board)
//! - [`GicV2::new`]`(num_spis, outputs)`: `outputs[c]` holds CPU `c`'s [`GicCpuLines`], an IRQ
//!   and an FIQ [`IrqLine`] (on the board: `SharedBits::line(1)` for IRQ and `line(2)` for FIQ of
//!   that CPU's pending word). Outputs are driven only on changes and must not take locks.
//! - Inputs: [`GicV2::set_irq`]`(intid, level)` for SPIs (INTID 32.., so `virt`'s "SPI n" is
//!   `32 + n`) and [`GicV2::set_ppi`]`(cpu, ppi, level)` for PPIs (`ppi` 0..16 = INTID 16 + ppi,
//!   the number in a device tree's `<GIC_PPI ppi ..>`: the generic timer's EL1 virtual timer is
//!   PPI 11, the EL1 physical timer PPI 14). As [`IrqLine`]s for devices: [`GicV2::spi_line`] and
//!   [`GicV2::ppi_line`] on the shared GIC.
//! - The two register windows need to know which CPU is accessing. The board keeps one
//!   [`CurrentCpu`] cell, sets it before it runs each CPU's slice, and maps
//!   [`GicDistMmio`] (distributor, 4 KiB used, `0x1_0000` on `virt`) and [`GicCpuMmio`] (CPU
//!   interface, 8 KiB used) built from the shared GIC and that cell. Without the adapters:
//!   [`GicV2::dist_read`]/[`GicV2::dist_write`] and [`GicV2::cpu_read`]/[`GicV2::cpu_write`]
//!   take the CPU number explicitly.
//! - PCI MSIs: [`GicV2m`] is the MSI frame (`0x0802_0000` on `virt`, INTIDs 80..144); map it as
//!   a plain MMIO device.
//! - Lock rule (as for the PLIC): **device → GIC → nothing**. A device drives its
//!   [`GicSpiLine`] while holding its own lock; nothing may drive a GIC input while holding the
//!   GIC's lock.
//!
//! A board sketch (QEMU `virt` numbers; `SharedBits` bit 0 = IRQ, bit 1 = FIQ of each CPU):
//! ```text
//! let outputs = pending.iter().map(|b| GicCpuLines { irq: b.line(1), fiq: b.line(2) }).collect();
//! let gic = Arc::new(Mutex::new(GicV2::new(VIRT_NUM_SPIS, outputs)?));
//! let current = CurrentCpu::new();
//! bus.add_mmio("gicd", 0x0800_0000 + 0x1_0000, Box::new(GicDistMmio::new(gic.clone(), current.clone())))?;
//! bus.add_mmio("gicc", 0x0801_0000 + 0x1_0000, Box::new(GicCpuMmio::new(gic.clone(), current.clone())))?;
//! bus.add_mmio("v2m", 0x0802_0000 + 0x1000, Box::new(GicV2m::new(gic.clone(), 32 + VIRT_V2M_FIRST_SPI, VIRT_V2M_SPIS)?))?;
//! let uart = Pl011::new(serial, GicV2::spi_line(&gic, 32 + 1)?);      // virt: UART SPI 1
//! let vtimer = GicV2::ppi_line(&gic, cpu, 11)?;                         // EL1 virtual timer
//! // run loop: current.set(cpu) before each CPU's slice
//! ```
//!
//! # Model
//! - Priorities keep all 8 bits; binary points: BPR ≥ 0, ABPR ≥ 1 (as QEMU). Group priority for
//!   preemption uses BPR for group 0 and ABPR for group 1 (BPR when GICC_CTLR.CBPR is set).
//! - Groups: interrupts reset to group 0 (as Linux leaves them, with GICD_CTLR bit 0 and GICC_CTLR
//!   bit 0 set). Group 0 is signalled as FIQ when GICC_CTLR.FIQEn is set, otherwise as IRQ;
//!   group 1 always as IRQ. GICC_IAR acknowledges group 1 only with GICC_CTLR.AckCtl set
//!   (otherwise it reads 1022); GICC_AIAR/AEOIR/AHPPIR/ABPR are the group 1 aliases.
//! - Pending: an edge-triggered interrupt latches on a rising input; a level-sensitive one is
//!   pending while its input is high or while a software pend (ISPENDR) is latched. Acknowledge
//!   clears the latch and sets active, so a level interrupt whose line is still high is active and
//!   pending, and is signalled again after deactivation. Active interrupts are not signalled.
//! - SGIs pend per (target, source CPU); acknowledging one reports the lowest source in
//!   IAR bits 12:10 and clears only that source. SGIs are always enabled and edge-triggered
//!   (ISENABLER0 bits 15:0 read 1, ICFGR0 reads `0xaaaa_aaaa`); ISPENDR0/ICPENDR0 ignore SGI bits
//!   (use SPENDSGIR/CPENDSGIR). PPI trigger mode is writable (resets level-sensitive).
//! - EOImode (GICC_CTLR bit 9) = 0: GICC_EOIR drops the running priority and deactivates; = 1:
//!   it only drops priority and GICC_DIR (`0x1000`) deactivates (Linux's split mode at EL2).
//! - With one CPU, ITARGETSR is RAZ/WI and every SPI targets CPU 0 (the spec's uniprocessor
//!   rule, as QEMU). ITARGETSR0..7 (SGIs, PPIs) read the accessing CPU's bit.
//! - Accesses: the distributor decodes every register a byte at a time (so 1-, 2- and 4-byte
//!   accesses all work, as QEMU's); GICD_SGIR acts on 4-byte writes only. CPU interface registers
//!   are 32-bit only. 8-byte accesses, other widths, unknown offsets, INTIDs past the last one
//!   and writes to read-only registers are logged, read 0 and are ignored.

mod virt;

use crate::access::DrivenLine;
use mimic_core::{guest_error, IrqLine, Size};
use mimic_memory::{MmioDevice, Shared};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
pub use virt::{GicVifState, GicVirtMmio, MAINTENANCE_PPI};

/// Device-tree `compatible` of the distributor + CPU interface node (`#interrupt-cells = <3>`,
/// `interrupt-controller`, `reg` = distributor then CPU interface), as QEMU's `virt`.
pub const COMPATIBLE: &str = "arm,cortex-a15-gic";
/// Device-tree `compatible` of the GICv2m frame (a child of the GIC node, `msi-controller`).
pub const V2M_COMPATIBLE: &str = "arm,gic-v2m-frame";
/// Most CPUs a GICv2 serves.
pub const MAX_CPUS: usize = 8;
/// Most SPIs a GICv2 has (INTIDs 32..1020).
pub const MAX_SPIS: u32 = 988;
/// SPIs on QEMU's `virt` (`NUM_IRQS`).
pub const VIRT_NUM_SPIS: u32 = 256;
/// The spurious INTID: nothing to acknowledge.
pub const SPURIOUS: u32 = 1023;
/// Returned by GICC_IAR/HPPIR when the best interrupt is group 1 and AckCtl is clear.
pub const SPURIOUS_GROUP1: u32 = 1022;
/// Bytes the distributor decodes.
pub const DIST_SIZE: u64 = 0x1000;
/// Bytes the CPU interface decodes (GICC_DIR is at `0x1000`).
pub const CPU_SIZE: u64 = 0x2000;

pub const GICD_CTLR: u64 = 0x000;
pub const GICD_TYPER: u64 = 0x004;
pub const GICD_IIDR: u64 = 0x008;
pub const GICD_IGROUPR: u64 = 0x080;
pub const GICD_ISENABLER: u64 = 0x100;
pub const GICD_ICENABLER: u64 = 0x180;
pub const GICD_ISPENDR: u64 = 0x200;
pub const GICD_ICPENDR: u64 = 0x280;
pub const GICD_ISACTIVER: u64 = 0x300;
pub const GICD_ICACTIVER: u64 = 0x380;
pub const GICD_IPRIORITYR: u64 = 0x400;
pub const GICD_ITARGETSR: u64 = 0x800;
pub const GICD_ICFGR: u64 = 0xc00;
pub const GICD_SGIR: u64 = 0xf00;
pub const GICD_CPENDSGIR: u64 = 0xf10;
pub const GICD_SPENDSGIR: u64 = 0xf20;
pub const GICD_PIDR: u64 = 0xfd0;

pub const GICC_CTLR: u64 = 0x00;
pub const GICC_PMR: u64 = 0x04;
pub const GICC_BPR: u64 = 0x08;
pub const GICC_IAR: u64 = 0x0c;
pub const GICC_EOIR: u64 = 0x10;
pub const GICC_RPR: u64 = 0x14;
pub const GICC_HPPIR: u64 = 0x18;
pub const GICC_ABPR: u64 = 0x1c;
pub const GICC_AIAR: u64 = 0x20;
pub const GICC_AEOIR: u64 = 0x24;
pub const GICC_AHPPIR: u64 = 0x28;
pub const GICC_APR: u64 = 0xd0;
pub const GICC_NSAPR: u64 = 0xe0;
pub const GICC_IIDR: u64 = 0xfc;
pub const GICC_DIR: u64 = 0x1000;

pub const GICD_CTLR_ENABLE_GRP0: u32 = 1 << 0;
pub const GICD_CTLR_ENABLE_GRP1: u32 = 1 << 1;

pub const GICC_CTLR_ENABLE_GRP0: u32 = 1 << 0;
pub const GICC_CTLR_ENABLE_GRP1: u32 = 1 << 1;
pub const GICC_CTLR_ACKCTL: u32 = 1 << 2;
pub const GICC_CTLR_FIQEN: u32 = 1 << 3;
pub const GICC_CTLR_CBPR: u32 = 1 << 4;
pub const GICC_CTLR_EOIMODE: u32 = 1 << 9;
/// The GICC_CTLR bits that exist without the Security Extensions (9:0).
const GICC_CTLR_MASK: u32 = 0x3ff;

/// Implementer ARM (0x43b), as QEMU's GICv2 distributor.
const DIST_IIDR: u32 = 0x0000_043b;
/// GIC-400's CPU interface: ARM, architecture version 2.
const CPU_IIDR: u32 = 0x0202_143b;
/// GICD_PIDR4..7, PIDR0..3, CIDR0..3 (`0xfd0..0x1000`), as QEMU's `gic_id_gicv2`.
const DIST_ID: [u8; 12] = [0x04, 0x00, 0x00, 0x00, 0x90, 0xb4, 0x2b, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

/// Building or wiring a GIC went wrong (a board bug).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GicError {
    #[error("this GIC serves 1 to {max} CPUs, not {n}")]
    CpuCount { n: usize, max: usize },
    #[error("a GIC has up to {MAX_SPIS} SPIs, not {0}")]
    SpiCount(u32),
    #[error("no SPI with INTID {intid} (valid: 32 to {last})")]
    NoSuchSpi { intid: u32, last: u32 },
    #[error("no PPI {ppi} on CPU {cpu} (PPIs 0 to 15, CPUs 0 to {last_cpu})")]
    NoSuchPpi { cpu: usize, ppi: u32, last_cpu: usize },
}

/// One CPU's two interrupt outputs.
#[derive(Debug, Clone)]
pub struct GicCpuLines<I> {
    pub irq: I,
    pub fiq: I,
}

/// Which CPU is accessing a per-CPU register window: a cell the board sets before it runs each
/// CPU's slice and that [`GicDistMmio`] and [`GicCpuMmio`] read. Clones share the cell.
#[derive(Debug, Clone, Default)]
pub struct CurrentCpu(Arc<AtomicUsize>);

impl CurrentCpu {
    /// A cell naming CPU 0.
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(&self, cpu: usize) {
        self.0.store(cpu, Ordering::Relaxed);
    }
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// The banked (per-CPU) part of the distributor: SGIs 0–15 and PPIs 16–31.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GicBankedState {
    /// Enable bits of INTIDs 0..32 (SGI bits always read set).
    pub enable: u32,
    /// Software/edge pend latch of the PPIs (bits 16..32).
    pub pend: u32,
    pub active: u32,
    /// Input levels of the PPIs (bits 16..32).
    pub level: u32,
    /// Edge-triggered PPIs (bits 16..32; SGIs are always edge).
    pub edge: u32,
    pub group: u32,
    pub priority: [u8; 32],
    /// Per SGI: bit s = pending from source CPU s.
    pub sgi_sources: [u8; 16],
}

impl Default for GicBankedState {
    fn default() -> Self {
        GicBankedState {
            enable: 0xffff,
            pend: 0,
            active: 0,
            level: 0,
            edge: 0,
            group: 0,
            priority: [0; 32],
            sgi_sources: [0; 16],
        }
    }
}

/// One acknowledged interrupt on a CPU interface's active-priority stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GicActiveEntry {
    /// The INTID (bits 9:0) and for SGIs the source CPU (bits 12:10), as GICC_IAR returned it.
    pub iar: u32,
    /// Its group priority at acknowledge time (the running priority while it is on top).
    pub group_prio: u8,
}

/// One CPU interface's registers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GicCpuState {
    pub ctlr: u32,
    pub pmr: u8,
    pub bpr: u8,
    pub abpr: u8,
    /// Acknowledged interrupts whose priority has not been dropped, oldest first.
    pub running: Vec<GicActiveEntry>,
}

/// Every guest-visible bit of the GIC. Bit vectors are 32-bit words indexed by `intid / 32`
/// (word 0 unused: it is banked in `banked`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GicV2State {
    pub ctlr: u32,
    pub enable: Vec<u32>,
    /// Edge/software pend latch.
    pub pend: Vec<u32>,
    pub active: Vec<u32>,
    /// Input line levels (wires, kept so that level-sensitive pending follows them).
    pub level: Vec<u32>,
    /// Edge-triggered SPIs (GICD_ICFGR bit 2k+1).
    pub edge: Vec<u32>,
    pub group: Vec<u32>,
    /// Priority per INTID (0..32 unused).
    pub priority: Vec<u8>,
    /// CPU target mask per INTID (0..32 unused).
    pub targets: Vec<u8>,
    pub banked: Vec<GicBankedState>,
    pub cpu: Vec<GicCpuState>,
    /// The virtualization extensions' per-CPU state (GICH/GICV, [`virt`]).
    pub vif: Vec<GicVifState>,
}

/// A GICv2 distributor and `outputs.len()` CPU interfaces.
pub struct GicV2<I> {
    num_irqs: u32,
    state: GicV2State,
    outputs: Vec<(DrivenLine<I>, DrivenLine<I>)>,
    /// Per CPU: the virtual IRQ and FIQ outputs of the virtual CPU interface (none until the
    /// board gives them with [`GicV2::set_virtual_outputs`]).
    voutputs: Vec<(DrivenLine<I>, DrivenLine<I>)>,
}

impl<I> std::fmt::Debug for GicV2<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GicV2").field("num_irqs", &self.num_irqs).field("state", &self.state).finish_non_exhaustive()
    }
}

pub(crate) fn bit(intid: u32) -> (usize, u32) {
    ((intid / 32) as usize, 1 << (intid % 32))
}

pub(crate) fn lock<T>(m: &Shared<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<I: IrqLine> GicV2<I> {
    /// A GIC in its reset state with `num_spis` SPIs (INTIDs 32..32 + num_spis, rounded up to a
    /// multiple of 32 as GICD_TYPER can only say) and one CPU interface per entry of `outputs`.
    pub fn new(num_spis: u32, outputs: Vec<GicCpuLines<I>>) -> Result<Self, GicError> {
        if outputs.is_empty() || outputs.len() > MAX_CPUS {
            return Err(GicError::CpuCount { n: outputs.len(), max: MAX_CPUS });
        }
        if num_spis > MAX_SPIS {
            return Err(GicError::SpiCount(num_spis));
        }
        let num_irqs = (32 + num_spis).div_ceil(32) * 32;
        let num_irqs = num_irqs.min(1020);
        let n = outputs.len();
        let state = Self::reset_state(num_irqs, n);
        let outputs = outputs.into_iter().map(|l| (DrivenLine::new(l.irq), DrivenLine::new(l.fiq))).collect();
        Ok(GicV2 { num_irqs, state, outputs, voutputs: Vec::new() })
    }

    fn reset_state(num_irqs: u32, cpus: usize) -> GicV2State {
        let words = num_irqs.div_ceil(32) as usize;
        let target = if cpus == 1 { 1 } else { 0 };
        GicV2State {
            ctlr: 0,
            enable: vec![0; words],
            pend: vec![0; words],
            active: vec![0; words],
            level: vec![0; words],
            edge: vec![0; words],
            group: vec![0; words],
            priority: vec![0; num_irqs as usize],
            targets: vec![target; num_irqs as usize],
            banked: vec![GicBankedState::default(); cpus],
            cpu: vec![GicCpuState { abpr: 1, ..GicCpuState::default() }; cpus],
            vif: vec![GicVifState::default(); cpus],
        }
    }

    /// An [`IrqLine`] driving SPI `intid` (32..) of the shared `gic`, to hand to a device.
    pub fn spi_line(gic: &Shared<Self>, intid: u32) -> Result<GicSpiLine<I>, GicError> {
        let last = lock(gic).num_irqs - 1;
        if !(32..=last).contains(&intid) {
            return Err(GicError::NoSuchSpi { intid, last });
        }
        Ok(GicSpiLine { gic: gic.clone(), intid })
    }

    /// An [`IrqLine`] driving PPI `ppi` (0..16, INTID 16 + ppi) of CPU `cpu` of the shared `gic`.
    pub fn ppi_line(gic: &Shared<Self>, cpu: usize, ppi: u32) -> Result<GicPpiLine<I>, GicError> {
        let last_cpu = lock(gic).num_cpus() - 1;
        if cpu > last_cpu || ppi >= 16 {
            return Err(GicError::NoSuchPpi { cpu, ppi, last_cpu });
        }
        Ok(GicPpiLine { gic: gic.clone(), cpu, ppi })
    }

    pub fn num_cpus(&self) -> usize {
        self.outputs.len()
    }

    /// Number of INTIDs, SGIs and PPIs included (a multiple of 32).
    pub fn num_irqs(&self) -> u32 {
        self.num_irqs
    }

    /// Set the input level of SPI `intid` (32..num_irqs; others are ignored with a warning).
    pub fn set_irq(&mut self, intid: u32, level: bool) {
        if intid < 32 || intid >= self.num_irqs {
            tracing::warn!("gic: set_irq on nonexistent SPI {intid}");
            return;
        }
        let (w, b) = bit(intid);
        let s = &mut self.state;
        let was = s.level[w] & b != 0;
        if level {
            s.level[w] |= b;
            if !was && s.edge[w] & b != 0 {
                s.pend[w] |= b;
            }
        } else {
            s.level[w] &= !b;
        }
        self.update();
    }

    /// Set the input level of PPI `ppi` (0..16, INTID 16 + ppi) of CPU `cpu`.
    pub fn set_ppi(&mut self, cpu: usize, ppi: u32, level: bool) {
        if cpu >= self.num_cpus() || ppi >= 16 {
            tracing::warn!("gic: set_ppi on nonexistent PPI {ppi} of CPU {cpu}");
            return;
        }
        self.set_ppi_level(cpu, ppi, level);
        self.update();
    }

    /// The input level of a PPI, without recomputing the outputs.
    fn set_ppi_level(&mut self, cpu: usize, ppi: u32, level: bool) {
        let b = 1u32 << (16 + ppi);
        let bank = &mut self.state.banked[cpu];
        let was = bank.level & b != 0;
        if level {
            bank.level |= b;
            if !was && bank.edge & b != 0 {
                bank.pend |= b;
            }
        } else {
            bank.level &= !b;
        }
    }

    /// Whether CPU `cpu`'s IRQ output is high.
    pub fn irq_level(&self, cpu: usize) -> bool {
        self.outputs.get(cpu).is_some_and(|o| o.0.level())
    }

    /// Whether CPU `cpu`'s FIQ output is high.
    pub fn fiq_level(&self, cpu: usize) -> bool {
        self.outputs.get(cpu).is_some_and(|o| o.1.level())
    }

    /// Hardware reset: every register to its reset value. Input levels are wires, not state:
    /// high level-sensitive inputs are pending again at once.
    pub fn reset(&mut self) {
        let mut fresh = Self::reset_state(self.num_irqs, self.num_cpus());
        fresh.level.clone_from(&self.state.level);
        for ((f, old), vif) in fresh.banked.iter_mut().zip(&self.state.banked).zip(&self.state.vif) {
            f.level = old.level;
            // The maintenance interrupt is an output of the virtual interface being reset.
            if vif.maint {
                f.level &= !(1 << (16 + MAINTENANCE_PPI));
            }
        }
        self.state = fresh;
        self.update();
    }

    pub fn state(&self) -> &GicV2State {
        &self.state
    }

    /// Restore a saved state (of a GIC with the same shape; vectors of other lengths are cut or
    /// zero-padded) and drive the outputs to match.
    pub fn set_state(&mut self, mut state: GicV2State) {
        let words = self.num_irqs.div_ceil(32) as usize;
        for v in [&mut state.enable, &mut state.pend, &mut state.active, &mut state.level, &mut state.edge] {
            v.resize(words, 0);
        }
        state.group.resize(words, 0);
        state.priority.resize(self.num_irqs as usize, 0);
        state.targets.resize(self.num_irqs as usize, 0);
        state.banked.resize(self.num_cpus(), GicBankedState::default());
        state.cpu.resize(self.num_cpus(), GicCpuState::default());
        state.vif.resize(self.num_cpus(), GicVifState::default());
        self.state = state;
        for cpu in 0..self.num_cpus() {
            let (irq, fiq) = self.signal(cpu);
            self.outputs[cpu].0.force(irq);
            self.outputs[cpu].1.force(fiq);
        }
        for (cpu, out) in self.voutputs.iter_mut().enumerate() {
            let (irq, fiq) = self.state.vif[cpu].signal();
            out.0.force(irq);
            out.1.force(fiq);
        }
    }

    // ---- per-interrupt views -------------------------------------------------------------

    fn is_pending(&self, cpu: usize, intid: u32) -> bool {
        let bank = &self.state.banked[cpu];
        if intid < 16 {
            return bank.sgi_sources[intid as usize] != 0;
        }
        if intid < 32 {
            let b = 1 << intid;
            return bank.pend & b != 0 || (bank.edge & b == 0 && bank.level & b != 0);
        }
        let (w, b) = bit(intid);
        let s = &self.state;
        s.pend[w] & b != 0 || (s.edge[w] & b == 0 && s.level[w] & b != 0)
    }

    fn set_active(&mut self, cpu: usize, intid: u32, on: bool) {
        let (word, b) = if intid < 32 {
            (&mut self.state.banked[cpu].active, 1 << intid)
        } else {
            let (w, b) = bit(intid);
            (&mut self.state.active[w], b)
        };
        if on {
            *word |= b;
        } else {
            *word &= !b;
        }
    }

    fn group_of(&self, cpu: usize, intid: u32) -> usize {
        let g = if intid < 32 {
            self.state.banked[cpu].group & (1 << intid)
        } else {
            let (w, b) = bit(intid);
            self.state.group[w] & b
        };
        usize::from(g != 0)
    }

    fn priority_of(&self, cpu: usize, intid: u32) -> u8 {
        if intid < 32 {
            self.state.banked[cpu].priority[intid as usize]
        } else {
            self.state.priority[intid as usize]
        }
    }

    fn group_priority(&self, cpu: usize, intid: u32) -> u8 {
        let c = &self.state.cpu[cpu];
        let bpr = if self.group_of(cpu, intid) == 1 && c.ctlr & GICC_CTLR_CBPR == 0 {
            c.abpr.saturating_sub(1)
        } else {
            c.bpr
        };
        let mask = (0xffu32 << ((bpr & 7) + 1)) as u8;
        self.priority_of(cpu, intid) & mask
    }

    fn running_priority(&self, cpu: usize) -> u8 {
        self.state.cpu[cpu].running.iter().map(|e| e.group_prio).min().unwrap_or(0xff)
    }

    /// The highest-priority interrupt the distributor forwards to `cpu`: pending, enabled, not
    /// active, targeted at `cpu`, its group enabled in GICD_CTLR. Ties go to the lowest INTID.
    fn best(&self, cpu: usize) -> Option<u32> {
        let s = &self.state;
        if s.ctlr & (GICD_CTLR_ENABLE_GRP0 | GICD_CTLR_ENABLE_GRP1) == 0 {
            return None;
        }
        let mut best: Option<(u8, u32)> = None;
        let mut consider = |this: &Self, intid: u32| {
            let g = this.group_of(cpu, intid);
            if s.ctlr & (1 << g) == 0 {
                return;
            }
            let p = this.priority_of(cpu, intid);
            if best.is_none_or(|(bp, _)| p < bp) {
                best = Some((p, intid));
            }
        };
        let bank = &s.banked[cpu];
        let mut sgi_pend = 0u32;
        for (i, &src) in bank.sgi_sources.iter().enumerate() {
            if src != 0 {
                sgi_pend |= 1 << i;
            }
        }
        let ppi_pend = (bank.pend | (bank.level & !bank.edge)) & 0xffff_0000;
        let mut bits = (sgi_pend | ppi_pend) & bank.enable & !bank.active;
        while bits != 0 {
            let intid = bits.trailing_zeros();
            bits &= bits - 1;
            consider(self, intid);
        }
        let cm = 1u8 << cpu;
        for w in 1..s.enable.len() {
            let mut bits = (s.pend[w] | (s.level[w] & !s.edge[w])) & s.enable[w] & !s.active[w];
            while bits != 0 {
                let intid = w as u32 * 32 + bits.trailing_zeros();
                bits &= bits - 1;
                if s.targets[intid as usize] & cm != 0 {
                    consider(self, intid);
                }
            }
        }
        best.map(|(_, i)| i)
    }

    /// The (IRQ, FIQ) levels CPU interface `cpu` signals.
    fn signal(&self, cpu: usize) -> (bool, bool) {
        let Some(intid) = self.best(cpu) else {
            return (false, false);
        };
        let c = &self.state.cpu[cpu];
        let g = self.group_of(cpu, intid);
        if c.ctlr & (1 << g) == 0
            || self.priority_of(cpu, intid) >= c.pmr
            || self.group_priority(cpu, intid) >= self.running_priority(cpu)
        {
            return (false, false);
        }
        if g == 0 && c.ctlr & GICC_CTLR_FIQEN != 0 {
            (false, true)
        } else {
            (true, false)
        }
    }

    fn update(&mut self) {
        self.update_maintenance();
        for cpu in 0..self.num_cpus() {
            let (irq, fiq) = self.signal(cpu);
            self.outputs[cpu].0.set(irq);
            self.outputs[cpu].1.set(fiq);
        }
        self.update_virtual();
    }

    // ---- CPU interface -------------------------------------------------------------------

    /// The INTID GICC_HPPIR (`alias` false) or GICC_AHPPIR (true) reports.
    fn highest_pending(&self, cpu: usize, alias: bool) -> u32 {
        let Some(intid) = self.best(cpu) else {
            return SPURIOUS;
        };
        let c = &self.state.cpu[cpu];
        if self.priority_of(cpu, intid) >= c.pmr {
            return SPURIOUS;
        }
        let g = self.group_of(cpu, intid);
        match (alias, g) {
            (true, 0) => return SPURIOUS,
            (false, 1) if c.ctlr & GICC_CTLR_ACKCTL == 0 => return SPURIOUS_GROUP1,
            _ => {}
        }
        if intid < 16 {
            let src = self.state.banked[cpu].sgi_sources[intid as usize].trailing_zeros();
            return intid | (src << 10);
        }
        intid
    }

    /// Acknowledge through GICC_IAR (`alias` false) or GICC_AIAR (true).
    fn acknowledge(&mut self, cpu: usize, alias: bool) -> u32 {
        let Some(intid) = self.best(cpu) else {
            return SPURIOUS;
        };
        let g = self.group_of(cpu, intid);
        let c = &self.state.cpu[cpu];
        if c.ctlr & (1 << g) == 0 || self.priority_of(cpu, intid) >= c.pmr {
            return SPURIOUS;
        }
        match (alias, g) {
            (true, 0) => return SPURIOUS,
            (false, 1) if c.ctlr & GICC_CTLR_ACKCTL == 0 => return SPURIOUS_GROUP1,
            _ => {}
        }
        let group_prio = self.group_priority(cpu, intid);
        if group_prio >= self.running_priority(cpu) {
            return SPURIOUS;
        }
        let mut iar = intid;
        let bank = &mut self.state.banked[cpu];
        if intid < 16 {
            let sources = &mut bank.sgi_sources[intid as usize];
            let src = sources.trailing_zeros();
            *sources &= !(1 << src);
            iar |= src << 10;
        } else if intid < 32 {
            bank.pend &= !(1 << intid);
        } else {
            let (w, b) = bit(intid);
            self.state.pend[w] &= !b;
        }
        self.set_active(cpu, intid, true);
        self.state.cpu[cpu].running.push(GicActiveEntry { iar, group_prio });
        self.update();
        iar
    }

    /// GICC_EOIR (`alias` false) or GICC_AEOIR (true): priority drop, and deactivation unless
    /// EOImode is set.
    fn end_of_interrupt(&mut self, cpu: usize, value: u32, alias: bool) {
        let intid = value & 0x3ff;
        if intid >= self.num_irqs {
            if intid < 1020 {
                guest_error!("gic: CPU {cpu} EOI of nonexistent INTID {intid}");
            }
            return;
        }
        if alias && self.group_of(cpu, intid) == 0 {
            guest_error!("gic: CPU {cpu} AEOIR of group 0 INTID {intid}");
            return;
        }
        let key = if intid < 16 { value & 0x1fff } else { intid };
        let running = &mut self.state.cpu[cpu].running;
        // An SGI's EOI should carry its source CPU (as IAR returned it); accept a bare INTID too.
        let found =
            running.iter().rposition(|e| e.iar == key).or_else(|| running.iter().rposition(|e| e.iar & 0x3ff == intid));
        let Some(pos) = found else {
            guest_error!("gic: CPU {cpu} EOI of INTID {intid} that it did not acknowledge");
            return;
        };
        running.remove(pos);
        if self.state.cpu[cpu].ctlr & GICC_CTLR_EOIMODE == 0 {
            self.set_active(cpu, intid, false);
        }
        self.update();
    }

    fn deactivate(&mut self, cpu: usize, value: u32) {
        let intid = value & 0x3ff;
        if self.state.cpu[cpu].ctlr & GICC_CTLR_EOIMODE == 0 {
            guest_error!("gic: CPU {cpu} writes GICC_DIR with EOImode clear");
            return;
        }
        if intid >= self.num_irqs {
            return;
        }
        self.set_active(cpu, intid, false);
        self.update();
    }

    /// Read CPU interface register `offset` as CPU `cpu` (a 32-bit access).
    pub fn cpu_read32(&mut self, cpu: usize, offset: u64) -> Option<u32> {
        let c = self.state.cpu.get(cpu)?;
        Some(match offset {
            GICC_CTLR => c.ctlr,
            GICC_PMR => u32::from(c.pmr),
            GICC_BPR => u32::from(c.bpr),
            GICC_ABPR => u32::from(if c.ctlr & GICC_CTLR_CBPR != 0 { (c.bpr + 1).min(7) } else { c.abpr }),
            GICC_IAR => self.acknowledge(cpu, false),
            GICC_AIAR => self.acknowledge(cpu, true),
            GICC_RPR => u32::from(self.running_priority(cpu)),
            GICC_HPPIR => self.highest_pending(cpu, false),
            GICC_AHPPIR => self.highest_pending(cpu, true),
            GICC_IIDR => CPU_IIDR,
            GICC_EOIR | GICC_AEOIR | GICC_DIR => {
                guest_error!("gic: CPU {cpu} reads write-only register {offset:#x}");
                0
            }
            GICC_APR..=0xec if offset.is_multiple_of(4) => 0,
            _ => return None,
        })
    }

    /// Write CPU interface register `offset` as CPU `cpu` (a 32-bit access); false if there is
    /// no such register.
    pub fn cpu_write32(&mut self, cpu: usize, offset: u64, value: u32) -> bool {
        if cpu >= self.num_cpus() {
            return false;
        }
        let c = &mut self.state.cpu[cpu];
        match offset {
            GICC_CTLR => c.ctlr = value & GICC_CTLR_MASK,
            GICC_PMR => c.pmr = value as u8,
            GICC_BPR => c.bpr = (value & 7) as u8,
            GICC_ABPR => {
                if c.ctlr & GICC_CTLR_CBPR == 0 {
                    c.abpr = ((value & 7) as u8).max(1);
                }
            }
            GICC_EOIR => self.end_of_interrupt(cpu, value, false),
            GICC_AEOIR => self.end_of_interrupt(cpu, value, true),
            GICC_DIR => self.deactivate(cpu, value),
            GICC_IAR | GICC_AIAR | GICC_RPR | GICC_HPPIR | GICC_AHPPIR | GICC_IIDR => {
                guest_error!("gic: CPU {cpu} writes {value:#x} to read-only register {offset:#x}");
            }
            GICC_APR..=0xec if offset.is_multiple_of(4) => {}
            _ => return false,
        }
        self.update();
        true
    }

    /// A CPU interface access of any width by CPU `cpu` (32-bit only; others logged, RAZ/WI).
    pub fn cpu_read(&mut self, cpu: usize, offset: u64, size: Size) -> u64 {
        let v = if size == Size::B4 && offset.is_multiple_of(4) { self.cpu_read32(cpu, offset) } else { None };
        v.map_or_else(
            || {
                guest_error!("gic: CPU {cpu} {}-byte read of CPU interface at {offset:#x}", size.bytes());
                0
            },
            u64::from,
        )
    }

    /// See [`Self::cpu_read`].
    pub fn cpu_write(&mut self, cpu: usize, offset: u64, size: Size, value: u64) {
        let ok = size == Size::B4 && offset.is_multiple_of(4) && self.cpu_write32(cpu, offset, value as u32);
        if !ok {
            guest_error!("gic: CPU {cpu} {}-byte write {value:#x} to CPU interface at {offset:#x}", size.bytes());
        }
    }

    // ---- distributor ---------------------------------------------------------------------

    /// The 8 interrupts of a bitmap register byte: (first INTID, valid).
    fn bitmap_byte(&self, base: u64, offset: u64) -> Option<u32> {
        let first = ((offset - base) * 8) as u32;
        (first < self.num_irqs).then_some(first)
    }

    /// Bits 0..8 of the bitmap `word`s for INTIDs first..first+8 (banked below 32).
    fn bitmap_read(&self, cpu: usize, first: u32, banked: fn(&GicBankedState) -> u32, spi: &[u32]) -> u8 {
        let word = if first < 32 { banked(&self.state.banked[cpu]) } else { spi[(first / 32) as usize] };
        (word >> (first % 32)) as u8
    }

    fn dist_read_byte(&self, cpu: usize, offset: u64) -> Option<u8> {
        let s = &self.state;
        let typer = (self.num_irqs / 32 - 1) | ((self.num_cpus() as u32 - 1) << 5);
        let sub = |v: u32| (v >> (8 * (offset % 4))) as u8;
        Some(match offset {
            0x000..0x004 => sub(s.ctlr),
            0x004..0x008 => sub(typer),
            0x008..0x00c => sub(DIST_IIDR),
            0x080..0x100 => {
                let first = self.bitmap_byte(GICD_IGROUPR, offset)?;
                self.bitmap_read(cpu, first, |b| b.group, &s.group)
            }
            0x100..0x200 => {
                let first = self.bitmap_byte(GICD_ISENABLER, offset & !0x80)?;
                self.bitmap_read(cpu, first, |b| b.enable, &s.enable)
            }
            0x200..0x300 => {
                let first = self.bitmap_byte(GICD_ISPENDR, offset & !0x80)?;
                (0..8).filter(|i| self.is_pending(cpu, first + i)).fold(0, |a, i| a | (1 << i))
            }
            0x300..0x400 => {
                let first = self.bitmap_byte(GICD_ISACTIVER, offset & !0x80)?;
                self.bitmap_read(cpu, first, |b| b.active, &s.active)
            }
            0x400..0x800 => {
                let intid = (offset - GICD_IPRIORITYR) as u32;
                if intid >= self.num_irqs {
                    return None;
                }
                self.priority_of(cpu, intid)
            }
            0x800..0xc00 => {
                let intid = (offset - GICD_ITARGETSR) as u32;
                if intid >= self.num_irqs {
                    return None;
                }
                if self.num_cpus() == 1 {
                    0
                } else if intid < 32 {
                    1 << cpu
                } else {
                    s.targets[intid as usize]
                }
            }
            0xc00..0xd00 => {
                let first = ((offset - GICD_ICFGR) * 4) as u32;
                if first >= self.num_irqs {
                    return None;
                }
                let edge = if first < 16 {
                    0xffff
                } else if first < 32 {
                    s.banked[cpu].edge
                } else {
                    s.edge[(first / 32) as usize]
                };
                (0..4).filter(|i| edge & (1 << ((first + i) % 32)) != 0).fold(0, |a, i| a | (2 << (2 * i)))
            }
            0xf00..0xf04 => 0,
            0xf10..0xf30 => {
                let sgi = ((offset - GICD_CPENDSGIR) % 16) as usize;
                s.banked[cpu].sgi_sources[sgi]
            }
            0xfd0..0x1000 if offset.is_multiple_of(4) => DIST_ID[((offset - GICD_PIDR) / 4) as usize],
            0xfd0..0x1000 => 0,
            _ => return None,
        })
    }

    fn dist_write_byte(&mut self, cpu: usize, offset: u64, v: u8) -> bool {
        let n = self.num_cpus();
        match offset {
            0x000 => self.state.ctlr = u32::from(v) & (GICD_CTLR_ENABLE_GRP0 | GICD_CTLR_ENABLE_GRP1),
            0x001..0x004 => {}
            0x080..0x100 => {
                let Some(first) = self.bitmap_byte(GICD_IGROUPR, offset) else { return false };
                let (word, shift) = self.bitmap_word(cpu, first, |b| &mut b.group, |s| &mut s.group);
                *word = (*word & !(0xff << shift)) | (u32::from(v) << shift);
            }
            0x100..0x200 => {
                let set = offset < GICD_ICENABLER;
                let Some(first) = self.bitmap_byte(GICD_ISENABLER, offset & !0x80) else { return false };
                if first < 16 {
                    return true; // SGIs are always enabled
                }
                let (word, shift) = self.bitmap_word(cpu, first, |b| &mut b.enable, |s| &mut s.enable);
                if set {
                    *word |= u32::from(v) << shift;
                } else {
                    *word &= !(u32::from(v) << shift);
                }
            }
            0x200..0x300 => {
                let set = offset < GICD_ICPENDR;
                let Some(first) = self.bitmap_byte(GICD_ISPENDR, offset & !0x80) else { return false };
                if first < 16 {
                    return true; // SGI pend bits: use SPENDSGIR / CPENDSGIR
                }
                let (word, shift) = self.bitmap_word(cpu, first, |b| &mut b.pend, |s| &mut s.pend);
                if set {
                    *word |= u32::from(v) << shift;
                } else {
                    *word &= !(u32::from(v) << shift);
                }
            }
            0x300..0x400 => {
                let set = offset < GICD_ICACTIVER;
                let Some(first) = self.bitmap_byte(GICD_ISACTIVER, offset & !0x80) else { return false };
                let (word, shift) = self.bitmap_word(cpu, first, |b| &mut b.active, |s| &mut s.active);
                if set {
                    *word |= u32::from(v) << shift;
                } else {
                    *word &= !(u32::from(v) << shift);
                }
            }
            0x400..0x800 => {
                let intid = (offset - GICD_IPRIORITYR) as u32;
                if intid >= self.num_irqs {
                    return false;
                }
                if intid < 32 {
                    self.state.banked[cpu].priority[intid as usize] = v;
                } else {
                    self.state.priority[intid as usize] = v;
                }
            }
            0x800..0xc00 => {
                let intid = (offset - GICD_ITARGETSR) as u32;
                if intid >= self.num_irqs {
                    return false;
                }
                if intid >= 32 && n > 1 {
                    self.state.targets[intid as usize] = v & ((1u16 << n) - 1) as u8;
                }
            }
            0xc00..0xd00 => {
                let first = ((offset - GICD_ICFGR) * 4) as u32;
                if first >= self.num_irqs {
                    return false;
                }
                if first < 16 {
                    return true; // SGIs are edge-triggered, read-only
                }
                let (word, shift) = if first < 32 {
                    (&mut self.state.banked[cpu].edge, first % 32)
                } else {
                    (&mut self.state.edge[(first / 32) as usize], first % 32)
                };
                for i in 0..4 {
                    let b = 1 << (shift + i);
                    if v & (2 << (2 * i)) != 0 {
                        *word |= b;
                    } else {
                        *word &= !b;
                    }
                }
            }
            0xf10..0xf30 => {
                let sgi = ((offset - GICD_CPENDSGIR) % 16) as usize;
                let mask = ((1u16 << n) - 1) as u8;
                let sources = &mut self.state.banked[cpu].sgi_sources[sgi];
                if offset < GICD_SPENDSGIR {
                    *sources &= !v;
                } else {
                    *sources |= v & mask;
                }
            }
            0xf00..0xf04 => {
                guest_error!("gic: CPU {cpu} writes GICD_SGIR with a sub-word access");
            }
            _ => return false,
        }
        true
    }

    fn bitmap_word(
        &mut self,
        cpu: usize,
        first: u32,
        banked: fn(&mut GicBankedState) -> &mut u32,
        spi: fn(&mut GicV2State) -> &mut Vec<u32>,
    ) -> (&mut u32, u32) {
        let shift = first % 32;
        if first < 32 {
            (banked(&mut self.state.banked[cpu]), shift)
        } else {
            (&mut spi(&mut self.state)[(first / 32) as usize], shift)
        }
    }

    fn send_sgi(&mut self, cpu: usize, value: u32) {
        let sgi = (value & 0xf) as usize;
        let n = self.num_cpus();
        let all = ((1u16 << n) - 1) as u8;
        let targets = match (value >> 24) & 3 {
            0 => ((value >> 16) & 0xff) as u8 & all,
            1 => all & !(1 << cpu),
            2 => 1 << cpu,
            _ => {
                guest_error!("gic: CPU {cpu} writes GICD_SGIR with reserved filter ({value:#x})");
                return;
            }
        };
        for t in 0..n {
            if targets & (1 << t) != 0 {
                self.state.banked[t].sgi_sources[sgi] |= 1 << cpu;
            }
        }
    }

    /// A distributor read of width `size` at `offset` by CPU `cpu`.
    pub fn dist_read(&mut self, cpu: usize, offset: u64, size: Size) -> u64 {
        let bytes = match size {
            Size::B1 | Size::B2 | Size::B4 if offset.is_multiple_of(size.bytes()) => size.bytes(),
            _ => 0,
        };
        if bytes == 0 || cpu >= self.num_cpus() {
            guest_error!("gic: CPU {cpu} {}-byte distributor read at {offset:#x}", size.bytes());
            return 0;
        }
        let mut v = 0u64;
        for i in 0..bytes {
            match self.dist_read_byte(cpu, offset + i) {
                Some(b) => v |= u64::from(b) << (8 * i),
                None => {
                    guest_error!("gic: CPU {cpu} distributor read at bad offset {offset:#x}");
                    return 0;
                }
            }
        }
        v
    }

    /// A distributor write of width `size` at `offset` by CPU `cpu`.
    pub fn dist_write(&mut self, cpu: usize, offset: u64, size: Size, value: u64) {
        if cpu >= self.num_cpus() {
            return;
        }
        if offset == GICD_SGIR && size == Size::B4 {
            self.send_sgi(cpu, value as u32);
            self.update();
            return;
        }
        let bytes = match size {
            Size::B1 | Size::B2 | Size::B4 if offset.is_multiple_of(size.bytes()) => size.bytes(),
            _ => 0,
        };
        if bytes == 0 {
            guest_error!("gic: CPU {cpu} {}-byte distributor write at {offset:#x}", size.bytes());
            return;
        }
        if matches!(offset, 0x004..0x00c | 0xfd0..0x1000) {
            guest_error!("gic: CPU {cpu} writes {value:#x} to read-only distributor register {offset:#x}");
            return;
        }
        for i in 0..bytes {
            if !self.dist_write_byte(cpu, offset + i, (value >> (8 * i)) as u8) {
                guest_error!("gic: CPU {cpu} distributor write {value:#x} at bad offset {offset:#x}");
                break;
            }
        }
        self.update();
    }
}

/// An SPI input of a shared GIC (see [`GicV2::spi_line`]).
pub struct GicSpiLine<I> {
    gic: Shared<GicV2<I>>,
    intid: u32,
}

impl<I> Clone for GicSpiLine<I> {
    fn clone(&self) -> Self {
        GicSpiLine { gic: self.gic.clone(), intid: self.intid }
    }
}

impl<I> std::fmt::Debug for GicSpiLine<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GicSpiLine").field("intid", &self.intid).finish_non_exhaustive()
    }
}

impl<I: IrqLine> IrqLine for GicSpiLine<I> {
    fn set_level(&self, high: bool) {
        lock(&self.gic).set_irq(self.intid, high);
    }
}

/// A PPI input of one CPU of a shared GIC (see [`GicV2::ppi_line`]).
pub struct GicPpiLine<I> {
    gic: Shared<GicV2<I>>,
    cpu: usize,
    ppi: u32,
}

impl<I> Clone for GicPpiLine<I> {
    fn clone(&self) -> Self {
        GicPpiLine { gic: self.gic.clone(), cpu: self.cpu, ppi: self.ppi }
    }
}

impl<I> std::fmt::Debug for GicPpiLine<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GicPpiLine").field("cpu", &self.cpu).field("ppi", &self.ppi).finish_non_exhaustive()
    }
}

impl<I: IrqLine> IrqLine for GicPpiLine<I> {
    fn set_level(&self, high: bool) {
        lock(&self.gic).set_ppi(self.cpu, self.ppi, high);
    }
}

/// The distributor window of a shared GIC, accessed as the CPU a [`CurrentCpu`] names.
pub struct GicDistMmio<I> {
    gic: Shared<GicV2<I>>,
    cpu: CurrentCpu,
}

impl<I> GicDistMmio<I> {
    pub fn new(gic: Shared<GicV2<I>>, cpu: CurrentCpu) -> Self {
        GicDistMmio { gic, cpu }
    }
}

impl<I: IrqLine> MmioDevice for GicDistMmio<I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        lock(&self.gic).dist_read(self.cpu.get(), offset, size)
    }
    fn write(&mut self, offset: u64, size: Size, value: u64) {
        lock(&self.gic).dist_write(self.cpu.get(), offset, size, value);
    }
}

/// The CPU interface window of a shared GIC, as the CPU a [`CurrentCpu`] names.
pub struct GicCpuMmio<I> {
    gic: Shared<GicV2<I>>,
    cpu: CurrentCpu,
}

impl<I> GicCpuMmio<I> {
    pub fn new(gic: Shared<GicV2<I>>, cpu: CurrentCpu) -> Self {
        GicCpuMmio { gic, cpu }
    }
}

impl<I: IrqLine> MmioDevice for GicCpuMmio<I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        lock(&self.gic).cpu_read(self.cpu.get(), offset, size)
    }
    fn write(&mut self, offset: u64, size: Size, value: u64) {
        lock(&self.gic).cpu_write(self.cpu.get(), offset, size, value);
    }
}

/// GICv2m MSI frame (`arm,gic-v2m-frame`, QEMU's `virt` at `0x0802_0000` with 64 SPIs from SPI
/// 48, i.e. INTIDs 80..144): a PCI device's MSI write of an INTID to MSI_SETSPI_NS (`0x040`)
/// pulses that SPI (Linux configures them edge-triggered). MSI_TYPER (`0x008`) reports the first
/// INTID (bits 25:16) and the count (bits 9:0); MSI_IIDR (`0xfcc`) reads `0x43b`. Writes of
/// INTIDs outside the frame's range, other offsets and 1- or 8-byte accesses are logged and
/// ignored. Map it as a plain `MmioDevice` (it locks the GIC for each MSI).
pub struct GicV2m<I> {
    gic: Shared<GicV2<I>>,
    first: u32,
    count: u32,
}

/// Offset of MSI_TYPER in a GICv2m frame.
pub const V2M_MSI_TYPER: u64 = 0x008;
/// Offset of MSI_SETSPI_NS in a GICv2m frame (the MSI doorbell).
pub const V2M_MSI_SETSPI_NS: u64 = 0x040;
/// Offset of MSI_IIDR in a GICv2m frame.
pub const V2M_MSI_IIDR: u64 = 0xfcc;
/// First SPI number (not INTID) of QEMU `virt`'s GICv2m frame.
pub const VIRT_V2M_FIRST_SPI: u32 = 48;
/// SPIs in QEMU `virt`'s GICv2m frame.
pub const VIRT_V2M_SPIS: u32 = 64;

impl<I> std::fmt::Debug for GicV2m<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GicV2m").field("first", &self.first).field("count", &self.count).finish_non_exhaustive()
    }
}

impl<I: IrqLine> GicV2m<I> {
    /// A frame turning MSIs into the `count` SPIs from INTID `first` of the shared `gic`.
    pub fn new(gic: Shared<GicV2<I>>, first: u32, count: u32) -> Result<Self, GicError> {
        let last = lock(&gic).num_irqs() - 1;
        for intid in [first, first + count.max(1) - 1] {
            if !(32..=last).contains(&intid) || count == 0 || count > 0x3ff {
                return Err(GicError::NoSuchSpi { intid, last });
            }
        }
        Ok(GicV2m { gic, first, count })
    }
}

impl<I: IrqLine> MmioDevice for GicV2m<I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        match (offset, size) {
            (V2M_MSI_TYPER, Size::B4) => u64::from((self.first << 16) | self.count),
            (V2M_MSI_IIDR, Size::B4) => 0x43b,
            _ => {
                guest_error!("gicv2m: {}-byte read at bad offset {offset:#x}", size.bytes());
                0
            }
        }
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) {
        let intid = value as u32 & 0x3ff;
        if offset != V2M_MSI_SETSPI_NS || !matches!(size, Size::B2 | Size::B4) {
            guest_error!("gicv2m: {}-byte write {value:#x} at bad offset {offset:#x}", size.bytes());
            return;
        }
        if !(self.first..self.first + self.count).contains(&intid) {
            guest_error!("gicv2m: MSI for INTID {intid} outside the frame");
            return;
        }
        let mut g = lock(&self.gic);
        g.set_irq(intid, true);
        g.set_irq(intid, false);
    }
}

#[cfg(test)]
#[path = "gicv2_tests.rs"]
mod tests;
