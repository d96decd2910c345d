//! virtio-blk, the block device (virtio 1.2 §5.2, device ID 2), over a [`BlockQueue`].
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
//! | FLUSH | 4 | [`BlkOp::Flush`] (after every write submitted before it) |
//! | GET_ID | 8 | the `serial` string, 20 bytes, zero-padded (not NUL-terminated when 20 long) |
//! | DISCARD | 11 | [`BlkOp::Discard`] for each `{le64 sector; le32 num_sectors; le32 flags}` |
//! | WRITE_ZEROES | 13 | [`BlkOp::WriteZeroes`] for each segment (the `unmap` flag is accepted) |
//! | other | | status UNSUPP |
//!
//! Sectors are always 512 bytes. A range past the capacity, a length that is not a multiple of
//! 512 and a backend error give status IOERR (1); bad flags or too many segments give UNSUPP (2).
//! The status byte is written last, and the used length is the number of bytes written to the
//! writable part (data + status). A chain without a 16-byte header or without a writable byte
//! cannot be answered: it breaks the queue (the device then needs a reset, §2.1.2), as does a
//! buffer outside guest RAM.
//!
//! # Asynchronous I/O
//! The device never waits for the disk. Requests become [`BlkOp`]s handed to a [`BlockQueue`]
//! (on the board: the block crate's I/O thread), and finished operations come back through
//! [`VirtioDevice::poll`], which the board calls between CPU slices; only then is guest memory
//! touched (status byte written, used ring updated). Read data goes straight into guest RAM when
//! the memory can lend it ([`GuestMemory::lend`]: the backend thread fills the guest's buffers in
//! place, [`BlkOp::ReadInto`]), else through a [`DmaBuf`] copied in on completion; written data
//! is copied into a [`DmaBuf`] on the machine thread (lending there made writes slower on this
//! host: a gather `pwritev` of the guest's scattered pages cost more than the copy saves). Large
//! requests are cut into operations of at most [`MAX_OP_BYTES`] and at most
//! [`MAX_IN_FLIGHT_BYTES`] are out at once, so a guest cannot make the host buffer more than
//! that; chains beyond the limit stay in the available ring until completions free room.
//! The backend executes operations in submission order, and the device submits them in ring
//! order, so a FLUSH follows every write the guest made available before it.
//! [`Inline`] executes operations at once on the caller's thread (tests, in-memory disks).
//!
//! Offered features: SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH, and either RO (read-only backend) or
//! DISCARD + WRITE_ZEROES.

use mimic_core::{guest_error, DmaBuf, LentMemory};
use mimic_memory::GuestMemory;
use mimic_virtio::device::read_config_bytes;
use mimic_virtio::{DescriptorChain, Queue, QueueError, VirtioDevice};
use std::collections::{HashMap, VecDeque};
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
/// Largest data buffer of one backend operation: a read or write request is cut into
/// operations of at most this size (one host system call each for raw images).
pub const MAX_OP_BYTES: usize = 4 << 20;
/// Data bytes handed to the backend and not yet completed, at most (one operation may exceed it
/// when nothing else is in flight).
pub const MAX_IN_FLIGHT_BYTES: u64 = 32 << 20;
/// Completed data buffers kept for reuse.
const POOL: usize = 8;
const HEADER: u64 = 16;
const SEGMENT: u64 = 16;

