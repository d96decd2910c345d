//! A writer for the "newc" cpio format (SVR4 portable ASCII, magic `070701`), the format the
//! Linux kernel unpacks as an initramfs. No root is needed for anything: ownership, modes and
//! device numbers are just header fields, so `/dev/console` can be a character device entry.
//!
//! Layout of one entry: a 110-byte ASCII header (`070701` then 13 fields of 8 hex digits: ino,
//! mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize
//! (with the NUL), check), the name and its NUL, zero padding to a multiple of 4 bytes, the data,
//! zero padding to a multiple of 4 again. The archive ends with an entry named `TRAILER!!!`.
//!
//! Output is deterministic: entries are written sorted by path (so a folder precedes what is in
//! it), inode numbers are assigned in that order, and every mtime is the same fixed value.

use std::io::{self, Write};

pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFCHR: u32 = 0o020000;
#[cfg(test)]
pub const S_IFMT: u32 = 0o170000;

const MAGIC: &[u8; 6] = b"070701";
pub const HEADER_LEN: usize = 110;
pub const TRAILER: &str = "TRAILER!!!";

/// What an entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File(Vec<u8>),
    Symlink(String),
    CharDev { major: u32, minor: u32 },
}

/// One archive member. `path` is relative (`bin/busybox`, no leading `/`); `perm` holds the
/// permission bits only (the file type comes from `kind`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub perm: u32,
    pub kind: Kind,
}

impl Entry {
    pub fn dir(path: &str, perm: u32) -> Entry {
        Entry { path: path.into(), perm, kind: Kind::Dir }
    }
    pub fn file(path: &str, perm: u32, data: Vec<u8>) -> Entry {
        Entry { path: path.into(), perm, kind: Kind::File(data) }
    }
    pub fn symlink(path: &str, target: &str) -> Entry {
        Entry { path: path.into(), perm: 0o777, kind: Kind::Symlink(target.into()) }
    }
    pub fn char_dev(path: &str, perm: u32, major: u32, minor: u32) -> Entry {
        Entry { path: path.into(), perm, kind: Kind::CharDev { major, minor } }
    }

    /// The full `st_mode`: file type bits and permissions.
    pub fn mode(&self) -> u32 {
        let ty = match self.kind {
            Kind::Dir => S_IFDIR,
            Kind::File(_) => S_IFREG,
            Kind::Symlink(_) => S_IFLNK,
            Kind::CharDev { .. } => S_IFCHR,
        };
        ty | (self.perm & 0o7777)
    }

    fn data(&self) -> &[u8] {
        match &self.kind {
            Kind::File(d) => d,
            Kind::Symlink(t) => t.as_bytes(),
            Kind::Dir | Kind::CharDev { .. } => &[],
        }
    }
}

/// The fixed modification time of every entry (seconds since the epoch).
pub const MTIME: u32 = 0;

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

struct Header<'a> {
    ino: u32,
    mode: u32,
    nlink: u32,
    filesize: u32,
    rdev: (u32, u32),
    name: &'a str,
}

fn write_header(out: &mut impl Write, h: &Header) -> io::Result<usize> {
    let namesize = h.name.len() + 1;
    let fields = [h.ino, h.mode, 0, 0, h.nlink, MTIME, h.filesize, 0, 0, h.rdev.0, h.rdev.1, namesize as u32, 0];
    let mut buf = Vec::with_capacity(HEADER_LEN + namesize + 3);
    buf.extend_from_slice(MAGIC);
    for f in fields {
        buf.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    debug_assert_eq!(buf.len(), HEADER_LEN);
    buf.extend_from_slice(h.name.as_bytes());
    buf.push(0);
    buf.resize(buf.len() + pad4(buf.len()), 0);
    out.write_all(&buf)?;
    Ok(buf.len())
}

/// Writes `entries` (sorted by path first) and the trailer; returns the number of bytes written,
/// a multiple of 4.
pub fn write_archive(out: &mut impl Write, entries: &[Entry]) -> io::Result<usize> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    for w in sorted.windows(2) {
        if w[0].path == w[1].path {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("duplicate cpio path {}", w[0].path)));
        }
    }
    let mut total = 0;
    for (i, e) in sorted.iter().enumerate() {
        if e.path.is_empty() || e.path.starts_with('/') || e.path.contains('\0') {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("bad cpio path {:?}", e.path)));
        }
        let data = e.data();
        let filesize = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{} is larger than 4 GiB", e.path)))?;
        let rdev = match e.kind {
            Kind::CharDev { major, minor } => (major, minor),
            _ => (0, 0),
        };
        let nlink = if e.kind == Kind::Dir { 2 } else { 1 };
        let h = Header { ino: i as u32 + 1, mode: e.mode(), nlink, filesize, rdev, name: &e.path };
        total += write_header(out, &h)?;
        out.write_all(data)?;
        let pad = pad4(data.len());
        out.write_all(&[0u8; 3][..pad])?;
        total += data.len() + pad;
    }
    let trailer = Header { ino: 0, mode: 0, nlink: 1, filesize: 0, rdev: (0, 0), name: TRAILER };
    total += write_header(out, &trailer)?;
    Ok(total)
}

