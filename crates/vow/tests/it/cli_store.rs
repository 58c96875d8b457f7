//! Which store a command works on: only `serve`, `demo` and `tenant create` make one;
//! every other command refuses a place that holds none, and an unknown `--tenant`.

use crate::cli::{cli_store, person, text, vow};

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn store_commands_refuse_a_directory_without_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for args in [
        vec!["audit", "verify", "--data", d],
        vec!["request", "list", "--data", d, "--tenant", "acme"],
        vec!["tenant", "list", "--data", d],
        vec!["key", "create", "--data", d, "--role", "admin"],
        vec!["retention", "run", "--data", d],
    ] {
        let o = vow(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let t = text(&o);
        assert!(t.contains("holds no Vow store"), "{args:?}: {t}");
        assert!(t.contains("vow tenant create"), "{args:?}: {t}");
        assert_eq!(
            t.matches("holds no Vow store").count(),
            1,
            "printed once: {t}"
        );
        assert!(
            entries(dir.path()).is_empty(),
            "{args:?} created {:?}",
            entries(dir.path())
        );
    }
    // A directory that does not exist is not made either.
    let missing = dir.path().join("not-here");
    let o = vow(&["audit", "verify", "--data", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!missing.exists());
    // `tenant create` makes the store, and says so on standard error.
    let o = vow(&[
        "tenant",
        "create",
        "--data",
        d,
        "--id",
        "acme",
        "--name",
        "Acme",
        "--role",
        "controller",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("made a new store"), "{err}");
    assert!(err.contains("root key"), "{err}");
    // Now the store exists: the same commands work, and say nothing of making one.
    let o = vow(&["audit", "verify", "--data", d]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("made a new"), "{}", text(&o));
    // A database without its key file is refused too, and no new key is made.
    std::fs::rename(
        dir.path().join("root.key"),
        dir.path().join("elsewhere.key"),
    )
    .unwrap();
    let o = vow(&["audit", "verify", "--data", d]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no root key file"), "{}", text(&o));
    assert!(!dir.path().join("root.key").exists());
}

#[test]
fn an_unknown_tenant_is_bad_input_not_an_empty_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    cli_store(dir.path(), &format!("{}\n", person("a@example.org", "Ann")));
    for args in [
        vec!["request", "list", "--data", d, "--tenant", "nobody"],
        vec![
            "request", "list", "--data", d, "--tenant", "nobody", "--output", "json",
        ],
        vec!["disclosure", "list", "--data", d, "--tenant", "nobody"],
        vec!["breach", "list", "--data", d, "--tenant", "nobody"],
        vec!["deliveries", "list", "--data", d, "--tenant", "nobody"],
        vec!["key", "list", "--data", d, "--tenant", "nobody"],
        vec![
            "report", "metrics", "--data", d, "--tenant", "nobody", "--year", "2026",
        ],
    ] {
        let o = vow(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(o.stdout.is_empty(), "{args:?}: no table, no JSON");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--tenant"), "{args:?}: {err}");
        assert!(err.contains("vow tenant list"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "printed once: {err}");
    }
    // The tenant that exists still answers, with an empty queue.
    let o = vow(&[
        "request", "list", "--data", d, "--tenant", "acme", "--output", "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap(),
        serde_json::json!([])
    );
}
