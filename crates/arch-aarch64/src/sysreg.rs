//! System registers reached by MRS and MSR (register): one table row per register, keyed by
//! its encoding (op0, op1, CRn, CRm, op2), with who may access it and how it reads and writes.
//!
//! ```text
//!   MRS/MSR bits 20:5 = op0(2) op1(3) CRn(4) CRm(4) op2(3) ── key() ──▶ lookup() ──▶ DEFS[i]
//!   sem.rs looks the row up at translation time; the helper checks the access against the EL
//!   (and SCTLR_EL1/CNTKCTL_EL1/CPACR_EL1 controls) at run time, then calls `read` or `write`.
//! ```
//!
//! Denied accesses: UNDEFINED (EC 0x00) for registers the EL may not touch at all, the
//! MSR/MRS trap (EC 0x18) where an EL1 control disables EL0 access, and the FP trap (EC 0x07)
//! for FPCR/FPSR while CPACR_EL1.FPEN disables FP. Encodings with no row are UNDEFINED too, and
//! logged (rate-limited). Besides the named rows, the whole AArch64 ID register space
//! (op0 3, op1 0, CRn 0, CRm 1..=7) reads as zero at EL1, and the debug breakpoint/watchpoint
//! banks (`DBGB/W{V,C}R<n>_EL1`) read as zero and ignore writes.
//!
//! The GICv3 CPU interface registers (`ICC_*_EL1`) are rows like the others whose access check
//! also asks for a board-connected GIC ([`Aarch64Cpu::gic`]): without one they are UNDEFINED;
//! with one, reads and writes go to it through `mimic_core::GicCpuInterface`.
//!
//! The ID registers describe exactly what this CPU implements: AArch64 only
//! at EL0 and EL1, at EL2 when `Aarch64Cpu::has_el2` (no VHE), at EL3 when
//! `Aarch64Cpu::has_el3`, FP and AdvSIMD, the GIC system registers only when a GICv3 is
//! connected (ID_AA64PFR0_EL1.GIC = 1), no SVE/RAS/MTE, CRC32, and the optional instructions
//! of the CPU's [`crate::cpu::Features`]; 40-bit PA, 16-bit ASIDs, 4K/16K/64K granules, PAN, no
//! PMU, v8.0 debug with two breakpoints and two watchpoints. The Cortex-A57 model reports MIDR
//! r1p3 (0x411fd073); `max` reports QEMU's `max` value (0x000f0510, implementer 0: software).

use crate::cpu::{daif, irq, Aarch64Cpu, CpuModel, TPIDR_EL0, TPIDR_EL1};
use crate::el2;
use crate::el3;
use crate::ich;
use crate::timer::{HYP, PHYS, VIRT};
use mimic_core::IccReg;

/// The 16-bit key of an encoding: bits 20:5 of the MRS/MSR instruction.
pub const fn key(op0: u32, op1: u32, crn: u32, crm: u32, op2: u32) -> u32 {
    op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2
}

/// The fields of a key: (op0, op1, CRn, CRm, op2).
pub const fn fields(key: u32) -> (u32, u32, u32, u32, u32) {
    (key >> 14 & 3, key >> 11 & 7, key >> 7 & 15, key >> 3 & 15, key & 7)
}

pub const MIDR_A57: u64 = 0x411f_d073;
pub const MIDR_MAX: u64 = 0x000f_0510;
/// EL0 and EL1 AArch64 only (1 each); EL2, EL3 absent; FP and AdvSIMD implemented (0); GIC
/// system registers, RAS, SVE absent. [`ID_AA64PFR0_GIC`] is added while a GICv3 is connected.
pub const ID_AA64PFR0: u64 = 0x11;
/// ID_AA64PFR0_EL1.EL2 = 1: EL2 implemented, AArch64 only (with `Aarch64Cpu::has_el2`).
pub const ID_AA64PFR0_EL2: u64 = 1 << 8;
/// ID_AA64PFR0_EL1.EL3 = 1: EL3 implemented, AArch64 only (with `Aarch64Cpu::has_el3`).
pub const ID_AA64PFR0_EL3: u64 = 1 << 12;
/// ID_AA64PFR0_EL1.GIC = 1: the GICv3 system-register CPU interface is implemented.
pub const ID_AA64PFR0_GIC: u64 = 1 << 24;
/// DebugVer 6 (v8.0), BRPs 1 (two breakpoints), WRPs 1 (two watchpoints), CTX_CMPs 0 (one),
/// PMUVer 0 (no PMU), TraceVer 0.
pub const ID_AA64DFR0: u64 = 0x0010_1006;
/// CRC32, always implemented; the optional instructions are added from [`crate::cpu::Features`].
pub const ID_AA64ISAR0: u64 = 1 << 16;
/// PARange 0b0010 (40 bits), ASIDBits 0b0010 (16), TGran16 1 (supported), TGran64 0 and
/// TGran4 0 (supported); no mixed endianness.
pub const ID_AA64MMFR0: u64 = 0x0010_0022;
/// PAN 1; no HAFDBS, VH, LOR, HPDS.
pub const ID_AA64MMFR1: u64 = 1 << 20;
/// IminLine and DminLine 64 bytes, L1 instruction cache PIPT, ERG and CWG 64 bytes.
pub const CTR: u64 = 0x8444_c004;
/// DC ZVA zeroes 2^4 words (64 bytes); DZP (bit 4) is added when prohibited.
pub const DCZID_BS: u64 = 4;
/// The block DC ZVA zeroes.
pub const DCZ_BYTES: u64 = 4 << DCZID_BS;
/// L1 separate instruction and data caches, L2 unified; LoUIS 1, LoC 2, LoUU 1.
pub const CLIDR: u64 = 0x0a20_0023;

/// SCTLR_EL1 bits that read as one (v8.0 RES1 bits: EOS, TSCXT, EIS, nTLSMD, LSMAOE).
pub const SCTLR_RES1: u64 = 0x3050_0800;
/// SCTLR_EL1 bits software can change: M A C SA SA0 CP15BEN ITD SED UMA I DZE UCT nTWI nTWE
/// WXN SPAN UCI. EE and E0E stay 0 (little-endian only).
pub const SCTLR_WRITABLE: u64 = 0x048d_d3bf;
/// Cortex-A57's reset value (QEMU's): the RES1 bits, SA, SA0, CP15BEN, nTWI, nTWE and SPAN.
pub const SCTLR_RESET: u64 = 0x30d5_0838;

pub mod sctlr {
    pub const M: u64 = 1 << 0;
    pub const UMA: u64 = 1 << 9;
    pub const DZE: u64 = 1 << 14;
    pub const UCT: u64 = 1 << 15;
    pub const NTWI: u64 = 1 << 16;
    pub const NTWE: u64 = 1 << 18;
    pub const SPAN: u64 = 1 << 23;
    pub const UCI: u64 = 1 << 26;
    /// FEAT_BTI: PACIASP/PACIBSP are not landing pads for BTYPE 0b11 at EL0 (BT0), EL1 (BT1).
    pub const BT0: u64 = 1 << 35;
    pub const BT1: u64 = 1 << 36;
}

