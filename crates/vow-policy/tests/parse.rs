//! Parsing: a valid policy, broken policies with exact positions, many errors at once,
//! warnings for promises weaker than the law.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use vow_policy::{Diagnostic, Severity, parse, validate};

const FULL: &str = include_str!("fixtures/full.yaml");

/// A small valid policy; the line numbers below are the ones the cases refer to.
const BASE: &str = "\
format: 1
organisation:
  name: Acme Research
effective_date: 2026-01-15
contacts:
  - channel: email
    address: privacy@acme.example
categories:
  - id: user.name
    description: Your name
  - id: user.contact.email
    description: Your email address
  - id: user.health
    description: Your health
    sensitive: true
purposes:
  - id: research
    description: Research studies
    basis: consent
    categories: [user.name, user.health]
  - id: marketing.email
    description: Invitations by email
    basis: consent
    categories: [user.contact]
  - id: sale
    description: Selling personal information
    basis: consent
    forbidden: true
recipients:
  - id: mailer
    name: Mailer Inc.
    kind: vendor
    categories: [user.contact.email]
    purposes: [marketing.email]
    country: US
stores:
  - id: main
    kind: primary
    location: CA-SK
    categories: [user]
retention:
  - keep: 2y
    from: relationship_end
jurisdictions: [CA, US-CA]
response_times:
  requests_days: 30
  per_type: {opt_out: 15, limit_sensitive: 15}
parental_consent_age: 16
";

fn edit(edits: &[(&str, &str)]) -> String {
    let mut s = BASE.to_string();
    for (from, to) in edits {
        assert_eq!(
            s.matches(from).count(),
            1,
            "edit target not unique: {from:?}"
        );
        s = s.replacen(from, to, 1);
    }
    s
}

fn errors_of(src: &str) -> Vec<Diagnostic> {
    match parse(src, "policy.yaml") {
        Ok(c) => panic!("expected errors, parsed with warnings {:?}", c.warnings),
        Err(d) => d,
    }
}

fn show(ds: &[Diagnostic]) -> String {
    ds.iter().map(|d| format!("  {d}\n")).collect()
}

#[test]
fn full_fixture_parses_without_warnings() {
    let checked = match parse(FULL, "full.yaml") {
        Ok(c) => c,
        Err(d) => panic!("fixture failed:\n{}", show(&d)),
    };
    assert!(checked.warnings.is_empty(), "{}", show(&checked.warnings));
    let p = &checked.policy;
    assert_eq!(p.organisation.name, "Prairie Insights");
    assert_eq!(p.categories.len(), 9);
    assert_eq!(p.purposes.len(), 7);
    assert_eq!(p.recipients.len(), 4);
    assert_eq!(p.stores.len(), 3);
    assert_eq!(p.implied_consent.len(), 2);
    assert_eq!(p.parental_consent_age, Some(16));
    assert_eq!(p.response_times.per_type.get("withdraw_consent"), Some(&1));
    assert_eq!(p.retention[0].keep.to_string(), "2y");
    assert!(validate(p).iter().all(|d| d.severity == Severity::Warning));
}

#[test]
fn base_parses_without_warnings() {
    match parse(BASE, "base.yaml") {
        Ok(c) => assert!(c.warnings.is_empty(), "{}", show(&c.warnings)),
        Err(d) => panic!("{}", show(&d)),
    }
}

#[test]
fn json_is_accepted_and_round_trips() {
    let policy = parse(FULL, "full.yaml").unwrap().policy;
    let json = serde_json::to_string_pretty(&policy).unwrap();
    let again = parse(&json, "full.json").unwrap().policy;
    assert_eq!(policy, again);
    let compact = serde_json::to_string(&policy).unwrap();
    assert_eq!(parse(&compact, "full.json").unwrap().policy, policy);
}

