//! The layout every letter Vow writes shares: the notices about a person's request
//! and the notices of a new policy version. A letter is one structured document
//! ([`Block`]s of [`Span`]s) rendered twice, to plain text wrapped at 76 columns
//! and to a small, self-contained HTML5 page (everything escaped, no external
//! resources, no JavaScript), so the two bodies always say the same thing.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A date as people write it: "Monday 4 January 2027" (the day in UTC).
pub fn long_date(ts: Timestamp) -> String {
    let d = ts.to_zoned(TimeZone::UTC).date();
    let weekday = match d.weekday() {
        jiff::civil::Weekday::Monday => "Monday",
        jiff::civil::Weekday::Tuesday => "Tuesday",
        jiff::civil::Weekday::Wednesday => "Wednesday",
        jiff::civil::Weekday::Thursday => "Thursday",
        jiff::civil::Weekday::Friday => "Friday",
        jiff::civil::Weekday::Saturday => "Saturday",
        jiff::civil::Weekday::Sunday => "Sunday",
    };
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month = usize::try_from(d.month() - 1)
        .ok()
        .and_then(|m| MONTHS.get(m))
        .copied()
        .unwrap_or("");
    format!("{weekday} {} {month} {}", d.day(), d.year())
}

/// A moment, for hour-level deadlines: "Monday 4 January 2027 at 14:05 UTC".
pub fn long_date_time(ts: Timestamp) -> String {
    let z = ts.to_zoned(TimeZone::UTC);
    format!("{} at {:02}:{:02} UTC", long_date(ts), z.hour(), z.minute())
}

/// Joins the words of a unit the text wrapper must not break (a date); both
/// renderers turn it back into a space.
const GLUE: char = '\u{E000}';

fn glued(s: &str) -> String {
    s.replace(' ', &GLUE.to_string())
}

pub(crate) fn day(ts: Timestamp) -> String {
    glued(&long_date(ts))
}

pub(crate) fn moment(ts: Timestamp) -> String {
    glued(&long_date_time(ts))
}

/// Free text from the workflow: blank lines separate paragraphs.
pub(crate) fn free_text(s: &str) -> Vec<Block> {
    s.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| para().t(p))
        .collect()
}

