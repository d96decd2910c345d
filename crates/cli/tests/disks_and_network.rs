//! Disks and networking with the Debian kernel: an ext4 root on virtio-blk (MMIO and PCI, raw and
//! qcow2, a backing chain), a SATA disk behind AHCI, images checked by `qemu-img` afterwards, and
//! user-mode networking to a host server and back through `hostfwd` (virtio-net over MMIO and
//! PCI, and an e1000 that gets its address by DHCP). Needs `cargo xtask fetch-guests` and
//! qemu-utils.

mod guest;

use guest::{asset, Guest, PROMPT};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const BOOT: Duration = Duration::from_secs(240);
const CMD: Duration = Duration::from_secs(120);
const DISK_READY: &str = "MIMIC-DISK-READY";

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("disk-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn qemu_img(args: &[&str]) -> std::process::Output {
    Command::new("qemu-img").args(args).output().expect("qemu-img (apt-get install qemu-utils)")
}

/// Boot the disk-root guest with these device options.
fn boot_disk(extra: &[&str]) -> Guest {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mimic"));
    c.args(["-M", "virt", "-m", "512M", "-nographic", "-bios"])
        .arg(asset("fw_dynamic.bin"))
        .arg("-kernel")
        .arg(asset("Image"))
        .arg("-initrd")
        .arg(asset("disk-initramfs.cpio.gz"))
        .args(["-append", "console=ttyS0 quiet loglevel=1 nowatchdog root=/dev/vda"])
        .args(extra);
    let mut g = Guest::spawn(c);
    let text = g.wait_for(DISK_READY, BOOT);
    assert!(!text.contains("MIMIC-ROOT-FAILED"), "root mount failed:\n{text}");
    g.wait_for(PROMPT, CMD);
    g
}

/// Boot the disk-root guest from a copy of the raw root file system in `dir`, with a data disk
/// (`-drive` options `data`, `id=d1` among them) as the second virtio-mmio disk, `/dev/vdb`.
fn boot_with_data_disk(dir: &Path, data: &str) -> Guest {
    let root = dir.join("root.raw");
    std::fs::copy(asset("rootfs.ext4"), &root).unwrap();
    let d0 = format!("file={},format=raw,if=none,id=d0", root.display());
    boot_disk(&[
        "-drive",
        &d0,
        "-device",
        "virtio-blk-device,drive=d0",
        "-drive",
        data,
        "-device",
        "virtio-blk-device,drive=d1",
    ])
}

