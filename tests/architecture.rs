//! The module graph as ARCHITECTURE.md draws it, held against the code.
//!
//! Reads every file under `src/` (the library; `main.rs` and `src/bin/` are
//! crates of their own that use only the public API), collects the `crate::`,
//! `super::` and `self::` paths it uses (in `use` items, groups expanded, and
//! inline), and fails:
//! - on a module edge that the "Layers" block of ARCHITECTURE.md does not
//!   allow;
//! - on any cycle between modules;
//! - on any cycle between files (a `mod.rs` that re-exports a child while
//!   the child imports the `mod.rs` counts).
//!
//! Comments and a file's trailing `#[cfg(test)] mod tests` are not read:
//! doc links and unit tests are not part of the structure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `module -> may use` from ARCHITECTURE.md's layers block.
fn allowed() -> BTreeMap<String, BTreeSet<String>> {
    let doc = std::fs::read_to_string(Path::new(ROOT).join("ARCHITECTURE.md")).unwrap();
    let start = doc
        .find("```text\nlayers")
        .expect("ARCHITECTURE.md has a ```text block starting with `layers`");
    let block = &doc[start..];
    let block = &block[..block[3..].find("```").unwrap() + 3];
    let mut rules = BTreeMap::new();
    for line in block.lines().skip(2) {
        let Some((module, uses)) = line.split_once("->") else {
            continue;
        };
        let uses = uses
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty() && *u != "(nothing)")
            .map(str::to_owned)
            .collect();
        rules.insert(module.trim().to_owned(), uses);
    }
    assert!(rules.len() > 5, "the layers block lists the modules");
    rules
}

/// Every library file: `src/` but for the binaries.
fn library_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().unwrap() != "bin" {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&Path::new(ROOT).join("src"), &mut files);
    files.retain(|f| !f.ends_with("src/main.rs"));
    files.sort();
    files
}

