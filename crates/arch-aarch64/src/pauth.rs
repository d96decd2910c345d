//! Pointer authentication (FEAT_PAuth): the QARMA5 block cipher the architecture specifies for
//! `ComputePAC`, and where a pointer authentication code (PAC) goes in a pointer.
//!
//! ```text
//!   AddPAC:  ptr ──(PAC field := the extension bits)──▶ ComputePAC(ext_ptr, modifier, key)
//!            ──▶ PAC bits 54:bottom (and 63:56 without TBI) replace the pointer's extension
//!   Auth:    recompute the PAC of the stripped pointer; equal: the stripped pointer;
//!            different: the stripped pointer with error code key:NOT(key) at bits 54:53
//!            (TBI) or 62:61, so that using it faults (no FEAT_FPAC: nothing is raised here)
//!   Strip:   the PAC field := copies of bit 55
//!   bottom = 64 - TnSZ (T0SZ or T1SZ as the selecting bit says, clamped to 16..=39)
//! ```
//!
//! Written from the Arm ARM (DDI 0487) pseudocode `ComputePAC`, `AddPAC`, `Auth`, `Strip`,
//! `CalculateBottomPACBit` for the EL1&0 translation regime of Armv8.3 without FEAT_EPAC,
//! FEAT_PAuth2 or FEAT_FPAC: ID_AA64ISAR1_EL1 reports APA = 1 and GPA = 1 (QARMA5).

use crate::cpu::{Aarch64Cpu, Fault};
use crate::mmu::tcr;
use mimic_exec::Env;
use mimic_ir::Exit;

/// The five 128-bit keys, each as (Hi, Lo): APIAKey, APIBKey, APDAKey, APDBKey, APGAKey.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacKeys {
    pub keys: [[u64; 2]; 5],
}

/// Which key an instruction uses (index into [`PacKeys::keys`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Key {
    IA = 0,
    IB = 1,
    DA = 2,
    DB = 3,
    GA = 4,
}

impl Key {
    pub fn from_index(i: u64) -> Key {
        match i & 7 {
            0 => Key::IA,
            1 => Key::IB,
            2 => Key::DA,
            3 => Key::DB,
            _ => Key::GA,
        }
    }
    /// Instruction keys (IA, IB) treat the pointer as a code address (TBID applies).
    fn is_data(self) -> bool {
        matches!(self, Key::DA | Key::DB)
    }
    /// The `keynumber` of the error code: 0 for the A keys, 1 for the B keys.
    fn number(self) -> u64 {
        matches!(self, Key::IB | Key::DB) as u64
    }
    /// The SCTLR_EL1 enable bit of the key (EnIA 31, EnIB 30, EnDA 27, EnDB 13).
    pub fn sctlr_enable(self) -> u64 {
        match self {
            Key::IA => 1 << 31,
            Key::IB => 1 << 30,
            Key::DA => 1 << 27,
            Key::DB => 1 << 13,
            Key::GA => 0,
        }
    }
}

/// SCTLR_EL1.EnIA, EnIB, EnDA, EnDB.
pub const SCTLR_EN_ALL: u64 = 1 << 31 | 1 << 30 | 1 << 27 | 1 << 13;

// ---- QARMA5 ---------------------------------------------------------------------------------

const RC: [u64; 5] =
    [0x0000000000000000, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89, 0x452821E638D01377];
const ALPHA: u64 = 0xC0AC29B7C97C50DD;
/// The S-box (QARMA's sigma_2) and its inverse.
const SUB: [u8; 16] = [0xb, 0x6, 0x8, 0xf, 0xc, 0x0, 0x9, 0xe, 0x3, 0x7, 0x4, 0x5, 0xd, 0x2, 0x1, 0xa];
const INV_SUB: [u8; 16] = invert(SUB);
/// The S-boxes applied to both cells of a byte at once.
const SUB8: [u8; 256] = bytewise(SUB);
const INV_SUB8: [u8; 256] = bytewise(INV_SUB);

