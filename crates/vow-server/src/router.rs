//! The router: every route, and the layers around them (body limit, timeout, problem
//! documents for bare errors, the health reserve, headers, metrics, tracing, request
//! ids).

use crate::openapi::openapi_json;
use crate::problem::bare_errors_as_problems;
use crate::reserve::health_only;
use crate::state::AppState;
use crate::telemetry::{MetricsKey, metrics_handle, record_request};
use crate::{
    api, api_docs, appeals, breaches, changes, connections, console, documents, pages, portal,
    reports, retention, security, unsubscribe, webhooks,
};
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{get, post, put};
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use vow_engine::Engine;

/// The largest request body accepted (a policy file is the biggest thing sent).
pub const MAX_BODY: usize = 1024 * 1024;

/// The router for a server that speaks TLS: browsers are told to use HTTPS only
/// for a year (HSTS). Never sent over plain HTTP, where it would mean nothing.
pub fn with_hsts(app: Router) -> Router {
    app.layer(SetResponseHeaderLayer::overriding(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    ))
}

/// What an operator may set about the API beyond the engine.
#[derive(Debug, Clone, Default)]
pub struct RouterOptions {
    /// The key `/metrics` requires (`Authorization: Bearer …`); none: open.
    pub metrics_key: Option<String>,
}

/// The router with the default options.
pub fn router(engine: Arc<Engine>) -> Router {
    router_with(engine, RouterOptions::default())
}

