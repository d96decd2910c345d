//! EDK2 (Debian's `qemu-efi-aarch64`) on the Arm `virt` board: as `-bios` to its UEFI shell; as
//! the AAVMF code/variables pflash pair, keeping a non-volatile variable in the variables file
//! across runs; booting Linux through its EFI stub from a FAT EFI system partition on a virtio
//! disk; and handing `-kernel`/`-initrd`/`-append` to EDK2 through fw_cfg.
//!
//! Needs `qemu-efi-aarch64` (each test says so and passes when it is missing), and for the
//! Linux boots `cargo xtask fetch-guests` plus dosfstools and mtools (`.ci/run` installs them).

mod guest;

use guest::{asset_of, Guest, INIT_MARKER, PROMPT};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const EFI_FD: &str = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd";
const AAVMF_CODE: &str = "/usr/share/AAVMF/AAVMF_CODE.fd";
const AAVMF_VARS: &str = "/usr/share/AAVMF/AAVMF_VARS.fd";
const SHELL: Duration = Duration::from_secs(150);
const BOOT: Duration = Duration::from_secs(240);
const SHELL_PROMPT: &str = "Shell> ";
const BANK_SIZE: u64 = 64 << 20;
/// The kernel command line: as the other tests' boots (quiet console, no lockup watchdog).
const CMDLINE: &str = "console=ttyAMA0 quiet loglevel=1 nowatchdog";

fn have(paths: &[&str]) -> bool {
    let missing: Vec<&&str> = paths.iter().filter(|p| !Path::new(p).is_file()).collect();
    if !missing.is_empty() {
        eprintln!("SKIPPED: {missing:?} missing (apt-get install qemu-efi-aarch64)");
    }
    missing.is_empty()
}

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("edk2-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn mimic(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mimic"));
    c.args(["-M", "virt", "-cpu", "cortex-a57", "-m", "512M", "-nographic"]).args(args);
    c
}

/// The AAVMF pair: the code bank read-only, the variables bank from `vars`.
fn aavmf(vars: &Path, extra: &[&str]) -> Guest {
    let code = format!("if=pflash,format=raw,unit=0,readonly=on,file={AAVMF_CODE}");
    let vars = format!("if=pflash,format=raw,unit=1,file={}", vars.display());
    let mut args = vec!["-drive", &code, "-drive", &vars];
    args.extend_from_slice(extra);
    Guest::spawn(mimic(&args))
}

/// Wait for the shell's prompt, after its 5-second startup.nsh countdown (a key pressed before
/// the shell reads its console would go to an earlier stage, so none is).
fn to_shell(g: &mut Guest) -> String {
    g.wait_for(SHELL_PROMPT, SHELL)
}

/// A shell command's output, up to the next prompt.
fn shell(g: &mut Guest, command: &str) -> String {
    // The shell's Enter is a carriage return.
    g.type_raw(&format!("{command}\r"));
    g.wait_for(SHELL_PROMPT, SHELL).replace('\r', "")
}

#[test]
fn edk2_as_bios_reaches_the_uefi_shell() {
    if !have(&[EFI_FD]) {
        return;
    }
    let start = Instant::now();
    let mut g = Guest::spawn(mimic(&["-bios", EFI_FD]));
    let text = to_shell(&mut g);
    eprintln!("EDK2 (-bios) to the shell in {:.1} s", start.elapsed().as_secs_f64());
    assert!(text.contains("UEFI") || text.contains("Shell"), "firmware output:\n{text}");
    let ver = shell(&mut g, "ver");
    assert!(ver.contains("UEFI Interactive Shell"), "ver:\n{ver}");
    let mem = shell(&mut g, "memmap");
    assert!(mem.contains("Available"), "memmap:\n{mem}");
}

#[test]
fn edk2_pflash_pair_keeps_a_non_volatile_variable_across_runs() {
    if !have(&[AAVMF_CODE, AAVMF_VARS]) {
        return;
    }
    let dir = scratch("vars");
    let vars = dir.join("vars.fd");
    std::fs::copy(AAVMF_VARS, &vars).unwrap();
    let guid = "6d696d69-6300-4000-8000-00000000e0f1";

    let start = Instant::now();
    let mut g = aavmf(&vars, &[]);
    to_shell(&mut g);
    eprintln!("EDK2 (AAVMF pflash) to the shell in {:.1} s", start.elapsed().as_secs_f64());
    let set = shell(&mut g, &format!("setvar MimicTest -guid {guid} -nv -bs -rt =4D494D4943"));
    assert!(!set.to_lowercase().contains("error"), "setvar:\n{set}");
    // Power off through the firmware (PSCI SYSTEM_OFF): mimic exits with status 0.
    g.type_raw("reset -s\r");
    assert_eq!(g.wait_exit(SHELL).code(), Some(0), "output:\n{}", g.output());
    assert_eq!(std::fs::metadata(&vars).unwrap().len(), BANK_SIZE, "the vars file keeps its size");

    let mut g = aavmf(&vars, &[]);
    to_shell(&mut g);
    let got = shell(&mut g, &format!("setvar MimicTest -guid {guid}"));
    assert!(got.contains("4D 49 4D 49 43"), "the variable after a restart:\n{got}");
}

