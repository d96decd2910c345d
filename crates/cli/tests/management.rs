//! Management and debugging with real clients this project did not write: QEMU's Python QMP
//! client (`pip install qemu.qmp`) and `gdb-multiarch`.

mod guest;

use guest::{asset, Guest, INIT_MARKER};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const BOOT: Duration = Duration::from_secs(240);

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("mgmt-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn mimic(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mimic"));
    c.args(args);
    c
}

/// Wait for a file (a socket) to appear.
fn wait_for_path(p: &Path) {
    for _ in 0..200 {
        if p.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{} never appeared", p.display());
}

#[test]
fn qemu_qmp_client_drives_a_session_and_powerdown_ends_the_guest() {
    let dir = scratch("qmp");
    let sock = dir.join("qmp.sock");
    let spec = format!("unix:{},server,wait=off", sock.display());
    let mut g = Guest::spawn({
        let mut c = mimic(&["-M", "virt", "-m", "512M", "-smp", "2", "-nographic", "-S", "-qmp", &spec]);
        c.arg("-bios")
            .arg(asset("fw_dynamic.bin"))
            .arg("-kernel")
            .arg(asset("Image"))
            .arg("-initrd")
            .arg(asset("initramfs.cpio.gz"));
        c.args(["-append", "console=ttyS0 quiet"]);
        c
    });
    wait_for_path(&sock);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/qmp_session.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&sock)
        .arg(asset("fw_dynamic.bin"))
        .arg(dir.join("ram.bin"))
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("QMP-SESSION-OK"),
        "python client failed: {stdout}\n{}\nmimic output:\n{}",
        String::from_utf8_lossy(&out.stderr),
        g.output()
    );
    assert_eq!(g.wait_exit(Duration::from_secs(30)).code(), Some(0));
}

/// Assemble a bare-metal test program from `tests/isa` with the cross compiler.
fn build_isa_program(name: &str, dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/isa");
    let elf = dir.join(format!("{name}.elf"));
    let status = Command::new("riscv64-unknown-elf-gcc")
        .args([
            "-march=rv64gc_zba_zbb_zbs_zicsr_zifencei",
            "-mabi=lp64d",
            "-nostdlib",
            "-nostartfiles",
            "-static",
            "-g",
        ])
        .arg("-T")
        .arg(src.join("link.ld"))
        .arg("-I")
        .arg(&src)
        .arg(src.join(format!("{name}.S")))
        .arg("-o")
        .arg(&elf)
        .status()
        .expect("riscv64-unknown-elf-gcc (apt-get install gcc-riscv64-unknown-elf)");
    assert!(status.success());
    elf
}

