//! Line-oriented parser: `.decode` text -> [`FileAst`]. Only syntax is checked here; names are
//! resolved in `resolve`.

use crate::{Error, Width};

/// One run of bits of a field: `pos:len` or `pos:slen`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub pos: u32,
    pub len: u32,
    pub signed: bool,
}

#[derive(Clone, Debug)]
pub struct FieldDef {
    pub name: String,
    pub segs: Vec<Segment>,
    pub shift: u32,
    pub add: i64,
    pub line: usize,
}

#[derive(Clone, Debug)]
pub struct ArgSetDef {
    pub name: String,
    pub args: Vec<String>,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Src {
    Field(String),
    Const(i64),
}

/// A bit string: `fixed` has a 1 for every `0`/`1` position, `value` their values, `dots` the `.`
/// positions and `ignored` the `-` positions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bits {
    pub fixed: u32,
    pub value: u32,
    pub dots: u32,
    pub ignored: u32,
}

/// The tail shared by formats and patterns.
#[derive(Clone, Debug, Default)]
pub struct Items {
    pub bits: Option<Bits>,
    pub format: Option<String>,
    pub argset: Option<String>,
    pub assigns: Vec<(String, Src)>,
    pub template: Option<String>,
}

#[derive(Clone, Debug)]
pub struct FormatDef {
    pub name: String,
    pub items: Items,
    pub line: usize,
}

