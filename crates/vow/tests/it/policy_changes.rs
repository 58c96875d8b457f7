//! S5: a new policy version is announced with what it changed, its effective date is
//! kept, and a new or widened consent purpose needs consent again before reads.

use crate::cli::{text, vow};
use crate::harness::{Backend, POLICY, Server, reasons};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Version 2 of the test policy: a new consent purpose (`surveys.phone`), a recipient
/// for it, a retention rule, `marketing.email` widened to every contact category, a
/// shorter promised response time and a new effective date (already past).
fn v2() -> String {
    POLICY
        .replace("effective_date: 2026-01-01", "effective_date: 2026-02-01")
        .replace(
            "    categories: [user.name, user.contact.email]\n",
            "    categories: [user.name, user.contact]\n  - id: surveys.phone\n    description: Telephone surveys\n    basis: consent\n    categories: [user.contact.email]\n",
        )
        .replace(
            "stores:\n",
            "  - id: call-centre\n    name: Call Centre Ltd.\n    kind: vendor\n    categories: [user.contact.email]\n    purposes: [surveys.phone]\n    country: CA\nstores:\n",
        )
        .replace(
            "jurisdictions: [CA]\n",
            "jurisdictions: [CA]\nretention:\n  - category: user.contact\n    keep: 1y\n    from: last_activity\n",
        )
        .replace("requests_days: 30", "requests_days: 20")
}

pub(crate) fn mailer(s: &Server) -> std::path::PathBuf {
    let mail = s.data_dir().join("mail");
    s.engine.set_mailer(
        vow_engine::mail::Mailer::new(
            vow_engine::mail::MailTransport::File { dir: mail.clone() },
            "vow@platform.example",
        )
        .unwrap(),
    );
    mail
}

