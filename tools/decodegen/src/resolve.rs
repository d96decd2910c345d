//! Name resolution and the build-time checks: AST -> [`Model`].

use std::collections::HashMap;

use crate::parse::{Bits, FileAst, Items, Segment, Src};
use crate::{Error, Width};

/// A field with its owning file's identifier stem (used to name generated helpers).
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub stem: String,
    pub segs: Vec<Segment>,
    pub shift: u32,
    pub add: i64,
}

impl Field {
    pub fn signed(&self) -> bool {
        self.segs[0].signed
    }
    pub fn nbits(&self) -> u32 {
        self.segs.iter().map(|s| s.len).sum()
    }
    pub fn mask(&self) -> u32 {
        self.segs.iter().fold(0, |m, s| m | ((((1u64 << s.len) - 1) << s.pos) as u32))
    }
    /// Name of the generated extraction / insertion helpers.
    pub fn ident(&self) -> String {
        format!("{}_{}", self.stem, self.name)
    }
}

#[derive(Clone, Debug)]
pub struct Arg {
    pub name: String,
    /// `i64` when any source assigned to it is signed, else `u32`.
    pub signed: bool,
}

#[derive(Clone, Debug)]
pub struct ArgSet {
    pub name: String,
    pub args: Vec<Arg>,
}

impl ArgSet {
    pub fn struct_name(&self) -> String {
        format!("Args{}", camel(&self.name))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    Dec,
    X,
    F,
    Hex,
    Hi20,
    Rm,
    Fence,
    Suffix(String),
}

#[derive(Clone, Debug)]
pub enum Piece {
    Lit(String),
    Arg(usize, Spec),
}

#[derive(Clone, Debug)]
pub struct Insn {
    pub name: String,
    pub argset: usize,
    pub template: Vec<Piece>,
    pub origin: String,
}

impl Insn {
    pub fn variant(&self) -> String {
        camel(&self.name)
    }
    pub fn mnemonic(&self) -> String {
        self.name.replace('_', ".")
    }
}

#[derive(Clone, Debug)]
pub enum ArgVal {
    Field(usize),
    Const(i64),
}

#[derive(Clone, Debug)]
pub struct Pattern {
    pub enc_name: String,
    /// `None` for `illegal`.
    pub insn: Option<usize>,
    pub fixed: u32,
    pub value: u32,
    /// One entry per argument of the instruction's argument set.
    pub args: Vec<ArgVal>,
    pub group: Option<usize>,
    pub origin: String,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub width: Width,
    pub patterns: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub file_names: Vec<String>,
    pub fields: Vec<Field>,
    pub argsets: Vec<ArgSet>,
    pub insns: Vec<Insn>,
    pub patterns: Vec<Pattern>,
    pub tables: Vec<Table>,
}

/// `fcvt_w_s` -> `FcvtWS`, `r2_rm` -> `R2Rm`.
pub fn camel(s: &str) -> String {
    let mut out = String::new();
    for part in s.split('_').filter(|p| !p.is_empty()) {
        let mut c = part.chars();
        if let Some(f) = c.next() {
            out.extend(f.to_uppercase());
            out.push_str(c.as_str());
        }
    }
    out
}

fn parse_template(file: &str, line: usize, tpl: &str, set: &ArgSet) -> Result<Vec<Piece>, Error> {
    let mut pieces = Vec::new();
    let mut rest = tpl;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            None => {
                pieces.push(Piece::Lit(rest.to_string()));
                break;
            }
            Some(i) => {
                if i > 0 {
                    pieces.push(Piece::Lit(rest[..i].to_string()));
                }
                if rest[i..].starts_with('}') {
                    return Err(Error::new(file, line, "unmatched `}` in template"));
                }
                let end = rest[i..].find('}').ok_or_else(|| Error::new(file, line, "unterminated `{` in template"))?;
                let inner = &rest[i + 1..i + end];
                let (name, spec) = inner.split_once(':').unwrap_or((inner, ""));
                let arg = set.args.iter().position(|a| a.name == name).ok_or_else(|| {
                    Error::new(file, line, format!("template names `{name}`, which is not in &{}", set.name))
                })?;
                let spec = match spec {
                    "" => Spec::Dec,
                    "x" => Spec::X,
                    "f" => Spec::F,
                    "hex" => Spec::Hex,
                    "hi20" => Spec::Hi20,
                    "rm" => Spec::Rm,
                    "fence" => Spec::Fence,
                    s if s.starts_with('.') && s.len() > 1 => Spec::Suffix(s.to_string()),
                    s => return Err(Error::new(file, line, format!("unknown template format `{s}`"))),
                };
                pieces.push(Piece::Arg(arg, spec));
                rest = &rest[i + end + 1..];
            }
        }
    }
    Ok(pieces)
}

