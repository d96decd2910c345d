//! The flattened device tree of the RISC-V `virt` board, laid out as QEMU's so that firmware
//! and kernels written for QEMU find every device where they expect it.

use crate::virt::{region, VirtConfig};
use vm_fdt::FdtWriter;

const PHANDLE_PLIC: u32 = 1;
const PHANDLE_TEST: u32 = 2;
/// Each hart's interrupt controller gets `PHANDLE_INTC_BASE + hartid`.
const PHANDLE_INTC_BASE: u32 = 0x10;

/// Interrupts on the PLIC.
pub const UART0_IRQ: u32 = 10;
pub const RTC_IRQ: u32 = 11;
/// PCIe INTA..INTD.
pub const PCIE_IRQ: u32 = 0x20;

pub const ISA_STRING: &str = "rv64imafdc_zicsr_zifencei_zba_zbb_zbs_zicond_sstc";
const ISA_EXTENSIONS: &[&str] =
    &["i", "m", "a", "f", "d", "c", "zicsr", "zifencei", "zba", "zbb", "zbs", "zicond", "sstc"];

pub struct Chosen<'a> {
    pub bootargs: Option<&'a str>,
    pub initrd: Option<(u64, u64)>,
}

/// 32 bytes from the host's random generator; `None` (no seed, logged) if it cannot be read.
pub(crate) fn host_seed() -> Option<[u8; 32]> {
    use std::io::Read;
    let mut seed = [0u8; 32];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut seed)) {
        Ok(()) => Some(seed),
        Err(e) => {
            tracing::warn!("device tree without /chosen/rng-seed: /dev/urandom: {e}");
            None
        }
    }
}

fn reg(base: u64, size: u64) -> [u64; 2] {
    [base, size]
}

