//! The health reserve. When `vow serve` holds as many connections as it serves in
//! full, it still accepts a few more, so that a load balancer's health checks get an
//! answer while slow or idle clients fill the server. Requests on such a connection
//! carry [`FromReserve`]; they may reach the health and metrics paths only, and any
//! other path gets `503 server_busy` with `Retry-After`.

use crate::problem::ApiError;
use axum::extract::Request;
use axum::http::{HeaderValue, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vow_engine::ErrorCode;

/// Marks a request that came on a connection from the health reserve (set by the
/// listener, `vow serve`'s crates/vow/src/listen.rs).
#[derive(Debug, Clone, Copy)]
pub struct FromReserve;

/// What a connection from the reserve may reach.
pub const HEALTH_PATHS: &[&str] = &["/healthz", "/livez", "/metrics"];

/// Seconds a client is told to wait before trying again.
const RETRY_AFTER_SECS: &str = "5";

/// Middleware: a request from the reserve for any other path is refused, and its
/// HTTP/1 connection closed, which frees the slot.
pub async fn health_only(req: Request, next: Next) -> Response {
    if req.extensions().get::<FromReserve>().is_none() || HEALTH_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let mut res = ApiError::http(
        ErrorCode::ServerBusy,
        "the server is at its connection limit and serves only its health checks now; retry shortly",
    )
    .into_response();
    let h = res.headers_mut();
    h.insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECS),
    );
    if req.version() <= Version::HTTP_11 {
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}
