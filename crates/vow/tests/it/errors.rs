//! Every error the HTTP layer finds (routes, methods, bodies, paths, queries) comes out
//! as a problem document with its catalogue entry's status, title and type: never a
//! 500, never a bare body.

use crate::harness::Server;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vow_engine::ErrorCode;

/// The problem document must be the catalogue's entry for `code`, on the wire and inside.
fn assert_problem(what: &str, status: StatusCode, p: &Value, code: ErrorCode) {
    assert_eq!(status.as_u16(), code.status(), "{what}: {p}");
    assert_eq!(p["code"], code.as_str(), "{what}: {p}");
    assert_eq!(p["type"], format!("urn:vow:problem:{code}"), "{what}: {p}");
    assert_eq!(p["title"], code.title(), "{what}: {p}");
    assert_eq!(p["status"], code.status(), "{what}: {p}");
    assert!(
        p["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{what}: {p}"
    );
}

async fn raw(res: reqwest::Response) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let status = res.status();
    let headers = res.headers().clone();
    assert_eq!(
        headers["content-type"], "application/problem+json",
        "{status}"
    );
    (status, res.json().await.unwrap_or(Value::Null), headers)
}

#[tokio::test]
async fn http_layer_errors_are_catalogued_problems() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let url = |p: &str| format!("{}{p}", s.base);

    let (st, p) = s.get(&op, "/v1/nowhere").await;
    assert_problem("unknown route", st, &p, ErrorCode::NotFound);

    let (st, p, h) = raw(s
        .client
        .delete(url("/v1/tenants"))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap())
    .await;
    assert_problem("method", st, &p, ErrorCode::MethodNotAllowed);
    assert!(
        h.get("allow").is_some(),
        "a 405 names the methods the path takes"
    );

    let (st, p) = s.get("not-a-key", "/v1/tenants").await;
    assert_problem("bad key", st, &p, ErrorCode::Unauthenticated);

    let subjects = url("/v1/tenants/acme/subjects");
    let (st, p, _) = raw(s
        .client
        .post(&subjects)
        .bearer_auth(&op)
        .body("{}")
        .send()
        .await
        .unwrap())
    .await;
    assert_problem("no content type", st, &p, ErrorCode::UnsupportedMediaType);

    let (st, p, _) = raw(s
        .client
        .post(&subjects)
        .bearer_auth(&op)
        .header("content-type", "application/json")
        .body("{\"identifiers\": ")
        .send()
        .await
        .unwrap())
    .await;
    assert_problem("syntax", st, &p, ErrorCode::MalformedJson);

    let (st, p) = s
        .post(
            &op,
            "/v1/tenants/acme/retention/run",
            json!({"dry_run": "ada@example.org"}),
        )
        .await;
    assert_problem("shape", st, &p, ErrorCode::InvalidRequest);
    assert!(!p.to_string().contains("ada@"), "{p}");

    let big = format!("{{\"x\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let (st, p, _) = raw(s
        .client
        .post(&subjects)
        .bearer_auth(&op)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap())
    .await;
    assert_problem("large JSON", st, &p, ErrorCode::PayloadTooLarge);

    let policy = url("/v1/tenants/acme/policy");
    let (st, p, _) = raw(s
        .client
        .put(&policy)
        .bearer_auth(&s.admin)
        .body(big)
        .send()
        .await
        .unwrap())
    .await;
    assert_problem("large policy", st, &p, ErrorCode::PayloadTooLarge);

    let (st, p, _) = raw(s
        .client
        .put(&policy)
        .bearer_auth(&s.admin)
        .body(vec![0xff_u8, 0xfe, 0x00])
        .send()
        .await
        .unwrap())
    .await;
    assert_problem("policy not UTF-8", st, &p, ErrorCode::BadRequest);

    // Paths and queries that do not parse: axum's own text could quote the value.
    for path in [
        "/v1/tenants/acme/policy/versions/abc/changes",
        "/v1/tenants/acme/policy/versions/99999999999999999999/changes",
        "/v1/tenants/%FF",
        "/v1/tenants/acme/requests?all=ada@example.org",
    ] {
        let (st, p) = s.get(&op, path).await;
        assert_problem(path, st, &p, ErrorCode::BadRequest);
        assert!(
            !p.to_string().contains("ada@") && !p.to_string().contains("abc"),
            "{p}"
        );
    }
    for path in [
        "/v1/tenants/acme/subjects?bogus=1",
        "/v1/tenants/acme/deliveries?bogus=1",
        "/v1/tenants/acme/reports/self-assessment?year=abc",
        "/v1/tenants/acme/reports/self-assessment",
    ] {
        let (st, p) = s.get(&op, path).await;
        assert_problem(path, st, &p, ErrorCode::InvalidRequest);
    }
}

#[tokio::test]
async fn engine_errors_carry_their_catalogue_entry() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let ada = s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    let cases: [(Method, &str, Option<Value>, ErrorCode); 5] = [
        (
            Method::GET,
            "/v1/tenants/acme/requests/not-a-request",
            None,
            ErrorCode::NotFound,
        ),
        (
            Method::POST,
            "/v1/tenants/acme/keys",
            Some(json!({"role": "bogus"})),
            ErrorCode::InvalidRequest,
        ),
        (
            Method::POST,
            "/v1/tenants",
            Some(json!({"id": "other", "name": "Other", "role": "controller"})),
            ErrorCode::Forbidden,
        ),
        (
            Method::POST,
            "/v1/tenants/acme/reports/aggregate",
            Some(json!({"by": ["email"]})),
            ErrorCode::IdentifyingAttribute,
        ),
        (
            Method::POST,
            "/v1/tenants/acme/disclosures",
            Some(
                json!({"recipient": "nobody", "purpose": "research", "categories": ["user.name"], "subjects": [ada]}),
            ),
            ErrorCode::Refused,
        ),
    ];
    for (method, path, body, code) in cases {
        let (st, p) = s.call(method.clone(), &op, path, body).await;
        assert_problem(&format!("{method} {path}"), st, &p, code);
    }
    let (st, p) = s
        .post(
            &s.admin,
            "/v1/tenants",
            json!({"id": "acme", "name": "Again", "role": "controller"}),
        )
        .await;
    assert_problem("taken tenant id", st, &p, ErrorCode::Conflict);
    let (st, p) = s
        .put_policy(&s.admin, "acme", "format: 1\nbogus: 1\n")
        .await;
    assert_problem("broken policy", st, &p, ErrorCode::InvalidPolicy);
    let (st, p) = s
        .post(
            &s.admin,
            "/v1/tenants",
            json!({"id": "bare", "name": "Bare", "role": "controller"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    let (st, p) = s.get(&s.admin, "/v1/tenants/bare/policy").await;
    assert_problem("no policy", st, &p, ErrorCode::NoPolicy);
}
