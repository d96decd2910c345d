//! `cargo xtask bench-linux [--arch riscv64|arm64] [--runs N] [--steps a,b,..] [--only mimic|qemu]
//! [--timeout SECS] [--no-native]`: the Linux benchmark of shared/GUESTS.md ("Benchmark
//! protocol"). Boots the `--arch` guest (default riscv64: Debian kernel + OpenSBI; arm64: Debian
//! kernel on a Cortex-A57; see `guests.rs`) with a benchmark initramfs on mimic and on QEMU
//! (`qemu-system-riscv64` / `qemu-system-aarch64`) alternately, `--runs` times each (default 3;
//! mimic first in odd runs, QEMU first in even ones, [`turn_order`]), and prints per-step
//! medians and the ratio mimic/QEMU, next to the same commands run natively on the host (amd64
//! busybox), then the ratio of each run's back-to-back pair for the total and the boot
//! ([`paired_ratios`]). The architectures differ only in their [`Board`] row.
//!
//! - The initramfs (`.cache/guests/<arch>/bench-initramfs.cpio.gz`, recorded in that folder's
//!   `SHA256SUMS`) is the guest's busybox-static with the `/init` of [`init_script`]: it mounts
//!   proc/sys/devtmpfs, prints `MIMIC-BENCH-READY uptime=<s>`, runs the workload (each timed step
//!   one fresh `/bin/busybox` exec) printing `STEP <name> <seconds> <checksum>` per step, then
//!   `BENCH-DONE`, then `poweroff -f`.
//! - Workload ([`workload_script`]): `corpus` (setup, not in the total) builds a 32 MiB corpus
//!   from the guest's own busybox binary, `od -A x -t x1 -v` of it (5.3 MiB of hex text), the two
//!   concatenated 5 times and cut to 32 MiB; then `sha256sum` and `md5sum` of the corpus,
//!   `gzip -c` and `gunzip -c` of its first 16 MiB, `bzip2 -9 -c` of its first 8 MiB, and an
//!   `awk` loop of 10^6 iterations. Step times come from `/proc/uptime` in the guest
//!   (centiseconds; busybox's `date` has no `%N`). Checksums (the hash printed, or the md5 of the
//!   step's output) must agree between mimic and QEMU, else the command fails.
//! - Emulator command line ([`emulator_args`]), riscv64: `-M virt -m 512M -smp 1 -nographic
//!   -bios fw_dynamic.bin -kernel Image -initrd bench-initramfs.cpio.gz -append "console=ttyS0
//!   quiet"`; arm64: `-M virt -cpu cortex-a57 -m 512M -smp 1 -nographic -kernel Image -initrd
//!   bench-initramfs.cpio.gz -append "console=ttyAMA0 quiet"`; QEMU also `-accel tcg -nic none`.
//!   `--steps` adds `bench_steps=a,b` to the kernel command line, which `/init` reads.
//! - Measured on the host: wall time from spawning the emulator to the READY line, from READY to
//!   `BENCH-DONE`, and the peak RSS: `VmHWM` of `/proc/<pid>/status`, sampled every 200 ms and at
//!   `BENCH-DONE`. A run that exceeds its timeout (mimic 20 min, QEMU 5 min, or `--timeout`)
//!   is killed and the command fails. Console logs go to `$CARGO_TARGET_DIR/bench-linux/`
//!   (riscv64) or `$CARGO_TARGET_DIR/bench-linux/arm64/`.
//! - mimic is built (`cargo build --release -p mimic-cli`) unless `MIMIC=/path/to/mimic` is set.
//! - Native reference: `busybox` on PATH, else a cached `.cache/guests/host/busybox` (fetched with
//!   `apt-get download busybox-static` for the host's architecture); runs the same workload
//!   script with the guest's busybox binary as the corpus seed, in `/dev/shm`.

use crate::guests::{self, Arch, Layout};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, String>;

/// The benchmark initramfs, in the guest architecture's cache folder.
pub const BENCH_INITRAMFS: &str = "bench-initramfs.cpio.gz";
/// Starts the line that tells user space is up (then ` uptime=<seconds>`).
pub const READY_MARKER: &str = "MIMIC-BENCH-READY";
/// The last line of a complete workload.
pub const DONE_MARKER: &str = "BENCH-DONE";
/// The steps in the order they run; `corpus` is setup (timed, but not in the total).
pub const STEPS: [&str; 7] = ["corpus", "sha256", "md5", "gzip", "gunzip", "bzip2", "awk"];
const SETUP_STEP: &str = "corpus";

/// What the benchmark's command lines need to know about a guest architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Board {
    pub arch: Arch,
    /// QEMU's system emulator for it.
    pub qemu: &'static str,
    /// `-cpu` (`None`: the board's default CPU).
    pub cpu: Option<&'static str>,
    /// The guest's kernel command line (plus `bench_steps=` when `--steps` selects some).
    pub append: &'static str,
    /// Boots through `-bios fw_dynamic.bin` (OpenSBI) rather than straight into the kernel.
    pub firmware: bool,
    /// The console logs' folder, under `$CARGO_TARGET_DIR`.
    pub logs: &'static str,
}

/// One row per guest architecture, in [`Arch::ALL`] order.
pub const BOARDS: [Board; 2] = [
    Board {
        arch: Arch::Riscv64,
        qemu: "qemu-system-riscv64",
        cpu: None,
        append: "console=ttyS0 quiet",
        firmware: true,
        logs: "bench-linux",
    },
    Board {
        arch: Arch::Arm64,
        qemu: "qemu-system-aarch64",
        cpu: Some("cortex-a57"),
        append: "console=ttyAMA0 quiet",
        firmware: false,
        logs: "bench-linux/arm64",
    },
];

impl Board {
    pub fn of(arch: Arch) -> Board {
        BOARDS.into_iter().find(|b| b.arch == arch).expect("a Board row for every Arch")
    }
}

