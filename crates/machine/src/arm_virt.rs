//! The Arm `virt` board (`-M virt -cpu cortex-a57|max`), with QEMU's memory map.
//!
//! ```text
//!   0x0000_0000  flash      two 64 MiB CFI flash banks (pflash0: -bios; pflash1)
//!   0x0800_0000  gic_dist   GIC distributor (v2 or v3)
//!   0x0801_0000  gic_cpu    GICv2 CPU interface (banked per CPU; GICv2 only)
//!   0x0803_0000  gic_hyp    GICv2 virtual interface control, GICH (virtualization=on only)
//!   0x0804_0000  gic_vcpu   GICv2 virtual CPU interface, GICV (virtualization=on only)
//!   0x080a_0000  gic_redist GICv3 redistributors, 128 KiB per CPU (GICv3 only; the CPU
//!                           interface is the ICC_* system registers)
//!   0x0900_0000  uart0      PL011                               SPI 1
//!   0x0901_0000  rtc        PL031                               SPI 2
//!   0x0902_0000  fw_cfg     QEMU's firmware configuration (MMIO, with DMA)
//!   0x0903_0000  gpio       PL061 (pin 3: gpio-keys power)      SPI 7
//!   0x0904_0000  secure_uart PL011, secure-only (secure=on)     SPI 8
//!   0x0a00_0000  virtio     32 virtio-mmio slots of 0x200       SPI 16..47
//!   0x0e00_0000  secure_ram 16 MiB of secure-only RAM (secure=on)
//!   0x1000_0000  pcie_mmio  PCIe 32-bit memory window           INTA..D: SPI 3..6
//!   0x3eff_0000  pcie_pio   PCIe I/O window
//!   0x3f00_0000  pcie_ecam  PCIe configuration space (16 buses)
//!   0x4000_0000  dram       RAM (-m)
//! ```
//!
//! `-kernel` takes an arm64 Linux `Image` (Documentation/arch/arm64/booting.rst): it is placed
//! 2 MiB into RAM, the device tree at the start of RAM, and CPU 0 enters it at EL1 with the MMU
//! off and X0 = the tree. The other CPUs wait, powered off, for PSCI CPU_ON, which the board
//! answers for HVC calls (there is no EL2/EL3 firmware).
//!
//! `-M virt,gic-version=2|3|max` picks the interrupt controller (2 by default, as QEMU's; `max`
//! is 3). With a GICv3 each CPU's ICC_* system registers reach the GIC through
//! [`mimic_arch_aarch64::GicPort`], and MPIDR carries [`mimic_devices::gicv3::virt_affinity`].
//!
//! `-bios` takes firmware (U-Boot's `qemu_arm64`, EDK2) instead: it is loaded into the first
//! flash bank, the device tree goes to the start of RAM, and CPU 0 starts at 0 at EL1 with
//! every register zero, as QEMU's `virt` does without EL2/EL3. The flash banks are ROM devices
//! ([`mimic_memory::RomDevice`]): fetches read the array at RAM speed, data accesses go through
//! the CFI command set ([`PflashCfi01`]), so firmware may probe, erase and program them (its
//! environment lives in the second bank). `-drive if=pflash` files fill the banks instead
//! (unit 0 the firmware, unit 1 its variables) and get the guest's changes back
//! ([`crate::arm_firmware`]); without one a bank's contents live in memory only. With firmware,
//! `-kernel`/`-initrd`/`-append` reach it through fw_cfg, as on QEMU.
//!
//! `-M virt,secure=on` gives the CPUs EL3 (see `mimic_arch_aarch64::el3`) and, as QEMU's board,
//! secure-only RAM, a secure PL011 (its output goes nowhere: QEMU would give it the second
//! serial port) and a secure-only flash bank 0: Non-secure accesses to them take a
//! synchronous external abort. Firmware (`-bios`/pflash) then starts at EL3 in Secure state on
//! every CPU, and the board answers no PSCI calls (the firmware owns them); a `-kernel` is
//! entered in Non-secure EL2 or EL1 as without EL3, with the board's PSCI.

use crate::arm_fdt;
use crate::arm_firmware::{self, FlashFiles};
use crate::board_parts;
use crate::fdt::Chosen;
use crate::loader::{self, ImageArch};
use crate::machine::{Board, BoardCpu, Machine, Parts, Watchpoint};
use crate::psci::{self, Action, Power};
use crate::virt::VirtConfig;
use crate::virtio::Doorbell;
use crate::Error;
use mimic_arch_aarch64::cpu::{irq, Conduit, CpuConfig, CpuModel, Features};
use mimic_arch_aarch64::{Aarch64Cpu, GicPort};
use mimic_core::{AddrRange, BitIrq, Clock, IrqLine, SharedBits, VmClock};
use mimic_devices::fw_cfg;
use mimic_devices::gicv2::{GicSpiLine, GicVirtMmio, VIRT_NUM_SPIS};
use mimic_devices::gicv3::{self, GicV3SpiLine};
use mimic_devices::pci::PciHost;
use mimic_devices::pflash_cfi01::{PflashCfi01, PflashConfig};
use mimic_devices::{
    CurrentCpu, GicCpuLines, GicCpuMmio, GicDistMmio, GicError, GicV2, GicV3, GicV3DistMmio, GicV3RedistMmio, Pl011,
    Pl031, Pl061, PowerLatch, PowerRequest,
};
use mimic_memory::{AddressSpace, Shared};
use std::io::Write;
use std::sync::{Arc, Mutex};

pub const MAX_CPUS: usize = 8;
/// Each of the two flash banks: 64 MiB.
pub const FLASH_BANK_SIZE: u64 = 64 << 20;
pub const VIRTIO_SLOTS: usize = 32;
pub const VIRTIO_SLOT_SIZE: u64 = 0x200;

