//! The organisation's own databases (issue 11): connections with their credentials
//! sealed under the tenant's key, datasets registered with them and checked against
//! the live schema, and the pools that reach them.
//!
//! The SQL that reaches an external database is in `vow-connect`; this folder decides
//! who may do what, keeps the records in the store and audits every step.

pub mod connections;
pub mod datasets;
mod dry_run;
pub(crate) mod fence;
mod http;
pub mod jobs;
pub mod outbound;
mod runner;
mod secrets;

pub use connections::{ConnectionCheck, ConnectionView, ConnectorFailure, DatasetDrift};
pub use datasets::DatasetView;
pub use dry_run::PlannedChange;
pub use http::{MAX_ERROR_CHARS, RESPOND_DAYS, Signed, TOLERANCE_SECS};
pub use jobs::{CollectionResult, JobView, JobsReport};
pub use outbound::{Outbound, OutboundFuture, OutboundPost, OutboundResult};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use vow_connect::Db;

/// `(tenant, connection)` → the connection's `updated_at` when its pool was opened,
/// and the pool.
type Open = HashMap<(String, String), (i64, Arc<Db>)>;

/// Open pools, one per connection, reused while the connection is unchanged; and the
/// signal that wakes this process's runner when jobs were started or put back.
#[derive(Default)]
pub(crate) struct Pools {
    open: Mutex<Open>,
    due: tokio::sync::Notify,
}

impl Pools {
    /// Jobs were committed: wake the runner (one wake-up is kept if it is busy).
    pub(crate) fn wake(&self) {
        self.due.notify_one();
    }

    pub(crate) async fn woken(&self) {
        self.due.notified().await;
    }

    /// The pool of `(tenant, connection)` opened for its version `updated_at`.
    pub(crate) fn get(&self, tenant: &str, id: &str, updated_at: i64) -> Option<Arc<Db>> {
        let open = self.open.lock().ok()?;
        match open.get(&(tenant.to_string(), id.to_string())) {
            Some((at, db)) if *at == updated_at => Some(db.clone()),
            _ => None,
        }
    }

    pub(crate) fn put(&self, tenant: &str, id: &str, updated_at: i64, db: Arc<Db>) {
        if let Ok(mut open) = self.open.lock() {
            open.insert((tenant.to_string(), id.to_string()), (updated_at, db));
        }
    }

    /// Forget a connection's pool (its URL changed); requests in flight keep theirs.
    pub(crate) fn forget(&self, tenant: &str, id: &str) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&(tenant.to_string(), id.to_string()));
        }
    }
}
