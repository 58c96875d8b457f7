//! A serde deserializer over the positioned YAML tree.
//!
//! The policy model in `vow-core` stays the one contract: its serde derives decide what
//! is required, what values an enum takes and how names and periods are checked. This
//! deserializer only adds what serde cannot know: where each value was written, its
//! path, and how to go on after a problem so that many problems are found at once.
//!
//! How it goes on: a problem inside a list item or a mapping value is recorded, the
//! offending node is marked as failed, and the pass is abandoned; the next pass skips
//! failed nodes (as if they were not written) and finds the next problem. A required
//! key that is missing only because its value failed is not reported again. Unknown and
//! duplicate keys are recorded and skipped without abandoning the pass.

use crate::diagnostic::Diagnostic;
use crate::path;
use crate::util::{did_you_mean, list};
use crate::yaml::{CoreTag, Entry, Kind, Node, Scalar, truncate};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Expected, Unexpected, Visitor};
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

/// Stop after this many problems: the rest are usually consequences.
pub(crate) const MAX_ERRORS: usize = 100;
const MAX_PASSES: usize = 256;

#[derive(Default)]
struct Cx {
    failed: RefCell<HashSet<u32>>,
    reported: RefCell<HashSet<(u32, &'static str)>>,
    diags: RefCell<Vec<Diagnostic>>,
}

impl Cx {
    fn record(&self, d: Diagnostic) {
        let mut diags = self.diags.borrow_mut();
        if diags.len() < MAX_ERRORS {
            diags.push(d);
        }
    }

    /// Record a problem about `node` once, however many passes see it.
    fn record_once(&self, node: &Node, d: Diagnostic) {
        if self.reported.borrow_mut().insert((node.id, d.code)) {
            self.record(d);
        }
    }

    fn is_failed(&self, node: &Node) -> bool {
        self.failed.borrow().contains(&node.id)
    }

    fn full(&self) -> bool {
        self.diags.borrow().len() >= MAX_ERRORS
    }

    /// A child failed: record its problem, mark it, and abandon this pass.
    fn contain(&self, err: DeError, node: &Node, path: &str) -> DeError {
        match err {
            DeError::Abort => return DeError::Abort,
            DeError::Located(d) => self.record(*d),
            DeError::Skip => {}
            DeError::Fresh {
                code,
                message,
                field,
            } => self.record(located(code, message, field, node, path)),
        }
        self.failed.borrow_mut().insert(node.id);
        DeError::Abort
    }
}

fn located(
    code: &'static str,
    message: String,
    field: Option<&'static str>,
    node: &Node,
    at: &str,
) -> Diagnostic {
    let p = match field {
        Some(f) => path::key(at, f),
        None => at.to_string(),
    };
    let mut d = Diagnostic::error(code, p, message);
    d.line = node.pos.line;
    d.column = node.pos.column;
    d
}

/// Errors inside the deserializer. Only `Fresh` comes from serde (through
/// [`de::Error`]); the deserializer turns it into `Located` at the node that failed.
#[derive(Debug)]
pub(crate) enum DeError {
    Fresh {
        code: &'static str,
        message: String,
        field: Option<&'static str>,
    },
    Located(Box<Diagnostic>),
    /// This node cannot be built; its problem was already recorded.
    Skip,
    /// Abandon this pass; the next one skips what failed.
    Abort,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeError::Fresh { message, .. } => f.write_str(message),
            DeError::Located(d) => d.fmt(f),
            DeError::Skip => f.write_str("skipped"),
            DeError::Abort => f.write_str("aborted"),
        }
    }
}

impl std::error::Error for DeError {}

fn fresh(code: &'static str, message: String) -> DeError {
    DeError::Fresh {
        code,
        message,
        field: None,
    }
}

