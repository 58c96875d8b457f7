//! Verifying the audit chains: recompute each from the genesis hash, check that its
//! stored head matches its end and carries the chain key's signature, that every
//! tenant's chain began once (as the store's chain records) and still passes through
//! the heads its checkpoints recorded, and compare the store's chain with anchors kept
//! outside the store (signed checkpoints, or an expected `SEQ:HASH`), which is what
//! catches a cut tail, an older copy restored and a wiped chain.

use crate::engine::{Actor, Engine};
use crate::error::{EngineError, Result};
use crate::vault::audit::{CHAIN_START, Chain, HEAD_UNVERIFIED, HEADS, HeadSignature, entry_hash};
use crate::vault::checkpoint::{Checkpoint, parse_hash};
use serde::Serialize;
use std::collections::BTreeMap;
use vow_crypto::GENESIS;
use vow_store::{AuditHead, AuditRow, STORE_CHAIN, Store, Tx};

/// What the chain is checked against besides itself.
#[derive(Debug, Clone, Default)]
pub struct Anchors {
    /// Signed checkpoints (from a witness file): each must verify with this store's
    /// key, and the chain must hold its entry with its hash.
    pub checkpoints: Vec<Checkpoint>,
    /// `SEQ:HASH` pairs the chain must hold, e.g. a head recorded elsewhere.
    pub expect: Vec<(i64, [u8; 32])>,
}

/// The outcome of recomputing the chains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    pub ok: bool,
    /// Entries checked, in all the chains checked.
    pub entries: i64,
    /// Chains checked: every tenant's and the store's, or the one tenant's asked for.
    pub chains: usize,
    /// The tenant whose chain alone was checked, if one was asked for.
    pub tenant: Option<String>,
    /// The earliest problem found: an entry altered, removed or out of order, a head
    /// that does not match or is not signed, a chain wiped or begun again, or a
    /// disagreement with an anchor.
    pub first_bad: Option<BadEntry>,
    /// When everything verifies, the hash of the last entry (hex) of the store's chain
    /// (of the tenant's, with `tenant`): record it elsewhere, or better publish
    /// checkpoints, which name every chain's head, to anchor the chains.
    pub head: Option<String>,
    /// Every problem found, the store's chain first, then by tenant and entry (at most 20).
    pub problems: Vec<BadEntry>,
    /// Whether the heads checked carry this store's signature: valid, or the worst found.
    pub head_signature: HeadSignature,
    /// The hash of the last entry that verified in order (hex; zeros for none) in the
    /// store's chain (the tenant's, with `tenant`), also when something is wrong.
    pub last_hash: String,
    /// That entry's position: with `last_hash`, the `SEQ:HASH` to give `expect` later.
    pub head_seq: i64,
    /// The id of the key that signs the heads and checkpoints.
    pub key_id: String,
    /// How many anchors (valid checkpoints and expected hashes) the chain was compared with.
    pub anchors_checked: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BadEntry {
    /// The chain: a tenant's id, or empty for the store's chain.
    pub chain: String,
    /// The entry's position in that chain.
    pub seq: i64,
    pub problem: String,
}

/// The most problems a report lists.
const MAX_PROBLEMS: usize = 20;

/// Where entries must be: position → (what recorded it, the hash).
type Points = BTreeMap<i64, Vec<(String, [u8; 32])>>;

/// "the store's chain" or "tenant T's chain", for messages.
fn label(chain: &str) -> String {
    if chain == STORE_CHAIN {
        "the store's chain".into()
    } else {
        format!("tenant {chain}'s chain")
    }
}

/// What the chains checked so far found, and how many entries they held.
#[derive(Default)]
struct Tally {
    problems: Vec<BadEntry>,
    done: i64,
}

/// One chain recomputed.
struct Checked {
    /// Entries that verified in order (the position of the last of them).
    entries: i64,
    last_hash: [u8; 32],
    /// Whether the chain held together to its end (its rows, not its head).
    whole: bool,
    /// Its entries recording chains' starts and heads (the store's chain only).
    marks: Vec<AuditRow>,
}

