//! Each template renders a sample model; HTML escapes hostile values, Markdown and
//! text are not HTML-escaped; every page is standalone and script-free.

use crate::access::{AccessPackage, ConsentRow, FieldRow, Meaning, Shown};
use crate::breach::BreachDraft;
use crate::document::{self, Document, Inline};
use crate::letter::{self, Block, Letter, Section, para, render_sections};
use crate::{STYLE, escape_html, text};

const HOSTILE: &str = "<script>alert('x')</script> & \"Co\"";
const ESCAPED: &str = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Co&quot;";

/// A page Vow hands out stands alone: a language, the one stylesheet inline, a
/// Content-Security-Policy that allows no script and nothing external.
fn standalone(html: &str) {
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">\n"),
        "{html}"
    );
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    ));
    assert!(html.contains(STYLE));
    assert!(!html.contains("<script"));
    assert!(html.ends_with("</main>\n</body>\n</html>\n"), "{html}");
}

fn sample_letter(v: &str) -> Letter {
    Letter {
        subject: format!("Subject {v}"),
        blocks: vec![
            Block::Title(v.into()),
            Block::Meta("Request reference: req_1".into()),
            para().t("Hello,"),
            para()
                .t("Due by ")
                .b(letter::day(
                    "2027-01-04T09:30:00Z".parse().unwrap_or_default(),
                ))
                .t(format!(". {v} "))
                .link("our site", "https://example.com/a?b=1&c=2"),
            Block::Heading("Options".into()),
            Block::List(vec![
                vec![letter::Span::Text(v.into())],
                vec![letter::contact_span("privacy@example.com")],
            ]),
            Block::Code("123 456".into()),
            Block::Lines(vec!["Kind regards,".into(), v.into()]),
            Block::Footer(vec!["Footer".into()]),
        ],
    }
}

#[test]
fn letter_html_escapes_every_value() {
    let html = sample_letter(HOSTILE).to_html();
    standalone(&html);
    assert!(!html.contains("<script>alert"));
    assert!(
        html.contains(&format!("<title>Subject {ESCAPED}</title>")),
        "{html}"
    );
    assert!(html.contains(&format!("<h1>{ESCAPED}</h1>")));
    assert!(
        html.contains("<strong>Monday 4 January 2027</strong>"),
        "glue shown as spaces"
    );
    assert!(html.contains("<a href=\"https://example.com/a?b=1&amp;c=2\">our site</a>"));
    assert!(html.contains("<a href=\"mailto:privacy@example.com\">privacy@example.com</a>"));
    assert!(html.contains("<p class=\"code\">123 456</p>"));
    assert!(html.contains(&format!("<p>Kind regards,<br>\n{ESCAPED}</p>")));
    assert!(html.contains("<body class=\"letter\">"));
}

#[test]
fn letter_text_is_plain_and_wrapped() {
    let text = sample_letter(HOSTILE).to_text();
    assert!(text.contains(HOSTILE), "text is not HTML-escaped:\n{text}");
    assert!(!text.contains("&lt;") && !text.contains('\u{E000}'));
    assert!(text.starts_with(&format!(
        "{HOSTILE}\n\nRequest reference: req_1\n\nHello,\n"
    )));
    assert!(text.contains("Due by Monday 4 January 2027."));
    assert!(text.contains("\n  - privacy@example.com\n"));
    assert!(text.contains("\n    123 456\n"));
    assert!(text.contains(&format!("Kind regards,\n{HOSTILE}\n\nFooter\n")));
    assert!(text.ends_with("Footer\n"));
    assert!(!text.contains("\n\n\n"));
}

#[test]
fn long_words_split_but_links_stay_whole() {
    let long = "x".repeat(100);
    let url = format!("https://example.com/{}", "a".repeat(90));
    let l = Letter {
        subject: "s".into(),
        blocks: vec![para().t(long.as_str()), para().t(format!("see {url} now"))],
    };
    let text = l.to_text();
    assert!(text.lines().any(|line| line == url), "{text}");
    assert!(
        text.lines()
            .filter(|line| *line != url)
            .all(|line| line.chars().count() <= text::WIDTH)
    );
    let list = text::wrap(&"word ".repeat(40), "  - ", "    ");
    assert!(list.starts_with("  - word"));
    assert!(
        list.lines()
            .skip(1)
            .all(|line| line.starts_with("    word"))
    );
}

#[test]
fn blank_blocks_leave_no_gap() {
    let l = Letter {
        subject: "s".into(),
        blocks: vec![
            para().t("a"),
            para(),
            Block::Lines(vec![]),
            Block::List(vec![
                vec![],
                vec![letter::Span::Text("item".into())],
                vec![],
            ]),
            Block::Footer(vec![" ".into(), "end".into()]),
        ],
    };
    assert_eq!(l.to_text(), "a\n\n  - item\n\nend\n");
}

