//! FEAT_LSE: the atomic memory operations (LD<op>, ST<op>, SWP), CAS and CASP, as helpers that
//! both tiers call. Each is one read-modify-write through [`Aarch64Cpu::atomic_rmw`], which
//! checks natural alignment and both permissions before touching memory.
//!
//! Atomicity and ordering: every CPU of a machine runs on the one machine thread, in turn, and
//! devices and DMA reach RAM only between slices, so a helper's read and write are one
//! indivisible access by construction, and the acquire/release variants need no barrier.
//! Another CPU's exclusive monitor sees the write through its value check (`cpu::Monitor`);
//! this CPU's own monitor is cleared when the atomic writes the bytes it covers (the Arm ARM
//! leaves that IMPLEMENTATION DEFINED for a store by the same PE; clearing is the safe choice).
//!
//! Operands are packed by `sem_atomic.rs`: the instruction word in bits 63:32 (for the
//! UNDEFINED exception when the CPU lacks FEAT_LSE), log2 of the access size in bits 2:0 and
//! the instruction's fields above it.

use crate::cpu::{Aarch64Cpu, Fault};
use mimic_exec::Env;
use mimic_ir::Exit;

type E<'e, 'a> = &'e mut Env<'a, Aarch64Cpu>;
type Res = Result<u64, Exit>;

/// The operation of LD<op> (`opc`, in encoding order) and SWP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtomicOp {
    Add = 0,
    Clr = 1,
    Eor = 2,
    Set = 3,
    Smax = 4,
    Smin = 5,
    Umax = 6,
    Umin = 7,
    Swp = 8,
}

impl AtomicOp {
    fn from_bits(v: u64) -> AtomicOp {
        use AtomicOp::*;
        [Add, Clr, Eor, Set, Smax, Smin, Umax, Umin, Swp][(v & 15).min(8) as usize]
    }

    /// The value to store, given the old one and the operand, both `bits` wide (zero-extended).
    pub fn apply(self, old: u64, operand: u64, bits: u32) -> u64 {
        let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
        let signed = |v: u64| ((v << (64 - bits)) as i64) >> (64 - bits);
        let r = match self {
            AtomicOp::Add => old.wrapping_add(operand),
            AtomicOp::Clr => old & !operand,
            AtomicOp::Eor => old ^ operand,
            AtomicOp::Set => old | operand,
            AtomicOp::Smax => {
                if signed(old) >= signed(operand) {
                    old
                } else {
                    operand
                }
            }
            AtomicOp::Smin => {
                if signed(old) <= signed(operand) {
                    old
                } else {
                    operand
                }
            }
            AtomicOp::Umax => old.max(operand & mask),
            AtomicOp::Umin => old.min(operand & mask),
            AtomicOp::Swp => operand,
        };
        r & mask
    }
}

/// Pack the operands of [`ldop`]: `lg` is log2 of the access size.
pub fn pack_ldop(raw: u32, op: AtomicOp, lg: u32) -> u64 {
    u64::from(raw) << 32 | (op as u64) << 4 | u64::from(lg)
}

/// Pack the operands of [`cas`]: `rt` holds the value to store.
pub fn pack_cas(raw: u32, lg: u32, rt: u32) -> u64 {
    u64::from(raw) << 32 | u64::from(rt) << 8 | u64::from(lg)
}

/// Pack the operands of [`casp`]: `lg` 2 for W pairs, 3 for X pairs; `rs`, `rt` even.
pub fn pack_casp(raw: u32, lg: u32, rs: u32, rt: u32) -> u64 {
    u64::from(raw) << 32 | u64::from(rt) << 13 | u64::from(rs) << 8 | u64::from(lg)
}

fn lse(e: E, packed: u64) -> Result<(), Exit> {
    if e.cpu.features.lse {
        Ok(())
    } else {
        e.cpu.exception(Fault::Undefined { raw: (packed >> 32) as u32 })
    }
}

