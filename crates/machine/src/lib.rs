//! Boards: which devices sit at which address, how their interrupts reach the CPUs, the device
//! tree that tells the guest, the loaders that put firmware and kernels in memory, and the loop
//! that runs the harts and services devices between slices of guest execution.
#![forbid(unsafe_code)]

pub mod ahci;
mod arm_fdt;
mod arm_firmware;
mod arm_virt;
mod board_parts;
mod error;
mod fdt;
mod fdt_edit;
mod loader;
mod machine;
pub mod psci;
mod virt;
pub mod virtio;

pub use arm_firmware::PflashDrive;
pub use arm_virt::{ArmBoard, ArmCpuModel, ArmVirtMachine, GicVersion};
pub use error::Error;
pub use loader::{load_elf_or_raw, ImageArch, LoadedImage};
pub use machine::{
    Board, BoardCpu, DebugState, DebugStop, ExitStatus, HostEvent, Machine, MachineEvent, RunState, Watchpoint,
};
pub use virt::{dump_dtb, Bios, RiscvBoard, VirtConfig, VirtMachine, MEMMAP};
