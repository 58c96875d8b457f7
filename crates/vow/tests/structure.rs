//! The workspace's shape, kept true by a test: no two modules of a crate import
//! each other, directly or around a loop, and no source file is over 1,000
//! lines outside its tests.
//!
//! Modules are source files. Module M depends on module N when M's code names a
//! path that resolves to N: a `use crate::…`, `use super::…` or `use self::…`
//! line, or an inline `crate::x::y`, `super::x`, `self::x` or `child::x` path.
//! `mod` lines and `pub use` re-exports are structure, not dependencies; a path
//! through a re-export counts as a reference to the module that defines the item.
//! The checker reads text, not the compiler's view, so it errs on the side of
//! seeing a dependency.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 1000;

type ModPath = Vec<String>;

#[test]
fn no_module_cycles_and_no_oversized_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let mut problems = Vec::new();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("src").is_dir())
        .collect();
    crates.sort();
    assert!(crates.len() >= 7, "expected the workspace's crates");
    for krate in crates {
        problems.extend(check_crate(&krate));
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

fn check_crate(krate: &Path) -> Vec<String> {
    let name = krate.file_name().unwrap().to_string_lossy().to_string();
    let src = krate.join("src");
    let mut files: BTreeMap<ModPath, PathBuf> = BTreeMap::new();
    walk(&src, &mut |p| {
        if p.extension().is_some_and(|e| e == "rs") {
            let rel = p.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: ModPath = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            files.insert(parts, p.to_path_buf());
        }
    });
    let code: BTreeMap<ModPath, String> = files
        .iter()
        .map(|(m, p)| (m.clone(), strip(&std::fs::read_to_string(p).unwrap())))
        .collect();
    let mut problems = Vec::new();
    for (m, text) in &code {
        let lines = text.lines().count();
        if lines > MAX_LINES {
            problems.push(format!(
                "{name}: {} has {lines} lines outside tests (at most {MAX_LINES})",
                files[m].display()
            ));
        }
    }

    // Re-exports: module → item name → the path it points at.
    let mut reexports: HashMap<ModPath, HashMap<String, ModPath>> = HashMap::new();
    for (m, text) in &code {
        for stmt in statements(text, true) {
            for path in expand_use(&stmt) {
                if let Some(abs) = absolute(m, &path, &files) {
                    let item = path.last().unwrap().clone();
                    reexports.entry(m.clone()).or_default().insert(item, abs);
                }
            }
        }
    }
    let resolve = |path: &ModPath| -> Option<ModPath> {
        let mut path = path.clone();
        for _ in 0..10 {
            let k = (0..=path.len())
                .rev()
                .find(|&k| files.contains_key(&path[..k]))?;
            let module = path[..k].to_vec();
            match path.get(k).and_then(|seg| reexports.get(&module)?.get(seg)) {
                Some(target) => {
                    let mut next = target.clone();
                    next.extend_from_slice(&path[k + 1..]);
                    path = next;
                }
                None => return Some(module),
            }
        }
        None
    };

    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (m, text) in &code {
        let mut targets = BTreeSet::new();
        for stmt in statements(text, false) {
            for path in expand_use(&stmt) {
                if let Some(n) = absolute(m, &path, &files).and_then(|a| resolve(&a)) {
                    targets.insert(n);
                }
            }
        }
        let body = without_use(text);
        for path in inline_paths(&body) {
            if let Some(n) = absolute(m, &path, &files).and_then(|a| resolve(&a)) {
                targets.insert(n);
            }
        }
        targets.remove(m);
        edges.insert(m.clone(), targets);
    }
    for cycle in strongly_connected(&edges) {
        let names: Vec<String> = cycle.iter().map(display).collect();
        let mut detail = format!("{name}: modules import each other: {}", names.join(", "));
        for m in &cycle {
            let into: Vec<String> = edges[m]
                .iter()
                .filter(|n| cycle.contains(n))
                .map(display)
                .collect();
            detail.push_str(&format!("\n    {} -> {}", display(m), into.join(", ")));
        }
        problems.push(detail);
    }
    problems
}

fn display(m: &ModPath) -> String {
    if m.is_empty() {
        "(crate root)".to_string()
    } else {
        m.join("::")
    }
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, f);
        } else {
            f(&p);
        }
    }
}

