//! Real guests: `cargo xtask fetch-guests` fetches, verifies and caches the default riscv64 Linux
//! guest (Debian's kernel, OpenSBI and busybox) and the arm64 one (kernel, busybox and U-Boot) and builds
//! their initramfs; `cargo xtask boot`
//! boots it on mimic (or, with `--qemu`, on `qemu-system-riscv64` for comparison).
//!
//! Everything comes from Debian's packages through apt with its own state folder (no root, the
//! system's apt configuration untouched); the mirror is read at run time from the system's
//! source list (see shared/GUESTS.md). Cache layout, under `<repo>/.cache/guests/`:
//!
//! ```text
//! apt/                 sources.list, lists/, cache/, status: apt's private state
//! debs/                the downloaded .deb files (verified against the signed index by apt,
//!                      and again by us against PACKAGES before reuse)
//! riscv64/kernel/      dpkg-deb -x of linux-image-6.12.*-riscv64 (trixie)
//! riscv64/busybox-pkg/ dpkg-deb -x of busybox-static:riscv64 (trixie)
//! riscv64/opensbi/     dpkg-deb -x of opensbi (bookworm-backports)
//! riscv64/u-boot/      dpkg-deb -x of u-boot-qemu (bookworm)
//! riscv64/modules      symlink to kernel/usr/lib/modules/<release> (xz-compressed .ko files)
//! riscv64/PACKAGES     which .deb each file came from (apt spec, file, size, index SHA-256)
//! riscv64/SHA256SUMS   `sha256sum -c` format, for the five files below
//! riscv64/Image        flat kernel Image (EFI-stub PE header, "RSC\x05" at 0x38)
//! riscv64/fw_dynamic.bin     OpenSBI generic firmware (M-mode, -bios)
//! riscv64/u-boot-smode.bin  U-Boot for `-bios default -kernel` (qemu-riscv64_smode, S-mode)
//! riscv64/busybox      static riscv64 busybox
//! riscv64/initramfs.cpio.gz  built here: busybox, /init, /dev/console (see INIT_SCRIPT)
//! arm64/               the same for arm64: kernel/, busybox-pkg/, u-boot/, modules, PACKAGES,
//!                      SHA256SUMS, Image ("ARM\x64" at 0x38), busybox, initramfs.cpio.gz,
//!                      u-boot.bin (U-Boot qemu_arm64, for `-bios` on the Arm virt board)
//! ```
//!
//! A run with everything present and matching `SHA256SUMS` touches no network; a missing or
//! mismatching file is rebuilt (from the cached .deb if its hash still matches `PACKAGES`, else
//! downloaded again). `fetch-guests --update` asks the mirror for newer packages.

use crate::cpio::{self, Entry};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

type Result<T> = std::result::Result<T, String>;

/// A guest architecture: its cache folder, the Debian architecture name and which packages it
/// takes files from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    Riscv64,
    Arm64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::Riscv64, Arch::Arm64];

    /// Debian's name, also the cache folder's.
    pub fn deb(self) -> &'static str {
        match self {
            Arch::Riscv64 => "riscv64",
            Arch::Arm64 => "arm64",
        }
    }

    fn roles(self) -> &'static [Role] {
        match self {
            Arch::Riscv64 => &[Role::Kernel, Role::Busybox, Role::Opensbi, Role::Uboot],
            Arch::Arm64 => &[Role::Kernel, Role::Busybox, Role::Uboot],
        }
    }

    /// The files `SHA256SUMS` covers.
    fn outputs(self) -> Vec<&'static str> {
        let mut v: Vec<&str> = self.roles().iter().flat_map(|r| r.outputs(self).iter().copied()).collect();
        v.push(INITRAMFS);
        v
    }

    /// `e_machine` of its ELF executables.
    fn elf_machine(self) -> u16 {
        match self {
            Arch::Riscv64 => 243,
            Arch::Arm64 => 183,
        }
    }

    /// The magic at offset 0x38 of its Linux `Image` header.
    fn image_magic(self) -> &'static [u8; 4] {
        match self {
            Arch::Riscv64 => b"RSC\x05",
            Arch::Arm64 => b"ARM\x64",
        }
    }
}

/// The files `SHA256SUMS` covers, relative to the architecture's folder (see [`Arch::outputs`]).
pub const IMAGE: &str = "Image";
pub const FIRMWARE: &str = "fw_dynamic.bin";
pub const BUSYBOX: &str = "busybox";
pub const INITRAMFS: &str = "initramfs.cpio.gz";
pub const UBOOT_SMODE: &str = "u-boot-smode.bin";
/// arm64's U-Boot (`qemu_arm64`), for `-bios` on the Arm `virt` board.
pub const UBOOT: &str = "u-boot.bin";

/// Exactly this word (then ` uptime=<seconds>`) starts the line that tells a boot test that user
/// space is up.
pub const INIT_MARKER: &str = "MIMIC-INIT-READY";

/// The initramfs's `/init`.
const INIT_SCRIPT: &str = r#"#!/bin/sh
# mimic's test initramfs (built by `cargo xtask fetch-guests`): busybox only.
/bin/busybox --install -s /bin
export PATH=/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
# The console the kernel opened for us stays open; devtmpfs has its own /dev/console too.
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
echo "MIMIC-INIT-READY uptime=$(cut -d' ' -f1 /proc/uptime)"
cd /root
# A session leader with the console as controlling terminal, so job control works.
setsid cttyhack sh
poweroff -f
"#;