const fn bytewise(s: [u8; 16]) -> [u8; 256] {
    let mut out = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = s[i & 15] | s[i >> 4] << 4;
        i += 1;
    }
    out
}
/// PACCellShuffle: output cell `i` (bits 4i+3:4i) is input cell `CELL_SHUFFLE[i]`.
const CELL_SHUFFLE: [u8; 16] = [13, 6, 11, 0, 7, 12, 1, 10, 8, 3, 14, 5, 2, 9, 4, 15];
const CELL_INV_SHUFFLE: [u8; 16] = invert(CELL_SHUFFLE);
/// TweakShuffle: output cell `i` is input cell `TWEAK_SHUFFLE[i]`, rotated by TweakCellRot
/// where `TWEAK_ROT` has bit `i` set.
const TWEAK_SHUFFLE: [u8; 16] = [4, 5, 6, 7, 11, 2, 3, 8, 12, 13, 14, 15, 0, 1, 10, 9];
const TWEAK_ROT: u16 = 1 << 2 | 1 << 4 | 1 << 7 | 1 << 11 | 1 << 12 | 1 << 14 | 1 << 15;

const fn invert(p: [u8; 16]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        out[p[i] as usize] = i as u8;
        i += 1;
    }
    out
}

fn cell(v: u64, i: usize) -> u64 {
    v >> (4 * i) & 0xf
}

fn permute(v: u64, p: &[u8; 16]) -> u64 {
    (0..16).fold(0, |out, i| out | cell(v, p[i] as usize) << (4 * i))
}

fn substitute(v: u64, s: &[u8; 256]) -> u64 {
    let b = v.to_le_bytes().map(|x| s[usize::from(x)]);
    u64::from_le_bytes(b)
}

fn rot_cell(c: u64, n: u32) -> u64 {
    (c << n | c >> (4 - n)) & 0xf
}

/// PACMult: each column (cells i, i+4, i+8, i+12) times the involutory matrix
/// circ(0, rho, rho^2, rho).
fn mult(v: u64) -> u64 {
    let mut out = 0;
    for i in 0..4 {
        let (c0, c4, c8, c12) = (cell(v, i), cell(v, i + 4), cell(v, i + 8), cell(v, i + 12));
        let t0 = rot_cell(c8, 1) ^ rot_cell(c4, 2) ^ rot_cell(c0, 1);
        let t1 = rot_cell(c12, 1) ^ rot_cell(c4, 1) ^ rot_cell(c0, 2);
        let t2 = rot_cell(c12, 2) ^ rot_cell(c8, 1) ^ rot_cell(c0, 1);
        let t3 = rot_cell(c12, 1) ^ rot_cell(c8, 2) ^ rot_cell(c4, 1);
        out |= t3 << (4 * i) | t2 << (4 * (i + 4)) | t1 << (4 * (i + 8)) | t0 << (4 * (i + 12));
    }
    out
}

/// TweakCellRot: an LFSR step on one cell.
fn tweak_cell_rot(c: u64) -> u64 {
    (c >> 1) | ((c ^ (c >> 1)) & 1) << 3
}

fn tweak_cell_inv_rot(c: u64) -> u64 {
    (c << 1 & 0xf) | ((c ^ (c >> 3)) & 1)
}

fn tweak_shuffle(v: u64) -> u64 {
    (0..16).fold(0, |out, i| {
        let c = cell(v, TWEAK_SHUFFLE[i] as usize);
        let c = if TWEAK_ROT >> i & 1 != 0 { tweak_cell_rot(c) } else { c };
        out | c << (4 * i)
    })
}

fn tweak_inv_shuffle(v: u64) -> u64 {
    (0..16).fold(0, |out, i| {
        let c = cell(v, i);
        let c = if TWEAK_ROT >> i & 1 != 0 { tweak_cell_inv_rot(c) } else { c };
        out | c << (4 * TWEAK_SHUFFLE[i] as usize)
    })
}

/// The Arm ARM's ComputePAC with QARMA5: `data` encrypted under the 128-bit key
/// `key0`:`key1` (APxKeyHi, APxKeyLo) with `modifier` as the tweak.
pub fn compute_pac(data: u64, modifier: u64, key0: u64, key1: u64) -> u64 {
    let modk0 = (key0 & 1) << 63 | (key0 >> 2) << 1 | ((key0 >> 63) ^ (key0 >> 1)) & 1;
    let mut runningmod = modifier;
    let mut w = data ^ key0;
    for (i, rc) in RC.iter().enumerate() {
        w ^= key1 ^ runningmod ^ rc;
        if i > 0 {
            w = mult(permute(w, &CELL_SHUFFLE));
        }
        w = substitute(w, &SUB8);
        runningmod = tweak_shuffle(runningmod);
    }
    w ^= modk0 ^ runningmod;
    w = substitute(mult(permute(w, &CELL_SHUFFLE)), &SUB8);
    w = mult(permute(w, &CELL_SHUFFLE));
    w ^= key1;
    w = substitute(permute(w, &CELL_INV_SHUFFLE), &INV_SUB8);
    w = permute(mult(w), &CELL_INV_SHUFFLE);
    w ^= key0 ^ runningmod;
    for i in 0..5 {
        w = substitute(w, &INV_SUB8);
        if i < 4 {
            w = permute(mult(w), &CELL_INV_SHUFFLE);
        }
        runningmod = tweak_inv_shuffle(runningmod);
        w ^= RC[4 - i] ^ key1 ^ runningmod ^ ALPHA;
    }
    w ^ modk0
}

