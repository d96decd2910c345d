//! Snippet harness for the A64 semantics tests.
//!
//! A [`Snippet`] is a few encoded instructions plus the state they start from. [`Snippet::run`]
//! executes it on every execution tier in [`TIERS`], checks that all tiers end in the same
//! [`Final`] state, and returns that state.
//!
//! ```text
//!   0x0900_0000  IRQCTL  a write of v drives the CPU's interrupt inputs to v (bit 0 IRQ, 1 FIQ)
//!   0x4000_0000  CODE    snippet words ... then `wfi` (end marker)
//!   0x4000_8000  VECTORS VBAR_EL1: 16 entries of `wfi; b .-4` unless the snippet gives code
//!   0x4001_0000  DATA    4 KiB window, snapshotted into `Final::data`
//!   RAM is 1 MiB from 0x4000_0000 (where the Arm `virt` board puts RAM).
//!   With `Snippet::gic(intid)`, a `MockGic` is the CPU's GICv3 CPU interface (ICC_*): its
//!   accesses land in `Final::icc`, which every tier must agree on.
//! ```
//!
//! A snippet starts at EL1 (SP_EL1, DAIF masked) and ends at its `wfi`, or at the `wfi` of the
//! vector an exception took it to (the exception is recorded in `Aarch64Cpu::taken` and in the
//! ESR/ELR/SPSR/FAR snapshot). One that does neither within [`BUDGET`] instructions fails the
//! test at once.
//!
//! The MMU is off unless [`Snippet::normal_memory`] asks for it: data accesses are then to
//! Device-nGnRnE memory, where misaligned accesses fault. With it, the last page of RAM holds a
//! level-1 table that maps RAM's gigabyte as Normal memory at the same addresses.
#![allow(dead_code)]

use mimic_arch_aarch64::cpu::{Conduit, CpuConfig, NUM_REGS, SP};
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::GicPort;
use mimic_arch_aarch64::{Aarch64Cpu, Fault};
use mimic_core::{AddrRange, GicCpuInterface, IccReg, IrqLine, SharedBits, Size};
use mimic_exec::{LogFlags, RunOutcome, Tiers};
use mimic_jit::Jit;
use mimic_memory::{AddressSpace, MmioDevice};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub const RAM_BASE: u64 = 0x4000_0000;
pub const RAM_SIZE: u64 = 1 << 20;
pub const CODE: u64 = RAM_BASE;
pub const VECTORS: u64 = RAM_BASE + 0x8000;
pub const DATA: u64 = RAM_BASE + 0x1_0000;
pub const IRQCTL: u64 = 0x0900_0000;
pub const DATA_LEN: usize = 0x1000;
/// Instructions a snippet may execute before it counts as hung.
pub const BUDGET: u64 = 10_000;

/// NZCV bits as the 4-bit value `Aarch64Cpu::nzcv` returns.
pub mod nzcv {
    pub const N: u32 = 8;
    pub const Z: u32 = 4;
    pub const C: u32 = 2;
    pub const V: u32 = 1;
}

/// Condition codes.
pub mod cond {
    pub const EQ: u32 = 0;
    pub const NE: u32 = 1;
    pub const CS: u32 = 2;
    pub const CC: u32 = 3;
    pub const MI: u32 = 4;
    pub const PL: u32 = 5;
    pub const VS: u32 = 6;
    pub const VC: u32 = 7;
    pub const HI: u32 = 8;
    pub const LS: u32 = 9;
    pub const GE: u32 = 10;
    pub const LT: u32 = 11;
    pub const GT: u32 = 12;
    pub const LE: u32 = 13;
    pub const AL: u32 = 14;
    pub const NV: u32 = 15;
}

type TierRun = fn(&mut Aarch64Cpu, &mut AddressSpace, u64) -> RunOutcome;

