//! `vow report self-assessment`: the annual report, to a file or the terminal, and its
//! sign-off.

use crate::cli::ReportFormat;
use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use vow_engine::reports::assessment::{self, NewSignOff};
use vow_engine::{Actor, Engine};

pub async fn self_assessment(
    engine: &Arc<Engine>,
    actor: &Actor,
    tenant: &str,
    year: i16,
    format: ReportFormat,
    out: Option<&Path>,
    sign_off: Option<&str>,
) -> Result<ExitCode> {
    let mut report = engine.self_assessment(actor, tenant, year).await?;
    if let Some(role) = sign_off {
        let input = NewSignOff {
            year,
            role: role.to_string(),
            hash: report.hash.clone(),
        };
        report = engine.sign_self_assessment(actor, tenant, &input).await?;
    }
    let text = match format {
        ReportFormat::Md => assessment::render_markdown(&report),
        ReportFormat::Html => assessment::render_html(&report),
        ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    match out {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "self-assessment {year} for {tenant} written to {} (hash {})",
                path.display(),
                report.hash
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
