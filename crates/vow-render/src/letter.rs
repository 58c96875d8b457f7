//! The layout every letter Vow writes shares: the notices about a person's request,
//! the notices of a new policy version to a tenant's administrators. A letter is one
//! structured document ([`Block`]s of [`Span`]s) rendered twice, by `letter.txt` to
//! plain text wrapped at 76 columns and by `letter.html` to a small, self-contained
//! HTML5 page (everything escaped, no external resources, no JavaScript), so the two
//! bodies always say the same thing.

use crate::date::Lang;
use crate::render::{STYLE, page, render};
use crate::text::GLUE;
use askama::Template;
use jiff::Timestamp;

fn glued(s: &str) -> String {
    s.replace(' ', &GLUE.to_string())
}

/// A calendar date kept on one line of the text body: "Monday 4 January 2027".
pub fn date(d: jiff::civil::Date) -> String {
    glued(&Lang::En.date(d))
}

/// A day kept on one line of the text body: "Monday 4 January 2027".
pub fn day(ts: Timestamp) -> String {
    glued(&Lang::En.day(ts))
}

/// A moment kept on one line of the text body: "Monday 4 January 2027 at 14:05 UTC".
pub fn moment(ts: Timestamp) -> String {
    glued(&Lang::En.moment(ts))
}

/// Free text from the workflow: blank lines separate paragraphs.
pub fn free_text(s: &str) -> Vec<Block> {
    s.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| para().t(p))
        .collect()
}

/// Collapse all whitespace (newlines included, and the glue of [`day`]) into single
/// spaces: for a subject line.
pub fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == GLUE)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A contact address: a `mailto:` link for an e-mail address, a link for a safe URL,
/// plain text otherwise.
pub fn contact_span(k: &str) -> Span {
    if is_email(k) {
        link_span(k, &format!("mailto:{k}"))
    } else {
        link_span(k, k)
    }
}

fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(l), Some(d), None) if !l.is_empty() && d.contains('.')
    ) && !s
        .chars()
        .any(|c| c.is_whitespace() || "<>\"'():;,".contains(c))
}

/// A link only if its target is a safe scheme; otherwise plain text.
pub fn link_span(text: &str, href: &str) -> Span {
    let lower = href.trim().to_ascii_lowercase();
    if ["https://", "http://", "mailto:", "tel:"]
        .iter()
        .any(|s| lower.starts_with(s))
        && !href.chars().any(char::is_whitespace)
    {
        Span::Link {
            text: text.to_string(),
            href: href.trim().to_string(),
        }
    } else {
        Span::Text(text.to_string())
    }
}

/// A run of text within a paragraph or list item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    Text(String),
    Strong(String),
    /// Built by [`link_span`] only, so `href` is of a safe scheme.
    Link {
        text: String,
        href: String,
    },
}

impl Span {
    fn plain(&self) -> &str {
        match self {
            Span::Text(s) | Span::Strong(s) => s,
            Span::Link { text, .. } => text,
        }
    }
}

/// One block of a letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Title(String),
    Meta(String),
    Heading(String),
    Para(Vec<Span>),
    List(Vec<Vec<Span>>),
    /// A code to copy: shown large, on its own.
    Code(String),
    /// Lines kept as they are (a sign-off).
    Lines(Vec<String>),
    Footer(Vec<String>),
}

/// An empty paragraph, to fill with [`Block::t`], [`Block::b`] and [`Block::link`].
pub fn para() -> Block {
    Block::Para(Vec::new())
}

impl Block {
    pub fn span(mut self, s: Span) -> Block {
        if let Block::Para(spans) = &mut self {
            spans.push(s);
        }
        self
    }
    pub fn t(self, s: impl Into<String>) -> Block {
        self.span(Span::Text(s.into()))
    }
    pub fn b(self, s: impl Into<String>) -> Block {
        self.span(Span::Strong(s.into()))
    }
    pub fn link(self, text: &str, href: &str) -> Block {
        self.span(link_span(text, href))
    }

