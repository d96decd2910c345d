//! The GICv3 virtualization interface of EL2 (GICv3 architecture specification, IHI 0069,
//! chapters 6 "Virtual interrupt handling" and 12 "ICH_* system registers"): the list
//! registers EL2 fills, and the virtual CPU interface EL1 sees through its ICC_* registers
//! while HCR_EL2.IMO (group 1) or FMO (group 0) is set.
//!
//! ```text
//!   EL2: MSR ICH_LR<n>_EL2 (vINTID, priority, group, pending) ─┐
//!   EL1: MRS ICC_IAR1_EL1 ──▶ highest-priority pending LR ──▶ active, APR bit set, vINTID
//!        MSR ICC_EOIR1_EL1 ─▶ priority drop (APR), deactivate the LR (unless VEOIM; then DIR)
//!   pending LR, group enabled, priority < VPMR and above the running priority
//!        ──▶ virtual IRQ (group 1) / FIQ (group 0) to EL1
//!   ICH_MISR_EL2 != 0 and ICH_HCR_EL2.En ──▶ maintenance interrupt (PPI 25)
//! ```
//!
//! The interface has four list registers, 5 bits of virtual priority and of preemption (so
//! only ICH_AP0R0/AP1R0 exist), 16-bit vINTIDs and A3V. A hardware interrupt (LR.HW) is
//! deactivated in the physical GIC (its pINTID through ICC_DIR_EL1) when the guest
//! deactivates it. SGI generation (ICC_SGI*R_EL1) under IMO/FMO traps to EL2. The
//! ICH_HCR_EL2 trap bits (TC, TALL0, TALL1, TDIR, ...) are kept but not acted on.

use crate::cpu::Aarch64Cpu;
use crate::el2::hcr;
use crate::sysreg::Deny;
use mimic_core::IccReg;

pub const NUM_LRS: usize = 4;

/// Priority bits (and preemption bits) of the virtual interface.
const PRI_BITS: u64 = 5;
/// The low priority bits that do not exist.
const PRI_MASK: u64 = 0xff << (8 - PRI_BITS) & 0xff;

/// ICH_VTR_EL2: ListRegs 3 (four), PRIbits and PREbits 4 (five bits), IDbits 0 (16),
/// A3V (bit 21), TDS 0, nV4 0 (vSGIs supported is GICv4.1 only).
pub const VTR: u64 = (NUM_LRS as u64 - 1) | (PRI_BITS - 1) << 29 | (PRI_BITS - 1) << 26 | 1 << 21;

/// ICH_HCR_EL2 bits.
pub mod ich_hcr {
    pub const EN: u64 = 1 << 0;
    pub const UIE: u64 = 1 << 1;
    pub const LRENPIE: u64 = 1 << 2;
    pub const NPIE: u64 = 1 << 3;
    pub const VGRP0EIE: u64 = 1 << 4;
    pub const VGRP0DIE: u64 = 1 << 5;
    pub const VGRP1EIE: u64 = 1 << 6;
    pub const VGRP1DIE: u64 = 1 << 7;
    pub const EOICOUNT_SHIFT: u32 = 27;
    /// En UIE LRENPIE NPIE VGrp*, TC (10), TALL0/1 (11, 12), TSEI (13), TDIR (14), EOIcount.
    pub const WRITABLE: u64 = 0xf800_7cff;
}

/// ICH_VMCR_EL2 fields.
pub mod vmcr {
    pub const VENG0: u64 = 1 << 0;
    pub const VENG1: u64 = 1 << 1;
    pub const VCBPR: u64 = 1 << 4;
    pub const VEOIM: u64 = 1 << 9;
    pub const VBPR1_SHIFT: u32 = 18;
    pub const VBPR0_SHIFT: u32 = 21;
    pub const VPMR_SHIFT: u32 = 24;
    /// VENG0 VENG1 VAckCtl VFIQEn VCBPR VEOIM VBPR1 VBPR0 VPMR.
    pub const WRITABLE: u64 = 0xfffc_021f;
}

