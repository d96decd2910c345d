//! The stage-1 walk on hand-built tables (every granule, level, fault kind and permission), the
//! TLB's maintenance (TLBI, context changes) and AT, called directly from Rust.

mod mmu_common;

use mimic_arch_aarch64::mmu::{self, desc, fsc, walk, Walk, MMU_EL0, MMU_EL1, MMU_EL1_PAN};
use mimic_arch_aarch64::mmu_regs::MmuRegs;
use mimic_arch_aarch64::{Aarch64Cpu, Fault};
use mimic_core::{AddrRange, MemOp};
use mimic_memory::AddressSpace;
use mimic_softmmu::Prot;
use mmu_common::*;

const RAM: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 16 << 20;
/// Where tables are allocated.
const POOL: u64 = RAM + (8 << 20);
/// Pages the tests map and read.
const PA_A: u64 = RAM + 0x10_0000;
const PA_B: u64 = RAM + 0x20_0000;

fn bus() -> AddressSpace {
    let mut bus = AddressSpace::new();
    bus.add_ram("ram", AddrRange::new(RAM, RAM_SIZE)).expect("add RAM");
    bus
}

fn cpu(r: MmuRegs) -> Aarch64Cpu {
    let mut cpu = Aarch64Cpu::new(mimic_arch_aarch64::CpuConfig::test());
    cpu.mmu_regs = r;
    cpu.mmu_changed();
    cpu
}

/// 4K granule, 48-bit addresses, TTBR0 only.
fn tables4k() -> Tables {
    Tables::new(12, 48, POOL)
}

fn fault(r: &MmuRegs, bus: &AddressSpace, va: u64) -> u8 {
    walk(r, bus, va).expect_err("a fault")
}

fn ok(r: &MmuRegs, bus: &AddressSpace, va: u64) -> Walk {
    walk(r, bus, va).expect("a translation")
}

fn load(cpu: &mut Aarch64Cpu, bus: &mut AddressSpace, va: u64) -> Result<u64, Fault> {
    cpu.load_data(bus, va, MemOp::U64).map_err(|_| cpu.pending.take().expect("fault recorded"))
}

fn store(cpu: &mut Aarch64Cpu, bus: &mut AddressSpace, va: u64, v: u64) -> Result<(), Fault> {
    cpu.store_data(bus, va, v, MemOp::U64).map_err(|_| cpu.pending.take().expect("fault recorded"))
}

fn fetch(cpu: &mut Aarch64Cpu, bus: &mut AddressSpace, va: u64) -> Result<usize, Fault> {
    use mimic_exec::Guest;
    cpu.translate_fetch(bus, va).map_err(|_| cpu.pending.take().expect("fault recorded"))
}

// ---- granules, levels, blocks ---------------------------------------------------------------

#[test]
fn page_4k_translates_at_level_3() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x1234_5000, PA_A, 3, LEAF);
    let w = ok(&regs(&t, None), &bus, 0x1234_5678);
    assert_eq!((w.pa, w.level, w.size), (PA_A + 0x678, 3, 0x1000));
}

#[test]
fn blocks_4k_at_levels_1_and_2() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x8000_0000, 0x40_0000_0000 >> 2, 1, LEAF); // 1 GiB at 0x10_0000_0000
    t.map(&mut bus, 0x20_0000, RAM + 0x20_0000, 2, LEAF);
    let r = regs(&t, None);
    let w = ok(&r, &bus, 0x8000_0000 + 0x1234_5678);
    assert_eq!((w.pa, w.level, w.size), (0x10_0000_0000 + 0x1234_5678, 1, 1 << 30));
    let w = ok(&r, &bus, 0x2f_ff08);
    assert_eq!((w.pa, w.level, w.size), (RAM + 0x2f_ff08, 2, 2 << 20));
}

#[test]
fn block_at_level_0_is_a_translation_fault_with_4k() {
    let mut bus = bus();
    let mut t = tables4k();
    t.set(&mut bus, 0, 0, desc::AF | 1);
    assert_eq!(fault(&regs(&t, None), &bus, 0x1000), fsc::TRANSLATION);
}

