//! The shape of one memory access: how wide, whether the loaded value is sign-extended, and the
//! byte order.

/// Access width in bytes, as a power of two.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Size {
    B1 = 0,
    B2 = 1,
    B4 = 2,
    B8 = 3,
}

impl Size {
    pub const fn bytes(self) -> u64 {
        1 << (self as u32)
    }
    pub const fn bits(self) -> u32 {
        8 << (self as u32)
    }
    pub const fn from_bytes(n: u64) -> Option<Size> {
        match n {
            1 => Some(Size::B1),
            2 => Some(Size::B2),
            4 => Some(Size::B4),
            8 => Some(Size::B8),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Endian {
    Little,
    Big,
}

/// One memory operation's shape.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct MemOp {
    pub size: Size,
    pub signed: bool,
    pub endian: Endian,
    /// Checked with the permissions of the least privileged mode rather than the current one
    /// (AArch64's LDTR/STTR at EL1, which the kernel copies user memory with); see
    /// `Guest::unpriv_tlb`.
    pub unpriv: bool,
}

impl MemOp {
    pub const fn new(size: Size, signed: bool) -> Self {
        MemOp { size, signed, endian: Endian::Little, unpriv: false }
    }
    /// The same access, with the least privileged mode's permissions.
    pub const fn unprivileged(self) -> Self {
        MemOp { unpriv: true, ..self }
    }
    pub const U8: MemOp = MemOp::new(Size::B1, false);
    pub const U16: MemOp = MemOp::new(Size::B2, false);
    pub const U32: MemOp = MemOp::new(Size::B4, false);
    pub const U64: MemOp = MemOp::new(Size::B8, false);
    pub const S8: MemOp = MemOp::new(Size::B1, true);
    pub const S16: MemOp = MemOp::new(Size::B2, true);
    pub const S32: MemOp = MemOp::new(Size::B4, true);

    /// Extend a raw little-endian value of this width to 64 bits as the operation asks.
    #[inline(always)]
    pub const fn extend(self, raw: u64) -> u64 {
        let bits = self.size.bits();
        if bits == 64 {
            return raw;
        }
        if self.signed {
            let sh = 64 - bits;
            (((raw << sh) as i64) >> sh) as u64
        } else {
            raw & ((1u64 << bits) - 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_byte_extends_top_bit() {
        assert_eq!(MemOp::S8.extend(0x80), 0xffff_ffff_ffff_ff80);
    }

    #[test]
    fn unsigned_word_masks_high_bits() {
        assert_eq!(MemOp::U32.extend(0x1_8000_0000), 0x8000_0000);
    }
}
