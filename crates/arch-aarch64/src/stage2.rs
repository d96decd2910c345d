//! Stage 2 of the EL1&0 translation regime (Arm ARM DDI 0487, D8: "stage 2 translation"): with
//! HCR_EL2.VM set (and TGE clear), the intermediate physical addresses (IPAs) that stage 1
//! produces, and the addresses of stage 1's own descriptors, are translated again through
//! VTTBR_EL2 under the controls of VTCR_EL2.
//!
//! ```text
//!   VA ─▶ stage 1 (TTBR0/1_EL1) ─▶ IPA ─▶ stage 2 (VTTBR_EL2) ─▶ PA
//!              │ every descriptor address is an IPA too (a fault there is an S1PTW fault)
//!   fault at stage 1 ─▶ EL1 (or EL2 under TGE), as without EL2
//!   fault at stage 2 ─▶ EL2: ESR_EL2 (EC 0x20/0x24, S1PTW, WnR, ISV+SAS/SSE/SRT/SF/AR for a
//!                       single-register load or store), FAR_EL2 = VA, HPFAR_EL2.FIPA = IPA[47:12]
//! ```
//!
//! What is implemented: 4K/16K/64K granules, the start level from VTCR_EL2.SL0 checked against
//! T0SZ (up to 16 concatenated tables at the start level), S2AP read/write, XN (bit 54), the
//! access flag (no hardware update), output addresses checked against VTCR_EL2.PS capped by
//! the CPU's 40 bits, and MemAttr only as far as Device memory (which faults misaligned
//! accesses) goes.
//!
//! The TLB caches the combined VA → PA translation under the EL1&0 MMU indices, with the
//! intersection of both stages' permissions. It holds entries of one VMID only: a write of
//! VTTBR_EL2 or VTCR_EL2 that changes it, and a change of HCR_EL2.{VM, TGE}, flush it (rather
//! than tagging entries with the VMID). The entries are not indexed by IPA, so TLBI IPAS2E1*
//! (and every other stage-2 invalidation) drops all of them.

use crate::cpu::Aarch64Cpu;
use crate::el2::hcr;
use crate::mmu::{fsc, Access, Walk, PA_BITS};
use mimic_core::Size;
use mimic_memory::AddressSpace;
use mimic_softmmu::Prot;

/// Bits 47:0: the output-address field of descriptors and of VTTBR_EL2.
const OA_MASK: u64 = (1 << 48) - 1;

/// VTCR_EL2 fields.
pub mod vtcr {
    pub const SL0_SHIFT: u32 = 6;
    pub const TG0_SHIFT: u32 = 14;
    pub const PS_SHIFT: u32 = 16;
}

/// Stage-2 descriptor bits.
pub mod s2desc {
    pub const VALID: u64 = 1 << 0;
    pub const TABLE: u64 = 1 << 1;
    /// MemAttr[3:2] = 0b00: Device memory.
    pub const MEMATTR_SHIFT: u32 = 2;
    /// S2AP[0]: reads allowed.
    pub const S2AP_R: u64 = 1 << 6;
    /// S2AP[1]: writes allowed.
    pub const S2AP_W: u64 = 1 << 7;
    pub const AF: u64 = 1 << 10;
    pub const XN: u64 = 1 << 54;
}

/// A successful stage-2 translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct S2Walk {
    pub pa: u64,
    /// Bytes the leaf maps.
    pub size: u64,
    pub level: u8,
    pub prot: Prot,
    /// MemAttr[3:2] = 0b00: Device memory whatever stage 1 says.
    pub device: bool,
}

/// A fault at stage 2: what ESR_EL2 and HPFAR_EL2 report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct S2Fault {
    pub ipa: u64,
    /// The DFSC/IFSC (level included).
    pub fsc: u8,
    /// On a stage-1 descriptor fetch rather than on the access itself.
    pub s1ptw: bool,
}

