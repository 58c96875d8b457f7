//! Policy versions and their changes (S5), and de-identified aggregates (R10, S9).

use crate::extract::{Auth, Body, tenant};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use vow_engine::obligations::policy_changes::{PolicyChanges, PolicyVersionView};
use vow_engine::reports::aggregates::{AggregateQuery, AggregateReport};

type Result<T> = std::result::Result<T, ApiError>;

/// Every published version of the tenant's policy, with its effective date and a
/// summary of what it changed.
#[utoipa::path(get, path = "/v1/tenants/{t}/policy/versions", tag = "policy", params(("t" = String, Path)),
    responses((status = 200, body = Vec<PolicyVersionView>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn policy_versions(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
) -> Result<Json<Vec<PolicyVersionView>>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.policy_history(&actor, &t).await?))
}

/// What one version changed from the one before: the diff, the purposes that need
/// fresh consent and how many people that reaches, the administrators' notices.
#[utoipa::path(get, path = "/v1/tenants/{t}/policy/versions/{v}/changes", tag = "policy",
    params(("t" = String, Path), ("v" = i64, Path)),
    responses((status = 200, body = PolicyChanges), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn policy_changes(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, v)): Path<(String, i64)>,
) -> Result<Json<PolicyChanges>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.policy_changes(&actor, &t, v).await?))
}

/// Counts of people grouped by non-identifying attributes; groups smaller than
/// `min_group` are suppressed. Identifying attributes are refused with 422.
#[utoipa::path(post, path = "/v1/tenants/{t}/reports/aggregate", tag = "reports", params(("t" = String, Path)),
    request_body = AggregateQuery,
    responses((status = 200, body = AggregateReport), (status = 400, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn aggregate(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    Body(q): Body<AggregateQuery>,
) -> Result<Json<AggregateReport>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.aggregate(&actor, &t, &q).await?))
}
