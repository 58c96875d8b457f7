//! Rendering the notice: content, the California tables, escaping.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use vow_policy::{parse, render_html, render_markdown};

const FULL: &str = include_str!("fixtures/full.yaml");

fn full() -> vow_core::Policy {
    parse(FULL, "full.yaml").unwrap().policy
}

#[test]
fn markdown_has_every_section_and_the_california_tables() {
    let md = render_markdown(&full(), Some(3));
    for want in [
        "# Privacy notice — Prairie Insights",
        "Version 3, effective Sunday 1 March 2026.",
        "## How to contact us",
        "[privacy@prairie-insights.example](<mailto:privacy@prairie-insights.example>)",
        "## What we collect",
        "**Information about your health** `user.health` — sensitive personal information",
        "## Why we use it",
        "— with your consent.",
        "We never sell your personal information.",
        "We never share your personal information for cross-context behavioral advertising.",
        "## Who receives it",
        "| Umfrage GmbH | Service provider acting on our instructions | Germany (DE) |",
        "Standard contractual clauses",
        "## Where it is kept",
        "Each backup is destroyed after 30 days",
        "## How long we keep it",
        "kept for 2 years from when it was collected",
        "kept for 1 year after our relationship ends",
        "## Your rights and our response times",
        "| Withdraw consent | Withdraw a consent you gave, at any time; it takes effect immediately | 1 day |",
        "We acknowledge every request within 5 days.",
        "## Children",
        "under 16",
        "After you buy from us: we take it as your consent to \"Inviting you to new studies by email\" for 2 years afterwards.",
        "## California privacy disclosures",
        "| Category of personal information | Sources | Business or commercial purposes |",
        "| Category of personal information | Categories of recipients |",
        "| Category of sensitive personal information | Purposes we use it for |",
        "Service providers (Mailwell Inc.)",
        "We do not sell personal information, and we promise never to.",
    ] {
        assert!(md.contains(want), "missing {want:?} in:\n{md}");
    }
    // Without a version number, only the date is given.
    let md = render_markdown(&full(), None);
    assert!(md.contains("Effective Sunday 1 March 2026."));
}

#[test]
fn html_is_a_standalone_document_with_semantic_tables() {
    let html = render_html(&full(), Some(1));
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("<title>Privacy notice — Prairie Insights</title>"));
    assert!(html.contains("<caption>Categories of personal information we collect, their sources and our purposes</caption>"));
    assert!(html.contains("<th scope=\"col\">Categories of recipients</th>"));
    assert!(html.contains(
        "<th scope=\"row\">Information about your health <code>user.health</code> (sensitive)</th>"
    ));
    assert!(html.contains("<h3>Sale and sharing of personal information</h3>"));
    assert!(html.trim_end().ends_with("</html>"));
    for banned in [
        "<script", "<link", "<img", "<iframe", " src=", "url(", "@import",
    ] {
        assert!(!html.contains(banned), "{banned} in output");
    }
    assert_eq!(
        html.matches("<table>").count(),
        html.matches("</table>").count()
    );
}

#[test]
fn california_section_only_where_california_law_applies() {
    let mut p = full();
    p.jurisdictions = vec!["CA".into()];
    assert!(!render_markdown(&p, None).contains("California privacy disclosures"));
    assert!(!render_html(&p, None).contains("California privacy disclosures"));
}

#[test]
fn sale_is_described_when_it_is_not_forbidden() {
    let mut p = full();
    for purpose in &mut p.purposes {
        if purpose.id.as_str() == "sale" {
            purpose.forbidden = false;
        }
    }
    p.recipients[0].purposes.push("sale".parse().unwrap());
    let md = render_markdown(&p, None);
    assert!(
        md.contains(
            "We sell personal information: your answers to our surveys to Our research clients."
        ),
        "{md}"
    );
    assert!(!md.contains("no actual knowledge of selling"));
    // No sale purpose at all.
    p.purposes.retain(|x| x.id.as_str() != "sale");
    let md = render_markdown(&p, None);
    assert!(md.contains(
        "We do not sell personal information: none of our purposes involves selling it."
    ));
}

#[test]
fn policy_text_is_escaped() {
    let mut p = full();
    p.organisation.name = "<script>alert('x')</script> & Co".into();
    p.organisation.legal_name = None;
    p.organisation.website = Some("javascript:alert(1)".into());
    p.categories[0].description =
        "Name <img src=x onerror=alert(1)> | *bold* [link](http://evil)".into();
    p.recipients[0].name = "\"><script>bad()</script>".into();
    p.contacts[0].address = "x@y.z\" onmouseover=\"alert(1)".into();

    let html = render_html(&p, Some(1));
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<img"));
    assert!(!html.contains("href=\"javascript:"));
    assert!(!html.contains("onmouseover=\""));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"));
    assert!(html.contains("<title>Privacy notice — &lt;script&gt;"));

    let md = render_markdown(&p, Some(1));
    assert!(!md.contains("<script>"), "{md}");
    assert!(!md.contains("<img"));
    assert!(!md.contains("[link](http://evil)"));
    assert!(md.contains("\\[link\\](http://evil)"));
    assert!(!md.contains("](<javascript:"));
    assert!(md.contains("&lt;script&gt;"));
    assert!(md.contains("\\| \\*bold\\* \\[link\\]"));
    // A table row keeps its cell count despite the `|` in the text.
    let row = md
        .lines()
        .find(|l| l.starts_with("| Name &lt;img"))
        .expect("the category's row");
    let unescaped = row
        .char_indices()
        .filter(|(i, c)| *c == '|' && (*i == 0 || row.as_bytes()[i - 1] != b'\\'))
        .count();
    assert_eq!(unescaped, 4, "{row}");
}

#[test]
fn minimal_policy_renders() {
    let src = "format: 1\norganisation: {name: Tiny}\neffective_date: 2026-05-31\ncontacts: [{channel: phone, address: '555'}]\ncategories: [{id: user, description: Anything about you}]\npurposes: [{id: service, description: Running the service, basis: contract}]\n";
    let c = parse(src, "tiny.yaml").unwrap();
    let md = render_markdown(&c.policy, None);
    assert!(md.contains("We do not disclose personal information to other organisations."));
    assert!(md.contains("Effective Sunday 31 May 2026."));
    assert!(render_html(&c.policy, None).contains("<h1>Privacy notice — Tiny</h1>"));
}
