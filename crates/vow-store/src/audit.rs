//! The audit chain: append-only rows, each carrying the hash that chains it to
//! the one before. The hash function is passed in, so this crate stays free of
//! cryptography; the head row (last seq, hash, time and the signature over them) is
//! locked for the append. The signature is made by a function passed in, too.

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

/// The chain's head: the last entry's seq, hash and time, and the signature over them
/// (`None` on a store the engine has not signed yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: [u8; 32],
    pub at: i64,
    pub sig: Option<Vec<u8>>,
}

/// A signed checkpoint of the chain, as published to the witnesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheckpointRow {
    pub seq: i64,
    pub hash: Vec<u8>,
    pub at: i64,
    pub sig: Vec<u8>,
}

impl Tx {
    /// The chain's head, locked until this transaction ends. Read once per
    /// transaction: later calls see the entries this transaction appended.
    pub async fn audit_head(&mut self) -> Result<AuditHead> {
        if let Some((head, _)) = &self.head {
            return Ok(head.clone());
        }
        let (seq, hash, at, sig): (i64, Vec<u8>, i64, Option<Vec<u8>>) =
            sqlx::query_as(self.backend.audit_head_sql())
                .fetch_one(&mut *self.inner)
                .await?;
        let hash: [u8; 32] = hash
            .try_into()
            .map_err(|_| StoreError::Corrupt("audit head hash"))?;
        let head = AuditHead { seq, hash, at, sig };
        self.head = Some((head.clone(), false));
        Ok(head)
    }

    /// Append entries in order; `chain(prev_hash, seq, entry)` gives each one's hash,
    /// and `sign(new_head)` the signature stored with the new head (its `sig` is
    /// `None` when passed). Returns the new head, which is written to the head row
    /// when the transaction commits. The entries go in multi-row statements.
    pub async fn append_audit<F, S>(
        &mut self,
        entries: &[NewAudit],
        chain: F,
        sign: S,
    ) -> Result<AuditHead>
    where
        F: Fn(&[u8; 32], i64, &NewAudit) -> [u8; 32],
        S: FnOnce(&AuditHead) -> Vec<u8>,
    {
        let mut head = self.audit_head().await?;
        if entries.is_empty() {
            return Ok(head);
        }
        let mut hashed = Vec::with_capacity(entries.len());
        for e in entries {
            let seq = head.seq + 1;
            let hash = chain(&head.hash, seq, e);
            hashed.push((seq, hash, e));
            head = AuditHead {
                seq,
                hash,
                at: e.at,
                sig: None,
            };
        }
        for part in hashed.chunks(crate::bulk::rows_per_statement(self.backend, 9)) {
            let sql = crate::bulk::values_sql(
                self.backend,
                "INSERT INTO audit (seq, at, tenant_id, actor, action, subject_id, purpose, detail, hash) VALUES ",
                9,
                part.len(),
            );
            // Only placeholders are formatted into the text; every value is bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (seq, hash, e) in part {
                q = q
                    .bind(*seq)
                    .bind(e.at)
                    .bind(&e.tenant_id)
                    .bind(&e.actor)
                    .bind(&e.action)
                    .bind(&e.subject_id)
                    .bind(&e.purpose)
                    .bind(&e.detail)
                    .bind(hash.to_vec());
            }
            q.execute(&mut *self.inner).await?;
        }
        head.sig = Some(sign(&head));
        self.head = Some((head.clone(), true));
        Ok(head)
    }

    /// Store `head` as the chain's head (with its signature), at once.
    pub async fn put_audit_head(&mut self, head: &AuditHead) -> Result<()> {
        self.write_audit_head(head).await?;
        self.head = Some((head.clone(), false));
        Ok(())
    }

    pub(crate) async fn write_audit_head(&mut self, head: &AuditHead) -> Result<()> {
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2, at = $3, sig = $4 WHERE id = 1")
            .bind(head.seq)
            .bind(head.hash.to_vec())
            .bind(head.at)
            .bind(&head.sig)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// The time of entry `seq`, if it is there.
    pub async fn audit_entry_at(&mut self, seq: i64) -> Result<Option<i64>> {
        let at: Option<(i64,)> = sqlx::query_as("SELECT at FROM audit WHERE seq = $1")
            .bind(seq)
            .fetch_optional(&mut *self.inner)
            .await?;
        Ok(at.map(|a| a.0))
    }

    /// Record a checkpoint (a later one of the same seq replaces it).
    pub async fn put_audit_checkpoint(&mut self, c: &AuditCheckpointRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, at, sig) VALUES ($1, $2, $3, $4)
             ON CONFLICT (seq) DO UPDATE SET hash = excluded.hash, at = excluded.at, sig = excluded.sig",
        )
        .bind(c.seq)
        .bind(&c.hash)
        .bind(c.at)
        .bind(&c.sig)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The newest checkpoint recorded, if any.
    pub async fn latest_audit_checkpoint(&mut self) -> Result<Option<AuditCheckpointRow>> {
        let row: Option<(i64, Vec<u8>, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, hash, at, sig FROM audit_checkpoints ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|(seq, hash, at, sig)| AuditCheckpointRow { seq, hash, at, sig }))
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
