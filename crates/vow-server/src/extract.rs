//! Extractors: the caller's identity, and JSON bodies whose errors are problem documents.

use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::sync::{Arc, OnceLock};
use vow_core::TenantId;
use vow_engine::{Actor, AuthFailure, EngineError, ErrorCode};

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
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(EngineError::Unauthenticated)?;
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

/// The `{t}` of a path as a tenant id. A malformed one names no tenant, so it answers
/// as an unknown tenant does (404), never with the text sent.
pub fn tenant(t: &str) -> Result<TenantId, ApiError> {
    TenantId::new(t).map_err(|_| EngineError::NotFound("tenant").into())
}

/// `Json<T>` whose rejections are problem documents naming what is wrong.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::MissingJsonContentType(_) => ApiError::http(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with `Content-Type: application/json`",
        ),
        // serde's text names the position and the problem, never a value it could not read.
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::http(ErrorCode::MalformedJson, e.body_text())
        }
        JsonRejection::JsonDataError(e) => {
            ApiError::http(ErrorCode::InvalidRequest, data_error_text(&e.body_text()))
        }
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::http(
                ErrorCode::PayloadTooLarge,
                "the body is larger than this endpoint accepts",
            )
        }
        JsonRejection::BytesRejection(_) => ApiError::http(
            ErrorCode::UnreadableBody,
            "the request body could not be read",
        ),
        // Axum may add kinds of rejection; none is the server's fault.
        _ => ApiError::http(ErrorCode::BadRequest, "the body could not be taken as JSON"),
    }
}

/// serde's data errors may quote a value ("invalid type: string \"ada@…\""): keep
/// the path and the expectation, drop anything quoted.
fn data_error_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_quote = false;
    for c in text.chars() {
        if c == '"' {
            if !in_quote {
                out.push_str("\"…\"");
            }
            in_quote = !in_quote;
        } else if !in_quote {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoted_values_are_dropped() {
        let t = super::data_error_text(
            "fields[0].value: invalid type: string \"ada@example.org\", expected a map",
        );
        assert!(!t.contains("ada@"));
        assert!(t.contains("fields[0].value"));
    }
}
