//! `vow request …`: data-subject requests entered and carried out at the command line,
//! through the same workflow as the API.

use crate::common::{Output, known_tenant, outln, print_json, report_policy_error, when, when_opt};
use anyhow::Result;
use clap::Subcommand;
use comfy_table::Table;
use std::process::ExitCode;
use std::sync::Arc;
use vow_core::{Pii, TenantId};
use vow_engine::requests::{DenialReason, DocumentReview, NewAppeal, NewRequest, Requester, Step};
use vow_engine::{Actor, Engine, RequestView};

/// The tenant and the request every step names.
#[derive(clap::Args)]
pub struct Target {
    /// The tenant (see `vow tenant list`).
    #[arg(long)]
    tenant: TenantId,
    /// The request's id, as `vow request list` shows it.
    id: String,
    /// `table` prints the request with its deadlines; `json` the API's request view.
    #[arg(long, value_enum, default_value = "table")]
    output: Output,
}

/// Identifiers to match the person by.
#[derive(clap::Args)]
pub struct Ids {
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

impl Ids {
    fn identifiers(self) -> vow_engine::input::Identifiers {
        vow_engine::input::Identifiers {
            email: self.email.map(vow_core::Pii::new),
            phone: self.phone.map(vow_core::Pii::new),
            external_id: self.external_id.map(vow_core::Pii::new),
        }
    }
}

#[derive(Subcommand)]
pub enum RequestCommand {
    /// Enter a request (e.g. one that arrived by phone or mail); prints its deadlines.
    #[command(
        after_help = "Example:\n  vow request submit --tenant acme --type access --channel phone \\\n    --email ada@example.org --jurisdiction US-CA --received-at 2026-11-20T15:04:00Z"
    )]
    Submit {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// access, know, delete, correct, opt_out (sale or sharing), limit_sensitive, portability, withdraw_consent, unsubscribe (marketing e-mail)
        #[arg(long = "type", value_name = "TYPE")]
        kind: String,
        /// How it arrived: web, email, phone, mail, api.
        #[arg(long)]
        channel: String,
        #[command(flatten)]
        ids: Ids,
        /// The date of birth the person gave (YYYY-MM-DD), to match and to judge age.
        #[arg(long)]
        birth_date: Option<String>,
        /// Declared residence, e.g. US-CA.
        #[arg(long)]
        jurisdiction: Option<String>,
        /// When it arrived (RFC 3339), if before now; never in the future, and not more
        /// than the server's window back (30 days by default) unless --backdated.
        #[arg(long, value_name = "TIME")]
        received_at: Option<String>,
        /// --received-at is further back than the window on purpose (a letter found
        /// late); its deadlines may already have passed.
        #[arg(long, requires = "received_at")]
        backdated: bool,
        /// Who asks: subject, agent or parent.
        #[arg(long, default_value = "subject")]
        requester: String,
        /// `table` prints the request with its deadlines; `json` the API's request view.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Open requests, deadlines first; overdue and due-within-3-days flagged.
    #[command(after_help = "Example:\n  vow request list --tenant acme --all --output json")]
    List {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// Include closed requests.
        #[arg(long)]
        all: bool,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// One request with its events and notices.
    #[command(after_help = "Example:\n  vow request show --tenant acme 0192f3c4-…")]
    Show {
        #[command(flatten)]
        target: Target,
    },
    /// Match more identifiers, record a signed declaration or a one-time code, or give
    /// up (unverifiable).
    #[command(
        after_help = "Examples:\n  vow request verify --tenant acme 0192f3c4-… --phone +13065550100\n  vow request verify --tenant acme 0192f3c4-… --code 418207"
    )]
    Verify {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        ids: Ids,
        /// The person signed a declaration that they are who they say.
        #[arg(long)]
        declaration: bool,
        /// The one-time code the person received.
        #[arg(long)]
        code: Option<String>,
        /// The person confirmed directly that the agent acts for them.
        #[arg(long)]
        subject_confirmed: bool,
        /// Stop trying: the request is denied as unverifiable.
        #[arg(long)]
        give_up: bool,
    },
    /// Extend the deadline as far as the law allows (before the first one), with a reason.
    #[command(
        after_help = "Example:\n  vow request extend --tenant acme 0192f3c4-… --reason \"records in three archives\""
    )]
    Extend {
        #[command(flatten)]
        target: Target,
        /// Why more time is needed; it goes into the extension notice.
        #[arg(long)]
        reason: String,
    },
    /// Carry out a verified request and send the completion notice.
    #[command(after_help = "Example:\n  vow request fulfil --tenant acme 0192f3c4-…")]
    Fulfil {
        #[command(flatten)]
        target: Target,
    },
    /// Mail a one-time code to the e-mail address on file.
    #[command(after_help = "Example:\n  vow request code --tenant acme 0192f3c4-…")]
    Code {
        #[command(flatten)]
        target: Target,
    },
    /// Stop the clock where every applicable law allows it (e.g. UK GDPR while waiting
    /// for information needed to clarify the request).
    #[command(
        after_help = "Example:\n  vow request pause --tenant acme 0192f3c4-… --reason \"asked which account\""
    )]
    Pause {
        #[command(flatten)]
        target: Target,
        /// What is awaited.
        #[arg(long)]
        reason: String,
    },
    /// Start a paused clock again; the deadlines move by the time it stood.
    #[command(after_help = "Example:\n  vow request resume --tenant acme 0192f3c4-…")]
    Resume {
        #[command(flatten)]
        target: Target,
    },
    /// The person withdrew the request. No notice is sent.
    #[command(after_help = "Example:\n  vow request withdraw --tenant acme 0192f3c4-…")]
    Withdraw {
        #[command(flatten)]
        target: Target,
    },
    /// Deny as unverifiable every request whose deadline passed unverified.
    #[command(after_help = "Example:\n  vow request sweep --tenant acme")]
    Sweep {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// `table` prints a line; `json` {"denied": N}.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Deny with reason codes and send the denial notice.
    #[command(
        after_help = "Example:\n  vow request deny --tenant acme 0192f3c4-… --reason no_data"
    )]
    Deny {
        #[command(flatten)]
        target: Target,
        /// unverifiable, no_data, exempt, manifestly_unfounded, excessive,
        /// agent_not_authorised, duplicate or other (repeatable).
        #[arg(long = "reason", value_name = "CODE", required = true)]
        reasons: Vec<String>,
    },
    /// Accept or reject a document an agent or a parent uploaded as authority (list
    /// them with the API's `GET …/requests/{r}/documents`). Until it is accepted the
    /// request cannot be fulfilled; rejecting it denies the request
    /// (agent_not_authorised) and tells the person the reason.
    #[command(
        name = "review-document",
        after_help = "Example:\n  vow request review-document --tenant acme 0192f3c4-… --document 0192f3c5-… \\\n    --decision reject --reason \"the permission is not signed\""
    )]
    ReviewDocument {
        #[command(flatten)]
        target: Target,
        /// The document's id.
        #[arg(long)]
        document: String,
        /// accept or reject.
        #[arg(long)]
        decision: String,
        /// Why (required to reject: the person is told it).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Appeal a denial where a law that applied provides one (Virginia, Colorado,
    /// Connecticut): files a new request with the appeal's own deadline, linked to the
    /// denied one. Decide it with `fulfil` (the request is carried out after all) or
    /// `deny` (final; the notice names the regulators).
    #[command(
        after_help = "Example:\n  vow request appeal --tenant acme 0192f3c4-… --statement \"I sent my ID on time\" --channel email"
    )]
    Appeal {
        #[command(flatten)]
        target: Target,
        /// Why the person disagrees, in their words (kept sealed with the appeal).
        #[arg(long)]
        statement: Option<String>,
        /// How the appeal arrived: web, email, phone, mail or api.
        #[arg(long, default_value = "api")]
        channel: String,
    },
}

