//! A real server on 127.0.0.1 over a fresh store, and a small HTTP client.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use tempfile::TempDir;
use vow_core::{Clock, FixedClock, ShiftedClock};
use vow_engine::{Actor, Engine, KeySource};

pub const POLICY: &str = include_str!("policy.yaml");

/// The switch that moves the harness's stand-in for the real clock ahead by a
/// number of days. `.ci/run` runs this suite a second time with it set years
/// ahead: a test whose outcome depends on today's date fails that run, and
/// belongs on a fixed clock ([`Server::start_at`], [`Server::start_clocked`]).
/// Only this harness reads it; the `vow` binary never does.
pub const CLOCK_AHEAD: &str = "VOW_TEST_CLOCK_AHEAD_DAYS";

/// The day that tests whose outcome depends on the date are written for; they
/// run on a clock that starts here ([`Server::start_at`]).
pub const TODAY: &str = "2026-11-06T10:00:00Z";
/// The outbound posts' timeout, as `vow serve`'s default webhooks timeout.
const OUTBOUND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The clock servers get unless a test fixes one: real time, moved ahead by
/// [`CLOCK_AHEAD`] days when that is set.
pub fn clock() -> ShiftedClock {
    let days: i64 = match std::env::var(CLOCK_AHEAD) {
        Ok(v) => v
            .parse()
            .expect("VOW_TEST_CLOCK_AHEAD_DAYS is a whole number of days"),
        Err(_) => 0,
    };
    ShiftedClock::by(jiff::SignedDuration::from_hours(24 * days))
}

