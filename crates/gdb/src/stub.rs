//! The gdbstub `Target` over a [`DebugTarget`], and the blocking event loop.

use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::net::TcpStream;
use std::time::Duration;

use gdbstub::common::{Signal, Tid};
use gdbstub::conn::{Connection, ConnectionExt};
use gdbstub::stub::run_blocking::{BlockingEventLoop, Event, WaitForStopReasonError};
use gdbstub::stub::MultiThreadStopReason;
use gdbstub::target::ext::base::multithread::{
    MultiThreadBase, MultiThreadResume, MultiThreadResumeOps, MultiThreadSchedulerLocking,
    MultiThreadSchedulerLockingOps, MultiThreadSingleStep, MultiThreadSingleStepOps,
};
use gdbstub::target::ext::base::single_register_access::{SingleRegisterAccess, SingleRegisterAccessOps};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps, SwBreakpoint,
    SwBreakpointOps, WatchKind as GdbWatchKind,
};
use gdbstub::target::ext::target_description_xml_override::{
    TargetDescriptionXmlOverride, TargetDescriptionXmlOverrideOps,
};
use gdbstub::target::ext::thread_extra_info::{ThreadExtraInfo, ThreadExtraInfoOps};
use gdbstub::target::{Target, TargetError as GdbError, TargetResult};

use crate::arch::{le_value, GdbArch, GdbRegs, Layout, RegNum, StubArch};
use crate::target::{DebugTarget, StopReason, TargetError, WatchKind};

/// How long one `DebugTarget::wait` lasts before the connection is polled for Ctrl-C.
const POLL: Duration = Duration::from_millis(10);
/// Memory reads are split at this granularity so a read that runs into unmapped memory
/// returns the mapped prefix.
const PAGE: u64 = 4096;

pub(crate) fn tid_of(hart: usize) -> Tid {
    Tid::new(hart + 1).expect("hart + 1 is non-zero")
}

fn gdb_err(e: TargetError) -> GdbError<TargetError> {
    tracing::debug!(error = %e, "gdb request failed");
    match e {
        TargetError::BadAddress(_) => GdbError::Errno(14), // EFAULT
        TargetError::BadHart(_) => GdbError::Errno(3),     // ESRCH
        TargetError::Other(_) => GdbError::NonFatal,
    }
}

fn kind_from_gdb(k: GdbWatchKind) -> WatchKind {
    match k {
        GdbWatchKind::Write => WatchKind::Write,
        GdbWatchKind::Read => WatchKind::Read,
        GdbWatchKind::ReadWrite => WatchKind::Access,
    }
}

fn kind_to_gdb(k: WatchKind) -> GdbWatchKind {
    match k {
        WatchKind::Write => GdbWatchKind::Write,
        WatchKind::Read => GdbWatchKind::Read,
        WatchKind::Access => GdbWatchKind::ReadWrite,
    }
}

/// The gdbstub-facing wrapper: bookkeeping GDB needs that the `DebugTarget` does not keep.
pub(crate) struct GdbTarget<T: DebugTarget> {
    pub t: T,
    layout: Layout<T::Arch>,
    xml: Vec<u8>,
    nharts: usize,
    /// The hart a pending `vCont;s:N` steps (resume actions collected before `resume`).
    step: Option<usize>,
    /// Whether the machine was let run and has not reported a stop yet.
    pub running: bool,
    sw_bps: BTreeSet<u64>,
    hw_bps: BTreeSet<u64>,
    watches: Vec<(u64, u64, WatchKind)>,
    pub exit_status: Option<i32>,
}

impl<T: DebugTarget> GdbTarget<T> {
    pub fn new(t: T) -> Self {
        let layout = Layout::new(&t.csr_list());
        let xml = layout.target_xml().into_bytes();
        let nharts = t.num_harts().max(1);
        GdbTarget {
            t,
            layout,
            xml,
            nharts,
            step: None,
            running: false,
            sw_bps: BTreeSet::new(),
            hw_bps: BTreeSet::new(),
            watches: Vec::new(),
            exit_status: None,
        }
    }

    /// Size of the packet buffer: a full `G` packet (hex) plus slack, at least 4 KiB.
    pub fn packet_buffer_size(&self) -> usize {
        (self.layout.g_len * 2 + 256).max(4096)
    }

    fn hart(&self, tid: Tid) -> Result<usize, TargetError> {
        let h = tid.get() - 1;
        if h < self.nharts {
            Ok(h)
        } else {
            Err(TargetError::BadHart(h))
        }
    }

