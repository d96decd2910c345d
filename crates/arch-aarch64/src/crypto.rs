//! The cryptographic extension's Advanced SIMD instructions, written from the Arm ARM pseudocode
//! (AESE/AESD/AESMC/AESIMC; SHA1C/P/M/H/SU0/SU1; SHA256H/H2/SU0/SU1). They are helpers called
//! with the instruction word (through `fp_helper`, so CPACR_EL1.FPEN traps them first); each is
//! UNDEFINED unless the CPU has its feature (FEAT_AES, FEAT_SHA1, FEAT_SHA256 in
//! [`crate::cpu::Features`]). PMULL's 64-bit form (FEAT_PMULL, advertised with AES) lives with
//! the other three-different instructions in [`crate::simd`].
//!
//! The AES state is the 128-bit register as 16 bytes, byte 0 in bits 7:0, in FIPS-197's
//! column-major order (byte `r + 4c` is row `r`, column `c`). The S-box is computed at compile
//! time from its definition (multiplicative inverse in GF(2^8), then the affine map).

use crate::cpu::{Aarch64Cpu, Fault};
use mimic_exec::Env;
use mimic_ir::Exit;

type E<'e, 'a> = &'e mut Env<'a, Aarch64Cpu>;
type Res = Result<u64, Exit>;

/// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.
const fn gmul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        let carry = a & 0x80 != 0;
        a <<= 1;
        if carry {
            a ^= 0x1b;
        }
        b >>= 1;
    }
    p
}

const fn make_sbox() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        // x^254 is x's inverse (and 0 for 0): x^2 * x^4 * ... * x^128.
        let (mut p, mut inv) = (x as u8, 1u8);
        let mut i = 0;
        while i < 7 {
            p = gmul(p, p);
            inv = gmul(inv, p);
            i += 1;
        }
        if x == 0 {
            inv = 0;
        }
        t[x] = inv ^ inv.rotate_left(1) ^ inv.rotate_left(2) ^ inv.rotate_left(3) ^ inv.rotate_left(4) ^ 0x63;
        x += 1;
    }
    t
}

const fn invert(s: &[u8; 256]) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        t[s[x] as usize] = x as u8;
        x += 1;
    }
    t
}

const SBOX: [u8; 256] = make_sbox();
const INV_SBOX: [u8; 256] = invert(&SBOX);

fn bytes(v: u128) -> [u8; 16] {
    v.to_le_bytes()
}

/// ShiftRows (row `r` rotated left by `r` columns), or InvShiftRows; then the (inverse) S-box.
fn sub_shift(s: [u8; 16], inverse: bool) -> [u8; 16] {
    let mut out = [0u8; 16];
    for c in 0..4 {
        for r in 0..4 {
            let from = if inverse { (c + 4 - r) % 4 } else { (c + r) % 4 };
            let b = s[r + 4 * from];
            out[r + 4 * c] = if inverse { INV_SBOX[b as usize] } else { SBOX[b as usize] };
        }
    }
    out
}

/// MixColumns (rows of the matrix 2 3 1 1 rotated) or InvMixColumns (e b d 9).
fn mix(s: [u8; 16], inverse: bool) -> [u8; 16] {
    let m: [u8; 4] = if inverse { [0x0e, 0x0b, 0x0d, 0x09] } else { [2, 3, 1, 1] };
    let mut out = [0u8; 16];
    for c in 0..4 {
        for r in 0..4 {
            out[r + 4 * c] = (0..4).fold(0, |acc, k| acc ^ gmul(m[(k + 4 - r) % 4], s[k + 4 * c]));
        }
    }
    out
}

fn field(raw: u64, lo: u32, len: u32) -> usize {
    (raw >> lo) as usize & ((1 << len) - 1)
}

fn undefined(e: E, raw: u64) -> Res {
    e.cpu.exception(Fault::Undefined { raw: raw as u32 })
}

/// AESE, AESD, AESMC, AESIMC (opcode bits 16:12 = 00100..00111).
pub fn aes(e: E, raw: u64, _: u64, _: u64) -> Res {
    if !e.cpu.features.aes {
        return undefined(e, raw);
    }
    let (rd, rn) = (field(raw, 0, 5), field(raw, 5, 5));
    let (d, n) = (e.cpu.v(rd), e.cpu.v(rn));
    let r = match field(raw, 12, 5) {
        0b00100 => sub_shift(bytes(d ^ n), false),
        0b00101 => sub_shift(bytes(d ^ n), true),
        0b00110 => mix(bytes(n), false),
        _ => mix(bytes(n), true),
    };
    e.cpu.set_v(rd, u128::from_le_bytes(r));
    Ok(0)
}

fn lanes(v: u128) -> [u32; 4] {
    std::array::from_fn(|i| (v >> (32 * i)) as u32)
}

fn from_lanes(l: [u32; 4]) -> u128 {
    l.iter().enumerate().fold(0, |acc, (i, &x)| acc | u128::from(x) << (32 * i))
}

fn sha_choose(x: u32, y: u32, z: u32) -> u32 {
    ((y ^ z) & x) ^ z
}

fn sha_majority(x: u32, y: u32, z: u32) -> u32 {
    (x & y) | ((x | y) & z)
}

fn sha_parity(x: u32, y: u32, z: u32) -> u32 {
    x ^ y ^ z
}

