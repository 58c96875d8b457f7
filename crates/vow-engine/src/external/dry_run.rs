//! A dry run: what an erasure or correction request would change in the
//! organisation's own databases, without changing anything. The walk reads the
//! person's rows (audited, like any read); the answer holds counts and column names,
//! never a value.

use super::datasets::plan_for;
use super::jobs::{JobData, identities_of, targeted};
use crate::error::{EngineError, Result};
use crate::requests::record::load;
use crate::{Actor, Engine};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;
use utoipa::ToSchema;
use vow_connect::Action;
use vow_core::role::Capability;
use vow_core::{RequestType, TenantId};

/// What would change in one collection.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlannedChange {
    pub dataset: String,
    pub collection: String,
    /// `update` (columns masked or corrected) or `delete` (rows removed).
    pub action: String,
    pub rows: usize,
    /// The columns an update would set (empty for a delete).
    pub columns: Vec<String>,
}

impl Engine {
    /// What fulfilling an erasure or correction request would change in each
    /// registered dataset, in the order it would be applied.
    pub async fn connector_dry_run(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        request: &str,
    ) -> Result<Vec<PlannedChange>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let r = load(&mut tx, tenant, request).await?;
        let kind = RequestType::parse(&r.kind)
            .ok_or(EngineError::Internal("unknown request type".into()))?;
        if !matches!(kind, RequestType::Delete | RequestType::Correct) {
            return Err(EngineError::Conflict(
                "a dry run shows what an erasure or a correction would change; this request is neither".into(),
            ));
        }
        let key = self.request_key(&keys, tenant, &r)?;
        let details = self.open_details(&key, tenant, &r)?;
        let vault = match &r.subject_id {
            Some(s) => self.vault_identities(&mut tx, &keys, tenant, s).await?,
            None => Default::default(),
        };
        let held = match &r.subject_id {
            Some(s) => self.held_categories(&mut tx, tenant, s).await?,
            None => Vec::new(),
        };
        let data = JobData {
            identities: identities_of(&details, &vault),
            corrections: super::jobs::corrections_of(&details),
            held,
            ..JobData::default()
        };
        let datasets = tx.datasets(tenant).await?;
        // An http connection's system cannot be asked what it would change: left out.
        let http: BTreeSet<String> = tx
            .connections(tenant)
            .await?
            .into_iter()
            .filter(|c| c.kind == super::secrets::KIND)
            .map(|c| c.id)
            .collect();
        drop(tx);
        let mut out = Vec::new();
        for ds in datasets.iter().filter(|d| !http.contains(&d.connection_id)) {
            let (_, db) = self.open_connection(tenant, &ds.connection_id).await?;
            let schema = db
                .schema()
                .await
                .map_err(|e| EngineError::connector(&ds.connection_id, e))?;
            let plan = plan_for(ds, &schema).map_err(EngineError::Dataset)?;
            let found = vow_connect::access(&db, &plan, std::slice::from_ref(&data.identities))
                .await
                .map_err(|e| EngineError::connector(&ds.connection_id, e))?;
            let Some(found) = found.into_iter().next() else {
                continue;
            };
            let changes = if kind == RequestType::Delete {
                let secret = key.derive(b"vow:v1:connector-mask");
                vow_connect::erasure(
                    &plan,
                    &found,
                    &|c| targeted(&policy, &data.held, c),
                    secret.expose(),
                )
            } else {
                vow_connect::correction(&plan, &found, &|c| data.corrections.get(c).cloned())
            }
            .map_err(|e| EngineError::connector(&ds.connection_id, e))?;
            for c in changes.collections {
                let (action, rows, columns) = match &c.action {
                    Action::Update { rows } => {
                        let columns: BTreeSet<String> = rows
                            .iter()
                            .flat_map(|(_, set)| set.iter().map(|(col, _)| col.clone()))
                            .collect();
                        ("update", rows.len(), columns.into_iter().collect())
                    }
                    Action::Delete { keys } => ("delete", keys.len(), Vec::new()),
                };
                out.push(PlannedChange {
                    dataset: ds.fides_key.clone(),
                    collection: c.collection,
                    action: action.into(),
                    rows,
                    columns,
                });
            }
        }
        let mut tx = self.store.write().await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "connector.dry_run",
            r.subject_id.as_deref(),
            None,
            json!({"request": request, "collections": out.iter().map(|c| json!({"dataset": c.dataset, "collection": c.collection, "rows": c.rows})).collect::<Vec<_>>()}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(out)
    }
}