#[test]
fn sections_letter() {
    let (subject, text, html) = render_sections(
        "New   policy\nversion",
        "Org",
        "Policy version 2",
        &[Section {
            heading: Some("What changed".into()),
            paragraphs: vec!["One thing.".into()],
            items: vec!["purpose <added>".into()],
        }],
        &["Sent by Vow.".into()],
    );
    assert_eq!(subject, "New policy version");
    assert!(text.contains("What changed\n\nOne thing.\n\n  - purpose <added>\n\nSent by Vow.\n"));
    assert!(html.contains("<li>purpose &lt;added&gt;</li>"));
    assert!(html.contains("<footer><p>Sent by Vow.</p></footer>"));
}

fn sample_document(v: &str) -> Document {
    Document {
        title: format!("Notice {v}"),
        blocks: vec![
            document::Block::Heading(1, format!("Notice {v}")),
            document::Block::Heading(9, "Clamped".into()),
            document::Block::Para(vec![
                Inline::Text(v.into()),
                Inline::Strong(" strong ".into()),
                Inline::Code("user.name".into()),
                Inline::Link {
                    text: "mail".into(),
                    href: "mailto:a@b.example".into(),
                },
            ]),
            document::Block::List(vec![vec![Inline::Text("# not a heading".into())]]),
            document::Block::Table {
                caption: "Caption".into(),
                head: vec!["a".into(), "b|c".into()],
                rows: vec![vec![
                    vec![Inline::Text("row".into())],
                    vec![Inline::Text(v.into())],
                ]],
            },
            document::Block::Table {
                caption: String::new(),
                head: vec!["x".into()],
                rows: vec![],
            },
        ],
    }
}

#[test]
fn document_html_escapes_every_value() {
    let html = sample_document(HOSTILE).to_html();
    standalone(&html);
    assert!(!html.contains("<script>alert"));
    assert!(html.contains(&format!("<title>Notice {ESCAPED}</title>")));
    assert!(html.contains(&format!("<h1>Notice {ESCAPED}</h1>")));
    assert!(html.contains("<h6>Clamped</h6>"));
    assert!(html.contains(
        "<strong> strong </strong><code>user.name</code><a href=\"mailto:a@b.example\">mail</a>"
    ));
    assert!(html.contains("<caption>Caption</caption>"));
    assert!(
        html.contains("<thead><tr><th scope=\"col\">a</th><th scope=\"col\">b|c</th></tr></thead>")
    );
    assert!(html.contains(&format!(
        "<tr><th scope=\"row\">row</th><td>{ESCAPED}</td></tr>"
    )));
    assert_eq!(
        html.matches("<caption>").count(),
        1,
        "an empty caption is not shown"
    );
}

#[test]
fn document_markdown_escapes_markdown_not_html() {
    let md = sample_document(HOSTILE).to_markdown();
    // Raw HTML is neutralised the Markdown way; quotes stay as they are.
    assert!(
        md.starts_with("# Notice &lt;script&gt;alert('x')&lt;/script&gt; &amp; \"Co\"\n\n"),
        "{md}"
    );
    assert!(!md.contains("&#39;") && !md.contains("&quot;"));
    assert!(md.contains("###### Clamped\n"));
    assert!(md.contains("** strong **") || md.contains("**strong**"));
    assert!(md.contains("`user.name`[mail](<mailto:a@b.example>)"));
    assert!(md.contains("- \\# not a heading\n"));
    assert!(md.contains("**Caption**\n\n| a | b\\|c |\n| --- | --- |\n| row |"));
    assert!(md.contains("\n| x |\n| --- |\n"));
    assert!(md.ends_with("|\n") && !md.ends_with("\n\n"));
}

#[test]
fn markdown_escapes() {
    assert_eq!(
        escape_html("<a href='x'>&\""),
        "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
    );
    assert_eq!(
        document::escape_md("<script>*x*|y"),
        "&lt;script&gt;\\*x\\*\\|y"
    );
    assert_eq!(document::escape_md("# title\nnext"), "\\# title next");
    assert_eq!(document::escape_md("1. one"), "1\\. one");
    assert_eq!(
        document::md_inline(&[Inline::Text("a".into()), Inline::Text(" - b".into())]),
        "a - b"
    );
}

