//! `cargo xtask bench-disk [--runs N] [--only mimic|qemu] [--size-mib N] [--timeout SECS]`:
//! sequential read and write throughput inside the guest (issue #4), on a raw and on a qcow2
//! data disk, mimic side by side with `qemu-system-riscv64` in the same run.
//!
//! - Guest: the disk-root guest of `rootdisk.rs` (Debian kernel + OpenSBI, `disk-initramfs.cpio.gz`
//!   with `root=/dev/vda`); the root is a fresh copy of `rootfs.ext4` (raw) on the first
//!   virtio-blk-device, the data disk a fresh `qemu-img create -f raw|qcow2` image (512 MiB, or
//!   `--size-mib` if larger) on the second, opened with `cache=none` (`O_DIRECT` on the host).
//! - Emulator command line: `-M virt -m 512M -smp 1 -nographic -bios fw_dynamic.bin -kernel Image
//!   -initrd disk-initramfs.cpio.gz -append "console=ttyS0 quiet loglevel=1 root=/dev/vda"
//!   -drive file=root.raw,format=raw,if=none,id=d0 -device virtio-blk-device,drive=d0
//!   -drive file=data.FMT,format=FMT,if=none,id=d1,cache=none -device virtio-blk-device,drive=d1`
//!   (QEMU also `-accel tcg -nic none`).
//! - Over the serial console, after `MIMIC-DISK-READY` and the `~ # ` prompt: `dd --help` tells
//!   whether busybox's dd has `oflag=direct`/`iflag=direct`; then ([`guest_command`])
//!   `dd if=/dev/zero of=/dev/vdb bs=1M count=N oflag=direct` and
//!   `dd if=/dev/vdb of=/dev/null bs=1M count=N iflag=direct`, each timed in the guest by the
//!   `now at N nsecs` line of `/proc/timer_list` (read with shell builtins only, so no process
//!   start falls inside the interval), or by `/proc/uptime` (10 ms, a 4% step on a 0.25 s read)
//!   where that file is missing; busybox's dd prints no transfer summary, but one is used if
//!   printed. Then `poweroff -f`. Without direct I/O the write gets `conv=fsync` and the read is preceded
//!   (outside the timed part) by `sync; echo 3 > /proc/sys/vm/drop_caches`.
//! - For every run and format, mimic then QEMU in odd runs, QEMU then mimic in even ones
//!   ([`turn_order`]); a run past its timeout (mimic 15 min, QEMU 5 min,
//!   or `--timeout`) is killed. After each run's raw boots, the host's own GNU `dd` writes and
//!   reads a fresh raw file of the same size in the same directory with `oflag=direct`/`iflag=direct`
//!   ([`host_reference`]): what the host disk gives without any emulator, the ceiling that both
//!   emulators' `cache=none` disks approach. MB/s are 10^6 bytes per second; the table shows medians and the
//!   throughput ratio mimic/QEMU (> 1: mimic faster). Images and console logs go to
//!   `$CARGO_TARGET_DIR/bench-disk/`; the qcow2 data image is checked with `qemu-img check`.
//! - mimic is built (`cargo build --release -p mimic-cli`) unless `MIMIC=/path/to/mimic` is set.
//! - What the figures compare is what the guest sees. With one request in flight (these `dd`s),
//!   mimic's disk thread reads the next range ahead while the guest works on the last one and
//!   answers writes from an 8 MiB write cache that a flush empties (`crates/block`:
//!   `read_ahead.rs`, `write_behind.rs`); QEMU does neither, so its host I/O and guest work take
//!   turns.

use crate::bench_linux::{fmt_ratios, median, ratio};
use crate::guests::{self, Layout};
use crate::rootdisk;
use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, String>;

pub const FORMATS: [&str; 2] = ["raw", "qcow2"];
pub const DIRECTIONS: [Direction; 2] = [Direction::Write, Direction::Read];
const APPEND: &str = "console=ttyS0 quiet loglevel=1 root=/dev/vda";
const DISK_READY: &str = "MIMIC-DISK-READY";
const ROOT_FAILED: &str = "MIMIC-ROOT-FAILED";
const PROMPT: &str = "~ # ";
/// Starts the line each timed `dd` ends with (typed as `DISK-''RESULT` so the echo never matches).
pub const RESULT_MARKER: &str = "DISK-RESULT";
const END_MARKER: &str = "END-OF-COMMAND";
/// The data disk's minimum size, MiB.
const DATA_IMAGE_MIB: u64 = 512;
const DATA_CACHE: &str = "none";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Write,
    Read,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Write => "write",
            Direction::Read => "read",
        }
    }
}

/// The shell line that runs and times one `dd` in the guest; it ends with
/// `DISK-RESULT <dir> status=<s> t0=<uptime> t1=<uptime> n0=<ns> n1=<ns>` (the marker split by
/// quotes, so the terminal's echo of the line does not match; `n0`/`n1` empty without
/// `/proc/timer_list`).
pub fn guest_command(dir: Direction, size_mib: u64, direct: bool) -> String {
    // `tl` leaves the ns clock of /proc/timer_list's `now at N nsecs` line in T (empty without it).
    const TL: &str = "tl() { T=; while read -r x y z _; do if [ \"$x $y\" = 'now at' ]; then T=$z; break; fi; \
                      done < /proc/timer_list; }; ";
    let (pre, dd) = match (dir, direct) {
        (Direction::Write, true) => ("", format!("dd if=/dev/zero of=/dev/vdb bs=1M count={size_mib} oflag=direct")),
        (Direction::Write, false) => ("", format!("dd if=/dev/zero of=/dev/vdb bs=1M count={size_mib} conv=fsync")),
        (Direction::Read, true) => ("", format!("dd if=/dev/vdb of=/dev/null bs=1M count={size_mib} iflag=direct")),
        (Direction::Read, false) => {
            ("sync; echo 3 > /proc/sys/vm/drop_caches; ", format!("dd if=/dev/vdb of=/dev/null bs=1M count={size_mib}"))
        }
    };
    format!(
        "{TL}{pre}read a _ < /proc/uptime; tl; c=$T; {dd}; s=$?; tl; d=$T; read b _ < /proc/uptime; \
         echo DISK-''RESULT {} status=$s t0=$a t1=$b n0=$c n1=$d",
        dir.name()
    )
}