/// Declares the execution tiers. Adding a tier is one line here.
macro_rules! tiers {
    ($($name:ident => $run:expr,)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Tier { $($name,)* }
        /// Every tier a snippet runs on; the first is the reference the others must match.
        pub const TIERS: &[Tier] = &[$(Tier::$name,)*];
        impl Tier {
            pub fn run(self, cpu: &mut Aarch64Cpu, bus: &mut AddressSpace, budget: u64) -> RunOutcome {
                match self { $(Tier::$name => { let f: TierRun = $run; f(cpu, bus, budget) })* }
            }
        }
    };
}

tiers! {
    Direct => |cpu, bus, budget| mimic_exec::run(cpu, bus, budget, LogFlags::default()),
    // Threshold 0: every block is compiled before it first runs, so the JIT runs everything.
    Jit => |cpu, bus, budget| {
        let mut jit = Jit::<Aarch64Cpu>::new().expect("a JIT for this host");
        let out = mimic_exec::run_tiered(cpu, bus, budget, LogFlags::default(), Tiers { compiler: &mut jit, threshold: 0 });
        // Falling back to the interpreter would make the comparison vacuous.
        assert_eq!(jit.stats().failed, 0, "a block was left to the interpreter");
        assert!(jit.stats().compiled > 0, "the JIT compiled nothing");
        out
    },
    // Blocks run interpreted twice, then compiled: loops cross from one tier to the other.
    JitWarm => |cpu, bus, budget| {
        let mut jit = Jit::<Aarch64Cpu>::new().expect("a JIT for this host");
        let out = mimic_exec::run_tiered(cpu, bus, budget, LogFlags::default(), Tiers { compiler: &mut jit, threshold: 2 });
        assert_eq!(jit.stats().failed, 0, "a block was left to the interpreter");
        out
    },
}

/// Everything a snippet can observe after it ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Final {
    /// X0..X30, then SP.
    pub x: [u64; 32],
    pub nzcv: u32,
    pub pc: u64,
    /// The exception that stopped the snippet, and the pc that raised it.
    pub taken: Option<(Fault, u64)>,
    /// V0..V31.
    pub v: [u128; 32],
    pub fpsr: u64,
    /// The DATA window.
    pub data: Vec<u8>,
    /// Address of the end marker.
    pub end: u64,
    pub sys: Sys,
    /// What reached the mock GIC ([`Snippet::gic`]), in order.
    pub icc: Vec<Icc>,
}

/// The system state a snippet can change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sys {
    pub el: u8,
    pub spsel: bool,
    pub daif: u64,
    pub pan: bool,
    pub elr: u64,
    pub esr: u64,
    pub far: u64,
    pub spsr: u64,
    pub sp_el0: u64,
    pub sp_el1: u64,
    pub fpcr: u64,
    pub fpsr: u64,
    pub fw_call: bool,
    /// Levels of the physical and virtual timer lines as the mock lines last saw them.
    pub timer_lines: [bool; 2],
    pub irq_lines: u64,
    /// ELR_EL2, ESR_EL2, FAR_EL2, SPSR_EL2, HPFAR_EL2 (zero unless the CPU has EL2).
    pub el2: El2Snap,
    /// ELR_EL3, ESR_EL3, FAR_EL3, SPSR_EL3 and SCR_EL3 (reset values unless the CPU has EL3).
    pub el3: El3Snap,
}

/// The EL3 exception registers and SCR_EL3.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct El3Snap {
    pub elr: u64,
    pub esr: u64,
    pub far: u64,
    pub spsr: u64,
    pub scr: u64,
}

/// The EL2 exception registers (and HPFAR_EL2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct El2Snap {
    pub elr: u64,
    pub esr: u64,
    pub far: u64,
    pub spsr: u64,
    pub hpfar: u64,
}

/// Offsets of vector table entries.
pub mod vec {
    pub const SYNC_SP0: u64 = 0x000;
    pub const IRQ_SP0: u64 = 0x080;
    pub const SYNC_SPX: u64 = 0x200;
    pub const IRQ_SPX: u64 = 0x280;
    pub const FIQ_SPX: u64 = 0x300;
    pub const SYNC_LOWER: u64 = 0x400;
    pub const IRQ_LOWER: u64 = 0x480;
}

