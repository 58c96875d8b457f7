//! The audit chains: every change and every read of personal data.
//!
//! Each tenant's entries form a chain of their own, with its own signed head, so
//! tenants append in parallel (on PostgreSQL, several servers do). Entries with no
//! tenant form the store's chain (`""`), which also records each chain's start
//! (`audit.chain_start`) and, at every checkpoint, every chain's head
//! (`audit.heads`): a chain wiped whole, or cut back to an older signed head, is
//! still found by `vow audit verify`.
//!
//! Changes append their entries inside the transaction that makes the change.
//! Reads go through [`AuditWriter`]: concurrent reads hand their entries to one
//! task, which commits whatever has queued up in a single transaction (group
//! commit) and only then lets each read return its data. Durable, and cheap.
//!
//! A head is signed with the chains' Ed25519 key, derived from the root key, whenever
//! its chain advances: once per transaction. Before extending a chain,
//! [`Chain::append`] checks that the head it found is one this key signed; if not
//! (the head was rewritten by someone without the root key), it does not quietly sign
//! over the alteration but first appends an `audit.head_unverified` entry to that
//! chain naming the head it found, which verification reports for good.

use crate::error::{EngineError, Result};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};
use vow_crypto::{AuditKey, Canonical, chain_next, verify_signature};
use vow_store::{AuditHead, NewAudit, STORE_CHAIN, Store, Tx};

/// The action of the entry appended when the head found was not signed by the chain's key.
pub const HEAD_UNVERIFIED: &str = "audit.head_unverified";

/// The action of the store chain's entry recording that a tenant's chain began.
pub const CHAIN_START: &str = "audit.chain_start";

/// The action of the store chain's entry naming every chain's head (made by each
/// checkpoint, so that the checkpoint anchors every chain).
pub const HEADS: &str = "audit.heads";

/// The `meta` key recording that this store's head has been signed (from which entry).
const SIGNED_FROM: &str = "audit_signed_from";

/// The hash of one entry, chained to the previous one in its chain.
pub fn entry_hash(prev: &[u8; 32], pos: i64, e: &NewAudit) -> [u8; 32] {
    let bytes = Canonical::new("vow:audit:v1")
        .i64(pos)
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

/// What a head's signature covers. The store's chain keeps the text it had when it
/// was the only chain, `vow:audit:head:v1 <pos> <hash hex> <at ms>`, so heads signed
/// then still verify; a tenant's chain names itself:
/// `vow:audit:head:v2 <tenant> <pos> <hash hex> <at ms>`.
fn head_message(head: &AuditHead) -> Vec<u8> {
    let hash = hex::encode(head.hash);
    let (pos, at) = (head.pos, head.at);
    if head.chain == STORE_CHAIN {
        format!("vow:audit:head:v1 {pos} {hash} {at}").into_bytes()
    } else {
        format!("vow:audit:head:v2 {} {pos} {hash} {at}", head.chain).into_bytes()
    }
}

/// Whether a stored head carries a signature of the chain's key.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum HeadSignature {
    /// Signed by this store's key over the head as stored.
    Valid,
    /// No signature: the head was reset or rewritten outside Vow.
    Missing,
    /// A signature that does not verify: the head was rewritten without the root key.
    Invalid,
}

/// The chains' signing key, and the last head of each chain it signed in this process
/// (an append that finds exactly that head need not verify its signature again).
pub struct Chain {
    key: AuditKey,
    last: Mutex<HashMap<String, AuditHead>>,
}

impl Chain {
    pub fn new(key: AuditKey) -> Chain {
        Chain {
            key,
            last: Mutex::new(HashMap::new()),
        }
    }

    pub fn key(&self) -> &AuditKey {
        &self.key
    }

    fn sign_head(&self, head: &AuditHead) -> Vec<u8> {
        self.key.sign(&head_message(head)).to_vec()
    }

