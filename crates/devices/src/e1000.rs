//! Intel 82540EM Gigabit Ethernet controller ("e1000"), a PCI function written from Intel's
//! *PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's Manual* (8254x SDM),
//! over a [`NetBackend`].
//!
//! ```text
//!   config space   8086:100e, class 02 00 00, INTA
//!   BAR 0 (128 KiB, 32-bit memory)  the register file (names and offsets as in SDM ch. 13)
//!   BAR 1 (64 bytes, I/O)           IOADDR (0x00) selects a register, IODATA (0x04) accesses it
//!
//!   guest RAM                       the device (on `process`)
//!   ┌─────────────────┐  RDBA/RDLEN  ┌──────────────────────────────────────────────────┐
//!   │ RX ring (16 B)  │◀─────────────│ backend frame → filter (RA/MTA/BAM) → VLAN strip │
//!   │  RDH ... RDT    │              │ → pad → +FCS → buffers, status DD/EOP → ICR.RXT0 │
//!   ├─────────────────┤  TDBA/TDLEN  ├──────────────────────────────────────────────────┤
//!   │ TX ring (16 B)  │─────────────▶│ legacy / context / data descriptors → checksums, │
//!   │  TDH ... TDT    │              │ TSO segments, VLAN tag → backend; DD → ICR.TXDW  │
//!   └─────────────────┘              └──────────────────────────────────────────────────┘
//! ```
//!
//! - EEPROM: 64 words (a 93C46), read by bit-banging Microwire through EECD (what Linux's e1000
//!   driver does on this part) or through EERD. Words 0–2 are the MAC address, 0x0B–0x0E the
//!   PCI IDs, and word 0x3F makes the sum of all 64 words 0xBABA.
//! - PHY: an M88E1011 at MDIO address 1 behind MDIC; the link is always up at 1000 Mb/s full
//!   duplex (the backend is the cable). Link-status-change interrupts come when the driver sets
//!   CTRL.SLU, resets the PHY or restarts auto-negotiation.
//! - Interrupts: INTx is high while `ICR & IMS` is non-zero; reading ICR clears it. Interrupt
//!   moderation (ITR, RDTR, RADV, TIDV, TADV) is stored but not applied: causes are raised at
//!   once, which the SDM allows (the timers only delay).
//! - Receive: address filters (RAL/RAH, the multicast table, broadcast, promiscuous bits, the
//!   VLAN filter table), legacy descriptors, buffer sizes from RCTL.BSIZE/BSEX, frames spanning
//!   several buffers, long-packet check (RCTL.LPE), VLAN tags stripped into the descriptor with
//!   CTRL.VME, the FCS appended unless RCTL.SECRC, IPv4 and TCP/UDP checksums verified when
//!   RXCSUM asks. A frame that finds too few free descriptors
//!   waits in the device until the driver moves RDT; with the receiver disabled frames are
//!   dropped, as on the wire.
//! - Transmit: legacy descriptors (with CSO/CSS insertion), TCP/IP context descriptors and data
//!   descriptors with IP/TCP/UDP checksum insertion and TCP segmentation (TSO), which Linux
//!   uses on this part. A TSO context and a plain checksum context are kept apart, as the driver
//!   interleaves them.
//!
//! Every value the guest controls is checked: a ring whose length, head or tail is out of range
//! is not processed, a descriptor or buffer outside RAM drops that frame (receive buffers are
//! then returned with RXE), unknown registers read as zero and ignore writes — each logged
//! through the rate-limited [`guest_error!`]. Each `process` handles at most one ring's worth
//! of descriptors.

use crate::pci::{BarKind, ConfigSpace, PciFunction};
use crate::virtio_net::NetBackend;
use mimic_core::{guest_error, Size};
use mimic_memory::GuestMemory;

pub const VENDOR_ID: u16 = 0x8086;
pub const DEVICE_ID: u16 = 0x100e;
/// Intel's subsystem ID for the PRO/1000 MT Desktop adapter.
const SUBSYSTEM_ID: u16 = 0x001e;
const REVISION: u8 = 3;
const CLASS_ETHERNET: u32 = 0x02_00_00;
const COMMAND_BUS_MASTER: u16 = 1 << 2;

pub const MMIO_BAR: usize = 0;
pub const MMIO_SIZE: u64 = 0x2_0000;
pub const IO_BAR: usize = 1;
pub const IO_SIZE: u64 = 0x40;

/// Register offsets in BAR 0 (SDM table 13-2).
pub mod reg {
    pub const CTRL: u64 = 0x0000;
    pub const STATUS: u64 = 0x0008;
    pub const EECD: u64 = 0x0010;
    pub const EERD: u64 = 0x0014;
    pub const MDIC: u64 = 0x0020;
    pub const ICR: u64 = 0x00c0;
    pub const ICS: u64 = 0x00c8;
    pub const IMS: u64 = 0x00d0;
    pub const IMC: u64 = 0x00d8;
    pub const RCTL: u64 = 0x0100;
    pub const TCTL: u64 = 0x0400;
    pub const RDBAL: u64 = 0x2800;
    pub const RDBAH: u64 = 0x2804;
    pub const RDLEN: u64 = 0x2808;
    pub const RDH: u64 = 0x2810;
    pub const RDT: u64 = 0x2818;
    pub const TDBAL: u64 = 0x3800;
    pub const TDBAH: u64 = 0x3804;
    pub const TDLEN: u64 = 0x3808;
    pub const TDH: u64 = 0x3810;
    pub const TDT: u64 = 0x3818;
    pub const STATS: u64 = 0x4000;
    pub const STATS_END: u64 = 0x4100;
    pub const RXCSUM: u64 = 0x5000;
    pub const MTA: u64 = 0x5200;
    pub const RA: u64 = 0x5400;
    /// 16 receive addresses, each a RAL/RAH pair.
    pub const RA_END: u64 = 0x5480;
    pub const VFTA: u64 = 0x5600;
    pub const VFTA_END: u64 = 0x5800;
    pub const VET: u64 = 0x0038;
}

/// Statistics registers this model counts (offsets from [`reg::STATS`]); the rest of the block
/// reads as zero. All clear on read.
mod stat {
    pub const ROC: usize = 0xac;
    pub const RNBC: usize = 0xa0;
    pub const GPRC: usize = 0x74;
    pub const BPRC: usize = 0x78;
    pub const MPRC: usize = 0x7c;
    pub const GPTC: usize = 0x80;
    pub const GORCL: usize = 0x88;
    pub const GOTCL: usize = 0x90;
    pub const TORL: usize = 0xc0;
    pub const TOTL: usize = 0xc8;
    pub const TPR: usize = 0xd0;
    pub const TPT: usize = 0xd4;
    pub const MPTC: usize = 0xf0;
    pub const BPTC: usize = 0xf4;
    pub const TSCTC: usize = 0xf8;
}

const CTRL_FD: u32 = 1 << 0;
pub const CTRL_SLU: u32 = 1 << 6;
const CTRL_SPEED_1000: u32 = 0b10 << 8;
const CTRL_RST: u32 = 1 << 26;
const CTRL_VME: u32 = 1 << 30;
const CTRL_PHY_RST: u32 = 1 << 31;

const STATUS_FD: u32 = 1 << 0;
const STATUS_LU: u32 = 1 << 1;
const STATUS_SPEED_1000: u32 = 0b10 << 6;
const STATUS_ASDV_1000: u32 = 0b10 << 8;

const EECD_SK: u32 = 1 << 0;
const EECD_CS: u32 = 1 << 1;
const EECD_DI: u32 = 1 << 2;
const EECD_DO: u32 = 1 << 3;
const EECD_FWE_DISABLED: u32 = 0b01 << 4;
const EECD_REQ: u32 = 1 << 6;
const EECD_GNT: u32 = 1 << 7;
const EECD_PRES: u32 = 1 << 8;
/// What the driver may write: SK, CS, DI, FWE and REQ.
const EECD_WRITABLE: u32 = EECD_SK | EECD_CS | EECD_DI | (0b11 << 4) | EECD_REQ;

const EERD_START: u32 = 1 << 0;
const EERD_DONE: u32 = 1 << 4;

const MDIC_OP_WRITE: u32 = 0b01;
const MDIC_OP_READ: u32 = 0b10;
const MDIC_READY: u32 = 1 << 28;
const MDIC_IE: u32 = 1 << 29;
const MDIC_ERROR: u32 = 1 << 30;
const PHY_ADDR: u32 = 1;

pub const ICR_TXDW: u32 = 1 << 0;
pub const ICR_TXQE: u32 = 1 << 1;
pub const ICR_LSC: u32 = 1 << 2;
pub const ICR_RXDMT0: u32 = 1 << 4;
pub const ICR_RXT0: u32 = 1 << 7;
pub const ICR_MDAC: u32 = 1 << 9;
/// The causes the 82540EM has (bits 0–9, 11–16).
const ICR_VALID: u32 = 0x0001_fbff;

pub const RCTL_EN: u32 = 1 << 1;
const RCTL_UPE: u32 = 1 << 3;
const RCTL_MPE: u32 = 1 << 4;
const RCTL_LPE: u32 = 1 << 5;
const RCTL_BAM: u32 = 1 << 15;
const RCTL_VFE: u32 = 1 << 18;
const RCTL_BSEX: u32 = 1 << 25;
pub const RCTL_SECRC: u32 = 1 << 26;

pub const TCTL_EN: u32 = 1 << 1;
const TCTL_PSP: u32 = 1 << 3;

const RXCSUM_IPOFL: u32 = 1 << 8;
const RXCSUM_TUOFL: u32 = 1 << 9;
const RAH_AV: u32 = 1 << 31;

/// Receive descriptor status and error bits (SDM 3.2.3).
pub const RXD_STAT_DD: u8 = 1 << 0;
pub const RXD_STAT_EOP: u8 = 1 << 1;
const RXD_STAT_IXSM: u8 = 1 << 2;
const RXD_STAT_VP: u8 = 1 << 3;
const RXD_STAT_TCPCS: u8 = 1 << 5;
const RXD_STAT_IPCS: u8 = 1 << 6;
const RXD_ERR_TCPE: u8 = 1 << 5;
const RXD_ERR_IPE: u8 = 1 << 6;
pub const RXD_ERR_RXE: u8 = 1 << 7;

/// Transmit descriptor command bits (legacy CMD and data DCMD share them, SDM 3.3).
pub const TXD_CMD_EOP: u8 = 1 << 0;
pub const TXD_CMD_IC: u8 = 1 << 2;
pub const TXD_CMD_TSE: u8 = 1 << 2;
pub const TXD_CMD_RS: u8 = 1 << 3;
pub const TXD_CMD_DEXT: u8 = 1 << 5;
pub const TXD_CMD_VLE: u8 = 1 << 6;
const TXD_STAT_DD: u8 = 1 << 0;
pub const TXD_DTYP_CONTEXT: u8 = 0;
pub const TXD_DTYP_DATA: u8 = 1;
/// Context TUCMD bits.
pub const TUCMD_TCP: u8 = 1 << 0;
pub const TUCMD_IP: u8 = 1 << 1;
pub const TUCMD_TSE: u8 = 1 << 2;
/// Data descriptor POPTS bits.
pub const POPTS_IXSM: u8 = 1 << 0;
pub const POPTS_TXSM: u8 = 1 << 1;

