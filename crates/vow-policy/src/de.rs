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

mod error;
mod scalar;

use error::{DeError, fresh, friendly_unexpected, located, unknown_key_message};
use scalar::{Resolved, expects, resolve, unexpected_of};

use crate::diagnostic::Diagnostic;
use crate::path;
use crate::util::list;
use crate::yaml::{Entry, Kind, Node, Scalar, truncate};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Expected, Visitor};
use std::cell::{Cell, RefCell};
use std::collections::HashSet;

/// Stop after this many problems: the rest are usually consequences.
pub(crate) const MAX_ERRORS: usize = 100;
const MAX_PASSES: usize = 256;
/// Most nodes visited over all passes; bounds the time spent on hostile input.
const WORK_BUDGET: usize = 2_000_000;

#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

#[derive(Default)]
struct Cx<'a> {
    failed: RefCell<HashSet<u32>>,
    reported: RefCell<HashSet<(u32, &'static str)>>,
    diags: RefCell<Vec<Diagnostic>>,
    /// The path of the node being deserialized (pushed on the way down, popped on
    /// the way up), turned into text only when a problem is found.
    stack: RefCell<Vec<Seg<'a>>>,
    work: Cell<usize>,
}

impl<'a> Cx<'a> {
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

    fn over_budget(&self) -> bool {
        self.work.get() > WORK_BUDGET
    }

    fn visit(&self) {
        self.work.set(self.work.get().saturating_add(1));
    }

    fn push(&self, seg: Seg<'a>) {
        self.stack.borrow_mut().push(seg);
    }

    fn pop(&self) {
        self.stack.borrow_mut().pop();
    }

    /// The current path as text, e.g. `purposes[2].categories[0]`.
    fn path(&self) -> String {
        let mut p = String::new();
        for seg in self.stack.borrow().iter() {
            p = match seg {
                Seg::Key(k) => path::key(&p, k),
                Seg::Index(i) => path::index(&p, *i),
            };
        }
        p
    }

    /// A child failed: record its problem, mark it, and abandon this pass. Called
    /// while the child's segment is still on the path stack.
    fn contain(&self, err: DeError, node: &Node) -> DeError {
        match err {
            DeError::Abort => return DeError::Abort,
            DeError::Located(d) => self.record(*d),
            DeError::Skip => {}
            DeError::Fresh {
                code,
                message,
                field,
            } => self.record(located(code, message, field, node, &self.path())),
        }
        self.failed.borrow_mut().insert(node.id);
        DeError::Abort
    }
}

