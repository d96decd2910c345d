//! A small test device: queue 0 echoes each chain's readable bytes into its writable part;
//! queue 1 receives `events` pushed by the "backend" (one byte each) when polled.
#![allow(dead_code)]

use mimic_memory::{FlatMemory, GuestMemory};
use mimic_virtio::mock::{Driver, TestIrq};
use mimic_virtio::{Queue, QueueError, VirtioDevice, VirtioMmio};

pub const ECHO_ID: u32 = 42;
pub const ECHO_FEATURE: u64 = 1 << 3;
pub const ECHO_LIMIT: usize = 64 * 1024;
pub const QMAX: u16 = 16;

#[derive(Debug, Default)]
pub struct Echo {
    pub events: Vec<u8>,
    pub activated: Option<u64>,
    pub resets: usize,
    pub config: [u8; 8],
}

impl VirtioDevice for Echo {
    fn device_id(&self) -> u32 {
        ECHO_ID
    }
    fn features(&self) -> u64 {
        ECHO_FEATURE
    }
    fn num_queues(&self) -> usize {
        2
    }
    fn queue_max_size(&self, _index: usize) -> u16 {
        QMAX
    }
    fn read_config(&self, offset: u64, data: &mut [u8]) {
        mimic_virtio::device::read_config_bytes(&self.config, offset, data)
    }
    fn write_config(&mut self, offset: u64, data: &[u8]) {
        for (i, b) in data.iter().enumerate() {
            if let Some(c) = self.config.get_mut(offset as usize + i) {
                *c = *b;
            }
        }
    }
    fn activate(&mut self, negotiated: u64) {
        self.activated = Some(negotiated);
    }
    fn reset(&mut self) {
        self.resets += 1;
        self.activated = None;
    }
    fn process_queue(&mut self, index: usize, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        if index != 0 {
            return;
        }
        while let Some(chain) = queue.pop(mem) {
            let data = match chain.read_to_vec(&*mem, ECHO_LIMIT) {
                Ok(d) => d,
                Err(QueueError::TooLarge { .. }) => {
                    queue.add_used(mem, chain.head(), 0);
                    continue;
                }
                Err(e) => return queue.fail(e),
            };
            match chain.write_at(mem, 0, &data) {
                Ok(n) => queue.add_used(mem, chain.head(), n as u32),
                Err(e) => return queue.fail(e),
            }
        }
    }
    fn poll(&mut self, queues: &mut [Queue], mem: &mut dyn GuestMemory) {
        while !self.events.is_empty() {
            let Some(chain) = queues[1].pop(mem) else { return };
            let b = self.events.remove(0);
            match chain.write_at(mem, 0, &[b]) {
                Ok(n) => queues[1].add_used(mem, chain.head(), n as u32),
                Err(e) => return queues[1].fail(e),
            }
        }
    }
    fn has_backend_work(&self) -> bool {
        !self.events.is_empty()
    }
}

pub type Dev = VirtioMmio<Echo, TestIrq>;

pub fn new_dev() -> (Dev, TestIrq) {
    let irq = TestIrq::new();
    (VirtioMmio::new(Echo::default(), irq.clone()), irq)
}

/// A device brought up with `features`, both queues of size 8.
pub fn ready_dev(features: u64) -> (Dev, TestIrq, Driver) {
    let (mut dev, irq) = new_dev();
    let mut drv = Driver::new(1 << 20);
    drv.init(&mut dev, features, 2, 8);
    (dev, irq, drv)
}

pub fn process(dev: &mut Dev, mem: &mut FlatMemory) {
    dev.process(mem);
}
