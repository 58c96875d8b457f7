//! `vow subject show|list|correct|erase`: an operator's view of people. Found by an
//! identifier through the blind index; categories and counts without values; values
//! only for a named purpose, through the decision function; corrections through the
//! engine's correction path (recipients are told); erasure through the request
//! workflow (holds, suppression and notices apply).

use crate::common::purpose_id;
use crate::common::{Output, bad, known_tenant, known_tenant_or_all, outln, print_json, when};
use anyhow::Result;
use clap::Subcommand;
use comfy_table::Table;
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;
use vow_core::TenantId;
use vow_core::{Pii, RequestState};
use vow_engine::input::{Identifiers, NewField, SubjectPatch};
use vow_engine::requests::{NewRequest, Requester, Step};
use vow_engine::{Actor, Engine, LookupKind, ReadGround};

/// The identifier a person is found by: exactly one.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
pub struct Who {
    /// The person's e-mail address.
    #[arg(long)]
    email: Option<String>,
    /// The person's phone number, e.g. +13065550100.
    #[arg(long)]
    phone: Option<String>,
    /// The person's id in the tenant's own systems.
    #[arg(long)]
    external_id: Option<String>,
}

impl Who {
    fn pair(&self) -> (LookupKind, &str) {
        match (&self.email, &self.phone, &self.external_id) {
            (Some(e), _, _) => (LookupKind::Email, e),
            (_, Some(p), _) => (LookupKind::Phone, p),
            (_, _, Some(x)) => (LookupKind::ExternalId, x),
            // clap's group makes one of them required.
            (None, None, None) => (LookupKind::Email, ""),
        }
    }

    fn identifiers(&self) -> Identifiers {
        Identifiers {
            email: self.email.clone().map(Pii::new),
            phone: self.phone.clone().map(Pii::new),
            external_id: self.external_id.clone().map(Pii::new),
        }
    }
}