fn poweroff(mut g: Guest) {
    g.send("sync; poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

fn check_clean(img: &Path) {
    let out = qemu_img(&["check", img.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "qemu-img check: {}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn qcow2_root_over_virtio_mmio_writes_data_qemu_img_accepts() {
    let dir = scratch("mmio");
    let root = dir.join("root.qcow2");
    assert!(qemu_img(&["convert", "-O", "qcow2", asset("rootfs.ext4").to_str().unwrap(), root.to_str().unwrap()])
        .status
        .success());
    let data = dir.join("data.qcow2");
    assert!(qemu_img(&["create", "-q", "-f", "qcow2", data.to_str().unwrap(), "16M"]).status.success());
    let d0 = format!("file={},format=qcow2,if=none,id=d0", root.display());
    let d1 = format!("file={},format=qcow2,if=none,id=d1", data.display());
    let mut g = boot_disk(&[
        "-drive",
        &d0,
        "-device",
        "virtio-blk-device,drive=d0",
        "-drive",
        &d1,
        "-device",
        "virtio-blk-device,drive=d1,serial=DATA1",
    ]);

    assert!(g.run("grep ' / ' /proc/mounts", CMD).starts_with("/dev/vda / ext4"));
    assert_eq!(g.run("cat /sys/block/vdb/serial", CMD).trim(), "DATA1");
    // A file on the root file system, and raw bytes at a known place on the second disk.
    g.run("echo persistent-$((6*7)) > /data/file && sync", CMD);
    g.run("dd if=/bin/busybox of=/dev/vdb bs=4096 seek=10 conv=fsync 2>/dev/null", CMD);
    assert_eq!(g.run("cat /data/file", CMD).trim(), "persistent-42");
    poweroff(g);

    check_clean(&root);
    check_clean(&data);
    // What the guest wrote to vdb, built independently on the host, compares identical.
    let expected = dir.join("expected.raw");
    let mut bytes = vec![0u8; 16 << 20];
    let bb = std::fs::read(asset("busybox")).unwrap();
    bytes[40960..40960 + bb.len()].copy_from_slice(&bb);
    std::fs::write(&expected, bytes).unwrap();
    let cmp = qemu_img(&["compare", "-f", "raw", "-F", "qcow2", expected.to_str().unwrap(), data.to_str().unwrap()]);
    assert_eq!(cmp.status.code(), Some(0), "qemu-img compare: {}", String::from_utf8_lossy(&cmp.stdout));
    // The file is in the image (read back by debugfs after converting).
    let raw = dir.join("root.raw");
    assert!(qemu_img(&["convert", "-O", "raw", root.to_str().unwrap(), raw.to_str().unwrap()]).status.success());
    let cat = Command::new("debugfs").args(["-R", "cat /data/file"]).arg(&raw).output().expect("debugfs (e2fsprogs)");
    assert_eq!(String::from_utf8_lossy(&cat.stdout).trim(), "persistent-42");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn root_on_a_qcow2_overlay_over_virtio_pci_reads_the_base_and_leaves_it_unchanged() {
    let dir = scratch("pci");
    let base = dir.join("base.raw");
    std::fs::copy(asset("rootfs.ext4"), &base).unwrap();
    let before = std::fs::read(&base).unwrap();
    let overlay = dir.join("overlay.qcow2");
    let out = qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        base.to_str().unwrap(),
        "-F",
        "raw",
        overlay.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let d0 = format!("file={},if=virtio", overlay.display());
    let mut g = boot_disk(&["-drive", &d0]);
    assert!(g.run("cat /sys/bus/pci/devices/*/device", CMD).contains("0x1042"), "virtio-blk on PCI");
    assert!(g.run("sha256sum /bin/busybox", CMD).starts_with(&sha256(&asset("busybox"))));
    g.run("echo through-the-overlay > /data/o && sync", CMD);
    poweroff(g);
    check_clean(&overlay);
    assert!(std::fs::read(&base).unwrap() == before, "the base image must not change");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn sata_disk_on_ahci_holds_a_file_and_raw_bytes_that_qemu_img_accepts() {
    let dir = scratch("ahci");
    let root = dir.join("root.raw");
    std::fs::copy(asset("rootfs.ext4"), &root).unwrap();
    let data = dir.join("sata.qcow2");
    assert!(qemu_img(&["create", "-q", "-f", "qcow2", data.to_str().unwrap(), "32M"]).status.success());
    let r = format!("file={},format=raw,if=none,id=r", root.display());
    let d = format!("file={},format=qcow2,if=none,id=d", data.display());
    let mut g = boot_disk(&[
        "-drive",
        &r,
        "-device",
        "virtio-blk-pci,drive=r",
        "-drive",
        &d,
        "-device",
        "ahci,id=a",
        "-device",
        "ide-hd,drive=d,bus=a.2",
    ]);
    // libata probes in the background; the disk is on the third port (ata3).
    let probe = g.run(
        "i=0; while [ ! -b /dev/sda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; \
         readlink /sys/block/sda; cat /sys/block/sda/device/model /sys/block/sda/device/queue_depth",
        CMD,
    );
    assert!(probe.contains("/ata3/"), "{probe}");
    assert!(probe.contains("MIMIC HARDDISK"), "{probe}");
    assert!(probe.lines().any(|l| l.trim() == "32"), "NCQ depth 32: {probe}");
    // A file system on the first 16 MiB, raw bytes at 20 MiB.
    g.run(
        "mke2fs -q /dev/sda 16384 && mkdir -p /mnt && mount -t ext2 /dev/sda /mnt && \
         echo sata-$((6*7)) > /mnt/file && cp /bin/busybox /mnt/bb && sync && umount /mnt",
        CMD,
    );
    g.run("dd if=/bin/busybox of=/dev/sda bs=4096 seek=5120 conv=fsync 2>/dev/null", CMD);
    // Read back from the disk, not the page cache.
    let back = g.run(
        "echo 3 > /proc/sys/vm/drop_caches; mount -t ext2 /dev/sda /mnt && cat /mnt/file && sha256sum /mnt/bb; \
         dd if=/dev/sda bs=4096 skip=5120 2>/dev/null | head -c $(wc -c < /bin/busybox) | sha256sum; umount /mnt",
        CMD,
    );
    let bb = sha256(&asset("busybox"));
    assert!(back.contains("sata-42"), "{back}");
    assert_eq!(back.matches(&bb).count(), 2, "{back}");
    poweroff(g);

    check_clean(&data);
    let raw = dir.join("sata.raw");
    assert!(qemu_img(&["convert", "-O", "raw", data.to_str().unwrap(), raw.to_str().unwrap()]).status.success());
    let cat = Command::new("debugfs").args(["-R", "cat /file"]).arg(&raw).output().expect("debugfs (e2fsprogs)");
    assert_eq!(String::from_utf8_lossy(&cat.stdout).trim(), "sata-42");
    let image = std::fs::read(&raw).unwrap();
    let busybox = std::fs::read(asset("busybox")).unwrap();
    assert!(image[20 << 20..(20 << 20) + busybox.len()] == busybox[..], "raw bytes at 20 MiB");
    std::fs::remove_dir_all(dir).ok();
}

fn sha256(p: &Path) -> String {
    let out = Command::new("sha256sum").arg(p).output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

/// A one-file HTTP server on 127.0.0.1 for the guest to fetch from (through 10.0.2.2).
fn serve_file(body: Vec<u8>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().take(4) {
            let Ok(mut s) = s else { continue };
            let mut req = [0u8; 1024];
            let _ = s.read(&mut req);
            let head = format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = s.write_all(head.as_bytes()).and_then(|_| s.write_all(&body));
        }
    });
    port
}

fn net_up(g: &mut Guest) {
    g.run("ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2", CMD);
}

fn user_networking_round_trip(model: &str) {
    let body: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let want = {
        let p = scratch(&format!("body-{model}")).join("body");
        std::fs::write(&p, &body).unwrap();
        sha256(&p)
    };
    let port = serve_file(body);
    let fwd_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = scratch(&format!("net-{model}"));
    let root = dir.join("root.raw");
    std::fs::copy(asset("rootfs.ext4"), &root).unwrap();
    let d0 = format!("file={},format=raw,if=none,id=d0", root.display());
    let nic = format!("user,model={model},hostfwd=tcp:127.0.0.1:{fwd_port}-:8080");
    let mut g = boot_disk(&["-drive", &d0, "-device", "virtio-blk-device,drive=d0", "-nic", &nic]);
    net_up(&mut g);

    // Guest → host: fetch from a server on the host's 127.0.0.1 through the gateway alias.
    let got = g.run(&format!("wget -q -O - http://10.0.2.2:{port}/file | sha256sum"), CMD);
    assert!(got.starts_with(&want), "guest fetched {got:?}, want {want}");

    // Host → guest through hostfwd: a guest server answers a host client on 127.0.0.1.
    g.send("echo hello-from-the-guest | nc -l -p 8080 &");
    std::thread::sleep(Duration::from_secs(3));
    let mut reply = String::new();
    for _ in 0..20 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", fwd_port)) {
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let _ = s.read_to_string(&mut reply);
            if !reply.is_empty() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(reply.trim(), "hello-from-the-guest");
    poweroff(g);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn user_networking_over_virtio_mmio_fetches_from_host_and_forwards_a_port() {
    user_networking_round_trip("virtio-net-device");
}

#[test]
fn user_networking_over_virtio_pci_fetches_from_host_and_forwards_a_port() {
    user_networking_round_trip("virtio-net-pci");
}

/// busybox's DHCP client calls this on a lease; it configures what the server offered.
const DHCP_SCRIPT: &str = r#"#!/bin/sh
[ "$1" = bound ] || exit 0
ifconfig "$interface" "$ip" netmask "$subnet" up
route add default gw "$router" dev "$interface"
"#;

#[test]
fn user_networking_over_e1000_leases_an_address_fetches_from_host_and_serves_a_file_through_hostfwd() {
    let body: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2246822519) >> 11) as u8).collect();
    let want = {
        let p = scratch("body-e1000").join("body");
        std::fs::write(&p, &body).unwrap();
        sha256(&p)
    };
    let port = serve_file(body);
    let fwd_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = scratch("net-e1000");
    let root = dir.join("root.raw");
    std::fs::copy(asset("rootfs.ext4"), &root).unwrap();
    let d0 = format!("file={},format=raw,if=none,id=d0", root.display());
    let n0 = format!("user,id=n0,hostfwd=tcp:127.0.0.1:{fwd_port}-:8080");
    let mut g = boot_disk(&[
        "-drive",
        &d0,
        "-device",
        "virtio-blk-device,drive=d0",
        "-netdev",
        &n0,
        "-device",
        "e1000,netdev=n0,mac=52:54:00:0e:10:00",
    ]);
    let dev = g.run("(cd /sys/class/net/eth0/device && cat vendor device && basename $(readlink driver))", CMD);
    assert_eq!(dev.split_whitespace().collect::<Vec<_>>(), ["0x8086", "0x100e", "e1000"], "{dev}");
    assert_eq!(g.run("cat /sys/class/net/eth0/address", CMD).trim(), "52:54:00:0e:10:00");

    // The address comes from the user network's DHCP server.
    g.run(&format!("printf '%s' '{DHCP_SCRIPT}' > /tmp/dhcp.sh && chmod +x /tmp/dhcp.sh"), CMD);
    g.run("ip link set eth0 up && udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 10 -T 2 >/dev/null 2>&1", CMD);
    let addr = g.run("ip -4 addr show eth0", CMD);
    assert!(addr.contains("inet 10.0.2.15/24"), "no DHCP lease: {addr}");

    // Guest → host: fetch from a server on the host's 127.0.0.1 through the gateway alias.
    let got = g.run(&format!("wget -q -O - http://10.0.2.2:{port}/file | sha256sum"), CMD);
    assert!(got.starts_with(&want), "guest fetched {got:?}, want {want}");

    // Host → guest through hostfwd: a guest server sends a file large enough for the driver to
    // hand the card TCP segmentation work, and the host receives it intact.
    g.send("nc -l -p 8080 < /bin/busybox &");
    let mut received = Vec::new();
    let served = eventually(Duration::from_secs(40), || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", fwd_port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        received.clear();
        let _ = s.read_to_end(&mut received);
        (!received.is_empty()).then_some(())
    });
    assert!(served.is_some(), "no answer through hostfwd");
    let copy = dir.join("busybox.copy");
    std::fs::write(&copy, &received).unwrap();
    assert_eq!(sha256(&copy), sha256(&asset("busybox")), "received {} bytes", received.len());
    let tso = g.run("cat /sys/class/net/eth0/statistics/tx_packets; ethtool -k eth0 2>/dev/null | grep tcp-seg", CMD);
    eprintln!("e1000 guest tx_packets and offloads: {tso}");
    poweroff(g);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn corrupt_qcow2_header_is_a_one_line_error() {
    let dir = scratch("corrupt");
    let img = dir.join("bad.qcow2");
    assert!(qemu_img(&["create", "-q", "-f", "qcow2", img.to_str().unwrap(), "16M"]).status.success());
    let mut b = std::fs::read(&img).unwrap();
    b[20..24].copy_from_slice(&[0xff; 4]); // cluster_bits
    std::fs::write(&img, b).unwrap();
    let d = format!("file={},format=qcow2,if=none,id=d0", img.display());
    let out = Command::new(env!("CARGO_BIN_EXE_mimic"))
        .args(["-M", "virt", "-bios", "none", "-kernel"])
        .arg(asset("Image"))
        .args(["-drive", &d, "-device", "virtio-blk-device,drive=d0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("bad.qcow2"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn sigkill_during_guest_writes_leaves_a_qcow2_image_qemu_img_accepts() {
    let dir = scratch("kill");
    let data = dir.join("data.qcow2");
    assert!(qemu_img(&["create", "-q", "-f", "qcow2", data.to_str().unwrap(), "64M"]).status.success());
    let mut g = boot_with_data_disk(&dir, &format!("file={},format=qcow2,if=none,id=d1", data.display()));
    // Keep the guest writing all over the data disk, then pull the plug.
    g.send("while true; do for s in 0 3 7 11 13; do dd if=/bin/busybox of=/dev/vdb bs=64k seek=$s 2>/dev/null; done; done &");
    std::thread::sleep(Duration::from_secs(5));
    g.kill();
    let out = qemu_img(&["check", data.to_str().unwrap()]);
    // 0: clean; 3: leaked clusters only. 2 would be corruption.
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "qemu-img check: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn sigterm_ends_the_run_cleanly_with_every_answered_write_on_the_image() {
    let dir = scratch("term");
    let data = dir.join("data.raw");
    std::fs::write(&data, vec![0xffu8; 32 << 20]).unwrap();
    // cache=none has a write cache: writes are answered before they reach the file.
    let mut g = boot_with_data_disk(&dir, &format!("file={},format=raw,if=none,id=d1,cache=none", data.display()));
    g.run("dd if=/dev/zero of=/dev/vdb bs=1M count=16 oflag=direct", CMD);
    g.signal("TERM");
    assert_eq!(g.wait_exit(CMD).code(), Some(0), "output:\n{}", g.output());
    assert!(g.output().contains("mimic: terminating on signal 15"), "{}", g.output());
    let bytes = std::fs::read(&data).unwrap();
    assert!(bytes[..16 << 20].iter().all(|&b| b == 0), "every write the guest saw done is in the file");
    assert!(bytes[16 << 20..].iter().all(|&b| b == 0xff));
    std::fs::remove_dir_all(dir).ok();
}

/// Poll `f` every 100 ms until it returns `Some`, for at most `timeout`.
fn eventually<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if std::time::Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn virtio_consoles_carry_guest_output_to_a_file_and_socket_input_to_the_guest() {
    let dir = scratch("console");
    let (out, sock) = (dir.join("hvc0.txt"), dir.join("hvc1.sock"));
    let c0 = format!("file,id=c0,path={}", out.display());
    let c1 = format!("socket,id=c1,path={},server=on,wait=off", sock.display());
    let mut g = guest::Guest::boot(&[
        "-chardev",
        &c0,
        "-device",
        "virtio-serial-pci",
        "-device",
        "virtconsole,chardev=c0",
        "-chardev",
        &c1,
        "-device",
        "virtio-serial-pci",
        "-device",
        "virtconsole,chardev=c1",
    ]);
    g.wait_for(guest::INIT_MARKER, BOOT);
    g.wait_for(PROMPT, CMD);

    // Guest → host: a line written to the first console lands in the file.
    g.run("echo guest-to-host > /dev/hvc0", CMD);
    let text = eventually(CMD, || {
        let t = std::fs::read_to_string(&out).unwrap_or_default();
        t.contains("guest-to-host").then_some(t)
    });
    assert!(text.is_some(), "hvc0 output never reached {}", out.display());

    // Host → guest: a line sent to the socket is read from the second console.
    g.run("stty -echo -F /dev/hvc1 2>/dev/null; (head -n 1 /dev/hvc1 > /tmp/got &)", CMD);
    let mut client = std::os::unix::net::UnixStream::connect(&sock).expect("connect to the console socket");
    client.write_all(b"host-to-guest\n").unwrap();
    let got = eventually(CMD, || {
        let t = g.run("cat /tmp/got", CMD);
        t.contains("host-to-guest").then_some(t)
    });
    assert!(got.is_some(), "guest never read the socket's line:\n{}", g.output());
    poweroff(g);
    std::fs::remove_dir_all(dir).ok();
}
