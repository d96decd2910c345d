//! Executable memory for generated code: one reserved region filled front to back, each page
//! writable or executable but never both (W^X). When it is full the tier recycles it whole and
//! bumps its generation, so no handle to old code survives (QEMU's `tb_flush` does the same).

use std::io;
use std::ptr::NonNull;

/// Generated functions start on this boundary (what Cranelift assumes of x86-64 functions).
const ALIGN: usize = 16;

pub struct CodeMemory {
    base: NonNull<u8>,
    len: usize,
    used: usize,
    page: usize,
}

// SAFETY: the mapping is owned by this value alone (no aliases are handed out except code
// addresses, which are only called on the thread that owns the tier), so moving it to another
// thread moves sole ownership.
unsafe impl Send for CodeMemory {}

impl CodeMemory {
    /// Reserve `len` bytes of address space; pages are committed only when code is written.
    pub fn new(len: usize) -> io::Result<CodeMemory> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let len = len.next_multiple_of(page);
        // SAFETY: an anonymous private mapping at an address of the kernel's choosing touches no
        // existing memory; the result is checked before use.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(CodeMemory { base, len, used: 0, page })
    }

    /// Copy `code` in and make it executable; its address, or `None` when the region is full.
    pub fn push(&mut self, code: &[u8]) -> Option<usize> {
        let start = self.used.next_multiple_of(ALIGN);
        let end = start.checked_add(code.len())?;
        if end > self.len || code.is_empty() {
            return None;
        }
        let first = start / self.page * self.page;
        let last = end.next_multiple_of(self.page);
        // SAFETY: [first, last) lies inside the mapping (end <= len, len is page-aligned). While
        // the pages are writable no generated code runs: compilation happens between blocks on
        // the thread that runs them.
        unsafe {
            let pages = self.base.as_ptr().add(first).cast();
            if libc::mprotect(pages, last - first, libc::PROT_READ | libc::PROT_WRITE) != 0 {
                return None;
            }
            std::ptr::copy_nonoverlapping(code.as_ptr(), self.base.as_ptr().add(start), code.len());
            if libc::mprotect(pages, last - first, libc::PROT_READ | libc::PROT_EXEC) != 0 {
                return None;
            }
        }
        self.used = end;
        Some(self.base.as_ptr() as usize + start)
    }

    /// Forget all code (the caller has voided every handle to it) and give the pages back.
    pub fn reset(&mut self) {
        // SAFETY: the whole mapping is ours; dropping it to PROT_NONE and discarding its pages
        // affects no other memory, and no handle to code in it is used again.
        unsafe {
            libc::mprotect(self.base.as_ptr().cast(), self.len, libc::PROT_NONE);
            libc::madvise(self.base.as_ptr().cast(), self.len, libc::MADV_DONTNEED);
        }
        self.used = 0;
    }

    pub fn used(&self) -> usize {
        self.used
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        // SAFETY: unmapping the region this value mapped; nothing runs from it any more (the
        // tier that owns it is being dropped).
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.len);
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
    fn full_region_refuses_then_reset_makes_room() {
        let mut m = CodeMemory::new(4096).unwrap();
        assert!(m.push(&[0u8; 4096]).is_some());
        assert!(m.push(&[0u8; 16]).is_none());
        m.reset();
        assert!(m.push(&[0u8; 16]).is_some());
    }
}
