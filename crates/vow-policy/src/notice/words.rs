//! The notice's words: dates, countries, jurisdictions, legal bases, rights and the
//! other plain-language names the sections are written with.

use vow_core::Category;
use vow_core::policy::{
    CategoryDef, ContactChannel, LegalBasis, Policy, RecipientKind, RetentionClock, StoreKind,
    TransferSafeguard,
};

pub(super) fn country_name(cc: &str) -> Option<&'static str> {
    Some(match cc {
        "CA" => "Canada",
        "US" => "the United States",
        "GB" | "UK" => "the United Kingdom",
        "IE" => "Ireland",
        "DE" => "Germany",
        "FR" => "France",
        "NL" => "the Netherlands",
        "BE" => "Belgium",
        "ES" => "Spain",
        "IT" => "Italy",
        "SE" => "Sweden",
        "DK" => "Denmark",
        "FI" => "Finland",
        "PL" => "Poland",
        "AT" => "Austria",
        "CH" => "Switzerland",
        "NO" => "Norway",
        "BR" => "Brazil",
        "MX" => "Mexico",
        "AU" => "Australia",
        "NZ" => "New Zealand",
        "JP" => "Japan",
        "IN" => "India",
        "SG" => "Singapore",
        "IL" => "Israel",
        "PH" => "the Philippines",
        "ZA" => "South Africa",
        _ => return None,
    })
}

pub(super) fn country(cc: &str) -> String {
    match country_name(cc) {
        Some(n) => format!("{n} ({cc})"),
        None => cc.to_string(),
    }
}

pub(super) fn jurisdiction(code: &str) -> String {
    let named = match code {
        "EU" => Some("the European Union and the EEA"),
        "UK" => Some("the United Kingdom"),
        "US-CA" => Some("California, United States"),
        "US-VA" => Some("Virginia, United States"),
        "US-CO" => Some("Colorado, United States"),
        "US-CT" => Some("Connecticut, United States"),
        "CA-QC" => Some("Québec, Canada"),
        "CA-SK" => Some("Saskatchewan, Canada"),
        "CA-ON" => Some("Ontario, Canada"),
        "CA-BC" => Some("British Columbia, Canada"),
        "CA-AB" => Some("Alberta, Canada"),
        _ => None,
    };
    match (named, code.split_once('-')) {
        (Some(n), _) => format!("{n} ({code})"),
        (None, None) => country(code),
        (None, Some((cc, _))) => match country_name(cc) {
            Some(n) => format!("{code} ({n})"),
            None => code.to_string(),
        },
    }
}

pub(super) fn basis_words(b: LegalBasis) -> &'static str {
    match b {
        LegalBasis::Consent => "with your consent",
        LegalBasis::Contract => "to provide what you asked us for (contract)",
        LegalBasis::LegalObligation => "because the law requires it",
        LegalBasis::LegitimateInterest => "for our legitimate interests, weighed against yours",
        LegalBasis::VitalInterest => "to protect someone's life or safety",
        LegalBasis::PublicTask => "to carry out a task in the public interest",
    }
}

pub(super) fn kind_words(k: RecipientKind) -> &'static str {
    match k {
        RecipientKind::Client => "Client of ours",
        RecipientKind::Vendor => "Service provider acting on our instructions",
        RecipientKind::Authority => "Public authority, where the law requires",
        RecipientKind::Affiliate => "Company of our group",
    }
}

pub(super) fn kind_plural(k: RecipientKind) -> &'static str {
    match k {
        RecipientKind::Client => "Clients",
        RecipientKind::Vendor => "Service providers",
        RecipientKind::Authority => "Public authorities, where the law requires",
        RecipientKind::Affiliate => "Companies of our group",
    }
}

pub(super) fn safeguard_words(s: Option<TransferSafeguard>) -> &'static str {
    match s {
        None | Some(TransferSafeguard::None) => "Not needed: the data stays where our law applies",
        Some(TransferSafeguard::Adequacy) => {
            "The destination's law has been found to protect personal information adequately"
        }
        Some(TransferSafeguard::Scc) => "Standard contractual clauses",
        Some(TransferSafeguard::Bcr) => "Binding corporate rules",
        Some(TransferSafeguard::Dpf) => "Certification under the EU–US Data Privacy Framework",
        Some(TransferSafeguard::Contract) => "A contract that gives protection comparable to ours",
        Some(TransferSafeguard::Consent) => "Your explicit consent to the transfer",
    }
}

pub(super) fn store_kind_words(k: StoreKind) -> &'static str {
    match k {
        StoreKind::Primary => "Main systems",
        StoreKind::Backup => "Backups",
        StoreKind::Media => "Media and files",
    }
}

pub(super) fn clock_words(c: RetentionClock) -> &'static str {
    match c {
        RetentionClock::Collected => "from when it was collected",
        RetentionClock::LastActivity => "after your last activity with us",
        RetentionClock::ConsentWithdrawn => "after you withdraw the consent it depends on",
        RetentionClock::RelationshipEnd => {
            "after our relationship ends (for example, when you close your account or leave)"
        }
    }
}