/// One package we take files from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Kernel,
    Busybox,
    Opensbi,
    Uboot,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Kernel => "kernel",
            Role::Busybox => "busybox-static",
            Role::Opensbi => "opensbi",
            Role::Uboot => "u-boot-qemu",
        }
    }

    /// The folder under the architecture's folder it is extracted to.
    fn tree(self) -> &'static str {
        match self {
            Role::Kernel => "kernel",
            Role::Busybox => "busybox-pkg",
            Role::Opensbi => "opensbi",
            Role::Uboot => "u-boot",
        }
    }

    /// How its .deb file names start (to drop superseded versions).
    fn deb_prefix(self) -> &'static str {
        match self {
            Role::Kernel => "linux-image-",
            Role::Busybox => "busybox-static_",
            Role::Opensbi => "opensbi_",
            Role::Uboot => "u-boot-qemu_",
        }
    }

    fn outputs(self, arch: Arch) -> &'static [&'static str] {
        match (self, arch) {
            (Role::Kernel, _) => &[IMAGE],
            (Role::Busybox, _) => &[BUSYBOX],
            (Role::Opensbi, _) => &[FIRMWARE],
            (Role::Uboot, Arch::Riscv64) => &[UBOOT_SMODE],
            (Role::Uboot, Arch::Arm64) => &[UBOOT],
        }
    }
}

/// Paths of the cache.
pub struct Layout {
    pub apt: PathBuf,
    pub debs: PathBuf,
    pub dir: PathBuf,
    pub arch: Arch,
}

impl Layout {
    /// The riscv64 guest's cache (the default guest).
    pub fn new(repo: &Path) -> Layout {
        Layout::for_arch(repo, Arch::Riscv64)
    }
    pub fn for_arch(repo: &Path, arch: Arch) -> Layout {
        let root = repo.join(".cache/guests");
        Layout { apt: root.join("apt"), debs: root.join("debs"), dir: root.join(arch.deb()), arch }
    }
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    pub fn sums(&self) -> PathBuf {
        self.dir.join("SHA256SUMS")
    }
    fn packages(&self) -> PathBuf {
        self.dir.join("PACKAGES")
    }
    pub fn modules(&self) -> PathBuf {
        self.dir.join("modules")
    }
}

pub fn repo_root() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    p.canonicalize().unwrap_or(p)
}

// ---------------------------------------------------------------------------------------------
// SHA256SUMS

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 * bytes.len());
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// Parses `sha256sum` output: `<64 hex>  <name>` (or ` *<name>`) per line.
pub fn parse_sums(text: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in text.lines() {
        let Some((hash, rest)) = line.split_once(' ') else {
            continue;
        };
        let name = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('*')).unwrap_or(rest);
        if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) && !name.is_empty() {
            map.insert(name.to_string(), hash.to_ascii_lowercase());
        }
    }
    map
}

/// Formats a `SHA256SUMS` file from (name, hash) pairs, sorted by name.
pub fn format_sums(sums: &BTreeMap<String, String>) -> String {
    sums.iter().map(|(n, h)| format!("{h}  {n}\n")).collect()
}

/// The state of one file against `SHA256SUMS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    Ok(String),
    Missing,
    Unrecorded,
    Mismatch {
        expected: String,
        actual: String,
    },
    /// Matches its hash but is not what this xtask would build now.
    Stale,
}

impl Check {
    pub fn is_ok(&self) -> bool {
        matches!(self, Check::Ok(_))
    }
}

/// Checks each of `names` in `dir` against `sums` (the parsed SHA256SUMS, if there is one).
pub fn check_files(dir: &Path, sums: &BTreeMap<String, String>, names: &[&str]) -> Vec<(String, Check)> {
    names
        .iter()
        .map(|&name| {
            let path = dir.join(name);
            let check = if !path.is_file() {
                Check::Missing
            } else {
                match (sums.get(name), sha256_file(&path)) {
                    (None, _) => Check::Unrecorded,
                    (Some(_), Err(_)) => Check::Missing,
                    (Some(e), Ok(a)) if *e == a => Check::Ok(a),
                    (Some(e), Ok(a)) => Check::Mismatch { expected: e.clone(), actual: a },
                }
            };
            (name.to_string(), check)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Where the packages come from

/// The first `URIs:` of a deb822 stanza whose `Suites:` include `suite` (and its `Signed-By:`).
pub fn mirror_from_deb822(text: &str, suite: &str) -> Option<(String, Option<String>)> {
    for stanza in text.split("\n\n") {
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        let mut last = None;
        for line in stanza.lines() {
            if line.trim_start().starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                if let Some(k) = &last {
                    let v = fields.entry(String::clone(k)).or_default();
                    v.push('\n');
                    v.push_str(line.trim());
                }
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                let k = k.trim().to_ascii_lowercase();
                fields.insert(k.clone(), v.trim().to_string());
                last = Some(k);
            }
        }
        let has = |k: &str, w: &str| fields.get(k).is_some_and(|v| v.split_whitespace().any(|x| x == w));
        if !has("suites", suite) || !has("types", "deb") || fields.get("enabled").is_some_and(|v| v.trim() == "no") {
            continue;
        }
        if let Some(uri) = fields.get("uris").and_then(|v| v.split_whitespace().next()) {
            let signed = fields
                .get("signed-by")
                .map(|s| s.trim().to_string())
                .filter(|s| s.starts_with('/') && !s.contains('\n'));
            return Some((uri.to_string(), signed));
        }
    }
    None
}

/// The URI of the first one-line `deb` entry for `suite` in a `sources.list`.
pub fn mirror_from_list(text: &str, suite: &str) -> Option<String> {
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some(rest) = line.strip_prefix("deb ") else {
            continue;
        };
        let rest = rest.trim_start();
        let rest = match rest.strip_prefix('[') {
            Some(r) => r.split_once(']')?.1.trim_start(),
            None => rest,
        };
        let mut words = rest.split_whitespace();
        if let (Some(uri), Some(s)) = (words.next(), words.next()) {
            if s == suite {
                return Some(uri.to_string());
            }
        }
    }
    None
}

const DEFAULT_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

fn system_mirror() -> Result<(String, String)> {
    if let Ok(text) = std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources") {
        if let Some((uri, key)) = mirror_from_deb822(&text, "bookworm") {
            return Ok((uri, key.unwrap_or_else(|| DEFAULT_KEYRING.into())));
        }
    }
    if let Ok(text) = std::fs::read_to_string("/etc/apt/sources.list") {
        if let Some(uri) = mirror_from_list(&text, "bookworm") {
            return Ok((uri, DEFAULT_KEYRING.into()));
        }
    }
    Err("no Debian bookworm mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list".into())
}

