//! The A64 decoder against the encoder and against words taken from the Arm ARM's encodings:
//! every pattern decodes to its own instruction with its own operands, known instructions decode
//! to what the manual says, and unallocated encodings are rejected.

use mimic_arch_aarch64::decode::{decode32, enc, pattern32, Insn};
use mimic_arch_aarch64::sysreg::key;
use mimic_arch_aarch64::A64Insn;

/// Encode with `enc::$f`, decode, and check the variant and every operand (including the
/// constant ones the pattern fixes, after `;`).
macro_rules! rt {
    ($f:ident($($a:expr),*) => $v:ident { $($field:ident : $val:expr),* } $(; $cf:ident : $cv:expr)*) => {{
        let word = enc::$f($($a),*);
        assert_eq!(A64Insn::decode(word).op(), decode32(word), "{}: packed", stringify!($f));
        match decode32(word) {
            Some(Insn::$v(a)) => {
                let _ = &a;
                $(assert_eq!(a.$field, $val, "{}: operand {}", stringify!($f), stringify!($field));)*
                $(assert_eq!(a.$cf, $cv, "{}: constant {}", stringify!($f), stringify!($cf));)*
            }
            other => panic!("{} ({word:#010x}) decoded as {other:?}", stringify!($f)),
        }
    }};
}

