//! Retention (R6): destroy what the policy's retention rules say is due.
//!
//! Which field is due, and under which rule, is decided by the pure
//! `vow_core::retention::assess`; this module gathers the facts (metadata only: a
//! sweep never opens a value), respects legal holds, destroys in batches (one
//! transaction each, so a crash leaves the store consistent and a rerun continues),
//! crypto-shreds a person when everything they hold is due (the same code as an
//! erasure request) and records each run with counts per rule and no identifiers.

use crate::engine::parse_time;
use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::policy::{RetentionClock, RetentionRule};
use vow_core::retention::{FieldFacts, SubjectClocks, assess};
use vow_core::role::Capability;
use vow_core::{Category, ConsentState, PurposeId};
use vow_store::{FieldMetaRow, RetentionRunRow, Tx};

/// People per batch: each batch is one transaction.
const BATCH: i64 = 500;

/// Identifiers whose value is also a field of this category: when retention destroys
/// the last such field of a person who is kept, the identifier and its blind index go too.
const IDENTIFIER_CATEGORIES: [(&str, &str); 2] = [
    ("email", "user.contact.email"),
    ("phone", "user.contact.phone_number"),
];

use crate::engine::{at, ts};

/// One rule of the policy and what a run did under it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuleCounts {
    /// Position in the policy's `retention` list (0-based).
    pub rule: usize,
    pub category: Option<String>,
    pub purpose: Option<String>,
    /// e.g. `2y`.
    pub keep: String,
    /// collected, last_activity, consent_withdrawn or relationship_end.
    pub from: String,
    /// Fields destroyed (or, in a dry run, that would be), current versions only.
    pub fields_destroyed: i64,
    /// People crypto-shredded because everything they held was due; counted under the
    /// rule that kept their data longest.
    pub subjects_shredded: i64,
    /// Due fields kept because a legal hold covers them.
    pub held: i64,
}

/// The record of one run: counts only, never an identifier.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionRunView {
    pub id: String,
    pub tenant: String,
    pub started_at: String,
    /// None if the run stopped part way (a rerun continues where it left off).
    pub finished_at: Option<String>,
    pub dry_run: bool,
    pub policy_version: i64,
    pub fields_destroyed: i64,
    pub subjects_shredded: i64,
    pub held: i64,
    pub rules: Vec<RuleCounts>,
}

/// In a dry run: one person with something due. Pseudonymous id and categories only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DueSubject {
    pub subject: String,
    /// Categories of the fields that would be destroyed.
    pub categories: Vec<String>,
    /// Categories due but kept by a legal hold.
    pub held: Vec<String>,
    /// Everything the person holds is due: their key would be destroyed.
    pub shred: bool,
}

/// What a run did, or (dry run) would do.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionReport {
    pub run: RetentionRunView,
    /// Dry runs only: who has something due and which categories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<Vec<DueSubject>>,
}

/// `{"at": …}`: when the relationship ended (default now); `{"at": null, "clear": true}` undoes it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationshipEnd {
    /// When the relationship ended (RFC 3339). Default: now. Never in the future.
    #[serde(default)]
    pub at: Option<String>,
    /// Undo a recorded end (the person came back).
    #[serde(default)]
    pub clear: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RelationshipView {
    pub subject: String,
    pub relationship_ended_at: Option<String>,
}

fn clock_name(c: RetentionClock) -> &'static str {
    match c {
        RetentionClock::Collected => "collected",
        RetentionClock::LastActivity => "last_activity",
        RetentionClock::ConsentWithdrawn => "consent_withdrawn",
        RetentionClock::RelationshipEnd => "relationship_end",
    }
}

fn rule_counts(rules: &[RetentionRule]) -> Vec<RuleCounts> {
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| RuleCounts {
            rule: i,
            category: r.category.as_ref().map(|c| c.as_str().to_string()),
            purpose: r.purpose.as_ref().map(|p| p.as_str().to_string()),
            keep: r.keep.to_string(),
            from: clock_name(r.from).to_string(),
            fields_destroyed: 0,
            subjects_shredded: 0,
            held: 0,
        })
        .collect()
}

fn run_view(r: &RetentionRunRow) -> RetentionRunView {
    RetentionRunView {
        id: r.id.clone(),
        tenant: r.tenant_id.clone(),
        started_at: ts(r.started_at),
        finished_at: r.finished_at.map(ts),
        dry_run: r.dry_run,
        policy_version: r.policy_version,
        fields_destroyed: r.fields_destroyed,
        subjects_shredded: r.subjects_shredded,
        held: r.held,
        rules: serde_json::from_str(&r.rules).unwrap_or_default(),
    }
}

