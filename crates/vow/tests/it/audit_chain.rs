//! An audit chain that cannot be cut silently (issue 9). Each alteration is made on a
//! real store with raw SQL while no engine runs, then `vow audit verify` must name it:
//! one byte changed, a middle row deleted, the tail cut with the head rewritten, the
//! whole chain wiped, an older copy of the database restored. Signed checkpoints are
//! written by a running `vow serve` to a witness file outside the data directory,
//! check with the public key alone, and `--expect SEQ:HASH` works on the command line
//! and over HTTP. The signed head is checked on PostgreSQL too.

use crate::cli::{cli_store, person, spawn_serve, stop, text, vow};
use crate::harness::{Backend, Server, TODAY};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use vow_engine::Actor;

/// Run SQL statements on the SQLite store in `dir` (no engine may be running on it).
fn sql(dir: &Path, statements: &[&str]) {
    let db = format!("sqlite://{}/vow.db", dir.display());
    let statements: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                sqlx::any::install_default_drivers();
                let pool = sqlx::AnyPool::connect(&db).await.unwrap();
                for s in &statements {
                    sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                        .execute(&pool)
                        .await
                        .unwrap_or_else(|e| panic!("{s}: {e}"));
                }
                pool.close().await;
            })
    })
    .join()
    .unwrap();
}

/// A data directory (under a parent the witness files can sit beside) with a tenant
/// and three people imported through the CLI.
fn store() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir(&data).unwrap();
    cli_store(
        &data,
        &format!(
            "{}\n{}\n{}\n",
            person("a@example.org", "Ann"),
            person("b@example.org", "Bob"),
            person("c@example.org", "Cy")
        ),
    );
    (root, data)
}

