//! A qcow2 image must stay consistent whichever of its writes was the last to reach the file.
//!
//! `crash.rs` kills a real writer at a random moment, which finds an ordering bug only when the
//! kill happens to land in its window. Here the image sits on a storage that lets the first N
//! writes through and silently drops the rest (a process killed after its Nth write), and the
//! same guest workload is replayed for N = 1, 2, ...: after each, `qemu-img check` must find no
//! corruption (leaked clusters are acceptable, as after a real kill).

mod common;

use common::*;
use imago::file::File as ImagoFile;
use imago::io_buffers::{IoVector, IoVectorMut};
use imago::qcow2::Qcow2;
use imago::storage::drivers::CommonStorageHelper;
use imago::{FormatAccess, FormatDriverBuilder, PermissiveImplicitOpenGate, Storage, StorageOpenOptions};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Writes that reached the file, and how many may.
#[derive(Debug)]
struct Budget {
    done: AtomicU64,
    limit: u64,
}

impl Budget {
    fn dead(&self) -> bool {
        self.done.load(Ordering::Relaxed) >= self.limit
    }
}

/// A file whose writes stop reaching it once its budget is spent.
#[derive(Debug)]
struct CrashFile {
    inner: ImagoFile,
    budget: Arc<Budget>,
}

impl fmt::Display for CrashFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "crash-after-{}({})", self.budget.limit, self.inner)
    }
}

impl Storage for CrashFile {
    fn mem_align(&self) -> usize {
        self.inner.mem_align()
    }
    fn req_align(&self) -> usize {
        self.inner.req_align()
    }
    fn size(&self) -> io::Result<u64> {
        self.inner.size()
    }
    fn get_filename(&self) -> Option<PathBuf> {
        self.inner.get_filename()
    }
    unsafe fn pure_readv(&self, bufv: IoVectorMut<'_>, offset: u64) -> io::Result<()> {
        // SAFETY: the caller's guarantees are passed on unchanged.
        unsafe { self.inner.pure_readv(bufv, offset) }
    }
    unsafe fn pure_writev(&self, bufv: IoVector<'_>, offset: u64) -> io::Result<()> {
        if self.budget.done.fetch_add(1, Ordering::Relaxed) >= self.budget.limit {
            return Ok(());
        }
        // SAFETY: the caller's guarantees are passed on unchanged.
        unsafe { self.inner.pure_writev(bufv, offset) }
    }
    fn flush(&self) -> io::Result<()> {
        self.inner.flush()
    }
    fn sync(&self) -> io::Result<()> {
        self.inner.sync()
    }
    unsafe fn invalidate_cache(&self) -> io::Result<()> {
        // SAFETY: the caller's guarantees are passed on unchanged.
        unsafe { self.inner.invalidate_cache() }
    }
    fn get_storage_helper(&self) -> &CommonStorageHelper {
        self.inner.get_storage_helper()
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const DISK: u64 = 32 << 20;

/// The guest: scattered writes of 1–64 KiB (new L2 tables, refblocks, a growing refcount
/// table with 512-byte clusters), some discards, a flush now and then. Stops at the first
/// operation after the storage died or failed.
fn workload(path: &Path, budget: Arc<Budget>) {
    let opts = StorageOpenOptions::new().write(true).filename(path);
    let file = std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
    let inner = ImagoFile::from_open_file(file, opts.clone()).unwrap();
    let storage = CrashFile { inner, budget: budget.clone() };
    let Ok(qcow2) = Qcow2::<CrashFile>::builder(storage)
        .write(true)
        .storage_open_options(opts)
        .open(PermissiveImplicitOpenGate::default())
    else {
        return;
    };
    let mut image = FormatAccess::new(qcow2);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut buf = vec![0u8; 64 << 10];
    for op in 0..160u64 {
        if budget.dead() {
            return;
        }
        let len = ((rng.next() % 128) + 1) * 512;
        let off = (rng.next() % ((DISK - len) / 512)) * 512;
        buf[..len as usize].fill(op as u8 | 1);
        let r = match op % 16 {
            7 => image.discard_to_any(off, len),
            15 => image.flush(),
            _ => image.write(&buf[..len as usize], off),
        };
        if r.is_err() {
            return;
        }
    }
    let _ = image.flush();
}

fn writes_of_the_whole_workload(base: &Path, dir: &Path) -> u64 {
    let path = dir.join("dry.qcow2");
    std::fs::copy(base, &path).unwrap();
    let budget = Arc::new(Budget { done: AtomicU64::new(0), limit: u64::MAX });
    workload(&path, budget.clone());
    budget.done.load(Ordering::Relaxed)
}

#[test]
fn every_prefix_of_the_qcow2_write_sequence_is_a_consistent_image() {
    let dir = scratch("crash-points");
    let base = dir.join("base.qcow2");
    run_ok(qemu_img(&["create", "-q", "-f", "qcow2", "-o", "cluster_size=512", base.to_str().unwrap(), "32M"]));
    let total = writes_of_the_whole_workload(&base, &dir);
    assert!(total > 200, "the workload should write a lot of metadata, wrote {total} times");

    // Every point for the first writes (image set-up, first tables), then a spread.
    let points: Vec<u64> = (1..=total.min(120)).chain((121..total).step_by(7)).collect();
    let mut leaks = 0;
    for &n in &points {
        let path = dir.join("crashed.qcow2");
        std::fs::copy(&base, &path).unwrap();
        workload(&path, Arc::new(Budget { done: AtomicU64::new(0), limit: n }));
        let out = run(qemu_img(&["check", "-f", "qcow2", path.to_str().unwrap()]));
        match out.status.code() {
            Some(0) => {}
            Some(3) => leaks += 1,
            _ => panic!(
                "killed after write {n} of {total}: qemu-img check {}:\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    eprintln!("{} crash points of {total} writes checked, {leaks} with leaks only", points.len());
    let _ = std::fs::remove_dir_all(&dir);
}
