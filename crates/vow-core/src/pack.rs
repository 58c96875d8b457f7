//! Rule packs as data: one jurisdiction's request rules and breach rules, read from
//! `rules/*.yaml` (the format is documented in `docs/rules.md`). The arithmetic on
//! them lives in [`crate::deadline`] (requests) and [`crate::breach`] (breaches).

use crate::jurisdiction;
use crate::request::{RequestType, RequesterKind};
use crate::term::Term;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// How sure the research behind a value is (RULES.md §0): checked against primary
/// text, secondary sources only, or unverified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tag {
    V,
    S,
    U,
}

impl Tag {
    pub fn as_str(self) -> &'static str {
        match self {
            Tag::V => "V",
            Tag::S => "S",
            Tag::U => "U",
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub url: String,
    pub tag: Tag,
}

/// How a policy's jurisdiction list switches a pack on (see [`crate::deadline::applicable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// A policy code equals the pack id, or contains it (`CA` covers `CA` and `CA-QC`,
    /// `US` covers `US-CA`).
    #[default]
    Listed,
    /// Only the pack id itself, listed exactly.
    Exact,
    /// The policy lists the pack's country or any subdivision of it (marketing laws:
    /// `US-CA` in a policy switches on `US-CANSPAM`).
    Country,
}

/// How sure the business must be of the requester's identity.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum VerificationLevel {
    /// No verification (for opt-outs: none may be asked for).
    #[default]
    None,
    /// A reasonable degree of certainty (CCPA: e.g. two matching data points).
    Reasonable,
    /// A reasonably high degree of certainty (CCPA: e.g. three data points and a
    /// signed declaration).
    ReasonablyHigh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    #[serde(default)]
    pub level: VerificationLevel,
    /// Data points that must match what is already held (0: unspecified).
    #[serde(default)]
    pub points: u8,
    /// A declaration signed under penalty of perjury is required.
    #[serde(default)]
    pub signed_declaration: bool,
    /// If the requester cannot be verified to this level, treat the request as this
    /// type instead (CCPA: specific pieces → categories).
    #[serde(default)]
    pub downgrade_to: Option<RequestType>,
}

impl Verification {
    /// The stricter of two: the higher level, the more points, a declaration if
    /// either asks for one; the downgrade of the one with the higher level.
    pub fn stricter(self, other: Verification) -> Verification {
        let downgrade_to = match self.level.cmp(&other.level) {
            std::cmp::Ordering::Less => other.downgrade_to,
            std::cmp::Ordering::Greater => self.downgrade_to,
            std::cmp::Ordering::Equal => self.downgrade_to.or(other.downgrade_to),
        };
        Verification {
            level: self.level.max(other.level),
            points: self.points.max(other.points),
            signed_declaration: self.signed_declaration || other.signed_declaration,
            downgrade_to,
        }
    }
}

/// An extension the law allows, and its conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    /// How much may be added (the cap): the extended due date is `received + respond +
    /// add`, counted as one term when both have the same clock.
    pub add: Term,
    /// The requester must be told of the extension before the first deadline.
    #[serde(default)]
    pub notice_before_first_deadline: bool,
    /// The notice must give the reasons.
    #[serde(default)]
    pub reason_required: bool,
    /// The notice must state the right to complain to the regulator (PIPEDA s.8(4)).
    #[serde(default)]
    pub complaint_statement: bool,
}

/// An appeal of a refusal, where the law has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appeal {
    /// How long the requester has to appeal after the decision. None: the law sets no
    /// fixed period ("a reasonable period").
    #[serde(default)]
    pub request_within: Option<Term>,
    /// How long the business has to decide the appeal, from its receipt.
    pub respond: Term,
}

/// One request type's rules in one jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestRule {
    /// Acknowledge receipt within this term. None: the law asks for no separate
    /// acknowledgement.
    #[serde(default)]
    pub acknowledge: Option<Term>,
    /// Respond (substantively) within this term of receipt.
    pub respond: Term,
    #[serde(default)]
    pub extension: Option<Extension>,
    /// The clock may pause while waiting for information reasonably asked for
    /// (UK DUAA 2025). Informational: the due dates here assume no pause.
    #[serde(default)]
    pub clock_pauses: bool,
    #[serde(default)]
    pub verification: Verification,
    /// Who may submit the request.
    #[serde(default)]
    pub submitters: Vec<RequesterKind>,
    #[serde(default)]
    pub appeal: Option<Appeal>,
    /// The weakest verification tag among this rule's values.
    pub tag: Tag,
    #[serde(default)]
    pub note: Option<String>,
}

