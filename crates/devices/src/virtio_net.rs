//! virtio-net (virtio 1.2 §5.1, device ID 1) over a [`NetBackend`]: one queue pair
//! (queue 0 `receiveq1`, queue 1 `transmitq1`), no control queue, no offloads.
//!
//! Offered features: MAC (config `mac`) and STATUS (config `status` = LINK_UP). Every frame in
//! either direction is preceded by the 12-byte `virtio_net_hdr` (with `num_buffers`, as
//! VERSION_1 requires):
//!
//! ```text
//!  u8 flags | u8 gso_type | le16 hdr_len | le16 gso_size | le16 csum_start | le16 csum_offset | le16 num_buffers
//! ```
//!
//! - Transmit: the header is stripped (nothing in it applies without offloads) and the frame goes
//!   to [`NetBackend::send`]; used length 0. A chain shorter than the header or larger than
//!   [`MAX_TX_CHAIN`] is logged and dropped.
//! - Receive: on every `process` the device moves frames from [`NetBackend::recv`] into posted
//!   receive buffers, header first (all zero but `num_buffers = 1`); used length = 12 + frame.
//!   With no buffer posted, the frame in hand is kept and the rest wait in the backend; the
//!   device stops asking to be processed until the guest notifies the receive queue. A frame
//!   that does not fit the guest's buffer is dropped and logged (the buffer stays posted).

use mimic_core::guest_error;
use mimic_memory::GuestMemory;
use mimic_virtio::device::read_config_bytes;
use mimic_virtio::{Queue, QueueError, VirtioDevice};

pub const DEVICE_ID: u32 = 1;
pub const RECEIVEQ: usize = 0;
pub const TRANSMITQ: usize = 1;
pub const VIRTIO_NET_F_MAC: u64 = 1 << 5;
pub const VIRTIO_NET_F_STATUS: u64 = 1 << 16;
pub const VIRTIO_NET_S_LINK_UP: u16 = 1;
/// Bytes of `virtio_net_hdr` with `num_buffers`.
pub const HDR_LEN: usize = 12;
/// Queue size offered.
pub const QUEUE_SIZE: u16 = 256;
/// Largest transmit chain (header + frame) accepted.
pub const MAX_TX_CHAIN: usize = HDR_LEN + 65535;

/// Where frames come from and go to (user-mode networking, a socket, a test double).
pub trait NetBackend: Send {
    /// Send one Ethernet frame (no FCS).
    fn send(&mut self, frame: &[u8]);
    /// The next received frame, if any.
    fn recv(&mut self) -> Option<Vec<u8>>;
    /// Whether `recv` may have a frame (a cheap hint the run loop asks on every slice; the
    /// default makes the device try `recv` whenever the guest has receive buffers).
    fn has_frames(&self) -> bool {
        true
    }
}

impl<T: NetBackend + ?Sized> NetBackend for Box<T> {
    fn send(&mut self, frame: &[u8]) {
        (**self).send(frame)
    }
    fn recv(&mut self) -> Option<Vec<u8>> {
        (**self).recv()
    }
    fn has_frames(&self) -> bool {
        (**self).has_frames()
    }
}

/// A virtio network device over `B`.
pub struct VirtioNet<B> {
    backend: B,
    mac: [u8; 6],
    /// A frame taken from the backend that found no receive buffer yet.
    held: Option<Vec<u8>>,
    /// The guest had no receive buffer the last time a frame was offered.
    rx_starved: bool,
}

impl<B> std::fmt::Debug for VirtioNet<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtioNet")
            .field("mac", &self.mac)
            .field("held", &self.held.as_ref().map(Vec::len))
            .field("rx_starved", &self.rx_starved)
            .finish_non_exhaustive()
    }
}

impl<B: NetBackend> VirtioNet<B> {
    /// A NIC with hardware address `mac` (QEMU's default is 52:54:00:12:34:56).
    pub fn new(backend: B, mac: [u8; 6]) -> Self {
        VirtioNet { backend, mac, held: None, rx_starved: false }
    }
    pub fn backend(&self) -> &B {
        &self.backend
    }
    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn transmit(&mut self, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        while let Some(chain) = queue.pop(mem) {
            match chain.read_to_vec(&*mem, MAX_TX_CHAIN) {
                Ok(data) if data.len() >= HDR_LEN => self.backend.send(&data[HDR_LEN..]),
                Ok(data) => guest_error!(len = data.len(), "virtio-net: transmit chain shorter than the header"),
                Err(QueueError::TooLarge { len, .. }) => guest_error!(len, "virtio-net: transmit chain too large"),
                Err(e) => return queue.fail(e),
            }
            queue.add_used(mem, chain.head(), 0);
        }
    }