/// A .deb as apt's index describes it (`apt-get download --print-uris`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct DebInfo {
    file: String,
    size: u64,
    sha256: String,
}

impl DebInfo {
    /// `name version` from the file name `name_version_arch.deb` (`%3a` is the epoch colon).
    fn name_version(&self) -> String {
        let parts: Vec<&str> = self.file.trim_end_matches(".deb").split('_').collect();
        match parts.as_slice() {
            [n, v, _] => format!("{n} {}", v.replace("%3a", ":")),
            _ => self.file.clone(),
        }
    }
}

fn parse_print_uris(out: &str) -> Result<DebInfo> {
    for line in out.lines() {
        let Some(rest) = line.strip_prefix('\'') else {
            continue;
        };
        let Some((_uri, rest)) = rest.split_once("' ") else {
            continue;
        };
        let w: Vec<&str> = rest.split_whitespace().collect();
        if let [file, size, hash] = w.as_slice() {
            let sha256 = hash.strip_prefix("SHA256:").ok_or(format!("no SHA256 for {file} in the index"))?;
            let size = size.parse().map_err(|_| format!("bad size in {line}"))?;
            return Ok(DebInfo { file: file.to_string(), size, sha256: sha256.to_ascii_lowercase() });
        }
    }
    Err(format!("apt-get --print-uris printed no URI: {out}"))
}

/// apt with its own configuration and state under `.cache/guests/apt`.
struct Apt {
    dir: PathBuf,
    opts: Vec<String>,
    updated: bool,
    stale: bool,
}

fn run_capture(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false)
}

impl Apt {
    fn new(dir: &Path) -> Result<Apt> {
        let (uri, keyring) = system_mirror()?;
        let native = run_capture(Command::new("dpkg").arg("--print-architecture"))?.trim().to_string();
        for d in ["lists/partial", "cache/archives/partial"] {
            std::fs::create_dir_all(dir.join(d)).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let status = dir.join("status");
        if !status.exists() {
            std::fs::write(&status, "").map_err(|e| e.to_string())?;
        }
        // Kernels and busybox from trixie (riscv64, arm64); OpenSBI and U-Boot (Architecture:
        // all) from bookworm-backports and bookworm, whose indexes for the native architecture
        // list them.
        let sources = format!(
            "deb [arch=riscv64,arm64 signed-by={keyring}] {uri} trixie main\n\
             deb [arch={native} signed-by={keyring}] {uri} bookworm-backports main\n\
             deb [arch={native} signed-by={keyring}] {uri} bookworm main\n"
        );
        let list = dir.join("sources.list");
        let stale = std::fs::read_to_string(&list).ok().as_deref() != Some(sources.as_str());
        if stale {
            std::fs::write(&list, &sources).map_err(|e| e.to_string())?;
        }
        let d = dir.display();
        let mut opts: Vec<String> = vec![
            format!("-oAPT::Architecture={native}"),
            "-oAPT::Architectures::=riscv64".into(),
            "-oAPT::Architectures::=arm64".into(),
            format!("-oDir::State={d}"),
            format!("-oDir::State::Lists={d}/lists"),
            format!("-oDir::State::status={d}/status"),
            format!("-oDir::Cache={d}/cache"),
            format!("-oDir::Etc::SourceList={d}/sources.list"),
            "-oDir::Etc::SourceParts=/dev/null".into(),
            "-oAcquire::Languages=none".into(),
            "-oAcquire::IndexTargets::deb::DEP-11::DefaultEnabled=false".into(),
        ];
        if is_root() {
            // apt would otherwise drop to `_apt`, which may not reach the cache folder.
            opts.push("-oAPT::Sandbox::User=root".into());
        }
        let has_lists = std::fs::read_dir(dir.join("lists"))
            .map(|rd| rd.flatten().any(|e| e.file_name().to_string_lossy().contains("_Packages")))
            .unwrap_or(false);
        Ok(Apt { dir: dir.to_path_buf(), opts, updated: false, stale: stale || !has_lists })
    }

    fn update(&mut self) -> Result<()> {
        println!(
            "fetch-guests: apt-get update (trixie riscv64+arm64, bookworm, bookworm-backports) into {}",
            self.dir.display()
        );
        let status = Command::new("apt-get")
            .args(&self.opts)
            .args(["-q", "update"])
            .status()
            .map_err(|e| format!("running apt-get (Debian's apt is needed): {e}"))?;
        if !status.success() {
            return Err(format!("apt-get update failed ({status})"));
        }
        self.updated = true;
        self.stale = false;
        Ok(())
    }

    fn ensure_lists(&mut self) -> Result<()> {
        if self.stale && !self.updated {
            self.update()?;
        }
        Ok(())
    }

    /// The exact package the kernel metapackage depends on, e.g.
    /// `linux-image-6.12.117+deb13-riscv64`.
    fn resolve_kernel(&self, arch: Arch) -> Result<String> {
        let a = arch.deb();
        let out =
            run_capture(Command::new("apt-cache").args(&self.opts).args(["depends", &format!("linux-image-{a}:{a}")]))?;
        parse_kernel_depends(&out, a).ok_or(format!("linux-image-{a} depends on no linux-image-*-{a}: {out}"))
    }

    fn spec(&self, arch: Arch, role: Role) -> Result<String> {
        let a = arch.deb();
        Ok(match role {
            Role::Kernel => format!("{}:{a}", self.resolve_kernel(arch)?),
            Role::Busybox => format!("busybox-static:{a}"),
            Role::Opensbi => "opensbi/bookworm-backports".into(),
            Role::Uboot => "u-boot-qemu/bookworm".into(),
        })
    }

    /// What the index says about `spec`'s .deb. (In an empty folder: `apt-get download` prints
    /// nothing for a file that is already where it would download it, even a corrupt one.)
    fn info(&self, spec: &str) -> Result<DebInfo> {
        let empty = self.dir.join("empty");
        let _ = std::fs::remove_dir_all(&empty);
        std::fs::create_dir_all(&empty).map_err(|e| format!("{}: {e}", empty.display()))?;
        let out = run_capture(
            Command::new("apt-get").args(&self.opts).args(["download", "--print-uris", spec]).current_dir(&empty),
        )?;
        parse_print_uris(&out)
    }

    fn download(&self, spec: &str, cwd: &Path) -> Result<()> {
        let status = Command::new("apt-get")
            .args(&self.opts)
            .args(["-q", "download", spec])
            .current_dir(cwd)
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("apt-get download {spec} failed ({status})"));
        }
        Ok(())
    }
}

