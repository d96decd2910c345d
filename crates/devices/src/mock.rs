//! Test doubles for device tests, here and in other crates (feature `test-utils`).

use mimic_core::IrqLine;
use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An [`IrqLine`] that records every level it is driven to. Clones share the record, so a test
/// keeps one clone and hands the other to the device.
#[derive(Clone, Default, Debug)]
pub struct RecordingIrq(Arc<Mutex<Vec<bool>>>);

impl RecordingIrq {
    pub fn new() -> Self {
        Self::default()
    }
    /// The current level (low if never driven).
    pub fn level(&self) -> bool {
        lock(&self.0).last().copied().unwrap_or(false)
    }
    /// Every level driven so far, oldest first.
    pub fn history(&self) -> Vec<bool> {
        lock(&self.0).clone()
    }
    /// Forget the history (the current level reads low until driven again).
    pub fn clear(&self) {
        lock(&self.0).clear();
    }
}

impl IrqLine for RecordingIrq {
    fn set_level(&self, high: bool) {
        lock(&self.0).push(high);
    }
}

/// A writer into a shared `Vec<u8>` that also counts flushes. Clones share the buffer.
#[derive(Clone, Default, Debug)]
pub struct SharedWriter {
    buf: Arc<Mutex<Vec<u8>>>,
    flushes: Arc<AtomicUsize>,
}

impl SharedWriter {
    pub fn new() -> Self {
        Self::default()
    }
    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        lock(&self.buf).clone()
    }
    /// Everything written so far, as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&lock(&self.buf)).into_owned()
    }
    pub fn flushes(&self) -> usize {
        self.flushes.load(Ordering::SeqCst)
    }
}

impl Write for SharedWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        lock(&self.buf).extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.flushes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A writer whose every write and flush fails (a closed pipe, a full disk).
#[derive(Clone, Copy, Default, Debug)]
pub struct FailingWriter;

impl Write for FailingWriter {
    fn write(&mut self, _data: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(io::ErrorKind::BrokenPipe, "test: writer closed"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::BrokenPipe, "test: writer closed"))
    }
}

/// A [`NetBackend`](crate::virtio_net::NetBackend) for NIC tests: frames queued for the guest,
/// and the frames the guest sent.
#[derive(Default, Debug)]
pub struct TestNet {
    pub incoming: std::collections::VecDeque<Vec<u8>>,
    pub sent: Vec<Vec<u8>>,
}

impl crate::virtio_net::NetBackend for TestNet {
    fn send(&mut self, frame: &[u8]) {
        self.sent.push(frame.to_vec());
    }
    fn recv(&mut self) -> Option<Vec<u8>> {
        self.incoming.pop_front()
    }
    fn has_frames(&self) -> bool {
        !self.incoming.is_empty()
    }
}
