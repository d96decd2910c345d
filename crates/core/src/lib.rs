//! The names every other mimic crate speaks: guest and physical address newtypes, half-open
//! address ranges, the shape of a memory operation, interrupt lines, the virtual clock, and the
//! GICv3 CPU-interface contract between an AArch64 CPU and its interrupt controller.
//!
//! This crate holds no behaviour beyond arithmetic on those names.
#![forbid(unsafe_code)]

mod addr;
mod clock;
mod dma_buf;
mod gic;
mod irq;
mod lent;
mod memop;

pub use addr::{AddrRange, GuestAddr, PhysAddr};
pub use clock::{Clock, HostClock, ManualClock, VmClock};
pub use dma_buf::{DmaBuf, DMA_ALIGN};
pub use gic::{GicCpuInterface, IccReg, SharedGicCpuInterface};
pub use irq::{BitIrq, IrqLine, NullIrq, SharedBits};
pub use lent::LentMemory;
pub use memop::{Endian, MemOp, Size};
mod guest_log;
pub use guest_log::RateLimit;
#[doc(hidden)]
pub use tracing as __tracing;
