//! Backups that keep erasures (R14): `vow backup` copies the store while it is in use;
//! a copy restored after someone was erased — by `vow restore` or by putting the file
//! back by hand and starting `vow serve` — does not bring them back, because the
//! erasure ledger (ids and times only) is kept apart and applied again.

use crate::cli::{cli_store, person, spawn_serve, stop, text, vow};
use std::path::Path;

fn show(d: &str, email: &str) -> std::process::Output {
    vow(&[
        "subject", "show", "--data", d, "--tenant", "acme", "--email", email,
    ])
}

fn erase(d: &str, email: &str) {
    let o = vow(&[
        "subject",
        "erase",
        "--data",
        d,
        "--tenant",
        "acme",
        "--email",
        email,
        "--jurisdiction",
        "CA",
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn r14_a_restored_backup_does_not_bring_back_the_erased() {
    let dir = tempfile::tempdir().unwrap();
    let safe = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let rows = format!(
        "{}\n{}\n",
        person("ada@example.org", "Ada Quill"),
        person("bo@example.org", "Bo Strand")
    );
    cli_store(dir.path(), &rows);
    let copy = safe.path().join("vow.db");
    let o = vow(&["backup", "--data", d, "--out", copy.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(mode(&copy), 0o600, "the copy is owner-only");
    // Never over an existing file.
    let o = vow(&["backup", "--data", d, "--out", copy.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    erase(d, "ada@example.org");
    assert_eq!(show(d, "ada@example.org").status.code(), Some(2));
    let ledger = dir.path().join("erasure-ledger.jsonl");
    let held = std::fs::read_to_string(&ledger).unwrap();
    assert_eq!(held.lines().count(), 1, "{held}");
    assert_eq!(mode(&ledger), 0o600);
    for pii in ["ada", "Ada", "Quill", "example.org"] {
        assert!(
            !held.contains(pii),
            "the ledger holds ids and times only: {held}"
        );
    }

    // The copy still holds Ada; restoring it erases her again, and keeps Bo.
    let o = vow(&["restore", "--data", d, copy.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("1 person(s) erased after the copy was taken erased again"),
        "{}",
        text(&o)
    );
    assert_eq!(
        show(d, "ada@example.org").status.code(),
        Some(2),
        "Ada stays erased"
    );
    assert!(show(d, "bo@example.org").status.success());
    // Her identifiers are suppressed again: a new import of her is refused.
    let again = dir.path().join("again.jsonl");
    std::fs::write(
        &again,
        format!("{}\n", person("ada@example.org", "Ada Quill")),
    )
    .unwrap();
    let o = vow(&[
        "import",
        "--data",
        d,
        "--tenant",
        "acme",
        again.to_str().unwrap(),
    ]);
    assert!(!o.status.success(), "{}", text(&o));
    // The store it replaced is kept, not lost.
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("before-restore"))
        .collect();
    assert_eq!(kept.len(), 1);
    let o = vow(&["audit", "verify", "--data", d]);
    assert!(o.status.success(), "{}", text(&o));

    // Put back by hand (no `vow restore`): `vow serve` applies the ledger at start-up.
    for side in ["vow.db-wal", "vow.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(side));
    }
    std::fs::copy(&copy, dir.path().join("vow.db")).unwrap();
    assert!(
        show(d, "ada@example.org").status.success(),
        "the old copy holds Ada"
    );
    let (mut child, _, _) = spawn_serve(dir.path(), &[]);
    assert_eq!(stop(&mut child).code(), Some(0));
    assert_eq!(
        show(d, "ada@example.org").status.code(),
        Some(2),
        "erased again at start-up"
    );
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    assert!(log.contains("applied again"), "{log}");
}

#[test]
fn restore_refuses_what_is_not_a_copy_of_this_store() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    cli_store(
        dir.path(),
        &format!("{}\n", person("ada@example.org", "Ada Quill")),
    );
    cli_store(
        other.path(),
        &format!("{}\n", person("cy@example.org", "Cy Moss")),
    );
    let junk = other.path().join("junk.db");
    std::fs::write(&junk, "not a database").unwrap();
    let o = vow(&["restore", "--data", d, junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not an SQLite database"), "{}", text(&o));
    // Another store's copy: its root key is not ours.
    let theirs = other.path().join("copy.db");
    let o = vow(&[
        "backup",
        "--data",
        other.path().to_str().unwrap(),
        "--out",
        theirs.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = vow(&["restore", "--data", d, theirs.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("cannot be restored with this root key"),
        "{}",
        text(&o)
    );
    // Nothing was replaced.
    assert!(show(d, "ada@example.org").status.success());
}
