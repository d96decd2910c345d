//! EL3, the secure monitor exception level (`-M virt,secure=on`): its registers, the Security
//! state it gives the lower ELs, and where SMC, its traps and routed interrupts go.
//!
//! ```text
//!   Secure state:  EL3, or EL0/EL1 while SCR_EL3.NS = 0 (there is no Secure EL2: EL2 exists
//!                  only while SCR_EL3.NS = 1)
//!   SMC (EL1/EL2)  ─▶ EL3 (EC 0x17), unless HCR_EL2.TSC traps it to EL2 first or SCR_EL3.SMD
//!                     makes it UNDEFINED; the board's firmware-call conduit still wins
//!   HVC            ─▶ UNDEFINED while SCR_EL3.HCE = 0 (and in Secure EL1, which has no EL2)
//!   SCR_EL3.IRQ/FIQ ─▶ physical IRQ/FIQ taken to EL3 from any EL (PSTATE masks them only at EL3)
//!   SCR_EL3.TWI/TWE ─▶ WFI/WFE below EL3 trapped to EL3 (after the EL1 and EL2 traps)
//!   CPTR_EL3.TFP    ─▶ FP/SIMD at any EL trapped to EL3 (EC 0x07)
//!   memory:        an access made in Non-secure state, or through a descriptor with NS = 1 in
//!                  a Secure regime, to a secure-only region (`secure_only`, set by the board)
//!                  does not reach it: a synchronous external abort, as QEMU answers an access
//!                  to nothing in the Non-secure address space
//! ```
//!
//! The EL3 regime is a single-range stage-1 regime through TTBR0_EL3 with EL2's descriptor
//! rules, in its own MMU index ([`crate::mmu::MMU_EL3`]). Writing SCR_EL3.NS switches the
//! EL1&0 regime between its Secure and Non-secure instances, so it drops the whole TLB. Only
//! AArch64 is implemented, so SCR_EL3.RW reads as one. SCR_EL3.EA, SIF, ST, API and APK are
//! kept but have nothing to act on (no SError is ever raised, no Secure timer, no pointer
//! authentication traps). Page-table walks read memory in the address space of the regime's
//! Security state only at the leaf: a Non-secure walk may read its tables from secure-only RAM.

use crate::cpu::{Aarch64Cpu, Fault};
use crate::sysreg::Deny;
use mimic_core::AddrRange;
use mimic_ir::Exit;

/// SCR_EL3 bits.
pub mod scr {
    pub const NS: u64 = 1 << 0;
    pub const IRQ: u64 = 1 << 1;
    pub const FIQ: u64 = 1 << 2;
    pub const EA: u64 = 1 << 3;
    /// Bits 5:4 are RES1.
    pub const RES1: u64 = 3 << 4;
    pub const SMD: u64 = 1 << 7;
    pub const HCE: u64 = 1 << 8;
    pub const SIF: u64 = 1 << 9;
    pub const RW: u64 = 1 << 10;
    pub const ST: u64 = 1 << 11;
    pub const TWI: u64 = 1 << 12;
    pub const TWE: u64 = 1 << 13;
    pub const APK: u64 = 1 << 16;
    pub const API: u64 = 1 << 17;
    pub const WRITABLE: u64 = NS | IRQ | FIQ | EA | SMD | HCE | SIF | RW | ST | TWI | TWE;
}

/// CPTR_EL3 bits.
pub mod cptr {
    pub const TFP: u64 = 1 << 10;
    /// TFP, TTA (20), TAM (30), TCPAC (31).
    pub const WRITABLE: u64 = TFP | 1 << 20 | 1 << 30 | 1 << 31;
}

/// SCTLR_EL3: the same RES1 and writable bits as SCTLR_EL2.
pub use crate::el2::sctlr2 as sctlr3;

/// The EL3 registers (the EL3 translation controls live in [`crate::mmu_regs::MmuRegs`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct El3Regs {
    pub scr: u64,
    pub vbar: u64,
    pub elr: u64,
    pub spsr: u64,
    pub esr: u64,
    pub far: u64,
    pub cptr: u64,
    pub mdcr: u64,
    pub tpidr: u64,
    pub actlr: u64,
    pub afsr0: u64,
    pub afsr1: u64,
    /// RVBAR_EL3: where the CPU resets to (the address `reset` was given).
    pub rvbar: u64,
}

impl Aarch64Cpu {
    /// The CPU is in Secure state: at EL3, or below it while SCR_EL3.NS = 0.
    #[inline]
    pub fn is_secure(&self) -> bool {
        self.has_el3 && (self.el == 3 || self.el3.scr & scr::NS == 0)
    }

    /// EL2 exists for the lower ELs now: it is implemented and they are Non-secure.
    #[inline]
    pub fn el2_enabled(&self) -> bool {
        self.has_el2 && (!self.has_el3 || self.el3.scr & scr::NS != 0)
    }

    /// Whether CPTR_EL3.TFP traps FP/SIMD (at every EL).
    #[inline]
    pub fn fp_trapped_to_el3(&self) -> bool {
        self.has_el3 && self.el3.cptr & cptr::TFP != 0
    }

    /// Record an exception that EL3's controls trap: it is taken to EL3 whatever its kind.
    pub fn trap_to_el3<T>(&mut self, f: Fault) -> Result<T, Exit> {
        self.pending_to_el3 = true;
        self.exception(f)
    }

