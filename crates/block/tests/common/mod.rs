//! Helpers shared by the integration tests.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::borrow::BorrowMut;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A per-test scratch directory under the cargo target dir (ext4 here, so O_DIRECT works).
pub fn scratch(name: &str) -> PathBuf {
    let base = option_env!("CARGO_TARGET_TMPDIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("mimic-block-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn run(mut cmd: impl BorrowMut<Command>) -> Output {
    let cmd = cmd.borrow_mut();
    let out = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    out
}

/// Run a command that must succeed; return its stdout.
pub fn run_ok(mut cmd: impl BorrowMut<Command>) -> String {
    let cmd = cmd.borrow_mut();
    let out = run(&mut *cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn qemu_img(args: &[&str]) -> Command {
    let mut c = Command::new("qemu-img");
    c.args(args);
    c
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `qemu-img create -f qcow2 [extra...] path size`.
pub fn create_qcow2(path: &Path, size: &str, extra: &[&str]) {
    let mut c = Command::new("qemu-img");
    c.args(["create", "-q", "-f", "qcow2"]).args(extra).arg(path).arg(size);
    run_ok(&mut c);
}

/// `qemu-img check` exit code (0 clean, 2 corruption, 3 leaks only) and its output.
pub fn qemu_img_check(path: &Path, fmt: &str) -> (i32, String) {
    let out = run(qemu_img(&["check", "-f", fmt, p(path)]).env("LC_ALL", "C"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

pub fn assert_check_clean(path: &Path) {
    let (code, text) = qemu_img_check(path, "qcow2");
    assert_eq!(code, 0, "qemu-img check {path:?}:\n{text}");
}

/// `qemu-img compare` two images; true if identical.
pub fn images_identical(a: &Path, fa: &str, b: &Path, fb: &str) -> bool {
    let out = run(qemu_img(&["compare", "-f", fa, "-F", fb, p(a), p(b)]));
    match out.status.code() {
        Some(0) => true,
        Some(1) => false,
        _ => panic!(
            "qemu-img compare failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

pub fn sha256(path: &Path) -> [u8; 32] {
    let data = std::fs::read(path).unwrap();
    Sha256::digest(&data).into()
}

/// A raw file of `size` zero bytes.
pub fn create_raw(path: &Path, size: u64) {
    let f = std::fs::File::create(path).unwrap();
    f.set_len(size).unwrap();
}

/// Tiny deterministic PRNG (xorshift64*), so tests need no extra crates.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}
