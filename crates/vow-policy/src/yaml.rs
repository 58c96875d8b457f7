//! A YAML document read into a tree of nodes that remember where they were written.
//!
//! The parser is granit-parser (the YAML 1.2 event parser under serde-saphyr, used
//! through serde-saphyr's re-export so both always agree). Building our own small tree
//! lets every later step — structure, types, cross-references — point at the exact line
//! and column of the node it complains about, and report many problems in one pass.
//!
//! Hostile input is bounded: the source size, the nesting depth, the number of nodes
//! (aliases count the nodes they expand to) and the bytes of scalar text they expand to.

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span, Tag};
use std::collections::{HashMap, HashSet};

/// Largest policy file accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 1024 * 1024;
/// Deepest nesting of lists and mappings accepted.
pub const MAX_DEPTH: usize = 32;
/// Most nodes a document may hold once aliases are expanded.
pub const MAX_NODES: usize = 200_000;
/// Most bytes of scalar text a document may hold once aliases are expanded.
pub const MAX_EXPANDED_BYTES: usize = 8 * 1024 * 1024;

/// A position in the source: 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    fn of(span: &Span) -> Pos {
        Pos {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }
}

/// The core-schema tag written on a node (`!!str 30`), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CoreTag {
    Str,
    Int,
    Bool,
    Null,
    Float,
    Map,
    Seq,
}

#[derive(Debug, Clone)]
pub(crate) struct Scalar {
    pub text: String,
    /// Written without quotes and not as a block scalar: subject to type resolution.
    pub plain: bool,
    pub tag: Option<CoreTag>,
}

impl Scalar {
    /// A YAML null: `~`, `null`, nothing at all, or tagged `!!null`.
    pub fn is_null(&self) -> bool {
        match self.tag {
            Some(CoreTag::Null) => true,
            Some(_) => false,
            None => self.plain && matches!(self.text.as_str(), "" | "~" | "null" | "Null" | "NULL"),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: Node,
    pub value: Node,
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Identity within one tree (nodes copied by an alias share their anchor's ids).
    pub id: u32,
    pub pos: Pos,
    pub kind: Kind,
}

impl Node {
    /// The key text if this node is a scalar (mapping keys are scalars in a policy).
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(s) => Some(s.text.as_str()),
            _ => None,
        }
    }

    pub fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar(s) if s.is_null() => "nothing (null)",
            Kind::Scalar(_) => "a single value",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

/// Why a document could not be read into a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadError {
    pub code: &'static str,
    pub pos: Pos,
    pub message: String,
}

impl ReadError {
    fn new(code: &'static str, pos: Pos, message: impl Into<String>) -> Self {
        Self {
            code,
            pos,
            message: message.into(),
        }
    }
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<Node>,
    },
}

struct Anchored {
    node: Node,
    nodes: usize,
    bytes: usize,
    depth: usize,
}

struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: HashMap<usize, Anchored>,
    next_id: u32,
    nodes: usize,
    bytes: usize,
}

/// Nodes, scalar bytes and depth of a subtree (depth is bounded by [`MAX_DEPTH`]).
fn weight(node: &Node) -> (usize, usize, usize) {
    let add = |(n, b, d): (usize, usize, usize), child: &Node| {
        let (n2, b2, d2) = weight(child);
        (n.saturating_add(n2), b.saturating_add(b2), d.max(d2 + 1))
    };
    match &node.kind {
        Kind::Scalar(s) => (1, s.text.len(), 0),
        Kind::Seq(items) => items.iter().fold((1, 0, 0), add),
        Kind::Map(entries) => entries
            .iter()
            .fold((1, 0, 0), |acc, e| add(add(acc, &e.key), &e.value)),
    }
}

fn core_tag(tag: Option<&Tag>, pos: Pos) -> Result<Option<CoreTag>, ReadError> {
    let Some(tag) = tag else { return Ok(None) };
    let core = match tag.core_suffix() {
        Some("str") => Some(CoreTag::Str),
        Some("int") => Some(CoreTag::Int),
        Some("bool") => Some(CoreTag::Bool),
        Some("null") => Some(CoreTag::Null),
        Some("float") => Some(CoreTag::Float),
        Some("map") => Some(CoreTag::Map),
        Some("seq") => Some(CoreTag::Seq),
        _ => None,
    };
    // A lone `!` (non-specific tag) just forces "not plain": treat it like `!!str`.
    if core.is_none() && tag.handle() == "!" && tag.suffix().is_empty() {
        return Ok(Some(CoreTag::Str));
    }
    core.map(Some).ok_or_else(|| {
        ReadError::new(
            "yaml_unsupported",
            pos,
            format!(
                "the YAML tag `{}{}` is not supported in a policy; remove it",
                tag.original_handle(),
                truncate(tag.suffix(), 40)
            ),
        )
    })
}

pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(max).collect();
        t.push('…');
        t
    }
}

