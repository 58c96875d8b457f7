//! Datasets registered with a connection. A manifest is checked on its own (shape,
//! categories against the tenant's policy, identities, references, reachability) and
//! then against the live schema of the connection's database: tables and columns
//! that do not exist are refused with their manifest line, before anything is stored.

use crate::engine::ts;
use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use vow_connect::{LiveSchema, Plan};
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_policy::Diagnostic;
use vow_store::DatasetRow;

/// A registered dataset as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DatasetView {
    pub fides_key: String,
    pub connection: String,
    /// The collections a request visits, in the order it visits them.
    pub collections: Vec<String>,
    /// SHA-256 of the manifest registered (hex).
    pub manifest_sha256: String,
    /// Warnings from the check (e.g. a collection without a primary key).
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<Diagnostic>,
    pub registered_at: String,
    pub updated_at: String,
}

/// The plan of a registered dataset against a (fresh) live schema.
pub(crate) fn plan_for(
    row: &DatasetRow,
    schema: &LiveSchema,
) -> std::result::Result<Plan, Vec<Diagnostic>> {
    let file = format!("{}.yml", row.fides_key);
    let checked = vow_connect::check(&row.manifest, &file, None)?;
    Plan::build(&checked.manifest, &row.fides_key, schema).map_err(|d| with_file(d, &file))
}

fn with_file(d: Vec<Diagnostic>, file: &str) -> Vec<Diagnostic> {
    d.into_iter()
        .map(|d| Diagnostic {
            file: file.to_string(),
            ..d
        })
        .collect()
}

impl Engine {
    /// Register every dataset of a manifest with a connection (replacing an earlier
    /// registration of the same `fides_key`). Nothing is stored unless every dataset
    /// passes both checks; the answer then lists what a request will visit.
    pub async fn register_datasets(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        connection: &str,
        source: &str,
        file: &str,
    ) -> Result<Vec<DatasetView>> {
        let tenant_s = tenant.as_str();
        self.authorize(actor, Capability::ManageConnections, tenant_s)?;
        let policy = {
            let mut tx = self.store.read().await?;
            self.policy_for(&mut tx, tenant_s).await?.0
        };
        let known = |c: &vow_core::Category| policy.knows_category(c);
        let checked =
            vow_connect::check(source, file, Some(&known)).map_err(EngineError::Dataset)?;
        let http = {
            let mut tx = self.store.read().await?;
            tx.connection(tenant_s, connection)
                .await?
                .ok_or(EngineError::NotFound("connection"))?
                .kind
                == super::secrets::KIND
        };
        // An http connection's system cannot be queried: what its manifest declares
        // is taken as it is, in the manifest's order, and the answer says so.
        let mut registered: Vec<(String, Vec<String>)> = Vec::new();
        let mut problems = Vec::new();
        if http {
            for d in &checked.manifest.dataset {
                registered.push((
                    d.fides_key.value.clone(),
                    d.collections.iter().map(|c| c.name.value.clone()).collect(),
                ));
            }
            problems.push(Diagnostic {
                severity: vow_policy::Severity::Warning,
                code: "no_live_schema",
                file: file.to_string(),
                line: 0,
                column: 0,
                path: String::new(),
                message: "an http connection has no live schema to check the manifest against: the system's answers are checked against the collections and fields it declares".into(),
            });
        } else {
            let (_, db) = self.open_connection(tenant_s, connection).await?;
            let schema = db
                .schema()
                .await
                .map_err(|e| EngineError::connector(connection, e))?;
            for d in &checked.manifest.dataset {
                match Plan::build(&checked.manifest, &d.fides_key.value, &schema) {
                    Ok(p) => registered.push((p.dataset().to_string(), p.collections())),
                    Err(ds) => problems.extend(with_file(ds, file)),
                }
            }
        }
        if problems.iter().any(Diagnostic::is_error) {
            return Err(EngineError::Dataset(problems));
        }
        let mut warnings = checked.warnings.clone();
        warnings.extend(problems);
        let sha = hex::encode(vow_crypto::sha256(source.as_bytes()));
        let now = self.now_ms();
        let mut tx = self.store.write().await?;
        if tx.connection(tenant_s, connection).await?.is_none() {
            // Removed between the check and now.
            return Err(EngineError::NotFound("connection"));
        }
        let mut out = Vec::new();
        for (key, collections) in registered {
            let registered_at = tx
                .dataset(tenant_s, &key)
                .await?
                .map_or(now, |d| d.registered_at);
            let row = DatasetRow {
                tenant_id: tenant_s.to_string(),
                fides_key: key.clone(),
                connection_id: connection.to_string(),
                manifest: source.to_string(),
                manifest_sha256: sha.clone(),
                collections: collections.len() as i64,
                registered_at,
                updated_at: now,
            };
            tx.put_dataset(&row).await?;
            out.push(DatasetView {
                fides_key: key,
                connection: connection.to_string(),
                collections,
                manifest_sha256: sha.clone(),
                warnings: warnings.clone(),
                registered_at: ts(registered_at),
                updated_at: ts(now),
            });
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant_s),
            "dataset.register",
            None,
            None,
            json!({"connection": connection, "datasets": out.iter().map(|d| &d.fides_key).collect::<Vec<_>>(),
                   "manifest_sha256": sha}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The registered datasets, as last checked (collections from the manifest; the
    /// live schema is checked again by `test_connection`).
    pub async fn datasets(&self, actor: &Actor, tenant: &TenantId) -> Result<Vec<DatasetView>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageConnections, tenant)?;
        let mut tx = self.store.read().await?;
        let rows = tx.datasets(tenant).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let file = format!("{}.yml", r.fides_key);
            let (collections, warnings) = match vow_connect::check(&r.manifest, &file, None) {
                Ok(c) => (
                    c.manifest
                        .dataset
                        .iter()
                        .filter(|d| d.fides_key.value == r.fides_key)
                        .flat_map(|d| d.collections.iter().map(|c| c.name.value.clone()))
                        .collect(),
                    c.warnings,
                ),
                Err(d) => (Vec::new(), d),
            };
            out.push(DatasetView {
                fides_key: r.fides_key,
                connection: r.connection_id,
                collections,
                manifest_sha256: r.manifest_sha256,
                warnings,
                registered_at: ts(r.registered_at),
                updated_at: ts(r.updated_at),
            });
        }
        Ok(out)
    }
}
