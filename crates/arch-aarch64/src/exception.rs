//! Exception entry to EL1, exception return, and the asynchronous exceptions (IRQ, FIQ).
//!
//! ```text
//!   VBAR_EL1 + group + kind          group: 0x000 current EL with SP_EL0
//!                                           0x200 current EL with SP_EL1
//!                                           0x400 lower EL (EL0), AArch64
//!                                    kind:  0x000 synchronous, 0x080 IRQ, 0x100 FIQ, 0x180 SError
//!   entry: SPSR_EL1 = PSTATE (with BTYPE, which is cleared), ELR_EL1 = preferred return address, ESR_EL1 (synchronous
//!          only), FAR_EL1 (aborts and alignment faults); PSTATE.EL = 1, SP = SP_EL1,
//!          DAIF = 1111, IL = 0, PAN = 1 unless SCTLR_EL1.SPAN.
//!   ERET:  PSTATE = SPSR_EL1, pc = ELR_EL1; an illegal return (to AArch32, to EL2/EL3, to a
//!          reserved mode) keeps EL and SP and sets PSTATE.IL, so the next instruction raises
//!          the Illegal Execution state exception.
//! ```
//!
//! Every exception targets EL1 (EL2 and EL3 are not implemented). The local exclusive monitor
//! is cleared on entry and on return.

use crate::cpu::{daif, irq, Aarch64Cpu, Fault, BTYPE};
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
    /// Take synchronous exception `f`, raised by the instruction at `pc`.
    pub fn take_sync(&mut self, f: Fault, pc: u64) {
        let from_lower = self.el == 0;
        let esr = f.esr(from_lower);
        tracing::debug!(target: "int", "a64 exception {f:?} ESR {esr:#x} at {pc:#x} from EL{}", self.el);
        self.sys.esr = esr;
        if let Some(far) = f.far() {
            self.sys.far = far;
        }
        self.enter_el1(vector::SYNC, f.return_address(pc));
    }

    /// Take an interrupt of `kind` (`vector::IRQ` or `vector::FIQ`) at the current pc.
    pub fn take_interrupt(&mut self, kind: u64) {
        tracing::trace!(target: "int", "a64 interrupt {kind:#x} at {:#x} from EL{}", self.pc, self.el);
        self.enter_el1(kind, self.pc);
    }

    fn enter_el1(&mut self, kind: u64, elr: u64) {
        let group = if self.el == 0 {
            vector::LOWER_A64
        } else if self.spsel {
            vector::CURRENT_SPX
        } else {
            vector::CURRENT_SP0
        };
        self.sys.spsr = self.pstate();
        self.regs[BTYPE] = 0;
        self.sys.elr = elr;
        self.set_el_sp(1, true);
        self.daif = daif::ALL;
        self.il = false;
        if self.mmu_regs.sctlr_el1 & sctlr::SPAN == 0 {
            self.pan = true;
        }
        self.monitor = None;
        self.halted = false;
        self.pc = (self.sys.vbar & !0x7ff).wrapping_add(group + kind);
        self.mmu_changed();
    }

    /// ERET from EL1: restore PSTATE from SPSR_EL1 and return the new pc (ELR_EL1).
    pub fn exception_return(&mut self) -> u64 {
        let spsr = self.sys.spsr;
        let m = spsr & 0x1f;
        let el = (m >> 2 & 3) as u8;
        // AArch32 (M[4]), a higher or unimplemented EL, M[1] set (reserved), or EL0 with SP_ELx.
        let illegal = m & 0x10 != 0 || el > self.el || m & 2 != 0 || m == 0b0001;
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
        self.sys.elr
    }

    /// Whether an interrupt line is pending, which ends a WFI whether or not it is masked.
    pub fn wake_pending(&self) -> bool {
        self.irq_lines.load() & (irq::IRQ | irq::FIQ) != 0
    }

    /// Wake from WFI on any pending interrupt line (masked or not), and take the highest
    /// priority unmasked one (FIQ, then IRQ). A firmware call waiting for the board is left
    /// alone.
    #[inline]
    pub fn poll_interrupts(&mut self) {
        let lines = self.irq_lines.load() & (irq::IRQ | irq::FIQ);
        if lines == 0 || self.fw_call {
            return;
        }
        self.halted = false;
        // Interrupts target EL1 and PSTATE.{I,F} mask them at EL0 and EL1 alike.
        if lines & irq::FIQ != 0 && self.daif & daif::F == 0 {
            self.take_interrupt(vector::FIQ);
        } else if lines & irq::IRQ != 0 && self.daif & daif::I == 0 {
            self.take_interrupt(vector::IRQ);
        }
    }
}
