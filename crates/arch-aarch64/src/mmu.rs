//! The VMSAv8-64 stage-1 MMU of the EL1&0 translation regime (Arm ARM DDI 0487, chapter D8),
//! and the fast and slow paths of every load, store and instruction fetch.
//!
//! ```text
//!   access ──▶ Tlb[mmu index] hit? ──yes──▶ backing store (JIT code inlines this compare)
//!                 │ no (miss, misaligned, code page, MMIO, read-only)
//!                 ▼
//!   SCTLR.A check ─▶ walk(): TTBR0/1 by VA[55], TxSZ range, granule, levels ─▶ Walk
//!                 ─▶ Device alignment ─▶ permissions of the MMU index ─▶ fill TLB ─▶ RAM/bus
//! ```
//!
//! What is implemented: 4K/16K/64K granules (TG0 and TG1 encode them differently), the start
//! level from TxSZ (clamped to 16..=39, as the architecture allows for out-of-range values),
//! table, block and page descriptors at every legal level (the contiguous bit is a hint and
//! ignored), 40-bit physical addresses (PARange; IPS is capped by it) with address size faults,
//! AP[2:1] with the hierarchical APTable/UXNTable/PXNTable, UXN/PXN, WXN, EL0-writable implying
//! PXN, PSTATE.PAN, the access flag (AF = 0 faults: no hardware AF/dirty update), TBI0/TBI1, MAIR
//! memory types (Device memory faults misaligned accesses; SCTLR_EL1.A faults them everywhere),
//! and the MMU-off flat map, where data accesses are Device-nGnRnE and instruction fetches
//! Normal.
//!
//! The softmmu TLB has no ASID tags: it only ever holds translations of the current ASID and
//! global ones (each slot remembers whether its entry came from an nG descriptor).
//! [`Aarch64Cpu::mmu_changed`] drops everything when a translation control (SCTLR.{M,WXN},
//! TCR, MAIR) changes and the non-global entries when the ASID in use changes, so a context
//! switch keeps the kernel's translations; a TTBR write that keeps the ASID drops nothing, as
//! entries are tagged by ASID rather than by table (QEMU does the same). TLBI by VA drops the page (the
//! whole index when superpages or tagged addresses were filled); TLBI by ASID drops everything
//! when it names the current ASID and nothing otherwise.
//!
//! Decoded blocks stay valid across context switches: the block cache keys them by virtual pc,
//! backing-store offset and flags, the loop translates the pc (through the TLB) before every
//! lookup, and compiled code jumps straight only to blocks on its own virtual page, translating
//! any other target at run time. A block therefore runs only while its pc maps to the page it was
//! decoded from, with execute permission checked at its entry.
//!
//! MMU indices: [`MMU_EL0`], [`MMU_EL1`] and [`MMU_EL1_PAN`] (EL1 with PSTATE.PAN set: no data
//! access to EL0-accessible pages). Instruction fetch at EL1 always uses [`MMU_EL1`]; LDTR/STTR
//! at EL1 use [`MMU_EL0`] (EL0's permissions; PAN does not apply to them). EL2 and EL3 have
//! their own regimes and indices ([`MMU_EL2`], [`MMU_EL3`]); a walk's result is checked against
//! the board's secure-only ranges for the Security state of the access (see [`crate::el3`]).

use crate::cpu::{Aarch64Cpu, Fault};
use crate::mmu_regs::MmuRegs;
use crate::stage2::{Abort, S2Fault};
use mimic_core::{MemOp, Size};
use mimic_ir::Exit;
use mimic_memory::{read_le, write_le, AddressSpace, PAGE_SIZE};
use mimic_softmmu::{tlb_index, Prot, Tlb, TLB_ENTRIES, VICTIMS};

pub const MMU_EL0: usize = 0;
pub const MMU_EL1: usize = 1;
pub const MMU_EL1_PAN: usize = 2;
/// The EL2 regime (stage 1 through TTBR0_EL2): its entries never serve EL0/EL1, nor theirs EL2.
pub const MMU_EL2: usize = 3;
/// The EL3 regime (stage 1 through TTBR0_EL3, see [`crate::el3`]): its own entries only.
pub const MMU_EL3: usize = 4;
pub const NUM_MMU: usize = 5;

/// Physical address bits the CPU implements (ID_AA64MMFR0_EL1.PARange = 0b0010).
pub const PA_BITS: u32 = 40;

/// Bits 47:0: the output-address field of descriptors and TTBRs.
const OA_MASK: u64 = (1 << 48) - 1;

/// DFSC/IFSC values; the level-dependent ones take the level added.
pub mod fsc {
    pub const ADDRESS_SIZE: u8 = 0x00;
    pub const TRANSLATION: u8 = 0x04;
    pub const ACCESS_FLAG: u8 = 0x08;
    pub const PERMISSION: u8 = 0x0c;
    /// Synchronous external abort: no RAM, ROM or device at the physical address.
    pub const EXTERNAL: u8 = 0x10;
    /// Synchronous external abort on a translation table walk (a descriptor outside RAM/ROM).
    pub const EXTERNAL_WALK: u8 = 0x14;
    pub const ALIGNMENT: u8 = 0x21;
}

/// SCTLR_EL1 bits the MMU reads.
pub mod sctlr {
    pub const M: u64 = 1 << 0;
    pub const A: u64 = 1 << 1;
    pub const WXN: u64 = 1 << 19;
}

/// TCR_EL1 fields.
pub mod tcr {
    pub const EPD0: u64 = 1 << 7;
    pub const TG0_SHIFT: u32 = 14;
    pub const T1SZ_SHIFT: u32 = 16;
    pub const A1: u64 = 1 << 22;
    pub const EPD1: u64 = 1 << 23;
    pub const TG1_SHIFT: u32 = 30;
    pub const IPS_SHIFT: u32 = 32;
    pub const AS: u64 = 1 << 36;
    pub const TBI0: u64 = 1 << 37;
    pub const TBI1: u64 = 1 << 38;
    /// TBI0/TBI1 apply to data addresses only (instruction addresses and their PACs keep the
    /// top byte): FEAT_PAuth.
    pub const TBID0: u64 = 1 << 51;
    pub const TBID1: u64 = 1 << 52;
}

