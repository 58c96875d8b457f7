//! The OpenAPI document: every handler's path, the problem document's schema, bearer
//! authentication, and the error answers every operation shares.

use crate::problem::Problem;
use crate::{
    api, appeals, breaches, changes, connections, documents, reports, retention, security,
    unsubscribe, webhooks,
};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Vow", description = "A privacy engine: encrypted vault, consent ledger, purpose-bound reads."),
    paths(
        api::healthz, api::livez, api::metrics, api::create_tenant, api::list_tenants, api::get_tenant, api::create_key, api::revoke_key,
        api::put_policy, api::get_policy, api::create_subject, api::lookup, api::list_imports, api::patch_subject,
        api::post_consent, api::get_consents, api::history, api::decisions, api::read, api::audit_verify,
        api::submit_request, api::list_requests, api::get_request, api::verify_request, api::extend_request,
        api::deny_request, api::pause_request, api::resume_request, appeals::appeal_request, api::fulfil_request, api::withdraw_request, api::request_export, api::download, api::create_hold, api::send_code, api::disclose, api::list_disclosures,
        reports::self_assessment, reports::sign_off,
        webhooks::put_endpoint, webhooks::rotate_secret, webhooks::list_recipients, webhooks::list_deliveries, webhooks::get_delivery, webhooks::retry_delivery,
        changes::policy_versions, changes::policy_changes, changes::aggregate,
        breaches::create_incident, breaches::list_incidents, breaches::get_incident, breaches::incident_impact, breaches::notify_incident, breaches::send_individual_notices, breaches::edit_individual_notice,
        retention::run_retention, retention::retention_runs, retention::relationship_end, retention::data_map,
        security::list_all, security::list_tenant,
        unsubscribe::links,
        documents::list, documents::download, documents::review,
        connections::put_connection, connections::list_connections, connections::test_connection,
        connections::register_datasets, connections::list_datasets, connections::request_jobs,
        connections::run_jobs, connections::retry_jobs, connections::dry_run, connections::job_result
    ),
    components(schemas(Problem)),
    modifiers(&Security, &CommonResponses)
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The answers the layers around the handlers give to any operation (authentication,
/// the body limit and content type, timeouts, a busy or unreachable store), added here
/// once rather than to every annotation; and every problem document declared as
/// `application/problem+json`, the type it is sent with.
struct CommonResponses;

const PROBLEM_JSON: &str = "application/problem+json";

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                add_common_responses(op);
            }
        }
    }
}

fn add_common_responses(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::path::ParameterIn;
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(r) = response
            && let Some(content) = r.content.shift_remove("application/json")
        {
            let key = if is_problem(&content) {
                PROBLEM_JSON
            } else {
                "application/json"
            };
            r.content.insert(key.to_string(), content);
        }
    }
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let in_path = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Path)));
    let body = op.request_body.as_ref();
    let json_body = body.is_some_and(
        |b| matches!(b, RefOr::T(b) if b.content.keys().any(|k| k == "application/json")),
    );
    let mut common = vec![
        (400, "the path, query or body could not be understood"),
        (
            408,
            "the request took too long and was abandoned; nothing was committed",
        ),
        (
            503,
            "the store or the audit log is unavailable, or the server is at its connection limit",
        ),
    ];
    if secured {
        common.push((
            401,
            "no API key, or one that is unknown, revoked or expired",
        ));
        common.push((403, "the key's role or tenant may not do this"));
    }
    if in_path {
        common.push((404, "no such tenant or resource"));
    }
    if body.is_some() {
        common.push((413, "the body is larger than 1 MiB"));
    }
    if json_body {
        common.push((415, "the body is not sent as `application/json`"));
    }
    for (status, description) in common {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| problem(description).into());
    }
}

fn is_problem(content: &utoipa::openapi::RefOr<utoipa::openapi::Content>) -> bool {
    use utoipa::openapi::RefOr;
    matches!(content, RefOr::T(c)
        if matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")))
}

fn problem(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}