#[test]
fn anchors_and_merge_keys_work() {
    let src = edit(&[(
        "recipients:\n  - id: mailer\n    name: Mailer Inc.\n    kind: vendor\n",
        "recipients:\n  - &vendor\n    id: mailer\n    name: Mailer Inc.\n    kind: vendor\n",
    )]) + "  # \n";
    let src = src.replace(
        "stores:",
        "  - <<: *vendor\n    id: mailer-2\n    name: Second Mailer\nstores:",
    );
    let c = parse(&src, "p.yaml").unwrap_or_else(|d| panic!("{}", show(&d)));
    assert_eq!(c.policy.recipients.len(), 2);
    assert_eq!(c.policy.recipients[1].name, "Second Mailer");
    assert_eq!(c.policy.recipients[1].country, "US");
}

struct Case {
    name: &'static str,
    edits: &'static [(&'static str, &'static str)],
    code: &'static str,
    line: usize,
    column: usize,
    path: &'static str,
    message_has: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "unknown key lists the allowed ones",
        edits: &[(
            "  name: Acme Research\n",
            "  name: Acme Research\n  colour: blue\n",
        )],
        code: "unknown_key",
        line: 4,
        column: 3,
        path: "organisation.colour",
        message_has: "allowed keys here: name, legal_name, website, address",
    },
    Case {
        name: "unknown key in a list item, with a suggestion",
        edits: &[(
            "    address: privacy@acme.example\n",
            "    address: privacy@acme.example\n    lable: DPO\n",
        )],
        code: "unknown_key",
        line: 8,
        column: 5,
        path: "contacts[0].lable",
        message_has: "did you mean `label`?",
    },
    Case {
        name: "missing required key",
        edits: &[(
            "    description: Research studies\n    basis: consent\n",
            "    description: Research studies\n",
        )],
        code: "missing_key",
        line: 17,
        column: 5,
        path: "purposes[0].basis",
        message_has: "`basis`",
    },
    Case {
        name: "missing top-level key",
        edits: &[("effective_date: 2026-01-15\n", "")],
        code: "missing_key",
        line: 1,
        column: 1,
        path: "effective_date",
        message_has: "effective_date",
    },
    Case {
        name: "bad enum value lists the allowed ones",
        edits: &[("    kind: vendor\n", "    kind: supplier\n")],
        code: "bad_value",
        line: 32,
        column: 11,
        path: "recipients[0].kind",
        message_has: "client, vendor, authority, affiliate",
    },
    Case {
        name: "bad basis with suggestion",
        edits: &[(
            "    description: Invitations by email\n    basis: consent\n",
            "    description: Invitations by email\n    basis: consnet\n",
        )],
        code: "bad_value",
        line: 23,
        column: 12,
        path: "purposes[1].basis",
        message_has: "did you mean `consent`?",
    },
    Case {
        name: "bad category name",
        edits: &[("  - id: user.name\n", "  - id: User.Name\n")],
        code: "bad_value",
        line: 9,
        column: 9,
        path: "categories[0].id",
        message_has: "dotted lowercase",
    },
    Case {
        name: "bad purpose name",
        edits: &[("  - id: research\n", "  - id: Research Studies\n")],
        code: "bad_value",
        line: 17,
        column: 9,
        path: "purposes[0].id",
        message_has: "invalid purpose",
    },
    Case {
        name: "bad period",
        edits: &[("  - keep: 2y\n", "  - keep: 2 yrs\n")],
        code: "bad_value",
        line: 42,
        column: 11,
        path: "retention[0].keep",
        message_has: "30d, 6mo, 2y",
    },
    Case {
        name: "bad date",
        edits: &[("effective_date: 2026-01-15", "effective_date: 2026-02-30")],
        code: "bad_value",
        line: 4,
        column: 17,
        path: "effective_date",
        message_has: "YYYY-MM-DD",
    },
    Case {
        name: "wrong type: text where a number goes",
        edits: &[("  requests_days: 30\n", "  requests_days: soon\n")],
        code: "bad_type",
        line: 46,
        column: 18,
        path: "response_times.requests_days",
        message_has: "whole number",
    },
    Case {
        name: "wrong type: text where a mapping goes",
        edits: &[(
            "organisation:\n  name: Acme Research\n",
            "organisation: Acme Research\n",
        )],
        code: "bad_type",
        line: 2,
        column: 15,
        path: "organisation",
        message_has: "mapping",
    },
    Case {
        name: "negative number",
        edits: &[("parental_consent_age: 16", "parental_consent_age: -1")],
        code: "bad_value",
        line: 48,
        column: 23,
        path: "parental_consent_age",
        message_has: "0 to 255",
    },
    Case {
        name: "yaml syntax error",
        edits: &[("  requests_days: 30\n", "  requests_days: [30\n")],
        code: "yaml_syntax",
        line: 47,
        column: 11,
        path: "",
        message_has: "",
    },
    Case {
        name: "duplicate key",
        edits: &[(
            "parental_consent_age: 16\n",
            "parental_consent_age: 16\nformat: 1\n",
        )],
        code: "duplicate_key",
        line: 49,
        column: 1,
        path: "format",
        message_has: "twice",
    },
    Case {
        name: "purpose references an undefined category: position of the list item",
        edits: &[(
            "    categories: [user.name, user.health]\n",
            "    categories: [user.name, user.helth]\n",
        )],
        code: "unknown_reference",
        line: 20,
        column: 29,
        path: "purposes[0].categories[1]",
        message_has: "did you mean `user.health`?",
    },
    Case {
        name: "recipient references an undefined purpose",
        edits: &[(
            "    purposes: [marketing.email]\n",
            "    purposes: [marketing]\n",
        )],
        code: "unknown_reference",
        line: 34,
        column: 16,
        path: "recipients[0].purposes[0]",
        message_has: "purpose `marketing`",
    },
    Case {
        name: "store references a category below a defined one",
        edits: &[(
            "    categories: [user]\n",
            "    categories: [user.name.first]\n",
        )],
        code: "unknown_reference",
        line: 40,
        column: 18,
        path: "stores[0].categories[0]",
        message_has: "user.name.first",
    },
    Case {
        name: "retention references an undefined purpose",
        edits: &[(
            "    from: relationship_end\n",
            "    from: relationship_end\n    purpose: billing\n",
        )],
        code: "unknown_reference",
        line: 44,
        column: 14,
        path: "retention[0].purpose",
        message_has: "billing",
    },
    Case {
        name: "duplicate id",
        edits: &[("  - id: user.contact.email\n", "  - id: user.name\n")],
        code: "duplicate_id",
        line: 11,
        column: 9,
        path: "categories[1].id",
        message_has: "categories[0]",
    },
    Case {
        name: "forbidden purpose given to a recipient",
        edits: &[(
            "    purposes: [marketing.email]\n",
            "    purposes: [marketing.email, sale]\n",
        )],
        code: "forbidden_purpose",
        line: 34,
        column: 33,
        path: "recipients[0].purposes[1]",
        message_has: "forbidden",
    },
    Case {
        name: "transfer outside the jurisdictions needs a safeguard",
        edits: &[("    country: US\n", "    country: IN\n")],
        code: "missing_safeguard",
        line: 30,
        column: 5,
        path: "recipients[0].safeguard",
        message_has: "IN",
    },
    Case {
        name: "safeguard none is not a safeguard",
        edits: &[(
            "    country: US\n",
            "    country: IN\n    safeguard: none\n",
        )],
        code: "missing_safeguard",
        line: 36,
        column: 16,
        path: "recipients[0].safeguard",
        message_has: "scc",
    },
    Case {
        name: "recipient country must be two capitals",
        edits: &[("    country: US\n", "    country: USA\n")],
        code: "bad_value",
        line: 35,
        column: 14,
        path: "recipients[0].country",
        message_has: "ISO 3166",
    },
    Case {
        name: "backup store needs backup_retention_days",
        edits: &[("    kind: primary\n", "    kind: backup\n")],
        code: "missing_key",
        line: 37,
        column: 5,
        path: "stores[0].backup_retention_days",
        message_has: "backup",
    },
    Case {
        name: "implied consent needs a consent purpose",
        edits: &[
            (
                "    description: Research studies\n    basis: consent\n",
                "    description: Research studies\n    basis: contract\n",
            ),
            (
                "parental_consent_age: 16\n",
                "parental_consent_age: 16\nimplied_consent:\n  - event: purchase\n    purposes: [research]\n    lasts: 2y\n",
            ),
        ],
        code: "implied_consent_basis",
        line: 51,
        column: 16,
        path: "implied_consent[0].purposes[0]",
        message_has: "basis `contract`",
    },
    Case {
        name: "bad jurisdiction code",
        edits: &[("jurisdictions: [CA, US-CA]", "jurisdictions: [CA, us-ca]")],
        code: "bad_value",
        line: 44,
        column: 21,
        path: "jurisdictions[1]",
        message_has: "US-CA",
    },
    Case {
        name: "unknown request type: position of the key",
        edits: &[(
            "{opt_out: 15, limit_sensitive: 15}",
            "{opt_out: 15, limit_sensitive: 15, acess: 10}",
        )],
        code: "unknown_key",
        line: 47,
        column: 48,
        path: "response_times.per_type.acess",
        message_has: "did you mean `access`?",
    },
    Case {
        name: "zero days",
        edits: &[("  requests_days: 30\n", "  requests_days: 0\n")],
        code: "bad_value",
        line: 46,
        column: 18,
        path: "response_times.requests_days",
        message_has: "at least 1 day",
    },
    Case {
        name: "parental age out of range",
        edits: &[("parental_consent_age: 16", "parental_consent_age: 30")],
        code: "bad_value",
        line: 48,
        column: 23,
        path: "parental_consent_age",
        message_has: "1 to 21",
    },
    Case {
        name: "format version",
        edits: &[("format: 1\n", "format: 7\n")],
        code: "unsupported_format",
        line: 1,
        column: 9,
        path: "format",
        message_has: "format 1",
    },
    Case {
        name: "no contact",
        edits: &[(
            "contacts:\n  - channel: email\n    address: privacy@acme.example\n",
            "contacts: []\n",
        )],
        code: "empty_list",
        line: 5,
        column: 11,
        path: "contacts",
        message_has: "at least one",
    },
    Case {
        name: "email without @",
        edits: &[(
            "    address: privacy@acme.example\n",
            "    address: privacy.acme.example\n",
        )],
        code: "bad_value",
        line: 7,
        column: 14,
        path: "contacts[0].address",
        message_has: "@",
    },
    Case {
        name: "unsupported tag",
        edits: &[("  name: Acme Research\n", "  name: !secret Acme Research\n")],
        code: "yaml_unsupported",
        line: 3,
        column: 17,
        path: "",
        message_has: "tag",
    },
];