/// The IPA `ipa`'s stage-2 translation under VTCR_EL2 `vtcr` and VTTBR_EL2 `vttbr`, with
/// descriptors read from RAM, ROM and ROM devices in `bus` ([`AddressSpace::peek`]). Returns the
/// fault status code of a failed walk. Permissions are the caller's to check.
pub fn walk(vtcr: u64, vttbr: u64, bus: &AddressSpace, ipa: u64) -> Result<S2Walk, u8> {
    let grain: u32 = match vtcr >> vtcr::TG0_SHIFT & 3 {
        1 => 16,
        2 => 14,
        _ => 12,
    };
    let stride = grain - 3;
    let sl0 = (vtcr >> vtcr::SL0_SHIFT & 3) as u32;
    // SL0 counts levels down from the granule's lowest start level; 0b11 is reserved.
    let start: u32 = match (grain, sl0) {
        (12, 0) => 2,
        (12, 1) => 1,
        (12, 2) => 0,
        (14 | 16, 0) => 3,
        (14 | 16, 1) => 2,
        (14, 2) => 1,
        (16, 2) => 1,
        _ => return Err(fsc::TRANSLATION),
    };
    let inputsize = 64 - (vtcr & 63).clamp(16, 39) as u32;
    // The start level resolves between 1 and stride + 4 bits (16 concatenated tables at most),
    // and the IPA space cannot exceed the physical address space.
    let lsb0 = grain + (3 - start) * stride;
    if inputsize > PA_BITS || inputsize <= lsb0 || inputsize - lsb0 > stride + 4 || (grain == 16 && start == 1) {
        return Err(fsc::TRANSLATION);
    }
    if ipa >> inputsize != 0 {
        return Err(fsc::TRANSLATION);
    }
    let obits = match vtcr >> vtcr::PS_SHIFT & 7 {
        0 => 32,
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        _ => 48,
    }
    .min(PA_BITS);
    let too_big = |a: u64| (a & OA_MASK) >> obits != 0;
    if too_big(vttbr) {
        return Err(fsc::ADDRESS_SIZE);
    }
    // The (concatenated) start table is aligned to its size; VMID and CnP are ignored here.
    let width0 = inputsize - lsb0;
    let mut table = vttbr & OA_MASK & !((1u64 << (width0 + 3)) - 1);
    let mut level = start;
    loop {
        let lsb = grain + (3 - level) * stride;
        let width = if level == start { width0 } else { stride };
        let index = ipa >> lsb & ((1u64 << width) - 1);
        let lvl = level as u8;
        let Some(d) = bus.peek(table + index * 8, Size::B8) else {
            return Err(fsc::EXTERNAL_WALK + lvl);
        };
        if d & s2desc::VALID == 0 {
            return Err(fsc::TRANSLATION + lvl);
        }
        if d & s2desc::TABLE != 0 && level < 3 {
            let next = d & OA_MASK & !((1u64 << grain) - 1);
            if too_big(next) {
                return Err(fsc::ADDRESS_SIZE + lvl);
            }
            table = next;
            level += 1;
            continue;
        }
        let block_ok = matches!((grain, level), (12, 1) | (12, 2) | (14, 2) | (16, 2));
        if (level == 3 && d & s2desc::TABLE == 0) || (level < 3 && !block_ok) {
            return Err(fsc::TRANSLATION + lvl);
        }
        let base = d & OA_MASK & !((1u64 << lsb) - 1);
        if too_big(base) {
            return Err(fsc::ADDRESS_SIZE + lvl);
        }
        if d & s2desc::AF == 0 {
            return Err(fsc::ACCESS_FLAG + lvl);
        }
        return Ok(S2Walk {
            pa: base | (ipa & ((1u64 << lsb) - 1)),
            size: 1u64 << lsb,
            level: lvl,
            prot: Prot { read: d & s2desc::S2AP_R != 0, write: d & s2desc::S2AP_W != 0, exec: d & s2desc::XN == 0 },
            device: d >> (s2desc::MEMATTR_SHIFT + 2) & 3 == 0,
        });
    }
}

/// Why a translation of the EL1&0 regime failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abort {
    /// At stage 1: the DFSC/IFSC, reported to EL1 as without stage 2.
    Stage1(u8),
    /// At stage 2: reported to EL2.
    Stage2(S2Fault),
}

/// What a combined walk keeps of its stage-2 leaf: the permission check needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct S2Leaf {
    /// The IPA stage 1 produced.
    pub ipa: u64,
    pub level: u8,
    pub prot: Prot,
}

impl Walk {
    /// The stage-2 permission fault `access` meets here, if stage 2 translated this walk and
    /// its S2AP/XN forbid the access.
    pub fn stage2_denies(&self, access: Access) -> Option<S2Fault> {
        let s2 = self.s2?;
        let ok = match access {
            Access::Read => s2.prot.read,
            Access::Write => s2.prot.write,
            Access::Exec => s2.prot.exec,
        };
        (!ok).then_some(S2Fault { ipa: s2.ipa, fsc: fsc::PERMISSION + s2.level, s1ptw: false })
    }

