//! The GICv2 virtualization extensions (IHI 0048B chapter 5, "GIC Support for Virtualization"):
//! the virtual interface control registers (GICH, for the hypervisor at EL2) and the virtual CPU
//! interface (GICV, the guest's GICC), both banked per accessing CPU.
//!
//! ```text
//!   EL2: GICH_LR<n> (vINTID, priority, group, pending) ─┐
//!   EL1: GICV_IAR ──▶ highest-priority pending LR ──▶ active, GICH_APR bit set, vINTID
//!        GICV_EOIR ─▶ priority drop, deactivate the LR (unless GICV_CTLR.EOImode; then GICV_DIR)
//!   GICH_HCR.En, pending LR, group enabled, priority < GICV_PMR and above the running priority
//!        ──▶ the CPU's virtual IRQ (group 1, or group 0 without FIQEn) / virtual FIQ input
//!   GICH_HCR.En and GICH_MISR != 0 ──▶ maintenance interrupt (PPI [`MAINTENANCE_PPI`])
//! ```
//!
//! Four list registers, five bits of virtual priority and preemption (GICH_APR has 32 bits).
//! A hardware LR (HW set) deactivates its physical INTID in the distributor when the guest
//! deactivates it. The per-CPU aliases of GICH (the `0x1000` + `0x200 * n` frames) are not
//! modelled: each CPU reaches its own GICH only.

use super::{GicV2, SPURIOUS, SPURIOUS_GROUP1};
use crate::access::DrivenLine;
use mimic_core::{guest_error, IrqLine, Size};
use mimic_memory::{MmioDevice, Shared};

/// List registers per CPU.
pub const NUM_LRS: usize = 4;
/// Priority and preemption bits of the virtual interface.
const PRI_BITS: u32 = 5;
/// The maintenance interrupt's PPI (INTID 25; `<GIC_PPI 9 ..>` in a device tree).
pub const MAINTENANCE_PPI: u32 = 9;

pub const GICH_HCR: u64 = 0x00;
pub const GICH_VTR: u64 = 0x04;
pub const GICH_VMCR: u64 = 0x08;
pub const GICH_MISR: u64 = 0x10;
pub const GICH_EISR0: u64 = 0x20;
pub const GICH_EISR1: u64 = 0x24;
pub const GICH_ELRSR0: u64 = 0x30;
pub const GICH_ELRSR1: u64 = 0x34;
pub const GICH_APR: u64 = 0xf0;
pub const GICH_LR0: u64 = 0x100;

/// GICH_VTR: ListRegs 3 (four), PREbits and PRIbits 4 (five bits).
pub const VTR: u32 = (NUM_LRS as u32 - 1) | (PRI_BITS - 1) << 26 | (PRI_BITS - 1) << 29;

/// GICH_HCR bits.
pub mod hcr {
    pub const EN: u32 = 1 << 0;
    pub const UIE: u32 = 1 << 1;
    pub const LRENPIE: u32 = 1 << 2;
    pub const NPIE: u32 = 1 << 3;
    pub const VGRP0EIE: u32 = 1 << 4;
    pub const VGRP0DIE: u32 = 1 << 5;
    pub const VGRP1EIE: u32 = 1 << 6;
    pub const VGRP1DIE: u32 = 1 << 7;
    pub const EOICOUNT_SHIFT: u32 = 27;
    pub const WRITABLE: u32 = 0xf800_00ff;
}

/// GICH_VMCR fields (bits 9:0 are GICV_CTLR's).
pub mod vmcr {
    pub const GRP0EN: u32 = 1 << 0;
    pub const GRP1EN: u32 = 1 << 1;
    pub const ACKCTL: u32 = 1 << 2;
    pub const FIQEN: u32 = 1 << 3;
    pub const CBPR: u32 = 1 << 4;
    pub const EOIMODE: u32 = 1 << 9;
    pub const CTLR_MASK: u32 = 0x21f;
    pub const ABP_SHIFT: u32 = 18;
    pub const BP_SHIFT: u32 = 21;
    pub const PMR_SHIFT: u32 = 27;
    pub const WRITABLE: u32 = 0xf8fc_021f;
}

/// GICH_LR<n> fields.
pub mod lr {
    pub const VINTID: u32 = 0x3ff;
    pub const PINTID_SHIFT: u32 = 10;
    /// The source CPU of a virtual SGI (HW clear).
    pub const CPUID_SHIFT: u32 = 10;
    /// EOI maintenance wanted (HW clear).
    pub const EOI: u32 = 1 << 19;
    pub const PRIORITY_SHIFT: u32 = 23;
    pub const PENDING: u32 = 1 << 28;
    pub const ACTIVE: u32 = 1 << 29;
    pub const GROUP1: u32 = 1 << 30;
    pub const HW: u32 = 1 << 31;
    pub const WRITABLE: u32 = 0xff8f_ffff;
}

