//! An AHCI 1.3 SATA host bus adapter (Serial ATA AHCI 1.3.1) as a PCI function, with the PCI
//! identity of Intel's ICH9 (8086:2922, class 01/06/01) as QEMU's `ich9-ahci` has it, and one
//! [`AtaDrive`] per attached port (QEMU's `ide-hd`).
//!
//! ```text
//!   BAR 5 (ABAR, 4 KiB, 32-bit memory)
//!   0x000  generic host control: CAP GHC IS PI VS CCC_CTL CCC_PORTS EM_LOC EM_CTL CAP2 BOHC
//!   0x100  port 0: CLB CLBU FB FBU IS IE CMD - TFD SIG SSTS SCTL SERR SACT CI SNTF FBS
//!   0x180  port 1 ... (0x80 per port)
//!
//!   guest memory, per port:
//!   CLB ─▶ command list: 32 headers × 32 B   {flags, PRDTL | PRDBC | CTBA}
//!                                                              │
//!          command table ◀───────────────────────────────────┘
//!            0x00 command FIS (H2D register FIS)   0x80 PRDT: {DBA, DBC} × PRDTL
//!   FB  ─▶ received FIS area: 0x00 DMA setup, 0x20 PIO setup, 0x40 D2H register, 0x58 SDB
//! ```
//!
//! # Command processing
//! A write to PxCI only records the slots (an MMIO access cannot reach guest memory); the board
//! then calls [`PciFunction::process`], which reads each new slot's header, command FIS and
//! PRDT, and asks the drive what the command means. Commands without data (and IDENTIFY, whose
//! 512 bytes are built here) finish at once. Reads, writes and flushes become [`BlkOp`]s on the
//! port's [`BlockQueue`] (the block layer's I/O thread on the board), cut into operations of at
//! most [`MAX_OP_BYTES`] with at most [`MAX_IN_FLIGHT_BYTES`] out at once across the HBA; their
//! completions come back in later `process` calls, where read data is copied into the PRDT's
//! buffers and the command is answered:
//!
//! - a non-queued command with a D2H Register FIS (I bit set → PxIS.DHRS) and its PxCI bit
//!   cleared;
//! - an NCQ command (READ/WRITE FPDMA QUEUED) is accepted at once with a D2H Register FIS that
//!   clears BSY (PxCI bit cleared, no interrupt), and completes with a Set Device Bits FIS
//!   whose SActive field names its tag (PxSACT bit cleared, PxIS.SDBS).
//!
//! The backend executes operations in submission order and commands are submitted in the order
//! they were started, so a FLUSH CACHE follows every write before it.
//!
//! # Errors
//! A command the drive refuses (unknown opcode, transfer outside the disk, a PRDT shorter than
//! the transfer, an NCQ tag that is not its slot) or whose disk I/O failed ends with ERR in the
//! status and PxIS.TFES (a queued one through an SDB FIS, recorded in the drive's log 10h for
//! the host's error handling to read); a command list, table, PRDT or FIS area outside RAM sets PxIS.HBFS. In
//! both cases the port stops issuing commands (PxCI keeps the failed slot, PxCMD.CCS names it)
//! until software clears PxCMD.ST, as the specification has it (§6.2.2). Everything the guest
//! controls is checked and logged with the rate-limited `guest_error!`; nothing panics and all
//! work is bounded by the 32 slots and 65535 PRD entries per command.
//!
//! Interrupts: INTx, high while GHC.IE is set and IS is not zero; IS.IPS\[x\] is set while port
//! x has a cause enabled in PxIE (writes of one clear it only once the port's cause is gone).

use crate::ata::{
    Action, AtaDrive, DriveInfo, TaskFile, ERROR_ABRT, ERROR_UNC, SECTOR, STATUS_BSY, STATUS_DRDY, STATUS_DSC,
    STATUS_ERR,
};
use crate::pci::{BarKind, ConfigSpace, PciFunction};
use crate::virtio_blk::{BlkCompletion, BlkOp, BlockQueue, MAX_IN_FLIGHT_BYTES, MAX_OP_BYTES};
use mimic_core::{guest_error, DmaBuf, Size};
use mimic_memory::GuestMemory;
use std::collections::{HashMap, VecDeque};

pub const VENDOR_INTEL: u16 = 0x8086;
pub const DEVICE_ICH9_AHCI: u16 = 0x2922;
/// Mass storage, SATA, AHCI 1.0 programming interface.
pub const CLASS_AHCI: u32 = 0x01_06_01;
pub const ABAR: usize = 5;
const ABAR_SIZE: u64 = 0x1000;
/// Ports of an ICH9 HBA.
pub const MAX_PORTS: usize = 6;
const SLOTS: usize = 32;

// Generic host control registers.
const CAP: u64 = 0x00;
const GHC: u64 = 0x04;
const IS: u64 = 0x08;
const PI: u64 = 0x0c;
const VS: u64 = 0x10;
const CAP2: u64 = 0x24;
const PORTS: u64 = 0x100;
const PORT_SIZE: u64 = 0x80;

const CAP_S64A: u32 = 1 << 31;
const CAP_SNCQ: u32 = 1 << 30;
const CAP_ISS_GEN3: u32 = 3 << 20;
const CAP_SAM: u32 = 1 << 18;
const CAP_NCS_SHIFT: u32 = 8;
const GHC_AE: u32 = 1 << 31;
const GHC_IE: u32 = 1 << 1;
const GHC_HR: u32 = 1 << 0;
const VERSION_1_3: u32 = 0x0001_0300;

// Port registers.
const P_CLB: u64 = 0x00;
const P_CLBU: u64 = 0x04;
const P_FB: u64 = 0x08;
const P_FBU: u64 = 0x0c;
const P_IS: u64 = 0x10;
const P_IE: u64 = 0x14;
const P_CMD: u64 = 0x18;
const P_TFD: u64 = 0x20;
const P_SIG: u64 = 0x24;
const P_SSTS: u64 = 0x28;
const P_SCTL: u64 = 0x2c;
const P_SERR: u64 = 0x30;
const P_SACT: u64 = 0x34;
const P_CI: u64 = 0x38;

