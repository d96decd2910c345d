//! Hand-built VMSAv8-64 translation tables in guest RAM, for the MMU tests.
//!
//! [`Tables`] allocates tables of one granule from a pool of RAM and maps single pages or blocks
//! at the level asked for; descriptor attribute bits come from `mimic_arch_aarch64::mmu::desc`.
#![allow(dead_code)]

use mimic_arch_aarch64::mmu::desc;
use mimic_arch_aarch64::mmu_regs::MmuRegs;
use mimic_memory::AddressSpace;

/// AF plus inner shareable: the attribute bits of an ordinary leaf (AttrIndx 0, EL1 RW only).
pub const LEAF: u64 = desc::AF | 3 << 8;
/// MAIR with attribute 0 Normal write-back, 1 Device-nGnRnE, 2 Normal non-cacheable.
pub const MAIR: u64 = 0x44_00_ff;
pub const ATTR_DEVICE: u64 = 1 << 2;
pub const ATTR_NC: u64 = 2 << 2;

/// SCTLR_EL1.M.
pub const SCTLR_M: u64 = 1;

pub fn read64(bus: &AddressSpace, pa: u64) -> u64 {
    let mut b = [0u8; 8];
    bus.read_bytes(pa, &mut b).expect("descriptor in RAM");
    u64::from_le_bytes(b)
}

pub fn write64(bus: &mut AddressSpace, pa: u64, v: u64) {
    bus.write_bytes(pa, &v.to_le_bytes()).expect("descriptor in RAM");
}

/// One half's translation tables (TTBR0 or TTBR1): granule `1 << grain` bytes, `inputsize`-bit
/// addresses.
pub struct Tables {
    pub grain: u32,
    pub inputsize: u32,
    pub root: u64,
    /// Next free table in the pool.
    next: u64,
}

impl Tables {
    /// Tables of granule `1 << grain` for `inputsize`-bit addresses, allocated upward from
    /// `pool` (which must be zeroed RAM).
    pub fn new(grain: u32, inputsize: u32, pool: u64) -> Self {
        let size = 1u64 << grain;
        let root = (pool + size - 1) & !(size - 1);
        Tables { grain, inputsize, root, next: root + size }
    }

    pub fn stride(&self) -> u32 {
        self.grain - 3
    }

    pub fn start_level(&self) -> u32 {
        4 - (self.inputsize - self.grain).div_ceil(self.stride())
    }

    /// Lowest VA bit the index at `level` uses.
    pub fn lsb(&self, level: u32) -> u32 {
        self.grain + (3 - level) * self.stride()
    }

    fn index(&self, va: u64, level: u32) -> u64 {
        let lsb = self.lsb(level);
        let width = (self.inputsize - lsb).min(self.stride());
        (va >> lsb) & ((1 << width) - 1)
    }

    /// Where the descriptor for `va` at `level` lives, creating the tables above it.
    pub fn slot(&mut self, bus: &mut AddressSpace, va: u64, level: u32) -> u64 {
        let mut table = self.root;
        for l in self.start_level()..level {
            let at = table + 8 * self.index(va, l);
            let d = read64(bus, at);
            if d & 3 == 3 {
                table = d & ((1 << 48) - 1) & !((1u64 << self.grain) - 1);
            } else {
                let t = self.next;
                self.next += 1 << self.grain;
                write64(bus, at, t | 3);
                table = t;
            }
        }
        table + 8 * self.index(va, level)
    }

    /// Map `va` to `pa` with a leaf at `level` (a page at 3, a block above) and `attrs`.
    pub fn map(&mut self, bus: &mut AddressSpace, va: u64, pa: u64, level: u32, attrs: u64) {
        let at = self.slot(bus, va, level);
        let kind = if level == 3 { 3 } else { 1 };
        write64(bus, at, pa | attrs | kind);
    }

    /// Write a raw descriptor for `va` at `level`.
    pub fn set(&mut self, bus: &mut AddressSpace, va: u64, level: u32, d: u64) {
        let at = self.slot(bus, va, level);
        write64(bus, at, d);
    }

    /// OR `bits` into the table descriptor at `level` on `va`'s path (which must exist).
    pub fn table_bits(&mut self, bus: &mut AddressSpace, va: u64, level: u32, bits: u64) {
        let at = self.slot(bus, va, level);
        let d = read64(bus, at);
        write64(bus, at, d | bits);
    }
}

/// TCR_EL1.TG0 encodings (4K, 16K, 64K granule).
pub fn tg0(grain: u32) -> u64 {
    match grain {
        12 => 0,
        14 => 2,
        _ => 1,
    }
}

/// TCR_EL1.TG1 encodings: different from TG0's.
pub fn tg1(grain: u32) -> u64 {
    match grain {
        12 => 2,
        14 => 1,
        _ => 3,
    }
}

/// MMU registers with the MMU on, TTBR0 walking `t0` and TTBR1 walking `t1` (or EPD1 set),
/// IPS 40 bits.
pub fn regs(t0: &Tables, t1: Option<&Tables>) -> MmuRegs {
    let mut tcr = u64::from(64 - t0.inputsize) | tg0(t0.grain) << 14 | 2 << 32;
    let mut ttbr1 = 0;
    match t1 {
        Some(t1) => {
            tcr |= u64::from(64 - t1.inputsize) << 16 | tg1(t1.grain) << 30;
            ttbr1 = t1.root;
        }
        None => tcr |= 1 << 23,
    }
    MmuRegs {
        sctlr_el1: SCTLR_M,
        tcr_el1: tcr,
        ttbr0_el1: t0.root,
        ttbr1_el1: ttbr1,
        mair_el1: MAIR,
        ..MmuRegs::default()
    }
}
