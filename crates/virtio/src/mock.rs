//! Test doubles (feature `test-utils`): a guest driver simulator that sets up split virtqueues in a
//! [`FlatMemory`] and talks to a transport through its MMIO registers, and an IRQ line to watch.

use crate::features::status;
use crate::mmio::*;
use crate::queue::{VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE};
use mimic_core::{IrqLine, Size};
use mimic_memory::{FlatMemory, GuestMemory, MmioDevice};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// An [`IrqLine`] whose level (and number of rising edges) tests read. Clones share it.
#[derive(Clone, Debug, Default)]
pub struct TestIrq {
    level: Arc<AtomicBool>,
    raised: Arc<AtomicUsize>,
}

impl TestIrq {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn level(&self) -> bool {
        self.level.load(Ordering::SeqCst)
    }
    /// How many times the line went high.
    pub fn raised(&self) -> usize {
        self.raised.load(Ordering::SeqCst)
    }
}

impl IrqLine for TestIrq {
    fn set_level(&self, high: bool) {
        if high && !self.level.swap(true, Ordering::SeqCst) {
            self.raised.fetch_add(1, Ordering::SeqCst);
        }
        if !high {
            self.level.store(false, Ordering::SeqCst);
        }
    }
}

/// Guest RAM base used by [`Driver`].
pub const RAM_BASE: u64 = 0x8000_0000;

/// One buffer of a request: guest address, length, device-writable?
#[derive(Clone, Copy, Debug)]
pub struct Seg {
    pub addr: u64,
    pub len: u32,
    pub write: bool,
}

/// The driver's view of one queue.
#[derive(Clone, Debug)]
pub struct DriverQueue {
    pub size: u16,
    pub desc: u64,
    pub avail: u64,
    pub used: u64,
    /// Next free descriptor (allocated round-robin; tests keep few chains in flight).
    pub next_desc: u16,
    /// The driver's available index.
    pub avail_idx: u16,
    /// Used elements already collected.
    pub last_used: u16,
}

/// A guest driver simulator over guest memory at [`RAM_BASE`]: a [`FlatMemory`] unless a test
/// brings its own (an address space, to have RAM that can be lent).
#[derive(Debug)]
pub struct Driver<M = FlatMemory> {
    pub mem: M,
    pub queues: Vec<DriverQueue>,
    next_free: u64,
    end: u64,
}

impl Driver {
    /// A driver with `ram` bytes of guest memory.
    pub fn new(ram: usize) -> Self {
        Driver::with_memory(FlatMemory::new(RAM_BASE, ram), ram)
    }

    pub fn read32(dev: &mut dyn MmioDevice, off: u64) -> u32 {
        dev.read(off, Size::B4) as u32
    }
    pub fn write32(dev: &mut dyn MmioDevice, off: u64, v: u32) {
        dev.write(off, Size::B4, u64::from(v));
    }

    /// Features the device offers (both words).
    pub fn device_features(dev: &mut dyn MmioDevice) -> u64 {
        Self::write32(dev, DEVICE_FEATURES_SEL, 0);
        let lo = Self::read32(dev, DEVICE_FEATURES);
        Self::write32(dev, DEVICE_FEATURES_SEL, 1);
        let hi = Self::read32(dev, DEVICE_FEATURES);
        u64::from(lo) | (u64::from(hi) << 32)
    }

    /// Steps 1–6 of §3.1.1: reset, ACKNOWLEDGE, DRIVER, write `features`, FEATURES_OK; returns
    /// the status read back (FEATURES_OK clear if the device refused).
    pub fn negotiate(dev: &mut dyn MmioDevice, features: u64) -> u32 {
        Self::write32(dev, STATUS, 0);
        Self::write32(dev, STATUS, u32::from(status::ACKNOWLEDGE));
        Self::write32(dev, STATUS, u32::from(status::ACKNOWLEDGE | status::DRIVER));
        Self::write32(dev, DRIVER_FEATURES_SEL, 0);
        Self::write32(dev, DRIVER_FEATURES, features as u32);
        Self::write32(dev, DRIVER_FEATURES_SEL, 1);
        Self::write32(dev, DRIVER_FEATURES, (features >> 32) as u32);
        Self::write32(dev, STATUS, u32::from(status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK));
        Self::read32(dev, STATUS)
    }