    /// Translate a machine stop into what GDB is told.
    pub fn stop_reason(&mut self, r: StopReason) -> MultiThreadStopReason<u64> {
        let tid = |h: usize| tid_of(h.min(self.nharts - 1));
        match r {
            StopReason::Breakpoint { hart } => {
                // Report `hwbreak` only for an address GDB set solely as a hardware breakpoint.
                let pc = self.t.read_registers(hart).map(|r| T::Arch::pc(&r)).ok();
                match pc {
                    Some(pc) if self.hw_bps.contains(&pc) && !self.sw_bps.contains(&pc) => {
                        MultiThreadStopReason::HwBreak(tid(hart))
                    }
                    _ => MultiThreadStopReason::SwBreak(tid(hart)),
                }
            }
            StopReason::Watchpoint { hart, kind, addr } => {
                MultiThreadStopReason::Watch { tid: tid(hart), kind: kind_to_gdb(kind), addr }
            }
            StopReason::Step { hart } => {
                MultiThreadStopReason::SignalWithThread { tid: tid(hart), signal: Signal::SIGTRAP }
            }
            StopReason::Interrupted { hart } => {
                MultiThreadStopReason::SignalWithThread { tid: tid(hart), signal: Signal::SIGINT }
            }
            StopReason::Exited { status } => {
                self.exit_status = Some(status);
                MultiThreadStopReason::Exited(status as u8)
            }
        }
    }

    /// Stop a machine GDB left running (connection lost while it ran).
    pub fn stop_if_running(&mut self) {
        if self.running {
            self.t.interrupt();
            match self.t.wait(Duration::from_secs(2)) {
                Some(StopReason::Exited { status }) => self.exit_status = Some(status),
                Some(_) => {}
                None => tracing::warn!("machine did not stop after the gdb connection ended"),
            }
            self.running = false;
        }
    }

    /// Remove every breakpoint and watchpoint this session inserted (QEMU does the same when
    /// the debugger goes away).
    pub fn remove_all(&mut self) {
        let bps: BTreeSet<u64> = self.sw_bps.union(&self.hw_bps).copied().collect();
        for addr in bps {
            let _ = self.t.remove_breakpoint(addr);
        }
        self.sw_bps.clear();
        self.hw_bps.clear();
        let mut seen = Vec::new();
        for w in std::mem::take(&mut self.watches) {
            if !seen.contains(&w) {
                let _ = self.t.remove_watchpoint(w.0, w.1, w.2);
                seen.push(w);
            }
        }
    }

    fn add_bp(&mut self, addr: u64, hw: bool) -> TargetResult<bool, Self> {
        let (mine, other) = if hw { (&self.hw_bps, &self.sw_bps) } else { (&self.sw_bps, &self.hw_bps) };
        if mine.contains(&addr) {
            return Ok(true);
        }
        if !other.contains(&addr) {
            self.t.add_breakpoint(addr).map_err(gdb_err)?;
        }
        if hw { &mut self.hw_bps } else { &mut self.sw_bps }.insert(addr);
        Ok(true)
    }

    fn remove_bp(&mut self, addr: u64, hw: bool) -> TargetResult<bool, Self> {
        let removed = if hw { &mut self.hw_bps } else { &mut self.sw_bps }.remove(&addr);
        if !removed {
            return Ok(false);
        }
        let other = if hw { &self.sw_bps } else { &self.hw_bps };
        if !other.contains(&addr) {
            self.t.remove_breakpoint(addr).map_err(gdb_err)?;
        }
        Ok(true)
    }
}

impl<T: DebugTarget> Target for GdbTarget<T> {
    type Arch = StubArch<T::Arch>;
    type Error = TargetError;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::MultiThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_target_description_xml_override(&mut self) -> Option<TargetDescriptionXmlOverrideOps<'_, Self>> {
        Some(self)
    }
}

impl<T: DebugTarget> MultiThreadBase for GdbTarget<T> {
    fn read_registers(&mut self, regs: &mut GdbRegs<T::Arch>, tid: Tid) -> TargetResult<(), Self> {
        let hart = self.hart(tid).map_err(gdb_err)?;
        let r = self.t.read_registers(hart).map_err(gdb_err)?;
        regs.bytes = self.layout.encode(&r);
        Ok(())
    }

