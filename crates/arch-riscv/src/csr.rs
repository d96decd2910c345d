//! Control and status registers: storage, access rules (privilege, read-only, counter enables)
//! and each register's WARL legalisation, as the privileged specification defines them.

use crate::cpu::{Priv, RiscvCpu};
use crate::trap::Cause;
use mimic_ir::Exit;

pub mod mstatus {
    pub const SIE: u64 = 1 << 1;
    pub const MIE: u64 = 1 << 3;
    pub const SPIE: u64 = 1 << 5;
    pub const MPIE: u64 = 1 << 7;
    pub const SPP: u64 = 1 << 8;
    pub const MPP_SHIFT: u32 = 11;
    pub const MPP: u64 = 3 << MPP_SHIFT;
    pub const FS_SHIFT: u32 = 13;
    pub const FS: u64 = 3 << FS_SHIFT;
    pub const MPRV: u64 = 1 << 17;
    pub const SUM: u64 = 1 << 18;
    pub const MXR: u64 = 1 << 19;
    pub const TVM: u64 = 1 << 20;
    pub const TW: u64 = 1 << 21;
    pub const TSR: u64 = 1 << 22;
    /// UXL and SXL: both fixed at 64 bits (value 2).
    pub const XLEN_FIELDS: u64 = (2 << 32) | (2 << 34);
    pub const SD: u64 = 1 << 63;
    pub const M_WRITABLE: u64 = SIE | MIE | SPIE | MPIE | SPP | MPP | FS | MPRV | SUM | MXR | TVM | TW | TSR;
    pub const S_VISIBLE: u64 = SIE | SPIE | SPP | FS | SUM | MXR | (3 << 32) | SD;
    pub const S_WRITABLE: u64 = SIE | SPIE | SPP | FS | SUM | MXR;
}

/// Interrupt numbers (bit positions in mip/mie).
pub mod irq {
    pub const SSI: u64 = 1 << 1;
    pub const MSI: u64 = 1 << 3;
    pub const STI: u64 = 1 << 5;
    pub const MTI: u64 = 1 << 7;
    pub const SEI: u64 = 1 << 9;
    pub const MEI: u64 = 1 << 11;
    pub const S_ALL: u64 = SSI | STI | SEI;
    pub const ALL: u64 = SSI | MSI | STI | MTI | SEI | MEI;
}

pub const MENVCFG_FIOM: u64 = 1;
pub const MENVCFG_STCE: u64 = 1 << 63;

/// RV64 (MXL=2) with I M A F D C S U.
pub const MISA: u64 = (2 << 62)
    | (1 << 0) // A
    | (1 << 2) // C
    | (1 << 3) // D
    | (1 << 5) // F
    | (1 << 8) // I
    | (1 << 12) // M
    | (1 << 18) // S
    | (1 << 20); // U

/// Exceptions that can be delegated to S-mode (ecall from M cannot).
const MEDELEG_MASK: u64 = 0xb3ff;
const MIDELEG_MASK: u64 = irq::S_ALL;

pub const NUM_PMP: usize = 16;

#[derive(Clone, Debug)]
pub struct Csrs {
    pub mstatus: u64,
    pub medeleg: u64,
    pub mideleg: u64,
    pub mie: u64,
    /// The software-writable mip bits (SSIP, STIP without Sstc, SEIP).
    pub mip: u64,
    pub mtvec: u64,
    pub mscratch: u64,
    pub mepc: u64,
    pub mcause: u64,
    pub mtval: u64,
    pub mcounteren: u64,
    pub mcountinhibit: u64,
    pub menvcfg: u64,
    pub stvec: u64,
    pub sscratch: u64,
    pub sepc: u64,
    pub scause: u64,
    pub stval: u64,
    pub scounteren: u64,
    pub senvcfg: u64,
    pub satp: u64,
    pub stimecmp: u64,
    pub fflags: u64,
    pub frm: u64,
    /// Written through `pmpcfg_write`/`pmpaddr_write` only, which keep `pmp` in step.
    pub(crate) pmpcfg: [u8; NUM_PMP],
    pub(crate) pmpaddr: [u64; NUM_PMP],
    /// The active entries decoded, for the checks on every page walk and TLB fill.
    pub(crate) pmp: crate::mmu::PmpTable,
}

