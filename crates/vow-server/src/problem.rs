//! RFC 9457 problem documents: the one place errors become HTTP.
//!
//! Every problem document is made by [`ApiError::into_problem`] from an entry of the
//! engine's catalogue ([`ErrorCode`]), which fixes its `type`, `code`, `status` and
//! `title`; nothing else can build one (the fields are private).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::borrow::Cow;
use utoipa::ToSchema;
use vow_engine::{EngineError, ErrorCode, FieldError};

/// An error as `application/problem+json`. `type` is stable per error
/// (`urn:vow:problem:<code>`); `code` repeats its last segment for convenience.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    type_: String,
    title: &'static str,
    status: u16,
    detail: String,
    code: &'static str,
    /// Which parts of the input are wrong, by JSON pointer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
    /// For refusals: every reason the decision function gave.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    reasons: Vec<vow_core::Reason>,
    /// For policy errors: each with file, line, column and path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    diagnostics: Vec<vow_policy::Diagnostic>,
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

/// An error on its way to the caller: one of the engine's, or one the HTTP layer
/// found (a body, query or route it could not take, a timeout). Handlers use `?`.
#[derive(Debug)]
pub enum ApiError {
    Engine(EngineError),
    /// The HTTP layer's own errors: a catalogue code and a detail that names what was
    /// expected, never the value sent.
    Http {
        code: ErrorCode,
        detail: Cow<'static, str>,
    },
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        ApiError::Engine(e)
    }
}

impl ApiError {
    pub fn http(code: ErrorCode, detail: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError::Http {
            code,
            detail: detail.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Engine(e) => e.error_code(),
            ApiError::Http { code, .. } => *code,
        }
    }

    /// The problem document: status, title and type from the catalogue entry.
    pub fn into_problem(self) -> Problem {
        let code = self.code();
        let mut p = Problem {
            type_: format!("urn:vow:problem:{code}"),
            title: code.title(),
            status: code.status(),
            detail: String::new(),
            code: code.as_str(),
            errors: Vec::new(),
            reasons: Vec::new(),
            diagnostics: Vec::new(),
        };
        match self {
            ApiError::Http { detail, .. } => p.detail = detail.into_owned(),
            ApiError::Engine(e) => {
                // An external database's failure is the operator's to fix, and its
                // message names the connection and the kind of failure, never a value.
                p.detail = if code.is_server_error() && !matches!(e, EngineError::Connector { .. })
                {
                    // Internal details go to the log (with the request id), not to the caller.
                    tracing::error!(code = code.as_str(), error = %e, "request failed");
                    "the server could not complete the request; the log has details under this request's id"
                        .to_string()
                } else {
                    e.to_string()
                };
                match e {
                    EngineError::Invalid(errors)
                    | EngineError::Identifying(errors)
                    | EngineError::InvalidResult(errors) => p.errors = errors,
                    EngineError::Refused(d) => p.reasons = d.reasons,
                    EngineError::Policy(d) | EngineError::Dataset(d) => p.diagnostics = d,
                    _ => {}
                }
            }
        }
        p
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        let mut res = self.into_problem().into_response();
        // For the layers above (the security-event recorder): which error this was.
        res.extensions_mut().insert(code);
        res
    }
}

/// Errors made below the handlers (405 from the router, 408 from the timeout, 413 from
/// the body limit on a raw body, 400 from a path or query that does not parse) come
/// without a problem document: give them one.
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
    // The web pages answer their errors with a page of their own (`crate::pages`).
    let is_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_page {
        return res;
    }
    if is_json {
        return res;
    }
    let allow = res.headers().get(header::ALLOW).cloned();
    let (code, detail) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "this path does not take this method; see /openapi.json",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            ErrorCode::Timeout,
            "the request took too long and was abandoned; nothing was committed",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::PayloadTooLarge,
            "the body is larger than this endpoint accepts (1 MiB)",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with `Content-Type: application/json`",
        ),
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such resource"),
        _ if status.is_server_error() => (
            ErrorCode::Internal,
            "the server could not complete the request",
        ),
        // Axum's text for a path or query it could not parse may quote the value sent.
        _ => (ErrorCode::BadRequest, "the request could not be understood"),
    };
    let mut out = ApiError::http(code, detail).into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    async fn body_of(res: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    #[test]
    fn every_code_makes_its_catalogue_entry() {
        for &code in ErrorCode::ALL {
            let p = ApiError::http(code, "what was expected").into_problem();
            assert_eq!(p.type_, format!("urn:vow:problem:{}", code.as_str()));
            assert_eq!(
                (p.code, p.status, p.title),
                (code.as_str(), code.status(), code.title())
            );
        }
    }

    #[test]
    fn server_errors_keep_their_details_in_the_log() {
        let p = ApiError::from(EngineError::Internal("row 17 of table x".into())).into_problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("row 17"), "{}", p.detail);
        let p = ApiError::from(EngineError::NotFound("subject")).into_problem();
        assert_eq!((p.status, p.detail.as_str()), (404, "subject not found"));
    }

    /// A status the catalogue does not have takes the status of the code it is
    /// reported under, so the status line and the document agree.
    #[tokio::test]
    async fn bare_errors_get_the_catalogue_status() {
        for (bare, code) in [
            (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed),
            (StatusCode::REQUEST_TIMEOUT, ErrorCode::Timeout),
            (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            (StatusCode::LENGTH_REQUIRED, ErrorCode::BadRequest),
            (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
            (StatusCode::BAD_GATEWAY, ErrorCode::Internal),
        ] {
            let mut res = Response::new(Body::from("plain text"));
            *res.status_mut() = bare;
            let out = bare_errors_as_problems(res).await;
            assert_eq!(out.status().as_u16(), code.status(), "{bare}");
            let p = body_of(out).await;
            assert_eq!(
                (p["code"].as_str(), p["status"].as_u64()),
                (Some(code.as_str()), Some(u64::from(code.status()))),
                "{bare}"
            );
        }
        // JSON answers of the handlers pass untouched.
        let mut res = Response::new(Body::from("{\"ok\":false}"));
        *res.status_mut() = StatusCode::CONFLICT;
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        let out = bare_errors_as_problems(res).await;
        assert_eq!(out.status(), StatusCode::CONFLICT);
        assert_eq!(body_of(out).await["ok"], false);
    }
}
