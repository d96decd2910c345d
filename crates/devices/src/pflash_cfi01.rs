//! CFI parallel NOR flash with the Intel/Sharp command set, as QEMU's `cfi.pflash01`.
//!
//! A bank is `bank_width` bytes wide, made of `bank_width / device_width` chips side by side
//! (the Arm `virt` board: a 32-bit bank of two x16 chips, so every command, status and query
//! answer appears once per 16-bit lane). The array itself lives in the bus's backing store
//! ([`mimic_memory::RomDevice`]): instruction fetches read it directly, and this model is handed
//! it for data accesses.
//!
//! ```text
//!   write cmd      then                         reads return
//!   0xff/0xf0/0x00                              array (read array)
//!   0x70                                        status register
//!   0x90                                        identifier (manufacturer, device, lock state)
//!   0x98                                        CFI query table
//!   0x50                                        (clears the error bits of the status)
//!   0x10/0x40      data                         status   word program
//!   0x20/0x28      0xd0 at the block            status   block erase (to 0xff)
//!   0xe8           count-1, count data, 0xd0    status   buffered program (committed on 0xd0)
//!   0x60           0x01/0xd0/0x2f               status   block lock/unlock/lock-down (no effect)
//! ```
//!
//! Operations finish instantly (status bit 7, "ready", is always set). Programming clears bits
//! only (new = old AND data), as on a real chip; erase sets a whole block to 0xff. The command
//! is the low byte of the written value. Bad sequences set the status's "command sequence
//! error" bits (SR.4 and SR.5), are logged (rate-limited) and return the chip to reading its
//! status, except an unknown first command, which leaves it reading the array (as QEMU's does:
//! firmware running in place may store to it). Not modelled: block locks (every block is always unlocked and reads so), suspend and
//! resume, timing. Deviation from hardware: instruction fetches always see the array, even in a
//! command mode (no firmware runs from a bank it is programming).
//!
//! Changed bytes are reported to the bus (which drops translated code there) and accumulated in
//! [`PflashCfi01::take_dirty`] by erase block, for a board that writes them back to a `-drive
//! if=pflash` file.

use mimic_core::{guest_error, Size};
use mimic_memory::RomDevice;
use std::ops::Range;

/// Status register bits.
pub mod sr {
    /// Write state machine ready.
    pub const READY: u8 = 0x80;
    /// Erase error (with PROGRAM_ERROR: command sequence error).
    pub const ERASE_ERROR: u8 = 0x20;
    /// Program error.
    pub const PROGRAM_ERROR: u8 = 0x10;
    /// Program or erase attempted on a locked (here: read-only) block.
    pub const BLOCK_LOCKED: u8 = 0x02;
    /// Improper command sequence.
    pub const SEQUENCE_ERROR: u8 = ERASE_ERROR | PROGRAM_ERROR;
}

/// The geometry and identity of one bank (QEMU's `cfi.pflash01` properties).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PflashConfig {
    /// Erase block size of the whole bank, in bytes (the chips' blocks side by side).
    pub sector_len: u64,
    /// Number of erase blocks.
    pub blocks: u64,
    /// Bytes the bank answers per bus word: 1, 2 or 4.
    pub bank_width: u8,
    /// Bytes of one chip: 1 or 2, dividing `bank_width`.
    pub device_width: u8,
    /// Manufacturer and device codes of each chip.
    pub ids: [u16; 2],
    /// Program and erase fail (a read-only `-drive`).
    pub read_only: bool,
}

impl PflashConfig {
    /// One of the Arm `virt` board's two banks: 64 MiB of 256 KiB blocks, 32 bits made of two
    /// x16 chips, Intel's manufacturer code 0x89 and device 0x18 (QEMU's values).
    pub const ARM_VIRT: PflashConfig = PflashConfig {
        sector_len: 256 << 10,
        blocks: 256,
        bank_width: 4,
        device_width: 2,
        ids: [0x89, 0x18],
        read_only: false,
    };

    pub fn size(&self) -> u64 {
        self.sector_len * self.blocks
    }
    fn devices(&self) -> u64 {
        u64::from(self.bank_width / self.device_width)
    }
}