/// Whether `dd --help` (busybox) lists `direct` among the `iflag=` and the `oflag=` values.
pub fn direct_support(help: &str) -> (bool, bool) {
    let has = |key: &str| {
        help.split(|c: char| c.is_whitespace() || c == '[' || c == ']')
            .filter_map(|w| w.strip_prefix(key))
            .any(|v| v.split(['|', ',']).any(|f| f == "direct"))
    };
    (has("iflag="), has("oflag="))
}

/// Where a measurement's time comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeSource {
    /// `/proc/uptime` before and after, in the guest (10 ms resolution).
    Uptime,
    /// `/proc/timer_list`'s `now at` before and after, in the guest (ns).
    TimerList,
    /// dd's own transfer summary line.
    Dd,
}

/// One timed `dd`.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    pub dir: Direction,
    pub bytes: u64,
    pub secs: f64,
    pub source: TimeSource,
}

impl Measurement {
    /// 10^6 bytes per second.
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.secs
    }
}

/// dd's transfer summary, if it printed one: busybox `268435456 bytes (256.0MB) copied, 2.5 seconds,
/// 102.4MB/s`, GNU `268435456 bytes (268 MB, 256 MiB) copied, 2.5 s, 107 MB/s`. (bytes, seconds).
pub fn parse_dd_summary(line: &str) -> Option<(u64, f64)> {
    let line = line.trim();
    let (head, rest) = line.split_once(" copied, ")?;
    let bytes: u64 = head.split_whitespace().next()?.parse().ok()?;
    let secs_field = rest.split(',').next()?.trim();
    let secs: f64 = secs_field.strip_suffix("seconds").or(secs_field.strip_suffix('s'))?.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then_some((bytes, secs))
}

/// `N+M records out` → (N, M).
fn parse_records_out(line: &str) -> Option<(u64, u64)> {
    let rec = line.trim().strip_suffix("records out")?.trim();
    let (full, part) = rec.split_once('+')?;
    Some((full.parse().ok()?, part.parse().ok()?))
}

/// Reads one timed `dd`'s console output (what follows the command's echo): the
/// `DISK-RESULT` line, dd's `records out` line (all `size_mib` 1 MiB blocks, none partial) and,
/// if present, dd's summary (preferred), else the ns clock, else /proc/uptime's 10 ms.
pub fn parse_dd_output(text: &str, dir: Direction, size_mib: u64) -> Result<Measurement> {
    let mut result = None;
    let mut records = None;
    let mut summary = None;
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix(RESULT_MARKER).filter(|r| r.starts_with(' ')) {
            result = Some(rest.trim().to_string());
        } else if let Some(r) = parse_records_out(l) {
            records = Some(r);
        } else if let Some(s) = parse_dd_summary(l) {
            summary = Some(s);
        }
    }
    let result = result.ok_or_else(|| format!("no {RESULT_MARKER} line in {text:?}"))?;
    let w: Vec<&str> = result.split_whitespace().collect();
    let field = |k: &str| w.iter().find_map(|x| x.strip_prefix(k));
    if w.first() != Some(&dir.name()) {
        return Err(format!("{RESULT_MARKER} for {:?}, expected {}", w.first(), dir.name()));
    }
    let status = field("status=").ok_or("no status=")?;
    if status != "0" {
        return Err(format!("dd ({}) exited with status {status}: {}", dir.name(), text.trim()));
    }
    let t = |k: &str| -> Result<f64> {
        field(k).and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite()).ok_or(format!("bad {k} in {result:?}"))
    };
    let (t0, t1) = (t("t0=")?, t("t1=")?);
    let bytes = size_mib << 20;
    match records {
        Some((full, 0)) if full == size_mib => {}
        Some((full, part)) => {
            return Err(format!("dd ({}) copied {full}+{part} records, expected {size_mib}+0", dir.name()))
        }
        None => return Err(format!("no 'records out' line from dd ({}): {}", dir.name(), text.trim())),
    }
    let ns = |k: &str| field(k).and_then(|v| v.parse::<u64>().ok());
    let (secs, source) = match (summary, ns("n0="), ns("n1=")) {
        (Some((b, s)), _, _) if b == bytes && s > 0.0 => (s, TimeSource::Dd),
        (_, Some(n0), Some(n1)) if n1 > n0 => ((n1 - n0) as f64 / 1e9, TimeSource::TimerList),
        _ => (((t1 - t0) * 100.0).round() / 100.0, TimeSource::Uptime),
    };
    if secs <= 0.0 {
        return Err(format!("dd ({}) took {secs} s by /proc/uptime: too short to time", dir.name()));
    }
    Ok(Measurement { dir, bytes, secs, source })
}

// ---------------------------------------------------------------------------------------------
// Where the time goes: request sizes in the guest, CPU time of the emulator's threads

/// The counters of the guest's `/sys/block/vdb/stat` that tell how the guest split the transfer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockStat {
    pub read_ios: u64,
    pub read_sectors: u64,
    pub write_ios: u64,
    pub write_sectors: u64,
}

/// The last line of `text` that looks like a block `stat` file (at least 7 numbers: read I/Os,
/// merges, sectors, ticks, then the same for writes).
pub fn parse_block_stat(text: &str) -> Option<BlockStat> {
    text.lines().rev().find_map(|l| {
        let f: Vec<u64> = l.split_whitespace().map(str::parse).collect::<std::result::Result<_, _>>().ok()?;
        (f.len() >= 7).then(|| BlockStat { read_ios: f[0], read_sectors: f[2], write_ios: f[4], write_sectors: f[6] })
    })
}

impl BlockStat {
    /// Requests completed in direction `dir` since `before`, and their average size in bytes.
    pub fn requests_since(&self, before: &BlockStat, dir: Direction) -> (u64, f64) {
        let (ios, sectors) = match dir {
            Direction::Read => {
                (self.read_ios.saturating_sub(before.read_ios), self.read_sectors.saturating_sub(before.read_sectors))
            }
            Direction::Write => (
                self.write_ios.saturating_sub(before.write_ios),
                self.write_sectors.saturating_sub(before.write_sectors),
            ),
        };
        (ios, if ios == 0 { 0.0 } else { (sectors * 512) as f64 / ios as f64 })
    }
}

