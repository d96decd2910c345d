//! The flattened device tree of the Arm `virt` board, laid out as QEMU's so that firmware and
//! kernels written for QEMU find every device where they expect it.

use crate::arm_virt::{mpidr_affinity, region, ArmCpuModel, GicVersion, VIRTIO_SLOTS, VIRTIO_SLOT_SIZE};
use crate::fdt::{host_seed, pcie_interrupt_map, pcie_node, Chosen};
use crate::virt::VirtConfig;
use mimic_arch_aarch64::cpu::Conduit;
use vm_fdt::FdtWriter;

const PHANDLE_GIC: u32 = 0x8001;
const PHANDLE_CLK: u32 = 0x8000;
const PHANDLE_GPIO: u32 = 0x8002;

/// Interrupt numbers as the GIC binding writes them: SPIs from 0 (GIC INTID 32), PPIs from 0
/// (INTID 16).
pub const UART0_SPI: u32 = 1;
pub const RTC_SPI: u32 = 2;
/// PCIe INTA..INTD.
pub const PCIE_SPI: u32 = 3;
pub const GPIO_SPI: u32 = 7;
/// The secure PL011 (secure=on).
pub const SECURE_UART_SPI: u32 = 8;
pub const VIRTIO_SPI: u32 = 16;
/// The generic timer's PPIs: secure physical, non-secure physical, virtual, hypervisor.
pub const TIMER_PPIS: [u32; 4] = [13, 14, 11, 10];
/// The GIC's virtual CPU interface maintenance interrupt (PPI 9, as QEMU).
pub const GIC_MAINTENANCE_PPI: u32 = 9;
/// The GPIO pin gpio-keys watches for the power button (`system_powerdown`).
pub const POWER_BUTTON_PIN: u32 = 3;

const GIC_SPI: u32 = 0;
const GIC_PPI: u32 = 1;
const IRQ_EDGE_RISING: u32 = 1;
const IRQ_LEVEL_HIGH: u32 = 4;
/// Linux's input event code of the power key.
const KEY_POWER: u32 = 116;

fn reg(base: u64, size: u64) -> [u64; 2] {
    [base, size]
}

