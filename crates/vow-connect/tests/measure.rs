//! A rough measurement, not a test: `cargo test -p vow-connect --test measure --
//! --ignored --nocapture`. The numbers that count are the benches' (BENCHMARKS.md).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a measurement"
)]

use std::collections::BTreeMap;
use std::time::Instant;
use vow_connect::shop::{self, TestDb};
use vow_connect::{Db, Identities, Kind, Plan, access, check};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run by hand"]
async fn access_batches_of_fifty_on_postgres() {
    let customers: u64 = std::env::var("VOW_MEASURE_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let made = Instant::now();
    let t = TestDb::shop(Kind::Postgres, customers, 1).await.unwrap();
    println!(
        "{customers} customers ({} rows) made in {:?}",
        customers * 50,
        made.elapsed()
    );
    let db = Db::open(&t.target, 4).await.unwrap();
    let manifest = check(&shop::shop_dataset(), "shop.yml", None)
        .unwrap()
        .manifest;
    let plan = Plan::build(&manifest, "shop", &db.schema().await.unwrap()).unwrap();
    let mut times = Vec::new();
    let start = db.statements();
    let all = Instant::now();
    for batch in 0..20u64 {
        let people: Vec<Identities> = (0..50)
            .map(|k| {
                BTreeMap::from([(
                    "email".to_string(),
                    shop::email(1 + (batch * 50 + k) % customers),
                )])
            })
            .collect();
        let t0 = Instant::now();
        let found = access(&db, &plan, &people).await.unwrap();
        times.push(t0.elapsed());
        assert_eq!(found.len(), 50);
    }
    let total = all.elapsed();
    times.sort();
    println!(
        "1000 access requests in 20 batches of 50: {total:?} ({:.0} requests/minute); batch p50 {:?}, p95 {:?}; {} statements ({:.2} per request)",
        1000.0 / total.as_secs_f64() * 60.0,
        times[10],
        times[19],
        db.statements() - start,
        (db.statements() - start) as f64 / 1000.0
    );
    t.drop_db().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run by hand"]
async fn erasures_on_postgres() {
    use vow_connect::{Strategy, apply, erasure};
    let customers: u64 = std::env::var("VOW_MEASURE_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let t = TestDb::shop(Kind::Postgres, customers, 1).await.unwrap();
    let db = Db::open(&t.target, 4).await.unwrap();
    let manifest = check(&shop::shop_dataset(), "shop.yml", None)
        .unwrap()
        .manifest;
    let plan = Plan::build(&manifest, "shop", &db.schema().await.unwrap()).unwrap();
    let policy = |c: &str| {
        (c == "user").then(|| Strategy {
            name: "hmac".into(),
            configuration: None,
        })
    };
    let start = db.statements();
    let all = Instant::now();
    let mut times = Vec::new();
    for batch in 0..4u64 {
        let people: Vec<Identities> = (0..50)
            .map(|k| {
                BTreeMap::from([(
                    "email".to_string(),
                    shop::email(1 + (batch * 50 + k) % customers),
                )])
            })
            .collect();
        let t0 = Instant::now();
        let found = access(&db, &plan, &people).await.unwrap();
        let each: Vec<_> = found
            .iter()
            .map(|f| erasure(&plan, f, &policy, &[7; 32]).unwrap())
            .collect();
        if std::env::var("VOW_MEASURE_ONE_BY_ONE").is_ok() {
            for changes in &each {
                for c in &changes.collections {
                    apply(&db, &plan, c).await.unwrap();
                }
            }
        } else {
            for c in &vow_connect::merge(&plan, &each).collections {
                apply(&db, &plan, c).await.unwrap();
            }
        }
        times.push(t0.elapsed());
    }
    let total = all.elapsed();
    println!(
        "200 erasures in 4 batches of 50: {total:?} ({:.0} requests/minute); batches {times:?}; {} statements ({:.2} per request)",
        200.0 / total.as_secs_f64() * 60.0,
        db.statements() - start,
        (db.statements() - start) as f64 / 200.0
    );
    t.drop_db().await.unwrap();
}
