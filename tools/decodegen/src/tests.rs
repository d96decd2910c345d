//! Unit tests: every build-time check reports `file:line` and what is wrong; a small valid table
//! generates the expected items and a decision tree.

use crate::{generate, Width};

const HEAD: &str = "\
%rd 7:5
%rs1 15:5
%rs2 20:5
%imm 20:s12
&r rd rs1 rs2
&i rd rs1 imm
&empty
@r ....... ..... ..... ... ..... ....... &r %rs2 %rs1 %rd \"{rd:x}, {rs1:x}, {rs2:x}\"
@i ............ ..... ... ..... ....... &i %imm %rs1 %rd
";

fn gen32(body: &str) -> Result<String, crate::Error> {
    let text = format!("{HEAD}{body}");
    generate(&[("t.decode", &text, Width::W32)])
}

fn err32(body: &str) -> (usize, String) {
    let e = gen32(body).expect_err("table should be rejected");
    assert_eq!(e.file, "t.decode");
    (e.line, e.msg)
}

const HEAD_LINES: usize = 9;

#[test]
fn generate_valid_table_emits_structs_enum_visitor_decoder_encoder() {
    let src = gen32("add 0000000 ..... ..... 000 ..... 0110011 @r\naddi ............ ..... 000 ..... 0010011 @i\n")
        .expect("valid table");
    for needle in [
        "pub struct ArgsR {",
        "pub rd: u32,",
        "pub imm: i64,",
        "pub struct ArgsEmpty {",
        "pub enum Insn {",
        "Add(ArgsR),",
        "Addi(ArgsI),",
        "pub trait Visitor {",
        "fn add(&mut self, a: &ArgsR) -> Self::Output;",
        "pub fn decode32(insn: u32) -> Option<Insn>",
        "match insn & 0x707f {",
        "pub mod enc {",
        "pub fn add(rd: u32, rs1: u32, rs2: u32) -> u32",
        "pub fn addi(rd: u32, rs1: u32, imm: i64) -> u32",
        "pub fn disasm(insn: &Insn) -> String",
        "Insn::Add(_) => \"add\",",
    ] {
        assert!(src.contains(needle), "missing `{needle}` in:\n{src}");
    }
}

#[test]
fn generate_dotted_mnemonic_maps_to_camel_variant() {
    let src = gen32("fcvt_w_s 1100000 00000 ..... 000 ..... 1010011 &i imm=0 %rs1 %rd\n").expect("valid");
    assert!(src.contains("FcvtWS(ArgsI)"));
    assert!(src.contains("Insn::FcvtWS(_) => \"fcvt.w.s\""));
}

#[test]
fn generate_error_display_is_file_colon_line() {
    let e = gen32("add 0000000 ..... ..... 000 ..... 011001 @r\n").expect_err("short");
    assert_eq!(e.to_string(), format!("t.decode:{}: pattern has 31 bits, expected 32 for this table", HEAD_LINES + 1));
}

#[test]
fn generate_bit_count_too_long_rejected() {
    let (line, msg) = err32("x 0000000 ..... ..... 000 ..... 01100111 @r\n");
    assert_eq!(line, HEAD_LINES + 1);
    assert!(msg.contains("33 bits"), "{msg}");
}

#[test]
fn generate_overlap_outside_group_rejected() {
    let (line, msg) = err32("a 0000000 ..... ..... 000 ..... 0110011 @r\nb ------- ..... ..... 000 ..... 0110011 @r\n");
    assert_eq!(line, HEAD_LINES + 2);
    assert!(msg.contains("overlaps `a`") && msg.contains("t.decode:10"), "{msg}");
}