const DESC_LEN: u64 = 16;
/// RDLEN/TDLEN keep bits 19:7 (a multiple of 128 bytes, at most 64 Ki descriptors).
const RING_LEN_MASK: u32 = 0x000f_ff80;
const EEPROM_WORDS: usize = 64;
const EEPROM_ADDR_BITS: u32 = 6;
const EEPROM_READ_OPCODE: u32 = 0b110;
pub const EEPROM_CHECKSUM: u16 = 0xbaba;
/// Frames are padded to this before the FCS (64 bytes on the wire).
const MIN_FRAME: usize = 60;
/// The longest frame without RCTL.LPE: 1518 bytes with FCS, plus a VLAN tag.
const MAX_NORMAL_FRAME: usize = 1522;
/// The longest frame accepted at all (the largest receive buffer).
const MAX_LONG_FRAME: usize = 16384;
/// A transmit packet (TSO header + payload) is at most this long; longer ones are dropped.
const MAX_TX_PACKET: usize = 256 * 1024;
const ETH_P_IP: u16 = 0x0800;

/// Plain registers: they hold what the driver writes and act through other registers or not
/// at all here. (name, offset, writable bits, reset value).
const PLAIN: &[(&str, u64, u32, u32)] = &[
    ("CTRL_EXT", 0x0018, 0xffff_ffff, 0),
    ("FLA", 0x001c, 0, 0),
    ("FCAL", 0x0028, 0xffff_ffff, 0),
    ("FCAH", 0x002c, 0x0000_ffff, 0),
    ("FCT", 0x0030, 0x0000_ffff, 0),
    ("VET", reg::VET, 0x0000_ffff, 0x8100),
    ("ITR", 0x00c4, 0x0000_ffff, 0),
    ("FCTTV", 0x0170, 0x0000_ffff, 0),
    ("TXCW", 0x0178, 0xc000_ffff, 0),
    ("RXCW", 0x0180, 0, 0),
    ("LEDCTL", 0x0e00, 0xffff_ffff, 0x0706_8302),
    ("PBA", 0x1000, 0x0000_ffff, 0x30),
    ("FCRTL", 0x2160, 0x8000_fff8, 0),
    ("FCRTH", 0x2168, 0x0000_fff8, 0),
    ("RDFH", 0x2410, 0x1fff, 0),
    ("RDFT", 0x2418, 0x1fff, 0),
    ("RDFHS", 0x2420, 0x1fff, 0),
    ("RDFTS", 0x2428, 0x1fff, 0),
    ("RDFPC", 0x2430, 0x1fff, 0),
    ("RDTR", 0x2820, 0x8000_ffff, 0),
    ("RXDCTL", 0x2828, 0x013f_3f3f, 0x0001_0000),
    ("RADV", 0x282c, 0x0000_ffff, 0),
    ("RSRPD", 0x2c00, 0x0000_0fff, 0),
    ("TIPG", 0x0410, 0x3fff_ffff, 0),
    ("AIFS", 0x0458, 0x0000_ffff, 0),
    ("TDFH", 0x3410, 0x1fff, 0),
    ("TDFT", 0x3418, 0x1fff, 0),
    ("TDFHS", 0x3420, 0x1fff, 0),
    ("TDFTS", 0x3428, 0x1fff, 0),
    ("TDFPC", 0x3430, 0x1fff, 0),
    ("TIDV", 0x3820, 0x0000_ffff, 0),
    ("TXDCTL", 0x3828, 0x017f_3f3f, 0x0001_0000),
    ("TADV", 0x382c, 0x0000_ffff, 0),
    ("TSPMT", 0x3830, 0xffff_ffff, 0x0100_0400),
    ("RXCSUM", reg::RXCSUM, 0x0000_03ff, 0x0000_0300),
    ("WUC", 0x5800, 0x0000_000f, 0),
    ("WUFC", 0x5808, 0x0000_00ff, 0),
    ("WUS", 0x5810, 0, 0),
    ("MANC", 0x5820, 0xffff_ffff, 0),
    ("IPAV", 0x5838, 0x0001_000f, 0),
    ("WUPL", 0x5900, 0x0000_0fff, 0),
];

fn plain_index(offset: u64) -> Option<usize> {
    PLAIN.iter().position(|p| p.1 == offset)
}

/// PHY registers (IEEE 802.3 clause 22 and the M88E1011's own), reset values.
mod phy {
    pub const CTRL: usize = 0;
    pub const STATUS: usize = 1;
    pub const ID1: usize = 2;
    pub const ID2: usize = 3;
    pub const AUTONEG_ADV: usize = 4;
    pub const LP_ABILITY: usize = 5;
    pub const AUTONEG_EXP: usize = 6;
    pub const GBIT_CTRL: usize = 9;
    pub const GBIT_STATUS: usize = 10;
    pub const EXT_STATUS: usize = 15;
    pub const M88_SPEC_CTRL: usize = 16;
    pub const M88_SPEC_STATUS: usize = 17;
    pub const M88_EXT_SPEC_CTRL: usize = 20;

    pub const CTRL_RESET: u16 = 1 << 15;
    pub const CTRL_RESTART_AN: u16 = 1 << 9;
    /// Registers that ignore writes.
    pub const READ_ONLY: &[usize] =
        &[STATUS, ID1, ID2, LP_ABILITY, AUTONEG_EXP, GBIT_STATUS, EXT_STATUS, M88_SPEC_STATUS];

    pub fn reset_values() -> [u16; 32] {
        let mut r = [0u16; 32];
        // Auto-negotiation on, full duplex, 1000 Mb/s selected.
        r[CTRL] = 0x1140;
        // 10/100 half and full, extended status, preamble suppression, AN complete, AN able,
        // link up, extended capabilities.
        r[STATUS] = 0x796d;
        // Marvell OUI, M88E1011 model: what Linux's e1000 expects on an 82540.
        r[ID1] = 0x0141;
        r[ID2] = 0x0c20;
        r[AUTONEG_ADV] = 0x01e1;
        // The partner: acknowledged, pause, 10/100 half and full.
        r[LP_ABILITY] = 0x45e1;
        r[AUTONEG_EXP] = 0x0001;
        r[GBIT_CTRL] = 0x0300;
        // Local and remote receivers fine, partner 1000BASE-T half and full.
        r[GBIT_STATUS] = 0x3c00;
        r[EXT_STATUS] = 0x3000;
        r[M88_SPEC_CTRL] = 0x0068;
        // 1000 Mb/s, full duplex, speed and duplex resolved, link up.
        r[M88_SPEC_STATUS] = 0xac00;
        r[M88_EXT_SPEC_CTRL] = 0x0c60;
        r
    }
}

/// Where the Microwire EEPROM interface is in a transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Microwire {
    /// Rising SK edges since CS went high.
    pub edges: u32,
    /// Opcode and address bits shifted in so far.
    pub command: u32,
    /// The word being shifted out (a READ) and how many of its bits have gone.
    pub reading: Option<(usize, u32)>,
    pub data_out: bool,
}

/// A TCP/IP context descriptor's fields (SDM 3.3.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxContext {
    pub ipcss: u8,
    pub ipcso: u8,
    pub ipcse: u16,
    pub tucss: u8,
    pub tucso: u8,
    pub tucse: u16,
    pub paylen: u32,
    pub tucmd: u8,
    pub hdrlen: u8,
    pub mss: u16,
}

/// A packet being gathered from transmit descriptors up to EOP.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxPacket {
    pub data: Vec<u8>,
    /// Whether the packet has its first descriptor (whose options apply to all of it).
    pub started: bool,
    pub extended: bool,
    pub tse: bool,
    pub popts: u8,
    /// Too long or a buffer outside RAM: the rest is skipped up to EOP.
    pub dropping: bool,
}

/// Everything the guest can observe, for snapshots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct E1000State {
    pub ctrl: u32,
    pub eecd: u32,
    pub eerd: u32,
    pub mdic: u32,
    pub icr: u32,
    pub ims: u32,
    pub rctl: u32,
    pub tctl: u32,
    pub rdba: u64,
    pub rdlen: u32,
    pub rdh: u32,
    pub rdt: u32,
    pub tdba: u64,
    pub tdlen: u32,
    pub tdh: u32,
    pub tdt: u32,
    pub ra: [u32; 32],
    pub mta: [u32; 128],
    pub vfta: [u32; 128],
    /// The statistics block, one counter per 32-bit register.
    pub stats: [u32; 64],
    pub plain: Vec<u32>,
    pub phy: [u16; 32],
    pub eeprom: [u16; EEPROM_WORDS],
    pub microwire: Microwire,
    /// The register IOADDR selects for IODATA.
    pub ioaddr: u32,
    pub tx_ctx: TxContext,
    pub tso_ctx: TxContext,
    pub tx_packet: TxPacket,
    /// The driver moved TDT (or enabled the transmitter) since the ring was last walked.
    pub tx_pending: bool,
}

impl E1000State {
    /// Power-on state for a NIC with address `mac`.
    pub fn new(mac: [u8; 6]) -> Self {
        Self::power_on(eeprom_image(mac))
    }

    /// Registers at their defaults, with the receive address loaded from the EEPROM, as the
    /// hardware's auto-read does after power-on and after CTRL.RST.
    fn power_on(eeprom: [u16; EEPROM_WORDS]) -> Self {
        let w = |i: usize| u32::from(eeprom[i]);
        let mut ra = [0; 32];
        ra[0] = w(0) | w(1) << 16;
        ra[1] = w(2) | RAH_AV;
        E1000State {
            ctrl: CTRL_FD | CTRL_SLU | CTRL_SPEED_1000,
            eecd: EECD_PRES | EECD_FWE_DISABLED,
            eerd: 0,
            mdic: 0,
            icr: 0,
            ims: 0,
            rctl: 0,
            tctl: 0,
            rdba: 0,
            rdlen: 0,
            rdh: 0,
            rdt: 0,
            tdba: 0,
            tdlen: 0,
            tdh: 0,
            tdt: 0,
            ra,
            mta: [0; 128],
            vfta: [0; 128],
            stats: [0; 64],
            plain: PLAIN.iter().map(|p| p.3).collect(),
            phy: phy::reset_values(),
            eeprom,
            microwire: Microwire::default(),
            ioaddr: 0,
            tx_ctx: TxContext::default(),
            tso_ctx: TxContext::default(),
            tx_packet: TxPacket::default(),
            tx_pending: false,
        }
    }

    /// A software reset (CTRL.RST): everything but the EEPROM's contents.
    fn reset(&mut self) {
        *self = Self::power_on(self.eeprom);
    }

    fn plain(&self, offset: u64) -> u32 {
        plain_index(offset).and_then(|i| self.plain.get(i).copied()).unwrap_or(0)
    }
}

/// The EEPROM image: MAC address, PCI IDs, and the checksum word (SDM 5.6, table 5-2).
fn eeprom_image(mac: [u8; 6]) -> [u16; EEPROM_WORDS] {
    let mut e = [0u16; EEPROM_WORDS];
    for i in 0..3 {
        e[i] = u16::from_le_bytes([mac[2 * i], mac[2 * i + 1]]);
    }
    e[0x0b] = SUBSYSTEM_ID;
    e[0x0c] = VENDOR_ID;
    e[0x0d] = DEVICE_ID;
    e[0x0e] = VENDOR_ID;
    let sum = e[..EEPROM_WORDS - 1].iter().fold(0u16, |a, &w| a.wrapping_add(w));
    e[EEPROM_WORDS - 1] = EEPROM_CHECKSUM.wrapping_sub(sum);
    e
}

