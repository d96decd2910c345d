//! Differential fuzzing of the execution tiers: random A64 programs (any data-processing word the
//! decoder accepts, SIMD and FP and the crypto instructions included, from random V registers and FPCR modes, loads and stores of every size into the DATA window, some pre/post-indexed, FEAT_LSE atomics,
//! and forward conditional branches) run on every tier, whose final states must be identical (the harness compares
//! registers, SP, flags, memory, exceptions and pc).
//!
//! Data-processing instructions are drawn as random 32-bit words kept when the generated decoder
//! says they are data processing, so every allocated encoding of those groups (every shift,
//! extend, condition and bitmask) gets exercised, not just the ones a generator was written for.
//!
//! Runs for `MIMIC_FUZZ_SECS` seconds (default 5) from a random seed, or replays
//! `MIMIC_FUZZ_SEED`; a failure prints the seed and the program.

mod common;

use common::{Snippet, DATA, DATA_LEN};
use mimic_arch_aarch64::decode::{decode32, enc, Insn};
use std::time::{Duration, Instant};

/// xorshift64*: small, deterministic, good enough to pick instructions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Values that find edge cases: zero, one, all ones, the signed extremes, and random bits.
    fn value(&mut self) -> u64 {
        match self.below(8) {
            0 => 0,
            1 => 1,
            2 => u64::MAX,
            3 => i64::MIN as u64,
            4 => i64::MAX as u64,
            5 => 0xffff_ffff_8000_0000,
            _ => self.next(),
        }
    }
}

/// X28 holds the DATA address and X27 a pointer that pre/post-indexed accesses move around the
/// middle of DATA: random instructions never write either.
const BASE: u32 = 28;
const MOVING: u32 = 27;

/// Whether `insn` is data processing (no memory access, no control flow, no WFI).
fn is_data_processing(insn: &Insn) -> bool {
    use Insn::*;
    !matches!(
        insn,
        B(_) | Bl(_)
            | BCond(_)
            | Cbz(_)
            | Cbnz(_)
            | Tbz(_)
            | Tbnz(_)
            | Br(_)
            | Blr(_)
            | Ret(_)
            | Braz(_)
            | Blraz(_)
            | Bra(_)
            | Blra(_)
            | Reta(_)
            | Ereta(_)
            | Ldra(_)
            | Wfi(_)
            | Clrex(_)
            | Svc(_)
            | Hvc(_)
            | Smc(_)
            | Brk(_)
            | Dsb(_)
            | Dmb(_)
            | Isb(_)
            | Ldxr(_)
            | Stxr(_)
            | Ldxp(_)
            | Stxp(_)
            | Ldar(_)
            | Stlr(_)
            | LdstUimm(_)
            | LdstUnscaled(_)
            | LdstUnpriv(_)
            | LdstPost(_)
            | LdstPre(_)
            | LdstReg(_)
            | LdrLitW(_)
            | LdrLitX(_)
            | LdrswLit(_)
            | PrfmLit(_)
            | LdstpNt(_)
            | LdstpPost(_)
            | LdstpOff(_)
            | LdstpPre(_)
            | VldstUimm(_)
            | VldstUnscaled(_)
            | VldstPost(_)
            | VldstPre(_)
            | VldstReg(_)
            | VldrLit(_)
            | VldstpNt(_)
            | VldstpPost(_)
            | VldstpOff(_)
            | VldstpPre(_)
            | VldstMulti(_)
            | VldstMultiPost(_)
            | VldstSingle(_)
            | VldstSinglePost(_)
            | Ldadd(_)
            | Ldclr(_)
            | Ldeor(_)
            | Ldset(_)
            | Ldsmax(_)
            | Ldsmin(_)
            | Ldumax(_)
            | Ldumin(_)
            | Swp(_)
            | Cas(_)
            | Casp(_)
    )
}

/// A random data-processing word that writes neither base (Rd is bits 4:0 in every one of them;
/// for CCMP those bits hold a 0 and NZCV, never 27 or 28).
fn data_processing(r: &mut Rng) -> u32 {
    loop {
        let w = r.next() as u32;
        if w & 31 == BASE || w & 31 == MOVING {
            continue;
        }
        if let Some(i) = decode32(w) {
            if is_data_processing(&i) {
                return w;
            }
        }
    }
}

fn rt(r: &mut Rng) -> u32 {
    loop {
        let v = r.below(32) as u32;
        if v != BASE && v != MOVING {
            return v;
        }
    }
}

