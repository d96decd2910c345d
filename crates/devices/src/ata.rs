//! The ATA device behind an AHCI port (QEMU's `ide-hd`): what the drive answers to each command
//! of the ATA/ATAPI Command Set (ACS), independent of how the command reached it.
//!
//! The HBA ([`crate::ahci`]) turns a Register Host-to-Device FIS into a [`TaskFile`], asks
//! [`AtaDrive::decode`] what the command means, and does the data movement. The drive keeps the
//! state that commands change (write cache, transfer mode) and builds the IDENTIFY DEVICE data.
//!
//! | command | opcode | answer |
//! |---|---|---|
//! | IDENTIFY DEVICE | ECh | 512 bytes of [`AtaDrive::identify`] (PIO data-in) |
//! | READ DMA (EXT) | C8h (25h) | [`Action::Read`], LBA28 (LBA48) |
//! | WRITE DMA (EXT) | CAh (35h) | [`Action::Write`] |
//! | READ / WRITE FPDMA QUEUED | 60h / 61h | the same, queued (NCQ tag in count bits 7:3) |
//! | FLUSH CACHE (EXT) | E7h (EAh) | [`Action::Flush`] |
//! | SET FEATURES | EFh | write cache and read look-ahead on/off, transfer mode; others abort |
//! | READ LOG EXT | 2Fh | log 00h (directory) and 10h (NCQ command error), one page (PIO data-in) |
//! | CHECK POWER MODE, IDLE / STANDBY IMMEDIATE | E5h, E1h / E0h | success (the drive is always active) |
//! | anything else | | [`Action::Abort`] with ABRT |
//!
//! A transfer outside the disk ends with IDNF (ACS: "address out of range"). When a queued
//! command fails, the HBA records it with [`AtaDrive::ncq_failed`]; the host then reads log 10h,
//! which names the failed tag and its registers and clears the error (ACS-3 §9.13).

/// Status register bits.
pub const STATUS_BSY: u8 = 0x80;
pub const STATUS_DRDY: u8 = 0x40;
pub const STATUS_DSC: u8 = 0x10;
pub const STATUS_ERR: u8 = 0x01;
/// Error register bits.
pub const ERROR_UNC: u8 = 0x40;
pub const ERROR_IDNF: u8 = 0x10;
pub const ERROR_ABRT: u8 = 0x04;

pub const ATA_IDENTIFY: u8 = 0xec;
pub const ATA_READ_DMA: u8 = 0xc8;
pub const ATA_READ_DMA_EXT: u8 = 0x25;
pub const ATA_WRITE_DMA: u8 = 0xca;
pub const ATA_WRITE_DMA_EXT: u8 = 0x35;
pub const ATA_READ_FPDMA_QUEUED: u8 = 0x60;
pub const ATA_WRITE_FPDMA_QUEUED: u8 = 0x61;
pub const ATA_FLUSH_CACHE: u8 = 0xe7;
pub const ATA_FLUSH_CACHE_EXT: u8 = 0xea;
pub const ATA_SET_FEATURES: u8 = 0xef;
pub const ATA_CHECK_POWER_MODE: u8 = 0xe5;
pub const ATA_IDLE_IMMEDIATE: u8 = 0xe1;
pub const ATA_READ_LOG_EXT: u8 = 0x2f;

/// General purpose log addresses.
const LOG_DIRECTORY: u8 = 0x00;
const LOG_NCQ_ERROR: u8 = 0x10;
pub const ATA_STANDBY_IMMEDIATE: u8 = 0xe0;

/// SET FEATURES subcommands (features register).
const SF_ENABLE_WRITE_CACHE: u8 = 0x02;
const SF_SET_TRANSFER_MODE: u8 = 0x03;
const SF_DISABLE_READ_LOOK_AHEAD: u8 = 0x55;
const SF_DISABLE_WRITE_CACHE: u8 = 0x82;
const SF_ENABLE_READ_LOOK_AHEAD: u8 = 0xaa;