/// Recompute one chain from the genesis hash against its head and `points`.
async fn check_chain(
    tx: &mut Tx,
    chain: &Chain,
    name: &str,
    head: Option<&AuditHead>,
    points: &Points,
    tally: &mut Tally,
    progress: &mut impl FnMut(i64),
) -> Result<Checked> {
    let Tally { problems, done } = tally;
    const PAGE: i64 = 10_000;
    let of = label(name);
    let mut bad = |seq: i64, problem: String| {
        problems.push(BadEntry {
            chain: name.to_string(),
            seq,
            problem,
        })
    };
    let mut prev = GENESIS;
    let mut last_at = 0;
    let mut checked = 0;
    let mut whole = true;
    let mut marks = Vec::new();
    'pages: loop {
        let page = tx.audit_chain_page(name, checked, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for row in page {
            let expected = checked + 1;
            if row.pos != expected {
                bad(
                    expected,
                    format!(
                        "entry {expected} of {of} is missing (the next entry present is {})",
                        row.pos
                    ),
                );
                whole = false;
                break 'pages;
            }
            let hash = entry_hash(&prev, row.pos, &row.entry);
            if hash.as_slice() != row.hash.as_slice() {
                bad(
                    row.pos,
                    format!(
                        "entry {} of {of} was altered, or entries around it were reordered",
                        row.pos
                    ),
                );
                whole = false;
                break 'pages;
            }
            if name != STORE_CHAIN && row.entry.chain() != name {
                bad(
                    row.pos,
                    format!(
                        "entry {} of {of} belongs to another chain: it was moved",
                        row.pos
                    ),
                );
                whole = false;
                break 'pages;
            }
            if row.entry.action == HEAD_UNVERIFIED {
                bad(
                    row.pos,
                    format!(
                        "when entry {} of {of} was written, the head Vow found was not signed by this store's key: the chain before it was altered outside Vow ({})",
                        row.pos, row.entry.detail
                    ),
                );
            }
            for (what, want) in points.get(&row.pos).into_iter().flatten() {
                if *want != hash {
                    bad(
                        row.pos,
                        format!(
                            "entry {} of {of} is not the one {what} records: the chain was rewritten, or an older copy of the database was restored",
                            row.pos
                        ),
                    );
                }
            }
            prev = hash;
            last_at = row.entry.at;
            checked += 1;
            *done += 1;
            if name == STORE_CHAIN && (row.entry.action == CHAIN_START || row.entry.action == HEADS)
            {
                marks.push(row);
            }
        }
        progress(*done);
    }
    if whole {
        // An anchor beyond the end: the chain lost entries it once had.
        if let Some((seq, list)) = points.range(checked + 1..).next() {
            let what = list.first().map_or("an anchor", |(w, _)| w.as_str());
            let problem = if checked == 0 {
                format!("{of} is empty, but {what} records {seq} entries: the chain was wiped")
            } else {
                format!(
                    "{of} ends at entry {checked}, but {what} records entry {seq}: entries were removed from its end, or an older copy of the database was restored"
                )
            };
            bad(checked + 1, problem);
        }
        match head {
            None if checked > 0 => bad(
                checked,
                format!("{of} has {checked} entries but no head: its head was removed"),
            ),
            None => {}
            Some(head) if head.pos != checked => bad(
                checked + 1,
                format!(
                    "{of} ends at entry {checked} but its head records {}: entries after {checked} were removed or the head was altered",
                    head.pos
                ),
            ),
            Some(head) if head.hash != prev || head.at != last_at => bad(
                checked,
                format!("the head of {of} does not match entry {checked}: the head was altered"),
            ),
            Some(_) => {}
        }
    }
    if let Some(head) = head {
        match chain.head_signature(head) {
            HeadSignature::Valid => {}
            HeadSignature::Invalid => bad(
                head.pos,
                format!(
                    "the head of {of} (entry {}) has a signature that does not verify with this store's key: it was rewritten without the root key",
                    head.pos
                ),
            ),
            HeadSignature::Missing => bad(
                head.pos,
                format!(
                    "the head of {of} (entry {}) carries no signature: it was reset or rewritten outside Vow",
                    head.pos
                ),
            ),
        }
    }
    Ok(Checked {
        entries: checked,
        last_hash: prev,
        whole,
        marks,
    })
}