pub(super) fn right_words(t: &str) -> (&'static str, &'static str) {
    match t {
        "access" => (
            "Access",
            "Get a copy of the personal information we hold about you, with every code explained",
        ),
        "know" => (
            "Know",
            "Learn what we collect, where it comes from, why we use it and to whom we disclose it",
        ),
        "delete" => (
            "Deletion",
            "Have your personal information deleted, including from backups",
        ),
        "correct" => (
            "Correction",
            "Have inaccurate information corrected; we pass the correction on to those who received it",
        ),
        "opt_out" => (
            "Opt out",
            "Stop marketing messages (for example with the unsubscribe link) and any sale or sharing",
        ),
        "unsubscribe" => (
            "Unsubscribe",
            "Stop our marketing e-mails, with the link in each of them or on request",
        ),
        "limit_sensitive" => (
            "Limit sensitive information",
            "Limit our use of your sensitive personal information to what is necessary",
        ),
        "portability" => (
            "Portability",
            "Receive the information you gave us in a structured, machine-readable format",
        ),
        "withdraw_consent" => (
            "Withdraw consent",
            "Withdraw a consent you gave, at any time; it takes effect immediately",
        ),
        _ => ("Request", "A request about your personal information"),
    }
}

pub(super) fn is_sale(id: &str) -> bool {
    id == "sale" || id.starts_with("sale.")
}

pub(super) fn is_sharing(id: &str) -> bool {
    id == "cross_context_advertising" || id.starts_with("cross_context_advertising.")
}

/// `a` and `b` overlap: one is within the other.
pub(super) fn overlaps(a: &Category, b: &Category) -> bool {
    a.is_within(b) || b.is_within(a)
}

/// Lower-case the first letter of a description used inside a sentence ("Your name"
/// → "your name"), unless it starts an acronym ("IP address").
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && !b.is_uppercase() => {
            let mut out: String = a.to_lowercase().collect();
            out.push_str(&s[a.len_utf8()..]);
            out
        }
        _ => s.to_string(),
    }
}

/// Labels for a list of category references, flattened and without repeats.
pub(super) fn category_labels(policy: &Policy, refs: &[Category]) -> Vec<String> {
    let all = policy.categories.len() > 1
        && refs
            .iter()
            .any(|r| policy.categories.iter().all(|d| d.id.is_within(r)));
    if all {
        return vec!["all the personal information listed above".to_string()];
    }
    let mut out: Vec<String> = Vec::new();
    for r in refs {
        let defined: Vec<&CategoryDef> = policy
            .categories
            .iter()
            .filter(|d| d.id.is_within(r))
            .collect();
        let labels = if defined.is_empty() {
            vec![r.as_str().to_string()]
        } else {
            defined
                .iter()
                .map(|d| lower_first(d.description.trim()))
                .collect()
        };
        for l in labels {
            if !out.contains(&l) {
                out.push(l);
            }
        }
    }
    out
}

pub(super) fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(a) => a.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub(super) fn purpose_label(policy: &Policy, p: &vow_core::PurposeId) -> String {
    match policy.purpose(p) {
        Some(def) => def.description.trim().to_string(),
        None => p.as_str().to_string(),
    }
}

pub(super) fn join(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        2 => format!("{} and {}", items[0], items[1]),
        n => format!("{}, and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

pub(super) fn or_none(s: String) -> String {
    if s.is_empty() { "—".to_string() } else { s }
}

pub(super) fn email_ok(s: &str) -> bool {
    let Some((user, host)) = s.split_once('@') else {
        return false;
    };
    let ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
    };
    ok(user) && ok(host) && host.contains('.')
}

pub(super) fn url_ok(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > 8
        && s.chars().all(|c| {
            c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\'' | '`' | '\\' | '(' | ')')
        })
}

pub(super) fn channel_words(c: ContactChannel) -> &'static str {
    match c {
        ContactChannel::Email => "Email",
        ContactChannel::Phone => "Telephone",
        ContactChannel::Mail => "Mail",
        ContactChannel::Web => "Online",
    }
}

pub(super) fn days(n: u32) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(jurisdiction("US-CA"), "California, United States (US-CA)");
        assert_eq!(jurisdiction("CA"), "Canada (CA)");
        assert_eq!(jurisdiction("MX-JAL"), "MX-JAL (Mexico)");
        assert_eq!(join(&["a".into(), "b".into(), "c".into()]), "a, b, and c");
        assert!(email_ok("privacy@example.com"));
        assert!(!email_ok("a@b"));
        assert!(!email_ok("x\"@y.z"));
        assert!(url_ok("https://example.com/privacy"));
        assert!(!url_ok("javascript:alert(1)"));
        assert!(!url_ok("https://x.com/\"onmouseover"));
    }
}
