//! `vow unsubscribe links`: the `List-Unsubscribe` and `List-Unsubscribe-Post` header
//! values for a mailing (R13, S8), as the API's `POST /v1/tenants/{t}/unsubscribe-links`
//! gives them. Links use the configured `public_url`.

use crate::common::{BadInput, known_tenant, outln, print_json};
use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;
use std::sync::Arc;
use vow_core::TenantId;
use vow_engine::vault::unsubscribe::LinkRequest;
use vow_engine::{Actor, Engine};

#[derive(Subcommand)]
pub enum UnsubscribeCommand {
    /// Unsubscribe links for a mailing: for the subjects named, or for every person
    /// whose consent to the purpose is granted now. Each line (`jsonl`, the default)
    /// is one person's `subject`, `url`, `list_unsubscribe` and
    /// `list_unsubscribe_post`; `json` prints one document with the validity. Links
    /// are valid 400 days and survive key rotation.
    #[command(
        visible_alias = "headers",
        after_help = "Examples:\n  vow unsubscribe links --tenant acme --purpose marketing.email > links.jsonl\n  vow unsubscribe links --tenant acme --purpose marketing.email --subject 0192f3c4-… --output json\n  vow unsubscribe headers --tenant acme --purpose marketing.email --file ids.txt"
    )]
    Links {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The mailing purpose the links withdraw consent to, e.g. marketing.email.
        #[arg(long)]
        purpose: String,
        /// Only this subject (repeat for several); default: everyone with live consent.
        #[arg(long = "subject", value_name = "SUBJECT_ID")]
        subjects: Vec<String>,
        /// Subject ids from this file, one a line (blank lines skipped), with any --subject.
        #[arg(long, value_name = "IDS")]
        file: Option<std::path::PathBuf>,
        /// `jsonl` (one person a line) or `json`.
        #[arg(long, value_enum, default_value = "jsonl")]
        output: LinksOutput,
    },
}

/// How the links are printed.
#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq, Debug)]
pub enum LinksOutput {
    /// One JSON object a line, one line per person.
    Jsonl,
    /// One JSON document (the API's answer).
    Json,
}

pub async fn run(
    engine: &Arc<Engine>,
    actor: &Actor,
    command: UnsubscribeCommand,
) -> Result<ExitCode> {
    match command {
        UnsubscribeCommand::Links {
            tenant,
            purpose,
            mut subjects,
            file,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            if let Some(file) = file {
                let ids = std::fs::read_to_string(&file).map_err(|e| {
                    BadInput(format!(
                        "cannot read the subject list {}: {e}",
                        file.display()
                    ))
                })?;
                subjects.extend(
                    ids.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_string),
                );
            }
            let q = LinkRequest {
                purpose,
                subjects: (!subjects.is_empty()).then_some(subjects),
            };
            let links = engine.unsubscribe_links(actor, &tenant, &q).await?;
            match output {
                LinksOutput::Json => print_json(&links)?,
                LinksOutput::Jsonl => {
                    for l in &links.links {
                        outln!("{}", serde_json::to_string(l)?);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
