//! The benchmark store: a directory (or a PostgreSQL database) holding one tenant
//! with the research policy and N generated subjects, built once and reusable.
//!
//! `DIR/bench.json` records what the store holds, so `--reuse` can open a store a
//! previous command built (a 1,000,000-subject store is built once).

use crate::cpu;
use crate::fixtures::{self, FIELDS_PER_SUBJECT, RESEARCH_POLICY, TENANT};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Connection};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tempfile::TempDir;
use vow_core::SystemClock;
use vow_engine::{Actor, Engine, ImportOptions, KeySource};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        }
    }
}

/// Where the store lives and what it should hold.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreOptions {
    /// Directory for the store (SQLite files, root key, bench.json). Default: a
    /// temporary directory removed at the end (and, on PostgreSQL, the database dropped).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Reuse the store in --data if it was built with the same backend, subject count and seed.
    #[arg(long)]
    pub reuse: bool,
    #[arg(long, value_enum, default_value = "sqlite")]
    pub backend: BackendKind,
    /// PostgreSQL server (admin connection: the benchmark creates its own database there).
    #[arg(long, env = "VOW_TEST_PG_URL", default_value = vow_store::testing::DEFAULT_ADMIN_URL)]
    pub pg_url: String,
    /// Subjects in the store (8 fields each).
    #[arg(long, default_value_t = 10_000)]
    pub subjects: u64,
    /// Rows per `Engine::import` call (each call is one transaction).
    #[arg(long, default_value_t = 50_000)]
    pub batch: usize,
    /// Seed of the generated people.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Before measuring, read the SQLite files once so they sit in the OS page cache
    /// (as they would on a server that has been up a while).
    #[arg(long)]
    pub warm_cache: bool,
    /// Stop importing after the batch that passes this many seconds; the store then
    /// holds (and records) fewer subjects than asked.
    #[arg(long)]
    pub time_limit: Option<u64>,
}

/// What `bench.json` records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub backend: BackendKind,
    pub database_url: String,
    pub pg_database: Option<String>,
    pub subjects: u64,
    pub fields_per_subject: usize,
    pub seed: u64,
    pub tenant: String,
    /// The import measurement taken when the store was built.
    pub import: Option<serde_json::Value>,
}

/// One `Engine::import` call.
#[derive(Debug, Clone, Serialize)]
pub struct BatchStat {
    pub rows: u64,
    pub seconds: f64,
}

#[derive(Debug, Clone)]
pub struct ImportOutcome {
    pub subjects: u64,
    /// Time inside `Engine::import` calls only (generation excluded).
    pub import_seconds: f64,
    /// Generation included.
    pub wall_seconds: f64,
    pub batches: Vec<BatchStat>,
    pub cpu: cpu::CpuUse,
}

pub struct BenchStore {
    pub engine: Arc<Engine>,
    pub meta: Meta,
    pub dir: PathBuf,
    pg_admin_url: String,
    /// Dropped at close when the store is temporary.
    ephemeral: bool,
    _temp: Option<TempDir>,
    pub built: Option<ImportOutcome>,
}

fn meta_path(dir: &Path) -> PathBuf {
    dir.join("bench.json")
}

fn pg_base(admin_url: &str) -> &str {
    admin_url
        .rsplit_once('/')
        .map_or(admin_url, |(base, _)| base)
}