fn default_template(set: &ArgSet) -> Vec<Piece> {
    let mut pieces = Vec::new();
    for (i, a) in set.args.iter().enumerate() {
        if i > 0 {
            pieces.push(Piece::Lit(", ".into()));
        }
        let spec = if matches!(a.name.as_str(), "rd" | "rs1" | "rs2" | "rs3") { Spec::X } else { Spec::Dec };
        pieces.push(Piece::Arg(i, spec));
    }
    pieces
}

fn stem_of(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    let base = base.split('.').next().unwrap_or(base);
    let s: String =
        base.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        format!("t_{s}")
    } else {
        s
    }
}

/// A pattern after merging its format, before instruction lookup.
struct Merged {
    bits: Bits,
    argset: Option<String>,
    assigns: Vec<(String, Src)>,
    template: Option<String>,
}

fn merge(file: &str, line: usize, own: &Items, fmt: Option<&Items>) -> Result<Merged, Error> {
    let Some(fmt) = fmt else {
        return Ok(Merged {
            bits: own.bits.unwrap_or_default(),
            argset: own.argset.clone(),
            assigns: own.assigns.clone(),
            template: own.template.clone(),
        });
    };
    let p = own.bits.unwrap_or_default();
    let bits = match fmt.bits {
        None => p,
        Some(f) => {
            let both = p.fixed & f.fixed;
            if (p.value ^ f.value) & both != 0 {
                return Err(Error::new(file, line, "pattern and format fix the same bit to different values"));
            }
            let fixed = p.fixed | f.fixed;
            Bits {
                fixed,
                value: (p.value & p.fixed) | (f.value & f.fixed),
                dots: p.dots & f.dots & !fixed,
                ignored: (p.ignored | f.ignored) & !fixed,
            }
        }
    };
    let argset = match (&own.argset, &fmt.argset) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::new(file, line, format!("pattern names &{a} but its format uses &{b}")));
        }
        (Some(a), _) | (None, Some(a)) => Some(a.clone()),
        (None, None) => None,
    };
    let mut assigns = fmt.assigns.clone();
    for (a, s) in &own.assigns {
        if let Some(slot) = assigns.iter_mut().find(|(b, _)| b == a) {
            slot.1 = s.clone();
        } else {
            assigns.push((a.clone(), s.clone()));
        }
    }
    Ok(Merged { bits, argset, assigns, template: own.template.clone().or_else(|| fmt.template.clone()) })
}

