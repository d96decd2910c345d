//! Which blocks a compiling tier translates together. A hot block is compiled with the blocks it
//! reaches through direct jumps and branches on its own page (a *region*): control passing
//! between them is a plain jump inside one host function instead of an exit through a jump
//! slot and a tail call after every few instructions (where a loop of three small blocks in
//! gzip spent much of its time).
//!
//! Blocks on the first block's page join, each within that page: a store to the page drops the
//! first block, and with it the region's code, so no member can go stale unnoticed. For guests
//! with a fetch epoch, blocks on other pages join too ([`gather_across`]): a store to such a page
//! drops those members, whose entries take the region's code with them, and the compiling tier
//! enters them from another page only while the jump cache maps them to the region. A block
//! whose page was not written may then hold an entry into a dropped region; the run loop lets
//! go of such an entry the first time it hands back unrun. All members are translated under the
//! first block's flags; the run loop already relies on nothing but a helper (which ends a linked
//! run) changing them between blocks.
//!
//! [`killed`] tells which registers a member overwrites before anything could read them, which
//! a jump into it from another member need not write back.

use crate::cache::{Block, BlockCache, QUEUED};
use crate::direct::Env;
use crate::run::Guest;
use mimic_core::MemOp;
use mimic_ir::{BinOp, Cond, Exit, Helper, Reg, Sem, UnOp};
use mimic_memory::PAGE_SIZE;
use std::marker::PhantomData;
use std::rc::Rc;

/// At most this many blocks per region, and this many instructions in all: past that, compile
/// time grows faster than what the region saves.
pub const MAX_BLOCKS: usize = 16;
pub const MAX_INSNS: usize = 384;

/// Where a block can go next, as far as is known at translation time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exits {
    /// The target of the last instruction's direct jump or branch.
    pub target: Option<u64>,
    /// The next instruction in memory, when the block can fall through to it (a branch not
    /// taken, or a last instruction that does not jump).
    pub fallthrough: Option<u64>,
}

/// The static exits of `block`: its last instruction's semantics run against a recorder that
/// knows only constants, as a compiling tier sees them (a jump target made by `Sem::imm`).
pub fn exits<G: Guest>(block: &Block<G::Insn>) -> Exits {
    let Some(last) = block.insns.last() else {
        return Exits::default();
    };
    let fallthrough = last.pc.wrapping_add(u64::from(last.len));
    let mut p: Probe<'_, G> = Probe::new(last.pc);
    if G::translate(&last.insn, block.flags, &mut p).is_err() {
        return Exits::default();
    }
    match (p.jump, p.branch) {
        (Some(target), _) => Exits { target, fallthrough: None },
        (None, Some(target)) => Exits { target: Some(target), fallthrough: Some(fallthrough) },
        (None, None) => Exits { target: None, fallthrough: Some(fallthrough) },
    }
}

/// `entry` and the cached blocks it reaches through static exits on its page that have run at
/// least `min_heat` times (paths the guest rarely takes only cost compile time), breadth first,
/// within [`MAX_BLOCKS`] and [`MAX_INSNS`]; `entry` alone when it spans two pages or runs under
/// flags a register carries into the next block (those end a chained run).
///
/// Blocks that have code of `generation` or wait for a queued job are left out: the region
/// leaves for them through a jump slot. A function's loops grow hot one after another and
/// its entry last; each region taking in the code compiled before it made md5's transform
/// five jobs of 988 instructions in all for its 370. Measured with `cargo xtask bench-linux
/// --arch riscv64`, three alternating runs each: md5 0.59-0.70 s → 0.48-0.63 s, total
/// 36.2-40.0 s → 33.5-37.8 s (on a machine about three times slower than the figures elsewhere
/// in these comments); arm64 total 46.3-53.7 s → 44.7-49.1 s.
pub fn gather<G: Guest>(
    cache: &BlockCache<G::Insn>,
    entry: &Rc<Block<G::Insn>>,
    min_heat: u32,
    generation: u64,
) -> Vec<Rc<Block<G::Insn>>> {
    gather_across::<G>(cache, entry, min_heat, generation, None)
}

