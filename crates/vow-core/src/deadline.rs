//! Legal deadlines for data-subject requests: rule packs as data, clock arithmetic,
//! and the strictest-wins combination of the law and the policy's promise.
//!
//! A [`RulePack`] is one jurisdiction's rules, read from `rules/*.yaml` (see
//! `docs/rules.md` for the format and the values shipped). This module only holds
//! the nouns and the pure functions:
//!
//! - [`add_term`]: a received instant plus a [`Term`] ("45 calendar_days"), in the
//!   pack's time zone and holiday calendar.
//! - [`applicable`]: which packs govern a request, from the tenant's policy
//!   (jurisdictions it lists) and the requester's declared residence.
//! - [`due_dates`]: the acknowledgement, response and latest extended dates, the
//!   strictest of every applicable pack and the policy's promise.
//!
//! Time zones are looked up by IANA name in jiff's database (the system tzdata, read
//! once and cached); that lookup is the only contact with the environment.
//!
//! # Interpretation choices (for review by counsel; also in `docs/rules.md`)
//!
//! - Day counts never count the day of receipt; the due instant is the end of the due
//!   day (23:59:59.999) in the pack's time zone. The receipt's local date decides the
//!   first day, so a request received at 23:30 in Los Angeles (07:30 UTC the next day)
//!   counts from its Los Angeles date.
//! - Calendar days are not rolled forward when the last day is a weekend or holiday,
//!   although several Interpretation Acts (Canada s.26, California CCP §12a, Virginia
//!   §1-210) would allow the next working day. Not rolling is never later than the
//!   law allows.
//! - Business days: Saturday, Sunday and the pack calendar's holidays are skipped; a
//!   request received on a non-business day has its first counted day on the next
//!   business day (Saturday receipt + 10 business days = the second Friday after).
//! - Calendar months (GDPR/UK GDPR): the same date in the later month; if that month
//!   is shorter, its last day; then the next working day if that date is a Saturday,
//!   Sunday or calendar holiday (ICO guidance, verified; Reg. 1182/71 Art. 3(4) for the EU,
//!   unverified). An extension of a monthly period is counted from receipt ("3 months from
//!   the original start", ICO), not from the first due date.
//! - The policy's promise is in calendar days, counted in UTC (a policy has no time
//!   zone of its own). RULES.md §11 P1: the promise removes the legal extensions
//!   unless the policy says otherwise, so the promise is also a cap on extensions.
//! - With nothing else to go on (no pack, no promise) the response is due 30 calendar
//!   days after receipt (UTC), with binding `"default"`.

use crate::calendar::{Calendar, CalendarSet};
use crate::policy::ResponseTimes;
use crate::request::{RequestType, RequesterKind};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

// The pack format and the term arithmetic have modules of their own (`pack`, `term`);
// they stay reachable here, where callers have always found them.
pub use crate::pack::{
    Activation, Appeal, Extension, RequestRule, RulePack, Source, Tag, Verification,
    VerificationLevel,
};
pub use crate::term::{ClockKind, Term, TermError, add_term, extension_cap};

/// The packs that govern a request.
///
/// A pack applies when the tenant's policy switches it on ([`RulePack::activated_by`]:
/// by default a policy code equal to the pack id or containing it; marketing packs
/// such as `CA-CASL` and `US-CANSPAM` by any code of their country) AND the declared
/// residence is within the pack's scope. With no residence declared (or an empty
/// one), every pack the policy switches on applies, and the strictest wins. Codes are
/// compared case-insensitively; `GB` and `UK` are the same.
pub fn applicable<'a>(
    packs: &'a [RulePack],
    policy_jurisdictions: &[String],
    residence: Option<&str>,
) -> Vec<&'a RulePack> {
    let residence = residence.map(str::trim).filter(|r| !r.is_empty());
    packs
        .iter()
        .filter(|p| {
            p.activated_by(policy_jurisdictions) && residence.is_none_or(|r| p.covers_residence(r))
        })
        .collect()
}

/// The days the policy promises for a request type, if any: `per_type[type]`, else
/// for opt-outs and unsubscribes `opt_out_days`, else `requests_days`.
pub fn promised_days(promise: &ResponseTimes, request: RequestType) -> Option<u32> {
    promise
        .per_type
        .get(request.as_str())
        .copied()
        .or(
            if matches!(request, RequestType::OptOut | RequestType::Unsubscribe) {
                promise.opt_out_days
            } else {
                None
            },
        )
        .or(promise.requests_days)
}

/// The binding label for the policy's promise.
pub const BINDING_POLICY: &str = "policy";
/// The binding label for the fallback when nothing else applies.
pub const BINDING_DEFAULT: &str = "default";
/// The fallback response time when no pack and no promise applies.
pub const DEFAULT_RESPONSE: Term = Term::calendar_days(30);