/// Deserialize a whole document into `T`, reporting every problem found.
pub(crate) fn from_node<T: DeserializeOwned>(root: &Node) -> Result<T, Vec<Diagnostic>> {
    let cx = Cx::default();
    let mut stopped_early = false;
    for _ in 0..MAX_PASSES {
        cx.stack.borrow_mut().clear();
        let de = NodeDe {
            node: root,
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
                if cx.over_budget() {
                    stopped_early = true;
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
    if stopped_early && !cx.full() {
        let mut d = Diagnostic::error(
            "too_many_errors",
            "",
            "stopped looking for further problems in this large file; fix these and check again",
        );
        d.line = root.pos.line;
        d.column = root.pos.column;
        cx.diags.borrow_mut().push(d);
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

struct NodeDe<'a, 'c> {
    node: &'a Node,
    cx: &'c Cx<'a>,
}

fn at_node(d: &mut Diagnostic, node: &Node) {
    d.line = node.pos.line;
    d.column = node.pos.column;
}

impl<'a, 'c> NodeDe<'a, 'c> {
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
                    code,
                    message,
                    field,
                    self.node,
                    &self.cx.path(),
                )))
            }
            other => other,
        })
    }

    fn type_error<T>(&self, exp: &dyn Expected) -> Result<T, DeError> {
        let e = <DeError as de::Error>::invalid_type(unexpected_of(self.node), exp);
        self.finish(Err(e), &[])
    }

    fn scalar(&self) -> Option<&'a Scalar> {
        match &self.node.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    fn key_problem(
        &self,
        key: &'a Node,
        code: &'static str,
        key_text: Option<&'a str>,
        message: impl FnOnce() -> String,
    ) {
        if self.cx.full() || self.cx.reported.borrow().contains(&(key.id, code)) {
            return;
        }
        let message = message();
        if let Some(k) = key_text {
            self.cx.push(Seg::Key(k));
        }
        let mut d = Diagnostic::error(code, self.cx.path(), message);
        if key_text.is_some() {
            self.cx.pop();
        }
        at_node(&mut d, key);
        self.cx.record_once(key, d);
    }

    /// Keep the entries a mapping should pass on: report keys that are not words,
    /// written twice or (for a struct) unknown; leave out values that failed before.
    fn entries(&self, fields: Option<&'static [&'static str]>) -> (Vec<&'a Entry>, Vec<&'a str>) {
        let Kind::Map(entries) = &self.node.kind else {
            return (Vec::new(), Vec::new());
        };
        let mut kept: Vec<&'a Entry> = Vec::with_capacity(entries.len());
        let mut skipped = Vec::new();
        let mut seen: HashSet<&'a str> = HashSet::new();
        let small = entries.len() <= 16;
        for (i, e) in entries.iter().enumerate() {
            let Some(k) = e.key.scalar_text() else {
                self.key_problem(&e.key, "bad_type", None, || {
                    format!("a key must be a plain word, not {}", e.key.describe())
                });
                continue;
            };
            let duplicate = if small {
                entries[..i].iter().any(|x| x.key.scalar_text() == Some(k))
            } else {
                !seen.insert(k)
            };
            if duplicate {
                self.key_problem(&e.key, "duplicate_key", Some(k), || {
                    format!(
                        "the key `{}` is written twice in this mapping; keep one",
                        truncate(k, 60)
                    )
                });
                continue;
            }
            if let Some(fields) = fields
                && !fields.contains(&k)
            {
                self.key_problem(&e.key, "unknown_key", Some(k), || {
                    unknown_key_message(k, fields)
                });
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
            _ => return self.type_error(&visitor),
        };
        self.finish(r, &[])
    }

    fn map_like<'de, V: Visitor<'de>>(
        self,
        visitor: V,
        fields: Option<&'static [&'static str]>,
    ) -> Result<V::Value, DeError> {
        let (entries, skipped) = self.entries(fields);
        let r = visitor.visit_map(MapAcc {
            entries,
            next: 0,
            pending: None,
            cx: self.cx,
        });
        self.finish(r, &skipped)
    }
}

macro_rules! number_methods {
    ($($m:ident)*) => {$(
        fn $m<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.number(visitor)
        }
    )*};
}