/// Recent ComputePAC results: a function's PACIASP and its AUTIASP compute the same PAC, and
/// so do the calls of a loop. Keyed by every input, so key changes need no flush.
#[derive(Clone)]
pub struct PacCache {
    entries: Box<[Option<CacheEntry>; PAC_CACHE]>,
}

const PAC_CACHE: usize = 512;

#[derive(Clone, Copy, PartialEq, Eq)]
struct CacheEntry {
    data: u64,
    modifier: u64,
    key: [u64; 2],
    pac: u64,
}

impl Default for PacCache {
    fn default() -> Self {
        PacCache { entries: Box::new([None; PAC_CACHE]) }
    }
}

impl PacCache {
    /// ComputePAC(`data`, `modifier`, `key`), from the cache when it was computed lately.
    pub fn compute(&mut self, data: u64, modifier: u64, key: [u64; 2]) -> u64 {
        let h = (data ^ modifier.rotate_left(29) ^ key[1]).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let slot = &mut self.entries[(h >> 55) as usize % PAC_CACHE];
        if let Some(e) = slot {
            if e.data == data && e.modifier == modifier && e.key == key {
                return e.pac;
            }
        }
        let pac = compute_pac(data, modifier, key[0], key[1]);
        *slot = Some(CacheEntry { data, modifier, key, pac });
        pac
    }
}

// ---- where the PAC goes ---------------------------------------------------------------------

/// The layout of one pointer's PAC field under the current TCR_EL1.
struct Layout {
    tbi: bool,
    /// The bit that selects the upper or lower address range (and is kept).
    selbit: u64,
    /// The lowest PAC bit: 64 - TnSZ.
    bottom: u32,
}

fn tsz_bottom(tcr_el1: u64, upper: bool) -> u32 {
    let tsz = if upper { tcr_el1 >> 16 & 0x3f } else { tcr_el1 & 0x3f } as u32;
    // Out-of-range TxSZ values are clamped (CONSTRAINED UNPREDICTABLE: the limits are used).
    64 - tsz.clamp(16, 39)
}

/// EffectiveTBI for the EL1&0 regime: TBI0/TBI1 as bit 55 selects, except that TBID0/TBID1
/// turn it off for instruction addresses.
fn effective_tbi(tcr_el1: u64, ptr: u64, data: bool) -> bool {
    let upper = ptr >> 55 & 1 != 0;
    let (tbi, tbid) = if upper { (tcr::TBI1, tcr::TBID1) } else { (tcr::TBI0, tcr::TBID0) };
    tcr_el1 & tbi != 0 && (data || tcr_el1 & tbid == 0)
}

fn layout(tcr_el1: u64, ptr: u64, data: bool) -> Layout {
    let tbi = effective_tbi(tcr_el1, ptr, data);
    // With two address ranges, bit 55 selects the range whenever TBI is on for either range
    // (for this kind of access), so that a pointer keeps its range whatever its top byte is.
    let any_tbi = if data {
        tcr_el1 & (tcr::TBI0 | tcr::TBI1) != 0
    } else {
        (tcr_el1 & tcr::TBI1 != 0 && tcr_el1 & tcr::TBID1 == 0)
            || (tcr_el1 & tcr::TBI0 != 0 && tcr_el1 & tcr::TBID0 == 0)
    };
    let selbit = if any_tbi { ptr >> 55 & 1 } else { ptr >> 63 };
    Layout { tbi, selbit, bottom: tsz_bottom(tcr_el1, selbit != 0) }
}

/// Bits `hi..=lo` set.
fn mask(hi: u32, lo: u32) -> u64 {
    (u64::MAX >> (63 - hi)) & (u64::MAX << lo)
}

/// The pointer with its PAC field (and the top byte without TBI) replaced by copies of
/// `selbit`: what the PAC is computed over.
fn extend(ptr: u64, l: &Layout) -> u64 {
    let top = if l.tbi { 55 } else { 63 };
    let field = mask(top, l.bottom);
    (ptr & !field) | if l.selbit != 0 { field } else { 0 }
}

