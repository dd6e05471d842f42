//! The runner's top-level modules depend on each other one way only.
//!
//! Every `crate::a…` path in a file of module `b` is an edge `b → a`, and so
//! is a `super::a…` path that climbs to the crate root. The root (`lib.rs`)
//! is a node too, above every module it declares: a module that names a
//! root item (`crate::Item`) closes a cycle through it. Comment lines are
//! skipped; `main.rs` is a separate crate and is not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = "crate";

type Graph = BTreeMap<String, BTreeSet<String>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `a/b.rs` → `[a, b]`, `a/mod.rs` → `[a]`, `lib.rs` → `[]`.
fn module_path(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let mut path: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into()).collect();
    if matches!(path.last().map(String::as_str), Some("mod" | "lib")) {
        path.pop();
    }
    path
}

/// The first name of each path after `prefix`: `crate::a::x` gives `a`,
/// `crate::{a, b::c}` gives `a` and `b`.
fn names_after(code: &str, prefix: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        let s = s.trim_start();
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        s[..end].to_string()
    };
    let mut names = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':' || c == '$') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        let Some(group) = rest.strip_prefix('{') else {
            names.push(ident(rest));
            continue;
        };
        // Split the group at its own commas, not those of nested groups.
        let (mut depth, mut start) = (0, 0);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    names.push(ident(&group[start..i]));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    names.push(ident(&group[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

/// Edges between the root and the top-level modules `lib.rs` declares.
fn graph() -> Graph {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let modules: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("pub ").strip_prefix("mod "))
        .filter_map(|l| l.strip_suffix(';'))
        .map(str::to_string)
        .collect();
    let mut graph = Graph::new();
    graph.insert(ROOT.into(), modules.clone());
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for file in files.iter().filter(|f| !f.ends_with("main.rs")) {
        let path = module_path(file);
        let from = path.first().cloned().unwrap_or_else(|| ROOT.into());
        let code: String = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut to: Vec<String> = names_after(&code, "crate::")
            .into_iter()
            .map(|n| if modules.contains(&n) { n } else { ROOT.into() })
            .collect();
        // As many `super::` as the file is deep reach the root; a module
        // named there is an edge. Fewer stay inside the file's own module.
        if !path.is_empty() {
            to.extend(
                names_after(&code, &"super::".repeat(path.len()))
                    .into_iter()
                    .filter(|n| modules.contains(n)),
            );
        }
        let edges = graph.entry(from.clone()).or_default();
        edges.extend(to.into_iter().filter(|t| *t != from));
    }
    graph
}

/// A cycle as `a -> b -> a`, if there is one.
fn find_cycle(graph: &Graph) -> Option<String> {
    fn visit<'a>(
        node: &'a str,
        graph: &'a Graph,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<String> {
        if let Some(i) = stack.iter().position(|n| *n == node) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(node);
            return Some(cycle.join(" -> "));
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn runner_modules_depend_one_way() {
    let graph = graph();
    let cycle = find_cycle(&graph);
    assert!(
        cycle.is_none(),
        "the runner's modules import each other in a cycle: {}\nfull graph: {graph:#?}",
        cycle.unwrap_or_default()
    );
}

#[test]
fn the_checker_sees_grouped_imports_and_cycles() {
    assert_eq!(
        names_after("use crate::{a, b::{c, d}, e};", "crate::"),
        ["a", "b", "e"]
    );
    let graph: Graph = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(from, to)| (from.into(), BTreeSet::from([to.to_string()])))
        .collect();
    assert_eq!(find_cycle(&graph).as_deref(), Some("a -> b -> c -> a"));
}