impl Final {
    pub fn x(&self, r: usize) -> u64 {
        self.x[r]
    }
    pub fn sp(&self) -> u64 {
        self.x[SP]
    }
    pub fn v(&self, n: usize) -> u128 {
        self.v[n]
    }
    /// The low 64 bits of V`n` (a D register).
    pub fn d(&self, n: usize) -> u64 {
        self.v[n] as u64
    }
    /// Little-endian read of `n` bytes from the DATA window.
    pub fn mem(&self, addr: u64, n: usize) -> u64 {
        let o = (addr - DATA) as usize;
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(&self.data[o..o + n]);
        u64::from_le_bytes(b)
    }
    /// The vector table entry the snippet stopped in, if it stopped in one.
    pub fn vector(&self) -> Option<u64> {
        (VECTORS..VECTORS + 0x800).contains(&self.pc).then(|| (self.pc - VECTORS) & !0x7f)
    }
    /// ESR_EL1.EC.
    pub fn ec(&self) -> u64 {
        self.sys.esr >> 26
    }
    /// Panics (with the exception) unless the snippet ran to its end marker.
    #[track_caller]
    pub fn ok(self) -> Final {
        assert_eq!(self.taken, None, "snippet raised an exception");
        assert_eq!(self.pc, self.end + 4, "snippet did not end at its end marker");
        self
    }
}

/// Instructions plus initial state. Defaults: all registers and flags 0, DATA zeroed, no
/// interrupt pending, the counter at 0.
#[derive(Clone, Debug, Default)]
pub struct Snippet {
    code: Vec<u32>,
    x: Vec<(usize, u64)>,
    nzcv: u32,
    mem: Vec<(u64, Vec<u8>)>,
    normal_memory: bool,
    guarded: bool,
    vectors: Vec<(u64, Vec<u32>)>,
    irq: u64,
    time: u64,
    conduit: Conduit,
    setup: Option<fn(&mut Aarch64Cpu)>,
    v: Vec<(usize, u128)>,
    fpcr: u64,
    gic_iar: Option<u32>,
}

/// A test's counter: ticks only when told.
#[derive(Clone, Default)]
pub struct Clock(pub Arc<AtomicU64>);

impl Clock {
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::SeqCst);
    }
}

/// A timer line that remembers its level.
#[derive(Clone, Default)]
pub struct MockLine(pub Arc<AtomicBool>);

impl IrqLine for MockLine {
    fn set_level(&self, high: bool) {
        self.0.store(high, Ordering::SeqCst);
    }
}

impl MockLine {
    pub fn level(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// One access the CPU made to the mock GIC's CPU interface (with the CPU index it gave).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Icc {
    Read(usize, IccReg),
    Write(usize, IccReg, u64),
}

/// The CPU index the snippet rig gives the CPU in the mock GIC (not 0, so that tests see it
/// passed through).
pub const MOCK_GIC_CPU: usize = 1;

/// A GICv3 CPU interface double: ICC_IAR1_EL1 answers `iar` and lowers the IRQ input (as
/// acknowledging does), ICC_SRE_EL1 reads 7, everything else reads 0; every access is logged.
pub struct MockGic {
    pub iar: u32,
    pub irq: SharedBits,
    pub log: Vec<Icc>,
}

impl GicCpuInterface for MockGic {
    fn icc_read(&mut self, cpu: usize, reg: IccReg) -> u64 {
        self.log.push(Icc::Read(cpu, reg));
        match reg {
            IccReg::Iar1 => {
                self.irq.set(1, false);
                u64::from(self.iar)
            }
            IccReg::Sre => 7,
            _ => 0,
        }
    }
    fn icc_write(&mut self, cpu: usize, reg: IccReg, value: u64) {
        self.log.push(Icc::Write(cpu, reg, value));
    }
}

/// Writes drive the interrupt inputs, as a GIC's CPU interface would.
struct IrqCtl(SharedBits);

impl MmioDevice for IrqCtl {
    fn read(&mut self, _: u64, _: Size) -> u64 {
        self.0.load()
    }
    fn write(&mut self, _: u64, _: Size, value: u64) {
        self.0.set(3, false);
        self.0.set(value & 3, true);
    }
}

/// A machine built for a snippet: the CPU, its bus, and the handles a test drives it by.
pub struct Rig {
    pub cpu: Aarch64Cpu,
    pub bus: AddressSpace,
    pub end: u64,
    pub clock: Clock,
    pub lines: [MockLine; 2],
    pub irq: SharedBits,
    pub gic: Option<Arc<Mutex<MockGic>>>,
}

impl Rig {
    pub fn run(&mut self, tier: Tier) -> RunOutcome {
        tier.run(&mut self.cpu, &mut self.bus, BUDGET)
    }

