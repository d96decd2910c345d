//! Debugger watchpoints on the A64 CPU, under the debug runner (`mimic_exec::run_debug`, the
//! one tier that honours them): an access to a watched range stops the instruction before it
//! touches memory, pc at that instruction (GDB steps over it itself); only the watched kind of
//! access stops; other accesses to the same page go on.

use mimic_arch_aarch64::cpu::CpuConfig;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::mmu::Watchpoint;
use mimic_arch_aarch64::Aarch64Cpu;
use mimic_core::AddrRange;
use mimic_exec::{run_debug, Debug, LogFlags, RunOutcome};
use mimic_memory::AddressSpace;

const RAM_BASE: u64 = 0x4000_0000;
/// On the same page as the code.
const DATA: u64 = RAM_BASE + 0x800;
const WFI: u32 = 0xd503_207f;
const X: u32 = 3;
const STORE: u32 = 0;
const LOAD: u32 = 1;
const VALUE: u64 = 0x1122_3344_5566_7788;

/// `code` at RAM_BASE, x1 = DATA, x2 = VALUE, memory zero.
fn machine(code: &[u32]) -> (Aarch64Cpu, AddressSpace) {
    let mut bus = AddressSpace::new();
    bus.add_ram("ram", AddrRange::new(RAM_BASE, 0x10000)).unwrap();
    let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    bus.write_bytes(RAM_BASE, &bytes).unwrap();
    let mut cpu = Aarch64Cpu::new(CpuConfig::test());
    cpu.reset(RAM_BASE);
    cpu.regs[1] = DATA;
    cpu.regs[2] = VALUE;
    (cpu, bus)
}

fn run(cpu: &mut Aarch64Cpu, bus: &mut AddressSpace) -> RunOutcome {
    let d = Debug { breakpoints: Vec::new(), skip_breakpoint_at: None, single_step: false };
    run_debug(cpu, bus, 100, LogFlags::default(), &d)
}

fn watch(addr: u64, len: u64, read: bool, write: bool) -> Watchpoint {
    Watchpoint { addr, len, read, write }
}

fn word_at(bus: &AddressSpace, addr: u64) -> u64 {
    let mut b = [0u8; 8];
    bus.read_bytes(addr, &mut b).unwrap();
    u64::from_le_bytes(b)
}

#[test]
fn a_store_to_a_watched_word_stops_before_it_with_pc_at_the_store() {
    // ldr x3, [x1]; str x2, [x1, #8]; wfi
    let (mut cpu, mut bus) = machine(&[enc::ldst_uimm(X, LOAD, 3, 1, 0), enc::ldst_uimm(X, STORE, 2, 1, 1), WFI]);
    cpu.set_watchpoints(vec![watch(DATA + 8, 8, false, true)]);
    assert_eq!(run(&mut cpu, &mut bus), RunOutcome::Watchpoint);
    assert_eq!(cpu.pc, RAM_BASE + 4, "the load beside the watched word ran, the store did not");
    assert_eq!(cpu.take_watch_hit(), Some((DATA + 8, true)));
    assert_eq!(word_at(&bus, DATA + 8), 0, "memory is unchanged");
}

#[test]
fn a_write_watchpoint_lets_a_load_of_the_word_through() {
    let (mut cpu, mut bus) = machine(&[enc::ldst_uimm(X, LOAD, 3, 1, 0), WFI]);
    cpu.set_watchpoints(vec![watch(DATA, 8, false, true)]);
    assert_eq!(run(&mut cpu, &mut bus), RunOutcome::Halted);
    assert_eq!(cpu.take_watch_hit(), None);
}

#[test]
fn a_read_watchpoint_on_one_byte_stops_a_load_that_covers_it() {
    let (mut cpu, mut bus) = machine(&[enc::ldst_uimm(X, LOAD, 3, 1, 0), WFI]);
    cpu.regs[3] = 7;
    cpu.set_watchpoints(vec![watch(DATA + 5, 1, true, false)]);
    assert_eq!(run(&mut cpu, &mut bus), RunOutcome::Watchpoint);
    assert_eq!(cpu.pc, RAM_BASE);
    assert_eq!(cpu.regs[3], 7, "the load did not happen");
    assert_eq!(cpu.take_watch_hit(), Some((DATA + 5, false)));
}

#[test]
fn a_page_already_in_the_tlb_is_watched_from_the_next_access_on() {
    let (mut cpu, mut bus) = machine(&[enc::ldst_uimm(X, STORE, 2, 1, 0), WFI]);
    assert_eq!(run(&mut cpu, &mut bus), RunOutcome::Halted);
    assert_eq!(word_at(&bus, DATA), VALUE, "the first run stored (and mapped the page)");
    // Back to the store without a reset (which would flush the TLB itself).
    cpu.pc = RAM_BASE;
    cpu.halted = false;
    cpu.regs[2] = 5;
    cpu.set_watchpoints(vec![watch(DATA, 8, false, true)]);
    assert_eq!(run(&mut cpu, &mut bus), RunOutcome::Watchpoint);
    assert_eq!(word_at(&bus, DATA), VALUE, "the watched store did not happen");
    cpu.set_watchpoints(Vec::new());
    assert_eq!(run(&mut cpu, &mut bus), RunOutcome::Halted);
    assert_eq!(word_at(&bus, DATA), 5, "without the watchpoint the store runs");
}