impl Builder {
    fn id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    fn charge(&mut self, nodes: usize, bytes: usize, pos: Pos) -> Result<(), ReadError> {
        self.nodes = self.nodes.saturating_add(nodes);
        self.bytes = self.bytes.saturating_add(bytes);
        if self.nodes > MAX_NODES {
            return Err(ReadError::new(
                "limit_exceeded",
                pos,
                format!(
                    "the document has more than {MAX_NODES} values (aliases included); a policy is far smaller"
                ),
            ));
        }
        if self.bytes > MAX_EXPANDED_BYTES {
            return Err(ReadError::new(
                "limit_exceeded",
                pos,
                format!(
                    "the document expands to more than {} MiB of text (aliases included)",
                    MAX_EXPANDED_BYTES / (1024 * 1024)
                ),
            ));
        }
        Ok(())
    }

    fn push_frame(&mut self, frame: Frame, pos: Pos) -> Result<(), ReadError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(ReadError::new(
                "limit_exceeded",
                pos,
                format!("lists and mappings are nested more than {MAX_DEPTH} deep"),
            ));
        }
        self.charge(1, 0, pos)?;
        self.stack.push(frame);
        Ok(())
    }

    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), ReadError> {
        if anchor != 0 {
            let (nodes, bytes, depth) = weight(&node);
            // The kept copy costs as much as what it copies.
            self.charge(nodes, bytes, node.pos)?;
            self.anchors.insert(
                anchor,
                Anchored {
                    node: node.clone(),
                    nodes,
                    bytes,
                    depth,
                },
            );
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_some() {
                    return Err(ReadError::new(
                        "yaml_unsupported",
                        node.pos,
                        "a policy file holds exactly one YAML document",
                    ));
                }
                self.root = Some(node);
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push(Entry {
                    key: k,
                    value: node,
                }),
            },
        }
        Ok(())
    }

    fn event(&mut self, event: Event<'_>, span: &Span) -> Result<(), ReadError> {
        let pos = Pos::of(span);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = core_tag(tag.as_deref(), pos)?;
                self.charge(1, text.len(), pos)?;
                let node = Node {
                    id: self.id(),
                    pos,
                    kind: Kind::Scalar(Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain && tag.is_none(),
                        tag,
                    }),
                };
                self.complete(node, anchor)
            }
            Event::SequenceStart(_, anchor, tag) => {
                match core_tag(tag.as_deref(), pos)? {
                    None | Some(CoreTag::Seq) => {}
                    Some(_) => return Err(mismatched_tag(pos)),
                }
                self.push_frame(
                    Frame::Seq {
                        pos,
                        anchor,
                        items: Vec::new(),
                    },
                    pos,
                )
            }
            Event::MappingStart(_, anchor, tag) => {
                match core_tag(tag.as_deref(), pos)? {
                    None | Some(CoreTag::Map) => {}
                    Some(_) => return Err(mismatched_tag(pos)),
                }
                self.push_frame(
                    Frame::Map {
                        pos,
                        anchor,
                        entries: Vec::new(),
                        key: None,
                    },
                    pos,
                )
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq { pos, anchor, items }) => {
                    let node = Node {
                        id: self.id(),
                        pos,
                        kind: Kind::Seq(items),
                    };
                    self.complete(node, anchor)
                }
                _ => Err(ReadError::new(
                    "yaml_syntax",
                    pos,
                    "unexpected end of a list",
                )),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map {
                    pos,
                    anchor,
                    entries,
                    key,
                }) => {
                    if let Some(k) = key {
                        // A key without a value cannot come from the parser; be safe anyway.
                        return Err(ReadError::new("yaml_syntax", k.pos, "a key has no value"));
                    }
                    let entries = merge(entries)?;
                    let node = Node {
                        id: self.id(),
                        pos,
                        kind: Kind::Map(entries),
                    };
                    self.complete(node, anchor)
                }
                _ => Err(ReadError::new(
                    "yaml_syntax",
                    pos,
                    "unexpected end of a mapping",
                )),
            },
            Event::Alias(anchor) => {
                let Some(found) = self.anchors.get(&anchor) else {
                    return Err(ReadError::new(
                        "yaml_syntax",
                        pos,
                        "this alias names no anchor",
                    ));
                };
                let (nodes, bytes, depth) = (found.nodes, found.bytes, found.depth);
                if self.stack.len() + depth >= MAX_DEPTH {
                    return Err(ReadError::new(
                        "limit_exceeded",
                        pos,
                        format!(
                            "with this alias, lists and mappings are nested more than {MAX_DEPTH} deep"
                        ),
                    ));
                }
                let mut node = found.node.clone();
                self.charge(nodes, bytes, pos)?;
                node.pos = pos;
                self.complete(node, 0)
            }
            Event::DocumentStart(..) if self.root.is_some() => Err(ReadError::new(
                "yaml_unsupported",
                pos,
                "a policy file holds exactly one YAML document; remove the second `---` and what follows",
            )),
            _ => Ok(()),
        }
    }
}

fn mismatched_tag(pos: Pos) -> ReadError {
    ReadError::new(
        "yaml_unsupported",
        pos,
        "this YAML tag does not fit a list or mapping; remove it",
    )
}

fn is_merge_key(node: &Node) -> bool {
    matches!(&node.kind, Kind::Scalar(s) if s.plain && s.text == "<<")
}