    /// Whether `head`'s signature is this key's, over the head as stored.
    pub fn head_signature(&self, head: &AuditHead) -> HeadSignature {
        match &head.sig {
            None => HeadSignature::Missing,
            Some(sig) => {
                if verify_signature(&self.key.public_key(), &head_message(head), sig) {
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
            .map(|l| l.get(&head.chain) == Some(head))
            .unwrap_or(false);
        cached || self.head_signature(head) == HeadSignature::Valid
    }

    fn remember(&self, head: AuditHead) {
        if let Ok(mut last) = self.last.lock() {
            last.insert(head.chain.clone(), head);
        }
    }

    /// Append entries (of any tenants) within a change's own transaction: each to its
    /// tenant's chain, whose heads are locked together and each signed anew.
    pub async fn append(&self, tx: &mut Tx, entries: &[NewAudit]) -> Result<()> {
        let Some(first) = entries.first() else {
            return Ok(());
        };
        let names: BTreeSet<&str> = entries.iter().map(NewAudit::chain).collect();
        let locked = tx
            .lock_audit_heads(&names.iter().copied().collect::<Vec<_>>())
            .await?;
        // What Vow adds: a marker before a chain whose head it did not sign, and in the
        // store's chain the start of each new chain (so a chain wiped whole is missed).
        let mut markers: BTreeMap<String, NewAudit> = BTreeMap::new();
        let mut starts = Vec::new();
        for l in &locked {
            let chain = &l.head.chain;
            if l.created {
                starts.push(self.note(first.at, None, CHAIN_START, json!({ "chain": chain })));
            } else if !self.trusted(&l.head) {
                let signature = self.head_signature(&l.head);
                tracing::error!(
                    chain = %chain,
                    pos = l.head.pos,
                    signature = ?signature,
                    "an audit chain's head was not signed by this store's key: it was altered outside Vow; the next entry records it (run `vow audit verify`)"
                );
                let tenant = (chain != STORE_CHAIN).then(|| chain.clone());
                let detail = json!({
                    "seq": l.head.pos,
                    "hash": hex::encode(l.head.hash),
                    "signature": signature,
                });
                markers.insert(
                    chain.clone(),
                    self.note(first.at, tenant, HEAD_UNVERIFIED, detail),
                );
            }
        }
        for l in &locked {
            let chain = l.head.chain.as_str();
            let marker = markers.remove(chain);
            let added = if chain == STORE_CHAIN {
                &starts[..]
            } else {
                &[]
            };
            let head = if names.len() == 1 && marker.is_none() && added.is_empty() {
                // The common case, one chain as it was: the entries as given.
                tx.append_audit(chain, entries, entry_hash, |h| self.sign_head(h))
                    .await?
            } else {
                let list: Vec<NewAudit> = marker
                    .into_iter()
                    .chain(entries.iter().filter(|e| e.chain() == chain).cloned())
                    .chain(added.iter().cloned())
                    .collect();
                tx.append_audit(chain, &list, entry_hash, |h| self.sign_head(h))
                    .await?
            };
            self.remember(head);
        }
        Ok(())
    }

    /// An entry Vow itself writes into a chain.
    fn note(
        &self,
        at: i64,
        tenant_id: Option<String>,
        action: &str,
        detail: serde_json::Value,
    ) -> NewAudit {
        NewAudit {
            at,
            tenant_id,
            actor: "vow".into(),
            action: action.into(),
            subject_id: None,
            purpose: None,
            detail: detail.to_string(),
        }
    }

    /// On opening a store: sign the store chain's head if it has never been signed (a
    /// new store, or one made before heads were signed), and note from which entry
    /// on. A head whose signature was removed later stays unsigned: verification
    /// reports it.
    pub(crate) async fn adopt(&self, tx: &mut Tx) -> Result<()> {
        if tx.meta(SIGNED_FROM).await?.is_some() {
            return Ok(());
        }
        let mut head = tx.lock_audit_heads(&[STORE_CHAIN]).await?.remove(0).head;
        if head.sig.is_none() {
            head.at = match head.pos {
                0 => 0,
                pos => tx.audit_entry_at(STORE_CHAIN, pos).await?.unwrap_or(0),
            };
            head.sig = Some(self.sign_head(&head));
            tx.put_audit_head(&head).await?;
            if head.pos > 0 {
                tracing::info!(
                    from = head.pos,
                    "the audit chain's head is signed from now on (a store made before signed heads)"
                );
            }
        }
        tx.put_meta(SIGNED_FROM, head.pos.to_string().as_bytes())
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
