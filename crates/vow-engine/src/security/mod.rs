//! Security events: failed authentication, forbidden and cross-tenant attempts,
//! recorded with the key id (never the secret), the tenant asked for and the route
//! template, under rate limits, and listed for auditors and the global admin.

pub mod events;
pub(crate) mod limit;
pub mod sessions;

pub use events::{SecurityAttempt, SecurityEventView, SecurityKind};
