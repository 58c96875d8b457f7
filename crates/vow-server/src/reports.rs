//! Reports from Vow's own records: the annual self-assessment (S13) and its sign-off.

use crate::extract::{Auth, Body, tenant};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vow_engine::ErrorCode;
use vow_engine::reports::assessment::{self, NewSignOff, SelfAssessment};

/// What the caller asked for in `Accept`: HTML and Markdown for people, JSON otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
    Markdown,
}

pub fn negotiate(headers: &HeaderMap) -> Format {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("text/html") {
        Format::Html
    } else if accept.contains("text/markdown") {
        Format::Markdown
    } else {
        Format::Json
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The calendar year (UTC), e.g. 2026.
    pub year: Option<String>,
}

/// The annual self-assessment: policy versions, requests and their deadlines, consents,
/// disclosures, key rotations, the audit chain; findings and sign-offs. JSON, or
/// `Accept: text/html` / `text/markdown`.
#[utoipa::path(get, path = "/v1/tenants/{t}/reports/self-assessment", tag = "reports", params(("t" = String, Path), YearQuery),
    responses((status = 200, body = SelfAssessment), (status = 400, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn self_assessment(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    Query(q): Query<YearQuery>,
    headers: HeaderMap,
) -> std::result::Result<Response, ApiError> {
    let t = tenant(&t)?;
    let year = match q.year.as_deref().map(str::parse::<i16>) {
        Some(Ok(y)) => y,
        _ => {
            return Err(ApiError::http(
                ErrorCode::InvalidRequest,
                "give the calendar year as ?year=YYYY",
            ));
        }
    };
    let report = s.engine.self_assessment(&actor, &t, year).await?;
    Ok(shape(&report, negotiate(&headers)))
}

/// Sign the report for a year as it is now: the role of the signer and the report hash
/// go into the audit chain. A hash that is no longer the report's is refused (409).
#[utoipa::path(post, path = "/v1/tenants/{t}/reports/self-assessment/sign-off", tag = "reports", params(("t" = String, Path)),
    request_body = NewSignOff, responses((status = 200, body = SelfAssessment), (status = 400, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn sign_off(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    Body(input): Body<NewSignOff>,
) -> std::result::Result<Json<SelfAssessment>, ApiError> {
    let t = tenant(&t)?;
    Ok(Json(
        s.engine.sign_self_assessment(&actor, &t, &input).await?,
    ))
}

fn shape(report: &SelfAssessment, format: Format) -> Response {
    match format {
        Format::Json => Json(report).into_response(),
        Format::Html => crate::page::html(assessment::render_html(report)),
        Format::Markdown => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            assessment::render_markdown(report),
        )
            .into_response(),
    }
}
