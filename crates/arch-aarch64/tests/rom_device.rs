//! Code running from a ROM device (flash, as firmware does on the Arm `virt` board): fetched
//! from the device's array in the backing store, while its loads and stores reach the device,
//! on every tier.

mod common;

use common::{RAM_BASE, RAM_SIZE, TIERS};
use mimic_arch_aarch64::cpu::CpuConfig;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::Aarch64Cpu;
use mimic_core::{AddrRange, Size};
use mimic_memory::{AddressSpace, RomDevice};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const WFI: u32 = 0xd503_207f;
const W: u32 = 2;
const STORE: u32 = 0;

/// Answers data reads with the array's bytes inverted (so a read that bypassed it shows), and
/// counts writes without changing anything.
struct Inverting {
    writes: Arc<AtomicU64>,
}

impl RomDevice for Inverting {
    fn read(&mut self, offset: u64, size: Size, array: &[u8]) -> u64 {
        let at = offset as usize;
        let raw = mimic_memory::read_le(&array[at..at + size.bytes() as usize]);
        !raw & (u64::MAX >> (64 - 8 * size.bytes()))
    }
    fn write(&mut self, _offset: u64, _size: Size, _value: u64, _array: &mut [u8]) -> Option<Range<usize>> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        None
    }
}

#[test]
fn code_in_a_rom_device_runs_and_its_data_accesses_go_through_the_device() {
    for &tier in TIERS {
        let writes = Arc::new(AtomicU64::new(0));
        let mut bus = AddressSpace::new();
        bus.add_rom_device("flash", AddrRange::new(0, 0x1000), Box::new(Inverting { writes: writes.clone() })).unwrap();
        bus.add_ram("ram", AddrRange::new(RAM_BASE, RAM_SIZE)).unwrap();
        // A literal-pool load from the flash itself (as firmware running from flash does), then
        // a store to it (a flash command).
        let code = [enc::ldr_lit_w(1, 12), enc::ldst_uimm(W, STORE, 1, 2, 0), WFI, 0x1234_5678];
        let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        bus.write_bytes(0, &bytes).unwrap();
        let mut cpu = Aarch64Cpu::new(CpuConfig::test());
        cpu.reset(0);
        cpu.regs[2] = 0x100;
        tier.run(&mut cpu, &mut bus, 1000);
        assert_eq!(cpu.pc, 12, "{tier:?}: ran to the wfi");
        assert_eq!(cpu.regs[1], 0xedcb_a987, "{tier:?}: the load went through the device");
        assert_eq!(writes.load(Ordering::Relaxed), 1, "{tier:?}: the store went to the device");
    }
}
