//! Security events over HTTP: the layer that records failed authentication, forbidden
//! and cross-tenant attempts, and the endpoints that list them.

use crate::extract::{Auth, Found, Seen, tenant};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, MatchedPath, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;
use std::net::SocketAddr;
use vow_core::TenantId;
use vow_engine::security::{SecurityAttempt, SecurityEventView, SecurityKind};
use vow_engine::{EngineError, ErrorCode};

type Result<T> = std::result::Result<T, ApiError>;

/// Around every route: after the answer, record an attempt that failed authentication
/// (a key presented and refused), named another tenant than its key's, or was refused
/// for its role (`forbidden`, `grant_not_allowed`). The route is recorded as its
/// template, never the path or query sent.
pub async fn record_attempts(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let seen = Seen::default();
    req.extensions_mut().insert(seen.clone());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let asked = route
        .as_deref()
        .and_then(|r| tenant_named(r, req.uri().path()));
    let source = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let method = req.method().to_string();
    let res = next.run(req).await;
    let Some(found) = seen.0.get() else {
        return res;
    };
    let code = res.extensions().get::<ErrorCode>().copied();
    let (kind, reason, key_id, key_tenant) = match found {
        Found::Failed { reason, key_id } => (
            SecurityKind::AuthenticationFailed,
            reason.as_str(),
            key_id.clone(),
            None,
        ),
        Found::Key {
            id,
            tenant: Some(own),
        } if asked.as_ref().is_some_and(|a| a != own) => (
            SecurityKind::CrossTenant,
            "other_tenant",
            Some(id.clone()),
            Some(own.clone()),
        ),
        Found::Key { id, tenant: own }
            if res.status() == StatusCode::FORBIDDEN
                && matches!(
                    code,
                    Some(ErrorCode::Forbidden | ErrorCode::GrantNotAllowed)
                ) =>
        {
            (
                SecurityKind::Forbidden,
                code.map_or("forbidden", ErrorCode::as_str),
                Some(id.clone()),
                own.clone(),
            )
        }
        Found::Key { .. } => return res,
    };
    let attempt = SecurityAttempt {
        kind,
        reason,
        key_id,
        key_tenant,
        tenant: asked,
        method,
        route: route.unwrap_or_default(),
        source,
    };
    if let Err(e) = s.engine.record_security_event(attempt).await {
        tracing::warn!(code = e.code(), "a security event could not be recorded");
    }
    res
}

/// The `{t}` of a route template, read from the path at the same segment; None when
/// the route names no tenant or the segment is not a tenant id.
fn tenant_named(template: &str, path: &str) -> Option<TenantId> {
    let at = template.split('/').position(|seg| seg == "{t}")?;
    let seg = path.split('/').nth(at)?;
    TenantId::new(seg).ok()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events at or after this: an RFC 3339 time, or a period back from now
    /// (`24h`, `7d`).
    pub since: Option<String>,
    /// At most this many, newest first (default 100, at most 1,000).
    pub limit: Option<u32>,
}

async fn list(
    s: &AppState,
    actor: &vow_engine::Actor,
    t: Option<&TenantId>,
    q: std::result::Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<SecurityEventView>>> {
    let Ok(Query(q)) = q else {
        return Err(EngineError::invalid(
            "/since",
            "the query parameters are since (a time or a period such as 24h) and limit (a number)",
        )
        .into());
    };
    let since = match q.since.as_deref() {
        Some(x) => Some(vow_engine::input::since("/since", x, s.engine.now())?),
        None => None,
    };
    Ok(Json(
        s.engine.security_events(actor, t, since, q.limit).await?,
    ))
}

/// Every tenant's security events, newest first: for the global admin key.
#[utoipa::path(get, path = "/v1/security-events", tag = "security", params(EventsQuery),
    responses((status = 200, body = Vec<SecurityEventView>), (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_all(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: std::result::Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<SecurityEventView>>> {
    list(&s, &actor, None, q).await
}

/// A tenant's security events (those naming the tenant or made with its keys), newest
/// first: for its auditor keys and the global admin key.
#[utoipa::path(get, path = "/v1/tenants/{t}/security-events", tag = "security", params(("t" = String, Path), EventsQuery),
    responses((status = 200, body = Vec<SecurityEventView>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_tenant(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    q: std::result::Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<SecurityEventView>>> {
    let t = tenant(&t)?;
    list(&s, &actor, Some(&t), q).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tenant_is_read_at_the_templates_place() {
        let t = |tpl, path| super::tenant_named(tpl, path).map(|t| t.as_str().to_string());
        assert_eq!(
            t(
                "/v1/tenants/{t}/subjects/{s}/history",
                "/v1/tenants/acme/subjects/x/history"
            ),
            Some("acme".into())
        );
        assert_eq!(t("/v1/audit/verify", "/v1/audit/verify"), None);
        assert_eq!(t("/v1/tenants/{t}", "/v1/tenants/Not%20A%20Tenant"), None);
    }
}
