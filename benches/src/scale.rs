//! `vow-bench scale`: writes per second through 1 or N `vow serve` processes in front
//! of one PostgreSQL database, many tenants (issue 12: three servers must not be
//! slower than one, and no global lock may serialise them).
//!
//! The servers are real processes of the `vow` binary (`--vow`, by default the one
//! beside this tool), sharing one fresh database and one root key. Each client owns a
//! person in one tenant and records consent events (grant, withdraw, grant, …) for
//! them, sending each request to the next server in turn. Every write is a
//! transaction with its ledger row and its audit entry in the tenant's chain. At the
//! end the chains are verified with `vow audit verify`.

use crate::fixtures::TEST_POLICY;
use crate::stats::{Summary, human_ns, kv_table, latency_table, summarize};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vow_store::testing::PgTestDb;

#[derive(Debug, Clone, clap::Args)]
pub struct ScaleOptions {
    /// `vow serve` processes sharing the database.
    #[arg(long, default_value_t = 3)]
    pub servers: usize,
    /// Tenants written to (each client writes to one).
    #[arg(long, default_value_t = 8)]
    pub tenants: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 24)]
    pub clients: usize,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// The `vow` binary to run (default: `vow` beside this tool).
    #[arg(long)]
    pub vow: Option<PathBuf>,
}

/// One `vow serve` process, stopped (SIGTERM) when dropped.
pub struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..300 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
    }
}

/// Start `vow serve` on a free port; returns it and the bootstrap admin key, if printed.
pub fn spawn(vow: &Path, data: &Path, env: &[(&str, String)]) -> Result<(Server, Option<String>)> {
    std::fs::create_dir_all(data)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = std::fs::File::create(data.join("serve.log"))?;
    let mut child = Command::new(vow)
        .args(["serve", "--data"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .with_context(|| format!("running {}", vow.display()))?;
    let mut out = BufReader::new(child.stdout.take().context("stdout")?);
    let mut admin = None;
    let mut line = String::new();
    while out.read_line(&mut line)? > 0 {
        if let Some(k) = line
            .trim()
            .strip_prefix("bootstrap admin API key (shown once, store it now): ")
        {
            admin = Some(k.to_string());
        }
        if line.contains("listening") {
            return Ok((
                Server {
                    child,
                    base: format!("http://127.0.0.1:{port}"),
                },
                admin,
            ));
        }
        line.clear();
    }
    bail!(
        "vow serve stopped before listening; see {}",
        data.join("serve.log").display()
    )
}

/// The `vow` binary: `explicit`, or the one beside this tool.
pub fn vow_binary(explicit: Option<&Path>) -> Result<PathBuf> {
    match explicit {
        Some(p) => Ok(p.to_path_buf()),
        None => Ok(std::env::current_exe()?
            .parent()
            .context("the tool's directory")?
            .join("vow")),
    }
}

/// `vow serve`'s cold start on an existing store, `times` times: from spawning the
/// process to its "listening" line, and its resident memory after `idle` with no
/// request. Returns (start-up seconds, RSS in KiB, of which anonymous memory in KiB)
/// per start: the rest is file pages, mostly the SQLite file mapped (`mmap_size`).
pub fn cold_starts(
    vow: &Path,
    data: &Path,
    env: &[(&str, String)],
    times: usize,
    idle: Duration,
) -> Result<Vec<(f64, u64, u64)>> {
    let mut out = Vec::new();
    for _ in 0..times {
        let started = Instant::now();
        let (server, _) = spawn(vow, data, env)?;
        let took = started.elapsed().as_secs_f64();
        std::thread::sleep(idle);
        let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))?;
        let kib = |name: &str| -> Result<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .with_context(|| format!("{name} in /proc"))
        };
        let (rss, anon) = (kib("VmRSS:")?, kib("RssAnon:")?);
        drop(server);
        out.push((took, rss, anon));
    }
    Ok(out)
}

async fn call(r: reqwest::RequestBuilder) -> Result<Value> {
    let res = r.send().await?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{status}: {body}");
    }
    Ok(body)
}