pub const PXIS_DHRS: u32 = 1 << 0;
pub const PXIS_PSS: u32 = 1 << 1;
pub const PXIS_SDBS: u32 = 1 << 3;
pub const PXIS_DPS: u32 = 1 << 5;
pub const PXIS_HBFS: u32 = 1 << 29;
pub const PXIS_TFES: u32 = 1 << 30;
/// PxIS and PxIE bits that exist (the rest are reserved).
const PXIS_MASK: u32 = 0xfdc0_00ff;

pub const CMD_ST: u32 = 1 << 0;
const CMD_SUD: u32 = 1 << 1;
const CMD_POD: u32 = 1 << 2;
const CMD_CLO: u32 = 1 << 3;
pub const CMD_FRE: u32 = 1 << 4;
const CMD_CCS_SHIFT: u32 = 8;
const CMD_FR: u32 = 1 << 14;
const CMD_CR: u32 = 1 << 15;
/// ATAPI, DLAE, ALPE, ASP: stored and read back, with no effect on a disk.
const CMD_STORED: u32 = 0x0f00_0000;

/// SStatus: device present with communication established, Gen3 speed, interface active.
const SSTS_PRESENT: u32 = 0x133;
const SCTL_DET_MASK: u32 = 0xf;
const SCTL_DET_COMRESET: u32 = 1;
/// Signature of an ATA disk (count 1, LBA 1 in the signature FIS).
const SIG_ATA: u32 = 0x0000_0101;
const SIG_NONE: u32 = 0xffff_ffff;
/// Task file after a reset: DRDY|DSC, error 01h (diagnostics passed).
const TFD_AFTER_RESET: u32 = 0x0150;
/// Task file of a port with nothing attached.
const TFD_NO_DEVICE: u32 = 0x7f;

// FIS types and where they land in the received-FIS area.
const FIS_H2D: u8 = 0x27;
const FIS_D2H: u8 = 0x34;
const FIS_DMA_SETUP: u8 = 0x41;
const FIS_PIO_SETUP: u8 = 0x5f;
const FIS_SDB: u8 = 0xa1;
const RX_DMA_SETUP: u64 = 0x00;
const RX_PIO_SETUP: u64 = 0x20;
const RX_D2H: u64 = 0x40;
const RX_SDB: u64 = 0x58;
/// The "interrupt" bit of FIS byte 1.
const FIS_I: u8 = 0x40;
/// Device control register: software reset.
const CONTROL_SRST: u8 = 0x04;

const HEADER_BYTES: u64 = 32;
const CFIS_BYTES: usize = 64;
const PRDT_OFFSET: u64 = 0x80;
const PRD_BYTES: u64 = 16;
/// Largest byte count of one PRD entry (DBC is 22 bits of count − 1).
const PRD_MAX: u64 = 4 << 20;
/// Completed data buffers kept for reuse.
const POOL: usize = 8;

/// Registers of one port, as software sees them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortRegs {
    pub clb: u64,
    pub fb: u64,
    pub is: u32,
    pub ie: u32,
    pub cmd: u32,
    pub tfd: u32,
    pub sig: u32,
    pub ssts: u32,
    pub sctl: u32,
    pub serr: u32,
    pub sact: u32,
    pub ci: u32,
}

/// One PRD entry: a guest buffer.
#[derive(Clone, Copy, Debug)]
struct Prd {
    addr: u64,
    len: u64,
    interrupt: bool,
}

/// How a command failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// The device reports ERR with this error register.
    Device(u8),
    /// A guest buffer or structure was not in RAM.
    HostBus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Work {
    Read,
    Write,
    Flush,
}

/// A started command whose backend operations are not all complete.
#[derive(Debug)]
struct Command {
    /// Unique per HBA, so completions for a command that was dropped (ST cleared, reset) are
    /// recognised.
    id: u64,
    work: Work,
    ncq: bool,
    /// Disk byte offset of the transfer.
    base: u64,
    /// Data bytes (reads, writes) or operations (flush) in all.
    total: u64,
    submitted: u64,
    ops: u32,
    /// With the write cache off a write ends with a flush before it completes.
    flush_after: bool,
    flush_submitted: bool,
    prdt: Vec<Prd>,
    failure: Option<Failure>,
}

impl Command {
    fn fully_submitted(&self) -> bool {
        self.submitted == self.total && (!self.flush_after || self.flush_submitted)
    }
    fn done(&self) -> bool {
        self.ops == 0 && self.fully_submitted()
    }
}

/// What an operation at the backend belongs to.
#[derive(Clone, Copy, Debug)]
struct OpRef {
    command: u64,
    slot: usize,
    /// Byte offset of a read's data within the command's transfer.
    at: u64,
    bytes: u64,
}

/// A disk attached to a port: the drive's state and its I/O queue.
pub struct Drive<Q> {
    ata: AtaDrive,
    io: Q,
    ops: HashMap<u64, OpRef>,
}

impl<Q: BlockQueue> Drive<Q> {
    /// A drive over `io`; the capacity and read-only flag come from the queue (the size is
    /// rounded down to whole sectors).
    pub fn new(io: Q, serial: String, model: String) -> Self {
        let info = DriveInfo {
            sectors: io.size() / SECTOR,
            serial,
            model,
            firmware: env!("CARGO_PKG_VERSION").into(),
            read_only: io.read_only(),
        };
        Drive { ata: AtaDrive::new(info), io, ops: HashMap::new() }
    }

    pub fn ata(&self) -> &AtaDrive {
        &self.ata
    }

    pub fn backend(&self) -> &Q {
        &self.io
    }
}