/// The emulator's arguments (mimic's, or QEMU's with `qemu`) to boot `board`'s guest with
/// `initramfs` and the kernel command line `append`; `firmware` is only used by boards that
/// boot through it.
pub fn emulator_args(
    board: &Board,
    qemu: bool,
    guest: &guests::Guest,
    initramfs: &Path,
    append: &str,
) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    if qemu {
        a.extend(["-accel", "tcg", "-nic", "none"].map(OsString::from));
    }
    a.extend(["-M", "virt"].map(OsString::from));
    if let Some(cpu) = board.cpu {
        a.extend(["-cpu", cpu].map(OsString::from));
    }
    a.extend(["-m", "512M", "-smp", "1", "-nographic"].map(OsString::from));
    if board.firmware {
        a.extend(["-bios".into(), guest.firmware.clone().into()]);
    }
    a.extend([
        "-kernel".into(),
        guest.image.clone().into(),
        "-initrd".into(),
        initramfs.into(),
        "-append".into(),
        append.into(),
    ]);
    a
}

/// Shell code of the workload (busybox ash). Expects `BB` (the busybox binary every step
/// executes), `W` (a RAM-backed working folder), `SEED` (the guest's busybox binary, whose bytes
/// seed the corpus) and `STEPS` (`all` or a comma-separated list of step names).
pub fn workload_script() -> String {
    r#"# --- workload (shared by the guest's /init and the native run) ---
stamp() { read t _ < /proc/uptime; T=$((${t%.*} * 100 + 1${t#*.} - 100)); }
want() { case ",$STEPS," in *,all,*|*,$1,*) return 0;; esac; return 1; }
md5of() { $BB md5sum "$1" > $W/sum; read C _ < $W/sum; }
step() {
	if [ "$4" != 0 ]; then
		echo "STEP-FAILED $1 status=$4"
	else
		d=$(($3 - $2)); printf 'STEP %s %d.%02d %s\n' "$1" $((d / 100)) $((d % 100)) "$C"
	fi
}
if want corpus || want sha256 || want md5 || want gzip || want gunzip || want bzip2; then
	stamp; a=$T
	$BB od -A x -t x1 -v $SEED > $W/text &&
	for i in 1 2 3 4 5; do $BB cat $SEED $W/text; done | $BB head -c 33554432 > $W/corpus &&
	$BB head -c 16777216 $W/corpus > $W/in16 && $BB head -c 8388608 $W/corpus > $W/in8; s=$?
	stamp; b=$T
	$BB rm -f $W/text
	$BB wc -c < $W/corpus > $W/sum; read C _ < $W/sum; C="bytes=$C"
	step corpus $a $b $s
fi
if want sha256; then
	stamp; a=$T; $BB sha256sum $W/corpus > $W/out; s=$?; stamp; b=$T
	read C _ < $W/out; step sha256 $a $b $s
fi
if want md5; then
	stamp; a=$T; $BB md5sum $W/corpus > $W/out; s=$?; stamp; b=$T
	read C _ < $W/out; step md5 $a $b $s
fi
if want gzip || want gunzip; then
	stamp; a=$T; $BB gzip -c $W/in16 > $W/in16.gz; s=$?; stamp; b=$T
	if want gzip; then md5of $W/in16.gz; step gzip $a $b $s; fi
fi
if want gunzip; then
	stamp; a=$T; $BB gunzip -c $W/in16.gz > $W/out16; s=$?; stamp; b=$T
	md5of $W/out16; $BB rm -f $W/out16; step gunzip $a $b $s
fi
if want bzip2; then
	stamp; a=$T; $BB bzip2 -9 -c $W/in8 > $W/in8.bz2; s=$?; stamp; b=$T
	md5of $W/in8.bz2; $BB rm -f $W/in8.bz2; step bzip2 $a $b $s
fi
if want awk; then
	stamp; a=$T
	$BB awk 'BEGIN { s = 0; for (i = 0; i < 1000000; i++) s = (s * 31 + i) % 1000003; print s }' > $W/out; s=$?
	stamp; b=$T
	read C _ < $W/out; step awk $a $b $s
fi
$BB rm -f $W/corpus $W/in16 $W/in16.gz $W/in8 $W/out $W/sum
echo BENCH-DONE
"#
    .to_string()
}

/// The benchmark initramfs's `/init`.
pub fn init_script() -> String {
    format!(
        r#"#!/bin/sh
# mimic's benchmark initramfs (built by `cargo xtask bench-linux`): busybox only.
export PATH=/bin HOME=/root
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
read up _ < /proc/uptime
echo "{READY_MARKER} uptime=$up"
read -r cmdline < /proc/cmdline
STEPS=all
for w in $cmdline; do case $w in bench_steps=*) STEPS=${{w#bench_steps=}};; esac; done
BB=/bin/busybox W=/tmp SEED=/bin/busybox
{}/bin/busybox poweroff -f
"#,
        workload_script()
    )
}

// ---------------------------------------------------------------------------------------------
// The benchmark initramfs: built from the cached busybox, recorded in SHA256SUMS.

fn bench_cpio(busybox: &[u8]) -> Result<Vec<u8>> {
    guests::initramfs_cpio_with_init(busybox, &init_script())
}

/// Makes sure `bench-initramfs.cpio.gz` is there, matches `SHA256SUMS` and holds what this
/// recipe builds from the cached busybox; (re)builds and records it otherwise.
fn ensure_initramfs(lay: &Layout) -> Result<PathBuf> {
    let path = lay.file(BENCH_INITRAMFS);
    let busybox = std::fs::read(lay.file(guests::BUSYBOX)).map_err(|e| format!("busybox: {e}"))?;
    let want = bench_cpio(&busybox)?;
    let sums_text = std::fs::read_to_string(lay.sums()).unwrap_or_default();
    let mut sums = guests::parse_sums(&sums_text);
    let check = guests::check_files(&lay.dir, &sums, &[BENCH_INITRAMFS]).remove(0).1;
    let current = check.is_ok() && {
        let mut have = Vec::new();
        std::fs::read(&path)
            .map(|gz| flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut have).is_ok() && have == want)
            .unwrap_or(false)
    };
    if current {
        return Ok(path);
    }
    let gz = guests::gzip_deterministic(&want)?;
    guests::write_atomic(&path, &gz)?;
    sums.insert(BENCH_INITRAMFS.to_string(), guests::sha256_file(&path).map_err(|e| e.to_string())?);
    guests::write_atomic(&lay.sums(), guests::format_sums(&sums).as_bytes())?;
    println!("bench-linux: built {BENCH_INITRAMFS} ({}), recorded in SHA256SUMS", guests::fmt_size(gz.len() as u64));
    Ok(path)
}

// ---------------------------------------------------------------------------------------------
// Console lines

/// One step's result as the guest printed it.
#[derive(Clone, Debug, PartialEq)]
pub struct StepResult {
    pub name: String,
    pub secs: f64,
    pub checksum: String,
}

/// What a console line means to the benchmark.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// `MIMIC-BENCH-READY uptime=<s>`
    Ready(Option<f64>),
    /// `STEP <name> <seconds> <checksum>`
    Step(StepResult),
    /// `STEP-FAILED <name> <why>`
    Failed(String),
    /// `BENCH-DONE`
    Done,
}

/// Parses one console line (trailing `\r` and spaces allowed); `None` for anything else.
pub fn parse_line(line: &str) -> Option<Event> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix(READY_MARKER) {
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        let up = rest.split_whitespace().find_map(|w| w.strip_prefix("uptime=")).and_then(|v| v.parse().ok());
        return Some(Event::Ready(up));
    }
    if line == DONE_MARKER {
        return Some(Event::Done);
    }
    if let Some(rest) = line.strip_prefix("STEP-FAILED ") {
        return Some(Event::Failed(rest.trim().to_string()));
    }
    let rest = line.strip_prefix("STEP ")?;
    let w: Vec<&str> = rest.split_whitespace().collect();
    match w.as_slice() {
        [name, secs, checksum] => {
            let secs: f64 = secs.parse().ok().filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
            Some(Event::Step(StepResult { name: name.to_string(), secs, checksum: checksum.to_string() }))
        }
        _ => None,
    }
}

/// One complete run of the workload.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunResult {
    /// Host wall seconds from spawning the emulator to the READY line (emulators only).
    pub boot_wall: Option<f64>,
    /// The guest's uptime in the READY line.
    pub ready_uptime: Option<f64>,
    /// Host wall seconds from READY (or the start, natively) to `BENCH-DONE`.
    pub workload_wall: Option<f64>,
    pub steps: Vec<StepResult>,
    /// Peak resident set of the emulator process, KiB.
    pub peak_rss_kib: Option<u64>,
}

