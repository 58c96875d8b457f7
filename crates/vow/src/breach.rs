//! `vow breach …`: assess an incident from a YAML or JSON file, list the register,
//! show one incident, record a notification, mail the notice to affected people.

use crate::common::tenant_id;
use crate::common::{BadInput, Output, known_tenant, outln, print_json, when};
use anyhow::Result;
use clap::Subcommand;
use comfy_table::Table;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use vow_core::TenantId;
use vow_engine::obligations::breaches::{
    DeadlineView, ImpactView, IncidentView, NewIncident, NewNotification,
};
use vow_engine::{Actor, Engine};

#[derive(Subcommand)]
pub enum BreachCommand {
    /// Record an incident described in FILE (YAML or JSON, the shape of
    /// `POST …/incidents`); print who is affected, the risk, every deadline and where
    /// the draft notices were written.
    #[command(
        after_help = "Example:\n  vow breach assess examples/research-operator/incident.yaml --drafts ./breach-notices"
    )]
    Assess {
        /// The incident description (YAML or JSON).
        file: PathBuf,
        /// The tenant; default: the file's `tenant` key.
        #[arg(long)]
        tenant: Option<TenantId>,
        /// Where to write the draft notices (a folder per incident is made in it).
        #[arg(long, default_value = "vow-breach-notices", value_name = "DIR")]
        drafts: PathBuf,
        /// `table` prints the impact; `json` the API's impact view with the draft files.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The breach register.
    #[command(after_help = "Example:\n  vow breach list --tenant acme")]
    List {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// One incident with its deadlines and notifications.
    #[command(after_help = "Example:\n  vow breach show --tenant acme 0192f3c4-…")]
    Show {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The incident's id, as `vow breach list` shows it.
        id: String,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Record that an audience was told.
    #[command(
        after_help = "Example:\n  vow breach notify --tenant acme 0192f3c4-… --audience authority --note \"OPC form submitted\""
    )]
    Notify {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The incident's id, as `vow breach list` shows it.
        id: String,
        /// Who was told: authority, individuals or clients.
        #[arg(long, value_parser = ["authority", "individuals", "clients"])]
        audience: String,
        /// When (RFC 3339). Default: now.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// For an incident across tenants: whose client or authority was told.
        #[arg(long)]
        client_tenant: Option<TenantId>,
        /// A note for the register (e.g. how they were told).
        #[arg(long)]
        note: Option<String>,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Replace the text of the incident's notice to individuals with your own before
    /// it is mailed (`send-notices` refuses a notice with placeholders like `[…]`).
    /// The body must keep every heading the applicable laws require (`show --output
    /// json` lists them as the draft's `contents`).
    #[command(
        name = "edit-notice",
        after_help = "Example:\n  vow breach edit-notice --tenant acme 0192f3c4-… \\\n    --subject \"Notice of a personal data breach\" --body-file notice.txt"
    )]
    EditNotice {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The incident's id, as `vow breach list` shows it.
        id: String,
        /// The mail's subject.
        #[arg(long)]
        subject: String,
        /// A UTF-8 text file with the mail's body.
        #[arg(long, value_name = "FILE")]
        body_file: PathBuf,
        /// `table` prints the notice; `json` the API's draft view.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Mail the notice to individuals to every affected person at their e-mail address
    /// on file: once per person however often it is run; people erased since, or with
    /// no address, are not mailed. Records the notification with the counts.
    #[command(after_help = "Example:\n  vow breach send-notices --tenant acme 0192f3c4-…")]
    SendNotices {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The incident's id, as `vow breach list` shows it.
        id: String,
        /// `table` or `json`.
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

fn deadlines_table(d: &[DeadlineView]) -> Table {
    let mut t = Table::new();
    t.set_header(["tenant", "audience", "rule", "due", "timing", "status"]);
    for x in d {
        t.add_row([
            x.tenant.clone(),
            x.audience.clone(),
            x.rule.clone(),
            x.due.as_deref().map_or_else(|| "-".to_string(), when),
            x.timing.clone(),
            if x.overdue {
                "open, overdue".to_string()
            } else {
                x.status.as_str().replace('_', " ")
            },
        ]);
    }
    t
}

/// Print an impact: counts, risk, deadlines.
pub fn print_impact(i: &ImpactView) {
    outln!(
        "incident {}: {} people affected, risk {}",
        i.id,
        i.affected,
        i.risk
    );
    for r in &i.risk_reasons {
        outln!("  - {r}");
    }
    let by = i
        .jurisdictions
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    outln!("  by jurisdiction: {by}");
    for t in &i.tenants {
        let cats = t
            .categories
            .iter()
            .map(|c| format!("{} {}", c.category, c.subjects))
            .collect::<Vec<_>>()
            .join(", ");
        outln!(
            "  {}: {} affected; by category: {cats}",
            t.tenant,
            t.affected
        );
    }
    let owed: Vec<DeadlineView> = i.deadlines.iter().filter(|d| d.required).cloned().collect();
    outln!("{}", deadlines_table(&owed));
}

/// Write the draft notices under `dir/<incident id>/`; returns the files written.
pub fn write_drafts(i: &ImpactView, dir: &Path) -> Result<Vec<PathBuf>> {
    let base = dir.join(&i.id);
    vow_crypto::files::create_private_dir_all(&base)?;
    let mut out = Vec::new();
    for n in &i.notices {
        for (ext, body) in [("txt", &n.text), ("html", &n.html)] {
            let p = base.join(format!("{}-{}.{ext}", n.tenant, n.audience));
            vow_crypto::files::write_private_file(&p, body)?;
            out.push(p);
        }
    }
    Ok(out)
}

fn print_incident(i: &IncidentView, output: Output) -> Result<()> {
    if output == Output::Json {
        return print_json(i);
    }
    outln!(
        "incident {} ({}): discovered {}, window {} – {}",
        i.id,
        i.tenant,
        when(&i.discovered_at),
        when(&i.window.from),
        when(&i.window.to)
    );
    outln!(
        "  {} people affected, risk {}; register kept until {}",
        i.affected,
        i.risk,
        when(&i.keep_until)
    );
    outln!("{}", deadlines_table(&i.deadlines));
    for n in &i.notifications {
        outln!(
            "  told {} ({}) at {}, recorded by {}",
            n.audience,
            n.tenant,
            when(&n.at),
            n.recorded_by
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
            let from_file = from_file.map(|t| tenant_id(&t)).transpose()?;
            let Some(tenant) = tenant.or(from_file) else {
                return Err(BadInput(format!(
                    "{}: name the tenant with --tenant or a `tenant` key",
                    file.display()
                ))
                .into());
            };
            known_tenant(engine, actor, &tenant).await?;
            let impact = engine.create_incident(actor, &tenant, &incident).await?;
            let files = write_drafts(&impact, &drafts)?;
            if output == Output::Json {
                let mut v = serde_json::to_value(&impact)?;
                v["draft_files"] = serde_json::json!(files);
                print_json(&v)?;
            } else {
                print_impact(&impact);
                for f in files {
                    outln!("draft: {}", f.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        BreachCommand::List { tenant, output } => {
            known_tenant(engine, actor, &tenant).await?;
            let list = engine.incidents(actor, &tenant).await?;
            if output == Output::Json {
                return print_json(&list).map(|()| ExitCode::SUCCESS);
            }
            let mut t = Table::new();
            t.set_header(["id", "discovered", "affected", "risk", "open duties"]);
            for i in &list {
                let open = i
                    .deadlines
                    .iter()
                    .filter(|d| d.status == vow_core::breach::DutyStatus::Open)
                    .count();
                t.add_row([
                    i.id.clone(),
                    when(&i.discovered_at),
                    i.affected.to_string(),
                    i.risk.clone(),
                    open.to_string(),
                ]);
            }
            outln!("{t}");
            Ok(ExitCode::SUCCESS)
        }
        BreachCommand::Show { tenant, id, output } => {
            known_tenant(engine, actor, &tenant).await?;
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
            known_tenant(engine, actor, &tenant).await?;
            let i = engine
                .notify_incident(
                    actor,
                    &tenant,
                    &id,
                    &NewNotification {
                        audience,
                        at,
                        tenant: client_tenant.map(String::from),
                        note,
                    },
                )
                .await?;
            print_incident(&i, output)?;
            Ok(ExitCode::SUCCESS)
        }
        BreachCommand::EditNotice {
            tenant,
            id,
            subject,
            body_file,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let body = std::fs::read_to_string(&body_file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", body_file.display()))?;
            let draft = engine
                .edit_individual_notice(
                    actor,
                    &tenant,
                    &id,
                    &vow_engine::obligations::breaches::DraftEdit { subject, body },
                )
                .await?;
            if output == Output::Json {
                return print_json(&draft).map(|()| ExitCode::SUCCESS);
            }
            outln!("Subject: {}\n\n{}", draft.title, draft.text);
            Ok(ExitCode::SUCCESS)
        }
        BreachCommand::SendNotices { tenant, id, output } => {
            known_tenant(engine, actor, &tenant).await?;
            let m = engine
                .mail_incident_individuals(actor, &tenant, &id)
                .await?;
            if output == Output::Json {
                return print_json(&m).map(|()| ExitCode::SUCCESS);
            }
            outln!(
                "mailed {} people; not mailed: {} erased, {} without an e-mail address; {} failed",
                m.sent,
                m.erased,
                m.no_email,
                m.failed
            );
            for (state, n) in &m.total {
                outln!("  {state}: {n}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The demo's breach step: assess `examples/research-operator/incident.yaml` and print
/// the counts, the risk and the deadlines; the drafts go under `data/breach-notices`.
pub async fn demo(engine: &Arc<Engine>, actor: &Actor, examples: &Path, data: &Path) -> Result<()> {
    outln!(
        "\n== 10e. Breaches (R16): an incident assessed — who is affected, what must be said to whom by when"
    );
    let file = examples.join("research-operator/incident.yaml");
    let (tenant, incident) = read_incident(&file)?;
    let tenant = tenant.unwrap_or_else(|| "prairie-research".to_string());
    let impact = engine
        .create_incident(actor, &tenant_id(&tenant)?, &incident)
        .await?;
    outln!(
        "   {}: {} people affected, risk {}",
        file.display(),
        impact.affected,
        impact.risk
    );
    for r in &impact.risk_reasons {
        outln!("   - {r}");
    }
    let by = impact
        .jurisdictions
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    outln!("   by residence: {by}");
    for d in impact.deadlines.iter().filter(|d| d.required) {
        outln!(
            "   {:<11} {:<8} {}",
            d.audience,
            d.rule,
            d.due.clone().unwrap_or_else(|| d.timing.clone())
        );
    }
    let files = write_drafts(&impact, &data.join("breach-notices"))?;
    outln!(
        "   {} draft notice files in {}",
        files.len(),
        data.join("breach-notices").join(&impact.id).display()
    );
    Ok(())
}
