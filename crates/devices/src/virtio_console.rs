//! virtio-console (virtio 1.2 §5.3, device ID 3) with one port and no MULTIPORT: queue 0 is
//! `receiveq` (host → guest), queue 1 `transmitq` (guest → host). No feature bits are offered
//! (no SIZE, no EMERG_WRITE); the config space reads `cols = rows = 0`, `max_nr_ports = 1`.
//!
//! Output: each transmit chain's readable bytes go to the writer `W` (flushed after each chain,
//! for an interactive console); used length 0.
//! Input: [`VirtioConsole::push_input`] buffers host bytes (up to [`INPUT_CAPACITY`]; the caller
//! keeps what did not fit), delivered into the guest's receive buffers on the next `process`.
//! When the guest has posted no receive buffer the input waits, and the device stops asking to be
//! processed until the guest notifies the receive queue.

use mimic_core::RateLimit;
use mimic_memory::GuestMemory;
use mimic_virtio::device::read_config_bytes;
use mimic_virtio::{Queue, QueueError, VirtioDevice};
use std::collections::VecDeque;
use std::io::Write;

pub const DEVICE_ID: u32 = 3;
pub const RECEIVEQ: usize = 0;
pub const TRANSMITQ: usize = 1;
/// Queue size offered.
pub const QUEUE_SIZE: u16 = 128;
/// Host input bytes buffered at most.
pub const INPUT_CAPACITY: usize = 64 * 1024;
/// Largest transmit chain accepted (bigger ones are dropped and logged).
pub const MAX_TX: usize = 1 << 20;

/// A one-port virtio console writing guest output to `W`.
pub struct VirtioConsole<W> {
    out: W,
    input: VecDeque<u8>,
    /// The guest had no receive buffer the last time input was offered.
    rx_starved: bool,
}

impl<W> std::fmt::Debug for VirtioConsole<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtioConsole")
            .field("pending_input", &self.input.len())
            .field("rx_starved", &self.rx_starved)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send> VirtioConsole<W> {
    pub fn new(out: W) -> Self {
        VirtioConsole { out, input: VecDeque::new(), rx_starved: false }
    }

    /// Offer host input; returns how many bytes were taken (a prefix of `bytes`). The transport
    /// then reports `needs_processing()`.
    pub fn push_input(&mut self, bytes: &[u8]) -> usize {
        let n = (INPUT_CAPACITY - self.input.len()).min(bytes.len());
        self.input.extend(&bytes[..n]);
        n
    }

    /// Input bytes not yet delivered to the guest.
    pub fn pending_input(&self) -> usize {
        self.input.len()
    }

    pub fn output(&self) -> &W {
        &self.out
    }
    pub fn output_mut(&mut self) -> &mut W {
        &mut self.out
    }

    fn deliver(&mut self, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        while !self.input.is_empty() {
            let Some(chain) = queue.pop(mem) else {
                self.rx_starved = true;
                return;
            };
            let n = chain.writable_len().min(self.input.len() as u64) as usize;
            let data: Vec<u8> = self.input.iter().take(n).copied().collect();
            match chain.write_at(mem, 0, &data) {
                Ok(written) => {
                    self.input.drain(..written);
                    queue.add_used(mem, chain.head(), written as u32);
                }
                Err(e) => return queue.fail(e),
            }
        }
    }

    fn transmit(&mut self, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        while let Some(chain) = queue.pop(mem) {
            match chain.read_to_vec(&*mem, MAX_TX) {
                Ok(data) => {
                    let res = self.out.write_all(&data).and_then(|()| self.out.flush());
                    if let Err(e) = res {
                        static LIMIT: RateLimit = RateLimit::new();
                        if LIMIT.hit() {
                            tracing::warn!(count = LIMIT.count(), "virtio-console: output failed, bytes dropped: {e}");
                        }
                    }
                }
                Err(QueueError::TooLarge { len, .. }) => {
                    mimic_core::guest_error!(len, "virtio-console: transmit buffer too large, dropped");
                }
                Err(e) => return queue.fail(e),
            }
            queue.add_used(mem, chain.head(), 0);
        }
    }
}

