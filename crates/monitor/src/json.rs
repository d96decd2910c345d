//! JSON framing for QMP: splitting a byte stream into messages, and writing QEMU-style JSON.
//!
//! QMP has no framing of its own: QEMU's `json-streamer` counts braces and brackets and hands a
//! value to the parser as soon as they balance, so clients may (and `qemu.qmp` does) send
//! messages without a trailing newline. [`Splitter`] does the same:
//!
//! ```text
//!  bytes ──► Start ──'{' '['──► Compound ──(braces and brackets balance)──► Message(bytes)
//!              │  └──other────► Scalar ────(whitespace / structural)──────► Message(bytes)
//!              └──control byte, 0xFE, 0xFF──► Error("JSON parse error, stray ...")
//!  any state ──lexical error──► Recovery ──(structural char, control char, newline)──► Start
//! ```
//!
//! As in QEMU, an ASCII control character other than `\t`, `\r`, `\n` (or the bytes 0xFE, 0xFF,
//! never valid UTF-8) is a lexical error anywhere, even inside a string: clients send one to force
//! the parser back into a known state (qmp-spec, "Forcing the JSON parser into known-good state").
//! QEMU's single-quoted strings (`{'execute': 'stop'}`) are accepted and rewritten to JSON.

use std::io;

use serde_json::ser::Formatter;
use serde_json::Value;

/// One unit of input found by [`Splitter::feed`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chunk {
    /// A complete candidate value (JSON text, possibly malformed: the parser decides).
    Message(Vec<u8>),
    /// A lexical error; the text is the `desc` of the `GenericError` to answer with.
    Error(String),
    /// A message grew past the size limit; its bytes were dropped.
    TooLarge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Start,
    Compound,
    /// A top-level scalar; `quoted` while inside its string.
    Scalar {
        quoted: bool,
    },
    Recovery,
}

/// Splits a QMP byte stream into messages, with bounded memory (see the module docs).
#[derive(Debug)]
pub struct Splitter {
    buf: Vec<u8>,
    state: State,
    braces: i64,
    brackets: i64,
    /// Inside a string: `Some(b'"')` or `Some(b'\'')`.
    quote: Option<u8>,
    escape: bool,
    max: usize,
}

fn is_lexical_error(b: u8) -> bool {
    b >= 0xFE || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
}

fn is_structural(b: u8) -> bool {
    matches!(b, b'{' | b'}' | b'[' | b']')
}

fn stray(bytes: &[u8]) -> String {
    let shown: String = bytes
        .iter()
        .map(|&b| if b.is_ascii_graphic() || b == b' ' { char::from(b).to_string() } else { format!("\\x{b:02x}") })
        .collect();
    format!("JSON parse error, stray '{shown}'")
}

impl Splitter {
    /// A splitter that refuses messages longer than `max` bytes.
    pub fn new(max: usize) -> Self {
        Splitter { buf: Vec::new(), state: State::Start, braces: 0, brackets: 0, quote: None, escape: false, max }
    }

    /// True if bytes of an unfinished message are buffered.
    pub fn is_mid_message(&self) -> bool {
        !self.buf.is_empty()
    }

    fn reset(&mut self, state: State) {
        self.buf.clear();
        self.state = state;
        self.braces = 0;
        self.brackets = 0;
        self.quote = None;
        self.escape = false;
    }

    fn push(&mut self, b: u8, out: &mut Vec<Chunk>) -> bool {
        if self.buf.len() >= self.max {
            out.push(Chunk::TooLarge);
            self.reset(State::Recovery);
            return false;
        }
        self.buf.push(b);
        true
    }

    /// String content byte `b` inside a string delimited by `q`; rewrites single-quoted strings
    /// into double-quoted JSON. Returns false when the string closed.
    fn string_byte(&mut self, b: u8, q: u8, out: &mut Vec<Chunk>) -> bool {
        if self.escape {
            self.escape = false;
            // `\'` is only meaningful in single-quoted strings; JSON has no such escape.
            if b == b'\'' {
                self.buf.pop();
            }
            self.push(b, out);
            return true;
        }
        match b {
            b'\\' => {
                self.escape = true;
                self.push(b, out);
                true
            }
            _ if b == q => {
                self.push(b'"', out);
                false
            }
            b'"' => {
                // A double quote inside a single-quoted string.
                self.push(b'\\', out);
                self.push(b'"', out);
                true
            }
            _ => {
                self.push(b, out);
                true
            }
        }
    }

