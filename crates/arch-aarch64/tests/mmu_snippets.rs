//! Programs that fetch, load and store through translation tables set up from Rust, on every
//! execution tier (the JIT tiers probe the data TLB inline); all must end in the same state.
//!
//! ```text
//!   physical                           virtual
//!   0x4000_0000  CODE_PA  code         KCODE = 0xffff_0000_0000_0000 (TTBR1, EL1 read/execute)
//!   0x4001_0000  DATA_PA  4 pages      mapped per test, usually at UDATA = 0x1000_0000 (TTBR0)
//!   0x4008_0000  POOL     tables
//! ```

mod common;
mod mmu_common;

use common::{Tier, BUDGET, RAM_BASE, RAM_SIZE, TIERS};
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::mmu::desc;
use mimic_arch_aarch64::{Aarch64Cpu, Fault};
use mimic_core::AddrRange;
use mimic_exec::RunOutcome;
use mimic_memory::AddressSpace;
use mmu_common::*;

const CODE_PA: u64 = RAM_BASE;
const DATA_PA: u64 = RAM_BASE + 0x1_0000;
const DATA_LEN: usize = 0x4000;
const POOL: u64 = RAM_BASE + 0x8_0000;
const KCODE: u64 = 0xffff_0000_0000_0000;
const UDATA: u64 = 0x1000_0000;
/// A vector table of `wfi`s (mapped at KVECTORS through TTBR1), so an exception ends the
/// program at its vector with the exception kept in `taken`.
const VECTORS_PA: u64 = RAM_BASE + 0x7_f000;
const KVECTORS: u64 = KCODE + 0x10_0000;

// size and opc fields of the load/store encodings.
const S: u32 = 2;
const D: u32 = 3;
const STORE: u32 = 0;
const LOAD: u32 = 1;
/// Condition NE.
const NE: u32 = 1;

/// Everything a program can observe after it ran.
#[derive(Debug, PartialEq, Eq)]
struct Final {
    x: [u64; 32],
    pc: u64,
    taken: Option<(Fault, u64)>,
    data: Vec<u8>,
}

impl Final {
    fn x(&self, r: usize) -> u64 {
        self.x[r]
    }
    fn mem(&self, pa: u64) -> u64 {
        let o = (pa - DATA_PA) as usize;
        u64::from_le_bytes(self.data[o..o + 8].try_into().unwrap())
    }
}

/// A program and the translation set-up it runs under.
struct Program {
    code: Vec<u32>,
    /// Where the code is fetched from (it lives at CODE_PA).
    pc: u64,
    x: Vec<(usize, u64)>,
    el: u8,
    pan: bool,
    /// Extra SCTLR_EL1 bits.
    sctlr: u64,
    /// Extra TCR_EL1 bits.
    tcr: u64,
    /// TTBR0's granule (log2 of its size).
    grain0: u32,
    /// Physical memory contents.
    mem: Vec<(u64, u64)>,
    /// Mappings beyond KCODE: (va, pa, leaf attributes) of 4K pages, in TTBR0 or TTBR1 by va.
    maps: Vec<(u64, u64, u64)>,
}

impl Program {
    fn new(code: &[u32]) -> Self {
        Program {
            code: code.to_vec(),
            pc: KCODE,
            x: vec![],
            el: 1,
            pan: false,
            sctlr: 0,
            tcr: 0,
            grain0: 12,
            mem: vec![],
            maps: vec![],
        }
    }
    fn x(mut self, r: usize, v: u64) -> Self {
        self.x.push((r, v));
        self
    }
    fn mem64(mut self, pa: u64, v: u64) -> Self {
        self.mem.push((pa, v));
        self
    }
    fn map(mut self, va: u64, pa: u64, attrs: u64) -> Self {
        self.maps.push((va, pa, attrs));
        self
    }

