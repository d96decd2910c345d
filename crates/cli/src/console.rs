//! The host side of the serial console: stdin read on its own thread, raw terminal mode while
//! the guest owns the terminal, and QEMU's Ctrl-A escape keys (`x` quits, `h` helps, `a` sends a
//! literal Ctrl-A). Works the same with pipes and files, so a script can drive the guest.

use mimic_monitor::{HmpSession, Vm};
use nix::sys::termios::{self, SetArg, Termios};
use std::io::{IsTerminal, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const CTRL_A: u8 = 0x01;

pub const ESCAPE_HELP: &str =
    "\r\nC-a h    print this help\r\nC-a x    exit emulator\r\nC-a c    switch between console and monitor\r\nC-a a    send C-a\r\n";

/// Puts the terminal into raw mode and restores it when dropped.
pub struct RawTerminal {
    saved: Option<Termios>,
}

impl RawTerminal {
    /// Raw mode on stdin if it is a terminal; a no-op guard otherwise.
    pub fn enable() -> RawTerminal {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return RawTerminal { saved: None };
        }
        let Ok(saved) = termios::tcgetattr(&stdin) else {
            return RawTerminal { saved: None };
        };
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        // Keep output post-processing so the host's own messages still get carriage returns.
        raw.output_flags = saved.output_flags;
        if termios::tcsetattr(&stdin, SetArg::TCSANOW, &raw).is_err() {
            return RawTerminal { saved: None };
        }
        RawTerminal { saved: Some(saved) }
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin(), SetArg::TCSANOW, saved);
        }
    }
}

/// Splits host input into bytes for the guest and escape commands.
#[derive(Default)]
pub struct Escapes {
    pending_escape: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    /// Switch between the guest's console and the monitor.
    Switch,
}

/// A run of input: bytes for whoever has the console, or an escape command, in typed order.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    Bytes(Vec<u8>),
    Action(Action),
}

impl Escapes {
    /// Split input into bytes and escape commands, keeping their order (what follows a C-a c
    /// belongs to the other side).
    pub fn feed(&mut self, input: &[u8]) -> Vec<Piece> {
        let mut pieces = Vec::new();
        let mut bytes = Vec::new();
        let action = |pieces: &mut Vec<Piece>, bytes: &mut Vec<u8>, a| {
            if !bytes.is_empty() {
                pieces.push(Piece::Bytes(std::mem::take(bytes)));
            }
            pieces.push(Piece::Action(a));
        };
        for &b in input {
            if self.pending_escape {
                self.pending_escape = false;
                match b {
                    b'x' | b'X' => action(&mut pieces, &mut bytes, Action::Quit),
                    b'h' | b'H' | b'?' => action(&mut pieces, &mut bytes, Action::Help),
                    b'c' | b'C' => action(&mut pieces, &mut bytes, Action::Switch),
                    CTRL_A | b'a' => bytes.push(CTRL_A),
                    _ => {}
                }
            } else if b == CTRL_A {
                self.pending_escape = true;
            } else {
                bytes.push(b);
            }
        }
        if !bytes.is_empty() {
            pieces.push(Piece::Bytes(bytes));
        }
        pieces
    }
}

/// The monitor side of the console: a line editor over the raw terminal feeding HMP.
struct MonitorConsole {
    vm: Arc<dyn Vm>,
    session: HmpSession,
    line: Vec<u8>,
}

impl MonitorConsole {
    fn print(text: &str) {
        let mut o = std::io::stdout();
        let _ = o.write_all(text.as_bytes());
        let _ = o.flush();
    }

    fn enter(&self) {
        Self::print(&format!("\r\n{}\r\n(qemu) ", mimic_monitor::hmp::BANNER));
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'\r' | b'\n' => {
                    Self::print("\r\n");
                    let line = String::from_utf8_lossy(&self.line).to_string();
                    self.line.clear();
                    let out = self.session.execute(&*self.vm, &line);
                    Self::print(&out.text.replace('\n', "\r\n"));
                    if out.quit {
                        self.vm.quit();
                        return;
                    }
                    Self::print("(qemu) ");
                }
                0x7f | 0x08 if self.line.pop().is_some() => Self::print("\x08 \x08"),
                0x20..=0x7e => {
                    self.line.push(b);
                    Self::print(&(b as char).to_string());
                }
                _ => {}
            }
        }
    }
}

/// Start the stdin reader: guest-bound bytes go to `send` (the machine's host channel); Ctrl-A x
/// sets `quit`; Ctrl-A c switches to the monitor `vm` (when the machine has one) and back.
/// `monitor_first` starts in the monitor (`-monitor stdio`).
pub fn spawn_stdin(
    send: Box<dyn Fn(Vec<u8>) -> bool + Send>,
    quit: Arc<AtomicBool>,
    vm: Option<Arc<dyn Vm>>,
    monitor_first: bool,
) {
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut esc = Escapes::default();
        let mut mon = vm.map(|vm| MonitorConsole { vm, session: HmpSession::new(), line: Vec::new() });
        let mut in_monitor = monitor_first && mon.is_some();
        if let (true, Some(m)) = (in_monitor, &mon) {
            m.enter();
        }
        let mut buf = [0u8; 256];
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            for piece in esc.feed(&buf[..n]) {
                match (piece, &mut mon) {
                    (Piece::Action(Action::Quit), _) => {
                        quit.store(true, Ordering::Release);
                        return;
                    }
                    (Piece::Action(Action::Help), _) => MonitorConsole::print(ESCAPE_HELP),
                    (Piece::Action(Action::Switch), None) => {
                        MonitorConsole::print("\r\nmimic: this machine has no monitor yet\r\n")
                    }
                    (Piece::Action(Action::Switch), Some(m)) => {
                        in_monitor = !in_monitor;
                        if in_monitor {
                            m.enter();
                        } else {
                            MonitorConsole::print("\r\n");
                        }
                    }
                    (Piece::Bytes(bytes), Some(m)) if in_monitor => m.feed(&bytes),
                    (Piece::Bytes(bytes), _) => {
                        if !send(bytes) {
                            return;
                        }
                    }
                }
            }
        }
    });
}
