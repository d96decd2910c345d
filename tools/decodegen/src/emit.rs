//! [`Model`] -> Rust source.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::resolve::{ArgVal, Model, Pattern, Piece, Spec};
use crate::Width;

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in",
    "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
    "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box",
    "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

fn ident(name: &str) -> String {
    if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_string()
    }
}

fn hex(v: u32) -> String {
    format!("{v:#x}")
}

/// Expression (of the argument's type) for one argument of a pattern, reading `insn: u32`.
fn arg_expr(m: &Model, v: &ArgVal, signed: bool) -> String {
    match v {
        ArgVal::Const(c) => c.to_string(),
        ArgVal::Field(f) => {
            let call = format!("ex_{}(insn)", m.fields[*f].ident());
            if signed {
                call
            } else {
                format!("{call} as u32")
            }
        }
    }
}

/// `ArgsSet { arg: expr, ... }` for pattern `p` (which names an instruction), reading `insn`.
fn args_literal(m: &Model, p: &Pattern, ii: usize) -> String {
    let set = &m.argsets[m.insns[ii].argset];
    let fields: Vec<String> = set
        .args
        .iter()
        .zip(&p.args)
        .map(|(a, v)| format!("{}: {}", ident(&a.name), arg_expr(m, v, a.signed)))
        .collect();
    format!("{} {{ {} }}", set.struct_name(), fields.join(", "))
}

fn pattern_body(m: &Model, p: &Pattern) -> String {
    let Some(ii) = p.insn else {
        return "None".to_string();
    };
    format!("Some(Insn::{}({}))", m.insns[ii].variant(), args_literal(m, p, ii))
}

/// The number `pattern32`/`pattern16` return for pattern `pi`: its index plus one, or 0 (what
/// `decode32` calls `None`) for an `illegal` pattern.
fn pattern_number(m: &Model, pi: usize) -> usize {
    if m.patterns[pi].insn.is_some() {
        pi + 1
    } else {
        0
    }
}

struct Item {
    fixed: u32,
    value: u32,
    members: Vec<usize>,
}

fn items_of(m: &Model, pats: &[usize]) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    let mut last_group = None;
    for &pi in pats {
        let p = &m.patterns[pi];
        match (p.group, last_group, items.last_mut()) {
            (Some(g), Some(lg), Some(it)) if g == lg => {
                let agree = !(it.value ^ p.value);
                it.fixed &= p.fixed & agree;
                it.value &= it.fixed;
                it.members.push(pi);
            }
            _ => items.push(Item { fixed: p.fixed, value: p.value & p.fixed, members: vec![pi] }),
        }
        last_group = p.group;
    }
    items
}

fn pad(n: usize) -> String {
    "    ".repeat(n)
}