/// What virtio-blk needs from a disk image, synchronously: bytes at offsets. Wrapped in
/// [`Inline`] it is a [`BlockQueue`].
pub trait BlockBackend: Send {
    /// Size in bytes (the guest sees whole 512-byte sectors of it).
    fn size(&self) -> u64;
    fn read_only(&self) -> bool;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Fill `bufs`, one after the other, from `offset`.
    fn read_vectored(&mut self, mut offset: u64, bufs: &mut [&mut [u8]]) -> io::Result<()> {
        for b in bufs.iter_mut() {
            self.read_at(offset, b)?;
            offset += b.len() as u64;
        }
        Ok(())
    }
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
    fn read_vectored(&mut self, offset: u64, bufs: &mut [&mut [u8]]) -> io::Result<()> {
        (**self).read_vectored(offset, bufs)
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

/// One backend operation. Data buffers travel with it and come back in its [`BlkCompletion`].
#[derive(Debug)]
pub enum BlkOp {
    /// Fill `buf` from `offset`.
    Read { offset: u64, buf: DmaBuf },
    /// Fill guest RAM lent for the operation from `offset`; the completion has no buffer.
    ReadInto { offset: u64, into: Box<dyn LentMemory> },
    /// Write `data` at `offset`.
    Write { offset: u64, data: DmaBuf },
    /// Make every write submitted before it durable.
    Flush,
    /// The guest no longer needs the range.
    Discard { offset: u64, len: u64 },
    /// Make the range read as zeros.
    WriteZeroes { offset: u64, len: u64 },
}

/// A finished [`BlkOp`].
#[derive(Debug)]
pub struct BlkCompletion {
    /// The tag given to [`BlockQueue::submit`].
    pub tag: u64,
    pub result: io::Result<()>,
    /// The operation's buffer (the data, for a read).
    pub buf: Option<DmaBuf>,
}

/// Where virtio-blk sends its I/O: operations take effect in submission order, possibly on
/// another thread, and their completions are collected without blocking.
pub trait BlockQueue: Send {
    /// Size in bytes.
    fn size(&self) -> u64;
    fn read_only(&self) -> bool;
    /// Start `op`; its completion carries `tag`. Never waits for the disk.
    fn submit(&mut self, tag: u64, op: BlkOp);
    /// The next finished operation, if there is one now.
    fn poll(&mut self) -> Option<BlkCompletion>;
    /// The next finished operation, waiting for it if operations are out; `None` when none
    /// are. The default does not wait.
    fn wait(&mut self) -> Option<BlkCompletion> {
        self.poll()
    }
}

/// A [`BlockBackend`] as a [`BlockQueue`] that executes each operation during `submit`.
#[derive(Debug, Default)]
pub struct Inline<B> {
    backend: B,
    done: VecDeque<BlkCompletion>,
}

impl<B> Inline<B> {
    pub fn new(backend: B) -> Self {
        Inline { backend, done: VecDeque::new() }
    }
}

impl<B> std::ops::Deref for Inline<B> {
    type Target = B;
    fn deref(&self) -> &B {
        &self.backend
    }
}

impl<B> std::ops::DerefMut for Inline<B> {
    fn deref_mut(&mut self) -> &mut B {
        &mut self.backend
    }
}

impl<B: BlockBackend> BlockQueue for Inline<B> {
    fn size(&self) -> u64 {
        self.backend.size()
    }
    fn read_only(&self) -> bool {
        self.backend.read_only()
    }
    fn submit(&mut self, tag: u64, op: BlkOp) {
        let b = &mut self.backend;
        let (result, buf) = match op {
            BlkOp::Read { offset, mut buf } => (b.read_at(offset, &mut buf), Some(buf)),
            BlkOp::ReadInto { offset, mut into } => (b.read_vectored(offset, &mut into.slices_mut()), None),
            BlkOp::Write { offset, data } => (b.write_at(offset, &data), Some(data)),
            BlkOp::Flush => (b.flush(), None),
            BlkOp::Discard { offset, len } => (b.discard(offset, len), None),
            BlkOp::WriteZeroes { offset, len } => (write_zeroes(b, offset, len), None),
        };
        self.done.push_back(BlkCompletion { tag, result, buf });
    }
    fn poll(&mut self) -> Option<BlkCompletion> {
        self.done.pop_front()
    }
}

fn write_zeroes(b: &mut impl BlockBackend, offset: u64, len: u64) -> io::Result<()> {
    const CHUNK: u64 = 1 << 20;
    let zeros = vec![0u8; len.min(CHUNK) as usize];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(CHUNK);
        b.write_at(offset + done, &zeros[..n as usize])?;
        done += n;
    }
    Ok(())
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
    /// Largest queue the driver may use; `seg_max` is two less.
    pub queue_size: u16,
}

impl Default for BlkConfig {
    /// Queue size 512 (QEMU: 256): Linux needs one segment per discontiguous page, so a 1 MiB
    /// `O_DIRECT` buffer takes 256 segments, which QEMU's `seg_max` of 254 splits into two
    /// requests; 510 keeps requests up to Linux's default 1280 KiB whole.
    fn default() -> Self {
        BlkConfig { serial: String::new(), queue_size: 512 }
    }
}

/// What a popped request asks of the backend.
#[derive(Debug)]
enum Work {
    /// Data from disk byte `base` into the writable part.
    Read {
        base: u64,
    },
    /// The readable data after the header to disk byte `base`.
    Write {
        base: u64,
    },
    Flush,
    /// Discard or write-zeroes over these (byte offset, byte length) ranges.
    Segments {
        discard: bool,
        ranges: Vec<(u64, u64)>,
    },
}

/// A request whose operations are not all complete.
#[derive(Debug)]
struct InFlight {
    id: u64,
    chain: DescriptorChain,
    work: Work,
    /// Data bytes (Read/Write) or operations (Flush, Segments) in all.
    total: u64,
    /// How much of `total` has been submitted.
    submitted: u64,
    /// Operations submitted and not yet completed.
    ops: u32,
    status: u8,
    /// Read data copied to the guest, in order, before any failure.
    delivered: u64,
}

impl InFlight {
    fn done(&self) -> bool {
        self.ops == 0 && self.submitted == self.total
    }
}

/// What an operation in flight belongs to.
#[derive(Clone, Copy, Debug)]
struct OpRef {
    request: u64,
    /// Byte offset of a read's data within the request.
    at: u64,
    /// Data bytes it holds (for the in-flight limit).
    bytes: u64,
    /// A read into lent guest RAM ([`BlkOp::ReadInto`]).
    lent: bool,
}

/// A virtio block device over `Q`.
pub struct VirtioBlk<Q> {
    io: Q,
    serial: [u8; ID_BYTES],
    queue_size: u16,
    capacity: u64,
    read_only: bool,
    /// Requests with operations still to submit or complete, in ring order.
    requests: VecDeque<InFlight>,
    /// Operations out at the backend, by tag. Entries outlive a device reset (their requests are
    /// gone then, so the completions are dropped).
    ops: HashMap<u64, OpRef>,
    next_tag: u64,
    next_request: u64,
    in_flight_bytes: u64,
    pool: Vec<DmaBuf>,
}

impl<Q> std::fmt::Debug for VirtioBlk<Q> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtioBlk")
            .field("capacity", &self.capacity)
            .field("read_only", &self.read_only)
            .field("requests", &self.requests.len())
            .field("ops", &self.ops.len())
            .finish_non_exhaustive()
    }
}

