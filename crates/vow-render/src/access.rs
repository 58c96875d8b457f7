//! The access (and right-to-know) package in plain words: `access.html`, a standalone
//! page a person downloads. The engine fills the model from the package's JSON.

use crate::date::Lang;
use crate::render::{STYLE, page};
use askama::Template;

/// A code of the policy and what it means.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meaning {
    pub code: String,
    pub means: String,
    pub sensitive: bool,
    /// For purposes: the legal basis in words.
    pub legal_basis: String,
}

/// One piece of information held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldRow {
    pub category: String,
    /// The value, or why it is not shown.
    pub value: Shown,
    pub purposes: String,
    pub source: String,
    /// RFC 3339.
    pub collected_at: String,
}

/// A value shown, or withheld with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    Value(String),
    Withheld(String),
}

impl Default for Shown {
    fn default() -> Self {
        Shown::Value(String::new())
    }
}

/// One consent event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsentRow {
    /// RFC 3339.
    pub at: String,
    pub purpose: String,
    pub action: String,
    pub kind: String,
}

/// The package. Times are RFC 3339 strings as stored; they are shown in the date style.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessPackage {
    pub organisation: String,
    pub generated_at: String,
    /// (from, to) of a right-to-know package.
    pub look_back: Option<(String, String)>,
    pub categories: Vec<Meaning>,
    pub purposes: Vec<Meaning>,
    pub sources: Vec<String>,
    pub recipient_categories: Vec<String>,
    /// The pieces themselves (an access package; a know package has none).
    pub fields: Option<Vec<FieldRow>>,
    pub consents: Option<Vec<ConsentRow>>,
}

#[derive(Template)]
#[template(path = "access.html")]
struct AccessHtml<'a> {
    lang: Lang,
    style: &'static str,
    p: &'a AccessPackage,
}

impl AccessHtml<'_> {
    fn day(&self, s: &str) -> String {
        self.lang.day_of(s)
    }
    fn moment(&self, s: &str) -> String {
        self.lang.moment_of(s)
    }
}

impl AccessPackage {
    /// A standalone HTML page (no scripts, no external resources), every value escaped.
    pub fn to_html(&self) -> String {
        page(&AccessHtml {
            lang: Lang::En,
            style: STYLE,
            p: self,
        })
    }
}