pub fn print_request(r: &RequestView, output: Output) -> Result<()> {
    if output == Output::Json {
        return print_json(r);
    }
    outln!(
        "request {} ({}, via {}) in tenant {}",
        r.id,
        r.kind,
        r.channel,
        r.tenant
    );
    outln!(
        "  state:        {}{}",
        r.state,
        r.flag
            .as_deref()
            .map(|f| format!("  [{f}]"))
            .unwrap_or_default()
    );
    outln!("  received:     {}", when(&r.received_at));
    outln!(
        "  acknowledge:  {}",
        when_opt(r.due.acknowledgement.as_deref())
    );
    outln!(
        "  respond by:   {} (set by {})",
        when(r.due.extended_to.as_deref().unwrap_or(&r.due.response)),
        r.due.binding
    );
    outln!(
        "  may extend to {}",
        when_opt(r.due.extended_max.as_deref())
    );
    outln!("  laws:         {}", r.rules.join(", "));
    outln!(
        "  matched:      {} point(s); subject {}",
        r.matched_points,
        r.subject.as_deref().unwrap_or("-")
    );
    if let Some(o) = &r.outcome {
        outln!("  outcome:      {o}");
    }
    if let Some(of) = &r.appeal_of {
        outln!("  appeal of:    {of}");
    }
    if let Some(by) = &r.appealed_by {
        outln!("  appealed by:  {by}");
    }
    for e in &r.events {
        outln!(
            "  {}  {:<12} {} -> {}",
            when(&e.at),
            e.event,
            e.from.as_deref().unwrap_or("-"),
            e.to.as_deref().unwrap_or("-")
        );
    }
    for n in &r.notices {
        outln!(
            "  notice {} ({}), sent {}",
            n.kind,
            when(&n.created_at),
            n.sent_at.as_deref().map_or_else(|| "no".to_string(), when)
        );
    }
    Ok(())
}

fn reason(text: String) -> Step {
    Step {
        reason: Some(text),
        ..Step::default()
    }
}