    fn receive(&mut self, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        loop {
            let frame = match self.held.take() {
                Some(f) => f,
                None if self.backend.has_frames() => match self.backend.recv() {
                    Some(f) => f,
                    None => return,
                },
                None => return,
            };
            let Some(chain) = queue.pop(mem) else {
                self.held = Some(frame);
                self.rx_starved = true;
                return;
            };
            let need = (HDR_LEN + frame.len()) as u64;
            if chain.writable_len() < need {
                guest_error!(
                    frame = frame.len(),
                    buffer = chain.writable_len(),
                    "virtio-net: receive buffer too small, frame dropped"
                );
                queue.undo_pop();
                continue;
            }
            let mut packet = vec![0u8; HDR_LEN];
            packet[10..12].copy_from_slice(&1u16.to_le_bytes()); // num_buffers
            packet.extend_from_slice(&frame);
            match chain.write_at(mem, 0, &packet) {
                Ok(n) => queue.add_used(mem, chain.head(), n as u32),
                Err(e) => return queue.fail(e),
            }
        }
    }
}

impl<B: NetBackend> VirtioDevice for VirtioNet<B> {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }
    fn features(&self) -> u64 {
        VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS
    }
    fn num_queues(&self) -> usize {
        2
    }
    fn queue_max_size(&self, _index: usize) -> u16 {
        QUEUE_SIZE
    }
    fn read_config(&self, offset: u64, data: &mut [u8]) {
        // u8 mac[6], le16 status, le16 max_virtqueue_pairs, le16 mtu
        let mut c = [0u8; 12];
        c[..6].copy_from_slice(&self.mac);
        c[6..8].copy_from_slice(&VIRTIO_NET_S_LINK_UP.to_le_bytes());
        c[8..10].copy_from_slice(&1u16.to_le_bytes());
        c[10..12].copy_from_slice(&1500u16.to_le_bytes());
        read_config_bytes(&c, offset, data);
    }
    fn reset(&mut self) {
        self.rx_starved = false;
    }
    fn process_queue(&mut self, index: usize, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        match index {
            RECEIVEQ => {
                self.rx_starved = false;
                self.receive(queue, mem);
            }
            TRANSMITQ => self.transmit(queue, mem),
            _ => {}
        }
    }
    fn poll(&mut self, queues: &mut [Queue], mem: &mut dyn GuestMemory) {
        if !self.rx_starved {
            if let Some(q) = queues.get_mut(RECEIVEQ) {
                self.receive(q, mem);
            }
        }
    }
    fn has_backend_work(&self) -> bool {
        !self.rx_starved && (self.held.is_some() || self.backend.has_frames())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mimic_core::Size;
    use mimic_memory::MmioDevice;
    use mimic_virtio::features::VIRTIO_F_VERSION_1;
    use mimic_virtio::mmio::CONFIG;
    use mimic_virtio::mock::{r, w, Driver, TestIrq};
    use mimic_virtio::VirtioMmio;

    use crate::mock::TestNet;

    type Net = VirtioMmio<VirtioNet<TestNet>, TestIrq>;
    const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

    fn setup() -> (Net, TestIrq, Driver) {
        let irq = TestIrq::new();
        let mut dev = VirtioMmio::new(VirtioNet::new(TestNet::default(), MAC), irq.clone());
        let mut drv = Driver::new(1 << 20);
        drv.init(&mut dev, VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS, 2, 16);
        dev.process(&mut drv.mem);
        (dev, irq, drv)
    }

    fn frame(n: usize) -> Vec<u8> {
        (0..n).map(|i| i as u8).collect()
    }

    /// Post a receive buffer of `len` bytes; returns its address.
    fn post_rx(dev: &mut Net, drv: &mut Driver, len: u32) -> u64 {
        let b = drv.alloc(len as usize);
        drv.add_chain(RECEIVEQ, &[w(b, len)]);
        Driver::notify(dev, RECEIVEQ as u32);
        dev.process(&mut drv.mem);
        b
    }

    #[test]
    fn config_exposes_mac_and_link_up() {
        let (mut dev, _, _) = setup();
        let mac: Vec<u8> = (0..6).map(|i| dev.read(CONFIG + i, Size::B1) as u8).collect();
        assert_eq!((mac, dev.read(CONFIG + 6, Size::B2)), (MAC.to_vec(), 1));
    }

    #[test]
    fn transmit_strips_header_and_sends_frame() {
        let (mut dev, irq, mut drv) = setup();
        let hdr = drv.buf(&[0xee; HDR_LEN]);
        let f = frame(60);
        let data = drv.buf(&f);
        drv.add_chain(TRANSMITQ, &[r(hdr, HDR_LEN as u32), r(data, 60)]);
        Driver::notify(&mut dev, TRANSMITQ as u32);
        dev.process(&mut drv.mem);
        assert_eq!(
            (dev.device().backend().sent.clone(), drv.take_used(TRANSMITQ)[0].1, irq.level()),
            (vec![f], 0, true)
        );
    }

    #[test]
    fn transmit_with_header_and_frame_in_one_buffer_sends_frame() {
        let (mut dev, _, mut drv) = setup();
        let mut pkt = vec![0u8; HDR_LEN];
        pkt.extend(frame(20));
        let b = drv.buf(&pkt);
        drv.add_chain(TRANSMITQ, &[r(b, pkt.len() as u32)]);
        Driver::notify(&mut dev, TRANSMITQ as u32);
        dev.process(&mut drv.mem);
        assert_eq!(dev.device().backend().sent, vec![frame(20)]);
    }

    #[test]
    fn transmit_shorter_than_header_is_dropped_and_returned() {
        let (mut dev, _, mut drv) = setup();
        let b = drv.buf(&[0; 4]);
        let head = drv.add_chain(TRANSMITQ, &[r(b, 4)]);
        Driver::notify(&mut dev, TRANSMITQ as u32);
        dev.process(&mut drv.mem);
        assert_eq!((dev.device().backend().sent.len(), drv.take_used(TRANSMITQ)), (0, vec![(u32::from(head), 0)]));
    }

    #[test]
    fn receive_prepends_header_with_num_buffers_one() {
        let (mut dev, irq, mut drv) = setup();
        let b = post_rx(&mut dev, &mut drv, 2048);
        dev.device_mut().backend_mut().incoming.push_back(frame(64));
        assert!(dev.needs_processing());
        dev.process(&mut drv.mem);
        let mut want = vec![0u8; HDR_LEN];
        want[10] = 1;
        want.extend(frame(64));
        assert_eq!((drv.take_used(RECEIVEQ)[0].1, drv.read_mem(b, HDR_LEN + 64), irq.level()), (76, want, true));
    }

    #[test]
    fn received_frames_wait_until_buffers_are_posted() {
        let (mut dev, _, mut drv) = setup();
        dev.device_mut().backend_mut().incoming.extend([frame(10), frame(11)]);
        dev.process(&mut drv.mem);
        let idle = (dev.needs_processing(), dev.device().backend().incoming.len());
        let (a, b) = (drv.alloc(64), drv.alloc(64));
        drv.add_chain(RECEIVEQ, &[w(a, 64)]);
        drv.add_chain(RECEIVEQ, &[w(b, 64)]);
        Driver::notify(&mut dev, RECEIVEQ as u32);
        dev.process(&mut drv.mem);
        let lens: Vec<u32> = drv.take_used(RECEIVEQ).iter().map(|u| u.1).collect();
        assert_eq!((idle, lens), ((false, 1), vec![22, 23]));
    }

    #[test]
    fn frame_too_big_for_buffer_is_dropped_and_buffer_reused() {
        let (mut dev, _, mut drv) = setup();
        let b = post_rx(&mut dev, &mut drv, 100);
        dev.device_mut().backend_mut().incoming.extend([frame(500), frame(30)]);
        dev.process(&mut drv.mem);
        assert_eq!((drv.take_used(RECEIVEQ)[0].1, drv.read_mem(b + HDR_LEN as u64, 30)), (42, frame(30)));
    }

    #[test]
    fn receive_into_header_and_data_buffers_splits_packet() {
        let (mut dev, _, mut drv) = setup();
        let (h, d) = (drv.alloc(HDR_LEN), drv.alloc(1514));
        drv.add_chain(RECEIVEQ, &[w(h, HDR_LEN as u32), w(d, 1514)]);
        Driver::notify(&mut dev, RECEIVEQ as u32);
        dev.process(&mut drv.mem);
        dev.device_mut().backend_mut().incoming.push_back(frame(100));
        dev.process(&mut drv.mem);
        assert_eq!((drv.read_mem(h + 10, 2), drv.read_mem(d, 100)), (vec![1, 0], frame(100)));
    }
}
