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

use crate::fdt::{self, Chosen};
use crate::loader::{load_elf_or_raw, LoadedImage};
use crate::Error;
use mimic_arch_riscv::csr::irq;
use mimic_arch_riscv::decode::enc;
use mimic_arch_riscv::RiscvCpu;
use mimic_core::{AddrRange, BitIrq, HostClock, SharedBits};
use mimic_devices::{
    Clint, ClintHart, GoldfishRtc, MTime, Plic, PlicInput, PowerLatch, PowerRequest, SifiveTest, Uart16550,
};
use mimic_exec::{LogFlags, RunOutcome};
use mimic_memory::{AddressSpace, Shared};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const MAX_HARTS: usize = 8;

/// QEMU's `virt` memory map. DRAM's size comes from `-m`.
pub const MEMMAP: &[(&str, AddrRange)] = &[
    ("mrom", AddrRange::new(0x1000, 0xf000)),
    ("test", AddrRange::new(0x10_0000, 0x1000)),
    ("rtc", AddrRange::new(0x10_1000, 0x1000)),
    ("clint", AddrRange::new(0x200_0000, 0x1_0000)),
    ("plic", AddrRange::new(0xc00_0000, 0x60_0000)),
    ("uart0", AddrRange::new(0x1000_0000, 0x100)),
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
    pub log: LogFlags,
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
            log: LogFlags::default(),
        }
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

pub struct VirtMachine {
    pub bus: AddressSpace,
    pub harts: Vec<RiscvCpu>,
    clint: Shared<Clint<BitIrq>>,
    rtc: Shared<GoldfishRtc<PlicInput<BitIrq>>>,
    uart: Shared<Uart>,
    latch: PowerLatch,
    mtime: MTime,
    /// Console bytes the UART could not take yet.
    pending_input: Vec<u8>,
    log: LogFlags,
    dtb: Vec<u8>,
}

/// Largest device tree we place (it sits in the last 2 MiB-aligned block below the end of RAM).
const FDT_MAX: usize = 2 << 20;

/// Instructions each hart runs before the board services devices and timers.
const SLICE: u64 = 20_000;
/// Longest sleep while every hart waits for an interrupt.
const MAX_IDLE: Duration = Duration::from_millis(20);

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

        let clock = Arc::new(HostClock::new());
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

        let time = {
            let m = mtime.clone();
            Arc::new(move || m.read())
        };
        let harts = lines.into_iter().enumerate().map(|(h, l)| RiscvCpu::new(h as u64, l, time.clone())).collect();

        let mut m = VirtMachine {
            bus,
            harts,
            clint,
            rtc,
            uart,
            latch,
            mtime,
            pending_input: Vec::new(),
            log: cfg.log,
            dtb: Vec::new(),
        };
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
            Some(p) => Some(load_elf_or_raw(&mut self.bus, "firmware", p, dram.start)?),
            None => None,
        };
        // The kernel goes after the firmware, on a 2 MiB boundary (what RV64 kernels expect).
        let kernel_addr = match fw {
            Some(f) => f.high.next_multiple_of(2 << 20),
            None => dram.start,
        };
        let kernel = match &cfg.kernel {
            Some(p) => Some(crate::loader::load_kernel(&mut self.bus, p, kernel_addr, dram.start)?),
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
            Some(p) => read_dtb(p, cfg)?,
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

    /// Run until the guest powers off or resets. `input` carries console bytes from the host.
    pub fn run(&mut self, input: Option<&Receiver<Vec<u8>>>, quit: &AtomicBool) -> ExitStatus {
        let mut input_open = input.is_some();
        loop {
            if quit.load(Ordering::Acquire) {
                return ExitStatus::Quit;
            }
            let mut all_halted = true;
            for h in 0..self.harts.len() {
                let cpu = &mut self.harts[h];
                if mimic_exec::run(cpu, &mut self.bus, SLICE, self.log) == RunOutcome::Budget {
                    all_halted = false;
                }
                if self.latch.is_set() {
                    break;
                }
            }
            if let Some(req) = self.latch.take() {
                return match req {
                    PowerRequest::Off { status } => ExitStatus::PowerOff(status),
                    PowerRequest::Reset => ExitStatus::Reset,
                };
            }
            if let (true, Some(rx)) = (input_open, input) {
                loop {
                    match rx.try_recv() {
                        Ok(bytes) => self.pending_input.extend_from_slice(&bytes),
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => {
                            input_open = false;
                            break;
                        }
                    }
                }
            }
            self.service_devices();
            if all_halted && self.harts.iter().all(|h| !h.wake_pending()) {
                let wait = self.idle_time();
                match (input_open, input) {
                    (true, Some(rx)) => match rx.recv_timeout(wait) {
                        Ok(bytes) => self.pending_input.extend_from_slice(&bytes),
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => input_open = false,
                    },
                    _ => std::thread::sleep(wait),
                }
                self.service_devices();
            }
        }
    }

    fn service_devices(&mut self) {
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

/// A user-supplied device tree (`-dtb`), passed unchanged.
fn read_dtb(p: &std::path::Path, cfg: &VirtConfig) -> Result<Vec<u8>, Error> {
    let data = std::fs::read(p).map_err(|source| Error::ReadFile { what: "device tree", path: p.into(), source })?;
    if data.len() < 40 || data[..4] != [0xd0, 0x0d, 0xfe, 0xed] || data.len() > FDT_MAX {
        return Err(Error::BadImage {
            what: "device tree",
            path: p.into(),
            reason: "not a flattened device tree (bad magic, or larger than 2 MiB)".into(),
        });
    }
    if cfg.append.is_some() || cfg.initrd.is_some() {
        tracing::warn!("-dtb: the tree is passed unchanged; -append and -initrd are not added to its /chosen node");
    }
    Ok(data)
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
