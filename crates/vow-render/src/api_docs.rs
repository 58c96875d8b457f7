//! The `/docs` page: the frame of the interactive API reference (Swagger UI, whose
//! files the server serves from the binary). The one page with script, all of it
//! from the server's own address: the page itself holds none.

use crate::render::page;
use askama::Template;

#[derive(Template)]
#[template(path = "api_docs.html")]
struct ApiDocsHtml<'a> {
    title: &'a str,
    assets: &'a str,
    spec: &'a str,
}

/// The page: `assets` the address its files are under (no trailing `/`), `spec` the
/// OpenAPI document's address.
pub fn api_docs_page(assets: &str, spec: &str) -> String {
    page(&ApiDocsHtml {
        title: "Vow API reference",
        assets,
        spec,
    })
}

/// The stylesheet `/docs` adds to Swagger UI's.
pub const API_DOCS_STYLE: &str = include_str!("../templates/api_docs.css");
