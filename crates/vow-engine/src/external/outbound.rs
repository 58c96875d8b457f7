//! The engine's way out to HTTP: it knows no HTTP client itself. Whoever runs the
//! engine (`vow serve`, the CLI, a test harness) installs an [`Outbound`] with
//! `Engine::set_outbound` (in `http.rs`); vow-server's is the webhooks' guarded
//! client, so one server-side request forgery guard covers webhooks and `http`
//! connections alike.

use std::future::Future;
use std::pin::Pin;
use vow_core::webhook::NetAllow;

/// One POST: the URL, the request's headers and its body, and which internal
/// addresses it may reach (the engine's `webhook_net`).
pub struct OutboundPost<'a> {
    pub url: &'a str,
    pub headers: &'a [(&'static str, String)],
    pub body: &'a [u8],
    pub allow: NetAllow,
}

/// The HTTP status, or an error class (`timeout`, `connect`, `forbidden_address`,
/// `bad_url`, `request`, …): never the URL, a body or a message from the peer.
pub type OutboundResult = std::result::Result<u16, &'static str>;

/// What [`Outbound::post`] returns.
pub type OutboundFuture<'a> = Pin<Box<dyn Future<Output = OutboundResult> + Send + 'a>>;

/// Posts a body to a URL, guarded: the implementation refuses the addresses `allow`
/// does not permit (after resolution), follows no redirect and uses no proxy.
pub trait Outbound: Send + Sync {
    fn post<'a>(&'a self, post: OutboundPost<'a>) -> OutboundFuture<'a>;
}