/// The run's running totals, kept in the run row after every batch.
struct Tally {
    row: RetentionRunRow,
    rules: Vec<RuleCounts>,
    /// Fields of erased people destroyed because the legal hold that kept them ended.
    released: i64,
}

impl Tally {
    fn sync(&mut self) {
        self.row.fields_destroyed =
            self.rules.iter().map(|r| r.fields_destroyed).sum::<i64>() + self.released;
        self.row.subjects_shredded = self.rules.iter().map(|r| r.subjects_shredded).sum();
        self.row.held = self.rules.iter().map(|r| r.held).sum();
        self.row.rules = serde_json::to_string(&self.rules).unwrap_or_else(|_| "[]".into());
    }
}

/// What is due for one person.
struct Plan {
    subject: String,
    /// (current field, deciding rule) to destroy.
    destroy: Vec<(usize, usize)>,
    /// Deciding rules of due fields a hold keeps, with their categories.
    held: Vec<(usize, String)>,
    /// Everything due and nothing held: shred, counted under this rule.
    shred: Option<usize>,
}

/// Decide, for one person, which current fields are due (pure, given the facts).
fn plan_subject(
    rules: &[RetentionRule],
    subject: &str,
    current: &[&FieldMetaRow],
    clocks: &SubjectClocks,
    held: &[Category],
    now: Timestamp,
) -> Result<Plan> {
    let mut plan = Plan {
        subject: subject.to_string(),
        destroy: Vec::new(),
        held: Vec::new(),
        shred: None,
    };
    let mut all_go = !current.is_empty();
    let mut latest: Option<(Timestamp, usize)> = None;
    for (i, f) in current.iter().enumerate() {
        let cat = crate::stored::category("field category", &f.category)?;
        let purposes: Vec<PurposeId> = crate::stored::purposes("field purposes", &f.purposes)?;
        let facts = FieldFacts {
            category: &cat,
            purposes: &purposes,
            collected_at: at(f.collected_at),
        };
        match assess(rules, &facts, clocks, now) {
            Some(a) if a.due => {
                if held.iter().any(|h| cat.is_within(h)) {
                    plan.held.push((a.rule, f.category.clone()));
                    all_go = false;
                } else {
                    plan.destroy.push((i, a.rule));
                    let d = a.due_at.unwrap_or(now);
                    if latest.is_none_or(|(l, _)| d > l) {
                        latest = Some((d, a.rule));
                    }
                }
            }
            _ => all_go = false,
        }
    }
    if all_go {
        plan.shred = latest.map(|(_, r)| r);
    }
    Ok(plan)
}