fn clear_own_monitor(e: E, addr: u64, n: u64) {
    if let Some(m) = e.cpu.monitor {
        if m.addr < addr.wrapping_add(n) && addr < m.addr.wrapping_add(m.size) {
            e.cpu.monitor = None;
        }
    }
}

/// LD<op>/ST<op>/SWP: apply the operation with `operand` (Xs) to memory at `addr`; returns the
/// old value, zero-extended (the caller writes it to Rt unless Rt is XZR).
pub fn ldop(e: E, addr: u64, operand: u64, packed: u64) -> Res {
    lse(e, packed)?;
    let (lg, op) = ((packed & 7) as u32, AtomicOp::from_bits(packed >> 4));
    let (n, bits) = (1u64 << lg, 8 << lg);
    let old = e.cpu.atomic_rmw(e.bus, addr, n, |old| Some(u128::from(op.apply(old as u64, operand, bits))))?;
    clear_own_monitor(e, addr, n);
    Ok(old as u64)
}

/// CAS: if memory at `addr` equals `expected` (Xs, at the access size), store Xt there.
/// Returns the old value, zero-extended (the caller writes it to Rs).
pub fn cas(e: E, addr: u64, expected: u64, packed: u64) -> Res {
    lse(e, packed)?;
    let lg = (packed & 7) as u32;
    let n = 1u64 << lg;
    let mask = if lg == 3 { u64::MAX } else { (1u64 << (8 << lg)) - 1 };
    let new = e.cpu.x((packed >> 8 & 31) as usize) & mask;
    let expected = expected & mask;
    let old = e.cpu.atomic_rmw(e.bus, addr, n, |old| (old as u64 == expected).then_some(u128::from(new)))?;
    if old as u64 == expected {
        clear_own_monitor(e, addr, n);
    }
    Ok(old as u64)
}

/// CASP: the pair Xs:Xs+1 (Ws:Ws+1) against memory at `addr`, twice the register size, Xs
/// at the lower address; on a match Xt:Xt+1 is stored. The helper writes Rs and Rs+1 itself
/// (Rs+1 may be XZR when Rs is 30).
pub fn casp(e: E, addr: u64, _: u64, packed: u64) -> Res {
    lse(e, packed)?;
    let lg = (packed & 7) as u32;
    let (rs, rt) = ((packed >> 8 & 31) as usize, (packed >> 13 & 31) as usize);
    let bits = 8u32 << lg;
    let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let pair = |lo: u64, hi: u64| u128::from(lo & mask) | u128::from(hi & mask) << bits;
    let c = &*e.cpu;
    let (expected, new) = (pair(c.x(rs), c.x(rs + 1)), pair(c.x(rt), c.x(rt + 1)));
    let n = 2u64 << lg;
    let old = e.cpu.atomic_rmw(e.bus, addr, n, |old| (old == expected).then_some(new))?;
    if old == expected {
        clear_own_monitor(e, addr, n);
    }
    for (r, v) in [(rs, old as u64 & mask), (rs + 1, (old >> bits) as u64 & mask)] {
        if r != 31 {
            e.cpu.regs[r] = v;
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::AtomicOp;

    #[test]
    fn signed_max_and_min_compare_at_the_access_size() {
        assert_eq!(AtomicOp::Smax.apply(0x80, 0x7f, 8), 0x7f);
        assert_eq!(AtomicOp::Smin.apply(0x80, 0x7f, 8), 0x80);
        assert_eq!(AtomicOp::Umax.apply(0x80, 0x7f, 8), 0x80);
        assert_eq!(AtomicOp::Smax.apply(u64::MAX, 0, 64), 0);
    }

    #[test]
    fn add_wraps_at_the_access_size() {
        assert_eq!(AtomicOp::Add.apply(0xffff, 1, 16), 0);
        assert_eq!(AtomicOp::Clr.apply(0xff, 0xf0f, 8), 0xf0);
    }
}