    fn build(&self) -> (Aarch64Cpu, AddressSpace) {
        let mut bus = AddressSpace::new();
        bus.add_ram("ram", AddrRange::new(RAM_BASE, RAM_SIZE)).expect("add RAM");
        let mut words = self.code.clone();
        words.push(enc::wfi());
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        bus.write_bytes(CODE_PA, &bytes).expect("write code");
        for &(pa, v) in &self.mem {
            write64(&mut bus, pa, v);
        }
        let mut t0 = Tables::new(self.grain0, 48, POOL);
        let mut t1 = Tables::new(12, 48, POOL + 0x4_0000);
        // Read-only at EL1, no EL0 access: EL1 may execute it.
        t1.map(&mut bus, KCODE, CODE_PA, 3, LEAF | desc::AP_RO);
        let wfis: Vec<u8> = (0..1024).flat_map(|_| enc::wfi().to_le_bytes()).collect();
        bus.write_bytes(VECTORS_PA, &wfis).expect("write vectors");
        t1.map(&mut bus, KVECTORS, VECTORS_PA, 3, LEAF | desc::AP_RO);
        for &(va, pa, attrs) in &self.maps {
            let t = if va >> 55 & 1 != 0 { &mut t1 } else { &mut t0 };
            t.map(&mut bus, va, pa, 3, attrs);
        }
        let mut cpu = Aarch64Cpu::new(mimic_arch_aarch64::CpuConfig::test());
        cpu.reset(self.pc);
        // The atomics tests use FEAT_LSE; nothing else here does.
        cpu.features.lse = true;
        cpu.mmu_regs = regs(&t0, Some(&t1));
        // nTWI: WFI, the end marker, does not trap at EL0.
        cpu.mmu_regs.sctlr_el1 |= self.sctlr | 1 << 16;
        cpu.mmu_regs.tcr_el1 |= self.tcr;
        cpu.el = self.el;
        cpu.pan = self.pan;
        cpu.sys.vbar = KVECTORS;
        cpu.mmu_changed();
        for &(r, v) in &self.x {
            cpu.regs[r] = v;
        }
        (cpu, bus)
    }

    fn run_on(&self, tier: Tier) -> Final {
        let (mut cpu, mut bus) = self.build();
        let outcome = tier.run(&mut cpu, &mut bus, BUDGET);
        assert_eq!(outcome, RunOutcome::Halted, "{tier:?}: still running (pc {:#x})", cpu.pc);
        let mut data = vec![0u8; DATA_LEN];
        bus.read_bytes(DATA_PA, &mut data).expect("read DATA");
        let mut x = [0u64; 32];
        x.copy_from_slice(&cpu.regs[..32]);
        Final { x, pc: cpu.pc, taken: cpu.taken, data }
    }

    /// Run on every tier; all must agree.
    #[track_caller]
    fn run(&self) -> Final {
        let reference = self.run_on(TIERS[0]);
        for &t in &TIERS[1..] {
            assert_eq!(self.run_on(t), reference, "tier {t:?} differs from {:?}", TIERS[0]);
        }
        reference
    }

    /// Run to the end marker.
    #[track_caller]
    fn ok(&self) -> Final {
        let f = self.run();
        assert_eq!(f.taken, None, "program raised an exception");
        assert_eq!(f.pc, self.pc + 4 * self.code.len() as u64 + 4, "program did not end at its end marker");
        f
    }
}

/// EL1 read/write data (Normal memory).
const RW_EL1: u64 = LEAF;
/// EL0 and EL1 read/write data, never executable.
const RW_EL0: u64 = LEAF | desc::AP_EL0 | desc::UXN | desc::PXN;