    pub fn snapshot(&self) -> Final {
        let cpu = &self.cpu;
        let mut data = vec![0u8; DATA_LEN];
        self.bus.read_bytes(DATA, &mut data).expect("read DATA");
        let mut x = [0u64; 32];
        x.copy_from_slice(&cpu.regs[..32]);
        let sys = Sys {
            el: cpu.el,
            spsel: cpu.spsel,
            daif: cpu.daif,
            pan: cpu.pan,
            elr: cpu.sys.elr,
            esr: cpu.sys.esr,
            far: cpu.sys.far,
            spsr: cpu.sys.spsr,
            sp_el0: cpu.sp_of(0),
            sp_el1: cpu.sp_of(1),
            fpcr: cpu.fpcr,
            fpsr: cpu.fpsr,
            fw_call: cpu.fw_call,
            timer_lines: [self.lines[0].level(), self.lines[1].level()],
            irq_lines: self.irq.load(),
            el2: El2Snap {
                elr: cpu.el2.elr,
                esr: cpu.el2.esr,
                far: cpu.el2.far,
                spsr: cpu.el2.spsr,
                hpfar: cpu.el2.hpfar,
            },
            el3: El3Snap { elr: cpu.el3.elr, esr: cpu.el3.esr, far: cpu.el3.far, spsr: cpu.el3.spsr, scr: cpu.el3.scr },
        };
        let v = std::array::from_fn(|n| cpu.v(n));
        let icc = self.gic.as_ref().map_or(vec![], |g| g.lock().unwrap().log.clone());
        Final { x, v, fpsr: cpu.fpsr, nzcv: cpu.nzcv(), pc: cpu.pc, taken: cpu.taken, data, end: self.end, sys, icc }
    }
}

/// Where [`Snippet::normal_memory`] puts its translation table.
pub const IDMAP_TABLE: u64 = RAM_BASE + RAM_SIZE - 0x1000;

impl Snippet {
    pub fn of(words: &[u32]) -> Self {
        Snippet { code: words.to_vec(), ..Default::default() }
    }
    /// Initial X`r` (31 sets SP).
    pub fn x(mut self, r: usize, v: u64) -> Self {
        assert!(r < 32);
        self.x.push((r, v));
        self
    }
    /// Keep only the first `n` instructions.
    pub fn code_truncate(&mut self, n: usize) {
        self.code.truncate(n);
    }
    /// Initial V`n`.
    pub fn v(mut self, n: usize, v: u128) -> Self {
        self.v.push((n, v));
        self
    }
    pub fn fpcr(mut self, v: u64) -> Self {
        self.fpcr = v;
        self
    }
    pub fn nzcv(mut self, v: u32) -> Self {
        self.nzcv = v;
        self
    }
    pub fn mem(mut self, addr: u64, bytes: &[u8]) -> Self {
        self.mem.push((addr, bytes.to_vec()));
        self
    }
    pub fn mem64(self, addr: u64, v: u64) -> Self {
        self.mem(addr, &v.to_le_bytes())
    }
    /// Code for the vector table entry at `offset` (at most 30 instructions; `wfi; b .-4`
    /// follows).
    pub fn vector(mut self, offset: u64, words: &[u32]) -> Self {
        assert!(offset.is_multiple_of(0x80) && offset < 0x800 && words.len() <= 30);
        self.vectors.push((offset, words.to_vec()));
        self
    }
    /// Interrupt inputs pending from the start.
    pub fn irq(mut self, bits: u64) -> Self {
        self.irq = bits;
        self
    }
    /// The counter's value while the snippet runs.
    pub fn time(mut self, t: u64) -> Self {
        self.time = t;
        self
    }
    pub fn conduit(mut self, c: Conduit) -> Self {
        self.conduit = c;
        self
    }
    /// Anything else to set up on the CPU before it runs.
    pub fn setup(mut self, f: fn(&mut Aarch64Cpu)) -> Self {
        self.setup = Some(f);
        self
    }
    /// Connect a [`MockGic`] whose ICC_IAR1_EL1 answers `iar` (a fresh one for each tier).
    pub fn gic(mut self, iar: u32) -> Self {
        self.gic_iar = Some(iar);
        self
    }
    /// Run with the MMU on and RAM identity-mapped as Normal write-back memory (EL1 read,
    /// write and execute), so misaligned accesses are performed rather than faulted.
    pub fn normal_memory(mut self) -> Self {
        self.normal_memory = true;
        self
    }

