//! QMP transport: listeners, the `-qmp` / `-chardev socket` spellings, client threads, and the
//! event broadcast.
//!
//! Threading model:
//!
//! ```text
//!  qmp-accept (one per QmpServer) ── accept ──► per client: qmp-client-N (reads, parses,
//!        │  refuses clients past MAX_CLIENTS      runs commands against the Vm on this thread)
//!        │                                          │ bounded queue (QUEUE_LEN lines)
//!        ▼                                          ▼
//!  EventSink::emit (any thread, never blocks) ──► qmp-writer-N (writes lines, `\r\n` ended)
//! ```
//!
//! A client's reader only ever blocks itself. `emit` never blocks: it pushes into each
//! negotiated client's queue with `try_send`, and a client whose queue is full (it stopped
//! reading) is disconnected. A message past [`MAX_MESSAGE`] bytes is answered with an error and
//! the connection is closed; a client that disconnects mid-message leaves nothing behind.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::json::{Chunk, Splitter};
use crate::qmp::{error_line, event_line, greeting_line, QmpError, QmpSession};
use crate::vm::{Event, Vm};

/// Most clients served at once by one server; more are accepted and closed at once.
pub const MAX_CLIENTS: usize = 16;
/// Largest message accepted from a client.
pub const MAX_MESSAGE: usize = 1 << 20;
/// Lines queued for a client before it counts as not reading.
pub const QUEUE_LEN: usize = 1024;
/// How long one write to a client may block before the client is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// A failed step of parsing an address or setting up a server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid QMP/chardev socket spec '{spec}': {reason}")]
    InvalidSpec { spec: String, reason: String },
    #[error("cannot listen on {address}")]
    Bind {
        address: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot start the QMP accept thread")]
    Spawn(#[source] io::Error),
}

/// Where a server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Unix(PathBuf),
    /// `host` is empty for "all interfaces" (QEMU's `tcp::PORT`).
    Tcp {
        host: String,
        port: u16,
    },
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "unix:{}", p.display()),
            Address::Tcp { host, port } if host.contains(':') => write!(f, "tcp:[{host}]:{port}"),
            Address::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
        }
    }
}

impl Address {
    /// Binds a listener. A stale Unix socket file at the path is removed first, as QEMU does.
    pub fn bind(&self) -> Result<Listener, Error> {
        let err = |source| Error::Bind { address: self.to_string(), source };
        match self {
            Address::Unix(path) => {
                if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
                    let _ = std::fs::remove_file(path);
                }
                UnixListener::bind(path).map(Listener::Unix).map_err(err)
            }
            Address::Tcp { host, port } => {
                let host = if host.is_empty() { "0.0.0.0" } else { host.as_str() };
                let addrs: Vec<_> = (host, *port).to_socket_addrs().map_err(err)?.collect();
                TcpListener::bind(&addrs[..]).map(Listener::Tcp).map_err(err)
            }
        }
    }
}

/// A bound listening socket.
#[derive(Debug)]
pub enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Listener {
    /// Waits for the next connection (for serving HMP on a socket; QMP servers accept by
    /// themselves).
    pub fn accept(&self) -> io::Result<Stream> {
        match self {
            Listener::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
            Listener::Tcp(l) => l.accept().map(|(s, _)| {
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            }),
        }
    }
}

/// One accepted connection (Unix or TCP): `Read + Write`.
#[derive(Debug)]
pub enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    /// A second handle on the same connection (e.g. one to read, one to write).
    pub fn try_clone(&self) -> io::Result<Stream> {
        match self {
            Stream::Unix(s) => s.try_clone().map(Stream::Unix),
            Stream::Tcp(s) => s.try_clone().map(Stream::Tcp),
        }
    }

    fn set_write_timeout(&self, t: Duration) {
        let _ = match self {
            Stream::Unix(s) => s.set_write_timeout(Some(t)),
            Stream::Tcp(s) => s.set_write_timeout(Some(t)),
        };
    }

    /// Closes both directions; threads blocked on the connection return.
    pub fn shutdown(&self) {
        let _ = match self {
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
        };
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.flush(),
            Stream::Tcp(s) => s.flush(),
        }
    }
}