/// The code without comments, string literals and `#[cfg(test)] mod … { … }` blocks.
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if b[i] == b'\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if b[i] == b'"' {
            // A raw string before it (r"…", r#"…"#) is handled by skipping to the
            // closing quote with as many hashes.
            let hashes = b[..i].iter().rev().take_while(|&&c| c == b'#').count();
            let raw = i > hashes && b[i - hashes - 1] == b'r';
            i += 1;
            while i < b.len() {
                if !raw && b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i] == b'"' && b[i + 1..].iter().take(hashes).all(|&c| c == b'#') {
                    i += 1 + if raw { hashes } else { 0 };
                    break;
                }
                if b[i] == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal ('x', '\n', '\''); lifetimes have no closing quote.
            let end = b[i + 1..]
                .iter()
                .skip(1)
                .position(|&c| c == b'\'')
                .map_or(b.len(), |p| i + 2 + p + 1);
            out.push_str("' '");
            i = end;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    remove_test_modules(&out)
}

fn remove_test_modules(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        let after = &rest[at + "#[cfg(test)]".len()..];
        let trimmed = after.trim_start();
        let is_inline_mod = trimmed.starts_with("mod ")
            && trimmed
                .find(['{', ';'])
                .is_some_and(|k| trimmed.as_bytes()[k] == b'{');
        if !is_inline_mod {
            out.push_str(&rest[..at + "#[cfg(test)]".len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..at]);
        let open =
            at + "#[cfg(test)]".len() + (after.len() - trimmed.len()) + trimmed.find('{').unwrap();
        let mut depth = 0usize;
        let mut end = rest.len();
        for (k, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `use` statements (their text after `use`): re-exports (`pub use`,
/// `pub(crate) use`) when `public`, the others otherwise.
fn statements(text: &str, public: bool) -> Vec<String> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(k) = text[from..].find("use ") {
        let at = from + k;
        from = at + 4;
        if text[..at].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let before = text[..at].trim_end();
        let is_pub = before.ends_with("pub")
            || (before.ends_with(')') && before.contains("pub("))
                && before
                    .rfind("pub")
                    .is_some_and(|p| !before[p..].contains(['\n', ';', '{', '}']));
        let Some(end) = text[from..].find(';') else {
            break;
        };
        if is_pub == public {
            found.push(text[from..from + end].to_string());
        }
    }
    found
}

/// `a::{b, c::{d as e}}` → [a, b], [a, c, d].
fn expand_use(stmt: &str) -> Vec<ModPath> {
    let compact: String = stmt.split_whitespace().collect::<Vec<_>>().join(" ");
    let compact = compact.replace(" as ", "@");
    let compact: String = compact.chars().filter(|c| !c.is_whitespace()).collect();
    fn expand(s: &str) -> Vec<ModPath> {
        let Some(open) = s.find('{') else {
            if s.is_empty() {
                return Vec::new();
            }
            return vec![
                s.split("::")
                    .map(|seg| seg.split('@').next().unwrap_or("").to_string())
                    .filter(|seg| !seg.is_empty())
                    .collect(),
            ];
        };
        let Some(close) = s.rfind('}') else {
            return Vec::new();
        };
        let prefix: ModPath = s[..open]
            .trim_end_matches(':')
            .split("::")
            .filter(|seg| !seg.is_empty())
            .map(str::to_string)
            .collect();
        let mut parts = Vec::new();
        let (mut depth, mut start) = (0, open + 1);
        for (k, c) in s[open + 1..close].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&s[start..open + 1 + k]);
                    start = open + 2 + k;
                }
                _ => {}
            }
        }
        parts.push(&s[start..close]);
        let mut out = Vec::new();
        for part in parts {
            for tail in expand(part) {
                let mut p = prefix.clone();
                p.extend(tail);
                out.push(p);
            }
        }
        out
    }
    expand(&compact)
        .into_iter()
        .filter(|p| !p.is_empty() && p.last().is_some_and(|l| l != "*" && l != "self"))
        .collect()
}

