//! Helpers: plain functions every execution tier calls for instructions too rare to express as
//! `Sem` operations. Each takes the environment and three operands and returns a value or `Exit`
//! (exception recorded).

use crate::cpu::{Aarch64Cpu, Conduit, Fault, Monitor};
use crate::el2;
use crate::sysreg::{self, sctlr, Deny};
use mimic_core::{MemOp, Size};
use mimic_exec::Env;
use mimic_ir::Exit;

/// An unallocated encoding, or one this CPU does not implement: the "unknown reason" exception.
pub fn undefined(e: &mut Env<'_, Aarch64Cpu>, raw: u64, _: u64, _: u64) -> Result<u64, Exit> {
    e.cpu.exception(Fault::Undefined { raw: raw as u32 })
}

/// SVC/HVC/SMC/BRK (`kind` 0..=3 in that order) with their immediate; `raw` is the word.
/// HVC and SMC are firmware calls when they match the board's [`Conduit`] (at EL1 or EL2):
/// the CPU stops with `fw_call` set and the pc past the instruction. Otherwise HVC goes to EL2
/// when EL2 exists (unless HCR_EL2.HCD, or SCR_EL3.HCE clear with EL3) and to EL3 at EL3, and
/// SMC at EL1 traps to EL2 under HCR_EL2.TSC, else goes to EL3 unless SCR_EL3.SMD; with no
/// EL to take them they are UNDEFINED.
pub fn exception_call(e: &mut Env<'_, Aarch64Cpu>, kind: u64, imm: u64, raw: u64) -> Result<u64, Exit> {
    let imm = imm as u16;
    let undefined = Fault::Undefined { raw: raw as u32 };
    let call = match kind {
        0 => return e.cpu.exception(Fault::Svc { imm }),
        1 => Conduit::Hvc,
        2 => Conduit::Smc,
        _ => return e.cpu.exception(Fault::Breakpoint { imm }),
    };
    if e.cpu.el == 0 {
        return e.cpu.exception(undefined);
    }
    let hcr = e.cpu.hcr();
    if call == Conduit::Smc && e.cpu.el == 1 && hcr & el2::hcr::TSC != 0 {
        return e.cpu.trap_to_el2(Fault::Smc { imm });
    }
    if e.cpu.conduit == call {
        e.cpu.fw_call = true;
        e.cpu.halted = true;
        return Ok(0);
    }
    if call == Conduit::Hvc && e.cpu.has_el3 {
        // HCR_EL2.HCD is RES0 with EL3: SCR_EL3.HCE decides (see `el3.rs`).
        if e.cpu.hvc_enabled_by_el3() {
            return e.cpu.exception(Fault::Hvc { imm });
        }
        return e.cpu.exception(undefined);
    }
    if call == Conduit::Hvc && e.cpu.has_el2 && hcr & el2::hcr::HCD == 0 {
        return e.cpu.exception(Fault::Hvc { imm });
    }
    if call == Conduit::Smc && e.cpu.has_el3 && !e.cpu.smc_disabled() {
        return e.cpu.exception(Fault::Smc { imm });
    }
    e.cpu.exception(undefined)
}

/// WFI: wait for an interrupt. A pending interrupt, even a masked one, makes it complete at
/// once; otherwise the CPU halts until `check_interrupts` sees one. At EL0 it traps to EL1
/// unless SCTLR_EL1.nTWI is set; at EL0/EL1 it traps to EL2 under HCR_EL2.TWI when it would
/// wait, and below EL3 to EL3 under SCR_EL3.TWI.
pub fn wfi(e: &mut Env<'_, Aarch64Cpu>, _: u64, _: u64, _: u64) -> Result<u64, Exit> {
    if e.cpu.el == 0 && e.cpu.mmu_regs.sctlr_el1 & sctlr::NTWI == 0 {
        return e.cpu.exception(Fault::WfxTrap { wfe: false });
    }
    if e.cpu.wake_pending() {
        return Ok(0);
    }
    if e.cpu.el <= 1 && e.cpu.hcr() & el2::hcr::TWI != 0 {
        return e.cpu.trap_to_el2(Fault::WfxTrap { wfe: false });
    }
    if e.cpu.wfx_trapped_to_el3(false) {
        return e.cpu.trap_to_el3(Fault::WfxTrap { wfe: false });
    }
    e.cpu.halted = true;
    Ok(0)
}

