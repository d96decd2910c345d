//! Helpers: plain functions every execution tier calls for instructions too rare to express as
//! `Sem` operations. Each takes the environment and three operands and returns a value or `Exit`
//! (exception recorded).

use crate::cpu::{Aarch64Cpu, Fault};
use mimic_exec::Env;
use mimic_ir::Exit;

/// An unallocated encoding, or one this CPU does not implement: the "unknown reason" exception.
pub fn undefined(e: &mut Env<'_, Aarch64Cpu>, raw: u64, _: u64, _: u64) -> Result<u64, Exit> {
    e.cpu.exception(Fault::Undefined { raw: raw as u32 })
}

/// WFI: wait for an interrupt. No interrupt controller exists yet, so the CPU stays halted
/// until the board wakes it. (Trapping WFI to a higher EL via SCTLR/HCR arrives with them.)
pub fn wfi(e: &mut Env<'_, Aarch64Cpu>, _: u64, _: u64, _: u64) -> Result<u64, Exit> {
    e.cpu.halted = true;
    Ok(0)
}