#[test]
fn code_through_ttbr1_sums_data_through_ttbr0() {
    let mut p = Program::new(&[
        enc::movz(5, 0, 0),
        enc::ldst_post(D, LOAD, 6, 1, 8), // loop: x6 = [x1], x1 += 8
        enc::add_reg(5, 5, 6, 0, 0),
        enc::subs_imm(1, 2, 2, 1, 0),
        enc::b_cond(NE, -12),
        enc::ldst_uimm(D, STORE, 5, 1, 0), // the sum after the array (second page)
    ])
    .x(1, UDATA + 0xf80)
    .x(2, 32)
    .map(UDATA, DATA_PA + 0x2000, RW_EL1)
    .map(UDATA + 0x1000, DATA_PA, RW_EL1);
    for i in 0..32 {
        let va_off = 0xf80 + 8 * i;
        let pa = if va_off < 0x1000 { DATA_PA + 0x2000 + va_off } else { DATA_PA + va_off - 0x1000 };
        p = p.mem64(pa, i + 1);
    }
    let f = p.ok();
    assert_eq!(f.x(5), 32 * 33 / 2);
    assert_eq!(f.mem(DATA_PA + 0x80), 32 * 33 / 2);
}

#[test]
fn page_crossing_misaligned_access_on_normal_memory() {
    let f = Program::new(&[
        enc::ldst_unscaled(D, LOAD, 3, 1, 0),   // ldur x3, [x1]
        enc::ldst_unscaled(D, STORE, 3, 1, -3), // stur x3, [x1, #-3]
    ])
    .x(1, UDATA + 0xffc)
    .map(UDATA, DATA_PA + 0x2000, RW_EL1)
    .map(UDATA + 0x1000, DATA_PA, RW_EL1)
    .mem64(DATA_PA + 0x2ff8, 0x4433_2211_0000_0000)
    .mem64(DATA_PA, 0x8877_6655)
    .ok();
    assert_eq!(f.x(3), 0x8877_6655_4433_2211);
    // Stored from VA 0xff9: seven bytes in the first page, one in the second.
    assert_eq!(f.mem(DATA_PA + 0x2ff8), 0x7766_5544_3322_1100);
    assert_eq!(f.mem(DATA_PA) & 0xff_ffff, 0x77_6688);
}

/// `pairs` after loads that put both pages around UDATA + 0x1000 in the TLB, with X1 at the
/// first page's last doubleword; the second page maps below the first in physical memory.
fn at_a_page_boundary(pairs: &[u32], second_page: u64) -> Program {
    let mut code = vec![
        enc::ldst_uimm(D, LOAD, 7, 1, 0),     // ldr x7, [x1]
        enc::ldst_unscaled(D, LOAD, 8, 1, 8), // ldur x8, [x1, #8]
    ];
    code.extend_from_slice(pairs);
    Program::new(&code).x(1, UDATA + 0xff8).map(UDATA, DATA_PA + 0x2000, RW_EL1).map(
        UDATA + 0x1000,
        DATA_PA,
        second_page,
    )
}

#[test]
fn pairs_across_a_page_boundary_reach_both_physical_pages() {
    // Each pair's first element ends the first page and its second starts the next one.
    let f = at_a_page_boundary(
        &[
            enc::ldstp_off(2, 1, 3, 4, 1, 0), // ldp x3, x4, [x1]
            enc::ldstp_off(0, 1, 5, 6, 2, 0), // ldp w5, w6, [x2]
            enc::ldstp_off(2, 0, 4, 3, 1, 0), // stp x4, x3, [x1]
        ],
        RW_EL1,
    )
    .x(2, UDATA + 0xffc)
    .mem64(DATA_PA + 0x2ff8, 0x1111_2222_3333_4444)
    .mem64(DATA_PA, 0x5555_6666_7777_8888)
    .ok();
    assert_eq!((f.x(3), f.x(4)), (0x1111_2222_3333_4444, 0x5555_6666_7777_8888));
    assert_eq!((f.x(5), f.x(6)), (0x1111_2222, 0x7777_8888));
    assert_eq!((f.mem(DATA_PA + 0x2ff8), f.mem(DATA_PA)), (0x5555_6666_7777_8888, 0x1111_2222_3333_4444));
}

