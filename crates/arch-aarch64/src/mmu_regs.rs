//! The stage-1 translation controls of the EL1&0, EL2 and EL3 regimes, written by MSR and read
//! by the page walk.

/// SCTLR_EL1, TCR_EL1, TTBR0/1_EL1, MAIR_EL1, AMAIR_EL1 and PAR_EL1, and the EL2 regime's
/// SCTLR_EL2, TCR_EL2, TTBR0_EL2, MAIR_EL2, and the same of the EL3 regime, as software last
/// wrote them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmuRegs {
    pub sctlr_el1: u64,
    pub tcr_el1: u64,
    pub ttbr0_el1: u64,
    pub ttbr1_el1: u64,
    pub mair_el1: u64,
    pub amair_el1: u64,
    pub par_el1: u64,
    pub sctlr_el2: u64,
    pub tcr_el2: u64,
    pub ttbr0_el2: u64,
    pub mair_el2: u64,
    pub amair_el2: u64,
    pub sctlr_el3: u64,
    pub tcr_el3: u64,
    pub ttbr0_el3: u64,
    pub mair_el3: u64,
    pub amair_el3: u64,
}
