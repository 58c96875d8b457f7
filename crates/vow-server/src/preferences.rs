//! The preference centre, `/privacy/{t}/preferences` (issue 10). See
//! docs/pages.md#preference-centre.
//!
//! - `GET /privacy/{t}/preferences`: the preferences of the person whose session
//!   cookie this is, else the "send me a link" form.
//! - `POST /privacy/{t}/preferences` (`csrf`, `email`): mails a link if the address
//!   is on file; the same "check your e-mail" page whatever it is.
//! - `GET /privacy/{t}/preferences/link/{token}`: a mailed link opens a 30-minute
//!   session (an HttpOnly, `SameSite=Strict`, `__Host-` cookie) and shows the
//!   preferences at once, with no redirect (a `Strict` cookie set by a page reached
//!   from a mail would not be sent on a redirect from it).
//! - `POST /privacy/{t}/preferences/change` (`csrf`, `purpose`, `action`): one change
//!   through the ledger, then `303` back to the preferences with "saved".
//!
//! Every one of these pages honours `Sec-GPC: 1` ([`crate::gpc`]).

use crate::gpc::{self, Honoured, SESSION_COOKIE};
use crate::pages::{
    PageQuery, chrome, error_page, form_ok, form_token, language, message, not_found_page, page,
};
use crate::state::AppState;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use vow_core::TenantId;
use vow_engine::vault::preferences::{LinkAsked, SESSION_SECS};
use vow_render::Lang;
use vow_render::prefs::{self, PrefEvent, PrefPurpose};
use vow_render::web::Message;

/// What a page needs to start: its language, the tenant and its name, and a signal
/// honoured. Err: the page to answer instead.
async fn start(
    s: &AppState,
    t: &str,
    q: &PageQuery,
    headers: &HeaderMap,
) -> Result<(Lang, TenantId, String, Option<Honoured>), Response> {
    let lang = language(q.lang.as_deref(), headers);
    let Ok(tenant) = TenantId::new(t) else {
        return Err(not_found_page(lang));
    };
    let name = match s.engine.tenant_name(&tenant).await {
        Ok(Some(n)) => n,
        Ok(None) => return Err(not_found_page(lang)),
        Err(e) => return Err(error_page(lang, &e)),
    };
    let honoured = gpc::honour(s, &tenant, headers, "preferences")
        .await
        .map_err(|e| error_page(lang, &e))?;
    Ok((lang, tenant, name, honoured))
}

fn frame(lang: Lang, name: &str, honoured: &Option<Honoured>) -> vow_render::web::Chrome {
    let mut c = chrome(lang, Some(name), "");
    c.banner = honoured.as_ref().map(|_| gpc::statement(lang));
    c
}

/// The page with a form token, its cookie and the GPC cookie set where needed.
fn finish(
    status: StatusCode,
    html: String,
    form_cookie: Option<HeaderValue>,
    honoured: Option<Honoured>,
) -> Response {
    let mut res = page(status, html);
    if let Some(set) = form_cookie {
        res.headers_mut().append(header::SET_COOKIE, set);
    }
    gpc::with_cookie(res, honoured)
}

/// The page's language, its tenant and the tenant's name.
struct Site<'a> {
    lang: Lang,
    tenant: &'a TenantId,
    name: &'a str,
}

async fn show(
    s: &AppState,
    site: Site<'_>,
    subject: &str,
    headers: &HeaderMap,
    saved: bool,
    honoured: Option<Honoured>,
) -> Response {
    let Site { lang, tenant, name } = site;
    let Some((csrf, set)) = form_token(s, headers) else {
        return message(
            StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            Message::Error,
            None,
        );
    };
    let p = match s.engine.preferences(tenant, subject).await {
        Ok(p) => p,
        Err(e) => return error_page(lang, &e),
    };
    let purposes: Vec<PrefPurpose> = p
        .purposes
        .into_iter()
        .map(|p| PrefPurpose {
            id: p.id,
            description: p.description,
            state: p.state.to_string(),
            history: p
                .history
                .into_iter()
                .map(|e| PrefEvent {
                    grant: e.action == "grant",
                    at: e.at,
                    channel: e.channel,
                    gpc: e.gpc,
                })
                .collect(),
        })
        .collect();
    let action = format!(
        "/privacy/{}/preferences/change?lang={}",
        tenant,
        lang.code()
    );
    let html = prefs::preferences_page(
        &mut frame(lang, name, &honoured),
        &purposes,
        saved,
        &csrf,
        &action,
    );
    finish(StatusCode::OK, html, set, honoured)
}

