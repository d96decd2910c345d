//! Read-ahead on the block I/O thread, for readers that wait for each read before they ask for
//! the next one (a guest `dd iflag=direct`, a boot loader, a firmware reading a kernel).
//!
//! Such a reader leaves the disk idle while it works on what it got, and then waits the whole
//! host read for the next piece. Once two reads in a row continued one another, the I/O thread
//! reads the range after the last one while it has nothing else to do, and serves the next
//! request from that copy if it asks for bytes within it: the host read then overlaps the
//! guest's own work, the way a disk's read-ahead cache does. A guest with several requests in
//! flight keeps the thread busy and gets no read-ahead; random reads get none either.
//!
//! The copy never goes stale: the I/O thread owns the disk and executes requests one at a
//! time, in order, and a write, write-zeroes or discard that touches the copy drops it before
//! it runs. A failed read-ahead is forgotten, and the guest's own read reports the error.

use crate::BlockDevice;
use mimic_core::DmaBuf;

/// The most read ahead at once: the largest request a virtio-blk driver makes here (`size_max`
/// times `seg_max` is more, but Linux caps its requests at 1280 KiB by default).
pub const MAX_WINDOW: usize = 2 << 20;

/// What the I/O thread knows of the reads so far, and the bytes it read ahead.
#[derive(Debug, Default)]
pub struct ReadAhead {
    /// Where the last read ended.
    last_end: Option<u64>,
    /// The last read's length: the window of the next read-ahead.
    last_len: usize,
    /// The last read continued the one before it.
    sequential: bool,
    /// Disk offset of `held`'s first byte.
    start: u64,
    /// Bytes read ahead (empty: none).
    held: DmaBuf,
}

impl ReadAhead {
    /// Copy `[offset, offset + total length of out)` into `out` from the bytes read ahead;
    /// false (and `out` untouched) unless all of it is held.
    pub fn serve(&mut self, offset: u64, out: &mut [&mut [u8]]) -> bool {
        let len: usize = out.iter().map(|b| b.len()).sum();
        let Some(from) = offset.checked_sub(self.start) else {
            return false;
        };
        let held = self.held.as_slice();
        if len == 0 || from.checked_add(len as u64).is_none_or(|end| end > held.len() as u64) {
            return false;
        }
        let mut at = from as usize;
        for piece in out.iter_mut() {
            piece.copy_from_slice(&held[at..at + piece.len()]);
            at += piece.len();
        }
        true
    }

    /// Note a read of `len` bytes at `offset` (served or not).
    pub fn note_read(&mut self, offset: u64, len: usize) {
        self.sequential = self.last_end == Some(offset);
        self.last_end = offset.checked_add(len as u64);
        self.last_len = len;
    }

    /// `[offset, offset + len)` is about to be written: drop the copy if it overlaps.
    pub fn invalidate(&mut self, offset: u64, len: u64) {
        let held_end = self.start.saturating_add(self.held.len() as u64);
        if !self.held.is_empty() && offset < held_end && offset.saturating_add(len) > self.start {
            self.held.resize(0);
        }
    }

