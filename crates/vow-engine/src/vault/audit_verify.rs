//! Verifying the audit chain: recompute it from the genesis hash, check that the
//! stored head matches its end and carries the chain key's signature, and compare it
//! with anchors kept outside the store (signed checkpoints, or an expected
//! `SEQ:HASH`), which is what catches a cut tail, an older copy restored and a wiped
//! chain.

use crate::engine::{Actor, Engine};
use crate::error::Result;
use crate::vault::audit::{Chain, HEAD_UNVERIFIED, HeadSignature, entry_hash};
use crate::vault::checkpoint::Checkpoint;
use serde::Serialize;
use std::collections::BTreeMap;
use vow_crypto::GENESIS;
use vow_store::Store;

/// What the chain is checked against besides itself.
#[derive(Debug, Clone, Default)]
pub struct Anchors {
    /// Signed checkpoints (from a witness file): each must verify with this store's
    /// key, and the chain must hold its entry with its hash.
    pub checkpoints: Vec<Checkpoint>,
    /// `SEQ:HASH` pairs the chain must hold, e.g. a head recorded elsewhere.
    pub expect: Vec<(i64, [u8; 32])>,
}

/// The outcome of recomputing the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    pub ok: bool,
    /// Entries checked.
    pub entries: i64,
    /// The earliest problem found: an entry altered, removed or out of order, a head
    /// that does not match or is not signed, or a disagreement with an anchor.
    pub first_bad: Option<BadEntry>,
    /// The hash of the last entry (hex), when everything verifies: record it
    /// elsewhere (or publish checkpoints) to anchor the chain.
    pub head: Option<String>,
    /// Every problem found, earliest first (at most 20).
    pub problems: Vec<BadEntry>,
    /// Whether the stored head carries this store's signature: valid, invalid or missing.
    pub head_signature: HeadSignature,
    /// The hash of the last entry that verified in order (hex; zeros for none), also
    /// when something is wrong.
    pub last_hash: String,
    /// The id of the key that signs the head and checkpoints.
    pub key_id: String,
    /// How many anchors (valid checkpoints and expected hashes) the chain was compared with.
    pub anchors_checked: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BadEntry {
    pub seq: i64,
    pub problem: String,
}

/// The most problems a report lists.
const MAX_PROBLEMS: usize = 20;

/// Recompute the whole chain from the genesis hash and check it against `anchors`.
pub(crate) async fn verify(
    store: &Store,
    chain: &Chain,
    anchors: &Anchors,
    mut progress: impl FnMut(i64),
) -> Result<VerifyReport> {
    const PAGE: i64 = 10_000;
    let mut problems = Vec::new();
    let bad = |seq: i64, problem: String| BadEntry { seq, problem };

    // The points the chain must pass through, each with what recorded it.
    let mut points: BTreeMap<i64, Vec<(String, [u8; 32])>> = BTreeMap::new();
    for c in &anchors.checkpoints {
        match c.check(chain.key()) {
            Ok(hash) => points
                .entry(c.seq)
                .or_default()
                .push((format!("the checkpoint made at {}", c.at), hash)),
            Err(why) => problems.push(bad(
                c.seq,
                format!("the checkpoint of entry {} made at {}: {why}", c.seq, c.at),
            )),
        }
    }
    for (seq, hash) in &anchors.expect {
        points
            .entry(*seq)
            .or_default()
            .push(("the expected hash".to_string(), *hash));
    }
    let anchors_checked = points.values().map(Vec::len).sum();

    let mut tx = store.read().await?;
    let head = tx.audit_head().await?;
    let mut prev = GENESIS;
    let mut last_at = 0;
    let mut checked = 0;
    let mut broken = false;
    'pages: loop {
        let page = tx.audit_page(checked, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            let expected_seq = checked + 1;
            if row.seq != expected_seq {
                problems.push(bad(
                    expected_seq,
                    format!(
                        "entry {expected_seq} is missing (the next entry present is {})",
                        row.seq
                    ),
                ));
                broken = true;
                break 'pages;
            }
            let hash = entry_hash(&prev, row.seq, &row.entry);
            if hash.as_slice() != row.hash.as_slice() {
                problems.push(bad(
                    row.seq,
                    format!(
                        "entry {} was altered, or entries around it were reordered",
                        row.seq
                    ),
                ));
                broken = true;
                break 'pages;
            }
            if row.entry.action == HEAD_UNVERIFIED {
                problems.push(bad(
                    row.seq,
                    format!(
                        "when entry {} was written, the head Vow found was not signed by this store's key: the chain before it was altered outside Vow ({})",
                        row.seq, row.entry.detail
                    ),
                ));
            }
            for (what, want) in points.get(&row.seq).into_iter().flatten() {
                if *want != hash {
                    problems.push(bad(
                        row.seq,
                        format!(
                            "entry {} is not the one {what} records: the chain was rewritten, or an older copy of the database was restored",
                            row.seq
                        ),
                    ));
                }
            }
            prev = hash;
            last_at = row.entry.at;
            checked += 1;
        }
        progress(checked);
    }
    if !broken {
        // An anchor beyond the end: the chain lost entries it once had.
        if let Some((seq, list)) = points.range(checked + 1..).next() {
            let what = list.first().map_or("an anchor", |(w, _)| w.as_str());
            let problem = if checked == 0 {
                format!("the chain is empty, but {what} records {seq} entries: the chain was wiped")
            } else {
                format!(
                    "the chain ends at entry {checked}, but {what} records entry {seq}: entries were removed from its end, or an older copy of the database was restored"
                )
            };
            problems.push(bad(checked + 1, problem));
        }
        if head.seq != checked {
            problems.push(bad(
                checked + 1,
                format!(
                    "the chain ends at entry {checked} but its head records {}: entries after {checked} were removed or the head was altered",
                    head.seq
                ),
            ));
        } else if head.hash != prev || head.at != last_at {
            problems.push(bad(
                checked,
                format!("the head does not match entry {checked}: the head was altered"),
            ));
        }
    }
    let head_signature = chain.head_signature(&head);
    match head_signature {
        HeadSignature::Valid => {}
        HeadSignature::Invalid => problems.push(bad(
            head.seq,
            format!(
                "the head (entry {}) has a signature that does not verify with this store's key: it was rewritten without the root key",
                head.seq
            ),
        )),
        HeadSignature::Missing => problems.push(bad(
            head.seq,
            format!(
                "the head (entry {}) carries no signature: it was reset or rewritten outside Vow",
                head.seq
            ),
        )),
    }
    problems.sort_by_key(|p| p.seq);
    problems.truncate(MAX_PROBLEMS);
    let ok = problems.is_empty();
    let last_hash = hex::encode(prev);
    Ok(VerifyReport {
        ok,
        entries: checked,
        first_bad: problems.first().cloned(),
        head: ok.then(|| last_hash.clone()),
        problems,
        head_signature,
        last_hash,
        key_id: chain.key().key_id(),
        anchors_checked,
    })
}

impl Engine {
    /// Recompute the audit chain, and check it against `anchors` (checkpoints kept by a
    /// witness, expected hashes).
    pub async fn verify_audit(
        &self,
        actor: &Actor,
        anchors: &Anchors,
        progress: impl FnMut(i64),
    ) -> Result<VerifyReport> {
        self.may_verify_audit(actor)?;
        verify(&self.store, &self.chain, anchors, progress).await
    }
}