/// GICH_MISR bits.
pub mod misr {
    pub const EOI: u32 = 1 << 0;
    pub const U: u32 = 1 << 1;
    pub const LRENP: u32 = 1 << 2;
    pub const NP: u32 = 1 << 3;
    pub const VGRP0E: u32 = 1 << 4;
    pub const VGRP0D: u32 = 1 << 5;
    pub const VGRP1E: u32 = 1 << 6;
    pub const VGRP1D: u32 = 1 << 7;
}

/// One CPU's virtual interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GicVifState {
    pub hcr: u32,
    pub vmcr: u32,
    pub apr: u32,
    pub lr: [u32; NUM_LRS],
    /// The maintenance interrupt's level last driven.
    pub maint: bool,
}

impl Default for GicVifState {
    fn default() -> Self {
        // The binary points reset to their minimum (BPR 2, ABPR 3 with five priority bits).
        GicVifState { hcr: 0, vmcr: 2 << vmcr::BP_SHIFT | 3 << vmcr::ABP_SHIFT, apr: 0, lr: [0; NUM_LRS], maint: false }
    }
}

fn prio(l: u32) -> u32 {
    (l >> lr::PRIORITY_SHIFT & 0x1f) << 3
}

impl GicVifState {
    fn enabled(&self, group1: bool) -> bool {
        self.vmcr & if group1 { vmcr::GRP1EN } else { vmcr::GRP0EN } != 0
    }

    fn pmr(&self) -> u32 {
        (self.vmcr >> vmcr::PMR_SHIFT) << 3
    }

    fn bpr(&self) -> u32 {
        self.vmcr >> vmcr::BP_SHIFT & 7
    }

    fn abpr(&self) -> u32 {
        if self.vmcr & vmcr::CBPR != 0 {
            (self.bpr() + 1).min(7)
        } else {
            self.vmcr >> vmcr::ABP_SHIFT & 7
        }
    }

    /// The group priority of LR `l`: BPR b keeps bits 7:b+1 for group 0, ABPR b bits 7:b for group 1.
    fn group_priority(&self, l: u32) -> u32 {
        let keep = if l & lr::GROUP1 != 0 { self.abpr() } else { self.bpr() + 1 };
        prio(l) & (0xff << keep) & 0xff
    }

    /// The running priority: that of the lowest set GICH_APR bit, 0xff when idle.
    pub fn running_priority(&self) -> u32 {
        if self.apr == 0 {
            0xff
        } else {
            self.apr.trailing_zeros() << (8 - PRI_BITS)
        }
    }

    /// The highest-priority pending LR (of group 1 only with `group1_only`); ties to the lowest.
    fn highest_pending(&self, group1_only: bool) -> Option<usize> {
        (0..NUM_LRS)
            .filter(|&i| self.lr[i] & lr::PENDING != 0 && self.lr[i] & lr::ACTIVE == 0)
            .filter(|&i| !group1_only || self.lr[i] & lr::GROUP1 != 0)
            .min_by_key(|&i| prio(self.lr[i]))
    }

    /// Whether LR `i` may be signalled or acknowledged now.
    fn can_signal(&self, i: usize) -> bool {
        let l = self.lr[i];
        self.enabled(l & lr::GROUP1 != 0) && prio(l) < self.pmr() && self.group_priority(l) < self.running_priority()
    }

    /// The (virtual IRQ, virtual FIQ) levels.
    pub fn signal(&self) -> (bool, bool) {
        if self.hcr & hcr::EN == 0 {
            return (false, false);
        }
        match self.highest_pending(false) {
            Some(i) if self.can_signal(i) => {
                let fiq = self.lr[i] & lr::GROUP1 == 0 && self.vmcr & vmcr::FIQEN != 0;
                (!fiq, fiq)
            }
            _ => (false, false),
        }
    }

    /// GICH_EISR0: LRs whose EOI maintenance is due (invalid, EOI set, HW clear).
    pub fn eisr(&self) -> u32 {
        (0..NUM_LRS)
            .filter(|&i| self.lr[i] & (lr::PENDING | lr::ACTIVE | lr::HW) == 0 && self.lr[i] & lr::EOI != 0)
            .fold(0, |m, i| m | 1 << i)
    }

