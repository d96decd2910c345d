//! A bounded frame queue shared between a backend thread and the backend handle.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// FIFO of frames bounded by count and bytes; pushes beyond either bound are dropped and counted.
#[derive(Debug)]
pub(crate) struct FrameQueue {
    inner: Mutex<Inner>,
    max_frames: usize,
    max_bytes: usize,
    pushed: AtomicU64,
    popped: AtomicU64,
    dropped: AtomicU64,
}

#[derive(Debug, Default)]
struct Inner {
    frames: VecDeque<Vec<u8>>,
    bytes: usize,
}

impl FrameQueue {
    pub(crate) fn new(max_frames: usize, max_bytes: usize) -> Self {
        FrameQueue {
            inner: Mutex::new(Inner::default()),
            max_frames,
            max_bytes,
            pushed: AtomicU64::new(0),
            popped: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue a frame; false (and counted as dropped) when the queue is full.
    pub(crate) fn push(&self, frame: Vec<u8>) -> bool {
        let mut q = self.lock();
        if q.frames.len() >= self.max_frames || q.bytes + frame.len() > self.max_bytes {
            drop(q);
            self.count_drop();
            return false;
        }
        q.bytes += frame.len();
        q.frames.push_back(frame);
        self.pushed.fetch_add(1, Ordering::Relaxed);
        true
    }

    pub(crate) fn pop(&self) -> Option<Vec<u8>> {
        let mut q = self.lock();
        let f = q.frames.pop_front()?;
        q.bytes -= f.len();
        self.popped.fetch_add(1, Ordering::Relaxed);
        Some(f)
    }

    pub(crate) fn count_drop(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn pushed(&self) -> u64 {
        self.pushed.load(Ordering::Relaxed)
    }
    pub(crate) fn popped(&self) -> u64 {
        self.popped.load(Ordering::Relaxed)
    }
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_frames_and_bytes() {
        let q = FrameQueue::new(3, 100);
        assert!(q.push(vec![0; 10]));
        assert!(q.push(vec![0; 10]));
        assert!(q.push(vec![0; 10]));
        assert!(!q.push(vec![0; 10]));
        assert_eq!(q.dropped(), 1);
        assert_eq!(q.pop().map(|f| f.len()), Some(10));
        assert!(!q.push(vec![0; 81]), "byte bound");
        assert!(q.push(vec![0; 80]));
        assert_eq!(q.dropped(), 2);
        assert_eq!((q.pushed(), q.popped()), (4, 1));
    }
}
