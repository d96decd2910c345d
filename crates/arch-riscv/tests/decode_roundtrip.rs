//! Decode-table tests for `mimic_arch_riscv::decode`:
//! - known words from GNU as 2.40 decode to hand-written `Insn`s, and our encoders reproduce them;
//! - every 32-bit and 16-bit encoder round-trips random legal operands through the decoder;
//! - the `Visitor` trait has exactly the contracted methods (this file's impl would not compile
//!   otherwise) and every method is reached from some encoder's output;
//! - reserved and unknown encodings decode to `None`.
//!
//! Random operands come from a seeded SplitMix64 generator, so failures are reproducible.

use std::collections::HashSet;

use mimic_arch_riscv::decode::*;
use mimic_arch_riscv::RvInsn;

// ---- deterministic random operands -------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`, with the endpoints picked one time in eight each.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        match self.next() % 8 {
            0 => lo,
            1 => hi,
            _ => lo + (self.next() % ((hi - lo + 1) as u64)) as i64,
        }
    }

    fn u(&mut self, lo: u32, hi: u32) -> u32 {
        self.range(i64::from(lo), i64::from(hi)) as u32
    }

    fn reg(&mut self) -> u32 {
        self.u(0, 31)
    }

    /// A register encodable in the 3-bit compressed fields: x8..x15.
    fn regc(&mut self) -> u32 {
        self.u(8, 15)
    }

    /// A multiple of `scale` in `lo..=hi` (both multiples of `scale`), optionally non-zero.
    fn scaled(&mut self, lo: i64, hi: i64, scale: i64, nonzero: bool) -> i64 {
        loop {
            let v = self.range(lo / scale, hi / scale) * scale;
            if !nonzero || v != 0 {
                return v;
            }
        }
    }
}

// ---- the Visitor contract --------------------------------------------------------------------------

/// Answers the name of the visitor method that was called.
struct NameOf;

macro_rules! name_visitor {
    ($($name:ident: $args:ty),* $(,)?) => {
        impl Visitor for NameOf {
            type Output = &'static str;
            $(fn $name(&mut self, _: &$args) -> &'static str { stringify!($name) })*
        }
        const VISITOR_METHODS: &[&str] = &[$(stringify!($name)),*];
    };
}

name_visitor! {
    lui: ArgsU, auipc: ArgsU, jal: ArgsJ, jalr: ArgsI,
    beq: ArgsB, bne: ArgsB, blt: ArgsB, bge: ArgsB, bltu: ArgsB, bgeu: ArgsB,
    lb: ArgsI, lh: ArgsI, lw: ArgsI, ld: ArgsI, lbu: ArgsI, lhu: ArgsI, lwu: ArgsI,
    sb: ArgsS, sh: ArgsS, sw: ArgsS, sd: ArgsS,
    addi: ArgsI, slti: ArgsI, sltiu: ArgsI, xori: ArgsI, ori: ArgsI, andi: ArgsI,
    slli: ArgsShift, srli: ArgsShift, srai: ArgsShift,
    addiw: ArgsI, slliw: ArgsShift, srliw: ArgsShift, sraiw: ArgsShift,
    add: ArgsR, sub: ArgsR, sll: ArgsR, slt: ArgsR, sltu: ArgsR, xor: ArgsR, srl: ArgsR, sra: ArgsR,
    or: ArgsR, and: ArgsR, addw: ArgsR, subw: ArgsR, sllw: ArgsR, srlw: ArgsR, sraw: ArgsR,
    fence: ArgsFence, fence_i: ArgsEmpty, ecall: ArgsEmpty, ebreak: ArgsEmpty,
    csrrw: ArgsCsr, csrrs: ArgsCsr, csrrc: ArgsCsr, csrrwi: ArgsCsr, csrrsi: ArgsCsr, csrrci: ArgsCsr,
    mret: ArgsEmpty, sret: ArgsEmpty, wfi: ArgsEmpty, sfence_vma: ArgsSfence,
    mul: ArgsR, mulh: ArgsR, mulhsu: ArgsR, mulhu: ArgsR, div: ArgsR, divu: ArgsR, rem: ArgsR, remu: ArgsR,
    mulw: ArgsR, divw: ArgsR, divuw: ArgsR, remw: ArgsR, remuw: ArgsR,
    lr_w: ArgsAtomic, sc_w: ArgsAtomic, amoswap_w: ArgsAtomic, amoadd_w: ArgsAtomic, amoxor_w: ArgsAtomic,
    amoand_w: ArgsAtomic, amoor_w: ArgsAtomic, amomin_w: ArgsAtomic, amomax_w: ArgsAtomic,
    amominu_w: ArgsAtomic, amomaxu_w: ArgsAtomic,
    lr_d: ArgsAtomic, sc_d: ArgsAtomic, amoswap_d: ArgsAtomic, amoadd_d: ArgsAtomic, amoxor_d: ArgsAtomic,
    amoand_d: ArgsAtomic, amoor_d: ArgsAtomic, amomin_d: ArgsAtomic, amomax_d: ArgsAtomic,
    amominu_d: ArgsAtomic, amomaxu_d: ArgsAtomic,
    flw: ArgsI, fsw: ArgsS,
    fmadd_s: ArgsR4Rm, fmsub_s: ArgsR4Rm, fnmsub_s: ArgsR4Rm, fnmadd_s: ArgsR4Rm,
    fadd_s: ArgsRRm, fsub_s: ArgsRRm, fmul_s: ArgsRRm, fdiv_s: ArgsRRm, fsqrt_s: ArgsR2Rm,
    fsgnj_s: ArgsR, fsgnjn_s: ArgsR, fsgnjx_s: ArgsR, fmin_s: ArgsR, fmax_s: ArgsR,
    fcvt_w_s: ArgsR2Rm, fcvt_wu_s: ArgsR2Rm, fmv_x_w: ArgsR2, feq_s: ArgsR, flt_s: ArgsR, fle_s: ArgsR,
    fclass_s: ArgsR2, fcvt_s_w: ArgsR2Rm, fcvt_s_wu: ArgsR2Rm, fmv_w_x: ArgsR2,
    fcvt_l_s: ArgsR2Rm, fcvt_lu_s: ArgsR2Rm, fcvt_s_l: ArgsR2Rm, fcvt_s_lu: ArgsR2Rm,
    fld: ArgsI, fsd: ArgsS,
    fmadd_d: ArgsR4Rm, fmsub_d: ArgsR4Rm, fnmsub_d: ArgsR4Rm, fnmadd_d: ArgsR4Rm,
    fadd_d: ArgsRRm, fsub_d: ArgsRRm, fmul_d: ArgsRRm, fdiv_d: ArgsRRm, fsqrt_d: ArgsR2Rm,
    fsgnj_d: ArgsR, fsgnjn_d: ArgsR, fsgnjx_d: ArgsR, fmin_d: ArgsR, fmax_d: ArgsR,
    fcvt_s_d: ArgsR2Rm, fcvt_d_s: ArgsR2Rm, feq_d: ArgsR, flt_d: ArgsR, fle_d: ArgsR, fclass_d: ArgsR2,
    fcvt_w_d: ArgsR2Rm, fcvt_wu_d: ArgsR2Rm, fcvt_d_w: ArgsR2Rm, fcvt_d_wu: ArgsR2Rm,
    fcvt_l_d: ArgsR2Rm, fcvt_lu_d: ArgsR2Rm, fmv_x_d: ArgsR2, fcvt_d_l: ArgsR2Rm, fcvt_d_lu: ArgsR2Rm,
    fmv_d_x: ArgsR2,
    add_uw: ArgsR, sh1add: ArgsR, sh2add: ArgsR, sh3add: ArgsR,
    sh1add_uw: ArgsR, sh2add_uw: ArgsR, sh3add_uw: ArgsR, slli_uw: ArgsShift,
    andn: ArgsR, orn: ArgsR, xnor: ArgsR, clz: ArgsR2, clzw: ArgsR2, ctz: ArgsR2, ctzw: ArgsR2,
    cpop: ArgsR2, cpopw: ArgsR2, max: ArgsR, maxu: ArgsR, min: ArgsR, minu: ArgsR,
    sext_b: ArgsR2, sext_h: ArgsR2, zext_h: ArgsR2, rol: ArgsR, rolw: ArgsR, ror: ArgsR,
    rori: ArgsShift, roriw: ArgsShift, rorw: ArgsR, orc_b: ArgsR2, rev8: ArgsR2,
    bclr: ArgsR, bclri: ArgsShift, bext: ArgsR, bexti: ArgsShift, binv: ArgsR, binvi: ArgsShift,
    bset: ArgsR, bseti: ArgsShift,
    czero_eqz: ArgsR, czero_nez: ArgsR,
}

// ---- 32-bit round trip -------------------------------------------------------------------------------

struct Rt32<'a> {
    rng: &'a mut Rng,
    n: usize,
    reached: HashSet<&'static str>,
}

