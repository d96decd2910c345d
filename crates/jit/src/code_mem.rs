//! Executable memory for generated code: one reserved region filled front to back. The region
//! is mapped twice, writable at one address and executable at another, so no page is ever both
//! writable and executable where code runs (W^X) and installing code needs no `mprotect` (whose
//! TLB shootdowns interrupted the compile thread's core at every install). When it is full the
//! tier recycles it whole and bumps its generation, so no handle to old code survives (QEMU's
//! `tb_flush` does the same).

use std::io;
use std::ptr::NonNull;

/// Generated functions start on this boundary (what Cranelift assumes of x86-64 functions).
const ALIGN: usize = 16;

pub struct CodeMemory {
    /// The executable view, where code runs.
    exec: NonNull<u8>,
    /// The writable view of the same pages, where code is copied in.
    write: NonNull<u8>,
    len: usize,
    used: usize,
}

// SAFETY: the mappings are owned by this value alone (no aliases are handed out except code
// addresses, which are only called on the thread that owns the tier), so moving it to another
// thread moves sole ownership.
unsafe impl Send for CodeMemory {}

impl CodeMemory {
    /// Reserve `len` bytes; pages are committed only when code is written.
    pub fn new(len: usize) -> io::Result<CodeMemory> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let len = len.next_multiple_of(page);
        // Shared anonymous memory rather than a memfd: `perf` reads `/tmp/perf-<pid>.map` (see
        // `-perfmap`) only for executable mappings it takes for anonymous ones, which a
        // memfd's name is not, and shared anonymous memory is listed as `/dev/zero`, which is.
        // SAFETY: a new shared anonymous mapping at an address of the kernel's choosing touches
        // no existing memory; the result is checked before use.
        let write = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if write == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let unmap_write = |e: io::Error| {
            // SAFETY: unmapping the view just mapped, which nothing uses.
            unsafe { libc::munmap(write, len) };
            Err(e)
        };
        // An old size of 0 maps the same shared pages a second time.
        // SAFETY: `write` is the shared mapping just made; the new view goes where the kernel
        // chooses (MREMAP_MAYMOVE), touching no other memory; the result is checked.
        let exec = unsafe { libc::mremap(write, 0, len, libc::MREMAP_MAYMOVE) };
        if exec == libc::MAP_FAILED {
            return unmap_write(io::Error::last_os_error());
        }
        // SAFETY: `exec` is the second view just made; only its protection changes.
        if unsafe { libc::mprotect(exec, len, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            let e = io::Error::last_os_error();
            // SAFETY: unmapping the view just made, which nothing uses.
            unsafe { libc::munmap(exec, len) };
            return unmap_write(e);
        }
        let (Some(write), Some(exec)) = (NonNull::new(write.cast::<u8>()), NonNull::new(exec.cast::<u8>())) else {
            return Err(io::Error::other("mmap returned null"));
        };
        Ok(CodeMemory { exec, write, len, used: 0 })
    }

    /// Copy `code` in; its executable address, or `None` when the region is full.
    pub fn push(&mut self, code: &[u8]) -> Option<usize> {
        let start = self.used.next_multiple_of(ALIGN);
        let end = start.checked_add(code.len())?;
        if end > self.len || code.is_empty() {
            return None;
        }
        // SAFETY: [start, end) lies inside the writable view (end <= len), past all code handed
        // out so far, so no code that may run is overwritten. x86-64 keeps instruction fetch
        // coherent with stores through another mapping of the same pages.
        unsafe {
            std::ptr::copy_nonoverlapping(code.as_ptr(), self.write.as_ptr().add(start), code.len());
        }
        self.used = end;
        Some(self.exec.as_ptr() as usize + start)
    }

    /// Forget all code (the caller has voided every handle to it) and give the pages back.
    pub fn reset(&mut self) {
        // SAFETY: the region is ours; removing its pages (from both views) affects no other
        // memory, and no handle to code in it is used again.
        unsafe {
            libc::madvise(self.write.as_ptr().cast(), self.len, libc::MADV_REMOVE);
        }
        self.used = 0;
    }

    pub fn used(&self) -> usize {
        self.used
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        // SAFETY: unmapping the views this value mapped; nothing runs from them any more (the
        // tier that owns it is being dropped).
        unsafe {
            libc::munmap(self.exec.as_ptr().cast(), self.len);
            libc::munmap(self.write.as_ptr().cast(), self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_code_is_aligned_and_readable() {
        let mut m = CodeMemory::new(1 << 16).unwrap();
        let a = m.push(&[0xc3]).unwrap();
        let b = m.push(&[0x90, 0xc3]).unwrap();
        assert_eq!(a % ALIGN, 0);
        assert_eq!(b % ALIGN, 0);
        assert_eq!(b - a, ALIGN);
    }

    #[test]
    fn pushed_code_reads_back_at_its_executable_address() {
        let mut m = CodeMemory::new(1 << 16).unwrap();
        m.push(&[1, 2, 3]).unwrap();
        let a = m.push(&[0x90, 0xc3]).unwrap();
        // SAFETY: `a` is the executable view's copy of the two bytes just pushed (readable).
        let back = unsafe { std::slice::from_raw_parts(a as *const u8, 2) };
        assert_eq!(back, [0x90, 0xc3]);
    }

    #[test]
    fn full_region_refuses_then_reset_makes_room() {
        let mut m = CodeMemory::new(4096).unwrap();
        assert!(m.push(&[0u8; 4096]).is_some());
        assert!(m.push(&[0u8; 16]).is_none());
        m.reset();
        assert!(m.push(&[0u8; 16]).is_some());
    }

    #[test]
    fn the_executable_view_is_one_perf_takes_for_anonymous_memory() {
        let mut m = CodeMemory::new(1 << 16).unwrap();
        let a = m.push(&[0xc3]).unwrap();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let line = maps
            .lines()
            .find(|l| {
                let (lo, hi) = l.split_once(' ').unwrap().0.split_once('-').unwrap();
                (usize::from_str_radix(lo, 16).unwrap()..usize::from_str_radix(hi, 16).unwrap()).contains(&a)
            })
            .expect("the executable view is mapped");
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[1], "r-xs", "{line}");
        // What perf's `is_anon_memory` accepts; only then does it read /tmp/perf-<pid>.map.
        let name = fields.get(5).copied().unwrap_or("");
        assert!(name.is_empty() || name.starts_with("/dev/zero") || name == "//anon", "{line}");
    }
}
