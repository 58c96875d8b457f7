//! The policy: a privacy notice as data.
//!
//! This is the compiled form. `vow-policy` reads it from YAML with precise errors,
//! checks cross-references and renders it back into a notice; the decision function
//! reads it. Every key is documented in `docs/policy.md`.

use crate::ids::{Category, LocalId, PurposeId};
use crate::period::Period;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the policy *file format* this build reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// File format version; must be [`FORMAT_VERSION`].
    pub format: u32,
    pub organisation: Organisation,
    /// The date from which this version of the notice applies.
    pub effective_date: Date,
    /// How people reach the privacy team.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    pub categories: Vec<CategoryDef>,
    pub purposes: Vec<PurposeDef>,
    #[serde(default)]
    pub retention: Vec<RetentionRule>,
    #[serde(default)]
    pub recipients: Vec<RecipientDef>,
    #[serde(default)]
    pub stores: Vec<StoreDef>,
    /// Jurisdiction codes whose law applies: ISO 3166 country (`CA`, `BR`), subdivision
    /// (`US-CA`, `CA-QC`), or `EU`, `UK`.
    #[serde(default)]
    pub jurisdictions: Vec<String>,
    #[serde(default)]
    pub response_times: ResponseTimes,
    /// Below this age (in whole years) a parent or guardian must consent. None: no rule.
    #[serde(default)]
    pub parental_consent_age: Option<u8>,
    #[serde(default)]
    pub implied_consent: Vec<ImpliedConsentRule>,
    /// Kept by Vow, never written in a policy file: for each consent-based purpose that
    /// was added or widened by a published version, that version's number. A consent
    /// given under an older version does not count for it (S5, fresh consent).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub consent_since: BTreeMap<PurposeId, u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub name: String,
    #[serde(default)]
    pub legal_name: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    Email,
    Phone,
    Mail,
    Web,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub channel: ContactChannel,
    pub address: String,
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryDef {
    pub id: Category,
    pub description: String,
    /// Sensitive personal information (health, race or ethnicity, religion, sexual
    /// orientation, political views, precise location, government ids, biometrics…).
    #[serde(default)]
    pub sensitive: bool,
    /// Where this kind of data comes from (for the California "sources" table).
    #[serde(default)]
    pub sources: Vec<String>,
    /// How an erasure removes this category from the organisation's own databases
    /// (issue 11); a dataset field's `masking_strategy_override` wins. Absent: the
    /// column is set to NULL, or to its type's neutral value when it cannot be NULL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masking: Option<Masking>,
}

/// The fideslang masking strategies Vow applies to external databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Masking {
    /// NULL, or the column type's neutral value (0, false, 1970-01-01, '') when NOT NULL.
    NullRewrite,
    /// A fixed text (`MASKED`); other types get their neutral value.
    StringRewrite,
    /// Random text of the column's length; other types get their neutral value.
    RandomStringRewrite,
    /// A keyed HMAC of the value (hex): rows stay joinable, the value is gone.
    Hmac,
    /// Delete the person's rows of the collection.
    Delete,
}

impl Masking {
    pub fn as_str(self) -> &'static str {
        match self {
            Masking::NullRewrite => "null_rewrite",
            Masking::StringRewrite => "string_rewrite",
            Masking::RandomStringRewrite => "random_string_rewrite",
            Masking::Hmac => "hmac",
            Masking::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    Consent,
    Contract,
    LegalObligation,
    LegitimateInterest,
    VitalInterest,
    PublicTask,
}

impl LegalBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            LegalBasis::Consent => "consent",
            LegalBasis::Contract => "contract",
            LegalBasis::LegalObligation => "legal_obligation",
            LegalBasis::LegitimateInterest => "legitimate_interest",
            LegalBasis::VitalInterest => "vital_interest",
            LegalBasis::PublicTask => "public_task",
        }
    }
}

/// Whether a purpose is marketing, by its name: `marketing` or `marketing.…`. An
/// `unsubscribe` request withdraws these; so does an `opt_out`.
pub fn is_marketing(purpose: &str) -> bool {
    purpose.starts_with("marketing")
}

