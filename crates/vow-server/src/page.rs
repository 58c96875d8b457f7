//! How Vow's HTML documents are served: nothing may load but the inline stylesheet,
//! nothing may frame them, and no referrer leaves with a link. The templates carry
//! the same policy in a meta tag for documents read outside the server.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The Content-Security-Policy of every HTML document the server sends.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/// An HTML document as a response.
pub fn html(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}