#[test]
fn granule_16k_starts_at_level_0_with_two_entries() {
    let mut bus = bus();
    let mut t = Tables::new(14, 48, POOL);
    assert_eq!(t.start_level(), 0);
    let va = 0x8000_1234_4000u64; // bit 47 set: the second level-0 entry
    t.map(&mut bus, va, PA_A, 3, LEAF);
    t.map(&mut bus, 0x200_0000, RAM, 2, LEAF); // 32 MiB block
    let r = regs(&t, None);
    let w = ok(&r, &bus, va + 0x3ff8);
    assert_eq!((w.pa, w.level, w.size), (PA_A + 0x3ff8, 3, 0x4000));
    let w = ok(&r, &bus, 0x200_0000 + 0x123_4567);
    assert_eq!((w.pa, w.level, w.size), (RAM + 0x123_4567, 2, 32 << 20));
}

#[test]
fn granule_16k_has_no_level_1_blocks() {
    let mut bus = bus();
    let mut t = Tables::new(14, 48, POOL);
    t.map(&mut bus, 0, RAM, 1, LEAF);
    assert_eq!(fault(&regs(&t, None), &bus, 0x10), fsc::TRANSLATION + 1);
}

#[test]
fn granule_64k_starts_at_level_1_and_has_level_2_blocks() {
    let mut bus = bus();
    let mut t = Tables::new(16, 48, POOL);
    assert_eq!(t.start_level(), 1);
    t.map(&mut bus, 0x7_0001_0000, PA_A, 3, LEAF);
    t.map(&mut bus, 0x2000_0000, 0x6000_0000, 2, LEAF); // 512 MiB block
    t.map(&mut bus, 1 << 42, 0, 1, LEAF);
    let r = regs(&t, None);
    let w = ok(&r, &bus, 0x7_0001_fff0);
    assert_eq!((w.pa, w.level, w.size), (PA_A + 0xfff0, 3, 0x1_0000));
    let w = ok(&r, &bus, 0x2000_0000 + 0x1234_5678);
    assert_eq!((w.pa, w.level, w.size), (0x6000_0000 + 0x1234_5678, 2, 512 << 20));
    assert_eq!(fault(&r, &bus, 1 << 42), fsc::TRANSLATION + 1, "no 64K level-1 blocks");
}

#[test]
fn small_input_size_starts_lower() {
    let mut bus = bus();
    // 64K granule and T0SZ 39 (25-bit VAs): one level-3 table.
    let mut t = Tables::new(16, 25, POOL);
    assert_eq!(t.start_level(), 3);
    t.map(&mut bus, 0x1ff_0000, PA_A, 3, LEAF);
    let w = ok(&regs(&t, None), &bus, 0x1ff_1234);
    assert_eq!((w.pa, w.level), (PA_A + 0x1234, 3));
}

#[test]
fn ttbr1_translates_high_addresses_with_its_own_granule_encoding() {
    let mut bus = bus();
    let t0 = tables4k();
    // TTBR1: 16K granule (TG1 = 0b01, which in TG0 would mean 64K), 47-bit range.
    let mut t1 = Tables::new(14, 47, POOL + 0x10_0000);
    let va = 0xffff_8000_1234_4000u64;
    t1.map(&mut bus, va, PA_B, 3, LEAF);
    let r = regs(&t0, Some(&t1));
    let w = ok(&r, &bus, va + 0x10);
    assert_eq!((w.pa, w.size), (PA_B + 0x10, 0x4000));
    // Just below TTBR1's 47-bit range: in neither.
    assert_eq!(fault(&r, &bus, 0xffff_7fff_ffff_f000), fsc::TRANSLATION);
}

#[test]
fn ttbr0_with_64k_granule_uses_tg0_encoding() {
    let mut bus = bus();
    let mut t0 = Tables::new(16, 42, POOL);
    t0.map(&mut bus, 0x3_0000, PA_A, 3, LEAF);
    let r = regs(&t0, None);
    assert_eq!(r.tcr_el1 >> 14 & 3, 1);
    assert_eq!(ok(&r, &bus, 0x3_fffc).pa, PA_A + 0xfffc);
}

#[test]
fn address_between_the_ranges_is_a_level_0_translation_fault() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0, PA_A, 3, LEAF);
    let r = regs(&t, Some(&Tables::new(12, 48, POOL + 0x10_0000)));
    assert_eq!(fault(&r, &bus, 1 << 48), fsc::TRANSLATION);
    assert_eq!(fault(&r, &bus, 0xff00_0000_0000_0000), fsc::TRANSLATION);
}

#[test]
fn epd_disables_walks_of_that_half() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0, PA_A, 3, LEAF);
    let mut r = regs(&t, None);
    // EPD1 is set by `regs` without TTBR1 tables.
    assert_eq!(fault(&r, &bus, 0xffff_ffff_ffff_f000), fsc::TRANSLATION);
    r.tcr_el1 |= 1 << 7;
    assert_eq!(fault(&r, &bus, 0x10), fsc::TRANSLATION);
}