fn parse_kernel_depends(out: &str, arch: &str) -> Option<String> {
    let suffix = format!("-{arch}");
    out.lines().find_map(|l| {
        let dep = l.trim().trim_start_matches('|').strip_prefix("Depends:")?.trim();
        let dep = dep.split(':').next()?.trim();
        (dep.starts_with("linux-image-") && dep.ends_with(&suffix) && !dep.starts_with('<')).then(|| dep.to_string())
    })
}

// ---------------------------------------------------------------------------------------------
// PACKAGES: role, apt spec, .deb file, size, SHA-256 (from the signed index)

fn parse_packages(text: &str) -> BTreeMap<String, (String, DebInfo)> {
    let mut map = BTreeMap::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if let [role, spec, file, size, sha] = w.as_slice() {
            if let Ok(size) = size.parse() {
                map.insert(
                    role.to_string(),
                    (spec.to_string(), DebInfo { file: file.to_string(), size, sha256: sha.to_string() }),
                );
            }
        }
    }
    map
}

fn format_packages(map: &BTreeMap<String, (String, DebInfo)>) -> String {
    let mut s = String::from("# role apt-spec deb-file size sha256 (from the signed index)\n");
    for (role, (spec, d)) in map {
        let _ = writeln!(s, "{role} {spec} {} {} {}", d.file, d.size, d.sha256);
    }
    s
}

// ---------------------------------------------------------------------------------------------
// What we take from the packages

/// The kernel as the loader wants it: a flat `Image` of `arch`. Debian ships exactly that as
/// `/boot/vmlinux-*` (riscv64) or `/boot/vmlinuz-*` (arm64); a gzip'ed one is unpacked, an ELF
/// is refused.
pub fn kernel_image(arch: Arch, bytes: Vec<u8>) -> Result<(Vec<u8>, &'static str)> {
    let magic = arch.image_magic();
    let is_image = |b: &[u8]| b.len() > 0x40 && &b[0x38..0x3c] == magic;
    if is_image(&bytes) {
        return Ok((bytes, "flat Image"));
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).map_err(|e| format!("gunzip kernel: {e}"))?;
        if is_image(&out) {
            return Ok((out, "gzip-compressed Image, unpacked"));
        }
        return Err(format!("the gzip'ed kernel is not a {} Image", arch.deb()));
    }
    if bytes.starts_with(b"\x7fELF") {
        return Err("the kernel is an ELF vmlinux, not a flat Image (objcopy -O binary would be needed)".into());
    }
    Err(format!("the kernel has no {} Image magic at 0x38", arch.deb()))
}

/// Checks that `bytes` is a static 64-bit little-endian ELF executable for `arch`.
pub fn check_static_elf(arch: Arch, b: &[u8]) -> Result<()> {
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 || b[5] != 1 {
        return Err("not a 64-bit little-endian ELF".into());
    }
    if u16_at(18) != arch.elf_machine() {
        return Err(format!("ELF machine {} is not {}", u16_at(18), arch.deb()));
    }
    let phoff = u64::from_le_bytes(b[32..40].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(54) as usize, u16_at(56) as usize);
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        if o + 4 > b.len() {
            return Err("truncated program headers".into());
        }
        if u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) == 3 {
            return Err("dynamically linked (has PT_INTERP)".into());
        }
    }
    Ok(())
}

/// The initramfs (uncompressed): busybox, `/init`, the usual folders and the two device nodes
/// the console needs before devtmpfs is mounted. Deterministic bytes for deterministic inputs.
pub fn initramfs_cpio(busybox: &[u8]) -> Result<Vec<u8>> {
    initramfs_cpio_with_init(busybox, INIT_SCRIPT)
}

/// [`initramfs_cpio`] with another `/init` (e.g. the benchmark's, see `bench_linux.rs`).
pub fn initramfs_cpio_with_init(busybox: &[u8], init: &str) -> Result<Vec<u8>> {
    let mut entries = vec![
        Entry::file("init", 0o755, init.as_bytes().to_vec()),
        Entry::file("bin/busybox", 0o755, busybox.to_vec()),
        Entry::symlink("bin/sh", "busybox"),
        Entry::symlink("sbin", "bin"),
        Entry::char_dev("dev/console", 0o600, 5, 1),
        Entry::char_dev("dev/null", 0o666, 1, 3),
        Entry::file("etc/passwd", 0o644, b"root:x:0:0:root:/root:/bin/sh\n".to_vec()),
        Entry::file("etc/group", 0o644, b"root:x:0:\n".to_vec()),
    ];
    for (d, perm) in [("bin", 0o755), ("dev", 0o755), ("etc", 0o755), ("mnt", 0o755), ("proc", 0o555)] {
        entries.push(Entry::dir(d, perm));
    }
    for (d, perm) in [("root", 0o700), ("sys", 0o555), ("tmp", 0o1777)] {
        entries.push(Entry::dir(d, perm));
    }
    let mut out = Vec::new();
    cpio::write_archive(&mut out, &entries).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The initramfs as the kernel takes it: gzip'ed (fixed header mtime, so deterministic too).
pub fn build_initramfs(busybox: &[u8]) -> Result<Vec<u8>> {
    gzip_deterministic(&initramfs_cpio(busybox)?)
}

/// gzip with a fixed header mtime (deterministic bytes for deterministic input).
pub fn gzip_deterministic(data: &[u8]) -> Result<Vec<u8>> {
    let mut gz = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
    gz.write_all(data).map_err(|e| e.to_string())?;
    gz.finish().map_err(|e| e.to_string())
}

/// Whether `initramfs.cpio.gz` still holds what this xtask would build from this busybox (the
/// recipe — /init, folders, device nodes — may have changed since it was built).
fn initramfs_current(lay: &Layout) -> bool {
    let (Ok(busybox), Ok(gz)) = (std::fs::read(lay.file(BUSYBOX)), std::fs::read(lay.file(INITRAMFS))) else {
        return false;
    };
    let mut have = Vec::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut have).is_ok() && initramfs_cpio(&busybox).ok() == Some(have)
}

pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    f.write_all(data).and_then(|_| f.sync_all()).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

fn find_file(dir: &Path, pred: &dyn Fn(&Path) -> bool) -> Option<PathBuf> {
    let mut rd: Vec<_> = std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).collect();
    rd.sort();
    for p in rd {
        if p.is_symlink() {
            continue;
        }
        if p.is_dir() {
            if let Some(f) = find_file(&p, pred) {
                return Some(f);
            }
        } else if pred(&p) {
            return Some(p);
        }
    }
    None
}

/// Extracts `deb` into `<arch>/<tree>` (replacing what was there).
fn extract(lay: &Layout, role: Role, deb: &Path) -> Result<PathBuf> {
    let dest = lay.dir.join(role.tree());
    let tmp = lay.dir.join(format!(".{}.tmp", role.tree()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb)
        .arg(&tmp)
        .status()
        .map_err(|e| format!("running dpkg-deb (Debian's dpkg is needed): {e}"))?;
    if !status.success() {
        return Err(format!("dpkg-deb -x {} failed ({status})", deb.display()));
    }
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    }
    std::fs::rename(&tmp, &dest).map_err(|e| e.to_string())?;
    Ok(dest)
}

/// Takes this role's output files out of its extracted tree.
fn install_outputs(lay: &Layout, role: Role, tree: &Path) -> Result<()> {
    match role {
        Role::Kernel => {
            let boot = tree.join("boot");
            let mut cands: Vec<PathBuf> = std::fs::read_dir(&boot)
                .map_err(|e| format!("{}: {e}", boot.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("vmlinu")))
                .collect();
            cands.sort();
            let src = cands.first().ok_or("no /boot/vmlinu* in the kernel package")?;
            let (image, how) = kernel_image(lay.arch, std::fs::read(src).map_err(|e| e.to_string())?)
                .map_err(|e| format!("{}: {e}", src.display()))?;
            let fname = src.file_name().unwrap().to_string_lossy().into_owned();
            println!("fetch-guests: kernel /boot/{fname}: {how}, {} bytes", image.len());
            write_atomic(&lay.file(IMAGE), &image)?;
            let release = fname.split_once('-').map(|x| x.1).unwrap_or("").to_string();
            let rel = ["usr/lib/modules", "lib/modules"]
                .iter()
                .map(|m| format!("{}/{m}/{release}", role.tree()))
                .find(|r| lay.dir.join(r).is_dir())
                .ok_or(format!("no modules folder for {release} in the kernel package"))?;
            let link = lay.modules();
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&rel, &link).map_err(|e| e.to_string())?;
        }
        Role::Busybox => {
            let src = ["usr/bin/busybox", "bin/busybox"]
                .iter()
                .map(|p| tree.join(p))
                .find(|p| p.is_file())
                .ok_or("no busybox binary in busybox-static")?;
            let bytes = std::fs::read(&src).map_err(|e| e.to_string())?;
            check_static_elf(lay.arch, &bytes).map_err(|e| format!("{}: {e}", src.display()))?;
            write_atomic(&lay.file(BUSYBOX), &bytes)?;
            std::fs::set_permissions(lay.file(BUSYBOX), std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .map_err(|e| e.to_string())?;
        }
        Role::Opensbi => {
            // Debian's 1.5.1 backport: usr/lib/riscv64-linux-gnu/opensbi/generic/; other versions
            // have used usr/lib/riscv64-linux-generic/.
            let src = find_file(tree, &|p: &Path| {
                let s = p.strip_prefix(tree).unwrap_or(p).to_string_lossy().into_owned();
                s.ends_with("/fw_dynamic.bin") && s.contains("riscv64-") && s.contains("generic")
            })
            .ok_or("no riscv64 generic fw_dynamic.bin in opensbi")?;
            println!("fetch-guests: firmware {}", src.strip_prefix(tree).unwrap_or(&src).display());
            write_atomic(&lay.file(FIRMWARE), &std::fs::read(&src).map_err(|e| e.to_string())?)?;
        }
        Role::Uboot => {
            let (board, out) = match lay.arch {
                Arch::Riscv64 => ("qemu-riscv64_smode", UBOOT_SMODE),
                Arch::Arm64 => ("qemu_arm64", UBOOT),
            };
            let src = tree.join(format!("usr/lib/u-boot/{board}/u-boot.bin"));
            let bytes = std::fs::read(&src).map_err(|e| format!("no {board} U-Boot in u-boot-qemu: {e}"))?;
            write_atomic(&lay.file(out), &bytes)?;
        }
    }
    Ok(())
}

pub fn fmt_size(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1 << 20) as f64)
    } else {
        format!("{:.0} KiB", n as f64 / 1024.0)
    }
}

