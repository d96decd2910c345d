//! The layering rules of ARCHITECTURE.md, checked against `cargo metadata`: dependencies only go
//! downward, and a crate never imports what its row says it must not know.

use std::collections::BTreeMap;
use std::process::Command;

/// (crate, crates it must not depend on, directly or not).
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "mimic-core",
        &[
            "mimic-memory",
            "mimic-softmmu",
            "mimic-ir",
            "mimic-exec",
            "mimic-arch-riscv",
            "mimic-arch-aarch64",
            "mimic-devices",
            "mimic-machine",
        ],
    ),
    (
        "mimic-memory",
        &[
            "mimic-softmmu",
            "mimic-ir",
            "mimic-exec",
            "mimic-arch-riscv",
            "mimic-arch-aarch64",
            "mimic-devices",
            "mimic-machine",
        ],
    ),
    (
        "mimic-softmmu",
        &["mimic-ir", "mimic-exec", "mimic-arch-riscv", "mimic-arch-aarch64", "mimic-devices", "mimic-machine"],
    ),
    ("mimic-ir", &["mimic-exec", "mimic-arch-riscv", "mimic-arch-aarch64", "mimic-devices", "mimic-machine"]),
    ("mimic-exec", &["mimic-jit", "mimic-arch-riscv", "mimic-arch-aarch64", "mimic-devices", "mimic-machine"]),
    ("mimic-jit", &["mimic-arch-riscv", "mimic-arch-aarch64", "mimic-devices", "mimic-virtio", "mimic-machine"]),
    ("mimic-fpu", &["mimic-arch-riscv", "mimic-arch-aarch64", "mimic-exec", "mimic-devices", "mimic-machine"]),
    (
        "mimic-devices",
        &[
            "mimic-exec",
            "mimic-jit",
            "mimic-ir",
            "mimic-softmmu",
            "mimic-arch-riscv",
            "mimic-arch-aarch64",
            "mimic-machine",
        ],
    ),
    ("mimic-arch-riscv", &["mimic-devices", "mimic-machine", "mimic-jit", "mimic-arch-aarch64"]),
    ("mimic-arch-aarch64", &["mimic-devices", "mimic-machine", "mimic-jit", "mimic-arch-riscv"]),
    ("mimic-machine", &["mimic-cli", "mimic-monitor", "mimic-gdb"]),
    ("mimic-monitor", &["mimic-machine"]),
    ("mimic-gdb", &["mimic-machine"]),
    (
        "mimic-virtio",
        &[
            "mimic-devices",
            "mimic-machine",
            "mimic-block",
            "mimic-net",
            "mimic-exec",
            "mimic-arch-riscv",
            "mimic-arch-aarch64",
        ],
    ),
    ("mimic-block", &["mimic-memory", "mimic-devices", "mimic-machine"]),
    ("mimic-net", &["mimic-memory", "mimic-devices", "mimic-machine"]),
];

/// Normal (non-dev, non-build) dependencies between workspace crates.
fn workspace_graph() -> Result<BTreeMap<String, Vec<String>>, String> {
    let out = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    parse_graph(&text)
}

fn parse_graph(json: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("cargo metadata output: {e}"))?;
    let mut graph = BTreeMap::new();
    for pkg in v["packages"].as_array().ok_or("cargo metadata: no packages")? {
        let name = pkg["name"].as_str().unwrap_or_default();
        if !name.starts_with("mimic-") {
            continue;
        }
        let deps = pkg["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["kind"].is_null())
            .filter_map(|d| d["name"].as_str())
            .filter(|n| n.starts_with("mimic-"))
            .map(String::from)
            .collect();
        graph.insert(name.to_string(), deps);
    }
    if graph.is_empty() {
        return Err("no mimic crates found in cargo metadata".into());
    }
    Ok(graph)
}

fn reachable(graph: &BTreeMap<String, Vec<String>>, from: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut stack = vec![from.to_string()];
    while let Some(n) = stack.pop() {
        for d in graph.get(&n).into_iter().flatten() {
            if !seen.contains(d) {
                seen.push(d.clone());
                stack.push(d.clone());
            }
        }
    }
    seen
}

pub fn violations(graph: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut v = Vec::new();
    for (krate, banned) in FORBIDDEN {
        if !graph.contains_key(*krate) {
            continue;
        }
        for dep in reachable(graph, krate) {
            if banned.contains(&dep.as_str()) {
                v.push(format!("{krate} depends on {dep}, which ARCHITECTURE.md forbids"));
            }
        }
    }
    v
}

pub fn run() -> Result<(), String> {
    let graph = workspace_graph()?;
    let v = violations(&graph);
    if v.is_empty() {
        println!("layering: {} crates, no forbidden dependencies", graph.len());
        Ok(())
    } else {
        Err(v.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_depending_on_cpu_is_reported() {
        let mut g = BTreeMap::new();
        g.insert("mimic-devices".to_string(), vec!["mimic-exec".to_string()]);
        g.insert("mimic-exec".to_string(), vec![]);
        assert_eq!(violations(&g).len(), 1);
    }

    #[test]
    fn indirect_dependency_is_reported() {
        let mut g = BTreeMap::new();
        g.insert("mimic-devices".to_string(), vec!["mimic-x".to_string()]);
        g.insert("mimic-x".to_string(), vec!["mimic-arch-riscv".to_string()]);
        assert_eq!(violations(&g).len(), 1);
    }

    #[test]
    fn this_workspace_obeys_the_rules() {
        let g = workspace_graph().expect("cargo metadata");
        assert!(g["mimic-machine"].contains(&"mimic-devices".to_string()), "parsed graph: {g:?}");
        assert_eq!(violations(&g), Vec::<String>::new());
    }
}