/// Descriptor bits.
pub mod desc {
    pub const VALID: u64 = 1 << 0;
    /// Table (levels 0..2) or page (level 3); clear: block.
    pub const TABLE: u64 = 1 << 1;
    /// GP: a guarded page for FEAT_BTI (stage 1 blocks and pages).
    pub const GP: u64 = 1 << 50;
    pub const ATTR_SHIFT: u32 = 2;
    /// AP[1]: EL0 may access.
    pub const AP_EL0: u64 = 1 << 6;
    /// AP[2]: read-only.
    pub const AP_RO: u64 = 1 << 7;
    pub const SH_SHIFT: u32 = 8;
    pub const AF: u64 = 1 << 10;
    pub const NG: u64 = 1 << 11;
    pub const PXN: u64 = 1 << 53;
    pub const UXN: u64 = 1 << 54;
    pub const PXN_TABLE: u64 = 1 << 59;
    pub const UXN_TABLE: u64 = 1 << 60;
    /// NS: the output address is in the Non-secure address space (Secure regimes only).
    pub const NS: u64 = 1 << 5;
    /// NSTable: every translation below is Non-secure (Secure regimes only).
    pub const NS_TABLE: u64 = 1 << 63;
    /// APTable[0]: no EL0 access below.
    pub const AP_TABLE_NO_EL0: u64 = 1 << 61;
    /// APTable[1]: no write access below.
    pub const AP_TABLE_RO: u64 = 1 << 62;
}

/// What an access does with memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Exec,
}

/// A successful stage-1 translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walk {
    pub pa: u64,
    /// Bytes the leaf maps (block or page size; the 4 KiB page with the MMU off).
    pub size: u64,
    /// Level of the leaf descriptor (0 with the MMU off).
    pub level: u8,
    /// The MAIR attribute byte of data accesses (0x00, Device-nGnRnE, with the MMU off).
    pub attr: u8,
    /// SH[1:0] of the descriptor.
    pub sh: u8,
    /// Permissions per MMU index.
    pub prot: [Prot; NUM_MMU],
    /// The leaf's GP bit: a guarded page (FEAT_BTI). Never with the MMU off.
    pub gp: bool,
    /// nG was clear: the translation holds for every ASID.
    pub global: bool,
    /// The leaf's NS bit or an NSTable above it was set (what it means depends on the regime's
    /// Security state, see [`crate::el3`]). Never with the MMU off.
    pub ns: bool,
    /// The stage-2 leaf, when stage 2 translated `pa` (which stage 1 gave as an IPA).
    pub s2: Option<crate::stage2::S2Leaf>,
}

impl Walk {
    /// Data accesses here are to Device memory.
    pub fn device(&self) -> bool {
        self.attr & 0xf0 == 0
    }

    /// Stage 1 allows the access (stage 2 is [`Walk::stage2_denies`]).
    pub fn allows(&self, idx: usize, access: Access) -> bool {
        let p = self.prot[idx];
        match access {
            Access::Read => p.read,
            Access::Write => p.write,
            Access::Exec => p.exec,
        }
    }
}

const FULL: Prot = Prot { read: true, write: true, exec: true };
const NONE: Prot = Prot { read: false, write: false, exec: false };

/// Bits `hi:lo` of `v` (inclusive), shifted down.
fn field(v: u64, hi: u32, lo: u32) -> u64 {
    if hi < lo {
        return 0;
    }
    let w = hi - lo + 1;
    let m = if w >= 64 { u64::MAX } else { (1 << w) - 1 };
    (v >> lo) & m
}

/// Physical address bits software asked for in TCR_EL1.IPS, capped at what the CPU has.
fn output_bits(tcr: u64) -> u32 {
    let ips = match tcr >> tcr::IPS_SHIFT & 7 {
        0 => 32,
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        _ => 48,
    };
    ips.min(PA_BITS)
}

/// Whether the top byte of `va` is ignored (TBI0/TBI1 of the half bit 55 selects).
fn tbi(tcr: u64, va: u64) -> bool {
    let bit = if va >> 55 & 1 != 0 { tcr::TBI1 } else { tcr::TBI0 };
    tcr & bit != 0
}

/// `va` with bits 63:56 copies of bit 55: what the TLB sees of a tagged address.
fn untagged(va: u64) -> u64 {
    (((va << 8) as i64) >> 8) as u64
}

/// Block descriptors are legal at `level` for this granule (no 52-bit addresses).
fn block_allowed(grain: u32, level: u32) -> bool {
    matches!((grain, level), (12, 1) | (12, 2) | (14, 2) | (16, 2))
}

/// Translate `va` through the EL1&0 stage-1 regime that `r` describes, reading descriptors
/// from RAM, ROM and ROM devices in `bus` ([`AddressSpace::peek`]: never MMIO, and without side effects). Returns the DFSC/IFSC of
/// the walk's fault: translation, address size, access flag, or external abort on the walk.
/// Permissions and alignment are the caller's to check against the result.
pub fn walk(r: &MmuRegs, bus: &AddressSpace, va: u64) -> Result<Walk, u8> {
    walk_regime(r, va, false, |a| bus.peek(a, Size::B8))
}

/// [`walk`] with the descriptors read by `read` (stage 2 translates their addresses); `None`
/// from it is an external abort on the walk.
pub fn walk_via(r: &MmuRegs, va: u64, read: impl FnMut(u64) -> Option<u64>) -> Result<Walk, u8> {
    walk_regime(r, va, false, read)
}

/// Translate `va` through the EL2 stage-1 regime (TTBR0_EL2 only, no ASIDs, no EL0 access):
/// the EL1 walk over a view of the EL2 controls in the EL1 layout, with EL2's permission
/// rules (AP[2] read-only, bit 54 XN, WXN). The permissions are those of [`MMU_EL2`].
pub fn walk_el2(r: &MmuRegs, bus: &AddressSpace, va: u64) -> Result<Walk, u8> {
    let t = r.tcr_el2;
    // T0SZ, IRGN0/ORGN0/SH0, TG0 stay; PS (18:16) moves to IPS; TBI (20) to TBI0; no TTBR1.
    let tcr = t & 0xff3f | (t >> 16 & 7) << tcr::IPS_SHIFT | ((t >> 20 & 1) * tcr::TBI0) | tcr::EPD1;
    let view = MmuRegs {
        sctlr_el1: r.sctlr_el2,
        tcr_el1: tcr,
        ttbr0_el1: r.ttbr0_el2,
        ttbr1_el1: 0,
        mair_el1: r.mair_el2,
        ..MmuRegs::default()
    };
    walk_regime(&view, va, true, |a| bus.peek(a, Size::B8))
}

