//! The cryptographic extension on every tier, with known-answer vectors: FIPS-197's AES round
//! and whole AES-128 cipher, FIPS 180-4's SHA-1 and SHA-256 of "abc" computed through the
//! instruction sequences that software uses, and the GCM specification's GHASH computed from
//! PMULL products. Each instruction is UNDEFINED without its feature.

mod common;

use common::*;
use mimic_arch_aarch64::cpu::{Aarch64Cpu, Features};
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::Fault;

fn hex128(s: &str) -> u128 {
    // Bytes in the order written, byte 0 in bits 7:0 (as LD1 {v.16b} loads them).
    let b: Vec<u8> = (0..16).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect();
    u128::from_le_bytes(b.try_into().unwrap())
}

fn lanes(l: [u32; 4]) -> u128 {
    l.iter().enumerate().fold(0, |acc, (i, &x)| acc | u128::from(x) << (32 * i))
}

fn orr(rd: u32, rn: u32) -> u32 {
    enc::simd_3same(1, 0, 2, 0b00011, rn, rn, rd)
}

fn add4s(rd: u32, rn: u32, rm: u32) -> u32 {
    enc::simd_3same(1, 0, 2, 0b10000, rm, rn, rd)
}

fn eor16b(rd: u32, rn: u32, rm: u32) -> u32 {
    enc::simd_3same(1, 1, 0, 0b00011, rm, rn, rd)
}

fn pmull(q: u32, rd: u32, rn: u32, rm: u32) -> u32 {
    enc::simd_3diff(q, 0, 3, 0b1110, rm, rn, rd)
}

// ---- AES ---------------------------------------------------------------------------------------

#[test]
fn aese_and_aesmc_compute_fips197_round_one() {
    // FIPS-197 Appendix B: the state at the start of round 1 (input XOR key 0), after SubBytes
    // and ShiftRows, and after MixColumns.
    let start = hex128("193de3bea0f4e22b9ac68d2ae9f84808");
    let f = Snippet::of(&[enc::aese(0, 1), enc::aesmc(2, 0)]).v(0, start).ok();
    assert_eq!(f.v(0), hex128("d4bf5d30e0b452aeb84111f11e2798e5"));
    assert_eq!(f.v(2), hex128("046681e5e0cb199a48f8d37a2806264c"));
}

#[test]
fn aesd_and_aesimc_undo_aese_and_aesmc() {
    let x = hex128("00112233445566778899aabbccddeeff");
    let k = hex128("0f0e0d0c0b0a09080706050403020100");
    // aesmc; aesimc gives x back; aese with k then aesd with 0 then XOR k gives x back.
    let f = Snippet::of(&[
        enc::aesmc(2, 0),
        enc::aesimc(3, 2),
        orr(4, 0),
        enc::aese(4, 1),
        enc::aesd(4, 5),
        eor16b(4, 4, 1),
    ])
    .v(0, x)
    .v(1, k)
    .ok();
    assert_ne!(f.v(2), x);
    assert_eq!(f.v(3), x);
    assert_eq!(f.v(4), x);
}

/// FIPS-197's S-box from its definition, independently of the CPU's: the inverse by search,
/// then the affine map.
fn sbox(x: u8) -> u8 {
    fn mul(mut a: u8, mut b: u8) -> u8 {
        let mut p = 0;
        for _ in 0..8 {
            if b & 1 != 0 {
                p ^= a;
            }
            a = (a << 1) ^ if a & 0x80 != 0 { 0x1b } else { 0 };
            b >>= 1;
        }
        p
    }
    let inv = (1..=255u8).find(|&y| mul(x, y) == 1).unwrap_or(0);
    inv ^ inv.rotate_left(1) ^ inv.rotate_left(2) ^ inv.rotate_left(3) ^ inv.rotate_left(4) ^ 0x63
}

/// FIPS-197 5.2 KeyExpansion for AES-128: the 11 round keys as register values.
fn round_keys(key: u128) -> Vec<u128> {
    let mut w: Vec<[u8; 4]> = key.to_le_bytes().chunks(4).map(|c| c.try_into().unwrap()).collect();
    let mut rcon = 1u8;
    for i in 4..44 {
        let mut t = w[i - 1];
        if i % 4 == 0 {
            t = [sbox(t[1]) ^ rcon, sbox(t[2]), sbox(t[3]), sbox(t[0])];
            rcon = (rcon << 1) ^ if rcon & 0x80 != 0 { 0x1b } else { 0 };
        }
        w.push(std::array::from_fn(|j| w[i - 4][j] ^ t[j]));
    }
    w.chunks(4).map(|c| u128::from_le_bytes(c.concat().try_into().unwrap())).collect()
}