fn ask(
    s: &AppState,
    lang: Lang,
    name: &str,
    headers: &HeaderMap,
    bad_link: bool,
    honoured: Option<Honoured>,
) -> Response {
    let Some((csrf, set)) = form_token(s, headers) else {
        return message(
            StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            Message::Error,
            None,
        );
    };
    let html = prefs::ask_page(&mut frame(lang, name, &honoured), &csrf, bad_link);
    finish(StatusCode::OK, html, set, honoured)
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PrefsQuery {
    pub lang: Option<String>,
    pub saved: Option<String>,
}

fn page_query(q: &PrefsQuery) -> PageQuery {
    PageQuery {
        lang: q.lang.clone(),
        version: None,
    }
}

/// `GET /privacy/{t}/preferences`.
pub async fn preferences(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Query(q): Query<PrefsQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, tenant, name, honoured) = match start(&s, &t, &page_query(&q), &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match gpc::session_subject(&s, &tenant, &headers) {
        Some(subject) => {
            let saved = q.saved.as_deref() == Some("1");
            let site = Site {
                lang,
                tenant: &tenant,
                name: &name,
            };
            show(&s, site, &subject, &headers, saved, honoured).await
        }
        None => ask(&s, lang, &name, &headers, false, honoured),
    }
}

fn field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `POST /privacy/{t}/preferences`: "send me a link".
pub async fn ask_link(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Query(q): Query<PageQuery>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (lang, tenant, name, honoured) = match start(&s, &t, &q, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !form_ok(&s, &headers, &body) {
        return message(StatusCode::FORBIDDEN, lang, Message::Forbidden, None);
    }
    let email = field(&body, "email").unwrap_or_default();
    let source = connect.map(|c| c.0.0.ip().to_string());
    match s
        .engine
        .ask_preference_link(&tenant, &email, source.as_deref(), lang)
        .await
    {
        Ok(LinkAsked::Answered) => {
            let html = prefs::sent_page(&mut frame(lang, &name, &honoured));
            finish(StatusCode::OK, html, None, honoured)
        }
        Ok(LinkAsked::Busy) => message(StatusCode::TOO_MANY_REQUESTS, lang, Message::Busy, None),
        Err(e) => error_page(lang, &e),
    }
}

/// `GET /privacy/{t}/preferences/link/{token}`: open a session and show the page.
pub async fn follow_link(
    State(s): State<AppState>,
    Path((t, token)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, tenant, name, honoured) = match start(&s, &t, &q, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let session = match s.engine.open_preference_link(&tenant, &token).await {
        Ok(Some(session)) => session,
        Ok(None) => return ask(&s, lang, &name, &headers, true, honoured),
        Err(e) => return error_page(lang, &e),
    };
    let Some(subject) = s.engine.preference_session(&tenant, &session) else {
        return message(
            StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            Message::Error,
            None,
        );
    };
    // A signal on the very page the link opens is the person's: record it for them.
    let honoured = match honoured {
        Some(_) => {
            let mut with_session = headers.clone();
            if let Ok(v) = HeaderValue::from_str(&format!("{SESSION_COOKIE}={session}")) {
                with_session.insert(header::COOKIE, v);
            }
            match gpc::honour(&s, &tenant, &with_session, "preferences").await {
                Ok(h) => h,
                Err(e) => return error_page(lang, &e),
            }
        }
        None => None,
    };
    let site = Site {
        lang,
        tenant: &tenant,
        name: &name,
    };
    let mut res = show(&s, site, &subject, &headers, false, honoured).await;
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={session}; Path=/; Max-Age={SESSION_SECS}; Secure; HttpOnly; SameSite=Strict"
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// `POST /privacy/{t}/preferences/change`: grant or withdraw one purpose.
pub async fn change(
    State(s): State<AppState>,
    Path(t): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (lang, tenant, name, honoured) = match start(&s, &t, &q, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !form_ok(&s, &headers, &body) {
        return message(StatusCode::FORBIDDEN, lang, Message::Forbidden, None);
    }
    let Some(subject) = gpc::session_subject(&s, &tenant, &headers) else {
        return ask(&s, lang, &name, &headers, true, honoured);
    };
    let purpose = field(&body, "purpose").unwrap_or_default();
    let grant = match field(&body, "action").as_deref() {
        Some("grant") => true,
        Some("withdraw") => false,
        _ => return message(StatusCode::BAD_REQUEST, lang, Message::Error, None),
    };
    match s
        .engine
        .set_preference(&tenant, &subject, &purpose, grant, lang)
        .await
    {
        Ok(()) => {
            let to = format!(
                "/privacy/{}/preferences?saved=1&lang={}",
                tenant,
                lang.code()
            );
            let mut res = (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            gpc::with_cookie(res, honoured)
        }
        Err(vow_engine::EngineError::Invalid(_)) => {
            message(StatusCode::BAD_REQUEST, lang, Message::Error, None)
        }
        Err(e) => error_page(lang, &e),
    }
}
