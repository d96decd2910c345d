//! QEMU-compatible argument parsing: single-dash long options (`-machine virt`), `key=value`
//! lists, and QEMU's memory size syntax.

use mimic_exec::{LogFlags, TierPolicy};
use mimic_machine::{Bios, VirtConfig};
use std::path::PathBuf;

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Run(Box<Options>),
    Help,
    Version,
}

#[derive(Debug, Default)]
pub struct Options {
    pub config: VirtConfig,
    pub dumpdtb: Option<PathBuf>,
    /// `-d` items other than the CPU loop's own (`int`, `guest_errors`).
    pub log_int: bool,
    pub log_guest_errors: bool,
    pub logfile: Option<PathBuf>,
    /// `-qmp SPEC` (repeatable), and QMP monitors given as `-chardev` + `-mon mode=control`.
    pub qmp: Vec<String>,
    /// `-chardev socket,id=ID,...` specs by id.
    pub chardevs: Vec<(String, String)>,
    /// `-mon chardev=ID[,mode=control|readline]`.
    pub mons: Vec<(String, bool)>,
    /// `-monitor stdio` (HMP on the terminal) or another chardev spec.
    pub monitor: Option<String>,
    /// `-gdb SPEC` / `-s`.
    pub gdb: Option<String>,
    pub name: Option<String>,
    /// `-drive` specs (block backends), `-device` specs (front ends), `-netdev` specs.
    pub drives: Vec<String>,
    pub devices: Vec<String>,
    pub netdevs: Vec<String>,
    /// `-cpu`: which CPU, and with it which architecture's `virt` board.
    pub cpu: CpuChoice,
    /// `-cpu max,pauth=off` (pointer authentication is on unless turned off).
    pub pauth_off: bool,
}

/// The `-cpu` model. `max` exists for both architectures; the kernel image decides.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum CpuChoice {
    #[default]
    Rv64,
    CortexA57,
    Max,
}

/// A command-line problem, worded as QEMU words it: `-option: what is wrong`.
#[derive(Debug, PartialEq, Eq)]
pub struct ArgError(pub String);

impl std::fmt::Display for ArgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub const HELP: &str = "\
usage: mimic [options]

mimic emulates a RISC-V 64 or an AArch64 `virt` machine (QEMU-compatible options).

Machine:
  -M, -machine virt[,dumpdtb=FILE][,gic-version=2|3|max][,virtualization=on|off][,secure=on|off]
                      select the board (only `virt`); dumpdtb writes the device tree and exits;
                      gic-version picks the AArch64 board's GIC (default 2; max is 3);
                      virtualization=on gives the AArch64 CPUs EL2 and boots the kernel there;
                      secure=on gives them EL3 (firmware starts there in Secure state) with
                      secure-only RAM, flash bank 0 and a second PL011
  -m SIZE             guest RAM, e.g. 128M, 2G (a plain number means MiB; default 128M)
  -smp N              number of harts (1..8; default 1)
  -cpu rv64|cortex-a57|max
                      CPU model: rv64 (RV64GC + Zba/Zbb/Zbs/Zicond/Sstc, the default) or
                      cortex-a57 (the AArch64 virt board: GICv2/v3, PL011, PL031, PSCI); max is
                      the largest of the architecture the command line is for: AArch64 with an
                      arm64 -kernel, an AArch64 ELF -bios, pflash drives, or when run as
                      mimic-system-aarch64 (a link); RISC-V otherwise

Boot:
  -bios none|default|FILE
                      firmware: none (jump straight to -kernel), default (OpenSBI), or a file
  -kernel FILE        kernel or bare-metal program (ELF or raw binary)
  -initrd FILE        initial ramdisk
  -append STRING      kernel command line
  -dtb FILE           pass this device tree instead of the generated one

Console and display:
  -nographic          no display; the serial port is on stdio (the only mode)
  -serial stdio       serial port 0 on stdio (the default)

Management:
  -qmp unix:PATH,server,wait=off | tcp:HOST:PORT,server,wait=off
                      QMP (JSON) monitor on a socket; repeatable
  -chardev socket,id=ID,path=PATH|host=H,port=P,server=on,wait=off
  -mon chardev=ID,mode=control|readline
                      a QMP (control) or HMP (readline) monitor on that socket
  -monitor stdio      the HMP monitor on the terminal (with -nographic, C-a c switches to it)
  -name NAME          the guest's name (query-name)
  -S                  start with the harts stopped (cont or a debugger starts them)
  -gdb tcp::PORT      wait for a GDB connection on PORT;  -s is -gdb tcp::1234

