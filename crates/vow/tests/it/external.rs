//! The organisation's own databases (issue 11) through the public API: connections
//! with sealed credentials, datasets checked against the live schema, and access,
//! erasure and correction requests that reach the shop's database through connector
//! jobs, with per-collection results and an audit trail of counts.

use crate::harness::Server;
use reqwest::StatusCode;
use serde_json::{Value, json};
use vow_connect::Kind;
use vow_connect::shop::{self, TestDb};

const SHOP_POLICY: &str = include_str!("../../../../examples/shop/policy.yaml");

/// A shop tenant whose database (SQLite or a real server) holds `customers` people,
/// registered as connection `orders`. Returns the operator key and the database.
pub(crate) async fn shop(s: &Server, kind: Kind, customers: u64) -> (String, TestDb) {
    let op = s.tenant_with("shop", "controller", SHOP_POLICY).await;
    let db = TestDb::shop(kind, customers, 7)
        .await
        .expect("the shop database");
    let (st, c) = s
        .call(
            reqwest::Method::PUT,
            &op,
            "/v1/tenants/shop/connections/orders",
            // The fixture made the file; Vow opens it as it is.
            Some(json!({"url": db.target.url().replace("?mode=rwc", ""), "max_concurrency": 4})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    let (st, d) = register(s, &op, &shop::shop_dataset()).await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    assert_eq!(d[0]["fides_key"], "shop");
    assert_eq!(d[0]["collections"].as_array().map(Vec::len), Some(8), "{d}");
    (op, db)
}

async fn register(s: &Server, key: &str, yaml: &str) -> (StatusCode, Value) {
    let res = s
        .client
        .post(format!(
            "{}/v1/tenants/shop/datasets?connection=orders",
            s.base
        ))
        .bearer_auth(key)
        .header("content-type", "application/yaml")
        .body(yaml.to_string())
        .send()
        .await
        .expect("request");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A person the shop's vault knows, by e-mail: requests about them are verified by
/// matching what is held.
pub(crate) async fn customer_in_vault(s: &Server, key: &str, email: &str) {
    let (st, b) = s
        .post(
            key,
            "/v1/tenants/shop/subjects",
            json!({"identifiers": {"email": email},
                   "fields": [{"category": "user.contact.email", "value": email, "purposes": ["orders"], "source": "checkout"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
}

/// Submit a request and fulfil it: it waits on its connector jobs.
pub(crate) async fn submit_and_fulfil(s: &Server, key: &str, body: Value) -> String {
    let (st, r) = s.post(key, "/v1/tenants/shop/requests", body).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    let (st, r) = s
        .post(
            key,
            &format!("/v1/tenants/shop/requests/{id}/fulfil"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(
        r["state"], "in_progress",
        "waits on its connector jobs: {r}"
    );
    id
}

pub(crate) async fn run_jobs(s: &Server, key: &str) -> Value {
    let (st, r) = s
        .post(key, "/v1/tenants/shop/connector-jobs/run", json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    r
}

/// Put a request's failed jobs back (`…/connector-jobs/retry`), which must succeed.
async fn retry_jobs(s: &Server, key: &str, id: &str) {
    let (st, b) = s
        .post(
            key,
            &format!("/v1/tenants/shop/requests/{id}/connector-jobs/retry"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
}

/// A request and its connector jobs as the API shows them.
#[derive(Debug)]
pub(crate) struct Seen {
    /// `GET …/requests/{id}`.
    request: Value,
    /// `GET …/requests/{id}/connector-jobs`.
    jobs: Value,
}

impl Seen {
    /// The request's state and each job's state, to check in one assertion.
    pub(crate) fn states(&self) -> (&str, Vec<&str>) {
        let jobs = self.jobs.as_array().map_or(&[][..], Vec::as_slice);
        (
            self.request["state"].as_str().unwrap_or_default(),
            jobs.iter()
                .map(|j| j["state"].as_str().unwrap_or_default())
                .collect(),
        )
    }
}

/// Fetch a request and its connector jobs.
pub(crate) async fn state_of(s: &Server, key: &str, id: &str) -> Seen {
    let (st, request) = s.get(key, &format!("/v1/tenants/shop/requests/{id}")).await;
    assert_eq!(st, StatusCode::OK, "{request}");
    let (st, jobs) = s
        .get(
            key,
            &format!("/v1/tenants/shop/requests/{id}/connector-jobs"),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{jobs}");
    assert!(jobs.is_array(), "{jobs}");
    Seen { request, jobs }
}

type Snapshot =
    std::collections::BTreeMap<String, std::collections::BTreeMap<i64, Vec<Option<String>>>>;

async fn snapshot(db: &TestDb) -> Snapshot {
    let conn = vow_connect::Db::open(&db.target, 2).await.unwrap();
    shop::snapshot(&conn).await.unwrap()
}

#[tokio::test]
async fn connections_are_sealed_and_shown_without_their_password() {
    let s = Server::start().await;
    let op = s.tenant_with("shop", "controller", SHOP_POLICY).await;
    let (st, c) = s
        .call(
            reqwest::Method::PUT,
            &op,
            "/v1/tenants/shop/connections/crm",
            Some(json!({"url": "postgres://vow:Sup3r-s3cret-pw@127.0.0.1:1/crm"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["kind"], "postgres");
    assert!(!c.to_string().contains("Sup3r-s3cret-pw"), "{c}");
    assert!(c["url"].as_str().unwrap().contains("***"), "{c}");
    let (_, list) = s.get(&op, "/v1/tenants/shop/connections").await;
    assert!(!list.to_string().contains("Sup3r-s3cret-pw"), "{list}");
    // At rest the URL is sealed: the store's bytes do not hold the password.
    s.engine.shutdown().await;
    let mut raw = Vec::new();
    for f in ["vow.db", "vow.db-wal"] {
        if let Ok(b) = std::fs::read(s.data_dir().join(f)) {
            raw.extend(b);
        }
    }
    assert!(!raw.is_empty());
    assert!(
        !raw.windows(15).any(|w| w == b"Sup3r-s3cret-pw"),
        "the password is not in the store file"
    );
}

#[tokio::test]
async fn bad_connections_and_unreachable_databases_get_precise_problems() {
    let s = Server::start().await;
    let op = s.tenant_with("shop", "controller", SHOP_POLICY).await;
    let (st, p) = s
        .call(
            reqwest::Method::PUT,
            &op,
            "/v1/tenants/shop/connections/crm",
            Some(json!({"url": "oracle://u:secret-x@h/db", "max_concurrency": 0})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    let pointers: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/url", "/max_concurrency"], "{p}");
    assert!(!p.to_string().contains("secret-x"), "{p}");
    // Vow never makes a database file on the server.
    let dir = tempfile::tempdir().unwrap();
    for url in [
        format!("sqlite:{}/absent.db", dir.path().display()),
        format!("sqlite:{}/new.db?mode=rwc", dir.path().display()),
    ] {
        let (st, p) = s
            .call(
                reqwest::Method::PUT,
                &op,
                "/v1/tenants/shop/connections/local",
                Some(json!({"url": url})),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
        assert_eq!(p["errors"][0]["pointer"], "/url", "{p}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // A port nothing listens on: reached only when tested, with the kind of failure.
    let (st, _) = s
        .call(
            reqwest::Method::PUT,
            &op,
            "/v1/tenants/shop/connections/crm",
            Some(json!({"url": "postgres://vow:secret-y@127.0.0.1:1/crm"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, p) = s
        .post(&op, "/v1/tenants/shop/connections/crm/test", json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["reachable"], false, "{p}");
    assert_eq!(p["error"]["code"], "unreachable", "{p}");
    assert!(!p.to_string().contains("secret-y"), "{p}");
    // Registering against it needs the live schema: 502, naming the connection.
    let (st, p) = register(&s, &op, &shop::shop_dataset()).await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "no connection `orders` here: {p}"
    );
    let res = s
        .client
        .post(format!(
            "{}/v1/tenants/shop/datasets?connection=crm",
            s.base
        ))
        .bearer_auth(&op)
        .header("content-type", "application/yaml")
        .body(shop::shop_dataset())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["code"], "connector_failed", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("crm"), "{p}");
    assert!(!p.to_string().contains("secret-y"), "{p}");
    let (st, p) = s
        .post(&op, "/v1/tenants/shop/connections/nope/test", json!({}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{p}");
}

#[tokio::test]
async fn datasets_are_checked_against_the_live_schema_before_anything_is_stored() {
    let s = Server::start().await;
    let (op, db) = shop(&s, Kind::Sqlite, 3).await;
    // A column the database does not have, named at its line.
    let good = shop::shop_dataset();
    let bad = good.replacen("- name: postal_code", "- name: post_code", 1);
    let line = bad.lines().position(|l| l.contains("post_code")).unwrap() + 1;
    let (st, p) = register(&s, &op, &bad).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["code"], "invalid_dataset");
    let d = &p["diagnostics"][0];
    assert_eq!(d["code"], "unknown_column", "{p}");
    assert_eq!(d["line"], line, "{p}");
    // The earlier registration stands.
    let (_, list) = s.get(&op, "/v1/tenants/shop/datasets").await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    // The test sees the database as it is, and every registered dataset matches it.
    let (st, t) = s
        .post(&op, "/v1/tenants/shop/connections/orders/test", json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(t["datasets"][0]["ok"], true, "{t}");
    assert!(t["tables"].as_u64().unwrap() >= 8, "{t}");
    db.drop_db().await.unwrap();
}

#[tokio::test]
async fn r11_access_package_includes_what_the_shops_database_holds() {
    let s = Server::start().await;
    let (op, db) = shop(&s, Kind::Sqlite, 6).await;
    let email = shop::email(3);
    customer_in_vault(&s, &op, &email).await;
    let id = submit_and_fulfil(
        &s,
        &op,
        json!({"type": "access", "channel": "web", "identifiers": {"email": email}}),
    )
    .await;
    let seen = state_of(&s, &op, &id).await;
    assert_eq!(seen.states(), ("in_progress", vec!["pending"]), "{seen:?}");
    let report = run_jobs(&s, &op).await;
    assert_eq!(report["done"], 1, "{report}");
    assert_eq!(report["requests_completed"], 1, "{report}");
    let seen = state_of(&s, &op, &id).await;
    assert_eq!(seen.states(), ("fulfilled", vec!["done"]), "{seen:?}");
    let r = &seen.request;
    assert_eq!(r["outcome"]["external"][0]["dataset"], "shop", "{r}");
    let (st, p) = s
        .get(&op, &format!("/v1/tenants/shop/requests/{id}/export"))
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let shop = &p["external"][0];
    assert_eq!(shop["dataset"], "shop", "{p}");
    let customers = shop["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["collection"] == "customers")
        .expect("the customers collection");
    let row = &customers["rows"][0];
    let email_field = row
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "email")
        .unwrap();
    assert_eq!(email_field["value"], email);
    assert_eq!(email_field["categories"], json!(["user.contact.email"]));
    // The categories found in the shop's database are explained like the vault's.
    let explained = p["summary"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "user.behavior")
        .unwrap_or_else(|| panic!("user.behavior is explained: {p}"));
    assert!(
        explained["means"].as_str().unwrap().contains("sign in"),
        "{p}"
    );
    // Per collection counts, and an audit entry of counts (never values).
    let j = &seen.jobs;
    assert!(
        j[0]["collections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["collection"] == "orders" && c["rows"].as_i64().unwrap() > 0),
        "{j}"
    );
    let mut tx = s.store().read().await.unwrap();
    let audit = tx.audit_page(0, 100_000).await.unwrap();
    let access = audit
        .iter()
        .find(|a| a.entry.action == "connector.access")
        .expect("the walk is audited");
    let detail = access.entry.detail.to_string();
    assert!(detail.contains(&id), "{detail}");
    assert!(!detail.contains(&email), "counts, not values");
    drop(tx);
    db.drop_db().await.unwrap();
}

#[tokio::test]
async fn r14_erasure_reaches_the_shops_database_and_is_fulfilled_when_it_is_done() {
    let s = Server::start().await;
    let (op, db) = shop(&s, Kind::Sqlite, 6).await;
    let email = shop::email(2);
    customer_in_vault(&s, &op, &email).await;
    let before = snapshot(&db).await;
    let id = submit_and_fulfil(
        &s,
        &op,
        json!({"type": "delete", "channel": "web", "identifiers": {"email": email}}),
    )
    .await;
    // A dry run first: what would change, nothing changed.
    let (st, plan) = s
        .post(
            &op,
            &format!("/v1/tenants/shop/requests/{id}/connector-dry-run"),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{plan}");
    let cards = plan
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["collection"] == "payment_cards")
        .expect("payment cards are planned");
    assert_eq!(
        cards["action"], "delete",
        "the policy deletes user.financial: {plan}"
    );
    assert!(!plan.to_string().contains(&email));
    assert_eq!(snapshot(&db).await, before, "a dry run changes nothing");
    let report = run_jobs(&s, &op).await;
    assert_eq!(report["done"], 1, "{report}");
    let seen = state_of(&s, &op, &id).await;
    assert_eq!(seen.states(), ("fulfilled", vec!["done"]), "{seen:?}");
    assert_eq!(seen.request["outcome"]["done"], "erased", "{seen:?}");
    // The person's e-mail is nowhere in the shop's database any more; other
    // customers' rows are as they were.
    let after = snapshot(&db).await;
    assert!(!format!("{after:?}").contains(&email));
    let other = shop::email(5);
    let count = |snap: &Snapshot| format!("{snap:?}").matches(other.as_str()).count();
    assert_eq!(count(&after), count(&before));
    let j = &seen.jobs;
    assert!(
        j[0]["collections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["collection"] == "customers" && c["rows"] == 1),
        "{j}"
    );
    // The data map shows what the shop's database holds (R9).
    let (st, m) = s.get(&op, "/v1/tenants/shop/reports/data-map").await;
    assert_eq!(st, StatusCode::OK, "{m}");
    assert!(
        m["external"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["collection"] == "customers"
                && e["category"] == "user.contact.email"
                && e["fields"] == json!(["email"])
                && e["in_policy"] == true),
        "{m}"
    );
    db.drop_db().await.unwrap();
}

#[tokio::test]
async fn an_access_request_whose_system_failed_gets_its_complete_copy_after_the_retry() {
    let s = Server::start().await;
    let (op, db) = shop(&s, Kind::Sqlite, 4).await;
    let email = shop::email(2);
    customer_in_vault(&s, &op, &email).await;
    // The shop's orders table is away: the walk fails on it.
    let conn = vow_connect::Db::open(&db.target, 1).await.unwrap();
    shop::query(&conn, "ALTER TABLE orders RENAME TO orders_away")
        .await
        .unwrap();
    let id = submit_and_fulfil(
        &s,
        &op,
        json!({"type": "access", "channel": "web", "identifiers": {"email": email}}),
    )
    .await;
    run_jobs(&s, &op).await;
    let seen = state_of(&s, &op, &id).await;
    assert_eq!(
        seen.states(),
        ("partially_fulfilled", vec!["failed"]),
        "{seen:?}"
    );
    let (_, first) = s
        .get(&op, &format!("/v1/tenants/shop/requests/{id}/export"))
        .await;
    assert!(
        first["external"].as_array().is_none_or(Vec::is_empty),
        "{first}"
    );
    // Back in place, retried: the package is made again with the shop's rows, and the
    // person is sent a new link to the complete copy.
    shop::query(&conn, "ALTER TABLE orders_away RENAME TO orders")
        .await
        .unwrap();
    retry_jobs(&s, &op, &id).await;
    run_jobs(&s, &op).await;
    let seen = state_of(&s, &op, &id).await;
    assert_eq!(
        seen.states(),
        ("partially_fulfilled", vec!["done"]),
        "{seen:?}"
    );
    let (st, p) = s
        .get(&op, &format!("/v1/tenants/shop/requests/{id}/export"))
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert!(p.to_string().contains(&email), "the shop's rows are in it");
    assert_eq!(p["external"][0]["dataset"], "shop", "{p}");
    let completions: Vec<&str> = seen.request["notices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "completion")
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(completions.len(), 2, "{}", seen.request);
    assert!(
        completions[1].contains("complete copy"),
        "{}",
        completions[1]
    );
    assert!(completions[1].contains("/exports/"), "{}", completions[1]);
    db.drop_db().await.unwrap();
}

#[tokio::test]
async fn a_value_written_back_after_the_erasure_is_caught_by_the_check_that_follows() {
    let s = Server::start().await;
    let (op, db) = shop(&s, Kind::Sqlite, 4).await;
    let email = shop::email(3);
    customer_in_vault(&s, &op, &email).await;
    // The shop's application writes a customer's e-mail back whenever it is changed.
    let conn = vow_connect::Db::open(&db.target, 1).await.unwrap();
    shop::query(
        &conn,
        "CREATE TRIGGER keep_email AFTER UPDATE OF email ON customers BEGIN UPDATE customers SET email = OLD.email WHERE id = NEW.id; END",
    )
    .await
    .unwrap();
    let id = submit_and_fulfil(
        &s,
        &op,
        json!({"type": "delete", "channel": "web", "identifiers": {"email": email}}),
    )
    .await;
    let report = run_jobs(&s, &op).await;
    assert_eq!(report["failed"], 1, "{report}");
    let seen = state_of(&s, &op, &id).await;
    assert_eq!(
        seen.states(),
        ("partially_fulfilled", vec!["failed"]),
        "{seen:?}"
    );
    let error = seen.jobs[0]["error"].as_str().unwrap();
    assert!(
        error.contains("still in place in customers"),
        "names the collection: {error}"
    );
    assert!(!error.contains(&email), "never the value: {error}");
    // Without the trigger, the retry applies again and the check passes.
    shop::query(&conn, "DROP TRIGGER keep_email").await.unwrap();
    retry_jobs(&s, &op, &id).await;
    run_jobs(&s, &op).await;
    let seen = state_of(&s, &op, &id).await;
    assert_eq!(
        seen.states(),
        ("partially_fulfilled", vec!["done"]),
        "{seen:?}"
    );
    assert!(!format!("{:?}", snapshot(&db).await).contains(&email));
    db.drop_db().await.unwrap();
}

#[tokio::test]
async fn an_erasure_that_fails_midway_resumes_where_it_stopped() {
    let s = Server::start().await;
    let (op, db) = shop(&s, Kind::Sqlite, 4).await;
    let email = shop::email(1);
    customer_in_vault(&s, &op, &email).await;
    // The shop's database refuses changes to customers for now.
    let conn = vow_connect::Db::open(&db.target, 1).await.unwrap();
    shop::query(
        &conn,
        "CREATE TRIGGER hold_customers BEFORE UPDATE ON customers BEGIN SELECT RAISE(ABORT, 'locked'); END",
    )
    .await
    .unwrap();
    let id = submit_and_fulfil(
        &s,
        &op,
        json!({"type": "delete", "channel": "web", "identifiers": {"email": email}}),
    )
    .await;
    let report = run_jobs(&s, &op).await;
    assert_eq!(report["failed"], 1, "{report}");
    let seen = state_of(&s, &op, &id).await;
    assert_eq!(
        seen.states(),
        ("partially_fulfilled", vec!["failed"]),
        "{seen:?}"
    );
    let j = &seen.jobs;
    // The self-assessment counts the failure and says what it means.
    let year = crate::harness::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year();
    let (st, a) = s
        .get(
            &op,
            &format!("/v1/tenants/shop/reports/self-assessment?year={year}"),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!(a["connector_jobs"][0]["kind"], "erasure", "{a}");
    assert_eq!(a["connector_jobs"][0]["failed"], 1, "{a}");
    assert!(
        a["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["text"].as_str().unwrap().contains("connector jobs")),
        "{a}"
    );
    let error = j[0]["error"].as_str().unwrap();
    assert!(error.contains("customers"), "names the collection: {j}");
    assert!(!error.contains(&email));
    let finished: Vec<String> = j[0]["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["collection"].as_str().unwrap().to_string())
        .collect();
    assert!(!finished.contains(&"customers".to_string()));
    // Fixed, retried: it resumes, touching only what was left.
    shop::query(&conn, "DROP TRIGGER hold_customers")
        .await
        .unwrap();
    retry_jobs(&s, &op, &id).await;
    let report = run_jobs(&s, &op).await;
    assert_eq!(report["done"], 1, "{report}");
    let seen = state_of(&s, &op, &id).await;
    assert_eq!(seen.states().1, ["done"], "{seen:?}");
    let after = snapshot(&db).await;
    assert!(!format!("{after:?}").contains(&email));
    // The request stays as the person was told, but its outcome now says the
    // remaining system was finished, and its history records when.
    let (_, r) = s.get(&op, &format!("/v1/tenants/shop/requests/{id}")).await;
    assert_eq!(r["state"], "partially_fulfilled", "{r}");
    assert_eq!(r["outcome"]["external"][0]["state"], "done", "{r}");
    assert!(r["outcome"]["external_finished_at"].is_string(), "{r}");
    assert!(
        r["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "connectors_finished"),
        "{r}"
    );
    // The person, told at first that one system could not be finished, is told it is.
    let completions: Vec<&str> = r["notices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "completion")
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(completions.len(), 2, "{r}");
    assert!(
        completions[1].contains("finished deleting"),
        "{}",
        completions[1]
    );
    db.drop_db().await.unwrap();
}

#[tokio::test]
async fn r12_a_correction_reaches_the_shops_database() {
    let s = Server::start().await;
    let (op, db) = shop(&s, Kind::Sqlite, 3).await;
    let email = shop::email(2);
    customer_in_vault(&s, &op, &email).await;
    let id = submit_and_fulfil(
        &s,
        &op,
        json!({"type": "correct", "channel": "web", "identifiers": {"email": email},
               "corrections": [{"category": "user.name", "value": "Corrected Name", "purposes": ["orders"]}]}),
    )
    .await;
    run_jobs(&s, &op).await;
    let seen = state_of(&s, &op, &id).await;
    assert_eq!(seen.states(), ("fulfilled", vec!["done"]), "{seen:?}");
    let after = snapshot(&db).await;
    assert!(format!("{after:?}").contains("Corrected Name"));
    db.drop_db().await.unwrap();
}

#[tokio::test]
async fn an_unknown_email_finds_nothing_and_changes_nothing() {
    let s = Server::start().await;
    let (op, db) = shop(&s, Kind::Sqlite, 3).await;
    customer_in_vault(&s, &op, "nobody@elsewhere.test").await;
    let before = snapshot(&db).await;
    let id = submit_and_fulfil(
        &s,
        &op,
        json!({"type": "delete", "channel": "web", "identifiers": {"email": "nobody@elsewhere.test"}}),
    )
    .await;
    run_jobs(&s, &op).await;
    let seen = state_of(&s, &op, &id).await;
    assert_eq!(seen.states(), ("fulfilled", vec!["done"]), "{seen:?}");
    assert_eq!(snapshot(&db).await, before);
    db.drop_db().await.unwrap();
}

#[tokio::test]
async fn postgres_and_mariadb_shops_are_reached_the_same_way() {
    for kind in [Kind::Postgres, Kind::Mysql] {
        let s = Server::start().await;
        let (op, db) = shop(&s, kind, 5).await;
        let email = shop::email(4);
        customer_in_vault(&s, &op, &email).await;
        let id = submit_and_fulfil(
            &s,
            &op,
            json!({"type": "delete", "channel": "web", "identifiers": {"email": email}}),
        )
        .await;
        let report = run_jobs(&s, &op).await;
        assert_eq!(report["done"], 1, "{kind:?}: {report}");
        let seen = state_of(&s, &op, &id).await;
        assert_eq!(
            seen.states(),
            ("fulfilled", vec!["done"]),
            "{kind:?}: {seen:?}"
        );
        let after = snapshot(&db).await;
        assert!(!format!("{after:?}").contains(&email), "{kind:?}");
        db.drop_db().await.unwrap();
    }
}

#[tokio::test]
async fn a_batch_of_erasures_walks_and_applies_together() {
    let s = Server::start().await;
    let (op, db) = shop(&s, Kind::Sqlite, 8).await;
    let mut ids = Vec::new();
    for i in 1..=3 {
        let email = shop::email(i);
        customer_in_vault(&s, &op, &email).await;
        ids.push(
            submit_and_fulfil(
                &s,
                &op,
                json!({"type": "delete", "channel": "web", "identifiers": {"email": email}}),
            )
            .await,
        );
    }
    let report = run_jobs(&s, &op).await;
    assert_eq!(report["claimed"], 3, "{report}");
    assert_eq!(report["done"], 3, "{report}");
    assert_eq!(report["requests_completed"], 3, "{report}");
    let after = format!("{:?}", snapshot(&db).await);
    for i in 1..=3 {
        assert!(!after.contains(&shop::email(i)));
    }
    assert!(after.contains(&shop::email(4)), "others are untouched");
    // One audit entry per collection for the batch, naming each request and its rows.
    let mut tx = s.store().read().await.unwrap();
    let audit = tx.audit_page(0, 100_000).await.unwrap();
    let customers = audit
        .iter()
        .filter(|a| a.entry.action == "connector.erase")
        .find(|a| a.entry.detail.contains("\"customers\""))
        .expect("the customers collection is audited");
    for id in &ids {
        assert!(
            customers.entry.detail.contains(id.as_str()),
            "{}",
            customers.entry.detail
        );
    }
    drop(tx);
    db.drop_db().await.unwrap();
}

#[tokio::test]
async fn a_killed_runners_jobs_are_taken_up_when_its_lease_ends() {
    let (s, clock) = Server::start_clocked("2026-03-02T10:00:00Z").await;
    let (op, db) = shop(&s, Kind::Sqlite, 4).await;
    let email = shop::email(2);
    customer_in_vault(&s, &op, &email).await;
    let id = submit_and_fulfil(
        &s,
        &op,
        json!({"type": "delete", "channel": "web", "identifiers": {"email": email}}),
    )
    .await;
    // Another server claims the job, then dies holding it.
    let now = vow_core::Clock::now(clock.as_ref()).as_millisecond();
    let mut tx = s.store().write().await.unwrap();
    let claimed = tx
        .claim_jobs(Some("shop"), "dead-server", now, now + 300_000, 50)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(claimed.len(), 1);
    // While its lease runs, nobody else takes the job (nor any job of that database).
    let report = run_jobs(&s, &op).await;
    assert_eq!(report["claimed"], 0, "{report}");
    // When the lease ends, the next runner takes it up and finishes the request.
    clock.advance(jiff::SignedDuration::from_mins(6));
    let report = run_jobs(&s, &op).await;
    assert_eq!(report["done"], 1, "{report}");
    let seen = state_of(&s, &op, &id).await;
    assert_eq!(seen.states(), ("fulfilled", vec!["done"]), "{seen:?}");
    assert_eq!(seen.jobs[0]["attempts"], 2, "{seen:?}");
    assert!(!format!("{:?}", snapshot(&db).await).contains(&email));
    db.drop_db().await.unwrap();
}

/// PUT a SQLite connection `local` at `path`: the status and the answer.
async fn put_sqlite(s: &Server, key: &str, path: &std::path::Path) -> (StatusCode, Value) {
    s.call(
        reqwest::Method::PUT,
        key,
        "/v1/tenants/shop/connections/local",
        Some(json!({"url": format!("sqlite:{}", path.display())})),
    )
    .await
}

#[tokio::test]
async fn sqlite_connections_never_open_vows_own_files_and_keep_to_the_allowed_dirs() {
    let s = Server::start().await;
    let op = s.tenant_with("shop", "controller", SHOP_POLICY).await;
    let refused = |st: StatusCode, p: &Value, why: &str| {
        assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
        assert_eq!(p["errors"][0]["pointer"], "/url", "{p}");
        let detail = p["errors"][0]["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(why), "{p}");
        // No path but the one sent: not the store's, not the data directory's.
        assert!(!detail.contains(&s.data_dir().display().to_string()), "{p}");
    };
    // The store itself, by its path, by a path through `..`, and by a symbolic link
    // from elsewhere: canonical paths are compared.
    let store = s.data_dir().join("vow.db");
    let (st, p) = put_sqlite(&s, &op, &store).await;
    refused(st, &p, "Vow's own store");
    let elsewhere = tempfile::tempdir().unwrap();
    let around = s.data_dir().join("mail/../vow.db");
    std::fs::create_dir_all(s.data_dir().join("mail")).unwrap();
    let (st, p) = put_sqlite(&s, &op, &around).await;
    refused(st, &p, "Vow's own store");
    let link = elsewhere.path().join("innocent.db");
    std::os::unix::fs::symlink(&store, &link).unwrap();
    let (st, p) = put_sqlite(&s, &op, &link).await;
    refused(st, &p, "Vow's own store");
    // Anything in the data directory, once the engine knows it (`vow serve` tells it).
    let inside = s.data_dir().join("other.db");
    std::fs::write(&inside, b"").unwrap();
    let (st, _) = put_sqlite(&s, &op, &inside).await;
    assert_eq!(st, StatusCode::OK, "the data directory is not known yet");
    s.engine.set_data_dir(s.data_dir());
    let (st, p) = put_sqlite(&s, &op, &inside).await;
    refused(st, &p, "Vow's data directory");
    // A connection put before the fence narrowed is refused when it is opened.
    let (st, t) = s
        .post(&op, "/v1/tenants/shop/connections/local/test", json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(t["reachable"], false, "{t}");
    assert_eq!(t["error"]["code"], "fenced", "{t}");
    // With allowed directories (`--sqlite-connection-dir`): only files in them.
    let allowed = tempfile::tempdir().unwrap();
    let shop_file = allowed.path().join("shop.db");
    std::fs::write(&shop_file, b"").unwrap();
    let outside = elsewhere.path().join("crm.db");
    std::fs::write(&outside, b"").unwrap();
    let (st, _) = put_sqlite(&s, &op, &outside).await;
    assert_eq!(st, StatusCode::OK, "no directory is listed yet");
    s.engine
        .set_sqlite_connection_dirs(vec![allowed.path().to_path_buf()]);
    let (st, p) = put_sqlite(&s, &op, &outside).await;
    refused(st, &p, "outside the directories");
    // Out of an allowed directory through `..`.
    let climb = allowed
        .path()
        .join("..")
        .join(elsewhere.path().file_name().unwrap())
        .join("crm.db");
    let (st, p) = put_sqlite(&s, &op, &climb).await;
    refused(st, &p, "outside the directories");
    let (st, c) = put_sqlite(&s, &op, &shop_file).await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["kind"], "sqlite", "{c}");
    let (st, t) = s
        .post(&op, "/v1/tenants/shop/connections/local/test", json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(t["reachable"], true, "{t}");
}

#[test]
fn the_cli_fences_sqlite_connections_by_its_data_directory_and_allowed_dirs() {
    use crate::cli::{cli_tenant, text};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    cli_tenant(&data);
    let add = |file: &std::path::Path, dirs: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_vow"));
        c.args(["connection", "add", "--data", data.to_str().unwrap()])
            .args(["--tenant", "acme", "--id", "local", "--url"])
            .arg(format!("sqlite:{}", file.display()))
            .env_remove("VOW_SQLITE_CONNECTION_DIRS");
        if let Some(d) = dirs {
            c.env("VOW_SQLITE_CONNECTION_DIRS", d);
        }
        c.output().unwrap()
    };
    // Vow's own files: the store, and anything in the data directory the CLI names.
    let o = add(&data.join("vow.db"), None);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Vow's own store"), "{}", text(&o));
    let inside = data.join("other.db");
    std::fs::write(&inside, b"").unwrap();
    let o = add(&inside, None);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Vow's data directory"), "{}", text(&o));
    // VOW_SQLITE_CONNECTION_DIRS: only files in the directories it lists.
    let (allowed, other, elsewhere) = ["allowed", "other", "elsewhere"]
        .map(|d| {
            let p = tmp.path().join(d);
            std::fs::create_dir(&p).unwrap();
            std::fs::write(p.join("shop.db"), b"").unwrap();
            p
        })
        .into();
    let dirs = format!("{}:{}", allowed.display(), other.display());
    let o = add(&elsewhere.join("shop.db"), Some(&dirs));
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("outside the directories"), "{}", text(&o));
    for ok in [&allowed, &other] {
        let o = add(&ok.join("shop.db"), Some(&dirs));
        assert!(o.status.success(), "{}", text(&o));
    }
    // `vow serve` refuses a listed directory that is not one, before it listens.
    let o = crate::cli::vow(&[
        "serve",
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--sqlite-connection-dir",
        tmp.path().join("none").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is not a directory"), "{}", text(&o));
}
