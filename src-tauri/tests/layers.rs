//! The shell's modules form layers: no module reaches, directly or through
//! others, back to itself. (An import loop made five files of the shell
//! depend on each other; what must cross layers is wired in main.rs.)

mod common;

use std::collections::{BTreeMap, BTreeSet};

/// Each top-level module of `src/` (a file, or a folder with its file) and
/// the top-level modules it names through `crate::`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path_name, path) in common::sources() {
        let module = path_name.split("::").next().unwrap_or("").to_string();
        if module == "main" {
            continue; // the wiring: it may name every module
        }
        let text = std::fs::read_to_string(&path).expect("source");
        let uses = graph.entry(module.clone()).or_default();
        for rest in text.split("crate::").skip(1) {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let names: Vec<String> = if name.is_empty() && rest.starts_with('{') {
                // `use crate::{a, b::c}`
                rest[1..rest.find('}').unwrap_or(1)]
                    .split(',')
                    .map(|p| p.trim().split("::").next().unwrap_or("").to_string())
                    .collect()
            } else {
                vec![name]
            };
            for n in names {
                if !n.is_empty() && n != module {
                    uses.insert(n);
                }
            }
        }
    }
    graph
}

fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = graph
        .get(from)
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    while let Some(m) = stack.pop() {
        if m == to {
            return true;
        }
        if seen.insert(m) {
            stack.extend(graph.get(m).into_iter().flatten().map(String::as_str));
        }
    }
    false
}

#[test]
fn no_module_of_the_shell_imports_itself_through_others() {
    let graph = graph();
    assert!(
        graph.contains_key("hotkey") && graph.contains_key("state"),
        "{graph:?}"
    );
    let loops: Vec<&String> = graph.keys().filter(|m| reaches(&graph, m, m)).collect();
    assert!(
        loops.is_empty(),
        "import loops through {loops:?} in {graph:?}"
    );
}

#[test]
fn the_loop_check_finds_a_loop() {
    let mut graph = graph();
    graph
        .entry("state".into())
        .or_default()
        .insert("hotkey".into());
    assert!(reaches(&graph, "state", "state"));
}
