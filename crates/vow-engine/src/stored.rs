//! Reading back values Vow itself wrote (purposes and categories kept as text or JSON
//! lists). Each was checked when it went in, so one that no longer parses means the store
//! was altered or corrupted: an internal error naming the column, never a silent skip,
//! and never the value itself (it may be anything).

use crate::error::{EngineError, Result};
use vow_core::{Category, PurposeId};

/// The error for an unreadable stored value; `what` names the column, e.g. `field purposes`.
pub(crate) fn corrupt(what: &str) -> EngineError {
    EngineError::Internal(format!("the store holds an unreadable {what}"))
}

pub(crate) fn purpose(what: &str, text: &str) -> Result<PurposeId> {
    PurposeId::new(text).map_err(|_| corrupt(what))
}

pub(crate) fn category(what: &str, text: &str) -> Result<Category> {
    Category::new(text).map_err(|_| corrupt(what))
}

/// A JSON list of strings, as the store keeps purposes and categories.
pub(crate) fn list(what: &str, json: &str) -> Result<Vec<String>> {
    serde_json::from_str(json).map_err(|_| corrupt(what))
}

/// A JSON list of purposes.
pub(crate) fn purposes(what: &str, json: &str) -> Result<Vec<PurposeId>> {
    list(what, json)?.iter().map(|p| purpose(what, p)).collect()
}

/// A JSON list of categories.
pub(crate) fn categories(what: &str, json: &str) -> Result<Vec<Category>> {
    list(what, json)?
        .iter()
        .map(|c| category(what, c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_stored_value_is_an_internal_error_without_the_value() {
        assert_eq!(
            purposes("p", r#"["research","marketing.email"]"#)
                .map(|v| v.len())
                .ok(),
            Some(2)
        );
        for bad in [r#"["Bad Purpose"]"#, "not json", r#"[1]"#] {
            let e = purposes("field purposes", bad).err();
            let Some(EngineError::Internal(m)) = e else {
                panic!("expected an internal error");
            };
            assert_eq!(m, "the store holds an unreadable field purposes");
        }
        assert!(categories("hold categories", r#"["user.Name"]"#).is_err());
    }
}
