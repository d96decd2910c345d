//! Exceptions and interrupts: causes, delegation, entering and returning from trap handlers.

use crate::cpu::{Priv, RiscvCpu};
use crate::csr::{irq, mstatus as ms};

/// Synchronous exception causes (`mcause` with the interrupt bit clear).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    InsnMisaligned = 0,
    InsnAccess = 1,
    IllegalInstruction = 2,
    Breakpoint = 3,
    LoadMisaligned = 4,
    LoadAccess = 5,
    StoreMisaligned = 6,
    StoreAccess = 7,
    EcallU = 8,
    EcallS = 9,
    EcallM = 11,
    InsnPageFault = 12,
    LoadPageFault = 13,
    StorePageFault = 15,
}

const INTERRUPT_BIT: u64 = 1 << 63;

/// Interrupts in the order the privileged spec says they are taken: MEI, MSI, MTI, SEI, SSI, STI.
const PRIORITY: [u64; 6] = [11, 3, 7, 9, 1, 5];

impl RiscvCpu {
    /// Enter the trap handler for `cause` raised at `epc`.
    pub fn take_trap(&mut self, cause: u64, interrupt: bool, tval: u64, epc: u64) {
        let deleg = if interrupt { self.csr.mideleg } else { self.csr.medeleg };
        let mcause = cause | if interrupt { INTERRUPT_BIT } else { 0 };
        tracing::info!(target: "int", "hart {} trap cause {:#x} tval {:#x} epc {:#x} from {:?}", self.hartid, mcause, tval, epc, self.prv);
        // An intervening trap breaks any LR/SC sequence.
        self.reservation = None;
        self.halted = false;
        let st = self.csr.mstatus;
        if self.prv != Priv::M && (deleg >> cause) & 1 != 0 {
            self.csr.scause = mcause;
            self.csr.sepc = epc;
            self.csr.stval = tval;
            let mut s = st & !(ms::SPIE | ms::SIE | ms::SPP);
            if st & ms::SIE != 0 {
                s |= ms::SPIE;
            }
            if self.prv == Priv::S {
                s |= ms::SPP;
            }
            self.csr.mstatus = s;
            self.pc = vector(self.csr.stvec, cause, interrupt);
            self.prv = Priv::S;
        } else {
            self.csr.mcause = mcause;
            self.csr.mepc = epc;
            self.csr.mtval = tval;
            let mut s = st & !(ms::MPIE | ms::MIE | ms::MPP);
            if st & ms::MIE != 0 {
                s |= ms::MPIE;
            }
            s |= (self.prv as u64) << ms::MPP_SHIFT;
            self.csr.mstatus = s;
            self.pc = vector(self.csr.mtvec, cause, interrupt);
            self.prv = Priv::M;
        }
        self.update_mmu_state();
    }

    /// The interrupt to take now, if any.
    fn interrupt_to_take(&self) -> Option<u64> {
        let pending = self.mip() & self.csr.mie;
        if pending == 0 {
            return None;
        }
        let st = self.csr.mstatus;
        let m_enabled = self.prv != Priv::M || st & ms::MIE != 0;
        let s_enabled = self.prv == Priv::U || (self.prv == Priv::S && st & ms::SIE != 0);
        let m_pending = if m_enabled { pending & !self.csr.mideleg } else { 0 };
        let s_pending = if s_enabled && self.prv != Priv::M { pending & self.csr.mideleg } else { 0 };
        let set = if m_pending != 0 { m_pending } else { s_pending };
        PRIORITY.iter().copied().find(|&n| set >> n & 1 != 0)
    }

    /// Wake from WFI on any pending enabled-in-mie interrupt and take one if the current
    /// privilege and global enables allow it.
    #[inline(always)]
    pub fn poll_interrupts(&mut self) {
        let pending = self.mip() & self.csr.mie;
        if pending == 0 {
            return;
        }
        self.halted = false;
        if let Some(n) = self.interrupt_to_take() {
            self.take_trap(n, true, 0, self.pc);
        }
    }

    /// `mret`: back to the privilege in MPP.
    pub fn mret(&mut self) -> u64 {
        let st = self.csr.mstatus;
        let to = Priv::from_bits(st >> ms::MPP_SHIFT);
        let mut s = st & !(ms::MIE | ms::MPP);
        if st & ms::MPIE != 0 {
            s |= ms::MIE;
        }
        s |= ms::MPIE;
        if to != Priv::M {
            s &= !ms::MPRV;
        }
        self.csr.mstatus = s;
        self.prv = to;
        self.reservation = None;
        self.update_mmu_state();
        self.csr.mepc
    }

    /// `sret`: back to the privilege in SPP.
    pub fn sret(&mut self) -> u64 {
        let st = self.csr.mstatus;
        let to = if st & ms::SPP != 0 { Priv::S } else { Priv::U };
        let mut s = st & !(ms::SIE | ms::SPP | ms::MPRV);
        if st & ms::SPIE != 0 {
            s |= ms::SIE;
        }
        s |= ms::SPIE;
        self.csr.mstatus = s;
        self.prv = to;
        self.reservation = None;
        self.update_mmu_state();
        self.csr.sepc
    }

    /// Bits of `mip` that are pending and enabled in `mie` (for WFI wake-up decisions).
    pub fn wake_pending(&self) -> bool {
        self.mip() & self.csr.mie & irq::ALL != 0
    }
}

fn vector(tvec: u64, cause: u64, interrupt: bool) -> u64 {
    let base = tvec & !3;
    if interrupt && tvec & 1 != 0 {
        base.wrapping_add(4 * cause)
    } else {
        base
    }
}
