//! The split virtqueue (virtio 1.2 §2.7), read and written through [`GuestMemory`].
//!
//! ```text
//!  descriptor table (16 bytes each)    available ring (driver → device)   used ring (device → driver)
//!  0  le64 addr                        0  le16 flags                      0  le16 flags
//!  8  le32 len                         2  le16 idx                        2  le16 idx
//!  12 le16 flags (NEXT|WRITE|INDIRECT) 4  le16 ring[size]                 4  {le32 id; le32 len} ring[size]
//!  14 le16 next                        4+2*size le16 used_event           4+8*size le16 avail_event
//! ```
//!
//! The device pops a *descriptor chain* for each available head: zero or more device-readable
//! buffers followed by zero or more device-writable buffers. The chain is followed through `next`
//! links, and through at most one indirect table, which is the last descriptor of the chain.
//!
//! Everything the guest controls is checked: a head or `next` index must be below the queue size
//! (or the indirect table's length), a direct chain may visit at most `size` descriptors and an
//! indirect chain at most its table's length (so loops end), indirect tables may not nest or be
//! chained onward, a readable buffer may not follow a writable one, `addr + len` may not wrap,
//! the available index may not run more than `size` ahead, and every access goes through
//! [`GuestMemory`], which refuses anything that is not RAM. A violation is logged with
//! [`guest_error!`], and it *breaks* the queue: it hands out nothing more and the transport sets
//! `DEVICE_NEEDS_RESET` (§2.1.1) until the driver resets the device.
//!
//! Notification suppression: with `VIRTIO_F_EVENT_IDX` the device writes `avail_event` when it
//! finds the ring empty and honours the driver's `used_event`; without it, it honours
//! `VIRTQ_AVAIL_F_NO_INTERRUPT`. Everything is single-threaded (the guest is stopped while the
//! machine runs `process`), so no memory barriers are needed.

use mimic_core::guest_error;
use mimic_memory::GuestMemory;

pub const VIRTQ_DESC_F_NEXT: u16 = 1;
pub const VIRTQ_DESC_F_WRITE: u16 = 2;
pub const VIRTQ_DESC_F_INDIRECT: u16 = 4;
pub const VIRTQ_AVAIL_F_NO_INTERRUPT: u16 = 1;
pub const VIRTQ_USED_F_NO_NOTIFY: u16 = 1;

/// The largest split-queue size the spec allows.
pub const MAX_QUEUE_SIZE: u16 = 32768;
/// The most descriptors an indirect table may hold (its `next` fields are 16-bit).
pub const MAX_INDIRECT_DESCRIPTORS: u32 = 65536;
/// Bytes of one descriptor.
pub const DESCRIPTOR_SIZE: u64 = 16;

/// What went wrong while using a virtqueue. Every variant but [`QueueError::TooLarge`] is a
/// driver bug (or an attack) that breaks the queue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("{what} at {addr:#x} is not guest RAM")]
    Memory { what: &'static str, addr: u64 },
    #[error("{what} at {addr:#x} + {len:#x} wraps around the address space")]
    AddressOverflow { what: &'static str, addr: u64, len: u64 },
    #[error("available index {avail_idx} is more than the queue size {size} ahead of {next_avail}")]
    AvailIndexJump { avail_idx: u16, next_avail: u16, size: u16 },
    #[error("descriptor index {index} is outside the table of {size}")]
    DescriptorIndex { index: u32, size: u32 },
    #[error("descriptor chain longer than {limit} (a loop?)")]
    ChainTooLong { limit: u32 },
    #[error("indirect descriptor used but VIRTIO_F_INDIRECT_DESC was not negotiated")]
    IndirectNotNegotiated,
    #[error("indirect descriptor with the NEXT flag")]
    IndirectWithNext,
    #[error("indirect descriptor inside an indirect table")]
    NestedIndirect,
    #[error("indirect table length {len} is zero, not a multiple of 16, or too large")]
    IndirectLength { len: u32 },
    #[error("device-readable descriptor after a device-writable one")]
    ReadableAfterWritable,
    #[error("chain length overflows")]
    LengthOverflow,
    #[error("queue size {size} is zero, not a power of two, or above the maximum {max}")]
    BadSize { size: u16, max: u16 },
    /// A request whose shape breaks the device type's rules (e.g. no room for a status byte).
    #[error("malformed request: {what}")]
    BadRequest { what: &'static str },
    /// The chain holds more than a device is willing to buffer (not a protocol violation).
    #[error("{len} bytes exceed the limit of {limit}")]
    TooLarge { len: u64, limit: u64 },
}

/// One guest buffer of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buffer {
    pub addr: u64,
    pub len: u32,
}

/// A raw descriptor as it sits in guest memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Descriptor {
    pub addr: u64,
    pub len: u32,
    pub flags: u16,
    pub next: u16,
}

