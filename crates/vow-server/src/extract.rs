//! Extractors: the caller's identity, and JSON bodies whose errors are problem documents.

use crate::problem::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use std::sync::{Arc, OnceLock};
use vow_core::TenantId;
use vow_engine::{Actor, AuthFailure, EngineError, ErrorCode, FieldError};

/// The authenticated caller.
pub struct Auth(pub Actor);

/// What authenticating this request found, for the security-event recorder around
/// the handlers (`crate::security::record_attempts`), which puts an empty one in the
/// request and reads it after the response.
#[derive(Clone, Default)]
pub struct Seen(pub Arc<OnceLock<Found>>);

#[derive(Debug, Clone)]
pub enum Found {
    /// A key in force: its id and tenant (None: a global key).
    Key {
        id: String,
        tenant: Option<TenantId>,
    },
    /// A key refused: why, and its id when the token parsed as a Vow key.
    Failed {
        reason: AuthFailure,
        key_id: Option<String>,
    },
}

fn note(parts: &Parts, found: Found) {
    if let Some(seen) = parts.extensions.get::<Seen>() {
        let _ = seen.0.set(found);
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(EngineError::Unauthenticated)?;
        match state.engine.authenticate_token(token.trim()).await {
            Ok(actor) => {
                note(
                    parts,
                    Found::Key {
                        id: actor.id().to_string(),
                        tenant: actor.tenant.clone(),
                    },
                );
                Ok(Auth(actor))
            }
            Err(rejected) => {
                if let Some(reason) = rejected.failure {
                    note(
                        parts,
                        Found::Failed {
                            reason,
                            key_id: rejected.key_id,
                        },
                    );
                }
                Err(rejected.error.into())
            }
        }
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