async fn admin_exec(admin_url: &str, sql: String) -> Result<()> {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(admin_url)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {admin_url}"))?;
    sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// Create a fresh database named from a UUID (never from input); returns its name.
pub async fn create_pg_database(admin_url: &str, prefix: &str) -> Result<String> {
    let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    admin_exec(admin_url, format!("CREATE DATABASE {name}")).await?;
    Ok(name)
}

pub async fn drop_pg_database(admin_url: &str, name: &str) -> Result<()> {
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        bail!("refusing to drop a database with an unexpected name");
    }
    admin_exec(
        admin_url,
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await
}

fn remove_sqlite_files(dir: &Path) -> Result<()> {
    for f in [
        "vow.db",
        "vow.db-wal",
        "vow.db-shm",
        "root.key",
        "bench.json",
    ] {
        let p = dir.join(f);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    Ok(())
}

pub fn read_meta(dir: &Path) -> Option<Meta> {
    let text = std::fs::read_to_string(meta_path(dir)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Remove a kept store: its files and, on PostgreSQL, its database.
pub async fn clean(dir: &Path, admin_url: &str) -> Result<()> {
    if let Some(meta) = read_meta(dir)
        && let Some(db) = &meta.pg_database
    {
        drop_pg_database(admin_url, db).await?;
        eprintln!("dropped PostgreSQL database {db}");
    }
    remove_sqlite_files(dir)
}

async fn open_engine(url: &str, dir: &Path) -> Result<Arc<Engine>> {
    let (engine, _) = Engine::open(
        url,
        KeySource::File(dir.join("root.key")),
        Arc::new(SystemClock),
    )
    .await
    .map_err(|e| anyhow::anyhow!("opening the engine: {e}"))?;
    Ok(engine)
}

impl BenchStore {
    /// Open the store in `--data` when `--reuse` is given and it matches; otherwise build it.
    pub async fn open_or_build(opts: &StoreOptions) -> Result<BenchStore> {
        if opts.reuse {
            let Some(dir) = &opts.data else {
                bail!("--reuse needs --data DIR");
            };
            match read_meta(dir) {
                Some(meta)
                    if meta.backend == opts.backend
                        && meta.subjects == opts.subjects
                        && meta.seed == opts.seed =>
                {
                    eprintln!(
                        "reusing the {} store in {} ({} subjects)",
                        meta.backend.as_str(),
                        dir.display(),
                        meta.subjects
                    );
                    let engine = open_engine(&meta.database_url, dir).await?;
                    return Ok(BenchStore {
                        engine,
                        meta,
                        dir: dir.clone(),
                        pg_admin_url: opts.pg_url.clone(),
                        ephemeral: false,
                        _temp: None,
                        built: None,
                    });
                }
                Some(meta) => eprintln!(
                    "the store in {} holds {} subjects on {} (seed {}): rebuilding",
                    dir.display(),
                    meta.subjects,
                    meta.backend.as_str(),
                    meta.seed
                ),
                None => eprintln!("no store in {} yet: building it", dir.display()),
            }
        }
        Self::build(opts).await
    }

    /// Build a fresh store (replacing whatever `--data` held) and import the subjects.
    pub async fn build(opts: &StoreOptions) -> Result<BenchStore> {
        let (dir, temp) = match &opts.data {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                clean(d, &opts.pg_url).await?;
                (std::fs::canonicalize(d)?, None)
            }
            None => {
                let t = tempfile::Builder::new().prefix("vow-bench-").tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let (database_url, pg_database) = match opts.backend {
            BackendKind::Sqlite => (format!("sqlite://{}", dir.join("vow.db").display()), None),
            BackendKind::Postgres => {
                let name = create_pg_database(&opts.pg_url, "vow_bench").await?;
                (format!("{}/{name}", pg_base(&opts.pg_url)), Some(name))
            }
        };
        let mut meta = Meta {
            backend: opts.backend,
            database_url: database_url.clone(),
            pg_database,
            subjects: opts.subjects,
            fields_per_subject: FIELDS_PER_SUBJECT,
            seed: opts.seed,
            tenant: TENANT.to_string(),
            import: None,
        };
        // Written before the import, so a kept PostgreSQL database can be cleaned up
        // even if the import is interrupted; `subjects` is only trusted with `import` set.
        std::fs::write(meta_path(&dir), serde_json::to_vec_pretty(&meta)?)?;
        let engine = open_engine(&database_url, &dir).await?;
        let local = Actor::local("bench");
        engine
            .create_tenant(
                &local,
                TENANT,
                "Bench Research (fictional)",
                "controller",
                None,
            )
            .await
            .map_err(|e| anyhow::anyhow!("creating the tenant: {e}"))?;
        engine
            .publish_policy(&local, &TENANT.parse()?, RESEARCH_POLICY, "policy.yaml")
            .await
            .map_err(|e| anyhow::anyhow!("publishing the policy: {e:?}"))?;
        let outcome = import(&engine, opts).await?;
        meta.subjects = outcome.subjects;
        meta.import = Some(outcome_json(&outcome, opts));
        std::fs::write(meta_path(&dir), serde_json::to_vec_pretty(&meta)?)?;
        Ok(BenchStore {
            engine,
            meta,
            dir,
            pg_admin_url: opts.pg_url.clone(),
            ephemeral: opts.data.is_none(),
            _temp: temp,
            built: Some(outcome),
        })
    }

    /// Read the SQLite files once (sequentially), so the run does not measure the disk.
    pub fn warm_page_cache(&self) -> Result<u64> {
        use std::io::Read;
        let mut total = 0;
        if self.meta.backend != BackendKind::Sqlite {
            return Ok(0);
        }
        let mut buf = vec![0u8; 1 << 20];
        for f in ["vow.db", "vow.db-wal"] {
            let Ok(mut file) = std::fs::File::open(self.dir.join(f)) else {
                continue;
            };
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
        }
        Ok(total)
    }

    pub fn tenant(&self) -> &str {
        &self.meta.tenant
    }

    /// A small pool of our own for the few things the store has no method for.
    pub async fn raw_pool(&self) -> Result<AnyPool> {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&self.meta.database_url)
            .await?;
        Ok(pool)
    }

    /// The store opened on its own, beside the engine's: for probes of the store alone
    /// (the engine does not hand out its store).
    pub async fn raw_store(&self) -> Result<vow_store::Store> {
        Ok(vow_store::Store::open(&self.meta.database_url).await?)
    }

    /// Bytes on disk: SQLite's db + WAL (+ shm) files, or `pg_database_size`.
    pub async fn size(&self) -> Result<(u64, String)> {
        match self.meta.backend {
            BackendKind::Sqlite => {
                let mut total = 0;
                let mut parts = Vec::new();
                for f in ["vow.db", "vow.db-wal", "vow.db-shm"] {
                    let len = std::fs::metadata(self.dir.join(f)).map_or(0, |m| m.len());
                    total += len;
                    parts.push(format!("{f} {}", crate::stats::human_bytes(len)));
                }
                Ok((total, parts.join(", ")))
            }
            BackendKind::Postgres => {
                let pool = self.raw_pool().await?;
                let (n,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
                    .fetch_one(&pool)
                    .await?;
                pool.close().await;
                Ok((
                    u64::try_from(n).unwrap_or(0),
                    "pg_database_size".to_string(),
                ))
            }
        }
    }

    /// Every subject id of the tenant (to read at random).
    pub async fn subject_ids(&self) -> Result<Vec<String>> {
        let pool = self.raw_pool().await?;
        let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM subjects WHERE tenant_id = $1")
            .bind(self.tenant())
            .fetch_all(&pool)
            .await?;
        pool.close().await;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Up to `limit` e-mail blind indexes, to time the store's part of a lookup alone.
    pub async fn email_indexes(&self, limit: i64) -> Result<Vec<Vec<u8>>> {
        let pool = self.raw_pool().await?;
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT bidx FROM identifiers WHERE tenant_id = $1 AND kind = 'email' LIMIT $2",
        )
        .bind(self.tenant())
        .bind(limit)
        .fetch_all(&pool)
        .await?;
        pool.close().await;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The audit chains' length, all chains together.
    pub async fn audit_len(&self) -> Result<i64> {
        let store = self.raw_store().await?;
        let mut tx = store.read().await?;
        let seq = tx.audit_heads().await?.iter().map(|h| h.pos).sum();
        drop(tx);
        store.close().await;
        Ok(seq)
    }

    /// Finish pending audit commits, close, and drop a temporary PostgreSQL database.
    pub async fn close(self) -> Result<()> {
        self.engine.shutdown().await;
        if self.ephemeral
            && let Some(db) = &self.meta.pg_database
        {
            drop_pg_database(&self.pg_admin_url, db).await?;
        }
        Ok(())
    }
}

/// Import `opts.subjects` generated subjects in batches of `opts.batch`, timing each call.
pub async fn import(engine: &Engine, opts: &StoreOptions) -> Result<ImportOutcome> {
    let local = Actor::local("bench");
    let batch = opts.batch.max(1) as u64;
    let mut batches = Vec::new();
    let mut import_seconds = 0.0;
    let cpu_before = cpu::snapshot();
    let wall = Instant::now();
    let mut from = 0;
    while from < opts.subjects {
        let to = (from + batch).min(opts.subjects);
        let rows = fixtures::rows(opts.seed, from, to);
        let t = Instant::now();
        let report = engine
            .import(
                &local,
                &TENANT.parse()?,
                rows,
                ImportOptions::default(),
                |_| {},
            )
            .await
            .map_err(|e| anyhow::anyhow!("import of rows {from}..{to}: {e:?}"))?;
        let secs = t.elapsed().as_secs_f64();
        if !report.committed || report.imported as u64 != to - from {
            bail!(
                "import of rows {from}..{to} was not clean: {} imported, first bad rows {:?}",
                report.imported,
                report.bad.iter().take(3).collect::<Vec<_>>()
            );
        }
        import_seconds += secs;
        batches.push(BatchStat {
            rows: to - from,
            seconds: secs,
        });
        eprintln!(
            "  imported {to:>9} / {} subjects; this batch {:>7.0} subjects/s; overall {:>7.0} subjects/s",
            opts.subjects,
            (to - from) as f64 / secs,
            to as f64 / import_seconds
        );
        from = to;
        if let Some(limit) = opts.time_limit
            && wall.elapsed().as_secs() >= limit
            && from < opts.subjects
        {
            eprintln!("  time limit of {limit} s reached: stopping at {from} subjects");
            break;
        }
    }
    let wall_seconds = wall.elapsed().as_secs_f64();
    let cpu = cpu::between(&cpu_before, &cpu::snapshot());
    Ok(ImportOutcome {
        subjects: from,
        import_seconds,
        wall_seconds,
        batches,
        cpu,
    })
}

pub fn outcome_json(o: &ImportOutcome, opts: &StoreOptions) -> serde_json::Value {
    serde_json::json!({
        "subjects": o.subjects,
        "batch": opts.batch,
        "import_s": o.import_seconds,
        "wall_s": o.wall_seconds,
        "subjects_per_s": o.subjects as f64 / o.import_seconds.max(f64::EPSILON),
        "batches_subjects_per_s": o.batches.iter().map(|b| (b.rows as f64 / b.seconds).round()).collect::<Vec<_>>(),
        "cpu": o.cpu.json(),
    })
}
