//! `vow`: the privacy engine's one binary. Command line, configuration, start-up.
//!
//! `cli` holds the command tree and hands each command to its domain's module
//! (`tenant`, `key`, `request`, …); those share `common` (output, errors, opening the
//! engine) and `config`, which import no command module.

mod audit;
mod backup;
mod breach;
mod changes;
mod cli;
mod common;
mod config;
mod connection;
mod dataset;
mod demo;
mod disclosure;
mod examples;
mod import;
mod key;
mod listen;
mod policy;
mod report;
mod request;
mod retention;
mod security;
mod serve;
mod subject;
mod tenant;
mod unsubscribe;
mod webhooks;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(common::exit_code_for(&e))
        }
    }
}