pub async fn run(engine: &Arc<Engine>, actor: &Actor, command: RequestCommand) -> Result<ExitCode> {
    let (r, output) = match command {
        RequestCommand::Submit {
            tenant,
            kind,
            channel,
            ids,
            birth_date,
            jurisdiction,
            received_at,
            backdated,
            requester,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let input = NewRequest {
                kind,
                channel,
                jurisdiction,
                identifiers: ids.identifiers(),
                birth_date: birth_date.map(vow_core::Pii::new),
                requester: Some(Requester {
                    kind: Some(requester),
                    ..Requester::default()
                }),
                contact_email: None,
                received_at,
                backdated,
                purposes: Vec::new(),
                corrections: Vec::new(),
            };
            let r = engine
                .submit_request(actor, &tenant, &input)
                .await
                .inspect_err(report_policy_error)?;
            (r, output)
        }
        RequestCommand::List {
            tenant,
            all,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let list = engine.requests(actor, &tenant, all).await?;
            if output == Output::Json {
                print_json(&list)?;
            } else {
                let mut t = Table::new();
                t.set_header([
                    "id",
                    "type",
                    "channel",
                    "state",
                    "respond by",
                    "flag",
                    "laws",
                ]);
                for r in list {
                    t.add_row([
                        r.id,
                        r.kind,
                        r.channel,
                        r.state,
                        when(&r.due.extended_to.unwrap_or(r.due.response)),
                        r.flag.unwrap_or_default(),
                        r.rules.join(","),
                    ]);
                }
                outln!("{t}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        RequestCommand::Sweep { tenant, output } => {
            known_tenant(engine, actor, &tenant).await?;
            let n = engine.sweep_requests(actor, &tenant).await?;
            if output == Output::Json {
                print_json(&serde_json::json!({ "denied": n }))?;
            } else {
                outln!("{n} request(s) past their deadline unverified were denied as unverifiable");
            }
            return Ok(ExitCode::SUCCESS);
        }
        RequestCommand::Show { target } => {
            let t = checked(engine, actor, target).await?;
            (engine.request(actor, &t.tenant, &t.id).await?, t.output)
        }
        RequestCommand::Verify {
            target,
            ids,
            declaration,
            code,
            subject_confirmed,
            give_up,
        } => {
            let t = checked(engine, actor, target).await?;
            let step = Step {
                identifiers: ids.identifiers(),
                declaration,
                code,
                subject_confirmed,
                give_up,
                ..Step::default()
            };
            let r = engine
                .verify_request(actor, &t.tenant, &t.id, &step)
                .await?;
            (r, t.output)
        }
        RequestCommand::Extend {
            target,
            reason: why,
        } => {
            let t = checked(engine, actor, target).await?;
            let r = engine
                .extend_request(actor, &t.tenant, &t.id, &reason(why))
                .await?;
            (r, t.output)
        }
        RequestCommand::Fulfil { target } => {
            let t = checked(engine, actor, target).await?;
            (
                engine.fulfil_request(actor, &t.tenant, &t.id).await?,
                t.output,
            )
        }
        RequestCommand::Code { target } => {
            let t = checked(engine, actor, target).await?;
            (engine.send_code(actor, &t.tenant, &t.id).await?, t.output)
        }
        RequestCommand::Pause {
            target,
            reason: why,
        } => {
            let t = checked(engine, actor, target).await?;
            let r = engine
                .pause_request(actor, &t.tenant, &t.id, &reason(why))
                .await?;
            (r, t.output)
        }
        RequestCommand::Resume { target } => {
            let t = checked(engine, actor, target).await?;
            (
                engine.resume_request(actor, &t.tenant, &t.id).await?,
                t.output,
            )
        }
        RequestCommand::Withdraw { target } => {
            let t = checked(engine, actor, target).await?;
            (
                engine.withdraw_request(actor, &t.tenant, &t.id).await?,
                t.output,
            )
        }
        RequestCommand::Deny { target, reasons } => {
            let t = checked(engine, actor, target).await?;
            let step = Step {
                reasons: reasons
                    .into_iter()
                    .map(|code| DenialReason { code, detail: None })
                    .collect(),
                ..Step::default()
            };
            let r = engine.deny_request(actor, &t.tenant, &t.id, &step).await?;
            (r, t.output)
        }
        RequestCommand::ReviewDocument {
            target,
            document,
            decision,
            reason,
        } => {
            let t = checked(engine, actor, target).await?;
            let review = DocumentReview { decision, reason };
            let r = engine
                .review_document(actor, &t.tenant, &t.id, &document, &review)
                .await?;
            (r, t.output)
        }
        RequestCommand::Appeal {
            target,
            statement,
            channel,
        } => {
            let t = checked(engine, actor, target).await?;
            let appeal = NewAppeal {
                statement: statement.map(Pii::new),
                channel: Some(channel),
            };
            let r = engine
                .appeal_request(actor, &t.tenant, &t.id, &appeal)
                .await?;
            (r, t.output)
        }
    };
    print_request(&r, output)?;
    Ok(ExitCode::SUCCESS)
}

async fn checked(engine: &Engine, actor: &Actor, target: Target) -> Result<Target> {
    known_tenant(engine, actor, &target.tenant).await?;
    Ok(target)
}