Execution:
  -accel tcg[,tier=interp|jit|auto]   auto (default) interprets cold code and compiles hot
                      blocks to host code; jit compiles every block; interp never compiles

Debugging:
  -d ITEM,...         log: in_asm (translated code), exec (blocks executed), int (traps and
                      interrupts), guest_errors (unimplemented or invalid device accesses)
  -D FILE             write the log to FILE instead of stderr
  -perfmap            name compiled code for perf in /tmp/perf-<pid>.map

Devices:
  -drive file=F,format=raw|qcow2,if=none,id=ID[,readonly=on][,snapshot=on][,cache=MODE]
  -device virtio-blk-device,drive=ID | virtio-net-device,netdev=ID | virtio-rng-device
  -netdev user,id=ID[,hostfwd=tcp::HOSTPORT-:GUESTPORT]...   user-mode networking
  -device e1000,netdev=ID[,mac=..]    an Intel 82540EM network card on PCI
  -nic user[,model=virtio-net-device|virtio-net-pci|e1000][,hostfwd=...]   netdev + device in one
  -device virtio-serial-device|virtio-serial-pci -device virtconsole,chardev=ID
                      a virtio console (/dev/hvc0) on -chardev null|stdio|file,path=F|socket,...
  -device ahci,id=A -device ide-hd,drive=ID,bus=A.PORT[,serial=S][,model=M]
                      an AHCI SATA controller (ICH9, 6 ports) on PCIe with a disk on a port

Accepted for compatibility and ignored: -nic none, -net none, -no-reboot.

  -h, --help          show this help and exit
  -version, --version show the version and exit

The guest's exit status (from the test finisher or power-off) becomes mimic's exit status.
";

/// Parse QEMU's size syntax: a number with an optional K/M/G/T suffix; no suffix means MiB.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1u64 << 10),
        'm' | 'M' => (&s[..s.len() - 1], 1 << 20),
        'g' | 'G' => (&s[..s.len() - 1], 1 << 30),
        't' | 'T' => (&s[..s.len() - 1], 1 << 40),
        'b' | 'B' => (&s[..s.len() - 1], 1),
        _ => (s, 1 << 20),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

fn value<'a>(opt: &str, it: &mut impl Iterator<Item = &'a String>) -> Result<&'a String, ArgError> {
    it.next().ok_or_else(|| ArgError(format!("{opt}: requires an argument")))
}