impl Rt32<'_> {
    fn check(&mut self, word: u32, expected: Insn, name: &'static str) {
        assert_eq!(decode32(word), Some(expected), "{name}: word {word:#010x}");
        assert_eq!(expected.visit(&mut NameOf), name, "{name}: wrong visitor method");
        // The block cache's form: the word and its pattern number give the instruction back.
        let packed = RvInsn::decode(word, 4);
        assert_eq!(packed.op(), Some(expected), "{name}: packed {word:#010x}");
        assert_eq!(packed.insn.visit(&mut NameOf), Some(name), "{name}: packed visitor method");
        assert_eq!(expected.name().replace('.', "_"), name, "{name}: wrong mnemonic");
        self.reached.insert(name);
    }
    fn r(&mut self, e: fn(u32, u32, u32) -> u32, v: fn(ArgsR) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rd, rs1, rs2) = (self.rng.reg(), self.rng.reg(), self.rng.reg());
            self.check(e(rd, rs1, rs2), v(ArgsR { rd, rs1, rs2 }), name);
        }
    }
    fn i(&mut self, e: fn(u32, u32, i64) -> u32, v: fn(ArgsI) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rd, rs1, imm) = (self.rng.reg(), self.rng.reg(), self.rng.range(-2048, 2047));
            self.check(e(rd, rs1, imm), v(ArgsI { rd, rs1, imm }), name);
        }
    }
    fn shift6(&mut self, e: fn(u32, u32, u32) -> u32, v: fn(ArgsShift) -> Insn, name: &'static str) {
        self.shift(6, e, v, name);
    }
    fn shift5(&mut self, e: fn(u32, u32, u32) -> u32, v: fn(ArgsShift) -> Insn, name: &'static str) {
        self.shift(5, e, v, name);
    }
    fn shift(&mut self, bits: u32, e: fn(u32, u32, u32) -> u32, v: fn(ArgsShift) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rd, rs1, shamt) = (self.rng.reg(), self.rng.reg(), self.rng.u(0, (1 << bits) - 1));
            self.check(e(rd, rs1, shamt), v(ArgsShift { rd, rs1, shamt }), name);
        }
    }
    fn s(&mut self, e: fn(u32, u32, i64) -> u32, v: fn(ArgsS) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rs1, rs2, imm) = (self.rng.reg(), self.rng.reg(), self.rng.range(-2048, 2047));
            self.check(e(rs1, rs2, imm), v(ArgsS { rs1, rs2, imm }), name);
        }
    }
    fn b(&mut self, e: fn(u32, u32, i64) -> u32, v: fn(ArgsB) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rs1, rs2, imm) = (self.rng.reg(), self.rng.reg(), self.rng.scaled(-4096, 4094, 2, false));
            self.check(e(rs1, rs2, imm), v(ArgsB { rs1, rs2, imm }), name);
        }
    }
    fn u(&mut self, e: fn(u32, i64) -> u32, v: fn(ArgsU) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rd, imm) = (self.rng.reg(), self.rng.range(-(1 << 19), (1 << 19) - 1) << 12);
            self.check(e(rd, imm), v(ArgsU { rd, imm }), name);
        }
    }
    fn j(&mut self, e: fn(u32, i64) -> u32, v: fn(ArgsJ) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rd, imm) = (self.rng.reg(), self.rng.scaled(-(1 << 20), (1 << 20) - 2, 2, false));
            self.check(e(rd, imm), v(ArgsJ { rd, imm }), name);
        }
    }
    fn amo(&mut self, e: fn(u32, u32, u32, u32, u32) -> u32, v: fn(ArgsAtomic) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rd, rs1, rs2) = (self.rng.reg(), self.rng.reg(), self.rng.reg());
            let (aq, rl) = (self.rng.u(0, 1), self.rng.u(0, 1));
            self.check(e(rd, rs1, rs2, aq, rl), v(ArgsAtomic { rd, rs1, rs2, aq, rl }), name);
        }
    }
    fn lr(&mut self, e: fn(u32, u32, u32, u32) -> u32, v: fn(ArgsAtomic) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rd, rs1, aq, rl) = (self.rng.reg(), self.rng.reg(), self.rng.u(0, 1), self.rng.u(0, 1));
            self.check(e(rd, rs1, aq, rl), v(ArgsAtomic { rd, rs1, rs2: 0, aq, rl }), name);
        }
    }
    fn r_rm(&mut self, e: fn(u32, u32, u32, u32) -> u32, v: fn(ArgsRRm) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rd, rs1, rs2, rm) = (self.rng.reg(), self.rng.reg(), self.rng.reg(), self.rng.u(0, 7));
            self.check(e(rd, rs1, rs2, rm), v(ArgsRRm { rd, rs1, rs2, rm }), name);
        }
    }
    fn r4_rm(&mut self, e: fn(u32, u32, u32, u32, u32) -> u32, v: fn(ArgsR4Rm) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rd, rs1, rs2, rs3) = (self.rng.reg(), self.rng.reg(), self.rng.reg(), self.rng.reg());
            let rm = self.rng.u(0, 7);
            self.check(e(rd, rs1, rs2, rs3, rm), v(ArgsR4Rm { rd, rs1, rs2, rs3, rm }), name);
        }
    }
    fn r2_rm(&mut self, e: fn(u32, u32, u32) -> u32, v: fn(ArgsR2Rm) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rd, rs1, rm) = (self.rng.reg(), self.rng.reg(), self.rng.u(0, 7));
            self.check(e(rd, rs1, rm), v(ArgsR2Rm { rd, rs1, rm }), name);
        }
    }
    fn r2(&mut self, e: fn(u32, u32) -> u32, v: fn(ArgsR2) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rd, rs1) = (self.rng.reg(), self.rng.reg());
            self.check(e(rd, rs1), v(ArgsR2 { rd, rs1 }), name);
        }
    }
    fn csr(&mut self, e: fn(u32, u32, u32) -> u32, v: fn(ArgsCsr) -> Insn, name: &'static str) {
        for _ in 0..self.n {
            let (rd, rs1, csr) = (self.rng.reg(), self.rng.reg(), self.rng.u(0, 0xfff));
            self.check(e(rd, rs1, csr), v(ArgsCsr { rd, rs1, csr }), name);
        }
    }
    fn empty(&mut self, e: fn() -> u32, v: fn(ArgsEmpty) -> Insn, name: &'static str) {
        self.check(e(), v(ArgsEmpty {}), name);
    }
}

macro_rules! each {
    ($rt:ident . $shape:ident : $($name:ident => $V:ident),* $(,)?) => {
        $( $rt.$shape(enc::$name, Insn::$V, stringify!($name)); )*
    };
}

/// Runs every 32-bit encoder `n` times with random legal operands; returns the names reached.
fn roundtrip32(seed: u64, n: usize) -> HashSet<&'static str> {
    let mut rng = Rng(seed);
    let mut rt = Rt32 { rng: &mut rng, n, reached: HashSet::new() };
    each!(rt.r: add => Add, sub => Sub, sll => Sll, slt => Slt, sltu => Sltu, xor => Xor, srl => Srl,
        sra => Sra, or => Or, and => And, addw => Addw, subw => Subw, sllw => Sllw, srlw => Srlw, sraw => Sraw,
        mul => Mul, mulh => Mulh, mulhsu => Mulhsu, mulhu => Mulhu, div => Div, divu => Divu, rem => Rem,
        remu => Remu, mulw => Mulw, divw => Divw, divuw => Divuw, remw => Remw, remuw => Remuw,
        fsgnj_s => FsgnjS, fsgnjn_s => FsgnjnS, fsgnjx_s => FsgnjxS, fmin_s => FminS, fmax_s => FmaxS,
        feq_s => FeqS, flt_s => FltS, fle_s => FleS, fsgnj_d => FsgnjD, fsgnjn_d => FsgnjnD,
        fsgnjx_d => FsgnjxD, fmin_d => FminD, fmax_d => FmaxD, feq_d => FeqD, flt_d => FltD, fle_d => FleD,
        add_uw => AddUw, sh1add => Sh1add, sh2add => Sh2add, sh3add => Sh3add, sh1add_uw => Sh1addUw,
        sh2add_uw => Sh2addUw, sh3add_uw => Sh3addUw, andn => Andn, orn => Orn, xnor => Xnor, max => Max,
        maxu => Maxu, min => Min, minu => Minu, rol => Rol, rolw => Rolw, ror => Ror, rorw => Rorw,
        bclr => Bclr, bext => Bext, binv => Binv, bset => Bset, czero_eqz => CzeroEqz, czero_nez => CzeroNez);
    each!(rt.i: jalr => Jalr, lb => Lb, lh => Lh, lw => Lw, ld => Ld, lbu => Lbu, lhu => Lhu, lwu => Lwu,
        addi => Addi, slti => Slti, sltiu => Sltiu, xori => Xori, ori => Ori, andi => Andi, addiw => Addiw,
        flw => Flw, fld => Fld);
    each!(rt.shift6: slli => Slli, srli => Srli, srai => Srai, slli_uw => SlliUw, rori => Rori,
        bclri => Bclri, bexti => Bexti, binvi => Binvi, bseti => Bseti);
    each!(rt.shift5: slliw => Slliw, srliw => Srliw, sraiw => Sraiw, roriw => Roriw);
    each!(rt.s: sb => Sb, sh => Sh, sw => Sw, sd => Sd, fsw => Fsw, fsd => Fsd);
    each!(rt.b: beq => Beq, bne => Bne, blt => Blt, bge => Bge, bltu => Bltu, bgeu => Bgeu);
    each!(rt.u: lui => Lui, auipc => Auipc);
    each!(rt.j: jal => Jal);
    each!(rt.amo: sc_w => ScW, amoswap_w => AmoswapW, amoadd_w => AmoaddW, amoxor_w => AmoxorW,
        amoand_w => AmoandW, amoor_w => AmoorW, amomin_w => AmominW, amomax_w => AmomaxW,
        amominu_w => AmominuW, amomaxu_w => AmomaxuW, sc_d => ScD, amoswap_d => AmoswapD,
        amoadd_d => AmoaddD, amoxor_d => AmoxorD, amoand_d => AmoandD, amoor_d => AmoorD,
        amomin_d => AmominD, amomax_d => AmomaxD, amominu_d => AmominuD, amomaxu_d => AmomaxuD);
    each!(rt.lr: lr_w => LrW, lr_d => LrD);
    each!(rt.r_rm: fadd_s => FaddS, fsub_s => FsubS, fmul_s => FmulS, fdiv_s => FdivS,
        fadd_d => FaddD, fsub_d => FsubD, fmul_d => FmulD, fdiv_d => FdivD);
    each!(rt.r4_rm: fmadd_s => FmaddS, fmsub_s => FmsubS, fnmsub_s => FnmsubS, fnmadd_s => FnmaddS,
        fmadd_d => FmaddD, fmsub_d => FmsubD, fnmsub_d => FnmsubD, fnmadd_d => FnmaddD);
    each!(rt.r2_rm: fsqrt_s => FsqrtS, fcvt_w_s => FcvtWS, fcvt_wu_s => FcvtWuS, fcvt_l_s => FcvtLS,
        fcvt_lu_s => FcvtLuS, fcvt_s_w => FcvtSW, fcvt_s_wu => FcvtSWu, fcvt_s_l => FcvtSL,
        fcvt_s_lu => FcvtSLu, fsqrt_d => FsqrtD, fcvt_w_d => FcvtWD, fcvt_wu_d => FcvtWuD,
        fcvt_l_d => FcvtLD, fcvt_lu_d => FcvtLuD, fcvt_d_w => FcvtDW, fcvt_d_wu => FcvtDWu,
        fcvt_d_l => FcvtDL, fcvt_d_lu => FcvtDLu, fcvt_s_d => FcvtSD, fcvt_d_s => FcvtDS);
    each!(rt.r2: fmv_x_w => FmvXW, fclass_s => FclassS, fmv_w_x => FmvWX, fmv_x_d => FmvXD,
        fclass_d => FclassD, fmv_d_x => FmvDX, clz => Clz, clzw => Clzw, ctz => Ctz, ctzw => Ctzw,
        cpop => Cpop, cpopw => Cpopw, sext_b => SextB, sext_h => SextH, zext_h => ZextH, orc_b => OrcB,
        rev8 => Rev8);
    each!(rt.csr: csrrw => Csrrw, csrrs => Csrrs, csrrc => Csrrc, csrrwi => Csrrwi, csrrsi => Csrrsi,
        csrrci => Csrrci);
    each!(rt.empty: fence_i => FenceI, ecall => Ecall, ebreak => Ebreak, mret => Mret, sret => Sret,
        wfi => Wfi);
    for _ in 0..n {
        let (pred, succ, fm) = (rt.rng.u(0, 15), rt.rng.u(0, 15), rt.rng.u(0, 15));
        rt.check(enc::fence(pred, succ, fm), Insn::Fence(ArgsFence { pred, succ, fm }), "fence");
        let (rs1, rs2) = (rt.rng.reg(), rt.rng.reg());
        rt.check(enc::sfence_vma(rs1, rs2), Insn::SfenceVma(ArgsSfence { rs1, rs2 }), "sfence_vma");
    }
    rt.reached
}

#[test]
fn roundtrip32_random_operands_decode_to_same_insn() {
    let reached = roundtrip32(0x5eed_0001, 300);
    assert_eq!(reached.len(), INSN_NAMES.len(), "some instructions have no round-trip case");
}

#[test]
fn visitor_every_method_reached_from_an_encoder() {
    assert_eq!(VISITOR_METHODS.len(), INSN_NAMES.len());
    let reached = roundtrip32(7, 1);
    for m in VISITOR_METHODS {
        assert!(reached.contains(m), "visitor method `{m}` is not reachable from any encoder");
    }
    let names: HashSet<String> = INSN_NAMES.iter().map(|n| n.replace('.', "_")).collect();
    for m in VISITOR_METHODS {
        assert!(names.contains(*m), "`{m}` missing from INSN_NAMES");
    }
}

