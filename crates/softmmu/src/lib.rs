//! The software TLB that turns a guest-virtual access into an offset in the machine's RAM backing
//! store on the fast path, and tells the caller to take the slow path (page walk, MMIO, watched
//! code page, misalignment) otherwise.
//!
//! Each entry's tags are page-aligned virtual addresses with flag bits in the low bits. A fast-path
//! compare of `vaddr & (PAGE_MASK | (size - 1))` against a tag succeeds only for an aligned access
//! to a page whose tag has no flag set, so one compare rejects misalignment, MMIO and code pages.
//! The flags sit above every alignment bit an access can keep in that compare: a flag at bit 0,
//! 1 or 2 would equal a misaligned access's offset (an empty entry, tag 1, matched a two-byte
//! access at virtual address 1, with that entry's addend).
//! Generated code inlines a compare of the access's last byte, `(vaddr + size - 1) & PAGE_MASK`,
//! against the tag of `vaddr`'s slot instead, so that misaligned accesses inside one page hit
//! too; pages where alignment matters carry [`TLB_ALIGNED_ONLY`], which no such value matches.
//! Hence `#[repr(C)]` and the layout checks below.
#![forbid(unsafe_code)]

use mimic_memory::PAGE_SHIFT;

pub const PAGE_MASK: u64 = !((1u64 << PAGE_SHIFT) - 1);
/// The entry is empty.
pub const TLB_INVALID: u64 = 1 << 11;
/// The page is a device: every access takes the slow path.
pub const TLB_MMIO: u64 = 1 << 10;
/// The page holds translated code: writes take the slow path to invalidate translations.
pub const TLB_CODE: u64 = 1 << 9;
/// Accesses here must be naturally aligned (AArch64 Device memory, or alignment checking on):
/// every access takes the slow path, which checks, while compiled code may otherwise perform a
/// misaligned access inside one page on its fast path.
pub const TLB_ALIGNED_ONLY: u64 = 1 << 8;
/// The widest access the fast-path compare may see: its alignment bits stay below the flags.
pub const MAX_ACCESS: u64 = TLB_ALIGNED_ONLY;
pub const TLB_FLAGS: u64 = TLB_INVALID | TLB_MMIO | TLB_CODE | TLB_ALIGNED_ONLY;
const _: () = assert!(TLB_FLAGS & !PAGE_MASK == TLB_FLAGS && TLB_FLAGS & (MAX_ACCESS - 1) == 0);

pub const TLB_BITS: u32 = 10;
pub const TLB_ENTRIES: usize = 1 << TLB_BITS;

/// One TLB entry. Do not reorder: generated code reads these fields at fixed offsets.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbEntry {
    pub addr_read: u64,
    pub addr_write: u64,
    pub addr_code: u64,
    /// `backing-store offset - virtual page address` (wrapping): offset = vaddr + addend.
    pub addend: u64,
}

const _: () = {
    assert!(std::mem::offset_of!(TlbEntry, addr_read) == 0);
    assert!(std::mem::offset_of!(TlbEntry, addr_write) == 8);
    assert!(std::mem::offset_of!(TlbEntry, addr_code) == 16);
    assert!(std::mem::offset_of!(TlbEntry, addend) == 24);
    assert!(std::mem::size_of::<TlbEntry>() == 32);
};

impl TlbEntry {
    pub const EMPTY: TlbEntry =
        TlbEntry { addr_read: TLB_INVALID, addr_write: TLB_INVALID, addr_code: TLB_INVALID, addend: 0 };

    /// The virtual page the entry maps, if any of its tags is valid.
    fn page(&self) -> Option<u64> {
        [self.addr_read, self.addr_write, self.addr_code]
            .into_iter()
            .find(|t| t & TLB_INVALID == 0)
            .map(|t| t & PAGE_MASK)
    }
}

/// Entries a fill evicted, per MMU index, kept for [`Tlb::victim_swap`].
pub const VICTIMS: usize = 8;

/// Which permissions a filled entry grants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prot {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

/// What an instruction fetch needs of an entry: the page's tag and where it lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CodeEntry {
    tag: u64,
    addend: u64,
}