pub fn parse(args: &[String]) -> Result<Command, ArgError> {
    let mut o = Options::default();
    let mut log = LogFlags::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        // QEMU accepts `--opt` as `-opt`.
        let opt = arg.strip_prefix("--").map(|s| format!("-{s}")).unwrap_or_else(|| arg.clone());
        match opt.as_str() {
            "-h" | "-help" => return Ok(Command::Help),
            "-version" => return Ok(Command::Version),
            "-M" | "-machine" => {
                let v = value(&opt, &mut it)?;
                let mut parts = v.split(',');
                let first = parts.next().unwrap_or("");
                let mut rest: Vec<&str> = parts.collect();
                if let Some(t) = first.strip_prefix("type=") {
                    check_machine(t)?;
                } else if first.contains('=') {
                    rest.insert(0, first);
                } else {
                    check_machine(first)?;
                }
                for kv in rest {
                    match kv.split_once('=') {
                        Some(("dumpdtb", f)) => o.dumpdtb = Some(f.into()),
                        Some(("type", t)) => check_machine(t)?,
                        Some(("gic-version", g)) => {
                            o.config.gic_version = mimic_machine::GicVersion::parse(g).ok_or_else(|| {
                                ArgError(format!("-machine {v}: unsupported gic-version '{g}' (use 2, 3 or max)"))
                            })?;
                        }
                        Some(("virtualization", b)) => {
                            o.config.virtualization = on_off(b).ok_or_else(|| {
                                ArgError(format!("-machine {v}: invalid virtualization value '{b}' (use on or off)"))
                            })?;
                        }
                        Some(("secure", b)) => {
                            o.config.secure = on_off(b).ok_or_else(|| {
                                ArgError(format!("-machine {v}: invalid secure value '{b}' (use on or off)"))
                            })?;
                        }
                        _ => return Err(ArgError(format!("-machine {v}: unsupported machine property '{kv}'"))),
                    }
                }
            }
            "-m" => {
                let v = value(&opt, &mut it)?;
                let s = v.strip_prefix("size=").unwrap_or(v);
                o.config.ram_size = parse_size(s).ok_or_else(|| ArgError(format!("-m {v}: invalid RAM size")))?;
            }
            "-smp" => {
                let v = value(&opt, &mut it)?;
                let n = v.split(',').find_map(|p| p.strip_prefix("cpus=").or((!p.contains('=')).then_some(p)));
                o.config.smp = n
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| ArgError(format!("-smp {v}: invalid number of CPUs")))?;
            }
            "-cpu" => {
                let v = value(&opt, &mut it)?;
                let mut props = v.split(',');
                o.cpu = match props.next().unwrap_or("") {
                    "rv64" => CpuChoice::Rv64,
                    "cortex-a57" => CpuChoice::CortexA57,
                    "max" => CpuChoice::Max,
                    _ => {
                        return Err(ArgError(format!("-cpu {v}: unsupported CPU model (use rv64, cortex-a57 or max)")))
                    }
                };
                for p in props {
                    o.pauth_off = match (o.cpu, p) {
                        (CpuChoice::Max, "pauth=on") => false,
                        (CpuChoice::Max, "pauth=off") => true,
                        _ => return Err(ArgError(format!("-cpu {v}: unsupported property '{p}'"))),
                    };
                }
            }
            "-bios" => {
                let v = value(&opt, &mut it)?;
                o.config.bios = match v.as_str() {
                    "none" => Bios::None,
                    "default" => Bios::Default,
                    f => Bios::File(f.into()),
                };
            }
            "-kernel" => o.config.kernel = Some(value(&opt, &mut it)?.into()),
            "-initrd" => o.config.initrd = Some(value(&opt, &mut it)?.into()),
            "-append" => o.config.append = Some(value(&opt, &mut it)?.clone()),
            "-dtb" => o.config.dtb = Some(value(&opt, &mut it)?.into()),
            "-nographic" | "-no-reboot" => {}
            "-S" => o.config.start_paused = true,
            "-s" => o.gdb = Some("tcp::1234".into()),
            "-gdb" => o.gdb = Some(value(&opt, &mut it)?.clone()),
            "-qmp" => o.qmp.push(value(&opt, &mut it)?.clone()),
            "-monitor" => o.monitor = Some(value(&opt, &mut it)?.clone()),
            "-name" => {
                let v = value(&opt, &mut it)?;
                let name = v.split(',').find_map(|p| p.strip_prefix("guest=").or((!p.contains('=')).then_some(p)));
                o.name = name.map(String::from);
            }
            "-chardev" => {
                let v = value(&opt, &mut it)?;
                let id = v
                    .split(',')
                    .find_map(|p| p.strip_prefix("id="))
                    .ok_or_else(|| ArgError(format!("-chardev {v}: an id= is required")))?;
                o.chardevs.push((id.to_string(), v.clone()));
            }
            "-mon" => {
                let v = value(&opt, &mut it)?;
                let mut chardev = None;
                let mut control = false;
                for p in v.split(',') {
                    match p.split_once('=') {
                        Some(("chardev", c)) => chardev = Some(c.to_string()),
                        Some(("mode", "control")) => control = true,
                        Some(("mode", "readline")) => control = false,
                        Some(("pretty", _)) => {}
                        _ => return Err(ArgError(format!("-mon {v}: unsupported property '{p}'"))),
                    }
                }
                let c = chardev.ok_or_else(|| ArgError(format!("-mon {v}: chardev= is required")))?;
                o.mons.push((c, control));
            }
            "-serial" => {
                let v = value(&opt, &mut it)?;
                if v != "stdio" && v != "mon:stdio" {
                    return Err(ArgError(format!("-serial {v}: only 'stdio' is supported")));
                }
            }
            "-accel" => {
                let v = value(&opt, &mut it)?;
                let mut props = v.split(',');
                if props.next() != Some("tcg") {
                    return Err(ArgError(format!("-accel {v}: only 'tcg' (software emulation) is available")));
                }
                for p in props {
                    match p.split_once('=') {
                        Some(("tier", t)) => {
                            o.config.tier = TierPolicy::parse(t).ok_or_else(|| {
                                ArgError(format!("-accel {v}: tier must be interp, jit or auto, not '{t}'"))
                            })?
                        }
                        // One vCPU thread is what this emulator does anyway.
                        Some(("thread", "single")) => {}
                        _ => return Err(ArgError(format!("-accel {v}: unsupported property '{p}'"))),
                    }
                }
            }
            "-nic" => {
                let v = value(&opt, &mut it)?;
                if v != "none" {
                    // `-nic user,model=M,...` is a netdev plus a device in one option.
                    let id = format!("nic{}", o.netdevs.len());
                    let mut model = "virtio-net-device".to_string();
                    let mut rest = Vec::new();
                    for p in v.split(',') {
                        match p.strip_prefix("model=") {
                            Some(m) => model = m.to_string(),
                            None => rest.push(p),
                        }
                    }
                    let (kind, props) = rest.split_first().map(|(k, r)| (*k, r.to_vec())).unwrap_or(("user", vec![]));
                    let mut nd = format!("{kind},id={id}");
                    for p in props {
                        nd.push(',');
                        nd.push_str(p);
                    }
                    o.netdevs.push(nd);
                    o.devices.push(format!("{model},netdev={id}"));
                }
            }
            "-net" => {
                let v = value(&opt, &mut it)?;
                if v != "none" {
                    return Err(ArgError(format!("-net {v}: use -nic or -netdev/-device (the -net option is legacy)")));
                }
            }
            "-drive" => o.drives.push(value(&opt, &mut it)?.clone()),
            "-device" => o.devices.push(value(&opt, &mut it)?.clone()),
            "-netdev" => o.netdevs.push(value(&opt, &mut it)?.clone()),
            "-d" => {
                let v = value(&opt, &mut it)?;
                for item in v.split(',') {
                    match item {
                        "in_asm" => log.in_asm = true,
                        "exec" => log.exec = true,
                        "int" => o.log_int = true,
                        "guest_errors" | "unimp" => o.log_guest_errors = true,
                        _ => {
                            return Err(ArgError(format!(
                                "-d {v}: unknown log item '{item}' (in_asm, exec, int, guest_errors)"
                            )))
                        }
                    }
                }
            }
            "-D" => o.logfile = Some(value(&opt, &mut it)?.into()),
            "-perfmap" => o.config.perf_map = true,
            _ if opt.starts_with('-') => return Err(ArgError(format!("{arg}: invalid option"))),
            // QEMU takes a bare argument as a disk image; we have no disks yet.
            _ => return Err(ArgError(format!("{arg}: unexpected argument (disk images are not supported yet)"))),
        }
    }
    o.config.log = log;
    Ok(Command::Run(Box::new(o)))
}

