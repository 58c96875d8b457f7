//! Webhook delivery over HTTP, and the endpoints for recipients and deliveries.
//!
//! The engine decides what is due and what becomes of each attempt; this module only
//! sends: signed per the Standard Webhooks specification, with a timeout, no redirects,
//! no proxy, and to no address the server-side request forgery guard refuses. The
//! guard runs after DNS resolution and the connection goes to the address it checked,
//! so a name that resolves to an internal address (DNS rebinding) gets nowhere.

use crate::extract::{Auth, Body, tenant};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use utoipa::ToSchema;
use vow_core::webhook::{NetAllow, forbidden};
use vow_core::{DeliveryState, Pii, TenantId};
use vow_engine::obligations::webhooks::{
    AttemptResult, DeliveryDetail, DeliveryReport, DeliveryView, EndpointView, Outgoing,
    RecipientView, RotatedSecretView,
};
use vow_engine::{Actor, Engine, EngineError};

type Result<T> = std::result::Result<T, ApiError>;

/// Events claimed per round of a pass; they are sent concurrently.
const BATCH: usize = 64;
/// At most this many events per pass; the next pass takes the rest.
const MAX_PER_PASS: usize = 100_000;

/// A resolved address the guard refused.
#[derive(Debug)]
struct ForbiddenAddress(&'static str);

impl std::fmt::Display for ForbiddenAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the host resolves to a {} address", self.0)
    }
}

impl std::error::Error for ForbiddenAddress {}

/// Resolves with the system resolver and keeps only addresses the guard allows; the
/// HTTP client connects to nothing else.
struct GuardedResolver {
    allow: NetAllow,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let ok: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|a| match forbidden(a.ip(), allow) {
                    Some(why) => {
                        refused = Some(why);
                        false
                    }
                    None => true,
                })
                .collect();
            if ok.is_empty() {
                let why = refused.unwrap_or("unresolvable");
                return Err(
                    Box::new(ForbiddenAddress(why)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(ok.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Sends webhooks. Cheap to clone.
#[derive(Clone)]
pub struct Deliverer {
    client: reqwest::Client,
    allow: NetAllow,
}

impl Deliverer {
    /// A client that reaches only what `allow` permits, giving up on an attempt after
    /// `timeout`.
    pub fn new(allow: NetAllow, timeout: Duration) -> std::result::Result<Deliverer, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect could point anywhere; the endpoint registered is the endpoint used.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(GuardedResolver { allow })
            .user_agent(concat!("vow-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(Deliverer { client, allow })
    }

    /// A deliverer for the engine's configured address allowances.
    pub fn for_engine(
        engine: &Engine,
        timeout: Duration,
    ) -> std::result::Result<Deliverer, String> {
        Deliverer::new(engine.webhook_net(), timeout)
    }

    /// One attempt: POST the body with the Standard Webhooks headers.
    pub async fn send(&self, o: &Outgoing, at: i64) -> AttemptResult {
        let started = Instant::now();
        let result = self.try_send(o).await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        match result {
            Ok((status, retry_after_ms)) => AttemptResult {
                at,
                status: Some(status),
                error: None,
                duration_ms,
                retry_after_ms,
            },
            Err(class) => AttemptResult {
                at,
                status: None,
                error: Some(class.to_string()),
                duration_ms,
                retry_after_ms: None,
            },
        }
    }

    /// Which internal addresses this deliverer's client may reach.
    pub fn allow(&self) -> NetAllow {
        self.allow
    }

    /// The status, and the receiver's `Retry-After` in milliseconds if it sent one.
    async fn try_send(
        &self,
        o: &Outgoing,
    ) -> std::result::Result<(u16, Option<i64>), &'static str> {
        // The signing time is the wall clock's: receivers compare it with theirs.
        let timestamp = jiff::Timestamp::now().as_second();
        let mut signature = o.secret.sign(&o.id, timestamp, &o.body);
        // During a secret rotation's overlap both sign, space-separated as the
        // specification allows: a receiver holding either secret verifies.
        if let Some(previous) = &o.previous {
            signature.push(' ');
            signature.push_str(&previous.sign(&o.id, timestamp, &o.body));
        }
        let headers = [
            ("content-type", "application/json".to_string()),
            ("webhook-id", o.id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        self.post(&o.url, &headers, &o.body).await
    }

    /// One guarded POST of `body` with `headers` (webhook deliveries and the engine's
    /// outbound posts alike): the status and the receiver's `Retry-After` in
    /// milliseconds, or an error class (see [`classify`]).
    pub(crate) async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &[u8],
    ) -> std::result::Result<(u16, Option<i64>), &'static str> {
        let url = reqwest::Url::parse(url).map_err(|_| "bad_url")?;
        // Literal addresses never pass through the resolver: check them here.
        let literal = match url.host() {
            Some(url::Host::Ipv4(a)) => Some(IpAddr::from(a)),
            Some(url::Host::Ipv6(a)) => Some(IpAddr::from(a)),
            Some(url::Host::Domain(_)) => None,
            None => return Err("bad_url"),
        };
        if let Some(ip) = literal
            && forbidden(ip, self.allow).is_some()
        {
            return Err("forbidden_address");
        }
        let mut req = self.client.post(url);
        for (name, value) in headers {
            req = req.header(*name, value.as_str());
        }
        let res = req.body(body.to_vec()).send().await.map_err(classify)?;
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after_ms(v, jiff::Timestamp::now()));
        Ok((res.status().as_u16(), retry_after))
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date. Milliseconds from
/// `now`; None when it cannot be read.
fn retry_after_ms(value: &str, now: jiff::Timestamp) -> Option<i64> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u32>() {
        return Some(i64::from(secs) * 1000);
    }
    let at = jiff::fmt::rfc2822::parse(v).ok()?.timestamp();
    Some((at.as_millisecond() - now.as_millisecond()).max(0))
}

/// An error class for the history: never the URL, a body or a message from the peer.
fn classify(e: reqwest::Error) -> &'static str {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if s.downcast_ref::<ForbiddenAddress>().is_some() {
            return "forbidden_address";
        }
        source = s.source();
    }
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "request"
    }
}

