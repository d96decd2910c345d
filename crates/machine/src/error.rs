//! What can go wrong while building or running a machine: the user's inputs (files, sizes) and
//! board wiring.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {what} '{}'", path.display())]
    ReadFile {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} '{}' does not fit in guest memory at {addr:#x} ({len} bytes)", path.display())]
    DoesNotFit { what: &'static str, path: PathBuf, addr: u64, len: u64 },
    #[error("{what} '{}' is not a valid image: {reason}", path.display())]
    BadImage { what: &'static str, path: PathBuf, reason: String },
    #[error("pflash drive '{}' is {len} bytes: a flash bank needs exactly {want} bytes", path.display())]
    PflashSize { path: PathBuf, len: u64, want: u64 },
    #[error("invalid memory size: {0}")]
    MemorySize(String),
    #[error("unsupported -smp {0}: this machine supports 1 to {max} harts", max = crate::virt::MAX_HARTS)]
    Smp(usize),
    #[error("no firmware found for -bios default (looked in: {searched}); use -bios none or -bios FILE")]
    NoDefaultFirmware { searched: String },
    #[error("building the device tree failed: {0}")]
    Fdt(String),
    /// A combination of -bios/-kernel/-initrd the board cannot boot.
    #[error("cannot boot this way: {0}")]
    BootOptions(String),
    /// A machine option this board does not offer (yet).
    #[error("unsupported machine option: {0}")]
    Unsupported(String),
    #[error("board wiring failed: {0}")]
    Wiring(String),
    #[error("-accel tcg,tier=jit: {0}")]
    Jit(String),
    #[error(transparent)]
    Memory(#[from] mimic_memory::Error),
}
