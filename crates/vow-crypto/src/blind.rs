//! Blind indexes: find a subject by email, phone or external id without storing
//! the identifier in clear. HMAC-SHA256 over the normalised value, truncated to
//! 16 bytes, keyed per tenant and per identifier kind, so equal values in two
//! tenants (or an email that looks like an external id) never share an index.

use std::fmt;

use unicode_normalization::UnicodeNormalization as _;

use crate::chain::hmac_sha256;
use crate::error::CryptoError;
use crate::keys::Key32;

/// The kinds of identifier a subject can be looked up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentifierKind {
    /// An email address.
    Email,
    /// A phone number, normalised to E.164.
    Phone,
    /// The calling application's own id for the person.
    ExternalId,
}

impl IdentifierKind {
    /// Every kind, in a fixed order.
    pub const ALL: [IdentifierKind; 3] = [
        IdentifierKind::Email,
        IdentifierKind::Phone,
        IdentifierKind::ExternalId,
    ];

    /// Stable name, used in APIs, storage and key derivation labels.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::Email => "email",
            IdentifierKind::Phone => "phone",
            IdentifierKind::ExternalId => "external_id",
        }
    }

    /// The inverse of [`IdentifierKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        IdentifierKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn info(self) -> &'static [u8] {
        match self {
            IdentifierKind::Email => b"vow:v1:bidx:email",
            IdentifierKind::Phone => b"vow:v1:bidx:phone",
            IdentifierKind::ExternalId => b"vow:v1:bidx:external_id",
        }
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const EMAIL_MAX: usize = 254;
const EXTERNAL_ID_MAX: usize = 128;

/// Brings an identifier to its one canonical spelling, so that every way a
/// person types it finds the same index. The error says why, never echoes input.
pub fn normalize(kind: IdentifierKind, raw: &str) -> Result<String, CryptoError> {
    match kind {
        IdentifierKind::Email => normalize_email(raw),
        IdentifierKind::Phone => normalize_phone(raw),
        IdentifierKind::ExternalId => normalize_external_id(raw),
    }
}

fn normalize_email(raw: &str) -> Result<String, CryptoError> {
    let trimmed = raw.trim();
    // Cheap bound before Unicode work: no char is longer than 4 bytes.
    if trimmed.len() > EMAIL_MAX * 4 {
        return Err(CryptoError::Malformed(
            "email address is longer than 254 characters",
        ));
    }
    // NFC, lowercase, NFC again: lowercasing can in rare cases leave a string
    // that is not in NFC, and the index must see one spelling only.
    let lowered: String = trimmed.nfc().collect::<String>().to_lowercase();
    let email: String = lowered.nfc().collect();
    if email.is_empty() {
        return Err(CryptoError::Malformed("email address is empty"));
    }
    if email.chars().count() > EMAIL_MAX {
        return Err(CryptoError::Malformed(
            "email address is longer than 254 characters",
        ));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CryptoError::Malformed(
            "email address contains spaces or control characters",
        ));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(CryptoError::Malformed("email address has no '@'"));
    };
    if domain.contains('@') {
        return Err(CryptoError::Malformed(
            "email address has more than one '@'",
        ));
    }
    if local.is_empty() {
        return Err(CryptoError::Malformed(
            "email address has nothing before the '@'",
        ));
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(CryptoError::Malformed(
            "email domain must contain a '.' and not start or end with one",
        ));
    }
    Ok(email)
}

const PHONE_MIN_DIGITS: usize = 8;
const PHONE_MAX_DIGITS: usize = 15;

