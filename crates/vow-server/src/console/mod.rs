//! The privacy team's console (issue 10): `/console`. Sign-in exchanges an operator's
//! API key for a session (the engine's `security::sessions`); every page re-checks it
//! (and its key). Pages are built as data ([`vow_render::console::ConsolePage`]) and
//! written by one template; every form carries the pages' anti-forgery token
//! (`pages::form_ok`), and every action calls the same engine method as the API with
//! the operator's actor, so the audit names the operator's key.
//!
//! - `mod.rs` (this file): sessions, sign-in and sign-out, the frame and helpers.
//! - `requests.rs`: the queue and a request's page with its actions.
//! - `obligations.rs`: incidents (and mailing their notices), retention, reports, the
//!   audit chain's status.

mod connector_jobs;
mod documents;
mod obligations;
mod requests;

pub use documents::document;
pub use obligations::{
    audit, edit_notice, incident, incidents, report, reports, retention, retention_run,
    send_notices,
};
pub use requests::{action, queue, request};

use crate::pages;
use crate::state::AppState;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use vow_engine::security::sessions::{SESSION_ABSOLUTE_MS, SignInRefused};
use vow_engine::security::{SecurityAttempt, SecurityKind};
use vow_engine::{Actor, EngineError};
use vow_render::Lang;
use vow_render::console::{ConsolePage, Field, Form, Link, Section, Session};
use vow_render::web::Message;

/// The session cookie: HttpOnly, `SameSite=Strict`, `Secure`, host-only (`__Host-`).
pub const SESSION_COOKIE: &str = "__Host-vow-console";
/// The site name in the console's header.
const SITE: &str = "Vow console";

#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// A signed-in page's context: who, their form token, the language.
pub struct Ctx {
    pub actor: Actor,
    pub csrf: String,
    set_form: Option<HeaderValue>,
    pub lang: Lang,
    /// The tenants the key may work in.
    pub tenants: Vec<String>,
}