fn gdb(port: u16, elf: &Path, commands: &[&str]) -> String {
    let mut c = Command::new("gdb-multiarch");
    c.args(["-nx", "-batch", "-ex", "set pagination off", "-ex", "set confirm off"]);
    c.args(["-ex", &format!("target remote 127.0.0.1:{port}")]);
    for cmd in commands {
        c.args(["-ex", cmd]);
    }
    c.arg(elf);
    let out = c.output().expect("gdb-multiarch (apt-get install gdb-multiarch)");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn symbol(elf: &Path, name: &str) -> u64 {
    let out = Command::new("riscv64-unknown-elf-nm").arg(elf).output().expect("nm");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = text.lines().find(|l| l.ends_with(&format!(" {name}"))).unwrap_or_else(|| panic!("no symbol {name}"));
    u64::from_str_radix(line.split_whitespace().next().unwrap(), 16).unwrap()
}

#[test]
fn gdb_breaks_on_a_label_reads_state_steps_and_kills() {
    let dir = scratch("gdb");
    let elf = build_isa_program("rv64m", &dir);
    let test1 = symbol(&elf, "test_1");
    let port = free_port();
    let gdb_spec = format!("tcp:127.0.0.1:{port}");
    let mut g = Guest::spawn({
        let mut c = mimic(&["-M", "virt", "-bios", "none", "-nographic", "-S", "-gdb", &gdb_spec, "-kernel"]);
        c.arg(&elf);
        c
    });
    std::thread::sleep(Duration::from_millis(500));
    let out = gdb(
        port,
        &elf,
        &[
            "info registers pc",
            "break test_1",
            "continue",
            "info registers pc",
            "x/2xw $pc",
            "stepi",
            "info registers pc",
            "p/x $mstatus",
            "p $priv",
            "info threads",
            "kill",
        ],
    );
    assert!(out.contains("pc             0x1000"), "starts at the reset vector:\n{out}");
    assert!(out.contains("Breakpoint 1, test_1 ()"), "breakpoint hit:\n{out}");
    assert!(out.contains(&format!("pc             {test1:#x}")), "stopped at test_1 = {test1:#x}:\n{out}");
    // The first two instruction words at the label, as the ELF has them.
    let objdump = Command::new("riscv64-unknown-elf-objdump")
        .args(["-s", "--start-address"])
        .arg(format!("{test1:#x}"))
        .arg("--stop-address")
        .arg(format!("{:#x}", test1 + 8))
        .arg(&elf)
        .output()
        .unwrap();
    let dump = String::from_utf8_lossy(&objdump.stdout);
    let words: Vec<&str> = dump.lines().last().unwrap().split_whitespace().skip(1).take(2).collect();
    let le = |w: &str| {
        format!("0x{}", w.as_bytes().chunks(2).rev().map(|c| std::str::from_utf8(c).unwrap()).collect::<String>())
    };
    assert!(out.contains(&format!("{}\t{}", le(words[0]), le(words[1]))), "memory read {words:?}:\n{out}");
    assert!(
        out.contains(&format!("pc             {:#x}", test1 + 2))
            || out.contains(&format!("pc             {:#x}", test1 + 4)),
        "stepi advanced:\n{out}"
    );
    assert!(out.contains("$1 = 0xa00000000"), "mstatus read:\n{out}");
    assert!(out.contains("$2 = 3"), "M-mode privilege:\n{out}");
    assert!(out.contains("Thread 1.1 (hart 0)"), "harts are threads:\n{out}");
    assert_eq!(g.wait_exit(Duration::from_secs(20)).code(), Some(0), "kill ends mimic");
}

#[test]
fn gdb_hardware_breakpoint_on_a_kernel_function_stops_the_running_guest() {
    let port = free_port();
    let spec = format!("tcp:127.0.0.1:{port}");
    let mut g = Guest::boot(&["-gdb", &spec]);
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(guest::PROMPT, BOOT);
    // Debian ships a placeholder System.map; the running kernel's own symbol table is the truth.
    g.run("echo 0 > /proc/sys/kernel/kptr_restrict", BOOT);
    let line = g.run("grep -w __riscv_sys_newuname /proc/kallsyms", BOOT);
    let addr = u64::from_str_radix(line.split_whitespace().next().expect("kallsyms line"), 16).expect("address");
    assert!(addr > 0xffff_ffff_0000_0000, "a kernel address: {line}");

    // gdb attaches to the running guest (stopping it), sets the breakpoint and continues; the
    // guest's `uname` then enters the system call and stops there.
    let gdb_thread = std::thread::spawn(move || {
        gdb(
            port,
            Path::new("/dev/null"),
            &[
                "set architecture riscv:rv64",
                &format!("hbreak *{addr:#x}"),
                "continue",
                "info registers pc",
                "p $priv",
                "detach",
            ],
        )
    });
    std::thread::sleep(Duration::from_secs(5));
    g.send("uname -m");
    let out = gdb_thread.join().unwrap();
    assert!(out.contains(&format!("pc             {addr:#x}")), "stopped at __riscv_sys_newuname {addr:#x}:\n{out}");
    assert!(out.contains("$1 = 1"), "the kernel runs in S-mode:\n{out}");
    // After the debugger detaches, the system call completes.
    g.wait_for("riscv64", Duration::from_secs(60));
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(Duration::from_secs(60)).code(), Some(0));
}

