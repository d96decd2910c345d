//! Decoded blocks, cached by where they are and how they were translated.

use crate::tier::Compiled;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::{Rc, Weak};

#[derive(Clone, Copy, Debug)]
pub struct DecodedInsn<I> {
    pub insn: I,
    pub pc: u64,
    pub len: u8,
}

/// Most blocks an interpreted boot runs are shorter than this (5.9 instructions on average in
/// an arm64 boot to a shell).
pub const INLINE_INSNS: usize = 8;

/// A block's instructions.
pub type Insns<I> = smallvec::SmallVec<[DecodedInsn<I>; INLINE_INSNS]>;

/// The bit of [`Block::heat`] that marks a block handed to a background compiler; the bits
/// below it count the block's interpreted runs since, which the compiler reads as how urgent
/// that block's code is.
pub const QUEUED: u32 = 1 << 31;

#[derive(Debug)]
pub struct Block<I> {
    pub pc: u64,
    /// Backing-store offset of the first byte; with `pc` and `flags` the cache key.
    pub phys: usize,
    pub flags: u32,
    /// Inline up to [`INLINE_INSNS`]: the interpreter reads them right after the block's other
    /// fields, and a separate allocation cost it a dependent cache miss per block.
    pub insns: Insns<I>,
    /// Backing-store pages this block was decoded from (one, or two when an instruction straddles).
    pub pages: [usize; 2],
    /// Times the interpreter ran this block; past the tier's threshold it gets compiled
    /// (see also [`QUEUED`]).
    pub heat: Cell<u32>,
    /// Host code for this block, when a compiling tier made some.
    pub compiled: Cell<Option<Compiled>>,
    /// Set when the cache drops the block (its code changed): whoever still holds it must not
    /// run it again.
    dropped: Cell<bool>,
    /// The block that ran after this one last time, for [`Block::successor`].
    next: RefCell<Option<Successor<I>>>,
}

/// A block that followed another, and under what it was found.
#[derive(Debug)]
struct Successor<I> {
    pc: u64,
    flags: u32,
    fetch_epoch: u64,
    block: Weak<Block<I>>,
}

impl<I> Block<I> {
    pub fn new(pc: u64, phys: usize, flags: u32, insns: Vec<DecodedInsn<I>>, pages: [usize; 2]) -> Self {
        Block {
            pc,
            phys,
            flags,
            insns: insns.into_iter().collect(),
            pages,
            heat: Cell::new(0),
            compiled: Cell::new(None),
            dropped: Cell::new(false),
            next: RefCell::new(None),
        }
    }

    /// Whether the cache dropped this block (its guest code changed).
    pub fn is_dropped(&self) -> bool {
        self.dropped.get()
    }

    /// The block that ran after this one last time, if it is at `pc` under `flags` and was
    /// found in the same fetch epoch (`Guest::code_epoch`: while it lasts, `pc` translates as
    /// it did) and the cache still holds it: the run loop then needs neither the translation
    /// nor the cache lookup, which were a fifth of an interpreted boot.
    pub fn successor(&self, pc: u64, flags: u32, fetch_epoch: u64) -> Option<Rc<Block<I>>> {
        let next = self.next.borrow();
        let s = next.as_ref().filter(|s| s.pc == pc && s.flags == flags && s.fetch_epoch == fetch_epoch)?;
        s.block.upgrade().filter(|b| !b.dropped.get())
    }

    /// Remember `next`, found at `pc` under `flags` in `fetch_epoch`, as what follows this
    /// block. Only a block within one page qualifies: the loop re-checks a second page.
    pub fn set_successor(&self, pc: u64, flags: u32, fetch_epoch: u64, next: &Rc<Block<I>>) {
        if next.pages[0] == next.pages[1] {
            *self.next.borrow_mut() = Some(Successor { pc, flags, fetch_epoch, block: Rc::downgrade(next) });
        }
    }
}

type Key = (u64, usize, u32);

/// A multiply-rotate hash for the cache's integer keys: the default SipHash showed up in
/// profiles of the run loop. Guest-chosen pcs could make it collide, but that only slows
/// that guest's own lookups.
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl KeyHasher {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for KeyHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.add(u64::from(b));
        }
    }
    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.add(u64::from(v));
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }
}

type Map<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// Blocks by key, plus which blocks came from each backing-store page so a write to a code page
/// can drop exactly the translations it makes stale.
pub struct BlockCache<I> {
    blocks: Map<Key, Rc<Block<I>>>,
    by_page: Map<usize, Vec<Key>>,
    /// A small direct-mapped front cache on pc, checked before the hash map.
    fast: Vec<Option<Rc<Block<I>>>>,
    /// Compiled code of dropped blocks, for the run loop to tell its tier (chained jumps into
    /// that code must stop being taken).
    dead: Vec<Compiled>,
}

const FAST_ENTRIES: usize = 16384;

impl<I> Default for BlockCache<I> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I> BlockCache<I> {
    pub fn new() -> Self {
        BlockCache { blocks: Map::default(), by_page: Map::default(), fast: vec![None; FAST_ENTRIES], dead: Vec::new() }
    }

