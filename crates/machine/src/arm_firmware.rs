//! What the Arm `virt` board gives firmware: `-drive if=pflash` files behind its two flash
//! banks (read at start, the guest's changes written back), and the fw_cfg device through which
//! firmware finds `-kernel`, `-initrd` and `-append`.
//!
//! Write-back: the flash model records which erase blocks the guest programmed or erased; the
//! board calls [`FlashFiles::write_back`] after every slice of guest execution (so it costs a
//! lock per bank per slice when nothing changed), before a guest reset and at exit. Each dirty
//! block is written with one positioned write from the flash array, so the file always holds
//! every block as the guest left it at some instant between slices: a SIGKILL loses at most the
//! last slice's changes, and firmware's own fault-tolerant write protocols (EDK2's FTW) see the
//! same state as after a power cut on real flash. Exit also syncs the data to disk.

use crate::arm_virt::FLASH_BANK_SIZE;
use crate::virt::VirtConfig;
use crate::Error;
use mimic_core::guest_error;
use mimic_devices::fw_cfg::{key, FwCfg};
use mimic_devices::pflash_cfi01::PflashCfi01;
use mimic_memory::{AddressSpace, Shared};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// One `-drive if=pflash,format=raw,file=F[,readonly=on]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PflashDrive {
    pub file: PathBuf,
    pub read_only: bool,
}

/// An open bank file: its contents, and the handle the guest's changes go to (none when
/// read-only).
pub(crate) struct OpenDrive {
    pub data: Vec<u8>,
    file: Option<File>,
    path: PathBuf,
}

/// Open `d` and read it; it must be exactly one bank (QEMU refuses other sizes too).
pub(crate) fn open_drive(d: &PflashDrive) -> Result<OpenDrive, Error> {
    let read = |source| Error::ReadFile { what: "pflash drive", path: d.file.clone(), source };
    let file = std::fs::OpenOptions::new().read(true).write(!d.read_only).open(&d.file).map_err(read)?;
    let len = file.metadata().map_err(read)?.len();
    if len != FLASH_BANK_SIZE {
        return Err(Error::PflashSize { path: d.file.clone(), len, want: FLASH_BANK_SIZE });
    }
    let mut data = vec![0u8; len as usize];
    file.read_exact_at(&mut data, 0).map_err(read)?;
    Ok(OpenDrive { data, file: (!d.read_only).then_some(file), path: d.file.clone() })
}

/// The writable bank files and the banks whose changes go to them.
#[derive(Default)]
pub(crate) struct FlashFiles {
    /// (bank, guest address of the bank, file)
    banks: Vec<(Shared<PflashCfi01>, u64, OpenDrive)>,
}

impl FlashFiles {
    pub fn add(&mut self, bank: Shared<PflashCfi01>, base: u64, drive: OpenDrive) {
        if drive.file.is_some() {
            self.banks.push((bank, base, drive));
        }
    }

    /// Write the erase blocks the guest changed to their files.
    pub fn write_back(&self, bus: &AddressSpace) {
        for (bank, base, drive) in &self.banks {
            let dirty = bank.lock().unwrap_or_else(|e| e.into_inner()).take_dirty();
            let Some(file) = &drive.file else { continue };
            for r in dirty {
                let mut buf = vec![0u8; r.len()];
                let res = bus
                    .read_bytes(base + r.start as u64, &mut buf)
                    .map_err(|e| std::io::Error::other(e.to_string()))
                    .and_then(|()| file.write_all_at(&buf, r.start as u64));
                if let Err(e) = res {
                    // The host's problem, not the guest's: report it (rate-limited) and go on.
                    guest_error!(
                        "pflash: writing {} bytes at {:#x} to {}: {e}",
                        r.len(),
                        r.start,
                        drive.path.display()
                    );
                }
            }
        }
    }

