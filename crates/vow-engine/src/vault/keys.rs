//! API keys: creating them under the grant table (no key makes a key with more power
//! than itself), telling the tenant's administrators of every new key (an outbox event
//! and an e-mail), expiry, revocation, and authentication, which reads the key's row on
//! every request so that a revocation holds on every server at once.

use crate::engine::ts;
use crate::error::{EngineError, Result};
use crate::obligations::webhooks::ADMINISTRATORS;
use crate::{Actor, Engine};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use vow_core::role::Capability;
use vow_core::{Caller, GrantRule, Period, PurposeId, Role, TenantId};
use vow_render::letter::{Section, render_sections};
use vow_store::{ApiKeyRow, OutboxRow};

/// A key to create.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The tenant the key acts for; None for a global admin key.
    pub tenant: Option<TenantId>,
    pub role: Role,
    /// For app keys: the purposes it may act for.
    pub purposes: Option<Vec<String>>,
    pub label: Option<String>,
    /// When the key stops working (must be in the future).
    pub expires_at: Option<Timestamp>,
    /// Or: how long from now it works (`90d`).
    pub expires_in: Option<Period>,
}

impl NewKey {
    pub fn new(tenant: Option<TenantId>, role: Role) -> NewKey {
        NewKey {
            tenant,
            role,
            purposes: None,
            label: None,
            expires_at: None,
            expires_in: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyCreated {
    pub id: String,
    /// The key itself. Shown once; only its hash is stored.
    pub key: String,
    pub tenant: Option<String>,
    pub role: String,
    pub purposes: Option<Vec<String>>,
    /// When the key stops working; null: never.
    pub expires_at: Option<String>,
    /// The key that created it (`local:<user>` at the command line).
    pub created_by: String,
    /// Who was told of the new key.
    pub notified: KeyNotified,
}

/// How a new key was made known: the outbox event for the tenant's `administrators`
/// webhook endpoint and the e-mail to the policy's contacts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyNotified {
    /// The `key.created` outbox event; null for a global key (it has no tenant).
    pub event: Option<String>,
    /// How many addresses the notice was mailed to.
    pub mailed: usize,
    /// Why fewer (or none) were mailed, when that is so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyInfo {
    pub id: String,
    pub tenant: Option<String>,
    pub role: String,
    pub purposes: Option<Vec<String>>,
    pub label: Option<String>,
    pub created_at: String,
    /// The key that created it; absent for keys made before this was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// When the key stops working; absent: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// When the key was revoked; absent while it is in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// Why an authentication failed: the reason code of its security event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Not of the form `vow_<id>_<secret>`.
    MalformedKey,
    /// No key has this id.
    UnknownKey,
    /// The id is known, the secret is not its own.
    WrongSecret,
    KeyRevoked,
    KeyExpired,
}

impl AuthFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::MalformedKey => "malformed_key",
            AuthFailure::UnknownKey => "unknown_key",
            AuthFailure::WrongSecret => "wrong_secret",
            AuthFailure::KeyRevoked => "key_revoked",
            AuthFailure::KeyExpired => "key_expired",
        }
    }
}

/// A token that was not let in: the error to answer with, and what a security event
/// records (never the secret).
#[derive(Debug)]
pub struct Rejected {
    /// None when the key could not be checked (the store did not answer).
    pub failure: Option<AuthFailure>,
    /// The id part of the token, when it parses as a Vow key.
    pub key_id: Option<String>,
    pub error: EngineError,
}

/// A key row as shown by listings and revocation.
fn key_info(k: ApiKeyRow) -> Result<KeyInfo> {
    Ok(KeyInfo {
        purposes: key_purposes(k.purposes.as_deref())?,
        id: k.id,
        tenant: k.tenant_id,
        role: k.role,
        label: k.label,
        created_at: ts(k.created_at),
        created_by: k.created_by,
        expires_at: k.expires_at.map(ts),
        revoked_at: k.revoked_at.map(ts),
    })
}

/// A key's purpose restriction as the store keeps it (a JSON list), for showing.
fn key_purposes(stored: Option<&str>) -> Result<Option<Vec<String>>> {
    stored
        .map(|p| crate::stored::list("key purposes", p))
        .transpose()
}

impl Engine {
    /// A new API key. `tenant` None makes a global admin key (only admins may).
    /// The same as [`Engine::create_key`] without an expiry.
    pub async fn create_api_key(
        &self,
        actor: &Actor,
        tenant: Option<&TenantId>,
        role: Role,
        purposes: Option<Vec<String>>,
        label: Option<&str>,
    ) -> Result<ApiKeyCreated> {
        let mut k = NewKey::new(tenant.cloned(), role);
        k.purposes = purposes;
        k.label = label.map(str::to_string);
        self.create_key(actor, &k).await
    }