impl<'de, 'a, 'c> de::Deserializer<'de> for NodeDe<'a, 'c> {
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
            _ => return self.type_error(&visitor),
        };
        self.finish(r, &[])
    }

    number_methods!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64);

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let Some(s) = self.scalar().filter(|s| !s.is_null()) else {
            return self.type_error(&visitor);
        };
        let is_date = expects(&visitor, "a date string");
        let r = visitor.visit_str(&s.text).map_err(|e| match e {
            DeError::Fresh {
                code: "bad_value",
                message,
                field,
            } if is_date => DeError::Fresh {
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
        self.type_error(&visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.type_error(&visitor)
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
            _ => return self.type_error(&visitor),
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
        let items: &'a [Node] = match &self.node.kind {
            Kind::Seq(items) => items,
            Kind::Scalar(s) if s.is_null() => &[],
            _ => return self.type_error(&visitor),
        };
        let r = visitor.visit_seq(SeqAcc {
            items,
            next: 0,
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
            _ => return self.type_error(&visitor),
        }
        self.map_like(visitor, None)
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
        self.map_like(visitor, Some(fields))
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
                    de: NodeDe {
                        node: self.node,
                        cx: self.cx,
                    },
                });
                self.finish(r, &[])
            }
            Kind::Map(entries) if entries.len() == 1 => {
                let r = visitor.visit_enum(MapEnum {
                    entry: &entries[0],
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

struct SeqAcc<'a, 'c> {
    items: &'a [Node],
    next: usize,
    cx: &'c Cx<'a>,
}

impl<'de, 'a, 'c> de::SeqAccess<'de> for SeqAcc<'a, 'c> {
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
            self.cx.visit();
            if self.cx.over_budget() {
                return Err(DeError::Abort);
            }
            self.cx.push(Seg::Index(i));
            let r = seed
                .deserialize(NodeDe {
                    node: item,
                    cx: self.cx,
                })
                .map_err(|e| self.cx.contain(e, item));
            self.cx.pop();
            return r.map(Some);
        }
        Ok(None)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len().saturating_sub(self.next))
    }
}

struct MapAcc<'a, 'c> {
    entries: Vec<&'a Entry>,
    next: usize,
    pending: Option<&'a Entry>,
    cx: &'c Cx<'a>,
}

impl<'de, 'a, 'c> de::MapAccess<'de> for MapAcc<'a, 'c> {
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
        self.cx.visit();
        if self.cx.over_budget() {
            return Err(DeError::Abort);
        }
        self.cx
            .push(Seg::Key(entry.key.scalar_text().unwrap_or("")));
        let r = seed
            .deserialize(NodeDe {
                node: &entry.key,
                cx: self.cx,
            })
            .map_err(|e| self.cx.contain(e, &entry.key));
        self.cx.pop();
        r.map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(entry) = self.pending.take() else {
            return Err(fresh(
                "bad_value",
                "a value was asked for before its key".to_string(),
            ));
        };
        self.cx
            .push(Seg::Key(entry.key.scalar_text().unwrap_or("")));
        let r = seed
            .deserialize(NodeDe {
                node: &entry.value,
                cx: self.cx,
            })
            .map_err(|e| self.cx.contain(e, &entry.value));
        self.cx.pop();
        r
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len().saturating_sub(self.next))
    }
}

struct UnitEnum<'a, 'c> {
    de: NodeDe<'a, 'c>,
}

impl<'de, 'a, 'c> de::EnumAccess<'de> for UnitEnum<'a, 'c> {
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

/// An enum written as a one-key mapping `{variant: settings}`. Not used by the
/// current policy model (all its enums are plain words) but handled for safety.
struct MapEnum<'a, 'c> {
    entry: &'a Entry,
    cx: &'c Cx<'a>,
}

impl<'de, 'a, 'c> de::EnumAccess<'de> for MapEnum<'a, 'c> {
    type Error = DeError;
    type Variant = VariantDe<'a, 'c>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantDe<'a, 'c>), DeError> {
        let v = seed.deserialize(NodeDe {
            node: &self.entry.key,
            cx: self.cx,
        })?;
        Ok((
            v,
            VariantDe {
                entry: self.entry,
                cx: self.cx,
            },
        ))
    }
}

struct VariantDe<'a, 'c> {
    entry: &'a Entry,
    cx: &'c Cx<'a>,
}

impl<'a, 'c> VariantDe<'a, 'c> {
    /// Run `f` on the settings node with its key on the path.
    fn with<T>(self, f: impl FnOnce(NodeDe<'a, 'c>) -> Result<T, DeError>) -> Result<T, DeError> {
        self.cx
            .push(Seg::Key(self.entry.key.scalar_text().unwrap_or("")));
        let r = f(NodeDe {
            node: &self.entry.value,
            cx: self.cx,
        })
        .map_err(|e| self.cx.contain(e, &self.entry.value));
        self.cx.pop();
        r
    }
}

impl<'de, 'a, 'c> de::VariantAccess<'de> for VariantDe<'a, 'c> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        self.with(|de| match de.scalar() {
            Some(s) if s.is_null() => Ok(()),
            _ => de.finish(
                Err(fresh(
                    "bad_type",
                    "this value takes no settings".to_string(),
                )),
                &[],
            ),
        })
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        self.with(|de| seed.deserialize(de))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.with(|de| de::Deserializer::deserialize_seq(de, visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.with(|de| de::Deserializer::deserialize_struct(de, "", fields, visitor))
    }
}