/// "Now" as the servers of [`Server::start`] see it. Tests compute relative
/// dates from this, never from `Timestamp::now()`.
pub fn now() -> jiff::Timestamp {
    clock().now()
}

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    /// A global admin key.
    pub admin: String,
    /// Kept so the store outlives the test.
    _dir: TempDir,
    pub engine: Arc<Engine>,
    /// The test's own handle on the server's database, to inspect (or tamper with)
    /// what is stored: the engine does not hand out its store.
    store: vow_store::Store,
    pg: Option<vow_store::testing::PgTestDb>,
    database_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Server {
    pub async fn start() -> Server {
        Server::start_on(Backend::Sqlite)
            .await
            .expect("sqlite server")
    }

    /// None when PostgreSQL tests are explicitly switched off (VOW_SKIP_PG=1).
    pub async fn start_on(backend: Backend) -> Option<Server> {
        Server::start_with_clock(backend, Arc::new(clock())).await
    }

    /// A SQLite server whose clock reads `at` now and runs on in real time:
    /// for tests whose outcome depends on the date.
    pub async fn start_at(at: &str) -> Server {
        Server::start_on_at(Backend::Sqlite, at)
            .await
            .expect("sqlite server")
    }

    /// [`Server::start_at`] on a chosen backend; None when PostgreSQL is switched off.
    pub async fn start_on_at(backend: Backend, at: &str) -> Option<Server> {
        let clock = ShiftedClock::starting_at(at.parse().expect("a timestamp"));
        Server::start_with_clock(backend, Arc::new(clock)).await
    }

    /// A SQLite server whose clock stands at `at` until the test moves it.
    pub async fn start_clocked(at: &str) -> (Server, Arc<FixedClock>) {
        let clock = Arc::new(FixedClock::new(at.parse().expect("a timestamp")));
        let s = Server::start_with_clock(Backend::Sqlite, clock.clone())
            .await
            .expect("sqlite server");
        (s, clock)
    }

    pub async fn start_with_clock(backend: Backend, clock: Arc<dyn Clock>) -> Option<Server> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("tempdir");
        let (database_url, pg) = match backend {
            Backend::Sqlite => (format!("sqlite://{}/vow.db", dir.path().display()), None),
            Backend::Postgres => {
                if vow_store::testing::pg_skipped() {
                    return None;
                }
                let db = vow_store::testing::PgTestDb::create()
                    .await
                    .expect("PostgreSQL on 127.0.0.1:5432 (set VOW_SKIP_PG=1 to skip)");
                (db.url.clone(), Some(db))
            }
        };
        let (engine, _) = Engine::open(
            &database_url,
            KeySource::File(dir.path().join("root.key")),
            clock,
        )
        .await
        .expect("engine");
        // As `vow serve` does: outbound posts through the webhooks' guarded client.
        vow_server::outbound::GuardedOutbound::install(&engine, OUTBOUND_TIMEOUT);
        let store = vow_store::Store::open(&database_url)
            .await
            .expect("the test's own store handle");
        let admin = engine
            .create_api_key(
                &Actor::local("test"),
                None,
                vow_core::Role::Admin,
                None,
                Some("test admin"),
            )
            .await
            .expect("admin key")
            .key;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        // With the client's address, as `vow serve`'s listener gives it.
        let app = vow_server::router(engine.clone())
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Some(Server {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            admin,
            _dir: dir,
            engine,
            store,
            pg,
            database_url,
        })
    }

    /// A second server on this one's database and root key, as a second machine
    /// behind a load balancer would be: its base URL and engine.
    pub async fn twin(&self) -> (String, Arc<Engine>) {
        let (engine, _) = Engine::open(
            &self.database_url,
            KeySource::File(self.data_dir().join("root.key")),
            Arc::new(clock()),
        )
        .await
        .expect("a second engine on the same store");
        vow_server::outbound::GuardedOutbound::install(&engine, OUTBOUND_TIMEOUT);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = vow_server::router(engine.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (format!("http://{addr}"), engine)
    }

    /// An engine on this server's store and root key with no outbound HTTP client
    /// installed, as a process that never set one up: on `clock`.
    pub async fn engine_without_outbound(&self, clock: Arc<dyn Clock>) -> Arc<Engine> {
        let (engine, _) = Engine::open(
            &self.database_url,
            KeySource::File(self.data_dir().join("root.key")),
            clock,
        )
        .await
        .expect("a second engine on the same store");
        engine
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// The database the server stores in, opened separately: for tests that look at (or
    /// tamper with) the stored bytes.
    pub fn store(&self) -> &vow_store::Store {
        &self.store
    }

    pub async fn drop_db(mut self) {
        if let Some(db) = self.pg.take() {
            self.engine.shutdown().await;
            self.store.close().await;
            db.drop_db().await.expect("drop test database");
        }
    }

    pub async fn call(
        &self,
        method: Method,
        key: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        assert_wire_times(&body, "");
        (status, body)
    }

    pub async fn get(&self, key: &str, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, key, path, None).await
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, key, path, Some(body)).await
    }

    pub async fn patch(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, key, path, Some(body)).await
    }

    pub async fn put_policy(&self, key: &str, tenant: &str, yaml: &str) -> (StatusCode, Value) {
        let res = self
            .client
            .put(format!("{}/v1/tenants/{tenant}/policy", self.base))
            .bearer_auth(key)
            .header("content-type", "application/yaml")
            .body(yaml.to_string())
            .send()
            .await
            .expect("request");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// A tenant with the test policy; returns an operator key for it.
    pub async fn tenant(&self, id: &str) -> String {
        let (s, b) = self
            .post(
                &self.admin,
                "/v1/tenants",
                json!({"id": id, "name": format!("Tenant {id}"), "role": "controller"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, b) = self.put_policy(&self.admin, id, POLICY).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        self.key(id, "operator", None).await
    }

    /// A tenant with a given policy and role; returns an operator key for it.
    pub async fn tenant_with(&self, id: &str, role: &str, policy: &str) -> String {
        let mut body = json!({"id": id, "name": format!("Tenant {id}"), "role": role});
        if role == "processor" {
            body["controller"] = json!({"name": "Client Co.", "contact": "privacy@client.example"});
        }
        let (s, b) = self.post(&self.admin, "/v1/tenants", body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, b) = self.put_policy(&self.admin, id, policy).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        self.key(id, "operator", None).await
    }

    pub async fn key(&self, tenant: &str, role: &str, purposes: Option<&[&str]>) -> String {
        let mut body = json!({"role": role});
        if let Some(p) = purposes {
            body["purposes"] = json!(p);
        }
        let (s, b) = self
            .post(&self.admin, &format!("/v1/tenants/{tenant}/keys"), body)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["key"].as_str().expect("key").to_string()
    }

    /// An adult panelist with research consent; returns the subject id.
    pub async fn panelist(&self, key: &str, tenant: &str, email: &str, name: &str) -> String {
        let (s, b) = self
            .post(
                key,
                &format!("/v1/tenants/{tenant}/subjects"),
                json!({
                    "identifiers": {"email": email},
                    "birth_date": "1990-01-31",
                    "fields": [
                        {"category": "user.name", "value": name, "purposes": ["research", "incentive_payment"], "source": "signup-form"},
                        {"category": "user.contact.email", "value": email, "purposes": ["research"], "source": "signup-form"}
                    ],
                    "consents": [{"purpose": "research", "kind": "express", "evidence": {"channel": "web", "shown": "Consent v1"}}]
                }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["id"].as_str().expect("id").to_string()
    }
}

/// Every time in a JSON response is RFC 3339 UTC with exactly three fractional
/// digits (docs/api.md), so clients can compare them as strings. Checked on
/// every response the harness sees.
pub fn assert_wire_times(v: &Value, at: &str) {
    match v {
        Value::String(s) if looks_like_time(s) => assert!(
            is_wire_time(s),
            "{at}: {s:?} is not RFC 3339 UTC with three fractional digits"
        ),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(k, x)| assert_wire_times(x, &format!("{at}/{k}"))),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| assert_wire_times(x, &format!("{at}/{k}"))),
        _ => {}
    }
}

/// `YYYY-MM-DDTHH:MM:SS…` at the start of a string.
fn looks_like_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[..19].iter().enumerate().all(|(k, c)| match k {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

fn is_wire_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24 && b[19] == b'.' && b[20..23].iter().all(u8::is_ascii_digit) && b[23] == b'Z'
}

/// The reason codes of a refusal problem document.
pub fn reasons(problem: &Value) -> Vec<String> {
    problem["reasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
