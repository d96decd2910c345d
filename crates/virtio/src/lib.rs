//! The virtio protocol (OASIS virtio 1.2), independent of what a device does.
//!
//! ```text
//!  guest driver ──MMIO regs──▶ VirtioMmio ─┐            (transport: registers, InterruptStatus, IrqLine)
//!                                          ▼
//!                               VirtioCommon<D>          (features, status, queues, pending notifies)
//!                                 │        │
//!                          Queue (split)   D: VirtioDevice  (blk, net, rng, console in `mimic-devices`)
//!                                 │
//!                         &mut dyn GuestMemory  (lent by the machine to `process`)
//! ```
//!
//! - [`queue`]: the split virtqueue read and written through [`mimic_memory::GuestMemory`];
//!   every guest-controlled index, length and address is validated, and a violation breaks the
//!   queue (the transport then sets `DEVICE_NEEDS_RESET`), never the host.
//! - [`device`]: the [`VirtioDevice`] trait that device models implement.
//! - [`common`]: the transport-independent state machine (feature negotiation, device status,
//!   queue setup, notifications, processing), shared by the MMIO and (later) PCI transports.
//! - [`mmio`]: the virtio-mmio transport, version 2 (`"virtio,mmio"`).
//!
//! An MMIO write cannot reach guest memory (the address space owns the device), so a
//! `QueueNotify` only records the queue; the machine then calls [`VirtioMmio::process`] with the
//! guest memory, when [`VirtioMmio::needs_processing`] says so.
#![forbid(unsafe_code)]

pub mod common;
pub mod device;
pub mod features;
pub mod mmio;
pub mod queue;

#[cfg(any(test, feature = "test-utils"))]
pub mod mock;

pub use common::{Signals, VirtioCommon};
pub use device::{NoDevice, VirtioDevice};
pub use mmio::VirtioMmio;
pub use queue::{Buffer, DescriptorChain, Queue, QueueError};
