//! Snippet harness for the RISC-V semantics tests.
//!
//! A [`Snippet`] is a few encoded instructions plus the state they start from. [`Snippet::run`]
//! executes it on every execution tier in [`TIERS`], checks that all tiers end in the same
//! [`Final`] state, and returns that state.
//!
//! ```text
//!   0x8000_0000  CODE   snippet words ... then `wfi` (end marker)
//!   0x8000_8000  TRAP   `wfi`   (mtvec: any trap lands here; mcause/mepc/mtval are kept)
//!   0x8001_0000  DATA   4 KiB window, snapshotted into `Final::data`
//!   RAM is 1 MiB from 0x8000_0000.
//! ```
//!
//! Each snippet halts on one of the two `wfi`s; the pc after the halt says which, so a snippet's
//! own trap is never confused with its normal end. A snippet that does neither within
//! [`BUDGET`] instructions fails the test at once (a hang fails fast).
#![allow(dead_code)]

use mimic_arch_riscv::cpu::FREG_BASE;
use mimic_arch_riscv::csr::mstatus;
use mimic_arch_riscv::decode::enc;
use mimic_arch_riscv::{Priv, RiscvCpu};
use mimic_core::{AddrRange, SharedBits};
use mimic_exec::{LogFlags, RunOutcome, Tiers};
use mimic_jit::Jit;
use mimic_memory::AddressSpace;
use std::sync::Arc;

pub const RAM_BASE: u64 = 0x8000_0000;
pub const RAM_SIZE: u64 = 1 << 20;
pub const CODE: u64 = RAM_BASE;
pub const TRAP: u64 = RAM_BASE + 0x8000;
pub const DATA: u64 = RAM_BASE + 0x1_0000;
pub const DATA_LEN: usize = 0x1000;
/// Instructions a snippet may execute before it counts as hung.
pub const BUDGET: u64 = 10_000;

/// `mcause` values used by the tests (privileged spec, table 3.6).
pub mod cause {
    pub const ILLEGAL: u64 = 2;
    pub const BREAKPOINT: u64 = 3;
    pub const LOAD_MISALIGNED: u64 = 4;
    pub const STORE_MISALIGNED: u64 = 6;
    pub const STORE_ACCESS: u64 = 7;
    pub const ECALL_M: u64 = 11;
}

/// `fflags` bits.
pub mod fflag {
    pub const NX: u64 = 1;
    pub const UF: u64 = 2;
    pub const OF: u64 = 4;
    pub const DZ: u64 = 8;
    pub const NV: u64 = 16;
}

/// Rounding modes as encoded in `rm` and `frm`.
pub mod rm {
    pub const RNE: u32 = 0;
    pub const RTZ: u32 = 1;
    pub const RDN: u32 = 2;
    pub const RUP: u32 = 3;
    pub const RMM: u32 = 4;
    pub const DYN: u32 = 7;
}

/// `mstatus.FS` values.
pub mod fs {
    pub const OFF: u64 = 0;
    pub const INITIAL: u64 = 1;
    pub const CLEAN: u64 = 2;
    pub const DIRTY: u64 = 3;
}

type TierRun = fn(&mut RiscvCpu, &mut AddressSpace, u64) -> RunOutcome;

/// Declares the execution tiers. Adding a tier is one line here.
macro_rules! tiers {
    ($($name:ident => $run:expr,)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Tier { $($name,)* }
        /// Every tier a snippet runs on; the first is the reference the others must match.
        pub const TIERS: &[Tier] = &[$(Tier::$name,)*];
        impl Tier {
            pub fn run(self, cpu: &mut RiscvCpu, bus: &mut AddressSpace, budget: u64) -> RunOutcome {
                match self { $(Tier::$name => { let f: TierRun = $run; f(cpu, bus, budget) })* }
            }
        }
    };
}

tiers! {
    Direct => |cpu, bus, budget| mimic_exec::run(cpu, bus, budget, LogFlags::default()),
    // Threshold 0: every block is compiled before it first runs, so the JIT runs everything.
    Jit => |cpu, bus, budget| {
        let mut jit = Jit::<RiscvCpu>::new().expect("a JIT for this host");
        let out = mimic_exec::run_tiered(cpu, bus, budget, LogFlags::default(), Tiers { compiler: &mut jit, threshold: 0 });
        // Falling back to the interpreter would make the comparison vacuous.
        assert_eq!(jit.stats().failed, 0, "a block was left to the interpreter");
        out
    },
    // Blocks run interpreted twice, then compiled with the blocks they reach that have run too
    // (regions): loops cross from one tier to the other and run inside one function.
    JitWarm => |cpu, bus, budget| warm_jit(cpu, bus, budget).0,
}

