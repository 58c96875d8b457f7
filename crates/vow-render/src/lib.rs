//! Documents: every notice, e-mail, report and page Vow produces, from the askama
//! templates in `crates/vow-render/templates/`, with one stylesheet (`style.css`)
//! and one date style per language ([`date`]).
//!
//! This crate holds the document models that are pure data — a [`letter::Letter`]
//! (request notices, e-mails to administrators) and a [`document::Document`] (the
//! policy notice, reports) — and renders them. The callers (vow-policy, vow-engine)
//! decide what a document says by building its model; the templates decide how it
//! looks. Every value in an HTML rendering is escaped; Markdown renderings escape
//! Markdown; text renderings are plain.

pub mod access;
pub mod api_docs;
pub mod breach;
pub mod console;
pub mod console_words;
pub mod date;
pub mod document;
pub mod letter;
pub mod prefs;
mod render;
mod text;
pub mod web;
pub mod web_appeal;

pub use date::{Lang, long_date, long_date_time};
pub use render::{HtmlEscaper, STYLE, escape_html};

#[cfg(test)]
mod tests;