    /// EL3 takes synchronous exception `f` from the current EL, or `None` to let EL1/EL2's
    /// rules decide.
    pub(crate) fn el3_sync_target(&self, f: Fault) -> Option<u8> {
        if !self.has_el3 || self.pending_to_el2 {
            return None;
        }
        let to_el3 = self.el == 3
            || self.pending_to_el3
            || matches!(f, Fault::Smc { .. })
            // Neither CPACR_EL1 nor CPTR_EL2 stopped it, so CPTR_EL3 did.
            || (f == Fault::FpAccess && self.fp_allowed_by_cpacr() && !self.fp_trapped_to_el2());
        to_el3.then_some(3)
    }

    /// The physical (FIQ, IRQ) routed to EL3 by SCR_EL3.FIQ/IRQ.
    pub fn interrupts_to_el3(&self) -> (bool, bool) {
        let s = if self.has_el3 { self.el3.scr } else { 0 };
        (s & scr::FIQ != 0, s & scr::IRQ != 0)
    }

    /// Whether a WFI (`wfe` false) or WFE below EL3 traps to EL3 under SCR_EL3.TWI/TWE.
    pub fn wfx_trapped_to_el3(&self, wfe: bool) -> bool {
        let bit = if wfe { scr::TWE } else { scr::TWI };
        self.has_el3 && self.el < 3 && self.el3.scr & bit != 0
    }

    /// Whether SMC is UNDEFINED by SCR_EL3.SMD (checked after EL2's TSC trap).
    pub fn smc_disabled(&self) -> bool {
        self.el3.scr & scr::SMD != 0
    }

    /// Whether HVC may be executed at the current EL as far as EL3 is concerned: SCR_EL3.HCE
    /// is set, and the caller is not in Secure EL1 (no Secure EL2 to take it).
    pub fn hvc_enabled_by_el3(&self) -> bool {
        !self.has_el3 || (self.el3.scr & scr::HCE != 0 && (self.el == 3 || self.el2_enabled()))
    }

    /// Whether the physical address `pa` reached in the translation regime of MMU index `idx`
    /// through a descriptor with NS = `desc_ns` is a secure-only region an access from there
    /// may not reach.
    pub(crate) fn secure_only_denied(&self, idx: usize, pa: u64, desc_ns: bool) -> bool {
        if self.secure_only.is_empty() {
            return false;
        }
        // The EL3 regime is Secure; EL1&0 is Secure while SCR_EL3.NS = 0; EL2 never is.
        let secure_regime = match idx {
            crate::mmu::MMU_EL3 => true,
            crate::mmu::MMU_EL2 => false,
            _ => self.has_el3 && self.el3.scr & scr::NS == 0,
        };
        let non_secure = !secure_regime || desc_ns;
        non_secure && self.secure_only.iter().any(|r: &AddrRange| r.contains(pa))
    }

    /// The board boots a kernel directly with EL3 implemented but no firmware to run there:
    /// the reset state moves to Non-secure EL2h (with `has_el2`) or EL1h, as the arm64 boot
    /// protocol enters a kernel, with SCR_EL3 set for a Non-secure, AArch64 world that may use
    /// HVC (QEMU's direct kernel boot does the same).
    pub fn enter_non_secure(&mut self) {
        if !self.has_el3 {
            return;
        }
        let hce = if self.has_el2 { scr::HCE } else { 0 };
        write_scr(self, scr::NS | scr::RW | hce);
        let el = if self.has_el2 { 2 } else { 1 };
        self.set_el_sp(el, true);
        self.mmu_changed();
    }
}

/// Access check of the EL3 registers: EL3 only.
pub fn check_el3(cpu: &Aarch64Cpu, _: bool) -> Result<(), Deny> {
    if cpu.has_el3 && cpu.el == 3 {
        Ok(())
    } else {
        Err(Deny::Undefined)
    }
}

/// Read-only EL3 registers.
pub fn check_el3_ro(cpu: &Aarch64Cpu, write: bool) -> Result<(), Deny> {
    if write {
        return Err(Deny::Undefined);
    }
    check_el3(cpu, write)
}

pub fn write_scr(c: &mut Aarch64Cpu, v: u64) {
    let pauth = if c.features.pauth { scr::API | scr::APK } else { 0 };
    let old = c.el3.scr;
    c.el3.scr = v & (scr::WRITABLE | pauth) | scr::RES1 | scr::RW;
    if (old ^ c.el3.scr) & scr::NS != 0 {
        // The EL1&0 regime changes Security state: its Secure and Non-secure translations
        // must not serve each other (the TLB entries carry no NS tag).
        c.tlb_flush_all();
    }
    // Routing changed: the loop re-checks interrupts after this helper (MSR of a non-local
    // register ends the block).
    c.halted = false;
    c.mmu_changed();
}

pub fn write_sctlr_el3(c: &mut Aarch64Cpu, v: u64) {
    let pauth = if c.features.pauth { crate::pauth::SCTLR_EN_ALL } else { 0 };
    let bti = if c.features.bti { sctlr3::BT } else { 0 };
    c.mmu_regs.sctlr_el3 = v & (sctlr3::WRITABLE | pauth | bti) | sctlr3::RES1;
    c.mmu_changed();
}

/// SPSR_EL3 keeps what SPSR_EL1 keeps.
pub fn write_spsr_el3(c: &mut Aarch64Cpu, v: u64) {
    let btype = if c.features.bti { crate::sysreg::SPSR_BTYPE } else { 0 };
    c.el3.spsr = v & (crate::sysreg::SPSR_WRITABLE | btype);
}

/// The reset state of the EL3 registers: Secure (NS = 0), every trap and routing off.
pub fn reset_regs(rvbar: u64) -> El3Regs {
    El3Regs { scr: scr::RES1 | scr::RW, rvbar, ..Default::default() }
}
