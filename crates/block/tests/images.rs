//! Raw and qcow2 images against the real `qemu-img`/`qemu-io`.

mod common;

use common::*;
use mimic_block::{open, BlockDevice, CacheMode, DiscardMode, DriveOptions, Error, Format, IoThread, Request};
use std::io::ErrorKind;
use std::path::Path;
use std::process::Command;

const MIB: u64 = 1 << 20;

/// Apply the same random writes (unaligned offsets and lengths, some crossing clusters) to every
/// device, read each write back, and return the final contents of the written range for checks.
fn random_writes(devs: &mut [&mut dyn BlockDevice], seed: u64, count: usize, span: u64) {
    let mut rng = Rng(seed);
    for i in 0..count {
        let len = 1 + rng.below(if i % 7 == 0 { 300_000 } else { 9000 });
        let off = rng.below(span - len);
        let mut data = vec![0u8; len as usize];
        rng.fill(&mut data);
        for d in devs.iter_mut() {
            d.write_at(off, &data).unwrap();
            let mut back = vec![0u8; len as usize];
            d.read_at(off, &mut back).unwrap();
            assert!(back == data, "read-back mismatch at {off:#x}+{len}");
        }
        if i % 50 == 49 {
            for d in devs.iter_mut() {
                d.flush().unwrap();
            }
        }
    }
}

#[test]
fn raw_round_trip() {
    let dir = scratch("raw_round_trip");
    let img = dir.join("disk.raw");
    create_raw(&img, 8 * MIB);
    let mut disk = open(&DriveOptions::new(&img).format(Format::Raw)).unwrap();
    assert_eq!(disk.size(), 8 * MIB);
    assert_eq!(disk.format(), Format::Raw);
    assert!(disk.warnings().is_empty(), "explicit format=raw must not warn");

    let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + 3) as u8).collect();
    disk.write_at(12_345, &data).unwrap();
    let mut back = vec![0u8; data.len()];
    disk.read_at(12_345, &mut back).unwrap();
    assert_eq!(back, data);
    // last byte of the disk
    disk.write_at(8 * MIB - 1, &[0x5a]).unwrap();
    disk.flush().unwrap();
    drop(disk);

    let file = std::fs::read(&img).unwrap();
    assert_eq!(file.len() as u64, 8 * MIB, "raw file must not grow");
    assert_eq!(&file[12_345..12_345 + data.len()], &data[..]);
    assert_eq!(file[(8 * MIB - 1) as usize], 0x5a);
    assert!(file[..12_345].iter().all(|&b| b == 0));
}

#[test]
fn out_of_range_is_an_error() {
    let dir = scratch("out_of_range");
    let img = dir.join("disk.raw");
    create_raw(&img, MIB);
    let mut disk = open(&DriveOptions::new(&img).format(Format::Raw)).unwrap();
    let mut buf = [0u8; 512];
    assert_eq!(disk.read_at(MIB, &mut buf).unwrap_err().kind(), ErrorKind::UnexpectedEof);
    assert_eq!(disk.read_at(MIB - 100, &mut buf).unwrap_err().kind(), ErrorKind::UnexpectedEof);
    assert_eq!(disk.read_at(u64::MAX - 10, &mut buf).unwrap_err().kind(), ErrorKind::UnexpectedEof);
    assert_eq!(disk.write_at(MIB - 1, &[1, 2]).unwrap_err().kind(), ErrorKind::UnexpectedEof);
    assert!(disk.discard(MIB, 1).is_err());
    disk.read_at(MIB - 512, &mut buf).unwrap();
    disk.read_at(MIB, &mut []).unwrap();
    drop(disk);
    assert_eq!(std::fs::metadata(&img).unwrap().len(), MIB);
}

