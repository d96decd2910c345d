//! virtio-blk, the block device (virtio 1.2 §5.2, device ID 2), over a [`BlockBackend`].
//!
//! One request queue. Each request is a chain:
//!
//! ```text
//!  device-readable:  le32 type | le32 reserved | le64 sector | data (OUT) or segments (DISCARD…)
//!  device-writable:  data (IN, GET_ID) ……………………………………………………………… | u8 status (last byte)
//! ```
//!
//! | type | value | what the device does |
//! |---|---|---|
//! | IN | 0 | read `len` bytes (a multiple of 512) at `sector` into the writable data |
//! | OUT | 1 | write the readable data at `sector` (IOERR when read-only) |
//! | FLUSH | 4 | `BlockBackend::flush` |
//! | GET_ID | 8 | the `serial` string, 20 bytes, zero-padded (not NUL-terminated when 20 long) |
//! | DISCARD | 11 | `BlockBackend::discard` for each `{le64 sector; le32 num_sectors; le32 flags}` |
//! | WRITE_ZEROES | 13 | write zeros over each segment (the `unmap` flag is accepted, zeros are written) |
//! | other | | status UNSUPP |
//!
//! Sectors are always 512 bytes. A range past the capacity, a length that is not a multiple of
//! 512 and a backend error give status IOERR (1); bad flags or too many segments give UNSUPP (2).
//! The status byte is written last, and the used length is the number of bytes written to the
//! writable part (data + status). A chain without a 16-byte header or without a writable byte
//! cannot be answered: it breaks the queue (the device then needs a reset, §2.1.2), as does a
//! buffer outside guest RAM.
//!
//! Offered features: SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH, and either RO (read-only backend) or
//! DISCARD + WRITE_ZEROES. I/O is synchronous: each request completes inside `process`.

use mimic_core::guest_error;
use mimic_memory::GuestMemory;
use mimic_virtio::device::read_config_bytes;
use mimic_virtio::{DescriptorChain, Queue, QueueError, VirtioDevice};
use std::io;

pub const DEVICE_ID: u32 = 2;
pub const SECTOR_SIZE: u64 = 512;

pub const VIRTIO_BLK_F_SIZE_MAX: u64 = 1 << 1;
pub const VIRTIO_BLK_F_SEG_MAX: u64 = 1 << 2;
pub const VIRTIO_BLK_F_RO: u64 = 1 << 5;
pub const VIRTIO_BLK_F_BLK_SIZE: u64 = 1 << 6;
pub const VIRTIO_BLK_F_FLUSH: u64 = 1 << 9;
pub const VIRTIO_BLK_F_DISCARD: u64 = 1 << 13;
pub const VIRTIO_BLK_F_WRITE_ZEROES: u64 = 1 << 14;

pub const VIRTIO_BLK_T_IN: u32 = 0;
pub const VIRTIO_BLK_T_OUT: u32 = 1;
pub const VIRTIO_BLK_T_FLUSH: u32 = 4;
pub const VIRTIO_BLK_T_GET_ID: u32 = 8;
pub const VIRTIO_BLK_T_DISCARD: u32 = 11;
pub const VIRTIO_BLK_T_WRITE_ZEROES: u32 = 13;

pub const VIRTIO_BLK_S_OK: u8 = 0;
pub const VIRTIO_BLK_S_IOERR: u8 = 1;
pub const VIRTIO_BLK_S_UNSUPP: u8 = 2;

/// `flags` bit of a discard / write-zeroes segment.
pub const VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP: u32 = 1;
/// Bytes of the GET_ID answer.
pub const ID_BYTES: usize = 20;
/// Largest single segment the driver may use (config `size_max`).
pub const SIZE_MAX: u32 = 1 << 20;
/// Largest discard / write-zeroes request in sectors, and segments per request.
pub const MAX_DISCARD_SECTORS: u32 = 1 << 22;
pub const MAX_DISCARD_SEG: u32 = 1;
/// Discard granularity hint in sectors (4 KiB).
pub const DISCARD_SECTOR_ALIGNMENT: u32 = 8;
/// Bytes moved per backend call.
const CHUNK: usize = 128 * 1024;
const HEADER: u64 = 16;
const SEGMENT: u64 = 16;

