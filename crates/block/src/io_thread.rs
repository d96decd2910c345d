//! Running a [`BlockDevice`] on a worker thread, so disk I/O never stalls the vCPU loop.
//!
//! Requests are executed one at a time, in submission order, so a [`Request::Flush`] completes
//! only after every request submitted before it has completed (the ordering virtio-blk's FLUSH
//! needs). Completions arrive on a channel; an optional notifier is called after each one is
//! queued, so the device model can raise its interrupt or kick its event loop. While no
//! request waits, the worker reads ahead for a sequential reader ([`crate::read_ahead`]).

use crate::read_ahead::ReadAhead;
use crate::BlockDevice;
use mimic_core::{DmaBuf, LentMemory};
use std::io;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
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

/// A [`BlockDevice`] owned by a worker thread.
pub struct IoThread {
    tx: Option<Sender<(RequestId, Request)>>,
    rx: Receiver<Completion>,
    worker: Option<JoinHandle<Box<dyn BlockDevice>>>,
    next_id: RequestId,
    in_flight: usize,
    size: u64,
    read_only: bool,
    /// Requests that could not be handed to a dead worker.
    failed: Vec<Completion>,
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
        let (tx, req_rx) = mpsc::channel::<(RequestId, Request)>();
        let (done_tx, rx) = mpsc::channel::<Completion>();
        let size = dev.size();
        let read_only = dev.read_only();
        let worker = std::thread::Builder::new().name("mimic-block-io".into()).spawn(move || {
            let mut ahead = ReadAhead::default();
            loop {
                let (id, req) = match req_rx.try_recv() {
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
                let completion = execute(dev.as_mut(), &mut ahead, id, req);
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
            failed: Vec::new(),
        })
    }

    /// Queue `req`; never blocks.
    pub fn submit(&mut self, req: Request) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        self.in_flight += 1;
        let tx = self.tx.as_ref().expect("IoThread used after shutdown");
        if let Err(mpsc::SendError((id, req))) = tx.send((id, req)) {
            // The worker is gone (it panicked): fail the request locally.
            let buf = match req {
                Request::Read { buf, .. } => Some(buf),
                Request::Write { data, .. } => Some(data),
                _ => None,
            };
            self.failed.push(Completion { id, result: Err(io::Error::other("block I/O thread is gone")), buf });
        }
        id
    }

    /// The next completion if one is ready now; never blocks (nor allocates).
    pub fn try_completion(&mut self) -> Option<Completion> {
        if !self.failed.is_empty() {
            self.in_flight -= 1;
            return Some(self.failed.remove(0));
        }
        let c = self.rx.try_recv().ok()?;
        self.in_flight -= 1;
        Some(c)
    }

    /// Completions that are ready now; never blocks.
    pub fn poll_completions(&mut self) -> Vec<Completion> {
        let mut out = std::mem::take(&mut self.failed);
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
        if let Some(c) = self.failed.pop() {
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

fn execute(dev: &mut dyn BlockDevice, ahead: &mut ReadAhead, id: RequestId, req: Request) -> Completion {
    let (result, buf) = match req {
        Request::Read { offset, mut buf } => (read(dev, ahead, offset, &mut [&mut buf[..]]), Some(buf)),
        Request::ReadInto { offset, mut into } => (read(dev, ahead, offset, &mut into.slices_mut()), None),
        Request::Write { offset, data } => {
            ahead.invalidate(offset, data.len() as u64);
            (dev.write_at(offset, &data), Some(data))
        }
        Request::Flush => (dev.flush(), None),
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
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// A disk in memory (byte `i` starts as `i as u8`) that logs the reads it does.
    #[derive(Clone)]
    struct Logged {
        data: Arc<Mutex<Vec<u8>>>,
        reads: Arc<Mutex<Vec<u64>>>,
    }

    impl Logged {
        fn new(len: usize) -> Self {
            Logged {
                data: Arc::new(Mutex::new((0..len).map(|i| i as u8).collect())),
                reads: Arc::new(Mutex::new(Vec::new())),
            }
        }
        fn reads(&self) -> Vec<u64> {
            self.reads.lock().unwrap().clone()
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
            self.data.lock().unwrap()[offset as usize..offset as usize + bytes.len()].copy_from_slice(bytes);
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
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
}
