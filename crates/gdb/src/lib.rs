//! GDB remote stub for RISC-V 64 and AArch64 guests, over [`DebugTarget`] (never the machine
//! itself), built on the `gdbstub` crate. One stub; the target's `DebugTarget::Arch` picks the
//! register file.
//!
//! - [`parse_gdb_spec`] / [`listen`]: QEMU's `-gdb` device spellings (`-s` is `tcp::1234`).
//! - [`serve`] / [`serve_connection`]: one debugger session; returns a [`StopOutcome`].
//!
//! Every hart (CPU) is a GDB thread (thread id = hart + 1). Registers, numbering and the target
//! descriptions are in [`arch`]: for RISC-V ([`arch::riscv`]) x0..x31, pc, f0..f31,
//! fflags/frm/fcsr, the CSRs from `DebugTarget::csr_list`, and `priv`; for AArch64
//! ([`arch::aarch64`]) x0..x30, sp, pc, cpsr, v0..v31, fpsr, fpcr.
//!
//! ## How GDB requests map onto [`DebugTarget`]
//! - connect: `attach()` (stop the machine, like QEMU does when gdb attaches).
//! - `vCont` with a step action for thread N: `step(N - 1)` — only that hart runs one
//!   instruction, even if GDB asked the other threads to continue (`vCont;s:1;c`); stop reply
//!   `T05thread:N;`.
//! - `vCont;c` / `c` (any continue actions, no step): `resume()` — every hart runs; a
//!   scheduler-locked continue of one thread also runs them all.
//! - while running, `wait(10 ms)` alternates with polling the socket; a 0x03 byte (Ctrl-C)
//!   calls `interrupt()` and the resulting `Interrupted { hart }` is reported as
//!   `T02thread:hart+1;` (SIGINT).
//! - stops: `Breakpoint` → `T05 swbreak` (`hwbreak` if only a `Z1` is at that pc),
//!   `Watchpoint` → `T05 watch/rwatch/awatch:addr` (report it *before* the access; GDB steps
//!   over the access itself), `Step` → `T05`, `Exited { status }` →
//!   `W status` and the session ends.
//! - `Z0`/`Z1` (software/hardware breakpoints) are the same `add_breakpoint` (reference-counted
//!   here so both kinds at one address work); `Z2`/`Z3`/`Z4` → `add_watchpoint(Write/Read/Access)`.
//! - `m`/`M`/`X`: `read_memory`/`write_memory` through the selected thread's hart; a read that
//!   runs into unmapped memory returns the readable prefix (page granular).
//! - `D` (detach) ends with [`StopOutcome::Detached`], `k` with [`StopOutcome::Killed`].
//!
//! When `serve` returns (except after `Exited`) the machine is stopped and every breakpoint and
//! watchpoint this session inserted has been removed. The caller decides what happens next:
//! QEMU resumes the guest after a detach or a dropped connection and quits after `kill`.

pub mod arch;
#[cfg(any(test, feature = "test-utils"))]
pub mod mock;
mod stub;
pub mod target;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};

use gdbstub::stub::{DisconnectReason, GdbStub};

pub use arch::GdbArch;
pub use target::{Aarch64Regs, DebugTarget, RiscvRegs, StopReason, TargetError, WatchKind};

/// The port `-s` means.
pub const DEFAULT_PORT: u16 = 1234;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid gdb device {spec:?}: {why}")]
    Spec { spec: String, why: String },
    #[error("gdb socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("gdb target: {0}")]
    Target(#[from] TargetError),
    #[error("gdb stub: {0}")]
    Stub(String),
}

/// How a debugger session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopOutcome {
    /// The debugger detached (`D`, also what `quit` does after `target remote`). The machine
    /// is stopped; QEMU would resume it.
    Detached,
    /// The connection closed or failed without a detach. The machine is stopped; QEMU resumes
    /// it, as for a detach.
    Disconnected,
    /// The debugger sent `kill`: QEMU quits.
    Killed,
    /// The machine reported `Exited { status }` (reported to GDB as `W`).
    Exited(i32),
}

