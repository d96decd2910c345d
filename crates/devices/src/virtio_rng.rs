//! virtio-rng, the entropy device (virtio 1.2 §5.4, device ID 4): one queue (`requestq`) whose
//! device-writable buffers the device fills with random bytes. No feature bits, no config space.
//!
//! The bytes come from a generic source `R: FnMut(&mut [u8])` (the machine passes host
//! randomness, tests a fixed pattern). At most [`MAX_PER_REQUEST`] bytes are given per request
//! (drivers ask for small amounts and come back for more); the used length says how many.

use mimic_memory::GuestMemory;
use mimic_virtio::{Queue, VirtioDevice};

pub const DEVICE_ID: u32 = 4;
/// Queue size offered.
pub const QUEUE_SIZE: u16 = 256;
/// Most bytes filled into one request.
pub const MAX_PER_REQUEST: usize = 64 * 1024;

/// The entropy device over a random source.
pub struct VirtioRng<R> {
    source: R,
}

impl<R> std::fmt::Debug for VirtioRng<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtioRng").finish_non_exhaustive()
    }
}

impl<R: FnMut(&mut [u8]) + Send> VirtioRng<R> {
    pub fn new(source: R) -> Self {
        VirtioRng { source }
    }
}

impl<R: FnMut(&mut [u8]) + Send> VirtioDevice for VirtioRng<R> {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }
    fn features(&self) -> u64 {
        0
    }
    fn num_queues(&self) -> usize {
        1
    }
    fn queue_max_size(&self, _index: usize) -> u16 {
        QUEUE_SIZE
    }
    fn read_config(&self, _offset: u64, data: &mut [u8]) {
        data.fill(0);
    }
    fn process_queue(&mut self, _index: usize, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        let mut buf = Vec::new();
        while let Some(chain) = queue.pop(mem) {
            let n = chain.writable_len().min(MAX_PER_REQUEST as u64) as usize;
            buf.resize(n, 0);
            (self.source)(&mut buf);
            match chain.write_at(mem, 0, &buf) {
                Ok(written) => queue.add_used(mem, chain.head(), written as u32),
                Err(e) => return queue.fail(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mimic_virtio::features::VIRTIO_F_VERSION_1;
    use mimic_virtio::mmio::DEVICE_ID as DEVICE_ID_REG;
    use mimic_virtio::mock::{r, w, Driver, TestIrq};
    use mimic_virtio::VirtioMmio;

    type Rng = VirtioMmio<VirtioRng<fn(&mut [u8])>, TestIrq>;

    fn pattern(buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8 ^ 0x5a;
        }
    }

    fn setup() -> (Rng, TestIrq, Driver) {
        let irq = TestIrq::new();
        let mut dev: Rng = VirtioMmio::new(VirtioRng::new(pattern as fn(&mut [u8])), irq.clone());
        let mut drv = Driver::new(1 << 20);
        drv.init(&mut dev, VIRTIO_F_VERSION_1, 1, 8);
        (dev, irq, drv)
    }

    #[test]
    fn device_id_is_entropy() {
        let (mut dev, _, _) = setup();
        assert_eq!(Driver::read32(&mut dev, DEVICE_ID_REG), 4);
    }

    #[test]
    fn request_fills_writable_buffer_from_source_and_interrupts() {
        let (mut dev, irq, mut drv) = setup();
        let b = drv.alloc(16);
        let head = drv.add_chain(0, &[w(b, 16)]);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        let mut want = [0u8; 16];
        pattern(&mut want);
        assert_eq!(
            (drv.take_used(0), drv.read_mem(b, 16), irq.level()),
            (vec![(u32::from(head), 16)], want.to_vec(), true)
        );
    }

    #[test]
    fn request_spanning_two_buffers_fills_both() {
        let (mut dev, _, mut drv) = setup();
        let (a, b) = (drv.alloc(3), drv.alloc(5));
        drv.add_chain(0, &[w(a, 3), w(b, 5)]);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        let mut want = [0u8; 8];
        pattern(&mut want);
        assert_eq!([drv.read_mem(a, 3), drv.read_mem(b, 5)].concat(), want.to_vec());
    }

    #[test]
    fn request_without_writable_buffer_is_returned_empty() {
        let (mut dev, _, mut drv) = setup();
        let a = drv.alloc(4);
        drv.add_chain(0, &[r(a, 4)]);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        assert_eq!(drv.take_used(0).iter().map(|u| u.1).collect::<Vec<_>>(), vec![0]);
    }

    #[test]
    fn huge_request_is_capped() {
        let (mut dev, _, mut drv) = setup();
        let a = drv.alloc(MAX_PER_REQUEST + 16);
        drv.add_chain(0, &[w(a, (MAX_PER_REQUEST + 16) as u32)]);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        assert_eq!(drv.take_used(0)[0].1, MAX_PER_REQUEST as u32);
    }
}
