//! Systems Vow cannot query (issue 11): an `http` connection. Vow posts each job to
//! the system, signed with the connection's secret; the system answers later, signed,
//! at the job's callback. A small receiver here plays the system: it checks every
//! signature with the secret the connection's PUT answered, records what it was sent
//! and answers as the test tells it to.

use crate::cli::{cli_tenant, text, vow};
use crate::harness::{Server, TODAY};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use vow_core::webhook::NetAllow;
use vow_core::{Clock, FixedClock};
use vow_crypto::WebhookSecret;

const SHOP_POLICY: &str = include_str!("../../../../examples/shop/policy.yaml");

const CRM: &str = "\
dataset:
  - fides_key: crm
    name: The CRM, hosted elsewhere
    collections:
      - name: contacts
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta:
              identity: email
          - name: name
            data_categories: [user.name]
          - name: loyalty
            data_categories: [user.behavior]
      - name: tickets
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta:
              identity: email
          - name: subject
            data_categories: [user.name]
";

#[derive(Clone, Default)]
struct Receiver {
    /// The connection's secret, once the PUT answered it.
    secret: Arc<Mutex<Option<WebhookSecret>>>,
    /// Every message whose signature held.
    messages: Arc<Mutex<Vec<Value>>>,
    /// Messages whose signature did not hold.
    forged: Arc<Mutex<usize>>,
    /// The statuses to answer with, in turn; 200 when none is left.
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> AxStatus {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ts: i64 = h("webhook-timestamp").parse().unwrap_or(0);
    let ok = r
        .secret
        .lock()
        .unwrap()
        .as_ref()
        .is_some_and(|s| s.verify(h("webhook-id"), ts, &body, h("webhook-signature")));
    if !ok {
        *r.forged.lock().unwrap() += 1;
        return AxStatus::UNAUTHORIZED;
    }
    r.messages
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap());
    let status = r.statuses.lock().unwrap().pop_front().unwrap_or(200);
    AxStatus::from_u16(status).unwrap()
}

/// The receiver on 127.0.0.1, and its URL.
async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    let app = axum::Router::new()
        .route("/vow", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (r, format!("http://{addr}/vow"))
}

struct Crm {
    s: Server,
    clock: Arc<FixedClock>,
    op: String,
    r: Receiver,
    /// The connection's secret as the PUT answered it.
    secret: String,
}

