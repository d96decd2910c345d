//! Bytes at offsets: the disk images behind mimic's disks.
//!
//! What QEMU's `-drive file=F,format=raw|qcow2,readonly=,snapshot=,cache=,discard=` asks for:
//!
//! - [`DriveOptions::parse_drive`] parses the `-drive` option list (QEMU's `,,` escaping).
//! - [`open`] opens the image through [imago](https://docs.rs/imago) (raw and qcow2, qcow2
//!   backing chains, `snapshot=on` temporary overlays, read-only) and returns a [`Disk`].
//! - [`Disk`] implements the synchronous [`BlockDevice`] trait; [`IoThread`] runs a
//!   [`BlockDevice`] on a worker thread so disk I/O never stalls the vCPU loop.
//!
//! # Format probing
//! Without `format=`, a file whose first bytes are the qcow2 magic (`QFI\xfb`, version 2 or 3) is
//! opened as qcow2; anything else is raw, with a one-line warning (see [`Disk::warnings`]) and,
//! as in QEMU, guest writes that would put a qcow2 magic into the first sector are refused, so a
//! guest can never turn its raw disk into a qcow2 image that names a host file as backing file.
//! A file with the qcow2 magic but a corrupt header is an [`Error::Corrupt`], never a panic.
//!
//! # Cache modes and flushes
//! See [`CacheMode`]. For every mode but `unsafe`, [`BlockDevice::flush`] writes imago's
//! metadata caches (L2 tables, refcount blocks) back to the file and then `fsync`s the image
//! (and an external data file); `writethrough`/`directsync` do that after every write; `none`
//! and `directsync` open the image with `O_DIRECT` (falling back to buffered I/O, with a warning,
//! on file systems that refuse `O_DIRECT`). `unsafe` ignores flushes (metadata still reaches the
//! file when the disk is dropped).
//!
//! `writeback`, `none` and `unsafe` have a volatile write cache, as QEMU reports to the guest:
//! there an [`IoThread`] answers up to 8 MiB of writes before they reach the image, and a flush
//! waits for them and reports any that failed (`write_behind.rs`). An image whose format was
//! probed as raw never does, since its writes can be refused for their contents.
//!
//! # Crash safety (SIGKILL)
//! imago orders qcow2 metadata writes like QEMU does: guest data is written before the L2 entry
//! that points to it is committed, and its L2/refblock caches carry a flush dependency (refcount
//! blocks are written before the L2 tables that reference newly allocated clusters, and L2
//! tables before refblocks when clusters are freed). Killing the process loses only what was
//! still in those in-process caches, which can leave leaked clusters (refcount ≥ 1, no
//! reference; `qemu-img check` exit code 3) but never a reference to a cluster with refcount 0.
//! The test `tests/crash.rs` SIGKILLs a writer and runs `qemu-img check`.
//!
//! Writes answered early and not yet written (at most 8 MiB, see above) are lost too, as a power
//! cut loses a disk's write cache; the image stays as consistent as after any kill, and the guest
//! relied on none of them before a flush.
//!
//! imago issues no `fsync` between those ordered writes, so the ordering holds against process
//! death (the page cache keeps write order) but is not a write barrier against host power loss
//! before the next guest flush; a guest flush (or writethrough mode) makes everything durable.

mod disk;
mod io_thread;
mod options;
mod read_ahead;
mod write_behind;

pub use disk::{open, Disk};
pub use io_thread::{AsyncDisk, Completion, IoThread, Request, RequestId};
pub use options::{split_opts, CacheMode, DiscardMode, DriveOptions, Format, Interface, Media};

use std::io;
use std::path::PathBuf;

/// A block device backend: bytes at offsets.
///
/// The virtio-blk device model has an identically shaped `BlockBackend` trait.
pub trait BlockDevice: Send {
    /// Size of the disk in bytes.
    fn size(&self) -> u64;
    /// Whether writes, discards and write-zeroes are refused.
    fn read_only(&self) -> bool;
    /// Fill `buf` from `offset`. A range past the end is an error (`UnexpectedEof`).
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Fill `bufs`, one after the other, from `offset` (a scatter read). A range past the end is
    /// an error. The default reads each buffer with [`BlockDevice::read_at`].
    fn read_vectored(&mut self, mut offset: u64, bufs: &mut [&mut [u8]]) -> io::Result<()> {
        for b in bufs.iter_mut() {
            self.read_at(offset, b)?;
            offset += b.len() as u64;
        }
        Ok(())
    }
    /// Write `data` at `offset`. A range past the end is an error (`UnexpectedEof`); a read-only
    /// device gives `PermissionDenied`.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Make everything written so far durable (per the cache mode).
    fn flush(&mut self) -> io::Result<()>;
    /// Whether the device has a volatile write cache: a write is durable only after a flush,
    /// so an [`IoThread`] may answer writes before they are done. The default says no.
    fn write_cache(&self) -> bool {
        false
    }
    /// The guest no longer needs `[offset, offset + len)`; its contents become unspecified.
    fn discard(&mut self, offset: u64, len: u64) -> io::Result<()>;
    /// Make `[offset, offset + len)` read as zeroes. The default writes zero buffers.
    fn write_zeroes(&mut self, offset: u64, len: u64) -> io::Result<()> {
        let zeroes = vec![0u8; len.min(1 << 20) as usize];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(zeroes.len() as u64);
            self.write_at(offset + done, &zeroes[..n as usize])?;
            done += n;
        }
        Ok(())
    }
}

impl<T: BlockDevice + ?Sized> BlockDevice for Box<T> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_only(&self) -> bool {
        (**self).read_only()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        (**self).read_at(offset, buf)
    }
    fn read_vectored(&mut self, offset: u64, bufs: &mut [&mut [u8]]) -> io::Result<()> {
        (**self).read_vectored(offset, bufs)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        (**self).write_at(offset, data)
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
    fn write_cache(&self) -> bool {
        (**self).write_cache()
    }
    fn discard(&mut self, offset: u64, len: u64) -> io::Result<()> {
        (**self).discard(offset, len)
    }
    fn write_zeroes(&mut self, offset: u64, len: u64) -> io::Result<()> {
        (**self).write_zeroes(offset, len)
    }
}

/// Why a drive could not be parsed or opened.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed `-drive` option list or value.
    #[error("{0}")]
    Parse(String),
    /// A `-drive` key we do not know.
    #[error("drive: invalid parameter '{0}'")]
    UnknownKey(String),
    /// `format=` names a format we do not support.
    #[error("unknown or unsupported image format '{0}' (supported: raw, qcow2)")]
    UnsupportedFormat(String),
    /// The file (or a file it references) could not be opened or read.
    #[error("could not open '{}': {source}", path.display())]
    Open {
        /// The image file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The file claims to be qcow2 (or was opened with `format=qcow2`) but its metadata is invalid.
    #[error("'{}' is not a valid qcow2 image: {reason}", path.display())]
    Corrupt {
        /// The image file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The temporary overlay for `snapshot=on` could not be created.
    #[error("could not create the temporary snapshot overlay for '{}': {source}", path.display())]
    Snapshot {
        /// The image file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn invalid_value(key: &str, value: &str) -> Error {
        Error::Parse(format!("drive: invalid value '{value}' for parameter '{key}'"))
    }
    pub(crate) fn missing_value(key: &str) -> Error {
        Error::Parse(format!("drive: parameter '{key}' needs a value ({key}=...)"))
    }
}
