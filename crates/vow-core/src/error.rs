//! Errors of the core: invalid names and values. Each has a stable code.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// An identifier (tenant id, category, purpose) is not well formed.
    /// `what` names the kind of identifier and `why` what was expected. The text sent
    /// is not kept: a mistaken field or column could hold personal data.
    #[error("invalid {what}: {why}")]
    InvalidName {
        what: &'static str,
        why: &'static str,
    },
    /// A period such as `2y`, `6mo`, `30d` could not be read.
    #[error(
        "invalid period {value:?}: expected a whole number followed by s, min, h, d, w, mo or y (e.g. 30min, 72h, 30d, 6mo, 2y); `m` alone is not a unit: write min for minutes or mo for months"
    )]
    InvalidPeriod { value: String },
}

impl CoreError {
    /// Stable machine code, used in problem documents and CLI messages.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::InvalidName { .. } => "invalid_name",
            CoreError::InvalidPeriod { .. } => "invalid_period",
        }
    }
}
