//! Recording and listing security events. A row holds the time, the kind, a reason
//! code, the key id (the id part of the token presented, when it parses as a Vow key;
//! never the secret), the key's tenant when the key is known, the tenant asked for,
//! the method and the route template; never a raw path or query, which could hold an
//! identifier such as `?email=`, and never the client's address (used only, in
//! memory, to rate-limit recording).

use crate::engine::ts;
use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_store::SecurityEventRow;

/// Events are kept this long (90 days)…
pub const RETENTION_DAYS: i64 = 90;
/// …and at most this many rows, the newest.
pub const MAX_ROWS: i64 = 100_000;
/// At most this many events per listing.
const MAX_LIST: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityKind {
    /// A key that is malformed, unknown, wrong, revoked or expired.
    AuthenticationFailed,
    /// A known key whose role may not do what it asked (`forbidden`,
    /// `grant_not_allowed`).
    Forbidden,
    /// A tenant's key naming another tenant.
    CrossTenant,
    /// A link token (one-click unsubscribe) that is forged, altered or expired.
    InvalidLink,
}

impl SecurityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityKind::AuthenticationFailed => "authentication_failed",
            SecurityKind::Forbidden => "forbidden",
            SecurityKind::CrossTenant => "cross_tenant",
            SecurityKind::InvalidLink => "invalid_link",
        }
    }
}

/// One attempt to record, as the HTTP layer saw it.
#[derive(Debug, Clone)]
pub struct SecurityAttempt {
    pub kind: SecurityKind,
    /// A reason code: an [`crate::AuthFailure`], or an error code of the catalogue.
    pub reason: &'static str,
    pub key_id: Option<String>,
    pub key_tenant: Option<TenantId>,
    /// The tenant the route named.
    pub tenant: Option<TenantId>,
    pub method: String,
    /// The route template, never the path itself.
    pub route: String,
    /// Where the attempt came from, for rate limiting only; never stored.
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecurityEventView {
    pub seq: i64,
    pub at: String,
    /// `authentication_failed`, `forbidden`, `cross_tenant` or `invalid_link`.
    pub kind: String,
    /// `malformed_key`, `unknown_key`, `wrong_secret`, `key_revoked`, `key_expired`,
    /// `forbidden`, `grant_not_allowed`, `other_tenant`, `unsubscribe_token` or
    /// `unsubscribe_expired`.
    pub reason: String,
    /// The id part of the key presented (`vow key list` shows it); absent when the
    /// token did not parse as a Vow key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The key's tenant, when known (a tenant's listing shows only its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_tenant: Option<String>,
    /// The tenant the request named (a tenant's listing shows only its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub method: String,
    /// The route template, e.g. `/v1/tenants/{t}/subjects/{s}/history`.
    pub route: String,
}

impl Engine {
    /// Record one attempt, unless its source (the key id, else the address) or this
    /// server has recorded its share this minute (see [`crate::security::limit`]).
    /// Old rows and rows over [`MAX_ROWS`] are trimmed in the same transaction.
    /// Returns whether it was recorded.
    pub async fn record_security_event(&self, a: SecurityAttempt) -> Result<bool> {
        let source = a.key_id.as_deref().or(a.source.as_deref()).unwrap_or("-");
        if !self.security.admit(source) {
            metrics::counter!("vow_security_events_dropped_total").increment(1);
            return Ok(false);
        }
        let now = self.now_ms();
        let row = SecurityEventRow {
            seq: 0,
            at: now,
            kind: a.kind.as_str().to_string(),
            reason: a.reason.to_string(),
            key_id: a.key_id,
            key_tenant: a.key_tenant.map(|t| t.as_str().to_string()),
            tenant_id: a.tenant.map(|t| t.as_str().to_string()),
            method: a.method,
            route: a.route,
        };
        let mut tx = self.store.write().await?;
        tx.insert_security_event(&row).await?;
        tx.trim_security_events(now - RETENTION_DAYS * 86_400_000, MAX_ROWS)
            .await?;
        tx.commit().await?;
        metrics::counter!("vow_security_events_total", "kind" => row.kind).increment(1);
        Ok(true)
    }

    /// Security events at or after `since`, newest first (at most `limit`, 100 by
    /// default, 1,000 at most). With a tenant: for its auditor keys (or the global
    /// admin), the events that named the tenant or were made with its keys; another
    /// tenant's name is left out. Without: every event, for the global admin only.
    pub async fn security_events(
        &self,
        actor: &Actor,
        tenant: Option<&TenantId>,
        since: Option<Timestamp>,
        limit: Option<u32>,
    ) -> Result<Vec<SecurityEventView>> {
        let tenant = tenant.map(TenantId::as_str);
        match tenant {
            Some(t) if !actor.is_global_admin() => {
                self.authorize(actor, Capability::ReadSecurityEvents, t)?
            }
            Some(_) => {}
            None if actor.is_global_admin() => {}
            None => {
                return Err(EngineError::Forbidden(
                    "every tenant's security events are for the global admin; an auditor key lists its tenant's: GET /v1/tenants/{t}/security-events".into(),
                ));
            }
        }
        let limit = i64::from(limit.unwrap_or(100).clamp(1, MAX_LIST));
        let since = since.map_or(0, Timestamp::as_millisecond);
        let mut tx = self.store.read().await?;
        if let Some(t) = tenant {
            tx.tenant(t).await?.ok_or(EngineError::NotFound("tenant"))?;
        }
        let rows = tx.security_events(tenant, since, limit).await?;
        let own = |name: Option<String>| match tenant {
            Some(t) => name.filter(|n| n == t),
            None => name,
        };
        Ok(rows
            .into_iter()
            .map(|r| SecurityEventView {
                seq: r.seq,
                at: ts(r.at),
                kind: r.kind,
                reason: r.reason,
                key_id: r.key_id,
                key_tenant: own(r.key_tenant),
                tenant: own(r.tenant_id),
                method: r.method,
                route: r.route,
            })
            .collect())
    }
}
