//! Retention (R6): what a sweep reads (metadata only, never a value), what it
//! destroys, the record of runs, and the counts behind the data map (R9).

use crate::consents::{Tuple as ConsentTuple, consent_from};
use crate::requests::{HoldTuple, hold_from};
use crate::{ConsentRow, HoldRow, Result, Tx};

/// An active person as a sweep sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionSubjectRow {
    pub id: String,
    pub relationship_ended_at: Option<i64>,
}

/// A field version without its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMetaRow {
    pub id: String,
    pub subject_id: String,
    pub category: String,
    /// JSON array of purpose ids.
    pub purposes: String,
    pub store: String,
    pub collected_at: i64,
    pub supersedes: Option<String>,
    pub superseded_at: Option<i64>,
}

/// One retention run: counts only, never an identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRunRow {
    pub id: String,
    pub tenant_id: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub dry_run: bool,
    pub actor: String,
    pub policy_version: i64,
    pub fields_destroyed: i64,
    pub subjects_shredded: i64,
    pub held: i64,
    /// JSON: per rule, its description and counts.
    pub rules: String,
}

/// Live fields of one category in one store for one set of purposes (JSON array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldCountRow {
    pub category: String,
    pub store: String,
    pub purposes: String,
    pub count: i64,
}

type RunTuple = (
    String,
    String,
    i64,
    Option<i64>,
    i64,
    String,
    i64,
    i64,
    i64,
    i64,
    String,
);

