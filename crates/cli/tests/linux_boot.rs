//! Boot Debian's riscv64 kernel through OpenSBI to a busybox shell and use it over the serial
//! console, as a kernel developer or CI pipeline would. Needs `cargo xtask fetch-guests`.

mod guest;

use guest::{asset, Guest, INIT_MARKER, PROMPT};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Generous: tests run in parallel on a two-core machine, and the CPU is an interpreter.
const BOOT: Duration = Duration::from_secs(240);
const CMD: Duration = Duration::from_secs(60);

fn booted(extra: &[&str]) -> Guest {
    let mut g = Guest::boot(extra);
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(PROMPT, CMD);
    g
}

#[test]
fn boot_reaches_shell_and_commands_answer_then_poweroff_exits_zero() {
    let mut g = booted(&[]);

    assert_eq!(g.run("uname -m", CMD).trim(), "riscv64");

    let cpuinfo = g.run("cat /proc/cpuinfo", CMD);
    assert!(cpuinfo.contains("isa\t\t: rv64imafdc"), "cpuinfo:\n{cpuinfo}");
    assert!(cpuinfo.contains("mmu\t\t: sv57"), "cpuinfo:\n{cpuinfo}");

    // The guest hashes its own busybox; the host hashes the same file from the cache.
    let guest_sum = g.run("sha256sum /bin/busybox", CMD);
    let host = Command::new("sha256sum").arg(asset("busybox")).output().expect("host sha256sum");
    let host_sum = String::from_utf8_lossy(&host.stdout);
    assert_eq!(guest_sum.split_whitespace().next(), host_sum.split_whitespace().next());

    let guest_now: u64 = g.run("date +%s", CMD).trim().parse().expect("date +%s prints a number");
    let host_now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(guest_now.abs_diff(host_now) < 120, "guest {guest_now} host {host_now}");

    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

#[test]
fn smp_4_boots_all_harts() {
    let mut g = booted(&["-smp", "4"]);
    assert_eq!(g.run("nproc", CMD).trim(), "4");
    assert_eq!(g.run("grep -c ^processor /proc/cpuinfo", CMD).trim(), "4");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

#[test]
fn reboot_restarts_the_machine() {
    let mut g = booted(&[]);
    g.send("reboot -f");
    g.wait_for("OpenSBI", BOOT);
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(PROMPT, CMD);
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

#[test]
fn ctrl_a_x_quits() {
    let mut g = booted(&[]);
    g.send("\x01x");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

fn mimic_fails(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mimic")).args(args).output().expect("run mimic");
    assert!(!out.status.success(), "mimic {args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "one-line error expected, got:\n{err}");
    err
}

#[test]
fn corrupt_kernel_is_a_one_line_error() {
    let dir = std::env::temp_dir().join(format!("mimic-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.elf");
    let mut bytes = b"\x7fELF".to_vec();
    bytes.extend_from_slice(&[0xee; 60]);
    std::fs::write(&bad, bytes).unwrap();
    let err = mimic_fails(&["-M", "virt", "-bios", "none", "-kernel", bad.to_str().unwrap()]);
    assert!(err.contains("not a valid image"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn missing_initrd_is_a_one_line_error() {
    let kernel = asset("Image");
    let err = mimic_fails(&["-M", "virt", "-kernel", kernel.to_str().unwrap(), "-initrd", "/nonexistent/initrd.gz"]);
    assert!(err.contains("cannot read initrd '/nonexistent/initrd.gz'"), "{err}");
}

#[test]
fn unknown_option_is_a_one_line_error() {
    let err = mimic_fails(&["-frobnicate"]);
    assert!(err.contains("-frobnicate: invalid option"), "{err}");
}

#[test]
fn dumped_device_tree_boots_with_dtb_and_gets_this_boots_command_line() {
    let dir = std::env::temp_dir().join(format!("mimic-dtb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dtb = dir.join("virt.dtb");
    let status = Command::new(env!("CARGO_BIN_EXE_mimic"))
        .args(["-M", &format!("virt,dumpdtb={}", dtb.display()), "-m", "512M", "-bios", "none"])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read(&dtb).unwrap()[..4], [0xd0, 0x0d, 0xfe, 0xed]);

    let mut g = Guest::boot(&["-dtb", dtb.to_str().unwrap(), "-append", "console=ttyS0 quiet mimic.dtb_test=1"]);
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(PROMPT, CMD);
    assert!(g.run("cat /proc/cmdline", CMD).contains("mimic.dtb_test=1"));
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
    std::fs::remove_dir_all(dir).ok();
}