/// WFE: events are not modelled, so it completes at once (a spin loop around it still waits
/// for the value it polls). At EL0 it traps to EL1 unless SCTLR_EL1.nTWE is set; at EL0/EL1
/// to EL2 under HCR_EL2.TWE, and below EL3 to EL3 under SCR_EL3.TWE.
pub fn wfe(e: &mut Env<'_, Aarch64Cpu>, _: u64, _: u64, _: u64) -> Result<u64, Exit> {
    if e.cpu.el == 0 && e.cpu.mmu_regs.sctlr_el1 & sctlr::NTWE == 0 {
        return e.cpu.exception(Fault::WfxTrap { wfe: true });
    }
    if e.cpu.el <= 1 && e.cpu.hcr() & el2::hcr::TWE != 0 {
        return e.cpu.trap_to_el2(Fault::WfxTrap { wfe: true });
    }
    if e.cpu.wfx_trapped_to_el3(true) {
        return e.cpu.trap_to_el3(Fault::WfxTrap { wfe: true });
    }
    Ok(0)
}

/// An instruction executed with PSTATE.IL set.
pub fn illegal_state(e: &mut Env<'_, Aarch64Cpu>, _: u64, _: u64, _: u64) -> Result<u64, Exit> {
    e.cpu.exception(Fault::IllegalState)
}

/// ERET: UNDEFINED at EL0; otherwise returns the new pc.
pub fn eret(e: &mut Env<'_, Aarch64Cpu>, raw: u64, _: u64, _: u64) -> Result<u64, Exit> {
    if e.cpu.el == 0 {
        return e.cpu.exception(Fault::Undefined { raw: raw as u32 });
    }
    Ok(e.cpu.exception_return())
}

// ---- system registers and system instructions ----------------------------------------------------

/// The operand the MRS/MSR helpers get: the `sysreg::DEFS` row, the encoding key and Rt.
pub fn pack_sysreg(row: usize, key: u32, rt: u32) -> u64 {
    row as u64 | u64::from(key) << 16 | u64::from(rt) << 32
}

fn unpack_sysreg(p: u64) -> (usize, u32, u32) {
    ((p & 0xffff) as usize, (p >> 16 & 0xffff) as u32, (p >> 32 & 31) as u32)
}

/// ESR ISS of a trapped MSR/MRS/system instruction (EC 0x18).
fn sys_trap_iss(key: u32, rt: u32, read: bool) -> u32 {
    let (op0, op1, crn, crm, op2) = sysreg::fields(key);
    op0 << 20 | op2 << 17 | op1 << 14 | crn << 10 | rt << 5 | crm << 1 | u32::from(read)
}

fn deny<T>(e: &mut Env<'_, Aarch64Cpu>, why: Deny, key: u32, rt: u32, read: bool, raw: u64) -> Result<T, Exit> {
    e.cpu.exception(match why {
        Deny::Undefined => Fault::Undefined { raw: raw as u32 },
        Deny::Trap => Fault::SysTrap { iss: sys_trap_iss(key, rt, read) },
        Deny::Fp => Fault::FpAccess,
    })
}

/// MRS: `packed` from [`pack_sysreg`]; returns the value for Rt.
pub fn mrs(e: &mut Env<'_, Aarch64Cpu>, packed: u64, raw: u64, _: u64) -> Result<u64, Exit> {
    let (row, key, rt) = unpack_sysreg(packed);
    let d = &sysreg::DEFS[row];
    if let Err(why) = d.check(e.cpu, false) {
        return deny(e, why, key, rt, true, raw);
    }
    if el2::traps(e.cpu, key, false) {
        return e.cpu.trap_to_el2(Fault::SysTrap { iss: sys_trap_iss(key, rt, true) });
    }
    if let Some(v) = virtual_icc(e, key, rt, None)? {
        return Ok(v);
    }
    Ok((d.read)(e.cpu))
}

/// MSR (register): write `val` to the register `packed` selects.
pub fn msr(e: &mut Env<'_, Aarch64Cpu>, val: u64, packed: u64, raw: u64) -> Result<u64, Exit> {
    let (row, key, rt) = unpack_sysreg(packed);
    let d = &sysreg::DEFS[row];
    if let Err(why) = d.check(e.cpu, true) {
        return deny(e, why, key, rt, false, raw);
    }
    if el2::traps(e.cpu, key, true) {
        return e.cpu.trap_to_el2(Fault::SysTrap { iss: sys_trap_iss(key, rt, false) });
    }
    if virtual_icc(e, key, rt, Some(val))?.is_some() {
        return Ok(0);
    }
    (d.write)(e.cpu, val);
    Ok(0)
}

