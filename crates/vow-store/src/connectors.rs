//! The organisation's own databases (issue 11): connections (their URLs sealed above
//! this crate), the datasets registered with them, and the jobs that run a request's
//! work on them, claimed with a lease.

use crate::dialect::Backend;
use crate::{Result, Tx};

/// A connection to an external database. `url_sealed` is opaque here.
#[derive(Debug, Clone)]
pub struct ConnectionRow {
    pub tenant_id: String,
    pub id: String,
    pub kind: String,
    pub redacted: String,
    pub kek_version: i64,
    pub url_sealed: Vec<u8>,
    pub max_concurrency: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// An `http` connection's signing secret, sealed above this crate under the same
    /// KEK version as the URL; None for database connections.
    pub secret_sealed: Option<Vec<u8>>,
}

/// A dataset registered with a connection.
#[derive(Debug, Clone)]
pub struct DatasetRow {
    pub tenant_id: String,
    pub fides_key: String,
    pub connection_id: String,
    pub manifest: String,
    pub manifest_sha256: String,
    pub collections: i64,
    pub registered_at: i64,
    pub updated_at: i64,
}

/// One request's work on one dataset.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: String,
    pub tenant_id: String,
    pub request_id: String,
    pub dataset: String,
    pub connection_id: String,
    /// `access`, `erasure` or `correction`.
    pub kind: String,
    /// `pending`, `waiting` (an `http` connection has it and will answer), `done`
    /// or `failed`.
    pub state: String,
    pub attempts: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub sealed: Option<Vec<u8>>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

macro_rules! connection_columns {
    () => {
        "tenant_id, id, kind, redacted, kek_version, url_sealed, max_concurrency, created_at, updated_at, secret_sealed"
    };
}
type ConnectionTuple = (
    String,
    String,
    String,
    String,
    i64,
    Vec<u8>,
    i64,
    i64,
    i64,
    Option<Vec<u8>>,
);

fn connection(r: ConnectionTuple) -> ConnectionRow {
    ConnectionRow {
        tenant_id: r.0,
        id: r.1,
        kind: r.2,
        redacted: r.3,
        kek_version: r.4,
        url_sealed: r.5,
        max_concurrency: r.6,
        created_at: r.7,
        updated_at: r.8,
        secret_sealed: r.9,
    }
}

macro_rules! dataset_columns {
    () => {
        "tenant_id, fides_key, connection_id, manifest, manifest_sha256, collections, registered_at, updated_at"
    };
}
type DatasetTuple = (String, String, String, String, String, i64, i64, i64);

fn dataset(r: DatasetTuple) -> DatasetRow {
    DatasetRow {
        tenant_id: r.0,
        fides_key: r.1,
        connection_id: r.2,
        manifest: r.3,
        manifest_sha256: r.4,
        collections: r.5,
        registered_at: r.6,
        updated_at: r.7,
    }
}

macro_rules! job_columns {
    () => {
        "id, tenant_id, request_id, dataset, connection_id, kind, state, attempts, lease_owner, lease_until, sealed, error, created_at, updated_at, finished_at"
    };
}
type JobTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<i64>,
    Option<Vec<u8>>,
    Option<String>,
    i64,
    i64,
    Option<i64>,
);

fn job(r: JobTuple) -> JobRow {
    JobRow {
        id: r.0,
        tenant_id: r.1,
        request_id: r.2,
        dataset: r.3,
        connection_id: r.4,
        kind: r.5,
        state: r.6,
        attempts: r.7,
        lease_owner: r.8,
        lease_until: r.9,
        sealed: r.10,
        error: r.11,
        created_at: r.12,
        updated_at: r.13,
        finished_at: r.14,
    }
}

impl Tx {
    /// Add a connection, or replace its URL and limit (keeping when it was created).
    pub async fn put_connection(&mut self, c: &ConnectionRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO connections (tenant_id, id, kind, redacted, kek_version, url_sealed, max_concurrency, created_at, updated_at, secret_sealed)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (tenant_id, id) DO UPDATE SET kind = excluded.kind, redacted = excluded.redacted,
               kek_version = excluded.kek_version, url_sealed = excluded.url_sealed,
               max_concurrency = excluded.max_concurrency, updated_at = excluded.updated_at,
               secret_sealed = excluded.secret_sealed",
        )
        .bind(&c.tenant_id)
        .bind(&c.id)
        .bind(&c.kind)
        .bind(&c.redacted)
        .bind(c.kek_version)
        .bind(&c.url_sealed)
        .bind(c.max_concurrency)
        .bind(c.created_at)
        .bind(c.updated_at)
        .bind(&c.secret_sealed)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn connection(&mut self, tenant_id: &str, id: &str) -> Result<Option<ConnectionRow>> {
        let row: Option<ConnectionTuple> = sqlx::query_as(concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(connection))
    }

