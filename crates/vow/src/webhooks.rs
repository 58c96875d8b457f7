//! Webhooks at the command line and in `vow serve`: the `recipient`, `deliveries` and
//! `outbox` commands, the background delivery worker and the demo step. Their
//! configuration is in `config.rs`.

use crate::common::{BadInput, Output, known_tenant, outln, print_json, when, when_opt};
use crate::config::Config;
use anyhow::{Context, Result};
use clap::Subcommand;
use comfy_table::Table;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use vow_core::TenantId;
use vow_core::webhook::NetAllow;
use vow_core::{DeliveryState, Pii, RequestState};
use vow_engine::obligations::webhooks::DeliveryReport;
use vow_engine::{Actor, Engine};
use vow_server::webhooks::{Deliverer, deliver_pass};

#[derive(Subcommand)]
pub enum RecipientCommand {
    /// Register or replace a recipient's webhook endpoint; prints a generated secret once.
    #[command(
        after_help = "Example:\n  vow recipient endpoint --tenant acme --recipient lab-partner --url https://hooks.lab.example/vow"
    )]
    Endpoint {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// A recipient of the tenant's policy, by id.
        #[arg(long)]
        recipient: String,
        /// Where events are POSTed (https; http only to an allowed loopback address).
        #[arg(long)]
        url: String,
        /// A file holding a `whsec_…` secret to use instead of a generated one.
        #[arg(long, value_name = "FILE")]
        secret_file: Option<std::path::PathBuf>,
        /// `table` prints the endpoint and the secret; `json` the same as an object.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Rotate a recipient endpoint's signing secret; prints a generated secret once. For
    /// the overlap every delivery is signed with the new and the previous secret.
    #[command(
        after_help = "Example:\n  vow recipient rotate-secret --tenant acme --recipient lab-partner --overlap 48h"
    )]
    RotateSecret {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// A recipient with a registered endpoint, by id.
        #[arg(long)]
        recipient: String,
        /// A file holding the new `whsec_…` secret instead of a generated one.
        #[arg(long, value_name = "FILE")]
        secret_file: Option<std::path::PathBuf>,
        /// How long the previous secret keeps signing too (e.g. 90min, 24h, 7d; at most
        /// 7d). 0 stops it at once. Default: 24h.
        #[arg(long, value_parser = overlap)]
        overlap: Option<Duration>,
        /// `table` prints the new secret and the overlap; `json` the same as an object.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The policy's recipients with their endpoints and delivery counts.
    #[command(after_help = "Example:\n  vow recipient list --tenant acme")]
    List {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Subcommand)]