/// A qcow2 made by `qemu-img create`, written by us, is clean for `qemu-img check` and
/// identical to a raw file that received the same writes; for every cache mode.
#[test]
fn qcow2_matches_raw_for_every_cache_mode() {
    for (i, cache) in
        [CacheMode::Writeback, CacheMode::None, CacheMode::DirectSync, CacheMode::Writethrough, CacheMode::Unsafe]
            .into_iter()
            .enumerate()
    {
        let dir = scratch(&format!("qcow2_vs_raw_{}", cache.name()));
        let q = dir.join("disk.qcow2");
        let r = dir.join("disk.raw");
        // small clusters so L2 tables and refblocks get evicted and the refcount table grows
        let cluster = if i % 2 == 0 { "cluster_size=4096" } else { "cluster_size=65536" };
        create_qcow2(&q, "64M", &["-o", cluster]);
        create_raw(&r, 64 * MIB);
        {
            let mut dq = open(&DriveOptions::new(&q).cache(cache)).unwrap();
            assert_eq!(dq.format(), Format::Qcow2, "qcow2 must be probed");
            assert!(dq.warnings().is_empty());
            assert_eq!(dq.direct_io(), cache.direct(), "O_DIRECT for {cache:?} on ext4");
            let mut dr = open(&DriveOptions::new(&r).format(Format::Raw).cache(cache)).unwrap();
            let count = if cache.write_through() { 80 } else { 300 };
            random_writes(&mut [&mut dq, &mut dr], 0x1234 + i as u64, count, 64 * MIB);
            dq.flush().unwrap();
            dr.flush().unwrap();
        }
        assert_check_clean(&q);
        assert!(images_identical(&q, "qcow2", &r, "raw"), "{cache:?}: qcow2 differs from raw");
    }
}

/// A scatter read (`read_vectored`, what a read into guest RAM uses) returns what one read of the
/// same range does: page-aligned pieces (`O_DIRECT` straight into them), odd-sized unaligned
/// ones (bounced), and more pieces than one `preadv` takes.
#[test]
fn scatter_reads_match_plain_reads_on_raw_and_qcow2() {
    for cache in [CacheMode::Writeback, CacheMode::None] {
        let dir = scratch(&format!("scatter_{}", cache.name()));
        let (q, r) = (dir.join("disk.qcow2"), dir.join("disk.raw"));
        create_qcow2(&q, "16M", &["-o", "cluster_size=4096"]);
        create_raw(&r, 16 * MIB);
        let mut dq = open(&DriveOptions::new(&q).cache(cache)).unwrap();
        let mut dr = open(&DriveOptions::new(&r).format(Format::Raw).cache(cache)).unwrap();
        random_writes(&mut [&mut dq, &mut dr], 0x5ca7, 60, 16 * MIB);
        for (name, d) in [("qcow2", &mut dq as &mut dyn BlockDevice), ("raw", &mut dr)] {
            for (offset, pieces) in
                [(MIB, vec![4096usize; 256]), (3 * 512, vec![513, 7, 4096, 1000, 536]), (0, vec![512; 1500])]
            {
                let len: usize = pieces.iter().sum();
                let mut want = vec![0u8; len];
                d.read_at(offset, &mut want).unwrap();
                let mut buf = mimic_core::DmaBuf::new(len + 1);
                // Unaligned pieces start one byte into the page-aligned buffer.
                let skip = usize::from(pieces[0] % 512 != 0);
                let mut rest = &mut buf[skip..skip + len];
                let mut slices = Vec::new();
                for n in &pieces {
                    let (a, b) = rest.split_at_mut(*n);
                    slices.push(a);
                    rest = b;
                }
                d.read_vectored(offset, &mut slices).unwrap();
                assert!(
                    buf[skip..skip + len] == want[..],
                    "{name} {cache:?}: scatter read of {} pieces at {offset} differs",
                    pieces.len()
                );
            }
        }
    }
}