impl Default for Csrs {
    fn default() -> Self {
        Csrs {
            mstatus: mstatus::XLEN_FIELDS,
            medeleg: 0,
            mideleg: 0,
            mie: 0,
            mip: 0,
            mtvec: 0,
            mscratch: 0,
            mepc: 0,
            mcause: 0,
            mtval: 0,
            mcounteren: 0,
            mcountinhibit: 0,
            menvcfg: 0,
            stvec: 0,
            sscratch: 0,
            sepc: 0,
            scause: 0,
            stval: 0,
            scounteren: 0,
            senvcfg: 0,
            satp: 0,
            stimecmp: u64::MAX,
            fflags: 0,
            frm: 0,
            pmpcfg: [0; NUM_PMP],
            pmpaddr: [0; NUM_PMP],
            pmp: crate::mmu::PmpTable::default(),
        }
    }
}

/// What a CSR instruction does with the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsrOp {
    /// csrrw: write `val`.
    Write,
    /// csrrs: set the bits of `val`.
    Set,
    /// csrrc: clear the bits of `val`.
    Clear,
}

fn illegal<T>(cpu: &mut RiscvCpu, insn: u32) -> Result<T, Exit> {
    cpu.exception(Cause::IllegalInstruction, insn as u64)
}

impl RiscvCpu {
    fn fs_enabled(&self) -> bool {
        self.csr.mstatus & mstatus::FS != 0
    }

    pub fn set_fs_dirty(&mut self) {
        self.csr.mstatus |= mstatus::FS;
    }

    /// `mip` as software reads it: software bits, device lines and the Sstc timer.
    #[inline(always)]
    pub fn mip(&self) -> u64 {
        let mut v = self.csr.mip | self.irq_lines.load();
        if self.csr.menvcfg & MENVCFG_STCE != 0 {
            v &= !irq::STI;
            if self.timer_stip {
                v |= irq::STI;
            }
        }
        v
    }

    /// Re-evaluate the Sstc timer against the current time. The machine calls this between
    /// slices of execution; a write to `stimecmp` calls it at once.
    pub fn update_timer(&mut self) {
        self.timer_stip = self.csr.menvcfg & MENVCFG_STCE != 0 && (self.time)() >= self.csr.stimecmp;
    }

    fn counter_allowed(&self, bit: u32) -> bool {
        match self.prv {
            Priv::M => true,
            Priv::S => self.csr.mcounteren >> bit & 1 != 0,
            Priv::U => self.csr.mcounteren >> bit & 1 != 0 && self.csr.scounteren >> bit & 1 != 0,
        }
    }

    fn read_mstatus(&self) -> u64 {
        let v = self.csr.mstatus;
        if v & mstatus::FS == mstatus::FS {
            v | mstatus::SD
        } else {
            v
        }
    }

    /// Execute one CSR instruction. `write` is false for csrrs/csrrc with rs1 = x0 (or uimm = 0),
    /// which must not write (and may target read-only registers). Returns the old value.
    pub fn csr_access(&mut self, csr: u16, op: CsrOp, val: u64, write: bool, insn: u32) -> Result<u64, Exit> {
        let min_priv = (csr >> 8) & 3;
        if (self.prv as u16) < min_priv {
            return illegal(self, insn);
        }
        if write && csr >> 10 == 3 {
            return illegal(self, insn);
        }
        let old = self.csr_read(csr, insn)?;
        if write {
            // mip reads the OR of its software bits and the device lines, but only the software
            // bits take part in a csrrs/csrrc (privileged spec, mip.SEIP): otherwise setting SSIP
            // while the PLIC holds SEIP high would latch a software SEIP that no claim clears.
            let base = if csr == 0x344 { self.csr.mip } else { old };
            let new = match op {
                CsrOp::Write => val,
                CsrOp::Set => base | val,
                CsrOp::Clear => base & !val,
            };
            self.csr_write(csr, new, insn)?;
        }
        Ok(old)
    }