#[test]
fn broken_policies_report_code_position_and_path() {
    let mut failures = String::new();
    for case in CASES {
        let src = edit(case.edits);
        let errors = errors_of(&src);
        let found = errors.iter().any(|d| {
            d.code == case.code
                && d.line == case.line
                && d.column == case.column
                && d.path == case.path
                && d.message.contains(case.message_has)
                && d.file == "policy.yaml"
                && d.severity == Severity::Error
        });
        if !found {
            failures.push_str(&format!(
                "{}: expected {}:{}:{} {} containing {:?}; got:\n{}",
                case.name,
                case.code,
                case.line,
                case.column,
                case.path,
                case.message_has,
                show(&errors)
            ));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn structural_errors_are_reported_together() {
    let src = edit(&[
        (
            "  name: Acme Research\n",
            "  name: Acme Research\n  colour: blue\n",
        ),
        ("    kind: vendor\n", "    kind: supplier\n"),
        ("  - keep: 2y\n", "  - keep: 2 yrs\n"),
        (
            "    description: Research studies\n    basis: consent\n",
            "    description: Research studies\n",
        ),
        ("    sensitive: true\n", "    sensitive: maybe\n"),
        ("effective_date: 2026-01-15\n", ""),
    ]);
    let errors = errors_of(&src);
    let paths: Vec<&str> = errors.iter().map(|d| d.path.as_str()).collect();
    for want in [
        "organisation.colour",
        "recipients[0].kind",
        "retention[0].keep",
        "purposes[0].basis",
        "categories[2].sensitive",
        "effective_date",
    ] {
        assert!(
            paths.contains(&want),
            "missing {want} in\n{}",
            show(&errors)
        );
    }
    // Ordered by position.
    let lines: Vec<usize> = errors.iter().map(|d| d.line).collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
}

#[test]
fn semantic_errors_are_reported_together() {
    let src = edit(&[
        ("format: 1\n", "format: 2\n"),
        (
            "    categories: [user.name, user.health]\n",
            "    categories: [user.nme, user.health]\n",
        ),
        (
            "    purposes: [marketing.email]\n",
            "    purposes: [marketing.email, sale]\n",
        ),
        ("    country: US\n", "    country: IN\n"),
        ("    kind: primary\n", "    kind: backup\n"),
        (
            "jurisdictions: [CA, US-CA]",
            "jurisdictions: [CA, US-CA, XYZ]",
        ),
    ]);
    let errors = errors_of(&src);
    let codes: Vec<&str> = errors
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect();
    for want in [
        "unsupported_format",
        "unknown_reference",
        "forbidden_purpose",
        "missing_safeguard",
        "missing_key",
        "bad_value",
    ] {
        assert!(
            codes.contains(&want),
            "missing {want} in\n{}",
            show(&errors)
        );
    }
}

#[test]
fn empty_and_non_mapping_documents() {
    let e = errors_of("");
    assert_eq!(e[0].code, "missing_key");
    let e = errors_of("# only a comment\n");
    assert_eq!(e[0].code, "missing_key");
    let e = errors_of("---\n~\n");
    assert_eq!((e.len(), e[0].code), (1, "missing_key"));
    assert!(e[0].message.contains("empty"));
    let e = errors_of("- a\n- b\n");
    assert_eq!((e[0].code, e[0].line, e[0].column), ("bad_type", 1, 1));
    let e = errors_of("just text");
    assert_eq!(e[0].code, "bad_type");
    let e = errors_of("a: 1\n---\nb: 2\n");
    assert_eq!(e[0].code, "yaml_unsupported");
}

#[test]
fn resource_limits() {
    let big = format!("{BASE}# {}\n", "x".repeat(vow_policy::MAX_SOURCE_BYTES));
    assert_eq!(errors_of(&big)[0].code, "limit_exceeded");
    let deep = format!("{BASE}extra: {}{}\n", "[".repeat(100), "]".repeat(100));
    let e = errors_of(&deep);
    assert!(
        matches!(e[0].code, "limit_exceeded" | "yaml_syntax"),
        "{}",
        show(&e)
    );
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    assert_eq!(errors_of(&bomb)[0].code, "limit_exceeded");
}

fn warnings_of(src: &str) -> Vec<Diagnostic> {
    match parse(src, "policy.yaml") {
        Ok(c) => c.warnings,
        Err(d) => panic!("expected success with warnings:\n{}", show(&d)),
    }
}

fn has_warning(ws: &[Diagnostic], code: &str, path: &str, text: &str) -> bool {
    ws.iter().any(|w| {
        w.severity == Severity::Warning
            && w.code == code
            && w.path == path
            && w.message.contains(text)
    })
}

#[test]
fn promises_weaker_than_the_law_warn() {
    let ws = warnings_of(&edit(&[
        ("  requests_days: 30\n", "  requests_days: 60\n"),
        (
            "jurisdictions: [CA, US-CA]",
            "jurisdictions: [CA, US-CA, EU, BR]",
        ),
    ]));
    assert!(
        has_warning(
            &ws,
            "weaker_than_law",
            "response_times.requests_days",
            "Cal. Civ. Code §1798.130"
        ),
        "{}",
        show(&ws)
    );
    assert!(has_warning(
        &ws,
        "weaker_than_law",
        "response_times.requests_days",
        "GDPR Art. 12(3)"
    ));
    assert!(has_warning(
        &ws,
        "weaker_than_law",
        "response_times.requests_days",
        "PIPEDA s.8(3): 30 days"
    ));
    assert!(has_warning(
        &ws,
        "weaker_than_law",
        "response_times.requests_days",
        "LGPD Art. 19"
    ));
    let w = ws.iter().find(|w| w.message.contains("§1798.130")).unwrap();
    assert_eq!((w.line, w.column), (46, 18));

    let ws = warnings_of(&edit(&[(
        "  requests_days: 30\n",
        "  requests_days: 30\n  acknowledgement_days: 20\n  breach_notice_days: 40\n  complaints_days: 60\n  opt_out_days: 20\n",
    )]));
    assert!(
        has_warning(
            &ws,
            "weaker_than_law",
            "response_times.acknowledgement_days",
            "11 CCR §7021(a)"
        ),
        "{}",
        show(&ws)
    );
    assert!(has_warning(
        &ws,
        "weaker_than_law",
        "response_times.breach_notice_days",
        "§1798.82"
    ));
    assert!(has_warning(
        &ws,
        "weaker_than_law",
        "response_times.complaints_days",
        "45 days"
    ));
    assert!(has_warning(
        &ws,
        "weaker_than_law",
        "response_times.opt_out_days",
        "CASL"
    ));
    assert!(has_warning(
        &ws,
        "weaker_than_law",
        "response_times.opt_out_days",
        "CAN-SPAM"
    ));

    let ws = warnings_of(&edit(&[
        ("parental_consent_age: 16", "parental_consent_age: 13"),
        (
            "jurisdictions: [CA, US-CA]",
            "jurisdictions: [CA, US-CA, EU, CA-QC]",
        ),
    ]));
    assert!(
        has_warning(
            &ws,
            "weaker_than_law",
            "parental_consent_age",
            "GDPR Art. 8"
        ),
        "{}",
        show(&ws)
    );
    assert!(has_warning(
        &ws,
        "weaker_than_law",
        "parental_consent_age",
        "s.4.1: 14"
    ));

    let ws = warnings_of(&edit(&[("parental_consent_age: 16\n", "")]));
    assert!(
        has_warning(&ws, "weaker_than_law", "parental_consent_age", "COPPA"),
        "{}",
        show(&ws)
    );

    let ws = warnings_of(&edit(&[(
        "  per_type: {opt_out: 15, limit_sensitive: 15}\n",
        "  per_type: {opt_out: 15, limit_sensitive: 30}\n",
    )]));
    assert!(
        has_warning(
            &ws,
            "weaker_than_law",
            "response_times.per_type.limit_sensitive",
            "15 business days"
        ),
        "{}",
        show(&ws)
    );
}

#[test]
fn missing_promises_and_questionable_choices_warn() {
    let ws = warnings_of(&edit(&[("  requests_days: 30\n", "")]));
    assert!(
        has_warning(
            &ws,
            "missing_promise",
            "response_times.requests_days",
            "law's deadline"
        ),
        "{}",
        show(&ws)
    );

    let ws = warnings_of(&edit(&[("jurisdictions: [CA, US-CA]\n", "")]));
    assert!(
        has_warning(&ws, "no_jurisdiction", "jurisdictions", "no jurisdictions"),
        "{}",
        show(&ws)
    );

    let ws = warnings_of(&edit(&[(
        "    description: Research studies\n    basis: consent\n",
        "    description: Research studies\n    basis: legitimate_interest\n",
    )]));
    let w = ws
        .iter()
        .find(|w| w.code == "sensitive_basis")
        .expect("sensitive_basis");
    assert_eq!(
        (w.path.as_str(), w.line, w.column),
        ("purposes[0].basis", 19, 12)
    );

    let ws = warnings_of(&edit(&[
        (
            "    kind: primary\n",
            "    kind: backup\n    backup_retention_days: 90\n",
        ),
        (
            "  requests_days: 30\n",
            "  requests_days: 30\n  backup_purge_days: 30\n",
        ),
    ]));
    assert!(
        has_warning(
            &ws,
            "promise_conflict",
            "stores[0].backup_retention_days",
            "90 days"
        ),
        "{}",
        show(&ws)
    );
}

#[test]
fn diagnostics_serialize_for_problem_documents() {
    let errors = errors_of(&edit(&[("    kind: vendor\n", "    kind: supplier\n")]));
    let json = serde_json::to_value(&errors[0]).unwrap();
    assert_eq!(json["severity"], "error");
    assert_eq!(json["code"], "bad_value");
    assert_eq!(json["file"], "policy.yaml");
    assert_eq!(json["line"], 32);
    assert_eq!(json["column"], 11);
    assert_eq!(json["path"], "recipients[0].kind");
    assert!(
        errors[0]
            .to_string()
            .starts_with("policy.yaml:32:11: error[bad_value]: recipients[0].kind: ")
    );
}
