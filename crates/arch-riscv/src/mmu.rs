//! Address translation (Sv39, Sv48, Sv57 with hardware A/D updates), physical memory protection,
//! and the fast and slow paths of every load, store and instruction fetch.

use crate::cpu::{Priv, RiscvCpu, NUM_MMU};
use crate::csr::{mstatus as ms, NUM_PMP};
use crate::trap::Cause;
use mimic_core::{MemOp, Size};
use mimic_ir::Exit;
use mimic_memory::{AddressSpace, PAGE_SIZE};
use mimic_softmmu::{Prot, Tlb};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Exec,
}

impl Access {
    fn page_fault(self) -> Cause {
        match self {
            Access::Read => Cause::LoadPageFault,
            Access::Write => Cause::StorePageFault,
            Access::Exec => Cause::InsnPageFault,
        }
    }
    fn access_fault(self) -> Cause {
        match self {
            Access::Read => Cause::LoadAccess,
            Access::Write => Cause::StoreAccess,
            Access::Exec => Cause::InsnAccess,
        }
    }
}

mod pte {
    pub const V: u64 = 1 << 0;
    pub const R: u64 = 1 << 1;
    pub const W: u64 = 1 << 2;
    pub const X: u64 = 1 << 3;
    pub const U: u64 = 1 << 4;
    pub const A: u64 = 1 << 6;
    pub const G: u64 = 1 << 5;
    pub const D: u64 = 1 << 7;
    /// Bits 63:54 (N, PBMT, reserved): we implement none of Svnapot/Svpbmt, so they must be 0.
    pub const RESERVED: u64 = 0x3ff << 54;
    pub const PPN_SHIFT: u32 = 10;
    pub const PPN_MASK: u64 = (1 << 44) - 1;
}

/// Where a translated data access goes.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// Offset in the RAM backing store.
    Ram(usize),
    /// A physical address outside RAM (device, ROM write, or unmapped).
    Phys(u64),
}

/// Result of a successful translation of one page.
struct Translation {
    paddr: u64,
    /// Permissions the page grants under the MMU index it was walked for.
    prot: Prot,
    /// Bytes the leaf entry maps (4 KiB, or a superpage).
    size: u64,
    /// The same in every address space: a global leaf (G), or no translation at all.
    global: bool,
}

mod pmpcfg {
    pub const R: u8 = 1;
    pub const W: u8 = 2;
    pub const X: u8 = 4;
    pub const A_SHIFT: u8 = 3;
    pub const L: u8 = 0x80;
    pub const OFF: u8 = 0;
    pub const TOR: u8 = 1;
    pub const NA4: u8 = 2;
}

/// One active PMP entry: the byte range `[lo, hi)` it covers and its `pmpcfg`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PmpEntry {
    lo: u64,
    hi: u64,
    cfg: u8,
}

/// The active PMP entries in priority order, decoded once per CSR write: the checks run on
/// every page-walk step and TLB fill, and decoding NAPOT ranges there showed in profiles.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PmpTable {
    entries: [PmpEntry; NUM_PMP],
    len: usize,
}

impl RiscvCpu {
    // ---- PMP --------------------------------------------------------------------------------

    pub(crate) fn pmpaddr_read(&self, n: usize) -> u64 {
        self.csr.pmpaddr[n]
    }

    fn pmp_locked(&self, n: usize) -> bool {
        self.csr.pmpcfg[n] & pmpcfg::L != 0
    }

    pub(crate) fn pmpcfg_write(&mut self, n: usize, v: u8) {
        if n >= NUM_PMP || self.pmp_locked(n) {
            return;
        }
        // Bits 6:5 are reserved zero; R=0 W=1 is reserved: keep the entry's old value.
        let v = v & 0x9f;
        if v & pmpcfg::W != 0 && v & pmpcfg::R == 0 {
            return;
        }
        self.csr.pmpcfg[n] = v;
        self.pmp_rebuild();
    }

