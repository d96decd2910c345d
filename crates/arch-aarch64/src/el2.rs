//! EL2, the hypervisor exception level (`-M virt,virtualization=on`): its registers, the traps
//! its controls set on EL0/EL1, and where exceptions and interrupts go when it exists.
//!
//! ```text
//!   HCR_EL2.IMO/FMO/AMO ─▶ physical IRQ/FIQ/SError taken to EL2 from EL0/EL1 (PSTATE.I/F do
//!                          not mask them there), virtual VI/VF taken to EL1 (masked by I/F)
//!   HCR_EL2.TGE          ─▶ everything EL0 raises goes to EL2, physical interrupts too
//!   HVC (EL1/EL2)        ─▶ EL2, unless HCR_EL2.HCD;  SMC at EL1 with HCR_EL2.TSC ─▶ EL2
//!   WFI/WFE (TWI/TWE), EL1 VM controls (TVM writes, TRVM reads), ACTLR_EL1 (TACR),
//!   the EL1 physical counter/timer (CNTHCTL_EL2.EL1PCTEN/EL1PCEN) ─▶ EL2
//!   CPTR_EL2.TFP          ─▶ FP/SIMD at EL0/EL1/EL2 trapped to EL2 (EC 0x07)
//! ```
//!
//! No VHE (HCR_EL2.E2H is RES0, ID_AA64MMFR1.VH = 0): the EL2 regime is a single-range stage-1
//! regime through TTBR0_EL2 (see [`crate::mmu`]). EL1 reads of MIDR_EL1 and MPIDR_EL1 return
//! VPIDR_EL2 and VMPIDR_EL2. Only AArch64 is implemented at every EL, so HCR_EL2.RW reads as one.
//! HCR_EL2.API/APK are kept but pointer authentication is never trapped.

use crate::cpu::{irq, Aarch64Cpu, Fault};
use crate::sysreg::{key, Deny};
use mimic_ir::Exit;

/// HCR_EL2 bits.
pub mod hcr {
    pub const VM: u64 = 1 << 0;
    pub const FMO: u64 = 1 << 3;
    pub const IMO: u64 = 1 << 4;
    pub const AMO: u64 = 1 << 5;
    pub const VF: u64 = 1 << 6;
    pub const VI: u64 = 1 << 7;
    pub const VSE: u64 = 1 << 8;
    pub const TWI: u64 = 1 << 13;
    pub const TWE: u64 = 1 << 14;
    pub const TID3: u64 = 1 << 18;
    pub const TSC: u64 = 1 << 19;
    pub const TACR: u64 = 1 << 21;
    pub const TVM: u64 = 1 << 26;
    pub const TGE: u64 = 1 << 27;
    pub const HCD: u64 = 1 << 29;
    pub const TRVM: u64 = 1 << 30;
    pub const RW: u64 = 1 << 31;
    pub const E2H: u64 = 1 << 34;
    pub const APK: u64 = 1 << 40;
    pub const API: u64 = 1 << 41;
    /// Bits 33:0 and 37:35 of Armv8.0 without E2H (RES0 without VHE); API/APK are added with
    /// FEAT_PAuth.
    pub const WRITABLE: u64 = 0x3b_ffff_ffff;
}

/// CPTR_EL2 bits (non-VHE layout).
pub mod cptr {
    pub const TFP: u64 = 1 << 10;
    /// RES1: bits 13:12, 9:0 (no SVE, SME).
    pub const RES1: u64 = 0x33ff;
    /// TFP, TTA (20), TAM (30), TCPAC (31).
    pub const WRITABLE: u64 = TFP | 1 << 20 | 1 << 30 | 1 << 31;
}

/// CNTHCTL_EL2 bits (non-VHE layout).
pub mod cnthctl {
    /// EL0/EL1 may read CNTPCT_EL0.
    pub const EL1PCTEN: u64 = 1 << 0;
    /// EL0/EL1 may access the EL1 physical timer.
    pub const EL1PCEN: u64 = 1 << 1;
    /// EVNTEN, EVNTDIR, EVNTI: the event stream (not modelled, kept).
    pub const WRITABLE: u64 = 0xff;
}