/// A popped descriptor chain: the device-readable buffers, then the device-writable ones.
/// Return it with [`Queue::add_used`] and its [`DescriptorChain::head`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescriptorChain {
    head: u16,
    readable: Vec<Buffer>,
    writable: Vec<Buffer>,
    readable_len: u64,
    writable_len: u64,
    seen_writable: bool,
}

impl DescriptorChain {
    fn new(head: u16) -> Self {
        DescriptorChain {
            head,
            readable: Vec::new(),
            writable: Vec::new(),
            readable_len: 0,
            writable_len: 0,
            seen_writable: false,
        }
    }

    fn push(&mut self, d: &Descriptor) -> Result<(), QueueError> {
        d.addr.checked_add(u64::from(d.len)).ok_or(QueueError::AddressOverflow {
            what: "buffer",
            addr: d.addr,
            len: u64::from(d.len),
        })?;
        let b = Buffer { addr: d.addr, len: d.len };
        if d.flags & VIRTQ_DESC_F_WRITE != 0 {
            self.seen_writable = true;
            self.writable_len = self.writable_len.checked_add(u64::from(d.len)).ok_or(QueueError::LengthOverflow)?;
            if d.len != 0 {
                self.writable.push(b);
            }
        } else {
            if self.seen_writable {
                return Err(QueueError::ReadableAfterWritable);
            }
            self.readable_len = self.readable_len.checked_add(u64::from(d.len)).ok_or(QueueError::LengthOverflow)?;
            if d.len != 0 {
                self.readable.push(b);
            }
        }
        Ok(())
    }

    /// The head descriptor index (the id for the used ring).
    pub fn head(&self) -> u16 {
        self.head
    }
    /// The device-readable buffers, in order (zero-length ones left out).
    pub fn readable(&self) -> &[Buffer] {
        &self.readable
    }
    /// The device-writable buffers, in order (zero-length ones left out).
    pub fn writable(&self) -> &[Buffer] {
        &self.writable
    }
    /// Total bytes the device may read.
    pub fn readable_len(&self) -> u64 {
        self.readable_len
    }
    /// Total bytes the device may write.
    pub fn writable_len(&self) -> u64 {
        self.writable_len
    }

    /// Read from the readable part, starting `offset` bytes into it, as much of `buf` as there
    /// is; returns the number of bytes read.
    pub fn read_at(&self, mem: &dyn GuestMemory, offset: u64, buf: &mut [u8]) -> Result<usize, QueueError> {
        let total = buf.len();
        for_each_span(&self.readable, offset, total, |addr, at, n| {
            mem.read(addr, &mut buf[at..at + n]).map_err(|_| QueueError::Memory { what: "readable buffer", addr })
        })
    }

    /// Write into the writable part, starting `offset` bytes into it, as much of `data` as fits;
    /// returns the number of bytes written.
    pub fn write_at(&self, mem: &mut dyn GuestMemory, offset: u64, data: &[u8]) -> Result<usize, QueueError> {
        for_each_span(&self.writable, offset, data.len(), |addr, at, n| {
            mem.write(addr, &data[at..at + n]).map_err(|_| QueueError::Memory { what: "writable buffer", addr })
        })
    }

    /// The guest-physical (address, length) pieces of the writable part from `offset` bytes into
    /// it, `len` bytes or as many as there are: where a `write_at` of that range would go.
    pub fn writable_spans(&self, offset: u64, len: usize) -> Vec<(u64, u64)> {
        let mut spans = Vec::new();
        let _ = for_each_span(&self.writable, offset, len, |addr, _, n| {
            spans.push((addr, n as u64));
            Ok(())
        });
        spans
    }

    /// The whole readable part, if it is at most `limit` bytes.
    pub fn read_to_vec(&self, mem: &dyn GuestMemory, limit: usize) -> Result<Vec<u8>, QueueError> {
        if self.readable_len > limit as u64 {
            return Err(QueueError::TooLarge { len: self.readable_len, limit: limit as u64 });
        }
        let mut v = vec![0; self.readable_len as usize];
        self.read_at(mem, 0, &mut v)?;
        Ok(v)
    }
}

