//! Slow and idle connections cannot stop `vow serve` (issue 9): the header and idle
//! timeouts, the cap on connections with its health reserve, the cap per client
//! address, the same over TLS, and a TLS key that others can read refused. Each
//! test runs the real binary with limits small enough to reach.

use crate::cli::{cli_store, person, spawn_serve, spawn_serve_limited, stop};
use reqwest::StatusCode;
use rustls::pki_types::pem::PemObject as _;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A self-signed certificate for `localhost` and its key (mode 0600), in `dir`.
/// Returns the certificate's PEM and the two paths.
pub(crate) fn self_signed(dir: &Path) -> (String, PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    (ck.cert.pem(), cert, key)
}

/// A client that trusts `cert_pem` for `localhost` on 127.0.0.1:`port`.
pub(crate) fn tls_client(cert_pem: &str, port: u16) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap()])
        .resolve("localhost", ([127, 0, 0, 1], port).into())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// `vow serve` over a store with one person, and an operator key.
struct Running {
    child: std::process::Child,
    port: u16,
    admin: String,
    op: String,
    subject: String,
    /// The `Authorization` line `/metrics` needs, if any.
    metrics_auth: String,
    _dir: tempfile::TempDir,
}

impl Running {
    async fn start(env: &[(&str, &str)]) -> Running {
        Running::start_limited(env, None).await
    }

    /// [`Running::start`] with the server's open files limited.
    async fn start_limited(env: &[(&str, &str)], open_files: Option<u32>) -> Running {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        cli_store(
            dir.path(),
            &format!("{}\n", person("wren.lockhart@example.org", "Wren Lockhart")),
        );
        let (child, admin, port) = spawn_serve_limited(dir.path(), env, open_files);
        assert!(!admin.is_empty(), "the server printed its bootstrap key");
        let base = format!("http://127.0.0.1:{port}");
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
        let op = key["key"].as_str().unwrap().to_string();
        let found: Value = client
            .get(format!(
                "{base}/v1/tenants/acme/subjects?email=wren.lockhart@example.org"
            ))
            .bearer_auth(&op)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let subject = found["id"].as_str().unwrap().to_string();
        drop(client);
        let metrics_auth = env
            .iter()
            .find(|(k, _)| *k == "VOW_METRICS_KEY_FILE")
            .map(|(_, f)| {
                let key = std::fs::read_to_string(f).unwrap();
                format!("Authorization: Bearer {}\r\n", key.trim())
            })
            .unwrap_or_default();
        let s = Running {
            child,
            port,
            admin,
            op,
            subject,
            metrics_auth,
            _dir: dir,
        };
        s.settle().await;
        s
    }

    /// Waits until the connections of the set-up are closed on the server's side too,
    /// so that a test counts from zero.
    async fn settle(&self) {
        let t = Instant::now();
        while self.metric("vow_connections_open").await > 1.0 {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "connections stay open"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// One purpose-bound read; its status and how long it took.
    async fn read(&self, client: &reqwest::Client) -> (StatusCode, Duration) {
        let t = Instant::now();
        let res = client
            .post(self.url(&format!("/v1/tenants/acme/subjects/{}/read", self.subject)))
            .bearer_auth(&self.op)
            .json(&json!({"purpose": "research", "categories": ["user.name"]}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("a read failed after {:?}: {e}", t.elapsed()));
        (res.status(), t.elapsed())
    }

    /// The value of an unlabelled metric, asked on a connection of its own (which
    /// counts as open while it asks).
    async fn metric(&self, name: &str) -> f64 {
        let mut c = connect(self.port).await;
        let auth = format!("{}Connection: close\r\n", self.metrics_auth);
        let (status, text) = exchange(&mut c, "/metrics", &auth).await.unwrap();
        assert_eq!(status, 200, "{text}");
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} is not in /metrics"))
    }
}

async fn connect(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port)).await.unwrap()
}

/// A connection from another loopback address (127.0.0.0/8 all reaches this host).
async fn connect_from(source: [u8; 4], port: u16) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind((source, 0).into()).unwrap();
    socket.connect(([127, 0, 0, 1], port).into()).await.unwrap()
}

