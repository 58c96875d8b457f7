//! What an operator's load balancer and a browser see of every response: readiness
//! that checks the store, liveness that does not, and no response that may be framed.

use crate::harness::Server;
use reqwest::StatusCode;

#[tokio::test]
async fn healthz_checks_the_store_and_livez_stays_static() {
    let s = Server::start().await;
    let (st, b) = s.get("", "/healthz").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["store"], "ok");
    let (st, _) = s.get("", "/livez").await;
    assert_eq!(st, StatusCode::OK);
    // The store goes away (here: its pool is closed); the process is still alive.
    s.engine.shutdown().await;
    let (st, p) = s.get("", "/healthz").await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{p}");
    assert_eq!(p["status"], 503);
    assert!(
        p["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:vow:problem:store"),
        "{p}"
    );
    let (st, b) = s.get("", "/livez").await;
    assert_eq!((st, b["status"].as_str()), (StatusCode::OK, Some("ok")));
}

#[tokio::test]
async fn no_response_may_be_framed() {
    let s = Server::start().await;
    let op = s.tenant("acme").await;
    for (path, key) in [
        ("/healthz", ""),
        ("/v1/tenants/acme/requests", op.as_str()),
        ("/v1/tenants/nobody/requests", op.as_str()),
        ("/no/such/path", ""),
    ] {
        let res = s
            .client
            .get(format!("{}{path}", s.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        // HSTS only over TLS (cli.rs checks it there).
        assert!(h.get("strict-transport-security").is_none(), "{path}");
    }
    // An HTML document keeps its inline stylesheet and still cannot be framed.
    let res = s
        .client
        .get(format!("{}/v1/tenants/acme/reports/data-map", s.base))
        .bearer_auth(&op)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert_eq!(
        csp,
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    );
}
