//! Benchmarks of the connectors (issue 11), through the engine as a deployment runs
//! them: Vow's store on PostgreSQL (or `--store sqlite`), the shop database of
//! `vow_connect::shop` on PostgreSQL with `--customers` people of about 50 rows
//! each, the shop policy, a connection and the dataset registered. People are in
//! the vault (their e-mail, as identifier and as a field), so requests verify at once.
//!
//! Workload: `--access` access requests (default 1,000) in batches of 50 (submit 50,
//! fulfil them: their jobs start; run the connector jobs: they complete), then
//! `--erasures` erasure requests (default 200) the same way; then `--small` access
//! requests and a fifth as many erasures in batches of 10 and of 1, to show the
//! statements per request falling as the batch grows. Last, `--streamed` access
//! requests (default 500) and a fifth as many erasures as `vow serve` meets them: 50
//! clients at a time each file a request and have it fulfilled while a runner loop
//! works whatever is due, woken when jobs start.
//!
//! Latency is a request's time in its batch: from its fulfil call to the end of the
//! run that fulfilled it. CPU: this process (`/proc/self/stat`) and the PostgreSQL
//! backends serving the shop database and Vow's store (`/proc/<pid>/stat` of the
//! pids `pg_stat_activity` lists for each database). Statements on the shop database:
//! its transactions in `pg_stat_database` (each statement outside a transaction is
//! one; an erasure's collection is one transaction of several statements), read
//! after 11 s so idle backends have flushed their counters; and, exactly, the
//! statements of the find walk alone, with `vow_connect::Db::statements`.
//!
//! Run: `cargo run --release -p vow-bench --bin vow-bench-connectors -- --customers 100000`
//! (`--shop-url URL` reuses a shop database filled earlier by `--fill-only`, which
//! prints its URL and keeps it). Results go in BENCHMARKS.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmarks are measurement tools run by hand; a failed setup should stop them loudly"
)]

use anyhow::{Context, Result, ensure};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vow_bench::args::{arg as text, number as arg};
use vow_connect::shop::{self, TestDb};
use vow_connect::{Db, Identities, Kind, Plan, Target};
use vow_core::{Pii, SystemClock, TenantId};
use vow_engine::input::{Identifiers, NewField, NewSubject};
use vow_engine::requests::NewRequest;
use vow_engine::{Actor, Engine, ImportOptions, KeySource};

const POLICY: &str = include_str!("../../../examples/shop/policy.yaml");
const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Linux reports process times in USER_HZ ticks, 100 a second.
const TICKS: f64 = 100.0;