    /// The block as the text body shows it: without the list items and lines that
    /// hold no words; `None` if nothing is left.
    fn for_text(&self) -> Option<Block> {
        let blank = |s: &str| s.split_whitespace().next().is_none();
        let kept = match self {
            Block::Title(s) | Block::Meta(s) | Block::Heading(s) | Block::Code(s) => {
                (!blank(s)).then(|| self.clone())
            }
            Block::Para(spans) => (!blank(&spans_plain(spans))).then(|| self.clone()),
            Block::List(items) => Some(Block::List(
                items
                    .iter()
                    .filter(|i| !blank(&spans_plain(i)))
                    .cloned()
                    .collect(),
            )),
            Block::Lines(lines) => Some(Block::Lines(
                lines.iter().filter(|l| !blank(l)).cloned().collect(),
            )),
            Block::Footer(lines) => Some(Block::Footer(
                lines.iter().filter(|l| !blank(l)).cloned().collect(),
            )),
        };
        kept.filter(|b| match b {
            Block::List(v) => !v.is_empty(),
            Block::Lines(v) | Block::Footer(v) => !v.is_empty(),
            _ => true,
        })
    }
}

/// The plain text of a paragraph or list item.
pub(crate) fn spans_plain(spans: &[Span]) -> String {
    spans.iter().map(Span::plain).collect()
}

/// A letter: its subject line (the HTML title) and its blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub blocks: Vec<Block>,
}

#[derive(Template)]
#[template(path = "letter.txt")]
struct LetterText {
    blocks: Vec<Block>,
}

#[derive(Template)]
#[template(path = "letter.html")]
struct LetterHtml<'a> {
    lang: Lang,
    style: &'static str,
    subject: &'a str,
    blocks: &'a [Block],
}

impl LetterText {
    fn plain(&self, spans: &[Span]) -> String {
        spans_plain(spans)
    }
}

impl Letter {
    /// The plain-text body, wrapped at 76 columns, blocks parted by a blank line.
    pub fn to_text(&self) -> String {
        let mut text = render(&LetterText {
            blocks: self.blocks.iter().filter_map(Block::for_text).collect(),
        });
        // Every line ends with a newline, the last one too.
        if !text.is_empty() {
            text.push('\n');
        }
        text
    }

    /// The HTML body: a standalone HTML5 page, every value escaped.
    pub fn to_html(&self) -> String {
        page(&LetterHtml {
            lang: Lang::En,
            style: STYLE,
            subject: &self.subject,
            blocks: &self.blocks,
        })
    }
}

/// A section of a letter that is not about one person's request (a new policy version,
/// told to a tenant's administrators): an optional heading, paragraphs, then a list.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub heading: Option<String>,
    pub paragraphs: Vec<String>,
    pub items: Vec<String>,
}

/// Such a letter, laid out like the request notices: (subject, text, HTML).
pub fn render_sections(
    subject: &str,
    title: &str,
    meta: &str,
    sections: &[Section],
    footer: &[String],
) -> (String, String, String) {
    let subject = one_line(subject);
    let mut blocks = vec![
        Block::Title(title.to_string()),
        Block::Meta(meta.to_string()),
    ];
    for s in sections {
        if let Some(h) = &s.heading {
            blocks.push(Block::Heading(h.clone()));
        }
        blocks.extend(s.paragraphs.iter().map(|p| para().t(p.as_str())));
        if !s.items.is_empty() {
            blocks.push(Block::List(
                s.items
                    .iter()
                    .map(|i| vec![Span::Text(i.clone())])
                    .collect(),
            ));
        }
    }
    if !footer.is_empty() {
        blocks.push(Block::Footer(footer.to_vec()));
    }
    let letter = Letter { subject, blocks };
    let (text, html) = (letter.to_text(), letter.to_html());
    (letter.subject, text, html)
}

/// The filters of `letter.txt`.
mod filters {
    use askama::Values;

    /// Wrap text at 76 columns: the first line after `first`, the others after `rest`.
    #[askama::filter_fn]
    pub fn wrap<S: AsRef<str>>(
        s: S,
        _: &dyn Values,
        first: &str,
        rest: &str,
    ) -> askama::Result<String> {
        Ok(crate::text::wrap(s.as_ref(), first, rest))
    }
}
