//! Write-behind: a disk with a volatile write cache may answer a write before the write reaches
//! the image, as a real disk answers from its cache.
//!
//! Only a disk whose cache mode has a write cache ([`crate::BlockDevice::write_cache`]:
//! `writeback`, `none`, `unsafe`) does it; virtio-blk offers FLUSH and the AHCI disk reports its
//! write cache, so the guest knows that a write is durable only after a flush. The I/O thread
//! still executes every request in order, so a read, flush or discard submitted after such a
//! write runs after it, and a flush does not complete before every write answered early has
//! reached the image. A write answered early that then fails makes the next flush fail with its
//! error, which is how a guest learns of a lost write in a volatile cache. At most [`LIMIT`]
//! bytes are answered and not yet written; past that, writes are answered when done, which
//! bounds both the memory held and what a killed process loses (what a power cut loses from a
//! disk's cache: the guest's file systems flush before they rely on a write).
//!
//! For a guest that waits for each write before the next (`dd oflag=direct`) this overlaps the
//! host write with the guest's work on the next one.

use mimic_core::DmaBuf;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Most bytes of writes answered and not yet on the image.
pub const LIMIT: u64 = 8 << 20;

/// Written buffers kept to hand back with later early answers, so a steady stream of writes
/// allocates nothing.
const SPARE_BUFFERS: usize = 4;

/// What the submitting side and the I/O thread share about writes answered early.
#[derive(Debug, Default)]
pub struct WriteBehind {
    /// Bytes answered and not yet written.
    pending: AtomicU64,
    /// The first failure among them, for the next flush.
    error: Mutex<Option<io::Error>>,
    spare: Mutex<Vec<DmaBuf>>,
}

impl WriteBehind {
    /// Reserve room for a write of `len` bytes to be answered now; false when the cache is full.
    pub fn reserve(&self, len: u64) -> bool {
        let mut now = self.pending.load(Ordering::Acquire);
        loop {
            if now.saturating_add(len) > LIMIT {
                return false;
            }
            match self.pending.compare_exchange_weak(now, now + len, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return true,
                Err(seen) => now = seen,
            }
        }
    }

    /// A written buffer to reuse, if one is spare.
    pub fn spare(&self) -> Option<DmaBuf> {
        self.spare.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    /// The I/O thread wrote (or failed to write) a write answered early.
    pub fn written(&self, result: io::Result<()>, buf: DmaBuf) {
        let len = buf.len() as u64;
        if let Err(e) = result {
            self.error.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(e);
        }
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        if spare.len() < SPARE_BUFFERS {
            spare.push(buf);
        }
        drop(spare);
        self.pending.fetch_sub(len, Ordering::AcqRel);
    }

    /// The failure of a write answered early since the last call, for a flush to report.
    pub fn take_error(&self) -> Option<io::Error> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Bytes answered and not yet written.
    #[cfg(test)]
    fn pending(&self) -> u64 {
        self.pending.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_stop_at_the_limit_and_resume_as_writes_finish() {
        let wb = WriteBehind::default();
        assert!(wb.reserve(LIMIT - 4096));
        assert!(!wb.reserve(8192));
        assert!(wb.reserve(4096));
        assert!(!wb.reserve(1));
        wb.written(Ok(()), DmaBuf::new(4096));
        assert_eq!(wb.pending(), LIMIT - 4096);
        assert!(wb.reserve(4096));
    }

    #[test]
    fn the_first_failure_is_reported_once() {
        let wb = WriteBehind::default();
        wb.reserve(1024);
        wb.reserve(1024);
        wb.written(Err(io::Error::other("first")), DmaBuf::new(512));
        wb.written(Err(io::Error::other("second")), DmaBuf::new(512));
        assert_eq!(wb.take_error().map(|e| e.to_string()).as_deref(), Some("first"));
        assert!(wb.take_error().is_none());
    }

    #[test]
    fn written_buffers_come_back_as_spares_up_to_a_few() {
        let wb = WriteBehind::default();
        wb.reserve(LIMIT);
        for _ in 0..SPARE_BUFFERS + 2 {
            wb.written(Ok(()), DmaBuf::new(1));
        }
        let spares = std::iter::from_fn(|| wb.spare()).count();
        assert_eq!(spares, SPARE_BUFFERS);
    }
}