#[test]
fn generate_overlap_inside_group_accepted_first_match_wins() {
    let src = gen32(
        "{\n  nop 0000000 00000 00000 000 00000 0110011 &empty\n  add 0000000 ..... ..... 000 ..... 0110011 @r\n}\n",
    )
    .expect("grouped overlap is fine");
    // Patterns are numbered in table order: nop 1, add 2; the tree tests nop's bits first.
    assert!(src.contains("        1 => Some(Insn::Nop(") && src.contains("        2 => Some(Insn::Add("), "{src}");
    let tree = &src[src.find("pub fn pattern32(").expect("a pattern tree")..];
    let tree = &tree[..tree.find("\n}\n").expect("its end")];
    let nop = tree.find("return 1;").expect("nop tested first");
    let add = tree.find("return 2;").expect("then add");
    assert!(nop < add, "{tree}");
}

#[test]
fn generate_shadowed_group_member_rejected() {
    let (line, msg) = err32(
        "{\n  add 0000000 ..... ..... 000 ..... 0110011 @r\n  nop 0000000 00000 00000 000 00000 0110011 &empty\n}\n",
    );
    assert_eq!(line, HEAD_LINES + 3);
    assert!(msg.contains("never match"), "{msg}");
}

#[test]
fn generate_unknown_field_rejected() {
    let (line, msg) = err32("x ............ ..... 000 ..... 0010011 &i imm=%nope %rs1 %rd\n");
    assert_eq!(line, HEAD_LINES + 1);
    assert!(msg.contains("unknown field %nope"), "{msg}");
}

#[test]
fn generate_unknown_format_and_argset_rejected() {
    assert!(err32("x ............ ..... 000 ..... 0010011 @nope\n").1.contains("unknown format @nope"));
    assert!(err32("x ............ ..... 000 ..... 0010011 &nope\n").1.contains("unknown argument set &nope"));
}

#[test]
fn generate_unassigned_argument_rejected() {
    let (_, msg) = err32("x ............ ..... 000 ..... 0010011 &i %rs1 %rd\n");
    assert!(msg.contains("argument `imm` of &i is not assigned"), "{msg}");
}

#[test]
fn generate_dot_bits_without_field_rejected() {
    let (_, msg) = err32("x ............ ..... 000 ..... 0010011 &r %rs1 %rd rs2=0\n");
    assert!(msg.contains("belong to no field"), "{msg}");
}

#[test]
fn generate_field_over_fixed_bits_rejected() {
    let (_, msg) = err32("x 0000000 00000 ..... 000 ..... 0110011 @r\n");
    assert!(msg.contains("uses fixed bits"), "{msg}");
}

#[test]
fn generate_duplicate_instruction_rejected() {
    let (line, msg) =
        err32("add 0000000 ..... ..... 000 ..... 0110011 @r\nadd 0000001 ..... ..... 000 ..... 0110011 @r\n");
    assert_eq!(line, HEAD_LINES + 2);
    assert!(msg.contains("already defined at t.decode:10"), "{msg}");
}

#[test]
fn generate_unclosed_group_rejected() {
    let (line, msg) = err32("{\nadd 0000000 ..... ..... 000 ..... 0110011 @r\n");
    assert_eq!(line, HEAD_LINES + 1);
    assert!(msg.contains("never closed"), "{msg}");
}

#[test]
fn generate_bad_template_argument_rejected() {
    let (_, msg) = err32("add 0000000 ..... ..... 000 ..... 0110011 @r \"{nope:x}\"\n");
    assert!(msg.contains("not in &r"), "{msg}");
}

#[test]
fn generate_signed_segment_not_first_rejected() {
    let (line, msg) = err32("%bad 7:5 20:s3\n");
    assert_eq!(line, HEAD_LINES + 1);
    assert!(msg.contains("only the first"), "{msg}");
}

const T16: &str = "\
%c_rd 7:5
%c_imm 12:s1 2:5
%c_rdp 2:3 +8
@ci &i rd=%c_rd rs1=%c_rd imm=%c_imm
{
  illegal 001 - 00000 ----- 01
  c_addiw:addi 001 . ..... ..... 01 @ci
}
c_li:addi 010 . ..... ..... 01 &i rd=%c_rd rs1=0 imm=%c_imm
c_mvp:add 100 0 11 --- 00 ... 01 &r rd=%c_rdp rs1=%c_rdp rs2=%c_rdp
";

