//! The one decision function.
//!
//! Every read, every collection and every disclosure asks [`decide`]. It returns
//! all the reasons a request fails, not just the first, so that people and
//! programs can fix everything at once.

use crate::consent::{ConsentEvent, ConsentKind, ConsentState};
use crate::ids::{Category, PurposeId};
use crate::policy::{LegalBasis, Policy};
use crate::role::{Capability, Role};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// What the caller wants to do with the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read values for a purpose.
    Read,
    /// Store values collected for a purpose.
    Collect,
    /// Hand values to a recipient for a purpose.
    Disclose,
}

/// Who is asking: the API key and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub key_id: String,
    pub role: Role,
    /// For an app key: the only purposes it may act for. None: any purpose of the policy.
    pub purposes: Option<Vec<PurposeId>>,
}

/// The facts about the person that the decision depends on.
#[derive(Debug, Clone, Copy)]
pub struct SubjectFacts<'a> {
    pub birth_date: Option<Date>,
    pub consents: &'a [ConsentEvent],
}

/// One question: may `caller` do `action` for `purpose` with `categories`?
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub action: Action,
    pub purpose: &'a PurposeId,
    pub categories: &'a [Category],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    PurposeUnknown,
    PurposeForbidden,
    CallerNotAllowed,
    CallerPurposeNotAllowed,
    CategoryUnknown,
    CategoryNotAllowed,
    NoConsent,
    ConsentWithdrawn,
    ConsentExpired,
    /// Consent was given under a policy version older than the purpose's present form
    /// (a purpose added or widened by a later version): it must be given again.
    FreshConsentRequired,
    MinorWithoutParentalConsent,
    RecipientUnknown,
    RecipientPurposeNotAllowed,
    RecipientCategoryNotAllowed,
}

impl ReasonCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::PurposeUnknown => "purpose_unknown",
            ReasonCode::PurposeForbidden => "purpose_forbidden",
            ReasonCode::CallerNotAllowed => "caller_not_allowed",
            ReasonCode::CallerPurposeNotAllowed => "caller_purpose_not_allowed",
            ReasonCode::CategoryUnknown => "category_unknown",
            ReasonCode::CategoryNotAllowed => "category_not_allowed",
            ReasonCode::NoConsent => "no_consent",
            ReasonCode::ConsentWithdrawn => "consent_withdrawn",
            ReasonCode::ConsentExpired => "consent_expired",
            ReasonCode::FreshConsentRequired => "fresh_consent_required",
            ReasonCode::MinorWithoutParentalConsent => "minor_without_parental_consent",
            ReasonCode::RecipientUnknown => "recipient_unknown",
            ReasonCode::RecipientPurposeNotAllowed => "recipient_purpose_not_allowed",
            ReasonCode::RecipientCategoryNotAllowed => "recipient_category_not_allowed",
        }
    }
}

/// One reason for a refusal. `detail` names purposes and categories, never values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub allowed: bool,
    pub reasons: Vec<Reason>,
}

impl Decision {
    pub fn has(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }
}

/// Age in whole years on `today`.
pub fn age_on(birth: Date, today: Date) -> i32 {
    let mut age = i32::from(today.year()) - i32::from(birth.year());
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// If `purpose`'s consent is granted at `now`, but under a policy version older than
/// the one since which the policy asks for it (`consent_since`, S5): (the version it
/// was given under, the version it must be given under or after).
pub fn stale_grant(
    policy: &Policy,
    events: &[ConsentEvent],
    purpose: &PurposeId,
    now: Timestamp,
) -> Option<(u32, u32)> {
    let since = *policy.consent_since.get(purpose)?;
    let last = ConsentEvent::last_for(events, purpose, now)?;
    let granted = matches!(
        ConsentState::derive(events, purpose, now),
        ConsentState::Granted { .. }
    );
    (granted && last.policy_version < since).then_some((last.policy_version, since))
}

/// The reasons the caller itself may not do `ask`, whoever it concerns: its role, or
/// a purpose its key is not allowed. Part of [`decide`]; also asked once before a
/// bulk action (a disclosure), which such a reason refuses as a whole.
pub fn caller_refusals(caller: &Caller, ask: &Ask<'_>) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let needed = match ask.action {
        Action::Read | Action::Disclose => Capability::ReadPersonalData,
        Action::Collect => Capability::WriteSubjects,
    };
    if !caller.role.may(needed) {
        reasons.push(Reason {
            code: ReasonCode::CallerNotAllowed,
            detail: format!(
                "a key with role {} may not {} personal data",
                caller.role,
                action_verb(ask.action)
            ),
        });
    }
    if let Some(allowed) = &caller.purposes
        && !allowed.contains(ask.purpose)
    {
        reasons.push(Reason {
            code: ReasonCode::CallerPurposeNotAllowed,
            detail: format!("this key is not allowed the purpose {}", ask.purpose),
        });
    }
    reasons
}