/// QEMU's Arm `virt` memory map (the low-memory part). DRAM's size comes from `-m`.
pub const MEMMAP: &[(&str, AddrRange)] = &[
    ("flash", AddrRange::new(0, 2 * FLASH_BANK_SIZE)),
    ("gic_dist", AddrRange::new(0x0800_0000, 0x1_0000)),
    ("gic_cpu", AddrRange::new(0x0801_0000, 0x1_0000)),
    ("gic_hyp", AddrRange::new(0x0803_0000, 0x1_0000)),
    ("gic_vcpu", AddrRange::new(0x0804_0000, 0x1_0000)),
    ("gic_redist", GIC_REDIST),
    ("uart0", AddrRange::new(0x0900_0000, 0x1000)),
    ("rtc", AddrRange::new(0x0901_0000, 0x1000)),
    ("fw_cfg", AddrRange::new(0x0902_0000, fw_cfg::MMIO_SIZE)),
    ("gpio", AddrRange::new(0x0903_0000, 0x1000)),
    ("secure_uart", AddrRange::new(0x0904_0000, 0x1000)),
    ("virtio", AddrRange::new(0x0a00_0000, VIRTIO_SLOTS as u64 * VIRTIO_SLOT_SIZE)),
    ("secure_ram", AddrRange::new(0x0e00_0000, 0x100_0000)),
    ("pcie_mmio", AddrRange::new(0x1000_0000, 0x2eff_0000)),
    ("pcie_pio", AddrRange::new(0x3eff_0000, 0x1_0000)),
    ("pcie_ecam", AddrRange::new(0x3f00_0000, 0x100_0000)),
    ("dram", AddrRange::new(0x4000_0000, 0)),
];

/// Which of HVC and SMC the board answers as PSCI calls, as QEMU's `virt` decides: none when
/// secure firmware runs at EL3 (it implements PSCI), SMC when EL2 exists (the hypervisor owns
/// HVC), HVC otherwise.
pub fn psci_conduit(cfg: &VirtConfig) -> Conduit {
    if cfg.secure && ArmVirtMachine::boots_firmware(cfg) {
        Conduit::None
    } else if cfg.virtualization {
        Conduit::Smc
    } else {
        Conduit::Hvc
    }
}

/// The physical ranges only Secure accesses reach with `secure=on`: secure RAM, the secure
/// UART and flash bank 0.
fn secure_only_regions() -> Vec<AddrRange> {
    vec![region("secure_ram"), region("secure_uart"), AddrRange::new(region("flash").start, FLASH_BANK_SIZE)]
}

pub(crate) fn region(name: &str) -> AddrRange {
    MEMMAP.iter().find(|(n, _)| *n == name).map(|(_, r)| *r).expect("board memory map names every region")
}

/// The CPU models `-cpu` offers on this board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArmCpuModel {
    CortexA57,
    /// `max`; `pauth=off` takes pointer authentication away.
    Max {
        pauth: bool,
    },
}

impl ArmCpuModel {
    pub fn compatible(self) -> &'static str {
        match self {
            ArmCpuModel::CortexA57 => "arm,cortex-a57",
            ArmCpuModel::Max { .. } => "arm,arm-v8",
        }
    }
    fn cpu_model(self) -> CpuModel {
        match self {
            ArmCpuModel::CortexA57 => CpuModel::CortexA57,
            ArmCpuModel::Max { .. } => CpuModel::Max,
        }
    }
    fn features(self) -> Features {
        let mut f = self.cpu_model().features();
        if let ArmCpuModel::Max { pauth: false } = self {
            f.pauth = false;
        }
        f
    }
}

/// QEMU's low GICv3 redistributor region (up to the UART). QEMU adds a high region for more
/// than 123 CPUs; this board has at most [`MAX_CPUS`], and their 128 KiB frames fit here.
const GIC_REDIST: AddrRange = AddrRange::new(0x080a_0000, 0xf6_0000);
// The device tree names the maintenance interrupt the GICv2 raises.
const _: () = assert!(arm_fdt::GIC_MAINTENANCE_PPI == mimic_devices::gicv2::MAINTENANCE_PPI);
const _: () = assert!(MAX_CPUS as u64 * gicv3::REDIST_STRIDE <= GIC_REDIST.size());

/// Which interrupt controller the board has (`-M virt,gic-version=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GicVersion {
    /// GICv2 (`arm,cortex-a15-gic`): QEMU's default.
    #[default]
    V2,
    /// GICv3 (`arm,gic-v3`) with the system-register CPU interface.
    V3,
}

impl GicVersion {
    /// The `gic-version` property's value: `2`, `3`, or `max` (the best this board has: 3).
    pub fn parse(s: &str) -> Option<GicVersion> {
        match s {
            "2" => Some(GicVersion::V2),
            "3" | "max" => Some(GicVersion::V3),
            _ => None,
        }
    }
}

/// MPIDR affinity of CPU `n`: with a GICv2 one cluster of up to 8 (what it can address), with
/// a GICv3 clusters of 16 ([`gicv3::virt_affinity`]), as QEMU's `virt`.
pub fn mpidr_affinity(n: usize, gic: GicVersion) -> u64 {
    match gic {
        GicVersion::V2 => n as u64,
        GicVersion::V3 => u64::from(gicv3::virt_affinity(n)),
    }
}

/// The generic timer's counter runs at 62.5 MHz (as QEMU's): one tick per 16 ns.
const TIMER_NS_PER_TICK: u64 = 16;

/// Where the kernel goes: 2 MiB into RAM, leaving the start for the device tree.
const KERNEL_OFFSET: u64 = 2 << 20;
const FDT_MAX: u64 = 2 << 20;
/// How long `system_powerdown` holds the power button down (QEMU's gpio-key: 100 ms of guest
/// time), so gpio-keys sees a press and a release.
const POWER_BUTTON_PULSE_NS: u64 = 100_000_000;

/// An SPI input of whichever GIC the board has.
#[derive(Clone, Debug)]
pub enum GicInput {
    V2(GicSpiLine<BitIrq>),
    V3(GicV3SpiLine<BitIrq>),
}