impl<W: Write + Send> VirtioDevice for VirtioConsole<W> {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }
    fn features(&self) -> u64 {
        0
    }
    fn num_queues(&self) -> usize {
        2
    }
    fn queue_max_size(&self, _index: usize) -> u16 {
        QUEUE_SIZE
    }
    fn read_config(&self, offset: u64, data: &mut [u8]) {
        // le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr
        let mut c = [0u8; 12];
        c[4..8].copy_from_slice(&1u32.to_le_bytes());
        read_config_bytes(&c, offset, data);
    }
    fn reset(&mut self) {
        self.rx_starved = false;
    }
    fn process_queue(&mut self, index: usize, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        match index {
            RECEIVEQ => {
                self.rx_starved = false;
                self.deliver(queue, mem);
            }
            TRANSMITQ => self.transmit(queue, mem),
            _ => {}
        }
    }
    fn poll(&mut self, queues: &mut [Queue], mem: &mut dyn GuestMemory) {
        if !self.input.is_empty() && !self.rx_starved {
            if let Some(q) = queues.get_mut(RECEIVEQ) {
                self.deliver(q, mem);
            }
        }
    }
    fn has_backend_work(&self) -> bool {
        !self.input.is_empty() && !self.rx_starved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::SharedWriter;
    use mimic_virtio::features::VIRTIO_F_VERSION_1;
    use mimic_virtio::mock::{r, w, Driver, TestIrq};
    use mimic_virtio::VirtioMmio;

    type Console = VirtioMmio<VirtioConsole<SharedWriter>, TestIrq>;

    fn setup() -> (Console, TestIrq, Driver, SharedWriter) {
        let out = SharedWriter::new();
        let irq = TestIrq::new();
        let mut dev = VirtioMmio::new(VirtioConsole::new(out.clone()), irq.clone());
        let mut drv = Driver::new(1 << 20);
        drv.init(&mut dev, VIRTIO_F_VERSION_1, 2, 8);
        dev.process(&mut drv.mem); // the DRIVER_OK look at every queue
        (dev, irq, drv, out)
    }

    #[test]
    fn transmit_writes_bytes_to_output_and_returns_buffer() {
        let (mut dev, irq, mut drv, out) = setup();
        let (a, b) = (drv.buf(b"hello, "), drv.buf(b"world\n"));
        let head = drv.add_chain(TRANSMITQ, &[r(a, 7), r(b, 6)]);
        Driver::notify(&mut dev, TRANSMITQ as u32);
        dev.process(&mut drv.mem);
        assert_eq!(
            (out.text(), drv.take_used(TRANSMITQ), irq.level()),
            ("hello, world\n".into(), vec![(u32::from(head), 0)], true)
        );
    }

    #[test]
    fn input_is_delivered_into_posted_receive_buffer() {
        let (mut dev, irq, mut drv, _) = setup();
        let b = drv.alloc(16);
        let head = drv.add_chain(RECEIVEQ, &[w(b, 16)]);
        Driver::notify(&mut dev, RECEIVEQ as u32);
        dev.process(&mut drv.mem);
        dev.device_mut().push_input(b"ls\n");
        assert!(dev.needs_processing());
        dev.process(&mut drv.mem);
        assert_eq!(
            (drv.take_used(RECEIVEQ), drv.read_mem(b, 3), irq.level()),
            (vec![(u32::from(head), 3)], b"ls\n".to_vec(), true)
        );
    }

    #[test]
    fn input_waits_for_a_receive_buffer() {
        let (mut dev, _, mut drv, _) = setup();
        dev.device_mut().push_input(b"abc");
        dev.process(&mut drv.mem);
        let waiting = (dev.device().pending_input(), dev.needs_processing());
        let b = drv.alloc(8);
        drv.add_chain(RECEIVEQ, &[w(b, 8)]);
        Driver::notify(&mut dev, RECEIVEQ as u32);
        dev.process(&mut drv.mem);
        assert_eq!((waiting, drv.read_mem(b, 3), dev.device().pending_input()), ((3, false), b"abc".to_vec(), 0));
    }

    #[test]
    fn input_larger_than_buffer_is_split_across_buffers() {
        let (mut dev, _, mut drv, _) = setup();
        let (a, b) = (drv.alloc(2), drv.alloc(8));
        drv.add_chain(RECEIVEQ, &[w(a, 2)]);
        drv.add_chain(RECEIVEQ, &[w(b, 8)]);
        Driver::notify(&mut dev, RECEIVEQ as u32);
        dev.process(&mut drv.mem);
        dev.device_mut().push_input(b"xyz");
        dev.process(&mut drv.mem);
        let lens: Vec<u32> = drv.take_used(RECEIVEQ).iter().map(|u| u.1).collect();
        assert_eq!((lens, drv.read_mem(a, 2), drv.read_mem(b, 1)), (vec![2, 1], b"xy".to_vec(), b"z".to_vec()));
    }

    #[test]
    fn push_input_takes_at_most_capacity() {
        let mut c = VirtioConsole::new(SharedWriter::new());
        assert_eq!(c.push_input(&vec![b'a'; INPUT_CAPACITY + 5]), INPUT_CAPACITY);
    }

    #[test]
    fn config_reports_one_port() {
        let c = VirtioConsole::new(SharedWriter::new());
        let mut b = [0u8; 4];
        c.read_config(4, &mut b);
        assert_eq!(u32::from_le_bytes(b), 1);
    }
}
