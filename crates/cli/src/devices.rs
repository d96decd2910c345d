//! `-drive`, `-netdev` and `-device` (and `-nic`) into the machine's devices (virtio, e1000)
//! and AHCI controllers, with QEMU's spellings: backends are named by `id=` and front ends refer
//! to them; an `ide-hd` names its controller port as `bus=ID.PORT`.

use crate::args::Options;
use mimic_block::{DriveOptions, Format, Interface};
use mimic_machine::ahci::{AhciSpec, IdeDisk};
use mimic_machine::virtio::{ConsolePort, Frontend, SharedDisk, SharedNet, VirtioSpec};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Key/value properties of a `-device DRIVER,k=v,...`.
fn props(spec: &str) -> (String, HashMap<String, String>) {
    let mut parts = spec.split(',');
    let driver = parts.next().unwrap_or_default().to_string();
    let map = parts.filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    (driver, map)
}

/// QEMU's default MAC for the n-th NIC: 52:54:00:12:34:56 + n.
fn default_mac(n: usize) -> [u8; 6] {
    [0x52, 0x54, 0x00, 0x12, 0x34, 0x56u8.wrapping_add(n as u8)]
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let v: Vec<u8> = s.split(':').filter_map(|b| u8::from_str_radix(b, 16).ok()).collect();
    v.try_into().ok()
}

/// What the command line puts on the board besides the fixed devices.
#[derive(Debug, Default)]
pub struct Devices {
    pub virtio: Vec<VirtioSpec>,
    pub ahci: Vec<AhciSpec>,
    /// Every `-drive`, for the monitor's `query-block`.
    pub drives: Vec<mimic_monitor::BlockInfo>,
    /// `-drive if=pflash` by unit (the Arm board's flash banks).
    pub pflash: [Option<mimic_machine::PflashDrive>; 2],
}

/// A `-drive if=pflash`: raw files only (the bank maps the file's bytes), unit 0 or 1, by
/// default the next free one.
fn pflash_drive(
    d: &str,
    opts: &DriveOptions,
    banks: &mut [Option<mimic_machine::PflashDrive>; 2],
) -> Result<(), String> {
    if opts.format.is_some_and(|f| f != Format::Raw) || opts.snapshot {
        return Err(format!("-drive {d}: a pflash drive must be format=raw (without snapshot=on)"));
    }
    let unit = match opts.unit.or(opts.index) {
        Some(u) => u as usize,
        None => banks.iter().position(Option::is_none).unwrap_or(banks.len()),
    };
    let slot =
        banks.get_mut(unit).ok_or_else(|| format!("-drive {d}: the machine has two flash banks (unit 0 and 1)"))?;
    if slot.is_some() {
        return Err(format!("-drive {d}: flash bank {unit} is already given"));
    }
    *slot = Some(mimic_machine::PflashDrive { file: opts.file.clone(), read_only: opts.read_only });
    Ok(())
}

/// Reject properties a driver does not have, as QEMU does.
fn check_props(dev: &str, p: &HashMap<String, String>, known: &[&str]) -> Result<(), String> {
    let mut unknown: Vec<&String> = p.keys().filter(|k| !known.contains(&k.as_str())).collect();
    unknown.sort();
    match unknown.first() {
        Some(k) => Err(format!("-device {dev}: unknown property '{k}' (known: {})", known.join(", "))),
        None => Ok(()),
    }
}

/// The AHCI controllers (by `id`) and the port an `ide-hd` goes to.
#[derive(Default)]
struct AhciBuses {
    ids: Vec<Option<String>>,
    specs: Vec<AhciSpec>,
}

impl AhciBuses {
    fn add(&mut self, dev: &str, p: &HashMap<String, String>) -> Result<(), String> {
        check_props(dev, p, &["id"])?;
        if let Some(id) = p.get("id") {
            if self.ids.iter().flatten().any(|i| i == id) {
                return Err(format!("-device {dev}: duplicate id={id}"));
            }
        }
        self.ids.push(p.get("id").cloned());
        self.specs.push(AhciSpec::default());
        Ok(())
    }

