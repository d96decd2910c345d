//! Register-level models of the devices a board maps into guest-physical memory.
//!
//! Each device is a pure state machine: it implements [`mimic_memory::MmioDevice`] (register reads
//! and writes at offsets from its base) and is generic over its side effects — an
//! [`mimic_core::IrqLine`] for its interrupt output, a [`std::io::Write`] for bytes it sends, a
//! [`mimic_core::Clock`] for time. Devices own no threads and know no addresses: the board
//! (`mimic-machine`) maps them, wires their lines, and polls the timers (`update()` /
//! `next_deadline_ns()`).
//!
//! Rules every device here follows:
//! - guest input never panics: bad offsets and sizes read as zero and ignore writes, logged with
//!   the rate-limited [`mimic_core::guest_error!`];
//! - an interrupt line is driven only when its level changes (so a line into the PLIC costs a
//!   lock only on an edge);
//! - all guest-visible state sits in a plain `…State` struct (`state()` / `set_state()`), ready
//!   for snapshots.
//!
//! | module | device | on QEMU `virt` at |
//! |---|---|---|
//! | [`uart16550`] | NS16550A UART | `0x1000_0000`, PLIC source 10 |
//! | [`clint`] | SiFive CLINT (ACLINT MSWI + MTIMER) and the shared [`MTime`] counter | `0x0200_0000` |
//! | [`pl011`] | ARM PrimeCell UART PL011 | aarch64 `0x0900_0000`, GIC SPI 1 |
//! | [`pl031`] | ARM PrimeCell RTC PL031 | aarch64 `0x0901_0000`, GIC SPI 2 |
//! | [`pl061`] | ARM PrimeCell GPIO PL061 (pin 3: power button) | aarch64 `0x0903_0000`, GIC SPI 7 |
//! | [`plic`] | SiFive PLIC | `0x0c00_0000` |
//! | [`sifive_test`] | SiFive test finisher and the [`PowerLatch`] | `0x0010_0000` |
//! | [`gicv2`] | ARM GICv2 distributor and CPU interfaces (no Security Extensions), the [`CurrentCpu`] hook, the GICv2m MSI frame | aarch64 `0x0800_0000` (GICD), `0x0801_0000` (GICC), `0x0802_0000` (v2m) |
//! | [`gicv3`] | ARM GICv3 distributor, redistributors and ICC_* CPU interface (one security state, no LPIs) | aarch64 `0x0800_0000` (GICD), `0x080a_0000` (GICR) |
//! | [`pflash_cfi01`] | CFI NOR flash, Intel command set (QEMU's `cfi.pflash01`), a [`mimic_memory::RomDevice`] | aarch64 `0x0000_0000` and `0x0400_0000` (two 64 MiB banks) |
//! | [`fw_cfg`] | QEMU's firmware configuration device (MMIO with DMA): signature, `-kernel`/`-initrd`/`-append`, named files | aarch64 `0x0902_0000` |
//! | [`goldfish_rtc`] | Google Goldfish RTC | `0x0010_1000`, PLIC source 11 |
//! | [`ahci`] | AHCI 1.3 SATA HBA (ICH9's PCI identity) with [`ata`] disks over a [`virtio_blk::BlockQueue`] | a PCI function |
//! | [`virtio_blk`] | virtio block device (ID 2) over a [`virtio_blk::BlockBackend`] | behind a `mimic_virtio` transport: `0x1000_1000 + 0x1000·n`, PLIC 1+n |
//! | [`virtio_net`] | virtio network device (ID 1) over a [`virtio_net::NetBackend`] | (same) |
//! | [`virtio_console`] | virtio console (ID 3), one port | (same) |
//! | [`virtio_rng`] | virtio entropy device (ID 4) | (same) |
//! | [`e1000`] | Intel 82540EM Gigabit Ethernet (8086:100e) over a [`virtio_net::NetBackend`] | a PCI function on the [`pci`] host, INTx |
#![forbid(unsafe_code)]

mod access;
pub mod ahci;
pub mod ata;
pub mod clint;
pub mod e1000;
pub mod fw_cfg;
pub mod gicv2;
pub mod gicv3;
pub mod goldfish_rtc;
pub mod pci;
pub mod pflash_cfi01;
pub mod pl011;
pub mod pl031;
pub mod pl061;
pub mod plic;
mod primecell;
pub mod sifive_test;
pub mod uart16550;
pub mod virtio_blk;
pub mod virtio_console;
pub mod virtio_net;
pub mod virtio_pci;
pub mod virtio_rng;

#[cfg(any(test, feature = "test-utils"))]
pub mod mock;

pub use clint::{Clint, ClintError, ClintHart, ClintState, MTime};
pub use gicv2::{CurrentCpu, GicCpuLines, GicCpuMmio, GicDistMmio, GicError, GicV2, GicV2State, GicV2m};
pub use gicv3::{GicCpuInterface, GicV3, GicV3DistMmio, GicV3RedistMmio, GicV3State, IccReg};
pub use goldfish_rtc::{GoldfishRtc, GoldfishRtcState};
pub use pl011::{Pl011, Pl011State};
pub use pl031::{Pl031, Pl031State};
pub use pl061::{Pl061, Pl061State};
pub use plic::{Plic, PlicError, PlicInput, PlicState};
pub use sifive_test::{PowerLatch, PowerRequest, SifiveTest};
pub use uart16550::{Uart16550, UartState};
