//! Bare-metal RISC-V ISA test programs (`tests/isa/*.S`), judged by the `virt` test finisher.
//!
//! Each program is assembled with `riscv64-unknown-elf-gcc` into `CARGO_TARGET_TMPDIR/isa/`
//! and run as `mimic -M virt -m 128M -bios none -nographic -kernel prog.elf`, once per execution
//! tier (`-accel tcg,tier=interp`, then `tier=jit`). A program writes
//! 0x5555 to the SiFive test finisher when every check passed (exit status 0), or
//! `(code << 16) | 0x3333` on the first failure, where `code` = failing test id mod 255
//! (never 0), after printing `FAIL test <id>...` on the UART.
//!
//! Environment:
//! - `MIMIC_ISA_EMULATOR`: run this command instead of mimic (QEMU-compatible arguments are
//!   appended), e.g. `MIMIC_ISA_EMULATOR=qemu-system-riscv64`. For a `qemu-system-*` command
//!   without its own `-cpu`, `-cpu rv64,zicond=true` is added (QEMU's `rv64` lacks Zicond).
//! - `MIMIC_ISA_STRICT=1|0`: build with `-DMIMIC_STRICT`, which checks mimic's documented choices
//!   where QEMU 10 differs (misaligned loads/stores trap, ...; see `isa/macros.S`). Default: on
//!   for mimic, off when `MIMIC_ISA_EMULATOR` is set.
//! - `MIMIC_ISA_TIMEOUT`: seconds per program (default 20); a hang is killed and fails.
//! - `MIMIC_ISA_CC`: the cross compiler (default `riscv64-unknown-elf-gcc`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const ARCH_FLAGS: &[&str] =
    &["-march=rv64gc_zba_zbb_zbs_zicsr_zifencei", "-mabi=lp64d", "-nostdlib", "-nostartfiles", "-static"];

fn isa_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("isa")
}

fn env_flag(name: &str) -> Option<bool> {
    std::env::var(name).ok().map(|v| {
        let v = v.trim().to_ascii_lowercase();
        !(v.is_empty() || v == "0" || v == "false" || v == "no" || v == "off")
    })
}

/// The emulator command line (program and leading arguments) and whether it is mimic.
fn emulator() -> (Vec<String>, bool) {
    match std::env::var("MIMIC_ISA_EMULATOR") {
        Ok(cmd) if !cmd.trim().is_empty() => {
            let mut argv: Vec<String> = cmd.split_whitespace().map(str::to_owned).collect();
            let program = Path::new(&argv[0]).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if program.starts_with("qemu-system") && !argv.iter().any(|a| a == "-cpu") {
                argv.push("-cpu".into());
                argv.push("rv64,zicond=true".into());
            }
            (argv, false)
        }
        _ => (vec![env!("CARGO_BIN_EXE_mimic").to_owned()], true),
    }
}

fn compile(name: &str, strict: bool) -> PathBuf {
    let src = isa_dir().join(format!("{name}.S"));
    assert!(src.exists(), "missing test program {}", src.display());
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("isa");
    std::fs::create_dir_all(&out_dir).expect("create output folder");
    let elf = out_dir.join(format!("{name}{}.elf", if strict { ".strict" } else { "" }));
    let cc = std::env::var("MIMIC_ISA_CC").unwrap_or_else(|_| "riscv64-unknown-elf-gcc".into());
    let mut cmd = Command::new(&cc);
    cmd.args(ARCH_FLAGS).arg("-T").arg(isa_dir().join("link.ld")).arg("-I").arg(isa_dir());
    if strict {
        cmd.arg("-DMIMIC_STRICT");
    }
    cmd.arg("-o").arg(&elf).arg(&src);
    let output = match cmd.output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "the RISC-V cross compiler `{cc}` was not found; install it with \
             `apt-get install gcc-riscv64-unknown-elf` (or set MIMIC_ISA_CC)"
        ),
        Err(e) => panic!("cannot run `{cc}`: {e}"),
    };
    assert!(
        output.status.success(),
        "assembling {} failed ({}):\n{}{}",
        src.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    elf
}

struct Run {
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

fn run_emulator(argv: &[String], elf: &Path, timeout: Duration) -> Run {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .args(["-M", "virt", "-m", "128M", "-bios", "none", "-nographic", "-kernel"])
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start emulator `{}`: {e}", argv[0]));
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("waiting for the emulator: {e}"),
        }
    };
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    Run { status, stdout, stderr, elapsed }
}