/// What [`due_dates`] works out for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueDates {
    pub request: RequestType,
    #[serde(with = "crate::wire::serde_time")]
    pub received: Timestamp,
    /// Acknowledge receipt by then (the earliest of the packs' and the promise's
    /// acknowledgement terms, and never after the response). None: nobody asks for
    /// a separate acknowledgement.
    #[serde(with = "crate::wire::serde_time_opt")]
    pub acknowledgement: Option<Timestamp>,
    /// What set the acknowledgement date: a pack id, `policy`, or (when the response
    /// comes first) the response's binding.
    pub acknowledgement_binding: Option<String>,
    /// Respond by then: the earliest of every applicable pack's term and the promise.
    #[serde(with = "crate::wire::serde_time")]
    pub response: Timestamp,
    /// What set the response date: a pack id, `policy` or `default`. Ties go to the
    /// policy, then to the first pack.
    pub binding: String,
    /// The pack ids whose rules for this request type were applied.
    pub applied: Vec<String>,
    /// The promise's due date, if the policy makes one for this request type.
    #[serde(with = "crate::wire::serde_time_opt")]
    pub promise: Option<Timestamp>,
    /// The latest date an extension may take the response to, honouring every
    /// applicable pack's cap (a pack without an extension caps at its own response
    /// date) and the promise. None: no extension is possible (the latest permissible
    /// date is `response`).
    #[serde(with = "crate::wire::serde_time_opt")]
    pub extended_max: Option<Timestamp>,
    /// An extension must be notified by then (the first deadline), when one is possible
    /// and any applicable law asks for notice.
    #[serde(with = "crate::wire::serde_time_opt")]
    pub extension_notice_by: Option<Timestamp>,
    /// The extension notice must give reasons.
    pub extension_reason_required: bool,
    /// The extension notice must state the right to complain (PIPEDA).
    pub extension_complaint_statement: bool,
    /// Every applied pack allows the clock to pause, and no promise applies (a
    /// promise of n days does not pause).
    pub clock_pauses: bool,
    /// The strictest verification of the applied packs (level `none` when no pack
    /// applies: no law sets one).
    pub verification: Verification,
    /// Who may submit, under any applied pack (the union).
    pub submitters: Vec<RequesterKind>,
}

struct Applied<'a> {
    pack: &'a RulePack,
    rule: &'a RequestRule,
    tz: TimeZone,
    calendar: Option<&'a Calendar>,
}

/// The earliest candidate; ties go to the first.
fn earliest(
    candidates: impl IntoIterator<Item = (Timestamp, String)>,
) -> Option<(Timestamp, String)> {
    let mut best: Option<(Timestamp, String)> = None;
    for (t, who) in candidates {
        if best.as_ref().is_none_or(|(b, _)| t < *b) {
            best = Some((t, who));
        }
    }
    best
}

/// The due dates for a request received at `received`, under `packs` (as chosen by
/// [`applicable`]) and the policy's promise. See the module docs for how each date
/// is counted and combined:
///
/// - response = min(every pack's `respond`, the promise for the type); none at all →
///   30 calendar days, binding `default`.
/// - acknowledgement = min(every pack's `acknowledge`, the promise's
///   `acknowledgement_days`), never after the response.
/// - extended_max = min over applied packs of their cap (`received + respond + add`,
///   or the pack's own response date without an extension) and the promise; None if
///   that is not after the response. A binding promise therefore allows no extension.
///
/// A pack whose time zone is unknown is counted in UTC, and an unknown calendar as
/// weekends only (a validated rule book has neither).
pub fn due_dates(
    packs: &[&RulePack],
    calendars: &CalendarSet,
    request: RequestType,
    received: Timestamp,
    promise: &ResponseTimes,
) -> DueDates {
    let applied: Vec<Applied<'_>> = packs
        .iter()
        .filter_map(|p| {
            p.rule(request).map(|rule| Applied {
                pack: p,
                rule,
                tz: p.time_zone().unwrap_or(TimeZone::UTC),
                calendar: p.calendar.as_deref().and_then(|c| calendars.get(c)),
            })
        })
        .collect();
    let utc = TimeZone::UTC;
    let promise_due = promised_days(promise, request)
        .map(|days| add_term(received, Term::calendar_days(days), &utc, None));
    let promise_ack = promise
        .acknowledgement_days
        .map(|days| add_term(received, Term::calendar_days(days), &utc, None));

    // Response: ties go to the policy (listed first), then to the first pack.
    let responses = promise_due
        .map(|t| (t, BINDING_POLICY.to_string()))
        .into_iter()
        .chain(applied.iter().map(|a| {
            (
                add_term(received, a.rule.respond, &a.tz, a.calendar),
                a.pack.id.clone(),
            )
        }));
    let (response, binding) = earliest(responses).unwrap_or_else(|| {
        (
            add_term(received, DEFAULT_RESPONSE, &utc, None),
            BINDING_DEFAULT.to_string(),
        )
    });

    let acks = promise_ack
        .map(|t| (t, BINDING_POLICY.to_string()))
        .into_iter()
        .chain(applied.iter().filter_map(|a| {
            a.rule.acknowledge.map(|term| {
                (
                    add_term(received, term, &a.tz, a.calendar),
                    a.pack.id.clone(),
                )
            })
        }));
    let (acknowledgement, acknowledgement_binding) = match earliest(acks) {
        Some((t, _)) if t > response => (Some(response), Some(binding.clone())),
        Some((t, who)) => (Some(t), Some(who)),
        None => (None, None),
    };

    // Extension: every applied pack and the promise cap it.
    let mut latest = promise_due.unwrap_or(Timestamp::MAX);
    let mut any_notice = false;
    let mut any_reason = false;
    let mut any_complaint = false;
    for a in &applied {
        let cap = match a.rule.extension {
            Some(ext) => {
                any_notice |= ext.notice_before_first_deadline;
                any_reason |= ext.reason_required;
                any_complaint |= ext.complaint_statement;
                extension_cap(received, a.rule.respond, ext.add, &a.tz, a.calendar)
            }
            None => add_term(received, a.rule.respond, &a.tz, a.calendar),
        };
        latest = latest.min(cap);
    }
    let extended_max = (!applied.is_empty() && latest > response).then_some(latest);
    let extendable = extended_max.is_some();

    let verification = applied.iter().fold(Verification::default(), |v, a| {
        v.stricter(a.rule.verification)
    });
    let mut submitters: Vec<RequesterKind> = Vec::new();
    for a in &applied {
        for k in &a.rule.submitters {
            if !submitters.contains(k) {
                submitters.push(*k);
            }
        }
    }

    DueDates {
        request,
        received,
        acknowledgement,
        acknowledgement_binding,
        response,
        binding,
        applied: applied.iter().map(|a| a.pack.id.clone()).collect(),
        promise: promise_due,
        extended_max,
        extension_notice_by: (extendable && any_notice).then_some(response),
        extension_reason_required: extendable && any_reason,
        extension_complaint_statement: extendable && any_complaint,
        clock_pauses: !applied.is_empty()
            && promise_due.is_none()
            && applied.iter().all(|a| a.rule.clock_pauses),
        verification,
        submitters,
    }
}