    /// Read a CSR for a debugger: as M-mode would, without recording an exception.
    pub fn debug_read_csr(&mut self, csr: u16) -> Option<u64> {
        let prv = self.prv;
        self.prv = Priv::M;
        let r = self.csr_read(csr, 0).ok();
        self.prv = prv;
        self.pending = None;
        r
    }

    /// Write a CSR for a debugger (WARL rules apply; read-only registers ignore it).
    pub fn debug_write_csr(&mut self, csr: u16, v: u64) {
        if csr >> 10 == 3 || self.debug_read_csr(csr) == Some(v) {
            return;
        }
        let prv = self.prv;
        self.prv = Priv::M;
        let _ = self.csr_write(csr, v, 0);
        self.prv = prv;
        self.pending = None;
    }

    fn csr_read(&mut self, csr: u16, insn: u32) -> Result<u64, Exit> {
        let c = &self.csr;
        Ok(match csr {
            0x001..=0x003 if !self.fs_enabled() => return illegal(self, insn),
            0x001 => c.fflags,
            0x002 => c.frm,
            0x003 => c.fflags | c.frm << 5,
            0xc00..=0xc1f => {
                let n = (csr - 0xc00) as u32;
                if !self.counter_allowed(n) {
                    return illegal(self, insn);
                }
                match n {
                    0 => self.mcycle(),
                    1 => (self.time)(),
                    2 => self.minstret(),
                    _ => 0,
                }
            }
            0x100 => self.read_mstatus() & mstatus::S_VISIBLE,
            0x104 => c.mie & c.mideleg,
            0x105 => c.stvec,
            0x106 => c.scounteren,
            0x10a => c.senvcfg,
            0x140 => c.sscratch,
            0x141 => c.sepc,
            0x142 => c.scause,
            0x143 => c.stval,
            0x144 => {
                self.update_timer();
                self.mip() & self.csr.mideleg
            }
            0x14d => {
                if self.prv == Priv::S && (c.menvcfg & MENVCFG_STCE == 0 || c.mcounteren & 2 == 0) {
                    return illegal(self, insn);
                }
                c.stimecmp
            }
            0x180 => {
                if self.prv == Priv::S && c.mstatus & mstatus::TVM != 0 {
                    return illegal(self, insn);
                }
                c.satp
            }
            0xf11..=0xf13 | 0xf15 => 0,
            0xf14 => self.hartid,
            0x300 => self.read_mstatus(),
            0x301 => MISA,
            0x302 => c.medeleg,
            0x303 => c.mideleg,
            0x304 => c.mie,
            0x305 => c.mtvec,
            0x306 => c.mcounteren,
            0x30a => c.menvcfg,
            0x320 => c.mcountinhibit,
            0x323..=0x33f => 0,
            0x340 => c.mscratch,
            0x341 => c.mepc,
            0x342 => c.mcause,
            0x343 => c.mtval,
            0x344 => {
                self.update_timer();
                self.mip()
            }
            0x34a => 0,
            0x3a0..=0x3af => {
                let n = (csr - 0x3a0) as usize;
                if n % 2 == 1 {
                    return illegal(self, insn);
                }
                (0..8).fold(0u64, |acc, i| acc | (c.pmpcfg.get(n * 4 + i).copied().unwrap_or(0) as u64) << (8 * i))
            }
            0x3b0..=0x3ef => {
                let n = (csr - 0x3b0) as usize;
                if n < NUM_PMP {
                    self.pmpaddr_read(n)
                } else {
                    0
                }
            }
            0xb00 => self.mcycle(),
            0xb02 => self.minstret(),
            0xb03..=0xb1f => 0,
            _ => return illegal(self, insn),
        })
    }

