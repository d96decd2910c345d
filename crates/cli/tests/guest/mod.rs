//! Driving a booted guest over its serial console: spawn mimic with piped stdio, wait for
//! patterns with a timeout (so a hang fails fast), type commands, collect the exit status.

// Each test binary uses a different part of this harness.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The marker the default initramfs's /init prints once user space runs.
pub const INIT_MARKER: &str = "MIMIC-INIT-READY";
pub const PROMPT: &str = "~ # ";

/// Where `cargo xtask fetch-guests` caches the default riscv64 guest.
pub fn guest_dir() -> PathBuf {
    guest_dir_of("riscv64")
}

/// The cache folder of the guest for Debian architecture `arch` (`riscv64`, `arm64`).
pub fn guest_dir_of(arch: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/guests").join(arch)
}

pub fn asset(name: &str) -> PathBuf {
    asset_of("riscv64", name)
}

pub fn asset_of(arch: &str, name: &str) -> PathBuf {
    let p = guest_dir_of(arch).join(name);
    assert!(p.is_file(), "{} is missing: run `cargo xtask fetch-guests` first (.ci/run does)", p.display());
    p
}

/// The kernel command line of the test boots: only emergencies on the console, so kernel
/// warnings (e.g. RCU stall notes on a loaded host) never interleave with command output; no
/// lockup watchdog, because on a starved two-core CI host guest time runs while a CPU waits for
/// its turn, which the guest reads as a lockup.
const QUIET: &str = "quiet loglevel=1 nowatchdog";

pub struct Guest {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Mutex<String>>,
    /// Output consumed by earlier waits.
    seen: usize,
}

impl Guest {
    /// Boot the default guest with extra mimic arguments.
    pub fn boot(extra: &[&str]) -> Guest {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mimic"));
        cmd.args(["-M", "virt", "-m", "512M", "-nographic", "-bios"])
            .arg(asset("fw_dynamic.bin"))
            .arg("-kernel")
            .arg(asset("Image"))
            .arg("-initrd")
            .arg(asset("initramfs.cpio.gz"))
            .args(["-append", &format!("console=ttyS0 {QUIET}")])
            .args(extra);
        Guest::spawn(cmd)
    }

    /// Boot the arm64 guest (Debian's arm64 kernel on the AArch64 `virt` board) with extra
    /// mimic arguments; `-cpu cortex-a57` unless `extra` gives another.
    pub fn boot_arm64(extra: &[&str]) -> Guest {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mimic"));
        if !extra.contains(&"-cpu") {
            cmd.args(["-cpu", "cortex-a57"]);
        }
        cmd.args(["-M", "virt", "-m", "512M", "-nographic", "-kernel"])
            .arg(asset_of("arm64", "Image"))
            .arg("-initrd")
            .arg(asset_of("arm64", "initramfs.cpio.gz"))
            .args(["-append", &format!("console=ttyAMA0 {QUIET}")])
            .args(extra);
        Guest::spawn(cmd)
    }

    pub fn spawn(mut cmd: Command) -> Guest {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start mimic");
        let out = Arc::new(Mutex::new(String::new()));
        for stream in
            [Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>, Box::new(child.stderr.take().unwrap())]
        {
            let out = out.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    out.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        let stdin = child.stdin.take();
        Guest { child, stdin, out, seen: 0 }
    }

    pub fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Wait until `pattern` appears after what earlier waits consumed; returns the text between.
    pub fn wait_for(&mut self, pattern: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            {
                let out = self.out.lock().unwrap();
                if let Some(i) = out[self.seen..].find(pattern) {
                    let text = out[self.seen..self.seen + i].to_string();
                    self.seen += i + pattern.len();
                    return text;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Give the reader threads a moment to drain, then check once more.
                std::thread::sleep(Duration::from_millis(200));
                let out = self.out.lock().unwrap();
                if let Some(i) = out[self.seen..].find(pattern) {
                    let text = out[self.seen..self.seen + i].to_string();
                    self.seen += i + pattern.len();
                    return text;
                }
                panic!("mimic exited ({status}) before printing {pattern:?}; output:\n{}", *out);
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!("no {pattern:?} within {timeout:?}; output:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin
            .write_all(line.as_bytes())
            .and_then(|_| stdin.write_all(b"\n"))
            .and_then(|_| stdin.flush())
            .expect("write to guest");
    }

    /// Type `text` as it is (no newline added): firmware consoles that want a carriage return.
    pub fn type_raw(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(text.as_bytes()).and_then(|_| stdin.flush()).expect("write to guest");
    }

    /// Run a shell command and return what it printed, then wait for the next prompt.
    pub fn run(&mut self, command: &str, timeout: Duration) -> String {
        // The end marker is split by quotes in the command line, so the terminal's echo of the
        // line (which the tty and the shell's line editor may both print) never matches it.
        self.send(&format!("{command}; echo END-OF-''COMMAND"));
        let text = self.wait_for("END-OF-COMMAND", timeout);
        let after_echo = text.rsplit("END-OF-''COMMAND").next().unwrap_or_default();
        let out = after_echo.replace('\r', "").trim_matches('\n').to_string();
        self.wait_for(PROMPT, timeout);
        out
    }

    /// Send the emulator a signal (`kill -s NAME`).
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-s", name, &pid]).status().expect("kill").success());
    }

    /// SIGKILL the emulator (no chance to flush anything) and reap it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!("mimic did not exit within {timeout:?}; output:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where bare-metal A64 test programs are linked: 2 MiB into RAM, where `-kernel` puts an
/// arm64 Image.
pub const A64_TEXT: &str = "0x40200000";

/// Assemble and link `tests/a64/NAME.S` at [`A64_TEXT`] into `dir`.
pub fn build_a64_program(name: &str, dir: &std::path::Path) -> PathBuf {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/a64/{name}.S"));
    let obj = dir.join(format!("{name}.o"));
    let elf = dir.join(format!("{name}.elf"));
    let how = "aarch64-linux-gnu-as (apt-get install binutils-aarch64-linux-gnu)";
    let ok = Command::new("aarch64-linux-gnu-as").arg(&src).arg("-o").arg(&obj).status().expect(how);
    assert!(ok.success(), "assembling {}", src.display());
    let ok = Command::new("aarch64-linux-gnu-ld")
        .args(["-Ttext", A64_TEXT, "-e", "_start", "-o"])
        .arg(&elf)
        .arg(&obj)
        .status()
        .expect(how);
    assert!(ok.success(), "linking {}", elf.display());
    elf
}
