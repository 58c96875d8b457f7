//! Propagation through signed webhooks (R12, R14; issue 4): a real HTTP receiver on
//! 127.0.0.1 verifies every Standard Webhooks signature with its own HMAC code.

use crate::harness::{Backend, Server};
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit as _, Mac as _};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vow_core::FixedClock;
use vow_core::webhook::NetAllow;
use vow_engine::Actor;
use vow_engine::obligations::webhooks::DeliveryReport;
use vow_server::webhooks::{Deliverer, deliver_pass};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Hit {
    recipient: String,
    id: String,
    valid: bool,
    status: u16,
    body: Value,
    headers: HeaderMap,
    raw: Bytes,
}

impl Hit {
    /// Would a receiver holding only `secret` (`whsec_…`) accept this delivery?
    fn verifies_with(&self, secret: &str) -> bool {
        let bytes = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        verify(&bytes, &self.headers, &self.raw)
    }

    /// How many signatures `webhook-signature` carries.
    fn signatures(&self) -> usize {
        self.headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count()
    }
}

#[derive(Default)]
struct ReceiverState {
    hits: Vec<Hit>,
    secrets: HashMap<String, Vec<u8>>,
    /// Statuses to answer, in order, before answering 200.
    script: VecDeque<u16>,
    /// When set, every request gets this status.
    always: Option<u16>,
    /// When set, every answer carries this `Retry-After`.
    retry_after: Option<String>,
}

/// A webhook receiver on 127.0.0.1: `POST /{recipient}`.
struct Receiver {
    base: String,
    state: Arc<Mutex<ReceiverState>>,
}

