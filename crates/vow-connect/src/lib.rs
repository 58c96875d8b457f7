//! The organisation's own databases (issue 11): datasets in the fideslang manifest
//! format that Fides users already have, and the connectors that reach them.
//!
//! [`manifest`] is the file format; [`check`] reads one and reports every problem
//! with its line and column. [`target`] says where a database is and [`db`] opens a
//! pool to it (PostgreSQL, MySQL/MariaDB, SQLite) with a concurrency limit.
//! [`plan`] checks a dataset against the live schema and orders the walk;
//! [`access`] finds everything about a batch of people in one walk (one `IN (…)`
//! query per collection for the whole batch); [`mask`] turns what was found into the
//! changes an erasure or correction makes, and applies them one collection per
//! transaction, idempotently. [`shop`] (feature `shop`) makes the example shop
//! database that the demo, the tests and the benchmarks use.

pub mod access;
pub mod check;
pub mod db;
pub mod error;
pub mod manifest;
pub mod mask;
pub mod plan;
#[cfg(feature = "shop")]
pub mod shop;
pub mod target;
pub mod value;

pub use access::{Found, FoundCollection, FoundField, FoundRow, access};
pub use check::{Checked, Summary, check};
pub use db::{Column, ColumnKind, Db, LiveSchema, ServerInfo};
pub use error::ConnectError;
pub use manifest::Manifest;
pub use mask::{Action, Changes, CollectionChanges, Strategy, apply, correction, erasure, merge};
pub use plan::Plan;
pub use target::{Kind, Target};
pub use value::{Identities, Value};

#[cfg(test)]
mod tests;
