//! Reading JSON that came from outside (request bodies, import rows).
//!
//! serde's messages quote what they could not take (``invalid type: integer `1306…` ``,
//! ``unknown field `ada@…` ``), and what was sent may be personal data. [`from_slice`]
//! keeps only what is ours to say: where (a JSON pointer, line and column) and what was
//! expected. The expectation is written by our own types, so it never holds input.

use serde::de::DeserializeOwned;
use std::fmt;

/// Why a JSON document could not be taken, without anything it contained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonProblem {
    /// JSON pointer to the value at fault (`""` for the whole document).
    pub pointer: String,
    pub line: usize,
    pub column: usize,
    /// True when the text is not JSON at all (as opposed to JSON of the wrong shape).
    pub syntax: bool,
    /// What was wrong and what was expected, e.g. `wrong type; expected a string`.
    pub what: String,
}

impl fmt::Display for JsonProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            String::new()
        } else {
            format!("{} ", self.pointer)
        };
        write!(
            f,
            "{at}(line {}, column {}): {}",
            self.line, self.column, self.what
        )
    }
}

/// Deserialize `bytes`, or say where and why not.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonProblem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let mut p = problem(pointer(e.path()), e.inner());
        // The path of an unknown field ends in that field's name, which is the
        // caller's text: point at the object that holds it.
        if p.what.starts_with("unknown field")
            && let Some(i) = p.pointer.rfind('/')
        {
            p.pointer.truncate(i);
        }
        p
    })?;
    // Anything after the value is a syntax error too ("trailing characters").
    de.end().map_err(|e| problem(String::new(), &e))?;
    Ok(value)
}

fn problem(pointer: String, e: &serde_json::Error) -> JsonProblem {
    use serde_json::error::Category;
    let syntax = matches!(
        e.classify(),
        Category::Syntax | Category::Eof | Category::Io
    );
    JsonProblem {
        pointer,
        line: e.line(),
        column: e.column(),
        syntax,
        what: if syntax {
            syntax_text(e)
        } else {
            data_text(&e.to_string())
        },
    }
}

/// serde_json's syntax messages are fixed phrases ("expected value", "EOF while parsing
/// a string"); take the phrase, drop the position (we give our own).
fn syntax_text(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let phrase = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => text.as_str(),
    };
    phrase.to_string()
}

/// serde's data messages have the shape `<kind> <what was sent>, expected <ours>`.
/// Keep the kind, drop what was sent, keep the expectation. The expectation comes
/// last and is written by our types, so the last `, expected ` starts it even when
/// the sent text itself contains those words.
fn data_text(text: &str) -> String {
    let text = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => text,
    };
    const KINDS: [(&str, &str); 6] = [
        ("invalid type", "wrong type"),
        ("invalid value", "value not allowed"),
        ("invalid length", "wrong number of items"),
        ("unknown variant", "not one of the allowed values"),
        ("unknown field", "unknown field"),
        ("duplicate field", "duplicate field"),
    ];
    for (prefix, kind) in KINDS {
        if text.starts_with(prefix) {
            return match text.rfind(", expected ") {
                Some(i) => format!("{kind}; expected {}", &text[i + ", expected ".len()..]),
                // "unknown field `x`, there are no fields": say what holds.
                None if text.ends_with("there are no fields") => {
                    format!("{kind}; this object takes no fields")
                }
                None => kind.to_string(),
            };
        }
    }
    // `missing field `name``: the name is one of our fields.
    if let Some(rest) = text.strip_prefix("missing field ") {
        return format!("missing field {rest}");
    }
    // Anything else came from one of our own `Deserialize` impls (a purpose id, a
    // period, a date), whose messages describe the rule and never quote the input.
    text.to_string()
}

/// A JSON pointer from serde's path. Object keys are kept only when they look like the
/// field names of our schemas (`birth_date`, `fields`); anything else was typed by the
/// caller and may be personal, so it becomes `…`.
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } if is_schema_name(key) => {
                out.push_str(key)
            }
            Segment::Map { .. } | Segment::Enum { .. } | Segment::Unknown => out.push('…'),
        }
    }
    out
}

fn is_schema_name(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= 40
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u8,
        kind: Kind,
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Grant,
        Withdraw,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        value: String,
    }

    fn err(text: &str) -> JsonProblem {
        match from_slice::<Body>(text.as_bytes()) {
            Ok(b) => panic!("{text} was taken: {b:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn wrong_types_name_the_place_and_the_expectation_only() {
        let e = err(r#"{"name": 1306552019, "count": 1, "kind": "grant"}"#);
        assert_eq!(e.pointer, "/name");
        assert_eq!(e.what, "wrong type; expected a string");
        assert!(!e.to_string().contains("1306"));
        let e = err(r#"{"name": "x", "count": 1, "kind": "grant", "items": [{"value": 7}]}"#);
        assert_eq!(e.pointer, "/items/0/value");
        let e = err(r#"{"name": "x", "count": 300, "kind": "grant"}"#);
        assert_eq!(e.what, "value not allowed; expected u8");
    }

    #[test]
    fn sent_text_that_mimics_the_message_is_still_dropped() {
        for sent in [
            r#""ada@example.org\", expected a secret""#,
            r#""ada`, expected ada@example.org""#,
        ] {
            let e = err(&format!(r#"{{"name": "x", "count": 1, "kind": {sent}}}"#));
            assert!(!e.to_string().contains("ada"), "{e}");
            assert!(e.what.ends_with("expected `grant` or `withdraw`"), "{e}");
        }
    }

    #[test]
    fn unknown_keys_are_not_quoted() {
        let e = err(r#"{"name": "x", "count": 1, "kind": "grant", "ada@example.org": 1}"#);
        assert!(!e.to_string().contains("ada"), "{e}");
        assert_eq!(e.pointer, "");
        assert!(
            e.what.starts_with("unknown field; expected one of `name`"),
            "{e}"
        );
        let e = err(
            r#"{"name": "x", "count": 1, "kind": "grant", "items": [{"value": "x", "ada": 1}]}"#,
        );
        assert_eq!(e.pointer, "/items/0");
        assert_eq!(e.what, "unknown field; expected `value`");
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let e = err("{\"name\": \"ada@example.org\",\n \"count\": 01}");
        assert!(e.syntax);
        assert_eq!(e.line, 2);
        assert!(!e.to_string().contains("ada"));
        let e = err(r#"{"name": "x", "count": 1, "kind": "grant"} "ada""#);
        assert!(e.syntax);
        assert_eq!(e.what, "trailing characters");
        assert!(err(r#"{"name": "ada"#).syntax);
    }

    #[test]
    fn pointers_keep_schema_names_only() {
        assert!(is_schema_name("birth_date"));
        assert!(!is_schema_name("Ada"));
        assert!(!is_schema_name("ada@example.org"));
        assert!(!is_schema_name(""));
    }

    #[test]
    fn a_missing_field_is_named() {
        let e = err(r#"{"count": 1, "kind": "grant"}"#);
        assert_eq!(e.what, "missing field `name`");
    }
}
