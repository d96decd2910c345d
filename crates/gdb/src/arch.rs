//! The RISC-V 64 register file as GDB numbers it, the target description XML, and the
//! gdbstub `Arch` that carries it.
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
//!
//! The `g` packet holds every described register in ascending regnum order (GDB's remote.c lays
//! `g` out that way), each little-endian at its `bitsize`.

use std::fmt::Write as _;
use std::num::NonZeroUsize;

use gdbstub::arch::{Arch, RegId, Registers};

use crate::target::RiscvRegs;

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
pub(crate) enum Reg {
    X(u8),
    Pc,
    F(u8),
    Fflags,
    Frm,
    Fcsr,
    Csr(u16),
    Priv,
}

#[derive(Clone, Debug)]
pub(crate) struct Slot {
    pub reg: Reg,
    pub regnum: usize,
    /// Bytes on the wire (bitsize / 8).
    pub size: usize,
    /// Offset in the `g` packet.
    pub offset: usize,
}

/// The registers this session describes, in regnum (= `g` packet) order.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub slots: Vec<Slot>,
    pub g_len: usize,
    /// CSRs in the `org.gnu.gdb.riscv.csr` feature (sorted, without fflags/frm/fcsr).
    pub csrs: Vec<u16>,
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

impl Layout {
    pub fn new(csr_list: &[u16]) -> Layout {
        let mut csrs: Vec<u16> = csr_list
            .iter()
            .copied()
            .filter(|&c| c != CSR_FFLAGS && c != CSR_FRM && c != CSR_FCSR && c < 0x1000)
            .collect();
        csrs.sort_unstable();
        csrs.dedup();
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
        for &c in &csrs {
            v.push((Reg::Csr(c), FIRST_CSR_REGNUM + c as usize, 8));
        }
        v.push((Reg::Priv, PRIV_REGNUM, 8));
        v.sort_by_key(|&(_, regnum, _)| regnum);
        let mut offset = 0;
        let slots = v
            .into_iter()
            .map(|(reg, regnum, size)| {
                let s = Slot { reg, regnum, size, offset };
                offset += size;
                s
            })
            .collect();
        Layout { slots, g_len: offset, csrs }
    }

    pub fn slot(&self, regnum: usize) -> Option<&Slot> {
        self.slots.binary_search_by_key(&regnum, |s| s.regnum).ok().map(|i| &self.slots[i])
    }

    pub fn get(reg: Reg, regs: &RiscvRegs) -> u64 {
        match reg {
            Reg::X(0) => 0,
            Reg::X(i) => regs.x[i as usize],
            Reg::Pc => regs.pc,
            Reg::F(i) => regs.f[i as usize],
            Reg::Fflags => regs.fflags & 0x1f,
            Reg::Frm => regs.frm & 0x7,
            Reg::Fcsr => ((regs.frm & 0x7) << 5) | (regs.fflags & 0x1f),
            Reg::Csr(c) => csr_value(regs, c),
            Reg::Priv => regs.privilege,
        }
    }

    pub fn set(reg: Reg, regs: &mut RiscvRegs, v: u64) {
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

    /// The `g` packet image of `regs`.
    pub fn encode(&self, regs: &RiscvRegs) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.g_len);
        for s in &self.slots {
            out.extend_from_slice(&Self::get(s.reg, regs).to_le_bytes()[..s.size]);
        }
        out
    }

    /// Apply a `G` packet image onto `regs` (the current values). Registers whose bytes are
    /// missing (a short packet) keep their value; of fflags/frm/fcsr, which alias each other,
    /// only the ones that changed are applied.
    pub fn decode(&self, bytes: &[u8], regs: &mut RiscvRegs) {
        let old = regs.clone();
        for s in &self.slots {
            let Some(b) = bytes.get(s.offset..s.offset + s.size) else { break };
            let mut le = [0u8; 8];
            le[..s.size].copy_from_slice(b);
            let v = u64::from_le_bytes(le);
            if matches!(s.reg, Reg::Fflags | Reg::Frm | Reg::Fcsr) && Self::get(s.reg, &old) == v {
                continue;
            }
            Self::set(s.reg, regs, v);
        }
    }

    /// The target description (`target.xml`) for this layout.
    pub fn target_xml(&self) -> String {
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
        for &c in &self.csrs {
            let _ = writeln!(
                x,
                "  <reg name=\"{}\" bitsize=\"64\" type=\"int\" regnum=\"{}\"/>",
                csr_name(c),
                FIRST_CSR_REGNUM + c as usize
            );
        }
        x.push_str("</feature>\n</target>\n");
        x
    }
}

/// The `g`/`G` packet image, laid out by the session's register layout (which gdbstub's
/// context-free `Registers` trait cannot see, so the bytes travel raw).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GdbRegs {
    pub(crate) bytes: Vec<u8>,
}

impl Registers for GdbRegs {
    type ProgramCounter = u64;

    fn pc(&self) -> u64 {
        let off = PC_REGNUM * 8;
        self.bytes.get(off..off + 8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()))
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        for &b in &self.bytes {
            write_byte(Some(b));
        }
    }

    fn gdb_deserialize(&mut self, bytes: &[u8]) -> Result<(), ()> {
        self.bytes = bytes.to_vec();
        Ok(())
    }
}

/// A GDB register number (see the module docs); validated against the session's layout when
/// used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegNum(pub usize);

impl RegId for RegNum {
    fn from_raw_id(id: usize) -> Option<(Self, Option<NonZeroUsize>)> {
        (id <= PRIV_REGNUM).then_some((RegNum(id), None))
    }

    fn to_raw_id(&self) -> Option<usize> {
        Some(self.0)
    }
}

/// RV64 with F/D and CSRs; the description comes from `TargetDescriptionXmlOverride`.
#[derive(Debug)]
pub enum Riscv64 {}

impl Arch for Riscv64 {
    type Usize = u64;
    type Registers = GdbRegs;
    /// GDB sends 2 (c.ebreak) or 4 (ebreak); breakpoints here are by address only.
    type BreakpointKind = usize;
    type RegId = RegNum;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_numbers_and_roundtrip() {
        let l = Layout::new(&[0x300, 0x001, 0x180, 0x300, 0xf14]);
        assert_eq!(l.csrs, vec![0x180, 0x300, 0xf14]);
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
        let regs = GdbRegs { bytes: g };
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
        let x = Layout::new(&[0x300, 0x301]).target_xml();
        assert!(x.contains("<reg name=\"mstatus\" bitsize=\"64\" type=\"int\" regnum=\"833\"/>"));
        assert!(x.contains("<reg name=\"fcsr\" bitsize=\"32\" type=\"int\" regnum=\"68\"/>"));
        assert!(x.contains("regnum=\"4161\""));
        assert_eq!(x.matches("<feature ").count(), x.matches("</feature>").count());
    }
}