    /// Put `disk` on the port `bus=ID.N` names, or the first free port of any controller.
    fn attach(&mut self, dev: &str, bus: Option<&String>, disk: IdeDisk) -> Result<(), String> {
        let (hba, port) = match bus {
            Some(b) => {
                let (id, n) =
                    b.rsplit_once('.').ok_or_else(|| format!("-device {dev}: bus={b} is not of the form ID.PORT"))?;
                let hba = self.ids.iter().position(|i| i.as_deref() == Some(id)).ok_or_else(|| {
                    format!("-device {dev}: no AHCI controller with id={id} (add -device ahci,id={id} first)")
                })?;
                let ports = self.specs[hba].ports.len();
                let port = n.parse::<usize>().ok().filter(|&n| n < ports).ok_or_else(|| {
                    format!("-device {dev}: bus={b}: an AHCI controller has ports {id}.0 to {id}.{}", ports - 1)
                })?;
                if self.specs[hba].ports[port].is_some() {
                    return Err(format!("-device {dev}: bus={b} already has a disk"));
                }
                (hba, port)
            }
            None => self
                .specs
                .iter()
                .enumerate()
                .find_map(|(h, s)| s.ports.iter().position(Option::is_none).map(|p| (h, p)))
                .ok_or_else(|| format!("-device {dev}: no free AHCI port (add -device ahci,id=ID and bus=ID.PORT)"))?,
        };
        self.specs[hba].ports[port] = Some(disk);
        Ok(())
    }
}