/// CNTKCTL_EL1 bits.
pub mod cntkctl {
    pub const EL0PCTEN: u64 = 1 << 0;
    pub const EL0VCTEN: u64 = 1 << 1;
    pub const EL0VTEN: u64 = 1 << 8;
    pub const EL0PTEN: u64 = 1 << 9;
    pub const WRITABLE: u64 = 0x3ff;
}

/// FPCR bits with an effect: AHP, DN, FZ, RMode, FZ16. The trap enables are RAZ/WI.
pub const FPCR_WRITABLE: u64 = 0x07c8_0000;
/// FPSR: QC and the cumulative IDC, IXC, UFC, OFC, DZC, IOC flags.
pub const FPSR_WRITABLE: u64 = 0x0800_009f;
/// SPSR_EL1 bits kept: N Z C V, PAN, SS, IL, D A I F, `M[4:0]`.
pub const SPSR_WRITABLE: u64 = 0xf070_03df;
/// SPSR_EL1.BTYPE, kept with FEAT_BTI.
pub const SPSR_BTYPE: u64 = 3 << 10;

/// The EL1 system registers that have no other home. (SCTLR/TCR/TTBR/MAIR/AMAIR/PAR live in
/// [`crate::mmu_regs::MmuRegs`], FPCR/FPSR and PSTATE in [`Aarch64Cpu`].)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysRegs {
    pub vbar: u64,
    pub esr: u64,
    pub far: u64,
    pub elr: u64,
    pub spsr: u64,
    pub cpacr: u64,
    pub actlr: u64,
    pub contextidr: u64,
    pub tpidrro_el0: u64,
    pub cntkctl: u64,
    pub cntfrq: u64,
    pub csselr: u64,
    pub mdscr: u64,
    /// OSLSR_EL1.OSLK: the OS lock, set at cold reset and cleared by `msr oslar_el1, xzr`.
    pub oslk: bool,
    pub osdlr: u64,
    /// [`PHYS`], [`VIRT`] and [`HYP`].
    pub timers: [crate::timer::Timer; 3],
}

impl Default for SysRegs {
    fn default() -> Self {
        SysRegs {
            vbar: 0,
            esr: 0,
            far: 0,
            elr: 0,
            spsr: 0,
            cpacr: 0,
            actlr: 0,
            contextidr: 0,
            tpidrro_el0: 0,
            cntkctl: 0,
            cntfrq: crate::cpu::CNTFRQ_HZ,
            csselr: 0,
            mdscr: 0,
            oslk: true,
            osdlr: 0,
            timers: Default::default(),
        }
    }
}

/// Why an access is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deny {
    /// UNDEFINED: EC 0x00.
    Undefined,
    /// Trapped by an EL1 control: EC 0x18.
    Trap,
    /// FP disabled by CPACR_EL1.FPEN: EC 0x07.
    Fp,
}

/// Who may access a register.
#[derive(Clone, Copy)]
pub enum Access {
    /// EL1 read/write.
    Rw,
    /// EL1 read-only.
    Ro,
    /// EL1 write-only.
    Wo,
    /// EL0 and EL1 read/write.
    El0Rw,
    /// EL0 and EL1 read-only.
    El0Ro,
    /// EL1 read/write, EL0 read-only.
    El0RoEl1Rw,
    /// Anything else: `fn(cpu, is_write)`.
    Check(fn(&Aarch64Cpu, bool) -> Result<(), Deny>),
}

/// One system register.
pub struct Def {
    pub key: u32,
    pub name: &'static str,
    pub access: Access,
    pub read: fn(&Aarch64Cpu) -> u64,
    pub write: fn(&mut Aarch64Cpu, u64),
}

impl Def {
    /// Whether the current EL may make this access.
    pub fn check(&self, cpu: &Aarch64Cpu, write: bool) -> Result<(), Deny> {
        let el0 = cpu.el == 0;
        let ok = match self.access {
            Access::Rw => !el0,
            Access::Ro => !el0 && !write,
            Access::Wo => !el0 && write,
            Access::El0Rw => true,
            Access::El0Ro => !write,
            Access::El0RoEl1Rw => !el0 || !write,
            Access::Check(f) => return f(cpu, write),
        };
        if ok {
            Ok(())
        } else {
            Err(Deny::Undefined)
        }
    }
}

fn wi(_: &mut Aarch64Cpu, _: u64) {}
fn raz(_: &Aarch64Cpu) -> u64 {
    0
}

/// Read-only at EL0 unless `bit` of CNTKCTL_EL1 is clear (then trapped), read-only at EL1.
fn el0_ro_if(cpu: &Aarch64Cpu, write: bool, bits: u64) -> Result<(), Deny> {
    if write {
        return Err(Deny::Undefined);
    }
    if cpu.el == 0 && cpu.sys.cntkctl & bits == 0 {
        return Err(Deny::Trap);
    }
    Ok(())
}

/// Read/write at EL1; at EL0 when `bits` of CNTKCTL_EL1 allow it, else trapped.
fn el0_rw_if(cpu: &Aarch64Cpu, bits: u64) -> Result<(), Deny> {
    if cpu.el == 0 && cpu.sys.cntkctl & bits == 0 {
        return Err(Deny::Trap);
    }
    Ok(())
}

fn check_ctr(cpu: &Aarch64Cpu, write: bool) -> Result<(), Deny> {
    match (write, cpu.el) {
        (true, _) => Err(Deny::Undefined),
        (false, 0) if cpu.mmu_regs.sctlr_el1 & sctlr::UCT == 0 => Err(Deny::Trap),
        _ => Ok(()),
    }
}
fn check_daif(cpu: &Aarch64Cpu, _: bool) -> Result<(), Deny> {
    if cpu.el == 0 && cpu.mmu_regs.sctlr_el1 & sctlr::UMA == 0 {
        return Err(Deny::Trap);
    }
    Ok(())
}
fn check_fp(cpu: &Aarch64Cpu, _: bool) -> Result<(), Deny> {
    if cpu.fp_enabled() {
        Ok(())
    } else {
        Err(Deny::Fp)
    }
}
fn check_sp_el0(cpu: &Aarch64Cpu, _: bool) -> Result<(), Deny> {
    // SP_EL0 is reachable by MRS/MSR only from EL1 while SP_EL1 is the current SP.
    if cpu.el == 0 || !cpu.spsel {
        return Err(Deny::Undefined);
    }
    Ok(())
}
fn check_cntfrq(cpu: &Aarch64Cpu, write: bool) -> Result<(), Deny> {
    if write {
        // Writable at the highest implemented EL only.
        let top = if cpu.has_el3 {
            3
        } else if cpu.has_el2 {
            2
        } else {
            1
        };
        return if cpu.el == top { Ok(()) } else { Err(Deny::Undefined) };
    }
    el0_ro_if(cpu, false, cntkctl::EL0PCTEN | cntkctl::EL0VCTEN)
}

