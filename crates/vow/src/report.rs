//! `vow report metrics|self-assessment|data-map|aggregate`: reports from Vow's own
//! records, and the self-assessment's sign-off.

use crate::common::{Output, days, known_tenant, out, outln, print_json};
use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use comfy_table::Table;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use vow_core::TenantId;
use vow_engine::reports::assessment::{self, NewSignOff};
use vow_engine::{Actor, Engine};

#[derive(Subcommand)]
pub enum ReportCommand {
    /// California's annual request metrics: per type, received, complied with in whole
    /// or in part, denied; median and mean days to respond.
    #[command(after_help = "Example:\n  vow report metrics --tenant acme --year 2026")]
    Metrics {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The calendar year, e.g. 2026.
        #[arg(long)]
        year: i16,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The annual self-assessment (S13) from Vow's own records: policy versions,
    /// requests on time, denials, consents, disclosures, key rotations, the audit chain.
    #[command(
        after_help = "Example:\n  vow report self-assessment --tenant acme --year 2026 --format html \\\n    --out assessment-2026.html --sign-off \"Privacy Officer\""
    )]
    SelfAssessment {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The calendar year, e.g. 2026.
        #[arg(long)]
        year: i16,
        /// The document's format.
        #[arg(long, value_enum, default_value = "md")]
        format: ReportFormat,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Sign the report as it is now, in this role (e.g. "Privacy Officer"): the role
        /// and the report's hash go into the audit chain.
        #[arg(long, value_name = "ROLE")]
        sign_off: Option<String>,
    },
    /// The data map: categories × stores × purposes × recipients, from the policy and
    /// from what is stored.
    #[command(
        after_help = "Example:\n  vow report data-map --tenant acme --format html > data-map.html"
    )]
    DataMap {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The document's format.
        #[arg(long, value_enum, default_value = "md")]
        format: crate::retention::MapFormat,
    },
    /// De-identified counts grouped by attributes (R10, S9): consent.<purpose>,
    /// category.<category>, source, store, age_band, created_year. Small groups suppressed.
    #[command(
        after_help = "Example:\n  vow report aggregate --tenant acme --by consent.research,age_band --filter store=primary"
    )]
    Aggregate {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// Comma-separated attributes.
        #[arg(long, value_delimiter = ',', required = true, value_name = "ATTR,…")]
        by: Vec<String>,
        /// Smallest group shown (default 10, at least 5).
        #[arg(long, value_name = "N")]
        min_group: Option<u32>,
        /// Count only people with this value, e.g. consent.research=granted (repeatable).
        #[arg(long, value_name = "ATTR=VALUE")]
        filter: Vec<String>,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Markdown.
    Md,
    /// A standalone HTML page.
    Html,
    /// The report's data.
    Json,
}

pub async fn run(engine: &Arc<Engine>, actor: &Actor, command: ReportCommand) -> Result<ExitCode> {
    match command {
        ReportCommand::Metrics {
            tenant,
            year,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            metrics(engine, actor, &tenant, year, output).await
        }
        ReportCommand::SelfAssessment {
            tenant,
            year,
            format,
            out,
            sign_off,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            self_assessment(
                engine,
                actor,
                &tenant,
                year,
                format,
                out.as_deref(),
                sign_off.as_deref(),
            )
            .await
        }
        ReportCommand::DataMap { tenant, format } => {
            known_tenant(engine, actor, &tenant).await?;
            crate::retention::data_map_command(engine, actor, &tenant, format).await
        }
        ReportCommand::Aggregate {
            tenant,
            by,
            min_group,
            filter,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            crate::changes::report_aggregate(engine, actor, &tenant, by, min_group, filter, output)
                .await
        }
    }
}

async fn metrics(
    engine: &Engine,
    actor: &Actor,
    tenant: &TenantId,
    year: i16,
    output: Output,
) -> Result<ExitCode> {
    let m = engine.request_metrics(actor, tenant, year).await?;
    if output == Output::Json {
        print_json(&m)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} requests received by {} in {}",
        m.total,
        m.tenant,
        m.year
    );
    let mut t = Table::new();
    t.set_header([
        "type",
        "received",
        "complied in whole",
        "in part",
        "denied",
        "routed",
        "withdrawn",
        "open",
        "median days",
        "mean days",
    ]);
    for p in m.per_type {
        t.add_row([
            p.kind,
            p.received.to_string(),
            p.complied_in_whole.to_string(),
            p.complied_in_part.to_string(),
            p.denied.to_string(),
            p.routed_to_client.to_string(),
            p.withdrawn.to_string(),
            p.open.to_string(),
            days(p.median_days),
            days(p.mean_days),
        ]);
    }
    outln!("{t}");
    Ok(ExitCode::SUCCESS)
}

async fn self_assessment(
    engine: &Arc<Engine>,
    actor: &Actor,
    tenant: &TenantId,
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
            vow_crypto::files::write_private_file(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "self-assessment {year} for {tenant} written to {} (hash {})",
                path.display(),
                report.hash
            );
        }
        None => out!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
