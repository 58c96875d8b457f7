//! The vault: what Vow holds about people, under whose keys, and the record of every
//! change and read.

pub mod audit;
pub(crate) mod keyring;
