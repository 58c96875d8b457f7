//! The examples in docs/policy.md are real: they parse, and the annotated one is the
//! test fixture.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use vow_policy::parse;

const DOC: &str = include_str!("../../../docs/policy.md");
const FULL: &str = include_str!("fixtures/full.yaml");

fn yaml_blocks() -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in DOC.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

#[test]
fn quick_start_checks_cleanly() {
    let blocks = yaml_blocks();
    let quick = &blocks[0];
    let checked = parse(quick, "quick.yaml").unwrap_or_else(|d| panic!("{d:?}"));
    assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
}

#[test]
fn annotated_example_is_the_fixture() {
    let blocks = yaml_blocks();
    let annotated = blocks.last().unwrap();
    let from_doc = parse(annotated, "doc.yaml").unwrap_or_else(|d| panic!("{d:?}"));
    assert!(from_doc.warnings.is_empty(), "{:?}", from_doc.warnings);
    let fixture = parse(FULL, "full.yaml").unwrap().policy;
    assert_eq!(from_doc.policy, fixture);
}

#[test]
fn every_code_is_documented() {
    for code in [
        "yaml_syntax",
        "yaml_unsupported",
        "limit_exceeded",
        "duplicate_key",
        "unknown_key",
        "missing_key",
        "bad_type",
        "bad_value",
        "unsupported_format",
        "empty_list",
        "duplicate_id",
        "unknown_reference",
        "forbidden_purpose",
        "implied_consent_basis",
        "missing_safeguard",
        "too_many_errors",
        "weaker_than_law",
        "missing_promise",
        "no_jurisdiction",
        "sensitive_basis",
        "promise_conflict",
    ] {
        assert!(
            DOC.contains(&format!("| `{code}` |")),
            "{code} is not in docs/policy.md"
        );
    }
}
