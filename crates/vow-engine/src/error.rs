//! The engine's errors and the one catalogue of error codes (code, HTTP status,
//! title) that every interface reports them with. The server makes problem documents
//! from it; docs/api.md lists it (a test keeps the two equal).

use serde::Serialize;
use thiserror::Error;
use vow_core::Decision;

/// Declares the catalogue: one line per error code with its HTTP status and title.
/// The status is a plain number so the engine stays free of HTTP types.
macro_rules! catalogue {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal, $status:literal, $title:literal;)+) => {
        /// Every error code Vow reports, in the order docs/api.md lists them. A code
        /// is the last segment of the problem type (`urn:vow:problem:<code>`) and
        /// never changes once published.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)+
        }

        impl ErrorCode {
            /// The whole catalogue.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The stable machine code.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)+
                }
            }

            /// The HTTP status an answer with this code carries.
            pub const fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)+
                }
            }

            /// A short summary that does not vary between occurrences (RFC 9457 `title`).
            pub const fn title(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $title,)+
                }
            }
        }
    };
}

catalogue! {
    /// No key, or a malformed or unknown one.
    Unauthenticated = "unauthenticated", 401, "Authentication required";
    /// The key's role may not do this.
    Forbidden = "forbidden", 403, "Not allowed";
    /// The key has passed its expiry time.
    KeyExpired = "key_expired", 401, "API key expired";
    /// A key may not create a key of this role (or these purposes); the detail names
    /// the rule of the grant table.
    GrantNotAllowed = "grant_not_allowed", 403, "Key grant not allowed";
    /// The decision function refused; the answer carries its reasons.
    Refused = "refused", 403, "Refused by the policy";
    /// No such tenant, subject, request, download or endpoint.
    NotFound = "not_found", 404, "Not found";
    /// The path exists but does not take this method.
    MethodNotAllowed = "method_not_allowed", 405, "Method not allowed";
    /// The input is wrong; the answer may name each part by JSON pointer.
    InvalidRequest = "invalid_request", 400, "Invalid request";
    /// The body is not JSON.
    MalformedJson = "malformed_json", 400, "Malformed JSON";
    /// A JSON endpoint was sent another content type.
    UnsupportedMediaType = "unsupported_media_type", 415, "Unsupported media type";
    /// The body is over the limit.
    PayloadTooLarge = "payload_too_large", 413, "Payload too large";
    /// The request took too long and was abandoned.
    Timeout = "timeout", 408, "Request timeout";
    /// The body could not be read.
    UnreadableBody = "unreadable_body", 400, "Unreadable body";
    /// Anything else the HTTP layer could not understand.
    BadRequest = "bad_request", 400, "Bad request";
    /// Taken, suppressed, concurrently changed, or not allowed in this state.
    Conflict = "conflict", 409, "Conflict";
    /// The tenant has no policy yet.
    NoPolicy = "no_policy", 409, "No policy published";
    /// The policy has errors; the answer carries diagnostics.
    InvalidPolicy = "invalid_policy", 422, "The policy has errors";
    /// A dataset manifest has errors, or does not match its database; the answer
    /// carries diagnostics.
    InvalidDataset = "invalid_dataset", 422, "The dataset has errors";
    /// An http connection's answer to a connector job names a collection or field its
    /// dataset does not declare; the answer names each by JSON pointer.
    InvalidResult = "invalid_result", 422, "The connector result has errors";
    /// An external database could not be reached or refused a query.
    ConnectorFailed = "connector_failed", 502, "External database failed";
    /// An aggregate named an identifying attribute.
    IdentifyingAttribute = "identifying_attribute", 422, "Identifying attributes are never aggregated";
    /// The audit entry could not be written, so nothing was returned.
    AuditUnavailable = "audit_unavailable", 503, "Audit log unavailable";
    /// The database could not be reached.
    StoreUnavailable = "store_unavailable", 503, "Storage unavailable";
    /// The database failed.
    StoreError = "store_error", 503, "Storage unavailable";
    /// The database holds inconsistent data.
    StoreCorrupt = "store_corrupt", 503, "Storage unavailable";
    /// The caller worked from an outdated view; retry.
    Stale = "stale", 503, "Storage unavailable";
    /// `vow serve` is at its connection limit; this connection came from the reserve
    /// kept for health checks, which serves only `/healthz`, `/livez` and `/metrics`.
    ServerBusy = "server_busy", 503, "Server busy";
    /// Wrong key, tampered ciphertext or wrong associated data.
    DecryptFailed = "decrypt_failed", 500, "Internal error";
    /// Key material or ciphertext of the wrong shape.
    Malformed = "malformed", 500, "Internal error";
    /// A key file could not be read, created or trusted.
    KeyFile = "key_file", 500, "Internal error";
    /// The operating system's random number generator failed.
    RandomUnavailable = "random_unavailable", 500, "Internal error";
    /// A passphrase was unusable.
    Passphrase = "passphrase", 500, "Internal error";
    /// Anything else.
    Internal = "internal", 500, "Internal error";
}