/// The configuration cannot describe a bank.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("bank width {bank} and device width {device} must be 1, 2 or 4 with the device dividing the bank")]
    Width { bank: u8, device: u8 },
    #[error("{blocks} erase blocks of {sector_len} bytes: need a power-of-two block size of at least 1 KiB per chip")]
    Geometry { sector_len: u64, blocks: u64 },
}

/// What reads return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    Array,
    Status,
    Identifier,
    Query,
}

/// A command waiting for its next write.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pending {
    None,
    Program,
    Erase,
    Lock,
    /// 0xe8 written at this erase block: the count comes next.
    BufferCount {
        block: u64,
    },
    /// Data words still to come, and those received (offset, size, value).
    BufferData {
        block: u64,
        left: u64,
        words: Vec<(u64, Size, u64)>,
    },
    /// All data received: 0xd0 commits it.
    BufferConfirm {
        words: Vec<(u64, Size, u64)>,
    },
}

/// Guest-visible state, for snapshots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PflashState {
    pub mode: ReadMode,
    pub status: u8,
}

pub struct PflashCfi01 {
    cfg: PflashConfig,
    mode: ReadMode,
    status: u8,
    pending: Pending,
    cfi: [u8; CFI_LEN],
    /// Erase blocks changed since the last [`PflashCfi01::take_dirty`].
    dirty: Vec<bool>,
}

const CFI_LEN: usize = 0x40;
/// log2 of one chip's write buffer (2 KiB), as QEMU's for banks wider than a byte.
const WRITE_BUFFER_SHIFT: u8 = 11;

impl PflashCfi01 {
    pub fn new(cfg: PflashConfig) -> Result<Self, Error> {
        let ok_width = |w: u8| matches!(w, 1 | 2 | 4);
        if !ok_width(cfg.bank_width)
            || !matches!(cfg.device_width, 1 | 2)
            || !cfg.bank_width.is_multiple_of(cfg.device_width)
        {
            return Err(Error::Width { bank: cfg.bank_width, device: cfg.device_width });
        }
        let chip_sector = cfg.sector_len / cfg.devices();
        if !chip_sector.is_power_of_two() || chip_sector < 1024 || cfg.blocks == 0 || cfg.blocks > 0x1_0000 {
            return Err(Error::Geometry { sector_len: cfg.sector_len, blocks: cfg.blocks });
        }
        Ok(PflashCfi01 {
            cfg,
            mode: ReadMode::Array,
            status: sr::READY,
            pending: Pending::None,
            cfi: cfi_table(&cfg),
            dirty: vec![false; cfg.blocks as usize],
        })
    }

    pub fn config(&self) -> &PflashConfig {
        &self.cfg
    }

    pub fn state(&self) -> PflashState {
        PflashState { mode: self.mode, status: self.status }
    }

    /// Back to reading the array with a clean status (a board reset).
    pub fn reset(&mut self) {
        self.mode = ReadMode::Array;
        self.status = sr::READY;
        self.pending = Pending::None;
    }

    /// The erase blocks the guest changed since the last call, as byte ranges of the array
    /// (adjacent blocks merged), to write back to a backing file.
    pub fn take_dirty(&mut self) -> Vec<Range<usize>> {
        let len = self.cfg.sector_len as usize;
        let mut out: Vec<Range<usize>> = Vec::new();
        for (i, d) in self.dirty.iter_mut().enumerate() {
            if std::mem::take(d) {
                match out.last_mut() {
                    Some(r) if r.end == i * len => r.end += len,
                    _ => out.push(i * len..(i + 1) * len),
                }
            }
        }
        out
    }

    /// The write buffer of the whole bank, in bytes.
    fn write_buffer_len(&self) -> u64 {
        (1u64 << WRITE_BUFFER_SHIFT) * self.cfg.devices()
    }

    /// What one chip answers in the current read mode at bank word `word` (its own word index).
    fn chip_word(&self, word: u64) -> u64 {
        match self.mode {
            ReadMode::Array => 0,
            ReadMode::Status => u64::from(self.status),
            ReadMode::Identifier => match word & 0xff {
                0 => u64::from(self.cfg.ids[0]),
                1 => u64::from(self.cfg.ids[1]),
                // 2: the lock state of the block this address is in: unlocked.
                _ => 0,
            },
            ReadMode::Query => self.cfi.get(word as usize).copied().map_or(0, u64::from),
        }
    }

