//! What the fuzz targets share: the "errors never echo" check.

/// Panics when `message` repeats a piece of `input` that looks like personal data.
///
/// The input is cut into tokens at whitespace and JSON/CSV punctuation. A token is
/// treated as a value (never a field name or an expectation of ours, which are lower
/// case words, paths and small numbers) when it is at least 6 characters, holds no `/`
/// (JSON pointers are ours to give), and holds an `@` or both a digit and a letter:
/// e-mail addresses, phone numbers with text, external ids, dates with words. Tokens
/// shaped like our field names (lower case ASCII, digits, `_`) are left out: a JSON
/// pointer keeps an object key of that shape by design (`vow_core::json`). Cheap and
/// deliberately narrow, so that a crash here is a real echo.
pub fn assert_no_echo(input: &str, message: &str) {
    for token in input.split(|c: char| c.is_whitespace() || "\"'`,:;{}[]()=\\".contains(c)) {
        if token.chars().count() < 6 || token.contains('/') || is_schema_name(token) {
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

fn is_schema_name(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_lowercase())
        && token
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