    /// Ring the doorbell of queue `q`.
    pub fn notify(dev: &mut dyn MmioDevice, q: u32) {
        Self::write32(dev, QUEUE_NOTIFY, q);
    }

    /// Acknowledge every pending interrupt; returns the InterruptStatus that was pending.
    pub fn ack(dev: &mut dyn MmioDevice) -> u32 {
        let s = Self::read32(dev, INTERRUPT_STATUS);
        Self::write32(dev, INTERRUPT_ACK, s);
        s
    }
}

impl<M: GuestMemory> Driver<M> {
    /// A driver over `mem`, whose `ram` bytes from [`RAM_BASE`] are RAM.
    pub fn with_memory(mem: M, ram: usize) -> Self {
        Driver { mem, queues: Vec::new(), next_free: RAM_BASE, end: RAM_BASE + ram as u64 }
    }

    /// Allocate `len` bytes of guest memory (16-byte aligned), zeroed.
    pub fn alloc(&mut self, len: usize) -> u64 {
        let a = self.next_free;
        self.next_free = (a + len as u64 + 15) & !15;
        assert!(self.next_free <= self.end, "test driver out of memory");
        self.mem.write(a, &vec![0; len]).unwrap();
        a
    }
    /// Allocate a buffer holding `data`.
    pub fn buf(&mut self, data: &[u8]) -> u64 {
        let a = self.alloc(data.len());
        self.mem.write(a, data).unwrap();
        a
    }
    pub fn read_mem(&self, addr: u64, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.mem.read(addr, &mut v).unwrap();
        v
    }
    pub fn read_u16(&self, addr: u64) -> u16 {
        u16::from_le_bytes(self.read_mem(addr, 2).try_into().unwrap())
    }
    pub fn write_u16(&mut self, addr: u64, v: u16) {
        self.mem.write(addr, &v.to_le_bytes()).unwrap();
    }

    /// Lay out queue `index` of `size` entries in guest memory and program it (not yet ready).
    pub fn setup_queue(&mut self, dev: &mut dyn MmioDevice, index: u32, size: u16) {
        let s = usize::from(size);
        let desc = self.alloc(16 * s);
        let avail = self.alloc(6 + 2 * s);
        let used = self.alloc(6 + 8 * s);
        Driver::write32(dev, QUEUE_SEL, index);
        Driver::write32(dev, QUEUE_NUM, u32::from(size));
        Driver::write32(dev, QUEUE_DESC_LOW, desc as u32);
        Driver::write32(dev, QUEUE_DESC_HIGH, (desc >> 32) as u32);
        Driver::write32(dev, QUEUE_DRIVER_LOW, avail as u32);
        Driver::write32(dev, QUEUE_DRIVER_HIGH, (avail >> 32) as u32);
        Driver::write32(dev, QUEUE_DEVICE_LOW, used as u32);
        Driver::write32(dev, QUEUE_DEVICE_HIGH, (used >> 32) as u32);
        let q = DriverQueue { size, desc, avail, used, next_desc: 0, avail_idx: 0, last_used: 0 };
        let i = index as usize;
        if self.queues.len() <= i {
            self.queues.resize(i + 1, q.clone());
        }
        self.queues[i] = q;
    }

    /// The whole bring-up: negotiate `features` (must be accepted), set up `nqueues` queues of
    /// `size` (capped at QueueNumMax), DRIVER_OK.
    pub fn init(&mut self, dev: &mut dyn MmioDevice, features: u64, nqueues: u32, size: u16) {
        let st = Driver::negotiate(dev, features);
        assert!(st & u32::from(status::FEATURES_OK) != 0, "device refused features {features:#x}");
        for i in 0..nqueues {
            Driver::write32(dev, QUEUE_SEL, i);
            let max = Driver::read32(dev, QUEUE_NUM_MAX) as u16;
            self.setup_queue(dev, i, size.min(max));
            Driver::write32(dev, QUEUE_READY, 1);
        }
        Driver::write32(
            dev,
            STATUS,
            u32::from(status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK | status::DRIVER_OK),
        );
    }

    /// Write descriptor `i` of queue `q` directly (for malformed tables).
    pub fn set_desc(&mut self, q: usize, i: u16, addr: u64, len: u32, flags: u16, next: u16) {
        let a = self.queues[q].desc + 16 * u64::from(i);
        write_desc(&mut self.mem, a, addr, len, flags, next);
    }