    /// A new API key, if the grant table lets `actor` create it (see
    /// [`vow_core::role::GRANTS`]): a global admin key and the command line may create
    /// any key; a tenant's key only keys of the roles its own role grants, an app key
    /// only for purposes it holds itself, and never one that outlives it. The creation
    /// is written with a `key.created` outbox event and its audit entry in one
    /// transaction; the tenant's privacy contacts are mailed after the commit.
    pub async fn create_key(&self, actor: &Actor, new: &NewKey) -> Result<ApiKeyCreated> {
        let tenant = new.tenant.as_ref().map(TenantId::as_str);
        let role = new.role;
        let global = actor.is_global_admin();
        match tenant {
            Some(t) => {
                self.scope(actor, t)?;
                if !global {
                    actor.caller.role.may_grant(role).map_err(|rule| {
                        EngineError::GrantRefused(
                            rule,
                            format!(
                                "a key with role {} may not create a key with role {role}",
                                actor.caller.role
                            ),
                        )
                    })?;
                }
            }
            None => {
                if !global {
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
        let purposes = check_purposes(role, new.purposes.as_deref())?;
        if let Some(l) = &new.label {
            crate::vault::tenants::check_text("/label", l, 200)?;
        }
        let expires_at = self.expiry(actor, new)?;
        let (id, token, hash) = vow_crypto::new_api_key()?;
        let now = self.now_ms();
        let row = ApiKeyRow {
            id: id.clone(),
            tenant_id: tenant.map(str::to_string),
            role: role.as_str().to_string(),
            purposes: purposes.as_ref().map(|p| json!(p).to_string()),
            secret_hash: hash.to_vec(),
            label: new.label.clone(),
            created_at: now,
            revoked_at: None,
            expires_at: expires_at.map(Timestamp::as_millisecond),
            created_by: Some(actor.id().to_string()),
        };
        let mut tx = self.store.write().await?;
        let mut addresses = Vec::new();
        let mut event = None;
        if let Some(t) = tenant {
            tx.tenant(t).await?.ok_or(EngineError::NotFound("tenant"))?;
            let policy = match self.policy_for(&mut tx, t).await {
                Ok((p, _)) => Some(p),
                Err(EngineError::NoPolicy(_)) => None,
                Err(e) => return Err(e),
            };
            if !global && role == Role::App {
                held_purposes(actor, policy.as_deref(), purposes.as_deref())?;
            }
            if let Some(p) = &policy {
                addresses = privacy_contacts(p);
            }
            let o = OutboxRow {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: t.to_string(),
                event: "key.created".into(),
                recipient: Some(ADMINISTRATORS.into()),
                payload:
                    json!({"key_id": id, "tenant": t, "role": role.as_str(), "purposes": purposes,
                                "expires_at": expires_at.map(vow_core::wire::time),
                                "created_by": actor.id(), "created_at": ts(now)})
                    .to_string(),
                sealed: None,
                subject_id: None,
                created_at: now,
                delivered_at: None,
            };
            tx.insert_outbox(&o).await?;
            event = Some(o.id);
        }
        tx.insert_api_key(&row).await?;
        let entry = self.audit_entry(
            actor,
            tenant,
            "key.create",
            None,
            None,
            json!({"key_id": id, "role": role.as_str(), "purposes": purposes,
                   "expires_at": expires_at.map(vow_core::wire::time),
                   "event": event, "contacts": addresses.len()}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        let created = ApiKeyCreated {
            id,
            key: token,
            tenant: tenant.map(str::to_string),
            role: role.as_str().to_string(),
            purposes,
            expires_at: expires_at.map(vow_core::wire::time),
            created_by: actor.id().to_string(),
            notified: KeyNotified {
                event,
                mailed: 0,
                note: None,
            },
        };
        Ok(self.mail_key_notice(created, &addresses).await)
    }

    /// When a new key expires: as asked, and never after the key that creates it.
    fn expiry(&self, actor: &Actor, new: &NewKey) -> Result<Option<Timestamp>> {
        let now = self.now();
        let asked = match (new.expires_at, new.expires_in) {
            (Some(_), Some(_)) => {
                return Err(EngineError::invalid(
                    "/expires_in",
                    "give expires_at or expires_in, not both",
                ));
            }
            (Some(at), None) => Some(at),
            (None, Some(p)) => Some(p.after(now)),
            (None, None) => None,
        };
        if asked.is_some_and(|at| at <= now) {
            return Err(EngineError::invalid("/expires_at", "must be in the future"));
        }
        Ok(match (asked, actor.expires_at) {
            (Some(a), Some(limit)) => Some(a.min(limit)),
            (None, limit) => limit,
            (asked, None) => asked,
        })
    }

    /// Mail the new key's notice to the tenant's privacy contacts (after the commit);
    /// say in the answer who was mailed, or why nobody was.
    async fn mail_key_notice(&self, mut k: ApiKeyCreated, to: &[String]) -> ApiKeyCreated {
        let Some(tenant) = k.tenant.clone() else {
            k.notified.note = Some(
                "a global key belongs to no tenant: no outbox event and no mail; the audit chain records it (key.create)".into(),
            );
            return k;
        };
        if to.is_empty() {
            k.notified.note = Some(
                "the tenant's policy names no e-mail contact (contacts with channel email): nobody was mailed".into(),
            );
            return k;
        }
        let Some(mailer) = self.mailer() else {
            k.notified.note =
                Some("no mail transport is configured on this server: nobody was mailed".into());
            return k;
        };
        let (subject, text, html) = key_notice(&tenant, &k, &self.now());
        for address in to {
            match mailer.send_message(address, &subject, &text, &html).await {
                Ok(_) => k.notified.mailed += 1,
                Err(e) => {
                    tracing::warn!(key = %k.id, code = e.code(), "a new key's notice could not be mailed")
                }
            }
        }
        if k.notified.mailed < to.len() {
            k.notified.note = Some(format!(
                "{} of {} contacts could not be mailed (the server's log says why)",
                to.len() - k.notified.mailed,
                to.len()
            ));
        }
        k
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
            .map(key_info)
            .collect()
    }

    /// The actor an API key stands for, or `Unauthenticated` (`KeyExpired` for a key
    /// past its expiry).
    pub async fn authenticate(&self, token: &str) -> Result<Actor> {
        self.authenticate_token(token).await.map_err(|r| r.error)
    }

    /// As [`Engine::authenticate`], saying why a token was refused. The key's row is
    /// read on every call (one indexed read, no cache), so a key revoked on any server
    /// is refused by every server from its next request.
    pub async fn authenticate_token(&self, token: &str) -> std::result::Result<Actor, Rejected> {
        let refuse = |failure: AuthFailure, key_id: Option<String>| Rejected {
            failure: Some(failure),
            key_id,
            error: if failure == AuthFailure::KeyExpired {
                EngineError::KeyExpired
            } else {
                EngineError::Unauthenticated
            },
        };
        let Ok((id, hash)) = vow_crypto::parse_api_key(token) else {
            return Err(refuse(AuthFailure::MalformedKey, None));
        };
        let row = match self.store.api_key(&id).await {
            Ok(Some(r)) => r,
            Ok(None) => return Err(refuse(AuthFailure::UnknownKey, Some(id))),
            Err(e) => {
                return Err(Rejected {
                    failure: None,
                    key_id: Some(id),
                    error: e.into(),
                });
            }
        };
        if !vow_crypto::ct_eq(&row.secret_hash, &hash) {
            return Err(refuse(AuthFailure::WrongSecret, Some(id)));
        }
        self.actor_of_key(&row)
    }

    /// The actor a stored key stands for, if it is neither revoked nor expired (a
    /// console session re-checks its key with this on every request).
    pub(crate) fn actor_of_key(
        &self,
        row: &vow_store::ApiKeyRow,
    ) -> std::result::Result<Actor, Rejected> {
        let id = row.id.clone();
        let refuse = |failure: AuthFailure, key_id: Option<String>| Rejected {
            failure: Some(failure),
            key_id,
            error: if failure == AuthFailure::KeyExpired {
                EngineError::KeyExpired
            } else {
                EngineError::Unauthenticated
            },
        };
        if row.revoked_at.is_some() {
            return Err(refuse(AuthFailure::KeyRevoked, Some(id)));
        }
        if row.expires_at.is_some_and(|at| at <= self.now_ms()) {
            return Err(refuse(AuthFailure::KeyExpired, Some(id)));
        }
        let actor = (|| {
            let role = crate::engine::stored("key role", &row.role, Role::parse)?;
            let purposes = row
                .purposes
                .as_deref()
                .map(|p| crate::stored::purposes("key purposes", p))
                .transpose()?;
            let tenant = match &row.tenant_id {
                Some(t) => Some(TenantId::new(t.as_str()).map_err(|_| {
                    EngineError::Internal("a stored key's tenant is malformed".into())
                })?),
                None => None,
            };
            let mut actor = Actor::key(
                Caller {
                    key_id: row.id.clone(),
                    role,
                    purposes,
                },
                tenant,
            );
            actor.expires_at = row.expires_at.map(crate::engine::at);
            Ok(actor)
        })();
        actor.map_err(|error| Rejected {
            failure: None,
            key_id: Some(id),
            error,
        })
    }

    /// Revoke an API key. With `tenant`, the key must belong to that tenant (any other
    /// key, or a key that does not exist, is `NotFound`); without, only a global admin
    /// (or the command line) may revoke, and any key. Revoking a revoked key changes
    /// nothing. Every server refuses the key from its next request: keys are not cached.
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
        let mut row = tx
            .api_key(id)
            .await?
            .filter(|k| tenant.is_none() || k.tenant_id.as_deref() == tenant)
            .ok_or(EngineError::NotFound("api key"))?;
        let at = self.now_ms();
        if tx.revoke_api_key(id, at).await? {
            // Its console sessions end with it (each request re-checks the key too).
            tx.delete_console_sessions_of_key(id).await?;
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
        row.revoked_at = Some(row.revoked_at.unwrap_or(at));
        key_info(row)
    }
}

/// The purposes a key is limited to: app keys must list some; other roles none.
fn check_purposes(role: Role, purposes: Option<&[String]>) -> Result<Option<Vec<String>>> {
    match (role, purposes) {
        (Role::App, Some(p)) if !p.is_empty() => {
            for (i, s) in p.iter().enumerate() {
                PurposeId::new(s.as_str())
                    .map_err(|e| EngineError::invalid(format!("/purposes/{i}"), e.to_string()))?;
            }
            Ok(Some(p.to_vec()))
        }
        (Role::App, _) => Err(EngineError::invalid(
            "/purposes",
            "an app key must list the purposes it may read for",
        )),
        (_, Some(p)) if !p.is_empty() => Err(EngineError::invalid(
            "/purposes",
            "only app keys are limited to purposes",
        )),
        _ => Ok(None),
    }
}

/// An app key made by a tenant's key may only carry purposes that key holds: those on
/// it, or, for a key not limited to purposes (an operator), those of the policy in force.
fn held_purposes(
    actor: &Actor,
    policy: Option<&vow_core::Policy>,
    asked: Option<&[String]>,
) -> Result<()> {
    for p in asked.unwrap_or_default() {
        let held = match &actor.caller.purposes {
            Some(own) => own.iter().any(|o| o.as_str() == p),
            None => policy.is_some_and(|pol| pol.purposes.iter().any(|d| d.id.as_str() == p)),
        };
        if !held {
            return Err(EngineError::GrantRefused(
                GrantRule::PurposesNotHeld,
                format!(
                    "the key creating it does not hold the purpose {p}{}",
                    if policy.is_none() {
                        " (the tenant has no policy yet)"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    Ok(())
}

/// The privacy team's e-mail addresses: the policy's contacts with channel `email`.
fn privacy_contacts(policy: &vow_core::Policy) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in &policy.contacts {
        let a = c.address.trim();
        if c.channel == vow_core::policy::ContactChannel::Email
            && !out.iter().any(|o| o.eq_ignore_ascii_case(a))
        {
            out.push(a.to_string());
        }
    }
    out
}

/// The administrators' notice of a new key: (subject, text, HTML). Ids, role and
/// purposes; never the key.
fn key_notice(tenant: &str, k: &ApiKeyCreated, now: &Timestamp) -> (String, String, String) {
    let mut items = vec![
        format!("key id: {}", k.id),
        format!("role: {}", k.role),
        format!("created by: {}", k.created_by),
    ];
    if let Some(p) = &k.purposes {
        items.push(format!("purposes: {}", p.join(", ")));
    }
    items.push(match k.expires_at.as_deref() {
        Some(at) => match at.parse::<Timestamp>() {
            Ok(t) => format!("expires: {}", vow_render::letter::moment(t)),
            Err(_) => format!("expires: {at}"),
        },
        None => "expires: never".to_string(),
    });
    let sections = [
        Section {
            heading: None,
            paragraphs: vec![
                "Hello,".to_string(),
                format!(
                    "A new API key was created for tenant {tenant} on {}.",
                    vow_render::letter::moment(*now)
                ),
            ],
            items,
        },
        Section {
            heading: Some("If you did not expect it".into()),
            paragraphs: vec![format!(
                "Revoke it at once: vow key revoke --tenant {tenant} {}, or DELETE /v1/tenants/{tenant}/keys/{}. Every server refuses it from its next request.",
                k.id, k.id
            )],
            items: Vec::new(),
        },
    ];
    render_sections(
        &format!("Vow: a new {} key for {tenant}", k.role),
        "A new API key",
        &format!("Tenant {tenant}, key {}", k.id),
        &sections,
        &[format!(
            "Sent by Vow to the privacy contacts of tenant {tenant}."
        )],
    )
}