/// A flush with cache=writeback must reach the file: after flush (and no drop), a second
/// reader sees consistent metadata and the data.
#[test]
fn flush_writes_metadata_back() {
    let dir = scratch("flush_metadata");
    let q = dir.join("disk.qcow2");
    create_qcow2(&q, "16M", &[]);
    let mut d = open(&DriveOptions::new(&q)).unwrap();
    d.write_at(3 * MIB + 5, b"hello, flush").unwrap();
    d.flush().unwrap();
    // The disk is still open: qemu-img must see a clean image with the data.
    assert_check_clean(&q);
    let out = run_ok(Command::new("qemu-io").args([
        "-r",
        "-f",
        "qcow2",
        "-U",
        "-c",
        &format!("read -P 0x68 {} 1", 3 * MIB + 5),
        p(&q),
    ]));
    assert!(!out.contains("Pattern verification failed"), "{out}");
    drop(d);
}

/// `qemu-img create -f qcow2 -b base.qcow2 -F qcow2 overlay.qcow2`: reads go through to the
/// base, writes go to the overlay, the base is untouched.
#[test]
fn backing_chain_read_through_and_cow() {
    let dir = scratch("backing_chain");
    let base = dir.join("base.qcow2");
    let overlay = dir.join("overlay.qcow2");
    let reference = dir.join("reference.raw");
    create_qcow2(&base, "32M", &[]);
    // qemu-io writes the base: an independent writer.
    run_ok(Command::new("qemu-io").args([
        "-f",
        "qcow2",
        "-c",
        "write -P 0xab 0 1M",
        "-c",
        "write -P 0xcd 5M 3M",
        "-c",
        "write -P 0x11 31M 1M",
        p(&base),
    ]));
    run_ok(qemu_img(&["convert", "-f", "qcow2", "-O", "raw", p(&base), p(&reference)]));
    run_ok(qemu_img(&["create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", p(&overlay)]));
    let base_sha = sha256(&base);

    {
        let mut d = open(&DriveOptions::new(&overlay)).unwrap();
        assert_eq!(d.size(), 32 * MIB, "overlay inherits the base size");
        let mut buf = vec![0u8; MIB as usize];
        d.read_at(0, &mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == 0xab), "read-through from base");
        d.read_at(5 * MIB, &mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == 0xcd));
        d.read_at(2 * MIB, &mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == 0), "unallocated in both");

        // partial-cluster writes: COW must keep the base bytes around them
        let mut r = open(&DriveOptions::new(&reference).format(Format::Raw)).unwrap();
        for (off, len, pat) in [(100u64, 200usize, 0x77u8), (5 * MIB + 65_000, 3000, 0x88), (20 * MIB, 70_000, 0x99)] {
            d.write_at(off, &vec![pat; len]).unwrap();
            r.write_at(off, &vec![pat; len]).unwrap();
        }
        random_writes(&mut [&mut d, &mut r], 77, 100, 32 * MIB);
        let mut a = vec![0u8; 4096];
        d.read_at(0, &mut a).unwrap();
        assert_eq!(a[99], 0xab);
        assert_eq!(a[100], 0x77);
        assert_eq!(a[300], 0xab);
        d.flush().unwrap();
    }
    assert_eq!(sha256(&base), base_sha, "base image modified");
    assert_check_clean(&overlay);
    assert_check_clean(&base);
    assert!(images_identical(&overlay, "qcow2", &reference, "raw"));
    // the overlay still names its backing file and reads the same through qemu
    let info = run_ok(qemu_img(&["info", p(&overlay)]));
    assert!(info.contains("backing file: base.qcow2"), "{info}");
}