#[test]
fn every_pattern_round_trips_through_its_encoder() {
    rt!(adr(3, -0x12345) => Adr { rd: 3, imm: -0x12345 });
    rt!(adrp(3, -0x12345000) => Adrp { rd: 3, imm: -0x12345000 });
    rt!(add_imm(1, 3, 4, 0xabc, 1) => AddImm { sf: 1, rd: 3, rn: 4, imm: 0xabc, sh: 1 });
    rt!(adds_imm(1, 3, 4, 0xabc, 1) => AddsImm { sf: 1, rd: 3, rn: 4, imm: 0xabc, sh: 1 });
    rt!(sub_imm(1, 3, 4, 0xabc, 1) => SubImm { sf: 1, rd: 3, rn: 4, imm: 0xabc, sh: 1 });
    rt!(subs_imm(1, 3, 4, 0xabc, 1) => SubsImm { sf: 1, rd: 3, rn: 4, imm: 0xabc, sh: 1 });
    rt!(and_imm(3, 4, 1, 5, 6) => AndImm { rd: 3, rn: 4, n: 1, immr: 5, imms: 6 }; sf: 1);
    rt!(orr_imm(3, 4, 1, 5, 6) => OrrImm { rd: 3, rn: 4, n: 1, immr: 5, imms: 6 }; sf: 1);
    rt!(eor_imm(3, 4, 1, 5, 6) => EorImm { rd: 3, rn: 4, n: 1, immr: 5, imms: 6 }; sf: 1);
    rt!(ands_imm(3, 4, 1, 5, 6) => AndsImm { rd: 3, rn: 4, n: 1, immr: 5, imms: 6 }; sf: 1);
    rt!(and_imm_w(3, 4, 5, 6) => AndImm { rd: 3, rn: 4, immr: 5, imms: 6 }; sf: 0; n: 0);
    rt!(orr_imm_w(3, 4, 5, 6) => OrrImm { rd: 3, rn: 4, immr: 5, imms: 6 }; sf: 0; n: 0);
    rt!(eor_imm_w(3, 4, 5, 6) => EorImm { rd: 3, rn: 4, immr: 5, imms: 6 }; sf: 0; n: 0);
    rt!(ands_imm_w(3, 4, 5, 6) => AndsImm { rd: 3, rn: 4, immr: 5, imms: 6 }; sf: 0; n: 0);
    rt!(movn(3, 0x1234, 1) => Movn { rd: 3, imm: 0x1234, hw: 1 }; sf: 1);
    rt!(movz(3, 0x1234, 1) => Movz { rd: 3, imm: 0x1234, hw: 1 }; sf: 1);
    rt!(movk(3, 0x1234, 1) => Movk { rd: 3, imm: 0x1234, hw: 1 }; sf: 1);
    rt!(movn_w(3, 0x1234, 1) => Movn { rd: 3, imm: 0x1234, hw: 1 }; sf: 0);
    rt!(movz_w(3, 0x1234, 1) => Movz { rd: 3, imm: 0x1234, hw: 1 }; sf: 0);
    rt!(movk_w(3, 0x1234, 1) => Movk { rd: 3, imm: 0x1234, hw: 1 }; sf: 0);
    rt!(sbfm(3, 4, 5, 6) => Sbfm { rd: 3, rn: 4, immr: 5, imms: 6 }; sf: 1);
    rt!(bfm(3, 4, 5, 6) => Bfm { rd: 3, rn: 4, immr: 5, imms: 6 }; sf: 1);
    rt!(ubfm(3, 4, 5, 6) => Ubfm { rd: 3, rn: 4, immr: 5, imms: 6 }; sf: 1);
    rt!(sbfm_w(3, 4, 5, 6) => Sbfm { rd: 3, rn: 4, immr: 5, imms: 6 }; sf: 0);
    rt!(bfm_w(3, 4, 5, 6) => Bfm { rd: 3, rn: 4, immr: 5, imms: 6 }; sf: 0);
    rt!(ubfm_w(3, 4, 5, 6) => Ubfm { rd: 3, rn: 4, immr: 5, imms: 6 }; sf: 0);
    rt!(extr(3, 4, 5, 9) => Extr { rd: 3, rn: 4, rm: 5, lsb: 9 }; sf: 1);
    rt!(extr_w(3, 4, 5, 9) => Extr { rd: 3, rn: 4, rm: 5, lsb: 9 }; sf: 0);
    rt!(and_reg(3, 4, 5, 1, 3) => AndReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 1);
    rt!(bic_reg(3, 4, 5, 1, 3) => BicReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 1);
    rt!(orr_reg(3, 4, 5, 1, 3) => OrrReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 1);
    rt!(orn_reg(3, 4, 5, 1, 3) => OrnReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 1);
    rt!(eor_reg(3, 4, 5, 1, 3) => EorReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 1);
    rt!(eon_reg(3, 4, 5, 1, 3) => EonReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 1);
    rt!(ands_reg(3, 4, 5, 1, 3) => AndsReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 1);
    rt!(bics_reg(3, 4, 5, 1, 3) => BicsReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 1);
    rt!(and_reg_w(3, 4, 5, 1, 3) => AndReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 0);
    rt!(bic_reg_w(3, 4, 5, 1, 3) => BicReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 0);
    rt!(orr_reg_w(3, 4, 5, 1, 3) => OrrReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 0);
    rt!(orn_reg_w(3, 4, 5, 1, 3) => OrnReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 0);
    rt!(eor_reg_w(3, 4, 5, 1, 3) => EorReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 0);
    rt!(eon_reg_w(3, 4, 5, 1, 3) => EonReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 0);
    rt!(ands_reg_w(3, 4, 5, 1, 3) => AndsReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 0);
    rt!(bics_reg_w(3, 4, 5, 1, 3) => BicsReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 0);
    rt!(add_reg(3, 4, 5, 1, 3) => AddReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 1);
    rt!(adds_reg(3, 4, 5, 1, 3) => AddsReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 1);
    rt!(sub_reg(3, 4, 5, 1, 3) => SubReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 1);
    rt!(subs_reg(3, 4, 5, 1, 3) => SubsReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 1);
    rt!(add_reg_w(3, 4, 5, 1, 3) => AddReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 0);
    rt!(adds_reg_w(3, 4, 5, 1, 3) => AddsReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 0);
    rt!(sub_reg_w(3, 4, 5, 1, 3) => SubReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 0);
    rt!(subs_reg_w(3, 4, 5, 1, 3) => SubsReg { rd: 3, rn: 4, rm: 5, shift: 1, amount: 3 }; sf: 0);
    rt!(add_ext(1, 3, 4, 5, 2, 3) => AddExt { sf: 1, rd: 3, rn: 4, rm: 5, option: 2, amount: 3 });
    rt!(adds_ext(1, 3, 4, 5, 2, 3) => AddsExt { sf: 1, rd: 3, rn: 4, rm: 5, option: 2, amount: 3 });
    rt!(sub_ext(1, 3, 4, 5, 2, 3) => SubExt { sf: 1, rd: 3, rn: 4, rm: 5, option: 2, amount: 3 });
    rt!(subs_ext(1, 3, 4, 5, 2, 3) => SubsExt { sf: 1, rd: 3, rn: 4, rm: 5, option: 2, amount: 3 });
    rt!(adc(1, 3, 4, 5) => Adc { sf: 1, rd: 3, rn: 4, rm: 5 });
    rt!(adcs(1, 3, 4, 5) => Adcs { sf: 1, rd: 3, rn: 4, rm: 5 });
    rt!(sbc(1, 3, 4, 5) => Sbc { sf: 1, rd: 3, rn: 4, rm: 5 });
    rt!(sbcs(1, 3, 4, 5) => Sbcs { sf: 1, rd: 3, rn: 4, rm: 5 });
    rt!(ccmn_reg(1, 4, 5, 0xb, 0xa) => CcmnReg { sf: 1, rn: 4, rm: 5, cond: 0xb, nzcv: 0xa });
    rt!(ccmp_reg(1, 4, 5, 0xb, 0xa) => CcmpReg { sf: 1, rn: 4, rm: 5, cond: 0xb, nzcv: 0xa });
    rt!(ccmn_imm(1, 4, 0x1b, 0xb, 0xa) => CcmnImm { sf: 1, rn: 4, imm: 0x1b, cond: 0xb, nzcv: 0xa });
    rt!(ccmp_imm(1, 4, 0x1b, 0xb, 0xa) => CcmpImm { sf: 1, rn: 4, imm: 0x1b, cond: 0xb, nzcv: 0xa });
    rt!(csel(1, 3, 4, 5, 0xb) => Csel { sf: 1, rd: 3, rn: 4, rm: 5, cond: 0xb });
    rt!(csinc(1, 3, 4, 5, 0xb) => Csinc { sf: 1, rd: 3, rn: 4, rm: 5, cond: 0xb });
    rt!(csinv(1, 3, 4, 5, 0xb) => Csinv { sf: 1, rd: 3, rn: 4, rm: 5, cond: 0xb });
    rt!(csneg(1, 3, 4, 5, 0xb) => Csneg { sf: 1, rd: 3, rn: 4, rm: 5, cond: 0xb });
    rt!(udiv(1, 3, 4, 5) => Udiv { sf: 1, rd: 3, rn: 4, rm: 5 });
    rt!(sdiv(1, 3, 4, 5) => Sdiv { sf: 1, rd: 3, rn: 4, rm: 5 });
    rt!(lslv(1, 3, 4, 5) => Lslv { sf: 1, rd: 3, rn: 4, rm: 5 });
    rt!(lsrv(1, 3, 4, 5) => Lsrv { sf: 1, rd: 3, rn: 4, rm: 5 });
    rt!(asrv(1, 3, 4, 5) => Asrv { sf: 1, rd: 3, rn: 4, rm: 5 });
    rt!(rorv(1, 3, 4, 5) => Rorv { sf: 1, rd: 3, rn: 4, rm: 5 });
    rt!(rbit(1, 3, 4) => Rbit { sf: 1, rd: 3, rn: 4 });
    rt!(rev16(1, 3, 4) => Rev16 { sf: 1, rd: 3, rn: 4 });
    rt!(rev32(3, 4) => Rev32 { rd: 3, rn: 4 }; sf: 1);
    rt!(rev(3, 4) => Rev { rd: 3, rn: 4 }; sf: 1);
    rt!(rev_w(3, 4) => Rev { rd: 3, rn: 4 }; sf: 0);
    rt!(clz(1, 3, 4) => Clz { sf: 1, rd: 3, rn: 4 });
    rt!(cls(1, 3, 4) => Cls { sf: 1, rd: 3, rn: 4 });
    rt!(madd(1, 3, 4, 5, 6) => Madd { sf: 1, rd: 3, rn: 4, rm: 5, ra: 6 });
    rt!(msub(1, 3, 4, 5, 6) => Msub { sf: 1, rd: 3, rn: 4, rm: 5, ra: 6 });
    rt!(smaddl(3, 4, 5, 6) => Smaddl { rd: 3, rn: 4, rm: 5, ra: 6 }; sf: 1);
    rt!(smsubl(3, 4, 5, 6) => Smsubl { rd: 3, rn: 4, rm: 5, ra: 6 }; sf: 1);
    rt!(umaddl(3, 4, 5, 6) => Umaddl { rd: 3, rn: 4, rm: 5, ra: 6 }; sf: 1);
    rt!(umsubl(3, 4, 5, 6) => Umsubl { rd: 3, rn: 4, rm: 5, ra: 6 }; sf: 1);
    rt!(smulh(3, 4, 5) => Smulh { rd: 3, rn: 4, rm: 5 }; sf: 1);
    rt!(umulh(3, 4, 5) => Umulh { rd: 3, rn: 4, rm: 5 }; sf: 1);
    rt!(b(-0x1000) => B { imm: -0x1000 });
    rt!(bl(-0x1000) => Bl { imm: -0x1000 });
    rt!(b_cond(0xb, 0x7fc) => BCond { cond: 0xb, imm: 0x7fc });
    rt!(cbz(1, 7, 0x7fc) => Cbz { sf: 1, rt: 7, imm: 0x7fc });
    rt!(cbnz(1, 7, 0x7fc) => Cbnz { sf: 1, rt: 7, imm: 0x7fc });
    rt!(tbz(7, 37, -0x100) => Tbz { rt: 7, bit: 37, imm: -0x100 });
    rt!(tbnz(7, 37, -0x100) => Tbnz { rt: 7, bit: 37, imm: -0x100 });
    rt!(br(4) => Br { rn: 4 });
    rt!(blr(4) => Blr { rn: 4 });
    rt!(ret(4) => Ret { rn: 4 });
    rt!(wfi() => Wfi {  });
    rt!(hint(0x25) => Hint { imm: 0x25 });
    rt!(ldst_uimm(2, 1, 7, 4, 0xabc) => LdstUimm { size: 2, opc: 1, rt: 7, rn: 4, imm: 0xabc });
    rt!(ldst_unscaled(2, 1, 7, 4, -0x55) => LdstUnscaled { size: 2, opc: 1, rt: 7, rn: 4, imm: -0x55 });
    rt!(ldst_unpriv(2, 1, 7, 4, -0x55) => LdstUnpriv { size: 2, opc: 1, rt: 7, rn: 4, imm: -0x55 });
    rt!(ldst_post(2, 1, 7, 4, -0x55) => LdstPost { size: 2, opc: 1, rt: 7, rn: 4, imm: -0x55 });
    rt!(ldst_pre(2, 1, 7, 4, -0x55) => LdstPre { size: 2, opc: 1, rt: 7, rn: 4, imm: -0x55 });
    rt!(ldst_reg(2, 1, 7, 4, 5, 3, 1) => LdstReg { size: 2, opc: 1, rt: 7, rn: 4, rm: 5, ext: 3, s: 1 });
    rt!(ldr_lit_w(7, -0x400) => LdrLitW { rt: 7, imm: -0x400 });
    rt!(ldr_lit_x(7, -0x400) => LdrLitX { rt: 7, imm: -0x400 });
    rt!(ldrsw_lit(7, -0x400) => LdrswLit { rt: 7, imm: -0x400 });
    rt!(prfm_lit(7, -0x400) => PrfmLit { rt: 7, imm: -0x400 });
    rt!(crc32(2, 1, 3, 4, 5) => Crc32 { sz: 2, c: 1, rd: 3, rn: 4, rm: 5 });
    rt!(crc32x(0, 3, 4, 5) => Crc32 { c: 0, rd: 3, rn: 4, rm: 5 }; sz: 3);
    rt!(stxr(2, 9, 7, 4, 1) => Stxr { size: 2, rs: 9, rt: 7, rn: 4, ordered: 1 });
    rt!(ldxr(1, 7, 4, 0) => Ldxr { size: 1, rt: 7, rn: 4, ordered: 0 });
    rt!(stxp(1, 9, 7, 8, 4, 1) => Stxp { sz: 1, rs: 9, rt: 7, rt2: 8, rn: 4, ordered: 1 });
    rt!(ldxp(0, 7, 8, 4, 1) => Ldxp { sz: 0, rt: 7, rt2: 8, rn: 4, ordered: 1 });
    rt!(stlr(3, 7, 4) => Stlr { size: 3, rt: 7, rn: 4 });
    rt!(ldar(0, 7, 4) => Ldar { size: 0, rt: 7, rn: 4 });
    rt!(svc(0x1234) => Svc { imm: 0x1234 });
    rt!(hvc(0xffff) => Hvc { imm: 0xffff });
    rt!(smc(1) => Smc { imm: 1 });
    rt!(brk(0x3e8) => Brk { imm: 0x3e8 });
    rt!(clrex() => Clrex {});
    rt!(dsb(0xb) => Dsb { crm: 0xb });
    rt!(dmb(0x9) => Dmb { crm: 0x9 });
    rt!(isb() => Isb {});
    rt!(wfe() => Wfe {});
    rt!(eret() => Eret {});
    rt!(mrs(0xc081, 7) => Mrs { key: 0xc081, rt: 7 });
    rt!(msr_reg(0x8004, 31) => MsrReg { key: 0x8004, rt: 31 });
    rt!(sys(3, 7, 4, 1, 9) => Sys { op1: 3, crn: 7, crm: 4, op2: 1, rt: 9 });
    rt!(msr_imm(3, 0xa, 7) => MsrImm { op1: 3, crm: 0xa, op2: 7 });
    rt!(ldstp_nt(2, 1, 7, 8, 4, -5) => LdstpNt { opc: 2, l: 1, rt: 7, rt2: 8, rn: 4, imm: -5 });
    rt!(ldstp_post(2, 1, 7, 8, 4, -5) => LdstpPost { opc: 2, l: 1, rt: 7, rt2: 8, rn: 4, imm: -5 });
    rt!(ldstp_off(2, 1, 7, 8, 4, -5) => LdstpOff { opc: 2, l: 1, rt: 7, rt2: 8, rn: 4, imm: -5 });
    rt!(ldstp_pre(2, 1, 7, 8, 4, -5) => LdstpPre { opc: 2, l: 1, rt: 7, rt2: 8, rn: 4, imm: -5 });
}