impl CodeEntry {
    const EMPTY: CodeEntry = CodeEntry { tag: TLB_INVALID, addend: 0 };
}

/// The TLB of one CPU: `N` MMU indices (privilege/translation regimes), each direct-mapped.
///
/// Fetches have a table of their own, filled by every fill that grants execute: a data page
/// and a code page that share a slot (a kernel function and the per-CPU data it touches,
/// 1 in 1024 pairs) would otherwise evict each other on every block and walk the page tables
/// each time. Data entries keep `addr_code` too (one fill writes both), but only the code
/// table answers fetches.
#[derive(Clone)]
pub struct Tlb<const N: usize> {
    entries: Box<[[TlbEntry; TLB_ENTRIES]; N]>,
    code: Box<[[CodeEntry; TLB_ENTRIES]; N]>,
    /// Per MMU index, `(addr, mask)` covering every superpage filled since the last flush: the
    /// entries are 4 KiB, so a page flush inside a superpage cannot know which entries came
    /// from it and drops the whole index instead.
    large: [Option<(u64, u64)>; N],
    /// Per MMU index, the last [`VICTIMS`] entries fills evicted (round robin from
    /// `victim_next`): two hot pages 4 MiB apart share a slot, and a guest touching both in
    /// turn (gzip's window and hash chains, placed by ASLR) walked the page tables on every
    /// access; with the evicted entry at hand a miss is a swap instead.
    victims: Box<[[TlbEntry; VICTIMS]; N]>,
    victim_next: [usize; N],
    /// Per slot, whether a fill since the slot was last emptied (data or fetch table) came
    /// from a translation that is not global: what [`Tlb::flush_non_global`] must drop.
    not_global: Box<[[bool; TLB_ENTRIES]; N]>,
    /// Bumped by every flush that may change an instruction fetch's translation: a fetch
    /// translation remembered elsewhere (a run-time jump cache keyed by virtual pc) is still the
    /// TLB's answer while the epoch it was made in lasts.
    epoch: u64,
    /// The virtual pages fetch translations were handed out for ([`Tlb::lookup_code`] hits and
    /// fetch fills) since the epoch last changed, as a bit per page number modulo
    /// [`FETCHED_PAGES`] (so a page may stand for others: at worst a needless bump). A page
    /// flush bumps the epoch only for a page set here: a guest kernel flushes data pages by
    /// address thousands of times a second (about five per virtio-blk request on riscv64
    /// Linux), and each bump made every jump-cache entry miss once.
    fetched: [u64; FETCHED_PAGES / 64],
}

/// Pages [`Tlb`] tells apart when it records where fetches went (a power of two).
pub const FETCHED_PAGES: usize = 4096;

impl<const N: usize> Default for Tlb<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[inline(always)]
pub fn tlb_index(vaddr: u64) -> usize {
    ((vaddr >> PAGE_SHIFT) as usize) & (TLB_ENTRIES - 1)
}

impl<const N: usize> Tlb<N> {
    pub fn new() -> Self {
        Tlb {
            entries: Box::new([[TlbEntry::EMPTY; TLB_ENTRIES]; N]),
            code: Box::new([[CodeEntry::EMPTY; TLB_ENTRIES]; N]),
            large: [None; N],
            victims: Box::new([[TlbEntry::EMPTY; VICTIMS]; N]),
            victim_next: [0; N],
            not_global: Box::new([[false; TLB_ENTRIES]; N]),
            epoch: 0,
            fetched: [0; FETCHED_PAGES / 64],
        }
    }

    /// On a miss for `vaddr` under `mmu_idx`: if a fill evicted its page's entry since the last
    /// flush, put that entry back in its slot (the one there goes to the victims) and say
    /// which victim it was (it now holds the slot's former entry); the caller then looks up
    /// again. Flushes and code-page marks reach victims as they reach the table, so a victim
    /// is as good as the entry it was.
    pub fn victim_swap(&mut self, mmu_idx: usize, vaddr: u64) -> Option<usize> {
        let page = vaddr & PAGE_MASK;
        let victims = self.victims.get_mut(mmu_idx)?;
        let k = victims.iter().position(|e| e.page() == Some(page))?;
        let slot = &mut self.entries[mmu_idx][tlb_index(vaddr)];
        std::mem::swap(slot, &mut victims[k]);
        Some(k)
    }