#[test]
fn edk2_read_only_code_bank_and_bad_pflash_sizes_are_checked() {
    if !have(&[AAVMF_CODE]) {
        return;
    }
    let dir = scratch("sizes");
    let small = dir.join("small.fd");
    std::fs::write(&small, vec![0u8; 768 << 10]).unwrap();
    let drive = format!("if=pflash,format=raw,unit=1,file={}", small.display());
    let code = format!("if=pflash,format=raw,unit=0,readonly=on,file={AAVMF_CODE}");
    let out = mimic(&["-drive", &code, "-drive", &drive]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("786432") && err.contains("67108864") && err.lines().count() == 1, "stderr: {err}");
}

/// A FAT EFI system partition (a whole-disk file system; EDK2 mounts it as fs0) holding the
/// arm64 kernel (a PE/COFF EFI application), the initramfs and a `startup.nsh` that starts the
/// kernel with its command line.
fn esp(dir: &Path) -> PathBuf {
    let img = dir.join("esp.img");
    std::fs::File::create(&img).unwrap().set_len(128 << 20).unwrap();
    let ok = |what: &str, c: &mut Command| {
        let out = c.output().unwrap_or_else(|e| panic!("{what}: {e} (apt-get install dosfstools mtools)"));
        assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
    };
    ok("mkfs.vfat", Command::new("mkfs.vfat").args(["-F", "32", "-n", "ESP"]).arg(&img));
    let nsh = dir.join("startup.nsh");
    std::fs::write(&nsh, format!("fs0:\r\n\\Image initrd=\\initrd.gz {CMDLINE}\r\n")).unwrap();
    for (src, name) in [
        (asset_of("arm64", "Image"), "Image"),
        (asset_of("arm64", "initramfs.cpio.gz"), "initrd.gz"),
        (nsh, "startup.nsh"),
    ] {
        ok("mcopy", Command::new("mcopy").arg("-i").arg(&img).arg(&src).arg(format!("::{name}")));
    }
    img
}

#[test]
fn edk2_boots_linux_through_its_efi_stub_from_an_esp_on_virtio() {
    if !have(&[EFI_FD]) {
        return;
    }
    let dir = scratch("esp");
    let img = esp(&dir);
    let drive = format!("file={},format=raw,if=none,id=d", img.display());
    let mut g = Guest::spawn(mimic(&["-bios", EFI_FD, "-drive", &drive, "-device", "virtio-blk-device,drive=d"]));
    // The shell finds the file system and runs startup.nsh after its countdown; Linux's EFI
    // stub takes over.
    let shell = g.wait_for("FS0:\\>", SHELL);
    assert!(shell.contains("FS0:") && shell.contains("BLK0"), "shell mapping:\n{shell}");
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(PROMPT, BOOT);
    assert_eq!(g.run("uname -m", BOOT), "aarch64");
    assert_eq!(g.run("cat /sys/firmware/efi/fw_platform_size", BOOT), "64");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(BOOT).code(), Some(0));
}

#[test]
fn edk2_boots_the_kernel_initrd_and_command_line_it_gets_through_fw_cfg() {
    if !have(&[EFI_FD]) {
        return;
    }
    let (kernel, initrd) = (asset_of("arm64", "Image"), asset_of("arm64", "initramfs.cpio.gz"));
    let (kernel, initrd) = (kernel.to_str().unwrap(), initrd.to_str().unwrap());
    let cmdline = format!("{CMDLINE} mimic.fwcfg=1");
    let mut g = Guest::spawn(mimic(&["-bios", EFI_FD, "-kernel", kernel, "-initrd", initrd, "-append", &cmdline]));
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(PROMPT, BOOT);
    assert!(g.run("cat /proc/cmdline", BOOT).contains("mimic.fwcfg=1"));
    assert_eq!(g.run("uname -m", BOOT), "aarch64");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(BOOT).code(), Some(0));
}

/// Which board `-cpu max` (no architecture of its own) built, from the device tree it dumps.
fn max_board(program: &Path, extra: &[&str]) -> &'static str {
    let dtb = scratch(&format!("max-{}", extra.len())).join("virt.dtb");
    let out = Command::new(program)
        .args(["-M", &format!("virt,dumpdtb={}", dtb.display()), "-cpu", "max", "-m", "256M"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = std::fs::read(&dtb).unwrap();
    let has = |s: &[u8]| tree.windows(s.len()).any(|w| w == s);
    match (has(b"arm,psci-1.0"), has(b"riscv-virtio")) {
        (true, false) => "aarch64",
        (false, true) => "riscv64",
        _ => panic!("neither board's device tree"),
    }
}

#[test]
fn cpu_max_is_the_arm_board_with_pflash_drives_or_under_an_aarch64_program_name() {
    if !have(&[AAVMF_CODE]) {
        return;
    }
    let mimic = PathBuf::from(env!("CARGO_BIN_EXE_mimic"));
    let code = format!("if=pflash,format=raw,readonly=on,file={AAVMF_CODE}");
    assert_eq!(max_board(&mimic, &["-drive", &code]), "aarch64");
    // A raw firmware image alone names no architecture: RISC-V stays the default...
    assert_eq!(max_board(&mimic, &["-bios", AAVMF_CODE]), "riscv64");
    // ...unless mimic runs as the AArch64 system emulator, as QEMU's binaries are named.
    let link = scratch("max-link").join("mimic-system-aarch64");
    std::os::unix::fs::symlink(&mimic, &link).unwrap();
    assert_eq!(max_board(&link, &["-bios", AAVMF_CODE]), "aarch64");
}
