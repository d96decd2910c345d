//! The GDB stub on the AArch64 `virt` board, driven by `gdb-multiarch` in batch mode: a
//! bare-metal A64 program (`tests/a64/gdb_target.S`, assembled with binutils-aarch64-linux-gnu)
//! and Debian's arm64 kernel with two CPUs. The kernel test needs `cargo xtask fetch-guests`.

mod guest;

use guest::{build_a64_program, Guest, INIT_MARKER};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Generous: tests run in parallel on a two-core machine.
const BOOT: Duration = Duration::from_secs(300);
const CMD: Duration = Duration::from_secs(60);

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("arm-gdb-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn symbol(elf: &Path, name: &str) -> u64 {
    let out = Command::new("aarch64-linux-gnu-nm").arg(elf).output().expect("aarch64-linux-gnu-nm");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = text.lines().find(|l| l.ends_with(&format!(" {name}"))).unwrap_or_else(|| panic!("no symbol {name}"));
    u64::from_str_radix(line.split_whitespace().next().unwrap(), 16).unwrap()
}

/// `gdb-multiarch -batch` connected to `port`, running `commands` in order.
fn gdb(port: u16, elf: Option<&Path>, commands: &[&str]) -> Command {
    let mut c = Command::new("gdb-multiarch");
    c.args(["-nx", "-batch", "-ex", "set pagination off", "-ex", "set confirm off"]);
    if elf.is_none() {
        c.args(["-ex", "set architecture aarch64"]);
    }
    c.args(["-ex", &format!("target remote 127.0.0.1:{port}")]);
    for cmd in commands {
        c.args(["-ex", cmd]);
    }
    if let Some(elf) = elf {
        c.arg(elf);
    }
    c
}