/// Parse a QEMU `-gdb` device string into the address to listen on.
///
/// Accepted: `tcp::PORT` (all interfaces, as QEMU does: `0.0.0.0`, so the stub is reachable
/// from the network — use `tcp:127.0.0.1:PORT` or `tcp:localhost:PORT` to keep it local),
/// `tcp:HOST:PORT` (IPv4, `[IPv6]` or a host name, resolved now, IPv4 preferred), and a bare
/// `PORT`. Trailing QEMU chardev options (`,server=on,wait=off,ipv4=on,...`) are ignored.
/// `unix:`, `stdio`, `none` and other chardevs are rejected.
pub fn parse_gdb_spec(spec: &str) -> Result<SocketAddr, Error> {
    let err = |why: &str| Error::Spec { spec: spec.to_string(), why: why.to_string() };
    let s = spec.trim();
    let parse_port = |p: &str| p.parse::<u16>().map_err(|_| err("port must be a number 0-65535"));
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), parse_port(s)?));
    }
    let Some(rest) = s.strip_prefix("tcp:") else {
        return Err(err("only tcp:[HOST]:PORT is supported (e.g. tcp::1234)"));
    };
    let rest = rest.split(',').next().unwrap_or("");
    let Some((host, port)) = rest.rsplit_once(':') else {
        return Err(err("expected tcp:[HOST]:PORT"));
    };
    let port = parse_port(port)?;
    if host.is_empty() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    if bare.contains(['[', ']']) {
        return Err(err("bad IPv6 address"));
    }
    let addrs: Vec<SocketAddr> =
        (bare, port).to_socket_addrs().map_err(|e| err(&format!("cannot resolve host {bare:?}: {e}")))?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| err(&format!("host {bare:?} has no address")))
}

/// [`parse_gdb_spec`] and bind: the listener to hand to [`serve`].
pub fn listen(spec: &str) -> Result<TcpListener, Error> {
    let addr = parse_gdb_spec(spec)?;
    TcpListener::bind(addr)
        .map_err(|e| Error::Spec { spec: spec.to_string(), why: format!("cannot listen on {addr}: {e}") })
}

/// Accept one debugger connection on `listener` and serve it until the debugger detaches or
/// kills, the connection drops, or the machine exits. Blocks (run it on its own thread). To
/// accept another debugger afterwards, call [`serve_connection`] with the next `accept`.
pub fn serve(listener: TcpListener, target: impl DebugTarget) -> Result<StopOutcome, Error> {
    let (stream, peer) = listener.accept()?;
    tracing::info!(%peer, "gdb connected");
    serve_connection(stream, target)
}

/// Serve one already-accepted debugger connection (see [`serve`]).
pub fn serve_connection<T: DebugTarget>(stream: TcpStream, mut target: T) -> Result<StopOutcome, Error> {
    target.attach()?;
    let mut gt = stub::GdbTarget::new(target);
    let gdb = GdbStub::<stub::GdbTarget<T>, TcpStream>::builder(stream)
        .packet_buffer_size(gt.packet_buffer_size())
        .build()
        .map_err(|e| Error::Stub(e.to_string()))?;
    let result = gdb.run_blocking::<stub::EventLoop<T>>(&mut gt);
    let outcome = match result {
        Ok(DisconnectReason::Disconnect) => Ok(StopOutcome::Detached),
        Ok(DisconnectReason::Kill) => Ok(StopOutcome::Killed),
        Ok(DisconnectReason::TargetExited(code)) => Ok(StopOutcome::Exited(gt.exit_status.unwrap_or(i32::from(code)))),
        Ok(DisconnectReason::TargetTerminated(sig)) => Ok(StopOutcome::Exited(128 + i32::from(sig.0))),
        Err(e) if e.is_connection_error() => {
            tracing::info!(error = %e, "gdb connection closed");
            Ok(StopOutcome::Disconnected)
        }
        Err(e) => {
            if e.is_target_error() {
                let te = e.into_target_error().expect("is a target error");
                Err(Error::Target(te))
            } else {
                Err(Error::Stub(e.to_string()))
            }
        }
    };
    if !matches!(outcome, Ok(StopOutcome::Exited(_))) {
        gt.stop_if_running();
        if let Some(status) = gt.exit_status.filter(|_| outcome.is_ok()) {
            return Ok(StopOutcome::Exited(status));
        }
        gt.remove_all();
    }
    tracing::info!(?outcome, "gdb session ended");
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdb_specs() {
        let p = |s| parse_gdb_spec(s).unwrap().to_string();
        assert_eq!(p("tcp::1234"), "0.0.0.0:1234");
        assert_eq!(p("1234"), "0.0.0.0:1234");
        assert_eq!(p("tcp:127.0.0.1:4321"), "127.0.0.1:4321");
        assert_eq!(p("tcp:localhost:1234"), "127.0.0.1:1234");
        assert_eq!(p("tcp:[::1]:1234"), "[::1]:1234");
        assert_eq!(p("tcp::1234,server=on,wait=off"), "0.0.0.0:1234");
        assert_eq!(p("tcp:0.0.0.0:0"), "0.0.0.0:0");
        for bad in ["", "tcp:", "tcp::", "tcp::99999", "tcp:1234", "unix:/tmp/x", "stdio", "none", "tcp:[zz]:1"] {
            assert!(parse_gdb_spec(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
