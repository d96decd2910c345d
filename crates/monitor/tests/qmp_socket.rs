//! QMP over real sockets: several clients, events, floods, junk, disconnects.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use mimic_monitor::mock::FakeVm;
use mimic_monitor::server::{Listener, MAX_CLIENTS};
use mimic_monitor::{Address, EventSink, QmpServer};
use serde_json::{json, Value};

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    vm: Arc<FakeVm>,
    events: EventSink,
    server: QmpServer,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qmp.sock");
    let events = EventSink::new();
    let vm = Arc::new(FakeVm::with_events(events.clone()));
    let listener = Address::Unix(path.clone()).bind().unwrap();
    let server = QmpServer::spawn(listener, vm.clone(), events.clone()).unwrap();
    Fixture { _dir: dir, path, vm, events, server }
}

struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    /// Events that arrived while waiting for a reply (QEMU sends e.g. STOP before stop's reply).
    events: VecDeque<Value>,
}

impl Client {
    fn connect(f: &Fixture) -> Client {
        let s = UnixStream::connect(&f.path).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Client { writer: s.try_clone().unwrap(), reader: BufReader::new(s), events: VecDeque::new() }
    }

    /// Connects and reads the greeting.
    fn greeted(f: &Fixture) -> Client {
        let mut c = Client::connect(f);
        let g = c.recv();
        assert!(g.get("QMP").is_some(), "{g}");
        c
    }

    /// Connects, reads the greeting, negotiates.
    fn ready(f: &Fixture) -> Client {
        let mut c = Client::greeted(f);
        assert_eq!(c.call(json!({"execute": "qmp_capabilities"})), json!({"return": {}}));
        c
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    fn recv_line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        line
    }

    fn recv(&mut self) -> Value {
        let line = self.recv_line();
        assert!(line.ends_with("\r\n"), "QMP lines end in CRLF: {line:?}");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad JSON {line:?}: {e}"))
    }

    /// Sends a request without a trailing newline (as qemu.qmp does) and reads its reply,
    /// keeping events that come first.
    fn call(&mut self, req: Value) -> Value {
        self.send_raw(req.to_string().as_bytes());
        self.reply()
    }

    /// The next message that is not an event.
    fn reply(&mut self) -> Value {
        loop {
            let v = self.recv();
            if v.get("event").is_some() {
                self.events.push_back(v);
            } else {
                return v;
            }
        }
    }

    /// The next event, kept or read.
    fn event(&mut self) -> Value {
        match self.events.pop_front() {
            Some(e) => e,
            None => {
                let v = self.recv();
                assert!(v.get("event").is_some(), "expected an event, got {v}");
                v
            }
        }
    }

    /// True if the server closed the connection (EOF or reset) within the read timeout.
    fn closed(&mut self) -> bool {
        let mut buf = [0u8; 256];
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {
                    return false
                }
                Err(_) => return true,
            }
        }
    }
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn greeting_then_negotiation_over_unix_socket() {
    let f = fixture();
    let mut c = Client::connect(&f);
    let g = c.recv();
    assert_eq!(g["QMP"]["version"]["qemu"]["major"], 10);
    let e = c.call(json!({"execute": "query-status", "id": 1}));
    assert_eq!(e["error"]["class"], "CommandNotFound");
    assert_eq!(e["id"], 1);
    assert_eq!(c.call(json!({"execute": "qmp_capabilities", "id": 2})), json!({"return": {}, "id": 2}));
    let s = c.call(json!({"execute": "query-status"}));
    assert_eq!(s["return"]["status"], "running");
}

#[test]
fn stop_event_reaches_every_negotiated_client_with_timestamp() {
    let f = fixture();
    let mut clients: Vec<Client> = (0..3).map(|_| Client::ready(&f)).collect();
    wait_until("3 event subscribers", || f.events.client_count() == 3);
    assert_eq!(clients[0].call(json!({"execute": "stop", "id": "s"})), json!({"return": {}, "id": "s"}));
    for (i, c) in clients.iter_mut().enumerate() {
        let ev = c.event();
        assert_eq!(ev["event"], "STOP", "client {i}: {ev}");
        let secs = ev["timestamp"]["seconds"].as_u64().unwrap();
        assert!(secs > 1_600_000_000, "{ev}");
        assert!(ev["timestamp"]["microseconds"].as_u64().unwrap() < 1_000_000);
    }
}

