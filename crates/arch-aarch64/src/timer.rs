//! The generic timer: the system counter (from the board's [`crate::cpu::TimeSource`]) and the
//! EL1 physical and virtual timers, whose outputs are level signals to the interrupt controller.
//!
//! ```text
//!   TimeSource() ──▶ CNTPCT_EL0 ──(− CNTVOFF = 0)──▶ CNTVCT_EL0
//!   timer n: ISTATUS = ENABLE && count >= CVAL;  line n level = ISTATUS && !IMASK
//!            TVAL reads (CVAL − count)[31:0]; a write sets CVAL = count + SignExtend(TVAL[31:0])
//!   timer_lines[0] = physical (PPI 30), timer_lines[1] = virtual (PPI 27)
//! ```
//!
//! The levels are re-evaluated on every CNT*_CTL/CVAL/TVAL write and whenever the board calls
//! [`Aarch64Cpu::update_timers`] (between slices); [`Aarch64Cpu::timer_deadline`] tells the
//! board when the next one will fire, so that it can sleep while the CPU waits in WFI.

use crate::cpu::Aarch64Cpu;

/// Index of the EL1 physical timer (CNTP_*) in [`Aarch64Cpu::timer_lines`] and `SysRegs::timers`.
pub const PHYS: usize = 0;
/// Index of the virtual timer (CNTV_*).
pub const VIRT: usize = 1;
/// Index of the EL2 physical timer (CNTHP_*; its line is `Aarch64Cpu::hyp_timer_line`).
pub const HYP: usize = 2;

/// CNTx_CTL_EL0 bits.
pub mod ctl {
    pub const ENABLE: u64 = 1 << 0;
    pub const IMASK: u64 = 1 << 1;
    pub const ISTATUS: u64 = 1 << 2;
}

/// One timer's registers as software wrote them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timer {
    /// ENABLE and IMASK (ISTATUS is computed on read).
    pub ctl: u64,
    pub cval: u64,
}

impl Aarch64Cpu {
    /// CNTPCT_EL0.
    pub fn counter(&self) -> u64 {
        (self.time)()
    }

    /// The count timer `n` compares against: physical, or virtual (CNTPCT − CNTVOFF_EL2; the
    /// offset is 0 without EL2).
    pub fn timer_count(&self, n: usize) -> u64 {
        if n == VIRT && self.has_el2 {
            self.counter().wrapping_sub(self.el2.cntvoff)
        } else {
            self.counter()
        }
    }

    fn timer_condition(&self, n: usize, count: u64) -> bool {
        let t = self.sys.timers[n];
        t.ctl & ctl::ENABLE != 0 && count >= t.cval
    }

    /// CNTx_CTL_EL0 as software reads it, ISTATUS included.
    pub fn timer_ctl(&self, n: usize) -> u64 {
        let istatus = self.timer_condition(n, self.timer_count(n));
        self.sys.timers[n].ctl | if istatus { ctl::ISTATUS } else { 0 }
    }

    pub fn set_timer_ctl(&mut self, n: usize, v: u64) {
        self.sys.timers[n].ctl = v & (ctl::ENABLE | ctl::IMASK);
        self.update_timers();
    }

    pub fn set_timer_cval(&mut self, n: usize, v: u64) {
        self.sys.timers[n].cval = v;
        self.update_timers();
    }

    /// CNTx_TVAL_EL0: the low 32 bits of CVAL − count (bits 63:32 are RES0).
    pub fn timer_tval(&self, n: usize) -> u64 {
        self.sys.timers[n].cval.wrapping_sub(self.timer_count(n)) & 0xffff_ffff
    }

    pub fn set_timer_tval(&mut self, n: usize, v: u64) {
        let delta = i64::from(v as u32 as i32) as u64;
        let cval = self.timer_count(n).wrapping_add(delta);
        self.set_timer_cval(n, cval);
    }

    /// Drive each timer line with its current level (only changes are signalled).
    pub fn update_timers(&mut self) {
        for n in [PHYS, VIRT, HYP] {
            let level = self.timer_condition(n, self.timer_count(n)) && self.sys.timers[n].ctl & ctl::IMASK == 0;
            if level != self.timer_levels[n] {
                self.timer_levels[n] = level;
                match n {
                    HYP => {
                        if let Some(l) = &self.hyp_timer_line {
                            l.set_level(level);
                        }
                    }
                    _ => self.timer_lines[n].set_level(level),
                }
            }
        }
    }

    /// The counter value at which the next enabled, unmasked timer whose condition is not yet
    /// met will fire, if any.
    pub fn timer_deadline(&self) -> Option<u64> {
        // A deadline in counter (physical) ticks: the virtual timer's CVAL is offset.
        [PHYS, VIRT, HYP]
            .into_iter()
            .filter(|&n| {
                let t = self.sys.timers[n];
                t.ctl & (ctl::ENABLE | ctl::IMASK) == ctl::ENABLE && !self.timer_condition(n, self.timer_count(n))
            })
            .map(|n| self.sys.timers[n].cval.wrapping_add(self.counter().wrapping_sub(self.timer_count(n))))
            .min()
    }
}