#[test]
fn manual_encodings_decode_to_their_instruction() {
    // (word from the Arm ARM's encoding diagrams, what the assembler writes, encoder call)
    let cases: &[(u32, &str, u32)] = &[
        (0x9100_0420, "add x0, x1, #1", enc::add_imm(1, 0, 1, 1, 0)),
        (0xd100_43ff, "sub sp, sp, #0x10", enc::sub_imm(1, 31, 31, 0x10, 0)),
        (0xd280_0000, "movz x0, #0", enc::movz(0, 0, 0)),
        (0xf2a2_4680, "movk x0, #0x1234, lsl #16", enc::movk(0, 0x1234, 1)),
        (0xd65f_03c0, "ret", enc::ret(30)),
        (0xd503_201f, "nop", enc::hint(0)),
        (0xd503_207f, "wfi", enc::wfi()),
        (0x9400_0000, "bl .", enc::bl(0)),
        (0x5400_0040, "b.eq .+8", enc::b_cond(0, 8)),
        (0xf940_0020, "ldr x0, [x1]", enc::ldst_uimm(3, 1, 0, 1, 0)),
        (0xb900_0fe0, "str w0, [sp, #12]", enc::ldst_uimm(2, 0, 0, 31, 3)),
        (0xa9bf_7bfd, "stp x29, x30, [sp, #-16]!", enc::ldstp_pre(2, 0, 29, 30, 31, -2)),
        (0xa8c1_7bfd, "ldp x29, x30, [sp], #16", enc::ldstp_post(2, 1, 29, 30, 31, 2)),
        (0x9000_0000, "adrp x0, .", enc::adrp(0, 0)),
        (0x9240_1c00, "and x0, x0, #0xff", enc::and_imm(0, 0, 1, 0, 7)),
        (0x3200_03e0, "orr w0, wzr, #1", enc::orr_imm_w(0, 31, 0, 0)),
        (0xd37c_ec20, "lsl x0, x1, #4", enc::ubfm(0, 1, 60, 59)),
        (0xeb01_001f, "cmp x0, x1", enc::subs_reg(31, 0, 1, 0, 0)),
        (0x9a82_0020, "csel x0, x1, x2, eq", enc::csel(1, 0, 1, 2, 0)),
        (0x9b02_7c20, "mul x0, x1, x2", enc::madd(1, 0, 1, 2, 31)),
        (0x9ac2_0820, "udiv x0, x1, x2", enc::udiv(1, 0, 1, 2)),
        (0x3940_0420, "ldrb w0, [x1, #1]", enc::ldst_uimm(0, 1, 0, 1, 1)),
        (0xb980_0020, "ldrsw x0, [x1]", enc::ldst_uimm(2, 2, 0, 1, 0)),
        (0xb400_0040, "cbz x0, .+8", enc::cbz(1, 0, 8)),
        (0x3718_0040, "tbnz w0, #3, .+8", enc::tbnz(0, 3, 8)),
        (0xf862_7820, "ldr x0, [x1, x2, lsl #3]", enc::ldst_reg(3, 1, 0, 1, 2, 1, 1)),
        (0xdac0_1020, "clz x0, x1", enc::clz(1, 0, 1)),
        (0xdac0_0c20, "rev x0, x1", enc::rev(0, 1)),
        (0x93c2_2020, "extr x0, x1, x2, #8", enc::extr(0, 1, 2, 8)),
        (0xaa01_03e0, "mov x0, x1", enc::orr_reg(0, 31, 1, 0, 0)),
        (0x9100_03e0, "mov x0, sp", enc::add_imm(1, 0, 31, 0, 0)),
        (0x1400_0000, "b .", enc::b(0)),
        (0xd63f_0020, "blr x1", enc::blr(1)),
        (0xd61f_0020, "br x1", enc::br(1)),
        (0x1a9f_17e0, "cset w0, eq", enc::csinc(0, 0, 31, 31, 1)),
        (0x9b22_7c20, "smull x0, w1, w2", enc::smaddl(0, 1, 2, 31)),
        (0x5800_0040, "ldr x0, .+8", enc::ldr_lit_x(0, 8)),
        (0xb840_1820, "ldtr w0, [x1, #1]", enc::ldst_unpriv(2, 1, 0, 1, 1)),
        (0xc85f_7c20, "ldxr x0, [x1]", enc::ldxr(3, 0, 1, 0)),
        (0xc802_7c20, "stxr w2, x0, [x1]", enc::stxr(3, 2, 0, 1, 0)),
        (0x885f_fc20, "ldaxr w0, [x1]", enc::ldxr(2, 0, 1, 1)),
        (0x8802_fc20, "stlxr w2, w0, [x1]", enc::stxr(2, 2, 0, 1, 1)),
        (0xc87f_0820, "ldxp x0, x2, [x1]", enc::ldxp(1, 0, 2, 1, 0)),
        (0xc8df_fc20, "ldar x0, [x1]", enc::ldar(3, 0, 1)),
        (0xc89f_fc20, "stlr x0, [x1]", enc::stlr(3, 0, 1)),
        (0xd503_3bbf, "dmb ish", enc::dmb(0xb)),
        (0xd400_0001, "svc #0", enc::svc(0)),
        (0xd400_0002, "hvc #0", enc::hvc(0)),
        (0xd400_0003, "smc #0", enc::smc(0)),
        (0xd420_7d00, "brk #0x3e8", enc::brk(0x3e8)),
        (0x1ac2_4020, "crc32b w0, w1, w2", enc::crc32(0, 0, 0, 1, 2)),
        (0x9ac2_5c20, "crc32cx w0, w1, x2", enc::crc32x(1, 0, 1, 2)),
        (0xd503_3f9f, "dsb sy", enc::dsb(0xf)),
        (0xd538_1000, "mrs x0, sctlr_el1", enc::mrs(key(3, 0, 1, 0, 0), 0)),
        (0xd518_1000, "msr sctlr_el1, x0", enc::msr_reg(key(3, 0, 1, 0, 0), 0)),
        (0xd538_4240, "mrs x0, currentel", enc::mrs(key(3, 0, 4, 2, 2), 0)),
        (0xd53b_e041, "mrs x1, cntvct_el0", enc::mrs(key(3, 3, 14, 0, 2), 1)),
        (0xd503_42ff, "msr daifclr, #2", enc::msr_imm(3, 2, 7)),
        (0xd503_4fdf, "msr daifset, #0xf", enc::msr_imm(3, 0xf, 6)),
        (0xd500_41bf, "msr spsel, #1", enc::msr_imm(0, 1, 5)),
        (0xd500_419f, "msr pan, #1", enc::msr_imm(0, 1, 4)),
        (0xd50b_7420, "dc zva, x0", enc::sys(3, 7, 4, 1, 0)),
        (0xd508_751f, "ic iallu", enc::sys(0, 7, 5, 0, 31)),
        (0xd508_871f, "tlbi vmalle1", enc::sys(0, 8, 7, 0, 31)),
        (0xd69f_03e0, "eret", enc::eret()),
        (0xd503_205f, "wfe", enc::wfe()),
    ];
    for &(word, text, encoded) in cases {
        assert_eq!(encoded, word, "{text}: encoder gives {encoded:#010x}");
        assert!(decode32(word).is_some(), "{text} ({word:#010x}) does not decode");
    }
}