fn invalid(spec: &str, reason: impl Into<String>) -> Error {
    Error::InvalidSpec { spec: spec.to_string(), reason: reason.into() }
}

/// Splits QEMU option syntax on `,`, where `,,` is a literal comma.
fn split_opts(s: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' {
            if chars.peek() == Some(&',') {
                chars.next();
                parts.last_mut().expect("parts is never empty").push(',');
            } else {
                parts.push(String::new());
            }
        } else {
            parts.last_mut().expect("parts is never empty").push(c);
        }
    }
    parts
}

fn on_off(spec: &str, key: &str, value: Option<&str>) -> Result<bool, Error> {
    match value {
        None | Some("on") | Some("yes") | Some("true") => Ok(true),
        Some("off") | Some("no") | Some("false") => Ok(false),
        Some(v) => Err(invalid(spec, format!("'{key}' expects 'on' or 'off', not '{v}'"))),
    }
}

/// Reads `server`, `wait` (and the legacy `nowait`); ignores socket tuning options.
fn server_wait(spec: &str, opts: &[(String, Option<String>)]) -> Result<bool, Error> {
    let mut server = false;
    let mut wait = true;
    for (key, value) in opts {
        match key.as_str() {
            "server" => server = on_off(spec, key, value.as_deref())?,
            "wait" => wait = on_off(spec, key, value.as_deref())?,
            "nowait" => wait = false,
            "nodelay" | "ipv4" | "ipv6" | "telnet" | "tn3270" | "websocket" | "mux" => {}
            other => return Err(invalid(spec, format!("unknown option '{other}'"))),
        }
    }
    if !server {
        return Err(invalid(spec, "only server sockets are supported: add ',server=on'"));
    }
    Ok(wait)
}

fn key_values(parts: &[String]) -> Vec<(String, Option<String>)> {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (p.clone(), None),
        })
        .collect()
}

fn parse_port(spec: &str, port: &str) -> Result<u16, Error> {
    port.parse().map_err(|_| invalid(spec, format!("bad port '{port}'")))
}

/// Parses `-qmp` values: `unix:PATH,server[=on],wait=off` or `tcp:HOST:PORT,server,wait=off`
/// (`tcp::PORT` listens on every interface, `tcp:[::1]:PORT` on IPv6). Returns the address and
/// whether QEMU would wait for a client before starting the guest (`wait` defaults to on).
pub fn parse_qmp_spec(spec: &str) -> Result<(Address, bool), Error> {
    let parts = split_opts(spec);
    let (head, opts) = parts.split_first().expect("split_opts returns at least one part");
    let opts = key_values(opts);
    let address = if let Some(path) = head.strip_prefix("unix:") {
        if path.is_empty() {
            return Err(invalid(spec, "empty socket path"));
        }
        Address::Unix(PathBuf::from(path))
    } else if let Some(hostport) = head.strip_prefix("tcp:") {
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, rest) = v6.split_once(']').ok_or_else(|| invalid(spec, "unclosed '['"))?;
            let port = rest.strip_prefix(':').ok_or_else(|| invalid(spec, "missing port"))?;
            (host.to_string(), port)
        } else {
            let (host, port) = hostport.rsplit_once(':').ok_or_else(|| invalid(spec, "missing port"))?;
            (host.to_string(), port)
        };
        Address::Tcp { host, port: parse_port(spec, port)? }
    } else {
        return Err(invalid(spec, "expected 'unix:PATH' or 'tcp:HOST:PORT'"));
    };
    let wait = server_wait(spec, &opts)?;
    Ok((address, wait))
}

/// A `-chardev socket,...` definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChardevSocket {
    pub id: String,
    pub address: Address,
    pub wait: bool,
}

