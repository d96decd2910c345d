//! Exception entry to EL1, EL2 or EL3, exception return, and the asynchronous exceptions (IRQ,
//! FIQ).
//!
//! ```text
//!   target EL: EL3 for SMC, EL3's traps (`pending_to_el3`), CPTR_EL3 FP traps and anything at
//!              EL3 (see `el3.rs`); EL2 for HVC, EL2's traps (`pending_to_el2`), CPTR_EL2 FP
//!              traps, anything at EL2, and EL0's exceptions under HCR_EL2.TGE; EL1 otherwise
//!   VBAR_ELt + group + kind          group: 0x000 current EL with SP_EL0
//!                                           0x200 current EL with SP_ELx
//!                                           0x400 lower EL, AArch64
//!                                    kind:  0x000 synchronous, 0x080 IRQ, 0x100 FIQ, 0x180 SError
//!   entry: SPSR_ELt = PSTATE (with BTYPE, which is cleared), ELR_ELt = preferred return
//!          address, ESR_ELt (synchronous only), FAR_ELt (aborts and alignment faults);
//!          PSTATE.EL = t, SP = SP_ELt, DAIF = 1111, IL = 0, PAN = 1 at EL1 unless SCTLR_EL1.SPAN.
//!   ERET:  PSTATE = SPSR_ELx, pc = ELR_ELx; an illegal return (to AArch32, to a higher or
//!          unimplemented EL, to EL2 while SCR_EL3.NS = 0, to EL1 while HCR_EL2.TGE, to a
//!          reserved mode) keeps EL and SP and
//!          sets PSTATE.IL, so the next instruction raises the Illegal Execution state exception.
//! ```
//!
//! The local exclusive monitor is cleared on entry and on return.

use crate::cpu::{daif, irq, Aarch64Cpu, Fault, BTYPE};
use crate::el2::hcr;
use crate::sysreg::sctlr;

/// Offsets within the vector table.
pub mod vector {
    pub const SYNC: u64 = 0x000;
    pub const IRQ: u64 = 0x080;
    pub const FIQ: u64 = 0x100;
    pub const SERROR: u64 = 0x180;
    pub const CURRENT_SP0: u64 = 0x000;
    pub const CURRENT_SPX: u64 = 0x200;
    pub const LOWER_A64: u64 = 0x400;
}

impl Aarch64Cpu {
    /// The EL synchronous exception `f` is taken to from the current EL.
    fn sync_target(&self, f: Fault) -> u8 {
        if let Some(t) = self.el3_sync_target(f) {
            return t;
        }
        if !self.el2_enabled() {
            return 1;
        }
        if self.pending_to_el2 || self.el == 2 || matches!(f, Fault::Hvc { .. }) {
            return 2;
        }
        // CPACR_EL1 lets it through, so CPTR_EL2.TFP trapped it.
        if f == Fault::FpAccess && self.fp_allowed_by_cpacr() {
            return 2;
        }
        if self.el == 0 && self.el2.hcr & hcr::TGE != 0 {
            return 2;
        }
        1
    }

    /// Take synchronous exception `f`, raised by the instruction at `pc`.
    pub fn take_sync(&mut self, f: Fault, pc: u64) {
        let target = self.sync_target(f);
        // A trapped instruction (an SMC under HCR_EL2.TSC too) is returned to, not past.
        let elr = if self.pending_to_el2 || self.pending_to_el3 { pc } else { f.return_address(pc) };
        self.pending_to_el2 = false;
        self.pending_to_el3 = false;
        let stage2 = self.stage2_fault.take();
        let from_lower = self.el < target;
        let esr = f.esr(from_lower);
        tracing::debug!(target: "int", "a64 exception {f:?} ESR {esr:#x} at {pc:#x} from EL{} to EL{target}", self.el);
        if target == 3 {
            self.el3.esr = esr;
            if let Some(far) = f.far() {
                self.el3.far = far;
            }
        } else if target == 2 {
            self.el2.esr = esr;
            if let Some(far) = f.far() {
                self.el2.far = far;
            }
            if let Some(s2) = stage2 {
                self.report_stage2_fault(s2, matches!(f, Fault::DataAbort { .. }), pc);
            }
        } else {
            self.sys.esr = esr;
            if let Some(far) = f.far() {
                self.sys.far = far;
            }
        }
        self.enter_el(target, vector::SYNC, elr);
    }

    /// Take an interrupt of `kind` (`vector::IRQ` or `vector::FIQ`) to EL `target` at the
    /// current pc.
    pub fn take_interrupt(&mut self, kind: u64, target: u8) {
        tracing::trace!(target: "int", "a64 interrupt {kind:#x} at {:#x} from EL{} to EL{target}", self.pc, self.el);
        self.enter_el(target, kind, self.pc);
    }

    fn enter_el(&mut self, target: u8, kind: u64, elr: u64) {
        let group = if self.el < target {
            vector::LOWER_A64
        } else if self.spsel {
            vector::CURRENT_SPX
        } else {
            vector::CURRENT_SP0
        };
        let spsr = self.pstate();
        let vbar = if target == 3 {
            self.el3.spsr = spsr;
            self.el3.elr = elr;
            self.el3.vbar
        } else if target == 2 {
            self.el2.spsr = spsr;
            self.el2.elr = elr;
            self.el2.vbar
        } else {
            self.sys.spsr = spsr;
            self.sys.elr = elr;
            self.sys.vbar
        };
        self.regs[BTYPE] = 0;
        self.set_el_sp(target, true);
        self.daif = daif::ALL;
        self.il = false;
        if target == 1 && self.mmu_regs.sctlr_el1 & sctlr::SPAN == 0 {
            self.pan = true;
        }
        self.monitor = None;
        self.halted = false;
        self.pc = (vbar & !0x7ff).wrapping_add(group + kind);
        self.mmu_changed();
    }