#[test]
fn barriers_decode_whatever_their_ignored_crm() {
    assert_eq!(decode32(0xd503_3fdf), Some(Insn::Isb(mimic_arch_aarch64::decode::ArgsEmpty {})), "isb sy");
    assert_eq!(decode32(0xd503_3f5f), Some(Insn::Clrex(mimic_arch_aarch64::decode::ArgsEmpty {})), "clrex #15");
}

#[test]
fn unallocated_encodings_decode_to_none() {
    let cases: &[(u32, &str)] = &[
        (0x0000_0000, "UDF #0"),
        (0x1240_0000, "AND (immediate) W with N = 1"),
        (0x52c0_0000, "MOVZ W with hw = 2"),
        (0x3280_0000, "MOVN-space opc 01"),
        (0x1340_0000, "SBFM W with N = 1"),
        (0x9300_0000, "SBFM X with N = 0"),
        (0x1300_8000, "SBFM W with imms<5> = 1"),
        (0x1320_0000, "SBFM W with immr<5> = 1"),
        (0x13c0_0000, "EXTR W with N = 1"),
        (0x1380_8000, "EXTR W with imms<5> = 1"),
        (0x0a00_8000, "AND (shifted register) W with imm6<5> = 1"),
        (0x0b00_8000, "ADD (shifted register) W with imm6<5> = 1"),
        (0x8bc0_0000, "ADD (shifted register) with shift ROR"),
        (0x8b20_1400, "ADD (extended register) with a shift of 5"),
        (0x8b20_1c00, "ADD (extended register) with a shift of 7"),
        (0x5ac0_0c00, "REV X opcode with sf = 0"),
        (0x9b40_0000, "SMULH with Ra != 31"),
        (0xd61f_0021, "BR with op4 != 0"),
        (0xb9c0_0000, "LDR (unsigned offset) size 10 opc 11"),
        (0xf9c0_0000, "LDR (unsigned offset) size 11 opc 11"),
        (0xf880_0400, "post-index size 11 opc 10 (no PRFM form)"),
        (0xf8a0_0800, "unprivileged size 11 opc 10 (no PRFM form)"),
        (0xb8c0_0800, "unprivileged size 10 opc 11"),
        (0xf860_2800, "LDR (register) with option 001 (option<1> must be 1)"),
        (0xe940_0000, "LDP opc 11"),
        (0x6900_0000, "STGP (opc 01, L 0)"),
        (0x6840_0000, "LDNP opc 01"),
        (0x5400_0010, "B.cond with bit 4 set (BC.cond, FEAT_HBC)"),
        (0xd440_0000, "HLT (halting debug is off)"),
        (0xd400_0005, "SVC with op2 != 0"),
        (0xc85f_7820, "LDXR with Rt2 != 31"),
        (0x1ac2_4c20, "CRC32X opcode with sf = 0"),
        (0x9ac2_4420, "CRC32H opcode with sf = 1"),
        (0x087f_7c20, "CASPA with an odd Rs"),
        (0x0862_7c23, "CASP with an odd Rt"),
        (0xc8df_7c20, "LDLAR (o2 = 1, o0 = 0: FEAT_LOR)"),
        (0xd528_0000, "SYSL (no SYSL operations exist)"),
        (0xd503_40c0, "MSR (immediate) with Rt != 31"),
        (0xd69f_03e1, "ERET with Rn != 31"),
    ];
    for &(word, what) in cases {
        assert_eq!(decode32(word), None, "{what} ({word:#010x}) decoded");
    }
}