/// SCTLR_EL2: RES1 bits of Armv8.0 (29:28, 23:22, 18, 16, 11, 5:4) and what software may set
/// (M A C SA I WXN, EnIA/EnIB/EnDA/EnDB with PAuth, BT with BTI; EE stays little-endian).
pub mod sctlr2 {
    pub const RES1: u64 = 0x30c5_0830;
    pub const WRITABLE: u64 = 0x0008_100f;
    pub const BT: u64 = 1 << 36;
}

/// VTCR_EL2: bit 31 is RES1; T0SZ, SL0, IRGN0, ORGN0, SH0, TG0 (30:14 minus RES0), PS, VS.
pub const VTCR_RES1: u64 = 1 << 31;

/// The EL2 registers (the EL2 translation controls live in [`crate::mmu_regs::MmuRegs`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct El2Regs {
    pub hcr: u64,
    pub vbar: u64,
    pub elr: u64,
    pub spsr: u64,
    pub esr: u64,
    pub far: u64,
    pub hpfar: u64,
    pub cptr: u64,
    pub mdcr: u64,
    pub hstr: u64,
    pub cnthctl: u64,
    pub cntvoff: u64,
    pub vpidr: u64,
    pub vmpidr: u64,
    pub tpidr: u64,
    pub actlr: u64,
    pub vttbr: u64,
    pub vtcr: u64,
}

impl Aarch64Cpu {
    /// HCR_EL2 as it acts now: 0 without EL2, or while the lower ELs are Secure.
    #[inline]
    pub fn hcr(&self) -> u64 {
        if self.el2_enabled() {
            self.el2.hcr
        } else {
            0
        }
    }

    /// Whether CPTR_EL2.TFP traps FP/SIMD at the current EL (EL0, EL1 or EL2).
    #[inline]
    pub fn fp_trapped_to_el2(&self) -> bool {
        self.el2_enabled() && self.el <= 2 && self.el2.cptr & cptr::TFP != 0
    }

    /// The SCTLR of the current translation regime.
    #[inline]
    pub fn sctlr_current(&self) -> u64 {
        match self.el {
            3 => self.mmu_regs.sctlr_el3,
            2 => self.mmu_regs.sctlr_el2,
            _ => self.mmu_regs.sctlr_el1,
        }
    }

    /// Record an exception that EL2's controls trap: it is taken to EL2 whatever its kind.
    pub fn trap_to_el2<T>(&mut self, f: Fault) -> Result<T, Exit> {
        self.pending_to_el2 = true;
        self.exception(f)
    }

    /// The physical IRQ/FIQ masks in the order (FIQ, IRQ): whether each is routed to EL2.
    pub fn interrupts_to_el2(&self) -> (bool, bool) {
        let h = self.hcr();
        let tge = h & hcr::TGE != 0;
        (tge || h & hcr::FMO != 0, tge || h & hcr::IMO != 0)
    }

    /// Pending virtual (FIQ, IRQ): HCR_EL2.VF/VI while FMO/IMO route the physical ones to EL2
    /// and TGE is clear. They are taken at EL0/EL1 only.
    pub fn virtual_interrupts(&self) -> (bool, bool) {
        let h = self.hcr();
        if h & hcr::TGE != 0 || self.el > 1 {
            return (false, false);
        }
        // The GICv3 list registers and a GICv2's virtual CPU interface raise them too.
        let (lf, li) = self.ich_signal();
        let lines = self.irq_lines.load();
        let vf = lf || lines & irq::VFIQ != 0 || h & hcr::VF != 0;
        let vi = li || lines & irq::VIRQ != 0 || h & hcr::VI != 0;
        (vf && h & hcr::FMO != 0, vi && h & hcr::IMO != 0)
    }
}

/// The EL1 registers whose MSR HCR_EL2.TVM traps and whose MRS HCR_EL2.TRVM traps.
const VM_CONTROLS: [u32; 11] = [
    key(3, 0, 1, 0, 0),  // SCTLR_EL1
    key(3, 0, 2, 0, 0),  // TTBR0_EL1
    key(3, 0, 2, 0, 1),  // TTBR1_EL1
    key(3, 0, 2, 0, 2),  // TCR_EL1
    key(3, 0, 5, 1, 0),  // AFSR0_EL1
    key(3, 0, 5, 1, 1),  // AFSR1_EL1
    key(3, 0, 5, 2, 0),  // ESR_EL1
    key(3, 0, 6, 0, 0),  // FAR_EL1
    key(3, 0, 10, 2, 0), // MAIR_EL1
    key(3, 0, 10, 3, 0), // AMAIR_EL1
    key(3, 0, 13, 0, 1), // CONTEXTIDR_EL1
];

