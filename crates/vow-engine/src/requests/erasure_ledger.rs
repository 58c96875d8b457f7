//! The erasure ledger: every erasure, by tenant, subject id and time, in a file kept
//! apart from the backed-up data. Restoring a copy of the store taken before an
//! erasure would bring the person back; the ledger is read on restore and at start-up
//! and every erasure it names is made again. It holds pseudonymous ids and times only,
//! never a personal value.
//!
//! An erasure is written to the store first and to the ledger after it commits. A
//! crash between the two loses nothing: at start-up every erasure the store records is
//! copied into the ledger before the ledger is applied.

use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use vow_core::TenantId;

/// One line of the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Entry {
    tenant: String,
    subject: String,
    /// Unix milliseconds.
    at: i64,
    /// The erasure answered a deletion request, whose identifiers are suppressed so
    /// that an import cannot re-create the person; a re-erasure suppresses them again.
    #[serde(default)]
    suppress: bool,
}

/// What [`Engine::reconcile_erasures`] did.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct ErasureReconciliation {
    /// Erasures in the ledger.
    pub known: usize,
    /// Erasures the store recorded that the ledger lacked (now added).
    pub recorded: usize,
    /// People found readable again (an older copy of the store) and erased again.
    pub reapplied: usize,
}

/// (tenant, subject) → whether to suppress the identifiers.
fn read(path: &Path) -> Result<BTreeMap<(String, String), bool>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(EngineError::Internal(format!(
                "cannot read the erasure ledger {}: {e}",
                path.display()
            )));
        }
    };
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // A torn last line (a crash mid-append) is skipped: the store still records
        // that erasure, and the next reconciliation writes it again.
        let Ok(e) = serde_json::from_str::<Entry>(line) else {
            tracing::warn!(
                line = i + 1,
                "an erasure ledger line could not be read; skipped"
            );
            continue;
        };
        let suppress = out.get(&(e.tenant.clone(), e.subject.clone())) == Some(&true);
        out.insert((e.tenant, e.subject), e.suppress || suppress);
    }
    Ok(out)
}