#[test]
fn invalid_descriptors_fault_at_their_level() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x20_0000, PA_A, 3, LEAF);
    let r = regs(&t, None);
    assert_eq!(fault(&r, &bus, 0x20_1000), fsc::TRANSLATION + 3);
    assert_eq!(fault(&r, &bus, 0x40_0000), fsc::TRANSLATION + 2);
    assert_eq!(fault(&r, &bus, 0x4000_0000), fsc::TRANSLATION + 1);
    assert_eq!(fault(&r, &bus, 0x80_0000_0000), fsc::TRANSLATION);
}

#[test]
fn level_3_descriptor_with_block_encoding_is_reserved() {
    let mut bus = bus();
    let mut t = tables4k();
    t.set(&mut bus, 0x5000, 3, PA_A | LEAF | 1);
    assert_eq!(fault(&regs(&t, None), &bus, 0x5000), fsc::TRANSLATION + 3);
}

#[test]
fn access_flag_clear_faults_at_the_leaf_level() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, 0);
    t.map(&mut bus, 0x40_0000, RAM, 2, 0);
    let r = regs(&t, None);
    assert_eq!(fault(&r, &bus, 0x5000), fsc::ACCESS_FLAG + 3);
    assert_eq!(fault(&r, &bus, 0x40_0000), fsc::ACCESS_FLAG + 2);
}

#[test]
fn output_address_beyond_40_bits_is_an_address_size_fault() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, 1 << 40, 3, LEAF);
    t.map(&mut bus, 0x4000_0000, 1 << 44, 1, LEAF);
    t.set(&mut bus, 0x80_0000_0000, 0, 1 << 41 | 3); // a table beyond PA space
    let r = regs(&t, None);
    assert_eq!(fault(&r, &bus, 0x5000), fsc::ADDRESS_SIZE + 3);
    assert_eq!(fault(&r, &bus, 0x4000_0000), fsc::ADDRESS_SIZE + 1);
    assert_eq!(fault(&r, &bus, 0x80_0000_0000), fsc::ADDRESS_SIZE);
}

#[test]
fn ips_narrower_than_the_cpu_limits_output_addresses() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, 1 << 33, 3, LEAF);
    let mut r = regs(&t, None);
    assert!(walk(&r, &bus, 0x5000).is_ok());
    r.tcr_el1 &= !(7 << 32); // IPS 32 bits
    assert_eq!(fault(&r, &bus, 0x5000), fsc::ADDRESS_SIZE + 3);
}

#[test]
fn ttbr_beyond_the_output_size_is_a_level_0_address_size_fault() {
    let bus = bus();
    let mut r = regs(&tables4k(), None);
    r.ttbr0_el1 |= 1 << 45;
    assert_eq!(fault(&r, &bus, 0), fsc::ADDRESS_SIZE);
}

#[test]
fn table_outside_ram_is_an_external_abort_on_the_walk() {
    let bus = bus();
    let mut r = regs(&tables4k(), None);
    r.ttbr0_el1 = 0x1000;
    assert_eq!(fault(&r, &bus, 0), fsc::EXTERNAL_WALK);
}

/// Flash in its read-array mode: reads show the array and change nothing.
struct ArrayFlash;

impl mimic_memory::RomDevice for ArrayFlash {
    fn read(&mut self, offset: u64, size: mimic_core::Size, array: &[u8]) -> u64 {
        self.peek(offset, size, array).unwrap_or(0)
    }
    fn write(&mut self, _: u64, _: mimic_core::Size, _: u64, _: &mut [u8]) -> Option<std::ops::Range<usize>> {
        None
    }
    fn peek(&self, offset: u64, size: mimic_core::Size, array: &[u8]) -> Option<u64> {
        let at = offset as usize;
        array.get(at..at + size.bytes() as usize).map(mimic_memory::read_le)
    }
}

#[test]
fn tables_in_a_rom_device_are_walked_through_it() {
    // EDK2 turns the MMU on with its first tables in flash.
    let mut bus = bus();
    bus.add_rom_device("flash", AddrRange::new(0, 0x10_0000), Box::new(ArrayFlash)).unwrap();
    let mut t = Tables::new(12, 48, 0x8_0000);
    t.map(&mut bus, 0x1000, PA_A, 3, LEAF);
    assert_eq!(ok(&regs(&t, None), &bus, 0x1234).pa, PA_A + 0x234);
}

