//! Opening images and the synchronous [`Disk`].

use crate::{BlockDevice, CacheMode, DiscardMode, DriveOptions, Error, Format};
use imago::file::File as ImagoFile;
use imago::io_buffers::IoVectorMut;
use imago::qcow2::Qcow2;
use imago::raw::Raw;
use imago::{
    DenyImplicitOpenGate, FormatAccess, FormatCreateBuilder, FormatDriverBuilder, PermissiveImplicitOpenGate,
    ShallowMapping, StorageOpenOptions,
};
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The qcow2 magic, `QFI\xfb`.
pub(crate) const QCOW2_MAGIC: [u8; 4] = *b"QFI\xfb";

/// An open disk image.
pub struct Disk {
    access: FormatAccess<ImagoFile>,
    path: PathBuf,
    format: Format,
    size: u64,
    read_only: bool,
    snapshot: bool,
    cache: CacheMode,
    discard: DiscardMode,
    /// The format was probed as raw: writes that would make sector 0 look like qcow2 are refused.
    probed_raw: bool,
    /// `O_DIRECT` is in use.
    direct: bool,
    /// A second descriptor of a writable qcow2 image, to punch holes for discarded clusters.
    hole_fd: Option<fs::File>,
    warnings: Vec<String>,
}

impl std::fmt::Debug for Disk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Disk")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("size", &self.size)
            .field("read_only", &self.read_only)
            .field("snapshot", &self.snapshot)
            .field("cache", &self.cache)
            .field("discard", &self.discard)
            .field("direct", &self.direct)
            .finish()
    }
}

/// Open the image `opts` describes.
///
/// Warnings (format probed as raw, `O_DIRECT` unavailable) are logged with `tracing::warn!` and
/// kept in [`Disk::warnings`] so the CLI can print them as QEMU does.
pub fn open(opts: &DriveOptions) -> Result<Disk, Error> {
    let path = opts.file.clone();
    let open_err = |source: io::Error| Error::Open { path: path.clone(), source };
    let mut warnings = Vec::new();

    // Probe with an ordinary descriptor (O_DIRECT would refuse an unaligned 8-byte read).
    let (head, file_len) = read_head(&path).map_err(open_err)?;
    let has_magic = head.len() >= 4 && head[..4] == QCOW2_MAGIC;
    let (format, probed_raw) = match opts.format {
        Some(f) => (f, false),
        None if has_magic => (Format::Qcow2, false),
        None => {
            warnings.push(format!(
                "WARNING: Image format was not specified for '{}' and probing guessed raw; write \
                 operations on block 0 will be restricted. Specify format=raw explicitly to \
                 remove the restrictions.",
                path.display()
            ));
            (Format::Raw, true)
        }
    };
    // With snapshot=on the original is only ever read.
    let use_overlay = opts.snapshot && !opts.read_only;
    let writable = !opts.read_only && !use_overlay;

    if format == Format::Qcow2 {
        validate_qcow2_header(&head, file_len, &path)?;
        if writable {
            check_metadata_refcounts(&head, file_len, &path)?;
        }
    }

    let (file, direct) = open_file(&path, writable, opts.cache.direct(), &mut warnings).map_err(open_err)?;
    let hole_fd = if writable && format == Format::Qcow2 && opts.discard == DiscardMode::Unmap {
        file.try_clone().ok()
    } else {
        None
    };
    let sopts = StorageOpenOptions::new().write(writable).direct(direct).filename(path.clone());
    let storage = ImagoFile::from_open_file(file, sopts.clone()).map_err(open_err)?;

    let base = match format {
        Format::Raw => Raw::builder(storage)
            .write(writable)
            .open(DenyImplicitOpenGate::default())
            .map(FormatAccess::new)
            .map_err(open_err)?,
        Format::Qcow2 => Qcow2::<ImagoFile>::builder(storage)
            .write(writable)
            .storage_open_options(sopts)
            .open(PermissiveImplicitOpenGate::default())
            .map(FormatAccess::new)
            .map_err(|e| qcow2_open_error(&path, e))?,
    };

    let access = if use_overlay {
        snapshot_overlay(base).map_err(|source| Error::Snapshot { path: path.clone(), source })?
    } else {
        base
    };

    for w in &warnings {
        tracing::warn!("{w}");
    }
    let size = access.size();
    Ok(Disk {
        access,
        path,
        format,
        size,
        read_only: opts.read_only,
        snapshot: use_overlay,
        cache: opts.cache,
        discard: opts.discard,
        probed_raw,
        direct,
        hole_fd,
        warnings,
    })
}

