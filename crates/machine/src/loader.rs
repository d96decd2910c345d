//! Putting images into guest memory: ELF files by their program headers, anything else as raw
//! bytes at a given address.

use crate::Error;
use mimic_memory::AddressSpace;
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadedImage {
    /// Where execution should start (the ELF entry, or the load address of a raw image).
    pub entry: u64,
    /// Lowest and one-past-highest guest address written.
    pub low: u64,
    pub high: u64,
}

/// The guest architecture an image must be built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageArch {
    Riscv64,
    Aarch64,
}

impl ImageArch {
    fn elf_machine(self) -> elf::Machine {
        match self {
            ImageArch::Riscv64 => elf::EM_RISCV,
            ImageArch::Aarch64 => elf::EM_AARCH64,
        }
    }
    fn name(self) -> &'static str {
        match self {
            ImageArch::Riscv64 => "RISC-V",
            ImageArch::Aarch64 => "AArch64",
        }
    }
    /// The magic at 0x38 of its Linux `Image` header.
    fn image_magic(self) -> &'static [u8; 4] {
        match self {
            ImageArch::Riscv64 => b"RSC\x05",
            ImageArch::Aarch64 => b"ARM\x64",
        }
    }
}

/// Load `path` into `bus`: an ELF64 by its `PT_LOAD` segments (physical addresses), otherwise
/// raw at `raw_addr`.
pub fn load_elf_or_raw(
    bus: &mut AddressSpace,
    arch: ImageArch,
    what: &'static str,
    path: &Path,
    raw_addr: u64,
) -> Result<LoadedImage, Error> {
    let data = read_nonempty(what, path)?;
    if data.starts_with(&elf::ELFMAG) {
        load_elf(bus, arch, what, path, &data)
    } else {
        load_raw(bus, what, path, &data, raw_addr)
    }
}

fn read_nonempty(what: &'static str, path: &Path) -> Result<Vec<u8>, Error> {
    let data = std::fs::read(path).map_err(|source| Error::ReadFile { what, path: path.into(), source })?;
    if data.is_empty() {
        return Err(Error::BadImage { what, path: path.into(), reason: "the file is empty".into() });
    }
    Ok(data)
}

pub fn load_raw(
    bus: &mut AddressSpace,
    what: &'static str,
    path: &Path,
    data: &[u8],
    addr: u64,
) -> Result<LoadedImage, Error> {
    let len = data.len() as u64;
    bus.write_bytes(addr, data).map_err(|_| Error::DoesNotFit { what, path: path.into(), addr, len })?;
    Ok(LoadedImage { entry: addr, low: addr, high: addr + len })
}

fn load_elf(
    bus: &mut AddressSpace,
    arch: ImageArch,
    what: &'static str,
    path: &Path,
    data: &[u8],
) -> Result<LoadedImage, Error> {
    let bad = |reason: String| Error::BadImage { what, path: path.into(), reason };
    let hdr = elf::FileHeader64::<object::Endianness>::parse(data).map_err(|e| bad(format!("ELF header: {e}")))?;
    let endian = hdr.endian().map_err(|e| bad(format!("ELF header: {e}")))?;
    if hdr.e_machine(endian) != arch.elf_machine() {
        return Err(bad(format!("ELF machine {} is not {}", hdr.e_machine(endian), arch.name())));
    }
    let mut low = u64::MAX;
    let mut high = 0;
    for ph in hdr.program_headers(endian, data).map_err(|e| bad(format!("program headers: {e}")))? {
        if ph.p_type(endian) != elf::PT_LOAD || ph.p_memsz(endian) == 0 {
            continue;
        }
        let addr = ph.p_paddr(endian);
        let bytes = ph.data(endian, data).map_err(|_| bad("segment data lies outside the file".into()))?;
        let memsz = ph.p_memsz(endian);
        if (bytes.len() as u64) > memsz {
            return Err(bad("segment file size exceeds its memory size".into()));
        }
        let fits = |a: u64, l: u64| Error::DoesNotFit { what, path: path.into(), addr: a, len: l };
        bus.write_bytes(addr, bytes).map_err(|_| fits(addr, memsz))?;
        // The rest of the segment (.bss) reads as zero.
        let zeros = usize::try_from(memsz - bytes.len() as u64).map_err(|_| fits(addr, memsz))?;
        if zeros > 0 {
            let at = addr + bytes.len() as u64;
            bus.write_bytes(at, &vec![0; zeros]).map_err(|_| fits(addr, memsz))?;
        }
        low = low.min(addr);
        high = high.max(addr + memsz);
    }
    if low == u64::MAX {
        return Err(bad("no loadable segments".into()));
    }
    Ok(LoadedImage { entry: hdr.e_entry(endian), low, high })
}

/// Fields of the Linux `Image` header, the same for RISC-V and arm64
/// (Documentation/arch/riscv/boot-image-header.rst, Documentation/arch/arm64/booting.rst).
const IMAGE_TEXT_OFFSET: usize = 8;
const IMAGE_SIZE: usize = 16;
const IMAGE_MAGIC2_OFFSET: usize = 0x38;
const IMAGE_ALIGN: u64 = 2 << 20;

fn le64(data: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&data[at..at + 8]);
    u64::from_le_bytes(b)
}

/// Load a kernel. An ELF goes where its program headers say. A Linux `Image` goes at the
/// offset its header asks for from the start of RAM (`text_offset`), or at the first 2 MiB
/// boundary at or after `base` if firmware already occupies that; its `image_size` (which
/// covers .bss) bounds what follows. Anything else is raw at `base`.
pub fn load_kernel(
    bus: &mut AddressSpace,
    arch: ImageArch,
    path: &Path,
    base: u64,
    dram_start: u64,
) -> Result<LoadedImage, Error> {
    let data = read_nonempty("kernel", path)?;
    if data.starts_with(&elf::ELFMAG) {
        return load_elf(bus, arch, "kernel", path, &data);
    }
    let other = [ImageArch::Riscv64, ImageArch::Aarch64].into_iter().find(|a| *a != arch).unwrap_or(arch);
    let magic =
        |a: ImageArch| data.len() >= 0x40 && &data[IMAGE_MAGIC2_OFFSET..IMAGE_MAGIC2_OFFSET + 4] == a.image_magic();
    if magic(other) {
        return Err(Error::BadImage {
            what: "kernel",
            path: path.into(),
            reason: format!("this is a Linux Image for {}, the machine's CPU is {}", other.name(), arch.name()),
        });
    }
    if magic(arch) {
        let text_offset = le64(&data, IMAGE_TEXT_OFFSET);
        let image_size = le64(&data, IMAGE_SIZE);
        let want = dram_start.checked_add(text_offset).ok_or_else(|| Error::BadImage {
            what: "kernel",
            path: path.into(),
            reason: format!("text_offset {text_offset:#x} is out of range"),
        })?;
        let addr = want.max(base).next_multiple_of(IMAGE_ALIGN);
        let mut img = load_raw(bus, "kernel", path, &data, addr)?;
        img.high = img.high.max(addr.saturating_add(image_size));
        return Ok(img);
    }
    load_raw(bus, "kernel", path, &data, base)
}
