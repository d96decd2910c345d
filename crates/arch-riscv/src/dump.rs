//! Human-readable register dumps (the monitor's `info registers`), laid out as QEMU prints them
//! so that people and scripts used to QEMU read them the same way.

use crate::cpu::RiscvCpu;
use std::fmt::Write;

pub const XREG_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2",
    "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
];

pub const FREG_NAMES: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
    "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

impl RiscvCpu {
    /// The register dump for `info registers`.
    pub fn dump_registers(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "CPU#{}", self.hartid);
        let _ = writeln!(s, " V      =   0");
        let _ = writeln!(s, " pc       {:016x}", self.pc);
        let c = &self.csr;
        let csrs: [(&str, u64); 22] = [
            ("mhartid", self.hartid),
            ("mstatus", self.csr_mstatus_for_dump()),
            ("hstatus", 0),
            ("vsstatus", 0),
            ("mip", self.mip()),
            ("mie", c.mie),
            ("mideleg", c.mideleg),
            ("hideleg", 0),
            ("medeleg", c.medeleg),
            ("hedeleg", 0),
            ("mtvec", c.mtvec),
            ("stvec", c.stvec),
            ("vstvec", 0),
            ("mepc", c.mepc),
            ("sepc", c.sepc),
            ("vsepc", 0),
            ("mcause", c.mcause),
            ("scause", c.scause),
            ("vscause", 0),
            ("mtval", c.mtval),
            ("stval", c.stval),
            ("satp", c.satp),
        ];
        for (name, v) in csrs {
            let _ = writeln!(s, " {name:<8} {v:016x}");
        }
        let _ = writeln!(s, " mscratch {:016x}", c.mscratch);
        let _ = writeln!(s, " sscratch {:016x}", c.sscratch);
        let _ = writeln!(s, " priv     {:?}", self.prv);
        for row in 0..8 {
            for col in 0..4 {
                let r = row * 4 + col;
                let name = format!("x{r}/{}", XREG_NAMES[r]);
                let _ = write!(s, " {name:<8} {:016x}", self.x(r));
            }
            s.push('\n');
        }
        for row in 0..8 {
            for col in 0..4 {
                let r = row * 4 + col;
                let name = format!("f{r}/{}", FREG_NAMES[r]);
                let _ = write!(s, " {name:<9} {:016x}", self.f(r));
            }
            s.push('\n');
        }
        let _ = writeln!(s, " fcsr     {:016x}", c.fflags | c.frm << 5);
        s
    }

    fn csr_mstatus_for_dump(&self) -> u64 {
        let v = self.csr.mstatus;
        if v & crate::csr::mstatus::FS == crate::csr::mstatus::FS {
            v | crate::csr::mstatus::SD
        } else {
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mimic_core::SharedBits;
    use std::sync::Arc;

    #[test]
    fn dump_names_registers_like_qemu() {
        let mut cpu = RiscvCpu::new(0, SharedBits::new(), Arc::new(|| 0));
        cpu.pc = 0x8000_0000;
        cpu.regs[10] = 0x1234;
        let d = cpu.dump_registers();
        assert!(d.contains(" pc       0000000080000000"), "{d}");
        assert!(d.contains(" x10/a0   0000000000001234"), "{d}");
    }
}
