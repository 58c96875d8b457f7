//! API-key revocation, over HTTP and at the command line: a revoked key is refused
//! from its next call, a tenant cannot revoke another tenant's keys, and every
//! revocation is in the audit chain.

use crate::cli::{cli_store, person, text, vow};
use crate::harness::Server;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::Path;

/// How many audit entries of this action the SQLite store at `dir` holds.
fn audit_count(dir: &Path, action: &'static str) -> i64 {
    let db = format!("sqlite://{}/vow.db", dir.display());
    tokio::task::block_in_place(|| {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                sqlx::any::install_default_drivers();
                let pool = sqlx::AnyPool::connect(&db).await.unwrap();
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit WHERE action = $1")
                    .bind(action)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                n
            })
    })
}

/// The id part of a key `vow_<id>_<secret>`.
pub(crate) fn key_id(key: &str) -> String {
    key.strip_prefix("vow_")
        .and_then(|rest| rest.split('_').next())
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_key_is_refused_from_its_next_call_and_only_its_tenant_may_revoke_it() {
    let s = Server::start().await;
    let acme = s.tenant("acme").await;
    let other = s.tenant("other").await;
    let acme_admin = s.key("acme", "admin", None).await;
    let other_admin = s.key("other", "admin", None).await;
    // In use.
    let (st, _) = s.get(&acme, "/v1/tenants/acme/policy").await;
    assert_eq!(st, StatusCode::OK);
    let id = key_id(&acme);
    let path = format!("/v1/tenants/acme/keys/{id}");
    // Another tenant's admin cannot revoke it, through its own tenant or through acme's.
    let (st, b) = s.call(Method::DELETE, &other_admin, &path, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
    let (st, b) = s
        .call(
            Method::DELETE,
            &other_admin,
            &format!("/v1/tenants/other/keys/{id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
    // An operator key may not manage keys.
    let (st, _) = s
        .call(
            Method::DELETE,
            &other,
            &format!("/v1/tenants/other/keys/{}", key_id(&other_admin)),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s.get(&acme, "/v1/tenants/acme/policy").await;
    assert_eq!(st, StatusCode::OK, "still in force");
    // An unknown key is 404 too.
    let (st, _) = s
        .call(
            Method::DELETE,
            &acme_admin,
            "/v1/tenants/acme/keys/00000000000000000000000000000000",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Its own tenant's admin revokes it: refused from the very next call.
    let (st, b) = s.call(Method::DELETE, &acme_admin, &path, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    let (st, b) = s.get(&acme, "/v1/tenants/acme/policy").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{b}");
    // Again: nothing more to do, still 204; one entry in the audit chain.
    let (st, _) = s.call(Method::DELETE, &acme_admin, &path, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(audit_count(s.data_dir(), "key.revoke"), 1);
    let listed = s
        .engine
        .api_keys(
            &vow_engine::Actor::local("test"),
            Some(&"acme".parse().unwrap()),
        )
        .await
        .unwrap();
    let k = listed.iter().find(|k| k.id == id).unwrap();
    assert!(k.revoked_at.is_some());
    // The other tenant's keys are untouched.
    let (st, _) = s.get(&other, "/v1/tenants/other/policy").await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s.get(&acme_admin, "/v1/tenants/acme/policy").await;
    assert_eq!(st, StatusCode::OK);
    // The route is in the OpenAPI document.
    let (_, doc) = s.get(&acme_admin, "/openapi.json").await;
    assert!(
        doc["paths"]["/v1/tenants/{t}/keys/{id}"]["delete"].is_object(),
        "{}",
        doc["paths"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_revoked_at_the_command_line_is_refused_by_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    cli_store(dir.path(), &format!("{}\n", person("a@example.org", "Ann")));
    let created = |role: &str| {
        let o = vow(&[
            "key", "create", "--data", d, "--tenant", "acme", "--role", role, "--output", "json",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let op = created("operator");
    let key = op["key"].as_str().unwrap().to_string();
    let id = op["id"].as_str().unwrap().to_string();
    let (mut child, _, port) = crate::cli::spawn_serve(dir.path(), &[]);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let get = || {
        client
            .get(format!("http://127.0.0.1:{port}/v1/tenants/acme/policy"))
            .bearer_auth(&key)
            .send()
    };
    assert_eq!(get().await.unwrap().status(), StatusCode::OK);
    // A key of another tenant, or no tenant at all, is not this one.
    let o = vow(&["key", "revoke", "--data", d, "--tenant", "nobody", &id]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = vow(&[
        "key",
        "revoke",
        "--data",
        d,
        "--tenant",
        "acme",
        "no-such-key",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = vow(&[
        "key", "revoke", "--data", d, "--tenant", "acme", &id, "--output", "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["id"], id.as_str());
    assert!(r["revoked_at"].is_string(), "{r}");
    // The running server refuses it from its very next request: keys are not cached.
    assert_eq!(get().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    crate::cli::stop(&mut child);
    let o = vow(&[
        "key", "list", "--data", d, "--tenant", "acme", "--output", "json",
    ]);
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap();
    assert!(listed["revoked_at"].is_string(), "{listed}");
    assert_eq!(audit_count(dir.path(), "key.revoke"), 1);
    // `keys rotate` still works, as the old spelling of `key rotate`.
    let o = vow(&["keys", "rotate", "--data", d, "--output", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = vow(&[
        "key", "rotate", "--data", d, "--tenant", "acme", "--output", "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r[0]["to_version"], 3, "{r}");
}
