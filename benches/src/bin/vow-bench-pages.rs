//! The web pages (issue 10): each page's weight (HTML + the stylesheet), the
//! server-side time to answer it (the router called in process, no socket: routing,
//! the store read, rendering, headers), the template alone, and one-click unsubscribe
//! POSTs per second over HTTP on 127.0.0.1 (each a ledger write, its outbox event and
//! audit entry, committed durably), with `--clients` concurrent mail clients.
//!
//! Run: `cargo run --release -p vow-bench --bin vow-bench-pages -- --people 2000 --clients 8 [--pg]`
//! Results go in BENCHMARKS.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmarks are measurement tools run by hand; a failed setup should stop them loudly"
)]

use anyhow::Result;
use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt as _;
use vow_bench::args::number as arg;
use vow_bench::fixtures;
use vow_bench::stats::summarize;
use vow_core::{Pii, SystemClock};
use vow_engine::input::{NewConsent, NewField, NewSubject};
use vow_engine::obligations::disclosures::NewDisclosure;
use vow_engine::vault::unsubscribe::LinkRequest;
use vow_engine::{Actor, Engine, KeySource};

/// The test policy with a mailing house receiving names for newsletters.
fn policy() -> String {
    fixtures::TEST_POLICY.replace(
        "recipients:\n",
        "recipients:\n  - id: mail-house\n    name: Mail House Ltd.\n    kind: vendor\n    categories: [user.name, user.contact.email]\n    purposes: [marketing.email]\n    country: CA\n",
    )
}

/// Answer `path` `n` times in process (with `cookie` if given); the latencies in µs
/// and the last body. A page that is not the one asked for (a redirect, an error)
/// stops the run, so no number measures the wrong page.
async fn time_page(
    app: &axum::Router,
    path: &str,
    cookie: Option<&str>,
    n: usize,
) -> (Vec<u64>, String) {
    let mut samples = Vec::with_capacity(n);
    let mut body = String::new();
    for _ in 0..n {
        let mut req = Request::get(path);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let req = req.body(Body::empty()).unwrap();
        let started = Instant::now();
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        assert!(
            status.is_success() || path.contains("nobody"),
            "{path}: {status}"
        );
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        samples.push(started.elapsed().as_micros() as u64);
        body = String::from_utf8(bytes.to_vec()).unwrap();
    }
    (samples, body)
}