    /// What the TLB may let MMU index `idx` do on this page: both stages' permissions.
    pub fn tlb_prot(&self, idx: usize) -> Prot {
        let p = self.prot[idx];
        match self.s2 {
            None => p,
            Some(s) => {
                Prot { read: p.read && s.prot.read, write: p.write && s.prot.write, exec: p.exec && s.prot.exec }
            }
        }
    }
}

impl S2Walk {
    pub fn allows(&self, access: Access) -> bool {
        match access {
            Access::Read => self.prot.read,
            Access::Write => self.prot.write,
            Access::Exec => self.prot.exec,
        }
    }
}

impl Aarch64Cpu {
    /// Whether stage 2 translates the EL1&0 regime now: HCR_EL2.VM, unless TGE makes the CPU
    /// behave as if VM were clear.
    #[inline]
    pub fn stage2_enabled(&self) -> bool {
        self.hcr() & (hcr::VM | hcr::TGE) == hcr::VM
    }

    /// The stage-2 translation of `ipa`, a fault reported as what EL2 is told.
    pub fn stage2_walk(&self, bus: &AddressSpace, ipa: u64, s1ptw: bool) -> Result<S2Walk, S2Fault> {
        walk(self.el2.vtcr, self.el2.vttbr, bus, ipa).map_err(|fsc| S2Fault { ipa, fsc, s1ptw })
    }

    /// The EL1&0 walk of `va` under stage 2: stage 1 with every descriptor address translated
    /// (a stage-2 fault or missing read permission there is an S1PTW fault), then, when `both`,
    /// its output too. Without `both` the result is stage 1's, with the IPA as `pa` (AT S1E1*).
    pub fn walk_stage12(&self, bus: &AddressSpace, va: u64, both: bool) -> Result<Walk, Abort> {
        let mut ptw_fault = None;
        let s1 = crate::mmu::walk_via(&self.mmu_regs, va, |ipa| {
            let r = self.stage2_walk(bus, ipa, true).and_then(|t| {
                if t.allows(Access::Read) {
                    Ok(t)
                } else {
                    Err(S2Fault { ipa, fsc: fsc::PERMISSION + t.level, s1ptw: true })
                }
            });
            match r {
                Ok(t) => bus.peek(t.pa, Size::B8),
                Err(f) => {
                    ptw_fault = Some(f);
                    None
                }
            }
        });
        if let Some(f) = ptw_fault {
            return Err(Abort::Stage2(f));
        }
        let mut w = s1.map_err(Abort::Stage1)?;
        if !both {
            return Ok(w);
        }
        let t = self.stage2_walk(bus, w.pa, false).map_err(Abort::Stage2)?;
        w.s2 = Some(S2Leaf { ipa: w.pa, level: t.level, prot: t.prot });
        w.pa = t.pa;
        w.size = w.size.min(t.size);
        if t.device {
            // Device at stage 2 wins over Normal at stage 1 (nGnRnE: the strictest).
            w.attr = 0;
        }
        Ok(w)
    }

    /// Record a stage-2 fault for the exception the caller raises next: it goes to EL2, and
    /// [`Aarch64Cpu::take_sync`] adds S1PTW, HPFAR_EL2 and the ISV syndrome.
    pub(crate) fn note_stage2_fault(&mut self, f: S2Fault) {
        self.stage2_fault = Some(f);
        self.pending_to_el2 = true;
    }

    /// Finish ESR_EL2 and HPFAR_EL2 for the stage-2 fault of the exception being taken to EL2
    /// from the instruction at `pc`.
    pub(crate) fn report_stage2_fault(&mut self, f: S2Fault, data: bool, pc: u64) {
        if f.s1ptw {
            self.el2.esr |= 1 << 7;
        }
        self.el2.hpfar = (f.ipa & OA_MASK) >> 12 << 4;
        // The instruction's encoding is only reachable with the bus: the next fetch reads it
        // (before EL2 can read ESR_EL2) and adds the syndrome if it is a plain load or store.
        if data && !f.s1ptw {
            let idx = crate::mmu::fetch_mmu_of(self.el);
            self.isv_fixup = self.tlb.lookup_code(idx, pc);
        }
    }

    /// Add the instruction syndrome (ISV and the fields it validates) to ESR_EL2 for the
    /// instruction whose word is at backing-store offset `off` (see `report_stage2_fault`).
    pub(crate) fn apply_isv_fixup(&mut self, bus: &AddressSpace) {
        let Some(off) = self.isv_fixup.take() else { return };
        let Some(b) = bus.store().get(off..off + 4) else { return };
        let word = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if let Some(iss) = instruction_syndrome(word) {
            self.el2.esr |= u64::from(iss);
        }
    }
}