pub fn build(cfg: &VirtConfig, chosen: &Chosen) -> Result<Vec<u8>, vm_fdt::Error> {
    let mut f = FdtWriter::new()?;
    let root = f.begin_node("")?;
    f.property_u32("#address-cells", 2)?;
    f.property_u32("#size-cells", 2)?;
    f.property_string("compatible", "riscv-virtio")?;
    f.property_string("model", "riscv-virtio,qemu")?;

    let uart = region("uart0");
    let node = f.begin_node("chosen")?;
    f.property_string("stdout-path", &format!("/soc/serial@{:x}", uart.start))?;
    if let Some(args) = chosen.bootargs {
        f.property_string("bootargs", args)?;
    }
    if let Some((start, end)) = chosen.initrd {
        f.property_u64("linux,initrd-start", start)?;
        f.property_u64("linux,initrd-end", end)?;
    }
    // Entropy for the kernel's random generator at boot, as QEMU's virt board gives. Without it
    // Linux's CRNG stays uninitialised for a long time on a board with no RNG device, and every
    // `get_random_*` (e.g. the per-syscall kernel stack offset) then runs a BLAKE2s extraction:
    // a quarter of the guest's time in a disk benchmark.
    if let Some(seed) = host_seed() {
        f.property("rng-seed", &seed)?;
    }
    f.end_node(node)?;

    let dram = region("dram");
    let node = f.begin_node(&format!("memory@{:x}", dram.start))?;
    f.property_string("device_type", "memory")?;
    f.property_array_u64("reg", &reg(dram.start, cfg.ram_size))?;
    f.end_node(node)?;

    let cpus = f.begin_node("cpus")?;
    f.property_u32("#address-cells", 1)?;
    f.property_u32("#size-cells", 0)?;
    f.property_u32("timebase-frequency", mimic_devices::clint::TIMEBASE_HZ as u32)?;
    for h in 0..cfg.smp as u32 {
        let cpu = f.begin_node(&format!("cpu@{h}"))?;
        f.property_string("device_type", "cpu")?;
        f.property_u32("reg", h)?;
        f.property_string("status", "okay")?;
        f.property_string("compatible", "riscv")?;
        f.property_string("riscv,isa", ISA_STRING)?;
        f.property_string("riscv,isa-base", "rv64i")?;
        f.property_string_list("riscv,isa-extensions", ISA_EXTENSIONS.iter().map(|s| s.to_string()).collect())?;
        f.property_string("mmu-type", "riscv,sv57")?;
        let intc = f.begin_node("interrupt-controller")?;
        f.property_u32("#address-cells", 0)?;
        f.property_u32("#interrupt-cells", 1)?;
        f.property_null("interrupt-controller")?;
        f.property_string("compatible", "riscv,cpu-intc")?;
        f.property_phandle(PHANDLE_INTC_BASE + h)?;
        f.end_node(intc)?;
        f.end_node(cpu)?;
    }
    f.end_node(cpus)?;

    let test = region("test");
    let node = f.begin_node("poweroff")?;
    f.property_u32("value", 0x5555)?;
    f.property_u32("offset", 0)?;
    f.property_u32("regmap", PHANDLE_TEST)?;
    f.property_string("compatible", "syscon-poweroff")?;
    f.end_node(node)?;
    let node = f.begin_node("reboot")?;
    f.property_u32("value", 0x7777)?;
    f.property_u32("offset", 0)?;
    f.property_u32("regmap", PHANDLE_TEST)?;
    f.property_string("compatible", "syscon-reboot")?;
    f.end_node(node)?;

    let soc = f.begin_node("soc")?;
    f.property_u32("#address-cells", 2)?;
    f.property_u32("#size-cells", 2)?;
    f.property_string("compatible", "simple-bus")?;
    f.property_null("ranges")?;

    let rtc = region("rtc");
    let node = f.begin_node(&format!("rtc@{:x}", rtc.start))?;
    f.property_string("compatible", "google,goldfish-rtc")?;
    f.property_array_u64("reg", &reg(rtc.start, rtc.size()))?;
    f.property_u32("interrupt-parent", PHANDLE_PLIC)?;
    f.property_u32("interrupts", RTC_IRQ)?;
    f.end_node(node)?;

    let node = f.begin_node(&format!("serial@{:x}", uart.start))?;
    f.property_string("compatible", "ns16550a")?;
    f.property_array_u64("reg", &reg(uart.start, uart.size()))?;
    f.property_u32("clock-frequency", 0x38_4000)?;
    f.property_u32("interrupt-parent", PHANDLE_PLIC)?;
    f.property_u32("interrupts", UART0_IRQ)?;
    f.end_node(node)?;

    let node = f.begin_node(&format!("test@{:x}", test.start))?;
    f.property_string_list("compatible", vec!["sifive,test1".into(), "sifive,test0".into(), "syscon".into()])?;
    f.property_array_u64("reg", &reg(test.start, test.size()))?;
    f.property_phandle(PHANDLE_TEST)?;
    f.end_node(node)?;

    let plic = region("plic");
    let node = f.begin_node(&format!("plic@{:x}", plic.start))?;
    f.property_string_list("compatible", vec!["sifive,plic-1.0.0".into(), "riscv,plic0".into()])?;
    f.property_array_u64("reg", &reg(plic.start, plic.size()))?;
    f.property_u32("#address-cells", 0)?;
    f.property_u32("#interrupt-cells", 1)?;
    f.property_null("interrupt-controller")?;
    f.property_u32("riscv,ndev", mimic_devices::plic::VIRT_NUM_SOURCES)?;
    let mut ext = Vec::new();
    for h in 0..cfg.smp as u32 {
        ext.extend_from_slice(&[PHANDLE_INTC_BASE + h, 11, PHANDLE_INTC_BASE + h, 9]);
    }
    f.property_array_u32("interrupts-extended", &ext)?;
    f.property_phandle(PHANDLE_PLIC)?;
    f.end_node(node)?;

    let clint = region("clint");
    let node = f.begin_node(&format!("clint@{:x}", clint.start))?;
    f.property_string_list("compatible", vec!["sifive,clint0".into(), "riscv,clint0".into()])?;
    f.property_array_u64("reg", &reg(clint.start, clint.size()))?;
    let mut ext = Vec::new();
    for h in 0..cfg.smp as u32 {
        ext.extend_from_slice(&[PHANDLE_INTC_BASE + h, 3, PHANDLE_INTC_BASE + h, 7]);
    }
    f.property_array_u32("interrupts-extended", &ext)?;
    f.end_node(node)?;

    // virtio-mmio slots in address order, as QEMU's finished tree has them: Linux probes them in
    // tree order, so the first `-device` (slot 0) becomes vda.
    let virtio = region("virtio");
    for i in 0..crate::virt::VIRTIO_SLOTS as u64 {
        let base = virtio.start + i * crate::virt::VIRTIO_SLOT_SIZE;
        let node = f.begin_node(&format!("virtio_mmio@{base:x}"))?;
        f.property_string("compatible", "virtio,mmio")?;
        f.property_array_u64("reg", &reg(base, crate::virt::VIRTIO_SLOT_SIZE))?;
        f.property_u32("interrupt-parent", PHANDLE_PLIC)?;
        f.property_u32("interrupts", crate::virt::VIRTIO_IRQ + i as u32)?;
        f.property_null("dma-coherent")?;
        f.end_node(node)?;
    }

    // INTx of slot d, pin p reaches PLIC source PCIE_IRQ + (d + p - 1) % 4.
    let map = pcie_interrupt_map(|irq| vec![PHANDLE_PLIC, PCIE_IRQ + irq]);
    pcie_node(&mut f, "pci", [region("pcie_ecam"), region("pcie_pio"), region("pcie_mmio")], &map)?;

    f.end_node(soc)?;
    f.end_node(root)?;
    f.finish()
}