    pub(crate) fn pmpaddr_write(&mut self, n: usize, v: u64) {
        if self.pmp_locked(n) {
            return;
        }
        // A locked TOR entry also locks the address register below it.
        if n + 1 < NUM_PMP && self.pmp_locked(n + 1) && (self.csr.pmpcfg[n + 1] >> pmpcfg::A_SHIFT) & 3 == pmpcfg::TOR {
            return;
        }
        self.csr.pmpaddr[n] = v & ((1 << 54) - 1);
        self.pmp_rebuild();
    }

    fn pmp_rebuild(&mut self) {
        let mut t = PmpTable::default();
        for n in 0..NUM_PMP {
            if let Some((lo, hi)) = self.pmp_range(n) {
                t.entries[t.len] = PmpEntry { lo, hi, cfg: self.csr.pmpcfg[n] };
                t.len += 1;
            }
        }
        self.csr.pmp = t;
    }

    /// The byte range `[lo, hi)` entry `n` covers, or None when it is off.
    fn pmp_range(&self, n: usize) -> Option<(u64, u64)> {
        let a = (self.csr.pmpcfg[n] >> pmpcfg::A_SHIFT) & 3;
        let addr = self.csr.pmpaddr[n];
        match a {
            pmpcfg::OFF => None,
            pmpcfg::TOR => {
                let lo = if n == 0 { 0 } else { self.csr.pmpaddr[n - 1] << 2 };
                Some((lo, addr << 2))
            }
            pmpcfg::NA4 => Some((addr << 2, (addr << 2) + 4)),
            _ => {
                let ones = addr.trailing_ones();
                if ones >= 54 {
                    return Some((0, u64::MAX));
                }
                let size = 1u64 << (ones + 3);
                let base = (addr << 2) & !(size - 1);
                Some((base, base.saturating_add(size)))
            }
        }
    }

    /// Check `[paddr, paddr + len)` for `access` at privilege `p`. With no matching entry only
    /// M-mode may access (all 16 entries are implemented, even when none is active).
    pub(crate) fn pmp_allows(&self, paddr: u64, len: u64, access: Access, p: Priv) -> bool {
        let bit = match access {
            Access::Read => pmpcfg::R,
            Access::Write => pmpcfg::W,
            Access::Exec => pmpcfg::X,
        };
        self.pmp_perms(paddr, len, p) & bit != 0
    }

    /// The `pmpcfg` R/W/X bits that hold for all of `[paddr, paddr + len)` at privilege `p`.
    fn pmp_perms(&self, paddr: u64, len: u64, p: Priv) -> u8 {
        const ALL: u8 = pmpcfg::R | pmpcfg::W | pmpcfg::X;
        let end = paddr.saturating_add(len);
        let t = &self.csr.pmp;
        for e in &t.entries[..t.len] {
            if end <= e.lo || paddr >= e.hi {
                continue;
            }
            if paddr < e.lo || end > e.hi {
                // Partly inside: the access fails.
                return 0;
            }
            if p == Priv::M && e.cfg & pmpcfg::L == 0 {
                return ALL;
            }
            return e.cfg & ALL;
        }
        if p == Priv::M {
            ALL
        } else {
            0
        }
    }

    // ---- page walk ----------------------------------------------------------------------------

    /// Translate the page of `vaddr` for `access` under MMU index `idx`. A debugger's walk
    /// (`debug`) neither updates A/D bits nor is subject to PMP.
    fn translate(
        &mut self,
        bus: &mut AddressSpace,
        vaddr: u64,
        access: Access,
        idx: usize,
    ) -> Result<Translation, Cause> {
        self.walk(bus, vaddr, access, idx, false)
    }

