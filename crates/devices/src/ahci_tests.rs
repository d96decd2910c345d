use super::*;
use crate::ata::{
    ATA_FLUSH_CACHE_EXT, ATA_IDENTIFY, ATA_READ_DMA_EXT, ATA_READ_FPDMA_QUEUED, ATA_SET_FEATURES, ATA_WRITE_DMA_EXT,
    ATA_WRITE_FPDMA_QUEUED, ERROR_IDNF,
};
use crate::virtio_blk::{Inline, MemDisk};
use mimic_memory::FlatMemory;
use proptest::prelude::*;

const BASE: u64 = 0x8000_0000;
const CLB: u64 = BASE;
const FB: u64 = BASE + 0x400;
/// Command table of slot n at TABLES + n * 0x400.
const TABLES: u64 = BASE + 0x1_0000;
const DATA: u64 = BASE + 0x10_0000;
const MEM: usize = 0x40_0000;
const SECTORS: u64 = 256;

type Hba = Ahci<Inline<MemDisk>>;

fn disk() -> MemDisk {
    MemDisk::new((0..SECTORS as usize * 512).map(|i| (i / 512) as u8 ^ (i as u8).rotate_left(3)).collect())
}

fn hba_with(d: MemDisk) -> (Hba, FlatMemory) {
    let drive = Drive::new(Inline::new(d), "SN-0001".into(), "MIMIC HARDDISK".into());
    (Ahci::new(vec![Some(drive), None]), FlatMemory::new(BASE, MEM))
}

fn rd(h: &mut Hba, off: u64) -> u32 {
    h.bar_read(ABAR, off, Size::B4) as u32
}

fn wr(h: &mut Hba, off: u64, v: u32) {
    h.bar_write(ABAR, off, Size::B4, u64::from(v));
}

fn preg(reg: u64) -> u64 {
    PORTS + reg
}

/// Port 0 as Linux sets it up: addresses, FIS receive, all interrupts, then the engine.
fn started() -> (Hba, FlatMemory) {
    let (mut h, mem) = hba_with(disk());
    wr(&mut h, preg(P_CLB), CLB as u32);
    wr(&mut h, preg(P_CLBU), (CLB >> 32) as u32);
    wr(&mut h, preg(P_FB), FB as u32);
    wr(&mut h, preg(P_FBU), (FB >> 32) as u32);
    wr(&mut h, preg(P_CMD), CMD_FRE);
    wr(&mut h, preg(P_IE), 0xffff_ffff);
    wr(&mut h, GHC, GHC_AE | GHC_IE);
    wr(&mut h, preg(P_CMD), CMD_FRE | CMD_ST);
    (h, mem)
}

fn h2d(command: u8, lba: u64, count: u16, features: u16) -> [u8; 20] {
    let mut f = [0u8; 20];
    f[0] = FIS_H2D;
    f[1] = 0x80;
    f[2] = command;
    f[3] = features as u8;
    f[4..7].copy_from_slice(&lba.to_le_bytes()[0..3]);
    f[7] = 0x40;
    f[8..11].copy_from_slice(&lba.to_le_bytes()[3..6]);
    f[11] = (features >> 8) as u8;
    f[12..14].copy_from_slice(&count.to_le_bytes());
    f
}

/// Put a command in `slot` (header, FIS, PRDT of (address, bytes)) without issuing it.
fn prepare(mem: &mut FlatMemory, slot: usize, fis: &[u8; 20], prdt: &[(u64, u32)], write: bool) {
    let table = TABLES + slot as u64 * 0x400;
    let dw0 = 5 | (u32::from(write) << 6) | ((prdt.len() as u32) << 16);
    let mut header = [0u8; 32];
    header[0..4].copy_from_slice(&dw0.to_le_bytes());
    header[8..16].copy_from_slice(&table.to_le_bytes());
    mem.write(CLB + slot as u64 * 32, &header).unwrap();
    mem.write(table, fis).unwrap();
    for (i, (addr, len)) in prdt.iter().enumerate() {
        let mut e = [0u8; 16];
        e[0..8].copy_from_slice(&addr.to_le_bytes());
        e[12..16].copy_from_slice(&(len - 1).to_le_bytes());
        mem.write(table + PRDT_OFFSET + 16 * i as u64, &e).unwrap();
    }
}