/// `interrupt-map` of a PCIe host: INTx of slot d, pin p (1..=4) swizzled to line
/// (d + p - 1) % 4, which `parent(line)` turns into the parent's phandle and specifier.
pub(crate) fn pcie_interrupt_map(parent: impl Fn(u32) -> Vec<u32>) -> Vec<u32> {
    let mut map = Vec::new();
    for dev in 0..4u32 {
        for pin in 1..=4u32 {
            map.extend_from_slice(&[dev << 11, 0, 0, pin]);
            map.extend(parent((dev + pin - 1) % 4));
        }
    }
    map
}

/// The `pci-host-ecam-generic` node of a PCIe host with an ECAM, an I/O and a 32-bit memory
/// window (`[ecam, pio, mmio]`), named `<name>@<address>` as QEMU names it on each board.
pub(crate) fn pcie_node(
    f: &mut FdtWriter,
    name: &str,
    [ecam, pio, mmio]: [mimic_core::AddrRange; 3],
    interrupt_map: &[u32],
) -> Result<(), vm_fdt::Error> {
    let at = if name == "pci" { ecam.start } else { mmio.start };
    let node = f.begin_node(&format!("{name}@{at:x}"))?;
    f.property_string("compatible", "pci-host-ecam-generic")?;
    f.property_string("device_type", "pci")?;
    f.property_u32("#address-cells", 3)?;
    f.property_u32("#size-cells", 2)?;
    f.property_u32("#interrupt-cells", 1)?;
    f.property_array_u64("reg", &reg(ecam.start, ecam.size()))?;
    f.property_array_u32("bus-range", &[0, (ecam.size() >> 20) as u32 - 1])?;
    f.property_u32("linux,pci-domain", 0)?;
    f.property_null("dma-coherent")?;
    // ranges: (PCI space hi, PCI addr hi, lo; CPU addr hi, lo; size hi, lo) for I/O and 32-bit memory.
    let hi = |v: u64| (v >> 32) as u32;
    let lo = |v: u64| v as u32;
    f.property_array_u32(
        "ranges",
        &[
            0x0100_0000,
            0,
            0,
            hi(pio.start),
            lo(pio.start),
            hi(pio.size()),
            lo(pio.size()),
            0x0200_0000,
            hi(mmio.start),
            lo(mmio.start),
            hi(mmio.start),
            lo(mmio.start),
            hi(mmio.size()),
            lo(mmio.size()),
        ],
    )?;
    f.property_array_u32("interrupt-map", interrupt_map)?;
    f.property_array_u32("interrupt-map-mask", &[0x1800, 0, 0, 7])?;
    f.end_node(node)
}
