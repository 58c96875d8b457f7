//! Subjects, their identifiers (blind-indexed, values sealed) and fields (values sealed).

use crate::{Result, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRow {
    pub id: String,
    pub tenant_id: String,
    pub created_at: i64,
    /// Date of birth, sealed under the subject key.
    pub birth_date: Option<Vec<u8>>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierRow {
    pub tenant_id: String,
    pub kind: String,
    /// HMAC of the normalised value under the tenant's index key.
    pub bidx: Vec<u8>,
    pub subject_id: String,
    /// The value, sealed under the subject key.
    pub value: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRow {
    pub id: String,
    pub tenant_id: String,
    pub subject_id: String,
    pub category: String,
    /// JSON array of purpose ids.
    pub purposes: String,
    pub source: String,
    pub store: String,
    pub collected_at: i64,
    /// The value, sealed under the subject key with the field's identity as associated data.
    pub value: Vec<u8>,
    pub version: i64,
    /// The field row this one corrected.
    pub supersedes: Option<String>,
    pub superseded_at: Option<i64>,
}

type FieldTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Vec<u8>,
    i64,
    Option<String>,
    Option<i64>,
);

pub(crate) fn field_from(t: FieldTuple) -> FieldRow {
    FieldRow {
        id: t.0,
        tenant_id: t.1,
        subject_id: t.2,
        category: t.3,
        purposes: t.4,
        source: t.5,
        store: t.6,
        collected_at: t.7,
        value: t.8,
        version: t.9,
        supersedes: t.10,
        superseded_at: t.11,
    }
}

impl Tx {
    pub async fn insert_subject(&mut self, s: &SubjectRow) -> Result<()> {
        sqlx::query("INSERT INTO subjects (id, tenant_id, created_at, birth_date, status) VALUES ($1, $2, $3, $4, $5)")
            .bind(&s.id)
            .bind(&s.tenant_id)
            .bind(s.created_at)
            .bind(&s.birth_date)
            .bind(&s.status)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// A subject of `tenant_id`. Another tenant's subject is simply not found, nor is
    /// one whose import has not committed.
    pub async fn subject(&mut self, tenant_id: &str, id: &str) -> Result<Option<SubjectRow>> {
        let row: Option<(String, String, i64, Option<Vec<u8>>, String)> = sqlx::query_as(
            "SELECT id, tenant_id, created_at, birth_date, status FROM subjects
             WHERE id = $1 AND tenant_id = $2 AND status <> 'importing'",
        )
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| SubjectRow {
            id: r.0,
            tenant_id: r.1,
            created_at: r.2,
            birth_date: r.3,
            status: r.4,
        }))
    }

    pub async fn count_subjects(&mut self, tenant_id: &str) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM subjects WHERE tenant_id = $1 AND status <> 'importing'",
        )
        .bind(tenant_id)
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(n)
    }

    /// Insert an identifier. A second subject with the same identifier in the same
    /// tenant is a conflict.
    pub async fn insert_identifier(&mut self, i: &IdentifierRow) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO identifiers (tenant_id, kind, bidx, subject_id, value) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&i.tenant_id)
        .bind(&i.kind)
        .bind(&i.bidx)
        .bind(&i.subject_id)
        .bind(&i.value)
        .execute(&mut *self.inner)
        .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = StoreError::from(e);
                if e.is_unique_violation() {
                    Err(StoreError::Conflict("a subject with this identifier"))
                } else {
                    Err(e)
                }
            }
        }
    }

    /// [`Tx::lookup`], also finding the not yet visible people of running import `import_id`.
    pub async fn lookup_in_import(
        &mut self,
        tenant_id: &str,
        kind: &str,
        bidx: &[u8],
        import_id: &str,
    ) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT i.subject_id FROM identifiers i JOIN subjects s ON s.id = i.subject_id
             WHERE i.tenant_id = $1 AND i.kind = $2 AND i.bidx = $3
               AND (s.status = 'active' OR (s.status = 'importing' AND s.import_id = $4))",
        )
        .bind(tenant_id)
        .bind(kind)
        .bind(bidx)
        .bind(import_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| r.0))
    }

    /// The subject whose identifier of `kind` has blind index `bidx`, in `tenant_id`.
    pub async fn lookup(
        &mut self,
        tenant_id: &str,
        kind: &str,
        bidx: &[u8],
    ) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT i.subject_id FROM identifiers i JOIN subjects s ON s.id = i.subject_id
             WHERE i.tenant_id = $1 AND i.kind = $2 AND i.bidx = $3 AND s.status = 'active'",
        )
        .bind(tenant_id)
        .bind(kind)
        .bind(bidx)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| r.0))
    }

    pub async fn identifiers(
        &mut self,
        tenant_id: &str,
        subject_id: &str,
    ) -> Result<Vec<IdentifierRow>> {
        let rows: Vec<(String, String, Vec<u8>, String, Vec<u8>)> = sqlx::query_as(
            "SELECT tenant_id, kind, bidx, subject_id, value FROM identifiers
             WHERE subject_id = $1 AND tenant_id = $2 ORDER BY kind",
        )
        .bind(subject_id)
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| IdentifierRow {
                tenant_id: r.0,
                kind: r.1,
                bidx: r.2,
                subject_id: r.3,
                value: r.4,
            })
            .collect())
    }

    pub async fn insert_field(&mut self, f: &FieldRow) -> Result<()> {
        self.insert_fields(&[f]).await
    }

    /// The current (not superseded) fields of a subject, oldest first.
    pub async fn current_fields(
        &mut self,
        tenant_id: &str,
        subject_id: &str,
    ) -> Result<Vec<FieldRow>> {
        let rows: Vec<FieldTuple> = sqlx::query_as(
            "SELECT id, tenant_id, subject_id, category, purposes, source, store, collected_at, value, version, supersedes, superseded_at
             FROM fields WHERE subject_id = $1 AND tenant_id = $2 AND superseded_at IS NULL
             ORDER BY category, collected_at, id",
        )
        .bind(subject_id)
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(field_from).collect())
    }

    /// Every version of every field of a subject, for history and access exports.
    pub async fn all_fields(&mut self, tenant_id: &str, subject_id: &str) -> Result<Vec<FieldRow>> {
        let rows: Vec<FieldTuple> = sqlx::query_as(
            "SELECT id, tenant_id, subject_id, category, purposes, source, store, collected_at, value, version, supersedes, superseded_at
             FROM fields WHERE subject_id = $1 AND tenant_id = $2 ORDER BY category, version, id",
        )
        .bind(subject_id)
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(field_from).collect())
    }

    /// Mark a field as replaced by a correction. Fails if it was already superseded
    /// (two concurrent corrections of one field: the second must retry).
    pub async fn supersede_field(
        &mut self,
        tenant_id: &str,
        field_id: &str,
        at: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE fields SET superseded_at = $1 WHERE id = $2 AND tenant_id = $3 AND superseded_at IS NULL",
        )
        .bind(at)
        .bind(field_id)
        .bind(tenant_id)
        .execute(&mut *self.inner)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("a newer version of this field"));
        }
        Ok(())
    }
}

impl Tx {
    /// Erased people (tenant, subject, erased at), erased at or after `since`: what the
    /// erasure ledger must hold. Ids and times only.
    pub async fn erased_subjects(&mut self, since: i64) -> Result<Vec<(String, String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT tenant_id, id, created_at FROM subjects WHERE status = 'erased' AND created_at >= $1
             ORDER BY created_at, id",
        )
        .bind(since)
        .fetch_all(&mut *self.inner)
        .await?)
    }

    /// Whether the subject exists and is not erased (an old copy of the store restored
    /// may hold someone erased since).
    pub async fn subject_is_live(&mut self, tenant_id: &str, id: &str) -> Result<bool> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT status FROM subjects WHERE id = $1 AND tenant_id = $2")
                .bind(id)
                .bind(tenant_id)
                .fetch_optional(&mut *self.inner)
                .await?;
        Ok(row.is_some_and(|(s,)| s != "erased"))
    }
}