    fn walk(
        &mut self,
        bus: &mut AddressSpace,
        vaddr: u64,
        access: Access,
        idx: usize,
        debug: bool,
    ) -> Result<Translation, Cause> {
        let p = Self::mmu_priv(idx);
        let satp = self.csr.satp;
        let mode = satp >> 60;
        if p == Priv::M || mode == 0 {
            return Ok(Translation {
                paddr: vaddr,
                prot: Prot { read: true, write: true, exec: true },
                size: PAGE_SIZE,
                global: true,
            });
        }
        let levels: u32 = match mode {
            8 => 3,
            9 => 4,
            _ => 5,
        };
        let va_bits = 12 + 9 * levels;
        // The address must be sign-extended from bit va_bits - 1.
        let top = (vaddr as i64) >> (va_bits - 1);
        if top != 0 && top != -1 {
            return Err(access.page_fault());
        }
        let sum = idx == crate::cpu::MMU_S_SUM;
        let mxr = self.csr.mstatus & ms::MXR != 0;
        let mut table = (satp & pte::PPN_MASK) << 12;
        for level in (0..levels).rev() {
            let vpn = (vaddr >> (12 + 9 * level)) & 0x1ff;
            let pte_addr = table + vpn * 8;
            if !debug && !self.pmp_allows(pte_addr, 8, Access::Read, Priv::S) {
                return Err(access.access_fault());
            }
            let Ok(mut e) = bus.read(pte_addr, Size::B8) else {
                return Err(access.access_fault());
            };
            if e & pte::V == 0 || (e & pte::R == 0 && e & pte::W != 0) || e & pte::RESERVED != 0 {
                return Err(access.page_fault());
            }
            let ppn = (e >> pte::PPN_SHIFT) & pte::PPN_MASK;
            if e & (pte::R | pte::X) == 0 {
                // A pointer to the next level; A, D and U must be clear on non-leaf entries.
                if e & (pte::A | pte::D | pte::U) != 0 || level == 0 {
                    return Err(access.page_fault());
                }
                table = ppn << 12;
                continue;
            }
            // A superpage's low PPN bits must be zero.
            if level > 0 && ppn & ((1 << (9 * level)) - 1) != 0 {
                return Err(access.page_fault());
            }
            let user = e & pte::U != 0;
            let priv_ok = match p {
                Priv::U => user,
                _ => !user || (sum && access != Access::Exec),
            };
            let readable = e & pte::R != 0 || (mxr && e & pte::X != 0);
            let allowed = match access {
                Access::Read => readable,
                Access::Write => e & pte::W != 0,
                Access::Exec => e & pte::X != 0,
            };
            if !priv_ok || !allowed {
                return Err(access.page_fault());
            }
            // Hardware A/D update (as QEMU does by default).
            let want = pte::A | if access == Access::Write { pte::D } else { 0 };
            if e & want != want && !debug {
                if !self.pmp_allows(pte_addr, 8, Access::Write, Priv::S) {
                    return Err(access.access_fault());
                }
                e |= want;
                if bus.write(pte_addr, Size::B8, e).is_err() {
                    return Err(access.access_fault());
                }
            }
            let offset_mask = (1u64 << (12 + 9 * level)) - 1;
            let paddr = ((ppn << 12) & !offset_mask) | (vaddr & offset_mask);
            let prot = Prot {
                read: readable,
                // Writes hit the fast path only once D is set, so the first write sets it.
                write: e & pte::W != 0 && e & pte::D != 0,
                exec: e & pte::X != 0 && !(p == Priv::S && user),
            };
            return Ok(Translation { paddr, prot, size: offset_mask + 1, global: e & pte::G != 0 });
        }
        Err(access.page_fault())
    }

