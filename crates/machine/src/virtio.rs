//! Virtio devices on the board: which front end, over which transport, with which backend.
//!
//! Backends (disk images, network stacks) outlive a machine reset, so the configuration holds
//! them shared; each machine built from it creates fresh front ends over the same backends.

use mimic_block::BlockDevice;
use mimic_devices::virtio_blk::{BlkConfig, BlockBackend, VirtioBlk};
use mimic_devices::virtio_net::{NetBackend, VirtioNet};
use mimic_devices::virtio_rng::VirtioRng;
use mimic_virtio::VirtioDevice;
use std::io;
use std::sync::{Arc, Mutex};

/// A disk shared between the configuration and the machine's virtio-blk.
#[derive(Clone)]
pub struct SharedDisk(pub Arc<Mutex<dyn BlockDevice>>);

impl BlockBackend for SharedDisk {
    fn size(&self) -> u64 {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).size()
    }
    fn read_only(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).read_only()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write_at(offset, data)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
    fn discard(&mut self, offset: u64, len: u64) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).discard(offset, len)
    }
}

/// A network backend shared between the configuration and the machine's virtio-net.
#[derive(Clone)]
pub struct SharedNet(pub Arc<Mutex<Box<dyn mimic_net::NetBackend>>>);

impl NetBackend for SharedNet {
    fn send(&mut self, frame: &[u8]) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).send(frame)
    }
    fn recv(&mut self) -> Option<Vec<u8>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).recv()
    }
}

#[derive(Clone)]
pub enum Frontend {
    Blk { disk: SharedDisk, serial: String },
    Net { backend: SharedNet, mac: [u8; 6] },
    Rng,
}

/// One `-device`: a front end and whether it sits on PCI (`*-pci`) or a virtio-mmio slot
/// (`*-device`).
#[derive(Clone)]
pub struct VirtioSpec {
    pub frontend: Frontend,
    pub pci: bool,
}

impl std::fmt::Debug for VirtioSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.frontend {
            Frontend::Blk { .. } => "virtio-blk",
            Frontend::Net { .. } => "virtio-net",
            Frontend::Rng => "virtio-rng",
        };
        write!(f, "{kind}-{}", if self.pci { "pci" } else { "device" })
    }
}

/// Host randomness for virtio-rng, from the kernel's generator.
fn host_random(buf: &mut [u8]) {
    use std::io::Read;
    let ok = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf)).is_ok();
    if !ok {
        // Never hand out predictable bytes silently.
        tracing::error!("virtio-rng: /dev/urandom unreadable; returning zeros");
        buf.fill(0);
    }
}

impl VirtioSpec {
    /// A fresh front end for a new machine.
    pub fn build(&self) -> Box<dyn VirtioDevice> {
        match &self.frontend {
            Frontend::Blk { disk, serial } => {
                Box::new(VirtioBlk::new(disk.clone(), BlkConfig { serial: serial.clone(), ..Default::default() }))
            }
            Frontend::Net { backend, mac } => Box::new(VirtioNet::new(backend.clone(), *mac)),
            Frontend::Rng => Box::new(VirtioRng::new(host_random)),
        }
    }
}