#[test]
fn tables_in_mmio_are_an_external_abort_on_the_walk() {
    struct Regs;
    impl mimic_memory::MmioDevice for Regs {
        fn read(&mut self, _: u64, _: mimic_core::Size) -> u64 {
            desc::VALID | desc::TABLE
        }
        fn write(&mut self, _: u64, _: mimic_core::Size, _: u64) {}
    }
    let mut bus = bus();
    bus.add_mmio("regs", AddrRange::new(0x1000, 0x1000), Box::new(Regs)).unwrap();
    let mut r = regs(&tables4k(), None);
    r.ttbr0_el1 = 0x1000;
    assert_eq!(fault(&r, &bus, 0), fsc::EXTERNAL_WALK);
}

#[test]
fn mmu_off_is_flat_device_memory_within_40_bits() {
    let bus = bus();
    let r = MmuRegs::default();
    let w = ok(&r, &bus, 0xff_ffff_fff8);
    assert_eq!(w.pa, 0xff_ffff_fff8);
    assert!(w.device());
    assert_eq!(fault(&r, &bus, 1 << 40), fsc::ADDRESS_SIZE);
}

#[test]
fn top_byte_is_ignored_only_with_tbi() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF);
    let mut r = regs(&t, None);
    let tagged = 0x5a00_0000_0000_5008u64;
    assert_eq!(fault(&r, &bus, tagged), fsc::TRANSLATION);
    r.tcr_el1 |= 1 << 37; // TBI0
    assert_eq!(ok(&r, &bus, tagged).pa, PA_A + 8);
}

#[test]
fn attributes_come_from_mair() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF);
    t.map(&mut bus, 0x6000, PA_A, 3, LEAF | ATTR_DEVICE);
    let r = regs(&t, None);
    assert_eq!(ok(&r, &bus, 0x5000).attr, 0xff);
    assert!(!ok(&r, &bus, 0x5000).device());
    assert!(ok(&r, &bus, 0x6000).device());
}

// ---- permissions ----------------------------------------------------------------------------

const R: Prot = Prot { read: true, write: false, exec: false };
const RW: Prot = Prot { read: true, write: true, exec: false };
const RX: Prot = Prot { read: true, write: false, exec: true };
const RWX: Prot = Prot { read: true, write: true, exec: true };
const X: Prot = Prot { read: false, write: false, exec: true };
const NONE: Prot = Prot { read: false, write: false, exec: false };

/// The [EL0, EL1, EL1 with PAN] permissions of a page with `attrs`, under SCTLR bits `sctlr`,
/// below a level-2 table descriptor with `table` bits.
fn prot(attrs: u64, table: u64, sctlr: u64) -> [Prot; 3] {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF | attrs);
    t.table_bits(&mut bus, 0x5000, 2, table);
    let mut r = regs(&t, None);
    r.sctlr_el1 |= sctlr;
    let p = ok(&r, &bus, 0x5000).prot;
    assert_eq!(p[3], NONE, "an EL1&0 translation gives EL2 nothing");
    [p[0], p[1], p[2]]
}

#[test]
fn ap_bits_give_el0_and_el1_access() {
    use desc::{AP_EL0, AP_RO};
    // EL0 may execute what it cannot read (execute-only memory); EL1 never executes what EL0
    // may write.
    assert_eq!(prot(0, 0, 0), [X, RWX, RWX]);
    assert_eq!(prot(AP_EL0, 0, 0), [RWX, RW, NONE]);
    assert_eq!(prot(AP_RO, 0, 0), [Prot { exec: true, ..NONE }, RX, RX]);
    assert_eq!(prot(AP_RO | AP_EL0, 0, 0), [RX, RX, X]);
}

#[test]
fn uxn_and_pxn_take_execute_away() {
    assert_eq!(prot(desc::AP_RO | desc::AP_EL0 | desc::UXN, 0, 0), [R, RX, X]);
    assert_eq!(prot(desc::AP_RO | desc::AP_EL0 | desc::PXN, 0, 0), [RX, R, NONE]);
}

#[test]
fn wxn_makes_writable_memory_execute_never() {
    let wxn = 1 << 19;
    assert_eq!(prot(0, 0, wxn), [X, RW, RW]);
    assert_eq!(prot(desc::AP_RO, 0, wxn), [Prot { exec: true, ..NONE }, RX, RX]);
    assert_eq!(prot(desc::AP_EL0, 0, wxn), [RW, RW, NONE]);
}

