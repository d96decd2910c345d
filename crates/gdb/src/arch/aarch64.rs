//! The AArch64 register file as GDB numbers it, and its target description.
//!
//! GDB's AArch64 numbers (`gdb/arch/aarch64.h`, `AARCH64_*_REGNUM`), from the
//! `org.gnu.gdb.aarch64.core` and `org.gnu.gdb.aarch64.fpu` features:
//!
//! | registers | regnum | bits |
//! |---|---|---|
//! | x0..x30 | 0..=30 | 64 |
//! | sp | 31 | 64 |
//! | pc | 32 | 64 |
//! | cpsr (PSTATE as SPSR_ELx saves it) | 33 | 32 |
//! | v0..v31 | 34..=65 | 128 |
//! | fpsr | 66 | 32 |
//! | fpcr | 67 | 32 |
//!
//! GDB builds the q/d/s/h/b views of the vector registers itself (pseudo registers).

use std::fmt::Write as _;

use super::{GdbArch, Slot};

pub const SP_REGNUM: usize = 31;
pub const PC_REGNUM: usize = 32;
pub const CPSR_REGNUM: usize = 33;
pub const FIRST_V_REGNUM: usize = 34;
pub const FPSR_REGNUM: usize = 66;
pub const FPCR_REGNUM: usize = 67;

/// AArch64 state as GDB sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Aarch64Regs {
    pub x: [u64; 31],
    /// The stack pointer in use (SP_EL0 or SP_ELx, as PSTATE.SP selects).
    pub sp: u64,
    pub pc: u64,
    /// PSTATE in SPSR layout: N Z C V (31:28), PAN (22), IL (20), BTYPE (11:10), D A I F (9:6),
    /// M[3:0] = EL (3:2) and SP (0).
    pub cpsr: u32,
    pub v: [u128; 32],
    pub fpsr: u32,
    pub fpcr: u32,
}

/// What one GDB register is in [`Aarch64Regs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    X(u8),
    Sp,
    Pc,
    Cpsr,
    V(u8),
    Fpsr,
    Fpcr,
}

/// A64 with FP/SIMD.
#[derive(Debug)]
pub enum Aarch64 {}

/// The named fields of cpsr GDB shows (`[ EL=1 SP I F ]`), bit ranges inclusive.
const CPSR_FIELDS: [(&str, u32, u32); 16] = [
    ("SP", 0, 0),
    ("EL", 2, 3),
    ("nRW", 4, 4),
    ("F", 6, 6),
    ("I", 7, 7),
    ("A", 8, 8),
    ("D", 9, 9),
    ("BTYPE", 10, 11),
    ("SSBS", 12, 12),
    ("IL", 20, 20),
    ("SS", 21, 21),
    ("PAN", 22, 22),
    ("V", 28, 28),
    ("C", 29, 29),
    ("Z", 30, 30),
    ("N", 31, 31),
];

impl GdbArch for Aarch64 {
    type Regs = Aarch64Regs;
    type Reg = Reg;
    const PC_REGNUM: usize = PC_REGNUM;
    const MAX_REGNUM: usize = FPCR_REGNUM;
    const CPU_NOUN: &'static str = "cpu";

    fn registers(_extra: &[u16]) -> Vec<(Reg, usize, usize)> {
        let mut v: Vec<(Reg, usize, usize)> = (0..31).map(|i| (Reg::X(i as u8), i, 8)).collect();
        v.push((Reg::Sp, SP_REGNUM, 8));
        v.push((Reg::Pc, PC_REGNUM, 8));
        v.push((Reg::Cpsr, CPSR_REGNUM, 4));
        v.extend((0..32).map(|i| (Reg::V(i as u8), FIRST_V_REGNUM + i, 16)));
        v.push((Reg::Fpsr, FPSR_REGNUM, 4));
        v.push((Reg::Fpcr, FPCR_REGNUM, 4));
        v
    }

