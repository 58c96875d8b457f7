//! Crash safety (issue 9): `vow import` and `vow serve` killed with SIGKILL at random
//! points, then checked after restart. A seeded RNG chooses the kill points; the seed
//! is printed first, and `VOW_CRASH_SEED=N` repeats a run.
//!
//! - `vow import` of a few thousand people, killed mid-way: afterwards the store holds
//!   none of them or all of them (`before` or `before + N`), never part.
//! - `vow serve`, killed while clients create people, disclose them, correct them and
//!   have them erased, and while the outbox is delivered to a local receiver: right
//!   after the kill `vow audit verify` passes; every person and request the clients saw
//!   acknowledged is there; an erasure is whole (a fulfilled `delete` request and a
//!   shredded person go together); then, served again, the outbox drains: every event
//!   is delivered (or dead because its person was erased), none is lost, and an event
//!   recorded as delivered before a kill is never sent again. The one repeat allowed is
//!   at-least-once's: an event sent but not yet recorded when the server died is sent
//!   once more after the restart (docs/webhooks.md).
//!
//! Only what must hold wherever the kill lands is asserted.

use crate::cli::{cli_tenant, spawn_serve, stop, text, vow};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher as _, Hasher as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Rounds of each kind; together well under two minutes on a busy two-core machine.
const IMPORT_KILLS: usize = 3;
const SERVE_KILLS: usize = 6;
/// People per import.
const IMPORT_ROWS: usize = 2000;
/// Concurrent clients against `vow serve`, and the most steps each takes per round.
const CLIENTS: usize = 3;
const MAX_STEPS: usize = 40;

/// splitmix64: small, seeded, good enough to choose kill points.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn seed() -> u64 {
    match std::env::var("VOW_CRASH_SEED") {
        Ok(s) => s.parse().expect("VOW_CRASH_SEED is a whole number"),
        Err(_) => std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish(),
    }
}

/// A `vow serve` that is killed if the test fails while it runs.
struct Serving(Option<Child>);

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            kill9(c);
        }
    }
}

/// SIGKILL, and reap it.
fn kill9(child: &mut Child) {
    if child.try_wait().unwrap().is_none() {
        child.kill().unwrap();
    }
    child.wait().unwrap();
}

async fn db(dir: &Path) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&format!("sqlite://{}/vow.db", dir.display()))
        .await
        .unwrap()
}

