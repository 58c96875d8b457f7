//! One scenario per promise id (PROMISES.md), end to end over HTTP.

use crate::harness::{Backend, Server, reasons};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The audit entries (action, actor, purpose, detail) for a subject, oldest first.
async fn audit_of(s: &Server, subject: &str) -> Vec<(String, String, Option<String>, Value)> {
    let mut tx = s.store().read().await.expect("read tx");
    let rows = tx.audit_page(0, 100_000).await.expect("audit");
    rows.into_iter()
        .filter(|r| r.entry.subject_id.as_deref() == Some(subject))
        .map(|r| {
            (
                r.entry.action,
                r.entry.actor,
                r.entry.purpose,
                serde_json::from_str(&r.entry.detail).unwrap_or(Value::Null),
            )
        })
        .collect()
}

async fn read(
    s: &Server,
    key: &str,
    t: &str,
    subject: &str,
    purpose: &str,
    cats: &[&str],
) -> (StatusCode, Value) {
    s.post(
        key,
        &format!("/v1/tenants/{t}/subjects/{subject}/read"),
        json!({"purpose": purpose, "categories": cats}),
    )
    .await
}

#[tokio::test]
async fn r1_collection_needs_a_named_purpose_and_a_basis() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    // A field for a consent purpose without consent: refused, nothing stored.
    let body = json!({
        "identifiers": {"email": "r1@example.org"},
        "fields": [{"category": "user.name", "value": "Rhea One", "purposes": ["marketing.email"]}]
    });
    let (st, p) = s.post(&op, "/v1/tenants/acme/subjects", body.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    assert_eq!(reasons(&p), ["no_consent"]);
    assert_eq!(p["type"], "urn:vow:problem:refused");
    let (st, _) = s
        .get(&op, "/v1/tenants/acme/subjects?email=r1@example.org")
        .await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "a refused collection leaves nothing behind"
    );
    // No purpose at all: a precise validation error.
    let (st, p) = s
        .post(&op, "/v1/tenants/acme/subjects", json!({"identifiers": {"email": "r1@example.org"}, "fields": [{"category": "user.name", "value": "x"}]}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(p["errors"][0]["pointer"], "/fields/0/purposes");
    // With consent given at collection: stored, and the field carries its purposes.
    let mut ok = body;
    ok["consents"] = json!([{"purpose": "marketing.email", "evidence": {"channel": "web"}}]);
    let (st, b) = s.post(&op, "/v1/tenants/acme/subjects", ok).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let id = b["id"].as_str().unwrap();
    let (st, r) = read(&s, &op, "acme", id, "marketing.email", &["user.name"]).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["fields"][0]["purposes"], json!(["marketing.email"]));
    assert_eq!(r["fields"][0]["value"], "Rhea One");
    // Contract basis needs no consent; a forbidden purpose is refused outright.
    let (st, p) = s
        .post(&op, "/v1/tenants/acme/subjects", json!({"identifiers": {"email": "r1b@example.org"}, "fields": [{"category": "user.name", "value": "x", "purposes": ["sale"]}]}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(
        reasons(&p).contains(&"purpose_forbidden".to_string()),
        "{p}"
    );
}

#[tokio::test]
async fn r2_implied_consent_carries_kind_evidence_and_lapses_by_rule() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    // Whole milliseconds: the precision Vow stores.
    let now = jiff::Timestamp::from_millisecond(crate::harness::now().as_millisecond()).unwrap();
    let recent = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * 30))
        .unwrap();
    let old = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * 800))
        .unwrap();
    let mut ids = Vec::new();
    for (email, at) in [("recent@example.org", recent), ("old@example.org", old)] {
        let (st, b) = s
            .post(
                &op,
                "/v1/tenants/acme/subjects",
                json!({
                    "identifiers": {"email": email},
                    "fields": [{"category": "user.contact.email", "value": email, "purposes": ["marketing.email"], "collected_at": at.to_string()}],
                    "consents": [{"purpose": "marketing.email", "kind": "implied", "at": at.to_string(),
                                  "evidence": {"channel": "web", "event": "purchase"}}]
                }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}");
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    // Recent purchase: granted, implied, expiring two years after the purchase.
    let (_, c) = s
        .get(
            &op,
            &format!("/v1/tenants/acme/subjects/{}/consents", ids[0]),
        )
        .await;
    assert_eq!(c["current"]["marketing.email"]["state"], "granted");
    assert_eq!(c["current"]["marketing.email"]["kind"], "implied");
    let expires: jiff::Timestamp = c["history"][0]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let expected = recent
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(jiff::Span::new().years(2))
        .unwrap()
        .timestamp();
    assert_eq!(expires, expected);
    assert_eq!(c["history"][0]["evidence"]["event"], "purchase");
    assert_eq!(
        read(
            &s,
            &op,
            "acme",
            &ids[0],
            "marketing.email",
            &["user.contact.email"]
        )
        .await
        .0,
        StatusCode::OK
    );
    // A purchase 800 days ago: lapsed.
    let (st, p) = read(
        &s,
        &op,
        "acme",
        &ids[1],
        "marketing.email",
        &["user.contact.email"],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(reasons(&p), ["consent_expired"]);
    // An implied consent without an event the policy knows is refused as invalid.
    let (st, p) = s
        .post(&op, &format!("/v1/tenants/acme/subjects/{}/consents", ids[0]),
            json!({"purpose": "marketing.email", "kind": "implied", "evidence": {"event": "webinar"}}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/evidence/event");
}

#[tokio::test]
async fn r3_withdrawal_takes_effect_on_the_next_read_and_history_is_kept() {
    r3_scenario(Backend::Sqlite).await;
}

#[tokio::test]
async fn r3_withdrawal_on_postgres() {
    r3_scenario(Backend::Postgres).await;
}

async fn r3_scenario(backend: Backend) {
    let Some(s) = Server::start_on(backend).await else {
        return;
    };
    let op = s.tenant("acme").await;
    let id = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    let app = s.key("acme", "app", Some(&["research"])).await;
    assert_eq!(
        read(&s, &app, "acme", &id, "research", &["user.name"])
            .await
            .0,
        StatusCode::OK
    );
    let (st, b) = s
        .post(
            &app,
            &format!("/v1/tenants/acme/subjects/{id}/consents"),
            json!({"purpose": "research", "action": "withdraw", "evidence": {"channel": "web"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, p) = read(&s, &app, "acme", &id, "research", &["user.name"]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(reasons(&p), ["consent_withdrawn"]);
    let (_, c) = s
        .get(&op, &format!("/v1/tenants/acme/subjects/{id}/consents"))
        .await;
    let actions: Vec<&str> = c["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["grant", "withdraw"]);
    assert_eq!(c["current"]["research"]["state"], "withdrawn");
    // Consent given again: reads resume.
    s.post(
        &app,
        &format!("/v1/tenants/acme/subjects/{id}/consents"),
        json!({"purpose": "research"}),
    )
    .await;
    assert_eq!(
        read(&s, &app, "acme", &id, "research", &["user.name"])
            .await
            .0,
        StatusCode::OK
    );
    s.drop_db().await;
}

#[tokio::test]
async fn r4_reads_are_purpose_bound_and_logged() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let id = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    // Only the asked categories come back.
    let (st, r) = read(&s, &op, "acme", &id, "research", &["user.name"]).await;
    assert_eq!(st, StatusCode::OK);
    let cats: Vec<&str> = r["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["category"].as_str().unwrap())
        .collect();
    assert_eq!(cats, ["user.name"]);
    // A category the purpose may not use is refused, and so is a purpose the policy lacks.
    let (st, p) = read(
        &s,
        &op,
        "acme",
        &id,
        "research",
        &["user.financial.bank_account"],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(reasons(&p), ["category_not_allowed"]);
    let (_, p) = read(&s, &op, "acme", &id, "profiling", &["user.name"]).await;
    assert_eq!(reasons(&p), ["purpose_unknown"]);
    // The decision endpoint answers without data.
    let (st, d) = s
        .post(&op, "/v1/tenants/acme/decisions", json!({"subject": id, "purpose": "marketing.email", "categories": ["user.contact.email"]}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(d["allowed"], false);
    assert_eq!(d["reasons"][0]["code"], "no_consent");
    assert!(d.get("fields").is_none());
    // Every read is in the audit log with purpose and categories, never values.
    let log = audit_of(&s, &id).await;
    let reads: Vec<_> = log.iter().filter(|e| e.0 == "read").collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].2.as_deref(), Some("research"));
    assert_eq!(reads[0].3["returned"], json!(["user.name"]));
    assert!(log.iter().any(|e| e.0 == "read.refused"));
    assert!(!format!("{log:?}").contains("Ada Quill"));
}

#[tokio::test]
async fn r7_corrections_are_applied_and_versioned() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let id = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    let (st, b) = s
        .patch(
            &op,
            &format!("/v1/tenants/acme/subjects/{id}"),
            json!({"fields": [{"category": "user.name", "value": "Ada Quill-Marsh"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (_, r) = read(&s, &op, "acme", &id, "research", &["user.name"]).await;
    assert_eq!(r["fields"][0]["value"], "Ada Quill-Marsh");
    assert_eq!(r["fields"][0]["version"], 2);
    let (st, h) = s
        .get(
            &op,
            &format!("/v1/tenants/acme/subjects/{id}/history?purpose=research"),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{h}");
    let names: Vec<(Value, bool)> = h["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["category"] == "user.name")
        .map(|f| (f["value"].clone(), f["superseded_at"].is_null()))
        .collect();
    assert_eq!(
        names,
        [
            (json!("Ada Quill"), false),
            (json!("Ada Quill-Marsh"), true)
        ]
    );
    // Correcting a field that does not exist is a precise error.
    let (st, p) = s
        .patch(
            &op,
            &format!("/v1/tenants/acme/subjects/{id}"),
            json!({"fields": [{"category": "user.name", "value": "x", "corrects": "nope"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(p["errors"][0]["pointer"], "/fields/0/corrects");
}

#[tokio::test]
async fn r8_only_keys_with_a_need_to_know_read_and_every_read_is_attributable() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let id = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    let ingest = s.key("acme", "ingest", None).await;
    let auditor = s.key("acme", "auditor", None).await;
    let payments = s.key("acme", "app", Some(&["incentive_payment"])).await;
    for key in [&ingest, &auditor, &s.admin] {
        let (st, p) = read(&s, key, "acme", &id, "research", &["user.name"]).await;
        assert!(
            st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND,
            "{st} {p}"
        );
    }
    let (st, p) = read(&s, &payments, "acme", &id, "research", &["user.name"]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(reasons(&p), ["caller_purpose_not_allowed"]);
    let (st, _) = read(
        &s,
        &payments,
        "acme",
        &id,
        "incentive_payment",
        &["user.name"],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    // No key, or a forged one: 401.
    let (st, p) = read(
        &s,
        "vow_aaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "acme",
        &id,
        "research",
        &["user.name"],
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{p}");
    // The successful read names the key that made it.
    let log = audit_of(&s, &id).await;
    let payments_id = payments.split('_').nth(1).unwrap();
    assert!(log.iter().any(|e| e.0 == "read"
        && e.1 == payments_id
        && e.2.as_deref() == Some("incentive_payment")));
}

#[tokio::test]
async fn r17_children_need_a_parent_s_consent() {
    let s = Server::start_at(crate::harness::TODAY).await;
    let op = s.tenant("acme").await;
    let child = |consent: Value| {
        json!({
            "identifiers": {"email": "kid@example.org"},
            "birth_date": "2014-06-01",
            "fields": [{"category": "user.name", "value": "Kid Quill", "purposes": ["research"]}],
            "consents": [consent]
        })
    };
    let (st, p) = s
        .post(
            &op,
            "/v1/tenants/acme/subjects",
            child(json!({"purpose": "research"})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(reasons(&p), ["minor_without_parental_consent"]);
    // Parental consent must name a parent known to the tenant.
    let (st, p) = s
        .post(&op, "/v1/tenants/acme/subjects", child(json!({"purpose": "research", "kind": "parental", "parent": {"email": "mum@example.org"}})))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    let parent = s
        .panelist(&op, "acme", "mum@example.org", "Mum Quill")
        .await;
    let (st, b) = s
        .post(&op, "/v1/tenants/acme/subjects", child(json!({"purpose": "research", "kind": "parental", "parent": {"email": "mum@example.org"}})))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let id = b["id"].as_str().unwrap();
    let (_, c) = s
        .get(&op, &format!("/v1/tenants/acme/subjects/{id}/consents"))
        .await;
    assert_eq!(c["history"][0]["parent_subject"], parent.as_str());
    assert_eq!(
        read(&s, &op, "acme", id, "research", &["user.name"])
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn s1_a_client_s_data_serves_only_the_client_s_purposes() {
    let s = Server::start().await;
    let (st, b) = s
        .post(
            &s.admin,
            "/v1/tenants",
            json!({"id": "client-a", "name": "Client A", "role": "processor",
            "controller": {"name": "Client A LLC", "contact": "privacy@client-a.example"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["controller"]["contact"], "privacy@client-a.example");
    // A processor must name its controller.
    let (st, p) = s
        .post(
            &s.admin,
            "/v1/tenants",
            json!({"id": "client-b", "name": "B", "role": "processor"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(p["errors"][0]["pointer"], "/controller");
    s.put_policy(&s.admin, "client-a", crate::harness::POLICY)
        .await;
    let op = s.key("client-a", "operator", None).await;
    let id = s.panelist(&op, "client-a", "c@example.org", "Cora").await;
    // The platform's own purposes are not the client's: refused.
    let (st, p) = read(
        &s,
        &op,
        "client-a",
        &id,
        "platform_analytics",
        &["user.name"],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(reasons(&p), ["purpose_unknown"]);
}

#[tokio::test]
async fn s2_one_client_s_key_never_reaches_another_client_s_data() {
    let s = Server::start().await;
    let a = s.tenant("client-a").await;
    let b_key = s.tenant("client-b").await;
    let a_subject = s
        .panelist(&a, "client-a", "same@example.org", "Same Person")
        .await;
    let b_subject = s
        .panelist(&b_key, "client-b", "same@example.org", "Same Person")
        .await;
    assert_ne!(a_subject, b_subject);
    let b_app = s.key("client-b", "app", Some(&["research"])).await;
    let sub = |t: &str, rest: &str| format!("/v1/tenants/{t}/subjects/{a_subject}{rest}");
    // A request of tenant A, to aim B's keys at.
    let (st, r) = s
        .post(
            &a,
            "/v1/tenants/client-a/requests",
            json!({"type": "know", "channel": "web", "identifiers": {"email": "same@example.org"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let a_request = r["id"].as_str().unwrap().to_string();
    let req = |rest: &str| format!("/v1/tenants/client-a/requests/{a_request}{rest}");
    // Every tenant-scoped endpoint, called with tenant B's keys on tenant A.
    for key in [&b_key, &b_app] {
        let calls: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, "/v1/tenants/client-a".into(), None),
            (Method::GET, "/v1/tenants/client-a/policy".into(), None),
            (Method::PUT, "/v1/tenants/client-a/policy".into(), None),
            (
                Method::POST,
                "/v1/tenants/client-a/keys".into(),
                Some(json!({"role": "operator"})),
            ),
            (
                Method::POST,
                "/v1/tenants/client-a/subjects".into(),
                Some(json!({"identifiers": {"email": "x@example.org"}})),
            ),
            (
                Method::GET,
                "/v1/tenants/client-a/subjects?email=same@example.org".into(),
                None,
            ),
            (
                Method::PATCH,
                sub("client-a", ""),
                Some(json!({"fields": [{"category": "user.name", "value": "x"}]})),
            ),
            (
                Method::POST,
                sub("client-a", "/consents"),
                Some(json!({"purpose": "research"})),
            ),
            (Method::GET, sub("client-a", "/consents"), None),
            (
                Method::POST,
                sub("client-a", "/read"),
                Some(json!({"purpose": "research", "categories": ["user.name"]})),
            ),
            (Method::GET, sub("client-a", "/history"), None),
            (
                Method::POST,
                "/v1/tenants/client-a/decisions".into(),
                Some(
                    json!({"subject": a_subject, "purpose": "research", "categories": ["user.name"]}),
                ),
            ),
            (
                Method::POST,
                "/v1/tenants/client-a/requests".into(),
                Some(
                    json!({"type": "know", "channel": "web", "identifiers": {"email": "same@example.org"}}),
                ),
            ),
            (Method::GET, "/v1/tenants/client-a/requests".into(), None),
            (Method::GET, req(""), None),
            (Method::POST, req("/verify"), Some(json!({}))),
            (Method::POST, req("/extend"), Some(json!({"reason": "x"}))),
            (
                Method::POST,
                req("/deny"),
                Some(json!({"reasons": [{"code": "other"}]})),
            ),
            (Method::POST, req("/fulfil"), Some(json!({}))),
            (Method::POST, req("/withdraw"), Some(json!({}))),
            (Method::POST, req("/code"), Some(json!({}))),
            (Method::GET, req("/export"), None),
            (
                Method::POST,
                sub("client-a", "/holds"),
                Some(json!({"categories": ["user.name"], "reason": "x", "until": "2099-01-01"})),
            ),
            (
                Method::POST,
                "/v1/tenants/client-a/disclosures".into(),
                Some(
                    json!({"recipient": "lab-partner", "purpose": "research", "categories": ["user.name"], "subjects": [a_subject]}),
                ),
            ),
            (Method::GET, "/v1/tenants/client-a/disclosures".into(), None),
        ];
        for (method, path, body) in calls {
            let (st, p) = s.call(method.clone(), key, &path, body).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{method} {path}: {p}");
            assert!(!p.to_string().contains("Same Person"));
        }
        // Tenant A's subject id inside tenant B's own path: not found either.
        let (st, _) = read(&s, key, "client-b", &a_subject, "research", &["user.name"]).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
    // The same e-mail has different blind indexes in the two tenants (separate keys).
    let mut tx = s.store().read().await.unwrap();
    let ia = tx.identifiers("client-a", &a_subject).await.unwrap();
    let ib = tx.identifiers("client-b", &b_subject).await.unwrap();
    assert_ne!(ia[0].bidx, ib[0].bidx);
    assert_ne!(ia[0].value, ib[0].value);
}

#[tokio::test]
async fn s5_policy_versions_are_kept_and_each_consent_records_its_version() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let id = s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    let v2 =
        crate::harness::POLICY.replace("effective_date: 2026-01-01", "effective_date: 2026-06-01");
    let (st, b) = s.put_policy(&s.admin, "acme", &v2).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(b["version"], 2);
    assert_eq!(b["effective_date"], "2026-06-01");
    s.post(
        &op,
        &format!("/v1/tenants/acme/subjects/{id}/consents"),
        json!({"purpose": "marketing.email"}),
    )
    .await;
    let (_, c) = s
        .get(&op, &format!("/v1/tenants/acme/subjects/{id}/consents"))
        .await;
    let versions: Vec<i64> = c["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["policy_version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2]);
    let (_, p) = s.get(&op, "/v1/tenants/acme/policy").await;
    assert_eq!(p["version"], 2);
    // A broken policy is refused with positions, and the current version stays.
    let (st, p) = s
        .put_policy(
            &s.admin,
            "acme",
            "format: 1\norganisation: {name: X}\nbogus: 1\n",
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p["diagnostics"].as_array().is_some_and(|d| !d.is_empty()),
        "{p}"
    );
    assert!(p["diagnostics"][0]["line"].as_u64().is_some());
    let (_, p) = s.get(&op, "/v1/tenants/acme/policy").await;
    assert_eq!(p["version"], 2);
    let mut tx = s.store().read().await.unwrap();
    assert_eq!(tx.policy_versions("acme").await.unwrap().len(), 2);
}

#[tokio::test]
async fn problems_are_precise_and_bodies_are_limited() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let res = s
        .client
        .post(format!("{}/v1/tenants/acme/subjects", s.base))
        .bearer_auth(&op)
        .header("content-type", "application/json")
        .body("{\"identifiers\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["code"], "malformed_json");
    let (st, p) = s
        .post(
            &op,
            "/v1/tenants/acme/subjects",
            json!({"identifiers": {"email": "secret-value@example.org"}, "oops": 1}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Named by the object holding it and what it takes, not by the key sent.
    assert_eq!(p["errors"][0]["pointer"], "", "{p}");
    assert!(
        p["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("unknown field; expected one of `identifiers`"),
        "{p}"
    );
    assert!(!p.to_string().contains("oops") && !p.to_string().contains("secret-value"));
    let big = "x".repeat(2 * 1024 * 1024);
    let res = s
        .client
        .put(format!("{}/v1/tenants/acme/policy", s.base))
        .bearer_auth(&s.admin)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (st, doc) = s.get(&op, "/openapi.json").await;
    assert_eq!(st, StatusCode::OK);
    // Every path of the public contract (API.md) is in the document, and query
    // parameters are declared as such.
    for path in [
        "/v1/tenants",
        "/v1/tenants/{t}/policy",
        "/v1/tenants/{t}/subjects",
        "/v1/tenants/{t}/subjects/{s}",
        "/v1/tenants/{t}/subjects/{s}/consents",
        "/v1/tenants/{t}/decisions",
        "/v1/tenants/{t}/subjects/{s}/read",
        "/v1/tenants/{t}/disclosures",
        "/v1/tenants/{t}/requests",
        "/v1/tenants/{t}/requests/{r}",
        "/v1/tenants/{t}/requests/{r}/verify",
        "/v1/tenants/{t}/requests/{r}/extend",
        "/v1/tenants/{t}/requests/{r}/pause",
        "/v1/tenants/{t}/requests/{r}/resume",
        "/v1/tenants/{t}/requests/{r}/fulfil",
        "/v1/tenants/{t}/requests/{r}/deny",
        "/v1/tenants/{t}/requests/{r}/export",
        "/v1/tenants/{t}/incidents",
        "/v1/tenants/{t}/incidents/{i}/impact",
        "/v1/tenants/{t}/reports/self-assessment",
        "/v1/audit/verify",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    let lookup = &doc["paths"]["/v1/tenants/{t}/subjects"]["get"]["parameters"];
    assert!(
        lookup
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "email" && p["in"] == "query"),
        "{lookup}"
    );
    let (st, h) = s.get("", "/healthz").await;
    assert_eq!((st, h["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (st, _) = s.get("", "/metrics").await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn every_error_is_a_problem_document() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let res = s
        .client
        .delete(format!("{}/v1/tenants/acme/policy", s.base))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = s
        .client
        .get(format!("{}/nowhere", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    // The history of every version is for the privacy team, not for purpose-bound apps.
    let id = s.panelist(&op, "acme", "h@example.org", "H").await;
    let app = s.key("acme", "app", Some(&["research"])).await;
    let (st, p) = s
        .get(&app, &format!("/v1/tenants/acme/subjects/{id}/history"))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    assert_eq!(p["code"], "forbidden");
}

#[tokio::test]
async fn a_broken_audit_chain_is_reported_over_http() {
    let s = Server::start().await;
    s.tenant("acme").await;
    let (st, r) = s.get(&s.admin, "/v1/audit/verify").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(r["ok"], true);
    assert_eq!(r["head"].as_str().map(str::len), Some(64));
    let mut tx = s.store().write().await.unwrap();
    // Rewrite history through the store's own append path cannot alter a row; simulate
    // tampering by appending an entry whose hash does not chain.
    tx.append_audit(
        vow_store::STORE_CHAIN,
        &[vow_store::NewAudit {
            at: 0,
            tenant_id: None,
            actor: "intruder".into(),
            action: "forged".into(),
            subject_id: None,
            purpose: None,
            detail: "{}".into(),
        }],
        |_, _, _| [0u8; 32],
        |_| Vec::new(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (st, r) = s.get(&s.admin, "/v1/audit/verify").await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(r["ok"], false);
    assert!(r["first_bad"]["seq"].as_i64().is_some(), "{r}");
    assert_eq!(r["first_bad"]["chain"], "", "the store's chain: {r}");
}
