//! The CPU benchmark: a bare-metal loop of integer, memory and branch instructions
//! (assembled with the in-tree encoder, so no cross toolchain is needed) that runs a known
//! number of instructions and then reports through the test finisher. mimic's interpreter, mimic's
//! JIT and QEMU run the same binary in turn; medians and the ratios are printed.

use mimic_arch_riscv::decode::enc;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Registers by ABI name.
const T0: u32 = 5;
const T1: u32 = 6;
const T2: u32 = 7;
const A0: u32 = 10;
const A1: u32 = 11;
const A2: u32 = 12;
const A3: u32 = 13;
const SP: u32 = 2;

/// Instructions executed per loop iteration (the body below).
const BODY: u64 = 12;

/// The program: `iterations` times a mix of ALU, multiply, load/store and a taken branch, then
/// write the checksum-independent pass code 0x5555 to the finisher.
fn program(iterations: u32) -> Vec<u8> {
    let hi = (iterations as i64 + 0x800) >> 12 << 12;
    let lo = iterations as i64 - hi;
    let mut w = vec![
        enc::lui(T0, hi),
        enc::addiw(T0, T0, lo),
        // Data page at 0x8001_0000 (lui would sign-extend 0x8001_0000, so build it in two steps).
        enc::addi(SP, 0, 1),
        enc::slli(SP, SP, 31),
        enc::lui(T1, 0x10 << 12),
        enc::add(SP, SP, T1),
        enc::addi(A0, 0, 1),
        enc::addi(A1, 0, 3),
    ];
    let body = [
        enc::add(A0, A0, A1),
        enc::xor(A2, A0, T0),
        enc::slli(A3, A2, 3),
        enc::mul(A1, A1, A3),
        enc::sd(SP, A0, 0),
        enc::ld(T1, SP, 0),
        enc::sub(A1, A1, T1),
        enc::srli(T2, A1, 7),
        enc::or(A1, A1, T2),
        enc::andi(A1, A1, 0x7ff),
        enc::addi(T0, T0, -1),
    ];
    w.extend_from_slice(&body);
    w.push(enc::bne(T0, 0, -(body.len() as i64 * 4)));
    // Finisher at 0x10_0000: *(u32 *)0x100000 = 0x5555.
    w.extend_from_slice(&[
        enc::lui(T0, 0x100 << 12),
        enc::lui(T1, 0x5 << 12),
        enc::addiw(T1, T1, 0x555),
        enc::sw(T0, T1, 0),
    ]);
    w.push(enc::jal(0, 0));
    assert_eq!(body.len() as u64 + 1, BODY);
    w.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn time_run(cmd: &Path, extra: &[&str], image: &Path) -> Result<f64, String> {
    let start = Instant::now();
    let out = Command::new(cmd)
        .args(extra)
        .args(["-M", "virt", "-m", "64M", "-bios", "none", "-nographic", "-kernel"])
        .arg(image)
        .output()
        .map_err(|e| format!("running {}: {e}", cmd.display()))?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!("{} exited with {}: {}", cmd.display(), out.status, String::from_utf8_lossy(&out.stderr)));
    }
    Ok(secs)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut runs = 5;
    let mut iterations: u32 = 50_000_000;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--runs" => runs = v.parse().map_err(|_| "bad --runs")?,
            "--iterations" => iterations = v.parse().map_err(|_| "bad --iterations")?,
            _ => return Err(format!("unknown option {a}")),
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new("cargo")
        .args(["build", "--release", "-p", "mimic-cli"])
        .current_dir(&root)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("building mimic failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or(root.join("target"));
    let mimic = target.join("release/mimic");
    let dir = target.join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let image = dir.join("loop.bin");
    std::fs::write(&image, program(iterations)).map_err(|e| e.to_string())?;
    let qemu = find_on_path("qemu-system-riscv64");
    let insns = iterations as u64 * BODY;
    println!("bare-metal loop: {iterations} iterations, {:.0} M instructions, {runs} runs each", insns as f64 / 1e6);
    // Each configuration runs once per round, so drift in machine load hits all alike.
    let mut configs: Vec<(&str, PathBuf, Vec<&str>)> = vec![
        ("mimic, interpreter (tier=interp)", mimic.clone(), vec!["-accel", "tcg,tier=interp"]),
        ("mimic, JIT (tier=auto, default)", mimic.clone(), vec!["-accel", "tcg,tier=auto"]),
    ];
    if let Some(q) = &qemu {
        configs.push(("qemu-system-riscv64 (TCG)", q.clone(), vec![]));
    }
    let mut times = vec![Vec::new(); configs.len()];
    for _ in 0..runs {
        for (i, (_, cmd, extra)) in configs.iter().enumerate() {
            times[i].push(time_run(cmd, extra, &image)?);
        }
    }
    let medians: Vec<f64> = times.iter_mut().map(|t| median(t)).collect();
    for ((name, _, _), m) in configs.iter().zip(&medians) {
        println!("{name:<36} median {m:.3} s  = {:>5.0} M instructions/s", insns as f64 / m / 1e6);
    }
    match medians.get(2) {
        Some(q) => {
            println!("ratio mimic/QEMU time: interpreter {:.2}, JIT {:.2}", medians[0] / q, medians[1] / q);
        }
        None => println!("qemu-system-riscv64 not found: no comparison"),
    }
    Ok(())
}
