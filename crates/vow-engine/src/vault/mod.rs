//! The vault: what Vow holds about people and on whose keys. Subjects and their
//! fields, the consent ledger, purpose-bound reads, lookup by blind index, bulk
//! import, the key hierarchy and its rotation, and the audit chain that records
//! every change and read; and the tenants it holds them for, with their API keys and
//! policies.

pub mod audit;
pub mod audit_verify;
pub mod checkpoint;
pub(crate) mod consents;
pub mod import;
pub(crate) mod keyring;
pub mod keys;
pub(crate) mod links;
pub(crate) mod lookup;
pub mod notice;
pub(crate) mod notice_cache;
pub mod operator;
pub mod preferences;
pub(crate) mod reads;
pub(crate) mod rotation;
pub(crate) mod subjects;
pub(crate) mod tenants;
pub mod unsubscribe;

pub use consents::{ConsentView, ConsentsView};
pub use import::{ImportOptions, ImportReport};
pub use keys::{ApiKeyCreated, AuthFailure, KeyInfo, KeyNotified, NewKey, Rejected};
pub use lookup::LookupKind;
pub use reads::{FieldValue, ReadGround};
pub use rotation::RotationReport;
pub use tenants::{PolicyPublished, TenantView};