/// Call `f(guest_addr, position_in_data, len)` for each piece of `bufs` covering `total` bytes
/// from `offset`; returns how many bytes were covered.
fn for_each_span(
    bufs: &[Buffer],
    mut offset: u64,
    total: usize,
    mut f: impl FnMut(u64, usize, usize) -> Result<(), QueueError>,
) -> Result<usize, QueueError> {
    let mut done = 0usize;
    for b in bufs {
        if done == total {
            break;
        }
        let blen = u64::from(b.len);
        if offset >= blen {
            offset -= blen;
            continue;
        }
        let n = (blen - offset).min((total - done) as u64) as usize;
        // `addr + len` was checked not to wrap when the chain was popped.
        f(b.addr + offset, done, n)?;
        done += n;
        offset = 0;
    }
    Ok(done)
}

/// A split virtqueue: the driver-programmed layout and the device's position in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queue {
    max_size: u16,
    size: u16,
    ready: bool,
    desc_table: u64,
    avail_ring: u64,
    used_ring: u64,
    next_avail: u16,
    next_used: u16,
    event_idx: bool,
    indirect: bool,
    /// `next_used` when the driver was last considered for a notification (EVENT_IDX).
    signalled_used: Option<u16>,
    /// Used elements added since the last notification decision.
    used_pending: bool,
    error: Option<QueueError>,
}

fn at(base: u64, off: u64, what: &'static str) -> Result<u64, QueueError> {
    base.checked_add(off).ok_or(QueueError::AddressOverflow { what, addr: base, len: off })
}

fn read_u16(mem: &dyn GuestMemory, addr: u64, what: &'static str) -> Result<u16, QueueError> {
    let mut b = [0; 2];
    mem.read(addr, &mut b).map_err(|_| QueueError::Memory { what, addr })?;
    Ok(u16::from_le_bytes(b))
}

fn write_bytes(mem: &mut dyn GuestMemory, addr: u64, data: &[u8], what: &'static str) -> Result<(), QueueError> {
    mem.write(addr, data).map_err(|_| QueueError::Memory { what, addr })
}

/// Read descriptor `index` of the table at `table`.
pub fn read_descriptor(mem: &dyn GuestMemory, table: u64, index: u32) -> Result<Descriptor, QueueError> {
    let addr = at(table, u64::from(index) * DESCRIPTOR_SIZE, "descriptor")?;
    let mut b = [0u8; 16];
    mem.read(addr, &mut b).map_err(|_| QueueError::Memory { what: "descriptor", addr })?;
    Ok(Descriptor {
        addr: u64::from_le_bytes(b[0..8].try_into().unwrap_or_default()),
        len: u32::from_le_bytes(b[8..12].try_into().unwrap_or_default()),
        flags: u16::from_le_bytes([b[12], b[13]]),
        next: u16::from_le_bytes([b[14], b[15]]),
    })
}

/// `vring_need_event` (§2.7.10): has `new` moved past `event` since `old`?
pub fn need_event(event: u16, new: u16, old: u16) -> bool {
    new.wrapping_sub(event).wrapping_sub(1) < new.wrapping_sub(old)
}

impl Queue {
    /// A queue in its reset state; the driver may make it at most `max_size` entries.
    pub fn new(max_size: u16) -> Self {
        let max_size = max_size.clamp(1, MAX_QUEUE_SIZE);
        Queue {
            max_size,
            size: max_size,
            ready: false,
            desc_table: 0,
            avail_ring: 0,
            used_ring: 0,
            next_avail: 0,
            next_used: 0,
            event_idx: false,
            indirect: false,
            signalled_used: None,
            used_pending: false,
            error: None,
        }
    }

    /// Back to the reset state (device reset).
    pub fn reset(&mut self) {
        *self = Queue::new(self.max_size);
    }

    pub fn max_size(&self) -> u16 {
        self.max_size
    }
    pub fn size(&self) -> u16 {
        self.size
    }
    pub fn ready(&self) -> bool {
        self.ready
    }
    pub fn desc_table(&self) -> u64 {
        self.desc_table
    }
    pub fn avail_ring(&self) -> u64 {
        self.avail_ring
    }
    pub fn used_ring(&self) -> u64 {
        self.used_ring
    }
    /// The next available-ring index the device will look at.
    pub fn next_avail(&self) -> u16 {
        self.next_avail
    }
    /// The used-ring index the device will fill next.
    pub fn next_used(&self) -> u16 {
        self.next_used
    }
    /// Why the queue is broken, if it is.
    pub fn error(&self) -> Option<&QueueError> {
        self.error.as_ref()
    }

