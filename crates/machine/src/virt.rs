//! The RISC-V `virt` board, with QEMU's memory map.
//!
//! ```text
//!   0x0000_1000  mrom    reset vector, fw_dynamic info
//!   0x0010_0000  test    SiFive test finisher / syscon (power-off 0x5555, reset 0x7777)
//!   0x0010_1000  rtc     Goldfish RTC                       PLIC source 11
//!   0x0200_0000  clint   CLINT (msip, mtimecmp, mtime)      MSIP/MTIP of each hart
//!   0x0c00_0000  plic    PLIC                               MEIP/SEIP of each hart
//!   0x1000_0000  uart0   NS16550A                           PLIC source 10
//!   0x8000_0000  dram    RAM (-m)
//! ```
//!
//! Every hart starts in M-mode at the reset vector in `mrom`, which passes `a0 = mhartid`,
//! `a1 = device tree`, `a2 = fw_dynamic info` and jumps to the firmware (or, with `-bios none`,
//! straight to the kernel).

use crate::board_parts;
use crate::fdt::{self, Chosen};
use crate::loader::{load_elf_or_raw, ImageArch, LoadedImage};
use crate::virtio::Doorbell;
use crate::Error;
use mimic_arch_riscv::csr::irq;
use mimic_arch_riscv::decode::enc;
use mimic_arch_riscv::mmu::Watchpoint;
use mimic_arch_riscv::RiscvCpu;
use mimic_core::{AddrRange, BitIrq, SharedBits, VmClock};
use mimic_devices::pci::PciHost;
use mimic_devices::{
    Clint, ClintHart, GoldfishRtc, MTime, Plic, PlicInput, PowerLatch, PowerRequest, SifiveTest, Uart16550,
};
use mimic_exec::{LogFlags, RunOutcome, TierPolicy, Tiers};
use mimic_jit::Jit;
use mimic_memory::{AddressSpace, Shared};
use mimic_virtio::VirtioMmio;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const MAX_HARTS: usize = 8;
/// virtio-mmio slots (QEMU's count and layout: 4 KiB each from 0x1000_1000, IRQs 1..=8).
pub const VIRTIO_SLOTS: usize = 8;
pub const VIRTIO_SLOT_SIZE: u64 = 0x1000;
pub const VIRTIO_IRQ: u32 = 1;

/// QEMU's `virt` memory map. DRAM's size comes from `-m`.
pub const MEMMAP: &[(&str, AddrRange)] = &[
    ("mrom", AddrRange::new(0x1000, 0xf000)),
    ("test", AddrRange::new(0x10_0000, 0x1000)),
    ("rtc", AddrRange::new(0x10_1000, 0x1000)),
    ("clint", AddrRange::new(0x200_0000, 0x1_0000)),
    ("plic", AddrRange::new(0xc00_0000, 0x60_0000)),
    ("uart0", AddrRange::new(0x1000_0000, 0x100)),
    ("virtio", AddrRange::new(0x1000_1000, VIRTIO_SLOTS as u64 * VIRTIO_SLOT_SIZE)),
    ("pcie_pio", AddrRange::new(0x0300_0000, 0x1_0000)),
    ("pcie_ecam", AddrRange::new(0x3000_0000, 0x1000_0000)),
    ("pcie_mmio", AddrRange::new(0x4000_0000, 0x4000_0000)),
    ("dram", AddrRange::new(0x8000_0000, 0)),
];

pub(crate) fn region(name: &str) -> AddrRange {
    MEMMAP.iter().find(|(n, _)| *n == name).map(|(_, r)| *r).expect("board memory map names every region")
}

/// Which firmware runs first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bios {
    /// Nothing: the reset vector jumps straight to `-kernel`.
    None,
    /// OpenSBI from the usual places.
    Default,
    File(PathBuf),
}

/// File name of OpenSBI's dynamic-info firmware, QEMU's default for `virt`.
const DEFAULT_FIRMWARE: &str = "fw_dynamic.bin";

