//! The notice page is cached (per tenant, version asked for and day, for the engine's
//! cache window), and a version published through this server shows at once: the
//! cache forgets the tenant's notices on publish.

use crate::harness::{POLICY, Server, TODAY};
use reqwest::StatusCode;

async fn body(s: &Server, path: &str) -> String {
    let res = s
        .client
        .get(format!("{}{path}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

#[tokio::test]
async fn a_published_version_shows_at_once_despite_the_cache() {
    let s = Server::start_at(TODAY).await;
    let op = s.tenant("acme").await;
    s.tenant("other").await;
    // Both tenants' notices read (and cached), twice.
    for _ in 0..2 {
        let v1 = body(&s, "/privacy/acme").await;
        assert!(v1.contains("Version 1, in force since"), "{v1}");
        assert!(!v1.contains("Monthly newsletters"));
        assert!(
            body(&s, "/privacy/other")
                .await
                .contains("Version 1, in force since")
        );
    }
    let v2 = POLICY
        .replace("effective_date: 2026-01-01", "effective_date: 2026-06-01")
        .replace(
            "description: Newsletters",
            "description: Monthly newsletters",
        );
    let (st, b) = s.put_policy(&op, "acme", &v2).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");

    // At once, well within the cache window: the new version, and the earlier one
    // listed as such; the other tenant's notice is unchanged.
    let now = body(&s, "/privacy/acme").await;
    assert!(
        now.contains("Version 2, in force since Monday 1 June 2026."),
        "{now}"
    );
    assert!(now.contains("Monthly newsletters"));
    assert!(now.contains("href=\"?version=1&amp;lang=en\""), "{now}");
    let fr = body(&s, "/privacy/acme?lang=fr").await;
    assert!(fr.contains("Monthly newsletters") && fr.contains("<html lang=\"fr\">"));
    let old = body(&s, "/privacy/acme?version=1").await;
    assert!(old.contains("an earlier version"), "{old}");
    assert!(!old.contains("Monthly newsletters"));
    assert!(
        body(&s, "/privacy/other")
            .await
            .contains("Version 1, in force since")
    );
    // A version not in force is still not found.
    let res = s
        .client
        .get(format!("{}/privacy/acme?version=3", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