/// Gets this role's .deb into `debs/` (reusing a cached one whose hash matches what `PACKAGES`
/// recorded, unless `update`), returning the apt spec and the index's description.
fn acquire(
    lay: &Layout,
    apt: &mut Apt,
    role: Role,
    recorded: Option<&(String, DebInfo)>,
    update: bool,
) -> Result<(String, DebInfo)> {
    if let (false, Some((spec, info))) = (update, recorded) {
        let deb = lay.debs.join(&info.file);
        if sha256_file(&deb).is_ok_and(|h| h == info.sha256) {
            println!("fetch-guests: using cached {} (sha256 ok)", info.file);
            return Ok((spec.clone(), info.clone()));
        }
    }
    let attempt = |apt: &mut Apt| -> Result<(String, DebInfo)> {
        apt.ensure_lists()?;
        let spec = apt.spec(lay.arch, role)?;
        let info = apt.info(&spec)?;
        let deb = lay.debs.join(&info.file);
        if sha256_file(&deb).is_ok_and(|h| h == info.sha256) {
            println!("fetch-guests: {} already downloaded (sha256 ok)", info.file);
        } else {
            println!("fetch-guests: downloading {spec}: {} ({})", info.file, fmt_size(info.size));
            let _ = std::fs::remove_file(&deb);
            apt.download(&spec, &lay.debs)?;
            let got = sha256_file(&deb).map_err(|e| format!("{}: {e}", deb.display()))?;
            if got != info.sha256 {
                return Err(format!("{}: sha256 {got} does not match the index's {}", info.file, info.sha256));
            }
        }
        Ok((spec, info))
    };
    let result = match attempt(apt) {
        Err(e) if !apt.updated => {
            println!("fetch-guests: {e}\nfetch-guests: retrying after apt-get update");
            apt.update()?;
            attempt(apt)
        }
        r => r,
    }?;
    // Drop superseded versions of this package.
    if let Ok(rd) = std::fs::read_dir(&lay.debs) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            // Same package and architecture (both kernels share the prefix and the folder).
            let arch_suffix = result.1.file.rsplit_once('_').map_or(".deb", |(_, a)| a);
            if n.starts_with(role.deb_prefix()) && n.ends_with(arch_suffix) && n != result.1.file {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(result)
}

/// Paths of a ready guest.
pub struct Guest {
    pub image: PathBuf,
    pub firmware: PathBuf,
    pub initramfs: PathBuf,
}

/// Makes sure the riscv64 guest (the default one) is cached and verified; see [`ensure_arch`].
pub fn ensure(update: bool) -> Result<Guest> {
    ensure_arch(Arch::Riscv64, update)
}

/// Makes sure `arch`'s guest is cached and verified; fetches and builds what is missing.
/// With `update`, asks the mirror for newer packages first.
pub fn ensure_arch(arch: Arch, update: bool) -> Result<Guest> {
    let start = Instant::now();
    let lay = Layout::for_arch(&repo_root(), arch);
    let outputs = arch.outputs();
    let a = arch.deb();
    for d in [&lay.debs, &lay.dir] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let sums = std::fs::read_to_string(lay.sums()).map(|t| parse_sums(&t)).unwrap_or_default();
    let mut pkgs = std::fs::read_to_string(lay.packages()).map(|t| parse_packages(&t)).unwrap_or_default();
    let mut checks: BTreeMap<String, Check> = check_files(&lay.dir, &sums, &outputs).into_iter().collect();
    if checks[BUSYBOX].is_ok() && checks[INITRAMFS].is_ok() && !initramfs_current(&lay) {
        println!("fetch-guests: the initramfs recipe changed (xtask/src/guests.rs), will rebuild it");
        checks.insert(INITRAMFS.into(), Check::Stale);
    }
    let modules_ok = lay.modules().is_dir();
    let all_recorded = arch.roles().iter().all(|r| pkgs.contains_key(r.name()));
    let guest = Guest { image: lay.file(IMAGE), firmware: lay.file(FIRMWARE), initramfs: lay.file(INITRAMFS) };

    if !update && modules_ok && all_recorded && checks.values().all(Check::is_ok) {
        println!(
            "fetch-guests: {a} guest cached and verified in {:.2} s (no network), {}:",
            start.elapsed().as_secs_f64(),
            lay.dir.display()
        );
        print_summary(&lay, &outputs, &checks, &pkgs);
        return Ok(guest);
    }
    for (name, c) in &checks {
        match c {
            Check::Ok(_) | Check::Stale => {}
            Check::Missing => println!("fetch-guests: {name}: missing, will (re)build it"),
            Check::Unrecorded => {
                println!("fetch-guests: {name}: not in SHA256SUMS, will rebuild it")
            }
            Check::Mismatch { expected, actual } => {
                println!("fetch-guests: {name}: sha256 {actual} != recorded {expected}, will rebuild it")
            }
        }
    }
    if !modules_ok {
        println!("fetch-guests: kernel modules folder missing, will re-extract the kernel");
    }

    let mut apt = Apt::new(&lay.apt)?;
    if update {
        apt.update()?;
    }
    let mut rebuilt_busybox = false;
    for &role in arch.roles() {
        let outputs_ok = role.outputs(arch).iter().all(|o| checks[*o].is_ok());
        let needed = !outputs_ok || !pkgs.contains_key(role.name()) || (role == Role::Kernel && !modules_ok);
        if !needed && !update {
            continue;
        }
        let (spec, info) = acquire(&lay, &mut apt, role, pkgs.get(role.name()), update)?;
        let same = pkgs.get(role.name()).is_some_and(|(_, old)| *old == info);
        if !needed && same {
            println!("fetch-guests: {} is up to date", info.name_version());
            continue;
        }
        let tree = extract(&lay, role, &lay.debs.join(&info.file))?;
        install_outputs(&lay, role, &tree)?;
        rebuilt_busybox |= role == Role::Busybox;
        pkgs.insert(role.name().to_string(), (spec, info));
    }
    write_atomic(&lay.packages(), format_packages(&pkgs).as_bytes())?;

    if rebuilt_busybox || !checks[INITRAMFS].is_ok() {
        let busybox = std::fs::read(lay.file(BUSYBOX)).map_err(|e| e.to_string())?;
        let cpio = build_initramfs(&busybox)?;
        write_atomic(&lay.file(INITRAMFS), &cpio)?;
        println!("fetch-guests: built {} ({})", INITRAMFS, fmt_size(cpio.len() as u64));
    }
    // Entries for other files here (e.g. the benchmark's initramfs) stay while the file does.
    let mut new_sums: BTreeMap<String, String> =
        sums.into_iter().filter(|(n, _)| !outputs.contains(&n.as_str()) && lay.file(n).is_file()).collect();
    for &name in &outputs {
        let h = sha256_file(&lay.file(name)).map_err(|e| format!("{name}: {e}"))?;
        new_sums.insert(name.to_string(), h);
    }
    write_atomic(&lay.sums(), format_sums(&new_sums).as_bytes())?;
    let checks: BTreeMap<String, Check> = check_files(&lay.dir, &new_sums, &outputs).into_iter().collect();
    println!("fetch-guests: {a} guest ready in {:.1} s, {}:", start.elapsed().as_secs_f64(), lay.dir.display());
    print_summary(&lay, &outputs, &checks, &pkgs);
    Ok(guest)
}

fn print_summary(
    lay: &Layout,
    outputs: &[&str],
    checks: &BTreeMap<String, Check>,
    pkgs: &BTreeMap<String, (String, DebInfo)>,
) {
    let from = |name: &str| -> String {
        let role = lay.arch.roles().iter().find(|r| r.outputs(lay.arch).contains(&name));
        match role.and_then(|r| pkgs.get(r.name())) {
            Some((_, info)) => format!("from {}", info.name_version()),
            None => "built here (cpio newc + gzip)".into(),
        }
    };
    for &name in outputs {
        let size = std::fs::metadata(lay.file(name)).map(|m| m.len()).unwrap_or(0);
        let hash = match &checks[name] {
            Check::Ok(h) => h[..16].to_string(),
            _ => "?".into(),
        };
        println!("  {name:<18} {:>10}  sha256 {hash}…  {}", fmt_size(size), from(name));
    }
    if let Ok(target) = std::fs::read_link(lay.modules()) {
        println!("  {:<18} -> {}", "modules", target.display());
    }
}

// ---------------------------------------------------------------------------------------------
// Commands

pub fn fetch_cmd(args: &[String]) -> Result<()> {
    let mut update = false;
    for a in args {
        match a.as_str() {
            "--update" => update = true,
            _ => return Err(format!("fetch-guests: unknown option {a} (usage: cargo xtask fetch-guests [--update])")),
        }
    }
    for arch in Arch::ALL {
        ensure_arch(arch, update)?;
    }
    crate::rootdisk::ensure(&Layout::new(&repo_root())).map(|_| ())
}

/// `cargo xtask boot [--arm64] [--qemu] [EXTRA ARGS...]`: boots the guest (riscv64 by default)
/// with stdio inherited; the process becomes the emulator, so its exit status is ours.
/// `MIMIC=/path/to/mimic` skips the build and boots that binary.
pub fn boot_cmd(args: &[String]) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let mut rest = args;
    let mut arch = Arch::Riscv64;
    let mut qemu = false;
    loop {
        match rest.first().map(String::as_str) {
            Some("--arm64") => arch = Arch::Arm64,
            Some("--qemu") => qemu = true,
            _ => break,
        }
        rest = &rest[1..];
    }
    let g = ensure_arch(arch, false)?;
    let root = repo_root();
    let mut cmd = if qemu {
        let mut c = Command::new(match arch {
            Arch::Riscv64 => "qemu-system-riscv64",
            Arch::Arm64 => "qemu-system-aarch64",
        });
        c.args(["-accel", "tcg", "-nic", "none"]);
        c
    } else if let Some(bin) = std::env::var_os("MIMIC") {
        // A given binary (e.g. another build), no cargo build.
        Command::new(bin)
    } else {
        let status = Command::new("cargo")
            .args(["build", "--release", "-p", "mimic-cli"])
            .current_dir(&root)
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("building mimic failed".into());
        }
        let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or(root.join("target"));
        Command::new(target.join("release/mimic"))
    };
    cmd.args(["-M", "virt", "-m", "512M", "-smp", "1", "-nographic"]);
    match arch {
        Arch::Riscv64 => cmd.arg("-bios").arg(&g.firmware),
        Arch::Arm64 => cmd.args(["-cpu", "cortex-a57"]),
    };
    let console = match arch {
        Arch::Riscv64 => "console=ttyS0",
        Arch::Arm64 => "console=ttyAMA0",
    };
    cmd.arg("-kernel").arg(&g.image).arg("-initrd").arg(&g.initramfs).args(["-append", console]).args(rest);
    eprintln!("boot: {cmd:?}\nboot: /init prints `{INIT_MARKER} uptime=...`, then runs a shell; `poweroff -f` ends it");
    let err = cmd.exec();
    Err(format!("exec {:?}: {err}", cmd.get_program()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("xtask-guests-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn sums_round_trip_and_sha256sum_format() {
        let mut m = BTreeMap::new();
        m.insert("b".to_string(), "1".repeat(64));
        m.insert("a".to_string(), "F".repeat(64));
        let text = format_sums(&m);
        assert_eq!(text, format!("{}  a\n{}  b\n", "F".repeat(64), "1".repeat(64)));
        let back = parse_sums(&text);
        assert_eq!(back["a"], "f".repeat(64));
        assert_eq!(back["b"], "1".repeat(64));
        // Binary-mode lines and junk.
        let p = parse_sums(&format!("{} *c.bin\nnot a line\n{}  \n", "2".repeat(64), "3".repeat(64)));
        assert_eq!(p.len(), 1);
        assert_eq!(p["c.bin"], "2".repeat(64));
    }

    #[test]
    fn check_detects_ok_missing_unrecorded_and_mismatch() {
        let d = tempdir("check");
        std::fs::write(d.join("good"), b"hello").unwrap();
        std::fs::write(d.join("bad"), b"tampered").unwrap();
        std::fs::write(d.join("new"), b"x").unwrap();
        let mut sums = BTreeMap::new();
        sums.insert("good".to_string(), sha256_hex(b"hello"));
        sums.insert("bad".to_string(), sha256_hex(b"original"));
        sums.insert("gone".to_string(), sha256_hex(b"x"));
        let r: BTreeMap<String, Check> = check_files(&d, &sums, &["good", "bad", "gone", "new"]).into_iter().collect();
        assert_eq!(r["good"], Check::Ok(sha256_hex(b"hello")));
        assert_eq!(r["bad"], Check::Mismatch { expected: sha256_hex(b"original"), actual: sha256_hex(b"tampered") });
        assert_eq!(r["gone"], Check::Missing);
        assert_eq!(r["new"], Check::Unrecorded);
        // What ensure() writes after a rebuild verifies.
        let mut fresh = BTreeMap::new();
        for n in ["good", "bad", "new"] {
            fresh.insert(n.to_string(), sha256_file(&d.join(n)).unwrap());
        }
        let again = parse_sums(&format_sums(&fresh));
        assert!(check_files(&d, &again, &["good", "bad", "new"]).iter().all(|(_, c)| c.is_ok()));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn mirror_parsing() {
        let deb822 = "Types: deb\n# a comment\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n\
                      Components: main\nSigned-By: /usr/share/keyrings/k.gpg\n\n\
                      Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n";
        assert_eq!(
            mirror_from_deb822(deb822, "bookworm"),
            Some(("http://mirror.example/debian".into(), Some("/usr/share/keyrings/k.gpg".into())))
        );
        assert_eq!(mirror_from_deb822(deb822, "bookworm-security").unwrap().0, "http://mirror.example/debian-security");
        assert_eq!(mirror_from_deb822(deb822, "trixie"), None);
        let list = "# deb http://old/ bookworm main\ndeb-src http://src/ bookworm main\n\
                    deb [signed-by=/k.gpg arch=amd64] http://m/debian bookworm main contrib\n";
        assert_eq!(mirror_from_list(list, "bookworm").as_deref(), Some("http://m/debian"));
        assert_eq!(mirror_from_list("deb http://m/ bookworm-updates main\n", "bookworm"), None);
    }

    #[test]
    fn apt_output_parsing() {
        let out = "linux-image-riscv64:riscv64\n  Depends: linux-image-6.12.117+deb13-riscv64:riscv64\n";
        assert_eq!(parse_kernel_depends(out, "riscv64").as_deref(), Some("linux-image-6.12.117+deb13-riscv64"));
        assert_eq!(parse_kernel_depends(out, "arm64"), None);
        let uris = "'http://m/pool/main/b/busybox/busybox-static_1.37.0-6%2bb9_riscv64.deb' \
                    busybox-static_1%3a1.37.0-6+b9_riscv64.deb 941532 SHA256:4ADD476D\n";
        let info = parse_print_uris(uris).unwrap();
        assert_eq!(
            info,
            DebInfo {
                file: "busybox-static_1%3a1.37.0-6+b9_riscv64.deb".into(),
                size: 941532,
                sha256: "4add476d".into()
            }
        );
        assert_eq!(info.name_version(), "busybox-static 1:1.37.0-6+b9");
        let mut m = BTreeMap::new();
        m.insert("busybox-static".to_string(), ("busybox-static:riscv64".to_string(), info));
        assert_eq!(parse_packages(&format_packages(&m)), m);
    }

    #[test]
    fn kernel_formats() {
        let mut img = vec![0u8; 0x100];
        img[0x38..0x3c].copy_from_slice(b"RSC\x05");
        assert_eq!(kernel_image(Arch::Riscv64, img.clone()).unwrap().0, img);
        assert!(kernel_image(Arch::Arm64, img.clone()).unwrap_err().contains("arm64"));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&img).unwrap();
        assert_eq!(kernel_image(Arch::Riscv64, gz.finish().unwrap()).unwrap().0, img);
        let mut arm = vec![0u8; 0x100];
        arm[0x38..0x3c].copy_from_slice(b"ARM\x64");
        assert_eq!(kernel_image(Arch::Arm64, arm.clone()).unwrap().0, arm);
        assert!(kernel_image(Arch::Riscv64, b"\x7fELF\x02\x01\x01".iter().copied().chain([0; 0x80]).collect())
            .unwrap_err()
            .contains("ELF"));
    }

    #[test]
    fn initramfs_is_deterministic_and_complete() {
        // A minimal static riscv64 ELF header: no program headers.
        let mut elf = vec![0u8; 64];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[18] = 243;
        check_static_elf(Arch::Riscv64, &elf).unwrap();
        assert!(check_static_elf(Arch::Arm64, &elf).unwrap_err().contains("arm64"));
        let a = build_initramfs(&elf).unwrap();
        assert_eq!(a, build_initramfs(&elf).unwrap());
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&a[..]).read_to_end(&mut raw).unwrap();
        let entries = cpio::read_archive(&raw).unwrap();
        let get = |p: &str| entries.iter().find(|e| e.path == p).unwrap_or_else(|| panic!("no {p}"));
        assert_eq!(get("dev/console").kind, cpio::Kind::CharDev { major: 5, minor: 1 });
        assert_eq!(get("bin/busybox").kind, cpio::Kind::File(elf));
        assert_eq!(get("bin/sh").kind, cpio::Kind::Symlink("busybox".into()));
        let cpio::Kind::File(init) = &get("init").kind else { panic!() };
        let init = String::from_utf8_lossy(init);
        assert!(
            init.starts_with("#!/bin/sh\n")
                && init.contains("echo \"MIMIC-INIT-READY uptime=$(cut -d' ' -f1 /proc/uptime)\"")
        );
        assert!(init.contains(INIT_MARKER));
        for d in ["proc", "sys", "tmp", "root", "etc", "dev"] {
            assert_eq!(get(d).kind, cpio::Kind::Dir);
        }
    }
}