    /// Put `head` in the available ring of queue `q` and publish it.
    pub fn push_avail(&mut self, q: usize, head: u16) {
        let dq = &mut self.queues[q];
        let slot = dq.avail_idx % dq.size;
        let (avail, idx) = (dq.avail, dq.avail_idx.wrapping_add(1));
        dq.avail_idx = idx;
        self.write_u16(avail + 4 + 2 * u64::from(slot), head);
        self.write_u16(avail + 2, idx);
    }

    /// Post a chain of `segs` on queue `q` (descriptors linked with NEXT); returns its head.
    pub fn add_chain(&mut self, q: usize, segs: &[Seg]) -> u16 {
        let size = self.queues[q].size;
        let head = self.queues[q].next_desc;
        for (k, s) in segs.iter().enumerate() {
            let i = (head + k as u16) % size;
            let last = k + 1 == segs.len();
            let flags = if s.write { VIRTQ_DESC_F_WRITE } else { 0 } | if last { 0 } else { VIRTQ_DESC_F_NEXT };
            self.set_desc(q, i, s.addr, s.len, flags, (i + 1) % size);
        }
        self.queues[q].next_desc = (head + segs.len() as u16) % size;
        self.push_avail(q, head);
        head
    }

    /// Post `segs` as one indirect table on queue `q`; returns the head.
    pub fn add_indirect(&mut self, q: usize, segs: &[Seg]) -> u16 {
        let table = self.alloc(16 * segs.len());
        for (k, s) in segs.iter().enumerate() {
            let last = k + 1 == segs.len();
            let flags = if s.write { VIRTQ_DESC_F_WRITE } else { 0 } | if last { 0 } else { VIRTQ_DESC_F_NEXT };
            write_desc(&mut self.mem, table + 16 * k as u64, s.addr, s.len, flags, k as u16 + 1);
        }
        let size = self.queues[q].size;
        let head = self.queues[q].next_desc;
        self.set_desc(q, head, table, 16 * segs.len() as u32, VIRTQ_DESC_F_INDIRECT, 0);
        self.queues[q].next_desc = (head + 1) % size;
        self.push_avail(q, head);
        head
    }

    /// Used elements `(id, len)` added since the last call.
    pub fn take_used(&mut self, q: usize) -> Vec<(u32, u32)> {
        let dq = self.queues[q].clone();
        let idx = self.read_u16(dq.used + 2);
        let mut out = Vec::new();
        let mut i = dq.last_used;
        while i != idx {
            let e = self.read_mem(dq.used + 4 + 8 * u64::from(i % dq.size), 8);
            out.push((u32::from_le_bytes(e[..4].try_into().unwrap()), u32::from_le_bytes(e[4..].try_into().unwrap())));
            i = i.wrapping_add(1);
        }
        self.queues[q].last_used = idx;
        out
    }

    /// The driver's `used_event` (VIRTIO_F_EVENT_IDX), after the available ring.
    pub fn set_used_event(&mut self, q: usize, v: u16) {
        let dq = &self.queues[q];
        let a = dq.avail + 4 + 2 * u64::from(dq.size);
        self.write_u16(a, v);
    }
    /// The device's `avail_event` (VIRTIO_F_EVENT_IDX), after the used ring.
    pub fn avail_event(&self, q: usize) -> u16 {
        let dq = &self.queues[q];
        self.read_u16(dq.used + 4 + 8 * u64::from(dq.size))
    }
    /// Set or clear VIRTQ_AVAIL_F_NO_INTERRUPT.
    pub fn set_avail_flags(&mut self, q: usize, flags: u16) {
        let a = self.queues[q].avail;
        self.write_u16(a, flags);
    }
}

/// Write a raw 16-byte descriptor at `at`.
pub fn write_desc(mem: &mut dyn GuestMemory, at: u64, addr: u64, len: u32, flags: u16, next: u16) {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&addr.to_le_bytes());
    b[8..12].copy_from_slice(&len.to_le_bytes());
    b[12..14].copy_from_slice(&flags.to_le_bytes());
    b[14..].copy_from_slice(&next.to_le_bytes());
    mem.write(at, &b).unwrap();
}

/// A readable segment.
pub fn r(addr: u64, len: u32) -> Seg {
    Seg { addr, len, write: false }
}
/// A writable segment.
pub fn w(addr: u64, len: u32) -> Seg {
    Seg { addr, len, write: true }
}
