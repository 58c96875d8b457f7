//! Vow's storage: one interface, two databases.
//!
//! All SQL of the project lives in this crate. The same SQL text serves SQLite
//! (the embedded default) and PostgreSQL through sqlx's `Any` driver; the few
//! differences live in [`dialect`]. The store holds only opaque bytes, names and
//! integers: encryption happens above it, so nothing here can read a value.
//!
//! Work happens in transactions: [`Store::write`] (serialised on SQLite, in turn:
//! see [`gate`]) and [`Store::read`]. Dropping a [`Tx`] without committing rolls it
//! back, so a failure never leaves anything half-written.

// Rows are read as tuples at the SQL boundary and named right after.
#![allow(clippy::type_complexity)]

mod aggregates;
mod appeals;
mod audit;
mod bulk;
mod bundle;
mod connectors;
mod consents;
mod console;
pub mod dialect;
mod documents;
mod error;
pub mod gate;
mod gpc;
mod imports;
mod incidents;
mod keys;
mod native;
mod policies;
mod policy_changes;
mod reports;
mod requests;
mod retention;
mod security;
mod subjects;
mod tenants;
pub mod testing;
mod webhooks;

pub use aggregates::{AggregateField, AggregateSubject};
pub use audit::{AuditCheckpointRow, AuditHead, AuditRow, LockedHead, NewAudit, STORE_CHAIN};
pub use bulk::{IdentifierKey, NewPerson};
pub use bundle::SubjectBundle;
pub use connectors::{ConnectionRow, DatasetRow, JobRow};
pub use consents::ConsentRow;
pub use console::{ConsoleSessionRow, MailingCount};
pub use dialect::Backend;
pub use documents::DocumentRow;
pub use error::StoreError;
pub use imports::{IMPORTING, ImportRow};
pub use incidents::{CategoryCount, IncidentNotificationRow, IncidentRow, NoticeEditRow};
pub use keys::{ApiKeyRow, KekRow, SubjectKeyRow};
pub use policies::PolicyRow;
pub use policy_changes::{PolicyChangeRow, PolicyNoticeRow};
pub use reports::Counted;
pub use requests::{DisclosureRow, HoldRow, NoticeRow, OutboxRow, RequestEventRow, RequestRow};
pub use retention::{FieldCountRow, FieldMetaRow, RetentionRunRow, RetentionSubjectRow};
pub use security::SecurityEventRow;
pub use subjects::{FieldRow, IdentifierRow, SubjectRow};
pub use tenants::TenantRow;
pub use webhooks::{AttemptOutcome, AttemptRow, ClaimedEvent, DeliveryRow, EndpointRow, PARKED};

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Row, Transaction};
use std::time::Duration;

pub type Result<T> = std::result::Result<T, StoreError>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Create a new SQLite database file owner-only (0600) before SQLite opens it:
/// SQLite gives its `-wal` and `-shm` files the database file's mode, so all three
/// are private from the first start. An empty file is an empty database. Anything
/// else (the file exists, its directory does not) is left to SQLite to report.
/// The SQLite file a store URL names; None for PostgreSQL or an in-memory store.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    Backend::from_url(url).ok()?.sqlite_file(url)
}

fn create_sqlite_file(path: &std::path::Path) {
    if !path.exists() {
        let _ = vow_crypto::files::create_private_file(path);
    }
}