    /// Changes whenever a flush may change a fetch translation handed out since the last change
    /// (fills and code-page flags leave it alone).
    #[inline(always)]
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    #[inline(always)]
    fn fetched_bit(vaddr: u64) -> (usize, u64) {
        let n = (vaddr >> PAGE_SHIFT) as usize & (FETCHED_PAGES - 1);
        (n / 64, 1 << (n % 64))
    }

    #[inline(always)]
    fn note_fetch(&mut self, vaddr: u64) {
        let (w, b) = Self::fetched_bit(vaddr);
        self.fetched[w] |= b;
    }

    fn bump_epoch(&mut self) {
        self.epoch += 1;
        self.fetched = [0; FETCHED_PAGES / 64];
    }

    /// One MMU index's entries, for generated code that indexes them itself.
    #[inline(always)]
    pub fn table(&self, mmu_idx: usize) -> &[TlbEntry; TLB_ENTRIES] {
        &self.entries[mmu_idx]
    }

    #[inline(always)]
    pub fn entry(&self, mmu_idx: usize, vaddr: u64) -> &TlbEntry {
        &self.entries[mmu_idx][tlb_index(vaddr)]
    }

    /// Fast path for a read of `size` bytes: the backing-store offset, or `None` for the slow path.
    #[inline(always)]
    pub fn lookup_read(&self, mmu_idx: usize, vaddr: u64, size: u64) -> Option<usize> {
        let e = self.entry(mmu_idx, vaddr);
        ((vaddr & (PAGE_MASK | (size - 1))) == e.addr_read).then(|| vaddr.wrapping_add(e.addend) as usize)
    }

    #[inline(always)]
    pub fn lookup_write(&self, mmu_idx: usize, vaddr: u64, size: u64) -> Option<usize> {
        let e = self.entry(mmu_idx, vaddr);
        ((vaddr & (PAGE_MASK | (size - 1))) == e.addr_write).then(|| vaddr.wrapping_add(e.addend) as usize)
    }

    /// Mark the data tags of the entry `fill` just made for `vaddr` with [`TLB_ALIGNED_ONLY`].
    pub fn mark_aligned_only(&mut self, mmu_idx: usize, vaddr: u64) {
        let e = &mut self.entries[mmu_idx][tlb_index(vaddr)];
        for tag in [&mut e.addr_read, &mut e.addr_write] {
            if *tag & TLB_INVALID == 0 {
                *tag |= TLB_ALIGNED_ONLY;
            }
        }
    }

    /// The slow path's lookup of the page of `vaddr`, for a read or a write, whatever the
    /// alignment (the caller checks it): [`TLB_ALIGNED_ONLY`] does not keep the page out.
    #[inline(always)]
    pub fn lookup_page(&self, mmu_idx: usize, vaddr: u64, write: bool) -> Option<usize> {
        let e = self.entry(mmu_idx, vaddr);
        let tag = if write { e.addr_write } else { e.addr_read };
        ((vaddr & PAGE_MASK) == tag & !TLB_ALIGNED_ONLY).then(|| vaddr.wrapping_add(e.addend) as usize)
    }

    /// Instruction fetch: the backing-store offset of `vaddr` (no alignment folded in). A hit
    /// is recorded as a fetch translation handed out (see [`Tlb::epoch`]).
    #[inline(always)]
    pub fn lookup_code(&mut self, mmu_idx: usize, vaddr: u64) -> Option<usize> {
        let e = self.code[mmu_idx][tlb_index(vaddr)];
        if (vaddr & PAGE_MASK) != e.tag {
            return None;
        }
        self.note_fetch(vaddr);
        Some(vaddr.wrapping_add(e.addend) as usize)
    }