pub const SECTOR: u64 = 512;
/// Queue depth offered for NCQ (IDENTIFY word 75 holds depth − 1).
pub const NCQ_DEPTH: u16 = 32;
/// Highest UDMA mode the drive claims (the mode only names a speed; nothing here depends on it).
const MAX_UDMA: u8 = 6;

/// The registers of a Register Host-to-Device FIS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskFile {
    pub command: u8,
    /// Features (7:0) and features (exp) (15:8).
    pub features: u16,
    /// LBA (47:0).
    pub lba: u64,
    /// Count (7:0) and count (exp) (15:8).
    pub count: u16,
    pub device: u8,
    pub control: u8,
}

impl TaskFile {
    /// Fields of a Register Host-to-Device FIS (SATA 3.x §10.5.5); `fis` holds at least its
    /// 20 bytes.
    pub fn from_h2d(fis: &[u8; 20]) -> Self {
        TaskFile {
            command: fis[2],
            features: u16::from_le_bytes([fis[3], fis[11]]),
            lba: u64::from_le_bytes([fis[4], fis[5], fis[6], fis[8], fis[9], fis[10], 0, 0]),
            device: fis[7],
            count: u16::from_le_bytes([fis[12], fis[13]]),
            control: fis[15],
        }
    }

    /// The 28-bit LBA of the pre-LBA48 commands (bits 27:24 in the device register).
    fn lba28(&self) -> u64 {
        (self.lba & 0xff_ffff) | (u64::from(self.device & 0x0f) << 24)
    }
}

/// What a command asks of the HBA and the disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send the IDENTIFY DEVICE data to the host (PIO data-in).
    Identify,
    /// Read `count` sectors from `lba` to the host; `tag` for a queued (NCQ) command.
    Read { lba: u64, count: u64, tag: Option<u8> },
    /// Write `count` sectors from the host at `lba`.
    Write { lba: u64, count: u64, tag: Option<u8> },
    /// Make written data durable.
    Flush,
    /// Send these 512 bytes to the host (PIO data-in): a log page.
    PioIn(Box<[u8; 512]>),
    /// Nothing to transfer; the command succeeded with this count register (CHECK POWER MODE
    /// reports its answer there).
    Done { count: u8 },
    /// The command failed with this error register.
    Abort { error: u8 },
}

/// Names and size of a drive, as IDENTIFY DEVICE reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriveInfo {
    /// Capacity in 512-byte sectors.
    pub sectors: u64,
    /// Serial number (20 characters at most; longer ones are cut).
    pub serial: String,
    /// Model number (40 characters at most).
    pub model: String,
    /// Firmware revision (8 characters at most).
    pub firmware: String,
    pub read_only: bool,
}

/// A failed queued command, as log 10h reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NcqError {
    tag: u8,
    status: u8,
    error: u8,
    lba: u64,
    count: u16,
}

/// The state of one ATA drive that commands change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AtaDrive {
    info: DriveInfo,
    ncq_error: Option<NcqError>,
    write_cache: bool,
    look_ahead: bool,
    /// UDMA mode selected by SET FEATURES (word 88 reports it).
    udma: u8,
}

impl AtaDrive {
    pub fn new(info: DriveInfo) -> Self {
        AtaDrive { info, ncq_error: None, write_cache: true, look_ahead: true, udma: MAX_UDMA }
    }

    pub fn info(&self) -> &DriveInfo {
        &self.info
    }

    /// Whether the volatile write cache is on (off: every write is flushed before it completes).
    pub fn write_cache(&self) -> bool {
        self.write_cache
    }

    /// Power-on / hardware reset defaults (ACS: SET FEATURES settings revert unless the drive
    /// was told to keep them, which this drive does not support).
    pub fn reset(&mut self) {
        self.ncq_error = None;
        self.write_cache = true;
        self.look_ahead = true;
        self.udma = MAX_UDMA;
    }

