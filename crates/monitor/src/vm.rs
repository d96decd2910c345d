//! What the monitor needs of a virtual machine. The command-line crate implements this over the
//! real machine (forwarding each call to the thread that runs the guest); tests use a fake.
//!
//! Every method may be called from any monitor thread at any time, concurrently.

use std::path::Path;

/// QEMU's `RunState` names, as `query-status` reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Running,
    Paused,
    /// Waiting for a debugger or `cont` after `-S`.
    Prelaunch,
    Debug,
    Shutdown,
}

impl RunState {
    pub fn qmp_name(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Prelaunch => "prelaunch",
            RunState::Debug => "debug",
            RunState::Shutdown => "shutdown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuInfo {
    pub cpu_index: usize,
    /// The host thread running this vCPU (QEMU reports the OS thread id).
    pub thread_id: u64,
    pub qom_path: String,
    /// `"riscv"`, `"aarch64"`, ...
    pub target: &'static str,
    /// Architecture-specific extras for query-cpus-fast (e.g. current privilege, pc).
    pub props: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChardevInfo {
    pub label: String,
    pub filename: String,
    pub frontend_open: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    pub device: String,
    pub removable: bool,
    pub locked: bool,
    /// Image file and format, when a medium is inserted.
    pub file: Option<(String, String)>,
    pub read_only: bool,
}

/// A failed VM operation, reported to QMP clients with QEMU's error class.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VmError {
    /// QEMU's `GenericError`.
    #[error("{0}")]
    Generic(String),
    /// QEMU's `DeviceNotFound` (e.g. a bad CPU index).
    #[error("{0}")]
    DeviceNotFound(String),
}

/// Asynchronous events the VM reports (`SHUTDOWN`, `RESET`, `STOP`, `RESUME`, `POWERDOWN`, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub name: String,
    /// The event's `data` member (a JSON object), if any.
    pub data: Option<serde_json::Value>,
}

pub trait Vm: Send + Sync + 'static {
    fn name(&self) -> Option<String>;
    fn status(&self) -> RunState;
    fn stop(&self) -> Result<(), VmError>;
    fn cont(&self) -> Result<(), VmError>;
    fn system_reset(&self) -> Result<(), VmError>;
    /// Ask the guest to power off (the ACPI power button on machines that have one).
    fn system_powerdown(&self) -> Result<(), VmError>;
    /// End the emulator (QMP `quit`, HMP `quit`).
    fn quit(&self);
    fn cpus(&self) -> Vec<CpuInfo>;
    fn block_devices(&self) -> Vec<BlockInfo>;
    fn chardevs(&self) -> Vec<ChardevInfo>;
    /// Read guest memory: physical, or virtual through `cpu`'s current translation.
    fn read_memory(&self, cpu: Option<usize>, addr: u64, len: usize) -> Result<Vec<u8>, VmError>;
    /// `memsave` (virtual, through `cpu`) and `pmemsave` (physical, `cpu` = None) to a host file.
    fn save_memory(&self, cpu: Option<usize>, addr: u64, len: u64, path: &Path) -> Result<(), VmError>;
    /// HMP `info registers` text for one CPU.
    fn info_registers(&self, cpu: usize) -> Result<String, VmError>;
    /// HMP `info mtree` and `info qtree` text.
    fn info_mtree(&self) -> String;
    fn info_qtree(&self) -> String;
}

impl Event {
    /// An event with a `data` object.
    pub fn new(name: &str, data: Option<serde_json::Value>) -> Self {
        Event { name: name.to_string(), data }
    }

    /// `STOP`: the guest stopped running (no data).
    pub fn stop() -> Self {
        Event::new("STOP", None)
    }

    /// `RESUME`: the guest runs again (no data).
    pub fn resume() -> Self {
        Event::new("RESUME", None)
    }

    /// `POWERDOWN`: the power button was pressed, e.g. by `system_powerdown` (no data).
    pub fn powerdown() -> Self {
        Event::new("POWERDOWN", None)
    }

    /// `RESET` with QEMU's data: `guest` is true when the guest asked for it; `reason` is a
    /// `ShutdownCause` such as `"guest-reset"` or `"host-qmp-system-reset"`.
    pub fn reset(guest: bool, reason: &str) -> Self {
        Event::new("RESET", Some(serde_json::json!({"guest": guest, "reason": reason})))
    }

    /// `SHUTDOWN` with QEMU's data: `reason` is a `ShutdownCause` such as `"guest-shutdown"`,
    /// `"host-qmp-quit"`, `"host-signal"` or `"guest-panic"`.
    pub fn shutdown(guest: bool, reason: &str) -> Self {
        Event::new("SHUTDOWN", Some(serde_json::json!({"guest": guest, "reason": reason})))
    }
}
