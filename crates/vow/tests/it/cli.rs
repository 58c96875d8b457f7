//! The binary itself: `vow serve` as a real process (S10), and the CLI commands.

use crate::harness::{POLICY, Server};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub(crate) fn vow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vow"))
        .args(args)
        .output()
        .expect("run vow")
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A data directory with a tenant `acme` under the test policy, made through the CLI.
pub(crate) fn cli_tenant(dir: &Path) {
    let d = dir.to_str().unwrap();
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
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
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

/// A data directory with a tenant (the test policy) and `rows` imported through the CLI.
pub(crate) fn cli_store(dir: &Path, rows: &str) {
    cli_tenant(dir);
    let d = dir.to_str().unwrap();
    let file = dir.join("people.jsonl");
    std::fs::write(&file, rows).unwrap();
    let o = vow(&[
        "import",
        "--data",
        d,
        "--tenant",
        "acme",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

/// A distinct 555 number per person, derived from the e-mail (digits only).
pub(crate) fn phone_for(email: &str) -> String {
    let n = email
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 10_000;
    format!("1306555{n:04}")
}

pub(crate) fn person(email: &str, name: &str) -> String {
    json!({
        "identifiers": {"email": email, "phone": format!("+{}", phone_for(email))},
        "birth_date": "1985-04-02",
        "fields": [{"category": "user.name", "value": name, "purposes": ["research"]},
                   {"category": "user.health_and_medical", "value": format!("{name} has asthma"), "purposes": ["research"]}],
        "consents": [{"purpose": "research", "evidence": {"channel": "web", "shown": "Consent v1"}}]
    })
    .to_string()
}

fn scan(dir: &Path, needles: &[&str], found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            scan(&path, needles, found);
            continue;
        }
        if path.file_name().is_some_and(|n| n == "people.jsonl") {
            continue; // the operator's own input file, not Vow's storage
        }
        let bytes = std::fs::read(&path).unwrap();
        for n in needles {
            for variant in [n.to_string(), n.to_lowercase(), n.to_uppercase()] {
                if bytes
                    .windows(variant.len())
                    .any(|w| w == variant.as_bytes())
                {
                    found.push(format!("{variant:?} in {}", path.display()));
                }
            }
        }
    }
}

/// `vow serve` as a child process on a free port, its log in `dir/serve.log`.
/// Returns the process, the bootstrap admin key (empty if none was printed) and the port.
pub(crate) fn spawn_serve(dir: &Path, env: &[(&str, &str)]) -> (std::process::Child, String, u16) {
    spawn_serve_limited(dir, env, None)
}

/// [`spawn_serve`], with the process's open files limited to `open_files` (soft and
/// hard limit, set by `sh` before it runs `vow`) if given.
pub(crate) fn spawn_serve_limited(
    dir: &Path,
    env: &[(&str, &str)],
    open_files: Option<u32>,
) -> (std::process::Child, String, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    let vow = env!("CARGO_BIN_EXE_vow");
    let mut command = match open_files {
        None => Command::new(vow),
        Some(n) => {
            let mut sh = Command::new("sh");
            sh.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), vow]);
            sh
        }
    };
    let mut child = command
        .args([
            "serve",
            "--data",
            dir.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut admin = String::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        if let Some(k) = line
            .trim()
            .strip_prefix("bootstrap admin API key (shown once, store it now): ")
        {
            admin = k.to_string();
        }
        if line.contains("listening") {
            break;
        }
        line.clear();
    }
    (child, admin, port)
}

pub(crate) fn stop(child: &mut std::process::Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..300 {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("server did not stop within 30 s");
}

#[tokio::test]
async fn the_server_speaks_tls_when_given_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (pem, cert, key) = crate::connections::self_signed(d);
    let (mut child, admin, port) = spawn_serve(
        d,
        &[
            ("VOW_TLS_CERT", cert.to_str().unwrap()),
            ("VOW_TLS_KEY", key.to_str().unwrap()),
        ],
    );
    assert!(!admin.is_empty());
    let client = crate::connections::tls_client(&pem, port);
    let res = client
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Over TLS, browsers are told to keep to HTTPS.
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    // Plain HTTP to the TLS port gets no answer from the API.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    assert!(plain.map(|r| r.status() != StatusCode::OK).unwrap_or(true));
    assert!(stop(&mut child).success());
}

