//! RFC 9457 problem documents: the one place engine errors become HTTP.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use vow_engine::{EngineError, FieldError};

/// An error as `application/problem+json`. `type` is stable per error
/// (`urn:vow:problem:<code>`); `code` repeats its last segment for convenience.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    /// Which parts of the input are wrong, by JSON pointer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For refusals: every reason the decision function gave.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<vow_core::Reason>,
    /// For policy errors: each with file, line, column and path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub diagnostics: Vec<vow_policy::Diagnostic>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            type_: format!("urn:vow:problem:{code}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_string(),
            errors: Vec::new(),
            reasons: Vec::new(),
            diagnostics: Vec::new(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

/// Wraps an engine error so handlers can use `?`.
#[derive(Debug)]
pub struct ApiError(pub EngineError);

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        ApiError(e)
    }
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        ApiError(EngineError::Internal(p.detail))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        problem_for(self.0).into_response()
    }
}

pub fn problem_for(e: EngineError) -> Problem {
    use StatusCode as S;
    let code = e.code();
    let (status, title) = match &e {
        EngineError::Unauthenticated => (S::UNAUTHORIZED, "Authentication required"),
        EngineError::Forbidden(_) => (S::FORBIDDEN, "Not allowed"),
        EngineError::NotFound(_) => (S::NOT_FOUND, "Not found"),
        EngineError::Invalid(_) => (S::BAD_REQUEST, "Invalid request"),
        EngineError::Identifying(_) => (
            S::UNPROCESSABLE_ENTITY,
            "Identifying attributes are never aggregated",
        ),
        EngineError::Refused(_) => (S::FORBIDDEN, "Refused by the policy"),
        EngineError::Conflict(_) => (S::CONFLICT, "Conflict"),
        EngineError::Policy(_) => (S::UNPROCESSABLE_ENTITY, "The policy has errors"),
        EngineError::NoPolicy(_) => (S::CONFLICT, "No policy published"),
        EngineError::Audit(_) => (S::SERVICE_UNAVAILABLE, "Audit log unavailable"),
        EngineError::Store(_) => (S::SERVICE_UNAVAILABLE, "Storage unavailable"),
        EngineError::Crypto(_) | EngineError::Internal(_) => {
            (S::INTERNAL_SERVER_ERROR, "Internal error")
        }
    };
    let detail = match &e {
        // Internal details go to the log (with the request id), not to the caller.
        EngineError::Store(_)
        | EngineError::Crypto(_)
        | EngineError::Internal(_)
        | EngineError::Audit(_) => {
            tracing::error!(code, error = %e, "request failed");
            "the server could not complete the request; the log has details under this request's id"
                .to_string()
        }
        _ => e.to_string(),
    };
    let mut p = Problem::new(status, code, title, detail);
    match e {
        EngineError::Invalid(errors) | EngineError::Identifying(errors) => p.errors = errors,
        EngineError::Refused(d) => p.reasons = d.reasons,
        EngineError::Policy(d) => p.diagnostics = d,
        _ => {}
    }
    p
}

/// Errors made below the handlers (405 from the router, 408 from the timeout, 413 from
/// the body limit on a raw body) come without a problem document: give them one.
pub async fn bare_errors_as_problems(res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    // Handlers answer in JSON (problems, or reports such as a failed audit verification):
    // leave those alone; only bodies made by the layers below are replaced.
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/problem+json") || v.starts_with("application/json")
        });
    if is_json {
        return res;
    }
    let allow = res.headers().get(header::ALLOW).cloned();
    let (code, title, detail) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "Method not allowed",
            "this path does not take this method; see /openapi.json",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            "Request timeout",
            "the request took too long and was abandoned; nothing was committed",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "Payload too large",
            "the body is larger than this endpoint accepts (1 MiB)",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "Unsupported media type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        StatusCode::NOT_FOUND => ("not_found", "Not found", "no such resource"),
        _ if status.is_server_error() => (
            "internal",
            "Internal error",
            "the server could not complete the request",
        ),
        _ => (
            "bad_request",
            "Bad request",
            "the request could not be understood",
        ),
    };
    let mut out = Problem::new(status, code, title, detail).into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}