impl ErrorCode {
    /// True for errors of the server's own making (5xx): their details belong in the
    /// log, not in the answer.
    pub const fn is_server_error(self) -> bool {
        self.status() >= 500
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&vow_store::StoreError> for ErrorCode {
    fn from(e: &vow_store::StoreError) -> Self {
        use vow_store::StoreError as S;
        match e {
            S::Connect(_) | S::UnsupportedUrl | S::Busy(_) | S::LockFile(_) | S::Closed => {
                ErrorCode::StoreUnavailable
            }
            S::Db(_) | S::Migrate(_) | S::Sqlite(_) | S::Native(_) => ErrorCode::StoreError,
            S::Conflict(_) => ErrorCode::Conflict,
            S::Stale(_) => ErrorCode::Stale,
            S::Corrupt(_) => ErrorCode::StoreCorrupt,
        }
    }
}

impl From<&vow_crypto::CryptoError> for ErrorCode {
    fn from(e: &vow_crypto::CryptoError) -> Self {
        use vow_crypto::CryptoError as C;
        match e {
            C::Decrypt => ErrorCode::DecryptFailed,
            C::Malformed(_) => ErrorCode::Malformed,
            C::KeyFile(_) => ErrorCode::KeyFile,
            C::Random => ErrorCode::RandomUnavailable,
            C::Passphrase(_) => ErrorCode::Passphrase,
        }
    }
}

/// One problem with one part of the input, located by a JSON pointer
/// (`/fields/2/category`) or, for imports, a line number in the pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub pointer: String,
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }
}