/// First bytes of the file (up to one qcow2 header's worth) and the file's length.
fn read_head(path: &Path) -> io::Result<(Vec<u8>, u64)> {
    let mut f = fs::File::open(path)?;
    let meta = f.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory"));
    }
    let mut head = Vec::with_capacity(112);
    f.by_ref().take(112).read_to_end(&mut head)?;
    Ok((head, meta.len()))
}

/// Open the image file, with `O_DIRECT` if asked and possible.
fn open_file(path: &Path, writable: bool, direct: bool, warnings: &mut Vec<String>) -> io::Result<(fs::File, bool)> {
    let mut o = fs::OpenOptions::new();
    o.read(true).write(writable);
    if direct {
        let mut od = o.clone();
        od.custom_flags(libc::O_DIRECT);
        match od.open(path) {
            Ok(f) => return Ok((f, true)),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => warnings.push(format!(
                "WARNING: '{}': the file system does not support O_DIRECT; cache=none/directsync \
                 fall back to the host page cache (flushes still fsync)",
                path.display()
            )),
            Err(e) => return Err(e),
        }
    }
    Ok((o.open(path)?, false))
}

/// Give `[offset, offset + len)` of `fd` back to the file system; best effort.
fn punch_hole(fd: &fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: plain syscall on a descriptor we own; no memory is passed.
    let r = unsafe {
        libc::fallocate(
            fd.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            offset as libc::off_t,
            len as libc::off_t,
        )
    };
    if r != 0 {
        tracing::debug!("punching a hole failed: {}", io::Error::last_os_error());
    }
}

fn be32(h: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(h[at..at + 4].try_into().unwrap())
}
fn be64(h: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(h[at..at + 8].try_into().unwrap())
}

