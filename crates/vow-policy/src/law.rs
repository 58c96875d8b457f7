//! Where a policy promises less than the law of a jurisdiction it lists.
//!
//! These are warnings, not errors: the engine always applies the stricter of the
//! promise and the law (RULES.md §1.1), so nobody is harmed, but the published notice
//! would promise something the organisation may not lawfully do. Each message cites
//! the rule (see RULES.md and docs/policy.md, "Warnings and the laws behind them").
//! Business-day limits are compared as calendar days: 10 business days ≈ 14 calendar
//! days, 15 ≈ 21.

use crate::diagnostic::Diagnostic;
use crate::path;
use crate::util::list;
use std::collections::HashSet;
use vow_core::policy::{LegalBasis, Policy};

/// EU member states, plus the EEA states where the GDPR also applies.
const EU_AREA: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "EL", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

/// Two capital ASCII letters.
pub(crate) fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// `CA`, `US-CA`, `CA-QC`, `EU`, `UK`: a country, optionally `-` and a 1–3 character
/// subdivision of capitals and digits (none for `EU`).
pub(crate) fn is_jurisdiction_code(s: &str) -> bool {
    match s.split_once('-') {
        None => is_country_code(s),
        Some((cc, sub)) => {
            is_country_code(cc)
                && cc != "EU"
                && (1..=3).contains(&sub.len())
                && sub
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        }
    }
}

/// The policy's well-formed jurisdiction codes.
pub(crate) struct Jurisdictions<'a> {
    codes: Vec<&'a str>,
}

impl<'a> Jurisdictions<'a> {
    pub(crate) fn new(codes: &'a [String]) -> Self {
        Self {
            codes: codes
                .iter()
                .map(String::as_str)
                .filter(|c| is_jurisdiction_code(c))
                .collect(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Exactly this code is listed.
    pub(crate) fn has(&self, code: &str) -> bool {
        self.codes.contains(&code)
    }

    /// The country or any of its subdivisions is listed (`US` matches `US-CA`).
    pub(crate) fn has_country(&self, cc: &str) -> bool {
        self.codes
            .iter()
            .any(|c| c.get(..2) == Some(cc) && (c.len() == 2 || c.as_bytes().get(2) == Some(&b'-')))
    }

    /// A recipient in `country` is inside some jurisdiction of the policy.
    pub(crate) fn covers_country(&self, country: &str) -> bool {
        self.codes.iter().any(|c| {
            let cc = c.get(..2).unwrap_or("");
            match cc {
                "EU" => EU_AREA.contains(&country),
                "UK" | "GB" => country == "GB" || country == "UK",
                _ => cc == country,
            }
        })
    }
}

struct RequestRule {
    applies: fn(&Jurisdictions<'_>) -> bool,
    types: &'static [&'static str],
    days: u32,
    cite: &'static str,
}

const KNOW_DELETE_CORRECT: &[&str] = &["access", "know", "delete", "correct", "portability"];
const US_STATE_TYPES: &[&str] = &[
    "access",
    "know",
    "delete",
    "correct",
    "portability",
    "opt_out",
];
const GDPR_TYPES: &[&str] = &[
    "access",
    "know",
    "delete",
    "correct",
    "portability",
    "opt_out",
    "limit_sensitive",
];

const REQUEST_RULES: &[RequestRule] = &[
    RequestRule {
        applies: |j| j.has("US-CA"),
        types: KNOW_DELETE_CORRECT,
        days: 45,
        cite: "CCPA (Cal. Civ. Code §1798.130(a)(2); 11 CCR §7021(b)): 45 days",
    },
    RequestRule {
        applies: |j| j.has("US-CA"),
        types: &["opt_out", "limit_sensitive"],
        days: 21,
        cite: "CCPA regulations (11 CCR §7026, §7027): 15 business days, about 21 calendar days",
    },
    RequestRule {
        applies: |j| j.has("US-VA"),
        types: US_STATE_TYPES,
        days: 45,
        cite: "VCDPA (Va. Code §59.1-577(A)): 45 days",
    },
    RequestRule {
        applies: |j| j.has("US-CO"),
        types: US_STATE_TYPES,
        days: 45,
        cite: "Colorado Privacy Act (C.R.S. §6-1-1306(1)): 45 days",
    },
    RequestRule {
        applies: |j| j.has("US-CT"),
        types: US_STATE_TYPES,
        days: 45,
        cite: "CTDPA (Conn. Gen. Stat. §42-518(b)): 45 days",
    },
    RequestRule {
        applies: |j| j.has_country("CA"),
        types: &["access", "know"],
        days: 30,
        cite: "PIPEDA s.8(3): 30 days",
    },
    RequestRule {
        applies: |j| j.has("CA-QC"),
        types: &["access", "know", "correct", "portability"],
        days: 30,
        cite: "Québec private-sector privacy act (CQLR c. P-39.1) s.32: 30 days",
    },
    RequestRule {
        applies: |j| j.has("EU"),
        types: GDPR_TYPES,
        days: 30,
        cite: "GDPR Art. 12(3): one month",
    },
    RequestRule {
        applies: |j| j.has("UK"),
        types: GDPR_TYPES,
        days: 30,
        cite: "UK GDPR Art. 12(3): one month",
    },
    RequestRule {
        applies: |j| j.has("BR"),
        types: &["access", "know"],
        days: 15,
        cite: "LGPD Art. 19(II): 15 days",
    },
];

struct AgeRule {
    applies: fn(&Jurisdictions<'_>) -> bool,
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

    for rule in REQUEST_RULES.iter().filter(|r| (r.applies)(&j)) {
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
        for t in rule.types {
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

    let mut limit = |value: Option<u32>,
                     field: &str,
                     applies: bool,
                     max: u32,
                     what: &str,
                     cite: &str| {
        if let Some(d) = value
            && applies
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
    limit(
        rt.acknowledgement_days,
        "acknowledgement_days",
        j.has("US-CA"),
        14,
        "to acknowledge a request",
        "CCPA regulations (11 CCR §7021(a)): 10 business days, about 14 calendar days",
    );
    limit(
        rt.breach_notice_days,
        "breach_notice_days",
        j.has("US-CA"),
        30,
        "to tell people of a breach",
        "Cal. Civ. Code §1798.82(a)(2) (as amended by SB 446): 30 calendar days",
    );
    limit(
        rt.breach_notice_days,
        "breach_notice_days",
        j.has("BR"),
        3,
        "to tell people of a breach",
        "LGPD Art. 48 and ANPD Resolution CD/ANPD 15/2024: 3 business days",
    );
    limit(
        rt.complaints_days,
        "complaints_days",
        j.has_country("US"),
        45,
        "to answer a complaint",
        "EU–US Data Privacy Framework (Privacy Shield Supplemental Principle 11(d)(i)): 45 days",
    );
    limit(
        rt.opt_out_days,
        "opt_out_days",
        j.has_country("CA"),
        14,
        "for an unsubscribe to take effect",
        "CASL s.11(3): 10 business days, about 14 calendar days",
    );
    limit(
        rt.opt_out_days,
        "opt_out_days",
        j.has_country("US"),
        14,
        "for an unsubscribe to take effect",
        "CAN-SPAM (15 U.S.C. §7704(a)(4)): 10 business days, about 14 calendar days",
    );

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
}