/// What virtio-blk needs from a disk image: bytes at offsets.
pub trait BlockBackend: Send {
    /// Size in bytes (the guest sees whole 512-byte sectors of it).
    fn size(&self) -> u64;
    fn read_only(&self) -> bool;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Make completed writes durable.
    fn flush(&mut self) -> io::Result<()>;
    /// The guest no longer needs these bytes (they may read back as anything, normally zeros).
    fn discard(&mut self, offset: u64, len: u64) -> io::Result<()>;
}

impl<T: BlockBackend + ?Sized> BlockBackend for Box<T> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_only(&self) -> bool {
        (**self).read_only()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        (**self).read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        (**self).write_at(offset, data)
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
    fn discard(&mut self, offset: u64, len: u64) -> io::Result<()> {
        (**self).discard(offset, len)
    }
}

/// A disk in host memory (tests, scratch disks). Discarded bytes read as zeros.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemDisk {
    pub data: Vec<u8>,
    pub read_only: bool,
    pub flushes: usize,
}

impl MemDisk {
    pub fn new(data: Vec<u8>) -> Self {
        MemDisk { data, read_only: false, flushes: 0 }
    }
    fn range(&self, offset: u64, len: usize) -> io::Result<std::ops::Range<usize>> {
        let start = usize::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let end = start.checked_add(len).filter(|&e| e <= self.data.len());
        end.map(|e| start..e).ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))
    }
}

impl BlockBackend for MemDisk {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }
    fn read_only(&self) -> bool {
        self.read_only
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let r = self.range(offset, buf.len())?;
        buf.copy_from_slice(&self.data[r]);
        Ok(())
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        if self.read_only {
            return Err(io::Error::from(io::ErrorKind::PermissionDenied));
        }
        let r = self.range(offset, data.len())?;
        self.data[r].copy_from_slice(data);
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.flushes += 1;
        Ok(())
    }
    fn discard(&mut self, offset: u64, len: u64) -> io::Result<()> {
        let len = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let r = self.range(offset, len)?;
        self.data[r].fill(0);
        Ok(())
    }
}

/// Board-level settings of a virtio-blk device (QEMU `-device virtio-blk-device,serial=…`).
#[derive(Clone, Debug)]
pub struct BlkConfig {
    /// Returned by GET_ID (`/sys/block/vda/serial`); cut to 20 bytes.
    pub serial: String,
    /// Largest queue the driver may use.
    pub queue_size: u16,
}

impl Default for BlkConfig {
    fn default() -> Self {
        BlkConfig { serial: String::new(), queue_size: 256 }
    }
}

/// A virtio block device over `B`.
pub struct VirtioBlk<B> {
    backend: B,
    serial: [u8; ID_BYTES],
    queue_size: u16,
    capacity: u64,
    read_only: bool,
    bounce: Vec<u8>,
}

impl<B> std::fmt::Debug for VirtioBlk<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtioBlk")
            .field("capacity", &self.capacity)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

/// How a request ended: status byte, and bytes written before it.
struct Outcome {
    status: u8,
    written: u64,
}

impl Outcome {
    fn status(status: u8) -> Self {
        Outcome { status, written: 0 }
    }
}

