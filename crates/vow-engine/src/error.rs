use serde::Serialize;
use thiserror::Error;
use vow_core::Decision;

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
        .map(|e| format!("{}: {}", e.pointer, e.detail))
        .collect::<Vec<_>>()
        .join("; ")
}

impl EngineError {
    pub fn invalid(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        EngineError::Invalid(vec![FieldError::new(pointer, detail)])
    }

    /// Stable machine code: the last segment of the problem type URI.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Unauthenticated => "unauthenticated",
            EngineError::Forbidden(_) => "forbidden",
            EngineError::NotFound(_) => "not_found",
            EngineError::Invalid(_) => "invalid_request",
            EngineError::Identifying(_) => "identifying_attribute",
            EngineError::Refused(_) => "refused",
            EngineError::Conflict(_) => "conflict",
            EngineError::Policy(_) => "invalid_policy",
            EngineError::NoPolicy(_) => "no_policy",
            EngineError::Crypto(e) => e.code(),
            EngineError::Store(e) => e.code(),
            EngineError::Audit(_) => "audit_unavailable",
            EngineError::Internal(_) => "internal",
        }
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