    /// GICH_ELRSR0: LRs that hold no interrupt and no EOI maintenance due.
    pub fn elrsr(&self) -> u32 {
        (0..NUM_LRS)
            .filter(|&i| {
                let l = self.lr[i];
                l & (lr::PENDING | lr::ACTIVE) == 0 && (l & lr::HW != 0 || l & lr::EOI == 0)
            })
            .fold(0, |m, i| m | 1 << i)
    }

    /// GICH_MISR: the maintenance conditions GICH_HCR asks for that hold.
    pub fn misr(&self) -> u32 {
        let h = self.hcr;
        let valid = self.lr.iter().filter(|&&l| l & (lr::PENDING | lr::ACTIVE) != 0).count();
        let pending = self.lr.iter().any(|&l| l & lr::PENDING != 0);
        let on = |bit: u32, cond: bool, out: u32| if h & bit != 0 && cond { out } else { 0 };
        (if self.eisr() != 0 { misr::EOI } else { 0 })
            | on(hcr::UIE, valid <= 1, misr::U)
            | on(hcr::LRENPIE, h >> hcr::EOICOUNT_SHIFT != 0, misr::LRENP)
            | on(hcr::NPIE, !pending, misr::NP)
            | on(hcr::VGRP0EIE, self.enabled(false), misr::VGRP0E)
            | on(hcr::VGRP0DIE, !self.enabled(false), misr::VGRP0D)
            | on(hcr::VGRP1EIE, self.enabled(true), misr::VGRP1E)
            | on(hcr::VGRP1DIE, !self.enabled(true), misr::VGRP1D)
    }

    fn count_eoi(&mut self) {
        let n = (self.hcr >> hcr::EOICOUNT_SHIFT).wrapping_add(1) & 0x1f;
        self.hcr = self.hcr & !(0x1f << hcr::EOICOUNT_SHIFT) | n << hcr::EOICOUNT_SHIFT;
    }
}

impl<I: IrqLine> GicV2<I> {
    /// Give each CPU a virtual IRQ and FIQ output (`outputs[c]` for CPU `c`; extra entries are
    /// ignored) and so enable the GICH/GICV windows' effect on the CPUs.
    pub fn set_virtual_outputs(&mut self, outputs: Vec<super::GicCpuLines<I>>) {
        self.voutputs = outputs.into_iter().map(|l| (DrivenLine::new(l.irq), DrivenLine::new(l.fiq))).collect();
        self.update();
    }

    /// Whether CPU `cpu`'s virtual IRQ output is high.
    pub fn virq_level(&self, cpu: usize) -> bool {
        self.voutputs.get(cpu).is_some_and(|o| o.0.level())
    }

    /// Whether CPU `cpu`'s virtual FIQ output is high.
    pub fn vfiq_level(&self, cpu: usize) -> bool {
        self.voutputs.get(cpu).is_some_and(|o| o.1.level())
    }

    /// Drive the maintenance PPIs' input levels from the virtual interfaces (before the
    /// physical signals are computed).
    pub(super) fn update_maintenance(&mut self) {
        for cpu in 0..self.state.vif.len().min(self.num_cpus()) {
            let v = &self.state.vif[cpu];
            let level = v.hcr & hcr::EN != 0 && v.misr() != 0;
            if level != v.maint {
                self.state.vif[cpu].maint = level;
                self.set_ppi_level(cpu, MAINTENANCE_PPI, level);
            }
        }
    }

    pub(super) fn update_virtual(&mut self) {
        for (cpu, out) in self.voutputs.iter_mut().enumerate() {
            let (irq, fiq) = self.state.vif.get(cpu).map_or((false, false), GicVifState::signal);
            out.0.set(irq);
            out.1.set(fiq);
        }
    }

    /// Read GICH register `offset` of CPU `cpu` (a 32-bit access).
    pub fn gich_read32(&self, cpu: usize, offset: u64) -> Option<u32> {
        let v = self.state.vif.get(cpu)?;
        Some(match offset {
            GICH_HCR => v.hcr,
            GICH_VTR => VTR,
            GICH_VMCR => v.vmcr,
            GICH_MISR => v.misr(),
            GICH_EISR0 => v.eisr(),
            GICH_ELRSR0 => v.elrsr(),
            GICH_EISR1 | GICH_ELRSR1 => 0,
            GICH_APR => v.apr,
            o @ GICH_LR0..=0x1fc if o.is_multiple_of(4) => {
                v.lr.get(((o - GICH_LR0) / 4) as usize).copied().unwrap_or(0)
            }
            _ => return None,
        })
    }