/// A shop tenant with connection `crm` (kind http) to the receiver and dataset `crm`.
async fn crm() -> Crm {
    let (s, clock) = Server::start_clocked(TODAY).await;
    let op = s.tenant_with("shop", "controller", SHOP_POLICY).await;
    let (r, url) = receiver().await;
    // Loopback is refused unless the server allows it, as for webhooks.
    let (st, p) = s
        .call(
            reqwest::Method::PUT,
            &op,
            "/v1/tenants/shop/connections/crm",
            Some(json!({"url": url})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/url", "{p}");
    s.engine.set_webhook_net(NetAllow {
        loopback: true,
        private: false,
    });
    let (st, c) = s
        .call(
            reqwest::Method::PUT,
            &op,
            "/v1/tenants/shop/connections/crm",
            Some(json!({"url": url})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["kind"], "http", "{c}");
    let secret = c["secret"].as_str().expect("the secret, once").to_string();
    assert!(secret.starts_with("whsec_"), "{c}");
    *r.secret.lock().unwrap() = Some(WebhookSecret::parse(&secret).unwrap());
    // Never again: not listed, not on a re-PUT (which keeps it).
    let (_, list) = s.get(&op, "/v1/tenants/shop/connections").await;
    assert!(!list.to_string().contains(&secret), "{list}");
    assert_eq!(list[0]["kind"], "http", "{list}");
    let (st, again) = s
        .call(
            reqwest::Method::PUT,
            &op,
            "/v1/tenants/shop/connections/crm",
            Some(json!({"url": url})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert!(again.get("secret").is_none(), "{again}");
    // The test: a signed ping.
    let (st, t) = s
        .post(&op, "/v1/tenants/shop/connections/crm/test", json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(t["reachable"], true, "{t}");
    assert_eq!(
        r.messages.lock().unwrap().pop(),
        Some(json!({"type": "vow.ping"}))
    );
    // The dataset registers without a live schema, and the answer says so.
    let res = s
        .client
        .post(format!(
            "{}/v1/tenants/shop/datasets?connection=crm",
            s.base
        ))
        .bearer_auth(&op)
        .header("content-type", "application/yaml")
        .body(CRM)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let d: Value = res.json().await.unwrap();
    assert_eq!(d[0]["collections"], json!(["contacts", "tickets"]), "{d}");
    assert!(
        d[0]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "no_live_schema"),
        "{d}"
    );
    Crm {
        s,
        clock,
        op,
        r,
        secret,
    }
}

impl Crm {
    async fn person(&self, email: &str) {
        let (st, b) = self
            .s
            .post(
                &self.op,
                "/v1/tenants/shop/subjects",
                json!({"identifiers": {"email": email},
                       "fields": [{"category": "user.contact.email", "value": email, "purposes": ["orders"], "source": "checkout"}]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}");
    }

    /// Submit and fulfil a request: it waits on its job.
    async fn request(&self, body: Value) -> String {
        let (st, r) = self
            .s
            .post(&self.op, "/v1/tenants/shop/requests", body)
            .await;
        assert_eq!(st, StatusCode::CREATED, "{r}");
        let id = r["id"].as_str().unwrap().to_string();
        let (st, r) = self
            .s
            .post(
                &self.op,
                &format!("/v1/tenants/shop/requests/{id}/fulfil"),
                json!({}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{r}");
        assert_eq!(r["state"], "in_progress", "{r}");
        id
    }

    async fn run(&self) -> Value {
        let (st, r) = self
            .s
            .post(&self.op, "/v1/tenants/shop/connector-jobs/run", json!({}))
            .await;
        assert_eq!(st, StatusCode::OK, "{r}");
        r
    }

    async fn job(&self, request: &str) -> Value {
        let (st, j) = self
            .s
            .get(
                &self.op,
                &format!("/v1/tenants/shop/requests/{request}/connector-jobs"),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{j}");
        j[0].clone()
    }

    async fn get_request(&self, id: &str) -> Value {
        let (st, r) = self
            .s
            .get(&self.op, &format!("/v1/tenants/shop/requests/{id}"))
            .await;
        assert_eq!(st, StatusCode::OK, "{r}");
        r
    }

    /// Post an answer to job `job`'s callback (on `tenant`), signed with `secret`
    /// at the engine's time plus `skew` seconds.
    async fn answer_as(
        &self,
        tenant: &str,
        job: &str,
        secret: &str,
        skew: i64,
        body: &Value,
    ) -> (StatusCode, Value) {
        let body = serde_json::to_vec(body).unwrap();
        let ts = self.clock.now().as_second() + skew;
        let sig = WebhookSecret::parse(secret).unwrap().sign(job, ts, &body);
        let res = self
            .s
            .client
            .post(format!(
                "{}/v1/tenants/{tenant}/connector-jobs/{job}/result",
                self.s.base
            ))
            .header("content-type", "application/json")
            .header("webhook-id", job)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sig)
            .body(body)
            .send()
            .await
            .unwrap();
        let st = res.status();
        (st, res.json().await.unwrap_or(Value::Null))
    }

    async fn answer(&self, job: &str, body: Value) -> (StatusCode, Value) {
        self.answer_as("shop", job, &self.secret, 0, &body).await
    }

    fn sent(&self) -> Vec<Value> {
        self.r.messages.lock().unwrap().clone()
    }
}

async fn audit_actions(s: &Server) -> Vec<(String, String)> {
    let mut tx = s.store().read().await.unwrap();
    tx.audit_page(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.entry.action.clone(), a.entry.detail.to_string()))
        .collect()
}

#[tokio::test]
async fn without_an_outbound_client_nothing_is_posted_and_the_job_waits() {
    let c = crm().await;
    let email = "bo@crm.test";
    c.person(email).await;
    let bare = c.s.engine_without_outbound(c.clock.clone()).await;
    bare.set_webhook_net(NetAllow {
        loopback: true,
        private: false,
    });
    let actor = vow_engine::Actor::local("test");
    let shop = vow_core::TenantId::new("shop").unwrap();
    let check = bare.test_connection(&actor, &shop, "crm").await.unwrap();
    assert!(!check.reachable, "{check:?}");
    assert_eq!(
        check.error.as_ref().unwrap().code,
        "no_outbound",
        "{check:?}"
    );
    assert!(c.sent().is_empty(), "no ping went out");
    let id = c
        .request(json!({"type": "access", "channel": "web", "identifiers": {"email": email}}))
        .await;
    let report = bare
        .run_connector_jobs(&actor, &shop, "bare-runner")
        .await
        .unwrap();
    assert_eq!((report.done, report.failed), (0, 0), "{report:?}");
    assert!(c.sent().is_empty(), "nothing was posted");
    assert_eq!(c.job(&id).await["state"], "pending");
    // Put back for a minute; then a process with an outbound client sends it.
    c.clock.advance(jiff::SignedDuration::from_secs(61));
    c.run().await;
    assert_eq!(c.job(&id).await["state"], "waiting");
    assert_eq!(c.sent().len(), 1, "{:?}", c.sent());
}

#[tokio::test]
async fn an_access_request_is_answered_by_the_system_and_lands_in_the_package() {
    let c = crm().await;
    let email = "ada@crm.test";
    c.person(email).await;
    let id = c
        .request(json!({"type": "access", "channel": "web", "identifiers": {"email": email}}))
        .await;
    let report = c.run().await;
    assert_eq!(report["claimed"], 1, "{report}");
    let job = c.job(&id).await;
    assert_eq!(job["state"], "waiting", "{job}");
    let job_id = job["id"].as_str().unwrap().to_string();
    // What the system was sent: signed (the receiver checked), with the e-mail.
    let sent = c.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    assert_eq!(m["type"], "vow.connector_job");
    assert_eq!(m["job"], job_id.as_str());
    assert_eq!(m["request"], id.as_str());
    assert_eq!(m["tenant"], "shop");
    assert_eq!(m["kind"], "access");
    assert_eq!(m["dataset"], "crm");
    assert_eq!(m["identities"], json!({"email": email}), "{m}");
    assert!(
        m["callback"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v1/tenants/shop/connector-jobs/{job_id}/result")),
        "{m}"
    );
    assert!(
        m["respond_by"].as_str().unwrap().starts_with("2026-12-06"),
        "{m}"
    );
    assert_eq!(*c.r.forged.lock().unwrap(), 0);
    // Waiting is not finished: another run sends nothing again.
    c.run().await;
    assert_eq!(c.sent().len(), 1);
    assert_eq!(c.get_request(&id).await["state"], "in_progress");
    // The answer.
    let (st, j) = c
        .answer(
            &job_id,
            json!({"status": "done", "found": {
                "contacts": [{"email": email, "name": "Ada Lovelace", "loyalty": "gold"}],
                "tickets": []}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{j}");
    assert_eq!(j["state"], "done", "{j}");
    let r = c.get_request(&id).await;
    assert_eq!(r["state"], "fulfilled", "{r}");
    assert_eq!(r["outcome"]["external"][0]["dataset"], "crm", "{r}");
    let (st, p) =
        c.s.get(&c.op, &format!("/v1/tenants/shop/requests/{id}/export"))
            .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let crm = &p["external"][0];
    assert_eq!(crm["dataset"], "crm", "{p}");
    let contacts = crm["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["collection"] == "contacts")
        .unwrap_or_else(|| panic!("contacts: {p}"));
    let row = contacts["rows"][0].as_array().unwrap();
    let name = row.iter().find(|f| f["field"] == "name").unwrap();
    assert_eq!(name["value"], "Ada Lovelace");
    assert_eq!(name["categories"], json!(["user.name"]));
    let explained = p["summary"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "user.behavior")
        .unwrap_or_else(|| panic!("user.behavior is explained: {p}"));
    assert!(explained["means"].as_str().is_some(), "{p}");
    // Audited with counts, never values.
    let audit = audit_actions(&c.s).await;
    let sent_entry = audit
        .iter()
        .find(|(a, _)| a == "connector.http.sent")
        .expect("the post is audited");
    assert!(sent_entry.1.contains("200"), "{sent_entry:?}");
    let result = audit
        .iter()
        .find(|(a, _)| a == "connector.http.result")
        .expect("the answer is audited");
    assert!(result.1.contains("contacts"), "{result:?}");
    for (_, d) in &audit {
        assert!(!d.contains(email) && !d.contains("Ada Lovelace"), "{d}");
    }
}

#[tokio::test]
async fn an_erasure_is_done_when_the_system_says_what_it_changed() {
    let c = crm().await;
    let email = "bob@crm.test";
    c.person(email).await;
    let id = c
        .request(json!({"type": "delete", "channel": "web", "identifiers": {"email": email}}))
        .await;
    // The system cannot be asked what it would change: a dry run leaves it out.
    let (st, plan) =
        c.s.post(
            &c.op,
            &format!("/v1/tenants/shop/requests/{id}/connector-dry-run"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{plan}");
    assert_eq!(plan, json!([]));
    assert!(c.sent().is_empty(), "a dry run posts nothing");
    c.run().await;
    let job = c.job(&id).await;
    assert_eq!(job["state"], "waiting", "{job}");
    let m = &c.sent()[0];
    assert_eq!(m["kind"], "erasure", "{m}");
    assert_eq!(m["held_categories"], json!([]), "{m}");
    assert!(m.get("corrections").is_none(), "{m}");
    let (st, j) = c
        .answer(
            job["id"].as_str().unwrap(),
            json!({"status": "done", "changed": {"contacts": 1, "tickets": 3}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{j}");
    let r = c.get_request(&id).await;
    assert_eq!(r["state"], "fulfilled", "{r}");
    let ext = &r["outcome"]["external"][0];
    assert_eq!(ext["dataset"], "crm", "{r}");
    let rows: Vec<(String, i64)> = ext["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["collection"].as_str().unwrap().to_string(),
                x["rows"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(rows.contains(&("contacts".into(), 1)), "{r}");
    assert!(rows.contains(&("tickets".into(), 3)), "{r}");
}

#[tokio::test]
async fn a_system_that_refuses_the_post_gets_it_again_later() {
    let c = crm().await;
    let email = "cy@crm.test";
    c.person(email).await;
    c.r.statuses.lock().unwrap().push_back(500);
    let id = c
        .request(json!({"type": "access", "channel": "web", "identifiers": {"email": email}}))
        .await;
    c.run().await;
    let job = c.job(&id).await;
    assert_eq!(job["state"], "pending", "{job}");
    assert_eq!(job["attempts"], 1, "{job}");
    assert_eq!(c.sent().len(), 1);
    // Not before its next attempt's time.
    let report = c.run().await;
    assert_eq!(report["claimed"], 0, "{report}");
    c.clock.advance(jiff::SignedDuration::from_mins(1));
    c.run().await;
    let job = c.job(&id).await;
    assert_eq!(job["state"], "waiting", "{job}");
    assert_eq!(job["attempts"], 2, "{job}");
    let sent = c.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["job"], sent[1]["job"], "the same job, the same id");
    let audit = audit_actions(&c.s).await;
    let posts: Vec<&String> = audit
        .iter()
        .filter(|(a, _)| a == "connector.http.sent")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(posts[0].contains("500"), "{posts:?}");
}

#[tokio::test]
async fn answers_must_be_signed_fit_the_dataset_and_come_once() {
    let c = crm().await;
    let email = "di@crm.test";
    c.person(email).await;
    let id = c
        .request(json!({"type": "access", "channel": "web", "identifiers": {"email": email}}))
        .await;
    c.run().await;
    let job = c.job(&id).await["id"].as_str().unwrap().to_string();
    let good = json!({"status": "done", "found": {"contacts": [{"email": email}]}});
    // A signature with another secret, a stale one, none at all: 401.
    let other = WebhookSecret::generate().unwrap().to_text().to_string();
    let (st, p) = c.answer_as("shop", &job, &other, 0, &good).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{p}");
    assert_eq!(p["code"], "unauthenticated", "{p}");
    let (st, p) = c.answer_as("shop", &job, &c.secret, -600, &good).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{p}");
    let res =
        c.s.client
            .post(format!(
                "{}/v1/tenants/shop/connector-jobs/{job}/result",
                c.s.base
            ))
            .json(&good)
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // An API key is no substitute for the signature.
    let res =
        c.s.client
            .post(format!(
                "{}/v1/tenants/shop/connector-jobs/{job}/result",
                c.s.base
            ))
            .bearer_auth(&c.op)
            .json(&good)
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // An unknown job, or the job under another tenant: the same 404.
    let (st, p) = c
        .answer_as(
            "shop",
            "0190aaaa-0000-7000-8000-000000000000",
            &c.secret,
            0,
            &good,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{p}");
    c.s.tenant("other").await;
    let (st, q) = c.answer_as("other", &job, &c.secret, 0, &good).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{q}");
    assert_eq!(p["detail"], q["detail"]);
    // A field the dataset does not declare: 422 naming where.
    let (st, p) = c
        .answer(
            &job,
            json!({"status": "done", "found": {"contacts": [{"email": email, "card": "4111"}]}}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["code"], "invalid_result", "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/found/contacts/0/card", "{p}");
    assert!(!p.to_string().contains("4111"), "never the value: {p}");
    let (st, p) = c
        .answer(&job, json!({"status": "done", "found": {"payments": []}}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/found/payments", "{p}");
    assert_eq!(c.job(&id).await["state"], "waiting");
    // The good answer, then the same again: 409.
    let (st, p) = c.answer(&job, good.clone()).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (st, p) = c.answer(&job, good).await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
}

#[tokio::test]
async fn a_system_that_fails_leaves_the_request_partially_fulfilled() {
    let c = crm().await;
    let email = "eve@crm.test";
    c.person(email).await;
    let id = c
        .request(json!({"type": "access", "channel": "web", "identifiers": {"email": email}}))
        .await;
    c.run().await;
    let job = c.job(&id).await["id"].as_str().unwrap().to_string();
    let (st, j) = c
        .answer(
            &job,
            json!({"status": "failed", "error": "the CRM is in maintenance"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{j}");
    assert_eq!(j["state"], "failed", "{j}");
    assert!(j["error"].as_str().unwrap().contains("maintenance"), "{j}");
    let r = c.get_request(&id).await;
    assert_eq!(r["state"], "partially_fulfilled", "{r}");
    assert!(r["outcome"].to_string().contains("crm"), "{r}");
}

#[tokio::test]
async fn a_system_that_never_answers_fails_the_job_after_thirty_days() {
    let c = crm().await;
    let email = "fay@crm.test";
    c.person(email).await;
    let id = c
        .request(json!({"type": "access", "channel": "web", "identifiers": {"email": email}}))
        .await;
    c.run().await;
    assert_eq!(c.job(&id).await["state"], "waiting");
    c.clock.advance(jiff::SignedDuration::from_hours(24 * 31));
    let report = c.run().await;
    assert_eq!(report["failed"], 1, "{report}");
    let job = c.job(&id).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert!(
        job["error"].as_str().unwrap().contains("no answer by"),
        "{job}"
    );
    assert_eq!(c.get_request(&id).await["state"], "partially_fulfilled");
}

#[tokio::test]
async fn the_secret_and_the_identity_are_sealed_at_rest() {
    let c = crm().await;
    let email = "gus.sealed@crm.test";
    c.person(email).await;
    let id = c
        .request(json!({"type": "access", "channel": "web", "identifiers": {"email": email}}))
        .await;
    c.run().await;
    let job = c.job(&id).await["id"].as_str().unwrap().to_string();
    let (st, _) = c
        .answer(
            &job,
            json!({"status": "done", "found": {"contacts": [{"email": email, "name": "Gus Sealed-Name"}]}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(c.get_request(&id).await["state"], "fulfilled");
    c.s.engine.shutdown().await;
    let mut raw = Vec::new();
    for f in ["vow.db", "vow.db-wal"] {
        if let Ok(b) = std::fs::read(c.s.data_dir().join(f)) {
            raw.extend(b);
        }
    }
    assert!(!raw.is_empty());
    let has = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    let secret_b64 = c.secret.trim_start_matches("whsec_");
    assert!(
        !has(secret_b64.as_bytes()),
        "the secret is not in the store"
    );
    assert!(!has(email.as_bytes()), "the e-mail is not in the store");
    assert!(!has(b"Gus Sealed-Name"), "nor what the system found");
}

#[test]
fn the_cli_prints_an_http_connections_secret_once() {
    let dir = tempfile::tempdir().unwrap();
    cli_tenant(dir.path());
    let d = dir.path().to_str().unwrap();
    let add = |extra: &[&str]| {
        let mut args = vec![
            "connection",
            "add",
            "--data",
            d,
            "--tenant",
            "acme",
            "--id",
            "crm",
            "--url",
            "https://crm.example/vow",
        ];
        args.extend_from_slice(extra);
        let o = vow(&args);
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let first = add(&[]);
    assert_eq!(first.matches("whsec_").count(), 1, "{first}");
    assert!(first.contains("(http)"), "{first}");
    let again = add(&[]);
    assert!(!again.contains("whsec_"), "kept, not shown: {again}");
    let rotated = add(&["--rotate-secret"]);
    assert_eq!(rotated.matches("whsec_").count(), 1, "{rotated}");
    let secret = |out: &str| {
        out.split_whitespace()
            .find(|w| w.starts_with("whsec_"))
            .unwrap()
            .to_string()
    };
    assert_ne!(secret(&first), secret(&rotated));
}

#[tokio::test]
async fn the_secret_is_resealed_when_the_tenants_key_rotates() {
    let c = crm().await;
    let report =
        c.s.engine
            .rotate_keys(
                &vow_engine::Actor::local("test"),
                &vow_core::TenantId::new("shop").unwrap(),
                |_| {},
            )
            .await
            .unwrap();
    assert!(report.rewrapped >= 1, "{report:?}");
    let mut tx = c.s.store().read().await.unwrap();
    let row = tx.connection("shop", "crm").await.unwrap().unwrap();
    drop(tx);
    assert_eq!(row.kek_version, report.to_version);
    // The system still receives signatures of the secret it was given.
    let (st, t) =
        c.s.post(&c.op, "/v1/tenants/shop/connections/crm/test", json!({}))
            .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(t["reachable"], true, "{t}");
    assert_eq!(*c.r.forged.lock().unwrap(), 0);
}

#[tokio::test]
async fn the_callback_is_in_the_openapi_document_without_a_key() {
    let s = Server::start().await;
    let doc: Value = s
        .client
        .get(format!("{}/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let op = &doc["paths"]["/v1/tenants/{t}/connector-jobs/{j}/result"]["post"];
    assert!(op.is_object(), "{}", doc["paths"]);
    assert!(op.get("security").is_none(), "signed, not keyed: {op}");
    for status in ["200", "401", "404", "409", "422"] {
        assert!(op["responses"][status].is_object(), "{status}: {op}");
    }
    let headers: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "header")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        headers,
        ["webhook-id", "webhook-timestamp", "webhook-signature"],
        "{op}"
    );
}

#[tokio::test]
async fn a_correction_carries_the_corrected_values_and_finishes_on_the_answer() {
    let c = crm().await;
    let email = "hal@crm.test";
    c.person(email).await;
    let id = c
        .request(json!({"type": "correct", "channel": "web", "identifiers": {"email": email},
                        "corrections": [{"category": "user.name", "value": "Hal Corrected", "purposes": ["orders"]}]}))
        .await;
    c.run().await;
    let m = &c.sent()[0];
    assert_eq!(m["kind"], "correction", "{m}");
    assert_eq!(
        m["corrections"],
        json!({"user.name": "Hal Corrected"}),
        "{m}"
    );
    assert!(m.get("held_categories").is_none(), "{m}");
    let job = c.job(&id).await["id"].as_str().unwrap().to_string();
    // A correction answers with what it changed, not what it found.
    let (st, p) = c
        .answer(
            &job,
            json!({"status": "done", "found": {"contacts": [{"name": "Hal Corrected"}]}}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/found", "{p}");
    let (st, p) = c
        .answer(&job, json!({"status": "done", "changed": {"contacts": 1}}))
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(c.get_request(&id).await["state"], "fulfilled");
}

#[tokio::test]
async fn a_system_that_never_takes_the_job_fails_it_at_the_webhooks_horizon() {
    let c = crm().await;
    let email = "ivy@crm.test";
    c.person(email).await;
    c.r.statuses.lock().unwrap().extend([503, 503]);
    let id = c
        .request(json!({"type": "delete", "channel": "web", "identifiers": {"email": email}}))
        .await;
    c.run().await;
    assert_eq!(c.job(&id).await["state"], "pending");
    // Three days on, the next attempt is the last.
    c.clock
        .advance(jiff::SignedDuration::from_hours(24 * 3 + 1));
    let report = c.run().await;
    assert_eq!(report["failed"], 1, "{report}");
    let job = c.job(&id).await;
    assert_eq!(job["state"], "failed", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("crm") && error.contains("HTTP 503"),
        "{error}"
    );
    assert!(!error.contains(email), "{error}");
    assert_eq!(c.sent().len(), 2);
    let r = c.get_request(&id).await;
    assert_eq!(r["state"], "partially_fulfilled", "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reaches_http_connections_through_the_guarded_client() {
    let dir = tempfile::tempdir().unwrap();
    cli_tenant(dir.path());
    let d = dir.path().to_str().unwrap().to_string();
    let (r, url) = receiver().await;
    // The CLI honours the webhooks' address allowances, from the environment here.
    let run = |args: Vec<String>, loopback: bool| async move {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_vow"))
                .args(&args)
                .env(
                    "VOW_WEBHOOKS_ALLOW_LOOPBACK",
                    if loopback { "true" } else { "false" },
                )
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let args = |a: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        v.extend(["--data", &d, "--tenant", "acme", "--id", "crm"].map(String::from));
        v
    };
    let o = run(args(&["connection", "add", "--url", &url]), true).await;
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let secret = out
        .split_whitespace()
        .find(|w| w.starts_with("whsec_"))
        .unwrap_or_else(|| panic!("{out}"));
    *r.secret.lock().unwrap() = Some(WebhookSecret::parse(secret).unwrap());
    let o = run(args(&["connection", "test", "--output", "json"]), true).await;
    assert!(o.status.success(), "{}", text(&o));
    let t: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(t["reachable"], true, "{t}");
    assert_eq!(
        r.messages.lock().unwrap().pop(),
        Some(json!({"type": "vow.ping"}))
    );
    // Without the allowance the same client refuses the loopback address.
    let o = run(args(&["connection", "test", "--output", "json"]), false).await;
    assert!(!o.status.success(), "{}", text(&o));
    let t: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(t["error"]["code"], "forbidden_address", "{t}");
    assert!(r.messages.lock().unwrap().is_empty());
    assert_eq!(*r.forged.lock().unwrap(), 0);
}