#[test]
fn aes128_encrypts_the_fips197_appendix_c1_vector() {
    let rk = round_keys(hex128("000102030405060708090a0b0c0d0e0f"));
    let mut code = vec![];
    for r in 0..9 {
        code.extend([enc::aese(0, 1 + r), enc::aesmc(0, 0)]);
    }
    code.extend([enc::aese(0, 10), eor16b(0, 0, 11)]);
    let mut s = Snippet::of(&code).v(0, hex128("00112233445566778899aabbccddeeff"));
    for (i, k) in rk.iter().enumerate() {
        s = s.v(1 + i, *k);
    }
    assert_eq!(s.ok().v(0), hex128("69c4e0d86a7b0430d8cdb78070b4c55a"));
}

#[test]
fn aes128_decrypts_the_fips197_appendix_c1_vector() {
    // The equivalent inverse cipher: round keys 1..9 through InvMixColumns first.
    let rk = round_keys(hex128("000102030405060708090a0b0c0d0e0f"));
    let mut code: Vec<u32> = (1..=9).map(|r| enc::aesimc(1 + r, 1 + r)).collect();
    code.push(enc::aesd(0, 11));
    for r in (1..=9).rev() {
        code.extend([enc::aesimc(0, 0), enc::aesd(0, 1 + r)]);
    }
    code.push(eor16b(0, 0, 1));
    let mut s = Snippet::of(&code).v(0, hex128("69c4e0d86a7b0430d8cdb78070b4c55a"));
    for (i, k) in rk.iter().enumerate() {
        s = s.v(1 + i, *k);
    }
    assert_eq!(s.ok().v(0), hex128("00112233445566778899aabbccddeeff"));
}

// ---- SHA ---------------------------------------------------------------------------------------

/// The one padded block of "abc" as sixteen big-endian words (FIPS 180-4 5.1.1).
fn abc_block() -> [u32; 16] {
    let mut w = [0u32; 16];
    w[0] = 0x6162_6380;
    w[15] = 24;
    w
}

#[test]
fn sha1_of_abc_through_the_instruction_sequence() {
    // v0-v3: W; v4: ABCD; v5: E (lane 0); v16-v19: K per 20 rounds; v6: W+K; v7: the next E;
    // v8/v9: the initial state for the final addition.
    let kv = [0x5a82_7999u32, 0x6ed9_eba1, 0x8f1b_bcdc, 0xca62_c1d6];
    let mut code = vec![orr(8, 4), orr(9, 5)];
    for i in 0..20u32 {
        let w = i % 4;
        code.push(add4s(6, w, 16 + i / 5));
        code.push(enc::sha1h(7, 4));
        code.push(match i / 5 {
            0 => enc::sha1c(4, 5, 6),
            2 => enc::sha1m(4, 5, 6),
            _ => enc::sha1p(4, 5, 6),
        });
        code.push(orr(5, 7));
        if i < 16 {
            code.push(enc::sha1su0(w, (w + 1) % 4, (w + 2) % 4));
            code.push(enc::sha1su1(w, (w + 3) % 4));
        }
    }
    code.extend([add4s(4, 4, 8), add4s(5, 5, 9)]);
    let b = abc_block();
    let mut s = Snippet::of(&code).v(4, lanes([0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476])).v(5, 0xc3d2_e1f0);
    for j in 0..4 {
        s = s.v(j, lanes([b[4 * j], b[4 * j + 1], b[4 * j + 2], b[4 * j + 3]]));
        s = s.v(16 + j, lanes([kv[j]; 4]));
    }
    let f = s.ok();
    assert_eq!(f.v(4), lanes([0xa999_3e36, 0x4706_816a, 0xba3e_2571, 0x7850_c26c]));
    assert_eq!(f.v(5) as u32, 0x9cd0_d89d);
}

/// FIPS 180-4 4.2.2.
const K256: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

#[test]
fn sha256_of_abc_through_the_instruction_sequence() {
    // v0-v3: W; v4: ABCD; v5: EFGH; v6: ABCD before the rounds; v7: W+K; v8/v9: the initial
    // state; v16-v31: K, four per register.
    let mut code = vec![orr(8, 4), orr(9, 5)];
    for i in 0..16u32 {
        let w = i % 4;
        code.extend([add4s(7, w, 16 + i), orr(6, 4), enc::sha256h(4, 5, 7), enc::sha256h2(5, 6, 7)]);
        if i < 12 {
            code.extend([enc::sha256su0(w, (w + 1) % 4), enc::sha256su1(w, (w + 2) % 4, (w + 3) % 4)]);
        }
    }
    code.extend([add4s(4, 4, 8), add4s(5, 5, 9)]);
    let b = abc_block();
    let mut s = Snippet::of(&code)
        .v(4, lanes([0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a]))
        .v(5, lanes([0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19]));
    for j in 0..4 {
        s = s.v(j, lanes([b[4 * j], b[4 * j + 1], b[4 * j + 2], b[4 * j + 3]]));
    }
    for j in 0..16 {
        s = s.v(16 + j, lanes([K256[4 * j], K256[4 * j + 1], K256[4 * j + 2], K256[4 * j + 3]]));
    }
    let f = s.ok();
    assert_eq!(f.v(4), lanes([0xba78_16bf, 0x8f01_cfea, 0x4141_40de, 0x5dae_2223]));
    assert_eq!(f.v(5), lanes([0xb003_61a3, 0x9617_7a9c, 0xb410_ff61, 0xf200_15ad]));
}

