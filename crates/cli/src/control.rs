//! The control planes' view of the running machine: the monitor's `Vm` and the debugger's
//! `DebugTarget`, implemented by sending work to the thread that runs the guest and waiting for
//! the answer. Neither protocol crate knows the machine; this is the only place that joins them.

use crate::gdb_regs::GdbBoard;
use mimic_gdb::target::{DebugTarget, Regs, StopReason, TargetError, WatchKind};
use mimic_machine::{Board, BoardCpu, DebugStop, HostEvent, Machine, MachineEvent, RunState, Watchpoint};
use mimic_monitor::vm::{BlockInfo, ChardevInfo, CpuInfo, Event, RunState as QmpState, Vm, VmError};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

/// How long a control request may wait for the machine thread.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// A cheap handle that runs closures on the machine thread.
pub struct MachineHandle<B: Board> {
    tx: Sender<HostEvent<B>>,
}

impl<B: Board> Clone for MachineHandle<B> {
    fn clone(&self) -> Self {
        MachineHandle { tx: self.tx.clone() }
    }
}

impl<B: Board> MachineHandle<B> {
    pub fn new(tx: Sender<HostEvent<B>>) -> Self {
        MachineHandle { tx }
    }

    /// Run `f` with the machine and return its result; None once the machine is gone.
    pub fn call<R: Send + 'static>(&self, f: impl FnOnce(&mut Machine<B>) -> R + Send + 'static) -> Option<R> {
        let (rtx, rrx) = mpsc::sync_channel(1);
        let job = move |m: &mut Machine<B>| {
            let _ = rtx.send(f(m));
        };
        self.tx.send(HostEvent::Call(Box::new(job))).ok()?;
        rrx.recv_timeout(REPLY_TIMEOUT).ok()
    }
}

fn gone() -> VmError {
    VmError::Generic("the machine is not running".into())
}

/// Map machine events to QMP events.
pub fn qmp_event(e: &MachineEvent) -> Event {
    use serde_json::json;
    match e {
        MachineEvent::Stop => Event { name: "STOP".into(), data: None },
        MachineEvent::Resume => Event { name: "RESUME".into(), data: None },
        MachineEvent::Reset { guest, reason } => {
            Event { name: "RESET".into(), data: Some(json!({ "guest": guest, "reason": reason })) }
        }
        MachineEvent::Shutdown { guest, reason } => {
            Event { name: "SHUTDOWN".into(), data: Some(json!({ "guest": guest, "reason": reason })) }
        }
        MachineEvent::Powerdown => Event { name: "POWERDOWN".into(), data: None },
    }
}

/// The monitor's view.
pub struct MonitorVm<B: Board> {
    pub handle: MachineHandle<B>,
    pub name: Option<String>,
    pub chardevs: Vec<ChardevInfo>,
    pub blocks: Vec<BlockInfo>,
}

impl<B: Board> Vm for MonitorVm<B> {
    fn name(&self) -> Option<String> {
        self.name.clone()
    }

    fn status(&self) -> QmpState {
        match self.handle.call(|m| m.run_state()) {
            Some(RunState::Running) => QmpState::Running,
            Some(RunState::Paused) => QmpState::Paused,
            Some(RunState::Prelaunch) => QmpState::Prelaunch,
            Some(RunState::Debug) => QmpState::Debug,
            None => QmpState::Shutdown,
        }
    }

    fn stop(&self) -> Result<(), VmError> {
        self.handle.call(|m| m.pause(RunState::Paused)).ok_or_else(gone)
    }

    fn cont(&self) -> Result<(), VmError> {
        self.handle.call(|m| m.resume()).ok_or_else(gone)
    }

    fn system_reset(&self) -> Result<(), VmError> {
        self.handle
            .call(|m| {
                m.notify(MachineEvent::Reset { guest: false, reason: "host-qmp-system-reset" });
                m.request_exit(mimic_machine::ExitStatus::Reset);
            })
            .ok_or_else(gone)
    }

    /// The Arm board presses its power button (gpio-keys) for the guest to shut down. The
    /// RISC-V `virt` board has none the guest could react to (QEMU's board has none either, and
    /// there the request does nothing); rather than ignore it, mimic ends that machine in
    /// order, as `quit` does: POWERDOWN, then SHUTDOWN, then exit status 0.
    fn system_powerdown(&self) -> Result<(), VmError> {
        self.handle.call(|m| m.powerdown()).ok_or_else(gone)
    }

