//! What the fuzz targets share: the "errors never echo" checks.

/// Texts of the parsers' own messages that an input can happen to contain: an input
/// holding `u0000-` is not echoed by "control character (\u0000-\u001F) found".
const OURS: &[&str] = &["(\\u0000-\\u001F)"];

/// Panics when `message` repeats a piece of `input` that looks like personal data.
///
/// The input is cut into tokens at whitespace and JSON/CSV punctuation. A token is
/// treated as a value (never a field name or an expectation of ours, which are lower
/// case words and small numbers) when it is at least 6 characters, holds no `/`, and
/// holds an `@` or both a digit and a letter: e-mail addresses, phone numbers with
/// text, external ids, dates with words. Cheap and deliberately narrow, so that a
/// crash here is a real echo.
pub fn assert_no_echo(input: &str, message: &str) {
    for token in input.split(|c: char| c.is_whitespace() || "\"'`,:;{}[]()=\\".contains(c)) {
        if token.chars().count() < 6
            || token.contains('/')
            || OURS.iter().any(|o| o.contains(token))
        {
            continue;
        }
        let looks_like_value = token.contains('@')
            || (token.chars().any(|c| c.is_ascii_digit())
                && token.chars().any(|c| c.is_alphabetic()));
        assert!(
            !(looks_like_value && message.contains(token)),
            "the error repeats the input's {token:?}: {message:?}"
        );
    }
}

/// For an error that starts with a JSON pointer (`/fields/0/value (line 1, column 9):
/// …`): the pointer holds only indexes, `…` and keys shaped like our field names (the
/// rule of `vow_core::json`), and the rest repeats nothing of the input.
pub fn assert_pointer_error_no_echo(input: &str, message: &str) {
    let (pointer, rest) = match message.strip_prefix('/') {
        Some(m) => m.split_once(" (").unwrap_or((m, "")),
        None => ("", message),
    };
    for segment in pointer.split('/').filter(|s| !s.is_empty()) {
        assert!(
            segment == "…"
                || segment.bytes().all(|b| b.is_ascii_digit())
                || is_schema_name(segment),
            "the pointer keeps the input's key {segment:?}: {message:?}"
        );
    }
    assert_no_echo(input, rest);
}

/// `vow_core::json`'s test for a key it may show.
fn is_schema_name(key: &str) -> bool {
    key.len() <= 40
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