/// Parses a newc archive back into entries (up to the trailer); used by the tests to check the
/// writer and available to anything that wants to inspect an initramfs.
#[cfg(test)]
pub fn read_archive(mut buf: &[u8]) -> Result<Vec<Entry>, String> {
    let start_len = buf.len();
    let mut entries = Vec::new();
    loop {
        let off = start_len - buf.len();
        if buf.len() < HEADER_LEN {
            return Err(format!("truncated header at {off}"));
        }
        if &buf[..6] != MAGIC {
            return Err(format!("bad magic at {off}"));
        }
        let field = |i: usize| -> Result<u32, String> {
            let s = std::str::from_utf8(&buf[6 + 8 * i..14 + 8 * i]).map_err(|e| e.to_string())?;
            u32::from_str_radix(s, 16).map_err(|e| format!("field {i} at {off}: {e}"))
        };
        let (mode, filesize, rmaj, rmin, namesize) =
            (field(1)?, field(6)? as usize, field(9)?, field(10)?, field(11)? as usize);
        let name_end = HEADER_LEN + namesize;
        let data_start = name_end + pad4(name_end);
        if buf.len() < data_start + filesize || namesize == 0 || buf[name_end - 1] != 0 {
            return Err(format!("bad name or size at {off}"));
        }
        let name = std::str::from_utf8(&buf[HEADER_LEN..name_end - 1]).map_err(|e| e.to_string())?.to_string();
        let data = buf[data_start..data_start + filesize].to_vec();
        let next = data_start + filesize + pad4(filesize);
        buf = &buf[next.min(buf.len())..];
        if name == TRAILER {
            return Ok(entries);
        }
        let perm = mode & 0o7777;
        let kind = match mode & S_IFMT {
            S_IFDIR => Kind::Dir,
            S_IFREG => Kind::File(data),
            S_IFLNK => Kind::Symlink(String::from_utf8(data).map_err(|e| e.to_string())?),
            S_IFCHR => Kind::CharDev { major: rmaj, minor: rmin },
            t => return Err(format!("{name}: unsupported file type {t:o}")),
        };
        entries.push(Entry { path: name, perm, kind });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Entry> {
        vec![
            Entry::file("init", 0o755, b"#!/bin/sh\necho hi\n".to_vec()),
            Entry::dir("dev", 0o755),
            Entry::char_dev("dev/console", 0o600, 5, 1),
            Entry::dir("bin", 0o755),
            Entry::symlink("bin/sh", "busybox"),
            Entry::file("bin/busybox", 0o755, vec![0xAB; 5]),
        ]
    }

    fn archive(entries: &[Entry]) -> Vec<u8> {
        let mut out = Vec::new();
        let n = write_archive(&mut out, entries).unwrap();
        assert_eq!(n, out.len());
        out
    }

    #[test]
    fn header_layout() {
        let out = archive(&[Entry::char_dev("dev/console", 0o600, 5, 1)]);
        let h = std::str::from_utf8(&out[..HEADER_LEN]).unwrap();
        // magic, ino 1, mode 020600, uid 0, gid 0, nlink 1, mtime, size 0, dev 0:0, rdev 5:1,
        // namesize 12 ("dev/console" + NUL), check 0.
        let want = [
            "070701", "00000001", "00002180", "00000000", "00000000", "00000001", "00000000", "00000000", "00000000",
            "00000000", "00000005", "00000001", "0000000c", "00000000",
        ]
        .concat();
        assert_eq!(h, want);
        assert_eq!(&out[HEADER_LEN..HEADER_LEN + 12], b"dev/console\0");
        // 110 + 12 = 122 -> padded to 124, no data, then the trailer header.
        assert_eq!(&out[122..124], &[0, 0]);
        assert_eq!(&out[124..130], MAGIC);
    }

    #[test]
    fn alignment_and_trailer() {
        let out = archive(&sample());
        assert_eq!(out.len() % 4, 0);
        // Every header starts at a multiple of 4: walk the archive by hand.
        let mut off = 0;
        let mut names = Vec::new();
        loop {
            assert_eq!(off % 4, 0);
            assert_eq!(&out[off..off + 6], MAGIC);
            let hex = |i: usize| {
                usize::from_str_radix(std::str::from_utf8(&out[off + 6 + 8 * i..off + 14 + 8 * i]).unwrap(), 16)
                    .unwrap()
            };
            let (size, namesize) = (hex(6), hex(11));
            let name =
                std::str::from_utf8(&out[off + HEADER_LEN..off + HEADER_LEN + namesize - 1]).unwrap().to_string();
            let data = off + HEADER_LEN + namesize;
            let data = data + pad4(data);
            // Padding bytes are zero.
            assert!(out[off + HEADER_LEN + namesize..data].iter().all(|&b| b == 0));
            let next = data + size + pad4(size);
            names.push(name.clone());
            if name == TRAILER {
                // The trailer is all zero but nlink 1 and namesize 11.
                assert_eq!(hex(4), 1);
                assert_eq!(hex(1), 0);
                assert_eq!(namesize, 11);
                assert_eq!(size, 0);
                off = next;
                break;
            }
            off = next;
        }
        assert_eq!(off, out.len());
        assert_eq!(names, ["bin", "bin/busybox", "bin/sh", "dev", "dev/console", "init", TRAILER]);
    }

    #[test]
    fn round_trip_sorted() {
        let mut want = sample();
        let got = read_archive(&archive(&want)).unwrap();
        want.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(got, want);
        assert_eq!(got[0].mode(), S_IFDIR | 0o755);
        assert_eq!(got[2].mode(), S_IFLNK | 0o777);
    }

    #[test]
    fn deterministic_and_order_independent() {
        let a = archive(&sample());
        let mut rev = sample();
        rev.reverse();
        assert_eq!(a, archive(&rev));
    }

    #[test]
    fn rejects_bad_paths() {
        let mut out = Vec::new();
        assert!(write_archive(&mut out, &[Entry::dir("/abs", 0o755)]).is_err());
        assert!(write_archive(&mut out, &[Entry::dir("a", 0o755), Entry::dir("a", 0o700)]).is_err());
    }

    /// Cross-check with GNU cpio when it is installed (Debian package `cpio`).
    #[test]
    fn gnu_cpio_lists_it() {
        let Ok(mut child) = std::process::Command::new("cpio")
            .args(["-t", "-v", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
        else {
            eprintln!("cpio not installed: skipping the cross-check");
            return;
        };
        child.stdin.take().unwrap().write_all(&archive(&sample())).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 6, "{text}");
        assert!(lines[0].starts_with("drwxr-xr-x") && lines[0].ends_with(" bin"), "{text}");
        assert!(
            lines[1].starts_with("-rwxr-xr-x") && lines[1].contains(" 5 ") && lines[1].ends_with(" bin/busybox"),
            "{text}"
        );
        assert!(lines[2].starts_with("lrwxrwxrwx") && lines[2].ends_with(" bin/sh -> busybox"), "{text}");
        assert!(
            lines[4].starts_with("crw-------") && lines[4].contains("5,") && lines[4].ends_with(" dev/console"),
            "{text}"
        );
    }
}
