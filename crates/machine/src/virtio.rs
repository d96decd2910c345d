//! Virtio devices on the board (and the e1000 NIC, which shares their network backends): which
//! front end, over which transport, with which backend.
//!
//! Backends (disk images, network stacks) outlive a machine reset, so the configuration holds
//! them shared; each machine built from it creates fresh front ends over the same backends.
//!
//! Disk I/O runs on one `mimic_block::IoThread` per virtio-blk front end ([`DiskQueue`]); the
//! worker rings the machine's [`Doorbell`] after each completion, so a machine whose harts all
//! wait for the disk sleeps exactly until the data is there.

use mimic_block::{BlockDevice, IoThread, Request, RequestId};
use mimic_devices::e1000::E1000;
use mimic_devices::pci::PciFunction;
use mimic_devices::virtio_blk::{BlkCompletion, BlkConfig, BlkOp, BlockQueue, VirtioBlk};
use mimic_devices::virtio_console::VirtioConsole;
use mimic_devices::virtio_net::{NetBackend, VirtioNet};
use mimic_devices::virtio_pci::VirtioPci;
use mimic_devices::virtio_rng::VirtioRng;
use mimic_memory::GuestMemory;
use mimic_virtio::{Queue, VirtioDevice};
use std::collections::{HashMap, VecDeque};
use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Wakes the machine thread from its idle wait when work finished on another thread.
#[derive(Debug, Default)]
pub struct Doorbell {
    rung: Mutex<bool>,
    cond: Condvar,
}

impl Doorbell {
    pub fn ring(&self) {
        *self.rung.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cond.notify_one();
    }

    /// Wait until rung (or `timeout`); a ring that came before the call counts.
    pub fn wait(&self, timeout: Duration) {
        let mut rung = self.rung.lock().unwrap_or_else(|e| e.into_inner());
        if !*rung {
            rung = self.cond.wait_timeout(rung, timeout).unwrap_or_else(|e| e.into_inner()).0;
        }
        *rung = false;
    }
}

/// A disk shared between the configuration and the machine's virtio-blk.
#[derive(Clone)]
pub struct SharedDisk(pub Arc<Mutex<dyn BlockDevice>>);

impl BlockDevice for SharedDisk {
    fn size(&self) -> u64 {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).size()
    }
    fn read_only(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).read_only()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).read_at(offset, buf)
    }
    fn read_vectored(&mut self, offset: u64, bufs: &mut [&mut [u8]]) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).read_vectored(offset, bufs)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write_at(offset, data)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
    fn write_cache(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write_cache()
    }
    fn discard(&mut self, offset: u64, len: u64) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).discard(offset, len)
    }
    fn write_zeroes(&mut self, offset: u64, len: u64) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write_zeroes(offset, len)
    }
}

/// virtio-blk's [`BlockQueue`] on a block I/O thread.
pub struct DiskQueue {
    io: IoThread,
    /// The device's tag for each request id of the I/O thread.
    tags: HashMap<RequestId, u64>,
}

impl DiskQueue {
    /// Start a worker for `disk` that rings `bell` after every completion.
    pub fn new(disk: SharedDisk, bell: Arc<Doorbell>) -> io::Result<Self> {
        let io = IoThread::with_notify(disk, move || bell.ring())?;
        Ok(DiskQueue { io, tags: HashMap::new() })
    }

    fn completion(&mut self, c: mimic_block::Completion) -> BlkCompletion {
        let tag = self.tags.remove(&c.id).unwrap_or(u64::MAX);
        BlkCompletion { tag, result: c.result, buf: c.buf }
    }
}

impl BlockQueue for DiskQueue {
    fn size(&self) -> u64 {
        self.io.size()
    }
    fn read_only(&self) -> bool {
        self.io.read_only()
    }
    fn submit(&mut self, tag: u64, op: BlkOp) {
        let req = match op {
            BlkOp::Read { offset, buf } => Request::Read { offset, buf },
            BlkOp::ReadInto { offset, into } => Request::ReadInto { offset, into },
            BlkOp::Write { offset, data } => Request::Write { offset, data },
            BlkOp::Flush => Request::Flush,
            BlkOp::Discard { offset, len } => Request::Discard { offset, len },
            BlkOp::WriteZeroes { offset, len } => Request::WriteZeroes { offset, len },
        };
        let id = self.io.submit(req);
        self.tags.insert(id, tag);
    }
    fn poll(&mut self) -> Option<BlkCompletion> {
        let c = self.io.try_completion()?;
        Some(self.completion(c))
    }
    fn wait(&mut self) -> Option<BlkCompletion> {
        let c = self.io.wait_completion()?;
        Some(self.completion(c))
    }
}

impl std::fmt::Debug for DiskQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskQueue").field("io", &self.io).finish()
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

