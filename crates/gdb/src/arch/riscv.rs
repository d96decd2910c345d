//! The RISC-V 64 register file as GDB numbers it, and its target description.
//!
//! Register numbers ("regnum" in the XML, the `p`/`P` packet numbers and the `g` packet order)
//! are GDB's own internal RISC-V numbers from `gdb/riscv-tdep.h`:
//!
//! | registers | regnum |
//! |---|---|
//! | x0..x31 (`zero`, `ra`, `sp`, ...) | 0..=31 |
//! | pc | 32 |
//! | f0..f31 (`ft0`, ..., `ft11`) | 33..=64 (`RISCV_FIRST_FP_REGNUM`..`RISCV_LAST_FP_REGNUM`) |
//! | CSR number `n` | 65 + n (`RISCV_FIRST_CSR_REGNUM` + n): fflags 66, frm 67, fcsr 68, mstatus 833 |
//! | priv (virtual) | 4161 (`RISCV_PRIV_REGNUM`) |

use std::fmt::Write as _;

use super::{GdbArch, Slot};

/// RISC-V register file as GDB sees it (the `org.gnu.gdb.riscv.cpu`, `.fpu` and `.csr` features).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RiscvRegs {
    /// x0..x31 (x0 reads 0).
    pub x: [u64; 32],
    pub pc: u64,
    /// f0..f31, raw 64-bit (NaN-boxed singles).
    pub f: [u64; 32],
    pub fflags: u64,
    pub frm: u64,
    /// Other CSRs by number (mstatus, misa, mie, mtvec, mscratch, mepc, mcause, mtval, mip, satp,
    /// sstatus, stvec, sepc, scause, stval, ...), in the order the target description lists them.
    pub csrs: Vec<(u16, u64)>,
    /// Current privilege (0 U, 1 S, 3 M): GDB's `priv` virtual register.
    pub privilege: u64,
}

/// GDB's `RISCV_FIRST_CSR_REGNUM`.
pub const FIRST_CSR_REGNUM: usize = 65;
/// GDB's `RISCV_PRIV_REGNUM`.
pub const PRIV_REGNUM: usize = 4161;
pub const PC_REGNUM: usize = 32;
pub const FIRST_FP_REGNUM: usize = 33;

const CSR_FFLAGS: u16 = 0x001;
const CSR_FRM: u16 = 0x002;
const CSR_FCSR: u16 = 0x003;

/// ABI names GDB uses for x0..x31 (the `org.gnu.gdb.riscv.cpu` feature).
pub const XREG_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2",
    "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
];

/// ABI names GDB uses for f0..f31 (the `org.gnu.gdb.riscv.fpu` feature).
pub const FREG_NAMES: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
    "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

