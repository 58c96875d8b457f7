//! `vow breach …`: assess an incident from a YAML or JSON file, list the register,
//! show one incident, record a notification.

use crate::cli::{BadInput, Output};
use anyhow::Result;
use clap::Subcommand;
use comfy_table::Table;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use vow_engine::obligations::breaches::{
    DeadlineView, ImpactView, IncidentView, NewIncident, NewNotification,
};
use vow_engine::{Actor, Engine};

#[derive(Subcommand)]
pub enum BreachCommand {
    /// Record an incident described in FILE (YAML or JSON, the shape of
    /// `POST …/incidents`); print who is affected, the risk, every deadline and where
    /// the draft notices were written.
    Assess {
        file: PathBuf,
        /// The tenant; default: the file's `tenant` key.
        #[arg(long)]
        tenant: Option<String>,
        /// Where to write the draft notices (a folder per incident is made in it).
        #[arg(long, default_value = "vow-breach-notices")]
        drafts: PathBuf,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The breach register.
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// One incident with its deadlines and notifications.
    Show {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Record that an audience was told.
    Notify {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long, value_parser = ["authority", "individuals", "clients"])]
        audience: String,
        /// When (RFC 3339). Default: now.
        #[arg(long)]
        at: Option<String>,
        /// For an incident across tenants: whose client or authority was told.
        #[arg(long)]
        client_tenant: Option<String>,
        #[arg(long)]
        note: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

/// Read an incident file (the API's body, plus an optional `tenant` key); problems
/// are located by file, line and column.
pub fn read_incident(path: &Path) -> Result<(Option<String>, NewIncident)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("cannot read {}: {e}", path.display())))?;
    let name = path.display().to_string();
    const WHAT: &str = "incident description";
    let value: serde_json::Value =
        vow_policy::rules::parse_document(&text, &name, WHAT).map_err(|d| diagnostics(&d))?;
    let tenant = value
        .get("tenant")
        .and_then(|t| t.as_str())
        .map(str::to_string);
    match vow_policy::rules::parse_document::<NewIncident>(&text, &name, WHAT) {
        Ok(i) => Ok((tenant, i)),
        Err(d) => {
            // `tenant` belongs to the file, not to the API's body.
            let rest: Vec<_> = d
                .into_iter()
                .filter(|x| !(x.code == "unknown_key" && x.path == "tenant"))
                .collect();
            if !rest.is_empty() {
                return Err(diagnostics(&rest));
            }
            let mut body = value;
            if let Some(o) = body.as_object_mut() {
                o.remove("tenant");
            }
            let incident =
                serde_json::from_value(body).map_err(|e| BadInput(format!("{name}: {e}")))?;
            Ok((tenant, incident))
        }
    }
}

fn diagnostics(d: &[vow_policy::Diagnostic]) -> anyhow::Error {
    for x in d {
        eprintln!("{x}");
    }
    BadInput(format!(
        "the incident description has {} problem(s)",
        d.len()
    ))
    .into()
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn deadlines_table(d: &[DeadlineView]) -> Table {
    let mut t = Table::new();
    t.set_header(["tenant", "audience", "rule", "due", "timing", "status"]);
    for x in d {
        t.add_row([
            x.tenant.clone(),
            x.audience.clone(),
            x.rule.clone(),
            x.due.clone().unwrap_or_else(|| "-".into()),
            x.timing.clone(),
            if x.overdue {
                "open, overdue".to_string()
            } else {
                x.status.replace('_', " ")
            },
        ]);
    }
    t
}

/// Print an impact: counts, risk, deadlines.
pub fn print_impact(i: &ImpactView) {
    println!(
        "incident {}: {} people affected, risk {}",
        i.id, i.affected, i.risk
    );
    for r in &i.risk_reasons {
        println!("  - {r}");
    }
    let by = i
        .jurisdictions
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!("  by jurisdiction: {by}");
    for t in &i.tenants {
        let cats = t
            .categories
            .iter()
            .map(|c| format!("{} {}", c.category, c.subjects))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "  {}: {} affected; by category: {cats}",
            t.tenant, t.affected
        );
    }
    let owed: Vec<DeadlineView> = i.deadlines.iter().filter(|d| d.required).cloned().collect();
    println!("{}", deadlines_table(&owed));
}