#[test]
fn sha1h_rotates_the_low_word_and_clears_the_rest() {
    let f = Snippet::of(&[enc::sha1h(1, 0)]).v(0, u128::MAX << 32 | 0x8000_0001).v(1, u128::MAX).ok();
    assert_eq!(f.v(1), 0x6000_0000);
}

// ---- PMULL -------------------------------------------------------------------------------------

#[test]
fn pmull_64_bit_forms_multiply_without_carries() {
    let f = Snippet::of(&[pmull(0, 2, 0, 1), pmull(1, 3, 0, 1)])
        .v(0, u128::from(u64::MAX) << 64 | 3)
        .v(1, u128::from(u64::MAX) << 64 | 3)
        .ok();
    assert_eq!(f.v(2), 5, "(x + 1)^2 = x^2 + 1");
    assert_eq!(f.v(3), 0x5555_5555_5555_5555_5555_5555_5555_5555);
}

/// The 256-bit carry-less product of `a` and `b`, from four PMULL/PMULL2 on the CPU.
fn clmul128(a: u128, b: u128) -> [u128; 2] {
    let f = Snippet::of(&[
        pmull(0, 3, 1, 2),
        pmull(1, 4, 1, 2),
        enc::simd_ext(1, 2, 8, 2, 5), // v5 = v2 with its halves swapped
        pmull(0, 6, 1, 5),
        pmull(1, 7, 1, 5),
    ])
    .v(1, a)
    .v(2, b)
    .ok();
    let mid = f.v(6) ^ f.v(7);
    [f.v(3) ^ mid << 64, f.v(4) ^ mid >> 64]
}

/// Multiplication in GCM's GF(2^128): blocks are bit-reflected polynomials (the first bit of
/// the block is x^0), reduced by x^128 + x^7 + x^2 + x + 1.
fn gf128_mul(x: [u8; 16], h: [u8; 16]) -> [u8; 16] {
    let poly = |b: [u8; 16]| u128::from_be_bytes(b).reverse_bits();
    let [mut lo, mut hi] = clmul128(poly(x), poly(h));
    for i in (0..128).rev() {
        if hi >> i & 1 != 0 {
            hi ^= 1 << i;
            // x^(128+i) = x^i * (x^7 + x^2 + x + 1)
            let r = 0x87u128;
            lo ^= r << i;
            if i >= 121 {
                hi ^= r >> (128 - i);
            }
        }
    }
    lo.reverse_bits().to_be_bytes()
}

fn block(s: &str) -> [u8; 16] {
    std::array::from_fn(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
}

#[test]
fn ghash_of_gcm_test_case_2_from_pmull_products() {
    // The GCM specification's test case 2: K = 0, P = 0^128, IV = 0^96.
    let h = block("66e94bd4ef8a2c3b884cfa59ca342b2e");
    let c = block("0388dace60b6a392f328c2b971b2fe78");
    let x1 = gf128_mul(c, h);
    let mut lens = [0u8; 16];
    lens[15] = 128; // len(A) = 0, len(C) = 128 bits
    let x2 = gf128_mul(std::array::from_fn(|i| x1[i] ^ lens[i]), h);
    assert_eq!(x2, block("f38cbb1ad69223dcc3457ae5b6b0f885"));
}

// ---- features ----------------------------------------------------------------------------------

fn no_crypto(c: &mut Aarch64Cpu) {
    c.features = Features { aes: false, sha1: false, sha256: false, ..c.features };
}

#[test]
fn crypto_instructions_are_undefined_without_their_features() {
    for word in [
        enc::aese(0, 1),
        enc::aesimc(0, 1),
        enc::sha1c(0, 1, 2),
        enc::sha1h(0, 1),
        enc::sha256h2(0, 1, 2),
        enc::sha256su0(0, 1),
        pmull(1, 0, 1, 2),
    ] {
        let f = Snippet::of(&[word]).setup(no_crypto).v(0, 0x1234).run();
        assert_eq!(f.taken, Some((Fault::Undefined { raw: word }, CODE)), "{word:#x}");
        assert_eq!(f.v(0), 0x1234);
    }
}

#[test]
fn sha1_and_sha256_are_separate_features() {
    let f = Snippet::of(&[enc::sha1h(1, 0), enc::sha256su0(2, 0)]).setup(|c| c.features.sha1 = false).run();
    assert_eq!(f.taken, Some((Fault::Undefined { raw: enc::sha1h(1, 0) }, CODE)));
    let f = Snippet::of(&[enc::sha256su0(2, 0)]).setup(|c| c.features.sha1 = false).ok();
    assert_eq!(f.v(2), 0);
}

#[test]
fn pmull_of_bytes_needs_no_feature() {
    let f = Snippet::of(&[enc::simd_3diff(0, 0, 0, 0b1110, 1, 0, 2)]).setup(no_crypto).v(0, 3).v(1, 3).ok();
    assert_eq!(f.v(2), 5);
}