    pub async fn connections(&mut self, tenant_id: &str) -> Result<Vec<ConnectionRow>> {
        let rows: Vec<ConnectionTuple> = sqlx::query_as(concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE tenant_id = $1 ORDER BY id"
        ))
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(connection).collect())
    }

    /// Connections whose URL is sealed under a KEK older than `version` (key rotation).
    pub async fn connections_below(
        &mut self,
        tenant_id: &str,
        version: i64,
    ) -> Result<Vec<ConnectionRow>> {
        let rows: Vec<ConnectionTuple> = sqlx::query_as(concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE tenant_id = $1 AND kek_version < $2 ORDER BY id"
        ))
        .bind(tenant_id)
        .bind(version)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(connection).collect())
    }

    /// Re-seal a connection's URL (and an `http` connection's secret) under KEK `version`.
    pub async fn reseal_connection(
        &mut self,
        tenant_id: &str,
        id: &str,
        version: i64,
        sealed: &[u8],
        secret_sealed: Option<&[u8]>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE connections SET kek_version = $3, url_sealed = $4, secret_sealed = $5 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(version)
        .bind(sealed)
        .bind(secret_sealed)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Register a dataset, or replace its manifest and connection.
    pub async fn put_dataset(&mut self, d: &DatasetRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO datasets (tenant_id, fides_key, connection_id, manifest, manifest_sha256, collections, registered_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (tenant_id, fides_key) DO UPDATE SET connection_id = excluded.connection_id,
               manifest = excluded.manifest, manifest_sha256 = excluded.manifest_sha256,
               collections = excluded.collections, updated_at = excluded.updated_at",
        )
        .bind(&d.tenant_id)
        .bind(&d.fides_key)
        .bind(&d.connection_id)
        .bind(&d.manifest)
        .bind(&d.manifest_sha256)
        .bind(d.collections)
        .bind(d.registered_at)
        .bind(d.updated_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn dataset(
        &mut self,
        tenant_id: &str,
        fides_key: &str,
    ) -> Result<Option<DatasetRow>> {
        let row: Option<DatasetTuple> = sqlx::query_as(concat!(
            "SELECT ",
            dataset_columns!(),
            " FROM datasets WHERE tenant_id = $1 AND fides_key = $2"
        ))
        .bind(tenant_id)
        .bind(fides_key)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(dataset))
    }

    pub async fn datasets(&mut self, tenant_id: &str) -> Result<Vec<DatasetRow>> {
        let rows: Vec<DatasetTuple> = sqlx::query_as(concat!(
            "SELECT ",
            dataset_columns!(),
            " FROM datasets WHERE tenant_id = $1 ORDER BY fides_key"
        ))
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(dataset).collect())
    }

    /// Add a job unless the request already has one of that kind on that dataset;
    /// whether it was added.
    pub async fn insert_job(&mut self, j: &JobRow) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO connector_jobs (id, tenant_id, request_id, dataset, connection_id, kind, state, attempts, sealed, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $9)
             ON CONFLICT (tenant_id, request_id, dataset, kind) DO NOTHING",
        )
        .bind(&j.id)
        .bind(&j.tenant_id)
        .bind(&j.request_id)
        .bind(&j.dataset)
        .bind(&j.connection_id)
        .bind(&j.kind)
        .bind(&j.state)
        .bind(&j.sealed)
        .bind(j.created_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Claim up to `limit` pending jobs for `owner` until `lease_until`: jobs nobody
    /// holds (or whose holder's lease ran out) on connections no other server is
    /// working, so that a connection's concurrency limit, enforced by the one server
    /// working it, holds across servers. A killed server's jobs come back when its
    /// lease ends. On PostgreSQL claims take turns on an advisory lock and skip rows
    /// another transaction holds; SQLite's write lock already serialises them.
    pub async fn claim_jobs(
        &mut self,
        tenant_id: Option<&str>,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<JobRow>> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7011)")
                .execute(&mut *self.inner)
                .await?;
        }
        macro_rules! claim {
            ($lock:literal) => {
                concat!(
                    "UPDATE connector_jobs SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
                     WHERE id IN (
                       SELECT j.id FROM connector_jobs j
                       WHERE j.state = 'pending' AND (j.lease_until IS NULL OR j.lease_until <= $3)
                         AND j.tenant_id = COALESCE($4, j.tenant_id)
                         AND NOT EXISTS (SELECT 1 FROM connector_jobs o
                           WHERE o.tenant_id = j.tenant_id AND o.connection_id = j.connection_id
                             AND o.state = 'pending' AND o.lease_owner <> $1 AND o.lease_until > $3)
                       ORDER BY j.created_at, j.id LIMIT $5",
                    $lock,
                    ") RETURNING ",
                    job_columns!()
                )
            };
        }
        let sql = match self.backend {
            Backend::Postgres => claim!(" FOR UPDATE SKIP LOCKED"),
            Backend::Sqlite => claim!(""),
        };
        let rows: Vec<JobTuple> = sqlx::query_as(sql)
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(tenant_id)
            .bind(limit)
            .fetch_all(&mut *self.inner)
            .await?;
        let mut jobs: Vec<JobRow> = rows.into_iter().map(job).collect();
        jobs.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(jobs)
    }

    /// Keep holding jobs: their lease runs to `lease_until`. Returns how many are
    /// still held by `owner` (a lease that ran out and was taken is lost).
    pub async fn renew_jobs(
        &mut self,
        ids: &[String],
        owner: &str,
        lease_until: i64,
    ) -> Result<u64> {
        let mut held = 0;
        for id in ids {
            held += sqlx::query(
                "UPDATE connector_jobs SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
            )
            .bind(id)
            .bind(owner)
            .bind(lease_until)
            .execute(&mut *self.inner)
            .await?
            .rows_affected();
        }
        Ok(held)
    }

    /// Keep what a held job found or will change (sealed above). False when the
    /// lease was lost.
    pub async fn set_job_sealed(
        &mut self,
        id: &str,
        owner: &str,
        sealed: &[u8],
        at: i64,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE connector_jobs SET sealed = $3, updated_at = $4 WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
        )
        .bind(id)
        .bind(owner)
        .bind(sealed)
        .bind(at)
        .execute(&mut *self.inner)
        .await?
        .rows_affected()
            == 1)
    }

    /// Finish a held job: `done` or `failed` (with an error that carries no values).
    /// False when the lease was lost (another server finishes it).
    pub async fn finish_job(
        &mut self,
        id: &str,
        owner: &str,
        state: &str,
        error: Option<&str>,
        at: i64,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE connector_jobs SET state = $3, error = $4, finished_at = $5, updated_at = $5, lease_owner = NULL, lease_until = NULL
             WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
        )
        .bind(id)
        .bind(owner)
        .bind(state)
        .bind(error)
        .bind(at)
        .execute(&mut *self.inner)
        .await?
        .rows_affected()
            == 1)
    }

    /// Put a job back to be run again (an operator's retry of a failed job).
    pub async fn retry_job(&mut self, tenant_id: &str, id: &str, at: i64) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE connector_jobs SET state = 'pending', error = NULL, finished_at = NULL, lease_owner = NULL, lease_until = NULL, updated_at = $3
             WHERE tenant_id = $1 AND id = $2 AND state = 'failed'",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(at)
        .execute(&mut *self.inner)
        .await?
        .rows_affected()
            == 1)
    }

    /// A request's jobs, in the order they were made.
    pub async fn request_jobs(&mut self, tenant_id: &str, request_id: &str) -> Result<Vec<JobRow>> {
        let rows: Vec<JobTuple> = sqlx::query_as(concat!(
            "SELECT ",
            job_columns!(),
            " FROM connector_jobs WHERE tenant_id = $1 AND request_id = $2 ORDER BY created_at, id"
        ))
        .bind(tenant_id)
        .bind(request_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(job).collect())
    }

    /// Record many `(job, collection, rows)` steps done at `at`, in multi-row
    /// statements (a batch of jobs finishes its collections together).
    pub async fn steps_done(&mut self, steps: &[(&str, &str, i64)], at: i64) -> Result<()> {
        for part in steps.chunks(200) {
            let mut sql = String::from(
                "INSERT INTO connector_steps (job_id, collection, rows, done_at) VALUES ",
            );
            for k in 0..part.len() {
                if k > 0 {
                    sql.push(',');
                }
                let b = k * 3;
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    3 * part.len() + 1
                ));
            }
            sql.push_str(" ON CONFLICT (job_id, collection) DO NOTHING");
            // Only placeholders are formatted into the text; every value is bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (job, collection, rows) in part {
                q = q.bind(*job).bind(*collection).bind(*rows);
            }
            q.bind(at).execute(&mut *self.inner).await?;
        }
        Ok(())
    }

    /// Forget that a job finished these collections: a retry applies them again.
    pub async fn undo_steps(&mut self, job_id: &str, collections: &[&str]) -> Result<()> {
        for c in collections {
            sqlx::query("DELETE FROM connector_steps WHERE job_id = $1 AND collection = $2")
                .bind(job_id)
                .bind(*c)
                .execute(&mut *self.inner)
                .await?;
        }
        Ok(())
    }

    /// The collections a job has finished, with their row counts.
    pub async fn job_steps(&mut self, job_id: &str) -> Result<Vec<(String, i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT collection, rows, done_at FROM connector_steps WHERE job_id = $1 ORDER BY done_at, collection",
        )
        .bind(job_id)
        .fetch_all(&mut *self.inner)
        .await?)
    }

    /// One job of a tenant, by id.
    pub async fn job(&mut self, tenant_id: &str, id: &str) -> Result<Option<JobRow>> {
        let row: Option<JobTuple> = sqlx::query_as(concat!(
            "SELECT ",
            job_columns!(),
            " FROM connector_jobs WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(job))
    }

    /// A held job was handed to an `http` connection: it waits for the system's
    /// answer until `respond_by`, held by nobody. False when the lease was lost.
    pub async fn set_job_waiting(
        &mut self,
        id: &str,
        owner: &str,
        respond_by: i64,
        at: i64,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE connector_jobs SET state = 'waiting', respond_by = $3, lease_owner = NULL, lease_until = NULL, updated_at = $4
             WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
        )
        .bind(id)
        .bind(owner)
        .bind(respond_by)
        .bind(at)
        .execute(&mut *self.inner)
        .await?
        .rows_affected()
            == 1)
    }

    /// Let go of a held job that stays `pending`, to be claimed again from
    /// `not_before` (an `http` connection did not take it: the next attempt's time).
    pub async fn release_job(
        &mut self,
        id: &str,
        owner: &str,
        not_before: i64,
        at: i64,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE connector_jobs SET lease_owner = NULL, lease_until = $3, updated_at = $4
             WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
        )
        .bind(id)
        .bind(owner)
        .bind(not_before)
        .bind(at)
        .execute(&mut *self.inner)
        .await?
        .rows_affected()
            == 1)
    }

    /// A tenant's `waiting` jobs whose answer was due by `now`.
    pub async fn overdue_waiting_jobs(&mut self, tenant_id: &str, now: i64) -> Result<Vec<JobRow>> {
        let rows: Vec<JobTuple> = sqlx::query_as(concat!(
            "SELECT ",
            job_columns!(),
            " FROM connector_jobs WHERE tenant_id = $1 AND state = 'waiting' AND respond_by <= $2 ORDER BY created_at, id"
        ))
        .bind(tenant_id)
        .bind(now)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(job).collect())
    }

    /// When a `waiting` job's answer is due.
    pub async fn job_respond_by(&mut self, id: &str) -> Result<Option<i64>> {
        let row: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT respond_by FROM connector_jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *self.inner)
                .await?;
        Ok(row.and_then(|r| r.0))
    }

    /// Finish a `waiting` job (its answer came, or never will): `done` or `failed`,
    /// with what it found sealed above (None keeps what is there). False when it was
    /// not waiting (answered already).
    pub async fn finish_waiting_job(
        &mut self,
        id: &str,
        state: &str,
        error: Option<&str>,
        sealed: Option<&[u8]>,
        at: i64,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE connector_jobs SET state = $2, error = $3, sealed = COALESCE($4, sealed), finished_at = $5, updated_at = $5
             WHERE id = $1 AND state = 'waiting'",
        )
        .bind(id)
        .bind(state)
        .bind(error)
        .bind(sealed)
        .bind(at)
        .execute(&mut *self.inner)
        .await?
        .rows_affected()
            == 1)
    }

    /// Counts of a tenant's jobs made in `[from, to)`, by kind and state (the
    /// self-assessment).
    pub async fn job_counts(
        &mut self,
        tenant_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT kind, state, COUNT(*) FROM connector_jobs WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
             GROUP BY kind, state ORDER BY kind, state",
        )
        .bind(tenant_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *self.inner)
        .await?)
    }
}
