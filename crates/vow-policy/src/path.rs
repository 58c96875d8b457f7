//! Field paths such as `purposes[2].categories[0]` or `response_times.per_type.access`,
//! and finding the node a path names in a document.

use crate::yaml::{Kind, Node, Pos};

fn is_simple(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `parent.key`, or `parent["odd key"]` for keys that are not plain words.
pub(crate) fn key(parent: &str, key: &str) -> String {
    if is_simple(key) {
        if parent.is_empty() {
            key.to_string()
        } else {
            format!("{parent}.{key}")
        }
    } else {
        let shown: String = key.chars().take(64).collect();
        let escaped = shown.replace('\\', "\\\\").replace('"', "\\\"");
        format!("{parent}[\"{escaped}\"]")
    }
}

/// `parent[i]`.
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

#[derive(Debug, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn segments(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut chars = path.chars().peekable();
    let mut word = String::new();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !word.is_empty() {
                    out.push(Seg::Key(std::mem::take(&mut word)));
                }
            }
            '[' => {
                if !word.is_empty() {
                    out.push(Seg::Key(std::mem::take(&mut word)));
                }
                if chars.peek() == Some(&'"') {
                    chars.next();
                    let mut k = String::new();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => {
                                if let Some(n) = chars.next() {
                                    k.push(n);
                                }
                            }
                            '"' => break,
                            _ => k.push(c),
                        }
                    }
                    // skip to the closing bracket
                    for c in chars.by_ref() {
                        if c == ']' {
                            break;
                        }
                    }
                    out.push(Seg::Key(k));
                } else {
                    let mut n = String::new();
                    for c in chars.by_ref() {
                        if c == ']' {
                            break;
                        }
                        n.push(c);
                    }
                    match n.parse() {
                        Ok(i) => out.push(Seg::Index(i)),
                        Err(_) => return out,
                    }
                }
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(Seg::Key(word));
    }
    out
}

/// The position of the node `path` names, or of its nearest ancestor in the document.
/// With `at_key`, a path ending in a mapping key gives the key's position, not its
/// value's (for problems with the key itself).
pub(crate) fn locate(root: &Node, path: &str, at_key: bool) -> Pos {
    let segs = segments(path);
    let mut node = root;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        let next = match (&node.kind, seg) {
            (Kind::Map(entries), Seg::Key(k)) => entries
                .iter()
                .find(|e| e.key.scalar_text() == Some(k.as_str()))
                .map(|e| if last && at_key { &e.key } else { &e.value }),
            (Kind::Seq(items), Seg::Index(i)) => items.get(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node.pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_split() {
        let p = index(&key(&key("", "purposes"), "x"), 2);
        assert_eq!(p, "purposes.x[2]");
        assert_eq!(key("per_type", "a b\""), "per_type[\"a b\\\"\"]");
        assert_eq!(
            segments("a.b[3][\"c.d\"].e"),
            vec![
                Seg::Key("a".into()),
                Seg::Key("b".into()),
                Seg::Index(3),
                Seg::Key("c.d".into()),
                Seg::Key("e".into())
            ]
        );
    }

    #[test]
    fn locates_nearest() {
        let root = crate::yaml::read("a:\n  - x: 1\n  - y: 2\n")
            .unwrap()
            .unwrap();
        assert_eq!(locate(&root, "a[1].y", false), Pos { line: 3, column: 8 });
        assert_eq!(locate(&root, "a[1].y", true), Pos { line: 3, column: 5 });
        assert_eq!(locate(&root, "a[1].zzz", false), Pos { line: 3, column: 5 });
        assert_eq!(locate(&root, "nope", false), Pos { line: 1, column: 1 });
    }
}
