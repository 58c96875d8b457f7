//! `vow-bench`: load benchmarks of Vow against a real store (and the real HTTP server).
//!
//! Each command prints a small table and then one JSON line (starting with `{`) for
//! scripts. Run in release mode; see BENCHMARKS.md for the recorded results.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmarks are measurement tools run by hand; a failed setup should stop them loudly"
)]

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use serde_json::json;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vow_bench::cpu;
use vow_bench::fixtures::{self, Rng};
use vow_bench::setup::{self, BackendKind, BenchStore, StoreOptions};
use vow_bench::stats::{Summary, human_bytes, human_ns, kv_table, latency_table, summarize};
use vow_core::{Ask, SubjectFacts, decide};
use vow_engine::{Actor, Engine, LookupKind};

#[derive(Parser)]
#[command(
    name = "vow-bench",
    about = "Load benchmarks of Vow (see BENCHMARKS.md)"
)]
struct Cli {
    /// Drive the engine from the main thread (`Runtime::block_on`, as the `vow` CLI
    /// does) instead of from a runtime worker (as the HTTP server does).
    #[arg(long, global = true)]
    main_thread: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build a store of N synthetic subjects through Engine::import and time it.
    Import {
        #[command(flatten)]
        store: StoreOptions,
    },
    /// In-process latency of the decision function, timed call by call.
    Decide {
        #[arg(long, default_value_t = 1_000_000)]
        iterations: usize,
    },
    /// Purpose-bound reads over HTTP from concurrent clients, for a fixed time.
    Read {
        #[command(flatten)]
        store: StoreOptions,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Measured seconds (after the warm-up); the run stops by itself.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        #[arg(long, default_value_t = 3)]
        warmup: u64,
    },
    /// Lookup by e-mail: in-process and over HTTP, one at a time.
    Lookup {
        #[command(flatten)]
        store: StoreOptions,
        #[arg(long, default_value_t = 10_000)]
        iterations: usize,
    },
    /// Raw INSERT rates through sqlx (Any and native drivers, one row or 100 rows per
    /// statement): explains what limits the import.
    Probe {
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: BackendKind,
        #[arg(long, env = "VOW_TEST_PG_URL", default_value = vow_store::testing::DEFAULT_ADMIN_URL)]
        pg_url: String,
        #[arg(long, default_value_t = 200_000)]
        rows: usize,
    },
    /// Writes/s through 1 or N `vow serve` processes on one PostgreSQL, many tenants.
    Scale {
        #[command(flatten)]
        opts: vow_bench::scale::ScaleOptions,
    },
    /// Remove a kept store (files in --data and its PostgreSQL database).
    Clean {
        #[arg(long)]
        data: std::path::PathBuf,
        #[arg(long, env = "VOW_TEST_PG_URL", default_value = vow_store::testing::DEFAULT_ADMIN_URL)]
        pg_url: String,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // reqwest is built without a default crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The server side: two workers, as many as the machine has cores. The load
    // generator gets its own runtime (see `read`), so the CPU breakdown separates them.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("vow-server")
        .enable_all()
        .build()?;
    // By default the command runs on the runtime's workers (not on the main thread),
    // as a request handler would, and the CPU breakdown shows it under `vow-server`.
    let handle = rt.handle().clone();
    // The load generator of `read` runs on a runtime and threads of its own.
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-client")
        .enable_all()
        .build()?;
    let client_handle = clients.handle().clone();
    let outcome = if cli.main_thread {
        rt.block_on(run(cli, client_handle))
    } else {
        rt.block_on(async move { handle.spawn(run(cli, client_handle)).await? })
    };
    clients.shutdown_timeout(Duration::from_secs(5));
    outcome
}

async fn run(cli: Cli, clients: tokio::runtime::Handle) -> Result<()> {
    {
        match cli.cmd {
            Cmd::Import { store } => import(store).await,
            Cmd::Decide { iterations } => {
                decide_cmd(iterations);
                Ok(())
            }
            Cmd::Read {
                store,
                concurrency,
                seconds,
                warmup,
            } => read(store, concurrency, seconds, warmup, clients).await,
            Cmd::Lookup { store, iterations } => lookup(store, iterations).await,
            Cmd::Scale { opts } => {
                let mut v = vow_bench::scale::scale(opts, clients).await?;
                v["machine"] = machine();
                print_json(v);
                Ok(())
            }
            Cmd::Probe {
                backend,
                pg_url,
                rows,
            } => probe(backend, &pg_url, rows).await,
            Cmd::Clean { data, pg_url } => setup::clean(&data, &pg_url).await,
        }
    }
}

fn print_json(v: serde_json::Value) {
    println!("{v}");
}

fn machine() -> serde_json::Value {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    json!({
        "nproc": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "loadavg": load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        "version": env!("CARGO_PKG_VERSION"),
    })
}

// ---------------------------------------------------------------- import

async fn import(opts: StoreOptions) -> Result<()> {
    if opts.reuse {
        eprintln!("note: import always builds the store afresh; --reuse is for the other commands");
    }
    eprintln!(
        "importing {} subjects ({} fields each) into {} in batches of {}",
        opts.subjects,
        fixtures::FIELDS_PER_SUBJECT,
        opts.backend.as_str(),
        opts.batch
    );
    let store = BenchStore::build(&opts).await?;
    let Some(o) = store.built.clone() else {
        bail!("the store was not built");
    };
    let (bytes, parts) = store.size().await?;
    let rate = o.subjects as f64 / o.import_seconds;
    let first = o.batches.first().map_or(0.0, |b| b.rows as f64 / b.seconds);
    let last = o.batches.last().map_or(0.0, |b| b.rows as f64 / b.seconds);
    println!(
        "{}",
        kv_table(&[
            ("backend", opts.backend.as_str().to_string()),
            ("subjects", o.subjects.to_string()),
            (
                "fields",
                (o.subjects * fixtures::FIELDS_PER_SUBJECT as u64).to_string()
            ),
            (
                "batches",
                format!("{} × up to {} rows", o.batches.len(), opts.batch)
            ),
            (
                "time in Engine::import",
                format!("{:.1} s", o.import_seconds)
            ),
            (
                "wall time (with generation)",
                format!("{:.1} s", o.wall_seconds)
            ),
            ("subjects/s", format!("{rate:.0}")),
            (
                "first / last batch",
                format!("{first:.0} / {last:.0} subjects/s")
            ),
            ("per subject", human_ns(1e9 / rate)),
            ("database size", format!("{} ({parts})", human_bytes(bytes))),
            (
                "bytes per subject",
                format!("{:.0}", bytes as f64 / o.subjects.max(1) as f64)
            ),
            ("cpu", o.cpu.describe(o.import_seconds)),
            ("store", store.dir.display().to_string()),
        ])
    );
    let mut j = setup::outcome_json(&o, &opts);
    j["bench"] = json!("import");
    j["backend"] = json!(opts.backend.as_str());
    j["db_bytes"] = json!(bytes);
    j["machine"] = machine();
    print_json(j);
    store.close().await
}

// ---------------------------------------------------------------- decide

fn time_decide(
    policy: &vow_core::Policy,
    ask: &(vow_core::PurposeId, Vec<vow_core::Category>),
    iterations: usize,
    expect_allowed: bool,
) -> Summary {
    let events = fixtures::consent_events();
    let birth: jiff::civil::Date = jiff::civil::date(1990, 1, 31);
    let caller = fixtures::app_caller();
    let now = fixtures::decision_now();
    let run = || {
        let facts = SubjectFacts {
            birth_date: Some(birth),
            consents: black_box(&events),
        };
        let a = Ask {
            action: vow_core::Action::Read,
            purpose: &ask.0,
            categories: &ask.1,
        };
        decide(black_box(policy), &facts, &caller, black_box(&a), now)
    };
    let d = run();
    assert_eq!(d.allowed, expect_allowed, "unexpected decision: {d:?}");
    for _ in 0..iterations.min(100_000) {
        black_box(run());
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        let d = run();
        let ns = t.elapsed().as_nanos() as u64;
        black_box(d);
        samples.push(ns);
    }
    summarize(samples)
}

fn decide_cmd(iterations: usize) {
    let test = fixtures::policy(fixtures::TEST_POLICY);
    let research = fixtures::policy(fixtures::RESEARCH_POLICY);
    let allowed = fixtures::allowed_ask();
    let refused = fixtures::refused_ask();
    // What a timed loop costs with nothing inside (subtract mentally; not subtracted).
    let mut overhead = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        overhead.push(black_box(t).elapsed().as_nanos() as u64);
    }
    let overhead = summarize(overhead);
    let rows = [
        (
            "allowed, test policy",
            time_decide(&test, &allowed, iterations, true),
        ),
        (
            "refused (2 reasons), test policy",
            time_decide(&test, &refused, iterations, false),
        ),
        (
            "allowed, research policy",
            time_decide(&research, &allowed, iterations, true),
        ),
        (
            "refused (2 reasons), research policy",
            time_decide(&research, &refused, iterations, false),
        ),
        ("(timer overhead, empty loop)", overhead),
    ];
    let table: Vec<(&str, &Summary)> = rows.iter().map(|(n, s)| (*n, s)).collect();
    println!("{}", latency_table(&table));
    let results: serde_json::Map<String, serde_json::Value> = rows
        .iter()
        .map(|(n, s)| ((*n).to_string(), s.json_ns()))
        .collect();
    print_json(
        json!({"bench": "decide", "iterations": iterations, "consent_events": 5, "results": results, "machine": machine()}),
    );
}