#[tokio::test]
async fn s10_no_plaintext_personal_data_at_rest_or_in_logs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    cli_store(
        d,
        &format!(
            "{}\n{}\n",
            person("zelda.quarry@example.org", "Zelda Quarrington"),
            person("yusuf.vantablack@example.org", "Yusuf Vantablack")
        ),
    );
    // A real server process, its log in the data directory.
    let (mut child, admin, port) = spawn_serve(d, &[("VOW_LOG", "debug")]);
    let base = format!("http://127.0.0.1:{port}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let key: Value = client
        .post(format!("{base}/v1/tenants/acme/keys"))
        .bearer_auth(&admin)
        .json(&json!({"role": "operator"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let op = key["key"].as_str().unwrap();
    let res = client
        .post(format!("{base}/v1/tenants/acme/subjects"))
        .bearer_auth(op)
        .body(person("xavier.oddlington@example.org", "Xavier Oddlington"))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // Lookups put the e-mail in the URL; reads return values: neither may reach the log.
    for email in ["zelda.quarry@example.org", "xavier.oddlington@example.org"] {
        let found: Value = client
            .get(format!("{base}/v1/tenants/acme/subjects?email={email}"))
            .bearer_auth(op)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = found["id"].as_str().unwrap();
        let r = client
            .post(format!("{base}/v1/tenants/acme/subjects/{id}/read"))
            .bearer_auth(op)
            .json(&json!({"purpose": "research", "categories": ["user.name", "user.contact", "user.health_and_medical"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    // A failing request too (its problem document must not echo the value).
    client
        .post(format!("{base}/v1/tenants/acme/subjects"))
        .bearer_auth(op)
        .body(person("zelda.quarry@example.org", "Zelda Quarrington"))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    // Graceful stop: SIGTERM, in-flight work finishes, the process exits 0.
    assert!(stop(&mut child).success());
    let logged = std::fs::read_to_string(d.join("serve.log")).unwrap();
    assert!(
        logged.contains("request_id"),
        "log lines carry the request id"
    );
    let mut found = Vec::new();
    let zelda_phone = phone_for("zelda.quarry@example.org");
    let needles = [
        zelda_phone.as_str(),
        "Zelda",
        "Quarrington",
        "zelda.quarry",
        "Yusuf",
        "Vantablack",
        "Xavier",
        "Oddlington",
        "oddlington@",
        "asthma",
        "3065550199",
    ];
    scan(d, &needles, &mut found);
    assert!(
        found.is_empty(),
        "plaintext personal data found: {found:#?}"
    );
}

#[test]
fn audit_verify_names_the_first_altered_removed_or_reordered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    cli_store(
        dir.path(),
        &format!(
            "{}\n{}\n",
            person("a@example.org", "Ann"),
            person("b@example.org", "Bob")
        ),
    );
    let o = vow(&["audit", "verify", "--data", &d]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("intact"));
    let db = format!("sqlite://{d}/vow.db");
    let exec = |sql: &'static str| {
        let db = db.clone();
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                sqlx::any::install_default_drivers();
                let pool = sqlx::AnyPool::connect(&db).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
                pool.close().await;
            })
    };
    // Altered.
    exec("UPDATE audit SET detail = '{\"role\":\"processor\"}' WHERE chain = 'acme' AND pos = 2");
    let o = vow(&["audit", "verify", "--data", &d, "--output", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["first_bad"]["chain"], "acme", "{r}");
    assert_eq!(r["first_bad"]["seq"], 2, "{r}");
    // The tenant's chain alone says the same.
    let o = vow(&[
        "audit", "verify", "--data", &d, "--tenant", "acme", "--output", "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (r["chains"].as_i64(), r["tenant"].as_str()),
        (Some(1), Some("acme"))
    );
    assert_eq!(r["first_bad"]["seq"], 2, "{r}");
    // Removed (with the alteration still there, the first bad entry is still 2; remove an earlier one).
    exec("DELETE FROM audit WHERE chain = 'acme' AND pos = 1");
    let o = vow(&["audit", "verify", "--data", &d, "--output", "json"]);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["first_bad"]["seq"], 1, "{r}");
    assert!(
        r["first_bad"]["problem"]
            .as_str()
            .unwrap()
            .contains("missing")
    );
}

#[test]
fn audit_verify_detects_reordering_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    cli_store(dir.path(), &format!("{}\n", person("a@example.org", "Ann")));
    let db = format!("sqlite://{d}/vow.db");
    let run = |sqls: &'static [&'static str]| {
        let db = db.clone();
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                sqlx::any::install_default_drivers();
                let pool = sqlx::AnyPool::connect(&db).await.unwrap();
                for s in sqls {
                    sqlx::query(*s).execute(&pool).await.unwrap();
                }
                pool.close().await;
            })
    };
    // Swap two entries' contents (a reordering): caught at the first of them.
    run(&[
        "UPDATE audit SET pos = -1 WHERE chain = 'acme' AND pos = 2",
        "UPDATE audit SET pos = 2 WHERE chain = 'acme' AND pos = 3",
        "UPDATE audit SET pos = 3 WHERE chain = 'acme' AND pos = -1",
    ]);
    let o = vow(&["audit", "verify", "--data", &d, "--output", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["first_bad"]["seq"], 2, "{r}");
    // Undo, then cut off the tail: the head no longer matches.
    run(&[
        "UPDATE audit SET pos = -1 WHERE chain = 'acme' AND pos = 2",
        "UPDATE audit SET pos = 2 WHERE chain = 'acme' AND pos = 3",
        "UPDATE audit SET pos = 3 WHERE chain = 'acme' AND pos = -1",
    ]);
    assert!(vow(&["audit", "verify", "--data", &d]).status.success());
    run(&[
        "DELETE FROM audit WHERE chain = 'acme' AND pos = (SELECT MAX(pos) FROM audit WHERE chain = 'acme')",
    ]);
    let o = vow(&["audit", "verify", "--data", &d]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("removed"), "{}", text(&o));
}

#[test]
fn policy_check_reports_file_line_column_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.yaml");
    let broken = POLICY.replace(
        "categories: [user.name, user.contact, user.health_and_medical]",
        "categories: [user.name, user.nonexistent]",
    );
    std::fs::write(&f, broken).unwrap();
    let o = vow(&["policy", "check", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains(&format!("{}:26:29: error[unknown_reference]", f.display())),
        "{out}"
    );
    assert!(out.contains("purposes[0].categories[1]"), "{out}");
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, POLICY).unwrap();
    assert!(
        vow(&["policy", "check", good.to_str().unwrap()])
            .status
            .success()
    );
    let o = vow(&[
        "policy",
        "render",
        good.to_str().unwrap(),
        "--format",
        "html",
    ]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("<table"));
}

#[test]
fn import_is_all_or_nothing_and_reports_bad_rows_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    cli_store(
        dir.path(),
        &format!("{}\n", person("first@example.org", "First")),
    );
    let file = dir.path().join("mixed.jsonl");
    let rows = [
        person("good1@example.org", "Good One"),
        "{not json".to_string(),
        person("good2@example.org", "Good Two"),
        json!({"identifiers": {"email": "bad@example.org"}, "fields": [{"category": "user.name", "value": "x", "purposes": ["marketing.email"]}]}).to_string(),
    ];
    std::fs::write(&file, rows.join("\n")).unwrap();
    let o = vow(&[
        "import",
        "--data",
        &d,
        "--tenant",
        "acme",
        file.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["committed"], false);
    let lines: Vec<i64> = r["bad"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [2, 4]);
    assert!(!o.stdout.windows(8).any(|w| w == b"Good One"));
    // --skip-bad commits the good rows.
    let o = vow(&[
        "import",
        "--data",
        &d,
        "--tenant",
        "acme",
        file.to_str().unwrap(),
        "--skip-bad",
        "--output",
        "json",
    ]);
    assert!(o.status.success());
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["imported"], 2);
    // CSV too.
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, "email,consents,user.name[research]\ncsv1@example.org,research:express,Cee Ess\ncsv2@example.org,,No Consent\n").unwrap();
    let o = vow(&[
        "import",
        "--data",
        &d,
        "--tenant",
        "acme",
        csv.to_str().unwrap(),
        "--output",
        "json",
    ]);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["bad"][0]["line"], 3, "{r}");
}

