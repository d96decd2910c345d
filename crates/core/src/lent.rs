//! [`LentMemory`]: guest RAM lent to a backend thread for one I/O, so the data moves between the
//! disk and the guest without a copy on the machine thread.

/// Memory a block backend fills in place on its own thread: the guest buffers of one read.
///
/// The memory crate makes these from guest RAM (`GuestMemory::lend`), after checking that every
/// piece is writable RAM and that no two pieces overlap; the lender keeps the RAM allocated for
/// as long as the value lives, whatever happens to the machine meanwhile.
pub trait LentMemory: Send + std::fmt::Debug {
    /// Bytes in all.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The pieces, in order: the first byte of the I/O goes to the first byte of the first.
    fn slices_mut(&mut self) -> Vec<&mut [u8]>;
}
