//! Purpose-bound reads: what a decision about a subject needs (birth date, consent
//! ledger), the decision itself, and the values it allows; each read is audited
//! before anything is returned.

use crate::engine::ts;
use crate::error::{EngineError, FieldError, Result};
use crate::vault::keyring::{TenantKeys, value_aad};
use crate::{Actor, Engine};
use jiff::civil::Date;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_core::{Action, Ask, Category, Decision, PurposeId, SubjectFacts, decide};
use vow_crypto::{Key32, open};
use vow_store::{ConsentRow, FieldRow, Tx};

/// A value returned by a purpose-bound read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldValue {
    pub id: String,
    pub category: String,
    #[schema(value_type = Object)]
    pub value: Value,
    pub purposes: Vec<String>,
    pub source: String,
    pub store: String,
    pub collected_at: String,
    pub version: i64,
}

impl Engine {
    /// Load what decisions about a subject need; the data key is returned for reads.
    pub(crate) async fn facts(
        &self,
        tx: &mut Tx,
        keys: &TenantKeys,
        tenant: &str,
        subject: &str,
    ) -> Result<(Key32, Option<Date>, Vec<ConsentRow>)> {
        let row = tx.subject(tenant, subject).await?;
        let row = match row {
            Some(r) if crate::engine::is_active(&r)? => r,
            _ => return Err(EngineError::NotFound("subject")),
        };
        let key = tx
            .subject_key(tenant, subject)
            .await?
            .ok_or(EngineError::NotFound("subject"))?;
        let dek = self
            .keys
            .subject_dek(tx, keys, tenant, subject, key.kek_version, &key.wrapped)
            .await?;
        let birth = match row.birth_date {
            Some(b) => {
                let plain = open(&dek, &b, &value_aad(tenant, subject, "birth_date", subject))?;
                let text = std::str::from_utf8(&plain)
                    .map_err(|_| EngineError::Internal("stored birth date is unreadable".into()))?;
                Some(
                    text.parse::<Date>().map_err(|_| {
                        EngineError::Internal("stored birth date is unreadable".into())
                    })?,
                )
            }
            None => None,
        };
        let consents = tx.consents(tenant, subject).await?;
        Ok((dek, birth, consents))
    }

    fn parse_categories(categories: &[String]) -> Result<Vec<Category>> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (i, c) in categories.iter().enumerate() {
            match Category::new(c.as_str()) {
                Ok(c) => out.push(c),
                Err(e) => errors.push(FieldError::new(format!("/categories/{i}"), e.to_string())),
            }
        }
        if categories.is_empty() {
            errors.push(FieldError::new("/categories", "name at least one category"));
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(EngineError::Invalid(errors))
        }
    }

    /// Would this read be allowed? Nothing is returned but the decision.
    pub async fn decide(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        subject: &str,
        purpose: &PurposeId,
        categories: &[String],
    ) -> Result<Decision> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::Decide, tenant)?;
        let categories = Self::parse_categories(categories)?;
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let (_, birth, rows) = self.facts(&mut tx, &keys, tenant, subject).await?;
        drop(tx);
        let events = Self::events(&rows)?;
        let decision = decide(
            &policy,
            &SubjectFacts {
                birth_date: birth,
                consents: &events,
            },
            actor.as_caller(),
            &Ask {
                action: Action::Read,
                purpose,
                categories: &categories,
            },
            self.now(),
        );
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "decision",
            Some(subject),
            Some(purpose.as_str()),
            json!({"categories": categories, "allowed": decision.allowed,
                   "reasons": decision.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>()}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(decision)
    }

    /// A purpose-bound read: the values of the asked categories, if the decision
    /// allows; the audit entry is durable before anything is returned.
    pub async fn read(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        subject: &str,
        purpose: &PurposeId,
        categories: &[String],
    ) -> Result<Vec<FieldValue>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadPersonalData, tenant)?;
        let categories = Self::parse_categories(categories)?;
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let (dek, birth, rows) = self.facts(&mut tx, &keys, tenant, subject).await?;
        let events = Self::events(&rows)?;
        let decision = decide(
            &policy,
            &SubjectFacts {
                birth_date: birth,
                consents: &events,
            },
            actor.as_caller(),
            &Ask {
                action: Action::Read,
                purpose,
                categories: &categories,
            },
            self.now(),
        );
        let asked: Vec<&str> = categories.iter().map(Category::as_str).collect();
        if !decision.allowed {
            drop(tx);
            let entry = self.audit_entry(
                actor,
                Some(tenant),
                "read.refused",
                Some(subject),
                Some(purpose.as_str()),
                json!({"asked": asked, "reasons": decision.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>()}),
            );
            self.audit.record(vec![entry]).await?;
            return Err(EngineError::Refused(decision));
        }
        let fields = tx.current_fields(tenant, subject).await?;
        drop(tx);
        let mut out = Vec::new();
        for f in fields {
            let cat = crate::stored::category("field category", &f.category)?;
            if !categories.iter().any(|c| cat.is_within(c)) {
                continue;
            }
            out.push(Self::open_field(tenant, subject, &dek, f)?);
        }
        let returned: BTreeSet<&str> = out.iter().map(|f| f.category.as_str()).collect();
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "read",
            Some(subject),
            Some(purpose.as_str()),
            json!({"asked": asked, "returned": returned}),
        );
        self.audit.record(vec![entry]).await?;
        metrics::counter!("vow_reads_total").increment(1);
        Ok(out)
    }

    pub(crate) fn open_field(
        tenant: &str,
        subject: &str,
        dek: &Key32,
        f: FieldRow,
    ) -> Result<FieldValue> {
        let plain = open(
            dek,
            &f.value,
            &value_aad(tenant, subject, &f.category, &f.id),
        )?;
        let value: Value = serde_json::from_slice(&plain)
            .map_err(|_| EngineError::Internal("a stored value is unreadable".into()))?;
        Ok(FieldValue {
            id: f.id,
            category: f.category,
            value,
            purposes: crate::stored::list("field purposes", &f.purposes)?,
            source: f.source,
            store: f.store,
            collected_at: ts(f.collected_at),
            version: f.version,
        })
    }

    /// Every version of every field, oldest first: for corrections history and exports.
    pub async fn field_history(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        subject: &str,
    ) -> Result<Vec<(FieldValue, Option<String>)>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadHistory, tenant)?;
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (dek, _, _) = self.facts(&mut tx, &keys, tenant, subject).await?;
        let rows = tx.all_fields(tenant, subject).await?;
        drop(tx);
        let mut out = Vec::new();
        for r in rows {
            let superseded = r.superseded_at.map(ts);
            out.push((Self::open_field(tenant, subject, &dek, r)?, superseded));
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "read.history",
            Some(subject),
            None,
            json!({"fields": out.len()}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(out)
    }
}