fn output_of(out: std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// mimic running `elf` on the Arm board, stopped (`-S`) and waiting for gdb on `port`.
fn start_stopped(elf: &Path, port: u16, dir: &Path) -> Guest {
    let spec = format!("tcp:127.0.0.1:{port}");
    let mut c = Command::new(env!("CARGO_BIN_EXE_mimic"));
    c.args(["-cpu", "cortex-a57", "-M", "virt", "-m", "128M", "-nographic", "-S", "-gdb", &spec, "-kernel"]);
    c.arg(elf).current_dir(dir);
    let g = Guest::spawn(c);
    std::thread::sleep(Duration::from_millis(500));
    g
}

#[test]
fn gdb_breaks_in_a64_code_reads_and_writes_registers_and_memory_and_sees_poweroff() {
    let dir = scratch("bare");
    let elf = build_a64_program("gdb_target", &dir);
    let (computed, check, results) = (symbol(&elf, "computed"), symbol(&elf, "check"), symbol(&elf, "results"));
    let port = free_port();
    let mut g = start_stopped(&elf, port, &dir);
    let out = output_of(
        gdb(
            port,
            Some(&elf),
            &[
                "info registers pc",
                "break *computed",
                "continue",
                "info registers pc",
                "p $x0",
                "p/x $x3",
                "info registers cpsr",
                &format!("x/4wx {results:#x}"),
                "stepi",
                "info registers pc",
                "set $x0 = 100",
                "break *check",
                "continue",
                "p $x4",
                &format!("x/1gx {:#x}", results + 16),
                "set $v2.d.u[1] = 0x1122334455667788",
                "p/x $v2.q.u",
                "info threads",
                "continue",
            ],
        )
        .output()
        .expect("gdb-multiarch (apt-get install gdb-multiarch)"),
    );
    assert!(out.contains("pc             0x40200000"), "starts at the ELF entry:\n{out}");
    assert!(out.contains(&format!("Breakpoint 1, {computed:#018x} in computed ()")), "breakpoint hit:\n{out}");
    assert!(out.contains("$1 = 55"), "x0 holds the sum 10 + ... + 1:\n{out}");
    assert!(out.contains("$2 = 0xdeadbeef"), "x3 holds the constant:\n{out}");
    assert!(out.contains("EL=1"), "cpsr shows EL1:\n{out}");
    assert!(out.contains(&format!("{results:#x} <results>:\t0x00000037\t0x00000000\t0xdeadbeef\t0x00000000")), "{out}");
    assert!(out.contains(&format!("pc             {:#x}", computed + 4)), "stepi advances pc by 4:\n{out}");
    assert!(out.contains(&format!("Breakpoint 2, {check:#018x} in check ()")), "second breakpoint:\n{out}");
    assert!(out.contains("$3 = 101"), "the program used the x0 gdb wrote:\n{out}");
    assert!(out.contains(&format!("{:#x} <results+16>:\t0x0000000000000065", results + 16)), "{out}");
    assert!(out.contains("$4 = {0x11223344556677880000000000000000}"), "v2 is 128 bits wide:\n{out}");
    assert!(out.contains("Thread 1.1 (cpu 0)"), "the CPU is a thread:\n{out}");
    assert!(out.contains("exited normally"), "poweroff ends the session:\n{out}");
    assert_eq!(g.wait_exit(CMD).code(), Some(0), "SYSTEM_OFF ends mimic");
}

#[test]
fn gdb_watchpoint_on_a64_stops_at_the_store_and_reports_old_and_new_values() {
    let dir = scratch("watch");
    let elf = build_a64_program("gdb_target", &dir);
    let port = free_port();
    let mut g = start_stopped(&elf, port, &dir);
    // `str x0, [x1]` at _start+0x18 writes the sum (55) to the first word of `results`.
    let out = output_of(
        gdb(port, Some(&elf), &["watch *(long *)&results", "continue", "info registers pc", "kill"])
            .output()
            .expect("gdb-multiarch (apt-get install gdb-multiarch)"),
    );
    assert!(out.contains("Hardware watchpoint 1: *(long *)&results"), "watchpoint set:\n{out}");
    assert!(out.contains("Old value = 0") && out.contains("New value = 55"), "values reported:\n{out}");
    assert!(out.contains("pc             0x4020001c"), "stopped after the storing instruction:\n{out}");
    assert_eq!(g.wait_exit(CMD).code(), Some(0), "kill ends mimic");
}

#[test]
fn gdb_interrupts_the_smp_arm64_kernel_and_inspects_it_at_kernel_addresses() {
    let port = free_port();
    let spec = format!("tcp:127.0.0.1:{port}");
    let mut g = Guest::boot_arm64(&["-smp", "2", "-gdb", &spec]);
    g.wait_for(INIT_MARKER, BOOT);
    let mut c = gdb(
        port,
        None,
        &["continue", "info threads", "info registers cpsr", "x/i $pc", "bt 1", "thread 2", "x/i $pc", "detach"],
    );
    let child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("gdb-multiarch");
    std::thread::sleep(Duration::from_secs(5));
    // What Ctrl-C at gdb's prompt does: SIGINT to gdb, which sends the interrupt byte.
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = output_of(child.wait_with_output().unwrap());
    assert!(out.contains("SIGINT"), "interrupted:\n{out}");
    assert!(out.contains("Thread 1.1 (cpu 0)") && out.contains("Thread 1.2 (cpu 1)"), "both CPUs listed:\n{out}");
    assert!(out.contains("EL=1"), "the kernel runs at EL1:\n{out}");
    // The kernel's own addresses (TTBR1, the top of the address space), read through its page
    // tables: x/i shows an instruction there on each CPU, and the backtrace starts there.
    let at_kernel_pc = out.lines().filter(|l| l.starts_with("=> 0xffff")).count();
    assert_eq!(at_kernel_pc, 2, "x/i $pc at a kernel address on both CPUs:\n{out}");
    assert!(out.lines().any(|l| l.starts_with("#0  0xffff")), "backtrace:\n{out}");
    assert!(!out.contains("Cannot access memory"), "{out}");
    // Detached: the guest runs on and answers.
    g.send("echo still-alive-$((6*7))");
    g.wait_for("still-alive-42", CMD);
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(CMD).code(), Some(0));
}
