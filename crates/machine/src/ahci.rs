//! AHCI controllers on the board's PCIe bus (`-device ahci,id=a -device ide-hd,drive=d,bus=a.0`):
//! which disk sits on which port.
//!
//! Like virtio disks, each attached disk gets its own `mimic_block::IoThread` (through
//! [`DiskQueue`]) that rings the machine's [`Doorbell`], and the disks themselves are shared with
//! the configuration so they outlive a machine reset.

use crate::virtio::{DiskQueue, Doorbell, SharedDisk};
use mimic_devices::ahci::{Ahci, Drive, MAX_PORTS};
use std::io;
use std::sync::Arc;

/// A disk on an AHCI port (QEMU's `ide-hd`).
#[derive(Clone)]
pub struct IdeDisk {
    pub disk: SharedDisk,
    /// IDENTIFY DEVICE serial number (20 characters at most).
    pub serial: String,
    /// IDENTIFY DEVICE model number (40 characters at most).
    pub model: String,
}

/// One AHCI HBA: [`MAX_PORTS`] ports, each empty or with a disk.
#[derive(Clone)]
pub struct AhciSpec {
    pub ports: Vec<Option<IdeDisk>>,
}

impl Default for AhciSpec {
    fn default() -> Self {
        AhciSpec { ports: vec![None; MAX_PORTS] }
    }
}

impl std::fmt::Debug for AhciSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let used: Vec<usize> = self.ports.iter().enumerate().filter(|(_, p)| p.is_some()).map(|(i, _)| i).collect();
        write!(f, "ahci (disks on ports {used:?})")
    }
}

impl AhciSpec {
    /// A fresh HBA for a new machine; disk workers ring `bell`.
    pub fn build(&self, bell: &Arc<Doorbell>) -> io::Result<Ahci<DiskQueue>> {
        let drives = self
            .ports
            .iter()
            .map(|p| match p {
                Some(d) => {
                    let q = DiskQueue::new(d.disk.clone(), bell.clone())?;
                    Ok(Some(Drive::new(q, d.serial.clone(), d.model.clone())))
                }
                None => Ok(None),
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Ahci::new(drives))
    }
}