/// One pass: claim what is due (of one tenant, or all), send it, record the outcomes;
/// again until nothing is due.
pub async fn deliver_pass(
    engine: &Arc<Engine>,
    deliverer: &Deliverer,
    actor: &Actor,
    tenant: Option<&TenantId>,
) -> std::result::Result<DeliveryReport, EngineError> {
    let mut report = DeliveryReport::default();
    // Bounded, so events that fail and fall due again at once cannot keep a pass going.
    while report.claimed < MAX_PER_PASS {
        let before = report.claimed;
        let batch = engine
            .claim_deliveries(actor, tenant, BATCH, &mut report)
            .await?;
        let mut tasks = tokio::task::JoinSet::new();
        for o in batch {
            let d = deliverer.clone();
            let at = engine.now().as_millisecond();
            tasks.spawn(async move {
                let r = d.send(&o, at).await;
                (o, r)
            });
        }
        let mut results = Vec::new();
        while let Some(done) = tasks.join_next().await {
            if let Ok(r) = done {
                results.push(r);
            }
        }
        engine
            .record_deliveries(actor, results, &mut report)
            .await?;
        // Less than a full batch: nothing more is due now.
        if report.claimed - before < BATCH {
            break;
        }
    }
    Ok(report)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointIn {
    /// `https://…` (plain http only where loopback is allowed).
    pub url: String,
    /// A `whsec_…` secret to use; omit it and Vow generates one and shows it once.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub secret: Option<Pii<String>>,
}

/// Register or replace a recipient's webhook endpoint. The recipient must be in the
/// policy in force. The signing secret is returned once, when generated.
#[utoipa::path(put, path = "/v1/tenants/{t}/recipients/{r}/endpoint", tag = "webhooks",
    params(("t" = String, Path), ("r" = String, Path)), request_body = EndpointIn,
    responses((status = 200, body = EndpointView), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_endpoint(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r)): Path<(String, String)>,
    Body(b): Body<EndpointIn>,
) -> Result<Json<EndpointView>> {
    let t = tenant(&t)?;
    Ok(Json(
        s.engine
            .put_endpoint(&actor, &t, &r, &b.url, b.secret.as_ref())
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateIn {
    /// A `whsec_…` secret to use; omit it and Vow generates one and shows it once.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub secret: Option<Pii<String>>,
    /// How long the previous secret keeps signing too, in seconds: 0 to 604800
    /// (seven days); default 86400 (a day). 0 stops it at once.
    #[serde(default)]
    pub overlap_secs: Option<i64>,
}

/// Rotate a recipient endpoint's signing secret. The new secret signs from now on; for
/// the overlap window every delivery is also signed with the previous one
/// (`webhook-signature: v1,<new> v1,<previous>`), so the recipient switches without
/// downtime. The new secret is returned once, when generated.
#[utoipa::path(post, path = "/v1/tenants/{t}/recipients/{r}/endpoint/rotate", tag = "webhooks",
    params(("t" = String, Path), ("r" = String, Path)), request_body = RotateIn,
    responses((status = 200, body = RotatedSecretView), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn rotate_secret(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r)): Path<(String, String)>,
    Body(b): Body<RotateIn>,
) -> Result<Json<RotatedSecretView>> {
    let t = tenant(&t)?;
    Ok(Json(
        s.engine
            .rotate_endpoint_secret(&actor, &t, &r, b.secret.as_ref(), b.overlap_secs)
            .await?,
    ))
}

/// The policy's recipients with their endpoint URL (never the secret) and delivery counts.
#[utoipa::path(get, path = "/v1/tenants/{t}/recipients", tag = "webhooks", params(("t" = String, Path)),
    responses((status = 200, body = Vec<RecipientView>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list_recipients(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
) -> Result<Json<Vec<RecipientView>>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.recipients(&actor, &t).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// `pending`, `delivered` or `dead`.
    pub state: Option<String>,
}

/// Outbox events with their delivery state, newest first.
#[utoipa::path(get, path = "/v1/tenants/{t}/deliveries", tag = "webhooks", params(("t" = String, Path), DeliveriesQuery),
    responses((status = 200, body = Vec<DeliveryView>), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_deliveries(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    q: std::result::Result<Query<DeliveriesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<DeliveryView>>> {
    let Ok(Query(q)) = q else {
        return Err(EngineError::invalid("/state", "the only query parameter is state").into());
    };
    let t = tenant(&t)?;
    let state =
        match q.state.as_deref() {
            Some(x) => Some(DeliveryState::parse(x).ok_or_else(|| {
                EngineError::invalid("/state", "must be pending, delivered or dead")
            })?),
            None => None,
        };
    Ok(Json(s.engine.deliveries(&actor, &t, state).await?))
}

/// One event with the history of its attempts (no bodies).
#[utoipa::path(get, path = "/v1/tenants/{t}/deliveries/{id}", tag = "webhooks",
    params(("t" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = DeliveryDetail), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_delivery(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, id)): Path<(String, String)>,
) -> Result<Json<DeliveryDetail>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.delivery(&actor, &t, &id).await?))
}

/// Make a dead or pending event due now, with a fresh three-day horizon.
#[utoipa::path(post, path = "/v1/tenants/{t}/deliveries/{id}/retry", tag = "webhooks",
    params(("t" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = DeliveryView), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn retry_delivery(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<DeliveryView>)> {
    let t = tenant(&t)?;
    Ok((
        StatusCode::OK,
        Json(s.engine.retry_delivery(&actor, &t, &id).await?),
    ))
}

#[cfg(test)]
mod tests {
    use super::retry_after_ms;

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        let now: jiff::Timestamp = "2026-11-06T08:49:37Z".parse().unwrap();
        assert_eq!(retry_after_ms("120", now), Some(120_000));
        assert_eq!(retry_after_ms(" 0 ", now), Some(0));
        assert_eq!(
            retry_after_ms("Fri, 06 Nov 2026 08:51:37 GMT", now),
            Some(120_000)
        );
        assert_eq!(
            retry_after_ms("Fri, 06 Nov 2026 08:00:00 GMT", now),
            Some(0)
        );
        assert_eq!(retry_after_ms("soon", now), None);
        assert_eq!(retry_after_ms("-5", now), None);
    }
}