/// The standard name of CSR `n` (privileged spec 1.12 / 20211203 names, as binutils'
/// `riscv-opc.h` spells them); `csrN` (decimal, GDB's alias form) for unknown numbers.
pub fn csr_name(n: u16) -> String {
    let fixed = match n {
        0x001 => "fflags",
        0x002 => "frm",
        0x003 => "fcsr",
        0x008 => "vstart",
        0x009 => "vxsat",
        0x00a => "vxrm",
        0x00f => "vcsr",
        0x015 => "seed",
        0x100 => "sstatus",
        0x104 => "sie",
        0x105 => "stvec",
        0x106 => "scounteren",
        0x10a => "senvcfg",
        0x140 => "sscratch",
        0x141 => "sepc",
        0x142 => "scause",
        0x143 => "stval",
        0x144 => "sip",
        0x14d => "stimecmp",
        0x180 => "satp",
        0x200 => "vsstatus",
        0x204 => "vsie",
        0x205 => "vstvec",
        0x240 => "vsscratch",
        0x241 => "vsepc",
        0x242 => "vscause",
        0x243 => "vstval",
        0x244 => "vsip",
        0x24d => "vstimecmp",
        0x280 => "vsatp",
        0x300 => "mstatus",
        0x301 => "misa",
        0x302 => "medeleg",
        0x303 => "mideleg",
        0x304 => "mie",
        0x305 => "mtvec",
        0x306 => "mcounteren",
        0x30a => "menvcfg",
        0x320 => "mcountinhibit",
        0x340 => "mscratch",
        0x341 => "mepc",
        0x342 => "mcause",
        0x343 => "mtval",
        0x344 => "mip",
        0x34a => "mtinst",
        0x34b => "mtval2",
        0x600 => "hstatus",
        0x602 => "hedeleg",
        0x603 => "hideleg",
        0x604 => "hie",
        0x605 => "htimedelta",
        0x606 => "hcounteren",
        0x607 => "hgeie",
        0x60a => "henvcfg",
        0x643 => "htval",
        0x644 => "hip",
        0x645 => "hvip",
        0x64a => "htinst",
        0x680 => "hgatp",
        0x747 => "mseccfg",
        0x7a0 => "tselect",
        0x7a1 => "tdata1",
        0x7a2 => "tdata2",
        0x7a3 => "tdata3",
        0x7a4 => "tinfo",
        0x7a5 => "tcontrol",
        0x7a8 => "mcontext",
        0x7b0 => "dcsr",
        0x7b1 => "dpc",
        0x7b2 => "dscratch0",
        0x7b3 => "dscratch1",
        0xb00 => "mcycle",
        0xb02 => "minstret",
        0xc00 => "cycle",
        0xc01 => "time",
        0xc02 => "instret",
        0xc20 => "vl",
        0xc21 => "vtype",
        0xc22 => "vlenb",
        0xe12 => "hgeip",
        0xf11 => "mvendorid",
        0xf12 => "marchid",
        0xf13 => "mimpid",
        0xf14 => "mhartid",
        0xf15 => "mconfigptr",
        _ => "",
    };
    if !fixed.is_empty() {
        return fixed.to_string();
    }
    match n {
        0x3a0..=0x3af => format!("pmpcfg{}", n - 0x3a0),
        0x3b0..=0x3ef => format!("pmpaddr{}", n - 0x3b0),
        0x323..=0x33f => format!("mhpmevent{}", n - 0x320),
        0xb03..=0xb1f => format!("mhpmcounter{}", n - 0xb00),
        0xc03..=0xc1f => format!("hpmcounter{}", n - 0xc00),
        _ => format!("csr{n}"),
    }
}

/// What one GDB register is in `RiscvRegs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    X(u8),
    Pc,
    F(u8),
    Fflags,
    Frm,
    Fcsr,
    Csr(u16),
    Priv,
}

fn csr_value(regs: &RiscvRegs, n: u16) -> u64 {
    regs.csrs.iter().find(|(c, _)| *c == n).map_or(0, |&(_, v)| v)
}

fn set_csr(regs: &mut RiscvRegs, n: u16, v: u64) {
    match regs.csrs.iter_mut().find(|(c, _)| *c == n) {
        Some(e) => e.1 = v,
        None => regs.csrs.push((n, v)),
    }
}

/// RV64 with F/D, the CSRs the target lists, and `priv`.
#[derive(Debug)]
pub enum Riscv64 {}

impl GdbArch for Riscv64 {
    type Regs = RiscvRegs;
    type Reg = Reg;
    const PC_REGNUM: usize = PC_REGNUM;
    const MAX_REGNUM: usize = PRIV_REGNUM;
    const CPU_NOUN: &'static str = "hart";

