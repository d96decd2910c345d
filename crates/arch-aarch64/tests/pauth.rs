//! Pointer authentication (FEAT_PAuth) on every tier: signing and authenticating pointers,
//! what a failed authentication leaves and what using it does, the branches, returns, loads
//! and exception returns that authenticate, disabled keys, and a CPU without the feature.
//!
//! With the MMU off (the snippet default) TCR_EL1 is zero: no TBI, and T0SZ 0 clamps to 16, so
//! a PAC fills bits 63:56 and 54:48, and an authentication failure sets bit 62 (key B) or bit
//! 61 (key A).

mod common;

use common::*;
use mimic_arch_aarch64::cpu::Fault;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::pauth::{self, Key};
use mimic_arch_aarch64::Aarch64Cpu;

/// QARMA's published test vector (sigma_2, 5 rounds): plaintext, tweak, w0 and k0, and the
/// ciphertext, which is what ComputePAC returns for those operands and the key w0:k0.
const QARMA_P: u64 = 0xfb623599da6e8127;
const QARMA_T: u64 = 0x477d469dec0b8762;
const QARMA_W0: u64 = 0x84be85ce9804e94b;
const QARMA_K0: u64 = 0xec2802d4e0a488e9;
const QARMA_C: u64 = 0xc003b93999b33765;

const PTR: u64 = 0x0000_1234_5678_9abc;
const MODIFIER: u64 = 0x0102_0304_0506_0708;
/// The error code an authentication failure leaves with each key (no TBI).
const ERR_A: u64 = 1 << 61;
const ERR_B: u64 = 1 << 62;

/// Key lookup for the hint forms: IA = 0, IB = 1 (what `pauth_hint`'s bit 1 selects).
const KEY_A: u32 = 0;
const KEY_B: u32 = 1;
const KEY_DA: u32 = 2;

/// A CPU with FEAT_PAuth, distinct keys in all five registers and every key enabled.
fn pauth_on(c: &mut Aarch64Cpu) {
    c.features.pauth = true;
    for (i, k) in c.pac_keys.keys.iter_mut().enumerate() {
        let i = i as u64;
        *k = [QARMA_W0 ^ i, QARMA_K0.rotate_left(i as u32)];
    }
    c.pac_keys.keys[Key::GA as usize] = [QARMA_W0, QARMA_K0];
    c.mmu_regs.sctlr_el1 |= pauth::SCTLR_EN_ALL;
}

fn pauth_on_ia_disabled(c: &mut Aarch64Cpu) {
    pauth_on(c);
    c.mmu_regs.sctlr_el1 &= !Key::IA.sctlr_enable();
}

fn on(code: &[u32]) -> Snippet {
    Snippet::of(code).setup(pauth_on)
}

#[test]
fn pacga_returns_the_top_half_of_the_qarma_test_vector() {
    let f = on(&[enc::pacga(3, 1, 2)]).x(1, QARMA_P).x(2, QARMA_T).ok();
    assert_eq!(f.x(3), QARMA_C & 0xffff_ffff_0000_0000);
}

#[test]
fn pacia_then_autia_gives_back_the_pointer() {
    let f =
        on(&[enc::pac(KEY_A, 0, 1), enc::orr_reg(2, 31, 0, 0, 0), enc::aut(KEY_A, 0, 1)]).x(0, PTR).x(1, MODIFIER).ok();
    let signed = f.x(2);
    assert_ne!(signed, PTR, "a PAC was inserted");
    assert_eq!(signed & 0x0000_ffff_ffff_ffff, PTR, "the address bits are kept");
    assert_eq!(signed >> 55 & 1, 0, "bit 55 (the range) is kept");
    assert_eq!(f.x(0), PTR);
}

#[test]
fn pacia_inserts_the_bits_compute_pac_gives() {
    let f = on(&[enc::pac(KEY_A, 0, 1)]).x(0, PTR).x(1, MODIFIER).ok();
    let c = Snippet::of(&[]).setup(pauth_on).build().cpu;
    let key = c.pac_keys.keys[Key::IA as usize];
    // The PAC is computed over the pointer with its (all-zero) extension bits, and lands in
    // bits 63:56 and 54:48.
    let pac = pauth::compute_pac(PTR, MODIFIER, key[0], key[1]);
    assert_eq!(f.x(0), pac & 0xff7f_0000_0000_0000 | PTR);
}

#[test]
fn autia_with_a_different_modifier_leaves_the_key_a_error_code() {
    let f = on(&[enc::pac(KEY_A, 0, 1), enc::aut(KEY_A, 0, 2)]).x(0, PTR).x(1, MODIFIER).x(2, MODIFIER + 1).ok();
    assert_eq!(f.x(0), PTR | ERR_A);
}

