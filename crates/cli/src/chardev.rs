//! `-chardev` back ends for device front ends (today: `virtconsole`), in QEMU's spellings:
//! `null`, `file,path=P[,append=on]` (output only), `stdio` (output only: the terminal's input
//! belongs to the serial console and the monitor) and `socket,path=P|host=H,port=N,server=on`
//! (one client at a time; its bytes become guest input, guest output goes to it, and is
//! dropped while nobody is connected, as QEMU does with `wait=off`).

use mimic_machine::virtio::ConsolePort;
use mimic_monitor::parse_chardev_socket;
use mimic_monitor::server::Stream;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

/// The backend name and `key=value` options of a chardev spec.
fn split(spec: &str) -> (&str, Vec<(&str, &str)>) {
    let mut parts = spec.split(',');
    let backend = parts.next().unwrap_or_default();
    (backend, parts.map(|p| p.split_once('=').unwrap_or((p, ""))).collect())
}

/// Open the chardev `spec` (from `-chardev`) as a console port.
pub fn open_port(spec: &str) -> Result<ConsolePort, String> {
    let err = |m: String| format!("-chardev {spec}: {m}");
    let (backend, opts) = split(spec);
    let known = |allowed: &[&str]| -> Result<(), String> {
        match opts.iter().find(|(k, _)| !allowed.contains(k)) {
            Some((k, _)) => Err(err(format!("invalid parameter '{k}' for backend '{backend}'"))),
            None => Ok(()),
        }
    };
    match backend {
        "null" => {
            known(&["id"])?;
            Ok(ConsolePort::null())
        }
        "stdio" => {
            known(&["id", "signal", "mux"])?;
            Ok(ConsolePort { output: Arc::new(Mutex::new(io::stdout())), input: Arc::default() })
        }
        "file" => {
            known(&["id", "path", "append"])?;
            let path = opts.iter().find(|(k, _)| *k == "path").map(|(_, v)| *v).filter(|v| !v.is_empty());
            let path = path.ok_or_else(|| err("path= is required".into()))?;
            let append = match opts.iter().find(|(k, _)| *k == "append").map(|(_, v)| *v) {
                None | Some("off") => false,
                Some("on") => true,
                Some(v) => return Err(err(format!("append={v}: expected on or off"))),
            };
            let f = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(path)
                .map_err(|e| err(format!("{path}: {e}")))?;
            Ok(ConsolePort { output: Arc::new(Mutex::new(f)), input: Arc::default() })
        }
        "socket" => {
            let s = parse_chardev_socket(spec).map_err(|e| err(e.to_string()))?;
            let listener = s.address.bind().map_err(|e| err(e.to_string()))?;
            let client = Arc::new(Mutex::new(Client(None)));
            let input: Arc<Mutex<VecDeque<u8>>> = Arc::default();
            let (c, i) = (client.clone(), input.clone());
            std::thread::Builder::new()
                .name("mimic-chardev".into())
                .spawn(move || serve(listener, c, i))
                .map_err(|e| err(e.to_string()))?;
            Ok(ConsolePort { output: client, input })
        }
        other => Err(err(format!("backend '{other}' is not supported (null, stdio, file, socket)"))),
    }
}

/// The connected client of a socket chardev, if any.
struct Client(Option<Stream>);

impl Write for Client {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(s) = &mut self.0 {
            if s.write_all(buf).is_err() {
                // Gone: drop it, and the bytes, as for no client at all.
                self.0 = None;
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        if let Some(s) = &mut self.0 {
            if s.flush().is_err() {
                self.0 = None;
            }
        }
        Ok(())
    }
}

/// Accept clients one after another; each one's bytes go to `input` until it disconnects.
fn serve(listener: mimic_monitor::Listener, client: Arc<Mutex<Client>>, input: Arc<Mutex<VecDeque<u8>>>) {
    /// Host input buffered for the guest at most; a client sending more waits.
    const INPUT_LIMIT: usize = 64 * 1024;
    while let Ok(stream) = listener.accept() {
        let Ok(mut reader) = stream.try_clone() else { continue };
        client.lock().unwrap_or_else(|e| e.into_inner()).0 = Some(stream);
        let mut buf = [0u8; 4096];
        loop {
            if input.lock().unwrap_or_else(|e| e.into_inner()).len() >= INPUT_LIMIT {
                std::thread::sleep(std::time::Duration::from_millis(5));
                continue;
            }
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => input.lock().unwrap_or_else(|e| e.into_inner()).extend(&buf[..n]),
            }
        }
        client.lock().unwrap_or_else(|e| e.into_inner()).0 = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_backend_is_a_one_line_error() {
        let e = open_port("pty,id=c0").err().unwrap();
        assert!(e.contains("backend 'pty' is not supported") && !e.contains('\n'), "{e}");
    }

    #[test]
    fn file_without_path_is_an_error() {
        assert!(open_port("file,id=c0").err().unwrap().contains("path= is required"));
    }

    #[test]
    fn file_backend_writes_output_to_the_file() {
        let p = std::env::temp_dir().join(format!("mimic-chardev-{}", std::process::id()));
        let port = open_port(&format!("file,id=c0,path={}", p.display())).unwrap();
        port.output.lock().unwrap().write_all(b"hello").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        std::fs::remove_file(p).ok();
    }
}
