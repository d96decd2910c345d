//! The human monitor (HMP): QEMU's `(qemu)` console, with QEMU's command spellings and output
//! formats, so scripts written against QEMU's monitor read mimic's the same way.
//!
//! Output uses `\n`; [`serve_stdio`] and QMP's `human-monitor-command` turn it into `\r\n` as
//! QEMU's monitor does.

use std::fmt::Write as _;
use std::io::{self, BufRead, Write};

use crate::qmp::{PACKAGE, QEMU_VERSION};
use crate::vm::{RunState, Vm};

/// The first line printed on a new HMP console. QEMU prints `QEMU 10.0.0 monitor - ...`; no
/// tool parses it, so it names mimic.
pub const BANNER: &str = concat!("mimic ", env!("CARGO_PKG_VERSION"), " monitor - type 'help' for more information");

/// QEMU's prompt, kept as is: expect-style scripts wait for it.
pub const PROMPT: &str = "(qemu) ";

/// Largest memory dump one `x`/`xp` prints.
pub const MAX_DUMP: usize = 1 << 20;

/// What one HMP command line produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HmpOutcome {
    /// Text to show, lines ending in `\n` (empty for commands that print nothing).
    pub text: String,
    /// The user typed `quit`/`q`: the caller must call [`Vm::quit`] after showing `text` (HMP
    /// does not call it itself, so the caller can flush its output first).
    pub quit: bool,
}

/// `(name|alias, params, help)` in QEMU's `help` layout.
const COMMANDS: &[(&str, &str, &str)] = &[
    ("cont|c", "", "resume emulation"),
    ("cpu", "index", "set the default CPU"),
    ("help|?", "[cmd]", "show the help"),
    ("info", "[subcommand]", "show various information about the system state"),
    ("quit|q", "", "quit the emulator"),
    ("stop|s", "", "stop emulation"),
    ("system_powerdown", "", "send system power down event"),
    ("system_reset", "", "reset the system"),
    ("x", "/fmt addr", "virtual memory dump starting at 'addr'"),
    ("xp", "/fmt addr", "physical memory dump starting at 'addr'"),
];

const INFO: &[(&str, &str, &str)] = &[
    ("block", "", "show the block devices"),
    ("chardev", "", "show the character devices"),
    ("cpus", "", "show infos for each CPU"),
    ("mtree", "", "show memory tree"),
    ("name", "", "show the current VM name"),
    ("qtree", "", "show device tree"),
    ("registers", "[-a]", "show the cpu registers (-a: all - show register info for all cpus)"),
    ("status", "", "show the current VM status (running|paused)"),
    ("version", "", "show the version of QEMU"),
];

fn help_lines(prefix: &str, table: &[(&str, &str, &str)], only: Option<&str>) -> String {
    let mut out = String::new();
    for (name, params, help) in table {
        if only.is_some_and(|o| !name.split('|').any(|n| n == o)) {
            continue;
        }
        let _ = writeln!(out, "{prefix}{name} {params} -- {help}");
    }
    out
}

/// One HMP console's state: the current CPU (`cpu N`) and the sticky `x` format, as in QEMU.
#[derive(Clone, Debug)]
pub struct HmpSession {
    cpu: usize,
    format: u8,
    size: usize,
}

impl Default for HmpSession {
    fn default() -> Self {
        Self::new()
    }
}

impl HmpSession {
    pub fn new() -> Self {
        HmpSession { cpu: 0, format: b'x', size: 4 }
    }

    /// Selects the CPU that `info registers` and `x` use (QMP's `cpu-index`).
    pub fn set_cpu(&mut self, cpu: usize) {
        self.cpu = cpu;
    }

    /// Runs one command line.
    pub fn execute(&mut self, vm: &dyn Vm, line: &str) -> HmpOutcome {
        let line = line.trim();
        let name_end = line.find(|c: char| c.is_whitespace() || c == '/').unwrap_or(line.len());
        let (name, rest) = line.split_at(name_end);
        let rest = rest.trim_start();
        let mut quit = false;
        let text = match name {
            "" => String::new(),
            "help" | "?" => {
                let arg = rest.split_whitespace().next();
                match arg {
                    Some("info") => help_lines("info ", INFO, None),
                    Some(a) => help_lines("", COMMANDS, Some(a)),
                    None => help_lines("", COMMANDS, None),
                }
            }
            "info" => self.info(vm, rest),
            "stop" | "s" => report(vm.stop()),
            "cont" | "c" => report(vm.cont()),
            "system_reset" => report(vm.system_reset()),
            "system_powerdown" => report(vm.system_powerdown()),
            "quit" | "q" => {
                quit = true;
                String::new()
            }
            "cpu" => match parse_expr(rest) {
                Ok(i) if vm.cpus().iter().any(|c| c.cpu_index as u64 == i) => {
                    self.cpu = i as usize;
                    String::new()
                }
                Ok(_) => "invalid CPU index\n".into(),
                Err(e) => format!("{e}\nTry \"help cpu\" for more information\n"),
            },
            "x" | "xp" => self.dump(vm, name, rest),
            _ => format!("unknown command: '{name}'\n"),
        };
        HmpOutcome { text, quit }
    }