    /// What the command in `tf` means; SET FEATURES takes effect here.
    pub fn decode(&mut self, tf: &TaskFile) -> Action {
        match tf.command {
            ATA_IDENTIFY => Action::Identify,
            ATA_READ_DMA | ATA_WRITE_DMA => {
                // A count of 0 means 256 sectors in the 28-bit commands.
                let count = if tf.count & 0xff == 0 { 256 } else { u64::from(tf.count & 0xff) };
                self.transfer(tf.command == ATA_WRITE_DMA, tf.lba28(), count, None)
            }
            ATA_READ_DMA_EXT | ATA_WRITE_DMA_EXT => {
                let count = if tf.count == 0 { 65536 } else { u64::from(tf.count) };
                self.transfer(tf.command == ATA_WRITE_DMA_EXT, tf.lba, count, None)
            }
            ATA_READ_FPDMA_QUEUED | ATA_WRITE_FPDMA_QUEUED => {
                // The sector count travels in the features registers; the count register
                // carries the tag (bits 7:3).
                let count = if tf.features == 0 { 65536 } else { u64::from(tf.features) };
                let tag = (tf.count >> 3) as u8 & 0x1f;
                self.transfer(tf.command == ATA_WRITE_FPDMA_QUEUED, tf.lba, count, Some(tag))
            }
            ATA_FLUSH_CACHE | ATA_FLUSH_CACHE_EXT => Action::Flush,
            ATA_READ_LOG_EXT => self.read_log(tf),
            ATA_SET_FEATURES => self.set_features(tf),
            // 0xff: active or idle.
            ATA_CHECK_POWER_MODE => Action::Done { count: 0xff },
            ATA_IDLE_IMMEDIATE | ATA_STANDBY_IMMEDIATE => Action::Done { count: 0 },
            _ => Action::Abort { error: ERROR_ABRT },
        }
    }

    fn transfer(&self, write: bool, lba: u64, count: u64, tag: Option<u8>) -> Action {
        if lba.checked_add(count).is_none_or(|end| end > self.info.sectors) {
            mimic_core::guest_error!(lba, count, "ata: transfer outside the disk");
            return Action::Abort { error: ERROR_IDNF | ERROR_ABRT };
        }
        if write && self.info.read_only {
            mimic_core::guest_error!("ata: write to a read-only disk");
            return Action::Abort { error: ERROR_ABRT };
        }
        if write {
            Action::Write { lba, count, tag }
        } else {
            Action::Read { lba, count, tag }
        }
    }

    /// A queued command (`tag`, at `lba` for `count` sectors) failed with these registers.
    pub fn ncq_failed(&mut self, tag: u8, status: u8, error: u8, lba: u64, count: u16) {
        self.ncq_error = Some(NcqError { tag, status, error, lba, count });
    }

    /// READ LOG EXT: log address in LBA (7:0), page in LBA (15:8) and (47:40)... of which only
    /// page 0 exists here, one 512-byte page per log.
    fn read_log(&mut self, tf: &TaskFile) -> Action {
        let log = tf.lba as u8;
        let page = ((tf.lba >> 8) & 0xff) | ((tf.lba >> 24) & 0xff00);
        if page != 0 || tf.count != 1 {
            mimic_core::guest_error!(log, page, count = tf.count, "ata: READ LOG EXT beyond the first page");
            return Action::Abort { error: ERROR_ABRT };
        }
        let mut data = Box::new([0u8; 512]);
        match log {
            LOG_DIRECTORY => {
                // General purpose logging version 1, then the page count of each log address.
                data[0] = 1;
                data[2 * LOG_NCQ_ERROR as usize] = 1;
            }
            LOG_NCQ_ERROR => {
                // Reading the log ends the error condition; without one, NQ says "no queued
                // command failed".
                match self.ncq_error.take() {
                    Some(e) => {
                        data[0] = e.tag & 0x1f;
                        data[2] = e.status;
                        data[3] = e.error;
                        let lba = e.lba.to_le_bytes();
                        data[4..7].copy_from_slice(&lba[0..3]);
                        data[7] = 0x40;
                        data[8..11].copy_from_slice(&lba[3..6]);
                        data[12..14].copy_from_slice(&e.count.to_le_bytes());
                    }
                    None => data[0] = 0x80,
                }
                let sum = data[..511].iter().fold(0u8, |s, b| s.wrapping_add(*b));
                data[511] = sum.wrapping_neg();
            }
            _ => {
                mimic_core::guest_error!(log, "ata: READ LOG EXT of an unsupported log");
                return Action::Abort { error: ERROR_ABRT };
            }
        }
        Action::PioIn(data)
    }

