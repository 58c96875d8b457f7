//! The deserializer's errors, and serde's complaints in words a policy author knows.

use crate::diagnostic::Diagnostic;
use crate::path;
use crate::util::{did_you_mean, list};
use crate::yaml::{Node, truncate};
use serde::de::{self, Expected, Unexpected};
use std::fmt;

pub(super) fn located(
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

pub(super) fn fresh(code: &'static str, message: String) -> DeError {
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

pub(super) fn friendly_unexpected(u: &Unexpected<'_>) -> String {
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

pub(super) fn unknown_key_message(field: &str, expected: &[&str]) -> String {
    format!(
        "unknown key `{}`{}; allowed keys here: {}",
        truncate(field, 60),
        did_you_mean(field, expected.iter().copied()),
        list(expected.iter(), 30)
    )
}