struct Port<Q> {
    regs: PortRegs,
    drive: Option<Drive<Q>>,
    /// Started commands by slot (NCQ ones stay here after their PxCI bit clears).
    commands: [Option<Command>; SLOTS],
    /// Slots in the order they were started, while they still have operations to submit.
    order: VecDeque<usize>,
    /// A fatal or task-file error stopped the port until ST is cleared.
    halted: bool,
    /// SRST was set by a control FIS; clearing it resets the device.
    srst: bool,
    /// The device sent its signature after a reset; the D2H FIS still has to reach memory.
    post_signature: bool,
    /// NCQ tags completed since the last SDB FIS.
    sdb_done: u32,
}

impl<Q: BlockQueue> Port<Q> {
    fn new(drive: Option<Drive<Q>>) -> Self {
        let mut p = Port {
            regs: PortRegs::default(),
            drive,
            commands: Default::default(),
            order: VecDeque::new(),
            halted: false,
            srst: false,
            post_signature: false,
            sdb_done: 0,
        };
        p.reset();
        p
    }

    /// Port registers to their reset values (except the list and FIS addresses, which an HBA
    /// reset keeps, §10.4.3), commands dropped, and (with a disk) the device's signature as
    /// after a COMRESET.
    fn reset(&mut self) {
        let (clb, fb) = (self.regs.clb, self.regs.fb);
        self.regs = PortRegs { clb, fb, cmd: CMD_SUD | CMD_POD, ..PortRegs::default() };
        self.drop_commands();
        self.srst = false;
        self.device_reset();
    }

    fn drop_commands(&mut self) {
        self.commands = Default::default();
        self.order.clear();
        self.halted = false;
        self.sdb_done = 0;
    }

    /// The device resets and sends its signature FIS.
    fn device_reset(&mut self) {
        match &mut self.drive {
            Some(d) => {
                d.ata.reset();
                self.regs.ssts = SSTS_PRESENT;
                self.regs.sig = SIG_ATA;
                self.regs.tfd = TFD_AFTER_RESET;
                self.post_signature = true;
            }
            None => {
                self.regs.ssts = 0;
                self.regs.sig = SIG_NONE;
                self.regs.tfd = TFD_NO_DEVICE;
            }
        }
    }

    fn running(&self) -> bool {
        self.regs.cmd & CMD_ST != 0 && !self.halted
    }

    /// Slots issued in PxCI and not started yet.
    fn new_slots(&self) -> u32 {
        let started = self.commands.iter().enumerate().fold(0u32, |m, (i, c)| m | (u32::from(c.is_some()) << i));
        self.regs.ci & !started
    }

    fn needs_processing(&self) -> bool {
        self.post_signature
            || (self.running() && self.new_slots() != 0)
            || self.drive.as_ref().is_some_and(|d| !d.ops.is_empty())
            || !self.order.is_empty()
    }

    fn write_cmd(&mut self, v: u32) {
        let old = self.regs.cmd;
        // SUD and POD read as one: no staggered spin-up, no cold presence detection.
        let mut cmd = (v & (CMD_ST | CMD_FRE | CMD_STORED)) | CMD_SUD | CMD_POD;
        // FR and CR follow FRE and ST at once: the HBA has nothing to drain.
        if cmd & CMD_FRE != 0 {
            cmd |= CMD_FR;
        }
        if cmd & CMD_ST != 0 {
            cmd |= CMD_CR | (old & (0x1f << CMD_CCS_SHIFT));
        } else if old & CMD_ST != 0 {
            // Clearing ST drops every outstanding command (§3.3.14: PxCI and PxSACT clear).
            self.regs.ci = 0;
            self.regs.sact = 0;
            self.drop_commands();
        }
        if v & CMD_CLO != 0 {
            // Command list override: BSY and DRQ clear so a reset FIS can be sent. CLO itself
            // reads back as 0 at once, as does ICC (power state changes complete at once).
            self.regs.tfd &= !0x88;
        }
        self.regs.cmd = cmd;
    }

    fn write_sctl(&mut self, v: u32) {
        let old_det = self.regs.sctl & SCTL_DET_MASK;
        self.regs.sctl = v & 0x000f_ffff;
        match v & SCTL_DET_MASK {
            SCTL_DET_COMRESET => {
                // While COMRESET is asserted there is no communication with the device.
                self.regs.ssts = 0;
                self.regs.tfd = u32::from(STATUS_BSY) | (self.regs.tfd & 0xff00);
            }
            0 if old_det == SCTL_DET_COMRESET => {
                // Software should have stopped the port first; if not, nothing stays issued.
                self.regs.ci = 0;
                self.regs.sact = 0;
                self.drop_commands();
                self.srst = false;
                self.device_reset();
            }
            _ => {}
        }
    }

    fn read(&self, reg: u64) -> u32 {
        let r = &self.regs;
        match reg {
            P_CLB => r.clb as u32,
            P_CLBU => (r.clb >> 32) as u32,
            P_FB => r.fb as u32,
            P_FBU => (r.fb >> 32) as u32,
            P_IS => r.is,
            P_IE => r.ie,
            P_CMD => r.cmd,
            P_TFD => r.tfd,
            P_SIG => r.sig,
            P_SSTS => r.ssts,
            P_SCTL => r.sctl,
            P_SERR => r.serr,
            P_SACT => r.sact,
            P_CI => r.ci,
            _ => 0,
        }
    }

    fn write(&mut self, reg: u64, v: u32) {
        let r = &mut self.regs;
        match reg {
            // The command list is 1 KiB aligned, the received-FIS area 256 bytes.
            P_CLB => r.clb = (r.clb & !0xffff_ffff) | u64::from(v & !0x3ff),
            P_CLBU => r.clb = (r.clb & 0xffff_ffff) | (u64::from(v) << 32),
            P_FB => r.fb = (r.fb & !0xffff_ffff) | u64::from(v & !0xff),
            P_FBU => r.fb = (r.fb & 0xffff_ffff) | (u64::from(v) << 32),
            P_IS => r.is &= !v,
            P_IE => r.ie = v & PXIS_MASK,
            P_CMD => self.write_cmd(v),
            P_SCTL => self.write_sctl(v),
            P_SERR => r.serr &= !v,
            // Software may only set these bits, and only while the port runs (§3.3.13, 3.3.14).
            P_SACT | P_CI if r.cmd & CMD_ST == 0 => {
                guest_error!(reg, v, "ahci: PxSACT/PxCI written while PxCMD.ST is clear, ignored");
            }
            P_SACT => r.sact |= v,
            P_CI => r.ci |= v,
            P_TFD | P_SIG | P_SSTS => guest_error!(reg, "ahci: write to a read-only port register"),
            _ => {}
        }
    }
}

