//! Generates the A64 decoder, visitor, encoder and disassembler from `decode/{a64,fp,simd}.decode`.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set by cargo"));
    let mut texts = Vec::new();
    for name in ["a64.decode", "fp.decode", "simd.decode"] {
        let path = manifest.join("decode").join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        texts.push((format!("decode/{name}"), text));
    }
    let inputs: Vec<(&str, &str, decodegen::Width)> =
        texts.iter().map(|(n, t)| (n.as_str(), t.as_str(), decodegen::Width::W32)).collect();
    let source = match decodegen::generate(&inputs) {
        Ok(s) => s,
        Err(e) => {
            // `cargo:warning` shows the location even when the panic message is folded away.
            println!("cargo:warning={e}");
            panic!("decodegen: {e}");
        }
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo")).join("decode_gen.rs");
    std::fs::write(&out, source).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}
