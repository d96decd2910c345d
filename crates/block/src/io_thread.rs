//! Running a [`BlockDevice`] on a worker thread, so disk I/O never stalls the vCPU loop.
//!
//! Requests are executed one at a time, in submission order, so a [`Request::Flush`] completes
//! only after every request submitted before it has completed (the ordering virtio-blk's FLUSH
//! needs). Completions arrive on a channel; an optional notifier is called after each one is
//! queued, so the device model can raise its interrupt or kick its event loop. While no
//! request waits, the worker reads ahead for a sequential reader ([`crate::read_ahead`]); a disk
//! with a write cache answers writes before they are done ([`crate::write_behind`]).

use crate::read_ahead::ReadAhead;
use crate::write_behind::WriteBehind;
use crate::BlockDevice;
use mimic_core::{DmaBuf, LentMemory};
use std::collections::VecDeque;
use std::io;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Identifies a submitted request; unique per [`IoThread`], increasing.
pub type RequestId = u64;

/// One block request. Buffers move to the worker and come back in the [`Completion`], so the
/// caller can reuse them; they are [`DmaBuf`]s so that `O_DIRECT` images need no bounce buffer.
#[derive(Debug)]
pub enum Request {
    /// Read `buf.len()` bytes at `offset` into `buf`.
    Read {
        /// Disk offset.
        offset: u64,
        /// Filled by the worker.
        buf: DmaBuf,
    },
    /// Read `into.len()` bytes at `offset` into memory lent by the caller (guest RAM), in
    /// place. The completion has no buffer; dropping `into` there ends the loan.
    ReadInto {
        /// Disk offset.
        offset: u64,
        /// Filled by the worker.
        into: Box<dyn LentMemory>,
    },
    /// Write `data` at `offset`.
    Write {
        /// Disk offset.
        offset: u64,
        /// The bytes.
        data: DmaBuf,
    },
    /// Flush (per the cache mode).
    Flush,
    /// Discard a range.
    Discard {
        /// Disk offset.
        offset: u64,
        /// Length in bytes.
        len: u64,
    },
    /// Make a range read as zeroes.
    WriteZeroes {
        /// Disk offset.
        offset: u64,
        /// Length in bytes.
        len: u64,
    },
}

/// A finished request.
#[derive(Debug)]
pub struct Completion {
    /// What [`IoThread::submit`] returned.
    pub id: RequestId,
    /// Outcome.
    pub result: io::Result<()>,
    /// The request's buffer (the data read, for [`Request::Read`]); `None` for requests without
    /// a buffer.
    pub buf: Option<DmaBuf>,
}

type Notify = Box<dyn Fn() + Send>;

/// What the worker gets: a request, and whether it was answered already (a write behind).
type Job = (RequestId, Request, bool);

/// A [`BlockDevice`] owned by a worker thread.
pub struct IoThread {
    tx: Option<Sender<Job>>,
    rx: Receiver<Completion>,
    worker: Option<JoinHandle<Box<dyn BlockDevice>>>,
    next_id: RequestId,
    in_flight: usize,
    size: u64,
    read_only: bool,
    /// Writes may be answered before they are done (the device has a write cache).
    behind: Option<Arc<WriteBehind>>,
    /// Completions made here: writes answered early, requests a dead worker could not take.
    ready: VecDeque<Completion>,
}

/// The name the virtio-blk integration may prefer.
pub type AsyncDisk = IoThread;

impl std::fmt::Debug for IoThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoThread").field("in_flight", &self.in_flight).field("size", &self.size).finish()
    }
}

impl IoThread {
    /// Move `dev` to a new worker thread.
    pub fn new(dev: impl BlockDevice + 'static) -> io::Result<Self> {
        Self::spawn(Box::new(dev), None)
    }