/// Let the board process until the HBA has nothing left to do (bounded).
fn run(h: &mut Hba, mem: &mut FlatMemory) {
    for _ in 0..16 {
        if !h.needs_processing() {
            return;
        }
        h.process(mem);
    }
    panic!("HBA never went idle");
}

fn issue(h: &mut Hba, mem: &mut FlatMemory, slot: usize, fis: &[u8; 20], prdt: &[(u64, u32)], write: bool) {
    prepare(mem, slot, fis, prdt, write);
    wr(h, preg(P_CI), 1 << slot);
    run(h, mem);
}

fn read_mem(mem: &FlatMemory, addr: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0; len];
    mem.read(addr, &mut v).unwrap();
    v
}

fn prdbc(mem: &FlatMemory, slot: usize) -> u32 {
    u32::from_le_bytes(read_mem(mem, CLB + slot as u64 * 32 + 4, 4).try_into().unwrap())
}

#[test]
fn host_registers_describe_an_ahci_1_3_hba_with_ncq_and_6_port_layout() {
    let (mut h, _) = hba_with(disk());
    let cap = rd(&mut h, CAP);
    assert_eq!(cap & 0x1f, 1, "two ports");
    assert_eq!((cap >> 8) & 0x1f, 31, "32 command slots");
    assert_ne!(cap & CAP_SNCQ, 0);
    assert_ne!(cap & CAP_S64A, 0);
    assert_eq!(rd(&mut h, PI), 0b11);
    assert_eq!(rd(&mut h, VS), 0x0001_0300);
    assert_eq!(rd(&mut h, GHC) & GHC_AE, GHC_AE);
    assert_eq!(h.config().read(0, 4), 0x2922_8086);
    assert_eq!(h.config().read(8, 4) >> 8, 0x01_06_01);
}

#[test]
fn attached_port_shows_an_ata_signature_and_empty_port_none() {
    let (mut h, _) = hba_with(disk());
    assert_eq!(rd(&mut h, preg(P_SSTS)) & 0xf, 3);
    assert_eq!(rd(&mut h, preg(P_SIG)), SIG_ATA);
    assert_eq!(rd(&mut h, preg(P_TFD)) & 0x80, 0, "not busy");
    assert_eq!(rd(&mut h, preg(PORT_SIZE + P_SSTS)), 0);
    assert_eq!(rd(&mut h, preg(PORT_SIZE + P_SIG)), SIG_NONE);
}

#[test]
fn identify_fills_the_prdt_and_raises_pio_setup() {
    let (mut h, mut mem) = started();
    issue(&mut h, &mut mem, 0, &h2d(ATA_IDENTIFY, 0, 0, 0), &[(DATA, 512)], false);
    let id = read_mem(&mem, DATA, 512);
    let serial: Vec<u8> = id[20..40].chunks(2).flat_map(|c| [c[1], c[0]]).collect();
    assert_eq!(String::from_utf8(serial).unwrap().trim_end(), "SN-0001");
    let sectors = u64::from_le_bytes(id[200..208].try_into().unwrap());
    assert_eq!(sectors, SECTORS);
    assert_eq!(rd(&mut h, preg(P_CI)), 0);
    assert_ne!(rd(&mut h, preg(P_IS)) & PXIS_PSS, 0);
    assert_eq!(read_mem(&mem, FB + RX_PIO_SETUP, 1)[0], FIS_PIO_SETUP);
    assert_eq!(prdbc(&mem, 0), 512);
    assert_eq!(rd(&mut h, IS), 1);
    assert!(h.intx_level());
}