impl RunResult {
    pub fn step(&self, name: &str) -> Option<&StepResult> {
        self.steps.iter().find(|s| s.name == name)
    }
    /// Sum of the timed steps except the corpus setup.
    pub fn total(&self) -> f64 {
        self.steps.iter().filter(|s| s.name != SETUP_STEP).map(|s| s.secs).sum()
    }
}

/// Feeds console lines to a [`RunResult`]; errors on `STEP-FAILED`.
#[derive(Default)]
pub struct Collector {
    pub result: RunResult,
    pub ready_at: Option<f64>,
    pub done: bool,
}

impl Collector {
    /// `at`: host seconds since the start of the run.
    pub fn line(&mut self, line: &str, at: f64) -> Result<Option<Event>> {
        let ev = parse_line(line);
        match &ev {
            Some(Event::Ready(up)) => {
                self.ready_at = Some(at);
                self.result.boot_wall = Some(at);
                self.result.ready_uptime = *up;
            }
            Some(Event::Step(s)) => self.result.steps.push(s.clone()),
            Some(Event::Failed(why)) => return Err(format!("a step failed in the guest: {why}")),
            Some(Event::Done) => {
                self.done = true;
                self.result.workload_wall = Some(at - self.ready_at.unwrap_or(0.0));
            }
            None => {}
        }
        Ok(ev)
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics and the table

/// The median (mean of the middle two for an even count); `None` if empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// `a / b` when both are there and `b` is not zero.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// The runs of one contender.
pub struct Series<'a> {
    pub name: &'a str,
    pub runs: &'a [RunResult],
}

impl Series<'_> {
    fn median_of(&self, f: impl Fn(&RunResult) -> Option<f64>) -> Option<f64> {
        median(&self.runs.iter().filter_map(f).collect::<Vec<_>>())
    }
    fn step_median(&self, step: &str) -> Option<f64> {
        self.median_of(|r| r.step(step).map(|s| s.secs))
    }
    fn checksum(&self, step: &str) -> Option<&str> {
        self.runs.iter().find_map(|r| r.step(step)).map(|s| s.checksum.as_str())
    }
}

fn fmt_opt(v: Option<f64>, unit: &str) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}{unit}"))
}

fn fmt_ratio(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}x"))
}