/// The receive buffer size RCTL selects (SDM 13.4.22); `None` for the reserved encoding.
fn rx_buffer_size(rctl: u32) -> Option<usize> {
    let bsize = (rctl >> 16) & 3;
    match (rctl & RCTL_BSEX != 0, bsize) {
        (false, n) => Some(2048 >> n),
        (true, 0) => None,
        (true, n) => Some(32768 >> n),
    }
}

/// A descriptor ring as the registers describe it, if usable: (base, entries, head, tail).
fn ring(base: u64, len: u32, head: u32, tail: u32) -> Option<(u64, u32, u32, u32)> {
    let n = len / DESC_LEN as u32;
    (n > 0 && head < n && tail < n).then_some((base, n, head, tail))
}

const fn crc32_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC32: [u32; 256] = crc32_table();

/// The Ethernet frame check sequence (IEEE 802.3 CRC-32), as sent after the frame.
pub fn fcs(frame: &[u8]) -> [u8; 4] {
    let mut c = !0u32;
    for &b in frame {
        c = CRC32[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    (!c).to_le_bytes()
}

/// The 32-bit ones'-complement accumulation of `data` as big-endian 16-bit words.
fn sum16(data: &[u8]) -> u32 {
    let mut s = 0u32;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        s = s.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
        s = (s & 0xffff) + (s >> 16);
    }
    if let [last] = chunks.remainder() {
        s += u32::from(*last) << 8;
    }
    s
}

fn fold(mut s: u32) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// Store the ones'-complement checksum of `buf[start..=end]` (plus `extra`) at `at`, as the
/// offload engines do; `end == 0` means the end of the packet. Bad offsets leave the packet as
/// it is.
fn insert_checksum(buf: &mut [u8], start: usize, at: usize, end: usize, extra: u32) {
    let last = if end == 0 { buf.len().saturating_sub(1) } else { end.min(buf.len().saturating_sub(1)) };
    if start > last || at + 2 > buf.len() {
        guest_error!(start, at, end, len = buf.len(), "e1000: checksum offsets outside the packet, not inserted");
        return;
    }
    let sum = fold(sum16(&buf[start..=last]) + extra);
    buf[at..at + 2].copy_from_slice(&(!sum).to_be_bytes());
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn put_be16(b: &mut [u8], at: usize, v: u16) {
    if let Some(d) = b.get_mut(at..at + 2) {
        d.copy_from_slice(&v.to_be_bytes());
    }
}

/// Receive checksum results for an untagged frame: (status bits, error bits).
fn rx_checksum(frame: &[u8], rxcsum: u32) -> (u8, u8) {
    if rxcsum & (RXCSUM_IPOFL | RXCSUM_TUOFL) == 0 {
        return (RXD_STAT_IXSM, 0);
    }
    if frame.len() < 14 + 20 || be16(frame, 12) != ETH_P_IP || frame[14] >> 4 != 4 {
        return (0, 0);
    }
    let ihl = usize::from(frame[14] & 0xf) * 4;
    let total = usize::from(be16(frame, 16));
    if ihl < 20 || total < ihl || 14 + total > frame.len() {
        return (0, 0);
    }
    let ip = &frame[14..14 + total];
    let (mut status, mut errors) = (0, 0);
    if rxcsum & RXCSUM_IPOFL != 0 {
        status |= RXD_STAT_IPCS;
        if fold(sum16(&ip[..ihl])) != 0xffff {
            errors |= RXD_ERR_IPE;
        }
    }
    let fragment = be16(ip, 6) & 0x3fff != 0;
    let proto = ip[9];
    if rxcsum & RXCSUM_TUOFL != 0 && !fragment && (proto == 6 || proto == 17) {
        let l4 = &ip[ihl..];
        let csum_at = if proto == 6 { 16 } else { 6 };
        if l4.len() >= csum_at + 2 {
            status |= RXD_STAT_TCPCS;
            let udp_unchecked = proto == 17 && be16(l4, 6) == 0;
            let pseudo = sum16(&ip[12..20]) + u32::from(proto) + l4.len() as u32;
            if !udp_unchecked && fold(sum16(l4) + pseudo) != 0xffff {
                errors |= RXD_ERR_TCPE;
            }
        }
    }
    (status, errors)
}

/// The 82540EM over backend `B`.
pub struct E1000<B> {
    config: ConfigSpace,
    state: E1000State,
    backend: B,
    /// A frame taken from the backend that waits for receive descriptors.
    held: Option<Vec<u8>>,
    /// The driver has not given the receive ring more room since a frame found it full.
    rx_starved: bool,
}

impl<B> std::fmt::Debug for E1000<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("E1000")
            .field("state", &self.state)
            .field("held", &self.held.as_ref().map(Vec::len))
            .field("rx_starved", &self.rx_starved)
            .finish_non_exhaustive()
    }
}

impl<B: NetBackend> E1000<B> {
    /// A NIC whose EEPROM holds `mac`.
    pub fn new(backend: B, mac: [u8; 6]) -> Self {
        let mut config = ConfigSpace::new(VENDOR_ID, DEVICE_ID, CLASS_ETHERNET, REVISION, VENDOR_ID, SUBSYSTEM_ID);
        config.add_bar(MMIO_BAR, BarKind::Mem32, MMIO_SIZE);
        config.add_bar(IO_BAR, BarKind::Io, IO_SIZE);
        config.set_interrupt_pin(1);
        E1000 { config, state: E1000State::new(mac), backend, held: None, rx_starved: false }
    }