/// An AHCI HBA over one [`BlockQueue`] per attached disk.
pub struct Ahci<Q> {
    config: ConfigSpace,
    ghc: u32,
    is: u32,
    ports: Vec<Port<Q>>,
    next_tag: u64,
    next_command: u64,
    in_flight_bytes: u64,
    pool: Vec<DmaBuf>,
}

impl<Q> std::fmt::Debug for Ahci<Q> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ahci").field("ports", &self.ports.len()).field("ghc", &self.ghc).finish_non_exhaustive()
    }
}

impl<Q: BlockQueue> Ahci<Q> {
    /// An HBA with one port per entry of `drives` (at most [`MAX_PORTS`]; the rest are dropped
    /// with a log line), `None` for an empty port.
    pub fn new(drives: Vec<Option<Drive<Q>>>) -> Self {
        let mut config = ConfigSpace::new(VENDOR_INTEL, DEVICE_ICH9_AHCI, CLASS_AHCI, 2, 0x1af4, 0x1100);
        config.add_bar(ABAR, BarKind::Mem32, ABAR_SIZE);
        config.set_interrupt_pin(1);
        if drives.len() > MAX_PORTS {
            tracing::warn!("ahci: only {MAX_PORTS} ports; extra drives ignored");
        }
        let mut ports: Vec<Port<Q>> = drives.into_iter().take(MAX_PORTS).map(Port::new).collect();
        if ports.is_empty() {
            ports.push(Port::new(None));
        }
        Ahci { config, ghc: GHC_AE, is: 0, ports, next_tag: 0, next_command: 0, in_flight_bytes: 0, pool: Vec::new() }
    }

    pub fn port_regs(&self, port: usize) -> Option<PortRegs> {
        self.ports.get(port).map(|p| p.regs)
    }

    pub fn drive(&self, port: usize) -> Option<&Drive<Q>> {
        self.ports.get(port)?.drive.as_ref()
    }

    fn cap(&self) -> u32 {
        let np = self.ports.len() as u32 - 1;
        CAP_S64A | CAP_SNCQ | CAP_ISS_GEN3 | CAP_SAM | ((SLOTS as u32 - 1) << CAP_NCS_SHIFT) | np
    }

    fn pi(&self) -> u32 {
        ((1u64 << self.ports.len()) - 1) as u32
    }

    /// GHC.HR: the whole HBA to its reset state (every port included). Operations already at a
    /// backend still run; their completions are dropped.
    fn reset(&mut self) {
        self.ghc = GHC_AE;
        self.is = 0;
        for p in &mut self.ports {
            p.reset();
        }
    }

    /// IS.IPS follows each port's enabled causes.
    fn refresh_is(&mut self) {
        for (i, p) in self.ports.iter().enumerate() {
            if p.regs.is & p.regs.ie != 0 {
                self.is |= 1 << i;
            }
        }
    }

    fn read_reg(&mut self, off: u64) -> u32 {
        match off {
            CAP => self.cap(),
            GHC => self.ghc,
            IS => self.is,
            PI => self.pi(),
            VS => VERSION_1_3,
            CAP2 => 0,
            o if o >= PORTS => {
                let (port, reg) = (((o - PORTS) / PORT_SIZE) as usize, (o - PORTS) % PORT_SIZE);
                match self.ports.get(port) {
                    Some(p) => p.read(reg),
                    None => {
                        guest_error!(port, "ahci: read of an unimplemented port");
                        0
                    }
                }
            }
            _ => 0,
        }
    }

    fn write_reg(&mut self, off: u64, v: u32) {
        match off {
            GHC => {
                if v & GHC_HR != 0 {
                    self.reset();
                } else {
                    // AE is read-only one (CAP.SAM): this HBA has no legacy mode.
                    self.ghc = GHC_AE | (v & GHC_IE);
                }
            }
            IS => {
                self.is &= !v;
            }
            // HwInit registers, which platform firmware may write once after reset (Linux writes
            // back the values it read); this HBA's values are fixed, so the write is dropped.
            CAP | PI | CAP2 => {}
            VS => guest_error!(off, "ahci: write to the read-only VS register"),
            o if o >= PORTS => {
                let (port, reg) = (((o - PORTS) / PORT_SIZE) as usize, (o - PORTS) % PORT_SIZE);
                match self.ports.get_mut(port) {
                    Some(p) => p.write(reg, v),
                    None => guest_error!(port, "ahci: write to an unimplemented port"),
                }
            }
            _ => {}
        }
        self.refresh_is();
    }

    fn take_buf(&mut self, len: usize) -> DmaBuf {
        let mut b = self.pool.pop().unwrap_or_default();
        b.resize(len);
        b
    }

    fn recycle(&mut self, buf: DmaBuf) {
        if self.pool.len() < POOL {
            self.pool.push(buf);
        }
    }

    fn process_port(&mut self, pi: usize, mem: &mut dyn GuestMemory) {
        if std::mem::take(&mut self.ports[pi].post_signature) {
            let tfd = self.ports[pi].regs.tfd;
            let mut fis = d2h_fis(tfd as u8, (tfd >> 8) as u8, false);
            // Signature: count 1, LBA low 1, mid 0, high 0.
            fis[12] = 1;
            fis[4] = 1;
            let _ = self.post_fis(pi, mem, RX_D2H, &fis);
        }
        self.collect(pi, mem);
        self.finish(pi, mem);
        self.start_new(pi, mem);
        self.submit(pi, mem);
        // Commands that failed while being submitted have nothing in flight to wait for.
        self.finish(pi, mem);
        self.post_sdb(pi, mem);
    }