/// A QEMU boolean property value.
fn on_off(v: &str) -> Option<bool> {
    match v {
        "on" | "true" | "yes" => Some(true),
        "off" | "false" | "no" => Some(false),
        _ => None,
    }
}

fn check_machine(name: &str) -> Result<(), ArgError> {
    if name == "virt" {
        Ok(())
    } else {
        Err(ArgError(format!("-machine {name}: unsupported machine type (only 'virt')")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, ArgError> {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse(&v)? {
            Command::Run(o) => Ok(*o),
            c => panic!("expected Run, got {c:?}"),
        }
    }

    #[test]
    fn size_without_suffix_is_mebibytes() {
        assert_eq!(parse_size("512"), Some(512 << 20));
    }

    #[test]
    fn size_with_suffix_scales() {
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_size("64k"), Some(64 << 10));
    }

    #[test]
    fn size_garbage_is_rejected() {
        assert_eq!(parse_size("lots"), None);
    }

    #[test]
    fn typical_bare_metal_command_line_parses() {
        let o = run(&["-M", "virt", "-m", "256M", "-bios", "none", "-kernel", "p.elf", "-nographic"]).unwrap();
        assert_eq!(o.config.ram_size, 256 << 20);
        assert_eq!(o.config.bios, Bios::None);
        assert_eq!(o.config.kernel, Some("p.elf".into()));
    }

    #[test]
    fn unknown_option_names_the_option() {
        assert_eq!(run(&["-frobnicate"]).unwrap_err(), ArgError("-frobnicate: invalid option".into()));
    }

    #[test]
    fn missing_value_is_an_error() {
        assert_eq!(run(&["-kernel"]).unwrap_err(), ArgError("-kernel: requires an argument".into()));
    }

    #[test]
    fn machine_properties_parse() {
        let o = run(&["-machine", "virt,dumpdtb=x.dtb"]).unwrap();
        assert_eq!(o.dumpdtb, Some("x.dtb".into()));
    }

    #[test]
    fn gic_version_defaults_to_2_and_max_means_3() {
        use mimic_machine::GicVersion;
        let gic = |args: &[&str]| run(args).unwrap().config.gic_version;
        assert_eq!(gic(&["-M", "virt"]), GicVersion::V2);
        assert_eq!(gic(&["-M", "virt,gic-version=2"]), GicVersion::V2);
        assert_eq!(gic(&["-M", "virt,gic-version=3"]), GicVersion::V3);
        assert_eq!(gic(&["-machine", "type=virt,gic-version=max"]), GicVersion::V3);
    }

    #[test]
    fn secure_is_off_by_default_and_takes_on_or_off() {
        let secure = |args: &[&str]| run(args).unwrap().config.secure;
        assert!(!secure(&["-M", "virt"]));
        assert!(secure(&["-M", "virt,secure=on"]));
        assert!(!secure(&["-M", "virt,secure=off"]));
        let e = run(&["-M", "virt,secure=maybe"]).unwrap_err();
        assert!(e.0.contains("invalid secure value 'maybe' (use on or off)"), "{e:?}");
    }

    #[test]
    fn virtualization_is_off_by_default_and_takes_on_or_off() {
        let virt = |args: &[&str]| run(args).unwrap().config.virtualization;
        assert!(!virt(&["-M", "virt"]));
        assert!(virt(&["-M", "virt,virtualization=on"]));
        assert!(!virt(&["-M", "virt,virtualization=off"]));
        let e = run(&["-M", "virt,virtualization=2"]).unwrap_err();
        assert!(e.0.contains("invalid virtualization value '2' (use on or off)"), "{e:?}");
    }

    #[test]
    fn unknown_gic_version_is_an_error() {
        let e = run(&["-M", "virt,gic-version=host"]).unwrap_err();
        assert!(e.0.contains("unsupported gic-version 'host' (use 2, 3 or max)"), "{e:?}");
    }

    #[test]
    fn other_machine_is_rejected() {
        assert!(run(&["-M", "sifive_u"]).is_err());
    }

    #[test]
    fn accel_tier_selects_the_execution_tier() {
        assert_eq!(run(&[]).unwrap().config.tier, TierPolicy::Auto);
        assert_eq!(run(&["-accel", "tcg,tier=interp"]).unwrap().config.tier, TierPolicy::Interp);
        assert_eq!(run(&["-accel", "tcg,tier=jit"]).unwrap().config.tier, TierPolicy::Jit);
    }

    #[test]
    fn unknown_tier_is_an_error() {
        let e = run(&["-accel", "tcg,tier=fast"]).unwrap_err();
        assert!(e.0.contains("tier must be interp, jit or auto"), "{e:?}");
    }

    #[test]
    fn log_items_set_flags() {
        let o = run(&["-d", "in_asm,int", "-D", "log.txt"]).unwrap();
        assert!(o.config.log.in_asm && o.log_int && !o.config.log.exec);
        assert_eq!(o.logfile, Some("log.txt".into()));
    }

    #[test]
    fn nic_with_a_model_is_a_netdev_and_that_device() {
        let o = run(&["-nic", "user,model=e1000,hostfwd=tcp::2222-:22"]).unwrap();
        assert_eq!(
            (o.netdevs, o.devices),
            (vec!["user,id=nic0,hostfwd=tcp::2222-:22".to_string()], vec!["e1000,netdev=nic0".to_string()])
        );
    }

    #[test]
    fn double_dash_help_is_help() {
        assert!(matches!(parse(&["--help".to_string()]), Ok(Command::Help)));
    }
}