impl IrqLine for GicInput {
    fn set_level(&self, high: bool) {
        match self {
            GicInput::V2(l) => l.set_level(high),
            GicInput::V3(l) => l.set_level(high),
        }
    }
}

/// The board's interrupt controller.
enum Gic {
    V2(Shared<GicV2<BitIrq>>),
    V3(Shared<GicV3<BitIrq>>),
}

impl Gic {
    fn spi(&self, n: u32) -> Result<GicInput, Error> {
        match self {
            Gic::V2(g) => GicV2::spi_line(g, 32 + n).map(GicInput::V2),
            Gic::V3(g) => GicV3::spi_line(g, 32 + n).map(GicInput::V3),
        }
        .map_err(wiring)
    }

    fn ppi(&self, cpu: usize, ppi: u32) -> Result<Box<dyn IrqLine>, Error> {
        Ok(match self {
            Gic::V2(g) => Box::new(GicV2::ppi_line(g, cpu, ppi).map_err(wiring)?),
            Gic::V3(g) => Box::new(GicV3::ppi_line(g, cpu, ppi).map_err(wiring)?),
        })
    }
}

fn wiring(e: GicError) -> Error {
    Error::Wiring(e.to_string())
}

type Uart = Pl011<Box<dyn Write + Send>, GicInput>;

/// The Arm half of the `virt` machine: GIC, PL011, PL031, PL061 with the power button, the
/// flash banks, and PSCI's view of which CPUs are on.
pub struct ArmBoard {
    power: Vec<Power>,
    uart: Shared<Uart>,
    rtc: Shared<Pl031<GicInput>>,
    gpio: Shared<Pl061<GicInput>>,
    /// Guest time (ns) at which the pressed power button is let go.
    button_release: Option<u64>,
    gic_version: GicVersion,
    clock: Arc<VmClock>,
    /// The CPU running now: whose banked GIC registers an access reaches.
    current_cpu: CurrentCpu,
    /// The two flash banks (pflash0 holds `-bios`).
    pub flash: [Shared<PflashCfi01>; 2],
    /// Bytes of `-bios` at the start of pflash0 (loaded again at every reset).
    firmware_len: u64,
    /// `-drive if=pflash` files the guest's flash changes go to.
    flash_files: FlashFiles,
}

/// The Arm `virt` machine.
pub type ArmVirtMachine = Machine<ArmBoard>;

impl BoardCpu for Aarch64Cpu {
    #[inline(always)]
    fn wake_pending(&self) -> bool {
        Aarch64Cpu::wake_pending(self)
    }
    #[inline(always)]
    fn forget_exclusive(&mut self) {
        self.monitor = None;
    }
    fn set_code_flag(&mut self, page_offset: usize) {
        self.tlb.set_code_flag(page_offset);
    }
    fn clear_code_flag(&mut self, page_offset: usize) {
        self.tlb.clear_code_flag(page_offset);
    }
    fn debug_translate(&mut self, bus: &mut AddressSpace, va: u64) -> Option<u64> {
        self.translate_debug(bus, va)
    }
    fn set_watchpoints(&mut self, w: Vec<Watchpoint>) -> bool {
        let w = w
            .into_iter()
            .map(|w| mimic_arch_aarch64::mmu::Watchpoint { addr: w.addr, len: w.len, read: w.read, write: w.write })
            .collect();
        Aarch64Cpu::set_watchpoints(self, w);
        true
    }
    fn take_watch_hit(&mut self) -> Option<(u64, bool)> {
        Aarch64Cpu::take_watch_hit(self)
    }
    fn dump_registers(&self) -> String {
        dump_registers(self)
    }
    fn query_cpu(&self, index: usize) -> (&'static str, String, Vec<(String, String)>) {
        let props = vec![
            ("pc".into(), format!("{:#x}", self.pc)),
            ("el".into(), self.el.to_string()),
            ("mpidr".into(), format!("{:#x}", self.mpidr)),
        ];
        ("aarch64", format!("/machine/unattached/device[{index}]"), props)
    }
}

/// HMP `info registers` in QEMU's layout: PC, X0..X30 and SP four to a line, then PSTATE with
/// its flags and exception level (`EL1h`: SP_EL1, `EL1t`: SP_EL0), then FPCR/FPSR.
pub fn dump_registers(c: &Aarch64Cpu) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = write!(s, " PC={:016x} ", c.pc);
    for r in 0..31 {
        let _ = write!(s, "X{r:02}={:016x}{}", c.regs[r], if r % 4 == 2 { "\n" } else { " " });
    }
    let _ = writeln!(s, " SP={:016x}", c.sp_of(if c.spsel { usize::from(c.el) } else { 0 }));
    let p = c.pstate();
    let flag = |bit: u32, ch: char| if p >> bit & 1 != 0 { ch } else { '-' };
    let _ = writeln!(
        s,
        "PSTATE={:08x} {}{}{}{} EL{}{}",
        p,
        flag(31, 'N'),
        flag(30, 'Z'),
        flag(29, 'C'),
        flag(28, 'V'),
        c.el,
        if c.spsel { 'h' } else { 't' }
    );
    let _ = writeln!(s, "SP_EL0={:016x} SP_EL1={:016x}", c.sp_of(0), c.sp_of(1));
    let _ = writeln!(s, "FPCR={:08x} FPSR={:08x}", c.fpcr, c.fpsr);
    s
}

impl Board for ArmBoard {
    type Cpu = Aarch64Cpu;
    type Irq = GicInput;

    /// Write what the guest changed in flash back to the pflash files.
    fn service(&mut self, bus: &mut AddressSpace) {
        self.flash_files.write_back(bus);
    }

    /// The guest's flash changes reach the pflash files and the disk (before a reset or exit).
    fn stopped(&mut self, bus: &AddressSpace) {
        self.flash_files.sync(bus);
    }

    #[inline(always)]
    fn powered(&self, n: usize) -> bool {
        self.power[n] == Power::On
    }