fn normalize_phone(raw: &str) -> Result<String, CryptoError> {
    let trimmed = raw.trim();
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let mut digits = String::with_capacity(PHONE_MAX_DIGITS + 1);
    for c in rest.chars() {
        if c.is_ascii_digit() {
            if digits.len() > PHONE_MAX_DIGITS {
                return Err(CryptoError::Malformed(
                    "phone number has more than 15 digits",
                ));
            }
            digits.push(c);
        } else if !(c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')')) {
            return Err(CryptoError::Malformed(
                "phone number may contain only digits, a leading '+', spaces and - . ( )",
            ));
        }
    }
    let national = if plus {
        digits
    } else if digits.len() == 10 {
        // North American Numbering Plan without the country code.
        format!("1{digits}")
    } else if digits.len() == 11 && digits.starts_with('1') {
        digits
    } else {
        return Err(CryptoError::Malformed(
            "phone number needs a '+' and country code (only 10-digit North American numbers may omit it)",
        ));
    };
    if !(PHONE_MIN_DIGITS..=PHONE_MAX_DIGITS).contains(&national.len()) {
        return Err(CryptoError::Malformed(
            "phone number must have 8 to 15 digits (E.164)",
        ));
    }
    if national.starts_with('0') {
        return Err(CryptoError::Malformed(
            "phone country code cannot start with 0",
        ));
    }
    Ok(format!("+{national}"))
}

fn normalize_external_id(raw: &str) -> Result<String, CryptoError> {
    let id = raw.trim();
    if id.is_empty() {
        return Err(CryptoError::Malformed("external id is empty"));
    }
    if id.len() > EXTERNAL_ID_MAX * 4 || id.chars().count() > EXTERNAL_ID_MAX {
        return Err(CryptoError::Malformed(
            "external id is longer than 128 characters",
        ));
    }
    if id.chars().any(char::is_control) {
        return Err(CryptoError::Malformed(
            "external id contains control characters",
        ));
    }
    Ok(id.to_owned())
}

/// Computes blind indexes for one tenant. Holds one derived key per kind
/// (HKDF of the tenant index key with `vow:v1:bidx:<kind>`).
#[derive(Clone)]
pub struct BlindIndexer {
    email: Key32,
    phone: Key32,
    external_id: Key32,
}

impl BlindIndexer {
    /// Derives the per-kind keys from the tenant's index key.
    pub fn new(tenant_index_key: &Key32) -> Self {
        BlindIndexer {
            email: tenant_index_key.derive(IdentifierKind::Email.info()),
            phone: tenant_index_key.derive(IdentifierKind::Phone.info()),
            external_id: tenant_index_key.derive(IdentifierKind::ExternalId.info()),
        }
    }

    /// Normalises `raw`, then indexes it.
    pub fn index(&self, kind: IdentifierKind, raw: &str) -> Result<[u8; 16], CryptoError> {
        let normalized = normalize(kind, raw)?;
        Ok(self.index_normalized(kind, &normalized))
    }

    /// Indexes a value already passed through [`normalize`] (not re-checked).
    pub fn index_normalized(&self, kind: IdentifierKind, normalized: &str) -> [u8; 16] {
        let key = match kind {
            IdentifierKind::Email => &self.email,
            IdentifierKind::Phone => &self.phone,
            IdentifierKind::ExternalId => &self.external_id,
        };
        let mac = hmac_sha256(key, normalized.as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&mac[..16]);
        out
    }
}

