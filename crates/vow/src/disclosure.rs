//! `vow disclosure send|list`: a batch of people's data to a registered recipient, as a
//! JSONL file the operator hands over; and the disclosure log.

use crate::cli::{BadInput, Output};
use anyhow::{Context, Result};
use comfy_table::Table;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use vow_engine::obligations::disclosures::NewDisclosure;
use vow_engine::{Actor, Engine};

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

#[allow(clippy::too_many_arguments)]
pub async fn send(
    engine: &Engine,
    actor: &Actor,
    tenant: &str,
    recipient: &str,
    purpose: &str,
    categories: &[String],
    subjects: &Path,
    out: Option<&Path>,
    output: Output,
) -> Result<ExitCode> {
    let input = NewDisclosure {
        recipient: recipient.to_string(),
        purpose: purpose.to_string(),
        categories: categories.to_vec(),
        subjects: subject_ids(subjects)?,
        // Without a file, the recipient's webhook (clap requires one of the two).
        delivery: Some(if out.is_some() { "response" } else { "webhook" }.into()),
    };
    // Never overwrite: the file holds personal data and may be someone else's.
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    if let Some(out) = out
        && out.exists()
    {
        return Err(BadInput(format!("{} exists; name a new file", out.display())).into());
    }
    let result = engine.disclose(actor, tenant, &input).await?;
    if let Some(out) = out {
        let mut file = opts
            .open(out)
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
        crate::cli::print_json(&serde_json::json!({
            "id": result.id, "recipient": result.recipient, "purpose": result.purpose,
            "categories": result.categories, "transfer": result.transfer,
            "delivery": result.delivery, "sent": result.sent, "refused": result.refused.len(),
            "refused_by_reason": refused, "file": out.map(|o| o.display().to_string()),
        }))?;
    } else {
        println!(
            "disclosure {}: {} people's {} to {} for {} {to}; {} refused",
            result.id,
            result.sent,
            result.categories.join(", "),
            result.recipient,
            result.purpose,
            result.refused.len()
        );
        for (code, n) in refused {
            println!("  refused: {n} × {code}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn list(
    engine: &Engine,
    actor: &Actor,
    tenant: &str,
    output: Output,
) -> Result<ExitCode> {
    let rows = engine.disclosures(actor, tenant).await?;
    if output == Output::Json {
        crate::cli::print_json(&rows)?;
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
                d.at,
                d.recipient,
                d.purpose,
                d.categories.join(", "),
                d.subjects.to_string(),
                d.refused.to_string(),
                d.actor,
            ]);
        }
        println!("{t}");
    }
    Ok(ExitCode::SUCCESS)
}