/// Resolves names and runs every check.
pub fn resolve(files: &[FileAst]) -> Result<Model, Error> {
    let mut m = Model {
        file_names: files.iter().map(|f| f.name.clone()).collect(),
        fields: Vec::new(),
        argsets: Vec::new(),
        insns: Vec::new(),
        patterns: Vec::new(),
        tables: Vec::new(),
    };

    // Argument sets are global.
    let mut set_idx: HashMap<String, usize> = HashMap::new();
    let mut set_origin: Vec<String> = Vec::new();
    for f in files {
        for s in &f.argsets {
            if let Some(&i) = set_idx.get(&s.name) {
                return Err(Error::new(
                    &f.name,
                    s.line,
                    format!("argument set &{} already defined at {}", s.name, set_origin[i]),
                ));
            }
            set_idx.insert(s.name.clone(), m.argsets.len());
            set_origin.push(format!("{}:{}", f.name, s.line));
            m.argsets.push(ArgSet {
                name: s.name.clone(),
                args: s.args.iter().map(|a| Arg { name: a.clone(), signed: false }).collect(),
            });
        }
    }
    let mut names_seen = HashMap::new();
    for s in &m.argsets {
        if let Some(prev) = names_seen.insert(s.struct_name(), s.name.clone()) {
            return Err(Error::new(
                &files[0].name,
                0,
                format!("argument sets &{prev} and &{} both map to {}", s.name, s.struct_name()),
            ));
        }
    }

    // Widths: one table each; several files of one width are parts of that width's table.
    let mut stems: HashMap<String, String> = HashMap::new();
    let mut table_of_file = Vec::new();
    for f in files {
        match m.tables.iter().position(|t| t.width == f.width) {
            Some(t) => table_of_file.push(t),
            None => {
                table_of_file.push(m.tables.len());
                m.tables.push(Table { width: f.width, patterns: Vec::new() });
            }
        }
        let stem = stem_of(&f.name);
        if let Some(prev) = stems.insert(stem.clone(), f.name.clone()) {
            return Err(Error::new(&f.name, 0, format!("file name stem `{stem}` clashes with {prev}")));
        }
    }

    // Per-file fields and formats; patterns are resolved in two passes (instruction-defining
    // patterns first, so that `name:base` may refer to an instruction of any table).
    struct Pending {
        file: usize,
        table: usize,
        line: usize,
        name: String,
        base: Option<String>,
        group: Option<usize>,
        merged: Merged,
    }
    let mut pending = Vec::new();
    let mut field_maps: Vec<HashMap<String, usize>> = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        let stem = stem_of(&f.name);
        let mut fmap = HashMap::new();
        for fd in &f.fields {
            if fmap.contains_key(&fd.name) {
                return Err(Error::new(&f.name, fd.line, format!("field %{} defined twice", fd.name)));
            }
            fmap.insert(fd.name.clone(), m.fields.len());
            m.fields.push(Field {
                name: fd.name.clone(),
                stem: stem.clone(),
                segs: fd.segs.clone(),
                shift: fd.shift,
                add: fd.add,
            });
        }
        let mut formats: HashMap<String, &Items> = HashMap::new();
        for fd in &f.formats {
            if formats.insert(fd.name.clone(), &fd.items).is_some() {
                return Err(Error::new(&f.name, fd.line, format!("format @{} defined twice", fd.name)));
            }
            if fd.items.format.is_some() {
                return Err(Error::new(&f.name, fd.line, "a format cannot name another format"));
            }
            check_assigns(&f.name, fd.line, &fd.items.argset, &fd.items.assigns, &set_idx, &m.argsets, &fmap, false)?;
        }
        for p in &f.patterns {
            let fmt = match &p.items.format {
                Some(n) => {
                    Some(*formats.get(n).ok_or_else(|| Error::new(&f.name, p.line, format!("unknown format @{n}")))?)
                }
                None => None,
            };
            let merged = merge(&f.name, p.line, &p.items, fmt)?;
            pending.push(Pending {
                file: fi,
                table: table_of_file[fi],
                line: p.line,
                name: p.name.clone(),
                base: p.base.clone(),
                group: p.group,
                merged,
            });
        }
        field_maps.push(fmap);
    }

    let mut insn_idx: HashMap<String, usize> = HashMap::new();
    let mut variants: HashMap<String, String> = HashMap::new();
    let mut enc_names: Vec<HashMap<String, String>> = vec![HashMap::new(); files.len()];
    let mut resolved: Vec<Option<Pattern>> = vec![None; pending.len()];
    for pass in 0..2 {
        for (pi, p) in pending.iter().enumerate() {
            let fname = &files[p.file].name;
            let origin = format!("{fname}:{}", p.line);
            let illegal = p.name == "illegal";
            let defines = !illegal && p.base.is_none();
            if (pass == 0) != defines {
                continue;
            }
            let mg = &p.merged;
            if illegal {
                if p.base.is_some() || mg.argset.is_some() || !mg.assigns.is_empty() || mg.template.is_some() {
                    return Err(Error::new(fname, p.line, "an `illegal` pattern takes only a bit string"));
                }
                resolved[pi] = Some(Pattern {
                    enc_name: String::new(),
                    insn: None,
                    fixed: mg.bits.fixed,
                    value: mg.bits.value,
                    args: Vec::new(),
                    group: p.group,
                    origin,
                });
                continue;
            }
            let set_name = mg.argset.as_ref().ok_or_else(|| {
                Error::new(fname, p.line, format!("pattern `{}` has no argument set (use &empty for none)", p.name))
            })?;
            check_assigns(fname, p.line, &mg.argset, &mg.assigns, &set_idx, &m.argsets, &field_maps[p.file], true)?;
            let si = set_idx[set_name];
            let set = &m.argsets[si];
            let mut args = Vec::new();
            let mut used = 0u32;
            for a in &set.args {
                let src = &mg.assigns.iter().find(|(n, _)| *n == a.name).expect("checked").1;
                args.push(match src {
                    Src::Field(fname2) => {
                        let idx = field_maps[p.file][fname2];
                        used |= m.fields[idx].mask();
                        ArgVal::Field(idx)
                    }
                    Src::Const(c) => ArgVal::Const(*c),
                });
            }
            let b = mg.bits;
            if used & b.fixed != 0 {
                return Err(Error::new(
                    fname,
                    p.line,
                    format!("a field of `{}` uses fixed bits (mask {:#x})", p.name, used & b.fixed),
                ));
            }
            if used & b.ignored != 0 {
                return Err(Error::new(
                    fname,
                    p.line,
                    format!("a field of `{}` uses bits marked `-` (mask {:#x})", p.name, used & b.ignored),
                ));
            }
            if b.dots & !used != 0 {
                return Err(Error::new(
                    fname,
                    p.line,
                    format!("bits {:#x} of `{}` are `.` but belong to no field; mark them `-`", b.dots & !used, p.name),
                ));
            }
            let insn = if let Some(base) = &p.base {
                let ii = *insn_idx
                    .get(base)
                    .ok_or_else(|| Error::new(fname, p.line, format!("unknown base instruction `{base}`")))?;
                if m.insns[ii].argset != si {
                    return Err(Error::new(
                        fname,
                        p.line,
                        format!(
                            "`{}` uses &{} but `{base}` ({}) uses &{}",
                            p.name, set_name, m.insns[ii].origin, m.argsets[m.insns[ii].argset].name
                        ),
                    ));
                }
                if mg.template.is_some() {
                    return Err(Error::new(
                        fname,
                        p.line,
                        "a template on a pattern with a base instruction is never used",
                    ));
                }
                ii
            } else {
                if let Some(&ii) = insn_idx.get(&p.name) {
                    return Err(Error::new(
                        fname,
                        p.line,
                        format!("instruction `{}` already defined at {}", p.name, m.insns[ii].origin),
                    ));
                }
                let v = camel(&p.name);
                if let Some(prev) = variants.insert(v.clone(), p.name.clone()) {
                    return Err(Error::new(
                        fname,
                        p.line,
                        format!("`{}` and `{prev}` both map to variant {v}", p.name),
                    ));
                }
                let template = match &mg.template {
                    Some(t) => parse_template(fname, p.line, t, set)?,
                    None => default_template(set),
                };
                insn_idx.insert(p.name.clone(), m.insns.len());
                m.insns.push(Insn { name: p.name.clone(), argset: si, template, origin: origin.clone() });
                m.insns.len() - 1
            };
            if let Some(prev) = enc_names[p.table].insert(p.name.clone(), origin.clone()) {
                return Err(Error::new(fname, p.line, format!("encoder name `{}` already used at {prev}", p.name)));
            }
            resolved[pi] = Some(Pattern {
                enc_name: p.name.clone(),
                insn: Some(insn),
                fixed: b.fixed,
                value: b.value,
                args,
                group: p.group,
                origin,
            });
        }
    }

    // Argument types, and the table lists in file order.
    for (pi, p) in pending.iter().enumerate() {
        let pat = resolved[pi].take().expect("resolved in one of the passes");
        if let Some(ii) = pat.insn {
            let si = m.insns[ii].argset;
            for (ai, v) in pat.args.iter().enumerate() {
                let signed = match v {
                    ArgVal::Field(f) => m.fields[*f].signed() || m.fields[*f].add < 0,
                    ArgVal::Const(c) => *c < 0,
                };
                if signed {
                    m.argsets[si].args[ai].signed = true;
                }
            }
        }
        m.tables[p.table].patterns.push(m.patterns.len());
        m.patterns.push(pat);
    }
    for (pi, p) in m.patterns.iter().enumerate() {
        let fname = &files[pending[pi].file].name;
        for (ai, v) in p.args.iter().enumerate() {
            let Some(ii) = p.insn else { continue };
            let arg = &m.argsets[m.insns[ii].argset].args[ai];
            if arg.signed {
                continue;
            }
            let ok = match v {
                ArgVal::Const(c) => u32::try_from(*c).is_ok(),
                ArgVal::Field(f) => {
                    let fd = &m.fields[*f];
                    fd.nbits() + fd.shift <= 32 && ((1i64 << (fd.nbits() + fd.shift)) + fd.add) <= (1i64 << 32)
                }
            };
            if !ok {
                return Err(Error::new(
                    fname,
                    pending[pi].line,
                    format!("value of unsigned argument `{}` does not fit in u32", arg.name),
                ));
            }
        }
    }

    check_overlaps(&m, files, &pending.iter().map(|p| (p.file, p.line)).collect::<Vec<_>>())?;
    Ok(m)
}

