//! The organisation's own databases: connections and the datasets registered with them.

use crate::extract::{Auth, Body, tenant};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vow_core::Pii;
use vow_engine::external::{
    ConnectionCheck, ConnectionView, DatasetView, JobView, JobsReport, PlannedChange,
};

type Result<T> = std::result::Result<T, ApiError>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionIn {
    /// `postgres://user:password@host:port/db`, `mysql://…` (MariaDB too),
    /// `sqlite:/path/to/file.db`, or `https://…` for a system Vow posts each job to
    /// (an `http` connection). Sealed under the tenant's key; never shown again.
    #[schema(value_type = String)]
    pub url: Pii<String>,
    /// Statements at once on this database, across all servers: 1 to 64 (default 4).
    #[serde(default)]
    pub max_concurrency: Option<u32>,
    /// For an `http(s)` URL: make a new signing secret (shown in this answer once).
    /// Without it a re-registered http connection keeps its secret.
    #[serde(default)]
    pub rotate_secret: bool,
}

/// Add a connection to one of the organisation's databases, or replace its URL.
/// The URL is checked for shape, not reached (test it with `…/test`). An `http(s)`
/// URL makes an `http` connection: its signing secret is in this answer only when
/// it was generated (a new connection, or `rotate_secret`).
#[utoipa::path(put, path = "/v1/tenants/{t}/connections/{c}", tag = "datasets",
    params(("t" = String, Path), ("c" = String, Path, description = "the connection's id")),
    request_body = ConnectionIn,
    responses((status = 200, body = ConnectionView), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_connection(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, c)): Path<(String, String)>,
    Body(b): Body<ConnectionIn>,
) -> Result<Json<ConnectionView>> {
    let t = tenant(&t)?;
    Ok(Json(
        s.engine
            .put_connection(&actor, &t, &c, &b.url, b.max_concurrency, b.rotate_secret)
            .await?,
    ))
}

/// The tenant's connections, with their passwords replaced by `***`.
#[utoipa::path(get, path = "/v1/tenants/{t}/connections", tag = "datasets",
    params(("t" = String, Path)),
    responses((status = 200, body = Vec<ConnectionView>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_connections(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
) -> Result<Json<Vec<ConnectionView>>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.connections(&actor, &t).await?))
}

/// Reach the database: the server's version, its tables, and whether each dataset
/// registered with it still matches the live schema. A database that cannot be
/// reached is a result of the test (`reachable: false`, with the kind of failure).
#[utoipa::path(post, path = "/v1/tenants/{t}/connections/{c}/test", tag = "datasets",
    params(("t" = String, Path), ("c" = String, Path)),
    responses((status = 200, body = ConnectionCheck), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn test_connection(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, c)): Path<(String, String)>,
) -> Result<Json<ConnectionCheck>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.test_connection(&actor, &t, &c).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    /// The connection whose database the manifest describes.
    pub connection: String,
}

/// Register the datasets of a fideslang manifest (the body, YAML) with a connection.
/// The manifest is checked on its own and against the live schema; on any error
/// nothing is registered and the answer is `422 invalid_dataset` with diagnostics.
#[utoipa::path(post, path = "/v1/tenants/{t}/datasets", tag = "datasets",
    params(("t" = String, Path), RegisterQuery),
    request_body(content = String, content_type = "application/yaml"),
    responses((status = 201, body = Vec<DatasetView>), (status = 404, body = Problem),
              (status = 422, body = Problem), (status = 502, body = Problem)),
    security(("bearer" = [])))]
pub async fn register_datasets(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    Query(q): Query<RegisterQuery>,
    body: String,
) -> Result<Response> {
    let t = tenant(&t)?;
    let d = s
        .engine
        .register_datasets(&actor, &t, &q.connection, &body, "request body")
        .await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

/// The registered datasets.
#[utoipa::path(get, path = "/v1/tenants/{t}/datasets", tag = "datasets",
    params(("t" = String, Path)),
    responses((status = 200, body = Vec<DatasetView>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_datasets(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
) -> Result<Json<Vec<DatasetView>>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.datasets(&actor, &t).await?))
}

