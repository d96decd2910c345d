//! `FakeVm`: a scriptable [`Vm`] for tests of this crate and of the command line.
//!
//! Two CPUs, 64 KiB of RAM at `0x8000_0000` (virtual addresses map 1:1), a block device, a chardev.
//! It records every call and, when given an [`EventSink`], emits the events QEMU would:
//! `stop` → STOP, `cont` → RESUME, `system_reset` → RESET, `system_powerdown` → POWERDOWN then
//! (the guest obliging) SHUTDOWN `guest-shutdown`, `quit` → SHUTDOWN `host-qmp-quit`.

use std::path::Path;
use std::sync::Mutex;

use crate::server::EventSink;
use crate::vm::{BlockInfo, ChardevInfo, CpuInfo, Event, RunState, Vm, VmError};

/// Where the fake's RAM starts.
pub const RAM_BASE: u64 = 0x8000_0000;
/// How much RAM the fake has.
pub const RAM_SIZE: usize = 64 * 1024;

#[derive(Debug)]
struct State {
    status: RunState,
    ram: Vec<u8>,
    calls: Vec<String>,
}

#[derive(Debug)]
pub struct FakeVm {
    state: Mutex<State>,
    events: Option<EventSink>,
    name: Option<String>,
}

impl Default for FakeVm {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeVm {
    /// A running fake named "fake"; RAM byte `i` holds `i as u8`.
    pub fn new() -> Self {
        let ram = (0..RAM_SIZE).map(|i| i as u8).collect();
        FakeVm {
            state: Mutex::new(State { status: RunState::Running, ram, calls: Vec::new() }),
            events: None,
            name: Some("fake".into()),
        }
    }

    /// The same, emitting its events into `events`.
    pub fn with_events(events: EventSink) -> Self {
        FakeVm { events: Some(events), ..Self::new() }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn emit(&self, e: Event) {
        if let Some(sink) = &self.events {
            sink.emit(e);
        }
    }

    fn record(&self, call: &str) {
        self.state().calls.push(call.to_string());
    }

    pub fn set_status(&self, status: RunState) {
        self.state().status = status;
    }

    /// Writes guest RAM at physical address `addr`.
    pub fn write_ram(&self, addr: u64, bytes: &[u8]) {
        let off = (addr - RAM_BASE) as usize;
        self.state().ram[off..off + bytes.len()].copy_from_slice(bytes);
    }

    /// Every Vm method called so far that changes state, in order (`"stop"`, `"quit"`, ...).
    pub fn calls(&self) -> Vec<String> {
        self.state().calls.clone()
    }

    fn ram(&self, cpu: Option<usize>, addr: u64, len: usize) -> Result<Vec<u8>, VmError> {
        if let Some(cpu) = cpu {
            if cpu >= 2 {
                return Err(VmError::DeviceNotFound(format!("CPU {cpu} not found")));
            }
        }
        let st = self.state();
        let off = addr.checked_sub(RAM_BASE).map(|o| o as usize);
        match off {
            Some(off) if off.checked_add(len).is_some_and(|end| end <= st.ram.len()) => {
                Ok(st.ram[off..off + len].to_vec())
            }
            _ => Err(VmError::Generic(format!("Invalid addr 0x{addr:x}/size {len} specified"))),
        }
    }
}

impl Vm for FakeVm {
    fn name(&self) -> Option<String> {
        self.name.clone()
    }

    fn status(&self) -> RunState {
        self.state().status
    }

    fn stop(&self) -> Result<(), VmError> {
        self.record("stop");
        let was_running = {
            let mut st = self.state();
            let r = st.status == RunState::Running;
            if r {
                st.status = RunState::Paused;
            }
            r
        };
        if was_running {
            self.emit(Event::stop());
        }
        Ok(())
    }

    fn cont(&self) -> Result<(), VmError> {
        self.record("cont");
        let resumed = {
            let mut st = self.state();
            match st.status {
                RunState::Shutdown => return Err(VmError::Generic("Resetting the Virtual Machine is required".into())),
                RunState::Running => false,
                _ => {
                    st.status = RunState::Running;
                    true
                }
            }
        };
        if resumed {
            self.emit(Event::resume());
        }
        Ok(())
    }

    fn system_reset(&self) -> Result<(), VmError> {
        self.record("system_reset");
        self.emit(Event::reset(false, "host-qmp-system-reset"));
        Ok(())
    }

    fn system_powerdown(&self) -> Result<(), VmError> {
        self.record("system_powerdown");
        self.emit(Event::powerdown());
        self.state().status = RunState::Shutdown;
        self.emit(Event::shutdown(true, "guest-shutdown"));
        Ok(())
    }

    fn quit(&self) {
        self.record("quit");
        self.emit(Event::shutdown(false, "host-qmp-quit"));
    }

    fn cpus(&self) -> Vec<CpuInfo> {
        (0..2)
            .map(|i| CpuInfo {
                cpu_index: i,
                thread_id: 1000 + i as u64,
                qom_path: format!("/machine/soc0/harts/harts[{i}]"),
                target: "riscv64",
                props: vec![("node-id".into(), "0".into()), ("pc".into(), "0x80000000".into())],
            })
            .collect()
    }

    fn block_devices(&self) -> Vec<BlockInfo> {
        vec![BlockInfo {
            device: "virtio0".into(),
            removable: false,
            locked: false,
            file: Some(("disk.qcow2".into(), "qcow2".into())),
            read_only: false,
        }]
    }

    fn chardevs(&self) -> Vec<ChardevInfo> {
        vec![ChardevInfo { label: "serial0".into(), filename: "stdio".into(), frontend_open: true }]
    }

    fn read_memory(&self, cpu: Option<usize>, addr: u64, len: usize) -> Result<Vec<u8>, VmError> {
        self.ram(cpu, addr, len)
    }

    fn save_memory(&self, cpu: Option<usize>, addr: u64, len: u64, path: &Path) -> Result<(), VmError> {
        let bytes = self.ram(cpu, addr, len as usize)?;
        std::fs::write(path, bytes).map_err(|e| VmError::Generic(format!("Could not open '{}': {e}", path.display())))
    }

    fn info_registers(&self, cpu: usize) -> Result<String, VmError> {
        if cpu >= 2 {
            return Err(VmError::DeviceNotFound(format!("CPU {cpu} not found")));
        }
        Ok(format!(" pc       0000000080000000\n mhartid  {cpu:016x}\n"))
    }

    fn info_mtree(&self) -> String {
        "address-space: memory\n  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n    0000000080000000-000000008000ffff (prio 0, ram): riscv.virt.ram\n".into()
    }

    fn info_qtree(&self) -> String {
        "bus: main-system-bus\n  type System\n".into()
    }
}
