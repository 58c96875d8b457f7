//! `vow audit verify`: recompute the hash chain.

use crate::common::{Output, outln, print_json};
use anyhow::Result;
use clap::Subcommand;
use indicatif::ProgressBar;
use std::process::ExitCode;
use std::sync::Arc;
use vow_engine::{Actor, Engine};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain; exit 1 naming the first bad entry. The last line
    /// gives the entry count and the head hash (record it elsewhere to anchor the chain).
    #[command(after_help = "Example:\n  vow audit verify --data ./vow-data")]
    Verify {
        /// `table` prints a line; `json` the report ({"ok","entries","head","first_bad"}).
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

pub async fn run(engine: &Arc<Engine>, actor: &Actor, command: AuditCommand) -> Result<ExitCode> {
    let AuditCommand::Verify { output } = command;
    let bar = if output == Output::Table {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    let r = engine
        .verify_audit(actor, |n| bar.set_message(format!("{n} entries")))
        .await?;
    bar.finish_and_clear();
    if output == Output::Json {
        print_json(&r)?;
    } else if let Some(b) = &r.first_bad {
        eprintln!("audit chain BROKEN at entry {}: {}", b.seq, b.problem);
    } else {
        outln!(
            "audit chain intact: {} entries verified; head {}",
            r.entries,
            r.head.as_deref().unwrap_or("-")
        );
    }
    Ok(if r.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
