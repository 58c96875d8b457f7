//! The web pages people use (issue 10): the notice, the one-click unsubscribe pages,
//! the stylesheet and `/.well-known/gpc.json`. Public: no key. The words and markup
//! are vow-render's (`web` module and templates); this module picks the language,
//! guards forms against cross-site posts, and sets the headers.
//!
//! - **Language**: `?lang=en|fr` if given, else the best of `Accept-Language`, else
//!   English. The switch in the footer links to the same page with `?lang=`.
//! - **Forms**: a random value in an HttpOnly, `SameSite=Strict`, `__Host-` cookie,
//!   and in each form an HMAC of it under a key derived from the root key; a `POST`
//!   whose token does not match its cookie gets a 403 page. The one exception is the
//!   mail client's one-click `POST` (RFC 8058), which carries no cookie: its link is
//!   its credential.
//! - **Headers**: every page gets [`PAGES_CSP`] (its own stylesheet only, no script,
//!   forms only to this server, no framing), `Referrer-Policy: no-referrer` and
//!   `Cache-Control: no-store`; the stylesheet's address carries a hash of its text,
//!   so it is cached for a year.

use crate::state::AppState;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::LazyLock;
use vow_core::TenantId;
use vow_engine::EngineError;
use vow_engine::vault::unsubscribe::{ONE_CLICK, UnsubscribeVia};
use vow_render::Lang;
use vow_render::web::{self, Chrome, Message, NoticePage, NoticeVersion};

/// The Content-Security-Policy of every page: the server's stylesheet and images,
/// forms to this server only, no script, no framing, no `<base>`.
pub const PAGES_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The form cookie. `__Host-`: only set over HTTPS (or on localhost) for this host
/// and path `/`, never by a sibling domain.
pub const FORM_COOKIE: &str = "__Host-vow-form";
/// How long a form cookie lasts (12 hours).
const FORM_COOKIE_AGE: u32 = 12 * 3600;

/// When this server's GPC support statement last changed (`/.well-known/gpc.json`).
pub const GPC_LAST_UPDATE: &str = "2026-12-07";

/// The stylesheet's address: `/assets/vow.<first 12 hex of its SHA-256>.css`, so a new
/// stylesheet gets a new address and the old one can be cached for a year.
pub static STYLE_PATH: LazyLock<String> = LazyLock::new(|| {
    let hash = Sha256::digest(vow_render::STYLE.as_bytes());
    let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("/assets/vow.{hex}.css")
});

/// `GET /assets/{file}`: the one stylesheet, at its hashed address only.
pub async fn asset(Path(file): Path<String>) -> Response {
    if STYLE_PATH.strip_prefix("/assets/") != Some(file.as_str()) {
        return not_found_page(Lang::En);
    }
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        vow_render::STYLE,
    )
        .into_response()
}

/// `GET /.well-known/gpc.json`: Global Privacy Control support (GPC spec §4.2.1).
pub async fn gpc_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        format!("{{\"gpc\": true, \"lastUpdate\": \"{GPC_LAST_UPDATE}\"}}\n"),
    )
        .into_response()
}

/// The language a request asks for: `?lang=` first, then `Accept-Language` (the
/// highest weight Vow writes; the first of equals), else English.
pub fn language(asked: Option<&str>, headers: &HeaderMap) -> Lang {
    if let Some(l) = asked.and_then(Lang::parse) {
        return l;
    }
    let Some(accept) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Lang::En;
    };
    let mut best: Option<(f32, Lang)> = None;
    for item in accept.split(',').take(32) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if let Some(l) = Lang::parse(tag)
            && q > 0.0
            && best.is_none_or(|(bq, _)| q > bq)
        {
            best = Some((q, l));
        }
    }
    best.map_or(Lang::En, |(_, l)| l)
}

/// An HTML page with the pages' headers.
pub(crate) fn page(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGES_CSP),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::VARY, "Accept-Language, Cookie"),
        ],
        html,
    )
        .into_response()
}

/// A page's frame: generic (`site` None) or for a tenant; its language switch
/// links to `?lang=…` after `query` (the page's other query parameters).
pub(crate) fn chrome(lang: Lang, site: Option<&str>, query: &str) -> Chrome {
    Chrome::new(lang, site, &STYLE_PATH, |l| {
        format!("?{query}lang={}", l.code())
    })
}

