//! `-netdev user`: user-mode networking on libslirp.
//!
//! One thread per backend (named `slirp-ID`) owns the libslirp instance and runs its event loop:
//! it feeds frames queued by [`UserNet::send`] to libslirp, polls libslirp's host sockets and a
//! wake-up socket pair, runs libslirp's timers, and pushes the frames libslirp emits for the guest
//! into the bounded queue that [`UserNet::recv`] drains (calling the notify closure for each one).
//! IPv4 fragments from the guest are reassembled here first (see `reass`): libslirp 4.7.0 crashes
//! on some fragment sequences.

use crate::options::{HostFwd, Proto, UserOptions};
use crate::reass::{Reassembler, Verdict};
use crate::slirp::Slirp;
use crate::{frame_len_ok, Error, FrameQueue, NetBackend, NetStats, Notify, QUEUE_BYTES, QUEUE_FRAMES};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Instant;

/// Upper bound on one poll round, so a lost wake-up could never stall the loop for long.
const MAX_POLL_MS: u32 = 1000;

struct Shared {
    to_guest: FrameQueue,
    from_guest: FrameQueue,
    notify: Notify,
    stop: AtomicBool,
}

/// A user-mode (slirp) network backend. Dropping it stops its thread and closes every host socket,
/// including the `hostfwd=` listeners.
pub struct UserNet {
    shared: Arc<Shared>,
    wake: UnixStream,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for UserNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserNet").field("stats", &self.stats()).finish_non_exhaustive()
    }
}

fn describe(f: &HostFwd) -> String {
    let proto = if f.proto == Proto::Udp { "udp" } else { "tcp" };
    format!("{proto}:{}:{}-{}:{}", f.host_addr, f.host_port, f.guest_addr, f.guest_port)
}

impl UserNet {
    /// Start the backend: create the libslirp instance on its thread and set up every `hostfwd=`
    /// listener. Fails (with nothing left running) if libslirp rejects the configuration or a
    /// forward's host port cannot be bound.
    pub fn new(opts: &UserOptions) -> Result<UserNet, Error> {
        let id = opts.id.clone();
        let io_err = |what: &str| {
            let id = id.clone();
            let what = what.to_string();
            move |source| Error::Io { id, what, source }
        };
        let (wake, wake_rx) = UnixStream::pair().map_err(io_err("wake-up socket"))?;
        wake.set_nonblocking(true).map_err(io_err("wake-up socket"))?;
        wake_rx.set_nonblocking(true).map_err(io_err("wake-up socket"))?;
        let shared = Arc::new(Shared {
            to_guest: FrameQueue::new(QUEUE_FRAMES, QUEUE_BYTES),
            from_guest: FrameQueue::new(QUEUE_FRAMES, QUEUE_BYTES),
            notify: Notify::default(),
            stop: AtomicBool::new(false),
        });
        let (init_tx, init_rx) = mpsc::sync_channel(1);
        let opts = opts.clone();
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("slirp-{id}"))
            .spawn(move || run(opts, sh, wake_rx, init_tx))
            .map_err(io_err("spawn thread"))?;
        match init_rx.recv() {
            Ok(Ok(())) => Ok(UserNet { shared, wake, thread: Some(thread) }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(Error::Setup { id, msg: "the slirp thread failed to start".into() })
            }
        }
    }

    /// The version of the libslirp this was built against, e.g. `4.7.0`.
    pub fn libslirp_version() -> String {
        crate::slirp::version()
    }

    fn kick(&self) {
        match (&self.wake).write(&[1]) {
            // A full pipe already holds a pending wake-up.
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => tracing::warn!("slirp wake-up failed: {e}"),
        }
    }
}

fn run(opts: UserOptions, shared: Arc<Shared>, wake_rx: UnixStream, init: mpsc::SyncSender<Result<(), Error>>) {
    let out = shared.clone();
    let output = Box::new(move |frame: &[u8]| {
        if out.to_guest.push(frame.to_vec()) {
            out.notify.fire();
        }
    });
    let slirp = match Slirp::new(&opts, output) {
        Ok(s) => s,
        Err(msg) => {
            let _ = init.send(Err(Error::Setup { id: opts.id.clone(), msg }));
            return;
        }
    };
    for f in &opts.hostfwd {
        if slirp.add_hostfwd(f).is_err() {
            let msg = format!("could not set up host forwarding rule '{}'", describe(f));
            let _ = init.send(Err(Error::Setup { id: opts.id.clone(), msg }));
            return;
        }
    }
    tracing::debug!(id = %opts.id, "slirp up (libslirp {})", crate::slirp::version());
    let _ = init.send(Ok(()));
    drop(init);
    let mut reass = Reassembler::default();
    while !shared.stop.load(Ordering::Acquire) {
        while let Some(frame) = shared.from_guest.pop() {
            match reass.input(&frame, Instant::now()) {
                Verdict::Pass => slirp.input(&frame),
                Verdict::Whole(datagram) => slirp.input(&datagram),
                Verdict::Held => {}
            }
        }
        if slirp.poll_once(wake_rx.as_raw_fd(), MAX_POLL_MS) {
            let mut buf = [0u8; 64];
            while matches!((&wake_rx).read(&mut buf), Ok(n) if n > 0) {}
        }
    }
}

impl NetBackend for UserNet {
    fn send(&mut self, frame: &[u8]) {
        if !frame_len_ok(frame) {
            self.shared.from_guest.count_drop();
            return;
        }
        if self.shared.from_guest.push(frame.to_vec()) {
            self.kick();
        }
    }

    fn recv(&mut self) -> Option<Vec<u8>> {
        self.shared.to_guest.pop()
    }

    fn set_notify(&mut self, f: Box<dyn Fn() + Send>) {
        self.shared.notify.set(f);
    }

    fn stats(&self) -> NetStats {
        let s = &self.shared;
        NetStats {
            tx_frames: s.from_guest.pushed(),
            tx_dropped: s.from_guest.dropped(),
            rx_frames: s.to_guest.popped(),
            rx_dropped: s.to_guest.dropped(),
        }
    }
}

impl Drop for UserNet {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.kick();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
