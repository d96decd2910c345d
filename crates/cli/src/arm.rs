//! The AArch64 `virt` board from the command line: which `-cpu` selects it, and its run loop
//! with the serial console. The monitors and the debugger are not wired to it yet.

use crate::args::{CpuChoice, Options};
use crate::{console, devices, error_chain};
use mimic_machine::{ArmCpuModel, ArmVirtMachine, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The Arm CPU model `-cpu` asks for, if it is one: `cortex-a57`, or `max` with an arm64 kernel.
pub fn board_model(o: &Options) -> Result<Option<ArmCpuModel>, String> {
    Ok(match o.cpu {
        CpuChoice::Rv64 => None,
        CpuChoice::CortexA57 => Some(ArmCpuModel::CortexA57),
        CpuChoice::Max => match &o.config.kernel {
            Some(k) if is_arm64_image(k)? => Some(ArmCpuModel::Max { pauth: !o.pauth_off }),
            _ => None,
        },
    })
}

/// Whether `path` is an arm64 Linux `Image` or an AArch64 ELF.
fn is_arm64_image(path: &std::path::Path) -> Result<bool, String> {
    use std::io::Read;
    let mut head = [0u8; 0x40];
    let mut f = std::fs::File::open(path).map_err(|e| format!("-kernel {}: {e}", path.display()))?;
    let n = f.read(&mut head).map_err(|e| format!("-kernel {}: {e}", path.display()))?;
    const EM_AARCH64: u16 = 183;
    Ok(n == head.len()
        && (&head[0x38..0x3c] == b"ARM\x64"
            || (head.starts_with(b"\x7fELF") && u16::from_le_bytes([head[18], head[19]]) == EM_AARCH64)))
}

pub fn run(o: &Options, model: ArmCpuModel) -> Result<u8, String> {
    let unsupported = [
        (o.gdb.is_some(), "-gdb"),
        (!o.qmp.is_empty() || !o.mons.is_empty(), "-qmp/-mon"),
        (o.monitor.is_some(), "-monitor"),
        (o.config.start_paused, "-S"),
    ];
    if let Some((_, name)) = unsupported.iter().find(|(on, _)| *on) {
        return Err(format!("{name} is not supported on the AArch64 virt board yet"));
    }
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
    let mut m = ArmVirtMachine::new(&cfg, model, Box::new(std::io::stdout())).map_err(|e| error_chain(&e))?;
    let _raw = console::RawTerminal::enable();
    let quit = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    console::spawn_stdin(Box::new(move |bytes| tx.send(bytes).is_ok()), quit.clone(), None, false);
    loop {
        let exit = m.run(Some(&rx), &quit);
        m.sync_flash();
        match exit {
            ExitStatus::PowerOff(status) => return Ok(status.clamp(0, 255) as u8),
            ExitStatus::Quit => {
                if quit.load(Ordering::Acquire) {
                    eprint!("\r\nmimic: terminated by C-a x\r\n");
                }
                return Ok(0);
            }
            ExitStatus::Reset => {
                let old = m;
                m = ArmVirtMachine::new(&cfg, model, Box::new(std::io::stdout())).map_err(|e| error_chain(&e))?;
                m.keep_flash_from(&old);
            }
        }
    }
}