/// Translate `va` through the EL3 stage-1 regime (TTBR0_EL3): EL2's walk over the EL3
/// controls, with the permissions moved to [`MMU_EL3`].
pub fn walk_el3(r: &MmuRegs, bus: &AddressSpace, va: u64) -> Result<Walk, u8> {
    let view = MmuRegs {
        sctlr_el2: r.sctlr_el3,
        tcr_el2: r.tcr_el3,
        ttbr0_el2: r.ttbr0_el3,
        mair_el2: r.mair_el3,
        ..MmuRegs::default()
    };
    let mut w = walk_el2(&view, bus, va)?;
    w.prot = [NONE, NONE, NONE, NONE, w.prot[MMU_EL2]];
    Ok(w)
}

fn walk_regime(r: &MmuRegs, va: u64, el2: bool, mut read: impl FnMut(u64) -> Option<u64>) -> Result<Walk, u8> {
    let t = r.tcr_el1;
    let top = if tbi(t, va) { 55 } else { 63 };
    if r.sctlr_el1 & sctlr::M == 0 {
        // Flat: the address must fit in the physical address space.
        if field(va, top, PA_BITS) != 0 {
            return Err(fsc::ADDRESS_SIZE);
        }
        let pa = va & ((1 << PA_BITS) - 1);
        return Ok(Walk {
            pa,
            size: PAGE_SIZE,
            level: 0,
            attr: 0,
            sh: 2,
            prot: [FULL; NUM_MMU],
            gp: false,
            global: true,
            ns: false,
            s2: None,
        });
    }
    let upper = va >> 55 & 1 != 0;
    let (txsz, grain, disabled, ttbr) = if upper {
        let grain = match t >> tcr::TG1_SHIFT & 3 {
            1 => 14,
            3 => 16,
            _ => 12,
        };
        (t >> tcr::T1SZ_SHIFT & 63, grain, t & tcr::EPD1 != 0, r.ttbr1_el1)
    } else {
        let grain = match t >> tcr::TG0_SHIFT & 3 {
            1 => 16,
            2 => 14,
            _ => 12,
        };
        (t & 63, grain, t & tcr::EPD0 != 0, r.ttbr0_el1)
    };
    let inputsize = 64 - txsz.clamp(16, 39) as u32;
    // Bits top:inputsize must all equal bit 55 (all ones above TTBR1's range, zeros for TTBR0).
    let span = field(va, top, inputsize);
    let want = if upper { field(u64::MAX, top, inputsize) } else { 0 };
    if span != want || disabled {
        return Err(fsc::TRANSLATION);
    }
    let stride = grain - 3;
    let mut level = 4 - (inputsize - grain).div_ceil(stride);
    let obits = output_bits(t);
    let too_big = |a: u64| (a & OA_MASK) >> obits != 0;
    if too_big(ttbr) {
        return Err(fsc::ADDRESS_SIZE);
    }
    // The start table is aligned to its own size; lower TTBR bits (and CnP) are ignored.
    let lsb0 = grain + (4 - 1 - level) * stride;
    let width0 = (inputsize - lsb0).min(stride);
    let mut table = ttbr & OA_MASK & !((1u64 << (width0 + 3)) - 1);
    let (mut ap_table, mut uxn_table, mut pxn_table, mut ns_table) = (0u64, false, false, false);
    loop {
        let lsb = grain + (3 - level) * stride;
        let width = (inputsize - lsb).min(stride);
        let addr = table + field(va, lsb + width - 1, lsb) * 8;
        let lvl = level as u8;
        // Through a ROM device too: firmware keeps its first tables in flash (EDK2 does).
        let Some(d) = read(addr) else {
            return Err(fsc::EXTERNAL_WALK + lvl);
        };
        if d & desc::VALID == 0 {
            return Err(fsc::TRANSLATION + lvl);
        }
        if d & desc::TABLE != 0 && level < 3 {
            let next = d & OA_MASK & !((1u64 << grain) - 1);
            if too_big(next) {
                return Err(fsc::ADDRESS_SIZE + lvl);
            }
            ap_table |= d >> 61 & 3;
            uxn_table |= d & desc::UXN_TABLE != 0;
            pxn_table |= d & desc::PXN_TABLE != 0;
            ns_table |= d & desc::NS_TABLE != 0;
            table = next;
            level += 1;
            continue;
        }
        // A leaf: a page at level 3 (bit 1 set there; clear is reserved) or a block above.
        if (level == 3 && d & desc::TABLE == 0) || (level < 3 && !block_allowed(grain, level)) {
            return Err(fsc::TRANSLATION + lvl);
        }
        let base = d & OA_MASK & !((1u64 << lsb) - 1);
        if too_big(base) {
            return Err(fsc::ADDRESS_SIZE + lvl);
        }
        if d & desc::AF == 0 {
            return Err(fsc::ACCESS_FLAG + lvl);
        }
        let user_r = d & desc::AP_EL0 != 0 && ap_table & 1 == 0;
        let ro = d & desc::AP_RO != 0 || ap_table & 2 != 0;
        let user_w = user_r && !ro;
        let priv_w = !ro;
        let wxn = r.sctlr_el1 & sctlr::WXN != 0;
        let uxn = d & desc::UXN != 0 || uxn_table;
        let pxn = d & desc::PXN != 0 || pxn_table;
        let user_x = !(uxn || wxn && user_w);
        // Memory EL0 may write is never executable at EL1.
        let priv_x = !(pxn || user_w || wxn && priv_w);
        let prot = if el2 {
            // AP[1], PXN and nG are RES0/ignored in the EL2 regime; bit 54 is XN.
            let x = !(uxn || wxn && priv_w);
            [NONE, NONE, NONE, Prot { read: true, write: priv_w, exec: x }, NONE]
        } else {
            [
                Prot { read: user_r, write: user_w, exec: user_x },
                Prot { read: true, write: priv_w, exec: priv_x },
                // PAN takes EL1's data accesses away from what EL0 may read; fetches keep theirs.
                Prot { read: !user_r, write: priv_w && !user_r, exec: priv_x },
                NONE,
                NONE,
            ]
        };
        let attr = (r.mair_el1 >> (8 * (d >> desc::ATTR_SHIFT & 7))) as u8;
        return Ok(Walk {
            pa: base | (va & ((1u64 << lsb) - 1)),
            size: 1u64 << lsb,
            level: lvl,
            attr,
            sh: (d >> desc::SH_SHIFT & 3) as u8,
            prot,
            gp: d & desc::GP != 0,
            global: el2 || d & desc::NG == 0,
            ns: ns_table || d & desc::NS != 0,
            s2: None,
        });
    }
}

