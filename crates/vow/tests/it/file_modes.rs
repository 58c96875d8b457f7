//! Everything Vow writes under its data directory is private to its owner from the
//! first start: files 0600, directories 0700 — the database with SQLite's `-wal`
//! and `-shm`, the root key, sent mail, reports, disclosure files, breach drafts.

use crate::cli::{person, text, vow};
use crate::harness::POLICY;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Every file and directory under `dir` (itself included) whose mode is not owner-only,
/// and the names of the files seen.
fn modes(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut wrong = Vec::new();
    let mut names = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        let want = if meta.is_dir() { 0o700 } else { 0o600 };
        if mode != want {
            wrong.push(format!("{mode:04o} {}", p.display()));
        }
        if meta.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                todo.push(e.unwrap().path());
            }
        } else if let Some(n) = p.file_name() {
            names.push(n.to_string_lossy().into_owned());
        }
    }
    (wrong, names)
}

fn year() -> String {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year()
        .to_string()
}

/// `vow serve` on a data directory that does not exist yet; returns once it listens.
fn serve(data: &Path, log: &Path) -> std::process::Child {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vow"))
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        if line.contains("listening") {
            break;
        }
        line.clear();
    }
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    child
}

#[test]
fn a_fresh_store_writes_only_owner_only_files_from_the_first_start() {
    let tmp = tempfile::tempdir().unwrap();
    // Inputs and the server log live beside the data directory, not in it.
    let policy = tmp.path().join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let people = tmp.path().join("people.jsonl");
    std::fs::write(
        &people,
        format!(
            "{}\n{}\n",
            person("caller@example.org", "Cal Caller"),
            person("other@example.org", "Oda Other")
        ),
    )
    .unwrap();
    let data: PathBuf = tmp.path().join("data");
    let d = data.to_str().unwrap().to_string();

    let mut server = serve(&data, &tmp.path().join("serve.log"));
    let run = |args: &[&str]| {
        let o = vow(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        o
    };
    run(&[
        "tenant",
        "create",
        "--data",
        &d,
        "--id",
        "acme",
        "--name",
        "Acme",
        "--role",
        "controller",
        "--policy",
        policy.to_str().unwrap(),
    ]);
    run(&[
        "import",
        "--data",
        &d,
        "--tenant",
        "acme",
        people.to_str().unwrap(),
    ]);
    // Requests whose notices are mailed (the file transport, under the data
    // directory), one of them an access request answered with an export.
    let mut subject = String::new();
    for kind in ["know", "access"] {
        let o = run(&[
            "request",
            "submit",
            "--data",
            &d,
            "--tenant",
            "acme",
            "--type",
            kind,
            "--channel",
            "phone",
            "--email",
            "caller@example.org",
            "--output",
            "json",
        ]);
        let r: Value = serde_json::from_slice(&o.stdout).unwrap();
        subject = r["subject"]
            .as_str()
            .expect("a matched subject")
            .to_string();
        let id = r["id"].as_str().unwrap();
        run(&[
            "request", "fulfil", "--data", &d, "--tenant", "acme", id, "--output", "json",
        ]);
    }
    // A report and a disclosure file, written where personal data already is.
    run(&[
        "report",
        "self-assessment",
        "--data",
        &d,
        "--tenant",
        "acme",
        "--year",
        &year(),
        "--format",
        "json",
        "--out",
        data.join("assessment.json").to_str().unwrap(),
    ]);
    let list = tmp.path().join("subjects.txt");
    std::fs::write(&list, format!("{subject}\n")).unwrap();
    run(&[
        "disclosure",
        "send",
        "--data",
        &d,
        "--tenant",
        "acme",
        "--recipient",
        "lab-partner",
        "--purpose",
        "research",
        "--categories",
        "user.name",
        "--subjects",
        list.to_str().unwrap(),
        "--out",
        data.join("to-lab.jsonl").to_str().unwrap(),
        "--output",
        "json",
    ]);

    // While the server holds the database open, its -wal and -shm exist.
    let (wrong, names) = modes(&data);
    let stopped = crate::cli::stop(&mut server);
    assert!(wrong.is_empty(), "not owner-only: {wrong:#?}");
    for f in [
        "vow.db",
        "vow.db-wal",
        "vow.db-shm",
        "root.key",
        "assessment.json",
        "to-lab.jsonl",
    ] {
        assert!(names.iter().any(|n| n == f), "{f} missing from {names:?}");
    }
    assert!(
        names.iter().filter(|n| n.ends_with(".eml")).count() >= 2,
        "{names:?}"
    );
    assert!(stopped.success());
    let (wrong, _) = modes(&data);
    assert!(
        wrong.is_empty(),
        "not owner-only after stopping: {wrong:#?}"
    );
}

#[test]
fn the_demo_runs_from_any_directory_and_writes_only_owner_only_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    // Run from a directory with no examples in it: the demo uses the built-in copy.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_vow"))
        .args(["demo", "--data", data.to_str().unwrap()])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        data.join("examples/research-operator/policy.yaml")
            .is_file()
    );
    let (wrong, names) = modes(&data);
    assert!(wrong.is_empty(), "not owner-only: {wrong:#?}");
    // The shop's database lies beside the data directory (no SQLite connection may
    // open a file in it), owner-only too.
    let shop = tmp.path().join("demo-shop");
    assert!(shop.join("shop.db").is_file());
    assert!(!data.join("shop.db").exists());
    let (wrong, _) = modes(&shop);
    assert!(wrong.is_empty(), "not owner-only: {wrong:#?}");
    // Mail, notices, reports, the data map and breach drafts were all written.
    for ext in [".eml", ".md", ".html", ".json", ".txt"] {
        assert!(
            names.iter().any(|n| n.ends_with(ext)),
            "no {ext} in {names:?}"
        );
    }
}