    /// Write back and make it durable (at exit).
    pub fn sync(&self, bus: &AddressSpace) {
        self.write_back(bus);
        for (_, _, drive) in &self.banks {
            if let Some(f) = &drive.file {
                if let Err(e) = f.sync_data() {
                    eprintln!("mimic: syncing {}: {e}", drive.path.display());
                }
            }
        }
    }
}

/// The fw_cfg device as QEMU's Arm `virt` fills it: CPU count, RAM size, and (when
/// `firmware` boots the machine) `-kernel`, `-initrd`, `-append` for it to boot. It offers
/// the DMA interface, which the bus runs before the store that starts a transfer retires
/// (drivers check the descriptor with a plain load right after it).
pub(crate) fn fw_cfg(cfg: &VirtConfig, firmware: bool) -> Result<FwCfg, Error> {
    let mut f = FwCfg::new(true);
    f.add_item(key::NB_CPUS, (cfg.smp as u16).to_le_bytes().to_vec());
    f.add_item(key::MAX_CPUS, (cfg.smp as u16).to_le_bytes().to_vec());
    f.add_item(key::RAM_SIZE, cfg.ram_size.to_le_bytes().to_vec());
    f.add_item(key::NOGRAPHIC, 1u16.to_le_bytes().to_vec());
    f.add_item(key::BOOT_MENU, 0u16.to_le_bytes().to_vec());
    f.add_item(key::UUID, vec![0; 16]);
    if !firmware {
        return Ok(f);
    }
    let read = |what: &'static str, p: &PathBuf| {
        std::fs::read(p).map_err(|source| Error::ReadFile { what, path: p.clone(), source })
    };
    let kernel = cfg.kernel.as_ref().map(|p| read("kernel", p)).transpose()?;
    let initrd = cfg.initrd.as_ref().map(|p| read("initrd", p)).transpose()?;
    // QEMU hands the command line over only with a kernel.
    let cmdline = cfg.kernel.as_ref().map(|_| cfg.append.as_deref().unwrap_or(""));
    f.add_boot_images(kernel, initrd, cmdline).map_err(|e| Error::BootOptions(e.to_string()))?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file in the test's own directory, removed with it.
    fn temp(dir: &tempfile::TempDir, name: &str, len: u64) -> PathBuf {
        let p = dir.path().join(name);
        let f = File::create(&p).unwrap();
        f.set_len(len).unwrap();
        p
    }

    #[test]
    fn drive_of_the_wrong_size_is_refused_naming_both_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let p = temp(&dir, "small.fd", 768 << 10);
        let e = open_drive(&PflashDrive { file: p, read_only: false }).err().unwrap();
        let msg = e.to_string();
        assert!(msg.contains("786432") && msg.contains("67108864"), "{msg}");
    }

    #[test]
    fn read_only_drive_has_no_file_to_write() {
        let dir = tempfile::tempdir().unwrap();
        let p = temp(&dir, "ro.fd", FLASH_BANK_SIZE);
        let d = open_drive(&PflashDrive { file: p, read_only: true }).unwrap();
        assert!(d.file.is_none());
        assert_eq!(d.data.len() as u64, FLASH_BANK_SIZE);
    }

    #[test]
    fn fw_cfg_carries_kernel_and_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let k = temp(&dir, "kernel", 0);
        std::fs::write(&k, b"IMG").unwrap();
        let cfg = VirtConfig { kernel: Some(k), append: Some("root=x".into()), smp: 2, ..VirtConfig::default() };
        let f = fw_cfg(&cfg, true).unwrap();
        assert_eq!(f.item(key::KERNEL_SIZE), 3u32.to_le_bytes());
        assert_eq!(f.item(key::KERNEL_DATA), b"IMG");
        assert_eq!(f.item(key::CMDLINE_DATA), b"root=x\0");
        assert_eq!(f.item(key::NB_CPUS), [2, 0]);
        assert!(f.item(key::INITRD_SIZE).is_empty());
    }
}