    /// x0..x31, pc, f0..f31, fflags/frm/fcsr (32-bit), the listed CSRs (without the FP ones,
    /// which are in the fpu feature), priv.
    fn registers(csr_list: &[u16]) -> Vec<(Reg, usize, usize)> {
        let mut v: Vec<(Reg, usize, usize)> = Vec::new();
        for i in 0..32 {
            v.push((Reg::X(i as u8), i, 8));
        }
        v.push((Reg::Pc, PC_REGNUM, 8));
        for i in 0..32 {
            v.push((Reg::F(i as u8), FIRST_FP_REGNUM + i, 8));
        }
        v.push((Reg::Fflags, FIRST_CSR_REGNUM + CSR_FFLAGS as usize, 4));
        v.push((Reg::Frm, FIRST_CSR_REGNUM + CSR_FRM as usize, 4));
        v.push((Reg::Fcsr, FIRST_CSR_REGNUM + CSR_FCSR as usize, 4));
        for &c in csr_list {
            if c != CSR_FFLAGS && c != CSR_FRM && c != CSR_FCSR && c < 0x1000 {
                v.push((Reg::Csr(c), FIRST_CSR_REGNUM + c as usize, 8));
            }
        }
        v.push((Reg::Priv, PRIV_REGNUM, 8));
        v
    }

    fn get(reg: Reg, regs: &RiscvRegs) -> u128 {
        u128::from(match reg {
            Reg::X(0) => 0,
            Reg::X(i) => regs.x[i as usize],
            Reg::Pc => regs.pc,
            Reg::F(i) => regs.f[i as usize],
            Reg::Fflags => regs.fflags & 0x1f,
            Reg::Frm => regs.frm & 0x7,
            Reg::Fcsr => ((regs.frm & 0x7) << 5) | (regs.fflags & 0x1f),
            Reg::Csr(c) => csr_value(regs, c),
            Reg::Priv => regs.privilege,
        })
    }

    fn set(reg: Reg, regs: &mut RiscvRegs, v: u128) {
        let v = v as u64;
        match reg {
            Reg::X(0) => {}
            Reg::X(i) => regs.x[i as usize] = v,
            Reg::Pc => regs.pc = v,
            Reg::F(i) => regs.f[i as usize] = v,
            Reg::Fflags => regs.fflags = v & 0x1f,
            Reg::Frm => regs.frm = v & 0x7,
            Reg::Fcsr => {
                regs.fflags = v & 0x1f;
                regs.frm = (v >> 5) & 0x7;
            }
            Reg::Csr(c) => set_csr(regs, c, v),
            Reg::Priv => regs.privilege = v,
        }
    }

    fn is_alias(reg: Reg) -> bool {
        matches!(reg, Reg::Fflags | Reg::Frm | Reg::Fcsr)
    }

    fn pc(regs: &RiscvRegs) -> u64 {
        regs.pc
    }