    /// A multiplicative hash: every pc bit counts, whatever the instruction alignment (a
    /// shift-and-xor of `pc >> 1` left half the slots unused for 4-byte instructions, and a
    /// Linux boot missed this table often).
    #[inline]
    fn fast_index(pc: u64) -> usize {
        (pc.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - FAST_ENTRIES.trailing_zeros())) as usize
    }

    /// The block at this key, leaving the front cache as it is.
    pub fn get(&self, pc: u64, phys: usize, flags: u32) -> Option<Rc<Block<I>>> {
        self.blocks.get(&(pc, phys, flags)).cloned()
    }

    #[inline]
    pub fn lookup(&mut self, pc: u64, phys: usize, flags: u32) -> Option<Rc<Block<I>>> {
        let fi = Self::fast_index(pc);
        if let Some(b) = &self.fast[fi] {
            if b.pc == pc && b.phys == phys && b.flags == flags {
                return Some(b.clone());
            }
        }
        let b = self.blocks.get(&(pc, phys, flags))?.clone();
        self.fast[fi] = Some(b.clone());
        Some(b)
    }

    pub fn insert(&mut self, block: Block<I>) -> Rc<Block<I>> {
        let key = (block.pc, block.phys, block.flags);
        let pages = block.pages;
        let b = Rc::new(block);
        if let Some(old) = self.blocks.insert(key, b.clone()) {
            old.dropped.set(true);
            self.dead.extend(old.compiled.get());
        }
        self.by_page.entry(pages[0]).or_default().push(key);
        if pages[1] != pages[0] {
            self.by_page.entry(pages[1]).or_default().push(key);
        }
        self.fast[Self::fast_index(key.0)] = Some(b.clone());
        b
    }

    /// Drop every block decoded from this backing-store page. Returns how many were dropped.
    pub fn invalidate_page(&mut self, page: usize) -> usize {
        let Some(keys) = self.by_page.remove(&page) else {
            return 0;
        };
        let n = keys.len();
        for k in keys {
            if let Some(old) = self.blocks.remove(&k) {
                old.dropped.set(true);
                self.dead.extend(old.compiled.get());
            }
            let fi = Self::fast_index(k.0);
            if self.fast[fi].as_ref().is_some_and(|b| (b.pc, b.phys, b.flags) == k) {
                self.fast[fi] = None;
            }
        }
        n
    }

    /// Compiled code of blocks dropped since the last call.
    pub fn take_dead(&mut self) -> Vec<Compiled> {
        std::mem::take(&mut self.dead)
    }

    /// Whether blocks with compiled code were dropped since the last `take_dead`.
    #[inline]
    pub fn has_dead(&self) -> bool {
        !self.dead.is_empty()
    }

    pub fn has_page(&self, page: usize) -> bool {
        self.by_page.contains_key(&page)
    }

    pub fn clear(&mut self) {
        self.blocks.values().for_each(|b| b.dropped.set(true));
        self.dead.extend(self.blocks.values().filter_map(|b| b.compiled.get()));
        self.blocks.clear();
        self.by_page.clear();
        self.fast.iter_mut().for_each(|f| *f = None);
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(pc: u64, phys: usize) -> Block<u32> {
        Block::new(pc, phys, 0, vec![], [phys >> 12, phys >> 12])
    }

    #[test]
    fn inserted_block_is_found() {
        let mut c = BlockCache::new();
        c.insert(block(0x8000_0000, 0x1000));
        assert!(c.lookup(0x8000_0000, 0x1000, 0).is_some());
    }

    #[test]
    fn different_physical_location_misses() {
        let mut c = BlockCache::new();
        c.insert(block(0x8000_0000, 0x1000));
        assert!(c.lookup(0x8000_0000, 0x2000, 0).is_none());
    }

    #[test]
    fn dropped_compiled_blocks_are_reported_once() {
        let mut c = BlockCache::new();
        let b = c.insert(block(0x8000_0000, 0x1000));
        let code = Compiled { entry: 0x1234, generation: 7 };
        b.compiled.set(Some(code));
        c.insert(block(0x8000_1000, 0x2000));
        c.invalidate_page(1);
        assert_eq!(c.take_dead(), vec![code]);
        assert!(c.take_dead().is_empty());
    }

    #[test]
    fn a_successor_is_found_under_its_key_and_epoch_only() {
        let mut c = BlockCache::new();
        let a = c.insert(block(0x8000_0000, 0x1000));
        let b = c.insert(block(0x8000_0010, 0x1010));
        a.set_successor(0x8000_0010, 0, 7, &b);
        assert!(a.successor(0x8000_0010, 0, 7).is_some_and(|s| Rc::ptr_eq(&s, &b)));
        assert!(a.successor(0x8000_0010, 0, 8).is_none(), "another fetch epoch");
        assert!(a.successor(0x8000_0010, 1, 7).is_none(), "other flags");
        assert!(a.successor(0x8000_0014, 0, 7).is_none(), "another pc");
    }

    #[test]
    fn a_dropped_block_is_no_successor() {
        let mut c = BlockCache::new();
        let a = c.insert(block(0x8000_0000, 0x1000));
        let b = c.insert(block(0x8000_2000, 0x3000));
        a.set_successor(0x8000_2000, 0, 7, &b);
        c.invalidate_page(3);
        assert!(a.successor(0x8000_2000, 0, 7).is_none(), "its code changed");
        let b = c.insert(block(0x8000_2000, 0x3000));
        a.set_successor(0x8000_2000, 0, 7, &b);
        c.clear();
        assert!(a.successor(0x8000_2000, 0, 7).is_none());
    }

    #[test]
    fn invalidated_page_drops_its_blocks_only() {
        let mut c = BlockCache::new();
        c.insert(block(0x8000_0000, 0x1000));
        c.insert(block(0x8000_1000, 0x2000));
        assert_eq!(c.invalidate_page(1), 1);
        assert!(c.lookup(0x8000_0000, 0x1000, 0).is_none());
        assert!(c.lookup(0x8000_1000, 0x2000, 0).is_some());
    }
}
