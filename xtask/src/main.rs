//! Developer commands: `cargo xtask bench` measures the interpreter on a CPU-bound bare-metal
//! loop, side by side with QEMU when `qemu-system-riscv64` is installed; `cargo xtask
//! check-deps` checks the crate layering rules of ARCHITECTURE.md.

mod bench;
mod bench_disk;
mod bench_linux;
mod cpio;
mod demo;
mod deps;
mod guests;
mod rootdisk;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("bench") => bench::run(&args[1..]),
        Some("bench-linux") => bench_linux::run(&args[1..]),
        Some("bench-disk") => bench_disk::run(&args[1..]),
        Some("check-deps") => deps::run(),
        Some("demo") => demo::run(),
        Some("fetch-guests") => guests::fetch_cmd(&args[1..]),
        Some("boot") => guests::boot_cmd(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask bench [--runs N] [--iterations N] | bench-linux [--arch riscv64|arm64] [--runs N] [--steps a,b] [--only mimic|qemu] | bench-disk [--runs N] [--only mimic|qemu] [--size-mib N] [--timeout SECS] | check-deps | demo | fetch-guests [--update] | boot [--qemu] [EMULATOR ARGS...]");
            return ExitCode::FAILURE;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