/// "FAIL test 123..." as printed by the program's failure path.
fn failing_test_from_uart(stdout: &str) -> Option<String> {
    stdout.lines().find(|l| l.contains("FAIL test")).map(|l| l.trim().to_owned())
}

/// mimic runs every program on each execution tier: the interpreter, and the JIT compiling every
/// block before it first runs.
const MIMIC_TIERS: &[&str] = &["tcg,tier=interp", "tcg,tier=jit"];

fn run_program(name: &str) {
    let (argv, is_mimic) = emulator();
    if !is_mimic {
        return run_program_with(name, &argv, false);
    }
    for tier in MIMIC_TIERS {
        let mut argv = argv.clone();
        argv.extend(["-accel".to_owned(), tier.to_string()]);
        run_program_with(name, &argv, true);
    }
}

fn run_program_with(name: &str, argv: &[String], is_mimic: bool) {
    let strict = env_flag("MIMIC_ISA_STRICT").unwrap_or(is_mimic);
    let timeout = std::env::var("MIMIC_ISA_TIMEOUT").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(20);
    let elf = compile(name, strict);
    let run = run_emulator(argv, &elf, Duration::from_secs(timeout));
    let verdict = match run.status {
        Some(status) if status.success() => return,
        None => format!("timed out after {timeout} s (killed): the program hung or never reached the finisher"),
        Some(status) => match status.code() {
            Some(code) => {
                let from_uart = failing_test_from_uart(&run.stdout)
                    .map(|l| format!("the program reported: {l}"))
                    .unwrap_or_else(|| "no FAIL line on the UART".into());
                format!("exit status {code}: failing test id ≡ {code} (mod 255); {from_uart}")
            }
            None => format!("emulator terminated abnormally: {status}"),
        },
    };
    panic!(
        "ISA program `{name}` FAILED ({verdict})\n  emulator: {} (+ -M virt -m 128M -bios none -nographic -kernel {})\n  strict: {strict}, elapsed: {:.2?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        argv.join(" "),
        elf.display(),
        run.elapsed,
        run.stdout,
        run.stderr
    );
}

macro_rules! isa_programs {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_program(stringify!($name));
            }
        )*

        /// Every `.S` program in tests/isa has a test above (macros.S is the framework).
        #[test]
        fn every_program_is_listed() {
            let listed: &[&str] = &[$(stringify!($name)),*];
            let mut missing = Vec::new();
            for entry in std::fs::read_dir(isa_dir()).expect("read tests/isa") {
                let path = entry.expect("dir entry").path();
                if path.extension().and_then(|e| e.to_str()) != Some("S") {
                    continue;
                }
                let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                if stem != "macros" && !listed.contains(&stem.as_str()) {
                    missing.push(stem);
                }
            }
            assert!(missing.is_empty(), "ISA programs without a #[test]: {missing:?}");
        }
    };
}

isa_programs!(
    rv64i,
    rv64m,
    rv64a,
    rv64f,
    rv64d,
    rv64c,
    zicsr,
    zifencei,
    zba,
    zbb,
    zbs,
    zicond,
    priv_traps,
    priv_delegation,
    paging_sv39,
    paging_sv48,
    paging_sv57,
    pmp,
    timer,
    misaligned,
    counters,
    csr_misc,
);

#[test]
fn perfmap_names_each_compiled_block_by_guest_pc() {
    let elf = compile("rv64i", true);
    let child = Command::new(env!("CARGO_BIN_EXE_mimic"))
        .args(["-M", "virt", "-m", "128M", "-bios", "none", "-nographic", "-accel", "tcg,tier=jit", "-perfmap"])
        .arg("-kernel")
        .arg(&elf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start mimic");
    let map = PathBuf::from(format!("/tmp/perf-{}.map", child.id()));
    let out = child.wait_with_output().expect("wait for mimic");
    assert!(out.status.success(), "rv64i under -perfmap: {}", out.status);
    let text = std::fs::read_to_string(&map).expect("perf map written");
    let _ = std::fs::remove_file(&map);
    let entries: Vec<(u64, u64, u64)> = text
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            let pc = w[2].strip_prefix("guest:0x").expect("named by guest pc");
            (
                u64::from_str_radix(w[0], 16).unwrap(),
                u64::from_str_radix(w[1], 16).unwrap(),
                u64::from_str_radix(pc, 16).unwrap(),
            )
        })
        .collect();
    assert!(entries.len() > 10, "one line per compiled block:\n{text}");
    assert!(entries.iter().any(|&(_, _, pc)| pc == 0x8000_0000), "the entry block is named:\n{text}");
    assert!(entries.iter().all(|&(_, len, _)| len > 0));
}