    fn csr_write(&mut self, csr: u16, v: u64, insn: u32) -> Result<(), Exit> {
        match csr {
            0x001 => {
                self.csr.fflags = v & 0x1f;
                self.set_fs_dirty();
            }
            0x002 => {
                self.csr.frm = v & 7;
                self.set_fs_dirty();
            }
            0x003 => {
                self.csr.fflags = v & 0x1f;
                self.csr.frm = (v >> 5) & 7;
                self.set_fs_dirty();
            }
            0x100 => {
                let m = mstatus::S_WRITABLE;
                self.write_mstatus((self.csr.mstatus & !m) | (v & m));
            }
            0x104 => {
                let m = self.csr.mideleg;
                self.csr.mie = (self.csr.mie & !m) | (v & m);
            }
            0x105 => self.csr.stvec = legal_tvec(v),
            0x106 => self.csr.scounteren = v & 0xffff_ffff,
            0x10a => self.csr.senvcfg = v & MENVCFG_FIOM,
            0x140 => self.csr.sscratch = v,
            0x141 => self.csr.sepc = v & !1,
            0x142 => self.csr.scause = v,
            0x143 => self.csr.stval = v,
            0x144 => {
                // Only SSIP is writable through sip, and only when delegated.
                let m = self.csr.mideleg & irq::SSI;
                self.csr.mip = (self.csr.mip & !m) | (v & m);
            }
            0x14d => {
                self.csr.stimecmp = v;
                self.update_timer();
            }
            0x180 => {
                let mode = v >> 60;
                if matches!(mode, 0 | 8 | 9 | 10) {
                    // MODE, a 16-bit ASID and a 44-bit PPN fill all 64 bits. The TLB keeps no
                    // ASIDs, so a new address space drops what the old one translated; global
                    // pages (the kernel's, in every address space) stay while the mode does.
                    let same_mode = self.csr.satp >> 60 == mode;
                    self.csr.satp = v;
                    if same_mode {
                        self.tlb.flush_non_global();
                    } else {
                        self.tlb.flush_all();
                    }
                }
            }
            0x300 => self.write_mstatus(v),
            0x302 => self.csr.medeleg = v & MEDELEG_MASK,
            0x303 => self.csr.mideleg = v & MIDELEG_MASK,
            0x304 => self.csr.mie = v & irq::ALL,
            0x305 => self.csr.mtvec = legal_tvec(v),
            0x306 => self.csr.mcounteren = v & 0xffff_ffff,
            0x30a => {
                self.csr.menvcfg = v & (MENVCFG_FIOM | MENVCFG_STCE);
                self.update_timer();
            }
            0x320 => self.write_mcountinhibit(v & 0xffff_fffd),
            0x340 => self.csr.mscratch = v,
            0x341 => self.csr.mepc = v & !1,
            0x342 => self.csr.mcause = v,
            0x343 => self.csr.mtval = v,
            0x344 => {
                let mut m = irq::SSI | irq::SEI;
                if self.csr.menvcfg & MENVCFG_STCE == 0 {
                    m |= irq::STI;
                }
                self.csr.mip = (self.csr.mip & !m) | (v & m);
            }
            0x3a0..=0x3af => {
                let n = (csr - 0x3a0) as usize * 4;
                for i in 0..8 {
                    self.pmpcfg_write(n + i, (v >> (8 * i)) as u8);
                }
                self.tlb.flush_all();
            }
            0x3b0..=0x3ef => {
                let n = (csr - 0x3b0) as usize;
                if n < NUM_PMP {
                    self.pmpaddr_write(n, v);
                    self.tlb.flush_all();
                }
            }
            0xb00 => self.counters.set(0, self.instret, v, self.csr.mcountinhibit & 1 != 0),
            0xb02 => self.counters.set(1, self.instret, v, self.csr.mcountinhibit & 4 != 0),
            0x301 | 0x323..=0x33f | 0x34a | 0xb03..=0xb1f => {}
            _ => return illegal(self, insn),
        }
        Ok(())
    }

    /// `mcycle`: one cycle per retired instruction (an in-order, one-IPC model).
    pub fn mcycle(&self) -> u64 {
        self.counters.read(0, self.instret, self.csr.mcountinhibit & 1 != 0)
    }
    pub fn minstret(&self) -> u64 {
        self.counters.read(1, self.instret, self.csr.mcountinhibit & 4 != 0)
    }

