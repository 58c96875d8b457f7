//! Breach endpoints (R16): record an incident, its impact and deadlines, and who has
//! been told. Thin: each handler calls one engine method.

use crate::extract::{Auth, Body, tenant};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use vow_engine::obligations::breaches::{
    DraftEdit, ImpactView, IncidentView, IndividualMailing, NewIncident, NewNotification,
    NoticeDraft,
};

type Result<T> = std::result::Result<T, ApiError>;

/// Record a breach and compute who is affected, the risk, every notice deadline and
/// draft notices.
#[utoipa::path(post, path = "/v1/tenants/{t}/incidents", tag = "breaches", params(("t" = String, Path)),
    request_body = NewIncident,
    responses((status = 201, body = ImpactView), (status = 400, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn create_incident(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    Body(b): Body<NewIncident>,
) -> Result<Response> {
    let t = tenant(&t)?;
    let v = s.engine.create_incident(&actor, &t, &b).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// The breach register, most recently discovered first, with each deadline's standing.
#[utoipa::path(get, path = "/v1/tenants/{t}/incidents", tag = "breaches", params(("t" = String, Path)),
    responses((status = 200, body = Vec<IncidentView>)), security(("bearer" = [])))]
pub async fn list_incidents(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
) -> Result<Json<Vec<IncidentView>>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.incidents(&actor, &t).await?))
}

#[utoipa::path(get, path = "/v1/tenants/{t}/incidents/{i}", tag = "breaches", params(("t" = String, Path), ("i" = String, Path)),
    responses((status = 200, body = IncidentView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_incident(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, i)): Path<(String, String)>,
) -> Result<Json<IncidentView>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.incident(&actor, &t, &i).await?))
}

/// Who is affected (counts per jurisdiction and category), the risk, the deadlines and
/// the draft notices.
#[utoipa::path(get, path = "/v1/tenants/{t}/incidents/{i}/impact", tag = "breaches", params(("t" = String, Path), ("i" = String, Path)),
    responses((status = 200, body = ImpactView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn incident_impact(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, i)): Path<(String, String)>,
) -> Result<Json<ImpactView>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.incident_impact(&actor, &t, &i).await?))
}

/// Record that the authority, the individuals or a client was told; each deadline is
/// then on time, late or still open.
#[utoipa::path(post, path = "/v1/tenants/{t}/incidents/{i}/notifications", tag = "breaches", params(("t" = String, Path), ("i" = String, Path)),
    request_body = NewNotification,
    responses((status = 201, body = IncidentView), (status = 400, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn notify_incident(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, i)): Path<(String, String)>,
    Body(b): Body<NewNotification>,
) -> Result<Response> {
    let t = tenant(&t)?;
    let v = s.engine.notify_incident(&actor, &t, &i, &b).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// Replace the text of the incident's notice to individuals with the privacy team's
/// own (subject and body). The body must keep every heading in the draft's
/// `contents` (what the applicable laws require); placeholders (`[…]`, `{…}`) may stay
/// in it, but the notice is not mailed until none is left. Audited.
#[utoipa::path(put, path = "/v1/tenants/{t}/incidents/{i}/notices/individuals/draft", tag = "breaches", params(("t" = String, Path), ("i" = String, Path)),
    request_body = DraftEdit,
    responses((status = 200, body = NoticeDraft), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn edit_individual_notice(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, i)): Path<(String, String)>,
    Body(b): Body<DraftEdit>,
) -> Result<Json<NoticeDraft>> {
    let t = tenant(&t)?;
    Ok(Json(
        s.engine.edit_individual_notice(&actor, &t, &i, &b).await?,
    ))
}

/// Mail the incident's notice to individuals to every affected person of the tenant
/// at their e-mail address on file: once per person however often it is called;
/// people erased since, or with no address, are not mailed. Records a notification to
/// `individuals` with the counts when someone was mailed. Refused (409, naming them)
/// while the notice has placeholders left.
#[utoipa::path(post, path = "/v1/tenants/{t}/incidents/{i}/notices/individuals/send", tag = "breaches", params(("t" = String, Path), ("i" = String, Path)),
    responses((status = 200, body = IndividualMailing), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn send_individual_notices(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, i)): Path<(String, String)>,
) -> Result<Json<IndividualMailing>> {
    let t = tenant(&t)?;
    Ok(Json(
        s.engine.mail_incident_individuals(&actor, &t, &i).await?,
    ))
}
