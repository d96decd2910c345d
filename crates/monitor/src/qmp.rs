//! The QEMU Machine Protocol, as QEMU's `docs/interop/qmp-spec.rst` documents it: one session's
//! state machine, independent of any socket (the transport is in `server.rs`).
//!
//! ```text
//!  connect ──► greeting ──► negotiation mode ──qmp_capabilities──► command mode
//!                            (every other command:                 (commands, and events
//!                             CommandNotFound "Expecting            broadcast by EventSink)
//!                             capabilities negotiation ...")
//! ```
//!
//! Requests are `{"execute": NAME, "arguments": {...}, "id": ANY}`; replies are
//! `{"return": VALUE, "id": ...}` or `{"error": {"class": CLASS, "desc": TEXT}, "id": ...}`, with
//! the checks and messages of QEMU's `qapi/qmp-dispatch.c` and its argument visitor.

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::hmp::HmpSession;
use crate::json::to_qemu_json;
use crate::vm::{Event, RunState, Vm, VmError};

/// The QEMU version the greeting and `query-version` report.
///
/// Tools that speak QMP gate features on this number (libvirt refuses QEMU older than 6.2, and
/// the `qemu.qmp` library and test frameworks compare it against their minimums), and mimic
/// implements the 10.0 spelling of every command it has. So it reports QEMU 10.0.0 and says what
/// it really is in `package`, where QEMU itself puts a distributor's version string.
pub const QEMU_VERSION: (u64, u64, u64) = (10, 0, 0);

/// The `package` member of the version: which program is answering.
pub const PACKAGE: &str = concat!("mimic ", env!("CARGO_PKG_VERSION"));

/// Every command this monitor implements, in the order `query-commands` lists them.
pub const COMMANDS: &[&str] = &[
    "qmp_capabilities",
    "query-version",
    "query-commands",
    "query-status",
    "query-name",
    "query-cpus-fast",
    "query-block",
    "query-chardev",
    "stop",
    "cont",
    "system_reset",
    "system_powerdown",
    "quit",
    "human-monitor-command",
    "memsave",
    "pmemsave",
];

/// QEMU's `QapiErrorClass` values that this monitor produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    GenericError,
    CommandNotFound,
    DeviceNotFound,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::GenericError => "GenericError",
            ErrorClass::CommandNotFound => "CommandNotFound",
            ErrorClass::DeviceNotFound => "DeviceNotFound",
        }
    }
}

/// A QMP error reply: `{"error": {"class": ..., "desc": ...}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QmpError {
    pub class: ErrorClass,
    pub desc: String,
}

impl QmpError {
    pub fn generic(desc: impl Into<String>) -> Self {
        QmpError { class: ErrorClass::GenericError, desc: desc.into() }
    }

    pub fn command_not_found(desc: impl Into<String>) -> Self {
        QmpError { class: ErrorClass::CommandNotFound, desc: desc.into() }
    }
}

impl From<VmError> for QmpError {
    fn from(e: VmError) -> Self {
        match e {
            VmError::Generic(desc) => QmpError { class: ErrorClass::GenericError, desc },
            VmError::DeviceNotFound(desc) => QmpError { class: ErrorClass::DeviceNotFound, desc },
        }
    }
}

fn with_id(head: String, id: Option<&Value>) -> String {
    match id {
        Some(id) => format!("{head}, \"id\": {}}}", to_qemu_json(id)),
        None => format!("{head}}}"),
    }
}

/// The reply line (without the `\r\n` terminator) for a successful command.
pub fn return_line(value: &Value, id: Option<&Value>) -> String {
    with_id(format!("{{\"return\": {}", to_qemu_json(value)), id)
}

/// The reply line (without the `\r\n` terminator) for a failed command.
pub fn error_line(err: &QmpError, id: Option<&Value>) -> String {
    let body = json!({"class": err.class.as_str(), "desc": err.desc});
    with_id(format!("{{\"error\": {}", to_qemu_json(&body)), id)
}