/// An EL1 ICC_* access that HCR_EL2.IMO/FMO sends to the virtual CPU interface: `Some` with
/// what it read once answered there, `None` when it goes to the physical GIC.
fn virtual_icc(e: &mut Env<'_, Aarch64Cpu>, key: u32, rt: u32, write: Option<u64>) -> Result<Option<u64>, Exit> {
    use el2::hcr;
    let cpu = &mut *e.cpu;
    if cpu.el != 1 || !cpu.has_el2 || cpu.el2.hcr & (hcr::IMO | hcr::FMO) == 0 {
        return Ok(None);
    }
    let (op0, op1, crn, crm, op2) = sysreg::fields(key);
    let Some(reg) = mimic_core::IccReg::from_encoding(op0 as u8, op1 as u8, crn as u8, crm as u8, op2 as u8) else {
        return Ok(None);
    };
    match cpu.icc_route(reg, write) {
        crate::ich::Route::Physical => Ok(None),
        crate::ich::Route::Virtual(v) => Ok(Some(v)),
        crate::ich::Route::Trap => cpu.trap_to_el2(Fault::SysTrap { iss: sys_trap_iss(key, rt, write.is_none()) }),
    }
}

/// MRS of an encoding this CPU does not have: logged, then UNDEFINED.
pub fn unknown_sysreg_read(e: &mut Env<'_, Aarch64Cpu>, key: u64, raw: u64, _: u64) -> Result<u64, Exit> {
    mimic_core::guest_error!("a64: mrs of unimplemented {} (EL{})", sysreg::name(key as u32), e.cpu.el);
    e.cpu.exception(Fault::Undefined { raw: raw as u32 })
}

/// MSR or SYS of an encoding this CPU does not have: logged, then UNDEFINED.
pub fn unknown_sysreg_write(e: &mut Env<'_, Aarch64Cpu>, key: u64, raw: u64, _: u64) -> Result<u64, Exit> {
    mimic_core::guest_error!("a64: msr/sys of unimplemented {} (EL{})", sysreg::name(key as u32), e.cpu.el);
    e.cpu.exception(Fault::Undefined { raw: raw as u32 })
}

/// MSR (immediate): `op` packs op1 << 8 | CRm << 4 | op2.
pub fn msr_imm(e: &mut Env<'_, Aarch64Cpu>, op: u64, raw: u64, _: u64) -> Result<u64, Exit> {
    let (op1, crm, op2) = ((op >> 8 & 7) as u32, (op >> 4 & 15) as u32, (op & 7) as u32);
    let el0 = e.cpu.el == 0;
    let undefined = Fault::Undefined { raw: raw as u32 };
    match (op1, op2) {
        // DAIFSet, DAIFClr: at EL0 only with SCTLR_EL1.UMA.
        (3, 6 | 7) => {
            if el0 && e.cpu.mmu_regs.sctlr_el1 & sctlr::UMA == 0 {
                let iss = sys_trap_iss(sysreg::key(0, op1, 4, crm, op2), 31, false);
                return e.cpu.exception(Fault::SysTrap { iss });
            }
            let bits = u64::from(crm) << 6;
            if op2 == 6 {
                e.cpu.daif |= bits;
            } else {
                e.cpu.daif &= !bits;
            }
        }
        _ if el0 => return e.cpu.exception(undefined),
        (0, 5) => {
            let el = e.cpu.el;
            e.cpu.set_el_sp(el, crm & 1 != 0);
        }
        (0, 4) => {
            e.cpu.pan = crm & 1 != 0;
            e.cpu.mmu_changed();
        }
        // UAO is not implemented; Linux's uaccess code may still set it: ignored.
        (0, 3) => {}
        _ => {
            mimic_core::guest_error!("a64: msr of unimplemented PSTATE field op1={op1} op2={op2}");
            return e.cpu.exception(undefined);
        }
    }
    Ok(0)
}