/// VTTBR_EL2: a new VMID or table makes every combined entry stale (the TLB is not tagged
/// by VMID).
pub fn write_vttbr(c: &mut Aarch64Cpu, v: u64) {
    if c.el2.vttbr != v {
        c.el2.vttbr = v;
        c.tlb_flush_all();
    }
}

/// VTCR_EL2: T0SZ, SL0, IRGN0, ORGN0, SH0, TG0, PS (bit 31 is RES1).
pub fn write_vtcr(c: &mut Aarch64Cpu, v: u64) {
    let v = v & 0x0007_ffff | crate::el2::VTCR_RES1;
    if c.el2.vtcr != v {
        c.el2.vtcr = v;
        c.tlb_flush_all();
    }
}

/// ESR ISS bits 24:14 (ISV, SAS, SSE, SRT, SF, AR) for a data abort on `word`, when it is an
/// AArch64 load or store of a single general-purpose register without writeback (the
/// instructions for which the architecture reports a valid syndrome at stage 2), else `None`.
pub fn instruction_syndrome(word: u32) -> Option<u32> {
    let bits = |hi: u32, lo: u32| word >> lo & ((1 << (hi - lo + 1)) - 1);
    let size = bits(31, 30);
    let rt = bits(4, 0);
    let (opc, ar) = if bits(29, 27) == 0b111 && bits(26, 26) == 0 {
        // Load/store register: unsigned offset (25:24 = 01), or 25:24 = 00 with unscaled
        // (bit 21 = 0, 11:10 = 00), unprivileged (00, 10) or register offset (1, 10).
        let form_ok = match bits(25, 24) {
            0b01 => true,
            0b00 => matches!((bits(21, 21), bits(11, 10)), (0, 0b00) | (0, 0b10) | (1, 0b10)),
            _ => false,
        };
        if !form_ok {
            return None;
        }
        (bits(23, 22), false)
    } else if bits(29, 23) == 0b001_0001 && bits(21, 21) == 0 && bits(15, 15) == 1 {
        // LDAR/STLR (o2 = 1, o1 = 0, o0 = 1): ordered, no exclusives.
        (bits(22, 22), true)
    } else {
        return None;
    };
    // opc: 00 store, 01 load, 10 signed load to X, 11 signed load to W (PRFM and the
    // unallocated size/opc pairs never get here with a fault to report).
    let (sse, sf) = match opc {
        0b00 | 0b01 => (false, size == 3),
        0b10 if size < 3 => (true, true),
        0b11 if size < 2 => (true, false),
        _ => return None,
    };
    Some(1 << 24 | size << 22 | u32::from(sse) << 21 | rt << 16 | u32::from(sf) << 15 | u32::from(ar) << 14)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldr_x_unsigned_offset_reports_size_register_and_sf() {
        // ldr x3, [x1, #8]
        let iss = instruction_syndrome(0xf940_0423).unwrap();
        assert_eq!(iss, 1 << 24 | 3 << 22 | 3 << 16 | 1 << 15);
    }

    #[test]
    fn strb_w_reports_byte_size_without_sf() {
        // strb w5, [x2]
        assert_eq!(instruction_syndrome(0x3900_0045), Some(1 << 24 | 5 << 16));
    }

    #[test]
    fn ldrsw_sign_extends_into_an_x_register() {
        // ldrsw x7, [x0]
        assert_eq!(instruction_syndrome(0xb980_0007), Some(1 << 24 | 2 << 22 | 1 << 21 | 7 << 16 | 1 << 15));
    }

    #[test]
    fn ldar_w_is_acquire_release() {
        // ldar w2, [x4]
        assert_eq!(instruction_syndrome(0x88df_fc82), Some(1 << 24 | 2 << 22 | 2 << 16 | 1 << 14));
    }

    #[test]
    fn writeback_pairs_and_exclusives_have_no_syndrome() {
        assert_eq!(instruction_syndrome(0xf840_8c23), None, "ldr x3, [x1, #8]! (pre-index)");
        assert_eq!(instruction_syndrome(0xa940_0c22), None, "ldp x2, x3, [x1]");
        assert_eq!(instruction_syndrome(0xc85f_7c22), None, "ldxr x2, [x1]");
        assert_eq!(instruction_syndrome(0xfd40_0020), None, "ldr d0, [x1] (SIMD&FP)");
    }
}
