//! `decodegen`: instruction encodings as data.
//!
//! Reads `.decode` tables (a decodetree-like syntax, described below) and returns Rust source that
//! a build script writes to `$OUT_DIR` and the arch crate `include!`s. The generated code holds:
//!
//! - one `Args<Set>` struct per argument set (`&r` -> `ArgsR`, `&r2_rm` -> `ArgsR2Rm`);
//! - `pub enum Insn` with one variant per instruction (`fcvt_w_s` -> `Insn::FcvtWS(ArgsR2Rm)`);
//! - `pub trait Visitor` with one method per instruction and no default bodies, so a missing
//!   semantics function is a compile error; `Insn::visit`, `Insn::name` (`"fcvt.w.s"`);
//! - `pub fn pattern32(u32)` / `pub fn pattern16(u16) -> u16`: a decision tree of `match`es on the
//!   bits every remaining candidate fixes, ending in a short sequence of mask tests, answering the
//!   number of the pattern matched (0 for none); `pub fn unpack(u16, u32) -> Option<Insn>` and
//!   `pub fn visit_packed` turn a pattern number and the word into the instruction, and
//!   `pub fn decode32(u32)` / `pub fn decode16(u16) -> Option<Insn>` are the two together;
//!   `pub struct Packed` holds a word and its pattern number (eight bytes) for a block cache, its
//!   operands read from the word when used;
//! - `pub mod enc` / `pub mod enc16`: one encoder per pattern (an in-tree assembler for tests);
//! - `pub fn disasm(&Insn) -> String` driven by per-format templates.
//!
//! ```text
//!   .decode text ──parse──▶ AST ──resolve+check──▶ Model ──emit──▶ Rust source
//!                  (file:line errors)   (widths, overlaps, field coverage)
//! ```
//!
//! # Table syntax
//!
//! ```text
//! # comment                       (to end of line)
//! %name  pos:len pos:slen ... [<<N] [+K]   field: segments concatenated MSB first; `s` = sign-extend
//!                                          (first segment only); value = (bits << N) + K
//! &name  arg arg ...                       argument set -> struct ArgsName { arg, ... }
//! @name  [bits] [&set] assigns... ["tpl"]  format: reusable pattern tail
//! name[:base] bits [@fmt] [&set] assigns... ["tpl"]   pattern; `:base` = decodes to instruction
//!                                          `base` (used by 16-bit tables, name = encoder name)
//! assigns:  %f (arg f = field f) | arg=%f | arg=123 (constant, not an encoder parameter)
//! bits:     0 1 fixed, . field bit, - ignored (encoded as 0); tokens concatenate to the width
//! { ... }                                  overlap group: members may overlap, first match wins
//! illegal bits                             (in a group) matching words decode to `None`
//! "tpl"     disassembly operands: {arg} decimal, {arg:x} x-register, {arg:f} f-register,
//!           {arg:hex}, {arg:hi20} (imm >> 12 in hex), {arg:rm} (", rne"; empty for dyn),
//!           {arg:fence} (iorw letters), {arg:.sfx} (".sfx" if non-zero)
//! ```
//!
//! # Checks (all reported as `file:line: message`)
//! Bit strings must add up to the table width; referenced fields, formats, argument sets and base
//! instructions must exist; every argument of the set must be assigned; field bits must lie on `.`
//! positions and every `.` must belong to a field; two patterns that can match the same word must
//! sit in one overlap group; a group member that an earlier member always shadows is an error.
//!
//! # Encoders
//! Encoder parameters are the pattern's field-backed arguments in argument-set order (constant
//! arguments are not parameters; an argument fed by the same field as an earlier one is not
//! repeated). Out-of-range or misaligned values trip a `debug_assert!`; in release builds the
//! excess bits are masked off.
#![forbid(unsafe_code)]

mod emit;
mod parse;
mod resolve;

use std::fmt;

/// The width of the instruction words a table describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// 16-bit (compressed) encodings: decoder `decode16(u16)`, encoders in `enc16`.
    W16,
    /// 32-bit encodings: decoder `decode32(u32)`, encoders in `enc`.
    W32,
}

impl Width {
    /// Number of bits in a word of this width.
    pub fn bits(self) -> u32 {
        match self {
            Width::W16 => 16,
            Width::W32 => 32,
        }
    }
}

/// A problem in a `.decode` table, located at a file and line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// File name as passed to [`generate`].
    pub file: String,
    /// 1-based line number (0 when the problem concerns the whole input).
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

impl Error {
    pub(crate) fn new(file: &str, line: usize, msg: impl Into<String>) -> Self {
        Error { file: file.to_string(), line, msg: msg.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.msg)
    }
}

impl std::error::Error for Error {}

/// Parses and checks the given tables and returns the generated Rust source.
///
/// `inputs` are `(file name, text, width)`; the file name is only used in messages. Argument sets
/// and instruction names are shared by all inputs; fields and formats are local to their file. At
/// most one table per width is allowed.
pub fn generate(inputs: &[(&str, &str, Width)]) -> Result<String, Error> {
    let mut files = Vec::new();
    for (name, text, width) in inputs {
        files.push(parse::parse_file(name, text, *width)?);
    }
    let model = resolve::resolve(&files)?;
    Ok(emit::emit(&model))
}

#[cfg(test)]
mod tests;