/// serde's names for what it expected, in words a policy author knows.
fn friendly_expected(exp: &str) -> String {
    let plain = match exp {
        "u8" => "a whole number from 0 to 255",
        "u16" => "a whole number from 0 to 65535",
        "u32" => "a whole number from 0 to 4294967295",
        "u64" => "a whole number",
        "i8" | "i16" | "i32" | "i64" => "a whole number",
        "a boolean" => "true or false",
        "a string" | "a borrowed string" => "text",
        "a sequence" => "a list",
        "a map" => "a mapping of keys to values",
        "a date string" => "a date written YYYY-MM-DD (e.g. 2026-01-31)",
        "field identifier" | "variant identifier" => "a key name",
        other if other.starts_with("struct ") => "a mapping of keys to values",
        other => return other.to_string(),
    };
    plain.to_string()
}

fn friendly_unexpected(u: &Unexpected<'_>) -> String {
    match u {
        Unexpected::Unit => "nothing (an empty value)".to_string(),
        Unexpected::Seq => "a list".to_string(),
        Unexpected::Map => "a mapping".to_string(),
        Unexpected::Str(s) => format!("`{}`", truncate(s, 60)),
        Unexpected::Bool(b) => format!("`{b}`"),
        Unexpected::Unsigned(n) => format!("`{n}`"),
        Unexpected::Signed(n) => format!("`{n}`"),
        Unexpected::Float(n) => format!("`{n}`"),
        other => other.to_string(),
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        fresh("bad_value", msg.to_string())
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        fresh(
            "bad_type",
            format!(
                "expected {}, found {}",
                friendly_expected(&exp.to_string()),
                friendly_unexpected(&unexp)
            ),
        )
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        fresh(
            "bad_value",
            format!(
                "expected {}, found {}",
                friendly_expected(&exp.to_string()),
                friendly_unexpected(&unexp)
            ),
        )
    }

    fn invalid_length(len: usize, exp: &dyn Expected) -> Self {
        fresh(
            "bad_value",
            format!(
                "expected {}, found {len} items",
                friendly_expected(&exp.to_string())
            ),
        )
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        fresh(
            "bad_value",
            format!(
                "`{}` is not an allowed value; expected one of: {}{}",
                truncate(variant, 60),
                list(expected.iter(), 20),
                did_you_mean(variant, expected.iter().copied())
            ),
        )
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        fresh("unknown_key", unknown_key_message(field, expected))
    }

    fn missing_field(field: &'static str) -> Self {
        DeError::Fresh {
            code: "missing_key",
            message: format!("the required key `{field}` is missing"),
            field: Some(field),
        }
    }

    fn duplicate_field(field: &'static str) -> Self {
        fresh(
            "duplicate_key",
            format!("the key `{field}` is written twice"),
        )
    }
}

fn unknown_key_message(field: &str, expected: &[&str]) -> String {
    format!(
        "unknown key `{}`{}; allowed keys here: {}",
        truncate(field, 60),
        did_you_mean(field, expected.iter().copied()),
        list(expected.iter(), 30)
    )
}

enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i128),
    TooLarge,
    Float(f64),
    Str(&'a str),
}

