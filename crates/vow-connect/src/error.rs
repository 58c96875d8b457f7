//! What went wrong reaching a database, without the values involved: a driver
//! message may quote the row or the parameter that failed, so it is reduced to its
//! SQLSTATE (or MySQL error number) and the collection.

use std::fmt;

/// An error from a connector. `code` is one of `bad_url`, `unreachable`, `auth`,
/// `schema`, `query`, `value`, `limit`; `message` never carries a value from the
/// database or the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    pub code: &'static str,
    pub message: String,
}

impl ConnectError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ConnectError {
            code,
            message: message.into(),
        }
    }

    /// A driver error while working on `what` (a collection, or "connection").
    pub(crate) fn driver(what: &str, e: &sqlx::Error) -> Self {
        match e {
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.to_string()).unwrap_or_default();
                let auth = matches!(code.as_str(), "28P01" | "28000" | "1045" | "1044");
                // SQLite's SQLITE_CANTOPEN: no such file, or not allowed to open it.
                let missing = code == "14";
                let kind = if auth {
                    "auth"
                } else if missing {
                    "unreachable"
                } else {
                    "query"
                };
                let table = db
                    .table()
                    .map(|t| format!(", table {t}"))
                    .unwrap_or_default();
                ConnectError::new(
                    kind,
                    format!("{what}: the database refused the statement (error {code}{table})"),
                )
            }
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) => ConnectError::new(
                "unreachable",
                format!("{what}: the database cannot be reached"),
            ),
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => ConnectError::new(
                "unreachable",
                format!("{what}: no connection to the database became free in time"),
            ),
            sqlx::Error::Configuration(_) => ConnectError::new(
                "bad_url",
                format!("{what}: the connection settings are not valid"),
            ),
            sqlx::Error::Protocol(_) => ConnectError::new(
                "unreachable",
                format!("{what}: the database answered in a way the driver does not understand"),
            ),
            sqlx::Error::ColumnDecode { index, .. } => {
                ConnectError::new("value", format!("{what}: column {index} could not be read"))
            }
            _ => ConnectError::new("query", format!("{what}: the statement failed")),
        }
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ConnectError {}