/// The greeting sent when a client connects. No `oob` capability: mimic executes commands in
/// order, and `qemu.qmp` and every other client work without it.
pub fn greeting_line() -> String {
    let (major, minor, micro) = QEMU_VERSION;
    // Members in QEMU's order, which some hand-written clients match textually.
    format!(
        "{{\"QMP\": {{\"version\": {{\"qemu\": {{\"micro\": {micro}, \"minor\": {minor}, \"major\": {major}}}, \"package\": {}}}, \"capabilities\": []}}}}",
        to_qemu_json(&Value::String(PACKAGE.into()))
    )
}

/// An event line as QEMU writes it: `{"timestamp": {...}, "event": NAME, "data": {...}}`.
pub fn event_line(event: &Event, at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let stamp = json!({"seconds": since.as_secs(), "microseconds": since.subsec_micros()});
    let mut line = format!(
        "{{\"timestamp\": {}, \"event\": {}",
        to_qemu_json(&stamp),
        to_qemu_json(&Value::String(event.name.clone()))
    );
    if let Some(data) = &event.data {
        line.push_str(&format!(", \"data\": {}", to_qemu_json(data)));
    }
    line.push('}');
    line
}

/// What one request produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The reply line, without the `\r\n` terminator.
    pub line: String,
    /// The client asked to end the emulator (`quit`, or HMP `quit` through
    /// `human-monitor-command`): the transport writes `line` out, then calls [`Vm::quit`].
    pub quit: bool,
}

/// Arguments of one command, read the way QEMU's QObject input visitor reads them.
struct Args<'a>(&'a Map<String, Value>);

impl Args<'_> {
    fn int(&self, name: &str) -> Result<Option<i64>, QmpError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(v) => match (v.as_i64(), v.as_u64()) {
                (Some(i), _) => Ok(Some(i)),
                // QAPI `int` is int64; accept the unsigned spelling of an address too.
                (None, Some(u)) => Ok(Some(u as i64)),
                _ => Err(QmpError::generic(format!("Invalid parameter type for '{name}', expected: integer"))),
            },
        }
    }

    fn req_int(&self, name: &str) -> Result<i64, QmpError> {
        self.int(name)?.ok_or_else(|| missing(name))
    }

    fn str(&self, name: &str) -> Result<Option<&str>, QmpError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(QmpError::generic(format!("Invalid parameter type for '{name}', expected: string"))),
        }
    }

    fn req_str(&self, name: &str) -> Result<&str, QmpError> {
        self.str(name)?.ok_or_else(|| missing(name))
    }

    /// QEMU checks for unexpected members after reading the expected ones.
    fn only(&self, known: &[&str]) -> Result<(), QmpError> {
        match self.0.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(QmpError::generic(format!("Parameter '{k}' is unexpected"))),
            None => Ok(()),
        }
    }
}

fn missing(name: &str) -> QmpError {
    QmpError::generic(format!("Parameter '{name}' is missing"))
}

fn bad_cpu() -> QmpError {
    QmpError::generic("Parameter 'cpu-index' expects a CPU number")
}

/// One client's QMP session: negotiation state and command dispatch.
pub struct QmpSession {
    vm: Arc<dyn Vm>,
    negotiated: bool,
}

impl QmpSession {
    pub fn new(vm: Arc<dyn Vm>) -> Self {
        QmpSession { vm, negotiated: false }
    }

    /// True once `qmp_capabilities` succeeded: the session gets events from then on.
    pub fn is_negotiated(&self) -> bool {
        self.negotiated
    }

