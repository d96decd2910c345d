//! The SIMD&FP decode tables (`decode/fp.decode`, `decode/simd.decode`): every pattern round-trips
//! through its encoder, and words as binutils assembles them decode to the right class.

use mimic_arch_aarch64::decode::{decode32, enc, Insn};

macro_rules! rt {
    ($f:ident($($a:expr),*) => $v:ident { $($field:ident : $val:expr),* }) => {{
        let word = enc::$f($($a),*);
        match decode32(word) {
            Some(Insn::$v(a)) => {
                $(assert_eq!(a.$field, $val, "{}: operand {}", stringify!($f), stringify!($field));)*
            }
            other => panic!("{} ({word:#010x}) decoded as {other:?}", stringify!($f)),
        }
    }};
}

#[test]
fn every_fp_simd_pattern_round_trips_through_its_encoder() {
    rt!(vldst_uimm(0, 3, 4, 5, 0xabc) => VldstUimm { size: 0, opc: 3, rt: 4, rn: 5, imm: 0xabc });
    rt!(vldst_unscaled(3, 1, 4, 5, -256) => VldstUnscaled { size: 3, opc: 1, rt: 4, rn: 5, imm: -256 });
    rt!(vldst_post(2, 0, 4, 5, 255) => VldstPost { size: 2, opc: 0, rt: 4, rn: 5, imm: 255 });
    rt!(vldst_pre(0, 2, 4, 31, -16) => VldstPre { size: 0, opc: 2, rt: 4, rn: 31, imm: -16 });
    rt!(vldst_reg(3, 1, 4, 5, 6, 3, 1) => VldstReg { size: 3, opc: 1, rt: 4, rn: 5, rm: 6, ext: 3, s: 1 });
    rt!(vldr_lit(2, 7, -0x100000) => VldrLit { opc: 2, rt: 7, imm: -0x100000 });
    rt!(vldstp_nt(2, 1, 1, 2, 3, -64) => VldstpNt { opc: 2, l: 1, rt: 1, rt2: 2, rn: 3, imm: -64 });
    rt!(vldstp_post(1, 0, 1, 2, 3, 63) => VldstpPost { opc: 1, l: 0, rt: 1, rt2: 2, rn: 3, imm: 63 });
    rt!(vldstp_off(0, 1, 1, 2, 3, 5) => VldstpOff { opc: 0, l: 1, rt: 1, rt2: 2, rn: 3, imm: 5 });
    rt!(vldstp_pre(2, 0, 1, 2, 31, -2) => VldstpPre { opc: 2, l: 0, rt: 1, rt2: 2, rn: 31, imm: -2 });
    rt!(vldst_multi(1, 1, 0b0010, 3, 9, 30) => VldstMulti { q: 1, l: 1, opcode: 0b0010, size: 3, rn: 9, rt: 30, rm: 0, post: 0 });
    rt!(vldst_multi_post(0, 0, 0b0111, 1, 9, 31, 2) => VldstMultiPost { q: 0, l: 0, opcode: 0b0111, size: 1, rn: 9, rm: 31, rt: 2, post: 1 });
    rt!(vldst_single(1, 1, 0, 0b110, 0, 2, 3, 4) => VldstSingle { q: 1, l: 1, r: 0, opcode: 0b110, s: 0, size: 2, rn: 3, rt: 4, post: 0 });
    rt!(vldst_single_post(0, 0, 1, 0b100, 1, 0, 3, 7, 4) => VldstSinglePost { q: 0, l: 0, r: 1, opcode: 0b100, s: 1, size: 0, rn: 3, rm: 7, rt: 4, post: 1 });
    rt!(simd_3same(1, 1, 2, 0b10001, 3, 4, 5) => Simd3same { q: 1, u: 1, size: 2, op: 0b10001, rm: 3, rn: 4, rd: 5 });
    rt!(simd_3diff(1, 0, 1, 0b0100, 3, 4, 5) => Simd3diff { q: 1, u: 0, size: 1, op: 0b0100, rm: 3, rn: 4, rd: 5 });
    rt!(simd_2misc(0, 1, 0, 0b00101, 4, 5) => Simd2misc { q: 0, u: 1, size: 0, op: 0b00101, rn: 4, rd: 5 });
    rt!(simd_across(1, 1, 0, 0b01010, 4, 5) => SimdAcross { q: 1, u: 1, size: 0, op: 0b01010, rn: 4, rd: 5 });
    rt!(simd_copy(1, 1, 0b00110, 0b0101, 4, 5) => SimdCopy { q: 1, op: 1, imm5: 0b00110, imm4: 0b0101, rn: 4, rd: 5 });
    rt!(simd_modimm(1, 0, 5, 0b1110, 0x1f, 9) => SimdModimm { q: 1, op: 0, abc: 5, cmode: 0b1110, defgh: 0x1f, rd: 9 });
    rt!(simd_shift(1, 1, 0b0001, 5, 0b00000, 4, 5) => SimdShift { q: 1, u: 1, immh: 1, immb: 5, op: 0, rn: 4, rd: 5 });
    rt!(simd_ext(1, 3, 15, 4, 5) => SimdExt { q: 1, rm: 3, imm4: 15, rn: 4, rd: 5 });
    rt!(simd_perm(1, 2, 0b011, 3, 4, 5) => SimdPerm { q: 1, size: 2, op: 0b011, rm: 3, rn: 4, rd: 5 });
    rt!(simd_tbl(1, 3, 3, 1, 4, 5) => SimdTbl { q: 1, rm: 3, len: 3, tbx: 1, rn: 4, rd: 5 });
    rt!(simd_s3same(1, 3, 0b10001, 3, 4, 5) => SimdS3same { q: 1, u: 1, size: 3, op: 0b10001, rm: 3, rn: 4, rd: 5 });
    rt!(simd_s2misc(1, 3, 0b01000, 4, 5) => SimdS2misc { q: 1, u: 1, size: 3, op: 0b01000, rn: 4, rd: 5 });
    rt!(simd_spair(0, 3, 0b11011, 4, 5) => SimdSpair { q: 1, u: 0, size: 3, op: 0b11011, rn: 4, rd: 5 });
    rt!(simd_sshift(1, 0b1000, 3, 0, 4, 5) => SimdSshift { q: 1, u: 1, immh: 8, immb: 3, op: 0, rn: 4, rd: 5 });
    rt!(simd_scopy(0b11000, 4, 5) => SimdScopy { q: 1, op: 0, imm5: 0b11000, imm4: 0, rn: 4, rd: 5 });
    rt!(simd_elem(1, 1, 2, 1, 1, 9, 0b1000, 1, 4, 5) => SimdElem { q: 1, u: 1, size: 2, l: 1, m: 1, rm: 9, op: 0b1000, h: 1, rn: 4, rd: 5 });
    rt!(simd_selem(0, 3, 0, 1, 9, 0b1001, 1, 4, 5) => SimdSelem { q: 1, u: 0, size: 3, l: 0, m: 1, rm: 9, op: 0b1001, h: 1, rn: 4, rd: 5 });
    rt!(fp_imm(1, 0x70, 3) => FpImm { ftype: 1, imm: 0x70, rd: 3 });
    rt!(fp_1src(0, 0b000101, 4, 5) => Fp1src { ftype: 0, op: 0b000101, rn: 4, rd: 5 });
    rt!(fp_2src(1, 8, 3, 4, 5) => Fp2src { ftype: 1, op: 8, rm: 3, rn: 4, rd: 5 });
    rt!(fp_3src(1, 1, 1, 3, 6, 4, 5) => Fp3src { ftype: 1, o1: 1, o0: 1, rm: 3, ra: 6, rn: 4, rd: 5 });
    rt!(fp_cmp(1, 3, 4, 0b11000) => FpCmp { ftype: 1, rm: 3, rn: 4, op: 0b11000 });
    rt!(fp_ccmp(0, 3, 11, 4, 1, 0b1010) => FpCcmp { ftype: 0, rm: 3, cond: 11, rn: 4, op: 1, nzcv: 0b1010 });
    rt!(fp_csel(1, 3, 12, 4, 5) => FpCsel { ftype: 1, rm: 3, cond: 12, rn: 4, rd: 5 });
    rt!(fp_int(1, 2, 1, 7, 4, 5) => FpInt { sf: 1, ftype: 2, rmode: 1, opcode: 7, rn: 4, rd: 5, scale: 0 });
    rt!(fp_fixed(0, 1, 3, 0, 40, 4, 5) => FpFixed { sf: 0, ftype: 1, rmode: 3, opcode: 0, scale: 40, rn: 4, rd: 5 });
}