pub fn build(cfg: &VirtConfig, model: ArmCpuModel, chosen: &Chosen) -> Result<Vec<u8>, vm_fdt::Error> {
    let mut f = FdtWriter::new()?;
    let root = f.begin_node("")?;
    f.property_u32("#address-cells", 2)?;
    f.property_u32("#size-cells", 2)?;
    f.property_string("compatible", "linux,dummy-virt")?;
    f.property_string("model", "linux,dummy-virt")?;
    f.property_u32("interrupt-parent", PHANDLE_GIC)?;

    let uart = region("uart0");
    let node = f.begin_node("chosen")?;
    f.property_string("stdout-path", &format!("/pl011@{:x}", uart.start))?;
    if let Some(args) = chosen.bootargs {
        f.property_string("bootargs", args)?;
    }
    if let Some((start, end)) = chosen.initrd {
        f.property_u64("linux,initrd-start", start)?;
        f.property_u64("linux,initrd-end", end)?;
    }
    if let Some(seed) = host_seed() {
        f.property("rng-seed", &seed)?;
    }
    f.end_node(node)?;

    let conduit = crate::arm_virt::psci_conduit(cfg);
    // Secure firmware implements PSCI itself and adds its own node, as on QEMU.
    if conduit != Conduit::None {
        let node = f.begin_node("psci")?;
        f.property_string_list("compatible", vec!["arm,psci-1.0".into(), "arm,psci-0.2".into(), "arm,psci".into()])?;
        f.property_string("method", if conduit == Conduit::Smc { "smc" } else { "hvc" })?;
        f.property_u32("cpu_suspend", crate::psci::CPU_SUSPEND_64)?;
        f.property_u32("cpu_off", crate::psci::CPU_OFF)?;
        f.property_u32("cpu_on", crate::psci::CPU_ON_64)?;
        f.property_u32("migrate", crate::psci::MIGRATE_64)?;
        f.end_node(node)?;
    }

    let dram = region("dram");
    let node = f.begin_node(&format!("memory@{:x}", dram.start))?;
    f.property_string("device_type", "memory")?;
    f.property_array_u64("reg", &reg(dram.start, cfg.ram_size))?;
    f.end_node(node)?;

    // QEMU's layout: one node for both flash banks, or with secure=on one per bank, the first
    // marked for the Secure world only.
    let flash = region("flash");
    let bank = flash.size() / 2;
    if cfg.secure {
        for (i, start) in [flash.start, flash.start + bank].into_iter().enumerate() {
            let node = f.begin_node(&format!("flash@{start:x}"))?;
            f.property_string("compatible", "cfi-flash")?;
            f.property_array_u64("reg", &[start, bank])?;
            f.property_u32("bank-width", 4)?;
            if i == 0 {
                secure_only(&mut f)?;
            }
            f.end_node(node)?;
        }
        let ram = region("secure_ram");
        let node = f.begin_node(&format!("secram@{:x}", ram.start))?;
        f.property_string("device_type", "memory")?;
        f.property_array_u64("reg", &reg(ram.start, ram.size()))?;
        secure_only(&mut f)?;
        f.end_node(node)?;
    } else {
        let node = f.begin_node(&format!("flash@{:x}", flash.start))?;
        f.property_string("compatible", "cfi-flash")?;
        f.property_array_u64("reg", &[flash.start, bank, flash.start + bank, bank])?;
        f.property_u32("bank-width", 4)?;
        f.end_node(node)?;
    }

    let node = f.begin_node("apb-pclk")?;
    f.property_string("compatible", "fixed-clock")?;
    f.property_u32("#clock-cells", 0)?;
    f.property_u32("clock-frequency", 24_000_000)?;
    f.property_string("clock-output-names", "clk24mhz")?;
    f.property_phandle(PHANDLE_CLK)?;
    f.end_node(node)?;

    let cpus = f.begin_node("cpus")?;
    f.property_u32("#address-cells", 1)?;
    f.property_u32("#size-cells", 0)?;
    for n in 0..cfg.smp {
        let mpidr = mpidr_affinity(n, cfg.gic_version);
        let cpu = f.begin_node(&format!("cpu@{mpidr:x}"))?;
        f.property_string("device_type", "cpu")?;
        f.property_string("compatible", model.compatible())?;
        f.property_u32("reg", mpidr as u32)?;
        if cfg.smp > 1 && conduit != Conduit::None {
            f.property_string("enable-method", "psci")?;
        }
        f.end_node(cpu)?;
    }
    f.end_node(cpus)?;

    // GICv2 PPIs name their target CPUs in bits 8..15 of the flags cell; GICv3 ones do not.
    let cpu_mask = match cfg.gic_version {
        GicVersion::V2 => ((1u32 << cfg.smp.min(8)) - 1) << 8,
        GicVersion::V3 => 0,
    };
    let node = f.begin_node("timer")?;
    f.property_string_list("compatible", vec!["arm,armv8-timer".into(), "arm,armv7-timer".into()])?;
    let mut irqs = Vec::new();
    for ppi in TIMER_PPIS {
        irqs.extend_from_slice(&[GIC_PPI, ppi, cpu_mask | IRQ_LEVEL_HIGH]);
    }
    f.property_array_u32("interrupts", &irqs)?;
    f.property_null("always-on")?;
    f.end_node(node)?;

    let dist = region("gic_dist");
    let node = f.begin_node(&format!("intc@{:x}", dist.start))?;
    f.property_u32("#interrupt-cells", 3)?;
    f.property_null("interrupt-controller")?;
    f.property_u32("#address-cells", 2)?;
    f.property_u32("#size-cells", 2)?;
    f.property_null("ranges")?;
    match cfg.gic_version {
        GicVersion::V2 => {
            let cpuif = region("gic_cpu");
            f.property_string("compatible", "arm,cortex-a15-gic")?;
            let mut reg = vec![dist.start, dist.size(), cpuif.start, cpuif.size()];
            // With virtualization=on the binding's third and fourth regions are the virtual
            // interface control (GICH) and virtual CPU interface (GICV), as QEMU's; KVM's vgic-v2
            // finds them there with the maintenance interrupt.
            if cfg.virtualization {
                let (hyp, vcpu) = (region("gic_hyp"), region("gic_vcpu"));
                reg.extend_from_slice(&[hyp.start, hyp.size(), vcpu.start, vcpu.size()]);
            }
            f.property_array_u64("reg", &reg)?;
            if cfg.virtualization {
                f.property_array_u32("interrupts", &[GIC_PPI, GIC_MAINTENANCE_PPI, cpu_mask | IRQ_LEVEL_HIGH])?;
            }
        }
        GicVersion::V3 => {
            // QEMU's layout: one redistributor region; with virtualization=on the maintenance
            // interrupt of the ICH_* interface, which KVM's vgic-v3 asks for.
            let redist = region("gic_redist");
            f.property_string("compatible", mimic_devices::gicv3::COMPATIBLE)?;
            f.property_u32("#redistributor-regions", 1)?;
            f.property_array_u64("reg", &[dist.start, dist.size(), redist.start, redist.size()])?;
            if cfg.virtualization {
                f.property_array_u32("interrupts", &[GIC_PPI, GIC_MAINTENANCE_PPI, IRQ_LEVEL_HIGH])?;
            }
        }
    }
    f.property_phandle(PHANDLE_GIC)?;
    f.end_node(node)?;

    let node = f.begin_node(&format!("pl011@{:x}", uart.start))?;
    f.property_string_list("compatible", vec!["arm,pl011".into(), "arm,primecell".into()])?;
    f.property_array_u64("reg", &reg(uart.start, uart.size()))?;
    f.property_array_u32("interrupts", &[GIC_SPI, UART0_SPI, IRQ_LEVEL_HIGH])?;
    f.property_array_u32("clocks", &[PHANDLE_CLK, PHANDLE_CLK])?;
    f.property_string_list("clock-names", vec!["uartclk".into(), "apb_pclk".into()])?;
    f.end_node(node)?;

    if cfg.secure {
        let su = region("secure_uart");
        let path = format!("/pl011@{:x}", su.start);
        let node = f.begin_node(&path[1..])?;
        f.property_string_list("compatible", vec!["arm,pl011".into(), "arm,primecell".into()])?;
        f.property_array_u64("reg", &reg(su.start, su.size()))?;
        f.property_array_u32("interrupts", &[GIC_SPI, SECURE_UART_SPI, IRQ_LEVEL_HIGH])?;
        f.property_array_u32("clocks", &[PHANDLE_CLK, PHANDLE_CLK])?;
        f.property_string_list("clock-names", vec!["uartclk".into(), "apb_pclk".into()])?;
        secure_only(&mut f)?;
        f.end_node(node)?;
        let node = f.begin_node("secure-chosen")?;
        f.property_string("stdout-path", &path)?;
        f.end_node(node)?;
    }

    let rtc = region("rtc");
    let node = f.begin_node(&format!("pl031@{:x}", rtc.start))?;
    f.property_string_list("compatible", vec!["arm,pl031".into(), "arm,primecell".into()])?;
    f.property_array_u64("reg", &reg(rtc.start, rtc.size()))?;
    f.property_array_u32("interrupts", &[GIC_SPI, RTC_SPI, IRQ_LEVEL_HIGH])?;
    f.property_u32("clocks", PHANDLE_CLK)?;
    f.property_string("clock-names", "apb_pclk")?;
    f.end_node(node)?;

    let fw_cfg = region("fw_cfg");
    let node = f.begin_node(&format!("fw-cfg@{:x}", fw_cfg.start))?;
    f.property_string("compatible", "qemu,fw-cfg-mmio")?;
    f.property_array_u64("reg", &reg(fw_cfg.start, fw_cfg.size()))?;
    f.property_null("dma-coherent")?;
    f.end_node(node)?;

    let gpio = region("gpio");
    let node = f.begin_node(&format!("pl061@{:x}", gpio.start))?;
    f.property_string_list("compatible", vec!["arm,pl061".into(), "arm,primecell".into()])?;
    f.property_array_u64("reg", &reg(gpio.start, gpio.size()))?;
    f.property_array_u32("interrupts", &[GIC_SPI, GPIO_SPI, IRQ_LEVEL_HIGH])?;
    f.property_null("gpio-controller")?;
    f.property_u32("#gpio-cells", 2)?;
    f.property_u32("clocks", PHANDLE_CLK)?;
    f.property_string("clock-names", "apb_pclk")?;
    f.property_phandle(PHANDLE_GPIO)?;
    f.end_node(node)?;

    let keys = f.begin_node("gpio-keys")?;
    f.property_string("compatible", "gpio-keys")?;
    let node = f.begin_node("poweroff")?;
    f.property_string("label", "GPIO Key Poweroff")?;
    f.property_u32("linux,code", KEY_POWER)?;
    f.property_array_u32("gpios", &[PHANDLE_GPIO, POWER_BUTTON_PIN, 0])?;
    f.end_node(node)?;
    f.end_node(keys)?;

    // virtio-mmio slots in address order: Linux probes them in tree order, so the first
    // `-device` (slot 0) becomes vda.
    let virtio = region("virtio");
    for i in 0..VIRTIO_SLOTS as u64 {
        let base = virtio.start + i * VIRTIO_SLOT_SIZE;
        let node = f.begin_node(&format!("virtio_mmio@{base:x}"))?;
        f.property_string("compatible", "virtio,mmio")?;
        f.property_array_u64("reg", &reg(base, VIRTIO_SLOT_SIZE))?;
        f.property_array_u32("interrupts", &[GIC_SPI, VIRTIO_SPI + i as u32, IRQ_EDGE_RISING])?;
        f.property_null("dma-coherent")?;
        f.end_node(node)?;
    }

    // The GIC node has two address cells, hence the two zeros before its interrupt specifier.
    let map = pcie_interrupt_map(|irq| vec![PHANDLE_GIC, 0, 0, GIC_SPI, PCIE_SPI + irq, IRQ_LEVEL_HIGH]);
    pcie_node(&mut f, "pcie", [region("pcie_ecam"), region("pcie_pio"), region("pcie_mmio")], &map)?;

    f.end_node(root)?;
    f.finish()
}