#[test]
fn generate_16bit_table_maps_to_base_instruction() {
    let t32 =
        format!("{HEAD}add 0000000 ..... ..... 000 ..... 0110011 @r\naddi ............ ..... 000 ..... 0010011 @i\n");
    let src = generate(&[("t32.decode", &t32, Width::W32), ("t16.decode", T16, Width::W16)]).expect("valid");
    assert!(src.contains("pub fn decode16(insn: u16) -> Option<Insn>"));
    assert!(src.contains("pub fn c_addiw(rd: u32, imm: i64) -> u16"), "one parameter per distinct field");
    assert!(src.contains("pub fn c_li(rd: u32, imm: i64) -> u16"), "constants are not parameters");
    assert!(src.contains("pub fn c_mvp(rd: u32) -> u16"));
    assert!(
        src.contains("Insn::Addi(ArgsI { rd: 0x")
            || src.contains("Some(Insn::Addi(ArgsI { rd: ex_t16_c_rd(insn) as u32, rs1: 0,")
    );
    assert!(!src.contains("enum Insn {\n    /// `c"), "16-bit patterns add no variants");
}

#[test]
fn generate_16bit_unknown_base_rejected() {
    let t32 = format!("{HEAD}add 0000000 ..... ..... 000 ..... 0110011 @r\n");
    let e = generate(&[("t32.decode", &t32, Width::W32), ("t16.decode", T16, Width::W16)]).expect_err("no addi");
    assert_eq!((e.file.as_str(), e.line), ("t16.decode", 7));
    assert!(e.msg.contains("unknown base instruction `addi`"), "{}", e.msg);
}

#[test]
fn generate_16bit_argset_mismatch_rejected() {
    let t32 =
        format!("{HEAD}add 0000000 ..... ..... 000 ..... 0110011 @r\naddi ............ ..... 000 ..... 0010011 @i\n");
    let t16 = "%c_rd 7:5\nc_x:add 010 - ..... ----- 01 &i rd=%c_rd rs1=0 imm=0\n";
    let e = generate(&[("t32.decode", &t32, Width::W32), ("t16.decode", t16, Width::W16)]).expect_err("argset");
    assert!(e.msg.contains("uses &i but `add`"), "{}", e.msg);
}

#[test]
fn generate_16bit_bit_count_checked_against_width() {
    let t16 = "c_x:add 010 . ..... ..... 0 &empty\n";
    let e = generate(&[("t16.decode", t16, Width::W16)]).expect_err("15 bits");
    assert_eq!(e.line, 1);
    assert!(e.msg.contains("15 bits, expected 16"), "{}", e.msg);
}

#[test]
fn generate_two_files_of_one_width_form_one_table() {
    let a = format!("{HEAD}add 0000000 ..... ..... 000 ..... 0110011 @r\n");
    let b = "%fd 7:5\n&f fd\nfmv 1111000 00000 00000 000 ..... 1010011 &f %fd\n";
    let src = generate(&[("a.decode", &a, Width::W32), ("b.decode", b, Width::W32)]).expect("valid");
    assert!(src.contains("Add(ArgsR),") && src.contains("Fmv(ArgsF),"), "{src}");
    assert_eq!(src.matches("pub fn decode32(").count(), 1);
}

#[test]
fn generate_overlap_across_files_of_one_width_rejected() {
    let a = format!("{HEAD}add 0000000 ..... ..... 000 ..... 0110011 @r\n");
    let b = "%fd 7:5\n&f fd\nfmv 0000000 00000 00000 000 ..... 0110011 &f %fd\n";
    let e = generate(&[("a.decode", &a, Width::W32), ("b.decode", b, Width::W32)]).expect_err("overlap");
    assert!(e.msg.contains("overlap") || e.msg.contains("group"), "{}", e.msg);
}
