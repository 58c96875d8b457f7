//! Benchmarks of the data-subject request workflow (issue 3): in a store of N subjects,
//! the access package of a person with 100 fields, the right-to-know report and an
//! erasure (p50 and p99 each), the intake of 10,000 requests submitted at once, and
//! (issue 4) one disclosure of 100,000 people to a recipient.
//!
//! Run: `cargo run --release -p vow-bench --bin vow-bench-requests -- --subjects 100000`
//! Results go in BENCHMARKS.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmarks are measurement tools run by hand; a failed setup should stop them loudly"
)]

use anyhow::{Context, Result};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vow_bench::args::number as arg;
use vow_bench::fixtures;
use vow_core::{Pii, SystemClock};
use vow_engine::input::{Identifiers, NewConsent, NewField, NewSubject};
use vow_engine::requests::NewRequest;
use vow_engine::{Actor, Engine, ImportOptions, KeySource};

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut d: Vec<Duration>) {
    d.sort();
    println!(
        "{name:<28} n={:<5} p50={:>8.2} ms  p99={:>8.2} ms",
        d.len(),
        pct(&d, 0.50).as_secs_f64() * 1e3,
        pct(&d, 0.99).as_secs_f64() * 1e3
    );
}

fn request(kind: &str, email: String, external_id: Option<String>) -> NewRequest {
    NewRequest {
        kind: kind.into(),
        channel: "web".into(),
        jurisdiction: Some("CA".into()),
        identifiers: Identifiers {
            email: Some(Pii::new(email)),
            phone: None,
            external_id: external_id.map(Pii::new),
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

#[tokio::main]
async fn main() -> Result<()> {
    let subjects = arg("--subjects", 100_000);
    let samples = arg("--samples", 200) as usize;
    let intake = arg("--intake", 10_000) as usize;
    let disclose = arg("--disclose", 100_000) as i64;
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/vow.db", dir.path().display());
    let (engine, _) = Engine::open(
        &url,
        KeySource::File(dir.path().join("root.key")),
        Arc::new(SystemClock),
    )
    .await?;
    let admin = Actor::local("bench");
    // Spawned intake tasks borrow it for the whole run.
    let t: &'static vow_core::TenantId = Box::leak(Box::new(fixtures::TENANT.parse()?));
    engine
        .create_tenant(&admin, t.as_str(), "Bench", "controller", None)
        .await?;
    engine
        .publish_policy(&admin, t, fixtures::RESEARCH_POLICY, "policy.yaml")
        .await?;

    let started = Instant::now();
    let batch = 50_000;
    let mut from = 0;
    while from < subjects {
        let to = (from + batch).min(subjects);
        let r = engine
            .import(
                &admin,
                t,
                fixtures::rows(7, from, to),
                ImportOptions::default(),
                |_| {},
            )
            .await?;
        anyhow::ensure!(r.committed, "import failed: {:?}", r.bad.first());
        from = to;
    }
    println!(
        "store: {subjects} subjects of 8 fields imported in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // People with 100 fields each, for the access package.
    let heavy = |i: u64| NewSubject {
        identifiers: Identifiers {
            email: Some(Pii::new(format!("heavy{i}@example.org"))),
            phone: None,
            external_id: Some(Pii::new(format!("H-{i}"))),
        },
        birth_date: Some(Pii::new("1980-05-05".into())),
        fields: (0..100)
            .map(|f| NewField {
                category: if f == 0 {
                    "user.name".into()
                } else {
                    "user.content.survey_response".into()
                },
                value: Pii::new(json!(format!(
                    "answer {f} of a long study, with enough text to be realistic"
                ))),
                purposes: vec!["research".into()],
                source: Some("survey".into()),
                store: Some("primary".into()),
                collected_at: None,
                corrects: None,
            })
            .collect(),
        consents: vec![NewConsent {
            purpose: "research".into(),
            action: None,
            kind: Some("express".into()),
            evidence: Some(Pii::new(json!({"channel": "web"}))),
            at: None,
            expires_at: None,
            parent: None,
        }],
        residence: None,
    };
    for i in 0..samples as u64 {
        engine
            .create_subject(&admin, t, &heavy(i))
            .await
            .context("heavy subject")?;
    }

    let mut access = Vec::new();
    let mut know = Vec::new();
    for i in 0..samples as u64 {
        for (kind, out) in [("access", &mut access), ("know", &mut know)] {
            let r = engine
                .submit_request(
                    &admin,
                    t,
                    &request(
                        kind,
                        format!("heavy{i}@example.org"),
                        Some(format!("H-{i}")),
                    ),
                )
                .await?;
            let start = Instant::now();
            let done = engine.fulfil_request(&admin, t, &r.id).await?;
            out.push(start.elapsed());
            anyhow::ensure!(done.state == "fulfilled", "{kind}: {}", done.state);
        }
    }
    report("access package (100 fields)", access);
    report("right-to-know report", know);

    let mut erase = Vec::new();
    for i in 0..samples as u64 {
        let (email, external) = (fixtures::email(7, i), None);
        let r = engine
            .submit_request(&admin, t, &request("delete", email, external))
            .await?;
        let start = Instant::now();
        let done = engine.fulfil_request(&admin, t, &r.id).await?;
        erase.push(start.elapsed());
        anyhow::ensure!(done.state == "fulfilled", "delete: {}", done.state);
    }
    report("erasure (crypto-shred)", erase);

    // Intake: 10,000 requests submitted at once (64 at a time in flight).
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    for i in 0..intake as u64 {
        let engine = engine.clone();
        let admin = admin.clone();
        let permit = sem.clone().acquire_owned().await?;
        tasks.spawn(async move {
            let _permit = permit;
            let email = fixtures::email(7, 1_000 + (i % (subjects.max(2_000) - 1_000)));
            engine
                .submit_request(&admin, t, &request("know", email, None))
                .await
                .map(|_| ())
        });
    }
    let mut failed = 0;
    while let Some(r) = tasks.join_next().await {
        if !matches!(r, Ok(Ok(()))) {
            failed += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "intake: {intake} requests in {secs:.1} s = {:.0} requests/s ({failed} failed)",
        intake as f64 / secs
    );

    // One disclosure of `disclose` people's name and e-mail to the payments vendor for
    // incentive payment (a contract purpose): each person judged, values opened, the
    // log written. The ids come straight from the database: the engine lists none.
    if disclose > 0 {
        let pool = sqlx::SqlitePool::connect(&url).await?;
        let ids: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM subjects WHERE tenant_id = ? AND status = 'active' ORDER BY id LIMIT ?",
        )
        .bind(t.as_str())
        .bind(disclose)
        .fetch_all(&pool)
        .await?;
        pool.close().await;
        let input = vow_engine::obligations::disclosures::NewDisclosure {
            recipient: "tallypay".into(),
            purpose: "incentive_payment".into(),
            categories: vec!["user.name".into(), "user.contact.email".into()],
            subjects: ids.into_iter().map(|(id,)| id).collect(),
            delivery: None,
        };
        let start = Instant::now();
        let d = engine.disclose(&admin, t, &input).await?;
        let secs = start.elapsed().as_secs_f64();
        println!(
            "disclosure: {} people sent, {} refused in {secs:.2} s = {:.0} people/s",
            d.records.len(),
            d.refused.len(),
            input.subjects.len() as f64 / secs
        );
    }
    engine.shutdown().await;
    Ok(())
}