/// Run with a JIT that compiles blocks after two interpreted runs; its statistics too.
pub fn warm_jit(cpu: &mut RiscvCpu, bus: &mut AddressSpace, budget: u64) -> (RunOutcome, mimic_jit::JitStats) {
    let mut jit = Jit::<RiscvCpu>::new().expect("a JIT for this host");
    let out = mimic_exec::run_tiered(cpu, bus, budget, LogFlags::default(), Tiers { compiler: &mut jit, threshold: 2 });
    assert_eq!(jit.stats().failed, 0, "a block was left to the interpreter");
    (out, jit.stats())
}

/// One instruction word, 32-bit or compressed.
#[derive(Clone, Copy, Debug)]
pub enum Word {
    W32(u32),
    W16(u16),
}

/// A trap the snippet took: the values the hart wrote to the M-mode trap CSRs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trap {
    pub cause: u64,
    pub epc: u64,
    pub tval: u64,
}

/// Everything a snippet can observe after it ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Final {
    pub x: [u64; 32],
    pub f: [u64; 32],
    /// pc after the end marker or the trap handler's `wfi`.
    pub pc: u64,
    pub fflags: u64,
    pub frm: u64,
    pub mstatus: u64,
    pub prv: Priv,
    /// `Some` when the snippet trapped (the run ended in the trap handler).
    pub trap: Option<Trap>,
    /// The DATA window.
    pub data: Vec<u8>,
    /// Address just past the snippet's last word (where the end marker sits).
    pub end: u64,
}

impl Final {
    pub fn x(&self, r: usize) -> u64 {
        self.x[r]
    }
    pub fn f(&self, r: usize) -> u64 {
        self.f[r]
    }
    /// Single-precision bits of `f[r]`; asserts the register is NaN-boxed.
    pub fn fs_bits(&self, r: usize) -> u32 {
        let v = self.f[r];
        assert_eq!(v >> 32, 0xffff_ffff, "f{r} = {v:#x} is not NaN-boxed");
        v as u32
    }
    pub fn fs_field(&self) -> u64 {
        (self.mstatus & mstatus::FS) >> mstatus::FS_SHIFT
    }
    /// Little-endian read of `n` bytes from the DATA window.
    pub fn mem(&self, addr: u64, n: usize) -> u64 {
        let o = (addr - DATA) as usize;
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(&self.data[o..o + n]);
        u64::from_le_bytes(b)
    }
    pub fn mem64(&self, addr: u64) -> u64 {
        self.mem(addr, 8)
    }
    pub fn mem32(&self, addr: u64) -> u64 {
        self.mem(addr, 4)
    }
    /// Panics (with the trap) unless the snippet ran to its end marker.
    #[track_caller]
    pub fn ok(self) -> Final {
        assert_eq!(self.trap, None, "snippet trapped");
        assert_eq!(self.pc, self.end + 4, "snippet did not end at its end marker");
        self
    }
    /// Panics unless the snippet trapped; returns the trap.
    #[track_caller]
    pub fn trapped(&self) -> Trap {
        self.trap.expect("snippet ran to its end without trapping")
    }
}

/// Instructions plus initial state. Defaults: all registers 0, M-mode, `mstatus.FS` = Initial,
/// `frm` = RNE, `fflags` = 0, DATA zeroed.
#[derive(Clone, Debug)]
pub struct Snippet {
    code: Vec<Word>,
    x: Vec<(usize, u64)>,
    f: Vec<(usize, u64)>,
    mem: Vec<(u64, Vec<u8>)>,
    fs: u64,
    frm: u64,
    fflags: u64,
}

impl Default for Snippet {
    fn default() -> Self {
        Self::new()
    }
}

impl Snippet {
    pub fn new() -> Self {
        Snippet { code: Vec::new(), x: Vec::new(), f: Vec::new(), mem: Vec::new(), fs: fs::INITIAL, frm: 0, fflags: 0 }
    }
    /// A snippet of 32-bit instructions.
    pub fn of(words: &[u32]) -> Self {
        words.iter().fold(Self::new(), |s, &w| s.i(w))
    }
    /// A snippet of compressed instructions.
    pub fn of16(halves: &[u16]) -> Self {
        halves.iter().fold(Self::new(), |s, &h| s.c(h))
    }
    /// Append a 32-bit instruction.
    pub fn i(mut self, w: u32) -> Self {
        self.code.push(Word::W32(w));
        self
    }
    /// Append a compressed instruction.
    pub fn c(mut self, h: u16) -> Self {
        self.code.push(Word::W16(h));
        self
    }
    pub fn x(mut self, r: usize, v: u64) -> Self {
        assert!(r != 0 && r < 32);
        self.x.push((r, v));
        self
    }
    /// Raw 64-bit FP register contents.
    pub fn f(mut self, r: usize, v: u64) -> Self {
        self.f.push((r, v));
        self
    }
    /// A NaN-boxed single.
    pub fn fs(self, r: usize, v: f32) -> Self {
        self.f(r, 0xffff_ffff_0000_0000 | v.to_bits() as u64)
    }
    pub fn fd(self, r: usize, v: f64) -> Self {
        self.f(r, v.to_bits())
    }
    pub fn mem(mut self, addr: u64, bytes: &[u8]) -> Self {
        self.mem.push((addr, bytes.to_vec()));
        self
    }
    pub fn mem64(self, addr: u64, v: u64) -> Self {
        self.mem(addr, &v.to_le_bytes())
    }
    pub fn mem32(self, addr: u64, v: u32) -> Self {
        self.mem(addr, &v.to_le_bytes())
    }
    pub fn mstatus_fs(mut self, v: u64) -> Self {
        self.fs = v;
        self
    }
    pub fn frm(mut self, v: u64) -> Self {
        self.frm = v;
        self
    }
    pub fn fflags(mut self, v: u64) -> Self {
        self.fflags = v;
        self
    }

