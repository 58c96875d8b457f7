//! Plain scalars resolved as YAML 1.2's core schema reads them, for serde.

use crate::yaml::{CoreTag, Kind, Node, Scalar};
use serde::de::{Expected, Unexpected};
use std::fmt;

/// What a scalar is, as the core schema reads it.
pub(super) enum Resolved<'a> {
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

pub(super) fn resolve(s: &Scalar) -> Resolved<'_> {
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

pub(super) fn unexpected_of(node: &Node) -> Unexpected<'_> {
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

/// Whether `v` describes itself as exactly `want` (checked without allocating).
pub(super) fn expects(v: &dyn Expected, want: &str) -> bool {
    struct Cmp<'w> {
        rest: &'w str,
        ok: bool,
    }
    impl fmt::Write for Cmp<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            match self.rest.strip_prefix(s) {
                Some(r) => self.rest = r,
                None => self.ok = false,
            }
            Ok(())
        }
    }
    let mut c = Cmp {
        rest: want,
        ok: true,
    };
    let _ = fmt::write(&mut c, format_args!("{v}"));
    c.ok && c.rest.is_empty()
}
