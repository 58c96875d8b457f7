//! Breach notification as data: who must be told of a personal-data breach, by when,
//! above which risk, what the notice must say, and the pure functions that turn an
//! incident's facts into duties with due dates.
//!
//! The rules are a `breach:` section of a [`RulePack`] (`rules/*.yaml`, documented in
//! `docs/rules.md` and `docs/breaches.md`). Due dates reuse the request clock
//! arithmetic ([`add_term`]) in the pack's time zone and holiday calendar.
//!
//! # Interpretation choices (for review by counsel; also in `docs/breaches.md`)
//!
//! - Risk is three levels. `low`: no personal data in scope, or only data encrypted
//!   with keys that were not exposed (GDPR Art. 34(3)(a) "unintelligible"; the same
//!   reading is applied to Art. 33's "unlikely to result in a risk"). `high`: a
//!   sensitive category (the policy's `sensitive: true`) is involved and the data was
//!   readable. `medium`: everything else. A notice is owed when the incident's risk
//!   reaches the rule's `threshold`.
//! - A rule marked `encryption_exempt` is not owed when the data was encrypted and the
//!   keys were not exposed (California's safe harbour, GDPR Art. 34(3)(a)), whatever the
//!   risk.
//! - A rule without a fixed term (`within`) has no due date ("without undue delay",
//!   "as soon as feasible", "immediately"): it is shown with its wording, and a
//!   notification is never late against it. The policy's promise
//!   (`response_times.breach_notice_days`, calendar days in UTC from discovery) gives
//!   the individuals' notice a date; the strictest date wins.
//! - Clocks start at discovery (`discovered_at`), the earliest of the clock-start
//!   events the law names (aware, determined, discovered or notified).

use crate::calendar::CalendarSet;
use crate::jurisdiction::Jurisdiction;
use crate::pack::{RulePack, Tag};
use crate::term::{ClockKind, Term, add_term};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::collections::BTreeMap;

// The breach section of a rule pack is part of the pack's format; these paths stay.
pub use crate::pack::{Audience, BreachRules, NoticeRule, RiskLevel};

/// A person's coarse residence, read as a [`Jurisdiction`] (any case; returned in
/// upper case). The error names what is expected, never the value.
pub fn parse_residence(code: &str) -> Result<String, String> {
    Jurisdiction::parse(code)
        .map(String::from)
        .map_err(|e| e.to_string())
}

/// The risk of an incident (see the module docs).
pub fn risk(affected: u64, sensitive: bool, encrypted_keys_safe: bool) -> RiskLevel {
    if affected == 0 || encrypted_keys_safe {
        RiskLevel::Low
    } else if sensitive {
        RiskLevel::High
    } else {
        RiskLevel::Medium
    }
}

/// What the engine knows about an incident in one tenant, for [`duties`].
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub discovered: Timestamp,
    /// Affected people by residence (None: not recorded).
    pub residences: &'a BTreeMap<Option<String>, u64>,
    pub risk: RiskLevel,
    pub encrypted_keys_safe: bool,
    /// The tenant is a processor / service provider: its duty is to its client.
    pub processor: bool,
    /// The policy's promise to individuals, in calendar days (UTC).
    pub promise_days: Option<u32>,
}

/// The binding label of the policy's promise.
pub const BINDING_POLICY: &str = "policy";

/// The binding label of a processor's duty to its client.
pub const BINDING_PROCESSOR: &str = "processor";

crate::tenant::names!(
    /// Where a notification duty stands against its due date.
    DutyStatus {
        /// Considered, and not owed.
        NotRequired => "not_required",
        /// Owed, and made by its due date (or it has none).
        OnTime => "on_time",
        /// Owed, and made after its due date.
        Late => "late",
        /// Owed, and not made yet.
        Open => "open",
    }
);

impl DutyStatus {
    /// A duty's status from whether it is owed, when it was first met, and when it is due
    /// (two instants of the same kind).
    pub fn of<T: PartialOrd>(required: bool, told: Option<T>, due: Option<T>) -> DutyStatus {
        match (required, told, due) {
            (false, _, _) => DutyStatus::NotRequired,
            (true, Some(at), Some(due)) if at > due => DutyStatus::Late,
            (true, Some(_), _) => DutyStatus::OnTime,
            (true, None, _) => DutyStatus::Open,
        }
    }
}

