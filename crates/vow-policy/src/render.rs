//! Markdown and HTML renderings of the notice. Every piece of policy text is escaped:
//! a name such as `<script>` is shown, never run.

use crate::notice::{self, Block, Inline, Notice};
use vow_core::Policy;

/// Escape text for HTML element content and double-quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
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

fn escape_md(s: &str) -> String {
    escape_md_part(s.trim(), true)
}

fn md_inline(r: &[Inline]) -> String {
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
                out.push_str(href);
                out.push_str(">)");
            }
        }
    }
    out.trim().to_string()
}

fn to_markdown(n: &Notice) -> String {
    let mut out = String::new();
    for block in &n.blocks {
        match block {
            Block::Heading(level, t) => {
                out.push_str(&"#".repeat(usize::from((*level).clamp(1, 6))));
                out.push(' ');
                out.push_str(&escape_md(t));
                out.push_str("\n\n");
            }
            Block::Para(r) => {
                out.push_str(&md_inline(r));
                out.push_str("\n\n");
            }
            Block::List(items) => {
                for item in items {
                    out.push_str("- ");
                    out.push_str(&md_inline(item));
                    out.push('\n');
                }
                out.push('\n');
            }
            Block::Table {
                caption,
                head,
                rows,
            } => {
                out.push_str(&format!("**{}**\n\n", escape_md(caption)));
                out.push('|');
                for h in head {
                    out.push_str(&format!(" {} |", escape_md(h)));
                }
                out.push_str("\n|");
                for _ in head {
                    out.push_str(" --- |");
                }
                out.push('\n');
                for row in rows {
                    out.push('|');
                    for cell in row {
                        out.push_str(&format!(" {} |", md_inline(cell)));
                    }
                    out.push('\n');
                }
                out.push('\n');
            }
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn html_inline(r: &[Inline]) -> String {
    let mut out = String::new();
    for part in r {
        match part {
            Inline::Text(t) => out.push_str(&escape_html(t)),
            Inline::Strong(t) => {
                out.push_str("<strong>");
                out.push_str(&escape_html(t));
                out.push_str("</strong>");
            }
            Inline::Code(t) => {
                out.push_str("<code>");
                out.push_str(&escape_html(t));
                out.push_str("</code>");
            }
            Inline::Link { text, href } => {
                out.push_str("<a href=\"");
                out.push_str(&escape_html(href));
                out.push_str("\">");
                out.push_str(&escape_html(text));
                out.push_str("</a>");
            }
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;line-height:1.5;color:#1a1a1a;background:#fff;margin:0}\
main{max-width:60rem;margin:0 auto;padding:1.5rem}\
h1{font-size:1.8rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;width:100%;margin:1rem 0}\
caption{text-align:left;font-weight:bold;padding:.3rem 0}\
th,td{border:1px solid #bbb;padding:.4rem;text-align:left;vertical-align:top}\
thead th{background:#f0f0f0}tbody th{font-weight:normal}\
code{font-size:.85em;color:#555}";

fn to_html(n: &Notice) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape_html(&n.title)));
    out.push_str(&format!(
        "<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
    ));
    for block in &n.blocks {
        match block {
            Block::Heading(level, t) => {
                let l = (*level).clamp(1, 6);
                out.push_str(&format!("<h{l}>{}</h{l}>\n", escape_html(t)));
            }
            Block::Para(r) => {
                out.push_str(&format!("<p>{}</p>\n", html_inline(r)));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for item in items {
                    out.push_str(&format!("<li>{}</li>\n", html_inline(item)));
                }
                out.push_str("</ul>\n");
            }
            Block::Table {
                caption,
                head,
                rows,
            } => {
                out.push_str("<table>\n");
                out.push_str(&format!("<caption>{}</caption>\n", escape_html(caption)));
                out.push_str("<thead><tr>");
                for h in head {
                    out.push_str(&format!("<th scope=\"col\">{}</th>", escape_html(h)));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for (i, cell) in row.iter().enumerate() {
                        if i == 0 {
                            out.push_str(&format!("<th scope=\"row\">{}</th>", html_inline(cell)));
                        } else {
                            out.push_str(&format!("<td>{}</td>", html_inline(cell)));
                        }
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
        }
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// Any document built of notice blocks (reports such as the data map) as Markdown, in
/// the notice's style and with the same escaping.
pub fn render_document_markdown(doc: &Notice) -> String {
    to_markdown(doc)
}

/// Any document built of notice blocks as a standalone HTML5 page, in the notice's style.
pub fn render_document_html(doc: &Notice) -> String {
    to_html(doc)
}

/// The notice as Markdown (GitHub-flavoured tables). `version` is the published
/// version number, if the policy has been published.
pub fn render_markdown(policy: &Policy, version: Option<u32>) -> String {
    to_markdown(&notice::build(policy, version))
}

/// The notice as a complete, standalone HTML5 document: no external resources, no
/// JavaScript (its Content-Security-Policy forbids both), all policy text escaped.
pub fn render_html(policy: &Policy, version: Option<u32>) -> String {
    to_html(&notice::build(policy, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            escape_html("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
        assert_eq!(escape_md("<script>*x*|y"), "&lt;script&gt;\\*x\\*\\|y");
        assert_eq!(escape_md("# title\nnext"), "\\# title next");
        assert_eq!(escape_md("1. one"), "1\\. one");
        assert_eq!(
            md_inline(&[Inline::Text("a".into()), Inline::Text(" - b".into())]),
            "a - b"
        );
    }
}