fn parse_int(t: &str) -> Option<Result<i128, ()>> {
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(h) = body.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = body.strip_prefix("0o") {
        (8, o)
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if radix != 10 && neg {
        return None;
    }
    Some(
        i128::from_str_radix(digits, radix)
            .map(|v| if neg { -v } else { v })
            .map_err(|_| ()),
    )
}

fn parse_float(t: &str) -> Option<f64> {
    match t {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let ok = t.chars().any(|c| c.is_ascii_digit())
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'));
    if ok { t.parse().ok() } else { None }
}

fn resolve(s: &Scalar) -> Resolved<'_> {
    if s.is_null() {
        return Resolved::Null;
    }
    let t = s.text.as_str();
    let typed = s.plain || matches!(s.tag, Some(CoreTag::Int | CoreTag::Bool | CoreTag::Float));
    if !typed {
        return Resolved::Str(t);
    }
    if matches!(s.tag, None | Some(CoreTag::Bool)) {
        match t {
            "true" | "True" | "TRUE" => return Resolved::Bool(true),
            "false" | "False" | "FALSE" => return Resolved::Bool(false),
            _ => {}
        }
    }
    if matches!(s.tag, None | Some(CoreTag::Int)) {
        match parse_int(t) {
            Some(Ok(v)) => return Resolved::Int(v),
            Some(Err(())) => return Resolved::TooLarge,
            None => {}
        }
    }
    if matches!(s.tag, None | Some(CoreTag::Float))
        && let Some(f) = parse_float(t)
    {
        return Resolved::Float(f);
    }
    Resolved::Str(t)
}

fn unexpected_of(node: &Node) -> Unexpected<'_> {
    match &node.kind {
        Kind::Seq(_) => Unexpected::Seq,
        Kind::Map(_) => Unexpected::Map,
        Kind::Scalar(s) => match resolve(s) {
            Resolved::Null => Unexpected::Unit,
            Resolved::Bool(b) => Unexpected::Bool(b),
            Resolved::Int(i) => match u64::try_from(i) {
                Ok(u) => Unexpected::Unsigned(u),
                Err(_) => match i64::try_from(i) {
                    Ok(v) => Unexpected::Signed(v),
                    Err(_) => Unexpected::Other("a very large number"),
                },
            },
            Resolved::TooLarge => Unexpected::Other("a very large number"),
            Resolved::Float(f) => Unexpected::Float(f),
            Resolved::Str(t) => Unexpected::Str(t),
        },
    }
}

fn expecting<'de, V: Visitor<'de>>(v: &V) -> String {
    (v as &dyn Expected).to_string()
}

/// Deserialize a whole document into `T`, reporting every problem found.
pub(crate) fn from_node<T: DeserializeOwned>(root: &Node) -> Result<T, Vec<Diagnostic>> {
    let cx = Cx::default();
    for _ in 0..MAX_PASSES {
        let de = NodeDe {
            node: root,
            path: String::new(),
            cx: &cx,
        };
        match T::deserialize(de) {
            Ok(v) => {
                let diags = cx.diags.take();
                return if diags.is_empty() { Ok(v) } else { Err(diags) };
            }
            Err(DeError::Abort) => {
                if cx.full() {
                    break;
                }
            }
            Err(DeError::Skip) => break,
            Err(DeError::Located(d)) => {
                cx.record(*d);
                break;
            }
            Err(DeError::Fresh {
                code,
                message,
                field,
            }) => {
                cx.record(located(code, message, field, root, ""));
                break;
            }
        }
    }
    let mut diags = cx.diags.take();
    if diags.len() >= MAX_ERRORS {
        let mut d = Diagnostic::error(
            "too_many_errors",
            "",
            format!("stopped after {MAX_ERRORS} problems; fix these and check again"),
        );
        if let Some(last) = diags.last() {
            d.line = last.line;
            d.column = last.column;
        }
        diags.push(d);
    }
    if diags.is_empty() {
        // Cannot happen (every failure records a problem), but never return "no problem".
        diags.push(located(
            "bad_value",
            "the policy could not be read".to_string(),
            None,
            root,
            "",
        ));
    }
    Err(diags)
}

struct NodeDe<'a> {
    node: &'a Node,
    path: String,
    cx: &'a Cx,
}

