//! What the debugger needs of a machine. The command-line crate implements this over the real
//! machine (forwarding calls to the thread that runs the guest); tests use a fake.
//!
//! All calls come from the one GDB connection thread. While the debugger inspects state the
//! machine is stopped; `resume`/`step` let it run and `wait` reports why it stopped.

use std::time::Duration;

use crate::arch::GdbArch;
pub use crate::arch::{Aarch64Regs, RiscvRegs};

/// The register file of a target's architecture.
pub type Regs<T> = <<T as DebugTarget>::Arch as GdbArch>::Regs;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WatchKind {
    Write,
    Read,
    Access,
}

/// Why the machine stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Hit a software or hardware breakpoint at the hart's pc.
    Breakpoint { hart: usize },
    /// An access overlapped a watchpoint. Report it *before* the access takes effect, with the
    /// hart's pc still at the accessing instruction (GDB's RISC-V watchpoints are
    /// "nonsteppable": it removes them, single-steps that instruction itself and then compares
    /// old and new values; `gdb/riscv-tdep.c` `set_gdbarch_have_nonsteppable_watchpoint`).
    /// `addr` is the accessed address.
    Watchpoint { hart: usize, kind: WatchKind, addr: u64 },
    /// A single step finished.
    Step { hart: usize },
    /// Stopped on request (`interrupt`, or a monitor `stop`).
    Interrupted { hart: usize },
    /// The guest powered off / the machine is gone.
    Exited { status: i32 },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("address {0:#x} is not mapped")]
    BadAddress(u64),
    #[error("no hart {0}")]
    BadHart(usize),
    #[error("{0}")]
    Other(String),
}

pub trait DebugTarget: Send {
    /// The guest architecture: which registers GDB sees.
    type Arch: GdbArch;
    fn num_harts(&self) -> usize;
    /// RISC-V: the CSR numbers `read_registers` returns in `csrs`, in order (fixed for the
    /// session; used to build the target description). Other architectures have none.
    fn csr_list(&self) -> Vec<u16> {
        Vec::new()
    }
    fn read_registers(&mut self, hart: usize) -> Result<Regs<Self>, TargetError>;
    fn write_registers(&mut self, hart: usize, regs: &Regs<Self>) -> Result<(), TargetError>;
    /// Through the hart's current address translation (as the hart would see it in its current
    /// privilege); bytes that cannot be read are an error.
    fn read_memory(&mut self, hart: usize, addr: u64, buf: &mut [u8]) -> Result<(), TargetError>;
    fn write_memory(&mut self, hart: usize, addr: u64, data: &[u8]) -> Result<(), TargetError>;
    /// Breakpoints are by virtual address and apply to every hart; software and hardware
    /// breakpoints behave the same (the emulator needs no patching).
    fn add_breakpoint(&mut self, addr: u64) -> Result<(), TargetError>;
    fn remove_breakpoint(&mut self, addr: u64) -> Result<(), TargetError>;
    fn add_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> Result<(), TargetError>;
    fn remove_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> Result<(), TargetError>;
    /// Let every hart run.
    fn resume(&mut self) -> Result<(), TargetError>;
    /// Execute exactly one instruction on `hart` (others stay stopped); `wait` then reports
    /// `Step` (or a breakpoint/watchpoint/exit that happened first).
    fn step(&mut self, hart: usize) -> Result<(), TargetError>;
    /// Ask a running machine to stop; `wait` then reports `Interrupted`.
    fn interrupt(&mut self);
    /// Wait up to `timeout` for the machine to stop after `resume`/`step`; None if still running.
    fn wait(&mut self, timeout: Duration) -> Option<StopReason>;

    /// (Added by the gdb crate.) Called once when a debugger connects, before any other call:
    /// stop the machine if it is running (QEMU stops the VM when gdb attaches) and return once
    /// every hart is stopped; a stopped machine stays stopped, and nothing may be left pending
    /// for a later `wait`.
    ///
    /// The default calls `interrupt` and then `wait`s up to 500 ms, which is correct only if
    /// `interrupt` on a stopped machine is a no-op; implementations that know whether the
    /// machine runs should override it.
    fn attach(&mut self) -> Result<(), TargetError> {
        self.interrupt();
        let _ = self.wait(Duration::from_millis(500));
        Ok(())
    }
}