/// Whether a purpose is a sale or sharing of personal information (CCPA §1798.120,
/// §1798.140(ah): sharing is cross-context behavioural advertising), by its name:
/// `sale`, `sale.…`, `sharing`, `sharing.…` or `cross_context_advertising`. An
/// `opt_out` request and a Global Privacy Control signal withdraw these.
pub fn is_sale_or_sharing(purpose: &str) -> bool {
    purpose == "sale"
        || purpose.starts_with("sale.")
        || purpose.starts_with("sharing")
        || purpose == "cross_context_advertising"
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeDef {
    pub id: PurposeId,
    pub description: String,
    pub basis: LegalBasis,
    /// A purpose the organisation promises never to pursue (e.g. `sale`). Every read,
    /// collection and disclosure for it is refused.
    #[serde(default)]
    pub forbidden: bool,
    /// The categories this purpose may use. A category also admits its descendants.
    #[serde(default)]
    pub categories: Vec<Category>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionClock {
    /// From when the field was collected.
    Collected,
    /// From the person's last recorded activity.
    LastActivity,
    /// From the withdrawal of the consent the field depends on.
    ConsentWithdrawn,
    /// From the end of the relationship (account closed, panel left).
    RelationshipEnd,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    /// The category this rule governs (with descendants). None: every category.
    #[serde(default)]
    pub category: Option<Category>,
    /// Only fields collected for this purpose. None: any purpose.
    #[serde(default)]
    pub purpose: Option<PurposeId>,
    pub keep: Period,
    pub from: RetentionClock,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// A client of the organisation that receives results or data.
    Client,
    /// A service provider / sub-processor acting on the organisation's instructions.
    Vendor,
    /// A public authority, where the law requires.
    Authority,
    /// A company of the same group.
    Affiliate,
}

impl RecipientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientKind::Client => "client",
            RecipientKind::Vendor => "vendor",
            RecipientKind::Authority => "authority",
            RecipientKind::Affiliate => "affiliate",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferSafeguard {
    /// No transfer out of the organisation's own jurisdiction.
    None,
    /// The destination has an adequacy decision (or equivalent).
    Adequacy,
    /// Standard contractual clauses.
    Scc,
    /// Binding corporate rules.
    Bcr,
    /// EU–US Data Privacy Framework certification.
    Dpf,
    /// Contractual protections comparable to those at home (PIPEDA's approach).
    Contract,
    /// The person's explicit consent to the transfer.
    Consent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientDef {
    pub id: LocalId,
    pub name: String,
    pub kind: RecipientKind,
    #[serde(default)]
    pub description: Option<String>,
    /// The categories it may receive (with descendants).
    pub categories: Vec<Category>,
    /// The purposes for which it may receive them.
    pub purposes: Vec<PurposeId>,
    /// ISO 3166 code where it processes the data, e.g. `CA`, `US`, `DE`.
    pub country: String,
    /// Required when `country` is outside every jurisdiction of the policy.
    #[serde(default)]
    pub safeguard: Option<TransferSafeguard>,
}

crate::tenant::names!(
    /// What a data store of the policy is.
    StoreKind {
        Primary => "primary",
        Backup => "backup",
        Media => "media",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreDef {
    pub id: LocalId,
    pub kind: StoreKind,
    /// Where it is, e.g. `CA-SK, Saskatoon (own data centre)`.
    pub location: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The categories it holds (with descendants).
    pub categories: Vec<Category>,
    /// For a backup store: how many days a backup is kept before it is destroyed.
    #[serde(default)]
    pub backup_retention_days: Option<u32>,
}

/// Promised response times, in calendar days. The engine applies the stricter of the
/// promise and the law.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseTimes {
    /// Default answer time for any request, in days.
    #[serde(default)]
    pub requests_days: Option<u32>,
    /// Per request type (`access`, `delete`, …), overriding the default.
    #[serde(default)]
    pub per_type: BTreeMap<String, u32>,
    /// Acknowledgement of receipt, in days.
    #[serde(default)]
    pub acknowledgement_days: Option<u32>,
    /// Complaints.
    #[serde(default)]
    pub complaints_days: Option<u32>,
    /// Every backup holding erased data is gone within this many days.
    #[serde(default)]
    pub backup_purge_days: Option<u32>,
    /// Affected people are told of a breach within this many days.
    #[serde(default)]
    pub breach_notice_days: Option<u32>,
    /// Opt-outs (unsubscribe) take effect within this many days.
    #[serde(default)]
    pub opt_out_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpliedConsentRule {
    /// The event that implies consent, e.g. `purchase`, `inquiry`, `participation`.
    pub event: String,
    /// The purposes it implies consent for.
    pub purposes: Vec<PurposeId>,
    /// How long the implied consent lasts after the event.
    pub lasts: Period,
    #[serde(default)]
    pub description: Option<String>,
}

impl Policy {
    pub fn purpose(&self, id: &PurposeId) -> Option<&PurposeDef> {
        self.purposes.iter().find(|p| &p.id == id)
    }

    pub fn category(&self, id: &Category) -> Option<&CategoryDef> {
        self.categories.iter().find(|c| &c.id == id)
    }

    pub fn recipient(&self, id: &str) -> Option<&RecipientDef> {
        self.recipients.iter().find(|r| r.id.as_str() == id)
    }

    pub fn store(&self, id: &str) -> Option<&StoreDef> {
        self.stores.iter().find(|s| s.id.as_str() == id)
    }

    /// The implied-consent rule for an event and purpose, if the policy has one.
    pub fn implied_rule(&self, event: &str, purpose: &PurposeId) -> Option<&ImpliedConsentRule> {
        self.implied_consent
            .iter()
            .find(|r| r.event == event && r.purposes.contains(purpose))
    }

    /// Whether the policy defines `category`, a descendant of a defined one, or an
    /// ancestor of one (asking for `user.demographic` covers its defined children).
    pub fn knows_category(&self, category: &Category) -> bool {
        self.categories
            .iter()
            .any(|c| category.is_within(&c.id) || c.id.is_within(category))
    }

    /// Whether `purpose` may use `category` (listing a category admits its descendants).
    pub fn purpose_allows(&self, purpose: &PurposeDef, category: &Category) -> bool {
        purpose.categories.iter().any(|c| category.is_within(c))
    }
}