    fn write_registers(&mut self, regs: &GdbRegs<T::Arch>, tid: Tid) -> TargetResult<(), Self> {
        let hart = self.hart(tid).map_err(gdb_err)?;
        let mut r = self.t.read_registers(hart).map_err(gdb_err)?;
        self.layout.decode(&regs.bytes, &mut r);
        self.t.write_registers(hart, &r).map_err(gdb_err)
    }

    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, Tid, Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start: u64, data: &mut [u8], tid: Tid) -> TargetResult<usize, Self> {
        let hart = self.hart(tid).map_err(gdb_err)?;
        if self.t.read_memory(hart, start, data).is_ok() {
            return Ok(data.len());
        }
        // Return the readable prefix, page by page; an unreadable first page is an error.
        let mut done = 0usize;
        while done < data.len() {
            let addr = start.wrapping_add(done as u64);
            let chunk = ((PAGE - addr % PAGE) as usize).min(data.len() - done);
            match self.t.read_memory(hart, addr, &mut data[done..done + chunk]) {
                Ok(()) => done += chunk,
                Err(e) if done == 0 => return Err(gdb_err(e)),
                Err(_) => break,
            }
        }
        Ok(done)
    }

    fn write_addrs(&mut self, start: u64, data: &[u8], tid: Tid) -> TargetResult<(), Self> {
        let hart = self.hart(tid).map_err(gdb_err)?;
        self.t.write_memory(hart, start, data).map_err(gdb_err)
    }

    fn list_active_threads(&mut self, f: &mut dyn FnMut(Tid)) -> Result<(), Self::Error> {
        for h in 0..self.nharts {
            f(tid_of(h));
        }
        Ok(())
    }

    fn support_resume(&mut self) -> Option<MultiThreadResumeOps<'_, Self>> {
        Some(self)
    }

    fn support_thread_extra_info(&mut self) -> Option<ThreadExtraInfoOps<'_, Self>> {
        Some(self)
    }
}

impl<T: DebugTarget> SingleRegisterAccess<Tid> for GdbTarget<T> {
    fn read_register(&mut self, tid: Tid, reg: RegNum<T::Arch>, buf: &mut [u8]) -> TargetResult<usize, Self> {
        let hart = self.hart(tid).map_err(gdb_err)?;
        let Some(slot) = self.layout.slot(reg.0) else { return Err(GdbError::NonFatal) };
        let (r, size) = (slot.reg, slot.size);
        let regs = self.t.read_registers(hart).map_err(gdb_err)?;
        let bytes = T::Arch::get(r, &regs).to_le_bytes();
        let n = size.min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }

    fn write_register(&mut self, tid: Tid, reg: RegNum<T::Arch>, val: &[u8]) -> TargetResult<(), Self> {
        let hart = self.hart(tid).map_err(gdb_err)?;
        let Some(slot) = self.layout.slot(reg.0) else { return Err(GdbError::NonFatal) };
        let (r, size) = (slot.reg, slot.size);
        let v = le_value(&val[..val.len().min(size)]);
        let mut regs = self.t.read_registers(hart).map_err(gdb_err)?;
        T::Arch::set(r, &mut regs, v);
        self.t.write_registers(hart, &regs).map_err(gdb_err)
    }
}

impl<T: DebugTarget> MultiThreadResume for GdbTarget<T> {
    /// All resume actions are in: a step action wins (that hart steps, the others stay
    /// stopped, whatever GDB asked for them); otherwise every hart runs.
    fn resume(&mut self) -> Result<(), Self::Error> {
        let r = match self.step.take() {
            Some(hart) => self.t.step(hart),
            None => self.t.resume(),
        };
        if r.is_ok() {
            self.running = true;
        }
        r
    }

    fn clear_resume_actions(&mut self) -> Result<(), Self::Error> {
        self.step = None;
        Ok(())
    }

    fn set_resume_action_continue(&mut self, tid: Tid, _signal: Option<Signal>) -> Result<(), Self::Error> {
        // `DebugTarget::resume` runs every hart; per-thread continue cannot be narrower.
        self.hart(tid).map(|_| ())
    }

    fn support_single_step(&mut self) -> Option<MultiThreadSingleStepOps<'_, Self>> {
        Some(self)
    }

    fn support_scheduler_locking(&mut self) -> Option<MultiThreadSchedulerLockingOps<'_, Self>> {
        Some(self)
    }
}