/// Parses `-chardev socket,id=X,path=P,server=on,wait=off` or
/// `-chardev socket,id=X,host=H,port=N,server=on,wait=off` (the whole value, with `socket,`).
pub fn parse_chardev_socket(spec: &str) -> Result<ChardevSocket, Error> {
    let parts = split_opts(spec);
    let (backend, opts) = parts.split_first().expect("split_opts returns at least one part");
    if backend != "socket" {
        return Err(invalid(spec, format!("backend '{backend}' is not 'socket'")));
    }
    let mut id = None;
    let mut path = None;
    let mut host = None;
    let mut port = None;
    let mut rest = Vec::new();
    for (key, value) in key_values(opts) {
        match (key.as_str(), value) {
            ("id", Some(v)) => id = Some(v),
            ("path", Some(v)) => path = Some(v),
            ("host", Some(v)) => host = Some(v),
            ("port", Some(v)) => port = Some(parse_port(spec, &v)?),
            (k @ ("id" | "path" | "host" | "port"), None) => {
                return Err(invalid(spec, format!("'{k}' needs a value")));
            }
            (k, v) => rest.push((k.to_string(), v)),
        }
    }
    let id = id.ok_or_else(|| invalid(spec, "missing 'id'"))?;
    let address = match (path, port) {
        (Some(p), None) => Address::Unix(PathBuf::from(p)),
        (None, Some(port)) => Address::Tcp { host: host.unwrap_or_default(), port },
        _ => return Err(invalid(spec, "give exactly one of 'path' or 'port'")),
    };
    let wait = server_wait(spec, &rest)?;
    Ok(ChardevSocket { id, address, wait })
}

enum Out {
    Line(String),
    /// Signals once every earlier line was written.
    Barrier(SyncSender<()>),
}

struct HubClient {
    id: u64,
    tx: SyncSender<Out>,
    conn: Stream,
}

#[derive(Default)]
struct Hub {
    clients: Mutex<Vec<HubClient>>,
}

/// Broadcasts asynchronous events to every negotiated client of every server built with it.
/// Cheap to clone; `emit` never blocks.
#[derive(Clone, Default)]
pub struct EventSink {
    hub: Arc<Hub>,
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink").field("clients", &self.client_count()).finish()
    }
}

impl EventSink {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends `event`, stamped with the current wall-clock time, to every negotiated client.
    pub fn emit(&self, event: Event) {
        let line = event_line(&event, SystemTime::now());
        let mut clients = self.hub.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients.retain(|c| match c.tx.try_send(Out::Line(line.clone())) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                tracing::warn!(client = c.id, event = %event.name, "QMP client is not reading; disconnecting it");
                c.conn.shutdown();
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
    }

    /// Waits (at most `timeout`) until every line queued so far reached every client's socket:
    /// call it before ending the process so the last events (`SHUTDOWN`) are delivered.
    pub fn flush(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let waits: Vec<Receiver<()>> = {
            let clients = self.hub.clients.lock().unwrap_or_else(|p| p.into_inner());
            clients
                .iter()
                .filter_map(|c| {
                    let (tx, rx) = mpsc::sync_channel(1);
                    c.tx.try_send(Out::Barrier(tx)).ok().map(|()| rx)
                })
                .collect()
        };
        for rx in waits {
            let _ = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        }
    }

    /// Negotiated clients currently receiving events.
    pub fn client_count(&self) -> usize {
        self.hub.clients.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn register(&self, id: u64, tx: SyncSender<Out>, conn: Stream) {
        self.hub.clients.lock().unwrap_or_else(|p| p.into_inner()).push(HubClient { id, tx, conn });
    }

    fn unregister(&self, id: u64) {
        self.hub.clients.lock().unwrap_or_else(|p| p.into_inner()).retain(|c| c.id != id);
    }
}

static NEXT_CLIENT: AtomicU64 = AtomicU64::new(1);

struct Shared {
    vm: Arc<dyn Vm>,
    events: EventSink,
    active: AtomicUsize,
    connected_once: Mutex<bool>,
    connected: Condvar,
}

/// A running QMP server: an accept thread plus threads per client (see the module docs). It
/// serves until the process ends.
pub struct QmpServer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for QmpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QmpServer").field("clients", &self.client_count()).finish()
    }
}

