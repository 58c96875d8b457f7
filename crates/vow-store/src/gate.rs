//! SQLite's writers take turns, first come first served.
//!
//! SQLite has one write lock per database, and a writer that finds it taken polls
//! (`busy_timeout`) at growing intervals. A bulk writer that commits batch after
//! batch takes the lock again within microseconds, so a poller can lose for seconds:
//! a read's audit entry waited behind a 100,000-subject import until it timed out.
//! So before `BEGIN IMMEDIATE` a writer queues here:
//!
//! - in this process on a fair (FIFO) mutex, so waiting writers hold no connection;
//! - across processes (`vow serve` and `vow import` on one file) on an exclusive
//!   `flock` of `<database>-writelock`, which the kernel hands on as soon as it is
//!   released. A bulk writer pauses briefly between batches so that a woken waiter
//!   gets the lock first ([`BULK_PAUSE`]).
//!
//! A writer that cannot get its turn within [`WAIT`] fails with
//! [`StoreError::Busy`] rather than wait without end.

use crate::error::StoreError;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

type Result<T> = std::result::Result<T, StoreError>;

/// How long a writer waits for its turn before it gives up.
pub const WAIT: Duration = Duration::from_secs(30);

/// What a bulk writer sleeps between two batches, so that writers woken by the
/// release of the lock file take it before the next batch does.
pub const BULK_PAUSE: Duration = Duration::from_millis(1);

/// The lock file of a SQLite database file.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-writelock");
    PathBuf::from(name)
}

#[derive(Clone)]
pub(crate) struct WriteGate {
    local: Arc<Mutex<()>>,
    /// The lock file; each turn opens it anew, so that a lock is never shared by
    /// two turns (`flock` belongs to an open file, not to a process).
    file: Option<PathBuf>,
}

/// A writer's turn: held for the life of its transaction.
pub(crate) struct Turn {
    _local: OwnedMutexGuard<()>,
    file: Option<File>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(f) = &self.file {
            // Closing the process would release it too; an error here leaves
            // nothing to undo.
            let _ = f.unlock();
        }
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Between a blocked `flock` and a caller that stopped waiting for it.
enum Handoff {
    Waiting,
    Taken,
    Abandoned,
}

impl WriteGate {
    /// `db` is the database file; None for an in-memory database (one process).
    pub(crate) fn new(db: Option<&Path>) -> Result<WriteGate> {
        let file = match db {
            Some(db) => {
                let path = lock_path(db);
                match open(&path) {
                    Ok(_) => Some(path),
                    // No directory yet: SQLite reports that better when it opens.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(StoreError::LockFile(e)),
                }
            }
            None => None,
        };
        Ok(WriteGate {
            local: Arc::new(Mutex::new(())),
            file,
        })
    }

    pub(crate) async fn turn(&self) -> Result<Turn> {
        let local = tokio::time::timeout(WAIT, self.local.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Busy("no turn to write within 30 s in this process"))?;
        let Some(path) = &self.file else {
            return Ok(Turn {
                _local: local,
                file: None,
            });
        };
        let file = open(path).map_err(StoreError::LockFile)?;
        match file.try_lock() {
            Ok(()) => {
                return Ok(Turn {
                    _local: local,
                    file: Some(file),
                });
            }
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(StoreError::LockFile(e)),
        }
        // Another process writes: block on the lock in a thread of its own, which
        // the kernel wakes the moment the lock is released. If we stop waiting, the
        // thread lets go of the lock as soon as it gets it.
        let handoff = Arc::new(StdMutex::new(Handoff::Waiting));
        let h = handoff.clone();
        let blocked = tokio::task::spawn_blocking(move || {
            file.lock()?;
            let mut state = h.lock().unwrap_or_else(|p| p.into_inner());
            if matches!(*state, Handoff::Abandoned) {
                let _ = file.unlock();
                return Ok(None);
            }
            *state = Handoff::Taken;
            Ok::<_, std::io::Error>(Some(file))
        });
        match tokio::time::timeout(WAIT, blocked).await {
            Ok(Ok(Ok(Some(file)))) => Ok(Turn {
                _local: local,
                file: Some(file),
            }),
            Ok(Ok(Ok(None))) | Ok(Err(_)) => {
                Err(StoreError::Busy("the wait for the write lock failed"))
            }
            Ok(Ok(Err(e))) => Err(StoreError::LockFile(e)),
            Err(_) => {
                // Taken but not yet handed over: the thread's result (and the file
                // with its lock) is dropped with the task, which releases it.
                let mut state = handoff.lock().unwrap_or_else(|p| p.into_inner());
                *state = Handoff::Abandoned;
                Err(StoreError::Busy(
                    "no turn to write within 30 s: another process holds the database",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writers_take_turns_in_order_of_arrival() {
        let dir = tempfile::tempdir().unwrap();
        let gate = WriteGate::new(Some(&dir.path().join("db"))).unwrap();
        let first = gate.turn().await.unwrap();
        let order = Arc::new(StdMutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for i in 0..5 {
            let (g, o) = (gate.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let _t = g.turn().await.unwrap();
                o.lock().unwrap().push(i);
            }));
            // Each queues before the next one arrives.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(first);
        for w in waiting {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn a_second_handle_on_the_file_waits_for_the_first() {
        // Two gates on one file stand for two processes (flock is per open file).
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let (a, b) = (
            WriteGate::new(Some(&db)).unwrap(),
            WriteGate::new(Some(&db)).unwrap(),
        );
        let held = a.turn().await.unwrap();
        let waiter = tokio::spawn(async move { b.turn().await.map(|_| ()) });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "the second writer must wait");
        drop(held);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the release wakes the waiter")
            .unwrap()
            .unwrap();
    }
}
