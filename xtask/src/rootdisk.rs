//! The disk-root guest: an ext4 root file system image (built with `mkfs.ext4 -d` from a folder,
//! no root needed) and an initramfs that loads the kernel modules a virtio disk and network, a
//! SATA disk on AHCI and an e1000 card need (Debian builds them as modules), mounts `root=` and
//! switches to it.
//!
//! `cargo xtask fetch-guests` leaves `rootfs.ext4` and `disk-initramfs.cpio.gz` next to the
//! default guest; tests copy the image before booting from it.

use crate::cpio::{self, Entry};
use crate::guests::{self, Layout};
use std::path::{Path, PathBuf};
use std::process::Command;

type Result<T> = std::result::Result<T, String>;

/// Modules in load order (each after its dependencies, from the modules' own `depends=`).
pub const MODULES: &[&str] = &[
    "kernel/drivers/virtio/virtio_mmio.ko.xz",
    "kernel/drivers/block/virtio_blk.ko.xz",
    // SATA disks behind an AHCI controller (/dev/sdX), in dependency order.
    "kernel/drivers/scsi/scsi_common.ko.xz",
    "kernel/drivers/scsi/scsi_mod.ko.xz",
    "kernel/drivers/ata/libata.ko.xz",
    "kernel/drivers/ata/libahci.ko.xz",
    "kernel/drivers/ata/ahci.ko.xz",
    "kernel/drivers/scsi/sd_mod.ko.xz",
    "kernel/lib/crc16.ko.xz",
    // ext4 asks the crypto API for "crc32c" at mount time; without modprobe it must be loaded.
    "kernel/crypto/crc32c_generic.ko.xz",
    "kernel/fs/mbcache.ko.xz",
    "kernel/fs/jbd2/jbd2.ko.xz",
    "kernel/fs/ext4/ext4.ko.xz",
    "kernel/net/core/failover.ko.xz",
    "kernel/drivers/net/net_failover.ko.xz",
    "kernel/drivers/net/virtio_net.ko.xz",
    // The Intel 82540EM (`-device e1000`); it depends on nothing.
    "kernel/drivers/net/ethernet/intel/e1000/e1000.ko.xz",
];

const DISK_INIT: &str = r#"#!/bin/sh
# mimic disk-root initramfs: load the modules a virtio disk and network need, mount root=, switch.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m 2>/dev/null; done
root=/dev/vda
for arg in $(cat /proc/cmdline); do
  case "$arg" in root=*) root="${arg#root=}" ;; esac
done
i=0
while [ ! -b "$root" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
mkdir -p /newroot
if ! mount -t ext4 "$root" /newroot; then
  echo "MIMIC-ROOT-FAILED $root"
  exec setsid cttyhack sh
fi
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /sbin/init
"#;

const ROOT_INIT: &str = r#"#!/bin/sh
# mimic disk root: the same shell as the default guest, from an ext4 root file system.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
echo "MIMIC-DISK-READY uptime=$(cut -d' ' -f1 /proc/uptime) root=$(grep ' / ' /proc/mounts | cut -d' ' -f1)"
setsid cttyhack sh
sync
poweroff -f
"#;

/// Where the disk-root guest's files are.
#[allow(dead_code)] // read by tests and future xtask commands; ensure() is what fetch-guests needs
pub struct DiskGuest {
    pub initramfs: PathBuf,
    pub rootfs: PathBuf,
}

fn xz_decompress(path: &Path) -> Result<Vec<u8>> {
    let out =
        Command::new("xz").arg("-dc").arg(path).output().map_err(|e| format!("xz: {e} (apt-get install xz-utils)"))?;
    if !out.status.success() {
        return Err(format!("xz -dc {}: {}", path.display(), String::from_utf8_lossy(&out.stderr)));
    }
    Ok(out.stdout)
}

fn disk_initramfs(busybox: &[u8], modules_dir: &Path) -> Result<Vec<u8>> {
    let mut entries = vec![
        Entry::file("init", 0o755, DISK_INIT.as_bytes().to_vec()),
        Entry::file("bin/busybox", 0o755, busybox.to_vec()),
        Entry::symlink("bin/sh", "busybox"),
        Entry::symlink("sbin", "bin"),
        Entry::char_dev("dev/console", 0o600, 5, 1),
        Entry::char_dev("dev/null", 0o666, 1, 3),
    ];
    for d in ["bin", "dev", "etc", "lib", "lib/modules", "proc", "sys", "tmp"] {
        entries.push(Entry::dir(d, 0o755));
    }
    let mut order = String::new();
    for m in MODULES {
        let name = Path::new(m).file_name().and_then(|n| n.to_str()).unwrap_or_default().trim_end_matches(".xz");
        let data = xz_decompress(&modules_dir.join(m))?;
        entries.push(Entry::file(&format!("lib/modules/{name}"), 0o644, data));
        order.push_str(name);
        order.push('\n');
    }
    entries.push(Entry::file("lib/modules/order", 0o644, order.into_bytes()));
    let mut out = Vec::new();
    cpio::write_archive(&mut out, &entries).map_err(|e| e.to_string())?;
    guests::gzip_deterministic(&out)
}

fn build_rootfs(busybox: &[u8], image: &Path) -> Result<()> {
    let dir = image.with_extension("tree");
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["bin", "sbin", "dev", "etc", "proc", "sys", "tmp", "root", "mnt", "data"] {
        std::fs::create_dir_all(dir.join(d)).map_err(|e| e.to_string())?;
    }
    let write = |rel: &str, data: &[u8], mode: u32| -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(rel);
        std::fs::write(&p, data).map_err(|e| format!("{}: {e}", p.display()))?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).map_err(|e| e.to_string())
    };
    write("bin/busybox", busybox, 0o755)?;
    std::os::unix::fs::symlink("busybox", dir.join("bin/sh")).map_err(|e| e.to_string())?;
    write("sbin/init", ROOT_INIT.as_bytes(), 0o755)?;
    write("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644)?;
    write("etc/group", b"root:x:0:\n", 0o644)?;
    write("etc/hostname", b"mimic\n", 0o644)?;
    let _ = std::fs::remove_file(image);
    let out = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-L", "mimicroot", "-E", "root_owner=0:0", "-d"])
        .arg(&dir)
        .arg(image)
        .arg("64M")
        .output()
        .map_err(|e| format!("mkfs.ext4: {e} (apt-get install e2fsprogs)"))?;
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        return Err(format!("mkfs.ext4: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

/// Build (if missing) the disk-root guest next to the default one.
pub fn ensure(lay: &Layout) -> Result<DiskGuest> {
    let busybox = std::fs::read(lay.file("busybox")).map_err(|e| format!("busybox: {e}"))?;
    let initramfs = lay.file("disk-initramfs.cpio.gz");
    let want = disk_initramfs(&busybox, &lay.modules())?;
    if std::fs::read(&initramfs).ok().as_deref() != Some(&want[..]) {
        guests::write_atomic(&initramfs, &want)?;
        println!("built {}", initramfs.display());
    }
    let rootfs = lay.file("rootfs.ext4");
    // The recipe is small; rebuild when it changed (the image keeps a copy of /sbin/init).
    let stamp = lay.file("rootfs.ext4.recipe");
    if !rootfs.is_file() || std::fs::read_to_string(&stamp).ok().as_deref() != Some(ROOT_INIT) {
        build_rootfs(&busybox, &rootfs)?;
        guests::write_atomic(&stamp, ROOT_INIT.as_bytes())?;
        println!("built {}", rootfs.display());
    }
    Ok(DiskGuest { initramfs, rootfs })
}
