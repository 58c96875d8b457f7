//! Retention (R6) and the data map (R9), end to end over HTTP and the CLI.

use crate::cli::{text, vow};
use crate::harness::{Backend, POLICY, Server};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use vow_core::FixedClock;

/// The test policy with retention rules: health data a year after collection; names two
/// years after the relationship ends; e-mail for newsletters 30 days after unsubscribing.
fn retention_policy() -> String {
    format!(
        "{POLICY}retention:
  - category: user.health_and_medical
    keep: 1y
    from: collected
  - category: user.name
    keep: 2y
    from: relationship_end
  - purpose: marketing.email
    keep: 30d
    from: consent_withdrawn
"
    )
}

fn days(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_hours(24 * n)
}

async fn start(backend: Backend) -> Option<(Server, Arc<FixedClock>, String)> {
    let clock = Arc::new(FixedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let s = Server::start_with_clock(backend, clock.clone()).await?;
    let op = s
        .tenant_with("acme", "controller", &retention_policy())
        .await;
    Some((s, clock, op))
}

async fn person(s: &Server, op: &str, email: &str, fields: Value, consents: Value) -> String {
    let (st, b) = s
        .post(
            op,
            "/v1/tenants/acme/subjects",
            json!({"identifiers": {"email": email}, "fields": fields, "consents": consents}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    b["id"].as_str().unwrap().to_string()
}

fn research() -> Value {
    json!([{"purpose": "research", "evidence": {"channel": "web"}}])
}

async fn read(s: &Server, op: &str, id: &str, cats: &[&str]) -> (StatusCode, Value) {
    s.post(
        op,
        &format!("/v1/tenants/acme/subjects/{id}/read"),
        json!({"purpose": "research", "categories": cats}),
    )
    .await
}

async fn run(s: &Server, op: &str, dry_run: bool) -> Value {
    let (st, r) = s
        .post(
            op,
            "/v1/tenants/acme/retention/run",
            json!({"dry_run": dry_run}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    r
}

fn rule(report: &Value, i: usize) -> &Value {
    &report["run"]["rules"][i]
}

async fn destroys_due_fields_and_records_the_run(backend: Backend) {
    let Some((s, clock, op)) = start(backend).await else {
        return;
    };
    let ada = person(
        &s,
        &op,
        "ada@example.org",
        json!([{"category": "user.name", "value": "Ada Quill", "purposes": ["research"]},
               {"category": "user.health_and_medical", "value": "asthma", "purposes": ["research"]}]),
        research(),
    )
    .await;
    // A correction a day later: the earlier version must go with the current one.
    clock.advance(days(1));
    let (st, b) = s
        .patch(
            &op,
            &format!("/v1/tenants/acme/subjects/{ada}"),
            json!({"fields": [{"category": "user.health_and_medical", "value": "asthma, mild"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    // Not yet a year after collection: nothing is due.
    clock.advance(days(300));
    let r = run(&s, &op, true).await;
    assert_eq!(r["run"]["fields_destroyed"], 0, "{r}");
    assert_eq!(r["due"], json!([]));

    clock.advance(days(70));
    let dry = run(&s, &op, true).await;
    assert_eq!(dry["run"]["dry_run"], true);
    assert_eq!(dry["run"]["fields_destroyed"], 1, "{dry}");
    assert_eq!(dry["run"]["subjects_shredded"], 0);
    assert_eq!(rule(&dry, 0)["fields_destroyed"], 1);
    assert_eq!(rule(&dry, 0)["category"], "user.health_and_medical");
    assert_eq!(
        dry["due"],
        json!([{"subject": ada, "categories": ["user.health_and_medical"], "held": [], "shred": false}])
    );
    // The dry run changed nothing.
    let (st, b) = read(&s, &op, &ada, &["user.health_and_medical"]).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["fields"][0]["value"], "asthma, mild");

    let real = run(&s, &op, false).await;
    assert_eq!(real["run"]["dry_run"], false);
    assert_eq!(real["run"]["fields_destroyed"], 1, "{real}");
    assert!(real.get("due").is_none(), "a real run lists no one: {real}");
    // Exactly what the dry run showed is gone, every version of it; the name stays.
    let (st, b) = read(&s, &op, &ada, &["user.health_and_medical", "user.name"]).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let cats: Vec<&str> = b["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["category"].as_str().unwrap())
        .collect();
    assert_eq!(cats, ["user.name"]);
    // Read for research, whose categories include the health field destroyed.
    let (_, h) = s
        .get(
            &op,
            &format!("/v1/tenants/acme/subjects/{ada}/history?purpose=research"),
        )
        .await;
    let hist = h.to_string();
    assert!(!hist.contains("asthma"), "{hist}");
    assert!(hist.contains("Ada Quill"));
    // A second run finds nothing more.
    let again = run(&s, &op, false).await;
    assert_eq!(again["run"]["fields_destroyed"], 0);

    let (st, runs) = s.get(&op, "/v1/tenants/acme/retention/runs").await;
    assert_eq!(st, StatusCode::OK, "{runs}");
    let runs = runs.as_array().unwrap().clone();
    assert_eq!(runs.len(), 4, "two dry runs and two runs");
    let destroyed: Vec<(bool, i64)> = runs
        .iter()
        .map(|r| {
            (
                r["dry_run"].as_bool().unwrap(),
                r["fields_destroyed"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(destroyed, [(false, 0), (false, 1), (true, 1), (true, 0)]);
    assert!(runs.iter().all(|r| r["finished_at"].is_string()));
    let text = serde_json::to_string(&runs).unwrap();
    assert!(!text.contains(&ada), "the run record holds no identifier");
    assert!(!text.contains("ada@example.org"));
    s.drop_db().await;
}

#[tokio::test]
async fn r6_retention_destroys_due_fields_and_records_the_run() {
    destroys_due_fields_and_records_the_run(Backend::Sqlite).await;
}

#[tokio::test]
async fn r6_retention_destroys_due_fields_and_records_the_run_on_postgres() {
    destroys_due_fields_and_records_the_run(Backend::Postgres).await;
}

#[tokio::test]
async fn r6_a_person_whose_data_is_all_due_is_crypto_shredded() {
    let (s, clock, op) = start(Backend::Sqlite).await.unwrap();
    let gone = person(
        &s,
        &op,
        "gone@example.org",
        json!([{"category": "user.health_and_medical", "value": "diabetes", "purposes": ["research"]}]),
        research(),
    )
    .await;
    let kept = person(
        &s,
        &op,
        "kept@example.org",
        json!([{"category": "user.name", "value": "Kim Kept", "purposes": ["research"]}]),
        research(),
    )
    .await;
    // Shredded with `gone` (in the same statements): one never disclosed.
    let also = person(
        &s,
        &op,
        "also@example.org",
        json!([{"category": "user.health_and_medical", "value": "asthma", "purposes": ["research"]}]),
        research(),
    )
    .await;
    let (st, b) = s
        .post(&op, "/v1/tenants/acme/disclosures",
            json!({"recipient": "lab-partner", "purpose": "research", "categories": ["user.health_and_medical"], "subjects": [gone]}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    clock.advance(days(366));
    let dry = run(&s, &op, true).await;
    assert_eq!(dry["run"]["subjects_shredded"], 2, "{dry}");
    assert_eq!(dry["due"][0]["subject"], gone.as_str());
    assert_eq!(dry["due"][0]["shred"], true);
    let real = run(&s, &op, false).await;
    assert_eq!(real["run"]["subjects_shredded"], 2, "{real}");
    assert_eq!(rule(&real, 0)["subjects_shredded"], 2);
    // The recipient that got `gone`'s data is told; nobody is told about `also`.
    let mut tx = s.store().read().await.unwrap();
    let told: Vec<(String, Option<String>, Option<String>)> = tx
        .outbox("acme")
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.event == "subject.erased")
        .map(|o| (o.event, o.recipient, o.subject_id))
        .collect();
    assert_eq!(
        told,
        [(
            "subject.erased".to_string(),
            Some("lab-partner".to_string()),
            Some(gone.clone())
        )]
    );
    assert!(tx.subject_key("acme", &also).await.unwrap().is_none());
    drop(tx);
    // The key is destroyed: nothing sealed for this person can be opened any more.
    let mut tx = s.store().read().await.unwrap();
    assert!(tx.subject_key("acme", &gone).await.unwrap().is_none());
    assert!(tx.identifiers("acme", &gone).await.unwrap().is_empty());
    assert!(tx.all_fields("acme", &gone).await.unwrap().is_empty());
    assert!(tx.subject_key("acme", &kept).await.unwrap().is_some());
    drop(tx);
    let (st, _) = read(&s, &op, &gone, &["user.health_and_medical"]).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .get(&op, "/v1/tenants/acme/subjects?email=gone@example.org")
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, b) = read(&s, &op, &kept, &["user.name"]).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(b["fields"][0]["value"], "Kim Kept");
    // The erasure is audited as erasures are, naming the run that caused it.
    let mut tx = s.store().read().await.unwrap();
    let audit = tx.audit_page(0, 10_000).await.unwrap();
    let erased: Vec<_> = audit
        .iter()
        .filter(|a| a.entry.action == "subject.erase")
        .collect();
    let mut who: Vec<&str> = erased
        .iter()
        .filter_map(|a| a.entry.subject_id.as_deref())
        .collect();
    who.sort_unstable();
    let mut want = [gone.as_str(), also.as_str()];
    want.sort_unstable();
    assert_eq!(who, want, "one entry per person");
    for erase in erased {
        assert!(
            erase
                .entry
                .detail
                .contains(real["run"]["id"].as_str().unwrap())
        );
        assert!(
            erase.entry.detail.contains("\"identifiers\":1"),
            "{}",
            erase.entry.detail
        );
    }
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.entry.action == "retention.run")
            .count(),
        1
    );
}

#[tokio::test]
async fn r6_s7_a_legal_hold_keeps_due_fields_and_is_counted() {
    let (s, clock, op) = start(Backend::Sqlite).await.unwrap();
    let held = person(
        &s,
        &op,
        "held@example.org",
        json!([{"category": "user.name", "value": "Hal Held", "purposes": ["research"]},
               {"category": "user.health_and_medical", "value": "claim file", "purposes": ["research"]}]),
        research(),
    )
    .await;
    let (st, b) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/subjects/{held}/holds"),
            json!({"categories": ["user.health_and_medical"], "reason": "pending insurance litigation", "until": "2030-01-01"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    clock.advance(days(400));
    let dry = run(&s, &op, true).await;
    assert_eq!(dry["run"]["held"], 1, "{dry}");
    assert_eq!(dry["run"]["fields_destroyed"], 0);
    assert_eq!(dry["due"][0]["held"], json!(["user.health_and_medical"]));
    let real = run(&s, &op, false).await;
    assert_eq!(real["run"]["held"], 1);
    assert_eq!(rule(&real, 0)["held"], 1);
    assert_eq!(real["run"]["fields_destroyed"], 0);
    let (st, b) = read(&s, &op, &held, &["user.health_and_medical"]).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["fields"][0]["value"], "claim file");
}

#[tokio::test]
async fn r6_consent_withdrawn_and_relationship_end_start_their_clocks() {
    let (s, clock, op) = start(Backend::Sqlite).await.unwrap();
    let id = person(
        &s,
        &op,
        "news@example.org",
        json!([{"category": "user.name", "value": "Nia News", "purposes": ["research"]},
               {"category": "user.contact.email", "value": "news@example.org", "purposes": ["marketing.email"]}]),
        json!([{"purpose": "research", "evidence": {"channel": "web"}},
               {"purpose": "marketing.email", "evidence": {"channel": "web"}}]),
    )
    .await;
    clock.advance(days(100));
    assert_eq!(run(&s, &op, true).await["run"]["fields_destroyed"], 0);
    let (st, b) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/subjects/{id}/consents"),
            json!({"purpose": "marketing.email", "action": "withdraw"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    clock.advance(days(29));
    assert_eq!(run(&s, &op, true).await["run"]["fields_destroyed"], 0);
    clock.advance(days(2));
    let r = run(&s, &op, false).await;
    assert_eq!(r["run"]["fields_destroyed"], 1, "{r}");
    assert_eq!(rule(&r, 2)["fields_destroyed"], 1);
    assert_eq!(rule(&r, 2)["from"], "consent_withdrawn");
    // The e-mail field is gone, and with it the e-mail identifier and its blind index.
    let (st, _) = s
        .get(&op, "/v1/tenants/acme/subjects?email=news@example.org")
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let mut tx = s.store().read().await.unwrap();
    assert!(tx.identifiers("acme", &id).await.unwrap().is_empty());
    drop(tx);

    // The name waits for the end of the relationship, then two years.
    let (st, b) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/subjects/{id}/relationship-end"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert!(b["relationship_ended_at"].is_string());
    clock.advance(days(365));
    assert_eq!(run(&s, &op, true).await["run"]["subjects_shredded"], 0);
    clock.advance(days(366));
    let r = run(&s, &op, false).await;
    assert_eq!(r["run"]["subjects_shredded"], 1, "{r}");
    assert_eq!(rule(&r, 1)["subjects_shredded"], 1);
}

#[tokio::test]
async fn r6_retention_endpoints_isolate_tenants_and_refuse_bad_input() {
    let (s, clock, op) = start(Backend::Sqlite).await.unwrap();
    let other = s
        .tenant_with("other", "controller", &retention_policy())
        .await;
    let id = person(
        &s,
        &op,
        "iso@example.org",
        json!([{"category": "user.name", "value": "Ivo", "purposes": ["research"]}]),
        research(),
    )
    .await;
    for (path, body) in [
        (
            "/v1/tenants/acme/retention/run",
            Some(json!({"dry_run": true})),
        ),
        ("/v1/tenants/acme/retention/runs", None),
        ("/v1/tenants/acme/reports/data-map", None),
        (
            &format!("/v1/tenants/acme/subjects/{id}/relationship-end") as &str,
            Some(json!({})),
        ),
    ] {
        let (st, p) = match body {
            Some(b) => s.post(&other, path, b).await,
            None => s.get(&other, path).await,
        };
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}: {p}");
        assert_eq!(p["code"], "not_found");
    }
    // Roles: an app key may not run retention.
    let app = s.key("acme", "app", Some(&["research"])).await;
    let (st, _) = s
        .post(&app, "/v1/tenants/acme/retention/run", json!({}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Bad input: precise problems, nothing recorded.
    let (st, p) = s
        .post(
            &op,
            "/v1/tenants/acme/retention/run",
            json!({"dry_run": "yes"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    let future = (vow_core::Clock::now(&*clock) + days(3)).to_string();
    for (body, pointer) in [
        (json!({"at": future}), "/at"),
        (json!({"at": "last tuesday"}), "/at"),
        (json!({"at": "2026-01-01T00:00:00Z", "clear": true}), "/at"),
    ] {
        let (st, p) = s
            .post(
                &op,
                &format!("/v1/tenants/acme/subjects/{id}/relationship-end"),
                body,
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
        assert_eq!(p["errors"][0]["pointer"], pointer, "{p}");
    }
    let (st, _) = s
        .post(
            &op,
            "/v1/tenants/acme/subjects/no-such-person/relationship-end",
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, runs) = s.get(&op, "/v1/tenants/acme/retention/runs").await;
    assert_eq!(runs, json!([]));
}

#[tokio::test]
async fn r9_data_map_shows_categories_stores_purposes_and_recipients() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    s.panelist(&op, "acme", "ada@example.org", "Ada").await;
    s.panelist(&op, "acme", "bo@example.org", "Bo").await;
    let (st, map) = s.get(&op, "/v1/tenants/acme/reports/data-map").await;
    assert_eq!(st, StatusCode::OK, "{map}");
    let cat = |name: &str| {
        map["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["category"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {map}"))
    };
    let name = cat("user.name");
    assert_eq!(name["live_fields"], 2);
    assert_eq!(name["stores"], json!(["primary", "backup"]));
    assert_eq!(
        name["purposes"],
        json!(["research", "incentive_payment", "marketing.email"])
    );
    let recipients: Vec<&str> = name["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(recipients, ["lab-partner", "payroll-co"]);
    let bank = cat("user.financial.bank_account");
    assert_eq!(bank["sensitive"], true);
    assert_eq!(bank["live_fields"], 0);
    assert_eq!(bank["recipients"][0]["country"], "US");
    assert_eq!(bank["recipients"][0]["safeguard"], "contract");
    let backup = map["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "backup")
        .unwrap()
        .clone();
    assert_eq!(backup["backup_retention_days"], 30);
    assert_eq!(backup["location"], "CA-SK, Saskatoon");
    assert!(
        map["cells"]
            .as_array()
            .unwrap()
            .contains(&json!({"category": "user.name", "store": "primary", "purpose": "incentive_payment", "live_fields": 2}))
    );
    assert!(
        map["cells"]
            .as_array()
            .unwrap()
            .contains(&json!({"category": "user.contact.email", "store": "primary", "purpose": "research", "live_fields": 2}))
    );
    assert_eq!(map["flags"], json!([]), "stored where the policy says");

    // A new policy version narrows the primary store and adds an empty one: both flagged.
    let v2 = POLICY
        .replace(
            "    location: CA-SK, Saskatoon\n    categories: [user]\n  - id: backup",
            "    location: CA-SK, Saskatoon\n    categories: [user.name, user.health_and_medical, user.financial]\n  - id: backup",
        )
        .replace(
            "stores:\n",
            "stores:\n  - id: archive\n    kind: media\n    location: CA-ON, Toronto\n    categories: [user.health_and_medical]\n",
        );
    let (st, b) = s.put_policy(&s.admin, "acme", &v2).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (_, map) = s.get(&op, "/v1/tenants/acme/reports/data-map").await;
    let flags = map["flags"].as_array().unwrap();
    assert!(
        flags.contains(&json!({"kind": "not_listed_for_store", "category": "user.contact.email", "store": "primary", "live_fields": 2})),
        "{map}"
    );
    assert!(
        flags.contains(&json!({"kind": "store_holds_nothing", "category": null, "store": "archive", "live_fields": 0})),
        "{map}"
    );

    // HTML and Markdown renderings of the same map.
    for (accept, expect) in [
        ("text/html", "<!DOCTYPE html>"),
        ("text/markdown", "# Data map: acme"),
    ] {
        let res = s
            .client
            .get(format!("{}/v1/tenants/acme/reports/data-map", s.base))
            .bearer_auth(&op)
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(accept)
        );
        let body = res.text().await.unwrap();
        assert!(body.starts_with(expect), "{body}");
        assert!(body.contains("Lab Partner Inc."));
        assert!(body.contains("archive"));
        assert!(!body.contains("Ada"), "never a value");
    }
}

#[test]
fn r6_cli_retention_dry_run_and_run_and_data_map() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, retention_policy()).unwrap();
    let o = vow(&[
        "tenant",
        "create",
        "--data",
        d,
        "--id",
        "acme",
        "--name",
        "Acme",
        "--role",
        "controller",
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // Health data collected years ago (with consent given then) is due now.
    let rows = [
        json!({"identifiers": {"email": "old@example.org"},
               "fields": [{"category": "user.name", "value": "Olga Old", "purposes": ["research"], "collected_at": "2020-01-10T00:00:00Z"},
                          {"category": "user.health_and_medical", "value": "old results", "purposes": ["research"], "collected_at": "2020-01-10T00:00:00Z"}],
               "consents": [{"purpose": "research", "at": "2020-01-01T00:00:00Z", "evidence": {"channel": "web"}}]}),
        json!({"identifiers": {"email": "new@example.org"},
               "fields": [{"category": "user.health_and_medical", "value": "new results", "purposes": ["research"]}],
               "consents": [{"purpose": "research", "evidence": {"channel": "web"}}]}),
    ]
    .map(|r| r.to_string())
    .join("\n");
    let file = dir.path().join("people.jsonl");
    std::fs::write(&file, rows).unwrap();
    let o = vow(&[
        "import",
        "--data",
        d,
        "--tenant",
        "acme",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));

    let o = vow(&[
        "retention",
        "run",
        "--data",
        d,
        "--tenant",
        "acme",
        "--dry-run",
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let dry: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(dry[0]["run"]["dry_run"], true);
    assert_eq!(dry[0]["run"]["fields_destroyed"], 1, "{dry}");
    assert_eq!(
        dry[0]["due"][0]["categories"],
        json!(["user.health_and_medical"])
    );
    assert!(!o.stdout.windows(3).any(|w| w == b"old"), "no values");

    let o = vow(&["retention", "run", "--data", d, "--output", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let real: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(real[0]["run"]["fields_destroyed"], 1, "{real}");
    let o = vow(&[
        "retention",
        "runs",
        "--data",
        d,
        "--tenant",
        "acme",
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let runs: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 2);

    let o = vow(&[
        "report", "data-map", "--data", d, "--tenant", "acme", "--format", "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let map: Value = serde_json::from_slice(&o.stdout).unwrap();
    let health = map["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "user.health_and_medical")
        .unwrap()
        .clone();
    assert_eq!(health["live_fields"], 1, "the old one was destroyed: {map}");
    let o = vow(&["report", "data-map", "--data", d, "--tenant", "acme"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("# Data map: acme"));

    // Bad input exits 2 with a message.
    let o = vow(&["retention", "run", "--data", d, "--tenant", "nobody"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = vow(&[
        "report", "data-map", "--data", d, "--tenant", "acme", "--format", "pdf",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[tokio::test]
async fn s7_what_a_hold_kept_after_an_erasure_goes_when_the_hold_ends() {
    let (s, clock, op) = start(Backend::Sqlite).await.unwrap();
    let id = person(
        &s,
        &op,
        "gone@example.org",
        json!([{"category": "user.name", "value": "Gus Gone", "purposes": ["research"]},
               {"category": "user.health_and_medical", "value": "claim file", "purposes": ["research"]}]),
        research(),
    )
    .await;
    let (st, b) = s
        .post(&op, &format!("/v1/tenants/acme/subjects/{id}/holds"),
            json!({"categories": ["user.health_and_medical"], "reason": "pending litigation", "until": "2026-06-01"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (_, r) = s
        .post(
            &op,
            "/v1/tenants/acme/requests",
            json!({"type": "delete", "channel": "web",
            "identifiers": {"email": "gone@example.org"}}),
        )
        .await;
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
    assert_eq!(
        (st, r["state"].as_str()),
        (StatusCode::OK, Some("partially_fulfilled")),
        "{r}"
    );
    let held = |s: &Server| {
        let store = s.store().clone();
        let id = id.clone();
        async move {
            let mut tx = store.read().await.unwrap();
            let fields = tx.all_fields("acme", &id).await.unwrap().len();
            let key = tx.subject_key("acme", &id).await.unwrap().is_some();
            (fields, key)
        }
    };
    assert_eq!(
        held(&s).await,
        (1, true),
        "the held field is kept under a fresh key"
    );
    // While the hold lasts, a run leaves it alone.
    run(&s, &op, false).await;
    assert_eq!(held(&s).await, (1, true));
    // Once it ends, the next run destroys the field and the key it was sealed under.
    clock.advance(days(100));
    let r = run(&s, &op, false).await;
    assert_eq!(r["run"]["fields_destroyed"], 1, "{r}");
    assert_eq!(held(&s).await, (0, false));
}
