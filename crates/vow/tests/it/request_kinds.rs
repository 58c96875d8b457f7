//! An opt-out of sale or sharing and an unsubscribe from marketing e-mail are two
//! request kinds with their own laws and deadlines (issue 10): a Californian's
//! `opt_out` is due in the CCPA's 15 business days, an `unsubscribe` in CAN-SPAM's 10,
//! a Canadian's `unsubscribe` in CASL's 10; and each stops its own purposes.

use crate::harness::{POLICY, Server};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn policy() -> String {
    let p = POLICY.replace("jurisdictions: [CA]", "jurisdictions: [US-CA, CA]");
    assert_ne!(p, POLICY);
    p
}

async fn ask(s: &Server, key: &str, kind: &str, residence: &str) -> Value {
    let (st, r) = s
        .post(
            key,
            "/v1/tenants/acme/requests",
            json!({"type": kind, "channel": "web", "jurisdiction": residence,
                   "identifiers": {"email": "m@example.org"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    r
}

fn time(v: &Value) -> jiff::Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

fn days_to_due(r: &Value) -> f64 {
    let due = time(&r["due"]["response"]);
    let received = time(&r["received_at"]);
    due.duration_since(received).as_secs_f64() / 86_400.0
}

#[tokio::test]
async fn an_opt_out_of_sale_follows_the_ccpa_and_an_unsubscribe_follows_can_spam_and_casl() {
    let s = Server::start().await;
    let op = s.tenant_with("acme", "controller", &policy()).await;

    let opt_out = ask(&s, &op, "opt_out", "US-CA").await;
    assert_eq!(opt_out["type"], "opt_out", "{opt_out}");
    assert_eq!(opt_out["rules"], json!(["US-CA"]), "{opt_out}");
    assert_eq!(opt_out["due"]["binding"], "US-CA", "{opt_out}");
    // 15 business days: three weeks, a holiday or two more.
    let d = days_to_due(&opt_out);
    assert!((19.0..=27.0).contains(&d), "{d} {opt_out}");

    let unsub = ask(&s, &op, "unsubscribe", "US-CA").await;
    assert_eq!(unsub["type"], "unsubscribe", "{unsub}");
    assert_eq!(unsub["rules"], json!(["US-CANSPAM"]), "{unsub}");
    assert_eq!(unsub["due"]["binding"], "US-CANSPAM", "{unsub}");
    // 10 business days: two weeks, a holiday or two more.
    let u = days_to_due(&unsub);
    assert!((12.0..=18.0).contains(&u), "{u} {unsub}");
    assert!(u < d, "the unsubscribe is due first");

    let casl = ask(&s, &op, "unsubscribe", "CA-ON").await;
    assert_eq!(casl["due"]["binding"], "CA-CASL", "{casl}");
    let c = days_to_due(&casl);
    assert!((12.0..=18.0).contains(&c), "{c} {casl}");
    // A Canadian's opt-out has no CASL term: PIPEDA has none for it either, so the
    // policy's 30 days bind.
    let ca_opt_out = ask(&s, &op, "opt_out", "CA-ON").await;
    assert_eq!(ca_opt_out["due"]["binding"], "policy", "{ca_opt_out}");
}

#[tokio::test]
async fn an_unsubscribe_stops_marketing_only() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let (st, b) = s
        .post(&op, "/v1/tenants/acme/subjects", json!({"identifiers": {"email": "m@example.org"},
            "fields": [{"category": "user.contact.email", "value": "m@example.org", "purposes": ["marketing.email", "research"]}],
            "consents": [{"purpose": "marketing.email"}, {"purpose": "research"}]}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let r = ask(&s, &op, "unsubscribe", "CA-ON").await;
    assert_eq!(r["state"], "fulfilled", "{r}");
    assert_eq!(r["outcome"]["purposes"], json!(["marketing.email"]), "{r}");
}