    /// With [`Snippet::normal_memory`]: the mapping of RAM is a guarded page (GP, FEAT_BTI).
    pub fn guarded(mut self) -> Self {
        self.guarded = true;
        self
    }

    pub fn build(&self) -> Rig {
        let mut bus = AddressSpace::new();
        bus.add_ram("ram", AddrRange::new(RAM_BASE, RAM_SIZE)).expect("add RAM");
        let irq = SharedBits::new();
        irq.set(self.irq, true);
        bus.add_mmio("irqctl", AddrRange::new(IRQCTL, 8), Box::new(IrqCtl(irq.clone()))).expect("add IRQCTL");
        let mut bytes: Vec<u8> = self.code.iter().flat_map(|w| w.to_le_bytes()).collect();
        let end = CODE + bytes.len() as u64;
        assert!(end + 4 <= VECTORS, "snippet too long");
        bytes.extend_from_slice(&enc::wfi().to_le_bytes());
        bus.write_bytes(CODE, &bytes).expect("write code");
        for entry in 0..16u64 {
            let mut words = self.vectors.iter().find(|(o, _)| *o == entry * 0x80).map_or(vec![], |(_, w)| w.clone());
            words.extend([enc::wfi(), enc::b(-4)]);
            let b: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            bus.write_bytes(VECTORS + entry * 0x80, &b).expect("write vectors");
        }
        for (addr, b) in &self.mem {
            bus.write_bytes(*addr, b).expect("write data");
        }
        let clock = Clock::default();
        clock.set(self.time);
        let lines = [MockLine::default(), MockLine::default()];
        let time = clock.0.clone();
        let mut cpu = Aarch64Cpu::new(CpuConfig {
            irq_lines: irq.clone(),
            time: Arc::new(move || time.load(Ordering::SeqCst)),
            timer_lines: [Box::new(lines[0].clone()), Box::new(lines[1].clone())],
            ..CpuConfig::test()
        });
        cpu.reset(CODE);
        cpu.sys.vbar = VECTORS;
        cpu.conduit = self.conduit;
        if self.normal_memory {
            // 4K granule, T0SZ 25 (39-bit VAs: the walk starts at level 1), IPS 40 bits, no
            // TTBR1 walks; MAIR attribute 0 is Normal write-back. One 1 GiB block: RAM_BASE
            // with AF, inner shareable, AttrIndx 0, EL1 read/write.
            let block = RAM_BASE | 1 << 10 | 3 << 8 | 1 | u64::from(self.guarded) << 50;
            bus.write_bytes(IDMAP_TABLE + 8 * (RAM_BASE >> 30), &block.to_le_bytes()).expect("write table");
            cpu.mmu_regs.tcr_el1 = 25 | 1 << 23 | 2 << 32;
            cpu.mmu_regs.ttbr0_el1 = IDMAP_TABLE;
            cpu.mmu_regs.mair_el1 = 0xff;
            cpu.mmu_regs.sctlr_el1 |= 1;
            cpu.mmu_changed();
        }
        for &(r, v) in &self.x {
            cpu.regs[r] = v;
        }
        cpu.set_nzcv(self.nzcv);
        // FP/SIMD usable at EL0 and EL1, as Linux runs; a test of the trap clears it in `setup`.
        cpu.sys.cpacr = 3 << 20;
        if let Some(f) = self.setup {
            f(&mut cpu);
        }
        for &(n, v) in &self.v {
            cpu.set_v(n, v);
        }
        cpu.fpcr = self.fpcr;
        let gic = self.gic_iar.map(|iar| Arc::new(Mutex::new(MockGic { iar, irq: irq.clone(), log: vec![] })));
        if let Some(g) = &gic {
            cpu.gic = Some(GicPort { gic: g.clone(), cpu: MOCK_GIC_CPU });
        }
        assert_eq!(NUM_REGS, 104);
        Rig { cpu, bus, end, clock, lines, irq, gic }
    }