impl Tx {
    /// Up to `limit` active people of `tenant` with ids after `after`, in id order.
    /// `lock`: the batch will be changed (locked on PostgreSQL, skipping rows locked
    /// by another server's sweep).
    pub async fn retention_subjects(
        &mut self,
        tenant_id: &str,
        after: &str,
        limit: i64,
        lock: bool,
    ) -> Result<Vec<RetentionSubjectRow>> {
        let rows: Vec<(String, Option<i64>)> =
            sqlx::query_as(self.backend.retention_page_sql(lock))
                .bind(tenant_id)
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *self.inner)
                .await?;
        Ok(rows
            .into_iter()
            .map(|r| RetentionSubjectRow {
                id: r.0,
                relationship_ended_at: r.1,
            })
            .collect())
    }

    /// Every field version of the people with ids in `(after, last]`.
    pub async fn field_meta_between(
        &mut self,
        tenant_id: &str,
        after: &str,
        last: &str,
    ) -> Result<Vec<FieldMetaRow>> {
        let rows: Vec<(String, String, String, String, String, i64, Option<String>, Option<i64>)> =
            sqlx::query_as(
                "SELECT id, subject_id, category, purposes, store, collected_at, supersedes, superseded_at
                 FROM fields WHERE subject_id > $1 AND subject_id <= $2 AND tenant_id = $3
                 ORDER BY subject_id, version, id",
            )
            .bind(after)
            .bind(last)
            .bind(tenant_id)
            .fetch_all(&mut *self.inner)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| FieldMetaRow {
                id: r.0,
                subject_id: r.1,
                category: r.2,
                purposes: r.3,
                store: r.4,
                collected_at: r.5,
                supersedes: r.6,
                superseded_at: r.7,
            })
            .collect())
    }

    /// The consent ledgers of the people with ids in `(after, last]`, in ledger order.
    pub async fn ledger_between(
        &mut self,
        tenant_id: &str,
        after: &str,
        last: &str,
    ) -> Result<Vec<ConsentRow>> {
        let rows: Vec<ConsentTuple> = sqlx::query_as(
            "SELECT id, tenant_id, subject_id, seq, purpose, action, kind, at, expires_at, policy_version, parent_subject_id, evidence, recorded_at, recorded_by
             FROM consents WHERE subject_id > $1 AND subject_id <= $2 AND tenant_id = $3 ORDER BY subject_id, seq",
        )
        .bind(after)
        .bind(last)
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(consent_from).collect())
    }

    /// The time of the last purpose-bound read of each person with an id in `(after, last]`.
    pub async fn last_reads_between(
        &mut self,
        tenant_id: &str,
        after: &str,
        last: &str,
    ) -> Result<Vec<(String, i64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT subject_id, MAX(at) FROM audit
             WHERE action = 'read' AND subject_id > $1 AND subject_id <= $2 AND tenant_id = $3
             GROUP BY subject_id",
        )
        .bind(after)
        .bind(last)
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows)
    }

    /// The legal holds of `tenant_id` still in force at `now`.
    pub async fn live_holds(&mut self, tenant_id: &str, now: i64) -> Result<Vec<HoldRow>> {
        let rows: Vec<HoldTuple> = sqlx::query_as(
            "SELECT id, tenant_id, subject_id, categories, reason, until, created_at, created_by FROM holds
             WHERE tenant_id = $1 AND until > $2 ORDER BY subject_id, created_at, id",
        )
        .bind(tenant_id)
        .bind(now)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(hold_from).collect())
    }

    /// Destroy one field version (ciphertext and metadata).
    /// Erased people of a tenant who still have fields: what legal holds kept.
    pub async fn erased_with_fields(&mut self, tenant_id: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT f.subject_id FROM fields f JOIN subjects s ON s.id = f.subject_id
             WHERE f.tenant_id = $1 AND s.tenant_id = $1 AND s.status = 'erased' ORDER BY f.subject_id",
        )
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    pub async fn delete_field(&mut self, tenant_id: &str, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM fields WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Destroy a person's identifier of one kind, with its blind index.
    pub async fn delete_identifier(
        &mut self,
        tenant_id: &str,
        subject_id: &str,
        kind: &str,
    ) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM identifiers WHERE subject_id = $1 AND tenant_id = $2 AND kind = $3",
        )
        .bind(subject_id)
        .bind(tenant_id)
        .bind(kind)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected())
    }

    /// Record (or clear, with None) when an active person's relationship ended.
    /// Returns false if there is no such active person in the tenant.
    pub async fn set_relationship_end(
        &mut self,
        tenant_id: &str,
        subject_id: &str,
        at: Option<i64>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE subjects SET relationship_ended_at = $1 WHERE id = $2 AND tenant_id = $3 AND status = 'active'",
        )
        .bind(at)
        .bind(subject_id)
        .bind(tenant_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn insert_retention_run(&mut self, r: &RetentionRunRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO retention_runs (id, tenant_id, started_at, finished_at, dry_run, actor, policy_version,
                fields_destroyed, subjects_shredded, held, rules)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&r.id)
        .bind(&r.tenant_id)
        .bind(r.started_at)
        .bind(r.finished_at)
        .bind(i64::from(r.dry_run))
        .bind(&r.actor)
        .bind(r.policy_version)
        .bind(r.fields_destroyed)
        .bind(r.subjects_shredded)
        .bind(r.held)
        .bind(&r.rules)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Save a run's counts so far (each batch, in the batch's own transaction).
    pub async fn update_retention_run(&mut self, r: &RetentionRunRow) -> Result<()> {
        sqlx::query(
            "UPDATE retention_runs SET finished_at = $1, fields_destroyed = $2, subjects_shredded = $3, held = $4, rules = $5
             WHERE id = $6 AND tenant_id = $7",
        )
        .bind(r.finished_at)
        .bind(r.fields_destroyed)
        .bind(r.subjects_shredded)
        .bind(r.held)
        .bind(&r.rules)
        .bind(&r.id)
        .bind(&r.tenant_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The tenant's runs, newest first.
    pub async fn retention_runs(
        &mut self,
        tenant_id: &str,
        limit: i64,
    ) -> Result<Vec<RetentionRunRow>> {
        let rows: Vec<RunTuple> = sqlx::query_as(
            "SELECT id, tenant_id, started_at, finished_at, dry_run, actor, policy_version,
                fields_destroyed, subjects_shredded, held, rules
             FROM retention_runs WHERE tenant_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
        )
        .bind(tenant_id)
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| RetentionRunRow {
                id: r.0,
                tenant_id: r.1,
                started_at: r.2,
                finished_at: r.3,
                dry_run: r.4 != 0,
                actor: r.5,
                policy_version: r.6,
                fields_destroyed: r.7,
                subjects_shredded: r.8,
                held: r.9,
                rules: r.10,
            })
            .collect())
    }

    /// Live (not superseded) fields of a tenant, counted per category, store and
    /// purposes, from the plaintext metadata columns alone.
    pub async fn field_counts(&mut self, tenant_id: &str) -> Result<Vec<FieldCountRow>> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT f.category, f.store, f.purposes, COUNT(*) FROM fields f
             WHERE f.tenant_id = $1 AND f.superseded_at IS NULL
               AND f.subject_id NOT IN (SELECT id FROM subjects WHERE tenant_id = $1 AND status = 'importing')
             GROUP BY f.category, f.store, f.purposes ORDER BY f.category, f.store, f.purposes",
        )
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| FieldCountRow {
                category: r.0,
                store: r.1,
                purposes: r.2,
                count: r.3,
            })
            .collect())
    }
}
