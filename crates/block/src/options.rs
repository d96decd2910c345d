//! `-drive` options: what the user asked for, parsed the way QEMU parses them.

use crate::Error;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Image format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Bytes of the file are bytes of the disk.
    Raw,
    /// QEMU copy-on-write v2/v3.
    Qcow2,
}

impl Format {
    /// QEMU's name for the format.
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Qcow2 => "qcow2",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "raw" => Ok(Format::Raw),
            "qcow2" => Ok(Format::Qcow2),
            other => Err(Error::UnsupportedFormat(other.to_string())),
        }
    }
}

/// QEMU's `cache=` modes.
///
/// | mode         | host page cache | guest flush reaches disk | flush after every write |
/// |--------------|-----------------|--------------------------|-------------------------|
/// | writeback    | yes             | yes                      | no                      |
/// | none         | no (O_DIRECT)   | yes                      | no                      |
/// | directsync   | no (O_DIRECT)   | yes                      | yes                     |
/// | writethrough | yes             | yes                      | yes                     |
/// | unsafe       | yes             | no (flushes ignored)     | no                      |
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CacheMode {
    /// QEMU's default.
    #[default]
    Writeback,
    /// O_DIRECT, flushes honoured.
    None,
    /// O_DIRECT and a flush after every write.
    DirectSync,
    /// Page cache, a flush after every write.
    Writethrough,
    /// Flushes are ignored.
    Unsafe,
}

impl CacheMode {
    /// Bypass the host page cache (O_DIRECT)?
    pub fn direct(self) -> bool {
        matches!(self, CacheMode::None | CacheMode::DirectSync)
    }
    /// Are guest flushes ignored?
    pub fn no_flush(self) -> bool {
        matches!(self, CacheMode::Unsafe)
    }
    /// Is every write followed by a flush (the device reports a write-through cache)?
    pub fn write_through(self) -> bool {
        matches!(self, CacheMode::DirectSync | CacheMode::Writethrough)
    }
    /// QEMU's name for the mode.
    pub fn name(self) -> &'static str {
        match self {
            CacheMode::Writeback => "writeback",
            CacheMode::None => "none",
            CacheMode::DirectSync => "directsync",
            CacheMode::Writethrough => "writethrough",
            CacheMode::Unsafe => "unsafe",
        }
    }
}

impl FromStr for CacheMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "writeback" => CacheMode::Writeback,
            "none" | "off" => CacheMode::None,
            "directsync" => CacheMode::DirectSync,
            "writethrough" => CacheMode::Writethrough,
            "unsafe" => CacheMode::Unsafe,
            other => return Err(Error::invalid_value("cache", other)),
        })
    }
}

/// QEMU's `discard=`: whether guest discard requests free space in the image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DiscardMode {
    /// QEMU's default: discard requests succeed and do nothing.
    #[default]
    Ignore,
    /// Discard requests are passed to the image (qcow2 clusters freed, raw holes punched).
    Unmap,
}

impl FromStr for DiscardMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "ignore" | "off" => Ok(DiscardMode::Ignore),
            "unmap" | "on" => Ok(DiscardMode::Unmap),
            other => Err(Error::invalid_value("discard", other)),
        }
    }
}

/// QEMU's `if=`: which kind of controller the CLI should attach the drive to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interface {
    /// `if=none`: only a backend; a `-device ...,drive=ID` uses it.
    None,
    /// `if=virtio`
    Virtio,
    /// `if=ide`
    Ide,
    /// `if=scsi`
    Scsi,
    /// `if=sd`
    Sd,
    /// `if=pflash`
    Pflash,
    /// `if=mtd`
    Mtd,
    /// `if=floppy`
    Floppy,
}

impl FromStr for Interface {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "none" => Interface::None,
            "virtio" => Interface::Virtio,
            "ide" => Interface::Ide,
            "scsi" => Interface::Scsi,
            "sd" => Interface::Sd,
            "pflash" => Interface::Pflash,
            "mtd" => Interface::Mtd,
            "floppy" => Interface::Floppy,
            other => Err(Error::invalid_value("if", other))?,
        })
    }
}

