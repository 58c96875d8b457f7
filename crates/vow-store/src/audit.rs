//! The audit chains: append-only rows, each carrying the hash that chains it to
//! the one before in its chain. Every tenant has a chain of its own; entries with no
//! tenant (and those written before chains were per tenant) form the store's chain,
//! named `""`. Each chain's head row (last position, hash, time and the signature
//! over them) is locked for the append, so tenants append in parallel. The hash
//! function and the signature are passed in, so this crate stays free of
//! cryptography.

use crate::{Result, StoreError, Tx};

/// The store's own chain: entries with no tenant, each chain's start, heads records.
pub const STORE_CHAIN: &str = "";

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

impl NewAudit {
    /// The chain the entry belongs to: its tenant's, or the store's.
    pub fn chain(&self) -> &str {
        self.tenant_id.as_deref().unwrap_or(STORE_CHAIN)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// The row's id, in the order entries were written (across chains).
    pub seq: i64,
    pub chain: String,
    /// The entry's place in its chain, from 1; what its hash covers.
    pub pos: i64,
    pub entry: NewAudit,
    pub hash: Vec<u8>,
}

/// A chain's head: its last entry's position, hash and time, and the signature over
/// them (`None` on a chain the engine has not signed yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub chain: String,
    pub pos: i64,
    pub hash: [u8; 32],
    pub at: i64,
    pub sig: Option<Vec<u8>>,
}

/// A head locked for appending, and whether this transaction created it (the chain's
/// first append).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedHead {
    pub head: AuditHead,
    pub created: bool,
}

/// A signed checkpoint of the store's chain, as published to the witnesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheckpointRow {
    /// The position in the store's chain it signs.
    pub seq: i64,
    pub hash: Vec<u8>,
    pub at: i64,
    pub sig: Vec<u8>,
    /// Entries in all chains at the checkpoint.
    pub entries: i64,
}