    #[inline(always)]
    fn before_slice(&mut self, n: usize) {
        self.current_cpu.set(n);
    }

    #[inline(always)]
    fn after_slice(&mut self, cpus: &mut [Aarch64Cpu], n: usize, latch: &PowerLatch) -> bool {
        if !cpus[n].fw_call {
            return false;
        }
        self.firmware_call(cpus, n, latch);
        true
    }

    fn receive_input(&mut self, bytes: &[u8]) -> usize {
        self.uart.lock().unwrap_or_else(|e| e.into_inner()).receive(bytes)
    }

    fn update_timers(&mut self, cpus: &mut [Aarch64Cpu]) {
        self.rtc.lock().unwrap_or_else(|e| e.into_inner()).update();
        if self.button_release.is_some_and(|t| self.clock.now_ns() >= t) {
            self.button_release = None;
            self.gpio.lock().unwrap_or_else(|e| e.into_inner()).set_input(arm_fdt::POWER_BUTTON_PIN, false);
        }
        for c in cpus {
            c.update_timers();
        }
    }

    fn next_deadline_ns(&self, cpus: &[Aarch64Cpu]) -> Option<u64> {
        let now_ns = self.clock.now_ns();
        let now = now_ns / TIMER_NS_PER_TICK;
        let timers = cpus
            .iter()
            .zip(&self.power)
            .filter(|(_, p)| **p == Power::On)
            .filter_map(|(c, _)| c.timer_deadline())
            .map(|d| d.saturating_sub(now).saturating_mul(TIMER_NS_PER_TICK));
        let button = self.button_release.map(|t| t.saturating_sub(now_ns));
        timers.chain(button).min()
    }

    fn info_qtree(&self, cpus: &[Aarch64Cpu]) -> String {
        let mut s = String::from("bus: main-system-bus\n  type System\n");
        let gic: &[(&str, &str)] = match self.gic_version {
            GicVersion::V2 => &[("arm_gic", "gic_dist"), ("arm_gic", "gic_cpu")],
            GicVersion::V3 => &[("arm-gicv3", "gic_dist"), ("arm-gicv3", "gic_redist")],
        };
        let devices = [("cfi.pflash01", "flash"), ("pl011", "uart0"), ("pl031", "rtc"), ("pl061", "gpio")];
        for (ty, name) in gic.iter().chain(devices.iter()) {
            let r = region(name);
            s.push_str(&format!("  dev: {ty}, id \"{name}\"\n    mmio {:016x}/{:016x}\n", r.start, r.size()));
        }
        s.push_str("  dev: gpio-key, id \"\"\n    gpio-out \"\" 1\n");
        for (n, c) in cpus.iter().enumerate() {
            s.push_str(&format!("  dev: {}-arm-cpu, id \"cpu{n}\"\n    mp-affinity = {:#x}\n", cpu_type(c), c.mpidr));
        }
        s
    }

    /// gpio-keys' KEY_POWER on PL061 pin 3: high now, low again after
    /// [`POWER_BUTTON_PULSE_NS`] of guest time.
    fn press_power_button(&mut self) -> bool {
        self.gpio.lock().unwrap_or_else(|e| e.into_inner()).set_input(arm_fdt::POWER_BUTTON_PIN, true);
        self.button_release = Some(self.clock.now_ns() + POWER_BUTTON_PULSE_NS);
        true
    }
}

fn cpu_type(c: &Aarch64Cpu) -> &'static str {
    match c.model {
        CpuModel::CortexA57 => "cortex-a57",
        CpuModel::Max => "max",
    }
}

impl ArmBoard {
    /// Carry out the PSCI call CPU `n` made.
    fn firmware_call(&mut self, cpus: &mut [Aarch64Cpu], n: usize, latch: &PowerLatch) {
        let cpu = &mut cpus[n];
        cpu.fw_call = false;
        cpu.halted = false;
        let x = [cpu.regs[1], cpu.regs[2], cpu.regs[3]];
        let count = cpus.len();
        let gic = self.gic_version;
        let action = psci::call(cpus[n].regs[0], x, &self.power, |mpidr| {
            let aff = mpidr & 0xff_00ff_ffff;
            (0..count).find(|&i| mpidr_affinity(i, gic) == aff)
        });
        match action {
            Action::Return(v) => cpus[n].regs[0] = v,
            Action::Suspend => {
                cpus[n].regs[0] = psci::SUCCESS as u64;
                cpus[n].halted = true;
            }
            Action::CpuOn { cpu, entry, context } => {
                cpus[n].regs[0] = psci::SUCCESS as u64;
                let t = &mut cpus[cpu];
                t.reset(entry);
                // The board's PSCI stands in for EL3 firmware: the CPU comes up Non-secure.
                t.enter_non_secure();
                t.regs[0] = context;
                self.power[cpu] = Power::On;
            }
            Action::CpuOff => {
                self.power[n] = Power::Off;
                cpus[n].halted = true;
            }
            Action::SystemOff => latch.request(PowerRequest::Off { status: 0 }),
            Action::SystemReset => latch.request(PowerRequest::Reset),
        }
    }
}

