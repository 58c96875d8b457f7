//! `vow dataset`: check a fideslang dataset manifest on its own (no store), register
//! it with a connection (checked against the live schema), list what is registered.

use crate::common::{Output, known_tenant, outln, print_json, read_file};
use crate::config::StoreArgs;
use anyhow::Result;
use clap::Subcommand;
use comfy_table::Table;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use vow_core::TenantId;
use vow_engine::{Actor, Engine};
use vow_policy::Severity;

#[derive(Subcommand)]
pub enum DatasetCommand {
    /// Check a dataset manifest (the fideslang format Fides reads): its shape, names,
    /// categories (against --policy if given), identities, data types, masking
    /// strategies, references, and that every collection can be reached from an
    /// identity. Errors name file, line, column and field. Exits 2 on errors.
    #[command(
        after_help = "Examples:\n  vow dataset check examples/shop/dataset.yml\n  vow dataset check shop.yml --policy policy.yaml --output json"
    )]
    Check {
        /// The manifest (YAML).
        file: PathBuf,
        /// Check the categories against this policy's (a category must be one it
        /// defines, or within one; `system.…` categories are not about people).
        #[arg(long, value_name = "POLICY")]
        policy: Option<PathBuf>,
        /// `table` prints the problems and a summary; `json` prints {"ok", "diagnostics", "summary"}.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Register the datasets of a manifest with a connection. The manifest is checked
    /// as `check` does (categories against the tenant's policy) and against the live
    /// schema of the connection's database; on any error nothing is registered and
    /// each problem is printed with its line. Exits 2 on errors.
    #[command(after_help = "Example:
  vow dataset register --tenant shop --connection orders examples/shop/dataset.yml")]
    Register {
        #[command(flatten)]
        store: StoreArgs,
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The connection whose database the manifest describes (see `vow connection list`).
        #[arg(long)]
        connection: String,
        /// The manifest (YAML).
        file: PathBuf,
        /// `table` prints the problems and what was registered; `json` prints {"ok", "datasets" or "diagnostics"}.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The datasets registered for a tenant.
    #[command(after_help = "Example:\n  vow dataset list --tenant shop")]
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

/// `register` and `list`, which need the store.
pub async fn run_stored(
    engine: &Arc<Engine>,
    actor: &Actor,
    command: DatasetCommand,
) -> Result<ExitCode> {
    match command {
        DatasetCommand::Register {
            tenant,
            connection,
            file,
            output,
            ..
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let text = read_file(&file)?;
            let name = file.display().to_string();
            let registered = match engine
                .register_datasets(actor, &tenant, &connection, &text, &name)
                .await
            {
                Ok(r) => r,
                Err(vow_engine::EngineError::Dataset(d)) if output == Output::Json => {
                    print_json(&serde_json::json!({"ok": false, "diagnostics": d}))?;
                    return Ok(ExitCode::from(2));
                }
                Err(e) => return Err(e.into()),
            };
            if output == Output::Json {
                print_json(&serde_json::json!({"ok": true, "datasets": registered}))?;
            } else {
                for d in &registered {
                    for w in &d.warnings {
                        eprintln!("{w}");
                    }
                }
                for d in &registered {
                    outln!(
                        "dataset {} registered with connection {}: {} collection(s), visited in this order: {}",
                        d.fides_key,
                        d.connection,
                        d.collections.len(),
                        d.collections.join(", ")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DatasetCommand::List { tenant, output, .. } => {
            known_tenant(engine, actor, &tenant).await?;
            let list = engine.datasets(actor, &tenant).await?;
            if output == Output::Json {
                print_json(&list)?;
            } else {
                let mut t = Table::new();
                t.set_header([
                    "dataset",
                    "connection",
                    "collections",
                    "registered",
                    "updated",
                ]);
                for d in list {
                    t.add_row([
                        d.fides_key,
                        d.connection,
                        d.collections.len().to_string(),
                        d.registered_at,
                        d.updated_at,
                    ]);
                }
                outln!("{t}");
            }
            Ok(ExitCode::SUCCESS)
        }
        DatasetCommand::Check { .. } => run(command),
    }
}

pub fn run(command: DatasetCommand) -> Result<ExitCode> {
    match command {
        DatasetCommand::Register { .. } | DatasetCommand::List { .. } => {
            Err(crate::common::bad("this dataset command needs the store"))
        }
        DatasetCommand::Check {
            file,
            policy,
            output,
        } => {
            let policy = match policy {
                None => None,
                Some(p) => {
                    let text = read_file(&p)?;
                    match vow_policy::parse(&text, &p.display().to_string()) {
                        Ok(c) => Some(c.policy),
                        Err(d) => {
                            for d in &d {
                                eprintln!("{d}");
                            }
                            return Err(crate::common::bad(format!(
                                "the policy {} has errors: check it with vow policy check",
                                p.display()
                            )));
                        }
                    }
                }
            };
            let known = policy
                .as_ref()
                .map(|p| move |c: &vow_core::Category| p.knows_category(c));
            let text = read_file(&file)?;
            let name = file.display().to_string();
            let checked = vow_connect::check(
                &text,
                &name,
                known
                    .as_ref()
                    .map(|k| k as &dyn Fn(&vow_core::Category) -> bool),
            );
            let (ok, diagnostics, summary) = match checked {
                Ok(c) => (true, c.warnings, Some(c.summary)),
                Err(d) => (false, d, None),
            };
            if output == Output::Json {
                print_json(&serde_json::json!({
                    "ok": ok,
                    "diagnostics": diagnostics,
                    "summary": summary,
                }))?;
            } else {
                for d in &diagnostics {
                    eprintln!("{d}");
                }
                let errors = diagnostics
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count();
                match &summary {
                    Some(s) => {
                        outln!(
                            "{name}: ok ({} warning(s)): {} dataset(s), {} collection(s), {} field(s)",
                            diagnostics.len(),
                            s.datasets,
                            s.collections,
                            s.fields
                        );
                        for (identity, fields) in &s.identities {
                            outln!("  identity {identity}: {}", fields.join(", "));
                        }
                    }
                    None => eprintln!(
                        "{name}: {errors} error(s), {} warning(s)",
                        diagnostics.len() - errors
                    ),
                }
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
    }
}
