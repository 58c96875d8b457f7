//! The SQLite store's own reader threads (rusqlite, the bundled SQLite).
//!
//! Through sqlx every statement is a hand-off to the connection's worker thread and
//! back (BENCHMARKS.md, section 2: most of a read's time). Here an async caller
//! hands over a whole operation once: a closure that runs its statements on a
//! reader thread, inside one read transaction (one snapshot), with prepared
//! statements cached per connection, and sends its answer back.
//!
//! The readers' connections are `query_only`, so nothing can be written through
//! them past the write path and its audit chain. (They are opened read-write all
//! the same: a read-only connection cannot recreate the WAL index when it is the
//! last one open.) In WAL mode they never wait for a writer, and a read that starts
//! after a commit sees it.

use crate::error::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::Mutex;
use std::thread::JoinHandle;

/// How many reader threads a store keeps. Reads are short, and a thread blocked on
/// the disk lets the others go on.
const READERS: usize = 4;

type Result<T> = std::result::Result<T, StoreError>;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The pool of reader threads of one SQLite database file.
pub(crate) struct Readers {
    queue: Mutex<Option<flume::Sender<Job>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Readers {
    /// Open `READERS` read-only connections to `file` (already created and migrated).
    pub(crate) fn open(file: &Path) -> Result<Readers> {
        let (tx, rx) = flume::unbounded::<Job>();
        let mut threads = Vec::with_capacity(READERS);
        for n in 0..READERS {
            let mut conn = open_reader(file)?;
            let rx = rx.clone();
            let handle = std::thread::Builder::new()
                .name(format!("vow-sqlite-reader-{n}"))
                .spawn(move || {
                    while let Ok(job) = rx.recv() {
                        job(&mut conn);
                    }
                })
                .map_err(|e| StoreError::Native(format!("cannot start a reader thread: {e}")))?;
            threads.push(handle);
        }
        Ok(Readers {
            queue: Mutex::new(Some(tx)),
            threads: Mutex::new(threads),
        })
    }

    /// Run `work` on a reader thread inside one read transaction, and wait for it
    /// without blocking the async runtime.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let out = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)
                .and_then(|tx| {
                    let out = work(&tx)?;
                    // Read-only: ending it either way only releases the snapshot.
                    tx.finish()?;
                    Ok(out)
                });
            let _ = reply.send(out);
        });
        let queue = self
            .queue
            .lock()
            .map_err(|_| StoreError::Native("the reader queue is poisoned".into()))?
            .clone()
            .ok_or(StoreError::Closed)?;
        queue.send(job).map_err(|_| StoreError::Closed)?;
        answer
            .await
            .map_err(|_| StoreError::Native("a reader thread stopped".into()))?
            .map_err(StoreError::from)
    }

    /// Stop the threads and close their connections (waits for work under way).
    pub(crate) fn close(&self) {
        if let Ok(mut q) = self.queue.lock() {
            q.take();
        }
        let threads = self
            .threads
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for Readers {
    fn drop(&mut self) {
        self.close();
    }
}

fn open_reader(file: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch("PRAGMA query_only = ON; PRAGMA busy_timeout = 30000")?;
    for pragma in crate::dialect::SQLITE_CACHE {
        conn.execute_batch(pragma)?;
    }
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// A row read as a tuple of its columns, in order: rusqlite's counterpart of the
/// tuples the sqlx side reads (`sqlx::FromRow`), so one row type serves both.
pub(crate) trait FromRow: Sized {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

macro_rules! tuple_from_row {
    ($($n:tt $t:ident),+) => {
        impl<$($t: rusqlite::types::FromSql),+> FromRow for ($($t,)+) {
            fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(($(r.get($n)?,)+))
            }
        }
    };
}

tuple_from_row!(0 A);
tuple_from_row!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
tuple_from_row!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J);
tuple_from_row!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L);
tuple_from_row!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L, 12 M, 13 N);