#[test]
fn dma_write_then_read_round_trips_through_multi_entry_prdts() {
    let (mut h, mut mem) = started();
    let data: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 3) as u8).collect();
    mem.write(DATA, &data[..1024]).unwrap();
    mem.write(DATA + 0x10000, &data[1024..3072]).unwrap();
    mem.write(DATA + 0x20000, &data[3072..]).unwrap();
    let out = [(DATA, 1024), (DATA + 0x10000, 2048), (DATA + 0x20000, 1024)];
    issue(&mut h, &mut mem, 2, &h2d(ATA_WRITE_DMA_EXT, 10, 8, 0), &out, true);
    assert_eq!(rd(&mut h, preg(P_CI)), 0);
    assert_eq!(&h.drive(0).unwrap().backend().data[10 * 512..18 * 512], &data[..]);
    assert_eq!(prdbc(&mem, 2), 4096);

    let back = [(DATA + 0x30000, 512), (DATA + 0x40000, 3584)];
    issue(&mut h, &mut mem, 5, &h2d(ATA_READ_DMA_EXT, 10, 8, 0), &back, false);
    let mut got = read_mem(&mem, DATA + 0x30000, 512);
    got.extend(read_mem(&mem, DATA + 0x40000, 3584));
    assert_eq!(got, data);
    let d2h = read_mem(&mem, FB + RX_D2H, 4);
    assert_eq!((d2h[0], d2h[2], d2h[3]), (FIS_D2H, STATUS_DRDY | STATUS_DSC, 0));
    assert_ne!(rd(&mut h, preg(P_IS)) & PXIS_DHRS, 0);
    assert_eq!(rd(&mut h, preg(P_TFD)) & 0x89, 0, "not busy, no error");
}

#[test]
fn ncq_write_and_read_complete_with_sdb_and_clear_sact() {
    let (mut h, mut mem) = started();
    let data: Vec<u8> = (0..1024u32).map(|i| (i ^ 0x5a) as u8).collect();
    mem.write(DATA, &data).unwrap();
    prepare(&mut mem, 3, &h2d(ATA_WRITE_FPDMA_QUEUED, 20, 3 << 3, 2), &[(DATA, 1024)], true);
    prepare(&mut mem, 7, &h2d(ATA_READ_FPDMA_QUEUED, 0, 7 << 3, 1), &[(DATA + 0x8000, 512)], false);
    wr(&mut h, preg(P_SACT), (1 << 3) | (1 << 7));
    wr(&mut h, preg(P_CI), (1 << 3) | (1 << 7));
    run(&mut h, &mut mem);
    assert_eq!(rd(&mut h, preg(P_CI)), 0);
    assert_eq!(rd(&mut h, preg(P_SACT)), 0);
    assert_ne!(rd(&mut h, preg(P_IS)) & PXIS_SDBS, 0);
    let sdb = read_mem(&mem, FB + RX_SDB, 8);
    assert_eq!(sdb[0], FIS_SDB);
    assert_eq!(u32::from_le_bytes(sdb[4..8].try_into().unwrap()), (1 << 3) | (1 << 7));
    assert_eq!(&h.drive(0).unwrap().backend().data[20 * 512..22 * 512], &data[..]);
    assert_eq!(read_mem(&mem, DATA + 0x8000, 512), disk().data[..512]);
}

#[test]
fn ncq_command_is_accepted_before_its_data_completes() {
    /// A queue that holds completions until released, like the I/O thread.
    #[derive(Default)]
    struct Slow(Vec<(u64, BlkOp)>, VecDeque<BlkCompletion>);
    impl BlockQueue for Slow {
        fn size(&self) -> u64 {
            SECTORS * 512
        }
        fn read_only(&self) -> bool {
            false
        }
        fn submit(&mut self, tag: u64, op: BlkOp) {
            self.0.push((tag, op));
        }
        fn poll(&mut self) -> Option<BlkCompletion> {
            self.1.pop_front()
        }
    }
    let mut h = Ahci::new(vec![Some(Drive::new(Slow::default(), "S".into(), "M".into()))]);
    let mut mem = FlatMemory::new(BASE, MEM);
    for (reg, v) in [(P_CLB, CLB as u32), (P_FB, FB as u32), (P_CMD, CMD_FRE | CMD_ST)] {
        h.bar_write(ABAR, preg(reg), Size::B4, u64::from(v));
    }
    prepare(&mut mem, 1, &h2d(ATA_READ_FPDMA_QUEUED, 4, 1 << 3, 1), &[(DATA, 512)], false);
    h.bar_write(ABAR, preg(P_SACT), Size::B4, 2);
    h.bar_write(ABAR, preg(P_CI), Size::B4, 2);
    h.process(&mut mem);
    let regs = h.port_regs(0).unwrap();
    assert_eq!((regs.ci, regs.sact), (0, 2), "accepted, still active");
    assert!(h.io_in_flight());
    let (tag, op) = h.ports[0].drive.as_mut().unwrap().io.0.pop().unwrap();
    let BlkOp::Read { buf, .. } = op else { panic!("expected a read") };
    h.ports[0].drive.as_mut().unwrap().io.1.push_back(BlkCompletion { tag, result: Ok(()), buf: Some(buf) });
    h.process(&mut mem);
    assert_eq!(h.port_regs(0).unwrap().sact, 0);
    assert!(!h.io_in_flight());
}