/// Seconds on a CPU from a `/proc/<pid>/task/<tid>/schedstat` line (its first field, in ns). Unlike
/// wall time this does not grow while the thread waits for a CPU on a loaded host.
pub fn parse_schedstat(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse::<u64>().ok().map(|ns| ns as f64 / 1e9)
}

/// On-CPU seconds of every thread of process `pid`, summed by thread name (the main thread is
/// called `main`); empty where `/proc` does not tell.
fn thread_cpu(pid: u32) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return out };
    for t in tasks.flatten() {
        let dir = t.path();
        let name = if t.file_name().to_str() == Some(&pid.to_string()) {
            "main".to_string()
        } else {
            std::fs::read_to_string(dir.join("comm")).map(|c| c.trim().to_string()).unwrap_or_default()
        };
        let Some(secs) = std::fs::read_to_string(dir.join("schedstat")).ok().as_deref().and_then(parse_schedstat)
        else {
            continue;
        };
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, s)) => *s += secs,
            None => out.push((name, secs)),
        }
    }
    out
}

/// Per thread name, the on-CPU seconds from `before` to `after`, largest first, without the
/// threads that used less than 5 ms.
pub fn cpu_since(before: &[(String, f64)], after: &[(String, f64)]) -> Vec<(String, f64)> {
    let mut d: Vec<(String, f64)> = after
        .iter()
        .map(|(n, a)| (n.clone(), a - before.iter().find(|(m, _)| m == n).map_or(0.0, |(_, b)| *b)))
        .filter(|(_, s)| *s >= 0.005)
        .collect();
    d.sort_by(|a, b| b.1.total_cmp(&a.1));
    d
}