impl<'a> NodeDe<'a> {
    fn child(&self, node: &'a Node, path: String) -> NodeDe<'a> {
        NodeDe {
            node,
            path,
            cx: self.cx,
        }
    }

    /// Give a fresh error from serde this node's position and path.
    fn finish<T>(&self, r: Result<T, DeError>, skipped: &[&str]) -> Result<T, DeError> {
        r.map_err(|e| match e {
            DeError::Fresh {
                code,
                message,
                field,
            } => {
                if code == "missing_key" && field.is_some_and(|f| skipped.contains(&f)) {
                    // Its value was wrong and has been reported already.
                    return DeError::Skip;
                }
                DeError::Located(Box::new(located(
                    code, message, field, self.node, &self.path,
                )))
            }
            other => other,
        })
    }

    fn scalar(&self) -> Option<&'a Scalar> {
        match &self.node.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// Keep the entries a mapping should pass on: report keys that are not words,
    /// written twice or (for a struct) unknown; leave out values that failed before.
    fn entries(&self, fields: Option<&'static [&'static str]>) -> (Vec<&'a Entry>, Vec<&'a str>) {
        let Kind::Map(entries) = &self.node.kind else {
            return (Vec::new(), Vec::new());
        };
        let mut kept: Vec<&'a Entry> = Vec::new();
        let mut skipped = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for e in entries {
            let Some(k) = e.key.scalar_text() else {
                let mut d = Diagnostic::error(
                    "bad_type",
                    self.path.clone(),
                    format!("a key must be a plain word, not {}", e.key.describe()),
                );
                d.line = e.key.pos.line;
                d.column = e.key.pos.column;
                self.cx.record_once(&e.key, d);
                continue;
            };
            let key_path = path::key(&self.path, k);
            if !seen.insert(k) {
                let mut d = Diagnostic::error(
                    "duplicate_key",
                    key_path,
                    format!(
                        "the key `{}` is written twice in this mapping; keep one",
                        truncate(k, 60)
                    ),
                );
                d.line = e.key.pos.line;
                d.column = e.key.pos.column;
                self.cx.record_once(&e.key, d);
                continue;
            }
            if let Some(fields) = fields
                && !fields.contains(&k)
            {
                let mut d =
                    Diagnostic::error("unknown_key", key_path, unknown_key_message(k, fields));
                d.line = e.key.pos.line;
                d.column = e.key.pos.column;
                self.cx.record_once(&e.key, d);
                continue;
            }
            if self.cx.is_failed(&e.value) || self.cx.is_failed(&e.key) {
                skipped.push(k);
                continue;
            }
            kept.push(e);
        }
        (kept, skipped)
    }
}

macro_rules! int_methods {
    ($($m:ident)*) => {$(
        fn $m<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.number(visitor)
        }
    )*};
}

impl<'a> NodeDe<'a> {
    fn number<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match self.scalar().map(resolve) {
            Some(Resolved::Int(i)) => {
                if let Ok(u) = u64::try_from(i) {
                    visitor.visit_u64(u)
                } else if let Ok(s) = i64::try_from(i) {
                    visitor.visit_i64(s)
                } else {
                    Err(fresh("bad_value", "this number is too large".to_string()))
                }
            }
            Some(Resolved::TooLarge) => {
                Err(fresh("bad_value", "this number is too large".to_string()))
            }
            Some(Resolved::Float(f)) => visitor.visit_f64(f),
            _ => {
                let e = <DeError as de::Error>::invalid_type(unexpected_of(self.node), &visitor);
                Err(e)
            }
        };
        self.finish(r, &[])
    }
}