/// Where `-bios default` looks for OpenSBI, in order: `$MIMIC_FIRMWARE_DIR`, the project's guest
/// cache (next to the working directory or to a binary under `target/<profile>/`), then Debian's
/// `opensbi` package.
fn firmware_search_path() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("MIMIC_FIRMWARE_DIR") {
        dirs.push(PathBuf::from(d));
    }
    dirs.push(PathBuf::from(".cache/guests/riscv64"));
    if let Ok(exe) = std::env::current_exe() {
        if let Some(root) = exe.parent().and_then(|p| p.parent()).and_then(|p| p.parent()) {
            dirs.push(root.join(".cache/guests/riscv64"));
        }
    }
    dirs.push(PathBuf::from("/usr/lib/riscv64-linux-gnu/opensbi/generic"));
    dirs.push(PathBuf::from("/usr/lib/riscv64-linux-generic"));
    dirs.into_iter().map(|d| d.join(DEFAULT_FIRMWARE)).collect()
}

#[derive(Clone, Debug)]
pub struct VirtConfig {
    pub ram_size: u64,
    pub smp: usize,
    pub bios: Bios,
    pub kernel: Option<PathBuf>,
    pub initrd: Option<PathBuf>,
    pub append: Option<String>,
    /// A device tree to pass instead of the generated one (`-dtb`).
    pub dtb: Option<PathBuf>,
    /// `-S`: do not start the harts until `cont` or a debugger says so.
    pub start_paused: bool,
    /// Virtio devices (`-device virtio-*-device` / `virtio-*-pci`).
    pub virtio: Vec<crate::virtio::VirtioSpec>,
    /// AHCI controllers on PCIe (`-device ahci` with `ide-hd` disks).
    pub ahci: Vec<crate::ahci::AhciSpec>,
    pub log: LogFlags,
    /// Interpreter, JIT, or both (`-accel tcg,tier=`).
    pub tier: TierPolicy,
    /// `-perfmap`: name compiled blocks for `perf` in `/tmp/perf-<pid>.map`.
    pub perf_map: bool,
    /// The Arm board's interrupt controller (`-M virt,gic-version=`; the RISC-V board ignores it).
    pub gic_version: crate::arm_virt::GicVersion,
    /// The Arm board's flash banks from `-drive if=pflash` (unit 0 holds the firmware).
    pub pflash: [Option<crate::PflashDrive>; 2],
}

impl Default for VirtConfig {
    fn default() -> Self {
        VirtConfig {
            ram_size: 128 << 20,
            smp: 1,
            bios: Bios::Default,
            kernel: None,
            initrd: None,
            append: None,
            dtb: None,
            start_paused: false,
            virtio: Vec::new(),
            ahci: Vec::new(),
            log: LogFlags::default(),
            tier: TierPolicy::default(),
            perf_map: false,
            gic_version: crate::arm_virt::GicVersion::V2,
            pflash: [None, None],
        }
    }
}

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