/// Like [`gather`], and with a guest's fetch epoch (`Guest::FETCH_EPOCH`) also blocks on other
/// pages: a page joins once a member's last run went on to a block there in this epoch (the
/// interpreter's successor link, `Block::successor`), which tells where that page was mapped;
/// its other blocks are then found at the same physical page. A loop that straddles a page
/// boundary (gzip's longest-match loop, bzip2's input loop) then runs in one function too. The
/// compiling tier guards every jump between pages inside the region with the jump cache (see
/// `mimic_jit`'s emitter), so a page mapped elsewhere since only costs the jump a probe.
pub fn gather_across<G: Guest>(
    cache: &BlockCache<G::Insn>,
    entry: &Rc<Block<G::Insn>>,
    min_heat: u32,
    generation: u64,
    fetch_epoch: Option<u64>,
) -> Vec<Rc<Block<G::Insn>>> {
    let mut region = vec![entry.clone()];
    let page_mask = !(PAGE_SIZE - 1);
    let carried = G::flags_from_reg(entry.flags).is_some_and(|(_, shift, mask)| entry.flags >> shift & mask != 0);
    if entry.pages[0] != entry.pages[1] || carried {
        return region;
    }
    // Virtual page → backing-store offset of its first byte, for the pages members may be on.
    let mut pages: Vec<(u64, usize)> = vec![(entry.pc & page_mask, entry.phys - (entry.pc & !page_mask) as usize)];
    let mut insns = entry.insns.len();
    let mut next = 0;
    while next < region.len() && region.len() < MAX_BLOCKS {
        let from = region[next].clone();
        let e = exits::<G>(&from);
        next += 1;
        for pc in [e.target, e.fallthrough].into_iter().flatten() {
            if region.iter().any(|b| b.pc == pc) || region.len() >= MAX_BLOCKS {
                continue;
            }
            let page = pc & page_mask;
            let b = match pages.iter().find(|p| p.0 == page) {
                Some(&(_, base)) => cache.get(pc, base + (pc & !page_mask) as usize, entry.flags),
                None => {
                    let Some(b) = fetch_epoch.and_then(|epoch| from.successor(pc, entry.flags, epoch)) else {
                        continue;
                    };
                    pages.push((page, b.phys - (pc & !page_mask) as usize));
                    Some(b)
                }
            };
            let Some(b) = b else { continue };
            let has_code = b.heat.get() & QUEUED != 0 || b.compiled.get().is_some_and(|c| c.generation == generation);
            if has_code || b.pages[0] != b.pages[1] || b.heat.get() < min_heat || insns + b.insns.len() > MAX_INSNS {
                continue;
            }
            insns += b.insns.len();
            region.push(b);
        }
    }
    region
}

/// A [`Sem`] that records only how an instruction leaves: values are known constants or
/// nothing, and nothing is executed.
struct Probe<'a, G> {
    pc: u64,
    /// `Some(Some(t))` for a jump to the constant `t`, `Some(None)` for a computed one.
    jump: Option<Option<u64>>,
    branch: Option<u64>,
    _env: PhantomData<fn(&mut Env<'a, G>)>,
}

impl<G> Probe<'_, G> {
    fn new(pc: u64) -> Self {
        Probe { pc, jump: None, branch: None, _env: PhantomData }
    }
}

impl<'a, G: Guest + 'a> Sem for Probe<'a, G> {
    /// Only values made by `imm` are known, as for the compiling tier's direct exits.
    type V = Option<u64>;
    type Env = Env<'a, G>;

    fn pc(&self) -> u64 {
        self.pc
    }
    fn imm(&mut self, v: u64) -> Option<u64> {
        Some(v)
    }
    fn get(&mut self, _r: Reg) -> Option<u64> {
        None
    }
    fn set(&mut self, _r: Reg, _v: Option<u64>) {}
    fn bin(&mut self, _op: BinOp, _a: Option<u64>, _b: Option<u64>) -> Option<u64> {
        None
    }
    fn un(&mut self, _op: UnOp, _a: Option<u64>) -> Option<u64> {
        None
    }
    fn setcond(&mut self, _c: Cond, _a: Option<u64>, _b: Option<u64>) -> Option<u64> {
        None
    }
    fn select(&mut self, _c: Option<u64>, _t: Option<u64>, _f: Option<u64>) -> Option<u64> {
        None
    }
    fn load(&mut self, _addr: Option<u64>, _op: MemOp) -> Result<Option<u64>, Exit> {
        Ok(None)
    }
    fn store(&mut self, _addr: Option<u64>, _val: Option<u64>, _op: MemOp) -> Result<(), Exit> {
        Ok(())
    }
    fn call(
        &mut self,
        _f: Helper<Self::Env>,
        _a: Option<u64>,
        _b: Option<u64>,
        _c: Option<u64>,
    ) -> Result<Option<u64>, Exit> {
        Ok(None)
    }
    fn jump(&mut self, target: Option<u64>) {
        self.jump = Some(target);
    }
    fn branch(&mut self, _c: Cond, _a: Option<u64>, _b: Option<u64>, target: u64) {
        self.branch = Some(target);
    }
}

/// A set of register numbers below 256 (`Reg`'s index); larger numbers are never members.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegSet([u64; 4]);

impl RegSet {
    pub const EMPTY: RegSet = RegSet([0; 4]);

