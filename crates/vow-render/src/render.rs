//! What every template shares: the stylesheet, the HTML escaper, rendering.

use std::fmt;

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
                crate::text::GLUE => dest.write_char(' ')?,
                c if c.is_control() && c != '\n' && c != '\t' => {}
                c => dest.write_char(c)?,
            }
        }
        Ok(())
    }
}