#[test]
fn misaligned_pairs_within_a_page_load_and_store_every_byte() {
    let f = Program::new(&[
        enc::ldstp_off(2, 1, 3, 4, 1, 0), // ldp x3, x4, [x1]
        enc::ldstp_off(2, 0, 4, 3, 2, 0), // stp x4, x3, [x2]
    ])
    .x(1, UDATA + 4)
    .x(2, UDATA + 0x103)
    .map(UDATA, DATA_PA, RW_EL1)
    .mem64(DATA_PA, 0x4444_4444_0000_0000)
    .mem64(DATA_PA + 8, 0x6666_6666_5555_5555)
    .mem64(DATA_PA + 16, 0x7777_7777)
    .ok();
    assert_eq!((f.x(3), f.x(4)), (0x5555_5555_4444_4444, 0x7777_7777_6666_6666));
    // Stored from 0x103: x4's eight bytes, then x3's.
    assert_eq!(f.mem(DATA_PA + 0x100), 0x7766_6666_6600_0000);
    assert_eq!(f.mem(DATA_PA + 0x108), 0x5544_4444_4477_7777);
    assert_eq!(f.mem(DATA_PA + 0x110), 0x55_5555);
}

#[test]
fn pair_store_faulting_on_the_second_page_stores_the_first_element() {
    let f = at_a_page_boundary(&[enc::ldstp_off(2, 0, 3, 4, 1, 0)], LEAF | desc::AP_RO) // stp x3, x4, [x1]
        .x(3, 0x33)
        .x(4, 0x44)
        .run();
    assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA + 0x1000, write: true, fsc: 0x0f }, KCODE + 8)));
    assert_eq!((f.mem(DATA_PA + 0x2ff8), f.mem(DATA_PA)), (0x33, 0));
}

#[test]
fn pair_load_faulting_on_the_second_page_reports_its_pc_with_earlier_results_kept() {
    // Compiled, x7 is still in a host register when the pair misses the TLB; the slow path
    // that faults must find it in the register file, and the pair's registers unchanged.
    let f = Program::new(&[enc::ldst_uimm(D, LOAD, 7, 1, 0), enc::ldstp_off(2, 1, 3, 4, 1, 0)]) // ldr x7, [x1]; ldp x3, x4, [x1]
        .x(1, UDATA + 0xff8)
        .x(3, 0x33)
        .x(4, 0x44)
        .map(UDATA, DATA_PA, RW_EL1)
        .mem64(DATA_PA + 0xff8, 0x77)
        .run();
    assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA + 0x1000, write: false, fsc: 0x07 }, KCODE + 4)));
    assert_eq!((f.x(7), f.x(3), f.x(4)), (0x77, 0x33, 0x44));
}

/// `first`, then x1 = (x4 + x5) ^ x6, x2 = x1 + x4 and `stp x1, x2, [x7]` with x7 at UDATA + 8:
/// both values are computed in the pair's own block, so a compiling tier stores them from the
/// block's main path, through the context's scratch words when the TLB misses (the slow path
/// then stores or faults).
fn computed_pair_store(first: &[u32], page: u64) -> Program {
    let mut code = first.to_vec();
    code.extend([
        enc::add_reg(1, 4, 5, 0, 0),
        enc::eor_reg(1, 1, 6, 0, 0),
        enc::add_reg(2, 1, 4, 0, 0),
        enc::ldstp_off(2, 0, 1, 2, 7, 0), // stp x1, x2, [x7]
    ]);
    Program::new(&code)
        .x(4, 0x1111_0000_0000_0007)
        .x(5, 0x0202)
        .x(6, 0xff)
        .x(7, UDATA + 8)
        .map(UDATA, DATA_PA, page)
        .mem64(DATA_PA, 0xaa)
        .mem64(DATA_PA + 24, 0xaa)
}

const PAIR_FIRST: u64 = (0x1111_0000_0000_0007u64 + 0x0202) ^ 0xff;
const PAIR_SECOND: u64 = PAIR_FIRST + 0x1111_0000_0000_0007;

