//! The few places where SQLite and PostgreSQL differ. Everything else is shared SQL.

use crate::error::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Applied to every SQLite connection. WAL with `synchronous=FULL`: a committed
/// audit entry survives power loss. `secure_delete`: deleted ciphertext is
/// overwritten with zeros rather than left in free pages.
pub(crate) const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 30000",
    "PRAGMA secure_delete = ON",
];

/// The page cache and memory map of every SQLite connection, the native readers'
/// too: up to 16 MiB of cache each, grown only as pages are read, and the file
/// mapped up to 1 GiB, so a page already in the OS cache is read without a copy or
/// a system call.
pub(crate) const SQLITE_CACHE: &[&str] = &[
    "PRAGMA cache_size = -16384",
    "PRAGMA mmap_size = 1073741824",
];

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    pub(crate) fn normalise_url(self, url: &str) -> String {
        match self {
            // Create the file on first open.
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        }
    }

    /// The database file of a SQLite URL (`sqlite://PATH`, `sqlite:PATH`); None for
    /// PostgreSQL, an in-memory database, or a path written percent-encoded (which
    /// only SQLite's own reading decodes).
    pub(crate) fn sqlite_file(self, url: &str) -> Option<std::path::PathBuf> {
        if self != Backend::Sqlite {
            return None;
        }
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
        let memory = path.is_empty()
            || path == ":memory:"
            || path.contains('%')
            || params.split('&').any(|p| p == "mode=memory");
        (!memory).then(|| std::path::PathBuf::from(path))
    }

    pub(crate) fn max_connections(self) -> u32 {
        match self {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        }
    }

    pub(crate) fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// Locks one audit chain's head row for the rest of the transaction, so that
    /// writers of that tenant on several servers append one after another (other
    /// tenants' chains are not held up).
    pub(crate) fn audit_head_sql(self) -> &'static str {
        match self {
            // The transaction already holds SQLite's single write lock.
            Backend::Sqlite => "SELECT seq, hash, at, sig FROM audit_heads WHERE chain = $1",
            Backend::Postgres => {
                "SELECT seq, hash, at, sig FROM audit_heads WHERE chain = $1 FOR UPDATE"
            }
        }
    }

    /// Locks a subject's row before the next consent sequence number is computed,
    /// so two writers appending to one ledger never pick the same number. `None` on
    /// SQLite, where the write transaction already holds the single write lock.
    /// `NO KEY UPDATE` leaves the row free for foreign-key checks (`KEY SHARE`).
    pub(crate) fn lock_subject_sql(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some("SELECT id FROM subjects WHERE id = $1 FOR NO KEY UPDATE"),
        }
    }

    /// Locks a tenant's row before its next policy version number is computed.
    pub(crate) fn lock_tenant_sql(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some("SELECT id FROM tenants WHERE id = $1 FOR NO KEY UPDATE"),
        }
    }

    /// Whether a tenant KEK version is live, share-locking it on PostgreSQL.
    pub(crate) fn live_kek_sql(self) -> &'static str {
        match self {
            Backend::Sqlite => {
                "SELECT version FROM tenant_keks WHERE tenant_id = $1 AND version = $2 AND retired_at IS NULL"
            }
            Backend::Postgres => {
                "SELECT version FROM tenant_keks WHERE tenant_id = $1 AND version = $2 AND retired_at IS NULL FOR SHARE"
            }
        }
    }

    /// One request, locked for the rest of the transaction on PostgreSQL.
    pub(crate) fn request_sql(self) -> &'static str {
        match self {
            Backend::Sqlite => {
                "SELECT id, tenant_id, kind, channel, state, subject_id, requester, residence, rules, binding,
                    received_at, ack_due, response_due, extended_max, extended_due, paused_at, verification, matched_points,
                    kek_version, key_wrapped, details, outcome, closed_at, updated_at
                 FROM requests WHERE id = $1 AND tenant_id = $2"
            }
            Backend::Postgres => {
                "SELECT id, tenant_id, kind, channel, state, subject_id, requester, residence, rules, binding,
                    received_at, ack_due, response_due, extended_max, extended_due, paused_at, verification, matched_points,
                    kek_version, key_wrapped, details, outcome, closed_at, updated_at
                 FROM requests WHERE id = $1 AND tenant_id = $2 FOR UPDATE"
            }
        }
    }

    /// Claims due outbox events with a lease (webhook delivery). PostgreSQL skips rows
    /// another worker is claiming; SQLite's write lock already serialises claims.
    /// Binds: $1 lease until, $2 now, $3 tenant or NULL for all, $4 limit.
    pub(crate) fn claim_outbox_sql(self) -> &'static str {
        macro_rules! claim {
            ($lock:literal) => {
                concat!(
                    "UPDATE outbox SET lease_until = $1 WHERE id IN (
                        SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $2
                          AND (lease_until IS NULL OR lease_until <= $2) AND tenant_id = COALESCE($3, tenant_id)
                        ORDER BY next_attempt_at, id LIMIT $4",
                    $lock,
                    ")
                     RETURNING id, tenant_id, event, recipient, payload, sealed, subject_id, created_at, attempts, expires_at"
                )
            };
        }
        match self {
            Backend::Sqlite => claim!(""),
            Backend::Postgres => claim!(" FOR UPDATE SKIP LOCKED"),
        }
    }

    /// A batch of a tenant's active people for a retention sweep. On PostgreSQL the
    /// rows are locked, skipping those another server's sweep holds, so two servers
    /// never destroy the same person's data twice.
    pub(crate) fn retention_page_sql(self, lock: bool) -> &'static str {
        match (self, lock) {
            (Backend::Postgres, true) => {
                "SELECT id, relationship_ended_at FROM subjects WHERE tenant_id = $1 AND status = 'active' AND id > $2
                 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED"
            }
            _ => {
                "SELECT id, relationship_ended_at FROM subjects WHERE tenant_id = $1 AND status = 'active' AND id > $2
                 ORDER BY id LIMIT $3"
            }
        }
    }

    pub(crate) fn checkpoint_sql(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => Some("PRAGMA wal_checkpoint(TRUNCATE)"),
            Backend::Postgres => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn the_sqlite_file_of_a_url() {
        let s = Backend::Sqlite;
        assert_eq!(
            s.sqlite_file("sqlite:///tmp/v/vow.db"),
            Some(PathBuf::from("/tmp/v/vow.db"))
        );
        assert_eq!(
            s.sqlite_file("sqlite://vow.db?mode=rwc"),
            Some(PathBuf::from("vow.db"))
        );
        assert_eq!(
            s.sqlite_file("sqlite:vow.db"),
            Some(PathBuf::from("vow.db"))
        );
        for none in [
            "sqlite::memory:",
            "sqlite://",
            "sqlite://x.db?mode=memory",
            "sqlite://a%20b.db",
        ] {
            assert_eq!(s.sqlite_file(none), None, "{none}");
        }
        assert_eq!(Backend::Postgres.sqlite_file("postgres://h/db"), None);
    }
}
