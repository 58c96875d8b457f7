//! The JSON API under /v1. Handlers are thin: parse, call the engine, shape the answer.

use crate::extract::{Auth, Body, bearer, tenant};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use vow_core::{RequestHandling, TenantId};
use vow_engine::input::{NewConsent, NewSubject, SubjectPatch, purpose};
use vow_engine::{
    ApiKeyCreated, ConsentView, ConsentsView, EngineError, ErrorCode, FieldValue, LookupKind,
    PolicyPublished, TenantView, VerifyReport,
};
use vow_engine::{HoldView, NewHold, NewRequest, RequestView, Step};

type Result<T> = std::result::Result<T, ApiError>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    #[schema(example = "acme")]
    pub id: String,
    #[schema(example = "Acme Research")]
    pub name: String,
    /// `controller` or `processor`.
    #[schema(example = "controller")]
    pub role: String,
    /// For a processor: the controlling client.
    #[serde(default)]
    pub controller: Option<ControllerIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControllerIn {
    pub name: String,
    pub contact: String,
    /// How requests about the client's data are answered: `redirect` (default: the
    /// person is sent to the client) or `forward_assist`.
    #[serde(default)]
    pub requests: Option<String>,
}

#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", request_body = CreateTenant,
    responses((status = 201, body = TenantView), (status = 400, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_tenant(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Body(b): Body<CreateTenant>,
) -> Result<Response> {
    // Read before anything is created, so a bad value leaves nothing half-written.
    let mode = match b.controller.as_ref().and_then(|c| c.requests.as_deref()) {
        Some(m) => Some(RequestHandling::parse(m).ok_or_else(|| {
            EngineError::invalid("/controller/requests", "must be redirect or forward_assist")
        })?),
        None => None,
    };
    let controller = b
        .controller
        .as_ref()
        .map(|c| (c.name.as_str(), c.contact.as_str()));
    let t = s
        .engine
        .create_tenant(&actor, &b.id, &b.name, &b.role, controller)
        .await?;
    if let Some(mode) = mode {
        let id =
            TenantId::new(t.id.as_str()).map_err(|e| EngineError::invalid("/id", e.to_string()))?;
        s.engine.set_request_handling(&actor, &id, mode).await?;
    }
    Ok((StatusCode::CREATED, Json(t)).into_response())
}

#[utoipa::path(get, path = "/v1/tenants", tag = "tenants", responses((status = 200, body = Vec<TenantView>)), security(("bearer" = [])))]
pub async fn list_tenants(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<Vec<TenantView>>> {
    Ok(Json(s.engine.tenants(&actor).await?))
}

#[utoipa::path(get, path = "/v1/tenants/{t}", tag = "tenants", params(("t" = String, Path)),
    responses((status = 200, body = TenantView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_tenant(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
) -> Result<Json<TenantView>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.tenant(&actor, &t).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// admin, operator, ingest, app or auditor.
    pub role: String,
    /// For app keys: the purposes it may act for.
    #[serde(default)]
    pub purposes: Option<Vec<String>>,
    #[serde(default)]
    pub label: Option<String>,
    /// When the key stops working (RFC 3339); default: never. Never later than the
    /// creating key's own expiry.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Or how long from now it works, e.g. `90d`.
    #[serde(default)]
    pub expires_in: Option<String>,
}

/// Create an API key for the tenant. What a key may create is the grant table
/// (docs/api.md): a tenant admin key creates admin, ingest and auditor keys; keys that
/// read values (operator, app) need an operator key (app keys for purposes of the
/// policy), a global admin key, or the command line.
#[utoipa::path(post, path = "/v1/tenants/{t}/keys", tag = "tenants", params(("t" = String, Path)), request_body = CreateKey,
    responses((status = 201, body = ApiKeyCreated), (status = 400, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub async fn create_key(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    Body(b): Body<CreateKey>,
) -> Result<Response> {
    let t = tenant(&t)?;
    let mut new = vow_engine::NewKey::new(Some(t), vow_engine::input::role("/role", &b.role)?);
    new.purposes = b.purposes;
    new.label = b.label;
    new.expires_at = match b.expires_at.as_deref() {
        Some(x) => Some(vow_engine::input::time("/expires_at", x)?),
        None => None,
    };
    new.expires_in = match b.expires_in.as_deref() {
        Some(x) => Some(
            vow_core::Period::parse(x)
                .map_err(|e| EngineError::invalid("/expires_in", e.to_string()))?,
        ),
        None => None,
    };
    let k = s.engine.create_key(&actor, &new).await?;
    Ok((StatusCode::CREATED, Json(k)).into_response())
}

/// Revoke one of the tenant's API keys. Every server sharing the store refuses it from
/// its next call.
#[utoipa::path(delete, path = "/v1/tenants/{t}/keys/{id}", tag = "tenants",
    params(("t" = String, Path), ("id" = String, Path, description = "the key's id, as `vow key list` shows it")),
    responses((status = 204, description = "revoked (or already revoked)"), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn revoke_key(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, id)): Path<(String, String)>,
) -> Result<StatusCode> {
    let t = tenant(&t)?;
    s.engine.revoke_api_key(&actor, Some(&t), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publish a new policy version. The body is the policy file, YAML or JSON.
#[utoipa::path(put, path = "/v1/tenants/{t}/policy", tag = "policy", params(("t" = String, Path)),
    request_body(content = String, content_type = "application/yaml"),
    responses((status = 201, body = PolicyPublished), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn put_policy(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    body: String,
) -> Result<Response> {
    let t = tenant(&t)?;
    let p = s
        .engine
        .publish_policy(&actor, &t, &body, "request body")
        .await?;
    Ok((StatusCode::CREATED, Json(p)).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyOut {
    pub version: i64,
    #[schema(value_type = Object)]
    pub policy: Value,
    /// The file as published.
    pub source: String,
}

#[utoipa::path(get, path = "/v1/tenants/{t}/policy", tag = "policy", params(("t" = String, Path)),
    responses((status = 200, body = PolicyOut), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_policy(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
) -> Result<Json<PolicyOut>> {
    let t = tenant(&t)?;
    let (version, source, policy) = s.engine.current_policy(&actor, &t).await?;
    Ok(Json(PolicyOut {
        version,
        policy: serde_json::to_value(&*policy).unwrap_or(Value::Null),
        source,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

#[utoipa::path(post, path = "/v1/tenants/{t}/subjects", tag = "subjects", params(("t" = String, Path)), request_body = NewSubject,
    responses((status = 201, body = Created), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_subject(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    Body(b): Body<NewSubject>,
) -> Result<Response> {
    let t = tenant(&t)?;
    let id = s.engine.create_subject(&actor, &t, &b).await?;
    Ok((StatusCode::CREATED, Json(Created { id })).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_id: Option<String>,
}

/// The tenant's imports, newest first: running, committed or failed (an import's
/// people become visible together when it commits; docs/import.md).
#[utoipa::path(get, path = "/v1/tenants/{t}/imports", tag = "subjects", params(("t" = String, Path)),
    responses((status = 200, body = Vec<vow_engine::vault::import::ImportView>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_imports(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
) -> Result<Json<Vec<vow_engine::vault::import::ImportView>>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.imports(&actor, &t).await?))
}

#[utoipa::path(get, path = "/v1/tenants/{t}/subjects", tag = "subjects", params(("t" = String, Path), LookupQuery),
    responses((status = 200, body = Created), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn lookup(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    q: std::result::Result<Query<LookupQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Created>> {
    let t = tenant(&t)?;
    const ONE_OF: &str = "query by exactly one of email, phone, external_id";
    let Ok(Query(q)) = q else {
        return Err(ApiError::http(ErrorCode::InvalidRequest, ONE_OF));
    };
    let given: Vec<(LookupKind, &String)> = [
        (LookupKind::Email, q.email.as_ref()),
        (LookupKind::Phone, q.phone.as_ref()),
        (LookupKind::ExternalId, q.external_id.as_ref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let [(kind, value)] = given.as_slice() else {
        return Err(EngineError::invalid("", ONE_OF).into());
    };
    match s.engine.lookup(&actor, &t, *kind, value).await? {
        Some(id) => Ok(Json(Created { id })),
        None => Err(EngineError::NotFound("subject").into()),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Updated {
    /// Ids of the field versions written.
    pub fields: Vec<String>,
}

#[utoipa::path(patch, path = "/v1/tenants/{t}/subjects/{s}", tag = "subjects", params(("t" = String, Path), ("s" = String, Path)),
    request_body = SubjectPatch, responses((status = 200, body = Updated), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn patch_subject(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, subject)): Path<(String, String)>,
    Body(b): Body<SubjectPatch>,
) -> Result<Json<Updated>> {
    let t = tenant(&t)?;
    let fields = s.engine.update_subject(&actor, &t, &subject, &b).await?;
    Ok(Json(Updated { fields }))
}

#[utoipa::path(post, path = "/v1/tenants/{t}/subjects/{s}/consents", tag = "consents", params(("t" = String, Path), ("s" = String, Path)),
    request_body = NewConsent, responses((status = 201, body = ConsentView), (status = 400, body = Problem)), security(("bearer" = [])))]
pub async fn post_consent(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, subject)): Path<(String, String)>,
    Body(b): Body<NewConsent>,
) -> Result<Response> {
    let t = tenant(&t)?;
    let v = s.engine.record_consent(&actor, &t, &subject, &b).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

#[utoipa::path(get, path = "/v1/tenants/{t}/subjects/{s}/consents", tag = "consents", params(("t" = String, Path), ("s" = String, Path)),
    responses((status = 200, body = ConsentsView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_consents(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, subject)): Path<(String, String)>,
) -> Result<Json<ConsentsView>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.consents(&actor, &t, &subject).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    pub subject: String,
    pub purpose: String,
    pub categories: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionOut {
    pub allowed: bool,
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<vow_core::Reason>,
}

#[utoipa::path(post, path = "/v1/tenants/{t}/decisions", tag = "reads", params(("t" = String, Path)), request_body = DecisionIn,
    responses((status = 200, body = DecisionOut), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn decisions(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    Body(b): Body<DecisionIn>,
) -> Result<Json<DecisionOut>> {
    let t = tenant(&t)?;
    let d = s
        .engine
        .decide(
            &actor,
            &t,
            &b.subject,
            &purpose("/purpose", &b.purpose)?,
            &b.categories,
        )
        .await?;
    Ok(Json(DecisionOut {
        allowed: d.allowed,
        reasons: d.reasons,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadIn {
    pub purpose: String,
    pub categories: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadOut {
    pub fields: Vec<FieldValue>,
}

#[utoipa::path(post, path = "/v1/tenants/{t}/subjects/{s}/read", tag = "reads", params(("t" = String, Path), ("s" = String, Path)),
    request_body = ReadIn, responses((status = 200, body = ReadOut), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn read(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, subject)): Path<(String, String)>,
    Body(b): Body<ReadIn>,
) -> Result<Json<ReadOut>> {
    let t = tenant(&t)?;
    let fields = s
        .engine
        .read(
            &actor,
            &t,
            &subject,
            &purpose("/purpose", &b.purpose)?,
            &b.categories,
        )
        .await?;
    Ok(Json(ReadOut { fields }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldVersion {
    #[serde(flatten)]
    pub field: FieldValue,
    /// When a correction replaced this version; null for the current one.
    pub superseded_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryOut {
    pub fields: Vec<FieldVersion>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// The purpose of the policy the read serves: the decision function decides, and
    /// only the categories asked (default: those held that the purpose may use) are
    /// returned.
    pub purpose: Option<String>,
    /// Or the id of a data-subject request about this person (access, know, correct,
    /// delete or portability) that is verified or in progress: every version is returned.
    pub request: Option<String>,
    /// With `purpose`: only these categories, comma-separated.
    pub categories: Option<String>,
}

/// Every version of a person's fields (corrections keep the previous value), for a
/// named purpose or data-subject request; recorded in the audit chain with it.
#[utoipa::path(get, path = "/v1/tenants/{t}/subjects/{s}/history", tag = "subjects", params(("t" = String, Path), ("s" = String, Path), HistoryQuery),
    responses((status = 200, body = HistoryOut), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn history(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, subject)): Path<(String, String)>,
    q: std::result::Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<HistoryOut>> {
    let t = tenant(&t)?;
    s.engine.may_read_history(&actor, &t)?;
    let Ok(Query(q)) = q else {
        return Err(EngineError::invalid(
            "/purpose",
            "the query parameters are purpose (with categories) or request",
        )
        .into());
    };
    let categories = q
        .categories
        .as_deref()
        .map(|c| c.split(',').map(|x| x.trim().to_string()).collect())
        .unwrap_or_default();
    let ground =
        vow_engine::ReadGround::named(q.purpose.as_deref(), q.request.as_deref(), categories)?;
    let fields = s
        .engine
        .field_history(&actor, &t, &subject, &ground)
        .await?;
    Ok(Json(HistoryOut {
        fields: fields
            .into_iter()
            .map(|(field, superseded_at)| FieldVersion {
                field,
                superseded_at,
            })
            .collect(),
    }))
}

/// Submit a data-subject request (any channel; phone and mail are entered by the privacy team).
#[utoipa::path(post, path = "/v1/tenants/{t}/requests", tag = "requests", params(("t" = String, Path)), request_body = NewRequest,
    responses((status = 201, body = RequestView), (status = 400, body = Problem)), security(("bearer" = [])))]
pub async fn submit_request(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    Body(b): Body<NewRequest>,
) -> Result<Response> {
    let t = tenant(&t)?;
    let r = s.engine.submit_request(&actor, &t, &b).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Include closed requests (after the open ones).
    #[serde(default)]
    pub all: bool,
}

/// Requests, deadlines first; each flagged `overdue` or `due_soon` (within 3 days).
#[utoipa::path(get, path = "/v1/tenants/{t}/requests", tag = "requests", params(("t" = String, Path), ListQuery),
    responses((status = 200, body = Vec<RequestView>)), security(("bearer" = [])))]
pub async fn list_requests(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<RequestView>>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.requests(&actor, &t, q.all).await?))
}

#[utoipa::path(get, path = "/v1/tenants/{t}/requests/{r}", tag = "requests", params(("t" = String, Path), ("r" = String, Path)),
    responses((status = 200, body = RequestView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_request(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r)): Path<(String, String)>,
) -> Result<Json<RequestView>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.request(&actor, &t, &r).await?))
}

macro_rules! step {
    ($name:ident, $path:literal, $method:ident, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "requests", params(("t" = String, Path), ("r" = String, Path)),
            request_body = Step, responses((status = 200, body = RequestView), (status = 400, body = Problem), (status = 409, body = Problem)),
            security(("bearer" = [])))]
        pub async fn $name(
            State(s): State<AppState>,
            Auth(actor): Auth,
            Path((t, r)): Path<(String, String)>,
            Body(step): Body<Step>,
        ) -> Result<Json<RequestView>> {
            let t = tenant(&t)?;
            Ok(Json(s.engine.$method(&actor, &t, &r, &step).await?))
        }
    };
}

step!(
    verify_request,
    "/v1/tenants/{t}/requests/{r}/verify",
    verify_request,
    "Match more identifiers, a signed declaration or a sign-in."
);
step!(
    extend_request,
    "/v1/tenants/{t}/requests/{r}/extend",
    extend_request,
    "Extend the deadline, with a reason, before the first deadline."
);
step!(
    pause_request,
    "/v1/tenants/{t}/requests/{r}/pause",
    pause_request,
    "Stop the clock, with a reason, where every applicable law allows it (e.g. UK GDPR while waiting for clarification)."
);
step!(
    deny_request,
    "/v1/tenants/{t}/requests/{r}/deny",
    deny_request,
    "Deny with reason codes."
);

#[utoipa::path(post, path = "/v1/tenants/{t}/requests/{r}/fulfil", tag = "requests", params(("t" = String, Path), ("r" = String, Path)),
    responses((status = 200, body = RequestView), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn fulfil_request(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r)): Path<(String, String)>,
) -> Result<Json<RequestView>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.fulfil_request(&actor, &t, &r).await?))
}

/// Mail a one-time code to the e-mail address on file of the matched person.
#[utoipa::path(post, path = "/v1/tenants/{t}/requests/{r}/code", tag = "requests", params(("t" = String, Path), ("r" = String, Path)),
    responses((status = 200, body = RequestView), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn send_code(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r)): Path<(String, String)>,
) -> Result<Json<RequestView>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.send_code(&actor, &t, &r).await?))
}

#[utoipa::path(post, path = "/v1/tenants/{t}/requests/{r}/withdraw", tag = "requests", params(("t" = String, Path), ("r" = String, Path)),
    responses((status = 200, body = RequestView), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn withdraw_request(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r)): Path<(String, String)>,
) -> Result<Json<RequestView>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.withdraw_request(&actor, &t, &r).await?))
}

/// Start a paused clock again; the deadlines move by the time it stood.
#[utoipa::path(post, path = "/v1/tenants/{t}/requests/{r}/resume", tag = "requests", params(("t" = String, Path), ("r" = String, Path)),
    responses((status = 200, body = RequestView), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn resume_request(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r)): Path<(String, String)>,
) -> Result<Json<RequestView>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.resume_request(&actor, &t, &r).await?))
}