#[test]
fn gdb_watchpoint_stops_on_the_store_and_reports_old_and_new_values() {
    let dir = scratch("watch");
    let elf = build_isa_program("priv_traps", &dir);
    let port = free_port();
    let gdb_spec = format!("tcp:127.0.0.1:{port}");
    let mut g = Guest::spawn({
        let mut c = mimic(&["-M", "virt", "-bios", "none", "-nographic", "-S", "-gdb", &gdb_spec, "-kernel"]);
        c.arg(&elf);
        c
    });
    std::thread::sleep(Duration::from_millis(500));
    // The trap handler records mcause in `trap_cause`; the first trap is an ecall from M (11).
    let out = gdb(
        port,
        &elf,
        &["watch *(long *)&trap_cause", "continue", "p *(long *)&trap_cause", "info registers pc", "kill"],
    );
    assert!(out.contains("Hardware watchpoint 1: *(long *)&trap_cause"), "watchpoint set:\n{out}");
    assert!(out.contains("Old value = 0"), "old value reported:\n{out}");
    let new = out.split("New value = ").nth(1).and_then(|t| t.split_whitespace().next()).unwrap_or("");
    assert!(new != "0" && !new.is_empty(), "new value reported:\n{out}");
    assert!(out.contains(&format!("$1 = {new}")), "memory holds the new value:\n{out}");
    assert_eq!(g.wait_exit(Duration::from_secs(20)).code(), Some(0));
}

#[test]
fn ctrl_a_c_switches_the_console_to_the_human_monitor_and_back() {
    let mut g = Guest::boot(&[]);
    g.wait_for(INIT_MARKER, BOOT);
    g.wait_for(guest::PROMPT, BOOT);
    g.send("\x01c");
    g.wait_for("(qemu) ", Duration::from_secs(30));
    g.send("info status");
    g.wait_for("VM status: running", Duration::from_secs(30));
    g.send("info mtree");
    g.wait_for("0000000080000000-000000009fffffff (prio 0, ram): dram", Duration::from_secs(30));
    g.send("stop");
    g.send("info status");
    g.wait_for("VM status: paused", Duration::from_secs(30));
    g.send("cont");
    g.send("\x01c");
    g.send("echo back-in-the-guest-$((40+2))");
    g.wait_for("back-in-the-guest-42", Duration::from_secs(60));
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(Duration::from_secs(60)).code(), Some(0));
}

#[test]
fn gdb_ctrl_c_interrupts_a_running_smp_guest_and_lists_every_hart() {
    let port = free_port();
    let spec = format!("tcp:127.0.0.1:{port}");
    let mut g = Guest::boot(&["-smp", "2", "-gdb", &spec]);
    g.wait_for(INIT_MARKER, BOOT);
    let mut c = Command::new("gdb-multiarch");
    c.args(["-nx", "-batch", "-ex", "set pagination off", "-ex", "set architecture riscv:rv64"]);
    c.args([
        "-ex",
        &format!("target remote 127.0.0.1:{port}"),
        "-ex",
        "continue",
        "-ex",
        "info threads",
        "-ex",
        "detach",
    ]);
    c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = c.spawn().expect("gdb-multiarch (apt-get install gdb-multiarch)");
    std::thread::sleep(Duration::from_secs(5));
    // What Ctrl-C at gdb's prompt does: SIGINT to gdb, which sends the interrupt byte.
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("SIGINT"), "interrupted:\n{text}");
    assert!(text.contains("Thread 1.1 (hart 0)") && text.contains("Thread 1.2 (hart 1)"), "both harts listed:\n{text}");
    // Detached: the guest runs on and answers.
    g.send("echo still-alive-$((6*7))");
    g.wait_for("still-alive-42", Duration::from_secs(60));
    g.send("poweroff -f");
    assert_eq!(g.wait_exit(Duration::from_secs(60)).code(), Some(0));
}