/// Lets a caller keep ownership: `serve(listener, &mut my_target)`.
impl<T: DebugTarget + ?Sized> DebugTarget for &mut T {
    type Arch = T::Arch;
    fn num_harts(&self) -> usize {
        (**self).num_harts()
    }
    fn csr_list(&self) -> Vec<u16> {
        (**self).csr_list()
    }
    fn read_registers(&mut self, hart: usize) -> Result<Regs<Self>, TargetError> {
        (**self).read_registers(hart)
    }
    fn write_registers(&mut self, hart: usize, regs: &Regs<Self>) -> Result<(), TargetError> {
        (**self).write_registers(hart, regs)
    }
    fn read_memory(&mut self, hart: usize, addr: u64, buf: &mut [u8]) -> Result<(), TargetError> {
        (**self).read_memory(hart, addr, buf)
    }
    fn write_memory(&mut self, hart: usize, addr: u64, data: &[u8]) -> Result<(), TargetError> {
        (**self).write_memory(hart, addr, data)
    }
    fn add_breakpoint(&mut self, addr: u64) -> Result<(), TargetError> {
        (**self).add_breakpoint(addr)
    }
    fn remove_breakpoint(&mut self, addr: u64) -> Result<(), TargetError> {
        (**self).remove_breakpoint(addr)
    }
    fn add_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> Result<(), TargetError> {
        (**self).add_watchpoint(addr, len, kind)
    }
    fn remove_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> Result<(), TargetError> {
        (**self).remove_watchpoint(addr, len, kind)
    }
    fn resume(&mut self) -> Result<(), TargetError> {
        (**self).resume()
    }
    fn step(&mut self, hart: usize) -> Result<(), TargetError> {
        (**self).step(hart)
    }
    fn interrupt(&mut self) {
        (**self).interrupt()
    }
    fn wait(&mut self, timeout: Duration) -> Option<StopReason> {
        (**self).wait(timeout)
    }
    fn attach(&mut self) -> Result<(), TargetError> {
        (**self).attach()
    }
}

/// Lets a caller pass `Box<dyn DebugTarget>`.
impl<T: DebugTarget + ?Sized> DebugTarget for Box<T> {
    type Arch = T::Arch;
    fn num_harts(&self) -> usize {
        (**self).num_harts()
    }
    fn csr_list(&self) -> Vec<u16> {
        (**self).csr_list()
    }
    fn read_registers(&mut self, hart: usize) -> Result<Regs<Self>, TargetError> {
        (**self).read_registers(hart)
    }
    fn write_registers(&mut self, hart: usize, regs: &Regs<Self>) -> Result<(), TargetError> {
        (**self).write_registers(hart, regs)
    }
    fn read_memory(&mut self, hart: usize, addr: u64, buf: &mut [u8]) -> Result<(), TargetError> {
        (**self).read_memory(hart, addr, buf)
    }
    fn write_memory(&mut self, hart: usize, addr: u64, data: &[u8]) -> Result<(), TargetError> {
        (**self).write_memory(hart, addr, data)
    }
    fn add_breakpoint(&mut self, addr: u64) -> Result<(), TargetError> {
        (**self).add_breakpoint(addr)
    }
    fn remove_breakpoint(&mut self, addr: u64) -> Result<(), TargetError> {
        (**self).remove_breakpoint(addr)
    }
    fn add_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> Result<(), TargetError> {
        (**self).add_watchpoint(addr, len, kind)
    }
    fn remove_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> Result<(), TargetError> {
        (**self).remove_watchpoint(addr, len, kind)
    }
    fn resume(&mut self) -> Result<(), TargetError> {
        (**self).resume()
    }
    fn step(&mut self, hart: usize) -> Result<(), TargetError> {
        (**self).step(hart)
    }
    fn interrupt(&mut self) {
        (**self).interrupt()
    }
    fn wait(&mut self, timeout: Duration) -> Option<StopReason> {
        (**self).wait(timeout)
    }
    fn attach(&mut self) -> Result<(), TargetError> {
        (**self).attach()
    }
}