impl<'de, 'a> de::Deserializer<'de> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Map(_) => self.deserialize_map(visitor),
            Kind::Seq(_) => self.deserialize_seq(visitor),
            Kind::Scalar(s) => {
                let r = match resolve(s) {
                    Resolved::Null => visitor.visit_unit(),
                    Resolved::Bool(b) => visitor.visit_bool(b),
                    Resolved::Int(i) => match u64::try_from(i) {
                        Ok(u) => visitor.visit_u64(u),
                        Err(_) => match i64::try_from(i) {
                            Ok(v) => visitor.visit_i64(v),
                            Err(_) => visitor.visit_str(&s.text),
                        },
                    },
                    Resolved::TooLarge => visitor.visit_str(&s.text),
                    Resolved::Float(f) => visitor.visit_f64(f),
                    Resolved::Str(t) => visitor.visit_str(t),
                };
                self.finish(r, &[])
            }
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match self.scalar().map(resolve) {
            Some(Resolved::Bool(b)) => visitor.visit_bool(b),
            _ => Err(<DeError as de::Error>::invalid_type(
                unexpected_of(self.node),
                &visitor,
            )),
        };
        self.finish(r, &[])
    }

    int_methods!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64);

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let exp = expecting(&visitor);
        let r = match self.scalar() {
            Some(s) if !s.is_null() => visitor.visit_str(&s.text),
            _ => Err(<DeError as de::Error>::invalid_type(
                unexpected_of(self.node),
                &visitor,
            )),
        };
        let r = r.map_err(|e| match e {
            DeError::Fresh {
                code: "bad_value",
                message,
                field,
            } if exp == "a date string" => DeError::Fresh {
                code: "bad_value",
                message: format!(
                    "invalid date: {message}; write dates as YYYY-MM-DD (e.g. 2026-01-31)"
                ),
                field,
            },
            other => other,
        });
        self.finish(r, &[])
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let e = <DeError as de::Error>::invalid_type(unexpected_of(self.node), &visitor);
        self.finish(Err(e), &[])
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.scalar() {
            Some(s) if s.is_null() => {
                let r = visitor.visit_none();
                self.finish(r, &[])
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match self.scalar() {
            Some(s) if s.is_null() => visitor.visit_unit(),
            _ => Err(<DeError as de::Error>::invalid_type(
                unexpected_of(self.node),
                &visitor,
            )),
        };
        self.finish(r, &[])
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let items: &[Node] = match &self.node.kind {
            Kind::Seq(items) => items,
            Kind::Scalar(s) if s.is_null() => &[],
            _ => {
                let e = <DeError as de::Error>::invalid_type(unexpected_of(self.node), &visitor);
                return self.finish(Err(e), &[]);
            }
        };
        let r = visitor.visit_seq(SeqAcc {
            items,
            next: 0,
            path: &self.path,
            cx: self.cx,
        });
        self.finish(r, &[])
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Map(_) => {}
            Kind::Scalar(s) if s.is_null() => {}
            _ => {
                let e = <DeError as de::Error>::invalid_type(unexpected_of(self.node), &visitor);
                return self.finish(Err(e), &[]);
            }
        }
        let (entries, skipped) = self.entries(None);
        let r = visitor.visit_map(MapAcc {
            entries,
            next: 0,
            pending: None,
            path: &self.path,
            cx: self.cx,
        });
        self.finish(r, &skipped)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Map(_) => {}
            Kind::Scalar(s) if s.is_null() => {}
            _ => {
                let e = fresh(
                    "bad_type",
                    format!(
                        "expected a mapping with the keys {}, found {}",
                        list(fields.iter(), 30),
                        friendly_unexpected(&unexpected_of(self.node))
                    ),
                );
                return self.finish(Err(e), &[]);
            }
        }
        let (entries, skipped) = self.entries(Some(fields));
        let r = visitor.visit_map(MapAcc {
            entries,
            next: 0,
            pending: None,
            path: &self.path,
            cx: self.cx,
        });
        self.finish(r, &skipped)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Scalar(s) if !s.is_null() => {
                let r = visitor.visit_enum(UnitEnum {
                    de: self.child(self.node, self.path.clone()),
                });
                self.finish(r, &[])
            }
            Kind::Map(entries) if entries.len() == 1 => {
                let r = visitor.visit_enum(MapEnum {
                    entry: &entries[0],
                    path: &self.path,
                    cx: self.cx,
                });
                self.finish(r, &[])
            }
            _ => {
                let e = fresh(
                    "bad_type",
                    format!(
                        "expected one of: {}; found {}",
                        list(variants.iter(), 20),
                        friendly_unexpected(&unexpected_of(self.node))
                    ),
                );
                self.finish(Err(e), &[])
            }
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct SeqAcc<'a, 'p> {
    items: &'a [Node],
    next: usize,
    path: &'p str,
    cx: &'a Cx,
}