/// The result table: per step the medians of mimic, QEMU and native, mimic/QEMU, and the
/// checksum; then the total, boot, wall and memory rows. `steps` are the step names to show.
pub fn table(mimic: &Series, qemu: &Series, native: &Series, steps: &[&str]) -> String {
    let mut rows: Vec<[String; 6]> = vec![[
        "step".into(),
        format!("{} s", mimic.name),
        format!("{} s", qemu.name),
        format!("{}/{}", mimic.name, qemu.name),
        format!("{} s", native.name),
        "checksum".into(),
    ]];
    for &s in steps {
        let (m, q, n) = (mimic.step_median(s), qemu.step_median(s), native.step_median(s));
        let label = if s == SETUP_STEP { format!("{s} (setup)") } else { s.to_string() };
        let sum = mimic.checksum(s).or(qemu.checksum(s)).or(native.checksum(s)).unwrap_or("-");
        let sum: String = sum.chars().take(16).collect();
        rows.push([label, fmt_opt(m, ""), fmt_opt(q, ""), fmt_ratio(ratio(m, q)), fmt_opt(n, ""), sum]);
    }
    let total = |x: &Series| x.median_of(|r| (!r.steps.is_empty()).then(|| r.total()));
    let (m, q, n) = (total(mimic), total(qemu), total(native));
    rows.push([
        "total (w/o setup)".into(),
        fmt_opt(m, ""),
        fmt_opt(q, ""),
        fmt_ratio(ratio(m, q)),
        fmt_opt(n, ""),
        "".into(),
    ]);
    let boot = |x: &Series| x.median_of(|r| r.boot_wall);
    let (m, q) = (boot(mimic), boot(qemu));
    rows.push([
        "boot to READY (host wall)".into(),
        fmt_opt(m, ""),
        fmt_opt(q, ""),
        fmt_ratio(ratio(m, q)),
        "-".into(),
        "".into(),
    ]);
    let up = |x: &Series| x.median_of(|r| r.ready_uptime);
    let (m, q) = (up(mimic), up(qemu));
    rows.push([
        "guest uptime at READY".into(),
        fmt_opt(m, ""),
        fmt_opt(q, ""),
        fmt_ratio(ratio(m, q)),
        "-".into(),
        "".into(),
    ]);
    let wall = |x: &Series| x.median_of(|r| r.workload_wall);
    let (m, q, n) = (wall(mimic), wall(qemu), wall(native));
    rows.push([
        "READY to DONE (host wall)".into(),
        fmt_opt(m, ""),
        fmt_opt(q, ""),
        fmt_ratio(ratio(m, q)),
        fmt_opt(n, ""),
        "".into(),
    ]);
    let rss = |x: &Series| x.median_of(|r| r.peak_rss_kib.map(|k| k as f64 / 1024.0));
    let (m, q) = (rss(mimic), rss(qemu));
    rows.push([
        "peak RSS (MiB, VmHWM)".into(),
        fmt_opt(m, ""),
        fmt_opt(q, ""),
        fmt_ratio(ratio(m, q)),
        "-".into(),
        "".into(),
    ]);

    let mut widths = [0usize; 6];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        let mut line = format!("{:<w$}", r[0], w = widths[0]);
        for (j, c) in r.iter().enumerate().skip(1) {
            if j == 5 {
                let _ = write!(line, "  {c}");
            } else {
                let _ = write!(line, "  {c:>w$}", w = widths[j]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * 5));
            out.push('\n');
        }
    }
    out
}

/// mimic/QEMU run by run: run `i` of each contender ran back to back (see [`turn_order`]), so
/// its ratio is measured under nearly the same host load, while the table's ratio of medians
/// pairs runs that may be minutes apart. On a host whose speed drifts (a shared VM: the same
/// binary booted in 2.3 to 3.3 s within an hour) the spread of these shows how far a single
/// ratio can be trusted. One line for the workload total and one for the boot.
pub fn paired_ratios(mimic: &Series, qemu: &Series) -> String {
    let line = |what: &str, f: &dyn Fn(&RunResult) -> Option<f64>| {
        let ratios: Vec<f64> = mimic.runs.iter().zip(qemu.runs).filter_map(|(m, q)| ratio(f(m), f(q))).collect();
        if ratios.is_empty() {
            return String::new();
        }
        format!("{what:<26}{}\n", fmt_ratios(&ratios))
    };
    let total = |r: &RunResult| (!r.steps.is_empty()).then(|| r.total());
    let mut out = line("total (w/o setup)", &total);
    out.push_str(&line("boot to READY (host wall)", &|r: &RunResult| r.boot_wall));
    out
}

/// Ratios one after another and their median: `0.60 0.90  (median 0.75x)`.
pub fn fmt_ratios(ratios: &[f64]) -> String {
    let each: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    let med = median(ratios).map_or("-".into(), |m| format!("{m:.2}x"));
    format!("{}  (median {med})", each.join(" "))
}

/// Checks the checksums: every run of one contender prints the same ones, and mimic and QEMU
/// agree (errors); native differences are only notes (another busybox version, another host).
/// Returns (errors, notes).
pub fn check_checksums(mimic: &Series, qemu: &Series, native: &Series, steps: &[&str]) -> (Vec<String>, Vec<String>) {
    let (mut errors, mut notes) = (Vec::new(), Vec::new());
    for x in [mimic, qemu, native] {
        for &s in steps {
            let mut seen: Vec<&str> = x.runs.iter().filter_map(|r| r.step(s)).map(|r| r.checksum.as_str()).collect();
            seen.dedup();
            if seen.len() > 1 {
                let msg = format!("{}: step {s} printed different checksums in different runs: {seen:?}", x.name);
                if std::ptr::eq(x, native) {
                    notes.push(msg)
                } else {
                    errors.push(msg)
                }
            }
        }
    }
    for &s in steps {
        let (m, q, n) = (mimic.checksum(s), qemu.checksum(s), native.checksum(s));
        if let (Some(m), Some(q)) = (m, q) {
            if m != q {
                errors.push(format!("step {s}: {} printed {m}, {} printed {q}", mimic.name, qemu.name));
            }
        }
        if let Some(n) = n {
            for (x, v) in [(mimic, m), (qemu, q)] {
                if let Some(v) = v.filter(|v| *v != n) {
                    notes.push(format!("step {s}: {} printed {v}, native printed {n}", x.name));
                }
            }
        }
    }
    for x in [mimic, qemu, native] {
        for (i, r) in x.runs.iter().enumerate() {
            let missing: Vec<&&str> = steps.iter().filter(|s| r.step(s).is_none()).collect();
            if !missing.is_empty() {
                errors.push(format!("{} run {}: no result for {missing:?}", x.name, i + 1));
            }
        }
    }
    (errors, notes)
}

// ---------------------------------------------------------------------------------------------
// Running

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `cmd` (an emulator booting the benchmark initramfs, or the native script) to
/// `BENCH-DONE` and its exit, reading its stdout live; kills it past `timeout`.
/// The order in which the contenders of run `run` (counted from 1) go: as listed in odd runs,
/// reversed in even ones. Whoever runs first meets a host that has been idle, whoever runs
/// second one that has just been busy (page cache, clock speed, other tenants' load); taking
/// turns keeps that from favouring the same emulator in every run.
pub fn turn_order<T: Copy>(run: usize, contenders: &[T]) -> Vec<T> {
    let mut order = contenders.to_vec();
    if run.is_multiple_of(2) {
        order.reverse();
    }
    order
}

