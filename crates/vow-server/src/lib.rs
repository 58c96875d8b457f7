//! Vow's HTTP API: routes, authentication, problem documents, OpenAPI, metrics.
//!
//! The server is a thin shell over [`vow_engine::Engine`]: handlers parse input,
//! call one engine method and shape the answer. Errors become RFC 9457 problem
//! documents, from the engine's catalogue ([`vow_engine::ErrorCode`]), in exactly one
//! place ([`problem`]).
//!
//! The modules form layers: `telemetry`, `state`, `problem`, `extract`, `page` and
//! `reserve` at the bottom; the handlers (`api`, `api_docs`, `appeals`, `breaches`, `changes`, `pages`,
//! `reports`, `retention`, `security`, `unsubscribe`, `webhooks`) above them; `openapi` and `router` on top. No
//! module names one above it.

pub mod api;
pub mod api_docs;
pub mod appeals;
pub mod breaches;
pub mod changes;
pub mod connections;
pub mod console;
pub mod documents;
pub mod extract;
pub mod form_body;
pub mod gpc;
pub mod openapi;
pub mod outbound;
pub mod page;
pub mod pages;
pub mod portal;
pub mod preferences;
pub mod problem;
pub mod reports;
pub mod reserve;
pub mod retention;
pub mod router;
pub mod security;
pub mod state;
pub mod telemetry;
pub mod unsubscribe;
pub mod webhooks;

pub use openapi::{ApiDoc, openapi_json};
pub use reserve::FromReserve;
pub use router::{MAX_BODY, RouterOptions, router, router_with, with_hsts};
pub use state::AppState;
pub use telemetry::metrics_handle;
