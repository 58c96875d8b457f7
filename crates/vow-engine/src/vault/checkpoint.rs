//! Signed checkpoints of the audit chains, for witnesses outside the store.
//!
//! A checkpoint says "at time `at`, the store's chain had `seq` entries and its head
//! hash was `hash`", signed with the chains' Ed25519 key. Its last entry is an
//! `audit.heads` record naming every tenant chain's head, so it anchors those too. Kept somewhere the database's
//! writers cannot reach (another disk, another host, a webhook receiver), it lets
//! `vow audit verify --checkpoint FILE` catch what the chain alone cannot: entries cut
//! from its end, an older copy of the database restored, the whole chain wiped.
//! Anyone with the public key can check a checkpoint; the signed text is
//! `vow:audit:checkpoint:v1 <seq> <hash hex> <at>`.

use crate::engine::{Actor, Engine, ts};
use crate::error::{EngineError, Result};
use crate::vault::audit::{Chain, HEADS};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;
use vow_core::role::Capability;
use vow_crypto::AuditKey;
use vow_store::{AuditCheckpointRow, NewAudit, STORE_CHAIN};

/// The label that starts the signed text, and the checkpoint's `format`.
pub const CHECKPOINT_FORMAT: &str = "vow:audit:checkpoint:v1";

/// A signed checkpoint: one JSON object, one line in a witness file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Always `vow:audit:checkpoint:v1`.
    pub format: String,
    /// The number of entries in the chain.
    pub seq: i64,
    /// The hash of entry `seq` (hex).
    pub hash: String,
    /// When the checkpoint was made (RFC 3339).
    pub at: String,
    /// The signing key's id: the first 8 bytes of the public key's SHA-256 (hex).
    pub key_id: String,
    /// The Ed25519 public key (hex, 32 bytes).
    pub public_key: String,
    /// Ed25519 over `vow:audit:checkpoint:v1 <seq> <hash> <at>` (hex, 64 bytes).
    pub signature: String,
}

impl Checkpoint {
    /// The exact text the signature covers.
    pub fn signed_text(&self) -> String {
        signed_text(self.seq, &self.hash, &self.at)
    }

    /// Whether the checkpoint is signed by `key` (its key and signature both).
    pub(crate) fn check(&self, key: &AuditKey) -> std::result::Result<[u8; 32], String> {
        let hash = parse_hash(&self.hash).ok_or("its hash is not 64 hex digits")?;
        if self.format != CHECKPOINT_FORMAT {
            return Err(format!("its format is not {CHECKPOINT_FORMAT}"));
        }
        if self.key_id != key.key_id() || self.public_key != hex::encode(key.public_key()) {
            return Err(format!(
                "it names key {}, not this store's key {}: it belongs to another store or root key",
                self.key_id,
                key.key_id()
            ));
        }
        let sig = hex::decode(&self.signature).unwrap_or_default();
        if !vow_crypto::verify_signature(&key.public_key(), self.signed_text().as_bytes(), &sig) {
            return Err(
                "its signature does not verify with this store's key: it was altered".into(),
            );
        }
        Ok(hash)
    }

    /// The checkpoints in a witness file: one JSON object per line (blank lines are
    /// skipped), or one JSON object spread over several lines.
    pub fn parse_file(text: &str) -> Result<Vec<Checkpoint>> {
        if let Ok(one) = serde_json::from_str::<Checkpoint>(text) {
            return Ok(vec![one]);
        }
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let c = serde_json::from_str::<Checkpoint>(line).map_err(|e| {
                EngineError::invalid(
                    format!("line {}", i + 1),
                    format!(
                        "expected a checkpoint (a JSON object with format, seq, hash, at, key_id, public_key, signature); column {}",
                        e.column()
                    ),
                )
            })?;
            out.push(c);
        }
        if out.is_empty() {
            return Err(EngineError::invalid(
                "",
                "the file holds no checkpoint (one JSON object per line)",
            ));
        }
        Ok(out)
    }
}

fn signed_text(seq: i64, hash: &str, at: &str) -> String {
    format!("{CHECKPOINT_FORMAT} {seq} {hash} {at}")
}

/// 64 hex digits as 32 bytes.
pub(crate) fn parse_hash(text: &str) -> Option<[u8; 32]> {
    hex::decode(text.trim()).ok()?.try_into().ok()
}

/// `SEQ:HASH`, as `--expect` and `?expect=` take it: the chain must hold entry SEQ
/// with that hash.
pub fn parse_expect(pointer: &str, text: &str) -> Result<(i64, [u8; 32])> {
    let usage = "expected SEQ:HASH, an entry number and its 64-digit hex hash (as `vow audit verify` prints them)";
    let (seq, hash) = text
        .split_once(':')
        .ok_or_else(|| EngineError::invalid(pointer, usage))?;
    let seq: i64 = seq
        .trim()
        .parse()
        .ok()
        .filter(|s| *s >= 0)
        .ok_or_else(|| EngineError::invalid(pointer, usage))?;
    let hash = parse_hash(hash).ok_or_else(|| EngineError::invalid(pointer, usage))?;
    Ok((seq, hash))
}

/// The chain's public key, for whoever checks checkpoints without the root key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPublicKey {
    pub algorithm: String,
    pub key_id: String,
    /// Raw Ed25519 public key, hex.
    pub public_key: String,
    /// The same key as a PEM SubjectPublicKeyInfo (for `openssl pkeyutl -verify`).
    pub pem: String,
}