/// Emits an expression of type `u16` deciding among `items` (the number of the pattern matched,
/// see [`pattern_number`]; 0 for none), given that the bits in `consumed` have already been
/// matched.
fn emit_tree(m: &Model, items: &[&Item], consumed: u32, depth: usize, out: &mut String) {
    // What the tree answers for a word no pattern matches.
    let none = "0";
    if items.is_empty() {
        out.push_str(none);
        return;
    }
    let common = items.iter().fold(u32::MAX, |a, it| a & it.fixed) & !consumed;
    if items.len() > 1 && common != 0 {
        let mut parts: BTreeMap<u32, Vec<&Item>> = BTreeMap::new();
        for it in items {
            parts.entry(it.value & common).or_default().push(it);
        }
        let _ = writeln!(out, "match insn & {} {{", hex(common));
        for (v, sub) in &parts {
            let _ = write!(out, "{}{} => ", pad(depth + 1), hex(*v));
            emit_tree(m, sub, consumed | common, depth + 1, out);
            out.push_str(",\n");
        }
        let _ = write!(out, "{}_ => {none},\n{}}}", pad(depth + 1), pad(depth));
        return;
    }
    let pats: Vec<usize> = items.iter().flat_map(|it| it.members.iter().copied()).collect();
    if let [pi] = pats.as_slice() {
        let p = &m.patterns[*pi];
        let mask = p.fixed & !consumed;
        if mask == 0 {
            out.push_str(&pattern_number(m, *pi).to_string());
        } else {
            let _ = write!(
                out,
                "if insn & {} == {} {{\n{}{}\n{}}} else {{\n{}{none}\n{}}}",
                hex(mask),
                hex(p.value & mask),
                pad(depth + 1),
                pattern_number(m, *pi),
                pad(depth),
                pad(depth + 1),
                pad(depth)
            );
        }
        return;
    }
    out.push_str("{\n");
    let mut tail = none.to_string();
    for pi in pats {
        let p = &m.patterns[pi];
        let mask = p.fixed & !consumed;
        if mask == 0 {
            // Checked in `resolve`: nothing can follow a pattern that matches everything left.
            tail = pattern_number(m, pi).to_string();
            break;
        }
        let _ = writeln!(
            out,
            "{}if insn & {} == {} {{\n{}return {};\n{}}}",
            pad(depth + 1),
            hex(mask),
            hex(p.value & mask),
            pad(depth + 2),
            pattern_number(m, pi),
            pad(depth + 1)
        );
    }
    let _ = write!(out, "{}{}\n{}}}", pad(depth + 1), tail, pad(depth));
}

fn emit_field_helpers(m: &Model, out: &mut String) {
    let mut used = vec![false; m.fields.len()];
    for p in &m.patterns {
        for a in &p.args {
            if let ArgVal::Field(f) = a {
                used[*f] = true;
            }
        }
    }
    for (fi, f) in m.fields.iter().enumerate() {
        if !used[fi] {
            continue;
        }
        let segs: Vec<String> =
            f.segs.iter().map(|s| format!("{}:{}{}", s.pos, if s.signed { "s" } else { "" }, s.len)).collect();
        let desc = format!(
            "%{} {}{}{}",
            f.name,
            segs.join(" "),
            if f.shift != 0 { format!(" <<{}", f.shift) } else { String::new() },
            if f.add != 0 { format!(" +{}", f.add) } else { String::new() }
        );
        // Extraction.
        let _ =
            writeln!(out, "/// Extracts field `{desc}`.\n#[inline(always)]\nfn ex_{}(insn: u32) -> i64 {{", f.ident());
        let mut acc = String::new();
        for (k, s) in f.segs.iter().enumerate() {
            let seg = if s.signed {
                let up = 32 - s.pos - s.len;
                let word = if up == 0 { "insn".to_string() } else { format!("(insn << {up})") };
                format!("i64::from(({word} as i32) >> {})", 32 - s.len)
            } else if s.pos == 0 {
                format!("i64::from(insn & {})", hex(((1u64 << s.len) - 1) as u32))
            } else {
                format!("i64::from((insn >> {}) & {})", s.pos, hex(((1u64 << s.len) - 1) as u32))
            };
            if k == 0 {
                acc = seg;
            } else {
                let _ = writeln!(out, "    let v = {acc};");
                acc = format!("(v << {}) | {seg}", s.len);
            }
        }
        let tailexpr = match (f.shift, f.add) {
            (0, 0) => acc,
            (s, 0) => format!("({acc}) << {s}"),
            (0, a) => format!("({acc}) + {a}"),
            (s, a) => format!("(({acc}) << {s}) + {a}"),
        };
        let _ = writeln!(out, "    {tailexpr}\n}}\n");
        // Insertion.
        let n = f.nbits();
        let (lo, hi) = if f.signed() { (-(1i64 << (n - 1)), (1i64 << (n - 1)) - 1) } else { (0, (1i64 << n) - 1) };
        let _ = writeln!(
            out,
            "/// Places a value into field `{desc}`: debug-asserts range and alignment, masks in release.\n#[inline]\nfn in_{}(value: i64) -> u32 {{",
            f.ident()
        );
        if f.add == 0 {
            let _ = writeln!(out, "    let v = value;");
        } else {
            let _ = writeln!(out, "    let v = value.wrapping_sub({});", f.add);
        }
        if f.shift != 0 {
            let _ = writeln!(
                out,
                "    debug_assert!(v & {} == 0, \"field {}: {{value}} is not a multiple of {}\");\n    let v = v >> {};",
                (1i64 << f.shift) - 1,
                f.name,
                1i64 << f.shift,
                f.shift
            );
        }
        let (lo_v, hi_v) = (lo.wrapping_shl(f.shift).wrapping_add(f.add), hi.wrapping_shl(f.shift).wrapping_add(f.add));
        let _ = writeln!(
            out,
            "    debug_assert!(({lo}..={hi}).contains(&v), \"field {}: {{value}} is outside {lo_v}..={hi_v}\");",
            f.name
        );
        let _ = writeln!(out, "    let v = v as u64;");
        let mut terms = Vec::new();
        let mut off = 0;
        for s in f.segs.iter().rev() {
            let mask = ((1u64 << s.len) - 1) as u32;
            let shifted = if off == 0 { "v".to_string() } else { format!("(v >> {off})") };
            let placed = if s.pos == 0 { String::new() } else { format!(" << {}", s.pos) };
            // A lone segment at bit 0 needs no parentheses (rustc warns about them).
            terms.push(if s.pos == 0 && f.segs.len() == 1 {
                format!("({shifted} as u32) & {}", hex(mask))
            } else {
                format!("(({shifted} as u32) & {}){placed}", hex(mask))
            });
            off += s.len;
        }
        terms.reverse();
        let _ = writeln!(out, "    {}\n}}\n", terms.join("\n        | "));
    }
}