/// The engine's errors. Each has a stable code; none carries a personal value.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error("authentication required: send a valid API key as `Authorization: Bearer <key>`")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("this API key has expired: ask for a new one")]
    KeyExpired,
    /// A key creation the grant table does not allow; the detail says who may.
    #[error("{1} (rule {0}: {words})", words = .0.words())]
    GrantRefused(vow_core::GrantRule, String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the request is not valid: {}", summary(.0))]
    Invalid(Vec<FieldError>),
    /// An aggregate asked to group by a direct identifier or a personal value (R10, S9).
    #[error("never aggregated, because it identifies people: {}", summary(.0))]
    Identifying(Vec<FieldError>),
    #[error("refused: {}", .0.reasons.iter().map(|r| r.detail.as_str()).collect::<Vec<_>>().join("; "))]
    Refused(Decision),
    #[error("{0}")]
    Conflict(String),
    #[error("the policy has errors")]
    Policy(Vec<vow_policy::Diagnostic>),
    #[error("tenant {0} has no policy yet: publish one first")]
    NoPolicy(String),
    #[error("the dataset has errors")]
    Dataset(Vec<vow_policy::Diagnostic>),
    /// An http connection's callback was not signed with the connection's secret.
    #[error("{0}")]
    BadSignature(String),
    /// An http connection's answer does not fit its dataset.
    #[error("the result does not fit the dataset: {}", summary(.0))]
    InvalidResult(Vec<FieldError>),
    /// An external database's failure: its code (`unreachable`, `auth`, `query`, …)
    /// and a message that never carries a value.
    #[error("connection {connection}: {message} ({code})")]
    Connector {
        connection: String,
        code: &'static str,
        message: String,
    },
    #[error("key error: {0}")]
    Crypto(#[from] vow_crypto::CryptoError),
    #[error("storage error: {0}")]
    Store(vow_store::StoreError),
    #[error("the audit log could not be written: {0}")]
    Audit(String),
    #[error("internal error: {0}")]
    Internal(String),
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| match e.pointer.as_str() {
            // "" points at the whole document.
            "" => e.detail.clone(),
            p => format!("{p}: {}", e.detail),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl EngineError {
    pub fn invalid(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        EngineError::Invalid(vec![FieldError::new(pointer, detail)])
    }

    /// An external database's failure on `connection` (its message carries no value).
    pub fn connector(connection: &str, e: vow_connect::ConnectError) -> Self {
        EngineError::Connector {
            connection: connection.to_string(),
            code: e.code,
            message: e.message,
        }
    }

    /// The error's entry in the catalogue: exactly one for each variant.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            EngineError::Unauthenticated => ErrorCode::Unauthenticated,
            EngineError::Forbidden(_) => ErrorCode::Forbidden,
            EngineError::KeyExpired => ErrorCode::KeyExpired,
            EngineError::GrantRefused(..) => ErrorCode::GrantNotAllowed,
            EngineError::NotFound(_) => ErrorCode::NotFound,
            EngineError::Invalid(_) => ErrorCode::InvalidRequest,
            EngineError::Identifying(_) => ErrorCode::IdentifyingAttribute,
            EngineError::Refused(_) => ErrorCode::Refused,
            EngineError::Conflict(_) => ErrorCode::Conflict,
            EngineError::Policy(_) => ErrorCode::InvalidPolicy,
            EngineError::NoPolicy(_) => ErrorCode::NoPolicy,
            EngineError::Dataset(_) => ErrorCode::InvalidDataset,
            EngineError::BadSignature(_) => ErrorCode::Unauthenticated,
            EngineError::InvalidResult(_) => ErrorCode::InvalidResult,
            EngineError::Connector { .. } => ErrorCode::ConnectorFailed,
            EngineError::Crypto(e) => ErrorCode::from(e),
            EngineError::Store(e) => ErrorCode::from(e),
            EngineError::Audit(_) => ErrorCode::AuditUnavailable,
            EngineError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Stable machine code: the last segment of the problem type URI.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}

impl From<vow_store::StoreError> for EngineError {
    fn from(e: vow_store::StoreError) -> Self {
        match e {
            vow_store::StoreError::Conflict(what) => {
                EngineError::Conflict(format!("{what} already exists"))
            }
            other => EngineError::Store(other),
        }
    }
}

pub type Result<T> = std::result::Result<T, EngineError>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_distinct_snake_case_and_errors() {
        let mut seen = HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{c} is listed twice");
            assert!(
                c.as_str()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                "{c} is not snake_case"
            );
            assert!((400..600).contains(&c.status()), "{c} has no error status");
            assert!(!c.title().is_empty(), "{c} has no title");
        }
    }

    #[test]
    fn forwarded_codes_are_the_catalogue_s() {
        use vow_crypto::CryptoError as C;
        use vow_store::StoreError as S;
        for e in [
            C::Decrypt,
            C::Malformed("x"),
            C::KeyFile("p".into()),
            C::Random,
            C::Passphrase("x"),
        ] {
            assert_eq!(ErrorCode::from(&e).as_str(), e.code());
            assert_eq!(EngineError::Crypto(e.clone()).code(), e.code());
        }
        for e in [
            S::UnsupportedUrl,
            S::Conflict("tenant"),
            S::Stale("keys"),
            S::Corrupt("row"),
        ] {
            assert_eq!(ErrorCode::from(&e).as_str(), e.code());
        }
        // A store conflict is the engine's conflict, with the same code.
        assert_eq!(
            EngineError::from(S::Conflict("tenant")).error_code(),
            ErrorCode::Conflict
        );
        assert_eq!(
            EngineError::from(S::Stale("keys")).error_code(),
            ErrorCode::Stale
        );
    }
}