pub fn router_with(engine: Arc<Engine>, options: RouterOptions) -> Router {
    let state = AppState {
        engine,
        metrics: metrics_handle(),
        metrics_key: options.metrics_key.as_deref().map(MetricsKey::new),
    };
    let request_id = HeaderName::from_static("x-request-id");
    let api = Router::new()
        .route("/healthz", get(api::healthz))
        .route("/livez", get(api::livez))
        .route("/metrics", get(api::metrics))
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], openapi_json()) }),
        )
        .route(
            "/v1/tenants",
            post(api::create_tenant).get(api::list_tenants),
        )
        .route("/v1/tenants/{t}", get(api::get_tenant))
        .route("/v1/tenants/{t}/keys", post(api::create_key))
        .route(
            "/v1/tenants/{t}/keys/{id}",
            axum::routing::delete(api::revoke_key),
        )
        .route(
            "/v1/tenants/{t}/policy",
            get(api::get_policy).put(api::put_policy),
        )
        .route(
            "/v1/tenants/{t}/subjects",
            post(api::create_subject).get(api::lookup),
        )
        .route("/v1/tenants/{t}/imports", get(api::list_imports))
        .route(
            "/v1/tenants/{t}/subjects/{s}",
            axum::routing::patch(api::patch_subject),
        )
        .route(
            "/v1/tenants/{t}/subjects/{s}/consents",
            post(api::post_consent).get(api::get_consents),
        )
        .route("/v1/tenants/{t}/subjects/{s}/read", post(api::read))
        .route("/v1/tenants/{t}/subjects/{s}/history", get(api::history))
        .route("/v1/tenants/{t}/decisions", post(api::decisions))
        .route(
            "/v1/tenants/{t}/requests",
            post(api::submit_request).get(api::list_requests),
        )
        .route("/v1/tenants/{t}/requests/{r}", get(api::get_request))
        .route(
            "/v1/tenants/{t}/requests/{r}/verify",
            post(api::verify_request),
        )
        .route(
            "/v1/tenants/{t}/requests/{r}/extend",
            post(api::extend_request),
        )
        .route("/v1/tenants/{t}/requests/{r}/deny", post(api::deny_request))
        .route(
            "/v1/tenants/{t}/requests/{r}/appeal",
            post(appeals::appeal_request),
        )
        .route(
            "/v1/tenants/{t}/requests/{r}/pause",
            post(api::pause_request),
        )
        .route(
            "/v1/tenants/{t}/requests/{r}/resume",
            post(api::resume_request),
        )
        .route(
            "/v1/tenants/{t}/requests/{r}/fulfil",
            post(api::fulfil_request),
        )
        .route(
            "/v1/tenants/{t}/requests/{r}/withdraw",
            post(api::withdraw_request),
        )
        .route(
            "/v1/tenants/{t}/requests/{r}/export",
            get(api::request_export),
        )
        .route("/v1/tenants/{t}/requests/{r}/code", post(api::send_code))
        .route(
            "/v1/tenants/{t}/disclosures",
            post(api::disclose).get(api::list_disclosures),
        )
        .route(
            "/v1/tenants/{t}/reports/self-assessment",
            get(reports::self_assessment),
        )
        .route(
            "/v1/tenants/{t}/reports/self-assessment/sign-off",
            post(reports::sign_off),
        )
        .route(
            "/v1/tenants/{t}/connections",
            get(connections::list_connections),
        )
        .route(
            "/v1/tenants/{t}/connections/{c}",
            axum::routing::put(connections::put_connection),
        )
        .route(
            "/v1/tenants/{t}/connections/{c}/test",
            post(connections::test_connection),
        )
        .route(
            "/v1/tenants/{t}/requests/{r}/connector-jobs",
            get(connections::request_jobs),
        )
        .route(
            "/v1/tenants/{t}/requests/{r}/connector-jobs/retry",
            post(connections::retry_jobs),
        )
        .route(
            "/v1/tenants/{t}/requests/{r}/connector-dry-run",
            post(connections::dry_run),
        )
        .route(
            "/v1/tenants/{t}/connector-jobs/run",
            post(connections::run_jobs),
        )
        .route(
            "/v1/tenants/{t}/connector-jobs/{j}/result",
            post(connections::job_result),
        )
        .route(
            "/v1/tenants/{t}/datasets",
            get(connections::list_datasets).post(connections::register_datasets),
        )
        .route("/v1/tenants/{t}/recipients", get(webhooks::list_recipients))
        .route(
            "/v1/tenants/{t}/recipients/{r}/endpoint",
            axum::routing::put(webhooks::put_endpoint),
        )
        .route(
            "/v1/tenants/{t}/recipients/{r}/endpoint/rotate",
            post(webhooks::rotate_secret),
        )
        .route("/v1/tenants/{t}/deliveries", get(webhooks::list_deliveries))
        .route(
            "/v1/tenants/{t}/deliveries/{id}",
            get(webhooks::get_delivery),
        )
        .route(
            "/v1/tenants/{t}/deliveries/{id}/retry",
            post(webhooks::retry_delivery),
        )
        .route(
            "/v1/tenants/{t}/policy/versions",
            get(changes::policy_versions),
        )
        .route(
            "/v1/tenants/{t}/policy/versions/{v}/changes",
            get(changes::policy_changes),
        )
        .route(
            "/v1/tenants/{t}/reports/aggregate",
            post(changes::aggregate),
        )
        .route(
            "/v1/tenants/{t}/incidents",
            post(breaches::create_incident).get(breaches::list_incidents),
        )
        .route("/v1/tenants/{t}/incidents/{i}", get(breaches::get_incident))
        .route(
            "/v1/tenants/{t}/incidents/{i}/impact",
            get(breaches::incident_impact),
        )
        .route(
            "/v1/tenants/{t}/incidents/{i}/notifications",
            post(breaches::notify_incident),
        )
        .route(
            "/v1/tenants/{t}/incidents/{i}/notices/individuals/send",
            post(breaches::send_individual_notices),
        )
        .route(
            "/v1/tenants/{t}/incidents/{i}/notices/individuals/draft",
            put(breaches::edit_individual_notice),
        )
        .route("/v1/audit/verify", get(api::audit_verify))
        .route("/exports/{token}", get(api::download))
        .route("/v1/tenants/{t}/subjects/{s}/holds", post(api::create_hold))
        .route(
            "/v1/tenants/{t}/retention/run",
            post(retention::run_retention),
        )
        .route(
            "/v1/tenants/{t}/retention/runs",
            get(retention::retention_runs),
        )
        .route(
            "/v1/tenants/{t}/subjects/{s}/relationship-end",
            post(retention::relationship_end),
        )
        .route("/v1/tenants/{t}/reports/data-map", get(retention::data_map))
        .route(
            "/v1/tenants/{t}/unsubscribe-links",
            post(unsubscribe::links),
        )
        .route("/privacy/{t}", get(pages::notice))
        .route("/privacy/{t}/request", get(portal::index))
        .route("/privacy/{t}/request/verify", post(portal::verify))
        .route("/privacy/{t}/request/status/{token}", get(portal::status))
        .route(
            "/privacy/{t}/request/{kind}",
            get(portal::form_get)
                .post(portal::form_post)
                .layer(DefaultBodyLimit::max(portal::MAX_FORM_BODY)),
        )
        .route(
            "/v1/tenants/{t}/requests/{r}/documents",
            get(documents::list),
        )
        .route(
            "/v1/tenants/{t}/requests/{r}/documents/{d}",
            get(documents::download),
        )
        .route(
            "/v1/tenants/{t}/requests/{r}/documents/{d}/review",
            post(documents::review),
        )
        .route(
            "/privacy/{t}/preferences",
            get(crate::preferences::preferences).post(crate::preferences::ask_link),
        )
        .route(
            "/privacy/{t}/preferences/link/{token}",
            get(crate::preferences::follow_link),
        )
        .route(
            "/privacy/{t}/preferences/change",
            post(crate::preferences::change),
        )
        .route(
            "/privacy/{t}/request/appeal/{token}",
            get(appeals::appeal_form).post(appeals::appeal_post),
        )
        .route(
            "/u/{token}",
            get(pages::unsubscribe_page).post(pages::unsubscribe),
        )
        .route("/console", get(console::home))
        .route("/console/sign-in", post(console::sign_in))
        .route("/console/sign-out", post(console::sign_out))
        .route("/console/audit", get(console::audit))
        .route("/console/t/{t}/requests", get(console::queue))
        .route("/console/t/{t}/requests/{r}", get(console::request))
        .route(
            "/console/t/{t}/requests/{r}/documents/{d}",
            get(console::document),
        )
        .route(
            "/console/t/{t}/requests/{r}/{action}",
            post(console::action),
        )
        .route("/console/t/{t}/incidents", get(console::incidents))
        .route("/console/t/{t}/incidents/{i}", get(console::incident))
        .route(
            "/console/t/{t}/incidents/{i}/send",
            post(console::send_notices),
        )
        .route(
            "/console/t/{t}/incidents/{i}/draft",
            post(console::edit_notice),
        )
        .route(
            "/console/t/{t}/retention",
            get(console::retention).post(console::retention_run),
        )
        .route("/console/t/{t}/reports", get(console::reports))
        .route("/console/t/{t}/reports/{name}", get(console::report))
        .route("/assets/{file}", get(pages::asset))
        .route("/.well-known/gpc.json", get(pages::gpc_json))
        .route("/docs", get(api_docs::page))
        .route("/docs/{hash}/{file}", get(api_docs::asset))
        .route("/v1/security-events", get(security::list_all))
        .route(
            "/v1/tenants/{t}/security-events",
            get(security::list_tenant),
        )
        // Failed, forbidden and cross-tenant attempts become security events.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::record_attempts,
        ))
        .fallback(api::not_found)
        .with_state(state);
    api.layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        // Outside the timeout, so its 408 gets a problem document too.
        .layer(axum::middleware::map_response(bare_errors_as_problems))
        // A connection from the health reserve reaches only the health paths.
        .layer(axum::middleware::from_fn(health_only))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // No response may be framed (clickjacking): pages set their own policy with
        // `frame-ancestors 'none'`; everything else gets this one.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // Nothing is cached but what says so (the pages' hashed stylesheet).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(axum::middleware::from_fn(record_request))
        .layer(
            // Spans carry the request id, the method and the route *template*: never the
            // URI itself, whose query may hold an e-mail address.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("unmatched", |m| m.as_str())
                        .to_string();
                    let id = req
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|r| r.header_value().to_str().ok())
                        .unwrap_or("-")
                        .to_string();
                    tracing::info_span!("request", request_id = %id, method = %req.method(), route = %route)
                })
                .on_request(())
                .on_response(|res: &axum::response::Response, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_millis() as u64, "response");
                }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
}
