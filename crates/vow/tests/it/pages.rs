//! The web pages (issue 10): the notice, one-click unsubscribe (R13, S8) by the mail
//! client's POST and by the confirmation page, the stylesheet, `/.well-known/gpc.json`,
//! languages, and the headers every page carries. No browser: reqwest does what a
//! mail client or a browser would.

use crate::cli::{cli_store, person, text, vow};
use crate::harness::{POLICY, Server, TODAY};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

const STRICT_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const BLUEBIRD: &str =
    include_str!("../../../../examples/marketing-platform/clients/bluebird-bakery/policy.yaml");

/// The test policy with a mailing house that receives names for newsletters.
fn mailing_policy() -> String {
    POLICY.replace(
        "recipients:\n",
        "recipients:\n  - id: mail-house\n    name: Mail House Ltd.\n    kind: vendor\n    categories: [user.name, user.contact.email]\n    purposes: [marketing.email]\n    country: CA\n",
    )
}

/// A fetched page: status, headers, body.
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Page {
    pub(crate) async fn from(res: reqwest::Response) -> Page {
        Page {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.text().await.unwrap(),
        }
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Every page: HTML, the strict policy (no framing), no script, no referrer.
    pub(crate) fn assert_safe(&self) {
        assert!(self.header("content-type").starts_with("text/html"));
        assert_eq!(self.header("content-security-policy"), STRICT_CSP);
        assert_eq!(self.header("referrer-policy"), "no-referrer");
        assert!(!self.body.to_ascii_lowercase().contains("<script"));
        assert!(self.body.starts_with("<!DOCTYPE html>"), "{}", self.body);
    }

    pub(crate) fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a csrf field")
            + 19;
        self.body[at..].split('"').next().unwrap().to_string()
    }

    pub(crate) fn cookie(&self) -> String {
        let set = self.header("set-cookie");
        assert!(
            set.starts_with("__Host-vow-form=")
                && set.contains("HttpOnly")
                && set.contains("SameSite=Strict")
                && set.contains("Secure")
                && set.contains("Path=/"),
            "{set}"
        );
        set.split(';').next().unwrap().to_string()
    }
}

