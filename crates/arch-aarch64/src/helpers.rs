//! Helpers: plain functions every execution tier calls for instructions too rare to express as
//! `Sem` operations. Each takes the environment and three operands and returns a value or `Exit`
//! (exception recorded).

use crate::cpu::{Aarch64Cpu, Fault, Monitor};
use mimic_core::{MemOp, Size};
use mimic_exec::Env;
use mimic_ir::Exit;

/// An unallocated encoding, or one this CPU does not implement: the "unknown reason" exception.
pub fn undefined(e: &mut Env<'_, Aarch64Cpu>, raw: u64, _: u64, _: u64) -> Result<u64, Exit> {
    e.cpu.exception(Fault::Undefined { raw: raw as u32 })
}

/// SVC/HVC/SMC/BRK (`kind` 0..=3 in that order): always an exception.
pub fn exception_call(e: &mut Env<'_, Aarch64Cpu>, kind: u64, imm: u64, _: u64) -> Result<u64, Exit> {
    let imm = imm as u16;
    e.cpu.exception(match kind {
        0 => Fault::Svc { imm },
        1 => Fault::Hvc { imm },
        2 => Fault::Smc { imm },
        _ => Fault::Breakpoint { imm },
    })
}

/// WFI: wait for an interrupt. No interrupt controller exists yet, so the CPU stays halted
/// until the board wakes it. (Trapping WFI to a higher EL via SCTLR/HCR arrives with them.)
pub fn wfi(e: &mut Env<'_, Aarch64Cpu>, _: u64, _: u64, _: u64) -> Result<u64, Exit> {
    e.cpu.halted = true;
    Ok(0)
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