/// Something from outside the guest, delivered to the thread that runs it.
pub enum HostEvent {
    /// Bytes typed on the serial console.
    Input(Vec<u8>),
    /// Work to do with the machine (a monitor or debugger request).
    Call(Box<dyn FnOnce(&mut VirtMachine) + Send>),
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
    /// Single-step this hart, then stop.
    pub step_hart: Option<usize>,
    /// Per hart: execute the instruction at this breakpoint once (resuming from it).
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

type Uart = Uart16550<Box<dyn Write + Send>, PlicInput<BitIrq>>;
type VirtioTransport = VirtioMmio<Box<dyn mimic_virtio::VirtioDevice>, PlicInput<BitIrq>>;

pub struct VirtMachine {
    pub bus: AddressSpace,
    pub harts: Vec<RiscvCpu>,
    /// Each hart's compiling tier (its blocks are its own), when the policy uses one.
    jits: Vec<Jit<RiscvCpu>>,
    jit_threshold: u32,
    clint: Shared<Clint<BitIrq>>,
    rtc: Shared<GoldfishRtc<PlicInput<BitIrq>>>,
    uart: Shared<Uart>,
    latch: PowerLatch,
    mtime: MTime,
    /// Console bytes the UART could not take yet.
    pending_input: Vec<u8>,
    log: LogFlags,
    dtb: Vec<u8>,
    virtio_mmio: Vec<Shared<VirtioTransport>>,
    pci: Shared<PciHost<PlicInput<BitIrq>>>,
    /// Rung by device worker threads (disk I/O) when they finish something.
    bell: Arc<Doorbell>,
    /// Guest time; stopped whenever the harts are.
    clock: Arc<VmClock>,
    state: RunState,
    pub debug: DebugState,
    /// Where machine events go (the monitor's event sink, through the CLI).
    pub events: Option<Box<dyn Fn(MachineEvent) + Send>>,
    exit_request: Option<ExitStatus>,
}

/// Largest device tree we place (it sits in the last 2 MiB-aligned block below the end of RAM).
const FDT_MAX: usize = 2 << 20;

/// Instructions each hart runs before the board services devices and timers.
const SLICE: u64 = 20_000;
const PAGE: u64 = mimic_memory::PAGE_SIZE;

/// Longest sleep while every hart waits for an interrupt.
const MAX_IDLE: Duration = Duration::from_millis(20);
/// Longest wait for the doorbell while disk I/O is in flight, before host events are looked at.
const IO_WAIT_SLICE: Duration = Duration::from_millis(2);

const FW_DYNAMIC_MAGIC: u64 = 0x4942_534f;
const FW_DYNAMIC_VERSION: u64 = 2;
/// `next_mode` of fw_dynamic info: continue in S-mode.
const FW_NEXT_MODE_S: u64 = 1;

impl VirtMachine {
    pub fn new(cfg: &VirtConfig, serial: Box<dyn Write + Send>) -> Result<Self, Error> {
        if cfg.smp == 0 || cfg.smp > MAX_HARTS {
            return Err(Error::Smp(cfg.smp));
        }
        if cfg.ram_size < 1 << 20 || !cfg.ram_size.is_multiple_of(4096) {
            return Err(Error::MemorySize(format!("{} bytes (need at least 1 MiB, page aligned)", cfg.ram_size)));
        }
        let dram = AddrRange::new(region("dram").start, cfg.ram_size);
        let mut bus = AddressSpace::new();
        bus.add_rom("mrom", region("mrom"))?;
        bus.add_ram("dram", dram)?;

        let clock = Arc::new(VmClock::new());
        if cfg.start_paused {
            clock.stop();
        }
        let mtime = MTime::new(clock.clone());
        let lines: Vec<SharedBits> = (0..cfg.smp).map(|_| SharedBits::new()).collect();

        let clint_harts = lines.iter().map(|l| ClintHart { msip: l.line(irq::MSI), mtip: l.line(irq::MTI) }).collect();
        let clint =
            Arc::new(Mutex::new(Clint::new(mtime.clone(), clint_harts).map_err(|e| Error::Wiring(e.to_string()))?));
        let contexts = lines.iter().flat_map(|l| [l.line(irq::MEI), l.line(irq::SEI)]).collect();
        let plic = Arc::new(Mutex::new(
            Plic::new(mimic_devices::plic::VIRT_NUM_SOURCES, contexts).map_err(|e| Error::Wiring(e.to_string()))?,
        ));
        let wire = |src| Plic::input(&plic, src).map_err(|e| Error::Wiring(e.to_string()));
        let uart: Shared<Uart> = Arc::new(Mutex::new(Uart16550::new(serial, wire(fdt::UART0_IRQ)?)));
        let rtc = Arc::new(Mutex::new(GoldfishRtc::new(clock.clone(), wire(fdt::RTC_IRQ)?)));
        let latch = PowerLatch::new();

        bus.add_mmio("test", region("test"), Box::new(SifiveTest::new(latch.clone())))?;
        bus.add_mmio("rtc", region("rtc"), Box::new(rtc.clone()))?;
        bus.add_mmio("clint", region("clint"), Box::new(clint.clone()))?;
        bus.add_mmio("plic", region("plic"), Box::new(plic.clone()))?;
        bus.add_mmio("uart0", region("uart0"), Box::new(uart.clone()))?;

        // PCIe: INTA..INTD are PLIC sources 32..35.
        let intx = (0..4).map(|i| wire(fdt::PCIE_IRQ + i)).collect::<Result<Vec<_>, _>>()?;
        let pci = Arc::new(Mutex::new(PciHost::new(intx, region("pcie_pio").start)));
        let bell = Arc::new(Doorbell::default());
        let slots = (region("virtio").start, VIRTIO_SLOTS, VIRTIO_SLOT_SIZE);
        let virtio_mmio = board_parts::virtio_mmio_slots(&mut bus, cfg, &bell, slots, |i| wire(VIRTIO_IRQ + i as u32))?;
        let windows = [region("pcie_ecam"), region("pcie_mmio"), region("pcie_pio")];
        board_parts::pci_devices_and_windows(&mut bus, cfg, &bell, &pci, windows)?;

        let time = {
            let m = mtime.clone();
            Arc::new(move || m.read())
        };
        let harts: Vec<RiscvCpu> =
            lines.into_iter().enumerate().map(|(h, l)| RiscvCpu::new(h as u64, l, time.clone())).collect();
        let (jits, jit_threshold) = board_parts::jits(cfg, harts.len())?;

        let mut m = VirtMachine {
            bus,
            harts,
            jits,
            jit_threshold,
            clint,
            rtc,
            uart,
            latch,
            mtime,
            pending_input: Vec::new(),
            log: cfg.log,
            dtb: Vec::new(),
            virtio_mmio,
            pci,
            bell,
            clock,
            state: if cfg.start_paused { RunState::Prelaunch } else { RunState::Running },
            debug: DebugState::default(),
            events: None,
            exit_request: None,
        };
        if m.harts.len() > 1 {
            m.bus.track_new_code_pages();
        }
        m.load(cfg, dram)?;
        Ok(m)
    }

