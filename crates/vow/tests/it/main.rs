//! End-to-end scenarios, one per promise id of PROMISES.md, through HTTP and the CLI.
//! One test binary (every `tests/*.rs` file would be linked separately).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod aggregates;
mod api_docs;
mod appeals;
mod assessment;
mod audit_chain;
mod backups;
mod breaches;
mod cli;
mod cli_store;
mod connections;
mod console;
mod crash;
mod datasets;
mod errors;
mod external;
mod external_http;
mod file_modes;
mod harness;
mod help;
mod imports;
mod intake_rules;
mod keys;
mod keys_grants;
mod no_echo;
mod notice_cache;
mod operations;
mod pages;
mod policy_changes;
mod portal;
mod preferences;
mod promises;
mod readme;
mod request_kinds;
mod requests;
mod retention;
mod scale_out;
mod subjects_cli;
mod typed_input;
mod webhooks;
