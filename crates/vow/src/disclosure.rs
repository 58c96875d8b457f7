//! `vow disclosure send|list`: a batch of people's data to a registered recipient, as a
//! JSONL file the operator hands over; and the disclosure log.

use crate::common::{BadInput, Output, known_tenant, outln, print_json, when};
use anyhow::{Context, Result};
use clap::Subcommand;
use comfy_table::Table;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use vow_core::TenantId;
use vow_engine::obligations::disclosures::NewDisclosure;
use vow_engine::{Actor, Engine};

#[derive(Subcommand)]
pub enum DisclosureCommand {
    /// Disclose categories of a batch of people to a recipient of the policy for a
    /// purpose. Each person is judged by the decision function; refused people are
    /// counted by reason and not written. The allowed records go to a new JSONL file
    /// (mode 0600) to hand to the recipient; the disclosure is recorded.
    #[command(
        after_help = "Example:\n  vow disclosure send --tenant acme --recipient lab-partner --purpose research \\\n    --categories user.name,user.contact.email --subjects batch.txt --out to-lab.jsonl"
    )]
    Send {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// A recipient of the tenant's policy, by id.
        #[arg(long)]
        recipient: String,
        /// The purpose of the disclosure, by id.
        #[arg(long)]
        purpose: String,
        /// Comma-separated categories, e.g. user.name,user.contact.email
        #[arg(long, value_delimiter = ',', required = true)]
        categories: Vec<String>,
        /// A file of subject ids: one per line, or JSONL objects with "id".
        #[arg(long, value_name = "FILE")]
        subjects: PathBuf,
        /// The JSONL file to create (never overwritten).
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "webhook",
            conflicts_with = "webhook"
        )]
        out: Option<PathBuf>,
        /// Send each person's record to the recipient's webhook endpoint instead, as a
        /// signed `subject.disclosed` event.
        #[arg(long)]
        webhook: bool,
        /// `table` prints a summary; `json` the counts and the file.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The disclosure log: recipient, purpose, categories, people, when, by whom.
    #[command(after_help = "Example:\n  vow disclosure list --tenant acme --output json")]
    List {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

pub async fn run(
    engine: &Arc<Engine>,
    actor: &Actor,
    command: DisclosureCommand,
) -> Result<ExitCode> {
    match command {
        DisclosureCommand::Send {
            tenant,
            recipient,
            purpose,
            categories,
            subjects,
            out,
            webhook: _,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let batch = Batch {
                recipient: &recipient,
                purpose: &purpose,
                categories: &categories,
                subjects: &subjects,
                out: out.as_deref(),
            };
            send(engine, actor, &tenant, batch, output).await
        }
        DisclosureCommand::List { tenant, output } => {
            known_tenant(engine, actor, &tenant).await?;
            list(engine, actor, &tenant, output).await
        }
    }
}

/// What `vow disclosure send` was asked to send.
struct Batch<'a> {
    recipient: &'a str,
    purpose: &'a str,
    categories: &'a [String],
    subjects: &'a Path,
    out: Option<&'a Path>,
}

/// Subject ids from a file: one per line, or JSONL objects with `id` or `subject`.
fn subject_ids(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("cannot read {}: {e}", path.display())))?;
    let mut ids = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let id = if line.starts_with('{') {
            let v: Value = serde_json::from_str(line).map_err(|e| {
                BadInput(format!(
                    "{}:{}: not a JSON object: {e}",
                    path.display(),
                    n + 1
                ))
            })?;
            v.get("id")
                .or_else(|| v.get("subject"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    BadInput(format!(
                        "{}:{}: an object needs an \"id\" or \"subject\" string",
                        path.display(),
                        n + 1
                    ))
                })?
        } else {
            line.to_string()
        };
        ids.push(id);
    }
    Ok(ids)
}

async fn send(
    engine: &Engine,
    actor: &Actor,
    tenant: &TenantId,
    batch: Batch<'_>,
    output: Output,
) -> Result<ExitCode> {
    let Batch {
        recipient,
        purpose,
        categories,
        subjects,
        out,
    } = batch;
    let input = NewDisclosure {
        recipient: recipient.to_string(),
        purpose: purpose.to_string(),
        categories: categories.to_vec(),
        subjects: subject_ids(subjects)?,
        // Without a file, the recipient's webhook (clap requires one of the two).
        delivery: Some(if out.is_some() { "response" } else { "webhook" }.into()),
    };
    if let Some(out) = out
        && out.exists()
    {
        return Err(BadInput(format!("{} exists; name a new file", out.display())).into());
    }
    let result = engine.disclose(actor, tenant, &input).await?;
    if let Some(out) = out {
        // Never overwrite: the file holds personal data and may be someone else's.
        let mut file = vow_crypto::files::create_private_file(out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        for r in &result.records {
            serde_json::to_writer(&mut file, r)?;
            file.write_all(b"\n")?;
        }
        file.sync_all()?;
    }
    let to = match out {
        Some(out) => format!("written to {} (mode 0600)", out.display()),
        None => "queued as signed webhook events".to_string(),
    };
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    for r in &result.refused {
        for reason in r["reasons"].as_array().into_iter().flatten() {
            let code = reason["code"].as_str().unwrap_or("other").to_string();
            *refused.entry(code).or_default() += 1;
        }
    }
    if output == Output::Json {
        print_json(&serde_json::json!({
            "id": result.id, "recipient": result.recipient, "purpose": result.purpose,
            "categories": result.categories, "transfer": result.transfer,
            "delivery": result.delivery, "sent": result.sent, "refused": result.refused.len(),
            "refused_by_reason": refused, "file": out.map(|o| o.display().to_string()),
        }))?;
    } else {
        outln!(
            "disclosure {}: {} people's {} to {} for {} {to}; {} refused",
            result.id,
            result.sent,
            result.categories.join(", "),
            result.recipient,
            result.purpose,
            result.refused.len()
        );
        for (code, n) in refused {
            outln!("  refused: {n} × {code}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(
    engine: &Engine,
    actor: &Actor,
    tenant: &TenantId,
    output: Output,
) -> Result<ExitCode> {
    let rows = engine.disclosures(actor, tenant).await?;
    if output == Output::Json {
        print_json(&rows)?;
    } else {
        let mut t = Table::new();
        t.set_header([
            "id",
            "at",
            "recipient",
            "purpose",
            "categories",
            "people",
            "refused",
            "by",
        ]);
        for d in rows {
            t.add_row([
                d.id,
                when(&d.at),
                d.recipient,
                d.purpose,
                d.categories.join(", "),
                d.subjects.to_string(),
                d.refused.to_string(),
                d.actor,
            ]);
        }
        outln!("{t}");
    }
    Ok(ExitCode::SUCCESS)
}
