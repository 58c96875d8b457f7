//! Reads during a large import (issue 9): a store of `--base` subjects is read and
//! looked up (both audited, so each needs a moment of the write lock) by `--readers`
//! concurrent tasks, first alone for `--baseline` seconds, then while `--subjects`
//! more are imported, either by this process's engine (`--mode inprocess`) or by a
//! separate `vow import` process on the same SQLite file (`--mode process`, as an
//! operator would run it next to `vow serve`). Prints the latency of each phase.
//!
//! Run: `cargo build --release -p vow && cargo run --release -p vow-bench --bin
//! vow-bench-import-load -- --subjects 100000 --mode process`. Results go in BENCHMARKS.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmarks are measurement tools run by hand; a failed setup should stop them loudly"
)]

use anyhow::{Result, bail};
use serde_json::json;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use vow_bench::args::arg;
use vow_bench::fixtures::{self, Rng};
use vow_bench::stats::{Summary, summarize};
use vow_core::{PurposeId, SystemClock, TenantId};
use vow_engine::{Actor, Engine, ImportOptions, KeySource, LookupKind};

#[derive(Default)]
struct Phase {
    latencies_us: Vec<u64>,
    errors: usize,
    over_10s: usize,
}

/// Readers alternate a lookup by e-mail and a purpose-bound read of five fields of a
/// random person of the base store, until `stop` is set.
async fn readers(
    engine: Arc<Engine>,
    tenant: TenantId,
    ids: Arc<Vec<String>>,
    base: u64,
    n: usize,
    stop: Arc<AtomicBool>,
) -> Phase {
    let actor = Actor::local("bench-reader");
    let purpose = PurposeId::new("research").unwrap();
    let categories: Vec<String> = ["user.name", "user.contact.email", "user.demographic"]
        .iter()
        .map(|c| c.to_string())
        .collect();
    let mut tasks = Vec::new();
    for w in 0..n {
        let (engine, tenant, ids, stop, actor, purpose, categories) = (
            engine.clone(),
            tenant.clone(),
            ids.clone(),
            stop.clone(),
            actor.clone(),
            purpose.clone(),
            categories.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(w as u64 + 7);
            let mut p = Phase::default();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let k = rng.below(base);
                let t = Instant::now();
                let ok = if i.is_multiple_of(2) {
                    engine
                        .lookup(&actor, &tenant, LookupKind::Email, &fixtures::email(1, k))
                        .await
                        .map(|f| f.is_some())
                        .unwrap_or(false)
                } else {
                    engine
                        .read(&actor, &tenant, &ids[k as usize], &purpose, &categories)
                        .await
                        .is_ok()
                };
                let us = t.elapsed().as_micros() as u64;
                i += 1;
                if !ok {
                    p.errors += 1;
                }
                if us > 10_000_000 {
                    p.over_10s += 1;
                }
                p.latencies_us.push(us);
            }
            p
        }));
    }
    let mut all = Phase::default();
    for t in tasks {
        let p = t.await.unwrap();
        all.latencies_us.extend(p.latencies_us);
        all.errors += p.errors;
        all.over_10s += p.over_10s;
    }
    all
}

fn show(name: &str, p: &Phase, seconds: f64) -> serde_json::Value {
    let s: Summary = summarize(p.latencies_us.clone());
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "{name}: {} operations in {seconds:.1} s ({:.0}/s); p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.1} ms; {} errors, {} over 10 s",
        s.count,
        s.count as f64 / seconds,
        ms(s.p50),
        ms(s.p90),
        ms(s.p99),
        ms(s.p999),
        ms(s.max),
        p.errors,
        p.over_10s
    );
    json!({"phase": name, "ops": s.count, "seconds": seconds, "p50_ms": ms(s.p50), "p90_ms": ms(s.p90),
           "p99_ms": ms(s.p99), "p999_ms": ms(s.p999), "max_ms": ms(s.max), "errors": p.errors, "over_10s": p.over_10s})
}