    /// Like [`IoThread::new`], calling `notify` on the worker thread after each completion is
    /// queued (e.g. to write an eventfd or unpark the device loop).
    pub fn with_notify(dev: impl BlockDevice + 'static, notify: impl Fn() + Send + 'static) -> io::Result<Self> {
        Self::spawn(Box::new(dev), Some(Box::new(notify)))
    }

    fn spawn(mut dev: Box<dyn BlockDevice>, notify: Option<Notify>) -> io::Result<Self> {
        let (tx, req_rx) = mpsc::channel::<Job>();
        let (done_tx, rx) = mpsc::channel::<Completion>();
        let size = dev.size();
        let read_only = dev.read_only();
        let behind = (dev.write_cache() && !read_only).then(|| Arc::new(WriteBehind::default()));
        let shared = behind.clone().unwrap_or_default();
        let worker = std::thread::Builder::new().name("mimic-block-io".into()).spawn(move || {
            let mut ahead = ReadAhead::default();
            loop {
                let (id, req, answered) = match req_rx.try_recv() {
                    Ok(r) => r,
                    Err(TryRecvError::Disconnected) => break,
                    Err(TryRecvError::Empty) => {
                        ahead.fill(dev.as_mut());
                        match req_rx.recv() {
                            Ok(r) => r,
                            Err(_) => break,
                        }
                    }
                };
                let completion = execute(dev.as_mut(), &mut ahead, &shared, id, req);
                if answered {
                    if let Some(buf) = completion.buf {
                        shared.written(completion.result, buf);
                    }
                    continue;
                }
                if done_tx.send(completion).is_err() {
                    // Nobody listens any more; keep draining so every write still happens.
                    continue;
                }
                if let Some(n) = &notify {
                    n();
                }
            }
            dev
        })?;
        Ok(IoThread {
            tx: Some(tx),
            rx,
            worker: Some(worker),
            next_id: 0,
            in_flight: 0,
            size,
            read_only,
            behind,
            ready: VecDeque::new(),
        })
    }

    /// Queue `req`; never blocks. With a write cache, a write may be answered at once (see
    /// `write_behind.rs`); its completion then carries a spare buffer, if any, rather than
    /// its own.
    pub fn submit(&mut self, req: Request) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        self.in_flight += 1;
        let answer = match (&req, &self.behind) {
            (Request::Write { data, .. }, Some(b)) => b.reserve(data.len() as u64).then(|| b.spare()),
            _ => None,
        };
        let tx = self.tx.as_ref().expect("IoThread used after shutdown");
        match tx.send((id, req, answer.is_some())) {
            Ok(()) => {
                if let Some(buf) = answer {
                    self.ready.push_back(Completion { id, result: Ok(()), buf });
                }
            }
            Err(mpsc::SendError((id, req, _))) => {
                // The worker is gone (it panicked): fail the request here.
                let buf = match req {
                    Request::Read { buf, .. } => Some(buf),
                    Request::Write { data, .. } => Some(data),
                    _ => None,
                };
                let result = Err(io::Error::other("block I/O thread is gone"));
                self.ready.push_back(Completion { id, result, buf });
            }
        }
        id
    }

    /// The next completion if one is ready now; never blocks (nor allocates).
    pub fn try_completion(&mut self) -> Option<Completion> {
        if let Some(c) = self.ready.pop_front() {
            self.in_flight -= 1;
            return Some(c);
        }
        let c = self.rx.try_recv().ok()?;
        self.in_flight -= 1;
        Some(c)
    }

    /// Completions that are ready now; never blocks.
    pub fn poll_completions(&mut self) -> Vec<Completion> {
        let mut out: Vec<Completion> = self.ready.drain(..).collect();
        self.in_flight -= out.len();
        while let Ok(c) = self.rx.try_recv() {
            self.in_flight -= 1;
            out.push(c);
        }
        out
    }

    /// Block until the next completion; `None` if nothing is in flight.
    pub fn wait_completion(&mut self) -> Option<Completion> {
        if self.in_flight == 0 {
            return None;
        }
        if let Some(c) = self.ready.pop_front() {
            self.in_flight -= 1;
            return Some(c);
        }
        let c = self.rx.recv().ok()?;
        self.in_flight -= 1;
        Some(c)
    }

    /// Submitted requests whose completions have not been collected yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Disk size, as the device reported when it was moved to the worker.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether the device is read-only.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Finish every queued request, stop the worker and return the device. Completions not yet
    /// collected are dropped.
    pub fn shutdown(mut self) -> Option<Box<dyn BlockDevice>> {
        self.stop()
    }

    fn stop(&mut self) -> Option<Box<dyn BlockDevice>> {
        self.tx = None;
        self.worker.take().and_then(|w| w.join().ok())
    }
}