/// QEMU's sanity checks on a qcow2 header (`qcow2_do_open`), done before imago sees the file so
/// that a corrupt header is a clear error and never a huge allocation. imago re-checks the rest.
pub(crate) fn validate_qcow2_header(h: &[u8], file_len: u64, path: &Path) -> Result<(), Error> {
    let bad = |reason: String| Error::Corrupt { path: path.to_path_buf(), reason };
    if h.len() < 4 || h[..4] != QCOW2_MAGIC {
        return Err(bad("image is not in qcow2 format (no qcow2 magic)".into()));
    }
    if h.len() < 72 {
        return Err(bad(format!("header truncated ({} bytes)", h.len())));
    }
    let version = be32(h, 4);
    if version != 2 && version != 3 {
        return Err(bad(format!("unsupported qcow2 version {version}")));
    }
    let cluster_bits = be32(h, 20);
    if !(9..=21).contains(&cluster_bits) {
        return Err(bad(format!("invalid cluster_bits {cluster_bits} (must be 9..=21)")));
    }
    let cluster_size = 1u64 << cluster_bits;
    let size = be64(h, 24);
    let crypt_method = be32(h, 32);
    if crypt_method != 0 {
        return Err(bad(format!("encrypted images are not supported (crypt_method {crypt_method})")));
    }
    let l1_size = be32(h, 36) as u64;
    let l1_offset = be64(h, 40);
    let rt_offset = be64(h, 48);
    let rt_clusters = be32(h, 56) as u64;
    let nb_snapshots = be32(h, 60);

    if version == 3 {
        if h.len() < 104 {
            return Err(bad(format!("v3 header truncated ({} bytes)", h.len())));
        }
        let refcount_order = be32(h, 96);
        if refcount_order > 6 {
            return Err(bad(format!("invalid refcount_order {refcount_order} (must be 0..=6)")));
        }
        let header_length = be32(h, 100) as u64;
        if header_length < 104 || header_length > cluster_size {
            return Err(bad(format!("invalid header_length {header_length}")));
        }
    }

    const MAX_REFTABLE_BYTES: u64 = 8 << 20;
    const MAX_L1_BYTES: u64 = 32 << 20;
    const MAX_FILE_OFFSET: u64 = 1 << 56;
    if rt_clusters == 0 || rt_clusters * cluster_size > MAX_REFTABLE_BYTES {
        return Err(bad(format!("invalid refcount table size ({rt_clusters} clusters)")));
    }
    if rt_offset == 0 || !rt_offset.is_multiple_of(cluster_size) || rt_offset >= MAX_FILE_OFFSET {
        return Err(bad(format!("invalid refcount table offset {rt_offset:#x}")));
    }
    if rt_offset.saturating_add(rt_clusters * cluster_size) > file_len.next_multiple_of(cluster_size) {
        return Err(bad(format!(
            "refcount table ({rt_clusters} clusters at {rt_offset:#x}) is beyond the end of the \
             {file_len}-byte file"
        )));
    }
    if l1_size * 8 > MAX_L1_BYTES {
        return Err(bad(format!("active L1 table too large ({l1_size} entries)")));
    }
    // Each L1 entry maps one L2 table of cluster_size / 8 entries of one cluster each.
    let bytes_per_l1_entry = cluster_size * (cluster_size / 8);
    let needed_l1 = size.div_ceil(bytes_per_l1_entry);
    if l1_size < needed_l1 {
        return Err(bad(format!("L1 table is too small ({l1_size} entries for a {size}-byte disk, need {needed_l1})")));
    }
    if l1_size > 0 && (!l1_offset.is_multiple_of(cluster_size) || l1_offset == 0 || l1_offset >= MAX_FILE_OFFSET) {
        return Err(bad(format!("invalid L1 table offset {l1_offset:#x}")));
    }
    if l1_size > 0 && l1_offset.saturating_add(l1_size * 8) > file_len.next_multiple_of(cluster_size) {
        return Err(bad(format!(
            "L1 table ({l1_size} entries at {l1_offset:#x}) is beyond the end of the {file_len}-byte file"
        )));
    }
    if nb_snapshots > 65536 {
        return Err(bad(format!("too many internal snapshots ({nb_snapshots})")));
    }
    let backing_offset = be64(h, 8);
    let backing_len = be32(h, 16) as u64;
    if backing_offset != 0 && (backing_len > 1023 || backing_offset.saturating_add(backing_len) > cluster_size) {
        return Err(bad("invalid backing file name location".into()));
    }
    Ok(())
}