#[allow(clippy::too_many_arguments)]
fn check_assigns(
    file: &str,
    line: usize,
    argset: &Option<String>,
    assigns: &[(String, Src)],
    set_idx: &HashMap<String, usize>,
    sets: &[ArgSet],
    fields: &HashMap<String, usize>,
    complete: bool,
) -> Result<(), Error> {
    for (_, s) in assigns {
        if let Src::Field(f) = s {
            if !fields.contains_key(f) {
                return Err(Error::new(file, line, format!("unknown field %{f}")));
            }
        }
    }
    let Some(set_name) = argset else {
        if let Some((a, _)) = assigns.first() {
            return Err(Error::new(file, line, format!("argument `{a}` assigned but no argument set named")));
        }
        return Ok(());
    };
    let si =
        *set_idx.get(set_name).ok_or_else(|| Error::new(file, line, format!("unknown argument set &{set_name}")))?;
    let set = &sets[si];
    for (a, _) in assigns {
        if !set.args.iter().any(|x| x.name == *a) {
            return Err(Error::new(file, line, format!("&{set_name} has no argument `{a}`")));
        }
    }
    if complete {
        for a in &set.args {
            if !assigns.iter().any(|(n, _)| *n == a.name) {
                return Err(Error::new(file, line, format!("argument `{}` of &{set_name} is not assigned", a.name)));
            }
        }
    }
    Ok(())
}