/// The ICC_* registers: EL1 only, in their architectural direction, and only with a GIC.
fn icc_access(cpu: &Aarch64Cpu, write: bool, reg: IccReg) -> Result<(), Deny> {
    if cpu.gic.is_none() {
        mimic_core::guest_error!("a64: ICC_{reg:?} access without a GICv3 system-register interface");
        return Err(Deny::Undefined);
    }
    let direction = if write { reg.writable() } else { reg.readable() };
    if cpu.el == 0 || !direction {
        return Err(Deny::Undefined);
    }
    Ok(())
}

fn icc_read(cpu: &Aarch64Cpu, reg: IccReg) -> u64 {
    cpu.gic.as_ref().map_or(0, |g| g.read(reg))
}

fn icc_write(cpu: &mut Aarch64Cpu, reg: IccReg, value: u64) {
    if let Some(g) = &cpu.gic {
        g.write(reg, value);
    }
}

fn id_aa64pfr0(cpu: &Aarch64Cpu) -> u64 {
    ID_AA64PFR0
        | if cpu.gic.is_some() { ID_AA64PFR0_GIC } else { 0 }
        | if cpu.has_el2 { ID_AA64PFR0_EL2 } else { 0 }
        | if cpu.has_el3 { ID_AA64PFR0_EL3 } else { 0 }
}

fn id_aa64isar0(cpu: &Aarch64Cpu) -> u64 {
    let f = cpu.features;
    let field = |on: bool, shift: u32, value: u64| if on { value << shift } else { 0 };
    // AES 2 (with PMULL), SHA1 1, SHA2 1 (SHA256 only), Atomic 2 (LSE).
    ID_AA64ISAR0 | field(f.aes, 4, 2) | field(f.sha1, 8, 1) | field(f.sha256, 12, 1) | field(f.lse, 20, 2)
}

/// APA = 1 (FEAT_PAuth with QARMA5) and GPA = 1 (PACGA with QARMA5) when PAuth is on.
fn id_aa64isar1(cpu: &Aarch64Cpu) -> u64 {
    if cpu.features.pauth {
        1 << 4 | 1 << 24
    } else {
        0
    }
}

/// The key registers exist at EL1 and above, and only with FEAT_PAuth.
fn check_pauth_key(cpu: &Aarch64Cpu, _: bool) -> Result<(), Deny> {
    if cpu.features.pauth && cpu.el >= 1 {
        Ok(())
    } else {
        Err(Deny::Undefined)
    }
}

/// A pointer authentication key half: `key` indexes `PacKeys::keys`, `half` 0 is Hi, 1 is Lo.
macro_rules! pac_key {
    ($crm:literal $op2:literal $name:literal, $key:literal, $half:literal) => {
        Def {
            key: key(3, 0, 2, $crm, $op2),
            name: $name,
            access: Access::Check(check_pauth_key),
            read: |c| c.pac_keys.keys[$key][$half],
            write: |c, v| c.pac_keys.keys[$key][$half] = v,
        }
    };
}

/// MIDR_EL1 of a CPU model (what EL2 and VPIDR_EL2's reset value see).
pub fn midr_of(model: CpuModel) -> u64 {
    match model {
        CpuModel::CortexA57 => MIDR_A57,
        CpuModel::Max => MIDR_MAX,
    }
}

fn midr(cpu: &Aarch64Cpu) -> u64 {
    crate::el2::midr_seen(cpu, midr_of(cpu.model))
}

/// MPIDR_EL1 bit 31 (RES1) and the affinity fields Aff3 (39:32) and Aff2..Aff0 (23:0).
pub const MPIDR_RES1: u64 = 1 << 31;
pub const MPIDR_AFF: u64 = 0xff_00ff_ffff;

fn mpidr(cpu: &Aarch64Cpu) -> u64 {
    crate::el2::mpidr_seen(cpu, MPIDR_RES1 | cpu.mpidr & MPIDR_AFF)
}

/// CCSIDR_EL1 of the cache CSSELR_EL1 selects (Cortex-A57's: 32 KiB 2-way L1 D, 48 KiB 3-way
/// L1 I, 2 MiB 16-way L2, 64-byte lines).
fn ccsidr(cpu: &Aarch64Cpu) -> u64 {
    match cpu.sys.csselr {
        0 => 0x701f_e00a,
        1 => 0x201f_e012,
        2 => 0x70ff_e07a,
        _ => 0,
    }
}

/// ISR_EL1: at EL1 an interrupt routed to EL2 shows as its virtual counterpart instead.
fn isr(cpu: &Aarch64Cpu) -> u64 {
    let lines = cpu.irq_lines.load();
    let (fiq2, irq2) = if cpu.el == 1 { cpu.interrupts_to_el2() } else { (false, false) };
    let h = cpu.hcr();
    let (lf, li) = cpu.ich_signal();
    let i = if irq2 { h & crate::el2::hcr::VI != 0 || li || lines & irq::VIRQ != 0 } else { lines & irq::IRQ != 0 };
    let f = if fiq2 { h & crate::el2::hcr::VF != 0 || lf || lines & irq::VFIQ != 0 } else { lines & irq::FIQ != 0 };
    (if i { 1 << 7 } else { 0 }) | if f { 1 << 6 } else { 0 }
}

fn write_sctlr(c: &mut Aarch64Cpu, v: u64) {
    let pauth = if c.features.pauth { crate::pauth::SCTLR_EN_ALL } else { 0 };
    let bti = if c.features.bti { sctlr::BT0 | sctlr::BT1 } else { 0 };
    c.mmu_regs.sctlr_el1 = v & (SCTLR_WRITABLE | pauth | bti) | SCTLR_RES1;
    c.mmu_changed();
}

/// A GICv3 CPU interface register: its row forwards to [`Aarch64Cpu::gic`].
macro_rules! icc {
    ($op0:literal $op1:literal $crn:literal $crm:literal $op2:literal $name:literal, $reg:expr) => {
        Def {
            key: key($op0, $op1, $crn, $crm, $op2),
            name: $name,
            access: Access::Check(|c, w| icc_access(c, w, $reg)),
            read: |c| icc_read(c, $reg),
            write: |c, v| icc_write(c, $reg, v),
        }
    };
}

macro_rules! def {
    ($op0:literal $op1:literal $crn:literal $crm:literal $op2:literal $name:literal, $acc:expr, $read:expr, $write:expr) => {
        Def { key: key($op0, $op1, $crn, $crm, $op2), name: $name, access: $acc, read: $read, write: $write }
    };
}

use Access::*;