#[test]
fn table_bits_restrict_everything_below() {
    use desc::*;
    assert_eq!(prot(AP_EL0, AP_TABLE_NO_EL0, 0), [X, RWX, RWX]);
    assert_eq!(prot(AP_EL0, AP_TABLE_RO, 0), [RX, RX, X]);
    assert_eq!(prot(AP_EL0 | AP_RO, UXN_TABLE, 0), [R, RX, X]);
    assert_eq!(prot(0, PXN_TABLE, 0), [X, RW, RW]);
}

#[test]
fn store_to_read_only_page_is_a_permission_fault_with_write_set() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF | desc::AP_RO);
    let mut c = cpu(regs(&t, None));
    assert_eq!(load(&mut c, &mut bus, 0x5008), Ok(0));
    assert_eq!(store(&mut c, &mut bus, 0x5008, 1), Err(Fault::DataAbort { va: 0x5008, write: true, fsc: 0x0f }));
}

#[test]
fn el0_cannot_touch_el1_only_pages() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF);
    t.map(&mut bus, 0x20_0000, PA_B, 2, LEAF | desc::AP_EL0);
    let mut c = cpu(regs(&t, None));
    c.el = 0;
    c.mmu_changed();
    assert_eq!(load(&mut c, &mut bus, 0x5000), Err(Fault::DataAbort { va: 0x5000, write: false, fsc: 0x0f }));
    assert_eq!(load(&mut c, &mut bus, 0x20_0010), Ok(0));
    // Execute-only for EL0: fetches need UXN clear, not AP[1].
    assert!(fetch(&mut c, &mut bus, 0x5000).is_ok());
}

#[test]
fn pan_stops_el1_data_accesses_to_el0_pages_but_not_fetches() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF | desc::AP_EL0 | desc::AP_RO);
    let mut c = cpu(regs(&t, None));
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(0), "filled into the EL1 TLB");
    c.pan = true;
    c.mmu_changed();
    assert_eq!(load(&mut c, &mut bus, 0x5000), Err(Fault::DataAbort { va: 0x5000, write: false, fsc: 0x0f }));
    assert!(fetch(&mut c, &mut bus, 0x5000).is_ok());
    c.pan = false;
    c.mmu_changed();
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(0));
}

#[test]
fn execute_never_pages_fault_fetches_with_the_level() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF | desc::PXN);
    t.map(&mut bus, 0x40_0000, RAM, 2, LEAF | desc::PXN);
    let mut c = cpu(regs(&t, None));
    assert_eq!(fetch(&mut c, &mut bus, 0x5000), Err(Fault::InsnAbort { va: 0x5000, fsc: 0x0f }));
    assert_eq!(fetch(&mut c, &mut bus, 0x40_0000), Err(Fault::InsnAbort { va: 0x40_0000, fsc: 0x0e }));
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(0));
}

#[test]
fn fault_kinds_reach_the_cpu_with_their_fsc() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, 0);
    t.map(&mut bus, 0x6000, 0x10_0000, 3, LEAF); // no RAM there
    let mut c = cpu(regs(&t, None));
    assert_eq!(load(&mut c, &mut bus, 0x5000), Err(Fault::DataAbort { va: 0x5000, write: false, fsc: 0x0b }));
    assert_eq!(store(&mut c, &mut bus, 0x7000, 0), Err(Fault::DataAbort { va: 0x7000, write: true, fsc: 0x07 }));
    assert_eq!(load(&mut c, &mut bus, 0x6000), Err(Fault::DataAbort { va: 0x6000, write: false, fsc: 0x10 }));
    assert_eq!(fetch(&mut c, &mut bus, 0x6000), Err(Fault::InsnAbort { va: 0x6000, fsc: 0x10 }));
    assert_eq!(fetch(&mut c, &mut bus, 0x7000), Err(Fault::InsnAbort { va: 0x7000, fsc: 0x07 }));
}

// ---- alignment ------------------------------------------------------------------------------

#[test]
fn misaligned_access_to_device_memory_is_an_alignment_fault() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF | ATTR_DEVICE);
    let mut c = cpu(regs(&t, None));
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(0), "aligned is fine (and fills the TLB)");
    assert_eq!(load(&mut c, &mut bus, 0x5004), Err(Fault::DataAbort { va: 0x5004, write: false, fsc: 0x21 }));
    assert_eq!(store(&mut c, &mut bus, 0x5001, 0), Err(Fault::DataAbort { va: 0x5001, write: true, fsc: 0x21 }));
}

