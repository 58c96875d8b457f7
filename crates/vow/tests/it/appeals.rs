//! Appeals of denials (issue 10; RULES.md VA-02, CO-03, CT-03): an appeal is a
//! request of its own with the law's appeal deadline, decided by fulfilling or denying
//! it; its denial is final and names the regulator. Filed through the API, the CLI,
//! and the form a denial notice links to.

use crate::cli::{text, vow};
use crate::harness::{Backend, POLICY, Server, TODAY};
use crate::pages::{Page, forged, get};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The test policy, also answering people in Virginia and Colorado.
fn policy() -> String {
    POLICY.replace(
        "jurisdictions: [CA]",
        "jurisdictions: [CA, US-VA, US-CO, US-CT]",
    )
}

async fn setup(s: &Server) -> String {
    let op = s.tenant("acme").await;
    let (st, b) = s.put_policy(&s.admin, "acme", &policy()).await;
    assert!(st.is_success(), "{b}");
    s.panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    op
}

/// An access request from Ada under `jurisdiction`, verified at intake (e-mail and
/// birth date), then denied as exempt.
async fn denied(s: &Server, op: &str, jurisdiction: &str) -> Value {
    let (st, r) = s
        .post(
            op,
            "/v1/tenants/acme/requests",
            json!({"type": "access", "channel": "web", "jurisdiction": jurisdiction,
                   "identifiers": {"email": "ada@example.org"}, "birth_date": "1990-01-31"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let id = r["id"].as_str().unwrap();
    let (st, r) = s
        .post(
            op,
            &format!("/v1/tenants/acme/requests/{id}/deny"),
            json!({"reasons": [{"code": "exempt", "detail": "Kept for a study under way."}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    r
}

fn notice<'a>(r: &'a Value, kind: &str) -> &'a str {
    r["notices"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|n| n["kind"] == kind)
        .and_then(|n| n["text"].as_str())
        .unwrap_or_else(|| panic!("a {kind} notice: {r}"))
}

fn time(v: &Value) -> jiff::Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

/// Days from `a` to `b`, rounded down.
fn days(a: &Value, b: &Value) -> i64 {
    (time(b) - time(a)).get_seconds() / 86_400
}

#[tokio::test]
async fn r15_an_appeal_is_a_request_with_its_own_deadline_and_a_final_decision() {
    appeal_scenario(Server::start_at(TODAY).await, true).await;
}

#[tokio::test]
async fn r15_appeals_on_postgres() {
    if let Some(s) = Server::start_on_at(Backend::Postgres, TODAY).await {
        appeal_scenario(s, false).await;
    }
}

/// `sqlite`: also look for the statement in the database file.
async fn appeal_scenario(s: Server, sqlite: bool) {
    s.engine.set_public_url(&s.base);
    let op = setup(&s).await;
    let original = denied(&s, &op, "US-VA").await;
    let id = original["id"].as_str().unwrap();
    // The denial tells how to appeal, with a link to the form.
    let words = notice(&original, "denial");
    assert!(words.contains("may appeal"), "{words}");
    assert!(
        words.contains(&format!("{}/privacy/acme/request/appeal/", s.base)),
        "{words}"
    );

    let (st, appeal) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{id}/appeal"),
            json!({"statement": "The study ended in 2025.", "channel": "email"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{appeal}");
    let aid = appeal["id"].as_str().unwrap();
    assert_ne!(aid, id);
    assert_eq!(appeal["appeal_of"], id);
    assert_eq!(appeal["type"], "access");
    assert_eq!(appeal["channel"], "email");
    // Virginia decides appeals within 60 days of receipt (VA-02); the identity check
    // of the denied request carries over.
    assert_eq!(appeal["rules"], json!(["US-VA"]));
    assert_eq!(appeal["due"]["binding"], "US-VA");
    assert_eq!(days(&appeal["received_at"], &appeal["due"]["response"]), 60);
    assert_eq!(appeal["state"], "verified", "{appeal}");
    let ack = notice(&appeal, "acknowledgement");
    assert!(ack.contains("We received your appeal"), "{ack}");
    assert!(ack.contains(id), "{ack}");
    // The statement is sealed: not in the database file in plaintext.
    if sqlite {
        for file in ["vow.db", "vow.db-wal"] {
            let bytes = std::fs::read(s.data_dir().join(file)).unwrap_or_default();
            assert!(!String::from_utf8_lossy(&bytes).contains("The study ended"));
        }
    }

    // The denied request points at its appeal, in the single view and the list.
    let (_, o) = s.get(&op, &format!("/v1/tenants/acme/requests/{id}")).await;
    assert_eq!(o["appealed_by"], aid);
    assert!(
        o["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "appealed")
    );
    let (_, list) = s.get(&op, "/v1/tenants/acme/requests").await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == aid)
        .unwrap();
    assert_eq!(listed["appeal_of"], id);

    // One appeal per denial.
    let (st, p) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{id}/appeal"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");

    // Denying the appeal is final: the notice names the regulator, offers no appeal.
    let (st, d) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{aid}/deny"),
            json!({"reasons": [{"code": "exempt"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let words = notice(&d, "denial");
    assert!(words.contains("our decision on your appeal"), "{words}");
    assert!(words.contains("Attorney General of Virginia"), "{words}");
    assert!(!words.contains("/request/appeal/"), "{words}");
    let (st, p) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{aid}/appeal"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("final"), "{p}");
    s.drop_db().await;
}

#[tokio::test]
async fn appeals_follow_the_law_that_applied() {
    let s = Server::start_at(TODAY).await;
    let op = setup(&s).await;
    // Colorado: 45 days (CO-03). A granted appeal is carried out.
    let original = denied(&s, &op, "US-CO").await;
    let id = original["id"].as_str().unwrap();
    let (st, appeal) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{id}/appeal"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{appeal}");
    assert_eq!(days(&appeal["received_at"], &appeal["due"]["response"]), 45);
    let aid = appeal["id"].as_str().unwrap();
    let (st, done) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{aid}/fulfil"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert_eq!(done["state"], "fulfilled", "{done}");

    // Canada (PIPEDA) has no appeal: the denial names the Commissioner instead.
    let original = denied(&s, &op, "CA").await;
    assert!(!notice(&original, "denial").contains("/request/appeal/"));
    let id = original["id"].as_str().unwrap();
    let (st, p) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{id}/appeal"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("provides an appeal"),
        "{p}"
    );

    // Only a denial can be appealed; bad input is named.
    let (_, open) = s
        .post(
            &op,
            "/v1/tenants/acme/requests",
            json!({"type": "know", "channel": "web", "jurisdiction": "US-VA",
                   "identifiers": {"email": "ada@example.org"}}),
        )
        .await;
    let oid = open["id"].as_str().unwrap();
    let (st, p) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{oid}/appeal"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    let (st, p) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/requests/{oid}/appeal"),
            json!({"channel": "pigeon"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    let (st, p) = s
        .post(
            &op,
            "/v1/tenants/acme/requests/nope/appeal",
            json!({"statement": "x".repeat(5_001)}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    let (st, _) = s
        .post(&op, "/v1/tenants/acme/requests/nope/appeal", json!({}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_appeal_form_of_a_denial_notice_files_the_appeal() {
    let s = Server::start_at(TODAY).await;
    s.engine.set_public_url(&s.base);
    let op = setup(&s).await;
    let original = denied(&s, &op, "US-VA").await;
    let id = original["id"].as_str().unwrap();
    let words = notice(&original, "denial");
    let at = words.find("/privacy/acme/request/appeal/").unwrap();
    let path: String = words[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/-_".contains(*c))
        .collect();

    // The form: the same page for the real link and a forged one.
    let form = get(&s, &path, &[]).await;
    assert_eq!(form.status, StatusCode::OK);
    form.assert_safe();
    assert!(form.body.contains("<textarea"), "{}", form.body);
    let cookie = form.cookie();
    let csrf = form.csrf();
    let same = get(&s, &path, &[("cookie", &cookie)]).await;
    let fake = get(&s, &forged(&path), &[("cookie", &cookie)]).await;
    assert_eq!(fake.body, same.body);

    let post = |path: String, body: String, cookie: Option<String>| {
        let mut req = s
            .client
            .post(format!("{}{path}", s.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        async move { Page::from(req.send().await.unwrap()).await }
    };
    // Without the form token: refused, nothing filed.
    let refused = post(path.clone(), "statement=hi".into(), Some(cookie.clone())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // A forged link: the same thank-you page, nothing filed.
    let body = format!("csrf={csrf}&statement=Please+look+again");
    let fake = post(forged(&path), body.clone(), Some(cookie.clone())).await;
    assert_eq!(fake.status, StatusCode::OK);
    let (_, o) = s.get(&op, &format!("/v1/tenants/acme/requests/{id}")).await;
    assert!(o["appealed_by"].is_null(), "{o}");
    // The real link: filed, by the web.
    let done = post(path.clone(), body.clone(), Some(cookie.clone())).await;
    assert_eq!(done.status, StatusCode::OK);
    done.assert_safe();
    assert_eq!(done.body, fake.body);
    let (_, o) = s.get(&op, &format!("/v1/tenants/acme/requests/{id}")).await;
    let aid = o["appealed_by"].as_str().expect("appealed").to_string();
    let (_, a) = s
        .get(&op, &format!("/v1/tenants/acme/requests/{aid}"))
        .await;
    assert_eq!(a["channel"], "web");
    assert_eq!(a["appeal_of"], id);
    // Again: the same page, no second appeal.
    let again = post(path.clone(), body, Some(cookie)).await;
    assert_eq!(again.body, done.body);
    let (_, list) = s.get(&op, "/v1/tenants/acme/requests?all=true").await;
    let appeals = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["appeal_of"] == id)
        .count();
    assert_eq!(appeals, 1);
    // The link works only on its own tenant's page.
    let other = path.replacen("/privacy/acme/", "/privacy/other/", 1);
    let form = get(&s, &other, &[]).await;
    assert_eq!(form.status, StatusCode::OK);
}

#[test]
fn the_cli_files_an_appeal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, policy()).unwrap();
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
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = vow(&[
        "request",
        "submit",
        "--data",
        d,
        "--tenant",
        "acme",
        "--type",
        "know",
        "--channel",
        "mail",
        "--jurisdiction",
        "US-CT",
        "--email",
        "ada@example.org",
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let id = r["id"].as_str().unwrap();
    let o = vow(&[
        "request", "deny", "--data", d, "--tenant", "acme", id, "--reason", "no_data",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = vow(&[
        "request",
        "appeal",
        "--data",
        d,
        "--tenant",
        "acme",
        id,
        "--statement",
        "You do hold my data.",
        "--channel",
        "mail",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains(&format!("appeal of:    {id}")), "{out}");
    let o = vow(&[
        "request", "appeal", "--data", d, "--tenant", "acme", id, "--output", "json",
    ]);
    // A second appeal is refused as bad input (exit 2), naming the first.
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("appealed already"), "{}", text(&o));
}
