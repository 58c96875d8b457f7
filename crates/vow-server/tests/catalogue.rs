//! The error catalogue is the contract: docs/api.md lists exactly its entries, and
//! the OpenAPI document describes every error answer as a problem document with a
//! status the catalogue has.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use std::collections::BTreeSet;
use vow_engine::ErrorCode;

/// The rows of the error table in docs/api.md's "Problem documents" section:
/// (code, status, title).
fn documented() -> Vec<(String, u16, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md");
    let text = std::fs::read_to_string(path).expect("docs/api.md is readable");
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("Problem documents"))
        .expect("docs/api.md has a `## Problem documents` section");
    let mut lines = section
        .lines()
        .skip_while(|l| !l.starts_with("| code | status | title |"));
    assert!(
        lines.next().is_some(),
        "the section has a table headed `| code | status | title | when |`"
    );
    let mut rows = Vec::new();
    for line in lines.skip(1).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // A leading and a trailing empty cell around code, status, title, when.
        assert!(cells.len() >= 5, "a row has code, status, title: {line}");
        let code = cells[1]
            .strip_prefix('`')
            .and_then(|c| c.strip_suffix('`'))
            .filter(|c| !c.contains('`'))
            .unwrap_or_else(|| panic!("one `code` per row: {line}"));
        let status = cells[2]
            .parse()
            .unwrap_or_else(|_| panic!("the status is a number: {line}"));
        rows.push((code.to_string(), status, cells[3].to_string()));
    }
    rows
}

#[test]
fn docs_error_table_equals_the_catalogue() {
    let docs = documented();
    let catalogue: Vec<(String, u16, String)> = ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), c.status(), c.title().to_string()))
        .collect();
    let docs_set: BTreeSet<_> = docs.iter().cloned().collect();
    let catalogue_set: BTreeSet<_> = catalogue.iter().cloned().collect();
    assert_eq!(docs_set.len(), docs.len(), "docs/api.md lists a code twice");
    let missing: Vec<_> = catalogue_set.difference(&docs_set).collect();
    let extra: Vec<_> = docs_set.difference(&catalogue_set).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/api.md's error table differs from ErrorCode (crates/vow-engine/src/error.rs)\n\
         in the catalogue, not (so) in the docs: {missing:?}\n\
         in the docs, not (so) in the catalogue: {extra:?}"
    );
    assert_eq!(
        docs, catalogue,
        "docs/api.md lists the codes in the catalogue's order"
    );
}

#[test]
fn openapi_error_answers_are_problem_documents() {
    let doc: serde_json::Value =
        serde_json::from_str(&vow_server::openapi_json()).expect("the OpenAPI document is JSON");
    let statuses: BTreeSet<u16> = ErrorCode::ALL.iter().map(|c| c.status()).collect();
    let paths = doc["paths"].as_object().expect("paths");
    let mut errors = 0;
    for (path, ops) in paths {
        for (method, op) in ops.as_object().expect("operations") {
            let Some(responses) = op["responses"].as_object() else {
                continue;
            };
            for (status, response) in responses {
                let status: u16 = status.parse().expect("a numeric status");
                if status < 400 {
                    continue;
                }
                errors += 1;
                // The one error answer that is not a problem: a failed verification's report.
                if (method.as_str(), path.as_str(), status) == ("get", "/v1/audit/verify", 409) {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/VerifyReport"
                    );
                    continue;
                }
                assert!(
                    statuses.contains(&status),
                    "{method} {path}: {status} is no status of the catalogue"
                );
                assert_eq!(
                    response["content"].as_object().map(|c| c.len()),
                    Some(1),
                    "{method} {path}: the {status} answer has one content type"
                );
                assert_eq!(
                    response["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path}: the {status} answer is a problem document, sent as such"
                );
            }
        }
    }
    assert!(errors > 0, "the document lists error answers");
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

/// The answers the layers give to any call are declared on every operation they can
/// reach (`openapi::CommonResponses`), so a client and schemathesis see them.
#[test]
fn openapi_declares_the_common_answers() {
    let doc: serde_json::Value =
        serde_json::from_str(&vow_server::openapi_json()).expect("the OpenAPI document is JSON");
    let paths = doc["paths"].as_object().expect("paths");
    for (path, ops) in paths {
        for (method, op) in ops.as_object().expect("operations") {
            let has = |status: &str| op["responses"].get(status).is_some();
            for status in ["400", "408", "503"] {
                assert!(has(status), "{method} {path}: {status}");
            }
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                assert!(has("401") && has("403"), "{method} {path}: 401 and 403");
            }
            if path.contains('{') {
                assert!(has("404"), "{method} {path}: 404");
            }
            if let Some(body) = op["requestBody"]["content"].as_object() {
                assert!(has("413"), "{method} {path}: 413");
                if body.contains_key("application/json") {
                    assert!(has("415"), "{method} {path}: 415");
                }
            }
        }
    }
}