    fn target_xml(slots: &[Slot<Reg>]) -> String {
        let mut x = String::new();
        x.push_str("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n");
        x.push_str("<target version=\"1.0\">\n<architecture>riscv:rv64</architecture>\n");
        x.push_str("<feature name=\"org.gnu.gdb.riscv.cpu\">\n");
        for (i, name) in XREG_NAMES.iter().enumerate() {
            let ty = match i {
                1 => "code_ptr",
                2 | 3 | 4 | 8 => "data_ptr",
                _ => "int",
            };
            let _ = writeln!(x, "  <reg name=\"{name}\" bitsize=\"64\" type=\"{ty}\" regnum=\"{i}\"/>");
        }
        let _ = writeln!(x, "  <reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"{PC_REGNUM}\"/>");
        x.push_str("</feature>\n<feature name=\"org.gnu.gdb.riscv.fpu\">\n");
        x.push_str("  <union id=\"riscv_double\">\n    <field name=\"float\" type=\"ieee_single\"/>\n");
        x.push_str("    <field name=\"double\" type=\"ieee_double\"/>\n  </union>\n");
        for (i, name) in FREG_NAMES.iter().enumerate() {
            let _ = writeln!(
                x,
                "  <reg name=\"{name}\" bitsize=\"64\" type=\"riscv_double\" regnum=\"{}\"/>",
                FIRST_FP_REGNUM + i
            );
        }
        for c in [CSR_FFLAGS, CSR_FRM, CSR_FCSR] {
            let _ = writeln!(
                x,
                "  <reg name=\"{}\" bitsize=\"32\" type=\"int\" regnum=\"{}\"/>",
                csr_name(c),
                FIRST_CSR_REGNUM + c as usize
            );
        }
        x.push_str("</feature>\n<feature name=\"org.gnu.gdb.riscv.virtual\">\n");
        let _ = writeln!(x, "  <reg name=\"priv\" bitsize=\"64\" type=\"int\" regnum=\"{PRIV_REGNUM}\"/>");
        x.push_str("</feature>\n<feature name=\"org.gnu.gdb.riscv.csr\">\n");
        for s in slots {
            if let Reg::Csr(c) = s.reg {
                let _ = writeln!(
                    x,
                    "  <reg name=\"{}\" bitsize=\"64\" type=\"int\" regnum=\"{}\"/>",
                    csr_name(c),
                    s.regnum
                );
            }
        }
        x.push_str("</feature>\n</target>\n");
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{GdbRegs, Layout};
    use gdbstub::arch::Registers;

    fn csrs_of(l: &Layout<Riscv64>) -> Vec<u16> {
        l.slots.iter().filter_map(|s| if let Reg::Csr(c) = s.reg { Some(c) } else { None }).collect()
    }

    #[test]
    fn layout_numbers_and_roundtrip() {
        let l = Layout::<Riscv64>::new(&[0x300, 0x001, 0x180, 0x300, 0xf14]);
        assert_eq!(csrs_of(&l), vec![0x180, 0x300, 0xf14]);
        let nums: Vec<usize> = l.slots.iter().map(|s| s.regnum).collect();
        assert_eq!(&nums[..33], &(0..33).collect::<Vec<_>>()[..]);
        assert_eq!(l.slot(66).unwrap().reg, Reg::Fflags);
        assert_eq!(l.slot(65 + 0x300).unwrap().reg, Reg::Csr(0x300));
        assert_eq!(l.slot(PRIV_REGNUM).unwrap().reg, Reg::Priv);
        assert_eq!(l.g_len, 65 * 8 + 3 * 4 + 3 * 8 + 8);
        let mut r = RiscvRegs { pc: 0x8000_0000, fflags: 3, frm: 2, privilege: 3, ..Default::default() };
        r.x[5] = 7;
        r.f[31] = 0x3ff8_0000_0000_0000;
        r.csrs = vec![(0x300, 0xa00001800), (0x180, 9), (0xf14, 1)];
        let g = l.encode(&r);
        assert_eq!(g.len(), l.g_len);
        let mut back = RiscvRegs::default();
        l.decode(&g, &mut back);
        back.csrs.sort();
        let mut want = r.clone();
        want.csrs.sort();
        assert_eq!(back, want);
        let regs = GdbRegs::<Riscv64>::new(g);
        assert_eq!(regs.pc(), 0x8000_0000);
    }

    #[test]
    fn csr_names() {
        assert_eq!(csr_name(0x300), "mstatus");
        assert_eq!(csr_name(0x3b5), "pmpaddr5");
        assert_eq!(csr_name(0xb03), "mhpmcounter3");
        assert_eq!(csr_name(0x7ff), "csr2047");
    }

    #[test]
    fn xml_is_well_formed_enough() {
        let x = Layout::<Riscv64>::new(&[0x300, 0x301]).target_xml();
        assert!(x.contains("<reg name=\"mstatus\" bitsize=\"64\" type=\"int\" regnum=\"833\"/>"));
        assert!(x.contains("<reg name=\"fcsr\" bitsize=\"32\" type=\"int\" regnum=\"68\"/>"));
        assert!(x.contains("regnum=\"4161\""));
        assert_eq!(x.matches("<feature ").count(), x.matches("</feature>").count());
    }
}
