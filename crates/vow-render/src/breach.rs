//! A draft breach notice (to an authority, to the people affected, or to a client):
//! `breach.txt`, a plain-text draft with underlined headings, and `breach.html`.

use crate::date::Lang;
use crate::render::{STYLE, page, render};
use askama::Template;

/// The draft: who it is from and to, and its sections (heading, body) in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BreachDraft {
    pub title: String,
    pub from: String,
    pub to: Vec<String>,
    pub reference: String,
    pub sections: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "breach.txt")]
struct BreachText<'a> {
    d: &'a BreachDraft,
}

impl BreachText<'_> {
    /// A line of `c` as long as `s`, to underline it.
    fn underline(&self, s: &str, c: char) -> String {
        std::iter::repeat_n(c, s.chars().count()).collect()
    }
}

#[derive(Template)]
#[template(path = "breach.html")]
struct BreachHtml<'a> {
    lang: Lang,
    style: &'static str,
    d: &'a BreachDraft,
}

impl BreachDraft {
    /// The draft as plain text.
    pub fn to_text(&self) -> String {
        render(&BreachText { d: self }) + "\n"
    }

    /// The draft as a standalone HTML page, every value escaped.
    pub fn to_html(&self) -> String {
        page(&BreachHtml {
            lang: Lang::En,
            style: STYLE,
            d: self,
        })
    }
}
