//! Region and jurisdiction codes: one grammar for every place Vow reads one (a
//! person's residence, a request's declared jurisdiction, a policy's `jurisdictions`,
//! a rule pack's `id` and `scope`).
//!
//! A code is an ISO 3166 country (`DE`, `BR`), `EU` or `UK`, optionally `-` and a
//! subdivision of 1 to 3 letters or digits (`US-CA`, `CA-QC`, `FR-75`). `EU` has no
//! subdivisions. A rule pack may also name a law of a country (`CA-CASL`,
//! `US-CANSPAM`): `-` and 4 to 16 letters or digits ([`Jurisdiction::parse_pack_id`]).
//!
//! Codes are compared without regard to case, and `GB` and `UK` are the same
//! (`docs/rules.md`). The canonical form is upper case; it keeps `GB` as written.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A well-formed code in its canonical (upper-case) form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Jurisdiction(String);

/// A code could not be read. The text sent is not kept: a mistaken column could hold
/// personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a region code: write an ISO 3166 country (e.g. GB, DE) or subdivision (e.g. US-CA, CA-SK)"
)]
pub struct JurisdictionError;

/// Longest part after the `-` of a region (ISO 3166-2 subdivisions have 1 to 3).
const MAX_SUBDIVISION: usize = 3;
/// Longest part after the `-` of a pack id that names a law (`CA-CASL`).
const MAX_LAW: usize = 16;

/// `code` (already upper case) follows the grammar, with at most `max_sub`
/// characters after the `-`.
fn well_formed(code: &str, max_sub: usize) -> bool {
    let (country, sub) = match code.split_once('-') {
        Some((c, s)) => (c, Some(s)),
        None => (code, None),
    };
    country.len() == 2
        && country.bytes().all(|b| b.is_ascii_uppercase())
        && sub.is_none_or(|s| {
            country != "EU"
                && (1..=max_sub).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
}

impl Jurisdiction {
    /// Read a region code as a person or a client writes it: surrounding spaces and
    /// case do not matter (` us-ca ` is `US-CA`).
    pub fn parse(text: &str) -> Result<Self, JurisdictionError> {
        let code = text.trim().to_ascii_uppercase();
        if well_formed(&code, MAX_SUBDIVISION) {
            Ok(Self(code))
        } else {
            Err(JurisdictionError)
        }
    }

    /// Read a region code written in its canonical form only (files whose format says
    /// "capital letters": a policy's `jurisdictions`, a pack's `scope`).
    pub fn parse_canonical(text: &str) -> Result<Self, JurisdictionError> {
        Self::parse(text).and_then(|j| {
            if j.0 == text {
                Ok(j)
            } else {
                Err(JurisdictionError)
            }
        })
    }

    /// Read a rule pack's id, in canonical form: a region code, or a law of a country
    /// (`CA-CASL`, `US-CANSPAM`).
    pub fn parse_pack_id(text: &str) -> Result<Self, JurisdictionError> {
        if well_formed(text, MAX_LAW) {
            Ok(Self(text.to_string()))
        } else {
            Err(JurisdictionError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country part (`US` of `US-CA`).
    pub fn country(&self) -> &str {
        country_of(&self.0)
    }

    /// This code is `parent` or a subdivision of it, `GB` and `UK` being the same.
    pub fn is_within(&self, parent: &Jurisdiction) -> bool {
        within(&self.0, &parent.0)
    }
}

impl TryFrom<String> for Jurisdiction {
    type Error = JurisdictionError;
    fn try_from(value: String) -> Result<Self, JurisdictionError> {
        Self::parse(&value)
    }
}

impl std::str::FromStr for Jurisdiction {
    type Err = JurisdictionError;
    fn from_str(value: &str) -> Result<Self, JurisdictionError> {
        Self::parse(value)
    }
}

impl From<Jurisdiction> for String {
    fn from(value: Jurisdiction) -> String {
        value.0
    }
}

impl AsRef<str> for Jurisdiction {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Jurisdiction {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Jurisdiction {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// The form two codes are compared in: trimmed, upper case, `GB` read as `UK`. Works
/// on any text (pack ids and policy lists are kept as written).
pub fn comparison_key(code: &str) -> String {
    let c = code.trim().to_ascii_uppercase();
    match c.strip_prefix("GB") {
        Some(rest) if rest.is_empty() || rest.starts_with('-') => format!("UK{rest}"),
        _ => c,
    }
}

/// `code` is `parent` or a subdivision of it (`US-CA` within `US`), compared by
/// [`comparison_key`].
pub fn within(code: &str, parent: &str) -> bool {
    let (code, parent) = (comparison_key(code), comparison_key(parent));
    code == parent
        || (code.len() > parent.len()
            && code.starts_with(&parent)
            && code.as_bytes().get(parent.len()) == Some(&b'-'))
}

/// The country part of a code (`US` of `US-CA`; the whole text without a `-`).
pub fn country_of(code: &str) -> &str {
    code.split('-').next().unwrap_or(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_read_in_any_case_and_keep_the_canonical_form() {
        for ok in ["US-CA", "ca-sk", "GB", "DE", "FR-75", "CA-QC", "EU", "UK"] {
            assert!(Jurisdiction::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Jurisdiction::parse(" us-ca ").unwrap(), "US-CA");
        for bad in [
            "", "U", "USA", "US-", "US-CALI", "1S", "US CA", "US-C@", "EU-FR", "US_CA", "Ü1",
        ] {
            assert!(Jurisdiction::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn canonical_spelling_and_pack_ids() {
        assert!(Jurisdiction::parse_canonical("US-CA").is_ok());
        for bad in ["us-ca", "US-ca", " US-CA", "CA-CASL"] {
            assert!(Jurisdiction::parse_canonical(bad).is_err(), "{bad}");
        }
        for ok in ["US-CA", "EU", "CA-CASL", "US-CANSPAM"] {
            assert!(Jurisdiction::parse_pack_id(ok).is_ok(), "{ok}");
        }
        for bad in ["ca-casl", "EU-GDPR", "US-", "US-ABCDEFGHIJKLMNOPQ"] {
            assert!(Jurisdiction::parse_pack_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn comparison_ignores_case_and_reads_gb_as_uk() {
        assert!(within("us-ca", "US"));
        assert!(within("GB", "UK"));
        assert!(within("UK-ENG", "gb"));
        assert!(!within("US", "US-CA"));
        assert!(!within("USA", "US"));
        let ca = Jurisdiction::parse("CA-QC").unwrap();
        assert_eq!(ca.country(), "CA");
        assert!(ca.is_within(&Jurisdiction::parse("ca").unwrap()));
    }

    #[test]
    fn the_error_does_not_echo_the_value() {
        let e = Jurisdiction::parse("Saskatoon").unwrap_err().to_string();
        assert!(!e.contains("Saskatoon"));
        assert!(e.contains("region code"));
    }
}