#[test]
fn a_pair_computed_in_its_block_is_stored_on_a_page_the_tlb_does_not_hold() {
    let f = computed_pair_store(&[], RW_EL1).ok();
    assert_eq!((f.mem(DATA_PA + 8), f.mem(DATA_PA + 16)), (PAIR_FIRST, PAIR_SECOND));
    assert_eq!((f.x(1), f.x(2)), (PAIR_FIRST, PAIR_SECOND));
    assert_eq!((f.mem(DATA_PA), f.mem(DATA_PA + 24)), (0xaa, 0xaa));
}

#[test]
fn a_pair_computed_in_its_block_is_stored_on_a_page_the_tlb_holds() {
    // str xzr, [x7, #32] puts the page in the TLB for stores.
    let f = computed_pair_store(&[enc::ldst_uimm(D, STORE, 31, 7, 4)], RW_EL1).ok();
    assert_eq!((f.mem(DATA_PA + 8), f.mem(DATA_PA + 16)), (PAIR_FIRST, PAIR_SECOND));
    assert_eq!((f.x(1), f.x(2)), (PAIR_FIRST, PAIR_SECOND));
    assert_eq!((f.mem(DATA_PA), f.mem(DATA_PA + 24)), (0xaa, 0xaa));
}

#[test]
fn a_pair_computed_in_its_block_faults_on_a_read_only_page_the_tlb_holds_for_reads() {
    // ldr x9, [x7] puts the page in the TLB for reads only.
    let f = computed_pair_store(&[enc::ldst_uimm(D, LOAD, 9, 7, 0)], LEAF | desc::AP_RO).run();
    assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA + 8, write: true, fsc: 0x0f }, KCODE + 16)));
    assert_eq!((f.x(1), f.x(2)), (PAIR_FIRST, PAIR_SECOND));
    assert_eq!((f.mem(DATA_PA + 8), f.mem(DATA_PA + 16)), (0, 0), "nothing stored");
}

#[test]
fn misaligned_access_to_device_memory_is_an_alignment_fault() {
    let f = Program::new(&[enc::ldst_uimm(S, LOAD, 3, 1, 0), enc::ldst_unscaled(S, LOAD, 4, 1, 2)])
        .x(1, UDATA)
        .x(4, 0x44)
        .map(UDATA, DATA_PA, LEAF | ATTR_DEVICE)
        .mem64(DATA_PA, 0x1234_5678)
        .run();
    assert_eq!(f.x(3), 0x1234_5678, "aligned Device accesses work");
    assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA + 2, write: false, fsc: 0x21 }, KCODE + 4)));
    assert_eq!(f.x(4), 0x44);
}

#[test]
fn store_to_read_only_page_is_a_permission_fault_with_write_set() {
    let f = Program::new(&[enc::ldst_uimm(D, LOAD, 3, 1, 0), enc::ldst_post(D, STORE, 3, 1, 8)])
        .x(1, UDATA + 8)
        .map(UDATA, DATA_PA, LEAF | desc::AP_RO)
        .mem64(DATA_PA + 8, 0x77)
        .run();
    assert_eq!(f.x(3), 0x77);
    assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA + 8, write: true, fsc: 0x0f }, KCODE + 4)));
    assert_eq!(f.x(1), UDATA + 8, "the base is not written back");
}

#[test]
fn unmapped_data_is_a_translation_fault_at_the_missing_level() {
    let f = Program::new(&[enc::ldst_uimm(D, LOAD, 3, 1, 0)]).x(1, UDATA + 0x20_0000).map(UDATA, DATA_PA, RW_EL1).run();
    assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA + 0x20_0000, write: false, fsc: 0x06 }, KCODE)));
}

// ---- FEAT_LSE atomics: a read and a write, checked before either happens ----