/// Reads one response (head and `Content-Length` body): its status and text. None
/// when the server closes the connection (or resets it) instead.
async fn response(s: &mut TcpStream) -> Option<(u16, String)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                let status = text.get(9..12)?.parse().ok()?;
                return Some((status, text));
            }
        }
        match tokio::time::timeout(Duration::from_secs(20), s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return None,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("no response within 20 s"),
        }
    }
}

/// One request and its response on a raw connection.
async fn exchange(s: &mut TcpStream, path: &str, extra: &str) -> Option<(u16, String)> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    response(s).await
}

/// Whether the server closes `s` within `within` (anything it sends is read and
/// dropped).
async fn closes_within(s: &mut TcpStream, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

/// A connection that starts a request and stalls in its head.
async fn slow(port: u16) -> TcpStream {
    let mut s = connect(port).await;
    s.write_all(b"GET /v1/tenants HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    s
}

/// A connection that made one request and now sits idle, kept alive.
async fn idle(port: u16) -> TcpStream {
    let mut s = connect(port).await;
    let (status, _) = exchange(&mut s, "/livez", "").await.unwrap();
    assert_eq!(status, 200);
    s
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test]
async fn reads_keep_working_while_hundreds_of_slow_and_idle_connections_are_open() {
    // Timeouts long enough that every slow connection is still open while the reads
    // run; all the connections come from 127.0.0.1, so the cap per address is raised.
    let s = Running::start(&[
        ("VOW_CONNECTIONS_HEADER_TIMEOUT", "60s"),
        ("VOW_CONNECTIONS_IDLE_TIMEOUT", "120s"),
        ("VOW_CONNECTIONS_PER_ADDRESS", "2000"),
    ])
    .await;
    // A fresh connection for every read, so each one goes through the accept loop.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut before = Vec::new();
    for _ in 0..50 {
        let (st, took) = s.read(&client).await;
        assert_eq!(st, StatusCode::OK);
        before.push(took);
    }
    let mut held = Vec::new();
    for _ in 0..250 {
        held.push(slow(s.port).await);
    }
    for _ in 0..250 {
        held.push(idle(s.port).await);
    }
    assert!(s.metric("vow_connections_open").await >= 500.0);
    let mut during = Vec::new();
    for _ in 0..200 {
        let (st, took) = s.read(&client).await;
        assert_eq!(st, StatusCode::OK);
        during.push(took);
    }
    // Every read completed (none timed out); the slow and idle ones are still held.
    assert!(s.metric("vow_connections_open").await >= 500.0);
    before.sort();
    during.sort();
    let worst = *during.last().unwrap();
    println!(
        "read latency without: p50 {:?} p99 {:?}; with 500 slow and idle connections: p50 {:?} p99 {:?} max {worst:?}",
        percentile(&before, 0.5),
        percentile(&before, 0.99),
        percentile(&during, 0.5),
        percentile(&during, 0.99),
    );
    assert!(worst < Duration::from_secs(5), "a read took {worst:?}");
    // Shutdown does not wait for connections with no request in progress.
    let t = Instant::now();
    let mut child = s.child;
    assert!(stop(&mut child).success());
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    drop(held);
}

/// What stopped the server before: connections nobody closes use up its file
/// descriptors, and then it accepts none. Now a few addresses get their share, the
/// rest is closed at once, and the server keeps descriptors for everyone else.
#[tokio::test]
async fn a_few_addresses_cannot_use_up_the_servers_file_descriptors() {
    let s = Running::start_limited(
        &[
            ("VOW_CONNECTIONS_MAX", "150"),
            ("VOW_CONNECTIONS_PER_ADDRESS", "25"),
            ("VOW_CONNECTIONS_HEADER_TIMEOUT", "60s"),
        ],
        Some(300),
    )
    .await;
    // 500 slow connections from five addresses: 125 are held, the rest closed.
    let mut held = Vec::new();
    for i in 0..500u16 {
        let source = [127, 0, 0, 2 + (i % 5) as u8];
        let mut c = connect_from(source, s.port).await;
        let _ = c.write_all(b"GET /livez HTTP/1.1\r\nX-Slow: ").await;
        held.push(c);
    }
    let open = s.metric("vow_connections_open").await;
    assert!((125.0..=126.0).contains(&open), "{open} open");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for _ in 0..50 {
        let (st, _) = s.read(&client).await;
        assert_eq!(st, StatusCode::OK);
    }
    let mut child = s.child;
    assert!(stop(&mut child).success());
    drop(held);
}

#[tokio::test]
async fn slow_heads_are_cut_at_the_header_timeout_and_idle_connections_at_the_idle_timeout() {
    let mut s = Running::start(&[
        ("VOW_CONNECTIONS_HEADER_TIMEOUT", "1s"),
        ("VOW_CONNECTIONS_IDLE_TIMEOUT", "20s"),
        ("VOW_CONNECTIONS_PER_ADDRESS", "500"),
    ])
    .await;
    let opened = Instant::now();
    let mut slow_heads = Vec::new();
    let mut silent = Vec::new();
    let mut idles = Vec::new();
    for _ in 0..50 {
        slow_heads.push(slow(s.port).await);
        silent.push(connect(s.port).await);
        idles.push(idle(s.port).await);
    }
    // A head that is complete but for its last line, sent a byte a second, is cut
    // too: the time counts from the head's first byte, not from the last.
    let mut dribble = connect(s.port).await;
    for b in b"GET /livez HTTP/1.1\r\nHost: x\r\n" {
        if dribble.write_all(&[*b]).await.is_err() || opened.elapsed() > Duration::from_secs(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for c in slow_heads.iter_mut().chain(silent.iter_mut()) {
        assert!(closes_within(c, Duration::from_secs(15)).await);
    }
    assert!(closes_within(&mut dribble, Duration::from_secs(15)).await);
    // The idle ones outlived the header timeout (they sit between requests)...
    assert!(opened.elapsed() < Duration::from_secs(15));
    for c in &mut idles {
        assert!(!closes_within(c, Duration::from_millis(10)).await);
    }
    // ...and a request on one still works, which starts its idle time again.
    let (status, _) = exchange(&mut idles[0], "/livez", "").await.unwrap();
    assert_eq!(status, 200);
    // Then every idle connection is closed.
    for c in &mut idles {
        assert!(closes_within(c, Duration::from_secs(60)).await);
    }
    assert!(opened.elapsed() >= Duration::from_secs(19));
    // The server still serves.
    let (st, _) = s.read(&reqwest::Client::new()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(stop(&mut s.child).success());
}

#[tokio::test]
async fn one_client_address_gets_at_most_its_share() {
    let mut s = Running::start(&[("VOW_CONNECTIONS_PER_ADDRESS", "5")]).await;
    let mut mine = Vec::new();
    for _ in 0..5 {
        mine.push(idle(s.port).await);
    }
    // The sixth from 127.0.0.1 is closed at once.
    let mut sixth = connect(s.port).await;
    assert_eq!(exchange(&mut sixth, "/livez", "").await, None);
    // Another address is not affected.
    let mut other = connect_from([127, 0, 0, 2], s.port).await;
    let (status, _) = exchange(&mut other, "/healthz", "").await.unwrap();
    assert_eq!(status, 200);
    // One of the five closes; its place is free again.
    drop(mine.pop());
    let t = Instant::now();
    loop {
        let mut again = connect(s.port).await;
        if let Some((status, _)) = exchange(&mut again, "/livez", "").await {
            assert_eq!(status, 200);
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the place was not freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stop(&mut s.child).success());
}

#[tokio::test]
async fn at_the_connection_cap_the_health_reserve_still_answers() {
    let mut s = Running::start(&[
        ("VOW_CONNECTIONS_MAX", "20"),
        ("VOW_CONNECTIONS_HEALTH_RESERVE", "2"),
    ])
    .await;
    // The 20 served in full, from several addresses (the cap per address is 64).
    let mut full = Vec::new();
    for i in 0..20u8 {
        let mut c = connect_from([127, 0, 1, i % 4 + 1], s.port).await;
        assert_eq!(exchange(&mut c, "/livez", "").await.unwrap().0, 200);
        full.push(c);
    }
    // The next connection comes from the reserve: the API is busy, with a problem
    // document and Retry-After, and the connection is closed to free its place.
    let auth = format!("Authorization: Bearer {}\r\n", s.op);
    let mut busy = connect(s.port).await;
    let (status, text) = exchange(
        &mut busy,
        &format!("/v1/tenants/acme/subjects/{}/consents", s.subject),
        &auth,
    )
    .await
    .unwrap();
    assert_eq!(status, 503, "{text}");
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("retry-after: 5"), "{text}");
    assert!(
        lower.contains("content-type: application/problem+json"),
        "{text}"
    );
    assert!(text.contains("\"code\":\"server_busy\""), "{text}");
    assert!(closes_within(&mut busy, Duration::from_secs(5)).await);
    // Health checks are answered on reserve connections, kept alive.
    let mut health = Vec::new();
    let t = Instant::now();
    while health.len() < 2 {
        let mut c = connect(s.port).await;
        match exchange(&mut c, "/healthz", "").await {
            Some((status, text)) => {
                assert_eq!(status, 200, "{text}");
                assert_eq!(exchange(&mut c, "/livez", "").await.unwrap().0, 200);
                assert_eq!(exchange(&mut c, "/metrics", "").await.unwrap().0, 200);
                health.push(c);
            }
            // The busy connection's place may not be free yet.
            None => assert!(t.elapsed() < Duration::from_secs(10)),
        }
    }
    // Beyond the cap and the reserve, a connection is closed at once.
    let mut beyond = connect(s.port).await;
    assert_eq!(exchange(&mut beyond, "/healthz", "").await, None);
    // A place served in full frees up: the API answers again.
    drop(full.pop());
    let t = Instant::now();
    loop {
        let mut c = connect(s.port).await;
        let path = format!("/v1/tenants/acme/subjects/{}/consents", s.subject);
        if let Some((status, text)) = exchange(&mut c, &path, &auth).await {
            if status == 200 {
                break;
            }
            // Admitted while the place was still taken: from the reserve.
            assert_eq!(status, 503, "{text}");
        }
        assert!(t.elapsed() < Duration::from_secs(10), "no place freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stop(&mut s.child).success());
}

#[tokio::test]
async fn over_tls_handshakes_and_heads_time_out_and_the_reserve_answers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (pem, cert, key) = self_signed(d);
    let (mut child, admin, port) = spawn_serve(
        d,
        &[
            ("VOW_TLS_CERT", cert.to_str().unwrap()),
            ("VOW_TLS_KEY", key.to_str().unwrap()),
            ("VOW_CONNECTIONS_HEADER_TIMEOUT", "1s"),
            ("VOW_CONNECTIONS_MAX", "4"),
            ("VOW_CONNECTIONS_HEALTH_RESERVE", "1"),
        ],
    );
    assert!(!admin.is_empty());
    // A client that never starts its handshake, and one that stalls in it.
    let mut mute = connect(port).await;
    let mut half = connect(port).await;
    half.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .unwrap();
    // One that completes the handshake and stalls in its request's head.
    let connector = {
        let roots = {
            let mut r = rustls::RootCertStore::empty();
            let der = rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes());
            r.add(der.unwrap()).unwrap();
            r
        };
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
    };
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut slow_tls = connector
        .connect(name.clone(), connect(port).await)
        .await
        .unwrap();
    slow_tls
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    for c in [&mut mute, &mut half] {
        assert!(closes_within(c, Duration::from_secs(15)).await);
    }
    let mut buf = [0u8; 256];
    let ended = tokio::time::timeout(Duration::from_secs(15), slow_tls.read(&mut buf)).await;
    assert!(
        matches!(ended, Ok(Ok(0) | Err(_))),
        "the slow head was not cut: {ended:?}"
    );
    // Fill the four places with clients that keep their connections alive.
    let mut clients = Vec::new();
    for _ in 0..4 {
        let c = tls_client(&pem, port);
        let res = c
            .get(format!("https://localhost:{port}/livez"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        clients.push(c);
    }
    // The reserve answers health checks over TLS, and the API is busy.
    let reserve = tls_client(&pem, port);
    let res = reserve
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = reserve
        .get(format!("https://localhost:{port}/v1/tenants"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    // HSTS on every answer over TLS, the busy one too.
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["code"], "server_busy");
    assert!(stop(&mut child).success());
}

#[test]
fn a_tls_key_that_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_, cert, key) = self_signed(d);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (mut child, _, _) = spawn_serve(
        d,
        &[
            ("VOW_TLS_CERT", cert.to_str().unwrap()),
            ("VOW_TLS_KEY", key.to_str().unwrap()),
        ],
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "a configuration error");
    let log = std::fs::read_to_string(d.join("serve.log")).unwrap();
    let k = key.display().to_string();
    assert!(
        log.contains(&format!(
            "the TLS private key {k} is accessible by group or others"
        )) && log.contains(&format!("chmod 600 {k}")),
        "{log}"
    );
    // Readable by its owner only, the same key is taken.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (mut child, _, port) = spawn_serve(
        d,
        &[
            ("VOW_TLS_CERT", cert.to_str().unwrap()),
            ("VOW_TLS_KEY", key.to_str().unwrap()),
        ],
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let stopped = stop(&mut child);
    let log = std::fs::read_to_string(d.join("serve.log")).unwrap();
    assert!(stopped.success(), "{stopped:?}\n{log}");
}

#[tokio::test]
async fn metrics_have_help_lines_route_histograms_and_may_require_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("metrics.key");
    std::fs::write(&key_file, "m3trics-only-for-prometheus\n").unwrap();
    let s = Running::start(&[("VOW_METRICS_KEY_FILE", key_file.to_str().unwrap())]).await;
    let client = reqwest::Client::new();
    // Without the key, or with another (an API key is not the metrics key): 401.
    for auth in [None, Some("wrong"), Some(s.admin.as_str())] {
        let mut req = client.get(s.url("/metrics"));
        if let Some(a) = auth {
            req = req.bearer_auth(a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["code"], "unauthenticated", "{p}");
    }
    let (st, _) = s.read(&client).await;
    assert_eq!(st, StatusCode::OK);
    let res = client
        .get(s.url("/metrics"))
        .bearer_auth("m3trics-only-for-prometheus")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    // Every metric has its HELP line.
    let typed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    for name in [
        "vow_http_responses_total",
        "vow_http_request_duration_seconds",
        "vow_reads_total",
        "vow_audit_commits_total",
        "vow_connections_open",
    ] {
        assert!(typed.contains(&name), "{name} missing:\n{text}");
    }
    for name in &typed {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("# HELP {name} ")) && l.len() > 20),
            "{name} has no HELP line"
        );
    }
    // The read shows in its route's histogram, by template, method and status class;
    // the subject id (the path sent) appears nowhere.
    let bucket = "vow_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/tenants/{t}/subjects/{s}/read\",status_class=\"2xx\",le=\"+Inf\"} ";
    let count: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix(bucket))
        .unwrap_or_else(|| panic!("no histogram for the read:\n{text}"))
        .parse()
        .unwrap();
    assert!(count >= 1.0);
    assert!(
        text.contains("status_class=\"4xx\""),
        "the 401s are counted"
    );
    assert!(!text.contains(&s.subject));
    let mut child = s.child;
    assert!(stop(&mut child).success());
}

/// The listener hands each request its client's address: keyless failed attempts are
/// limited per address, so one noisy client cannot silence the record of another.
#[tokio::test]
async fn keyless_attempts_are_recorded_per_client_address() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let (mut child, admin, port) = spawn_serve(dir.path(), &[]);
    let from = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .build()
            .unwrap()
    };
    let url = format!("http://127.0.0.1:{port}/v1/tenants");
    let one = from([127, 0, 0, 1]);
    for _ in 0..15 {
        let res = one.get(&url).bearer_auth("not-a-key").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let two = from([127, 0, 0, 2]);
    let res = two.get(&url).bearer_auth("not-a-key").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let events: Value = one
        .get(format!("http://127.0.0.1:{port}/v1/security-events"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let failed = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "authentication_failed")
        .count();
    // Ten a minute from the first address (PER_SOURCE), and the second's own.
    assert_eq!(failed, 11, "{events}");
    stop(&mut child);
}