#[derive(Subcommand)]
pub enum SubjectCommand {
    /// One person, found by an identifier: id, categories held with their counts,
    /// consent state. No values, unless the read names what it serves: --purpose
    /// (through the decision function; refused where the policy or the person's
    /// consents do not allow it) or --request (a data-subject request about the person
    /// that is being fulfilled: every version of every field).
    #[command(
        after_help = "Examples:\n  vow subject show --tenant acme --email ada@example.org\n  vow subject show --tenant acme --email ada@example.org --purpose research\n  vow subject show --tenant acme --email ada@example.org --request 0192f3c4-…"
    )]
    Show {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        #[command(flatten)]
        who: Who,
        /// Read the values for this purpose (recorded in the audit chain).
        #[arg(long, conflicts_with = "request")]
        purpose: Option<String>,
        /// Read every version of every field for this data-subject request (access,
        /// know, correct, delete or portability, about this person, verified or in
        /// progress); recorded in the audit chain with the request.
        #[arg(long, value_name = "REQUEST_ID")]
        request: Option<String>,
        /// With --purpose: only these categories (default: every category held that the
        /// purpose may use).
        #[arg(long, value_delimiter = ',', requires = "purpose")]
        categories: Vec<String>,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Counts per tenant: people held, people erased, and people and fields per
    /// category. No values, no identifiers.
    #[command(
        after_help = "Examples:\n  vow subject list\n  vow subject list --tenant acme --output json"
    )]
    List {
        /// Only this tenant (default: every tenant).
        #[arg(long)]
        tenant: Option<TenantId>,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Correct one field of a person. The previous version is kept, and recipients the
    /// person's data was disclosed to are told (webhook `subject.corrected`).
    #[command(
        after_help = "Example:\n  vow subject correct --tenant acme --email ada@example.org --category user.name --value \"Ada Lovelace\""
    )]
    Correct {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        #[command(flatten)]
        who: Who,
        /// The category of the field, e.g. user.name.
        #[arg(long)]
        category: String,
        /// The value as it should be.
        #[arg(long)]
        value: String,
        /// The id of the field to correct, when the person holds several of the category.
        #[arg(long, value_name = "FIELD_ID")]
        field: Option<String>,
        /// Where the correction came from. Default: cli.
        #[arg(long, default_value = "cli")]
        source: String,
        /// `table` prints a line; `json` {"subject","fields"}.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Erase a person through the request workflow: a delete request is filed on the
    /// operator's behalf, verified by the operator and fulfilled, so legal holds,
    /// suppression and notices apply as for any request.
    #[command(
        after_help = "Example:\n  vow subject erase --tenant acme --email ada@example.org --jurisdiction CA"
    )]
    Erase {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        #[command(flatten)]
        who: Who,
        /// How the person asked: web, email, phone, mail or api.
        #[arg(long, default_value = "email")]
        channel: String,
        /// Where the person lives, e.g. US-CA; decides which laws apply.
        #[arg(long)]
        jurisdiction: Option<String>,
        /// `table` prints the request; `json` the API's request view.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

/// The person's subject id, or bad input naming the flag.
async fn find(engine: &Engine, actor: &Actor, tenant: &TenantId, who: &Who) -> Result<String> {
    let (kind, value) = who.pair();
    engine
        .lookup(actor, tenant, kind, value)
        .await?
        .ok_or_else(|| {
            bad(format!(
                "no person of tenant {tenant} has that {} (identifiers are matched as normalised)",
                kind.as_str()
            ))
        })
}

pub async fn run(engine: &Arc<Engine>, actor: &Actor, command: SubjectCommand) -> Result<ExitCode> {
    match command {
        SubjectCommand::Show {
            tenant,
            who,
            purpose,
            request,
            categories,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let id = find(engine, actor, &tenant, &who).await?;
            match request {
                Some(r) => show_for_request(engine, actor, &tenant, &id, &r, output).await?,
                None => show(engine, actor, &tenant, &id, purpose, categories, output).await?,
            }
        }
        SubjectCommand::List { tenant, output } => {
            let tenants = known_tenant_or_all(engine, actor, tenant).await?;
            let mut all = Vec::new();
            for t in tenants {
                all.push(engine.subject_counts(actor, &t).await?);
            }
            if output == Output::Json {
                print_json(&all)?;
            } else {
                for c in &all {
                    outln!(
                        "{}: {} held, {} erased",
                        c.tenant,
                        people(c.subjects),
                        c.erased
                    );
                    if c.categories.is_empty() {
                        continue;
                    }
                    let mut t = Table::new();
                    t.set_header(["category", "people", "fields"]);
                    for x in &c.categories {
                        t.add_row([
                            x.category.clone(),
                            x.subjects.to_string(),
                            x.fields.to_string(),
                        ]);
                    }
                    outln!("{t}");
                }
            }
        }
        SubjectCommand::Correct {
            tenant,
            who,
            category,
            value,
            field,
            source,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let id = find(engine, actor, &tenant, &who).await?;
            let patch = SubjectPatch {
                fields: vec![NewField {
                    category: category.clone(),
                    value: Pii::new(json!(value)),
                    purposes: Vec::new(),
                    source: Some(source),
                    store: None,
                    collected_at: None,
                    corrects: field,
                }],
                residence: None,
            };
            let fields = engine.update_subject(actor, &tenant, &id, &patch).await?;
            if output == Output::Json {
                print_json(&json!({"subject": id, "fields": fields}))?;
            } else {
                outln!(
                    "{category} of {id} corrected (new version {}); recipients it was disclosed to are told",
                    fields.join(", ")
                );
            }
        }
        SubjectCommand::Erase {
            tenant,
            who,
            channel,
            jurisdiction,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            // Found first, so a typo is not filed as a request about no one.
            find(engine, actor, &tenant, &who).await?;
            let ask = NewRequest {
                kind: "delete".into(),
                channel,
                jurisdiction,
                identifiers: who.identifiers(),
                birth_date: None,
                requester: Some(Requester {
                    kind: Some("subject".into()),
                    ..Requester::default()
                }),
                contact_email: None,
                received_at: None,
                backdated: false,
                purposes: Vec::new(),
                corrections: Vec::new(),
            };
            let mut r = engine.submit_request(actor, &tenant, &ask).await?;
            if matches!(
                RequestState::parse(&r.state),
                Some(RequestState::Verifying | RequestState::Received | RequestState::Acknowledged)
            ) {
                // The operator vouches for the person, as an account sign-in would.
                let step = Step {
                    authenticated: true,
                    ..Step::default()
                };
                r = engine.verify_request(actor, &tenant, &r.id, &step).await?;
            }
            if RequestState::parse(&r.state) == Some(RequestState::Verified) {
                r = engine.fulfil_request(actor, &tenant, &r.id).await?;
            }
            crate::request::print_request(&r, output)?;
            if r.state != "fulfilled" {
                eprintln!(
                    "the delete request stopped in state {}: `vow request show --tenant {tenant} {}` tells why",
                    r.state, r.id
                );
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn people(n: usize) -> String {
    if n == 1 {
        "1 person".to_string()
    } else {
        format!("{n} people")
    }
}

/// The person's summary and every version of every field, read for a request.
async fn show_for_request(
    engine: &Engine,
    actor: &Actor,
    tenant: &TenantId,
    id: &str,
    request: &str,
    output: Output,
) -> Result<()> {
    let summary = engine.subject_summary(actor, tenant, id).await?;
    let ground = ReadGround::Request(request.to_string());
    let versions = engine.field_history(actor, tenant, id, &ground).await?;
    if output == Output::Json {
        let mut v = serde_json::to_value(&summary)?;
        let fields: Vec<_> = versions
            .iter()
            .map(|(f, superseded)| {
                let mut x = json!(f);
                x["superseded_at"] = json!(superseded);
                x
            })
            .collect();
        v["read"] = json!({"request": request, "fields": fields});
        return print_json(&v);
    }
    print_summary(&summary);
    outln!("values read for request {request} (recorded in the audit chain):");
    for (f, superseded) in &versions {
        let value = match &f.value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        match superseded {
            Some(at) => outln!(
                "  {} v{}: {value} (replaced {})",
                f.category,
                f.version,
                when(at)
            ),
            None => outln!("  {} v{}: {value}", f.category, f.version),
        }
    }
    Ok(())
}

async fn show(
    engine: &Engine,
    actor: &Actor,
    tenant: &TenantId,
    id: &str,
    purpose: Option<String>,
    categories: Vec<String>,
    output: Output,
) -> Result<()> {
    let summary = engine.subject_summary(actor, tenant, id).await?;
    let values = match &purpose {
        None => None,
        Some(p) => {
            let asked = if categories.is_empty() {
                let (_, _, policy) = engine.current_policy(actor, tenant).await?;
                let allowed: Vec<String> = policy
                    .purposes
                    .iter()
                    .find(|d| d.id.as_str() == p)
                    .map(|d| {
                        d.categories
                            .iter()
                            .map(|c| c.as_str().to_string())
                            .collect()
                    })
                    .ok_or_else(|| bad("--purpose names no purpose of the tenant's policy"))?;
                summary
                    .categories
                    .iter()
                    .filter(|h| h.fields > 0)
                    .map(|h| h.category.clone())
                    .filter(|c| {
                        allowed.iter().any(|a| {
                            c == a || (c.starts_with(a.as_str()) && c[a.len()..].starts_with('.'))
                        })
                    })
                    .collect()
            } else {
                categories
            };
            if asked.is_empty() {
                return Err(bad(
                    "the person holds nothing the purpose may use; name --categories to ask anyway",
                ));
            }
            Some(
                engine
                    .read(actor, tenant, id, &purpose_id(p)?, &asked)
                    .await?,
            )
        }
    };
    if output == Output::Json {
        let mut v = serde_json::to_value(&summary)?;
        if let Some(fields) = &values {
            v["read"] = json!({"purpose": purpose, "fields": fields});
        }
        return print_json(&v);
    }
    print_summary(&summary);
    if let (Some(fields), Some(p)) = (&values, &purpose) {
        outln!("values read for {p} (recorded in the audit chain):");
        for f in fields {
            match &f.value {
                serde_json::Value::String(text) => outln!("  {}: {text}", f.category),
                other => outln!("  {}: {other}", f.category),
            }
        }
    }
    Ok(())
}

fn print_summary(summary: &vow_engine::vault::operator::SubjectSummary) {
    outln!(
        "subject {} of {} (since {})",
        summary.id,
        summary.tenant,
        when(&summary.created_at)
    );
    let mut t = Table::new();
    t.set_header([
        "category",
        "fields",
        "earlier versions",
        "sources",
        "stores",
    ]);
    for c in &summary.categories {
        t.add_row([
            c.category.clone(),
            c.fields.to_string(),
            c.superseded.to_string(),
            c.sources.join(", "),
            c.stores.join(", "),
        ]);
    }
    outln!("{t}");
    if summary.consents.is_empty() {
        outln!("consents: none recorded");
    }
    for (p, s) in &summary.consents {
        outln!(
            "consent {p}: {}{}",
            s["state"].as_str().unwrap_or("-"),
            s["kind"]
                .as_str()
                .map(|k| format!(" ({k})"))
                .unwrap_or_default()
        );
    }
}