    fn write_mcountinhibit(&mut self, v: u64) {
        let old = self.csr.mcountinhibit;
        for (i, bit) in [(0, 1u64), (1, 4)] {
            let (was, now) = (old & bit != 0, v & bit != 0);
            if was != now {
                let cur = self.counters.read(i, self.instret, was);
                self.counters.set(i, self.instret, cur, now);
            }
        }
        self.csr.mcountinhibit = v;
    }

    pub fn write_mstatus(&mut self, v: u64) {
        let old = self.csr.mstatus;
        let mut new = (old & !mstatus::M_WRITABLE) | (v & mstatus::M_WRITABLE);
        // MPP is WARL: the reserved value 2 leaves the field unchanged.
        if (new & mstatus::MPP) >> mstatus::MPP_SHIFT == 2 {
            new = (new & !mstatus::MPP) | (old & mstatus::MPP);
        }
        new = (new & !mstatus::SD) | mstatus::XLEN_FIELDS;
        self.csr.mstatus = new;
        if (old ^ new) & (mstatus::MXR | mstatus::MPRV | mstatus::MPP) != 0 {
            self.tlb.flush_all();
        }
        self.update_mmu_state();
    }
}

/// `xtvec` MODE values 2 and 3 are reserved; we keep the base and direct/vectored only.
fn legal_tvec(v: u64) -> u64 {
    if v & 3 >= 2 {
        v & !3
    } else {
        v
    }
}

/// `mcycle` and `minstret` derived from the retired-instruction count: each is either the count
/// plus an offset (running) or a held value (inhibited by `mcountinhibit`), so the hot path only
/// ever increments one counter.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    delta: [u64; 2],
    held: [u64; 2],
}

impl Counters {
    fn read(&self, i: usize, instret: u64, inhibited: bool) -> u64 {
        if inhibited {
            self.held[i]
        } else {
            instret.wrapping_add(self.delta[i])
        }
    }
    fn set(&mut self, i: usize, instret: u64, v: u64, inhibited: bool) {
        if inhibited {
            self.held[i] = v;
        } else {
            self.delta[i] = v.wrapping_sub(instret);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mimic_core::SharedBits;
    use std::sync::Arc;

    fn hart_in_m_mode(lines: &SharedBits) -> RiscvCpu {
        let mut cpu = RiscvCpu::new(0, lines.clone(), Arc::new(|| 0));
        cpu.reset(0x8000_0000);
        cpu
    }

    #[test]
    fn csrrs_mip_while_plic_line_high_does_not_latch_seip() {
        let lines = SharedBits::new();
        let mut cpu = hart_in_m_mode(&lines);
        lines.set(irq::SEI, true);
        let old = cpu.csr_access(0x344, CsrOp::Set, irq::SSI, true, 0).unwrap();
        assert_eq!(old & irq::SEI, irq::SEI, "the read shows the line");
        lines.set(irq::SEI, false);
        assert_eq!(cpu.mip() & (irq::SEI | irq::SSI), irq::SSI);
    }

    #[test]
    fn csrrc_mip_while_plic_line_high_does_not_latch_seip() {
        let lines = SharedBits::new();
        let mut cpu = hart_in_m_mode(&lines);
        cpu.csr.mip = irq::SSI;
        lines.set(irq::SEI, true);
        cpu.csr_access(0x344, CsrOp::Clear, irq::SSI, true, 0).unwrap();
        lines.set(irq::SEI, false);
        assert_eq!(cpu.mip() & (irq::SEI | irq::SSI), 0);
    }

    #[test]
    fn software_seip_written_by_m_mode_stays_until_cleared() {
        let lines = SharedBits::new();
        let mut cpu = hart_in_m_mode(&lines);
        cpu.csr_access(0x344, CsrOp::Set, irq::SEI, true, 0).unwrap();
        assert_eq!(cpu.mip() & irq::SEI, irq::SEI);
        cpu.csr_access(0x344, CsrOp::Clear, irq::SEI, true, 0).unwrap();
        assert_eq!(cpu.mip() & irq::SEI, 0);
    }
}
