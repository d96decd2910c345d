//! The guest-physical address space: which RAM, ROM or device answers at each address.
//!
//! All RAM and ROM of a machine live in one host buffer (the backing store) so that a TLB entry can
//! name any guest page by one offset into it. Devices sit behind the two-method [`MmioDevice`]
//! trait and know nothing of the address they are mapped at.
//!
//! ```text
//!   guest-physical                 backing store (one page-aligned allocation)
//!   0x0000_1000 ROM  ────────────▶ [rom bytes][dram bytes ..................]
//!   0x8000_0000 DRAM ─────────────────────────▲
//!   0x1000_0000 UART ──▶ Box<dyn MmioDevice>
//! ```
//!
//! A ROM device (flash, [`RomDevice`]) has its array in the backing store too, but only
//! instruction fetches, loaders and debuggers reach it there ([`AddressSpace::lookup_backing`]);
//! data accesses always go through the device ([`AddressSpace::lookup_ram`] does not return it,
//! so no TLB ever maps it for data), which is what lets it switch between array reads and its
//! command modes without any TLB flush.
//!
//! A disk thread may fill guest buffers in place during a read ([`AddressSpace::lend_ram`],
//! [`LentRam`]); the `unsafe` this needs lives in `ram.rs` alone, with its soundness argument.
#![deny(unsafe_code)]

mod copy;
mod device;
mod guest_memory;
#[allow(unsafe_code)]
mod ram;
mod space;

pub use copy::copy_bytes;
pub use device::{MmioDevice, RomDevice, Shared};
pub use guest_memory::{FlatMemory, GuestMemory};
pub use ram::{LentRam, RAM_ALIGN};
pub use space::{
    read_le, write_le, AddressSpace, BusError, Error, RamLookup, Region, RegionKind, PAGE_SHIFT, PAGE_SIZE,
};