/// Where a virtio console's bytes go and come from (a `-chardev`), shared across resets.
#[derive(Clone)]
pub struct ConsolePort {
    /// Guest output.
    pub output: Arc<Mutex<dyn Write + Send>>,
    /// Host input waiting for the guest (filled by the chardev's reader thread).
    pub input: Arc<Mutex<VecDeque<u8>>>,
}

impl ConsolePort {
    /// A port whose output is dropped and that never has input (a virtio-serial bus with no
    /// virtconsole on it).
    pub fn null() -> Self {
        ConsolePort { output: Arc::new(Mutex::new(io::sink())), input: Arc::default() }
    }
}

/// The output half of a [`ConsolePort`] as the device's writer.
struct PortWriter(Arc<Mutex<dyn Write + Send>>);

impl Write for PortWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

/// virtio-console fed from a [`ConsolePort`]'s input queue.
struct PortConsole {
    console: VirtioConsole<PortWriter>,
    input: Arc<Mutex<VecDeque<u8>>>,
}

impl PortConsole {
    /// Move host input into the device while it holds none (it keeps what the guest has not
    /// taken yet, and stops asking to be processed while the guest posts no buffer).
    fn refill(&mut self) {
        if self.console.pending_input() > 0 {
            return;
        }
        let mut q = self.input.lock().unwrap_or_else(|e| e.into_inner());
        let (a, _) = q.as_slices();
        let n = self.console.push_input(a);
        q.drain(..n);
    }
}

impl VirtioDevice for PortConsole {
    fn device_id(&self) -> u32 {
        self.console.device_id()
    }
    fn features(&self) -> u64 {
        self.console.features()
    }
    fn num_queues(&self) -> usize {
        self.console.num_queues()
    }
    fn queue_max_size(&self, index: usize) -> u16 {
        self.console.queue_max_size(index)
    }
    fn read_config(&self, offset: u64, data: &mut [u8]) {
        self.console.read_config(offset, data)
    }
    fn reset(&mut self) {
        self.console.reset()
    }
    fn process_queue(&mut self, index: usize, queue: &mut Queue, mem: &mut dyn GuestMemory) {
        self.refill();
        self.console.process_queue(index, queue, mem)
    }
    fn poll(&mut self, queues: &mut [Queue], mem: &mut dyn GuestMemory) {
        self.refill();
        self.console.poll(queues, mem)
    }
    fn has_backend_work(&self) -> bool {
        self.console.has_backend_work()
            || (self.console.pending_input() == 0 && !self.input.lock().unwrap_or_else(|e| e.into_inner()).is_empty())
    }
}

#[derive(Clone)]
pub enum Frontend {
    Blk {
        disk: SharedDisk,
        serial: String,
    },
    Net {
        backend: SharedNet,
        mac: [u8; 6],
    },
    Rng,
    /// virtio-serial with one console port (`-device virtio-serial-* -device virtconsole`).
    Console(ConsolePort),
    /// An Intel 82540EM network card (`-device e1000`): not virtio, but a PCI front end over the
    /// same network backends, so it is configured alongside them.
    E1000 {
        backend: SharedNet,
        mac: [u8; 6],
    },
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
            Frontend::Console(_) => "virtio-serial",
            Frontend::E1000 { .. } => return write!(f, "e1000"),
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
    /// A fresh PCI function for a new machine: the virtio front end behind the virtio-pci
    /// transport, or a device that is PCI by nature.
    pub fn build_pci(&self, bell: &Arc<Doorbell>) -> io::Result<Box<dyn PciFunction>> {
        Ok(match &self.frontend {
            Frontend::E1000 { backend, mac } => Box::new(E1000::new(backend.clone(), *mac)),
            _ => Box::new(VirtioPci::new(self.build(bell)?)),
        })
    }

    /// A fresh virtio front end for a new machine; disk workers ring `bell`.
    pub fn build(&self, bell: &Arc<Doorbell>) -> io::Result<Box<dyn VirtioDevice>> {
        Ok(match &self.frontend {
            Frontend::Blk { disk, serial } => {
                let q = DiskQueue::new(disk.clone(), bell.clone())?;
                Box::new(VirtioBlk::new(q, BlkConfig { serial: serial.clone(), ..Default::default() }))
            }
            Frontend::Net { backend, mac } => Box::new(VirtioNet::new(backend.clone(), *mac)),
            Frontend::Rng => Box::new(VirtioRng::new(host_random)),
            Frontend::Console(port) => Box::new(PortConsole {
                console: VirtioConsole::new(PortWriter(port.output.clone())),
                input: port.input.clone(),
            }),
            Frontend::E1000 { .. } => {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, "e1000 is a PCI device, not a virtio one"))
            }
        })
    }
}
