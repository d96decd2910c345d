//! `cargo xtask demo`: a bare-metal "hello" assembled with the in-tree encoder, booted on
//! `mimic -M virt -bios none`. Shows the whole path (loader, reset vector, UART, finisher)
//! without a cross toolchain.

use mimic_arch_riscv::decode::enc;
use std::path::PathBuf;
use std::process::Command;

const T0: u32 = 5;
const T1: u32 = 6;
const T2: u32 = 7;
const A0: u32 = 10;

fn program(text: &str) -> Vec<u8> {
    // t0 = UART0 base; for each byte: wait for LSR.THRE, then store it to THR.
    let mut w = vec![enc::lui(T0, 0x10000 << 12)];
    for b in text.bytes() {
        w.extend_from_slice(&[
            enc::lbu(T1, T0, 5),
            enc::andi(T1, T1, 0x20),
            enc::beq(T1, 0, -8),
            enc::addi(A0, 0, b as i64),
            enc::sb(T0, A0, 0),
        ]);
    }
    // Power off through the test finisher: *(u32 *)0x100000 = 0x5555.
    w.extend_from_slice(&[
        enc::lui(T0, 0x100 << 12),
        enc::lui(T2, 0x5 << 12),
        enc::addiw(T2, T2, 0x555),
        enc::sw(T0, T2, 0),
        enc::jal(0, 0),
    ]);
    w.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn run() -> Result<(), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or(root.join("target"));
    let image = target.join("demo-hello.bin");
    std::fs::write(&image, program("Hello from a RISC-V guest on mimic!\r\n")).map_err(|e| e.to_string())?;
    let status = Command::new("cargo")
        .args([
            "run",
            "--release",
            "-q",
            "-p",
            "mimic-cli",
            "--",
            "-M",
            "virt",
            "-bios",
            "none",
            "-nographic",
            "-kernel",
        ])
        .arg(&image)
        .current_dir(&root)
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("mimic exited with {status}"))
    }
}
