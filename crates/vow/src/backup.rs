//! `vow backup` and `vow restore`: a consistent copy of the store taken while it
//! serves, and putting one back without bringing back anyone erased since.

use crate::common::{Init, bad, open_engine, outln};
use crate::config::Config;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vow_engine::Actor;

/// The SQLite database file of a URL, or an error that says what to do on PostgreSQL.
fn sqlite_db(cfg: &Config) -> Result<PathBuf> {
    cfg.database_url
        .strip_prefix("sqlite://")
        .map(|rest| PathBuf::from(rest.split('?').next().unwrap_or(rest)))
        .ok_or_else(|| {
            bad(
                "this store is PostgreSQL: restore it with pg_restore (docs/operations.md), \
                 then start `vow serve`, which applies the erasure ledger again",
            )
        })
}

pub async fn backup(cfg: &Config, actor: &Actor, out: &Path) -> Result<ExitCode> {
    if out.exists() {
        return Err(bad(format!(
            "{} exists: a backup never overwrites a file; choose a new name",
            out.display()
        )));
    }
    let (engine, _) = open_engine(cfg, Init::MustExist).await?;
    let done = engine.backup_to(actor, out).await;
    engine.shutdown().await;
    done?;
    outln!(
        "backed up the store to {} (ciphertext only). Keep the root key ({}) and the \
         erasure ledger ({}) apart from it: see docs/operations.md",
        out.display(),
        cfg.key_file.display(),
        cfg.erasure_ledger.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Put `from` in place of the store. The copy is checked against the root key before
/// anything is replaced; the store it replaces is kept beside it; every erasure the
/// ledger records is made again.
pub async fn restore(cfg: &Config, actor: &Actor, from: &Path) -> Result<ExitCode> {
    let db = sqlite_db(cfg)?;
    let head = std::fs::read(from)
        .with_context(|| format!("reading {}", from.display()))
        .map_err(|e| bad(format!("{e:#}")))?;
    if !head.starts_with(b"SQLite format 3\0") {
        return Err(bad(format!(
            "{} is not a copy made by `vow backup` (not an SQLite database)",
            from.display()
        )));
    }
    drop(head);
    // Work on a private copy next to the store, so the backup itself stays untouched
    // and the final step is one rename on the same file system.
    let staged = db.with_extension("db.restoring");
    let _ = std::fs::remove_file(&staged);
    {
        let mut src = std::fs::File::open(from)?;
        let mut dst = vow_crypto::files::create_private_file(&staged)
            .with_context(|| format!("creating {}", staged.display()))?;
        std::io::copy(&mut src, &mut dst)?;
        dst.sync_all()?;
    }
    // Opening it checks that the root key opens this copy (and brings its schema up
    // to date): a copy of another store is refused before anything is replaced.
    let mut staged_cfg = cfg.clone();
    staged_cfg.database_url = format!("sqlite://{}", staged.display());
    match open_engine(&staged_cfg, Init::MustExist).await {
        Ok((engine, _)) => {
            engine.shutdown().await;
        }
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(bad(format!(
                "{} cannot be restored with this root key: {e:#}",
                from.display()
            )));
        }
    }
    let kept = if db.exists() {
        let stamp = jiff::Timestamp::now().as_second();
        let kept = db.with_extension(format!("db.before-restore-{stamp}"));
        std::fs::rename(&db, &kept)
            .with_context(|| format!("moving the current store aside to {}", kept.display()))?;
        // SQLite's sidecars are the file's name plus -wal and -shm: the WAL holds
        // committed changes, so it moves with the file it belongs to.
        let side = |p: &Path, s: &str| PathBuf::from(format!("{}{s}", p.display()));
        if side(&db, "-wal").exists() {
            std::fs::rename(side(&db, "-wal"), side(&kept, "-wal"))?;
        }
        let _ = std::fs::remove_file(side(&db, "-shm"));
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&staged, &db)
        .with_context(|| format!("putting the copy in place at {}", db.display()))?;
    let (engine, _) = open_engine(cfg, Init::MustExist).await?;
    let r = engine.reconcile_erasures(actor).await;
    engine.shutdown().await;
    let r = r?;
    outln!("restored the store from {}", from.display());
    if let Some(k) = kept {
        outln!("the store it replaced is kept at {}", k.display());
    }
    outln!(
        "erasure ledger: {} erasure(s) known; {} person(s) erased after the copy was taken erased again",
        r.known,
        r.reapplied
    );
    Ok(ExitCode::SUCCESS)
}