/// Standard Webhooks verification, written independently of Vow's signer.
fn verify(secret: &[u8], headers: &HeaderMap, body: &[u8]) -> bool {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(format!("{}.{}.", h("webhook-id"), h("webhook-timestamp")).as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    h("webhook-timestamp").parse::<i64>().is_ok()
        && h("webhook-signature").split(' ').any(|s| s == expected)
}

impl Receiver {
    async fn start() -> Receiver {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let st = state.clone();
        let app = axum::Router::new().route(
            "/{recipient}",
            axum::routing::post(
                move |Path(recipient): Path<String>, headers: HeaderMap, body: Bytes| {
                    let st = st.clone();
                    async move {
                        let mut s = st.lock().unwrap();
                        let valid = s
                            .secrets
                            .get(&recipient)
                            .is_some_and(|k| verify(k, &headers, &body));
                        let status = match s.always {
                            Some(code) => code,
                            None => s.script.pop_front().unwrap_or(200),
                        };
                        let id = headers
                            .get("webhook-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string();
                        s.hits.push(Hit {
                            recipient,
                            id,
                            valid,
                            status,
                            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                            headers: headers.clone(),
                            raw: body.clone(),
                        });
                        let mut h = HeaderMap::new();
                        if let Some(ra) = &s.retry_after {
                            h.insert("retry-after", ra.parse().unwrap());
                        }
                        (StatusCode::from_u16(status).unwrap(), h)
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            base: format!("http://{addr}"),
            state,
        }
    }

    fn hits(&self, recipient: &str) -> Vec<Hit> {
        let s = self.state.lock().unwrap();
        s.hits
            .iter()
            .filter(|h| h.recipient == recipient)
            .cloned()
            .collect()
    }

    fn script(&self, statuses: &[u16]) {
        self.state.lock().unwrap().script = statuses.iter().copied().collect();
    }

    fn retry_after(&self, value: Option<&str>) {
        self.state.lock().unwrap().retry_after = value.map(str::to_string);
    }

    fn always(&self, status: Option<u16>) {
        self.state.lock().unwrap().always = status;
    }

    /// Register `recipient`'s endpoint here through the API and keep the secret shown once.
    async fn register(&self, s: &Server, key: &str, tenant: &str, recipient: &str) -> String {
        let (st, b) = s
            .call(
                Method::PUT,
                key,
                &format!("/v1/tenants/{tenant}/recipients/{recipient}/endpoint"),
                Some(json!({"url": format!("{}/{recipient}", self.base)})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let secret = b["secret"]
            .as_str()
            .expect("a generated secret, shown once");
        let bytes = STANDARD
            .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
            .unwrap();
        assert!((24..=64).contains(&bytes.len()));
        self.state
            .lock()
            .unwrap()
            .secrets
            .insert(recipient.to_string(), bytes);
        secret.to_string()
    }
}

fn allow_loopback(s: &Server) {
    s.engine.set_webhook_net(NetAllow {
        loopback: true,
        private: false,
    });
}

async fn deliver(s: &Server, tenant: Option<&str>) -> DeliveryReport {
    let d = Deliverer::new(s.engine.webhook_net(), Duration::from_secs(10)).unwrap();
    let tenant = tenant.map(|t| vow_core::TenantId::new(t).unwrap());
    deliver_pass(&s.engine, &d, &Actor::local("test"), tenant.as_ref())
        .await
        .unwrap()
}

async fn disclose(s: &Server, key: &str, recipient: &str, purpose: &str, subject: &str) {
    let (st, d) = s
        .post(
            key,
            "/v1/tenants/acme/disclosures",
            json!({"recipient": recipient, "purpose": purpose, "categories": ["user.name"], "subjects": [subject]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    assert_eq!(d["records"].as_array().unwrap().len(), 1, "{d}");
}

async fn correct_name(s: &Server, key: &str, subject: &str, name: &str) {
    let (st, b) = s
        .patch(
            key,
            &format!("/v1/tenants/acme/subjects/{subject}"),
            json!({"fields": [
                {"category": "user.name", "value": name},
                {"category": "user.contact.email", "value": "ada.new@example.org"}
            ]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
}

/// A server on a clock that tests move, with an acme tenant; returns (server, clock, operator key).
async fn clocked() -> (Server, Arc<FixedClock>, String) {
    let clock = Arc::new(FixedClock::new(crate::harness::now()));
    let s = Server::start_with_clock(Backend::Sqlite, clock.clone())
        .await
        .unwrap();
    let op = s.tenant("acme").await;
    allow_loopback(&s);
    (s, clock, op)
}

#[tokio::test]
async fn r12_corrections_are_delivered_signed_to_the_recipients_that_had_them() {
    r12_delivery(Backend::Sqlite).await;
}

#[tokio::test]
async fn r12_delivery_on_postgres() {
    r12_delivery(Backend::Postgres).await;
}

async fn r12_delivery(backend: Backend) {
    let Some(s) = Server::start_on(backend).await else {
        return;
    };
    let op = s.tenant("acme").await;
    allow_loopback(&s);
    let rx = Receiver::start().await;
    rx.register(&s, &op, "acme", "lab-partner").await;
    rx.register(&s, &op, "acme", "payroll-co").await;
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    let bob = s
        .panelist(&op, "acme", "bob@example.org", "Bob Marsh")
        .await;
    // Ada's name goes to the lab partner; the payroll vendor has only Bob's.
    disclose(&s, &op, "lab-partner", "research", &ada).await;
    disclose(&s, &op, "payroll-co", "incentive_payment", &bob).await;
    correct_name(&s, &op, &ada, "Ada Quill-Marsh").await;

    // Every tenant at once on PostgreSQL (the claim without a tenant), one on SQLite.
    let pg = s.store().backend() == vow_store::Backend::Postgres;
    let report = deliver(&s, if pg { None } else { Some("acme") }).await;
    // Also claimed: the operator key's `key.created`, parked (no `administrators` endpoint).
    assert_eq!((report.claimed, report.delivered), (2, 1), "{report:?}");

    let lab = rx.hits("lab-partner");
    assert_eq!(lab.len(), 1, "{lab:?}");
    assert!(
        lab[0].valid,
        "the signature verifies with the lab partner's secret"
    );
    assert_eq!(lab[0].body["type"], "subject.corrected");
    assert_eq!(lab[0].body["data"]["subject"], ada.as_str());
    // Only the changed field the recipient had: the name, not the e-mail it never got.
    assert_eq!(
        lab[0].body["data"]["fields"],
        json!([{"category": "user.name", "value": "Ada Quill-Marsh"}])
    );
    assert!(
        rx.hits("payroll-co").is_empty(),
        "payroll never had Ada's data"
    );

    // The operator's view: delivered once, by the id the receiver saw.
    let (st, list) = s
        .get(&op, "/v1/tenants/acme/deliveries?state=delivered")
        .await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], lab[0].id.as_str());
    let (_, recipients) = s.get(&op, "/v1/tenants/acme/recipients").await;
    let lab_view = recipients
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "lab-partner")
        .unwrap();
    assert_eq!(lab_view["deliveries"]["delivered"], 1);
    assert!(
        lab_view["endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/lab-partner")
    );
    assert!(
        lab_view.get("secret").is_none(),
        "the secret is never shown again"
    );
    // Nothing more is due.
    assert_eq!(deliver(&s, Some("acme")).await.claimed, 0);
    s.drop_db().await;
}

#[tokio::test]
async fn webhook_receiver_fails_twice_then_succeeds_delivered_once_with_history() {
    let (s, clock, op) = clocked().await;
    let rx = Receiver::start().await;
    rx.register(&s, &op, "acme", "lab-partner").await;
    rx.script(&[500, 500]);
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    disclose(&s, &op, "lab-partner", "research", &ada).await;
    correct_name(&s, &op, &ada, "Ada Q.").await;

    let first = deliver(&s, Some("acme")).await;
    // Also claimed: the operator key's `key.created`, parked (no `administrators` endpoint).
    assert_eq!((first.claimed, first.failed), (2, 1), "{first:?}");
    let (_, pending) = s
        .get(&op, "/v1/tenants/acme/deliveries?state=pending")
        .await;
    let id = pending[0]["id"].as_str().unwrap().to_string();
    let next: jiff::Timestamp = pending[0]["next_attempt_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        next <= vow_core::Clock::now(clock.as_ref()) + jiff::SignedDuration::from_secs(30),
        "first wait at most 30 s"
    );
    // Past the longest possible wait (6 h), without sleeping.
    clock.advance(jiff::SignedDuration::from_hours(7));
    let second = deliver(&s, Some("acme")).await;
    assert_eq!((second.claimed, second.failed), (1, 1), "{second:?}");
    clock.advance(jiff::SignedDuration::from_hours(7));
    let third = deliver(&s, Some("acme")).await;
    assert_eq!((third.claimed, third.delivered), (1, 1), "{third:?}");
    clock.advance(jiff::SignedDuration::from_hours(7));
    assert_eq!(
        deliver(&s, Some("acme")).await.claimed,
        0,
        "delivered once, never again"
    );

    let hits = rx.hits("lab-partner");
    assert_eq!(
        hits.iter().map(|h| h.status).collect::<Vec<_>>(),
        [500, 500, 200]
    );
    assert!(
        hits.iter().all(|h| h.id == id && h.valid),
        "same webhook-id, signed each time"
    );
    let (st, d) = s
        .get(&op, &format!("/v1/tenants/acme/deliveries/{id}"))
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["state"], "delivered");
    assert_eq!(d["attempts"], 3);
    let history: Vec<(i64, Option<i64>)> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["attempt"].as_i64().unwrap(), a["status"].as_i64()))
        .collect();
    assert_eq!(history, [(1, Some(500)), (2, Some(500)), (3, Some(200))]);
    // The history holds no bodies or values.
    assert!(!d.to_string().contains("Ada Q."), "{d}");
}

#[tokio::test]
async fn dead_after_three_days_then_retried_from_the_api_and_delivered() {
    let (s, clock, op) = clocked().await;
    let rx = Receiver::start().await;
    rx.register(&s, &op, "acme", "lab-partner").await;
    rx.always(Some(503));
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    disclose(&s, &op, "lab-partner", "research", &ada).await;
    correct_name(&s, &op, &ada, "Ada Q.").await;
    let mut dead = 0;
    for _ in 0..20 {
        dead += deliver(&s, Some("acme")).await.dead;
        clock.advance(jiff::SignedDuration::from_hours(7));
    }
    assert_eq!(dead, 1);
    let (_, list) = s.get(&op, "/v1/tenants/acme/deliveries?state=dead").await;
    assert_eq!(list[0]["reason"], "expired", "{list}");
    let attempts = list[0]["attempts"].as_i64().unwrap();
    assert!(attempts >= 11, "retried for three days: {attempts}");
    assert_eq!(list[0]["last_error"], "http_status 503");
    let id = list[0]["id"].as_str().unwrap().to_string();
    // The receiver recovers; an operator retries.
    rx.always(None);
    let (st, r) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/deliveries/{id}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "pending");
    let report = deliver(&s, Some("acme")).await;
    assert_eq!(report.delivered, 1, "{report:?}");
    let (_, d) = s
        .get(&op, &format!("/v1/tenants/acme/deliveries/{id}"))
        .await;
    assert_eq!(d["state"], "delivered");
    assert_eq!(d["attempts"].as_i64().unwrap(), attempts + 1);
    // A delivered event cannot be retried.
    let (st, p) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/deliveries/{id}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    // The retry is in the audit chain.
    let mut tx = s.store().read().await.unwrap();
    let audit = tx.audit_page(0, 10_000).await.unwrap();
    assert!(audit.iter().any(|a| a.entry.action == "webhook.retry"));
}

#[tokio::test]
async fn an_erased_persons_corrections_are_dead_lettered_and_never_sent() {
    let (s, _clock, op) = clocked().await;
    let rx = Receiver::start().await;
    rx.register(&s, &op, "acme", "lab-partner").await;
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    disclose(&s, &op, "lab-partner", "research", &ada).await;
    correct_name(&s, &op, &ada, "Ada Secret-Newname").await;
    // Ada is erased before anything is delivered.
    let (_, r) = s
        .post(
            &op,
            "/v1/tenants/acme/requests",
            json!({"type": "delete", "channel": "web", "identifiers": {"email": "ada@example.org"}}),
        )
        .await;
    let id = r["id"].as_str().unwrap();
    let (st, r) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{id}/fulfil"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let report = deliver(&s, Some("acme")).await;
    assert_eq!((report.delivered, report.dead), (1, 1), "{report:?}");
    let hits = rx.hits("lab-partner");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].body["type"], "subject.erased");
    assert!(
        !hits
            .iter()
            .any(|h| h.body.to_string().contains("Secret-Newname"))
    );
    let (_, dead) = s.get(&op, "/v1/tenants/acme/deliveries?state=dead").await;
    assert_eq!(dead[0]["event"], "subject.corrected");
    assert_eq!(dead[0]["reason"], "subject_erased");
    assert_eq!(dead[0]["attempts"], 0, "never sent");
}

#[tokio::test]
async fn consent_withdrawals_and_new_policies_reach_the_recipients() {
    let (s, _clock, op) = clocked().await;
    let rx = Receiver::start().await;
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    disclose(&s, &op, "lab-partner", "research", &ada).await;
    // Before any endpoint: the event waits, parked, and is not lost.
    let (st, c) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/subjects/{ada}/consents"),
            json!({"purpose": "research", "action": "withdraw"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let report = deliver(&s, Some("acme")).await;
    // The withdrawal, and the operator key's `key.created` (no `administrators` endpoint).
    assert_eq!(report.no_endpoint, 2, "{report:?}");
    let (_, pending) = s
        .get(&op, "/v1/tenants/acme/deliveries?state=pending")
        .await;
    assert_eq!(pending[0]["reason"], "no_endpoint");
    rx.register(&s, &op, "acme", "lab-partner").await;
    rx.register(&s, &op, "acme", "payroll-co").await;
    let (st, b) = s.put_policy(&s.admin, "acme", crate::harness::POLICY).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let report = deliver(&s, Some("acme")).await;
    assert_eq!(report.delivered, 3, "{report:?}");
    let lab = rx.hits("lab-partner");
    let withdrawn = lab
        .iter()
        .find(|h| h.body["type"] == "consent.withdrawn")
        .expect("consent.withdrawn");
    assert!(withdrawn.valid);
    assert_eq!(withdrawn.body["data"]["subject"], ada.as_str());
    assert_eq!(withdrawn.body["data"]["purpose"], "research");
    assert!(!withdrawn.body.to_string().contains("Ada"), "no values");
    for r in ["lab-partner", "payroll-co"] {
        let p = rx
            .hits(r)
            .into_iter()
            .find(|h| h.body["type"] == "policy.published")
            .expect("policy.published");
        assert!(p.valid);
        assert_eq!(p.body["data"]["version"], 2);
        assert_eq!(p.body["data"]["effective_date"], "2026-01-01");
        assert!(!p.body.to_string().contains("http"), "link-free");
    }
    // payroll never had Ada's data: no withdrawal for it.
    assert!(
        !rx.hits("payroll-co")
            .iter()
            .any(|h| h.body["type"] == "consent.withdrawn")
    );
}

#[tokio::test]
async fn ssrf_internal_addresses_are_refused_at_registration_and_after_dns() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    for url in [
        "http://169.254.169.254/",
        "http://10.0.0.1/",
        "https://10.0.0.1/",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[fd00::1]/",
        "http://hooks.example.com/",
    ] {
        let (st, p) = s
            .call(
                Method::PUT,
                &op,
                "/v1/tenants/acme/recipients/lab-partner/endpoint",
                Some(json!({"url": url})),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{url}: {p}");
        assert_eq!(p["code"], "invalid_request");
        assert_eq!(p["errors"][0]["pointer"], "/url", "{p}");
    }
    let (_, p) = s
        .call(
            Method::PUT,
            &op,
            "/v1/tenants/acme/recipients/lab-partner/endpoint",
            Some(json!({"url": "http://169.254.169.254/latest/meta-data"})),
        )
        .await;
    assert!(
        p["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("link-local"),
        "{p}"
    );
    // A recipient the policy does not name.
    let (st, p) = s
        .call(
            Method::PUT,
            &op,
            "/v1/tenants/acme/recipients/data-broker/endpoint",
            Some(json!({"url": "https://hooks.example.com/"})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{p}");

    // A name that resolves to 127.0.0.1, registered while loopback was allowed: once it
    // is not, delivery refuses the resolved address and nothing reaches the receiver.
    allow_loopback(&s);
    let rx = Receiver::start().await;
    let port = rx.base.rsplit(':').next().unwrap().to_string();
    let (st, b) = s
        .call(
            Method::PUT,
            &op,
            "/v1/tenants/acme/recipients/lab-partner/endpoint",
            Some(json!({"url": format!("http://localhost:{port}/lab-partner")})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    s.engine.set_webhook_net(NetAllow::default());
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    disclose(&s, &op, "lab-partner", "research", &ada).await;
    correct_name(&s, &op, &ada, "Ada Q.").await;
    let report = deliver(&s, Some("acme")).await;
    // Also claimed: the operator key's `key.created`, parked (no `administrators` endpoint).
    assert_eq!((report.claimed, report.failed), (2, 1), "{report:?}");
    assert!(rx.hits("lab-partner").is_empty());
    let (_, list) = s.get(&op, "/v1/tenants/acme/deliveries").await;
    let id = list[0]["id"].as_str().unwrap();
    let (_, d) = s
        .get(&op, &format!("/v1/tenants/acme/deliveries/{id}"))
        .await;
    assert_eq!(d["history"][0]["error"], "forbidden_address", "{d}");
    assert_eq!(d["history"][0]["status"], Value::Null);
}

#[tokio::test]
async fn webhook_endpoints_are_tenant_isolated_and_role_bound() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let other = s.tenant("other").await;
    let ingest = s.key("acme", "ingest", None).await;
    allow_loopback(&s);
    let rx = Receiver::start().await;
    rx.register(&s, &op, "acme", "lab-partner").await;
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    disclose(&s, &op, "lab-partner", "research", &ada).await;
    correct_name(&s, &op, &ada, "Ada Q.").await;
    let (_, list) = s.get(&op, "/v1/tenants/acme/deliveries").await;
    let id = list[0]["id"].as_str().unwrap().to_string();
    let paths = [
        (Method::GET, "/v1/tenants/acme/recipients".to_string(), None),
        (Method::GET, "/v1/tenants/acme/deliveries".to_string(), None),
        (
            Method::GET,
            format!("/v1/tenants/acme/deliveries/{id}"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/tenants/acme/deliveries/{id}/retry"),
            Some(json!({})),
        ),
        (
            Method::PUT,
            "/v1/tenants/acme/recipients/lab-partner/endpoint".to_string(),
            Some(json!({"url": "https://hooks.example.com/"})),
        ),
    ];
    for (m, p, body) in &paths {
        let (st, b) = s.call(m.clone(), &other, p, body.clone()).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{m} {p}: {b}");
    }
    // An ingest key may not see or change deliveries.
    for (m, p, body) in &paths[1..] {
        let (st, b) = s.call(m.clone(), &ingest, p, body.clone()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{m} {p}: {b}");
    }
    // Unknown state filter: a precise problem.
    let (st, p) = s.get(&op, "/v1/tenants/acme/deliveries?state=lost").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/state");
    // The other tenant's deliveries are its own: only its operator key's announcement.
    let (st, l) = s.get(&other, "/v1/tenants/other/deliveries").await;
    assert_eq!(st, StatusCode::OK);
    let events: Vec<(&str, &str)> = l
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["event"].as_str().unwrap(),
                d["recipient"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(events, [("key.created", "administrators")]);
    // Listed in the OpenAPI document.
    let (_, doc) = s.get(&op, "/openapi.json").await;
    for p in [
        "/v1/tenants/{t}/recipients",
        "/v1/tenants/{t}/recipients/{r}/endpoint",
        "/v1/tenants/{t}/deliveries",
        "/v1/tenants/{t}/deliveries/{id}",
        "/v1/tenants/{t}/deliveries/{id}/retry",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} in OpenAPI");
    }
    let state = &doc["paths"]["/v1/tenants/{t}/deliveries"]["get"]["parameters"][1];
    assert_eq!(
        (&state["name"], &state["in"]),
        (&json!("state"), &json!("query"))
    );
    assert_ne!(state["required"], true);
}

#[tokio::test]
async fn webhook_delivery_survives_a_crash() {
    use crate::cli::spawn_serve;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rx = Receiver::start().await;
    // A long poll interval: the worker's first pass runs at start-up, then not for an hour.
    let env_slow = [
        ("VOW_WEBHOOKS_ALLOW_LOOPBACK", "true"),
        ("VOW_WEBHOOKS_POLL_INTERVAL", "3600"),
    ];
    let (mut child, admin, port) = spawn_serve(d, &env_slow);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let call = |m: Method, key: &str, path: &str, body: Option<Value>| {
        let mut r = client.request(m, format!("{base}{path}")).bearer_auth(key);
        if let Some(b) = body {
            r = r.json(&b);
        }
        async move {
            let res = r.send().await.unwrap();
            let st = res.status();
            (st, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (st, b) = call(
        Method::POST,
        &admin,
        "/v1/tenants",
        Some(json!({"id": "acme", "name": "Acme", "role": "controller"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let res = client
        .put(format!("{base}/v1/tenants/acme/policy"))
        .bearer_auth(&admin)
        .header("content-type", "application/yaml")
        .body(crate::harness::POLICY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let (_, k) = call(
        Method::POST,
        &admin,
        "/v1/tenants/acme/keys",
        Some(json!({"role": "operator"})),
    )
    .await;
    let op = k["key"].as_str().unwrap().to_string();
    let (st, e) = call(
        Method::PUT,
        &op,
        "/v1/tenants/acme/recipients/lab-partner/endpoint",
        Some(json!({"url": format!("{}/lab-partner", rx.base)})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{e}");
    let secret = e["secret"]
        .as_str()
        .unwrap()
        .strip_prefix("whsec_")
        .unwrap();
    rx.state
        .lock()
        .unwrap()
        .secrets
        .insert("lab-partner".into(), STANDARD.decode(secret).unwrap());
    let (st, b) = call(
        Method::POST,
        &op,
        "/v1/tenants/acme/subjects",
        Some(json!({
        "identifiers": {"email": "ada@example.org"}, "birth_date": "1990-01-31",
        "fields": [{"category": "user.name", "value": "Ada Quill", "purposes": ["research"]}],
        "consents": [{"purpose": "research", "kind": "express", "evidence": {"channel": "web"}}]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let ada = b["id"].as_str().unwrap().to_string();
    let (st, b) = call(Method::POST, &op, "/v1/tenants/acme/disclosures", Some(json!({
        "recipient": "lab-partner", "purpose": "research", "categories": ["user.name"], "subjects": [ada]}))).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, b) = call(
        Method::PATCH,
        &op,
        &format!("/v1/tenants/acme/subjects/{ada}"),
        Some(json!({"fields": [{"category": "user.name", "value": "Ada Quill-Marsh"}]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    // The change and its event are committed; the worker has not run since. Crash.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        rx.hits("lab-partner").is_empty(),
        "not delivered before the crash"
    );

    let env_fast = [
        ("VOW_WEBHOOKS_ALLOW_LOOPBACK", "true"),
        ("VOW_WEBHOOKS_POLL_INTERVAL", "1"),
    ];
    let (mut child, _, _) = spawn_serve(d, &env_fast);
    let mut hits = Vec::new();
    for _ in 0..300 {
        hits = rx.hits("lab-partner");
        if !hits.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    crate::cli::stop(&mut child);
    assert_eq!(hits.len(), 1, "delivered after the restart: {hits:?}");
    assert!(hits[0].valid);
    assert_eq!(hits[0].body["type"], "subject.corrected");
    assert_eq!(
        hits[0].body["data"]["fields"][0]["value"],
        "Ada Quill-Marsh"
    );
}

#[test]
fn the_cli_registers_endpoints_lists_recipients_and_delivers() {
    use crate::cli::{text, vow};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    crate::cli::cli_tenant(dir.path());
    let o = vow(&[
        "recipient",
        "endpoint",
        "--data",
        d,
        "--tenant",
        "acme",
        "--recipient",
        "lab-partner",
        "--url",
        "http://10.0.0.1/hook",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("/url"), "{}", text(&o));
    let o = vow(&[
        "recipient",
        "endpoint",
        "--data",
        d,
        "--tenant",
        "acme",
        "--recipient",
        "lab-partner",
        "--url",
        "https://hooks.example.com/vow",
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["secret"].as_str().unwrap().starts_with("whsec_"));
    let o = vow(&[
        "recipient",
        "list",
        "--data",
        d,
        "--tenant",
        "acme",
        "--output",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["id"], "lab-partner");
    assert_eq!(v[0]["endpoint"], "https://hooks.example.com/vow");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("whsec_"));
    let o = vow(&[
        "deliveries",
        "list",
        "--data",
        d,
        "--tenant",
        "acme",
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        serde_json::from_slice::<Value>(&o.stdout).unwrap(),
        json!([])
    );
    let o = vow(&["outbox", "deliver", "--data", d, "--output", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["claimed"], 0);
    let o = vow(&[
        "deliveries",
        "show",
        "--data",
        d,
        "--tenant",
        "acme",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[tokio::test]
async fn endpoint_secrets_survive_key_rotation() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    allow_loopback(&s);
    let rx = Receiver::start().await;
    rx.register(&s, &op, "acme", "lab-partner").await;
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    disclose(&s, &op, "lab-partner", "research", &ada).await;
    correct_name(&s, &op, &ada, "Ada Q.").await;
    // The old KEK is destroyed by the rotation; the secret was re-sealed under the new one.
    let r = s
        .engine
        .rotate_keys(&Actor::local("test"), &"acme".parse().unwrap(), |_| {})
        .await
        .unwrap();
    assert!(
        r.rewrapped >= 2,
        "the subject key and the endpoint secret: {r:?}"
    );
    let report = deliver(&s, Some("acme")).await;
    assert_eq!(report.delivered, 1, "{report:?}");
    let hits = rx.hits("lab-partner");
    assert!(
        hits[0].valid,
        "signed with the same secret as before the rotation"
    );
}

#[tokio::test]
async fn concurrent_workers_send_each_event_once() {
    concurrent_workers(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_workers_send_each_event_once_on_postgres() {
    concurrent_workers(Backend::Postgres).await;
}

/// Two workers on one outbox (two servers on one database): every event is claimed by
/// one of them and sent once.
async fn concurrent_workers(backend: Backend) {
    let Some(s) = Server::start_on(backend).await else {
        return;
    };
    let op = s.tenant("acme").await;
    allow_loopback(&s);
    let rx = Receiver::start().await;
    rx.register(&s, &op, "acme", "lab-partner").await;
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    disclose(&s, &op, "lab-partner", "research", &ada).await;
    let events = 150;
    for i in 0..events {
        correct_name(&s, &op, &ada, &format!("Ada {i}")).await;
    }
    let (a, b) = tokio::join!(deliver(&s, None), deliver(&s, None));
    assert_eq!(a.delivered + b.delivered, events, "{a:?} {b:?}");
    let hits = rx.hits("lab-partner");
    let ids: std::collections::HashSet<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(
        (hits.len(), ids.len()),
        (events, events),
        "each event sent once"
    );
    assert!(hits.iter().all(|h| h.valid));
    s.drop_db().await;
}

#[tokio::test]
async fn r5_a_disclosure_can_go_to_the_recipients_webhook_signed() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    allow_loopback(&s);
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    let bob = s
        .panelist(&op, "acme", "bob@example.org", "Bob Marsh")
        .await;
    let ask = json!({"recipient": "lab-partner", "purpose": "research", "categories": ["user.name"],
        "subjects": [ada, bob], "delivery": "webhook"});
    // No endpoint yet: refused, nothing recorded.
    let (st, p) = s
        .post(&op, "/v1/tenants/acme/disclosures", ask.clone())
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    let (_, log) = s.get(&op, "/v1/tenants/acme/disclosures").await;
    assert_eq!(log.as_array().unwrap().len(), 0);
    let (st, p) = s
        .post(
            &op,
            "/v1/tenants/acme/disclosures",
            json!({"recipient": "lab-partner", "purpose": "research",
            "categories": ["user.name"], "subjects": [ada], "delivery": "carrier-pigeon"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/delivery");

    let rx = Receiver::start().await;
    rx.register(&s, &op, "acme", "lab-partner").await;
    let (st, d) = s.post(&op, "/v1/tenants/acme/disclosures", ask).await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    assert_eq!(d["delivery"], "webhook");
    assert_eq!(d["sent"], 2);
    assert!(
        d["records"].as_array().unwrap().is_empty(),
        "no values in the answer: {d}"
    );
    // Bob is erased before the worker runs: his record is never sent.
    let (st, r) = s
        .post(&op, "/v1/tenants/acme/requests", json!({"type": "delete", "channel": "web",
            "identifiers": {"email": "bob@example.org"}, "requester": {"evidence": {"declaration": true}}}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let (st, r) = s
        .post(
            &op,
            &format!(
                "/v1/tenants/acme/requests/{}/fulfil",
                r["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");

    deliver(&s, Some("acme")).await;
    let hits = rx.hits("lab-partner");
    let disclosed: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.body["type"] == "subject.disclosed")
        .collect();
    assert_eq!(disclosed.len(), 1, "{hits:?}");
    assert!(disclosed[0].valid, "signed with the lab partner's secret");
    assert_eq!(disclosed[0].body["data"]["subject"], ada.as_str());
    assert_eq!(
        disclosed[0].body["data"]["fields"],
        json!([{"category": "user.name", "value": "Ada Quill"}])
    );
    assert_eq!(disclosed[0].body["data"]["disclosure"], d["id"]);
    assert!(
        !hits
            .iter()
            .any(|h| h.body.to_string().contains("Bob Marsh")),
        "the erased person's values never left"
    );
}

#[tokio::test]
async fn r23_s3_a_routed_request_reaches_the_controlling_clients_endpoint() {
    let s = Server::start().await;
    let op = s
        .tenant_with("hosted", "processor", crate::harness::POLICY)
        .await;
    allow_loopback(&s);
    // Only a processor tenant has a `controller` to register.
    let acme = s.tenant("acme").await;
    let (st, _) = s
        .call(
            Method::PUT,
            &acme,
            "/v1/tenants/acme/recipients/controller/endpoint",
            Some(json!({"url": "http://127.0.0.1:9/x"})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let rx = Receiver::start().await;
    rx.register(&s, &op, "hosted", "controller").await;
    let (_, list) = s.get(&op, "/v1/tenants/hosted/recipients").await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "controller" && r["name"] == "Client Co."),
        "{list}"
    );
    s.panelist(&op, "hosted", "c@example.org", "Cy").await;
    let (st, r) = s
        .post(
            &op,
            "/v1/tenants/hosted/requests",
            json!({"type": "delete", "channel": "web",
            "identifiers": {"email": "c@example.org"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["state"], "routed");
    deliver(&s, Some("hosted")).await;
    let hits = rx.hits("controller");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].valid);
    assert_eq!(hits[0].body["type"], "request.routed");
    assert_eq!(hits[0].body["data"]["request"], r["id"]);
    assert!(
        !hits[0].body.to_string().contains("c@example.org"),
        "no identifier goes to the client"
    );
}

#[tokio::test]
async fn a_410_gone_removes_the_endpoint_and_its_events_wait_for_a_new_one() {
    let (s, clock, op) = clocked().await;
    let rx = Receiver::start().await;
    rx.register(&s, &op, "acme", "lab-partner").await;
    rx.always(Some(410));
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    disclose(&s, &op, "lab-partner", "research", &ada).await;
    correct_name(&s, &op, &ada, "Ada Q.").await;
    let r = deliver(&s, Some("acme")).await;
    assert_eq!((r.gone, r.delivered), (1, 0), "{r:?}");
    let (_, recipients) = s.get(&op, "/v1/tenants/acme/recipients").await;
    let lab = recipients
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "lab-partner")
        .unwrap()
        .clone();
    assert!(lab["endpoint"].is_null(), "the endpoint is gone: {lab}");
    // Nothing more is sent there, however long we wait.
    clock.advance(jiff::SignedDuration::from_hours(7));
    assert_eq!(deliver(&s, Some("acme")).await.delivered, 0);
    assert_eq!(rx.hits("lab-partner").len(), 1);
    // A new endpoint wakes the event, and it is delivered once.
    rx.always(None);
    rx.register(&s, &op, "acme", "lab-partner").await;
    let r = deliver(&s, Some("acme")).await;
    assert_eq!(r.delivered, 1, "{r:?}");
    let statuses: Vec<u16> = rx.hits("lab-partner").iter().map(|h| h.status).collect();
    assert_eq!(statuses, [410, 200]);
}

#[tokio::test]
async fn retry_after_is_honoured_when_longer_than_our_back_off() {
    let (s, clock, op) = clocked().await;
    let rx = Receiver::start().await;
    rx.register(&s, &op, "acme", "lab-partner").await;
    rx.script(&[503]);
    rx.retry_after(Some("3600"));
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    disclose(&s, &op, "lab-partner", "research", &ada).await;
    correct_name(&s, &op, &ada, "Ada Q.").await;
    let r = deliver(&s, Some("acme")).await;
    assert_eq!(r.failed, 1, "{r:?}");
    let (_, pending) = s
        .get(&op, "/v1/tenants/acme/deliveries?state=pending")
        .await;
    let lab = pending
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["recipient"] == "lab-partner")
        .unwrap();
    let next: jiff::Timestamp = lab["next_attempt_at"].as_str().unwrap().parse().unwrap();
    let now = vow_core::Clock::now(clock.as_ref());
    assert!(
        next >= now + jiff::SignedDuration::from_secs(3600),
        "not before the receiver's hour: {next} vs {now}"
    );
    rx.retry_after(None);
    clock.advance(jiff::SignedDuration::from_mins(59));
    assert_eq!(deliver(&s, Some("acme")).await.delivered, 0, "too early");
    assert_eq!(rx.hits("lab-partner").len(), 1);
    clock.advance(jiff::SignedDuration::from_mins(2));
    assert_eq!(deliver(&s, Some("acme")).await.delivered, 1);
}

/// Rotate lab-partner's secret over the API; returns the answer.
async fn rotate(s: &Server, key: &str, body: Value) -> (StatusCode, Value) {
    s.post(
        key,
        "/v1/tenants/acme/recipients/lab-partner/endpoint/rotate",
        body,
    )
    .await
}

#[tokio::test]
async fn a_rotated_secret_overlaps_the_old_one_then_replaces_it() {
    rotation_overlap(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_rotated_secret_overlaps_the_old_one_on_postgres() {
    rotation_overlap(Backend::Postgres).await;
}

/// Old and new secrets both verify during the window, across a key rotation; only the
/// new one after it.
async fn rotation_overlap(backend: Backend) {
    let clock = Arc::new(FixedClock::new(crate::harness::now()));
    let Some(s) = Server::start_with_clock(backend, clock.clone()).await else {
        return;
    };
    let op = s.tenant("acme").await;
    allow_loopback(&s);
    let rx = Receiver::start().await;
    let old = rx.register(&s, &op, "acme", "lab-partner").await;
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    disclose(&s, &op, "lab-partner", "research", &ada).await;

    let (st, r) = rotate(&s, &op, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let new = r["secret"].as_str().expect("the new secret, shown once");
    assert!(new.starts_with("whsec_") && new != old);
    let start = vow_core::Clock::now(clock.as_ref());
    let until: jiff::Timestamp = r["previous_valid_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        until,
        start + jiff::SignedDuration::from_hours(24),
        "a day by default"
    );
    assert_eq!(r["dropped_earlier"], false);
    let (_, recipients) = s.get(&op, "/v1/tenants/acme/recipients").await;
    let lab = recipients
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "lab-partner")
        .unwrap();
    assert_eq!(lab["previous_secret_until"], r["previous_valid_until"]);
    assert!(!recipients.to_string().contains(new), "never shown again");

    // During the window: both signatures, so a receiver with either secret verifies.
    correct_name(&s, &op, &ada, "Ada Q.").await;
    assert_eq!(deliver(&s, Some("acme")).await.delivered, 1);
    let hits = rx.hits("lab-partner");
    assert_eq!(hits[0].signatures(), 2, "{:?}", hits[0].headers);
    assert!(
        hits[0].verifies_with(&old),
        "a receiver still on the old secret"
    );
    assert!(
        hits[0].verifies_with(new),
        "a receiver already on the new one"
    );

    // A key rotation during the window re-seals both secrets; both still sign.
    let kr = s
        .engine
        .rotate_keys(&Actor::local("test"), &"acme".parse().unwrap(), |_| {})
        .await
        .unwrap();
    assert!(kr.rewrapped >= 2, "{kr:?}");
    clock.advance(jiff::SignedDuration::from_hours(23));
    correct_name(&s, &op, &ada, "Ada Quill").await;
    assert_eq!(deliver(&s, Some("acme")).await.delivered, 1);
    let hits = rx.hits("lab-partner");
    assert_eq!(hits[1].signatures(), 2);
    assert!(hits[1].verifies_with(&old) && hits[1].verifies_with(new));

    // After the window: only the new secret signs, and the old one is gone from the row.
    clock.advance(jiff::SignedDuration::from_hours(2));
    correct_name(&s, &op, &ada, "Ada Quill-Marsh").await;
    assert_eq!(deliver(&s, Some("acme")).await.delivered, 1);
    let hits = rx.hits("lab-partner");
    assert_eq!(hits[2].signatures(), 1);
    assert!(
        !hits[2].verifies_with(&old),
        "the old secret no longer verifies"
    );
    assert!(hits[2].verifies_with(new));
    let mut tx = s.store().read().await.unwrap();
    let row = tx.endpoint("acme", "lab-partner").await.unwrap().unwrap();
    assert_eq!((row.previous_sealed, row.previous_until), (None, None));
    // Audited: the rotation and the drop, never a secret.
    let audit = tx.audit_page(0, 10_000).await.unwrap();
    drop(tx);
    let rotation = audit
        .iter()
        .find(|a| a.entry.action == "webhook.secret.rotate")
        .expect("the rotation is audited");
    assert!(rotation.entry.detail.contains("\"overlap_secs\":86400"));
    assert!(
        audit
            .iter()
            .any(|a| a.entry.action == "webhook.secret.previous_dropped")
    );
    for a in &audit {
        for secret in [old.as_str(), new] {
            let b64 = secret.strip_prefix("whsec_").unwrap();
            assert!(!a.entry.detail.contains(b64), "{}", a.entry.action);
        }
    }
    let (_, recipients) = s.get(&op, "/v1/tenants/acme/recipients").await;
    assert!(
        recipients
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["previous_secret_until"].is_null())
    );
    s.drop_db().await;
}

#[tokio::test]
async fn secret_rotation_options_and_refusals() {
    let (s, clock, op) = clocked().await;
    let rx = Receiver::start().await;
    // No endpoint yet: nothing to rotate.
    let (st, p) = rotate(&s, &op, json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{p}");
    let old = rx.register(&s, &op, "acme", "lab-partner").await;

    // Bad input, every problem at once, each at its place, never echoing the secret.
    let bad = "whsec_dG9vLXNob3J0";
    let (st, p) = rotate(&s, &op, json!({"secret": bad, "overlap_secs": 604_801})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["code"], "invalid_request");
    let pointers: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/overlap_secs", "/secret"], "{p}");
    assert!(!p.to_string().contains("dG9vLXNob3J0"), "{p}");
    for body in [
        json!({"overlap_secs": -1}),
        json!({"overlap_secs": "24h"}),
        json!({"secret": "not-a-secret"}),
        json!({"secret": old}),
        json!({"overlap": 3600}),
    ] {
        let (st, p) = rotate(&s, &op, body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {p}");
        if let Some(secret) = body["secret"].as_str() {
            assert_eq!(p["errors"][0]["pointer"], "/secret", "{p}");
            assert!(!p.to_string().contains(secret), "{p}");
        }
    }
    // Nothing changed: the registered secret still signs alone.
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    disclose(&s, &op, "lab-partner", "research", &ada).await;
    correct_name(&s, &op, &ada, "Ada Q.").await;
    deliver(&s, Some("acme")).await;
    let hits = rx.hits("lab-partner");
    assert!(hits[0].signatures() == 1 && hits[0].verifies_with(&old));

    // A given secret is not echoed; an overlap of its own.
    let given = format!("whsec_{}", STANDARD.encode([7u8; 32]));
    let (st, r) = rotate(&s, &op, json!({"secret": given, "overlap_secs": 3600})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert!(r.get("secret").is_none(), "{r}");
    let until: jiff::Timestamp = r["previous_valid_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        until,
        vow_core::Clock::now(clock.as_ref()) + jiff::SignedDuration::from_hours(1)
    );
    // Rotating again within the window drops the oldest: two secrets sign at most.
    let (st, r) = rotate(&s, &op, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["dropped_earlier"], true);
    let newest = r["secret"].as_str().unwrap().to_string();
    correct_name(&s, &op, &ada, "Ada Quill").await;
    deliver(&s, Some("acme")).await;
    let hits = rx.hits("lab-partner");
    assert_eq!(hits[1].signatures(), 2);
    assert!(hits[1].verifies_with(&newest) && hits[1].verifies_with(&given));
    assert!(!hits[1].verifies_with(&old));

    // An overlap of zero: the previous secret stops at once (it leaked).
    let (st, r) = rotate(&s, &op, json!({"overlap_secs": 0})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert!(r["previous_valid_until"].is_null(), "{r}");
    let last = r["secret"].as_str().unwrap().to_string();
    correct_name(&s, &op, &ada, "Ada Quill-Marsh").await;
    deliver(&s, Some("acme")).await;
    let hits = rx.hits("lab-partner");
    assert_eq!(hits[2].signatures(), 1);
    assert!(hits[2].verifies_with(&last) && !hits[2].verifies_with(&newest));

    // Registering again starts afresh: no previous secret.
    let (st, r) = rotate(&s, &op, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    rx.register(&s, &op, "acme", "lab-partner").await;
    let mut tx = s.store().read().await.unwrap();
    let row = tx.endpoint("acme", "lab-partner").await.unwrap().unwrap();
    assert_eq!(row.previous_until, None);
    drop(tx);

    // Another tenant's recipient, and keys without ManageWebhooks, get nowhere.
    let ingest = s.key("acme", "ingest", None).await;
    let (st, p) = rotate(&s, &ingest, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    let other = s.tenant("other").await;
    let (st, p) = rotate(&s, &other, json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{p}");
    // In the OpenAPI document.
    let (_, doc) = s.get(&op, "/openapi.json").await;
    assert!(doc["paths"]["/v1/tenants/{t}/recipients/{r}/endpoint/rotate"]["post"].is_object());
}

#[test]
fn the_cli_rotates_an_endpoint_secret() {
    use crate::cli::{text, vow};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec![args[0], args[1], "--data", d, "--tenant", "acme"];
        all.extend(&args[2..]);
        vow(&all)
    };
    crate::cli::cli_tenant(dir.path());
    let rotate = ["recipient", "rotate-secret", "--recipient", "lab-partner"];
    // Nothing registered yet.
    let o = run(&rotate);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("endpoint not found"), "{}", text(&o));
    let o = run(&[
        "recipient",
        "endpoint",
        "--recipient",
        "lab-partner",
        "--url",
        "https://hooks.example.com/vow",
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let first: Value = serde_json::from_slice(&o.stdout).unwrap();
    // Too long a window, and a malformed secret: usage errors that name the place.
    let o = run(&[rotate.as_slice(), &["--overlap", "8d"]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--overlap"), "{}", text(&o));
    let bad = dir.path().join("bad-secret");
    std::fs::write(&bad, "whsec_bm90LWxvbmctZW5vdWdo\n").unwrap();
    let o = run(&[rotate.as_slice(), &["--secret-file", bad.to_str().unwrap()]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("/secret"), "{}", text(&o));
    assert!(!text(&o).contains("bm90LWxvbmctZW5vdWdo"), "{}", text(&o));

    let o = run(&[rotate.as_slice(), &["--overlap", "48h", "--output", "json"]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(r["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_ne!(r["secret"], first["secret"]);
    let until = r["previous_valid_until"].as_str().unwrap();
    let o = run(&["recipient", "list", "--output", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["previous_secret_until"], until);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("whsec_"));
    // No overlap: the table says the previous secret stopped.
    let o = run(&[rotate.as_slice(), &["--overlap", "0"]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("shown once") && out.contains("no longer signs"),
        "{out}"
    );
    assert!(
        out.contains("stopped now"),
        "the 48 h window was cut short: {out}"
    );
}