pub(crate) fn message(
    status: StatusCode,
    lang: Lang,
    m: Message,
    csrf: Option<String>,
) -> Response {
    page(
        status,
        web::message_page(&mut chrome(lang, None, ""), m, csrf),
    )
}

/// The 404 page.
pub fn not_found_page(lang: Lang) -> Response {
    message(StatusCode::NOT_FOUND, lang, Message::NotFound, None)
}

pub(crate) fn error_page(lang: Lang, e: &EngineError) -> Response {
    match e {
        EngineError::NotFound(_) | EngineError::NoPolicy(_) => not_found_page(lang),
        _ => {
            tracing::error!(code = e.code(), "a page could not be rendered");
            message(
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                Message::Error,
                None,
            )
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub lang: Option<String>,
    pub version: Option<String>,
}

/// `GET /privacy/{t}`: the notice in force, or `?version=N`, with the list of versions.
pub async fn notice(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(q.lang.as_deref(), &headers);
    let Ok(tenant) = TenantId::new(&t) else {
        return not_found_page(lang);
    };
    let version = match q.version.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => return not_found_page(lang),
    };
    let n = match s.engine.public_notice(&tenant, version).await {
        Ok(n) => n,
        Err(e) => return error_page(lang, &e),
    };
    let versions: Vec<NoticeVersion> = n
        .versions
        .iter()
        .map(|v| NoticeVersion {
            version: v.version,
            effective_date: v.effective_date.clone(),
            changes: v.changes.clone(),
        })
        .collect();
    let code = lang.code();
    let href_for = |v: Option<i64>| match v {
        Some(v) => format!("?version={v}&lang={code}"),
        None => format!("?lang={code}"),
    };
    let query = if n.in_force {
        String::new()
    } else {
        format!("version={}&", n.version)
    };
    let honoured = match crate::gpc::honour(&s, &tenant, &headers, "notice").await {
        Ok(h) => h,
        Err(e) => return error_page(lang, &e),
    };
    let mut frame = chrome(lang, Some(&n.tenant_name), &query);
    frame.banner = honoured.as_ref().map(|_| crate::gpc::statement(lang));
    let html = web::notice_page(
        &mut frame,
        &NoticePage {
            version: n.version,
            effective_date: &n.effective_date,
            in_force: n.in_force,
            // vow-policy writes notices in English.
            notice_lang: Lang::En,
            blocks: &n.notice.blocks,
            versions: &versions,
            href_for: &href_for,
        },
    );
    crate::gpc::with_cookie(page(StatusCode::OK, html), honoured)
}

/// The form cookie the browser sent, if it looks like one of ours.
pub(crate) fn form_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, FORM_COOKIE)
}

/// A cookie of ours the browser sent that holds a random token (43 base64url
/// characters), if it looks like one. One reader for every cookie: [`crate::gpc::cookie`].
pub fn cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    crate::gpc::cookie(headers, wanted).filter(|v| v.len() == 43)
}

/// The form token for this browser, and the cookie to set when it had none.
pub(crate) fn form_token(
    s: &AppState,
    headers: &HeaderMap,
) -> Option<(String, Option<HeaderValue>)> {
    if let Some(c) = form_cookie(headers) {
        return Some((s.engine.form_token(&c), None));
    }
    let c = s.engine.new_form_cookie().ok()?;
    let set = HeaderValue::from_str(&format!(
        "{FORM_COOKIE}={c}; Path=/; Max-Age={FORM_COOKIE_AGE}; Secure; HttpOnly; SameSite=Strict"
    ))
    .ok()?;
    Some((s.engine.form_token(&c), Some(set)))
}

/// Whether a form's body carries the token that matches the browser's cookie.
pub(crate) fn form_ok(s: &AppState, headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(cookie) = form_cookie(headers) else {
        return false;
    };
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "csrf")
        .is_some_and(|(_, v)| s.engine.form_token_ok(&cookie, &v))
}