    /// Load firmware, kernel, initrd and device tree, and write the reset vector.
    fn load(&mut self, cfg: &VirtConfig, dram: AddrRange) -> Result<(), Error> {
        let firmware = match &cfg.bios {
            Bios::None => None,
            Bios::File(p) => Some(p.clone()),
            Bios::Default => Some(find_default_firmware()?),
        };
        let fw: Option<LoadedImage> = match &firmware {
            Some(p) => Some(load_elf_or_raw(&mut self.bus, ImageArch::Riscv64, "firmware", p, dram.start)?),
            None => None,
        };
        // The kernel goes after the firmware, on a 2 MiB boundary (what RV64 kernels expect).
        let kernel_addr = match fw {
            Some(f) => f.high.next_multiple_of(2 << 20),
            None => dram.start,
        };
        let kernel = match &cfg.kernel {
            Some(p) => Some(crate::loader::load_kernel(&mut self.bus, ImageArch::Riscv64, p, kernel_addr, dram.start)?),
            None => None,
        };
        let initrd = match &cfg.initrd {
            Some(p) => {
                let data =
                    std::fs::read(p).map_err(|source| Error::ReadFile { what: "initrd", path: p.clone(), source })?;
                // In the upper half of RAM (below the device tree), clear of the kernel's early
                // allocations, as QEMU does.
                let half = dram.start + dram.size() / 2;
                let at = half.max(kernel.map_or(dram.start, |k| k.high)).next_multiple_of(4096);
                let img = crate::loader::load_raw(&mut self.bus, "initrd", p, &data, at)?;
                Some((img.low, img.high))
            }
            None => None,
        };
        let dtb = match &cfg.dtb {
            Some(p) => read_dtb(p, cfg, initrd)?,
            None => fdt::build(cfg, &Chosen { bootargs: cfg.append.as_deref(), initrd })
                .map_err(|e| Error::Fdt(e.to_string()))?,
        };
        // QEMU puts the tree at the end of (at most the first 3 GiB of) RAM, 2 MiB aligned.
        let fdt_end = dram.start + dram.size().min(3 << 30);
        let fdt_addr = (fdt_end - dtb.len() as u64) & !((2 << 20) - 1);
        self.bus.write_bytes(fdt_addr, &dtb)?;
        self.dtb = dtb;

        let (start, next) = match (fw, kernel) {
            (Some(f), k) => (f.entry, k.map(|k| k.entry).unwrap_or(0)),
            (None, Some(k)) => (k.entry, 0),
            (None, None) => (dram.start, 0),
        };
        self.write_reset_vector(start, fdt_addr, next)?;
        for h in &mut self.harts {
            h.reset(region("mrom").start);
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
        let mut s = String::from("bus: main-system-bus\n  type System\n");
        let devices = [
            ("riscv.sifive.test", "test"),
            ("goldfish_rtc", "rtc"),
            ("riscv.aclint.swi+mtimer", "clint"),
            ("riscv.sifive.plic", "plic"),
            ("serial-mm (ns16550a)", "uart0"),
        ];
        for (ty, name) in devices {
            let r = region(name);
            s.push_str(&format!("  dev: {ty}, id \"{name}\"\n    mmio {:016x}/{:016x}\n", r.start, r.size()));
        }
        for h in &self.harts {
            s.push_str(&format!("  dev: rv64-riscv-cpu, id \"cpu{}\"\n    hartid = {}\n", h.hartid, h.hartid));
        }
        s
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

    /// Emit a machine event to the control planes (e.g. a monitor-initiated reset).
    pub fn notify(&self, e: MachineEvent) {
        self.emit(e);
    }

    /// The device tree the guest was given.
    pub fn dtb(&self) -> &[u8] {
        &self.dtb
    }

    fn write_reset_vector(&mut self, start: u64, fdt_addr: u64, next: u64) -> Result<(), Error> {
        const T0: u32 = 5;
        const A0: u32 = 10;
        const A1: u32 = 11;
        const A2: u32 = 12;
        let code = [
            enc::auipc(T0, 0),
            enc::addi(A2, T0, 40),
            enc::csrrs(A0, 0, 0xf14),
            enc::ld(A1, T0, 32),
            enc::ld(T0, T0, 24),
            enc::jalr(0, T0, 0),
        ];
        let mut rom: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        let info = [FW_DYNAMIC_MAGIC, FW_DYNAMIC_VERSION, next, FW_NEXT_MODE_S, 0, 0];
        for v in [start, fdt_addr].iter().chain(info.iter()) {
            rom.extend_from_slice(&v.to_le_bytes());
        }
        self.bus.write_bytes(region("mrom").start, &rom)?;
        Ok(())
    }

    /// Run until the guest powers off or resets, or the host asks to quit. `host` carries
    /// console bytes and work for this thread (monitor and debugger requests); `quit` is the
    /// console's Ctrl-A x.
    pub fn run(&mut self, host: Option<&Receiver<HostEvent>>, quit: &AtomicBool) -> ExitStatus {
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
                idle = self.run_harts();
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
            if idle && (self.state != RunState::Running || self.harts.iter().all(|h| !h.wake_pending())) {
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

    fn handle_host_event(&mut self, ev: HostEvent) {
        match ev {
            HostEvent::Input(bytes) => self.pending_input.extend_from_slice(&bytes),
            HostEvent::Call(f) => f(self),
        }
    }

    /// One slice of every runnable hart. Returns true when no hart made progress (all wait for
    /// an interrupt, or the machine stopped for the debugger).
    fn run_harts(&mut self) -> bool {
        let mut idle = true;
        let debugging = self.debug.active();
        for h in 0..self.harts.len() {
            if let Some(s) = self.debug.step_hart {
                if s != h {
                    continue;
                }
            }
            let cpu = &mut self.harts[h];
            let outcome = if debugging {
                let d = mimic_exec::Debug {
                    breakpoints: self.debug.breakpoints.clone(),
                    skip_breakpoint_at: self.debug.skip.get(h).copied().flatten(),
                    single_step: self.debug.step_hart == Some(h),
                };
                mimic_exec::run_debug(cpu, &mut self.bus, SLICE, self.log, &d)
            } else if let Some(jit) = self.jits.get_mut(h) {
                let tiers = Tiers { compiler: jit, threshold: self.jit_threshold };
                mimic_exec::run_tiered(cpu, &mut self.bus, SLICE, self.log, tiers)
            } else {
                mimic_exec::run(cpu, &mut self.bus, SLICE, self.log)
            };
            // Other harts run next, and their stores do not break this hart's LR reservation:
            // drop it, so an SC after the switch fails (and the guest retries) instead of
            // overwriting what they wrote in between.
            if self.harts.len() > 1 {
                self.harts[h].reservation = None;
            }
            // Code this hart overwrote must not run stale on the next hart, and stores of the
            // other harts to pages this hart now has code from must take the slow path.
            if self.bus.has_dirty_code() {
                self.drop_dirty_code();
            }
            if self.harts.len() > 1 {
                for page in self.bus.take_new_code_pages() {
                    for other in &mut self.harts {
                        other.tlb.set_code_flag(page << mimic_memory::PAGE_SHIFT);
                    }
                }
            }
            if let Some(s) = self.debug.skip.get_mut(h) {
                *s = None;
            }
            let stop = match outcome {
                RunOutcome::Budget => {
                    idle = false;
                    None
                }
                RunOutcome::Halted if self.debug.step_hart == Some(h) => Some(DebugStop::Step { hart: h }),
                RunOutcome::Halted => None,
                RunOutcome::Breakpoint => Some(DebugStop::Breakpoint { hart: h }),
                RunOutcome::Stepped => Some(DebugStop::Step { hart: h }),
                RunOutcome::Watchpoint => {
                    let (addr, write) = self.harts[h].watch_hit.take().unwrap_or((0, true));
                    Some(DebugStop::Watchpoint { hart: h, addr, write })
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

    /// Pause the harts (monitor `stop`, debugger interrupt).
    pub fn pause(&mut self, state: RunState) {
        if self.state == RunState::Running {
            self.emit(MachineEvent::Stop);
        }
        self.state = state;
        self.clock.stop();
    }

    /// Let the harts run again. A hart stopped on a breakpoint executes that instruction first.
    pub fn resume(&mut self) {
        self.arm_breakpoint_skip();
        if self.state != RunState::Running {
            self.state = RunState::Running;
            self.emit(MachineEvent::Resume);
        }
        self.clock.resume();
    }

    /// Execute one instruction on `hart`, then stop again (reported through the debug channel).
    pub fn step(&mut self, hart: usize) {
        self.arm_breakpoint_skip();
        self.debug.step_hart = Some(hart);
        self.state = RunState::Running;
        self.clock.resume();
    }

    fn arm_breakpoint_skip(&mut self) {
        self.debug.skip = self.harts.iter().map(|c| self.debug.breakpoints.contains(&c.pc).then_some(c.pc)).collect();
    }

    /// Ask the run loop to return `e` (monitor `quit`, `system_reset`, `system_powerdown`).
    pub fn request_exit(&mut self, e: ExitStatus) {
        self.exit_request = Some(e);
    }

    pub fn run_state(&self) -> RunState {
        self.state
    }

    /// Set the debugger's breakpoints; decoded blocks are independent of them.
    pub fn set_breakpoints(&mut self, bps: Vec<u64>) {
        self.debug.breakpoints = bps;
    }

    pub fn set_watchpoints(&mut self, w: Vec<Watchpoint>) {
        self.debug.watchpoints = w.clone();
        for h in &mut self.harts {
            h.set_watchpoints(w.clone());
        }
    }

    /// Read guest memory as hart `hart` sees it now (virtual), or physical when `hart` is None.
    /// Only RAM and ROM are readable this way; devices are never touched.
    pub fn read_memory(&mut self, hart: Option<usize>, addr: u64, out: &mut [u8]) -> Result<(), u64> {
        self.access_memory(hart, addr, out.len(), |bus, pa, range| bus.read_bytes(pa, &mut out[range]).is_ok())
    }

    pub fn write_memory(&mut self, hart: Option<usize>, addr: u64, data: &[u8]) -> Result<(), u64> {
        let r = self.access_memory(hart, addr, data.len(), |bus, pa, range| bus.write_bytes(pa, &data[range]).is_ok());
        // Written code must be decoded again.
        for h in &mut self.harts {
            h.cache.clear();
        }
        r
    }

    /// Walk `[addr, addr + len)` page by page, translating each piece; the error is the first
    /// address that could not be accessed.
    fn access_memory(
        &mut self,
        hart: Option<usize>,
        addr: u64,
        len: usize,
        mut f: impl FnMut(&mut AddressSpace, u64, std::ops::Range<usize>) -> bool,
    ) -> Result<(), u64> {
        let mut done = 0usize;
        while done < len {
            let va = addr.wrapping_add(done as u64);
            let chunk = ((PAGE - (va % PAGE)) as usize).min(len - done);
            let pa = match hart {
                Some(h) => {
                    let cpu = self.harts.get_mut(h).ok_or(va)?;
                    cpu.debug_translate(&mut self.bus, va).ok_or(va)?
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

    fn service_devices(&mut self) {
        self.service_virtio();
        if !self.pending_input.is_empty() {
            let mut u = self.uart.lock().unwrap_or_else(|e| e.into_inner());
            let n = u.receive(&self.pending_input);
            self.pending_input.drain(..n);
        }
        self.clint.lock().unwrap_or_else(|e| e.into_inner()).update();
        self.rtc.lock().unwrap_or_else(|e| e.into_inner()).update();
        for h in &mut self.harts {
            h.update_timer();
        }
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

    /// Drop every hart's blocks from code pages that a device or a hart overwrote.
    fn drop_dirty_code(&mut self) {
        let pages = self.bus.take_dma_dirty_code();
        for page in pages {
            for h in &mut self.harts {
                h.cache.invalidate_page(page);
                h.tlb.clear_code_flag(page << mimic_memory::PAGE_SHIFT);
            }
        }
    }

    /// Whether a device waits for its worker thread (which will ring `bell`).
    fn io_in_flight(&self) -> bool {
        self.virtio_mmio.iter().any(|t| t.lock().unwrap_or_else(|e| e.into_inner()).io_in_flight())
            || self.pci.lock().unwrap_or_else(|e| e.into_inner()).io_in_flight()
    }

    /// How long every hart can sleep: until the next timer of any kind, at most `MAX_IDLE`.
    fn idle_time(&self) -> Duration {
        let mut ns = MAX_IDLE.as_nanos() as u64;
        if let Some(d) = self.clint.lock().unwrap_or_else(|e| e.into_inner()).next_deadline_ns() {
            ns = ns.min(d);
        }
        if let Some(d) = self.rtc.lock().unwrap_or_else(|e| e.into_inner()).next_deadline_ns() {
            ns = ns.min(d);
        }
        for h in &self.harts {
            if h.csr.menvcfg & mimic_arch_riscv::csr::MENVCFG_STCE != 0 && h.csr.mie & irq::STI != 0 {
                if let Some(d) = self.mtime.ns_until(h.csr.stimecmp) {
                    ns = ns.min(d);
                }
            }
        }
        if !self.pending_input.is_empty() {
            ns = ns.min(1_000_000);
        }
        Duration::from_nanos(ns)
    }
}

/// A user-supplied device tree (`-dtb`), with `/chosen` updated for this boot as QEMU does.
pub(crate) fn read_dtb(p: &std::path::Path, cfg: &VirtConfig, initrd: Option<(u64, u64)>) -> Result<Vec<u8>, Error> {
    let data = std::fs::read(p).map_err(|source| Error::ReadFile { what: "device tree", path: p.into(), source })?;
    if data.len() < 40 || data[..4] != [0xd0, 0x0d, 0xfe, 0xed] || data.len() > FDT_MAX {
        return Err(Error::BadImage {
            what: "device tree",
            path: p.into(),
            reason: "not a flattened device tree (bad magic, or larger than 2 MiB)".into(),
        });
    }
    if cfg.append.is_none() && initrd.is_none() {
        return Ok(data);
    }
    crate::fdt_edit::patch_chosen(&data, cfg.append.as_deref(), initrd).map_err(|reason| Error::BadImage {
        what: "device tree",
        path: p.into(),
        reason,
    })
}

fn find_default_firmware() -> Result<PathBuf, Error> {
    let paths = firmware_search_path();
    if let Some(p) = paths.iter().find(|p| p.is_file()) {
        return Ok(p.clone());
    }
    let searched = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    Err(Error::NoDefaultFirmware { searched })
}

/// The device tree a machine built from `cfg` would pass to the guest (`-machine dumpdtb`).
pub fn dump_dtb(cfg: &VirtConfig) -> Result<Vec<u8>, Error> {
    let m = VirtMachine::new(cfg, Box::new(std::io::sink()))?;
    Ok(m.dtb)
}
