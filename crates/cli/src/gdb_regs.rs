//! How each board's CPUs show their registers to the debugger: the per-ISA half of
//! [`crate::control::GdbTarget`], which is otherwise the same for every board.

use mimic_arch_aarch64::cpu::{daif, Aarch64Cpu, BTYPE, SP};
use mimic_arch_aarch64::sysreg::{FPCR_WRITABLE, FPSR_WRITABLE};
use mimic_arch_riscv::cpu::RiscvCpu;
use mimic_gdb::arch::{Aarch64, GdbArch, Riscv64};
use mimic_gdb::{Aarch64Regs, RiscvRegs};
use mimic_machine::{ArmBoard, Board, RiscvBoard};

/// A board the GDB stub can debug.
pub trait GdbBoard: Board {
    type Arch: GdbArch;
    /// RISC-V: the CSRs the debugger sees, in the order the target description lists them.
    const CSRS: &'static [u16] = &[];
    fn read_regs(cpu: &mut Self::Cpu) -> <Self::Arch as GdbArch>::Regs;
    fn write_regs(cpu: &mut Self::Cpu, regs: &<Self::Arch as GdbArch>::Regs);
}

impl GdbBoard for RiscvBoard {
    type Arch = Riscv64;
    const CSRS: &'static [u16] = &[
        0x100, 0x104, 0x105, 0x106, 0x140, 0x141, 0x142, 0x143, 0x144, 0x180, 0x300, 0x301, 0x302, 0x303, 0x304, 0x305,
        0x306, 0x340, 0x341, 0x342, 0x343, 0x344, 0xf14,
    ];

    fn read_regs(c: &mut RiscvCpu) -> RiscvRegs {
        let mut r =
            RiscvRegs { pc: c.pc, fflags: c.csr.fflags, frm: c.csr.frm, privilege: c.prv as u64, ..Default::default() };
        r.x.copy_from_slice(&c.regs[..32]);
        r.f.copy_from_slice(&c.regs[32..64]);
        r.csrs = Self::CSRS.iter().map(|&n| (n, c.debug_read_csr(n).unwrap_or(0))).collect();
        r
    }

    fn write_regs(c: &mut RiscvCpu, regs: &RiscvRegs) {
        c.regs[1..32].copy_from_slice(&regs.x[1..]);
        c.regs[32..64].copy_from_slice(&regs.f);
        c.pc = regs.pc;
        c.csr.fflags = regs.fflags & 0x1f;
        c.csr.frm = regs.frm & 7;
        for &(n, v) in &regs.csrs {
            c.debug_write_csr(n, v);
        }
    }
}

impl GdbBoard for ArmBoard {
    type Arch = Aarch64;

    fn read_regs(c: &mut Aarch64Cpu) -> Aarch64Regs {
        let mut r = Aarch64Regs {
            sp: c.regs[SP],
            pc: c.pc,
            cpsr: c.pstate() as u32,
            fpsr: c.fpsr as u32,
            fpcr: c.fpcr as u32,
            ..Default::default()
        };
        r.x.copy_from_slice(&c.regs[..31]);
        for (n, v) in r.v.iter_mut().enumerate() {
            *v = c.v(n);
        }
        r
    }

    /// cpsr first, since its EL and SP fields choose which stack pointer `sp` is. An EL the CPU
    /// does not implement (EL2, EL3) or AArch32 state (M[4]) is not taken: EL and SP stay.
    fn write_regs(c: &mut Aarch64Cpu, r: &Aarch64Regs) {
        let p = u64::from(r.cpsr);
        c.set_nzcv(r.cpsr >> 28);
        c.daif = p & daif::ALL;
        c.pan = p >> 22 & 1 != 0;
        c.il = p >> 20 & 1 != 0;
        c.regs[BTYPE] = if c.features.bti { p >> 10 & 3 } else { 0 };
        let el = (p >> 2 & 3) as u8;
        if el <= 1 && p & 0x10 == 0 {
            c.set_el_sp(el, el != 0 && p & 1 != 0);
        }
        c.mmu_changed();
        c.regs[..31].copy_from_slice(&r.x);
        c.regs[SP] = r.sp;
        c.pc = r.pc;
        for (n, &v) in r.v.iter().enumerate() {
            c.set_v(n, v);
        }
        c.fpsr = u64::from(r.fpsr) & FPSR_WRITABLE;
        c.fpcr = u64::from(r.fpcr) & FPCR_WRITABLE;
    }
}
