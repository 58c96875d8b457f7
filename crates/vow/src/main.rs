//! `vow`: the privacy engine's one binary. Command line, configuration, start-up.

mod breach;
mod changes;
mod cli;
mod config;
mod demo;
mod disclosure;
mod report;
mod retention;
mod serve;
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
            std::process::ExitCode::from(cli::exit_code_for(&e))
        }
    }
}
