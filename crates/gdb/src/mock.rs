//! A fake machine for tests (feature `test-utils`): a few harts whose "instructions" only add 4
//! to the pc, RAM as a `Vec`, breakpoints and watchpoints checked the way an emulator would.
//!
//! - Before a hart executes the instruction at `pc`, a breakpoint at `pc` stops the machine
//!   (`Breakpoint`), as in QEMU (GDB removes breakpoints before stepping off one).
//! - `stores` makes the instruction at a pc store 8 bytes (the pc itself) to an address; a
//!   watchpoint overlapping it stops the machine *before* the store, pc at the storing
//!   instruction (`Watchpoint`), as GDB expects of RISC-V.
//! - Executing `exit_pc` powers the machine off (`Exited { status: 0 }`).
//! - While running, each `wait` executes up to 64 instructions per hart and then sleeps a
//!   little, so a running machine without breakpoints runs "forever".

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::target::{DebugTarget, RiscvRegs, StopReason, TargetError, WatchKind};

pub const RAM_BASE: u64 = 0x8000_0000;
pub const RAM_SIZE: usize = 64 * 1024;
/// The first two words of RAM (`auipc t0, 0`; `addi a1, t0, 32`); the rest is `nop`s.
pub const RAM_WORDS: [u32; 2] = [0x0000_0297, 0x0202_8593];
pub const NOP: u32 = 0x0000_0013;
/// ft0 of every hart: 1.5 as a double.
pub const FT0: u64 = 0x3ff8_0000_0000_0000;
/// ft1 of every hart: 2.5f32, NaN-boxed.
pub const FT1: u64 = 0xffff_ffff_4020_0000;
pub const MSTATUS: u64 = 0x0000_000a_0000_1880;
pub const MISA: u64 = 0x8000_0000_0014_112d;

/// The CSRs the fake reports (numbers), in this order.
pub const CSRS: [u16; 15] =
    [0x300, 0x301, 0x304, 0x305, 0x340, 0x341, 0x342, 0x343, 0x344, 0x100, 0x105, 0x141, 0x142, 0x180, 0xf14];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunState {
    Stopped,
    Running,
}

/// The calls the stub made, for assertions (`"resume"`, `"step 0"`, `"interrupt"`,
/// `"add_breakpoint 0x80000010"`, ...). Shared, so a test keeps a handle after moving the
/// target into `serve`.
pub type CallLog = Arc<Mutex<Vec<String>>>;

pub struct FakeTarget {
    pub harts: Vec<RiscvRegs>,
    pub mem: Vec<u8>,
    pub breakpoints: BTreeSet<u64>,
    pub watchpoints: Vec<(u64, u64, WatchKind)>,
    /// (pc, addr): executing `pc` stores the 8-byte pc value at `addr`.
    pub stores: Vec<(u64, u64)>,
    pub exit_pc: Option<u64>,
    pub calls: CallLog,
    state: RunState,
    pending: Option<StopReason>,
    next_hart: usize,
}

impl FakeTarget {
    /// A stopped machine with `harts` harts at `RAM_BASE`, `a0` = hart id.
    pub fn new(harts: usize) -> FakeTarget {
        let mut mem = Vec::with_capacity(RAM_SIZE);
        for i in 0..RAM_SIZE / 4 {
            mem.extend_from_slice(&RAM_WORDS.get(i).copied().unwrap_or(NOP).to_le_bytes());
        }
        let harts = (0..harts)
            .map(|h| {
                let mut r = RiscvRegs { pc: RAM_BASE, fflags: 0x1, frm: 0x2, privilege: 3, ..Default::default() };
                for (i, x) in r.x.iter_mut().enumerate() {
                    *x = i as u64 * 0x100 + h as u64;
                }
                r.x[0] = 0;
                r.x[2] = RAM_BASE + RAM_SIZE as u64 - h as u64 * 0x1000;
                r.x[10] = h as u64;
                r.f[0] = FT0;
                r.f[1] = FT1;
                r.csrs = CSRS
                    .iter()
                    .map(|&c| {
                        let v = match c {
                            0x300 => MSTATUS,
                            0x301 => MISA,
                            0x305 => 0x8000_0100,
                            0xf14 => h as u64,
                            _ => 0,
                        };
                        (c, v)
                    })
                    .collect();
                r
            })
            .collect();
        FakeTarget {
            harts,
            mem,
            breakpoints: BTreeSet::new(),
            watchpoints: Vec::new(),
            stores: Vec::new(),
            exit_pc: None,
            calls: CallLog::default(),
            state: RunState::Stopped,
            pending: None,
            next_hart: 0,
        }
    }

    /// Start in the running state (as without `-S`).
    pub fn running(mut self) -> FakeTarget {
        self.state = RunState::Running;
        self
    }

    fn log(&self, s: String) {
        self.calls.lock().unwrap().push(s);
    }

    fn range(&self, addr: u64, len: usize) -> Result<std::ops::Range<usize>, TargetError> {
        let off = addr.checked_sub(RAM_BASE).ok_or(TargetError::BadAddress(addr))? as usize;
        if off.checked_add(len).is_some_and(|e| e <= self.mem.len()) {
            Ok(off..off + len)
        } else {
            Err(TargetError::BadAddress(addr.max(RAM_BASE + self.mem.len() as u64)))
        }
    }