impl Drop for IoThread {
    fn drop(&mut self) {
        // Let queued writes finish, then drop the device (which flushes per its cache mode).
        drop(self.stop());
    }
}

fn execute(
    dev: &mut dyn BlockDevice,
    ahead: &mut ReadAhead,
    behind: &WriteBehind,
    id: RequestId,
    req: Request,
) -> Completion {
    let (result, buf) = match req {
        Request::Read { offset, mut buf } => (read(dev, ahead, offset, &mut [&mut buf[..]]), Some(buf)),
        Request::ReadInto { offset, mut into } => (read(dev, ahead, offset, &mut into.slices_mut()), None),
        Request::Write { offset, data } => {
            ahead.invalidate(offset, data.len() as u64);
            (dev.write_at(offset, &data), Some(data))
        }
        Request::Flush => {
            // Every write answered early ran before this; one that failed fails the flush.
            let flushed = dev.flush();
            (behind.take_error().map_or(flushed, Err), None)
        }
        Request::Discard { offset, len } => {
            ahead.invalidate(offset, len);
            (dev.discard(offset, len), None)
        }
        Request::WriteZeroes { offset, len } => {
            ahead.invalidate(offset, len);
            (dev.write_zeroes(offset, len), None)
        }
    };
    Completion { id, result, buf }
}