#[test]
fn w_forms_share_the_x_instruction() {
    assert!(matches!(decode32(enc::sbfm_w(1, 2, 3, 4)), Some(Insn::Sbfm(a)) if a.sf == 0));
    assert!(matches!(decode32(enc::sbfm(1, 2, 3, 4)), Some(Insn::Sbfm(a)) if a.sf == 1));
}

#[test]
fn lse_and_crypto_patterns_round_trip_through_their_encoders() {
    rt!(ldadd(3, 2, 9, 31, 7) => Ldadd { size: 3, ar: 2, rs: 9, rn: 31, rt: 7 });
    rt!(ldclr(0, 1, 9, 4, 31) => Ldclr { size: 0, ar: 1, rs: 9, rn: 4, rt: 31 });
    rt!(ldeor(1, 3, 9, 4, 7) => Ldeor { size: 1, ar: 3, rs: 9, rn: 4, rt: 7 });
    rt!(ldset(2, 0, 9, 4, 7) => Ldset { size: 2, ar: 0, rs: 9, rn: 4, rt: 7 });
    rt!(ldsmax(3, 1, 31, 4, 7) => Ldsmax { size: 3, ar: 1, rs: 31, rn: 4, rt: 7 });
    rt!(ldsmin(0, 2, 9, 4, 7) => Ldsmin { size: 0, ar: 2, rs: 9, rn: 4, rt: 7 });
    rt!(ldumax(1, 0, 9, 4, 7) => Ldumax { size: 1, ar: 0, rs: 9, rn: 4, rt: 7 });
    rt!(ldumin(2, 3, 9, 4, 7) => Ldumin { size: 2, ar: 3, rs: 9, rn: 4, rt: 7 });
    rt!(swp(3, 3, 9, 4, 7) => Swp { size: 3, ar: 3, rs: 9, rn: 4, rt: 7 });
    rt!(cas(1, 2, 9, 4, 7) => Cas { size: 1, ord: 2, rs: 9, rn: 4, rt: 7 });
    rt!(casp(1, 1, 8, 4, 6) => Casp { size: 1, ord: 1, rs: 8, rn: 4, rt: 6 });
    rt!(aese(3, 4) => Aese { rd: 3, rn: 4 }; rm: 0);
    rt!(aesd(3, 4) => Aesd { rd: 3, rn: 4 });
    rt!(aesmc(3, 4) => Aesmc { rd: 3, rn: 4 });
    rt!(aesimc(3, 4) => Aesimc { rd: 3, rn: 4 });
    rt!(sha1c(3, 4, 5) => Sha1c { rd: 3, rn: 4, rm: 5 });
    rt!(sha1p(3, 4, 5) => Sha1p { rd: 3, rn: 4, rm: 5 });
    rt!(sha1m(3, 4, 5) => Sha1m { rd: 3, rn: 4, rm: 5 });
    rt!(sha1su0(3, 4, 5) => Sha1su0 { rd: 3, rn: 4, rm: 5 });
    rt!(sha256h(3, 4, 5) => Sha256h { rd: 3, rn: 4, rm: 5 });
    rt!(sha256h2(3, 4, 5) => Sha256h2 { rd: 3, rn: 4, rm: 5 });
    rt!(sha256su1(3, 4, 5) => Sha256su1 { rd: 3, rn: 4, rm: 5 });
    rt!(sha1h(3, 4) => Sha1h { rd: 3, rn: 4 });
    rt!(sha1su1(3, 4) => Sha1su1 { rd: 3, rn: 4 });
    rt!(sha256su0(3, 4) => Sha256su0 { rd: 3, rn: 4 });
}