    /// Lay the snippet out in a fresh machine: (cpu, bus, end-marker address).
    pub fn build(&self) -> (RiscvCpu, AddressSpace, u64) {
        let mut bus = AddressSpace::new();
        bus.add_ram("ram", AddrRange::new(RAM_BASE, RAM_SIZE)).expect("add RAM");
        let mut bytes = Vec::new();
        for w in &self.code {
            match *w {
                Word::W32(v) => bytes.extend_from_slice(&v.to_le_bytes()),
                Word::W16(v) => bytes.extend_from_slice(&v.to_le_bytes()),
            }
        }
        let end = CODE + bytes.len() as u64;
        assert!(end + 4 <= TRAP, "snippet too long");
        bytes.extend_from_slice(&enc::wfi().to_le_bytes());
        bus.write_bytes(CODE, &bytes).expect("write code");
        bus.write_bytes(TRAP, &enc::wfi().to_le_bytes()).expect("write trap handler");
        for (addr, b) in &self.mem {
            bus.write_bytes(*addr, b).expect("write data");
        }

        let mut cpu = RiscvCpu::new(0, SharedBits::new(), Arc::new(|| 0));
        cpu.reset(CODE);
        cpu.csr.mtvec = TRAP;
        cpu.csr.mstatus = (cpu.csr.mstatus & !mstatus::FS) | self.fs << mstatus::FS_SHIFT;
        cpu.csr.frm = self.frm;
        cpu.csr.fflags = self.fflags;
        for &(r, v) in &self.x {
            cpu.regs[r] = v;
        }
        for &(r, v) in &self.f {
            cpu.regs[FREG_BASE + r] = v;
        }
        // As firmware does: one PMP entry (NAPOT over all of memory, RWX) so S and U may access
        // memory at all; without a matching entry only M-mode can.
        cpu.debug_write_csr(0x3b0, u64::MAX >> 10); // pmpaddr0
        cpu.debug_write_csr(0x3a0, 0x1f); // pmpcfg0
        (cpu, bus, end)
    }

    /// Run on one tier.
    pub fn run_on(&self, tier: Tier) -> Final {
        let (mut cpu, mut bus, end) = self.build();
        let outcome = tier.run(&mut cpu, &mut bus, BUDGET);
        assert_eq!(
            outcome,
            RunOutcome::Halted,
            "{tier:?}: snippet still running after {BUDGET} instructions (pc {:#x})",
            cpu.pc
        );
        let trap = if cpu.pc == TRAP + 4 {
            Some(Trap { cause: cpu.csr.mcause, epc: cpu.csr.mepc, tval: cpu.csr.mtval })
        } else {
            None
        };
        let mut data = vec![0u8; DATA_LEN];
        bus.read_bytes(DATA, &mut data).expect("read DATA");
        let mut x = [0u64; 32];
        x.copy_from_slice(&cpu.regs[..32]);
        let mut f = [0u64; 32];
        f.copy_from_slice(&cpu.regs[FREG_BASE..FREG_BASE + 32]);
        Final {
            x,
            f,
            pc: cpu.pc,
            fflags: cpu.csr.fflags,
            frm: cpu.csr.frm,
            mstatus: cpu.csr.mstatus,
            prv: cpu.prv,
            trap,
            data,
            end,
        }
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

    /// Run to the end marker (panics on a trap or hang).
    #[track_caller]
    pub fn ok(&self) -> Final {
        self.run().ok()
    }

    /// Run, expecting a trap; returns it.
    #[track_caller]
    pub fn trap(&self) -> Trap {
        self.run().trapped()
    }
}

/// Run `insn` with x1 = `a`, x2 = `b` and return x3. For `insn` built as `op(3, 1, 2)`.
#[track_caller]
pub fn rr(insn: u32, a: u64, b: u64) -> u64 {
    Snippet::of(&[insn]).x(1, a).x(2, b).ok().x(3)
}

/// Run `insn` with x1 = `a` and return x3. For `insn` built as `op(3, 1, imm)` or `op(3, 1)`.
#[track_caller]
pub fn r1(insn: u32, a: u64) -> u64 {
    Snippet::of(&[insn]).x(1, a).ok().x(3)
}