/// A legal (size, opc) pair of the single-register loads and stores.
fn size_opc(r: &mut Rng) -> (u32, u32) {
    loop {
        let (size, opc) = (r.below(4) as u32, r.below(4) as u32);
        if !(opc == 3 && size >= 2) {
            return (size, opc);
        }
    }
}

/// The first register of a CASP pair: even, and neither it nor the next one a base.
fn even_pair(r: &mut Rng) -> u32 {
    loop {
        let v = 2 * r.below(16) as u32;
        if v != BASE && v + 1 != MOVING && v != MOVING && v + 1 != BASE {
            return v;
        }
    }
}

/// A FEAT_LSE atomic at DATA (aligned) or at the moving pointer (often misaligned: an
/// alignment fault, which every tier must raise alike).
fn atomic(r: &mut Rng) -> u32 {
    let (size, ar, rn) = (r.below(4) as u32, r.below(4) as u32, if r.below(2) == 0 { BASE } else { MOVING });
    let ops =
        [enc::ldadd, enc::ldclr, enc::ldeor, enc::ldset, enc::ldsmax, enc::ldsmin, enc::ldumax, enc::ldumin, enc::swp];
    match r.below(12) {
        0 => enc::cas(size, ar, rt(r), rn, r.below(32) as u32),
        1 => enc::casp(r.below(2) as u32, ar, even_pair(r), rn, even_pair(r)),
        k => ops[(k - 2) as usize % ops.len()](size, ar, r.below(32) as u32, rn, rt(r)),
    }
}

/// A load or store of a random legal size/opc at an offset inside the DATA window, or an atomic.
fn memory(r: &mut Rng) -> u32 {
    let window = DATA_LEN as i64 - 16;
    match r.below(6) {
        5 => atomic(r),
        0 | 1 => {
            let (size, opc) = size_opc(r);
            let imm = r.below((window >> size) as u64) as i64;
            if r.below(2) == 0 {
                enc::ldst_uimm(size, opc, rt(r), BASE, imm)
            } else {
                enc::ldst_unscaled(size, opc, rt(r), BASE, r.below(256) as i64)
            }
        }
        2 => {
            // At most 32 of these move X27 by less than 64 each: it stays inside DATA.
            let (size, opc) = loop {
                let (size, opc) = size_opc(r);
                // No pre/post-indexed prefetch exists.
                if !(size == 3 && opc == 2) {
                    break (size, opc);
                }
            };
            let imm = r.below(128) as i64 - 64;
            if r.below(2) == 0 {
                enc::ldst_pre(size, opc, rt(r), MOVING, imm)
            } else {
                enc::ldst_post(size, opc, rt(r), MOVING, imm)
            }
        }
        _ => {
            let opc = [0, 1, 2][r.below(3) as usize];
            let l = if opc == 1 { 1 } else { r.below(2) as u32 };
            enc::ldstp_off(opc, l, rt(r), rt(r), BASE, r.below(64) as i64)
        }
    }
}

/// A crypto instruction on random V registers: random words almost never land in their small
/// encoding space, so they are drawn on purpose.
fn crypto(r: &mut Rng) -> u32 {
    let (d, n, m) = (r.below(32) as u32, r.below(32) as u32, r.below(32) as u32);
    match r.below(15) {
        0 => enc::aese(d, n),
        1 => enc::aesd(d, n),
        2 => enc::aesmc(d, n),
        3 => enc::aesimc(d, n),
        4 => enc::sha1c(d, n, m),
        5 => enc::sha1p(d, n, m),
        6 => enc::sha1m(d, n, m),
        7 => enc::sha1su0(d, n, m),
        8 => enc::sha256h(d, n, m),
        9 => enc::sha256h2(d, n, m),
        10 => enc::sha256su1(d, n, m),
        11 => enc::sha1h(d, n),
        12 => enc::sha1su1(d, n),
        13 => enc::sha256su0(d, n),
        // PMULL/PMULL2 (1Q).
        _ => enc::simd_3diff(r.below(2) as u32, 0, 3, 0b1110, m, n, d),
    }
}

/// A forward conditional branch over up to `room` instructions.
fn branch(r: &mut Rng, room: u64) -> u32 {
    let off = 4 * (1 + r.below(room)) as i64;
    let reg = r.below(31) as u32;
    match r.below(3) {
        0 => enc::b_cond(r.below(16) as u32, off),
        1 => enc::cbz(r.below(2) as u32, reg, off),
        _ => enc::tbnz(reg, r.below(64) as u32, off),
    }
}

