//! One machine over a [`Board`]: the run loop, the control plane (pause, resume, single step,
//! breakpoints and watchpoints, memory access for debuggers, exit requests, events) and the
//! servicing of what every board has alike (virtio-mmio slots, the PCIe host, the console
//! input, the doorbell of device worker threads), written once for both boards.
//!
//! ```text
//!   Machine<B>                         B: Board (per ISA)
//!   ├─ bus: AddressSpace               ├─ type Cpu: BoardCpu (RiscvCpu, Aarch64Cpu)
//!   ├─ cpus: Vec<B::Cpu>   ──slices──▶ ├─ powered(n), before_slice(n), after_slice(n) (PSCI)
//!   ├─ jits, debug, state, events      ├─ receive_input (the UART), update_timers, deadlines
//!   ├─ virtio_mmio, pci (B::Irq)       ├─ press_power_button (gpio-keys), info_qtree
//!   └─ latch, clock, bell              └─ interrupt controller and devices of its own
//! ```
//!
//! The hot path (`run_cpus`) is generic over the board, so each board's loop is compiled on its
//! own and the per-board hooks are inlined: nothing is dispatched dynamically per slice.

use crate::board_parts::VirtioSlot;
use crate::virtio::Doorbell;
use mimic_core::{IrqLine, VmClock};
use mimic_devices::pci::PciHost;
use mimic_devices::{PowerLatch, PowerRequest};
use mimic_exec::{Guest, LogFlags, RunOutcome, Tiers};
use mimic_jit::Jit;
use mimic_memory::{AddressSpace, Shared};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

pub use mimic_arch_riscv::mmu::Watchpoint;

/// Instructions each CPU runs before the board services devices and timers, when there are
/// several: they take turns, and one spinning on a lock another holds wastes the rest of its
/// slice.
pub(crate) const SLICE: u64 = 20_000;
/// ... and with one CPU, where only device and timer latency grows with the slice (virtio
/// notifications end a slice early anyway), while servicing after every 20 000 instructions
/// cost 2-4% of a compiled workload (arm64 sha256: 8% faster with this slice).
pub(crate) const SLICE_ONE_CPU: u64 = 60_000;
const PAGE: u64 = mimic_memory::PAGE_SIZE;
/// Longest sleep while every CPU waits for an interrupt.
pub(crate) const MAX_IDLE: Duration = Duration::from_millis(20);
/// Longest wait for the doorbell while disk I/O is in flight, before host events are looked at.
const IO_WAIT_SLICE: Duration = Duration::from_millis(2);

/// QEMU's run states, as far as this machine has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Running,
    /// Stopped by the monitor (`stop`).
    Paused,
    /// Created with `-S`: waiting for `cont` or a debugger.
    Prelaunch,
    /// Stopped by the debugger (breakpoint, step, interrupt).
    Debug,
}

/// Work a control plane sends to the machine thread.
pub type MachineCall<B> = Box<dyn FnOnce(&mut Machine<B>) + Send>;

/// Something from outside the guest, delivered to the thread that runs it.
pub enum HostEvent<B: Board> {
    /// Bytes typed on the serial console.
    Input(Vec<u8>),
    /// Work to do with the machine (a monitor or debugger request).
    Call(MachineCall<B>),
}

/// What the machine tells its control planes (QMP maps these to its events).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MachineEvent {
    Stop,
    Resume,
    Reset { guest: bool, reason: &'static str },
    Shutdown { guest: bool, reason: &'static str },
    Powerdown,
}

/// Why the machine stopped for the debugger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugStop {
    Breakpoint { hart: usize },
    Watchpoint { hart: usize, addr: u64, write: bool },
    Step { hart: usize },
    Interrupted { hart: usize },
    Exited { status: i32 },
}

/// The debugger's view of the machine: kept across resets by the owner of the machine.
#[derive(Default)]
pub struct DebugState {
    pub breakpoints: Vec<u64>,
    pub watchpoints: Vec<Watchpoint>,
    /// Single-step this CPU, then stop.
    pub step_hart: Option<usize>,
    /// Per CPU: execute the instruction at this breakpoint once (resuming from it).
    skip: Vec<Option<u64>>,
    /// Where stops are reported.
    pub stop_tx: Option<std::sync::mpsc::Sender<DebugStop>>,
}