fn run_one(label: &str, mut cmd: Command, timeout: Duration, log: &Path, emulator: bool) -> Result<RunResult> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child: Child = cmd.spawn().map_err(|e| format!("{label}: cannot start {:?}: {e}", cmd.get_program()))?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel::<(f64, String)>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf).into_owned();
                    if tx.send((start.elapsed().as_secs_f64(), line)).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let mut logf = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut col = Collector::default();
    let mut hwm: Option<u64> = None;
    let sample = |hwm: &mut Option<u64>| {
        if emulator {
            if let Some(v) = vm_hwm_kib(pid) {
                *hwm = Some(hwm.map_or(v, |h| h.max(v)));
            }
        }
    };
    let kill = |child: &mut Child| {
        let _ = child.kill();
        let _ = child.wait();
    };
    let mut failure: Option<String> = None;
    let mut done_at: Option<Instant> = None;
    let status = loop {
        sample(&mut hwm);
        if start.elapsed() > timeout {
            kill(&mut child);
            failure = Some(format!("{label}: timed out after {} s, killed", timeout.as_secs()));
            break None;
        }
        if done_at.is_some_and(|d| d.elapsed() > Duration::from_secs(60)) {
            eprintln!("bench-linux: {label}: still running 60 s after BENCH-DONE (poweroff -f), killed");
            kill(&mut child);
            break None;
        }
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok((at, line)) => {
                let _ = write!(logf, "[{at:9.3}] {line}");
                match col.line(&line, at) {
                    Ok(Some(Event::Ready(_))) => println!("  {label}: READY after {at:.2} s (host wall)"),
                    Ok(Some(Event::Step(s))) => println!("  {label}: {:<8} {:>8.2} s  {}", s.name, s.secs, s.checksum),
                    Ok(Some(Event::Done)) => {
                        sample(&mut hwm);
                        done_at = Some(Instant::now());
                    }
                    Ok(_) => {}
                    Err(e) => {
                        kill(&mut child);
                        failure = Some(format!("{label}: {e}"));
                        break None;
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // Output closed: the process is exiting.
                let deadline = Instant::now() + Duration::from_secs(30);
                loop {
                    if let Ok(Some(_)) = child.try_wait() {
                        break;
                    }
                    if Instant::now() > deadline {
                        kill(&mut child);
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                break child.try_wait().ok().flatten();
            }
        }
    };
    let _ = reader.join();
    let err = err_reader.join().unwrap_or_default();
    if !err.trim().is_empty() {
        let _ = write!(logf, "--- stderr ---\n{err}");
    }
    let tail = || {
        let t: Vec<&str> = err.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
        if t.is_empty() {
            String::new()
        } else {
            format!("; stderr: {}", t.join(" | "))
        }
    };
    if let Some(f) = failure {
        return Err(format!("{f} (console log {}){}", log.display(), tail()));
    }
    if !col.done {
        return Err(format!(
            "{label}: exited ({}) before {DONE_MARKER} (console log {}){}",
            status.map_or("killed".into(), |s| s.to_string()),
            log.display(),
            tail()
        ));
    }
    if let Some(st) = status.filter(|s| !s.success()) {
        eprintln!("bench-linux: {label}: exit status {st} after {DONE_MARKER}");
    }
    col.result.peak_rss_kib = hwm;
    Ok(col.result)
}

pub fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or(root.join("target"))
}

/// `$MIMIC`, or a fresh release build of mimic.
pub fn mimic_binary(root: &Path) -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("MIMIC") {
        return Ok(PathBuf::from(bin));
    }
    let status = Command::new("cargo")
        .args(["build", "--release", "-p", "mimic-cli"])
        .current_dir(root)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("building mimic failed".into());
    }
    Ok(target_dir(root).join("release/mimic"))
}

/// A host busybox for the native reference: on PATH, else cached under `.cache/guests/host/`,
/// else fetched there with `apt-get download busybox-static` (the host's architecture).
fn host_busybox(root: &Path) -> std::result::Result<PathBuf, String> {
    if let Some(p) = find_on_path("busybox") {
        return Ok(p);
    }
    let dir = root.join(".cache/guests/host");
    let bin = dir.join("busybox");
    if bin.is_file() {
        return Ok(bin);
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let st = Command::new("apt-get")
        .args(["-q", "download", "busybox-static"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("apt-get: {e}"))?;
    if !st.success() {
        return Err("apt-get download busybox-static failed".into());
    }
    let deb = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("busybox-static_")))
        .ok_or("no busybox-static .deb downloaded")?;
    let tree = dir.join("pkg");
    let _ = std::fs::remove_dir_all(&tree);
    let st = Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&tree).status().map_err(|e| e.to_string())?;
    if !st.success() {
        return Err(format!("dpkg-deb -x {} failed", deb.display()));
    }
    let src = ["bin/busybox", "usr/bin/busybox"]
        .iter()
        .map(|p| tree.join(p))
        .find(|p| p.is_file())
        .ok_or("no busybox in busybox-static")?;
    std::fs::copy(&src, &bin).map_err(|e| e.to_string())?;
    println!("bench-linux: host busybox from {}", deb.file_name().unwrap_or_default().to_string_lossy());
    Ok(bin)
}

const USAGE: &str = "usage: cargo xtask bench-linux [--arch riscv64|arm64] [--runs N] [--steps a,b,..] [--only mimic|qemu] [--timeout SECS] [--no-native]";

struct Options {
    arch: Arch,
    runs: usize,
    steps: Vec<&'static str>,
    only: Option<String>,
    timeout: Option<u64>,
    native: bool,
}