/// The access or know package: JSON, or `Accept: text/html` for the readable version.
#[utoipa::path(get, path = "/v1/tenants/{t}/requests/{r}/export", tag = "requests", params(("t" = String, Path), ("r" = String, Path)),
    responses((status = 200, description = "the package (JSON or HTML)"), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn request_export(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, r)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let t = tenant(&t)?;
    let package = s.engine.request_export(&actor, &t, &r).await?;
    let html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if html {
        Ok(crate::page::html(vow_engine::render_export_html(&package)))
    } else {
        Ok(Json(package).into_response())
    }
}

/// A legal hold: named categories kept for a reason until a date, even after erasure.
#[utoipa::path(post, path = "/v1/tenants/{t}/subjects/{s}/holds", tag = "requests", params(("t" = String, Path), ("s" = String, Path)),
    request_body = NewHold, responses((status = 201, body = HoldView), (status = 400, body = Problem)), security(("bearer" = [])))]
pub async fn create_hold(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((t, subject)): Path<(String, String)>,
    Body(b): Body<NewHold>,
) -> Result<Response> {
    let t = tenant(&t)?;
    let h = s.engine.create_hold(&actor, &t, &subject, &b).await?;
    Ok((StatusCode::CREATED, Json(h)).into_response())
}

/// Disclose categories of subjects to a registered recipient for a purpose. Each
/// person is judged by the decision function; refused people are listed and not sent.
#[utoipa::path(post, path = "/v1/tenants/{t}/disclosures", tag = "disclosures", params(("t" = String, Path)),
    request_body = vow_engine::obligations::disclosures::NewDisclosure,
    responses((status = 201, body = vow_engine::obligations::disclosures::DisclosureResult), (status = 403, body = Problem)), security(("bearer" = [])))]