impl DebugState {
    fn active(&self) -> bool {
        !self.breakpoints.is_empty() || !self.watchpoints.is_empty() || self.step_hart.is_some()
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// The guest powered off (or the test finisher reported) with this status.
    PowerOff(i32),
    /// The guest asked for a reset: build the machine again.
    Reset,
    /// The user quit (Ctrl-A x).
    Quit,
}

/// What the machine needs of a CPU beyond running it: the per-ISA answers of the control plane.
pub trait BoardCpu: Guest<Insn: Send + 'static> + 'static {
    /// An interrupt is pending that would end a wait for interrupt.
    fn wake_pending(&self) -> bool;
    /// Another CPU runs next: an exclusive (LR/SC, LDXR/STXR) pair split by the switch must
    /// fail its store (the guest retries) rather than overwrite what the others wrote.
    fn forget_exclusive(&mut self);
    /// Stores to the page at this backing-store offset must take the slow path (another CPU
    /// has code there).
    fn set_code_flag(&mut self, page_offset: usize);
    fn clear_code_flag(&mut self, page_offset: usize);
    /// The physical address of `va` as a data access would see it now, without side effects.
    fn debug_translate(&mut self, bus: &mut AddressSpace, va: u64) -> Option<u64>;
    /// Install debugger watchpoints; false when this CPU cannot watch memory.
    fn set_watchpoints(&mut self, w: Vec<Watchpoint>) -> bool;
    /// The watchpoint hit that stopped the last debug run: (address, write).
    fn take_watch_hit(&mut self) -> Option<(u64, bool)>;
    /// HMP `info registers`.
    fn dump_registers(&self) -> String;
    /// QMP `query-cpus-fast` for CPU `index`: the target name, the QOM path QEMU gives it,
    /// and this CPU's architecture-specific fields.
    fn query_cpu(&self, index: usize) -> (&'static str, String, Vec<(String, String)>);
}

/// The per-ISA half of a machine: its interrupt controller and own devices, firmware calls,
/// power control and timers. [`Machine`] calls these around and between CPU slices.
pub trait Board: Sized + 'static {
    type Cpu: BoardCpu;
    /// The interrupt input virtio-mmio slots and the PCIe host drive.
    type Irq: IrqLine + 'static;