/// Every named system register.
pub static DEFS: &[Def] = &[
    // ---- identification ----
    def!(3 0 0 0 0 "MIDR_EL1", Ro, midr, wi),
    def!(3 0 0 0 5 "MPIDR_EL1", Ro, mpidr, wi),
    def!(3 0 0 0 6 "REVIDR_EL1", Ro, raz, wi),
    def!(3 0 0 4 0 "ID_AA64PFR0_EL1", Ro, id_aa64pfr0, wi),
    // BT = 1 with FEAT_BTI.
    def!(3 0 0 4 1 "ID_AA64PFR1_EL1", Ro, |c| u64::from(c.features.bti), wi),
    def!(3 0 0 5 0 "ID_AA64DFR0_EL1", Ro, |_| ID_AA64DFR0, wi),
    def!(3 0 0 6 0 "ID_AA64ISAR0_EL1", Ro, id_aa64isar0, wi),
    def!(3 0 0 6 1 "ID_AA64ISAR1_EL1", Ro, id_aa64isar1, wi),
    def!(3 0 0 7 0 "ID_AA64MMFR0_EL1", Ro, |_| ID_AA64MMFR0, wi),
    def!(3 0 0 7 1 "ID_AA64MMFR1_EL1", Ro, |_| ID_AA64MMFR1, wi),
    def!(3 1 0 0 0 "CCSIDR_EL1", Ro, ccsidr, wi),
    def!(3 1 0 0 1 "CLIDR_EL1", Ro, |_| CLIDR, wi),
    def!(3 1 0 0 7 "AIDR_EL1", Ro, raz, wi),
    def!(3 2 0 0 0 "CSSELR_EL1", Rw, |c| c.sys.csselr, |c, v| c.sys.csselr = v & 0xf),
    def!(3 3 0 0 1 "CTR_EL0", Check(check_ctr), |_| CTR, wi),
    def!(3 3 0 0 7 "DCZID_EL0", El0Ro, dczid, wi),
    // ---- system control ----
    def!(3 0 1 0 0 "SCTLR_EL1", Rw, |c| c.mmu_regs.sctlr_el1, write_sctlr),
    def!(3 0 1 0 1 "ACTLR_EL1", Rw, |c| c.sys.actlr, |c, v| c.sys.actlr = v),
    def!(3 0 1 0 2 "CPACR_EL1", Rw, |c| c.sys.cpacr, |c, v| c.sys.cpacr = v & 0x0030_0000),
    def!(3 0 2 0 0 "TTBR0_EL1", Rw, |c| c.mmu_regs.ttbr0_el1, |c, v| {
        c.mmu_regs.ttbr0_el1 = v;
        c.mmu_changed();
    }),
    def!(3 0 2 0 1 "TTBR1_EL1", Rw, |c| c.mmu_regs.ttbr1_el1, |c, v| {
        c.mmu_regs.ttbr1_el1 = v;
        c.mmu_changed();
    }),
    def!(3 0 2 0 2 "TCR_EL1", Rw, |c| c.mmu_regs.tcr_el1, |c, v| {
        c.mmu_regs.tcr_el1 = v;
        c.mmu_changed();
    }),
    def!(3 0 10 2 0 "MAIR_EL1", Rw, |c| c.mmu_regs.mair_el1, |c, v| {
        c.mmu_regs.mair_el1 = v;
        c.mmu_changed();
    }),
    def!(3 0 10 3 0 "AMAIR_EL1", Rw, |c| c.mmu_regs.amair_el1, |c, v| {
        c.mmu_regs.amair_el1 = v;
        c.mmu_changed();
    }),
    def!(3 0 7 4 0 "PAR_EL1", Rw, |c| c.mmu_regs.par_el1, |c, v| {
        c.mmu_regs.par_el1 = v;
        c.mmu_changed();
    }),
    def!(3 0 13 0 1 "CONTEXTIDR_EL1", Rw, |c| c.sys.contextidr, |c, v| c.sys.contextidr = v & 0xffff_ffff),
    def!(3 0 13 0 4 "TPIDR_EL1", Rw, |c| c.regs[TPIDR_EL1], |c, v| c.regs[TPIDR_EL1] = v),
    def!(3 3 13 0 2 "TPIDR_EL0", El0Rw, |c| c.regs[TPIDR_EL0], |c, v| c.regs[TPIDR_EL0] = v),
    def!(3 3 13 0 3 "TPIDRRO_EL0", El0RoEl1Rw, |c| c.sys.tpidrro_el0, |c, v| c.sys.tpidrro_el0 = v),
    // ---- pointer authentication keys ----
    pac_key!(1 0 "APIAKeyLo_EL1", 0, 1),
    pac_key!(1 1 "APIAKeyHi_EL1", 0, 0),
    pac_key!(1 2 "APIBKeyLo_EL1", 1, 1),
    pac_key!(1 3 "APIBKeyHi_EL1", 1, 0),
    pac_key!(2 0 "APDAKeyLo_EL1", 2, 1),
    pac_key!(2 1 "APDAKeyHi_EL1", 2, 0),
    pac_key!(2 2 "APDBKeyLo_EL1", 3, 1),
    pac_key!(2 3 "APDBKeyHi_EL1", 3, 0),
    pac_key!(3 0 "APGAKeyLo_EL1", 4, 1),
    pac_key!(3 1 "APGAKeyHi_EL1", 4, 0),
    // ---- exceptions ----
    def!(3 0 12 0 0 "VBAR_EL1", Rw, |c| c.sys.vbar, |c, v| c.sys.vbar = v & !0x7ff),
    def!(3 0 12 0 1 "RVBAR_EL1", Ro, raz, wi),
    def!(3 0 12 0 2 "RMR_EL1", Rw, |_| 1, wi),
    def!(3 0 12 1 0 "ISR_EL1", Ro, isr, wi),
    def!(3 0 5 1 0 "AFSR0_EL1", Rw, raz, wi),
    def!(3 0 5 1 1 "AFSR1_EL1", Rw, raz, wi),
    def!(3 0 5 2 0 "ESR_EL1", Rw, |c| c.sys.esr, |c, v| c.sys.esr = v & 0xffff_ffff),
    def!(3 0 6 0 0 "FAR_EL1", Rw, |c| c.sys.far, |c, v| c.sys.far = v),
    def!(3 0 4 0 0 "SPSR_EL1", Rw, |c| c.sys.spsr, |c, v| {
        let btype = if c.features.bti { SPSR_BTYPE } else { 0 };
        c.sys.spsr = v & (SPSR_WRITABLE | btype);
    }),
    def!(3 0 4 0 1 "ELR_EL1", Rw, |c| c.sys.elr, |c, v| c.sys.elr = v),
    def!(3 0 4 1 0 "SP_EL0", Check(check_sp_el0), |c| c.sp_of(0), |c, v| c.set_sp_of(0, v)),
    // ---- PSTATE ----
    def!(3 0 4 2 0 "SPSel", Rw, |c| u64::from(c.spsel), |c, v| c.set_el_sp(c.el, v & 1 != 0)),
    def!(3 0 4 2 2 "CurrentEL", Ro, |c| u64::from(c.el) << 2, wi),
    def!(3 0 4 2 3 "PAN", Rw, |c| u64::from(c.pan) << 22, |c, v| {
        c.pan = v >> 22 & 1 != 0;
        c.mmu_changed();
    }),
    def!(3 3 4 2 0 "NZCV", El0Rw, nzcv, |c, v| c.set_nzcv((v >> 28) as u32 & 0xf)),
    def!(3 3 4 2 1 "DAIF", Check(check_daif), |c| c.daif, |c, v| c.daif = v & daif::ALL),
    def!(3 3 4 4 0 "FPCR", Check(check_fp), |c| c.fpcr, |c, v| c.fpcr = v & FPCR_WRITABLE),
    def!(3 3 4 4 1 "FPSR", Check(check_fp), |c| c.fpsr, |c, v| c.fpsr = v & FPSR_WRITABLE),
    // ---- debug (minimal: no halting debug, no self-hosted debug events delivered) ----
    def!(2 0 0 0 2 "OSDTRRX_EL1", Rw, raz, wi),
    def!(2 0 0 2 0 "MDCCINT_EL1", Rw, raz, wi),
    def!(2 0 0 2 2 "MDSCR_EL1", Rw, |c| c.sys.mdscr, |c, v| c.sys.mdscr = v & 0xffff_ffff),
    def!(2 0 0 3 2 "OSDTRTX_EL1", Rw, raz, wi),
    def!(2 0 0 6 2 "OSECCR_EL1", Rw, raz, wi),
    def!(2 0 1 0 4 "OSLAR_EL1", Wo, raz, |c, v| c.sys.oslk = v & 1 != 0),
    def!(2 0 1 1 4 "OSLSR_EL1", Ro, |c| 0b1000 | u64::from(c.sys.oslk) << 1, wi),
    def!(2 0 1 3 4 "OSDLR_EL1", Rw, |c| c.sys.osdlr, |c, v| c.sys.osdlr = v & 1),
    def!(2 0 1 4 4 "DBGPRCR_EL1", Rw, raz, wi),
    def!(2 0 7 8 6 "DBGCLAIMSET_EL1", Rw, raz, wi),
    def!(2 0 7 9 6 "DBGCLAIMCLR_EL1", Rw, raz, wi),
    def!(2 0 7 14 6 "DBGAUTHSTATUS_EL1", Ro, raz, wi),
    def!(2 3 0 1 0 "MDCCSR_EL0", Ro, raz, wi),
    // ---- generic timer ----
    def!(3 0 14 1 0 "CNTKCTL_EL1", Rw, |c| c.sys.cntkctl, |c, v| c.sys.cntkctl = v & cntkctl::WRITABLE),
    def!(3 3 14 0 0 "CNTFRQ_EL0", Check(check_cntfrq), |c| c.sys.cntfrq, |c, v| c.sys.cntfrq = v & 0xffff_ffff),
    def!(3 3 14 0 1 "CNTPCT_EL0", Check(|c, w| el0_ro_if(c, w, cntkctl::EL0PCTEN)), |c| c.counter(), wi),
    def!(3 3 14 0 2 "CNTVCT_EL0", Check(|c, w| el0_ro_if(c, w, cntkctl::EL0VCTEN)), |c| c.timer_count(VIRT), wi),
    def!(3 3 14 2 0 "CNTP_TVAL_EL0", Check(|c, _| el0_rw_if(c, cntkctl::EL0PTEN)), |c| c.timer_tval(PHYS), |c, v| {
        c.set_timer_tval(PHYS, v)
    }),
    def!(3 3 14 2 1 "CNTP_CTL_EL0", Check(|c, _| el0_rw_if(c, cntkctl::EL0PTEN)), |c| c.timer_ctl(PHYS), |c, v| {
        c.set_timer_ctl(PHYS, v)
    }),
    def!(3 3 14 2 2 "CNTP_CVAL_EL0", Check(|c, _| el0_rw_if(c, cntkctl::EL0PTEN)), |c| c.sys.timers[PHYS].cval, |c, v| {
        c.set_timer_cval(PHYS, v)
    }),
    def!(3 3 14 3 0 "CNTV_TVAL_EL0", Check(|c, _| el0_rw_if(c, cntkctl::EL0VTEN)), |c| c.timer_tval(VIRT), |c, v| {
        c.set_timer_tval(VIRT, v)
    }),
    def!(3 3 14 3 1 "CNTV_CTL_EL0", Check(|c, _| el0_rw_if(c, cntkctl::EL0VTEN)), |c| c.timer_ctl(VIRT), |c, v| {
        c.set_timer_ctl(VIRT, v)
    }),
    def!(3 3 14 3 2 "CNTV_CVAL_EL0", Check(|c, _| el0_rw_if(c, cntkctl::EL0VTEN)), |c| c.sys.timers[VIRT].cval, |c, v| {
        c.set_timer_cval(VIRT, v)
    }),
    // ---- GICv3 CPU interface (only with a GIC: see `icc_access`) ----
    icc!(3 0 4 6 0 "ICC_PMR_EL1", IccReg::Pmr),
    icc!(3 0 12 8 0 "ICC_IAR0_EL1", IccReg::Iar0),
    icc!(3 0 12 8 1 "ICC_EOIR0_EL1", IccReg::Eoir0),
    icc!(3 0 12 8 2 "ICC_HPPIR0_EL1", IccReg::Hppir0),
    icc!(3 0 12 8 3 "ICC_BPR0_EL1", IccReg::Bpr0),
    icc!(3 0 12 8 4 "ICC_AP0R0_EL1", IccReg::Ap0r(0)),
    icc!(3 0 12 8 5 "ICC_AP0R1_EL1", IccReg::Ap0r(1)),
    icc!(3 0 12 8 6 "ICC_AP0R2_EL1", IccReg::Ap0r(2)),
    icc!(3 0 12 8 7 "ICC_AP0R3_EL1", IccReg::Ap0r(3)),
    icc!(3 0 12 9 0 "ICC_AP1R0_EL1", IccReg::Ap1r(0)),
    icc!(3 0 12 9 1 "ICC_AP1R1_EL1", IccReg::Ap1r(1)),
    icc!(3 0 12 9 2 "ICC_AP1R2_EL1", IccReg::Ap1r(2)),
    icc!(3 0 12 9 3 "ICC_AP1R3_EL1", IccReg::Ap1r(3)),
    icc!(3 0 12 11 1 "ICC_DIR_EL1", IccReg::Dir),
    icc!(3 0 12 11 3 "ICC_RPR_EL1", IccReg::Rpr),
    icc!(3 0 12 11 5 "ICC_SGI1R_EL1", IccReg::Sgi1r),
    icc!(3 0 12 11 6 "ICC_ASGI1R_EL1", IccReg::Asgi1r),
    icc!(3 0 12 11 7 "ICC_SGI0R_EL1", IccReg::Sgi0r),
    icc!(3 0 12 12 0 "ICC_IAR1_EL1", IccReg::Iar1),
    icc!(3 0 12 12 1 "ICC_EOIR1_EL1", IccReg::Eoir1),
    icc!(3 0 12 12 2 "ICC_HPPIR1_EL1", IccReg::Hppir1),
    icc!(3 0 12 12 3 "ICC_BPR1_EL1", IccReg::Bpr1),
    icc!(3 0 12 12 4 "ICC_CTLR_EL1", IccReg::Ctlr),
    icc!(3 0 12 12 5 "ICC_SRE_EL1", IccReg::Sre),
    icc!(3 0 12 12 6 "ICC_IGRPEN0_EL1", IccReg::Igrpen0),
    icc!(3 0 12 12 7 "ICC_IGRPEN1_EL1", IccReg::Igrpen1),
    // ---- EL3 (only with `Aarch64Cpu::has_el3`; see `el3.rs`) ----
    def!(3 6 1 0 0 "SCTLR_EL3", Check(el3::check_el3), |c| c.mmu_regs.sctlr_el3, el3::write_sctlr_el3),
    def!(3 6 1 0 1 "ACTLR_EL3", Check(el3::check_el3), |c| c.el3.actlr, |c, v| c.el3.actlr = v),
    def!(3 6 1 1 0 "SCR_EL3", Check(el3::check_el3), |c| c.el3.scr, el3::write_scr),
    def!(3 6 1 1 2 "CPTR_EL3", Check(el3::check_el3), |c| c.el3.cptr, |c, v| c.el3.cptr = v & el3::cptr::WRITABLE),
    def!(3 6 1 3 1 "MDCR_EL3", Check(el3::check_el3), |c| c.el3.mdcr, |c, v| c.el3.mdcr = v & 0x0003_ffff),
    def!(3 6 2 0 0 "TTBR0_EL3", Check(el3::check_el3), |c| c.mmu_regs.ttbr0_el3, |c, v| {
        c.mmu_regs.ttbr0_el3 = v;
        c.mmu_changed();
    }),
    def!(3 6 2 0 2 "TCR_EL3", Check(el3::check_el3), |c| c.mmu_regs.tcr_el3, |c, v| {
        // T0SZ, IRGN0, ORGN0, SH0, TG0, PS, TBI; bits 31 and 23 are RES1.
        c.mmu_regs.tcr_el3 = v & 0x0017_ff3f | 1 << 31 | 1 << 23;
        c.mmu_changed();
    }),
    def!(3 6 4 0 0 "SPSR_EL3", Check(el3::check_el3), |c| c.el3.spsr, el3::write_spsr_el3),
    def!(3 6 4 0 1 "ELR_EL3", Check(el3::check_el3), |c| c.el3.elr, |c, v| c.el3.elr = v),
    def!(3 6 4 1 0 "SP_EL2", Check(|c, w| el3::check_el3(c, w).and(if c.has_el2 { Ok(()) } else { Err(Deny::Undefined) })), |c| c.sp_of(2), |c, v| c.set_sp_of(2, v)),
    def!(3 6 5 1 0 "AFSR0_EL3", Check(el3::check_el3), |c| c.el3.afsr0, |c, v| c.el3.afsr0 = v),
    def!(3 6 5 1 1 "AFSR1_EL3", Check(el3::check_el3), |c| c.el3.afsr1, |c, v| c.el3.afsr1 = v),
    def!(3 6 5 2 0 "ESR_EL3", Check(el3::check_el3), |c| c.el3.esr, |c, v| c.el3.esr = v & 0xffff_ffff),
    def!(3 6 6 0 0 "FAR_EL3", Check(el3::check_el3), |c| c.el3.far, |c, v| c.el3.far = v),
    def!(3 6 10 2 0 "MAIR_EL3", Check(el3::check_el3), |c| c.mmu_regs.mair_el3, |c, v| {
        c.mmu_regs.mair_el3 = v;
        c.mmu_changed();
    }),
    def!(3 6 10 3 0 "AMAIR_EL3", Check(el3::check_el3), |c| c.mmu_regs.amair_el3, |c, v| c.mmu_regs.amair_el3 = v),
    def!(3 6 12 0 0 "VBAR_EL3", Check(el3::check_el3), |c| c.el3.vbar, |c, v| c.el3.vbar = v & !0x7ff),
    def!(3 6 12 0 1 "RVBAR_EL3", Check(el3::check_el3_ro), |c| c.el3.rvbar, wi),
    // As ICC_SRE_EL2: SRE, DFB, DIB, Enable read as one (the system registers are the only
    // way in).
    def!(3 6 12 12 5 "ICC_SRE_EL3", Check(|c, w| el3::check_el3(c, w).and(if c.gic.is_some() { Ok(()) } else { Err(Deny::Undefined) })), |_| 0xf, wi),
    def!(3 6 13 0 2 "TPIDR_EL3", Check(el3::check_el3), |c| c.el3.tpidr, |c, v| c.el3.tpidr = v),
    // ---- EL2 (only with `Aarch64Cpu::has_el2`; see `el2.rs`) ----
    def!(3 4 0 0 0 "VPIDR_EL2", Check(el2::check_el2), |c| c.el2.vpidr, |c, v| c.el2.vpidr = v & 0xffff_ffff),
    def!(3 4 0 0 5 "VMPIDR_EL2", Check(el2::check_el2), |c| c.el2.vmpidr, |c, v| {
        c.el2.vmpidr = MPIDR_RES1 | v & (MPIDR_AFF | 1 << 30 | 1 << 24);
    }),
    def!(3 4 1 0 0 "SCTLR_EL2", Check(el2::check_el2), |c| c.mmu_regs.sctlr_el2, el2::write_sctlr_el2),
    def!(3 4 1 0 1 "ACTLR_EL2", Check(el2::check_el2), |c| c.el2.actlr, |c, v| c.el2.actlr = v),
    def!(3 4 1 1 0 "HCR_EL2", Check(el2::check_el2), |c| c.el2.hcr, el2::write_hcr),
    def!(3 4 1 1 1 "MDCR_EL2", Check(el2::check_el2), |c| c.el2.mdcr, |c, v| c.el2.mdcr = v & 0x0fff_ffff),
    def!(3 4 1 1 2 "CPTR_EL2", Check(el2::check_el2), |c| c.el2.cptr, |c, v| {
        c.el2.cptr = v & el2::cptr::WRITABLE | el2::cptr::RES1;
    }),
    def!(3 4 1 1 3 "HSTR_EL2", Check(el2::check_el2), |c| c.el2.hstr, |c, v| c.el2.hstr = v & 0xbfff),
    def!(3 4 1 1 7 "HACR_EL2", Check(el2::check_el2), raz, wi),
    def!(3 4 2 0 0 "TTBR0_EL2", Check(el2::check_el2), |c| c.mmu_regs.ttbr0_el2, |c, v| {
        c.mmu_regs.ttbr0_el2 = v;
        c.mmu_changed();
    }),
    def!(3 4 2 0 2 "TCR_EL2", Check(el2::check_el2), |c| c.mmu_regs.tcr_el2, |c, v| {
        // Bits 31 and 23 are RES1.
        c.mmu_regs.tcr_el2 = v & 0x0017_ff3f | 1 << 31 | 1 << 23;
        c.mmu_changed();
    }),
    def!(3 4 2 1 0 "VTTBR_EL2", Check(el2::check_el2), |c| c.el2.vttbr, crate::stage2::write_vttbr),
    def!(3 4 2 1 2 "VTCR_EL2", Check(el2::check_el2), |c| c.el2.vtcr, crate::stage2::write_vtcr),
    def!(3 4 4 0 0 "SPSR_EL2", Check(el2::check_el2), |c| c.el2.spsr, el2::write_spsr_el2),
    def!(3 4 4 0 1 "ELR_EL2", Check(el2::check_el2), |c| c.el2.elr, |c, v| c.el2.elr = v),
    def!(3 4 4 1 0 "SP_EL1", Check(el2::check_el2), |c| c.sp_of(1), |c, v| c.set_sp_of(1, v)),
    def!(3 4 5 1 0 "AFSR0_EL2", Check(el2::check_el2), raz, wi),
    def!(3 4 5 1 1 "AFSR1_EL2", Check(el2::check_el2), raz, wi),
    def!(3 4 5 2 0 "ESR_EL2", Check(el2::check_el2), |c| c.el2.esr, |c, v| c.el2.esr = v & 0xffff_ffff),
    def!(3 4 6 0 0 "FAR_EL2", Check(el2::check_el2), |c| c.el2.far, |c, v| c.el2.far = v),
    def!(3 4 6 0 4 "HPFAR_EL2", Check(el2::check_el2), |c| c.el2.hpfar, |c, v| c.el2.hpfar = v & 0x0fff_fff0),
    def!(3 4 10 2 0 "MAIR_EL2", Check(el2::check_el2), |c| c.mmu_regs.mair_el2, |c, v| {
        c.mmu_regs.mair_el2 = v;
        c.mmu_changed();
    }),
    def!(3 4 10 3 0 "AMAIR_EL2", Check(el2::check_el2), |c| c.mmu_regs.amair_el2, |c, v| c.mmu_regs.amair_el2 = v),
    def!(3 4 12 0 0 "VBAR_EL2", Check(el2::check_el2), |c| c.el2.vbar, |c, v| c.el2.vbar = v & !0x7ff),
    def!(3 4 12 0 1 "RVBAR_EL2", Check(el2::check_el2_ro), raz, wi),
    def!(3 4 13 0 2 "TPIDR_EL2", Check(el2::check_el2), |c| c.el2.tpidr, |c, v| c.el2.tpidr = v),
    def!(3 4 14 0 3 "CNTVOFF_EL2", Check(el2::check_el2), |c| c.el2.cntvoff, |c, v| {
        c.el2.cntvoff = v;
        c.update_timers();
    }),
    def!(3 4 14 1 0 "CNTHCTL_EL2", Check(el2::check_el2), |c| c.el2.cnthctl, |c, v| {
        c.el2.cnthctl = v & el2::cnthctl::WRITABLE;
    }),
    def!(3 4 14 2 0 "CNTHP_TVAL_EL2", Check(el2::check_el2), |c| c.timer_tval(HYP), |c, v| c.set_timer_tval(HYP, v)),
    def!(3 4 14 2 1 "CNTHP_CTL_EL2", Check(el2::check_el2), |c| c.timer_ctl(HYP), |c, v| c.set_timer_ctl(HYP, v)),
    def!(3 4 14 2 2 "CNTHP_CVAL_EL2", Check(el2::check_el2), |c| c.sys.timers[HYP].cval, |c, v| {
        c.set_timer_cval(HYP, v)
    }),
    // The GICv3 system-register interface is always enabled (SRE, DFB, DIB RAO) and EL1 may
    // use it (Enable RAO).
    def!(3 4 12 9 5 "ICC_SRE_EL2", Check(|c, w| el2::check_el2(c, w).and(if c.gic.is_some() { Ok(()) } else { Err(Deny::Undefined) })), |_| 0xf, wi),
    // ---- GICv3 virtualization interface (EL2, with a GICv3: see `crate::ich`) ----
    def!(3 4 12 8 0 "ICH_AP0R0_EL2", Check(ich::check), |c| c.ich.ap0r, |c, v| ich::write_ap(c, false, v)),
    def!(3 4 12 9 0 "ICH_AP1R0_EL2", Check(ich::check), |c| c.ich.ap1r, |c, v| ich::write_ap(c, true, v)),
    def!(3 4 12 11 0 "ICH_HCR_EL2", Check(ich::check), |c| c.ich.hcr, ich::write_hcr),
    def!(3 4 12 11 1 "ICH_VTR_EL2", Check(ich::check_ro), |_| ich::VTR, wi),
    def!(3 4 12 11 2 "ICH_MISR_EL2", Check(ich::check_ro), |c| c.ich.misr(), wi),
    def!(3 4 12 11 3 "ICH_EISR_EL2", Check(ich::check_ro), |c| c.ich.eisr(), wi),
    def!(3 4 12 11 5 "ICH_ELRSR_EL2", Check(ich::check_ro), |c| c.ich.elrsr(), wi),
    def!(3 4 12 11 7 "ICH_VMCR_EL2", Check(ich::check), |c| c.ich.vmcr, ich::write_vmcr),
    def!(3 4 12 12 0 "ICH_LR0_EL2", Check(ich::check), |c| c.ich.lr[0], |c, v| ich::write_lr(c, 0, v)),
    def!(3 4 12 12 1 "ICH_LR1_EL2", Check(ich::check), |c| c.ich.lr[1], |c, v| ich::write_lr(c, 1, v)),
    def!(3 4 12 12 2 "ICH_LR2_EL2", Check(ich::check), |c| c.ich.lr[2], |c, v| ich::write_lr(c, 2, v)),
    def!(3 4 12 12 3 "ICH_LR3_EL2", Check(ich::check), |c| c.ich.lr[3], |c, v| ich::write_lr(c, 3, v)),
    // The register ranges that are not named one by one (keys outside the 16-bit space, so
    // only `lookup` finds them): the last two rows.
    Def { key: 0x1_0000, name: "ID register (RAZ)", access: Ro, read: raz, write: wi },
    Def { key: 0x1_0001, name: "DBGB/W{V,C}R<n>_EL1 (RAZ/WI)", access: Rw, read: raz, write: wi },
];

