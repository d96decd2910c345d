//! Branch target identification (FEAT_BTI): which instructions may follow an indirect branch
//! into a guarded page.
//!
//! ```text
//!   BR Xn          BTYPE = 01 if n is 16 or 17, or the BR is not in a guarded page; else 11
//!   BLR Xn         BTYPE = 10                (and the BRAA/BLRAA... forms alike)
//!   RET, ERET      BTYPE = 00; ERET restores SPSR_EL1.BTYPE, exception entry saves and clears it
//!   any other      BTYPE = 00 once it executed
//!
//!   next instruction, BTYPE != 00, in a guarded page (GP = 1 in its stage-1 descriptor):
//!     BTI c  accepts 01, 10       BTI j  accepts 01, 11       BTI jc  accepts all
//!     PACIASP/PACIBSP  accept 01, 10, and 11 unless SCTLR_EL1.BT0 (EL0) / BT1 (EL1) is set
//!     BRK              accepts all;  anything else (and plain BTI): Branch Target exception
//! ```
//!
//! A nonzero BTYPE is part of the block flags, and a block entered with one holds a single
//! instruction (`A64Insn::btype`), so that only the instruction at the branch target checks it
//! and every tier sees the same flags (`sem::translate`).

use crate::cpu::{Aarch64Cpu, Fault};
use crate::decode::Insn;
use crate::sysreg::sctlr;
use mimic_exec::Env;
use mimic_ir::Exit;

/// What the first instruction after an indirect branch needs before it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Landing {
    /// A landing pad for this BTYPE (or an instruction every BTYPE allows).
    Pad,
    /// PACIASP/PACIBSP with BTYPE 11: a landing pad unless SCTLR_EL1.BTn says otherwise.
    PacSp,
    /// Not a landing pad: a Branch Target exception if the page is guarded.
    NotPad,
}

/// Hint numbers (CRm:op2) of BTI, BTI c, BTI j, BTI jc.
const BTI_C: u32 = 34;
const BTI_J: u32 = 36;
const BTI_JC: u32 = 38;
/// PACIASP and PACIBSP.
const PACIASP: u32 = 25;
const PACIBSP: u32 = 27;

/// How `insn` stands as the target of a branch that left BTYPE `btype` (nonzero).
pub fn landing(insn: Option<&Insn>, btype: u8) -> Landing {
    match insn {
        Some(Insn::Bti(h)) => match (h.imm, btype) {
            (BTI_JC, _) | (BTI_C, 1 | 2) | (BTI_J, 1 | 3) => Landing::Pad,
            _ => Landing::NotPad,
        },
        Some(Insn::PauthHint(h)) if h.imm == PACIASP || h.imm == PACIBSP => {
            if btype == 3 {
                Landing::PacSp
            } else {
                Landing::Pad
            }
        }
        Some(Insn::Brk(_)) => Landing::Pad,
        _ => Landing::NotPad,
    }
}

/// The check at a branch target: `btype` in bits 1:0, bit 2 set for PACIASP/PACIBSP with
/// BTYPE 11. Raises the Branch Target exception when the instruction at `pc` is in a guarded
/// page and not a landing pad.
pub fn check(e: &mut Env<'_, Aarch64Cpu>, pc: u64, what: u64, _: u64) -> Result<u64, Exit> {
    let btype = (what & 3) as u8;
    if what & 4 != 0 {
        // SCTLR_EL2.BT sits where SCTLR_EL1.BT1 does.
        let bt = if e.cpu.el == 0 { sctlr::BT0 } else { sctlr::BT1 };
        if e.cpu.sctlr_current() & bt == 0 {
            return Ok(0);
        }
    }
    if e.cpu.fetch_guarded(e.bus, pc) {
        return e.cpu.exception(Fault::BranchTarget { btype });
    }
    Ok(0)
}

/// BTYPE after a BR (or BRAA...) at `pc` through a register other than X16/X17: 11 in a
/// guarded page, 01 elsewhere.
pub fn br_btype(e: &mut Env<'_, Aarch64Cpu>, pc: u64, _: u64, _: u64) -> Result<u64, Exit> {
    Ok(if e.cpu.fetch_guarded(e.bus, pc) { 3 } else { 1 })
}
