//! Differential fuzzing of the execution tiers: random instruction sequences (ALU, bit
//! manipulation, multiply/divide, loads and stores into the DATA window, FP moves and arithmetic,
//! counter reads, forward branches and small counted loops) run on every tier, whose final states
//! must be identical (the harness compares registers, FP state, memory, traps and pc).
//!
//! Runs for `MIMIC_FUZZ_SECS` seconds (default 10) from a random seed, or replays
//! `MIMIC_FUZZ_SEED`; a failure prints the seed and the program.

mod common;

use common::{Snippet, DATA, DATA_LEN};
use mimic_arch_riscv::decode::enc;
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
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
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

/// x31 holds the DATA address and x30 a loop counter: random instructions never write them.
const BASE: u32 = 31;
const COUNTER: u32 = 30;

type R3 = fn(u32, u32, u32) -> u32;
type RI = fn(u32, u32, i64) -> u32;
type R2 = fn(u32, u32) -> u32;
type RS = fn(u32, u32, u32) -> u32;

const R3_OPS: &[R3] = &[
    enc::add,
    enc::sub,
    enc::sll,
    enc::slt,
    enc::sltu,
    enc::xor,
    enc::srl,
    enc::sra,
    enc::or,
    enc::and,
    enc::addw,
    enc::subw,
    enc::sllw,
    enc::srlw,
    enc::sraw,
    enc::mul,
    enc::mulh,
    enc::mulhsu,
    enc::mulhu,
    enc::div,
    enc::divu,
    enc::rem,
    enc::remu,
    enc::mulw,
    enc::divw,
    enc::divuw,
    enc::remw,
    enc::remuw,
    enc::add_uw,
    enc::sh1add,
    enc::sh2add,
    enc::sh3add,
    enc::sh1add_uw,
    enc::sh2add_uw,
    enc::sh3add_uw,
    enc::andn,
    enc::orn,
    enc::xnor,
    enc::max,
    enc::maxu,
    enc::min,
    enc::minu,
    enc::rol,
    enc::ror,
    enc::rolw,
    enc::rorw,
    enc::bclr,
    enc::bext,
    enc::binv,
    enc::bset,
    enc::czero_eqz,
    enc::czero_nez,
];
const RI_OPS: &[RI] = &[enc::addi, enc::slti, enc::sltiu, enc::xori, enc::ori, enc::andi, enc::addiw];
const R2_OPS: &[R2] = &[
    enc::clz,
    enc::ctz,
    enc::cpop,
    enc::sext_b,
    enc::sext_h,
    enc::clzw,
    enc::ctzw,
    enc::cpopw,
    enc::zext_h,
    enc::orc_b,
    enc::rev8,
];
const SHIFT_OPS: &[(RS, u32)] = &[
    (enc::slli, 64),
    (enc::srli, 64),
    (enc::srai, 64),
    (enc::slliw, 32),
    (enc::srliw, 32),
    (enc::sraiw, 32),
    (enc::slli_uw, 64),
    (enc::rori, 64),
    (enc::roriw, 32),
    (enc::bclri, 64),
    (enc::bexti, 64),
    (enc::binvi, 64),
    (enc::bseti, 64),
];
const LOADS: &[(RI, i64)] =
    &[(enc::lb, 1), (enc::lh, 2), (enc::lw, 4), (enc::ld, 8), (enc::lbu, 1), (enc::lhu, 2), (enc::lwu, 4)];
const STORES: &[(R3Store, i64)] = &[(enc::sb, 1), (enc::sh, 2), (enc::sw, 4), (enc::sd, 8)];
type R3Store = fn(u32, u32, i64) -> u32;
type Fp = fn(u32, u32, u32, u32) -> u32;
const FP_OPS: &[Fp] = &[enc::fadd_d, enc::fsub_d, enc::fmul_d, enc::fdiv_d];

/// `minstret` and `mcycle`: reading them checks that every tier counts retired instructions
/// exactly, also in the middle of a block.
const COUNTERS: &[u32] = &[0xb02, 0xb00];

/// An offset from BASE within the DATA window and a 12-bit immediate: mostly aligned, sometimes
/// misaligned (performed, possibly straddling two words).
fn offset(r: &mut Rng, size: i64) -> i64 {
    let span = (DATA_LEN as i64).min(2048) - 16;
    r.below((span / size) as u64) as i64 * size + (r.below(8) == 0) as i64
}

fn reg(r: &mut Rng) -> u32 {
    r.below(30) as u32
}

/// One straight-line instruction (no control flow).
fn straight(r: &mut Rng) -> u32 {
    let (rd, a, b) = (reg(r), reg(r), reg(r));
    match r.below(20) {
        0..=6 => r.pick(R3_OPS)(rd, a, b),
        7..=8 => r.pick(RI_OPS)(rd, a, (r.below(4096) as i64) - 2048),
        9 => r.pick(R2_OPS)(rd, a),
        10..=11 => {
            let (op, width) = r.pick(SHIFT_OPS);
            op(rd, a, r.below(width as u64) as u32)
        }
        12 => enc::lui(rd, ((r.next() as i64) >> 44) << 12),
        13..=14 => {
            let (op, size) = r.pick(LOADS);
            op(rd, BASE, offset(r, size))
        }
        15..=16 => {
            let (op, size) = r.pick(STORES);
            op(BASE, a, offset(r, size))
        }
        17 => enc::fmv_d_x(r.below(32) as u32, a),
        18 => r.pick(FP_OPS)(r.below(32) as u32, r.below(32) as u32, r.below(32) as u32, r.pick(&[0, 1, 2, 3, 4, 7])),
        _ => enc::csrrs(rd, 0, r.pick(COUNTERS)),
    }
}

/// A program: straight runs, forward branches and jumps, and counted loops around some runs.
fn program(r: &mut Rng) -> Vec<u32> {
    let mut w = Vec::new();
    for _ in 0..1 + r.below(5) {
        let body: Vec<u32> = (0..1 + r.below(12)).map(|_| straight(r)).collect();
        match r.below(4) {
            0 => {
                // Counted loop: COUNTER = n; body; COUNTER -= 1; bnez COUNTER, body.
                w.push(enc::addi(COUNTER, 0, 1 + r.below(6) as i64));
                let len = body.len() as i64;
                w.extend(body);
                w.push(enc::addi(COUNTER, COUNTER, -1));
                w.push(enc::bne(COUNTER, 0, -(len + 1) * 4));
            }
            1 => {
                // A forward branch over the body, taken or not depending on the registers.
                let br = r.pick(&[enc::beq, enc::bne, enc::blt, enc::bge, enc::bltu, enc::bgeu] as &[R3Store]);
                w.push(br(reg(r), reg(r), (body.len() as i64 + 1) * 4));
                w.extend(body);
            }
            2 => {
                // An unconditional jump over part of the body (the rest still runs).
                let skip = r.below(body.len() as u64 + 1) as usize;
                w.push(enc::jal(reg(r), (skip as i64 + 1) * 4));
                w.extend(body);
            }
            _ => w.extend(body),
        }
    }
    w
}

fn snippet(words: &[u32], r: &mut Rng) -> Snippet {
    let mut s = Snippet::of(words).x(BASE as usize, DATA);
    for x in 1..30 {
        s = s.x(x, r.value());
    }
    for f in 0..32 {
        s = s.f(f, r.value());
    }
    let data: Vec<u8> = (0..DATA_LEN).map(|_| r.next() as u8).collect();
    s.mem(DATA, &data)
}

#[test]
fn random_programs_agree_on_every_tier() {
    let secs = std::env::var("MIMIC_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
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
        // The harness's own message (above) names the first difference.
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
