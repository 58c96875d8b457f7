//! Where a policy promises less than the law of a jurisdiction it lists.
//!
//! These are warnings, not errors: the engine always applies the stricter of the
//! promise and the law (RULES.md §1.1), so nobody is harmed, but the published notice
//! would promise something the organisation may not lawfully do. Each message cites
//! the rule (see RULES.md and docs/policy.md, "Warnings and the laws behind them").
//!
//! The limits are the shipped rule packs' own terms (`rules/*.yaml`): this module only
//! says which pack limits which promise, and how to cite it. What the packs do not
//! model stays here: the ages of parental consent, the Data Privacy Framework's
//! complaint time and the sensitive-data bases. Business-day limits are compared as
//! the fewest calendar days they can span (10 business days = 14 calendar days, 15 =
//! 21), a month as 30 days.

use crate::diagnostic::Diagnostic;
use crate::path;
use crate::rules::{self, RuleBook};
use crate::util::list;
use std::collections::HashSet;
use vow_core::jurisdiction::{self, Jurisdiction};
use vow_core::pack::{Audience, RulePack};
use vow_core::policy::{LegalBasis, Policy, ResponseTimes};
use vow_core::request::RequestType;
use vow_core::term::{ClockKind, Term};

/// Two capital ASCII letters.
pub(crate) fn is_country_code(s: &str) -> bool {
    Jurisdiction::parse_canonical(s).is_ok_and(|j| j.country() == s)
}

/// `CA`, `US-CA`, `CA-QC`, `EU`, `UK`, written in capitals (see [`Jurisdiction`]).
pub(crate) fn is_jurisdiction_code(s: &str) -> bool {
    Jurisdiction::parse_canonical(s).is_ok()
}

/// The policy's well-formed jurisdiction codes.
pub(crate) struct Jurisdictions {
    codes: Vec<Jurisdiction>,
}

