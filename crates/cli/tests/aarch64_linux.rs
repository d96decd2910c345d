//! Boot Debian's arm64 kernel on the AArch64 `virt` board (`-cpu cortex-a57`; GICv2, or GICv3
//! with `-M virt,gic-version=3`) to a busybox shell and use it over the PL011 console. Needs `cargo xtask fetch-guests`.

mod guest;

use guest::{asset, asset_of, Guest, INIT_MARKER, PROMPT};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
fn arm64_boot_reaches_shell_and_commands_answer_then_poweroff_exits_zero() {
    let mut g = booted(&[]);

    assert_eq!(g.run("uname -m", CMD).trim(), "aarch64");
    let cpuinfo = g.run("cat /proc/cpuinfo", CMD);
    // Cortex-A57: implementer 0x41 (Arm), part 0xd07.
    assert!(cpuinfo.contains("CPU implementer\t: 0x41") && cpuinfo.contains("CPU part\t: 0xd07"), "{cpuinfo}");
    // The kernel's hwcaps from ID_AA64ISAR0_EL1: Cortex-A57's crypto and CRC32, no LSE.
    assert!(cpuinfo.contains(" aes pmull sha1 sha2 crc32 "), "{cpuinfo}");
    assert!(!cpuinfo.contains("atomics"), "{cpuinfo}");

    // The guest hashes its own busybox; the host hashes the same file from the cache.
    let guest_sum = g.run("sha256sum /bin/busybox", CMD);
    let host = Command::new("sha256sum").arg(asset_of("arm64", "busybox")).output().expect("host sha256sum");
    let host_sum = String::from_utf8_lossy(&host.stdout);
    assert_eq!(guest_sum.split_whitespace().next(), host_sum.split_whitespace().next());

    // The PL031 gives the guest the host's time.
    let guest_now: u64 = g.run("date +%s", CMD).trim().parse().expect("date +%s prints a number");
    let host_now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(guest_now.abs_diff(host_now) < 120, "guest {guest_now} host {host_now}");

    // awk computes in double precision.
    assert_eq!(g.run("awk 'BEGIN { printf \"%.6f\\n\", 355 / 113 }'", CMD).trim(), "3.141593");

    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

/// The feature names /proc/cpuinfo lists for the boot CPU.
fn cpu_features(g: &mut Guest) -> Vec<String> {
    let line = g.run("grep -m1 ^Features /proc/cpuinfo", CMD);
    line.split_once(':').map_or(vec![], |(_, f)| f.split_whitespace().map(str::to_string).collect())
}

#[test]
fn arm64_cpu_max_advertises_pointer_authentication_and_bti_and_runs_with_them() {
    let mut g = booted(&["-cpu", "max"]);
    let features = cpu_features(&mut g);
    // APA/GPA = 1: the architected algorithm (QARMA5) for address and generic keys; BT = 1.
    for f in ["paca", "pacg", "bti"] {
        assert!(features.iter().any(|x| x == f), "{f} missing from {features:?}");
    }
    // The kernel signs its own return addresses with the keys it set (CONFIG_ARM64_PTR_AUTH_KERNEL)
    // and maps its text as guarded pages (CONFIG_ARM64_BTI_KERNEL), so every command below ran
    // through PACIASP/AUTIASP and BTI landing pads; busybox's hash still checks out.
    let guest_sum = g.run("sha256sum /bin/busybox", CMD);
    let host = Command::new("sha256sum").arg(asset_of("arm64", "busybox")).output().expect("host sha256sum");
    let host_sum = String::from_utf8_lossy(&host.stdout);
    assert_eq!(guest_sum.split_whitespace().next(), host_sum.split_whitespace().next());
    assert_eq!(g.run("awk 'BEGIN { printf \"%.6f\\n\", 355 / 113 }'", CMD).trim(), "3.141593");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

#[test]
fn arm64_cpu_max_with_pauth_off_advertises_no_pointer_authentication() {
    let mut g = booted(&["-cpu", "max,pauth=off"]);
    let features = cpu_features(&mut g);
    assert!(!features.is_empty(), "no Features line");
    assert!(!features.iter().any(|x| x.starts_with("pac")), "{features:?}");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

#[test]
fn arm64_max_advertises_lse_atomics_and_runs_with_them_patched_in() {
    // With `atomics` in the hwcaps the kernel switches its atomics, locks and refcounts to the
    // LSE instructions at boot; two CPUs then contend on them.
    let mut g = booted(&["-cpu", "max", "-smp", "2"]);
    let cpuinfo = g.run("cat /proc/cpuinfo", CMD);
    assert!(cpuinfo.contains(" aes pmull sha1 sha2 crc32 atomics "), "{cpuinfo}");
    let dmesg = g.run("dmesg | grep 'CPU features'", CMD);
    assert!(dmesg.contains("detected: LSE atomic instructions"), "{dmesg}");
    assert_eq!(g.run("nproc", CMD).trim(), "2");

    let guest_sum = g.run("sha256sum /bin/busybox", CMD);
    let host = Command::new("sha256sum").arg(asset_of("arm64", "busybox")).output().expect("host sha256sum");
    let host_sum = String::from_utf8_lossy(&host.stdout);
    assert_eq!(guest_sum.split_whitespace().next(), host_sum.split_whitespace().next());
    // Processes on both CPUs at once: fork, exit, pipes and wakeups all take the kernel's
    // atomics.
    let script = "for i in 1 2 3 4; do (seq 2000 | md5sum > /tmp/m$i) & done; wait; cat /tmp/m* | sort -u | wc -l";
    // A non-interactive shell, so no job-control notices land in the output.
    let out = g.run(&format!("sh -c '{script}'"), CMD);
    assert_eq!(out.trim(), "1", "{out}");

    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

#[test]
fn arm64_smp_4_brings_up_every_cpu_through_psci() {
    let mut g = booted(&["-smp", "4"]);
    assert_eq!(g.run("nproc", CMD).trim(), "4");
    assert_eq!(g.run("grep -c ^processor /proc/cpuinfo", CMD).trim(), "4");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

#[test]
fn arm64_gicv3_smp_2_boots_and_takes_interrupts_through_the_system_registers() {
    let mut g = booted(&["-M", "virt,gic-version=3", "-smp", "2"]);
    assert_eq!(g.run("nproc", CMD).trim(), "2");
    let irqs = g.run("cat /proc/interrupts", CMD);
    // The timer ticks on both CPUs and the console's SPI is handled, all through the GICv3.
    assert!(irqs.contains("GICv3  27 Level     arch_timer"), "{irqs}");
    assert!(irqs.contains("GICv3  33 Level     uart-pl011"), "{irqs}");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

#[test]
fn unknown_gic_version_is_a_one_line_error() {
    let err = mimic_fails(&["-M", "virt,gic-version=4", "-cpu", "cortex-a57"]);
    assert!(err.contains("gic-version") && err.contains('4'), "{err}");
}

fn mimic_fails(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mimic")).args(args).output().expect("run mimic");
    assert!(!out.status.success(), "mimic {args:?} succeeded");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    err
}

#[test]
fn riscv_kernel_on_the_arm_board_is_a_one_line_error() {
    let k = asset("Image");
    let err = mimic_fails(&["-M", "virt", "-cpu", "cortex-a57", "-kernel", k.to_str().unwrap()]);
    assert!(err.contains("RISC-V") && err.contains("AArch64"), "{err}");
}