// ---------------------------------------------------------------- server

async fn serve(engine: Arc<Engine>) -> Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = vow_server::router(engine);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

async fn app_key(engine: &Engine, tenant: &str) -> Result<String> {
    Ok(engine
        .create_api_key(
            &Actor::local("bench"),
            Some(&tenant.parse()?),
            vow_core::Role::App,
            Some(vec!["research".to_string()]),
            Some("vow-bench"),
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating an app key: {e}"))?
        .key)
}

fn http_client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(1)
        .build()?)
}

/// `vow_audit_commits_total` from the server's /metrics.
async fn audit_commits(client: &reqwest::Client, base: &str) -> Result<f64> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("vow_audit_commits_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0))
}

// ---------------------------------------------------------------- read

#[derive(Default)]
struct Worker {
    latencies: Vec<u64>,
    ok_total: u64,
    errors: u64,
    first_error: Option<String>,
}

async fn read(
    opts: StoreOptions,
    concurrency: usize,
    seconds: u64,
    warmup: u64,
    clients: tokio::runtime::Handle,
) -> Result<()> {
    let store = BenchStore::open_or_build(&opts).await?;
    let tenant = store.tenant().to_string();
    let key = app_key(&store.engine, &tenant).await?;
    if opts.warm_cache {
        let t = Instant::now();
        let bytes = store.warm_page_cache()?;
        eprintln!(
            "read {} of SQLite files into the page cache in {:.1} s",
            human_bytes(bytes),
            t.elapsed().as_secs_f64()
        );
    }
    let ids = Arc::new(store.subject_ids().await?);
    if ids.is_empty() {
        bail!("the store holds no subjects");
    }
    let addr = serve(store.engine.clone()).await?;
    let base = format!("http://{addr}");
    let control = http_client()?;
    // One check before the load, so a broken setup fails loudly.
    let probe_url = format!("{base}/v1/tenants/{tenant}/subjects/{}/read", ids[0]);
    let body = json!({"purpose": "research", "categories": ["user.name", "user.contact.email", "user.contact.phone_number", "user.contact.address.postal_code", "user.demographic"]});
    let res = control
        .post(&probe_url)
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await?;
    let status = res.status();
    let text = res.text().await?;
    if !status.is_success() {
        bail!("a read failed before the run: {status} {text}");
    }
    let returned = serde_json::from_str::<serde_json::Value>(&text)?["fields"]
        .as_array()
        .map_or(0, Vec::len);

    let audit_before = store.audit_len().await?;
    let commits_before = audit_commits(&control, &base).await?;
    eprintln!(
        "{} subjects; {concurrency} clients; {warmup} s warm-up, then {seconds} s measured",
        ids.len()
    );
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(warmup);
    let stop_at = measure_from + Duration::from_secs(seconds);
    let cpu_at_measure = Arc::new(tokio::sync::OnceCell::new());
    let mut handles = Vec::new();
    for w in 0..concurrency {
        let ids = ids.clone();
        let base = base.clone();
        let tenant = tenant.clone();
        let key = key.clone();
        let body = body.clone();
        let cpu_at_measure = cpu_at_measure.clone();
        handles.push(clients.spawn(async move {
            let mut out = Worker::default();
            let client = match http_client() {
                Ok(c) => c,
                Err(e) => {
                    out.first_error = Some(e.to_string());
                    return out;
                }
            };
            let mut rng = Rng::new(w as u64 + 1);
            out.latencies.reserve(200_000);
            loop {
                let now = Instant::now();
                if now >= stop_at {
                    break;
                }
                if now >= measure_from {
                    cpu_at_measure
                        .get_or_init(|| async { cpu::snapshot() })
                        .await;
                }
                let id = &ids[rng.below(ids.len() as u64) as usize];
                let url = format!("{base}/v1/tenants/{tenant}/subjects/{id}/read");
                let t = Instant::now();
                let res = client.post(&url).bearer_auth(&key).json(&body).send().await;
                let ok = match res {
                    Ok(r) => {
                        let status = r.status();
                        match r.bytes().await {
                            Ok(_) if status.is_success() => true,
                            Ok(b) => {
                                out.first_error.get_or_insert_with(|| {
                                    format!("{status}: {}", String::from_utf8_lossy(&b))
                                });
                                false
                            }
                            Err(e) => {
                                out.first_error.get_or_insert_with(|| e.to_string());
                                false
                            }
                        }
                    }
                    Err(e) => {
                        out.first_error.get_or_insert_with(|| e.to_string());
                        false
                    }
                };
                let ns = t.elapsed().as_nanos() as u64;
                if ok {
                    out.ok_total += 1;
                    if t >= measure_from && Instant::now() <= stop_at {
                        out.latencies.push(ns);
                    }
                } else {
                    out.errors += 1;
                }
            }
            out
        }));
    }
    let mut workers = Vec::new();
    let deadline = Duration::from_secs(warmup + seconds + 60);
    for h in handles {
        let w = tokio::time::timeout(deadline, h)
            .await
            .context("a client did not stop in time")??;
        workers.push(w);
    }
    let cpu_after = cpu::snapshot();
    let measured = stop_at
        .saturating_duration_since(measure_from)
        .as_secs_f64();
    // Every successful read has a durable audit entry before its answer is sent.
    let audit_after = store.audit_len().await?;
    let commits_after = audit_commits(&control, &base).await?;

    let ok_total: u64 = workers.iter().map(|w| w.ok_total).sum();
    let errors: u64 = workers.iter().map(|w| w.errors).sum();
    let first_error = workers.iter().find_map(|w| w.first_error.clone());
    let latencies: Vec<u64> = workers.into_iter().flat_map(|w| w.latencies).collect();
    let measured_ok = latencies.len();
    let summary = summarize(latencies);
    let rps = measured_ok as f64 / measured;
    let audit_entries = audit_after - audit_before;
    let commits = commits_after - commits_before;
    let cpu_use = cpu_at_measure
        .get()
        .map(|b| cpu::between(b, &cpu_after))
        .unwrap_or_default();
    let (bytes, _) = store.size().await?;

    println!(
        "{}",
        latency_table(&[("POST …/subjects/{s}/read", &summary)])
    );
    println!(
        "{}",
        kv_table(&[
            ("backend", store.meta.backend.as_str().to_string()),
            ("subjects in store", ids.len().to_string()),
            ("fields returned per read", format!("{returned} of 8")),
            ("concurrent clients", concurrency.to_string()),
            (
                "measured",
                format!("{measured:.0} s (after {warmup} s warm-up)")
            ),
            ("reads/s", format!("{rps:.0}")),
            ("errors", errors.to_string()),
            (
                "audit entries written (whole run)",
                format!("{audit_entries} for {ok_total} reads")
            ),
            (
                "audit commits (group commit)",
                format!(
                    "{commits:.0}, {:.1} entries per commit",
                    audit_entries as f64 / commits.max(1.0)
                )
            ),
            ("database size", human_bytes(bytes)),
            ("cpu (measured window)", cpu_use.describe(measured)),
        ])
    );
    if let Some(e) = &first_error {
        eprintln!("first error: {e}");
    }
    print_json(json!({
        "bench": "read", "backend": store.meta.backend.as_str(), "subjects": ids.len(),
        "concurrency": concurrency, "seconds": measured, "reads_per_s": rps,
        "latency": summary.json_ns(), "errors": errors, "reads_total": ok_total,
        "audit_entries": audit_entries, "audit_commits": commits,
        "cpu": cpu_use.json(), "machine": machine(),
    }));
    store.close().await
}