    pub fn state(&self) -> &E1000State {
        &self.state
    }
    pub fn set_state(&mut self, state: E1000State) {
        self.state = state;
        self.rx_starved = false;
    }
    pub fn backend(&self) -> &B {
        &self.backend
    }
    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }

    /// Read the 32-bit register at `offset` in BAR 0, with its side effects.
    pub fn read_reg(&mut self, offset: u64) -> u32 {
        let s = &mut self.state;
        match offset {
            reg::CTRL => s.ctrl,
            reg::STATUS => STATUS_FD | STATUS_LU | STATUS_SPEED_1000 | STATUS_ASDV_1000,
            reg::EECD => {
                let mut v = s.eecd;
                if v & EECD_REQ != 0 {
                    v |= EECD_GNT;
                }
                if s.microwire.data_out {
                    v |= EECD_DO;
                }
                v
            }
            reg::EERD => s.eerd,
            reg::MDIC => s.mdic,
            reg::ICR => std::mem::take(&mut s.icr),
            reg::IMS => s.ims,
            reg::RCTL => s.rctl,
            reg::TCTL => s.tctl,
            reg::RDBAL => s.rdba as u32,
            reg::RDBAH => (s.rdba >> 32) as u32,
            reg::RDLEN => s.rdlen,
            reg::RDH => s.rdh,
            reg::RDT => s.rdt,
            reg::TDBAL => s.tdba as u32,
            reg::TDBAH => (s.tdba >> 32) as u32,
            reg::TDLEN => s.tdlen,
            reg::TDH => s.tdh,
            reg::TDT => s.tdt,
            reg::STATS..reg::STATS_END => std::mem::take(&mut s.stats[((offset - reg::STATS) / 4) as usize]),
            reg::MTA..reg::RA => s.mta[((offset - reg::MTA) / 4) as usize],
            reg::RA..reg::RA_END => s.ra[((offset - reg::RA) / 4) as usize],
            reg::VFTA..reg::VFTA_END => s.vfta[((offset - reg::VFTA) / 4) as usize],
            _ => match plain_index(offset) {
                Some(_) => s.plain(offset),
                None => {
                    guest_error!(offset, "e1000: read of an unimplemented register, reads as zero");
                    0
                }
            },
        }
    }

    /// Write the 32-bit register at `offset` in BAR 0.
    pub fn write_reg(&mut self, offset: u64, v: u32) {
        let s = &mut self.state;
        match offset {
            reg::CTRL => {
                if v & CTRL_RST != 0 {
                    self.reset();
                    return;
                }
                if v & CTRL_SLU != 0 && s.ctrl & CTRL_SLU == 0 {
                    s.icr |= ICR_LSC;
                }
                if v & CTRL_PHY_RST != 0 {
                    s.phy = phy::reset_values();
                }
                s.ctrl = v;
            }
            reg::STATUS => {}
            reg::EECD => self.write_eecd(v),
            reg::EERD => {
                if v & EERD_START != 0 {
                    let addr = ((v >> 8) & 0xff) as usize;
                    let data = match s.eeprom.get(addr) {
                        Some(&w) => u32::from(w),
                        None => {
                            guest_error!(addr, "e1000: EERD read beyond the 64-word EEPROM, reads as zero");
                            0
                        }
                    };
                    s.eerd = (v & 0xff00) | EERD_DONE | data << 16;
                }
            }
            reg::MDIC => self.write_mdic(v),
            reg::ICR => s.icr &= !v,
            reg::ICS => s.icr |= v & ICR_VALID,
            reg::IMS => s.ims |= v & ICR_VALID,
            reg::IMC => s.ims &= !v,
            reg::RCTL => {
                s.rctl = v & 0x07ff_fffe;
                self.rx_starved = false;
            }
            reg::TCTL => {
                s.tctl = v & 0x03ff_fffa;
                s.tx_pending = true;
            }
            reg::RDBAL => s.rdba = (s.rdba & !0xffff_ffff) | u64::from(v & !0xf),
            reg::RDBAH => s.rdba = (s.rdba & 0xffff_ffff) | u64::from(v) << 32,
            reg::RDLEN => s.rdlen = v & RING_LEN_MASK,
            reg::RDH => s.rdh = v & 0xffff,
            reg::RDT => {
                s.rdt = v & 0xffff;
                self.rx_starved = false;
            }
            reg::TDBAL => s.tdba = (s.tdba & !0xffff_ffff) | u64::from(v & !0xf),
            reg::TDBAH => s.tdba = (s.tdba & 0xffff_ffff) | u64::from(v) << 32,
            reg::TDLEN => s.tdlen = v & RING_LEN_MASK,
            reg::TDH => s.tdh = v & 0xffff,
            reg::TDT => {
                s.tdt = v & 0xffff;
                s.tx_pending = true;
            }
            // Counters: writes are ignored (they clear on read).
            reg::STATS..reg::STATS_END => {}
            reg::MTA..reg::RA => s.mta[((offset - reg::MTA) / 4) as usize] = v,
            reg::RA..reg::RA_END => {
                let i = ((offset - reg::RA) / 4) as usize;
                // RAH keeps the address's top 16 bits, the address select and AV.
                s.ra[i] = if i % 2 == 1 { v & 0x8003_ffff } else { v };
            }
            reg::VFTA..reg::VFTA_END => s.vfta[((offset - reg::VFTA) / 4) as usize] = v,
            _ => match plain_index(offset) {
                Some(i) => {
                    let mask = PLAIN[i].2;
                    if let Some(r) = s.plain.get_mut(i) {
                        *r = (*r & !mask) | (v & mask);
                    }
                }
                None => guest_error!(offset, v, "e1000: write to an unimplemented register, ignored"),
            },
        }
    }

    fn reset(&mut self) {
        self.state.reset();
        self.held = None;
        self.rx_starved = false;
    }

    /// EECD: request/grant, and the Microwire lines the driver bit-bangs (SDM 5.5.2).
    fn write_eecd(&mut self, v: u32) {
        let s = &mut self.state;
        let old = s.eecd;
        s.eecd = (old & !EECD_WRITABLE) | (v & EECD_WRITABLE);
        let mw = &mut s.microwire;
        if v & EECD_CS == 0 {
            *mw = Microwire::default();
            return;
        }
        if old & EECD_SK != 0 || v & EECD_SK == 0 {
            return;
        }
        // A rising clock edge with chip select high: the EEPROM takes DI, or moves DO on.
        if let Some((addr, sent)) = mw.reading {
            let word = s.eeprom[addr % EEPROM_WORDS];
            mw.data_out = (word >> (15 - sent)) & 1 != 0;
            // Microwire reads run on into the next word while the clock keeps going.
            mw.reading = Some(if sent == 15 { ((addr + 1) % EEPROM_WORDS, 0) } else { (addr, sent + 1) });
            return;
        }
        mw.edges += 1;
        mw.command = (mw.command << 1) | u32::from(v & EECD_DI != 0);
        mw.data_out = false;
        if mw.edges == 3 + EEPROM_ADDR_BITS {
            let opcode = mw.command >> EEPROM_ADDR_BITS;
            let addr = (mw.command & ((1 << EEPROM_ADDR_BITS) - 1)) as usize;
            if opcode == EEPROM_READ_OPCODE {
                mw.reading = Some((addr, 0));
            } else {
                // Write, erase and enable commands: the EEPROM is read-only here.
                guest_error!(opcode, "e1000: EEPROM command other than READ, ignored");
            }
        }
    }

    /// MDIC: one PHY register access, complete at once.
    fn write_mdic(&mut self, v: u32) {
        let s = &mut self.state;
        let reg = ((v >> 16) & 0x1f) as usize;
        let phy_addr = (v >> 21) & 0x1f;
        let op = (v >> 26) & 3;
        let mut out = v & !(MDIC_READY | MDIC_ERROR);
        if phy_addr != PHY_ADDR {
            // No PHY answers at that address.
            out |= MDIC_ERROR;
        } else if op == MDIC_OP_READ {
            out = (out & !0xffff) | u32::from(s.phy[reg]);
        } else if op == MDIC_OP_WRITE {
            let data = v as u16;
            if reg == phy::CTRL {
                if data & phy::CTRL_RESET != 0 {
                    s.phy = phy::reset_values();
                }
                // Reset and restart complete at once; the link comes (back) up.
                if data & (phy::CTRL_RESET | phy::CTRL_RESTART_AN) != 0 {
                    s.icr |= ICR_LSC;
                }
                s.phy[reg] = data & !(phy::CTRL_RESET | phy::CTRL_RESTART_AN);
            } else if !phy::READ_ONLY.contains(&reg) {
                s.phy[reg] = data;
            }
        } else {
            guest_error!(op, "e1000: MDIC with a reserved opcode");
            out |= MDIC_ERROR;
        }
        s.mdic = out | MDIC_READY;
        if v & MDIC_IE != 0 {
            s.icr |= ICR_MDAC;
        }
    }

    fn mmio_read(&mut self, offset: u64, size: Size) -> u64 {
        let aligned = offset & !3;
        match size {
            Size::B4 if offset == aligned => u64::from(self.read_reg(offset)),
            Size::B8 if offset.is_multiple_of(8) => {
                u64::from(self.read_reg(offset)) | u64::from(self.read_reg(offset + 4)) << 32
            }
            Size::B1 | Size::B2 if (offset % 4) + size.bytes() <= 4 => {
                u64::from(self.read_reg(aligned) >> (8 * (offset % 4))) & ((1 << size.bits()) - 1)
            }
            _ => {
                guest_error!(offset, ?size, "e1000: misaligned register read, reads as zero");
                0
            }
        }
    }

    fn mmio_write(&mut self, offset: u64, size: Size, value: u64) {
        match size {
            Size::B4 if offset.is_multiple_of(4) => self.write_reg(offset, value as u32),
            Size::B8 if offset.is_multiple_of(8) => {
                self.write_reg(offset, value as u32);
                self.write_reg(offset + 4, (value >> 32) as u32);
            }
            _ => guest_error!(offset, ?size, "e1000: register write narrower than 32 bits or misaligned, ignored"),
        }
    }

    fn count(&mut self, stat: usize, by: u64) {
        let i = stat / 4;
        let v = u64::from(self.state.stats[i]).saturating_add(by);
        self.state.stats[i] = v.min(u64::from(u32::MAX)) as u32;
    }

    /// Add to a 64-bit counter kept as low and high registers.
    fn count64(&mut self, low: usize, by: u64) {
        let i = low / 4;
        let v = (u64::from(self.state.stats[i + 1]) << 32 | u64::from(self.state.stats[i])).wrapping_add(by);
        self.state.stats[i] = v as u32;
        self.state.stats[i + 1] = (v >> 32) as u32;
    }

    // ---- receive ----------------------------------------------------------------------------

    /// Whether the receive filters take a frame addressed to `dst` (SDM 13.4.22, 13.5.1).
    fn accepts(&self, dst: &[u8]) -> bool {
        let s = &self.state;
        if dst.iter().all(|&b| b == 0xff) {
            return s.rctl & RCTL_BAM != 0 || s.rctl & RCTL_MPE != 0;
        }
        if dst[0] & 1 != 0 {
            if s.rctl & RCTL_MPE != 0 {
                return true;
            }
            // The multicast offset RCTL.MO picks which 12 of the address's last bits hash.
            let shift = [4, 3, 2, 0][((s.rctl >> 12) & 3) as usize];
            let hash = ((u32::from(dst[4]) >> shift) | (u32::from(dst[5]) << (8 - shift))) & 0xfff;
            return s.mta[(hash >> 5) as usize] & (1 << (hash & 31)) != 0;
        }
        if s.rctl & RCTL_UPE != 0 {
            return true;
        }
        s.ra.chunks_exact(2).any(|p| {
            let addr = [p[0].to_le_bytes(), p[1].to_le_bytes()];
            p[1] & RAH_AV != 0 && dst[..4] == addr[0] && dst[4..] == addr[1][..2]
        })
    }

    /// With RCTL.VFE, a tagged frame passes only if its VLAN's bit is set in VFTA.
    fn vlan_accepts(&self, frame: &[u8]) -> bool {
        let s = &self.state;
        if s.rctl & RCTL_VFE == 0 || frame.len() < 16 || be16(frame, 12) != s.plain(reg::VET) as u16 {
            return true;
        }
        let vid = usize::from(be16(frame, 14) & 0xfff);
        s.vfta[vid >> 5] & (1 << (vid & 31)) != 0
    }

    /// Free receive descriptors (owned by the hardware), if the ring is usable.
    fn rx_free(&self) -> Option<u32> {
        let s = &self.state;
        let (_, n, h, t) = ring(s.rdba, s.rdlen, s.rdh, s.rdt)?;
        Some((t + n - h) % n)
    }

    fn receive(&mut self, mem: &mut dyn GuestMemory) {
        let n_max = (self.state.rdlen / DESC_LEN as u32).max(1);
        for _ in 0..n_max {
            let frame = match self.held.take() {
                Some(f) => f,
                None if self.backend.has_frames() => match self.backend.recv() {
                    Some(f) => f,
                    None => return,
                },
                None => return,
            };
            if self.state.rctl & RCTL_EN == 0 {
                // The receiver is off: the frame passes by on the wire.
                continue;
            }
            if frame.len() < 14 || !self.accepts(&frame[..6]) || !self.vlan_accepts(&frame) {
                continue;
            }
            if !self.deliver(frame, mem) {
                return;
            }
        }
    }

    /// Put one accepted frame into the ring. False when it could not (the frame waits for room,
    /// or the ring is broken) and receiving should stop until the driver acts.
    fn deliver(&mut self, frame: Vec<u8>, mem: &mut dyn GuestMemory) -> bool {
        let s = &self.state;
        let (rctl, ctrl, rxcsum, vet) = (s.rctl, s.ctrl, s.plain(reg::RXCSUM), s.plain(reg::VET) as u16);
        let Some(bufsize) = rx_buffer_size(rctl) else {
            guest_error!(rctl, "e1000: reserved receive buffer size, frame dropped");
            return true;
        };
        // VLAN: with CTRL.VME a tagged frame gives its tag to the descriptor's special field.
        let mut data = frame.clone();
        let mut special = 0u16;
        let mut status = 0u8;
        if ctrl & CTRL_VME != 0 && data.len() >= 18 && be16(&data, 12) == vet {
            special = be16(&data, 14);
            data.drain(12..16);
            status |= RXD_STAT_VP;
        }
        let limit = if rctl & RCTL_LPE != 0 { MAX_LONG_FRAME } else { MAX_NORMAL_FRAME };
        if data.len() + 4 > limit {
            self.count(stat::ROC, 1);
            guest_error!(len = data.len(), "e1000: frame longer than RCTL allows, dropped");
            return true;
        }
        let (csum_status, errors) = rx_checksum(&data, rxcsum);
        status |= csum_status;
        // The packet checksum: the ones'-complement sum from RXCSUM.PCSS on.
        let csum = data.get((rxcsum & 0xff) as usize..).map_or(0, |d| fold(sum16(d)));
        let bcast = data[..6].iter().all(|&b| b == 0xff);
        let mcast = !bcast && data[0] & 1 != 0;
        if data.len() < MIN_FRAME {
            data.resize(MIN_FRAME, 0);
        }
        let wire_len = data.len() as u64 + 4;
        if rctl & RCTL_SECRC == 0 {
            let crc = fcs(&data);
            data.extend_from_slice(&crc);
        }
        let needed = data.len().div_ceil(bufsize) as u32;
        let free = match self.rx_free() {
            Some(free) => free,
            None => {
                let s = &self.state;
                guest_error!(
                    rdlen = s.rdlen,
                    rdh = s.rdh,
                    rdt = s.rdt,
                    "e1000: receive ring length, head or tail out of range, not used"
                );
                0
            }
        };
        let n = self.state.rdlen / DESC_LEN as u32;
        if n > 0 && needed >= n {
            // Even a ring the driver filled completely (n - 1 descriptors) could not hold it.
            guest_error!(len = data.len(), n, "e1000: frame needs more buffers than the receive ring has, dropped");
            return true;
        }
        if free < needed {
            self.count(stat::RNBC, 1);
            self.held = Some(frame);
            self.rx_starved = true;
            return false;
        }
        let base = self.state.rdba;
        let chunks = data.len().div_ceil(bufsize);
        for (i, chunk) in data.chunks(bufsize).enumerate() {
            let at = base.wrapping_add(u64::from(self.state.rdh) * DESC_LEN);
            let mut desc = [0u8; 16];
            if mem.read(at, &mut desc).is_err() {
                guest_error!(at, "e1000: receive descriptor outside RAM, frame dropped");
                self.rx_starved = true;
                return false;
            }
            let buf = u64::from_le_bytes(desc[..8].try_into().unwrap_or_default());
            let last = i + 1 == chunks;
            let mut wb_status = RXD_STAT_DD;
            let mut wb_errors = 0;
            if mem.write(buf, chunk).is_err() {
                guest_error!(buf, "e1000: receive buffer outside RAM, returned with RXE");
                wb_errors |= RXD_ERR_RXE;
            }
            if last {
                wb_status |= RXD_STAT_EOP | status;
                wb_errors |= errors;
            }
            let mut wb = [0u8; 8];
            wb[..2].copy_from_slice(&(chunk.len() as u16).to_le_bytes());
            wb[2..4].copy_from_slice(&(if last { csum } else { 0 }).to_le_bytes());
            wb[4] = wb_status;
            wb[5] = wb_errors;
            wb[6..8].copy_from_slice(&(if last { special } else { 0 }).to_le_bytes());
            if mem.write(at + 8, &wb).is_err() {
                guest_error!(at, "e1000: receive descriptor write-back outside RAM");
            }
            self.state.rdh = (self.state.rdh + 1) % n;
        }
        self.count(stat::GPRC, 1);
        self.count(stat::TPR, 1);
        self.count64(stat::GORCL, wire_len);
        self.count64(stat::TORL, wire_len);
        if bcast {
            self.count(stat::BPRC, 1);
        } else if mcast {
            self.count(stat::MPRC, 1);
        }
        self.state.icr |= ICR_RXT0;
        // RDMTS: say so when the free descriptors fall to 1/2, 1/4 or 1/8 of the ring.
        let threshold = n >> (1 + ((rctl >> 8) & 3)).min(3);
        if self.rx_free().is_some_and(|f| f <= threshold) {
            self.state.icr |= ICR_RXDMT0;
        }
        true
    }

    // ---- transmit ---------------------------------------------------------------------------

    fn transmit(&mut self, mem: &mut dyn GuestMemory) {
        let s = &self.state;
        if s.tctl & TCTL_EN == 0 {
            return;
        }
        let Some((base, n, _, _)) = ring(s.tdba, s.tdlen, s.tdh, s.tdt) else {
            if s.tdh != s.tdt || s.tdlen != 0 {
                guest_error!(
                    tdlen = s.tdlen,
                    tdh = s.tdh,
                    tdt = s.tdt,
                    "e1000: transmit ring length, head or tail out of range, not used"
                );
            }
            return;
        };
        let mut wrote_back = false;
        for _ in 0..n {
            if self.state.tdh == self.state.tdt {
                break;
            }
            let at = base.wrapping_add(u64::from(self.state.tdh) * DESC_LEN);
            let mut d = [0u8; 16];
            if mem.read(at, &mut d).is_err() {
                guest_error!(at, "e1000: transmit descriptor outside RAM, ring stopped");
                return;
            }
            let cmd = d[11];
            if cmd & TXD_CMD_DEXT == 0 {
                self.tx_legacy(&d, mem);
            } else {
                match (d[10] >> 4) & 0xf {
                    TXD_DTYP_CONTEXT => self.tx_context(&d),
                    TXD_DTYP_DATA => self.tx_data(&d, mem),
                    dtyp => guest_error!(dtyp, "e1000: transmit descriptor of unknown type, skipped"),
                }
            }
            if cmd & TXD_CMD_RS != 0 {
                if mem.write(at + 12, &[d[12] | TXD_STAT_DD]).is_err() {
                    guest_error!(at, "e1000: transmit descriptor write-back outside RAM");
                }
                wrote_back = true;
            }
            self.state.tdh = (self.state.tdh + 1) % n;
        }
        if wrote_back {
            self.state.icr |= ICR_TXDW;
        }
        if self.state.tdh == self.state.tdt {
            self.state.icr |= ICR_TXQE;
        }
    }

    /// Append a descriptor's buffer to the packet being gathered.
    fn gather(&mut self, addr: u64, len: usize, mem: &mut dyn GuestMemory) {
        let p = &mut self.state.tx_packet;
        if p.dropping || len == 0 {
            return;
        }
        if p.data.len() + len > MAX_TX_PACKET {
            guest_error!(len = p.data.len() + len, "e1000: transmit packet too long, dropped");
            p.dropping = true;
            return;
        }
        let start = p.data.len();
        p.data.resize(start + len, 0);
        if mem.read(addr, &mut p.data[start..]).is_err() {
            guest_error!(addr, len, "e1000: transmit buffer outside RAM, packet dropped");
            p.dropping = true;
        }
    }

    fn tx_legacy(&mut self, d: &[u8; 16], mem: &mut dyn GuestMemory) {
        let addr = u64::from_le_bytes(d[..8].try_into().unwrap_or_default());
        let len = usize::from(u16::from_le_bytes([d[8], d[9]]));
        let (cso, cmd, css) = (usize::from(d[10]), d[11], usize::from(d[13]));
        self.state.tx_packet.started = true;
        self.gather(addr, len, mem);
        if cmd & TXD_CMD_EOP == 0 {
            return;
        }
        let mut p = std::mem::take(&mut self.state.tx_packet);
        if p.dropping {
            return;
        }
        if cmd & TXD_CMD_IC != 0 {
            insert_checksum(&mut p.data, css, cso, 0, 0);
        }
        let special = u16::from_le_bytes([d[14], d[15]]);
        self.send(p.data, cmd & TXD_CMD_VLE != 0, special);
    }

    fn tx_context(&mut self, d: &[u8; 16]) {
        let c = TxContext {
            ipcss: d[0],
            ipcso: d[1],
            ipcse: u16::from_le_bytes([d[2], d[3]]),
            tucss: d[4],
            tucso: d[5],
            tucse: u16::from_le_bytes([d[6], d[7]]),
            paylen: u32::from_le_bytes([d[8], d[9], d[10], 0]) & 0xf_ffff,
            tucmd: d[11],
            hdrlen: d[13],
            mss: u16::from_le_bytes([d[14], d[15]]),
        };
        if c.tucmd & TUCMD_TSE != 0 {
            self.state.tso_ctx = c;
        } else {
            self.state.tx_ctx = c;
        }
    }

    fn tx_data(&mut self, d: &[u8; 16], mem: &mut dyn GuestMemory) {
        let addr = u64::from_le_bytes(d[..8].try_into().unwrap_or_default());
        let len = (u32::from_le_bytes([d[8], d[9], d[10], 0]) & 0xf_ffff) as usize;
        let dcmd = d[11];
        let p = &mut self.state.tx_packet;
        // The first descriptor's options hold for the whole packet.
        if !p.started {
            p.started = true;
            p.extended = true;
            p.tse = dcmd & TXD_CMD_TSE != 0;
            p.popts = d[13];
        }
        self.gather(addr, len, mem);
        if dcmd & TXD_CMD_EOP == 0 {
            return;
        }
        let p = std::mem::take(&mut self.state.tx_packet);
        if p.dropping {
            return;
        }
        let vlan = dcmd & TXD_CMD_VLE != 0;
        let special = u16::from_le_bytes([d[14], d[15]]);
        if p.tse {
            self.segment(p, vlan, special);
        } else {
            let mut data = p.data;
            let c = self.state.tx_ctx;
            if p.popts & POPTS_IXSM != 0 {
                insert_checksum(&mut data, c.ipcss.into(), c.ipcso.into(), c.ipcse.into(), 0);
            }
            if p.popts & POPTS_TXSM != 0 {
                insert_checksum(&mut data, c.tucss.into(), c.tucso.into(), c.tucse.into(), 0);
            }
            self.send(data, vlan, special);
        }
    }

    /// TCP segmentation (SDM 8.x "TCP segmentation"): the header is repeated before every MSS
    /// bytes of payload, with the IP length and ID, TCP sequence number and flags, and the
    /// checksums redone for each segment.
    fn segment(&mut self, p: TxPacket, vlan: bool, special: u16) {
        let c = self.state.tso_ctx;
        let (hdrlen, mss) = (usize::from(c.hdrlen), usize::from(c.mss));
        let (ipcss, tucss) = (usize::from(c.ipcss), usize::from(c.tucss));
        let ipv4 = c.tucmd & TUCMD_IP != 0;
        let tcp = c.tucmd & TUCMD_TCP != 0;
        let fields_fit = ipcss + if ipv4 { 12 } else { 6 } <= hdrlen && tucss + if tcp { 14 } else { 6 } <= hdrlen;
        if mss == 0 || hdrlen > p.data.len() || !fields_fit {
            guest_error!(hdrlen, mss, len = p.data.len(), "e1000: TSO context does not fit the packet, dropped");
            return;
        }
        let (header, payload) = p.data.split_at(hdrlen);
        let seq =
            u32::from_be_bytes(header.get(tucss + 4..tucss + 8).and_then(|b| b.try_into().ok()).unwrap_or([0; 4]));
        let ip_id = be16(header, ipcss + 4);
        let segments = payload.len().div_ceil(mss).max(1);
        for i in 0..segments {
            let chunk = &payload[(i * mss).min(payload.len())..((i + 1) * mss).min(payload.len())];
            let last = i + 1 == segments;
            let len = hdrlen + chunk.len();
            let mut seg = Vec::with_capacity(hdrlen + chunk.len());
            seg.extend_from_slice(header);
            seg.extend_from_slice(chunk);
            if ipv4 {
                put_be16(&mut seg, ipcss + 2, (len - ipcss) as u16);
                put_be16(&mut seg, ipcss + 4, ip_id.wrapping_add(i as u16));
            } else {
                put_be16(&mut seg, ipcss + 4, (len - ipcss).saturating_sub(40) as u16);
            }
            if tcp {
                let s = seq.wrapping_add((i * mss) as u32);
                seg[tucss + 4..tucss + 8].copy_from_slice(&s.to_be_bytes());
                if !last {
                    // FIN and PSH belong to the last segment only.
                    seg[tucss + 13] &= !0x09;
                }
            } else {
                put_be16(&mut seg, tucss + 4, (len - tucss) as u16);
            }
            if p.popts & POPTS_IXSM != 0 {
                insert_checksum(&mut seg, ipcss, c.ipcso.into(), c.ipcse.into(), 0);
            }
            if p.popts & POPTS_TXSM != 0 {
                // The driver left the pseudo-header sum without the length; add this segment's.
                let l4_len = (len - tucss) as u32;
                insert_checksum(&mut seg, tucss, c.tucso.into(), c.tucse.into(), l4_len);
            }
            self.send(seg, vlan, special);
        }
        self.count(stat::TSCTC, 1);
    }

    /// Put a finished frame on the wire: VLAN tag, padding, counters.
    fn send(&mut self, mut frame: Vec<u8>, vlan: bool, special: u16) {
        if frame.len() < 14 {
            guest_error!(len = frame.len(), "e1000: transmit frame shorter than an Ethernet header, dropped");
            return;
        }
        if vlan && self.state.ctrl & CTRL_VME != 0 {
            let vet = self.state.plain(reg::VET) as u16;
            let mut tag = [0u8; 4];
            tag[..2].copy_from_slice(&vet.to_be_bytes());
            tag[2..].copy_from_slice(&special.to_be_bytes());
            frame.splice(12..12, tag);
        }
        if self.state.tctl & TCTL_PSP != 0 && frame.len() < MIN_FRAME {
            frame.resize(MIN_FRAME, 0);
        }
        let wire_len = frame.len().max(MIN_FRAME) as u64 + 4;
        let bcast = frame[..6] == [0xff; 6];
        let mcast = !bcast && frame[0] & 1 != 0;
        self.backend.send(&frame);
        self.count(stat::GPTC, 1);
        self.count(stat::TPT, 1);
        self.count64(stat::GOTCL, wire_len);
        self.count64(stat::TOTL, wire_len);
        if bcast {
            self.count(stat::BPTC, 1);
        } else if mcast {
            self.count(stat::MPTC, 1);
        }
    }

    fn bus_master(&self) -> bool {
        self.config.command() & COMMAND_BUS_MASTER != 0
    }
}

