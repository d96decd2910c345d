//! QEMU's firmware configuration device (fw_cfg), its MMIO flavour (QEMU's `docs/specs/fw_cfg.rst`).
//!
//! Firmware (EDK2, U-Boot) reads numbered items from it: a signature, a feature bitmap, the
//! kernel, initrd and command line given with `-kernel`/`-initrd`/`-append`, and named "files"
//! listed in a directory item.
//!
//! ```text
//!   offset  width    register
//!   0x00    1/2/4/8  data: the next bytes of the selected item, in address order (string-
//!                    preserving); zeros past its end; writes ignored
//!   0x08    2        selector: big-endian item key; selecting resets the item offset to 0
//!   0x10    4/8      DMA address: big-endian; reads "QEMU CFG"; a write of the low half (at
//!                    0x14, or all 8 bytes at 0x10) starts an operation on the descriptor there
//! ```
//!
//! A DMA descriptor (`FWCfgDmaAccess`, all big-endian) is `control: u32, length: u32, address:
//! u64`; control bits: 0 error, 1 read, 2 skip, 3 select (item key in bits 31:16), 4 write. The
//! device answers by writing the control word back: 0 when done, the error bit when not.
//!
//! A write that starts an operation leaves it pending ([`FwCfg::dma_pending`]); the bus runs it
//! ([`MmioDevice::run_dma`], [`FwCfg::process`]) before that store retires, so a driver that
//! reads the descriptor's control word right after the store finds it done. Every
//! guest-supplied address and length is
//! checked: a descriptor or buffer outside RAM sets the error bit (or, for an unreadable
//! descriptor, drops the request with a log); lengths are copied in bounded chunks.

use mimic_core::{guest_error, Size};
use mimic_memory::{GuestMemory, MmioDevice};

/// Item keys (QEMU's `fw_cfg.h` numbering).
pub mod key {
    pub const SIGNATURE: u16 = 0x00;
    pub const ID: u16 = 0x01;
    pub const UUID: u16 = 0x02;
    pub const RAM_SIZE: u16 = 0x03;
    pub const NOGRAPHIC: u16 = 0x04;
    pub const NB_CPUS: u16 = 0x05;
    pub const KERNEL_SIZE: u16 = 0x08;
    pub const INITRD_SIZE: u16 = 0x0b;
    pub const BOOT_MENU: u16 = 0x0e;
    pub const MAX_CPUS: u16 = 0x0f;
    pub const KERNEL_DATA: u16 = 0x11;
    pub const INITRD_DATA: u16 = 0x12;
    pub const CMDLINE_SIZE: u16 = 0x14;
    pub const CMDLINE_DATA: u16 = 0x15;
    pub const FILE_DIR: u16 = 0x19;
    /// The first key given to a named file.
    pub const FILE_FIRST: u16 = 0x20;
}

/// DMA control bits.
pub mod ctl {
    pub const ERROR: u32 = 1 << 0;
    pub const READ: u32 = 1 << 1;
    pub const SKIP: u32 = 1 << 2;
    pub const SELECT: u32 = 1 << 3;
    pub const WRITE: u32 = 1 << 4;
}

/// `FW_CFG_ID` bits: the traditional interface, and DMA.
const ID_TRADITIONAL: u32 = 1 << 0;
const ID_DMA: u32 = 1 << 1;
/// What the DMA address register reads as ("QEMU CFG", big-endian).
pub const DMA_SIGNATURE: [u8; 8] = *b"QEMU CFG";
/// Bytes of the register block (`reg` in the device tree).
pub const MMIO_SIZE: u64 = 0x18;
/// File names hold at most 55 bytes and a NUL in their 56-byte directory slot.
const NAME_LEN: usize = 56;
/// Guest copies are done in chunks of this size (lengths are guest-controlled, up to 4 GiB).
const CHUNK: usize = 64 << 10;

