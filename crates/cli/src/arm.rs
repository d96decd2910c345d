//! The AArch64 `virt` board from the command line: which `-cpu` selects it, and how it is built
//! (and rebuilt on reset); it runs with the same console and monitors as the RISC-V board.

use crate::args::{CpuChoice, Options};
use crate::{devices, error_chain};
use mimic_block::{DriveOptions, Interface};
use mimic_machine::{ArmCpuModel, ArmVirtMachine, Bios, VirtConfig};

/// The Arm CPU model `-cpu` asks for, if it is one: `cortex-a57`, or `max` when the rest of
/// the command line is for the Arm board ([`max_is_arm`]).
pub fn board_model(o: &Options) -> Result<Option<ArmCpuModel>, String> {
    Ok(match o.cpu {
        CpuChoice::Rv64 => None,
        CpuChoice::CortexA57 => Some(ArmCpuModel::CortexA57),
        CpuChoice::Max => max_is_arm(o)?.then_some(ArmCpuModel::Max { pauth: !o.pauth_off }),
    })
}

/// `-cpu max` names no architecture (QEMU has one binary per target instead). It is the Arm
/// board's when mimic runs under an AArch64 name (`mimic-system-aarch64`, a link named like
/// QEMU's binary), or when something only that board runs is given: an arm64 `-kernel`, an
/// AArch64 ELF `-bios`, or flash banks (`-drive if=pflash`). Otherwise it is RISC-V's.
fn max_is_arm(o: &Options) -> Result<bool, String> {
    let program = std::env::args_os().next().unwrap_or_default();
    let name = std::path::Path::new(&program).file_name().unwrap_or_default().to_string_lossy().into_owned();
    if name.contains("aarch64") || name.contains("arm64") {
        return Ok(true);
    }
    if let Some(k) = &o.config.kernel {
        return is_arm64_image(k, "-kernel");
    }
    if let Bios::File(f) = &o.config.bios {
        if is_arm64_image(f, "-bios")? {
            return Ok(true);
        }
    }
    // A malformed -drive is reported when the devices are built.
    Ok(o.drives
        .iter()
        .any(|d| DriveOptions::parse_drive(d).is_ok_and(|opts| opts.interface == Some(Interface::Pflash))))
}

/// Whether `path` (given as `option`) is an arm64 Linux `Image` or an AArch64 ELF.
fn is_arm64_image(path: &std::path::Path, option: &str) -> Result<bool, String> {
    use std::io::Read;
    let mut head = [0u8; 0x40];
    let mut f = std::fs::File::open(path).map_err(|e| format!("{option} {}: {e}", path.display()))?;
    let n = f.read(&mut head).map_err(|e| format!("{option} {}: {e}", path.display()))?;
    const EM_AARCH64: u16 = 183;
    Ok(n == head.len()
        && (&head[0x38..0x3c] == b"ARM\x64"
            || (head.starts_with(b"\x7fELF") && u16::from_le_bytes([head[18], head[19]]) == EM_AARCH64)))
}

pub fn run(o: &Options, model: ArmCpuModel) -> Result<u8, String> {
    let mut cfg = o.config.clone();
    let devices = devices::build(o)?;
    cfg.virtio = devices.virtio;
    cfg.ahci = devices.ahci;
    cfg.pflash = devices.pflash;
    if let Some(path) = &o.dumpdtb {
        let m = ArmVirtMachine::new(&cfg, model, Box::new(std::io::sink())).map_err(|e| error_chain(&e))?;
        std::fs::write(path, m.dtb()).map_err(|e| format!("dumpdtb={}: {e}", path.display()))?;
        return Ok(0);
    }
    let build = |cfg: &VirtConfig, old: Option<&ArmVirtMachine>| {
        let mut m = ArmVirtMachine::new(cfg, model, Box::new(std::io::stdout())).map_err(|e| error_chain(&e))?;
        if let Some(old) = old {
            m.keep_flash_from(old);
        }
        Ok(m)
    };
    crate::run_machine(o, cfg, devices.drives, build)
}