    /// The bank's bus word at word index `word`: every chip's answer in its lane.
    fn bank_word(&self, word: u64) -> u64 {
        let v = self.chip_word(word);
        let bits = 8 * u64::from(self.cfg.device_width);
        (0..self.cfg.devices()).fold(0, |acc, i| acc | v << (bits * i))
    }

    /// What a read returns in the current read mode.
    fn answer(&self, offset: u64, size: Size, array: &[u8]) -> u64 {
        let n = size.bytes();
        if self.mode == ReadMode::Array {
            let at = offset as usize;
            return array.get(at..at + n as usize).map_or(0, mimic_memory::read_le);
        }
        // Byte by byte: each byte is its lane of the bank word it falls in.
        let width = u64::from(self.cfg.bank_width);
        (0..n).fold(0, |acc, i| {
            let a = offset + i;
            let byte = self.bank_word(a / width) >> (8 * (a % width)) & 0xff;
            acc | byte << (8 * i)
        })
    }

    fn error(&mut self, what: &str, offset: u64, value: u64) {
        guest_error!("pflash: {what} (offset {offset:#x}, value {value:#x}, pending {:?})", self.pending);
        self.status |= sr::SEQUENCE_ERROR;
        self.pending = Pending::None;
        self.mode = ReadMode::Status;
    }

    /// Program `size` bytes of `value` at `offset`: bits can only be cleared.
    fn program(&mut self, array: &mut [u8], offset: u64, size: Size, value: u64) -> Option<Range<usize>> {
        if self.cfg.read_only {
            self.status |= sr::PROGRAM_ERROR | sr::BLOCK_LOCKED;
            return None;
        }
        let at = offset as usize;
        let n = size.bytes() as usize;
        let bytes = array.get_mut(at..at + n)?;
        for (i, b) in bytes.iter_mut().enumerate() {
            *b &= (value >> (8 * i)) as u8;
        }
        Some(at..at + n)
    }

    fn erase(&mut self, array: &mut [u8], offset: u64) -> Option<Range<usize>> {
        if self.cfg.read_only {
            self.status |= sr::ERASE_ERROR | sr::BLOCK_LOCKED;
            return None;
        }
        let start = (offset - offset % self.cfg.sector_len) as usize;
        let end = start + self.cfg.sector_len as usize;
        array.get_mut(start..end)?.fill(0xff);
        Some(start..end)
    }

    /// The first write of a command (every read mode accepts one).
    fn command(&mut self, offset: u64, cmd: u8, value: u64) {
        match cmd {
            0xff | 0xf0 | 0x00 => self.mode = ReadMode::Array,
            0x70 => self.mode = ReadMode::Status,
            0x90 => self.mode = ReadMode::Identifier,
            0x98 => self.mode = ReadMode::Query,
            0x50 => self.status = sr::READY,
            0x10 | 0x40 => self.start(Pending::Program),
            0x20 | 0x28 => self.start(Pending::Erase),
            0x60 => self.start(Pending::Lock),
            0xe8 => self.start(Pending::BufferCount { block: offset / self.cfg.sector_len }),
            _ => {
                // As QEMU's model: back to the array, so that a stray store to firmware running
                // in place (EDK2's early code writes to a global in flash) leaves it readable.
                // The status still records the error.
                self.error("unknown command", offset, value);
                self.mode = ReadMode::Array;
            }
        }
    }

    fn start(&mut self, p: Pending) {
        self.pending = p;
        self.mode = ReadMode::Status;
    }
}