#[test]
fn lse_and_crypto_words_as_binutils_assembles_them() {
    // aarch64-linux-gnu-as -march=armv8.1-a+crypto
    let cases: &[(u32, &str, Option<u32>)] = &[
        (0xf822_0023, "ldadd x2, x3, [x1]", Some(enc::ldadd(3, 0, 2, 1, 3))),
        (0x38e2_03e3, "ldaddalb w2, w3, [sp]", Some(enc::ldadd(0, 3, 2, 31, 3))),
        (0x7822_103f, "stclrh w2, [x1]", Some(enc::ldclr(1, 0, 2, 1, 31))),
        (0xb8a2_2023, "ldeora w2, w3, [x1]", Some(enc::ldeor(2, 2, 2, 1, 3))),
        (0xf862_3023, "ldsetl x2, x3, [x1]", Some(enc::ldset(3, 1, 2, 1, 3))),
        (0xb822_4023, "ldsmax w2, w3, [x1]", Some(enc::ldsmax(2, 0, 2, 1, 3))),
        (0xf8e2_5023, "ldsminal x2, x3, [x1]", Some(enc::ldsmin(3, 3, 2, 1, 3))),
        (0x3822_6023, "ldumaxb w2, w3, [x1]", Some(enc::ldumax(0, 0, 2, 1, 3))),
        (0x7822_7023, "lduminh w2, w3, [x1]", Some(enc::ldumin(1, 0, 2, 1, 3))),
        (0xf8e2_8023, "swpal x2, x3, [x1]", Some(enc::swp(3, 3, 2, 1, 3))),
        (0xc8a2_7c23, "cas x2, x3, [x1]", Some(enc::cas(3, 0, 2, 1, 3))),
        (0x08e2_fc23, "casalb w2, w3, [x1]", Some(enc::cas(0, 3, 2, 1, 3))),
        (0x4822_7c24, "casp x2, x3, x4, x5, [x1]", Some(enc::casp(1, 0, 2, 1, 4))),
        (0x0862_fc24, "caspal w2, w3, w4, w5, [x1]", Some(enc::casp(0, 3, 2, 1, 4))),
        (0x4e28_4820, "aese v0.16b, v1.16b", Some(enc::aese(0, 1))),
        (0x4e28_5820, "aesd v0.16b, v1.16b", Some(enc::aesd(0, 1))),
        (0x4e28_6820, "aesmc v0.16b, v1.16b", Some(enc::aesmc(0, 1))),
        (0x4e28_7820, "aesimc v0.16b, v1.16b", Some(enc::aesimc(0, 1))),
        (0x5e02_0020, "sha1c q0, s1, v2.4s", Some(enc::sha1c(0, 1, 2))),
        (0x5e02_1020, "sha1p q0, s1, v2.4s", Some(enc::sha1p(0, 1, 2))),
        (0x5e02_2020, "sha1m q0, s1, v2.4s", Some(enc::sha1m(0, 1, 2))),
        (0x5e02_3020, "sha1su0 v0.4s, v1.4s, v2.4s", Some(enc::sha1su0(0, 1, 2))),
        (0x5e02_4020, "sha256h q0, q1, v2.4s", Some(enc::sha256h(0, 1, 2))),
        (0x5e02_5020, "sha256h2 q0, q1, v2.4s", Some(enc::sha256h2(0, 1, 2))),
        (0x5e02_6020, "sha256su1 v0.4s, v1.4s, v2.4s", Some(enc::sha256su1(0, 1, 2))),
        (0x5e28_0820, "sha1h s0, s1", Some(enc::sha1h(0, 1))),
        (0x5e28_1820, "sha1su1 v0.4s, v1.4s", Some(enc::sha1su1(0, 1))),
        (0x5e28_2820, "sha256su0 v0.4s, v1.4s", Some(enc::sha256su0(0, 1))),
        (0x0ee2_e020, "pmull v0.1q, v1.1d, v2.1d", None),
        (0x4ee2_e020, "pmull2 v0.1q, v1.2d, v2.2d", None),
    ];
    for &(word, text, encoded) in cases {
        if let Some(e) = encoded {
            assert_eq!(e, word, "{text}: encoder gives {e:#010x}");
        }
        assert!(decode32(word).is_some(), "{text} ({word:#010x}) does not decode");
    }
}