/// Before allowing writes: the clusters holding the header, the refcount table and the L1 table
/// must be covered by valid refcount blocks and have a nonzero refcount.
///
/// imago trusts the refcount structure when it allocates; with, say, the first refcount table
/// entry zeroed it would place a new refcount block over the header and then recurse without
/// bound (a stack overflow, found by `tests/fuzz_header.rs`). QEMU's metadata-overlap checks stop
/// that case; this cheap check (a few small reads) refuses such images instead, pointing the
/// user at `qemu-img check -r all`. Read-only opens never allocate and skip it.
fn check_metadata_refcounts(h: &[u8], file_len: u64, path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::FileExt;
    let bad = |reason: String| Error::Corrupt {
        path: path.to_path_buf(),
        reason: format!("{reason}; repair it with 'qemu-img check -r all' or open it read-only"),
    };
    let io_err = |source: io::Error| Error::Open { path: path.to_path_buf(), source };
    let cluster_bits = be32(h, 20);
    let cluster_size = 1u64 << cluster_bits;
    let refcount_order = if be32(h, 4) >= 3 { be32(h, 96) } else { 4 };
    let l1_size = be32(h, 36) as u64;
    let l1_offset = be64(h, 40);
    let rt_offset = be64(h, 48);
    let rt_clusters = be32(h, 56) as u64;
    // refcount entries per refcount block, as a power of two
    let rb_bits = cluster_bits + 3 - refcount_order;

    let f = fs::File::open(path).map_err(io_err)?;
    let read = |off: u64, buf: &mut [u8]| -> Result<(), Error> {
        buf.fill(0);
        let mut done = 0;
        while done < buf.len() {
            match f.read_at(&mut buf[done..], off + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(e)),
            }
        }
        Ok(())
    };

    let mut clusters: Vec<u64> = vec![0];
    clusters.extend((0..rt_clusters).map(|i| (rt_offset >> cluster_bits) + i));
    let l1_clusters = (l1_size * 8).div_ceil(cluster_size);
    clusters.extend((0..l1_clusters).map(|i| (l1_offset >> cluster_bits) + i));
    clusters.sort_unstable();
    clusters.dedup();

    let mut rb = vec![0u8; cluster_size as usize];
    let mut loaded_rb = None;
    for c in clusters {
        let rt_index = c >> rb_bits;
        if rt_index >= rt_clusters * cluster_size / 8 {
            return Err(bad(format!("metadata cluster {c} is not covered by the refcount table")));
        }
        let mut e = [0u8; 8];
        read(rt_offset + rt_index * 8, &mut e)?;
        let rb_offset = u64::from_be_bytes(e);
        if rb_offset == 0 || !rb_offset.is_multiple_of(cluster_size) || rb_offset >= file_len {
            return Err(bad(format!(
                "refcount table entry {rt_index} ({rb_offset:#x}) does not point to a refcount block"
            )));
        }
        if loaded_rb != Some(rb_offset) {
            read(rb_offset, &mut rb)?;
            loaded_rb = Some(rb_offset);
        }
        let i = (c & ((1u64 << rb_bits) - 1)) as usize;
        let refcount = match refcount_order {
            0..=2 => {
                let w = 1usize << refcount_order;
                let per_byte = 8 / w;
                (rb[i / per_byte] >> (w * (i % per_byte))) as u64 & ((1u64 << w) - 1)
            }
            o => {
                let bytes = 1usize << (o - 3);
                rb[i * bytes..(i + 1) * bytes].iter().fold(0u64, |a, &b| (a << 8) | b as u64)
            }
        };
        if refcount == 0 {
            return Err(bad(format!("metadata cluster {c} has refcount 0")));
        }
    }
    Ok(())
}

/// Turn an imago error from opening a file that is supposed to be qcow2 into our error.
fn qcow2_open_error(path: &Path, e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::Unsupported => {
            Error::Corrupt { path: path.to_path_buf(), reason: e.to_string() }
        }
        _ => Error::Open { path: path.to_path_buf(), source: e },
    }
}

/// Directory for `snapshot=on` overlays: `$TMPDIR`, else `/var/tmp` (as QEMU), else the system
/// temporary directory.
fn overlay_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TMPDIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let var_tmp = Path::new("/var/tmp");
    if var_tmp.is_dir() {
        return var_tmp.to_path_buf();
    }
    std::env::temp_dir()
}

/// Wrap `base` (opened read-only) in a temporary qcow2 overlay.
///
/// The overlay file is unlinked as soon as it exists (`tempfile::tempfile_in`, `O_TMPFILE` where
/// supported), so it disappears when the process exits, however it exits.
fn snapshot_overlay(base: FormatAccess<ImagoFile>) -> io::Result<FormatAccess<ImagoFile>> {
    let size = base.size();
    let tmp = tempfile::tempfile_in(overlay_dir())?;
    let storage = ImagoFile::from_open_file(tmp, StorageOpenOptions::new().write(true).direct(false))?;
    let overlay = Qcow2::<ImagoFile>::create_builder(storage)
        .size(size)
        .create_open(DenyImplicitOpenGate::default(), move |image| {
            Ok(Qcow2::<ImagoFile>::builder(image).backing(Some(base)).write(true))
        })?;
    Ok(FormatAccess::new(overlay))
}