/// Mark the open node as the Secure world's only, as QEMU does (the devicetree
/// specification's `secure-status`).
fn secure_only(f: &mut FdtWriter) -> Result<(), vm_fdt::Error> {
    f.property_string("status", "disabled")?;
    f.property_string("secure-status", "okay")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt_edit::{parse, Node};

    fn tree(gic_version: GicVersion, smp: usize) -> Node {
        let cfg = VirtConfig { gic_version, smp, ..VirtConfig::default() };
        let dtb = build(&cfg, ArmCpuModel::CortexA57, &Chosen { bootargs: None, initrd: None }).unwrap();
        parse(&dtb).unwrap().root
    }

    fn node<'a>(n: &'a Node, name: &str) -> &'a Node {
        n.children.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no node {name}"))
    }

    fn prop<'a>(n: &'a Node, name: &str) -> Option<&'a [u8]> {
        n.props.iter().find(|(p, _)| p == name).map(|(_, v)| v.as_slice())
    }

    fn cells(b: &[u8]) -> Vec<u32> {
        b.chunks(4).map(|c| u32::from_be_bytes(c.try_into().unwrap())).collect()
    }

    #[test]
    fn gicv3_node_has_distributor_and_one_redistributor_region() {
        let root = tree(GicVersion::V3, 2);
        let intc = node(&root, "intc@8000000");
        let reg = cells(prop(intc, "reg").unwrap());
        assert_eq!(prop(intc, "compatible"), Some(&b"arm,gic-v3\0"[..]));
        assert_eq!(prop(intc, "#redistributor-regions").map(cells), Some(vec![1]));
        assert_eq!(reg, vec![0, 0x0800_0000, 0, 0x1_0000, 0, 0x080a_0000, 0, 0xf6_0000]);
        assert_eq!(prop(intc, "interrupts"), None, "no maintenance interrupt without EL2, as QEMU");
    }

    fn virt_tree(gic_version: GicVersion) -> Node {
        let cfg = VirtConfig { gic_version, smp: 2, virtualization: true, ..VirtConfig::default() };
        let dtb = build(&cfg, ArmCpuModel::CortexA57, &Chosen { bootargs: None, initrd: None }).unwrap();
        parse(&dtb).unwrap().root
    }

    #[test]
    fn psci_uses_hvc_without_el2_and_smc_with_it() {
        assert_eq!(prop(node(&tree(GicVersion::V2, 1), "psci"), "method"), Some(&b"hvc\0"[..]));
        assert_eq!(prop(node(&virt_tree(GicVersion::V2), "psci"), "method"), Some(&b"smc\0"[..]));
    }

    fn secure_tree(firmware: bool) -> Node {
        let bios = if firmware { crate::Bios::File("u-boot.bin".into()) } else { crate::Bios::Default };
        let cfg = VirtConfig { smp: 2, secure: true, bios, ..VirtConfig::default() };
        let dtb = build(&cfg, ArmCpuModel::CortexA57, &Chosen { bootargs: None, initrd: None }).unwrap();
        parse(&dtb).unwrap().root
    }

    fn is_secure_only(n: &Node) -> bool {
        prop(n, "status") == Some(&b"disabled\0"[..]) && prop(n, "secure-status") == Some(&b"okay\0"[..])
    }

    #[test]
    fn secure_ram_uart_and_first_flash_bank_are_marked_secure_only() {
        let root = secure_tree(true);
        let ram = node(&root, "secram@e000000");
        assert_eq!(cells(prop(ram, "reg").unwrap()), [0, 0x0e00_0000, 0, 0x0100_0000]);
        assert!(is_secure_only(ram));
        assert!(is_secure_only(node(&root, "pl011@9040000")));
        assert!(is_secure_only(node(&root, "flash@0")));
        let bank1 = node(&root, "flash@4000000");
        assert_eq!(
            (prop(bank1, "status"), cells(prop(bank1, "reg").unwrap())),
            (None, vec![0, 0x0400_0000, 0, 0x0400_0000])
        );
        assert_eq!(prop(node(&root, "secure-chosen"), "stdout-path"), Some(&b"/pl011@9040000\0"[..]));
        assert_eq!(prop(node(&root, "pl011@9000000"), "status"), None, "the Non-secure UART stays usable");
    }

    #[test]
    fn secure_firmware_owns_psci_but_a_kernel_gets_the_boards() {
        let fw = secure_tree(true);
        assert!(fw.children.iter().all(|c| c.name != "psci"), "no psci node under secure firmware");
        assert!(node(&fw, "cpus").children.iter().all(|c| prop(c, "enable-method").is_none()));
        let kernel = secure_tree(false);
        assert_eq!(prop(node(&kernel, "psci"), "method"), Some(&b"hvc\0"[..]));
    }

    #[test]
    fn without_secure_there_is_no_secure_only_node() {
        let root = tree(GicVersion::V2, 1);
        assert!(root.children.iter().all(|c| !c.name.starts_with("secram") && c.name != "secure-chosen"));
        assert!(root.children.iter().all(|c| prop(c, "secure-status").is_none()));
    }

    #[test]
    fn gic_names_the_maintenance_interrupt_only_with_virtualization() {
        let intc = |root: &Node| prop(node(root, "intc@8000000"), "interrupts").map(cells);
        assert_eq!(intc(&tree(GicVersion::V2, 2)), None);
        // PPI 9, level high, both CPUs.
        assert_eq!(intc(&virt_tree(GicVersion::V2)), Some(vec![1, 9, 0x304]));
        // GICv3 flags carry no CPU mask.
        assert_eq!(intc(&virt_tree(GicVersion::V3)), Some(vec![1, 9, 4]));
    }

    #[test]
    fn gicv3_timer_flags_carry_no_cpu_mask() {
        let timer = cells(prop(node(&tree(GicVersion::V3, 2), "timer"), "interrupts").unwrap());
        assert_eq!(timer, vec![1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4]);
    }

    #[test]
    fn gicv2_node_and_timer_mask_stay_as_before() {
        let root = tree(GicVersion::V2, 2);
        let intc = node(&root, "intc@8000000");
        let timer = cells(prop(node(&root, "timer"), "interrupts").unwrap());
        assert_eq!(prop(intc, "compatible"), Some(&b"arm,cortex-a15-gic\0"[..]));
        assert_eq!(timer[2], 0x304);
    }
}