#[test]
fn unallocated_neighbours_of_the_lse_and_crypto_encodings_are_rejected() {
    for (word, what) in [
        (0xf822_9023, "o3 = 1 with opc 001"),
        (0xc8a2_7823, "CAS with Rt2 other than 11111"),
        (0x5e02_7020, "SHA three-register opcode 111"),
        (0x4e28_0820, "AES opcode 00000"),
    ] {
        assert!(decode32(word).is_none(), "{what} ({word:#010x}) decodes as {:?}", decode32(word));
    }
}

#[test]
fn pointer_authentication_patterns_round_trip() {
    rt!(pac(2, 3, 31) => Pac { key: 2, rd: 3, rn: 31 });
    rt!(aut(1, 3, 4) => Aut { key: 1, rd: 3, rn: 4 });
    rt!(pac_z(3, 5) => Pac { key: 3, rd: 5 }; rn: 32);
    rt!(aut_z(0, 5) => Aut { key: 0, rd: 5 }; rn: 32);
    rt!(xpac(1, 6) => Xpac { key: 1, rd: 6 }; rn: 31);
    rt!(pacga(1, 2, 31) => Pacga { rd: 1, rn: 2, rm: 31 }; sf: 1);
    rt!(pauth_hint(0b000_1110) => PauthHint { imm: 0b000_1110 });
    rt!(pauth_hint_lr(0b001_1101) => PauthHint { imm: 0b001_1101 });
    rt!(xpaclri() => Xpaclri {});
    rt!(bti(36) => Bti { imm: 36 });
    rt!(braz(1, 7) => Braz { m: 1, rn: 7 }; rm: 32);
    rt!(blraz(0, 7) => Blraz { m: 0, rn: 7 }; rm: 32);
    rt!(bra(1, 7, 31) => Bra { m: 1, rn: 7, rm: 31 });
    rt!(blra(0, 7, 8) => Blra { m: 0, rn: 7, rm: 8 });
    rt!(reta(1) => Reta { m: 1 }; rn: 30; rm: 31);
    rt!(ereta(0) => Ereta { m: 0 }; rn: 30; rm: 31);
    rt!(ldra(1, 2, 31, -4096, 1) => Ldra { m: 1, rt: 2, rn: 31, imm: -4096, w: 1 });
    rt!(ldra(0, 2, 3, 4088, 0) => Ldra { m: 0, rt: 2, rn: 3, imm: 4088, w: 0 });
}