// ---- 16-bit round trip ------------------------------------------------------------------------------

fn check16(half: u16, expected: Insn, what: &str) {
    assert_eq!(decode16(half), Some(expected), "{what}: halfword {half:#06x}");
    assert_eq!(RvInsn::decode(u32::from(half), 2).op(), Some(expected), "{what}: packed {half:#06x}");
}

/// The block cache keeps a word and its pattern number (`RvInsn`), not the decoded `Insn`: for
/// every halfword and for a million random words, that gives back what the decoder returns,
/// `None` (pattern 0) included.
#[test]
fn packed_instructions_unpack_to_what_the_decoder_returns() {
    for h in 0..=u16::MAX {
        if h & 3 != 3 {
            assert_eq!(RvInsn::decode(u32::from(h), 2).op(), decode16(h), "halfword {h:#06x}");
        }
    }
    let mut g = Rng(0x5eed_0bac);
    for _ in 0..1_000_000 {
        let w = g.next() as u32 | 3;
        assert_eq!(RvInsn::decode(w, 4).op(), decode32(w), "word {w:#010x}");
        assert_eq!(pattern32(w) == 0, decode32(w).is_none(), "word {w:#010x}");
    }
}

/// Every RVC pattern with random legal operands; the expected base instruction is computed here
/// from the manual's expansion rules, not from the tables.
#[test]
fn roundtrip16_random_operands_decode_to_base_insn() {
    let mut g = Rng(0x5eed_0016);
    for _ in 0..500 {
        // Quadrant 0.
        let (rd, rs1, rs2) = (g.regc(), g.regc(), g.regc());
        let imm = g.scaled(4, 1020, 4, true);
        check16(enc16::c_addi4spn(rd, imm), Insn::Addi(ArgsI { rd, rs1: 2, imm }), "c.addi4spn");
        let imm = g.scaled(0, 248, 8, false);
        check16(enc16::c_fld(rd, rs1, imm), Insn::Fld(ArgsI { rd, rs1, imm }), "c.fld");
        check16(enc16::c_ld(rd, rs1, imm), Insn::Ld(ArgsI { rd, rs1, imm }), "c.ld");
        check16(enc16::c_fsd(rs1, rs2, imm), Insn::Fsd(ArgsS { rs1, rs2, imm }), "c.fsd");
        check16(enc16::c_sd(rs1, rs2, imm), Insn::Sd(ArgsS { rs1, rs2, imm }), "c.sd");
        let imm = g.scaled(0, 124, 4, false);
        check16(enc16::c_lw(rd, rs1, imm), Insn::Lw(ArgsI { rd, rs1, imm }), "c.lw");
        check16(enc16::c_sw(rs1, rs2, imm), Insn::Sw(ArgsS { rs1, rs2, imm }), "c.sw");

        // Quadrant 1.
        let (r, r_nz, imm6) = (g.reg(), g.u(1, 31), g.range(-32, 31));
        check16(enc16::c_addi(r, imm6), Insn::Addi(ArgsI { rd: r, rs1: r, imm: imm6 }), "c.addi");
        check16(enc16::c_addiw(r_nz, imm6), Insn::Addiw(ArgsI { rd: r_nz, rs1: r_nz, imm: imm6 }), "c.addiw");
        check16(enc16::c_li(r, imm6), Insn::Addi(ArgsI { rd: r, rs1: 0, imm: imm6 }), "c.li");
        let imm = g.scaled(-512, 496, 16, true);
        check16(enc16::c_addi16sp(imm), Insn::Addi(ArgsI { rd: 2, rs1: 2, imm }), "c.addi16sp");
        let rd_lui = loop {
            let r = g.reg();
            if r != 2 {
                break r;
            }
        };
        let imm = g.scaled(-32 << 12, 31 << 12, 1 << 12, true);
        check16(enc16::c_lui(rd_lui, imm), Insn::Lui(ArgsU { rd: rd_lui, imm }), "c.lui");
        let shamt = g.u(0, 63);
        check16(enc16::c_srli(rd, shamt), Insn::Srli(ArgsShift { rd, rs1: rd, shamt }), "c.srli");
        check16(enc16::c_srai(rd, shamt), Insn::Srai(ArgsShift { rd, rs1: rd, shamt }), "c.srai");
        check16(enc16::c_andi(rd, imm6), Insn::Andi(ArgsI { rd, rs1: rd, imm: imm6 }), "c.andi");
        check16(enc16::c_sub(rd, rs2), Insn::Sub(ArgsR { rd, rs1: rd, rs2 }), "c.sub");
        check16(enc16::c_xor(rd, rs2), Insn::Xor(ArgsR { rd, rs1: rd, rs2 }), "c.xor");
        check16(enc16::c_or(rd, rs2), Insn::Or(ArgsR { rd, rs1: rd, rs2 }), "c.or");
        check16(enc16::c_and(rd, rs2), Insn::And(ArgsR { rd, rs1: rd, rs2 }), "c.and");
        check16(enc16::c_subw(rd, rs2), Insn::Subw(ArgsR { rd, rs1: rd, rs2 }), "c.subw");
        check16(enc16::c_addw(rd, rs2), Insn::Addw(ArgsR { rd, rs1: rd, rs2 }), "c.addw");
        let imm = g.scaled(-2048, 2046, 2, false);
        check16(enc16::c_j(imm), Insn::Jal(ArgsJ { rd: 0, imm }), "c.j");
        let imm = g.scaled(-256, 254, 2, false);
        check16(enc16::c_beqz(rs1, imm), Insn::Beq(ArgsB { rs1, rs2: 0, imm }), "c.beqz");
        check16(enc16::c_bnez(rs1, imm), Insn::Bne(ArgsB { rs1, rs2: 0, imm }), "c.bnez");

        // Quadrant 2.
        let (r2, r2_nz) = (g.reg(), g.u(1, 31));
        check16(enc16::c_slli(r, shamt), Insn::Slli(ArgsShift { rd: r, rs1: r, shamt }), "c.slli");
        let imm = g.scaled(0, 504, 8, false);
        check16(enc16::c_fldsp(r, imm), Insn::Fld(ArgsI { rd: r, rs1: 2, imm }), "c.fldsp");
        check16(enc16::c_ldsp(r_nz, imm), Insn::Ld(ArgsI { rd: r_nz, rs1: 2, imm }), "c.ldsp");
        check16(enc16::c_fsdsp(r2, imm), Insn::Fsd(ArgsS { rs1: 2, rs2: r2, imm }), "c.fsdsp");
        check16(enc16::c_sdsp(r2, imm), Insn::Sd(ArgsS { rs1: 2, rs2: r2, imm }), "c.sdsp");
        let imm = g.scaled(0, 252, 4, false);
        check16(enc16::c_lwsp(r_nz, imm), Insn::Lw(ArgsI { rd: r_nz, rs1: 2, imm }), "c.lwsp");
        check16(enc16::c_swsp(r2, imm), Insn::Sw(ArgsS { rs1: 2, rs2: r2, imm }), "c.swsp");
        check16(enc16::c_jr(r_nz), Insn::Jalr(ArgsI { rd: 0, rs1: r_nz, imm: 0 }), "c.jr");
        check16(enc16::c_jalr(r_nz), Insn::Jalr(ArgsI { rd: 1, rs1: r_nz, imm: 0 }), "c.jalr");
        check16(enc16::c_mv(r, r2_nz), Insn::Add(ArgsR { rd: r, rs1: 0, rs2: r2_nz }), "c.mv");
        check16(enc16::c_add(r, r2_nz), Insn::Add(ArgsR { rd: r, rs1: r, rs2: r2_nz }), "c.add");
    }
    check16(enc16::c_ebreak(), Insn::Ebreak(ArgsEmpty {}), "c.ebreak");
}

/// Exhaustive: a halfword whose low two bits are 11 starts a 32-bit (or longer) instruction and
/// never decodes as a compressed one.
#[test]
fn decode16_words_with_low_bits_11_are_none() {
    for h in 0..=u16::MAX {
        if h & 3 == 3 {
            assert_eq!(decode16(h), None, "{h:#06x}");
        }
    }
}

/// Exhaustive: every halfword that decodes is an expansion the manual allows, checked by the
/// properties of RVC every quadrant guarantees.
#[test]
fn decode16_exhaustive_respects_reserved_rules() {
    let mut count = 0;
    for h in 0..=u16::MAX {
        let Some(insn) = decode16(h) else { continue };
        count += 1;
        match insn {
            Insn::Addi(a) if h & 0xe003 == 0x6001 => assert_ne!(a.imm, 0, "c.addi16sp {h:#06x}"),
            Insn::Addi(a) if a.rs1 == 2 && h & 3 == 0 => {
                assert_ne!(a.imm, 0, "c.addi4spn {h:#06x}")
            }
            Insn::Lui(a) => {
                assert_ne!(a.imm, 0, "{h:#06x}");
                assert_ne!(a.rd, 2, "{h:#06x}");
            }
            Insn::Addiw(a) | Insn::Lw(a) | Insn::Ld(a) if h & 3 != 0 => {
                assert_ne!(a.rd, 0, "{h:#06x}")
            }
            Insn::Jalr(a) => assert_ne!(a.rs1, 0, "{h:#06x}"),
            Insn::Add(a) => assert_ne!(a.rs2, 0, "{h:#06x}"),
            _ => {}
        }
    }
    // Of 49152 compressed halfwords, the reserved and Zcb/custom encodings leave this many.
    assert!(count > 40_000 && count < 49_152, "{count}");
}

// ---- illegal encodings ----------------------------------------------------------------------------

#[test]
fn decode16_reserved_encodings_are_none() {
    for (h, what) in [
        (0x0000u16, "all-zero halfword"),
        (0x0004, "c.addi4spn nzuimm=0, rd'=x9"),
        (0x001c, "c.addi4spn nzuimm=0, rd'=x15"),
        (0x8000, "quadrant 0 funct3=100 (Zcb, not implemented)"),
        (0x9c00, "quadrant 0 funct3=100 (Zcb c.sb)"),
        (0x2001, "c.addiw rd=x0"),
        (0x3005, "c.addiw rd=x0, imm=-31"),
        (0x6101, "c.addi16sp imm=0"),
        (0x6281, "c.lui rd=x5 imm=0"),
        (0x6001, "c.lui rd=x0 imm=0"),
        (0x9c41, "c.subw-space funct2=10 (reserved)"),
        (0x9c61, "c.subw-space funct2=11 (reserved / Zcb)"),
        (0x4002, "c.lwsp rd=x0"),
        (0x5012, "c.lwsp rd=x0 with offset"),
        (0x6002, "c.ldsp rd=x0"),
        (0x8002, "c.jr rs1=x0"),
        (0xffff, "all ones (32-bit prefix)"),
    ] {
        assert_eq!(decode16(h), None, "{what}: {h:#06x}");
    }
}