const ID_RAZ: usize = DEFS.len() - 2;
const DBG_RAZ_WI: usize = DEFS.len() - 1;

fn dczid(cpu: &Aarch64Cpu) -> u64 {
    let prohibited = cpu.el == 0 && cpu.mmu_regs.sctlr_el1 & sctlr::DZE == 0;
    DCZID_BS | u64::from(prohibited) << 4
}

fn nzcv(c: &Aarch64Cpu) -> u64 {
    u64::from(c.nzcv()) << 28
}

/// The index in [`DEFS`] of the row for an encoding, if any. The interpreter asks this on every
/// MRS/MSR it runs, so the answer comes from a table of all 2^16 keys built on first use.
pub fn lookup(key: u32) -> Option<usize> {
    static INDEX: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let index = INDEX.get_or_init(|| (0..1u32 << 16).map(|k| search(k).map_or(NONE, |i| i as u8)).collect());
    match index.get(key as usize) {
        Some(&i) if i != NONE => Some(usize::from(i)),
        _ => None,
    }
}

/// The register-file index of the system register `k` when MRS and MSR of it under
/// `block_flags` (their EL and PSTATE.SP) are plain register moves: no access check can fail,
/// nothing traps (EL2's trap controls cover neither thread pointer nor SP_EL0) and no EL2
/// redirection applies (the helper keeps EL2 and EL3 for the thread pointers, where E2H and
/// the EL3 controls come in; SP_EL0 is never redirected).
pub fn in_register_file(k: u32, block_flags: u32) -> Option<usize> {
    let el = block_flags & crate::cpu::flags::EL_MASK;
    match (k, el) {
        (TPIDR_EL0_KEY, 0 | 1) => Some(TPIDR_EL0),
        (TPIDR_EL1_KEY, 1) => Some(TPIDR_EL1),
        // Reachable from EL1 up while SP_ELx is the current SP (`check_sp_el0`), and then
        // not the current SP itself.
        (SP_EL0_KEY, 1..) if block_flags & crate::cpu::flags::SPSEL != 0 => Some(crate::cpu::SP_EL0),
        _ => None,
    }
}

