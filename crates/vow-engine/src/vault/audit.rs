//! The audit chain: every change and every read of personal data.
//!
//! Changes append their entry inside the transaction that makes the change.
//! Reads go through [`AuditWriter`]: concurrent reads hand their entries to one
//! task, which commits whatever has queued up in a single transaction (group
//! commit) and only then lets each read return its data. Durable, and cheap.
//!
//! The head (last seq, hash and time) is signed with the chain's Ed25519 key,
//! derived from the root key, whenever the chain advances: once per transaction,
//! so once per group commit of reads. Before extending the chain, [`Chain::append`]
//! checks that the head it found is one this key signed; if not (the head was
//! rewritten by someone without the root key), it does not quietly sign over the
//! alteration but first appends an `audit.head_unverified` entry naming the head it
//! found, which verification reports for good.

use crate::error::{EngineError, Result};
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};
use vow_crypto::{AuditKey, Canonical, chain_next, verify_signature};
use vow_store::{AuditHead, NewAudit, Store, Tx};

/// The action of the entry appended when the head found was not signed by the chain's key.
pub const HEAD_UNVERIFIED: &str = "audit.head_unverified";

/// The `meta` key recording that this store's head has been signed (from which entry).
const SIGNED_FROM: &str = "audit_signed_from";

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

/// What the head's signature covers: `vow:audit:head:v1 <seq> <hash hex> <at ms>`.
fn head_message(seq: i64, hash: &[u8; 32], at: i64) -> Vec<u8> {
    format!("vow:audit:head:v1 {seq} {} {at}", hex::encode(hash)).into_bytes()
}

/// Whether the stored head carries a signature of the chain's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HeadSignature {
    /// Signed by this store's key over the head as stored.
    Valid,
    /// A signature that does not verify: the head was rewritten without the root key.
    Invalid,
    /// No signature: the head was reset or rewritten outside Vow.
    Missing,
}

/// The chain's signing key, and the last head it signed in this process (an append
/// that finds exactly that head need not verify its signature again).
pub struct Chain {
    key: AuditKey,
    last: Mutex<Option<AuditHead>>,
}

impl Chain {
    pub fn new(key: AuditKey) -> Chain {
        Chain {
            key,
            last: Mutex::new(None),
        }
    }

    pub fn key(&self) -> &AuditKey {
        &self.key
    }

    fn sign_head(&self, head: &AuditHead) -> Vec<u8> {
        self.key
            .sign(&head_message(head.seq, &head.hash, head.at))
            .to_vec()
    }

    /// Whether `head`'s signature is this key's, over the head as stored.
    pub fn head_signature(&self, head: &AuditHead) -> HeadSignature {
        match &head.sig {
            None => HeadSignature::Missing,
            Some(sig) => {
                let message = head_message(head.seq, &head.hash, head.at);
                if verify_signature(&self.key.public_key(), &message, sig) {
                    HeadSignature::Valid
                } else {
                    HeadSignature::Invalid
                }
            }
        }
    }

    /// The head as stored, if it is one this key signed (from the cache or by checking).
    pub(crate) fn trusted(&self, head: &AuditHead) -> bool {
        let cached = self
            .last
            .lock()
            .map(|l| l.as_ref() == Some(head))
            .unwrap_or(false);
        cached || self.head_signature(head) == HeadSignature::Valid
    }

    /// Append entries within a change's own transaction, and sign the new head.
    pub async fn append(&self, tx: &mut Tx, entries: &[NewAudit]) -> Result<()> {
        let Some(first) = entries.first() else {
            return Ok(());
        };
        let found = tx.audit_head().await?;
        let mut marked = Vec::new();
        let entries = if self.trusted(&found) {
            entries
        } else {
            let signature = self.head_signature(&found);
            tracing::error!(
                seq = found.seq,
                signature = ?signature,
                "the audit chain's head was not signed by this store's key: it was altered outside Vow; the next entry records it (run `vow audit verify`)"
            );
            marked.push(NewAudit {
                at: first.at,
                tenant_id: None,
                actor: "vow".into(),
                action: HEAD_UNVERIFIED.into(),
                subject_id: None,
                purpose: None,
                detail: serde_json::json!({
                    "seq": found.seq,
                    "hash": hex::encode(found.hash),
                    "signature": signature,
                })
                .to_string(),
            });
            marked.extend_from_slice(entries);
            &marked[..]
        };
        let head = tx
            .append_audit(entries, entry_hash, |h| self.sign_head(h))
            .await?;
        if let Ok(mut last) = self.last.lock() {
            *last = Some(head);
        }
        Ok(())
    }

    /// On opening a store: sign its head if it has never been signed (a new store, or
    /// one made before heads were signed), and note from which entry on. A head whose
    /// signature was removed later stays unsigned: verification reports it.
    pub(crate) async fn adopt(&self, tx: &mut Tx) -> Result<()> {
        if tx.meta(SIGNED_FROM).await?.is_some() {
            return Ok(());
        }
        let mut head = tx.audit_head().await?;
        if head.sig.is_none() {
            head.at = match head.seq {
                0 => 0,
                seq => tx.audit_entry_at(seq).await?.unwrap_or(0),
            };
            head.sig = Some(self.sign_head(&head));
            tx.put_audit_head(&head).await?;
            if head.seq > 0 {
                tracing::info!(
                    from = head.seq,
                    "the audit chain's head is signed from now on (a store made before signed heads)"
                );
            }
        }
        tx.put_meta(SIGNED_FROM, head.seq.to_string().as_bytes())
            .await?;
        Ok(())
    }
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
    pub fn start(
        store: Store,
        chain: std::sync::Arc<Chain>,
    ) -> (AuditWriter, tokio::task::JoinHandle<()>) {
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
                let outcome = commit(&store, &chain, &entries)
                    .await
                    .map_err(|e| e.to_string());
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

/// One transaction for a whole batch: one head signature however many entries.
async fn commit(store: &Store, chain: &Chain, entries: &[NewAudit]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut tx = store.write().await?;
    chain.append(&mut tx, entries).await?;
    tx.commit().await?;
    Ok(())
}