/// The MMU's own bookkeeping beside the TLB.
#[derive(Clone)]
pub struct MmuState {
    /// Per MMU index and TLB slot: the entry filled there maps Device memory (for data accesses;
    /// read only while the entry hits, and rewritten by every fill).
    device: Box<[[bool; TLB_ENTRIES]; NUM_MMU]>,
    /// `device` of the entries the TLB keeps as victims ([`mimic_softmmu::Tlb::victim_swap`]),
    /// moved with them.
    victim_device: [[bool; VICTIMS]; NUM_MMU],
    /// Per MMU index and TLB slot: the entry filled there is non-global (nG set), so it belongs
    /// to the ASID current when it was filled (rewritten by every fill, like `device`).
    not_global: Box<[[bool; TLB_ENTRIES]; NUM_MMU]>,
    /// The translation controls the TLB's entries were made under.
    seen: MmuRegs,
    /// An entry was filled for an address whose top byte is a tag (TBI): flushing one page by
    /// its canonical address would miss it.
    tagged: bool,
    /// Per MMU index and TLB slot: the page of the last fetch fill there, with bit 0 its GP bit
    /// (FEAT_BTI); good only while that slot's code entry still hits for the page.
    guard: Box<[[u64; TLB_ENTRIES]; NUM_MMU]>,
    /// Debugger data watchpoints; their pages are never in the TLB for reads and writes.
    watchpoints: Vec<Watchpoint>,
    /// The watchpoint the last access stopped at: (its address, the access was a write).
    watch_hit: Option<(u64, bool)>,
}

/// A debugger data watchpoint: a byte range and which accesses stop at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watchpoint {
    pub addr: u64,
    pub len: u64,
    pub read: bool,
    pub write: bool,
}

impl Default for MmuState {
    fn default() -> Self {
        MmuState {
            device: Box::new([[false; TLB_ENTRIES]; NUM_MMU]),
            victim_device: [[false; VICTIMS]; NUM_MMU],
            seen: MmuRegs::default(),
            tagged: false,
            guard: Box::new([[u64::MAX; TLB_ENTRIES]; NUM_MMU]),
            not_global: Box::new([[false; TLB_ENTRIES]; NUM_MMU]),
            watchpoints: Vec::new(),
            watch_hit: None,
        }
    }
}

/// Where a translated data access goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// Offset in the RAM/ROM backing store.
    Ram(usize),
    /// A physical address outside RAM (device, ROM write, or nothing).
    Phys(u64),
}

fn size_of(n: u64) -> Option<Size> {
    Some(match n {
        1 => Size::B1,
        2 => Size::B2,
        4 => Size::B4,
        8 => Size::B8,
        _ => return None,
    })
}

impl Aarch64Cpu {
    /// Recompute the MMU indices after a write of the MMU registers, an EL change or a PAN
    /// change, and drop the TLB entries the change makes stale: every entry when a translation
    /// control changed (SCTLR.{M,WXN}, TCR, MAIR), the non-global ones when the ASID in use
    /// changed, none when only a table base did.
    pub fn mmu_changed(&mut self) {
        let r = self.mmu_regs;
        let seen = MmuRegs {
            // SCTLR_EL1.A decides which pages' TLB entries keep misaligned accesses out.
            sctlr_el1: r.sctlr_el1 & (sctlr::M | sctlr::WXN | sctlr::A),
            sctlr_el2: r.sctlr_el2 & (sctlr::M | sctlr::WXN),
            sctlr_el3: r.sctlr_el3 & (sctlr::M | sctlr::WXN),
            amair_el1: 0,
            amair_el2: 0,
            amair_el3: 0,
            par_el1: 0,
            ..r
        };
        let old = self.mmu.seen;
        if seen != old {
            let controls = |m: MmuRegs| MmuRegs { ttbr0_el1: 0, ttbr1_el1: 0, ..m };
            if controls(seen) != controls(old) {
                self.tlb_flush_all();
            } else if asid_in_use(&seen) != asid_in_use(&old) {
                // A context switch. Global entries (the kernel's) hold for every ASID.
                self.tlb_flush_not_global();
            }
            // A new table base under the same ASID drops nothing: TLB entries are tagged by
            // ASID, not by table, and software invalidates what it changes under one ASID
            // (Linux sets the reserved TTBR0 and the new one under the ASID of TTBR1).
            self.mmu.seen = seen;
        }
        self.fetch_mmu = fetch_mmu_of(self.el);
        self.data_mmu = match (self.el, self.pan) {
            (0, _) => MMU_EL0,
            (2, _) => MMU_EL2,
            (3.., _) => MMU_EL3,
            (_, true) => MMU_EL1_PAN,
            _ => MMU_EL1,
        };
    }

    /// Make every other CPU sharing [`Aarch64Cpu::tlbi_epoch`] drop its whole TLB before it
    /// next runs (CPUs take turns on one thread, so none runs before this one's slice ends).
    pub fn broadcast_tlbi(&mut self) {
        if let Some(e) = &self.tlbi_epoch {
            let before = e.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            // Another CPU's broadcast this one has not yet taken is not skipped.
            if before != self.tlbi_seen {
                self.tlb_flush_all();
            }
            self.tlbi_seen = before + 1;
        }
    }

    /// Drop the TLB if another CPU broadcast an invalidation since this one last looked.
    #[inline(always)]
    pub fn take_remote_tlbi(&mut self) {
        if let Some(e) = &self.tlbi_epoch {
            let now = e.load(std::sync::atomic::Ordering::SeqCst);
            if now != self.tlbi_seen {
                self.tlbi_seen = now;
                self.tlb_flush_all();
            }
        }
    }

    pub fn tlb_flush_all(&mut self) {
        self.tlb.flush_all();
        self.mmu.tagged = false;
    }

    /// Drop the entries filled from non-global translations.
    fn tlb_flush_not_global(&mut self) {
        for (idx, slots) in self.mmu.not_global.iter_mut().enumerate() {
            for (slot, ng) in slots.iter_mut().enumerate() {
                if std::mem::take(ng) {
                    self.tlb.flush_slot(idx, slot);
                }
            }
        }
    }

    /// The ASID translations are made under now.
    fn current_asid(&self) -> u64 {
        asid_in_use(&self.mmu_regs)
    }