/// Write the draft notices under `dir/<incident id>/`; returns the files written.
pub fn write_drafts(i: &ImpactView, dir: &Path) -> Result<Vec<PathBuf>> {
    let base = dir.join(&i.id);
    std::fs::create_dir_all(&base)?;
    let mut out = Vec::new();
    for n in &i.notices {
        for (ext, body) in [("txt", &n.text), ("html", &n.html)] {
            let p = base.join(format!("{}-{}.{ext}", n.tenant, n.audience));
            std::fs::write(&p, body)?;
            out.push(p);
        }
    }
    Ok(out)
}

fn print_incident(i: &IncidentView, output: Output) -> Result<()> {
    if output == Output::Json {
        return print_json(i);
    }
    println!(
        "incident {} ({}): discovered {}, window {} – {}",
        i.id, i.tenant, i.discovered_at, i.window.from, i.window.to
    );
    println!(
        "  {} people affected, risk {}; register kept until {}",
        i.affected, i.risk, i.keep_until
    );
    println!("{}", deadlines_table(&i.deadlines));
    for n in &i.notifications {
        println!(
            "  told {} ({}) at {}, recorded by {}",
            n.audience, n.tenant, n.at, n.recorded_by
        );
    }
    Ok(())
}

pub async fn run(engine: &Arc<Engine>, actor: &Actor, command: BreachCommand) -> Result<ExitCode> {
    match command {
        BreachCommand::Assess {
            file,
            tenant,
            drafts,
            output,
        } => {
            let (from_file, incident) = read_incident(&file)?;
            let Some(tenant) = tenant.or(from_file) else {
                return Err(BadInput(format!(
                    "{}: name the tenant with --tenant or a `tenant` key",
                    file.display()
                ))
                .into());
            };
            let impact = engine.create_incident(actor, &tenant, &incident).await?;
            let files = write_drafts(&impact, &drafts)?;
            if output == Output::Json {
                let mut v = serde_json::to_value(&impact)?;
                v["draft_files"] = serde_json::json!(files);
                print_json(&v)?;
            } else {
                print_impact(&impact);
                for f in files {
                    println!("draft: {}", f.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        BreachCommand::List { tenant, output } => {
            let list = engine.incidents(actor, &tenant).await?;
            if output == Output::Json {
                return print_json(&list).map(|()| ExitCode::SUCCESS);
            }
            let mut t = Table::new();
            t.set_header(["id", "discovered", "affected", "risk", "open duties"]);
            for i in &list {
                let open = i.deadlines.iter().filter(|d| d.status == "open").count();
                t.add_row([
                    i.id.clone(),
                    i.discovered_at.clone(),
                    i.affected.to_string(),
                    i.risk.clone(),
                    open.to_string(),
                ]);
            }
            println!("{t}");
            Ok(ExitCode::SUCCESS)
        }
        BreachCommand::Show { tenant, id, output } => {
            let i = engine.incident(actor, &tenant, &id).await?;
            print_incident(&i, output)?;
            Ok(ExitCode::SUCCESS)
        }
        BreachCommand::Notify {
            tenant,
            id,
            audience,
            at,
            client_tenant,
            note,
            output,
        } => {
            let i = engine
                .notify_incident(
                    actor,
                    &tenant,
                    &id,
                    &NewNotification {
                        audience,
                        at,
                        tenant: client_tenant,
                        note,
                    },
                )
                .await?;
            print_incident(&i, output)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The demo's breach step: assess `examples/research-operator/incident.yaml` and print
/// the counts, the risk and the deadlines; the drafts go under `data/breach-notices`.
pub async fn demo(engine: &Arc<Engine>, actor: &Actor, examples: &Path, data: &Path) -> Result<()> {
    println!(
        "\n== 10e. Breaches (R16): an incident assessed — who is affected, what must be said to whom by when"
    );
    let file = examples.join("research-operator/incident.yaml");
    let (tenant, incident) = read_incident(&file)?;
    let tenant = tenant.unwrap_or_else(|| "prairie-research".to_string());
    let impact = engine.create_incident(actor, &tenant, &incident).await?;
    println!(
        "   {}: {} people affected, risk {}",
        file.display(),
        impact.affected,
        impact.risk
    );
    for r in &impact.risk_reasons {
        println!("   - {r}");
    }
    let by = impact
        .jurisdictions
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!("   by residence: {by}");
    for d in impact.deadlines.iter().filter(|d| d.required) {
        println!(
            "   {:<11} {:<8} {}",
            d.audience,
            d.rule,
            d.due.clone().unwrap_or_else(|| d.timing.clone())
        );
    }
    let files = write_drafts(&impact, &data.join("breach-notices"))?;
    println!(
        "   {} draft notice files in {}",
        files.len(),
        data.join("breach-notices").join(&impact.id).display()
    );
    Ok(())
}