    fn set_features(&mut self, tf: &TaskFile) -> Action {
        match tf.features as u8 {
            SF_ENABLE_WRITE_CACHE => self.write_cache = true,
            SF_DISABLE_WRITE_CACHE => self.write_cache = false,
            SF_ENABLE_READ_LOOK_AHEAD => self.look_ahead = true,
            SF_DISABLE_READ_LOOK_AHEAD => self.look_ahead = false,
            SF_SET_TRANSFER_MODE => {
                // Count: transfer type (7:3) and mode (2:0). PIO default/flow-control modes and
                // multiword DMA are accepted and change nothing; UDMA selects the reported mode.
                let (kind, mode) = ((tf.count as u8) >> 3, tf.count as u8 & 7);
                match kind {
                    0b00000 | 0b00001 => {}
                    0b00100 if mode <= 2 => {}
                    0b01000 if mode <= MAX_UDMA => self.udma = mode,
                    _ => return Action::Abort { error: ERROR_ABRT },
                }
            }
            other => {
                mimic_core::guest_error!(subcommand = other, "ata: unsupported SET FEATURES subcommand");
                return Action::Abort { error: ERROR_ABRT };
            }
        }
        Action::Done { count: 0 }
    }

    /// The IDENTIFY DEVICE data (ACS-3 §7.12.7), as the 512 bytes the host receives.
    pub fn identify(&self) -> [u8; 512] {
        let mut w = [0u16; 256];
        let sectors = self.info.sectors;
        // Legacy geometry: 16 heads, 63 sectors per track, as many cylinders as fit in 16383.
        let cylinders = (sectors / (16 * 63)).min(16383) as u16;
        w[0] = 0x0040; // fixed (non-removable) ATA device
        w[1] = cylinders;
        w[3] = 16;
        w[6] = 63;
        put_string(&mut w[10..20], &self.info.serial);
        put_string(&mut w[23..27], &self.info.firmware);
        put_string(&mut w[27..47], &self.info.model);
        w[47] = 0x8000 | 16; // READ/WRITE MULTIPLE: up to 16 sectors per DRQ block
        w[49] = (1 << 11) | (1 << 9) | (1 << 8); // IORDY, LBA, DMA
        w[50] = 0x4000;
        w[53] = (1 << 2) | (1 << 1); // words 88 and 64..70 valid
        w[54] = cylinders;
        w[55] = 16;
        w[56] = 63;
        let chs = u32::from(cylinders) * 16 * 63;
        w[57] = chs as u16;
        w[58] = (chs >> 16) as u16;
        let lba28 = sectors.min(0x0fff_ffff) as u32;
        w[60] = lba28 as u16;
        w[61] = (lba28 >> 16) as u16;
        w[63] = 0x0007; // multiword DMA 0..2 supported
        w[64] = 0x0003; // PIO 3 and 4
        w[65] = 120;
        w[66] = 120;
        w[67] = 120;
        w[68] = 120;
        w[75] = NCQ_DEPTH - 1;
        w[76] = (1 << 8) | (1 << 3) | (1 << 2) | (1 << 1); // NCQ; SATA Gen1, Gen2, Gen3
        w[80] = 0x03f0; // ATA/ATAPI-4 .. ACS-2
                        // Supported: write cache, look-ahead; FLUSH CACHE (EXT), 48-bit addresses.
        w[82] = (1 << 6) | (1 << 5);
        w[83] = 0x4000 | (1 << 13) | (1 << 12) | (1 << 10);
        w[84] = 0x4000;
        w[85] = (u16::from(self.look_ahead) << 6) | (u16::from(self.write_cache) << 5);
        w[86] = (1 << 13) | (1 << 12) | (1 << 10);
        w[87] = 0x4000;
        let udma_supported = (1u16 << (MAX_UDMA + 1)) - 1;
        w[88] = udma_supported | (1 << (8 + self.udma));
        for (i, word) in w[100..104].iter_mut().enumerate() {
            *word = (sectors >> (16 * i)) as u16;
        }
        w[106] = 0x4000; // one 512-byte logical sector per physical sector
        w[222] = 0x1000 | 0x003f; // serial transport, SATA 1.0a .. 3.0
        let mut bytes = [0u8; 512];
        for (i, word) in w.iter().enumerate() {
            bytes[2 * i..2 * i + 2].copy_from_slice(&word.to_le_bytes());
        }
        // Integrity word: signature A5h, then the byte that makes all 512 bytes sum to zero.
        bytes[510] = 0xa5;
        let sum = bytes[..511].iter().fold(0u8, |s, b| s.wrapping_add(*b));
        bytes[511] = sum.wrapping_neg();
        bytes
    }
}