fn without_use(text: &str) -> String {
    let mut out = String::new();
    let mut from = 0;
    while let Some(k) = text[from..].find("use ") {
        let at = from + k;
        if text[..at].chars().next_back().is_some_and(is_ident) {
            out.push_str(&text[from..at + 4]);
            from = at + 4;
            continue;
        }
        out.push_str(&text[from..at]);
        match text[at..].find(';') {
            Some(end) => from = at + end + 1,
            None => return out,
        }
    }
    out.push_str(&text[from..]);
    out
}

/// Every `a::b::c` path in the code.
fn inline_paths(text: &str) -> Vec<ModPath> {
    let b: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = is_ident(b[i])
            && !b[i].is_ascii_digit()
            && (i == 0 || !(is_ident(b[i - 1]) || (b[i - 1] == ':' && i >= 2 && b[i - 2] == ':')));
        if !starts {
            i += 1;
            continue;
        }
        let mut path = Vec::new();
        loop {
            let s = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            path.push(b[s..i].iter().collect::<String>());
            if i + 2 < b.len() && b[i] == ':' && b[i + 1] == ':' && is_ident(b[i + 2]) {
                i += 2;
            } else {
                break;
            }
        }
        if path.len() > 1 {
            out.push(path);
        }
    }
    out
}

/// A path as named in module `m`, made absolute; None when it leaves the crate.
fn absolute(m: &ModPath, path: &ModPath, files: &BTreeMap<ModPath, PathBuf>) -> Option<ModPath> {
    let (mut base, rest): (ModPath, &[String]) = match path.first()?.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (m.clone(), &path[1..]),
        "super" => {
            let mut base = m.clone();
            let mut k = 0;
            while path.get(k).is_some_and(|s| s == "super") {
                base.pop();
                k += 1;
            }
            (base, &path[k..])
        }
        first => {
            let mut child = m.clone();
            child.push(first.to_string());
            if !files.contains_key(&child) {
                return None;
            }
            (m.clone(), &path[..])
        }
    };
    base.extend_from_slice(rest);
    Some(base)
}

/// Tarjan's strongly connected components with more than one module.
fn strongly_connected(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct State<'a> {
        edges: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: HashMap<&'a ModPath, usize>,
        low: HashMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on_stack: BTreeSet<&'a ModPath>,
        out: Vec<Vec<ModPath>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a ModPath) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            let Some((w, _)) = s.edges.get_key_value(w) else {
                continue;
            };
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        edges,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn the_checker_sees_a_cycle_through_a_re_export() {
    let files: BTreeMap<ModPath, PathBuf> = [vec![], vec!["a".into()], vec!["b".into()]]
        .into_iter()
        .map(|m| (m, PathBuf::new()))
        .collect();
    // b re-exports nothing; the root re-exports b::Thing; a uses it through the root.
    let stmt = statements("pub use b::Thing;\nuse crate::Thing;\n", false);
    assert_eq!(stmt, vec!["crate::Thing".to_string()]);
    let paths = expand_use("crate::{a::{X, Y as Z}, b}");
    assert_eq!(
        paths,
        vec![
            vec!["crate".to_string(), "a".into(), "X".into()],
            vec!["crate".to_string(), "a".into(), "Y".into()],
            vec!["crate".to_string(), "b".into()],
        ]
    );
    assert_eq!(
        absolute(
            &vec!["a".into()],
            &vec!["super".into(), "b".into(), "f".into()],
            &files
        ),
        Some(vec!["b".to_string(), "f".into()])
    );
    let edges: BTreeMap<ModPath, BTreeSet<ModPath>> = [
        (vec!["a".to_string()], [vec!["b".to_string()]].into()),
        (vec!["b".to_string()], [vec!["a".to_string()]].into()),
        (vec![], BTreeSet::new()),
    ]
    .into();
    assert_eq!(strongly_connected(&edges).len(), 1);
    assert_eq!(
        strip(
            "let s = \"crate::x\"; // crate::y\n#[cfg(test)]\nmod tests { use super::*; }\nfn f() {}"
        ),
        "let s = \"\"; \n\nfn f() {}"
    );
}