fn ids(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["change"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn s5_a_new_policy_version_is_announced_with_its_changes() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let other = s.tenant("other").await;
    let mail = mailer(&s);
    let ada = s.panelist(&op, "acme", "ada@example.org", "Ada").await;

    let (st, b) = s.put_policy(&s.admin, "acme", &v2()).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["version"], 2);
    let c = &b["changes"];
    assert_eq!(c["previous_version"], 1);
    assert_eq!(c["effective_date"], "2026-02-01");
    assert_eq!(
        c["diff"]["effective_date"],
        json!({"from": "2026-01-01", "to": "2026-02-01"})
    );
    assert_eq!(
        ids(&c["diff"]["purposes"]),
        [
            ("marketing.email".to_string(), "changed".to_string()),
            ("surveys.phone".to_string(), "added".to_string())
        ]
    );
    assert_eq!(
        ids(&c["diff"]["recipients"]),
        [("call-centre".to_string(), "added".to_string())]
    );
    assert_eq!(
        ids(&c["diff"]["retention"]),
        [(
            "user.contact for any purpose".to_string(),
            "added".to_string()
        )]
    );
    assert_eq!(c["diff"]["response_times"][0]["field"], "requests_days");
    assert_eq!(c["diff"]["response_times"][0]["from"], 30);
    assert_eq!(c["diff"]["response_times"][0]["to"], 20);
    let fresh: Vec<&str> = c["fresh_consent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["purpose"].as_str().unwrap())
        .collect();
    assert_eq!(fresh, ["marketing.email", "surveys.phone"]);
    // Ada holds her name and e-mail: both purposes reach her.
    assert_eq!(c["affected_subjects"], 1);
    assert_eq!(c["notices"].as_array().unwrap().len(), 1, "{c}");
    assert_eq!(c["notices"][0]["to"], "privacy@test.example");
    assert!(c["notices"][0]["sent_at"].is_string(), "{c}");

    // The history lists both versions with their dates and summaries.
    let (st, list) = s.get(&op, "/v1/tenants/acme/policy/versions").await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["effective_date"], "2026-01-01");
    assert_eq!(list[1]["effective_date"], "2026-02-01");
    assert_eq!(
        list[1]["fresh_consent"],
        json!(["marketing.email", "surveys.phone"])
    );
    let summary = list[1]["summary"].to_string();
    for needle in [
        "effective date: 2026-01-01 -> 2026-02-01",
        "purpose surveys.phone added",
        "recipient call-centre added",
        "retention rule user.contact for any purpose added",
        "response time requests_days: 30 -> 20 days",
    ] {
        assert!(summary.contains(needle), "{needle} missing from {summary}");
    }
    let (st, one) = s
        .get(&op, "/v1/tenants/acme/policy/versions/2/changes")
        .await;
    assert_eq!(st, StatusCode::OK, "{one}");
    assert_eq!(one["diff"], c["diff"]);
    assert_eq!(
        one["notices"][0]["message_id"],
        c["notices"][0]["message_id"]
    );

    // The administrators' notice went out as an e-mail with the changes and the date.
    let emls: Vec<String> = std::fs::read_dir(&mail)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(emls.len(), 1);
    let eml = emls[0].replace("=\r\n", "").replace("\r\n", "\n");
    assert!(eml.contains("To: privacy@test.example"), "{eml}");
    assert!(
        eml.contains("takes effect on Sunday 1 February 2026"),
        "{eml}"
    );
    assert!(eml.contains("surveys.phone"), "{eml}");
    assert!(eml.contains("call-centre"), "{eml}");
    assert!(eml.contains("fresh_consent_required"), "{eml}");
    assert!(!eml.contains("ada@example.org"), "{eml}");

    // A processor tenant's controlling client, the platform's user, is told too.
    s.tenant_with("hosted", "processor", POLICY).await;
    let (st, b) = s.put_policy(&s.admin, "hosted", &v2()).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let to: Vec<&str> = b["changes"]["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["to"].as_str().unwrap())
        .collect();
    assert_eq!(to, ["privacy@test.example", "privacy@client.example"]);
    // Three policy notices; the hosted tenant's new operator key was announced too.
    let (keys, policies): (Vec<String>, Vec<String>) = std::fs::read_dir(&mail)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .partition(|m| m.contains("Subject: Vow: a new operator key for hosted"));
    assert_eq!((policies.len(), keys.len()), (3, 1));

    // Consents keep the version they were given under.
    let (_, consents) = s
        .get(&op, &format!("/v1/tenants/acme/subjects/{ada}/consents"))
        .await;
    assert_eq!(consents["history"][0]["policy_version"], 1);

    // The publish is audited with the summary, and nothing about a person.
    let mut tx = s.store().read().await.unwrap();
    let entries = tx.audit_page(0, 1000).await.unwrap();
    let publish: Vec<_> = entries
        .iter()
        .filter(|e| {
            e.entry.action == "policy.publish" && e.entry.tenant_id.as_deref() == Some("acme")
        })
        .collect();
    assert_eq!(publish.len(), 2);
    let detail = &publish[1].entry.detail;
    assert!(detail.contains("purpose surveys.phone added"), "{detail}");
    assert!(detail.contains("\"affected_subjects\":1"), "{detail}");
    assert!(
        !detail.contains("ada") && !detail.contains(&ada),
        "{detail}"
    );
    drop(tx);

    // Another tenant's key sees neither; unknown versions are not found.
    for path in [
        "/v1/tenants/acme/policy/versions",
        "/v1/tenants/acme/policy/versions/2/changes",
    ] {
        let (st, p) = s.get(&other, path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{p}");
        assert_eq!(p["code"], "not_found");
    }
    let (st, p) = s
        .get(&op, "/v1/tenants/acme/policy/versions/9/changes")
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{p}");
    let (st, _) = s
        .get(&op, "/v1/tenants/acme/policy/versions/two/changes")
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // A policy file may not set what Vow keeps per version.
    let (st, p) = s
        .put_policy(
            &s.admin,
            "acme",
            &format!("{}consent_since: {{research: 1}}\n", v2()),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(
        p["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "engine_owned_key" && d["path"] == "consent_since"),
        "{p}"
    );
}

async fn fresh_consent_on(backend: Backend) {
    let Some(s) = Server::start_on(backend).await else {
        return;
    };
    let op = s.tenant("acme").await;
    let ada = s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    let consent = |purpose: &str| json!({"purpose": purpose, "action": "grant", "kind": "express", "evidence": {"channel": "web"}});
    let (st, b) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/subjects/{ada}/consents"),
            consent("marketing.email"),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let read = |purpose: &'static str, category: &'static str| {
        let s = &s;
        let op = op.clone();
        let ada = ada.clone();
        async move {
            s.post(
                &op,
                &format!("/v1/tenants/acme/subjects/{ada}/read"),
                json!({"purpose": purpose, "categories": [category]}),
            )
            .await
        }
    };
    let (st, _) = read("marketing.email", "user.name").await;
    assert_eq!(st, StatusCode::OK);

    let (st, b) = s.put_policy(&s.admin, "acme", &v2()).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["changes"]["affected_subjects"], 1);

    // Widened: her consent was given under version 1, before the purpose took its new form.
    let (st, p) = read("marketing.email", "user.name").await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    assert_eq!(reasons(&p), ["fresh_consent_required"]);
    let (_, d) = s
        .post(
            &op,
            "/v1/tenants/acme/decisions",
            json!({"subject": ada, "purpose": "marketing.email", "categories": ["user.name"]}),
        )
        .await;
    assert_eq!(d["allowed"], false);
    assert_eq!(d["reasons"][0]["code"], "fresh_consent_required");
    // New: she never consented to it at all.
    let (st, p) = read("surveys.phone", "user.contact.email").await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    assert_eq!(reasons(&p), ["no_consent"]);
    // Unchanged purposes go on as before.
    let (st, b) = read("research", "user.name").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["fields"][0]["value"], "Ada");

    // She consents again, under version 2: both reads are allowed.
    for purpose in ["marketing.email", "surveys.phone"] {
        let (st, b) = s
            .post(
                &op,
                &format!("/v1/tenants/acme/subjects/{ada}/consents"),
                consent(purpose),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}");
    }
    let (st, p) = read("marketing.email", "user.name").await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (st, p) = read("surveys.phone", "user.contact.email").await;
    assert_eq!(st, StatusCode::OK, "{p}");

    // A third version that leaves the purposes alone keeps the requirement: the
    // consents given under version 2 still count.
    let v3 = v2().replace("effective_date: 2026-02-01", "effective_date: 2026-03-01");
    let (st, b) = s.put_policy(&s.admin, "acme", &v3).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["changes"]["fresh_consent"], json!([]));
    assert_eq!(b["changes"]["affected_subjects"], 0);
    let (st, p) = read("marketing.email", "user.name").await;
    assert_eq!(st, StatusCode::OK, "{p}");
    s.drop_db().await;
}

#[tokio::test]
async fn s5_a_new_purpose_needs_fresh_consent_before_reads() {
    fresh_consent_on(Backend::Sqlite).await;
}

#[tokio::test]
async fn s5_a_new_purpose_needs_fresh_consent_before_reads_on_postgres() {
    fresh_consent_on(Backend::Postgres).await;
}

#[test]
fn policy_diff_compares_two_files_without_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v1.yaml");
    let new = dir.path().join("v2.yaml");
    std::fs::write(&old, POLICY).unwrap();
    std::fs::write(&new, v2()).unwrap();
    let o = vow(&[
        "policy",
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["diff"]["effective_date"]["to"], "2026-02-01");
    assert!(
        v["summary"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "recipient call-centre added (name Call Centre Ltd.; kind vendor; categories user.contact.email; purposes surveys.phone; country CA)"),
        "{v}"
    );
    assert_eq!(v["fresh_consent"][1]["purpose"], "surveys.phone");
    assert_eq!(v["fresh_consent"][1]["reason"], "new_purpose");
    let o = vow(&[
        "policy",
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(
        text(&o).contains("needs fresh consent: surveys.phone (new purpose)"),
        "{}",
        text(&o)
    );

    // A broken file: its problems with positions, exit 2.
    std::fs::write(&new, "format: 1\nbogus: 1\n").unwrap();
    let o = vow(&[
        "policy",
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("v2.yaml:2"), "{}", text(&o));
}

#[test]
fn tenant_versions_lists_what_each_version_changed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    crate::cli::cli_store(
        dir.path(),
        &format!("{}\n", crate::cli::person("ada@example.org", "Ada")),
    );
    let file = dir.path().join("v2.yaml");
    std::fs::write(&file, v2()).unwrap();
    let o = vow(&[
        "tenant",
        "publish",
        "--data",
        d,
        "--tenant",
        "acme",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("purpose surveys.phone added"), "{out}");
    assert!(
        out.contains("needs fresh consent: marketing.email (categories widened), 1 people"),
        "{out}"
    );
    let o = vow(&[
        "tenant", "versions", "--data", d, "--tenant", "acme", "--output", "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[1]["version"], 2);
    assert_eq!(v[1]["effective_date"], "2026-02-01");
    assert_eq!(v[1]["affected_subjects"], 1);
    let o = vow(&["tenant", "versions", "--data", d, "--tenant", "nobody"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