/// ICH_LR<n>_EL2 fields.
pub mod lr {
    pub const VINTID: u64 = 0xffff;
    pub const PINTID_SHIFT: u32 = 32;
    pub const EOI: u64 = 1 << 41;
    pub const PRIORITY_SHIFT: u32 = 48;
    pub const GROUP: u64 = 1 << 60;
    pub const HW: u64 = 1 << 61;
    pub const PENDING: u64 = 1 << 62;
    pub const ACTIVE: u64 = 1 << 63;
    /// vINTID (16 bits), pINTID (44:32; bits 44:42 overlap EOI when HW is clear),
    /// priority, group, HW, state.
    pub const WRITABLE: u64 = 0xf0ff_1fff_0000_ffff;
}

/// ICH_MISR_EL2 bits.
pub mod misr {
    pub const EOI: u64 = 1 << 0;
    pub const U: u64 = 1 << 1;
    pub const LRENP: u64 = 1 << 2;
    pub const NP: u64 = 1 << 3;
    pub const VGRP0E: u64 = 1 << 4;
    pub const VGRP0D: u64 = 1 << 5;
    pub const VGRP1E: u64 = 1 << 6;
    pub const VGRP1D: u64 = 1 << 7;
}

const SPURIOUS: u64 = 1023;

/// The ICH_* registers of one CPU.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IchState {
    pub hcr: u64,
    pub vmcr: u64,
    pub ap0r: u64,
    pub ap1r: u64,
    pub lr: [u64; NUM_LRS],
    /// The virtual (FIQ, IRQ) the list registers signal now (kept by [`Aarch64Cpu::ich_update`]).
    pub signal: (bool, bool),
    /// The maintenance interrupt's level last driven.
    pub maint_level: bool,
}

impl IchState {
    fn enabled(&self, group1: bool) -> bool {
        self.vmcr & if group1 { vmcr::VENG1 } else { vmcr::VENG0 } != 0
    }

    fn pmr(&self) -> u64 {
        self.vmcr >> vmcr::VPMR_SHIFT & 0xff
    }

    /// The binary point of `group1`'s interrupts (VBPR1 is VBPR0 + 1 with VCBPR).
    fn bpr(&self, group1: bool) -> u64 {
        let b0 = self.vmcr >> vmcr::VBPR0_SHIFT & 7;
        if group1 && self.vmcr & vmcr::VCBPR == 0 {
            self.vmcr >> vmcr::VBPR1_SHIFT & 7
        } else if group1 {
            (b0 + 1).min(7)
        } else {
            b0
        }
    }

    /// The group priority of `prio` for `group1`'s binary point.
    fn group_priority(&self, prio: u64, group1: bool) -> u64 {
        // BPR0 b keeps bits 7:b+1, BPR1 b bits 7:b.
        let keep = if group1 { self.bpr(true) } else { self.bpr(false) + 1 };
        prio & (0xff << keep) & PRI_MASK
    }

    /// The running priority: that of the highest active priority bit, 0xff when idle.
    pub fn running_priority(&self) -> u64 {
        let a = (self.ap0r | self.ap1r) & 0xffff_ffff;
        if a == 0 {
            0xff
        } else {
            u64::from(a.trailing_zeros()) << (8 - PRI_BITS)
        }
    }

    /// The highest-priority pending list register (of `group1` if given).
    fn highest_pending(&self, group1: Option<bool>) -> Option<usize> {
        (0..NUM_LRS)
            .filter(|&i| self.lr[i] & lr::PENDING != 0)
            .filter(|&i| group1.is_none_or(|g| (self.lr[i] & lr::GROUP != 0) == g))
            .min_by_key(|&i| self.lr[i] >> lr::PRIORITY_SHIFT & 0xff)
    }

    /// Whether LR `i`'s interrupt may be signalled or acknowledged now.
    fn can_signal(&self, i: usize) -> bool {
        let l = self.lr[i];
        let g1 = l & lr::GROUP != 0;
        let prio = l >> lr::PRIORITY_SHIFT & PRI_MASK;
        l & lr::ACTIVE == 0
            && self.enabled(g1)
            && prio < self.pmr() & PRI_MASK
            && self.group_priority(prio, g1) < self.running_priority()
    }

