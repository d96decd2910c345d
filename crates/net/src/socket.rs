//! `-netdev socket,listen=`/`connect=`: QEMU's stream format over TCP, each frame preceded by its
//! length as a 4-byte big-endian number.
//!
//! Threads: a writer thread takes frames queued by [`SocketNet::send`] (a bounded channel) and
//! writes them to the connected peer; a reader thread per connection reads frames into the bounded
//! queue that [`SocketNet::recv`] drains; in listen mode an acceptor thread takes one peer at a time
//! (further connections are closed while one is up; after it goes away the next one is accepted).
//! Frames sent while no peer is connected are dropped, as in QEMU.

use crate::options::{SocketMode, SocketOptions};
use crate::{frame_len_ok, Error, FrameQueue, NetBackend, NetStats, Notify, MAX_FRAME_LEN, MIN_FRAME_LEN};
use crate::{QUEUE_BYTES, QUEUE_FRAMES};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// Frames waiting for the writer thread.
const TX_QUEUE_FRAMES: usize = 256;

struct Shared {
    id: String,
    to_guest: FrameQueue,
    notify: Notify,
    stop: AtomicBool,
    /// The connected peer (connection number, stream), if any.
    peer: Mutex<Option<(u64, TcpStream)>>,
    connected: AtomicBool,
    next_conn: AtomicU64,
    readers: Mutex<Vec<JoinHandle<()>>>,
    tx_frames: AtomicU64,
    tx_dropped: AtomicU64,
}

impl Shared {
    fn peer(&self) -> MutexGuard<'_, Option<(u64, TcpStream)>> {
        self.peer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Make `stream` the peer and start its reader. Returns false (closing it) if one is connected.
    fn attach(self: &Arc<Self>, stream: TcpStream) -> bool {
        let mut peer = self.peer();
        if peer.is_some() || self.stop.load(Ordering::Acquire) {
            let _ = stream.shutdown(Shutdown::Both);
            return false;
        }
        let _ = stream.set_nodelay(true);
        let Ok(read_half) = stream.try_clone() else { return false };
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        *peer = Some((conn, stream));
        self.connected.store(true, Ordering::Release);
        drop(peer);
        let sh = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("netsock-rd-{}", self.id))
            .spawn(move || read_frames(&sh, conn, read_half));
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        readers.retain(|h| !h.is_finished());
        match spawned {
            Ok(h) => readers.push(h),
            Err(_) => self.detach(conn),
        }
        true
    }

    /// Forget connection `conn` if it is still the peer.
    fn detach(&self, conn: u64) {
        let mut peer = self.peer();
        if peer.as_ref().is_some_and(|(c, _)| *c == conn) {
            if let Some((_, s)) = peer.take() {
                let _ = s.shutdown(Shutdown::Both);
            }
            self.connected.store(false, Ordering::Release);
        }
    }
}

fn read_frames(sh: &Shared, conn: u64, mut stream: TcpStream) {
    loop {
        let mut len = [0u8; 4];
        if stream.read_exact(&mut len).is_err() {
            break;
        }
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_FRAME_LEN {
            tracing::warn!(id = %sh.id, "socket netdev: peer sent a {len}-byte frame; closing the connection");
            break;
        }
        let mut frame = vec![0u8; len];
        if stream.read_exact(&mut frame).is_err() {
            break;
        }
        if len < MIN_FRAME_LEN {
            sh.to_guest.count_drop();
        } else if sh.to_guest.push(frame) {
            sh.notify.fire();
        }
    }
    sh.detach(conn);
}