pub async fn disclose(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
    Body(b): Body<vow_engine::obligations::disclosures::NewDisclosure>,
) -> Result<Response> {
    let t = tenant(&t)?;
    let d = s.engine.disclose(&actor, &t, &b).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

/// The disclosure log (R5).
#[utoipa::path(get, path = "/v1/tenants/{t}/disclosures", tag = "disclosures", params(("t" = String, Path)),
    responses((status = 200, body = Vec<vow_engine::obligations::disclosures::DisclosureView>)), security(("bearer" = [])))]
pub async fn list_disclosures(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(t): Path<String>,
) -> Result<Json<Vec<vow_engine::obligations::disclosures::DisclosureView>>> {
    let t = tenant(&t)?;
    Ok(Json(s.engine.disclosures(&actor, &t).await?))
}

/// A person's own download of their access package, through the time-limited link in
/// their completion notice. No API key: the long random token is the credential.
#[utoipa::path(get, path = "/exports/{token}", tag = "requests", params(("token" = String, Path)),
    responses((status = 200, description = "the package: HTML, or JSON with Accept: application/json"), (status = 404, body = Problem)))]
pub async fn download(
    State(s): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let package = s.engine.export_by_token(&token).await?;
    let json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if json {
        Ok(Json(package).into_response())
    } else {
        Ok(crate::page::html(vow_engine::render_export_html(&package)))
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditVerifyQuery {
    /// Check this tenant's chain alone (a tenant's key always checks its own). With it,
    /// `expect` names an entry of that chain.
    pub tenant: Option<String>,
    /// `SEQ:HASH`: the chain must hold entry SEQ with this hash (hex), e.g. a head or
    /// checkpoint recorded elsewhere. Catches a cut tail, an older copy restored and a
    /// wiped chain.
    pub expect: Option<String>,
}

/// Recompute the audit chains (every tenant's and the store's, or one tenant's); check
/// each head's signature and, with `expect`, that the chain still holds an entry
/// recorded elsewhere. 409 with the report when anything is wrong.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit", params(AuditVerifyQuery),
    responses((status = 200, body = VerifyReport), (status = 400, body = Problem),
        (status = 404, body = Problem, description = "no such tenant (or another tenant's, for a tenant's key)"),
        (status = 409, body = VerifyReport, description = "a chain, a head or an expected entry is wrong: the report names every problem")),
    security(("bearer" = [])))]