/// Apply YAML merge keys (`<<: *defaults`): keys written in the mapping win over
/// merged ones, and earlier merged mappings win over later ones.
fn merge(entries: Vec<Entry>) -> Result<Vec<Entry>, ReadError> {
    if !entries.iter().any(|e| is_merge_key(&e.key)) {
        return Ok(entries);
    }
    let (merges, mut own): (Vec<Entry>, Vec<Entry>) =
        entries.into_iter().partition(|e| is_merge_key(&e.key));
    let mut sources = Vec::new();
    for m in merges {
        let pos = m.value.pos;
        match m.value.kind {
            Kind::Map(es) => sources.push(es),
            Kind::Seq(items) => {
                for item in items {
                    match item.kind {
                        Kind::Map(es) => sources.push(es),
                        _ => return Err(bad_merge(item.pos)),
                    }
                }
            }
            _ => return Err(bad_merge(pos)),
        }
    }
    let mut present: HashSet<String> = own
        .iter()
        .filter_map(|e| e.key.scalar_text().map(str::to_string))
        .collect();
    for source in sources {
        for e in source {
            match e.key.scalar_text() {
                Some(k) if present.contains(k) => {}
                Some(k) => {
                    present.insert(k.to_string());
                    own.push(e);
                }
                // Keys that are not words are reported later; keep them.
                None => own.push(e),
            }
        }
    }
    Ok(own)
}

fn bad_merge(pos: Pos) -> ReadError {
    ReadError::new(
        "yaml_unsupported",
        pos,
        "a merge key `<<` must be followed by a mapping or a list of mappings",
    )
}

/// Read `source` into a tree. `Ok(None)` for an empty document.
pub(crate) fn read(source: &str) -> Result<Option<Node>, ReadError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(ReadError::new(
            "limit_exceeded",
            Pos { line: 1, column: 1 },
            format!(
                "the file is {} bytes; a policy may be at most {} bytes (1 MiB)",
                source.len(),
                MAX_SOURCE_BYTES
            ),
        ));
    }
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let mut options = serde_saphyr::granit_parser::Options::default();
    options.emit_comments = false;
    options.flow_nesting_limit = MAX_DEPTH + 1;
    options.block_nesting_limit = MAX_DEPTH + 1;
    let mut builder = Builder {
        stack: Vec::new(),
        root: None,
        anchors: HashMap::new(),
        next_id: 0,
        nodes: 0,
        bytes: 0,
    };
    for item in Parser::new_from_str_with_options(source, options) {
        match item {
            Ok((event, span)) => builder.event(event, &span)?,
            Err(e) => {
                let m = e.marker();
                let mut message = e.info();
                if message.is_empty() {
                    message = "the YAML could not be read".to_string();
                }
                return Err(ReadError::new(
                    "yaml_syntax",
                    Pos {
                        line: m.line().max(1),
                        column: m.col() + 1,
                    },
                    message,
                ));
            }
        }
    }
    Ok(builder.root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(src: &str) -> Node {
        read(src).unwrap().unwrap()
    }

    #[test]
    fn positions_are_one_based() {
        let n = root("a: 1\nb:\n  - x\n  - {k: v}\n");
        let Kind::Map(es) = &n.kind else { panic!() };
        assert_eq!(es[0].key.pos, Pos { line: 1, column: 1 });
        assert_eq!(es[0].value.pos, Pos { line: 1, column: 4 });
        let Kind::Seq(items) = &es[1].value.kind else {
            panic!()
        };
        assert_eq!(items[0].pos, Pos { line: 3, column: 5 });
        assert_eq!(items[1].pos, Pos { line: 4, column: 5 });
    }

    #[test]
    fn merge_keys_and_aliases() {
        let n = root("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n");
        let Kind::Map(es) = &n.kind else { panic!() };
        let Kind::Map(m) = &es[1].value.kind else {
            panic!()
        };
        let y = m.iter().find(|e| e.key.scalar_text() == Some("y")).unwrap();
        assert_eq!(y.value.scalar_text(), Some("3"));
        assert!(m.iter().any(|e| e.key.scalar_text() == Some("x")));
    }

    #[test]
    fn limits() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("a{}", i - 1)
            };
            bomb.push_str(&format!("a{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert_eq!(read(&bomb).unwrap_err().code, "limit_exceeded");
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(read(&deep).is_err());
        // Aliases cannot stack nesting beyond the limit either.
        let mut stacked = String::from("a0: &a0 [[[[[[[[[[x]]]]]]]]]]\n");
        for i in 1..8 {
            stacked.push_str(&format!("a{i}: &a{i} [[[[[[[[[[*a{}]]]]]]]]]]\n", i - 1));
        }
        assert_eq!(read(&stacked).unwrap_err().code, "limit_exceeded");
        let big = "a: ".to_string() + &"x".repeat(MAX_SOURCE_BYTES);
        assert_eq!(read(&big).unwrap_err().code, "limit_exceeded");
        assert_eq!(
            read("a: 1\n---\nb: 2\n").unwrap_err().code,
            "yaml_unsupported"
        );
        assert!(read("").unwrap().is_none());
    }
}