#[tokio::test]
async fn keys_rotate_rewraps_subject_keys_and_leaves_ciphertexts_alone() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    let id = s
        .panelist(&op, "acme", "ada@example.org", "Ada Quill")
        .await;
    let before_fields = s
        .store()
        .read()
        .await
        .unwrap()
        .all_fields("acme", &id)
        .await
        .unwrap();
    let before_key = s
        .store()
        .read()
        .await
        .unwrap()
        .subject_key("acme", &id)
        .await
        .unwrap()
        .unwrap();
    let r = s
        .engine
        .rotate_keys(
            &vow_engine::Actor::local("test"),
            &"acme".parse().unwrap(),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!((r.from_version, r.to_version, r.rewrapped), (1, 2, 1));
    let after_fields = s
        .store()
        .read()
        .await
        .unwrap()
        .all_fields("acme", &id)
        .await
        .unwrap();
    let after_key = s
        .store()
        .read()
        .await
        .unwrap()
        .subject_key("acme", &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before_fields, after_fields, "field ciphertexts untouched");
    assert_ne!(before_key.wrapped, after_key.wrapped);
    assert_eq!(after_key.kek_version, 2);
    let (st, r) = s
        .post(
            &op,
            &format!("/v1/tenants/acme/subjects/{id}/read"),
            json!({"purpose": "research", "categories": ["user.name"]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["fields"][0]["value"], "Ada Quill");
    // The retired KEK's wrapped bytes are destroyed.
    let keks = s.store().read().await.unwrap().keks("acme").await.unwrap();
    assert!(
        keks.iter()
            .any(|k| k.version == 1 && k.retired_at.is_some() && k.wrapped.is_empty())
    );
}

#[tokio::test]
async fn a_passphrase_root_key_opens_the_store_and_a_wrong_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/vow.db", dir.path().display());
    let open = |p: &str| {
        vow_engine::Engine::open(
            &url,
            vow_engine::KeySource::Passphrase(p.to_string()),
            std::sync::Arc::new(vow_core::SystemClock),
        )
    };
    let (engine, _) = open("correct horse battery staple").await.unwrap();
    engine
        .create_tenant(
            &vow_engine::Actor::local("t"),
            "acme",
            "Acme",
            "controller",
            None,
        )
        .await
        .unwrap();
    engine.shutdown().await;
    let (engine, _) = open("correct horse battery staple").await.unwrap();
    assert_eq!(
        engine
            .tenants(&vow_engine::Actor::local("t"))
            .await
            .unwrap()
            .len(),
        1
    );
    engine.shutdown().await;
    let err = open("wrong passphrase")
        .await
        .err()
        .expect("a wrong passphrase is refused");
    assert!(err.to_string().contains("root key does not match"), "{err}");
    // The key file, when used, is private to its owner. (Only a command that may make
    // a store makes one: `tenant create` here; see store_commands_refuse_a_directory_without_a_store.)
    let dir2 = tempfile::tempdir().unwrap();
    let o = vow(&[
        "tenant",
        "create",
        "--data",
        dir2.path().to_str().unwrap(),
        "--id",
        "acme",
        "--name",
        "Acme",
        "--role",
        "controller",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir2.path().join("root.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn r22_a_phone_request_entered_at_the_command_line_joins_the_same_workflow() {
    let yesterday = yesterday();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    cli_store(
        dir.path(),
        &format!("{}\n", person("caller@example.org", "Cal Caller")),
    );
    let o = vow(&[
        "request",
        "submit",
        "--data",
        &d,
        "--tenant",
        "acme",
        "--type",
        "know",
        "--channel",
        "phone",
        "--email",
        "caller@example.org",
        "--received-at",
        &yesterday,
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["channel"], "phone");
    assert_eq!(
        r["received_at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap(),
        yesterday.parse::<jiff::Timestamp>().unwrap()
    );
    let id = r["id"].as_str().unwrap();
    let o = vow(&[
        "request", "fulfil", "--data", &d, "--tenant", "acme", id, "--output", "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["state"], "fulfilled");
    // The notices went to the mail directory as .eml files.
    assert!(std::fs::read_dir(dir.path().join("mail")).unwrap().count() >= 2);
    let o = vow(&["request", "list", "--data", &d, "--tenant", "acme", "--all"]);
    assert!(text(&o).contains(id));
    let o = vow(&[
        "report", "metrics", "--data", &d, "--tenant", "acme", "--year", "2026", "--output", "json",
    ]);
    let m: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(m["per_type"][1]["type"], "know");
    assert_eq!(m["per_type"][1]["complied_in_whole"], 1);
    // The self-assessment, signed from the command line, written to a file.
    let out = dir.path().join("assessment.json");
    let o = vow(&[
        "report",
        "self-assessment",
        "--data",
        &d,
        "--tenant",
        "acme",
        "--year",
        "2026",
        "--format",
        "json",
        "--sign-off",
        "Privacy Officer",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let a: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(a["requests"]["received"], 1, "{a}");
    assert_eq!(a["sign_offs"][0]["role"], "Privacy Officer");
    assert_eq!(a["sign_offs"][0]["current"], true);
    let o = vow(&[
        "report",
        "self-assessment",
        "--data",
        &d,
        "--tenant",
        "acme",
        "--year",
        "2026",
    ]);
    assert!(text(&o).contains("# Self-assessment 2026"), "{}", text(&o));
    let o = vow(&[
        "report",
        "self-assessment",
        "--data",
        &d,
        "--tenant",
        "acme",
        "--year",
        "1900",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // A bad type is bad input: exit 2 with the pointer.
    let o = vow(&[
        "request",
        "submit",
        "--data",
        &d,
        "--tenant",
        "acme",
        "--type",
        "nonsense",
        "--channel",
        "phone",
        "--email",
        "x@example.org",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("/type"));
}

#[test]
fn a_change_of_law_is_a_data_change() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    // The test policy promises 30 days; remove that, so the law alone decides.
    let policy = dir.path().join("law-only.yaml");
    std::fs::write(
        &policy,
        POLICY.replace("response_times:\n  requests_days: 30\n", ""),
    )
    .unwrap();
    let o = vow(&[
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
    assert!(o.status.success(), "{}", text(&o));
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let pipeda = include_str!("../../../../rules/ca-pipeda.yaml").replacen(
        "respond: 30 calendar_days",
        "respond: 20 calendar_days",
        1,
    );
    std::fs::write(rules.join("ca-pipeda.yaml"), pipeda).unwrap();
    let yesterday = yesterday();
    let submit = |env: Option<&std::path::Path>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vow"));
        c.args([
            "request",
            "submit",
            "--data",
            &d,
            "--tenant",
            "acme",
            "--type",
            "access",
            "--channel",
            "mail",
            "--email",
            "x@example.org",
            "--jurisdiction",
            "CA",
            "--received-at",
            &yesterday,
            "--output",
            "json",
        ]);
        if let Some(dir) = env {
            c.env("VOW_RULES_DIR", dir);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let built_in = submit(None);
    let changed = submit(Some(&rules));
    let due = |v: &Value| {
        v["due"]["response"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
    };
    assert_eq!(
        due(&built_in).duration_since(due(&changed)),
        jiff::SignedDuration::from_hours(240),
        "{built_in} {changed}"
    );
    // A broken pack is bad input, reported with its position.
    std::fs::write(rules.join("broken.yaml"), "id: XX\nrespond: soon\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_vow"))
        .args(["request", "list", "--data", &d, "--tenant", "acme"])
        .env("VOW_RULES_DIR", &rules)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("broken.yaml:"), "{}", text(&o));
}

/// A day before now, in whole seconds. The binary reads the real clock (the
/// harness's clock switch does not reach it), so CLI tests date from it too.
fn yesterday() -> String {
    let t = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24);
    jiff::Timestamp::from_second(t.as_second())
        .unwrap()
        .to_string()
}

/// Subject ids of a CLI store, looked up through the engine on the same files.
fn ids_of(dir: &Path, emails: &[&str]) -> Vec<String> {
    let url = format!("sqlite://{}/vow.db", dir.display());
    let key = dir.join("root.key");
    let emails: Vec<String> = emails.iter().map(|e| e.to_string()).collect();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let (engine, _) = vow_engine::Engine::open(
                &url,
                vow_engine::KeySource::File(key),
                std::sync::Arc::new(vow_core::SystemClock),
            )
            .await
            .unwrap();
            let me = vow_engine::Actor::local("test");
            let mut ids = Vec::new();
            for e in &emails {
                ids.push(
                    engine
                        .lookup(
                            &me,
                            &"acme".parse().unwrap(),
                            vow_crypto::IdentifierKind::Email,
                            e,
                        )
                        .await
                        .unwrap()
                        .expect("a subject"),
                );
            }
            engine.shutdown().await;
            ids
        })
}

#[test]
fn r5_s4_a_disclosure_from_the_command_line_writes_only_what_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    cli_store(
        dir.path(),
        &format!(
            "{}\n{}\n",
            person("a@example.org", "Ann"),
            person("b@example.org", "Bob")
        ),
    );
    let ids = ids_of(dir.path(), &["a@example.org", "b@example.org"]);
    let list = dir.path().join("batch.txt");
    std::fs::write(
        &list,
        format!("{}\n{{\"id\": \"{}\"}}\nno-such-person\n", ids[0], ids[1]),
    )
    .unwrap();
    let out = dir.path().join("to-lab.jsonl");
    let send = |categories: &str, out: &Path| {
        vow(&[
            "disclosure",
            "send",
            "--data",
            d,
            "--tenant",
            "acme",
            "--recipient",
            "lab-partner",
            "--purpose",
            "research",
            "--categories",
            categories,
            "--subjects",
            list.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--output",
            "json",
        ])
    };
    let o = send("user.name,user.health_and_medical", &out);
    assert!(o.status.success(), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (r["sent"].as_u64(), r["refused"].as_u64()),
        (Some(2), Some(1)),
        "{r}"
    );
    assert_eq!(r["refused_by_reason"]["not_found"], 1);
    let lines: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines
            .iter()
            .any(|l| l.to_string().contains("Ann has asthma"))
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // The file is never overwritten; a category the recipient may not have is refused whole.
    let o = send("user.name", &out);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = send(
        "user.financial.bank_account",
        &dir.path().join("other.jsonl"),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("may not receive user.financial.bank_account"));
    assert!(
        !dir.path().join("other.jsonl").exists(),
        "nothing written for a refusal"
    );
    let o = vow(&[
        "disclosure",
        "list",
        "--data",
        d,
        "--tenant",
        "acme",
        "--output",
        "json",
    ]);
    let log: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log[0]["recipient"], "lab-partner");
    assert_eq!(log[0]["subjects"], 2);
}
