//! The AArch64 `virt` board with EL3 (`-M virt,secure=on`): a bare-metal probe
//! (`tests/a64/secure_probe.S`, assembled with binutils-aarch64-linux-gnu) sees the secure-only
//! regions refuse its Non-secure accesses; Debian's arm64 kernel boots with `secure=on`, alone
//! and with `virtualization=on`, entered Non-secure as QEMU enters it; Debian's U-Boot started
//! at EL3 by `-bios`. The guest tests need `cargo xtask fetch-guests`.

mod guest;

use guest::{asset_of, build_a64_program, Guest, INIT_MARKER, PROMPT};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Generous: tests run in parallel on a two-core machine.
const BOOT: Duration = Duration::from_secs(300);
const CMD: Duration = Duration::from_secs(60);

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("arm-el3-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn non_secure_accesses_to_secure_ram_flash0_and_uart_take_external_aborts() {
    let dir = scratch("probe");
    let elf = build_a64_program("secure_probe", &dir);
    let mut c = Command::new(env!("CARGO_BIN_EXE_mimic"));
    c.args(["-cpu", "cortex-a57", "-M", "virt,secure=on", "-m", "128M", "-nographic", "-kernel"]).arg(&elf);
    let mut g = Guest::spawn(c);
    g.wait_for("probe: flash bank 1 reads", CMD);
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
    let out = g.output();
    for step in ["non-secure EL1", "secure RAM aborts", "flash bank 0 aborts", "secure UART aborts"] {
        assert!(out.contains(&format!("probe: {step}")), "{out}");
    }
    assert!(!out.contains("FAIL"), "{out}");
}

#[test]
fn the_same_probe_without_secure_reads_flash0_and_finds_no_secure_ram() {
    // Without secure=on flash bank 0 is ordinary Non-secure flash: the probe fails there.
    let dir = scratch("probe-ns");
    let elf = build_a64_program("secure_probe", &dir);
    let mut c = Command::new(env!("CARGO_BIN_EXE_mimic"));
    c.args(["-cpu", "cortex-a57", "-M", "virt", "-m", "128M", "-nographic", "-kernel"]).arg(&elf);
    let mut g = Guest::spawn(c);
    g.wait_for("probe: FAIL", CMD);
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
    let out = g.output();
    // Nothing is at 0x0e000000 on that board either: an external abort too.
    assert!(out.contains("probe: secure RAM aborts"), "{out}");
    assert!(!out.contains("flash bank 0 aborts"), "{out}");
}

fn booted(extra: &[&str]) -> Guest {
    let mut g = Guest::boot_arm64(extra);
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(PROMPT, CMD);
    g
}

#[test]
fn arm64_secure_on_boots_the_kernel_in_non_secure_el1_with_psci_over_hvc() {
    let mut g = booted(&["-M", "virt,secure=on", "-smp", "2"]);
    assert_eq!(g.run("nproc", CMD).trim(), "2");
    let log = g.run("dmesg | grep -E 'started at EL|psci: Using'", CMD);
    assert!(log.contains("CPU: All CPU(s) started at EL1"), "{log}");
    assert!(log.contains("psci: Using standard PSCI v0.2 function IDs"), "{log}");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

#[test]
fn arm64_secure_and_virtualization_on_boots_the_kernel_at_el2() {
    let mut g = booted(&["-M", "virt,secure=on,virtualization=on", "-smp", "2"]);
    assert_eq!(g.run("nproc", CMD).trim(), "2");
    let log = g.run("dmesg | grep -E 'started at EL|kvm \\[1\\]: Hyp'", CMD);
    assert!(log.contains("CPU: All CPU(s) started at EL2"), "{log}");
    assert!(log.contains("kvm [1]: Hyp nVHE mode initialized successfully"), "{log}");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

#[test]
fn bad_secure_value_is_a_one_line_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_mimic"))
        .args(["-M", "virt,secure=maybe", "-cpu", "cortex-a57"])
        .output()
        .expect("run mimic");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.contains("secure") && err.contains("maybe"), "{err}");
}

#[test]
fn uboot_started_at_el3_by_bios_reaches_its_prompt() {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mimic"));
    c.args(["-cpu", "cortex-a57", "-M", "virt,secure=on,virtualization=on", "-m", "256M", "-nographic", "-bios"])
        .arg(asset_of("arm64", "u-boot.bin"));
    let mut g = Guest::spawn(c);
    g.wait_for("Hit any key to stop autoboot", BOOT);
    g.send("");
    g.wait_for("=> ", CMD);
    g.kill();
}

#[test]
fn uboot_started_at_el3_drops_to_el2_itself_and_boots_the_kernel_there() {
    // U-Boot owns EL3 (the board answers no PSCI calls and writes no psci node); it takes the
    // kernel from fw_cfg and enters it at EL2 in Non-secure state through its own ERET.
    let mut c = Command::new(env!("CARGO_BIN_EXE_mimic"));
    c.args(["-cpu", "cortex-a57", "-M", "virt,secure=on,virtualization=on", "-m", "512M", "-nographic", "-bios"])
        .arg(asset_of("arm64", "u-boot.bin"))
        .arg("-kernel")
        .arg(asset_of("arm64", "Image"))
        .arg("-initrd")
        .arg(asset_of("arm64", "initramfs.cpio.gz"))
        .args(["-append", "console=ttyAMA0"]);
    let mut g = Guest::spawn(c);
    g.wait_for("Starting kernel ...", BOOT);
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(PROMPT, BOOT);
    let log = g.run("dmesg | grep -E 'started at EL|kvm \\[1\\]: Hyp'", CMD);
    assert!(log.contains("CPU: All CPU(s) started at EL2"), "{log}");
    assert!(log.contains("kvm [1]: Hyp nVHE mode initialized successfully"), "{log}");
    g.kill();
}