    /// Driver-programmed layout (the transport ignores these while the queue is ready).
    pub fn set_size(&mut self, size: u16) {
        self.size = size;
    }
    pub fn set_desc_table(&mut self, addr: u64) {
        self.desc_table = addr;
    }
    pub fn set_avail_ring(&mut self, addr: u64) {
        self.avail_ring = addr;
    }
    pub fn set_used_ring(&mut self, addr: u64) {
        self.used_ring = addr;
    }
    /// Apply the negotiated ring features.
    pub fn set_features(&mut self, event_idx: bool, indirect: bool) {
        self.event_idx = event_idx;
        self.indirect = indirect;
    }

    /// Start using the queue (the driver wrote QueueReady = 1): the size must be a power of two
    /// no larger than the maximum. Positions start at 0.
    pub fn enable(&mut self) -> Result<(), QueueError> {
        if self.size == 0 || !self.size.is_power_of_two() || self.size > self.max_size {
            return Err(QueueError::BadSize { size: self.size, max: self.max_size });
        }
        self.ready = true;
        self.next_avail = 0;
        self.next_used = 0;
        self.signalled_used = None;
        self.used_pending = false;
        self.error = None;
        Ok(())
    }

    /// Stop using the queue (QueueReady = 0).
    pub fn disable(&mut self) {
        self.ready = false;
    }

    /// Break the queue: log `err` and hand out nothing more until reset.
    pub fn fail(&mut self, err: QueueError) {
        guest_error!("virtqueue broken, device needs reset: {err}");
        if self.error.is_none() {
            self.error = Some(err);
        }
    }

    fn usable(&self) -> bool {
        self.ready && self.error.is_none()
    }