#[derive(Default)]
struct Worker {
    latencies: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

pub async fn scale(opts: ScaleOptions, clients: tokio::runtime::Handle) -> Result<Value> {
    if opts.servers == 0 || opts.tenants == 0 || opts.clients == 0 {
        bail!("--servers, --tenants and --clients must be at least 1");
    }
    let vow = vow_binary(opts.vow.as_deref())?;
    let db = PgTestDb::create().await?;
    let root = tempfile::tempdir()?;
    let env = [
        ("VOW_DATABASE_URL", db.url.clone()),
        (
            "VOW_KEY_FILE",
            root.path().join("root.key").display().to_string(),
        ),
        ("RUST_LOG", "warn".to_string()),
    ];
    let outcome = run(&opts, &vow, root.path(), &env, &db.url, clients).await;
    db.drop_db().await?;
    outcome
}

async fn run(
    opts: &ScaleOptions,
    vow: &Path,
    root: &Path,
    env: &[(&str, String)],
    db_url: &str,
    clients: tokio::runtime::Handle,
) -> Result<Value> {
    // The first server makes the schema, the root key and the admin key.
    let mut servers = Vec::new();
    let mut admin = None;
    for n in 0..opts.servers {
        let (s, key) = spawn(vow, &root.join(format!("server-{n}")), env)?;
        admin = admin.or(key);
        servers.push(s);
    }
    let admin = admin.context("the first server printed no admin key")?;
    let bases: Arc<Vec<String>> = Arc::new(servers.iter().map(|s| s.base.clone()).collect());
    let http = reqwest::Client::new();

    let mut keys = Vec::new();
    for t in 0..opts.tenants {
        let base = &bases[t % bases.len()];
        let id = format!("t{t}");
        call(
            http.post(format!("{base}/v1/tenants"))
                .bearer_auth(&admin)
                .json(&json!({"id": id, "name": format!("Tenant {t}"), "role": "controller"})),
        )
        .await?;
        call(
            http.put(format!("{base}/v1/tenants/{id}/policy"))
                .bearer_auth(&admin)
                .header("content-type", "application/yaml")
                .body(TEST_POLICY),
        )
        .await?;
        let k = call(
            http.post(format!("{base}/v1/tenants/{id}/keys"))
                .bearer_auth(&admin)
                .json(&json!({"role": "operator"})),
        )
        .await?;
        keys.push(k["key"].as_str().context("key")?.to_string());
    }
    // One person per client.
    let mut people = Vec::new();
    for c in 0..opts.clients {
        let t = c % opts.tenants;
        let base = &bases[c % bases.len()];
        let p = call(
            http.post(format!("{base}/v1/tenants/t{t}/subjects"))
                .bearer_auth(&keys[t])
                .json(&json!({
                    "identifiers": {"email": format!("client{c}@example.org")},
                    "birth_date": "1990-01-31",
                    "fields": [{"category": "user.name", "value": format!("Client {c}"),
                                "purposes": ["research"], "source": "bench"}],
                    "consents": [{"purpose": "research", "kind": "express",
                                  "evidence": {"channel": "web", "shown": "Consent v1"}}]
                })),
        )
        .await?;
        people.push((
            t,
            keys[t].clone(),
            p["id"].as_str().context("id")?.to_string(),
        ));
    }

    let start = Instant::now();
    let measure_from = start + Duration::from_secs(opts.warmup);
    let stop_at = measure_from + Duration::from_secs(opts.seconds);
    let mut handles = Vec::new();
    for (c, (t, key, id)) in people.into_iter().enumerate() {
        let bases = bases.clone();
        handles.push(clients.spawn(async move {
            let mut out = Worker::default();
            let client = reqwest::Client::new();
            let mut k = c;
            loop {
                let now = Instant::now();
                if now >= stop_at {
                    break;
                }
                let base = &bases[k % bases.len()];
                let action = if k % 2 == c % 2 { "withdraw" } else { "grant" };
                k += 1;
                let t0 = Instant::now();
                let r = call(
                    client
                        .post(format!("{base}/v1/tenants/t{t}/subjects/{id}/consents"))
                        .bearer_auth(&key)
                        .json(&json!({"purpose": "research", "action": action})),
                )
                .await;
                let ns = t0.elapsed().as_nanos() as u64;
                match r {
                    Ok(_) if t0 >= measure_from && Instant::now() <= stop_at => {
                        out.latencies.push(ns)
                    }
                    Ok(_) => {}
                    Err(e) => {
                        out.errors += 1;
                        out.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            out
        }));
    }
    // The profile of waits: every 50 ms, how many of the database's backends are
    // working, and how many of them wait on a lock (a global head row would show here).
    let sampler = clients.spawn(sample_lock_waits(db_url.to_string(), measure_from, stop_at));
    let mut workers = Vec::new();
    for h in handles {
        workers.push(h.await?);
    }
    let (samples, active, waiting) = sampler.await??;
    let errors: u64 = workers.iter().map(|w| w.errors).sum();
    let first_error = workers.iter().find_map(|w| w.first_error.clone());
    let summary: Summary = summarize(workers.into_iter().flat_map(|w| w.latencies).collect());
    let measured = opts.seconds as f64;
    let rate = summary.count as f64 / measured;
    drop(servers);

    // Every chain verifies after the run.
    let o = Command::new(vow)
        .args(["audit", "verify", "--output", "json", "--data"])
        .arg(root.join("server-0"))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()?;
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    let verified = report["ok"] == true;

    println!("{}", latency_table(&[("POST …/consents", &summary)]));
    println!(
        "{}",
        kv_table(&[
            ("servers", opts.servers.to_string()),
            ("tenants", opts.tenants.to_string()),
            ("clients", opts.clients.to_string()),
            ("writes/s", format!("{rate:.0}")),
            (
                "p50 / p99",
                format!(
                    "{} / {}",
                    human_ns(summary.p50 as f64),
                    human_ns(summary.p99 as f64)
                )
            ),
            ("errors", errors.to_string()),
            (
                "backends busy / waiting on a lock",
                format!(
                    "{:.2} / {:.2} on average ({samples} samples)",
                    active as f64 / samples.max(1) as f64,
                    waiting as f64 / samples.max(1) as f64
                ),
            ),
            (
                "audit chains",
                format!(
                    "{} entries in {} chains, {}",
                    report["entries"],
                    report["chains"],
                    if verified { "verified" } else { "NOT verified" }
                )
            ),
        ])
    );
    if let Some(e) = &first_error {
        eprintln!("first error: {e}");
    }
    if !verified {
        bail!("the audit chains did not verify: {report}");
    }
    Ok(json!({
        "bench": "scale", "servers": opts.servers, "tenants": opts.tenants,
        "clients": opts.clients, "seconds": measured, "writes_per_s": rate,
        "latency": summary.json_ns(), "errors": errors,
        "pg_samples": samples, "pg_active_mean": active as f64 / samples.max(1) as f64,
        "pg_lock_wait_mean": waiting as f64 / samples.max(1) as f64,
        "audit_entries": report["entries"], "chains": report["chains"],
    }))
}

/// Sample `pg_stat_activity` between `from` and `to`: (samples, sum of active
/// backends, sum of backends waiting on a lock), this database's client backends only.
async fn sample_lock_waits(url: String, from: Instant, to: Instant) -> Result<(u64, i64, i64)> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&url).await?;
    let (mut n, mut active, mut waiting) = (0u64, 0i64, 0i64);
    loop {
        let now = Instant::now();
        if now >= to {
            break;
        }
        if now >= from {
            let (a, w): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*) FILTER (WHERE state = 'active'),
                        COUNT(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock')
                 FROM pg_stat_activity
                 WHERE datname = current_database() AND backend_type = 'client backend'
                   AND pid <> pg_backend_pid()",
            )
            .fetch_one(&mut conn)
            .await?;
            n += 1;
            active += a;
            waiting += w;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    conn.close().await?;
    Ok((n, active, waiting))
}