#[tokio::main]
async fn main() -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let people = arg("--people", 2000) as usize;
    let clients = arg("--clients", 8) as usize;
    let pg = std::env::args().any(|a| a == "--pg");
    let dir = tempfile::tempdir()?;
    let pg_db = if pg {
        Some(vow_store::testing::PgTestDb::create().await?)
    } else {
        None
    };
    let url = match &pg_db {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}/vow.db", dir.path().display()),
    };
    let (engine, _) = Engine::open(
        &url,
        KeySource::File(dir.path().join("root.key")),
        Arc::new(SystemClock),
    )
    .await?;
    let admin = Actor::local("bench");
    let tenant: vow_core::TenantId = "acme".parse()?;
    engine
        .create_tenant(
            &admin,
            tenant.as_str(),
            "Acme Newsletters",
            "controller",
            None,
        )
        .await?;
    engine
        .publish_policy(&admin, &tenant, &policy(), "policy.yaml")
        .await?;
    let mut ids = Vec::with_capacity(people);
    for i in 0..people {
        let email = fixtures::email(11, i as u64);
        let s = NewSubject {
            identifiers: vow_engine::input::Identifiers {
                email: Some(Pii::new(email.clone())),
                phone: None,
                external_id: None,
            },
            birth_date: None,
            fields: vec![NewField {
                category: "user.name".into(),
                value: Pii::new(json!("Nell Reader")),
                purposes: vec!["marketing.email".into()],
                source: None,
                store: None,
                collected_at: None,
                corrects: None,
            }],
            consents: vec![NewConsent {
                purpose: "marketing.email".into(),
                action: None,
                kind: None,
                evidence: Some(Pii::new(json!({"channel": "web"}))),
                at: None,
                expires_at: None,
                parent: None,
            }],
            residence: None,
        };
        ids.push(engine.create_subject(&admin, &tenant, &s).await?);
    }
    engine
        .disclose(
            &admin,
            &tenant,
            &NewDisclosure {
                recipient: "mail-house".into(),
                purpose: "marketing.email".into(),
                categories: vec!["user.name".into()],
                subjects: ids.clone(),
                delivery: None,
            },
        )
        .await?;
    let started = Instant::now();
    let links = engine
        .unsubscribe_links(
            &admin,
            &tenant,
            &LinkRequest {
                purpose: "marketing.email".into(),
                subjects: None,
            },
        )
        .await?;
    let links_ms = started.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(links.links.len() == people, "every person has a link");

    // Page weight and server-side time, in process.
    let app = vow_server::router(engine.clone());
    let style = vow_render::STYLE.len();
    let token = links.links[0].url.rsplit_once("/u/").unwrap().1.to_string();
    // The portal's status page of a request, and an operator's console session.
    let request: vow_engine::requests::NewRequest = serde_json::from_value(json!({
        "type": "access", "channel": "web",
        "identifiers": {"email": fixtures::email(11, 0)}
    }))?;
    let request = engine.submit_request(&admin, &tenant, &request).await?;
    let status = engine.status_url(&tenant, &request.id)?;
    let status = format!("/privacy/{}", status.split_once("/privacy/").unwrap().1);
    let key = engine
        .create_key(
            &admin,
            &vow_engine::vault::keys::NewKey {
                tenant: Some(tenant.clone()),
                role: vow_core::role::Role::Operator,
                purposes: None,
                label: Some("bench console".into()),
                expires_at: None,
                expires_in: None,
            },
        )
        .await?;
    let console = match engine.console_sign_in(&key.key, "bench").await {
        Ok(signed) => format!("__Host-vow-console={}", signed.token),
        Err(_) => anyhow::bail!("console sign-in refused"),
    };
    // A preference session, from the sending system's preference link.
    let prefs_link = &links.links[1].preferences;
    let prefs_link = format!("/privacy/{}", prefs_link.split_once("/privacy/").unwrap().1);
    let res = app
        .clone()
        .oneshot(Request::get(&prefs_link).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let prefs = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-vow-prefs="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("a preference session");
    let mut pages = Vec::new();
    for (name, path, cookie) in [
        ("notice", "/privacy/acme".to_string(), None),
        ("unsubscribe confirm", format!("/u/{token}"), None),
        ("404", "/privacy/nobody".to_string(), None),
        ("portal index", "/privacy/acme/request".to_string(), None),
        (
            "portal form",
            "/privacy/acme/request/access".to_string(),
            None,
        ),
        ("portal status", status.clone(), None),
        (
            "preference centre",
            "/privacy/acme/preferences".to_string(),
            Some(prefs.as_str()),
        ),
        (
            "appeal form",
            "/privacy/acme/request/appeal/x".to_string(),
            None,
        ),
        (
            "console queue",
            "/console/t/acme/requests".to_string(),
            Some(console.as_str()),
        ),
        (
            "console request",
            format!("/console/t/acme/requests/{}", request.id),
            Some(console.as_str()),
        ),
    ] {
        let _ = time_page(&app, &path, cookie, 50).await;
        let (samples, body) = time_page(&app, &path, cookie, 1000).await;
        let s = summarize(samples);
        println!(
            "{name:22} html {:6} B + css {style} B = {:6} B; server p50 {} µs p99 {} µs",
            body.len(),
            body.len() + style,
            s.p50,
            s.p99
        );
        pages.push(
            json!({"page": name, "html_bytes": body.len(), "css_bytes": style,
            "p50_us": s.p50, "p99_us": s.p99}),
        );
    }
    // The notice's template alone (the model built once).
    let n = engine.public_notice(&tenant, None).await?;
    let mut samples = Vec::new();
    for _ in 0..2000 {
        let started = Instant::now();
        let mut chrome = vow_render::web::Chrome::new(
            vow_render::Lang::En,
            Some(&n.tenant_name),
            "/s.css",
            |l| format!("?lang={}", l.code()),
        );
        let versions: Vec<vow_render::web::NoticeVersion> = Vec::new();
        let href = |_: Option<i64>| String::new();
        let html = vow_render::web::notice_page(
            &mut chrome,
            &vow_render::web::NoticePage {
                version: n.version,
                effective_date: &n.effective_date,
                in_force: true,
                notice_lang: vow_render::Lang::En,
                blocks: &n.notice.blocks,
                versions: &versions,
                href_for: &href,
            },
        );
        std::hint::black_box(html);
        samples.push(started.elapsed().as_micros() as u64);
    }
    let render = summarize(samples);
    println!(
        "notice template alone: p50 {} µs p99 {} µs",
        render.p50, render.p99
    );

    // One-click POSTs over HTTP, `clients` at a time, each person once.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let serve_app = vow_server::router(engine.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, serve_app).await;
    });
    let base = format!("http://{addr}");
    let urls: Vec<String> = links
        .links
        .iter()
        .map(|l| format!("{base}/u/{}", l.url.rsplit_once("/u/").unwrap().1))
        .collect();
    let urls = Arc::new(urls);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (urls, next, client) = (urls.clone(), next.clone(), client.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(u) = urls.get(i) else { break };
                let t = Instant::now();
                let res = client
                    .post(u)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("List-Unsubscribe=One-Click")
                    .send()
                    .await
                    .unwrap();
                assert!(res.status().is_success());
                let _ = res.bytes().await.unwrap();
                lat.push(t.elapsed().as_micros() as u64);
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await?);
    }
    let secs = started.elapsed().as_secs_f64();
    let s = summarize(lat);
    let rate = people as f64 / secs;
    println!(
        "one-click: {people} POSTs by {clients} clients in {secs:.2} s = {rate:.0}/s; p50 {} µs p99 {} µs; links for {people} made in {links_ms:.0} ms",
        s.p50, s.p99
    );
    println!(
        "{}",
        json!({"bench": "pages", "backend": if pg { "postgres" } else { "sqlite" }, "people": people,
            "clients": clients, "pages": pages, "notice_template_p50_us": render.p50,
            "notice_template_p99_us": render.p99, "one_click_per_s": rate.round(),
            "one_click_p50_us": s.p50, "one_click_p99_us": s.p99, "links_ms": links_ms.round()})
    );
    engine.shutdown().await;
    if let Some(db) = pg_db {
        db.drop_db().await?;
    }
    Ok(())
}
