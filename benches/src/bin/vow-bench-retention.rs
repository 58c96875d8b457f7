//! Benchmark of a retention sweep (issue 4): a store of N subjects (8 fields each, the
//! research profile) of whom 10% were collected long enough ago to be due under the
//! rule "keep 3 years from collection"; times the dry run and the sweep that
//! crypto-shreds those 10%.
//!
//! Run: `cargo run --release -p vow-bench --bin vow-bench-retention -- --subjects 100000`
//! (`--backend postgres` for PostgreSQL on 127.0.0.1). Results go in BENCHMARKS.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmarks are measurement tools run by hand; a failed setup should stop them loudly"
)]

use anyhow::Result;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use vow_bench::args::arg;
use vow_bench::{cpu, fixtures};
use vow_core::SystemClock;
use vow_engine::input::NewSubject;
use vow_engine::{Actor, Engine, ImportOptions, KeySource};

/// The research policy with one retention rule for everything.
fn policy() -> String {
    let p = fixtures::RESEARCH_POLICY;
    let start = p
        .find("\nretention:\n")
        .expect("the policy has retention rules")
        + 1;
    let rest = &p[start + "retention:\n".len()..];
    let end: usize = rest
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .map(|l| l.len() + 1)
        .sum();
    format!(
        "{}retention:\n  - keep: 3y\n    from: collected\n    reason: benchmark\n{}",
        &p[..start],
        &rest[end..]
    )
}

/// Every tenth person was collected in 2020 instead of 2025: due under "3y from collected".
/// They are made adults then, so no parent's consent is needed for the earlier collection.
fn aged(s: NewSubject) -> NewSubject {
    let text = serde_json::to_string(&s).expect("a subject serialises");
    let mut s: NewSubject =
        serde_json::from_str(&text.replace("\"2025-", "\"2020-")).expect("and reads back");
    s.birth_date = Some(vow_core::Pii::new("1970-01-01".to_string()));
    s
}

#[tokio::main]
async fn main() -> Result<()> {
    let subjects: u64 = arg("--subjects", "100000").parse()?;
    let backend = arg("--backend", "sqlite");
    let dir = tempfile::tempdir()?;
    let pg = if backend == "postgres" {
        Some(vow_store::testing::PgTestDb::create().await?)
    } else {
        None
    };
    let url = match &pg {
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
        .publish_policy(&admin, t, &policy(), "policy.yaml")
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;

    let started = Instant::now();
    let batch = 50_000;
    let mut from = 0;
    while from < subjects {
        let to = (from + batch).min(subjects);
        let rows = fixtures::rows(11, from, to)
            .into_iter()
            .map(|(line, r)| {
                let i = from + line as u64;
                (
                    line,
                    r.map(|s| if i.is_multiple_of(10) { aged(s) } else { s }),
                )
            })
            .collect::<Vec<_>>();
        let r = engine
            .import(&admin, t, rows, ImportOptions::default(), |_| {})
            .await?;
        anyhow::ensure!(r.committed, "import failed: {:?}", r.bad.first());
        from = to;
        eprintln!(
            "imported {to} subjects ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
    }
    let import_s = started.elapsed().as_secs_f64();
    println!("store: {subjects} subjects of 8 fields on {backend}, imported in {import_s:.1} s");

    let before = cpu::snapshot();
    let start = Instant::now();
    let dry = engine.retention_run(&admin, t, true).await?;
    let dry_s = start.elapsed().as_secs_f64();
    let dry_cpu = cpu::between(&before, &cpu::snapshot());
    println!(
        "dry run: {} people due, {} fields, in {dry_s:.2} s ({})",
        dry.run.subjects_shredded,
        dry.run.fields_destroyed,
        dry_cpu.describe(dry_s)
    );

    let before = cpu::snapshot();
    let start = Instant::now();
    let run = engine.retention_run(&admin, t, false).await?;
    let run_s = start.elapsed().as_secs_f64();
    let run_cpu = cpu::between(&before, &cpu::snapshot());
    anyhow::ensure!(
        run.run.subjects_shredded as u64 == subjects.div_ceil(10),
        "expected {} people shredded, got {}",
        subjects.div_ceil(10),
        run.run.subjects_shredded
    );
    println!(
        "sweep: {} people crypto-shredded ({} fields) in {run_s:.2} s = {:.0} people/s ({})",
        run.run.subjects_shredded,
        run.run.fields_destroyed,
        run.run.subjects_shredded as f64 / run_s,
        run_cpu.describe(run_s)
    );

    let start = Instant::now();
    let again = engine.retention_run(&admin, t, false).await?;
    let again_s = start.elapsed().as_secs_f64();
    println!(
        "second sweep (nothing due): {} destroyed in {again_s:.2} s",
        again.run.fields_destroyed
    );
    println!(
        "{}",
        json!({
            "bench": "retention_sweep", "backend": backend, "subjects": subjects,
            "import_s": import_s, "dry_run_s": dry_s, "sweep_s": run_s, "idle_sweep_s": again_s,
            "shredded": run.run.subjects_shredded, "fields": run.run.fields_destroyed,
            "dry_cpu": dry_cpu.json(), "sweep_cpu": run_cpu.json(),
        })
    );
    engine.shutdown().await;
    if let Some(db) = pg {
        db.drop_db().await?;
    }
    Ok(())
}
