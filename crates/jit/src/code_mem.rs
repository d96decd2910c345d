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

/// Map `len` bytes of `fd` shared with `prot`, or the error.
fn map(fd: libc::c_int, len: usize, prot: libc::c_int) -> io::Result<NonNull<u8>> {
    // SAFETY: a shared mapping of our own memfd at an address of the kernel's choosing touches
    // no existing memory; the result is checked before use.
    let p = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, libc::MAP_SHARED | libc::MAP_NORESERVE, fd, 0) };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap returned null"))
}

impl CodeMemory {
    /// Reserve `len` bytes; pages are committed only when code is written.
    pub fn new(len: usize) -> io::Result<CodeMemory> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let len = len.next_multiple_of(page);
        // SAFETY: memfd_create takes a NUL-terminated name and flags; the result is checked.
        let fd = unsafe { libc::memfd_create(c"mimic-jit".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let views = (|| {
            // SAFETY: `fd` is the memfd just created; sizing it touches nothing else.
            if unsafe { libc::ftruncate(fd, len as libc::off_t) } != 0 {
                return Err(io::Error::last_os_error());
            }
            let write = map(fd, len, libc::PROT_READ | libc::PROT_WRITE)?;
            match map(fd, len, libc::PROT_READ | libc::PROT_EXEC) {
                Ok(exec) => Ok((write, exec)),
                Err(e) => {
                    // SAFETY: unmapping the view just mapped, which nothing uses.
                    unsafe { libc::munmap(write.as_ptr().cast(), len) };
                    Err(e)
                }
            }
        })();
        // SAFETY: the mappings (if any) keep the memory; the descriptor is no longer needed.
        unsafe { libc::close(fd) };
        let (write, exec) = views?;
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
}