type RowTuple = (
    i64,
    String,
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

const ROW_COLUMNS: &str =
    "seq, chain, pos, at, tenant_id, actor, action, subject_id, purpose, detail, hash";

fn audit_row(r: RowTuple) -> AuditRow {
    AuditRow {
        seq: r.0,
        chain: r.1,
        pos: r.2,
        entry: NewAudit {
            at: r.3,
            tenant_id: r.4,
            actor: r.5,
            action: r.6,
            subject_id: r.7,
            purpose: r.8,
            detail: r.9,
        },
        hash: r.10,
    }
}

fn head_of(
    chain: &str,
    (pos, hash, at, sig): (i64, Vec<u8>, i64, Option<Vec<u8>>),
) -> Result<AuditHead> {
    let hash: [u8; 32] = hash
        .try_into()
        .map_err(|_| StoreError::Corrupt("audit head hash"))?;
    Ok(AuditHead {
        chain: chain.to_string(),
        pos,
        hash,
        at,
        sig,
    })
}

impl Tx {
    /// Lock the heads of `chains` for the rest of this transaction, in one order
    /// (sorted) so that two writers never wait on each other in a circle. A chain
    /// without a head yet gets one (`created`); the store's chain is then locked too,
    /// since the engine records every chain's start there. Heads already locked by
    /// this transaction come from it, with the entries it appended since.
    pub async fn lock_audit_heads(&mut self, chains: &[&str]) -> Result<Vec<LockedHead>> {
        let mut wanted: Vec<&str> = chains
            .iter()
            .copied()
            .filter(|c| !self.heads.contains_key(*c))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut missing = std::collections::HashSet::new();
        if !wanted.is_empty() {
            let sql = format!(
                "SELECT chain FROM audit_heads WHERE chain IN {}",
                crate::bulk::in_list(self.backend, 1, wanted.len())
            );
            let mut q = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql));
            for c in &wanted {
                q = q.bind(*c);
            }
            let present: std::collections::HashSet<String> = q
                .fetch_all(&mut *self.inner)
                .await?
                .into_iter()
                .map(|r| r.0)
                .collect();
            missing = wanted
                .iter()
                .filter(|c| !present.contains(**c))
                .map(|c| c.to_string())
                .collect();
            if !missing.is_empty() && !self.heads.contains_key(STORE_CHAIN) {
                wanted.insert(0, STORE_CHAIN);
                wanted.dedup();
            }
        }
        let mut created = std::collections::HashSet::new();
        for chain in wanted {
            if missing.contains(chain) {
                // Another server may create it at the same moment: the loser waits
                // for the winner's commit and then finds its head.
                let made = sqlx::query(
                    "INSERT INTO audit_heads (chain, seq, hash, at, sig) VALUES ($1, 0, $2, 0, NULL)
                     ON CONFLICT (chain) DO NOTHING",
                )
                .bind(chain)
                .bind(vec![0u8; 32])
                .execute(&mut *self.inner)
                .await?
                .rows_affected();
                if made == 1 {
                    created.insert(chain);
                }
            }
            let row: (i64, Vec<u8>, i64, Option<Vec<u8>>) =
                sqlx::query_as(self.backend.audit_head_sql())
                    .bind(chain)
                    .fetch_one(&mut *self.inner)
                    .await?;
            self.heads
                .insert(chain.to_string(), (head_of(chain, row)?, false));
        }
        let mut out: Vec<LockedHead> = Vec::new();
        let mut names: Vec<&str> = chains.to_vec();
        if !created.is_empty() {
            names.push(STORE_CHAIN);
        }
        names.sort_unstable();
        names.dedup();
        for chain in names {
            let (head, _) = &self.heads[chain];
            out.push(LockedHead {
                head: head.clone(),
                created: created.contains(chain),
            });
        }
        Ok(out)
    }

    /// A chain's head: as this transaction has it if locked, else as stored (without
    /// locking it). `None` for a chain that has no head.
    pub async fn audit_head(&mut self, chain: &str) -> Result<Option<AuditHead>> {
        if let Some((head, _)) = self.heads.get(chain) {
            return Ok(Some(head.clone()));
        }
        let row: Option<(i64, Vec<u8>, i64, Option<Vec<u8>>)> =
            sqlx::query_as("SELECT seq, hash, at, sig FROM audit_heads WHERE chain = $1")
                .bind(chain)
                .fetch_optional(&mut *self.inner)
                .await?;
        row.map(|r| head_of(chain, r)).transpose()
    }

    /// Every chain's head as stored, the store's chain first (not locked).
    pub async fn audit_heads(&mut self) -> Result<Vec<AuditHead>> {
        let rows: Vec<(String, i64, Vec<u8>, i64, Option<Vec<u8>>)> =
            sqlx::query_as("SELECT chain, seq, hash, at, sig FROM audit_heads ORDER BY chain")
                .fetch_all(&mut *self.inner)
                .await?;
        rows.into_iter()
            .map(|(chain, pos, hash, at, sig)| head_of(&chain, (pos, hash, at, sig)))
            .collect()
    }

    /// The chains that hold entries, sorted (a chain whose head row was removed is
    /// still found).
    pub async fn audit_chains(&mut self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT chain FROM audit_heads UNION SELECT DISTINCT chain FROM audit ORDER BY 1",
        )
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Append entries of one chain in order; `chain(prev_hash, pos, entry)` gives each
    /// one's hash, and `sign(new_head)` the signature stored with the new head (its
    /// `sig` is `None` when passed). The head is locked first if this transaction has
    /// not locked it. Returns the new head, which is written to the head row when the
    /// transaction commits. The entries go in multi-row statements.
    pub async fn append_audit<F, S>(
        &mut self,
        chain_name: &str,
        entries: &[NewAudit],
        chain: F,
        sign: S,
    ) -> Result<AuditHead>
    where
        F: Fn(&[u8; 32], i64, &NewAudit) -> [u8; 32],
        S: FnOnce(&AuditHead) -> Vec<u8>,
    {
        if entries.iter().any(|e| e.chain() != chain_name) {
            return Err(StoreError::Corrupt(
                "an audit entry appended to another tenant's chain",
            ));
        }
        if !self.heads.contains_key(chain_name) {
            self.lock_audit_heads(&[chain_name]).await?;
        }
        let mut head = self.heads[chain_name].0.clone();
        if entries.is_empty() {
            return Ok(head);
        }
        let mut hashed = Vec::with_capacity(entries.len());
        for e in entries {
            let pos = head.pos + 1;
            let hash = chain(&head.hash, pos, e);
            hashed.push((pos, hash, e));
            head.pos = pos;
            head.hash = hash;
            head.at = e.at;
            head.sig = None;
        }
        for part in hashed.chunks(crate::bulk::rows_per_statement(self.backend, 10)) {
            let sql = crate::bulk::values_sql(
                self.backend,
                "INSERT INTO audit (chain, pos, at, tenant_id, actor, action, subject_id, purpose, detail, hash) VALUES ",
                10,
                part.len(),
            );
            // Only placeholders are formatted into the text; every value is bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (pos, hash, e) in part {
                q = q
                    .bind(chain_name)
                    .bind(*pos)
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
        self.heads
            .insert(chain_name.to_string(), (head.clone(), true));
        Ok(head)
    }

    /// Store `head` as its chain's head (with its signature), at once.
    pub async fn put_audit_head(&mut self, head: &AuditHead) -> Result<()> {
        self.write_audit_head(head).await?;
        self.heads.insert(head.chain.clone(), (head.clone(), false));
        Ok(())
    }

    pub(crate) async fn write_audit_head(&mut self, head: &AuditHead) -> Result<()> {
        sqlx::query(
            "UPDATE audit_heads SET seq = $1, hash = $2, at = $3, sig = $4 WHERE chain = $5",
        )
        .bind(head.pos)
        .bind(head.hash.to_vec())
        .bind(head.at)
        .bind(&head.sig)
        .bind(&head.chain)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The time of the entry at `pos` in `chain`, if it is there.
    pub async fn audit_entry_at(&mut self, chain: &str, pos: i64) -> Result<Option<i64>> {
        let at: Option<(i64,)> =
            sqlx::query_as("SELECT at FROM audit WHERE chain = $1 AND pos = $2")
                .bind(chain)
                .bind(pos)
                .fetch_optional(&mut *self.inner)
                .await?;
        Ok(at.map(|a| a.0))
    }

    /// Record a checkpoint (a later one of the same seq replaces it).
    pub async fn put_audit_checkpoint(&mut self, c: &AuditCheckpointRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, at, sig, entries) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (seq) DO UPDATE SET hash = excluded.hash, at = excluded.at, sig = excluded.sig,
                 entries = excluded.entries",
        )
        .bind(c.seq)
        .bind(&c.hash)
        .bind(c.at)
        .bind(&c.sig)
        .bind(c.entries)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The newest checkpoint recorded, if any.
    pub async fn latest_audit_checkpoint(&mut self) -> Result<Option<AuditCheckpointRow>> {
        let row: Option<(i64, Vec<u8>, i64, Vec<u8>, Option<i64>)> = sqlx::query_as(
            "SELECT seq, hash, at, sig, entries FROM audit_checkpoints ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|(seq, hash, at, sig, entries)| AuditCheckpointRow {
            seq,
            hash,
            at,
            sig,
            entries: entries.unwrap_or(seq),
        }))
    }

    /// Entries of all chains with `seq > after`, in the order written, at most `limit`.
    pub async fn audit_page(&mut self, after: i64, limit: i64) -> Result<Vec<AuditRow>> {
        let rows: Vec<RowTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ROW_COLUMNS} FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(audit_row).collect())
    }

    /// Entries of one chain with `pos > after`, in order, at most `limit`.
    pub async fn audit_chain_page(
        &mut self,
        chain: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditRow>> {
        let rows: Vec<RowTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ROW_COLUMNS} FROM audit WHERE chain = $1 AND pos > $2 ORDER BY pos LIMIT $3"
        )))
        .bind(chain)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(audit_row).collect())
    }

    /// The store chain's entries with one of `actions` (the starts of chains, the heads
    /// records), in order: what a check of one tenant's chain compares it with.
    pub async fn audit_store_marks(&mut self, actions: &[&str]) -> Result<Vec<AuditRow>> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM audit WHERE chain = '' AND action IN {} ORDER BY pos",
            crate::bulk::in_list(self.backend, 1, actions.len())
        );
        let mut q = sqlx::query_as::<_, RowTuple>(sqlx::AssertSqlSafe(sql));
        for a in actions {
            q = q.bind(*a);
        }
        Ok(q.fetch_all(&mut *self.inner)
            .await?
            .into_iter()
            .map(audit_row)
            .collect())
    }

    /// Entries about one subject of one tenant, newest first (for the person's own history).
    pub async fn audit_for_subject(
        &mut self,
        tenant_id: &str,
        subject_id: &str,
        limit: i64,
    ) -> Result<Vec<AuditRow>> {
        let rows: Vec<RowTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ROW_COLUMNS} FROM audit WHERE tenant_id = $1 AND subject_id = $2 ORDER BY seq DESC LIMIT $3"
        )))
        .bind(tenant_id)
        .bind(subject_id)
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(audit_row).collect())
    }
}