// ---------------------------------------------------------------- lookup

async fn lookup(opts: StoreOptions, iterations: usize) -> Result<()> {
    let store = BenchStore::open_or_build(&opts).await?;
    let tenant = store.tenant().to_string();
    let seed = store.meta.seed;
    let n = store.meta.subjects;
    let key = app_key(&store.engine, &tenant).await?;
    if opts.warm_cache {
        let bytes = store.warm_page_cache()?;
        eprintln!(
            "read {} of SQLite files into the page cache",
            human_bytes(bytes)
        );
    }
    let actor = store
        .engine
        .authenticate(&key)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut rng = Rng::new(7);
    let warm = iterations.min(500);

    // In-process: blind index, read transaction, query, durable audit entry.
    let mut samples = Vec::with_capacity(iterations);
    for k in 0..warm + iterations {
        let email = fixtures::email(seed, rng.below(n));
        let t = Instant::now();
        let found = store
            .engine
            .lookup(&actor, &tenant.parse()?, LookupKind::Email, &email)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let ns = t.elapsed().as_nanos() as u64;
        if found.is_none() {
            bail!("subject not found by e-mail");
        }
        if k >= warm {
            samples.push(ns);
        }
    }
    let in_process = summarize(samples);

    // Over HTTP, one request at a time on one kept-alive connection.
    let addr = serve(store.engine.clone()).await?;
    let client = http_client()?;
    let mut samples = Vec::with_capacity(iterations);
    for k in 0..warm + iterations {
        let email = fixtures::email(seed, rng.below(n));
        let url = format!("http://{addr}/v1/tenants/{tenant}/subjects?email={email}");
        let t = Instant::now();
        let res = client.get(&url).bearer_auth(&key).send().await?;
        let status = res.status();
        let body = res.bytes().await?;
        let ns = t.elapsed().as_nanos() as u64;
        if !status.is_success() {
            bail!("lookup failed: {status} {}", String::from_utf8_lossy(&body));
        }
        if k >= warm {
            samples.push(ns);
        }
    }
    let http = summarize(samples);

    // The parts: the store's query alone, and a durable audit commit alone.
    let indexes = store.email_indexes(2_000).await?;
    let raw = store.raw_store().await?;
    let parts_n = iterations.min(5_000);
    let mut samples = Vec::with_capacity(parts_n);
    for k in 0..parts_n {
        let bidx = &indexes[rng.below(indexes.len() as u64) as usize];
        let t = Instant::now();
        // The one-trip lookup `Engine::lookup` makes (issue 12).
        let found = raw.lookup_subject(&tenant, "email", bidx).await?;
        let ns = t.elapsed().as_nanos() as u64;
        black_box(found);
        if k >= 100 {
            samples.push(ns);
        }
    }
    let store_only = summarize(samples);
    let root = vow_crypto::load_key_file(&store.dir.join("root.key"))?;
    let chain = std::sync::Arc::new(vow_engine::vault::audit::Chain::new(
        vow_crypto::AuditKey::derive(&root),
    ));
    let (writer, _task) = vow_engine::AuditWriter::start(raw.clone(), chain);
    let mut samples = Vec::with_capacity(parts_n);
    for k in 0..parts_n {
        let entry = vow_store::NewAudit {
            at: jiff::Timestamp::now().as_millisecond(),
            tenant_id: Some(tenant.clone()),
            actor: "vow-bench".to_string(),
            action: "bench.probe".to_string(),
            subject_id: None,
            purpose: None,
            detail: "{}".to_string(),
        };
        let t = Instant::now();
        writer
            .record(vec![entry])
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let ns = t.elapsed().as_nanos() as u64;
        if k >= 100 {
            samples.push(ns);
        }
    }
    drop(writer);
    let audit_only = summarize(samples);
    let fsync = fsync_probe(&store.dir, 500)?;

    println!(
        "{}",
        latency_table(&[
            ("Engine::lookup (in-process)", &in_process),
            ("GET …/subjects?email= (HTTP)", &http),
            ("  part: read tx + blind-index query", &store_only),
            ("  part: durable audit commit of 1 entry", &audit_only),
            ("  (disk: write 8 KiB + fdatasync)", &fsync),
        ])
    );
    println!(
        "{}",
        kv_table(&[
            ("backend", store.meta.backend.as_str().to_string()),
            ("subjects in store", n.to_string()),
            ("iterations", iterations.to_string()),
        ])
    );
    print_json(json!({
        "bench": "lookup", "backend": store.meta.backend.as_str(), "subjects": n,
        "in_process": in_process.json_ns(), "http": http.json_ns(),
        "store_query": store_only.json_ns(), "audit_commit": audit_only.json_ns(),
        "fdatasync_8k": fsync.json_ns(),
        "machine": machine(),
    }));
    store.close().await
}

