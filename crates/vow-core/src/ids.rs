//! Validated names: tenant ids, data categories and purposes.
//!
//! Categories and purposes follow the fideslang style: dotted lowercase
//! segments, e.g. `user.contact.email`, `marketing.email`.

use crate::error::CoreError;
use serde::{Deserialize, Serialize};
use std::fmt;

fn is_segment(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

fn check_dotted(what: &'static str, value: &str) -> Result<(), CoreError> {
    if value.is_empty() || value.len() > 128 {
        return Err(CoreError::InvalidName {
            what,
            why: "must be 1 to 128 characters",
        });
    }
    if !value.split('.').all(is_segment) {
        return Err(CoreError::InvalidName {
            what,
            why: "must be dotted lowercase segments, each starting with a letter (e.g. user.contact.email)",
        });
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Result<Self, CoreError> {
                let value = value.into();
                ($check)($what, value.as_str())?;
                Ok(Self(value))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = CoreError;
            fn try_from(value: String) -> Result<Self, CoreError> {
                Self::new(value)
            }
        }
        impl std::str::FromStr for $name {
            type Err = CoreError;
            fn from_str(value: &str) -> Result<Self, CoreError> {
                Self::new(value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

fn check_slug(what: &'static str, value: &str) -> Result<(), CoreError> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(CoreError::InvalidName {
            what,
            why: "must be 1 to 63 characters of a-z, 0-9 and '-', starting with a letter or digit",
        })
    }
}

name_type!(
    /// A tenant's id: a lowercase slug such as `acme-research`.
    TenantId,
    "tenant id",
    check_slug
);
name_type!(
    /// A data category, e.g. `user.contact.email`.
    Category,
    "data category",
    check_dotted
);
name_type!(
    /// A purpose of processing, e.g. `research` or `marketing.email`.
    PurposeId,
    "purpose",
    check_dotted
);
name_type!(
    /// A short id of a thing named in a policy (a recipient, a store).
    LocalId,
    "id",
    check_slug_or_dotted
);

fn check_slug_or_dotted(what: &'static str, value: &str) -> Result<(), CoreError> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(CoreError::InvalidName {
            what,
            why: "must be 1 to 63 characters of a-z, 0-9, '-', '_' and '.', starting with a letter",
        })
    }
}

impl Category {
    /// True if `self` is `other` or a descendant of it (`user.contact.email` is within `user.contact`).
    pub fn is_within(&self, other: &Category) -> bool {
        self.0 == other.0
            || (self.0.len() > other.0.len()
                && self.0.starts_with(other.0.as_str())
                && self.0.as_bytes().get(other.0.len()) == Some(&b'.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(Category::new("user.contact.email").is_ok());
        assert!(Category::new("User.email").is_err());
        assert!(Category::new("user..email").is_err());
        assert!(Category::new("").is_err());
        assert!(TenantId::new("acme-research").is_ok());
        assert!(TenantId::new("Acme").is_err());
        assert!(TenantId::new("a/b").is_err());
        assert!(PurposeId::new("research").is_ok());
        assert!(PurposeId::new("Research").is_err());
    }

    #[test]
    fn errors_name_the_expectation_not_the_value() {
        let e = PurposeId::new("ada@example.org").unwrap_err().to_string();
        assert!(e.starts_with("invalid purpose: must be"), "{e}");
        assert!(!e.contains("ada"), "{e}");
        let e = TenantId::new("Secret Tenant").unwrap_err().to_string();
        assert!(!e.contains("Secret"), "{e}");
    }

    #[test]
    fn category_hierarchy() {
        let email = Category::new("user.contact.email").unwrap();
        assert!(email.is_within(&Category::new("user.contact").unwrap()));
        assert!(email.is_within(&email));
        assert!(!email.is_within(&Category::new("user.con").unwrap()));
        assert!(!Category::new("user").unwrap().is_within(&email));
    }
}
