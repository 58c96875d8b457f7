//! Erasure by crypto-shredding, shared by deletion requests and retention, and the
//! legal holds that keep named categories through it.

use super::types::{HoldView, NewHold};
use crate::engine::ts;
use crate::error::{EngineError, FieldError, Result};
use crate::vault::keyring::{TenantKeys, new_subject_key, value_aad};
use crate::{Actor, Engine};
use jiff::Timestamp;
use serde_json::{Value, json};
use vow_core::Policy;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_crypto::{open, seal};
use vow_store::Tx;

impl Engine {
    /// Crypto-shred the subject: its key, identifiers, fields and ledger go. Fields under
    /// a live legal hold are re-sealed under a fresh key first and kept; everything else
    /// becomes unreadable with the old key. Recipients that received the person's data
    /// are told. `cause` names, in the audit entry, what asked for it (a request, a
    /// retention run). Shared by erasure requests and retention.
    pub(crate) async fn shred_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        keys: &TenantKeys,
        tenant: &str,
        subject: &str,
        cause: (&str, &str),
    ) -> Result<Shredded> {
        let identifiers = tx.identifiers(tenant, subject).await?.len();
        let now = self.now_ms();
        let holds: Vec<vow_store::HoldRow> = tx
            .holds(tenant, subject)
            .await?
            .into_iter()
            .filter(|h| h.until > now)
            .collect();
        let mut held: Vec<vow_core::Category> = Vec::new();
        for h in &holds {
            held.extend(crate::stored::categories("hold categories", &h.categories)?);
        }
        let mut kept = Vec::new();
        let mut new_key = None;
        if !held.is_empty() {
            let (dek, _, _) = self.facts(tx, keys, tenant, subject).await?;
            let (fresh, wrapped) = new_subject_key(keys, tenant, subject)?;
            for mut f in tx.current_fields(tenant, subject).await? {
                let cat = crate::stored::category("field category", &f.category)?;
                if !held.iter().any(|h| cat.is_within(h)) {
                    continue;
                }
                let aad = value_aad(tenant, subject, &f.category, &f.id);
                let plain = open(&dek, &f.value, &aad)?;
                f.value = seal(&fresh, &plain, &aad)?;
                kept.push(f);
            }
            new_key = Some(vow_store::SubjectKeyRow {
                subject_id: subject.to_string(),
                tenant_id: tenant.to_string(),
                kek_version: keys.current,
                wrapped,
            });
        }
        let notified = self.propagate_erasure(tx, keys, tenant, subject).await?;
        tx.erase_subject(tenant, subject, now).await?;
        if let Some(k) = new_key.filter(|_| !kept.is_empty()) {
            tx.insert_subject_key(&k).await?;
            for f in &kept {
                tx.insert_field(f).await?;
            }
        }
        let entry = self.erase_entry(actor, tenant, subject, (identifiers, kept.len()), cause);
        self.chain.append(tx, &[entry]).await?;
        Ok(Shredded {
            holds,
            kept: kept.len(),
            notified,
        })
    }

    /// [`Engine::shred_in`] for many people none of whom is under a legal hold (the
    /// caller knows), in a few statements per table rather than a dozen per person.
    /// Each still gets their own `subject.erase` audit entry, and recipients who got
    /// a person's data are told, as one by one.
    pub(crate) async fn shred_many(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        keys: &TenantKeys,
        tenant: &str,
        subjects: &[&str],
        cause: (&str, &str),
    ) -> Result<()> {
        if subjects.is_empty() {
            return Ok(());
        }
        let (identifiers, disclosed) = tx.erasure_facts(tenant, subjects).await?;
        for subject in subjects.iter().filter(|s| disclosed.contains(**s)) {
            self.propagate_erasure(tx, keys, tenant, subject).await?;
        }
        tx.erase_subjects(tenant, subjects, self.now_ms()).await?;
        let entries: Vec<_> = subjects
            .iter()
            .map(|subject| {
                let n = identifiers.get(*subject).copied().unwrap_or(0);
                self.erase_entry(actor, tenant, subject, (n, 0), cause)
            })
            .collect();
        self.chain.append(tx, &entries).await
    }

    /// The `subject.erase` audit entry: how many identifiers went and fields were
    /// kept (under a hold), and what caused it. Counts and ids, never a value.
    fn erase_entry(
        &self,
        actor: &Actor,
        tenant: &str,
        subject: &str,
        (identifiers, kept): (impl serde::Serialize, usize),
        cause: (&str, &str),
    ) -> vow_store::NewAudit {
        let mut detail = json!({"identifiers": identifiers, "kept_fields": kept});
        detail[cause.0] = json!(cause.1);
        self.audit_entry(
            actor,
            Some(tenant),
            "subject.erase",
            Some(subject),
            None,
            detail,
        )
    }

    /// Erase the subject for a deletion request; returns the outcome (with the backup
    /// horizon). Their identifiers are suppressed so an import cannot re-create them.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn erase_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        keys: &TenantKeys,
        policy: &Policy,
        tenant: &str,
        subject: &str,
        request: &str,
    ) -> Result<Value> {
        let now = self.now_ms();
        for i in &tx.identifiers(tenant, subject).await? {
            tx.insert_suppression(tenant, &i.kind, &i.bidx, now, Some(request))
                .await?;
        }
        let Shredded {
            holds,
            kept,
            notified,
        } = self
            .shred_in(tx, actor, keys, tenant, subject, ("request", request))
            .await?;
        let backup_days = policy
            .stores
            .iter()
            .filter(|s| s.kind == vow_core::policy::StoreKind::Backup)
            .filter_map(|s| s.backup_retention_days)
            .max()
            .unwrap_or(0);
        let horizon = now + i64::from(backup_days) * 24 * 3600 * 1000;
        let promise = policy.response_times.backup_purge_days;
        let within_promise = promise.is_none_or(|p| backup_days <= p);
        let kept_view: Vec<Value> = holds
            .iter()
            .map(|h| json!({"categories": serde_json::from_str::<Value>(&h.categories).unwrap_or(Value::Null), "reason": h.reason, "until": ts(h.until)}))
            .collect();
        let mut words = format!(
            "We deleted your personal information and destroyed the key that encrypted it, so copies in our backups can no longer be read; the last backup holding the old key expires by {}.",
            ts(horizon)
        );
        for h in &holds {
            words.push_str(&format!(
                " The law obliges us to keep some of it ({}) until {}: {}.",
                serde_json::from_str::<Vec<String>>(&h.categories)
                    .unwrap_or_default()
                    .join(", "),
                ts(h.until),
                h.reason
            ));
        }
        Ok(json!({
            "done": if kept == 0 { "erased" } else { "erased_except_held" },
            "backups_unreadable_by": ts(horizon),
            "backup_purge_promise_days": promise,
            "within_promise": within_promise,
            "kept": kept_view,
            "recipients_notified": notified,
            "words": words,
        }))
    }

    /// Record a legal hold: named categories of a subject kept for a reason until a date,
    /// even after a deletion request (S7).
    pub async fn create_hold(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        subject: &str,
        hold: &NewHold,
    ) -> Result<HoldView> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut errors = Vec::new();
        if hold.categories.is_empty() {
            errors.push(FieldError::new(
                "/categories",
                "name at least one category to keep",
            ));
        }
        for (i, c) in hold.categories.iter().enumerate() {
            if let Err(e) = vow_core::Category::new(c.as_str()) {
                errors.push(FieldError::new(format!("/categories/{i}"), e.to_string()));
            }
        }
        let reason = hold.reason.trim();
        if reason.is_empty() || reason.len() > 500 {
            errors.push(FieldError::new(
                "/reason",
                "give the legal reason (1 to 500 characters)",
            ));
        }
        let until = match hold.until.parse::<jiff::civil::Date>() {
            Ok(d) => d
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp())
                .ok(),
            Err(_) => hold.until.parse::<Timestamp>().ok(),
        };
        match until {
            Some(u) if u > self.now() => {}
            Some(_) => errors.push(FieldError::new("/until", "must be in the future")),
            None => errors.push(FieldError::new(
                "/until",
                "expected a date YYYY-MM-DD or an RFC 3339 time",
            )),
        }
        let (true, Some(until)) = (errors.is_empty(), until) else {
            return Err(EngineError::Invalid(errors));
        };
        let mut tx = self.store.write().await?;
        match tx.subject(tenant, subject).await? {
            Some(s) if crate::engine::is_active(&s)? => {}
            _ => return Err(EngineError::NotFound("subject")),
        }
        let row = vow_store::HoldRow {
            id: uuid::Uuid::now_v7().to_string(),
            tenant_id: tenant.to_string(),
            subject_id: subject.to_string(),
            categories: json!(hold.categories).to_string(),
            reason: reason.to_string(),
            until: until.as_millisecond(),
            created_at: self.now_ms(),
            created_by: actor.id().to_string(),
        };
        tx.insert_hold(&row).await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "hold.create",
            Some(subject),
            None,
            json!({"hold": row.id, "categories": hold.categories}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(HoldView {
            id: row.id,
            categories: hold.categories.clone(),
            reason: row.reason,
            until: ts(row.until),
        })
    }
}

/// What crypto-shredding a person did.
pub(crate) struct Shredded {
    /// The legal holds in force, whose fields were kept.
    pub holds: Vec<vow_store::HoldRow>,
    /// Fields kept under a fresh key.
    pub kept: usize,
    /// Recipients told of the erasure.
    pub notified: usize,
}