fn emit_encoders(m: &Model, width: Width, pats: &[usize], file: &str, out: &mut String) {
    let (modname, ty) = match width {
        Width::W32 => ("enc", "u32"),
        Width::W16 => ("enc16", "u16"),
    };
    let _ = writeln!(
        out,
        "/// Encoders for the {}-bit table (`{file}`): one function per pattern, parameters are the\n/// pattern's field-backed arguments. Out-of-range values trip a `debug_assert!` (release: masked).\npub mod {modname} {{",
        width.bits()
    );
    for &pi in pats {
        let p = &m.patterns[pi];
        let Some(ii) = p.insn else { continue };
        let insn = &m.insns[ii];
        let set = &m.argsets[insn.argset];
        let mut params = Vec::new();
        let base_bits = p.value & p.fixed;
        let mut terms = if base_bits == 0 { Vec::new() } else { vec![hex(base_bits)] };
        let mut seen = Vec::new();
        for (a, v) in set.args.iter().zip(&p.args) {
            let ArgVal::Field(f) = v else { continue };
            if seen.contains(f) {
                continue;
            }
            seen.push(*f);
            let pname = ident(&a.name);
            params.push(format!("{pname}: {}", if a.signed { "i64" } else { "u32" }));
            let val = if a.signed { pname } else { format!("i64::from({pname})") };
            terms.push(format!("super::in_{}({val})", m.fields[*f].ident()));
        }
        let body = if terms.is_empty() { "0".to_string() } else { terms.join(" | ") };
        let literal = terms.len() <= 1 && terms.iter().all(|t| t.starts_with("0x"));
        let body = if width == Width::W16 && !literal { format!("({body}) as u16") } else { body };
        let base = if p.enc_name != insn.name { format!(" -> `{}`", insn.mnemonic()) } else { String::new() };
        let _ = writeln!(
            out,
            "    /// `{}`{base} ({})\n    #[must_use]\n    pub fn {}({}) -> {ty} {{\n        {body}\n    }}\n",
            p.enc_name.replace('_', "."),
            p.origin,
            ident(&p.enc_name),
            params.join(", ")
        );
    }
    out.push_str("}\n\n");
}

