//! The request portal's pages (issue 10): the list of request types, a request's
//! form, "check your e-mail" with the code form, and the status page. The server
//! builds the models in the words of [`super::portal_words`]; every value is escaped.

use super::Chrome;
use crate::render::page;
use askama::Template;

/// A request type on the portal's first page.
#[derive(Debug, Clone)]
pub struct TypeLink {
    pub label: String,
    pub description: String,
    pub href: String,
}

/// One of a select's or a group of boxes' choices.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// What a form field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A heading that starts a group of fields.
    Heading,
    Text,
    Email,
    Tel,
    Select,
    /// Radio buttons (one of the choices).
    Radios,
    /// Check boxes (any of the choices).
    Boxes,
    /// One check box.
    Check,
    File,
}

/// A field of a form. `value` is only ever what this browser sent for this field.
#[derive(Debug, Clone)]
pub struct Field {
    pub kind: FieldKind,
    pub name: String,
    pub label: String,
    pub hint: Option<String>,
    pub value: String,
    pub required: bool,
    pub error: Option<String>,
    pub choices: Vec<Choice>,
    pub autocomplete: Option<&'static str>,
}

impl Field {
    pub fn new(kind: FieldKind, name: &str, label: &str) -> Field {
        Field {
            kind,
            name: name.to_string(),
            label: label.to_string(),
            hint: None,
            value: String::new(),
            required: false,
            error: None,
            choices: Vec::new(),
            autocomplete: None,
        }
    }

    /// The element's id (field names are ASCII words with `.`/`_`).
    pub fn id(&self) -> String {
        format!("f-{}", self.name.replace(['.', '_'], "-"))
    }

    pub fn is(&self, kind: FieldKind) -> bool {
        self.kind == kind
    }
}

/// A link to another path through the same form (the person, an agent, a parent).
#[derive(Debug, Clone)]
pub struct PathLink {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// A request's form.
#[derive(Debug, Clone)]
pub struct FormPage {
    pub heading: String,
    pub intro: String,
    pub paths: Vec<PathLink>,
    pub csrf: String,
    pub fields: Vec<Field>,
    pub submit: String,
}

/// The code form: posts the code with the request's token to `action`.
#[derive(Debug, Clone)]
pub struct CodeForm {
    pub action: String,
    pub csrf: String,
    pub code_ref: String,
    pub error: Option<String>,
}

/// The status page.
#[derive(Debug, Clone)]
pub struct StatusPage {
    /// (label, value) rows: type, state, received, due.
    pub facts: Vec<(String, String)>,
    pub paused: Option<String>,
    pub notices: Vec<(String, String)>,
    pub download: Option<String>,
    pub code: Option<CodeForm>,
    pub code_intro: Option<String>,
    /// Where an appeal of a denial will be linked from (label, address).
    pub appeal: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "portal_index.html")]
struct IndexHtml<'a> {
    chrome: &'a Chrome,
    intro: &'a str,
    types: &'a [TypeLink],
}

#[derive(Template)]
#[template(path = "portal_form.html")]
struct FormHtml<'a> {
    chrome: &'a Chrome,
    f: &'a FormPage,
    errors: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "portal_code.html")]
struct CodeHtml<'a> {
    chrome: &'a Chrome,
    heading: &'a str,
    paras: &'a [String],
    code: Option<&'a CodeForm>,
}

#[derive(Template)]
#[template(path = "portal_status.html")]
struct StatusHtml<'a> {
    chrome: &'a Chrome,
    s: &'a StatusPage,
}

/// The portal's first page: the request types offered.
pub fn index_page(chrome: &mut Chrome, types: &[TypeLink]) -> String {
    let w = chrome.lang.portal();
    chrome.title = w.index_title.to_string();
    page(&IndexHtml {
        chrome,
        intro: w.index_intro,
        types,
    })
}

/// A request's form, with its errors listed first (each linking to its field).
pub fn form_page(chrome: &mut Chrome, f: &FormPage) -> String {
    chrome.title = f.heading.clone();
    let errors = f
        .fields
        .iter()
        .filter_map(|x| {
            x.error
                .as_ref()
                .map(|e| (x.id(), format!("{}: {e}", x.label)))
        })
        .collect();
    page(&FormHtml { chrome, f, errors })
}

/// A heading, paragraphs and, when given, the code form.
pub fn code_page(
    chrome: &mut Chrome,
    heading: &str,
    paras: &[String],
    code: Option<&CodeForm>,
) -> String {
    chrome.title = heading.to_string();
    page(&CodeHtml {
        chrome,
        heading,
        paras,
        code,
    })
}

/// A request's status page.
pub fn status_page(chrome: &mut Chrome, s: &StatusPage) -> String {
    chrome.title = chrome.lang.portal().status_title.to_string();
    page(&StatusHtml { chrome, s })
}