/// A file could not be added.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("fw_cfg file name {0:?} is empty or longer than 55 bytes")]
    Name(String),
    #[error("fw_cfg already has a file named {0:?}")]
    Duplicate(String),
    #[error("fw_cfg has no key left for file {0:?}")]
    Full(String),
    #[error("fw_cfg item of {0} bytes is larger than 4 GiB")]
    TooLarge(usize),
}

#[derive(Clone, Debug, Default)]
struct Item {
    data: Vec<u8>,
    /// The guest may overwrite it through DMA (never resize it).
    writable: bool,
}

/// Guest-visible register state, for snapshots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FwCfgState {
    pub selector: u16,
    pub offset: u32,
    /// The high half of the DMA address register, waiting for its low half.
    pub dma_high: u32,
    pub dma_pending: Option<u64>,
}

pub struct FwCfg {
    /// Indexed by key; keys without an item are empty and read as zeros.
    items: Vec<Item>,
    /// Named files: (name, key), in the order they were added.
    files: Vec<(String, u16)>,
    dma: bool,
    st: FwCfgState,
}

impl FwCfg {
    /// A device with the signature, ID and an empty file directory. `dma` offers the DMA interface.
    pub fn new(dma: bool) -> Self {
        let mut f = FwCfg { items: Vec::new(), files: Vec::new(), dma, st: FwCfgState::default() };
        f.add_item(key::SIGNATURE, b"QEMU".to_vec());
        let id = ID_TRADITIONAL | if dma { ID_DMA } else { 0 };
        f.add_item(key::ID, id.to_le_bytes().to_vec());
        f.rebuild_dir();
        f
    }

    /// Set the item at `key` (numbered items: sizes are little-endian integers).
    pub fn add_item(&mut self, key: u16, data: Vec<u8>) {
        let i = usize::from(key);
        if self.items.len() <= i {
            self.items.resize_with(i + 1, Item::default);
        }
        self.items[i] = Item { data, writable: false };
    }

    /// Add a named file (`bootorder`, `etc/...`) under the next free key and list it in the
    /// directory. Returns its key.
    pub fn add_file(&mut self, name: &str, data: Vec<u8>, writable: bool) -> Result<u16, Error> {
        if name.is_empty() || name.len() >= NAME_LEN || name.contains('\0') {
            return Err(Error::Name(name.into()));
        }
        if self.files.iter().any(|(n, _)| n == name) {
            return Err(Error::Duplicate(name.into()));
        }
        if u32::try_from(data.len()).is_err() {
            return Err(Error::TooLarge(data.len()));
        }
        let k = key::FILE_FIRST
            .checked_add(u16::try_from(self.files.len()).map_err(|_| Error::Full(name.into()))?)
            .filter(|k| k & 0x4000 == 0)
            .ok_or_else(|| Error::Full(name.into()))?;
        self.add_item(k, data);
        self.items[usize::from(k)].writable = writable;
        self.files.push((name.into(), k));
        self.rebuild_dir();
        Ok(k)
    }

    /// `-kernel`, `-initrd` and `-append`, as QEMU hands them to firmware: little-endian 32-bit
    /// sizes, the bytes, and the command line with its terminating NUL.
    pub fn add_boot_images(
        &mut self,
        kernel: Option<Vec<u8>>,
        initrd: Option<Vec<u8>>,
        cmdline: Option<&str>,
    ) -> Result<(), Error> {
        let mut sized = |size_key: u16, data_key: u16, data: Vec<u8>| {
            let n = u32::try_from(data.len()).map_err(|_| Error::TooLarge(data.len()))?;
            self.add_item(size_key, n.to_le_bytes().to_vec());
            self.add_item(data_key, data);
            Ok::<(), Error>(())
        };
        if let Some(k) = kernel {
            sized(key::KERNEL_SIZE, key::KERNEL_DATA, k)?;
        }
        if let Some(i) = initrd {
            sized(key::INITRD_SIZE, key::INITRD_DATA, i)?;
        }
        if let Some(c) = cmdline {
            let mut bytes = c.as_bytes().to_vec();
            bytes.push(0);
            sized(key::CMDLINE_SIZE, key::CMDLINE_DATA, bytes)?;
        }
        Ok(())
    }

