//! Issue 9, "no key can make a key with more power than itself": the grant table, the
//! notice of every new key, operator reads of values that name a purpose or a request,
//! key expiry, revocation on every server at once (SQLite file and PostgreSQL), and
//! security events for refused keys, forbidden calls and cross-tenant calls.

use crate::cli::{text, vow};
use crate::harness::{Backend, Server, reasons};
use crate::keys::key_id;
use crate::policy_changes::mailer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The secret part of a key: what must never be recorded anywhere.
fn secret(key: &str) -> String {
    // `vow_` and a 12-character id and `_`; the secret may itself hold `_`.
    key[17..].to_string()
}

async fn create(s: &Server, by: &str, tenant: &str, body: Value) -> (StatusCode, Value) {
    s.post(by, &format!("/v1/tenants/{tenant}/keys"), body)
        .await
}

/// Every audit entry of an action, oldest first: (actor, purpose, detail).
async fn audit(s: &Server, action: &str) -> Vec<(String, Option<String>, Value)> {
    let mut tx = s.store().read().await.unwrap();
    tx.audit_page(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.entry.action == action)
        .map(|r| {
            (
                r.entry.actor,
                r.entry.purpose,
                serde_json::from_str(&r.entry.detail).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_tenant_admin_cannot_make_a_key_that_reads_values_and_an_operator_only_app_keys_for_its_purposes()
 {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let admin = s.key("acme", "admin", None).await;
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;

    // A tenant admin: no operator or app key (values need values), …
    for body in [
        json!({"role": "operator"}),
        json!({"role": "app", "purposes": ["research"]}),
    ] {
        let (st, p) = create(&s, &admin, "acme", body.clone()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{body}: {p}");
        assert_eq!(p["code"], "grant_not_allowed");
        assert!(
            p["detail"].as_str().unwrap().contains("values_need_values"),
            "the rule is named: {p}"
        );
    }
    // … but keys that never read values.
    for role in ["admin", "ingest", "auditor"] {
        let (st, k) = create(&s, &admin, "acme", json!({"role": role})).await;
        assert_eq!(st, StatusCode::CREATED, "{role}: {k}");
        assert_eq!(k["created_by"], key_id(&admin));
    }
    // And it reads no value itself, nor any version of one.
    let (st, p) = s
        .post(
            &admin,
            &format!("/v1/tenants/acme/subjects/{ada}/read"),
            json!({"purpose": "research", "categories": ["user.name"]}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    let (st, p) = s
        .get(
            &admin,
            &format!("/v1/tenants/acme/subjects/{ada}/history?purpose=research"),
        )
        .await;
    assert_eq!(
        (st, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "{p}"
    );
    assert!(!p.to_string().contains("Ada"), "{p}");

    // An operator: app keys, only for purposes it holds (those of the policy).
    let (st, app) = create(
        &s,
        &op,
        "acme",
        json!({"role": "app", "purposes": ["research"], "label": "survey app"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{app}");
    assert_eq!(app["created_by"], key_id(&op));
    let app = app["key"].as_str().unwrap().to_string();
    let (st, r) = s
        .post(
            &app,
            &format!("/v1/tenants/acme/subjects/{ada}/read"),
            json!({"purpose": "research", "categories": ["user.name"]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    for (body, rule) in [
        (
            json!({"role": "app", "purposes": ["research", "mind_reading"]}),
            "purposes_not_held",
        ),
        (json!({"role": "admin"}), "exceeds_granter"),
        (json!({"role": "auditor"}), "exceeds_granter"),
    ] {
        let (st, p) = create(&s, &op, "acme", body.clone()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{body}: {p}");
        assert_eq!(p["code"], "grant_not_allowed");
        assert!(p["detail"].as_str().unwrap().contains(rule), "{rule}: {p}");
    }
    // Keys that do not manage keys create none.
    let ingest = s.key("acme", "ingest", None).await;
    for by in [&app, &ingest] {
        let (st, p) = create(
            &s,
            by,
            "acme",
            json!({"role": "app", "purposes": ["research"]}),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
        assert!(
            p["detail"].as_str().unwrap().contains("keys_not_managed"),
            "{p}"
        );
    }
    // A key of another tenant learns nothing (404), whatever it asks for.
    let other = s.tenant("other").await;
    let (st, _) = create(&s, &other, "acme", json!({"role": "ingest"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The global admin key (and the command line) may create any key.
    let (st, k) = create(&s, &s.admin, "acme", json!({"role": "operator"})).await;
    assert_eq!(st, StatusCode::CREATED, "{k}");
    // Nothing refused was created: one key per creation that succeeded.
    let created = audit(&s, "key.create").await;
    let by_admin = created
        .iter()
        .filter(|(a, _, _)| *a == key_id(&admin))
        .count();
    let by_op = created.iter().filter(|(a, _, _)| *a == key_id(&op)).count();
    assert_eq!((by_admin, by_op), (3, 1));
}

#[tokio::test]
async fn every_new_key_is_an_outbox_event_and_a_mail_to_the_privacy_contacts() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let admin = s.key("acme", "admin", None).await;
    // No transport configured: the answer says nobody was mailed.
    let (st, k) = create(&s, &admin, "acme", json!({"role": "ingest"})).await;
    assert_eq!(st, StatusCode::CREATED, "{k}");
    assert_eq!(k["notified"]["mailed"], 0);
    assert!(
        k["notified"]["note"]
            .as_str()
            .unwrap()
            .contains("nobody was mailed"),
        "{k}"
    );
    let mail = mailer(&s);
    let (st, k) = create(
        &s,
        &admin,
        "acme",
        json!({"role": "auditor", "label": "external auditor"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{k}");
    let token = k["key"].as_str().unwrap();
    let id = k["id"].as_str().unwrap();
    assert_eq!(k["notified"]["mailed"], 1, "{k}");
    assert!(k["notified"].get("note").is_none(), "{k}");
    let event = k["notified"]["event"].as_str().unwrap();

    // The outbox event: ids, role, who made it; never the key.
    let mut tx = s.store().read().await.unwrap();
    let out: Vec<_> = tx
        .outbox("acme")
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.event == "key.created")
        .collect();
    drop(tx);
    // The harness's operator key, the admin key, the ingest key and this one.
    assert_eq!(out.len(), 4);
    let row = out.iter().find(|o| o.id == event).unwrap();
    assert_eq!(row.recipient.as_deref(), Some("administrators"));
    let payload: Value = serde_json::from_str(&row.payload).unwrap();
    assert_eq!(payload["key_id"], id);
    assert_eq!(payload["role"], "auditor");
    assert_eq!(payload["created_by"], key_id(&admin));
    assert!(!row.payload.contains(&secret(token)), "no secret");
    assert!(row.sealed.is_none());
    // It is a delivery of the tenant's own, to its administrators' endpoint.
    let (_, list) = s.get(&op, "/v1/tenants/acme/deliveries").await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == event && d["recipient"] == "administrators"),
        "{list}"
    );
    let (st, r) = s.get(&op, "/v1/tenants/acme/recipients").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        r.as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == "administrators"),
        "{r}"
    );
    // The e-mail to the policy's contact: the key id and role, never the key.
    let emls: Vec<String> = std::fs::read_dir(&mail)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(emls.len(), 1);
    let eml = emls[0].replace("=\r\n", "").replace("\r\n", "\n");
    assert!(eml.contains("To: privacy@test.example"), "{eml}");
    assert!(eml.contains(&format!("key id: {id}")), "{eml}");
    assert!(eml.contains("role: auditor"), "{eml}");
    assert!(
        eml.contains(&format!("vow key revoke --tenant acme {id}")),
        "{eml}"
    );
    assert!(!eml.contains(&secret(token)), "{eml}");
    // The audit entry records how many contacts there were.
    let entry = audit(&s, "key.create")
        .await
        .into_iter()
        .find(|(_, _, d)| d["key_id"] == id)
        .unwrap();
    assert_eq!(
        (entry.2["contacts"].as_u64(), entry.2["event"].as_str()),
        (Some(1), Some(event))
    );

    // A tenant whose policy names no e-mail contact: nobody is mailed, and it is said.
    let bare = crate::harness::POLICY.replace(
        "  - channel: email\n    address: privacy@test.example\n",
        "  - channel: phone\n    address: \"+1 306 555 0100\"\n",
    );
    s.tenant_with("quiet", "controller", &bare).await;
    let (st, k) = create(&s, &s.admin, "quiet", json!({"role": "auditor"})).await;
    assert_eq!(st, StatusCode::CREATED, "{k}");
    assert_eq!(k["notified"]["mailed"], 0);
    assert!(
        k["notified"]["note"]
            .as_str()
            .unwrap()
            .contains("names no e-mail contact"),
        "{k}"
    );
    assert!(
        k["notified"]["event"].is_string(),
        "still an outbox event: {k}"
    );
    assert_eq!(std::fs::read_dir(&mail).unwrap().count(), 1);
}

#[tokio::test]
async fn an_operator_reads_values_only_for_a_purpose_or_a_request_being_fulfilled() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    let bob = s
        .panelist(&op, "acme", "bob@example.org", "Bob Marsh")
        .await;
    let history = |who: &str, query: &str| {
        let path = format!("/v1/tenants/acme/subjects/{who}/history{query}");
        let s = &s;
        let op = op.clone();
        async move { s.get(&op, &path).await }
    };
    // Neither: a clear problem, no values.
    let (st, p) = history(&ada, "").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/purpose");
    assert!(!p.to_string().contains("Ada"));
    let (st, _) = history(&ada, "?purpose=research&request=x").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // A purpose: the decision function decides; only what the purpose may use.
    let (st, h) = history(&ada, "?purpose=research").await;
    assert_eq!(st, StatusCode::OK, "{h}");
    let mut cats: Vec<&str> = h["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["category"].as_str().unwrap())
        .collect();
    cats.sort_unstable();
    assert_eq!(cats, ["user.contact.email", "user.name"]);
    let (st, h) = history(&ada, "?purpose=research&categories=user.name").await;
    assert_eq!(st, StatusCode::OK, "{h}");
    assert_eq!(h["fields"].as_array().unwrap().len(), 1);
    // No consent to marketing: refused with the reasons, and recorded.
    let (st, p) = history(&ada, "?purpose=marketing.email").await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    assert_eq!(reasons(&p), ["no_consent"]);
    let (st, p) = history(&ada, "?purpose=sale").await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    assert!(
        reasons(&p).contains(&"purpose_forbidden".to_string()),
        "{p}"
    );
    assert!(!p.to_string().contains("Ada"));
    let reads = audit(&s, "read.history").await;
    assert_eq!(reads.len(), 2);
    assert_eq!(reads[0].1.as_deref(), Some("research"));
    assert_eq!(reads[0].2["ground"], "purpose");
    let refused = audit(&s, "read.refused").await;
    assert!(
        refused
            .iter()
            .any(|(_, p, d)| p.as_deref() == Some("marketing.email") && d["history"] == true),
        "{refused:?}"
    );

    // A request: an access request about Ada, verified, grounds a read of every version.
    let (st, r) = s
        .post(
            &op,
            "/v1/tenants/acme/requests",
            json!({"type": "access", "channel": "email",
                   "identifiers": {"email": "ada@example.org"}, "birth_date": "1990-01-31"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["state"], "verified", "{r}");
    let req = r["id"].as_str().unwrap().to_string();
    let (st, h) = history(&ada, &format!("?request={req}")).await;
    assert_eq!(st, StatusCode::OK, "{h}");
    assert_eq!(h["fields"].as_array().unwrap().len(), 2);
    let last = audit(&s, "read.history").await.pop().unwrap();
    assert_eq!(last.1, None);
    assert_eq!(
        (last.2["ground"].as_str(), last.2["request"].as_str()),
        (Some("request"), Some(req.as_str()))
    );
    assert_eq!(last.2["request_type"], "access");
    // Not about Bob, …
    let (st, p) = history(&bob, &format!("?request={req}")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/request");
    assert!(!p.to_string().contains("Bob"));
    // … not once fulfilled, and never an unknown request.
    let (st, r) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{req}/fulfil"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let (st, p) = history(&ada, &format!("?request={req}")).await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    let (st, _) = history(&ada, "?request=no-such-request").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(
        audit(&s, "read.history").await.len(),
        3,
        "refusals return nothing"
    );
}

#[tokio::test]
async fn an_expired_key_is_refused_with_key_expired_and_keys_it_made_expire_with_it() {
    let (s, clock) = Server::start_clocked(crate::harness::TODAY).await;
    s.tenant("acme").await;
    let (st, p) = create(
        &s,
        &s.admin,
        "acme",
        json!({"role": "admin", "expires_at": "2026-11-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/expires_at");
    let (st, k) = create(
        &s,
        &s.admin,
        "acme",
        json!({"role": "admin", "expires_in": "1h"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{k}");
    assert_eq!(k["expires_at"], "2026-11-06T11:00:00.000Z");
    let admin = k["key"].as_str().unwrap().to_string();
    // A key it makes expires no later than itself, whatever it asks.
    let (st, made) = create(
        &s,
        &admin,
        "acme",
        json!({"role": "auditor", "expires_in": "30d"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{made}");
    assert_eq!(made["expires_at"], "2026-11-06T11:00:00.000Z");
    let (st, made) = create(&s, &admin, "acme", json!({"role": "ingest"})).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(made["expires_at"], "2026-11-06T11:00:00.000Z");
    let auditor = made["key"].as_str().unwrap().to_string();
    let listed = s
        .engine
        .api_keys(
            &vow_engine::Actor::local("test"),
            Some(&"acme".parse().unwrap()),
        )
        .await
        .unwrap();
    let k = listed.iter().find(|k| k.id == key_id(&admin)).unwrap();
    assert_eq!(k.expires_at.as_deref(), Some("2026-11-06T11:00:00.000Z"));
    assert_eq!(k.created_by.as_deref(), Some(key_id(&s.admin).as_str()));

    let (st, _) = s.get(&admin, "/v1/tenants/acme/policy").await;
    assert_eq!(st, StatusCode::OK);
    clock.advance(jiff::SignedDuration::from_mins(61));
    for key in [&admin, &auditor] {
        let (st, p) = s.get(key, "/v1/tenants/acme/policy").await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{p}");
        assert_eq!(p["code"], "key_expired");
    }
    // Recorded as a failed authentication, with the key id.
    let (_, events) = s.get(&s.admin, "/v1/security-events").await;
    let e = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key_id"] == key_id(&admin))
        .unwrap();
    assert_eq!(
        (e["kind"].as_str(), e["reason"].as_str()),
        (Some("authentication_failed"), Some("key_expired"))
    );
}

/// Revoked on one server, refused by the other from its very next request.
async fn revocation_holds_on_every_server_at_once(backend: Backend) {
    let Some(s) = Server::start_on(backend).await else {
        return;
    };
    let op = s.tenant("acme").await;
    let admin = s.key("acme", "admin", None).await;
    let (twin, twin_engine) = s.twin().await;
    let client = reqwest::Client::new();
    let on_twin = |key: String| {
        let req = client
            .get(format!("{twin}/v1/tenants/acme/policy"))
            .bearer_auth(key)
            .send();
        async move { req.await.unwrap().status() }
    };
    // Both servers know the key (and would have cached it before).
    for _ in 0..3 {
        assert_eq!(on_twin(op.clone()).await, StatusCode::OK);
        let (st, _) = s.get(&op, "/v1/tenants/acme/policy").await;
        assert_eq!(st, StatusCode::OK);
    }
    let (st, _) = s
        .call(
            Method::DELETE,
            &admin,
            &format!("/v1/tenants/acme/keys/{}", key_id(&op)),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(on_twin(op.clone()).await, StatusCode::UNAUTHORIZED);
    let (st, _) = s.get(&op, "/v1/tenants/acme/policy").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // And the other way round.
    let (st, _) = client
        .delete(format!("{twin}/v1/tenants/acme/keys/{}", key_id(&admin)))
        .bearer_auth(&s.admin)
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.get(&admin, "/v1/tenants/acme/policy").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    twin_engine.shutdown().await;
    s.drop_db().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revocation_holds_on_every_server_at_once_on_one_sqlite_file() {
    revocation_holds_on_every_server_at_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revocation_holds_on_every_server_at_once_on_postgres() {
    revocation_holds_on_every_server_at_once(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_forbidden_and_cross_tenant_attempts_are_security_events_an_auditor_lists() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let other = s.tenant("other").await;
    let admin = s.key("acme", "admin", None).await;
    let ingest = s.key("acme", "ingest", None).await;
    let auditor = s.key("acme", "auditor", None).await;
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    let revoked = s.key("acme", "ingest", None).await;
    let (st, _) = s
        .call(
            Method::DELETE,
            &admin,
            &format!("/v1/tenants/acme/keys/{}", key_id(&revoked)),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let unknown = format!("vow_zzzzzzzzzzzz_{}", secret(&op));
    let wrong = format!("vow_{}_{}", key_id(&op), secret(&ingest));
    let policy = "/v1/tenants/acme/policy";
    // Refused keys: unknown, wrong secret, revoked, malformed.
    for (key, status) in [
        (&unknown, StatusCode::UNAUTHORIZED),
        (&wrong, StatusCode::UNAUTHORIZED),
        (&revoked, StatusCode::UNAUTHORIZED),
        (&"not-a-key".to_string(), StatusCode::UNAUTHORIZED),
    ] {
        let (st, _) = s.get(key, policy).await;
        assert_eq!(st, status);
    }
    // Forbidden: a role without the capability, a grant the table refuses; the query
    // holds an e-mail address that must not be recorded.
    let (st, _) = s
        .get(&auditor, "/v1/tenants/acme/subjects?email=ada@example.org")
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s
        .get(
            &ingest,
            &format!("/v1/tenants/acme/subjects/{ada}/history?purpose=research"),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = create(&s, &admin, "acme", json!({"role": "operator"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Cross-tenant: another tenant's operator on acme's paths.
    let (st, _) = s
        .get(&other, "/v1/tenants/acme/subjects?email=ada@example.org")
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // A refusal the policy gives (not a role's) is not a security event.
    let (st, _) = s
        .get(
            &op,
            &format!("/v1/tenants/acme/subjects/{ada}/history?purpose=sale"),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Acme's auditor lists them.
    let (st, events) = s.get(&auditor, "/v1/tenants/acme/security-events").await;
    assert_eq!(st, StatusCode::OK, "{events}");
    let seen: Vec<(String, String, String, String)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["reason"].as_str().unwrap().to_string(),
                e["key_id"].as_str().unwrap_or("-").to_string(),
                format!(
                    "{} {}",
                    e["method"].as_str().unwrap(),
                    e["route"].as_str().unwrap()
                ),
            )
        })
        .rev()
        .collect();
    let row = |k: &str, r: &str, id: &str, route: &str| {
        (
            k.to_string(),
            r.to_string(),
            id.to_string(),
            route.to_string(),
        )
    };
    assert_eq!(
        seen,
        [
            row(
                "authentication_failed",
                "unknown_key",
                "zzzzzzzzzzzz",
                "GET /v1/tenants/{t}/policy"
            ),
            row(
                "authentication_failed",
                "wrong_secret",
                &key_id(&op),
                "GET /v1/tenants/{t}/policy"
            ),
            row(
                "authentication_failed",
                "key_revoked",
                &key_id(&revoked),
                "GET /v1/tenants/{t}/policy"
            ),
            row(
                "authentication_failed",
                "malformed_key",
                "-",
                "GET /v1/tenants/{t}/policy"
            ),
            row(
                "forbidden",
                "forbidden",
                &key_id(&auditor),
                "GET /v1/tenants/{t}/subjects"
            ),
            row(
                "forbidden",
                "forbidden",
                &key_id(&ingest),
                "GET /v1/tenants/{t}/subjects/{s}/history"
            ),
            row(
                "forbidden",
                "grant_not_allowed",
                &key_id(&admin),
                "POST /v1/tenants/{t}/keys"
            ),
            row(
                "cross_tenant",
                "other_tenant",
                &key_id(&other),
                "GET /v1/tenants/{t}/subjects"
            ),
        ]
    );
    // Acme's listing does not name the other tenant; the other's does not name acme.
    let cross = &events[0];
    assert_eq!(cross["tenant"], "acme");
    assert!(cross.get("key_tenant").is_none(), "{cross}");
    // No secret, no identifier, no subject id anywhere.
    let all = events.to_string();
    for needle in [
        secret(&op),
        secret(&ingest),
        secret(&revoked),
        "ada@".into(),
        ada.clone(),
    ] {
        assert!(!all.contains(&needle), "{needle} in {all}");
    }
    let (_, theirs) = s.get(&s.admin, "/v1/tenants/other/security-events").await;
    assert_eq!(theirs.as_array().unwrap().len(), 1, "{theirs}");
    assert_eq!(theirs[0]["key_tenant"], "other");
    assert!(theirs[0].get("tenant").is_none(), "{theirs}");
    // Every tenant's: the global admin only. Operators and other tenants' keys: no.
    let (st, everything) = s
        .get(&s.admin, "/v1/security-events?since=1h&limit=1000")
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(everything.as_array().unwrap().len() >= 8, "{everything}");
    let (st, _) = s.get(&auditor, "/v1/security-events").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s.get(&op, "/v1/tenants/acme/security-events").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, p) = s
        .get(&auditor, "/v1/tenants/acme/security-events?since=yesterday")
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");

    // Flooding with one key records at most its share a minute.
    let flood = format!("vow_yyyyyyyyyyyy_{}", secret(&op));
    for _ in 0..25 {
        let (st, _) = s.get(&flood, policy).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    let (_, events) = s.get(&s.admin, "/v1/security-events?limit=1000").await;
    let flooded = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["key_id"] == "yyyyyyyyyyyy")
        .count();
    assert_eq!(flooded, 10);

    // The command line lists them too, from the same store.
    let d = s.data_dir().to_str().unwrap().to_string();
    let o = tokio::task::spawn_blocking(move || {
        vow(&[
            "security", "events", "--data", &d, "--tenant", "acme", "--output", "json",
        ])
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let listed: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(listed.as_array().unwrap().len() >= 8, "{listed}");
    assert!(!text(&o).contains(&secret(&op)));
    // In the OpenAPI document.
    let (_, doc) = s.get(&auditor, "/openapi.json").await;
    for p in ["/v1/security-events", "/v1/tenants/{t}/security-events"] {
        assert!(doc["paths"][p]["get"].is_object(), "{p}");
    }
}