    /// Whether CPU `n` is powered on (CPUs that are off neither run nor keep the machine awake).
    #[inline(always)]
    fn powered(&self, _n: usize) -> bool {
        true
    }
    /// CPU `n` is about to run (whose banked device registers its accesses reach).
    #[inline(always)]
    fn before_slice(&mut self, _n: usize) {}
    /// CPU `n` ran a slice: serve what it left for the board (a firmware call). True when that
    /// made progress.
    #[inline(always)]
    fn after_slice(&mut self, _cpus: &mut [Self::Cpu], _n: usize, _latch: &PowerLatch) -> bool {
        false
    }
    /// Console bytes for the UART; returns how many it took.
    fn receive_input(&mut self, bytes: &[u8]) -> usize;
    /// Bring timers (devices' and CPUs') and their interrupt lines up to date.
    fn update_timers(&mut self, cpus: &mut [Self::Cpu]);
    /// Nanoseconds until the next armed timer, if any.
    fn next_deadline_ns(&self, cpus: &[Self::Cpu]) -> Option<u64>;
    /// HMP `info qtree`: the board's devices.
    fn info_qtree(&self, cpus: &[Self::Cpu]) -> String;
    /// Press the power button (`system_powerdown`); false when the board has none.
    fn press_power_button(&mut self) -> bool {
        false
    }
    /// Between slices: board work on guest memory (firmware DMA, flash written back to files).
    #[inline(always)]
    fn service(&mut self, _bus: &mut AddressSpace) {}
    /// The machine stops running (power-off, reset, quit): make what the guest changed durable.
    fn stopped(&mut self, _bus: &AddressSpace) {}
}

/// What a board hands over to become a [`Machine`].
pub(crate) struct Parts<B: Board> {
    pub bus: AddressSpace,
    pub cpus: Vec<B::Cpu>,
    pub board: B,
    pub jits: (Vec<Jit<B::Cpu>>, u32),
    pub virtio_mmio: Vec<VirtioSlot<B::Irq>>,
    pub pci: Shared<PciHost<B::Irq>>,
    pub bell: Arc<Doorbell>,
    pub clock: Arc<VmClock>,
    pub latch: PowerLatch,
    pub log: LogFlags,
    pub start_paused: bool,
}

pub struct Machine<B: Board> {
    pub bus: AddressSpace,
    pub cpus: Vec<B::Cpu>,
    pub board: B,
    /// Each CPU's compiling tier (its blocks are its own), when the policy uses one.
    jits: Vec<Jit<B::Cpu>>,
    jit_threshold: u32,
    virtio_mmio: Vec<VirtioSlot<B::Irq>>,
    pci: Shared<PciHost<B::Irq>>,
    /// Rung by device worker threads (disk I/O) when they finish something.
    bell: Arc<Doorbell>,
    /// Guest time; stopped whenever the CPUs are.
    clock: Arc<VmClock>,
    latch: PowerLatch,
    /// Console bytes the UART could not take yet.
    pending_input: Vec<u8>,
    log: LogFlags,
    pub(crate) dtb: Vec<u8>,
    state: RunState,
    pub debug: DebugState,
    /// Where machine events go (the monitor's event sink, through the CLI).
    pub events: Option<Box<dyn Fn(MachineEvent) + Send>>,
    exit_request: Option<ExitStatus>,
}

impl<B: Board> Machine<B> {
    pub(crate) fn assemble(p: Parts<B>) -> Self {
        if p.start_paused {
            p.clock.stop();
        }
        let mut m = Machine {
            bus: p.bus,
            cpus: p.cpus,
            board: p.board,
            jits: p.jits.0,
            jit_threshold: p.jits.1,
            virtio_mmio: p.virtio_mmio,
            pci: p.pci,
            bell: p.bell,
            clock: p.clock,
            latch: p.latch,
            pending_input: Vec::new(),
            log: p.log,
            dtb: Vec::new(),
            state: if p.start_paused { RunState::Prelaunch } else { RunState::Running },
            debug: DebugState::default(),
            events: None,
            exit_request: None,
        };
        if m.cpus.len() > 1 {
            m.bus.track_new_code_pages();
        }
        m
    }

    /// The device tree the guest was given.
    pub fn dtb(&self) -> &[u8] {
        &self.dtb
    }

    /// Run until the guest powers off or resets, or the host asks to quit. `host` carries
    /// console bytes and work for this thread (monitor and debugger requests); `quit` is the
    /// console's Ctrl-A x.
    pub fn run(&mut self, host: Option<&Receiver<HostEvent<B>>>, quit: &AtomicBool) -> ExitStatus {
        let exit = self.run_until_stop(host, quit);
        self.board.stopped(&self.bus);
        exit
    }

    fn run_until_stop(&mut self, host: Option<&Receiver<HostEvent<B>>>, quit: &AtomicBool) -> ExitStatus {
        let mut host_open = host.is_some();
        loop {
            if let (true, Some(rx)) = (host_open, host) {
                loop {
                    match rx.try_recv() {
                        Ok(ev) => self.handle_host_event(ev),
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => {
                            host_open = false;
                            break;
                        }
                    }
                }
            }
            if let Some(e) = self.exit_request.take() {
                return e;
            }
            if quit.load(Ordering::Acquire) {
                return ExitStatus::Quit;
            }
            let mut idle = true;
            if self.state == RunState::Running {
                idle = self.run_cpus();
            }
            if let Some(req) = self.latch.take() {
                return match req {
                    PowerRequest::Off { status } => {
                        self.emit(MachineEvent::Shutdown { guest: true, reason: "guest-shutdown" });
                        self.report_stop(DebugStop::Exited { status });
                        ExitStatus::PowerOff(status)
                    }
                    PowerRequest::Reset => {
                        self.emit(MachineEvent::Reset { guest: true, reason: "guest-reset" });
                        ExitStatus::Reset
                    }
                };
            }
            self.service_devices();
            if idle && (self.state != RunState::Running || self.all_wait()) {
                let wait = if self.state == RunState::Running { self.idle_time() } else { MAX_IDLE };
                if self.io_in_flight() {
                    // Disk I/O finishes on its worker, which rings the bell: wait for that, and
                    // look at host events (taken at the top of the loop) at least every
                    // IO_WAIT_SLICE meanwhile.
                    self.bell.wait(wait.min(IO_WAIT_SLICE));
                } else {
                    match (host_open, host) {
                        (true, Some(rx)) => match rx.recv_timeout(wait) {
                            Ok(ev) => self.handle_host_event(ev),
                            Err(RecvTimeoutError::Timeout) => {}
                            Err(RecvTimeoutError::Disconnected) => host_open = false,
                        },
                        _ => std::thread::sleep(wait),
                    }
                }
                self.service_devices();
            }
        }
    }