    /// Empty slot `index` of MMU index `mmu_idx` (as [`tlb_index`] numbers them), for data
    /// and for fetches: whoever tracks what filled a slot must keep what either table holds.
    pub fn flush_slot(&mut self, mmu_idx: usize, index: usize) {
        self.bump_epoch();
        self.entries[mmu_idx][index] = TlbEntry::EMPTY;
        self.code[mmu_idx][index] = CodeEntry::EMPTY;
        self.not_global[mmu_idx][index] = false;
        for v in self.victims[mmu_idx].iter_mut() {
            if v.page().is_some_and(|p| tlb_index(p) == index) {
                *v = TlbEntry::EMPTY;
            }
        }
    }

    /// Map the virtual page of `vaddr` to the backing-store page at `page_offset` with `prot`.
    /// `code_page` marks the write tag so stores take the slow path. `global`: the translation
    /// is the same in every address space (a global page, or no translation at all), so
    /// [`Tlb::flush_non_global`] may keep it. Returns the victim the slot's former entry went
    /// to, if it held another page (for callers that keep more about an entry than the TLB).
    pub fn fill(
        &mut self,
        mmu_idx: usize,
        vaddr: u64,
        page_offset: usize,
        prot: Prot,
        code_page: bool,
        global: bool,
    ) -> Option<usize> {
        let page = vaddr & PAGE_MASK;
        let tag = |ok: bool, extra: u64| if ok { page | extra } else { TLB_INVALID };
        let addend = (page_offset as u64).wrapping_sub(page);
        let i = tlb_index(vaddr);
        self.not_global[mmu_idx][i] |= !global;
        let old = self.entries[mmu_idx][i];
        let mut evicted = None;
        if old.page().is_some_and(|p| p != page) {
            let k = self.victim_next[mmu_idx];
            self.victims[mmu_idx][k] = old;
            self.victim_next[mmu_idx] = (k + 1) % VICTIMS;
            evicted = Some(k);
        }
        self.entries[mmu_idx][i] = TlbEntry {
            addr_read: tag(prot.read, 0),
            addr_write: tag(prot.write, if code_page { TLB_CODE } else { 0 }),
            addr_code: tag(prot.exec, 0),
            addend,
        };
        let c = &mut self.code[mmu_idx][i];
        if prot.exec {
            *c = CodeEntry { tag: page, addend };
            // The caller fetches through it now, without a lookup.
            self.note_fetch(vaddr);
        } else if c.tag == page {
            // The page's newest translation does not allow execution: as good as a flush.
            *c = CodeEntry::EMPTY;
            self.bump_epoch();
        }
        evicted
    }

    /// After a write to a watched code page was handled, let later writes to it go fast again.
    pub fn clear_code_flag(&mut self, page_offset: usize) {
        for idx in self.entries.iter_mut().map(|t| &mut t[..]).chain(self.victims.iter_mut().map(|v| &mut v[..])) {
            for e in idx.iter_mut() {
                if e.addr_write & TLB_CODE != 0
                    && (e.addr_write & PAGE_MASK).wrapping_add(e.addend) as usize == page_offset
                {
                    e.addr_write &= !TLB_CODE;
                }
            }
        }
    }

    /// A page now holds code: later writes through any existing entry must go slow.
    pub fn set_code_flag(&mut self, page_offset: usize) {
        for idx in self.entries.iter_mut().map(|t| &mut t[..]).chain(self.victims.iter_mut().map(|v| &mut v[..])) {
            for e in idx.iter_mut() {
                if e.addr_write & TLB_INVALID == 0
                    && (e.addr_write & PAGE_MASK).wrapping_add(e.addend) as usize == page_offset
                {
                    e.addr_write |= TLB_CODE;
                }
            }
        }
    }

    pub fn flush_all(&mut self) {
        self.bump_epoch();
        for idx in self.entries.iter_mut() {
            idx.fill(TlbEntry::EMPTY);
        }
        for idx in self.code.iter_mut() {
            idx.fill(CodeEntry::EMPTY);
        }
        for v in self.victims.iter_mut() {
            v.fill(TlbEntry::EMPTY);
        }
        for g in self.not_global.iter_mut() {
            g.fill(false);
        }
        self.large = [None; N];
    }