/// Whether EL2 traps an MRS (`write` false) or MSR of `k` at the current EL, which has already
/// passed the register's own check.
pub fn traps(cpu: &Aarch64Cpu, k: u32, write: bool) -> bool {
    if !cpu.el2_enabled() || cpu.el > 1 {
        return false;
    }
    let h = cpu.el2.hcr;
    let el1 = cpu.el == 1;
    if el1 && VM_CONTROLS.contains(&k) {
        return h & if write { hcr::TVM } else { hcr::TRVM } != 0;
    }
    if el1 && k == key(3, 0, 1, 0, 1) {
        return h & hcr::TACR != 0;
    }
    // The EL1 physical counter and timer, at EL0 and EL1 (EL0 passed CNTKCTL_EL1 already).
    let c = cpu.el2.cnthctl;
    if k == key(3, 3, 14, 0, 1) {
        return c & cnthctl::EL1PCTEN == 0;
    }
    if [key(3, 3, 14, 2, 0), key(3, 3, 14, 2, 1), key(3, 3, 14, 2, 2)].contains(&k) {
        return c & cnthctl::EL1PCEN == 0;
    }
    false
}

/// Access check of the EL2 registers: EL2 (and EL3) only.
pub fn check_el2(cpu: &Aarch64Cpu, _: bool) -> Result<(), Deny> {
    if cpu.has_el2 && cpu.el >= 2 {
        Ok(())
    } else {
        Err(Deny::Undefined)
    }
}

/// Read-only EL2 registers.
pub fn check_el2_ro(cpu: &Aarch64Cpu, write: bool) -> Result<(), Deny> {
    if write {
        return Err(Deny::Undefined);
    }
    check_el2(cpu, write)
}

pub fn write_hcr(c: &mut Aarch64Cpu, v: u64) {
    let pauth = if c.features.pauth { hcr::API | hcr::APK } else { 0 };
    let old = c.el2.hcr;
    c.el2.hcr = v & (hcr::WRITABLE | pauth) | hcr::RW;
    // Stage 2 came or went: the EL1&0 entries were made with the other translation.
    if (old ^ c.el2.hcr) & (hcr::VM | hcr::TGE) != 0 {
        c.tlb_flush_all();
    }
    // Routing and virtual interrupt lines changed: the loop re-checks interrupts after this
    // helper, since MSR of a non-local register ends the block.
    c.halted = false;
    c.mmu_changed();
}

pub fn write_sctlr_el2(c: &mut Aarch64Cpu, v: u64) {
    let pauth = if c.features.pauth { crate::pauth::SCTLR_EN_ALL } else { 0 };
    let bti = if c.features.bti { sctlr2::BT } else { 0 };
    c.mmu_regs.sctlr_el2 = v & (sctlr2::WRITABLE | pauth | bti) | sctlr2::RES1;
    c.mmu_changed();
}

/// SPSR_EL2 keeps what SPSR_EL1 keeps.
pub fn write_spsr_el2(c: &mut Aarch64Cpu, v: u64) {
    let btype = if c.features.bti { crate::sysreg::SPSR_BTYPE } else { 0 };
    c.el2.spsr = v & (crate::sysreg::SPSR_WRITABLE | btype);
}

/// MIDR_EL1 as the current EL reads it.
pub fn midr_seen(c: &Aarch64Cpu, real: u64) -> u64 {
    if c.el2_enabled() && c.el == 1 {
        c.el2.vpidr
    } else {
        real
    }
}

/// MPIDR_EL1 as the current EL reads it.
pub fn mpidr_seen(c: &Aarch64Cpu, real: u64) -> u64 {
    if c.el2_enabled() && c.el == 1 {
        c.el2.vmpidr
    } else {
        real
    }
}
