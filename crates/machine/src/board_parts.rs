//! What every board builds the same way: the per-CPU compilers of the chosen tier, the
//! virtio-mmio slots filled in command-line order, and the PCIe host with its devices and
//! windows. Only the addresses and interrupt lines differ between boards.

use crate::virt::VirtConfig;
use crate::virtio::Doorbell;
use crate::Error;
use mimic_core::{AddrRange, IrqLine};
use mimic_devices::pci::{PciHost, PciWindow, Window};
use mimic_exec::{Guest, TierPolicy};
use mimic_jit::Jit;
use mimic_memory::{AddressSpace, Shared};
use mimic_virtio::VirtioMmio;
use std::sync::{Arc, Mutex};

pub type VirtioSlot<I> = Shared<VirtioMmio<Box<dyn mimic_virtio::VirtioDevice>, I>>;

/// One compiler per CPU (each CPU's blocks are its own) and the hotness threshold, as
/// `-accel tcg,tier=` asks; none for the interpreter, or when `auto` finds no usable JIT.
pub fn jits<G: Guest + 'static>(cfg: &VirtConfig, cpus: usize) -> Result<(Vec<Jit<G>>, u32), Error>
where
    G::Insn: Send + 'static,
{
    let Some(threshold) = cfg.tier.threshold() else { return Ok((Vec::new(), 0)) };
    if cfg.perf_map {
        if let Err(e) = mimic_jit::enable_perf_map() {
            tracing::warn!("-perfmap: cannot write /tmp/perf-<pid>.map: {e}");
        }
    }
    // Auto compiles in the background (the guest interprets meanwhile); `jit` compiles before
    // it runs, so every block runs compiled.
    let made = (0..cpus)
        .map(|_| if cfg.tier == TierPolicy::Auto { Jit::new_background() } else { Jit::new() })
        .collect::<Result<Vec<_>, _>>();
    match made {
        Ok(j) => Ok((j, threshold)),
        Err(e) if cfg.tier == TierPolicy::Auto => {
            tracing::warn!("interpreting only: {e}");
            Ok((Vec::new(), 0))
        }
        Err(e) => Err(Error::Jit(e)),
    }
}

/// `slots` virtio-mmio transports of `size` bytes from `base`, the `-device virtio-*-device`s in
/// command-line order from the first, empty transports after them; `irq(i)` is slot i's line.
pub fn virtio_mmio_slots<I: IrqLine + 'static>(
    bus: &mut AddressSpace,
    cfg: &VirtConfig,
    bell: &Arc<Doorbell>,
    (base, slots, size): (u64, usize, u64),
    mut irq: impl FnMut(usize) -> Result<I, Error>,
) -> Result<Vec<VirtioSlot<I>>, Error> {
    let mut specs = cfg.virtio.iter().filter(|s| !s.pci);
    let mut out = Vec::new();
    for i in 0..slots {
        let line = irq(i)?;
        let t = match specs.next() {
            Some(spec) => VirtioMmio::new(spec.build(bell).map_err(|e| Error::Wiring(format!("{spec:?}: {e}")))?, line),
            None => VirtioMmio::new(Box::new(mimic_virtio::NoDevice) as Box<dyn mimic_virtio::VirtioDevice>, line),
        };
        let t = Arc::new(Mutex::new(t));
        let range = AddrRange::new(base + i as u64 * size, size);
        bus.add_mmio(&format!("virtio{i}"), range, Box::new(t.clone()))?;
        out.push(t);
    }
    if specs.next().is_some() {
        return Err(Error::Wiring(format!("at most {slots} virtio-mmio devices")));
    }
    Ok(out)
}

/// Plug the virtio-pci devices and AHCI controllers into `pci` and map its ECAM, memory and
/// I/O windows.
pub fn pci_devices_and_windows<I: IrqLine + 'static>(
    bus: &mut AddressSpace,
    cfg: &VirtConfig,
    bell: &Arc<Doorbell>,
    pci: &Shared<PciHost<I>>,
    [ecam, mmio, pio]: [AddrRange; 3],
) -> Result<(), Error> {
    let plug = |f: Box<dyn mimic_devices::pci::PciFunction>| {
        pci.lock().unwrap_or_else(|e| e.into_inner()).plug(f).ok_or_else(|| Error::Wiring("PCI bus full".into()))
    };
    for spec in cfg.virtio.iter().filter(|s| s.pci) {
        plug(spec.build_pci(bell).map_err(|e| Error::Wiring(format!("{spec:?}: {e}")))?)?;
    }
    for spec in &cfg.ahci {
        plug(Box::new(spec.build(bell).map_err(|e| Error::Wiring(format!("{spec:?}: {e}")))?))?;
    }
    for (name, range, window) in [
        ("pcie_ecam", ecam, Window::Ecam),
        ("pcie_mmio", mmio, Window::Mmio { base: mmio.start }),
        ("pcie_pio", pio, Window::Pio { base: pio.start }),
    ] {
        bus.add_mmio(name, range, Box::new(PciWindow { host: pci.clone(), window }))?;
    }
    Ok(())
}
