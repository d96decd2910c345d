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
use crate::machine::{Board, BoardCpu, Machine, Parts, Watchpoint};
use crate::virtio::Doorbell;
use crate::Error;
use mimic_arch_riscv::csr::irq;
use mimic_arch_riscv::decode::enc;
use mimic_arch_riscv::RiscvCpu;
use mimic_core::{AddrRange, BitIrq, SharedBits, VmClock};
use mimic_devices::pci::PciHost;
use mimic_devices::{Clint, ClintHart, GoldfishRtc, MTime, Plic, PlicInput, PowerLatch, SifiveTest, Uart16550};
use mimic_exec::{LogFlags, TierPolicy};
use mimic_memory::{AddressSpace, Shared};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

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
    /// The Arm board's CPUs implement EL2 and boot there (`-M virt,virtualization=on`).
    pub virtualization: bool,
    /// The Arm board's CPUs implement EL3, with secure-only RAM, flash bank 0 and UART
    /// (`-M virt,secure=on`).
    pub secure: bool,
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
            virtualization: false,
            secure: false,
        }
    }
}

type Uart = Uart16550<Box<dyn Write + Send>, PlicInput<BitIrq>>;

/// The RISC-V half of the `virt` machine: CLINT, PLIC, Goldfish RTC and NS16550A.
pub struct RiscvBoard {
    clint: Shared<Clint<BitIrq>>,
    rtc: Shared<GoldfishRtc<PlicInput<BitIrq>>>,
    uart: Shared<Uart>,
    mtime: MTime,
}

/// The RISC-V `virt` machine.
pub type VirtMachine = Machine<RiscvBoard>;

/// Largest device tree we place (it sits in the last 2 MiB-aligned block below the end of RAM).
const FDT_MAX: usize = 2 << 20;

const FW_DYNAMIC_MAGIC: u64 = 0x4942_534f;
const FW_DYNAMIC_VERSION: u64 = 2;
/// `next_mode` of fw_dynamic info: continue in S-mode.
const FW_NEXT_MODE_S: u64 = 1;

impl BoardCpu for RiscvCpu {
    #[inline(always)]
    fn wake_pending(&self) -> bool {
        RiscvCpu::wake_pending(self)
    }
    #[inline(always)]
    fn forget_exclusive(&mut self) {
        self.reservation = None;
    }
    fn set_code_flag(&mut self, page_offset: usize) {
        self.tlb.set_code_flag(page_offset);
    }
    fn clear_code_flag(&mut self, page_offset: usize) {
        self.tlb.clear_code_flag(page_offset);
    }
    fn debug_translate(&mut self, bus: &mut AddressSpace, va: u64) -> Option<u64> {
        RiscvCpu::debug_translate(self, bus, va)
    }
    fn set_watchpoints(&mut self, w: Vec<Watchpoint>) -> bool {
        RiscvCpu::set_watchpoints(self, w);
        true
    }
    fn take_watch_hit(&mut self) -> Option<(u64, bool)> {
        self.watch_hit.take()
    }
    fn dump_registers(&self) -> String {
        RiscvCpu::dump_registers(self)
    }
    fn query_cpu(&self, _index: usize) -> (&'static str, String, Vec<(String, String)>) {
        let props = vec![("pc".into(), format!("{:#x}", self.pc)), ("priv".into(), format!("{:?}", self.prv))];
        ("riscv64", format!("/machine/soc0/harts[{}]", self.hartid), props)
    }
}

impl Board for RiscvBoard {
    type Cpu = RiscvCpu;
    type Irq = PlicInput<BitIrq>;

    fn receive_input(&mut self, bytes: &[u8]) -> usize {
        self.uart.lock().unwrap_or_else(|e| e.into_inner()).receive(bytes)
    }

    fn update_timers(&mut self, cpus: &mut [RiscvCpu]) {
        self.clint.lock().unwrap_or_else(|e| e.into_inner()).update();
        self.rtc.lock().unwrap_or_else(|e| e.into_inner()).update();
        for h in cpus {
            h.update_timer();
        }
    }

    fn next_deadline_ns(&self, cpus: &[RiscvCpu]) -> Option<u64> {
        let mut next = self.clint.lock().unwrap_or_else(|e| e.into_inner()).next_deadline_ns();
        let mut earliest = |d: Option<u64>| {
            if let Some(d) = d {
                next = Some(next.map_or(d, |n| n.min(d)));
            }
        };
        earliest(self.rtc.lock().unwrap_or_else(|e| e.into_inner()).next_deadline_ns());
        for h in cpus {
            if h.csr.menvcfg & mimic_arch_riscv::csr::MENVCFG_STCE != 0 && h.csr.mie & irq::STI != 0 {
                earliest(self.mtime.ns_until(h.csr.stimecmp));
            }
        }
        next
    }

    fn info_qtree(&self, cpus: &[RiscvCpu]) -> String {
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
        for h in cpus {
            s.push_str(&format!("  dev: rv64-riscv-cpu, id \"cpu{}\"\n    hartid = {}\n", h.hartid, h.hartid));
        }
        s
    }
}

impl Machine<RiscvBoard> {
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
        let cpus: Vec<RiscvCpu> =
            lines.into_iter().enumerate().map(|(h, l)| RiscvCpu::new(h as u64, l, time.clone())).collect();
        let jits = board_parts::jits(cfg, cpus.len())?;
        let mut m = Machine::assemble(Parts {
            bus,
            cpus,
            board: RiscvBoard { clint, rtc, uart, mtime },
            jits,
            virtio_mmio,
            pci,
            bell,
            clock,
            latch,
            log: cfg.log,
            start_paused: cfg.start_paused,
        });
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
        for h in &mut self.cpus {
            h.reset(region("mrom").start);
        }
        Ok(())
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