impl Chain {
    fn checkpoint(&self, seq: i64, hash: &[u8; 32], at_ms: i64) -> Checkpoint {
        let at = ts(at_ms);
        let hash = hex::encode(hash);
        let signature = hex::encode(self.key().sign(signed_text(seq, &hash, &at).as_bytes()));
        Checkpoint {
            format: CHECKPOINT_FORMAT.into(),
            seq,
            hash,
            at,
            key_id: self.key().key_id(),
            public_key: hex::encode(self.key().public_key()),
            signature,
        }
    }
}

impl Engine {
    pub(crate) fn may_verify_audit(&self, actor: &Actor) -> Result<()> {
        if !actor.local && !actor.caller.role.may(Capability::VerifyAudit) {
            return Err(EngineError::Forbidden(format!(
                "a key with role {} may not verify the audit chain",
                actor.caller.role
            )));
        }
        Ok(())
    }

    /// The public key that checks the chain's head and checkpoints.
    pub fn audit_public_key(&self) -> AuditPublicKey {
        let public = self.chain.key().public_key();
        AuditPublicKey {
            algorithm: "ed25519".into(),
            key_id: self.chain.key().key_id(),
            public_key: hex::encode(public),
            pem: vow_crypto::public_key_pem(&public),
        }
    }

    /// A signed checkpoint of the chains as they are now, recorded in the store: an
    /// `audit.heads` entry naming every tenant chain's head is appended to the store's
    /// chain, and the checkpoint signs that chain's new head, so it anchors them all.
    /// Refused (`audit_unavailable`) when a stored head is not one this store's key
    /// signed: a checkpoint must never vouch for an altered chain.
    pub async fn audit_checkpoint(&self, actor: &Actor) -> Result<Checkpoint> {
        self.may_verify_audit(actor)?;
        let mut tx = self.store.write().await?;
        let heads = tx.audit_heads().await?;
        if let Some(bad) = heads.iter().find(|h| !self.chain.trusted(h)) {
            let chain = if bad.chain == STORE_CHAIN {
                "the store's audit chain".to_string()
            } else {
                format!("tenant {}'s audit chain", bad.chain)
            };
            return Err(EngineError::Audit(format!(
                "the head of {chain} is not signed by this store's key: run `vow audit verify`"
            )));
        }
        let at = self.now_ms();
        let chains: serde_json::Map<String, serde_json::Value> = heads
            .iter()
            .filter(|h| h.chain != STORE_CHAIN)
            .map(|h| {
                (
                    h.chain.clone(),
                    serde_json::json!({ "seq": h.pos, "hash": hex::encode(h.hash) }),
                )
            })
            .collect();
        let record = NewAudit {
            at,
            tenant_id: None,
            actor: actor.caller.key_id.clone(),
            action: HEADS.into(),
            subject_id: None,
            purpose: None,
            detail: serde_json::json!({ "chains": chains }).to_string(),
        };
        self.chain.append(&mut tx, &[record]).await?;
        let head = tx
            .audit_head(STORE_CHAIN)
            .await?
            .ok_or_else(|| EngineError::Internal("the store's audit chain has no head".into()))?;
        let entries = head.pos
            + heads
                .iter()
                .filter(|h| h.chain != STORE_CHAIN)
                .map(|h| h.pos)
                .sum::<i64>();
        let c = self.chain.checkpoint(head.pos, &head.hash, at);
        tx.put_audit_checkpoint(&AuditCheckpointRow {
            seq: c.seq,
            hash: head.hash.to_vec(),
            at,
            sig: hex::decode(&c.signature).unwrap_or_default(),
            entries,
        })
        .await?;
        tx.commit().await?;
        Ok(c)
    }

    /// A checkpoint if one is due: the chains have grown since the last one, by `every`
    /// entries or more, or the last one is `interval` old (or there is none yet).
    pub async fn audit_checkpoint_if_due(
        &self,
        actor: &Actor,
        every: i64,
        interval: Duration,
    ) -> Result<Option<Checkpoint>> {
        self.may_verify_audit(actor)?;
        let mut tx = self.store.read().await?;
        let entries: i64 = tx.audit_heads().await?.iter().map(|h| h.pos).sum();
        let last = tx.latest_audit_checkpoint().await?;
        drop(tx);
        let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        let due = match last {
            None => entries > 0,
            Some(l) => {
                entries > l.entries
                    && (entries - l.entries >= every.max(1)
                        || self.now_ms().saturating_sub(l.at) >= interval_ms)
            }
        };
        if !due {
            return Ok(None);
        }
        self.audit_checkpoint(actor).await.map(Some)
    }

    /// The newest checkpoint recorded, as it was published.
    pub async fn latest_audit_checkpoint(&self) -> Result<Option<Checkpoint>> {
        let mut tx = self.store.read().await?;
        let Some(row) = tx.latest_audit_checkpoint().await? else {
            return Ok(None);
        };
        let hash: [u8; 32] =
            row.hash.as_slice().try_into().map_err(|_| {
                EngineError::Internal("a stored checkpoint hash is malformed".into())
            })?;
        let at = ts(row.at);
        Ok(Some(Checkpoint {
            format: CHECKPOINT_FORMAT.into(),
            seq: row.seq,
            hash: hex::encode(hash),
            signature: hex::encode(&row.sig),
            key_id: self.chain.key().key_id(),
            public_key: hex::encode(self.chain.key().public_key()),
            at,
        }))
    }
}