    /// Drop every entry that came from a non-global translation, in every MMU index: a new
    /// address space (RISC-V `satp`) keeps the global pages (the kernel's) that all share.
    pub fn flush_non_global(&mut self) {
        self.bump_epoch();
        let tables = self.entries.iter_mut().zip(self.code.iter_mut()).zip(self.not_global.iter_mut());
        for ((idx, code), not_global) in tables {
            for ((e, c), g) in idx.iter_mut().zip(code.iter_mut()).zip(not_global.iter_mut()) {
                if *g {
                    *e = TlbEntry::EMPTY;
                    *c = CodeEntry::EMPTY;
                    *g = false;
                }
            }
        }
        for v in self.victims.iter_mut() {
            v.fill(TlbEntry::EMPTY);
        }
    }

    /// The entry just filled for `vaddr` under `mmu_idx` came from a translation of `size` bytes
    /// (a power of two above the page size).
    pub fn note_large_page(&mut self, mmu_idx: usize, vaddr: u64, size: u64) {
        let Some(large) = self.large.get_mut(mmu_idx) else {
            return;
        };
        let mut mask = !(size - 1);
        if let Some((addr, old)) = *large {
            // Widen until one aligned region holds the old one and this page.
            mask &= old;
            while addr & mask != vaddr & mask {
                mask <<= 1;
            }
        }
        *large = Some((vaddr & mask, mask));
    }

    /// Drop what maps the page of `vaddr`, in every MMU index: its entry, or the whole index
    /// when `vaddr` lies where superpages were filled. The epoch changes when fetches went to
    /// that page since it last changed, or (superpages: any page of one may be the one that
    /// changed) when a whole index goes.
    pub fn flush_page(&mut self, vaddr: u64) {
        let (w, b) = Self::fetched_bit(vaddr);
        let mut bump = self.fetched[w] & b != 0;
        let page = vaddr & PAGE_MASK;
        let i = tlb_index(vaddr);
        let tables = self.entries.iter_mut().zip(self.code.iter_mut()).zip(self.victims.iter_mut());
        for (((idx, code), victims), large) in tables.zip(self.large.iter_mut()) {
            if large.is_some_and(|(addr, mask)| vaddr & mask == addr) {
                idx.fill(TlbEntry::EMPTY);
                code.fill(CodeEntry::EMPTY);
                victims.fill(TlbEntry::EMPTY);
                *large = None;
                bump = true;
                continue;
            }
            for v in victims.iter_mut() {
                if v.page() == Some(page) {
                    *v = TlbEntry::EMPTY;
                }
            }
            let e = &mut idx[i];
            if [e.addr_read, e.addr_write, e.addr_code].iter().any(|t| t & PAGE_MASK == page) {
                *e = TlbEntry::EMPTY;
            }
            if code[i].tag == page {
                code[i] = CodeEntry::EMPTY;
            }
        }
        if bump {
            self.bump_epoch();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RW: Prot = Prot { read: true, write: true, exec: false };

    #[test]
    fn an_empty_entry_misses_every_access_whatever_its_alignment() {
        let t: Tlb<1> = Tlb::new();
        for (vaddr, size) in [(0, 1), (1, 2), (2, 4), (3, 4), (4, 8), (7, 8), (9, 16), (0xf, 16)] {
            assert_eq!(t.lookup_read(0, vaddr, size), None, "read of {size} at {vaddr:#x}");
            assert_eq!(t.lookup_write(0, vaddr, size), None, "write of {size} at {vaddr:#x}");
        }
    }

    #[test]
    fn an_aligned_only_page_misses_the_fast_path_but_not_the_page_lookup() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, 0x40_0000, 0x9000, Prot { read: true, write: false, exec: false }, false, true);
        t.mark_aligned_only(0, 0x40_0000);
        assert_eq!(t.lookup_read(0, 0x40_0008, 8), None);
        assert_eq!(t.lookup_page(0, 0x40_0008, false), Some(0x9008));
        // The write tag was invalid and stays so.
        assert_eq!(t.lookup_page(0, 0x40_0008, true), None);
    }