/// One duty that applies (or was considered and is not owed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duty {
    pub audience: Audience,
    /// A pack id, or `policy` for the policy's promise.
    pub rule: String,
    pub to: String,
    pub law: String,
    /// Whether the notice is owed.
    pub required: bool,
    /// Why (or why not).
    pub reason: String,
    /// The affected people this duty is about (for individuals: those in the pack's
    /// scope plus those with no residence recorded).
    pub affected: u64,
    pub term: Option<Term>,
    pub timing: String,
    /// None: no fixed date (see `timing`).
    #[serde(with = "crate::wire::serde_time_opt")]
    pub due: Option<Timestamp>,
    pub tag: Option<Tag>,
    pub contents: Vec<String>,
    pub title: Option<String>,
}

/// People in `pack`'s scope, plus those with no residence recorded (who might be).
fn in_scope(pack: &RulePack, residences: &BTreeMap<Option<String>, u64>) -> u64 {
    residences
        .iter()
        .filter(|(r, _)| r.as_deref().is_none_or(|r| pack.covers_residence(r)))
        .map(|(_, n)| *n)
        .sum()
}

/// The notice duties of an incident under `packs` (those the tenant's policy switches
/// on, see [`crate::deadline::applicable`]): for a controller the authority and the
/// individuals, for a processor its clients. A pack counts when at least one affected
/// person is in its scope (or has no residence recorded); for clients, whenever the
/// pack is switched on. The policy's promise adds an individuals' duty of its own.
pub fn duties(packs: &[&RulePack], calendars: &CalendarSet, f: &Facts<'_>) -> Vec<Duty> {
    let total: u64 = f.residences.values().sum();
    let mut out = Vec::new();
    for p in packs {
        let Some(b) = &p.breach else { continue };
        let tz = p.time_zone().unwrap_or(TimeZone::UTC);
        let cal = p.calendar.as_deref().and_then(|c| calendars.get(c));
        for (aud, rule) in &b.notices {
            let ours = match aud {
                Audience::Clients => f.processor,
                _ => !f.processor,
            };
            if !ours {
                continue;
            }
            let affected = if *aud == Audience::Clients {
                total
            } else {
                in_scope(p, f.residences)
            };
            if affected == 0 {
                continue;
            }
            let (required, reason) = if rule.min_affected.is_some_and(|m| affected < m) {
                (
                    false,
                    format!(
                        "not owed: {affected} affected, the law asks from {}",
                        rule.min_affected.unwrap_or_default()
                    ),
                )
            } else if rule.encryption_exempt && f.encrypted_keys_safe {
                (
                    false,
                    "not owed: the data was encrypted and the keys were not exposed".to_string(),
                )
            } else if f.risk < rule.threshold {
                (
                    false,
                    format!(
                        "not owed: the risk is {}, the law asks from {}",
                        f.risk, rule.threshold
                    ),
                )
            } else {
                (
                    true,
                    format!("owed: risk {} reaches {}", f.risk, rule.threshold),
                )
            };
            out.push(Duty {
                audience: *aud,
                rule: p.id.clone(),
                to: rule.to.clone(),
                law: b.law.clone(),
                required,
                reason,
                affected,
                term: rule.within,
                timing: rule.timing.clone(),
                due: rule.within.map(|t| add_term(f.discovered, t, &tz, cal)),
                tag: Some(rule.tag),
                contents: rule.contents.clone(),
                title: rule.title.clone(),
            });
        }
    }
    if f.processor && total > 0 {
        // R16 (the service-provider profile): active clients hear as soon as possible,
        // whatever the law adds above.
        out.push(Duty {
            audience: Audience::Clients,
            rule: BINDING_PROCESSOR.to_string(),
            to: "the controlling client".to_string(),
            law: "the processor's contract with its client (R16)".to_string(),
            required: true,
            reason: "owed: the tenant processes this data for a client".to_string(),
            affected: total,
            term: None,
            timing: "as soon as possible".to_string(),
            due: None,
            tag: None,
            contents: Vec::new(),
            title: None,
        });
    }
    if let (Some(days), false) = (f.promise_days, f.processor) {
        // The promise follows California's safe harbour: encrypted data with safe keys
        // is not a breach the people must hear of.
        let required = !f.encrypted_keys_safe;
        if total > 0 {
            out.push(Duty {
                audience: Audience::Individuals,
                rule: BINDING_POLICY.to_string(),
                to: "the affected people".to_string(),
                law: "the organisation's privacy policy".to_string(),
                required,
                reason: if required {
                    format!("the policy promises notice within {days} days")
                } else {
                    "not owed: the data was encrypted and the keys were not exposed".to_string()
                },
                affected: total,
                term: Some(Term::calendar_days(days)),
                timing: format!("within {days} days"),
                due: Some(add_term(
                    f.discovered,
                    Term::calendar_days(days),
                    &TimeZone::UTC,
                    None,
                )),
                tag: None,
                contents: Vec::new(),
                title: None,
            });
        }
    }
    out
}

