//! Webhook delivery throughput (issue 4): N people's names disclosed to a recipient, each
//! corrected (one `subject.corrected` event each, its new value sealed under the person's
//! key), then one delivery pass to a receiver on 127.0.0.1 that answers 204. Reports
//! events/s of the pass (claim, open the values, sign, POST, record) and the p50/p99 of
//! the attempts' durations from the delivery history.
//!
//! Run: `cargo run --release -p vow-bench --bin vow-bench-webhooks -- --events 10000 [--pg]`
//! Results go in BENCHMARKS.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmarks are measurement tools run by hand; a failed setup should stop them loudly"
)]

use anyhow::Result;
use serde_json::json;
use sqlx::Row;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use vow_bench::args::number as arg;
use vow_bench::fixtures;
use vow_core::webhook::NetAllow;
use vow_core::{Pii, SystemClock};
use vow_engine::input::{NewField, SubjectPatch};
use vow_engine::obligations::disclosures::NewDisclosure;
use vow_engine::{Actor, Engine, ImportOptions, KeySource};
use vow_server::webhooks::{Deliverer, deliver_pass};

fn pct(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let events = arg("--events", 10_000);
    let pg = std::env::args().any(|a| a == "--pg");
    let dir = tempfile::tempdir()?;
    let pg_db = if pg {
        Some(vow_store::testing::PgTestDb::create().await?)
    } else {
        None
    };
    let url = match &pg_db {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}/vow.db", dir.path().display()),
    };
    let (engine, _) = Engine::open(
        &url,
        KeySource::File(dir.path().join("root.key")),
        Arc::new(SystemClock),
    )
    .await?;
    let admin = Actor::local("bench");
    let tenant: vow_core::TenantId = fixtures::TENANT.parse()?;
    let t = &tenant;
    engine
        .create_tenant(&admin, t.as_str(), "Bench", "controller", None)
        .await?;
    engine
        .publish_policy(&admin, t, fixtures::RESEARCH_POLICY, "policy.yaml")
        .await?;
    let r = engine
        .import(
            &admin,
            t,
            fixtures::rows(7, 0, events),
            ImportOptions::default(),
            |_| {},
        )
        .await?;
    anyhow::ensure!(r.committed, "import failed: {:?}", r.bad.first());
    let pool = sqlx::AnyPool::connect(&url).await?;
    let ids: Vec<String> = sqlx::query("SELECT id FROM subjects WHERE tenant_id = $1 ORDER BY id")
        .bind(t.as_str())
        .fetch_all(&pool)
        .await?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    let d = engine
        .disclose(
            &admin,
            t,
            &NewDisclosure {
                recipient: "tallypay".into(),
                purpose: "incentive_payment".into(),
                categories: vec!["user.name".into()],
                subjects: ids.clone(),
                delivery: None,
            },
        )
        .await?;
    let started = Instant::now();
    for s in ids.iter().take(d.records.len()) {
        let patch = SubjectPatch {
            fields: vec![NewField {
                category: "user.name".into(),
                value: Pii::new(json!("A Corrected Name")),
                purposes: vec![],
                source: Some("phone-call".into()),
                store: None,
                collected_at: None,
                corrects: None,
            }],
            residence: None,
        };
        engine.update_subject(&admin, t, s, &patch).await?;
    }
    println!(
        "setup: {} subjects, {} disclosed, {} corrections (events) in {:.1} s",
        ids.len(),
        d.records.len(),
        d.records.len(),
        started.elapsed().as_secs_f64()
    );

    // The receiver: answers 204 and counts.
    let received = Arc::new(AtomicU64::new(0));
    let count = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |_body: axum::body::Bytes| {
            let count = count.clone();
            async move {
                count.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    engine.set_webhook_net(NetAllow {
        loopback: true,
        private: false,
    });
    engine
        .put_endpoint(&admin, t, "tallypay", &format!("http://{addr}/hook"), None)
        .await?;
    let deliverer =
        Deliverer::for_engine(&engine, Duration::from_secs(10)).map_err(anyhow::Error::msg)?;

    let start = Instant::now();
    let report = deliver_pass(&engine, &deliverer, &admin, Some(t)).await?;
    let secs = start.elapsed().as_secs_f64();
    let mut durations: Vec<i64> = sqlx::query("SELECT duration_ms FROM delivery_attempts")
        .fetch_all(&pool)
        .await?
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect();
    durations.sort_unstable();
    println!(
        "backend: {}  delivered {} of {} events ({} received) in {secs:.2} s = {:.0} events/s",
        if pg { "postgres" } else { "sqlite" },
        report.delivered,
        report.claimed,
        received.load(Ordering::Relaxed),
        report.delivered as f64 / secs
    );
    println!(
        "attempt latency (send to answer, 64 in flight): p50 {} ms, p99 {} ms, max {} ms",
        pct(&durations, 0.50),
        pct(&durations, 0.99),
        durations.last().copied().unwrap_or(0)
    );
    pool.close().await;
    engine.shutdown().await;
    if let Some(db) = pg_db {
        db.drop_db().await?;
    }
    Ok(())
}