fn emit_disasm(m: &Model, out: &mut String) {
    out.push_str(
        r#"fn dis_finish(name: &str, ops: &str) -> String {
    let ops = ops.trim();
    if ops.is_empty() {
        name.to_string()
    } else if ops.starts_with('.') {
        format!("{name}{ops}")
    } else {
        format!("{name} {ops}")
    }
}

#[allow(dead_code)]
fn dis_rm(rm: i64) -> String {
    match rm {
        0 => ", rne".to_string(),
        1 => ", rtz".to_string(),
        2 => ", rdn".to_string(),
        3 => ", rup".to_string(),
        4 => ", rmm".to_string(),
        7 => String::new(),
        r => format!(", rm{r}"),
    }
}

#[allow(dead_code)]
fn dis_fence(set: i64) -> String {
    let mut s = String::new();
    for (bit, c) in [(8, 'i'), (4, 'o'), (2, 'r'), (1, 'w')] {
        if set & bit != 0 {
            s.push(c);
        }
    }
    if s.is_empty() {
        s.push('0');
    }
    s
}

/// Readable assembly for `insn`: the mnemonic, then its operands (`addi x1, x2, -5`,
/// `lw x5, 8(x2)`, `fadd.d f1, f2, f3, rne`). Rounding mode `dyn` is not printed.
#[must_use]
pub fn disasm(insn: &Insn) -> String {
    match insn {
"#,
    );
    for insn in &m.insns {
        let set = &m.argsets[insn.argset];
        let mut fmt = String::new();
        let mut vals = Vec::new();
        for piece in &insn.template {
            match piece {
                Piece::Lit(s) => fmt.push_str(&s.replace('{', "{{").replace('}', "}}")),
                Piece::Arg(ai, spec) => {
                    let a = &set.args[*ai];
                    let v = if a.signed {
                        format!("a.{}", ident(&a.name))
                    } else {
                        format!("i64::from(a.{})", ident(&a.name))
                    };
                    match spec {
                        Spec::Dec => {
                            fmt.push_str("{}");
                            vals.push(v);
                        }
                        Spec::X => {
                            fmt.push_str("x{}");
                            vals.push(v);
                        }
                        Spec::F => {
                            fmt.push_str("f{}");
                            vals.push(v);
                        }
                        Spec::Hex => {
                            fmt.push_str("{:#x}");
                            vals.push(v);
                        }
                        Spec::Hi20 => {
                            fmt.push_str("{:#x}");
                            vals.push(format!("({v} >> 12) & 0xfffff"));
                        }
                        Spec::Rm => {
                            fmt.push_str("{}");
                            vals.push(format!("dis_rm({v})"));
                        }
                        Spec::Fence => {
                            fmt.push_str("{}");
                            vals.push(format!("dis_fence({v})"));
                        }
                        Spec::Suffix(s) => {
                            fmt.push_str("{}");
                            vals.push(format!("if {v} != 0 {{ \"{s}\" }} else {{ \"\" }}"));
                        }
                    }
                }
            }
        }
        let binding = if set.args.is_empty() || vals.is_empty() { "_" } else { "a" };
        let ops =
            if vals.is_empty() { format!("\"{fmt}\"") } else { format!("&format!(\"{fmt}\", {})", vals.join(", ")) };
        let _ =
            writeln!(out, "        Insn::{}({binding}) => dis_finish(\"{}\", {ops}),", insn.variant(), insn.mnemonic());
    }
    out.push_str("    }\n}\n\n");
}

/// Generates the whole source file.
pub fn emit(m: &Model) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// @generated by decodegen from {}. Do not edit; change the tables instead.\n",
        m.file_names.join(", ")
    );

    // Argument structs.
    for set in &m.argsets {
        let _ = writeln!(
            out,
            "/// Arguments of the `&{}` set.\n#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\npub struct {} {{",
            set.name,
            set.struct_name()
        );
        for a in &set.args {
            let _ = writeln!(out, "    pub {}: {},", ident(&a.name), if a.signed { "i64" } else { "u32" });
        }
        out.push_str("}\n\n");
    }

    // Insn enum.
    out.push_str("/// One decoded instruction: the variant names it, the payload holds its operands.\n#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\npub enum Insn {\n");
    for insn in &m.insns {
        let _ = writeln!(
            out,
            "    /// `{}` ({})\n    {}({}),",
            insn.mnemonic(),
            insn.origin,
            insn.variant(),
            m.argsets[insn.argset].struct_name()
        );
    }
    out.push_str("}\n\n");

    // Visitor.
    out.push_str("/// One method per instruction, no defaults: a missing semantics function is a compile error.\npub trait Visitor {\n    /// What each method returns.\n    type Output;\n");
    for insn in &m.insns {
        let _ = writeln!(
            out,
            "    /// `{}`\n    fn {}(&mut self, a: &{}) -> Self::Output;",
            insn.mnemonic(),
            ident(&insn.name),
            m.argsets[insn.argset].struct_name()
        );
    }
    out.push_str("}\n\n");

    // impl Insn.
    out.push_str("impl Insn {\n    /// Calls the visitor method for this instruction.\n    #[inline]\n    pub fn visit<V: Visitor + ?Sized>(&self, v: &mut V) -> V::Output {\n        match self {\n");
    for insn in &m.insns {
        let _ = writeln!(out, "            Insn::{}(a) => v.{}(a),", insn.variant(), ident(&insn.name));
    }
    out.push_str("        }\n    }\n\n    /// The assembler mnemonic, e.g. `\"fcvt.w.s\"`.\n    #[must_use]\n    pub fn name(&self) -> &'static str {\n        match self {\n");
    for insn in &m.insns {
        let _ = writeln!(out, "            Insn::{}(_) => \"{}\",", insn.variant(), insn.mnemonic());
    }
    out.push_str("        }\n    }\n}\n\n");
    out.push_str("/// Every instruction mnemonic, in table order (one per `Insn` variant and `Visitor` method).\npub const INSN_NAMES: &[&str] = &[\n");
    for insn in &m.insns {
        let _ = writeln!(out, "    \"{}\",", insn.mnemonic());
    }
    out.push_str("];\n\n");

    emit_field_helpers(m, &mut out);

    for t in &m.tables {
        let items = items_of(m, &t.patterns);
        let refs: Vec<&Item> = items.iter().collect();
        let bits = t.width.bits();
        let (pattern, word) = match t.width {
            Width::W32 => ("pattern32(insn: u32) -> u16 {\n", "insn"),
            Width::W16 => ("pattern16(insn: u16) -> u16 {\n    let insn = u32::from(insn);\n", "u32::from(insn)"),
        };
        let _ = write!(
            out,
            "/// The number of the pattern a {bits}-bit word matches, 0 for reserved or unknown encodings:\n\
             /// [`unpack`] and [`visit_packed`] turn it and the word into the instruction, so a word and its\n\
             /// pattern number are all a decoded instruction needs to keep.\n\
             #[must_use]\n#[allow(clippy::collapsible_match)] // a generated tree: one `match` per level\npub fn {pattern}    "
        );
        emit_tree(m, &refs, 0, 1, &mut out);
        out.push_str("\n}\n\n");
        let _ = write!(
            out,
            "/// Decodes one {bits}-bit instruction word; `None` for reserved or unknown encodings.\n#[must_use]\n\
             pub fn decode{bits}(insn: u{bits}) -> Option<Insn> {{\n    unpack(pattern{bits}(insn), {word})\n}}\n\n"
        );
        let file = t
            .patterns
            .first()
            .map(|&p| m.patterns[p].origin.split(':').next().unwrap_or("").to_string())
            .unwrap_or_default();
        emit_encoders(m, t.width, &t.patterns, &file, &mut out);
    }

    emit_packed(m, &mut out);
    emit_disasm(m, &mut out);
    out
}

