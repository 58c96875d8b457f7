//! Data-subject requests end to end (issue 3): one scenario per promise id.

use crate::harness::{POLICY, Server};
use reqwest::StatusCode;
use serde_json::{Value, json};

const RESEARCH: &str = include_str!("../../../../examples/research-operator/policy.yaml");

/// The test policy without its own response promise: the law alone sets the deadline.
fn law_only() -> String {
    POLICY.replace("response_times:\n  requests_days: 30\n", "")
}

async fn submit(s: &Server, key: &str, t: &str, body: Value) -> (StatusCode, Value) {
    s.post(key, &format!("/v1/tenants/{t}/requests"), body)
        .await
}

async fn step(
    s: &Server,
    key: &str,
    t: &str,
    id: &str,
    what: &str,
    body: Value,
) -> (StatusCode, Value) {
    s.post(key, &format!("/v1/tenants/{t}/requests/{id}/{what}"), body)
        .await
}

fn time(v: &Value) -> jiff::Timestamp {
    v.as_str().expect("a time").parse().expect("RFC 3339")
}

fn days(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_hours(24 * n)
}

#[tokio::test]
async fn r15_deadlines_acknowledgement_and_extension_notices() {
    let s = Server::start_at(crate::harness::TODAY).await;
    let op = s.tenant_with("acme", "controller", &law_only()).await;
    let mail = s.data_dir().join("mail");
    s.engine.set_mailer(
        vow_engine::mail::Mailer::new(
            vow_engine::mail::MailTransport::File { dir: mail.clone() },
            "privacy@acme.example",
        )
        .unwrap(),
    );
    s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    let received = "2026-11-02T15:04:00Z";
    let (st, r) = submit(
        &s,
        &op,
        "acme",
        json!({"type": "access", "channel": "mail", "jurisdiction": "CA",
        "identifiers": {"email": "ada@example.org"}, "received_at": received}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(
        r["state"], "verified",
        "one matched e-mail meets PIPEDA's level: {r}"
    );
    assert_eq!(r["rules"], json!(["CA"]));
    // PIPEDA: 30 days, extendable by 30 with notice before the first deadline.
    let due = time(&r["due"]["response"]);
    let rec: jiff::Timestamp = received.parse().unwrap();
    assert!(due > rec + days(29) && due <= rec + days(31), "{r}");
    let max = time(&r["due"]["extended_max"]);
    assert!(max > due + days(29) && max <= due + days(31), "{r}");
    // An acknowledgement was written and kept with the request.
    let kinds: Vec<&str> = r["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["acknowledgement"]);
    assert!(
        r["notices"][0]["text"]
            .as_str()
            .unwrap()
            .contains(r["id"].as_str().unwrap())
    );
    assert!(r["notices"][0]["sent_at"].is_string(), "mailed: {r}");
    let emls: Vec<_> = std::fs::read_dir(&mail)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(emls.len(), 1);
    assert!(emls[0].contains("To: ada@example.org"), "{}", emls[0]);
    let id = r["id"].as_str().unwrap();
    // An extension needs a reason, then tells the person of their right to complain.
    let (st, p) = step(&s, &op, "acme", id, "extend", json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/reason");
    let (st, r) = step(
        &s,
        &op,
        "acme",
        id,
        "extend",
        json!({"reason": "The records are archived off-site."}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["due"]["extended_to"], r["due"]["extended_max"]);
    let ext = r["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "extension")
        .expect("extension notice");
    assert!(
        ext["text"]
            .as_str()
            .unwrap()
            .contains("Privacy Commissioner"),
        "{ext}"
    );
    // Only once.
    let (st, _) = step(&s, &op, "acme", id, "extend", json!({"reason": "again"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    // The queue shows deadlines first.
    let (_, list) = s.get(&op, "/v1/tenants/acme/requests").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn r15_the_strictest_of_promise_and_law_wins() {
    let s = Server::start().await;
    let op = s.tenant_with("prairie", "controller", RESEARCH).await;
    let received: jiff::Timestamp = "2026-11-20T15:04:00Z".parse().unwrap();
    let (st, r) = submit(
        &s,
        &op,
        "prairie",
        json!({"type": "access", "channel": "web", "jurisdiction": "US-CA",
        "identifiers": {"email": "nobody@example.org"}, "received_at": received.to_string(),
        // A fixed day, months or years back when the suite runs: back-dated on purpose.
        "backdated": true}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    // California allows 45 days; the policy promises 30: the promise binds, and removes the extension.
    let due = time(&r["due"]["response"]);
    assert!(due <= received + days(31), "{r}");
    assert_eq!(r["due"]["binding"], "policy", "{r}");
    assert!(
        r["due"]["acknowledgement"].is_string(),
        "CCPA asks an acknowledgement: {r}"
    );
}

#[tokio::test]
async fn r22_every_channel_enters_the_same_workflow() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    for channel in ["web", "email", "phone", "mail", "api"] {
        let (st, r) = submit(&s, &op, "acme", json!({"type": "know", "channel": channel, "identifiers": {"email": "ada@example.org"}})).await;
        assert_eq!(st, StatusCode::CREATED, "{r}");
        assert_eq!(r["channel"], channel);
        assert_eq!(r["events"][0]["event"], "received");
        assert_eq!(r["events"][0]["note"]["channel"], channel);
    }
    let future = (crate::harness::now() + days(2)).to_string();
    let (st, p) = submit(&s, &op, "acme", json!({"type": "know", "channel": "mail", "identifiers": {"email": "ada@example.org"}, "received_at": future})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(p["errors"][0]["pointer"], "/received_at");
    let (st, p) = submit(
        &s,
        &op,
        "acme",
        json!({"type": "telepathy", "channel": "pigeon", "identifiers": {}}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let pointers: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/type", "/channel", "/identifiers"]);
}

#[tokio::test]
async fn r23_hosted_data_requests_go_to_the_controlling_client() {
    routed_scenario(POLICY).await;
}

#[tokio::test]
async fn s3_a_service_provider_declines_and_sends_the_person_to_the_client() {
    routed_scenario(include_str!(
        "../../../../examples/marketing-platform/clients/northwind-outfitters/policy.yaml"
    ))
    .await;
}

async fn routed_scenario(policy: &str) {
    let s = Server::start().await;
    let op = s.tenant_with("hosted", "processor", policy).await;
    let (st, b) = s
        .post(
            &op,
            "/v1/tenants/hosted/subjects",
            json!({"identifiers": {"email": "c@example.org"},
            "fields": [{"category": "user.name", "value": "Cora", "purposes": ["marketing.email"]}],
            "consents": [{"purpose": "marketing.email"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, r) = submit(
        &s,
        &op,
        "hosted",
        json!({"type": "delete", "channel": "email", "identifiers": {"email": "c@example.org"}}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["state"], "routed");
    assert_eq!(
        r["outcome"]["routed_to"]["contact"],
        "privacy@client.example"
    );
    assert_eq!(r["notices"][0]["kind"], "redirect");
    assert!(
        r["notices"][0]["text"]
            .as_str()
            .unwrap()
            .contains("privacy@client.example")
    );
    // The client is told, by an outbox event carrying no personal values.
    let mut tx = s.store().read().await.unwrap();
    let out: Vec<_> = tx
        .outbox("hosted")
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.event != "key.created")
        .collect();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].event, "request.routed");
    assert!(!out[0].payload.contains("c@example.org"));
    // Nothing was deleted by the operator.
    let (st, _) = s
        .get(&op, "/v1/tenants/hosted/subjects?email=c@example.org")
        .await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn r14_erasure_makes_backups_unreadable_and_tracks_the_horizon() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let id = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    let (wrapped, fields) = {
        let mut tx = s.store().read().await.unwrap();
        (
            tx.subject_key("acme", &id).await.unwrap().unwrap().wrapped,
            tx.all_fields("acme", &id).await.unwrap(),
        )
    };
    assert!(!fields.is_empty());
    let (st, r) = submit(
        &s,
        &op,
        "acme",
        json!({"type": "delete", "channel": "web", "identifiers": {"email": "ada@example.org"}}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let rid = r["id"].as_str().unwrap().to_string();
    let (st, r) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{rid}/fulfil"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "fulfilled");
    assert_eq!(r["outcome"]["done"], "erased");
    // The key is gone: the old ciphertext (in any backup) has nothing left to open it.
    let mut tx = s.store().read().await.unwrap();
    assert!(tx.subject_key("acme", &id).await.unwrap().is_none());
    assert!(tx.identifiers("acme", &id).await.unwrap().is_empty());
    drop(tx);
    let (st, _) = s
        .get(&op, "/v1/tenants/acme/subjects?email=ada@example.org")
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Backups holding the old key expire within the promise (30 days in this policy's backup store).
    let horizon = time(&r["outcome"]["backups_unreadable_by"]);
    assert!(horizon <= crate::harness::now() + days(31));
    // Not even the wrapped key's bytes remain in the database files (secure_delete + checkpoint).
    s.store().checkpoint().await.unwrap();
    let dir = s.data_dir();
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes
                .windows(wrapped.len())
                .any(|w| w == wrapped.as_slice()),
            "the wrapped key survives on disk"
        );
    }
    // A later import of the same person is refused (suppression), not silently re-created.
    let (st, p) = s
        .post(
            &op,
            "/v1/tenants/acme/subjects",
            json!({"identifiers": {"email": "ada@example.org"}, "fields": []}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
}

#[tokio::test]
async fn r20_identity_is_verified_by_matching_held_identifiers() {
    let s = Server::start().await;
    let op = s.tenant_with("prairie", "controller", RESEARCH).await;
    let (st, b) = s
        .post(&op, "/v1/tenants/prairie/subjects", json!({
            "identifiers": {"email": "ada@example.org", "phone": "+13065550100"},
            "birth_date": "1990-01-31",
            "fields": [{"category": "user.name", "value": "Ada", "purposes": ["panel_management"]}],
        }))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    // California, specific pieces: a single e-mail is not enough.
    let (_, r) = submit(
        &s,
        &op,
        "prairie",
        json!({"type": "access", "channel": "web", "jurisdiction": "US-CA",
        "identifiers": {"email": "ada@example.org"}}),
    )
    .await;
    assert_eq!(r["matched_points"], 1, "{r}");
    assert_eq!(r["state"], "verifying", "{r}");
    let id = r["id"].as_str().unwrap();
    let (st, _) = s
        .post(
            &op,
            &format!("/v1/tenants/prairie/requests/{id}/fulfil"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "nothing is fulfilled unverified");
    // Phone matched too, and a signed declaration: verified.
    let (_, r) = step(
        &s,
        &op,
        "prairie",
        id,
        "verify",
        json!({"identifiers": {"phone": "(306) 555-0100"}, "declaration": true}),
    )
    .await;
    assert!(r["matched_points"].as_i64().unwrap() >= 2, "{r}");
    let required = r["verification"]["points"].as_i64().unwrap();
    if r["matched_points"].as_i64().unwrap() >= required {
        assert_eq!(r["state"], "verified", "{r}");
    } else {
        assert_eq!(r["type"], "know", "downgraded to categories: {r}");
    }
    // Identifiers pointing at different people match nobody.
    let (_, r) = submit(
        &s,
        &op,
        "prairie",
        json!({"type": "know", "channel": "web",
        "identifiers": {"email": "ada@example.org", "phone": "+13065550199"}}),
    )
    .await;
    assert_eq!(r["matched_points"], 1, "only the e-mail matched: {r}");
}

#[tokio::test]
async fn r21_agents_need_authority() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    let base = |evidence: Value| {
        json!({"type": "know", "channel": "mail", "identifiers": {"email": "ada@example.org"},
               "requester": {"kind": "agent", "name": "Agent Smith LLP", "evidence": evidence}})
    };
    let (_, r) = submit(&s, &op, "acme", base(json!({}))).await;
    assert_eq!(r["state"], "verifying", "no evidence: held: {r}");
    let (_, r) = submit(&s, &op, "acme", base(json!({"power_of_attorney": true}))).await;
    assert_eq!(r["state"], "verified", "{r}");
    let (_, r) = submit(
        &s,
        &op,
        "acme",
        base(json!({"signed_permission": true, "registration": "CA-SOS-123"})),
    )
    .await;
    assert_eq!(
        r["state"], "verifying",
        "signed permission also needs the person's own confirmation: {r}"
    );
    let id = r["id"].as_str().unwrap();
    let (_, r) = step(
        &s,
        &op,
        "acme",
        id,
        "verify",
        json!({"subject_confirmed": true}),
    )
    .await;
    assert_eq!(r["state"], "verified", "{r}");
}

#[tokio::test]
async fn r11_r18_access_and_know_packages_from_what_is_held() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    s.panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    for (kind, check) in [("access", true), ("know", false)] {
        let (_, r) = submit(
            &s,
            &op,
            "acme",
            json!({"type": kind, "channel": "web", "identifiers": {"email": "ada@example.org"}}),
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
        let (st, p) = s
            .get(&op, &format!("/v1/tenants/acme/requests/{id}/export"))
            .await;
        assert_eq!(st, StatusCode::OK, "{p}");
        let codes: Vec<&str> = p["summary"]["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["user.contact.email", "user.name"]);
        assert_eq!(
            p["summary"]["categories"][1]["means"], "Name",
            "codes are explained"
        );
        assert!(
            p["summary"]["purposes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["code"] == "research" && x["legal_basis"] == "consent")
        );
        assert_eq!(p["summary"]["sources"], json!(["signup-form"]));
        if check {
            assert!(
                p["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["value"] == "Ada Quill")
            );
            assert_eq!(p["consents"][0]["purpose"], "research");
            let html = s
                .client
                .get(format!("{}/v1/tenants/acme/requests/{id}/export", s.base))
                .bearer_auth(&op)
                .header("accept", "text/html")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(html.contains("Ada Quill") && html.contains("<table"));
        } else {
            assert!(
                p.get("fields").is_none(),
                "know gives categories, not the pieces"
            );
            assert!(p["look_back"]["from"].is_string());
        }
    }
}

#[tokio::test]
async fn opt_outs_and_withdrawals_take_effect_at_once() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let (_, b) = s
        .post(&op, "/v1/tenants/acme/subjects", json!({"identifiers": {"email": "m@example.org"},
            "fields": [{"category": "user.contact.email", "value": "m@example.org", "purposes": ["marketing.email", "research"]}],
            "consents": [{"purpose": "marketing.email"}, {"purpose": "research"}]}))
        .await;
    let subject = b["id"].as_str().unwrap().to_string();
    let (st, r) = submit(
        &s,
        &op,
        "acme",
        json!({"type": "opt_out", "channel": "web", "identifiers": {"email": "m@example.org"}}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["state"], "fulfilled", "{r}");
    assert_eq!(r["outcome"]["purposes"], json!(["marketing.email"]));
    let read = |p: &'static str| {
        let s = &s;
        let op = op.clone();
        let subject = subject.clone();
        async move {
            s.post(
                &op,
                &format!("/v1/tenants/acme/subjects/{subject}/read"),
                json!({"purpose": p, "categories": ["user.contact.email"]}),
            )
            .await
            .0
        }
    };
    assert_eq!(read("marketing.email").await, StatusCode::FORBIDDEN);
    assert_eq!(
        read("research").await,
        StatusCode::OK,
        "only marketing stopped"
    );
}

#[tokio::test]
async fn illegal_transitions_are_refused() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let (_, r) = submit(
        &s,
        &op,
        "acme",
        json!({"type": "know", "channel": "web", "identifiers": {"email": "x@example.org"}}),
    )
    .await;
    let id = r["id"].as_str().unwrap();
    let (st, r) = step(
        &s,
        &op,
        "acme",
        id,
        "deny",
        json!({"reasons": [{"code": "no_data"}]}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "denied");
    assert!(
        r["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "denial")
    );
    let (st, p) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{id}/fulfil"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    let (st, p) = step(
        &s,
        &op,
        "acme",
        id,
        "deny",
        json!({"reasons": [{"code": "because"}]}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
}

#[tokio::test]
async fn s7_legal_holds_keep_named_fields_after_a_deletion() {
    hold_scenario().await;
}

#[tokio::test]
async fn r19_deletion_records_its_lawful_exceptions_and_no_difference_in_service() {
    hold_scenario().await;
}

async fn hold_scenario() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let (_, b) = s
        .post(&op, "/v1/tenants/acme/subjects", json!({"identifiers": {"email": "tax@example.org"},
            "fields": [{"category": "user.name", "value": "Tia Ledger", "purposes": ["incentive_payment"]},
                       {"category": "user.financial.bank_account", "value": "CA-000-111", "purposes": ["incentive_payment"]}]}))
        .await;
    let subject = b["id"].as_str().unwrap().to_string();
    let until = (crate::harness::now() + days(6 * 365))
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    let (st, h) = s
        .post(&op, &format!("/v1/tenants/acme/subjects/{subject}/holds"),
            json!({"categories": ["user.financial"], "reason": "Income Tax Act s.230: payment records kept six years", "until": until}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{h}");
    let (st, p) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/subjects/{subject}/holds"),
            json!({"categories": [], "reason": "", "until": "2000-01-01"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(p["errors"].as_array().unwrap().len(), 3, "{p}");
    let (_, r) = submit(
        &s,
        &op,
        "acme",
        json!({"type": "delete", "channel": "web", "identifiers": {"email": "tax@example.org"}}),
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
    assert_eq!(r["outcome"]["done"], "erased_except_held");
    assert_eq!(
        r["state"], "partially_fulfilled",
        "complied with in part: {r}"
    );
    assert_eq!(
        r["outcome"]["kept"][0]["categories"],
        json!(["user.financial"])
    );
    let completion = r["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "completion")
        .unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(completion.contains("Income Tax Act"), "{completion}");
    // R19: exercising the right changes nothing about service or price.
    assert!(
        completion.to_lowercase().contains("price")
            || completion.to_lowercase().contains("service"),
        "{completion}"
    );
    // Only the held field remains, under a fresh key; the name is gone.
    let mut tx = s.store().read().await.unwrap();
    let left = tx.all_fields("acme", &subject).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].category, "user.financial.bank_account");
    assert!(tx.subject_key("acme", &subject).await.unwrap().is_some());
    assert!(tx.identifiers("acme", &subject).await.unwrap().is_empty());
}

#[tokio::test]
async fn s6_the_platform_s_own_account_holders_are_served_verified_by_the_email_on_file() {
    platform_scenario().await;
}

#[tokio::test]
async fn s11_requests_are_answered_within_45_days() {
    platform_scenario().await;
}

async fn platform_scenario() {
    let s = Server::start().await;
    let platform = include_str!("../../../../examples/marketing-platform/platform/policy.yaml");
    let op = s.tenant_with("relay", "controller", platform).await;
    let (st, b) = s
        .post(&op, "/v1/tenants/relay/subjects", json!({"identifiers": {"email": "owner@example.com"},
            "fields": [{"category": "user.name", "value": "Owen Account", "purposes": ["service_delivery"]}]}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let received: jiff::Timestamp = crate::harness::now();
    let (_, r) = submit(&s, &op, "relay", json!({"type": "access", "channel": "email", "identifiers": {"email": "owner@example.com"}})).await;
    // 45 days promised (S11), and never later than any law that applies.
    let due = time(&r["due"]["response"]);
    assert!(due <= received + days(46), "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    let id = id.as_str();
    let r = if r["state"] == "verifying" {
        // Verified by the e-mail on file plus the account sign-in the app asserts (S6).
        step(
            &s,
            &op,
            "relay",
            id,
            "verify",
            json!({"authenticated": true, "declaration": true}),
        )
        .await
        .1
    } else {
        r
    };
    assert_eq!(r["state"], "verified", "{r}");
    let (st, r) = s
        .post(
            &op,
            &format!("/v1/tenants/relay/requests/{id}/fulfil"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "fulfilled");
}

#[tokio::test]
async fn unverifiable_requests_are_denied_at_the_deadline_and_counted() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    let long_ago = (crate::harness::now() - days(40)).to_string();
    let (_, late) = submit(&s, &op, "acme", json!({"type": "access", "channel": "mail", "identifiers": {"email": "ghost@example.org"}, "received_at": long_ago, "backdated": true})).await;
    assert_eq!(late["state"], "verifying");
    assert_eq!(late["flag"], "overdue", "{late}");
    let (_, fresh) = submit(&s, &op, "acme", json!({"type": "access", "channel": "mail", "identifiers": {"email": "ghost2@example.org"}})).await;
    let (_, agent) = submit(&s, &op, "acme", json!({"type": "delete", "channel": "mail", "identifiers": {"email": "ada@example.org"},
        "requester": {"kind": "agent", "evidence": {}}, "received_at": (crate::harness::now() - days(40)).to_string(), "backdated": true})).await;
    assert_eq!(agent["state"], "verifying", "{agent}");
    let (_, done) = submit(
        &s,
        &op,
        "acme",
        json!({"type": "know", "channel": "web", "identifiers": {"email": "ada@example.org"}}),
    )
    .await;
    s.post(
        &op,
        &format!(
            "/v1/tenants/acme/requests/{}/fulfil",
            done["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await;
    let n = s
        .engine
        .sweep_requests(&vow_engine::Actor::local("t"), &"acme".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(n, 2);
    let (_, r) = s
        .get(
            &op,
            &format!(
                "/v1/tenants/acme/requests/{}",
                agent["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(
        r["outcome"]["denied"][0]["code"], "agent_not_authorised",
        "{r}"
    );
    let (_, r) = s
        .get(
            &op,
            &format!("/v1/tenants/acme/requests/{}", late["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r["state"], "denied");
    assert_eq!(r["outcome"]["denied"][0]["code"], "unverifiable");
    let (_, r) = s
        .get(
            &op,
            &format!(
                "/v1/tenants/acme/requests/{}",
                fresh["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(r["state"], "verifying", "not yet due");
    // The queue: open requests, deadlines first.
    let (_, list) = s.get(&op, "/v1/tenants/acme/requests?all=true").await;
    let states: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states[0], "verifying", "open first: {states:?}");
    let year = crate::harness::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year();
    let m = s
        .engine
        .request_metrics(
            &vow_engine::Actor::local("t"),
            &"acme".parse().unwrap(),
            year,
        )
        .await
        .unwrap();
    let access = m.per_type.iter().find(|t| t.kind == "access").unwrap();
    let know = m.per_type.iter().find(|t| t.kind == "know").unwrap();
    // The overdue one was received 40 days ago: in this year's count unless that was last year.
    let old_year = (crate::harness::now() - days(40))
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year();
    let same = usize::from(old_year == year);
    assert_eq!(
        (access.received, access.denied, access.open),
        (1 + same, same, 1)
    );
    assert_eq!((know.received, know.complied_in_whole), (1, 1));
    assert!(know.median_days.is_some());
}

#[tokio::test]
async fn r20_a_one_time_code_to_the_e_mail_on_file_verifies() {
    let s = Server::start().await;
    let op = s.tenant_with("prairie", "controller", RESEARCH).await;
    let mail = s.data_dir().join("mail");
    s.engine.set_mailer(
        vow_engine::mail::Mailer::new(
            vow_engine::mail::MailTransport::File { dir: mail.clone() },
            "privacy@prairie.example",
        )
        .unwrap(),
    );
    s.post(&op, "/v1/tenants/prairie/subjects", json!({"identifiers": {"email": "onfile@example.org"},
        "fields": [{"category": "user.name", "value": "On File", "purposes": ["panel_management"]}]})).await;
    // The requester writes from another address; the code goes to the one on file.
    let (_, r) = submit(&s, &op, "prairie", json!({"type": "know", "channel": "web", "jurisdiction": "US-CA",
        "identifiers": {"email": "onfile@example.org"}, "contact_email": "someone.else@example.net"})).await;
    assert_eq!(r["state"], "verifying", "{r}");
    let id = r["id"].as_str().unwrap();
    let (st, r) = s
        .post(
            &op,
            &format!("/v1/tenants/prairie/requests/{id}/code"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let code_mail = std::fs::read_dir(&mail)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|m| m.contains("To: onfile@example.org"))
        .expect("the code went to the address on file");
    // The code stands on a line of its own (ids and dates elsewhere contain digits too).
    let code = code_mail
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.chars().all(|c| c.is_ascii_digit()))
        .expect("a six-digit code on its own line")
        .to_string();
    // The stored notice does not keep the code.
    assert!(!r.to_string().contains(&code));
    let (st, p) = step(&s, &op, "prairie", id, "verify", json!({"code": "000000"})).await;
    if code != "000000" {
        assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    }
    let (st, r) = step(&s, &op, "prairie", id, "verify", json!({"code": code})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "verified", "{r}");
}

#[tokio::test]
async fn corrections_are_verified_with_other_data_and_keep_history() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let (_, b) = s
        .post(&op, "/v1/tenants/acme/subjects", json!({"identifiers": {"email": "old@example.org", "phone": "+13065550177"},
            "fields": [{"category": "user.contact.email", "value": "old@example.org", "purposes": ["research"]}],
            "consents": [{"purpose": "research"}]}))
        .await;
    let subject = b["id"].as_str().unwrap().to_string();
    let fix = json!([{"category": "user.contact.email", "value": "new@example.org"}]);
    // Matching on the very e-mail being corrected does not count.
    let (_, r) = submit(&s, &op, "acme", json!({"type": "correct", "channel": "phone", "identifiers": {"email": "old@example.org"}, "corrections": fix})).await;
    assert_eq!(r["matched_points"], 0, "{r}");
    assert_eq!(r["state"], "verifying");
    let id = r["id"].as_str().unwrap();
    let (_, r) = step(
        &s,
        &op,
        "acme",
        id,
        "verify",
        json!({"identifiers": {"phone": "+1 306 555 0177"}}),
    )
    .await;
    assert_eq!(r["state"], "verified", "{r}");
    let (st, r) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{id}/fulfil"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["outcome"]["done"], "corrected");
    let (_, h) = s
        .get(
            &op,
            &format!("/v1/tenants/acme/subjects/{subject}/history?purpose=incentive_payment"),
        )
        .await;
    let values: Vec<&str> = h["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["old@example.org", "new@example.org"]);
}

#[tokio::test]
async fn r12_corrections_reach_exactly_the_recipients_that_had_the_data() {
    r12_scenario(crate::harness::Backend::Sqlite).await;
}

#[tokio::test]
async fn r12_and_erasure_on_postgres() {
    r12_scenario(crate::harness::Backend::Postgres).await;
}

async fn r12_scenario(backend: crate::harness::Backend) {
    let Some(s) = Server::start_on(backend).await else {
        return;
    };
    let op = s.tenant("acme").await;
    let ada = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    let bob = s
        .panelist(&op, "acme", "bob@example.org", "Bob Marsh")
        .await;
    // Ada's name goes to the lab partner (research); Bob's to payroll (incentives).
    let (st, d) = s
        .post(&op, "/v1/tenants/acme/disclosures", json!({"recipient": "lab-partner", "purpose": "research", "categories": ["user.name"], "subjects": [ada]}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    assert_eq!(d["records"][0]["fields"][0]["value"], "Ada Quill");
    let (st, d) = s
        .post(&op, "/v1/tenants/acme/disclosures", json!({"recipient": "payroll-co", "purpose": "incentive_payment", "categories": ["user.name"], "subjects": [bob]}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    assert_eq!(d["transfer"]["cross_border"], true);
    assert_eq!(d["transfer"]["safeguard"], "contract");
    // Ada asks for a correction of her name and her e-mail.
    let (_, r) = submit(
        &s,
        &op,
        "acme",
        json!({"type": "correct", "channel": "email", "identifiers": {"email": "ada@example.org"},
        "corrections": [{"category": "user.name", "value": "Ada Quill-Marsh"}]}),
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
    let mut tx = s.store().read().await.unwrap();
    let out: Vec<_> = tx
        .outbox("acme")
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.event == "subject.corrected")
        .collect();
    assert_eq!(out.len(), 1, "only the lab partner had Ada's name");
    assert_eq!(out[0].recipient.as_deref(), Some("lab-partner"));
    assert_eq!(out[0].subject_id.as_deref(), Some(ada.as_str()));
    assert!(
        !out[0].payload.contains("Ada Quill-Marsh"),
        "values travel sealed"
    );
    assert!(out[0].sealed.is_some());
    drop(tx);
    // Erasing Bob tells payroll, nobody else.
    let (_, r) = submit(
        &s,
        &op,
        "acme",
        json!({"type": "delete", "channel": "web", "identifiers": {"email": "bob@example.org"}}),
    )
    .await;
    let id = r["id"].as_str().unwrap();
    let (_, r) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{id}/fulfil"),
            json!({}),
        )
        .await;
    assert_eq!(r["outcome"]["recipients_notified"], 1, "{r}");
    let mut tx = s.store().read().await.unwrap();
    let erased: Vec<_> = tx
        .outbox("acme")
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.event == "subject.erased")
        .collect();
    assert_eq!(erased.len(), 1);
    assert_eq!(erased[0].recipient.as_deref(), Some("payroll-co"));
    drop(tx);
    s.drop_db().await;
}

#[tokio::test]
async fn r5_s4_r24_disclosures_only_to_named_recipients_for_their_purposes() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let ada = s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    let call = |body: Value| {
        let s = &s;
        let op = op.clone();
        async move { s.post(&op, "/v1/tenants/acme/disclosures", body).await }
    };
    // S4: a vendor gets only the categories its function needs.
    let (st, p) = call(json!({"recipient": "payroll-co", "purpose": "incentive_payment", "categories": ["user.health_and_medical"], "subjects": [ada]})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    assert!(crate::harness::reasons(&p).contains(&"recipient_category_not_allowed".to_string()));
    // R24: a forbidden purpose is refused outright.
    let (st, p) = call(json!({"recipient": "lab-partner", "purpose": "sale", "categories": ["user.name"], "subjects": [ada]})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(
        crate::harness::reasons(&p).contains(&"purpose_forbidden".to_string()),
        "{p}"
    );
    // Unknown recipients are refused.
    let (_, p) = call(json!({"recipient": "data-broker", "purpose": "research", "categories": ["user.name"], "subjects": [ada]})).await;
    assert_eq!(crate::harness::reasons(&p), ["recipient_unknown"]);
    // A person without consent is listed as refused and not sent; the log records the rest.
    let (_, b) = s.post(&op, "/v1/tenants/acme/subjects", json!({"identifiers": {"email": "nc@example.org"},
        "fields": [{"category": "user.name", "value": "No Consent", "purposes": ["incentive_payment"]}]})).await;
    let nc = b["id"].as_str().unwrap();
    let (st, d) = call(json!({"recipient": "lab-partner", "purpose": "research", "categories": ["user.name"], "subjects": [ada, nc]})).await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    assert_eq!(d["records"].as_array().unwrap().len(), 1);
    assert_eq!(d["refused"][0]["subject"], nc);
    let (_, log) = s.get(&op, "/v1/tenants/acme/disclosures").await;
    assert_eq!(log[0]["recipient"], "lab-partner");
    assert_eq!(
        (log[0]["subjects"].as_i64(), log[0]["refused"].as_i64()),
        (Some(1), Some(1))
    );
}

#[tokio::test]
async fn a_processor_may_forward_and_assist_instead_of_redirecting() {
    let s = Server::start().await;
    let (st, p) = s
        .post(&s.admin, "/v1/tenants", json!({"id": "fwd", "name": "F", "role": "processor",
            "controller": {"name": "Client Co.", "contact": "privacy@client.example", "requests": "sideways"}}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    let (st, _) = s.get(&s.admin, "/v1/tenants/fwd").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing half-created");
    let (st, b) = s
        .post(&s.admin, "/v1/tenants", json!({"id": "fwd", "name": "F", "role": "processor",
            "controller": {"name": "Client Co.", "contact": "privacy@client.example", "requests": "forward_assist"}}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    s.put_policy(&s.admin, "fwd", POLICY).await;
    let op = s.key("fwd", "operator", None).await;
    s.panelist(&op, "fwd", "p@example.org", "Pat").await;
    let (_, r) = submit(
        &s,
        &op,
        "fwd",
        json!({"type": "know", "channel": "web", "identifiers": {"email": "p@example.org"}}),
    )
    .await;
    assert_eq!(r["state"], "verified", "carried through here: {r}");
    let mut tx = s.store().read().await.unwrap();
    let out: Vec<_> = tx
        .outbox("fwd")
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.event != "key.created")
        .collect();
    assert_eq!(out[0].event, "request.forwarded");
    assert_eq!(out[0].recipient.as_deref(), Some("controller"));
}

#[tokio::test]
async fn expired_packages_are_destroyed_by_the_sweeper() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    let (_, r) = submit(
        &s,
        &op,
        "acme",
        json!({"type": "access", "channel": "web", "identifiers": {"email": "ada@example.org"}}),
    )
    .await;
    let id = r["id"].as_str().unwrap().to_string();
    s.post(
        &op,
        &format!("/v1/tenants/acme/requests/{id}/fulfil"),
        json!({}),
    )
    .await;
    assert_eq!(
        s.get(&op, &format!("/v1/tenants/acme/requests/{id}/export"))
            .await
            .0,
        StatusCode::OK
    );
    // Age the package past its link's expiry, then sweep.
    {
        let mut tx = s.store().write().await.unwrap();
        let (created, _, sealed) = tx.export(&id).await.unwrap().unwrap();
        tx.put_export(&id, created, created + 1, &sealed, &[9u8; 32])
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    s.engine
        .sweep_requests(&vow_engine::Actor::local("t"), &"acme".parse().unwrap())
        .await
        .unwrap();
    let mut tx = s.store().read().await.unwrap();
    assert!(
        tx.export(&id).await.unwrap().is_none(),
        "the expired package is gone"
    );
}

/// The events of a request, by name.
fn events(r: &Value) -> Vec<&str> {
    r["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event"].as_str().expect("event"))
        .collect()
}

#[tokio::test]
async fn r15_the_clock_pauses_only_where_every_law_allows_it() {
    let (s, clock) = Server::start_clocked("2026-03-02T10:00:00Z").await;
    // UK GDPR lets the clock stand while the controller waits for clarification; no promise binds.
    let uk = law_only()
        .replace("jurisdictions: [CA]", "jurisdictions: [UK]")
        .replace(
            "    country: CA\n",
            "    country: CA\n    safeguard: adequacy\n",
        );
    let op = s.tenant_with("britco", "controller", &uk).await;
    s.panelist(&op, "britco", "ada@example.org", "Ada").await;
    let (st, r) = submit(
        &s,
        &op,
        "britco",
        json!({"type": "access", "channel": "email",
        "identifiers": {"email": "ada@example.org"}}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["rules"], json!(["UK"]), "{r}");
    let id = r["id"].as_str().unwrap();
    let before = time(&r["due"]["response"]);
    let ceiling = time(&r["due"]["extended_max"]);

    let (st, p) = step(&s, &op, "britco", id, "pause", json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/reason");
    let (st, r) = step(
        &s,
        &op,
        "britco",
        id,
        "pause",
        json!({"reason": "which study's records?"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["flag"], "paused");
    assert_eq!(r["due"]["paused_since"], "2026-03-02T10:00:00.000Z");
    let (st, _) = step(&s, &op, "britco", id, "pause", json!({"reason": "again"})).await;
    assert_eq!(st, StatusCode::CONFLICT);

    // Ten days stand still; every deadline still ahead moves by exactly that.
    clock.advance(days(10));
    let (st, r) = step(&s, &op, "britco", id, "resume", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(time(&r["due"]["response"]), before + days(10));
    assert_eq!(time(&r["due"]["extended_max"]), ceiling + days(10));
    assert!(r["due"]["paused_since"].is_null());
    assert_ne!(r["flag"], "paused");
    let (st, _) = step(&s, &op, "britco", id, "resume", json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "nothing to resume");

    // The person's answer restarts the clock by itself.
    step(
        &s,
        &op,
        "britco",
        id,
        "pause",
        json!({"reason": "need your phone number"}),
    )
    .await;
    clock.advance(days(2));
    let (st, r) = step(
        &s,
        &op,
        "britco",
        id,
        "verify",
        json!({"identifiers": {"phone": "+447700900123"}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(time(&r["due"]["response"]), before + days(12));
    let ev = events(&r);
    assert_eq!(ev.iter().filter(|e| **e == "paused").count(), 2, "{ev:?}");
    assert_eq!(ev.iter().filter(|e| **e == "resumed").count(), 2, "{ev:?}");

    // Where a promise of n days binds (or a law does not pause), the clock runs on.
    let ca = s.tenant("acme").await;
    s.panelist(&ca, "acme", "bo@example.org", "Bo").await;
    let (_, r) = submit(
        &s,
        &ca,
        "acme",
        json!({"type": "access", "channel": "web",
        "identifiers": {"email": "bo@example.org"}}),
    )
    .await;
    let (st, p) = step(
        &s,
        &ca,
        "acme",
        r["id"].as_str().unwrap(),
        "pause",
        json!({"reason": "clarify"}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("promises"), "{p}");
}

#[tokio::test]
async fn r21_only_the_submitters_a_law_provides_for() {
    let s = Server::start().await;
    // PIPEDA alone: the person or their representative, no parent's request as such.
    let op = s.tenant_with("north", "controller", &law_only()).await;
    let (st, p) = submit(
        &s,
        &op,
        "north",
        json!({"type": "access", "channel": "mail",
        "identifiers": {"email": "kid@example.org"},
        "requester": {"kind": "parent", "evidence": {"parent_of": true}}}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/requester/kind");
    assert!(
        p["errors"][0]["detail"].as_str().unwrap().contains("CA"),
        "{p}"
    );
    let (st, r) = submit(
        &s,
        &op,
        "north",
        json!({"type": "access", "channel": "mail",
        "identifiers": {"email": "kid@example.org"},
        "requester": {"kind": "agent", "evidence": {"power_of_attorney": true}}}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "an agent is provided for: {r}");
}

#[tokio::test]
async fn r21_a_parent_acts_for_their_own_child_only() {
    let s = Server::start_at(crate::harness::TODAY).await;
    // California provides for a parent's request (§7070(c)).
    let both = POLICY.replace("jurisdictions: [CA]", "jurisdictions: [CA, US-CA]");
    let op = s.tenant_with("acme", "controller", &both).await;
    s.panelist(&op, "acme", "mum@example.org", "Mum Quill")
        .await;
    s.panelist(&op, "acme", "stranger@example.org", "Stranger")
        .await;
    let (st, b) = s
        .post(&op, "/v1/tenants/acme/subjects", json!({
            "identifiers": {"email": "kid@example.org"},
            "birth_date": "2014-06-01",
            "fields": [{"category": "user.name", "value": "Kid Quill", "purposes": ["research"]}],
            "consents": [{"purpose": "research", "kind": "parental", "parent": {"email": "mum@example.org"}}]
        }))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let ask = |parent: &str, evidence: Value, child: &str, born: &str| {
        json!({"type": "know", "channel": "web", "jurisdiction": "US-CA",
            "identifiers": {"email": child}, "birth_date": born,
            "requester": {"kind": "parent", "identifiers": {"email": parent}, "evidence": evidence}})
    };
    let authority =
        |r: &Value| r["events"].as_array().unwrap().last().unwrap()["note"]["authority"].clone();

    // The parent recorded on the child's parental consent needs no further document.
    let (st, r) = submit(
        &s,
        &op,
        "acme",
        ask(
            "mum@example.org",
            json!({}),
            "kid@example.org",
            "2014-06-01",
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["state"], "verified", "{r}");

    // Someone else's parent, with nothing to show, waits for evidence.
    let (_, r) = submit(
        &s,
        &op,
        "acme",
        ask(
            "stranger@example.org",
            json!({}),
            "kid@example.org",
            "2014-06-01",
        ),
    )
    .await;
    assert_eq!(r["state"], "verifying", "{r}");
    assert!(
        authority(&r)
            .as_str()
            .unwrap()
            .contains("parental authority"),
        "{r}"
    );

    // Nobody acts as a parent for an adult, whatever the papers say.
    let (_, r) = submit(
        &s,
        &op,
        "acme",
        ask(
            "mum@example.org",
            json!({"parent_of": true}),
            "stranger@example.org",
            "1990-01-31",
        ),
    )
    .await;
    assert_eq!(r["state"], "verifying", "{r}");
    assert!(
        authority(&r).as_str().unwrap().contains("only for a child"),
        "{r}"
    );

    let (st, p) = submit(
        &s,
        &op,
        "acme",
        ask("not-an-email", json!({}), "kid@example.org", "2014-06-01"),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/requester/identifiers/email");
}

#[tokio::test]
async fn r4_s12_every_disclosure_names_a_purpose_and_a_transfer_abroad_its_safeguard() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let ada = s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    // R4: no purpose, no disclosure.
    let (st, p) = s
        .post(
            &op,
            "/v1/tenants/acme/disclosures",
            json!({"recipient": "payroll-co", "categories": ["user.name"], "subjects": [ada]}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    // S12: the payroll vendor processes in the US, outside the policy's CA: the transfer
    // is marked cross-border with the policy's safeguard, in the answer and the log.
    let (st, d) = s
        .post(&op, "/v1/tenants/acme/disclosures",
            json!({"recipient": "payroll-co", "purpose": "incentive_payment", "categories": ["user.name"], "subjects": [ada]}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    assert_eq!(
        d["transfer"],
        json!({"country": "US", "cross_border": true, "safeguard": "contract"})
    );
    let (_, d) = s
        .post(&op, "/v1/tenants/acme/disclosures",
            json!({"recipient": "lab-partner", "purpose": "research", "categories": ["user.name"], "subjects": [ada]}))
        .await;
    assert_eq!(d["transfer"]["cross_border"], false, "{d}");
    let (_, log) = s.get(&op, "/v1/tenants/acme/disclosures").await;
    let purposes: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["purpose"].as_str().unwrap())
        .collect();
    assert_eq!(
        purposes,
        ["research", "incentive_payment"],
        "newest first: {log}"
    );
    // A recipient abroad without a safeguard cannot even be named in a policy.
    let bare = POLICY.replace("    safeguard: contract\n", "");
    let (st, p) = s.put_policy(&s.admin, "acme", &bare).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p.to_string().contains("missing_safeguard"), "{p}");
}