    /// The bytes of the item at `key` (empty if none).
    pub fn item(&self, key: u16) -> &[u8] {
        self.items.get(usize::from(key)).map_or(&[], |i| &i.data)
    }

    pub fn state(&self) -> FwCfgState {
        self.st.clone()
    }

    /// Back to no item selected and no DMA pending (a board reset).
    pub fn reset(&mut self) {
        self.st = FwCfgState::default();
    }

    /// A DMA operation was started and waits for [`FwCfg::process`].
    pub fn dma_pending(&self) -> bool {
        self.st.dma_pending.is_some()
    }

    /// The directory: a big-endian count, then per file its size, key, two reserved bytes and
    /// its NUL-padded name, sorted by name as QEMU lists them.
    fn rebuild_dir(&mut self) {
        let mut files = self.files.clone();
        files.sort();
        let mut dir = (files.len() as u32).to_be_bytes().to_vec();
        for (name, k) in files {
            let size = self.item(k).len() as u32;
            dir.extend_from_slice(&size.to_be_bytes());
            dir.extend_from_slice(&k.to_be_bytes());
            dir.extend_from_slice(&[0, 0]);
            let mut slot = [0u8; NAME_LEN];
            slot[..name.len()].copy_from_slice(name.as_bytes());
            dir.extend_from_slice(&slot);
        }
        self.add_item(key::FILE_DIR, dir);
    }

    fn select(&mut self, key: u16) {
        self.st.selector = key;
        self.st.offset = 0;
    }

    /// The selected item (bit 14, the old write-enable flag, and bit 15, "architecture
    /// specific", are part of the key; this board has no architecture-specific items).
    fn current(&self) -> Option<&Item> {
        self.items.get(usize::from(self.st.selector))
    }

    fn read_data(&mut self, size: Size) -> u64 {
        let n = size.bytes() as usize;
        let mut bytes = [0u8; 8];
        let at = self.st.offset as usize;
        if let Some(item) = self.current() {
            let avail = item.data.get(at..).unwrap_or(&[]);
            let take = avail.len().min(n);
            bytes[..take].copy_from_slice(&avail[..take]);
            let len = item.data.len();
            self.st.offset = (at + n).min(len) as u32;
        }
        u64::from_le_bytes(bytes)
    }

    /// Run the DMA operation the guest started, if any.
    pub fn process(&mut self, mem: &mut dyn GuestMemory) {
        let Some(at) = self.st.dma_pending.take() else {
            return;
        };
        let mut desc = [0u8; 16];
        if mem.read(at, &mut desc).is_err() {
            guest_error!("fw_cfg: DMA descriptor at {at:#x} is not in RAM");
            return;
        }
        let control = u32::from_be_bytes([desc[0], desc[1], desc[2], desc[3]]);
        let length = u32::from_be_bytes([desc[4], desc[5], desc[6], desc[7]]);
        let addr = u64::from_be_bytes([desc[8], desc[9], desc[10], desc[11], desc[12], desc[13], desc[14], desc[15]]);
        if control & ctl::SELECT != 0 {
            self.select((control >> 16) as u16);
        }
        let ok = if control & ctl::READ != 0 {
            self.dma_read(mem, addr, length)
        } else if control & ctl::WRITE != 0 {
            self.dma_write(mem, addr, length)
        } else if control & ctl::SKIP != 0 {
            let len = self.current().map_or(0, |i| i.data.len());
            self.st.offset = (self.st.offset as usize).saturating_add(length as usize).min(len) as u32;
            true
        } else {
            true
        };
        let result: u32 = if ok { 0 } else { ctl::ERROR };
        if mem.write(at, &result.to_be_bytes()).is_err() {
            guest_error!("fw_cfg: DMA descriptor at {at:#x} is not writable RAM");
        }
    }

