//! Running a [`BlockDevice`] on a worker thread, so disk I/O never stalls the vCPU loop.
//!
//! Requests are executed one at a time, in submission order, so a [`Request::Flush`] completes
//! only after every request submitted before it has completed (the ordering virtio-blk's FLUSH
//! needs). Completions arrive on a channel; an optional notifier is called after each one is
//! queued, so the device model can raise its interrupt or kick its event loop.

use crate::BlockDevice;
use mimic_core::{DmaBuf, LentMemory};
use std::io;
use std::sync::mpsc::{self, Receiver, Sender};
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
            while let Ok((id, req)) = req_rx.recv() {
                let completion = execute(dev.as_mut(), id, req);
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

fn execute(dev: &mut dyn BlockDevice, id: RequestId, req: Request) -> Completion {
    let (result, buf) = match req {
        Request::Read { offset, mut buf } => (dev.read_at(offset, &mut buf), Some(buf)),
        Request::ReadInto { offset, mut into } => (dev.read_vectored(offset, &mut into.slices_mut()), None),
        Request::Write { offset, data } => (dev.write_at(offset, &data), Some(data)),
        Request::Flush => (dev.flush(), None),
        Request::Discard { offset, len } => (dev.discard(offset, len), None),
        Request::WriteZeroes { offset, len } => (dev.write_zeroes(offset, len), None),
    };
    Completion { id, result, buf }
}
