//! Retention (R6) and the data map (R9). Thin handlers over the engine.

use crate::extract::{Auth, Body, tenant};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use vow_engine::obligations::retention::{
    RelationshipEnd, RelationshipView, RetentionReport, RetentionRunView,
};
use vow_engine::reports::datamap::DataMap;

type Result<T> = std::result::Result<T, ApiError>;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRetention {
    /// List what would go and change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Destroy every field the policy's retention rules say is due (legal holds kept); a
/// person whose data is all due is crypto-shredded. A dry run lists who and which
/// categories would go.
#[utoipa::path(post, path = "/v1/tenants/{t}/retention/run", tag = "retention", params(("t" = String, Path)),
    request_body = RunRetention,
    responses((status = 200, body = RetentionReport), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn run_retention(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    Body(b): Body<RunRetention>,
) -> Result<Json<RetentionReport>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.retention_run(&actor, &t, b.dry_run).await?))
}

/// The record of retention runs, newest first: counts per rule, no identifiers.
#[utoipa::path(get, path = "/v1/tenants/{t}/retention/runs", tag = "retention", params(("t" = String, Path)),
    responses((status = 200, body = Vec<RetentionRunView>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn retention_runs(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
) -> Result<Json<Vec<RetentionRunView>>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.retention_runs(&actor, &t).await?))
}

/// Record when the person's relationship with the organisation ended (the
/// `relationship_end` retention clock), or clear it.
#[utoipa::path(post, path = "/v1/tenants/{t}/subjects/{s}/relationship-end", tag = "retention",
    params(("t" = String, Path), ("s" = String, Path)), request_body = RelationshipEnd,
    responses((status = 200, body = RelationshipView), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn relationship_end(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, subject)): Path<(String, String)>,
    Body(b): Body<RelationshipEnd>,
) -> Result<Json<RelationshipView>> {
    let t = tenant(&t)?;
    Ok(Json(
        s.engine.end_relationship(&actor, &t, &subject, &b).await?,
    ))
}

/// The data map (R9): JSON, or `Accept: text/html` / `text/markdown`.
#[utoipa::path(get, path = "/v1/tenants/{t}/reports/data-map", tag = "reports", params(("t" = String, Path)),
    responses((status = 200, body = DataMap, description = "JSON, HTML or Markdown by Accept"), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn data_map(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let t = tenant(&t)?;
    let map = s.engine.data_map(&actor, &t).await?;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("text/html") {
        Ok(crate::page::html(
            vow_engine::reports::datamap::render_html(&map),
        ))
    } else if accept.contains("text/markdown") {
        Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            vow_engine::reports::datamap::render_markdown(&map),
        )
            .into_response())
    } else {
        Ok(Json(map).into_response())
    }
}
