//! The semantics contract: the [`Sem`] trait that an ISA's instruction meanings are written
//! against, once, and that every execution tier implements.
//!
//! Plain Rust values (register numbers, immediates, the instruction's pc) are known when an
//! instruction is translated; `S::V` values exist only when it runs. The interpreter tier
//! (`exec::Direct`) makes `V = u64` and inlines everything, so a semantics function folds to the
//! arithmetic it describes; a compiling tier makes `V` an IR temporary and records the operations.
//!
//! Exceptions are precise without unwinding: an operation that can fault returns
//! `Err(Exit)` after the CPU state has recorded why, and the semantics function returns at once
//! with `?`, leaving the instruction's destination unwritten.
#![forbid(unsafe_code)]

use mimic_core::MemOp;

/// The current instruction stops the block without completing: the CPU state holds the pending
/// exception (or other reason) for the loop to act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit;

/// Index of a 64-bit value in the guest CPU's flat register file (general registers, FP
/// registers and whatever else an ISA keeps there).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reg(pub u16);

/// A helper: a plain Rust function both tiers call for work too large or too rare to express as
/// IR (FP, CSRs, atomics, privileged instructions). It gets the environment (CPU and bus) and up
/// to three operands.
pub type Helper<E> = fn(&mut E, u64, u64, u64) -> Result<u64, Exit>;

/// Comparison conditions; `S`/`U` suffixes are signed/unsigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    Eq,
    Ne,
    LtS,
    GeS,
    LtU,
    GeU,
}

impl Cond {
    #[inline(always)]
    pub fn eval(self, a: u64, b: u64) -> bool {
        match self {
            Cond::Eq => a == b,
            Cond::Ne => a != b,
            Cond::LtS => (a as i64) < (b as i64),
            Cond::GeS => (a as i64) >= (b as i64),
            Cond::LtU => a < b,
            Cond::GeU => a >= b,
        }
    }
}

/// Binary operations on 64-bit values.
///
/// Division follows one fixed convention so that tiers agree: `x / 0` is all ones (unsigned) or
/// -1 (signed), `x % 0` is `x`, and `MIN / -1` is `MIN` with remainder 0. An ISA with different
/// rules selects around them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    /// High 64 bits of the 128-bit product: signed×signed, unsigned×unsigned, signed×unsigned.
    MulHS,
    MulHU,
    MulHSU,
    DivS,
    DivU,
    RemS,
    RemU,
    And,
    Or,
    Xor,
    AndNot,
    OrNot,
    XorNot,
    /// Shifts and rotates use the low 6 bits of the shift amount.
    Shl,
    Shr,
    Sar,
    Rotl,
    Rotr,
    /// Rotate the low 32 bits right by the low 5 bits of the amount; the result is
    /// zero-extended (the 32-bit forms of A64 ROR, RISC-V RORW before its sign extension).
    Rotr32,
    MinS,
    MinU,
    MaxS,
    MaxU,
}

impl BinOp {
    #[inline(always)]
    pub fn eval(self, a: u64, b: u64) -> u64 {
        match self {
            BinOp::Add => a.wrapping_add(b),
            BinOp::Sub => a.wrapping_sub(b),
            BinOp::Mul => a.wrapping_mul(b),
            BinOp::MulHS => (((a as i64 as i128) * (b as i64 as i128)) >> 64) as u64,
            BinOp::MulHU => (((a as u128) * (b as u128)) >> 64) as u64,
            BinOp::MulHSU => (((a as i64 as i128).wrapping_mul(b as i128)) >> 64) as u64,
            BinOp::DivS => {
                if b == 0 {
                    u64::MAX
                } else {
                    (a as i64).wrapping_div(b as i64) as u64
                }
            }
            BinOp::DivU => a.checked_div(b).unwrap_or(u64::MAX),
            BinOp::RemS => {
                if b == 0 {
                    a
                } else {
                    (a as i64).wrapping_rem(b as i64) as u64
                }
            }
            BinOp::RemU => a.checked_rem(b).unwrap_or(a),
            BinOp::And => a & b,
            BinOp::Or => a | b,
            BinOp::Xor => a ^ b,
            BinOp::AndNot => a & !b,
            BinOp::OrNot => a | !b,
            BinOp::XorNot => !(a ^ b),
            BinOp::Shl => a << (b & 63),
            BinOp::Shr => a >> (b & 63),
            BinOp::Sar => ((a as i64) >> (b & 63)) as u64,
            BinOp::Rotl => a.rotate_left((b & 63) as u32),
            BinOp::Rotr => a.rotate_right((b & 63) as u32),
            BinOp::Rotr32 => u64::from((a as u32).rotate_right((b & 31) as u32)),
            BinOp::MinS => (a as i64).min(b as i64) as u64,
            BinOp::MinU => a.min(b),
            BinOp::MaxS => (a as i64).max(b as i64) as u64,
            BinOp::MaxU => a.max(b),
        }
    }
}