    fn compute_signal(&self) -> (bool, bool) {
        if self.hcr & ich_hcr::EN == 0 {
            return (false, false);
        }
        match self.highest_pending(None) {
            Some(i) if self.can_signal(i) => {
                let g1 = self.lr[i] & lr::GROUP != 0;
                (!g1, g1)
            }
            _ => (false, false),
        }
    }

    /// ICH_EISR_EL2: list registers whose EOI maintenance is due (invalid, EOI set, not HW).
    pub fn eisr(&self) -> u64 {
        (0..NUM_LRS)
            .filter(|&i| {
                let l = self.lr[i];
                l & (lr::PENDING | lr::ACTIVE | lr::HW) == 0 && l & lr::EOI != 0
            })
            .fold(0, |m, i| m | 1 << i)
    }

    /// ICH_ELRSR_EL2: list registers that hold no interrupt (and no EOI maintenance due).
    pub fn elrsr(&self) -> u64 {
        (0..NUM_LRS)
            .filter(|&i| {
                let l = self.lr[i];
                l & (lr::PENDING | lr::ACTIVE) == 0 && (l & lr::HW != 0 || l & lr::EOI == 0)
            })
            .fold(0, |m, i| m | 1 << i)
    }

    /// ICH_MISR_EL2: the maintenance conditions ICH_HCR_EL2 asks for that hold.
    pub fn misr(&self) -> u64 {
        let h = self.hcr;
        let valid = self.lr.iter().filter(|&&l| l & (lr::PENDING | lr::ACTIVE) != 0).count();
        let pending = self.lr.iter().any(|&l| l & lr::PENDING != 0);
        let on = |bit: u64, cond: bool| if h & bit != 0 && cond { 1 } else { 0 };
        let mut m = if self.eisr() != 0 { misr::EOI } else { 0 };
        m |= on(ich_hcr::UIE, valid <= 1) * misr::U;
        m |= on(ich_hcr::LRENPIE, h >> ich_hcr::EOICOUNT_SHIFT != 0) * misr::LRENP;
        m |= on(ich_hcr::NPIE, !pending) * misr::NP;
        m |= on(ich_hcr::VGRP0EIE, self.enabled(false)) * misr::VGRP0E;
        m |= on(ich_hcr::VGRP0DIE, !self.enabled(false)) * misr::VGRP0D;
        m |= on(ich_hcr::VGRP1EIE, self.enabled(true)) * misr::VGRP1E;
        m |= on(ich_hcr::VGRP1DIE, !self.enabled(true)) * misr::VGRP1D;
        m
    }
}

/// Which of HCR_EL2.IMO (group 1) and FMO (group 0) sends an EL1 access of `reg` to the
/// virtual interface; `None` for registers that are never virtual.
fn virtual_for(reg: IccReg) -> Option<u64> {
    use IccReg::*;
    Some(match reg {
        Iar1 | Eoir1 | Hppir1 | Bpr1 | Igrpen1 | Ap1r(_) | Sgi1r | Asgi1r => hcr::IMO,
        Iar0 | Eoir0 | Hppir0 | Bpr0 | Igrpen0 | Ap0r(_) | Sgi0r => hcr::FMO,
        Pmr | Ctlr | Rpr | Dir => hcr::IMO | hcr::FMO,
        Sre | SreEl2 => return None,
    })
}

/// What an EL1 ICC access does under HCR_EL2's routing.
pub enum Route {
    /// To the physical CPU interface (the board's GIC).
    Physical,
    /// Answered by the virtual interface (with the value read, for reads).
    Virtual(u64),
    /// Trapped to EL2 (SGI generation).
    Trap,
}

impl Aarch64Cpu {
    /// Recompute the virtual interrupt lines and drive the maintenance interrupt after any
    /// change of the ICH state.
    pub fn ich_update(&mut self) {
        self.ich.signal = self.ich.compute_signal();
        let level = self.ich.hcr & ich_hcr::EN != 0 && self.ich.misr() != 0;
        if level != self.ich.maint_level {
            self.ich.maint_level = level;
            if let Some(line) = &self.ich_maint_line {
                line.set_level(level);
            }
        }
        if self.ich.signal != (false, false) {
            self.halted = false;
        }
    }

