//! What the engine owes others once data is held: the disclosure log and the
//! recipients told of corrections and erasures (`disclosures`, `webhooks`: an
//! outbox written in the same transaction as its cause, delivered with signatures),
//! retention (`retention`), breaches and their notices (`breaches`), and a new
//! policy version's changes and notices (`policy_changes`).

pub mod breaches;
pub mod disclosures;
pub mod endpoints;
pub mod policy_changes;
pub mod retention;
pub mod webhooks;