/// A form body's fields (the last value of each name).
pub fn fields(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

/// The tenants a key may work in: its own, or every tenant for a global admin key.
async fn tenants_of(s: &AppState, actor: &Actor) -> Vec<String> {
    if let Some(t) = &actor.tenant {
        return vec![t.as_str().to_string()];
    }
    s.engine
        .tenants(actor)
        .await
        .map(|v| v.into_iter().map(|t| t.id).collect())
        .unwrap_or_default()
}

/// The signed-in context, or the answer to give instead (back to sign-in).
pub async fn ctx(s: &AppState, headers: &HeaderMap, lang: Option<&str>) -> Result<Ctx, Response> {
    let lang = pages::language(lang, headers);
    let Some(token) = pages::cookie(headers, SESSION_COOKIE) else {
        return Err(see_other("/console"));
    };
    let actor = match s.engine.console_session(&token).await {
        Ok(a) => a,
        Err(EngineError::Unauthenticated) => return Err(see_other("/console")),
        Err(e) => return Err(error_response(lang, &e)),
    };
    let Some((csrf, set_form)) = pages::form_token(s, headers) else {
        return Err(error_response(
            lang,
            &EngineError::Internal("form token".into()),
        ));
    };
    let tenants = tenants_of(s, &actor).await;
    Ok(Ctx {
        actor,
        csrf,
        set_form,
        lang,
        tenants,
    })
}

impl Ctx {
    /// A POST form with this browser's token.
    pub fn form(&self, id: &str, action: String, fields: Vec<Field>, button: &str) -> Form {
        Form {
            action,
            post: true,
            csrf: self.csrf.clone(),
            fields,
            button: button.to_string(),
            id: id.to_string(),
        }
    }

    /// The console's navigation for `tenant`, with `current` marked.
    fn session(&self, tenant: Option<&str>, current: &str) -> Session {
        let mut nav = Vec::new();
        if let Some(t) = tenant {
            for (label, path) in [
                ("Requests", "requests"),
                ("Incidents", "incidents"),
                ("Retention", "retention"),
                ("Reports", "reports"),
            ] {
                let mut l = Link::new(label, format!("/console/t/{t}/{path}"));
                l.current = path == current;
                nav.push(l);
            }
        }
        let mut audit = Link::new("Audit chain", "/console/audit");
        audit.current = current == "audit";
        nav.push(audit);
        let tenants = if self.tenants.len() > 1 {
            self.tenants
                .iter()
                .map(|x| {
                    let mut l = Link::new(x.clone(), format!("/console/t/{x}/requests"));
                    l.current = Some(x.as_str()) == tenant;
                    l
                })
                .collect()
        } else {
            Vec::new()
        };
        Session {
            key_id: self.actor.id().to_string(),
            nav,
            tenants,
            sign_out: self.form(
                "sign-out",
                "/console/sign-out".into(),
                Vec::new(),
                "Sign out",
            ),
            key_label: "Key".into(),
            tenants_label: "Tenants".into(),
        }
    }

    /// A signed-in page.
    pub fn page(
        &self,
        status: StatusCode,
        tenant: Option<&str>,
        current: &str,
        mut p: ConsolePage,
    ) -> Response {
        p.session = Some(self.session(tenant, current));
        let mut res = render(status, self.lang, &p);
        if let Some(set) = self.set_form.clone() {
            res.headers_mut().insert(header::SET_COOKIE, set);
        }
        res
    }

    /// The page for an engine error (a refused action shows on the page it came from).
    pub fn error(&self, tenant: Option<&str>, e: &EngineError) -> Response {
        let (status, text) = refusal(e);
        self.page(
            status,
            tenant,
            "",
            ConsolePage {
                title: "Not done".into(),
                message: Some(text),
                error: true,
                ..ConsolePage::default()
            },
        )
    }
}

/// The status and the words for an engine error: its own message for what the
/// operator can fix (never personal data: engine errors carry none).
pub fn refusal(e: &EngineError) -> (StatusCode, String) {
    let status =
        StatusCode::from_u16(e.error_code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(code = e.code(), "a console action failed");
        (
            status,
            "Something went wrong; the action was not done.".into(),
        )
    } else {
        (status, e.to_string())
    }
}

fn render(status: StatusCode, lang: Lang, p: &ConsolePage) -> Response {
    let mut p = p.clone();
    vow_render::console_words::translate(&mut p, lang);
    let p = &p;
    let html = vow_render::console::console_page(&mut pages::chrome(lang, Some(SITE), ""), p);
    pages::page(status, html)
}

fn error_response(lang: Lang, e: &EngineError) -> Response {
    let (status, _) = refusal(e);
    pages::message(status, lang, Message::Error, None)
}

/// The sign-in page.
fn sign_in_page(
    status: StatusCode,
    lang: Lang,
    csrf: String,
    message: Option<&str>,
) -> ConsolePage {
    let _ = (status, lang);
    ConsolePage {
        title: "Sign in".into(),
        message: message.map(str::to_string),
        error: message.is_some(),
        sections: vec![Section {
            paras: vec![
                "Sign in with your operator API key. It is exchanged for a session of at most 8 hours (30 minutes unused) and is not kept in your browser.".into(),
            ],
            forms: vec![Form {
                action: "/console/sign-in".into(),
                post: true,
                csrf,
                fields: vec![Field::Secret {
                    name: "key".into(),
                    label: "API key".into(),
                }],
                button: "Sign in".into(),
                id: "sign-in".into(),
            }],
            ..Section::default()
        }],
        ..ConsolePage::default()
    }
}

fn sign_in_response(
    s: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    lang: Lang,
    message: Option<&str>,
) -> Response {
    let Some((csrf, set)) = pages::form_token(s, headers) else {
        return error_response(lang, &EngineError::Internal("form token".into()));
    };
    let mut res = render(status, lang, &sign_in_page(status, lang, csrf, message));
    if let Some(set) = set {
        res.headers_mut().insert(header::SET_COOKIE, set);
    }
    res
}

/// `GET /console`: the sign-in form, or (signed in) the first tenant's queue.
pub async fn home(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    match ctx(&s, &headers, q.lang.as_deref()).await {
        Ok(c) => match c.tenants.first() {
            Some(t) => see_other(&format!("/console/t/{t}/requests")),
            None => see_other("/console/audit"),
        },
        Err(_) => {
            let lang = pages::language(q.lang.as_deref(), &headers);
            sign_in_response(&s, &headers, StatusCode::OK, lang, None)
        }
    }
}

/// `POST /console/sign-in`: key → session cookie. Refusals are security events, like
/// a failed API authentication; attempts are limited per address.
pub async fn sign_in(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = pages::language(q.lang.as_deref(), &headers);
    if !pages::form_ok(&s, &headers, &body) {
        return pages::message(StatusCode::FORBIDDEN, lang, Message::Forbidden, None);
    }
    let source = connect.map(|c| c.0.0.ip().to_string());
    let key = fields(&body).remove("key").unwrap_or_default();
    match s
        .engine
        .console_sign_in(&key, source.as_deref().unwrap_or("-"))
        .await
    {
        Ok(signed) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; Max-Age={}; Secure; HttpOnly; SameSite=Strict",
                signed.token,
                SESSION_ABSOLUTE_MS / 1000
            );
            let mut res = see_other("/console");
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(SignInRefused::Busy) => {
            pages::message(StatusCode::TOO_MANY_REQUESTS, lang, Message::Busy, None)
        }
        Err(SignInRefused::Key(r)) => {
            if let Some(failure) = r.failure {
                let attempt = SecurityAttempt {
                    kind: SecurityKind::AuthenticationFailed,
                    reason: failure.as_str(),
                    key_id: r.key_id,
                    key_tenant: None,
                    tenant: None,
                    method: "POST".into(),
                    route: "/console/sign-in".into(),
                    source,
                };
                if let Err(e) = s.engine.record_security_event(attempt).await {
                    tracing::warn!(code = e.code(), "a security event could not be recorded");
                }
                sign_in_response(
                    &s,
                    &headers,
                    StatusCode::UNAUTHORIZED,
                    lang,
                    Some("This key was not accepted."),
                )
            } else {
                error_response(lang, &r.error)
            }
        }
    }
}

/// `POST /console/sign-out`: ends the session here and in the store.
pub async fn sign_out(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = pages::language(None, &headers);
    if !pages::form_ok(&s, &headers, &body) {
        return pages::message(StatusCode::FORBIDDEN, lang, Message::Forbidden, None);
    }
    if let Some(token) = pages::cookie(&headers, SESSION_COOKIE)
        && let Err(e) = s.engine.console_sign_out(&token).await
    {
        return error_response(lang, &e);
    }
    let mut res = see_other("/console");
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "__Host-vow-console=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict",
        ),
    );
    res
}