/// The disk's flush latency: what every durable commit waits for at least.
fn fsync_probe(dir: &std::path::Path, n: usize) -> Result<Summary> {
    use std::io::{Seek, Write};
    let path = dir.join("fsync-probe.tmp");
    let mut f = std::fs::File::create(&path)?;
    let block = vec![0x5Au8; 8192];
    let mut samples = Vec::with_capacity(n);
    for k in 0..n + 20 {
        f.seek(std::io::SeekFrom::Start(((k % 64) * 8192) as u64))?;
        let t = Instant::now();
        f.write_all(&block)?;
        f.sync_data()?;
        let ns = t.elapsed().as_nanos() as u64;
        if k >= 20 {
            samples.push(ns);
        }
    }
    drop(f);
    std::fs::remove_file(&path)?;
    Ok(summarize(samples))
}

// ---------------------------------------------------------------- probe

async fn probe(backend: BackendKind, pg_url: &str, rows: usize) -> Result<()> {
    use sqlx::{AnyConnection, AssertSqlSafe, Connection};
    sqlx::any::install_default_drivers();
    let temp = tempfile::Builder::new().prefix("vow-probe-").tempdir()?;
    let (url, pg_db) = match backend {
        BackendKind::Sqlite => (
            format!(
                "sqlite://{}?mode=rwc",
                temp.path().join("probe.db").display()
            ),
            None,
        ),
        BackendKind::Postgres => {
            let name = setup::create_pg_database(pg_url, "vow_probe").await?;
            let base = pg_url.rsplit_once('/').map_or(pg_url, |(b, _)| b);
            (format!("{base}/{name}"), Some(name))
        }
    };
    let ddl = "CREATE TABLE probe_X (id TEXT PRIMARY KEY, subject_id TEXT NOT NULL, category TEXT NOT NULL, n BIGINT NOT NULL, value BYTEA NOT NULL)";
    let ddl = match backend {
        BackendKind::Sqlite => ddl.replace("BYTEA", "BLOB"),
        BackendKind::Postgres => ddl.to_string(),
    };
    let pragmas: &[&str] = match backend {
        BackendKind::Sqlite => &[
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = FULL",
            "PRAGMA foreign_keys = ON",
        ],
        BackendKind::Postgres => &[],
    };
    let begin = match backend {
        BackendKind::Sqlite => "BEGIN IMMEDIATE",
        BackendKind::Postgres => "BEGIN",
    };
    let value = vec![0xA5u8; 96];
    let row = |i: usize| {
        (
            uuid::Uuid::now_v7().to_string(),
            format!("{:032}", i / 8),
            "user.contact.email",
            i as i64,
        )
    };
    let mut results: Vec<(String, f64)> = Vec::new();

    // 0. No database: a round trip to another thread and back, which is what every
    // statement costs at least with sqlx's SQLite driver (one worker thread per connection).
    {
        let (to_worker, worker_rx) = std::sync::mpsc::channel::<usize>();
        let (to_caller, caller_rx) = std::sync::mpsc::channel::<usize>();
        let worker = std::thread::spawn(move || {
            while let Ok(x) = worker_rx.recv() {
                if to_caller.send(x).is_err() {
                    break;
                }
            }
        });
        let t = Instant::now();
        for i in 0..rows {
            to_worker.send(i)?;
            caller_rx.recv()?;
        }
        results.push((
            "no database: thread round trip (std mpsc)".into(),
            t.elapsed().as_secs_f64(),
        ));
        drop(to_worker);
        let _ = worker.join();
    }

    // 1. sqlx Any, one row per statement, one transaction (what the store does).
    {
        let mut conn = AnyConnection::connect(&url).await?;
        for p in pragmas {
            sqlx::query(*p).execute(&mut conn).await?;
        }
        sqlx::query(AssertSqlSafe(ddl.replace("_X", "_any1")))
            .execute(&mut conn)
            .await?;
        let sql: Arc<str> =
            "INSERT INTO probe_any1 (id, subject_id, category, n, value) VALUES ($1, $2, $3, $4, $5)"
                .into();
        let t = Instant::now();
        sqlx::query(begin).execute(&mut conn).await?;
        for i in 0..rows {
            let (id, s, c, n) = row(i);
            sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(id)
                .bind(s)
                .bind(c)
                .bind(n)
                .bind(&value)
                .execute(&mut conn)
                .await?;
        }
        sqlx::query("COMMIT").execute(&mut conn).await?;
        results.push((
            "sqlx Any, 1 row per INSERT".into(),
            t.elapsed().as_secs_f64(),
        ));
        conn.close().await?;
    }
    // 2. sqlx Any, 100 rows per statement.
    {
        let mut conn = AnyConnection::connect(&url).await?;
        for p in pragmas {
            sqlx::query(*p).execute(&mut conn).await?;
        }
        sqlx::query(AssertSqlSafe(ddl.replace("_X", "_any100")))
            .execute(&mut conn)
            .await?;
        let per = 100;
        let sql = multi_row_insert("probe_any100", per);
        let t = Instant::now();
        sqlx::query(begin).execute(&mut conn).await?;
        let mut i = 0;
        while i + per <= rows {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
            for k in i..i + per {
                let (id, s, c, n) = row(k);
                q = q.bind(id).bind(s).bind(c).bind(n).bind(&value);
            }
            q.execute(&mut conn).await?;
            i += per;
        }
        sqlx::query("COMMIT").execute(&mut conn).await?;
        results.push((
            "sqlx Any, 100 rows per INSERT".into(),
            t.elapsed().as_secs_f64() * rows as f64 / i.max(1) as f64,
        ));
        conn.close().await?;
    }
    // 3. The native driver, one row per statement.
    match backend {
        BackendKind::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&url).await?;
            for p in pragmas {
                sqlx::query(*p).execute(&mut conn).await?;
            }
            sqlx::query(AssertSqlSafe(ddl.replace("_X", "_native")))
                .execute(&mut conn)
                .await?;
            let t = Instant::now();
            sqlx::query(begin).execute(&mut conn).await?;
            for i in 0..rows {
                let (id, s, c, n) = row(i);
                sqlx::query("INSERT INTO probe_native (id, subject_id, category, n, value) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id).bind(s).bind(c).bind(n).bind(&value)
                    .execute(&mut conn)
                    .await?;
            }
            sqlx::query("COMMIT").execute(&mut conn).await?;
            results.push((
                "sqlx native sqlite, 1 row per INSERT".into(),
                t.elapsed().as_secs_f64(),
            ));
            // 4. The native driver, 100 rows per statement.
            sqlx::query(AssertSqlSafe(ddl.replace("_X", "_native100")))
                .execute(&mut conn)
                .await?;
            let per = 100;
            let sql = multi_row_insert("probe_native100", per);
            let t = Instant::now();
            sqlx::query(begin).execute(&mut conn).await?;
            let mut i = 0;
            while i + per <= rows {
                let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
                for k in i..i + per {
                    let (id, s, c, n) = row(k);
                    q = q.bind(id).bind(s).bind(c).bind(n).bind(&value);
                }
                q.execute(&mut conn).await?;
                i += per;
            }
            sqlx::query("COMMIT").execute(&mut conn).await?;
            results.push((
                "sqlx native sqlite, 100 rows per INSERT".into(),
                t.elapsed().as_secs_f64() * rows as f64 / i.max(1) as f64,
            ));
            conn.close().await?;
        }
        BackendKind::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&url).await?;
            sqlx::query(AssertSqlSafe(ddl.replace("_X", "_native")))
                .execute(&mut conn)
                .await?;
            let t = Instant::now();
            sqlx::query(begin).execute(&mut conn).await?;
            for i in 0..rows {
                let (id, s, c, n) = row(i);
                sqlx::query("INSERT INTO probe_native (id, subject_id, category, n, value) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id).bind(s).bind(c).bind(n).bind(&value)
                    .execute(&mut conn)
                    .await?;
            }
            sqlx::query("COMMIT").execute(&mut conn).await?;
            results.push((
                "sqlx native postgres, 1 row per INSERT".into(),
                t.elapsed().as_secs_f64(),
            ));
            // 4. Arrays through UNNEST: one statement per 1,000 rows.
            sqlx::query(AssertSqlSafe(ddl.replace("_X", "_unnest")))
                .execute(&mut conn)
                .await?;
            let per = 1000;
            let t = Instant::now();
            sqlx::query(begin).execute(&mut conn).await?;
            let mut i = 0;
            while i < rows {
                let end = (i + per).min(rows);
                let mut ids = Vec::new();
                let mut subs = Vec::new();
                let mut cats = Vec::new();
                let mut ns = Vec::new();
                let mut vals = Vec::new();
                for k in i..end {
                    let (id, s, c, n) = row(k);
                    ids.push(id);
                    subs.push(s);
                    cats.push(c.to_string());
                    ns.push(n);
                    vals.push(value.clone());
                }
                sqlx::query("INSERT INTO probe_unnest (id, subject_id, category, n, value) SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bytea[])")
                    .bind(ids).bind(subs).bind(cats).bind(ns).bind(vals)
                    .execute(&mut conn)
                    .await?;
                i = end;
            }
            sqlx::query("COMMIT").execute(&mut conn).await?;
            results.push((
                "sqlx native postgres, UNNEST 1,000 rows per INSERT".into(),
                t.elapsed().as_secs_f64(),
            ));
            conn.close().await?;
        }
    }
    if let Some(db) = pg_db {
        setup::drop_pg_database(pg_url, &db).await?;
    }
    let table: Vec<(&str, String)> = results
        .iter()
        .map(|(name, secs)| {
            (
                name.as_str(),
                format!(
                    "{:>9.0} rows/s, {} per row",
                    rows as f64 / secs,
                    human_ns(secs * 1e9 / rows as f64)
                ),
            )
        })
        .collect();
    println!("{}", kv_table(&table));
    let j: serde_json::Map<String, serde_json::Value> = results
        .iter()
        .map(|(n, s)| (n.clone(), json!((rows as f64 / s).round())))
        .collect();
    print_json(
        json!({"bench": "probe", "backend": backend.as_str(), "rows": rows, "rows_per_s": j, "machine": machine()}),
    );
    Ok(())
}

/// `INSERT INTO table (id, subject_id, category, n, value) VALUES ($1, …, $5), …` for
/// `rows` rows: the multi-row statement the import probe compares with single rows.
fn multi_row_insert(table: &str, rows: usize) -> Arc<str> {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let b = r * 5;
            format!(
                "(${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5
            )
        })
        .collect();
    format!(
        "INSERT INTO {table} (id, subject_id, category, n, value) VALUES {}",
        values.join(", ")
    )
    .into()
}