/// SYS: cache maintenance, address translation and TLB maintenance. `op` packs
/// op1 << 12 | CRn << 8 | CRm << 4 | op2 | Rt << 16; `xt` is Rt's value.
pub fn sys(e: &mut Env<'_, Aarch64Cpu>, xt: u64, op: u64, raw: u64) -> Result<u64, Exit> {
    let (op1, crn, crm, op2) = ((op >> 12 & 7) as u32, (op >> 8 & 15) as u32, (op >> 4 & 15) as u32, (op & 7) as u32);
    let rt = (op >> 16 & 31) as u32;
    let el0 = e.cpu.el == 0;
    let sctlr = e.cpu.mmu_regs.sctlr_el1;
    let key = sysreg::key(1, op1, crn, crm, op2);
    // EL0 may use the EL0 cache maintenance operations when SCTLR_EL1 allows it.
    let el0_gate = |bit: u64| -> Result<(), Deny> {
        if el0 && sctlr & bit == 0 {
            Err(Deny::Trap)
        } else {
            Ok(())
        }
    };
    let el1_only = if el0 { Err(Deny::Undefined) } else { Ok(()) };
    let el2_only = if e.cpu.has_el2 && e.cpu.el >= 2 { Ok(()) } else { Err(Deny::Undefined) };
    let el3_only = if e.cpu.has_el3 && e.cpu.el == 3 { Ok(()) } else { Err(Deny::Undefined) };
    let check = match (op1, crn, crm, op2) {
        // IC IALLUIS, IC IALLU: drop every decoded block.
        (0, 7, 1 | 5, 0) => el1_only.map(|()| Sys::IcAll),
        // IC IVAU: drop the blocks decoded from that line's page.
        (3, 7, 5, 1) => el0_gate(sctlr::UCI).map(|()| Sys::IcVa),
        // DC IVAC, DC ISW, DC CSW, DC CISW: no caches to maintain.
        (0, 7, 6, 1 | 2) | (0, 7, 10 | 14, 2) => el1_only.map(|()| Sys::Nop),
        // DC CVAC, DC CVAU, DC CIVAC.
        (3, 7, 10 | 11 | 14, 1) => el0_gate(sctlr::UCI).map(|()| Sys::Nop),
        (3, 7, 4, 1) => el0_gate(sctlr::DZE).map(|()| Sys::DcZva),
        // AT S1E1R, S1E1W, S1E0R, S1E0W.
        (0, 7, 8, 0..=3) => el1_only.map(|()| Sys::At),
        // TLBI VMALLE1(IS), VAE1(IS), ASIDE1(IS), VAAE1(IS), VALE1(IS), VAALE1(IS).
        (0, 8, 3 | 7, 0 | 1 | 2 | 3 | 5 | 7) => el1_only.map(|()| Sys::Tlbi),
        // AT S1E2R, S1E2W; AT S12E1R/W, S12E0R/W.
        (4, 7, 8, 0 | 1 | 4..=7) => el2_only.map(|()| Sys::At),
        // TLBI IPAS2E1(IS), IPAS2LE1(IS); ALLE2(IS), VAE2(IS), ALLE1(IS), VALE2(IS),
        // VMALLS12E1(IS).
        (4, 8, 0 | 4, 1 | 5) | (4, 8, 3 | 7, 0 | 1 | 4 | 5 | 6) => el2_only.map(|()| Sys::Tlbi),
        // AT S1E3R, S1E3W.
        (6, 7, 8, 0 | 1) => el3_only.map(|()| Sys::At),
        // TLBI ALLE3(IS), VAE3(IS), VALE3(IS).
        (6, 8, 3 | 7, 0 | 1 | 5) => el3_only.map(|()| Sys::Tlbi),
        _ => return unknown_sysreg_write(e, u64::from(key), raw, 0),
    };
    match check {
        Err(why) => deny(e, why, key, rt, false, raw),
        Ok(Sys::Nop) => Ok(0),
        Ok(Sys::IcAll) => {
            e.cpu.cache.clear();
            Ok(0)
        }
        Ok(Sys::IcVa) => {
            // Linux issues one per cache line of every executable page it maps; clearing the
            // whole cache for each made a boot re-decode everything over and over. Stores
            // already invalidate watched code pages, so dropping the line's page is enough; an
            // address that does not translate to RAM drops everything, to stay safe.
            let page = e.cpu.translate_debug(e.bus, xt).and_then(|pa| e.bus.lookup_backing(pa));
            match page {
                Some(l) => {
                    e.cpu.cache.invalidate_page(l.offset / mimic_memory::PAGE_SIZE as usize);
                }
                None => e.cpu.cache.clear(),
            }
            Ok(0)
        }
        // Allowed: `sem::sys` emits the stores after this check.
        Ok(Sys::DcZva) => Ok(0),
        Ok(Sys::At) => {
            crate::mmu::at(e.cpu, e.bus, op1, crm, op2, xt)?;
            Ok(0)
        }
        Ok(Sys::Tlbi) => {
            crate::mmu::tlbi(e.cpu, op1, crm, op2, xt);
            Ok(0)
        }
    }
}

/// What a SYS instruction does once allowed.
enum Sys {
    Nop,
    IcAll,
    IcVa,
    DcZva,
    At,
    Tlbi,
}

fn size_of(bytes: u64) -> Size {
    match bytes {
        1 => Size::B1,
        2 => Size::B2,
        4 => Size::B4,
        _ => Size::B8,
    }
}