/// What the store chain's marks say of the tenants' chains: how often each was
/// started (and where first), and the points its heads records fix.
#[derive(Default)]
struct Marks {
    starts: BTreeMap<String, Vec<i64>>,
    points: BTreeMap<String, Points>,
}

fn read_marks(rows: &[AuditRow]) -> Marks {
    let mut m = Marks::default();
    for row in rows {
        let Ok(detail) = serde_json::from_str::<serde_json::Value>(&row.entry.detail) else {
            continue;
        };
        if row.entry.action == CHAIN_START {
            if let Some(c) = detail["chain"].as_str() {
                m.starts.entry(c.to_string()).or_default().push(row.pos);
            }
        } else if let Some(chains) = detail["chains"].as_object() {
            for (c, h) in chains {
                let (Some(seq), Some(hash)) =
                    (h["seq"].as_i64(), h["hash"].as_str().and_then(parse_hash))
                else {
                    continue;
                };
                m.points
                    .entry(c.clone())
                    .or_default()
                    .entry(seq)
                    .or_default()
                    .push((
                        format!("the heads record at entry {} of the store's chain", row.pos),
                        hash,
                    ));
            }
        }
    }
    m
}

/// Recompute every chain (or `tenant`'s alone) from the genesis hash and check them
/// against each other and against `anchors`.
pub(crate) async fn verify(
    store: &Store,
    chain: &Chain,
    tenant: Option<&str>,
    anchors: &Anchors,
    mut progress: impl FnMut(i64),
) -> Result<VerifyReport> {
    let mut problems = Vec::new();
    let scope = tenant.unwrap_or(STORE_CHAIN);
    if tenant.is_some() && !anchors.checkpoints.is_empty() {
        return Err(EngineError::invalid(
            "/checkpoint",
            "checkpoints anchor the store's chain, which names every tenant's head: verify the whole store against them (without a tenant)",
        ));
    }

    // The points the verified chain must pass through, each with what recorded it.
    let mut anchor_points: Points = BTreeMap::new();
    for c in &anchors.checkpoints {
        match c.check(chain.key()) {
            Ok(hash) => anchor_points
                .entry(c.seq)
                .or_default()
                .push((format!("the checkpoint made at {}", c.at), hash)),
            Err(why) => problems.push(BadEntry {
                chain: STORE_CHAIN.into(),
                seq: c.seq,
                problem: format!("the checkpoint of entry {} made at {}: {why}", c.seq, c.at),
            }),
        }
    }
    for (seq, hash) in &anchors.expect {
        anchor_points
            .entry(*seq)
            .or_default()
            .push(("the expected hash".to_string(), *hash));
    }
    let anchors_checked = anchor_points.values().map(Vec::len).sum();

    let mut tx = store.read().await?;
    let heads: BTreeMap<String, AuditHead> = tx
        .audit_heads()
        .await?
        .into_iter()
        .map(|h| (h.chain.clone(), h))
        .collect();
    let names: Vec<String> = match tenant {
        Some(t) => vec![t.to_string()],
        None => tx.audit_chains().await?,
    };
    let mut tally = Tally { problems, done: 0 };
    let mut signature = HeadSignature::Valid;
    let mut marks = Marks::default();
    let mut store_whole = tenant.is_none();
    let mut scope_hash = GENESIS;
    let mut scope_pos = 0;
    if let Some(t) = tenant {
        // The store's chain is not recomputed here: its records of this chain are read
        // as they stand (the whole-store check is what vouches for them).
        marks = read_marks(&tx.audit_store_marks(&[CHAIN_START, HEADS]).await?);
        if tx.tenant(t).await?.is_none() {
            return Err(EngineError::NotFound("tenant"));
        }
    }
    for name in &names {
        let head = heads.get(name);
        let points = if name == STORE_CHAIN {
            std::mem::take(&mut anchor_points)
        } else if Some(name.as_str()) == tenant {
            let mut p = marks.points.remove(name).unwrap_or_default();
            for (seq, list) in std::mem::take(&mut anchor_points) {
                p.entry(seq).or_default().extend(list);
            }
            p
        } else {
            marks.points.remove(name).unwrap_or_default()
        };
        let checked = check_chain(
            &mut tx,
            chain,
            name,
            head,
            &points,
            &mut tally,
            &mut progress,
        )
        .await?;
        if let Some(h) = head {
            signature = signature.max(chain.head_signature(h));
        }
        if name == STORE_CHAIN {
            store_whole = checked.whole;
            marks = read_marks(&checked.marks);
        }
        if name == scope {
            scope_hash = checked.last_hash;
            scope_pos = checked.entries;
        }
    }
    let Tally { mut problems, done } = tally;
    // Each tenant's chain begins once, with a record in the store's chain, and is
    // there for as long as the store is (judged only when that record is whole).
    if store_whole || tenant.is_some() {
        let present: Vec<&String> = names.iter().filter(|n| n.as_str() != STORE_CHAIN).collect();
        for name in &present {
            let of = label(name);
            match marks.starts.get(*name).map(Vec::len).unwrap_or(0) {
                1 => {}
                0 => problems.push(BadEntry {
                    chain: (*name).clone(),
                    seq: 1,
                    problem: format!(
                        "{of} has no start recorded in the store's chain: it was made outside Vow, or the record was removed"
                    ),
                }),
                n => problems.push(BadEntry {
                    chain: (*name).clone(),
                    seq: 1,
                    problem: format!(
                        "{of} was started {n} times: it was wiped and begun again"
                    ),
                }),
            }
        }
        for (name, at) in &marks.starts {
            if tenant.is_none_or(|t| t == name) && !present.contains(&name) {
                problems.push(BadEntry {
                    chain: name.clone(),
                    seq: 1,
                    problem: format!(
                        "{}, started at entry {} of the store's chain, is gone: it was wiped",
                        label(name),
                        at[0]
                    ),
                });
            }
        }
    }
    problems.sort_by(|a, b| (a.chain.as_str(), a.seq).cmp(&(b.chain.as_str(), b.seq)));
    problems.truncate(MAX_PROBLEMS);
    let ok = problems.is_empty();
    let last_hash = hex::encode(scope_hash);
    Ok(VerifyReport {
        ok,
        entries: done,
        chains: names.len(),
        tenant: tenant.map(str::to_string),
        first_bad: problems.first().cloned(),
        head: ok.then(|| last_hash.clone()),
        problems,
        head_signature: signature,
        last_hash,
        head_seq: scope_pos,
        key_id: chain.key().key_id(),
        anchors_checked,
    })
}

impl Engine {
    /// Recompute the audit chains (every tenant's and the store's, or `tenant`'s alone),
    /// and check them against `anchors` (checkpoints kept by a witness, expected
    /// hashes). A key of one tenant checks its own tenant's chain only.
    pub async fn verify_audit(
        &self,
        actor: &Actor,
        tenant: Option<&str>,
        anchors: &Anchors,
        progress: impl FnMut(i64),
    ) -> Result<VerifyReport> {
        self.may_verify_audit(actor)?;
        let tenant = match (&actor.tenant, actor.local) {
            (Some(own), false) => {
                if let Some(t) = tenant {
                    self.scope(actor, t)?;
                }
                Some(own.as_str())
            }
            _ => tenant,
        };
        verify(&self.store, &self.chain, tenant, anchors, progress).await
    }
}