impl<B: NetBackend> PciFunction for E1000<B> {
    fn config(&self) -> &ConfigSpace {
        &self.config
    }
    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }

    fn bar_read(&mut self, bar: usize, offset: u64, size: Size) -> u64 {
        match (bar, offset) {
            (MMIO_BAR, _) => self.mmio_read(offset, size),
            (IO_BAR, 0) => u64::from(self.state.ioaddr),
            (IO_BAR, 4) => self.mmio_read(u64::from(self.state.ioaddr), size),
            _ => {
                guest_error!(bar, offset, "e1000: read of an unused I/O port, reads as zero");
                0
            }
        }
    }

    fn bar_write(&mut self, bar: usize, offset: u64, size: Size, value: u64) {
        match (bar, offset) {
            (MMIO_BAR, _) => self.mmio_write(offset, size, value),
            // IOADDR selects a register in the first 128 KiB, dword-aligned.
            (IO_BAR, 0) => self.state.ioaddr = (value as u32) & 0x1_fffc,
            (IO_BAR, 4) => self.mmio_write(u64::from(self.state.ioaddr), size, value),
            _ => guest_error!(bar, offset, "e1000: write to an unused I/O port, ignored"),
        }
    }

    fn intx_level(&self) -> bool {
        self.state.icr & self.state.ims != 0
    }

    fn needs_processing(&self) -> bool {
        if !self.bus_master() {
            return false;
        }
        let tx = self.state.tx_pending;
        let rx = !self.rx_starved && (self.held.is_some() || self.backend.has_frames());
        tx || rx
    }

    fn process(&mut self, mem: &mut dyn GuestMemory) {
        if !self.bus_master() {
            return;
        }
        if std::mem::take(&mut self.state.tx_pending) {
            self.transmit(mem);
        }
        if !self.rx_starved {
            self.receive(mem);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mimic_memory::FlatMemory;

    use crate::mock::TestNet;

    const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    const RAM: u64 = 0x8000_0000;
    const RX_RING: u64 = RAM;
    const TX_RING: u64 = RAM + 0x1000;
    const BUFS: u64 = RAM + 0x10_000;

    fn dev() -> (E1000<TestNet>, FlatMemory) {
        let mut d = E1000::new(TestNet::default(), MAC);
        d.config_mut().write(0x04, 2, u32::from(crate::pci::COMMAND_MEMORY | COMMAND_BUS_MASTER));
        (d, FlatMemory::new(RAM, 1 << 20))
    }

    /// A receive ring of `n` descriptors with 2 KiB buffers, all given to the device but one.
    fn rx_setup(d: &mut E1000<TestNet>, mem: &mut FlatMemory, n: u32) {
        for i in 0..u64::from(n) {
            mem.write(RX_RING + 16 * i, &(BUFS + 0x800 * i).to_le_bytes()).unwrap();
        }
        d.write_reg(reg::RDBAL, RX_RING as u32);
        d.write_reg(reg::RDBAH, (RX_RING >> 32) as u32);
        d.write_reg(reg::RDLEN, 16 * n);
        d.write_reg(reg::RDH, 0);
        d.write_reg(reg::RDT, n - 1);
        d.write_reg(reg::RCTL, RCTL_EN | RCTL_BAM);
    }

    fn tx_setup(d: &mut E1000<TestNet>, n: u32) {
        d.write_reg(reg::TDBAL, TX_RING as u32);
        d.write_reg(reg::TDBAH, (TX_RING >> 32) as u32);
        d.write_reg(reg::TDLEN, 16 * n);
        d.write_reg(reg::TDH, 0);
        d.write_reg(reg::TDT, 0);
        d.write_reg(reg::TCTL, TCTL_EN);
    }

    fn legacy_desc(addr: u64, len: u16, cmd: u8) -> [u8; 16] {
        let mut x = [0u8; 16];
        x[..8].copy_from_slice(&addr.to_le_bytes());
        x[8..10].copy_from_slice(&len.to_le_bytes());
        x[11] = cmd;
        x
    }

    fn data_desc(addr: u64, len: u32, dcmd: u8, popts: u8) -> [u8; 16] {
        let mut x = [0u8; 16];
        x[..8].copy_from_slice(&addr.to_le_bytes());
        x[8..12].copy_from_slice(&(len | u32::from(TXD_DTYP_DATA) << 20).to_le_bytes());
        x[11] = dcmd | TXD_CMD_DEXT;
        x[13] = popts;
        x
    }

    fn context_desc(c: TxContext) -> [u8; 16] {
        let mut x = [0u8; 16];
        x[0] = c.ipcss;
        x[1] = c.ipcso;
        x[2..4].copy_from_slice(&c.ipcse.to_le_bytes());
        x[4] = c.tucss;
        x[5] = c.tucso;
        x[6..8].copy_from_slice(&c.tucse.to_le_bytes());
        x[8..12].copy_from_slice(&c.paylen.to_le_bytes());
        x[11] = c.tucmd | TXD_CMD_DEXT;
        x[13] = c.hdrlen;
        x[14..16].copy_from_slice(&c.mss.to_le_bytes());
        x
    }

    /// Queue descriptors at TDT and move TDT past them.
    fn post_tx(d: &mut E1000<TestNet>, mem: &mut FlatMemory, descs: &[[u8; 16]]) {
        let n = d.state().tdlen / 16;
        let mut t = d.state().tdt;
        for x in descs {
            mem.write(TX_RING + 16 * u64::from(t), x).unwrap();
            t = (t + 1) % n;
        }
        d.write_reg(reg::TDT, t);
        d.process(mem);
    }

    /// A naive Internet checksum (RFC 1071), written independently of the device's.
    fn inet_sum(parts: &[&[u8]]) -> u16 {
        let bytes: Vec<u8> = parts.concat();
        let mut s: u64 = 0;
        for (i, b) in bytes.iter().enumerate() {
            s += if i % 2 == 0 { u64::from(*b) << 8 } else { u64::from(*b) };
        }
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    /// Whether an Ethernet/IPv4/TCP-or-UDP frame's IP and L4 checksums are right.
    fn checksums_ok(f: &[u8]) -> (bool, bool) {
        let ip = &f[14..];
        let ihl = usize::from(ip[0] & 0xf) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        let l4 = &ip[ihl..total];
        let pseudo = [&ip[12..20], &[0, ip[9]], &(l4.len() as u16).to_be_bytes()].concat();
        (inet_sum(&[&ip[..ihl]]) == 0xffff, inet_sum(&[&pseudo, l4]) == 0xffff)
    }

    /// Ethernet + IPv4 + TCP (20-byte header, ACK|PSH|FIN) with `payload`, checksums left zero.
    fn tcp_frame(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 20];
        f[..6].copy_from_slice(&[0x52, 0x55, 10, 0, 2, 2]);
        f[6..12].copy_from_slice(&MAC);
        f[12..14].copy_from_slice(&ETH_P_IP.to_be_bytes());
        let ip = &mut f[14..34];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&((40 + payload.len()) as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
        ip[8] = 64;
        ip[9] = 6;
        ip[12..16].copy_from_slice(&[10, 0, 2, 15]);
        ip[16..20].copy_from_slice(&[10, 0, 2, 2]);
        let tcp = &mut f[34..54];
        tcp[..2].copy_from_slice(&40000u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
        tcp[4..8].copy_from_slice(&1000u32.to_be_bytes());
        tcp[12] = 5 << 4;
        tcp[13] = 0x19;
        f.extend_from_slice(payload);
        f
    }

    /// Fill in the IP and TCP checksums as a sender without offloads would.
    fn with_checksums(mut f: Vec<u8>) -> Vec<u8> {
        let ip_sum = !inet_sum(&[&f[14..34]]);
        f[24..26].copy_from_slice(&ip_sum.to_be_bytes());
        let l4_len = f.len() - 34;
        let pseudo = [&f[26..34], &[0, 6], &(l4_len as u16).to_be_bytes()].concat();
        let tcp_sum = !inet_sum(&[&pseudo, &f[34..]]);
        f[50..52].copy_from_slice(&tcp_sum.to_be_bytes());
        f
    }

    fn rx_desc(mem: &FlatMemory, i: u64) -> (u16, u8, u8) {
        let mut x = [0u8; 16];
        mem.read(RX_RING + 16 * i, &mut x).unwrap();
        (u16::from_le_bytes([x[8], x[9]]), x[12], x[13])
    }

    fn to_us(n: usize) -> Vec<u8> {
        let mut f: Vec<u8> = (0..n).map(|i| i as u8).collect();
        f[..6].copy_from_slice(&MAC);
        f[12] = 0x88;
        f
    }

    // ---- EEPROM ----

    /// Read a word the way Linux's e1000 driver does on this part: Microwire through EECD.
    fn microwire_read(d: &mut E1000<TestNet>, addr: u16) -> u16 {
        d.write_reg(reg::EECD, EECD_REQ);
        assert_ne!(d.read_reg(reg::EECD) & EECD_GNT, 0, "grant");
        d.write_reg(reg::EECD, EECD_REQ | EECD_CS);
        let bits = (u32::from(EEPROM_READ_OPCODE as u16) << 6) | u32::from(addr);
        for i in (0..9).rev() {
            let di = if bits >> i & 1 != 0 { EECD_DI } else { 0 };
            d.write_reg(reg::EECD, EECD_REQ | EECD_CS | di);
            d.write_reg(reg::EECD, EECD_REQ | EECD_CS | di | EECD_SK);
            d.write_reg(reg::EECD, EECD_REQ | EECD_CS | di);
        }
        let mut word = 0u16;
        for _ in 0..16 {
            d.write_reg(reg::EECD, EECD_REQ | EECD_CS | EECD_SK);
            word = word << 1 | u16::from(d.read_reg(reg::EECD) & EECD_DO != 0);
            d.write_reg(reg::EECD, EECD_REQ | EECD_CS);
        }
        d.write_reg(reg::EECD, 0);
        word
    }

    fn eerd_read(d: &mut E1000<TestNet>, addr: u32) -> u16 {
        d.write_reg(reg::EERD, addr << 8 | EERD_START);
        let v = d.read_reg(reg::EERD);
        assert_ne!(v & EERD_DONE, 0);
        (v >> 16) as u16
    }

    #[test]
    fn eeprom_words_sum_to_0xbaba() {
        let (mut d, _) = dev();
        let sum = (0..64).fold(0u16, |a, i| a.wrapping_add(eerd_read(&mut d, i)));
        assert_eq!(sum, EEPROM_CHECKSUM);
    }

    #[test]
    fn eeprom_read_over_microwire_gives_the_mac_and_ids() {
        let (mut d, _) = dev();
        let words: Vec<u16> = [0, 1, 2, 0x0d, 0x0e].iter().map(|&a| microwire_read(&mut d, a)).collect();
        assert_eq!(words, vec![0x5452, 0x1200, 0x5634, DEVICE_ID, VENDOR_ID]);
    }

    #[test]
    fn eeprom_microwire_checksum_matches_eerd() {
        let (mut d, _) = dev();
        let sum = (0..64).fold(0u16, |a, i| a.wrapping_add(microwire_read(&mut d, i)));
        assert_eq!(sum, EEPROM_CHECKSUM);
    }

    #[test]
    fn receive_address_0_is_loaded_from_the_eeprom() {
        let (mut d, _) = dev();
        assert_eq!((d.read_reg(reg::RA), d.read_reg(reg::RA + 4)), (0x1200_5452, 0x8000_5634));
    }

    // ---- interrupts, PHY, registers ----

    #[test]
    fn icr_read_returns_causes_and_clears_them() {
        let (mut d, _) = dev();
        d.write_reg(reg::ICS, ICR_LSC | ICR_RXT0);
        assert_eq!((d.read_reg(reg::ICR), d.read_reg(reg::ICR)), (ICR_LSC | ICR_RXT0, 0));
    }

    #[test]
    fn intx_follows_icr_and_the_mask() {
        let (mut d, _) = dev();
        d.write_reg(reg::ICS, ICR_LSC);
        let masked = d.intx_level();
        d.write_reg(reg::IMS, ICR_LSC);
        let enabled = d.intx_level();
        d.write_reg(reg::IMC, ICR_LSC);
        let cleared_mask = d.intx_level();
        d.write_reg(reg::IMS, ICR_LSC);
        d.read_reg(reg::ICR);
        assert_eq!((masked, enabled, cleared_mask, d.intx_level()), (false, true, false, false));
    }

    fn mdic(d: &mut E1000<TestNet>, phy_addr: u32, reg_: u32, op: u32, data: u16) -> u32 {
        d.write_reg(reg::MDIC, op << 26 | phy_addr << 21 | reg_ << 16 | u32::from(data));
        d.read_reg(reg::MDIC)
    }

    #[test]
    fn phy_reports_m88_ids_and_link_up() {
        let (mut d, _) = dev();
        let id1 = mdic(&mut d, 1, 2, MDIC_OP_READ, 0);
        let id2 = mdic(&mut d, 1, 3, MDIC_OP_READ, 0);
        let status = mdic(&mut d, 1, 1, MDIC_OP_READ, 0);
        assert_eq!((id1 & 0xffff, id2 & 0xfff0, status & 4, id1 & MDIC_READY), (0x0141, 0x0c20, 4, MDIC_READY));
        assert_ne!(d.read_reg(reg::STATUS) & STATUS_LU, 0);
    }

    #[test]
    fn phy_at_another_address_answers_with_an_error() {
        let (mut d, _) = dev();
        assert_ne!(mdic(&mut d, 2, 2, MDIC_OP_READ, 0) & MDIC_ERROR, 0);
    }

    #[test]
    fn restarting_autonegotiation_signals_link_status_change() {
        let (mut d, _) = dev();
        d.read_reg(reg::ICR);
        mdic(&mut d, 1, 0, MDIC_OP_WRITE, 0x1140 | phy::CTRL_RESTART_AN);
        let ctrl = mdic(&mut d, 1, 0, MDIC_OP_READ, 0) as u16;
        assert_eq!((d.read_reg(reg::ICR) & ICR_LSC, ctrl & phy::CTRL_RESTART_AN), (ICR_LSC, 0));
    }

    #[test]
    fn unknown_register_reads_zero_and_ignores_writes() {
        let (mut d, _) = dev();
        d.write_reg(0x1_f000, 0xdead_beef);
        assert_eq!(d.bar_read(MMIO_BAR, 0x1_f000, Size::B4), 0);
    }

    #[test]
    fn misaligned_access_reads_zero() {
        let (mut d, _) = dev();
        d.write_reg(reg::IMS, ICR_LSC);
        assert_eq!(d.bar_read(MMIO_BAR, reg::IMS + 2, Size::B4), 0);
    }

    #[test]
    fn reset_through_the_io_bar_restores_defaults() {
        let (mut d, _) = dev();
        d.write_reg(reg::IMS, 0xff);
        d.write_reg(reg::RDLEN, 4096);
        d.bar_write(IO_BAR, 0, Size::B4, reg::CTRL);
        d.bar_write(IO_BAR, 4, Size::B4, u64::from(CTRL_RST));
        d.bar_write(IO_BAR, 0, Size::B4, reg::IMS);
        assert_eq!((d.bar_read(IO_BAR, 4, Size::B4), d.read_reg(reg::RDLEN)), (0, 0));
    }

    #[test]
    fn ring_length_keeps_only_multiples_of_128() {
        let (mut d, _) = dev();
        d.write_reg(reg::TDLEN, 0xfff_ffff);
        assert_eq!(d.read_reg(reg::TDLEN), RING_LEN_MASK);
    }

    // ---- transmit ----

    #[test]
    fn legacy_descriptor_bytes_reach_the_backend_and_are_reported_done() {
        let (mut d, mut mem) = dev();
        tx_setup(&mut d, 8);
        let frame = to_us(100);
        mem.write(BUFS, &frame).unwrap();
        d.write_reg(reg::IMS, ICR_TXDW);
        post_tx(&mut d, &mut mem, &[legacy_desc(BUFS, 100, TXD_CMD_EOP | TXD_CMD_RS)]);
        let mut status = [0u8];
        mem.read(TX_RING + 12, &mut status).unwrap();
        let tdh = d.read_reg(reg::TDH);
        assert_eq!((&d.backend().sent, status[0] & TXD_STAT_DD, tdh), (&vec![frame], 1, 1));
        assert!(d.intx_level());
    }

    #[test]
    fn packet_spanning_descriptors_is_sent_once_at_eop() {
        let (mut d, mut mem) = dev();
        tx_setup(&mut d, 8);
        let frame = to_us(300);
        mem.write(BUFS, &frame[..100]).unwrap();
        mem.write(BUFS + 0x1000, &frame[100..]).unwrap();
        post_tx(&mut d, &mut mem, &[legacy_desc(BUFS, 100, 0), legacy_desc(BUFS + 0x1000, 200, TXD_CMD_EOP)]);
        assert_eq!(d.backend().sent, vec![frame]);
    }

    #[test]
    fn checksum_offload_fills_in_ip_and_tcp_checksums() {
        let (mut d, mut mem) = dev();
        tx_setup(&mut d, 8);
        let mut f = tcp_frame(b"hello, e1000");
        // What Linux leaves for CHECKSUM_PARTIAL: the pseudo-header sum in the TCP field.
        let pseudo = [&f[26..34], &[0, 6], &((f.len() - 34) as u16).to_be_bytes()].concat();
        let partial = inet_sum(&[&pseudo]);
        f[50..52].copy_from_slice(&partial.to_be_bytes());
        mem.write(BUFS, &f).unwrap();
        let ctx = TxContext { ipcss: 14, ipcso: 24, ipcse: 33, tucss: 34, tucso: 50, ..Default::default() };
        post_tx(
            &mut d,
            &mut mem,
            &[context_desc(ctx), data_desc(BUFS, f.len() as u32, TXD_CMD_EOP, POPTS_IXSM | POPTS_TXSM)],
        );
        assert_eq!(checksums_ok(&d.backend().sent[0]), (true, true));
    }

    #[test]
    fn tso_cuts_the_payload_into_mss_segments_with_their_own_headers() {
        let (mut d, mut mem) = dev();
        tx_setup(&mut d, 16);
        let payload: Vec<u8> = (0..2500u32).map(|i| (i * 7) as u8).collect();
        let mut f = tcp_frame(&payload);
        // Linux's TSO preparation: no IP length or checksum, pseudo-header sum without length.
        f[16..18].copy_from_slice(&[0, 0]);
        let pseudo = [&f[26..34], &[0u8, 6][..]].concat();
        f[50..52].copy_from_slice(&inet_sum(&[&pseudo]).to_be_bytes());
        mem.write(BUFS, &f).unwrap();
        let ctx = TxContext {
            ipcss: 14,
            ipcso: 24,
            ipcse: 33,
            tucss: 34,
            tucso: 50,
            paylen: payload.len() as u32,
            tucmd: TUCMD_TSE | TUCMD_IP | TUCMD_TCP,
            hdrlen: 54,
            mss: 1000,
            ..Default::default()
        };
        // Header and payload in separate buffers, as the driver maps them.
        post_tx(
            &mut d,
            &mut mem,
            &[
                context_desc(ctx),
                data_desc(BUFS, 54, TXD_CMD_TSE, POPTS_IXSM | POPTS_TXSM),
                data_desc(BUFS + 54, payload.len() as u32, TXD_CMD_TSE | TXD_CMD_EOP, POPTS_IXSM | POPTS_TXSM),
            ],
        );
        let sent = &d.backend().sent;
        let lens: Vec<usize> = sent.iter().map(Vec::len).collect();
        let seqs: Vec<u32> = sent.iter().map(|s| u32::from_be_bytes(s[38..42].try_into().unwrap())).collect();
        let flags: Vec<u8> = sent.iter().map(|s| s[47]).collect();
        let ids: Vec<u16> = sent.iter().map(|s| be16(s, 18)).collect();
        assert_eq!(lens, vec![1054, 1054, 554]);
        assert_eq!(seqs, vec![1000, 2000, 3000]);
        assert_eq!(flags, vec![0x10, 0x10, 0x19]);
        assert_eq!(ids, vec![0x1234, 0x1235, 0x1236]);
        assert!(sent.iter().all(|s| checksums_ok(s) == (true, true)));
        let rebuilt: Vec<u8> = sent.iter().flat_map(|s| s[54..].to_vec()).collect();
        assert_eq!(rebuilt, payload);
    }

    #[test]
    fn tso_with_zero_mss_is_dropped_without_panic() {
        let (mut d, mut mem) = dev();
        tx_setup(&mut d, 8);
        let f = tcp_frame(&[1; 100]);
        mem.write(BUFS, &f).unwrap();
        let ctx = TxContext { tucmd: TUCMD_TSE | TUCMD_IP | TUCMD_TCP, hdrlen: 54, mss: 0, ..Default::default() };
        post_tx(&mut d, &mut mem, &[context_desc(ctx), data_desc(BUFS, f.len() as u32, TXD_CMD_TSE | TXD_CMD_EOP, 0)]);
        assert_eq!((d.backend().sent.len(), d.read_reg(reg::TDH)), (0, 2));
    }

    #[test]
    fn transmit_buffer_outside_ram_drops_the_packet_but_completes_the_descriptor() {
        let (mut d, mut mem) = dev();
        tx_setup(&mut d, 8);
        post_tx(&mut d, &mut mem, &[legacy_desc(0x10, 64, TXD_CMD_EOP | TXD_CMD_RS)]);
        let mut status = [0u8];
        mem.read(TX_RING + 12, &mut status).unwrap();
        assert_eq!((d.backend().sent.len(), status[0], d.read_reg(reg::TDH)), (0, TXD_STAT_DD, 1));
    }

    #[test]
    fn transmit_ring_outside_ram_is_not_walked() {
        let (mut d, mut mem) = dev();
        tx_setup(&mut d, 8);
        d.write_reg(reg::TDBAL, 0x1000);
        d.write_reg(reg::TDT, 3);
        d.process(&mut mem);
        assert_eq!((d.backend().sent.len(), d.read_reg(reg::TDH), d.needs_processing()), (0, 0, false));
    }

    #[test]
    fn transmit_tail_beyond_the_ring_is_refused() {
        let (mut d, mut mem) = dev();
        tx_setup(&mut d, 8);
        mem.write(TX_RING, &legacy_desc(BUFS, 64, TXD_CMD_EOP)).unwrap();
        d.write_reg(reg::TDT, 100);
        d.process(&mut mem);
        assert_eq!((d.backend().sent.len(), d.read_reg(reg::TDH)), (0, 0));
    }

    #[test]
    fn huge_transmit_ring_is_walked_at_most_once_per_process() {
        let (mut d, mut mem) = dev();
        // The longest ring (65528 descriptors, all zero-length legacy ones): all 1 MiB of RAM.
        d.write_reg(reg::TDBAL, RAM as u32);
        d.write_reg(reg::TDLEN, 0xfff_ffff);
        d.write_reg(reg::TCTL, TCTL_EN);
        d.write_reg(reg::TDT, 0xfff7);
        d.process(&mut mem);
        assert_eq!((d.read_reg(reg::TDH), d.needs_processing()), (0xfff7, false));
    }

    // ---- receive ----

    #[test]
    fn received_frame_lands_in_the_buffer_with_fcs_status_and_length() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        d.write_reg(reg::IMS, ICR_RXT0);
        let f = to_us(100);
        d.backend_mut().incoming.push_back(f.clone());
        assert!(d.needs_processing());
        d.process(&mut mem);
        let mut got = vec![0u8; 104];
        mem.read(BUFS, &mut got).unwrap();
        let mut want = f.clone();
        want.extend_from_slice(&fcs(&f));
        assert_eq!(got, want);
        assert_eq!(rx_desc(&mem, 0), (104, RXD_STAT_DD | RXD_STAT_EOP, 0));
        assert_eq!((d.read_reg(reg::RDH), d.intx_level()), (1, true));
    }

    #[test]
    fn fcs_of_a_known_frame() {
        // CRC-32 of "123456789" is 0xcbf43926 (the check value of the IEEE polynomial).
        assert_eq!(u32::from_le_bytes(fcs(b"123456789")), 0xcbf4_3926);
    }

    #[test]
    fn short_frame_is_padded_and_secrc_leaves_out_the_fcs() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        d.write_reg(reg::RCTL, RCTL_EN | RCTL_SECRC);
        d.backend_mut().incoming.push_back(to_us(42));
        d.process(&mut mem);
        assert_eq!(rx_desc(&mem, 0).0, 60);
    }

    #[test]
    fn frame_for_another_address_is_filtered_out() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        let mut f = to_us(64);
        f[5] ^= 1;
        d.backend_mut().incoming.push_back(f);
        d.process(&mut mem);
        assert_eq!(d.read_reg(reg::RDH), 0);
    }

    #[test]
    fn multicast_frame_passes_when_its_hash_bit_is_set() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        let mut f = to_us(64);
        f[..6].copy_from_slice(&[0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]);
        d.backend_mut().incoming.push_back(f.clone());
        d.process(&mut mem);
        let before = d.read_reg(reg::RDH);
        // MO = 00: bits 47:36 → (0x00 >> 4) | (0xfb << 4) = 0xfb0.
        d.write_reg(reg::MTA + 4 * (0xfb0 >> 5), 1 << (0xfb0 & 31));
        d.backend_mut().incoming.push_back(f);
        d.process(&mut mem);
        assert_eq!((before, d.read_reg(reg::RDH)), (0, 1));
    }

    #[test]
    fn frames_wait_while_the_ring_is_full_and_arrive_after_rdt_moves() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        d.write_reg(reg::RDT, 1);
        d.backend_mut().incoming.extend([to_us(64), to_us(65), to_us(66)]);
        d.process(&mut mem);
        let first = (d.read_reg(reg::RDH), d.needs_processing());
        d.write_reg(reg::RDT, 3);
        d.process(&mut mem);
        let lens: Vec<u16> = (0..3).map(|i| rx_desc(&mem, i).0).collect();
        assert_eq!((first, lens), ((1, false), vec![68, 69, 70]));
    }

    #[test]
    fn frame_larger_than_a_buffer_spans_descriptors_with_eop_on_the_last() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        d.write_reg(reg::RCTL, RCTL_EN | 1 << 16 | RCTL_LPE); // 1 KiB buffers
        d.backend_mut().incoming.push_back(to_us(1500));
        d.process(&mut mem);
        assert_eq!(
            (rx_desc(&mem, 0), rx_desc(&mem, 1)),
            ((1024, RXD_STAT_DD, 0), (1500 + 4 - 1024, RXD_STAT_DD | RXD_STAT_EOP, 0))
        );
    }

    #[test]
    fn tagged_frame_is_filtered_by_vfta_and_its_tag_moves_to_the_descriptor() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        d.write_reg(reg::RCTL, RCTL_EN | RCTL_VFE);
        let ctrl = d.read_reg(reg::CTRL);
        d.write_reg(reg::CTRL, ctrl | CTRL_VME);
        let mut f = to_us(64);
        f.splice(12..12, [0x81, 0x00, 0x20, 0x05]); // priority 1, VLAN 5
        d.backend_mut().incoming.push_back(f.clone());
        d.process(&mut mem);
        let filtered = d.read_reg(reg::RDH);
        d.write_reg(reg::VFTA, 1 << 5);
        d.backend_mut().incoming.push_back(f);
        d.process(&mut mem);
        let mut x = [0u8; 16];
        mem.read(RX_RING, &mut x).unwrap();
        let mut got = vec![0u8; 64];
        mem.read(BUFS, &mut got).unwrap();
        assert_eq!((filtered, x[12] & RXD_STAT_VP, u16::from_le_bytes([x[14], x[15]])), (0, RXD_STAT_VP, 0x2005));
        assert_eq!((rx_desc(&mem, 0).0, got), (68, to_us(64)));
    }

    #[test]
    fn frame_that_could_never_fit_the_ring_is_dropped_and_the_next_one_arrives() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        d.write_reg(reg::RCTL, RCTL_EN | 3 << 16 | RCTL_LPE); // 256-byte buffers
        d.backend_mut().incoming.extend([to_us(3000), to_us(100)]);
        d.process(&mut mem);
        assert_eq!((d.read_reg(reg::RDH), rx_desc(&mem, 0)), (1, (104, RXD_STAT_DD | RXD_STAT_EOP, 0)));
    }

    #[test]
    fn receive_buffer_outside_ram_is_returned_with_rxe() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        mem.write(RX_RING, &0x10u64.to_le_bytes()).unwrap();
        d.backend_mut().incoming.push_back(to_us(64));
        d.process(&mut mem);
        assert_eq!(rx_desc(&mem, 0).2, RXD_ERR_RXE);
    }

    #[test]
    fn receive_ring_outside_ram_or_with_bad_length_takes_nothing() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        d.write_reg(reg::RDBAL, 0x2000);
        d.backend_mut().incoming.push_back(to_us(64));
        d.process(&mut mem);
        let outside = d.read_reg(reg::RDH);
        d.write_reg(reg::RDBAL, RX_RING as u32);
        d.write_reg(reg::RDLEN, 0);
        d.process(&mut mem);
        let zero_len = d.needs_processing();
        d.write_reg(reg::RDLEN, 128);
        d.write_reg(reg::RDT, 0x7fff);
        d.process(&mut mem);
        assert_eq!((outside, zero_len, d.read_reg(reg::RDH)), (0, false, 0));
    }

    #[test]
    fn receive_checksum_offload_marks_good_and_bad_packets() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        let mut good = with_checksums(tcp_frame(b"payload"));
        good[..6].copy_from_slice(&MAC);
        let mut bad = good.clone();
        bad[60] ^= 0xff;
        d.backend_mut().incoming.extend([good, bad]);
        d.process(&mut mem);
        let ok = RXD_STAT_DD | RXD_STAT_EOP | RXD_STAT_IPCS | RXD_STAT_TCPCS;
        assert_eq!((rx_desc(&mem, 0).1, rx_desc(&mem, 0).2), (ok, 0));
        assert_eq!((rx_desc(&mem, 1).1, rx_desc(&mem, 1).2), (ok, RXD_ERR_TCPE));
    }

    #[test]
    fn disabled_receiver_drops_frames() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        d.write_reg(reg::RCTL, 0);
        d.backend_mut().incoming.push_back(to_us(64));
        d.process(&mut mem);
        assert_eq!((d.read_reg(reg::RDH), d.backend().incoming.len()), (0, 0));
    }

    #[test]
    fn no_dma_without_bus_master() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        d.config_mut().write(0x04, 2, u32::from(crate::pci::COMMAND_MEMORY));
        d.backend_mut().incoming.push_back(to_us(64));
        assert!(!d.needs_processing());
        d.process(&mut mem);
        assert_eq!(d.read_reg(reg::RDH), 0);
    }

    proptest::proptest! {
        /// Whatever the driver writes and whatever its descriptors hold, the device neither panics
        /// nor loops: registers at random, rings over random bytes, frames both ways.
        #[test]
        fn random_registers_and_descriptors_never_panic(
            writes in proptest::collection::vec((0u64..0x8000, proptest::prelude::any::<u32>()), 1..40),
            ring_bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 4096),
            frame_len in 0usize..20000,
        ) {
            let (mut d, mut mem) = dev();
            mem.write(RX_RING, &ring_bytes).unwrap();
            rx_setup(&mut d, &mut mem, 8);
            tx_setup(&mut d, 8);
            mem.write(TX_RING, &ring_bytes[..128]).unwrap();
            for (i, (offset, v)) in writes.into_iter().enumerate() {
                // Mostly the registers that matter, sometimes anywhere in the BAR.
                let offset = if i % 3 == 0 { offset * 4 % MMIO_SIZE } else { [reg::RCTL, reg::TCTL, reg::RDLEN, reg::RDH, reg::RDT, reg::TDLEN, reg::TDH, reg::TDT, reg::RXCSUM, reg::CTRL, reg::EECD, reg::MDIC][(offset % 12) as usize] };
                d.bar_write(MMIO_BAR, offset, Size::B4, u64::from(v));
                d.backend_mut().incoming.push_back(to_us(frame_len.max(14)));
                d.process(&mut mem);
                d.bar_read(MMIO_BAR, offset, Size::B4);
            }
        }
    }

    #[test]
    fn statistics_count_and_clear_on_read() {
        let (mut d, mut mem) = dev();
        rx_setup(&mut d, &mut mem, 8);
        d.backend_mut().incoming.extend([to_us(64), to_us(64)]);
        d.process(&mut mem);
        let gprc = reg::STATS + stat::GPRC as u64;
        assert_eq!((d.read_reg(gprc), d.read_reg(gprc)), (2, 0));
    }
}
