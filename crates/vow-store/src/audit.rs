//! The audit chain: append-only rows, each carrying the hash that chains it to
//! the one before. The hash function is passed in, so this crate stays free of
//! cryptography; the head row (last seq and hash) is locked for the append.

use crate::{Result, StoreError, Tx};

/// An entry to append. `detail` is JSON holding names, counts and ids, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    pub at: i64,
    pub tenant_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub subject_id: Option<String>,
    pub purpose: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: i64,
    pub entry: NewAudit,
    pub hash: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: [u8; 32],
}

impl Tx {
    /// The chain's head, locked until this transaction ends.
    pub async fn audit_head(&mut self) -> Result<AuditHead> {
        let (seq, hash): (i64, Vec<u8>) = sqlx::query_as(self.backend.audit_head_sql())
            .fetch_one(&mut *self.inner)
            .await?;
        let hash: [u8; 32] = hash
            .try_into()
            .map_err(|_| StoreError::Corrupt("audit head hash"))?;
        Ok(AuditHead { seq, hash })
    }

    /// Append entries in order; `chain(prev_hash, seq, entry)` gives each one's hash.
    /// Returns the new head.
    pub async fn append_audit<F>(&mut self, entries: &[NewAudit], chain: F) -> Result<AuditHead>
    where
        F: Fn(&[u8; 32], i64, &NewAudit) -> [u8; 32],
    {
        let mut head = self.audit_head().await?;
        if entries.is_empty() {
            return Ok(head);
        }
        for e in entries {
            let seq = head.seq + 1;
            let hash = chain(&head.hash, seq, e);
            sqlx::query(
                "INSERT INTO audit (seq, at, tenant_id, actor, action, subject_id, purpose, detail, hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(seq)
            .bind(e.at)
            .bind(&e.tenant_id)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.subject_id)
            .bind(&e.purpose)
            .bind(&e.detail)
            .bind(hash.to_vec())
            .execute(&mut *self.inner)
            .await?;
            head = AuditHead { seq, hash };
        }
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(head.seq)
            .bind(head.hash.to_vec())
            .execute(&mut *self.inner)
            .await?;
        Ok(head)
    }

    /// Entries with `seq > after`, in order, at most `limit`.
    pub async fn audit_page(&mut self, after: i64, limit: i64) -> Result<Vec<AuditRow>> {
        type T = (
            i64,
            i64,
            Option<String>,
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            Vec<u8>,
        );
        let rows: Vec<T> = sqlx::query_as(
            "SELECT seq, at, tenant_id, actor, action, subject_id, purpose, detail, hash
             FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditRow {
                seq: r.0,
                entry: NewAudit {
                    at: r.1,
                    tenant_id: r.2,
                    actor: r.3,
                    action: r.4,
                    subject_id: r.5,
                    purpose: r.6,
                    detail: r.7,
                },
                hash: r.8,
            })
            .collect())
    }

    /// Entries about one subject of one tenant, newest first (for the person's own history).
    pub async fn audit_for_subject(
        &mut self,
        tenant_id: &str,
        subject_id: &str,
        limit: i64,
    ) -> Result<Vec<AuditRow>> {
        type T = (
            i64,
            i64,
            Option<String>,
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            Vec<u8>,
        );
        let rows: Vec<T> = sqlx::query_as(
            "SELECT seq, at, tenant_id, actor, action, subject_id, purpose, detail, hash
             FROM audit WHERE tenant_id = $1 AND subject_id = $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(tenant_id)
        .bind(subject_id)
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditRow {
                seq: r.0,
                entry: NewAudit {
                    at: r.1,
                    tenant_id: r.2,
                    actor: r.3,
                    action: r.4,
                    subject_id: r.5,
                    purpose: r.6,
                    detail: r.7,
                },
                hash: r.8,
            })
            .collect())
    }
}
