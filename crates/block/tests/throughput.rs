//! Sequential throughput, for the performance note (ignored by default):
//! `cargo test -p mimic-block --release --test throughput -- --ignored --nocapture`

mod common;

use common::*;
use mimic_block::{open, BlockDevice, CacheMode, DriveOptions, Format};
use std::time::Instant;

#[test]
#[ignore]
fn sequential_throughput() {
    const TOTAL: u64 = 256 << 20;
    const CHUNK: usize = 1 << 20;
    let dir = scratch("throughput");
    for fmt in [Format::Raw, Format::Qcow2] {
        for cache in [CacheMode::None, CacheMode::Writeback] {
            let img = dir.join(format!("disk.{fmt}"));
            let _ = std::fs::remove_file(&img);
            match fmt {
                Format::Raw => create_raw(&img, TOTAL),
                Format::Qcow2 => create_qcow2(&img, "256M", &[]),
            }
            let mut d = open(&DriveOptions::new(&img).format(fmt).cache(cache)).unwrap();
            let mut buf = vec![0x5au8; CHUNK];
            let t = Instant::now();
            for off in (0..TOTAL).step_by(CHUNK) {
                d.write_at(off, &buf).unwrap();
            }
            d.flush().unwrap();
            let w = TOTAL as f64 / t.elapsed().as_secs_f64() / 1e6;
            let t = Instant::now();
            for off in (0..TOTAL).step_by(CHUNK) {
                d.read_at(off, &mut buf).unwrap();
            }
            let r = TOTAL as f64 / t.elapsed().as_secs_f64() / 1e6;
            eprintln!("{fmt:>5} cache={:<10} write {w:7.0} MB/s  read {r:7.0} MB/s", cache.name());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