pub enum DeliveriesCommand {
    /// Events and their delivery state, newest first.
    #[command(after_help = "Example:\n  vow deliveries list --tenant acme --state dead")]
    List {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// Only events in this state: pending, delivered or dead.
        #[arg(long, value_parser = delivery_state)]
        state: Option<DeliveryState>,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// One event with the history of its attempts.
    #[command(after_help = "Example:\n  vow deliveries show --tenant acme 0192f3c4-…")]
    Show {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The event's id, as `vow deliveries list` shows it.
        id: String,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Make a dead or pending event due now.
    #[command(after_help = "Example:\n  vow deliveries retry --tenant acme 0192f3c4-…")]
    Retry {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The event's id, as `vow deliveries list` shows it.
        id: String,
        /// `table` prints a line; `json` the event.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// One delivery pass: send every due event now (for cron, scripts and tests).
    #[command(after_help = "Example:\n  vow outbox deliver --tenant acme")]
    Deliver {
        /// Only this tenant's events. Default: every tenant.
        #[arg(long)]
        tenant: Option<TenantId>,
        /// `table` prints a line; `json` the pass's counts.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

pub async fn recipient_command(
    engine: &Arc<Engine>,
    actor: &Actor,
    command: RecipientCommand,
) -> Result<ExitCode> {
    match command {
        RecipientCommand::Endpoint {
            tenant,
            recipient,
            url,
            secret_file,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let secret = read_secret(secret_file.as_deref())?;
            let e = engine
                .put_endpoint(actor, &tenant, &recipient, &url, secret.as_ref())
                .await?;
            if output == Output::Json {
                print_json(&serde_json::json!({
                    "recipient": e.recipient, "url": e.url, "woken": e.woken,
                    "secret": e.secret.as_ref().map(|s| s.expose()),
                }))?;
            } else {
                outln!("endpoint of {} set to {}", e.recipient, e.url);
                if let Some(s) = &e.secret {
                    // Printed once, to the terminal only; it is stored sealed.
                    outln!(
                        "signing secret (shown once, give it to the recipient): {}",
                        s.expose()
                    );
                }
                if e.woken > 0 {
                    outln!("{} waiting event(s) are now due", e.woken);
                }
            }
        }
        RecipientCommand::RotateSecret {
            tenant,
            recipient,
            secret_file,
            overlap,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let secret = read_secret(secret_file.as_deref())?;
            let overlap = overlap.map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            let r = engine
                .rotate_endpoint_secret(actor, &tenant, &recipient, secret.as_ref(), overlap)
                .await?;
            if output == Output::Json {
                print_json(&serde_json::json!({
                    "recipient": r.recipient, "url": r.url,
                    "secret": r.secret.as_ref().map(|s| s.expose()),
                    "previous_valid_until": r.previous_valid_until,
                    "dropped_earlier": r.dropped_earlier,
                }))?;
            } else {
                outln!("signing secret of {} rotated", r.recipient);
                if let Some(s) = &r.secret {
                    // Printed once, to the terminal only; it is stored sealed.
                    outln!(
                        "new signing secret (shown once, give it to the recipient): {}",
                        s.expose()
                    );
                }
                match &r.previous_valid_until {
                    Some(until) => outln!(
                        "deliveries are signed with both secrets until {}",
                        when(until)
                    ),
                    None => outln!("the previous secret no longer signs anything"),
                }
                if r.dropped_earlier {
                    outln!(
                        "the secret before the previous one (an earlier rotation's) stopped now"
                    );
                }
            }
        }
        RecipientCommand::List { tenant, output } => {
            known_tenant(engine, actor, &tenant).await?;
            let list = engine.recipients(actor, &tenant).await?;
            if output == Output::Json {
                print_json(&list)?;
            } else {
                let mut t = Table::new();
                t.set_header([
                    "recipient",
                    "name",
                    "kind",
                    "country",
                    "endpoint",
                    "pending",
                    "delivered",
                    "dead",
                ]);
                for r in list {
                    t.add_row([
                        r.id,
                        r.name,
                        r.kind,
                        r.country,
                        r.endpoint.unwrap_or_else(|| "-".into()),
                        r.deliveries.pending.to_string(),
                        r.deliveries.delivered.to_string(),
                        r.deliveries.dead.to_string(),
                    ]);
                }
                outln!("{t}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn deliveries_command(
    engine: &Arc<Engine>,
    actor: &Actor,
    command: DeliveriesCommand,
) -> Result<ExitCode> {
    let table = |list: Vec<vow_engine::obligations::webhooks::DeliveryView>| {
        let mut t = Table::new();
        t.set_header([
            "id",
            "event",
            "recipient",
            "state",
            "reason",
            "attempts",
            "next attempt",
            "last error",
        ]);
        for d in list {
            t.add_row([
                d.id,
                d.event,
                d.recipient.unwrap_or_default(),
                d.state,
                d.reason.unwrap_or_default(),
                d.attempts.to_string(),
                when_opt(d.next_attempt_at.as_deref()),
                d.last_error.unwrap_or_default(),
            ]);
        }
        outln!("{t}");
    };
    match command {
        DeliveriesCommand::List {
            tenant,
            state,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let list = engine.deliveries(actor, &tenant, state).await?;
            if output == Output::Json {
                print_json(&list)?;
            } else {
                table(list);
            }
        }
        DeliveriesCommand::Show { tenant, id, output } => {
            known_tenant(engine, actor, &tenant).await?;
            let d = engine.delivery(actor, &tenant, &id).await?;
            if output == Output::Json {
                print_json(&d)?;
            } else {
                table(vec![d.delivery]);
                let mut t = Table::new();
                t.set_header(["attempt", "at", "status", "error", "ms"]);
                for a in d.history {
                    t.add_row([
                        a.attempt.to_string(),
                        when(&a.at),
                        a.status.map(|s| s.to_string()).unwrap_or_default(),
                        a.error.unwrap_or_default(),
                        a.duration_ms.to_string(),
                    ]);
                }
                outln!("{t}");
            }
        }
        DeliveriesCommand::Retry { tenant, id, output } => {
            known_tenant(engine, actor, &tenant).await?;
            let d = engine.retry_delivery(actor, &tenant, &id).await?;
            if output == Output::Json {
                print_json(&d)?;
            } else {
                outln!("event {} is due now", d.id);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `vow outbox deliver`: one delivery pass, with the configuration's timeout.
pub async fn outbox_command(
    engine: &Arc<Engine>,
    cfg: &Config,
    actor: &Actor,
    command: OutboxCommand,
) -> Result<ExitCode> {
    let OutboxCommand::Deliver { tenant, output } = command;
    if let Some(t) = &tenant {
        known_tenant(engine, actor, t).await?;
    }
    let deliverer =
        Deliverer::for_engine(engine, cfg.webhooks.timeout).map_err(anyhow::Error::msg)?;
    let report = deliver_pass(engine, &deliverer, actor, tenant.as_ref()).await?;
    if output == Output::Json {
        print_json(&report)?;
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(r: &DeliveryReport) {
    outln!(
        "{} event(s) due: {} delivered, {} to be retried, {} dead, {} waiting for an endpoint{}",
        r.claimed,
        r.delivered,
        r.failed,
        r.dead,
        r.no_endpoint,
        if r.gone > 0 {
            format!(
                "; {} endpoint(s) answered 410 Gone and were removed",
                r.gone
            )
        } else {
            String::new()
        }
    );
}

/// The delivery worker of `vow serve`: a pass every poll interval, over every tenant.
/// Several servers on one database share the work through the outbox claims.
pub fn spawn_worker(engine: Arc<Engine>, cfg: &Config) -> Result<tokio::task::JoinHandle<()>> {
    let deliverer =
        Deliverer::for_engine(&engine, cfg.webhooks.timeout).map_err(anyhow::Error::msg)?;
    let poll = cfg.webhooks.poll;
    Ok(tokio::spawn(async move {
        let actor = Actor::local("webhooks");
        let mut tick = tokio::time::interval(poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match deliver_pass(&engine, &deliverer, &actor, None).await {
                Ok(r) if r.claimed == 0 => {}
                Ok(r) => tracing::info!(
                    claimed = r.claimed,
                    delivered = r.delivered,
                    retrying = r.failed,
                    dead = r.dead,
                    no_endpoint = r.no_endpoint,
                    gone = r.gone,
                    "webhook delivery pass"
                ),
                Err(e) => tracing::warn!(code = e.code(), "webhook delivery pass failed"),
            }
        }
    }))
}

/// The demo's step: a receiver on loopback inside this process (loopback is allowed for
/// the demo only) registered for every recipient of `tenant`; a few people's names go to
/// the payment vendor; one is corrected, another corrected and then erased; a delivery
/// pass sends what is due, signed.
pub async fn demo(
    engine: &Arc<Engine>,
    admin: &Actor,
    tenant: &TenantId,
    emails: &[String],
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // One secret for the demo's endpoints, so the receiver can check every signature.
    let secret = vow_crypto::WebhookSecret::generate()?;
    let secret_text = Pii::new(secret.to_text().to_string());
    let received = Arc::new(std::sync::Mutex::new(Vec::<(String, bool)>::new()));
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (seen, secret) = (seen.clone(), secret.clone());
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string()
                };
                let verified = h("webhook-timestamp").parse::<i64>().is_ok_and(|ts| {
                    secret.sign(&h("webhook-id"), ts, body.as_bytes()) == h("webhook-signature")
                });
                let kind = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["type"].as_str().map(str::to_string))
                    .unwrap_or_default();
                if let Ok(mut s) = seen.lock() {
                    s.push((kind, verified));
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let before = engine.webhook_net();
    engine.set_webhook_net(NetAllow {
        loopback: true,
        ..before
    });
    let result = demo_steps(
        engine,
        admin,
        tenant,
        emails,
        &format!("http://{addr}/hook"),
        &secret_text,
    )
    .await;
    engine.set_webhook_net(before);
    server.abort();
    let report = result?;
    let got = received.lock().map(|v| v.clone()).unwrap_or_default();
    let mut kinds = std::collections::BTreeMap::<String, (usize, usize)>::new();
    for (k, verified) in got {
        let e = kinds.entry(k).or_default();
        e.0 += 1;
        e.1 += usize::from(verified);
    }
    outln!(
        "   {} event(s) due: {} delivered signed to the receiver on {addr}, {} dead (the person was erased first)",
        report.claimed,
        report.delivered,
        report.dead
    );
    for (k, (n, verified)) in kinds {
        outln!("     received {k}: {n} ({verified} with a valid signature)");
    }
    Ok(())
}

async fn demo_steps(
    engine: &Arc<Engine>,
    admin: &Actor,
    tenant: &TenantId,
    emails: &[String],
    url: &str,
    secret: &Pii<String>,
) -> Result<DeliveryReport> {
    use vow_engine::input::{NewField, SubjectPatch};
    use vow_engine::obligations::disclosures::NewDisclosure;
    let (_, _, policy) = engine.current_policy(admin, tenant).await?;
    for r in &policy.recipients {
        engine
            .put_endpoint(admin, tenant, r.id.as_str(), url, Some(secret))
            .await
            .context("registering the demo receiver")?;
    }
    outln!(
        "   endpoints registered for {} recipient(s) of {tenant}",
        policy.recipients.len()
    );
    let mut subjects = Vec::new();
    for e in emails.iter().rev().take(10) {
        if let Some(id) = engine
            .lookup(admin, tenant, vow_engine::LookupKind::Email, e)
            .await?
        {
            subjects.push(id);
        }
    }
    let Some(vendor) = policy
        .recipients
        .iter()
        .find(|r| r.purposes.iter().any(|p| p.as_str() == "incentive_payment"))
    else {
        return Ok(DeliveryReport::default());
    };
    let d = engine
        .disclose(
            admin,
            tenant,
            &NewDisclosure {
                recipient: vendor.id.as_str().to_string(),
                purpose: "incentive_payment".into(),
                categories: vec!["user.name".into()],
                subjects,
                delivery: None,
            },
        )
        .await?;
    let sent: Vec<String> = d
        .records
        .iter()
        .filter_map(|r| r["subject"].as_str().map(str::to_string))
        .collect();
    outln!(
        "   {} people's names disclosed to {} for incentive payments",
        sent.len(),
        vendor.id.as_str()
    );
    let correct = |subject: String| async move {
        let patch = SubjectPatch {
            fields: vec![NewField {
                category: "user.name".into(),
                value: Pii::new(serde_json::json!("Corrected Name")),
                purposes: vec![],
                source: Some("phone-call".into()),
                store: None,
                collected_at: None,
                corrects: None,
            }],
            residence: None,
        };
        engine.update_subject(admin, tenant, &subject, &patch).await
    };
    if let [a, b, ..] = sent.as_slice() {
        correct(a.clone()).await?;
        correct(b.clone()).await?;
        erase(engine, admin, tenant, emails, b).await?;
        outln!("   two names corrected; the second person then erased, before any delivery");
    }
    let deliverer =
        Deliverer::for_engine(engine, Duration::from_secs(5)).map_err(anyhow::Error::msg)?;
    Ok(deliver_pass(engine, &deliverer, admin, Some(tenant)).await?)
}

/// Erase a person through a delete request, as the requests workflow does it.
async fn erase(
    engine: &Arc<Engine>,
    admin: &Actor,
    tenant: &TenantId,
    emails: &[String],
    subject: &str,
) -> Result<()> {
    use vow_engine::requests::{NewRequest, Requester};
    let mut email = None;
    for e in emails {
        if engine
            .lookup(admin, tenant, vow_engine::LookupKind::Email, e)
            .await?
            .as_deref()
            == Some(subject)
        {
            email = Some(e.clone());
            break;
        }
    }
    let Some(email) = email else {
        return Ok(());
    };
    let ask = NewRequest {
        kind: "delete".into(),
        channel: "web".into(),
        jurisdiction: Some("CA".into()),
        identifiers: vow_engine::input::Identifiers {
            email: Some(Pii::new(email)),
            ..Default::default()
        },
        birth_date: None,
        requester: Some(Requester {
            kind: Some("subject".into()),
            name: None,
            evidence: Some(Pii::new(serde_json::json!({"declaration": true}))),
            ..Default::default()
        }),
        contact_email: None,
        received_at: None,
        backdated: false,
        purposes: Vec::new(),
        corrections: Vec::new(),
    };
    let mut r = engine.submit_request(admin, tenant, &ask).await?;
    if RequestState::parse(&r.state) == Some(RequestState::Verifying) {
        let step = vow_engine::Step {
            declaration: true,
            authenticated: true,
            ..Default::default()
        };
        r = engine.verify_request(admin, tenant, &r.id, &step).await?;
    }
    if RequestState::parse(&r.state) == Some(RequestState::Verified) {
        engine.fulfil_request(admin, tenant, &r.id).await?;
    }
    Ok(())
}

/// A `--secret-file`'s secret, trimmed.
fn read_secret(file: Option<&std::path::Path>) -> Result<Option<Pii<String>>> {
    let Some(p) = file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(p)
        .map_err(|e| BadInput(format!("cannot read {}: {e}", p.display())))?;
    Ok(Some(Pii::new(text.trim().to_string())))
}

/// `--overlap`: an interval of at most a week, or 0 for none.
fn overlap(text: &str) -> std::result::Result<Duration, String> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    let d = crate::config::parse_interval(text)?;
    let max = vow_engine::obligations::webhooks::MAX_OVERLAP_SECS;
    if d.as_secs() > max.unsigned_abs() {
        return Err("the overlap is at most 7d".to_string());
    }
    Ok(d)
}

/// `--state`: one of the delivery states, read by their one parser.
fn delivery_state(text: &str) -> std::result::Result<DeliveryState, &'static str> {
    DeliveryState::parse(text).ok_or("expected pending, delivered or dead")
}