    /// The virtual (FIQ, IRQ) the list registers raise, as routed: only while HCR_EL2.FMO/IMO
    /// send the physical ones to EL2.
    pub fn ich_signal(&self) -> (bool, bool) {
        if !self.has_el2 || self.gic.is_none() {
            return (false, false);
        }
        let h = self.el2.hcr;
        let (f, i) = self.ich.signal;
        (f && h & hcr::FMO != 0, i && h & hcr::IMO != 0)
    }

    /// An EL1 ICC access of `reg` (`write` with `value`): physical, virtual or trapped.
    pub fn icc_route(&mut self, reg: IccReg, write: Option<u64>) -> Route {
        let routed = virtual_for(reg).is_some_and(|bits| self.el == 1 && self.has_el2 && self.el2.hcr & bits != 0);
        if !routed || self.el2.hcr & hcr::TGE != 0 {
            return Route::Physical;
        }
        if matches!(reg, IccReg::Sgi0r | IccReg::Sgi1r | IccReg::Asgi1r) {
            return Route::Trap;
        }
        let v = match write {
            None => self.vicc_read(reg),
            Some(v) => {
                self.vicc_write(reg, v);
                0
            }
        };
        self.ich_update();
        Route::Virtual(v)
    }

    fn vicc_read(&mut self, reg: IccReg) -> u64 {
        use IccReg::*;
        let s = &self.ich;
        match reg {
            Iar1 => self.vack(true),
            Iar0 => self.vack(false),
            Hppir1 | Hppir0 => {
                let g1 = reg == Hppir1;
                s.highest_pending(Some(g1)).map_or(SPURIOUS, |i| s.lr[i] & lr::VINTID)
            }
            Pmr => s.pmr(),
            Bpr1 => s.bpr(true),
            Bpr0 => s.bpr(false),
            Rpr => s.running_priority(),
            // CBPR, EOImode; PRIbits, IDbits 0 (16 bits), A3V.
            Ctlr => {
                u64::from(s.vmcr & vmcr::VCBPR != 0)
                    | u64::from(s.vmcr & vmcr::VEOIM != 0) << 1
                    | (PRI_BITS - 1) << 8
                    | 1 << 15
            }
            Igrpen1 => u64::from(s.enabled(true)),
            Igrpen0 => u64::from(s.enabled(false)),
            Ap1r(0) => s.ap1r,
            Ap0r(0) => s.ap0r,
            _ => 0,
        }
    }

    fn vicc_write(&mut self, reg: IccReg, v: u64) {
        use IccReg::*;
        let set_field = |vmcr: u64, shift: u32, width: u32, x: u64| {
            let m = ((1u64 << width) - 1) << shift;
            vmcr & !m | (x << shift & m)
        };
        let s = &mut self.ich;
        match reg {
            Eoir1 | Eoir0 => {
                let g1 = reg == Eoir1;
                let ap = if g1 { &mut s.ap1r } else { &mut s.ap0r };
                // Priority drop: the highest active priority goes.
                *ap &= ap.wrapping_sub(1);
                if s.vmcr & vmcr::VEOIM == 0 {
                    self.vdeactivate(v & lr::VINTID);
                }
            }
            Dir => self.vdeactivate(v & lr::VINTID),
            Pmr => s.vmcr = set_field(s.vmcr, vmcr::VPMR_SHIFT, 8, v & PRI_MASK),
            // The smallest binary points 5 priority bits allow: 2 for group 0, 3 for group 1.
            Bpr0 => s.vmcr = set_field(s.vmcr, vmcr::VBPR0_SHIFT, 3, (v & 7).max(2)),
            Bpr1 if s.vmcr & vmcr::VCBPR == 0 => s.vmcr = set_field(s.vmcr, vmcr::VBPR1_SHIFT, 3, (v & 7).max(3)),
            Ctlr => {
                s.vmcr = set_field(s.vmcr, 4, 1, v & 1);
                s.vmcr = set_field(s.vmcr, 9, 1, v >> 1 & 1);
            }
            Igrpen1 => s.vmcr = set_field(s.vmcr, 1, 1, v & 1),
            Igrpen0 => s.vmcr = set_field(s.vmcr, 0, 1, v & 1),
            Ap1r(0) => s.ap1r = v & 0xffff_ffff,
            Ap0r(0) => s.ap0r = v & 0xffff_ffff,
            _ => {}
        }
    }