/// Four SHA-1 rounds: `x` is ABCD (A in lane 0), `y` is E, `w` the four schedule words plus K.
fn sha1_rounds(mut x: [u32; 4], mut y: u32, w: [u32; 4], f: fn(u32, u32, u32) -> u32) -> [u32; 4] {
    for we in w {
        let t = f(x[1], x[2], x[3]);
        y = y.wrapping_add(x[0].rotate_left(5)).wrapping_add(t).wrapping_add(we);
        x[1] = x[1].rotate_left(30);
        // <Y, X> = ROL(Y:X, 32) over 160 bits.
        let top = x[3];
        x = [y, x[0], x[1], x[2]];
        y = top;
    }
    x
}

/// SHA256hash: four SHA-256 rounds on X = ABCD, Y = EFGH; returns the new (X, Y).
fn sha256_rounds(mut x: [u32; 4], mut y: [u32; 4], w: [u32; 4]) -> ([u32; 4], [u32; 4]) {
    for we in w {
        let chs = sha_choose(y[0], y[1], y[2]);
        let maj = sha_majority(x[0], x[1], x[2]);
        let sigma1 = y[0].rotate_right(6) ^ y[0].rotate_right(11) ^ y[0].rotate_right(25);
        let sigma0 = x[0].rotate_right(2) ^ x[0].rotate_right(13) ^ x[0].rotate_right(22);
        let t = y[3].wrapping_add(sigma1).wrapping_add(chs).wrapping_add(we);
        x[3] = t.wrapping_add(x[3]);
        y[3] = t.wrapping_add(sigma0).wrapping_add(maj);
        // <Y, X> = ROL(Y:X, 32) over 256 bits.
        (x, y) = ([y[3], x[0], x[1], x[2]], [x[3], y[0], y[1], y[2]]);
    }
    (x, y)
}

/// The three-register SHA instructions (opcode bits 14:12: SHA1C, SHA1P, SHA1M, SHA1SU0,
/// SHA256H, SHA256H2, SHA256SU1; 111 is unallocated).
pub fn sha3(e: E, raw: u64, _: u64, _: u64) -> Res {
    let opc = field(raw, 12, 3);
    let have = if opc < 4 { e.cpu.features.sha1 } else { e.cpu.features.sha256 };
    if !have || opc == 7 {
        return undefined(e, raw);
    }
    let (rd, rn, rm) = (field(raw, 0, 5), field(raw, 5, 5), field(raw, 16, 5));
    let (d, n, m) = (e.cpu.v(rd), e.cpu.v(rn), e.cpu.v(rm));
    let (x, w) = (lanes(d), lanes(m));
    let r = match opc {
        0 => from_lanes(sha1_rounds(x, n as u32, w, sha_choose)),
        1 => from_lanes(sha1_rounds(x, n as u32, w, sha_parity)),
        2 => from_lanes(sha1_rounds(x, n as u32, w, sha_majority)),
        3 => {
            // (Vn<63:0> : Vd<127:64>) EOR Vd EOR Vm
            let t = (n << 64) | (d >> 64);
            t ^ d ^ m
        }
        4 => from_lanes(sha256_rounds(x, lanes(n), w).0),
        5 => from_lanes(sha256_rounds(lanes(n), x, w).1),
        _ => {
            // SHA256SU1: T0 = Vm<31:0> : Vn<127:32>, T1 = Vm<127:64>.
            let t0 = lanes((m << 96) | (n >> 32));
            let sigma1 = |v: u32| v.rotate_right(17) ^ v.rotate_right(19) ^ (v >> 10);
            let mut r = [0u32; 4];
            let (m2, m3) = (w[2], w[3]);
            r[0] = sigma1(m2).wrapping_add(x[0]).wrapping_add(t0[0]);
            r[1] = sigma1(m3).wrapping_add(x[1]).wrapping_add(t0[1]);
            r[2] = sigma1(r[0]).wrapping_add(x[2]).wrapping_add(t0[2]);
            r[3] = sigma1(r[1]).wrapping_add(x[3]).wrapping_add(t0[3]);
            from_lanes(r)
        }
    };
    e.cpu.set_v(rd, r);
    Ok(0)
}

/// The two-register SHA instructions (opcode bits 16:12: SHA1H, SHA1SU1, SHA256SU0).
pub fn sha2(e: E, raw: u64, _: u64, _: u64) -> Res {
    let opc = field(raw, 12, 5);
    let have = if opc < 2 { e.cpu.features.sha1 } else { e.cpu.features.sha256 };
    if !have || opc > 2 {
        return undefined(e, raw);
    }
    let (rd, rn) = (field(raw, 0, 5), field(raw, 5, 5));
    let (d, n) = (e.cpu.v(rd), e.cpu.v(rn));
    let r = match opc {
        0 => u128::from((n as u32).rotate_left(30)),
        1 => {
            // SHA1SU1: T = Vd EOR LSR(Vn, 32); each lane ROL 1, lane 3 also EOR ROL(T<31:0>, 2).
            let t = lanes(d ^ (n >> 32));
            let mut r = t.map(|v| v.rotate_left(1));
            r[3] ^= t[0].rotate_left(2);
            from_lanes(r)
        }
        _ => {
            // SHA256SU0: T = Vn<31:0> : Vd<127:32>; sigma0 of each lane plus Vd's lane.
            let t = lanes((n << 96) | (d >> 32));
            let x = lanes(d);
            let sigma0 = |v: u32| v.rotate_right(7) ^ v.rotate_right(18) ^ (v >> 3);
            from_lanes(std::array::from_fn(|i| sigma0(t[i]).wrapping_add(x[i])))
        }
    };
    e.cpu.set_v(rd, r);
    Ok(0)
}