#[test]
fn flush_reaches_the_backend_and_write_cache_off_flushes_each_write() {
    let (mut h, mut mem) = started();
    issue(&mut h, &mut mem, 0, &h2d(ATA_FLUSH_CACHE_EXT, 0, 0, 0), &[], false);
    assert_eq!(h.drive(0).unwrap().backend().flushes, 1);
    assert_eq!(rd(&mut h, preg(P_CI)), 0);
    issue(&mut h, &mut mem, 0, &h2d(ATA_SET_FEATURES, 0, 0, 0x82), &[], false);
    issue(&mut h, &mut mem, 0, &h2d(ATA_WRITE_DMA_EXT, 0, 1, 0), &[(DATA, 512)], true);
    assert_eq!(h.drive(0).unwrap().backend().flushes, 2);
    assert_eq!(rd(&mut h, preg(P_TFD)) & 1, 0);
}

#[test]
fn read_past_the_end_fails_with_tfes_and_halts_until_restart() {
    let (mut h, mut mem) = started();
    issue(&mut h, &mut mem, 4, &h2d(ATA_READ_DMA_EXT, SECTORS - 1, 2, 0), &[(DATA, 1024)], false);
    let tfd = rd(&mut h, preg(P_TFD));
    assert_eq!(tfd & 1, 1, "ERR");
    assert_eq!((tfd >> 8) as u8 & ERROR_IDNF, ERROR_IDNF);
    assert_ne!(rd(&mut h, preg(P_IS)) & PXIS_TFES, 0);
    assert_eq!(rd(&mut h, preg(P_CI)), 1 << 4, "failed slot stays issued");
    assert_eq!((rd(&mut h, preg(P_CMD)) >> 8) & 0x1f, 4, "CCS names it");
    // Halted: a new command waits until software restarts the port.
    prepare(&mut mem, 0, &h2d(ATA_IDENTIFY, 0, 0, 0), &[(DATA, 512)], false);
    wr(&mut h, preg(P_CI), 1);
    h.process(&mut mem);
    assert_eq!(rd(&mut h, preg(P_CI)), (1 << 4) | 1);
    wr(&mut h, preg(P_CMD), CMD_FRE);
    assert_eq!(rd(&mut h, preg(P_CI)), 0);
    wr(&mut h, preg(P_CMD), CMD_FRE | CMD_ST);
    issue(&mut h, &mut mem, 0, &h2d(ATA_IDENTIFY, 0, 0, 0), &[(DATA, 512)], false);
    assert_eq!(rd(&mut h, preg(P_CI)), 0);
}

#[test]
fn failed_ncq_read_reports_through_sdb_and_log_10h_names_the_tag() {
    let (mut h, mut mem) = started();
    prepare(&mut mem, 6, &h2d(ATA_READ_FPDMA_QUEUED, SECTORS, 6 << 3, 1), &[(DATA, 512)], false);
    wr(&mut h, preg(P_SACT), 1 << 6);
    wr(&mut h, preg(P_CI), 1 << 6);
    run(&mut h, &mut mem);
    assert_ne!(rd(&mut h, preg(P_IS)) & (PXIS_TFES | PXIS_SDBS), 0);
    assert_eq!(rd(&mut h, preg(P_TFD)) & 1, 1);
    assert_eq!(rd(&mut h, preg(P_SACT)), 1 << 6, "failed tag still active");
    // Linux's error handling: restart the engine, then read the NCQ error log (non-queued).
    wr(&mut h, preg(P_CMD), CMD_FRE);
    wr(&mut h, preg(P_IS), 0xffff_ffff);
    wr(&mut h, preg(P_CMD), CMD_FRE | CMD_ST);
    issue(&mut h, &mut mem, 0, &h2d(crate::ata::ATA_READ_LOG_EXT, 0x10, 1, 0), &[(DATA + 0x1000, 512)], false);
    assert_eq!(rd(&mut h, preg(P_CI)), 0);
    let page = read_mem(&mem, DATA + 0x1000, 512);
    assert_eq!((page[0], page[3] & ERROR_IDNF), (6, ERROR_IDNF));
}

