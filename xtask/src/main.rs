//! Developer commands: `cargo xtask bench` measures the interpreter on a CPU-bound bare-metal
//! loop, side by side with QEMU when `qemu-system-riscv64` is installed; `cargo xtask
//! check-deps` checks the crate layering rules of ARCHITECTURE.md.

mod bench;
mod demo;
mod deps;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("bench") => bench::run(&args[1..]),
        Some("check-deps") => deps::run(),
        Some("demo") => demo::run(),
        _ => {
            eprintln!("usage: cargo xtask bench [--runs N] [--iterations N] | check-deps | demo");
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