    fn quit(&self) {
        let _ = self.handle.call(|m| {
            m.notify(MachineEvent::Shutdown { guest: false, reason: "host-qmp-quit" });
            m.request_exit(mimic_machine::ExitStatus::Quit);
        });
    }

    fn cpus(&self) -> Vec<CpuInfo> {
        // The harts run on the main thread, whose id is the process id.
        let tid = std::process::id() as u64;
        self.handle
            .call(move |m| {
                m.cpus
                    .iter()
                    .enumerate()
                    .map(|(n, c)| {
                        let (target, qom_path, props) = c.query_cpu(n);
                        CpuInfo { cpu_index: n, thread_id: tid, qom_path, target, props }
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn block_devices(&self) -> Vec<BlockInfo> {
        self.blocks.clone()
    }

    fn chardevs(&self) -> Vec<ChardevInfo> {
        self.chardevs.clone()
    }

    fn read_memory(&self, cpu: Option<usize>, addr: u64, len: usize) -> Result<Vec<u8>, VmError> {
        if len > 64 << 20 {
            return Err(VmError::Generic(format!("cannot read {len} bytes at once")));
        }
        self.handle
            .call(move |m| {
                if let Some(c) = cpu {
                    if c >= m.cpus.len() {
                        return Err(VmError::DeviceNotFound(format!("CPU {c} not found")));
                    }
                }
                let mut buf = vec![0u8; len];
                m.read_memory(cpu, addr, &mut buf)
                    .map(|_| buf)
                    .map_err(|a| VmError::Generic(format!("Invalid addr 0x{a:016x}/size {len} specified")))
            })
            .ok_or_else(gone)?
    }

    fn save_memory(&self, cpu: Option<usize>, addr: u64, len: u64, path: &Path) -> Result<(), VmError> {
        use std::io::Write;
        let mut f = std::fs::File::create(path)
            .map_err(|e| VmError::Generic(format!("Could not open '{}': {e}", path.display())))?;
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(1 << 20) as usize;
            let data = self.read_memory(cpu, addr.wrapping_add(done), n)?;
            f.write_all(&data).map_err(|e| VmError::Generic(format!("writing '{}': {e}", path.display())))?;
            done += n as u64;
        }
        Ok(())
    }

    fn info_registers(&self, cpu: usize) -> Result<String, VmError> {
        self.handle
            .call(move |m| {
                m.cpus
                    .get(cpu)
                    .map(|c| c.dump_registers())
                    .ok_or(VmError::DeviceNotFound(format!("CPU {cpu} not found")))
            })
            .ok_or_else(gone)?
    }

    fn info_mtree(&self) -> String {
        self.handle.call(|m| m.info_mtree()).unwrap_or_default()
    }

    fn info_qtree(&self) -> String {
        self.handle.call(|m| m.info_qtree()).unwrap_or_default()
    }
}

/// The debugger's view: requests go to the machine thread; stops come back on `stops`.
pub struct GdbTarget<B: GdbBoard> {
    handle: MachineHandle<B>,
    stops: Receiver<DebugStop>,
    harts: usize,
    breakpoints: Vec<u64>,
    watchpoints: Vec<Watchpoint>,
}

impl<B: GdbBoard> GdbTarget<B> {
    /// Attach: stop reports go to this target from now on.
    pub fn attach(handle: MachineHandle<B>) -> Option<GdbTarget<B>> {
        let (tx, rx) = mpsc::channel();
        let harts = handle.call(move |m| {
            m.debug.stop_tx = Some(tx);
            m.cpus.len()
        })?;
        Some(GdbTarget { handle, stops: rx, harts, breakpoints: Vec::new(), watchpoints: Vec::new() })
    }

    fn call<R: Send + 'static>(&self, f: impl FnOnce(&mut Machine<B>) -> R + Send + 'static) -> Result<R, TargetError> {
        self.handle.call(f).ok_or_else(|| TargetError::Other("the machine is not running".into()))
    }

    fn check(&self, hart: usize) -> Result<(), TargetError> {
        if hart < self.harts {
            Ok(())
        } else {
            Err(TargetError::BadHart(hart))
        }
    }

    /// Install the session's watchpoints; an error when the CPUs cannot watch memory.
    fn sync_watchpoints(&mut self) -> Result<(), TargetError> {
        let w = self.watchpoints.clone();
        if self.call(move |m| m.set_watchpoints(w))? {
            Ok(())
        } else {
            Err(TargetError::Other("this machine's CPUs cannot watch memory".into()))
        }
    }
}

fn watchpoint(addr: u64, len: u64, kind: WatchKind) -> Watchpoint {
    let (read, write) = match kind {
        WatchKind::Write => (false, true),
        WatchKind::Read => (true, false),
        WatchKind::Access => (true, true),
    };
    Watchpoint { addr, len, read, write }
}

impl<B: GdbBoard> DebugTarget for GdbTarget<B> {
    type Arch = B::Arch;

    fn num_harts(&self) -> usize {
        self.harts
    }

    /// Stop the machine (if it runs) and forget stale stop reports.
    fn attach(&mut self) -> Result<(), TargetError> {
        self.call(|m| {
            if m.run_state() == RunState::Running {
                m.pause(RunState::Debug);
            }
        })?;
        while self.stops.try_recv().is_ok() {}
        Ok(())
    }

    fn csr_list(&self) -> Vec<u16> {
        B::CSRS.to_vec()
    }

    fn read_registers(&mut self, hart: usize) -> Result<Regs<Self>, TargetError> {
        self.check(hart)?;
        self.call(move |m| B::read_regs(&mut m.cpus[hart]))
    }

    fn write_registers(&mut self, hart: usize, regs: &Regs<Self>) -> Result<(), TargetError> {
        self.check(hart)?;
        let regs = regs.clone();
        self.call(move |m| B::write_regs(&mut m.cpus[hart], &regs))
    }

    fn read_memory(&mut self, hart: usize, addr: u64, buf: &mut [u8]) -> Result<(), TargetError> {
        self.check(hart)?;
        let len = buf.len();
        let data = self.call(move |m| {
            let mut b = vec![0u8; len];
            m.read_memory(Some(hart), addr, &mut b).map(|_| b)
        })?;
        buf.copy_from_slice(&data.map_err(TargetError::BadAddress)?);
        Ok(())
    }

    fn write_memory(&mut self, hart: usize, addr: u64, data: &[u8]) -> Result<(), TargetError> {
        self.check(hart)?;
        let data = data.to_vec();
        self.call(move |m| m.write_memory(Some(hart), addr, &data))?.map_err(TargetError::BadAddress)
    }

    fn add_breakpoint(&mut self, addr: u64) -> Result<(), TargetError> {
        if !self.breakpoints.contains(&addr) {
            self.breakpoints.push(addr);
        }
        let bps = self.breakpoints.clone();
        self.call(move |m| m.set_breakpoints(bps))
    }

    fn remove_breakpoint(&mut self, addr: u64) -> Result<(), TargetError> {
        self.breakpoints.retain(|&a| a != addr);
        let bps = self.breakpoints.clone();
        self.call(move |m| m.set_breakpoints(bps))
    }

    fn add_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> Result<(), TargetError> {
        self.watchpoints.push(watchpoint(addr, len, kind));
        let r = self.sync_watchpoints();
        if r.is_err() {
            self.watchpoints.pop();
        }
        r
    }

    fn remove_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> Result<(), TargetError> {
        let w = watchpoint(addr, len, kind);
        self.watchpoints.retain(|x| *x != w);
        self.sync_watchpoints()
    }
    fn resume(&mut self) -> Result<(), TargetError> {
        self.call(|m| m.resume())
    }

    fn step(&mut self, hart: usize) -> Result<(), TargetError> {
        self.check(hart)?;
        self.call(move |m| m.step(hart))
    }

    fn interrupt(&mut self) {
        let _ = self.handle.call(|m| m.debug_interrupt());
    }

    fn wait(&mut self, timeout: Duration) -> Option<StopReason> {
        let s = match self.stops.recv_timeout(timeout) {
            Ok(s) => s,
            Err(mpsc::RecvTimeoutError::Timeout) => return None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Some(StopReason::Exited { status: 0 }),
        };
        Some(match s {
            DebugStop::Breakpoint { hart } => StopReason::Breakpoint { hart },
            DebugStop::Watchpoint { hart, addr, write } => {
                StopReason::Watchpoint { hart, kind: if write { WatchKind::Write } else { WatchKind::Read }, addr }
            }
            DebugStop::Step { hart } => StopReason::Step { hart },
            DebugStop::Interrupted { hart } => StopReason::Interrupted { hart },
            DebugStop::Exited { status } => StopReason::Exited { status },
        })
    }
}