#[test]
fn prdt_outside_ram_sets_host_bus_fatal_error() {
    let (mut h, mut mem) = started();
    issue(&mut h, &mut mem, 0, &h2d(ATA_READ_DMA_EXT, 0, 1, 0), &[(0x10, 512)], false);
    assert_ne!(rd(&mut h, preg(P_IS)) & PXIS_HBFS, 0);
    assert_eq!(rd(&mut h, preg(P_CI)), 1);
}

#[test]
fn write_data_outside_ram_sets_host_bus_fatal_error_and_writes_nothing() {
    let (mut h, mut mem) = started();
    issue(&mut h, &mut mem, 1, &h2d(ATA_WRITE_DMA_EXT, 0, 2, 0), &[(DATA, 512), (0x10, 512)], true);
    assert_ne!(rd(&mut h, preg(P_IS)) & PXIS_HBFS, 0);
    assert_eq!(rd(&mut h, preg(P_CI)), 1 << 1);
    assert_eq!(h.drive(0).unwrap().backend().data, disk().data);
}

#[test]
fn prdt_shorter_than_the_transfer_aborts() {
    let (mut h, mut mem) = started();
    issue(&mut h, &mut mem, 0, &h2d(ATA_WRITE_DMA_EXT, 0, 2, 0), &[(DATA, 512)], true);
    assert_ne!(rd(&mut h, preg(P_IS)) & PXIS_TFES, 0);
    assert_eq!(h.drive(0).unwrap().backend().data, disk().data, "nothing written");
}

#[test]
fn unknown_command_and_ncq_tag_mismatch_abort() {
    let (mut h, mut mem) = started();
    issue(&mut h, &mut mem, 0, &h2d(0x92, 0, 1, 0), &[(DATA, 512)], false); // DOWNLOAD MICROCODE
    assert_eq!(rd(&mut h, preg(P_TFD)) >> 8 & 0xff, u32::from(ERROR_ABRT));
    wr(&mut h, preg(P_CMD), CMD_FRE);
    wr(&mut h, preg(P_IS), 0xffff_ffff);
    wr(&mut h, preg(P_CMD), CMD_FRE | CMD_ST);
    wr(&mut h, preg(P_SACT), 1 << 2);
    issue(&mut h, &mut mem, 2, &h2d(ATA_READ_FPDMA_QUEUED, 0, 9 << 3, 1), &[(DATA, 512)], false);
    assert_ne!(rd(&mut h, preg(P_IS)) & PXIS_TFES, 0);
}

#[test]
fn is_bit_stays_until_the_port_cause_is_cleared_first() {
    let (mut h, mut mem) = started();
    issue(&mut h, &mut mem, 0, &h2d(ATA_FLUSH_CACHE_EXT, 0, 0, 0), &[], false);
    wr(&mut h, IS, 1);
    assert_eq!(rd(&mut h, IS), 1, "PxIS.DHRS still pending");
    assert!(h.intx_level());
    wr(&mut h, preg(P_IS), PXIS_DHRS);
    wr(&mut h, IS, 1);
    assert_eq!(rd(&mut h, IS), 0);
    assert!(!h.intx_level());
}

#[test]
fn hba_reset_clears_registers_but_keeps_list_addresses() {
    let (mut h, mut mem) = started();
    issue(&mut h, &mut mem, 0, &h2d(ATA_IDENTIFY, 0, 0, 0), &[(DATA, 512)], false);
    assert!(h.intx_level());
    wr(&mut h, GHC, GHC_HR);
    assert_eq!(rd(&mut h, GHC), GHC_AE, "HR self-clears, IE off");
    assert_eq!(rd(&mut h, IS), 0);
    assert_eq!(rd(&mut h, preg(P_IS)), 0);
    assert_eq!(rd(&mut h, preg(P_IE)), 0);
    assert_eq!(rd(&mut h, preg(P_CMD)) & (CMD_ST | CMD_CR | CMD_FRE | CMD_FR), 0);
    assert_eq!(rd(&mut h, preg(P_CLB)), CLB as u32);
    assert_eq!(rd(&mut h, preg(P_SIG)), SIG_ATA);
    assert!(!h.intx_level());
}

