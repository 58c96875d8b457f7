//! The OpenAPI document: every handler's path, the problem document's schema, and
//! bearer authentication.

use crate::problem::Problem;
use crate::{api, breaches, changes, reports, retention, security, unsubscribe, webhooks};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Vow", description = "A privacy engine: encrypted vault, consent ledger, purpose-bound reads."),
    paths(
        api::healthz, api::livez, api::metrics, api::create_tenant, api::list_tenants, api::get_tenant, api::create_key, api::revoke_key,
        api::put_policy, api::get_policy, api::create_subject, api::lookup, api::patch_subject,
        api::post_consent, api::get_consents, api::history, api::decisions, api::read, api::audit_verify,
        api::submit_request, api::list_requests, api::get_request, api::verify_request, api::extend_request,
        api::deny_request, api::pause_request, api::resume_request, api::fulfil_request, api::withdraw_request, api::request_export, api::download, api::create_hold, api::send_code, api::disclose, api::list_disclosures,
        reports::self_assessment, reports::sign_off,
        webhooks::put_endpoint, webhooks::rotate_secret, webhooks::list_recipients, webhooks::list_deliveries, webhooks::get_delivery, webhooks::retry_delivery,
        changes::policy_versions, changes::policy_changes, changes::aggregate,
        breaches::create_incident, breaches::list_incidents, breaches::get_incident, breaches::incident_impact, breaches::notify_incident,
        retention::run_retention, retention::retention_runs, retention::relationship_end, retention::data_map,
        security::list_all, security::list_tenant,
        unsubscribe::links
    ),
    components(schemas(Problem)),
    modifiers(&Security)
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

pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}