/// Unary operations on 64-bit values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Not,
    Neg,
    /// Count leading/trailing zeros (64 for zero), population count.
    Clz,
    Ctz,
    Popcnt,
    Bswap,
    /// Sign- or zero-extend from the low 8, 16 or 32 bits.
    Sext8,
    Sext16,
    Sext32,
    Zext8,
    Zext16,
    Zext32,
    /// Each byte becomes 0xff if non-zero, else 0x00 (RISC-V orc.b; also useful for string ops).
    OrcB,
}

impl UnOp {
    #[inline(always)]
    pub fn eval(self, a: u64) -> u64 {
        match self {
            UnOp::Not => !a,
            UnOp::Neg => a.wrapping_neg(),
            UnOp::Clz => a.leading_zeros() as u64,
            UnOp::Ctz => a.trailing_zeros() as u64,
            UnOp::Popcnt => a.count_ones() as u64,
            UnOp::Bswap => a.swap_bytes(),
            UnOp::Sext8 => a as i8 as i64 as u64,
            UnOp::Sext16 => a as i16 as i64 as u64,
            UnOp::Sext32 => a as i32 as i64 as u64,
            UnOp::Zext8 => a as u8 as u64,
            UnOp::Zext16 => a as u16 as u64,
            UnOp::Zext32 => a as u32 as u64,
            UnOp::OrcB => {
                let mut r = 0;
                for i in 0..8 {
                    if (a >> (i * 8)) & 0xff != 0 {
                        r |= 0xff << (i * 8);
                    }
                }
                r
            }
        }
    }
}

/// What an instruction's meaning is written against. See the crate docs.
pub trait Sem {
    /// A run-time 64-bit value.
    type V: Copy;
    /// What helpers receive: the CPU and its bus, as the tier lays them out.
    type Env;

    /// The address of the instruction being executed (known at translation time).
    fn pc(&self) -> u64;

    fn imm(&mut self, v: u64) -> Self::V;
    fn get(&mut self, r: Reg) -> Self::V;
    fn set(&mut self, r: Reg, v: Self::V);

    fn bin(&mut self, op: BinOp, a: Self::V, b: Self::V) -> Self::V;
    fn un(&mut self, op: UnOp, a: Self::V) -> Self::V;
    /// 1 if the condition holds, else 0.
    fn setcond(&mut self, c: Cond, a: Self::V, b: Self::V) -> Self::V;
    /// `if c != 0 { t } else { f }`.
    fn select(&mut self, c: Self::V, t: Self::V, f: Self::V) -> Self::V;

    /// Load from a guest-virtual address; faults record the exception and return `Exit`.
    fn load(&mut self, addr: Self::V, op: MemOp) -> Result<Self::V, Exit>;
    fn store(&mut self, addr: Self::V, val: Self::V, op: MemOp) -> Result<(), Exit>;
    /// Two loads of `op`, at `addr` and then at the next element (a load pair, or the halves
    /// of a 128-bit register): exactly `load` twice, which a compiling tier may check against
    /// its TLB once when both lie in one page.
    #[inline(always)]
    fn load_pair(&mut self, addr: Self::V, op: MemOp) -> Result<(Self::V, Self::V), Exit> {
        let first = self.load(addr, op)?;
        let next = self.addi(addr, op.size.bytes());
        let second = self.load(next, op)?;
        Ok((first, second))
    }
    /// Two stores of `op`, `first` at `addr` and then `second` at the next element: exactly
    /// `store` twice (the first is done when the second faults), as [`Sem::load_pair`].
    #[inline(always)]
    fn store_pair(&mut self, addr: Self::V, first: Self::V, second: Self::V, op: MemOp) -> Result<(), Exit> {
        self.store(addr, first, op)?;
        let next = self.addi(addr, op.size.bytes());
        self.store(next, second, op)
    }