    fn info(&mut self, vm: &dyn Vm, rest: &str) -> String {
        let mut words = rest.split_whitespace();
        let Some(sub) = words.next() else {
            return help_lines("info ", INFO, None);
        };
        match sub {
            "status" => {
                let status = vm.status();
                match status {
                    RunState::Running => "VM status: running\n".into(),
                    RunState::Paused => "VM status: paused\n".into(),
                    other => format!("VM status: paused ({})\n", other.qmp_name()),
                }
            }
            "registers" => {
                if words.next() == Some("-a") {
                    let mut out = String::new();
                    for cpu in vm.cpus() {
                        let _ = write!(out, "\nCPU#{}\n", cpu.cpu_index);
                        out.push_str(&registers(vm, cpu.cpu_index));
                    }
                    out
                } else {
                    registers(vm, self.cpu)
                }
            }
            "mtree" => ensure_newline(vm.info_mtree()),
            "qtree" => ensure_newline(vm.info_qtree()),
            "cpus" => {
                let mut out = String::new();
                for cpu in vm.cpus() {
                    let active = if cpu.cpu_index == self.cpu { '*' } else { ' ' };
                    let _ = writeln!(out, "{active} CPU #{}: thread_id={}", cpu.cpu_index, cpu.thread_id);
                }
                out
            }
            "version" => {
                let (major, minor, micro) = QEMU_VERSION;
                format!("{major}.{minor}.{micro} ({PACKAGE})\n")
            }
            "name" => vm.name().map(|n| format!("{n}\n")).unwrap_or_default(),
            "chardev" => vm.chardevs().iter().map(|c| format!("{}: filename={}\n", c.label, c.filename)).collect(),
            "block" => vm
                .block_devices()
                .iter()
                .map(|b| match &b.file {
                    Some((file, fmt)) => {
                        let ro = if b.read_only { ", read-only" } else { "" };
                        format!("{}: {file} ({fmt}{ro})\n", b.device)
                    }
                    None => format!("{}: [not inserted]\n", b.device),
                })
                .collect(),
            _ => format!("unknown command: 'info {sub}'\n"),
        }
    }

    /// `x /Nfs addr` and `xp /Nfs addr`: QEMU's `memory_dump` layout.
    fn dump(&mut self, vm: &dyn Vm, name: &str, rest: &str) -> String {
        let try_help = |e: String| format!("{e}\nTry \"help {name}\" for more information\n");
        let (count, format, size, rest) = match rest.strip_prefix('/') {
            Some(spec) => {
                let end = spec.find(char::is_whitespace).unwrap_or(spec.len());
                let (spec, rest) = spec.split_at(end);
                let digits = spec.find(|c: char| !c.is_ascii_digit()).unwrap_or(spec.len());
                let count = if digits == 0 { 1 } else { spec[..digits].parse::<usize>().unwrap_or(usize::MAX) };
                let mut format = None;
                let mut size = None;
                for c in spec[digits..].bytes() {
                    match c {
                        b'o' | b'd' | b'u' | b'x' | b'c' => format = Some(c),
                        b'b' => size = Some(1),
                        b'h' => size = Some(2),
                        b'w' => size = Some(4),
                        b'g' | b'L' => size = Some(8),
                        b'i' => return "x: the 'i' (disassemble) format is not supported\n".into(),
                        other => return try_help(format!("invalid char in format: '{}'", char::from(other))),
                    }
                }
                let format = format.unwrap_or(self.format);
                let size = size.unwrap_or(self.size);
                self.format = format;
                self.size = size;
                (count, format, size, rest)
            }
            None => (1, self.format, self.size, rest),
        };
        let addr = match parse_expr(rest) {
            Ok(a) => a,
            Err(e) => return try_help(e),
        };
        let cpu = (name == "x").then_some(self.cpu);
        memory_dump(vm, cpu, count, format, size, addr)
    }
}

/// Runs one command line in a fresh session (CPU 0, default format `x/1wx`).
pub fn execute(vm: &dyn Vm, line: &str) -> HmpOutcome {
    HmpSession::new().execute(vm, line)
}

/// Serves HMP on a line stream (`-monitor stdio`, or any reader/writer pair): banner, prompt,
/// commands until `quit` (then calls [`Vm::quit`]) or end of input.
pub fn serve_stdio<R: BufRead, W: Write>(vm: &dyn Vm, mut input: R, mut output: W) -> io::Result<()> {
    let mut session = HmpSession::new();
    write!(output, "{BANNER}\r\n{PROMPT}")?;
    output.flush()?;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let out = session.execute(vm, &line);
        output.write_all(out.text.replace('\n', "\r\n").as_bytes())?;
        if out.quit {
            output.flush()?;
            vm.quit();
            return Ok(());
        }
        output.write_all(PROMPT.as_bytes())?;
        output.flush()?;
    }
}