    /// ELR of the current EL (what ERET returns to).
    pub fn elr_current(&self) -> u64 {
        match self.el {
            3 => self.el3.elr,
            2 => self.el2.elr,
            _ => self.sys.elr,
        }
    }

    /// ERET from EL1, EL2 or EL3: restore PSTATE from SPSR_ELx and return the new pc
    /// (ELR_ELx).
    pub fn exception_return(&mut self) -> u64 {
        let (spsr, elr) = match self.el {
            3 => (self.el3.spsr, self.el3.elr),
            2 => (self.el2.spsr, self.el2.elr),
            _ => (self.sys.spsr, self.sys.elr),
        };
        let m = spsr & 0x1f;
        let el = (m >> 2 & 3) as u8;
        // EL2 exists in the target Security state only while SCR_EL3.NS = 1.
        let implemented = el <= 1 || (el == 2 && self.el2_enabled()) || (el == 3 && self.has_el3);
        // AArch32 (M[4]), a higher or unimplemented EL, M[1] set (reserved), EL0 with SP_ELx,
        // or EL1 while HCR_EL2.TGE sends EL0 to EL2.
        let illegal = m & 0x10 != 0
            || el > self.el
            || !implemented
            || m & 2 != 0
            || m == 0b0001
            || (el == 1 && self.el >= 2 && self.hcr() & hcr::TGE != 0);
        self.set_nzcv((spsr >> 28) as u32 & 0xf);
        self.daif = spsr & daif::ALL;
        self.pan = spsr >> 22 & 1 != 0;
        // The instruction returned to is checked as a branch target (FEAT_BTI).
        self.regs[BTYPE] = if self.features.bti { spsr >> 10 & 3 } else { 0 };
        if illegal {
            mimic_core::guest_error!("a64: illegal exception return to SPSR {spsr:#x} at EL{}", self.el);
            self.il = true;
        } else {
            self.il = spsr >> 20 & 1 != 0;
            self.set_el_sp(el, m & 1 != 0);
        }
        self.monitor = None;
        self.mmu_changed();
        elr
    }

    /// Whether an interrupt is pending that ends a WFI whether or not it is masked: a
    /// physical line, or a virtual interrupt at EL0/EL1.
    pub fn wake_pending(&self) -> bool {
        let (vf, vi) = self.virtual_interrupts();
        self.irq_lines.load() & (irq::IRQ | irq::FIQ) != 0 || vf || vi
    }

    /// Whether a physical interrupt routed to EL3 (`to_el3`), EL2 (`to_el2`) or EL1, masked by
    /// PSTATE `bit`, is taken now, and to which EL.
    fn physical_target(&self, to_el3: bool, to_el2: bool, bit: u64) -> Option<u8> {
        let unmasked = self.daif & bit == 0;
        let route = if to_el3 {
            3
        } else if to_el2 {
            2
        } else {
            1
        };
        match route.cmp(&self.el) {
            // Routed below the current EL: not taken.
            std::cmp::Ordering::Less => None,
            std::cmp::Ordering::Equal => unmasked.then_some(route),
            // Routed to EL1 from EL0: PSTATE masks it there too.
            std::cmp::Ordering::Greater if route == 1 => unmasked.then_some(1),
            // Routed to EL2 or EL3 from below: PSTATE does not mask it.
            std::cmp::Ordering::Greater => Some(route),
        }
    }

    /// Wake from WFI on any pending interrupt (masked or not), and take the highest priority
    /// one that is not masked (physical FIQ, physical IRQ, virtual FIQ, virtual IRQ). A
    /// firmware call waiting for the board is left alone.
    #[inline(always)]
    pub fn poll_interrupts(&mut self) {
        // Once per block is enough: other CPUs run only between this one's slices.
        self.take_remote_tlbi();
        // The common case, nothing pending, is decided inline: the interpreter asks before
        // every block. HCR_EL2's virtual lines count only with EL2 enabled, so this test
        // passing implies `quiet` below.
        if self.irq_lines.load() == 0 && self.el2.hcr & (hcr::VI | hcr::VF) == 0 && self.ich.signal == (false, false) {
            return;
        }
        self.poll_pending();
    }

    #[cold]
    #[inline(never)]
    fn poll_pending(&mut self) {
        let all = self.irq_lines.load();
        let lines = all & (irq::IRQ | irq::FIQ);
        let h = self.hcr();
        let quiet = all == 0 && h & (hcr::VI | hcr::VF) == 0 && self.ich.signal == (false, false);
        if quiet || self.fw_call {
            return;
        }
        let (vf, vi) = self.virtual_interrupts();
        if lines == 0 && !vf && !vi {
            return;
        }
        self.halted = false;
        let (fiq2, irq2) = self.interrupts_to_el2();
        let (fiq3, irq3) = self.interrupts_to_el3();
        if lines & irq::FIQ != 0 {
            if let Some(t) = self.physical_target(fiq3, fiq2, daif::F) {
                return self.take_interrupt(vector::FIQ, t);
            }
        }
        if lines & irq::IRQ != 0 {
            if let Some(t) = self.physical_target(irq3, irq2, daif::I) {
                return self.take_interrupt(vector::IRQ, t);
            }
        }
        if vf && self.daif & daif::F == 0 {
            return self.take_interrupt(vector::FIQ, 1);
        }
        if vi && self.daif & daif::I == 0 {
            self.take_interrupt(vector::IRQ, 1);
        }
    }
}