#[test]
fn events_skip_clients_still_negotiating() {
    let f = fixture();
    let mut waiting = Client::greeted(&f);
    let mut ready = Client::ready(&f);
    wait_until("1 event subscriber", || f.events.client_count() == 1);
    ready.call(json!({"execute": "stop"}));
    assert_eq!(ready.event()["event"], "STOP");
    // The first thing the un-negotiated client sees is its own reply, not the event.
    let r = waiting.call(json!({"execute": "qmp_capabilities"}));
    assert_eq!(r, json!({"return": {}}));
}

#[test]
fn emitted_events_from_another_thread_are_delivered() {
    let f = fixture();
    let mut c = Client::ready(&f);
    wait_until("subscriber", || f.events.client_count() == 1);
    let sink = f.events.clone();
    thread::spawn(move || sink.emit(mimic_monitor::Event::powerdown())).join().unwrap();
    assert_eq!(c.event()["event"], "POWERDOWN");
}

#[test]
fn junk_bytes_get_parse_errors_and_the_session_continues() {
    let f = fixture();
    let mut c = Client::ready(&f);
    c.send_raw(b"garbage\n");
    let e = c.recv();
    assert_eq!(e["error"]["class"], "GenericError");
    assert!(e["error"]["desc"].as_str().unwrap().starts_with("JSON parse error"), "{e}");
    c.send_raw(b"\xff");
    assert_eq!(c.recv()["error"]["class"], "GenericError");
    c.send_raw(b"42\n");
    assert_eq!(c.recv()["error"]["desc"], "QMP input must be a JSON object");
    c.send_raw(br#"{"execute": "query-status", "id": 9}"#);
    assert_eq!(c.recv()["id"], 9);
}

#[test]
fn malformed_json_object_is_parse_error() {
    let f = fixture();
    let mut c = Client::ready(&f);
    c.send_raw(b"{\"execute\": \"stop\",}\n");
    let e = c.recv();
    assert!(e["error"]["desc"].as_str().unwrap().starts_with("JSON parse error, "), "{e}");
    assert!(f.vm.calls().is_empty());
}

#[test]
fn ten_mib_line_closes_that_client_only() {
    let f = fixture();
    let mut good = Client::ready(&f);
    let mut flood = Client::ready(&f);
    let writer = flood.writer.try_clone().unwrap();
    let flooder = thread::spawn(move || {
        let mut w = writer;
        let mut line = br#"{"execute": "human-monitor-command", "arguments": {"command-line": ""#.to_vec();
        line.extend(std::iter::repeat_n(b'a', 10 << 20));
        line.extend(b"\"}}\n");
        // The server may close mid-write; that is the expected outcome.
        let _ = w.write_all(&line);
    });
    // Meanwhile the other client is served.
    for i in 0..20 {
        let r = good.call(json!({"execute": "query-name", "id": i}));
        assert_eq!(r["id"], i);
    }
    let e = flood.reply();
    assert_eq!(e["error"]["class"], "GenericError", "{e}");
    assert!(flood.closed(), "the flooding client is disconnected");
    flooder.join().unwrap();
    assert_eq!(good.call(json!({"execute": "query-status"}))["return"]["running"], true);
    wait_until("flooder slot freed", || f.server.client_count() == 1);
}

#[test]
fn disconnect_mid_message_harms_nothing() {
    let f = fixture();
    let mut other = Client::ready(&f);
    {
        let mut c = Client::ready(&f);
        c.send_raw(br#"{"execute": "sto"#);
    }
    wait_until("half-message client gone", || f.server.client_count() == 1);
    assert_eq!(other.call(json!({"execute": "stop"})), json!({"return": {}}));
    assert_eq!(other.event()["event"], "STOP");
    assert_eq!(f.vm.calls(), vec!["stop"], "the half message must never run");
    wait_until("only one subscriber", || f.events.client_count() == 1);
}

#[test]
fn several_clients_run_commands_concurrently() {
    let f = Arc::new(fixture());
    let workers: Vec<_> = (0..8)
        .map(|n| {
            let f = f.clone();
            thread::spawn(move || {
                let mut c = Client::greeted(&f);
                c.call(json!({"execute": "qmp_capabilities"}));
                for i in 0..50 {
                    let id = format!("{n}-{i}");
                    // Skip events other workers' stop/cont might not cause (none here).
                    let r = c.call(json!({"execute": "query-cpus-fast", "id": id}));
                    assert_eq!(r["id"], id);
                    assert_eq!(r["return"][0]["cpu-index"], 0);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

#[test]
fn messages_split_across_writes_are_reassembled() {
    let f = fixture();
    let mut c = Client::ready(&f);
    c.send_raw(br#"{"execute": "query-"#);
    thread::sleep(Duration::from_millis(50));
    c.send_raw(br#"name", "id": "x"}{"execute": "query-status", "id": "y"}"#);
    assert_eq!(c.recv()["id"], "x");
    assert_eq!(c.recv()["id"], "y");
}

#[test]
fn clients_past_the_limit_are_refused_and_others_keep_working() {
    let f = fixture();
    let mut held: Vec<Client> = (0..MAX_CLIENTS).map(|_| Client::greeted(&f)).collect();
    let mut extra = Client::connect(&f);
    assert!(extra.closed(), "client {} must be refused", MAX_CLIENTS + 1);
    assert_eq!(held[0].call(json!({"execute": "qmp_capabilities"})), json!({"return": {}}));
    held.truncate(1);
    wait_until("slots freed", || f.server.client_count() == 1);
    let mut late = Client::ready(&f);
    assert_eq!(late.call(json!({"execute": "query-name"})), json!({"return": {"name": "fake"}}));
}

#[test]
fn quit_reply_arrives_before_the_vm_quits() {
    let f = fixture();
    let mut c = Client::ready(&f);
    assert_eq!(c.call(json!({"execute": "quit", "id": "q"})), json!({"return": {}, "id": "q"}));
    let ev = c.event();
    assert_eq!(ev["event"], "SHUTDOWN");
    assert_eq!(ev["data"], json!({"guest": false, "reason": "host-qmp-quit"}));
    assert_eq!(f.vm.calls(), vec!["quit"]);
}

#[test]
fn wait_for_client_returns_once_someone_connects() {
    let f = fixture();
    let path = f.path.clone();
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        UnixStream::connect(path).unwrap()
    });
    f.server.wait_for_client();
    drop(t.join().unwrap());
}

#[test]
fn tcp_listener_serves_qmp() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let events = EventSink::new();
    let vm = Arc::new(FakeVm::with_events(events.clone()));
    let _server = QmpServer::spawn(Listener::Tcp(l), vm, events).unwrap();
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert_eq!(
        line,
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}, \"package\": \"mimic 0.1.0\"}, \"capabilities\": []}}\r\n"
    );
    w.write_all(b"{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"query-status\"}\n").unwrap();
    line.clear();
    r.read_line(&mut line).unwrap();
    assert_eq!(line, "{\"return\": {}}\r\n");
    line.clear();
    r.read_line(&mut line).unwrap();
    assert_eq!(line, "{\"return\": {\"running\": true, \"singlestep\": false, \"status\": \"running\"}}\r\n");
}

#[test]
fn stale_unix_socket_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(Address::Unix(path).bind().is_ok());
}

#[test]
fn hmp_over_an_accepted_stream_prints_banner_and_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hmp.sock");
    let listener = Address::Unix(path.clone()).bind().unwrap();
    let vm = Arc::new(FakeVm::new());
    let server_vm = vm.clone();
    let t = thread::spawn(move || {
        let stream = listener.accept().unwrap();
        let reader = stream.try_clone().unwrap();
        mimic_monitor::serve_stdio(&*server_vm, BufReader::new(reader), stream).unwrap();
    });
    let mut s = UnixStream::connect(&path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"info status\nq\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    t.join().unwrap();
    assert_eq!(text, "mimic 0.1.0 monitor - type 'help' for more information\r\n(qemu) VM status: running\r\n(qemu) ");
    assert_eq!(vm.calls(), vec!["quit"]);
}