    /// Write a FIS into the port's received-FIS area, if FIS receive is on. A failed write is a
    /// host bus fatal error.
    fn post_fis(&mut self, pi: usize, mem: &mut dyn GuestMemory, at: u64, fis: &[u8]) -> bool {
        let p = &mut self.ports[pi];
        if p.regs.cmd & CMD_FRE == 0 {
            return true;
        }
        if mem.write(p.regs.fb.wrapping_add(at), fis).is_err() {
            guest_error!(fb = p.regs.fb, "ahci: received-FIS area outside RAM");
            host_bus_error(p);
            return false;
        }
        true
    }

    /// Start every slot issued since the last call, lowest first.
    fn start_new(&mut self, pi: usize, mem: &mut dyn GuestMemory) {
        for slot in 0..SLOTS {
            let p = &self.ports[pi];
            if !p.running() || p.new_slots() & (1 << slot) == 0 {
                continue;
            }
            self.ports[pi].regs.cmd =
                (self.ports[pi].regs.cmd & !(0x1f << CMD_CCS_SHIFT)) | ((slot as u32) << CMD_CCS_SHIFT);
            self.start(pi, slot, mem);
        }
    }

    fn start(&mut self, pi: usize, slot: usize, mem: &mut dyn GuestMemory) {
        let clb = self.ports[pi].regs.clb;
        let mut header = [0u8; HEADER_BYTES as usize];
        if mem.read(clb.wrapping_add(slot as u64 * HEADER_BYTES), &mut header).is_err() {
            guest_error!(clb, slot, "ahci: command list outside RAM");
            return host_bus_error(&mut self.ports[pi]);
        }
        let dw0 = u32::from_le_bytes(header[0..4].try_into().unwrap_or_default());
        let ctba = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default()) & !0x7f;
        let cfl = dw0 & 0x1f;
        let prdtl = (dw0 >> 16) as u64;
        let mut cfis = [0u8; CFIS_BYTES];
        if mem.read(ctba, &mut cfis).is_err() {
            guest_error!(ctba, slot, "ahci: command table outside RAM");
            return host_bus_error(&mut self.ports[pi]);
        }
        if !(5..=16).contains(&cfl) || cfis[0] != FIS_H2D {
            guest_error!(cfl, fis_type = cfis[0], "ahci: command FIS is not a register H2D FIS");
            return self.fail(pi, slot, None, Failure::Device(ERROR_ABRT), mem);
        }
        let prdt = match read_prdt(mem, ctba + PRDT_OFFSET, prdtl) {
            Ok(p) => p,
            Err(()) => {
                guest_error!(ctba, prdtl, "ahci: PRDT outside RAM");
                return host_bus_error(&mut self.ports[pi]);
            }
        };
        let fis: [u8; 20] = cfis[..20].try_into().unwrap_or([0; 20]);
        if fis[1] & 0x80 == 0 {
            return self.control(pi, slot, fis[15]);
        }
        let tf = TaskFile::from_h2d(&fis);
        let Some(drive) = self.ports[pi].drive.as_mut() else {
            guest_error!(port = pi, "ahci: command issued to a port with no device");
            return self.fail(pi, slot, None, Failure::Device(ERROR_ABRT), mem);
        };
        let write_cache = drive.ata.write_cache();
        // A queued command that fails is reported the queued way, whatever the reason.
        let queued = matches!(tf.command, crate::ata::ATA_READ_FPDMA_QUEUED | crate::ata::ATA_WRITE_FPDMA_QUEUED)
            .then_some((tf.lba, tf.features));
        match drive.ata.decode(&tf) {
            Action::Identify => {
                let data = drive.ata.identify();
                self.pio_in(pi, slot, &prdt, &data, mem);
            }
            Action::PioIn(data) => self.pio_in(pi, slot, &prdt, &data, mem),
            Action::Done { count } => {
                let mut fis = d2h_fis(STATUS_DRDY | STATUS_DSC, 0, true);
                fis[12] = count;
                self.complete_now(pi, slot, &fis, 0, mem);
            }
            Action::Abort { error } => self.fail(pi, slot, queued, Failure::Device(error), mem),
            Action::Flush => self.begin(pi, slot, Work::Flush, false, 0, 1, false, prdt),
            action @ (Action::Read { lba, count, tag } | Action::Write { lba, count, tag }) => {
                let write = matches!(action, Action::Write { .. });
                let ncq = tag.is_some();
                let bytes = count * SECTOR;
                if let Some(tag) = tag {
                    if usize::from(tag) != slot || self.ports[pi].regs.sact & (1 << slot) == 0 {
                        guest_error!(tag, slot, "ahci: NCQ tag is not its slot, or PxSACT not set for it");
                        return self.fail(pi, slot, queued, Failure::Device(ERROR_ABRT), mem);
                    }
                }
                if prdt.iter().map(|p| p.len).sum::<u64>() < bytes {
                    guest_error!(bytes, "ahci: PRDT shorter than the transfer");
                    return self.fail(pi, slot, queued, Failure::Device(ERROR_ABRT), mem);
                }
                if ncq {
                    // The device accepts the command at once: BSY clears, the slot is free.
                    let fis = d2h_fis(STATUS_DRDY | STATUS_DSC, 0, false);
                    if !self.post_fis(pi, mem, RX_D2H, &fis) {
                        return;
                    }
                    let p = &mut self.ports[pi];
                    p.regs.tfd = u32::from(STATUS_DRDY | STATUS_DSC);
                    p.regs.ci &= !(1 << slot);
                    let mut setup = [0u8; 28];
                    setup[0] = FIS_DMA_SETUP;
                    // Direction bit: device to host for reads; auto-activate for writes.
                    setup[1] = if write { 0x80 } else { 0x20 };
                    setup[4] = slot as u8;
                    setup[20..24].copy_from_slice(&(bytes as u32).to_le_bytes());
                    if !self.post_fis(pi, mem, RX_DMA_SETUP, &setup) {
                        return;
                    }
                }
                let work = if write { Work::Write } else { Work::Read };
                self.begin(pi, slot, work, ncq, lba * SECTOR, bytes, write && !write_cache, prdt);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn begin(
        &mut self,
        pi: usize,
        slot: usize,
        work: Work,
        ncq: bool,
        base: u64,
        total: u64,
        flush_after: bool,
        prdt: Vec<Prd>,
    ) {
        let id = self.next_command;
        self.next_command += 1;
        let p = &mut self.ports[pi];
        p.commands[slot] = Some(Command {
            id,
            work,
            ncq,
            base,
            total,
            submitted: 0,
            ops: 0,
            flush_after,
            flush_submitted: false,
            prdt,
            failure: None,
        });
        p.order.push_back(slot);
    }

    /// A control FIS (C bit clear): only the device control register matters. SRST set then
    /// cleared resets the device, which answers with its signature (§10.4.1 of AHCI 1.3.1).
    fn control(&mut self, pi: usize, slot: usize, control: u8) {
        let p = &mut self.ports[pi];
        if control & CONTROL_SRST != 0 {
            p.srst = true;
            p.regs.tfd |= u32::from(STATUS_BSY);
        } else if std::mem::take(&mut p.srst) {
            p.device_reset();
        }
        p.regs.ci &= !(1 << slot);
    }

    /// IDENTIFY DEVICE, READ LOG EXT: one data block goes to the PRDT as PIO data-in,
    /// announced by a PIO Setup FIS whose ending status is the command's result.
    fn pio_in(&mut self, pi: usize, slot: usize, prdt: &[Prd], data: &[u8; 512], mem: &mut dyn GuestMemory) {
        if prdt.iter().map(|p| p.len).sum::<u64>() < data.len() as u64 {
            guest_error!("ahci: PIO data-in with a PRDT shorter than 512 bytes");
            return self.fail(pi, slot, None, Failure::Device(ERROR_ABRT), mem);
        }
        if sg_write(mem, prdt, 0, data).is_err() {
            guest_error!("ahci: PIO data-in buffer outside RAM");
            return host_bus_error(&mut self.ports[pi]);
        }
        let status = STATUS_DRDY | STATUS_DSC;
        let mut fis = [0u8; 20];
        fis[0] = FIS_PIO_SETUP;
        fis[1] = FIS_I | 0x20; // data moves to the host
        fis[2] = status | 0x08; // DRQ while the data block is sent
        fis[15] = status; // E_Status
        fis[16..18].copy_from_slice(&512u16.to_le_bytes());
        if !self.post_fis(pi, mem, RX_PIO_SETUP, &fis) {
            return;
        }
        let dps = any_interrupt(prdt, 512);
        let p = &mut self.ports[pi];
        p.regs.tfd = u32::from(status);
        p.regs.is |= PXIS_PSS | if dps { PXIS_DPS } else { 0 };
        p.regs.ci &= !(1 << slot);
        let _ = self.write_prdbc(pi, slot, 512, mem);
    }

    /// Finish a non-queued command that needed no backend work with `fis` (a D2H register FIS).
    fn complete_now(&mut self, pi: usize, slot: usize, fis: &[u8; 20], bytes: u64, mem: &mut dyn GuestMemory) {
        if !self.post_fis(pi, mem, RX_D2H, fis) || !self.write_prdbc(pi, slot, bytes, mem) {
            return;
        }
        let p = &mut self.ports[pi];
        p.regs.tfd = u32::from(fis[2]) | (u32::from(fis[3]) << 8);
        p.regs.is |= PXIS_DHRS;
        p.regs.ci &= !(1 << slot);
    }

    /// The command in `slot` failed: report it the way its protocol does, and halt the port.
    /// `queued` holds the LBA and sector count of a queued (NCQ) command: its failure arrives
    /// as a Set Device Bits FIS with ERR and is kept for log 10h.
    fn fail(
        &mut self,
        pi: usize,
        slot: usize,
        queued: Option<(u64, u16)>,
        failure: Failure,
        mem: &mut dyn GuestMemory,
    ) {
        let error = match failure {
            Failure::HostBus => return host_bus_error(&mut self.ports[pi]),
            Failure::Device(e) => e,
        };
        let status = STATUS_DRDY | STATUS_ERR;
        let ok = match queued {
            Some((lba, count)) => {
                if let Some(d) = self.ports[pi].drive.as_mut() {
                    d.ata.ncq_failed(slot as u8, status, error, lba, count);
                }
                // No completed tags: the host reads log 10h to learn which one failed.
                self.post_fis(pi, mem, RX_SDB, &sdb_fis(status, error, 0))
            }
            None => self.post_fis(pi, mem, RX_D2H, &d2h_fis(status, error, true)),
        };
        if !ok {
            return;
        }
        let p = &mut self.ports[pi];
        p.regs.tfd = u32::from(status) | (u32::from(error) << 8);
        if queued.is_some() {
            // The command had been accepted (BSY cleared); its PxSACT bit stays set.
            p.regs.ci &= !(1 << slot);
            p.regs.is |= PXIS_TFES | PXIS_SDBS;
        } else {
            p.regs.is |= PXIS_TFES | PXIS_DHRS;
        }
        p.regs.cmd = (p.regs.cmd & !(0x1f << CMD_CCS_SHIFT)) | ((slot as u32) << CMD_CCS_SHIFT);
        p.halted = true;
    }

    fn write_prdbc(&mut self, pi: usize, slot: usize, bytes: u64, mem: &mut dyn GuestMemory) -> bool {
        let at = self.ports[pi].regs.clb.wrapping_add(slot as u64 * HEADER_BYTES + 4);
        if mem.write(at, &(bytes as u32).to_le_bytes()).is_err() {
            guest_error!(slot, "ahci: command list outside RAM");
            host_bus_error(&mut self.ports[pi]);
            return false;
        }
        true
    }

    /// Hand operations of started commands to the port's backend, in start order, while the
    /// in-flight limit allows.
    fn submit(&mut self, pi: usize, mem: &mut dyn GuestMemory) {
        while let Some(&slot) = self.ports[pi].order.front() {
            let Some(cmd) = self.ports[pi].commands[slot].as_ref() else {
                self.ports[pi].order.pop_front();
                continue;
            };
            if cmd.fully_submitted() {
                self.ports[pi].order.pop_front();
                continue;
            }
            let (op, at, bytes) = if cmd.submitted == cmd.total {
                (BlkOp::Flush, 0, 0)
            } else {
                match cmd.work {
                    Work::Flush => (BlkOp::Flush, 0, 1),
                    Work::Read | Work::Write => {
                        let n = (cmd.total - cmd.submitted).min(MAX_OP_BYTES as u64);
                        if self.in_flight_bytes > 0 && self.in_flight_bytes + n > MAX_IN_FLIGHT_BYTES {
                            return;
                        }
                        let (at, offset) = (cmd.submitted, cmd.base + cmd.submitted);
                        let write = cmd.work == Work::Write;
                        let mut buf = self.take_buf(n as usize);
                        let cmd = self.ports[pi].commands[slot].as_mut().expect("checked above");
                        if write {
                            if sg_read(mem, &cmd.prdt, at, &mut buf).is_err() {
                                guest_error!(slot, "ahci: write data outside RAM");
                                cmd.failure = Some(Failure::HostBus);
                                cmd.submitted = cmd.total;
                                cmd.flush_submitted = true;
                                self.recycle(buf);
                                continue;
                            }
                            (BlkOp::Write { offset, data: buf }, at, n)
                        } else {
                            (BlkOp::Read { offset, buf }, at, n)
                        }
                    }
                }
            };
            let cmd = self.ports[pi].commands[slot].as_mut().expect("checked above");
            if matches!(op, BlkOp::Flush) && cmd.work != Work::Flush {
                cmd.flush_submitted = true;
            } else {
                cmd.submitted += bytes;
            }
            cmd.ops += 1;
            let command = cmd.id;
            let data_bytes = if matches!(op, BlkOp::Flush) { 0 } else { bytes };
            let tag = self.next_tag;
            self.next_tag += 1;
            self.in_flight_bytes += data_bytes;
            let Some(drive) = self.ports[pi].drive.as_mut() else { return };
            drive.ops.insert(tag, OpRef { command, slot, at, bytes: data_bytes });
            drive.io.submit(tag, op);
        }
    }

    /// Take the port's finished operations: read data into the guest, note failures.
    fn collect(&mut self, pi: usize, mem: &mut dyn GuestMemory) {
        loop {
            let Some(drive) = self.ports[pi].drive.as_mut() else { return };
            let Some(c) = drive.io.poll() else { return };
            self.complete_op(pi, c, mem);
        }
    }

    fn complete_op(&mut self, pi: usize, c: BlkCompletion, mem: &mut dyn GuestMemory) {
        let Some(drive) = self.ports[pi].drive.as_mut() else { return };
        let Some(op) = drive.ops.remove(&c.tag) else {
            tracing::warn!(tag = c.tag, "ahci: completion for an unknown operation");
            return;
        };
        self.in_flight_bytes -= op.bytes;
        let cmd = match self.ports[pi].commands[op.slot].as_mut() {
            Some(cmd) if cmd.id == op.command => cmd,
            // Dropped meanwhile (ST cleared, reset): nobody wants the result.
            _ => {
                if let Some(b) = c.buf {
                    self.recycle(b);
                }
                return;
            }
        };
        cmd.ops -= 1;
        match &c.result {
            Ok(()) => {
                if let (Work::Read, Some(buf), None) = (cmd.work, &c.buf, cmd.failure) {
                    if sg_write(mem, &cmd.prdt, op.at, buf).is_err() {
                        guest_error!(slot = op.slot, "ahci: read buffer outside RAM");
                        cmd.failure = Some(Failure::HostBus);
                    }
                }
            }
            Err(e) => {
                tracing::warn!("ahci: {:?} failed: {e}", cmd.work);
                let error = if cmd.work == Work::Read { ERROR_UNC } else { ERROR_ABRT };
                cmd.failure.get_or_insert(Failure::Device(error));
            }
        }
        if let Some(b) = c.buf {
            self.recycle(b);
        }
    }

    /// Answer every command whose operations are all complete.
    fn finish(&mut self, pi: usize, mem: &mut dyn GuestMemory) {
        for slot in 0..SLOTS {
            if !self.ports[pi].commands[slot].as_ref().is_some_and(Command::done) {
                continue;
            }
            let cmd = self.ports[pi].commands[slot].take().expect("checked above");
            if let Some(f) = cmd.failure {
                let queued = cmd.ncq.then_some((cmd.base / SECTOR, (cmd.total / SECTOR) as u16));
                self.fail(pi, slot, queued, f, mem);
                // A halted port leaves the slot busy until software restarts it.
                continue;
            }
            let bytes = if cmd.work == Work::Flush { 0 } else { cmd.total };
            let dps = any_interrupt(&cmd.prdt, bytes);
            if cmd.ncq {
                let p = &mut self.ports[pi];
                p.sdb_done |= 1 << slot;
                if dps {
                    p.regs.is |= PXIS_DPS;
                }
            } else {
                self.complete_now(pi, slot, &d2h_fis(STATUS_DRDY | STATUS_DSC, 0, true), bytes, mem);
                if dps {
                    self.ports[pi].regs.is |= PXIS_DPS;
                }
            }
        }
    }

    /// One Set Device Bits FIS for every NCQ command completed in this pass.
    fn post_sdb(&mut self, pi: usize, mem: &mut dyn GuestMemory) {
        let done = std::mem::take(&mut self.ports[pi].sdb_done);
        if done == 0 {
            return;
        }
        let status = STATUS_DRDY | STATUS_DSC;
        if !self.post_fis(pi, mem, RX_SDB, &sdb_fis(status, 0, done)) {
            return;
        }
        let p = &mut self.ports[pi];
        p.regs.sact &= !done;
        p.regs.tfd = u32::from(status);
        p.regs.is |= PXIS_SDBS;
    }
}

/// The port cannot reach guest memory: report HBFS and stop (software must restart the port).
fn host_bus_error<Q>(p: &mut Port<Q>) {
    p.regs.is |= PXIS_HBFS;
    p.halted = true;
}

fn d2h_fis(status: u8, error: u8, interrupt: bool) -> [u8; 20] {
    let mut f = [0u8; 20];
    f[0] = FIS_D2H;
    f[1] = if interrupt { FIS_I } else { 0 };
    f[2] = status;
    f[3] = error;
    f
}

/// Set Device Bits FIS; `sactive` names the completed NCQ tags.
fn sdb_fis(status: u8, error: u8, sactive: u32) -> [u8; 8] {
    let mut f = [0u8; 8];
    f[0] = FIS_SDB;
    f[1] = FIS_I;
    // Status-Hi (6:4) and Status-Lo (2:0); bits 7 and 3 are reserved.
    f[2] = status & 0x77;
    f[3] = error;
    f[4..8].copy_from_slice(&sactive.to_le_bytes());
    f
}

/// Read `prdtl` PRD entries at `at`.
fn read_prdt(mem: &dyn GuestMemory, at: u64, prdtl: u64) -> Result<Vec<Prd>, ()> {
    if prdtl == 0 {
        return Ok(Vec::new());
    }
    let mut raw = vec![0u8; (prdtl * PRD_BYTES) as usize];
    mem.read(at, &mut raw).map_err(|_| ())?;
    Ok(raw
        .chunks_exact(PRD_BYTES as usize)
        .map(|e| {
            let dw = |i: usize| u32::from_le_bytes([e[4 * i], e[4 * i + 1], e[4 * i + 2], e[4 * i + 3]]);
            // DBA bit 0 is reserved (word alignment); DBC holds the byte count − 1 in 21:0.
            let addr = (u64::from(dw(0)) | (u64::from(dw(1)) << 32)) & !1;
            let len = (u64::from(dw(3) & 0x3f_ffff) + 1).min(PRD_MAX);
            Prd { addr, len, interrupt: dw(3) & (1 << 31) != 0 }
        })
        .collect())
}

/// The PRD pieces covering `len` bytes from byte `offset` of the transfer.
fn sg_pieces(prdt: &[Prd], offset: u64, len: u64) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
    let mut start = 0u64;
    prdt.iter().filter_map(move |p| {
        let (lo, hi) = (start, start + p.len);
        start = hi;
        let from = lo.max(offset);
        let to = hi.min(offset + len);
        // (guest address, bytes, position in the caller's buffer)
        (from < to).then(|| (p.addr + (from - lo), to - from, from - offset))
    })
}

fn sg_read(mem: &dyn GuestMemory, prdt: &[Prd], offset: u64, buf: &mut [u8]) -> Result<(), ()> {
    for (addr, n, at) in sg_pieces(prdt, offset, buf.len() as u64) {
        mem.read(addr, &mut buf[at as usize..(at + n) as usize]).map_err(|_| ())?;
    }
    Ok(())
}

fn sg_write(mem: &mut dyn GuestMemory, prdt: &[Prd], offset: u64, data: &[u8]) -> Result<(), ()> {
    let pieces: Vec<_> = sg_pieces(prdt, offset, data.len() as u64).collect();
    for (addr, n, at) in pieces {
        mem.write(addr, &data[at as usize..(at + n) as usize]).map_err(|_| ())?;
    }
    Ok(())
}

/// Whether any PRD entry the first `bytes` of a transfer went through asks for an interrupt.
fn any_interrupt(prdt: &[Prd], bytes: u64) -> bool {
    let mut start = 0;
    prdt.iter().any(|p| {
        let used = start < bytes;
        start += p.len;
        used && p.interrupt
    })
}

impl<Q: BlockQueue> PciFunction for Ahci<Q> {
    fn config(&self) -> &ConfigSpace {
        &self.config
    }
    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }

    fn bar_read(&mut self, bar: usize, offset: u64, size: Size) -> u64 {
        if bar != ABAR {
            return 0;
        }
        match size {
            Size::B4 if offset.is_multiple_of(4) => u64::from(self.read_reg(offset)),
            Size::B8 if offset.is_multiple_of(8) => {
                u64::from(self.read_reg(offset)) | (u64::from(self.read_reg(offset + 4)) << 32)
            }
            // Byte and word reads see part of the register (nothing acts on a read).
            Size::B1 | Size::B2 => {
                let v = self.read_reg(offset & !3);
                u64::from(v >> (8 * (offset & 3))) & ((1 << size.bits()) - 1)
            }
            _ => {
                guest_error!(offset, "ahci: misaligned register read");
                0
            }
        }
    }

    fn bar_write(&mut self, bar: usize, offset: u64, size: Size, value: u64) {
        if bar != ABAR {
            return;
        }
        match size {
            Size::B4 if offset.is_multiple_of(4) => self.write_reg(offset, value as u32),
            Size::B8 if offset.is_multiple_of(8) => {
                self.write_reg(offset, value as u32);
                self.write_reg(offset + 4, (value >> 32) as u32);
            }
            _ => guest_error!(offset, ?size, "ahci: register write that is not a whole dword, ignored"),
        }
    }

    fn intx_level(&self) -> bool {
        self.ghc & GHC_IE != 0 && self.is != 0
    }

    fn needs_processing(&self) -> bool {
        self.ports.iter().any(Port::needs_processing)
    }

    fn process(&mut self, mem: &mut dyn GuestMemory) {
        for pi in 0..self.ports.len() {
            if self.ports[pi].needs_processing() {
                self.process_port(pi, mem);
            }
        }
        self.refresh_is();
    }

    fn io_in_flight(&self) -> bool {
        self.ports.iter().any(|p| p.drive.as_ref().is_some_and(|d| !d.ops.is_empty()))
    }
}

#[cfg(test)]
#[path = "ahci_tests.rs"]
mod tests;
