//! The bytes of the backing store: one page-aligned allocation, shared with the disk threads that
//! read into guest RAM in place ([`LentRam`]).
//!
//! # Why this needs `unsafe`, and why it is sound
//! The machine thread reaches the bytes through `&`/`&mut` slices of the whole store (the
//! address space's own methods, the CPUs' page walks) and through raw pointers (compiled code).
//! A [`LentRam`] lets a block I/O thread write some of those bytes during a read while the
//! machine thread goes on running the guest, as a disk controller's DMA does on hardware. The
//! allocation lives as long as any [`Ram`] or [`LentRam`] holds its `Arc`, so the I/O thread
//! never writes freed memory, even if the machine is torn down first. Lent pieces are writable
//! RAM, checked when lent, and never overlap one another, so the I/O thread's slices never alias.
//! The only other accesses to lent bytes before the read completes are ones the guest asks for
//! itself by touching a buffer it handed to the device (a race on hardware too): plain byte
//! loads and stores with no invariant attached, so the guest sees unspecified data and the host
//! nothing at all. No Rust code keeps a reference into lent bytes across the I/O: slices of the
//! store are made per access, as they were when the store was a `Vec`.

use mimic_core::LentMemory;
use std::ptr::NonNull;
use std::sync::Arc;

/// Alignment of the store: a host page, so each guest page is a host page and `O_DIRECT` reads
/// straight into guest RAM need no bounce buffer (and same-offset copies stay fast).
pub const RAM_ALIGN: usize = 4096;

/// One zeroed allocation, `len` bytes from the first aligned byte.
struct Block {
    base: NonNull<u8>,
    len: usize,
    /// The `Vec` it came from, taken apart (pointer, length, capacity) to give it back on drop.
    vec: (NonNull<u8>, usize, usize),
}

// SAFETY: `Block` owns its allocation like a `Vec<u8>`, which is `Send` and `Sync`; the raw
// pointers are only turned into slices under the rules in the module docs.
unsafe impl Send for Block {}
// SAFETY: as above.
unsafe impl Sync for Block {}

impl Block {
    fn new(len: usize) -> Block {
        // Zeroed memory from the allocator (calloc, mmap for large sizes): pages the guest never
        // touches are never made resident. Over-allocated to start at an aligned byte.
        let mut v = std::mem::ManuallyDrop::new(vec![0u8; len + RAM_ALIGN]);
        let start = v.as_ptr().align_offset(RAM_ALIGN).min(RAM_ALIGN);
        let vec = (NonNull::new(v.as_mut_ptr()).expect("a Vec's pointer is not null"), v.len(), v.capacity());
        // SAFETY: `start + len <= v.len()`, so the result is inside (or one past) the allocation.
        let base = unsafe { vec.0.add(start) };
        Block { base, len, vec }
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        let (ptr, len, cap) = self.vec;
        // SAFETY: the parts of the `Vec<u8>` taken apart in `Block::new`, given back once.
        drop(unsafe { Vec::from_raw_parts(ptr.as_ptr(), len, cap) });
    }
}

/// The backing store's bytes. Dereferences to a slice, as the `Vec<u8>` it replaced.
pub(crate) struct Ram(Arc<Block>);

impl Default for Ram {
    fn default() -> Self {
        Ram::new(0)
    }
}

impl Ram {
    /// `len` zero bytes, starting at a [`RAM_ALIGN`]-aligned address.
    pub(crate) fn new(len: usize) -> Ram {
        Ram(Arc::new(Block::new(len)))
    }

    /// Lend `pieces` (store offset, length), in that order, to a backend thread. `None` if a
    /// piece leaves the store or two pieces overlap. Zero-length pieces are dropped and pieces
    /// that continue one another are joined.
    pub(crate) fn lend(&self, pieces: &[(usize, usize)]) -> Option<LentRam> {
        let mut joined: Vec<(usize, usize)> = Vec::with_capacity(pieces.len());
        let mut total = 0usize;
        for &(at, len) in pieces.iter().filter(|p| p.1 > 0) {
            if at.checked_add(len)? > self.0.len {
                return None;
            }
            total = total.checked_add(len)?;
            match joined.last_mut() {
                Some(last) if last.0 + last.1 == at => last.1 += len,
                _ => joined.push((at, len)),
            }
        }
        let mut sorted = joined.clone();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0].0 + w[0].1 > w[1].0) {
            return None;
        }
        Some(LentRam { block: self.0.clone(), pieces: joined, len: total })
    }
}

