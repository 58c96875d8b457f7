//! The shapes the request API takes and gives: a new request, the steps of the
//! workflow, a request as shown, and legal holds.

use crate::input::{Identifiers, NewField};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use vow_core::Pii;

/// Who submits the request, with their evidence (stored sealed).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Requester {
    /// `subject` (default), `agent` or `parent`.
    #[serde(default)]
    pub kind: Option<String>,
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub name: Option<Pii<String>>,
    /// For an agent: a power of attorney (`{"power_of_attorney": true, "document": "…"}`) or
    /// signed permission plus registration (`{"signed_permission": true, "registration": "…"}`).
    /// For a parent: `{"parent_of": …}`. A signed declaration: `{"declaration": true}`.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    pub evidence: Option<Pii<Value>>,
    /// The requester's own identifiers. A parent recorded on the child's parental consent
    /// is recognised by them, without further documents.
    #[serde(default)]
    pub identifiers: Identifiers,
}

/// A new data-subject request.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// access, know, delete, correct, opt_out (sale or sharing), limit_sensitive, portability, withdraw_consent, unsubscribe (marketing e-mail)
    #[serde(rename = "type")]
    pub kind: String,
    /// web, email, phone, mail, api
    pub channel: String,
    /// Where the person says they live, e.g. `US-CA`, `CA-QC`, `DE`. Decides which laws apply.
    #[serde(default)]
    pub jurisdiction: Option<String>,
    #[serde(default)]
    pub identifiers: Identifiers,
    /// Another data point for matching.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub birth_date: Option<Pii<String>>,
    #[serde(default)]
    pub requester: Option<Requester>,
    /// Where notices go; default the e-mail identifier.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub contact_email: Option<Pii<String>>,
    /// When a letter or call arrived before it was entered (RFC 3339). Not in the future
    /// (beyond a small clock-skew allowance) and, unless `backdated`, not further back
    /// than the server's window (30 days by default).
    #[serde(default)]
    pub received_at: Option<String>,
    /// `received_at` is further back than the window on purpose (a letter found late).
    /// The request is filed as received then, and its deadlines may already have passed.
    #[serde(default)]
    pub backdated: bool,
    /// For opt_out, unsubscribe and withdraw_consent: the purposes (default: every
    /// marketing, sale or sharing purpose for opt_out; every marketing purpose for
    /// unsubscribe; every consent purpose for withdraw_consent).
    #[serde(default)]
    pub purposes: Vec<String>,
    /// For correct: the values as they should be.
    #[serde(default)]
    pub corrections: Vec<NewField>,
}

/// A legal hold to record.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    /// Categories to keep, e.g. `user.financial`.
    pub categories: Vec<String>,
    /// The law or obligation, e.g. "Income Tax Act s.230: records kept six years".
    pub reason: String,
    /// Until when: `YYYY-MM-DD` or an RFC 3339 time.
    pub until: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldView {
    pub id: String,
    pub categories: Vec<String>,
    pub reason: String,
    pub until: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DueView {
    pub acknowledgement: Option<String>,
    pub response: String,
    pub extended_max: Option<String>,
    /// Set once the request has been extended.
    pub extended_to: Option<String>,
    /// The rule (pack id, `policy` or `default`) that set the response date.
    pub binding: String,
    /// The clock stands still since then; the deadlines move when it resumes.
    pub paused_since: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    pub tenant: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub channel: String,
    pub state: String,
    pub received_at: String,
    pub due: DueView,
    pub rules: Vec<String>,
    pub requester: String,
    /// The matched subject (a pseudonymous id), if any.
    pub subject: Option<String>,
    #[schema(value_type = Object)]
    pub verification: Value,
    pub matched_points: i64,
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<Value>,
    pub closed_at: Option<String>,
    /// Overdue, or due within 3 days.
    pub flag: Option<String>,
    /// This request is an appeal of the denial of that request.
    pub appeal_of: Option<String>,
    /// The appeal of this request's denial, once filed.
    pub appealed_by: Option<String>,
    pub events: Vec<EventView>,
    pub notices: Vec<NoticeView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub at: String,
    pub actor: String,
    pub event: String,
    pub from: Option<String>,
    pub to: Option<String>,
    #[schema(value_type = Object)]
    pub note: Value,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeView {
    pub id: String,
    pub kind: String,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// The text as sent; shown to keys that manage requests.
    pub text: Option<String>,
}

/// A step of the workflow.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// verify: more identifiers to match.
    #[serde(default)]
    pub identifiers: Identifiers,
    /// verify: a signed declaration under penalty of perjury was received.
    #[serde(default)]
    pub declaration: bool,
    /// verify: the calling app asserts the person is signed in to their account.
    #[serde(default)]
    pub authenticated: bool,
    /// verify: the person confirmed directly that the agent acts for them (needed when
    /// the agent has signed permission but no power of attorney).
    #[serde(default)]
    pub subject_confirmed: bool,
    /// verify: the one-time code the person received at the e-mail address on file.
    #[serde(default)]
    pub code: Option<String>,
    /// verify: stop trying; the request is unverifiable.
    #[serde(default)]
    pub give_up: bool,
    /// extend: why more time is needed; pause: what the clock waits for (required).
    #[serde(default)]
    pub reason: Option<String>,
    /// deny: reason codes (unverifiable, no_data, exempt, manifestly_unfounded,
    /// excessive, agent_not_authorised, duplicate, other) with plain-words details.
    #[serde(default)]
    pub reasons: Vec<DenialReason>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DenialReason {
    pub code: String,
    #[serde(default)]
    pub detail: Option<String>,
}

pub const DENIAL_CODES: [&str; 8] = [
    "unverifiable",
    "no_data",
    "exempt",
    "manifestly_unfounded",
    "excessive",
    "agent_not_authorised",
    "duplicate",
    "other",
];

/// The types of document the portal takes, told by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Pdf,
    Png,
    Jpeg,
}

impl DocumentKind {
    /// The type of `bytes` by their magic number; None for anything else.
    pub fn sniff(bytes: &[u8]) -> Option<DocumentKind> {
        if bytes.starts_with(b"%PDF-") {
            Some(DocumentKind::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(DocumentKind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(DocumentKind::Jpeg)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "pdf",
            DocumentKind::Png => "png",
            DocumentKind::Jpeg => "jpeg",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "application/pdf",
            DocumentKind::Png => "image/png",
            DocumentKind::Jpeg => "image/jpeg",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentKind> {
        [DocumentKind::Pdf, DocumentKind::Png, DocumentKind::Jpeg]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A document uploaded with a request, its type already checked.
#[derive(Clone)]
pub struct Upload {
    pub kind: DocumentKind,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("kind", &self.kind)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// What the portal adds to an intake.
pub(crate) struct Intake<'a> {
    pub(crate) documents: &'a [Upload],
}