#[test]
fn decode32_unknown_and_reserved_encodings_are_none() {
    for (w, what) in [
        (0x0000_0000u32, "all zeros"),
        (0xffff_ffff, "all ones"),
        (0x0000_000b, "custom-0 opcode"),
        (0x0000_005b, "custom-2 opcode"),
        (0x0000_0057, "OP-V opcode"),
        (0x0000_0077, "OP-P/reserved opcode"),
        (0x0400_0033, "OP funct7=0000010"),
        (0x0000_4073, "SYSTEM funct3=100"),
        (0x0000_00f3, "ecall with rd!=0"),
        (0x1020_8073, "sret with rs1 field set"),
        (0x0000_002f, "AMO funct3=000"),
        (0x1010_202f, "lr.w with rs2!=0"),
        (0xc040_0053, "fcvt with rs2=00100"),
        (0xe000_2053, "fmv.x.w with funct3=010"),
        (0x0400_0043, "fmadd with fmt=10 (half)"),
        (0x0600_0043, "fmadd with fmt=11 (quad)"),
        (0x0000_4007, "FLW-space width=100 (flq)"),
        (0x0810_403b, "packw (zext.h shape with rs2!=0)"),
        (0x6980_5013, "rev8 with the RV32 immediate"),
        (0x2880_5013, "orc.b-space imm 0x288"),
        (0x8000_1013, "slli with bit 31 set"),
        (0x0200_101b, "slliw with shamt[5] set"),
        (0x0000_7023, "STORE funct3=111"),
        (0x0000_7003, "LOAD funct3=111"),
        (0x0000_2063, "BRANCH funct3=010"),
        (0x0000_1067, "JALR funct3=001"),
        (0x0000_200f, "MISC-MEM funct3=010 (cbo space)"),
    ] {
        assert_eq!(decode32(w), None, "{what}: {w:#010x}");
    }
}

// ---- known encodings from GNU as ---------------------------------------------------------------

#[test]
fn known32_words_decode_to_hand_written_insn() {
    for (word, asm, expected, _) in known32() {
        assert_eq!(decode32(word), Some(expected), "`{asm}` = {word:#010x}");
    }
}

#[test]
fn known32_encoders_reproduce_assembler_words() {
    for (word, asm, _, ours) in known32() {
        assert_eq!(ours, word, "`{asm}`: enc gave {ours:#010x}, as gave {word:#010x}");
    }
}

#[test]
fn known32_covers_every_instruction() {
    let covered: HashSet<&str> = known32().iter().map(|(_, _, i, _)| i.name()).collect();
    for n in INSN_NAMES {
        assert!(covered.contains(n), "no assembler-checked encoding for `{n}`");
    }
}

#[test]
fn known16_halfwords_decode_to_hand_written_base_insn() {
    for (half, asm, expected, _) in known16() {
        assert_eq!(decode16(half), Some(expected), "`{asm}` = {half:#06x}");
    }
}

#[test]
fn known16_encoders_reproduce_assembler_halfwords() {
    for (half, asm, _, ours) in known16() {
        assert_eq!(ours, half, "`{asm}`: enc16 gave {ours:#06x}, as gave {half:#06x}");
    }
}

#[test]
fn disasm_known_words_prints_mnemonic_and_operands() {
    let cases = [
        (0xffb1_0093u32, "addi x1, x2, -5"),
        (0x0081_2283, "lw x5, 8(x2)"),
        (0x0231_00d3, "fadd.d f1, f2, f3, rne"),
        (0xc001_1553, "fcvt.w.s x10, f2, rtz"),
        (0xc011_1553, "fcvt.wu.s x10, f2, rtz"),
        (0x1601_20af, "lr.w.aq.rl x1, (x2)"),
        (0x3002_9073, "csrrw x0, 0x300, x5"),
        (0x0ff0_000f, "fence iorw, iorw"),
        (0x1220_8073, "sfence.vma x1, x2"),
        (0x1234_51b7, "lui x3, 0x12345"),
        (0x8020_8063, "beq x1, x2, -4096"),
        (0x0000_0073, "ecall"),
    ];
    for (w, text) in cases {
        let insn = decode32(w).unwrap_or_else(|| panic!("{w:#010x} does not decode"));
        assert_eq!(disasm(&insn), text, "{w:#010x}");
    }
}

