//! Appeals of denials: the API step (`POST …/requests/{r}/appeal`) and the form a
//! denial notice links to (`/privacy/{t}/request/appeal/{token}`), which shows the
//! same pages whatever the link is.

use crate::extract::{Auth, Body, tenant};
use crate::pages::{PageQuery, chrome, error_page, form_ok, form_token, language, message, page};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use vow_core::TenantId;
use vow_engine::requests::{MAX_STATEMENT, NewAppeal, RequestView};
use vow_render::web::Message;
use vow_render::web_appeal;

type Result<T> = std::result::Result<T, ApiError>;

/// Appeal a denial, where a law that applied to the request provides an appeal
/// (Virginia, Colorado, Connecticut). The appeal is a request of its own with its
/// own deadline; the privacy team decides it by fulfilling or denying it.
#[utoipa::path(post, path = "/v1/tenants/{t}/requests/{r}/appeal", tag = "requests", params(("t" = String, Path), ("r" = String, Path)),
    request_body = NewAppeal,
    responses((status = 201, body = RequestView), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn appeal_request(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r)): Path<(String, String)>,
    Body(input): Body<NewAppeal>,
) -> Result<(StatusCode, Json<RequestView>)> {
    let t = tenant(&t)?;
    Ok((
        StatusCode::CREATED,
        Json(s.engine.appeal_request(&actor, &t, &r, &input).await?),
    ))
}

/// `GET /privacy/{t}/request/appeal/{token}`: the appeal form. The same page for any
/// token; the organisation's name is not shown, so the page says nothing of the link.
pub async fn appeal_form(
    State(s): State<AppState>,
    Path((_t, _token)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(q.lang.as_deref(), &headers);
    let Some((csrf, set)) = form_token(&s, &headers) else {
        return message(
            StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            Message::Error,
            None,
        );
    };
    let html = web_appeal::appeal_form(&mut chrome(lang, None, ""), csrf, MAX_STATEMENT);
    let mut res = page(StatusCode::OK, html);
    if let Some(set) = set {
        res.headers_mut().insert(header::SET_COOKIE, set);
    }
    res
}

/// `POST /privacy/{t}/request/appeal/{token}`: file the appeal (form token required).
/// The same page whether the link was valid, the request open to appeal, or neither.
pub async fn appeal_post(
    State(s): State<AppState>,
    Path((t, token)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = language(q.lang.as_deref(), &headers);
    if !form_ok(&s, &headers, &body) {
        return message(StatusCode::FORBIDDEN, lang, Message::Forbidden, None);
    }
    let statement = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "statement")
        .map(|(_, v)| v.into_owned());
    let source = connect.map(|c| c.0.0.ip().to_string());
    let filed = match TenantId::new(&t) {
        Ok(tenant) => {
            s.engine
                .appeal_by_link(&tenant, &token, statement, source)
                .await
        }
        // A malformed tenant is a link that cannot be valid: the same page.
        Err(_) => Ok(vow_engine::requests::AppealOutcome::Refused),
    };
    match filed {
        Ok(_) => page(
            StatusCode::OK,
            web_appeal::appeal_filed(&mut chrome(lang, None, "")),
        ),
        Err(e) => error_page(lang, &e),
    }
    .into_response()
}