    /// Write GICH register `offset` of CPU `cpu` (a 32-bit access); false if there is none.
    pub fn gich_write32(&mut self, cpu: usize, offset: u64, value: u32) -> bool {
        let Some(v) = self.state.vif.get_mut(cpu) else {
            return false;
        };
        match offset {
            GICH_HCR => v.hcr = value & hcr::WRITABLE,
            GICH_VMCR => v.vmcr = value & vmcr::WRITABLE,
            GICH_APR => v.apr = value,
            GICH_VTR | GICH_MISR | GICH_EISR0 | GICH_EISR1 | GICH_ELRSR0 | GICH_ELRSR1 => {
                guest_error!("gich: CPU {cpu} writes {value:#x} to read-only register {offset:#x}");
            }
            o @ GICH_LR0..=0x1fc if o.is_multiple_of(4) => {
                if let Some(l) = v.lr.get_mut(((o - GICH_LR0) / 4) as usize) {
                    *l = value & lr::WRITABLE;
                }
            }
            _ => return false,
        }
        self.update();
        true
    }

    /// GICV_IAR (`alias` false) or GICV_AIAR (true): acknowledge the best LR.
    fn vacknowledge(&mut self, cpu: usize, alias: bool) -> u32 {
        let v = &mut self.state.vif[cpu];
        let Some(i) = v.highest_pending(alias) else {
            return SPURIOUS;
        };
        let l = v.lr[i];
        if !v.can_signal(i) {
            return SPURIOUS;
        }
        if !alias && l & lr::GROUP1 != 0 && v.vmcr & vmcr::ACKCTL == 0 {
            return SPURIOUS_GROUP1;
        }
        v.lr[i] = l & !lr::PENDING | lr::ACTIVE;
        v.apr |= 1 << (v.group_priority(l) >> (8 - PRI_BITS));
        self.update();
        vid(l)
    }

    fn vhighest_pending(&self, cpu: usize, alias: bool) -> u32 {
        let v = &self.state.vif[cpu];
        match v.highest_pending(alias) {
            None => SPURIOUS,
            Some(i) if !alias && v.lr[i] & lr::GROUP1 != 0 && v.vmcr & vmcr::ACKCTL == 0 => SPURIOUS_GROUP1,
            Some(i) => vid(v.lr[i]),
        }
    }

    /// Deactivate the active LR holding `value`'s vINTID (and SGI source); count it if none.
    fn vdeactivate(&mut self, cpu: usize, value: u32) {
        let v = &mut self.state.vif[cpu];
        let found = (0..NUM_LRS).find(|&i| v.lr[i] & lr::ACTIVE != 0 && vid(v.lr[i]) == value & 0x1fff);
        let Some(i) = found else {
            v.count_eoi();
            return;
        };
        let l = v.lr[i] & !lr::ACTIVE;
        v.lr[i] = l;
        if l & lr::HW != 0 {
            let pintid = l >> lr::PINTID_SHIFT & 0x3ff;
            // Physical INTIDs 1020.. (special) and SGIs are not deactivated (the spec's rule).
            if (16..self.num_irqs()).contains(&pintid) {
                self.set_active(cpu, pintid, false);
            }
        }
    }

    fn veoi(&mut self, cpu: usize, value: u32) {
        let v = &mut self.state.vif[cpu];
        if v.apr != 0 {
            v.apr &= v.apr - 1;
        }
        if v.vmcr & vmcr::EOIMODE == 0 {
            self.vdeactivate(cpu, value);
        }
    }

    /// Read GICV register `offset` as CPU `cpu` (a 32-bit access).
    pub fn gicv_read32(&mut self, cpu: usize, offset: u64) -> Option<u32> {
        use super::*;
        let v = self.state.vif.get(cpu)?;
        Some(match offset {
            GICC_CTLR => v.vmcr & vmcr::CTLR_MASK,
            GICC_PMR => v.pmr(),
            GICC_BPR => v.bpr(),
            GICC_ABPR => v.abpr(),
            GICC_RPR => v.running_priority(),
            GICC_IAR => self.vacknowledge(cpu, false),
            GICC_AIAR => self.vacknowledge(cpu, true),
            GICC_HPPIR => self.vhighest_pending(cpu, false),
            GICC_AHPPIR => self.vhighest_pending(cpu, true),
            GICC_APR => v.apr,
            GICC_IIDR => CPU_IIDR,
            GICC_EOIR | GICC_AEOIR | GICC_DIR => {
                guest_error!("gicv: CPU {cpu} reads write-only register {offset:#x}");
                0
            }
            0xd4..=0xec if offset.is_multiple_of(4) => 0,
            _ => return None,
        })
    }

