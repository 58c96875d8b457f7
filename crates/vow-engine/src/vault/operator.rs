//! An operator's view of people without their values: which categories one person
//! holds and their consent state, and a tenant's counts of people and fields by
//! category. Values are read only through [`Engine::read`] and the decision function.

use crate::engine::{Actor, Engine, ts};
use crate::error::{EngineError, Result};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use vow_core::TenantId;
use vow_core::role::Capability;

/// One person: the categories held (no values) and the consent state now.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectSummary {
    pub id: String,
    pub tenant: String,
    pub created_at: String,
    pub categories: Vec<HeldCategory>,
    /// purpose → state now (`granted`, `withdrawn`, `expired`), as `…/consents` gives it.
    pub consents: serde_json::Map<String, serde_json::Value>,
}

/// One category a person holds.
#[derive(Debug, Clone, Serialize)]
pub struct HeldCategory {
    pub category: String,
    /// Current fields of the category.
    pub fields: usize,
    /// Earlier versions kept after corrections.
    pub superseded: usize,
    pub sources: Vec<String>,
    pub stores: Vec<String>,
}

/// A tenant's people and fields, counted.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectCounts {
    pub tenant: String,
    /// People whose data is held.
    pub subjects: usize,
    /// People erased (their keys destroyed); kept as rows without data.
    pub erased: usize,
    pub categories: Vec<CategoryCount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryCount {
    pub category: String,
    /// People with at least one current field of the category.
    pub subjects: usize,
    pub fields: usize,
}

impl Engine {
    /// The categories one person holds and their consent state; never a value.
    pub async fn subject_summary(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        subject: &str,
    ) -> Result<SubjectSummary> {
        let tenant_id = tenant;
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadHistory, tenant)?;
        let mut tx = self.store.read().await?;
        let row = tx
            .subject(tenant, subject)
            .await?
            .ok_or(EngineError::NotFound("subject"))?;
        if !crate::engine::is_active(&row)? {
            return Err(EngineError::NotFound("subject"));
        }
        let rows = tx.all_fields(tenant, subject).await?;
        drop(tx);
        let mut held: BTreeMap<String, HeldCategory> = BTreeMap::new();
        for f in rows {
            let c = held
                .entry(f.category.clone())
                .or_insert_with(|| HeldCategory {
                    category: f.category.clone(),
                    fields: 0,
                    superseded: 0,
                    sources: Vec::new(),
                    stores: Vec::new(),
                });
            if f.superseded_at.is_some() {
                c.superseded += 1;
                continue;
            }
            c.fields += 1;
            if !c.sources.contains(&f.source) {
                c.sources.push(f.source);
            }
            if !c.stores.contains(&f.store) {
                c.stores.push(f.store);
            }
        }
        let consents = self.consents(actor, tenant_id, subject).await?.current;
        let categories: Vec<HeldCategory> = held.into_values().collect();
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "subject.summary",
            Some(subject),
            None,
            json!({"categories": categories.len()}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(SubjectSummary {
            id: row.id,
            tenant: tenant.to_string(),
            created_at: ts(row.created_at),
            categories,
            consents,
        })
    }

    /// How many people a tenant holds, and how many people and fields per category.
    pub async fn subject_counts(&self, actor: &Actor, tenant: &TenantId) -> Result<SubjectCounts> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadReports, tenant)?;
        let mut tx = self.store.read().await?;
        tx.tenant(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        let all = usize::try_from(tx.count_subjects(tenant).await?).unwrap_or(0);
        let active = tx.aggregate_subjects(tenant).await?.len();
        let fields = tx.aggregate_fields(tenant).await?;
        drop(tx);
        let mut per: BTreeMap<String, (BTreeSet<String>, usize)> = BTreeMap::new();
        for f in fields {
            let e = per.entry(f.category).or_default();
            e.0.insert(f.subject_id);
            e.1 += 1;
        }
        Ok(SubjectCounts {
            tenant: tenant.to_string(),
            subjects: active,
            erased: all.saturating_sub(active),
            categories: per
                .into_iter()
                .map(|(category, (people, fields))| CategoryCount {
                    category,
                    subjects: people.len(),
                    fields,
                })
                .collect(),
        })
    }
}