/// The strictest due date per audience among the owed duties: (due, binding rule).
/// Ties go to the rule listed first. An audience with owed duties but no fixed date
/// maps to `(None, first rule)`.
pub fn strictest(duties: &[Duty]) -> BTreeMap<Audience, (Option<Timestamp>, String)> {
    let mut out: BTreeMap<Audience, (Option<Timestamp>, String)> = BTreeMap::new();
    for d in duties.iter().filter(|d| d.required) {
        match out.get(&d.audience) {
            None => {
                out.insert(d.audience, (d.due, d.rule.clone()));
            }
            Some((cur, _)) => {
                if let Some(due) = d.due
                    && cur.is_none_or(|c| due < c)
                {
                    out.insert(d.audience, (Some(due), d.rule.clone()));
                }
            }
        }
    }
    out
}

/// The longest record-keeping term of the packs' breach rules, if any.
pub fn keep_records(packs: &[&RulePack]) -> Option<(Term, String)> {
    packs
        .iter()
        .filter_map(|p| {
            p.breach
                .as_ref()
                .and_then(|b| b.keep_records)
                .map(|t| (t, p.id.clone()))
        })
        .max_by_key(|(t, _)| approx_days(*t))
}

fn approx_days(t: Term) -> u64 {
    use ClockKind::*;
    let n = u64::from(t.amount);
    match t.clock {
        CalendarDays => n,
        BusinessDays => n * 7 / 5 + 1,
        CalendarMonths => n * 31,
        Hours => n.div_ceil(24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn residence_codes() {
        for ok in ["US-CA", "ca-sk", "GB", "DE", "FR-75", "CA-QC"] {
            assert!(parse_residence(ok).is_ok(), "{ok}");
        }
        assert_eq!(parse_residence(" us-ca ").unwrap(), "US-CA");
        for bad in ["", "U", "USA", "US-", "US-CALI", "1S", "US CA", "US-C@"] {
            let e = parse_residence(bad).unwrap_err();
            assert!(e.contains("region code"), "{bad}: {e}");
        }
    }

    #[test]
    fn risk_levels() {
        assert_eq!(risk(0, true, false), RiskLevel::Low);
        assert_eq!(risk(5, false, false), RiskLevel::Medium);
        assert_eq!(risk(5, true, false), RiskLevel::High);
        assert_eq!(risk(5, true, true), RiskLevel::Low);
    }

    #[test]
    fn strictest_takes_the_earliest_fixed_date() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let duty = |rule: &str, due: Option<Timestamp>, required| Duty {
            audience: Audience::Individuals,
            rule: rule.into(),
            to: String::new(),
            law: String::new(),
            required,
            reason: String::new(),
            affected: 1,
            term: None,
            timing: String::new(),
            due,
            tag: None,
            contents: vec![],
            title: None,
        };
        let d = [
            duty("EU", None, true),
            duty("US-CA", Some(t("2026-12-20T00:00:00Z")), true),
            duty("policy", Some(t("2026-12-10T00:00:00Z")), true),
            duty("BR", Some(t("2026-12-01T00:00:00Z")), false),
        ];
        let s = strictest(&d);
        assert_eq!(
            s[&Audience::Individuals],
            (Some(t("2026-12-10T00:00:00Z")), "policy".to_string())
        );
    }
}
