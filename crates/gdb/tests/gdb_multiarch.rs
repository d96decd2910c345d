//! The real debugger: `gdb-multiarch` in batch mode against the stub serving a FakeTarget.
//! Needs Debian's `gdb-multiarch` (`apt-get install -y gdb-multiarch`).

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mimic_gdb::mock::{FakeTarget, MSTATUS, RAM_BASE};
use mimic_gdb::{serve, StopOutcome};

const GDB: &str = "gdb-multiarch";

/// Run gdb-multiarch with `cmds` (each one `-ex`) against a fresh stub; returns gdb's stdout +
/// stderr, the stub's outcome and the DebugTarget calls made.
/// `setup` runs before `target remote`.
fn run_gdb(fake: FakeTarget, setup: &[&str], cmds: &[&str]) -> (String, StopOutcome, Vec<String>) {
    if let Err(e) = Command::new(GDB).arg("--version").stdout(Stdio::null()).status() {
        panic!("{GDB} is not available ({e}); install it: apt-get install -y gdb-multiarch");
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let calls = fake.calls.clone();
    let server = std::thread::spawn(move || serve(listener, fake));

    let mut cmd = Command::new(GDB);
    cmd.args(["-nx", "-batch", "-ex", "set confirm off", "-ex", "set pagination off"]);
    cmd.args(["-ex", "set architecture riscv:rv64"]);
    for c in setup {
        cmd.args(["-ex", c]);
    }
    cmd.args(["-ex", &format!("target remote 127.0.0.1:{port}")]);
    for c in cmds {
        cmd.args(["-ex", c]);
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{GDB} did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text =
        format!("{}\n--- stderr ---\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let outcome = server.join().unwrap().unwrap_or_else(|e| panic!("stub failed: {e}\n{text}"));
    let calls = calls.lock().unwrap().clone();
    (text, outcome, calls)
}

fn expect(out: &str, needle: &str) {
    assert!(out.contains(needle), "gdb output lacks {needle:?}:\n{out}");
}

/// Bare-metal style (OS ABI "none", as with a firmware ELF): `stepi` is a hardware step of
/// the current thread only.
#[test]
fn gdb_reads_registers_memory_and_steps() {
    let (out, outcome, calls) = run_gdb(
        FakeTarget::new(2),
        &["set osabi none"],
        &[
            "info registers pc",
            "x/2xw 0x80000000",
            "stepi",
            "info registers pc",
            "p $mstatus",
            "p/x $mhartid",
            "p $ft0",
            "p $fflags",
            "p $priv",
            "info registers priv",
            "info threads",
        ],
    );
    expect(&out, "pc             0x80000000\t0x80000000");
    expect(&out, "0x80000000:\t0x00000297\t0x02028593");
    expect(&out, "pc             0x80000004\t0x80000004");
    expect(&out, &format!("= {MSTATUS}"));
    expect(&out, "= 0x0");
    expect(&out, "double = 1.5");
    expect(&out, "= 1"); // fflags
    expect(&out, "$5 = 3"); // priv
    expect(&out, "prv:3 [Machine]");
    expect(&out, "* 1    Thread 1.1 (hart 0) 0x0000000080000004 in ?? ()");
    expect(&out, "  2    Thread 1.2 (hart 1) 0x0000000080000000 in ?? ()");
    assert!(calls.contains(&"step 0".to_string()), "{calls:?}");
    assert!(!calls.contains(&"resume".to_string()), "{calls:?}");
    assert!(matches!(outcome, StopOutcome::Detached | StopOutcome::Disconnected), "{outcome:?}");
}

#[test]
fn gdb_breakpoints_watchpoints_and_writes() {
    let mut fake = FakeTarget::new(1);
    fake.stores.push((RAM_BASE + 0x28, RAM_BASE + 0x800));
    let (out, outcome, calls) = run_gdb(
        fake,
        &[],
        &[
            "break *0x80000010",
            "continue",
            "info registers pc",
            "delete",
            "hbreak *0x80000020",
            "continue",
            "info registers pc",
            "delete",
            "watch *(long *)0x80000800",
            "continue",
            "info registers pc",
            "delete",
            "set var $t0 = 0x1234",
            "p/x $t0",
            "set var $ft1 = 2.25",
            "p $ft1.double",
            "set {int}0x80000100 = 0x11223344",
            "x/xw 0x80000100",
            "p/x $fcsr",
        ],
    );
    expect(&out, "Breakpoint 1, 0x0000000080000010 in ?? ()");
    expect(&out, "pc             0x80000010\t0x80000010");
    expect(&out, "Hardware assisted breakpoint 2 at 0x80000020");
    expect(&out, "Breakpoint 2, 0x0000000080000020 in ?? ()");
    expect(&out, "pc             0x80000020\t0x80000020");
    expect(&out, "Hardware watchpoint 3: *(long *)0x80000800");
    expect(&out, &format!("New value = {}", RAM_BASE + 0x28));
    expect(&out, "pc             0x8000002c\t0x8000002c");
    expect(&out, "= 0x1234");
    expect(&out, "= 2.25");
    expect(&out, "0x80000100:\t0x11223344");
    expect(&out, "= 0x41"); // frm 2, fflags 1
    for c in ["add_breakpoint 0x80000010", "add_breakpoint 0x80000020", "resume"] {
        assert!(calls.contains(&c.to_string()), "no {c:?} in {calls:?}");
    }
    assert!(calls.iter().any(|c| c.starts_with("add_watchpoint 0x80000800 8 Write")), "{calls:?}");
    assert!(matches!(outcome, StopOutcome::Detached | StopOutcome::Disconnected), "{outcome:?}");
}

/// GDB's default OS ABI here is GNU/Linux, whose RISC-V support single-steps in software: a
/// temporary breakpoint on the next instruction and a continue. That must work too.
#[test]
fn gdb_software_single_step() {
    let (out, outcome, calls) = run_gdb(
        FakeTarget::new(1),
        &[],
        &["stepi", "info registers pc", "stepi", "info registers pc", "thread 1", "p/x $a0"],
    );
    expect(&out, "pc             0x80000004\t0x80000004");
    expect(&out, "pc             0x80000008\t0x80000008");
    expect(&out, "[Switching to thread 1 (Thread 1.1)]");
    expect(&out, "= 0x0");
    assert!(calls.contains(&"add_breakpoint 0x80000004".to_string()), "{calls:?}");
    assert!(matches!(outcome, StopOutcome::Detached | StopOutcome::Disconnected), "{outcome:?}");
}

/// Ctrl-C: SIGINT to gdb while the machine runs makes gdb send 0x03; the stub interrupts.
#[test]
fn gdb_ctrl_c_interrupts() {
    if let Err(e) = Command::new(GDB).arg("--version").stdout(Stdio::null()).status() {
        panic!("{GDB} is not available ({e}); install it: apt-get install -y gdb-multiarch");
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let fake = FakeTarget::new(1);
    let calls = fake.calls.clone();
    let server = std::thread::spawn(move || serve(listener, fake));
    let mut child = Command::new(GDB)
        .args(["-nx", "-batch", "-ex", "set confirm off", "-ex", "set architecture riscv:rv64"])
        .args(["-ex", &format!("target remote 127.0.0.1:{port}")])
        .args(["-ex", "continue", "-ex", "info registers pc"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the machine was resumed, then "press Ctrl-C".
    let deadline = Instant::now() + Duration::from_secs(30);
    while !calls.lock().unwrap().contains(&"resume".to_string()) {
        assert!(Instant::now() < deadline, "gdb never resumed the machine");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{GDB} did not finish after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    expect(&text, "Program received signal SIGINT, Interrupt.");
    expect(&text, "pc             0x8");
    assert!(calls.lock().unwrap().contains(&"interrupt".to_string()));
    let outcome = server.join().unwrap().unwrap();
    assert!(matches!(outcome, StopOutcome::Detached | StopOutcome::Disconnected), "{outcome:?}");
}