#[test]
fn pointer_authentication_words_from_the_manual_decode_to_their_instruction() {
    let cases: &[(u32, &str, u32)] = &[
        (0xdac1_0020, "pacia x0, x1", enc::pac(0, 0, 1)),
        (0xdac1_1020, "autia x0, x1", enc::aut(0, 0, 1)),
        (0xdac1_23e0, "paciza x0", enc::pac_z(0, 0)),
        (0xdac1_43e0, "xpaci x0", enc::xpac(0, 0)),
        (0xdac1_47e0, "xpacd x0", enc::xpac(1, 0)),
        (0x9ac2_3020, "pacga x0, x1, x2", enc::pacga(0, 1, 2)),
        (0xd503_233f, "paciasp", enc::pauth_hint_lr(0b001_1001)),
        (0xd503_23bf, "autiasp", enc::pauth_hint_lr(0b001_1101)),
        (0xd503_237f, "pacibsp", enc::pauth_hint_lr(0b001_1011)),
        (0xd503_211f, "pacia1716", enc::pauth_hint(0b000_1000)),
        (0xd503_20ff, "xpaclri", enc::xpaclri()),
        (0xd503_245f, "bti c", enc::bti(34)),
        (0xd503_249f, "bti j", enc::bti(36)),
        (0xd503_24df, "bti jc", enc::bti(38)),
        (0xd65f_0bff, "retaa", enc::reta(0)),
        (0xd65f_0fff, "retab", enc::reta(1)),
        (0xd69f_0bff, "eretaa", enc::ereta(0)),
        (0xd71f_0801, "braa x0, x1", enc::bra(0, 0, 1)),
        (0xd63f_081f, "blraaz x0", enc::blraz(0, 0)),
        (0xf820_0420, "ldraa x0, [x1]", enc::ldra(0, 0, 1, 0, 0)),
        (0xf8a0_1c20, "ldrab x0, [x1, #8]!", enc::ldra(1, 0, 1, 8, 1)),
    ];
    for &(word, text, encoded) in cases {
        assert_eq!(encoded, word, "{text}");
        assert!(decode32(word).is_some(), "{text} does not decode");
    }
}

/// The block cache keeps a word and its pattern number (`A64Insn`), not the decoded `Insn`: for
/// a million random words (most of them FP/SIMD or unallocated) and every word that differs from
/// `add x3, x4, #0xabc` in one or two bits, that gives back what the decoder returns, `None`
/// (pattern 0) included.
#[test]
fn packed_instructions_unpack_to_what_the_decoder_returns() {
    let check = |w: u32| {
        assert_eq!(A64Insn::decode(w).op(), decode32(w), "word {w:#010x}");
        assert_eq!(pattern32(w) == 0, decode32(w).is_none(), "word {w:#010x}");
    };
    let mut x = 0x5eed_0bac_u64;
    for _ in 0..1_000_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        check((x >> 16) as u32);
    }
    let base = enc::add_imm(1, 3, 4, 0xabc, 0);
    for i in 0..32 {
        for j in i..32 {
            check(base ^ 1 << i ^ 1 << j);
        }
    }
}