impl<T: DebugTarget> MultiThreadSingleStep for GdbTarget<T> {
    fn set_resume_action_step(&mut self, tid: Tid, _signal: Option<Signal>) -> Result<(), Self::Error> {
        let hart = self.hart(tid)?;
        self.step.get_or_insert(hart);
        Ok(())
    }
}

impl<T: DebugTarget> MultiThreadSchedulerLocking for GdbTarget<T> {
    /// Threads without an action stay stopped: exactly what `step` does; a locked continue
    /// still runs every hart (the `DebugTarget` cannot run a subset).
    fn set_resume_action_scheduler_lock(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl<T: DebugTarget> ThreadExtraInfo for GdbTarget<T> {
    fn thread_extra_info(&self, tid: Tid, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let s = format!("{} {}", T::Arch::CPU_NOUN, tid.get() - 1);
        let n = s.len().min(buf.len());
        buf[..n].copy_from_slice(&s.as_bytes()[..n]);
        Ok(n)
    }
}

impl<T: DebugTarget> Breakpoints for GdbTarget<T> {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }
    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }
    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl<T: DebugTarget> SwBreakpoint for GdbTarget<T> {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.add_bp(addr, false)
    }
    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.remove_bp(addr, false)
    }
}

impl<T: DebugTarget> HwBreakpoint for GdbTarget<T> {
    fn add_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.add_bp(addr, true)
    }
    fn remove_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.remove_bp(addr, true)
    }
}

impl<T: DebugTarget> HwWatchpoint for GdbTarget<T> {
    fn add_hw_watchpoint(&mut self, addr: u64, len: u64, kind: GdbWatchKind) -> TargetResult<bool, Self> {
        let w = (addr, len, kind_from_gdb(kind));
        if !self.watches.contains(&w) {
            self.t.add_watchpoint(w.0, w.1, w.2).map_err(gdb_err)?;
        }
        self.watches.push(w);
        Ok(true)
    }

    fn remove_hw_watchpoint(&mut self, addr: u64, len: u64, kind: GdbWatchKind) -> TargetResult<bool, Self> {
        let w = (addr, len, kind_from_gdb(kind));
        let Some(i) = self.watches.iter().position(|x| *x == w) else { return Ok(false) };
        self.watches.remove(i);
        if !self.watches.contains(&w) {
            self.t.remove_watchpoint(w.0, w.1, w.2).map_err(gdb_err)?;
        }
        Ok(true)
    }
}

impl<T: DebugTarget> TargetDescriptionXmlOverride for GdbTarget<T> {
    fn target_description_xml(
        &self,
        annex: &[u8],
        offset: u64,
        length: usize,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        if annex != b"target.xml" {
            return Err(GdbError::NonFatal);
        }
        let start = (offset as usize).min(self.xml.len());
        let end = start.saturating_add(length).min(self.xml.len());
        let n = (end - start).min(buf.len());
        buf[..n].copy_from_slice(&self.xml[start..start + n]);
        Ok(n)
    }
}

/// `run_blocking` glue: while the machine runs, alternate between `DebugTarget::wait` and a
/// non-blocking peek at the socket (a 0x03 byte there is GDB's Ctrl-C).
pub(crate) struct EventLoop<T>(PhantomData<T>);

impl<T: DebugTarget> BlockingEventLoop for EventLoop<T> {
    type Target = GdbTarget<T>;
    type Connection = TcpStream;
    type StopReason = MultiThreadStopReason<u64>;

    #[allow(clippy::type_complexity)]
    fn wait_for_stop_reason(
        target: &mut GdbTarget<T>,
        conn: &mut TcpStream,
    ) -> Result<Event<Self::StopReason>, WaitForStopReasonError<TargetError, <TcpStream as Connection>::Error>> {
        loop {
            if let Some(r) = target.t.wait(POLL) {
                target.running = false;
                tracing::debug!(?r, "machine stopped");
                return Ok(Event::TargetStopped(target.stop_reason(r)));
            }
            match conn.peek() {
                Ok(Some(_)) => {
                    let byte = conn.read().map_err(WaitForStopReasonError::Connection)?;
                    return Ok(Event::IncomingData(byte));
                }
                Ok(None) => {}
                Err(e) => return Err(WaitForStopReasonError::Connection(e)),
            }
        }
    }

    fn on_interrupt(target: &mut GdbTarget<T>) -> Result<Option<Self::StopReason>, TargetError> {
        // The stop itself arrives through `wait` as `Interrupted` (or whatever came first).
        if target.running {
            target.t.interrupt();
        }
        Ok(None)
    }
}
