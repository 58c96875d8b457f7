//! `/docs`: the interactive API reference. Its page and files come from this server
//! only, under their own Content-Security-Policy (scripts from the server, none
//! inline), and the files are cached at an address that carries their hash. The
//! browser scenario ci/browser/scenarios/api-docs.mjs checks that it lists every
//! operation.

use crate::harness::Server;
use reqwest::StatusCode;

const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The values of `attr="…"` in `html`.
fn attrs<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let key = format!(" {attr}=\"");
    html.match_indices(&key)
        .map(|(at, _)| {
            let rest = &html[at + key.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

#[tokio::test]
async fn docs_page_and_its_files_come_from_this_server_only() {
    let s = Server::start().await;
    let res = s
        .client
        .get(format!("{}/docs", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(h["content-security-policy"], DOCS_CSP);
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );

    // Every script is a file of the server's, none inline; every stylesheet too.
    let scripts = attrs(&html, "src");
    assert_eq!(html.matches("<script").count(), scripts.len(), "{html}");
    assert_eq!(
        html.matches("></script>").count(),
        scripts.len(),
        "no inline script: {html}"
    );
    assert!(scripts.iter().any(|s| s.ends_with("/swagger-ui-bundle.js")));
    let links = attrs(&html, "href");
    assert!(links.iter().any(|l| l.ends_with("/swagger-ui.css")));
    assert!(links.contains(&"/openapi.json"));
    for url in scripts.iter().chain(&links) {
        assert!(url.starts_with('/') && !url.starts_with("//"), "{url}");
        let res = s
            .client
            .get(format!("{}{url}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        if url.starts_with("/docs/") {
            assert_eq!(
                res.headers()["cache-control"],
                "public, max-age=31536000, immutable",
                "{url}"
            );
            let want = match url.rsplit('.').next().unwrap() {
                "js" => "javascript",
                "css" => "text/css",
                "png" => "image/png",
                other => panic!("unexpected file {url} ({other})"),
            };
            assert!(ct.contains(want), "{url}: {ct}");
        }
        let body = res.bytes().await.unwrap();
        assert!(!body.is_empty(), "{url}");
        if url.ends_with("/swagger-initializer.js") {
            let js = String::from_utf8(body.to_vec()).unwrap();
            assert!(js.contains("\"/openapi.json\""), "{js}");
            assert!(js.contains("\"validatorUrl\": \"none\""), "{js}");
            assert!(!js.contains("http"), "{js}");
        }
    }

    // Only the current hash and the page's own files.
    let css = links
        .iter()
        .find(|l| l.ends_with("/swagger-ui.css"))
        .unwrap();
    let base = css.trim_end_matches("/swagger-ui.css");
    for path in [
        "/docs/000000000000/swagger-ui.css".to_string(),
        format!("{base}/index.html"),
        format!("{base}/oauth2-redirect.html"),
        format!("{base}/..%2Fopenapi.json"),
    ] {
        let res = s
            .client
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}