fn name(word: u32) -> String {
    decode32(word).map(|i| i.name()).unwrap_or("-").to_string()
}

#[test]
fn binutils_words_decode_to_their_class() {
    // (word, what `aarch64-linux-gnu-objdump -d` prints, class)
    let cases: &[(u32, &str, &str)] = &[
        (0xad0007e0, "stp q0, q1, [sp]", "vldstp_off"),
        (0x3dc00420, "ldr q0, [x1, #16]", "vldst_uimm"),
        (0x3c9f0020, "stur q0, [x1, #-16]", "vldst_unscaled"),
        (0x4c407020, "ld1 {v0.16b}, [x1]", "vldst_multi"),
        (0x9e660000, "fmov x0, d0", "fp_int"),
        (0x4f000400, "movi v0.4s, #0x0", "simd_modimm"),
        (0x6e208c00, "cmeq v0.16b, v0.16b, v0.16b", "simd_3same"),
        (0x4e209800, "cmeq v0.16b, v0.16b, #0", "simd_2misc"),
        (0x0f0c8400, "shrn v0.8b, v0.8h, #4", "simd_shift"),
        (0x6e30a800, "umaxv b0, v0.16b", "simd_across"),
        (0x4e010c00, "dup v0.16b, w0", "simd_copy"),
        (0x1e602000, "fcmp d0, d0", "fp_cmp"),
        (0x1e620800, "fmul d0, d0, d2", "fp_2src"),
        (0x1e780000, "fcvtzs w0, d0", "fp_int"),
        (0x1f400000, "fmadd d0, d0, d0, d0", "fp_3src"),
        (0x1e6e1000, "fmov d0, #1.0", "fp_imm"),
        (0x1e600c00, "fcsel d0, d0, d0, eq", "fp_csel"),
        (0x5ee08800, "cmgt d0, d0, #0", "simd_s2misc"),
        (0x6e004000, "ext v0.16b, v0.16b, v0.16b, #8", "simd_ext"),
        (0x0ea00000, "saddl v0.2d, v0.2s, v0.2s", "simd_3diff"),
    ];
    for &(w, text, class) in cases {
        assert_eq!(name(w).replace('.', "_"), class, "{w:#010x} ({text})");
    }
}

#[test]
fn reserved_fp_simd_encodings_decode_to_none() {
    // The SIMD modified-immediate space with o2 set (FP16 FMOV) is not a modified immediate.
    assert_ne!(name(0x0f00fc00), "simd.modimm");
    // Unscaled SIMD&FP access in the unprivileged slot (bits 11:10 = 10) is unallocated.
    assert_eq!(decode32(0x3c000800), None);
}
