//! Tenants (the organisations whose people's data the vault holds), their API keys, and
//! their policies: published versions and the one in force.

use crate::engine::CachedPolicy;
use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use utoipa::ToSchema;
use vow_core::role::Capability;
use vow_core::{Caller, Policy, PurposeId, RequestHandling, Role, TenantId, TenantRole};
use vow_store::{ApiKeyRow, KekRow, PolicyRow, TenantRow};

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
pub struct ApiKeyCreated {
    pub id: String,
    /// The key itself. Shown once; only its hash is stored.
    pub key: String,
    pub tenant: Option<String>,
    pub role: String,
    pub purposes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyInfo {
    pub id: String,
    pub tenant: Option<String>,
    pub role: String,
    pub purposes: Option<Vec<String>>,
    pub label: Option<String>,
    pub created_at: String,
    /// When the key was revoked; absent while it is in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
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
fn check_text(pointer: &str, value: &str, max: usize) -> Result<()> {
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

    /// A new API key. `tenant` None makes a global admin key (only admins may).
    pub async fn create_api_key(
        &self,
        actor: &Actor,
        tenant: Option<&TenantId>,
        role: Role,
        purposes: Option<Vec<String>>,
        label: Option<&str>,
    ) -> Result<ApiKeyCreated> {
        let tenant = tenant.map(TenantId::as_str);
        match tenant {
            Some(t) => {
                self.authorize(actor, Capability::ManageKeys, t)?;
                let mut tx = self.store.read().await?;
                tx.tenant(t).await?.ok_or(EngineError::NotFound("tenant"))?;
            }
            None => {
                if !actor.is_global_admin() {
                    return Err(EngineError::Forbidden(
                        "only a global admin may create global keys".into(),
                    ));
                }
                if role != Role::Admin {
                    return Err(EngineError::invalid(
                        "/tenant",
                        "keys other than admin keys belong to a tenant: give --tenant",
                    ));
                }
            }
        }
        let purposes = match (role, purposes) {
            (Role::App, Some(p)) if !p.is_empty() => {
                let mut out = Vec::new();
                for (i, s) in p.iter().enumerate() {
                    PurposeId::new(s.as_str()).map_err(|e| {
                        EngineError::invalid(format!("/purposes/{i}"), e.to_string())
                    })?;
                    out.push(s.clone());
                }
                Some(out)
            }
            (Role::App, _) => {
                return Err(EngineError::invalid(
                    "/purposes",
                    "an app key must list the purposes it may read for",
                ));
            }
            (_, Some(p)) if !p.is_empty() => {
                return Err(EngineError::invalid(
                    "/purposes",
                    "only app keys are limited to purposes",
                ));
            }
            _ => None,
        };
        if let Some(l) = label {
            check_text("/label", l, 200)?;
        }
        let (id, token, hash) = vow_crypto::new_api_key()?;
        let row = ApiKeyRow {
            id: id.clone(),
            tenant_id: tenant.map(str::to_string),
            role: role.as_str().to_string(),
            purposes: purposes.as_ref().map(|p| json!(p).to_string()),
            secret_hash: hash.to_vec(),
            label: label.map(str::to_string),
            created_at: self.now_ms(),
            revoked_at: None,
        };
        let mut tx = self.store.write().await?;
        tx.insert_api_key(&row).await?;
        let entry = self.audit_entry(
            actor,
            tenant,
            "key.create",
            None,
            None,
            json!({"key_id": id, "role": role.as_str(), "purposes": purposes}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(ApiKeyCreated {
            id,
            key: token,
            tenant: tenant.map(str::to_string),
            role: role.as_str().to_string(),
            purposes,
        })
    }

    pub async fn api_keys(&self, actor: &Actor, tenant: Option<&TenantId>) -> Result<Vec<KeyInfo>> {
        let tenant = tenant.map(TenantId::as_str);
        if let Some(t) = tenant {
            self.authorize(actor, Capability::ManageKeys, t)?;
        } else if !actor.is_global_admin() {
            return Err(EngineError::Forbidden(
                "only a global admin may list every key".into(),
            ));
        }
        let mut tx = self.store.read().await?;
        tx.api_keys()
            .await?
            .into_iter()
            .filter(|k| tenant.is_none() || k.tenant_id.as_deref() == tenant)
            .map(|k| {
                Ok(KeyInfo {
                    id: k.id,
                    tenant: k.tenant_id,
                    role: k.role,
                    purposes: key_purposes(k.purposes.as_deref())?,
                    label: k.label,
                    created_at: ts(k.created_at),
                    revoked_at: k.revoked_at.map(ts),
                })
            })
            .collect()
    }

    /// The actor an API key stands for, or `Unauthenticated`.
    pub async fn authenticate(&self, token: &str) -> Result<Actor> {
        let (id, hash) =
            vow_crypto::parse_api_key(token).map_err(|_| EngineError::Unauthenticated)?;
        let cached = self.api_keys.read().ok().and_then(|m| {
            m.get(&id)
                .filter(|(_, at)| at.elapsed() < crate::engine::CACHE_TTL)
                .map(|(r, _)| r.clone())
        });
        let row = match cached {
            Some(r) => r,
            None => {
                let mut tx = self.store.read().await?;
                let row = tx.api_key(&id).await?.ok_or(EngineError::Unauthenticated)?;
                if let Ok(mut m) = self.api_keys.write() {
                    m.insert(id.clone(), (row.clone(), Instant::now()));
                }
                row
            }
        };
        if row.revoked_at.is_some() || !vow_crypto::ct_eq(&row.secret_hash, &hash) {
            return Err(EngineError::Unauthenticated);
        }
        let role = Role::parse(&row.role).ok_or(EngineError::Unauthenticated)?;
        let purposes = row
            .purposes
            .as_deref()
            .map(|p| crate::stored::purposes("key purposes", p))
            .transpose()?;
        let tenant = match row.tenant_id {
            Some(t) => Some(TenantId::new(t).map_err(|_| EngineError::Unauthenticated)?),
            None => None,
        };
        Ok(Actor::key(
            Caller {
                key_id: row.id,
                role,
                purposes,
            },
            tenant,
        ))
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
        if let Some(c) = self.policies.read().ok().and_then(|m| {
            m.get(tenant)
                .filter(|c| c.loaded.elapsed() < crate::engine::CACHE_TTL)
                .cloned()
        }) {
            return Ok((c.policy, c.version));
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
}

impl Engine {
    /// Revoke an API key. With `tenant`, the key must belong to that tenant (any other
    /// key, or a key that does not exist, is `NotFound`); without, only a global admin
    /// (or the command line) may revoke, and any key. Revoking a revoked key changes
    /// nothing. This server forgets the key at once; other servers on the same store
    /// re-read a cached key within `CACHE_TTL` (2 s), and then refuse it too.
    pub async fn revoke_api_key(
        &self,
        actor: &Actor,
        tenant: Option<&TenantId>,
        id: &str,
    ) -> Result<KeyInfo> {
        let tenant = tenant.map(TenantId::as_str);
        match tenant {
            Some(t) => self.authorize(actor, Capability::ManageKeys, t)?,
            None if !actor.is_global_admin() => {
                return Err(EngineError::Forbidden(
                    "only a global admin may revoke keys outside a tenant".into(),
                ));
            }
            None => {}
        }
        let mut tx = self.store.write().await?;
        let row = tx
            .api_key(id)
            .await?
            .filter(|k| tenant.is_none() || k.tenant_id.as_deref() == tenant)
            .ok_or(EngineError::NotFound("api key"))?;
        let at = self.now_ms();
        if tx.revoke_api_key(id, at).await? {
            let entry = self.audit_entry(
                actor,
                row.tenant_id.as_deref(),
                "key.revoke",
                None,
                None,
                json!({"key_id": id, "role": row.role}),
            );
            self.chain.append(&mut tx, &[entry]).await?;
        }
        tx.commit().await?;
        if let Ok(mut m) = self.api_keys.write() {
            m.remove(id);
        }
        Ok(KeyInfo {
            id: row.id,
            tenant: row.tenant_id,
            role: row.role,
            purposes: key_purposes(row.purposes.as_deref())?,
            label: row.label,
            created_at: ts(row.created_at),
            revoked_at: Some(ts(row.revoked_at.unwrap_or(at))),
        })
    }
}

/// A key's purpose restriction as the store keeps it (a JSON list), for showing.
fn key_purposes(stored: Option<&str>) -> Result<Option<Vec<String>>> {
    stored
        .map(|p| crate::stored::list("key purposes", p))
        .transpose()
}
