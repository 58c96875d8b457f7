//! `/docs`: the OpenAPI document (`/openapi.json`) in Swagger UI, an interactive
//! reference. Swagger UI's files are built into the binary from the
//! `utoipa-swagger-ui` crate's vendored copy (nothing is downloaded, at build time or
//! by the browser); the page's frame is vow-render's `api_docs.html`.
//!
//! - `GET /docs`: the page, with its own Content-Security-Policy ([`DOCS_CSP`]):
//!   scripts, styles, images and fetches from this server only, no inline script.
//! - `GET /docs/{hash}/{file}`: Swagger UI's files and Vow's small stylesheet, at an
//!   address that carries a hash of all of them (like the pages' stylesheet), so they
//!   are cached for a year and a new binary's files get a new address.

use crate::pages::not_found_page;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::{Arc, LazyLock};
use utoipa_swagger_ui::Config;

/// The Content-Security-Policy of `/docs`: unlike the pages' it allows script, but
/// only files from this server (no inline script, no `eval`); Swagger UI's inline
/// SVG icons need `data:` images.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The files `/docs` uses, by name.
const FILES: [&str; 5] = [
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "swagger-initializer.js",
    "favicon-32x32.png",
];
/// Vow's stylesheet for the page, served with Swagger UI's files.
const VOW_CSS: &str = "vow-docs.css";

struct Asset {
    bytes: Bytes,
    content_type: String,
}

struct Assets {
    /// `/docs/<12 hex digits>`: where the files are.
    base: String,
    files: Vec<(&'static str, Asset)>,
    page: String,
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    // Swagger UI's settings: the document, no top bar (its URL box and link to
    // swagger.io), no validator badge (an image from validator.swagger.io), no deep
    // links (a link inside each operation's button: nested controls, for axe).
    let config = Arc::new(
        Config::new(["/openapi.json"])
            .use_base_layout()
            .validator_url("none")
            .deep_linking(false)
            .display_request_duration(true)
            .filter(true),
    );
    let mut files: Vec<(&'static str, Asset)> = FILES
        .iter()
        .filter_map(|name| {
            let f = utoipa_swagger_ui::serve(name, config.clone())
                .ok()
                .flatten()?;
            Some((
                *name,
                Asset {
                    bytes: Bytes::from(f.bytes.into_owned()),
                    content_type: f.content_type,
                },
            ))
        })
        .collect();
    files.push((
        VOW_CSS,
        Asset {
            bytes: Bytes::from_static(vow_render::api_docs::API_DOCS_STYLE.as_bytes()),
            content_type: "text/css".to_string(),
        },
    ));
    let mut hash = Sha256::new();
    for (name, f) in &files {
        hash.update(name.as_bytes());
        hash.update((f.bytes.len() as u64).to_le_bytes());
        hash.update(&f.bytes);
    }
    let hex: String = hash
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    let base = format!("/docs/{hex}");
    let page = vow_render::api_docs::api_docs_page(&base, "/openapi.json");
    Assets { base, files, page }
});

/// The address of `/docs`' files (for tests and the documentation).
pub fn assets_base() -> &'static str {
    &ASSETS.base
}

/// `GET /docs`.
pub async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, DOCS_CSP),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        ASSETS.page.clone(),
    )
        .into_response()
}

/// `GET /docs/{hash}/{file}`: one of the page's files, at the current hash only.
pub async fn asset(Path((hash, file)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let found = ASSETS
        .base
        .strip_prefix("/docs/")
        .filter(|h| *h == hash)
        .and_then(|_| ASSETS.files.iter().find(|(name, _)| *name == file));
    let Some((_, f)) = found else {
        return not_found_page(crate::pages::language(None, &headers));
    };
    let content_type = match f.content_type.as_str() {
        t @ ("text/css" | "text/javascript" | "application/javascript") => {
            format!("{t}; charset=utf-8")
        }
        t => t.to_string(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CACHE_CONTROL,
                "public, max-age=31536000, immutable".to_string(),
            ),
        ],
        f.bytes.clone(),
    )
        .into_response()
}