/// A handle on the database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite's writers take turns here (None on PostgreSQL).
    gate: Option<gate::WriteGate>,
    /// The SQLite file's own reader threads (None on PostgreSQL and in memory).
    readers: Option<std::sync::Arc<native::Readers>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Open (creating if needed) and migrate. `url` is `sqlite://PATH` or `postgres://…`.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let mut gate = None;
        let mut file = None;
        if backend == Backend::Sqlite {
            file = backend.sqlite_file(url);
            if let Some(file) = &file {
                create_sqlite_file(file);
            }
            gate = Some(gate::WriteGate::new(file.as_deref())?);
        }
        let url = backend.normalise_url(url);
        let options = AnyPoolOptions::new()
            .max_connections(backend.max_connections())
            .acquire_timeout(Duration::from_secs(30));
        let options = match backend {
            Backend::Sqlite => options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    for pragma in dialect::SQLITE_PRAGMAS.iter().chain(dialect::SQLITE_CACHE) {
                        sqlx::query(*pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            }),
            Backend::Postgres => options,
        };
        let pool = options.connect(&url).await.map_err(StoreError::Connect)?;
        let mut store = Store {
            pool,
            backend,
            gate,
            readers: None,
        };
        store.migrate().await?;
        // Opened once the schema is there: readers never create or migrate anything.
        if let Some(file) = file {
            let readers = tokio::task::spawn_blocking(move || native::Readers::open(&file))
                .await
                .map_err(|e| StoreError::Native(format!("cannot open the readers: {e}")))??;
            store.readers = Some(std::sync::Arc::new(readers));
        }
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A write transaction. On SQLite it takes the write lock up front, so two
    /// writers never deadlock upgrading a read lock.
    ///
    /// On SQLite the writer first waits its turn at the [`gate`], first come first
    /// served, so that a bulk writer committing batch after batch cannot starve a
    /// short write (a read's audit entry) for longer than one batch.
    pub async fn write(&self) -> Result<Tx> {
        let turn = match &self.gate {
            Some(g) => Some(g.turn().await?),
            None => None,
        };
        let inner = self.pool.begin_with(self.backend.begin_write()).await?;
        Ok(Tx {
            inner,
            backend: self.backend,
            heads: Default::default(),
            _turn: turn,
        })
    }

    /// A read transaction: a consistent snapshot for several queries.
    pub async fn read(&self) -> Result<Tx> {
        let inner = self.pool.begin().await?;
        Ok(Tx {
            inner,
            backend: self.backend,
            heads: Default::default(),
            _turn: None,
        })
    }

    /// One round trip to the database: whether it answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Flush what SQLite keeps in the WAL into the main file and truncate the WAL,
    /// so erased ciphertext does not linger there. A no-op on PostgreSQL.
    ///
    /// SQLite answers `busy` (and leaves the WAL as it was) while another connection
    /// holds an older snapshot or checkpoints at the same time; we retry for about
    /// ten seconds and fail rather than report a flush that did not happen.
    pub async fn checkpoint(&self) -> Result<()> {
        let Some(sql) = self.backend.checkpoint_sql() else {
            return Ok(());
        };
        for attempt in 0..100u32 {
            let row = sqlx::query(sql).fetch_one(&self.pool).await?;
            let busy: i64 = row.try_get(0)?;
            if busy == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis((5 * u64::from(attempt + 1)).min(100))).await;
        }
        Err(StoreError::Stale(
            "the WAL checkpoint stayed busy: another connection kept an old snapshot open",
        ))
    }

    /// A consistent copy of the whole SQLite database, taken while it is in use
    /// (`VACUUM INTO`: one read transaction, a compact file). PostgreSQL is copied with
    /// its own tools (`pg_dump`), so this refuses there.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::UnsupportedUrl);
        }
        let target = path
            .to_str()
            .ok_or(StoreError::Corrupt("the backup path is not valid UTF-8"))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        if let Some(readers) = self.readers.clone() {
            let _ = tokio::task::spawn_blocking(move || readers.close()).await;
        }
        self.pool.close().await;
    }
}

/// A transaction. Commit with [`Tx::commit`]; dropping it rolls back.
pub struct Tx {
    // Declared before the turn: dropped (rolled back) first, then the turn is passed on.
    inner: Transaction<'static, Any>,
    backend: Backend,
    /// The audit chains' heads as this transaction has them, once locked (on
    /// PostgreSQL; SQLite's write lock covers them), and whether entries appended since
    /// still have to be written to the head row: each is written once, at commit,
    /// however many appends there were.
    heads: std::collections::BTreeMap<String, (AuditHead, bool)>,
    _turn: Option<gate::Turn>,
}

impl Tx {
    pub async fn commit(mut self) -> Result<()> {
        for (head, dirty) in std::mem::take(&mut self.heads).into_values() {
            if dirty {
                self.write_audit_head(&head).await?;
            }
        }
        self.inner.commit().await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}
