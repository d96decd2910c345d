//! The control planes on the AArch64 `virt` board with Debian's arm64 kernel: QMP (a client
//! written here against QEMU's protocol), HMP through the console's `C-a c`, `-S`, and
//! `system_powerdown` pressing the gpio-keys power button the guest's own driver reports.
//! Needs `cargo xtask fetch-guests`.

mod guest;

use guest::{asset_of, Guest, INIT_MARKER, PROMPT};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Generous: tests run in parallel on a two-core machine.
const BOOT: Duration = Duration::from_secs(300);
const CMD: Duration = Duration::from_secs(60);
const APPEND: &str = "console=ttyAMA0 quiet loglevel=1 nowatchdog";
/// Where `-kernel` puts an arm64 Image: 2 MiB into RAM (entered at its first byte).
const KERNEL_ENTRY: u64 = 0x4020_0000;

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("arm-mgmt-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn mimic_arm64(initrd: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mimic"));
    c.args(["-cpu", "cortex-a57", "-M", "virt", "-m", "512M", "-nographic", "-kernel"])
        .arg(asset_of("arm64", "Image"))
        .arg("-initrd")
        .arg(initrd)
        .args(["-append", APPEND])
        .args(extra);
    c
}

fn wait_for_path(p: &Path) {
    let end = Instant::now() + Duration::from_secs(30);
    while !p.exists() {
        assert!(Instant::now() < end, "{} never appeared", p.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One newc cpio member (a regular file, mode 0644).
fn cpio_entry(out: &mut Vec<u8>, ino: u32, name: &str, data: &[u8]) {
    let mode = if name == "TRAILER!!!" { 0 } else { 0o100644 };
    let fields = [ino, mode, 0, 0, 1, 0, data.len() as u32, 0, 0, 0, 0, name.len() as u32 + 1, 0];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    out.resize(out.len().next_multiple_of(4), 0);
    out.extend_from_slice(data);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// The guest's initramfs with `gpio_keys.ko` and `evdev.ko` (Debian builds both as modules)
/// appended as a second, uncompressed cpio archive, which the kernel unpacks over the first.
fn initramfs_with_input_modules(dir: &Path) -> PathBuf {
    let mut archive = Vec::new();
    for (ino, m) in [(1, "keyboard/gpio_keys"), (2, "evdev")] {
        let ko = asset_of("arm64", &format!("modules/kernel/drivers/input/{m}.ko.xz"));
        let out = Command::new("xz").arg("-dc").arg(&ko).output().expect("xz");
        assert!(out.status.success(), "xz -dc {}", ko.display());
        let name = m.rsplit('/').next().unwrap();
        cpio_entry(&mut archive, ino, &format!("{name}.ko"), &out.stdout);
    }
    cpio_entry(&mut archive, 0, "TRAILER!!!", &[]);
    let mut initrd = std::fs::read(asset_of("arm64", "initramfs.cpio.gz")).unwrap();
    initrd.resize(initrd.len().next_multiple_of(4), 0);
    initrd.extend_from_slice(&archive);
    let path = dir.join("initramfs-input.cpio");
    std::fs::write(&path, initrd).unwrap();
    path
}

/// A QMP client: commands in, replies out, events collected on the way.
struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    events: Vec<Value>,
}

impl Qmp {
    fn connect(sock: &Path) -> Qmp {
        let s = UnixStream::connect(sock).expect("connect to the QMP socket");
        s.set_read_timeout(Some(CMD)).unwrap();
        let mut q = Qmp { reader: BufReader::new(s.try_clone().unwrap()), writer: s, events: Vec::new() };
        let greeting = q.read();
        assert!(greeting["QMP"]["version"].is_object(), "greeting: {greeting}");
        q
    }

    fn read(&mut self) -> Value {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("QMP reply");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad QMP line {line:?}: {e}"))
    }

    /// Send `execute` and return its `return` value (events meanwhile are kept).
    fn cmd(&mut self, execute: &str) -> Value {
        writeln!(self.writer, "{}", json!({ "execute": execute })).unwrap();
        loop {
            let v = self.read();
            if v.get("event").is_some() {
                self.events.push(v);
                continue;
            }
            return v.get("return").cloned().unwrap_or_else(|| panic!("{execute} failed: {v}"));
        }
    }

    /// Wait for event `name` (or find it among those already seen).
    fn event(&mut self, name: &str) -> Value {
        if let Some(i) = self.events.iter().position(|e| e["event"] == name) {
            return self.events.remove(i);
        }
        loop {
            let v = self.read();
            if v["event"] == name {
                return v;
            }
            self.events.push(v);
        }
    }
}

/// Interrupts counted on the `/proc/interrupts` line of `name`, over all CPUs.
fn interrupt_count(proc_interrupts: &str, name: &str) -> u64 {
    let line = proc_interrupts
        .lines()
        .find(|l| l.contains(name))
        .unwrap_or_else(|| panic!("no {name:?} in /proc/interrupts:\n{proc_interrupts}"));
    line.split_whitespace().skip(1).map_while(|f| f.parse::<u64>().ok()).sum()
}

#[test]
fn arm64_qmp_starts_a_prelaunch_guest_stops_it_and_powerdown_presses_the_gpio_power_key() {
    let dir = scratch("qmp");
    let sock = dir.join("qmp.sock");
    let spec = format!("unix:{},server,wait=off", sock.display());
    let initrd = initramfs_with_input_modules(&dir);
    let mut g = Guest::spawn(mimic_arm64(&initrd, &["-S", "-qmp", &spec]));
    wait_for_path(&sock);
    let mut q = Qmp::connect(&sock);
    q.cmd("qmp_capabilities");

    let status = q.cmd("query-status");
    assert_eq!((status["status"].as_str(), status["running"].as_bool()), (Some("prelaunch"), Some(false)));
    let cpus = q.cmd("query-cpus-fast");
    assert_eq!(cpus[0]["target"], "aarch64", "{cpus}");
    assert_eq!(cpus[0]["pc"], format!("{KERNEL_ENTRY:#x}"), "{cpus}");
    assert_eq!(cpus[0]["el"], 1, "{cpus}");

    q.cmd("cont");
    q.event("RESUME");
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(PROMPT, CMD);

    q.cmd("stop");
    q.event("STOP");
    assert_eq!(q.cmd("query-status")["status"], "paused");
    q.cmd("cont");
    assert_eq!(q.cmd("query-status")["status"], "running");

    g.run("insmod /gpio_keys.ko; insmod /evdev.ko", CMD);
    // The first event's 24 bytes (struct input_event on arm64: timeval, type, code, value).
    g.run("(dd if=/dev/input/event0 bs=24 count=1 2>/dev/null | od -An -tx1 > /ev.txt) & true", CMD);
    let before = interrupt_count(&g.run("cat /proc/interrupts", CMD), "GPIO Key Poweroff");

    q.cmd("system_powerdown");
    q.event("POWERDOWN");
    // Press and release (gpio-keys watches both edges), 100 ms of guest time apart.
    g.run("sleep 1", CMD);
    let after = interrupt_count(&g.run("cat /proc/interrupts", CMD), "GPIO Key Poweroff");
    assert_eq!(after, before + 2, "press and release interrupts");
    let event = g.run("cat /ev.txt", CMD);
    // type EV_KEY (1), code KEY_POWER (116 = 0x74), value 1 (pressed), little-endian.
    assert!(event.contains("01 00 74 00 01 00 00 00"), "input event: {event}");

    q.cmd("quit");
    q.event("SHUTDOWN");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}

#[test]
fn arm64_hmp_shows_the_prelaunch_registers_memory_map_and_quits() {
    let mut g = Guest::boot_arm64(&["-S"]);
    g.send("\x01c");
    g.wait_for("(qemu) ", CMD);
    g.send("info status");
    g.wait_for("VM status: paused (prelaunch)", CMD);

    g.send("info registers");
    // CPU 0 waits at the kernel's first instruction with X0 = the device tree (start of RAM),
    // at EL1 on SP_EL1, D/A/I/F masked.
    let regs = g.wait_for("FPSR=", CMD);
    assert!(regs.contains(&format!(" PC={KERNEL_ENTRY:016x}")), "{regs}");
    assert!(regs.contains("X00=0000000040000000"), "{regs}");
    assert!(regs.contains("X30=") && regs.contains(" SP="), "{regs}");
    assert!(regs.contains("PSTATE=000003c5 ---- EL1h"), "{regs}");

    g.send("xp /1wx 0x40000000");
    g.wait_for("0000000040000000: 0xedfe0dd0", CMD); // the tree's magic, d0 0d fe ed
    g.send("info mtree");
    g.wait_for("0000000040000000-000000005fffffff (prio 0, ram): dram", CMD);
    g.send("info qtree");
    g.wait_for("dev: pl061, id \"gpio\"", CMD);

    g.send("cont");
    g.send("\x01c");
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(PROMPT, CMD);
    g.send("\x01c");
    g.wait_for("(qemu) ", CMD);
    g.send("quit");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}