/// A qcow2 overlay over a raw base (`-F raw`).
#[test]
fn backing_raw_base() {
    let dir = scratch("backing_raw");
    let base = dir.join("base.raw");
    let overlay = dir.join("overlay.qcow2");
    std::fs::write(&base, vec![0x42u8; 4 * MIB as usize]).unwrap();
    run_ok(qemu_img(&["create", "-q", "-f", "qcow2", "-b", p(&base), "-F", "raw", p(&overlay)]));
    let base_sha = sha256(&base);
    {
        let mut d = open(&DriveOptions::new(&overlay).format(Format::Qcow2)).unwrap();
        let mut buf = vec![0u8; 8192];
        d.read_at(MIB, &mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == 0x42));
        d.write_at(MIB + 10, b"overlay").unwrap();
        d.read_at(MIB, &mut buf).unwrap();
        assert_eq!(&buf[10..17], b"overlay");
        assert_eq!(buf[9], 0x42);
        assert_eq!(buf[17], 0x42);
    }
    assert_eq!(sha256(&base), base_sha);
    assert_check_clean(&overlay);
}

#[test]
fn missing_backing_file_is_a_clear_error() {
    let dir = scratch("missing_backing");
    let base = dir.join("base.qcow2");
    let overlay = dir.join("overlay.qcow2");
    create_qcow2(&base, "1M", &[]);
    run_ok(qemu_img(&["create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", p(&overlay)]));
    std::fs::remove_file(&base).unwrap();
    let err = open(&DriveOptions::new(&overlay)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("base.qcow2"), "{msg}");
}

/// snapshot=on: the guest sees its writes, the file stays byte-identical.
#[test]
fn snapshot_on_leaves_file_untouched() {
    let dir = scratch("snapshot");
    let q = dir.join("disk.qcow2");
    let r = dir.join("disk.raw");
    create_qcow2(&q, "16M", &[]);
    run_ok(Command::new("qemu-io").args(["-f", "qcow2", "-c", "write -P 0x3c 1M 1M", p(&q)]));
    std::fs::write(&r, vec![0x5au8; 3 * MIB as usize + 512]).unwrap();

    for (img, fmt) in [(&q, Some(Format::Qcow2)), (&r, Some(Format::Raw)), (&q, None)] {
        let before = sha256(img);
        let mtime = std::fs::metadata(img).unwrap().modified().unwrap();
        {
            let mut opts = DriveOptions::new(img).snapshot(true);
            opts.format = fmt;
            let mut d = open(&opts).unwrap();
            assert!(d.is_snapshot());
            assert!(!d.read_only());
            let size = d.size();
            let mut buf = vec![0u8; 4096];
            d.read_at(MIB, &mut buf).unwrap();
            let orig = buf[0];
            d.write_at(MIB + 1, b"scratch").unwrap();
            d.write_at(size - 7, b"the end").unwrap();
            d.discard(0, size).unwrap();
            d.read_at(MIB, &mut buf).unwrap();
            assert_eq!(buf[0], orig, "unwritten bytes come from the original");
            assert_eq!(&buf[1..8], b"scratch");
            let mut tail = [0u8; 7];
            d.read_at(size - 7, &mut tail).unwrap();
            assert_eq!(&tail, b"the end");
            random_writes(&mut [&mut d], 5, 50, size);
            d.flush().unwrap();
        }
        assert_eq!(sha256(img), before, "{img:?} modified by snapshot=on");
        assert_eq!(std::fs::metadata(img).unwrap().modified().unwrap(), mtime);
    }
    assert_check_clean(&q);
}

#[test]
fn read_only_rejects_writes() {
    let dir = scratch("read_only");
    let q = dir.join("disk.qcow2");
    let r = dir.join("disk.raw");
    create_qcow2(&q, "4M", &[]);
    run_ok(Command::new("qemu-io").args(["-f", "qcow2", "-c", "write -P 0x61 0 64k", p(&q)]));
    create_raw(&r, 4 * MIB);
    for img in [&q, &r] {
        let before = sha256(img);
        {
            let mut d = open(&DriveOptions::parse_drive(&format!("file={},readonly=on", p(img))).unwrap()).unwrap();
            assert!(d.read_only());
            let mut buf = [0u8; 16];
            d.read_at(0, &mut buf).unwrap();
            if img == &q {
                assert_eq!(buf, [0x61; 16]);
            }
            assert_eq!(d.write_at(0, &[1]).unwrap_err().kind(), ErrorKind::PermissionDenied);
            assert_eq!(d.discard(0, 4096).unwrap_err().kind(), ErrorKind::PermissionDenied);
            assert_eq!(d.write_zeroes(0, 4096).unwrap_err().kind(), ErrorKind::PermissionDenied);
            d.flush().unwrap();
        }
        assert_eq!(sha256(img), before);
    }
    // readonly + snapshot is still read-only
    let mut d = open(&DriveOptions::new(&q).read_only(true).snapshot(true)).unwrap();
    assert_eq!(d.write_at(0, &[1]).unwrap_err().kind(), ErrorKind::PermissionDenied);
}