/// The module path of a file: `src/backend/json.rs` is `[backend, json]`,
/// `src/backend/mod.rs` is `[backend]`, `src/lib.rs` is `[]`.
fn module_path(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(Path::new(ROOT).join("src")).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The file of a module path, if there is one.
fn module_file(path: &[String]) -> Option<PathBuf> {
    let src = Path::new(ROOT).join("src");
    if path.is_empty() {
        return Some(src.join("lib.rs"));
    }
    let base = path.iter().fold(src, |p, s| p.join(s));
    [base.with_extension("rs"), base.join("mod.rs")]
        .into_iter()
        .find(|f| f.is_file())
}

/// The code of a file without comments and without its unit tests.
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `a::{b, c::{d, e}}` as `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.split_whitespace().collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{prefix}{p}")))
        .collect()
}

/// Every path the code names that starts with `crate`, `super` or `self`.
fn paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    // `use` items, groups expanded.
    let mut rest = code;
    while let Some(at) = find_use(rest) {
        let item = &rest[at..];
        let end = item.find(';').unwrap();
        let tree = item["use".len()..end].trim();
        found.extend(
            expand(tree)
                .into_iter()
                .map(|p| p.split(" as ").next().unwrap().to_owned())
                .filter(|p| {
                    p.starts_with("crate::") || p.starts_with("super::") || p.starts_with("self::")
                }),
        );
        rest = &item[end..];
    }
    // Inline paths: `crate::metrics::OTHER_PATH`, `super::super::typed::RawFn`.
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let at = from + at;
            from = at + start.len();
            if at > 0
                && (bytes[at - 1].is_ascii_alphanumeric()
                    || bytes[at - 1] == b'_'
                    || bytes[at - 1] == b':')
            {
                continue;
            }
            let len = code[at..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(code.len() - at);
            found.push(code[at..at + len].trim_end_matches(':').to_owned());
        }
    }
    found
}

/// Where the next `use` item starts (at a line start, after `pub(..)`).
fn find_use(code: &str) -> Option<usize> {
    let mut offset = 0;
    for line in code.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let trimmed = trimmed
            .strip_prefix("pub(crate) ")
            .or_else(|| trimmed.strip_prefix("pub(super) "))
            .or_else(|| trimmed.strip_prefix("pub "))
            .unwrap_or(trimmed);
        if trimmed.starts_with("use ") {
            return Some(offset + line.len() - trimmed.len());
        }
        offset += line.len();
    }
    None
}

/// The module path a path resolves to from `here`, and the file it names.
fn resolve(here: &[String], is_mod_file: bool, path: &str) -> Option<(Vec<String>, PathBuf)> {
    let mut segments = path.split("::").filter(|s| !s.is_empty());
    // A file's own module is `here`; `super` from a non-mod file is its
    // parent, from a `mod.rs` its parent's parent.
    let mut base: Vec<String> = match segments.next()? {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" => {
            let mut b = here.to_vec();
            let _ = is_mod_file;
            b.pop();
            b
        }
        _ => return None,
    };
    let mut rest: Vec<&str> = segments.collect();
    while rest.first() == Some(&"super") {
        base.pop();
        rest.remove(0);
    }
    let mut deepest = (base.clone(), module_file(&base)?);
    for seg in rest {
        base.push(seg.to_owned());
        match module_file(&base) {
            Some(file) => deepest = (base.clone(), file),
            None => break,
        }
    }
    Some(deepest)
}

struct Graph {
    /// Top module of the importing file -> top module used, with an example.
    modules: BTreeMap<String, BTreeMap<String, String>>,
    /// File -> files it imports from.
    files: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
}

fn top(path: &[String]) -> String {
    path.first().cloned().unwrap_or_else(|| "lib".to_owned())
}

fn graph() -> Graph {
    let mut g = Graph {
        modules: BTreeMap::new(),
        files: BTreeMap::new(),
    };
    for file in library_files() {
        let here = module_path(&file);
        let is_mod = file.ends_with("mod.rs") || file.ends_with("lib.rs");
        let code = code(&file);
        let edges = g.files.entry(file.clone()).or_default();
        for path in paths(&code) {
            let Some((target, target_file)) = resolve(&here, is_mod, &path) else {
                continue;
            };
            if target_file != file {
                edges.insert(target_file);
            }
            let (from, to) = (top(&here), top(&target));
            if from != to && to != "lib" {
                g.modules
                    .entry(from)
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| format!("{} uses {path}", file.display()));
            }
        }
    }
    g
}

/// A cycle in `edges`, if there is one.
fn find_cycle<N: Ord + Clone>(edges: &BTreeMap<N, BTreeSet<N>>) -> Option<Vec<N>> {
    fn visit<N: Ord + Clone>(
        node: &N,
        edges: &BTreeMap<N, BTreeSet<N>>,
        state: &mut BTreeMap<N, bool>,
        stack: &mut Vec<N>,
    ) -> Option<Vec<N>> {
        match state.get(node) {
            Some(true) => {
                let at = stack.iter().position(|n| n == node).unwrap();
                let mut cycle = stack[at..].to_vec();
                cycle.push(node.clone());
                return Some(cycle);
            }
            Some(false) => return None,
            None => {}
        }
        state.insert(node.clone(), true);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, state, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        state.insert(node.clone(), false);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, edges, &mut state, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn every_module_edge_is_one_the_architecture_allows() {
    let rules = allowed();
    let g = graph();
    let mut wrong = Vec::new();
    for (from, uses) in &g.modules {
        let Some(allowed) = rules.get(from) else {
            wrong.push(format!("module {from} is not in ARCHITECTURE.md's layers"));
            continue;
        };
        for (to, example) in uses {
            if !allowed.contains(to) && !allowed.contains("*") {
                wrong.push(format!("{from} -> {to} ({example})"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "edges ARCHITECTURE.md does not allow:\n{}",
        wrong.join("\n")
    );
    // And the rules name only modules that exist.
    let modules: BTreeSet<String> = library_files()
        .iter()
        .map(|f| top(&module_path(f)))
        .collect();
    for (module, uses) in &rules {
        assert!(
            modules.contains(module),
            "ARCHITECTURE.md names {module}, which is not in src/"
        );
        for used in uses.iter().filter(|u| *u != "*") {
            assert!(
                modules.contains(used),
                "ARCHITECTURE.md names {used}, which is not in src/"
            );
        }
    }
}

#[test]
fn no_two_modules_import_each_other() {
    let g = graph();
    let edges: BTreeMap<String, BTreeSet<String>> = g
        .modules
        .iter()
        .map(|(from, uses)| {
            (
                from.clone(),
                uses.keys().filter(|m| *m != "lib").cloned().collect(),
            )
        })
        .collect();
    if let Some(cycle) = find_cycle(&edges) {
        panic!("modules in a cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn no_two_files_import_each_other() {
    let g = graph();
    // lib.rs re-exports everything and nothing imports it: leave it out.
    let lib = Path::new(ROOT).join("src/lib.rs");
    let edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = g
        .files
        .into_iter()
        .filter(|(f, _)| *f != lib)
        .map(|(f, to)| (f, to.into_iter().filter(|t| *t != lib).collect()))
        .collect();
    if let Some(cycle) = find_cycle(&edges) {
        let names: Vec<String> = cycle
            .iter()
            .map(|f| f.strip_prefix(ROOT).unwrap().display().to_string())
            .collect();
        panic!("files in a cycle: {}", names.join(" -> "));
    }
}

#[test]
fn the_reader_finds_imports_in_every_form() {
    // The reader itself must be able to fail: each form of import is seen.
    let code = "use crate::a::{b::C, d};\npub(crate) use super::e::F;\nfn f() { crate::g::h(); super::super::i::J; }\n";
    let found = paths(code);
    for want in [
        "crate::a::b::C",
        "crate::a::d",
        "super::e::F",
        "crate::g::h",
        "super::super::i::J",
    ] {
        assert!(found.iter().any(|p| p == want), "{want} not in {found:?}");
    }
    let mut cyclic = BTreeMap::new();
    cyclic.insert(1, BTreeSet::from([2]));
    cyclic.insert(2, BTreeSet::from([1]));
    assert!(find_cycle(&cyclic).is_some());
}