/// (word from GNU as, the assembly it came from, hand-written expected `Insn`, our encoder's word)
#[rustfmt::skip]
fn known32() -> Vec<(u32, &'static str, Insn, u32)> {
    vec![
        (0x123451b7, "lui x3, 0x12345", Insn::Lui(ArgsU { rd: 3, imm: 0x1234_5000 }), enc::lui(3, 0x1234_5000)),
        (0xffffffb7, "lui x31, 0xfffff", Insn::Lui(ArgsU { rd: 31, imm: -4096 }), enc::lui(31, -4096)),
        (0x80000217, "auipc x4, 0x80000", Insn::Auipc(ArgsU { rd: 4, imm: -0x8000_0000 }), enc::auipc(4, -0x8000_0000)),
        (0x001000ef, "jal x1, .+2048", Insn::Jal(ArgsJ { rd: 1, imm: 2048 }), enc::jal(1, 2048)),
        (0x8000006f, "jal x0, .-1048576", Insn::Jal(ArgsJ { rd: 0, imm: -1048576 }), enc::jal(0, -1048576)),
        (0xfff280e7, "jalr x1, -1(x5)", Insn::Jalr(ArgsI { rd: 1, rs1: 5, imm: -1 }), enc::jalr(1, 5, -1)),
        (0x80208063, "beq x1, x2, .-4096", Insn::Beq(ArgsB { rs1: 1, rs2: 2, imm: -4096 }), enc::beq(1, 2, -4096)),
        (0x7e419fe3, "bne x3, x4, .+4094", Insn::Bne(ArgsB { rs1: 3, rs2: 4, imm: 4094 }), enc::bne(3, 4, 4094)),
        (0x0062c163, "blt x5, x6, .+2", Insn::Blt(ArgsB { rs1: 5, rs2: 6, imm: 2 }), enc::blt(5, 6, 2)),
        (0xfe83dfe3, "bge x7, x8, .-2", Insn::Bge(ArgsB { rs1: 7, rs2: 8, imm: -2 }), enc::bge(7, 8, -2)),
        (0x00a4e0e3, "bltu x9, x10, .+2048", Insn::Bltu(ArgsB { rs1: 9, rs2: 10, imm: 2048 }), enc::bltu(9, 10, 2048)),
        (0x00c5f863, "bgeu x11, x12, .+16", Insn::Bgeu(ArgsB { rs1: 11, rs2: 12, imm: 16 }), enc::bgeu(11, 12, 16)),
        (0x80010083, "lb x1, -2048(x2)", Insn::Lb(ArgsI { rd: 1, rs1: 2, imm: -2048 }), enc::lb(1, 2, -2048)),
        (0x7ff21183, "lh x3, 2047(x4)", Insn::Lh(ArgsI { rd: 3, rs1: 4, imm: 2047 }), enc::lh(3, 4, 2047)),
        (0x00812283, "lw x5, 8(x2)", Insn::Lw(ArgsI { rd: 5, rs1: 2, imm: 8 }), enc::lw(5, 2, 8)),
        (0xff83b303, "ld x6, -8(x7)", Insn::Ld(ArgsI { rd: 6, rs1: 7, imm: -8 }), enc::ld(6, 7, -8)),
        (0x0014c403, "lbu x8, 1(x9)", Insn::Lbu(ArgsI { rd: 8, rs1: 9, imm: 1 }), enc::lbu(8, 9, 1)),
        (0x0025d503, "lhu x10, 2(x11)", Insn::Lhu(ArgsI { rd: 10, rs1: 11, imm: 2 }), enc::lhu(10, 11, 2)),
        (0x0046e603, "lwu x12, 4(x13)", Insn::Lwu(ArgsI { rd: 12, rs1: 13, imm: 4 }), enc::lwu(12, 13, 4)),
        (0x80110023, "sb x1, -2048(x2)", Insn::Sb(ArgsS { rs1: 2, rs2: 1, imm: -2048 }), enc::sb(2, 1, -2048)),
        (0x7e321fa3, "sh x3, 2047(x4)", Insn::Sh(ArgsS { rs1: 4, rs2: 3, imm: 2047 }), enc::sh(4, 3, 2047)),
        (0xfe532fa3, "sw x5, -1(x6)", Insn::Sw(ArgsS { rs1: 6, rs2: 5, imm: -1 }), enc::sw(6, 5, -1)),
        (0x03ff3023, "sd x31, 32(x30)", Insn::Sd(ArgsS { rs1: 30, rs2: 31, imm: 32 }), enc::sd(30, 31, 32)),
        (0xffb10093, "addi x1, x2, -5", Insn::Addi(ArgsI { rd: 1, rs1: 2, imm: -5 }), enc::addi(1, 2, -5)),
        (0x06422193, "slti x3, x4, 100", Insn::Slti(ArgsI { rd: 3, rs1: 4, imm: 100 }), enc::slti(3, 4, 100)),
        (0xfff33293, "sltiu x5, x6, -1", Insn::Sltiu(ArgsI { rd: 5, rs1: 6, imm: -1 }), enc::sltiu(5, 6, -1)),
        (0x7ff44393, "xori x7, x8, 0x7ff", Insn::Xori(ArgsI { rd: 7, rs1: 8, imm: 2047 }), enc::xori(7, 8, 2047)),
        (0x80056493, "ori x9, x10, -2048", Insn::Ori(ArgsI { rd: 9, rs1: 10, imm: -2048 }), enc::ori(9, 10, -2048)),
        (0x0ff67593, "andi x11, x12, 0xff", Insn::Andi(ArgsI { rd: 11, rs1: 12, imm: 255 }), enc::andi(11, 12, 255)),
        (0x03f11093, "slli x1, x2, 63", Insn::Slli(ArgsShift { rd: 1, rs1: 2, shamt: 63 }), enc::slli(1, 2, 63)),
        (0x02025193, "srli x3, x4, 32", Insn::Srli(ArgsShift { rd: 3, rs1: 4, shamt: 32 }), enc::srli(3, 4, 32)),
        (0x40135293, "srai x5, x6, 1", Insn::Srai(ArgsShift { rd: 5, rs1: 6, shamt: 1 }), enc::srai(5, 6, 1)),
        (0xff94039b, "addiw x7, x8, -7", Insn::Addiw(ArgsI { rd: 7, rs1: 8, imm: -7 }), enc::addiw(7, 8, -7)),
        (0x01f5149b, "slliw x9, x10, 31", Insn::Slliw(ArgsShift { rd: 9, rs1: 10, shamt: 31 }), enc::slliw(9, 10, 31)),
        (0x0056559b, "srliw x11, x12, 5", Insn::Srliw(ArgsShift { rd: 11, rs1: 12, shamt: 5 }), enc::srliw(11, 12, 5)),
        (0x4117569b, "sraiw x13, x14, 17", Insn::Sraiw(ArgsShift { rd: 13, rs1: 14, shamt: 17 }), enc::sraiw(13, 14, 17)),
        (0x003100b3, "add x1, x2, x3", Insn::Add(ArgsR { rd: 1, rs1: 2, rs2: 3 }), enc::add(1, 2, 3)),
        (0x40628233, "sub x4, x5, x6", Insn::Sub(ArgsR { rd: 4, rs1: 5, rs2: 6 }), enc::sub(4, 5, 6)),
        (0x009413b3, "sll x7, x8, x9", Insn::Sll(ArgsR { rd: 7, rs1: 8, rs2: 9 }), enc::sll(7, 8, 9)),
        (0x00c5a533, "slt x10, x11, x12", Insn::Slt(ArgsR { rd: 10, rs1: 11, rs2: 12 }), enc::slt(10, 11, 12)),
        (0x00f736b3, "sltu x13, x14, x15", Insn::Sltu(ArgsR { rd: 13, rs1: 14, rs2: 15 }), enc::sltu(13, 14, 15)),
        (0x0128c833, "xor x16, x17, x18", Insn::Xor(ArgsR { rd: 16, rs1: 17, rs2: 18 }), enc::xor(16, 17, 18)),
        (0x015a59b3, "srl x19, x20, x21", Insn::Srl(ArgsR { rd: 19, rs1: 20, rs2: 21 }), enc::srl(19, 20, 21)),
        (0x418bdb33, "sra x22, x23, x24", Insn::Sra(ArgsR { rd: 22, rs1: 23, rs2: 24 }), enc::sra(22, 23, 24)),
        (0x01bd6cb3, "or x25, x26, x27", Insn::Or(ArgsR { rd: 25, rs1: 26, rs2: 27 }), enc::or(25, 26, 27)),
        (0x01eefe33, "and x28, x29, x30", Insn::And(ArgsR { rd: 28, rs1: 29, rs2: 30 }), enc::and(28, 29, 30)),
        (0x00208fbb, "addw x31, x1, x2", Insn::Addw(ArgsR { rd: 31, rs1: 1, rs2: 2 }), enc::addw(31, 1, 2)),
        (0x405201bb, "subw x3, x4, x5", Insn::Subw(ArgsR { rd: 3, rs1: 4, rs2: 5 }), enc::subw(3, 4, 5)),
        (0x0083933b, "sllw x6, x7, x8", Insn::Sllw(ArgsR { rd: 6, rs1: 7, rs2: 8 }), enc::sllw(6, 7, 8)),
        (0x00b554bb, "srlw x9, x10, x11", Insn::Srlw(ArgsR { rd: 9, rs1: 10, rs2: 11 }), enc::srlw(9, 10, 11)),
        (0x40e6d63b, "sraw x12, x13, x14", Insn::Sraw(ArgsR { rd: 12, rs1: 13, rs2: 14 }), enc::sraw(12, 13, 14)),
        (0x0ff0000f, "fence iorw, iorw", Insn::Fence(ArgsFence { pred: 15, succ: 15, fm: 0 }), enc::fence(15, 15, 0)),
        (0x0310000f, "fence rw, w", Insn::Fence(ArgsFence { pred: 3, succ: 1, fm: 0 }), enc::fence(3, 1, 0)),
        (0x8330000f, "fence.tso", Insn::Fence(ArgsFence { pred: 3, succ: 3, fm: 8 }), enc::fence(3, 3, 8)),
        (0x0000100f, "fence.i", Insn::FenceI(ArgsEmpty {}), enc::fence_i()),
        (0x00000073, "ecall", Insn::Ecall(ArgsEmpty {}), enc::ecall()),
        (0x00100073, "ebreak", Insn::Ebreak(ArgsEmpty {}), enc::ebreak()),
        (0x300110f3, "csrrw x1, 0x300, x2", Insn::Csrrw(ArgsCsr { rd: 1, rs1: 2, csr: 0x300 }), enc::csrrw(1, 2, 0x300)),
        (0xc00021f3, "csrrs x3, 0xc00, x0", Insn::Csrrs(ArgsCsr { rd: 3, rs1: 0, csr: 0xc00 }), enc::csrrs(3, 0, 0xc00)),
        (0xfff2b273, "csrrc x4, 0xfff, x5", Insn::Csrrc(ArgsCsr { rd: 4, rs1: 5, csr: 0xfff }), enc::csrrc(4, 5, 0xfff)),
        (0x3002d073, "csrrwi x0, 0x300, 5", Insn::Csrrwi(ArgsCsr { rd: 0, rs1: 5, csr: 0x300 }), enc::csrrwi(0, 5, 0x300)),
        (0x001fe373, "csrrsi x6, 0x001, 31", Insn::Csrrsi(ArgsCsr { rd: 6, rs1: 31, csr: 0x001 }), enc::csrrsi(6, 31, 0x001)),
        (0x1800f3f3, "csrrci x7, 0x180, 1", Insn::Csrrci(ArgsCsr { rd: 7, rs1: 1, csr: 0x180 }), enc::csrrci(7, 1, 0x180)),
        (0x30200073, "mret", Insn::Mret(ArgsEmpty {}), enc::mret()),
        (0x10200073, "sret", Insn::Sret(ArgsEmpty {}), enc::sret()),
        (0x10500073, "wfi", Insn::Wfi(ArgsEmpty {}), enc::wfi()),
        (0x12208073, "sfence.vma x1, x2", Insn::SfenceVma(ArgsSfence { rs1: 1, rs2: 2 }), enc::sfence_vma(1, 2)),
        (0x023100b3, "mul x1, x2, x3", Insn::Mul(ArgsR { rd: 1, rs1: 2, rs2: 3 }), enc::mul(1, 2, 3)),
        (0x02629233, "mulh x4, x5, x6", Insn::Mulh(ArgsR { rd: 4, rs1: 5, rs2: 6 }), enc::mulh(4, 5, 6)),
        (0x029423b3, "mulhsu x7, x8, x9", Insn::Mulhsu(ArgsR { rd: 7, rs1: 8, rs2: 9 }), enc::mulhsu(7, 8, 9)),
        (0x02c5b533, "mulhu x10, x11, x12", Insn::Mulhu(ArgsR { rd: 10, rs1: 11, rs2: 12 }), enc::mulhu(10, 11, 12)),
        (0x02f746b3, "div x13, x14, x15", Insn::Div(ArgsR { rd: 13, rs1: 14, rs2: 15 }), enc::div(13, 14, 15)),
        (0x0328d833, "divu x16, x17, x18", Insn::Divu(ArgsR { rd: 16, rs1: 17, rs2: 18 }), enc::divu(16, 17, 18)),
        (0x035a69b3, "rem x19, x20, x21", Insn::Rem(ArgsR { rd: 19, rs1: 20, rs2: 21 }), enc::rem(19, 20, 21)),
        (0x038bfb33, "remu x22, x23, x24", Insn::Remu(ArgsR { rd: 22, rs1: 23, rs2: 24 }), enc::remu(22, 23, 24)),
        (0x03bd0cbb, "mulw x25, x26, x27", Insn::Mulw(ArgsR { rd: 25, rs1: 26, rs2: 27 }), enc::mulw(25, 26, 27)),
        (0x03eece3b, "divw x28, x29, x30", Insn::Divw(ArgsR { rd: 28, rs1: 29, rs2: 30 }), enc::divw(28, 29, 30)),
        (0x0220dfbb, "divuw x31, x1, x2", Insn::Divuw(ArgsR { rd: 31, rs1: 1, rs2: 2 }), enc::divuw(31, 1, 2)),
        (0x025261bb, "remw x3, x4, x5", Insn::Remw(ArgsR { rd: 3, rs1: 4, rs2: 5 }), enc::remw(3, 4, 5)),
        (0x0283f33b, "remuw x6, x7, x8", Insn::Remuw(ArgsR { rd: 6, rs1: 7, rs2: 8 }), enc::remuw(6, 7, 8)),
        (0x100120af, "lr.w x1, (x2)", Insn::LrW(ArgsAtomic { rd: 1, rs1: 2, rs2: 0, aq: 0, rl: 0 }), enc::lr_w(1, 2, 0, 0)),
        (0x140221af, "lr.w.aq x3, (x4)", Insn::LrW(ArgsAtomic { rd: 3, rs1: 4, rs2: 0, aq: 1, rl: 0 }), enc::lr_w(3, 4, 1, 0)),
        (0x1a63a2af, "sc.w.rl x5, x6, (x7)", Insn::ScW(ArgsAtomic { rd: 5, rs1: 7, rs2: 6, aq: 0, rl: 1 }), enc::sc_w(5, 7, 6, 0, 1)),
        (0x0e95242f, "amoswap.w.aqrl x8, x9, (x10)", Insn::AmoswapW(ArgsAtomic { rd: 8, rs1: 10, rs2: 9, aq: 1, rl: 1 }), enc::amoswap_w(8, 10, 9, 1, 1)),
        (0x00c6a5af, "amoadd.w x11, x12, (x13)", Insn::AmoaddW(ArgsAtomic { rd: 11, rs1: 13, rs2: 12, aq: 0, rl: 0 }), enc::amoadd_w(11, 13, 12, 0, 0)),
        (0x24f8272f, "amoxor.w.aq x14, x15, (x16)", Insn::AmoxorW(ArgsAtomic { rd: 14, rs1: 16, rs2: 15, aq: 1, rl: 0 }), enc::amoxor_w(14, 16, 15, 1, 0)),
        (0x6329a8af, "amoand.w.rl x17, x18, (x19)", Insn::AmoandW(ArgsAtomic { rd: 17, rs1: 19, rs2: 18, aq: 0, rl: 1 }), enc::amoand_w(17, 19, 18, 0, 1)),
        (0x415b2a2f, "amoor.w x20, x21, (x22)", Insn::AmoorW(ArgsAtomic { rd: 20, rs1: 22, rs2: 21, aq: 0, rl: 0 }), enc::amoor_w(20, 22, 21, 0, 0)),
        (0x818cabaf, "amomin.w x23, x24, (x25)", Insn::AmominW(ArgsAtomic { rd: 23, rs1: 25, rs2: 24, aq: 0, rl: 0 }), enc::amomin_w(23, 25, 24, 0, 0)),
        (0xa7be2d2f, "amomax.w.aqrl x26, x27, (x28)", Insn::AmomaxW(ArgsAtomic { rd: 26, rs1: 28, rs2: 27, aq: 1, rl: 1 }), enc::amomax_w(26, 28, 27, 1, 1)),
        (0xc1efaeaf, "amominu.w x29, x30, (x31)", Insn::AmominuW(ArgsAtomic { rd: 29, rs1: 31, rs2: 30, aq: 0, rl: 0 }), enc::amominu_w(29, 31, 30, 0, 0)),
        (0xe00120af, "amomaxu.w x1, x0, (x2)", Insn::AmomaxuW(ArgsAtomic { rd: 1, rs1: 2, rs2: 0, aq: 0, rl: 0 }), enc::amomaxu_w(1, 2, 0, 0, 0)),
        (0x100130af, "lr.d x1, (x2)", Insn::LrD(ArgsAtomic { rd: 1, rs1: 2, rs2: 0, aq: 0, rl: 0 }), enc::lr_d(1, 2, 0, 0)),
        (0x140231af, "lr.d.aq x3, (x4)", Insn::LrD(ArgsAtomic { rd: 3, rs1: 4, rs2: 0, aq: 1, rl: 0 }), enc::lr_d(3, 4, 1, 0)),
        (0x1a63b2af, "sc.d.rl x5, x6, (x7)", Insn::ScD(ArgsAtomic { rd: 5, rs1: 7, rs2: 6, aq: 0, rl: 1 }), enc::sc_d(5, 7, 6, 0, 1)),
        (0x0e95342f, "amoswap.d.aqrl x8, x9, (x10)", Insn::AmoswapD(ArgsAtomic { rd: 8, rs1: 10, rs2: 9, aq: 1, rl: 1 }), enc::amoswap_d(8, 10, 9, 1, 1)),
        (0x00c6b5af, "amoadd.d x11, x12, (x13)", Insn::AmoaddD(ArgsAtomic { rd: 11, rs1: 13, rs2: 12, aq: 0, rl: 0 }), enc::amoadd_d(11, 13, 12, 0, 0)),
        (0x24f8372f, "amoxor.d.aq x14, x15, (x16)", Insn::AmoxorD(ArgsAtomic { rd: 14, rs1: 16, rs2: 15, aq: 1, rl: 0 }), enc::amoxor_d(14, 16, 15, 1, 0)),
        (0x6329b8af, "amoand.d.rl x17, x18, (x19)", Insn::AmoandD(ArgsAtomic { rd: 17, rs1: 19, rs2: 18, aq: 0, rl: 1 }), enc::amoand_d(17, 19, 18, 0, 1)),
        (0x415b3a2f, "amoor.d x20, x21, (x22)", Insn::AmoorD(ArgsAtomic { rd: 20, rs1: 22, rs2: 21, aq: 0, rl: 0 }), enc::amoor_d(20, 22, 21, 0, 0)),
        (0x818cbbaf, "amomin.d x23, x24, (x25)", Insn::AmominD(ArgsAtomic { rd: 23, rs1: 25, rs2: 24, aq: 0, rl: 0 }), enc::amomin_d(23, 25, 24, 0, 0)),
        (0xa7be3d2f, "amomax.d.aqrl x26, x27, (x28)", Insn::AmomaxD(ArgsAtomic { rd: 26, rs1: 28, rs2: 27, aq: 1, rl: 1 }), enc::amomax_d(26, 28, 27, 1, 1)),
        (0xc1efbeaf, "amominu.d x29, x30, (x31)", Insn::AmominuD(ArgsAtomic { rd: 29, rs1: 31, rs2: 30, aq: 0, rl: 0 }), enc::amominu_d(29, 31, 30, 0, 0)),
        (0xe00130af, "amomaxu.d x1, x0, (x2)", Insn::AmomaxuD(ArgsAtomic { rd: 1, rs1: 2, rs2: 0, aq: 0, rl: 0 }), enc::amomaxu_d(1, 2, 0, 0, 0)),
        (0x203100c3, "fmadd.s f1, f2, f3, f4, rne", Insn::FmaddS(ArgsR4Rm { rd: 1, rs1: 2, rs2: 3, rs3: 4, rm: 0 }), enc::fmadd_s(1, 2, 3, 4, 0)),
        (0x407312c7, "fmsub.s f5, f6, f7, f8, rtz", Insn::FmsubS(ArgsR4Rm { rd: 5, rs1: 6, rs2: 7, rs3: 8, rm: 1 }), enc::fmsub_s(5, 6, 7, 8, 1)),
        (0x60b524cb, "fnmsub.s f9, f10, f11, f12, rdn", Insn::FnmsubS(ArgsR4Rm { rd: 9, rs1: 10, rs2: 11, rs3: 12, rm: 2 }), enc::fnmsub_s(9, 10, 11, 12, 2)),
        (0xf8f736cf, "fnmadd.s f13, f14, f15, f31, rup", Insn::FnmaddS(ArgsR4Rm { rd: 13, rs1: 14, rs2: 15, rs3: 31, rm: 3 }), enc::fnmadd_s(13, 14, 15, 31, 3)),
        (0x003140d3, "fadd.s f1, f2, f3, rmm", Insn::FaddS(ArgsRRm { rd: 1, rs1: 2, rs2: 3, rm: 4 }), enc::fadd_s(1, 2, 3, 4)),
        (0x0862f253, "fsub.s f4, f5, f6", Insn::FsubS(ArgsRRm { rd: 4, rs1: 5, rs2: 6, rm: 7 }), enc::fsub_s(4, 5, 6, 7)),
        (0x109403d3, "fmul.s f7, f8, f9, rne", Insn::FmulS(ArgsRRm { rd: 7, rs1: 8, rs2: 9, rm: 0 }), enc::fmul_s(7, 8, 9, 0)),
        (0x18c5f553, "fdiv.s f10, f11, f12, dyn", Insn::FdivS(ArgsRRm { rd: 10, rs1: 11, rs2: 12, rm: 7 }), enc::fdiv_s(10, 11, 12, 7)),
        (0x580716d3, "fsqrt.s f13, f14, rtz", Insn::FsqrtS(ArgsR2Rm { rd: 13, rs1: 14, rm: 1 }), enc::fsqrt_s(13, 14, 1)),
        (0x211807d3, "fsgnj.s f15, f16, f17", Insn::FsgnjS(ArgsR { rd: 15, rs1: 16, rs2: 17 }), enc::fsgnj_s(15, 16, 17)),
        (0x21499953, "fsgnjn.s f18, f19, f20", Insn::FsgnjnS(ArgsR { rd: 18, rs1: 19, rs2: 20 }), enc::fsgnjn_s(18, 19, 20)),
        (0x217b2ad3, "fsgnjx.s f21, f22, f23", Insn::FsgnjxS(ArgsR { rd: 21, rs1: 22, rs2: 23 }), enc::fsgnjx_s(21, 22, 23)),
        (0x29ac8c53, "fmin.s f24, f25, f26", Insn::FminS(ArgsR { rd: 24, rs1: 25, rs2: 26 }), enc::fmin_s(24, 25, 26)),
        (0x29de1dd3, "fmax.s f27, f28, f29", Insn::FmaxS(ArgsR { rd: 27, rs1: 28, rs2: 29 }), enc::fmax_s(27, 28, 29)),
        (0xc00110d3, "fcvt.w.s x1, f2, rtz", Insn::FcvtWS(ArgsR2Rm { rd: 1, rs1: 2, rm: 1 }), enc::fcvt_w_s(1, 2, 1)),
        (0xc01271d3, "fcvt.wu.s x3, f4", Insn::FcvtWuS(ArgsR2Rm { rd: 3, rs1: 4, rm: 7 }), enc::fcvt_wu_s(3, 4, 7)),
        (0xc02332d3, "fcvt.l.s x5, f6, rup", Insn::FcvtLS(ArgsR2Rm { rd: 5, rs1: 6, rm: 3 }), enc::fcvt_l_s(5, 6, 3)),
        (0xc03443d3, "fcvt.lu.s x7, f8, rmm", Insn::FcvtLuS(ArgsR2Rm { rd: 7, rs1: 8, rm: 4 }), enc::fcvt_lu_s(7, 8, 4)),
        (0xe00514d3, "fclass.s x9, f10", Insn::FclassS(ArgsR2 { rd: 9, rs1: 10 }), enc::fclass_s(9, 10)),
        (0xa0d625d3, "feq.s x11, f12, f13", Insn::FeqS(ArgsR { rd: 11, rs1: 12, rs2: 13 }), enc::feq_s(11, 12, 13)),
        (0xa1079753, "flt.s x14, f15, f16", Insn::FltS(ArgsR { rd: 14, rs1: 15, rs2: 16 }), enc::flt_s(14, 15, 16)),
        (0xa13908d3, "fle.s x17, f18, f19", Insn::FleS(ArgsR { rd: 17, rs1: 18, rs2: 19 }), enc::fle_s(17, 18, 19)),
        (0xd00a8a53, "fcvt.s.w f20, x21, rne", Insn::FcvtSW(ArgsR2Rm { rd: 20, rs1: 21, rm: 0 }), enc::fcvt_s_w(20, 21, 0)),
        (0xd01bfb53, "fcvt.s.wu f22, x23", Insn::FcvtSWu(ArgsR2Rm { rd: 22, rs1: 23, rm: 7 }), enc::fcvt_s_wu(22, 23, 7)),
        (0xd02cac53, "fcvt.s.l f24, x25, rdn", Insn::FcvtSL(ArgsR2Rm { rd: 24, rs1: 25, rm: 2 }), enc::fcvt_s_l(24, 25, 2)),
        (0xd03d9d53, "fcvt.s.lu f26, x27, rtz", Insn::FcvtSLu(ArgsR2Rm { rd: 26, rs1: 27, rm: 1 }), enc::fcvt_s_lu(26, 27, 1)),
        (0x223100c3, "fmadd.d f1, f2, f3, f4, rne", Insn::FmaddD(ArgsR4Rm { rd: 1, rs1: 2, rs2: 3, rs3: 4, rm: 0 }), enc::fmadd_d(1, 2, 3, 4, 0)),
        (0x427312c7, "fmsub.d f5, f6, f7, f8, rtz", Insn::FmsubD(ArgsR4Rm { rd: 5, rs1: 6, rs2: 7, rs3: 8, rm: 1 }), enc::fmsub_d(5, 6, 7, 8, 1)),
        (0x62b524cb, "fnmsub.d f9, f10, f11, f12, rdn", Insn::FnmsubD(ArgsR4Rm { rd: 9, rs1: 10, rs2: 11, rs3: 12, rm: 2 }), enc::fnmsub_d(9, 10, 11, 12, 2)),
        (0xfaf736cf, "fnmadd.d f13, f14, f15, f31, rup", Insn::FnmaddD(ArgsR4Rm { rd: 13, rs1: 14, rs2: 15, rs3: 31, rm: 3 }), enc::fnmadd_d(13, 14, 15, 31, 3)),
        (0x023140d3, "fadd.d f1, f2, f3, rmm", Insn::FaddD(ArgsRRm { rd: 1, rs1: 2, rs2: 3, rm: 4 }), enc::fadd_d(1, 2, 3, 4)),
        (0x0a62f253, "fsub.d f4, f5, f6", Insn::FsubD(ArgsRRm { rd: 4, rs1: 5, rs2: 6, rm: 7 }), enc::fsub_d(4, 5, 6, 7)),
        (0x129403d3, "fmul.d f7, f8, f9, rne", Insn::FmulD(ArgsRRm { rd: 7, rs1: 8, rs2: 9, rm: 0 }), enc::fmul_d(7, 8, 9, 0)),
        (0x1ac5f553, "fdiv.d f10, f11, f12, dyn", Insn::FdivD(ArgsRRm { rd: 10, rs1: 11, rs2: 12, rm: 7 }), enc::fdiv_d(10, 11, 12, 7)),
        (0x5a0716d3, "fsqrt.d f13, f14, rtz", Insn::FsqrtD(ArgsR2Rm { rd: 13, rs1: 14, rm: 1 }), enc::fsqrt_d(13, 14, 1)),
        (0x231807d3, "fsgnj.d f15, f16, f17", Insn::FsgnjD(ArgsR { rd: 15, rs1: 16, rs2: 17 }), enc::fsgnj_d(15, 16, 17)),
        (0x23499953, "fsgnjn.d f18, f19, f20", Insn::FsgnjnD(ArgsR { rd: 18, rs1: 19, rs2: 20 }), enc::fsgnjn_d(18, 19, 20)),
        (0x237b2ad3, "fsgnjx.d f21, f22, f23", Insn::FsgnjxD(ArgsR { rd: 21, rs1: 22, rs2: 23 }), enc::fsgnjx_d(21, 22, 23)),
        (0x2bac8c53, "fmin.d f24, f25, f26", Insn::FminD(ArgsR { rd: 24, rs1: 25, rs2: 26 }), enc::fmin_d(24, 25, 26)),
        (0x2bde1dd3, "fmax.d f27, f28, f29", Insn::FmaxD(ArgsR { rd: 27, rs1: 28, rs2: 29 }), enc::fmax_d(27, 28, 29)),
        (0xc20110d3, "fcvt.w.d x1, f2, rtz", Insn::FcvtWD(ArgsR2Rm { rd: 1, rs1: 2, rm: 1 }), enc::fcvt_w_d(1, 2, 1)),
        (0xc21271d3, "fcvt.wu.d x3, f4", Insn::FcvtWuD(ArgsR2Rm { rd: 3, rs1: 4, rm: 7 }), enc::fcvt_wu_d(3, 4, 7)),
        (0xc22332d3, "fcvt.l.d x5, f6, rup", Insn::FcvtLD(ArgsR2Rm { rd: 5, rs1: 6, rm: 3 }), enc::fcvt_l_d(5, 6, 3)),
        (0xc23443d3, "fcvt.lu.d x7, f8, rmm", Insn::FcvtLuD(ArgsR2Rm { rd: 7, rs1: 8, rm: 4 }), enc::fcvt_lu_d(7, 8, 4)),
        (0xe20514d3, "fclass.d x9, f10", Insn::FclassD(ArgsR2 { rd: 9, rs1: 10 }), enc::fclass_d(9, 10)),
        (0xa2d625d3, "feq.d x11, f12, f13", Insn::FeqD(ArgsR { rd: 11, rs1: 12, rs2: 13 }), enc::feq_d(11, 12, 13)),
        (0xa3079753, "flt.d x14, f15, f16", Insn::FltD(ArgsR { rd: 14, rs1: 15, rs2: 16 }), enc::flt_d(14, 15, 16)),
        (0xa33908d3, "fle.d x17, f18, f19", Insn::FleD(ArgsR { rd: 17, rs1: 18, rs2: 19 }), enc::fle_d(17, 18, 19)),
        (0xd20a8a53, "fcvt.d.w f20, x21", Insn::FcvtDW(ArgsR2Rm { rd: 20, rs1: 21, rm: 0 }), enc::fcvt_d_w(20, 21, 0)),
        (0xd21b8b53, "fcvt.d.wu f22, x23", Insn::FcvtDWu(ArgsR2Rm { rd: 22, rs1: 23, rm: 0 }), enc::fcvt_d_wu(22, 23, 0)),
        (0xd22cac53, "fcvt.d.l f24, x25, rdn", Insn::FcvtDL(ArgsR2Rm { rd: 24, rs1: 25, rm: 2 }), enc::fcvt_d_l(24, 25, 2)),
        (0xd23d9d53, "fcvt.d.lu f26, x27, rtz", Insn::FcvtDLu(ArgsR2Rm { rd: 26, rs1: 27, rm: 1 }), enc::fcvt_d_lu(26, 27, 1)),
        (0xffc12087, "flw f1, -4(x2)", Insn::Flw(ArgsI { rd: 1, rs1: 2, imm: -4 }), enc::flw(1, 2, -4)),
        (0x7e322e27, "fsw f3, 2044(x4)", Insn::Fsw(ArgsS { rs1: 4, rs2: 3, imm: 2044 }), enc::fsw(4, 3, 2044)),
        (0x00833287, "fld f5, 8(x6)", Insn::Fld(ArgsI { rd: 5, rs1: 6, imm: 8 }), enc::fld(5, 6, 8)),
        (0x80743027, "fsd f7, -2048(x8)", Insn::Fsd(ArgsS { rs1: 8, rs2: 7, imm: -2048 }), enc::fsd(8, 7, -2048)),
        (0xe00100d3, "fmv.x.w x1, f2", Insn::FmvXW(ArgsR2 { rd: 1, rs1: 2 }), enc::fmv_x_w(1, 2)),
        (0xf00201d3, "fmv.w.x f3, x4", Insn::FmvWX(ArgsR2 { rd: 3, rs1: 4 }), enc::fmv_w_x(3, 4)),
        (0xe20302d3, "fmv.x.d x5, f6", Insn::FmvXD(ArgsR2 { rd: 5, rs1: 6 }), enc::fmv_x_d(5, 6)),
        (0xf20403d3, "fmv.d.x f7, x8", Insn::FmvDX(ArgsR2 { rd: 7, rs1: 8 }), enc::fmv_d_x(7, 8)),
        (0x401514d3, "fcvt.s.d f9, f10, rtz", Insn::FcvtSD(ArgsR2Rm { rd: 9, rs1: 10, rm: 1 }), enc::fcvt_s_d(9, 10, 1)),
        (0x420605d3, "fcvt.d.s f11, f12", Insn::FcvtDS(ArgsR2Rm { rd: 11, rs1: 12, rm: 0 }), enc::fcvt_d_s(11, 12, 0)),
        (0x083100bb, "add.uw x1, x2, x3", Insn::AddUw(ArgsR { rd: 1, rs1: 2, rs2: 3 }), enc::add_uw(1, 2, 3)),
        (0x2062a233, "sh1add x4, x5, x6", Insn::Sh1add(ArgsR { rd: 4, rs1: 5, rs2: 6 }), enc::sh1add(4, 5, 6)),
        (0x209443b3, "sh2add x7, x8, x9", Insn::Sh2add(ArgsR { rd: 7, rs1: 8, rs2: 9 }), enc::sh2add(7, 8, 9)),
        (0x20c5e533, "sh3add x10, x11, x12", Insn::Sh3add(ArgsR { rd: 10, rs1: 11, rs2: 12 }), enc::sh3add(10, 11, 12)),
        (0x20f726bb, "sh1add.uw x13, x14, x15", Insn::Sh1addUw(ArgsR { rd: 13, rs1: 14, rs2: 15 }), enc::sh1add_uw(13, 14, 15)),
        (0x2128c83b, "sh2add.uw x16, x17, x18", Insn::Sh2addUw(ArgsR { rd: 16, rs1: 17, rs2: 18 }), enc::sh2add_uw(16, 17, 18)),
        (0x215a69bb, "sh3add.uw x19, x20, x21", Insn::Sh3addUw(ArgsR { rd: 19, rs1: 20, rs2: 21 }), enc::sh3add_uw(19, 20, 21)),
        (0x0a8b9b1b, "slli.uw x22, x23, 40", Insn::SlliUw(ArgsShift { rd: 22, rs1: 23, shamt: 40 }), enc::slli_uw(22, 23, 40)),
        (0x403170b3, "andn x1, x2, x3", Insn::Andn(ArgsR { rd: 1, rs1: 2, rs2: 3 }), enc::andn(1, 2, 3)),
        (0x4062e233, "orn x4, x5, x6", Insn::Orn(ArgsR { rd: 4, rs1: 5, rs2: 6 }), enc::orn(4, 5, 6)),
        (0x409443b3, "xnor x7, x8, x9", Insn::Xnor(ArgsR { rd: 7, rs1: 8, rs2: 9 }), enc::xnor(7, 8, 9)),
        (0x60059513, "clz x10, x11", Insn::Clz(ArgsR2 { rd: 10, rs1: 11 }), enc::clz(10, 11)),
        (0x6006961b, "clzw x12, x13", Insn::Clzw(ArgsR2 { rd: 12, rs1: 13 }), enc::clzw(12, 13)),
        (0x60179713, "ctz x14, x15", Insn::Ctz(ArgsR2 { rd: 14, rs1: 15 }), enc::ctz(14, 15)),
        (0x6018981b, "ctzw x16, x17", Insn::Ctzw(ArgsR2 { rd: 16, rs1: 17 }), enc::ctzw(16, 17)),
        (0x60299913, "cpop x18, x19", Insn::Cpop(ArgsR2 { rd: 18, rs1: 19 }), enc::cpop(18, 19)),
        (0x602a9a1b, "cpopw x20, x21", Insn::Cpopw(ArgsR2 { rd: 20, rs1: 21 }), enc::cpopw(20, 21)),
        (0x0b8beb33, "max x22, x23, x24", Insn::Max(ArgsR { rd: 22, rs1: 23, rs2: 24 }), enc::max(22, 23, 24)),
        (0x0bbd7cb3, "maxu x25, x26, x27", Insn::Maxu(ArgsR { rd: 25, rs1: 26, rs2: 27 }), enc::maxu(25, 26, 27)),
        (0x0beece33, "min x28, x29, x30", Insn::Min(ArgsR { rd: 28, rs1: 29, rs2: 30 }), enc::min(28, 29, 30)),
        (0x0a20dfb3, "minu x31, x1, x2", Insn::Minu(ArgsR { rd: 31, rs1: 1, rs2: 2 }), enc::minu(31, 1, 2)),
        (0x60421193, "sext.b x3, x4", Insn::SextB(ArgsR2 { rd: 3, rs1: 4 }), enc::sext_b(3, 4)),
        (0x60531293, "sext.h x5, x6", Insn::SextH(ArgsR2 { rd: 5, rs1: 6 }), enc::sext_h(5, 6)),
        (0x080443bb, "zext.h x7, x8", Insn::ZextH(ArgsR2 { rd: 7, rs1: 8 }), enc::zext_h(7, 8)),
        (0x60b514b3, "rol x9, x10, x11", Insn::Rol(ArgsR { rd: 9, rs1: 10, rs2: 11 }), enc::rol(9, 10, 11)),
        (0x60e6963b, "rolw x12, x13, x14", Insn::Rolw(ArgsR { rd: 12, rs1: 13, rs2: 14 }), enc::rolw(12, 13, 14)),
        (0x611857b3, "ror x15, x16, x17", Insn::Ror(ArgsR { rd: 15, rs1: 16, rs2: 17 }), enc::ror(15, 16, 17)),
        (0x63f9d913, "rori x18, x19, 63", Insn::Rori(ArgsShift { rd: 18, rs1: 19, shamt: 63 }), enc::rori(18, 19, 63)),
        (0x61fada1b, "roriw x20, x21, 31", Insn::Roriw(ArgsShift { rd: 20, rs1: 21, shamt: 31 }), enc::roriw(20, 21, 31)),
        (0x618bdb3b, "rorw x22, x23, x24", Insn::Rorw(ArgsR { rd: 22, rs1: 23, rs2: 24 }), enc::rorw(22, 23, 24)),
        (0x287d5c93, "orc.b x25, x26", Insn::OrcB(ArgsR2 { rd: 25, rs1: 26 }), enc::orc_b(25, 26)),
        (0x6b8e5d93, "rev8 x27, x28", Insn::Rev8(ArgsR2 { rd: 27, rs1: 28 }), enc::rev8(27, 28)),
        (0x483110b3, "bclr x1, x2, x3", Insn::Bclr(ArgsR { rd: 1, rs1: 2, rs2: 3 }), enc::bclr(1, 2, 3)),
        (0x4bf29213, "bclri x4, x5, 63", Insn::Bclri(ArgsShift { rd: 4, rs1: 5, shamt: 63 }), enc::bclri(4, 5, 63)),
        (0x4883d333, "bext x6, x7, x8", Insn::Bext(ArgsR { rd: 6, rs1: 7, rs2: 8 }), enc::bext(6, 7, 8)),
        (0x48055493, "bexti x9, x10, 0", Insn::Bexti(ArgsShift { rd: 9, rs1: 10, shamt: 0 }), enc::bexti(9, 10, 0)),
        (0x68d615b3, "binv x11, x12, x13", Insn::Binv(ArgsR { rd: 11, rs1: 12, rs2: 13 }), enc::binv(11, 12, 13)),
        (0x6a179713, "binvi x14, x15, 33", Insn::Binvi(ArgsShift { rd: 14, rs1: 15, shamt: 33 }), enc::binvi(14, 15, 33)),
        (0x29289833, "bset x16, x17, x18", Insn::Bset(ArgsR { rd: 16, rs1: 17, rs2: 18 }), enc::bset(16, 17, 18)),
        (0x287a1993, "bseti x19, x20, 7", Insn::Bseti(ArgsShift { rd: 19, rs1: 20, shamt: 7 }), enc::bseti(19, 20, 7)),
        (0x0e3150b3, ".insn r 0x33, 5, 7, x1, x2, x3", Insn::CzeroEqz(ArgsR { rd: 1, rs1: 2, rs2: 3 }), enc::czero_eqz(1, 2, 3)),
        (0x0e62f233, ".insn r 0x33, 7, 7, x4, x5, x6", Insn::CzeroNez(ArgsR { rd: 4, rs1: 5, rs2: 6 }), enc::czero_nez(4, 5, 6)),
    ]
}