#[test]
fn probe_raw_is_not_qcow2() {
    let dir = scratch("probe_raw");
    let r = dir.join("disk.img");
    // Looks almost like qcow2: wrong magic byte.
    let mut data = vec![0u8; MIB as usize];
    data[..8].copy_from_slice(b"QFI\xfa\0\0\0\x03");
    std::fs::write(&r, &data).unwrap();
    let mut d = open(&DriveOptions::new(&r)).unwrap();
    assert_eq!(d.format(), Format::Raw);
    assert_eq!(d.size(), MIB);
    assert_eq!(d.warnings().len(), 1, "{:?}", d.warnings());
    assert!(d.warnings()[0].contains("format=raw"), "{:?}", d.warnings());
    // A probed raw image may not be turned into qcow2 by its guest...
    let e = d.write_at(0, b"QFI\xfb\0\0\0\x03").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    let e = d.write_at(3, b"\xfb").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    // ...but other writes to sector 0 are fine.
    d.write_at(0, b"MBR!").unwrap();
    d.write_at(4, b"\0\0\0\x03").unwrap();
    drop(d);
    // With format=raw the restriction is gone.
    let mut d = open(&DriveOptions::new(&r).format(Format::Raw)).unwrap();
    d.write_at(0, b"QFI\xfb").unwrap();
    drop(d);
    // ...and now the file probes as qcow2 with a bad header: an error, not raw, not a panic.
    let e = open(&DriveOptions::new(&r)).unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");

    // empty and tiny files are raw
    let tiny = dir.join("tiny.img");
    std::fs::write(&tiny, b"QF").unwrap();
    let d = open(&DriveOptions::new(&tiny)).unwrap();
    assert_eq!((d.format(), d.size()), (Format::Raw, 2));
    let empty = dir.join("empty.img");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(open(&DriveOptions::new(&empty)).unwrap().size(), 0);
}

#[test]
fn format_qcow2_on_raw_file_is_an_error() {
    let dir = scratch("qcow2_on_raw");
    let r = dir.join("disk.raw");
    create_raw(&r, MIB);
    let e = open(&DriveOptions::new(&r).format(Format::Qcow2)).unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("qcow2"), "{e}");
    let e = open(&DriveOptions::new(dir.join("nope.img"))).unwrap_err();
    assert!(matches!(e, Error::Open { .. }), "{e:?}");
    let e = open(&DriveOptions::new(&dir)).unwrap_err();
    assert!(matches!(e, Error::Open { .. }), "{e:?}");
}