#[test]
fn atomic_on_a_read_only_page_is_a_permission_fault_with_write_set() {
    let f = Program::new(&[enc::ldadd(D, 0, 2, 1, 3)])
        .x(1, UDATA + 8)
        .x(2, 1)
        .x(3, 0x55)
        .map(UDATA, DATA_PA, LEAF | desc::AP_RO)
        .mem64(DATA_PA + 8, 0x77)
        .run();
    assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA + 8, write: true, fsc: 0x0f }, KCODE)));
    assert_eq!((f.mem(DATA_PA + 8), f.x(3)), (0x77, 0x55), "neither memory nor Rt changed");
}

#[test]
fn failing_cas_on_a_read_only_page_still_faults_as_a_write() {
    // Memory holds 0x77, Xs 1: the comparison would fail, but the write permission is checked.
    let f = Program::new(&[enc::cas(D, 0, 2, 1, 3)])
        .x(1, UDATA)
        .x(2, 1)
        .map(UDATA, DATA_PA, LEAF | desc::AP_RO)
        .mem64(DATA_PA, 0x77)
        .run();
    assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA, write: true, fsc: 0x0f }, KCODE)));
    assert_eq!(f.x(2), 1, "Xs keeps its value");
}

#[test]
fn atomic_on_an_unmapped_page_is_a_translation_fault_as_a_read() {
    let f = Program::new(&[enc::swp(D, 0, 2, 1, 3)]).x(1, UDATA + 0x20_0000).map(UDATA, DATA_PA, RW_EL1).run();
    assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA + 0x20_0000, write: false, fsc: 0x06 }, KCODE)));
}

#[test]
fn atomic_on_a_writable_page_goes_through_the_translation() {
    let f = Program::new(&[enc::ldset(D, 0, 2, 1, 3), enc::casp(1, 0, 4, 1, 6)])
        .x(1, UDATA + 0x10)
        .x(2, 0xf0)
        .x(4, 0xff)
        .x(6, 0xaa)
        .x(7, 0xbb)
        .map(UDATA, DATA_PA + 0x1000, RW_EL1)
        .mem64(DATA_PA + 0x1010, 0x0f)
        .ok();
    assert_eq!(f.x(3), 0x0f);
    assert_eq!((f.mem(DATA_PA + 0x1010), f.mem(DATA_PA + 0x1018)), (0xaa, 0xbb));
}

#[test]
fn branch_to_unmapped_code_is_an_instruction_abort() {
    let f = Program::new(&[enc::br(1)]).x(1, KCODE + 0x1000).run();
    assert_eq!(f.taken, Some((Fault::InsnAbort { va: KCODE + 0x1000, fsc: 0x07 }, KCODE + 0x1000)));
}

#[test]
fn code_on_a_non_executable_page_is_an_instruction_abort() {
    // The data page is mapped EL1-executable-never; jump into it.
    let f = Program::new(&[enc::br(1)]).x(1, UDATA).map(UDATA, CODE_PA, RW_EL1 | desc::PXN).run();
    assert_eq!(f.taken, Some((Fault::InsnAbort { va: UDATA, fsc: 0x0f }, UDATA)));
}

