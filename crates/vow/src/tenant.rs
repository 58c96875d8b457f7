//! `vow tenant create|list|publish|versions`.

use crate::common::tenant_id;
use crate::common::{
    Output, bad, known_tenant, outln, print_json, read_file, report_policy_error, when,
};
use anyhow::Result;
use clap::Subcommand;
use comfy_table::Table;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use vow_core::TenantId;
use vow_engine::{Actor, Engine};

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant (and publish its policy if given). Makes the store if the data
    /// directory holds none yet, and says so.
    #[command(
        after_help = "Example:\n  vow tenant create --data ./vow-data --id acme --name \"Acme Research\" \\\n    --role controller --policy examples/research-operator/policy.yaml"
    )]
    Create {
        /// The tenant's id: 1–63 characters of a-z, 0-9 and -.
        #[arg(long)]
        id: String,
        /// The organisation's name, as notices show it.
        #[arg(long)]
        name: String,
        /// controller (its own data) or processor (a client's data, on instructions).
        #[arg(long, value_parser = ["controller", "processor"])]
        role: String,
        /// For a processor: the controlling client's name.
        #[arg(long)]
        controller_name: Option<String>,
        /// For a processor: the controlling client's privacy contact.
        #[arg(long)]
        controller_contact: Option<String>,
        /// A policy file to publish as the tenant's first version.
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// `table` prints a line; `json` the tenant and the published policy.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// List tenants.
    #[command(after_help = "Example:\n  vow tenant list --data ./vow-data --output json")]
    List {
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Publish a new policy version for a tenant; prints what changed and tells the
    /// tenant's administrators (S5).
    #[command(after_help = "Example:\n  vow tenant publish --tenant acme policy-v2.yaml")]
    Publish {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The policy file (YAML or JSON).
        file: PathBuf,
        /// `table` prints the changes; `json` the published version.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Every policy version of a tenant: effective dates and what each changed (S5).
    #[command(after_help = "Example:\n  vow tenant versions --tenant acme")]
    Versions {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

pub async fn run(engine: &Arc<Engine>, actor: &Actor, command: TenantCommand) -> Result<ExitCode> {
    match command {
        TenantCommand::Create {
            id,
            name,
            role,
            controller_name,
            controller_contact,
            policy,
            output,
        } => {
            let source = match &policy {
                Some(p) => Some((read_file(p)?, p.display().to_string())),
                None => None,
            };
            if let Some((text, file)) = &source
                && let Err(d) = vow_policy::parse(text, file)
            {
                for x in &d {
                    eprintln!("{x}");
                }
                return Err(bad("the policy has errors; nothing was created"));
            }
            let controller = match (&controller_name, &controller_contact) {
                (Some(n), Some(c)) => Some((n.as_str(), c.as_str())),
                (None, None) => None,
                _ => return Err(bad("give both --controller-name and --controller-contact")),
            };
            let t = engine
                .create_tenant(actor, &id, &name, &role, controller)
                .await
                .inspect_err(report_policy_error)?;
            let published = match source {
                Some((text, file)) => Some(
                    engine
                        .publish_policy(actor, &tenant_id(&id)?, &text, &file)
                        .await?,
                ),
                None => None,
            };
            if output == Output::Json {
                print_json(&serde_json::json!({"tenant": t, "policy": published}))?;
            } else {
                outln!("created tenant {} ({}, {})", t.id, t.name, t.role);
                if let Some(p) = published {
                    outln!(
                        "published policy version {} (effective {}), {} warning(s)",
                        p.version,
                        p.effective_date,
                        p.warnings.len()
                    );
                    for w in &p.warnings {
                        eprintln!("{w}");
                    }
                }
            }
        }
        TenantCommand::List { output } => {
            let list = engine.tenants(actor).await?;
            if output == Output::Json {
                print_json(&list)?;
            } else {
                let mut t = Table::new();
                t.set_header(["id", "name", "role", "controller", "created"]);
                for x in list {
                    t.add_row([
                        x.id,
                        x.name,
                        x.role,
                        x.controller.map(|c| c.name).unwrap_or_default(),
                        when(&x.created_at),
                    ]);
                }
                outln!("{t}");
            }
        }
        TenantCommand::Publish {
            tenant,
            file,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let text = read_file(&file)?;
            let p = engine
                .publish_policy(actor, &tenant, &text, &file.display().to_string())
                .await
                .inspect_err(report_policy_error)?;
            if output == Output::Json {
                print_json(&p)?;
            } else {
                outln!(
                    "published policy version {} for {} (effective {})",
                    p.version,
                    tenant,
                    p.effective_date
                );
                for w in &p.warnings {
                    eprintln!("{w}");
                }
                crate::changes::print_changes(&p.changes, "  ");
            }
        }
        TenantCommand::Versions { tenant, output } => {
            known_tenant(engine, actor, &tenant).await?;
            return crate::changes::tenant_versions(engine, actor, &tenant, output).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