/// An ATA string: space padded, two characters per word with the first in the high byte.
fn put_string(words: &mut [u16], s: &str) {
    let mut bytes = vec![b' '; words.len() * 2];
    for (d, c) in bytes.iter_mut().zip(s.bytes().filter(|c| c.is_ascii_graphic() || *c == b' ')) {
        *d = c;
    }
    for (w, pair) in words.iter_mut().zip(bytes.chunks(2)) {
        *w = u16::from_be_bytes([pair[0], pair[1]]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drive(sectors: u64) -> AtaDrive {
        AtaDrive::new(DriveInfo {
            sectors,
            serial: "SER123".into(),
            model: "MIMIC HARDDISK".into(),
            firmware: "1.0".into(),
            read_only: false,
        })
    }

    fn word(id: &[u8; 512], n: usize) -> u16 {
        u16::from_le_bytes([id[2 * n], id[2 * n + 1]])
    }

    fn ata_string(id: &[u8; 512], words: std::ops::Range<usize>) -> String {
        let s: Vec<u8> = words.flat_map(|n| word(id, n).to_be_bytes()).collect();
        String::from_utf8(s).unwrap().trim_end().to_string()
    }

    #[test]
    fn identify_reports_names_capacity_and_features() {
        let id = drive(0x1_2345_6789).identify();
        assert_eq!(ata_string(&id, 10..20), "SER123");
        assert_eq!(ata_string(&id, 27..47), "MIMIC HARDDISK");
        assert_eq!(ata_string(&id, 23..27), "1.0");
        let lba48 = (0..4).map(|i| u64::from(word(&id, 100 + i)) << (16 * i)).sum::<u64>();
        assert_eq!(lba48, 0x1_2345_6789);
        assert_eq!(u32::from(word(&id, 60)) | u32::from(word(&id, 61)) << 16, 0x0fff_ffff);
        assert_eq!(word(&id, 75) & 0x1f, 31, "NCQ depth 32");
        assert_ne!(word(&id, 76) & (1 << 8), 0, "NCQ supported");
        assert_ne!(word(&id, 83) & (1 << 10), 0, "LBA48");
        assert_ne!(word(&id, 83) & (1 << 13), 0, "FLUSH CACHE EXT");
        assert_ne!(word(&id, 85) & (1 << 5), 0, "write cache enabled");
        assert_eq!(id.iter().fold(0u8, |s, b| s.wrapping_add(*b)), 0, "checksum");
        assert_eq!(id[510], 0xa5);
    }

    #[test]
    fn set_features_disable_write_cache_shows_in_identify() {
        let mut d = drive(1000);
        let tf = TaskFile { command: ATA_SET_FEATURES, features: SF_DISABLE_WRITE_CACHE as u16, ..Default::default() };
        assert_eq!(d.decode(&tf), Action::Done { count: 0 });
        assert_eq!(d.identify()[170] & (1 << 5), 0);
        assert!(!d.write_cache());
    }

    #[test]
    fn fpdma_takes_count_from_features_and_tag_from_count() {
        let mut d = drive(1000);
        let tf =
            TaskFile { command: ATA_READ_FPDMA_QUEUED, features: 8, count: 5 << 3, lba: 100, ..Default::default() };
        assert_eq!(d.decode(&tf), Action::Read { lba: 100, count: 8, tag: Some(5) });
    }

    #[test]
    fn transfer_past_the_end_is_idnf() {
        let mut d = drive(1000);
        let tf = TaskFile { command: ATA_WRITE_DMA_EXT, count: 2, lba: 999, ..Default::default() };
        assert_eq!(d.decode(&tf), Action::Abort { error: ERROR_IDNF | ERROR_ABRT });
        let tf = TaskFile { command: ATA_READ_DMA_EXT, count: 0, lba: u64::MAX >> 16, ..Default::default() };
        assert!(matches!(d.decode(&tf), Action::Abort { .. }));
    }

    #[test]
    fn lba28_uses_device_register_high_bits() {
        let mut d = drive(1 << 28);
        let tf = TaskFile { command: ATA_READ_DMA, count: 0, lba: 0x12_3456, device: 0x4a, ..Default::default() };
        assert_eq!(d.decode(&tf), Action::Read { lba: 0xa12_3456, count: 256, tag: None });
    }

    #[test]
    fn unknown_command_aborts() {
        let mut d = drive(1000);
        assert_eq!(d.decode(&TaskFile { command: 0x92, ..Default::default() }), Action::Abort { error: ERROR_ABRT });
    }

    #[test]
    fn ncq_error_log_names_the_failed_tag_once() {
        let mut d = drive(1000);
        d.ncq_failed(9, STATUS_DRDY | STATUS_ERR, ERROR_IDNF, 0x1234, 8);
        let tf = TaskFile { command: ATA_READ_LOG_EXT, lba: u64::from(LOG_NCQ_ERROR), count: 1, ..Default::default() };
        let Action::PioIn(page) = d.decode(&tf) else { panic!("expected log data") };
        assert_eq!((page[0], page[2], page[3], page[4], page[5]), (9, 0x41, ERROR_IDNF, 0x34, 0x12));
        assert_eq!(page.iter().fold(0u8, |s, b| s.wrapping_add(*b)), 0, "checksum");
        let Action::PioIn(again) = d.decode(&tf) else { panic!("expected log data") };
        assert_eq!(again[0], 0x80, "error cleared by the first read");
    }

    #[test]
    fn h2d_fis_fields_decode() {
        let mut fis = [0u8; 20];
        fis[0] = 0x27;
        fis[1] = 0x80;
        fis[2] = ATA_WRITE_DMA_EXT;
        fis[3] = 0x11;
        fis[4..7].copy_from_slice(&[1, 2, 3]);
        fis[7] = 0x40;
        fis[8..11].copy_from_slice(&[4, 5, 6]);
        fis[11] = 0x22;
        fis[12] = 0x10;
        fis[13] = 0x01;
        let tf = TaskFile::from_h2d(&fis);
        assert_eq!(tf.lba, 0x0605_0403_0201);
        assert_eq!(tf.count, 0x0110);
        assert_eq!(tf.features, 0x2211);
        assert_eq!(tf.command, ATA_WRITE_DMA_EXT);
    }
}