#[test]
fn ldtr_and_sttr_use_el0_permissions_under_pan() {
    let f = Program::new(&[
        enc::ldst_unpriv(D, LOAD, 3, 1, 0),  // ldtr x3, [x1]: EL0 may read
        enc::ldst_unpriv(D, STORE, 3, 1, 8), // sttr x3, [x1, #8]
        enc::ldst_uimm(D, LOAD, 4, 1, 0),    // ldr: PAN forbids
    ])
    .x(1, UDATA)
    .map(UDATA, DATA_PA, RW_EL0)
    .mem64(DATA_PA, 0xabcd)
    .x(4, 0x44)
    .run();
    assert_eq!(f.x(3), 0xabcd);
    assert_eq!(f.mem(DATA_PA + 8), 0xabcd);
    assert_eq!(f.taken, None, "without PAN, EL1 may read EL0 data");

    let mut p = Program::new(&[
        enc::ldst_unpriv(D, LOAD, 3, 1, 0),
        enc::ldst_unpriv(D, STORE, 3, 1, 8),
        enc::ldst_uimm(D, LOAD, 4, 1, 0),
    ])
    .x(1, UDATA)
    .x(4, 0x44)
    .map(UDATA, DATA_PA, RW_EL0)
    .mem64(DATA_PA, 0xabcd);
    p.pan = true;
    let f = p.run();
    assert_eq!(f.x(3), 0xabcd);
    assert_eq!(f.mem(DATA_PA + 8), 0xabcd);
    assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA, write: false, fsc: 0x0f }, KCODE + 8)));
    assert_eq!(f.x(4), 0x44);
}

#[test]
fn ldtr_at_el1_cannot_read_el1_only_pages() {
    let f = Program::new(&[enc::ldst_uimm(D, LOAD, 3, 1, 0), enc::ldst_unpriv(D, LOAD, 4, 1, 0)])
        .x(1, UDATA)
        .map(UDATA, DATA_PA, RW_EL1)
        .mem64(DATA_PA, 5)
        .run();
    assert_eq!(f.x(3), 5);
    assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA, write: false, fsc: 0x0f }, KCODE + 4)));
}

#[test]
fn el0_code_runs_on_el0_pages_and_cannot_read_el1_data() {
    const UCODE: u64 = 0x40_0000;
    let mut p = Program::new(&[
        enc::ldst_uimm(D, LOAD, 3, 1, 0),
        enc::ldst_uimm(D, STORE, 3, 1, 1),
        enc::ldst_uimm(D, LOAD, 4, 2, 0),
    ])
    .x(1, UDATA)
    .x(2, UDATA + 0x1000)
    .map(UCODE, CODE_PA, LEAF | desc::AP_EL0 | desc::AP_RO)
    .map(UDATA, DATA_PA, RW_EL0)
    .map(UDATA + 0x1000, DATA_PA + 0x1000, RW_EL1)
    .mem64(DATA_PA, 9);
    p.pc = UCODE;
    p.el = 0;
    let f = p.run();
    assert_eq!(f.mem(DATA_PA + 8), 9);
    assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA + 0x1000, write: false, fsc: 0x0f }, UCODE + 8)));
}

#[test]
fn el1_cannot_execute_what_el0_may_write() {
    let f = Program::new(&[enc::br(1)]).x(1, UDATA).map(UDATA, CODE_PA, LEAF | desc::AP_EL0).run();
    assert_eq!(f.taken, Some((Fault::InsnAbort { va: UDATA, fsc: 0x0f }, UDATA)));
}

#[test]
fn store_through_an_alias_to_decoded_code_is_seen_when_it_runs_again() {
    // The code page is also mapped writable at UDATA: a subroutine at +20 runs once, is
    // overwritten through the alias with `movz x4, #7`, and runs again.
    const SUB: u64 = 20;
    let f = Program::new(&[
        enc::bl(SUB as i64),               // 0
        enc::ldst_uimm(S, STORE, 2, 1, 0), // 4: patch the subroutine
        enc::bl(SUB as i64 - 8),           // 8
        enc::b(16),                        // 12: to the end marker (28)
        enc::movz(9, 0, 0),                // 16
        enc::movz(4, 1, 0),                // 20: the subroutine
        enc::ret(30),                      // 24
    ])
    .x(1, UDATA + SUB)
    .x(2, u64::from(enc::movz(4, 7, 0)))
    .map(UDATA, CODE_PA, RW_EL1)
    .ok();
    assert_eq!(f.x(4), 7);
}

