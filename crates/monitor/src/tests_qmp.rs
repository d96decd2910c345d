//! QMP session tests: greeting, negotiation, every command, every error class.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::mock::{FakeVm, RAM_BASE};
use crate::qmp::*;
use crate::vm::{Event, RunState, Vm, VmError};

fn session() -> (Arc<FakeVm>, QmpSession) {
    let vm = Arc::new(FakeVm::new());
    (vm.clone(), QmpSession::new(vm))
}

fn negotiated() -> (Arc<FakeVm>, QmpSession) {
    let (vm, mut s) = session();
    let r = s.handle(&json!({"execute": "qmp_capabilities"}));
    assert_eq!(r.line, r#"{"return": {}}"#);
    (vm, s)
}

fn send(s: &mut QmpSession, req: Value) -> Value {
    serde_json::from_str(&s.handle(&req).line).unwrap()
}

fn ret(s: &mut QmpSession, req: Value) -> Value {
    let v = send(s, req);
    assert!(v.get("return").is_some(), "expected a return, got {v}");
    v["return"].clone()
}

fn err(s: &mut QmpSession, req: Value) -> (String, String) {
    let v = send(s, req);
    let e = v.get("error").unwrap_or_else(|| panic!("expected an error, got {v}"));
    (e["class"].as_str().unwrap().to_string(), e["desc"].as_str().unwrap().to_string())
}

fn generic(desc: &str) -> (String, String) {
    ("GenericError".to_string(), desc.to_string())
}

#[test]
fn greeting_reports_qemu_version_and_package() {
    let g: Value = serde_json::from_str(&greeting_line()).unwrap();
    assert_eq!(g["QMP"]["version"]["qemu"], json!({"major": 10, "minor": 0, "micro": 0}));
    assert_eq!(g["QMP"]["version"]["package"], json!("mimic 0.1.0"));
    assert_eq!(g["QMP"]["capabilities"], json!([]));
}

#[test]
fn command_before_negotiation_is_command_not_found() {
    let (_, mut s) = session();
    let e = err(&mut s, json!({"execute": "query-status"}));
    assert_eq!(e, ("CommandNotFound".into(), "Expecting capabilities negotiation with 'qmp_capabilities'".into()));
    assert!(!s.is_negotiated());
}

#[test]
fn unknown_command_before_negotiation_gets_the_negotiation_message() {
    let (_, mut s) = session();
    let e = err(&mut s, json!({"execute": "no-such-thing"}));
    assert_eq!(e.1, "Expecting capabilities negotiation with 'qmp_capabilities'");
}

#[test]
fn negotiation_echoes_id_and_enables_commands() {
    let (_, mut s) = session();
    let r = s.handle(&json!({"execute": "qmp_capabilities", "arguments": {}, "id": "neg-1"}));
    assert_eq!(r.line, r#"{"return": {}, "id": "neg-1"}"#);
    assert!(s.is_negotiated());
    assert_eq!(ret(&mut s, json!({"execute": "query-status"}))["status"], "running");
}

#[test]
fn second_qmp_capabilities_is_command_not_found() {
    let (_, mut s) = negotiated();
    let e = err(&mut s, json!({"execute": "qmp_capabilities"}));
    assert_eq!(e, ("CommandNotFound".into(), "Capabilities negotiation is already complete, command ignored".into()));
}

#[test]
fn negotiation_with_oob_is_refused() {
    let (_, mut s) = session();
    let e = err(&mut s, json!({"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}));
    assert_eq!(e, generic("Capability 'oob' not available"));
    assert!(!s.is_negotiated());
}

#[test]
fn unknown_command_is_command_not_found() {
    let (_, mut s) = negotiated();
    let e = err(&mut s, json!({"execute": "frobnicate", "id": 7}));
    assert_eq!(e, ("CommandNotFound".into(), "The command frobnicate has not been found".into()));
}

#[test]
fn id_of_any_type_is_echoed_on_errors_too() {
    let (_, mut s) = negotiated();
    let v = send(&mut s, json!({"execute": "frobnicate", "id": {"n": [1, 2]}}));
    assert_eq!(v["id"], json!({"n": [1, 2]}));
    let v = send(&mut s, json!({"execute": "query-name", "id": 42}));
    assert_eq!(v["id"], json!(42));
}

#[test]
fn reply_line_has_qemu_layout() {
    let (_, mut s) = negotiated();
    let r = s.handle(&json!({"execute": "stop", "id": 3}));
    assert_eq!(r.line, r#"{"return": {}, "id": 3}"#);
    let r = s.handle(&json!({"execute": "nope"}));
    assert_eq!(r.line, r#"{"error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}"#);
}

#[test]
fn non_object_input_is_rejected() {
    let (_, mut s) = negotiated();
    assert_eq!(err(&mut s, json!([1, 2])), generic("QMP input must be a JSON object"));
    assert_eq!(err(&mut s, json!("query-status")), generic("QMP input must be a JSON object"));
}

#[test]
fn missing_execute_is_rejected() {
    let (_, mut s) = negotiated();
    assert_eq!(err(&mut s, json!({"id": 1})), generic("QMP input lacks member 'execute'"));
}

#[test]
fn malformed_members_are_rejected() {
    let (_, mut s) = negotiated();
    assert_eq!(err(&mut s, json!({"execute": 5})), generic("QMP input member 'execute' must be a string"));
    assert_eq!(
        err(&mut s, json!({"execute": "stop", "arguments": []})),
        generic("QMP input member 'arguments' must be an object")
    );
    assert_eq!(err(&mut s, json!({"execute": "stop", "extra": 1})), generic("QMP input member 'extra' is unexpected"));
    assert_eq!(err(&mut s, json!({"exec-oob": "stop"})), generic("QMP input member 'exec-oob' is unexpected"));
}

#[test]
fn malformed_json_is_a_parse_error() {
    let (_, mut s) = negotiated();
    let v: Value = serde_json::from_str(&s.handle_bytes(br#"{"execute": query-status}"#).line).unwrap();
    assert_eq!(v["error"]["class"], "GenericError");
    assert!(v["error"]["desc"].as_str().unwrap().starts_with("JSON parse error, "), "{v}");
}

#[test]
fn query_version_matches_greeting() {
    let (_, mut s) = negotiated();
    let v = ret(&mut s, json!({"execute": "query-version"}));
    assert_eq!(v, json!({"qemu": {"major": 10, "minor": 0, "micro": 0}, "package": "mimic 0.1.0"}));
}

#[test]
fn query_commands_lists_every_command() {
    let (_, mut s) = negotiated();
    let v = ret(&mut s, json!({"execute": "query-commands"}));
    let names: Vec<&str> = v.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, COMMANDS);
    assert!(names.contains(&"human-monitor-command") && names.contains(&"pmemsave"));
}

#[test]
fn query_status_reports_each_run_state() {
    let (vm, mut s) = negotiated();
    let v = ret(&mut s, json!({"execute": "query-status"}));
    assert_eq!(v, json!({"running": true, "singlestep": false, "status": "running"}));
    vm.set_status(RunState::Prelaunch);
    let v = ret(&mut s, json!({"execute": "query-status"}));
    assert_eq!(v, json!({"running": false, "singlestep": false, "status": "prelaunch"}));
}

#[test]
fn query_status_with_arguments_is_unexpected_parameter() {
    let (_, mut s) = negotiated();
    let e = err(&mut s, json!({"execute": "query-status", "arguments": {"verbose": true}}));
    assert_eq!(e, generic("Parameter 'verbose' is unexpected"));
}

#[test]
fn query_name_reports_the_name() {
    let (_, mut s) = negotiated();
    assert_eq!(ret(&mut s, json!({"execute": "query-name"})), json!({"name": "fake"}));
}

#[test]
fn query_cpus_fast_uses_qemu_member_names() {
    let (_, mut s) = negotiated();
    let v = ret(&mut s, json!({"execute": "query-cpus-fast"}));
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(
        v[1],
        json!({"cpu-index": 1, "qom-path": "/machine/soc0/harts/harts[1]", "thread-id": 1001,
               "target": "riscv64", "node-id": 0, "pc": "0x80000000"})
    );
}

#[test]
fn query_block_reports_inserted_medium() {
    let (_, mut s) = negotiated();
    let v = ret(&mut s, json!({"execute": "query-block"}));
    assert_eq!(v[0]["device"], "virtio0");
    assert_eq!(v[0]["inserted"]["file"], "disk.qcow2");
    assert_eq!(v[0]["inserted"]["drv"], "qcow2");
    assert_eq!(v[0]["inserted"]["ro"], false);
}

#[test]
fn query_chardev_uses_frontend_open() {
    let (_, mut s) = negotiated();
    let v = ret(&mut s, json!({"execute": "query-chardev"}));
    assert_eq!(v, json!([{"label": "serial0", "filename": "stdio", "frontend-open": true}]));
}

#[test]
fn stop_and_cont_drive_the_vm() {
    let (vm, mut s) = negotiated();
    assert_eq!(ret(&mut s, json!({"execute": "stop"})), json!({}));
    assert_eq!(vm.status(), RunState::Paused);
    assert_eq!(ret(&mut s, json!({"execute": "cont"})), json!({}));
    assert_eq!(vm.status(), RunState::Running);
    assert_eq!(vm.calls(), vec!["stop", "cont"]);
}

#[test]
fn system_reset_and_powerdown_reach_the_vm() {
    let (vm, mut s) = negotiated();
    ret(&mut s, json!({"execute": "system_reset"}));
    ret(&mut s, json!({"execute": "system_powerdown"}));
    assert_eq!(vm.calls(), vec!["system_reset", "system_powerdown"]);
}

#[test]
fn vm_generic_error_is_generic_error() {
    let (vm, mut s) = negotiated();
    vm.set_status(RunState::Shutdown);
    assert_eq!(err(&mut s, json!({"execute": "cont"})), generic("Resetting the Virtual Machine is required"));
}

#[test]
fn vm_device_not_found_keeps_its_class() {
    let e = QmpError::from(VmError::DeviceNotFound("Device 'x' not found".into()));
    assert_eq!(error_line(&e, None), r#"{"error": {"class": "DeviceNotFound", "desc": "Device 'x' not found"}}"#);
}

#[test]
fn quit_replies_and_leaves_quitting_to_the_transport() {
    let (vm, mut s) = negotiated();
    let r = s.handle(&json!({"execute": "quit"}));
    assert_eq!(r.line, r#"{"return": {}}"#);
    assert!(r.quit);
    assert!(vm.calls().is_empty(), "the session must not call Vm::quit before the reply is out");
}

#[test]
fn human_monitor_command_returns_hmp_text_with_crlf() {
    let (_, mut s) = negotiated();
    let v = ret(&mut s, json!({"execute": "human-monitor-command", "arguments": {"command-line": "info status"}}));
    assert_eq!(v, json!("VM status: running\r\n"));
}

#[test]
fn human_monitor_command_honours_cpu_index() {
    let (_, mut s) = negotiated();
    let v = ret(
        &mut s,
        json!({"execute": "human-monitor-command", "arguments": {"command-line": "info registers", "cpu-index": 1}}),
    );
    assert!(v.as_str().unwrap().contains("mhartid  0000000000000001"), "{v}");
}

#[test]
fn human_monitor_command_bad_cpu_index_is_rejected() {
    let (_, mut s) = negotiated();
    let e = err(
        &mut s,
        json!({"execute": "human-monitor-command", "arguments": {"command-line": "info cpus", "cpu-index": 9}}),
    );
    assert_eq!(e, generic("Parameter 'cpu-index' expects a CPU number"));
}

#[test]
fn human_monitor_command_quit_sets_quit() {
    let (_, mut s) = negotiated();
    let r = s.handle(&json!({"execute": "human-monitor-command", "arguments": {"command-line": "quit"}}));
    assert!(r.quit);
}

#[test]
fn missing_argument_is_reported_by_name() {
    let (_, mut s) = negotiated();
    let e = err(&mut s, json!({"execute": "human-monitor-command"}));
    assert_eq!(e, generic("Parameter 'command-line' is missing"));
    let e = err(&mut s, json!({"execute": "pmemsave", "arguments": {"val": 0, "filename": "/dev/null"}}));
    assert_eq!(e, generic("Parameter 'size' is missing"));
}

#[test]
fn wrong_argument_type_is_reported_with_expected_type() {
    let (_, mut s) = negotiated();
    let e = err(&mut s, json!({"execute": "human-monitor-command", "arguments": {"command-line": 5}}));
    assert_eq!(e, generic("Invalid parameter type for 'command-line', expected: string"));
    let e = err(&mut s, json!({"execute": "memsave", "arguments": {"val": "0x10", "size": 4, "filename": "f"}}));
    assert_eq!(e, generic("Invalid parameter type for 'val', expected: integer"));
}

#[test]
fn pmemsave_writes_physical_memory_to_file() {
    let (_, mut s) = negotiated();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.bin");
    let args = json!({"val": RAM_BASE + 0x10, "size": 8, "filename": path.to_str().unwrap()});
    assert_eq!(ret(&mut s, json!({"execute": "pmemsave", "arguments": args})), json!({}));
    assert_eq!(std::fs::read(&path).unwrap(), (0x10u8..0x18).collect::<Vec<_>>());
}

#[test]
fn memsave_writes_virtual_memory_through_cpu() {
    let (_, mut s) = negotiated();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.bin");
    let args = json!({"val": RAM_BASE, "size": 4, "filename": path.to_str().unwrap(), "cpu-index": 1});
    ret(&mut s, json!({"execute": "memsave", "arguments": args}));
    assert_eq!(std::fs::read(&path).unwrap(), vec![0, 1, 2, 3]);
}

#[test]
fn memsave_bad_cpu_index_is_rejected() {
    let (_, mut s) = negotiated();
    let args = json!({"val": RAM_BASE, "size": 4, "filename": "/dev/null", "cpu-index": 5});
    assert_eq!(
        err(&mut s, json!({"execute": "memsave", "arguments": args})),
        generic("Parameter 'cpu-index' expects a CPU number")
    );
}

#[test]
fn pmemsave_outside_ram_is_generic_error() {
    let (_, mut s) = negotiated();
    let args = json!({"val": 0, "size": 4, "filename": "/dev/null"});
    let (class, _) = err(&mut s, json!({"execute": "pmemsave", "arguments": args}));
    assert_eq!(class, "GenericError");
}

#[test]
fn pmemsave_rejects_cpu_index() {
    let (_, mut s) = negotiated();
    let args = json!({"val": RAM_BASE, "size": 4, "filename": "/dev/null", "cpu-index": 0});
    assert_eq!(
        err(&mut s, json!({"execute": "pmemsave", "arguments": args})),
        generic("Parameter 'cpu-index' is unexpected")
    );
}

#[test]
fn event_line_has_timestamp_event_and_data() {
    let at = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
    let line = event_line(&Event::shutdown(true, "guest-shutdown"), at);
    assert_eq!(
        line,
        r#"{"timestamp": {"microseconds": 123456, "seconds": 1700000000}, "event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}}"#
    );
    assert_eq!(
        event_line(&Event::stop(), at),
        r#"{"timestamp": {"microseconds": 123456, "seconds": 1700000000}, "event": "STOP"}"#
    );
}