#[tokio::main]
async fn main() -> Result<()> {
    let subjects: u64 = arg("--subjects", "100000").parse()?;
    let base: u64 = arg("--base", "10000").parse()?;
    let n: usize = arg("--readers", "8").parse()?;
    let baseline: u64 = arg("--baseline", "10").parse()?;
    let mode = arg("--mode", "process");
    let vow = arg("--vow", "target/release/vow");
    if mode != "process" && mode != "inprocess" {
        bail!("--mode is process or inprocess");
    }
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/vow.db", dir.path().display());
    let (engine, _) = Engine::open(
        &url,
        KeySource::File(dir.path().join("root.key")),
        Arc::new(SystemClock),
    )
    .await?;
    let admin = Actor::local("bench");
    let tenant: TenantId = fixtures::TENANT.parse()?;
    engine
        .create_tenant(&admin, tenant.as_str(), "Bench", "controller", None)
        .await?;
    engine
        .publish_policy(&admin, &tenant, fixtures::RESEARCH_POLICY, "policy.yaml")
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let r = engine
        .import(
            &admin,
            &tenant,
            fixtures::rows(1, 0, base),
            ImportOptions::default(),
            |_| {},
        )
        .await?;
    anyhow::ensure!(r.committed, "base import failed: {:?}", r.bad.first());
    let mut ids = Vec::new();
    for k in 0..base {
        ids.push(
            engine
                .lookup(&admin, &tenant, LookupKind::Email, &fixtures::email(1, k))
                .await?
                .expect("a base subject"),
        );
    }
    let ids = Arc::new(ids);
    println!(
        "base store: {base} subjects of 8 fields; {n} readers; import of {subjects} by {mode}"
    );

    // The people to import, written out first for a separate process.
    let file = dir.path().join("import.jsonl");
    if mode == "process" {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        for (_, row) in fixtures::rows(1, base, base + subjects) {
            let s = row.map_err(|e| anyhow::anyhow!(e))?;
            serde_json::to_writer(&mut out, &s)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let t = Instant::now();
    let run = tokio::spawn(readers(
        engine.clone(),
        tenant.clone(),
        ids.clone(),
        base,
        n,
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(baseline)).await;
    stop.store(true, Ordering::SeqCst);
    let alone = run.await?;
    let alone_s = t.elapsed().as_secs_f64();

    let stop = Arc::new(AtomicBool::new(false));
    let t = Instant::now();
    let run = tokio::spawn(readers(
        engine.clone(),
        tenant.clone(),
        ids.clone(),
        base,
        n,
        stop.clone(),
    ));
    let imported_s;
    if mode == "process" {
        let mut cmd = std::process::Command::new(&vow);
        cmd.args([
            "import",
            "--tenant",
            tenant.as_str(),
            "--output",
            "json",
            "--data",
        ])
        .arg(dir.path())
        .arg(&file);
        let out = tokio::task::spawn_blocking(move || cmd.output()).await??;
        imported_s = t.elapsed().as_secs_f64();
        let report = String::from_utf8_lossy(&out.stdout);
        anyhow::ensure!(
            out.status.success(),
            "vow import failed: {}: {}{}",
            out.status,
            report.chars().take(2000).collect::<String>(),
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        let rows = fixtures::rows(1, base, base + subjects);
        let r = engine
            .import(&admin, &tenant, rows, ImportOptions::default(), |_| {})
            .await?;
        imported_s = t.elapsed().as_secs_f64();
        anyhow::ensure!(r.committed, "import failed: {:?}", r.bad.first());
    }
    stop.store(true, Ordering::SeqCst);
    let during = run.await?;
    println!(
        "import of {subjects}: {imported_s:.1} s ({:.0} subjects/s)",
        subjects as f64 / imported_s
    );
    let a = show("reads alone", &alone, alone_s);
    let d = show("reads during the import", &during, imported_s);
    println!(
        "{}",
        json!({"bench": "import-load", "mode": mode, "subjects": subjects, "base": base, "readers": n,
               "import_seconds": imported_s, "alone": a, "during": d})
    );
    engine.shutdown().await;
    Ok(())
}
