//! What the ARM PrimeCell peripherals (PL011, PL031, PL061) share: the identification registers
//! at the top of their 4 KiB window, and the rule for access widths on their 32-bit registers.

use mimic_core::Size;

/// First byte of the eight identification registers (`PeriphID0..3`, `PCellID0..3`).
pub const ID_BASE: u64 = 0xfe0;
/// The PrimeCell component ID every PrimeCell reports in `PCellID0..3`.
pub const PCELL_ID: u32 = 0xb105_f00d;
/// Size of a PrimeCell's register window.
pub const WINDOW: u64 = 0x1000;

/// The identification register at `offset` (`0xfe0..0x1000`, one byte per 32-bit word), for a
/// peripheral with `periph_id`. `None` outside the ID block or not word-aligned.
pub(crate) fn id_register(offset: u64, periph_id: u32) -> Option<u32> {
    if !(ID_BASE..WINDOW).contains(&offset) || !offset.is_multiple_of(4) {
        return None;
    }
    let i = (offset - ID_BASE) / 4;
    let word = if i < 4 { periph_id } else { PCELL_ID };
    Some((word >> (8 * (i % 4))) & 0xff)
}

/// The value a read of width `size` returns from a 32-bit register holding `reg`: PrimeCell
/// registers are read through the low lanes, so narrower reads see the low bits.
pub(crate) fn narrow(reg: u32, size: Size) -> u64 {
    match size {
        Size::B1 => u64::from(reg & 0xff),
        Size::B2 => u64::from(reg & 0xffff),
        Size::B4 | Size::B8 => u64::from(reg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_register_splits_ids_into_bytes() {
        let ids: Vec<u32> = (0..8).map(|i| id_register(ID_BASE + 4 * i, 0x0004_1011).unwrap()).collect();
        assert_eq!(ids, vec![0x11, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
    }

    #[test]
    fn id_register_outside_block_is_none() {
        assert_eq!((id_register(0xfdc, 1), id_register(0xfe2, 1), id_register(0x1000, 1)), (None, None, None));
    }
}
