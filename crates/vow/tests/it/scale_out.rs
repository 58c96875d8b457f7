//! Scale-out (issue 12): three `vow serve` processes in front of one PostgreSQL, with
//! several clients writing to several tenants at once through all three. Every write
//! is visible from every server, no audit entry is lost or duplicated, and every
//! tenant's audit chain (each with its own head, so the servers never queue on one
//! global row) verifies, as does the store's chain that records them.

use crate::cli::{spawn_serve, stop, text};
use crate::harness::POLICY;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use vow_store::testing::{PgTestDb, pg_skipped};

const SERVERS: usize = 3;
const TENANTS: usize = 4;
const CLIENTS: usize = 6;
const WRITES: usize = 12;

struct Api {
    client: reqwest::Client,
    bases: Vec<String>,
}

impl Api {
    async fn send(&self, server: usize, r: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let res = r
            .send()
            .await
            .unwrap_or_else(|e| panic!("server {server}: {e}"));
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, server: usize, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.bases[server]);
        self.send(server, self.client.post(url).bearer_auth(key).json(&body))
            .await
    }

    async fn get(&self, server: usize, key: &str, path: &str) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.bases[server]);
        self.send(server, self.client.get(url).bearer_auth(key))
            .await
    }
}

/// `vow audit verify` against the shared database, as an operator runs it anywhere.
fn verify(data: &Path, env: &[(&str, &str)]) -> Value {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_vow"))
        .args([
            "audit",
            "verify",
            "--data",
            data.to_str().unwrap(),
            "--output",
            "json",
        ])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_servers_on_one_postgres_lose_no_write_and_no_audit_entry() {
    if pg_skipped() {
        return;
    }
    let db = PgTestDb::create().await.unwrap();
    let root = tempfile::tempdir().unwrap();
    let key_file = root.path().join("root.key");
    let env = [
        ("VOW_DATABASE_URL", db.url.as_str()),
        ("VOW_KEY_FILE", key_file.to_str().unwrap()),
    ];
    // The first server makes the schema, the root key and the admin key; the others
    // share all three.
    let mut children = Vec::new();
    let mut bases = Vec::new();
    let mut admin = String::new();
    for n in 0..SERVERS {
        let data = root.path().join(format!("server-{n}"));
        std::fs::create_dir(&data).unwrap();
        let (child, key, port) = spawn_serve(&data, &env);
        if n == 0 {
            admin = key;
        }
        children.push(child);
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    assert!(!admin.is_empty(), "the first server printed the admin key");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let api = std::sync::Arc::new(Api {
        client: reqwest::Client::new(),
        bases,
    });

    // Each tenant is made through another server.
    let mut keys = Vec::new();
    for t in 0..TENANTS {
        let server = t % SERVERS;
        let id = format!("t{t}");
        let (st, b) = api
            .post(
                server,
                &admin,
                "/v1/tenants",
                json!({"id": id, "name": format!("Tenant {t}"), "role": "controller"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}");
        let res = api
            .client
            .put(format!("{}/v1/tenants/{id}/policy", api.bases[server]))
            .bearer_auth(&admin)
            .header("content-type", "application/yaml")
            .body(POLICY)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let (st, b) = api
            .post(
                (server + 1) % SERVERS,
                &admin,
                &format!("/v1/tenants/{id}/keys"),
                json!({"role": "operator"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}");
        keys.push(b["key"].as_str().unwrap().to_string());
    }
    let keys = std::sync::Arc::new(keys);

    // Several clients at once, each spreading its writes over every server and tenant.
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (api, keys) = (api.clone(), keys.clone());
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            for w in 0..WRITES {
                let (server, t) = ((c + w) % SERVERS, (c * 7 + w) % TENANTS);
                let email = format!("c{c}w{w}@example.org");
                let (st, b) = api
                    .post(
                        server,
                        &keys[t],
                        &format!("/v1/tenants/t{t}/subjects"),
                        json!({
                            "identifiers": {"email": email},
                            "birth_date": "1990-01-31",
                            "fields": [{"category": "user.name", "value": format!("Client {c} write {w}"),
                                        "purposes": ["research"], "source": "signup-form"}],
                            "consents": [{"purpose": "research", "kind": "express",
                                          "evidence": {"channel": "web", "shown": "Consent v1"}}]
                        }),
                    )
                    .await;
                assert_eq!(st, StatusCode::CREATED, "server {server}, tenant t{t}: {b}");
                made.push((t, email, b["id"].as_str().unwrap().to_string()));
            }
            made
        }));
    }
    let mut made = Vec::new();
    for task in tasks {
        made.extend(task.await.unwrap());
    }
    assert_eq!(made.len(), CLIENTS * WRITES);

    // Every write is visible from every server.
    for (t, email, id) in &made {
        for server in 0..SERVERS {
            let (st, b) = api
                .get(
                    server,
                    &keys[*t],
                    &format!("/v1/tenants/t{t}/subjects?email={email}"),
                )
                .await;
            assert_eq!(
                st,
                StatusCode::OK,
                "server {server} does not see {email}: {b}"
            );
            assert_eq!(b["id"].as_str(), Some(id.as_str()));
        }
    }
    for child in &mut children {
        assert!(stop(child).success());
    }

    // Exactly one `subject.create` entry per write, in its tenant's chain.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT chain, tenant_id, subject_id, COUNT(*) FROM audit WHERE action = 'subject.create'
         GROUP BY chain, tenant_id, subject_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut per_tenant: BTreeMap<String, usize> = BTreeMap::new();
    for (chain, tenant, subject, n) in &rows {
        assert_eq!(chain, tenant, "an entry in another tenant's chain");
        assert_eq!(*n, 1, "subject {subject}: {n} create entries");
        *per_tenant.entry(tenant.clone()).or_default() += 1;
    }
    for t in 0..TENANTS {
        let want = made.iter().filter(|(mt, _, _)| *mt == t).count();
        assert_eq!(per_tenant.get(&format!("t{t}")), Some(&want), "tenant t{t}");
    }
    let lookups: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit WHERE action = 'subject.lookup'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        lookups.0 as usize,
        made.len() * SERVERS,
        "one entry per lookup"
    );
    pool.close().await;

    // Every chain verifies: four tenants' and the store's.
    let r = verify(&root.path().join("server-0"), &env);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["chains"], TENANTS + 1, "{r}");
    db.drop_db().await.unwrap();
}
