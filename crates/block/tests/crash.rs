//! SIGKILL in the middle of guest writes must leave a qcow2 image that `qemu-img check` accepts
//! (exit 0, or 3 = leaked clusters only; 2 = corruption fails the test), and data written before
//! a completed flush must survive.
//!
//! The writer is this test executable itself, re-run with an environment variable that makes
//! `crash_child` do the work (in normal runs `crash_child` returns at once).

mod common;

use common::*;
use mimic_block::{open, BlockDevice, CacheMode, DiscardMode, DriveOptions};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "MIMIC_BLOCK_CRASH_CHILD";
const READY: &str = "MIMIC-BLOCK-CHILD-READY";
const MIB: u64 = 1 << 20;
/// Region the child fills and flushes before it starts the random writes; never touched again.
const STABLE: (u64, u64) = (0, 2 * MIB);

fn stable_byte(i: u64) -> u8 {
    (i.wrapping_mul(31) >> 3) as u8 ^ 0xa5
}

/// The writer. Args in the environment: `path|cache|seed`.
#[test]
fn crash_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else { return };
    // Never outlive the parent test, and never run long even if nobody kills us.
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut parts = spec.split('|');
    let path = parts.next().unwrap().to_string();
    let cache: CacheMode = match parts.next().unwrap() {
        "writeback" => CacheMode::Writeback,
        "none" => CacheMode::None,
        "unsafe" => CacheMode::Unsafe,
        "writethrough" => CacheMode::Writethrough,
        other => panic!("cache {other}"),
    };
    let seed: u64 = parts.next().unwrap().parse().unwrap();
    let mut d = open(&DriveOptions::new(&path).cache(cache).discard(DiscardMode::Unmap)).unwrap();
    let size = d.size();

    let stable: Vec<u8> = (STABLE.0..STABLE.0 + STABLE.1).map(stable_byte).collect();
    d.write_at(STABLE.0, &stable).unwrap();
    d.flush().unwrap();
    // Straight to fd 1: libtest's output capture only intercepts `print!`.
    {
        use std::io::Write;
        let mut o = std::io::stdout().lock();
        writeln!(o, "{READY}").unwrap();
        o.flush().unwrap();
    }

    let mut rng = Rng(seed);
    let mut buf = vec![0u8; 512 * 1024];
    let lo = STABLE.0 + STABLE.1;
    let mut n: u64 = 0;
    loop {
        n += 1;
        let op = rng.below(100);
        let len = 1 + rng.below(if op < 10 { 256 * 1024 } else { 16 * 1024 });
        let off = lo + rng.below(size - lo - len);
        match op {
            0..=79 => {
                rng.fill(&mut buf[..len as usize]);
                d.write_at(off, &buf[..len as usize]).unwrap();
            }
            80..=89 => d.discard(off, len.max(64 * 1024).min(size - off)).unwrap(),
            90..=93 => d.write_zeroes(off, len).unwrap(),
            94..=96 => d.flush().unwrap(),
            _ => {
                let mut r = vec![0u8; len as usize];
                d.read_at(off, &mut r).unwrap();
            }
        }
        if n.is_multiple_of(64) && Instant::now() > deadline {
            std::process::exit(1);
        }
    }
}

fn run_round(round: usize, cache: &str, create_opts: &str) {
    let dir = scratch(&format!("crash_{round}_{cache}"));
    let img = dir.join("disk.qcow2");
    create_qcow2(&img, "1G", &["-o", create_opts]);

    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", "crash_child", "--test-threads=1"])
        .env(CHILD_ENV, format!("{}|{cache}|{}", p(&img), 0x9e37_79b9 + round as u64))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let t0 = Instant::now();
    let mut line = String::new();
    // (`read_line` blocks; the child exits by itself after 30 s, so this cannot hang forever.)
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            let st = child.wait().unwrap();
            panic!("child exited before it was ready: {st}");
        }
        if line.contains(READY) {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "child never got ready");
    }
    // Let it write for about a second, at a slightly different moment each round.
    std::thread::sleep(Duration::from_millis(900 + 50 * round as u64));
    assert!(child.try_wait().unwrap().is_none(), "the writer died on its own");
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    drop(out);
    assert!(!status.success());
    let file_size = std::fs::metadata(&img).unwrap().len();

    let (code, text) = qemu_img_check(&img, "qcow2");
    assert!(
        code == 0 || code == 3,
        "round {round} cache={cache} {create_opts}: qemu-img check exit {code} (2 = corruption)\n{}",
        text.lines().take(40).collect::<Vec<_>>().join("\n")
    );
    eprintln!(
        "round {round} cache={cache} {create_opts}: image grew to {} MiB, qemu-img check exit {code}",
        file_size / MIB
    );

    // Data flushed before the writes started survived (flush is a no-op for cache=unsafe).
    let mut d = open(&DriveOptions::new(&img).read_only(true)).unwrap();
    if cache != "unsafe" {
        let mut got = vec![0u8; STABLE.1 as usize];
        d.read_at(STABLE.0, &mut got).unwrap();
        let want: Vec<u8> = (STABLE.0..STABLE.0 + STABLE.1).map(stable_byte).collect();
        assert!(got == want, "round {round}: flushed data lost");
    }
    // And the whole image is readable by us.
    let mut b = vec![0u8; 4 * MIB as usize];
    let mut off = 0;
    while off < d.size() {
        d.read_at(off, &mut b).unwrap();
        off += b.len() as u64;
    }
    drop(d);
    // Reopen writable (leaks are harmless) and write: still consistent.
    let mut d = open(&DriveOptions::new(&img)).unwrap();
    d.write_at(100 * MIB, &[7; 70_000]).unwrap();
    d.flush().unwrap();
    drop(d);
    let (code, text) = qemu_img_check(&img, "qcow2");
    assert!(code == 0 || code == 3, "after reopen: {code}\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigkill_during_writes_leaves_a_consistent_image() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let rounds = [
        ("writeback", "cluster_size=4096"),
        ("writeback", "cluster_size=512"),
        ("none", "cluster_size=65536"),
        ("unsafe", "cluster_size=4096"),
        ("writethrough", "cluster_size=4096"),
        ("writeback", "cluster_size=65536,refcount_bits=1"),
    ];
    for (round, (cache, opts)) in rounds.iter().enumerate() {
        run_round(round, cache, opts);
    }
}
