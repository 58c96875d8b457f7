//! The command line of policy changes (S5) and de-identified aggregates (R10, S9):
//! `vow policy diff`, `vow tenant versions`, `vow report aggregate`, what `vow tenant
//! publish` prints about the changes, and the demo's step.

use crate::common::tenant_id;
use crate::common::{BadInput, Output, outln, print_json, report_policy_error, when};
use anyhow::Result;
use comfy_table::Table;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vow_core::TenantId;
use vow_engine::obligations::policy_changes::PolicyChanges;
use vow_engine::reports::aggregates::{AggregateQuery, AggregateReport};
use vow_engine::{Actor, Engine};

fn parse_file(path: &Path) -> Result<vow_core::Policy> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("cannot read {}: {e}", path.display())))?;
    match vow_policy::parse(&text, &path.display().to_string()) {
        Ok(c) => Ok(c.policy),
        Err(d) => {
            for x in &d {
                eprintln!("{x}");
            }
            Err(BadInput(format!("{} has errors", path.display())).into())
        }
    }
}

/// `vow policy diff OLD NEW`: what publishing NEW after OLD would change. No store.
pub fn policy_diff(old: &Path, new: &Path, output: Output) -> Result<ExitCode> {
    let old = parse_file(old)?;
    let new = parse_file(new)?;
    let diff = vow_policy::diff(Some(&old), &new);
    // The version numbers are not known here: only which purposes need fresh consent.
    let (_, fresh) = vow_policy::consent_since(Some(&old), &new, 2);
    let summary = diff.summary();
    if output == Output::Json {
        print_json(&json!({"diff": diff, "summary": summary, "fresh_consent": fresh}))?;
    } else {
        if summary.is_empty() {
            outln!("no changes");
        }
        for line in &summary {
            outln!("{line}");
        }
        for f in &fresh {
            outln!(
                "needs fresh consent: {} ({})",
                f.purpose,
                f.reason.as_str().replace('_', " ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `vow tenant publish` prints about the changes, each line after `indent`.
pub fn print_changes(c: &PolicyChanges, indent: &str) {
    for line in &c.summary {
        outln!("{indent}{line}");
    }
    for f in &c.fresh_consent {
        outln!(
            "{indent}needs fresh consent: {} ({}), {} people hold data in its categories",
            f.purpose,
            f.reason.replace('_', " "),
            f.affected_subjects
        );
    }
    for n in &c.notices {
        outln!(
            "{indent}administrators' notice to {}: {}",
            n.to.as_deref().unwrap_or("(no address in the policy)"),
            if n.sent_at.is_some() {
                "sent"
            } else {
                "not sent"
            }
        );
    }
}

/// `vow tenant versions --tenant T`.
pub async fn tenant_versions(
    engine: &Engine,
    actor: &Actor,
    tenant: &TenantId,
    output: Output,
) -> Result<ExitCode> {
    let list = engine.policy_history(actor, tenant).await?;
    if output == Output::Json {
        print_json(&list)?;
    } else {
        let mut t = Table::new();
        t.set_header([
            "version",
            "effective",
            "published",
            "changes",
            "fresh consent",
        ]);
        for v in list {
            t.add_row([
                v.version.to_string(),
                v.effective_date,
                when(&v.published_at),
                v.summary.join("\n"),
                if v.fresh_consent.is_empty() {
                    String::new()
                } else {
                    format!(
                        "{} ({} people)",
                        v.fresh_consent.join(", "),
                        v.affected_subjects
                    )
                },
            ]);
        }
        outln!("{t}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `vow report aggregate --tenant T --by a,b [--min-group N] [--filter attr=value]…`.
pub async fn report_aggregate(
    engine: &Engine,
    actor: &Actor,
    tenant: &TenantId,
    by: Vec<String>,
    min_group: Option<u32>,
    filters: Vec<String>,
    output: Output,
) -> Result<ExitCode> {
    let mut filter = BTreeMap::new();
    for f in filters {
        let Some((k, v)) = f.split_once('=') else {
            return Err(BadInput(format!("--filter {f}: expected attribute=value")).into());
        };
        filter.insert(k.trim().to_string(), v.trim().to_string());
    }
    let query = AggregateQuery {
        by,
        min_group,
        filter,
    };
    // The error's message names each attribute refused: printed once, by `main`.
    let report = engine.aggregate(actor, tenant, &query).await?;
    if output == Output::Json {
        print_json(&report)?;
    } else {
        outln!("{}", aggregate_table(&report));
        eprintln!("{}", report.method);
    }
    Ok(ExitCode::SUCCESS)
}

/// An aggregate as a table: one column per attribute, then the count.
pub fn aggregate_table(r: &AggregateReport) -> String {
    let mut t = Table::new();
    let mut header = r.by.clone();
    header.push("people".into());
    t.set_header(header);
    for c in &r.cells {
        let mut row: Vec<String> =
            r.by.iter()
                .map(|a| c.values.get(a).cloned().unwrap_or_default())
                .collect();
        row.push(match c.count {
            Some(n) => n.to_string(),
            None => format!("suppressed (<{} or complementary)", r.min_group),
        });
        t.add_row(row);
    }
    let mut total = vec![String::new(); r.by.len().saturating_sub(1)];
    total.insert(0, "total".into());
    total.push(match r.total {
        Some(n) => n.to_string(),
        None => "suppressed".into(),
    });
    t.add_row(total);
    t.to_string()
}

/// The demo's step: publish a changed policy for the research operator, show what
/// changed and where the administrators' notice went; then an aggregate table by
/// consent state and age band.
pub async fn demo(engine: &Engine, admin: &Actor, data: &Path) -> Result<()> {
    let tenant = "prairie-research";
    let (_, _, current) = engine.current_policy(admin, &tenant_id(tenant)?).await?;
    // In force from today, so the demo's reads and counts already follow it.
    let today = engine.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let changed = changed_policy(&current, today)?;
    let published = engine
        .publish_policy(
            admin,
            &tenant_id(tenant)?,
            &changed,
            "policy.yaml (demo: version 2)",
        )
        .await
        .inspect_err(report_policy_error)?;
    let c = &published.changes;
    outln!(
        "   {tenant}: policy v{} published, effective {} (was v{})",
        c.version,
        c.effective_date,
        c.previous_version.unwrap_or(0)
    );
    print_changes(c, "   ");
    for n in &c.notices {
        if let Some(id) = &n.message_id
            && let Some(file) = eml_with(&data.join("mail"), id)
        {
            outln!("   administrators' notice: {}", file.display());
        }
    }
    let report = engine
        .aggregate(
            admin,
            &tenant_id(tenant)?,
            &AggregateQuery {
                by: vec!["consent.marketing.email".into(), "age_band".into()],
                min_group: None,
                filter: BTreeMap::new(),
            },
        )
        .await?;
    outln!("   people by newsletter consent and age band (R10, S9; groups under 10 suppressed):");
    for line in aggregate_table(&report).lines() {
        outln!("   {line}");
    }
    Ok(())
}

/// The example policy with a new consent-based purpose and a recipient for it, the
/// e-mail newsletter widened to phone numbers (so its consents must be given again),
/// and a shorter retention for the first rule: what a real revision might bring.
fn changed_policy(current: &vow_core::Policy, today: jiff::civil::Date) -> Result<String> {
    let mut v: serde_json::Value = serde_json::to_value(current)?;
    let category = current
        .categories
        .iter()
        .find(|c| c.id.as_str().starts_with("user.contact.email"))
        .or_else(|| current.categories.first())
        .map(|c| c.id.to_string())
        .ok_or_else(|| anyhow::anyhow!("the example policy has no categories"))?;
    v["effective_date"] = json!(today.to_string());
    if let Some(purposes) = v["purposes"].as_array_mut() {
        purposes.push(json!({
            "id": "product_testing",
            "description": "Home-use product tests: we send you products to try and ask about them",
            "basis": "consent",
            "categories": [category]
        }));
    }
    if let Some(marketing) = v["purposes"]
        .as_array_mut()
        .and_then(|p| p.iter_mut().find(|p| p["id"] == "marketing.email"))
        .and_then(|p| p["categories"].as_array_mut())
    {
        marketing.push(json!("user.contact.phone_number"));
    }
    if let Some(recipients) = v["recipients"].as_array_mut() {
        recipients.push(json!({
            "id": "parcel-post",
            "name": "Parcel Post Logistics",
            "kind": "vendor",
            "description": "Ships test products",
            "categories": [category],
            "purposes": ["product_testing"],
            "country": "CA"
        }));
    }
    if let Some(first) = v["retention"].as_array_mut().and_then(|r| r.first_mut()) {
        first["keep"] = json!("1y");
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("consent_since");
    }
    Ok(serde_json::to_string_pretty(&v)?)
}

/// The `.eml` file holding a Message-ID.
fn eml_with(dir: &Path, message_id: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(message_id)))
}