pub fn build(o: &Options) -> Result<Devices, String> {
    let mut drives: HashMap<String, SharedDisk> = HashMap::new();
    let mut infos = Vec::new();
    let mut specs = Vec::new();
    let mut pflash = [None, None];
    for d in &o.drives {
        let opts = DriveOptions::parse_drive(d).map_err(|e| format!("-drive {d}: {e}"))?;
        if opts.interface == Some(Interface::Pflash) {
            pflash_drive(d, &opts, &mut pflash)?;
            continue;
        }
        let disk = mimic_block::open(&opts).map_err(|e| format!("-drive {d}: {e}"))?;
        for w in disk.warnings() {
            eprintln!("mimic: warning: {w}");
        }
        // QEMU names an `if=none` drive by its id and a board disk by interface and index.
        let name = opts.id.clone().unwrap_or_else(|| format!("virtio{}", infos.len()));
        infos.push(mimic_monitor::BlockInfo {
            device: name,
            removable: false,
            locked: false,
            file: Some((opts.file.display().to_string(), disk.format().to_string())),
            read_only: opts.read_only,
        });
        let shared = SharedDisk(Arc::new(Mutex::new(disk)));
        match opts.interface {
            Some(Interface::None) => {
                let id = opts.id.clone().ok_or_else(|| format!("-drive {d}: if=none needs an id="))?;
                drives.insert(id, shared);
            }
            // `if=virtio` (and the board default) is a virtio disk on PCI, as QEMU's virt does.
            Some(Interface::Virtio) | None => {
                specs.push(VirtioSpec { frontend: Frontend::Blk { disk: shared, serial: String::new() }, pci: true })
            }
            Some(other) => {
                return Err(format!(
                    "-drive {d}: if={other:?} is not supported on this machine (use if=virtio or if=none)"
                ))
            }
        }
    }
    let mut netdevs: HashMap<String, SharedNet> = HashMap::new();
    for nd in &o.netdevs {
        let opts = mimic_net::parse_netdev(nd).map_err(|e| format!("-netdev {nd}: {e}"))?;
        let id = opts.id().to_string();
        let backend = mimic_net::open(&opts).map_err(|e| format!("-netdev {nd}: {e}"))?;
        netdevs.insert(id, SharedNet(Arc::new(Mutex::new(backend))));
    }
    let mut nics = 0;
    let mut ahci = AhciBuses::default();
    let mut ide_disks = 0;
    // The virtio-serial bus a `virtconsole` attaches to (the last one), and whether it has one.
    let mut serial_bus: Option<(usize, bool)> = None;
    for dev in &o.devices {
        let (driver, p) = props(dev);
        if driver == "virtconsole" {
            let (index, taken) = serial_bus
                .as_mut()
                .ok_or_else(|| format!("-device {dev}: no virtio-serial bus (add -device virtio-serial-pci first)"))?;
            if *taken {
                return Err(format!("-device {dev}: only one virtconsole per virtio-serial device is supported"));
            }
            let id = p.get("chardev").ok_or_else(|| format!("-device {dev}: chardev= is required"))?;
            let spec = o
                .chardevs
                .iter()
                .find(|(cid, _)| cid == id)
                .map(|(_, s)| s)
                .ok_or_else(|| format!("-device {dev}: no -chardev with id '{id}'"))?;
            specs[*index].frontend = Frontend::Console(crate::chardev::open_port(spec)?);
            *taken = true;
            continue;
        }
        match driver.as_str() {
            "ahci" | "ich9-ahci" => {
                ahci.add(dev, &p)?;
                continue;
            }
            "ide-hd" => {
                check_props(dev, &p, &["drive", "bus", "serial", "model"])?;
                let id = p.get("drive").ok_or_else(|| format!("-device {dev}: drive= is required"))?;
                let disk = drives
                    .remove(id)
                    .ok_or_else(|| format!("-device {dev}: no -drive with id={id} (or it is used twice)"))?;
                // QEMU's default serial is "QM" and the drive's number; ours says whose it is.
                let serial = p.get("serial").cloned().unwrap_or_else(|| format!("MM{ide_disks:05}"));
                let model = p.get("model").cloned().unwrap_or_else(|| "MIMIC HARDDISK".into());
                ide_disks += 1;
                ahci.attach(dev, p.get("bus"), IdeDisk { disk, serial, model })?;
                continue;
            }
            _ => {}
        }
        let (kind, pci) = match driver.as_str() {
            "virtio-blk-device" => ("blk", false),
            "virtio-blk-pci" | "virtio-blk" => ("blk", true),
            "virtio-net-device" => ("net", false),
            "virtio-net-pci" | "virtio-net" => ("net", true),
            "virtio-rng-device" => ("rng", false),
            "virtio-rng-pci" | "virtio-rng" => ("rng", true),
            "virtio-serial-device" => ("serial", false),
            "virtio-serial-pci" | "virtio-serial" => ("serial", true),
            "e1000" | "e1000-82540em" => ("e1000", true),
            _ => {
                return Err(format!(
                    "-device {dev}: unsupported device '{driver}' (virtio-blk/net/rng/serial-device or -pci, virtconsole, e1000, ahci, ide-hd)"
                ))
            }
        };
        // Properties QEMU has for every such device that change nothing here are accepted, so
        // command lines written for QEMU keep working; anything else is a typo or unsupported.
        let mut known = vec!["id", "bus", "addr", "bootindex", "romfile", "multifunction"];
        known.extend_from_slice(match kind {
            "blk" => &["drive", "serial"][..],
            "net" | "e1000" => &["netdev", "mac"],
            _ => &[],
        });
        check_props(dev, &p, &known)?;
        let frontend = match kind {
            "blk" => {
                let id = p.get("drive").ok_or_else(|| format!("-device {dev}: drive= is required"))?;
                let disk = drives
                    .remove(id)
                    .ok_or_else(|| format!("-device {dev}: no -drive with id={id} (or it is used twice)"))?;
                Frontend::Blk { disk, serial: p.get("serial").cloned().unwrap_or_default() }
            }
            "net" | "e1000" => {
                let id = p.get("netdev").ok_or_else(|| format!("-device {dev}: netdev= is required"))?;
                let backend = netdevs
                    .remove(id)
                    .ok_or_else(|| format!("-device {dev}: no -netdev with id={id} (or it is used twice)"))?;
                let mac = match p.get("mac") {
                    Some(m) => parse_mac(m).ok_or_else(|| format!("-device {dev}: bad mac={m}"))?,
                    None => default_mac(nics),
                };
                nics += 1;
                if kind == "e1000" {
                    Frontend::E1000 { backend, mac }
                } else {
                    Frontend::Net { backend, mac }
                }
            }
            "serial" => {
                serial_bus = Some((specs.len(), false));
                Frontend::Console(ConsolePort::null())
            }
            _ => Frontend::Rng,
        };
        specs.push(VirtioSpec { frontend, pci });
    }
    if let Some(id) = drives.keys().next() {
        return Err(format!("-drive id={id}: no -device uses it"));
    }
    if let Some(id) = netdevs.keys().next() {
        return Err(format!("-netdev id={id}: no -device uses it"));
    }
    Ok(Devices { virtio: specs, ahci: ahci.specs, drives: infos, pflash })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_properties_split() {
        let (d, p) = props("virtio-blk-device,drive=d0,serial=abc");
        assert_eq!(d, "virtio-blk-device");
        assert_eq!(p["drive"], "d0");
        assert_eq!(p["serial"], "abc");
    }

    #[test]
    fn mac_parses_and_rejects_garbage() {
        assert_eq!(parse_mac("52:54:00:12:34:57"), Some([0x52, 0x54, 0, 0x12, 0x34, 0x57]));
        assert_eq!(parse_mac("52:54:00"), None);
    }

    #[test]
    fn unknown_device_is_an_error() {
        let o = Options { devices: vec!["rtl8139,netdev=n0".into()], ..Default::default() };
        assert!(build(&o).unwrap_err().contains("unsupported device 'rtl8139'"));
    }

    #[test]
    fn unknown_virtio_property_is_an_error() {
        let o = Options { devices: vec!["virtio-rng-pci,sreial=x".into()], ..Default::default() };
        let e = build(&o).unwrap_err();
        assert!(e.contains("unknown property 'sreial'"), "{e}");
    }

    #[test]
    fn qemu_placement_properties_are_accepted() {
        let o = Options { devices: vec!["virtio-rng-pci,id=rng0,bus=pcie.0,addr=0x3".into()], ..Default::default() };
        assert_eq!(build(&o).unwrap().virtio.len(), 1);
    }

    #[test]
    fn drives_are_listed_for_query_block_by_id_and_probed_format() {
        let img = std::env::temp_dir().join(format!("mimic-qb-{}.raw", std::process::id()));
        std::fs::write(&img, vec![0u8; 1 << 20]).unwrap();
        let o = Options {
            drives: vec![format!("if=none,id=d0,file={},readonly=on", img.display())],
            devices: vec!["virtio-blk-device,drive=d0".into()],
            ..Default::default()
        };
        let d = build(&o).unwrap();
        let _ = std::fs::remove_file(&img);
        assert_eq!(d.drives.len(), 1);
        assert_eq!(d.drives[0].device, "d0");
        assert_eq!(d.drives[0].file, Some((img.display().to_string(), "raw".into())));
        assert!(d.drives[0].read_only);
    }

    #[test]
    fn e1000_without_netdev_is_an_error() {
        let o = Options { devices: vec!["e1000".into()], ..Default::default() };
        assert!(build(&o).unwrap_err().contains("netdev= is required"));
    }

    #[test]
    fn virtconsole_without_serial_bus_is_an_error() {
        let o = Options {
            chardevs: vec![("c0".into(), "null,id=c0".into())],
            devices: vec!["virtconsole,chardev=c0".into()],
            ..Default::default()
        };
        assert!(build(&o).unwrap_err().contains("no virtio-serial bus"));
    }

    #[test]
    fn second_virtconsole_on_one_bus_is_an_error() {
        let o = Options {
            chardevs: vec![("c0".into(), "null,id=c0".into()), ("c1".into(), "null,id=c1".into())],
            devices: vec!["virtio-serial-pci".into(), "virtconsole,chardev=c0".into(), "virtconsole,chardev=c1".into()],
            ..Default::default()
        };
        assert!(build(&o).unwrap_err().contains("only one virtconsole"));
    }

    #[test]
    fn virtconsole_with_unknown_chardev_is_an_error() {
        let o = Options {
            devices: vec!["virtio-serial-device".into(), "virtconsole,chardev=x".into()],
            ..Default::default()
        };
        assert!(build(&o).unwrap_err().contains("no -chardev with id 'x'"));
    }

    fn scratch_drive(name: &str) -> (std::path::PathBuf, String) {
        let dir = std::env::temp_dir().join(format!("mimic-dev-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let img = dir.join("d.img");
        std::fs::write(&img, vec![0u8; 1 << 20]).unwrap();
        let spec = format!("file={},format=raw,if=none,id=d0", img.display());
        (dir, spec)
    }

    #[test]
    fn ide_hd_goes_to_the_named_ahci_port() {
        let (dir, drive) = scratch_drive("ahci");
        let o = Options {
            drives: vec![drive],
            devices: vec!["ahci,id=a".into(), "ide-hd,drive=d0,bus=a.3,serial=S1".into()],
            ..Default::default()
        };
        let d = build(&o).unwrap();
        assert_eq!(d.ahci.len(), 1);
        let used: Vec<usize> =
            d.ahci[0].ports.iter().enumerate().filter(|(_, p)| p.is_some()).map(|(i, _)| i).collect();
        assert_eq!(used, vec![3]);
        assert_eq!(d.ahci[0].ports[3].as_ref().unwrap().serial, "S1");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn ide_hd_errors_are_one_line() {
        let (dir, drive) = scratch_drive("ahci-err");
        for (devices, want) in [
            (vec!["ahci,id=a", "ide-hd,drive=d0,bus=b.0"], "no AHCI controller with id=b"),
            (vec!["ahci,id=a", "ide-hd,drive=d0,bus=a.6"], "ports a.0 to a.5"),
            (vec!["ahci,id=a", "ide-hd,drive=d0,bus=a.0,speed=9"], "unknown property 'speed'"),
            (vec!["ahci,id=a,bogus=1"], "unknown property 'bogus'"),
            (vec!["ahci,id=a", "ide-hd,drive=nope,bus=a.0"], "no -drive with id=nope"),
            (vec!["ide-hd,drive=d0"], "no free AHCI port"),
        ] {
            let o = Options {
                drives: vec![drive.clone()],
                devices: devices.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            };
            let err = build(&o).unwrap_err();
            assert!(err.contains(want) && !err.contains('\n'), "{devices:?}: {err}");
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn drive_without_device_is_an_error() {
        let dir = std::env::temp_dir().join(format!("mimic-dev-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let img = dir.join("d.img");
        std::fs::write(&img, vec![0u8; 1 << 20]).unwrap();
        let o =
            Options { drives: vec![format!("file={},format=raw,if=none,id=d0", img.display())], ..Default::default() };
        assert!(build(&o).unwrap_err().contains("no -device uses it"));
        std::fs::remove_dir_all(dir).ok();
    }
}