async fn count(dir: &Path, sql: &str) -> i64 {
    let pool = db(dir).await;
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

fn audit_verifies(dir: &Path, when: &str) {
    let o = vow(&["audit", "verify", "--data", dir.to_str().unwrap()]);
    assert!(o.status.success(), "audit verify {when}: {}", text(&o));
}

// ---------------------------------------------------------------------------------
// The webhook receiver: records every webhook-id with the server's life it came in.

#[derive(Default)]
struct Received {
    /// Which life of `vow serve` this is (bumped at each restart).
    life: u64,
    /// (webhook-id, life) per request received, in order.
    hits: Vec<(String, u64)>,
}

async fn receiver(state: Arc<Mutex<Received>>) -> String {
    let app = axum::Router::new().route(
        "/{recipient}",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let state = state.clone();
            async move {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                // A few milliseconds between accepting and answering widen the window
                // in which a kill finds an event sent but not yet recorded.
                let pause = id
                    .bytes()
                    .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
                    % 15;
                {
                    let mut s = state.lock().unwrap();
                    let life = s.life;
                    s.hits.push((id, life));
                }
                tokio::time::sleep(Duration::from_millis(pause)).await;
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

// ---------------------------------------------------------------------------------
// `vow import`, killed.

fn import_file(dir: &Path, round: usize) -> std::path::PathBuf {
    let rows: String = (0..IMPORT_ROWS)
        .map(|i| {
            format!(
                "{}\n",
                // `cli::person`'s phone numbers repeat within thousands: e-mail only.
                json!({
                    "identifiers": {"email": format!("i{round}-{i}@example.org")},
                    "birth_date": "1985-04-02",
                    "fields": [{"category": "user.name", "value": format!("Imp {round} {i}"), "purposes": ["research"]}],
                    "consents": [{"purpose": "research", "evidence": {"channel": "web"}}]
                })
            )
        })
        .collect();
    let file = dir.join(format!("import-{round}.jsonl"));
    std::fs::write(&file, rows).unwrap();
    file
}

fn spawn_import(dir: &Path, file: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_vow"))
        .args([
            "import",
            "--data",
            dir.to_str().unwrap(),
            "--tenant",
            "acme",
            file.to_str().unwrap(),
            "--output",
            "json",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The people anyone can see: a killed import's batches are there, `importing`, until
/// its heartbeat has been still for two minutes and the next start removes them.
const SUBJECTS: &str =
    "SELECT count(*) FROM subjects WHERE tenant_id = 'acme' AND status <> 'importing'";

/// The people of imports under way (or killed), not yet visible.
const IMPORTING: &str =
    "SELECT count(*) FROM subjects WHERE tenant_id = 'acme' AND status = 'importing'";

/// Imported people missing a row of their own (each has one key, identifier, field
/// and consent).
const INCOMPLETE: &str =
    "SELECT count(*) FROM subjects s WHERE s.tenant_id = 'acme' AND s.status = 'importing' AND (
    (SELECT count(*) FROM subject_keys k WHERE k.subject_id = s.id) <> 1
    OR (SELECT count(*) FROM identifiers i WHERE i.subject_id = s.id) <> 1
    OR (SELECT count(*) FROM fields f WHERE f.subject_id = s.id) <> 1
    OR (SELECT count(*) FROM consents c WHERE c.subject_id = s.id) <> 1)";

/// The `subject.create` audit entries of those people (one each).
const IMPORTING_AUDITED: &str =
    "SELECT count(*) FROM audit WHERE action = 'subject.create' AND subject_id IN (
    SELECT id FROM subjects WHERE tenant_id = 'acme' AND status = 'importing')";

/// One import to the end, timed (the kill points are chosen within that time), then
/// imports killed at random points: each leaves none or all of its people.
async fn imports_killed(dir: &Path, rng: &mut Rng) {
    let file = import_file(dir, 0);
    let t = Instant::now();
    let o = vow(&[
        "import",
        "--data",
        dir.to_str().unwrap(),
        "--tenant",
        "acme",
        file.to_str().unwrap(),
        "--output",
        "json",
    ]);
    let took = t.elapsed();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(count(dir, SUBJECTS).await, IMPORT_ROWS as i64);
    eprintln!("crash: a whole import of {IMPORT_ROWS} took {took:?}");
    let span = u64::try_from(took.as_millis()).unwrap().max(50) * 6 / 5;
    for round in 1..=IMPORT_KILLS {
        let before = count(dir, SUBJECTS).await;
        let file = import_file(dir, round);
        let delay = rng.range(span / 5, span);
        let mut child = spawn_import(dir, &file);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        let finished = child.try_wait().unwrap().is_some_and(|s| s.success());
        kill9(&mut child);
        let after = count(dir, SUBJECTS).await;
        eprintln!(
            "crash: import {round} killed after {delay} ms (finished: {finished}): {} of {IMPORT_ROWS} people",
            after - before
        );
        assert!(
            after == before || after == before + IMPORT_ROWS as i64,
            "import {round} killed after {delay} ms left {} of {IMPORT_ROWS} people",
            after - before
        );
        if finished {
            assert_eq!(after, before + IMPORT_ROWS as i64);
        }
        // Batch by batch, whole (issue 12): every person a killed import wrote (still
        // `importing`) has all their rows and their audit entry, and the imports'
        // heartbeats, written in each batch's transaction, count exactly them.
        let importing = count(dir, IMPORTING).await;
        let counted = count(
            dir,
            "SELECT COALESCE(SUM(imported), 0) FROM imports WHERE state = 'running'",
        )
        .await;
        assert_eq!(
            importing, counted,
            "import {round}: people against heartbeats"
        );
        assert_eq!(
            count(dir, INCOMPLETE).await,
            0,
            "import {round}: a person cut in two"
        );
        assert_eq!(
            count(dir, IMPORTING_AUDITED).await,
            importing,
            "import {round}: people against their audit entries"
        );
        audit_verifies(dir, &format!("after import {round} was killed"));
    }
}

// ---------------------------------------------------------------------------------
// `vow serve`, killed under load.

/// What the clients saw acknowledged (a 2xx answer) before the kill.
#[derive(Default)]
struct Acked {
    /// Subject id → e-mail.
    subjects: BTreeMap<String, String>,
    /// Delete request id → subject id.
    requests: BTreeMap<String, String>,
    /// Delete requests whose fulfilment was answered 200.
    fulfilled: HashSet<String>,
}

struct Client {
    http: reqwest::Client,
    base: String,
    op: String,
}

impl Client {
    async fn call(
        &self,
        m: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Option<(StatusCode, Value)> {
        let mut r = self
            .http
            .request(m, format!("{}{path}", self.base))
            .bearer_auth(&self.op);
        if !body.is_null() {
            r = r.json(&body);
        }
        let res = r.send().await.ok()?;
        let st = res.status();
        let v = res.json::<Value>().await.ok()?;
        Some((st, v))
    }
}

/// One client's steps until the server dies (a request fails) or `MAX_STEPS`: create a
/// person, disclose their name to lab-partner, then maybe correct it or erase them.
async fn client_steps(
    c: Arc<Client>,
    who: String,
    mut rng: Rng,
    acked: Arc<Mutex<Acked>>,
    done: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    use reqwest::Method;
    for i in 0..MAX_STEPS {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let email = format!("{who}-{i}@example.org");
        let Some((st, b)) = c
            .call(
                Method::POST,
                "/v1/tenants/acme/subjects",
                json!({
                    "identifiers": {"email": email},
                    "birth_date": "1990-01-31",
                    "fields": [{"category": "user.name", "value": format!("Person {who} {i}"), "purposes": ["research"]}],
                    "consents": [{"purpose": "research", "kind": "express", "evidence": {"channel": "web"}}]
                }),
            )
            .await
        else {
            return;
        };
        assert_eq!(st, StatusCode::CREATED, "{b}");
        let id = b["id"].as_str().unwrap().to_string();
        acked
            .lock()
            .unwrap()
            .subjects
            .insert(id.clone(), email.clone());
        done.fetch_add(1, Ordering::Relaxed);
        let Some((st, b)) = c
            .call(
                Method::POST,
                "/v1/tenants/acme/disclosures",
                json!({"recipient": "lab-partner", "purpose": "research", "categories": ["user.name"], "subjects": [id]}),
            )
            .await
        else {
            return;
        };
        assert_eq!(st, StatusCode::CREATED, "{b}");
        done.fetch_add(1, Ordering::Relaxed);
        match rng.range(0, 9) {
            0..=3 => {
                let Some((st, b)) = c
                    .call(
                        Method::PATCH,
                        &format!("/v1/tenants/acme/subjects/{id}"),
                        json!({"fields": [{"category": "user.name", "value": format!("Renamed {who} {i}")}]}),
                    )
                    .await
                else {
                    return;
                };
                assert_eq!(st, StatusCode::OK, "{b}");
                done.fetch_add(1, Ordering::Relaxed);
            }
            4..=6 => {
                let Some((st, b)) = c
                    .call(
                        Method::POST,
                        "/v1/tenants/acme/requests",
                        json!({"type": "delete", "channel": "web", "identifiers": {"email": email}}),
                    )
                    .await
                else {
                    return;
                };
                assert_eq!(st, StatusCode::CREATED, "{b}");
                let rid = b["id"].as_str().unwrap().to_string();
                acked
                    .lock()
                    .unwrap()
                    .requests
                    .insert(rid.clone(), id.clone());
                done.fetch_add(1, Ordering::Relaxed);
                let Some((st, b)) = c
                    .call(
                        Method::POST,
                        &format!("/v1/tenants/acme/requests/{rid}/fulfil"),
                        json!({}),
                    )
                    .await
                else {
                    return;
                };
                assert_eq!(st, StatusCode::OK, "{b}");
                assert_eq!(b["state"], "fulfilled", "{b}");
                acked.lock().unwrap().fulfilled.insert(rid);
                done.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

/// The rows the checks need, read from the store while no process runs on it.
struct Stored {
    /// Subject id → status.
    subjects: HashMap<String, String>,
    /// Subjects that still have a key, identifiers, fields or consents.
    with_data: HashSet<String>,
    /// Delete request id → (state, subject id).
    requests: HashMap<String, (String, Option<String>)>,
    /// Outbox event ids recorded as delivered.
    delivered: HashSet<String>,
    /// Events claimed by a delivery pass and not recorded: the pass was killed.
    claimed: i64,
}

async fn stored(dir: &Path) -> Stored {
    let pool = db(dir).await;
    let subjects: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, status FROM subjects WHERE tenant_id = 'acme' AND status <> 'importing'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let with_data: Vec<(String,)> = sqlx::query_as(
        "SELECT subject_id FROM (SELECT subject_id FROM subject_keys UNION SELECT subject_id FROM identifiers
         UNION SELECT subject_id FROM fields UNION SELECT subject_id FROM consents) d
         WHERE subject_id NOT IN (SELECT id FROM subjects WHERE status = 'importing')",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let requests: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, state, subject_id FROM requests WHERE tenant_id = 'acme' AND kind = 'delete'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let delivered: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM outbox WHERE state = 'delivered'")
            .fetch_all(&pool)
            .await
            .unwrap();
    let claimed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE state = 'pending' AND lease_until IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    Stored {
        claimed,
        subjects: subjects.into_iter().collect(),
        with_data: with_data.into_iter().map(|r| r.0).collect(),
        requests: requests
            .into_iter()
            .map(|(id, st, s)| (id, (st, s)))
            .collect(),
        delivered: delivered.into_iter().map(|r| r.0).collect(),
    }
}

/// The subjects of the erasure ledger's lines that read back.
fn ledger(dir: &Path) -> HashSet<String> {
    std::fs::read_to_string(dir.join("erasure-ledger.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|e| e["subject"].as_str().map(str::to_string))
        .collect()
}

/// An erasure is in the ledger before the client is told it is done.
fn check_ledger(round: usize, dir: &Path, acked: &Acked) {
    let in_ledger = ledger(dir);
    for (rid, subject) in &acked.requests {
        if acked.fulfilled.contains(rid) {
            assert!(
                in_ledger.contains(subject),
                "round {round}: the erasure of {subject} was acknowledged but is not in the ledger"
            );
        }
    }
}

/// What must hold on the store a kill left, before anything starts on it again.
fn check_after_kill(round: usize, s: &Stored, acked: &Acked) {
    for id in acked.subjects.keys() {
        assert!(
            s.subjects.contains_key(id),
            "round {round}: subject {id} was acknowledged but is gone"
        );
    }
    for (rid, subject) in &acked.requests {
        let (state, stored_subject) = s
            .requests
            .get(rid)
            .unwrap_or_else(|| panic!("round {round}: request {rid} was acknowledged but is gone"));
        assert_eq!(stored_subject.as_deref(), Some(subject.as_str()));
        if acked.fulfilled.contains(rid) {
            assert_eq!(state, "fulfilled", "round {round}: request {rid}");
        }
    }
    // An erasure is whole: fulfilled ⇔ the person is shredded (no key, no identifiers,
    // fields or consents; status erased).
    let mut erased_by_request = HashSet::new();
    for (rid, (state, subject)) in &s.requests {
        let Some(subject) = subject else { continue };
        if state == "fulfilled" {
            erased_by_request.insert(subject.clone());
            assert_eq!(
                s.subjects.get(subject).map(String::as_str),
                Some("erased"),
                "round {round}: request {rid} is fulfilled but its person is not erased"
            );
            assert!(
                !s.with_data.contains(subject),
                "round {round}: request {rid} is fulfilled but its person's data remain"
            );
        }
    }
    for (id, status) in &s.subjects {
        if status == "erased" || !s.with_data.contains(id) {
            assert!(
                erased_by_request.contains(id),
                "round {round}: subject {id} is shredded ({status}) without a fulfilled request"
            );
        }
    }
}

/// The receiver's hits checked against what the store had recorded as delivered at
/// each kill: at most one per event per life of the server, and none after a life at
/// whose end it was recorded as delivered.
fn check_hits(received: &Received, delivered_by_life: &HashMap<String, u64>) {
    let mut seen: HashSet<(&str, u64)> = HashSet::new();
    for (id, life) in &received.hits {
        assert!(
            seen.insert((id.as_str(), *life)),
            "event {id} was sent twice while one server ran (life {life})"
        );
        if let Some(recorded) = delivered_by_life.get(id) {
            assert!(
                *life <= *recorded,
                "event {id}, recorded as delivered in life {recorded}, was sent again in life {life}"
            );
        }
    }
}

fn serve_env() -> [(&'static str, &'static str); 4] {
    [
        ("VOW_WEBHOOKS_ALLOW_LOOPBACK", "true"),
        ("VOW_WEBHOOKS_POLL_INTERVAL", "1"),
        ("VOW_WEBHOOKS_TIMEOUT", "3"),
        // A crash's claims lapse in seconds rather than the default five minutes.
        ("VOW_WEBHOOKS_LEASE", "4"),
    ]
}

/// Waits until no event is pending, then checks every event: delivered, or dead
/// because its person was erased before it went; and every delivered one was received.
async fn drain(c: &Client, received: &Mutex<Received>) -> usize {
    let t = Instant::now();
    loop {
        let (st, pending) = c
            .call(
                reqwest::Method::GET,
                "/v1/tenants/acme/deliveries?state=pending",
                Value::Null,
            )
            .await
            .expect("the server answers");
        assert_eq!(st, StatusCode::OK, "{pending}");
        if pending.as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            // Generous: on a starved machine an attempt may time out and back off.
            t.elapsed() < Duration::from_secs(120),
            "the outbox does not drain: {pending}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, all) = c
        .call(
            reqwest::Method::GET,
            "/v1/tenants/acme/deliveries",
            Value::Null,
        )
        .await
        .unwrap();
    let all = all.as_array().unwrap();
    assert!(
        all.len() < 1000,
        "the list is capped at 1000: keep rounds smaller"
    );
    let hit: HashSet<String> = received
        .lock()
        .unwrap()
        .hits
        .iter()
        .map(|h| h.0.clone())
        .collect();
    for e in all {
        let id = e["id"].as_str().unwrap();
        match e["state"].as_str().unwrap() {
            "delivered" => assert!(
                hit.contains(id),
                "event {id} is recorded as delivered but never arrived: {e}"
            ),
            "dead" => {
                assert_eq!(e["reason"], "subject_erased", "{e}");
                assert_eq!(e["event"], "subject.corrected", "{e}");
            }
            other => panic!("event {id} is {other} after the outbox drained: {e}"),
        }
    }
    all.len()
}

async fn operator_key(base: &str, admin: &str) -> String {
    let k: Value = reqwest::Client::new()
        .post(format!("{base}/v1/tenants/acme/keys"))
        .bearer_auth(admin)
        .json(&json!({"role": "operator"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    k["key"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_import_requests_erasure_and_delivery_leaves_a_consistent_store() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let seed = seed();
    eprintln!("crash: seed {seed} (VOW_CRASH_SEED={seed} repeats the kill points)");
    let mut rng = Rng(seed);
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    cli_tenant(dir);

    imports_killed(dir, &mut rng).await;
    eprintln!("crash: imports done after {:?}", started.elapsed());

    let received = Arc::new(Mutex::new(Received::default()));
    let hooks = receiver(received.clone()).await;
    let (first, admin, port) = spawn_serve(dir, &serve_env());
    let mut server = Serving(Some(first));
    assert!(
        !admin.is_empty(),
        "the first start prints the bootstrap key"
    );
    let base = format!("http://127.0.0.1:{port}");
    let op = operator_key(&base, &admin).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut c = Client { http, base, op };
    for recipient in ["lab-partner", "administrators"] {
        let (st, b) = c
            .call(
                reqwest::Method::PUT,
                &format!("/v1/tenants/acme/recipients/{recipient}/endpoint"),
                json!({"url": format!("{hooks}/{recipient}")}),
            )
            .await
            .unwrap();
        assert_eq!(st, StatusCode::OK, "{b}");
    }

    let acked = Arc::new(Mutex::new(Acked::default()));
    // Event id → the life of the server at whose kill it was first seen delivered.
    let mut delivered_by_life: HashMap<String, u64> = HashMap::new();
    for round in 1..=SERVE_KILLS {
        let life = received.lock().unwrap().life;
        let done = Arc::new(AtomicU64::new(0));
        let stop_flag = Arc::new(AtomicBool::new(false));
        let client = Arc::new(Client {
            http: c.http.clone(),
            base: c.base.clone(),
            op: c.op.clone(),
        });
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..CLIENTS {
            tasks.spawn(client_steps(
                client.clone(),
                format!("r{round}w{w}"),
                Rng(rng.next()),
                acked.clone(),
                done.clone(),
                stop_flag.clone(),
            ));
        }
        // Kill after a random number of acknowledged steps, or (every other round on
        // average) of webhooks received, then a random few ms: the kill lands among
        // requests and delivery passes, whatever the machine's speed.
        let hits_before = received.lock().unwrap().hits.len();
        let (after_steps, after_hits) = if rng.range(0, 1) == 0 {
            (rng.range(3, (CLIENTS * MAX_STEPS * 2) as u64), usize::MAX)
        } else {
            (u64::MAX, hits_before + rng.range(1, 12) as usize)
        };
        let extra = rng.range(0, 40) * u64::from(after_hits == usize::MAX);
        let t = Instant::now();
        while done.load(Ordering::Relaxed) < after_steps
            && received.lock().unwrap().hits.len() < after_hits
            && !tasks.is_empty()
            && t.elapsed() < Duration::from_secs(30)
        {
            if tasks.try_join_next().is_some_and(|r| r.is_err()) {
                panic!("a client failed before the kill");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(extra)).await;
        kill9(server.0.as_mut().unwrap());
        stop_flag.store(true, Ordering::Relaxed);
        while let Some(r) = tasks.join_next().await {
            r.expect("a client's acknowledged answers are as expected");
        }
        eprintln!(
            "crash: serve {round} killed after {} acknowledged steps and {} webhooks (+{extra} ms)",
            done.load(Ordering::Relaxed),
            received.lock().unwrap().hits.len() - hits_before
        );

        // The store as the kill left it.
        audit_verifies(dir, &format!("after serve {round} was killed"));
        let mut s = stored(dir).await;
        check_after_kill(round, &s, &acked.lock().unwrap());
        check_ledger(round, dir, &acked.lock().unwrap());
        for id in &s.delivered {
            delivered_by_life.entry(id.clone()).or_insert(life);
        }

        // Every other round on average, a start-up is killed too (migrations, the
        // erasure ledger's reconciliation, the first delivery pass).
        if rng.range(0, 1) == 0 {
            let delay = rng.range(0, 400);
            // A life of its own: its first pass may send what the killed one claimed.
            let life = {
                let mut r = received.lock().unwrap();
                r.life += 1;
                r.life
            };
            let mut starting = Command::new(env!("CARGO_BIN_EXE_vow"))
                .args([
                    "serve",
                    "--data",
                    dir.to_str().unwrap(),
                    "--listen",
                    "127.0.0.1:0",
                ])
                .envs(serve_env())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            tokio::time::sleep(Duration::from_millis(delay)).await;
            kill9(&mut starting);
            eprintln!("crash: serve {round}'s first restart killed after {delay} ms");
            audit_verifies(dir, &format!("after restart {round} was killed"));
            s = stored(dir).await;
            check_after_kill(round, &s, &acked.lock().unwrap());
            for id in &s.delivered {
                delivered_by_life.entry(id.clone()).or_insert(life);
            }
        }
        // Once, a torn last line in the erasure ledger, as a power cut mid-append would
        // leave it (SIGKILL cannot tear a write): the lines after it must still count.
        if round == 2 {
            use std::io::Write as _;
            std::fs::OpenOptions::new()
                .append(true)
                .open(dir.join("erasure-ledger.jsonl"))
                .unwrap()
                .write_all(br#"{"tenant":"acme","subject":"01"#)
                .unwrap();
        }

        // Served again: the outbox drains, and erasures stay whole.
        received.lock().unwrap().life += 1;
        let (next, _, port) = spawn_serve(dir, &serve_env());
        server.0 = Some(next);
        c.base = format!("http://127.0.0.1:{port}");
        let events = drain(&c, &received).await;
        check_hits(&received.lock().unwrap(), &delivered_by_life);
        // Every erasure is in the ledger, on a line of its own that reads back.
        let ledger = ledger(dir);
        for (id, status) in &s.subjects {
            if status == "erased" {
                assert!(
                    ledger.contains(id),
                    "round {round}: erased subject {id} is not in the erasure ledger"
                );
            }
        }
        // This round's people who were not erased are found, as the clients left them.
        let kept: Vec<(String, String)> = {
            let a = acked.lock().unwrap();
            a.subjects
                .iter()
                .filter(|(id, e)| {
                    e.starts_with(&format!("r{round}w"))
                        && s.subjects.get(id.as_str()).map(String::as_str) == Some("active")
                })
                .map(|(id, e)| (id.clone(), e.clone()))
                .collect()
        };
        for (id, email) in &kept {
            let (st, b) = c
                .call(
                    reqwest::Method::GET,
                    &format!("/v1/tenants/acme/subjects?email={email}"),
                    Value::Null,
                )
                .await
                .unwrap();
            assert_eq!(st, StatusCode::OK, "{b}");
            assert_eq!(b["id"], id.as_str(), "{b}");
        }
        let (erased, acked_subjects) = {
            let a = acked.lock().unwrap();
            let erased: Vec<String> = s
                .subjects
                .iter()
                .filter(|(_, st)| st.as_str() == "erased")
                .filter_map(|(id, _)| a.subjects.get(id).cloned())
                .collect();
            (erased, a.subjects.len())
        };
        for email in &erased {
            let (st, b) = c
                .call(
                    reqwest::Method::GET,
                    &format!("/v1/tenants/acme/subjects?email={email}"),
                    Value::Null,
                )
                .await
                .unwrap();
            assert_eq!(st, StatusCode::NOT_FOUND, "an erased person is found: {b}");
        }
        let resent = {
            let r = received.lock().unwrap();
            let mut lives: HashMap<&str, HashSet<u64>> = HashMap::new();
            for (id, life) in &r.hits {
                lives.entry(id.as_str()).or_default().insert(*life);
            }
            lives.values().filter(|l| l.len() > 1).count()
        };
        eprintln!(
            "crash: serve {round} restarted; {} events were claimed and unrecorded at the kill; \
             {events} events drained, {resent} sent again after a kill so far; \
             {acked_subjects} people acknowledged so far, {} erased; after {:?}",
            s.claimed,
            erased.len(),
            started.elapsed()
        );
    }

    assert!(stop(server.0.as_mut().unwrap()).success());
    server.0 = None;
    audit_verifies(dir, "at the end");
    let s = stored(dir).await;
    check_after_kill(SERVE_KILLS + 1, &s, &acked.lock().unwrap());
    let life = received.lock().unwrap().life;
    for id in &s.delivered {
        delivered_by_life.entry(id.clone()).or_insert(life);
    }
    check_hits(&received.lock().unwrap(), &delivered_by_life);
    eprintln!("crash: done in {:?}", started.elapsed());
}

#[test]
fn a_webhook_lease_no_longer_than_the_attempt_timeout_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_vow"))
        .args(["serve", "--data", tmp.path().to_str().unwrap()])
        .env("VOW_WEBHOOKS_TIMEOUT", "3")
        .env("VOW_WEBHOOKS_LEASE", "3")
        .output()
        .unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("lease_secs (3) must be longer than timeout_secs (3)"),
        "{}",
        text(&o)
    );
}