fn write_frames(sh: &Shared, rx: Receiver<Vec<u8>>) {
    let mut current: Option<(u64, TcpStream)> = None;
    let mut buf = Vec::with_capacity(MAX_FRAME_LEN + 4);
    for frame in rx {
        let want = sh.peer().as_ref().map(|(c, _)| *c);
        if current.as_ref().map(|(c, _)| *c) != want {
            current = sh.peer().as_ref().and_then(|(c, s)| Some((*c, s.try_clone().ok()?)));
        }
        let Some((conn, stream)) = current.as_mut() else {
            sh.tx_dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        buf.clear();
        buf.extend_from_slice(&(frame.len() as u32).to_be_bytes());
        buf.extend_from_slice(&frame);
        if stream.write_all(&buf).is_err() {
            sh.tx_dropped.fetch_add(1, Ordering::Relaxed);
            let conn = *conn;
            current = None;
            sh.detach(conn);
        }
    }
}

fn accept_loop(sh: &Arc<Shared>, listener: TcpListener) {
    for conn in listener.incoming() {
        if sh.stop.load(Ordering::Acquire) {
            break;
        }
        match conn {
            Ok(s) => {
                if !sh.attach(s) {
                    tracing::debug!(id = %sh.id, "socket netdev: refused a second connection");
                }
            }
            // Out of fds and the like: do not spin.
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// A `-netdev socket` backend over TCP.
pub struct SocketNet {
    shared: Arc<Shared>,
    tx: Option<SyncSender<Vec<u8>>>,
    writer: Option<JoinHandle<()>>,
    acceptor: Option<JoinHandle<()>>,
    local_addr: Option<SocketAddr>,
}

impl std::fmt::Debug for SocketNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketNet")
            .field("local_addr", &self.local_addr)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl SocketNet {
    /// Listen (`listen=`, returns at once; the peer may connect later) or connect (`connect=`,
    /// fails if nobody listens).
    pub fn new(opts: &SocketOptions) -> Result<SocketNet, Error> {
        let id = opts.id.clone();
        let io_err = |what: String| {
            let id = id.clone();
            move |source| Error::Io { id, what, source }
        };
        let shared = Arc::new(Shared {
            id: id.clone(),
            to_guest: FrameQueue::new(QUEUE_FRAMES, QUEUE_BYTES),
            notify: Notify::default(),
            stop: AtomicBool::new(false),
            peer: Mutex::new(None),
            connected: AtomicBool::new(false),
            next_conn: AtomicU64::new(0),
            readers: Mutex::new(Vec::new()),
            tx_frames: AtomicU64::new(0),
            tx_dropped: AtomicU64::new(0),
        });
        let (tx, rx) = mpsc::sync_channel(TX_QUEUE_FRAMES);
        let sh = shared.clone();
        let writer = std::thread::Builder::new()
            .name(format!("netsock-wr-{id}"))
            .spawn(move || write_frames(&sh, rx))
            .map_err(io_err("spawn thread".into()))?;
        let mut net = SocketNet { shared, tx: Some(tx), writer: Some(writer), acceptor: None, local_addr: None };
        match &opts.mode {
            SocketMode::Listen { host, port } => {
                let host = if host.is_empty() { "0.0.0.0" } else { host.as_str() };
                let listener = TcpListener::bind((host, *port)).map_err(io_err(format!("listen on {host}:{port}")))?;
                net.local_addr = listener.local_addr().ok();
                let sh = net.shared.clone();
                net.acceptor = Some(
                    std::thread::Builder::new()
                        .name(format!("netsock-acc-{id}"))
                        .spawn(move || accept_loop(&sh, listener))
                        .map_err(io_err("spawn thread".into()))?,
                );
            }
            SocketMode::Connect { host, port } => {
                let stream =
                    TcpStream::connect((host.as_str(), *port)).map_err(io_err(format!("connect to {host}:{port}")))?;
                net.shared.attach(stream);
            }
        }
        Ok(net)
    }

    /// The bound address in listen mode (useful with port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// True while a peer is connected.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::Acquire)
    }
}

impl NetBackend for SocketNet {
    fn send(&mut self, frame: &[u8]) {
        let sh = &self.shared;
        if !frame_len_ok(frame) || !self.is_connected() {
            sh.tx_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let Some(tx) = &self.tx else { return };
        match tx.try_send(frame.to_vec()) {
            Ok(()) => {
                sh.tx_frames.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                sh.tx_dropped.fetch_add(1, Ordering::Relaxed);
            }
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
            tx_frames: s.tx_frames.load(Ordering::Relaxed),
            tx_dropped: s.tx_dropped.load(Ordering::Relaxed),
            rx_frames: s.to_guest.popped(),
            rx_dropped: s.to_guest.dropped(),
        }
    }
}

impl Drop for SocketNet {
    fn drop(&mut self) {
        let sh = &self.shared;
        sh.stop.store(true, Ordering::Release);
        // Unblock the writer (channel closed) and the reader and any blocked write (shutdown).
        self.tx = None;
        if let Some((_, s)) = sh.peer().take() {
            let _ = s.shutdown(Shutdown::Both);
        }
        sh.connected.store(false, Ordering::Release);
        if let Some(acceptor) = self.acceptor.take() {
            // Wake the blocking accept with a connection to ourselves (always over loopback).
            let woke = self.local_addr.is_some_and(|mut a| {
                if a.ip().is_unspecified() {
                    a.set_ip(if a.is_ipv4() {
                        IpAddr::V4(Ipv4Addr::LOCALHOST)
                    } else {
                        IpAddr::V6(Ipv6Addr::LOCALHOST)
                    });
                }
                TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok()
            });
            if woke {
                let _ = acceptor.join();
            }
        }
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
        let readers = std::mem::take(&mut *sh.readers.lock().unwrap_or_else(|e| e.into_inner()));
        for r in readers {
            let _ = r.join();
        }
    }
}