/// (halfword from GNU as, the assembly, hand-written expected base `Insn`, our `enc16` halfword)
#[rustfmt::skip]
fn known16() -> Vec<(u16, &'static str, Insn, u16)> {
    vec![
        (0x0800, "c.addi4spn x8, x2, 16", Insn::Addi(ArgsI { rd: 8, rs1: 2, imm: 16 }), enc16::c_addi4spn(8, 16)),
        (0x1ffc, "c.addi4spn x15, x2, 1020", Insn::Addi(ArgsI { rd: 15, rs1: 2, imm: 1020 }), enc16::c_addi4spn(15, 1020)),
        (0x2480, "c.fld f8, 8(x9)", Insn::Fld(ArgsI { rd: 8, rs1: 9, imm: 8 }), enc16::c_fld(8, 9, 8)),
        (0x3ffc, "c.fld f15, 248(x15)", Insn::Fld(ArgsI { rd: 15, rs1: 15, imm: 248 }), enc16::c_fld(15, 15, 248)),
        (0x40c0, "c.lw x8, 4(x9)", Insn::Lw(ArgsI { rd: 8, rs1: 9, imm: 4 }), enc16::c_lw(8, 9, 4)),
        (0x5de8, "c.lw x10, 124(x11)", Insn::Lw(ArgsI { rd: 10, rs1: 11, imm: 124 }), enc16::c_lw(10, 11, 124)),
        (0x7ef0, "c.ld x12, 248(x13)", Insn::Ld(ArgsI { rd: 12, rs1: 13, imm: 248 }), enc16::c_ld(12, 13, 248)),
        (0xa880, "c.fsd f8, 16(x9)", Insn::Fsd(ArgsS { rs1: 9, rs2: 8, imm: 16 }), enc16::c_fsd(9, 8, 16)),
        (0xc3b8, "c.sw x14, 64(x15)", Insn::Sw(ArgsS { rs1: 15, rs2: 14, imm: 64 }), enc16::c_sw(15, 14, 64)),
        (0xe140, "c.sd x8, 128(x10)", Insn::Sd(ArgsS { rs1: 10, rs2: 8, imm: 128 }), enc16::c_sd(10, 8, 128)),
        (0x0001, "c.nop", Insn::Addi(ArgsI { rd: 0, rs1: 0, imm: 0 }), enc16::c_addi(0, 0)),
        (0x12f5, "c.addi x5, -3", Insn::Addi(ArgsI { rd: 5, rs1: 5, imm: -3 }), enc16::c_addi(5, -3)),
        (0x0ffd, "c.addi x31, 31", Insn::Addi(ArgsI { rd: 31, rs1: 31, imm: 31 }), enc16::c_addi(31, 31)),
        (0x229d, "c.addiw x5, 7", Insn::Addiw(ArgsI { rd: 5, rs1: 5, imm: 7 }), enc16::c_addiw(5, 7)),
        (0x3301, "c.addiw x6, -32", Insn::Addiw(ArgsI { rd: 6, rs1: 6, imm: -32 }), enc16::c_addiw(6, -32)),
        (0x5301, "c.li x6, -32", Insn::Addi(ArgsI { rd: 6, rs1: 0, imm: -32 }), enc16::c_li(6, -32)),
        (0x7139, "c.addi16sp x2, -64", Insn::Addi(ArgsI { rd: 2, rs1: 2, imm: -64 }), enc16::c_addi16sp(-64)),
        (0x617d, "c.addi16sp x2, 496", Insn::Addi(ArgsI { rd: 2, rs1: 2, imm: 496 }), enc16::c_addi16sp(496)),
        (0x7101, "c.addi16sp x2, -512", Insn::Addi(ArgsI { rd: 2, rs1: 2, imm: -512 }), enc16::c_addi16sp(-512)),
        (0x63fd, "c.lui x7, 0x1f", Insn::Lui(ArgsU { rd: 7, imm: 0x1f000 }), enc16::c_lui(7, 0x1f000)),
        (0x7381, "c.lui x7, 0xfffe0", Insn::Lui(ArgsU { rd: 7, imm: -0x20000 }), enc16::c_lui(7, -0x20000)),
        (0x6185, "c.lui x3, 1", Insn::Lui(ArgsU { rd: 3, imm: 0x1000 }), enc16::c_lui(3, 0x1000)),
        (0x800d, "c.srli x8, 3", Insn::Srli(ArgsShift { rd: 8, rs1: 8, shamt: 3 }), enc16::c_srli(8, 3)),
        (0x93fd, "c.srli x15, 63", Insn::Srli(ArgsShift { rd: 15, rs1: 15, shamt: 63 }), enc16::c_srli(15, 63)),
        (0x9481, "c.srai x9, 32", Insn::Srai(ArgsShift { rd: 9, rs1: 9, shamt: 32 }), enc16::c_srai(9, 32)),
        (0x997d, "c.andi x10, -1", Insn::Andi(ArgsI { rd: 10, rs1: 10, imm: -1 }), enc16::c_andi(10, -1)),
        (0x89fd, "c.andi x11, 31", Insn::Andi(ArgsI { rd: 11, rs1: 11, imm: 31 }), enc16::c_andi(11, 31)),
        (0x8c05, "c.sub x8, x9", Insn::Sub(ArgsR { rd: 8, rs1: 8, rs2: 9 }), enc16::c_sub(8, 9)),
        (0x8d2d, "c.xor x10, x11", Insn::Xor(ArgsR { rd: 10, rs1: 10, rs2: 11 }), enc16::c_xor(10, 11)),
        (0x8e55, "c.or x12, x13", Insn::Or(ArgsR { rd: 12, rs1: 12, rs2: 13 }), enc16::c_or(12, 13)),
        (0x8f7d, "c.and x14, x15", Insn::And(ArgsR { rd: 14, rs1: 14, rs2: 15 }), enc16::c_and(14, 15)),
        (0x9f81, "c.subw x15, x8", Insn::Subw(ArgsR { rd: 15, rs1: 15, rs2: 8 }), enc16::c_subw(15, 8)),
        (0x9ca9, "c.addw x9, x10", Insn::Addw(ArgsR { rd: 9, rs1: 9, rs2: 10 }), enc16::c_addw(9, 10)),
        (0xa081, "c.j .+64", Insn::Jal(ArgsJ { rd: 0, imm: 64 }), enc16::c_j(64)),
        (0xb001, "c.j .-2048", Insn::Jal(ArgsJ { rd: 0, imm: -2048 }), enc16::c_j(-2048)),
        (0xaffd, "c.j .+2046", Insn::Jal(ArgsJ { rd: 0, imm: 2046 }), enc16::c_j(2046)),
        (0xd001, "c.beqz x8, .-256", Insn::Beq(ArgsB { rs1: 8, rs2: 0, imm: -256 }), enc16::c_beqz(8, -256)),
        (0xccfd, "c.beqz x9, .+254", Insn::Beq(ArgsB { rs1: 9, rs2: 0, imm: 254 }), enc16::c_beqz(9, 254)),
        (0xe389, "c.bnez x15, .+2", Insn::Bne(ArgsB { rs1: 15, rs2: 0, imm: 2 }), enc16::c_bnez(15, 2)),
        (0x0286, "c.slli x5, 1", Insn::Slli(ArgsShift { rd: 5, rs1: 5, shamt: 1 }), enc16::c_slli(5, 1)),
        (0x1ffe, "c.slli x31, 63", Insn::Slli(ArgsShift { rd: 31, rs1: 31, shamt: 63 }), enc16::c_slli(31, 63)),
        (0x32fe, "c.fldsp f5, 504(x2)", Insn::Fld(ArgsI { rd: 5, rs1: 2, imm: 504 }), enc16::c_fldsp(5, 504)),
        (0x2022, "c.fldsp f0, 8(x2)", Insn::Fld(ArgsI { rd: 0, rs1: 2, imm: 8 }), enc16::c_fldsp(0, 8)),
        (0x52fe, "c.lwsp x5, 252(x2)", Insn::Lw(ArgsI { rd: 5, rs1: 2, imm: 252 }), enc16::c_lwsp(5, 252)),
        (0x4092, "c.lwsp x1, 4(x2)", Insn::Lw(ArgsI { rd: 1, rs1: 2, imm: 4 }), enc16::c_lwsp(1, 4)),
        (0x72fe, "c.ldsp x5, 504(x2)", Insn::Ld(ArgsI { rd: 5, rs1: 2, imm: 504 }), enc16::c_ldsp(5, 504)),
        (0x6fa2, "c.ldsp x31, 8(x2)", Insn::Ld(ArgsI { rd: 31, rs1: 2, imm: 8 }), enc16::c_ldsp(31, 8)),
        (0x8082, "c.jr x1", Insn::Jalr(ArgsI { rd: 0, rs1: 1, imm: 0 }), enc16::c_jr(1)),
        (0x829a, "c.mv x5, x6", Insn::Add(ArgsR { rd: 5, rs1: 0, rs2: 6 }), enc16::c_mv(5, 6)),
        (0x9002, "c.ebreak", Insn::Ebreak(ArgsEmpty {}), enc16::c_ebreak()),
        (0x9282, "c.jalr x5", Insn::Jalr(ArgsI { rd: 1, rs1: 5, imm: 0 }), enc16::c_jalr(5)),
        (0x929a, "c.add x5, x6", Insn::Add(ArgsR { rd: 5, rs1: 5, rs2: 6 }), enc16::c_add(5, 6)),
        (0x910a, "c.add x2, x2", Insn::Add(ArgsR { rd: 2, rs1: 2, rs2: 2 }), enc16::c_add(2, 2)),
        (0xbf96, "c.fsdsp f5, 504(x2)", Insn::Fsd(ArgsS { rs1: 2, rs2: 5, imm: 504 }), enc16::c_fsdsp(5, 504)),
        (0xdf96, "c.swsp x5, 252(x2)", Insn::Sw(ArgsS { rs1: 2, rs2: 5, imm: 252 }), enc16::c_swsp(5, 252)),
        (0xc002, "c.swsp x0, 0(x2)", Insn::Sw(ArgsS { rs1: 2, rs2: 0, imm: 0 }), enc16::c_swsp(0, 0)),
        (0xff96, "c.sdsp x5, 504(x2)", Insn::Sd(ArgsS { rs1: 2, rs2: 5, imm: 504 }), enc16::c_sdsp(5, 504)),
    ]
}
