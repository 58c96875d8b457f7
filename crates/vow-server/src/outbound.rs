//! The engine's outbound HTTP client (`vow_engine::Outbound`): the webhooks'
//! [`Deliverer`], so the `http` connector's posts go through the same guarded client
//! and the same error classes as webhook deliveries. The engine passes the address
//! allowance in force with each post; a client is built once per allowance.

use crate::webhooks::Deliverer;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vow_core::webhook::NetAllow;
use vow_engine::{Engine, Outbound, OutboundFuture, OutboundPost};

/// Posts for the engine through the webhooks' guarded client.
pub struct GuardedOutbound {
    timeout: Duration,
    /// One deliverer per address allowance seen (there are at most four).
    clients: Mutex<Vec<Deliverer>>,
}

impl GuardedOutbound {
    /// Posts that give up after `timeout`.
    pub fn new(timeout: Duration) -> GuardedOutbound {
        GuardedOutbound {
            timeout,
            clients: Mutex::new(Vec::new()),
        }
    }

    /// Install one on `engine`, as `vow serve` and the CLI do.
    pub fn install(engine: &Engine, timeout: Duration) {
        engine.set_outbound(Arc::new(GuardedOutbound::new(timeout)));
    }

    fn deliverer(&self, allow: NetAllow) -> std::result::Result<Deliverer, &'static str> {
        let mut clients = self.clients.lock().map_err(|_| "client")?;
        if let Some(d) = clients.iter().find(|d| d.allow() == allow) {
            return Ok(d.clone());
        }
        let d = Deliverer::new(allow, self.timeout).map_err(|e| {
            tracing::error!(error = %e, "cannot build the outbound HTTP client");
            "client"
        })?;
        clients.push(d.clone());
        Ok(d)
    }
}

impl Outbound for GuardedOutbound {
    fn post<'a>(&'a self, post: OutboundPost<'a>) -> OutboundFuture<'a> {
        Box::pin(async move {
            let d = self.deliverer(post.allow)?;
            d.post(post.url, post.headers, post.body)
                .await
                .map(|(status, _)| status)
        })
    }
}