impl<B: BlockBackend> VirtioBlk<Inline<B>> {
    /// A device whose I/O happens synchronously during `process` (tests, in-memory disks).
    pub fn new_inline(backend: B, config: BlkConfig) -> Self {
        Self::new(Inline::new(backend), config)
    }
}

impl<Q: BlockQueue> VirtioBlk<Q> {
    pub fn new(io: Q, config: BlkConfig) -> Self {
        let mut serial = [0; ID_BYTES];
        let s = config.serial.as_bytes();
        let n = s.len().min(ID_BYTES);
        serial[..n].copy_from_slice(&s[..n]);
        VirtioBlk {
            capacity: io.size() / SECTOR_SIZE,
            read_only: io.read_only(),
            io,
            serial,
            queue_size: config.queue_size.clamp(4, 32768).next_power_of_two().min(32768),
            requests: VecDeque::new(),
            ops: HashMap::new(),
            next_tag: 0,
            next_request: 0,
            in_flight_bytes: 0,
            pool: Vec::new(),
        }
    }

    pub fn backend(&self) -> &Q {
        &self.io
    }
    pub fn backend_mut(&mut self) -> &mut Q {
        &mut self.io
    }
    /// Capacity in 512-byte sectors.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }
    /// Backend operations submitted and not completed yet.
    pub fn ops_in_flight(&self) -> usize {
        self.ops.len()
    }

