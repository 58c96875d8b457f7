//! Global Privacy Control on the tenant's pages (issue 10; CCPA regulations 11 CCR
//! §7025): a request with `Sec-GPC: 1` is an opt-out of sale and sharing. For the
//! person a preference session names, the engine withdraws the policy's sale and
//! sharing purposes through the ledger; with no one identified, it records the
//! browser once (a random id in the `__Host-vow-gpc` cookie; the store keeps an HMAC
//! of it). Either way the page then says that the signal was honoured.
//!
//! A leaf: it names no other page module, so the notice (`pages.rs`), the preference
//! centre (`preferences.rs`) and any later tenant page can call [`honour`].

use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use vow_core::TenantId;
use vow_engine::EngineError;
use vow_engine::vault::preferences::GpcOutcome;
use vow_render::Lang;

/// The browser's random id, for a signal no one is identified in.
pub const BROWSER_COOKIE: &str = "__Host-vow-gpc";
/// How long the browser's id is kept (400 days, the longest browsers allow).
const BROWSER_COOKIE_AGE: u32 = 400 * 86_400;
/// The preference session (see `preferences.rs`).
pub const SESSION_COOKIE: &str = "__Host-vow-prefs";

/// A signal honoured: what it did, and the browser cookie to set if it is new.
#[derive(Debug)]
pub struct Honoured {
    pub outcome: GpcOutcome,
    pub set_cookie: Option<HeaderValue>,
}

/// Whether the request carries `Sec-GPC: 1` (GPC spec §3.1: the value is exactly `1`).
pub fn signal(headers: &HeaderMap) -> bool {
    headers
        .get("sec-gpc")
        .is_some_and(|v| v.as_bytes().trim_ascii() == b"1")
}

/// The value of one of our cookies, if the browser sent one that looks like ours
/// (base64url only, at most 512 characters).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_string())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 512
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The person a valid preference session cookie names, for this tenant.
pub fn session_subject(s: &AppState, tenant: &TenantId, headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE).and_then(|c| s.engine.preference_session(tenant, &c))
}

/// Honour a `Sec-GPC: 1` signal on one of the tenant's pages (`page` names it in the
/// evidence: `notice`, `preferences`). None when the request carries no signal.
pub async fn honour(
    s: &AppState,
    tenant: &TenantId,
    headers: &HeaderMap,
    page: &str,
) -> Result<Option<Honoured>, EngineError> {
    if !signal(headers) {
        return Ok(None);
    }
    if let Some(subject) = session_subject(s, tenant, headers) {
        let outcome = s.engine.gpc_for_person(tenant, &subject, page).await?;
        return Ok(Some(Honoured {
            outcome,
            set_cookie: None,
        }));
    }
    let (browser, set_cookie) = match cookie(headers, BROWSER_COOKIE) {
        Some(b) => (b, None),
        None => {
            let b = s.engine.new_form_cookie()?;
            let set = HeaderValue::from_str(&format!(
                "{BROWSER_COOKIE}={b}; Path=/; Max-Age={BROWSER_COOKIE_AGE}; Secure; HttpOnly; SameSite=Lax"
            ))
            .map_err(|_| EngineError::Internal("cookie".into()))?;
            (b, Some(set))
        }
    };
    let outcome = s.engine.gpc_for_browser(tenant, &browser).await?;
    Ok(Some(Honoured {
        outcome,
        set_cookie,
    }))
}

/// The page's statement that the signal was honoured.
pub fn statement(lang: Lang) -> String {
    vow_render::prefs::words(lang).gpc_honoured.to_string()
}

/// Add the browser cookie of a signal honoured, if there is one to set.
pub fn with_cookie(mut res: Response, honoured: Option<Honoured>) -> Response {
    if let Some(set) = honoured.and_then(|h| h.set_cookie) {
        res.headers_mut().append(header::SET_COOKIE, set);
    }
    res
}