impl Machine<ArmBoard> {
    pub fn new(cfg: &VirtConfig, model: ArmCpuModel, serial: Box<dyn Write + Send>) -> Result<Self, Error> {
        if cfg.smp == 0 || cfg.smp > MAX_CPUS {
            return Err(Error::Smp(cfg.smp));
        }
        if cfg.ram_size < 16 << 20 || !cfg.ram_size.is_multiple_of(4096) {
            return Err(Error::MemorySize(format!("{} bytes (need at least 16 MiB, page aligned)", cfg.ram_size)));
        }
        let dram = AddrRange::new(region("dram").start, cfg.ram_size);
        let mut bus = AddressSpace::new();
        let (flash, flash_files) = Self::flash_banks(&mut bus, cfg)?;
        bus.add_ram("dram", dram)?;

        let clock = Arc::new(VmClock::new());
        let lines: Vec<SharedBits> = (0..cfg.smp).map(|_| SharedBits::new()).collect();
        let current_cpu = CurrentCpu::new();
        let outputs = lines.iter().map(|l| GicCpuLines { irq: l.line(irq::IRQ), fiq: l.line(irq::FIQ) }).collect();
        let gic = match cfg.gic_version {
            GicVersion::V2 => {
                let gic = Arc::new(Mutex::new(GicV2::new(VIRT_NUM_SPIS, outputs).map_err(wiring)?));
                bus.add_mmio(
                    "gic_dist",
                    region("gic_dist"),
                    Box::new(GicDistMmio::new(gic.clone(), current_cpu.clone())),
                )?;
                bus.add_mmio(
                    "gic_cpu",
                    region("gic_cpu"),
                    Box::new(GicCpuMmio::new(gic.clone(), current_cpu.clone())),
                )?;
                if cfg.virtualization {
                    let vlines = lines.iter().map(|l| GicCpuLines { irq: l.line(irq::VIRQ), fiq: l.line(irq::VFIQ) });
                    gic.lock().unwrap_or_else(|e| e.into_inner()).set_virtual_outputs(vlines.collect());
                    let hyp = GicVirtMmio::control(gic.clone(), current_cpu.clone());
                    bus.add_mmio("gic_hyp", region("gic_hyp"), Box::new(hyp))?;
                    let vcpu = GicVirtMmio::cpu_interface(gic.clone(), current_cpu.clone());
                    bus.add_mmio("gic_vcpu", region("gic_vcpu"), Box::new(vcpu))?;
                }
                Gic::V2(gic)
            }
            GicVersion::V3 => {
                let gic = Arc::new(Mutex::new(GicV3::new(VIRT_NUM_SPIS, outputs).map_err(wiring)?));
                bus.add_mmio("gic_dist", region("gic_dist"), Box::new(GicV3DistMmio(gic.clone())))?;
                bus.add_mmio("gic_redist", region("gic_redist"), Box::new(GicV3RedistMmio(gic.clone())))?;
                Gic::V3(gic)
            }
        };
        let spi = |n: u32| gic.spi(n);
        let uart: Shared<Uart> = Arc::new(Mutex::new(Pl011::new(serial, spi(arm_fdt::UART0_SPI)?)));
        let rtc = Arc::new(Mutex::new(Pl031::new(clock.clone(), spi(arm_fdt::RTC_SPI)?)));
        // The power button's GPIO (gpio-keys), pressed by `system_powerdown`.
        let gpio = Arc::new(Mutex::new(Pl061::new(spi(arm_fdt::GPIO_SPI)?)));
        let latch = PowerLatch::new();

        bus.add_mmio("uart0", region("uart0"), Box::new(uart.clone()))?;
        bus.add_mmio("rtc", region("rtc"), Box::new(rtc.clone()))?;
        bus.add_mmio("gpio", region("gpio"), Box::new(gpio.clone()))?;
        if cfg.secure {
            bus.add_ram("secure-ram", region("secure_ram"))?;
            let out: Box<dyn Write + Send> = Box::new(std::io::sink());
            let secure_uart: Shared<Uart> = Arc::new(Mutex::new(Pl011::new(out, spi(arm_fdt::SECURE_UART_SPI)?)));
            bus.add_mmio("secure_uart", region("secure_uart"), Box::new(secure_uart))?;
        }
        let fw_cfg = arm_firmware::fw_cfg(cfg, Self::boots_firmware(cfg))?;
        bus.add_mmio("fw_cfg", region("fw_cfg"), Box::new(fw_cfg))?;

        let intx = (0..4).map(|i| spi(arm_fdt::PCIE_SPI + i)).collect::<Result<Vec<_>, _>>()?;
        let pci = Arc::new(Mutex::new(PciHost::new(intx, region("pcie_pio").start)));
        let bell = Arc::new(Doorbell::default());
        let slots = (region("virtio").start, VIRTIO_SLOTS, VIRTIO_SLOT_SIZE);
        let virtio_mmio =
            board_parts::virtio_mmio_slots(&mut bus, cfg, &bell, slots, |i| spi(arm_fdt::VIRTIO_SPI + i as u32))?;
        let windows = [region("pcie_ecam"), region("pcie_mmio"), region("pcie_pio")];
        board_parts::pci_devices_and_windows(&mut bus, cfg, &bell, &pci, windows)?;

        let time: mimic_arch_aarch64::cpu::TimeSource = {
            let c = clock.clone();
            Arc::new(move || c.now_ns() / TIMER_NS_PER_TICK)
        };
        let mut cpus = Vec::new();
        let tlbi_epoch = Arc::new(std::sync::atomic::AtomicU64::new(0));
        for (n, l) in lines.into_iter().enumerate() {
            let timer_lines: [Box<dyn IrqLine>; 2] =
                [gic.ppi(n, arm_fdt::TIMER_PPIS[1])?, gic.ppi(n, arm_fdt::TIMER_PPIS[2])?];
            let mut cpu = Aarch64Cpu::new(CpuConfig {
                model: model.cpu_model(),
                features: model.features(),
                mpidr: mpidr_affinity(n, cfg.gic_version),
                irq_lines: l,
                time: time.clone(),
                timer_lines,
            });
            // With EL2 the kernel owns HVC, so PSCI moves to SMC (as QEMU's board does without
            // secure firmware); the CPUs reset into EL2 (EL3 with secure=on).
            cpu.conduit = psci_conduit(cfg);
            if cfg.virtualization {
                cpu.has_el2 = true;
                cpu.hyp_timer_line = Some(gic.ppi(n, arm_fdt::TIMER_PPIS[3])?);
                if cfg.gic_version == GicVersion::V3 {
                    cpu.ich_maint_line = Some(gic.ppi(n, arm_fdt::GIC_MAINTENANCE_PPI)?);
                }
            }
            if cfg.secure {
                cpu.has_el3 = true;
                cpu.secure_only = secure_only_regions();
            }
            cpu.reset(0);
            if let Gic::V3(g) = &gic {
                cpu.gic = Some(GicPort { gic: g.clone(), cpu: n });
            }
            cpu.tlbi_epoch = Some(tlbi_epoch.clone());
            cpus.push(cpu);
        }
        let jits = board_parts::jits(cfg, cpus.len())?;
        let mut power = vec![Power::Off; cpus.len()];
        power[0] = Power::On;
        let board = ArmBoard {
            power,
            uart,
            rtc,
            gpio,
            button_release: None,
            gic_version: cfg.gic_version,
            clock: clock.clone(),
            current_cpu,
            flash,
            firmware_len: 0,
            flash_files,
        };
        let mut m = Machine::assemble(Parts {
            bus,
            cpus,
            board,
            jits,
            virtio_mmio,
            pci,
            bell,
            clock,
            latch,
            log: cfg.log,
            start_paused: cfg.start_paused,
        });
        m.load(cfg, model, dram)?;
        Ok(m)
    }