impl std::ops::Deref for Ram {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` initialized bytes at `base`, allocated while `self` holds the `Arc`;
        // shared with lent pieces only as the module docs allow.
        unsafe { std::slice::from_raw_parts(self.0.base.as_ptr(), self.0.len) }
    }
}

impl std::ops::DerefMut for Ram {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`; `&mut self` makes this the only slice the machine thread holds.
        unsafe { std::slice::from_raw_parts_mut(self.0.base.as_ptr(), self.0.len) }
    }
}

/// Guest RAM lent to a backend thread for one read: disjoint pieces of the store, which stays
/// allocated while this lives.
pub struct LentRam {
    block: Arc<Block>,
    /// (store offset, length), in I/O order, disjoint, each inside the store.
    pieces: Vec<(usize, usize)>,
    len: usize,
}

impl std::fmt::Debug for LentRam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LentRam").field("len", &self.len).field("pieces", &self.pieces.len()).finish()
    }
}

impl LentRam {
    /// The (store offset, length) pieces, in I/O order.
    pub fn pieces(&self) -> &[(usize, usize)] {
        &self.pieces
    }
}

impl LentMemory for LentRam {
    fn len(&self) -> usize {
        self.len
    }
    fn slices_mut(&mut self) -> Vec<&mut [u8]> {
        let base = self.block.base.as_ptr();
        self.pieces
            .iter()
            // SAFETY: each piece is inside the allocation, which `self.block` keeps alive, and the
            // pieces are disjoint (checked in `Ram::lend`), so the slices never alias one another;
            // `&mut self` keeps them from outliving this borrow. See the module docs for the
            // machine thread's side.
            .map(|&(at, len)| unsafe { std::slice::from_raw_parts_mut(base.add(at), len) })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_starts_on_a_host_page_and_reads_as_zeros() {
        let r = Ram::new(3 * RAM_ALIGN);
        assert_eq!(r.as_ptr() as usize % RAM_ALIGN, 0);
        assert_eq!(r.len(), 3 * RAM_ALIGN);
        assert!(r.iter().all(|&b| b == 0));
    }

    #[test]
    fn lent_pieces_write_the_store_in_order() {
        let r = Ram::new(4 * RAM_ALIGN);
        let mut lent = r.lend(&[(8192, 4), (100, 2), (104, 2)]).expect("disjoint pieces in the store");
        assert_eq!(lent.len(), 8);
        assert_eq!(lent.pieces(), &[(8192, 4), (100, 2), (104, 2)]);
        for (s, v) in lent.slices_mut().into_iter().zip(1u8..) {
            s.fill(v);
        }
        assert_eq!(&r[8192..8196], &[1; 4]);
        assert_eq!(&r[100..102], &[2; 2]);
        assert_eq!(&r[104..106], &[3; 2]);
    }

    #[test]
    fn pieces_that_continue_one_another_are_joined() {
        let r = Ram::new(RAM_ALIGN);
        let lent = r.lend(&[(0, 16), (16, 16), (40, 0), (32, 8)]).expect("disjoint pieces");
        assert_eq!(lent.pieces(), &[(0, 40)]);
    }

    #[test]
    fn overlapping_or_outside_pieces_are_not_lent() {
        let r = Ram::new(RAM_ALIGN);
        assert!(r.lend(&[(0, 16), (8, 16)]).is_none(), "overlap");
        assert!(r.lend(&[(100, 10), (0, 101)]).is_none(), "overlap out of order");
        assert!(r.lend(&[(RAM_ALIGN - 4, 5)]).is_none(), "past the end");
        assert!(r.lend(&[(usize::MAX, 2)]).is_none(), "wraps");
    }

    #[test]
    fn lent_memory_outlives_the_store() {
        let r = Ram::new(RAM_ALIGN);
        let mut lent = r.lend(&[(0, RAM_ALIGN)]).expect("the whole store");
        drop(r);
        lent.slices_mut()[0].fill(7);
        assert_eq!(lent.len(), RAM_ALIGN);
    }
}
