//! The audit chain: every change and every read of personal data.
//!
//! Changes append their entry inside the transaction that makes the change.
//! Reads go through [`AuditWriter`]: concurrent reads hand their entries to one
//! task, which commits whatever has queued up in a single transaction (group
//! commit) and only then lets each read return its data. Durable, and cheap.

use crate::error::{EngineError, Result};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use vow_crypto::{Canonical, GENESIS, chain_next};
use vow_store::{NewAudit, Store, Tx};

/// The hash of one entry, chained to the previous one.
pub fn entry_hash(prev: &[u8; 32], seq: i64, e: &NewAudit) -> [u8; 32] {
    let bytes = Canonical::new("vow:audit:v1")
        .i64(seq)
        .i64(e.at)
        .opt_str(e.tenant_id.as_deref())
        .str(&e.actor)
        .str(&e.action)
        .opt_str(e.subject_id.as_deref())
        .opt_str(e.purpose.as_deref())
        .str(&e.detail)
        .finish();
    chain_next(prev, &bytes)
}

/// Append entries within a change's own transaction.
pub async fn append(tx: &mut Tx, entries: &[NewAudit]) -> Result<()> {
    tx.append_audit(entries, entry_hash).await?;
    Ok(())
}

type Job = (
    Vec<NewAudit>,
    oneshot::Sender<std::result::Result<(), String>>,
);

/// Group commit for reads. Cloning shares the same writer task.
#[derive(Clone)]
pub struct AuditWriter {
    queue: mpsc::Sender<Job>,
}

/// The most entries one commit takes; more wait for the next.
const MAX_BATCH: usize = 1024;

impl AuditWriter {
    /// Start the writer task. It ends when every clone is dropped and the queue is drained,
    /// so shutting down finishes every pending commit.
    pub fn start(store: Store) -> (AuditWriter, tokio::task::JoinHandle<()>) {
        let (queue, mut rx) = mpsc::channel::<Job>(8192);
        let task = tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                let mut count = jobs[0].0.len();
                while count < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(job) => {
                            count += job.0.len();
                            jobs.push(job);
                        }
                        Err(_) => break,
                    }
                }
                let entries: Vec<NewAudit> =
                    jobs.iter().flat_map(|j| j.0.iter().cloned()).collect();
                let outcome = commit(&store, &entries).await.map_err(|e| e.to_string());
                metrics::counter!("vow_audit_commits_total").increment(1);
                metrics::histogram!("vow_audit_batch_entries").record(entries.len() as f64);
                for (_, reply) in jobs {
                    let _ = reply.send(outcome.clone());
                }
            }
        });
        (AuditWriter { queue }, task)
    }

    /// Append and wait until the entries are durable.
    pub async fn record(&self, entries: Vec<NewAudit>) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send((entries, tx))
            .await
            .map_err(|_| EngineError::Audit("the audit writer has stopped".into()))?;
        rx.await
            .map_err(|_| EngineError::Audit("the audit writer has stopped".into()))?
            .map_err(EngineError::Audit)
    }
}

async fn commit(store: &Store, entries: &[NewAudit]) -> Result<()> {
    let mut tx = store.write().await?;
    append(&mut tx, entries).await?;
    tx.commit().await?;
    Ok(())
}

/// The outcome of recomputing the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    pub ok: bool,
    /// Entries checked.
    pub entries: i64,
    /// The first entry found altered, removed or out of order.
    pub first_bad: Option<BadEntry>,
    /// The hash of the last entry (hex): record it elsewhere to anchor the chain, so
    /// that a rewrite of the whole log is detectable too.
    pub head: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BadEntry {
    pub seq: i64,
    pub problem: String,
}

/// Recompute the whole chain from the genesis hash.
pub async fn verify(store: &Store, mut progress: impl FnMut(i64)) -> Result<VerifyReport> {
    const PAGE: i64 = 10_000;
    let mut tx = store.read().await?;
    let head = tx.audit_head().await?;
    let mut prev = GENESIS;
    let mut expected_seq = 1;
    let mut checked = 0;
    let bad = |seq: i64, problem: String, entries| VerifyReport {
        ok: false,
        entries,
        first_bad: Some(BadEntry { seq, problem }),
        head: None,
    };
    loop {
        let page = tx.audit_page(expected_seq - 1, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            if row.seq != expected_seq {
                return Ok(bad(
                    expected_seq,
                    format!(
                        "entry {expected_seq} is missing (the next entry present is {})",
                        row.seq
                    ),
                    checked,
                ));
            }
            let hash = entry_hash(&prev, row.seq, &row.entry);
            if hash.as_slice() != row.hash.as_slice() {
                return Ok(bad(
                    row.seq,
                    format!(
                        "entry {} was altered, or entries around it were reordered",
                        row.seq
                    ),
                    checked,
                ));
            }
            prev = hash;
            expected_seq += 1;
            checked += 1;
        }
        progress(checked);
    }
    if head.seq != checked || head.hash != prev {
        let seq = checked + 1;
        return Ok(bad(
            seq,
            format!(
                "the chain ends at entry {checked} but its head records {}: entries after {checked} were removed or the head was altered",
                head.seq
            ),
            checked,
        ));
    }
    Ok(VerifyReport {
        ok: true,
        entries: checked,
        first_bad: None,
        head: Some(hex::encode(prev)),
    })
}