impl fmt::Debug for BlindIndexer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlindIndexer([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IdentifierKind::{Email, ExternalId, Phone};

    #[test]
    fn kind_names_round_trip() {
        for k in IdentifierKind::ALL {
            assert_eq!(IdentifierKind::parse(k.as_str()), Some(k));
            assert_eq!(k.to_string(), k.as_str());
        }
        assert_eq!(IdentifierKind::parse("Email"), None);
        assert_eq!(IdentifierKind::parse(""), None);
    }

    #[test]
    fn normalisation_table() {
        let ok: &[(IdentifierKind, &str, &str)] = &[
            (Email, " Ada@Example.ORG ", "ada@example.org"),
            (
                Email,
                "ada.lovelace+vow@example.co.uk",
                "ada.lovelace+vow@example.co.uk",
            ),
            (
                Email,
                "E\u{301}VA@exa\u{301}mple.fr",
                "\u{e9}va@ex\u{e1}mple.fr",
            ),
            (
                Email,
                "\u{c9}va@EX\u{c1}MPLE.fr",
                "\u{e9}va@ex\u{e1}mple.fr",
            ),
            (Email, "\tx@y.z\n", "x@y.z"),
            (Phone, "(306) 555-0100", "+13065550100"),
            (Phone, "306.555.0100", "+13065550100"),
            (Phone, "1 306 555 0100", "+13065550100"),
            (Phone, "+1 306-555-0100", "+13065550100"),
            (Phone, "+44 20 7946 0958", "+442079460958"),
            (Phone, "+49\u{a0}30\u{a0}123456", "+4930123456"),
            (Phone, "+123456789012345", "+123456789012345"),
            (ExternalId, "  user-42  ", "user-42"),
            (ExternalId, "CaseKept", "CaseKept"),
            (ExternalId, "ünïcödé id", "ünïcödé id"),
        ];
        for (kind, raw, want) in ok {
            assert_eq!(
                normalize(*kind, raw).as_deref(),
                Ok(*want),
                "{kind} {raw:?}"
            );
        }

        let long_local = "a".repeat(250);
        let long_email = format!("{long_local}@x.io");
        let long_id = "x".repeat(129);
        let bad: &[(IdentifierKind, &str)] = &[
            (Email, ""),
            (Email, "   "),
            (Email, "ada.example.org"),
            (Email, "ada@@example.org"),
            (Email, "a@b@example.org"),
            (Email, "@example.org"),
            (Email, "ada@localhost"),
            (Email, "ada@example."),
            (Email, "ada@.org"),
            (Email, "ada @example.org"),
            (Email, "ada@exa\u{0}mple.org"),
            (Email, &long_email),
            (Phone, ""),
            (Phone, "+"),
            (Phone, "555-0100"),
            (Phone, "12345"),
            (Phone, "+1234567"),
            (Phone, "+1234567890123456"),
            (Phone, "306 555 01000"),
            (Phone, "44 20 7946 0958"),
            (Phone, "+1 306 555 O100"),
            (Phone, "++13065550100"),
            (Phone, "+1 306 555 0100 ext 5"),
            (Phone, "1+3065550100"),
            (Phone, "+0123456789"),
            (Phone, "+1\u{665}3065550100"),
            (ExternalId, ""),
            (ExternalId, "  \t "),
            (ExternalId, &long_id),
            (ExternalId, "a\u{7}b"),
            (ExternalId, "line\nbreak"),
        ];
        for (kind, raw) in bad {
            let err = normalize(*kind, raw).unwrap_err();
            assert!(matches!(err, CryptoError::Malformed(_)), "{kind} {raw:?}");
        }
        assert_eq!(
            normalize(Email, &format!("{}@x.io", "a".repeat(249)))
                .unwrap()
                .len(),
            254
        );
        assert_eq!(
            normalize(ExternalId, &"é".repeat(128))
                .unwrap()
                .chars()
                .count(),
            128
        );
    }

    #[test]
    fn errors_do_not_echo_input() {
        let err = normalize(Email, "secret-person@nowhere").unwrap_err();
        assert!(!err.to_string().contains("secret-person"));
        assert!(!format!("{err:?}").contains("secret-person"));
    }

    #[test]
    fn indexes_depend_on_tenant_kind_and_spelling_not_at_all() {
        let t1 = BlindIndexer::new(&Key32::from_bytes([1; 32]));
        let t2 = BlindIndexer::new(&Key32::from_bytes([2; 32]));
        let a = t1.index(Email, " Ada@Example.ORG").unwrap();
        assert_eq!(a, t1.index(Email, "ada@example.org").unwrap());
        assert_eq!(a, t1.index_normalized(Email, "ada@example.org"));
        assert_ne!(a, t2.index(Email, "ada@example.org").unwrap());
        assert_ne!(a, t1.index_normalized(ExternalId, "ada@example.org"));
        assert_ne!(a, t1.index(Email, "bob@example.org").unwrap());
        assert_eq!(
            t1.index(Phone, "(306) 555-0100").unwrap(),
            t1.index(Phone, "+1 306 555 0100").unwrap()
        );
        assert!(t1.index(Phone, "nope").is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let key = Key32::from_bytes([0xab; 32]);
        let dbg = format!("{:?}", BlindIndexer::new(&key));
        assert_eq!(dbg, "BlindIndexer([redacted])");
    }
}