    /// Load firmware or kernel, initrd and device tree; point CPU 0 at the first instruction.
    fn load(&mut self, cfg: &VirtConfig, model: ArmCpuModel, dram: AddrRange) -> Result<(), Error> {
        if Self::boots_firmware(cfg) {
            return self.load_firmware(cfg, model, dram);
        }
        let Some(kpath) = &cfg.kernel else {
            return Err(Error::BootOptions("the Arm virt board needs -kernel, -bios or a pflash drive".into()));
        };
        let kernel =
            loader::load_kernel(&mut self.bus, ImageArch::Aarch64, kpath, dram.start + KERNEL_OFFSET, dram.start)?;
        let initrd = match &cfg.initrd {
            Some(p) => {
                let data =
                    std::fs::read(p).map_err(|source| Error::ReadFile { what: "initrd", path: p.clone(), source })?;
                let half = dram.start + dram.size() / 2;
                let at = half.max(kernel.high).next_multiple_of(4096);
                let img = loader::load_raw(&mut self.bus, "initrd", p, &data, at)?;
                Some((img.low, img.high))
            }
            None => None,
        };
        let dtb = match &cfg.dtb {
            Some(p) => crate::virt::read_dtb(p, cfg, initrd)?,
            None => arm_fdt::build(cfg, model, &Chosen { bootargs: cfg.append.as_deref(), initrd })
                .map_err(|e| Error::Fdt(e.to_string()))?,
        };
        if dtb.len() as u64 > FDT_MAX {
            return Err(Error::Fdt("the device tree is larger than 2 MiB".into()));
        }
        let fdt_addr = dram.start;
        self.bus.write_bytes(fdt_addr, &dtb)?;
        self.dtb = dtb;
        for (n, c) in self.cpus.iter_mut().enumerate() {
            c.reset(kernel.entry);
            // No firmware runs at EL3: the kernel starts Non-secure, as QEMU boots it.
            c.enter_non_secure();
            c.halted = n != 0;
        }
        self.cpus[0].regs[0] = fdt_addr;
        Ok(())
    }

    /// Firmware boot: `-bios` into flash bank 0 (or bank 0's drive), the device tree at the
    /// start of RAM, CPU 0 at 0.
    fn load_firmware(&mut self, cfg: &VirtConfig, model: ArmCpuModel, dram: AddrRange) -> Result<(), Error> {
        if cfg.initrd.is_some() && cfg.kernel.is_none() {
            return Err(Error::BootOptions("-initrd needs -kernel".into()));
        }
        if let crate::Bios::File(fw) = &cfg.bios {
            if cfg.pflash[0].is_some() {
                return Err(Error::BootOptions(
                    "-bios and -drive if=pflash,unit=0 both fill the first flash bank: use one of them".into(),
                ));
            }
            let data =
                std::fs::read(fw).map_err(|source| Error::ReadFile { what: "firmware", path: fw.clone(), source })?;
            if data.len() as u64 > FLASH_BANK_SIZE {
                return Err(Error::DoesNotFit {
                    what: "firmware",
                    path: fw.clone(),
                    addr: region("flash").start,
                    len: data.len() as u64,
                });
            }
            loader::load_raw(&mut self.bus, "firmware", fw, &data, region("flash").start)?;
            self.board.firmware_len = data.len() as u64;
        }
        let dtb = match &cfg.dtb {
            Some(p) => crate::virt::read_dtb(p, cfg, None)?,
            None => arm_fdt::build(cfg, model, &Chosen { bootargs: cfg.append.as_deref(), initrd: None })
                .map_err(|e| Error::Fdt(e.to_string()))?,
        };
        if dtb.len() as u64 > FDT_MAX {
            return Err(Error::Fdt("the device tree is larger than 2 MiB".into()));
        }
        self.bus.write_bytes(dram.start, &dtb)?;
        self.dtb = dtb;
        for (n, c) in self.cpus.iter_mut().enumerate() {
            c.reset(region("flash").start);
            // Secure firmware gets every CPU running (QEMU's `virt` does the same: it owns PSCI
            // and parks the secondaries itself); otherwise they wait for PSCI CPU_ON.
            c.halted = n != 0 && !cfg.secure;
        }
        Ok(())
    }