fn parse_args(args: &[String]) -> Result<Options> {
    let mut o =
        Options { arch: Arch::Riscv64, runs: 3, steps: STEPS.to_vec(), only: None, timeout: None, native: true };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--no-native" {
            o.native = false;
            continue;
        }
        let v = it.next().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--arch" => {
                o.arch = Arch::ALL
                    .into_iter()
                    .find(|x| x.deb() == v)
                    .ok_or(format!("--arch takes {}", Arch::ALL.map(Arch::deb).join(" or ")))?
            }
            "--runs" => o.runs = v.parse().ok().filter(|&n| n > 0).ok_or("bad --runs")?,
            "--timeout" => o.timeout = Some(v.parse().map_err(|_| "bad --timeout")?),
            "--only" if v == "mimic" || v == "qemu" => o.only = Some(v.clone()),
            "--only" => return Err("--only takes mimic or qemu".into()),
            "--steps" => {
                let want: Vec<&str> = v.split(',').filter(|s| !s.is_empty()).collect();
                if let Some(bad) = want.iter().find(|s| !STEPS.contains(s)) {
                    return Err(format!("unknown step {bad} (steps: {})", STEPS.join(",")));
                }
                o.steps = STEPS.iter().copied().filter(|s| want.contains(s)).collect();
                // The corpus is built whenever a step needs it; show it then.
                if o.steps.iter().any(|s| !matches!(*s, "awk" | "corpus")) && !o.steps.contains(&SETUP_STEP) {
                    o.steps.insert(0, SETUP_STEP);
                }
            }
            _ => return Err(format!("unknown option {a}")),
        }
    }
    Ok(o)
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse_args(args).map_err(|e| format!("bench-linux: {e}\n{USAGE}"))?;
    let board = Board::of(o.arch);
    let root = guests::repo_root();
    let g = guests::ensure_arch(o.arch, false)?;
    let lay = Layout::for_arch(&root, o.arch);
    let initramfs = ensure_initramfs(&lay)?;
    let use_mimic = o.only.as_deref() != Some("qemu");
    let qemu = if o.only.as_deref() == Some("mimic") { None } else { find_on_path(board.qemu) };
    if o.only.as_deref() == Some("qemu") && qemu.is_none() {
        return Err(format!("bench-linux: --only qemu, but {} is not on PATH", board.qemu));
    }
    if qemu.is_none() && o.only.is_none() {
        println!("bench-linux: {} not found: no comparison", board.qemu);
    }
    let mimic = if use_mimic { Some(mimic_binary(&root)?) } else { None };
    let host_bb = if o.native {
        match host_busybox(&root) {
            Ok(p) => Some(p),
            Err(e) => {
                println!("bench-linux: no host busybox ({e}): no native reference");
                None
            }
        }
    } else {
        None
    };
    let logs = target_dir(&root).join(board.logs);
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let all = o.steps.len() == STEPS.len();
    let append =
        if all { board.append.to_string() } else { format!("{} bench_steps={}", board.append, o.steps.join(",")) };
    let steps_env = if all { "all".to_string() } else { o.steps.join(",") };
    let emu_cmd = |bin: &Path, is_qemu: bool| {
        let mut c = Command::new(bin);
        c.args(emulator_args(&board, is_qemu, &g, &initramfs, &append));
        c
    };
    if let Some(m) = &mimic {
        println!("bench-linux: {:?}", emu_cmd(m, false));
    }
    if let Some(q) = &qemu {
        println!("bench-linux: {:?}", emu_cmd(q, true));
    }
    // The native run's script and folder.
    let native_dir = {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        base.join(format!("mimic-bench-linux-{}", std::process::id()))
    };
    let native_script = logs.join("native-workload.sh");
    std::fs::write(&native_script, workload_script()).map_err(|e| e.to_string())?;

    let (mut rm, mut rq, mut rn) = (Vec::new(), Vec::new(), Vec::new());
    let result = (|| -> Result<()> {
        for run in 1..=o.runs {
            for is_qemu in turn_order(run, &[false, true]) {
                if let (false, Some(m)) = (is_qemu, &mimic) {
                    let t = Duration::from_secs(o.timeout.unwrap_or(20 * 60));
                    println!("bench-linux: mimic run {run}/{}", o.runs);
                    rm.push(run_one("mimic", emu_cmd(m, false), t, &logs.join(format!("mimic-{run}.log")), true)?);
                }
                if let (true, Some(q)) = (is_qemu, &qemu) {
                    let t = Duration::from_secs(o.timeout.unwrap_or(5 * 60));
                    println!("bench-linux: qemu run {run}/{}", o.runs);
                    rq.push(run_one("qemu", emu_cmd(q, true), t, &logs.join(format!("qemu-{run}.log")), true)?);
                }
            }
            if let Some(bb) = &host_bb {
                std::fs::create_dir_all(&native_dir).map_err(|e| e.to_string())?;
                let mut c = Command::new(bb);
                c.arg("sh")
                    .arg(&native_script)
                    .env("BB", bb)
                    .env("W", &native_dir)
                    .env("SEED", lay.file(guests::BUSYBOX))
                    .env("STEPS", &steps_env);
                println!("bench-linux: native run {run}/{}", o.runs);
                let r = run_one(
                    "native",
                    c,
                    Duration::from_secs(o.timeout.unwrap_or(5 * 60)),
                    &logs.join(format!("native-{run}.log")),
                    false,
                );
                let _ = std::fs::remove_dir_all(&native_dir);
                rn.push(r?);
            }
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&native_dir);
    result?;

    let sm = Series { name: "mimic", runs: &rm };
    let sq = Series { name: "qemu", runs: &rq };
    let sn = Series { name: "native", runs: &rn };
    println!(
        "\nbench-linux: medians of {} run(s); guest times from /proc/uptime (10 ms resolution); peak RSS = VmHWM of the emulator process",
        o.runs
    );
    print!("{}", table(&sm, &sq, &sn, &o.steps));
    let paired = paired_ratios(&sm, &sq);
    if !paired.is_empty() {
        println!("\nmimic/{} run by run (each run's pair back to back):", sq.name);
        print!("{paired}");
    }
    let (errors, notes) = check_checksums(&sm, &sq, &sn, &o.steps);
    for n in &notes {
        println!("note: {n}");
    }
    if let Some(bb) = &host_bb {
        let v = Command::new(bb)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_string());
        println!("native: {} ({})", bb.display(), v.unwrap_or_default());
    }
    if !errors.is_empty() {
        return Err(format!("checksum errors:\n  {}", errors.join("\n  ")));
    }
    if !rm.is_empty() && !rq.is_empty() {
        println!("checksums: mimic and QEMU agree on every step");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(steps: &[(&str, f64, &str)], boot: f64, rss: u64) -> RunResult {
        RunResult {
            boot_wall: Some(boot),
            ready_uptime: Some(boot / 2.0),
            workload_wall: Some(steps.iter().map(|s| s.1).sum::<f64>() + 1.0),
            steps: steps.iter().map(|&(n, s, c)| StepResult { name: n.into(), secs: s, checksum: c.into() }).collect(),
            peak_rss_kib: Some(rss),
        }
    }

    #[test]
    fn contenders_take_turns_going_first() {
        assert_eq!(turn_order(1, &["mimic", "qemu"]), ["mimic", "qemu"]);
        assert_eq!(turn_order(2, &["mimic", "qemu"]), ["qemu", "mimic"]);
        assert_eq!(turn_order(3, &["mimic", "qemu"]), ["mimic", "qemu"]);
        assert_eq!(turn_order(2, &["mimic"]), ["mimic"]);
    }

    #[test]
    fn parses_console_lines() {
        assert_eq!(parse_line("MIMIC-BENCH-READY uptime=2.51\r\n"), Some(Event::Ready(Some(2.51))));
        assert_eq!(parse_line("MIMIC-BENCH-READY"), Some(Event::Ready(None)));
        assert_eq!(parse_line("MIMIC-BENCH-READYX uptime=1"), None);
        assert_eq!(
            parse_line("STEP sha256 2.13 ab12cd\r"),
            Some(Event::Step(StepResult { name: "sha256".into(), secs: 2.13, checksum: "ab12cd".into() }))
        );
        assert_eq!(
            parse_line("  STEP corpus 0.50 bytes=33554432  "),
            Some(Event::Step(StepResult { name: "corpus".into(), secs: 0.5, checksum: "bytes=33554432".into() }))
        );
        // Malformed STEP lines are not results.
        assert_eq!(parse_line("STEP sha256 2.13"), None);
        assert_eq!(parse_line("STEP sha256 x ab"), None);
        assert_eq!(parse_line("STEP sha256 -1 ab"), None);
        assert_eq!(parse_line("STEP a 1 b c"), None);
        assert_eq!(parse_line("STEP-FAILED gzip status=1"), Some(Event::Failed("gzip status=1".into())));
        assert_eq!(parse_line("BENCH-DONE\r"), Some(Event::Done));
        assert_eq!(parse_line("[    0.000000] Linux version 6.12"), None);
    }

    #[test]
    fn collector_times_and_fails() {
        let mut c = Collector::default();
        c.line("junk\n", 0.1).unwrap();
        c.line("MIMIC-BENCH-READY uptime=1.20\n", 3.0).unwrap();
        c.line("STEP corpus 1.00 bytes=1\n", 4.0).unwrap();
        c.line("STEP awk 2.50 123\n", 7.0).unwrap();
        c.line("BENCH-DONE\n", 8.0).unwrap();
        assert!(c.done);
        assert_eq!(c.result.boot_wall, Some(3.0));
        assert_eq!(c.result.ready_uptime, Some(1.2));
        assert_eq!(c.result.workload_wall, Some(5.0));
        assert_eq!(c.result.total(), 2.5); // corpus (setup) is not in the total
        assert!(Collector::default().line("STEP-FAILED md5 status=2", 1.0).is_err());
    }

    #[test]
    fn median_and_ratio() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 2.0]), Some(2.0));
        assert_eq!(ratio(Some(10.0), Some(4.0)), Some(2.5));
        assert_eq!(ratio(Some(1.0), Some(0.0)), None);
        assert_eq!(ratio(None, Some(1.0)), None);
    }

    #[test]
    fn table_has_medians_and_ratios() {
        let m = vec![
            run_with(&[("sha256", 10.0, "aa"), ("awk", 40.0, "7")], 20.0, 200 * 1024),
            run_with(&[("sha256", 12.0, "aa"), ("awk", 60.0, "7")], 30.0, 300 * 1024),
            run_with(&[("sha256", 11.0, "aa"), ("awk", 50.0, "7")], 25.0, 250 * 1024),
        ];
        let q = vec![
            run_with(&[("sha256", 2.0, "aa"), ("awk", 10.0, "7")], 3.0, 100 * 1024),
            run_with(&[("sha256", 2.2, "aa"), ("awk", 12.0, "7")], 2.0, 100 * 1024),
        ];
        let n: Vec<RunResult> =
            vec![RunResult { boot_wall: None, peak_rss_kib: None, ..run_with(&[("sha256", 0.1, "aa")], 0.0, 0) }];
        let (sm, sq, sn) = (
            Series { name: "mimic", runs: &m },
            Series { name: "qemu", runs: &q },
            Series { name: "native", runs: &n },
        );
        let t = table(&sm, &sq, &sn, &["sha256", "awk"]);
        let row = |name: &str| -> Vec<String> {
            t.lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("no row {name} in\n{t}"))
                .split("  ")
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        };
        assert_eq!(row("sha256"), ["sha256", "11.00", "2.10", "5.24x", "0.10", "aa"]);
        assert_eq!(row("awk"), ["awk", "50.00", "11.00", "4.55x", "-", "7"]);
        assert_eq!(row("total"), ["total (w/o setup)", "61.00", "13.10", "4.66x", "0.10"]);
        assert_eq!(row("boot to READY"), ["boot to READY (host wall)", "25.00", "2.50", "10.00x", "-"]);
        assert_eq!(row("peak RSS"), ["peak RSS (MiB, VmHWM)", "250.00", "100.00", "2.50x", "-"]);
        let (errors, notes) = check_checksums(&sm, &sq, &sn, &["sha256", "awk"]);
        assert!(notes.is_empty(), "{notes:?}");
        // native has no awk: that is an error (a run without a result).
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("native run 1"));
    }

    #[test]
    fn paired_ratios_divide_each_run_by_its_partner() {
        let m = vec![run_with(&[("awk", 6.0, "7")], 3.0, 0), run_with(&[("awk", 9.0, "7")], 2.0, 0)];
        let q = vec![run_with(&[("awk", 10.0, "7")], 2.0, 0), run_with(&[("awk", 10.0, "7")], 4.0, 0)];
        let text = paired_ratios(&Series { name: "mimic", runs: &m }, &Series { name: "qemu", runs: &q });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("total (w/o setup)") && lines[0].ends_with("0.60 0.90  (median 0.75x)"), "{text}");
        assert!(lines[1].starts_with("boot to READY") && lines[1].ends_with("1.50 0.50  (median 1.00x)"), "{text}");
    }

    #[test]
    fn paired_ratios_are_empty_without_a_partner() {
        let m = vec![run_with(&[("awk", 6.0, "7")], 3.0, 0)];
        assert_eq!(paired_ratios(&Series { name: "mimic", runs: &m }, &Series { name: "qemu", runs: &[] }), "");
    }

    #[test]
    fn checksum_disagreement_is_an_error() {
        let m = vec![run_with(&[("gzip", 1.0, "aa"), ("awk", 1.0, "7")], 1.0, 1)];
        let q = vec![run_with(&[("gzip", 1.0, "bb"), ("awk", 1.0, "7")], 1.0, 1)];
        let n = vec![run_with(&[("gzip", 1.0, "aa"), ("awk", 1.0, "8")], 1.0, 1)];
        let (sm, sq, sn) = (
            Series { name: "mimic", runs: &m },
            Series { name: "qemu", runs: &q },
            Series { name: "native", runs: &n },
        );
        let (errors, notes) = check_checksums(&sm, &sq, &sn, &["gzip", "awk"]);
        assert_eq!(errors, ["step gzip: mimic printed aa, qemu printed bb"]);
        assert_eq!(notes.len(), 3, "{notes:?}"); // qemu gzip, mimic awk, qemu awk differ from native
                                                 // Runs of one emulator that disagree with each other.
        let m2 = vec![m[0].clone(), run_with(&[("gzip", 1.0, "cc"), ("awk", 1.0, "7")], 1.0, 1)];
        let (errors, _) = check_checksums(
            &Series { name: "mimic", runs: &m2 },
            &Series { name: "qemu", runs: &[] },
            &Series { name: "native", runs: &[] },
            &["gzip", "awk"],
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("different checksums"));
    }

    #[test]
    fn steps_option_adds_the_corpus() {
        let o = parse_args(&["--steps".into(), "awk,sha256".into(), "--runs".into(), "2".into()]).unwrap();
        assert_eq!(o.steps, ["corpus", "sha256", "awk"]);
        assert_eq!(o.runs, 2);
        assert_eq!(parse_args(&["--steps".into(), "awk".into()]).unwrap().steps, ["awk"]);
        assert!(parse_args(&["--steps".into(), "nope".into()]).is_err());
        assert!(parse_args(&["--only".into(), "bochs".into()]).is_err());
    }

    #[test]
    fn arch_option_defaults_to_riscv64_and_takes_arm64() {
        assert_eq!(parse_args(&[]).unwrap().arch, Arch::Riscv64);
        let o = parse_args(&["--arch".into(), "arm64".into(), "--only".into(), "qemu".into()]).unwrap();
        assert_eq!(o.arch, Arch::Arm64);
        assert_eq!(o.only.as_deref(), Some("qemu"));
        assert_eq!(parse_args(&["--arch".into(), "riscv64".into()]).unwrap().arch, Arch::Riscv64);
        let e = parse_args(&["--arch".into(), "aarch64".into()]).err().unwrap();
        assert_eq!(e, "--arch takes riscv64 or arm64");
        assert_eq!(parse_args(&["--arch".into()]).err().unwrap(), "--arch needs a value");
        assert!(USAGE.contains("[--arch riscv64|arm64]"));
    }

    #[test]
    fn every_arch_has_one_board() {
        for arch in Arch::ALL {
            assert_eq!(BOARDS.iter().filter(|b| b.arch == arch).count(), 1, "{arch:?}");
            assert_eq!(Board::of(arch).arch, arch);
        }
    }

    fn guest() -> guests::Guest {
        guests::Guest { image: "/c/Image".into(), firmware: "/c/fw_dynamic.bin".into(), initramfs: "/c/unused".into() }
    }

    fn args_of(board: Board, qemu: bool, append: &str) -> Vec<String> {
        emulator_args(&board, qemu, &guest(), Path::new("/c/bench.cpio.gz"), append)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn emulator_args_riscv64_boot_through_opensbi() {
        let b = Board::of(Arch::Riscv64);
        let tail = "-M virt -m 512M -smp 1 -nographic -bios /c/fw_dynamic.bin -kernel /c/Image -initrd /c/bench.cpio.gz -append";
        let want = |pre: &str| -> Vec<String> {
            format!("{pre}{tail}").split(' ').chain(["console=ttyS0 quiet"]).map(String::from).collect()
        };
        assert_eq!(args_of(b, false, b.append), want(""));
        assert_eq!(args_of(b, true, b.append), want("-accel tcg -nic none "));
        assert_eq!((b.qemu, b.logs), ("qemu-system-riscv64", "bench-linux"));
    }

    #[test]
    fn emulator_args_arm64_boot_the_kernel_on_a_cortex_a57() {
        let b = Board::of(Arch::Arm64);
        let tail =
            "-M virt -cpu cortex-a57 -m 512M -smp 1 -nographic -kernel /c/Image -initrd /c/bench.cpio.gz -append";
        let append = "console=ttyAMA0 quiet bench_steps=awk";
        let want = |pre: &str| -> Vec<String> {
            format!("{pre}{tail}").split(' ').chain([append]).map(String::from).collect()
        };
        assert_eq!(args_of(b, false, append), want(""));
        assert_eq!(args_of(b, true, append), want("-accel tcg -nic none "));
        assert_eq!(b.qemu, "qemu-system-aarch64");
        assert_ne!(b.logs, Board::of(Arch::Riscv64).logs, "the logs of one arch must not overwrite the other's");
    }

    #[test]
    fn init_script_shape() {
        let s = init_script();
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains("echo \"MIMIC-BENCH-READY uptime=$up\""));
        assert!(s.contains("bench_steps=*) STEPS=${w#bench_steps=};;"));
        assert!(s.trim_end().ends_with("/bin/busybox poweroff -f"));
        for step in STEPS {
            assert!(s.contains(&format!("step {step} ")), "no report for {step}");
        }
        assert!(s.contains("echo BENCH-DONE"));
    }
}