    /// Consumes `bytes`, appending every message or error completed by them to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Chunk>) {
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match self.state {
                State::Recovery => {
                    if is_structural(b) {
                        self.state = State::Start;
                        continue; // reprocess in Start
                    }
                    if is_lexical_error(b) || b == b'\n' {
                        self.state = State::Start;
                    }
                }
                State::Start => {
                    if is_lexical_error(b) {
                        out.push(Chunk::Error(stray(&[b])));
                    } else if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                        // whitespace between messages
                    } else if matches!(b, b'}' | b']') {
                        out.push(Chunk::Error("JSON parse error, expecting value".into()));
                    } else if matches!(b, b'{' | b'[') {
                        self.reset(State::Compound);
                        self.state = State::Compound;
                        if b == b'{' {
                            self.braces = 1;
                        } else {
                            self.brackets = 1;
                        }
                        self.buf.push(b);
                    } else if b == b'"' || b == b'\'' {
                        self.reset(State::Scalar { quoted: true });
                        self.quote = Some(b);
                        self.buf.push(b'"');
                    } else {
                        self.reset(State::Scalar { quoted: false });
                        self.buf.push(b);
                    }
                }
                State::Scalar { quoted } => {
                    if is_lexical_error(b) {
                        let mut bad = std::mem::take(&mut self.buf);
                        bad.push(b);
                        out.push(Chunk::Error(stray(&bad)));
                        self.reset(State::Start);
                    } else if quoted {
                        let q = self.quote.unwrap_or(b'"');
                        if !self.string_byte(b, q, out) {
                            self.quote = None;
                            out.push(Chunk::Message(std::mem::take(&mut self.buf)));
                            self.reset(State::Start);
                        }
                    } else if matches!(b, b' ' | b'\t' | b'\r' | b'\n') || is_structural(b) || b == b'"' {
                        out.push(Chunk::Message(std::mem::take(&mut self.buf)));
                        self.reset(State::Start);
                        continue; // the delimiter starts what comes next
                    } else {
                        self.push(b, out);
                    }
                }
                State::Compound => {
                    if is_lexical_error(b) {
                        // Like QEMU, drop the partial message and skip to a resynchronization
                        // point (the rest of a broken message gets no replies of its own).
                        out.push(Chunk::Error(stray(&[b])));
                        self.reset(State::Recovery);
                    } else if let Some(q) = self.quote {
                        if !self.string_byte(b, q, out) {
                            self.quote = None;
                        }
                    } else {
                        match b {
                            b'"' | b'\'' => {
                                self.quote = Some(b);
                                self.push(b'"', out);
                            }
                            b'{' => {
                                self.braces += 1;
                                self.push(b, out);
                            }
                            b'}' => {
                                self.braces -= 1;
                                self.push(b, out);
                            }
                            b'[' => {
                                self.brackets += 1;
                                self.push(b, out);
                            }
                            b']' => {
                                self.brackets -= 1;
                                self.push(b, out);
                            }
                            _ => {
                                self.push(b, out);
                            }
                        }
                        if self.state == State::Compound {
                            let open = self.braces > 0 || self.brackets > 0;
                            if !open || self.braces < 0 || self.brackets < 0 {
                                out.push(Chunk::Message(std::mem::take(&mut self.buf)));
                                self.reset(State::Start);
                            }
                        }
                    }
                }
            }
            i += 1;
        }
    }
}

/// serde_json formatter that writes the way QEMU's `qobject_to_json` does: `{"a": 1, "b": [1, 2]}`.
struct QemuFormatter;

impl Formatter for QemuFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