/// `256 requests of 1024 KiB on average; on-CPU s: main 1.52, mimic-block-io 0.09`.
pub fn diagnosis_line(requests: Option<(u64, f64)>, cpu: &[(String, f64)]) -> String {
    let mut s = match requests {
        Some((n, avg)) => format!("{n} requests of {:.0} KiB on average", avg / 1024.0),
        None => "requests unknown".to_string(),
    };
    if !cpu.is_empty() {
        let threads: Vec<String> = cpu.iter().take(4).map(|(n, t)| format!("{n} {t:.2}")).collect();
        let _ = write!(s, "; emulator threads on-CPU s: {}", threads.join(", "));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// The table

/// One emulator's boot of one format.
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    /// Which run of `--runs` (from 1; 0 for the host's reference).
    pub run: usize,
    pub format: String,
    /// Host wall seconds from spawning the emulator to `MIMIC-DISK-READY`.
    pub boot_wall: f64,
    pub measurements: Vec<Measurement>,
}

impl RunResult {
    fn mb_per_s(&self, dir: Direction) -> Option<f64> {
        self.measurements.iter().find(|m| m.dir == dir).map(Measurement::mb_per_s)
    }
}

fn median_mb(runs: &[RunResult], format: &str, dir: Direction) -> Option<f64> {
    median(&runs.iter().filter(|r| r.format == format).filter_map(|r| r.mb_per_s(dir)).collect::<Vec<_>>())
}

/// Per format and direction, mimic/QEMU for each run in which both measured it: a run's pair
/// ran back to back, under nearly the same host load, which the medians' ratio does not
/// ensure on a host whose speed drifts (the host's own `dd` read 1.0 to 2.1 GB/s within an
/// hour on the machine these benchmarks were first run on). Empty without pairs.
pub fn paired_ratios(mimic: &[RunResult], qemu: &[RunResult]) -> String {
    let mut out = String::new();
    for f in FORMATS {
        for d in DIRECTIONS {
            let ratios: Vec<f64> = mimic
                .iter()
                .filter(|m| m.format == f)
                .filter_map(|m| {
                    let q = qemu.iter().find(|q| q.format == f && q.run == m.run)?;
                    ratio(m.mb_per_s(d), q.mb_per_s(d))
                })
                .collect();
            if ratios.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{:<7}{:<7}{}", f, d.name(), fmt_ratios(&ratios));
        }
    }
    out
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

/// Per format and direction: the median MB/s of mimic and of QEMU, mimic/QEMU (a throughput
/// ratio: > 1 means mimic is faster) and the host's own `dd` on a raw file ([`host_reference`],
/// raw rows only); then the median host seconds to `MIMIC-DISK-READY`.
pub fn table(mimic: &[RunResult], qemu: &[RunResult], host: &[RunResult]) -> String {
    let mut rows: Vec<[String; 6]> = vec![[
        "format".into(),
        "direction".into(),
        "mimic MB/s".into(),
        "qemu MB/s".into(),
        "mimic/qemu".into(),
        "host dd MB/s".into(),
    ]];
    for f in FORMATS {
        for d in DIRECTIONS {
            let (m, q) = (median_mb(mimic, f, d), median_mb(qemu, f, d));
            rows.push([
                f.into(),
                d.name().into(),
                fmt_opt(m),
                fmt_opt(q),
                ratio(m, q).map_or("-".into(), |r| format!("{r:.2}x")),
                fmt_opt(median_mb(host, f, d)),
            ]);
        }
    }
    let boot = |runs: &[RunResult]| median(&runs.iter().map(|r| r.boot_wall).collect::<Vec<_>>());
    // Seconds, not a throughput: no ratio, so the last column keeps one meaning.
    rows.push([
        "boot to READY".into(),
        "(host s)".into(),
        fmt_opt(boot(mimic)),
        fmt_opt(boot(qemu)),
        "-".into(),
        "-".into(),
    ]);
    let mut widths = [0usize; 6];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        let mut line = format!("{:<w0$}  {:<w1$}", r[0], r[1], w0 = widths[0], w1 = widths[1]);
        for (j, c) in r.iter().enumerate().skip(2) {
            let _ = write!(line, "  {c:>w$}", w = widths[j]);
        }
        out.push_str(line.trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
            out.push('\n');
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The serial console

/// Text a reader thread appends to.
type Shared = Arc<Mutex<String>>;

/// An emulator with piped stdio; waits share one deadline (the run's timeout).
struct Console {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Shared,
    err: Shared,
    seen: usize,
    start: Instant,
    deadline: Instant,
    label: String,
}

impl Console {
    fn spawn(mut cmd: Command, label: &str, timeout: Duration) -> Result<Console> {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let start = Instant::now();
        let mut child = cmd.spawn().map_err(|e| format!("{label}: cannot start {:?}: {e}", cmd.get_program()))?;
        let out = Arc::new(Mutex::new(String::new()));
        let err = Arc::new(Mutex::new(String::new()));
        let streams: [(Box<dyn Read + Send>, &Shared); 2] =
            [(Box::new(child.stdout.take().unwrap()), &out), (Box::new(child.stderr.take().unwrap()), &err)];
        for (mut s, buf) in streams {
            let buf = buf.clone();
            std::thread::spawn(move || {
                let mut b = [0u8; 4096];
                while let Ok(n) = s.read(&mut b) {
                    if n == 0 {
                        break;
                    }
                    buf.lock().unwrap().push_str(&String::from_utf8_lossy(&b[..n]));
                }
            });
        }
        let stdin = child.stdin.take();
        Ok(Console { child, stdin, out, err, seen: 0, start, deadline: start + timeout, label: label.into() })
    }

    fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn stderr_tail(&self) -> String {
        let e = self.err.lock().unwrap();
        let t: Vec<&str> = e.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
        if t.is_empty() {
            String::new()
        } else {
            format!("; stderr: {}", t.join(" | "))
        }
    }

    /// Waits for `pattern` after what earlier waits consumed; returns the text before it.
    fn wait_for(&mut self, pattern: &str) -> Result<String> {
        let mut exited_at: Option<Instant> = None;
        loop {
            {
                let out = self.out.lock().unwrap();
                if let Some(i) = out[self.seen..].find(pattern) {
                    let text = out[self.seen..self.seen + i].to_string();
                    self.seen += i + pattern.len();
                    return Ok(text);
                }
            }
            if let Some(t) = exited_at {
                // Give the reader threads a moment to drain after the exit.
                if t.elapsed() > Duration::from_millis(300) {
                    let st = self.child.try_wait().ok().flatten().map_or("?".into(), |s| s.to_string());
                    return Err(format!("{}: exited ({st}) before {pattern:?}{}", self.label, self.stderr_tail()));
                }
            } else if let Ok(Some(_)) = self.child.try_wait() {
                exited_at = Some(Instant::now());
            }
            if Instant::now() > self.deadline {
                self.kill();
                return Err(format!(
                    "{}: timed out after {:.0} s waiting for {pattern:?}, killed{}",
                    self.label,
                    self.elapsed(),
                    self.stderr_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&mut self, line: &str) -> Result<()> {
        let stdin = self.stdin.as_mut().ok_or("stdin closed")?;
        stdin
            .write_all(line.as_bytes())
            .and_then(|_| stdin.write_all(b"\n"))
            .and_then(|_| stdin.flush())
            .map_err(|e| format!("{}: writing to the console: {e}", self.label))
    }

    /// Runs a shell line; returns what it printed after its echo, then waits for the prompt.
    fn run(&mut self, command: &str) -> Result<String> {
        self.send(&format!("{command}; echo END-OF-''COMMAND"))?;
        let text = self.wait_for(END_MARKER)?;
        let after_echo = text.rsplit("END-OF-''COMMAND").next().unwrap_or_default();
        let out = after_echo.replace('\r', "").trim_matches('\n').to_string();
        self.wait_for(PROMPT)?;
        Ok(out)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            if Instant::now() > end || Instant::now() > self.deadline {
                self.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn save_log(&self, path: &Path) {
        let mut text = self.out.lock().unwrap().clone();
        let err = self.err.lock().unwrap();
        if !err.trim().is_empty() {
            let _ = write!(text, "\n--- stderr ---\n{err}");
        }
        let _ = std::fs::write(path, text);
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------------------------------
// Running

struct Options {
    runs: usize,
    only: Option<String>,
    size_mib: u64,
    timeout: Option<u64>,
}

fn parse_args(args: &[String]) -> Result<Options> {
    let mut o = Options { runs: 3, only: None, size_mib: 256, timeout: None };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--runs" => o.runs = v.parse().ok().filter(|&n| n > 0).ok_or("bad --runs")?,
            "--size-mib" => o.size_mib = v.parse().ok().filter(|&n| n > 0).ok_or("bad --size-mib")?,
            "--timeout" => o.timeout = Some(v.parse().map_err(|_| "bad --timeout")?),
            "--only" if v == "mimic" || v == "qemu" => o.only = Some(v.clone()),
            "--only" => return Err("--only takes mimic or qemu".into()),
            _ => return Err(format!("unknown option {a}")),
        }
    }
    Ok(o)
}

use crate::bench_linux::{find_on_path, mimic_binary, target_dir, turn_order};

fn qemu_img(args: &[&str]) -> Result<String> {
    let out = Command::new("qemu-img")
        .args(args)
        .output()
        .map_err(|e| format!("qemu-img: {e} (apt-get install qemu-utils)"))?;
    if !out.status.success() {
        return Err(format!(
            "qemu-img {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

struct Setup {
    firmware: PathBuf,
    image: PathBuf,
    initramfs: PathBuf,
    rootfs: PathBuf,
    work: PathBuf,
    size_mib: u64,
}

fn emu_cmd(s: &Setup, bin: &Path, is_qemu: bool, root: &Path, data: &Path, format: &str) -> Command {
    let mut c = Command::new(bin);
    if is_qemu {
        c.args(["-accel", "tcg", "-nic", "none"]);
    }
    c.args(["-M", "virt", "-m", "512M", "-smp", "1", "-nographic", "-bios"])
        .arg(&s.firmware)
        .arg("-kernel")
        .arg(&s.image)
        .arg("-initrd")
        .arg(&s.initramfs)
        .args(["-append", APPEND])
        .arg("-drive")
        .arg(format!("file={},format=raw,if=none,id=d0", root.display()))
        .args(["-device", "virtio-blk-device,drive=d0", "-drive"])
        .arg(format!("file={},format={format},if=none,id=d1,cache={DATA_CACHE}", data.display()))
        .args(["-device", "virtio-blk-device,drive=d1"]);
    c
}

/// Boots one emulator on fresh images of `format` and times the write and the read.
/// `direct`: what earlier boots found about busybox's dd (`None`: ask `dd --help`).
fn run_one(
    s: &Setup,
    label: &str,
    bin: &Path,
    is_qemu: bool,
    format: &str,
    timeout: Duration,
    direct: &mut Option<bool>,
    notes: &mut Vec<String>,
) -> Result<RunResult> {
    let root = s.work.join(format!("{label}-root.raw"));
    let data = s.work.join(format!("{label}-data.{format}"));
    let _ = std::fs::remove_file(&data);
    std::fs::copy(&s.rootfs, &root).map_err(|e| format!("{}: {e}", root.display()))?;
    let size = format!("{}M", s.size_mib.max(DATA_IMAGE_MIB));
    qemu_img(&["create", "-q", "-f", format, &data.to_string_lossy(), &size])?;
    let cmd = emu_cmd(s, bin, is_qemu, &root, &data, format);
    let mut con = Console::spawn(cmd, label, timeout)?;
    let log = s.work.join(format!("{label}.log"));
    let result = (|| -> Result<RunResult> {
        let text = con.wait_for(DISK_READY)?;
        if text.contains(ROOT_FAILED) {
            return Err(format!("{label}: the root file system did not mount"));
        }
        let boot_wall = con.elapsed();
        con.wait_for(PROMPT)?;
        println!("  {label}: READY after {boot_wall:.2} s (host wall)");
        let direct = match *direct {
            Some(d) => d,
            None => {
                let help = con.run("dd --help 2>&1")?;
                let (i, o) = direct_support(&help);
                let d = i && o;
                if !d {
                    notes.push(format!(
                        "busybox dd lacks direct I/O (iflag=direct {i}, oflag=direct {o}): write with conv=fsync, \
                         read after drop_caches"
                    ));
                }
                println!("  {label}: busybox dd iflag=direct {i}, oflag=direct {o}");
                *direct = Some(d);
                d
            }
        };
        let mut measurements = Vec::new();
        let stat = |con: &mut Console| con.run("cat /sys/block/vdb/stat").ok().as_deref().and_then(parse_block_stat);
        for d in DIRECTIONS {
            let stat0 = stat(&mut con);
            let cpu0 = thread_cpu(con.child.id());
            let out = con.run(&guest_command(d, s.size_mib, direct))?;
            let cpu = cpu_since(&cpu0, &thread_cpu(con.child.id()));
            let stat1 = stat(&mut con);
            let m = parse_dd_output(&out, d, s.size_mib).map_err(|e| format!("{label}: {e}"))?;
            println!(
                "  {label}: {:<5} {:>8.2} MB/s  ({} MiB in {:.2} s, {})",
                d.name(),
                m.mb_per_s(),
                s.size_mib,
                m.secs,
                match m.source {
                    TimeSource::Dd => "dd's summary",
                    TimeSource::TimerList => "/proc/timer_list",
                    TimeSource::Uptime => "/proc/uptime",
                }
            );
            let requests = stat0.zip(stat1).map(|(a, b)| b.requests_since(&a, d));
            println!("    {}", diagnosis_line(requests, &cpu));
            measurements.push(m);
        }
        con.send("poweroff -f")?;
        match con.wait_exit(Duration::from_secs(60)) {
            Some(st) if !st.success() => notes.push(format!("{label}: exit status {st} after poweroff -f")),
            None => notes.push(format!("{label}: still running 60 s after poweroff -f, killed")),
            _ => {}
        }
        Ok(RunResult { run: 0, format: format.into(), boot_wall, measurements })
    })();
    con.save_log(&log);
    let err = con.err.lock().unwrap().clone();
    if err.contains("O_DIRECT") {
        notes.push(format!("{label}: {}", err.lines().find(|l| l.contains("O_DIRECT")).unwrap_or_default().trim()));
    }
    drop(con);
    let result = result.map_err(|e| format!("{e} (console log {})", log.display()));
    if result.is_ok() && format == "qcow2" {
        if let Err(e) = qemu_img(&["check", "-q", &data.to_string_lossy()]) {
            notes.push(format!("{label}: the data image fails qemu-img check: {e}"));
        }
    }
    let _ = std::fs::remove_file(&root);
    let _ = std::fs::remove_file(&data);
    result
}

/// The host's own sequential `O_DIRECT` write and read of `size_mib` MiB with GNU `dd` (bs=1M) on
/// a fresh sparse raw file in `work`, as the guests' data disks start: the throughput the host
/// disk gives with no emulator in between. Timed by dd's summary line.
fn host_reference(work: &Path, size_mib: u64) -> Result<RunResult> {
    let file = work.join("host-data.raw");
    let _ = std::fs::remove_file(&file);
    qemu_img(&["create", "-q", "-f", "raw", &file.to_string_lossy(), &format!("{}M", size_mib.max(DATA_IMAGE_MIB))])?;
    let count = format!("count={size_mib}");
    let dd = |dir: Direction| -> Result<Measurement> {
        let f = file.display();
        let args = match dir {
            Direction::Write => {
                vec!["if=/dev/zero".to_string(), format!("of={f}"), "oflag=direct".into(), "conv=notrunc".into()]
            }
            Direction::Read => vec![format!("if={f}"), "of=/dev/null".into(), "iflag=direct".into()],
        };
        let out =
            Command::new("dd").args(&args).args(["bs=1M", &count]).output().map_err(|e| format!("host dd: {e}"))?;
        let text = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!("host dd {}: {}", args.join(" "), text.trim()));
        }
        let (bytes, secs) = text
            .lines()
            .find_map(parse_dd_summary)
            .filter(|&(b, s)| b == size_mib << 20 && s > 0.0)
            .ok_or(format!("host dd {}: no transfer summary in {text:?}", dir.name()))?;
        Ok(Measurement { dir, bytes, secs, source: TimeSource::Dd })
    };
    let measurements = DIRECTIONS.iter().map(|&d| dd(d)).collect::<Result<Vec<_>>>();
    let _ = std::fs::remove_file(&file);
    Ok(RunResult { run: 0, format: "raw".into(), boot_wall: 0.0, measurements: measurements? })
}

pub fn run(args: &[String]) -> Result<()> {
    let usage = "usage: cargo xtask bench-disk [--runs N] [--only mimic|qemu] [--size-mib N] [--timeout SECS]";
    let o = parse_args(args).map_err(|e| format!("bench-disk: {e}\n{usage}"))?;
    let root = guests::repo_root();
    let g = guests::ensure(false)?;
    let lay = Layout::new(&root);
    let disk = rootdisk::ensure(&lay)?;
    let qemu = if o.only.as_deref() == Some("mimic") { None } else { find_on_path("qemu-system-riscv64") };
    if o.only.as_deref() == Some("qemu") && qemu.is_none() {
        return Err("bench-disk: --only qemu, but qemu-system-riscv64 is not on PATH".into());
    }
    if qemu.is_none() && o.only.is_none() {
        println!("bench-disk: qemu-system-riscv64 not found: no comparison");
    }
    let mimic = if o.only.as_deref() != Some("qemu") { Some(mimic_binary(&root)?) } else { None };
    let work = target_dir(&root).join("bench-disk");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let s = Setup {
        firmware: g.firmware,
        image: g.image,
        initramfs: disk.initramfs,
        rootfs: disk.rootfs,
        work,
        size_mib: o.size_mib,
    };
    let show = |bin: &Path, q: bool| {
        let w = s.work.join("W");
        println!("bench-disk: {:?}", emu_cmd(&s, bin, q, &w.join("root.raw"), &w.join("data.FMT"), "FMT"));
    };
    if let Some(m) = &mimic {
        show(m, false);
    }
    if let Some(q) = &qemu {
        show(q, true);
    }
    let mut contenders: Vec<(&str, &PathBuf, bool, u64)> = Vec::new();
    if let Some(m) = &mimic {
        contenders.push(("mimic", m, false, 15 * 60));
    }
    if let Some(q) = &qemu {
        contenders.push(("qemu", q, true, 5 * 60));
    }
    let (mut rm, mut rq, mut rh) = (Vec::new(), Vec::new(), Vec::new());
    let (mut notes, mut errors) = (Vec::new(), Vec::new());
    let mut direct = None;
    for run in 1..=o.runs {
        for format in FORMATS {
            for (name, bin, is_qemu, secs) in turn_order(run, &contenders) {
                let label = format!("{name}-{format}-{run}");
                println!("bench-disk: {name} {format} run {run}/{}", o.runs);
                let t = Duration::from_secs(o.timeout.unwrap_or(secs));
                match run_one(&s, &label, bin, is_qemu, format, t, &mut direct, &mut notes) {
                    Ok(r) if is_qemu => rq.push(RunResult { run, ..r }),
                    Ok(r) => rm.push(RunResult { run, ..r }),
                    Err(e) => {
                        eprintln!("bench-disk: {e}");
                        errors.push(e);
                    }
                }
            }
            if format == "raw" {
                match host_reference(&s.work, o.size_mib) {
                    Ok(r) => {
                        for m in &r.measurements {
                            println!("  host dd-{run}: {:<5} {:>8.2} MB/s", m.dir.name(), m.mb_per_s());
                        }
                        rh.push(r);
                    }
                    // Only context for the table: a host that refuses it costs the column, not the run.
                    Err(e) => notes.push(format!("run {run}: {e}")),
                }
            }
        }
    }
    let how = match direct {
        Some(false) => "conv=fsync writes, reads after drop_caches (no direct I/O in busybox dd)",
        _ => "O_DIRECT in the guest (oflag=direct, iflag=direct)",
    };
    println!(
        "\nbench-disk: medians of {} run(s); dd bs=1M count={} ({} MiB) on /dev/vdb, {how}; data disk cache={DATA_CACHE}; \
         MB/s = 10^6 bytes/s, timed in the guest by /proc/timer_list (ns; /proc/uptime, 10 ms, without it); \
         host dd: GNU dd on the host, same size and flags, on a raw file next to the images",
        o.runs, o.size_mib, o.size_mib
    );
    print!("{}", table(&rm, &rq, &rh));
    let paired = paired_ratios(&rm, &rq);
    if !paired.is_empty() {
        println!("\nmimic/qemu run by run (each run's pair back to back, MB/s ratios):");
        print!("{paired}");
    }
    for n in &notes {
        println!("note: {n}");
    }
    if !errors.is_empty() {
        return Err(format!("{} run(s) failed:\n  {}", errors.len(), errors.join("\n  ")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUSYBOX_HELP: &str = "BusyBox v1.37.0 (Debian 1:1.37.0-6+b9) multi-call binary.\n\n\
        Usage: dd [if=FILE] [of=FILE] [ibs=N obs=N/bs=N] [count=N] [skip=N] [seek=N]\n\
        \t[conv=notrunc|noerror|sync|fsync]\n\
        \t[iflag=skip_bytes|count_bytes|fullblock|direct] [oflag=seek_bytes|append|direct]\n";

    #[test]
    fn finds_direct_io_in_dd_help() {
        assert_eq!(direct_support(BUSYBOX_HELP), (true, true));
        // Debian's busybox 1.37 (the guest's): one option per line.
        let debian = "\tconv=fsync\tPhysically write data out before finishing\r\n\
                      \tiflag=direct\tO_DIRECT input\r\n\toflag=direct\tO_DIRECT output\r\n\
                      \tstatus=noxfer\tSuppress rate output\r\n";
        assert_eq!(direct_support(debian), (true, true));
        assert_eq!(direct_support("[iflag=skip_bytes|fullblock] [oflag=seek_bytes|append]"), (false, false));
        assert_eq!(direct_support("[iflag=direct]"), (true, false));
        // `direct` elsewhere (conv=, prose) does not count.
        assert_eq!(direct_support("[conv=direct] directly [oflag=directory]"), (false, false));
    }

    #[test]
    fn block_stat_counts_requests_and_their_size() {
        let before =
            parse_block_stat("cat /sys/block/vdb/stat\n      1  0  8  0  0  0  0  0  0  0  0  0  0  0  0  0  0\n")
                .unwrap();
        let after =
            parse_block_stat("  257  0  524296  7848  256  0  524288  8015  0  7756  15863  0  0  0  0  0  0").unwrap();
        assert_eq!(after.requests_since(&before, Direction::Read), (256, 1048576.0));
        assert_eq!(after.requests_since(&before, Direction::Write), (256, 1048576.0));
        assert_eq!(after.requests_since(&after, Direction::Read), (0, 0.0));
        assert_eq!(parse_block_stat("No such file or directory"), None);
    }

    #[test]
    fn cpu_time_comes_from_schedstat_per_thread_name() {
        assert_eq!(parse_schedstat("1500000000 4200000000 812\n"), Some(1.5));
        assert_eq!(parse_schedstat(""), None);
        let before = vec![("main".to_string(), 10.0), ("mimic-block-io".to_string(), 1.0)];
        let after =
            vec![("main".to_string(), 11.5), ("mimic-block-io".to_string(), 1.002), ("mimic-jit".to_string(), 0.25)];
        let d = cpu_since(&before, &after);
        assert_eq!(d.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["main", "mimic-jit"]);
        assert!((d[0].1 - 1.5).abs() < 1e-9);
        assert_eq!(
            diagnosis_line(Some((256, 1048576.0)), &d),
            "256 requests of 1024 KiB on average; emulator threads on-CPU s: main 1.50, mimic-jit 0.25"
        );
    }

    #[test]
    fn guest_commands() {
        let tl = "tl() { T=; while read -r x y z _; do if [ \"$x $y\" = 'now at' ]; then T=$z; break; fi; \
                  done < /proc/timer_list; }; ";
        assert_eq!(
            guest_command(Direction::Write, 256, true),
            format!(
                "{tl}read a _ < /proc/uptime; tl; c=$T; dd if=/dev/zero of=/dev/vdb bs=1M count=256 oflag=direct; \
                 s=$?; tl; d=$T; read b _ < /proc/uptime; echo DISK-''RESULT write status=$s t0=$a t1=$b n0=$c n1=$d"
            )
        );
        assert_eq!(
            guest_command(Direction::Read, 256, true),
            format!(
                "{tl}read a _ < /proc/uptime; tl; c=$T; dd if=/dev/vdb of=/dev/null bs=1M count=256 iflag=direct; \
                 s=$?; tl; d=$T; read b _ < /proc/uptime; echo DISK-''RESULT read status=$s t0=$a t1=$b n0=$c n1=$d"
            )
        );
        assert!(guest_command(Direction::Write, 8, false).contains("count=8 conv=fsync;"));
        let r = guest_command(Direction::Read, 8, false);
        assert!(r.starts_with(&format!("{tl}sync; echo 3 > /proc/sys/vm/drop_caches; read a _")), "{r}");
        // The echo of the typed line must not look like a result.
        assert!(!r.contains(RESULT_MARKER));
    }

    #[test]
    fn parses_dd_output_timed_by_uptime() {
        let out = "256+0 records in\n256+0 records out\nDISK-RESULT write status=0 t0=12.34 t1=17.46\n";
        let m = parse_dd_output(out, Direction::Write, 256).unwrap();
        assert_eq!(m.bytes, 256 << 20);
        assert_eq!(m.secs, 5.12);
        assert_eq!(m.source, TimeSource::Uptime);
        assert!((m.mb_per_s() - 52.4288).abs() < 1e-9, "{}", m.mb_per_s());
        // CRs from the serial console, a kernel line in between.
        let out = "\r256+0 records in\r\n[  9.1] random: crng init done\r\n256+0 records out\r\n\
                   DISK-RESULT read status=0 t0=100.00 t1=100.50\r\n";
        assert_eq!(parse_dd_output(out, Direction::Read, 256).unwrap().secs, 0.5);
    }

    #[test]
    fn parses_dd_output_timed_by_the_ns_clock() {
        let out = "256+0 records out\nDISK-RESULT read status=0 t0=4.30 t1=4.57 n0=4300000000 n1=4573500000\n";
        let m = parse_dd_output(out, Direction::Read, 256).unwrap();
        assert_eq!((m.secs, m.source), (0.2735, TimeSource::TimerList));
        // Without /proc/timer_list the fields are empty: /proc/uptime then.
        let out = "256+0 records out\nDISK-RESULT read status=0 t0=4.30 t1=4.57 n0= n1=\n";
        let m = parse_dd_output(out, Direction::Read, 256).unwrap();
        assert_eq!((m.secs, m.source), (0.27, TimeSource::Uptime));
        // A clock that did not move is no measurement.
        let out = "256+0 records out\nDISK-RESULT read status=0 t0=4.30 t1=4.57 n0=5 n1=5\n";
        assert_eq!(parse_dd_output(out, Direction::Read, 256).unwrap().source, TimeSource::Uptime);
    }

    #[test]
    fn prefers_dd_summary_when_printed() {
        let out = "256+0 records in\n256+0 records out\n\
                   268435456 bytes (256.0MB) copied, 2.500000 seconds, 102.4MB/s\n\
                   DISK-RESULT read status=0 t0=1.00 t1=3.51\n";
        let m = parse_dd_output(out, Direction::Read, 256).unwrap();
        assert_eq!((m.secs, m.source), (2.5, TimeSource::Dd));
        assert_eq!(
            parse_dd_summary("268435456 bytes (268 MB, 256 MiB) copied, 2.3 s, 115 MB/s"),
            Some((268435456, 2.3))
        );
        assert_eq!(parse_dd_summary("256+0 records out"), None);
    }

    #[test]
    fn rejects_failed_or_short_dd() {
        let ok_rec = "256+0 records in\n256+0 records out\n";
        let e = parse_dd_output(
            "dd: /dev/vdb: Invalid argument\nDISK-RESULT write status=1 t0=1.00 t1=1.01",
            Direction::Write,
            256,
        )
        .unwrap_err();
        assert!(e.contains("status 1") && e.contains("Invalid argument"), "{e}");
        assert!(parse_dd_output("100+1 records out\nDISK-RESULT write status=0 t0=1 t1=2", Direction::Write, 256)
            .unwrap_err()
            .contains("100+1"));
        assert!(
            parse_dd_output(&format!("{ok_rec}DISK-RESULT read status=0 t0=1 t1=2"), Direction::Write, 256).is_err()
        );
        assert!(parse_dd_output(ok_rec, Direction::Write, 256).is_err());
        assert!(parse_dd_output("DISK-RESULT write status=0 t0=1 t1=2", Direction::Write, 256).is_err());
        assert!(parse_dd_output(&format!("{ok_rec}DISK-RESULT write status=0 t0=5.00 t1=5.00"), Direction::Write, 256)
            .unwrap_err()
            .contains("too short"));
        assert!(
            parse_dd_output(&format!("{ok_rec}DISK-RESULT write status=0 t0=x t1=2"), Direction::Write, 256).is_err()
        );
    }

    fn run_with(format: &str, write_s: f64, read_s: f64, boot: f64) -> RunResult {
        let m = |dir, secs| Measurement { dir, bytes: 100_000_000, secs, source: TimeSource::Uptime };
        RunResult {
            run: 0,
            format: format.into(),
            boot_wall: boot,
            measurements: vec![m(Direction::Write, write_s), m(Direction::Read, read_s)],
        }
    }

    #[test]
    fn table_has_medians_and_throughput_ratios() {
        // 100 MB per dd: MB/s = 100 / secs.
        let m = vec![
            run_with("raw", 10.0, 4.0, 20.0),
            run_with("qcow2", 20.0, 5.0, 22.0),
            run_with("raw", 5.0, 2.0, 30.0),
            run_with("qcow2", 20.0, 5.0, 24.0),
            run_with("raw", 8.0, 2.5, 26.0),
        ];
        let q = vec![run_with("raw", 1.0, 0.5, 3.0), run_with("qcow2", 2.0, 1.0, 4.0)];
        let host =
            vec![run_with("raw", 0.5, 0.25, 0.0), run_with("raw", 0.4, 0.2, 0.0), run_with("raw", 0.5, 0.3, 0.0)];
        let t = table(&m, &q, &host);
        let row = |a: &str, b: &str| -> Vec<String> {
            t.lines()
                .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
                .find(|w| w.len() >= 2 && w[0] == a && w[1] == b)
                .unwrap_or_else(|| panic!("no row {a} {b} in\n{t}"))
        };
        assert_eq!(
            row("format", "direction"),
            ["format", "direction", "mimic", "MB/s", "qemu", "MB/s", "mimic/qemu", "host", "dd", "MB/s"]
        );
        assert_eq!(row("raw", "write"), ["raw", "write", "12.50", "100.00", "0.12x", "200.00"]);
        assert_eq!(row("raw", "read"), ["raw", "read", "40.00", "200.00", "0.20x", "400.00"]);
        assert_eq!(row("qcow2", "write"), ["qcow2", "write", "5.00", "50.00", "0.10x", "-"]);
        assert_eq!(row("qcow2", "read"), ["qcow2", "read", "20.00", "100.00", "0.20x", "-"]);
        assert_eq!(row("boot", "to"), ["boot", "to", "READY", "(host", "s)", "24.00", "3.50", "-", "-"]);
        // Rows in order: header, rule, raw write/read, qcow2 write/read, boot.
        let firsts: Vec<&str> = t.lines().map(|l| l.split_whitespace().next().unwrap_or("")).collect();
        assert_eq!(firsts[2..6], ["raw", "raw", "qcow2", "qcow2"]);
        // Missing contender: dashes, no ratio.
        let t = table(&m, &[], &[]);
        assert!(
            t.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["raw", "write", "12.50", "-", "-", "-"]),
            "{t}"
        );
    }

    #[test]
    fn paired_ratios_pair_runs_by_number_and_format() {
        let numbered = |run, r: RunResult| RunResult { run, ..r };
        // Run 2 of mimic's raw boot failed: its run 3 pairs with QEMU's run 3, not its run 2.
        let m = vec![
            numbered(1, run_with("raw", 10.0, 4.0, 1.0)),
            numbered(3, run_with("raw", 5.0, 2.0, 1.0)),
            numbered(1, run_with("qcow2", 20.0, 5.0, 1.0)),
        ];
        let q = vec![
            numbered(1, run_with("raw", 5.0, 4.0, 1.0)),
            numbered(2, run_with("raw", 1.0, 1.0, 1.0)),
            numbered(3, run_with("raw", 10.0, 1.0, 1.0)),
            numbered(1, run_with("qcow2", 10.0, 10.0, 1.0)),
        ];
        let text = paired_ratios(&m, &q);
        let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split_whitespace().collect()).collect();
        let expected: [&[&str]; 4] = [
            &["raw", "write", "0.50", "2.00", "(median", "1.25x)"],
            &["raw", "read", "1.00", "0.50", "(median", "0.75x)"],
            &["qcow2", "write", "0.50", "(median", "0.50x)"],
            &["qcow2", "read", "2.00", "(median", "2.00x)"],
        ];
        assert_eq!(lines, expected, "{text}");
        assert_eq!(paired_ratios(&m, &[]), "");
    }

    #[test]
    fn options() {
        let o = parse_args(&["--runs".into(), "1".into(), "--size-mib".into(), "64".into()]).unwrap();
        assert_eq!((o.runs, o.size_mib, o.only), (1, 64, None));
        let o = parse_args(&[]).unwrap();
        assert_eq!((o.runs, o.size_mib), (3, 256));
        assert!(parse_args(&["--only".into(), "bochs".into()]).is_err());
        assert!(parse_args(&["--size-mib".into(), "0".into()]).is_err());
        assert!(parse_args(&["--runs".into()]).is_err());
    }
}