#[test]
fn access_package_page() {
    let p = AccessPackage {
        organisation: HOSTILE.into(),
        generated_at: "2026-12-07T10:00:00Z".into(),
        look_back: Some(("2025-12-07T10:00:00Z".into(), "2026-12-07T10:00:00Z".into())),
        categories: vec![Meaning {
            code: "user.health".into(),
            means: "Health".into(),
            sensitive: true,
            legal_basis: String::new(),
        }],
        purposes: vec![Meaning {
            code: "research".into(),
            means: "Research".into(),
            sensitive: false,
            legal_basis: "consent".into(),
        }],
        sources: vec!["web form".into()],
        recipient_categories: vec![],
        fields: Some(vec![
            FieldRow {
                category: "user.name".into(),
                value: Shown::Value(HOSTILE.into()),
                purposes: "research".into(),
                source: "web".into(),
                collected_at: "2026-03-01T08:00:00Z".into(),
            },
            FieldRow {
                category: "user.government_id".into(),
                value: Shown::Withheld("held, but not shown".into()),
                purposes: String::new(),
                source: String::new(),
                collected_at: "not a time".into(),
            },
        ]),
        consents: Some(vec![ConsentRow {
            at: "2026-03-01T08:00:00Z".into(),
            purpose: "research".into(),
            action: "granted".into(),
            kind: "express".into(),
        }]),
    };
    let html = p.to_html();
    standalone(&html);
    assert!(!html.contains("<script>alert"));
    assert!(html.contains(&format!(
        "<h1>Your personal information held by {ESCAPED}</h1>"
    )));
    assert!(html.contains(
        "<p>Prepared on Monday 7 December 2026. This report covers Sunday 7 December 2025 to Monday 7 December 2026.</p>"
    ), "{html}");
    assert!(html.contains("<td>Health (sensitive)</td>"));
    assert!(html.contains(&format!("<td>{ESCAPED}</td>")));
    assert!(html.contains("<td><em>held, but not shown</em></td>"));
    assert!(html.contains("<td>Sunday 1 March 2026</td>"));
    assert!(
        html.contains("<td>not a time</td>"),
        "odd text shown as it is"
    );
    assert!(html.contains(
        "<td>Sunday 1 March 2026 at 08:00 UTC</td><td>research</td><td>granted (express)</td>"
    ));
    let know = AccessPackage {
        fields: None,
        consents: None,
        look_back: None,
        ..p
    };
    let html = know.to_html();
    assert!(!html.contains("The information itself") && !html.contains("This report covers"));
}

#[test]
fn breach_draft() {
    let d = BreachDraft {
        title: format!("Notice {HOSTILE}"),
        from: "Org".into(),
        to: vec!["Authority".into(), "Client <c@example.com>".into()],
        reference: "inc_1".into(),
        sections: vec![("What happened".into(), HOSTILE.into())],
    };
    let text = d.to_text();
    let title = format!("Notice {HOSTILE}");
    assert_eq!(
        text,
        format!(
            "{title}\n{}\n\nFrom: Org\nTo: Authority; Client <c@example.com>\nIncident reference: inc_1\n\nWhat happened\n-------------\n{HOSTILE}\n",
            "=".repeat(title.chars().count())
        )
    );
    let html = d.to_html();
    standalone(&html);
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("To: Authority; Client &lt;c@example.com&gt;<br>"));
    assert!(html.contains(&format!("<h2>What happened</h2>\n<p>{ESCAPED}</p>")));
}

#[test]
fn the_stylesheet_is_one_file() {
    assert!(STYLE.contains(".letter main"));
    assert!(STYLE.contains("table{"));
    assert!(!STYLE.contains("url("), "no external resource");
}

#[test]
fn web_pages_escape_every_value_and_load_only_the_stylesheet() {
    use crate::Lang;
    use crate::document::{Block, Inline};
    use crate::web::{Chrome, Message, NoticePage, NoticeVersion, message_page, notice_page};
    let blocks = vec![
        Block::Heading(1, format!("Notice {HOSTILE}")),
        Block::Para(vec![Inline::Text(HOSTILE.into())]),
    ];
    let versions = vec![
        NoticeVersion {
            version: 2,
            effective_date: "2026-06-01".into(),
            changes: vec![HOSTILE.into()],
        },
        NoticeVersion {
            version: 1,
            effective_date: "2026-01-01".into(),
            changes: vec![],
        },
    ];
    let href = |v: Option<i64>| v.map_or("?lang=fr".to_string(), |v| format!("?version={v}"));
    let mut chrome = Chrome::new(Lang::Fr, Some(HOSTILE), "/assets/vow.x.css", |l| {
        format!("?lang={}", l.code())
    });
    let html = notice_page(
        &mut chrome,
        &NoticePage {
            version: 2,
            effective_date: "2026-06-01",
            in_force: true,
            notice_lang: Lang::En,
            blocks: &blocks,
            versions: &versions,
            href_for: &href,
        },
    );
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains(ESCAPED));
    assert!(
        html.contains("<article lang=\"en\">"),
        "the notice's own language"
    );
    assert!(html.contains("<link rel=\"stylesheet\" href=\"/assets/vow.x.css\">"));
    assert!(
        !html.contains("<style"),
        "the stylesheet is linked, not inlined"
    );
    assert!(
        html.contains("Version 2, en vigueur depuis le lundi 1 juin 2026."),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"?version=1\">Version 1, du jeudi 1 janvier 2026</a>"),
        "{html}"
    );
    assert!(
        html.contains("hreflang=\"en\" lang=\"en\">English</a>"),
        "{html}"
    );
    let mut chrome = Chrome::new(Lang::En, None, "/s.css", |l| format!("?lang={}", l.code()));
    let ask = message_page(&mut chrome, Message::UnsubscribeAsk, Some(HOSTILE.into()));
    assert!(
        ask.contains(&format!("name=\"csrf\" value=\"{ESCAPED}\"")),
        "{ask}"
    );
    assert!(
        ask.contains("<title>Unsubscribe · Privacy</title>"),
        "{ask}"
    );
    let done = message_page(&mut chrome, Message::Unsubscribed, None);
    assert!(!done.contains("<form"));
}