    /// Handles one message as framed by [`crate::json::Splitter`].
    pub fn handle_bytes(&mut self, bytes: &[u8]) -> Reply {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => self.handle(&v),
            Err(e) => {
                Reply { line: error_line(&QmpError::generic(format!("JSON parse error, {e}")), None), quit: false }
            }
        }
    }

    /// Handles one parsed request.
    pub fn handle(&mut self, request: &Value) -> Reply {
        let Some(obj) = request.as_object() else {
            let err = QmpError::generic("QMP input must be a JSON object");
            return Reply { line: error_line(&err, None), quit: false };
        };
        let id = obj.get("id");
        let mut quit = false;
        let result = self.dispatch(obj, &mut quit);
        let line = match &result {
            Ok(v) => return_line(v, id),
            Err(e) => error_line(e, id),
        };
        Reply { line, quit: quit && result.is_ok() }
    }

    fn dispatch(&mut self, obj: &Map<String, Value>, quit: &mut bool) -> Result<Value, QmpError> {
        let mut command = None;
        for (key, value) in obj {
            match key.as_str() {
                "execute" => match value {
                    Value::String(s) => command = Some(s.as_str()),
                    _ => return Err(QmpError::generic("QMP input member 'execute' must be a string")),
                },
                "arguments" if !value.is_object() => {
                    return Err(QmpError::generic("QMP input member 'arguments' must be an object"))
                }
                "arguments" | "id" => {}
                other => return Err(QmpError::generic(format!("QMP input member '{other}' is unexpected"))),
            }
        }
        let Some(command) = command else {
            return Err(QmpError::generic("QMP input lacks member 'execute'"));
        };
        let empty = Map::new();
        let args = Args(obj.get("arguments").and_then(Value::as_object).unwrap_or(&empty));

        if !self.negotiated {
            if command != "qmp_capabilities" {
                return Err(QmpError::command_not_found("Expecting capabilities negotiation with 'qmp_capabilities'"));
            }
            capabilities(&args)?;
            self.negotiated = true;
            return Ok(json!({}));
        }
        if !COMMANDS.contains(&command) {
            return Err(QmpError::command_not_found(format!("The command {command} has not been found")));
        }
        self.run(command, &args, quit)
    }

    fn run(&mut self, command: &str, args: &Args, quit: &mut bool) -> Result<Value, QmpError> {
        let vm = &*self.vm;
        let no_args = |v: Value| args.only(&[]).map(|()| v);
        match command {
            "qmp_capabilities" => {
                Err(QmpError::command_not_found("Capabilities negotiation is already complete, command ignored"))
            }
            "query-version" => {
                let (major, minor, micro) = QEMU_VERSION;
                no_args(json!({"qemu": {"micro": micro, "minor": minor, "major": major}, "package": PACKAGE}))
            }
            "query-commands" => no_args(Value::Array(COMMANDS.iter().map(|c| json!({"name": c})).collect())),
            "query-status" => {
                let status = vm.status();
                no_args(json!({
                    "running": status == RunState::Running,
                    "singlestep": false,
                    "status": status.qmp_name(),
                }))
            }
            "query-name" => no_args(match vm.name() {
                Some(name) => json!({"name": name}),
                None => json!({}),
            }),
            "query-cpus-fast" => no_args(query_cpus_fast(vm)),
            "query-block" => no_args(query_block(vm)),
            "query-chardev" => no_args(Value::Array(
                vm.chardevs()
                    .into_iter()
                    .map(|c| json!({"label": c.label, "filename": c.filename, "frontend-open": c.frontend_open}))
                    .collect(),
            )),
            "stop" => {
                args.only(&[])?;
                vm.stop()?;
                Ok(json!({}))
            }
            "cont" => {
                args.only(&[])?;
                vm.cont()?;
                Ok(json!({}))
            }
            "system_reset" => {
                args.only(&[])?;
                vm.system_reset()?;
                Ok(json!({}))
            }
            "system_powerdown" => {
                args.only(&[])?;
                vm.system_powerdown()?;
                Ok(json!({}))
            }
            "quit" => {
                args.only(&[])?;
                *quit = true;
                Ok(json!({}))
            }
            "human-monitor-command" => {
                let line = args.req_str("command-line")?;
                let cpu = args.int("cpu-index")?;
                args.only(&["command-line", "cpu-index"])?;
                let mut hmp = HmpSession::new();
                if let Some(cpu) = cpu {
                    let cpu = usize::try_from(cpu).map_err(|_| bad_cpu())?;
                    if !vm.cpus().iter().any(|c| c.cpu_index == cpu) {
                        return Err(bad_cpu());
                    }
                    hmp.set_cpu(cpu);
                }
                let out = hmp.execute(vm, line);
                *quit = out.quit;
                // QEMU's monitor turns every "\n" of HMP output into "\r\n".
                Ok(Value::String(out.text.replace('\n', "\r\n")))
            }
            "memsave" | "pmemsave" => {
                let addr = args.req_int("val")? as u64;
                let size = args.req_int("size")?;
                let filename = args.req_str("filename")?;
                let cpu = if command == "memsave" {
                    let cpu = args.int("cpu-index")?.unwrap_or(0);
                    args.only(&["val", "size", "filename", "cpu-index"])?;
                    let cpu = usize::try_from(cpu).map_err(|_| bad_cpu())?;
                    if !vm.cpus().iter().any(|c| c.cpu_index == cpu) {
                        return Err(bad_cpu());
                    }
                    Some(cpu)
                } else {
                    args.only(&["val", "size", "filename"])?;
                    None
                };
                let size = u64::try_from(size)
                    .map_err(|_| QmpError::generic("Parameter 'size' expects a non-negative size"))?;
                vm.save_memory(cpu, addr, size, Path::new(filename))?;
                Ok(json!({}))
            }
            _ => Err(QmpError::command_not_found(format!("The command {command} has not been found"))),
        }
    }
}