/// The value MRS of `k` reads under `block_flags` when it is the same whatever the CPU's
/// state: the cache geometry registers above EL0 (at EL0 SCTLR_EL1 gates or changes them), read
/// before every cache-maintenance and DC ZVA loop. What the `DEFS` rows answer there; a test
/// holds the two together.
pub fn constant_read(k: u32, block_flags: u32) -> Option<u64> {
    if block_flags & crate::cpu::flags::EL_MASK == 0 {
        return None;
    }
    match k {
        CTR_EL0_KEY => Some(CTR),
        DCZID_EL0_KEY => Some(DCZID_BS),
        _ => None,
    }
}

const CTR_EL0_KEY: u32 = key(3, 3, 0, 0, 1);
const DCZID_EL0_KEY: u32 = key(3, 3, 0, 0, 7);
const TPIDR_EL0_KEY: u32 = key(3, 3, 13, 0, 2);
const TPIDR_EL1_KEY: u32 = key(3, 0, 13, 0, 4);
const SP_EL0_KEY: u32 = key(3, 0, 4, 1, 0);

/// Whether an MSR to this encoding changes only state that is read at run time (thread
/// pointers, exception-return state, flags, FP controls): no block flag, translation control,
/// interrupt mask or timer. Such writes do not end the block, and compiled code chains on after
/// them; the context switch and exception return paths write these all the time.
pub fn write_is_local(k: u32) -> bool {
    const LOCAL: [u32; 19] = [
        key(3, 3, 13, 0, 2), // TPIDR_EL0
        key(3, 3, 13, 0, 3), // TPIDRRO_EL0
        key(3, 0, 13, 0, 4), // TPIDR_EL1
        key(3, 0, 13, 0, 1), // CONTEXTIDR_EL1
        key(3, 0, 4, 1, 0),  // SP_EL0
        key(3, 3, 4, 2, 0),  // NZCV
        key(3, 3, 4, 4, 0),  // FPCR
        key(3, 3, 4, 4, 1),  // FPSR
        key(3, 0, 4, 0, 0),  // SPSR_EL1
        key(3, 0, 4, 0, 1),  // ELR_EL1
        key(3, 0, 5, 2, 0),  // ESR_EL1
        key(3, 0, 6, 0, 0),  // FAR_EL1
        key(3, 2, 0, 0, 0),  // CSSELR_EL1
        key(3, 4, 13, 0, 2), // TPIDR_EL2
        key(3, 4, 4, 0, 0),  // SPSR_EL2
        key(3, 4, 4, 0, 1),  // ELR_EL2
        key(3, 4, 5, 2, 0),  // ESR_EL2
        key(3, 4, 6, 0, 0),  // FAR_EL2
        key(3, 4, 4, 1, 0),  // SP_EL1
    ];
    LOCAL.contains(&k)
}

