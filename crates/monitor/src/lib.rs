//! QMP and HMP monitor protocols, spoken the way QEMU speaks them, against [`vm::Vm`].
//!
//! - [`server`]: listeners (`-qmp unix:...`, `-qmp tcp:...`, `-chardev socket,...`), one thread
//!   per client, and [`server::EventSink`] for asynchronous events.
//! - [`qmp`]: one QMP session (greeting, negotiation, dispatch, QEMU's error classes).
//! - [`hmp`]: the human monitor (`info status`, `x /4wx`, ...) and a line-stream console.
//! - [`json`]: stream framing like QEMU's json-streamer, and QEMU-spaced JSON output.
#![forbid(unsafe_code)]

pub mod hmp;
pub mod json;
#[cfg(any(test, feature = "test-utils"))]
pub mod mock;
pub mod qmp;
pub mod server;
pub mod vm;

pub use hmp::{execute, serve_stdio, HmpOutcome, HmpSession};
pub use qmp::{QmpError, QmpSession};
pub use server::{parse_chardev_socket, parse_qmp_spec, Address, ChardevSocket, EventSink, Listener, QmpServer};
pub use vm::{BlockInfo, ChardevInfo, CpuInfo, Event, RunState, Vm, VmError};

#[cfg(test)]
mod tests_hmp;
#[cfg(test)]
mod tests_qmp;