/// QEMU's `media=`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Media {
    /// A disk.
    #[default]
    Disk,
    /// A CD-ROM: always read-only.
    Cdrom,
}

/// What `-drive` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriveOptions {
    /// `file=`: the image.
    pub file: PathBuf,
    /// `format=`; `None` means probe (qcow2 magic → qcow2, else raw with a warning).
    pub format: Option<Format>,
    /// `readonly=on`.
    pub read_only: bool,
    /// `snapshot=on`: writes go to a temporary overlay that is deleted at exit.
    pub snapshot: bool,
    /// `cache=`.
    pub cache: CacheMode,
    /// `discard=`.
    pub discard: DiscardMode,
    /// `if=`; `None` when not given (the board's default interface).
    pub interface: Option<Interface>,
    /// `id=`.
    pub id: Option<String>,
    /// `media=`.
    pub media: Media,
    /// `index=`.
    pub index: Option<u32>,
    /// `bus=`.
    pub bus: Option<u32>,
    /// `unit=`.
    pub unit: Option<u32>,
}

impl DriveOptions {
    /// Options for `file` with QEMU's defaults (probe the format, read-write, cache=writeback).
    pub fn new(file: impl Into<PathBuf>) -> Self {
        DriveOptions {
            file: file.into(),
            format: None,
            read_only: false,
            snapshot: false,
            cache: CacheMode::default(),
            discard: DiscardMode::default(),
            interface: None,
            id: None,
            media: Media::default(),
            index: None,
            bus: None,
            unit: None,
        }
    }

    /// Builder-style: set the format.
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }
    /// Builder-style: set read-only.
    pub fn read_only(mut self, ro: bool) -> Self {
        self.read_only = ro;
        self
    }
    /// Builder-style: set snapshot mode.
    pub fn snapshot(mut self, on: bool) -> Self {
        self.snapshot = on;
        self
    }
    /// Builder-style: set the cache mode.
    pub fn cache(mut self, cache: CacheMode) -> Self {
        self.cache = cache;
        self
    }
    /// Builder-style: set the discard mode.
    pub fn discard(mut self, discard: DiscardMode) -> Self {
        self.discard = discard;
        self
    }

    /// Parse the argument of `-drive`, e.g.
    /// `file=disk.qcow2,format=qcow2,if=none,id=d0,cache=none`.
    ///
    /// QEMU rules: `key=value` pairs separated by `,`; a doubled `,,` is a literal comma inside a
    /// value (so `file=a,,b.img` names `a,b.img`); a bare boolean key (`readonly`) means `on`;
    /// booleans accept `on/off/yes/no/true/false`; a later key overrides an earlier one. Unknown
    /// keys are an error naming the key; `file=` is required.
    pub fn parse_drive(spec: &str) -> Result<Self, Error> {
        let mut opts = DriveOptions::new(PathBuf::new());
        let mut have_file = false;
        for (key, value) in split_opts(spec)? {
            let val = || value.clone().ok_or_else(|| Error::missing_value(&key));
            match key.as_str() {
                "file" => {
                    let v = val()?;
                    if v.is_empty() {
                        return Err(Error::Parse("drive: file= must not be empty".into()));
                    }
                    opts.file = PathBuf::from(v);
                    have_file = true;
                }
                "format" => opts.format = Some(val()?.parse()?),
                "if" => opts.interface = Some(val()?.parse()?),
                "id" => {
                    let v = val()?;
                    if !valid_id(&v) {
                        return Err(Error::Parse(format!(
                            "drive: invalid id '{v}' (must start with a letter and contain only letters, digits, '-', '.', '_')"
                        )));
                    }
                    opts.id = Some(v);
                }
                "readonly" | "read-only" => opts.read_only = parse_bool(&key, value.as_deref())?,
                "snapshot" => opts.snapshot = parse_bool(&key, value.as_deref())?,
                "cache" => opts.cache = val()?.parse()?,
                "discard" => opts.discard = val()?.parse()?,
                "media" => {
                    opts.media = match val()?.as_str() {
                        "disk" => Media::Disk,
                        "cdrom" => Media::Cdrom,
                        other => return Err(Error::invalid_value("media", other)),
                    }
                }
                "index" => opts.index = Some(parse_num(&key, &val()?)?),
                "bus" => opts.bus = Some(parse_num(&key, &val()?)?),
                "unit" => opts.unit = Some(parse_num(&key, &val()?)?),
                _ => return Err(Error::UnknownKey(key)),
            }
        }
        if !have_file {
            return Err(Error::Parse("drive: missing file= option".into()));
        }
        if opts.media == Media::Cdrom {
            opts.read_only = true;
        }
        Ok(opts)
    }
}