impl<'de, 'a, 'p> de::SeqAccess<'de> for SeqAcc<'a, 'p> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        while let Some(item) = self.items.get(self.next) {
            let i = self.next;
            self.next += 1;
            if self.cx.is_failed(item) {
                continue;
            }
            let p = path::index(self.path, i);
            let de = NodeDe {
                node: item,
                path: p.clone(),
                cx: self.cx,
            };
            return match seed.deserialize(de) {
                Ok(v) => Ok(Some(v)),
                Err(e) => Err(self.cx.contain(e, item, &p)),
            };
        }
        Ok(None)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len().saturating_sub(self.next))
    }
}

struct MapAcc<'a, 'p> {
    entries: Vec<&'a Entry>,
    next: usize,
    pending: Option<&'a Entry>,
    path: &'p str,
    cx: &'a Cx,
}

impl<'de, 'a, 'p> de::MapAccess<'de> for MapAcc<'a, 'p> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.entries.get(self.next).copied() else {
            return Ok(None);
        };
        self.next += 1;
        self.pending = Some(entry);
        let p = path::key(self.path, entry.key.scalar_text().unwrap_or(""));
        let de = NodeDe {
            node: &entry.key,
            path: p.clone(),
            cx: self.cx,
        };
        match seed.deserialize(de) {
            Ok(k) => Ok(Some(k)),
            Err(e) => Err(self.cx.contain(e, &entry.key, &p)),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(entry) = self.pending.take() else {
            return Err(fresh(
                "bad_value",
                "a value was asked for before its key".to_string(),
            ));
        };
        let p = path::key(self.path, entry.key.scalar_text().unwrap_or(""));
        let de = NodeDe {
            node: &entry.value,
            path: p.clone(),
            cx: self.cx,
        };
        seed.deserialize(de)
            .map_err(|e| self.cx.contain(e, &entry.value, &p))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len().saturating_sub(self.next))
    }
}

struct UnitEnum<'a> {
    de: NodeDe<'a>,
}

impl<'de, 'a> de::EnumAccess<'de> for UnitEnum<'a> {
    type Error = DeError;
    type Variant = UnitOnly;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, UnitOnly), DeError> {
        seed.deserialize(self.de).map(|v| (v, UnitOnly))
    }
}

struct UnitOnly;

fn needs_settings() -> DeError {
    fresh(
        "bad_type",
        "this value needs settings: write it as a mapping `value: {…}`".to_string(),
    )
}

impl<'de> de::VariantAccess<'de> for UnitOnly {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, DeError> {
        Err(needs_settings())
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, DeError> {
        Err(needs_settings())
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, DeError> {
        Err(needs_settings())
    }
}

struct MapEnum<'a, 'p> {
    entry: &'a Entry,
    path: &'p str,
    cx: &'a Cx,
}

impl<'de, 'a, 'p> de::EnumAccess<'de> for MapEnum<'a, 'p> {
    type Error = DeError;
    type Variant = NodeDe<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, NodeDe<'a>), DeError> {
        let p = path::key(self.path, self.entry.key.scalar_text().unwrap_or(""));
        let key = NodeDe {
            node: &self.entry.key,
            path: self.path.to_string(),
            cx: self.cx,
        };
        let v = seed.deserialize(key)?;
        Ok((
            v,
            NodeDe {
                node: &self.entry.value,
                path: p,
                cx: self.cx,
            },
        ))
    }
}

impl<'de, 'a> de::VariantAccess<'de> for NodeDe<'a> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.scalar() {
            Some(s) if s.is_null() => Ok(()),
            _ => self.finish(
                Err(fresh(
                    "bad_type",
                    "this value takes no settings".to_string(),
                )),
                &[],
            ),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_struct(self, "", fields, visitor)
    }
}