/// Hand-made header corruptions give specific, clear errors.
#[test]
fn corrupt_headers_named() {
    let dir = scratch("corrupt_named");
    let good = dir.join("good.qcow2");
    create_qcow2(&good, "64M", &[]);
    let orig = std::fs::read(&good).unwrap();
    let cases: &[(usize, &[u8], &str)] = &[
        (4, &[0, 0, 0, 9], "version"),
        (20, &[0, 0, 0, 40], "cluster_bits"),
        (20, &[0, 0, 0, 8], "cluster_bits"),
        (32, &[0, 0, 0, 1], "encrypted"),
        (36, &[0xff, 0xff, 0xff, 0xff], "L1"),
        (36, &[0, 0, 0, 0], "L1 table is too small"),
        (24, &[0x7f, 0, 0, 0, 0, 0, 0, 0], "L1 table is too small"),
        (48, &[0, 0, 0, 0, 0, 0, 0x12, 0x34], "refcount table offset"),
        (56, &[0xff, 0xff, 0xff, 0xff], "refcount table size"),
        (96, &[0, 0, 0, 9], "refcount_order"),
        (100, &[0, 0, 0, 1], "header_length"),
        (72, &[0, 0, 0, 0, 0, 0, 0, 0x80], "incompatible"),
    ];
    for (i, (at, bytes, what)) in cases.iter().enumerate() {
        let img = dir.join(format!("bad{i}.qcow2"));
        let mut data = orig.clone();
        data[*at..*at + bytes.len()].copy_from_slice(bytes);
        std::fs::write(&img, &data).unwrap();
        for fmt in [None, Some(Format::Qcow2)] {
            let mut o = DriveOptions::new(&img);
            o.format = fmt;
            let e = open(&o).expect_err(what);
            assert!(matches!(e, Error::Corrupt { .. }), "{what}: {e:?}");
            assert!(e.to_string().to_lowercase().contains(&what.to_lowercase()), "{what}: {e}");
        }
    }
}

#[test]
fn discard_unmap() {
    let dir = scratch("discard");
    let q = dir.join("disk.qcow2");
    let r = dir.join("disk.raw");
    create_qcow2(&q, "16M", &[]);
    create_raw(&r, 16 * MIB);
    for img in [&q, &r] {
        let mut d = open(&DriveOptions::new(img).discard(DiscardMode::Unmap)).unwrap();
        d.write_at(0, &vec![0xee; 8 * MIB as usize]).unwrap();
        d.flush().unwrap();
        d.discard(MIB, 4 * MIB).unwrap();
        let mut buf = vec![0u8; 4 * MIB as usize];
        d.read_at(MIB, &mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == 0), "{img:?}: discarded range must read zero");
        d.write_zeroes(6 * MIB + 3, 1000).unwrap();
        let mut b2 = vec![0u8; 1010];
        d.read_at(6 * MIB, &mut b2).unwrap();
        assert_eq!(b2[2], 0xee);
        assert!(b2[3..1003].iter().all(|&b| b == 0));
        assert_eq!(b2[1003], 0xee);
    }
    assert_check_clean(&q);
    let info = run_ok(qemu_img(&["info", "--output=json", p(&q)]));
    let actual: u64 = info
        .split("\"actual-size\":")
        .nth(1)
        .and_then(|s| s.trim().split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(actual < 6 * MIB, "discard freed no space: actual-size {actual}");

    // discard=ignore (QEMU's default): nothing happens
    let mut d = open(&DriveOptions::new(&q)).unwrap();
    d.write_at(0, &[0xaa; 4096]).unwrap();
    d.discard(0, 4096).unwrap();
    let mut b = [0u8; 4096];
    d.read_at(0, &mut b).unwrap();
    assert_eq!(b, [0xaa; 4096]);
}