/// Decide. Pure: the same inputs always give the same answer.
pub fn decide(
    policy: &Policy,
    facts: &SubjectFacts<'_>,
    caller: &Caller,
    ask: &Ask<'_>,
    now: Timestamp,
) -> Decision {
    let mut reasons = caller_refusals(caller, ask);
    let mut refuse = |code: ReasonCode, detail: String| reasons.push(Reason { code, detail });
    let purpose_name = ask.purpose.as_str();

    let Some(purpose) = policy.purpose(ask.purpose) else {
        refuse(
            ReasonCode::PurposeUnknown,
            format!("the policy names no purpose {purpose_name}"),
        );
        return Decision {
            allowed: false,
            reasons,
        };
    };
    if purpose.forbidden {
        refuse(
            ReasonCode::PurposeForbidden,
            format!("the policy forbids the purpose {purpose_name}"),
        );
    }
    for category in ask.categories {
        if !policy.knows_category(category) {
            refuse(
                ReasonCode::CategoryUnknown,
                format!("the policy names no data category {category}"),
            );
        } else if !policy.purpose_allows(purpose, category) {
            refuse(
                ReasonCode::CategoryNotAllowed,
                format!("the purpose {purpose_name} may not use {category}"),
            );
        }
    }

    let derived = ConsentState::derive(facts.consents, ask.purpose, now);
    // A grant under a version older than the purpose's present form does not count (S5).
    let stale = stale_grant(policy, facts.consents, ask.purpose, now);
    let state = if stale.is_some() {
        ConsentState::None
    } else {
        derived
    };
    if purpose.basis == LegalBasis::Consent {
        match state {
            ConsentState::Granted { .. } => {}
            ConsentState::None if stale.is_some() => {
                let (given, since) = stale.unwrap_or_default();
                refuse(
                    ReasonCode::FreshConsentRequired,
                    format!(
                        "consent to {purpose_name} was given under policy version {given}; the purpose changed in version {since} and needs consent again"
                    ),
                )
            }
            ConsentState::None => refuse(
                ReasonCode::NoConsent,
                format!("{purpose_name} needs consent and none is recorded"),
            ),
            ConsentState::Withdrawn { at } => refuse(
                ReasonCode::ConsentWithdrawn,
                format!("consent to {purpose_name} was withdrawn at {at}"),
            ),
            ConsentState::Expired { at } => refuse(
                ReasonCode::ConsentExpired,
                format!("consent to {purpose_name} expired at {at}"),
            ),
        }
    }

    if let (Some(limit), Some(birth)) = (policy.parental_consent_age, facts.birth_date) {
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        if age_on(birth, today) < i32::from(limit) {
            let parental_ok = if purpose.basis == LegalBasis::Consent {
                matches!(
                    state,
                    ConsentState::Granted {
                        kind: ConsentKind::Parental,
                        ..
                    }
                )
            } else {
                // Other bases still need a parent involved: any live parental consent.
                ConsentState::all(facts.consents, now).iter().any(|(_, s)| {
                    matches!(
                        s,
                        ConsentState::Granted {
                            kind: ConsentKind::Parental,
                            ..
                        }
                    )
                })
            };
            if !parental_ok {
                refuse(
                    ReasonCode::MinorWithoutParentalConsent,
                    format!(
                        "the person is under {limit} and no parent's consent is recorded for {purpose_name}"
                    ),
                );
            }
        }
    }

    Decision {
        allowed: reasons.is_empty(),
        reasons,
    }
}

/// May `recipient` receive `categories` for `purpose` at all (R5, S4, R24)? The
/// per-person decision ([`decide`] with [`Action::Disclose`]) comes on top of this.
pub fn decide_recipient(
    policy: &Policy,
    recipient: &str,
    purpose: &PurposeId,
    categories: &[Category],
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let Some(r) = policy.recipient(recipient) else {
        reasons.push(Reason {
            code: ReasonCode::RecipientUnknown,
            detail: format!("the policy names no recipient {recipient}"),
        });
        return reasons;
    };
    if !r.purposes.contains(purpose) {
        reasons.push(Reason {
            code: ReasonCode::RecipientPurposeNotAllowed,
            detail: format!("{} may not receive data for {purpose}", r.name),
        });
    }
    for c in categories {
        if !r.categories.iter().any(|rc| c.is_within(rc)) {
            reasons.push(Reason {
                code: ReasonCode::RecipientCategoryNotAllowed,
                detail: format!("{} may not receive {c}", r.name),
            });
        }
    }
    reasons
}

fn action_verb(a: Action) -> &'static str {
    match a {
        Action::Read => "read",
        Action::Collect => "collect",
        Action::Disclose => "disclose",
    }
}

#[cfg(test)]
mod tests;