/// Customer number of the k-th person asked about: spread over the whole table
/// (7919 is prime, so distinct while k < customers).
fn customer(k: u64, customers: u64) -> u64 {
    1 + (k * 7919) % customers
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ticks(pid: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest: Vec<&str> = text
        .get(text.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    Some(rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?)
}

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// What the server says about one database: backend pid → CPU ticks, and counters.
#[derive(Default)]
struct DbSnap {
    backends: HashMap<String, u64>,
    xacts: i64,
    tuples_read: i64,
    tuples_changed: i64,
}

struct Probe {
    admin: sqlx::PgPool,
    shop: String,
    store: Option<String>,
}

impl Probe {
    async fn db(&self, name: &str) -> Result<DbSnap> {
        let pids: Vec<(i32,)> =
            sqlx::query_as("SELECT pid FROM pg_stat_activity WHERE datname = $1")
                .bind(name)
                .fetch_all(&self.admin)
                .await?;
        let (xacts, tuples_read, tuples_changed): (i64, i64, i64) = sqlx::query_as(
            "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched,
                    tup_inserted + tup_updated + tup_deleted
             FROM pg_stat_database WHERE datname = $1",
        )
        .bind(name)
        .fetch_one(&self.admin)
        .await?;
        Ok(DbSnap {
            backends: pids
                .into_iter()
                .filter_map(|(p,)| ticks(&p.to_string()).map(|t| (p.to_string(), t)))
                .collect(),
            xacts,
            tuples_read,
            tuples_changed,
        })
    }

    async fn snap(&self) -> Result<(DbSnap, DbSnap, u64)> {
        let shop = self.db(&self.shop).await?;
        let store = match &self.store {
            Some(s) => self.db(s).await?,
            None => DbSnap::default(),
        };
        Ok((shop, store, ticks("self").unwrap_or(0)))
    }
}

/// Backend CPU seconds between two snapshots (backends that ended meanwhile are lost).
fn backend_secs(a: &DbSnap, b: &DbSnap) -> f64 {
    b.backends
        .iter()
        .map(|(pid, t)| t.saturating_sub(a.backends.get(pid).copied().unwrap_or(0)))
        .sum::<u64>() as f64
        / TICKS
}

struct Ctx {
    engine: Arc<Engine>,
    admin: Actor,
    tenant: TenantId,
    owner: String,
    probe: Probe,
    customers: u64,
}

fn request(kind: &str, email: String) -> NewRequest {
    NewRequest {
        kind: kind.into(),
        channel: "web".into(),
        jurisdiction: Some("CA".into()),
        identifiers: Identifiers {
            email: Some(Pii::new(email)),
            phone: None,
            external_id: None,
        },
        birth_date: None,
        requester: None,
        contact_email: None,
        received_at: None,
        backdated: false,
        purposes: Vec::new(),
        corrections: Vec::new(),
    }
}

/// Run `people` requests of `kind` in batches of `batch`; print one line.
async fn phase(cx: &Ctx, kind: &str, people: &[u64], batch: usize) -> Result<()> {
    let (shop0, store0, me0) = cx.probe.snap().await?;
    let mut latencies = Vec::with_capacity(people.len());
    let mut in_batches = Duration::ZERO;
    let started = Instant::now();
    for chunk in people.chunks(batch) {
        let mut ids = Vec::with_capacity(chunk.len());
        for k in chunk {
            let email = shop::email(customer(*k, cx.customers));
            let r = cx
                .engine
                .submit_request(&cx.admin, &cx.tenant, &request(kind, email))
                .await?;
            ensure!(
                r.state == "verified",
                "{kind} request is {} (matched {} points)",
                r.state,
                r.matched_points
            );
            ids.push(r.id);
        }
        let batch_start = Instant::now();
        let mut starts = Vec::with_capacity(ids.len());
        for id in &ids {
            starts.push(Instant::now());
            let v = cx.engine.fulfil_request(&cx.admin, &cx.tenant, id).await?;
            ensure!(v.state == "in_progress", "after fulfil: {}", v.state);
        }
        let report = cx
            .engine
            .run_connector_jobs(&cx.admin, &cx.tenant, &cx.owner)
            .await?;
        let end = Instant::now();
        ensure!(
            report.requests_completed == ids.len() && report.failed == 0,
            "run: {} of {} completed, {} failed",
            report.requests_completed,
            ids.len(),
            report.failed
        );
        in_batches += end - batch_start;
        latencies.extend(starts.into_iter().map(|s| end - s));
    }
    let wall = started.elapsed().as_secs_f64();
    let me1 = ticks("self").unwrap_or(0);
    // Idle backends flush their counters within 10 s (PostgreSQL 15).
    tokio::time::sleep(Duration::from_secs(11)).await;
    let (shop1, store1, _) = cx.probe.snap().await?;
    latencies.sort();
    let n = people.len() as f64;
    let process = (me1.saturating_sub(me0)) as f64 / TICKS;
    let shop_cpu = backend_secs(&shop0, &shop1);
    let store_cpu = backend_secs(&store0, &store1);
    println!(
        "{kind:<6} batch {batch:>2}: n={:<5} p50={:>7.1} ms p95={:>7.1} ms | {:>7.0} req/min all in ({:.1} s), {:>7.0} req/min fulfil→fulfilled ({:.1} s) | CPU/req: vow {:.4} s, store backends {:.4} s, shop backends {:.4} s, total {:.4} s | shop DB per request: {:.2} transactions, {:.0} tuples read, {:.1} changed",
        people.len(),
        pct(&latencies, 0.50).as_secs_f64() * 1e3,
        pct(&latencies, 0.95).as_secs_f64() * 1e3,
        n / wall * 60.0,
        wall,
        n / in_batches.as_secs_f64() * 60.0,
        in_batches.as_secs_f64(),
        process / n,
        store_cpu / n,
        shop_cpu / n,
        (process + store_cpu + shop_cpu) / n,
        (shop1.xacts - shop0.xacts) as f64 / n,
        (shop1.tuples_read - shop0.tuples_read) as f64 / n,
        (shop1.tuples_changed - shop0.tuples_changed) as f64 / n,
    );
    Ok(())
}

/// Requests as `vow serve` meets them: `clients` people at a time each file a request
/// and have it fulfilled (the fulfil call starts its jobs and wakes the runner), while
/// one runner loop, as `vow serve` runs it, works whatever is due when it looks (up to
/// 50 jobs at once). Latency: from a request's fulfil call until the runner fulfilled it.
async fn streamed(cx: &Arc<Ctx>, kind: &str, people: &[u64], clients: usize) -> Result<()> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::sync::{Semaphore, oneshot};
    type Waiting = Arc<Mutex<HashMap<String, oneshot::Sender<Instant>>>>;
    let (shop0, store0, me0) = cx.probe.snap().await?;
    let waiting: Waiting = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let runner = {
        let (cx, waiting, stop) = (cx.clone(), waiting.clone(), stop.clone());
        tokio::spawn(async move {
            let mut passes = 0u64;
            while !stop.load(Ordering::Relaxed) {
                tokio::select! {
                    () = cx.engine.connector_jobs_due() => {}
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
                let report = cx
                    .engine
                    .run_connector_jobs(&cx.admin, &cx.tenant, &cx.owner)
                    .await
                    .expect("runner pass");
                assert_eq!(report.failed, 0, "a job failed");
                if report.claimed > 0 {
                    passes += 1;
                }
                let now = Instant::now();
                let mut w = waiting.lock().expect("waiting");
                for id in report.fulfilled {
                    if let Some(tx) = w.remove(&id) {
                        let _ = tx.send(now);
                    }
                }
            }
            passes
        })
    };
    let gate = Arc::new(Semaphore::new(clients));
    let mut set = tokio::task::JoinSet::new();
    let started = Instant::now();
    for k in people {
        let permit = gate.clone().acquire_owned().await?;
        let (cx, waiting, kind, k) = (cx.clone(), waiting.clone(), kind.to_string(), *k);
        set.spawn(async move {
            let _permit = permit;
            let email = shop::email(customer(k, cx.customers));
            let r = cx
                .engine
                .submit_request(&cx.admin, &cx.tenant, &request(&kind, email))
                .await
                .expect("submit");
            assert_eq!(r.state, "verified");
            let (tx, rx) = oneshot::channel();
            waiting.lock().expect("waiting").insert(r.id.clone(), tx);
            let t = Instant::now();
            let v = cx
                .engine
                .fulfil_request(&cx.admin, &cx.tenant, &r.id)
                .await
                .expect("fulfil");
            assert_eq!(v.state, "in_progress");
            rx.await.expect("fulfilled") - t
        });
    }
    let mut latencies = Vec::with_capacity(people.len());
    while let Some(l) = set.join_next().await {
        latencies.push(l?);
    }
    let wall = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let passes = runner.await?;
    let me1 = ticks("self").unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(11)).await;
    let (shop1, store1, _) = cx.probe.snap().await?;
    latencies.sort();
    let n = people.len() as f64;
    let process = (me1.saturating_sub(me0)) as f64 / TICKS;
    let shop_cpu = backend_secs(&shop0, &shop1);
    let store_cpu = backend_secs(&store0, &store1);
    println!(
        "{kind:<6} streamed, {clients} clients: n={:<5} p50={:>7.1} ms p95={:>7.1} ms p99={:>7.1} ms | {:>7.0} req/min all in ({:.1} s, {passes} runner passes) | CPU/req: vow {:.4} s, store backends {:.4} s, shop backends {:.4} s, total {:.4} s | shop DB per request: {:.2} transactions",
        people.len(),
        pct(&latencies, 0.50).as_secs_f64() * 1e3,
        pct(&latencies, 0.95).as_secs_f64() * 1e3,
        pct(&latencies, 0.99).as_secs_f64() * 1e3,
        n / wall * 60.0,
        wall,
        process / n,
        store_cpu / n,
        shop_cpu / n,
        (process + store_cpu + shop_cpu) / n,
        (shop1.xacts - shop0.xacts) as f64 / n,
    );
    Ok(())
}

/// The find walk alone (no engine), statements counted by the pool: per batch size.
async fn walk_statements(target: &Target, customers: u64, from: u64) -> Result<()> {
    let db = Db::open(target, 4).await?;
    let manifest = vow_connect::check(&shop::shop_dataset(), "shop.yml", None)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .manifest;
    let plan = Plan::build(&manifest, "shop", &db.schema().await?)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    for batch in [1u64, 10, 50] {
        let people: Vec<Identities> = (0..batch)
            .map(|k| {
                BTreeMap::from([(
                    "email".to_string(),
                    shop::email(customer(from + k, customers)),
                )])
            })
            .collect();
        let before = db.statements();
        let t0 = Instant::now();
        let found = vow_connect::access(&db, &plan, &people).await?;
        let took = t0.elapsed();
        ensure!(found.len() == people.len(), "walk found {}", found.len());
        println!(
            "find walk, batch {batch:>2}: {} statements ({:.2} per request), {:.1} ms",
            db.statements() - before,
            (db.statements() - before) as f64 / batch as f64,
            took.as_secs_f64() * 1e3
        );
    }
    Ok(())
}

fn load() -> String {
    std::process::Command::new("uptime")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<()> {
    let customers = arg("--customers", 10_000);
    let access_n = arg("--access", 1000);
    let erase_n = arg("--erasures", 200);
    let small = arg("--small", 100);
    let stream_n = arg("--streamed", 500);
    // Where in the customer table the people asked about start: a second run on a
    // reused shop database (`--shop-url`) asks about others than the first erased.
    let first = arg("--first", 0);
    let sqlite = text("--store", "pg") == "sqlite";
    let shop_url = text("--shop-url", "");
    println!("load before: {}", load());

    // The shop database.
    let (shop_db, target) = if shop_url.is_empty() {
        let t0 = Instant::now();
        let t = TestDb::shop(Kind::Postgres, customers, 1).await?;
        println!(
            "shop: {customers} customers (~{} rows) filled in {:.1} s",
            customers * 50,
            t0.elapsed().as_secs_f64()
        );
        let target = t.target.clone();
        (Some(t), target)
    } else {
        (None, Target::parse(&shop_url)?)
    };
    if std::env::args().any(|a| a == "--fill-only") {
        println!("kept: {}", target.url());
        std::mem::forget(shop_db);
        return Ok(());
    }
    let shop_name = target
        .url()
        .rsplit_once('/')
        .map(|(_, n)| n.split('?').next().unwrap_or(n).to_string())
        .context("shop URL has no database name")?;

    // Vow's own store.
    let dir = tempfile::tempdir()?;
    let store_db = if sqlite {
        None
    } else {
        Some(vow_store::testing::PgTestDb::create().await?)
    };
    let url = match &store_db {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}/vow.db", dir.path().display()),
    };
    let store_name = store_db
        .as_ref()
        .and_then(|d| d.url.rsplit_once('/').map(|(_, n)| n.to_string()));
    let (engine, _) = Engine::open(
        &url,
        KeySource::File(dir.path().join("root.key")),
        Arc::new(SystemClock),
    )
    .await?;
    let admin = Actor::local("bench");
    let tenant: TenantId = "shop".parse()?;
    engine
        .create_tenant(&admin, tenant.as_str(), "Lantern Goods", "controller", None)
        .await?;
    engine
        .publish_policy(&admin, &tenant, POLICY, "policy.yaml")
        .await?;
    engine
        .put_connection(
            &admin,
            &tenant,
            "shop",
            &Pii::new(target.url().to_string()),
            None,
            false,
        )
        .await?;
    engine
        .register_datasets(&admin, &tenant, "shop", &shop::shop_dataset(), "shop.yml")
        .await?;

    // The people asked about, in the vault.
    let small_erase = small / 5;
    let total = access_n + erase_n + 2 * (small + small_erase) + stream_n + stream_n / 5;
    ensure!(
        first + total < customers,
        "{total} people asked about, {customers} customers"
    );
    let t0 = Instant::now();
    let rows = (first..first + total).map(|k| {
        let email = shop::email(customer(k, customers));
        (
            (k - first) as usize + 1,
            Ok(NewSubject {
                identifiers: Identifiers {
                    email: Some(Pii::new(email.clone())),
                    phone: None,
                    external_id: None,
                },
                birth_date: None,
                fields: vec![NewField {
                    category: "user.contact.email".into(),
                    value: Pii::new(json!(email)),
                    purposes: vec!["orders".into()],
                    source: None,
                    store: None,
                    collected_at: None,
                    corrects: None,
                }],
                consents: Vec::new(),
                residence: None,
            }),
        )
    });
    let r = engine
        .import(&admin, &tenant, rows, ImportOptions::default(), |_| {})
        .await?;
    ensure!(r.committed, "import failed: {:?}", r.bad.first());
    println!(
        "vault: {total} people imported in {:.1} s; store on {}",
        t0.elapsed().as_secs_f64(),
        if sqlite { "SQLite" } else { "PostgreSQL" }
    );

    let probe = Probe {
        admin: sqlx::PgPool::connect(ADMIN_URL).await?,
        shop: shop_name,
        store: store_name,
    };
    let cx = Arc::new(Ctx {
        owner: engine.runner_name(),
        engine,
        admin,
        tenant,
        probe,
        customers,
    });
    let people: Vec<u64> = (first..first + total).collect();
    let (a, rest) = people.split_at(access_n as usize);
    let (e, rest) = rest.split_at(erase_n as usize);
    println!("load at start: {}", load());
    phase(&cx, "access", a, 50).await?;
    phase(&cx, "delete", e, 50).await?;
    let mut rest = rest;
    for batch in [10, 1] {
        let (a, r) = rest.split_at(small as usize);
        let (e, r) = r.split_at(small_erase as usize);
        rest = r;
        phase(&cx, "access", a, batch).await?;
        phase(&cx, "delete", e, batch).await?;
    }
    let (a, r) = rest.split_at(stream_n as usize);
    let (e, _) = r.split_at((stream_n / 5) as usize);
    streamed(&cx, "access", a, 50).await?;
    streamed(&cx, "delete", e, 50).await?;
    println!("load at end: {}", load());
    walk_statements(&target, customers, first + total).await?;
    println!("peak memory (VmHWM): {} MiB", peak_kib() / 1024);

    cx.engine.shutdown().await;
    cx.probe.admin.close().await;
    if let Some(db) = store_db {
        db.drop_db().await?;
    }
    if let Some(db) = shop_db {
        db.drop_db().await?;
    }
    Ok(())
}