/// One jurisdiction's request rules, as data (`rules/*.yaml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePack {
    /// The jurisdiction code the pack answers to, e.g. `US-CA`, `EU`, `CA`, `CA-QC`,
    /// or a marketing law such as `CA-CASL`.
    pub id: String,
    pub name: String,
    /// The law and regulations, as cited.
    pub law: String,
    /// IANA time zone in which days end, e.g. `America/Los_Angeles`.
    pub timezone: String,
    /// Holiday calendar id for business days and month roll-forward. None: only
    /// Saturdays and Sundays are non-business days.
    #[serde(default)]
    pub calendar: Option<String>,
    /// Residence codes it covers: `US-CA`; `EU` and the member states; `CA`.
    pub scope: Vec<String>,
    #[serde(default)]
    pub activation: Activation,
    pub requests: BTreeMap<RequestType, RequestRule>,
    /// Breach notification rules (see [`crate::breach`]). None: not researched.
    #[serde(default)]
    pub breach: Option<BreachRules>,
    #[serde(default)]
    pub sources: Vec<Source>,
    #[serde(default)]
    pub note: Option<String>,
}

impl RulePack {
    /// This pack's rule for a request type, if the law has one.
    pub fn rule(&self, request: RequestType) -> Option<&RequestRule> {
        self.requests.get(&request)
    }

    /// The pack's time zone; None if the name is unknown (a validated rule book never
    /// has one).
    pub fn time_zone(&self) -> Option<TimeZone> {
        TimeZone::get(&self.timezone).ok()
    }

    /// The policy's jurisdiction list switches this pack on (see [`Activation`]).
    /// Codes compare as [`jurisdiction::comparison_key`] reads them.
    pub fn activated_by(&self, policy_jurisdictions: &[String]) -> bool {
        let id = jurisdiction::comparison_key(&self.id);
        policy_jurisdictions
            .iter()
            .map(|c| jurisdiction::comparison_key(c))
            .any(|c| {
                !c.is_empty()
                    && match self.activation {
                        Activation::Listed => jurisdiction::within(&id, &c),
                        Activation::Exact => id == c,
                        Activation::Country => {
                            jurisdiction::country_of(&id) == jurisdiction::country_of(&c)
                        }
                    }
            })
    }

    /// A person resident in `residence` is within this pack's scope.
    pub fn covers_residence(&self, residence: &str) -> bool {
        self.scope
            .iter()
            .any(|s| jurisdiction::within(residence, s))
    }
}

/// Who is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The supervisory authority / privacy commissioner / attorney general.
    Authority,
    /// The affected people.
    Individuals,
    /// The controllers (clients) of a processor or service provider.
    Clients,
}

impl Audience {
    pub const ALL: [Audience; 3] = [
        Audience::Authority,
        Audience::Individuals,
        Audience::Clients,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Authority => "authority",
            Audience::Individuals => "individuals",
            Audience::Clients => "clients",
        }
    }

    pub fn parse(s: &str) -> Option<Audience> {
        Audience::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How serious a breach is for the people in it (see the module docs).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    #[default]
    Low,
    Medium,
    High,
}

impl RiskLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        }
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One notice duty of one law.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeRule {
    /// Who exactly, as the law names them (e.g. "the supervisory authority (Art. 33)").
    pub to: String,
    /// A fixed term from discovery. None: the law gives no number ("without undue
    /// delay", "as soon as feasible"), see `timing`.
    #[serde(default)]
    pub within: Option<Term>,
    /// The law's own words for when, e.g. "without undue delay and, where feasible,
    /// not later than 72 hours after becoming aware".
    pub timing: String,
    /// The lowest risk at which the notice is owed.
    pub threshold: RiskLevel,
    /// Not owed when the data was encrypted and the keys were not exposed.
    #[serde(default)]
    pub encryption_exempt: bool,
    /// Owed only when at least this many people in the pack's scope are affected
    /// (California: a sample to the Attorney General above 500 residents).
    #[serde(default)]
    pub min_affected: Option<u64>,
    /// What the notice must contain, as headings, in order.
    pub contents: Vec<String>,
    /// The notice's title, where the law prescribes one ("Notice of Data Breach").
    #[serde(default)]
    pub title: Option<String>,
    /// The weakest verification tag among this rule's values.
    pub tag: Tag,
    #[serde(default)]
    pub note: Option<String>,
}

/// A pack's breach rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreachRules {
    /// The law, as cited.
    pub law: String,
    /// Notice duties by audience.
    pub notices: BTreeMap<Audience, NoticeRule>,
    /// How long the breach register must be kept (PIPEDA: 24 months). None: the
    /// law as researched says nothing.
    #[serde(default)]
    pub keep_records: Option<Term>,
    #[serde(default)]
    pub note: Option<String>,
}
