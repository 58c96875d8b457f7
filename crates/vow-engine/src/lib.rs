//! Vow's workflows, on top of the store, the keys and the decision function.
//!
//! [`Engine`] is the one object the server and the CLI talk to. Every method
//! takes the [`Actor`] doing it, checks what that actor may do, runs the work in
//! one transaction and appends to the audit chain. Nothing here knows HTTP, and
//! nothing here knows which database is underneath.
//!
//! The workflows sit in domain folders (ARCHITECTURE.md has the map). This file
//! only declares them and re-exports what the server and the CLI use.

mod engine;
mod error;
pub mod external;
pub mod input;
pub mod mail;
pub mod obligations;
pub mod reports;
pub mod requests;
pub mod security;
mod stored;
pub mod vault;

pub use engine::{Actor, Engine, KeySource};
pub use error::{EngineError, ErrorCode, FieldError, Result};
pub use external::{Outbound, OutboundFuture, OutboundPost, OutboundResult};
pub use reports::Metrics;
pub use requests::render_html as render_export_html;
pub use requests::{HoldView, NewHold, NewRequest, RequestView, Step};
pub use vault::audit::{AuditWriter, HeadSignature};
pub use vault::audit_verify::{Anchors, BadEntry, VerifyReport};
pub use vault::checkpoint::{AuditPublicKey, CHECKPOINT_FORMAT, Checkpoint, parse_expect};
pub use vault::{
    ApiKeyCreated, AuthFailure, ConsentView, ConsentsView, FieldValue, ImportOptions, ImportReport,
    KeyInfo, KeyNotified, LookupKind, NewKey, PolicyPublished, ReadGround, Rejected,
    RotationReport, TenantView,
};
