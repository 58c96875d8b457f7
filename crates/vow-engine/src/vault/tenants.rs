//! Tenants (the organisations whose people's data the vault holds) and their policies:
//! published versions and the one in force. Their API keys are in `keys.rs`.

use crate::engine::CachedPolicy;
use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use utoipa::ToSchema;
use vow_core::role::Capability;
use vow_core::{Policy, RequestHandling, TenantId, TenantRole};
use vow_store::{KekRow, PolicyRow, TenantRow};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantView {
    pub id: String,
    pub name: String,
    /// `controller` or `processor`.
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<ControllerView>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ControllerView {
    pub name: String,
    pub contact: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicyPublished {
    pub tenant: String,
    pub version: i64,
    pub effective_date: String,
    /// Promises weaker than the law, and other warnings.
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<vow_policy::Diagnostic>,
    /// What changed from the version before (S5), who must consent again, and the
    /// administrators' notices.
    pub changes: crate::obligations::policy_changes::PolicyChanges,
}

use crate::engine::ts;

fn tenant_view(r: &TenantRow) -> TenantView {
    TenantView {
        id: r.id.clone(),
        name: r.name.clone(),
        role: r.role.clone(),
        controller: match (&r.controller_name, &r.controller_contact) {
            (Some(n), Some(c)) => Some(ControllerView {
                name: n.clone(),
                contact: c.clone(),
            }),
            _ => None,
        },
        created_at: ts(r.created_at),
    }
}

/// Plain text given by callers for names and contacts: bounded and printable.
pub(crate) fn check_text(pointer: &str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() || value.chars().count() > max || value.chars().any(char::is_control)
    {
        return Err(EngineError::invalid(
            pointer,
            format!("must be 1 to {max} printable characters"),
        ));
    }
    Ok(())
}

impl Engine {
    pub async fn create_tenant(
        &self,
        actor: &Actor,
        id: &str,
        name: &str,
        role: &str,
        controller: Option<(&str, &str)>,
    ) -> Result<TenantView> {
        if !actor.is_global_admin() {
            return Err(EngineError::Forbidden(
                "only a global admin key may create tenants".into(),
            ));
        }
        let mut errors = Vec::new();
        if let Err(e) = TenantId::new(id) {
            errors.push(crate::FieldError::new("/id", e.to_string()));
        }
        if let Err(EngineError::Invalid(mut e)) = check_text("/name", name, 200) {
            errors.append(&mut e);
        }
        // Creation reports every bad field at once, so the role is read here with the rest.
        match (TenantRole::parse(role), controller) {
            (Some(TenantRole::Controller), None) => {}
            (Some(TenantRole::Controller), Some(_)) => errors.push(crate::FieldError::new(
                "/controller",
                "only a processor tenant names a controlling client",
            )),
            (Some(TenantRole::Processor), Some((n, c))) => {
                if let Err(EngineError::Invalid(mut e)) = check_text("/controller/name", n, 200) {
                    errors.append(&mut e);
                }
                if let Err(EngineError::Invalid(mut e)) = check_text("/controller/contact", c, 320)
                {
                    errors.append(&mut e);
                }
            }
            (Some(TenantRole::Processor), None) => errors.push(crate::FieldError::new(
                "/controller",
                "a processor tenant must name its controlling client: {\"name\":…, \"contact\":…}",
            )),
            (None, _) => errors.push(crate::FieldError::new(
                "/role",
                "must be controller or processor",
            )),
        }
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        let (index_key, kek) = self.keys.new_tenant_material(id)?;
        let now = self.now_ms();
        let row = TenantRow {
            id: id.to_string(),
            name: name.to_string(),
            role: role.to_string(),
            controller_name: controller.map(|c| c.0.to_string()),
            controller_contact: controller.map(|c| c.1.to_string()),
            created_at: now,
            index_key,
            kek_version: 1,
        };
        let mut tx = self.store.write().await?;
        tx.insert_tenant(&row).await.map_err(|e| {
            if e.is_unique_violation() {
                EngineError::Conflict(format!("tenant {id} already exists"))
            } else {
                e.into()
            }
        })?;
        tx.insert_kek(&KekRow {
            tenant_id: id.to_string(),
            version: 1,
            wrapped: kek,
            created_at: now,
            retired_at: None,
        })
        .await?;
        let entry = self.audit_entry(
            actor,
            Some(id),
            "tenant.create",
            None,
            None,
            json!({"role": role}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(tenant_view(&row))
    }

    /// How a processor tenant answers requests: `redirect` (the default: the person is
    /// sent to the client) or `forward_assist` (forwarded to the client and carried
    /// through here on its instructions).
    pub async fn set_request_handling(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        mode: RequestHandling,
    ) -> Result<()> {
        let tenant = tenant.as_str();
        if !actor.is_global_admin() {
            return Err(EngineError::Forbidden(
                "only a global admin key may change how a tenant answers requests".into(),
            ));
        }
        let mut tx = self.store.write().await?;
        let row = tx
            .tenant(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        if crate::engine::tenant_role(&row)? != TenantRole::Processor
            && mode != RequestHandling::Redirect
        {
            return Err(EngineError::invalid(
                "/controller/requests",
                "only a processor tenant forwards requests",
            ));
        }
        tx.set_request_handling(tenant, mode.as_str()).await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "tenant.request_handling",
            None,
            None,
            json!({"mode": mode}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn tenant(&self, actor: &Actor, id: &TenantId) -> Result<TenantView> {
        let id = id.as_str();
        self.authorize(actor, Capability::ReadPolicy, id)?;
        let mut tx = self.store.read().await?;
        let row = tx
            .tenant(id)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        Ok(tenant_view(&row))
    }

    pub async fn tenants(&self, actor: &Actor) -> Result<Vec<TenantView>> {
        let mut tx = self.store.read().await?;
        let rows = tx.tenants().await?;
        Ok(rows
            .iter()
            .filter(|r| {
                actor.local
                    || actor.tenant.is_none()
                    || actor.tenant.as_ref().is_some_and(|t| t.as_str() == r.id)
            })
            .map(tenant_view)
            .collect())
    }

    /// Publish a new version of a tenant's policy. Older versions are kept.
    pub async fn publish_policy(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        source: &str,
        file: &str,
    ) -> Result<PolicyPublished> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::PublishPolicy, tenant)?;
        if source.len() > 1024 * 1024 {
            return Err(EngineError::invalid("", "a policy may be at most 1 MiB"));
        }
        let mut checked = vow_policy::parse(source, file).map_err(EngineError::Policy)?;
        let effective = checked.policy.effective_date.to_string();
        let mut tx = self.store.write().await?;
        tx.tenant(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        let prepared = self
            .prepare_version(&mut tx, tenant, &mut checked.policy)
            .await?;
        let expected = prepared.version;
        let compiled = serde_json::to_string(&checked.policy)
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let version = tx
            .insert_policy(&PolicyRow {
                tenant_id: tenant.to_string(),
                version: 0,
                effective_date: effective.clone(),
                source: source.to_string(),
                compiled,
                published_at: self.now_ms(),
                published_by: actor.id().to_string(),
            })
            .await?;
        if version != expected {
            // Another server published in between: the diff would be against the wrong version.
            return Err(EngineError::Conflict(format!(
                "another version of {tenant}'s policy was published meanwhile; publish again"
            )));
        }
        self.propagate_policy(&mut tx, tenant, version, &checked.policy)
            .await?;
        let (mut changes, notices) = self
            .record_changes(&mut tx, tenant, &checked.policy, prepared)
            .await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "policy.publish",
            None,
            None,
            Self::publish_detail(&changes),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        // The new version may not be in force yet (a future effective date): re-read.
        if let Ok(mut m) = self.policies.write() {
            m.remove(tenant);
        }
        self.notices.forget(tenant);
        self.mail_policy_notices(notices, &mut changes).await;
        Ok(PolicyPublished {
            tenant: tenant.to_string(),
            version,
            effective_date: effective,
            warnings: checked.warnings,
            changes,
        })
    }

    /// The current policy: (version, source as published, compiled).
    pub async fn current_policy(
        &self,
        actor: &Actor,
        tenant: &TenantId,
    ) -> Result<(i64, String, Arc<Policy>)> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadPolicy, tenant)?;
        let mut tx = self.store.read().await?;
        tx.tenant(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        let row = tx
            .policy_in_force(tenant, &self.today())
            .await?
            .ok_or_else(|| EngineError::NoPolicy(tenant.to_string()))?;
        let policy: Policy = serde_json::from_str(&row.compiled)
            .map_err(|_| EngineError::Internal("stored policy is unreadable".into()))?;
        Ok((row.version, row.source, Arc::new(policy)))
    }

    /// Every published version: (version, effective date, published at).
    pub async fn policy_versions(
        &self,
        actor: &Actor,
        tenant: &TenantId,
    ) -> Result<Vec<(i64, String, String)>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadPolicy, tenant)?;
        let mut tx = self.store.read().await?;
        Ok(tx
            .policy_versions(tenant)
            .await?
            .into_iter()
            .map(|(v, d, at)| (v, d, ts(at)))
            .collect())
    }

    /// The policy in force for a tenant, from a short-lived cache.
    pub(crate) async fn policy_for(
        &self,
        tx: &mut vow_store::Tx,
        tenant: &str,
    ) -> Result<(Arc<Policy>, i64)> {
        if let Some(c) = self.cached_policy(tenant) {
            return Ok(c);
        }
        let row = tx
            .policy_in_force(tenant, &self.today())
            .await?
            .ok_or_else(|| EngineError::NoPolicy(tenant.to_string()))?;
        let policy: Arc<Policy> = Arc::new(
            serde_json::from_str(&row.compiled)
                .map_err(|_| EngineError::Internal("stored policy is unreadable".into()))?,
        );
        if let Ok(mut m) = self.policies.write() {
            m.insert(
                tenant.to_string(),
                CachedPolicy {
                    policy: policy.clone(),
                    version: row.version,
                    loaded: Instant::now(),
                },
            );
        }
        Ok((policy, row.version))
    }

    /// The policy in force and its version, if loaded lately (no store access).
    fn cached_policy(&self, tenant: &str) -> Option<(Arc<Policy>, i64)> {
        self.policies.read().ok().and_then(|m| {
            m.get(tenant)
                .filter(|c| c.loaded.elapsed() < crate::engine::CACHE_TTL)
                .map(|c| (c.policy.clone(), c.version))
        })
    }

    /// A tenant's keys and policy in force: from the caches, or in one read
    /// transaction when either is not loaded.
    pub(crate) async fn keys_and_policy(
        &self,
        tenant: &str,
    ) -> Result<(Arc<crate::vault::keyring::TenantKeys>, Arc<Policy>)> {
        if let (Some(keys), Some((policy, _))) =
            (self.keys.cached(tenant), self.cached_policy(tenant))
        {
            return Ok((keys, policy));
        }
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        Ok((keys, policy))
    }

    /// A tenant's keys: from the cache, or read from the store.
    pub(crate) async fn keys_of(
        &self,
        tenant: &str,
    ) -> Result<Arc<crate::vault::keyring::TenantKeys>> {
        if let Some(keys) = self.keys.cached(tenant) {
            return Ok(keys);
        }
        let mut tx = self.store.read().await?;
        self.keys.tenant(&mut tx, tenant).await
    }
}