pub async fn audit_verify(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Query(q): Query<AuditVerifyQuery>,
) -> Result<Response> {
    let mut anchors = vow_engine::Anchors::default();
    if let Some(e) = &q.expect {
        anchors.expect.push(vow_engine::parse_expect("/expect", e)?);
    }
    let r = s
        .engine
        .verify_audit(&actor, q.tenant.as_deref(), &anchors, |_| {})
        .await?;
    let status = if r.ok {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    Ok((status, Json(r)).into_response())
}

/// Readiness: the server answers and its store does. A load balancer routes to it
/// only while this is 200.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses(
    (status = 200, description = "the server and its store answer"),
    (status = 503, description = "the store does not answer", body = Problem)))]
pub async fn healthz(State(s): State<AppState>) -> Result<Json<Value>> {
    s.engine.check_store().await?;
    Ok(Json(json!({"status": "ok", "store": "ok"})))
}

/// Liveness: the process answers. Static, so a slow store never gets a live server
/// restarted.
#[utoipa::path(get, path = "/livez", tag = "operations", responses((status = 200, description = "the process answers")))]
pub async fn livez() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Prometheus metrics. Open, unless the operator set a metrics key.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus text format"),
    (status = 401, description = "the server requires its metrics key and the request does not carry it", body = Problem)))]
pub async fn metrics(State(s): State<AppState>, headers: HeaderMap) -> Result<Response> {
    if let Some(key) = &s.metrics_key
        && !key.admits(bearer(&headers).map(str::trim))
    {
        return Err(ApiError::http(
            ErrorCode::Unauthenticated,
            "this server's metrics need its metrics key: `Authorization: Bearer <metrics key>`",
        ));
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response())
}

/// The router's fallback: a path no route matches.
pub async fn not_found() -> ApiError {
    ApiError::http(ErrorCode::NotFound, "no such endpoint; see /openapi.json")
}