    /// Copy `length` bytes of the item from its offset to guest `addr`; past the item's end
    /// the guest gets zeros.
    fn dma_read(&mut self, mem: &mut dyn GuestMemory, addr: u64, length: u32) -> bool {
        let start = self.st.offset as usize;
        let data: &[u8] = self.items.get(usize::from(self.st.selector)).map_or(&[], |i| &i.data);
        let mut done = 0usize;
        while done < length as usize {
            let n = (length as usize - done).min(CHUNK);
            let from = start + done;
            let real = data.get(from..).map_or(&[][..], |d| &d[..d.len().min(n)]);
            let Some(dst) = addr.checked_add(done as u64) else {
                return false;
            };
            let mut buf = vec![0u8; n];
            buf[..real.len()].copy_from_slice(real);
            if mem.write(dst, &buf).is_err() {
                guest_error!("fw_cfg: DMA read into {dst:#x} ({n} bytes) is not RAM");
                return false;
            }
            done += n;
        }
        self.st.offset = (start + length as usize).min(data.len()) as u32;
        true
    }

    /// Overwrite `length` bytes of a writable item at its offset from guest `addr`; a write
    /// that would pass the item's end, or to a read-only item, changes nothing.
    fn dma_write(&mut self, mem: &mut dyn GuestMemory, addr: u64, length: u32) -> bool {
        let start = self.st.offset as usize;
        let Some(item) = self.items.get_mut(usize::from(self.st.selector)) else {
            return false;
        };
        let end = start + length as usize;
        if !item.writable || end > item.data.len() {
            guest_error!("fw_cfg: DMA write of {length} bytes at {start} to item {:#x} refused", self.st.selector);
            return false;
        }
        let mut buf = vec![0u8; length as usize];
        if mem.read(addr, &mut buf).is_err() {
            guest_error!("fw_cfg: DMA write source {addr:#x} ({length} bytes) is not RAM");
            return false;
        }
        item.data[start..end].copy_from_slice(&buf);
        self.st.offset = end as u32;
        true
    }

    fn write_dma(&mut self, offset: u64, size: Size, value: u64) {
        if !self.dma {
            guest_error!("fw_cfg: DMA register written without the DMA interface");
            return;
        }
        match (offset, size) {
            (0x10, Size::B8) => self.st.dma_pending = Some(value.swap_bytes()),
            (0x10, Size::B4) => self.st.dma_high = (value as u32).swap_bytes(),
            (0x14, Size::B4) => {
                let low = (value as u32).swap_bytes();
                self.st.dma_pending = Some(u64::from(self.st.dma_high) << 32 | u64::from(low));
                self.st.dma_high = 0;
            }
            _ => guest_error!("fw_cfg: DMA register write of {} bytes at {offset:#x} ignored", size.bytes()),
        }
    }
}

impl MmioDevice for FwCfg {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        match offset {
            0x00 => self.read_data(size),
            0x10..0x18 if self.dma => {
                let at = (offset - 0x10) as usize;
                let n = (size.bytes() as usize).min(8 - at);
                let mut b = [0u8; 8];
                b[..n].copy_from_slice(&DMA_SIGNATURE[at..at + n]);
                u64::from_le_bytes(b)
            }
            // The selector is write-only.
            0x08..0x10 => 0,
            _ => {
                guest_error!("fw_cfg: read of {} bytes at {offset:#x}", size.bytes());
                0
            }
        }
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) {
        match (offset, size) {
            (0x08, Size::B2) => self.select((value as u16).swap_bytes()),
            (0x10 | 0x14, _) => self.write_dma(offset, size, value),
            // Data register writes are ignored since QEMU 2.4 (writes go through DMA).
            (0x00, _) => {}
            _ => guest_error!("fw_cfg: write of {} bytes at {offset:#x} ignored", size.bytes()),
        }
    }

    fn dma_pending(&self) -> bool {
        FwCfg::dma_pending(self)
    }

    fn run_dma(&mut self, mem: &mut dyn GuestMemory) {
        self.process(mem)
    }
}

#[cfg(test)]
#[path = "fw_cfg_tests.rs"]
mod tests;