#[test]
fn autib_of_a_pointer_signed_with_key_a_leaves_the_key_b_error_code() {
    let f = on(&[enc::pac(KEY_A, 0, 1), enc::aut(KEY_B, 0, 1)]).x(0, PTR).x(1, MODIFIER).ok();
    assert_eq!(f.x(0), PTR | ERR_B);
}

#[test]
fn a_branch_to_a_pointer_that_failed_authentication_faults() {
    // The target (CODE + 12) would be the end marker; authenticated with the wrong modifier it
    // is not an address, and fetching it is an instruction abort.
    let f =
        on(&[enc::pac(KEY_A, 0, 1), enc::aut(KEY_A, 0, 2), enc::br(0)]).x(0, CODE + 12).x(1, MODIFIER).x(2, 7).run();
    assert_eq!(f.taken, Some((Fault::InsnAbort { va: (CODE + 12) | ERR_A, fsc: 0 }, (CODE + 12) | ERR_A)));
    assert_eq!(f.ec(), 0x21);
}

#[test]
fn xpaci_strips_the_pac() {
    let f = on(&[enc::pac(KEY_B, 0, 1), enc::xpac(0, 0)]).x(0, PTR).x(1, MODIFIER).ok();
    assert_eq!(f.x(0), PTR);
}

#[test]
fn xpaclri_strips_the_pac_of_the_link_register() {
    let f = on(&[enc::pauth_hint_lr(0b001_1001), enc::xpaclri()]).x(30, PTR).x(31, 0x4008_0000).ok();
    assert_eq!(f.x(30), PTR);
}

#[test]
fn pacia1716_and_autia1716_sign_x17_with_x16() {
    let f = on(&[enc::pauth_hint(0b000_1000), enc::orr_reg(2, 31, 17, 0, 0), enc::pauth_hint(0b000_1100)])
        .x(17, PTR)
        .x(16, MODIFIER)
        .ok();
    assert_ne!(f.x(2), PTR);
    assert_eq!(f.x(17), PTR);
}

#[test]
fn pacia1716_matches_pacia_with_the_same_operands() {
    let f = on(&[enc::pauth_hint(0b000_1000), enc::pac(KEY_A, 0, 16)]).x(17, PTR).x(0, PTR).x(16, MODIFIER).ok();
    assert_eq!(f.x(17), f.x(0));
}

/// `bl f; movz x5, #1; b end; f: paciasp/pacibsp; <body>; retaa/retab; end:`.
fn call_with_signed_return(key: u32, body: &[u32]) -> Vec<u32> {
    let n = body.len() as i64;
    let mut code = vec![enc::bl(12), enc::movz(5, 1, 0), enc::b(4 * (n + 3))];
    code.push(enc::pauth_hint_lr(0b001_1001 | key << 1));
    code.extend_from_slice(body);
    code.push(enc::reta(key));
    code
}

#[test]
fn retaa_returns_through_a_link_register_paciasp_signed() {
    let f = on(&call_with_signed_return(KEY_A, &[])).x(31, 0x4008_0000).ok();
    assert_eq!(f.x(5), 1, "returned to the instruction after the call");
    assert_eq!(f.x(30) & 0x0000_ffff_ffff_ffff, CODE + 4);
    assert_ne!(f.x(30), CODE + 4, "RETAA does not write the link register");
}

#[test]
fn retab_with_a_different_stack_pointer_faults_at_the_corrupted_address() {
    let f = on(&call_with_signed_return(KEY_B, &[enc::sub_imm(1, 31, 31, 16, 0)])).x(31, 0x4008_0000).run();
    let bad = (CODE + 4) | ERR_B;
    assert_eq!(f.taken, Some((Fault::InsnAbort { va: bad, fsc: 0 }, bad)));
    assert_eq!(f.x(5), 0);
}

#[test]
fn blraa_calls_a_signed_function_pointer_and_links() {
    // x0 = CODE + 16 signed with modifier x1; blraa x0, x1 goes there with x30 = CODE + 12.
    let f = on(&[enc::pac(KEY_A, 0, 1), enc::blra(KEY_A, 0, 1), enc::movz(6, 1, 0), enc::movz(7, 1, 0)])
        .x(0, CODE + 16)
        .x(1, MODIFIER)
        .ok();
    assert_eq!(f.x(6), 0, "skipped");
    assert_eq!(f.x(7), 0, "skipped: the end marker is at CODE + 16");
    assert_eq!(f.x(30), CODE + 8);
}

#[test]
fn braaz_authenticates_with_a_zero_modifier() {
    let f = on(&[enc::pac_z(KEY_A, 0), enc::braz(KEY_A, 0), enc::movz(6, 1, 0)]).x(0, CODE + 12).ok();
    assert_eq!(f.x(6), 0);
}

#[test]
fn ldraa_authenticates_the_base_and_adds_the_scaled_offset() {
    let f = on(&[enc::pac_z(KEY_DA, 1), enc::ldra(0, 2, 1, 16, 0)]).x(1, DATA).mem64(DATA + 16, 0x1122_3344).ok();
    assert_eq!(f.x(2), 0x1122_3344);
    assert_ne!(f.x(1), DATA, "no write-back: the base keeps its PAC");
}