fn describe(p: &Pattern) -> String {
    match p.insn {
        None => "illegal".to_string(),
        Some(_) => format!("`{}`", p.enc_name),
    }
}

fn check_overlaps(m: &Model, files: &[FileAst], loc: &[(usize, usize)]) -> Result<(), Error> {
    for t in &m.tables {
        for (k, &i) in t.patterns.iter().enumerate() {
            for &j in &t.patterns[..k] {
                let (a, b) = (&m.patterns[j], &m.patterns[i]); // a earlier, b later
                let both = a.fixed & b.fixed;
                if (a.value ^ b.value) & both != 0 {
                    continue;
                }
                let (file, line) = loc[i];
                let word = (a.value & a.fixed) | (b.value & b.fixed);
                let same_group = a.group.is_some() && a.group == b.group;
                if !same_group {
                    return Err(Error::new(
                        &files[file].name,
                        line,
                        format!(
                            "pattern {} overlaps {} at {} (both match {word:#x}); put them in one overlap group {{ }}",
                            describe(b),
                            describe(a),
                            a.origin
                        ),
                    ));
                }
                if a.fixed & !b.fixed == 0 {
                    return Err(Error::new(
                        &files[file].name,
                        line,
                        format!(
                            "pattern {} can never match: {} at {} comes first and matches everything it does",
                            describe(b),
                            describe(a),
                            a.origin
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}