/// Exclusive accesses fault when not aligned to their whole size, whatever the memory type.
fn check_aligned(e: &mut Env<'_, Aarch64Cpu>, addr: u64, bytes: u64, write: bool) -> Result<(), Exit> {
    if addr & (bytes - 1) != 0 {
        return e.cpu.exception(Fault::Alignment { va: addr, write });
    }
    Ok(())
}

/// LDXR (and the W form of LDXP, as one 8-byte access): load `bytes` at `addr` and arm the
/// monitor with what was read.
pub fn load_exclusive(e: &mut Env<'_, Aarch64Cpu>, addr: u64, bytes: u64, _: u64) -> Result<u64, Exit> {
    check_aligned(e, addr, bytes, false)?;
    let v = e.cpu.load_data(e.bus, addr, MemOp::new(size_of(bytes), false))?;
    e.cpu.monitor = Some(Monitor { addr, size: bytes, data: [v, 0] });
    Ok(v)
}

/// STXR (and the W form of STXP): store `val` if the monitor still covers exactly this access
/// and memory still holds what the exclusive load saw. Returns the status register value: 0
/// stored, 1 not. The monitor is disarmed either way.
pub fn store_exclusive(e: &mut Env<'_, Aarch64Cpu>, addr: u64, val: u64, bytes: u64) -> Result<u64, Exit> {
    check_aligned(e, addr, bytes, true)?;
    let op = MemOp::new(size_of(bytes), false);
    let Some(m) = e.cpu.monitor.take() else { return Ok(1) };
    if m.addr != addr || m.size != bytes || e.cpu.load_data(e.bus, addr, op)? != m.data[0] {
        return Ok(1);
    }
    e.cpu.store_data(e.bus, addr, val, op)?;
    Ok(0)
}

/// LDXP of two X registers (`regs` = Rt | Rt2 << 5): one 16-byte single-copy-atomic access;
/// the helper writes both registers itself.
pub fn load_exclusive_pair(e: &mut Env<'_, Aarch64Cpu>, addr: u64, regs: u64, _: u64) -> Result<u64, Exit> {
    check_aligned(e, addr, 16, false)?;
    let lo = e.cpu.load_data(e.bus, addr, MemOp::U64)?;
    let hi = e.cpu.load_data(e.bus, addr.wrapping_add(8), MemOp::U64)?;
    e.cpu.monitor = Some(Monitor { addr, size: 16, data: [lo, hi] });
    for (r, v) in [((regs & 31) as usize, lo), ((regs >> 5 & 31) as usize, hi)] {
        if r != 31 {
            e.cpu.regs[r] = v;
        }
    }
    Ok(0)
}

/// STXP of two X registers (`regs` = Rt | Rt2 << 5), read from the register file here.
pub fn store_exclusive_pair(e: &mut Env<'_, Aarch64Cpu>, addr: u64, regs: u64, _: u64) -> Result<u64, Exit> {
    check_aligned(e, addr, 16, true)?;
    let Some(m) = e.cpu.monitor.take() else { return Ok(1) };
    if m.addr != addr || m.size != 16 {
        return Ok(1);
    }
    let now = [e.cpu.load_data(e.bus, addr, MemOp::U64)?, e.cpu.load_data(e.bus, addr.wrapping_add(8), MemOp::U64)?];
    if now != m.data {
        return Ok(1);
    }
    let (lo, hi) = (e.cpu.x((regs & 31) as usize), e.cpu.x((regs >> 5 & 31) as usize));
    e.cpu.store_data(e.bus, addr, lo, MemOp::U64)?;
    e.cpu.store_data(e.bus, addr.wrapping_add(8), hi, MemOp::U64)?;
    Ok(0)
}

/// CLREX: disarm the local monitor.
pub fn clear_exclusive(e: &mut Env<'_, Aarch64Cpu>, _: u64, _: u64, _: u64) -> Result<u64, Exit> {
    e.cpu.monitor = None;
    Ok(0)
}

/// CRC32/CRC32C: the reflected CRC of the low `op & 15` bytes of `val`, least significant byte
/// first, continuing from `acc` (no pre- or post-inversion: software does those). Bit 4 of `op`
/// picks the Castagnoli polynomial.
pub fn crc32(_: &mut Env<'_, Aarch64Cpu>, acc: u64, val: u64, op: u64) -> Result<u64, Exit> {
    let poly: u32 = if op & 16 != 0 { 0x82f6_3b78 } else { 0xedb8_8320 };
    let mut crc = acc as u32;
    for i in 0..(op & 15) {
        crc ^= (val >> (8 * i)) as u32 & 0xff;
        for _ in 0..8 {
            crc = (crc >> 1) ^ if crc & 1 != 0 { poly } else { 0 };
        }
    }
    Ok(u64::from(crc))
}