    /// Every powered CPU waits for an interrupt that is not pending yet.
    fn all_wait(&self) -> bool {
        self.cpus.iter().enumerate().all(|(n, c)| !self.board.powered(n) || !c.wake_pending())
    }

    fn handle_host_event(&mut self, ev: HostEvent<B>) {
        match ev {
            HostEvent::Input(bytes) => self.pending_input.extend_from_slice(&bytes),
            HostEvent::Call(f) => f(self),
        }
    }

    /// One slice of every runnable CPU. Returns true when none made progress (all wait for an
    /// interrupt, or the machine stopped for the debugger).
    fn run_cpus(&mut self) -> bool {
        let mut idle = true;
        let debugging = self.debug.active();
        let smp = self.cpus.len() > 1;
        let slice = if smp { SLICE } else { SLICE_ONE_CPU };
        for n in 0..self.cpus.len() {
            if !self.board.powered(n) {
                continue;
            }
            if let Some(s) = self.debug.step_hart {
                if s != n {
                    continue;
                }
            }
            self.board.before_slice(n);
            let cpu = &mut self.cpus[n];
            let outcome = if debugging {
                let d = mimic_exec::Debug {
                    breakpoints: self.debug.breakpoints.clone(),
                    skip_breakpoint_at: self.debug.skip.get(n).copied().flatten(),
                    single_step: self.debug.step_hart == Some(n),
                };
                mimic_exec::run_debug(cpu, &mut self.bus, slice, self.log, &d)
            } else if let Some(jit) = self.jits.get_mut(n) {
                let tiers = Tiers { compiler: jit, threshold: self.jit_threshold };
                mimic_exec::run_tiered(cpu, &mut self.bus, slice, self.log, tiers)
            } else {
                mimic_exec::run(cpu, &mut self.bus, slice, self.log)
            };
            if smp {
                self.cpus[n].forget_exclusive();
            }
            if self.board.after_slice(&mut self.cpus, n, &self.latch) {
                idle = false;
            }
            // Code this CPU overwrote must not run stale on the next one, and stores of the
            // others to pages this CPU now has code from must take the slow path.
            if self.bus.has_dirty_code() {
                self.drop_dirty_code();
            }
            if smp {
                for page in self.bus.take_new_code_pages() {
                    for other in &mut self.cpus {
                        other.set_code_flag(page << mimic_memory::PAGE_SHIFT);
                    }
                }
            }
            if let Some(s) = self.debug.skip.get_mut(n) {
                *s = None;
            }
            let stop = match outcome {
                RunOutcome::Budget => {
                    idle = false;
                    None
                }
                RunOutcome::Halted if self.debug.step_hart == Some(n) => Some(DebugStop::Step { hart: n }),
                RunOutcome::Halted => None,
                RunOutcome::Breakpoint => Some(DebugStop::Breakpoint { hart: n }),
                RunOutcome::Stepped => Some(DebugStop::Step { hart: n }),
                RunOutcome::Watchpoint => {
                    let (addr, write) = self.cpus[n].take_watch_hit().unwrap_or((0, true));
                    Some(DebugStop::Watchpoint { hart: n, addr, write })
                }
            };
            if let Some(stop) = stop {
                self.debug.step_hart = None;
                self.state = RunState::Debug;
                self.clock.stop();
                self.report_stop(stop);
                return true;
            }
            if self.latch.is_set() {
                break;
            }
        }
        idle
    }