    pub fn contains(&self, r: usize) -> bool {
        r < 256 && self.0[r / 64] >> (r % 64) & 1 != 0
    }
    pub fn insert(&mut self, r: usize) {
        if r < 256 {
            self.0[r / 64] |= 1 << (r % 64);
        }
    }
    pub fn union(self, o: RegSet) -> RegSet {
        RegSet(std::array::from_fn(|i| self.0[i] | o.0[i]))
    }
    pub fn intersection(self, o: RegSet) -> RegSet {
        RegSet(std::array::from_fn(|i| self.0[i] & o.0[i]))
    }
}

/// The registers `block` (run under `flags`) writes before it reads them and before its first
/// access to memory or helper call: what the block had in them on entry can never be seen, by
/// the block itself or by anything that looks at the register file before the block writes
/// them (a fault, an exception, a helper). A compiling tier that jumps into such a block from
/// another of its region may leave those registers unwritten on the way in, as long as every
/// other way out of the jumping block writes them (see `mimic_jit`'s emitter).
pub fn killed<G: Guest>(block: &Block<G::Insn>, flags: u32) -> RegSet {
    let mut p: Kills<'_, G> =
        Kills { pc: 0, read: RegSet::EMPTY, killed: RegSet::EMPTY, done: false, _env: PhantomData };
    for di in &block.insns {
        p.pc = di.pc;
        if G::translate(&di.insn, flags, &mut p).is_err() || p.done {
            break;
        }
    }
    p.killed
}

/// A [`Sem`] that records, in order, which registers are read and written until the first
/// instruction step that may leave the block early (a memory access or a helper call).
struct Kills<'a, G> {
    pc: u64,
    read: RegSet,
    killed: RegSet,
    /// Past a step that may leave: later writes are not kills.
    done: bool,
    _env: PhantomData<fn(&mut Env<'a, G>)>,
}

impl<'a, G: Guest + 'a> Sem for Kills<'a, G> {
    type V = ();
    type Env = Env<'a, G>;

    fn pc(&self) -> u64 {
        self.pc
    }
    fn imm(&mut self, _v: u64) {}
    fn get(&mut self, r: Reg) {
        let r = r.0 as usize;
        if !self.killed.contains(r) {
            self.read.insert(r);
        }
    }
    fn set(&mut self, r: Reg, _v: ()) {
        let r = r.0 as usize;
        if !self.done && !self.read.contains(r) {
            self.killed.insert(r);
        }
    }
    fn bin(&mut self, _op: BinOp, _a: (), _b: ()) {}
    fn un(&mut self, _op: UnOp, _a: ()) {}
    fn setcond(&mut self, _c: Cond, _a: (), _b: ()) {}
    fn select(&mut self, _c: (), _t: (), _f: ()) {}
    fn load(&mut self, _addr: (), _op: MemOp) -> Result<(), Exit> {
        self.done = true;
        Ok(())
    }
    fn store(&mut self, _addr: (), _val: (), _op: MemOp) -> Result<(), Exit> {
        self.done = true;
        Ok(())
    }
    fn load_pair(&mut self, _addr: (), _op: MemOp) -> Result<((), ()), Exit> {
        self.done = true;
        Ok(((), ()))
    }
    fn store_pair(&mut self, _addr: (), _first: (), _second: (), _op: MemOp) -> Result<(), Exit> {
        self.done = true;
        Ok(())
    }
    fn call(&mut self, _f: Helper<Self::Env>, _a: (), _b: (), _c: ()) -> Result<(), Exit> {
        self.done = true;
        Ok(())
    }
    fn call_local(&mut self, _f: Helper<Self::Env>, _a: (), _b: (), _c: ()) -> Result<(), Exit> {
        self.done = true;
        Ok(())
    }
    fn rmw(
        &mut self,
        _op: Option<BinOp>,
        _addr: (),
        _val: (),
        _mem: MemOp,
        _helper: Helper<Self::Env>,
    ) -> Result<(), Exit> {
        self.done = true;
        Ok(())
    }
    fn jump(&mut self, _target: ()) {}
    fn branch(&mut self, _c: Cond, _a: (), _b: (), _target: u64) {}
}

#[cfg(test)]
mod tests {
    use super::RegSet;

    #[test]
    fn a_register_set_holds_numbers_below_256_only() {
        let mut s = RegSet::EMPTY;
        for r in [0, 63, 64, 255, 256, 1000] {
            s.insert(r);
        }
        assert!([0, 63, 64, 255].iter().all(|&r| s.contains(r)));
        assert!(![1, 62, 65, 254, 256, 1000].iter().any(|&r| s.contains(r)));
        let other = {
            let mut o = RegSet::EMPTY;
            o.insert(63);
            o.insert(100);
            o
        };
        assert!(s.intersection(other).contains(63) && !s.intersection(other).contains(100));
        assert!(s.union(other).contains(100) && s.union(other).contains(255));
    }
}
