//! Values read from and written to a database, and how each column kind reads one.
//! Every column is selected as text (or hex for bytes) so that the three drivers
//! decode alike; the column's kind turns the text back into a typed [`Value`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One value of a column. `Decimal`, `Uuid` and other types read as `Text`.
/// `Debug` prints the variant only: values are personal data.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Json(serde_json::Value),
    /// `YYYY-MM-DD`.
    Date(String),
    Time(String),
    /// RFC 3339, or a naive ISO date-time (`YYYY-MM-DDTHH:MM:SS`).
    Timestamp(String),
    Bytes(Vec<u8>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Value::Null => "Null",
            Value::Bool(_) => "Bool",
            Value::Int(_) => "Int",
            Value::Float(_) => "Float",
            Value::Text(_) => "Text",
            Value::Json(_) => "Json",
            Value::Date(_) => "Date",
            Value::Time(_) => "Time",
            Value::Timestamp(_) => "Timestamp",
            Value::Bytes(_) => "Bytes",
        })
    }
}

/// What a column holds, as far as reading, comparing and masking are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ColumnKind {
    Text,
    Integer,
    Float,
    Decimal,
    Bool,
    Date,
    Time,
    Timestamp,
    Json,
    Bytes,
    Uuid,
    Other,
}

impl ColumnKind {
    /// Whether values of the two kinds can be compared in a join.
    pub fn comparable(self, other: ColumnKind) -> bool {
        use ColumnKind::*;
        let numeric = |k| matches!(k, Integer | Decimal | Float);
        let textual = |k| matches!(k, Text | Uuid | Other);
        self == other || (numeric(self) && numeric(other)) || (textual(self) && textual(other))
    }
}

/// A person's identities: `email`, `phone_number`, `external_id` → value.
pub type Identities = BTreeMap<String, String>;

impl Value {
    /// The value of a column of `kind` that the database gave as `text` (bytes as hex).
    pub(crate) fn from_text(kind: ColumnKind, text: Option<&str>) -> Value {
        let Some(t) = text else {
            return Value::Null;
        };
        match kind {
            ColumnKind::Integer => t
                .parse()
                .map_or_else(|_| Value::Text(t.to_string()), Value::Int),
            ColumnKind::Float => t
                .parse()
                .map_or_else(|_| Value::Text(t.to_string()), Value::Float),
            ColumnKind::Bool => match t {
                "t" | "true" | "1" | "TRUE" => Value::Bool(true),
                "f" | "false" | "0" | "FALSE" => Value::Bool(false),
                _ => Value::Text(t.to_string()),
            },
            ColumnKind::Date => Value::Date(t.to_string()),
            ColumnKind::Time => Value::Time(t.to_string()),
            ColumnKind::Timestamp => Value::Timestamp(iso_timestamp(t)),
            ColumnKind::Json => {
                serde_json::from_str(t).map_or_else(|_| Value::Text(t.to_string()), Value::Json)
            }
            ColumnKind::Bytes => {
                hex::decode(t).map_or_else(|_| Value::Text(t.to_string()), Value::Bytes)
            }
            ColumnKind::Text | ColumnKind::Decimal | ColumnKind::Uuid | ColumnKind::Other => {
                Value::Text(t.to_string())
            }
        }
    }

    /// The text a value would be read back as, to match rows against values.
    pub(crate) fn key_text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Text(s) | Value::Date(s) | Value::Time(s) | Value::Timestamp(s) => {
                Some(s.clone())
            }
            Value::Json(j) => Some(j.to_string()),
            Value::Bytes(b) => Some(hex::encode(b)),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// `2024-01-02 03:04:05+00` (PostgreSQL's text) → `2024-01-02T03:04:05+00:00`.
fn iso_timestamp(t: &str) -> String {
    let mut s = t.replacen(' ', "T", 1);
    // A zone written as ±HH only.
    let bytes = s.as_bytes();
    if bytes.len() >= 3 {
        let sign = bytes[bytes.len() - 3];
        if (sign == b'+' || sign == b'-') && s.len() > 19 {
            s.push_str(":00");
        }
    }
    s
}