impl Disk {
    /// The image file.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The image format (after probing).
    pub fn format(&self) -> Format {
        self.format
    }
    /// The cache mode.
    pub fn cache(&self) -> CacheMode {
        self.cache
    }
    /// Whether `O_DIRECT` is in use (`cache=none`/`directsync` on a file system that allows it).
    pub fn direct_io(&self) -> bool {
        self.direct
    }
    /// Whether writes go to a temporary `snapshot=on` overlay.
    pub fn is_snapshot(&self) -> bool {
        self.snapshot
    }
    /// Warnings produced while opening (e.g. "probing guessed raw"), for the CLI to print.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// Whether the device should report a volatile write cache to the guest (virtio-blk's
    /// `VIRTIO_BLK_F_FLUSH`/writeback): false for `writethrough` and `directsync`.
    pub fn write_cache_enabled(&self) -> bool {
        !self.cache.write_through()
    }
    /// The underlying imago image, e.g. for zero-copy I/O with `vm-memory` volatile slices.
    pub fn image(&self) -> &FormatAccess<ImagoFile> {
        &self.access
    }

    fn check_range(&self, offset: u64, len: u64, what: &str) -> io::Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{what} of {len} bytes at {offset:#x} is past the end of the {}-byte disk", self.size),
            )),
        }
    }

    fn check_writable(&self) -> io::Result<()> {
        if self.read_only {
            Err(io::Error::new(io::ErrorKind::PermissionDenied, "disk is read-only"))
        } else {
            Ok(())
        }
    }

    /// For a probed raw image: refuse a write that would make sector 0 start with the qcow2 magic.
    fn check_probed_sector0(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        if !self.probed_raw || offset >= 4 {
            return Ok(());
        }
        let mut head = [0u8; 4];
        self.access.read(&mut head[..], 0)?;
        for (i, b) in data.iter().enumerate() {
            let at = offset as usize + i;
            if at >= 4 {
                break;
            }
            head[at] = *b;
        }
        if head == QCOW2_MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "refusing to write a qcow2 header into a raw image whose format was probed \
                 (specify format=raw)",
            ));
        }
        Ok(())
    }

    /// `(guest offset, length, host offset)` of the ranges in `[offset, offset + len)` whose data
    /// lives in this (top) image's own, exclusively owned clusters.
    fn owned_host_ranges(&self, mut offset: u64, len: u64) -> io::Result<Vec<(u64, u64, u64)>> {
        let end = offset + len;
        let mut out = Vec::new();
        while offset < end {
            let (m, l) = self.access.get_shallow_mapping(offset, end - offset)?;
            if l == 0 {
                break;
            }
            if let ShallowMapping::Raw { offset: host, writable: true, .. } = m {
                out.push((offset, l, host));
            }
            offset += l;
        }
        Ok(out)
    }

    /// After a discard: punch holes for the owned ranges that now read as zero/unallocated.
    fn punch_discarded(&self, owned: &[(u64, u64, u64)]) -> io::Result<()> {
        let Some(fd) = &self.hole_fd else { return Ok(()) };
        for &(guest, len, host) in owned {
            let mut off = guest;
            while off < guest + len {
                let (m, l) = self.access.get_shallow_mapping(off, guest + len - off)?;
                if l == 0 {
                    break;
                }
                if matches!(m, ShallowMapping::Zero { .. } | ShallowMapping::Indirect { .. }) {
                    punch_hole(fd, host + (off - guest), l);
                }
                off += l;
            }
        }
        Ok(())
    }

    /// Write imago's metadata caches back and fsync the image (and an external data file).
    fn sync_all(&self) -> io::Result<()> {
        self.access.flush()?;
        if !self.snapshot {
            // The overlay is thrown away at exit: nothing to make durable.
            self.access.sync()?;
        }
        Ok(())
    }
}