/// `vow audit verify --data DIR ARGS… --output json`: exit code and report.
fn verify_json(data: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["audit", "verify", "--data", data.to_str().unwrap()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--output", "json"]);
    let o = vow(&all);
    let r = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    (o.status.code(), r)
}

/// `vow audit verify` as a person reads it.
fn verify_table(data: &Path, args: &[&str]) -> Output {
    let mut all = vec!["audit", "verify", "--data", data.to_str().unwrap()];
    all.extend_from_slice(args);
    vow(&all)
}

/// The last line of standard output gives the count and the head hash, whatever happened.
fn assert_last_line(o: &Output, entries: i64) {
    let out = String::from_utf8_lossy(&o.stdout);
    let last = out.lines().last().unwrap_or_default();
    let (lead, hash) = last
        .rsplit_once("; head ")
        .unwrap_or_else(|| panic!("{last}"));
    assert!(
        lead.ends_with(&format!(": {entries} entries verified")),
        "{last}"
    );
    assert_eq!(hash.len(), 64, "{last}");
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{last}");
}

/// A checkpoint made now by `vow audit checkpoint --out FILE`; returns FILE and its JSON.
fn checkpoint(data: &Path, file: &Path) -> Value {
    let o = vow(&[
        "audit",
        "checkpoint",
        "--data",
        data.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

/// `vow import` of one more person (Dee) into acme: a change to acme's chain.
fn import_one_more(root: &Path, data: &Path) {
    let more = root.join("more.jsonl");
    std::fs::write(&more, format!("{}\n", person("d@example.org", "Dee"))).unwrap();
    let o = vow(&[
        "import",
        "--data",
        data.to_str().unwrap(),
        "--tenant",
        "acme",
        more.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

fn problems(r: &Value) -> String {
    r["problems"].to_string()
}

/// The report of `vow audit verify --tenant acme`: acme's chain alone.
fn acme(data: &Path) -> Value {
    let (code, r) = verify_json(data, &["--tenant", "acme"]);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["chains"], 1, "{r}");
    r
}

#[test]
fn one_byte_changed_in_an_entry_is_named() {
    let (_root, data) = store();
    let (code, r) = verify_json(&data, &[]);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["head_signature"], "valid", "{r}");
    assert_eq!(r["chains"], 2, "the store's chain and acme's: {r}");
    let total = r["entries"].as_i64().unwrap();
    let in_acme = acme(&data)["entries"].as_i64().unwrap();
    assert!(in_acme >= 4, "{in_acme}");
    // The last character of entry 3's actor, one code point up: one byte.
    sql(
        &data,
        &[
            "UPDATE audit SET actor = substr(actor, 1, length(actor) - 1) || char(unicode(substr(actor, -1)) + 1) WHERE chain = 'acme' AND pos = 3",
        ],
    );
    let (code, r) = verify_json(&data, &[]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(r["ok"], false);
    assert_eq!(r["first_bad"]["chain"], "acme", "{r}");
    assert_eq!(r["first_bad"]["seq"], 3, "{r}");
    assert!(
        r["first_bad"]["problem"]
            .as_str()
            .unwrap()
            .contains("entry 3 of tenant acme's chain was altered"),
        "{r}"
    );
    let still = total - in_acme + 2;
    assert_eq!(
        r["entries"], still,
        "entries 1 and 2 of acme's still verify: {r}"
    );
    assert_eq!(r["head"], Value::Null);
    // The person's view: the problem on stderr, the count and hash on the last line.
    let o = verify_table(&data, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("audit chain BROKEN: entry 3 of tenant acme's chain was altered"),
        "{}",
        text(&o)
    );
    assert_last_line(&o, still);
    // The tenant's chain alone says the same.
    let (code, r) = verify_json(&data, &["--tenant", "acme"]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(
        (r["entries"].as_i64(), r["first_bad"]["seq"].as_i64()),
        (Some(2), Some(3))
    );
    // An unknown tenant is named, not reported as an empty chain that verifies.
    let o = verify_table(&data, &["--tenant", "nobody"]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("not found"), "{}", text(&o));
}

#[test]
fn a_deleted_middle_row_is_named() {
    let (_root, data) = store();
    let (_, r) = verify_json(&data, &[]);
    let total = r["entries"].as_i64().unwrap();
    let in_acme = acme(&data)["entries"].as_i64().unwrap();
    sql(
        &data,
        &["DELETE FROM audit WHERE chain = 'acme' AND pos = 3"],
    );
    let (code, r) = verify_json(&data, &[]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(r["first_bad"]["chain"], "acme", "{r}");
    assert_eq!(r["first_bad"]["seq"], 3, "{r}");
    assert!(
        r["first_bad"]["problem"]
            .as_str()
            .unwrap()
            .contains("missing"),
        "{r}"
    );
    assert_last_line(&verify_table(&data, &[]), total - in_acme + 2);
}

#[test]
fn a_cut_tail_with_the_head_rewritten_fails_the_signature_and_the_heads_record() {
    let (root, data) = store();
    let cp_file = root.path().join("checkpoint.json");
    let cp = checkpoint(&data, &cp_file);
    let cp_arg = cp_file.to_str().unwrap();
    let (code, r) = verify_json(&data, &["--checkpoint", cp_arg]);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["anchors_checked"], 1);
    assert_eq!(r["head"], cp["hash"]);
    assert_eq!(r["head_seq"], cp["seq"]);
    // The checkpoint's heads record names acme's head as it was.
    let n = acme(&data)["head_seq"].as_i64().unwrap();

    // Someone who can write the database but has no root key cuts the last two
    // entries of acme's chain and points its head at the new end, keeping the old
    // signature.
    let keep = n - 2;
    sql(
        &data,
        &[
            &format!("DELETE FROM audit WHERE chain = 'acme' AND pos > {keep}"),
            &format!(
                "UPDATE audit_heads SET seq = {keep}, hash = (SELECT hash FROM audit WHERE chain = 'acme' AND pos = {keep}), at = (SELECT at FROM audit WHERE chain = 'acme' AND pos = {keep}) WHERE chain = 'acme'"
            ),
        ],
    );
    let (code, r) = verify_json(&data, &[]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(r["head_signature"], "invalid", "{r}");
    assert_eq!(r["first_bad"]["chain"], "acme", "{r}");
    assert_eq!(r["first_bad"]["seq"], keep, "{r}");
    assert!(
        r["first_bad"]["problem"]
            .as_str()
            .unwrap()
            .contains("signature that does not verify"),
        "{r}"
    );
    // The store's chain recorded acme's head at the checkpoint: the cut is named as
    // such, with or without the witness's copy.
    for args in [&[][..], &["--checkpoint", cp_arg][..]] {
        let (code, r) = verify_json(&data, args);
        assert_eq!(code, Some(1), "{r}");
        assert!(
            problems(&r).contains(&format!(
                "tenant acme's chain ends at entry {keep}, but the heads record at entry"
            )) && problems(&r).contains("entries were removed from its end"),
            "{r}"
        );
    }
    let (code, r) = verify_json(&data, &["--tenant", "acme"]);
    assert_eq!(code, Some(1), "{r}");
    assert!(problems(&r).contains("the heads record at entry"), "{r}");
    // Without the signature as well: still named.
    sql(
        &data,
        &["UPDATE audit_heads SET sig = NULL WHERE chain = 'acme'"],
    );
    let (code, r) = verify_json(&data, &[]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(r["head_signature"], "missing", "{r}");

    // Vow does not sign over the alteration when it writes to that chain again: the
    // next change records that the head it found was not its own, and verification
    // keeps saying so.
    import_one_more(root.path(), &data);
    let (code, r) = verify_json(&data, &[]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(r["head_signature"], "valid", "the new head is signed: {r}");
    assert_eq!(r["first_bad"]["seq"], keep + 1, "{r}");
    assert!(
        r["first_bad"]["problem"]
            .as_str()
            .unwrap()
            .contains("was not signed by this store's key"),
        "{r}"
    );
    // The heads record still shows the cut, though the chain has grown past it again.
    assert!(
        problems(&r).contains(&format!(
            "entry {n} of tenant acme's chain is not the one the heads record"
        )),
        "{r}"
    );
}

#[test]
fn a_wiped_chain_is_found_by_the_store_chain_against_a_checkpoint_and_by_its_missing_signature() {
    let (root, data) = store();
    let cp_file = root.path().join("checkpoint.json");
    let cp = checkpoint(&data, &cp_file);
    let n = cp["seq"].as_i64().unwrap();
    let saved = root.path().join("saved");
    copy_db(&data, &saved);
    // One tenant's chain, entries and head, removed: the store's chain recorded its start.
    sql(
        &data,
        &[
            "DELETE FROM audit WHERE chain = 'acme'",
            "DELETE FROM audit_heads WHERE chain = 'acme'",
        ],
    );
    let (code, r) = verify_json(&data, &[]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(r["first_bad"]["chain"], "acme", "{r}");
    assert!(
        problems(&r).contains("tenant acme's chain, started at entry")
            && problems(&r).contains("is gone: it was wiped"),
        "{r}"
    );
    // Begun again by Vow after the wipe: started twice.
    import_one_more(root.path(), &data);
    let (code, r) = verify_json(&data, &["--tenant", "acme"]);
    assert_eq!(code, Some(1), "{r}");
    assert!(
        problems(&r).contains("was started 2 times: it was wiped and begun again"),
        "{r}"
    );

    // Everything wiped, the store's head reset.
    copy_db(&saved, &data);
    sql(
        &data,
        &[
            "DELETE FROM audit",
            "DELETE FROM audit_heads WHERE chain <> ''",
            "UPDATE audit_heads SET seq = 0, hash = zeroblob(32), at = 0, sig = NULL WHERE chain = ''",
        ],
    );
    let (code, r) = verify_json(&data, &[]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(r["entries"], 0);
    assert_eq!(r["head_signature"], "missing", "{r}");
    let (code, r) = verify_json(&data, &["--checkpoint", cp_file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{r}");
    assert!(
        problems(&r).contains(&format!(
            "the store's chain is empty, but the checkpoint made at {} records {n} entries: the chain was wiped",
            cp["at"].as_str().unwrap()
        )),
        "{r}"
    );
    let o = verify_table(&data, &["--checkpoint", cp_file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("the chain was wiped"), "{}", text(&o));
    assert_last_line(&o, 0);
}

/// Copies the database files (the main file and, if present, its WAL).
fn copy_db(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in ["vow.db", "vow.db-wal", "vow.db-shm"] {
        let _ = std::fs::remove_file(to.join(name));
        if from.join(name).exists() {
            std::fs::copy(from.join(name), to.join(name)).unwrap();
        }
    }
}

#[test]
fn an_older_copy_of_the_database_restored_is_found_against_a_checkpoint() {
    let (root, data) = store();
    let old = root.path().join("old-copy");
    copy_db(&data, &old);
    // Life goes on: more people, then a checkpoint taken to the witness.
    import_one_more(root.path(), &data);
    let witness = root.path().join("witness.jsonl");
    let cp = checkpoint(&data, &witness);
    let (_, now) = verify_json(&data, &[]);
    // The old copy is put back: on its own it is a perfectly consistent chain.
    copy_db(&old, &data);
    let (code, r) = verify_json(&data, &[]);
    assert_eq!(code, Some(0), "a restored copy verifies alone: {r}");
    assert!(r["entries"].as_i64().unwrap() < now["entries"].as_i64().unwrap());
    assert!(r["head_seq"].as_i64().unwrap() < cp["seq"].as_i64().unwrap());
    let (code, r) = verify_json(&data, &["--checkpoint", witness.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{r}");
    assert!(
        problems(&r).contains("an older copy of the database was restored"),
        "{r}"
    );
}

/// Polls `file` until a checkpoint line with `seq >= at_least` appears.
async fn wait_for_checkpoint(file: &Path, at_least: i64) -> Vec<Value> {
    for _ in 0..150 {
        if let Ok(t) = std::fs::read_to_string(file) {
            let lines: Vec<Value> = t
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            if lines.iter().any(|c| c["seq"].as_i64() >= Some(at_least)) {
                return lines;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no checkpoint of entry {at_least} or later in {}",
        file.display()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn vow_serve_writes_signed_checkpoints_to_a_witness_outside_the_data_directory() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let witness = root.path().join("witness").join("vow-checkpoints.jsonl");
    std::fs::create_dir(witness.parent().unwrap()).unwrap();

    // A witness inside the data directory is refused: whoever can change the data
    // could change it too.
    let inside = data.join("checkpoints.jsonl");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_vow"))
        .args(["serve", "--data", data.to_str().unwrap()])
        .env("VOW_AUDIT_WITNESS_FILE", &inside)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("inside the data directory"),
        "{}",
        text(&o)
    );

    let env = [
        ("VOW_AUDIT_WITNESS_FILE", witness.to_str().unwrap()),
        ("VOW_AUDIT_CHECKPOINT_EVERY", "5"),
    ];
    let (mut child, admin, port) = spawn_serve(&data, &env);
    let base = format!("http://127.0.0.1:{port}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let r = post(
        "/v1/tenants",
        json!({"id": "acme", "name": "Acme", "role": "controller"}),
    )
    .await
    .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    for role in ["admin", "operator", "auditor", "ingest", "admin", "auditor"] {
        let r = post("/v1/tenants/acme/keys", json!({"role": role}))
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    // Seven entries at least since start: a checkpoint appears (of the store's chain,
    // whose last entry names acme's head).
    let lines = wait_for_checkpoint(&witness, 1).await;
    for c in &lines {
        assert_eq!(c["format"], "vow:audit:checkpoint:v1");
        assert_eq!(c["signature"].as_str().unwrap().len(), 128);
    }
    // Stopping publishes where the chains stopped.
    assert!(stop(&mut child).success());
    let lines = wait_for_checkpoint(&witness, 1).await;
    let last = lines.last().unwrap().clone();
    let (code, r) = verify_json(&data, &["--checkpoint", witness.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["anchors_checked"].as_u64(), Some(lines.len() as u64));
    assert_eq!(
        r["head_seq"], last["seq"],
        "the last checkpoint is the head"
    );
    assert_eq!(r["head"], last["hash"]);
    // …and its heads record names acme's chain as it ended.
    let (code, t) = verify_json(&data, &["--tenant", "acme"]);
    assert_eq!(code, Some(0), "{t}");
    assert_eq!(
        r["entries"],
        t["entries"].as_i64().unwrap() + last["seq"].as_i64().unwrap()
    );
    let log = std::fs::read_to_string(data.join("serve.log")).unwrap();
    assert!(log.contains("audit checkpoint made"), "{log}");
}

#[test]
fn a_checkpoint_verifies_with_the_public_key_alone() {
    let (root, data) = store();
    let d = data.to_str().unwrap();
    let cp_file = root.path().join("checkpoint.json");
    let cp = checkpoint(&data, &cp_file);
    let o = vow(&["audit", "public-key", "--data", d, "--output", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let key: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(key["algorithm"], "ed25519");
    assert_eq!(key["key_id"], cp["key_id"]);
    assert_eq!(key["public_key"], cp["public_key"]);

    // What a third party does: rebuild the signed text and check the signature with
    // the public key it was given (no store, no root key).
    let signed = format!(
        "vow:audit:checkpoint:v1 {} {} {}",
        cp["seq"],
        cp["hash"].as_str().unwrap(),
        cp["at"].as_str().unwrap()
    );
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let public: [u8; 32] = hex(key["public_key"].as_str().unwrap()).try_into().unwrap();
    let sig = hex(cp["signature"].as_str().unwrap());
    assert!(vow_crypto::verify_signature(
        &public,
        signed.as_bytes(),
        &sig
    ));
    let other_seq = format!(
        "vow:audit:checkpoint:v1 {} {} {}",
        cp["seq"].as_i64().unwrap() + 1,
        cp["hash"].as_str().unwrap(),
        cp["at"].as_str().unwrap()
    );
    assert!(!vow_crypto::verify_signature(
        &public,
        other_seq.as_bytes(),
        &sig
    ));
    // And with OpenSSL, from the PEM that `vow audit public-key` prints.
    let o = vow(&["audit", "public-key", "--data", d]);
    let pem = root.path().join("vow-audit.pem");
    std::fs::write(&pem, &o.stdout).unwrap();
    std::fs::write(root.path().join("signed.txt"), &signed).unwrap();
    std::fs::write(root.path().join("sig.bin"), &sig).unwrap();
    let openssl = std::process::Command::new("openssl")
        .current_dir(root.path())
        .args([
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "vow-audit.pem",
            "-rawin",
            "-in",
            "signed.txt",
            "-sigfile",
            "sig.bin",
        ])
        .output();
    match openssl {
        Ok(o) => assert!(
            String::from_utf8_lossy(&o.stdout).contains("Signature Verified Successfully"),
            "{}",
            text(&o)
        ),
        Err(e) => eprintln!("openssl not run ({e}); checked with vow-crypto only"),
    }

    // A checkpoint altered after signing is refused, and so is another store's.
    let mut forged = cp.clone();
    forged["seq"] = json!(cp["seq"].as_i64().unwrap() + 1);
    let forged_file = root.path().join("forged.json");
    std::fs::write(&forged_file, forged.to_string()).unwrap();
    let (code, r) = verify_json(&data, &["--checkpoint", forged_file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{r}");
    assert!(
        problems(&r).contains("its signature does not verify with this store's key"),
        "{r}"
    );
    let (_other_root, other) = store();
    let (code, r) = verify_json(&other, &["--checkpoint", cp_file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{r}");
    assert!(problems(&r).contains("belongs to another store"), "{r}");
    // Not a checkpoint at all: bad input.
    std::fs::write(&forged_file, "{\"seq\": 1}\n").unwrap();
    let o = verify_table(&data, &["--checkpoint", forged_file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn expect_seq_hash_on_the_command_line_names_an_entry_of_the_chain_checked() {
    let (_root, data) = store();
    let (_, r) = verify_json(&data, &["--tenant", "acme"]);
    let n = r["head_seq"].as_i64().unwrap();
    assert!(n >= 2, "{r}");
    let head = r["head"].as_str().unwrap().to_string();
    // The table's output says what to record.
    let o = verify_table(&data, &["--tenant", "acme"]);
    assert!(
        text(&o).contains(&format!("--expect {n}:{head}")),
        "{}",
        text(&o)
    );
    let (code, r) = verify_json(
        &data,
        &["--tenant", "acme", "--expect", &format!("{n}:{head}")],
    );
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["anchors_checked"], 1);
    // The same pair names another chain's entry for the whole store: not there.
    let (code, r) = verify_json(&data, &["--expect", &format!("{n}:{head}")]);
    assert_eq!(code, Some(1), "{r}");
    // An entry that is there but with another hash; one beyond the end.
    let other = format!("{}:{head}", n - 1);
    let (code, r) = verify_json(&data, &["--tenant", "acme", "--expect", &other]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(r["first_bad"]["seq"], n - 1, "{r}");
    assert!(problems(&r).contains("the expected hash"), "{r}");
    let beyond = format!("{}:{head}", n + 3);
    let (code, r) = verify_json(&data, &["--tenant", "acme", "--expect", &beyond]);
    assert_eq!(code, Some(1), "{r}");
    assert_eq!(r["first_bad"]["seq"], n + 1, "{r}");
    for bad in ["12", "x:abc", &format!("{n}:{}", &head[..10])] {
        let o = verify_table(&data, &["--expect", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o));
    }
}

/// Over HTTP, on SQLite and PostgreSQL: the head is signed as reads and writes go on;
/// `?expect=` works; a head whose signature was replaced is reported, and the next
/// read's entry records it rather than signing over it; the self-assessment shows the
/// latest checkpoint.
async fn signed_head_over_http(s: Server) {
    s.tenant("acme").await;
    let op = s.key("acme", "operator", None).await;
    let id = s.panelist(&op, "acme", "h@example.org", "H").await;
    let read_path = format!("/v1/tenants/acme/subjects/{id}/read");
    let read = || {
        s.post(
            &op,
            &read_path,
            json!({"purpose": "research", "categories": ["user.name"]}),
        )
    };
    let (st, b) = read().await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, r) = s.get(&s.admin, "/v1/audit/verify").await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["head_signature"], "valid");
    let n = r["head_seq"].as_i64().unwrap();
    let head = r["head"].as_str().unwrap().to_string();
    let (st, r) = s
        .get(&s.admin, &format!("/v1/audit/verify?expect={n}:{head}"))
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["anchors_checked"], 1);
    let (st, r) = s
        .get(
            &s.admin,
            &format!("/v1/audit/verify?expect={}:{head}", n + 1),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{r}");
    let (st, p) = s.get(&s.admin, "/v1/audit/verify?expect=nonsense").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");

    // The latest checkpoint is in the self-assessment.
    let cp = s
        .engine
        .audit_checkpoint(&Actor::local("test"))
        .await
        .unwrap();
    let (st, report) = s
        .get(
            &s.admin,
            "/v1/tenants/acme/reports/self-assessment?year=2026",
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{report}");
    assert_eq!(report["audit"]["checkpoint"]["seq"], cp.seq);
    assert_eq!(report["audit"]["checkpoint"]["signature"], cp.signature);
    assert_eq!(report["audit"]["head_signature"], "valid");

    // Someone with the database but not the root key replaces the head's signature.
    let mut tx = s.store().write().await.unwrap();
    let mut h = tx.audit_head("acme").await.unwrap().unwrap();
    h.sig = Some(vec![0; 64]);
    tx.put_audit_head(&h).await.unwrap();
    tx.commit().await.unwrap();
    let (st, r) = s.get(&s.admin, "/v1/audit/verify").await;
    assert_eq!(st, StatusCode::CONFLICT, "{r}");
    assert_eq!(r["head_signature"], "invalid", "{r}");
    // No checkpoint vouches for it.
    let err = s
        .engine
        .audit_checkpoint(&Actor::local("test"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "audit_unavailable");
    // A read still works, and its entry is preceded by one naming the head found.
    let (st, b) = read().await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, r) = s.get(&s.admin, "/v1/audit/verify").await;
    assert_eq!(st, StatusCode::CONFLICT, "{r}");
    assert_eq!(r["head_signature"], "valid", "{r}");
    assert_eq!(r["first_bad"]["chain"], "acme", "{r}");
    assert_eq!(r["first_bad"]["seq"], h.pos + 1, "{r}");
    s.drop_db().await;
}

#[tokio::test]
async fn the_signed_head_over_http_on_sqlite() {
    signed_head_over_http(Server::start_at(TODAY).await).await;
}

#[tokio::test]
async fn the_signed_head_over_http_on_postgres() {
    let Some(s) = Server::start_on_at(Backend::Postgres, TODAY).await else {
        return;
    };
    signed_head_over_http(s).await;
}

/// A one-shot HTTP receiver on 127.0.0.1: answers `status` to the first request and
/// hands back its body.
fn receiver(status: u16) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/witness", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
        .unwrap();
        String::from_utf8(body).unwrap()
    });
    (url, handle)
}

#[test]
fn a_checkpoint_goes_to_the_witness_url_and_a_refusal_is_reported() {
    let (root, data) = store();
    let d = data.to_str().unwrap();
    let file = root.path().join("witness.jsonl");
    let (url, got) = receiver(204);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_vow"))
        .args(["audit", "checkpoint", "--data", d])
        .env("VOW_AUDIT_WITNESS_URL", &url)
        .env("VOW_AUDIT_WITNESS_FILE", &file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let printed: Value = serde_json::from_slice(&o.stdout).unwrap();
    let posted: Value = serde_json::from_str(&got.join().unwrap()).unwrap();
    assert_eq!(posted, printed);
    let filed: Value =
        serde_json::from_str(std::fs::read_to_string(&file).unwrap().trim()).unwrap();
    assert_eq!(filed, printed);
    let (code, r) = verify_json(&data, &["--checkpoint", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{r}");
    // A witness that does not take it: exit 1, saying so; the file still gets its line.
    let (url, got) = receiver(503);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_vow"))
        .args(["audit", "checkpoint", "--data", d])
        .env("VOW_AUDIT_WITNESS_URL", &url)
        .env("VOW_AUDIT_WITNESS_FILE", &file)
        .output()
        .unwrap();
    got.join().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("audit witness URL: the checkpoint of entry")
            && text(&o).contains("status 503"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 2);
    // Not a URL Vow can post to: bad configuration.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_vow"))
        .args(["audit", "verify", "--data", d])
        .env("VOW_AUDIT_WITNESS_URL", "ftp://witness.example/x")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