    /// After a guest reset, this new machine keeps what the guest left in `old`'s flash banks,
    /// as QEMU's flash keeps its contents over a reset: everything except the `-bios` image at
    /// the start of pflash0, which is loaded afresh (as QEMU reloads its ROM images).
    pub fn keep_flash_from(&mut self, old: &ArmVirtMachine) {
        let flash = region("flash");
        let page = mimic_memory::PAGE_SIZE;
        let skip = self.board.firmware_len.max(old.board.firmware_len).next_multiple_of(page);
        let mut buf = vec![0u8; page as usize];
        for addr in (flash.start + skip..flash.end).step_by(page as usize) {
            // Pages never written stay zero and are not copied (nor made resident).
            if old.bus.read_bytes(addr, &mut buf).is_ok() && buf.iter().any(|&b| b != 0) {
                // Both machines have the same flash map, so the page is there.
                let _ = self.bus.write_bytes(addr, &buf);
            }
        }
        if skip > self.board.firmware_len {
            // The part of the last firmware page past the image: the guest's bytes.
            let tail = self.board.firmware_len..skip.min(flash.size());
            let mut bytes = vec![0u8; (tail.end - tail.start) as usize];
            if old.bus.read_bytes(flash.start + tail.start, &mut bytes).is_ok() {
                let _ = self.bus.write_bytes(flash.start + tail.start, &bytes);
            }
        }
    }
}

/// Flash banks and fw_cfg: what the board does for firmware.
impl ArmVirtMachine {
    /// Firmware runs from flash (`-bios`, or a drive in bank 0) rather than a kernel directly.
    pub(crate) fn boots_firmware(cfg: &VirtConfig) -> bool {
        matches!(cfg.bios, crate::Bios::File(_)) || cfg.pflash[0].is_some()
    }

    /// The two banks, filled from their `-drive if=pflash` files if given. They go in before
    /// RAM, so that growing the backing store for RAM copies nothing of them.
    fn flash_banks(bus: &mut AddressSpace, cfg: &VirtConfig) -> Result<([Shared<PflashCfi01>; 2], FlashFiles), Error> {
        let mut files = FlashFiles::default();
        let mut banks = Vec::new();
        for (i, drive) in cfg.pflash.iter().enumerate() {
            let read_only = drive.as_ref().is_some_and(|d| d.read_only);
            let bank = PflashCfi01::new(PflashConfig { read_only, ..PflashConfig::ARM_VIRT })
                .map(|f| Arc::new(Mutex::new(f)))
                .map_err(|e| Error::Wiring(e.to_string()))?;
            let range = AddrRange::new(region("flash").start + i as u64 * FLASH_BANK_SIZE, FLASH_BANK_SIZE);
            bus.add_rom_device(&format!("pflash{i}"), range, Box::new(bank.clone()))?;
            if let Some(d) = drive {
                let mut open = arm_firmware::open_drive(d)?;
                bus.write_bytes(range.start, &std::mem::take(&mut open.data))?;
                files.add(bank.clone(), range.start, open);
            }
            banks.push(bank);
        }
        let [a, b]: [Shared<PflashCfi01>; 2] = banks.try_into().map_err(|_| Error::Wiring("two flash banks".into()))?;
        Ok(([a, b], files))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mimic_core::Size;
    use std::path::PathBuf;

    /// A file in the test's own directory, removed with it (flash banks are 64 MiB each).
    fn file(dir: &tempfile::TempDir, name: &str, data: &[u8]) -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    fn firmware_config(fw: PathBuf) -> VirtConfig {
        VirtConfig { bios: crate::Bios::File(fw), tier: mimic_exec::TierPolicy::Interp, ..VirtConfig::default() }
    }

    fn machine(cfg: &VirtConfig) -> Result<ArmVirtMachine, Error> {
        ArmVirtMachine::new(cfg, ArmCpuModel::CortexA57, Box::new(std::io::sink()))
    }

    #[test]
    fn bios_goes_to_flash_and_cpu0_starts_there_with_the_tree_at_ram_start() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = VirtConfig { smp: 2, ..firmware_config(file(&dir, "fw.bin", &[0x1f, 0x20, 0x03, 0xd5])) };
        let m = machine(&cfg).unwrap();
        let mut word = [0u8; 4];
        m.bus.read_bytes(0, &mut word).unwrap();
        assert_eq!(word, [0x1f, 0x20, 0x03, 0xd5]);
        assert_eq!((m.cpus[0].pc, m.cpus[0].regs[0]), (0, 0));
        assert!(m.cpus[1..].iter().all(|c| c.halted));
        m.bus.read_bytes(region("dram").start, &mut word).unwrap();
        assert_eq!(word, [0xd0, 0x0d, 0xfe, 0xed]);
        assert!(m.dtb().windows(9).any(|w| w == b"cfi-flash"));
    }

