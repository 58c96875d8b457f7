//! What callers send: the JSON shapes of the API (and of import rows). Values that
//! are personal data arrive wrapped in `Pii` so they can never be logged by accident.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use vow_core::Pii;

/// Identifiers a person is found by. Each is stored sealed, and blind-indexed.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Identifiers {
    #[schema(value_type = Option<String>, example = "ada@example.org")]
    #[serde(default)]
    pub email: Option<Pii<String>>,
    #[schema(value_type = Option<String>, example = "+13065550100")]
    #[serde(default)]
    pub phone: Option<Pii<String>>,
    #[schema(value_type = Option<String>, example = "R-000123")]
    #[serde(default)]
    pub external_id: Option<Pii<String>>,
}

impl Identifiers {
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.phone.is_none() && self.external_id.is_none()
    }

    pub fn iter(&self) -> impl Iterator<Item = (vow_crypto::IdentifierKind, &Pii<String>)> {
        use vow_crypto::IdentifierKind as K;
        [
            (K::Email, self.email.as_ref()),
            (K::Phone, self.phone.as_ref()),
            (K::ExternalId, self.external_id.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
    }
}

/// One piece of personal data.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewField {
    /// A data category of the policy, e.g. `user.name`.
    #[schema(example = "user.name")]
    pub category: String,
    /// The value: a string, number or boolean.
    #[schema(value_type = Value, example = "Ada")]
    pub value: Pii<Value>,
    /// The purposes it is collected for (each must allow the category, and have a basis).
    /// When correcting a field, omit to keep the purposes it had.
    #[serde(default)]
    pub purposes: Vec<String>,
    /// Where it came from, e.g. `signup-form`. Default `api`.
    #[serde(default)]
    pub source: Option<String>,
    /// The data store (of the policy) that holds it. Default `primary`.
    #[serde(default)]
    pub store: Option<String>,
    /// When it was collected (RFC 3339). Default: now.
    #[serde(default)]
    pub collected_at: Option<String>,
    /// In a PATCH: the id of the field this value corrects. Without it, a field of the
    /// same category is corrected if there is exactly one; otherwise the field is added.
    #[serde(default)]
    pub corrects: Option<String>,
}

/// A parent or guardian, by one of their identifiers or their subject id.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParentRef {
    #[serde(default)]
    pub subject: Option<String>,
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub email: Option<Pii<String>>,
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub phone: Option<Pii<String>>,
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub external_id: Option<Pii<String>>,
}

/// A consent event.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConsent {
    #[schema(example = "marketing.email")]
    pub purpose: String,
    /// `grant` (default) or `withdraw`.
    #[serde(default)]
    pub action: Option<String>,
    /// `express` (default), `implied` or `parental`.
    #[serde(default)]
    pub kind: Option<String>,
    /// What proves it: channel, what the person was shown, the event implying it
    /// (`event`: e.g. `purchase`, required for implied consent). Stored encrypted.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    pub evidence: Option<Pii<Value>>,
    /// When it was given (RFC 3339). Default: now. Never in the future.
    #[serde(default)]
    pub at: Option<String>,
    /// When it lapses. For implied consent, computed from the policy's rule if omitted.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// For parental consent: the parent.
    #[serde(default)]
    pub parent: Option<ParentRef>,
}

/// A new subject.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubject {
    #[serde(default)]
    pub identifiers: Identifiers,
    /// Date of birth, `YYYY-MM-DD`. Stored encrypted; used for the parental-consent rule.
    #[schema(value_type = Option<String>, example = "1990-01-31")]
    #[serde(default)]
    pub birth_date: Option<Pii<String>>,
    #[serde(default)]
    pub fields: Vec<NewField>,
    /// Consents given at collection; recorded before the fields are judged.
    #[serde(default)]
    pub consents: Vec<NewConsent>,
    /// Where the person lives, coarsely: an ISO 3166 country or subdivision code
    /// (`US-CA`, `CA-SK`, `GB`, `DE`). Used to count breach-affected people per
    /// jurisdiction. Kept in the clear: it is coarse, non-identifying metadata.
    #[schema(example = "CA-SK")]
    #[serde(default)]
    pub residence: Option<String>,
}

/// Add or correct fields of a subject.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectPatch {
    #[serde(default)]
    pub fields: Vec<NewField>,
    /// Set the person's coarse residence (see `NewSubject::residence`).
    #[serde(default)]
    pub residence: Option<String>,
}

/// Read a purpose sent at `pointer` (`/purpose`, `/purposes/2`): a malformed one is a
/// field error naming the place and the expectation, never dropped.
pub fn purpose(pointer: &str, text: &str) -> crate::Result<vow_core::PurposeId> {
    vow_core::PurposeId::new(text).map_err(|e| crate::EngineError::invalid(pointer, e.to_string()))
}

/// Read a time sent at `pointer`: RFC 3339 with an offset.
pub fn time(pointer: &str, text: &str) -> crate::Result<jiff::Timestamp> {
    crate::engine::parse_time(pointer, text)
}

/// Read a lower bound in time sent at `pointer`: an RFC 3339 time, or a period of fixed
/// length back from `now` (`24h`, `7d`, `2w`).
pub fn since(pointer: &str, text: &str, now: jiff::Timestamp) -> crate::Result<jiff::Timestamp> {
    if let Ok(p) = vow_core::Period::parse(text)
        && let Some(d) = p.fixed()
    {
        let back = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
        return Ok(now.checked_sub(back).unwrap_or(jiff::Timestamp::MIN));
    }
    crate::engine::parse_time(pointer, text).map_err(|_| {
        crate::EngineError::invalid(
            pointer,
            "expected an RFC 3339 time (2026-11-20T15:04:00Z) or a period back from now (24h, 7d, 2w)",
        )
    })
}

/// Read a key's role sent at `pointer`: one of the roles, by their one parser.
pub fn role(pointer: &str, text: &str) -> crate::Result<vow_core::Role> {
    vow_core::Role::parse(text).ok_or_else(|| {
        crate::EngineError::invalid(
            pointer,
            "must be one of admin, operator, ingest, app, auditor",
        )
    })
}
