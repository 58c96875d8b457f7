//! The shapes of the breach register: an incident as reported, its impact per
//! tenant, the notice duties and where they stand, and the drafts.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A breach as reported by the privacy team.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncident {
    /// When the organisation became aware of it (RFC 3339). Every clock starts here.
    #[schema(example = "2026-11-20T09:00:00.000Z")]
    pub discovered_at: String,
    /// When it happened, as far as known.
    pub window: Window,
    /// Store ids of the policy that were involved.
    pub stores: Vec<String>,
    /// Data categories that were involved (a category covers its descendants).
    pub categories: Vec<String>,
    /// Other tenants involved (an incident at a processor touching several clients).
    /// The caller must be allowed to manage incidents in each.
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Whether the data was encrypted, and if so whether the keys were exposed too.
    #[serde(default)]
    pub encrypted: Option<Encryption>,
    /// What happened, in terms of systems (no personal data).
    pub description: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    #[schema(example = "2026-11-01T00:00:00.000Z")]
    pub from: String,
    #[schema(example = "2026-11-18T00:00:00.000Z")]
    pub to: String,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Encryption {
    /// The keys (or credentials) were exposed with the data.
    pub keys_exposed: bool,
}

/// Record that an audience was told.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotification {
    /// `authority`, `individuals` or `clients`.
    pub audience: String,
    /// When they were told (RFC 3339). Default: now. Never in the future.
    #[serde(default)]
    pub at: Option<String>,
    /// For an incident across tenants: whose client (or authority, individuals) was
    /// told. Default: the incident's tenant.
    #[serde(default)]
    pub tenant: Option<String>,
    /// E.g. the authority's reference number. No personal data.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CategoryImpact {
    pub category: String,
    pub sensitive: bool,
    /// People with data of this category affected.
    pub subjects: i64,
    /// Field records (versions) involved.
    pub records: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantImpact {
    pub tenant: String,
    /// The tenant processes the data for a client (its duty is to that client).
    pub processor: bool,
    /// The client to tell, for a processor tenant.
    pub client: Option<String>,
    pub client_contact: Option<String>,
    /// The policy's jurisdictions when the incident was assessed.
    pub jurisdictions: Vec<String>,
    /// The policy's promise to individuals, in days, when assessed.
    pub promise_days: Option<u32>,
    pub affected: i64,
    /// Affected people per residence code (`unknown`: none recorded).
    #[schema(value_type = Object)]
    pub residences: BTreeMap<String, i64>,
    pub categories: Vec<CategoryImpact>,
}

/// What the register keeps as the incident's impact (JSON in `incidents.impact`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Stored {
    pub(crate) tenants: Vec<TenantImpact>,
    pub(crate) risk_reasons: Vec<String>,
    pub(crate) encrypted_keys_safe: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Scope {
    pub stores: Vec<String>,
    pub categories: Vec<String>,
    pub tenants: Vec<String>,
    pub encrypted: Option<Encryption>,
}

/// One notice duty, and where it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeadlineView {
    pub tenant: String,
    /// `authority`, `individuals` or `clients`.
    pub audience: String,
    /// The pack id, `policy` (the policy's promise) or `processor` (a processor's duty
    /// to its client).
    pub rule: String,
    pub to: String,
    pub law: String,
    pub required: bool,
    pub reason: String,
    pub affected: u64,
    /// The fixed term, e.g. `72 hours`; None when the law gives no number.
    pub term: Option<String>,
    pub timing: String,
    /// None: no fixed date (see `timing`).
    pub due: Option<String>,
    /// Verification tag of the rule (RULES.md): V, S or U.
    pub tag: Option<String>,
    /// The notice's required headings, in order (empty: the law lists none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<String>,
    /// The title the law prescribes, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `on_time`, `late`, `open`, or `not_required`.
    #[schema(value_type = String)]
    pub status: vow_core::breach::DutyStatus,
    /// Open and past its due date.
    pub overdue: bool,
    pub notified_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DueView {
    /// The earliest fixed date among the owed duties; None: only "without undue
    /// delay"-style duties.
    pub due: Option<String>,
    /// What set it.
    pub binding: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    pub tenant: String,
    pub audience: String,
    pub at: String,
    pub recorded_at: String,
    pub recorded_by: String,
    pub note: String,
}

/// A draft notice for one audience, with the contents its laws require.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeDraft {
    pub tenant: String,
    pub audience: String,
    pub to: Vec<String>,
    /// The packs whose contents it carries.
    pub rules: Vec<String>,
    /// The headings the notice must contain (the packs' lists, RULES.md), which an
    /// edited text must keep.
    pub contents: Vec<String>,
    pub title: String,
    pub text: String,
    pub html: String,
    /// When the privacy team last edited the text (`PUT …/notices/individuals/draft`);
    /// null: the generated draft.
    pub edited_at: Option<String>,
    /// The key that edited it.
    pub edited_by: Option<String>,
}

/// An incident in the register.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentView {
    pub id: String,
    pub tenant: String,
    pub discovered_at: String,
    pub window: Window,
    pub scope: Scope,
    pub description: String,
    pub risk: String,
    pub affected: i64,
    pub recorded_at: String,
    pub recorded_by: String,
    /// The register entry is kept at least until then (24 months, or longer where a
    /// law asks).
    pub keep_until: String,
    /// The earliest owed due date per audience.
    #[schema(value_type = Object)]
    pub due: BTreeMap<String, DueView>,
    pub deadlines: Vec<DeadlineView>,
    pub notifications: Vec<NotificationView>,
}

/// Who is affected, how badly, what must be said to whom by when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImpactView {
    pub id: String,
    pub tenant: String,
    pub risk: String,
    pub risk_reasons: Vec<String>,
    pub affected: i64,
    /// Affected people per residence code over every tenant (`unknown`: none recorded).
    #[schema(value_type = Object)]
    pub jurisdictions: BTreeMap<String, i64>,
    pub tenants: Vec<TenantImpact>,
    #[schema(value_type = Object)]
    pub due: BTreeMap<String, DueView>,
    pub deadlines: Vec<DeadlineView>,
    pub notices: Vec<NoticeDraft>,
}