#[test]
fn a_device_page_back_from_the_victims_still_faults_misaligned_accesses() {
    // 0x5000 and 0x40_5000 share a TLB slot: the Normal page evicts the Device one, which
    // then comes back by a victim swap rather than a walk, and must still be Device.
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF | ATTR_DEVICE);
    t.map(&mut bus, 0x40_5000, PA_B, 3, LEAF);
    let mut c = cpu(regs(&t, None));
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(0));
    assert_eq!(load(&mut c, &mut bus, 0x40_5000), Ok(0));
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(0), "back from the victims");
    assert_eq!(load(&mut c, &mut bus, 0x5004), Err(Fault::DataAbort { va: 0x5004, write: false, fsc: 0x21 }));
    assert_eq!(load(&mut c, &mut bus, 0x40_5004), Ok(0), "the Normal page, swapped back in, is not Device");
}

#[test]
fn misaligned_access_with_the_mmu_off_is_an_alignment_fault() {
    let mut bus = bus();
    let mut c = cpu(MmuRegs::default());
    assert_eq!(load(&mut c, &mut bus, PA_A), Ok(0));
    assert_eq!(load(&mut c, &mut bus, PA_A + 2), Err(Fault::DataAbort { va: PA_A + 2, write: false, fsc: 0x21 }));
}

#[test]
fn sctlr_a_faults_misaligned_normal_accesses_before_translating() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF);
    let mut r = regs(&t, None);
    r.sctlr_el1 |= 2;
    let mut c = cpu(r);
    assert_eq!(load(&mut c, &mut bus, 0x5004), Err(Fault::DataAbort { va: 0x5004, write: false, fsc: 0x21 }));
    assert_eq!(load(&mut c, &mut bus, 0x9004), Err(Fault::DataAbort { va: 0x9004, write: false, fsc: 0x21 }));
}

#[test]
fn page_crossing_store_faulting_on_the_second_page_writes_nothing() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF);
    t.map(&mut bus, 0x6000, PA_B, 3, LEAF | desc::AP_RO);
    let mut c = cpu(regs(&t, None));
    assert_eq!(store(&mut c, &mut bus, 0x5ffc, u64::MAX), Err(Fault::DataAbort { va: 0x6000, write: true, fsc: 0x0f }));
    assert_eq!(read64(&bus, PA_A + 0xff8), 0);
}

#[test]
fn page_crossing_load_joins_two_physical_pages() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_B, 3, LEAF);
    t.map(&mut bus, 0x6000, PA_A, 3, LEAF);
    write64(&mut bus, PA_B + 0xff8, 0x4433_2211_0000_0000);
    write64(&mut bus, PA_A, 0x8877_6655);
    let mut c = cpu(regs(&t, None));
    assert_eq!(load(&mut c, &mut bus, 0x5ffc), Ok(0x8877_6655_4433_2211));
}

// ---- TLB maintenance --------------------------------------------------------------------------

/// A CPU with 0x5000 mapped to PA_A, whose first doubleword is 1, and PA_B's 2; the mapping is
/// in the TLB.
fn cached() -> (Aarch64Cpu, AddressSpace, Tables) {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF | desc::NG);
    write64(&mut bus, PA_A, 1);
    write64(&mut bus, PA_B, 2);
    let mut c = cpu(regs(&t, None));
    c.mmu_regs.ttbr0_el1 |= 5 << 48;
    c.mmu_changed();
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(1));
    // Remap without maintenance: the TLB may (and here does) still hold the old translation.
    t.map(&mut bus, 0x5000, PA_B, 3, LEAF | desc::NG);
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(1));
    (c, bus, t)
}

#[test]
fn tlbi_by_va_drops_the_page() {
    for (crm, op2) in [(7, 1), (3, 1), (7, 5), (3, 3), (3, 7), (1, 1)] {
        let (mut c, mut bus, _) = cached();
        mmu::tlbi(&mut c, 0, crm, op2, 5 << 48 | 0x5);
        assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(2), "TLBI crm {crm} op2 {op2}");
    }
}

#[test]
fn tlbi_by_va_of_another_page_keeps_this_one() {
    let (mut c, mut bus, _) = cached();
    mmu::tlbi(&mut c, 0, 7, 1, 5 << 48 | 0x6);
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(1));
}