/// A request's work in the organisation's own databases: one job per dataset, its
/// state, and per collection the rows found (access) or changed (erasure,
/// correction). Counts only, never a value.
#[utoipa::path(get, path = "/v1/tenants/{t}/requests/{r}/connector-jobs", tag = "datasets",
    params(("t" = String, Path), ("r" = String, Path)),
    responses((status = 200, body = Vec<JobView>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn request_jobs(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r)): Path<(String, String)>,
) -> Result<Json<Vec<JobView>>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.connector_jobs(&actor, &t, &r).await?))
}

/// Run the tenant's due connector jobs now, in this server (`vow serve` also runs
/// them every few seconds). Requests whose last job finishes are fulfilled.
#[utoipa::path(post, path = "/v1/tenants/{t}/connector-jobs/run", tag = "datasets",
    params(("t" = String, Path)),
    responses((status = 200, body = JobsReport), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn run_jobs(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
) -> Result<Json<JobsReport>> {
    let t = tenant(&t)?;
    let owner = s.engine.runner_name();
    Ok(Json(s.engine.run_connector_jobs(&actor, &t, &owner).await?))
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct RetriedOut {
    /// Failed jobs put back to run.
    pub retried: usize,
}

/// Put a request's failed connector jobs back to run (after fixing what failed). An
/// erasure resumes where it stopped: finished collections are not touched again.
#[utoipa::path(post, path = "/v1/tenants/{t}/requests/{r}/connector-jobs/retry", tag = "datasets",
    params(("t" = String, Path), ("r" = String, Path)),
    responses((status = 200, body = RetriedOut), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn retry_jobs(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r)): Path<(String, String)>,
) -> Result<Json<RetriedOut>> {
    let t = tenant(&t)?;
    let retried = s.engine.retry_connector_jobs(&actor, &t, &r).await?;
    Ok(Json(RetriedOut { retried }))
}

/// What fulfilling an erasure or correction request would change in the
/// organisation's own databases, per collection (rows and columns; never a value),
/// without changing anything. The walk that finds the rows is audited.
#[utoipa::path(post, path = "/v1/tenants/{t}/requests/{r}/connector-dry-run", tag = "datasets",
    params(("t" = String, Path), ("r" = String, Path)),
    responses((status = 200, body = Vec<PlannedChange>), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 502, body = Problem)),
    security(("bearer" = [])))]
pub async fn dry_run(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r)): Path<(String, String)>,
) -> Result<Json<Vec<PlannedChange>>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.connector_dry_run(&actor, &t, &r).await?))
}

/// An http connection's answer to a job (documentation of the body; it is read as
/// sent, because its signature covers the exact bytes).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConnectorResultIn {
    /// `done` or `failed`.
    pub status: String,
    /// Access, `done`: collection → rows, each `{field: value}`; every collection and
    /// field declared in the dataset's manifest.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub found: Option<serde_json::Value>,
    /// Erasure or correction, `done`: collection → rows changed.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub changed: Option<serde_json::Value>,
    /// `failed`: why, in at most 500 characters.
    #[serde(default)]
    pub error: Option<String>,
}

/// The callback of an `http` connection: the system's answer to job `j`. No API
/// key: the body is signed as Standard Webhooks are, with the connection's secret
/// (`webhook-id` is the job's id; `webhook-timestamp` within 5 minutes of the
/// server's clock). The request is fulfilled when this was its last job.
#[utoipa::path(post, path = "/v1/tenants/{t}/connector-jobs/{j}/result", tag = "datasets",
    params(("t" = String, Path), ("j" = String, Path, description = "the job's id"),
           ("webhook-id" = String, Header, description = "the job's id"),
           ("webhook-timestamp" = String, Header, description = "Unix seconds when it was signed"),
           ("webhook-signature" = String, Header, description = "`v1,<base64 HMAC-SHA256>`, space-separated if several")),
    request_body = ConnectorResultIn,
    responses((status = 200, body = JobView), (status = 401, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn job_result(
    State(s): State<AppState>,
    Path((t, j)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<JobView>> {
    let t = tenant(&t)?;
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signed = vow_engine::external::Signed {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
    };
    Ok(Json(
        s.engine.connector_job_result(&t, &j, signed, &body).await?,
    ))
}
