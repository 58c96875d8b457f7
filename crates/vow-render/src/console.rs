//! The privacy team's console (issue 10): one page model for every console page — a
//! navigation bar, an optional message, and sections of paragraphs, tables, forms and
//! preformatted text — so each page is built as data by the server and written by one
//! template (`console.html`, extending `web.html`). The console's own words are
//! English; its frame (header, footer, language switch) follows the page's language.

use crate::render::page;
use crate::web::Chrome;
use askama::Template;

/// A link.
#[derive(Debug, Clone)]
pub struct Link {
    pub label: String,
    pub href: String,
    /// The page shown (`aria-current`).
    pub current: bool,
}

impl Link {
    pub fn new(label: impl Into<String>, href: impl Into<String>) -> Link {
        Link {
            label: label.into(),
            href: href.into(),
            current: false,
        }
    }
}

/// A table cell: text, a link, and a flag class (`overdue`, `due_soon`, `paused`).
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub flag: Option<String>,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            ..Cell::default()
        }
    }
    pub fn link(t: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            href: Some(href.into()),
            flag: None,
        }
    }
    pub fn flag(t: impl Into<String>, flag: Option<String>) -> Cell {
        Cell {
            text: t.into(),
            href: None,
            flag,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub caption: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// What to say when there are no rows.
    pub empty: String,
}

/// One option of a select.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A form field.
#[derive(Debug, Clone)]
pub enum Field {
    Hidden {
        name: String,
        value: String,
    },
    Text {
        name: String,
        label: String,
        value: String,
        required: bool,
    },
    Secret {
        name: String,
        label: String,
    },
    /// Several lines of text (a notice's body).
    Area {
        name: String,
        label: String,
        value: String,
        required: bool,
    },
    Select {
        name: String,
        label: String,
        choices: Vec<Choice>,
    },
    Check {
        name: String,
        label: String,
    },
}

/// A form: `post` forms carry the anti-forgery token.
#[derive(Debug, Clone)]
pub struct Form {
    pub action: String,
    pub post: bool,
    pub csrf: String,
    pub fields: Vec<Field>,
    pub button: String,
    /// An id prefix for the fields' labels, unique on the page.
    pub id: String,
}

#[derive(Debug, Clone, Default)]
pub struct Section {
    pub heading: String,
    pub paras: Vec<String>,
    pub links: Vec<Link>,
    pub table: Option<Table>,
    pub forms: Vec<Form>,
    /// Preformatted text (a notice, opened evidence).
    pub pre: Option<String>,
}

/// Who is signed in, and where they may go.
#[derive(Debug, Clone)]
pub struct Session {
    pub key_id: String,
    pub nav: Vec<Link>,
    /// The tenants the key spans, when more than one (the switcher).
    pub tenants: Vec<Link>,
    pub sign_out: Form,
    /// The words "Key" (before the key's id) and "Tenants" (the switcher's label).
    pub key_label: String,
    pub tenants_label: String,
}

#[derive(Debug, Clone, Default)]
pub struct ConsolePage {
    pub title: String,
    pub session: Option<Session>,
    /// A message after an action (or why it was refused).
    pub message: Option<String>,
    pub error: bool,
    pub sections: Vec<Section>,
}

#[derive(Template)]
#[template(path = "console.html")]
struct ConsoleHtml<'a> {
    chrome: &'a Chrome,
    p: &'a ConsolePage,
}

/// A console page in its frame.
pub fn console_page(chrome: &mut Chrome, p: &ConsolePage) -> String {
    chrome.title = p.title.clone();
    page(&ConsoleHtml { chrome, p })
}