impl Engine {
    /// Run retention for `tenant`: destroy every field that is due under the policy in
    /// force (a dry run only lists them), shred people whose data is all due, keep what
    /// legal holds cover. Recorded as a run; one audit entry per run.
    pub async fn retention_run(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        dry_run: bool,
    ) -> Result<RetentionReport> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRetention, tenant)?;
        let now_ms = self.now_ms();
        let (policy, version) = {
            let mut tx = self.store.read().await?;
            if tx.tenant(tenant).await?.is_none() {
                return Err(EngineError::NotFound("tenant"));
            }
            self.policy_for(&mut tx, tenant).await?
        };
        let rules = policy.retention.clone();
        let mut tally = Tally {
            row: RetentionRunRow {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: tenant.to_string(),
                started_at: now_ms,
                finished_at: None,
                dry_run,
                actor: actor.id().to_string(),
                policy_version: version,
                fields_destroyed: 0,
                subjects_shredded: 0,
                held: 0,
                rules: String::new(),
            },
            rules: rule_counts(&rules),
            released: 0,
        };
        tally.sync();
        if !dry_run {
            // The run is on record before anything is destroyed; each batch updates it.
            let mut tx = self.store.write().await?;
            tx.insert_retention_run(&tally.row).await?;
            tx.commit().await?;
        }
        let mut due = dry_run.then(Vec::new);
        let needs_reads = rules.iter().any(|r| r.from == RetentionClock::LastActivity);
        let mut after = String::new();
        if !rules.is_empty() {
            loop {
                let mut tx = if dry_run {
                    self.store.read().await?
                } else {
                    self.store.write().await?
                };
                let Some(last) = self
                    .retention_batch(
                        &mut tx,
                        actor,
                        tenant,
                        &rules,
                        &after,
                        needs_reads,
                        &mut tally,
                        due.as_mut(),
                    )
                    .await?
                else {
                    break;
                };
                if !dry_run {
                    tally.sync();
                    tx.update_retention_run(&tally.row).await?;
                    tx.commit().await?;
                }
                after = last;
            }
        }
        // What legal holds kept of erased people goes when the holds end.
        let released = if dry_run {
            0
        } else {
            let mut tx = self.store.write().await?;
            let n = self.release_expired_holds(&mut tx, actor, tenant).await?;
            tx.commit().await?;
            n
        };
        tally.released = released;
        tally.row.finished_at = Some(self.now_ms());
        tally.sync();
        let mut tx = self.store.write().await?;
        if dry_run {
            tx.insert_retention_run(&tally.row).await?;
        } else {
            tx.update_retention_run(&tally.row).await?;
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            if dry_run {
                "retention.dry_run"
            } else {
                "retention.run"
            },
            None,
            None,
            json!({"run": tally.row.id, "policy_version": version,
                   "fields_destroyed": tally.row.fields_destroyed,
                   "subjects_shredded": tally.row.subjects_shredded, "held": tally.row.held,
                   "released_from_holds": released}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        if !dry_run && tally.row.subjects_shredded > 0 {
            self.note_erasures_since(tally.row.started_at).await;
            // Push the destroyed keys out of SQLite's WAL, as an erasure does.
            self.store.checkpoint().await?;
        }
        if !dry_run {
            metrics::counter!("vow_retention_fields_destroyed_total")
                .increment(u64::try_from(tally.row.fields_destroyed).unwrap_or(0));
        }
        Ok(RetentionReport {
            run: run_view(&tally.row),
            due,
        })
    }

    /// Erased people keep only what a live legal hold names (S7). Once a hold ends, the
    /// fields it kept are deleted; once none is left, so is the key they were sealed
    /// under. Returns the number of fields destroyed.
    async fn release_expired_holds(&self, tx: &mut Tx, actor: &Actor, tenant: &str) -> Result<i64> {
        let now = self.now_ms();
        let mut destroyed = 0;
        for subject in tx.erased_with_fields(tenant).await? {
            let mut held: Vec<vow_core::Category> = Vec::new();
            for h in tx.holds(tenant, &subject).await? {
                if h.until > now {
                    held.extend(crate::stored::categories("hold categories", &h.categories)?);
                }
            }
            let mut gone = 0;
            if held.is_empty() {
                gone = tx.all_fields(tenant, &subject).await?.len() as i64;
                tx.erase_subject(tenant, &subject, now).await?;
            } else {
                for f in tx.all_fields(tenant, &subject).await? {
                    let c = crate::stored::category("field category", &f.category)?;
                    let kept = held.iter().any(|h| c.is_within(h));
                    if !kept {
                        tx.delete_field(tenant, &f.id).await?;
                        gone += 1;
                    }
                }
            }
            if gone > 0 {
                let entry = self.audit_entry(
                    actor,
                    Some(tenant),
                    "retention.hold_ended",
                    Some(&subject),
                    None,
                    json!({"fields_destroyed": gone, "key_destroyed": held.is_empty()}),
                );
                self.chain.append(tx, &[entry]).await?;
                destroyed += gone;
            }
        }
        Ok(destroyed)
    }

    /// One batch of people after `after`; returns the last id seen, or None when done.
    #[allow(clippy::too_many_arguments)]
    async fn retention_batch(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        tenant: &str,
        rules: &[RetentionRule],
        after: &str,
        needs_reads: bool,
        tally: &mut Tally,
        mut due: Option<&mut Vec<DueSubject>>,
    ) -> Result<Option<String>> {
        let dry_run = due.is_some();
        let now = self.now();
        let subjects = tx
            .retention_subjects(tenant, after, BATCH, !dry_run)
            .await?;
        let Some(last) = subjects.last().map(|s| s.id.clone()) else {
            return Ok(None);
        };
        let fields = tx.field_meta_between(tenant, after, &last).await?;
        let ledger = tx.ledger_between(tenant, after, &last).await?;
        let reads: HashMap<String, i64> = if needs_reads {
            tx.last_reads_between(tenant, after, &last)
                .await?
                .into_iter()
                .collect()
        } else {
            HashMap::new()
        };
        let mut holds: HashMap<String, Vec<Category>> = HashMap::new();
        for h in tx.live_holds(tenant, now.as_millisecond()).await? {
            let cats = crate::stored::categories("hold categories", &h.categories)?;
            holds.entry(h.subject_id).or_default().extend(cats);
        }
        let mut by_subject: HashMap<&str, Vec<&FieldMetaRow>> = HashMap::new();
        for f in &fields {
            by_subject.entry(f.subject_id.as_str()).or_default().push(f);
        }
        let mut ledgers: HashMap<String, Vec<vow_store::ConsentRow>> = HashMap::new();
        for l in ledger {
            ledgers.entry(l.subject_id.clone()).or_default().push(l);
        }
        let keys = if dry_run {
            None
        } else {
            Some(self.keys.tenant(tx, tenant).await?)
        };
        let mut shred: Vec<&str> = Vec::new();
        for s in &subjects {
            let versions = by_subject.remove(s.id.as_str()).unwrap_or_default();
            let current: Vec<&FieldMetaRow> = versions
                .iter()
                .copied()
                .filter(|f| f.superseded_at.is_none())
                .collect();
            if current.is_empty() {
                continue;
            }
            let own_ledger = ledgers.remove(&s.id).unwrap_or_default();
            let events = Self::events(&own_ledger)?;
            let consent_ended: BTreeMap<PurposeId, Option<Timestamp>> =
                ConsentState::all(&events, now)
                    .into_iter()
                    .map(|(p, st)| {
                        let ended = match st {
                            ConsentState::Withdrawn { at } | ConsentState::Expired { at } => {
                                Some(at)
                            }
                            ConsentState::Granted { .. } | ConsentState::None => None,
                        };
                        (p, ended)
                    })
                    .collect();
            let last_activity = versions
                .iter()
                .map(|f| f.collected_at)
                .chain(own_ledger.iter().map(|l| l.at))
                .chain(reads.get(&s.id).copied())
                .max()
                .map(at);
            let clocks = SubjectClocks {
                last_activity,
                relationship_end: s.relationship_ended_at.map(at),
                consent_ended,
            };
            let held = holds.get(&s.id).map(Vec::as_slice).unwrap_or(&[]);
            let plan = plan_subject(rules, &s.id, &current, &clocks, held, now)?;
            if plan.destroy.is_empty() && plan.held.is_empty() {
                continue;
            }
            for (_, rule) in &plan.destroy {
                tally.rules[*rule].fields_destroyed += 1;
            }
            for (rule, _) in &plan.held {
                tally.rules[*rule].held += 1;
            }
            if let Some(rule) = plan.shred {
                tally.rules[rule].subjects_shredded += 1;
            }
            if let Some(list) = due.as_deref_mut() {
                let cats: BTreeSet<String> = plan
                    .destroy
                    .iter()
                    .map(|(i, _)| current[*i].category.clone())
                    .collect();
                let held: BTreeSet<String> = plan.held.iter().map(|(_, c)| c.clone()).collect();
                list.push(DueSubject {
                    subject: plan.subject.clone(),
                    categories: cats.into_iter().collect(),
                    held: held.into_iter().collect(),
                    shred: plan.shred.is_some(),
                });
                continue;
            }
            let Some(keys) = keys.as_ref() else {
                continue;
            };
            // Those under no hold are shredded together after the loop.
            if plan.shred.is_some() && held.is_empty() {
                shred.push(s.id.as_str());
                continue;
            }
            if plan.shred.is_some() {
                self.shred_in(
                    tx,
                    actor,
                    keys,
                    tenant,
                    &s.id,
                    ("retention_run", &tally.row.id),
                )
                .await?;
                continue;
            }
            self.destroy_fields(tx, tenant, &s.id, &versions, &current, &plan)
                .await?;
        }
        if let Some(keys) = keys.as_ref() {
            self.shred_many(
                tx,
                actor,
                keys,
                tenant,
                &shred,
                ("retention_run", &tally.row.id),
            )
            .await?;
        }
        Ok(Some(last))
    }

    /// Destroy the due fields of a person who is kept: every version of each (the
    /// corrections' predecessors too), and an identifier whose field is gone.
    async fn destroy_fields(
        &self,
        tx: &mut Tx,
        tenant: &str,
        subject: &str,
        versions: &[&FieldMetaRow],
        current: &[&FieldMetaRow],
        plan: &Plan,
    ) -> Result<()> {
        let by_id: HashMap<&str, &FieldMetaRow> =
            versions.iter().map(|f| (f.id.as_str(), *f)).collect();
        let mut gone: HashSet<&str> = HashSet::new();
        for (i, _) in &plan.destroy {
            let mut next = Some(current[*i]);
            while let Some(f) = next {
                if !gone.insert(f.id.as_str()) {
                    break;
                }
                tx.delete_field(tenant, &f.id).await?;
                next = f.supersedes.as_deref().and_then(|p| by_id.get(p).copied());
            }
        }
        for (kind, category) in IDENTIFIER_CATEGORIES {
            let within = |f: &&FieldMetaRow| {
                f.category == category || f.category.starts_with(&format!("{category}."))
            };
            let destroyed = plan.destroy.iter().any(|(i, _)| within(&current[*i]));
            let remains = current
                .iter()
                .filter(|f| !gone.contains(f.id.as_str()))
                .any(within);
            if destroyed && !remains {
                tx.delete_identifier(tenant, subject, kind).await?;
            }
        }
        Ok(())
    }

    /// The tenant's retention runs, newest first.
    pub async fn retention_runs(
        &self,
        actor: &Actor,
        tenant: &TenantId,
    ) -> Result<Vec<RetentionRunView>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRetention, tenant)?;
        let mut tx = self.store.read().await?;
        if tx.tenant(tenant).await?.is_none() {
            return Err(EngineError::NotFound("tenant"));
        }
        Ok(tx
            .retention_runs(tenant, 1000)
            .await?
            .iter()
            .map(run_view)
            .collect())
    }

    /// Record that a person's relationship with the organisation ended (the
    /// `relationship_end` retention clock), or clear it.
    pub async fn end_relationship(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        subject: &str,
        body: &RelationshipEnd,
    ) -> Result<RelationshipView> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::WriteSubjects, tenant)?;
        let now = self.now();
        let when = match (&body.at, body.clear) {
            (Some(_), true) => {
                return Err(EngineError::invalid(
                    "/at",
                    "give either a time or clear, not both",
                ));
            }
            (_, true) => None,
            (None, false) => Some(now),
            (Some(t), false) => {
                let t = parse_time("/at", t)?;
                if t > now {
                    return Err(EngineError::invalid(
                        "/at",
                        "must not be in the future: record the end when it happens",
                    ));
                }
                Some(t)
            }
        };
        let ms = when.map(|t| t.as_millisecond());
        let mut tx = self.store.write().await?;
        if !tx.set_relationship_end(tenant, subject, ms).await? {
            return Err(EngineError::NotFound("subject"));
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            if ms.is_some() {
                "subject.relationship_end"
            } else {
                "subject.relationship_resumed"
            },
            Some(subject),
            None,
            json!({"at": ms.map(ts)}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(RelationshipView {
            subject: subject.to_string(),
            relationship_ended_at: ms.map(ts),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vow_core::Period;

    fn field(id: &str, cat: &str, collected: &str) -> FieldMetaRow {
        FieldMetaRow {
            id: id.into(),
            subject_id: "s".into(),
            category: cat.into(),
            purposes: "[\"research\"]".into(),
            store: "primary".into(),
            collected_at: collected.parse::<Timestamp>().unwrap().as_millisecond(),
            supersedes: None,
            superseded_at: None,
        }
    }

    #[test]
    fn a_person_is_shredded_only_when_all_is_due_and_nothing_held() {
        let rules = vec![RetentionRule {
            category: None,
            purpose: None,
            keep: Period::days(365),
            from: RetentionClock::Collected,
            reason: None,
        }];
        let old = field("a", "user.name", "2020-01-01T00:00:00Z");
        let new = field("b", "user.contact.email", "2026-01-01T00:00:00Z");
        let now: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let clocks = SubjectClocks::default();
        let p = plan_subject(&rules, "s", &[&old, &new], &clocks, &[], now).unwrap();
        assert_eq!((p.destroy.len(), p.shred), (1, None));
        let p = plan_subject(&rules, "s", &[&old], &clocks, &[], now).unwrap();
        assert_eq!(p.shred, Some(0));
        let held = [Category::new("user").unwrap()];
        let p = plan_subject(&rules, "s", &[&old], &clocks, &held, now).unwrap();
        assert_eq!((p.destroy.len(), p.held.len(), p.shred), (0, 1, None));
    }
}
