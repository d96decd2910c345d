//! Corrupt qcow2 images: opening (and then using) them never panics; a file with the qcow2 magic
//! is never silently treated as raw.

mod common;

use common::*;
use mimic_block::{open, BlockDevice, DiscardMode, DriveOptions, Error, Format};
use proptest::prelude::*;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Valid images to mutate: (v3 with 4 KiB clusters, v2 with 512-byte clusters), both with data,
/// L2 tables and refcount blocks in use.
fn templates() -> &'static [Vec<u8>; 2] {
    static T: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    T.get_or_init(|| {
        let dir = scratch("fuzz_templates");
        let mk = |name: &str, opts: &str| -> Vec<u8> {
            let img = dir.join(name);
            create_qcow2(&img, "4M", &["-o", opts]);
            run_ok(Command::new("qemu-io").args([
                "-f",
                "qcow2",
                "-c",
                "write -P 0x11 0 8k",
                "-c",
                "write -P 0x22 1M 5k",
                "-c",
                "write -P 0x33 3M 4k",
                p(&img),
            ]));
            std::fs::read(&img).unwrap()
        };
        [mk("v3.qcow2", "cluster_size=4096"), mk("v2.qcow2", "cluster_size=512,compat=0.10")]
    })
}

fn case_dir() -> &'static PathBuf {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| scratch("fuzz_cases"))
}

/// Open `data` every way and exercise it; panics are the failure mode under test.
fn exercise(data: &[u8], tag: u64) {
    let img = case_dir().join(format!("case-{tag}-{:?}.qcow2", std::thread::current().id()));
    if std::env::var_os("FUZZ_TRACE").is_some() {
        eprintln!("case {tag}");
    }
    let has_magic = data.len() >= 4 && data[..4] == *b"QFI\xfb";
    for (fmt, read_only) in [(None, true), (Some(Format::Qcow2), true), (None, false)] {
        std::fs::write(&img, data).unwrap();
        let mut o = DriveOptions::new(&img).read_only(read_only).discard(DiscardMode::Unmap);
        o.format = fmt;
        match open(&o) {
            Ok(mut d) => {
                if has_magic || fmt == Some(Format::Qcow2) {
                    assert_eq!(d.format(), Format::Qcow2, "qcow2 magic opened as raw");
                }
                let size = d.size();
                let mut buf = vec![0u8; 8192];
                for off in [0, 4096, 1 << 20, 3 << 20, size.saturating_sub(8192)] {
                    if off + 8192 <= size {
                        let _ = d.read_at(off, &mut buf);
                    }
                }
                if !read_only {
                    for off in [0u64, 5000, 1 << 20, 2 << 20] {
                        if off + 6000 <= size {
                            let _ = d.write_at(off, &[0x5a; 6000]);
                        }
                    }
                    if size >= 8192 {
                        let _ = d.discard(0, 8192);
                    }
                    let _ = d.flush();
                }
            }
            Err(e) => {
                if has_magic {
                    assert!(matches!(e, Error::Corrupt { .. } | Error::Open { .. }), "unexpected error kind: {e:?}");
                }
                // The message must be printable and name the file.
                let msg = e.to_string();
                assert!(msg.contains("case-"), "{msg}");
            }
        }
    }
    let _ = std::fs::remove_file(&img);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400), failure_persistence: None, .. ProptestConfig::default() })]

    /// Random byte changes, mostly in the header, some anywhere in the metadata.
    #[test]
    fn mutated_images_never_panic(
        which in 0usize..2,
        header_edits in proptest::collection::vec((0usize..112, any::<u8>()), 0..6),
        body_edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        truncate in proptest::option::weighted(0.1, any::<prop::sample::Index>()),
        tag in any::<u64>(),
    ) {
        let mut data = templates()[which].clone();
        for (at, b) in header_edits {
            data[at] = b;
        }
        for (at, b) in body_edits {
            let i = at.index(data.len());
            data[i] = b;
        }
        if let Some(t) = truncate {
            let n = t.index(data.len());
            data.truncate(n);
        }
        exercise(&data, tag);
    }

    /// Whole header fields set to boundary values.
    #[test]
    fn header_fields_at_boundaries(
        which in 0usize..2,
        field in prop::sample::select(vec![4usize, 8, 16, 20, 24, 32, 36, 40, 48, 56, 60, 64, 72, 80, 88, 96, 100]),
        value in prop::sample::select(vec![0u64, 1, 2, 3, 8, 9, 21, 22, 63, 64, 0x200, 0xffff_ffff, 0x8000_0000_0000_0000, u64::MAX, 0x1000, 0x1_0000_0000]),
        tag in any::<u64>(),
    ) {
        let mut data = templates()[which].clone();
        // 4-byte fields at these offsets, 8-byte elsewhere
        let width = if [4usize, 16, 20, 32, 36, 56, 60, 96, 100].contains(&field) { 4 } else { 8 };
        let bytes = value.to_be_bytes();
        data[field..field + width].copy_from_slice(&bytes[8 - width..]);
        exercise(&data, tag);
    }
}

/// Every single-byte change of the first 112 header bytes to 0x00 and 0xff.
#[test]
fn every_header_byte() {
    for which in 0..2 {
        for at in 0..112 {
            for v in [0x00u8, 0xff] {
                let mut data = templates()[which].clone();
                data[at] = v;
                exercise(&data, (which * 1000 + at) as u64 * 2 + v as u64 % 2);
            }
        }
    }
}

fn be64_at(d: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(d[at..at + 8].try_into().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300), failure_persistence: None, .. ProptestConfig::default() })]

    /// Metadata table entries (refcount table, refcount block, L1, L2) pointing anywhere.
    #[test]
    fn metadata_entries_pointing_anywhere(
        which in 0usize..2,
        table in 0usize..4,
        entry in 0usize..64,
        value in prop_oneof![3 => any::<u64>(), 7 => prop::sample::select(vec![
            0u64, 1, 0x200, 0x1000, 0x1001, 0x8000_0000_0000_0000, 0x8000_0000_0000_0200,
            0x8000_0000_0010_0000, 0x00ff_ffff_ffff_fe00, 0x80ff_ffff_ffff_fe00, 0x4000_0000_0000_0000,
            0xc000_0000_0000_1000, u64::MAX, 0xffff, 0x0000_0000_0000_0003,
        ])],
        tag in any::<u64>(),
    ) {
        let mut data = templates()[which].clone();
        let rt = be64_at(&data, 48) as usize;
        let l1 = be64_at(&data, 40) as usize;
        let rb = (be64_at(&data, rt) & 0x00ff_ffff_ffff_fe00) as usize;
        let l2 = (be64_at(&data, l1) & 0x00ff_ffff_ffff_fe00) as usize;
        let base = [rt, rb, l1, l2][table];
        let at = base + entry * 8;
        if std::env::var_os("FUZZ_TRACE").is_some() { eprintln!("which {which} table {table} entry {entry} value {value:#x}"); }
        if at + 8 <= data.len() {
            data[at..at + 8].copy_from_slice(&value.to_be_bytes());
        }
        exercise(&data, tag);
    }
}
