//! Placeholder for the stage-1 MMU (page walk, TLB, TLBI, AT), which lives on another branch:
//! this file is replaced whole when that branch is merged. Until then addresses are physical.

impl crate::cpu::Aarch64Cpu {
    pub fn mmu_changed(&mut self) {}
}
/// TLBI: `op1`, `crm`, `op2` of the SYS encoding (CRn = 8), `xt` the operand.
pub fn tlbi(cpu: &mut crate::cpu::Aarch64Cpu, op1: u32, crm: u32, op2: u32, xt: u64) {
    let _ = (cpu, op1, crm, op2, xt);
}
/// AT (CRn = 7, CRm = 8 or 9): translate `va` and write PAR_EL1; Err only for a recorded exception.
pub fn at(
    cpu: &mut crate::cpu::Aarch64Cpu,
    bus: &mut mimic_memory::AddressSpace,
    op1: u32,
    crm: u32,
    op2: u32,
    va: u64,
) -> Result<(), mimic_ir::Exit> {
    let _ = (bus, op1, crm, op2);
    cpu.mmu_regs.par_el1 = va & 0x0000_ffff_ffff_f000;
    Ok(())
}
