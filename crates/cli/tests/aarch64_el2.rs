//! Debian's arm64 kernel on the AArch64 `virt` board with EL2 (`-M virt,virtualization=on`):
//! entered at EL2 as QEMU enters it, it keeps EL2 for KVM (nVHE) and runs at EL1; PSCI goes
//! through SMC. Needs `cargo xtask fetch-guests`.

mod guest;

use guest::{Guest, INIT_MARKER, PROMPT};
use std::process::Command;
use std::time::Duration;

/// Generous: tests run in parallel on a two-core machine.
const BOOT: Duration = Duration::from_secs(300);
const CMD: Duration = Duration::from_secs(60);

fn booted(extra: &[&str]) -> Guest {
    let mut g = Guest::boot_arm64(extra);
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(PROMPT, CMD);
    g
}

#[test]
fn arm64_virtualization_on_starts_both_cpus_at_el2_and_kvm_finds_the_vgic_v2() {
    let mut g = booted(&["-M", "virt,virtualization=on", "-smp", "2"]);
    // The second CPU came up through PSCI CPU_ON over SMC, at EL2 as well.
    assert_eq!(g.run("nproc", CMD).trim(), "2");
    let log = g.run("dmesg | grep -E 'started at EL|kvm \\[1\\]: Hyp|psci: Using'", CMD);
    assert!(log.contains("CPU: All CPU(s) started at EL2"), "{log}");
    assert!(log.contains("kvm [1]: Hyp nVHE mode initialized successfully"), "{log}");
    assert!(g.run("test -c /dev/kvm && echo kvm-present", CMD).contains("kvm-present"));
    // With the GICv2's virtualization extensions (GICH and GICV in the device tree), KVM's
    // vgic-v2 probe succeeded: only then does it request the maintenance interrupt.
    let vgic = g.run("dmesg | grep -E 'kvm \\[1\\]: (vgic|GIC|error)'", CMD);
    assert!(vgic.contains("kvm [1]: vgic interrupt IRQ9"), "{vgic}");
    assert!(!vgic.contains("error"), "{vgic}");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

#[test]
fn arm64_without_virtualization_still_starts_at_el1() {
    let mut g = booted(&[]);
    let log = g.run("dmesg | grep -E 'started at EL|kvm \\[1\\]'", CMD);
    assert!(log.contains("CPU: All CPU(s) started at EL1"), "{log}");
    assert!(!log.contains("initialized successfully"), "{log}");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

#[test]
fn bad_virtualization_value_is_a_one_line_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_mimic"))
        .args(["-M", "virt,virtualization=maybe", "-cpu", "cortex-a57"])
        .output()
        .expect("run mimic");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.contains("virtualization") && err.contains("maybe"), "{err}");
}

#[test]
fn arm64_virtualization_with_a_gicv3_boots_and_kvm_finds_the_vgic_v3() {
    let mut g = booted(&["-M", "virt,virtualization=on,gic-version=3"]);
    let log = g.run("dmesg | grep -E 'started at EL|kvm \\[1\\]'", CMD);
    assert!(log.contains("CPU: All CPU(s) started at EL2"), "{log}");
    assert!(log.contains("kvm [1]: Hyp nVHE mode initialized successfully"), "{log}");
    // KVM read ICH_VTR_EL2 at EL2, registered the GICv3 virtual interface (with no GICv2
    // compatibility: there is no GICV window) and took the maintenance interrupt.
    assert!(log.contains("kvm [1]: GICv3: no GICV resource entry"), "{log}");
    assert!(log.contains("kvm [1]: GIC system register CPU interface enabled"), "{log}");
    assert!(log.contains("kvm [1]: vgic interrupt IRQ"), "{log}");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}
