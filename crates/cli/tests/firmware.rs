//! Firmware boot chains: Debian's U-Boot (qemu-riscv64_smode) started by OpenSBI as its
//! `-kernel`, reaching its prompt and then booting Linux the distro way, from an
//! `extlinux/extlinux.conf` on a virtio disk, with no `-kernel` pointing at Linux; and Debian's
//! arm64 U-Boot (qemu_arm64) as `-bios` of the Arm `virt` board, running from its CFI flash,
//! booting from a disk or from fw_cfg.
//! Needs `cargo xtask fetch-guests` and e2fsprogs.

mod guest;

use guest::{asset, asset_of, Guest, INIT_MARKER, PROMPT};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const FIRMWARE: Duration = Duration::from_secs(120);
const BOOT: Duration = Duration::from_secs(240);
const UBOOT_PROMPT: &str = "=> ";

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fw-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A disk as a distribution installs it: an MBR with one bootable Linux partition at 1 MiB
/// holding an ext4 file system made from `root` (`mkfs.ext4 -d`, no root privileges needed).
fn mbr_disk_with_ext4(root: &Path, disk: &Path, size_mib: u64) {
    const START_LBA: u64 = 2048;
    let sectors = size_mib * 2048;
    std::fs::File::create(disk).unwrap().set_len(size_mib << 20).unwrap();
    let fs_kib = (sectors - START_LBA) / 2;
    let out = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-E", &format!("offset={}", START_LBA * 512), "-d"])
        .arg(root)
        .arg(disk)
        .arg(format!("{fs_kib}k"))
        .output()
        .expect("mkfs.ext4 (apt-get install e2fsprogs)");
    assert!(out.status.success(), "mkfs.ext4: {}", String::from_utf8_lossy(&out.stderr));
    let mut mbr = [0u8; 512];
    let entry = &mut mbr[446..462];
    entry[0] = 0x80; // bootable: distro boot picks this partition
    entry[1..4].copy_from_slice(&[0xfe, 0xff, 0xff]); // CHS unused: LBA addressing
    entry[4] = 0x83; // Linux
    entry[5..8].copy_from_slice(&[0xfe, 0xff, 0xff]);
    entry[8..12].copy_from_slice(&(START_LBA as u32).to_le_bytes());
    entry[12..16].copy_from_slice(&((sectors - START_LBA) as u32).to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    let mut f = std::fs::OpenOptions::new().write(true).open(disk).unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    f.write_all(&mbr).unwrap();
}

/// A boot disk with the default guest's kernel and initramfs and an extlinux.conf naming them.
fn extlinux_disk(dir: &Path) -> PathBuf {
    extlinux_disk_of(dir, "riscv64", "ttyS0")
}

/// A boot disk with the kernel and initramfs of Debian architecture `arch`'s guest, booted
/// with `console=<console>`.
fn extlinux_disk_of(dir: &Path, arch: &str, console: &str) -> PathBuf {
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("extlinux")).unwrap();
    std::fs::copy(asset_of(arch, "Image"), root.join("Image")).unwrap();
    std::fs::copy(asset_of(arch, "initramfs.cpio.gz"), root.join("initramfs.cpio.gz")).unwrap();
    std::fs::write(
        root.join("extlinux/extlinux.conf"),
        format!(
            "default mimic\ntimeout 1\n\nlabel mimic\n    kernel /Image\n    initrd /initramfs.cpio.gz\n    \
             append console={console} quiet loglevel=1 nowatchdog\n"
        ),
    )
    .unwrap();
    let disk = dir.join("boot.img");
    mbr_disk_with_ext4(&root, &disk, 64);
    disk
}

fn uboot(disk: &Path, extra: &[&str]) -> Guest {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mimic"));
    c.args(["-M", "virt", "-m", "512M", "-nographic", "-bios"])
        .arg(asset("fw_dynamic.bin"))
        .arg("-kernel")
        .arg(asset("u-boot-smode.bin"))
        .arg("-drive")
        .arg(format!("file={},format=raw,if=virtio", disk.display()))
        .args(extra);
    Guest::spawn(c)
}

#[test]
fn uboot_smode_reaches_its_prompt_then_distro_boots_linux_from_a_virtio_disk() {
    let dir = scratch("uboot");
    let disk = extlinux_disk(&dir);
    let mut g = uboot(&disk, &[]);
    let banner = g.wait_for("Hit any key to stop autoboot", FIRMWARE);
    assert!(banner.contains("U-Boot 20"), "U-Boot banner:\n{banner}");
    g.send("");
    g.wait_for(UBOOT_PROMPT, FIRMWARE);
    // The prompt works: U-Boot sees the virtio disk and its partition.
    g.send("virtio scan; virtio info; part list virtio 0");
    let info = g.wait_for(UBOOT_PROMPT, FIRMWARE);
    assert!(info.contains("VirtIO Block Device") && info.contains("2048"), "virtio disk in U-Boot:\n{info}");
    // The distro boot scripts find extlinux.conf; Linux gets U-Boot's device tree.
    g.send("boot");
    let text = g.wait_for(INIT_MARKER, BOOT);
    assert!(text.contains("Found /extlinux/extlinux.conf"), "distro boot:\n{text}");
    g.wait_for(PROMPT, BOOT);
    assert_eq!(g.run("uname -m", BOOT), "riscv64");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(BOOT).code(), Some(0));
}

