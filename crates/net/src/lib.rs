//! Frames in and out: the host side of a guest network card.
//!
//! A [`NetBackend`] moves whole ethernet frames (destination MAC first, no FCS) between a NIC model
//! and the outside world:
//!
//! - [`UserNet`] (`-netdev user`): user-mode networking on libslirp, QEMU's defaults (guest network
//!   10.0.2.0/24, gateway/host 10.0.2.2, DNS 10.0.2.3, DHCP hands out 10.0.2.15), `hostfwd=` port
//!   forwarding, and the host alias (guest traffic to 10.0.2.2:PORT reaches the host's
//!   127.0.0.1:PORT).
//! - [`SocketNet`] (`-netdev socket,listen=`/`connect=`): QEMU's stream format, each frame preceded by
//!   its length as a 4-byte big-endian number, over TCP.
//!
//! [`parse_netdev`] reads QEMU's `-netdev` spelling and [`open`] turns the result into a backend.
//!
//! # Threading and wake-ups
//! Every backend runs its I/O on threads of its own, so [`NetBackend::send`] never blocks and
//! [`NetBackend::recv`] only pops a queue. Frames for the guest wait in a bounded queue; when a
//! frame is queued the backend calls the closure given to [`NetBackend::set_notify`] *on its own
//! thread*, so the closure must be cheap and must not block (kick an eventfd, unpark a thread, set a
//! flag). It must not call back into the backend. Both directions are bounded: a guest that never
//! reads, or one that floods, costs at most a fixed amount of host memory; surplus frames are
//! dropped and counted in [`NetStats`].
//!
//! # Unsafe code
//! Only the libslirp FFI (`slirp` module) uses `unsafe`; everything public is safe.
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

mod options;
mod queue;
mod reass;
#[allow(unsafe_code)]
mod slirp;
mod socket;
mod user;

pub use options::{parse_netdev, HostFwd, NetdevOptions, Proto, SocketMode, SocketOptions, UserOptions};
pub use socket::SocketNet;
pub use user::UserNet;

use std::sync::{Arc, Mutex};

/// Largest frame a backend accepts or delivers (QEMU's `NET_BUFSIZE`: 64 KiB plus headroom).
pub const MAX_FRAME_LEN: usize = 4096 + 65536;
/// Smallest frame a backend accepts from the guest: an ethernet header.
pub const MIN_FRAME_LEN: usize = 14;
/// At most this many frames wait in each direction of a backend.
pub const QUEUE_FRAMES: usize = 1024;
/// At most this many bytes of frames wait in each direction of a backend.
pub const QUEUE_BYTES: usize = 4 << 20;

/// The host side of a network card: ethernet frames in and out.
pub trait NetBackend: Send {
    /// Hand a frame from the guest to the network. Never blocks; a frame that cannot be queued
    /// (queue full, malformed, no peer connected) is dropped and counted in [`NetStats::tx_dropped`].
    fn send(&mut self, frame: &[u8]);
    /// The next frame for the guest, if one is waiting.
    fn recv(&mut self) -> Option<Vec<u8>>;
    /// Install the closure called (on a backend thread) every time a frame for the guest is queued.
    /// Replaces any earlier one. See the crate documentation for what the closure may do.
    fn set_notify(&mut self, f: Box<dyn Fn() + Send>);
    /// Counters of frames moved and dropped.
    fn stats(&self) -> NetStats {
        NetStats::default()
    }
}

/// Frame counters of a backend. "tx" is guest → network, "rx" is network → guest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Frames from the guest accepted by [`NetBackend::send`].
    pub tx_frames: u64,
    /// Frames from the guest dropped (queue full, too short or too long, no peer).
    pub tx_dropped: u64,
    /// Frames delivered to the guest by [`NetBackend::recv`].
    pub rx_frames: u64,
    /// Frames for the guest dropped because the guest did not drain its queue.
    pub rx_dropped: u64,
}

/// Errors from parsing `-netdev` options or opening a backend.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("-netdev: {0}")]
    Parse(String),
    #[error("-netdev {id}: {msg}")]
    Setup { id: String, msg: String },
    #[error("-netdev {id}: {what}: {source}")]
    Io {
        id: String,
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// Open the backend that `opts` describes.
pub fn open(opts: &NetdevOptions) -> Result<Box<dyn NetBackend>, Error> {
    Ok(match opts {
        NetdevOptions::User(u) => Box::new(UserNet::new(u)?),
        NetdevOptions::Socket(s) => Box::new(SocketNet::new(s)?),
    })
}

/// The shared slot holding the notify closure.
#[derive(Clone, Default)]
pub(crate) struct Notify(Arc<Mutex<Option<NotifyFn>>>);

/// The closure given to [`NetBackend::set_notify`].
pub type NotifyFn = Box<dyn Fn() + Send>;

impl Notify {
    pub(crate) fn set(&self, f: NotifyFn) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
    }
    pub(crate) fn fire(&self) {
        if let Some(f) = self.0.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            f();
        }
    }
}

pub(crate) use queue::FrameQueue;

/// True when `frame` has a plausible ethernet length.
pub(crate) fn frame_len_ok(frame: &[u8]) -> bool {
    (MIN_FRAME_LEN..=MAX_FRAME_LEN).contains(&frame.len())
}