#[test]
fn tlbi_by_va_inside_a_block_drops_it() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x20_0000, RAM, 2, LEAF);
    write64(&mut bus, RAM + 0x1000, 1);
    write64(&mut bus, RAM + 0x20_1000, 2);
    let mut c = cpu(regs(&t, None));
    assert_eq!(load(&mut c, &mut bus, 0x20_1000), Ok(1));
    t.map(&mut bus, 0x20_0000, RAM + 0x20_0000, 2, LEAF);
    mmu::tlbi(&mut c, 0, 3, 1, 0x3ff); // the block's last page
    assert_eq!(load(&mut c, &mut bus, 0x20_1000), Ok(2));
}

#[test]
fn tlbi_by_asid_drops_only_for_the_current_asid() {
    let (mut c, mut bus, _) = cached();
    mmu::tlbi(&mut c, 0, 7, 2, 6 << 48);
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(1), "another ASID's entries are not here");
    mmu::tlbi(&mut c, 0, 3, 2, 5 << 48);
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(2));
}

#[test]
fn tlbi_vmalle1_drops_everything() {
    let (mut c, mut bus, _) = cached();
    mmu::tlbi(&mut c, 0, 3, 0, 0);
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(2));
}

#[test]
fn asid_switch_drops_the_old_contexts_translations() {
    let (mut c, mut bus, _) = cached();
    c.mmu_regs.ttbr0_el1 = (c.mmu_regs.ttbr0_el1 & ((1 << 48) - 1)) | 6 << 48;
    c.mmu_changed();
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(2));
}

#[test]
fn asid_switch_keeps_global_translations() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF);
    t.map(&mut bus, 0x6000, PA_A, 3, LEAF | desc::NG);
    write64(&mut bus, PA_A, 1);
    write64(&mut bus, PA_B, 2);
    let mut c = cpu(regs(&t, None));
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(1));
    assert_eq!(load(&mut c, &mut bus, 0x6000), Ok(1));
    // Remap both without maintenance, then switch ASID: only the nG entry is walked again.
    t.map(&mut bus, 0x5000, PA_B, 3, LEAF);
    t.map(&mut bus, 0x6000, PA_B, 3, LEAF | desc::NG);
    c.mmu_regs.ttbr0_el1 |= 7 << 48;
    c.mmu_changed();
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(1), "a global entry holds for every ASID");
    assert_eq!(load(&mut c, &mut bus, 0x6000), Ok(2), "the old ASID's entry is gone");
}

#[test]
fn new_table_base_under_the_same_asid_keeps_the_tlb() {
    let (mut c, mut bus, _) = cached();
    c.mmu_regs.ttbr0_el1 += 0x1000;
    c.mmu_changed();
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(1));
}

#[test]
fn translation_control_change_drops_global_translations_too() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF);
    write64(&mut bus, PA_A, 1);
    write64(&mut bus, PA_B, 2);
    let mut c = cpu(regs(&t, None));
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(1));
    t.map(&mut bus, 0x5000, PA_B, 3, LEAF);
    c.mmu_regs.mair_el1 ^= 0xff00;
    c.mmu_changed();
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(2));
}

#[test]
fn asid_in_ttbr1_is_used_with_a1() {
    let (mut c, mut bus, mut t) = cached();
    c.mmu_regs.tcr_el1 |= 1 << 22; // A1: the ASID is TTBR1's
    c.mmu_regs.ttbr1_el1 = 9 << 48;
    c.mmu_changed();
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(2));
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF | desc::NG);
    mmu::tlbi(&mut c, 0, 7, 2, 5 << 48); // TTBR0's ASID: not the current one
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(2));
    mmu::tlbi(&mut c, 0, 7, 2, 9 << 48);
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(1));
}

#[test]
fn el_and_pan_changes_keep_the_tlb() {
    let (mut c, mut bus, _) = cached();
    c.el = 0;
    c.mmu_changed();
    c.el = 1;
    c.mmu_changed();
    assert_eq!(load(&mut c, &mut bus, 0x5000), Ok(1));
}

#[test]
fn tagged_addresses_are_flushed_by_their_untagged_va() {
    let (mut c, mut bus, mut t) = cached();
    c.mmu_regs.tcr_el1 |= 1 << 37;
    c.mmu_changed();
    assert_eq!(load(&mut c, &mut bus, 0x3400_0000_0000_5000), Ok(2));
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF);
    mmu::tlbi(&mut c, 0, 7, 1, 0x5);
    assert_eq!(load(&mut c, &mut bus, 0x3400_0000_0000_5000), Ok(1));
}

// ---- AT and PAR_EL1 -----------------------------------------------------------------------------

