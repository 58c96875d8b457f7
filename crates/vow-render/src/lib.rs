//! Documents: every notice, e-mail, report and page Vow produces, from the askama
//! templates in `crates/vow-render/templates/`, with one stylesheet (`style.css`)
//! and one date style per language ([`date`]).
//!
//! This crate holds the document models that are pure data — a [`letter::Letter`]
//! (request notices, e-mails to administrators) and a [`document::Document`] (the
//! policy notice, reports) — and renders them. The callers (vow-policy, vow-engine)
//! decide what a document says by building its model; the templates decide how it
//! looks. Every value in an HTML rendering is escaped; Markdown renderings escape
//! Markdown; text renderings are plain.

pub mod access;
pub mod breach;
pub mod date;
pub mod document;
pub mod letter;

use std::fmt;

pub use date::{Lang, long_date, long_date_time};

/// The one stylesheet: embedded in downloadable documents and e-mails, served as is
/// by the web pages.
pub const STYLE: &str = include_str!("../templates/style.css");

/// Render a template to a string. Rendering writes to a `String` and every value and
/// filter of Vow's templates is infallible, so an error cannot happen; should one
/// ever, the document is empty rather than the process aborted.
pub(crate) fn render(t: &impl askama::Template) -> String {
    t.render().unwrap_or_default()
}

/// Render a page (a template extending `base.html`), ended by a newline like every
/// text file.
pub(crate) fn page(t: &impl askama::Template) -> String {
    let mut html = render(t);
    html.push('\n');
    html
}

/// Escape text for HTML element content and quoted attribute values, as the `.html`
/// templates do.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // Writing to a String cannot fail.
    let _ = askama::filters::Escaper::write_escaped_str(&HtmlEscaper, &mut out, s);
    out
}

/// The escaper of the `.html` templates (askama.toml): named entities for the five
/// characters that matter in text and attributes; control characters dropped; the
/// glue that keeps a date on one line of a text body shown as a space.
#[derive(Debug, Clone, Copy)]
pub struct HtmlEscaper;

impl askama::filters::Escaper for HtmlEscaper {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '&' => dest.write_str("&amp;")?,
                '<' => dest.write_str("&lt;")?,
                '>' => dest.write_str("&gt;")?,
                '"' => dest.write_str("&quot;")?,
                '\'' => dest.write_str("&#39;")?,
                letter::GLUE => dest.write_char(' ')?,
                c if c.is_control() && c != '\n' && c != '\t' => {}
                c => dest.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// The filters the templates use beyond askama's own.
mod filters {
    use askama::Values;

    /// Wrap text at 76 columns (letter.txt): the first line after `first`, the
    /// others after `rest`.
    #[askama::filter_fn]
    pub fn wrap<S: AsRef<str>>(
        s: S,
        _: &dyn Values,
        first: &str,
        rest: &str,
    ) -> askama::Result<String> {
        Ok(crate::letter::wrap(s.as_ref(), first, rest))
    }

    /// Escape text for Markdown, at the start of a block (document.md).
    #[askama::filter_fn]
    pub fn md<S: AsRef<str>>(s: S, _: &dyn Values) -> askama::Result<String> {
        Ok(crate::document::escape_md(s.as_ref()))
    }

    /// A run of inline text as Markdown (document.md).
    #[askama::filter_fn]
    pub fn md_inline<R: AsRef<[crate::document::Inline]>>(
        r: R,
        _: &dyn Values,
    ) -> askama::Result<String> {
        Ok(crate::document::md_inline(r.as_ref()))
    }
}

#[cfg(test)]
mod tests;
