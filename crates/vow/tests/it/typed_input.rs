//! Values a caller sends are read once, at the edge: a malformed purpose is a 400 that
//! names where it was (by JSON pointer), never silently left out, and the answer does not
//! repeat what was sent.

use crate::harness::Server;
use reqwest::StatusCode;
use serde_json::json;
use vow_engine::ErrorCode;

const BAD: &str = "Marketing Email!";

#[tokio::test]
async fn a_malformed_purpose_in_a_withdrawal_is_refused_with_its_pointer() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let (st, b) = s
        .post(&op, "/v1/tenants/acme/subjects", json!({"identifiers": {"email": "w@example.org"},
            "fields": [{"category": "user.contact.email", "value": "w@example.org", "purposes": ["marketing.email", "research"]}],
            "consents": [{"purpose": "marketing.email"}, {"purpose": "research"}]}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let ask = |purposes: serde_json::Value| {
        json!({"type": "withdraw_consent", "channel": "web",
               "identifiers": {"email": "w@example.org"}, "purposes": purposes})
    };

    // Before, the bad purpose was dropped and the request withdrew only the others.
    let (st, p) = s
        .post(
            &op,
            "/v1/tenants/acme/requests",
            ask(json!(["research", BAD])),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["code"], ErrorCode::InvalidRequest.as_str(), "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/purposes/1", "{p}");
    assert_eq!(p["errors"].as_array().map(Vec::len), Some(1), "{p}");
    assert!(!p.to_string().contains(BAD), "the value is not echoed: {p}");
    let (_, list) = s.get(&op, "/v1/tenants/acme/requests").await;
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(0),
        "nothing filed: {list}"
    );

    // The same request with well-formed purposes is carried out as before.
    let (st, r) = s
        .post(&op, "/v1/tenants/acme/requests", ask(json!(["research"])))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["outcome"]["purposes"], json!(["research"]), "{r}");
}