/// `unpack` and `visit_packed`: from a pattern number and the word back to the instruction.
fn emit_packed(m: &Model, out: &mut String) {
    assert!(m.patterns.len() < usize::from(u16::MAX), "pattern numbers must fit in u16");
    out.push_str(
        "/// The instruction in `insn` given the number of the pattern it matched (from `pattern32` or\n\
         /// `pattern16`): the same as decoding the word again; `None` for 0 or a number no pattern has.\n\
         #[must_use]\npub fn unpack(pat: u16, insn: u32) -> Option<Insn> {\n    match pat {\n",
    );
    for (pi, p) in m.patterns.iter().enumerate() {
        if p.insn.is_some() {
            let _ = writeln!(out, "        {} => {},", pattern_number(m, pi), pattern_body(m, p));
        }
    }
    out.push_str("        _ => None,\n    }\n}\n\n");
    // Always inlined: the interpreter runs it once per instruction, and as a call of its own
    // (which `#[inline]` left it, the match being large) its prologue and the extra jump cost
    // a sixth of an interpreter-only arm64 boot and a quarter of a riscv64 one.
    out.push_str(
        "/// `unpack(pat, insn).map(|i| i.visit(v))` in one `match`: calls the visitor method for the\n\
         /// instruction of pattern `pat` in `insn`, with its arguments read from the word.\n\
         #[inline(always)]\npub fn visit_packed<V: Visitor + ?Sized>(pat: u16, insn: u32, v: &mut V) -> Option<V::Output> {\n    match pat {\n",
    );
    for (pi, p) in m.patterns.iter().enumerate() {
        if let Some(ii) = p.insn {
            let _ = writeln!(
                out,
                "        {} => Some(v.{}(&{})),",
                pattern_number(m, pi),
                ident(&m.insns[ii].name),
                args_literal(m, p, ii)
            );
        }
    }
    out.push_str("        _ => None,\n    }\n}\n\n");
    let widths: Vec<Width> = m.tables.iter().map(|t| t.width).collect();
    out.push_str(
        "/// A decoded instruction in eight bytes: the word and the number of the pattern it matched,\n\
         /// from which [`Packed::op`] and [`Packed::visit`] read the operands (a few shifts) when it is\n\
         /// used, rather than the size of an `Option<Insn>`.\n\
         #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\npub struct Packed {\n    raw: u32,\n    pat: u16,\n}\n\n\
         impl Packed {\n",
    );
    if widths.contains(&Width::W32) {
        out.push_str(
            "    /// Decode a 32-bit word.\n    #[must_use]\n    pub fn from32(word: u32) -> Self {\n        \
             Packed { raw: word, pat: pattern32(word) }\n    }\n\n",
        );
    }
    if widths.contains(&Width::W16) {
        out.push_str(
            "    /// Decode a 16-bit word.\n    #[must_use]\n    pub fn from16(word: u16) -> Self {\n        \
             Packed { raw: u32::from(word), pat: pattern16(word) }\n    }\n\n",
        );
    }
    out.push_str(
        "    /// The word.\n    #[must_use]\n    pub fn raw(&self) -> u32 {\n        self.raw\n    }\n\n\
         /// The instruction; `None` for a word the decoder rejects.\n    #[must_use]\n    #[inline]\n    \
         pub fn op(&self) -> Option<Insn> {\n        unpack(self.pat, self.raw)\n    }\n\n\
         /// Call the visitor method for the instruction; `None` for a word the decoder rejects.\n    \
         #[inline(always)]\n    pub fn visit<V: Visitor + ?Sized>(&self, v: &mut V) -> Option<V::Output> {\n        \
         visit_packed(self.pat, self.raw, v)\n    }\n}\n\n",
    );
}
