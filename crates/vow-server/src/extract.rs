//! Extractors: the caller's identity, and JSON bodies whose errors are problem documents.

use crate::problem::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use vow_core::TenantId;
use vow_engine::{Actor, EngineError, ErrorCode, FieldError};

/// The authenticated caller.
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(EngineError::Unauthenticated)?;
        let actor = state.engine.authenticate(token.trim()).await?;
        Ok(Auth(actor))
    }
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// The `{t}` of a path as a tenant id. A malformed one names no tenant, so it answers
/// as an unknown tenant does (404), never with the text sent.
pub fn tenant(t: &str) -> Result<TenantId, ApiError> {
    TenantId::new(t).map_err(|_| EngineError::NotFound("tenant").into())
}

/// A JSON body whose errors are problem documents naming where and what was expected,
/// never what was sent (`vow_core::json`).
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::http(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::http(
                    ErrorCode::PayloadTooLarge,
                    "the body is larger than this endpoint accepts",
                ),
                _ => ApiError::http(
                    ErrorCode::UnreadableBody,
                    "the request body could not be read",
                ),
            })?;
        match vow_core::json::from_slice(&bytes) {
            Ok(v) => Ok(Body(v)),
            Err(p) if p.syntax => Err(ApiError::http(ErrorCode::MalformedJson, p.to_string())),
            // Wrong shape: the pointer goes in `errors`, as for the engine's own checks.
            Err(p) => Err(EngineError::Invalid(vec![FieldError::new(
                p.pointer.clone(),
                format!("{} (line {}, column {})", p.what, p.line, p.column),
            )])
            .into()),
        }
    }
}

/// `application/json`, or any `application/…+json`, whatever the parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}