fn read(dev: &mut dyn BlockDevice, ahead: &mut ReadAhead, offset: u64, out: &mut [&mut [u8]]) -> io::Result<()> {
    let len = out.iter().map(|b| b.len()).sum();
    let result = if ahead.serve(offset, out) { Ok(()) } else { dev.read_vectored(offset, out) };
    ahead.note_read(offset, len);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write_behind::LIMIT;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::Duration;

    /// A disk in memory (byte `i` starts as `i as u8`) that logs the reads it does; its writes
    /// wait while the gate is shut, and fail when told to.
    #[derive(Clone)]
    struct Logged {
        data: Arc<Mutex<Vec<u8>>>,
        reads: Arc<Mutex<Vec<u64>>>,
        cache: bool,
        shut: Arc<(Mutex<bool>, Condvar)>,
        fail_writes: Arc<AtomicBool>,
    }

    impl Logged {
        fn new(len: usize) -> Self {
            Logged {
                data: Arc::new(Mutex::new((0..len).map(|i| i as u8).collect())),
                reads: Arc::new(Mutex::new(Vec::new())),
                cache: false,
                shut: Arc::default(),
                fail_writes: Arc::default(),
            }
        }
        fn with_write_cache(len: usize) -> Self {
            Logged { cache: true, ..Logged::new(len) }
        }
        fn reads(&self) -> Vec<u64> {
            self.reads.lock().unwrap().clone()
        }
        fn bytes(&self, at: usize, len: usize) -> Vec<u8> {
            self.data.lock().unwrap()[at..at + len].to_vec()
        }
        fn gate(&self, shut: bool) {
            *self.shut.0.lock().unwrap() = shut;
            self.shut.1.notify_all();
        }
    }

    impl BlockDevice for Logged {
        fn size(&self) -> u64 {
            self.data.lock().unwrap().len() as u64
        }
        fn read_only(&self) -> bool {
            false
        }
        fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
            self.reads.lock().unwrap().push(offset);
            let data = self.data.lock().unwrap();
            buf.copy_from_slice(&data[offset as usize..offset as usize + buf.len()]);
            Ok(())
        }
        fn write_at(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
            let mut shut = self.shut.0.lock().unwrap();
            while *shut {
                shut = self.shut.1.wait(shut).unwrap();
            }
            if self.fail_writes.load(Ordering::Relaxed) {
                return Err(io::Error::other("injected write failure"));
            }
            self.data.lock().unwrap()[offset as usize..offset as usize + bytes.len()].copy_from_slice(bytes);
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn write_cache(&self) -> bool {
            self.cache
        }
        fn discard(&mut self, _: u64, _: u64) -> io::Result<()> {
            Ok(())
        }
    }

    /// Submit `req` and wait for it, then give the idle worker time to read ahead.
    fn run(io: &mut IoThread, req: Request) -> Completion {
        io.submit(req);
        let c = io.wait_completion().expect("a completion");
        std::thread::sleep(Duration::from_millis(30));
        c
    }

    fn read(io: &mut IoThread, offset: u64, len: usize) -> Vec<u8> {
        let c = run(io, Request::Read { offset, buf: DmaBuf::new(len) });
        c.result.expect("read");
        c.buf.expect("the buffer").to_vec()
    }

    #[test]
    fn a_reader_that_waits_for_each_read_gets_the_next_from_read_ahead() {
        let dev = Logged::new(64 << 10);
        let mut io = IoThread::new(dev.clone()).unwrap();
        read(&mut io, 0, 4096);
        read(&mut io, 4096, 4096);
        assert_eq!(dev.reads(), [0, 4096, 8192], "the worker read on while idle");
        assert_eq!(read(&mut io, 8192, 4096), dev.data.lock().unwrap()[8192..12288]);
        assert_eq!(dev.reads(), [0, 4096, 8192, 12288], "8192 was served from memory");
    }

    #[test]
    fn a_write_after_read_ahead_is_what_the_next_read_returns() {
        let dev = Logged::new(64 << 10);
        let mut io = IoThread::new(dev.clone()).unwrap();
        read(&mut io, 0, 4096);
        read(&mut io, 4096, 4096);
        assert!(dev.reads().contains(&8192), "read ahead");
        let fresh = vec![0xa5u8; 1024];
        run(&mut io, Request::Write { offset: 9000, data: DmaBuf::from_slice(&fresh) }).result.unwrap();
        assert_eq!(read(&mut io, 8192, 4096)[808..1832], fresh[..]);
    }

    #[test]
    fn write_zeroes_and_discard_also_drop_what_was_read_ahead() {
        let dev = Logged::new(64 << 10);
        let mut io = IoThread::new(dev.clone()).unwrap();
        read(&mut io, 0, 4096);
        read(&mut io, 4096, 4096);
        run(&mut io, Request::WriteZeroes { offset: 8192, len: 512 }).result.unwrap();
        assert_eq!(read(&mut io, 8192, 4096)[..512], [0u8; 512]);
        let before = dev.reads().len();
        run(&mut io, Request::Discard { offset: 12288, len: 4096 }).result.unwrap();
        read(&mut io, 12288, 4096);
        assert_eq!(dev.reads().len(), before + 2, "read again after the discard, then ahead");
    }

    /// Opens the gate when dropped: declared after the `IoThread`, it is dropped first, so a
    /// failing test does not hang joining a worker that waits at the gate.
    struct OpenOnDrop(Logged);

    impl Drop for OpenOnDrop {
        fn drop(&mut self) {
            self.0.gate(false);
        }
    }

    fn write(offset: u64, byte: u8, len: usize) -> Request {
        Request::Write { offset, data: DmaBuf::from_slice(&vec![byte; len]) }
    }

    /// The completion of the one request in flight, if it arrives within 50 ms.
    fn answer_within_50ms(io: &mut IoThread) -> Option<Completion> {
        for _ in 0..50 {
            if let Some(c) = io.try_completion() {
                return Some(c);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        None
    }

    #[test]
    fn a_disk_with_a_write_cache_answers_a_write_before_it_is_done() {
        let dev = Logged::with_write_cache(64 << 10);
        let mut io = IoThread::new(dev.clone()).unwrap();
        let _open = OpenOnDrop(dev.clone());
        dev.gate(true);
        io.submit(write(4096, 0xee, 4096));
        assert!(io.try_completion().expect("answered at once").result.is_ok());
        assert_eq!(dev.bytes(4096, 1), [0], "not written yet");
        dev.gate(false);
        io.submit(Request::Flush);
        io.wait_completion().unwrap().result.unwrap();
        assert_eq!(dev.bytes(4096, 4096), vec![0xee; 4096], "a flush waits for it");
    }

    #[test]
    fn without_a_write_cache_a_write_is_answered_when_done() {
        let dev = Logged::new(64 << 10);
        let mut io = IoThread::new(dev.clone()).unwrap();
        let _open = OpenOnDrop(dev.clone());
        dev.gate(true);
        io.submit(write(4096, 0xee, 4096));
        assert!(answer_within_50ms(&mut io).is_none());
        dev.gate(false);
        io.wait_completion().unwrap().result.unwrap();
        assert_eq!(dev.bytes(4096, 4096), vec![0xee; 4096]);
    }

    #[test]
    fn a_write_answered_early_that_fails_fails_the_next_flush_only() {
        let dev = Logged::with_write_cache(64 << 10);
        let mut io = IoThread::new(dev.clone()).unwrap();
        dev.fail_writes.store(true, Ordering::Relaxed);
        io.submit(write(0, 1, 512));
        io.wait_completion().unwrap().result.expect("answered before it failed");
        io.submit(Request::Flush);
        let err = io.wait_completion().unwrap().result.expect_err("the flush reports the lost write");
        assert_eq!(err.to_string(), "injected write failure");
        io.submit(Request::Flush);
        io.wait_completion().unwrap().result.expect("reported once");
    }

    #[test]
    fn writes_past_the_limit_are_answered_when_the_disk_takes_them() {
        let dev = Logged::with_write_cache(16 << 20);
        let mut io = IoThread::new(dev.clone()).unwrap();
        let _open = OpenOnDrop(dev.clone());
        dev.gate(true);
        let chunk = 1 << 20;
        for k in 0..LIMIT / chunk {
            io.submit(write(k * chunk, 2, chunk as usize));
            assert!(io.try_completion().is_some(), "write {k} fits the cache");
        }
        io.submit(write(LIMIT, 3, 4096));
        assert!(answer_within_50ms(&mut io).is_none(), "the cache is full");
        dev.gate(false);
        io.wait_completion().unwrap().result.unwrap();
        assert_eq!(dev.bytes(LIMIT as usize - 1, 2), [2, 3]);
    }

    #[test]
    fn a_read_after_a_write_answered_early_returns_what_was_written() {
        let dev = Logged::with_write_cache(64 << 10);
        let mut io = IoThread::new(dev.clone()).unwrap();
        io.submit(write(8192, 0x5a, 4096));
        io.wait_completion().unwrap().result.unwrap();
        assert_eq!(read(&mut io, 8192, 4096), vec![0x5a; 4096]);
    }

    #[test]
    fn dropping_the_thread_finishes_writes_answered_early() {
        let dev = Logged::with_write_cache(64 << 10);
        let mut io = IoThread::new(dev.clone()).unwrap();
        let _open = OpenOnDrop(dev.clone());
        dev.gate(true);
        io.submit(write(0, 7, 4096));
        assert!(io.try_completion().is_some());
        let opener = {
            let dev = dev.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                dev.gate(false);
            })
        };
        drop(io);
        opener.join().unwrap();
        assert_eq!(dev.bytes(0, 4096), vec![7; 4096]);
    }
}
