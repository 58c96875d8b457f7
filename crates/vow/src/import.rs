//! `vow import`: subjects in bulk from JSONL or CSV, all or nothing unless told.

use crate::common::{Output, bad, known_tenant, outln, print_json, read_file};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use vow_core::TenantId;
use vow_engine::{Actor, Engine};

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The tenant the people belong to (see `vow tenant list`).
    #[arg(long)]
    tenant: TenantId,
    /// A .jsonl file (one subject per line, the API's body) or a .csv file with a
    /// header: email, phone, external_id, birth_date, residence, consents
    /// (purpose:kind;…), parent_email, and a column per field, e.g. user.name[research].
    file: PathBuf,
    /// Commit the good rows and report the bad ones (default: all or nothing).
    #[arg(long)]
    skip_bad: bool,
    /// `table` shows a progress bar and a summary; `json` the import report.
    #[arg(long, value_enum, default_value = "table")]
    output: Output,
}

pub async fn run(engine: &Arc<Engine>, actor: &Actor, args: ImportArgs) -> Result<ExitCode> {
    let ImportArgs {
        tenant,
        file,
        skip_bad,
        output,
    } = args;
    known_tenant(engine, actor, &tenant).await?;
    let text = read_file(&file)?;
    let is_csv = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let rows: Vec<vow_engine::vault::import::Row> = if is_csv {
        vow_engine::vault::import::parse_csv(&text).map_err(bad)?
    } else {
        vow_engine::vault::import::parse_jsonl(&text).collect()
    };
    let bar = if output == Output::Table {
        ProgressBar::new(rows.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    // Whole rows per second: people do not need the fourth decimal.
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} importing [{bar:40}] {pos}/{len} rows ({per_sec:0}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = engine
        .import(
            actor,
            &tenant,
            rows,
            vow_engine::ImportOptions { skip_bad },
            |n| bar.set_position(n as u64),
        )
        .await?;
    bar.finish_and_clear();
    if output == Output::Json {
        print_json(&report)?;
    } else {
        for b in &report.bad {
            eprintln!("{}:{}: {}", file.display(), b.line, b.error);
        }
        if report.committed {
            outln!(
                "imported {} subject(s) into {tenant}; {} bad row(s) skipped (import {})",
                report.imported,
                report.bad.len(),
                report.import_id
            );
        } else {
            eprintln!(
                "{} bad row(s): nothing was imported (use --skip-bad to import the good rows)",
                report.bad.len()
            );
        }
    }
    Ok(if report.committed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