    /// Call a helper; `Exit` means it raised an exception.
    fn call(&mut self, f: Helper<Self::Env>, a: Self::V, b: Self::V, c: Self::V) -> Result<Self::V, Exit>;
    /// Call a helper that changes nothing the translation of later code, the choice of the next
    /// block or interrupt delivery depends on: it reads and writes registers (and state only
    /// helpers read, such as FP status), loads and stores memory, and may raise an exception.
    /// A compiling tier may then go straight on into the next block's code, where after
    /// [`Sem::call`] it returns to the loop first. A store that drops decoded code still
    /// returns to the loop; an interrupt a device raises because of such a store is taken at
    /// the end of the run (within the run's instruction budget) rather than at once.
    fn call_local(&mut self, f: Helper<Self::Env>, a: Self::V, b: Self::V, c: Self::V) -> Result<Self::V, Exit> {
        self.call(f, a, b, c)
    }

    /// An atomic read-modify-write of `mem` at `addr`: memory gets `op(old, val)` (`val` itself
    /// when `op` is `None`) and `old` comes back, extended as `mem` says. `helper(addr, val, 0)`
    /// is its meaning, with every check and fault, and what runs where a tier has no fast
    /// path; a compiling tier may instead do the access inline when its TLB says the page is
    /// RAM it may read and write and `addr` is aligned (otherwise it calls the helper).
    fn rmw(
        &mut self,
        op: Option<BinOp>,
        addr: Self::V,
        val: Self::V,
        mem: MemOp,
        helper: Helper<Self::Env>,
    ) -> Result<Self::V, Exit> {
        let _ = (op, mem);
        let z = self.imm(0);
        self.call_local(helper, addr, val, z)
    }

    /// The registers of `flags` now hold the values paired with them, computed from subtracting
    /// `b` from `a` (a compare) at 64 bits if `wide`, else at 32 (both then zero-extended). A
    /// compiling tier may keep this, so that a condition on those registers compares `a` and
    /// `b` itself ([`Sem::compared`]) instead of recombining the flags; by default it is not
    /// kept.
    #[inline(always)]
    fn note_compare(&mut self, a: Self::V, b: Self::V, wide: bool, flags: [(Reg, Self::V); 4]) {
        let _ = (a, b, wide, flags);
    }
    /// The operands and width of the compare noted last, if its registers still hold the
    /// values it left there (as far as the tier can tell; `None` is always right).
    #[inline(always)]
    fn compared(&mut self) -> Option<(Self::V, Self::V, bool)> {
        None
    }

    /// Continue at `target` after this instruction (ends the block).
    fn jump(&mut self, target: Self::V);
    /// Continue at `target` if `cond(a, b)`, else fall through (ends the block).
    fn branch(&mut self, c: Cond, a: Self::V, b: Self::V, target: u64);

    // Conveniences built from the above, so ISA code reads like the manual.
    #[inline(always)]
    fn add(&mut self, a: Self::V, b: Self::V) -> Self::V {
        self.bin(BinOp::Add, a, b)
    }
    #[inline(always)]
    fn addi(&mut self, a: Self::V, imm: u64) -> Self::V {
        let b = self.imm(imm);
        self.bin(BinOp::Add, a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_division_overflow_gives_min() {
        assert_eq!(BinOp::DivS.eval(i64::MIN as u64, u64::MAX), i64::MIN as u64);
        assert_eq!(BinOp::RemS.eval(i64::MIN as u64, u64::MAX), 0);
    }

    #[test]
    fn division_by_zero_gives_all_ones_and_dividend() {
        assert_eq!(BinOp::DivU.eval(7, 0), u64::MAX);
        assert_eq!(BinOp::RemU.eval(7, 0), 7);
        assert_eq!(BinOp::DivS.eval(7, 0), u64::MAX);
        assert_eq!(BinOp::RemS.eval(7, 0), 7);
    }

    #[test]
    fn mulhsu_treats_second_operand_unsigned() {
        assert_eq!(BinOp::MulHSU.eval(u64::MAX, u64::MAX), u64::MAX);
        assert_eq!(BinOp::MulHS.eval(u64::MAX, u64::MAX), 0);
    }

    #[test]
    fn rotr32_rotates_low_word_and_zero_extends() {
        assert_eq!(BinOp::Rotr32.eval(0xdead_beef_0000_0001, 1), 0x8000_0000);
        assert_eq!(BinOp::Rotr32.eval(0x1234_5678, 36), 0x8123_4567);
        assert_eq!(BinOp::Rotr32.eval(0xffff_ffff_8000_0000, 0), 0x8000_0000);
    }

    #[test]
    fn orc_b_fills_nonzero_bytes() {
        assert_eq!(UnOp::OrcB.eval(0x0001_0000_8000_0100), 0x00ff_0000_ff00_ff00);
    }
}