    fn get(reg: Reg, r: &Aarch64Regs) -> u128 {
        match reg {
            Reg::X(i) => u128::from(r.x[usize::from(i)]),
            Reg::Sp => u128::from(r.sp),
            Reg::Pc => u128::from(r.pc),
            Reg::Cpsr => u128::from(r.cpsr),
            Reg::V(i) => r.v[usize::from(i)],
            Reg::Fpsr => u128::from(r.fpsr),
            Reg::Fpcr => u128::from(r.fpcr),
        }
    }

    fn set(reg: Reg, r: &mut Aarch64Regs, v: u128) {
        match reg {
            Reg::X(i) => r.x[usize::from(i)] = v as u64,
            Reg::Sp => r.sp = v as u64,
            Reg::Pc => r.pc = v as u64,
            Reg::Cpsr => r.cpsr = v as u32,
            Reg::V(i) => r.v[usize::from(i)] = v,
            Reg::Fpsr => r.fpsr = v as u32,
            Reg::Fpcr => r.fpcr = v as u32,
        }
    }

    fn pc(r: &Aarch64Regs) -> u64 {
        r.pc
    }

    fn target_xml(_slots: &[Slot<Reg>]) -> String {
        let mut x = String::new();
        x.push_str("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n");
        x.push_str("<target version=\"1.0\">\n<architecture>aarch64</architecture>\n");
        x.push_str("<feature name=\"org.gnu.gdb.aarch64.core\">\n");
        for i in 0..31 {
            let _ = writeln!(x, "  <reg name=\"x{i}\" bitsize=\"64\" type=\"int\" regnum=\"{i}\"/>");
        }
        let _ = writeln!(x, "  <reg name=\"sp\" bitsize=\"64\" type=\"data_ptr\" regnum=\"{SP_REGNUM}\"/>");
        let _ = writeln!(x, "  <reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"{PC_REGNUM}\"/>");
        x.push_str("  <flags id=\"cpsr_flags\" size=\"4\">\n");
        for (name, start, end) in CPSR_FIELDS {
            let _ = writeln!(x, "    <field name=\"{name}\" start=\"{start}\" end=\"{end}\"/>");
        }
        x.push_str("  </flags>\n");
        let _ = writeln!(x, "  <reg name=\"cpsr\" bitsize=\"32\" type=\"cpsr_flags\" regnum=\"{CPSR_REGNUM}\"/>");
        x.push_str("</feature>\n<feature name=\"org.gnu.gdb.aarch64.fpu\">\n");
        // The lane views of a 128-bit register: d(ouble), s(ingle), h(alf), b(yte), q(uad).
        let vectors = [
            ("v2d", "ieee_double", 2),
            ("v2u", "uint64", 2),
            ("v2i", "int64", 2),
            ("v4f", "ieee_single", 4),
            ("v4u", "uint32", 4),
            ("v4i", "int32", 4),
            ("v8f", "ieee_half", 8),
            ("v8u", "uint16", 8),
            ("v8i", "int16", 8),
            ("v16u", "uint8", 16),
            ("v16i", "int8", 16),
            ("v1u", "uint128", 1),
            ("v1i", "int128", 1),
        ];
        for (id, ty, n) in vectors {
            let _ = writeln!(x, "  <vector id=\"{id}\" type=\"{ty}\" count=\"{n}\"/>");
        }
        let unions: [(&str, &[(&str, &str)]); 5] = [
            ("vnd", &[("f", "v2d"), ("u", "v2u"), ("s", "v2i")]),
            ("vns", &[("f", "v4f"), ("u", "v4u"), ("s", "v4i")]),
            ("vnh", &[("f", "v8f"), ("u", "v8u"), ("s", "v8i")]),
            ("vnb", &[("u", "v16u"), ("s", "v16i")]),
            ("vnq", &[("u", "v1u"), ("s", "v1i")]),
        ];
        for (id, fields) in unions {
            let _ = writeln!(x, "  <union id=\"{id}\">");
            for (name, ty) in fields {
                let _ = writeln!(x, "    <field name=\"{name}\" type=\"{ty}\"/>");
            }
            x.push_str("  </union>\n");
        }
        x.push_str("  <union id=\"aarch64v\">\n");
        for (name, ty) in [("d", "vnd"), ("s", "vns"), ("h", "vnh"), ("b", "vnb"), ("q", "vnq")] {
            let _ = writeln!(x, "    <field name=\"{name}\" type=\"{ty}\"/>");
        }
        x.push_str("  </union>\n");
        for i in 0..32 {
            let _ = writeln!(
                x,
                "  <reg name=\"v{i}\" bitsize=\"128\" type=\"aarch64v\" regnum=\"{}\"/>",
                FIRST_V_REGNUM + i
            );
        }
        let _ = writeln!(x, "  <reg name=\"fpsr\" bitsize=\"32\" type=\"int\" regnum=\"{FPSR_REGNUM}\"/>");
        let _ = writeln!(x, "  <reg name=\"fpcr\" bitsize=\"32\" type=\"int\" regnum=\"{FPCR_REGNUM}\"/>");
        x.push_str("</feature>\n</target>\n");
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{GdbRegs, Layout};
    use gdbstub::arch::Registers;

    #[test]
    fn layout_follows_gdb_numbers_and_widths() {
        let l = Layout::<Aarch64>::new(&[]);
        let nums: Vec<usize> = l.slots.iter().map(|s| s.regnum).collect();
        assert_eq!(nums, (0..=67).collect::<Vec<_>>());
        assert_eq!(l.slot(31).unwrap().reg, Reg::Sp);
        assert_eq!(l.slot(33).unwrap().size, 4);
        assert_eq!(l.slot(34).unwrap().offset, 33 * 8 + 4);
        assert_eq!(l.slot(65).unwrap().reg, Reg::V(31));
        assert_eq!(l.g_len, 33 * 8 + 4 + 32 * 16 + 2 * 4);
    }

    #[test]
    fn g_packet_roundtrips_every_register_little_endian() {
        let l = Layout::<Aarch64>::new(&[]);
        let mut r = Aarch64Regs { sp: 0x4008_0000, pc: 0x4000_1000, cpsr: 0x6000_03c5, ..Default::default() };
        r.x[0] = 0x1122_3344_5566_7788;
        r.x[30] = 0xffff_8000_0000_0004;
        r.v[0] = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100;
        r.v[31] = u128::MAX - 1;
        r.fpsr = 0x0800_0010;
        r.fpcr = 0x0300_0000;
        let g = l.encode(&r);
        assert_eq!(&g[..8], &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(&g[33 * 8..33 * 8 + 4], &0x6000_03c5u32.to_le_bytes());
        assert_eq!(g[33 * 8 + 4..33 * 8 + 4 + 16], (0u8..16).collect::<Vec<_>>()[..]);
        let mut back = Aarch64Regs::default();
        l.decode(&g, &mut back);
        assert_eq!(back, r);
        assert_eq!(GdbRegs::<Aarch64>::new(g).pc(), 0x4000_1000);
    }

    #[test]
    fn description_names_the_features_gdb_requires() {
        let x = Layout::<Aarch64>::new(&[]).target_xml();
        assert!(x.contains("<architecture>aarch64</architecture>"));
        assert!(x.contains("<feature name=\"org.gnu.gdb.aarch64.core\">"));
        assert!(x.contains("<feature name=\"org.gnu.gdb.aarch64.fpu\">"));
        assert!(x.contains("<reg name=\"x30\" bitsize=\"64\" type=\"int\" regnum=\"30\"/>"));
        assert!(x.contains("<reg name=\"cpsr\" bitsize=\"32\" type=\"cpsr_flags\" regnum=\"33\"/>"));
        assert!(x.contains("<reg name=\"v31\" bitsize=\"128\" type=\"aarch64v\" regnum=\"65\"/>"));
        assert!(x.contains("<reg name=\"fpcr\" bitsize=\"32\" type=\"int\" regnum=\"67\"/>"));
        for tag in ["feature", "union", "flags"] {
            assert_eq!(x.matches(&format!("<{tag} ")).count(), x.matches(&format!("</{tag}>")).count(), "{tag}");
        }
    }
}