/// A pointer authentication instruction that neither branches nor writes a base: PAC*/AUT*
/// (register, Z and hint forms), XPAC*, PACGA, or LDRAA/LDRAB of a pointer PACDZA/PACDZB
/// signs just before (an authentication that fails faults, which the tiers must agree on too).
fn pauth(r: &mut Rng) -> Vec<u32> {
    let key = r.below(4) as u32;
    match r.below(7) {
        0 => vec![enc::pac(key, rt(r), r.below(32) as u32)],
        1 => vec![enc::aut(key, rt(r), r.below(32) as u32)],
        2 => vec![enc::pac_z(key, rt(r)), enc::aut_z(key ^ r.below(2) as u32, rt(r))],
        3 => vec![enc::xpac(key & 1, rt(r)), enc::xpaclri()],
        4 => vec![enc::pacga(rt(r), r.below(32) as u32, r.below(32) as u32)],
        5 => {
            let hint = match r.below(3) {
                0 => enc::pauth_hint(8 + 2 * r.below(4) as u32),
                1 => enc::pauth_hint_lr(r.below(8) as u32 | 0x18),
                _ => enc::bti(32 + 2 * r.below(4) as u32),
            };
            vec![hint]
        }
        _ => {
            // A signed copy of the DATA pointer in X26, loaded through with key DA or DB.
            let m = r.below(2) as u32;
            let t = rt(r);
            vec![
                enc::orr_reg(26, 31, BASE, 0, 0),
                enc::pac_z(2 + (key & 1), 26),
                enc::ldra(m, if t == 26 { 0 } else { t }, 26, r.below(64) as i64 * 8, 0),
            ]
        }
    }
}

fn program(r: &mut Rng) -> Vec<u32> {
    let n = 8 + r.below(24);
    let mut words = Vec::new();
    for i in 0..n {
        match r.below(11) {
            0 if r.below(3) == 0 => words.push(crypto(r)),
            0..=5 => words.push(data_processing(r)),
            6 | 7 => words.push(memory(r)),
            8 => words.extend(pauth(r)),
            _ => words.push(branch(r, n - i)),
        }
    }
    words
}

fn snippet(words: &[u32], r: &mut Rng) -> Snippet {
    let mut s = Snippet::of(words).nzcv(r.below(16) as u32);
    for i in 0..32 {
        if i != BASE as usize && i != MOVING as usize {
            s = s.x(i, r.value());
        }
    }
    for i in 0..32 {
        s = s.v(i, u128::from(r.value()) | u128::from(r.value()) << 64);
    }
    s = s.fpcr(r.below(16) << 22);
    s = s.x(BASE as usize, DATA).x(MOVING as usize, DATA + DATA_LEN as u64 / 2);
    let data: Vec<u8> = (0..DATA_LEN).map(|_| r.next() as u8).collect();
    // Through the MMU with Normal memory: misaligned accesses are performed (with the MMU off,
    // data is Device memory, where they fault).
    s.mem(DATA, &data).normal_memory().setup(features_on)
}

/// FEAT_LSE, FEAT_PAuth (fixed keys, every key enabled) and FEAT_BTI on.
fn features_on(c: &mut mimic_arch_aarch64::Aarch64Cpu) {
    c.features.lse = true;
    c.features.pauth = true;
    c.features.bti = true;
    c.pac_keys.keys = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]];
    c.mmu_regs.sctlr_el1 |= mimic_arch_aarch64::pauth::SCTLR_EN_ALL;
}

#[test]
fn random_programs_agree_on_every_tier() {
    let secs = std::env::var("MIMIC_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let fixed = std::env::var("MIMIC_FUZZ_SEED").ok().and_then(|s| s.parse::<u64>().ok());
    let start = Instant::now();
    let mut cases = 0u64;
    loop {
        let seed = fixed.unwrap_or_else(|| {
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
            (t.as_nanos() as u64 ^ cases.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1
        });
        let mut rng = Rng(seed);
        let words = program(&mut rng);
        let s = snippet(&words, &mut rng);
        // The harness's own message names the first difference.
        if std::panic::catch_unwind(|| s.run()).is_err() {
            let listing: Vec<String> = words.iter().map(|w| format!("{w:08x}")).collect();
            panic!("tiers disagree; replay with MIMIC_FUZZ_SEED={seed}; program: {}", listing.join(" "));
        }
        cases += 1;
        if fixed.is_some() || start.elapsed() >= Duration::from_secs(secs) {
            break;
        }
    }
    eprintln!("{cases} random programs agreed on every tier");
}