impl FromStr for DriveOptions {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        DriveOptions::parse_drive(s)
    }
}

/// Split a QEMU option string into `(key, Option<value>)` pairs, honouring `,,` escapes.
/// Exposed so the CLI can reuse it for `-device`, `-netdev` and friends.
pub fn split_opts(spec: &str) -> Result<Vec<(String, Option<String>)>, Error> {
    let mut out = Vec::new();
    let mut chars = spec.chars().peekable();
    while chars.peek().is_some() {
        // key: up to '=' or ','
        let mut key = String::new();
        let mut value = None;
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.peek() == Some(&'=') {
            chars.next();
            let mut v = String::new();
            while let Some(c) = chars.next() {
                if c == ',' {
                    if chars.peek() == Some(&',') {
                        chars.next();
                        v.push(',');
                        continue;
                    }
                    break;
                }
                v.push(c);
            }
            value = Some(v);
        } else if chars.peek() == Some(&',') {
            chars.next();
        }
        if key.is_empty() {
            if value.is_none() && out.is_empty() && spec.is_empty() {
                break;
            }
            return Err(Error::Parse(format!("invalid option list '{spec}': empty key")));
        }
        out.push((key, value));
    }
    Ok(out)
}

fn parse_bool(key: &str, value: Option<&str>) -> Result<bool, Error> {
    match value {
        None | Some("on") | Some("yes") | Some("true") => Ok(true),
        Some("off") | Some("no") | Some("false") => Ok(false),
        Some(other) => Err(Error::Parse(format!("drive: parameter '{key}' expects 'on' or 'off', got '{other}'"))),
    }
}

fn parse_num(key: &str, value: &str) -> Result<u32, Error> {
    value.parse().map_err(|_| Error::Parse(format!("drive: parameter '{key}' expects a number, got '{value}'")))
}