impl QmpServer {
    /// Starts serving `listener`. Commands run against `vm` on the client's thread; `events`
    /// carries the VM's events to the clients (share one sink among all servers).
    pub fn spawn(listener: Listener, vm: Arc<dyn Vm>, events: EventSink) -> Result<QmpServer, Error> {
        let shared = Arc::new(Shared {
            vm,
            events,
            active: AtomicUsize::new(0),
            connected_once: Mutex::new(false),
            connected: Condvar::new(),
        });
        let s = shared.clone();
        thread::Builder::new()
            .name("qmp-accept".into())
            .spawn(move || accept_loop(listener, s))
            .map_err(Error::Spawn)?;
        Ok(QmpServer { shared })
    }

    /// Blocks until a first client has connected (QEMU's `wait=on`).
    pub fn wait_for_client(&self) {
        let mut once = self.shared.connected_once.lock().unwrap_or_else(|p| p.into_inner());
        while !*once {
            once = self.shared.connected.wait(once).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Clients connected right now (negotiated or not).
    pub fn client_count(&self) -> usize {
        self.shared.active.load(Ordering::SeqCst)
    }
}

fn accept_loop(listener: Listener, shared: Arc<Shared>) {
    loop {
        let stream = match listener.accept() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "QMP accept failed");
                // Out of file descriptors and the like: do not spin.
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if shared.active.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
            shared.active.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!("QMP client refused: {MAX_CLIENTS} clients already connected");
            stream.shutdown();
            continue;
        }
        {
            let mut once = shared.connected_once.lock().unwrap_or_else(|p| p.into_inner());
            *once = true;
            shared.connected.notify_all();
        }
        let id = NEXT_CLIENT.fetch_add(1, Ordering::Relaxed);
        let s = shared.clone();
        let spawned = thread::Builder::new().name(format!("qmp-client-{id}")).spawn(move || {
            serve_client(id, stream, &s);
            s.active.fetch_sub(1, Ordering::SeqCst);
        });
        if let Err(e) = spawned {
            shared.active.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(error = %e, "cannot start a QMP client thread");
        }
    }
}

fn writer_loop(mut conn: Stream, rx: Receiver<Out>) {
    for out in rx.iter() {
        match out {
            Out::Line(mut line) => {
                line.push_str("\r\n");
                if conn.write_all(line.as_bytes()).is_err() {
                    break;
                }
            }
            Out::Barrier(done) => {
                let _ = conn.flush();
                let _ = done.send(());
            }
        }
    }
    // Unblocks this client's reader too.
    conn.shutdown();
}