/// AddPAC: `ptr` with the PAC of `key` and `modifier` inserted.
pub fn add_pac(cache: &mut PacCache, ptr: u64, modifier: u64, key: [u64; 2], data: bool, tcr_el1: u64) -> u64 {
    let l = layout(tcr_el1, ptr, data);
    let ext = extend(ptr, &l);
    let mut pac = cache.compute(ext, modifier, key);
    let top = if l.tbi { 55 } else { 63 };
    let ext_bits = ptr & mask(top, l.bottom);
    if ext_bits != 0 && ext_bits != mask(top, l.bottom) {
        // A pointer that was not a valid address gets a PAC that cannot authenticate.
        pac ^= 1 << (top - 1);
    }
    let low = ptr & mask(l.bottom - 1, 0);
    let pac_mid = pac & mask(54, l.bottom);
    let hi = if l.tbi { ptr & mask(63, 56) } else { pac & mask(63, 56) };
    hi | l.selbit << 55 | pac_mid | low
}

/// Auth: `ptr` authenticated with `key` and `modifier`: the plain pointer if its PAC matches,
/// otherwise the plain pointer with the error code of `keynum` in its extension bits.
pub fn auth(cache: &mut PacCache, ptr: u64, modifier: u64, key: [u64; 2], k: Key, tcr_el1: u64) -> u64 {
    // AddPAC kept the range in bit 55 (bit 63 may hold PAC bits now).
    let l = kept_layout(tcr_el1, ptr, k.is_data());
    let original = extend(ptr, &l);
    let pac = cache.compute(original, modifier, key);
    let field = mask(54, l.bottom) | if l.tbi { 0 } else { mask(63, 56) };
    if (pac ^ ptr) & field == 0 {
        return original;
    }
    let error = k.number() << 1 | (k.number() ^ 1);
    let at = if l.tbi { 53 } else { 61 };
    (original & !(3 << at)) | error << at
}

/// Strip (XPACI/XPACD): the PAC field replaced by the extension of bit 55.
pub fn strip(ptr: u64, data: bool, tcr_el1: u64) -> u64 {
    extend(ptr, &kept_layout(tcr_el1, ptr, data))
}

/// The layout of a pointer that may carry a PAC: bit 55 says which range it is in.
fn kept_layout(tcr_el1: u64, ptr: u64, data: bool) -> Layout {
    let selbit = ptr >> 55 & 1;
    Layout { tbi: effective_tbi(tcr_el1, ptr, data), selbit, bottom: tsz_bottom(tcr_el1, selbit != 0) }
}

/// PACGA: the top 32 bits of the PAC of `data` under the generic key.
pub fn pacga(data: u64, modifier: u64, key: [u64; 2]) -> u64 {
    compute_pac(data, modifier, key[0], key[1]) & 0xffff_ffff_0000_0000
}

// ---- helpers (both tiers) -------------------------------------------------------------------

/// PAC* (`key` a [`Key`] index): `ptr` signed with `modifier`, or unchanged while SCTLR_EL1
/// disables the key.
pub fn pac(e: &mut Env<'_, Aarch64Cpu>, ptr: u64, modifier: u64, key: u64) -> Result<u64, Exit> {
    let k = Key::from_index(key);
    let c = &mut *e.cpu;
    if c.sctlr_current() & k.sctlr_enable() == 0 {
        return Ok(ptr);
    }
    Ok(add_pac(&mut c.pac_cache, ptr, modifier, c.pac_keys.keys[k as usize], k.is_data(), c.mmu_regs.tcr_el1))
}

/// AUT* and the authenticating branches and loads: `ptr` authenticated, or unchanged while
/// SCTLR_EL1 disables the key.
pub fn aut(e: &mut Env<'_, Aarch64Cpu>, ptr: u64, modifier: u64, key: u64) -> Result<u64, Exit> {
    let k = Key::from_index(key);
    let c = &mut *e.cpu;
    if c.sctlr_current() & k.sctlr_enable() == 0 {
        return Ok(ptr);
    }
    Ok(auth(&mut c.pac_cache, ptr, modifier, c.pac_keys.keys[k as usize], k, c.mmu_regs.tcr_el1))
}

/// XPACI (`data` 0) and XPACD (`data` 1).
pub fn xpac(e: &mut Env<'_, Aarch64Cpu>, ptr: u64, data: u64, _: u64) -> Result<u64, Exit> {
    Ok(strip(ptr, data != 0, e.cpu.mmu_regs.tcr_el1))
}