fn valid_id(id: &str) -> bool {
    let mut c = id.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic())
        && c.all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '.' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_spec() {
        let o = DriveOptions::parse_drive(
            "file=disk.qcow2,format=qcow2,if=none,id=d0,readonly=on,snapshot=off,cache=none,media=disk,discard=unmap",
        )
        .unwrap();
        assert_eq!(o.file, PathBuf::from("disk.qcow2"));
        assert_eq!(o.format, Some(Format::Qcow2));
        assert_eq!(o.interface, Some(Interface::None));
        assert_eq!(o.id.as_deref(), Some("d0"));
        assert!(o.read_only);
        assert!(!o.snapshot);
        assert_eq!(o.cache, CacheMode::None);
        assert_eq!(o.discard, DiscardMode::Unmap);
        assert_eq!(o.media, Media::Disk);
    }

    #[test]
    fn defaults() {
        let o = DriveOptions::parse_drive("file=x.img").unwrap();
        assert_eq!(o, DriveOptions::new("x.img"));
        assert_eq!(o.cache, CacheMode::Writeback);
        assert_eq!(o.discard, DiscardMode::Ignore);
        assert_eq!(o.format, None);
    }

    #[test]
    fn comma_escape() {
        let o = DriveOptions::parse_drive("file=a,,b,,,,c.img,format=raw").unwrap();
        assert_eq!(o.file, PathBuf::from("a,b,,c.img"));
        assert_eq!(o.format, Some(Format::Raw));
        // escaped comma at the very end of the list
        let o = DriveOptions::parse_drive("format=raw,file=x,,").unwrap();
        assert_eq!(o.file, PathBuf::from("x,"));
    }

    #[test]
    fn bare_booleans_and_spellings() {
        let o = DriveOptions::parse_drive("file=x,readonly,snapshot=yes").unwrap();
        assert!(o.read_only && o.snapshot);
        let o = DriveOptions::parse_drive("file=x,readonly=false,snapshot=true").unwrap();
        assert!(!o.read_only && o.snapshot);
        assert!(DriveOptions::parse_drive("file=x,readonly=maybe").is_err());
    }

    #[test]
    fn later_overrides_earlier() {
        let o = DriveOptions::parse_drive("file=a,file=b,cache=none,cache=unsafe").unwrap();
        assert_eq!(o.file, PathBuf::from("b"));
        assert_eq!(o.cache, CacheMode::Unsafe);
    }

    #[test]
    fn every_cache_mode() {
        for (s, m) in [
            ("writeback", CacheMode::Writeback),
            ("none", CacheMode::None),
            ("directsync", CacheMode::DirectSync),
            ("writethrough", CacheMode::Writethrough),
            ("unsafe", CacheMode::Unsafe),
        ] {
            let o = DriveOptions::parse_drive(&format!("file=x,cache={s}")).unwrap();
            assert_eq!(o.cache, m);
            assert_eq!(m.name(), s);
        }
        assert!(CacheMode::None.direct() && CacheMode::DirectSync.direct());
        assert!(!CacheMode::Writeback.direct() && !CacheMode::Writethrough.direct());
        assert!(CacheMode::Unsafe.no_flush() && !CacheMode::None.no_flush());
        assert!(CacheMode::Writethrough.write_through() && !CacheMode::Writeback.write_through());
    }

    #[test]
    fn unknown_key_names_the_key() {
        let err = DriveOptions::parse_drive("file=x,bogus=1").unwrap_err();
        assert!(matches!(&err, Error::UnknownKey(k) if k == "bogus"), "{err:?}");
        assert!(err.to_string().contains("'bogus'"), "{err}");
    }

    #[test]
    fn bad_values() {
        for spec in [
            "file=x,cache=sometimes",
            "file=x,format=vmdk",
            "file=x,if=usb",
            "file=x,media=tape",
            "file=x,discard=maybe",
            "file=x,index=minus",
            "file=x,id=0bad",
            "file=x,format",
            "format=raw",
            "file=",
            "",
            ",file=x",
        ] {
            assert!(DriveOptions::parse_drive(spec).is_err(), "{spec:?} should fail");
        }
        let e = DriveOptions::parse_drive("file=x,format=vmdk").unwrap_err();
        assert!(e.to_string().contains("vmdk"), "{e}");
    }

    #[test]
    fn cdrom_is_read_only() {
        let o = DriveOptions::parse_drive("file=x.iso,media=cdrom,index=2,bus=0,unit=1").unwrap();
        assert!(o.read_only);
        assert_eq!((o.index, o.bus, o.unit), (Some(2), Some(0), Some(1)));
    }

    #[test]
    fn split_opts_shapes() {
        assert_eq!(
            split_opts("a=1,b,c=x,,y").unwrap(),
            vec![("a".into(), Some("1".into())), ("b".into(), None), ("c".into(), Some("x,y".into()))]
        );
        assert_eq!(split_opts("a=").unwrap(), vec![("a".into(), Some(String::new()))]);
        assert!(split_opts("").unwrap().is_empty());
    }
}