    fn config_bytes(&self) -> [u8; 60] {
        let mut c = [0u8; 60];
        c[0..8].copy_from_slice(&self.capacity.to_le_bytes());
        c[8..12].copy_from_slice(&SIZE_MAX.to_le_bytes());
        // seg_max: the chain also holds the header and the status byte, so it fits the ring even
        // without indirect descriptors.
        c[12..16].copy_from_slice(&u32::from(self.queue_size - 2).to_le_bytes());
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

    /// Answer a request that needs no backend work.
    fn answer(queue: &mut Queue, mem: &mut dyn GuestMemory, chain: &DescriptorChain, status: u8, written: u64) {
        let status_at = chain.writable_len() - 1;
        match chain.write_at(mem, status_at, &[status]) {
            Ok(_) => queue.add_used(mem, chain.head(), u32::try_from(written + 1).unwrap_or(u32::MAX)),
            Err(e) => queue.fail(e),
        }
    }

    /// Look at a popped chain: answer it at once, or return the backend work it needs.
    fn start(
        &mut self,
        chain: &DescriptorChain,
        mem: &mut dyn GuestMemory,
    ) -> Result<Result<Work, (u8, u64)>, QueueError> {
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
        let data_in = chain.writable_len() - 1;
        let data_out = chain.readable_len() - HEADER;
        // `MIMIC_LOG=virtio_blk=trace` shows how the guest splits its I/O (sizes and segments
        // against the advertised seg_max and size_max).
        tracing::trace!(
            target: "virtio_blk",
            kind,
            sector,
            data_out,
            data_in,
            descriptors = chain.readable().len() + chain.writable().len(),
            "request"
        );
        Ok(match kind {
            VIRTIO_BLK_T_IN => {
                if !data_in.is_multiple_of(SECTOR_SIZE) || !self.in_range(sector, data_in) {
                    guest_error!(sector, len = data_in, "virtio-blk: read outside the disk or not whole sectors");
                    Err((VIRTIO_BLK_S_IOERR, 0))
                } else {
                    Ok(Work::Read { base: sector * SECTOR_SIZE })
                }
            }
            VIRTIO_BLK_T_OUT => {
                if self.read_only {
                    guest_error!("virtio-blk: write to a read-only disk");
                    Err((VIRTIO_BLK_S_IOERR, 0))
                } else if !data_out.is_multiple_of(SECTOR_SIZE) || !self.in_range(sector, data_out) {
                    guest_error!(sector, len = data_out, "virtio-blk: write outside the disk or not whole sectors");
                    Err((VIRTIO_BLK_S_IOERR, 0))
                } else {
                    Ok(Work::Write { base: sector * SECTOR_SIZE })
                }
            }
            VIRTIO_BLK_T_FLUSH => Ok(Work::Flush),
            VIRTIO_BLK_T_GET_ID => {
                let n = ID_BYTES.min(data_in as usize);
                let serial = self.serial;
                chain.write_at(mem, 0, &serial[..n])?;
                Err((VIRTIO_BLK_S_OK, n as u64))
            }
            VIRTIO_BLK_T_DISCARD | VIRTIO_BLK_T_WRITE_ZEROES => match self.segments(chain, &*mem, kind)? {
                Ok(ranges) => Ok(Work::Segments { discard: kind == VIRTIO_BLK_T_DISCARD, ranges }),
                Err(status) => Err((status, 0)),
            },
            _ => Err((VIRTIO_BLK_S_UNSUPP, 0)),
        })
    }

    /// DISCARD and WRITE_ZEROES: a list of `{le64 sector; le32 num_sectors; le32 flags}`, as byte
    /// ranges, or the status that refuses it.
    fn segments(
        &self,
        chain: &DescriptorChain,
        mem: &dyn GuestMemory,
        kind: u32,
    ) -> Result<Result<Vec<(u64, u64)>, u8>, QueueError> {
        if self.read_only {
            guest_error!("virtio-blk: discard / write-zeroes on a read-only disk");
            return Ok(Err(VIRTIO_BLK_S_IOERR));
        }
        let len = chain.readable_len() - HEADER;
        let count = len / SEGMENT;
        if !len.is_multiple_of(SEGMENT) || count == 0 || count > u64::from(MAX_DISCARD_SEG) {
            guest_error!(len, "virtio-blk: discard / write-zeroes segment list of bad length");
            return Ok(Err(VIRTIO_BLK_S_UNSUPP));
        }
        let allowed_flags = if kind == VIRTIO_BLK_T_WRITE_ZEROES { VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP } else { 0 };
        let mut ranges = Vec::with_capacity(count as usize);
        for i in 0..count {
            let mut s = [0u8; SEGMENT as usize];
            chain.read_at(mem, HEADER + i * SEGMENT, &mut s)?;
            let sector = u64::from_le_bytes(s[0..8].try_into().unwrap_or_default());
            let num = u32::from_le_bytes([s[8], s[9], s[10], s[11]]);
            let flags = u32::from_le_bytes([s[12], s[13], s[14], s[15]]);
            if flags & !allowed_flags != 0 {
                guest_error!(flags, "virtio-blk: unsupported discard / write-zeroes flags");
                return Ok(Err(VIRTIO_BLK_S_UNSUPP));
            }
            let bytes = u64::from(num) * SECTOR_SIZE;
            if num > MAX_DISCARD_SECTORS || !self.in_range(sector, bytes) {
                guest_error!(sector, num, "virtio-blk: discard / write-zeroes outside the disk or too large");
                return Ok(Err(VIRTIO_BLK_S_IOERR));
            }
            ranges.push((sector * SECTOR_SIZE, bytes));
        }
        Ok(Ok(ranges))
    }

    fn take_buf(&mut self, len: usize) -> DmaBuf {
        let mut b = self.pool.pop().unwrap_or_default();
        b.resize(len);
        b
    }

    /// Submit what the newest request still has to submit, then pop and start new chains, while
    /// the in-flight limit allows. A memory error breaks the queue.
    fn pump(&mut self, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        loop {
            if let Err(e) = self.submit_pending(mem) {
                return queue.fail(e);
            }
            if self.requests.back().is_some_and(|r| r.submitted < r.total)
                || self.in_flight_bytes >= MAX_IN_FLIGHT_BYTES
            {
                // Full: the rest waits in the ring until completions make room.
                return;
            }
            let Some(chain) = queue.pop(mem) else { return };
            match self.start(&chain, mem) {
                Err(e) => return queue.fail(e),
                Ok(Err((status, written))) => Self::answer(queue, mem, &chain, status, written),
                Ok(Ok(work)) => {
                    let total = match &work {
                        Work::Read { .. } => chain.writable_len() - 1,
                        Work::Write { .. } => chain.readable_len() - HEADER,
                        Work::Flush => 1,
                        Work::Segments { ranges, .. } => ranges.len() as u64,
                    };
                    if total == 0 {
                        // A zero-length read or write: nothing to do.
                        Self::answer(queue, mem, &chain, VIRTIO_BLK_S_OK, 0);
                        continue;
                    }
                    let id = self.next_request;
                    self.next_request += 1;
                    self.requests.push_back(InFlight {
                        id,
                        chain,
                        work,
                        total,
                        submitted: 0,
                        ops: 0,
                        status: VIRTIO_BLK_S_OK,
                        delivered: 0,
                    });
                }
            }
        }
    }

    /// Hand the newest request's remaining operations to the backend, within the limit.
    fn submit_pending(&mut self, mem: &mut dyn GuestMemory) -> Result<(), QueueError> {
        loop {
            let Some(r) = self.requests.back() else { return Ok(()) };
            if r.submitted == r.total {
                return Ok(());
            }
            let (op, at, bytes) = match &r.work {
                Work::Read { base } | Work::Write { base } => {
                    let n = (r.total - r.submitted).min(MAX_OP_BYTES as u64);
                    if self.in_flight_bytes > 0 && self.in_flight_bytes + n > MAX_IN_FLIGHT_BYTES {
                        return Ok(());
                    }
                    let (base, at, write) = (*base, r.submitted, matches!(r.work, Work::Write { .. }));
                    let chain = r.chain.clone();
                    let op = if write {
                        let mut buf = self.take_buf(n as usize);
                        chain.read_at(mem, HEADER + at, &mut buf)?;
                        BlkOp::Write { offset: base + at, data: buf }
                    } else {
                        let spans = chain.writable_spans(at, n as usize);
                        match mem.lend(&spans) {
                            Some(into) => {
                                // Translations of code in the buffers go now, and again when the
                                // data is in (a reset may drop the completion).
                                for &(addr, len) in &spans {
                                    mem.dma_written(addr, len);
                                }
                                BlkOp::ReadInto { offset: base + at, into }
                            }
                            None => BlkOp::Read { offset: base + at, buf: self.take_buf(n as usize) },
                        }
                    };
                    (op, at, n)
                }
                Work::Flush => (BlkOp::Flush, 0, 1),
                Work::Segments { discard, ranges } => {
                    let (offset, len) = ranges[r.submitted as usize];
                    let op = if *discard { BlkOp::Discard { offset, len } } else { BlkOp::WriteZeroes { offset, len } };
                    (op, 0, 1)
                }
            };
            let data_bytes = match op {
                BlkOp::Read { .. } | BlkOp::ReadInto { .. } | BlkOp::Write { .. } => bytes,
                _ => 0,
            };
            let lent = matches!(op, BlkOp::ReadInto { .. });
            let r = self.requests.back_mut().expect("checked above");
            r.submitted += bytes;
            r.ops += 1;
            let tag = self.next_tag;
            self.next_tag += 1;
            self.ops.insert(tag, OpRef { request: r.id, at, bytes: data_bytes, lent });
            self.in_flight_bytes += data_bytes;
            self.io.submit(tag, op);
        }
    }

    /// Apply one completion: read data into the guest, note failures.
    fn complete(&mut self, c: BlkCompletion, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        let Some(op) = self.ops.remove(&c.tag) else {
            guest_error!(tag = c.tag, "virtio-blk: completion for an unknown operation");
            return;
        };
        self.in_flight_bytes -= op.bytes;
        let Some(r) = self.requests.iter_mut().find(|r| r.id == op.request) else {
            // The device was reset meanwhile: nobody wants the result.
            if let Some(b) = c.buf {
                self.recycle(b);
            }
            return;
        };
        r.ops -= 1;
        if op.lent {
            // Written in place, whatever the outcome: code decoded from there meanwhile is stale.
            for (addr, len) in r.chain.writable_spans(op.at, op.bytes as usize) {
                mem.dma_written(addr, len);
            }
        }
        match &c.result {
            Ok(()) => {
                let landed = match (&r.work, &c.buf) {
                    (Work::Read { .. }, Some(buf)) => match r.chain.write_at(mem, op.at, buf) {
                        Ok(_) => Some(buf.len() as u64),
                        Err(e) => {
                            queue.fail(e);
                            None
                        }
                    },
                    (Work::Read { .. }, None) if op.lent => Some(op.bytes),
                    _ => None,
                };
                if let Some(n) = landed {
                    if r.delivered == op.at && r.status == VIRTIO_BLK_S_OK {
                        r.delivered += n;
                    }
                }
            }
            Err(e) => {
                let what = match r.work {
                    Work::Read { .. } => "read",
                    Work::Write { .. } => "write",
                    Work::Flush => "flush",
                    Work::Segments { discard: true, .. } => "discard",
                    Work::Segments { discard: false, .. } => "write-zeroes",
                };
                tracing::warn!("virtio-blk: {what} failed: {e}");
                r.status = VIRTIO_BLK_S_IOERR;
            }
        }
        if let Some(b) = c.buf {
            self.recycle(b);
        }
    }

    fn recycle(&mut self, buf: DmaBuf) {
        if self.pool.len() < POOL {
            self.pool.push(buf);
        }
    }

    /// Return finished requests to the driver.
    fn finish(&mut self, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        while let Some(i) = self.requests.iter().position(InFlight::done) {
            let r = self.requests.remove(i).expect("position is in range");
            let written = if matches!(r.work, Work::Read { .. }) { r.delivered } else { 0 };
            Self::answer(queue, mem, &r.chain, r.status, written);
        }
    }
}

impl<Q: BlockQueue> VirtioDevice for VirtioBlk<Q> {
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
    fn reset(&mut self) {
        // Operations already at the backend still run (writes the guest issued are not torn);
        // their completions find no request and are dropped.
        self.requests.clear();
        // But a read into lent guest RAM would write buffers the driver owns again after the
        // reset: wait for those here (QEMU drains all of a device's I/O at reset).
        while self.ops.values().any(|o| o.lent) {
            let Some(c) = self.io.wait() else { break };
            if let Some(op) = self.ops.remove(&c.tag) {
                self.in_flight_bytes -= op.bytes;
            }
            if let Some(b) = c.buf {
                self.recycle(b);
            }
        }
    }
    fn process_queue(&mut self, _index: usize, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        self.pump(queue, mem);
    }
    fn poll(&mut self, queues: &mut [Queue], mem: &mut dyn GuestMemory) {
        let Some(queue) = queues.first_mut() else { return };
        let mut any = false;
        while let Some(c) = self.io.poll() {
            self.complete(c, queue, mem);
            any = true;
        }
        if any {
            self.finish(queue, mem);
            // Completions made room: start what waited in the ring.
            self.pump(queue, mem);
        }
    }
    fn has_backend_work(&self) -> bool {
        !self.ops.is_empty()
    }
    fn io_in_flight(&self) -> bool {
        !self.ops.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mimic_core::AddrRange;
    use mimic_core::Size;
    use mimic_memory::{AddressSpace, MmioDevice};
    use mimic_virtio::features::{status, VIRTIO_F_RING_INDIRECT_DESC, VIRTIO_F_VERSION_1};
    use mimic_virtio::mmio::{CONFIG, STATUS};
    use mimic_virtio::mock::{r, w, Driver, TestIrq, RAM_BASE};
    use mimic_virtio::VirtioMmio;

    type Blk = VirtioMmio<VirtioBlk<Inline<MemDisk>>, TestIrq>;
    const DISK: usize = 64 * 512;

    fn disk() -> MemDisk {
        MemDisk::new((0..DISK).map(|i| (i / 512) as u8 ^ (i as u8)).collect())
    }

    fn setup_with(d: MemDisk, features: u64) -> (Blk, TestIrq, Driver) {
        let irq = TestIrq::new();
        let cfg = BlkConfig { serial: "mimic-disk-0".into(), queue_size: 16 };
        let mut dev = VirtioMmio::new(VirtioBlk::new_inline(d, cfg), irq.clone());
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
        let f = VirtioBlk::new_inline(d, BlkConfig::default()).features();
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
        let mut dev = VirtioMmio::new(VirtioBlk::new_inline(FailingDisk, BlkConfig::default()), irq);
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

    /// A backend that holds every operation until the test releases it, and records the order.
    #[derive(Default)]
    struct Deferred {
        disk: MemDisk,
        held: VecDeque<(u64, BlkOp)>,
        order: Vec<&'static str>,
    }

    impl BlockQueue for Deferred {
        fn size(&self) -> u64 {
            self.disk.size()
        }
        fn read_only(&self) -> bool {
            false
        }
        fn submit(&mut self, tag: u64, op: BlkOp) {
            self.order.push(match op {
                BlkOp::Read { .. } => "read",
                BlkOp::ReadInto { .. } => "read-into",
                BlkOp::Write { .. } => "write",
                BlkOp::Flush => "flush",
                BlkOp::Discard { .. } => "discard",
                BlkOp::WriteZeroes { .. } => "write-zeroes",
            });
            self.held.push_back((tag, op));
        }
        fn poll(&mut self) -> Option<BlkCompletion> {
            None
        }
    }

    impl Deferred {
        /// Execute and complete every held operation through an `Inline` over the disk.
        fn release(&mut self) -> Vec<BlkCompletion> {
            let mut inline = Inline::new(std::mem::take(&mut self.disk));
            for (tag, op) in self.held.drain(..) {
                inline.submit(tag, op);
            }
            let done = std::iter::from_fn(|| inline.poll()).collect();
            self.disk = inline.backend;
            done
        }
    }

    /// `Deferred`, with released completions handed out by `poll`.
    #[derive(Default)]
    struct Async {
        q: Deferred,
        ready: VecDeque<BlkCompletion>,
    }

    impl BlockQueue for Async {
        fn size(&self) -> u64 {
            self.q.size()
        }
        fn read_only(&self) -> bool {
            false
        }
        fn submit(&mut self, tag: u64, op: BlkOp) {
            self.q.submit(tag, op)
        }
        fn poll(&mut self) -> Option<BlkCompletion> {
            self.ready.pop_front()
        }
        fn wait(&mut self) -> Option<BlkCompletion> {
            if self.ready.is_empty() {
                self.release();
            }
            self.ready.pop_front()
        }
    }

    impl Async {
        fn release(&mut self) {
            let done = self.q.release();
            self.ready.extend(done);
        }
    }

    fn setup_async(mem: usize) -> (VirtioMmio<VirtioBlk<Async>, TestIrq>, TestIrq, Driver) {
        let irq = TestIrq::new();
        let q = Async { q: Deferred { disk: disk(), ..Default::default() }, ..Default::default() };
        let mut dev =
            VirtioMmio::new(VirtioBlk::new(q, BlkConfig { queue_size: 16, ..Default::default() }), irq.clone());
        let mut drv = Driver::new(mem);
        drv.init(&mut dev, VIRTIO_F_VERSION_1, 1, 16);
        (dev, irq, drv)
    }

    /// Queue a read of `len` bytes at `sector`; returns (data address, status address).
    fn add_read<M: GuestMemory>(drv: &mut Driver<M>, sector: u64, len: usize) -> (u64, u64) {
        let h = drv.buf(&header(VIRTIO_BLK_T_IN, sector));
        let (d, st) = (drv.alloc(len), drv.buf(&[0xff]));
        drv.add_chain(0, &[r(h, 16), w(d, len as u32), w(st, 1)]);
        (d, st)
    }

    #[test]
    fn read_completes_only_after_the_backend_finishes() {
        let (mut dev, irq, mut drv) = setup_async(1 << 20);
        let (d, st) = add_read(&mut drv, 2, 512);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        let before = (drv.take_used(0).len(), drv.read_mem(st, 1)[0], irq.level(), dev.io_in_flight());
        dev.device_mut().backend_mut().release();
        assert!(dev.needs_processing(), "completions waiting count as backend work");
        dev.process(&mut drv.mem);
        assert_eq!(before, (0, 0xff, false, true));
        assert_eq!(
            (drv.take_used(0), drv.read_mem(st, 1)[0], drv.read_mem(d, 512), irq.level(), dev.io_in_flight()),
            (vec![(0, 513)], VIRTIO_BLK_S_OK, disk().data[1024..1536].to_vec(), true, false)
        );
    }

    #[test]
    fn flush_reaches_the_backend_after_the_writes_before_it() {
        let (mut dev, _, mut drv) = setup_async(1 << 20);
        for sector in [1, 2] {
            let (h, data, st) = (drv.buf(&header(VIRTIO_BLK_T_OUT, sector)), drv.buf(&[7; 512]), drv.alloc(1));
            drv.add_chain(0, &[r(h, 16), r(data, 512), w(st, 1)]);
        }
        let (h, st) = (drv.buf(&header(VIRTIO_BLK_T_FLUSH, 0)), drv.alloc(1));
        drv.add_chain(0, &[r(h, 16), w(st, 1)]);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        dev.device_mut().backend_mut().release();
        dev.process(&mut drv.mem);
        let b = dev.device().backend();
        assert_eq!(
            (b.q.order.clone(), b.q.disk.flushes, drv.take_used(0).len()),
            (vec!["write", "write", "flush"], 1, 3)
        );
    }

    #[test]
    fn large_read_is_split_into_bounded_operations_in_order() {
        let big = 9 << 20;
        let irq = TestIrq::new();
        let q = Async {
            q: Deferred { disk: MemDisk::new((0..big).map(|i| (i >> 12) as u8).collect()), ..Default::default() },
            ..Default::default()
        };
        let mut dev = VirtioMmio::new(VirtioBlk::new(q, BlkConfig { queue_size: 16, ..Default::default() }), irq);
        let mut drv = Driver::new(16 << 20);
        drv.init(&mut dev, VIRTIO_F_VERSION_1, 1, 16);
        let (d, st) = add_read(&mut drv, 0, big);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        let ops = dev.device().ops_in_flight();
        dev.device_mut().backend_mut().release();
        dev.process(&mut drv.mem);
        let want: Vec<u8> = (0..big).map(|i| (i >> 12) as u8).collect();
        assert_eq!((ops, drv.read_mem(st, 1)[0], drv.read_mem(d, big) == want), (3, VIRTIO_BLK_S_OK, true));
    }

    #[test]
    fn reset_with_io_in_flight_drops_the_completion_untouched() {
        let (mut dev, irq, mut drv) = setup_async(1 << 20);
        let (d, st) = add_read(&mut drv, 0, 512);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        Driver::write32(&mut dev, STATUS, 0);
        drv.init(&mut dev, VIRTIO_F_VERSION_1, 1, 16);
        dev.device_mut().backend_mut().release();
        dev.process(&mut drv.mem);
        assert_eq!(
            (drv.read_mem(st, 1)[0], drv.read_mem(d, 4), drv.take_used(0).len(), irq.level(), dev.io_in_flight()),
            (0xff, vec![0; 4], 0, false, false)
        );
    }

    /// A device over [`Async`] and a driver whose memory is an address space: RAM that can be
    /// lent to the backend.
    fn setup_lending() -> (VirtioMmio<VirtioBlk<Async>, TestIrq>, Driver<AddressSpace>) {
        let q = Async { q: Deferred { disk: disk(), ..Default::default() }, ..Default::default() };
        let mut dev =
            VirtioMmio::new(VirtioBlk::new(q, BlkConfig { queue_size: 16, ..Default::default() }), TestIrq::new());
        let mut ram = AddressSpace::new();
        ram.add_ram("ram", AddrRange::new(RAM_BASE, 1 << 20)).unwrap();
        let mut drv = Driver::with_memory(ram, 1 << 20);
        drv.init(&mut dev, VIRTIO_F_VERSION_1, 1, 16);
        (dev, drv)
    }

    #[test]
    fn a_read_into_ram_that_can_be_lent_is_done_in_place() {
        let (mut dev, mut drv) = setup_lending();
        let h = drv.buf(&header(VIRTIO_BLK_T_IN, 1));
        let (a, b, st) = (drv.alloc(512), drv.alloc(1024), drv.buf(&[0xff]));
        drv.add_chain(0, &[r(h, 16), w(a, 512), w(b, 1024), w(st, 1)]);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        let submitted = dev.device().backend().q.order.clone();
        dev.device_mut().backend_mut().release();
        dev.process(&mut drv.mem);
        let got = [drv.read_mem(a, 512), drv.read_mem(b, 1024)].concat();
        assert_eq!(submitted, vec!["read-into"]);
        assert_eq!(
            (drv.read_mem(st, 1)[0], drv.take_used(0), got),
            (VIRTIO_BLK_S_OK, vec![(0, 1537)], disk().data[512..2048].to_vec())
        );
    }

    #[test]
    fn buffers_that_overlap_are_read_through_a_copy() {
        let (mut dev, mut drv) = setup_lending();
        let h = drv.buf(&header(VIRTIO_BLK_T_IN, 1));
        let (a, st) = (drv.alloc(512), drv.buf(&[0xff]));
        drv.add_chain(0, &[r(h, 16), w(a, 512), w(a, 512), w(st, 1)]);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        let submitted = dev.device().backend().q.order.clone();
        dev.device_mut().backend_mut().release();
        dev.process(&mut drv.mem);
        assert_eq!(submitted, vec!["read"]);
        // Copied in order: the second sector is what stays.
        assert_eq!((drv.read_mem(st, 1)[0], drv.read_mem(a, 512)), (VIRTIO_BLK_S_OK, disk().data[1024..1536].to_vec()));
    }

    #[test]
    fn code_decoded_from_a_buffer_read_in_place_is_dropped_at_submission_and_completion() {
        let (mut dev, mut drv) = setup_lending();
        let h = drv.buf(&header(VIRTIO_BLK_T_IN, 0));
        // The buffer on a page of its own: the status byte and rings are written through the
        // address space, which notes their pages anyway.
        let d = (drv.alloc(3 * 4096) + 4096) & !4095;
        let st = drv.buf(&[0xff]);
        drv.add_chain(0, &[r(h, 16), w(d, 512), w(st, 1)]);
        let page = drv.mem.lookup_ram(d).unwrap().offset;
        drv.mem.set_code_page(page);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        let at_submission = drv.mem.take_dma_dirty_code();
        // The guest decodes code from the page while the read is out (its own race).
        drv.mem.set_code_page(page);
        dev.device_mut().backend_mut().release();
        dev.process(&mut drv.mem);
        let page = page >> mimic_memory::PAGE_SHIFT;
        assert_eq!((at_submission, drv.mem.take_dma_dirty_code()), (vec![page], vec![page]));
    }

    #[test]
    fn a_reset_waits_for_reads_into_lent_ram_and_answers_nothing() {
        let (mut dev, mut drv) = setup_lending();
        let (d, st) = add_read(&mut drv, 2, 512);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        let before = dev.io_in_flight();
        Driver::write32(&mut dev, STATUS, 0);
        // Once the reset returns, the backend writes that RAM no more.
        let after = (dev.io_in_flight(), drv.read_mem(d, 512));
        dev.process(&mut drv.mem);
        assert_eq!((before, after), (true, (false, disk().data[1024..1536].to_vec())));
        assert_eq!((drv.read_mem(st, 1)[0], drv.take_used(0).len()), (0xff, 0));
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