fn append(path: &Path, entries: &[Entry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let io = |e: std::io::Error| {
        EngineError::Internal(format!(
            "cannot write the erasure ledger {}: {e}",
            path.display()
        ))
    };
    if !path.exists() {
        vow_crypto::files::create_private_file(path).map_err(io)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    let mut text = String::new();
    // A line torn by a power cut mid-append has no newline: end it, so that it does
    // not swallow the first entry written now (reading skips only the torn line).
    if f.metadata().map_err(io)?.len() > 0 {
        let mut last = [0u8; 1];
        f.seek(std::io::SeekFrom::End(-1)).map_err(io)?;
        f.read_exact(&mut last).map_err(io)?;
        if last[0] != b'\n' {
            text.push('\n');
        }
    }
    for e in entries {
        text.push_str(&serde_json::to_string(e).map_err(|e| EngineError::Internal(e.to_string()))?);
        text.push('\n');
    }
    f.write_all(text.as_bytes()).map_err(io)?;
    // Durable before the caller is told the erasure is done.
    f.sync_all().map_err(io)
}

impl Engine {
    /// Keep the erasure ledger at `path` (outside what backups copy).
    pub fn set_erasure_ledger(&self, path: PathBuf) {
        if let Ok(mut l) = self.erasure_ledger.write() {
            *l = Some(path);
        }
    }

    fn ledger_path(&self) -> Option<PathBuf> {
        self.erasure_ledger.read().ok().and_then(|l| l.clone())
    }

    /// After an erasure committed: add it to the ledger. A failure is logged, not
    /// returned: the erasure is done, and start-up copies it from the store.
    pub(crate) fn note_erasure(&self, tenant: &str, subject: &str, at: i64, suppress: bool) {
        let Some(path) = self.ledger_path() else {
            return;
        };
        let entry = Entry {
            tenant: tenant.to_string(),
            subject: subject.to_string(),
            at,
            suppress,
        };
        if let Err(e) = append(&path, &[entry]) {
            tracing::warn!(
                code = e.code(),
                "erasure ledger not written; start-up will copy it from the store"
            );
        }
    }

    /// After a bulk erasure (a retention run) committed at or after `since`: add every
    /// erasure the store records since then.
    pub(crate) async fn note_erasures_since(&self, since: i64) {
        if self.ledger_path().is_none() {
            return;
        }
        let rows = match self.store.read().await {
            Ok(mut tx) => tx.erased_subjects(since).await,
            Err(e) => Err(e),
        };
        match rows {
            Ok(rows) => {
                for (t, s, at) in rows {
                    self.note_erasure(&t, &s, at, false);
                }
            }
            Err(e) => tracing::warn!(
                code = e.code(),
                "erasure ledger not updated; start-up will copy it from the store"
            ),
        }
    }

    /// Bring the ledger and the store into line: erasures the store records are added
    /// to the ledger, and every person the ledger names who is readable again (the
    /// store was restored from an older copy) is erased again, with their identifiers
    /// suppressed. Run at start-up and by `vow restore`.
    pub async fn reconcile_erasures(&self, actor: &Actor) -> Result<ErasureReconciliation> {
        let Some(path) = self.ledger_path() else {
            return Ok(ErasureReconciliation::default());
        };
        let mut known = read(&path)?;
        let mut missing = Vec::new();
        // One scan of the store's erasures: a ledger entry the store also holds as
        // erased needs nothing more, so at a normal start-up no person is looked up.
        let mut erased = std::collections::HashSet::new();
        {
            let mut tx = self.store.read().await?;
            for (tenant, subject, at) in tx.erased_subjects(0).await? {
                erased.insert((tenant.clone(), subject.clone()));
                if let std::collections::btree_map::Entry::Vacant(v) =
                    known.entry((tenant.clone(), subject.clone()))
                {
                    v.insert(false);
                    missing.push(Entry {
                        tenant,
                        subject,
                        at,
                        suppress: false,
                    });
                }
            }
        }
        append(&path, &missing)?;
        let mut reapplied = 0;
        for (id, suppress) in &known {
            if erased.contains(id) {
                continue;
            }
            let (tenant, subject) = id;
            let live = {
                let mut tx = self.store.read().await?;
                tx.subject_is_live(tenant, subject).await?
            };
            if !live {
                continue;
            }
            let tenant_id = TenantId::new(tenant.as_str())
                .map_err(|_| EngineError::Internal("a ledger tenant id is malformed".into()))?;
            self.reerase(actor, &tenant_id, subject, *suppress).await?;
            reapplied += 1;
        }
        if reapplied > 0 {
            self.store.checkpoint().await?;
        }
        Ok(ErasureReconciliation {
            known: known.len(),
            recorded: missing.len(),
            reapplied,
        })
    }

    /// A consistent copy of the store in `path` (SQLite only), taken while it serves.
    /// The copy holds only ciphertext; the root key and the erasure ledger are not in
    /// it and are kept apart. Local operators only; audited.
    pub async fn backup_to(&self, actor: &Actor, path: &Path) -> Result<()> {
        if !actor.is_global_admin() {
            return Err(EngineError::Forbidden(
                "only the local operator or a global admin may copy the store".into(),
            ));
        }
        if self.store.backend() != vow_store::Backend::Sqlite {
            return Err(EngineError::Conflict(
                "this store is PostgreSQL: copy it with pg_dump (docs/operations.md)".into(),
            ));
        }
        // SQLite writes into an empty file as it finds it: make it owner-only first.
        vow_crypto::files::create_private_file(path)
            .map_err(|e| EngineError::Conflict(format!("cannot create {}: {e}", path.display())))?;
        if let Err(e) = self.store.backup_to(path).await {
            let _ = std::fs::remove_file(path);
            return Err(e.into());
        }
        let entry = self.audit_entry(
            actor,
            None,
            "store.backup",
            None,
            None,
            serde_json::json!({}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(())
    }

    /// Erase again someone an older copy of the store brought back.
    async fn reerase(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        subject: &str,
        suppress: bool,
    ) -> Result<()> {
        let t = tenant.as_str();
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, t).await?;
        let now = self.now_ms();
        if suppress {
            for i in &tx.identifiers(t, subject).await? {
                tx.insert_suppression(t, &i.kind, &i.bidx, now, None)
                    .await?;
            }
        }
        self.shred_in(&mut tx, actor, &keys, t, subject, ("ledger", "reapplied"))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Entry, append, read};

    fn entry(subject: &str) -> Entry {
        Entry {
            tenant: "acme".into(),
            subject: subject.into(),
            at: 1,
            suppress: true,
        }
    }

    #[test]
    fn a_torn_last_line_does_not_swallow_the_next_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("erasure-ledger.jsonl");
        append(&path, &[entry("a")]).unwrap();
        // A power cut mid-append leaves a line without its end.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(r#"{"tenant":"acme","subj"#);
        std::fs::write(&path, text).unwrap();
        append(&path, &[entry("b")]).unwrap();
        let known = read(&path).unwrap();
        assert!(known.contains_key(&("acme".into(), "a".into())));
        assert!(known.contains_key(&("acme".into(), "b".into())));
        assert_eq!(known.len(), 2);
    }
}