    /// Acknowledge the highest-priority pending interrupt of `group1` if it may be taken:
    /// its list register goes active and its group priority into the active priorities.
    fn vack(&mut self, group1: bool) -> u64 {
        let s = &mut self.ich;
        let Some(i) = s.highest_pending(Some(group1)).filter(|&i| s.can_signal(i)) else {
            return SPURIOUS;
        };
        let l = s.lr[i];
        let prio = l >> lr::PRIORITY_SHIFT & 0xff;
        let bit = s.group_priority(prio, group1) >> (8 - PRI_BITS);
        if group1 {
            s.ap1r |= 1 << bit;
        } else {
            s.ap0r |= 1 << bit;
        }
        s.lr[i] = l & !lr::PENDING | lr::ACTIVE;
        l & lr::VINTID
    }

    /// Deactivate vINTID `id`: its active list register stops being active (a hardware one
    /// deactivates its physical interrupt too); without one, EOIcount counts the miss.
    fn vdeactivate(&mut self, id: u64) {
        if (1020..1024).contains(&id) {
            return;
        }
        let s = &mut self.ich;
        let found = (0..NUM_LRS).find(|&i| s.lr[i] & lr::ACTIVE != 0 && s.lr[i] & lr::VINTID == id);
        let Some(i) = found else {
            let count = (s.hcr >> ich_hcr::EOICOUNT_SHIFT) + 1;
            s.hcr = s.hcr & !(0x1f << ich_hcr::EOICOUNT_SHIFT) | (count & 0x1f) << ich_hcr::EOICOUNT_SHIFT;
            return;
        };
        let l = s.lr[i];
        s.lr[i] = l & !lr::ACTIVE;
        if l & lr::HW != 0 {
            let pintid = l >> lr::PINTID_SHIFT & 0x1fff;
            if let Some(g) = &self.gic {
                g.write(IccReg::Dir, pintid);
            }
        }
    }
}

// ---- the ICH_* register rows ------------------------------------------------------------------

/// ICH_* registers: EL2 only, and only with a GICv3 connected.
pub fn check(cpu: &Aarch64Cpu, w: bool) -> Result<(), Deny> {
    crate::el2::check_el2(cpu, w)?;
    if cpu.gic.is_none() {
        return Err(Deny::Undefined);
    }
    Ok(())
}

pub fn check_ro(cpu: &Aarch64Cpu, w: bool) -> Result<(), Deny> {
    if w {
        return Err(Deny::Undefined);
    }
    check(cpu, w)
}

pub fn write_hcr(c: &mut Aarch64Cpu, v: u64) {
    c.ich.hcr = v & ich_hcr::WRITABLE;
    c.ich_update();
}

pub fn write_vmcr(c: &mut Aarch64Cpu, v: u64) {
    // VPMR keeps its implemented bits; the binary points their minimums.
    let mut m =
        v & vmcr::WRITABLE & !(0xff << vmcr::VPMR_SHIFT) | (v >> vmcr::VPMR_SHIFT & PRI_MASK) << vmcr::VPMR_SHIFT;
    let b0 = (m >> vmcr::VBPR0_SHIFT & 7).max(2);
    let b1 = (m >> vmcr::VBPR1_SHIFT & 7).max(3);
    m = m & !(7 << vmcr::VBPR0_SHIFT | 7 << vmcr::VBPR1_SHIFT) | b0 << vmcr::VBPR0_SHIFT | b1 << vmcr::VBPR1_SHIFT;
    c.ich.vmcr = m;
    c.ich_update();
}

pub fn write_lr(c: &mut Aarch64Cpu, n: usize, v: u64) {
    c.ich.lr[n] = v & lr::WRITABLE;
    c.ich_update();
}

pub fn write_ap(c: &mut Aarch64Cpu, group1: bool, v: u64) {
    if group1 {
        c.ich.ap1r = v & 0xffff_ffff;
    } else {
        c.ich.ap0r = v & 0xffff_ffff;
    }
    c.ich_update();
}