fn at(c: &mut Aarch64Cpu, bus: &mut AddressSpace, crm: u32, op2: u32, va: u64) -> u64 {
    mmu::at(c, bus, 0, crm, op2, va).expect("no exception");
    c.mmu_regs.par_el1
}

#[test]
fn at_success_reports_pa_and_attributes() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF);
    t.map(&mut bus, 0x6000, PA_B, 3, LEAF | ATTR_DEVICE);
    let mut c = cpu(regs(&t, None));
    let par = at(&mut c, &mut bus, 8, 0, 0x5123);
    assert_eq!(par, 0xff << 56 | PA_A | 1 << 11 | 1 << 9 | 3 << 7);
    let par = at(&mut c, &mut bus, 8, 1, 0x6000);
    assert_eq!(par, PA_B | 1 << 11 | 1 << 9 | 2 << 7, "Device: outer shareable");
}

#[test]
fn at_with_the_mmu_off_reports_the_flat_device_mapping() {
    let mut bus = bus();
    let mut c = cpu(MmuRegs::default());
    assert_eq!(at(&mut c, &mut bus, 8, 0, PA_A + 0x10), PA_A | 1 << 11 | 1 << 9 | 2 << 7);
}

#[test]
fn at_faults_set_f_and_fst() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF | desc::AP_RO);
    t.map(&mut bus, 0x6000, PA_A, 3, desc::AP_EL0);
    let mut c = cpu(regs(&t, None));
    assert_eq!(at(&mut c, &mut bus, 8, 1, 0x5000), 1 << 11 | 0x0f << 1 | 1, "S1E1W on read-only");
    assert_eq!(at(&mut c, &mut bus, 8, 2, 0x5000), 1 << 11 | 0x0f << 1 | 1, "S1E0R on EL1-only");
    assert_eq!(at(&mut c, &mut bus, 8, 0, 0x7000), 1 << 11 | 0x07 << 1 | 1, "unmapped");
    assert_eq!(at(&mut c, &mut bus, 8, 2, 0x6000), 1 << 11 | 0x0b << 1 | 1, "access flag");
    assert_eq!(c.pending, None);
}

#[test]
fn at_s1e1rp_honours_pan_and_s1e1r_does_not() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF | desc::AP_EL0);
    let mut c = cpu(regs(&t, None));
    c.pan = true;
    c.mmu_changed();
    assert_eq!(at(&mut c, &mut bus, 8, 0, 0x5000) & 1, 0);
    assert_eq!(at(&mut c, &mut bus, 9, 0, 0x5000), 1 << 11 | 0x0f << 1 | 1);
    assert_eq!(at(&mut c, &mut bus, 9, 1, 0x5000), 1 << 11 | 0x0f << 1 | 1);
}

#[test]
fn at_external_abort_on_the_walk_is_a_data_abort() {
    let mut bus = bus();
    let mut r = regs(&tables4k(), None);
    r.ttbr0_el1 = 0x1000;
    let mut c = cpu(r);
    let par = c.mmu_regs.par_el1;
    assert!(mmu::at(&mut c, &mut bus, 0, 8, 0, 0x5000).is_err());
    assert_eq!(c.pending, Some(Fault::DataAbort { va: 0x5000, write: true, fsc: 0x14 }));
    assert_eq!(c.mmu_regs.par_el1, par);
}

#[test]
fn translate_debug_ignores_permissions_and_records_nothing() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF);
    let mut c = cpu(regs(&t, None));
    c.el = 0;
    c.mmu_changed();
    assert_eq!(c.translate_debug(&mut bus, 0x5010), Some(PA_A + 0x10));
    assert_eq!(c.translate_debug(&mut bus, 0x7000), None);
    assert_eq!(c.pending, None);
    assert_eq!(c.tlb.lookup_read(MMU_EL0, 0x5010, 1), None);
    assert_eq!(c.tlb.lookup_read(MMU_EL1, 0x5010, 1), None);
    assert_eq!(c.tlb.lookup_read(MMU_EL1_PAN, 0x5010, 1), None);
}

#[test]
fn misaligned_access_reaching_into_device_memory_faults_at_its_start() {
    let mut bus = bus();
    let mut t = tables4k();
    t.map(&mut bus, 0x5000, PA_A, 3, LEAF);
    t.map(&mut bus, 0x6000, PA_B, 3, LEAF | ATTR_DEVICE);
    let mut c = cpu(regs(&t, None));
    assert_eq!(load(&mut c, &mut bus, 0x5ffe), Err(Fault::DataAbort { va: 0x5ffe, write: false, fsc: 0x21 }));
}
