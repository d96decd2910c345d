//! A QMP client this project did not write: QEMU's `qemu.qmp` Python package (PyPI) drives the
//! server through a session (see `qmp_client.py`). Needs `pip install qemu.qmp`.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mimic_monitor::mock::FakeVm;
use mimic_monitor::{Address, EventSink, QmpServer};

#[test]
fn qemu_qmp_python_client_runs_a_session() {
    let import = Command::new("python3").args(["-c", "import qemu.qmp"]).output();
    match import {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "the Python package qemu.qmp is not importable; run `pip install qemu.qmp`\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("cannot run python3 ({e}); install Python 3 and `pip install qemu.qmp`"),
    }

    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qmp.sock");
    let events = EventSink::new();
    let vm = Arc::new(FakeVm::with_events(events.clone()));
    let _server = QmpServer::spawn(Address::Unix(sock.clone()).bind().unwrap(), vm.clone(), events).unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/qmp_client.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(&sock)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("qmp_client.py did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "qmp_client.py failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("qemu.qmp session OK"), "{stdout}");
    assert_eq!(vm.calls(), vec!["stop", "cont", "system_powerdown", "quit"]);
}