    /// Write GICV register `offset` as CPU `cpu` (a 32-bit access); false if there is none.
    pub fn gicv_write32(&mut self, cpu: usize, offset: u64, value: u32) -> bool {
        use super::*;
        let Some(v) = self.state.vif.get_mut(cpu) else {
            return false;
        };
        let set = |v: &mut GicVifState, mask: u32, shift: u32, x: u32| {
            v.vmcr = v.vmcr & !(mask << shift) | (x & mask) << shift
        };
        match offset {
            GICC_CTLR => v.vmcr = v.vmcr & !vmcr::CTLR_MASK | value & vmcr::CTLR_MASK,
            GICC_PMR => set(v, 0x1f, vmcr::PMR_SHIFT, (value & 0xff) >> 3),
            GICC_BPR => set(v, 7, vmcr::BP_SHIFT, (value & 7).max(2)),
            GICC_ABPR => {
                if v.vmcr & vmcr::CBPR == 0 {
                    set(v, 7, vmcr::ABP_SHIFT, (value & 7).max(3));
                }
            }
            GICC_APR => v.apr = value,
            GICC_EOIR => self.veoi(cpu, value),
            GICC_AEOIR => self.veoi(cpu, value),
            GICC_DIR => self.vdeactivate(cpu, value),
            GICC_IAR | GICC_AIAR | GICC_RPR | GICC_HPPIR | GICC_AHPPIR | GICC_IIDR => {
                guest_error!("gicv: CPU {cpu} writes {value:#x} to read-only register {offset:#x}");
            }
            0xd4..=0xec if offset.is_multiple_of(4) => {}
            _ => return false,
        }
        self.update();
        true
    }
}

/// The value GICV_IAR returns for LR `l`: vINTID, and for a software SGI its source CPU.
fn vid(l: u32) -> u32 {
    let id = l & lr::VINTID;
    if l & lr::HW == 0 && id < 16 {
        id | (l >> lr::CPUID_SHIFT & 7) << 10
    } else {
        id
    }
}

/// Which of the two virtualization windows an adapter serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Window {
    Gich,
    Gicv,
}

/// A GICH or GICV window of a shared GIC, as the CPU a [`super::CurrentCpu`] names. 32-bit
/// accesses only; others and unknown offsets are logged, read 0 and are ignored.
pub struct GicVirtMmio<I> {
    gic: Shared<GicV2<I>>,
    cpu: super::CurrentCpu,
    window: Window,
}

impl<I> GicVirtMmio<I> {
    /// The virtual interface control window (GICH).
    pub fn control(gic: Shared<GicV2<I>>, cpu: super::CurrentCpu) -> Self {
        GicVirtMmio { gic, cpu, window: Window::Gich }
    }
    /// The virtual CPU interface window (GICV).
    pub fn cpu_interface(gic: Shared<GicV2<I>>, cpu: super::CurrentCpu) -> Self {
        GicVirtMmio { gic, cpu, window: Window::Gicv }
    }
}

impl<I: IrqLine> MmioDevice for GicVirtMmio<I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        let cpu = self.cpu.get();
        let mut g = super::lock(&self.gic);
        let v = match (size, self.window) {
            (Size::B4, Window::Gich) if offset.is_multiple_of(4) => g.gich_read32(cpu, offset),
            (Size::B4, Window::Gicv) if offset.is_multiple_of(4) => g.gicv_read32(cpu, offset),
            _ => None,
        };
        v.map_or_else(
            || {
                guest_error!("gic {:?}: CPU {cpu} {}-byte read at {offset:#x}", self.window, size.bytes());
                0
            },
            u64::from,
        )
    }
    fn write(&mut self, offset: u64, size: Size, value: u64) {
        let cpu = self.cpu.get();
        let mut g = super::lock(&self.gic);
        let ok = size == Size::B4
            && offset.is_multiple_of(4)
            && match self.window {
                Window::Gich => g.gich_write32(cpu, offset, value as u32),
                Window::Gicv => g.gicv_write32(cpu, offset, value as u32),
            };
        if !ok {
            guest_error!("gic {:?}: CPU {cpu} {}-byte write {value:#x} at {offset:#x}", self.window, size.bytes());
        }
    }
}

#[cfg(test)]
#[path = "virt_tests.rs"]
mod tests;
