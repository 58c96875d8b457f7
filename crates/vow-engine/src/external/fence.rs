//! Where a SQLite connection may point (`Engine::set_data_dir`,
//! `Engine::set_sqlite_connection_dirs`), checked when a connection is put and again
//! when it is opened (`connections.rs`).

use std::path::{Path, PathBuf};

/// Where a SQLite connection may point. Never at Vow's own store (nor its journal
/// files) or anything in Vow's data directory: a tenant's connection must not read
/// or change Vow's keys and records. When directories are allowed, only into them.
/// Paths are compared canonical (symbolic links and `..` resolved), and the messages
/// never name a path: the caller knows what it sent.
#[derive(Debug, Default)]
pub(crate) struct SqliteFence {
    /// The store's SQLite file, when the store is SQLite.
    store: Option<PathBuf>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) allowed: Vec<PathBuf>,
}

/// A path canonical if it exists, else absolute.
fn resolved(p: &Path) -> PathBuf {
    p.canonicalize()
        .or_else(|_| std::path::absolute(p))
        .unwrap_or_else(|_| p.to_path_buf())
}

impl SqliteFence {
    pub(crate) fn new(store: Option<PathBuf>) -> SqliteFence {
        SqliteFence {
            store,
            ..SqliteFence::default()
        }
    }

    pub(crate) fn check(&self, file: &Path) -> std::result::Result<(), String> {
        let Ok(file) = file.canonicalize() else {
            return Err("no SQLite database file at this path on the server".into());
        };
        if let Some(store) = &self.store {
            let store = resolved(store);
            let journal = |suffix: &str| {
                let mut name = store.clone().into_os_string();
                name.push(suffix);
                PathBuf::from(name)
            };
            if file == store || ["-wal", "-shm", "-journal"].map(journal).contains(&file) {
                return Err("a SQLite connection may not open Vow's own store".into());
            }
        }
        if let Some(dir) = &self.data_dir
            && file.starts_with(resolved(dir))
        {
            return Err("a SQLite connection may not open a file in Vow's data directory".into());
        }
        if !self.allowed.is_empty() && !self.allowed.iter().any(|d| file.starts_with(resolved(d))) {
            return Err("this file is outside the directories SQLite connections are allowed in (vow serve --sqlite-connection-dir, VOW_SQLITE_CONNECTION_DIRS)".into());
        }
        Ok(())
    }
}