#[test]
fn ldraa_pre_index_writes_back_the_authenticated_address() {
    let f = on(&[enc::pac_z(KEY_DA, 1), enc::ldra(0, 2, 1, -8, 1)]).x(1, DATA + 8).mem64(DATA, 0x55).ok();
    assert_eq!(f.x(2), 0x55);
    assert_eq!(f.x(1), DATA);
}

#[test]
fn ldrab_of_a_pointer_signed_with_key_a_faults() {
    let f = on(&[enc::pac_z(KEY_DA, 1), enc::ldra(1, 2, 1, 0, 0)]).x(1, DATA).run();
    assert_eq!(f.ec(), 0x25, "data abort");
    assert_eq!(f.sys.far, DATA | ERR_B);
}

#[test]
fn eretaa_returns_to_the_elr_signed_with_sp() {
    // ELR = the end marker, signed with PACIA against SP, then ERETAA to EL1h.
    let code = [
        enc::pac(KEY_A, 0, 31),
        enc::msr_reg(mimic_arch_aarch64::sysreg::key(3, 0, 4, 0, 1), 0),
        enc::movz(1, 0x3c5, 0),
        enc::msr_reg(mimic_arch_aarch64::sysreg::key(3, 0, 4, 0, 0), 1),
        enc::ereta(KEY_A),
        enc::movz(6, 1, 0),
    ];
    let f = on(&code).x(0, CODE + 24).x(31, 0x4008_0000).ok();
    assert_eq!(f.x(6), 0);
}

#[test]
fn a_disabled_key_leaves_pointers_unchanged() {
    let f = Snippet::of(&[enc::pac(KEY_A, 0, 1), enc::pauth_hint_lr(0b001_1001), enc::aut(KEY_A, 2, 1)])
        .setup(pauth_on_ia_disabled)
        .x(0, PTR)
        .x(30, PTR)
        .x(2, PTR | ERR_B)
        .x(1, MODIFIER)
        .ok();
    assert_eq!(f.x(0), PTR);
    assert_eq!(f.x(30), PTR);
    assert_eq!(f.x(2), PTR | ERR_B, "AUTIA with the key disabled does not authenticate");
}

#[test]
fn without_pauth_the_hint_forms_are_nops() {
    let f = Snippet::of(&[enc::pauth_hint_lr(0b001_1001), enc::pauth_hint(0b000_1000), enc::xpaclri()])
        .x(30, PTR | 1 << 60)
        .x(17, PTR)
        .x(31, 0x4008_0000)
        .ok();
    assert_eq!(f.x(30), PTR | 1 << 60);
    assert_eq!(f.x(17), PTR);
}

#[test]
fn without_pauth_pacia_is_undefined() {
    let f = Snippet::of(&[enc::pac(KEY_A, 0, 1)]).x(0, PTR).run();
    assert_eq!(f.taken, Some((Fault::Undefined { raw: enc::pac(KEY_A, 0, 1) }, CODE)));
    assert_eq!(f.x(0), PTR);
}

#[test]
fn without_pauth_retaa_is_undefined() {
    let f = Snippet::of(&[enc::reta(KEY_A)]).run();
    assert_eq!(f.ec(), 0);
}

const ID_AA64ISAR1: u32 = mimic_arch_aarch64::sysreg::key(3, 0, 0, 6, 1);
const APIAKEYLO: u32 = mimic_arch_aarch64::sysreg::key(3, 0, 2, 1, 0);

#[test]
fn id_aa64isar1_reports_apa_and_gpa_with_pauth() {
    let f = on(&[enc::mrs(ID_AA64ISAR1, 0)]).ok();
    assert_eq!(f.x(0), 1 << 4 | 1 << 24);
}

#[test]
fn id_aa64isar1_reads_zero_without_pauth() {
    let f = Snippet::of(&[enc::mrs(ID_AA64ISAR1, 0)]).x(0, 5).ok();
    assert_eq!(f.x(0), 0);
}

#[test]
fn a_key_register_written_by_msr_signs_the_next_pac() {
    // Writing APIAKeyLo changes PACIA's result.
    let f = on(&[enc::pac(KEY_A, 0, 1), enc::msr_reg(APIAKEYLO, 3), enc::pac(KEY_A, 2, 1), enc::mrs(APIAKEYLO, 4)])
        .x(0, PTR)
        .x(2, PTR)
        .x(1, MODIFIER)
        .x(3, 0x1234)
        .ok();
    assert_eq!(f.x(4), 0x1234);
    assert_ne!(f.x(0), f.x(2));
}

#[test]
fn key_registers_are_undefined_without_pauth() {
    let f = Snippet::of(&[enc::mrs(APIAKEYLO, 0)]).run();
    assert_eq!(f.ec(), 0);
}