/// Collapse all whitespace (newlines included) into single spaces.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn contact_span(k: &str) -> Span {
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
pub(crate) fn link_span(text: &str, href: &str) -> Span {
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

// ---------------------------------------------------------------------------
// The document both bodies are rendered from

#[derive(Debug, Clone)]
pub(crate) enum Span {
    Text(String),
    Strong(String),
    Link { text: String, href: String },
}

impl Span {
    fn plain(&self) -> &str {
        match self {
            Span::Text(s) | Span::Strong(s) => s,
            Span::Link { text, .. } => text,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Block {
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

pub(crate) fn para() -> Block {
    Block::Para(Vec::new())
}

impl Block {
    pub(crate) fn span(mut self, s: Span) -> Block {
        if let Block::Para(spans) = &mut self {
            spans.push(s);
        }
        self
    }
    pub(crate) fn t(self, s: impl Into<String>) -> Block {
        self.span(Span::Text(s.into()))
    }
    pub(crate) fn b(self, s: impl Into<String>) -> Block {
        self.span(Span::Strong(s.into()))
    }
    pub(crate) fn link(self, text: &str, href: &str) -> Block {
        self.span(link_span(text, href))
    }
}

/// Text bodies are wrapped at this many columns.
const WIDTH: usize = 76;

pub(crate) fn to_text(doc: &[Block]) -> String {
    let mut out = String::new();
    for block in doc {
        let mut part = String::new();
        let buf = &mut part;
        match block {
            Block::Title(s) | Block::Meta(s) | Block::Heading(s) => wrap(buf, s, "", ""),
            Block::Para(spans) => wrap(buf, &spans_plain(spans), "", ""),
            Block::List(items) => {
                for item in items {
                    wrap(buf, &spans_plain(item), "  - ", "    ");
                }
            }
            Block::Code(code) => wrap(buf, code, "    ", "    "),
            Block::Lines(lines) | Block::Footer(lines) => {
                for l in lines {
                    wrap(buf, l, "", "");
                }
            }
        }
        if !part.is_empty() {
            let part = part.replace(GLUE, " ");
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&part);
        }
    }
    out
}

fn spans_plain(spans: &[Span]) -> String {
    spans.iter().map(Span::plain).collect()
}

/// Append `text` wrapped at [`WIDTH`], each line ended by a newline. Words longer than
/// a line are split, except links and addresses, which stay whole on their own line.
fn wrap(out: &mut String, text: &str, first: &str, rest: &str) {
    let mut line = String::from(first);
    let mut len = first.chars().count();
    let mut empty = true;
    for word in text.split_whitespace() {
        let mut word = word;
        loop {
            let wlen = word.chars().count();
            let room = WIDTH.saturating_sub(len);
            let needed = if empty { wlen } else { wlen + 1 };
            if needed <= room {
                if !empty {
                    line.push(' ');
                }
                line.push_str(word);
                len += needed;
                empty = false;
                break;
            }
            if !empty {
                out.push_str(&line);
                out.push('\n');
                line = String::from(rest);
                len = rest.chars().count();
                empty = true;
                continue;
            }
            // An empty line and still no room: the word alone is longer than a line.
            if unbreakable(word) {
                line.push_str(word);
                len += wlen;
                empty = false;
                break;
            }
            let avail = room.max(1);
            let cut = word
                .char_indices()
                .nth(avail)
                .map_or(word.len(), |(i, _)| i);
            line.push_str(&word[..cut]);
            out.push_str(&line);
            out.push('\n');
            line = String::from(rest);
            len = rest.chars().count();
            word = &word[cut..];
            if word.is_empty() {
                break;
            }
        }
    }
    if !empty {
        out.push_str(&line);
        out.push('\n');
    }
}

fn unbreakable(word: &str) -> bool {
    word.contains("://") || word.contains('@') || word.starts_with("mailto:")
}

pub(crate) fn to_html(subject: &str, doc: &[Block]) -> String {
    let mut h = String::with_capacity(4096);
    h.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
    );
    escape_into(&mut h, subject);
    h.push_str("</title>\n<style>\n");
    h.push_str(STYLE);
    h.push_str("</style>\n</head>\n<body>\n<main>\n");
    for block in doc {
        match block {
            Block::Title(s) => tag(&mut h, "h1", "", s),
            Block::Meta(s) => tag(&mut h, "p", " class=\"ref\"", s),
            Block::Heading(s) => tag(&mut h, "h2", "", s),
            Block::Para(spans) => {
                h.push_str("<p>");
                spans_html(&mut h, spans);
                h.push_str("</p>\n");
            }
            Block::List(items) => {
                h.push_str("<ul>\n");
                for item in items {
                    h.push_str("<li>");
                    spans_html(&mut h, item);
                    h.push_str("</li>\n");
                }
                h.push_str("</ul>\n");
            }
            Block::Code(code) => tag(&mut h, "p", " class=\"code\"", code),
            Block::Lines(lines) => {
                h.push_str("<p>");
                lines_html(&mut h, lines);
                h.push_str("</p>\n");
            }
            Block::Footer(lines) => {
                h.push_str("<footer><p>");
                lines_html(&mut h, lines);
                h.push_str("</p></footer>\n");
            }
        }
    }
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

const STYLE: &str = "\
body{margin:0;padding:16px;background:#f4f4f2;color:#1f2328;\
font:16px/1.5 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif}
main{max-width:40em;margin:0 auto;background:#fff;padding:24px 28px;border-radius:6px}
h1{font-size:1.3em;margin:0 0 .2em}
h2{font-size:1.05em;margin:1.6em 0 .4em}
.ref{color:#57606a;margin-top:0}
.code{font:700 1.8em/1.3 ui-monospace,Menlo,Consolas,monospace;letter-spacing:.15em}
a{color:#0b57d0;word-break:break-all}
footer{color:#57606a;font-size:.85em;margin-top:2em;border-top:1px solid #ddd}
";

fn tag(h: &mut String, name: &str, attrs: &str, text: &str) {
    h.push('<');
    h.push_str(name);
    h.push_str(attrs);
    h.push('>');
    escape_into(h, text);
    h.push_str("</");
    h.push_str(name);
    h.push_str(">\n");
}

fn lines_html(h: &mut String, lines: &[String]) {
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            h.push_str("<br>\n");
        }
        escape_into(h, l);
    }
}

fn spans_html(h: &mut String, spans: &[Span]) {
    for s in spans {
        match s {
            Span::Text(t) => escape_into(h, t),
            Span::Strong(t) => {
                h.push_str("<strong>");
                escape_into(h, t);
                h.push_str("</strong>");
            }
            Span::Link { text, href } => {
                h.push_str("<a href=\"");
                escape_into(h, href);
                h.push_str("\">");
                escape_into(h, text);
                h.push_str("</a>");
            }
        }
    }
}

/// Escape for HTML text and double- or single-quoted attribute values.
fn escape_into(h: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => h.push_str("&amp;"),
            '<' => h.push_str("&lt;"),
            '>' => h.push_str("&gt;"),
            '"' => h.push_str("&quot;"),
            '\'' => h.push_str("&#39;"),
            GLUE => h.push(' '),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => h.push(c),
        }
    }
}

/// A section of a notice that is not about one person's request (a new policy version,
/// told to a tenant's administrators): an optional heading, paragraphs, then a list.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub heading: Option<String>,
    pub paragraphs: Vec<String>,
    pub items: Vec<String>,
}

/// Such a notice, laid out like the request notices: (subject, text, HTML).
pub fn render_sections(
    subject: &str,
    title: &str,
    meta: &str,
    sections: &[Section],
    footer: &[String],
) -> (String, String, String) {
    let subject = one_line(subject);
    let mut doc = vec![
        Block::Title(title.to_string()),
        Block::Meta(meta.to_string()),
    ];
    for s in sections {
        if let Some(h) = &s.heading {
            doc.push(Block::Heading(h.clone()));
        }
        doc.extend(s.paragraphs.iter().map(|p| para().t(p.as_str())));
        if !s.items.is_empty() {
            doc.push(Block::List(
                s.items
                    .iter()
                    .map(|i| vec![Span::Text(i.clone())])
                    .collect(),
            ));
        }
    }
    if !footer.is_empty() {
        doc.push(Block::Footer(footer.to_vec()));
    }
    let text = to_text(&doc);
    let html = to_html(&subject, &doc);
    (subject, text, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn long_dates_read_like_a_letter() {
        assert_eq!(
            long_date(ts("2027-01-04T09:30:00Z")),
            "Monday 4 January 2027"
        );
        assert_eq!(
            long_date_time(ts("2026-11-24T14:05:00Z")),
            "Tuesday 24 November 2026 at 14:05 UTC"
        );
    }

    #[test]
    fn wrap_splits_long_words_but_not_links() {
        let mut out = String::new();
        wrap(&mut out, &"x".repeat(100), "", "");
        assert!(out.lines().all(|l| l.chars().count() <= WIDTH));
        let url = format!("https://example.com/{}", "a".repeat(90));
        let mut out = String::new();
        wrap(&mut out, &format!("see {url} now"), "", "");
        assert!(out.lines().any(|l| l == url), "{out}");
    }
}