    /// The physical address `va` maps to for a data access, as a debugger reading memory wants
    /// it: no permission check, no TLB fill, no fault recorded.
    pub fn translate_debug(&mut self, bus: &mut AddressSpace, va: u64) -> Option<u64> {
        self.walk_for(bus, va, self.data_mmu).ok().map(|w| w.pa)
    }

    /// The walk of the regime MMU index `idx` belongs to (both stages of EL1&0 when stage 2
    /// is on), refused when it reaches secure-only memory from Non-secure state.
    fn walk_for(&self, bus: &AddressSpace, va: u64, idx: usize) -> Result<Walk, Abort> {
        let w = if idx == MMU_EL2 {
            walk_el2(&self.mmu_regs, bus, va).map_err(Abort::Stage1)
        } else if idx == MMU_EL3 {
            walk_el3(&self.mmu_regs, bus, va).map_err(Abort::Stage1)
        } else if self.stage2_enabled() {
            self.walk_stage12(bus, va, true)
        } else {
            walk(&self.mmu_regs, bus, va).map_err(Abort::Stage1)
        }?;
        if self.secure_only_denied(idx, w.pa, w.ns) {
            mimic_core::guest_error!("a64: Non-secure access to secure-only memory at {:#x}", w.pa);
            return Err(Abort::Stage1(fsc::EXTERNAL));
        }
        Ok(w)
    }

    /// Raise the abort a failed walk or permission check gives: a stage-2 fault goes to EL2.
    fn abort<T>(&mut self, va: u64, write: bool, fetch: bool, a: Abort) -> Result<T, Exit> {
        let fsc = match a {
            Abort::Stage1(f) => f,
            Abort::Stage2(s2) => {
                self.note_stage2_fault(s2);
                s2.fsc
            }
        };
        // A stage-1 descriptor read faulting at stage 2 is a read, whatever the access.
        let write = write && !matches!(a, Abort::Stage2(S2Fault { s1ptw: true, .. }));
        if fetch {
            self.exception(Fault::InsnAbort { va, fsc })
        } else {
            self.data_abort(va, write, fsc)
        }
    }

    // ---- faults ------------------------------------------------------------------------------

    fn data_abort<T>(&mut self, va: u64, write: bool, fsc: u8) -> Result<T, Exit> {
        self.exception(Fault::DataAbort { va, write, fsc })
    }

    // ---- TLB fill ----------------------------------------------------------------------------

    /// Where `w`'s physical address lives; fills the TLB for the page of `va` under `idx` when
    /// the page is all RAM/ROM. A `fetch` also reaches a ROM device's array (flash), whose page
    /// is then mapped for fetches only: its data accesses always go through the device.
    fn target_and_fill(
        &mut self,
        bus: &AddressSpace,
        va: u64,
        w: &Walk,
        idx: usize,
        write: bool,
        fetch: bool,
    ) -> Target {
        let found = if fetch { bus.lookup_backing(w.pa) } else { bus.lookup_ram(w.pa) };
        let Some(ram) = found else {
            return Target::Phys(w.pa);
        };
        if write && !ram.writable {
            return Target::Phys(w.pa);
        }
        let in_page = w.pa & (PAGE_SIZE - 1);
        // Regions are page aligned: the page starts inside this one if it reaches its end.
        if ram.remaining + in_page >= PAGE_SIZE {
            let page_off = ram.offset - in_page as usize;
            let p = w.tlb_prot(idx);
            // A watched page stays out of the TLB for data, so every access to it is checked.
            let data = !self.page_watched(va);
            let prot =
                Prot { read: p.read && ram.direct && data, write: p.write && ram.writable && data, exec: p.exec };
            if prot.read || prot.write || prot.exec {
                let slot = tlb_index(va);
                let evicted = self.tlb.fill(idx, va, page_off, prot, bus.is_code_page(page_off), w.global);
                // Where misaligned accesses fault, they all take the slow path, which checks.
                if w.device() || self.mmu_regs.sctlr_el1 & sctlr::A != 0 {
                    self.tlb.mark_aligned_only(idx, va);
                }
                if let Some(k) = evicted {
                    self.mmu.victim_device[idx][k] = self.mmu.device[idx][slot];
                }
                self.mmu.device[idx][slot] = w.device();
                // Sticky until the slot is flushed: the fetch table's entry in this slot may
                // come from an earlier, non-global fill.
                self.mmu.not_global[idx][tlb_index(va)] |= !w.global;
                if w.size > PAGE_SIZE {
                    self.tlb.note_large_page(idx, va, w.size);
                }
                if untagged(va) != va {
                    self.mmu.tagged = true;
                }
            }
        }
        Target::Ram(ram.offset)
    }

    /// Translate the data address `va` for a read or write under MMU index `idx`. `misaligned`
    /// is the start of the whole access when it is not naturally aligned (Device memory faults
    /// it, with that address).
    fn data_target(
        &mut self,
        bus: &AddressSpace,
        va: u64,
        write: bool,
        idx: usize,
        misaligned: Option<u64>,
    ) -> Result<Target, Exit> {
        let lookup = |tlb: &Tlb<NUM_MMU>| tlb.lookup_page(idx, va, write);
        let mut hit = lookup(&self.tlb);
        if hit.is_none() {
            // A page a fill evicted from its slot comes back without a walk (two hot pages
            // 4 MiB apart share a slot); its Device mark comes with it.
            if let Some(k) = self.tlb.victim_swap(idx, va) {
                std::mem::swap(&mut self.mmu.device[idx][tlb_index(va)], &mut self.mmu.victim_device[idx][k]);
                hit = lookup(&self.tlb);
            }
        }
        if let Some(off) = hit {
            if let Some(start) = misaligned.filter(|_| self.mmu.device[idx][tlb_index(va)]) {
                return self.data_abort(start, write, fsc::ALIGNMENT);
            }
            return Ok(Target::Ram(off));
        }
        let w = match self.walk_for(bus, va, idx) {
            Ok(w) => w,
            Err(a) => return self.abort(va, write, false, a),
        };
        if let Some(start) = misaligned.filter(|_| w.device()) {
            return self.data_abort(start, write, fsc::ALIGNMENT);
        }
        let access = if write { Access::Write } else { Access::Read };
        if !w.allows(idx, access) {
            return self.data_abort(va, write, fsc::PERMISSION + w.level);
        }
        if let Some(s2) = w.stage2_denies(access) {
            return self.abort(va, write, false, Abort::Stage2(s2));
        }
        Ok(self.target_and_fill(bus, va, &w, idx, write, false))
    }

