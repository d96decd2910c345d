//! SBFM and UBFM against a model of the Arm ARM's bitfield extract/insert-in-zero written
//! directly from the operation (not from sem.rs's rotate-and-mask formulation), for every
//! shift and extend alias and a spread of other fields, at both widths, on every tier.

mod common;

use common::*;
use mimic_arch_aarch64::decode::enc;

const SOURCES: [u64; 3] = [0x8123_4567_89ab_cdef, 0x7edc_ba98_f654_3210, 0xffff_ffff_0000_8080];

fn mask(n: u64) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1 << n) - 1
    }
}

fn sign_extend(v: u64, from: u64) -> u64 {
    let sh = 64 - from;
    (((v << sh) as i64) >> sh) as u64
}

/// SBFM (`signed`) or UBFM of `src` with `immr`, `imms` at `width` bits: a field of bits
/// imms:immr moved to the bottom when imms >= immr, else the low imms+1 bits moved up to
/// width - immr; zero- or sign-extended above the field; W results zero-extended.
fn model(width: u64, signed: bool, immr: u64, imms: u64, src: u64) -> u64 {
    let src = src & mask(width);
    let (field, len, at) = if imms >= immr {
        (src >> immr & mask(imms - immr + 1), imms - immr + 1, 0)
    } else {
        (src & mask(imms + 1), imms + 1, width - immr)
    };
    let v = if signed { sign_extend(field, len) } else { field };
    (v << at) & mask(width)
}

/// The (immr, imms) pairs tested at `width`: every shift and extend alias, then bitfield moves.
fn fields(width: u64) -> Vec<(u64, u64)> {
    let mut f: Vec<(u64, u64)> = (0..width).map(|r| (r, width - 1)).collect(); // ASR, LSR
    f.extend((1..width).map(|sh| (width - sh, width - 1 - sh))); // LSL
    f.extend([7, 15, 31].into_iter().filter(|&s| s < width).map(|s| (0, s))); // SXTB/H/W, UXTB/H
    f.extend([(3, 9), (9, 3), (1, 0), (0, 0), (width - 1, 0), (5, width - 2)]);
    f
}

#[test]
fn sbfm_and_ubfm_match_the_bitfield_model_on_every_tier() {
    for wide in [false, true] {
        let width = if wide { 64 } else { 32 };
        for (immr, imms) in fields(width) {
            for signed in [false, true] {
                let (r, s) = (immr as u32, imms as u32);
                let insn = match (wide, signed) {
                    (true, true) => enc::sbfm(3, 1, r, s),
                    (true, false) => enc::ubfm(3, 1, r, s),
                    (false, true) => enc::sbfm_w(3, 1, r, s),
                    (false, false) => enc::ubfm_w(3, 1, r, s),
                };
                for src in SOURCES {
                    let want = model(width, signed, immr, imms, src);
                    assert_eq!(
                        r1(insn, src),
                        want,
                        "{}bfm width {width} immr {immr} imms {imms} of {src:#x}",
                        if signed { "s" } else { "u" }
                    );
                }
            }
        }
    }
}