    pub fn run_on(&self, tier: Tier) -> Final {
        let mut rig = self.build();
        let outcome = rig.run(tier);
        assert_eq!(
            outcome,
            RunOutcome::Halted,
            "{tier:?}: still running after {BUDGET} instructions (pc {:#x})",
            rig.cpu.pc
        );
        rig.snapshot()
    }

    /// Run on every tier; all must agree. Returns the common final state.
    #[track_caller]
    pub fn run(&self) -> Final {
        let reference = self.run_on(TIERS[0]);
        for &t in &TIERS[1..] {
            let other = self.run_on(t);
            assert_eq!(other, reference, "tier {t:?} differs from {:?}", TIERS[0]);
        }
        reference
    }

    /// Run to the end marker (panics on an exception or hang).
    #[track_caller]
    pub fn ok(&self) -> Final {
        self.run().ok()
    }
}

/// Run `insn` with X1 = `a`, X2 = `b` and return X3. For `insn` built with rd 3, rn 1, rm 2.
#[track_caller]
pub fn rr(insn: u32, a: u64, b: u64) -> u64 {
    Snippet::of(&[insn]).x(1, a).x(2, b).ok().x(3)
}

/// Like [`rr`], also returning NZCV.
#[track_caller]
pub fn rr_flags(insn: u32, a: u64, b: u64) -> (u64, u32) {
    let f = Snippet::of(&[insn]).x(1, a).x(2, b).ok();
    (f.x(3), f.nzcv)
}

/// Run `insn` with X1 = `a` and return X3.
#[track_caller]
pub fn r1(insn: u32, a: u64) -> u64 {
    Snippet::of(&[insn]).x(1, a).ok().x(3)
}

// ---- small encoders the system-level tests share ------------------------------------------

pub fn mrs(rt: u32, reg: u32) -> u32 {
    enc::mrs(reg, rt)
}

pub fn msr(reg: u32, rt: u32) -> u32 {
    enc::msr_reg(reg, rt)
}

/// `mov x<rd>, #v` for any 64-bit v.
pub fn mov64(rd: u32, v: u64) -> Vec<u32> {
    let mut w = vec![enc::movz(rd, (v & 0xffff) as u32, 0)];
    for hw in 1..4 {
        let part = (v >> (16 * hw) & 0xffff) as u32;
        if part != 0 {
            w.push(enc::movk(rd, part, hw));
        }
    }
    w
}

/// `str xzr, [x9]` with x9 = IRQCTL: lower the interrupt inputs, as acknowledging at the GIC
/// would.
pub fn ack_irq() -> Vec<u32> {
    vec![enc::movz(9, (IRQCTL >> 16) as u32, 1), enc::ldst_uimm(3, 0, 31, 9, 0)]
}