    fn read_target(&mut self, bus: &mut AddressSpace, va: u64, t: Target, n: u64) -> Result<u64, Exit> {
        match t {
            Target::Ram(off) => {
                let b = &bus.store()[off..off + n as usize];
                Ok(b.iter().rev().fold(0u64, |acc, &x| acc << 8 | u64::from(x)))
            }
            Target::Phys(pa) => match size_of(n).filter(|_| pa & (n - 1) == 0) {
                Some(sz) => bus.read(pa, sz).or_else(|_| self.data_abort(va, false, fsc::EXTERNAL)),
                None => {
                    let mut v = 0;
                    for i in 0..n {
                        let b = bus
                            .read(pa.wrapping_add(i), Size::B1)
                            .or_else(|_| self.data_abort(va, false, fsc::EXTERNAL))?;
                        v |= b << (8 * i);
                    }
                    Ok(v)
                }
            },
        }
    }

    fn write_target(&mut self, bus: &mut AddressSpace, va: u64, t: Target, n: u64, val: u64) -> Result<(), Exit> {
        match t {
            Target::Ram(off) => {
                self.notice_code_write(bus, off);
                let b = &mut bus.store_mut()[off..off + n as usize];
                match n {
                    1 | 2 | 4 | 8 => write_le(b, val),
                    _ => b.iter_mut().enumerate().for_each(|(i, x)| *x = (val >> (8 * i)) as u8),
                }
                Ok(())
            }
            Target::Phys(pa) => match size_of(n).filter(|_| pa & (n - 1) == 0) {
                Some(sz) => bus.write(pa, sz, val).or_else(|_| self.data_abort(va, true, fsc::EXTERNAL)),
                None => {
                    for i in 0..n {
                        bus.write(pa.wrapping_add(i), Size::B1, val >> (8 * i))
                            .or_else(|_| self.data_abort(va, true, fsc::EXTERNAL))?;
                    }
                    Ok(())
                }
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
            // Other CPUs may hold blocks from this page too; the board drops them.
            bus.note_code_write(off / PAGE_SIZE as usize);
        }
    }

    /// The pieces of an access of `n` bytes at `va`: translated before anything is accessed,
    /// so a fault in the second page leaves memory and registers unchanged.
    fn data_targets(
        &mut self,
        bus: &AddressSpace,
        va: u64,
        n: u64,
        write: bool,
        idx: usize,
    ) -> Result<[(u64, Target, u64); 2], Exit> {
        if self.check_watch(va, n, write) {
            return Err(Exit);
        }
        let aligned = va & (n - 1) == 0;
        if !aligned && self.mmu_regs.sctlr_el1 & sctlr::A != 0 {
            return self.data_abort(va, write, fsc::ALIGNMENT);
        }
        let misaligned = (!aligned).then_some(va);
        let first = (PAGE_SIZE - (va & (PAGE_SIZE - 1))).min(n);
        let t0 = self.data_target(bus, va, write, idx, misaligned)?;
        if first == n {
            return Ok([(va, t0, n), (va, t0, 0)]);
        }
        let va1 = va.wrapping_add(first);
        let t1 = self.data_target(bus, va1, write, idx, misaligned)?;
        Ok([(va, t0, first), (va1, t1, n - first)])
    }

    // ---- data accesses -----------------------------------------------------------------------

    #[inline(always)]
    pub fn load_data(&mut self, bus: &mut AddressSpace, vaddr: u64, op: MemOp) -> Result<u64, Exit> {
        self.load_idx(bus, vaddr, op, self.data_mmu)
    }

    #[inline(always)]
    pub fn store_data(&mut self, bus: &mut AddressSpace, vaddr: u64, val: u64, op: MemOp) -> Result<(), Exit> {
        self.store_idx(bus, vaddr, val, op, self.data_mmu)
    }

    /// A load under MMU index `idx` (LDTR at EL1 passes [`MMU_EL0`]).
    #[inline(always)]
    pub fn load_idx(&mut self, bus: &mut AddressSpace, vaddr: u64, op: MemOp, idx: usize) -> Result<u64, Exit> {
        let size = op.size.bytes();
        if let Some(off) = self.tlb.lookup_read(idx, vaddr, size) {
            if let Some(b) = bus.store().get(off..off + size as usize) {
                return Ok(op.extend(read_le(b)));
            }
        }
        self.load_slow(bus, vaddr, op, idx)
    }

    #[inline(always)]
    pub fn store_idx(
        &mut self,
        bus: &mut AddressSpace,
        vaddr: u64,
        val: u64,
        op: MemOp,
        idx: usize,
    ) -> Result<(), Exit> {
        let size = op.size.bytes();
        if let Some(off) = self.tlb.lookup_write(idx, vaddr, size) {
            if let Some(b) = bus.store_mut().get_mut(off..off + size as usize) {
                write_le(b, val);
                return Ok(());
            }
        }
        self.store_slow(bus, vaddr, val, op, idx)
    }

    #[inline(never)]
    fn load_slow(&mut self, bus: &mut AddressSpace, va: u64, op: MemOp, idx: usize) -> Result<u64, Exit> {
        let n = op.size.bytes();
        let [(va0, t0, n0), (va1, t1, n1)] = self.data_targets(bus, va, n, false, idx)?;
        let mut raw = self.read_target(bus, va0, t0, n0)?;
        if n1 != 0 {
            raw |= self.read_target(bus, va1, t1, n1)? << (8 * n0);
        }
        Ok(op.extend(raw))
    }

    #[inline(never)]
    fn store_slow(&mut self, bus: &mut AddressSpace, va: u64, val: u64, op: MemOp, idx: usize) -> Result<(), Exit> {
        let n = op.size.bytes();
        let [(va0, t0, n0), (va1, t1, n1)] = self.data_targets(bus, va, n, true, idx)?;
        self.write_target(bus, va0, t0, n0, val)?;
        if n1 != 0 {
            self.write_target(bus, va1, t1, n1, val >> (8 * n0))?;
        }
        Ok(())
    }

    /// One single-copy-atomic read-modify-write of `n` (a power of two up to 16) bytes at `va`
    /// (the FEAT_LSE atomics): `f` sees the old value and gives what to write, if anything.
    /// Returns the old value. Nothing is accessed until both permissions are known, so a fault
    /// leaves memory unchanged: the address must be naturally aligned whatever the memory type,
    /// and the location must allow both the read and the write even when `f` writes nothing
    /// (a CAS that fails still needs write permission). As the Arm ARM has it for atomics,
    /// ESR.WnR is 0 when a read of the location would have faulted (alignment, translation,
    /// no read permission) and 1 when only the write does.
    pub(crate) fn atomic_rmw(
        &mut self,
        bus: &mut AddressSpace,
        va: u64,
        n: u64,
        f: impl FnOnce(u128) -> Option<u128>,
    ) -> Result<u128, Exit> {
        debug_assert!(n.is_power_of_two() && n <= 16);
        if va & (n - 1) != 0 {
            return self.exception(Fault::Alignment { va, write: false });
        }
        if self.check_watch(va, n, true) || self.check_watch(va, n, false) {
            return Err(Exit);
        }
        let idx = self.data_mmu;
        let tr = self.data_target(bus, va, false, idx, None)?;
        let tw = self.data_target(bus, va, true, idx, None)?;
        // The halves of a 16-byte access: aligned, so in one page and contiguous in the target.
        let half = |t: Target, k: u64| match t {
            Target::Ram(off) => Target::Ram(off + k as usize),
            Target::Phys(pa) => Target::Phys(pa.wrapping_add(k)),
        };
        let chunk = n.min(8);
        let mut old = 0u128;
        for k in (0..n).step_by(chunk as usize) {
            old |= u128::from(self.read_target(bus, va + k, half(tr, k), chunk)?) << (8 * k);
        }
        if let Some(new) = f(old) {
            for k in (0..n).step_by(chunk as usize) {
                self.write_target(bus, va + k, half(tw, k), chunk, (new >> (8 * k)) as u64)?;
            }
        }
        Ok(old)
    }

    // ---- debugger watchpoints ----------------------------------------------------------------

    pub fn set_watchpoints(&mut self, w: Vec<Watchpoint>) {
        self.mmu.watchpoints = w;
        self.mmu.watch_hit = None;
        // Pages mapped before must take the slow path now.
        self.tlb_flush_all();
    }

    /// The watchpoint hit that stopped the last instruction: (watched address, was a write).
    pub fn take_watch_hit(&mut self) -> Option<(u64, bool)> {
        self.mmu.watch_hit.take()
    }

    pub fn watch_hit_pending(&self) -> bool {
        self.mmu.watch_hit.is_some()
    }

    fn page_watched(&self, va: u64) -> bool {
        let page = va & !(PAGE_SIZE - 1);
        self.mmu.watchpoints.iter().any(|w| w.addr < page + PAGE_SIZE && page < w.addr.saturating_add(w.len))
    }

    /// Whether an access of `len` bytes at `va` touches a watchpoint of its kind; if so it is
    /// recorded and the instruction must stop before anything is accessed (GDB then steps over
    /// it with the watchpoint removed and compares the values).
    #[inline]
    fn check_watch(&mut self, va: u64, len: u64, write: bool) -> bool {
        if self.mmu.watchpoints.is_empty() {
            return false;
        }
        let end = va.saturating_add(len);
        let hit = self
            .mmu
            .watchpoints
            .iter()
            .find(|w| w.addr < end && va < w.addr.saturating_add(w.len) && if write { w.write } else { w.read });
        if let Some(w) = hit {
            self.mmu.watch_hit = Some((w.addr, write));
            return true;
        }
        false
    }

    // ---- instruction fetch -------------------------------------------------------------------

    /// Backing-store offset of the instruction at `vaddr`.
    #[inline]
    pub fn fetch_offset(&mut self, bus: &mut AddressSpace, vaddr: u64) -> Result<usize, Exit> {
        if vaddr & 3 != 0 {
            return self.exception(Fault::PcAlignment { va: vaddr });
        }
        if self.isv_fixup.is_some() {
            self.apply_isv_fixup(bus);
        }
        let idx = self.fetch_mmu;
        if let Some(off) = self.tlb.lookup_code(idx, vaddr) {
            return Ok(off);
        }
        self.fetch_slow(bus, vaddr, idx)
    }

    #[inline(never)]
    fn fetch_slow(&mut self, bus: &mut AddressSpace, va: u64, idx: usize) -> Result<usize, Exit> {
        let w = match self.walk_for(bus, va, idx) {
            Ok(w) => w,
            Err(a) => return self.abort(va, false, true, a),
        };
        if !w.allows(idx, Access::Exec) {
            return self.exception(Fault::InsnAbort { va, fsc: fsc::PERMISSION + w.level });
        }
        if let Some(s2) = w.stage2_denies(Access::Exec) {
            return self.abort(va, false, true, Abort::Stage2(s2));
        }
        match self.target_and_fill(bus, va, &w, idx, false, true) {
            Target::Ram(off) => {
                self.mmu.guard[idx][mimic_softmmu::tlb_index(va)] = (va & mimic_softmmu::PAGE_MASK) | u64::from(w.gp);
                Ok(off)
            }
            // Instructions run only from RAM, ROM or a ROM device's array.
            Target::Phys(_) => self.exception(Fault::InsnAbort { va, fsc: fsc::EXTERNAL }),
        }
    }

    /// Whether the instruction at `va` is in a guarded page (the GP bit of its stage-1
    /// descriptor), as the current EL fetches it.
    pub fn fetch_guarded(&mut self, bus: &AddressSpace, va: u64) -> bool {
        let idx = self.fetch_mmu;
        let g = self.mmu.guard[idx][mimic_softmmu::tlb_index(va)];
        if g != u64::MAX
            && g & mimic_softmmu::PAGE_MASK == va & mimic_softmmu::PAGE_MASK
            && self.tlb.lookup_code(idx, va).is_some()
        {
            return g & 1 != 0;
        }
        self.walk_for(bus, va, idx).is_ok_and(|w| w.gp)
    }

    /// A block was decoded from this page: stores to it must take the slow path from now on.
    pub fn watch_code(&mut self, bus: &mut AddressSpace, page_offset: usize) {
        if !bus.is_code_page(page_offset) {
            bus.set_code_page(page_offset);
            self.tlb.set_code_flag(page_offset);
        }
    }
}

/// The MMU index of instruction fetches at `el`.
pub(crate) fn fetch_mmu_of(el: u8) -> usize {
    match el {
        0 => MMU_EL0,
        1 => MMU_EL1,
        2 => MMU_EL2,
        _ => MMU_EL3,
    }
}

/// The ASID translations are made under with these controls (TCR.A1 picks the TTBR, TCR.AS
/// its width).
fn asid_in_use(r: &MmuRegs) -> u64 {
    let ttbr = if r.tcr_el1 & tcr::A1 != 0 { r.ttbr1_el1 } else { r.ttbr0_el1 };
    asid_bits(r.tcr_el1, ttbr)
}

/// The ASID field of `ttbr` (8 or 16 bits as TCR.AS says).
fn asid_bits(tcr: u64, ttbr: u64) -> u64 {
    if tcr & tcr::AS != 0 {
        ttbr >> 48
    } else {
        ttbr >> 48 & 0xff
    }
}

// ---- maintenance -----------------------------------------------------------------------------

/// TLBI of the EL1&0 regime (SYS with op0 = 1, CRn = 8): `op1`, `crm`, `op2` select the
/// operation, `xt` is its operand (VA[55:12] in bits 43:0, ASID in bits 63:48).
///
/// VAE1, VALE1, VAAE1, VAALE1 (and their IS/OS forms) drop the page; ASIDE1* drops everything
/// when it names the current ASID (the TLB holds no other ASID's entries); VMALLE1*, the range
/// forms and anything else drop everything.
pub fn tlbi(cpu: &mut Aarch64Cpu, op1: u32, crm: u32, op2: u32, xt: u64) {
    match (op1, crm, op2) {
        (0, 1 | 3 | 7, 1 | 3 | 5 | 7) => {
            if cpu.mmu.tagged {
                cpu.tlb_flush_all();
            } else {
                // Global entries match whatever the ASID: drop the page in any case.
                cpu.tlb.flush_page(untagged(field(xt, 43, 0) << 12));
            }
        }
        // VAE2(IS), VALE2(IS), VAE3(IS), VALE3(IS).
        (4 | 6, 3 | 7, 1 | 5) => cpu.tlb.flush_page(untagged(field(xt, 43, 0) << 12)),
        (0, 1 | 3 | 7, 2) => {
            if asid_bits(cpu.mmu_regs.tcr_el1, xt) == cpu.current_asid() {
                cpu.tlb_flush_all();
            }
        }
        _ => cpu.tlb_flush_all(),
    }
    // The Inner Shareable forms (CRm 3; IPAS2E1IS and IPAS2LE1IS at CRm 0) reach every CPU.
    if crm == 3 || (op1 == 4 && crm == 0) {
        cpu.broadcast_tlbi();
    }
}

/// PAR_EL1 bit 11 reads as one in both formats.
const PAR_RES1: u64 = 1 << 11;

/// AT of the EL1&0 regime (SYS with op0 = 1, CRn = 7): S1E1R/W (CRm 8, op2 0/1), S1E0R/W
/// (CRm 8, op2 2/3) and S1E1RP/WP (CRm 9, op2 0/1, which honour PSTATE.PAN). Writes PAR_EL1:
/// PA[47:12], the MAIR attribute byte in 63:56, SH in 8:7 (0b10 for Device and Normal
/// Non-cacheable memory), NS (bit 9, as QEMU sets it) on success; F = 1 with the fault status in
/// 6:1 on a fault. An external abort on the walk is not reported in PAR but taken as a data abort
/// (`Err`). Other encodings (EL2/EL3 forms) do nothing: rejecting them is the caller's business.
pub fn at(cpu: &mut Aarch64Cpu, bus: &mut AddressSpace, op1: u32, crm: u32, op2: u32, va: u64) -> Result<(), Exit> {
    let pan = if cpu.pan { MMU_EL1_PAN } else { MMU_EL1 };
    // S12E1*/S12E0* (op1 4, op2 4..7) translate both stages; the stage-1 forms of EL1&0 give
    // the IPA, their descriptor reads still translated by stage 2.
    let both = op1 == 4 && op2 >= 4;
    let (idx, access) = match (op1, crm, op2) {
        (0, 8, 0) | (4, 8, 4) => (MMU_EL1, Access::Read),
        (0, 8, 1) | (4, 8, 5) => (MMU_EL1, Access::Write),
        (0, 8, 2) | (4, 8, 6) => (MMU_EL0, Access::Read),
        (0, 8, 3) | (4, 8, 7) => (MMU_EL0, Access::Write),
        (4, 8, 0) => (MMU_EL2, Access::Read),
        (4, 8, 1) => (MMU_EL2, Access::Write),
        (6, 8, 0) => (MMU_EL3, Access::Read),
        (6, 8, 1) => (MMU_EL3, Access::Write),
        (0, 9, 0) => (pan, Access::Read),
        (0, 9, 1) => (pan, Access::Write),
        _ => return Ok(()),
    };
    let fault = |f: u8| PAR_RES1 | u64::from(f & 0x3f) << 1 | 1;
    // PAR_EL1.S (bit 9): the fault was at stage 2; PTW (bit 8): on a stage-1 descriptor read.
    let s2_fault = |f: S2Fault| fault(f.fsc) | 1 << 9 | u64::from(f.s1ptw) << 8;
    let walked = if idx != MMU_EL2 && idx != MMU_EL3 && cpu.stage2_enabled() {
        cpu.walk_stage12(bus, va, both)
    } else {
        cpu.walk_for(bus, va, idx)
    };
    cpu.mmu_regs.par_el1 = match walked {
        Err(Abort::Stage1(f)) if (fsc::EXTERNAL_WALK..fsc::EXTERNAL_WALK + 4).contains(&f) => {
            // The write bit reads as one for faults of address translation instructions.
            return cpu.exception(Fault::DataAbort { va, write: true, fsc: f });
        }
        Err(Abort::Stage1(f)) => fault(f),
        // A stage-1 form run at EL1 cannot report stage 2 in PAR: EL2 takes the fault.
        Err(Abort::Stage2(f)) if !both && cpu.el < 2 => {
            cpu.note_stage2_fault(f);
            return cpu.exception(Fault::DataAbort { va, write: true, fsc: f.fsc });
        }
        Err(Abort::Stage2(f)) => s2_fault(f),
        Ok(w) if !w.allows(idx, access) => fault(fsc::PERMISSION + w.level),
        Ok(w) => match w.stage2_denies(access) {
            Some(f) => s2_fault(f),
            None => {
                let sh = if w.device() || w.attr == 0x44 { 2 } else { u64::from(w.sh) };
                u64::from(w.attr) << 56 | (w.pa & OA_MASK & !0xfff) | PAR_RES1 | 1 << 9 | sh << 7
            }
        },
    };
    Ok(())
}