fn serve_client(id: u64, mut conn: Stream, shared: &Shared) {
    let (Ok(write_half), Ok(hub_half)) = (conn.try_clone(), conn.try_clone()) else {
        conn.shutdown();
        return;
    };
    // A client that stops reading for this long is dropped rather than holding its slot.
    write_half.set_write_timeout(WRITE_TIMEOUT);
    let (tx, rx) = mpsc::sync_channel::<Out>(QUEUE_LEN);
    let writer = thread::Builder::new().name(format!("qmp-writer-{id}")).spawn(move || writer_loop(write_half, rx));
    if writer.is_err() {
        conn.shutdown();
        return;
    }
    tracing::debug!(client = id, "QMP client connected");
    let mut hub_half = Some(hub_half);
    let mut session = QmpSession::new(shared.vm.clone());
    let mut splitter = Splitter::new(MAX_MESSAGE);
    let mut buf = vec![0u8; 64 * 1024];
    let mut chunks = Vec::new();
    let send = |line: String| tx.send(Out::Line(line)).is_ok();
    'conn: {
        if !send(greeting_line()) {
            break 'conn;
        }
        loop {
            let n = match conn.read(&mut buf) {
                Ok(0) => break 'conn,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break 'conn,
            };
            splitter.feed(&buf[..n], &mut chunks);
            for chunk in chunks.drain(..) {
                match chunk {
                    Chunk::Message(bytes) => {
                        let was_negotiated = session.is_negotiated();
                        let reply = session.handle_bytes(&bytes);
                        if !send(reply.line) {
                            break 'conn;
                        }
                        if !was_negotiated && session.is_negotiated() {
                            if let Some(h) = hub_half.take() {
                                shared.events.register(id, tx.clone(), h);
                            }
                        }
                        if reply.quit {
                            let (done_tx, done_rx) = mpsc::sync_channel(1);
                            if tx.send(Out::Barrier(done_tx)).is_ok() {
                                let _ = done_rx.recv_timeout(Duration::from_secs(5));
                            }
                            shared.vm.quit();
                        }
                    }
                    Chunk::Error(desc) => {
                        if !send(error_line(&QmpError::generic(desc), None)) {
                            break 'conn;
                        }
                    }
                    Chunk::TooLarge => {
                        let desc =
                            format!("JSON parse error, message exceeds {MAX_MESSAGE} bytes; closing the connection");
                        tracing::warn!(client = id, "{desc}");
                        send(error_line(&QmpError::generic(desc), None));
                        break 'conn;
                    }
                }
            }
        }
    }
    if splitter.is_mid_message() {
        tracing::debug!(client = id, "QMP client left mid-message");
    }
    shared.events.unregister(id);
    drop(tx); // the writer drains what is queued, then closes the socket
    tracing::debug!(client = id, "QMP client disconnected");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qmp_spec_unix_server_nowait() {
        let (a, wait) = parse_qmp_spec("unix:/tmp/q.sock,server,wait=off").unwrap();
        assert_eq!(a, Address::Unix("/tmp/q.sock".into()));
        assert!(!wait);
    }

    #[test]
    fn qmp_spec_wait_defaults_on() {
        let (_, wait) = parse_qmp_spec("unix:/tmp/q.sock,server=on").unwrap();
        assert!(wait);
        let (_, wait) = parse_qmp_spec("unix:/tmp/q.sock,server,nowait").unwrap();
        assert!(!wait);
    }

    #[test]
    fn qmp_spec_tcp_forms() {
        let (a, _) = parse_qmp_spec("tcp:127.0.0.1:4444,server,wait=off").unwrap();
        assert_eq!(a, Address::Tcp { host: "127.0.0.1".into(), port: 4444 });
        let (a, _) = parse_qmp_spec("tcp::4444,server=on,wait=off").unwrap();
        assert_eq!(a, Address::Tcp { host: String::new(), port: 4444 });
        let (a, _) = parse_qmp_spec("tcp:[::1]:4444,server,wait=off").unwrap();
        assert_eq!(a, Address::Tcp { host: "::1".into(), port: 4444 });
    }

    #[test]
    fn qmp_spec_doubled_comma_is_literal() {
        let (a, _) = parse_qmp_spec("unix:/tmp/a,,b,server,wait=off").unwrap();
        assert_eq!(a, Address::Unix("/tmp/a,b".into()));
    }

    #[test]
    fn qmp_spec_client_mode_and_junk_are_errors() {
        assert!(parse_qmp_spec("unix:/tmp/q.sock").is_err());
        assert!(parse_qmp_spec("stdio").is_err());
        assert!(parse_qmp_spec("tcp:localhost,server").is_err());
        assert!(parse_qmp_spec("unix:/tmp/q,server,bogus=1").is_err());
        assert!(parse_qmp_spec("unix:/tmp/q,server,wait=maybe").is_err());
    }

    #[test]
    fn chardev_socket_path_and_port() {
        let c = parse_chardev_socket("socket,id=mon0,path=/tmp/m.sock,server=on,wait=off").unwrap();
        assert_eq!(c, ChardevSocket { id: "mon0".into(), address: Address::Unix("/tmp/m.sock".into()), wait: false });
        let c = parse_chardev_socket("socket,id=m,host=127.0.0.1,port=5555,server=on,wait=off").unwrap();
        assert_eq!(c.address, Address::Tcp { host: "127.0.0.1".into(), port: 5555 });
        assert!(parse_chardev_socket("socket,path=/tmp/x,server=on").is_err());
        assert!(parse_chardev_socket("pty,id=x").is_err());
    }
}