    /// Whether the driver has made chains available that the device has not popped (false on a
    /// broken or disabled queue; a memory error breaks the queue).
    pub fn has_available(&mut self, mem: &dyn GuestMemory) -> bool {
        if !self.usable() {
            return false;
        }
        match self.avail_idx(mem) {
            Ok(idx) => idx != self.next_avail,
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    fn avail_idx(&self, mem: &dyn GuestMemory) -> Result<u16, QueueError> {
        read_u16(mem, at(self.avail_ring, 2, "avail.idx")?, "avail.idx")
    }

    /// Pop the next available chain, or `None` when the ring is empty or the queue is not usable.
    /// A malformed chain breaks the queue (see the module docs) and gives `None`.
    pub fn pop(&mut self, mem: &mut dyn GuestMemory) -> Option<DescriptorChain> {
        if !self.usable() {
            return None;
        }
        match self.try_pop(mem) {
            Ok(c) => c,
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    fn try_pop(&mut self, mem: &mut dyn GuestMemory) -> Result<Option<DescriptorChain>, QueueError> {
        let avail_idx = self.avail_idx(mem)?;
        let pending = avail_idx.wrapping_sub(self.next_avail);
        if pending > self.size {
            return Err(QueueError::AvailIndexJump { avail_idx, next_avail: self.next_avail, size: self.size });
        }
        if pending == 0 {
            if self.event_idx {
                // Ask to be notified as soon as the driver adds the next chain.
                let a = at(self.used_ring, 4 + 8 * u64::from(self.size), "used.avail_event")?;
                write_bytes(mem, a, &self.next_avail.to_le_bytes(), "used.avail_event")?;
            }
            return Ok(None);
        }
        let slot = self.next_avail % self.size;
        let head = read_u16(&*mem, at(self.avail_ring, 4 + 2 * u64::from(slot), "avail.ring")?, "avail.ring")?;
        let chain = self.walk(&*mem, head)?;
        self.next_avail = self.next_avail.wrapping_add(1);
        Ok(Some(chain))
    }

    /// Put the last popped chain back (a device that could not use it yet).
    pub fn undo_pop(&mut self) {
        self.next_avail = self.next_avail.wrapping_sub(1);
    }

    fn walk(&self, mem: &dyn GuestMemory, head: u16) -> Result<DescriptorChain, QueueError> {
        let size = u32::from(self.size);
        let mut chain = DescriptorChain::new(head);
        let mut index = u32::from(head);
        let mut count = 0u32;
        loop {
            if index >= size {
                return Err(QueueError::DescriptorIndex { index, size });
            }
            count += 1;
            if count > size {
                return Err(QueueError::ChainTooLong { limit: size });
            }
            let d = read_descriptor(mem, self.desc_table, index)?;
            if d.flags & VIRTQ_DESC_F_INDIRECT != 0 {
                if !self.indirect {
                    return Err(QueueError::IndirectNotNegotiated);
                }
                if d.flags & VIRTQ_DESC_F_NEXT != 0 {
                    return Err(QueueError::IndirectWithNext);
                }
                walk_indirect(mem, &d, &mut chain)?;
                return Ok(chain);
            }
            chain.push(&d)?;
            if d.flags & VIRTQ_DESC_F_NEXT == 0 {
                return Ok(chain);
            }
            index = u32::from(d.next);
        }
    }

    /// Return a chain to the driver: `len` is the number of bytes the device wrote into its
    /// writable part. A memory error breaks the queue.
    pub fn add_used(&mut self, mem: &mut dyn GuestMemory, head: u16, len: u32) {
        if !self.usable() {
            return;
        }
        if let Err(e) = self.try_add_used(mem, head, len) {
            self.fail(e);
        }
    }

    fn try_add_used(&mut self, mem: &mut dyn GuestMemory, head: u16, len: u32) -> Result<(), QueueError> {
        let slot = self.next_used % self.size;
        let mut elem = [0u8; 8];
        elem[..4].copy_from_slice(&u32::from(head).to_le_bytes());
        elem[4..].copy_from_slice(&len.to_le_bytes());
        write_bytes(mem, at(self.used_ring, 4 + 8 * u64::from(slot), "used.ring")?, &elem, "used.ring")?;
        self.next_used = self.next_used.wrapping_add(1);
        write_bytes(mem, at(self.used_ring, 2, "used.idx")?, &self.next_used.to_le_bytes(), "used.idx")?;
        self.used_pending = true;
        Ok(())
    }

    /// Whether the driver wants an interrupt for the used elements added since the last call
    /// (§2.7.7.2 / §2.7.10). Resets the "added since" mark.
    pub fn needs_notification(&mut self, mem: &dyn GuestMemory) -> bool {
        if !self.usable() || !self.used_pending {
            return false;
        }
        self.used_pending = false;
        let r = if self.event_idx {
            let old = self.signalled_used.replace(self.next_used);
            match old {
                None => Ok(true),
                Some(old) => at(self.avail_ring, 4 + 2 * u64::from(self.size), "avail.used_event")
                    .and_then(|a| read_u16(mem, a, "avail.used_event"))
                    .map(|event| need_event(event, self.next_used, old)),
            }
        } else {
            read_u16(mem, self.avail_ring, "avail.flags").map(|f| f & VIRTQ_AVAIL_F_NO_INTERRUPT == 0)
        };
        r.unwrap_or_else(|e| {
            self.fail(e);
            false
        })
    }
}

fn walk_indirect(mem: &dyn GuestMemory, d: &Descriptor, chain: &mut DescriptorChain) -> Result<(), QueueError> {
    if d.len == 0 || !u64::from(d.len).is_multiple_of(DESCRIPTOR_SIZE) || d.len / 16 > MAX_INDIRECT_DESCRIPTORS {
        return Err(QueueError::IndirectLength { len: d.len });
    }
    d.addr.checked_add(u64::from(d.len)).ok_or(QueueError::AddressOverflow {
        what: "indirect table",
        addr: d.addr,
        len: u64::from(d.len),
    })?;
    let n = d.len / 16;
    let mut index = 0u32;
    let mut count = 0u32;
    loop {
        if index >= n {
            return Err(QueueError::DescriptorIndex { index, size: n });
        }
        count += 1;
        if count > n {
            return Err(QueueError::ChainTooLong { limit: n });
        }
        let e = read_descriptor(mem, d.addr, index)?;
        if e.flags & VIRTQ_DESC_F_INDIRECT != 0 {
            return Err(QueueError::NestedIndirect);
        }
        chain.push(&e)?;
        if e.flags & VIRTQ_DESC_F_NEXT == 0 {
            return Ok(());
        }
        index = u32::from(e.next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn need_event_fires_when_used_idx_crosses_event() {
        assert!(need_event(5, 6, 5));
        assert!(!need_event(7, 6, 5));
        assert!(need_event(0xffff, 1, 0xfffe)); // wraps
    }
}