/// PACGA.
pub fn pacga_helper(e: &mut Env<'_, Aarch64Cpu>, data: u64, modifier: u64, _: u64) -> Result<u64, Exit> {
    Ok(pacga(data, modifier, e.cpu.pac_keys.keys[Key::GA as usize]))
}

/// ERETAA/ERETAB (`key` IA or IB): ELR_EL1 authenticated with the current SP as modifier,
/// then the exception return; UNDEFINED at EL0.
pub fn ereta(e: &mut Env<'_, Aarch64Cpu>, raw: u64, key: u64, sp: u64) -> Result<u64, Exit> {
    if e.cpu.el == 0 {
        return e.cpu.exception(Fault::Undefined { raw: raw as u32 });
    }
    let elr = e.cpu.elr_current();
    let target = aut(e, elr, sp, key)?;
    e.cpu.exception_return();
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// QARMA-64 with sigma_2 and r = 5 from the QARMA paper's test vectors (Avanzi, ToSC
    /// 2017(1)): P, T, w0, k0 and the ciphertext.
    const P: u64 = 0xfb623599da6e8127;
    const T: u64 = 0x477d469dec0b8762;
    const W0: u64 = 0x84be85ce9804e94b;
    const K0: u64 = 0xec2802d4e0a488e9;

    #[test]
    fn compute_pac_matches_the_qarma_paper_vector() {
        assert_eq!(compute_pac(P, T, W0, K0), 0xc003b93999b33765);
    }

    #[test]
    fn tweak_shuffle_and_its_inverse_undo_each_other() {
        for v in [0u64, u64::MAX, 0x0123_4567_89ab_cdef, T, P] {
            assert_eq!(tweak_inv_shuffle(tweak_shuffle(v)), v);
            assert_eq!(permute(permute(v, &CELL_SHUFFLE), &CELL_INV_SHUFFLE), v);
            assert_eq!(substitute(substitute(v, &SUB8), &INV_SUB8), v);
            assert_eq!(mult(mult(v)), v, "the MixColumns matrix is an involution");
        }
    }

    #[test]
    fn the_pac_cache_answers_for_exactly_its_inputs() {
        let mut c = PacCache::default();
        assert_eq!(c.compute(P, T, [W0, K0]), 0xc003b93999b33765);
        assert_eq!(c.compute(P, T, [W0, K0]), 0xc003b93999b33765, "a hit");
        assert_eq!(c.compute(P, T, [W0, K0 ^ 1]), compute_pac(P, T, W0, K0 ^ 1), "another key");
        assert_eq!(c.compute(P, T ^ 1, [W0, K0]), compute_pac(P, T ^ 1, W0, K0), "another modifier");
    }

    const TCR_48: u64 = 16 | 16 << 16;

    #[test]
    fn add_then_auth_gives_back_the_pointer() {
        let key = [W0, K0];
        for ptr in [0x0000_ffff_1234_5678u64, 0xffff_8000_0010_0000] {
            let signed = add_pac(&mut PacCache::default(), ptr, 42, key, false, TCR_48);
            assert_ne!(signed, ptr);
            assert_eq!(signed & 0xffff_ffff_ffff, ptr & 0xffff_ffff_ffff);
            assert_eq!(auth(&mut PacCache::default(), signed, 42, key, Key::IA, TCR_48), ptr);
            assert_eq!(strip(signed, false, TCR_48), ptr);
        }
    }

    #[test]
    fn auth_with_a_wrong_modifier_sets_the_error_code_of_the_key() {
        let key = [W0, K0];
        let ptr = 0x0000_ffff_1234_5678u64;
        let a = add_pac(&mut PacCache::default(), ptr, 1, key, false, TCR_48);
        assert_eq!(auth(&mut PacCache::default(), a, 2, key, Key::IA, TCR_48), ptr | 0b01 << 61);
        let b = add_pac(&mut PacCache::default(), ptr, 1, key, true, TCR_48);
        assert_eq!(auth(&mut PacCache::default(), b, 2, key, Key::DB, TCR_48), ptr | 0b10 << 61);
        // With TBI the top byte is kept and the error code moves to bits 54:53.
        let tcr = TCR_48 | tcr::TBI0;
        let tagged = ptr | 0x5a << 56;
        let c = add_pac(&mut PacCache::default(), tagged, 1, key, true, tcr);
        assert_eq!(c >> 56, 0x5a);
        assert_eq!(auth(&mut PacCache::default(), c, 2, key, Key::DA, tcr), tagged | 0b01 << 53);
    }
}