    /// Translate, check PMP, and fill the TLB when the whole page is plain RAM with uniform
    /// protection. Returns where the access goes.
    fn translate_fill(
        &mut self,
        bus: &mut AddressSpace,
        vaddr: u64,
        len: u64,
        access: Access,
        idx: usize,
    ) -> Result<Target, Cause> {
        // Helpers (LR/SC, AMOs) come here without probing the TLB first, as the load and store
        // fast paths do; a page whose entry a fill evicted from its slot comes back without a
        // walk (the entry was as checked then, and flushes reach it as they reach the table).
        if idx < NUM_MMU && access != Access::Exec {
            let lookup = |tlb: &Tlb<NUM_MMU>| match access {
                Access::Write => tlb.lookup_write(idx, vaddr, len),
                _ => tlb.lookup_read(idx, vaddr, len),
            };
            if let Some(off) = lookup(&self.tlb) {
                return Ok(Target::Ram(off));
            }
            if self.tlb.victim_swap(idx, vaddr).is_some() {
                if let Some(off) = lookup(&self.tlb) {
                    return Ok(Target::Ram(off));
                }
            }
        }
        let t = self.translate(bus, vaddr, access, idx)?;
        let p = Self::mmu_priv(idx);
        if !self.pmp_allows(t.paddr, len, access, p) {
            return Err(access.access_fault());
        }
        let Some(ram) = bus.lookup_ram(t.paddr) else {
            return Ok(Target::Phys(t.paddr));
        };
        if access == Access::Write && !ram.writable {
            return Ok(Target::Phys(t.paddr));
        }
        let page_pa = t.paddr & !(PAGE_SIZE - 1);
        let page_off = ram.offset - (t.paddr - page_pa) as usize;
        let in_one_region = ram.remaining + (t.paddr - page_pa) >= PAGE_SIZE;
        if in_one_region && idx < NUM_MMU && !self.page_watched(vaddr) {
            let pmp = self.pmp_perms(page_pa, PAGE_SIZE, p);
            let prot = Prot {
                read: t.prot.read && pmp & pmpcfg::R != 0,
                write: t.prot.write && ram.writable && pmp & pmpcfg::W != 0,
                exec: t.prot.exec && pmp & pmpcfg::X != 0,
            };
            if prot.read || prot.write || prot.exec {
                let code = bus.is_code_page(page_off);
                self.tlb.fill(idx, vaddr, page_off, prot, code, t.global);
                if t.size > PAGE_SIZE {
                    self.tlb.note_large_page(idx, vaddr, t.size);
                }
            }
        }
        Ok(Target::Ram(ram.offset))
    }

    // ---- data accesses -----------------------------------------------------------------------

    #[inline(always)]
    pub fn load_data(&mut self, bus: &mut AddressSpace, vaddr: u64, op: MemOp) -> Result<u64, Exit> {
        let size = op.size.bytes();
        if let Some(off) = self.tlb.lookup_read(self.data_mmu, vaddr, size) {
            if let Some(b) = bus.store().get(off..off + size as usize) {
                return Ok(op.extend(mimic_memory_read_le(b)));
            }
        }
        self.load_slow(bus, vaddr, op)
    }

    #[inline(never)]
    fn load_slow(&mut self, bus: &mut AddressSpace, vaddr: u64, op: MemOp) -> Result<u64, Exit> {
        let size = op.size.bytes();
        if vaddr & (size - 1) != 0 {
            return self.load_misaligned(bus, vaddr, op);
        }
        let raw = self.read_phys_target(bus, vaddr, op.size, Access::Read)?;
        Ok(op.extend(raw))
    }

    /// Misaligned loads and stores are performed, as QEMU does (the privileged spec allows
    /// either performing or trapping them; only atomics must trap). Byte by byte, so an access
    /// that straddles two pages translates each; rare enough that speed does not matter.
    #[cold]
    fn load_misaligned(&mut self, bus: &mut AddressSpace, vaddr: u64, op: MemOp) -> Result<u64, Exit> {
        let mut raw = 0u64;
        for i in 0..op.size.bytes() {
            let b = self.read_phys_target(bus, vaddr.wrapping_add(i), Size::B1, Access::Read)?;
            raw |= b << (8 * i);
        }
        Ok(op.extend(raw))
    }

    /// Every byte is translated before any is written, so a fault leaves memory unchanged.
    #[cold]
    fn store_misaligned(&mut self, bus: &mut AddressSpace, vaddr: u64, val: u64, op: MemOp) -> Result<(), Exit> {
        let n = op.size.bytes();
        let mut targets = [Target::Phys(0); 8];
        for i in 0..n {
            targets[i as usize] = self.translate_store(bus, vaddr.wrapping_add(i), 1)?;
        }
        for i in 0..n {
            self.write_target(bus, vaddr.wrapping_add(i), targets[i as usize], Size::B1, val >> (8 * i))?;
        }
        Ok(())
    }