    fn check_hart(&self, hart: usize) -> Result<(), TargetError> {
        if hart < self.harts.len() {
            Ok(())
        } else {
            Err(TargetError::BadHart(hart))
        }
    }

    /// Execute one instruction on `hart`; Some(stop) if it exits or hits a watchpoint.
    fn exec(&mut self, hart: usize) -> Option<StopReason> {
        let pc = self.harts[hart].pc;
        if self.exit_pc == Some(pc) {
            self.state = RunState::Stopped;
            return Some(StopReason::Exited { status: 0 });
        }
        let stores: Vec<u64> = self.stores.iter().filter(|s| s.0 == pc).map(|s| s.1).collect();
        // Watchpoints trigger before the store (GDB's RISC-V watchpoints are "nonsteppable").
        for &addr in &stores {
            let watched = self
                .watchpoints
                .iter()
                .any(|&(w, len, kind)| kind != WatchKind::Read && addr < w.wrapping_add(len) && w < addr + 8);
            if watched {
                self.state = RunState::Stopped;
                return Some(StopReason::Watchpoint { hart, kind: WatchKind::Write, addr });
            }
        }
        for addr in stores {
            if let Ok(r) = self.range(addr, 8) {
                self.mem[r].copy_from_slice(&pc.to_le_bytes());
            }
        }
        self.harts[hart].pc = pc.wrapping_add(4);
        None
    }
}

impl DebugTarget for FakeTarget {
    type Arch = crate::arch::Riscv64;
    fn num_harts(&self) -> usize {
        self.harts.len()
    }

    fn csr_list(&self) -> Vec<u16> {
        CSRS.to_vec()
    }

    fn read_registers(&mut self, hart: usize) -> Result<RiscvRegs, TargetError> {
        self.check_hart(hart)?;
        Ok(self.harts[hart].clone())
    }

    fn write_registers(&mut self, hart: usize, regs: &RiscvRegs) -> Result<(), TargetError> {
        self.check_hart(hart)?;
        self.log(format!("write_registers {hart}"));
        let mut r = regs.clone();
        r.x[0] = 0;
        self.harts[hart] = r;
        Ok(())
    }

    fn read_memory(&mut self, hart: usize, addr: u64, buf: &mut [u8]) -> Result<(), TargetError> {
        self.check_hart(hart)?;
        let r = self.range(addr, buf.len())?;
        buf.copy_from_slice(&self.mem[r]);
        Ok(())
    }

    fn write_memory(&mut self, hart: usize, addr: u64, data: &[u8]) -> Result<(), TargetError> {
        self.check_hart(hart)?;
        let r = self.range(addr, data.len())?;
        self.mem[r].copy_from_slice(data);
        self.log(format!("write_memory {addr:#x} {}", data.len()));
        Ok(())
    }

    fn add_breakpoint(&mut self, addr: u64) -> Result<(), TargetError> {
        self.log(format!("add_breakpoint {addr:#x}"));
        self.breakpoints.insert(addr);
        Ok(())
    }

    fn remove_breakpoint(&mut self, addr: u64) -> Result<(), TargetError> {
        self.log(format!("remove_breakpoint {addr:#x}"));
        self.breakpoints.remove(&addr);
        Ok(())
    }

    fn add_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> Result<(), TargetError> {
        self.log(format!("add_watchpoint {addr:#x} {len} {kind:?}"));
        self.watchpoints.push((addr, len, kind));
        Ok(())
    }

    fn remove_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> Result<(), TargetError> {
        self.log(format!("remove_watchpoint {addr:#x} {len} {kind:?}"));
        self.watchpoints.retain(|w| *w != (addr, len, kind));
        Ok(())
    }

    fn resume(&mut self) -> Result<(), TargetError> {
        self.log("resume".into());
        self.state = RunState::Running;
        Ok(())
    }

    fn step(&mut self, hart: usize) -> Result<(), TargetError> {
        self.check_hart(hart)?;
        self.log(format!("step {hart}"));
        let stop = self.exec(hart).unwrap_or(StopReason::Step { hart });
        self.pending = Some(stop);
        Ok(())
    }

    fn interrupt(&mut self) {
        self.log("interrupt".into());
        if self.state == RunState::Running {
            self.state = RunState::Stopped;
            self.pending = Some(StopReason::Interrupted { hart: 0 });
        }
    }

    fn wait(&mut self, timeout: Duration) -> Option<StopReason> {
        if let Some(p) = self.pending.take() {
            return Some(p);
        }
        if self.state == RunState::Running {
            let n = self.harts.len();
            for _ in 0..64 * n {
                let hart = self.next_hart;
                self.next_hart = (self.next_hart + 1) % n;
                if self.breakpoints.contains(&self.harts[hart].pc) {
                    self.state = RunState::Stopped;
                    return Some(StopReason::Breakpoint { hart });
                }
                if let Some(stop) = self.exec(hart) {
                    self.state = RunState::Stopped;
                    return Some(stop);
                }
            }
        }
        std::thread::sleep(timeout.min(Duration::from_millis(2)));
        None
    }

    fn attach(&mut self) -> Result<(), TargetError> {
        self.log("attach".into());
        self.state = RunState::Stopped;
        self.pending = None;
        Ok(())
    }
}
