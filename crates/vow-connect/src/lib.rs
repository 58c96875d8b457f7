//! The organisation's own databases (issue 11): datasets in the fideslang manifest
//! format that Fides users already have, checked before any query runs.
//!
//! [`manifest`] is the file format; [`check`] reads one and reports every problem
//! with its line and column. The connectors that query, mask and delete come next.

pub mod check;
pub mod manifest;

pub use check::{Checked, Summary, check};
pub use manifest::Manifest;

#[cfg(test)]
mod tests;