    fn emit(&self, e: MachineEvent) {
        if let Some(f) = &self.events {
            f(e);
        }
    }

    fn report_stop(&self, s: DebugStop) {
        if let Some(tx) = &self.debug.stop_tx {
            let _ = tx.send(s);
        }
    }

    /// Emit a machine event to the control planes (e.g. a monitor-initiated reset).
    pub fn notify(&self, e: MachineEvent) {
        self.emit(e);
    }

    /// Pause the CPUs (monitor `stop`, debugger interrupt).
    pub fn pause(&mut self, state: RunState) {
        if self.state == RunState::Running {
            self.emit(MachineEvent::Stop);
        }
        self.state = state;
        self.clock.stop();
    }

    /// Let the CPUs run again. A CPU stopped on a breakpoint executes that instruction first.
    pub fn resume(&mut self) {
        self.arm_breakpoint_skip();
        if self.state != RunState::Running {
            self.state = RunState::Running;
            self.emit(MachineEvent::Resume);
        }
        self.clock.resume();
    }

    /// Execute one instruction on `cpu`, then stop again (reported through the debug channel).
    pub fn step(&mut self, cpu: usize) {
        self.arm_breakpoint_skip();
        self.debug.step_hart = Some(cpu);
        self.state = RunState::Running;
        self.clock.resume();
    }

    fn arm_breakpoint_skip(&mut self) {
        self.debug.skip =
            self.cpus.iter().map(|c| self.debug.breakpoints.contains(&c.pc()).then_some(c.pc())).collect();
    }

    /// Stop for the debugger on request (Ctrl-C in gdb), reporting `Interrupted`.
    pub fn debug_interrupt(&mut self) {
        if self.state != RunState::Running {
            return;
        }
        self.pause(RunState::Debug);
        self.debug.step_hart = None;
        self.report_stop(DebugStop::Interrupted { hart: 0 });
    }

    /// Ask the run loop to return `e` (monitor `quit`, `system_reset`, `system_powerdown`).
    pub fn request_exit(&mut self, e: ExitStatus) {
        self.exit_request = Some(e);
    }

    /// `system_powerdown`: press the board's power button for the guest to act on, as QEMU
    /// does. A board without one ends the machine in order instead (POWERDOWN, SHUTDOWN, exit
    /// status 0), rather than ignore the request.
    pub fn powerdown(&mut self) {
        self.emit(MachineEvent::Powerdown);
        if !self.board.press_power_button() {
            self.emit(MachineEvent::Shutdown { guest: false, reason: "host-qmp-quit" });
            self.request_exit(ExitStatus::PowerOff(0));
        }
    }

    pub fn run_state(&self) -> RunState {
        self.state
    }

    /// Set the debugger's breakpoints; decoded blocks are independent of them.
    pub fn set_breakpoints(&mut self, bps: Vec<u64>) {
        self.debug.breakpoints = bps;
    }

    /// Set the debugger's watchpoints; false (and nothing set) when the CPUs cannot watch.
    pub fn set_watchpoints(&mut self, w: Vec<Watchpoint>) -> bool {
        let mut ok = true;
        for c in &mut self.cpus {
            ok &= c.set_watchpoints(w.clone());
        }
        self.debug.watchpoints = if ok { w } else { Vec::new() };
        ok
    }

    /// Read guest memory as CPU `cpu` sees it now (virtual), or physical when `cpu` is None.
    /// Only RAM and ROM are readable this way; devices are never touched.
    pub fn read_memory(&mut self, cpu: Option<usize>, addr: u64, out: &mut [u8]) -> Result<(), u64> {
        self.access_memory(cpu, addr, out.len(), |bus, pa, range| bus.read_bytes(pa, &mut out[range]).is_ok())
    }