#[test]
fn comreset_through_sctl_resends_the_signature() {
    let (mut h, mut mem) = started();
    run(&mut h, &mut mem);
    mem.write(FB + RX_D2H, &[0; 20]).unwrap();
    wr(&mut h, preg(P_SCTL), SCTL_DET_COMRESET);
    assert_eq!(rd(&mut h, preg(P_SSTS)) & 0xf, 0);
    wr(&mut h, preg(P_SCTL), 0);
    assert_eq!(rd(&mut h, preg(P_SSTS)), SSTS_PRESENT);
    run(&mut h, &mut mem);
    let fis = read_mem(&mem, FB + RX_D2H, 13);
    assert_eq!((fis[0], fis[4], fis[12]), (FIS_D2H, 1, 1));
    assert_eq!(rd(&mut h, preg(P_TFD)), TFD_AFTER_RESET);
}

#[test]
fn software_reset_by_control_fis_completes_and_resets_the_device() {
    let (mut h, mut mem) = started();
    issue(&mut h, &mut mem, 0, &h2d(ATA_SET_FEATURES, 0, 0, 0x82), &[], false);
    assert!(!h.drive(0).unwrap().ata().write_cache());
    let mut fis = [0u8; 20];
    fis[0] = FIS_H2D;
    fis[15] = CONTROL_SRST;
    issue(&mut h, &mut mem, 0, &fis, &[], false);
    assert_eq!(rd(&mut h, preg(P_CI)), 0);
    fis[15] = 0;
    issue(&mut h, &mut mem, 1, &fis, &[], false);
    assert_eq!(rd(&mut h, preg(P_CI)), 0);
    assert_eq!(rd(&mut h, preg(P_TFD)), TFD_AFTER_RESET);
    assert!(h.drive(0).unwrap().ata().write_cache(), "defaults restored");
}

#[test]
fn ci_written_while_stopped_is_ignored() {
    let (mut h, mut mem) = hba_with(disk());
    run(&mut h, &mut mem);
    wr(&mut h, preg(P_CI), 1);
    assert_eq!(rd(&mut h, preg(P_CI)), 0);
    assert!(!h.needs_processing());
}

#[test]
fn clearing_st_drops_commands_whose_io_is_still_in_flight() {
    let (mut h, mut mem) = started();
    prepare(&mut mem, 0, &h2d(ATA_READ_DMA_EXT, 0, 1, 0), &[(DATA, 512)], false);
    wr(&mut h, preg(P_CI), 1);
    h.process(&mut mem); // submitted; Inline completes it, collected next time
    wr(&mut h, preg(P_CMD), CMD_FRE);
    mem.write(DATA, &[0xee; 512]).unwrap();
    run(&mut h, &mut mem);
    assert_eq!(read_mem(&mem, DATA, 512), vec![0xee; 512], "no DMA for a dropped command");
    assert!(!h.io_in_flight());
}

proptest! {
    /// Arbitrary command headers, FISes and PRDTs never panic and leave the HBA idle.
    #[test]
    fn random_commands_never_panic(
        header in prop::array::uniform32(any::<u8>()),
        fis in prop::array::uniform20(any::<u8>()),
        prd in prop::array::uniform16(any::<u8>()),
        slot in 0usize..32,
    ) {
        let (mut h, mut mem) = started();
        let mut header = header;
        // Keep the table in RAM most of the time, so the FIS is what gets tested.
        header[8..16].copy_from_slice(&(TABLES + 0x8000).to_le_bytes());
        mem.write(CLB + slot as u64 * 32, &header).unwrap();
        mem.write(TABLES + 0x8000, &fis).unwrap();
        mem.write(TABLES + 0x8000 + PRDT_OFFSET, &prd).unwrap();
        wr(&mut h, preg(P_SACT), 1 << slot);
        wr(&mut h, preg(P_CI), 1 << slot);
        run(&mut h, &mut mem);
    }
}