impl<B: BlockBackend> VirtioBlk<B> {
    pub fn new(backend: B, config: BlkConfig) -> Self {
        let mut serial = [0; ID_BYTES];
        let s = config.serial.as_bytes();
        let n = s.len().min(ID_BYTES);
        serial[..n].copy_from_slice(&s[..n]);
        VirtioBlk {
            capacity: backend.size() / SECTOR_SIZE,
            read_only: backend.read_only(),
            backend,
            serial,
            queue_size: config.queue_size.clamp(4, 32768).next_power_of_two().min(32768),
            bounce: Vec::new(),
        }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }
    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }
    /// Capacity in 512-byte sectors.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    fn config_bytes(&self) -> [u8; 60] {
        let mut c = [0u8; 60];
        c[0..8].copy_from_slice(&self.capacity.to_le_bytes());
        c[8..12].copy_from_slice(&SIZE_MAX.to_le_bytes());
        c[12..16].copy_from_slice(&u32::from(self.queue_size - 2).to_le_bytes()); // seg_max
                                                                                  // 16..20 geometry: not offered
        c[20..24].copy_from_slice(&(SECTOR_SIZE as u32).to_le_bytes()); // blk_size
                                                                        // 24..32 topology: not offered; 32 writeback, 33 unused
        c[34..36].copy_from_slice(&1u16.to_le_bytes()); // num_queues
        c[36..40].copy_from_slice(&MAX_DISCARD_SECTORS.to_le_bytes());
        c[40..44].copy_from_slice(&MAX_DISCARD_SEG.to_le_bytes());
        c[44..48].copy_from_slice(&DISCARD_SECTOR_ALIGNMENT.to_le_bytes());
        c[48..52].copy_from_slice(&MAX_DISCARD_SECTORS.to_le_bytes()); // max_write_zeroes_sectors
        c[52..56].copy_from_slice(&MAX_DISCARD_SEG.to_le_bytes()); // max_write_zeroes_seg
                                                                   // 56 write_zeroes_may_unmap = 0
        c
    }

    /// Whether `len` bytes at `sector` lie within the disk.
    fn in_range(&self, sector: u64, len: u64) -> bool {
        sector
            .checked_mul(SECTOR_SIZE)
            .and_then(|start| start.checked_add(len))
            .is_some_and(|end| end <= self.capacity * SECTOR_SIZE)
    }

    fn handle(&mut self, chain: &DescriptorChain, mem: &mut dyn GuestMemory) -> Result<u32, QueueError> {
        if chain.readable_len() < HEADER {
            return Err(QueueError::BadRequest { what: "virtio-blk request without a 16-byte header" });
        }
        if chain.writable_len() < 1 {
            return Err(QueueError::BadRequest { what: "virtio-blk request without a status byte" });
        }
        let mut h = [0u8; HEADER as usize];
        chain.read_at(&*mem, 0, &mut h)?;
        let kind = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let sector = u64::from_le_bytes(h[8..16].try_into().unwrap_or_default());
        let status_at = chain.writable_len() - 1;
        let out = match kind {
            VIRTIO_BLK_T_IN => self.read(chain, mem, sector, status_at)?,
            VIRTIO_BLK_T_OUT => self.write(chain, &*mem, sector)?,
            VIRTIO_BLK_T_FLUSH => Outcome::status(self.io_status(|b| b.flush(), "flush")),
            VIRTIO_BLK_T_GET_ID => {
                let n = ID_BYTES.min(status_at as usize);
                let serial = self.serial;
                chain.write_at(mem, 0, &serial[..n])?;
                Outcome { status: VIRTIO_BLK_S_OK, written: n as u64 }
            }
            VIRTIO_BLK_T_DISCARD | VIRTIO_BLK_T_WRITE_ZEROES => Outcome::status(self.segments(chain, &*mem, kind)?),
            _ => Outcome::status(VIRTIO_BLK_S_UNSUPP),
        };
        chain.write_at(mem, status_at, &[out.status])?;
        Ok((out.written + 1) as u32)
    }

    fn io_status(&mut self, op: impl FnOnce(&mut B) -> io::Result<()>, what: &str) -> u8 {
        match op(&mut self.backend) {
            Ok(()) => VIRTIO_BLK_S_OK,
            Err(e) => {
                tracing::warn!("virtio-blk: {what} failed: {e}");
                VIRTIO_BLK_S_IOERR
            }
        }
    }

    fn read(
        &mut self,
        chain: &DescriptorChain,
        mem: &mut dyn GuestMemory,
        sector: u64,
        len: u64,
    ) -> Result<Outcome, QueueError> {
        if !len.is_multiple_of(SECTOR_SIZE) || !self.in_range(sector, len) {
            guest_error!(sector, len, "virtio-blk: read outside the disk or not whole sectors");
            return Ok(Outcome::status(VIRTIO_BLK_S_IOERR));
        }
        let base = sector * SECTOR_SIZE;
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(CHUNK as u64) as usize;
            self.bounce.resize(n, 0);
            if let Err(e) = self.backend.read_at(base + done, &mut self.bounce[..n]) {
                tracing::warn!("virtio-blk: read at {:#x} failed: {e}", base + done);
                return Ok(Outcome { status: VIRTIO_BLK_S_IOERR, written: done });
            }
            chain.write_at(mem, done, &self.bounce[..n])?;
            done += n as u64;
        }
        Ok(Outcome { status: VIRTIO_BLK_S_OK, written: done })
    }

    fn write(&mut self, chain: &DescriptorChain, mem: &dyn GuestMemory, sector: u64) -> Result<Outcome, QueueError> {
        let len = chain.readable_len() - HEADER;
        if self.read_only {
            guest_error!("virtio-blk: write to a read-only disk");
            return Ok(Outcome::status(VIRTIO_BLK_S_IOERR));
        }
        if !len.is_multiple_of(SECTOR_SIZE) || !self.in_range(sector, len) {
            guest_error!(sector, len, "virtio-blk: write outside the disk or not whole sectors");
            return Ok(Outcome::status(VIRTIO_BLK_S_IOERR));
        }
        let base = sector * SECTOR_SIZE;
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(CHUNK as u64) as usize;
            self.bounce.resize(n, 0);
            chain.read_at(mem, HEADER + done, &mut self.bounce[..n])?;
            if let Err(e) = self.backend.write_at(base + done, &self.bounce[..n]) {
                tracing::warn!("virtio-blk: write at {:#x} failed: {e}", base + done);
                return Ok(Outcome::status(VIRTIO_BLK_S_IOERR));
            }
            done += n as u64;
        }
        Ok(Outcome::status(VIRTIO_BLK_S_OK))
    }

    /// DISCARD and WRITE_ZEROES: a list of `{le64 sector; le32 num_sectors; le32 flags}`.
    fn segments(&mut self, chain: &DescriptorChain, mem: &dyn GuestMemory, kind: u32) -> Result<u8, QueueError> {
        if self.read_only {
            guest_error!("virtio-blk: discard / write-zeroes on a read-only disk");
            return Ok(VIRTIO_BLK_S_IOERR);
        }
        let len = chain.readable_len() - HEADER;
        let count = len / SEGMENT;
        if !len.is_multiple_of(SEGMENT) || count == 0 || count > u64::from(MAX_DISCARD_SEG) {
            guest_error!(len, "virtio-blk: discard / write-zeroes segment list of bad length");
            return Ok(VIRTIO_BLK_S_UNSUPP);
        }
        let allowed_flags = if kind == VIRTIO_BLK_T_WRITE_ZEROES { VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP } else { 0 };
        for i in 0..count {
            let mut s = [0u8; SEGMENT as usize];
            chain.read_at(mem, HEADER + i * SEGMENT, &mut s)?;
            let sector = u64::from_le_bytes(s[0..8].try_into().unwrap_or_default());
            let num = u32::from_le_bytes([s[8], s[9], s[10], s[11]]);
            let flags = u32::from_le_bytes([s[12], s[13], s[14], s[15]]);
            if flags & !allowed_flags != 0 {
                guest_error!(flags, "virtio-blk: unsupported discard / write-zeroes flags");
                return Ok(VIRTIO_BLK_S_UNSUPP);
            }
            let bytes = u64::from(num) * SECTOR_SIZE;
            if num > MAX_DISCARD_SECTORS || !self.in_range(sector, bytes) {
                guest_error!(sector, num, "virtio-blk: discard / write-zeroes outside the disk or too large");
                return Ok(VIRTIO_BLK_S_IOERR);
            }
            let start = sector * SECTOR_SIZE;
            let status = if kind == VIRTIO_BLK_T_DISCARD {
                self.io_status(|b| b.discard(start, bytes), "discard")
            } else {
                self.write_zeroes(start, bytes)
            };
            if status != VIRTIO_BLK_S_OK {
                return Ok(status);
            }
        }
        Ok(VIRTIO_BLK_S_OK)
    }

    fn write_zeroes(&mut self, start: u64, len: u64) -> u8 {
        let zeros = vec![0u8; (len.min(CHUNK as u64)) as usize];
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(CHUNK as u64) as usize;
            let r = self.backend.write_at(start + done, &zeros[..n]);
            if let Err(e) = r {
                tracing::warn!("virtio-blk: write-zeroes at {:#x} failed: {e}", start + done);
                return VIRTIO_BLK_S_IOERR;
            }
            done += n as u64;
        }
        VIRTIO_BLK_S_OK
    }
}

