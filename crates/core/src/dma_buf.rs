//! [`DmaBuf`]: the bytes of one device I/O in flight between a device model and its backend
//! thread.
//!
//! The start of the bytes is aligned to [`DMA_ALIGN`], because `O_DIRECT` files (`cache=none`)
//! accept only aligned memory: an unaligned buffer makes the image layer allocate and copy a
//! bounce buffer for every request. The alignment comes from over-allocating a `Vec` and
//! starting at the first aligned byte, so no `unsafe` allocation is needed. Buffers are reused
//! (see [`DmaBuf::resize`]) so a steady stream of requests allocates nothing.

/// Alignment of [`DmaBuf`] contents: the host page size, which `O_DIRECT` needs at most.
pub const DMA_ALIGN: usize = 4096;

/// A heap buffer whose contents start at a [`DMA_ALIGN`]-aligned address.
#[derive(Clone, Default)]
pub struct DmaBuf {
    vec: Vec<u8>,
    start: usize,
    len: usize,
}

impl std::fmt::Debug for DmaBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmaBuf").field("len", &self.len).field("capacity", &self.capacity()).finish()
    }
}

impl DmaBuf {
    /// `len` zero bytes.
    pub fn new(len: usize) -> Self {
        let mut b = DmaBuf::default();
        b.resize(len);
        b
    }

    /// A buffer holding a copy of `data`.
    pub fn from_slice(data: &[u8]) -> Self {
        let mut b = DmaBuf::default();
        b.resize(data.len());
        b.as_mut_slice().copy_from_slice(data);
        b
    }

    /// Make the buffer `len` bytes long. The contents are unspecified (old bytes or zeros):
    /// callers fill it before use. Reallocates only when the capacity is too small.
    pub fn resize(&mut self, len: usize) {
        if self.capacity() < len {
            // Room for the worst-case misalignment of the allocation.
            self.vec = vec![0; len + DMA_ALIGN];
            self.start = self.vec.as_ptr().align_offset(DMA_ALIGN).min(DMA_ALIGN);
        }
        self.len = len;
    }

    /// Bytes the buffer can hold without reallocating.
    pub fn capacity(&self) -> usize {
        self.vec.len().saturating_sub(self.start)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.vec[self.start..self.start + self.len]
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.vec[self.start..self.start + self.len]
    }
}

impl std::ops::Deref for DmaBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::ops::DerefMut for DmaBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_are_aligned_at_every_size() {
        // (An empty buffer has no contents to align.)
        for len in [1, 511, 4096, 100_000, 1 << 20] {
            let b = DmaBuf::new(len);
            assert_eq!((b.len(), b.as_ptr() as usize % DMA_ALIGN), (len, 0), "len {len}");
        }
    }

    #[test]
    fn shrinking_keeps_the_allocation_and_alignment() {
        let mut b = DmaBuf::new(1 << 20);
        let p = b.as_ptr();
        b.resize(4096);
        assert_eq!((b.as_ptr(), b.len(), b.capacity() >= 1 << 20), (p, 4096, true));
    }

    #[test]
    fn from_slice_copies() {
        let b = DmaBuf::from_slice(b"abc");
        assert_eq!(&b[..], b"abc");
    }
}