/// `qmp_capabilities`: the optional `enable` list; mimic offers no capability.
fn capabilities(args: &Args) -> Result<(), QmpError> {
    if let Some(enable) = args.0.get("enable") {
        let Some(list) = enable.as_array() else {
            return Err(QmpError::generic("Invalid parameter type for 'enable', expected: array"));
        };
        // mimic offers no capability, so the first entry (if any) is refused.
        if let Some(cap) = list.first() {
            return Err(match cap.as_str() {
                Some("oob") => QmpError::generic("Capability 'oob' not available"),
                Some(other) => QmpError::generic(format!("Parameter 'enable[0]' does not accept value '{other}'")),
                None => QmpError::generic("Invalid parameter type for 'enable[0]', expected: string"),
            });
        }
    }
    args.only(&["enable"])
}

fn query_cpus_fast(vm: &dyn Vm) -> Value {
    let cpus = vm.cpus().into_iter().map(|c| {
        let mut o = Map::new();
        o.insert("cpu-index".into(), json!(c.cpu_index));
        o.insert("qom-path".into(), json!(c.qom_path));
        o.insert("thread-id".into(), json!(c.thread_id));
        o.insert("target".into(), json!(c.target));
        // Architecture-specific members, like s390x's `cpu-state` in QEMU's union: integers
        // stay integers, anything else is a string.
        for (k, v) in c.props {
            let value = v.parse::<i64>().map(Value::from).unwrap_or(Value::String(v));
            o.insert(k, value);
        }
        Value::Object(o)
    });
    Value::Array(cpus.collect())
}

fn query_block(vm: &dyn Vm) -> Value {
    let blocks = vm.block_devices().into_iter().map(|b| {
        let mut o = json!({
            "device": b.device,
            "locked": b.locked,
            "removable": b.removable,
            "type": "unknown",
        });
        if b.removable {
            o["tray_open"] = json!(false);
        }
        if let Some((file, drv)) = b.file {
            o["inserted"] = json!({
                "file": file,
                "drv": drv,
                "ro": b.read_only,
                "encrypted": false,
                "backing_file_depth": 0,
                "detect_zeroes": "off",
                "bps": 0, "bps_rd": 0, "bps_wr": 0,
                "iops": 0, "iops_rd": 0, "iops_wr": 0,
                "write_threshold": 0,
                "cache": {"writeback": true, "direct": false, "no-flush": false},
            });
        }
        o
    });
    Value::Array(blocks.collect())
}