impl Jurisdictions {
    pub(crate) fn new(codes: &[String]) -> Self {
        Self {
            codes: codes
                .iter()
                .filter_map(|c| Jurisdiction::parse_canonical(c).ok())
                .collect(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Exactly this code is listed.
    pub(crate) fn has(&self, code: &str) -> bool {
        self.codes.iter().any(|c| c == code)
    }

    /// The country or any of its subdivisions is listed (`US` matches `US-CA`).
    pub(crate) fn has_country(&self, cc: &str) -> bool {
        self.codes.iter().any(|c| c.country() == cc)
    }

    /// A recipient in `country` is inside some jurisdiction of the policy: the
    /// country itself, or the scope of the shipped pack of a listed country, `EU` or
    /// `UK` (the EU pack covers the member and EEA states; the UK pack `UK` and `GB`).
    pub(crate) fn covers_country(&self, country: &str) -> bool {
        let packs = rules::shipped()
            .map(|b| b.packs.as_slice())
            .unwrap_or_default();
        self.codes.iter().any(|c| {
            let cc = c.country();
            cc == country
                || packs.iter().any(|p| {
                    jurisdiction::comparison_key(&p.id) == jurisdiction::comparison_key(cc)
                        && p.covers_residence(country)
                })
        })
    }
}

/// When a pack's limit counts for a policy.
#[derive(Clone, Copy)]
enum Listed {
    /// The policy lists the pack id itself.
    Exactly,
    /// The policy lists the pack's country or any subdivision of it.
    Country,
}

impl Listed {
    fn holds(self, j: &Jurisdictions, pack: &str) -> bool {
        match self {
            Listed::Exactly => j.has(pack),
            Listed::Country => j.has_country(jurisdiction::country_of(pack)),
        }
    }
}

/// A pack whose request deadlines limit the policy's response times, and the citation
/// for its request types: the first entry naming a type cites it, an empty list
/// cites every other type of the pack.
struct RequestLaw {
    pack: &'static str,
    listed: Listed,
    cites: &'static [(&'static [RequestType], &'static str)],
}

const REQUEST_LAWS: &[RequestLaw] = &[
    RequestLaw {
        pack: "US-CA",
        listed: Listed::Exactly,
        cites: &[
            (
                &[RequestType::OptOut, RequestType::LimitSensitive],
                "CCPA regulations (11 CCR §7026, §7027)",
            ),
            (
                &[],
                "CCPA (Cal. Civ. Code §1798.130(a)(2); 11 CCR §7021(b))",
            ),
        ],
    },
    RequestLaw {
        pack: "US-VA",
        listed: Listed::Exactly,
        cites: &[(&[], "VCDPA (Va. Code §59.1-577(A))")],
    },
    RequestLaw {
        pack: "US-CO",
        listed: Listed::Exactly,
        cites: &[(&[], "Colorado Privacy Act (C.R.S. §6-1-1306(1))")],
    },
    RequestLaw {
        pack: "US-CT",
        listed: Listed::Exactly,
        cites: &[(&[], "CTDPA (Conn. Gen. Stat. §42-518(b))")],
    },
    RequestLaw {
        pack: "CA",
        listed: Listed::Country,
        cites: &[(&[], "PIPEDA s.8(3)")],
    },
    RequestLaw {
        pack: "CA-QC",
        listed: Listed::Exactly,
        cites: &[(
            &[],
            "Québec private-sector privacy act (CQLR c. P-39.1) s.32",
        )],
    },
    RequestLaw {
        pack: "EU",
        listed: Listed::Exactly,
        cites: &[(&[], "GDPR Art. 12(3)")],
    },
    RequestLaw {
        pack: "UK",
        listed: Listed::Exactly,
        cites: &[(&[], "UK GDPR Art. 12(3)")],
    },
    RequestLaw {
        pack: "BR",
        listed: Listed::Exactly,
        cites: &[(&[], "LGPD Art. 19(II)")],
    },
];

/// A pack's term that limits one of the other promised times.
struct TimeLaw {
    field: &'static str,
    promise: fn(&ResponseTimes) -> Option<u32>,
    what: &'static str,
    pack: &'static str,
    listed: Listed,
    term: fn(&RulePack) -> Option<Term>,
    cite: &'static str,
}

fn acknowledgement(p: &RulePack) -> Option<Term> {
    p.requests
        .values()
        .filter_map(|r| r.acknowledge)
        .min_by_key(|t| calendar_days(*t))
}

fn individuals_breach_notice(p: &RulePack) -> Option<Term> {
    p.breach
        .as_ref()?
        .notices
        .get(&Audience::Individuals)?
        .within
}

fn unsubscribe(p: &RulePack) -> Option<Term> {
    p.rule(RequestType::Unsubscribe).map(|r| r.respond)
}

const TIME_LAWS: &[TimeLaw] = &[
    TimeLaw {
        field: "acknowledgement_days",
        promise: |rt| rt.acknowledgement_days,
        what: "to acknowledge a request",
        pack: "US-CA",
        listed: Listed::Exactly,
        term: acknowledgement,
        cite: "CCPA regulations (11 CCR §7021(a))",
    },
    TimeLaw {
        field: "breach_notice_days",
        promise: |rt| rt.breach_notice_days,
        what: "to tell people of a breach",
        pack: "US-CA",
        listed: Listed::Exactly,
        term: individuals_breach_notice,
        cite: "Cal. Civ. Code §1798.82(a)(2) (as amended by SB 446)",
    },
    TimeLaw {
        field: "breach_notice_days",
        promise: |rt| rt.breach_notice_days,
        what: "to tell people of a breach",
        pack: "BR",
        listed: Listed::Exactly,
        term: individuals_breach_notice,
        cite: "LGPD Art. 48 and ANPD Resolution CD/ANPD 15/2024",
    },
    TimeLaw {
        field: "opt_out_days",
        promise: |rt| rt.opt_out_days,
        what: "for an unsubscribe to take effect",
        pack: "CA-CASL",
        listed: Listed::Country,
        term: unsubscribe,
        cite: "CASL s.11(3)",
    },
    TimeLaw {
        field: "opt_out_days",
        promise: |rt| rt.opt_out_days,
        what: "for an unsubscribe to take effect",
        pack: "US-CANSPAM",
        listed: Listed::Country,
        term: unsubscribe,
        cite: "CAN-SPAM (15 U.S.C. §7704(a)(4))",
    },
];

/// The complaint time is not a rule pack's: the EU–US Data Privacy Framework binds
/// the US organisations that join it, not a jurisdiction's residents.
const COMPLAINTS_DAYS: u32 = 45;
const COMPLAINTS_CITE: &str =
    "EU–US Data Privacy Framework (Privacy Shield Supplemental Principle 11(d)(i)): 45 days";

/// A term as the most calendar days a promise may be and still never be later than
/// it: business days as the fewest calendar days they can span (no holidays), a
/// month as 30 days, hours as whole days.
fn calendar_days(t: Term) -> u32 {
    let n = t.amount;
    match t.clock {
        ClockKind::CalendarDays => n,
        ClockKind::BusinessDays => n.saturating_add(n / 5 * 2),
        ClockKind::CalendarMonths => n.saturating_mul(30),
        ClockKind::Hours => n / 24,
    }
}

/// A term in words for a citation: `45 days`, `one month`, `15 business days, about
/// 21 calendar days`.
fn term_words(t: Term) -> String {
    let n = t.amount;
    match t.clock {
        ClockKind::CalendarDays => days(n),
        ClockKind::BusinessDays if calendar_days(t) == n => format!("{n} business days"),
        ClockKind::BusinessDays => format!(
            "{n} business days, about {} calendar days",
            calendar_days(t)
        ),
        ClockKind::CalendarMonths if n == 1 => "one month".into(),
        ClockKind::CalendarMonths => format!("{n} months"),
        ClockKind::Hours => format!("{n} hours"),
    }
}

/// One limit on response times: the request types it covers, in days, and its cite.
struct Limit {
    types: Vec<&'static str>,
    days: u32,
    cite: String,
}

/// The request-deadline limits of the shipped packs that `j` switches on, grouped by
/// citation and term.
fn request_limits(book: &RuleBook, j: &Jurisdictions) -> Vec<Limit> {
    let mut out: Vec<Limit> = Vec::new();
    for law in REQUEST_LAWS.iter().filter(|l| l.listed.holds(j, l.pack)) {
        let Some(pack) = book.pack(law.pack) else {
            continue;
        };
        let first = out.len();
        for (rt, rule) in &pack.requests {
            let Some((_, text)) = law
                .cites
                .iter()
                .find(|(types, _)| types.is_empty() || types.contains(rt))
            else {
                continue;
            };
            let cite = format!("{text}: {}", term_words(rule.respond));
            let days = calendar_days(rule.respond);
            match out[first..]
                .iter_mut()
                .find(|l| l.cite == cite && l.days == days)
            {
                Some(l) => l.types.push(rt.as_str()),
                None => out.push(Limit {
                    types: vec![rt.as_str()],
                    days,
                    cite,
                }),
            }
        }
    }
    out
}

struct AgeRule {
    applies: fn(&Jurisdictions) -> bool,
    age: u8,
    cite: &'static str,
}

const AGE_RULES: &[AgeRule] = &[
    AgeRule {
        applies: |j| j.has("EU"),
        age: 16,
        cite: "GDPR Art. 8(1): 16 unless a member state sets 13 to 15",
    },
    AgeRule {
        applies: |j| j.has("CA-QC"),
        age: 14,
        cite: "Québec private-sector privacy act (CQLR c. P-39.1) s.4.1: 14",
    },
    AgeRule {
        applies: |j| j.has_country("US"),
        age: 13,
        cite: "COPPA (16 CFR §312.5): 13",
    },
    AgeRule {
        applies: |j| j.has("UK"),
        age: 13,
        cite: "UK GDPR Art. 8: 13",
    },
    AgeRule {
        applies: |j| j.has("BR"),
        age: 12,
        cite: "LGPD Art. 14: children under 12",
    },
];

const RT: &str = "response_times";

fn days(n: u32) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

/// Push every law-based warning for `policy` onto `out`.
pub(crate) fn warnings(policy: &Policy, out: &mut Vec<Diagnostic>) {
    let j = Jurisdictions::new(&policy.jurisdictions);
    let rt = &policy.response_times;
    let mut warn = |code: &'static str, path: String, message: String| {
        out.push(Diagnostic::warning(code, path, message));
    };

    if rt.requests_days.is_none() {
        warn(
            "missing_promise",
            path::key(RT, "requests_days"),
            "no default response time is promised: for request types without a per_type entry, only the law's deadline will apply (and the notice cannot state a time)".into(),
        );
    }
    if policy.retention.is_empty() {
        warn(
            "missing_promise",
            "retention".into(),
            "no retention rules: the notice cannot say how long personal information is kept, and nothing is ever destroyed on schedule; add rules such as `- {category: user, keep: 2y, from: relationship_end}`".into(),
        );
    }
    if j.is_empty() {
        warn(
            "no_jurisdiction",
            "jurisdictions".into(),
            "no jurisdictions are listed, so no legal deadline, age or cross-border transfer can be checked; list the places whose law applies (e.g. `CA`, `US-CA`, `EU`)".into(),
        );
        return;
    }

    let book = rules::shipped();
    let limits = book.map(|b| request_limits(b, &j)).unwrap_or_default();
    for rule in &limits {
        if let Some(d) = rt.requests_days {
            let covered: Vec<&str> = rule
                .types
                .iter()
                .copied()
                .filter(|t| !rt.per_type.contains_key(*t))
                .collect();
            if d > rule.days && !covered.is_empty() {
                warn(
                    "weaker_than_law",
                    path::key(RT, "requests_days"),
                    format!(
                        "promises {} for {} requests, longer than the law allows: {}. The engine applies the shorter deadline; promise at most {}",
                        days(d),
                        list(covered, 10),
                        rule.cite,
                        days(rule.days)
                    ),
                );
            }
        }
        for t in &rule.types {
            if let Some(&d) = rt.per_type.get(*t)
                && d > rule.days
            {
                warn(
                    "weaker_than_law",
                    path::key(&path::key(RT, "per_type"), t),
                    format!(
                        "promises {} for {t} requests, longer than the law allows: {}. The engine applies the shorter deadline; promise at most {}",
                        days(d),
                        rule.cite,
                        days(rule.days)
                    ),
                );
            }
        }
    }

    let mut limit = |value: Option<u32>, field: &str, max: u32, what: &str, cite: &str| {
        if let Some(d) = value
            && d > max
        {
            warn(
                "weaker_than_law",
                path::key(RT, field),
                format!(
                    "promises {} {what}, longer than the law allows: {cite}. Promise at most {}",
                    days(d),
                    days(max)
                ),
            );
        }
    };
    for law in TIME_LAWS.iter().filter(|l| l.listed.holds(&j, l.pack)) {
        let Some(term) = book.and_then(|b| b.pack(law.pack)).and_then(law.term) else {
            continue;
        };
        limit(
            (law.promise)(rt),
            law.field,
            calendar_days(term),
            law.what,
            &format!("{}: {}", law.cite, term_words(term)),
        );
    }
    if j.has_country("US") {
        limit(
            rt.complaints_days,
            "complaints_days",
            COMPLAINTS_DAYS,
            "to answer a complaint",
            COMPLAINTS_CITE,
        );
    }

    let ages: Vec<&AgeRule> = AGE_RULES.iter().filter(|r| (r.applies)(&j)).collect();
    if let Some(strictest) = ages.iter().map(|r| r.age).max() {
        match policy.parental_consent_age {
            None => warn(
                "weaker_than_law",
                "parental_consent_age".into(),
                format!(
                    "no parental consent age is set, so the engine asks no parent's consent for children; the law sets one where this policy applies: {}. Set parental_consent_age: {strictest} or higher",
                    list(ages.iter().map(|r| r.cite), 6)
                ),
            ),
            Some(age) if (1..strictest).contains(&age) => {
                let broken: Vec<&str> = ages
                    .iter()
                    .filter(|r| age < r.age)
                    .map(|r| r.cite)
                    .collect();
                warn(
                    "weaker_than_law",
                    "parental_consent_age".into(),
                    format!(
                        "asks a parent's consent only under {age}, younger than the law's threshold where this policy applies: {}. Set parental_consent_age: {strictest} or higher",
                        list(broken, 6)
                    ),
                );
            }
            Some(_) => {}
        }
    }

    // Sensitive data on a basis the GDPR (Art. 9(2)) and PIPEDA do not accept for it.
    let art9 = j.has("EU") || j.has("UK") || j.has_country("CA");
    if !art9 {
        return;
    }
    let sensitive: HashSet<&str> = policy
        .categories
        .iter()
        .filter(|c| c.sensitive)
        .map(|c| c.id.as_str())
        .collect();
    if sensitive.is_empty() {
        return;
    }
    let covering: HashSet<&str> = sensitive
        .iter()
        .flat_map(|id| self_and_parents(id))
        .collect();
    for (i, p) in policy.purposes.iter().enumerate() {
        if p.forbidden
            || !matches!(
                p.basis,
                LegalBasis::Contract | LegalBasis::LegitimateInterest
            )
        {
            continue;
        }
        let touched: Vec<&str> = p
            .categories
            .iter()
            .map(|c| c.as_str())
            .filter(|c| covering.contains(c) || self_and_parents(c).any(|x| sensitive.contains(x)))
            .collect();
        if touched.is_empty() {
            continue;
        }
        warn(
            "sensitive_basis",
            path::key(&path::index("purposes", i), "basis"),
            format!(
                "uses sensitive categories ({}) on the basis `{}`; GDPR Art. 9(2) has no contract or legitimate-interest condition for special-category data, and PIPEDA (Sch. 1 cl. 4.3.6) expects express consent for sensitive information. Consider basis: consent",
                list(touched, 8),
                p.basis.as_str()
            ),
        );
    }
}

/// `a.b.c`, `a.b`, `a`.
fn self_and_parents(id: &str) -> impl Iterator<Item = &str> {
    std::iter::once(id).chain(
        id.char_indices()
            .filter(|(_, c)| *c == '.')
            .map(move |(i, _)| &id[..i]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        for ok in ["CA", "US-CA", "CA-QC", "EU", "UK", "BR", "FR-75"] {
            assert!(is_jurisdiction_code(ok), "{ok}");
        }
        for bad in [
            "", "ca", "USA", "US-", "US-CALI", "EU-FR", "U", "US_CA", "US-ca",
        ] {
            assert!(!is_jurisdiction_code(bad), "{bad}");
        }
        let codes = vec!["CA".to_string(), "US-CA".to_string(), "EU".to_string()];
        let j = Jurisdictions::new(&codes);
        assert!(j.covers_country("US"));
        assert!(j.covers_country("DE"));
        assert!(!j.covers_country("IN"));
        assert!(j.has_country("US"));
        assert!(!j.has_country("BR"));
    }

    /// The limits read from the shipped packs are the ones docs/policy.md tables
    /// ("Warnings and the laws behind them").
    #[test]
    fn the_limits_are_the_documented_ones() {
        let book = rules::shipped().unwrap();
        let all: Vec<String> = [
            "US-CA", "US-VA", "US-CO", "US-CT", "CA", "CA-QC", "EU", "UK", "BR",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
        let got: Vec<(String, u32, Vec<&str>)> = request_limits(book, &Jurisdictions::new(&all))
            .into_iter()
            .map(|l| (l.cite, l.days, l.types))
            .collect();
        let state = vec![
            "access",
            "know",
            "delete",
            "correct",
            "opt_out",
            "portability",
        ];
        let gdpr = vec![
            "access",
            "know",
            "delete",
            "correct",
            "opt_out",
            "limit_sensitive",
            "portability",
        ];
        let want: Vec<(&str, u32, Vec<&str>)> = vec![
            (
                "CCPA (Cal. Civ. Code §1798.130(a)(2); 11 CCR §7021(b)): 45 days",
                45,
                vec!["access", "know", "delete", "correct", "portability"],
            ),
            (
                "CCPA regulations (11 CCR §7026, §7027): 15 business days, about 21 calendar days",
                21,
                vec!["opt_out", "limit_sensitive"],
            ),
            ("VCDPA (Va. Code §59.1-577(A)): 45 days", 45, state.clone()),
            (
                "Colorado Privacy Act (C.R.S. §6-1-1306(1)): 45 days",
                45,
                state.clone(),
            ),
            ("CTDPA (Conn. Gen. Stat. §42-518(b)): 45 days", 45, state),
            ("PIPEDA s.8(3): 30 days", 30, vec!["access", "know"]),
            (
                "Québec private-sector privacy act (CQLR c. P-39.1) s.32: 30 days",
                30,
                vec!["access", "know", "correct", "portability"],
            ),
            ("GDPR Art. 12(3): one month", 30, gdpr.clone()),
            ("UK GDPR Art. 12(3): one month", 30, gdpr),
            ("LGPD Art. 19(II): 15 days", 15, vec!["access", "know"]),
        ];
        let got: Vec<(&str, u32, Vec<&str>)> = got
            .iter()
            .map(|(c, d, t)| (c.as_str(), *d, t.clone()))
            .collect();
        assert_eq!(got, want);

        let times: Vec<(&str, &str, u32, String)> = TIME_LAWS
            .iter()
            .map(|l| {
                let t = (l.term)(book.pack(l.pack).unwrap()).unwrap();
                (l.field, l.pack, calendar_days(t), term_words(t))
            })
            .collect();
        assert_eq!(
            times,
            [
                (
                    "acknowledgement_days",
                    "US-CA",
                    14,
                    "10 business days, about 14 calendar days".to_string()
                ),
                ("breach_notice_days", "US-CA", 30, "30 days".to_string()),
                ("breach_notice_days", "BR", 3, "3 business days".to_string()),
                (
                    "opt_out_days",
                    "CA-CASL",
                    14,
                    "10 business days, about 14 calendar days".to_string()
                ),
                (
                    "opt_out_days",
                    "US-CANSPAM",
                    14,
                    "10 business days, about 14 calendar days".to_string()
                ),
            ]
        );
    }

    #[test]
    fn business_days_count_as_the_fewest_calendar_days_they_span() {
        for (n, want) in [(3, 3), (5, 7), (10, 14), (15, 21)] {
            assert_eq!(calendar_days(Term::business_days(n)), want, "{n}");
        }
        assert_eq!(calendar_days(Term::calendar_months(1)), 30);
        assert_eq!(calendar_days(Term::hours(72)), 3);
    }
}
