//! A document of headings, paragraphs, lists and tables: the policy notice and the
//! reports (data map, self-assessment, access package). Rendered by `document.md` to
//! CommonMark/GFM and by `document.html` to a standalone HTML5 page whose
//! Content-Security-Policy forbids scripts and every external resource.

use crate::date::Lang;
use crate::render::{STYLE, page, render};
use askama::Template;

/// A run of inline text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Strong(String),
    Code(String),
    /// Build these for `https://`/`http://` addresses and e-mail addresses of plain
    /// characters only: the href is escaped, not checked.
    Link {
        text: String,
        href: String,
    },
}

/// A paragraph, a list item or a table cell.
pub type Rich = Vec<Inline>;

/// One block of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Level 1 to 6 (clamped).
    Heading(u8, String),
    Para(Rich),
    List(Vec<Rich>),
    /// The first cell of every row heads that row. An empty caption is not shown.
    Table {
        caption: String,
        head: Vec<String>,
        rows: Vec<Vec<Rich>>,
    },
}

/// A document: its title (the HTML title) and its blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

#[derive(Template)]
#[template(path = "document.md")]
struct DocumentMd<'a> {
    blocks: &'a [Block],
}

#[derive(Template)]
#[template(path = "document.html")]
struct DocumentHtml<'a> {
    lang: Lang,
    style: &'static str,
    title: &'a str,
    blocks: &'a [Block],
}

impl Document {
    /// Markdown (GitHub-flavoured tables), every piece of text escaped.
    pub fn to_markdown(&self) -> String {
        let out = render(&DocumentMd {
            blocks: &self.blocks,
        });
        out.trim_end_matches('\n').to_string() + "\n"
    }

    /// A complete, standalone HTML5 page: no external resources, no JavaScript (its
    /// Content-Security-Policy forbids both), every piece of text escaped.
    pub fn to_html(&self) -> String {
        page(&DocumentHtml {
            lang: Lang::En,
            style: STYLE,
            title: &self.title,
            blocks: &self.blocks,
        })
    }
}

/// The heading level as the templates write it (1 to 6).
fn level(l: u8) -> u8 {
    l.clamp(1, 6)
}

impl DocumentMd<'_> {
    fn level(&self, l: &u8) -> u8 {
        level(*l)
    }
}

impl DocumentHtml<'_> {
    fn level(&self, l: &u8) -> u8 {
        level(*l)
    }
}

/// Escape text for CommonMark/GFM: no markup, no raw HTML, no table breaks, one line
/// (runs of white space become one space). `at_start`: the text begins a block, so a
/// leading `#`, `-`, `+`, `=` or `1.` must not start a heading or list.
fn escape_md_part(s: &str, at_start: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut first = at_start;
    for c in s.chars() {
        if c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
            continue;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '+' | '-' | '=' if first => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        first = false;
    }
    if at_start {
        // "1. text" at the start of a block would become an ordered list.
        let lead = out.len() - out.trim_start().len();
        let digits = out[lead..].chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && matches!(out[lead + digits..].chars().next(), Some('.' | ')')) {
            out.insert(lead + digits, '\\');
        }
    }
    out
}

/// Escape text that begins a block of Markdown.
pub(crate) fn escape_md(s: &str) -> String {
    escape_md_part(s.trim(), true)
}

/// A run of inline text as one line of Markdown.
pub(crate) fn md_inline(r: &[Inline]) -> String {
    let mut out = String::new();
    for part in r {
        let at_start = out.trim().is_empty();
        match part {
            Inline::Text(t) => out.push_str(&escape_md_part(t, at_start)),
            Inline::Strong(t) => {
                out.push_str("**");
                out.push_str(&escape_md_part(t.trim(), false));
                out.push_str("**");
            }
            Inline::Code(t) => {
                if !t.is_empty()
                    && t.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                {
                    out.push('`');
                    out.push_str(t);
                    out.push('`');
                } else {
                    out.push_str(&escape_md_part(t, at_start));
                }
            }
            Inline::Link { text, href } => {
                out.push('[');
                out.push_str(&escape_md_part(text.trim(), false));
                out.push_str("](<");
                // Inside <…> only these would end or break the destination.
                out.push_str(&href.replace(['<', '>', '\n'], ""));
                out.push_str(">)");
            }
        }
    }
    out.trim().to_string()
}

/// The filters of `document.md`.
mod filters {
    use super::Inline;
    use askama::Values;

    /// Escape text for Markdown, at the start of a block.
    #[askama::filter_fn]
    pub fn md<S: AsRef<str>>(s: S, _: &dyn Values) -> askama::Result<String> {
        Ok(super::escape_md(s.as_ref()))
    }

    /// A run of inline text as Markdown.
    #[askama::filter_fn]
    pub fn md_inline<R: AsRef<[Inline]>>(r: R, _: &dyn Values) -> askama::Result<String> {
        Ok(super::md_inline(r.as_ref()))
    }
}