pub(crate) async fn get(s: &Server, path: &str, headers: &[(&'static str, &str)]) -> Page {
    let mut req = s.client.get(format!("{}{path}", s.base));
    for (k, v) in headers {
        req = req.header(*k, HeaderValue::from_str(v).unwrap());
    }
    Page::from(req.send().await.unwrap()).await
}

/// The mail client's POST (RFC 8058): urlencoded, no cookie, nothing else.
async fn one_click(s: &Server, url: &str) -> Page {
    let res = s
        .client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    Page::from(res).await
}

async fn consent_state(s: &Server, key: &str, tenant: &str, id: &str, purpose: &str) -> Value {
    let (st, c) = s
        .get(key, &format!("/v1/tenants/{tenant}/subjects/{id}/consents"))
        .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    c["current"][purpose]["state"].clone()
}

async fn last_evidence(s: &Server, key: &str, tenant: &str, id: &str) -> Value {
    let (_, c) = s
        .get(key, &format!("/v1/tenants/{tenant}/subjects/{id}/consents"))
        .await;
    c["history"].as_array().unwrap().last().unwrap()["evidence"].clone()
}

async fn withdrawn_events(s: &Server, key: &str, tenant: &str, recipient: &str) -> usize {
    let (st, list) = s
        .get(key, &format!("/v1/tenants/{tenant}/deliveries"))
        .await;
    assert_eq!(st, StatusCode::OK, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .filter(|d| d["event"] == "consent.withdrawn" && d["recipient"] == recipient)
        .count()
}

/// A newsletter reader with consent, whose name went to the mailing house.
async fn reader(s: &Server, op: &str, tenant: &str, email: &str, recipient: &str) -> String {
    let (st, b) = s
        .post(
            op,
            &format!("/v1/tenants/{tenant}/subjects"),
            json!({"identifiers": {"email": email},
                   "fields": [{"category": "user.name", "value": "Nell Reader", "purposes": ["marketing.email"]},
                              {"category": "user.contact.email", "value": email, "purposes": ["marketing.email"]}],
                   "consents": [{"purpose": "marketing.email", "evidence": {"channel": "web", "shown": "Newsletter sign-up"}}]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    let (st, d) = s
        .post(
            op,
            &format!("/v1/tenants/{tenant}/disclosures"),
            json!({"recipient": recipient, "purpose": "marketing.email", "categories": ["user.name"], "subjects": [id]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    id
}

/// The same token with one character changed.
pub(crate) fn forged(url: &str) -> String {
    let (base, token) = url.rsplit_once('/').unwrap();
    let mut t: Vec<char> = token.chars().collect();
    t[20] = if t[20] == 'A' { 'B' } else { 'A' };
    format!("{base}/{}", t.into_iter().collect::<String>())
}

#[tokio::test]
async fn r13_one_click_unsubscribe_withdraws_at_once() {
    let s = Server::start().await;
    s.engine.set_public_url(&s.base);
    let op = s.tenant_with("acme", "controller", &mailing_policy()).await;
    let id = reader(&s, &op, "acme", "nell@example.org", "mail-house").await;
    let other = reader(&s, &op, "acme", "otto@example.org", "mail-house").await;

    // The mailing list: everyone with live consent, each with their header values.
    let (st, links) = s
        .post(
            &op,
            "/v1/tenants/acme/unsubscribe-links",
            json!({"purpose": "marketing.email"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{links}");
    let all = links["links"].as_array().unwrap();
    assert_eq!(all.len(), 2, "{links}");
    let mine = all.iter().find(|l| l["subject"] == id.as_str()).unwrap();
    let url = mine["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/u/", s.base)), "{url}");
    assert_eq!(mine["list_unsubscribe"], format!("<{url}>"));
    assert_eq!(mine["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    // The token names no one readably.
    let token = url.rsplit_once("/u/").unwrap().1;
    assert!(!token.contains(&id) && !token.contains(&id.replace('-', "")));
    assert!(!token.to_lowercase().contains("nell") && !token.contains("acme"));
    // Valid 400 days: well over CASL's 60.
    let issued: jiff::Timestamp = links["issued_at"].as_str().unwrap().parse().unwrap();
    let expires: jiff::Timestamp = links["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        expires.duration_since(issued).as_hours() >= 399 * 24,
        "{links}"
    );

    // The links outlive a rotation of the tenant's keys.
    s.engine
        .rotate_keys(
            &vow_engine::Actor::local("t"),
            &"acme".parse().unwrap(),
            |_| {},
        )
        .await
        .expect("rotate");

    // A GET (a mail scanner's prefetch) changes nothing.
    let page = get(&s, &format!("/u/{token}"), &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_safe();
    assert_eq!(
        consent_state(&s, &op, "acme", &id, "marketing.email").await,
        "granted"
    );

    // The mail client's POST: no cookie, no form token, withdrawn at once.
    let done = one_click(&s, &url).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.headers.get("location").is_none());
    done.assert_safe();
    assert!(done.body.contains("You are unsubscribed"), "{}", done.body);
    assert_eq!(
        consent_state(&s, &op, "acme", &id, "marketing.email").await,
        "withdrawn"
    );
    assert_eq!(
        last_evidence(&s, &op, "acme", &id).await["channel"],
        "one-click"
    );
    assert_eq!(
        consent_state(&s, &op, "acme", &other, "marketing.email").await,
        "granted"
    );
    // The mailing house is told, through the outbox.
    assert_eq!(withdrawn_events(&s, &op, "acme", "mail-house").await, 1);

    // Again, forged, random: the same page, nothing more happens.
    for u in [
        url.clone(),
        forged(&url),
        format!("{}/u/{}", s.base, "x".repeat(150)),
        format!("{}/u/AAAA", s.base),
    ] {
        let again = one_click(&s, &u).await;
        assert_eq!(again.status, StatusCode::OK, "{u}");
        assert_eq!(again.body, done.body, "{u}");
    }
    assert_eq!(withdrawn_events(&s, &op, "acme", "mail-house").await, 1);
    // A bad link is a security event (codes only).
    let (_, events) = s.get(&s.admin, "/v1/security-events").await;
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "invalid_link" && e["reason"] == "unsubscribe_token"),
        "{events}"
    );
    // The next mailing's list no longer has the person.
    let (_, links) = s
        .post(
            &op,
            "/v1/tenants/acme/unsubscribe-links",
            json!({"purpose": "marketing.email"}),
        )
        .await;
    assert_eq!(links["links"].as_array().unwrap().len(), 1, "{links}");
    assert_eq!(links["links"][0]["subject"], other.as_str());

    // Some mail clients post the pair as multipart/form-data (RFC 8058 §3.2).
    let url = links["links"][0]["url"].as_str().unwrap();
    let res = s
        .client
        .post(url)
        .header("content-type", "multipart/form-data; boundary=vowtest")
        .body("--vowtest\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--vowtest--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(Page::from(res).await.body, done.body);
    assert_eq!(
        consent_state(&s, &op, "acme", &other, "marketing.email").await,
        "withdrawn"
    );
    assert_eq!(withdrawn_events(&s, &op, "acme", "mail-house").await, 2);
}

#[tokio::test]
async fn s8_marketing_opt_out_by_link() {
    let s = Server::start().await;
    s.engine.set_public_url(&s.base);
    let op = s.tenant_with("bluebird", "processor", BLUEBIRD).await;
    let id = reader(&s, &op, "bluebird", "pat@example.net", "postwave").await;
    // An ingest key (the sending system) asks for the named person's headers.
    let ingest = s.key("bluebird", "ingest", None).await;
    let (st, links) = s
        .post(
            &ingest,
            "/v1/tenants/bluebird/unsubscribe-links",
            json!({"purpose": "marketing.email", "subjects": [id]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{links}");
    let url = links["links"][0]["url"].as_str().unwrap().to_string();
    let path = url.strip_prefix(&s.base).unwrap().to_string();

    // The confirmation page: one button, with a form token tied to a cookie.
    let ask = get(&s, &path, &[]).await;
    assert_eq!(ask.status, StatusCode::OK);
    ask.assert_safe();
    assert_eq!(ask.body.matches("<button").count(), 1, "{}", ask.body);
    assert!(ask.body.contains("<form method=\"post\">"), "{}", ask.body);
    let cookie = ask.cookie();
    let csrf = ask.csrf();
    // With the same cookie, a forged or random link shows exactly the same page.
    let same = get(&s, &path, &[("cookie", &cookie)]).await;
    let fake = get(&s, &forged(&path), &[("cookie", &cookie)]).await;
    let random = get(&s, "/u/bm90LWEtdG9rZW4", &[("cookie", &cookie)]).await;
    assert_eq!(same.body, ask.body);
    assert_eq!(fake.body, ask.body);
    assert_eq!(random.body, ask.body);

    // Without the form token, or with another browser's: 403, nothing changes.
    let post = |body: String, cookie: Option<&str>| {
        let mut req = s
            .client
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", c.to_string());
        }
        async move { Page::from(req.send().await.unwrap()).await }
    };
    let refused = post(String::new(), Some(&cookie)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    refused.assert_safe();
    let refused = post(format!("csrf={csrf}"), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let other = get(&s, &path, &[]).await.cookie();
    let refused = post(format!("csrf={csrf}"), Some(&other)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        consent_state(&s, &op, "bluebird", &id, "marketing.email").await,
        "granted"
    );

    // The button: withdrawn, the page as evidence, the sub-processor told.
    let done = post(format!("csrf={csrf}"), Some(&cookie)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    done.assert_safe();
    assert_eq!(
        consent_state(&s, &op, "bluebird", &id, "marketing.email").await,
        "withdrawn"
    );
    assert_eq!(
        last_evidence(&s, &op, "bluebird", &id).await["channel"],
        "unsubscribe-page"
    );
    assert_eq!(withdrawn_events(&s, &op, "bluebird", "postwave").await, 1);
    // A forged link through the same button: the same page, nothing else.
    let fake = s
        .client
        .post(forged(&url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    let fake = Page::from(fake).await;
    assert_eq!(fake.status, StatusCode::OK);
    assert_eq!(fake.body, done.body);
    assert_eq!(withdrawn_events(&s, &op, "bluebird", "postwave").await, 1);
}

#[tokio::test]
async fn unsubscribe_links_are_refused_outside_the_key_and_policy() {
    let s = Server::start().await;
    let op = s.tenant_with("acme", "controller", &mailing_policy()).await;
    let app = s.key("acme", "app", Some(&["research"])).await;
    let (st, _) = s
        .post(
            &app,
            "/v1/tenants/acme/unsubscribe-links",
            json!({"purpose": "marketing.email"}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, b) = s
        .post(
            &op,
            "/v1/tenants/acme/unsubscribe-links",
            json!({"purpose": "no.such"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    let (st, b) = s
        .post(
            &op,
            "/v1/tenants/acme/unsubscribe-links",
            json!({"purpose": "marketing.email", "subjects": ["0190a0b4-7c1e-7000-8000-000000000000"]}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    let (st, _) = s
        .post(
            &op,
            "/v1/tenants/other/unsubscribe-links",
            json!({"purpose": "marketing.email"}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_notice_shows_its_version_date_and_earlier_versions_in_two_languages() {
    let s = Server::start_at(TODAY).await;
    let op = s.tenant("acme").await;
    let v2 = POLICY
        .replace("effective_date: 2026-01-01", "effective_date: 2026-06-01")
        .replace(
            "description: Newsletters",
            "description: Monthly newsletters",
        );
    let (st, b) = s.put_policy(&op, "acme", &v2).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");

    let now = get(&s, "/privacy/acme", &[]).await;
    assert_eq!(now.status, StatusCode::OK);
    now.assert_safe();
    assert!(now.body.contains("<html lang=\"en\">"));
    assert!(
        now.body.contains("Tenant acme"),
        "the tenant's name in the header"
    );
    assert!(
        now.body
            .contains("Version 2, in force since Monday 1 June 2026."),
        "{}",
        now.body
    );
    assert!(now.body.contains("Monthly newsletters"));
    assert!(
        now.body.contains("href=\"?version=1&amp;lang=en\""),
        "{}",
        now.body
    );
    assert!(now.body.contains("What changed"));

    let old = get(&s, "/privacy/acme?version=1", &[]).await;
    assert_eq!(old.status, StatusCode::OK);
    old.assert_safe();
    assert!(
        old.body
            .contains("Version 1, in force from Thursday 1 January 2026: an earlier version.")
    );
    assert!(old.body.contains(">Newsletters<") || old.body.contains("Newsletters"));
    assert!(!old.body.contains("Monthly newsletters"));

    // French from Accept-Language; ?lang= wins over it.
    let fr = get(
        &s,
        "/privacy/acme",
        &[("accept-language", "fr-CA,fr;q=0.9,en;q=0.5")],
    )
    .await;
    fr.assert_safe();
    assert!(fr.body.contains("<html lang=\"fr\">"), "{}", fr.body);
    assert!(
        fr.body
            .contains("Version 2, en vigueur depuis le lundi 1 juin 2026."),
        "{}",
        fr.body
    );
    assert!(fr.body.contains("hreflang=\"en\""));
    let en = get(&s, "/privacy/acme?lang=en", &[("accept-language", "fr")]).await;
    assert!(en.body.contains("<html lang=\"en\">"));

    // Unknown tenant, unknown or future version: the 404 page, same look.
    for path in [
        "/privacy/nobody",
        "/privacy/acme?version=3",
        "/privacy/acme?version=x",
        "/privacy/BAD%20ID",
    ] {
        let p = get(&s, path, &[]).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
        p.assert_safe();
        assert!(p.body.contains("Page not found"), "{path}: {}", p.body);
    }

    // The stylesheet the pages link to: served, cached for a year; no other asset.
    let at = now.body.find("rel=\"stylesheet\" href=\"").unwrap() + 23;
    let href = now.body[at..].split('"').next().unwrap().to_string();
    assert!(
        href.starts_with("/assets/vow.") && href.ends_with(".css"),
        "{href}"
    );
    let css = s
        .client
        .get(format!("{}{href}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    let css = css.text().await.unwrap();
    assert!(css.contains("focus-visible"));
    println!(
        "page weight: notice {} B, earlier notice {} B, stylesheet {} B",
        now.body.len(),
        old.body.len(),
        css.len()
    );
    let nope = get(&s, "/assets/vow.000000000000.css", &[]).await;
    assert_eq!(nope.status, StatusCode::NOT_FOUND);
    // API routes keep `no-store`.
    let (_, _) = s.get(&op, "/v1/tenants/acme").await;
    let api = s
        .client
        .get(format!("{}/v1/tenants/acme", s.base))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    assert_eq!(api.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn gpc_json_states_support() {
    let s = Server::start().await;
    let res = s
        .client
        .get(format!("{}/.well-known/gpc.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["gpc"], true);
    let day = v["lastUpdate"].as_str().unwrap();
    assert!(
        day.parse::<jiff::civil::Date>().is_ok() && day.len() == 10,
        "{v}"
    );
}

#[test]
fn the_cli_prints_the_headers_for_a_mailing() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        person("ada@example.org", "Ada Quill"),
        person("bo@example.org", "Bo Lind"),
    ]
    .join("\n");
    cli_store(dir.path(), &rows);
    let d = dir.path().to_str().unwrap();
    let o = vow(&[
        "unsubscribe",
        "links",
        "--data",
        d,
        "--tenant",
        "acme",
        "--purpose",
        "research",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", text(&o));
    for l in &lines {
        let url = l["url"].as_str().unwrap();
        assert!(url.contains("/u/"), "{l}");
        assert_eq!(l["list_unsubscribe"], format!("<{url}>"));
        assert_eq!(l["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    }
    let one = lines[0]["subject"].as_str().unwrap();
    let o = vow(&[
        "unsubscribe",
        "links",
        "--data",
        d,
        "--tenant",
        "acme",
        "--purpose",
        "research",
        "--subject",
        one,
        "--output",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["links"].as_array().unwrap().len(), 1, "{doc}");
    assert!(doc["expires_at"].is_string());
    // `headers` (API.md's name) with the ids in a file, one a line.
    let ids = dir.path().join("ids.txt");
    std::fs::write(&ids, format!("{one}\n\n")).unwrap();
    let o = vow(&[
        "unsubscribe",
        "headers",
        "--data",
        d,
        "--tenant",
        "acme",
        "--purpose",
        "research",
        "--file",
        ids.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
    let missing = dir.path().join("missing.txt");
    let o = vow(&[
        "unsubscribe",
        "headers",
        "--data",
        d,
        "--tenant",
        "acme",
        "--purpose",
        "research",
        "--file",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = vow(&[
        "unsubscribe",
        "links",
        "--data",
        d,
        "--tenant",
        "acme",
        "--purpose",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