/// "No row" in the lookup table.
const NONE: u8 = u8::MAX;
const _: () = assert!(DEFS.len() < NONE as usize);

fn search(key: u32) -> Option<usize> {
    if let Some(i) = DEFS.iter().position(|d| d.key == key) {
        return Some(i);
    }
    match fields(key) {
        // The AArch64 and AArch32 ID register space: unnamed ones read as zero.
        (3, 0, 0, 1..=7, _) => Some(ID_RAZ),
        // DBGBVR, DBGBCR, DBGWVR, DBGWCR <n>.
        (2, 0, 0, _, 4..=7) => Some(DBG_RAZ_WI),
        _ => None,
    }
}

/// The name of the system register an encoding selects, or its generic
/// `S<op0>_<op1>_C<n>_C<m>_<op2>` form.
pub fn name(key: u32) -> String {
    match lookup(key) {
        Some(i) if i < ID_RAZ => DEFS[i].name.to_string(),
        _ => {
            let (op0, op1, crn, crm, op2) = fields(key);
            format!("S{op0}_{op1}_C{crn}_C{crm}_{op2}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique() {
        for (i, a) in DEFS.iter().enumerate() {
            for b in &DEFS[i + 1..] {
                assert_ne!(a.key, b.key, "{} and {}", a.name, b.name);
            }
        }
    }

    #[test]
    fn every_icc_row_names_the_register_its_encoding_decodes_to() {
        // The EL1 rows forward to the GIC; ICC_SRE_EL2 is the CPU's own.
        let el1 = |d: &&Def| d.name.starts_with("ICC_") && d.name.ends_with("_EL1");
        for d in DEFS.iter().filter(el1) {
            let (op0, op1, crn, crm, op2) = fields(d.key);
            let f = |v: u32| v as u8;
            let reg = IccReg::from_encoding(f(op0), f(op1), f(crn), f(crm), f(op2));
            let Some(reg) = reg else { panic!("{} is not a GIC encoding", d.name) };
            let want = format!("ICC_{}_EL1", format!("{reg:?}").to_uppercase().replace(['(', ')'], ""));
            assert_eq!(d.name, want);
        }
        assert_eq!(DEFS.iter().filter(el1).count(), 26);
    }

    #[test]
    fn constant_reads_are_what_the_rows_read_above_el0_whatever_sctlr_says() {
        for model in [CpuModel::CortexA57, CpuModel::Max] {
            let mut cpu = Aarch64Cpu::new(crate::cpu::CpuConfig {
                model,
                features: model.features(),
                ..crate::cpu::CpuConfig::test()
            });
            for (el, sctlr) in [(1, 0), (1, u64::MAX), (0, u64::MAX)] {
                cpu.el = el;
                cpu.mmu_regs.sctlr_el1 = sctlr;
                let flags = u32::from(el);
                for k in [CTR_EL0_KEY, DCZID_EL0_KEY] {
                    let row = &DEFS[lookup(k).expect("a row")];
                    if let Some(c) = constant_read(k, flags) {
                        assert_eq!(c, (row.read)(&cpu), "{} at EL{el}", row.name);
                    }
                }
            }
            assert_eq!(constant_read(DCZID_EL0_KEY, 0), None, "EL0 reads DZP from SCTLR_EL1");
        }
    }

    #[test]
    fn key_fields_round_trip() {
        assert_eq!(fields(key(3, 4, 14, 0, 3)), (3, 4, 14, 0, 3));
        assert_eq!(name(key(3, 0, 1, 0, 0)), "SCTLR_EL1");
        assert_eq!(name(key(3, 0, 0, 4, 4)), "S3_0_C0_C4_4");
    }
}