#[derive(Clone, Debug)]
pub struct PatternDef {
    /// Pattern name: the instruction name, or the encoder name when `base` is set; `illegal`
    /// marks a reserved encoding.
    pub name: String,
    pub base: Option<String>,
    pub items: Items,
    pub line: usize,
    /// Index of the overlap group within the file, if any.
    pub group: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct FileAst {
    pub name: String,
    pub width: Width,
    pub fields: Vec<FieldDef>,
    pub argsets: Vec<ArgSetDef>,
    pub formats: Vec<FormatDef>,
    pub patterns: Vec<PatternDef>,
}

pub fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn tokenize(file: &str, line_no: usize, line: &str) -> Result<Vec<String>, Error> {
    let mut toks = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '#' => break,
            '"' => {
                if !cur.is_empty() {
                    return Err(Error::new(file, line_no, "a template string must be its own token"));
                }
                let mut s = String::from('"');
                let mut closed = false;
                for c in chars.by_ref() {
                    s.push(c);
                    if c == '"' {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err(Error::new(file, line_no, "unterminated template string"));
                }
                toks.push(s);
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    toks.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        toks.push(cur);
    }
    Ok(toks)
}

fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let v = if let Some(h) = body.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(b) = body.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()?
    } else {
        body.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

fn parse_field(file: &str, line: usize, width: Width, toks: &[String]) -> Result<FieldDef, Error> {
    let name = &toks[0][1..];
    if !is_ident(name) {
        return Err(Error::new(file, line, format!("bad field name `{name}`")));
    }
    let mut segs = Vec::new();
    let mut shift = None;
    let mut add = None;
    for t in &toks[1..] {
        if let Some(n) = t.strip_prefix("<<") {
            let v = n.parse::<u32>().map_err(|_| Error::new(file, line, format!("bad shift `{t}`")))?;
            if shift.replace(v).is_some() {
                return Err(Error::new(file, line, "more than one `<<` in a field"));
            }
        } else if let Some(n) = t.strip_prefix('+') {
            let v = parse_int(n).ok_or_else(|| Error::new(file, line, format!("bad constant `{t}`")))?;
            if add.replace(v).is_some() {
                return Err(Error::new(file, line, "more than one `+K` in a field"));
            }
        } else if let Some((p, l)) = t.split_once(':') {
            if shift.is_some() || add.is_some() {
                return Err(Error::new(file, line, format!("segment `{t}` after a transform; segments come first")));
            }
            let (signed, l) = match l.strip_prefix('s') {
                Some(l) => (true, l),
                None => (false, l),
            };
            let pos = p.parse::<u32>().map_err(|_| Error::new(file, line, format!("bad segment `{t}`")))?;
            let len = l.parse::<u32>().map_err(|_| Error::new(file, line, format!("bad segment `{t}`")))?;
            if len == 0 || pos + len > width.bits() {
                return Err(Error::new(
                    file,
                    line,
                    format!("segment `{t}` does not fit in a {}-bit word", width.bits()),
                ));
            }
            if signed && !segs.is_empty() {
                return Err(Error::new(
                    file,
                    line,
                    format!("only the first (most significant) segment may be signed: `{t}`"),
                ));
            }
            segs.push(Segment { pos, len, signed });
        } else {
            return Err(Error::new(file, line, format!("unexpected token `{t}` in field definition")));
        }
    }
    if segs.is_empty() {
        return Err(Error::new(file, line, format!("field `{name}` has no segments")));
    }
    let mut seen = 0u32;
    for s in &segs {
        let m = (((1u64 << s.len) - 1) << s.pos) as u32;
        if seen & m != 0 {
            return Err(Error::new(file, line, format!("segments of field `{name}` overlap")));
        }
        seen |= m;
    }
    let total: u32 = segs.iter().map(|s| s.len).sum();
    let shift = shift.unwrap_or(0);
    if total + shift > 62 {
        return Err(Error::new(file, line, format!("field `{name}` is too wide ({total} bits << {shift})")));
    }
    Ok(FieldDef { name: name.to_string(), segs, shift, add: add.unwrap_or(0), line })
}

fn is_bits(t: &str) -> bool {
    !t.is_empty() && t.chars().all(|c| matches!(c, '0' | '1' | '.' | '-'))
}

fn parse_items(file: &str, line: usize, width: Width, toks: &[String], what: &str) -> Result<Items, Error> {
    let mut items = Items::default();
    let mut bits = Bits::default();
    let mut nbits = 0u32;
    let mut in_bits = true;
    for t in toks {
        if is_bits(t) {
            if !in_bits {
                return Err(Error::new(file, line, format!("bit string `{t}` after other items")));
            }
            for c in t.chars() {
                nbits += 1;
                if nbits > width.bits() {
                    continue;
                }
                let b = 1u32 << (width.bits() - nbits);
                match c {
                    '0' => bits.fixed |= b,
                    '1' => {
                        bits.fixed |= b;
                        bits.value |= b;
                    }
                    '.' => bits.dots |= b,
                    _ => bits.ignored |= b,
                }
            }
            continue;
        }
        in_bits = false;
        if let Some(n) = t.strip_prefix('@') {
            if items.format.replace(n.to_string()).is_some() {
                return Err(Error::new(file, line, format!("{what} names more than one format")));
            }
        } else if let Some(n) = t.strip_prefix('&') {
            if items.argset.replace(n.to_string()).is_some() {
                return Err(Error::new(file, line, format!("{what} names more than one argument set")));
            }
        } else if let Some(n) = t.strip_prefix('%') {
            items.assigns.push((n.to_string(), Src::Field(n.to_string())));
        } else if let Some((a, v)) = t.split_once('=') {
            if !is_ident(a) {
                return Err(Error::new(file, line, format!("bad argument name in `{t}`")));
            }
            let src = if let Some(f) = v.strip_prefix('%') {
                Src::Field(f.to_string())
            } else {
                Src::Const(parse_int(v).ok_or_else(|| Error::new(file, line, format!("bad constant in `{t}`")))?)
            };
            items.assigns.push((a.to_string(), src));
        } else if t.starts_with('"') {
            if items.template.replace(t[1..t.len() - 1].to_string()).is_some() {
                return Err(Error::new(file, line, format!("{what} has more than one template")));
            }
        } else {
            return Err(Error::new(file, line, format!("unexpected token `{t}`")));
        }
    }
    if nbits != 0 {
        if nbits != width.bits() {
            return Err(Error::new(
                file,
                line,
                format!("{what} has {nbits} bits, expected {} for this table", width.bits()),
            ));
        }
        items.bits = Some(bits);
    }
    for (i, (a, _)) in items.assigns.iter().enumerate() {
        if items.assigns[..i].iter().any(|(b, _)| b == a) {
            return Err(Error::new(file, line, format!("argument `{a}` assigned twice")));
        }
    }
    Ok(items)
}

/// Parses one table.
pub fn parse_file(file: &str, text: &str, width: Width) -> Result<FileAst, Error> {
    let mut ast = FileAst {
        name: file.to_string(),
        width,
        fields: Vec::new(),
        argsets: Vec::new(),
        formats: Vec::new(),
        patterns: Vec::new(),
    };
    let mut group: Option<(usize, usize)> = None; // (index, opening line)
    let mut ngroups = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let toks = tokenize(file, line, raw)?;
        let Some(first) = toks.first() else { continue };
        if first == "{" {
            if toks.len() != 1 {
                return Err(Error::new(file, line, "`{` must be alone on its line"));
            }
            if let Some((_, open)) = group {
                return Err(Error::new(
                    file,
                    line,
                    format!("nested overlap group (the group opened at line {open} is still open)"),
                ));
            }
            group = Some((ngroups, line));
            ngroups += 1;
        } else if first == "}" {
            if toks.len() != 1 {
                return Err(Error::new(file, line, "`}` must be alone on its line"));
            }
            if group.take().is_none() {
                return Err(Error::new(file, line, "`}` without an open group"));
            }
        } else if first.starts_with('%') {
            ast.fields.push(parse_field(file, line, width, &toks)?);
        } else if let Some(name) = first.strip_prefix('&') {
            if !is_ident(name) {
                return Err(Error::new(file, line, format!("bad argument set name `{name}`")));
            }
            let mut args: Vec<String> = Vec::new();
            for a in &toks[1..] {
                if !is_ident(a) {
                    return Err(Error::new(file, line, format!("bad argument name `{a}`")));
                }
                if args.contains(a) {
                    return Err(Error::new(file, line, format!("argument `{a}` listed twice")));
                }
                args.push(a.clone());
            }
            ast.argsets.push(ArgSetDef { name: name.to_string(), args, line });
        } else if let Some(name) = first.strip_prefix('@') {
            if !is_ident(name) {
                return Err(Error::new(file, line, format!("bad format name `{name}`")));
            }
            let items = parse_items(file, line, width, &toks[1..], "format")?;
            ast.formats.push(FormatDef { name: name.to_string(), items, line });
        } else {
            let (name, base) = match first.split_once(':') {
                Some((n, b)) => (n, Some(b.to_string())),
                None => (first.as_str(), None),
            };
            if !is_ident(name) || base.as_deref().is_some_and(|b| !is_ident(b)) {
                return Err(Error::new(file, line, format!("bad pattern name `{first}`")));
            }
            let items = parse_items(file, line, width, &toks[1..], "pattern")?;
            if items.bits.is_none() {
                return Err(Error::new(file, line, format!("pattern `{name}` has no bit string")));
            }
            ast.patterns.push(PatternDef { name: name.to_string(), base, items, line, group: group.map(|g| g.0) });
        }
    }
    if let Some((_, open)) = group {
        return Err(Error::new(file, open, "overlap group is never closed"));
    }
    Ok(ast)
}