#[test]
fn io_thread_runs_requests_in_order() {
    let dir = scratch("io_thread");
    let q = dir.join("disk.qcow2");
    create_qcow2(&q, "8M", &[]);
    let d = open(&DriveOptions::new(&q)).unwrap();
    let notified = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n2 = notified.clone();
    let mut io = IoThread::with_notify(d, move || {
        n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    })
    .unwrap();
    assert_eq!(io.size(), 8 * MIB);
    let mut ids = Vec::new();
    for i in 0..64u64 {
        ids.push(
            io.submit(Request::Write { offset: i * 4096, data: mimic_core::DmaBuf::from_slice(&[i as u8; 4096]) }),
        );
    }
    let flush = io.submit(Request::Flush);
    let read = io.submit(Request::Read { offset: 0, buf: mimic_core::DmaBuf::new(64 * 4096) });
    let bad = io.submit(Request::Read { offset: 8 * MIB, buf: mimic_core::DmaBuf::new(1) });
    let mut done = Vec::new();
    while let Some(c) = io.wait_completion() {
        done.push(c);
    }
    assert_eq!(io.in_flight(), 0);
    assert!(io.poll_completions().is_empty());
    assert_eq!(done.len(), 67);
    let order: Vec<_> = done.iter().map(|c| c.id).collect();
    let mut expect = ids.clone();
    expect.extend([flush, read, bad]);
    assert_eq!(order, expect, "completions in submission order");
    for c in &done[..65] {
        c.result.as_ref().unwrap();
    }
    let rd = &done[65];
    let buf = rd.buf.as_ref().unwrap();
    for i in 0..64usize {
        assert!(buf[i * 4096..(i + 1) * 4096].iter().all(|&b| b == i as u8));
    }
    assert!(done[66].result.is_err());
    // The worker notifies right after queueing each completion, so the last call may still be
    // on its way when the last completion has been received. The writes were answered at
    // submission (the default cache mode has a write cache) and notify nothing: three calls.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while notified.load(std::sync::atomic::Ordering::SeqCst) < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(notified.load(std::sync::atomic::Ordering::SeqCst), 3);

    // poll_completions never blocks
    let id = io.submit(Request::WriteZeroes { offset: 0, len: 4096 });
    let mut got = Vec::new();
    let t0 = std::time::Instant::now();
    while got.is_empty() {
        got = io.poll_completions();
        assert!(t0.elapsed().as_secs() < 10);
        std::thread::yield_now();
    }
    assert_eq!(got[0].id, id);
    let dev = io.shutdown().unwrap();
    drop(dev);
    assert_check_clean(&q);
}

#[test]
fn drive_spec_end_to_end() {
    let dir = scratch("drive_spec");
    let odd = dir.join("a,b.qcow2");
    create_qcow2(&odd, "1M", &[]);
    let spec = format!("file={},format=qcow2,if=none,id=d0,cache=writethrough", p(&odd).replace(',', ",,"));
    let o = DriveOptions::parse_drive(&spec).unwrap();
    assert_eq!(o.file, odd);
    let mut d = open(&o).unwrap();
    assert!(!d.write_cache_enabled());
    d.write_at(0, b"x").unwrap();
    drop(d);
    assert_check_clean(&odd);
    let _ = Path::new("");
}

/// A qcow2 whose refcount table lost its first refblock (every metadata cluster has refcount 0):
/// opening it writable must be an error, not a stack overflow or a write over the header.
#[test]
fn corrupt_refcount_table_is_refused() {
    let dir = scratch("corrupt_reftable");
    for (name, opts) in [("v2.qcow2", "cluster_size=512,compat=0.10"), ("v3.qcow2", "cluster_size=4096")] {
        let img = dir.join(name);
        create_qcow2(&img, "4M", &["-o", opts]);
        run_ok(Command::new("qemu-io").args(["-f", "qcow2", "-c", "write -P 0x11 0 8k", p(&img)]));
        let mut data = std::fs::read(&img).unwrap();
        let rt = u64::from_be_bytes(data[48..56].try_into().unwrap()) as usize;
        data[rt..rt + 8].fill(0);
        std::fs::write(&img, &data).unwrap();
        let before = sha256(&img);
        match open(&DriveOptions::new(&img)) {
            Err(e) => assert!(matches!(e, Error::Corrupt { .. }), "{e:?}"),
            Ok(mut d) => {
                let _ = d.write_at(2 * MIB, &[0x5a; 8192]);
                let _ = d.flush();
            }
        }
        // read-only use is still possible (as with QEMU)
        let mut d = open(&DriveOptions::new(&img).read_only(true)).unwrap();
        let mut b = [0u8; 8];
        d.read_at(0, &mut b).unwrap();
        assert_eq!(b, [0x11; 8]);
        drop(d);
        let _ = before;
    }
}