#[test]
fn uboot_smode_autoboots_linux_without_a_key() {
    let dir = scratch("uboot-auto");
    let disk = extlinux_disk(&dir);
    let mut g = uboot(&disk, &["-smp", "2"]);
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(PROMPT, BOOT);
    assert_eq!(g.run("nproc", BOOT), "2");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(BOOT).code(), Some(0));
}

/// Debian's arm64 U-Boot as `-bios` of the Arm `virt` board, with `disk` as a virtio disk.
fn uboot_arm64(disk: &Path, extra: &[&str]) -> Guest {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mimic"));
    c.args(["-M", "virt", "-cpu", "cortex-a57", "-m", "512M", "-nographic", "-bios"])
        .arg(asset_of("arm64", "u-boot.bin"))
        .arg("-drive")
        .arg(format!("file={},format=raw,if=virtio", disk.display()))
        .args(extra);
    Guest::spawn(c)
}

#[test]
fn uboot_arm64_runs_from_flash_sees_a_virtio_disk_and_keeps_its_environment_over_a_reset() {
    let dir = scratch("uboot-arm64");
    let disk = extlinux_disk_of(&dir, "arm64", "ttyAMA0");
    let mut g = uboot_arm64(&disk, &[]);
    let banner = g.wait_for("Hit any key to stop autoboot", FIRMWARE);
    assert!(banner.contains("U-Boot 20"), "U-Boot banner:\n{banner}");
    // It found the device tree at the start of RAM and both CFI flash banks (its environment
    // lives in the second one).
    assert!(banner.contains("DRAM:  512 MiB") && banner.contains("Flash: 64 MiB"), "U-Boot banner:\n{banner}");
    g.send("");
    g.wait_for(UBOOT_PROMPT, FIRMWARE);
    g.send("virtio scan; virtio info; part list virtio 0");
    let info = g.wait_for(UBOOT_PROMPT, FIRMWARE);
    assert!(info.contains("VirtIO Block Device") && info.contains("2048"), "virtio disk in U-Boot:\n{info}");
    // The flash takes U-Boot's commands: save the environment to it, erased and programmed.
    g.send("setenv mimic flash-ok; saveenv; env default -a; env import -c 0x4000000 0x40000; printenv mimic");
    let env = g.wait_for(UBOOT_PROMPT, FIRMWARE);
    assert!(env.contains("Erased") && env.contains("mimic=flash-ok"), "saveenv to flash:\n{env}");
    // A reset (PSCI SYSTEM_RESET) keeps the flash: U-Boot starts again with the saved variable.
    g.send("reset");
    let again = g.wait_for("Hit any key to stop autoboot", FIRMWARE);
    assert!(again.contains("Loading Environment from Flash... OK"), "after reset:\n{again}");
    g.send("");
    g.wait_for(UBOOT_PROMPT, FIRMWARE);
    g.send("printenv mimic");
    let env = g.wait_for(UBOOT_PROMPT, FIRMWARE);
    assert!(env.contains("mimic=flash-ok"), "environment after reset:\n{env}");
}

#[test]
fn uboot_arm64_autoboots_linux_from_an_extlinux_disk_to_its_shell() {
    let dir = scratch("uboot-arm64-linux");
    let disk = extlinux_disk_of(&dir, "arm64", "ttyAMA0");
    let mut g = uboot_arm64(&disk, &["-smp", "2"]);
    let text = g.wait_for("Starting kernel ...", BOOT);
    assert!(text.contains("Found /extlinux/extlinux.conf"), "distro boot:\n{text}");
    // Linux gets the device tree QEMU's way: the one at the start of RAM, passed on by U-Boot.
    assert!(text.contains("Booting using the fdt blob at 0x40000000"), "distro boot:\n{text}");
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(PROMPT, BOOT);
    assert_eq!(g.run("uname -m", BOOT), "aarch64");
    assert_eq!(g.run("nproc", BOOT), "2");
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(BOOT).code(), Some(0));
}

#[test]
fn uboot_arm64_loads_kernel_and_initrd_through_fw_cfg_dma_and_boots_them() {
    // No disk: with -kernel, U-Boot's boot command takes the kernel, initrd and command line
    // from fw_cfg, whose DMA interface the board offers (each transfer done by the time the
    // store that starts it retires, as U-Boot checks right after it).
    let mut c = Command::new(env!("CARGO_BIN_EXE_mimic"));
    c.args(["-M", "virt", "-cpu", "cortex-a57", "-m", "512M", "-nographic", "-bios"])
        .arg(asset_of("arm64", "u-boot.bin"))
        .arg("-kernel")
        .arg(asset_of("arm64", "Image"))
        .arg("-initrd")
        .arg(asset_of("arm64", "initramfs.cpio.gz"))
        .args(["-append", "console=ttyAMA0 mimic-fw-cfg-marker"]);
    let mut g = Guest::spawn(c);
    let text = g.wait_for("Starting kernel ...", BOOT);
    assert!(text.contains("loading kernel to address"), "U-Boot's fw_cfg boot:\n{text}");
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(PROMPT, BOOT);
    // The whole 36 MiB kernel and the initrd arrived intact (or nothing would run), and so
    // did the command line.
    assert!(g.run("cat /proc/cmdline", BOOT).contains("mimic-fw-cfg-marker"));
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(BOOT).code(), Some(0));
}