    #[test]
    fn a_permission_the_entry_lacks_misses_in_page_zero_too() {
        // Slot 0 holds a read-only page; its write tag is invalid and must not match a
        // misaligned write into page 0, which shares the slot.
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, 0x40_0000, 0x9000, Prot { read: true, write: false, exec: false }, false, true);
        assert_eq!(t.lookup_write(0, 1, 2), None);
        assert_eq!(t.lookup_write(0, 0x40_0001, 2), None);
    }

    #[test]
    fn a_misaligned_store_to_a_code_page_takes_the_slow_path() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, 0x8000_0000, 0x1000, RW, true, true);
        for (vaddr, size) in [(0x8000_0000, 8), (0x8000_0004, 8), (0x8000_0002, 4), (0x8000_0004, 16)] {
            assert_eq!(t.lookup_write(0, vaddr, size), None, "write of {size} at {vaddr:#x}");
        }
        assert_eq!(t.lookup_read(0, 0x8000_0008, 8), Some(0x1008), "reads stay fast");
    }

    #[test]
    fn filled_page_hits_with_offset() {
        let mut t: Tlb<2> = Tlb::new();
        t.fill(1, 0xffff_ffc0_0000_1234, 0x5000, RW, false, false);
        assert_eq!(t.lookup_read(1, 0xffff_ffc0_0000_1238, 4), Some(0x5238));
    }

    #[test]
    fn other_mmu_index_misses() {
        let mut t: Tlb<2> = Tlb::new();
        t.fill(1, 0x1000, 0, RW, false, false);
        assert_eq!(t.lookup_read(0, 0x1000, 1), None);
    }

    #[test]
    fn misaligned_access_misses() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, 0x1000, 0, RW, false, false);
        assert_eq!(t.lookup_read(0, 0x1002, 4), None);
    }

    #[test]
    fn code_page_write_misses_but_read_hits() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, 0x1000, 0x3000, RW, true, false);
        assert_eq!(t.lookup_write(0, 0x1000, 8), None);
        assert_eq!(t.lookup_read(0, 0x1000, 8), Some(0x3000));
    }

    #[test]
    fn cleared_code_flag_lets_writes_hit() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, 0x1000, 0x3000, RW, true, false);
        t.clear_code_flag(0x3000);
        assert_eq!(t.lookup_write(0, 0x1008, 8), Some(0x3008));
    }

    #[test]
    fn flush_page_drops_entry() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, 0x1000, 0, RW, false, false);
        t.flush_page(0x1fff);
        assert_eq!(t.lookup_read(0, 0x1000, 1), None);
    }

    #[test]
    fn flush_page_keeps_other_pages() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, 0x1000, 0, RW, false, false);
        t.fill(0, 0x2000, 0x1000, RW, false, false);
        t.flush_page(0x1000);
        assert_eq!(t.lookup_read(0, 0x2000, 1), Some(0x1000));
    }

    #[test]
    fn flush_page_inside_a_superpage_drops_all_its_pages() {
        let mut t: Tlb<2> = Tlb::new();
        // Two 4 KiB pieces of one 2 MiB page, and a page of another MMU index.
        t.fill(0, 0x20_0000, 0, RW, false, false);
        t.note_large_page(0, 0x20_0000, 2 << 20);
        t.fill(0, 0x20_1000, 0x1000, RW, false, false);
        t.note_large_page(0, 0x20_1000, 2 << 20);
        t.fill(1, 0x9000, 0x2000, RW, false, false);
        t.flush_page(0x3f_f000);
        assert_eq!(t.lookup_read(0, 0x20_0000, 1), None);
        assert_eq!(t.lookup_read(0, 0x20_1000, 1), None);
        assert_eq!(t.lookup_read(1, 0x9000, 1), Some(0x2000));
    }

    #[test]
    fn large_page_region_widens_to_cover_every_superpage() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, 0x20_0000, 0, RW, false, false);
        t.note_large_page(0, 0x20_0000, 2 << 20);
        t.fill(0, 0x80_0000, 0x1000, RW, false, false);
        t.note_large_page(0, 0x80_0000, 2 << 20);
        // 0x50_0000 lies in neither superpage but in the region covering both: all go.
        t.flush_page(0x50_0000);
        assert_eq!(t.lookup_read(0, 0x80_0000, 1), None);
    }

    const RX: Prot = Prot { read: true, write: false, exec: true };

    #[test]
    fn a_data_page_in_the_same_slot_leaves_the_code_page_fetchable() {
        let mut t: Tlb<1> = Tlb::new();
        let (code, data) = (0xffff_ffff_8025_b000, 0xffff_ffff_81e5_b000);
        assert_eq!(tlb_index(code), tlb_index(data));
        t.fill(0, code, 0x7000, RX, false, false);
        t.fill(0, data, 0x9000, RW, false, false);
        assert_eq!(t.lookup_code(0, code + 4), Some(0x7004));
        assert_eq!(t.lookup_read(0, data + 8, 8), Some(0x9008));
        assert_eq!(t.lookup_read(0, code, 8), None);
    }

    #[test]
    fn refilling_a_page_without_execute_stops_its_fetches() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, 0x1000, 0x7000, RX, false, false);
        t.fill(0, 0x1000, 0x7000, RW, false, false);
        assert_eq!(t.lookup_code(0, 0x1000), None);
    }

    #[test]
    fn every_flush_reaches_the_code_table() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, 0x1000, 0x7000, RX, false, false);
        t.fill(0, 0x40_1000, 0x9000, RW, false, false);
        t.flush_page(0x1000);
        assert_eq!(t.lookup_code(0, 0x1000), None);
        assert_eq!(t.lookup_read(0, 0x40_1000, 1), Some(0x9000));
        t.fill(0, 0x1000, 0x7000, RX, false, false);
        t.flush_slot(0, tlb_index(0x1000));
        assert_eq!(t.lookup_code(0, 0x1000), None);
        t.fill(0, 0x1000, 0x7000, RX, false, false);
        t.flush_all();
        assert_eq!(t.lookup_code(0, 0x1000), None);
        t.fill(0, 0x20_0000, 0x7000, RX, false, false);
        t.note_large_page(0, 0x20_0000, 2 << 20);
        t.flush_page(0x3f_f000);
        assert_eq!(t.lookup_code(0, 0x20_0000), None);
    }

    #[test]
    fn every_flush_changes_the_epoch_and_fills_do_not() {
        let mut t: Tlb<1> = Tlb::new();
        let e0 = t.epoch();
        t.fill(0, 0x1000, 0, RX, true, false);
        t.clear_code_flag(0);
        assert_eq!(t.epoch(), e0);
        t.flush_page(0x1000);
        let e1 = t.epoch();
        assert_ne!(e1, e0);
        t.flush_slot(0, 1);
        let e2 = t.epoch();
        assert_ne!(e2, e1);
        t.flush_all();
        assert_ne!(t.epoch(), e2);
    }

    #[test]
    fn a_page_flush_changes_the_epoch_only_for_pages_fetched_from() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, 0x1000, 0x7000, RW, false, false);
        t.fill(0, 0x2000, 0x8000, RX, false, false);
        let e = t.epoch();
        t.flush_page(0x1000);
        assert_eq!(t.epoch(), e, "no fetch went to a data page");
        t.flush_page(0x2000);
        assert_ne!(t.epoch(), e, "the fill handed out a fetch translation");
        let e = t.epoch();
        // A code entry that outlived a bump counts again once a fetch hits it.
        t.fill(0, 0x3000, 0x9000, RX, false, false);
        t.flush_page(0x1000);
        assert_eq!(t.epoch(), e);
        t.flush_page(0x2000);
        let e = t.epoch();
        assert_eq!(t.lookup_code(0, 0x3004), Some(0x9004));
        t.flush_page(0x3000);
        assert_ne!(t.epoch(), e);
    }

    #[test]
    fn a_page_flush_in_a_superpage_changes_the_epoch() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, 0x20_0000, 0x7000, RW, false, false);
        t.note_large_page(0, 0x20_0000, 2 << 20);
        let e = t.epoch();
        t.flush_page(0x3f_f000);
        assert_ne!(t.epoch(), e);
    }

    #[test]
    fn page_zero_is_not_hit_by_empty_entry() {
        let mut t: Tlb<1> = Tlb::new();
        assert_eq!(t.lookup_read(0, 0, 1), None);
        assert_eq!(t.lookup_code(0, 0), None);
    }

    /// Two pages 4 MiB apart share a slot.
    const A: u64 = 0x40_0000;
    const B: u64 = A + (TLB_ENTRIES as u64) * 4096;

    #[test]
    fn a_page_evicted_by_a_fill_comes_back_by_a_victim_swap() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, A, 0x1000, RW, false, false);
        t.fill(0, B, 0x2000, RW, false, false);
        assert_eq!(t.lookup_read(0, A, 8), None);
        assert!(t.victim_swap(0, A).is_some());
        assert_eq!(t.lookup_read(0, A + 8, 8), Some(0x1008));
        // The page it displaced is a victim now.
        assert_eq!(t.lookup_read(0, B, 8), None);
        assert!(t.victim_swap(0, B).is_some());
        assert_eq!(t.lookup_write(0, B, 8), Some(0x2000));
        assert!(t.victim_swap(0, A + 0x1000).is_none(), "a page never filled has no victim");
    }

    #[test]
    fn a_fill_and_a_swap_name_the_victim_that_holds_the_other_entry() {
        let mut t: Tlb<1> = Tlb::new();
        assert_eq!(t.fill(0, A, 0x1000, RW, false, false), None, "the slot was empty");
        let k = t.fill(0, B, 0x2000, RW, false, false).expect("A was evicted");
        assert_eq!(t.fill(0, B, 0x3000, RW, false, false), None, "a refill of the same page evicts nothing");
        assert_eq!(t.victim_swap(0, A), Some(k), "A comes back from where it went; B goes there");
        assert_eq!(t.victim_swap(0, B), Some(k));
    }

    #[test]
    fn flushes_reach_the_victims() {
        let flushes: [fn(&mut Tlb<1>); 3] = [|t| t.flush_page(A), |t| t.flush_slot(0, tlb_index(A)), |t| t.flush_all()];
        for flush in flushes {
            let mut t: Tlb<1> = Tlb::new();
            t.fill(0, A, 0x1000, RW, false, false);
            t.fill(0, B, 0x2000, RW, false, false);
            flush(&mut t);
            assert!(t.victim_swap(0, A).is_none());
        }
    }

    #[test]
    fn a_code_page_mark_reaches_the_victims() {
        let mut t: Tlb<1> = Tlb::new();
        t.fill(0, A, 0x1000, RW, false, false);
        t.fill(0, B, 0x2000, RW, false, false);
        t.set_code_flag(0x1000);
        assert!(t.victim_swap(0, A).is_some());
        assert_eq!(t.lookup_write(0, A, 8), None, "stores to a code page must take the slow path");
        assert_eq!(t.lookup_read(0, A, 8), Some(0x1000));
    }

    #[test]
    fn a_non_global_flush_keeps_global_pages() {
        let mut t: Tlb<2> = Tlb::new();
        t.fill(1, 0xffff_ffd8_0000_0000, 0x1000, RX, false, true);
        t.fill(0, 0x1000, 0x2000, RW, false, false);
        let e = t.epoch();
        t.flush_non_global();
        assert_ne!(t.epoch(), e);
        assert_eq!(t.lookup_code(1, 0xffff_ffd8_0000_0010), Some(0x1010));
        assert_eq!(t.lookup_read(0, 0x1000, 1), None);
    }

    #[test]
    fn a_slot_once_filled_non_global_is_dropped_even_after_a_global_fill() {
        let mut t: Tlb<1> = Tlb::new();
        // What a slot held since it was last emptied may still be in the fetch table, so the
        // slot stays non-global until a flush empties it.
        t.fill(0, 0x1000, 0x2000, RX, false, false);
        t.fill(0, 0x1000, 0x3000, RW, false, true);
        t.flush_non_global();
        assert_eq!(t.lookup_code(0, 0x1000), None);
        assert_eq!(t.lookup_read(0, 0x1000, 1), None);
    }
}