impl BlockDevice for Disk {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.check_range(offset, buf.len() as u64, "read")?;
        if buf.is_empty() {
            return Ok(());
        }
        self.access.read(buf, offset)
    }

    fn read_vectored(&mut self, offset: u64, bufs: &mut [&mut [u8]]) -> io::Result<()> {
        let len = bufs.iter().map(|b| b.len() as u64).sum();
        self.check_range(offset, len, "read")?;
        // One `preadv` takes at most IOV_MAX (1024 on Linux) buffers.
        const IOV_MAX: usize = 1024;
        let mut at = offset;
        for group in bufs.chunks_mut(IOV_MAX) {
            let mut v = IoVectorMut::with_capacity(group.len());
            for b in group.iter_mut().filter(|b| !b.is_empty()) {
                v.push(b);
            }
            let n = v.len();
            if n > 0 {
                self.access.readv(v, at)?;
            }
            at += n;
        }
        Ok(())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.check_writable()?;
        self.check_range(offset, data.len() as u64, "write")?;
        if data.is_empty() {
            return Ok(());
        }
        self.check_probed_sector0(offset, data)?;
        self.access.write(data, offset)?;
        // Metadata stays in imago's caches until the guest flushes: the vendored copy writes
        // refcounts back before any table entry references a new cluster (vendor/README.md),
        // so a process killed before then leaves leaks at worst, never a corrupt image.
        if self.cache.write_through() {
            self.sync_all()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.cache.no_flush() {
            return Ok(());
        }
        self.sync_all()
    }

    /// A writable image whose cache mode has a write cache, unless its format was probed as
    /// raw: a write there can be refused for what it writes, which the guest must learn from
    /// that write.
    fn write_cache(&self) -> bool {
        !self.cache.write_through() && !self.read_only && !self.probed_raw
    }

    fn discard(&mut self, offset: u64, len: u64) -> io::Result<()> {
        self.check_writable()?;
        self.check_range(offset, len, "discard")?;
        if self.discard == DiscardMode::Ignore || len == 0 {
            return Ok(());
        }
        // Host ranges of clusters this image owns exclusively (imago frees discarded clusters
        // inside the image but does not give the space back to the host file system).
        let owned = match &self.hole_fd {
            Some(_) => self.owned_host_ranges(offset, len)?,
            None => Vec::new(),
        };
        match self.access.discard_to_any(offset, len) {
            Err(e) if e.kind() == io::ErrorKind::Unsupported => Ok(()),
            r => r,
        }?;
        self.punch_discarded(&owned)?;
        if self.cache.write_through() {
            self.sync_all()?;
        }
        Ok(())
    }

    fn write_zeroes(&mut self, offset: u64, len: u64) -> io::Result<()> {
        self.check_writable()?;
        self.check_range(offset, len, "write-zeroes")?;
        if len == 0 {
            return Ok(());
        }
        if self.probed_raw && offset < 4 {
            self.check_probed_sector0(offset, &[0u8; 4][..(4 - offset as usize).min(len as usize)])?;
        }
        self.access.write_zeroes(offset, len)?;
        if self.cache.write_through() {
            self.sync_all()?;
        }
        Ok(())
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        // imago's own `Drop` writes the metadata caches back; also make a clean shutdown durable,
        // as QEMU's `bdrv_close` does (except for cache=unsafe and throw-away overlays).
        if !self.read_only && !self.snapshot && !self.cache.no_flush() {
            if let Err(e) = self.sync_all() {
                tracing::error!("flushing '{}' at close failed: {e}", self.path.display());
            }
        }
    }
}