    pub fn write_memory(&mut self, cpu: Option<usize>, addr: u64, data: &[u8]) -> Result<(), u64> {
        let r = self.access_memory(cpu, addr, data.len(), |bus, pa, range| bus.write_bytes(pa, &data[range]).is_ok());
        // Written code must be decoded again.
        for c in &mut self.cpus {
            c.cache().clear();
        }
        r
    }

    /// Walk `[addr, addr + len)` page by page, translating each piece; the error is the first
    /// address that could not be accessed.
    fn access_memory(
        &mut self,
        cpu: Option<usize>,
        addr: u64,
        len: usize,
        mut f: impl FnMut(&mut AddressSpace, u64, std::ops::Range<usize>) -> bool,
    ) -> Result<(), u64> {
        let mut done = 0usize;
        while done < len {
            let va = addr.wrapping_add(done as u64);
            let chunk = ((PAGE - (va % PAGE)) as usize).min(len - done);
            let pa = match cpu {
                Some(n) => {
                    let c = self.cpus.get_mut(n).ok_or(va)?;
                    c.debug_translate(&mut self.bus, va).ok_or(va)?
                }
                None => va,
            };
            if !f(&mut self.bus, pa, done..done + chunk) {
                return Err(va);
            }
            done += chunk;
        }
        Ok(())
    }

    /// `info mtree`: the physical address map, in QEMU's layout.
    pub fn info_mtree(&self) -> String {
        let mut s = String::from("address-space: memory\n  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n");
        for r in self.bus.regions() {
            let kind = match r.kind {
                mimic_memory::RegionKind::Ram { .. } => "ram",
                mimic_memory::RegionKind::Rom { .. } => "rom",
                mimic_memory::RegionKind::Mmio(_) => "i/o",
                mimic_memory::RegionKind::RomDevice { .. } => "romd",
            };
            s.push_str(&format!("    {:016x}-{:016x} (prio 0, {kind}): {}\n", r.range.start, r.range.end - 1, r.name));
        }
        s
    }

    /// `info qtree`: the devices on the board and their registers.
    pub fn info_qtree(&self) -> String {
        self.board.info_qtree(&self.cpus)
    }

    fn service_devices(&mut self) {
        self.board.service(&mut self.bus);
        self.service_virtio();
        if !self.pending_input.is_empty() {
            let n = self.board.receive_input(&self.pending_input);
            self.pending_input.drain(..n);
        }
        self.board.update_timers(&mut self.cpus);
    }

    /// Let virtio devices with notified queues or backend work use guest memory; then drop
    /// decoded code that their DMA overwrote.
    fn service_virtio(&mut self) {
        for t in &self.virtio_mmio {
            let mut t = t.lock().unwrap_or_else(|e| e.into_inner());
            if t.needs_processing() {
                t.process(&mut self.bus);
            }
        }
        self.pci.lock().unwrap_or_else(|e| e.into_inner()).process(&mut self.bus);
        self.drop_dirty_code();
    }

    /// Drop every CPU's blocks from code pages that a device or a CPU overwrote.
    fn drop_dirty_code(&mut self) {
        for page in self.bus.take_dma_dirty_code() {
            for c in &mut self.cpus {
                c.cache().invalidate_page(page);
                c.clear_code_flag(page << mimic_memory::PAGE_SHIFT);
            }
        }
    }

    /// Whether a device waits for its worker thread (which will ring `bell`).
    fn io_in_flight(&self) -> bool {
        self.virtio_mmio.iter().any(|t| t.lock().unwrap_or_else(|e| e.into_inner()).io_in_flight())
            || self.pci.lock().unwrap_or_else(|e| e.into_inner()).io_in_flight()
    }

    /// How long every CPU can sleep: until the next timer of any kind, at most `MAX_IDLE`.
    fn idle_time(&self) -> Duration {
        let mut ns = MAX_IDLE.as_nanos() as u64;
        if let Some(d) = self.board.next_deadline_ns(&self.cpus) {
            ns = ns.min(d);
        }
        if !self.pending_input.is_empty() {
            ns = ns.min(1_000_000);
        }
        Duration::from_nanos(ns)
    }
}