/// One chip's CFI query table (JEDEC JESD68, Intel's primary extended table), as QEMU's.
fn cfi_table(cfg: &PflashConfig) -> [u8; CFI_LEN] {
    let chip_sector = cfg.sector_len / cfg.devices();
    let chip_size = chip_sector * cfg.blocks;
    let blocks = cfg.blocks - 1;
    let mut t = [0u8; CFI_LEN];
    t[0x10..0x13].copy_from_slice(b"QRY");
    t[0x13] = 0x01; // primary command set: Intel/Sharp extended
    t[0x15] = 0x31; // primary extended table at 0x31
    t[0x1b] = 0x45; // Vcc min 4.5 V
    t[0x1c] = 0x55; // Vcc max 5.5 V
    t[0x1f] = 0x07; // typical word program 2^7 us
    t[0x20] = 0x07; // typical buffer write 2^7 us
    t[0x21] = 0x0a; // typical block erase 2^10 ms
    t[0x23] = 0x04; // maximum timeouts: 2^4 times typical
    t[0x24] = 0x04;
    t[0x25] = 0x04;
    t[0x27] = chip_size.trailing_zeros() as u8; // chip size 2^n bytes
    t[0x28] = 0x02; // interface: x8/x16
    t[0x2a] = if cfg.bank_width == 1 { 0x08 } else { WRITE_BUFFER_SHIFT }; // write buffer 2^n bytes
    t[0x2c] = 0x01; // one erase block region
    t[0x2d] = blocks as u8;
    t[0x2e] = (blocks >> 8) as u8;
    t[0x2f] = (chip_sector >> 8) as u8; // block size in 256-byte units
    t[0x30] = (chip_sector >> 16) as u8;
    t[0x31..0x34].copy_from_slice(b"PRI");
    t[0x34] = b'1';
    t[0x35] = b'0';
    t[0x3f] = 0x01; // one protection register field
    t
}

impl RomDevice for PflashCfi01 {
    fn read(&mut self, offset: u64, size: Size, array: &[u8]) -> u64 {
        self.answer(offset, size, array)
    }

    // Reads change nothing in any read mode, so page-table walks may read through the flash.
    fn peek(&self, offset: u64, size: Size, array: &[u8]) -> Option<u64> {
        Some(self.answer(offset, size, array))
    }

    fn write(&mut self, offset: u64, size: Size, value: u64, array: &mut [u8]) -> Option<Range<usize>> {
        let cmd = value as u8;
        let changed = match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::None => {
                self.command(offset, cmd, value);
                None
            }
            Pending::Program => self.program(array, offset, size, value),
            Pending::Erase => match cmd {
                0xd0 => self.erase(array, offset),
                0xff => {
                    self.mode = ReadMode::Array;
                    None
                }
                _ => {
                    self.error("block erase not confirmed", offset, value);
                    None
                }
            },
            // Locks are not modelled: every block stays unlocked.
            Pending::Lock => {
                if !matches!(cmd, 0x01 | 0xd0 | 0x2f) {
                    self.error("bad lock command", offset, value);
                }
                None
            }
            Pending::BufferCount { block } => {
                let lane_mask = (1u64 << (8 * u32::from(self.cfg.device_width))) - 1;
                let words = (value & lane_mask) + 1;
                if words * u64::from(self.cfg.bank_width) > self.write_buffer_len() {
                    self.error("buffered program longer than the write buffer", offset, value);
                } else {
                    self.pending = Pending::BufferData { block, left: words, words: Vec::new() };
                }
                None
            }
            Pending::BufferData { block, left, mut words } => {
                if offset / self.cfg.sector_len != block {
                    self.error("buffered program data outside its block", offset, value);
                } else {
                    words.push((offset, size, value));
                    self.pending = if left > 1 {
                        Pending::BufferData { block, left: left - 1, words }
                    } else {
                        Pending::BufferConfirm { words }
                    };
                }
                None
            }
            Pending::BufferConfirm { words } => {
                if cmd == 0xd0 {
                    words
                        .into_iter()
                        .filter_map(|(o, s, v)| self.program(array, o, s, v))
                        .reduce(|a, b| a.start.min(b.start)..a.end.max(b.end))
                } else {
                    self.error("buffered program not confirmed", offset, value);
                    None
                }
            }
        };
        if let Some(r) = &changed {
            let len = self.cfg.sector_len as usize;
            for b in r.start / len..r.end.div_ceil(len) {
                if let Some(d) = self.dirty.get_mut(b) {
                    *d = true;
                }
            }
        }
        changed
    }
}

#[cfg(test)]
#[path = "pflash_cfi01_tests.rs"]
mod tests;