    fn read_phys_target(
        &mut self,
        bus: &mut AddressSpace,
        vaddr: u64,
        size: Size,
        access: Access,
    ) -> Result<u64, Exit> {
        let idx = self.data_mmu;
        if self.check_watch(vaddr, size.bytes(), false) {
            return Err(Exit);
        }
        match self.translate_fill(bus, vaddr, size.bytes(), access, idx) {
            Ok(Target::Ram(off)) => Ok(mimic_memory_read_le(&bus.store()[off..off + size.bytes() as usize])),
            Ok(Target::Phys(pa)) => match bus.read(pa, size) {
                Ok(v) => Ok(v),
                Err(_) => self.exception(Cause::LoadAccess, vaddr),
            },
            Err(c) => self.exception(c, vaddr),
        }
    }

    #[inline(always)]
    pub fn store_data(&mut self, bus: &mut AddressSpace, vaddr: u64, val: u64, op: MemOp) -> Result<(), Exit> {
        let size = op.size.bytes();
        if let Some(off) = self.tlb.lookup_write(self.data_mmu, vaddr, size) {
            if let Some(b) = bus.store_mut().get_mut(off..off + size as usize) {
                mimic_memory_write_le(b, val);
                return Ok(());
            }
        }
        self.store_slow(bus, vaddr, val, op)
    }

    #[inline(never)]
    fn store_slow(&mut self, bus: &mut AddressSpace, vaddr: u64, val: u64, op: MemOp) -> Result<(), Exit> {
        let size = op.size.bytes();
        if vaddr & (size - 1) != 0 {
            return self.store_misaligned(bus, vaddr, val, op);
        }
        let target = self.translate_store(bus, vaddr, size)?;
        self.write_target(bus, vaddr, target, op.size, val)
    }

    /// Translate a store or AMO destination (store/AMO faults).
    pub(crate) fn translate_store(&mut self, bus: &mut AddressSpace, vaddr: u64, size: u64) -> Result<Target, Exit> {
        let idx = self.data_mmu;
        if self.check_watch(vaddr, size, true) {
            return Err(Exit);
        }
        match self.translate_fill(bus, vaddr, size, Access::Write, idx) {
            Ok(t) => Ok(t),
            Err(c) => self.exception(c, vaddr),
        }
    }

    pub(crate) fn write_target(
        &mut self,
        bus: &mut AddressSpace,
        vaddr: u64,
        t: Target,
        size: Size,
        val: u64,
    ) -> Result<(), Exit> {
        match t {
            Target::Ram(off) => {
                self.notice_code_write(bus, off);
                // Ordinary stores leave the LR reservation alone on both the fast and the slow
                // path, so SC's outcome never depends on what the TLB held.
                mimic_memory_write_le(&mut bus.store_mut()[off..off + size.bytes() as usize], val);
                Ok(())
            }
            Target::Phys(pa) => match bus.write(pa, size, val) {
                Ok(()) => Ok(()),
                Err(_) => self.exception(Cause::StoreAccess, vaddr),
            },
        }
    }

    pub(crate) fn read_target(
        &mut self,
        bus: &mut AddressSpace,
        vaddr: u64,
        t: Target,
        size: Size,
    ) -> Result<u64, Exit> {
        match t {
            Target::Ram(off) => Ok(mimic_memory_read_le(&bus.store()[off..off + size.bytes() as usize])),
            Target::Phys(pa) => match bus.read(pa, size) {
                Ok(v) => Ok(v),
                Err(_) => self.exception(Cause::StoreAccess, vaddr),
            },
        }
    }