/// When an appeal received at `appeal_received` must be decided: the earliest of the
/// applicable packs' appeal terms for the request type, with the pack id. None: no
/// applicable law has an appeal for it.
pub fn appeal_due(
    packs: &[&RulePack],
    calendars: &CalendarSet,
    request: RequestType,
    appeal_received: Timestamp,
) -> Option<(Timestamp, String)> {
    earliest(packs.iter().filter_map(|p| {
        let appeal = p.rule(request)?.appeal?;
        let tz = p.time_zone().unwrap_or(TimeZone::UTC);
        let cal = p.calendar.as_deref().and_then(|c| calendars.get(c));
        Some((
            add_term(appeal_received, appeal.respond, &tz, cal),
            p.id.clone(),
        ))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Holiday, HolidayRule, Observed, Weekday};
    use jiff::SignedDuration;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn uk() -> Calendar {
        let h = |name: &str, rule| Holiday {
            name: name.into(),
            rule,
            from_year: None,
            until_year: None,
        };
        Calendar {
            id: "uk".into(),
            name: "UK".into(),
            holidays: vec![
                h(
                    "New Year",
                    HolidayRule::Fixed {
                        month: 1,
                        day: 1,
                        observed: Observed::NextWeekday,
                    },
                ),
                h("Good Friday", HolidayRule::EasterOffset { days: -2 }),
                h("Easter Monday", HolidayRule::EasterOffset { days: 1 }),
                h(
                    "Early May",
                    HolidayRule::NthWeekday {
                        month: 5,
                        weekday: Weekday::Monday,
                        n: 1,
                    },
                ),
                h(
                    "Christmas",
                    HolidayRule::Fixed {
                        month: 12,
                        day: 25,
                        observed: Observed::NextWeekday,
                    },
                ),
                h(
                    "Boxing",
                    HolidayRule::Fixed {
                        month: 12,
                        day: 26,
                        observed: Observed::NextWeekday,
                    },
                ),
            ],
            extra: vec![],
            except: vec![],
            note: None,
        }
    }

    fn us() -> Calendar {
        let f = |name: &str, month, day| Holiday {
            name: name.into(),
            rule: HolidayRule::Fixed {
                month,
                day,
                observed: Observed::NearestWeekday,
            },
            from_year: None,
            until_year: None,
        };
        Calendar {
            id: "us".into(),
            name: "US".into(),
            holidays: vec![
                f("New Year", 1, 1),
                f("Independence", 7, 4),
                f("Christmas", 12, 25),
                Holiday {
                    name: "Thanksgiving".into(),
                    rule: HolidayRule::NthWeekday {
                        month: 11,
                        weekday: Weekday::Thursday,
                        n: 4,
                    },
                    from_year: None,
                    until_year: None,
                },
            ],
            extra: vec![],
            except: vec![],
            note: None,
        }
    }

    #[test]
    fn terms_read_and_write() {
        for (text, term) in [
            ("45 calendar_days", Term::calendar_days(45)),
            ("10 business_days", Term::business_days(10)),
            ("1 calendar_months", Term::calendar_months(1)),
            ("1 calendar_month", Term::calendar_months(1)),
            ("72 hours", Term::hours(72)),
            ("  3   hour ", Term::hours(3)),
        ] {
            assert_eq!(text.parse::<Term>().unwrap(), term, "{text}");
        }
        assert_eq!(Term::calendar_days(45).to_string(), "45 calendar_days");
        for bad in [
            "",
            "45",
            "days",
            "45 days",
            "-1 hours",
            "+1 hours",
            "1.5 hours",
            "45 calendar_days x",
            "100001 hours",
        ] {
            assert!(bad.parse::<Term>().is_err(), "{bad}");
        }
        let j = serde_json::to_string(&Term::hours(72)).unwrap();
        assert_eq!(j, "\"72 hours\"");
        assert_eq!(serde_json::from_str::<Term>(&j).unwrap(), Term::hours(72));
    }

    #[test]
    fn calendar_days_end_at_the_end_of_the_local_day() {
        let la = tz("America/Los_Angeles");
        // CCPA: 45 calendar days from Friday 20 November 2026.
        assert_eq!(
            add_term(
                ts("2026-11-20T10:00:00-08:00"),
                Term::calendar_days(45),
                &la,
                None
            ),
            ts("2027-01-04T23:59:59.999-08:00")
        );
        // Received 23:30 in Los Angeles = 07:30 UTC the next day: counted from the
        // Los Angeles date, and from the UTC date in UTC.
        let late = ts("2026-06-30T23:30:00-07:00");
        assert_eq!(
            add_term(late, Term::calendar_days(1), &la, None),
            ts("2026-07-01T23:59:59.999-07:00")
        );
        assert_eq!(
            add_term(late, Term::calendar_days(1), &TimeZone::UTC, None),
            ts("2026-07-02T23:59:59.999Z")
        );
        // A week across the spring-forward change (8 March 2026) and the fall-back
        // change (1 November 2026): the day still ends at local 23:59:59.999.
        assert_eq!(
            add_term(
                ts("2026-03-07T12:00:00-08:00"),
                Term::calendar_days(7),
                &la,
                None
            ),
            ts("2026-03-14T23:59:59.999-07:00")
        );
        assert_eq!(
            add_term(
                ts("2026-10-31T12:00:00-07:00"),
                Term::calendar_days(1),
                &la,
                None
            ),
            ts("2026-11-01T23:59:59.999-08:00")
        );
        // Not rolled off a weekend: 30 days from 30 January 2026 is Sunday 1 March.
        assert_eq!(
            add_term(
                ts("2026-01-30T12:00:00Z"),
                Term::calendar_days(30),
                &TimeZone::UTC,
                None
            ),
            ts("2026-03-01T23:59:59.999Z")
        );
    }

    #[test]
    fn hours_are_exact_across_dst() {
        let ny = tz("America/New_York");
        let t = ts("2026-10-31T12:00:00-04:00");
        assert_eq!(
            add_term(t, Term::hours(72), &ny, None),
            ts("2026-11-03T11:00:00-05:00")
        );
        assert_eq!(add_term(t, Term::hours(0), &ny, None), t);
    }

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        let la = tz("America/Los_Angeles");
        let us = us();
        // Friday before Thanksgiving week: Thanksgiving (26 Nov) is skipped.
        assert_eq!(
            add_term(
                ts("2026-11-20T10:00:00-08:00"),
                Term::business_days(10),
                &la,
                Some(&us)
            ),
            ts("2026-12-07T23:59:59.999-08:00")
        );
        // Received on a Saturday: Monday is the first day counted.
        assert_eq!(
            add_term(
                ts("2026-11-21T10:00:00-08:00"),
                Term::business_days(1),
                &la,
                Some(&us)
            ),
            ts("2026-11-23T23:59:59.999-08:00")
        );
        // Without a calendar Thanksgiving counts.
        assert_eq!(
            add_term(
                ts("2026-11-20T10:00:00-08:00"),
                Term::business_days(10),
                &la,
                None
            ),
            ts("2026-12-04T23:59:59.999-08:00")
        );
        // Observed holidays: 4 July 2026 (Saturday) observed Friday 3 July.
        assert_eq!(
            add_term(
                ts("2026-07-02T10:00:00-07:00"),
                Term::business_days(1),
                &la,
                Some(&us)
            ),
            ts("2026-07-06T23:59:59.999-07:00")
        );
    }

    #[test]
    fn months_clamp_at_month_end_then_roll_to_a_working_day() {
        let london = tz("Europe/London");
        let uk = uk();
        let m = |s: &str, n: u32| add_term(ts(s), Term::calendar_months(n), &london, Some(&uk));
        // 31 January 2027 + 1 month → 28 February 2027 (Sunday) → Monday 1 March.
        assert_eq!(m("2027-01-31T10:00:00Z", 1), ts("2027-03-01T23:59:59.999Z"));
        // 2028 is a leap year: 31 January → Tuesday 29 February.
        assert_eq!(m("2028-01-31T10:00:00Z", 1), ts("2028-02-29T23:59:59.999Z"));
        // The leap day itself: + 1 month → 29 March; + 12 months → 28 February 2029.
        assert_eq!(
            m("2028-02-29T10:00:00Z", 1),
            ts("2028-03-29T23:59:59.999+01:00")
        );
        assert_eq!(
            m("2028-02-29T10:00:00Z", 12),
            ts("2029-02-28T23:59:59.999Z")
        );
        // Due on Easter Monday 2026 (6 April) → Tuesday 7 April.
        assert_eq!(
            m("2026-03-06T09:00:00Z", 1),
            ts("2026-04-07T23:59:59.999+01:00")
        );
        // Due on Christmas 2027 (Saturday): Sunday, then the substitute days Monday 27
        // and Tuesday 28 → Wednesday 29 December.
        assert_eq!(m("2027-11-25T10:00:00Z", 1), ts("2027-12-29T23:59:59.999Z"));
        // Received 23:30 BST on 31 March (22:30 UTC): 30 April, not 1 May.
        assert_eq!(
            m("2026-03-31T22:30:00Z", 1),
            ts("2026-04-30T23:59:59.999+01:00")
        );
        // Without a calendar only weekends roll: Easter Monday counts as a working day.
        assert_eq!(
            add_term(
                ts("2026-03-06T09:00:00Z"),
                Term::calendar_months(1),
                &london,
                None
            ),
            ts("2026-04-06T23:59:59.999+01:00")
        );
    }

    #[test]
    fn extension_caps_count_months_from_receipt() {
        let brussels = tz("Europe/Brussels");
        // 31 January 2027 + 3 months = 30 April 2027 (Friday), not (1 March + 2 months).
        assert_eq!(
            extension_cap(
                ts("2027-01-31T10:00:00+01:00"),
                Term::calendar_months(1),
                Term::calendar_months(2),
                &brussels,
                None
            ),
            ts("2027-04-30T23:59:59.999+02:00")
        );
        // Mixed clocks are chained.
        assert_eq!(
            extension_cap(
                ts("2026-01-01T12:00:00Z"),
                Term::calendar_days(1),
                Term::hours(1),
                &TimeZone::UTC,
                None
            ),
            ts("2026-01-03T00:59:59.999Z")
        );
    }

    #[test]
    fn huge_terms_saturate() {
        let t = ts("2026-01-01T00:00:00Z");
        assert_eq!(
            add_term(
                t,
                Term::calendar_days(Term::MAX_AMOUNT + 1),
                &TimeZone::UTC,
                None
            ),
            Timestamp::MAX
        );
        assert_eq!(
            add_term(
                Timestamp::MAX,
                Term::calendar_months(1),
                &TimeZone::UTC,
                None
            ),
            Timestamp::MAX
        );
        assert_eq!(
            add_term(Timestamp::MAX, Term::hours(1), &TimeZone::UTC, None),
            Timestamp::MAX
        );
        assert!(
            add_term(
                t,
                Term::business_days(Term::MAX_AMOUNT),
                &TimeZone::UTC,
                None
            ) > t
        );
    }

    fn rule(respond: Term, extension: Option<Term>) -> RequestRule {
        RequestRule {
            acknowledge: None,
            respond,
            extension: extension.map(|add| Extension {
                add,
                notice_before_first_deadline: true,
                reason_required: true,
                complaint_statement: false,
            }),
            clock_pauses: false,
            verification: Verification::default(),
            submitters: vec![RequesterKind::Subject],
            appeal: None,
            tag: Tag::V,
            note: None,
        }
    }

    fn pack(
        id: &str,
        tz: &str,
        scope: &[&str],
        rules: Vec<(RequestType, RequestRule)>,
    ) -> RulePack {
        RulePack {
            id: id.into(),
            name: id.into(),
            law: id.into(),
            timezone: tz.into(),
            calendar: None,
            scope: scope.iter().map(|s| s.to_string()).collect(),
            activation: Activation::Listed,
            requests: rules.into_iter().collect(),
            breach: None,
            sources: vec![],
            note: None,
        }
    }

    fn codes(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn applicability() {
        let mut casl = pack("CA-CASL", "America/Toronto", &["CA"], vec![]);
        casl.activation = Activation::Country;
        let mut canspam = pack("US-CANSPAM", "America/New_York", &["US"], vec![]);
        canspam.activation = Activation::Country;
        let packs = vec![
            pack("US-CA", "America/Los_Angeles", &["US-CA"], vec![]),
            pack("CA", "America/Toronto", &["CA"], vec![]),
            pack("CA-QC", "America/Toronto", &["CA-QC"], vec![]),
            pack("EU", "Europe/Brussels", &["EU", "DE", "FR"], vec![]),
            pack("UK", "Europe/London", &["UK", "GB"], vec![]),
            casl,
            canspam,
        ];
        let ids = |j: &[&str], r: Option<&str>| -> Vec<String> {
            applicable(&packs, &codes(j), r)
                .into_iter()
                .map(|p| p.id.clone())
                .collect()
        };
        let research = ["CA", "CA-QC", "US-CA"];
        assert_eq!(ids(&research, Some("CA-SK")), ["CA", "CA-CASL"]);
        assert_eq!(ids(&research, Some("CA-QC")), ["CA", "CA-QC", "CA-CASL"]);
        assert_eq!(ids(&research, Some("US-CA")), ["US-CA", "US-CANSPAM"]);
        assert_eq!(ids(&research, Some("US-NV")), ["US-CANSPAM"]);
        assert_eq!(ids(&research, Some("FR")), Vec::<String>::new());
        assert_eq!(
            ids(&research, None),
            ["US-CA", "CA", "CA-QC", "CA-CASL", "US-CANSPAM"]
        );
        assert_eq!(ids(&research, Some("  ")), ids(&research, None));
        // "CA" covers the Québec pack; "CA-QC" alone does not switch PIPEDA on.
        assert_eq!(ids(&["CA"], Some("CA-QC")), ["CA", "CA-QC", "CA-CASL"]);
        assert_eq!(ids(&["CA-QC"], Some("CA-QC")), ["CA-QC", "CA-CASL"]);
        // "US" covers the state packs; case and GB/UK do not matter.
        assert_eq!(ids(&["us"], Some("us-ca")), ["US-CA", "US-CANSPAM"]);
        assert_eq!(ids(&["GB"], Some("GB-SCT")), ["UK"]);
        assert_eq!(ids(&["EU"], Some("DE-BY")), ["EU"]);
        assert_eq!(ids(&[], None), Vec::<String>::new());
    }

    fn promise(days: Option<u32>) -> ResponseTimes {
        ResponseTimes {
            requests_days: days,
            ..ResponseTimes::default()
        }
    }

    #[test]
    fn strictest_wins_and_a_binding_promise_removes_extensions() {
        let ccpa = pack(
            "US-CA",
            "America/Los_Angeles",
            &["US-CA"],
            vec![(
                RequestType::Know,
                rule(Term::calendar_days(45), Some(Term::calendar_days(45))),
            )],
        );
        let lgpd = pack(
            "BR",
            "America/Sao_Paulo",
            &["BR"],
            vec![(RequestType::Know, rule(Term::calendar_days(15), None))],
        );
        let cal = CalendarSet::new();
        let r = ts("2026-11-20T10:00:00-08:00");
        let d = due_dates(&[&ccpa], &cal, RequestType::Know, r, &promise(None));
        assert_eq!(d.binding, "US-CA");
        assert_eq!(d.response, ts("2027-01-04T23:59:59.999-08:00"));
        assert_eq!(d.extended_max, Some(ts("2027-02-18T23:59:59.999-08:00")));
        assert_eq!(d.extension_notice_by, Some(d.response));
        assert!(d.extension_reason_required && !d.extension_complaint_statement);

        // A 30-day promise binds and removes the extension.
        let d = due_dates(&[&ccpa], &cal, RequestType::Know, r, &promise(Some(30)));
        assert_eq!(d.binding, "policy");
        assert_eq!(d.response, ts("2026-12-20T23:59:59.999Z"));
        assert_eq!(d.extended_max, None);
        assert_eq!(d.extension_notice_by, None);

        // A 60-day promise does not bind but still caps the extension.
        let d = due_dates(&[&ccpa], &cal, RequestType::Know, r, &promise(Some(60)));
        assert_eq!(d.binding, "US-CA");
        assert_eq!(d.extended_max, Some(ts("2027-01-19T23:59:59.999Z")));

        // A law without an extension caps everyone's extension at its own date.
        let d = due_dates(&[&ccpa, &lgpd], &cal, RequestType::Know, r, &promise(None));
        assert_eq!(d.binding, "BR");
        assert_eq!(d.applied, ["US-CA", "BR"]);
        assert_eq!(d.extended_max, None);

        // No rule for the type and no promise → the default.
        let d = due_dates(&[&lgpd], &cal, RequestType::Delete, r, &promise(None));
        assert_eq!(d.binding, "default");
        assert!(d.applied.is_empty());
        assert_eq!(d.response, ts("2026-12-20T23:59:59.999Z"));
        assert_eq!(d.extended_max, None);
    }

    #[test]
    fn promise_lookup_per_type_opt_out_and_default() {
        let mut p = promise(Some(30));
        p.opt_out_days = Some(10);
        p.per_type.insert("delete".into(), 20);
        assert_eq!(promised_days(&p, RequestType::Delete), Some(20));
        assert_eq!(promised_days(&p, RequestType::OptOut), Some(10));
        assert_eq!(promised_days(&p, RequestType::Access), Some(30));
        assert_eq!(
            promised_days(&ResponseTimes::default(), RequestType::Access),
            None
        );
    }

    #[test]
    fn acknowledgement_is_the_earliest_and_never_after_the_response() {
        let mut r = rule(Term::calendar_days(45), None);
        r.acknowledge = Some(Term::business_days(10));
        let p = pack(
            "US-CA",
            "America/Los_Angeles",
            &["US-CA"],
            vec![(RequestType::Delete, r)],
        );
        let cal = CalendarSet::new();
        let at = ts("2026-11-20T10:00:00-08:00");
        let mut promise = promise(Some(5));
        promise.acknowledgement_days = Some(10);
        let d = due_dates(&[&p], &cal, RequestType::Delete, at, &promise);
        // The 5-day promise comes before the 10-day acknowledgement.
        assert_eq!(d.response, ts("2026-11-25T23:59:59.999Z"));
        assert_eq!(d.acknowledgement, Some(d.response));
        assert_eq!(d.acknowledgement_binding.as_deref(), Some("policy"));
        promise.requests_days = None;
        let d = due_dates(&[&p], &cal, RequestType::Delete, at, &promise);
        assert_eq!(d.acknowledgement, Some(ts("2026-11-30T23:59:59.999Z")));
        assert_eq!(d.acknowledgement_binding.as_deref(), Some("policy"));
        promise.acknowledgement_days = None;
        let d = due_dates(&[&p], &cal, RequestType::Delete, at, &promise);
        assert_eq!(d.acknowledgement, Some(ts("2026-12-04T23:59:59.999-08:00")));
        assert_eq!(d.acknowledgement_binding.as_deref(), Some("US-CA"));
    }

    #[test]
    fn verification_and_submitters_combine_strictly() {
        let mut a = rule(Term::calendar_days(45), None);
        a.verification = Verification {
            level: VerificationLevel::ReasonablyHigh,
            points: 3,
            signed_declaration: true,
            downgrade_to: Some(RequestType::Know),
        };
        a.submitters = vec![RequesterKind::Subject, RequesterKind::Agent];
        let mut b = rule(Term::calendar_months(1), None);
        b.verification.level = VerificationLevel::Reasonable;
        b.submitters = vec![RequesterKind::Parent];
        b.clock_pauses = true;
        let pa = pack("A", "UTC", &["A"], vec![(RequestType::Access, a)]);
        let pb = pack("B", "UTC", &["B"], vec![(RequestType::Access, b)]);
        let d = due_dates(
            &[&pb, &pa],
            &CalendarSet::new(),
            RequestType::Access,
            ts("2026-01-01T00:00:00Z"),
            &ResponseTimes::default(),
        );
        assert_eq!(d.verification.level, VerificationLevel::ReasonablyHigh);
        assert_eq!(d.verification.points, 3);
        assert!(d.verification.signed_declaration);
        assert_eq!(d.verification.downgrade_to, Some(RequestType::Know));
        assert_eq!(
            d.submitters,
            [
                RequesterKind::Parent,
                RequesterKind::Subject,
                RequesterKind::Agent
            ]
        );
        assert!(!d.clock_pauses);
    }

    #[test]
    fn appeals() {
        let mut r = rule(Term::calendar_days(45), None);
        r.appeal = Some(Appeal {
            request_within: None,
            respond: Term::calendar_days(60),
        });
        let p = pack(
            "US-CT",
            "America/New_York",
            &["US-CT"],
            vec![(RequestType::Access, r)],
        );
        assert_eq!(
            appeal_due(
                &[&p],
                &CalendarSet::new(),
                RequestType::Access,
                ts("2026-05-01T10:00:00-04:00")
            ),
            Some((ts("2026-06-30T23:59:59.999-04:00"), "US-CT".to_string()))
        );
        assert_eq!(
            appeal_due(
                &[&p],
                &CalendarSet::new(),
                RequestType::Delete,
                ts("2026-05-01T10:00:00-04:00")
            ),
            None
        );
    }

    // ---- properties -------------------------------------------------------------

    use proptest::prelude::*;

    const ZONES: [&str; 6] = [
        "UTC",
        "America/Los_Angeles",
        "America/St_Johns",
        "Europe/London",
        "Australia/Lord_Howe",
        "Pacific/Kiritimati",
    ];

    fn clock() -> impl Strategy<Value = ClockKind> {
        prop::sample::select(ClockKind::ALL.to_vec())
    }

    fn received() -> impl Strategy<Value = Timestamp> {
        // 1990 to 2090, to the millisecond.
        (631_152_000_000i64..3_786_912_000_000)
            .prop_map(|ms| Timestamp::from_millisecond(ms).unwrap())
    }

    fn calendar(i: usize) -> Option<Calendar> {
        match i {
            0 => None,
            1 => Some(uk()),
            _ => Some(us()),
        }
    }

    /// A pack for property tests: one access rule with the given terms.
    fn arb_pack(
        i: usize,
        respond: Term,
        extension: Option<Term>,
        zone: usize,
        cal: usize,
    ) -> RulePack {
        let mut p = pack(
            &format!("P{i}"),
            ZONES[zone],
            &["XX"],
            vec![(RequestType::Access, rule(respond, extension))],
        );
        p.calendar = match cal {
            0 => None,
            1 => Some("uk".into()),
            _ => Some("us".into()),
        };
        p
    }

    fn arb_term() -> impl Strategy<Value = Term> {
        (1u32..120, clock()).prop_map(|(amount, clock)| {
            let amount = if clock == ClockKind::CalendarMonths {
                amount % 24 + 1
            } else {
                amount
            };
            Term { amount, clock }
        })
    }

    fn arb_packs() -> impl Strategy<Value = Vec<RulePack>> {
        prop::collection::vec(
            (
                arb_term(),
                prop::option::of(arb_term()),
                0..ZONES.len(),
                0usize..3,
            ),
            0..5,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (r, e, z, c))| arb_pack(i, r, e, z, c))
                .collect()
        })
    }

    fn calendars() -> CalendarSet {
        [uk(), us()].into_iter().collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn due_is_never_before_receipt(
            at in received(),
            amount in 0u32..400,
            clock in clock(),
            zone in 0..ZONES.len(),
            cal in 0usize..3,
        ) {
            let tz = tz(ZONES[zone]);
            let cal = calendar(cal);
            let due = add_term(at, Term { amount, clock }, &tz, cal.as_ref());
            prop_assert!(due >= at);
            if amount > 0 {
                prop_assert!(due > at);
            }
        }

        #[test]
        fn add_term_is_monotonic_in_received(
            a in received(),
            delta_ms in 0i64..(200 * 86_400_000),
            amount in 0u32..200,
            clock in clock(),
            zone in 0..ZONES.len(),
            cal in 0usize..3,
        ) {
            let b = a.checked_add(SignedDuration::from_millis(delta_ms)).unwrap();
            let tz = tz(ZONES[zone]);
            let cal = calendar(cal);
            let term = Term { amount, clock };
            prop_assert!(add_term(a, term, &tz, cal.as_ref()) <= add_term(b, term, &tz, cal.as_ref()));
        }

        #[test]
        fn add_term_is_monotonic_in_amount(
            at in received(),
            amount in 0u32..200,
            clock in clock(),
            zone in 0..ZONES.len(),
            cal in 0usize..3,
        ) {
            let tz = tz(ZONES[zone]);
            let cal = calendar(cal);
            let lo = add_term(at, Term { amount, clock }, &tz, cal.as_ref());
            let hi = add_term(at, Term { amount: amount + 1, clock }, &tz, cal.as_ref());
            prop_assert!(lo <= hi);
        }

        #[test]
        fn the_strictest_rule_wins_and_extensions_respect_every_cap(
            packs in arb_packs(),
            at in received(),
            promise_days in prop::option::of(1u32..120),
        ) {
            let cals = calendars();
            let refs: Vec<&RulePack> = packs.iter().collect();
            let promise = promise(promise_days);
            let d = due_dates(&refs, &cals, RequestType::Access, at, &promise);
            prop_assert!(d.response >= at);
            if let Some(p) = d.promise {
                prop_assert!(d.response <= p);
                if d.binding == BINDING_POLICY {
                    prop_assert_eq!(d.response, p);
                    prop_assert_eq!(d.extended_max, None);
                }
            }
            let mut bound = false;
            for p in &packs {
                let r = &p.requests[&RequestType::Access];
                let tz = p.time_zone().unwrap();
                let cal = p.calendar.as_deref().and_then(|c| cals.get(c));
                let own = add_term(at, r.respond, &tz, cal);
                prop_assert!(d.response <= own, "{} not strictest vs {}", d.binding, p.id);
                bound |= d.binding == p.id && d.response == own;
                let cap = match r.extension {
                    Some(e) => extension_cap(at, r.respond, e.add, &tz, cal),
                    None => own,
                };
                prop_assert!(cap >= own);
                if let Some(x) = d.extended_max {
                    prop_assert!(x <= cap, "extension past the cap of {}", p.id);
                }
            }
            if let Some(x) = d.extended_max {
                prop_assert!(x > d.response);
                prop_assert!(d.promise.is_none_or(|p| x <= p));
                prop_assert_eq!(d.extension_notice_by, Some(d.response));
            }
            match d.binding.as_str() {
                BINDING_POLICY => prop_assert!(promise_days.is_some()),
                BINDING_DEFAULT => prop_assert!(packs.is_empty() && promise_days.is_none()),
                _ => prop_assert!(bound),
            }
        }
    }
}
