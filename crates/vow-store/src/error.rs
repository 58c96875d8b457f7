use thiserror::Error;

/// Storage errors. Messages name tables and constraints, never values: the store
/// only ever sees ciphertext and names.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("unsupported database URL: expected sqlite://PATH or postgres://…")]
    UnsupportedUrl,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The caller worked from an outdated view (e.g. cached keys); retry with fresh state.
    #[error("{0}; retry")]
    Stale(&'static str),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(&'static str),
    /// No turn to write came within the wait (another writer held the database).
    #[error("the database stayed busy: {0}")]
    Busy(&'static str),
    /// The file SQLite's writers take turns on could not be opened or locked.
    #[error("cannot use the database's write lock file: {0}")]
    LockFile(#[source] std::io::Error),
    /// An error of the SQLite store's own threads (rusqlite).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the SQLite store's threads: {0}")]
    Native(String),
    #[error("the store is closed")]
    Closed,
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Connect(_)
            | StoreError::UnsupportedUrl
            | StoreError::Busy(_)
            | StoreError::LockFile(_)
            | StoreError::Closed => "store_unavailable",
            StoreError::Db(_)
            | StoreError::Migrate(_)
            | StoreError::Sqlite(_)
            | StoreError::Native(_) => "store_error",
            StoreError::Conflict(_) => "conflict",
            StoreError::Stale(_) => "stale",
            StoreError::Corrupt(_) => "store_corrupt",
        }
    }

    /// True when the error is a uniqueness violation (a duplicate key).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => e.is_unique_violation(),
            StoreError::Conflict(_) => true,
            _ => false,
        }
    }
}