#[test]
fn tagged_data_addresses_translate_only_with_tbi() {
    let tagged = 0x5a00_0000_0000_0000 | UDATA;
    let mut p = Program::new(&[enc::ldst_uimm(D, LOAD, 3, 1, 0), enc::ldst_uimm(D, STORE, 3, 1, 1)])
        .x(1, tagged)
        .map(UDATA, DATA_PA, RW_EL1)
        .mem64(DATA_PA, 0x99);
    let f = p.run();
    assert_eq!(f.taken, Some((Fault::DataAbort { va: tagged, write: false, fsc: 0x04 }, KCODE)));
    p.tcr = 1 << 37; // TBI0
    let f = p.ok();
    assert_eq!(f.mem(DATA_PA + 8), 0x99);
}

#[test]
fn sctlr_a_makes_misaligned_normal_accesses_fault() {
    let mut p = Program::new(&[enc::ldst_unscaled(D, LOAD, 3, 1, 4)]).x(1, UDATA).map(UDATA, DATA_PA, RW_EL1);
    p.sctlr = 2;
    let f = p.run();
    assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA + 4, write: false, fsc: 0x21 }, KCODE)));
}

#[test]
fn sctlr_a_faults_misaligned_accesses_to_a_page_already_in_the_tlb() {
    for (insn, write) in [(enc::ldst_unscaled(D, LOAD, 3, 1, 4), false), (enc::ldst_unscaled(D, STORE, 3, 1, 4), true)]
    {
        // The aligned load fills the TLB; the misaligned access to the same page still faults.
        let mut p = Program::new(&[enc::ldst_uimm(D, LOAD, 5, 1, 0), insn]).x(1, UDATA).map(UDATA, DATA_PA, RW_EL1);
        p.sctlr = 2;
        let f = p.run();
        assert_eq!(f.taken, Some((Fault::DataAbort { va: UDATA + 4, write, fsc: 0x21 }, KCODE + 4)));
    }
}

#[test]
fn misaligned_accesses_inside_a_page_in_the_tlb_reach_every_byte() {
    let f = Program::new(&[
        enc::ldst_uimm(D, LOAD, 5, 1, 0),         // ldr x5, [x1]: the page is in the TLB
        enc::ldst_unscaled(D, LOAD, 3, 1, 3),     // ldur x3, [x1, #3]
        enc::ldst_unscaled(S, LOAD, 4, 1, 13),    // ldur w4, [x1, #13]
        enc::ldst_unscaled(D, STORE, 3, 1, 0x41), // stur x3, [x1, #0x41]
    ])
    .x(1, UDATA)
    .map(UDATA, DATA_PA, RW_EL1)
    .mem64(DATA_PA, 0x7766_5544_3322_1100)
    .mem64(DATA_PA + 8, 0xffee_ddcc_bbaa_9988)
    .mem64(DATA_PA + 16, 0x1716_1514_1312_1110)
    .ok();
    assert_eq!(f.x(3), 0xaa99_8877_6655_4433);
    assert_eq!(f.x(4), 0x10ff_eedd);
    assert_eq!((f.mem(DATA_PA + 0x40), f.mem(DATA_PA + 0x48)), (0x9988_7766_5544_3300, 0xaa));
}

#[test]
fn data_in_a_64k_page_is_reached_through_every_4k_piece() {
    let mut p = Program::new(&[
        enc::ldst_uimm(D, LOAD, 3, 1, 0),
        enc::ldst_uimm(D, LOAD, 4, 2, 0),
        enc::add_reg(5, 3, 4, 0, 0),
        enc::ldst_uimm(D, STORE, 5, 2, 1),
    ])
    .x(1, UDATA + 0x8)
    .x(2, UDATA + 0x3ff0)
    .map(UDATA, DATA_PA, RW_EL1)
    .mem64(DATA_PA + 0x8, 40)
    .mem64(DATA_PA + 0x3ff0, 2);
    p.grain0 = 16;
    let f = p.ok();
    assert_eq!(f.x(5), 42);
    assert_eq!(f.mem(DATA_PA + 0x3ff8), 42);
}