/// `value` as one line of JSON in QEMU's spacing.
pub fn to_qemu_json(value: &Value) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, QemuFormatter);
    serde::Serialize::serialize(value, &mut ser).expect("serializing a serde_json::Value into memory cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8]) -> Vec<Chunk> {
        let mut s = Splitter::new(1024);
        let mut out = Vec::new();
        s.feed(input, &mut out);
        out
    }

    fn msg(s: &str) -> Chunk {
        Chunk::Message(s.as_bytes().to_vec())
    }

    #[test]
    fn splitter_messages_without_newlines_are_separated() {
        let out = split(br#"{"execute": "a"}{"execute": "b"}"#);
        assert_eq!(out, vec![msg(r#"{"execute": "a"}"#), msg(r#"{"execute": "b"}"#)]);
    }

    #[test]
    fn splitter_message_split_across_feeds_is_joined() {
        let mut s = Splitter::new(1024);
        let mut out = Vec::new();
        s.feed(br#"{"execute": "qu"#, &mut out);
        assert!(out.is_empty());
        assert!(s.is_mid_message());
        s.feed(br#"ery-status", "arguments": {}}"#, &mut out);
        assert_eq!(out, vec![msg(r#"{"execute": "query-status", "arguments": {}}"#)]);
    }

    #[test]
    fn splitter_braces_inside_strings_are_ignored() {
        let out = split(br#"{"id": "}{\"]"}"#);
        assert_eq!(out, vec![msg(r#"{"id": "}{\"]"}"#)]);
    }

    #[test]
    fn splitter_top_level_scalars_are_messages() {
        let out = split(b"42 \"str\" true\n");
        assert_eq!(out, vec![msg("42"), msg("\"str\""), msg("true")]);
    }

    #[test]
    fn splitter_control_byte_resets_mid_message() {
        let out = split(b"{\"execute\": \x1b{\"execute\": \"stop\"}");
        assert_eq!(out.len(), 2);
        assert!(matches!(&out[0], Chunk::Error(e) if e.starts_with("JSON parse error, stray")));
        assert_eq!(out[1], msg(r#"{"execute": "stop"}"#));
    }

    #[test]
    fn splitter_lexical_error_skips_to_next_structural_char() {
        // As QEMU's lexer: "op\"" is skipped, the '}' resynchronizes (and is itself stray).
        let out = split(b"{\"execute\": \"st\x01op\"}{\"execute\": \"cont\"}");
        let stray = Chunk::Error("JSON parse error, stray '\\x01'".into());
        let expecting = Chunk::Error("JSON parse error, expecting value".into());
        assert_eq!(out, vec![stray, expecting, msg(r#"{"execute": "cont"}"#)]);
    }

    #[test]
    fn splitter_stray_close_brace_is_an_error() {
        let out = split(b"}");
        assert_eq!(out, vec![Chunk::Error("JSON parse error, expecting value".into())]);
    }

    #[test]
    fn splitter_single_quotes_become_json() {
        let out = split(br#"{'execute': 'say "hi" it\'s'}"#);
        let Chunk::Message(m) = &out[0] else { panic!("{out:?}") };
        let v: Value = serde_json::from_slice(m).unwrap();
        assert_eq!(v["execute"], r#"say "hi" it's"#);
    }

    #[test]
    fn splitter_oversized_message_reports_too_large_once() {
        let mut s = Splitter::new(16);
        let mut out = Vec::new();
        s.feed(&[b"[".as_slice(), &b"1,".repeat(100)].concat(), &mut out);
        assert_eq!(out, vec![Chunk::TooLarge]);
        assert!(!s.is_mid_message());
    }

    #[test]
    fn qemu_json_uses_qemu_spacing() {
        let v = serde_json::json!({"return": {"a": [1, 2], "b": {}}});
        assert_eq!(to_qemu_json(&v), r#"{"return": {"a": [1, 2], "b": {}}}"#);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn feed_in(chunks: &[&[u8]]) -> Vec<Chunk> {
        let mut s = Splitter::new(256);
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, &mut out);
            assert!(s.buf.len() <= 256, "buffer stays bounded");
        }
        out
    }

    proptest! {
        #[test]
        fn splitter_output_does_not_depend_on_read_boundaries(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b'{'), Just(b'}'), Just(b'['), Just(b']'), Just(b'"'), Just(b'\''),
                            Just(b'\\'), Just(b' '), Just(b'\n'), Just(0x1b), Just(0xff), any::<u8>()],
                0..600),
            cut in 0usize..600,
        ) {
            let whole = feed_in(&[&bytes]);
            let cut = cut.min(bytes.len());
            let halves = feed_in(&[&bytes[..cut], &bytes[cut..]]);
            let singles: Vec<&[u8]> = bytes.chunks(1).collect();
            prop_assert_eq!(&whole, &halves);
            prop_assert_eq!(&whole, &feed_in(&singles));
        }

        #[test]
        fn splitter_returns_every_object_of_a_clean_stream(n in 1usize..20) {
            let stream: Vec<u8> = (0..n).flat_map(|i| format!("{{\"execute\": \"c{i}\", \"id\": [{i}]}}").into_bytes()).collect();
            let out = feed_in(&[&stream]);
            prop_assert_eq!(out.len(), n);
            for (i, c) in out.iter().enumerate() {
                let Chunk::Message(m) = c else { panic!("{c:?}") };
                let v: Value = serde_json::from_slice(m).unwrap();
                prop_assert_eq!(&v["execute"], &Value::String(format!("c{i}")));
            }
        }
    }
}