impl<B: BlockBackend> VirtioDevice for VirtioBlk<B> {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }
    fn features(&self) -> u64 {
        let base = VIRTIO_BLK_F_SIZE_MAX | VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH;
        if self.read_only {
            base | VIRTIO_BLK_F_RO
        } else {
            base | VIRTIO_BLK_F_DISCARD | VIRTIO_BLK_F_WRITE_ZEROES
        }
    }
    fn num_queues(&self) -> usize {
        1
    }
    fn queue_max_size(&self, _index: usize) -> u16 {
        self.queue_size
    }
    fn read_config(&self, offset: u64, data: &mut [u8]) {
        read_config_bytes(&self.config_bytes(), offset, data);
    }
    fn process_queue(&mut self, _index: usize, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        while let Some(chain) = queue.pop(mem) {
            match self.handle(&chain, mem) {
                Ok(len) => queue.add_used(mem, chain.head(), len),
                Err(e) => return queue.fail(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mimic_core::Size;
    use mimic_memory::MmioDevice;
    use mimic_virtio::features::{status, VIRTIO_F_RING_INDIRECT_DESC, VIRTIO_F_VERSION_1};
    use mimic_virtio::mmio::{CONFIG, STATUS};
    use mimic_virtio::mock::{r, w, Driver, TestIrq};
    use mimic_virtio::VirtioMmio;

    type Blk = VirtioMmio<VirtioBlk<MemDisk>, TestIrq>;
    const DISK: usize = 64 * 512;

    fn disk() -> MemDisk {
        MemDisk::new((0..DISK).map(|i| (i / 512) as u8 ^ (i as u8)).collect())
    }

    fn setup_with(d: MemDisk, features: u64) -> (Blk, TestIrq, Driver) {
        let irq = TestIrq::new();
        let cfg = BlkConfig { serial: "mimic-disk-0".into(), queue_size: 16 };
        let mut dev = VirtioMmio::new(VirtioBlk::new(d, cfg), irq.clone());
        let mut drv = Driver::new(1 << 20);
        drv.init(&mut dev, features, 1, 16);
        (dev, irq, drv)
    }

    fn setup() -> (Blk, TestIrq, Driver) {
        setup_with(disk(), VIRTIO_F_VERSION_1)
    }

    fn header(kind: u32, sector: u64) -> Vec<u8> {
        let mut h = kind.to_le_bytes().to_vec();
        h.extend([0; 4]);
        h.extend(sector.to_le_bytes());
        h
    }

    /// Send one request (`out` after the header, `in_len` writable data bytes, then the status
    /// byte); returns (status, used len, data read back).
    fn request(
        dev: &mut Blk,
        drv: &mut Driver,
        kind: u32,
        sector: u64,
        out: &[u8],
        in_len: usize,
    ) -> (u8, u32, Vec<u8>) {
        let h = drv.buf(&header(kind, sector));
        let mut segs = vec![r(h, 16)];
        if !out.is_empty() {
            segs.push(r(drv.buf(out), out.len() as u32));
        }
        let data = drv.alloc(in_len.max(1));
        if in_len > 0 {
            segs.push(w(data, in_len as u32));
        }
        let st = drv.buf(&[0xff]);
        segs.push(w(st, 1));
        drv.add_chain(0, &segs);
        Driver::notify(dev, 0);
        dev.process(&mut drv.mem);
        let used = drv.take_used(0);
        assert_eq!(used.len(), 1, "one used element");
        (drv.read_mem(st, 1)[0], used[0].1, drv.read_mem(data, in_len))
    }

    fn segment(sector: u64, num: u32, flags: u32) -> Vec<u8> {
        let mut s = sector.to_le_bytes().to_vec();
        s.extend(num.to_le_bytes());
        s.extend(flags.to_le_bytes());
        s
    }

    #[test]
    fn config_capacity_is_in_sectors() {
        let (mut dev, _, _) = setup();
        let lo = dev.read(CONFIG, Size::B4);
        let hi = dev.read(CONFIG + 4, Size::B4);
        assert_eq!(lo | (hi << 32), 64);
    }

    #[test]
    fn config_seg_max_and_blk_size() {
        let (mut dev, _, _) = setup();
        assert_eq!((dev.read(CONFIG + 12, Size::B4), dev.read(CONFIG + 20, Size::B4)), (14, 512));
    }

    #[test]
    fn read_only_backend_offers_ro_and_no_discard() {
        let mut d = disk();
        d.read_only = true;
        let f = VirtioBlk::new(d, BlkConfig::default()).features();
        assert_eq!((f & VIRTIO_BLK_F_RO != 0, f & VIRTIO_BLK_F_DISCARD != 0), (true, false));
    }

    #[test]
    fn read_returns_disk_sectors_and_counts_status_in_used_len() {
        let (mut dev, irq, mut drv) = setup();
        let (st, len, data) = request(&mut dev, &mut drv, VIRTIO_BLK_T_IN, 3, &[], 1024);
        assert_eq!((st, len, data, irq.level()), (VIRTIO_BLK_S_OK, 1025, disk().data[3 * 512..5 * 512].to_vec(), true));
    }

    #[test]
    fn write_stores_data_at_sector() {
        let (mut dev, _, mut drv) = setup();
        let payload = vec![0xa5; 512];
        let (st, len, _) = request(&mut dev, &mut drv, VIRTIO_BLK_T_OUT, 7, &payload, 0);
        assert_eq!((st, len), (VIRTIO_BLK_S_OK, 1));
        assert_eq!(dev.device().backend().data[7 * 512..8 * 512], payload[..]);
    }

    #[test]
    fn write_on_read_only_disk_is_ioerr_and_changes_nothing() {
        let mut d = disk();
        d.read_only = true;
        let (mut dev, _, mut drv) = setup_with(d, VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_RO);
        let (st, _, _) = request(&mut dev, &mut drv, VIRTIO_BLK_T_OUT, 0, &[0; 512], 0);
        assert_eq!((st, dev.device().backend().data == disk().data), (VIRTIO_BLK_S_IOERR, true));
    }

    #[test]
    fn read_past_capacity_is_ioerr() {
        let (mut dev, _, mut drv) = setup();
        let (st, len, _) = request(&mut dev, &mut drv, VIRTIO_BLK_T_IN, 63, &[], 1024);
        assert_eq!((st, len), (VIRTIO_BLK_S_IOERR, 1));
    }

    #[test]
    fn write_at_overflowing_sector_is_ioerr() {
        let (mut dev, _, mut drv) = setup();
        let (st, _, _) = request(&mut dev, &mut drv, VIRTIO_BLK_T_OUT, u64::MAX / 256, &[1; 512], 0);
        assert_eq!(st, VIRTIO_BLK_S_IOERR);
    }

    #[test]
    fn read_of_partial_sector_is_ioerr() {
        let (mut dev, _, mut drv) = setup();
        let (st, _, _) = request(&mut dev, &mut drv, VIRTIO_BLK_T_IN, 0, &[], 100);
        assert_eq!(st, VIRTIO_BLK_S_IOERR);
    }

    #[test]
    fn flush_reaches_backend() {
        let (mut dev, _, mut drv) = setup();
        let (st, _, _) = request(&mut dev, &mut drv, VIRTIO_BLK_T_FLUSH, 0, &[], 0);
        assert_eq!((st, dev.device().backend().flushes), (VIRTIO_BLK_S_OK, 1));
    }

    #[test]
    fn get_id_returns_serial_zero_padded() {
        let (mut dev, _, mut drv) = setup();
        let (st, len, id) = request(&mut dev, &mut drv, VIRTIO_BLK_T_GET_ID, 0, &[], 20);
        let mut want = b"mimic-disk-0".to_vec();
        want.resize(20, 0);
        assert_eq!((st, len, id), (VIRTIO_BLK_S_OK, 21, want));
    }

    #[test]
    fn discard_zeroes_range_in_mem_disk() {
        let (mut dev, _, mut drv) = setup();
        let (st, _, _) = request(&mut dev, &mut drv, VIRTIO_BLK_T_DISCARD, 0, &segment(2, 2, 0), 0);
        let d = &dev.device().backend().data;
        assert_eq!(
            (st, d[1024..2048].iter().all(|&b| b == 0), d[2048] == disk().data[2048]),
            (VIRTIO_BLK_S_OK, true, true)
        );
    }

    #[test]
    fn discard_with_unmap_flag_is_unsupported() {
        let (mut dev, _, mut drv) = setup();
        let (st, _, _) = request(&mut dev, &mut drv, VIRTIO_BLK_T_DISCARD, 0, &segment(2, 2, 1), 0);
        assert_eq!(st, VIRTIO_BLK_S_UNSUPP);
    }

    #[test]
    fn discard_past_capacity_is_ioerr() {
        let (mut dev, _, mut drv) = setup();
        let (st, _, _) = request(&mut dev, &mut drv, VIRTIO_BLK_T_DISCARD, 0, &segment(60, 8, 0), 0);
        assert_eq!(st, VIRTIO_BLK_S_IOERR);
    }

    #[test]
    fn write_zeroes_zeroes_range() {
        let (mut dev, _, mut drv) = setup();
        let (st, _, _) = request(&mut dev, &mut drv, VIRTIO_BLK_T_WRITE_ZEROES, 0, &segment(5, 1, 1), 0);
        assert_eq!((st, dev.device().backend().data[2560..3072].iter().all(|&b| b == 0)), (VIRTIO_BLK_S_OK, true));
    }

    #[test]
    fn unknown_request_type_is_unsupported() {
        let (mut dev, _, mut drv) = setup();
        let (st, _, _) = request(&mut dev, &mut drv, 99, 0, &[], 0);
        assert_eq!(st, VIRTIO_BLK_S_UNSUPP);
    }

    #[test]
    fn request_without_status_byte_sets_needs_reset() {
        let (mut dev, _, mut drv) = setup();
        let h = drv.buf(&header(VIRTIO_BLK_T_FLUSH, 0));
        drv.add_chain(0, &[r(h, 16)]);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        assert_ne!(Driver::read32(&mut dev, STATUS) & u32::from(status::DEVICE_NEEDS_RESET), 0);
    }

    #[test]
    fn request_with_short_header_sets_needs_reset() {
        let (mut dev, _, mut drv) = setup();
        let h = drv.buf(&[0; 8]);
        let st = drv.alloc(1);
        drv.add_chain(0, &[r(h, 8), w(st, 1)]);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        assert_ne!(Driver::read32(&mut dev, STATUS) & u32::from(status::DEVICE_NEEDS_RESET), 0);
    }

    struct FailingDisk;
    impl BlockBackend for FailingDisk {
        fn size(&self) -> u64 {
            4096
        }
        fn read_only(&self) -> bool {
            false
        }
        fn read_at(&mut self, _: u64, _: &mut [u8]) -> io::Result<()> {
            Err(io::Error::other("test: disk gone"))
        }
        fn write_at(&mut self, _: u64, _: &[u8]) -> io::Result<()> {
            Err(io::Error::other("test: disk gone"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::other("test: disk gone"))
        }
        fn discard(&mut self, _: u64, _: u64) -> io::Result<()> {
            Err(io::Error::other("test: disk gone"))
        }
    }

    #[test]
    fn backend_read_error_is_ioerr() {
        let irq = TestIrq::new();
        let mut dev = VirtioMmio::new(VirtioBlk::new(FailingDisk, BlkConfig::default()), irq);
        let mut drv = Driver::new(1 << 20);
        drv.init(&mut dev, VIRTIO_F_VERSION_1, 1, 16);
        let h = drv.buf(&header(VIRTIO_BLK_T_IN, 0));
        let (d, st) = (drv.alloc(512), drv.buf(&[0xff]));
        drv.add_chain(0, &[r(h, 16), w(d, 512), w(st, 1)]);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        assert_eq!((drv.read_mem(st, 1)[0], drv.take_used(0)[0].1), (VIRTIO_BLK_S_IOERR, 1));
    }

    #[test]
    fn indirect_read_spanning_segments_fills_them_in_order() {
        let (mut dev, _, mut drv) = setup_with(disk(), VIRTIO_F_VERSION_1 | VIRTIO_F_RING_INDIRECT_DESC);
        let h = drv.buf(&header(VIRTIO_BLK_T_IN, 1));
        let (a, b, st) = (drv.alloc(512), drv.alloc(512), drv.buf(&[0xff]));
        drv.add_indirect(0, &[r(h, 16), w(a, 512), w(b, 512), w(st, 1)]);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        let got = [drv.read_mem(a, 512), drv.read_mem(b, 512)].concat();
        assert_eq!((drv.read_mem(st, 1)[0], got), (VIRTIO_BLK_S_OK, disk().data[512..1536].to_vec()));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Random request types, sectors, segment lists and buffer shapes: the device answers
        /// or breaks the queue, never panics, and never writes outside the disk.
        #[test]
        fn random_requests_never_panic(
            kind in proptest::prop_oneof![0u32..16, proptest::prelude::any::<u32>()],
            sector in proptest::prop_oneof![0u64..80, proptest::prelude::any::<u64>()],
            out in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1100),
            in_lens in proptest::collection::vec(0u32..1100, 0..4),
        ) {
            let (mut dev, _, mut drv) = setup();
            let h = drv.buf(&header(kind, sector));
            let mut segs = vec![r(h, 16)];
            if !out.is_empty() {
                segs.push(r(drv.buf(&out), out.len() as u32));
            }
            for l in &in_lens {
                segs.push(w(drv.alloc(*l as usize + 1), *l));
            }
            drv.add_chain(0, &segs);
            Driver::notify(&mut dev, 0);
            dev.process(&mut drv.mem);
            proptest::prop_assert_eq!(dev.device().backend().data.len(), DISK);
        }
    }
}