fn report(r: Result<(), crate::vm::VmError>) -> String {
    match r {
        Ok(()) => String::new(),
        Err(e) => format!("Error: {e}\n"),
    }
}

fn registers(vm: &dyn Vm, cpu: usize) -> String {
    match vm.info_registers(cpu) {
        Ok(text) => ensure_newline(text),
        Err(e) => format!("Error: {e}\n"),
    }
}

fn ensure_newline(mut s: String) -> String {
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// A number as C's `strtoull(s, 0)` reads it: `0x` hex, leading `0` octal, else decimal.
fn parse_number(s: &str) -> Option<u64> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// The address expressions HMP accepts here: numbers joined by `+` and `-`.
fn parse_expr(s: &str) -> Result<u64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("unexpected end of expression".into());
    }
    let mut total: u64 = 0;
    let mut sign_plus = true;
    let mut rest = s;
    loop {
        rest = rest.trim_start();
        let end = rest.find(|c: char| c == '+' || c == '-' || c.is_whitespace()).unwrap_or(rest.len());
        let (tok, tail) = rest.split_at(end);
        if tok.is_empty() {
            return Err(match rest.chars().next() {
                Some(c) => format!("invalid char '{c}' in expression"),
                None => "unexpected end of expression".into(),
            });
        }
        let Some(v) = parse_number(tok) else {
            let c =
                tok.chars().find(|c| !c.is_ascii_hexdigit() && *c != 'x').unwrap_or(tok.chars().next().unwrap_or(' '));
            return Err(format!("invalid char '{c}' in expression"));
        };
        total = if sign_plus { total.wrapping_add(v) } else { total.wrapping_sub(v) };
        let tail = tail.trim_start();
        match tail.chars().next() {
            None => return Ok(total),
            Some('+') => sign_plus = true,
            Some('-') => sign_plus = false,
            Some(c) => return Err(format!("invalid char '{c}' in expression")),
        }
        rest = &tail[1..];
    }
}

fn printc(out: &mut String, c: u8) {
    out.push('\'');
    match c {
        b'\'' => out.push_str("\\'"),
        b'\\' => out.push_str("\\\\"),
        b'\n' => out.push_str("\\n"),
        b'\r' => out.push_str("\\r"),
        32..=126 => out.push(char::from(c)),
        _ => {
            let _ = write!(out, "\\x{c:02x}");
        }
    }
    out.push('\'');
}

/// QEMU's `memory_dump` (monitor/hmp-cmds-target.c): 16-digit address, then values; 8 bytes a
/// line for byte-sized units, 16 otherwise; little-endian units (mimic's guests).
fn memory_dump(vm: &dyn Vm, cpu: Option<usize>, count: usize, format: u8, size: usize, addr: u64) -> String {
    let mut out = String::new();
    let line_size = if size == 1 { 8 } else { 16 };
    let digits = match format {
        b'o' => (size * 8).div_ceil(3),
        b'u' | b'd' => (size * 8 * 10).div_ceil(33),
        _ => size * 8 / 4,
    };
    let wsize = if format == b'c' { 1 } else { size };
    let mut len = size.saturating_mul(count);
    let truncated = len > MAX_DUMP;
    len = len.min(MAX_DUMP);
    let mut addr = addr;
    while len > 0 {
        let _ = write!(out, "{addr:016x}:");
        let l = len.min(line_size);
        let buf = match vm.read_memory(cpu, addr, l) {
            Ok(b) if b.len() >= l => b,
            _ => {
                out.push_str(" Cannot access memory\n");
                return out;
            }
        };
        for unit in buf[..l].chunks(wsize) {
            let mut bytes = [0u8; 8];
            bytes[..unit.len()].copy_from_slice(unit);
            let v = u64::from_le_bytes(bytes);
            out.push(' ');
            match format {
                b'o' => {
                    // printf("%#*o"): a leading 0 unless the value is 0.
                    let s = if v == 0 { "0".to_string() } else { format!("0{v:o}") };
                    let _ = write!(out, "{s:>digits$}");
                }
                b'u' => {
                    let _ = write!(out, "{v:>digits$}");
                }
                // QEMU loads units zero-extended and prints them with PRId64.
                b'd' => {
                    let _ = write!(out, "{:>digits$}", v as i64);
                }
                b'c' => printc(&mut out, v as u8),
                _ => {
                    let _ = write!(out, "0x{v:0digits$x}");
                }
            }
        }
        out.push('\n');
        addr = addr.wrapping_add(l as u64);
        len -= l;
    }
    if truncated {
        let _ = writeln!(out, "(dump truncated at {MAX_DUMP} bytes)");
    }
    out
}
