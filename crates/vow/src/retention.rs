//! `vow retention run`, `vow report data-map`, the retention sweeper of `vow serve`
//! and the retention step of the demo.

use crate::common::{Output, known_tenant, known_tenant_or_all, out, outln, print_json, when};
use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use comfy_table::Table;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use vow_core::TenantId;
use vow_engine::obligations::retention::RetentionReport;
use vow_engine::{Actor, Engine};

#[derive(Subcommand)]
pub enum RetentionCommand {
    /// Destroy what the policy's retention rules say is due (legal holds kept); a person
    /// whose data is all due is crypto-shredded. Every run is recorded, without identifiers.
    #[command(
        after_help = "Examples:\n  vow retention run --tenant acme --dry-run\n  vow retention run"
    )]
    Run {
        /// Only this tenant (default: all).
        #[arg(long)]
        tenant: Option<TenantId>,
        /// List who and which categories would go; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// `table` prints a summary per tenant; `json` the run reports.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The record of a tenant's runs, newest first.
    #[command(after_help = "Example:\n  vow retention runs --tenant acme")]
    Runs {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum MapFormat {
    /// Markdown.
    Md,
    /// A standalone HTML page.
    Html,
    /// The map's data.
    Json,
}

fn print_report(r: &RetentionReport) {
    let run = &r.run;
    outln!(
        "{}: {} — {} field(s) {}, {} person(s) {}, {} held",
        run.tenant,
        if run.dry_run {
            "dry run"
        } else {
            "retention run"
        },
        run.fields_destroyed,
        if run.dry_run { "due" } else { "destroyed" },
        run.subjects_shredded,
        if run.dry_run {
            "would be shredded"
        } else {
            "shredded"
        },
        run.held
    );
    let mut t = Table::new();
    t.set_header([
        "rule", "category", "purpose", "keep", "from", "fields", "people", "held",
    ]);
    for c in &run.rules {
        t.add_row([
            c.rule.to_string(),
            c.category.clone().unwrap_or_else(|| "(all)".into()),
            c.purpose.clone().unwrap_or_else(|| "(any)".into()),
            c.keep.clone(),
            c.from.clone(),
            c.fields_destroyed.to_string(),
            c.subjects_shredded.to_string(),
            c.held.to_string(),
        ]);
    }
    outln!("{t}");
    if let Some(due) = &r.due {
        for d in due {
            outln!(
                "  {}{}: {}{}",
                d.subject,
                if d.shred { " (all: key destroyed)" } else { "" },
                d.categories.join(", "),
                if d.held.is_empty() {
                    String::new()
                } else {
                    format!("; held: {}", d.held.join(", "))
                }
            );
        }
    }
}

pub async fn command(
    engine: &Arc<Engine>,
    actor: &Actor,
    command: RetentionCommand,
) -> Result<ExitCode> {
    match command {
        RetentionCommand::Run {
            tenant,
            dry_run,
            output,
        } => {
            let all = tenant.is_none();
            let tenants = known_tenant_or_all(engine, actor, tenant).await?;
            let mut reports = Vec::new();
            for t in tenants {
                let r = match engine.retention_run(actor, &t, dry_run).await {
                    Ok(r) => r,
                    // Across all tenants, one without a policy has no rules to apply.
                    Err(vow_engine::EngineError::NoPolicy(_)) if all => {
                        eprintln!("{t}: no policy yet, skipped");
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                if output == Output::Table {
                    print_report(&r);
                }
                reports.push(r);
            }
            if output == Output::Json {
                print_json(&reports)?;
            }
        }
        RetentionCommand::Runs { tenant, output } => {
            known_tenant(engine, actor, &tenant).await?;
            let runs = engine.retention_runs(actor, &tenant).await?;
            if output == Output::Json {
                print_json(&runs)?;
            } else {
                let mut t = Table::new();
                t.set_header([
                    "started", "finished", "dry run", "policy", "fields", "people", "held",
                ]);
                for r in runs {
                    t.add_row([
                        when(&r.started_at),
                        r.finished_at
                            .as_deref()
                            .map_or_else(|| "(stopped part way)".to_string(), when),
                        r.dry_run.to_string(),
                        format!("v{}", r.policy_version),
                        r.fields_destroyed.to_string(),
                        r.subjects_shredded.to_string(),
                        r.held.to_string(),
                    ]);
                }
                outln!("{t}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn data_map_command(
    engine: &Arc<Engine>,
    actor: &Actor,
    tenant: &TenantId,
    format: MapFormat,
) -> Result<ExitCode> {
    let map = engine.data_map(actor, tenant).await?;
    match format {
        MapFormat::Json => print_json(&map)?,
        MapFormat::Md => out!("{}", vow_engine::reports::datamap::render_markdown(&map)),
        MapFormat::Html => out!("{}", vow_engine::reports::datamap::render_html(&map)),
    }
    Ok(ExitCode::SUCCESS)
}

/// The background sweeper: every `interval`, retention runs on every tenant. The first
/// run waits one interval, so a restart loop does not become a destruction loop.
pub fn spawn_sweeper(engine: Arc<Engine>, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let actor = Actor::local("retention-sweeper");
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        loop {
            tick.tick().await;
            let Ok(tenants) = engine.tenants(&actor).await else {
                continue;
            };
            for t in tenants {
                let Ok(id) = TenantId::new(t.id.as_str()) else {
                    tracing::error!("a stored tenant id is malformed");
                    continue;
                };
                match engine.retention_run(&actor, &id, false).await {
                    Ok(r) => tracing::info!(
                        tenant = %t.id,
                        fields_destroyed = r.run.fields_destroyed,
                        subjects_shredded = r.run.subjects_shredded,
                        held = r.run.held,
                        "retention run"
                    ),
                    // A tenant without a policy has no rules to keep.
                    Err(vow_engine::EngineError::NoPolicy(_)) => {}
                    Err(e) => {
                        tracing::warn!(tenant = %t.id, code = e.code(), "retention run failed")
                    }
                }
            }
        }
    })
}

/// The demo's retention step, on the tenants the demo loaded (id, subjects file): the
/// last research panelist left the panel three years ago (recorded back-dated, as an
/// operator entering it late would), then a dry run and a real run on every tenant;
/// the data maps are written to `<data>/data-map`.
pub async fn demo(
    engine: &Arc<Engine>,
    admin: &Actor,
    research: &[(TenantId, PathBuf)],
    platform: &[(TenantId, PathBuf)],
    research_emails: &[String],
    data: &Path,
) -> Result<()> {
    let dir = data.join("data-map");
    vow_crypto::files::create_private_dir_all(&dir)?;
    let tenants: Vec<&TenantId> = research.iter().chain(platform).map(|(t, _)| t).collect();
    if let (Some((tenant, _)), Some(email)) = (research.first(), research_emails.last())
        && let Some(id) = engine
            .lookup(admin, tenant, vow_engine::LookupKind::Email, email)
            .await?
    {
        let at = engine
            .now()
            .checked_sub(jiff::SignedDuration::from_hours(3 * 365 * 24))?;
        let body = vow_engine::obligations::retention::RelationshipEnd {
            at: Some(at.to_string()),
            clear: false,
        };
        engine.end_relationship(admin, tenant, &id, &body).await?;
        outln!("   {tenant}: one panelist left the panel on {at} (recorded now)");
    }
    for t in tenants {
        let dry = engine.retention_run(admin, t, true).await?;
        let people = dry.due.as_ref().map_or(0, Vec::len);
        outln!(
            "   {t}: dry run — {} field(s) of {people} person(s) due, {} person(s) would be shredded, {} held",
            dry.run.fields_destroyed,
            dry.run.subjects_shredded,
            dry.run.held
        );
        for c in dry
            .run
            .rules
            .iter()
            .filter(|c| c.fields_destroyed + c.held > 0)
        {
            outln!(
                "      rule {} ({} {} from {}): {} field(s)",
                c.rule,
                c.category.as_deref().unwrap_or("(all)"),
                c.keep,
                c.from,
                c.fields_destroyed
            );
        }
        let real = engine.retention_run(admin, t, false).await?;
        outln!(
            "   {t}: run — {} field(s) destroyed, {} person(s) shredded, {} held; recorded as run {}",
            real.run.fields_destroyed,
            real.run.subjects_shredded,
            real.run.held,
            real.run.id
        );
        let map = engine.data_map(admin, t).await?;
        vow_crypto::files::write_private_file(
            dir.join(format!("{t}.md")),
            vow_engine::reports::datamap::render_markdown(&map),
        )?;
        vow_crypto::files::write_private_file(
            dir.join(format!("{t}.html")),
            vow_engine::reports::datamap::render_html(&map),
        )?;
        vow_crypto::files::write_private_file(
            dir.join(format!("{t}.json")),
            serde_json::to_string_pretty(&map)?,
        )?;
    }
    outln!("   data maps (Markdown, HTML, JSON) in {}", dir.display());
    Ok(())
}