/// Whether a body is the one-click unsubscribe of RFC 8058 §3.2: the form field
/// `List-Unsubscribe=One-Click`, url-encoded or in a multipart body.
fn is_one_click(headers: &HeaderMap, body: &[u8]) -> bool {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if kind.starts_with("multipart/form-data") {
        let text = String::from_utf8_lossy(body);
        return text
            .split("name=\"List-Unsubscribe\"")
            .nth(1)
            .and_then(|part| part.split("\r\n\r\n").nth(1))
            .is_some_and(|value| value.starts_with("One-Click"));
    }
    let (name, value) = ONE_CLICK.split_once('=').unwrap_or_default();
    url::form_urlencoded::parse(body).any(|(k, v)| k == name && v == value)
}

#[derive(Debug, Default, Deserialize)]
pub struct UnsubscribeQuery {
    pub lang: Option<String>,
    /// `preferences`: the link of the page after an unsubscribe.
    pub then: Option<String>,
}

/// `GET /u/{token}`: the confirmation page, with one button. Changes nothing (mail
/// scanners fetch links). The same page for every token, valid or not.
/// `?then=preferences` (the link of the page after it): `303` to the preference
/// centre of a valid link's tenant; for any other token, the confirmation page.
pub async fn unsubscribe_page(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<UnsubscribeQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(q.lang.as_deref(), &headers);
    if q.then.as_deref() == Some("preferences")
        && let Some(t) = s.engine.unsubscribe_tenant(&token)
    {
        let to = format!("/privacy/{t}/preferences?lang={}", lang.code());
        return (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
    }
    let Some((csrf, set)) = form_token(&s, &headers) else {
        return message(
            StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            Message::Error,
            None,
        );
    };
    let mut res = message(StatusCode::OK, lang, Message::UnsubscribeAsk, Some(csrf));
    if let Some(set) = set {
        res.headers_mut().insert(header::SET_COOKIE, set);
    }
    res
}

/// `POST /u/{token}`: a mail client's one-click `List-Unsubscribe=One-Click` (no
/// cookie, no page), or the confirmation page's button (with its form token).
/// Withdraws at once; answers the same page whatever the token was.
pub async fn unsubscribe(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = language(q.lang.as_deref(), &headers);
    let via = if is_one_click(&headers, &body) {
        UnsubscribeVia::OneClick
    } else if form_ok(&s, &headers, &body) {
        UnsubscribeVia::ConfirmPage
    } else {
        return message(StatusCode::FORBIDDEN, lang, Message::Forbidden, None);
    };
    let source = connect.map(|c| c.0.0.ip().to_string());
    match s.engine.unsubscribe(&token, via, source).await {
        // The same page for every token: its link to the preference centre is
        // relative (`?then=preferences`), so it names no tenant; following it finds one.
        Ok(_) => {
            let prefs = format!("?then=preferences&lang={}", lang.code());
            page(
                StatusCode::OK,
                web::unsubscribed_page(
                    &mut chrome(lang, None, ""),
                    Some((vow_render::prefs::words(lang).other_choices, &prefs)),
                ),
            )
        }
        Err(e) => error_page(lang, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn the_language_is_asked_for_then_accepted_then_english() {
        assert_eq!(language(None, &HeaderMap::new()), Lang::En);
        assert_eq!(language(None, &accept("fr-CA,fr;q=0.9,en;q=0.8")), Lang::Fr);
        assert_eq!(language(None, &accept("de,en;q=0.5,fr;q=0.7")), Lang::Fr);
        assert_eq!(language(None, &accept("fr;q=0,en")), Lang::En);
        assert_eq!(language(Some("en"), &accept("fr")), Lang::En);
        assert_eq!(language(Some("xx"), &accept("fr")), Lang::Fr);
    }

    #[test]
    fn one_click_bodies_are_recognised_in_both_encodings() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        assert!(is_one_click(&h, b"List-Unsubscribe=One-Click"));
        assert!(!is_one_click(&h, b"List-Unsubscribe=Two-Clicks"));
        assert!(!is_one_click(&h, b"csrf=abc"));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=xyz"),
        );
        let body = b"--xyz\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--xyz--\r\n";
        assert!(is_one_click(&h, body));
    }

    #[test]
    fn the_stylesheet_address_carries_its_hash() {
        assert!(STYLE_PATH.starts_with("/assets/vow."));
        assert_eq!(STYLE_PATH.len(), "/assets/vow.".len() + 12 + ".css".len());
    }
}
