//! Snippet harness for the A64 semantics tests.
//!
//! A [`Snippet`] is a few encoded instructions plus the state they start from. [`Snippet::run`]
//! executes it on every execution tier in [`TIERS`], checks that all tiers end in the same
//! [`Final`] state, and returns that state.
//!
//! ```text
//!   0x4000_0000  CODE   snippet words ... then `wfi` (end marker)
//!   0x4001_0000  DATA   4 KiB window, snapshotted into `Final::data`
//!   RAM is 1 MiB from 0x4000_0000 (where the Arm `virt` board puts RAM).
//! ```
//!
//! A snippet ends at its `wfi`, or at an exception (recorded in `Aarch64Cpu::taken`, which stops
//! the CPU until exception entry exists). One that does neither within [`BUDGET`] instructions
//! fails the test at once.
#![allow(dead_code)]

use mimic_arch_aarch64::cpu::{NUM_REGS, SP};
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::{Aarch64Cpu, Fault};
use mimic_core::AddrRange;
use mimic_exec::{LogFlags, RunOutcome, Tiers};
use mimic_jit::Jit;
use mimic_memory::AddressSpace;

pub const RAM_BASE: u64 = 0x4000_0000;
pub const RAM_SIZE: u64 = 1 << 20;
pub const CODE: u64 = RAM_BASE;
pub const DATA: u64 = RAM_BASE + 0x1_0000;
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
    /// Panics (with the exception) unless the snippet ran to its end marker.
    #[track_caller]
    pub fn ok(self) -> Final {
        assert_eq!(self.taken, None, "snippet raised an exception");
        assert_eq!(self.pc, self.end + 4, "snippet did not end at its end marker");
        self
    }
}

/// Instructions plus initial state. Defaults: all registers and flags 0, DATA zeroed.
#[derive(Clone, Debug, Default)]
pub struct Snippet {
    code: Vec<u32>,
    x: Vec<(usize, u64)>,
    nzcv: u32,
    mem: Vec<(u64, Vec<u8>)>,
    v: Vec<(usize, u128)>,
    fpcr: u64,
}

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

    fn build(&self) -> (Aarch64Cpu, AddressSpace, u64) {
        let mut bus = AddressSpace::new();
        bus.add_ram("ram", AddrRange::new(RAM_BASE, RAM_SIZE)).expect("add RAM");
        let mut bytes: Vec<u8> = self.code.iter().flat_map(|w| w.to_le_bytes()).collect();
        let end = CODE + bytes.len() as u64;
        assert!(end + 4 <= DATA, "snippet too long");
        bytes.extend_from_slice(&enc::wfi().to_le_bytes());
        bus.write_bytes(CODE, &bytes).expect("write code");
        for (addr, b) in &self.mem {
            bus.write_bytes(*addr, b).expect("write data");
        }
        let mut cpu = Aarch64Cpu::new();
        cpu.reset(CODE);
        for &(r, v) in &self.x {
            cpu.regs[r] = v;
        }
        cpu.set_nzcv(self.nzcv);
        for &(n, v) in &self.v {
            cpu.set_v(n, v);
        }
        cpu.fpcr = self.fpcr;
        (cpu, bus, end)
    }

    pub fn run_on(&self, tier: Tier) -> Final {
        let (mut cpu, mut bus, end) = self.build();
        let outcome = tier.run(&mut cpu, &mut bus, BUDGET);
        assert_eq!(
            outcome,
            RunOutcome::Halted,
            "{tier:?}: still running after {BUDGET} instructions (pc {:#x})",
            cpu.pc
        );
        let mut data = vec![0u8; DATA_LEN];
        bus.read_bytes(DATA, &mut data).expect("read DATA");
        let mut x = [0u64; 32];
        x.copy_from_slice(&cpu.regs[..32]);
        assert_eq!(NUM_REGS, 100);
        let v = std::array::from_fn(|n| cpu.v(n));
        Final { x, v, fpsr: cpu.fpsr, nzcv: cpu.nzcv(), pc: cpu.pc, taken: cpu.taken, data, end }
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