    /// A store to a page that has decoded blocks drops them (self-modifying code).
    fn notice_code_write(&mut self, bus: &mut AddressSpace, off: usize) {
        if bus.is_code_page(off) {
            let page_off = off & !(PAGE_SIZE as usize - 1);
            self.cache.invalidate_page(off / PAGE_SIZE as usize);
            bus.clear_code_page(page_off);
            self.tlb.clear_code_flag(page_off);
            // Other harts may hold blocks from this page too; the board drops them before any
            // other hart runs (clearing the code-page bit above hides later writes from them).
            bus.note_code_write(off / PAGE_SIZE as usize);
        }
    }

    /// Physical translation for LR (load faults) of an aligned address.
    pub(crate) fn translate_load(&mut self, bus: &mut AddressSpace, vaddr: u64, size: u64) -> Result<Target, Exit> {
        let idx = self.data_mmu;
        if self.check_watch(vaddr, size, false) {
            return Err(Exit);
        }
        match self.translate_fill(bus, vaddr, size, Access::Read, idx) {
            Ok(t) => Ok(t),
            Err(c) => self.exception(c, vaddr),
        }
    }

    // ---- debugger support ----------------------------------------------------------------------

    /// The physical address of `vaddr` as a data access in the current privilege would see it,
    /// without side effects (no A/D updates, no TLB fill, no exception recorded).
    pub fn debug_translate(&mut self, bus: &mut AddressSpace, vaddr: u64) -> Option<u64> {
        let idx = self.data_mmu;
        self.walk(bus, vaddr, Access::Read, idx, true).ok().map(|t| t.paddr)
    }

    pub fn set_watchpoints(&mut self, w: Vec<Watchpoint>) {
        self.watchpoints = w;
        // Watched pages must not be in the TLB: their accesses take the slow path.
        self.tlb.flush_all();
    }

    fn page_watched(&self, vaddr: u64) -> bool {
        let page = vaddr & !(PAGE_SIZE - 1);
        self.watchpoints.iter().any(|w| w.addr < page + PAGE_SIZE && page < w.addr.saturating_add(w.len))
    }

    /// Whether this access hits a watchpoint; if so it is recorded and the access must not
    /// happen (the instruction stops before it commits, as GDB expects on RISC-V).
    #[inline]
    fn check_watch(&mut self, vaddr: u64, len: u64, write: bool) -> bool {
        if self.watchpoints.is_empty() {
            return false;
        }
        let end = vaddr.saturating_add(len);
        if let Some(w) = self
            .watchpoints
            .iter()
            .find(|w| w.addr < end && vaddr < w.addr.saturating_add(w.len) && if write { w.write } else { w.read })
        {
            self.watch_hit = Some((w.addr, write));
            return true;
        }
        false
    }

    // ---- instruction fetch ---------------------------------------------------------------------

    #[inline]
    pub fn fetch_offset(&mut self, bus: &mut AddressSpace, vaddr: u64) -> Result<usize, Exit> {
        let idx = self.fetch_mmu();
        if let Some(off) = self.tlb.lookup_code(idx, vaddr) {
            return Ok(off);
        }
        self.fetch_slow(bus, vaddr, idx)
    }

    #[inline(never)]
    fn fetch_slow(&mut self, bus: &mut AddressSpace, vaddr: u64, idx: usize) -> Result<usize, Exit> {
        match self.translate_fill(bus, vaddr, 2, Access::Exec, idx) {
            Ok(Target::Ram(off)) => Ok(off),
            // Instructions run only from RAM or ROM.
            Ok(Target::Phys(_)) => self.exception(Cause::InsnAccess, vaddr),
            Err(c) => self.exception(c, vaddr),
        }
    }
}

#[inline(always)]
fn mimic_memory_read_le(b: &[u8]) -> u64 {
    mimic_memory::read_le(b)
}
#[inline(always)]
fn mimic_memory_write_le(b: &mut [u8], v: u64) {
    mimic_memory::write_le(b, v)
}

/// A data watchpoint: a byte range and which accesses trigger it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watchpoint {
    pub addr: u64,
    pub len: u64,
    pub read: bool,
    pub write: bool,
}