    /// The I/O thread has nothing to do: read the range a sequential reader asks for next,
    /// unless it is held already.
    pub fn fill(&mut self, dev: &mut dyn BlockDevice) {
        let Some(start) = self.last_end.filter(|_| self.sequential) else {
            return;
        };
        let window = (self.last_len.min(MAX_WINDOW) as u64).min(dev.size().saturating_sub(start)) as usize;
        let held_end = self.start.saturating_add(self.held.len() as u64);
        if window == 0 || (start >= self.start && start + window as u64 <= held_end) {
            return;
        }
        self.start = start;
        self.held.resize(window);
        if dev.read_at(start, &mut self.held).is_err() {
            self.held.resize(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// A disk whose byte at `i` is `i as u8`, counting the reads it does.
    struct Counting {
        data: Vec<u8>,
        reads: usize,
        fail: bool,
    }

    impl Counting {
        fn new(len: usize) -> Self {
            Counting { data: (0..len).map(|i| i as u8).collect(), reads: 0, fail: false }
        }
    }

    impl BlockDevice for Counting {
        fn size(&self) -> u64 {
            self.data.len() as u64
        }
        fn read_only(&self) -> bool {
            false
        }
        fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
            self.reads += 1;
            if self.fail {
                return Err(io::Error::other("injected"));
            }
            buf.copy_from_slice(&self.data[offset as usize..offset as usize + buf.len()]);
            Ok(())
        }
        fn write_at(&mut self, _: u64, _: &[u8]) -> io::Result<()> {
            unreachable!("read-ahead never writes")
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn discard(&mut self, _: u64, _: u64) -> io::Result<()> {
            Ok(())
        }
    }

    fn serve(ra: &mut ReadAhead, offset: u64, len: usize) -> Option<Vec<u8>> {
        let mut out = vec![0u8; len];
        ra.serve(offset, &mut [&mut out[..]]).then_some(out)
    }

    #[test]
    fn two_reads_in_a_row_start_read_ahead_of_the_next() {
        let mut dev = Counting::new(64 << 10);
        let mut ra = ReadAhead::default();
        ra.note_read(0, 4096);
        ra.fill(&mut dev);
        assert_eq!(dev.reads, 0, "one read is no stream yet");
        ra.note_read(4096, 4096);
        ra.fill(&mut dev);
        assert_eq!(dev.reads, 1);
        assert_eq!(serve(&mut ra, 8192, 4096), Some(dev.data[8192..12288].to_vec()));
    }

    #[test]
    fn a_read_outside_the_held_bytes_is_not_served() {
        let mut dev = Counting::new(64 << 10);
        let mut ra = ReadAhead::default();
        ra.note_read(0, 4096);
        ra.note_read(4096, 4096);
        ra.fill(&mut dev);
        assert_eq!(serve(&mut ra, 8192 + 512, 4096), None, "runs past the held window");
        assert_eq!(serve(&mut ra, 4096, 4096), None, "before the held window");
        assert_eq!(serve(&mut ra, 8192 + 512, 1024).as_deref(), Some(&dev.data[8704..9728]));
    }

    #[test]
    fn a_read_is_served_into_several_pieces_in_order() {
        let mut dev = Counting::new(64 << 10);
        let mut ra = ReadAhead::default();
        ra.note_read(0, 8192);
        ra.note_read(8192, 8192);
        ra.fill(&mut dev);
        let (mut a, mut b) = (vec![0u8; 100], vec![0u8; 8092]);
        assert!(ra.serve(16384, &mut [&mut a[..], &mut b[..]]));
        assert_eq!(a, dev.data[16384..16484]);
        assert_eq!(b, dev.data[16484..24576]);
    }

    #[test]
    fn random_reads_read_nothing_ahead() {
        let mut dev = Counting::new(64 << 10);
        let mut ra = ReadAhead::default();
        for off in [8192, 0, 40960, 4096, 20480] {
            ra.note_read(off, 4096);
            ra.fill(&mut dev);
        }
        assert_eq!(dev.reads, 0);
    }

    #[test]
    fn a_write_over_the_held_bytes_drops_them_and_one_beside_them_does_not() {
        let mut dev = Counting::new(64 << 10);
        let mut ra = ReadAhead::default();
        ra.note_read(0, 4096);
        ra.note_read(4096, 4096);
        ra.fill(&mut dev);
        ra.invalidate(12288, 4096);
        ra.invalidate(0, 8192);
        assert!(serve(&mut ra, 8192, 4096).is_some(), "writes beside the window keep it");
        ra.invalidate(12287, 1);
        assert_eq!(serve(&mut ra, 8192, 4096), None);
    }

    #[test]
    fn the_window_stops_at_the_end_of_the_disk() {
        let mut dev = Counting::new(12288);
        let mut ra = ReadAhead::default();
        ra.note_read(0, 4096);
        ra.note_read(4096, 6144);
        ra.fill(&mut dev);
        assert_eq!(serve(&mut ra, 10240, 2048).as_deref(), Some(&dev.data[10240..]));
        ra.note_read(10240, 2048);
        ra.fill(&mut dev);
        assert_eq!(dev.reads, 1, "nothing is left to read ahead");
    }

    #[test]
    fn held_bytes_are_not_read_again() {
        let mut dev = Counting::new(64 << 10);
        let mut ra = ReadAhead::default();
        ra.note_read(0, 8192);
        ra.note_read(8192, 8192);
        ra.fill(&mut dev);
        // The reader goes on in smaller steps within the window [16384, 24576).
        ra.note_read(16384, 4096);
        ra.fill(&mut dev);
        assert_eq!(dev.reads, 1, "the next 4 KiB are held");
        ra.note_read(20480, 4096);
        ra.fill(&mut dev);
        assert_eq!(dev.reads, 2, "the 4 KiB after the window are not");
        assert_eq!(serve(&mut ra, 24576, 4096).as_deref(), Some(&dev.data[24576..28672]));
    }

    #[test]
    fn a_failed_read_ahead_holds_nothing() {
        let mut dev = Counting::new(64 << 10);
        dev.fail = true;
        let mut ra = ReadAhead::default();
        ra.note_read(0, 4096);
        ra.note_read(4096, 4096);
        ra.fill(&mut dev);
        assert_eq!(serve(&mut ra, 8192, 4096), None);
    }
}