    #[test]
    fn flash_answers_cfi_queries_in_both_banks() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = machine(&firmware_config(file(&dir, "fw2.bin", &[0; 16]))).unwrap();
        for bank in [0, FLASH_BANK_SIZE] {
            m.bus.write(bank + 0x55 * 4, Size::B4, 0x0098_0098).unwrap();
            assert_eq!(m.bus.read(bank + 0x10 * 4, Size::B4).unwrap(), 0x0051_0051);
            m.bus.write(bank, Size::B4, 0x00ff_00ff).unwrap();
        }
        assert_eq!(m.bus.read(0, Size::B4).unwrap(), 0);
    }

    #[test]
    fn reset_keeps_what_the_guest_wrote_to_flash_but_reloads_the_firmware() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = firmware_config(file(&dir, "fw3.bin", &[0xaa; 8]));
        let mut old = machine(&cfg).unwrap();
        old.bus.write_bytes(0, &[0; 4]).unwrap(); // the guest reprogrammed the firmware
        old.bus.write_bytes(8, &[0x55]).unwrap(); // and the rest of its page
        old.bus.write_bytes(FLASH_BANK_SIZE + 0x1000, &[1, 2, 3]).unwrap();
        let mut new = machine(&cfg).unwrap();
        new.keep_flash_from(&old);
        let mut b = [0u8; 9];
        new.bus.read_bytes(0, &mut b).unwrap();
        assert_eq!(b, [0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0x55]);
        let mut b = [0u8; 3];
        new.bus.read_bytes(FLASH_BANK_SIZE + 0x1000, &mut b).unwrap();
        assert_eq!(b, [1, 2, 3]);
    }

    #[test]
    fn bios_with_kernel_hands_it_to_the_firmware_through_fw_cfg() {
        let dir = tempfile::tempdir().unwrap();
        let fw = file(&dir, "fw4.bin", &[0; 4]);
        let k = file(&dir, "kernel4", b"KERNEL");
        let mut m = machine(&VirtConfig { kernel: Some(k), ..firmware_config(fw) }).unwrap();
        assert!(m.dtb().windows(16).any(|w| w == b"qemu,fw-cfg-mmio"));
        // A DMA descriptor (big-endian): select the kernel item and read 6 bytes of it.
        let ram = region("dram").start;
        let (desc, buf) = (ram + 0x1000, ram + 0x2000);
        let control = u32::from(fw_cfg::key::KERNEL_DATA) << 16 | fw_cfg::ctl::SELECT | fw_cfg::ctl::READ;
        let mut d = control.to_be_bytes().to_vec();
        d.extend_from_slice(&6u32.to_be_bytes());
        d.extend_from_slice(&buf.to_be_bytes());
        m.bus.write_bytes(desc, &d).unwrap();
        let dma_register = region("fw_cfg").start + 0x10;
        m.bus.write(dma_register, mimic_core::Size::B8, desc.swap_bytes()).unwrap();
        // Done when the store returns: the control word is 0 and the bytes are there.
        let mut b = [0u8; 6];
        m.bus.read_bytes(buf, &mut b).unwrap();
        assert_eq!(&b, b"KERNEL");
        let mut c = [0xffu8; 4];
        m.bus.read_bytes(desc, &mut c).unwrap();
        assert_eq!(c, [0; 4]);
    }

    #[test]
    fn bios_with_initrd_but_no_kernel_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fw = file(&dir, "fw5.bin", &[0; 4]);
        let i = VirtConfig { initrd: Some(fw.clone()), ..firmware_config(fw) };
        assert!(matches!(machine(&i), Err(Error::BootOptions(e)) if e.contains("-initrd")));
    }

    fn bank_file(dir: &tempfile::TempDir, name: &str, fill: u8) -> PathBuf {
        file(dir, name, &vec![fill; FLASH_BANK_SIZE as usize])
    }

    #[test]
    fn pflash_drives_fill_both_banks_and_bank_0_boots() {
        let dir = tempfile::tempdir().unwrap();
        let code = bank_file(&dir, "code.fd", 0x11);
        let vars = bank_file(&dir, "vars.fd", 0x22);
        let cfg = VirtConfig {
            bios: crate::Bios::None,
            pflash: [
                Some(arm_firmware::PflashDrive { file: code, read_only: true }),
                Some(arm_firmware::PflashDrive { file: vars, read_only: false }),
            ],
            tier: mimic_exec::TierPolicy::Interp,
            ..VirtConfig::default()
        };
        let m = machine(&cfg).unwrap();
        let mut b = [0u8; 2];
        m.bus.read_bytes(0x1000, &mut b[..1]).unwrap();
        m.bus.read_bytes(FLASH_BANK_SIZE + 0x1000, &mut b[1..]).unwrap();
        assert_eq!(b, [0x11, 0x22]);
        assert_eq!(m.cpus[0].pc, 0);
    }

    #[test]
    fn guest_erase_of_a_vars_block_reaches_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let vars = bank_file(&dir, "vars2.fd", 0);
        let cfg = VirtConfig {
            pflash: [None, Some(arm_firmware::PflashDrive { file: vars.clone(), read_only: false })],
            ..firmware_config(file(&dir, "fw6.bin", &[0; 4]))
        };
        let mut m = machine(&cfg).unwrap();
        let block = FLASH_BANK_SIZE + 3 * PflashConfig::ARM_VIRT.sector_len;
        m.bus.write(block, Size::B4, 0x0020_0020).unwrap();
        m.bus.write(block, Size::B4, 0x00d0_00d0).unwrap();
        m.board.service(&mut m.bus);
        let data = std::fs::read(&vars).unwrap();
        let at = 3 * PflashConfig::ARM_VIRT.sector_len as usize;
        assert!(data[at..at + PflashConfig::ARM_VIRT.sector_len as usize].iter().all(|&b| b == 0xff));
        assert_eq!((data[at - 1], data[at + PflashConfig::ARM_VIRT.sector_len as usize]), (0, 0));
    }

    #[test]
    fn bios_and_a_bank_0_drive_together_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = VirtConfig {
            pflash: [Some(arm_firmware::PflashDrive { file: bank_file(&dir, "code2.fd", 0), read_only: true }), None],
            ..firmware_config(file(&dir, "fw7.bin", &[0; 4]))
        };
        assert!(matches!(machine(&cfg), Err(Error::BootOptions(e)) if e.contains("-bios")));
    }

    #[test]
    fn powerdown_holds_the_gpio_power_key_for_100_ms_of_guest_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = machine(&firmware_config(file(&dir, "fw5.bin", &[0; 4]))).unwrap();
        // GPIODATA with every address mask bit set reads all eight pins.
        let data = region("gpio").start + 0x3fc;
        let key = 1 << arm_fdt::POWER_BUTTON_PIN;
        assert_eq!(m.bus.read(data, Size::B4).unwrap() & key, 0);
        m.powerdown();
        m.board.update_timers(&mut m.cpus);
        assert_eq!(m.bus.read(data, Size::B4).unwrap() & key, key, "pressed");
        let wait = m.board.next_deadline_ns(&m.cpus).expect("the release is a deadline");
        assert!(wait <= POWER_BUTTON_PULSE_NS);
        std::thread::sleep(std::time::Duration::from_nanos(wait + 1_000_000));
        m.board.update_timers(&mut m.cpus);
        assert_eq!(m.bus.read(data, Size::B4).unwrap() & key, 0, "released");
    }

    #[test]
    fn firmware_larger_than_a_bank_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let big = file(&dir, "big.bin", &vec![0; FLASH_BANK_SIZE as usize + 1]);
        assert!(matches!(machine(&firmware_config(big)), Err(Error::DoesNotFit { .. })));
    }
}
