//! Webhooks at the command line and in `vow serve`: configuration, the `recipient`,
//! `deliveries` and `outbox` commands, the background delivery worker and the demo step.

use crate::cli::{BadInput, Output, open_engine, print_json, whoami};
use crate::config::{Config, StoreArgs};
use anyhow::{Context, Result};
use clap::Subcommand;
use comfy_table::Table;
use serde::Deserialize;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use vow_core::Pii;
use vow_core::webhook::NetAllow;
use vow_engine::obligations::webhooks::DeliveryReport;
use vow_engine::{Actor, Engine};
use vow_server::webhooks::{Deliverer, deliver_pass};

/// `[webhooks]` in the configuration file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksFile {
    pub allow_loopback: Option<bool>,
    pub allow_private: Option<bool>,
    pub poll_interval_secs: Option<u64>,
    pub timeout_secs: Option<u64>,
}

/// The webhook flags (global, like the store flags).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct WebhookArgs {
    /// Let webhooks reach loopback addresses (127.0.0.0/8, ::1), and plain http there.
    #[arg(long, global = true)]
    pub webhooks_allow_loopback: bool,
    /// Let webhooks reach private addresses (RFC 1918, 100.64.0.0/10, fc00::/7).
    #[arg(long, global = true)]
    pub webhooks_allow_private: bool,
    /// Seconds between delivery passes of `vow serve`. Default 5.
    #[arg(long, global = true)]
    pub webhooks_poll_interval: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub allow: NetAllow,
    pub poll: Duration,
    pub timeout: Duration,
}

fn env_bool(name: &str) -> Result<Option<bool>> {
    match std::env::var(name).ok().filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => match v.as_str() {
            "1" | "true" | "yes" => Ok(Some(true)),
            "0" | "false" | "no" => Ok(Some(false)),
            _ => anyhow::bail!("{name} must be true or false"),
        },
    }
}

fn env_secs(name: &str) -> Result<Option<u64>> {
    match std::env::var(name).ok().filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => anyhow::bail!("{name} must be a whole number of seconds above 0"),
        },
    }
}

impl WebhookConfig {
    /// The file, then `VOW_WEBHOOKS_…`, then flags.
    pub fn load(file: Option<&WebhooksFile>, args: &WebhookArgs) -> Result<WebhookConfig> {
        let file = file.cloned().unwrap_or_default();
        let flag = |set: bool| set.then_some(true);
        let loopback = flag(args.webhooks_allow_loopback)
            .or(env_bool("VOW_WEBHOOKS_ALLOW_LOOPBACK")?)
            .or(file.allow_loopback)
            .unwrap_or(false);
        let private = flag(args.webhooks_allow_private)
            .or(env_bool("VOW_WEBHOOKS_ALLOW_PRIVATE")?)
            .or(file.allow_private)
            .unwrap_or(false);
        let poll = args
            .webhooks_poll_interval
            .filter(|n| *n > 0)
            .or(env_secs("VOW_WEBHOOKS_POLL_INTERVAL")?)
            .or(file.poll_interval_secs)
            .unwrap_or(5);
        let timeout = env_secs("VOW_WEBHOOKS_TIMEOUT")?
            .or(file.timeout_secs)
            .unwrap_or(10);
        Ok(WebhookConfig {
            allow: NetAllow { loopback, private },
            poll: Duration::from_secs(poll.max(1)),
            timeout: Duration::from_secs(timeout.max(1)),
        })
    }
}

#[derive(Subcommand)]
pub enum RecipientCommand {
    /// Register or replace a recipient's webhook endpoint; prints a generated secret once.
    Endpoint {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        recipient: String,
        #[arg(long)]
        url: String,
        /// A file holding a `whsec_…` secret to use instead of a generated one.
        #[arg(long)]
        secret_file: Option<std::path::PathBuf>,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The policy's recipients with their endpoints and delivery counts.
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Subcommand)]
pub enum DeliveriesCommand {
    /// Events and their delivery state, newest first.
    List {
        #[arg(long)]
        tenant: String,
        /// pending, delivered or dead.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// One event with the history of its attempts.
    Show {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Make a dead or pending event due now.
    Retry {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// One delivery pass: send every due event now (for cron, scripts and tests).
    Deliver {
        /// Only this tenant's events. Default: every tenant.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

pub async fn recipient_command(
    engine: &Arc<Engine>,
    command: RecipientCommand,
) -> Result<ExitCode> {
    let actor = Actor::local(&whoami());
    match command {
        RecipientCommand::Endpoint {
            tenant,
            recipient,
            url,
            secret_file,
            output,
        } => {
            let secret = match &secret_file {
                Some(p) => Some(Pii::new(
                    std::fs::read_to_string(p)
                        .map_err(|e| BadInput(format!("cannot read {}: {e}", p.display())))?
                        .trim()
                        .to_string(),
                )),
                None => None,
            };
            let e = engine
                .put_endpoint(&actor, &tenant, &recipient, &url, secret.as_ref())
                .await?;
            if output == Output::Json {
                print_json(&serde_json::json!({
                    "recipient": e.recipient, "url": e.url, "woken": e.woken,
                    "secret": e.secret.as_ref().map(|s| s.expose()),
                }))?;
            } else {
                println!("endpoint of {} set to {}", e.recipient, e.url);
                if let Some(s) = &e.secret {
                    // Printed once, to the terminal only; it is stored sealed.
                    println!(
                        "signing secret (shown once, give it to the recipient): {}",
                        s.expose()
                    );
                }
                if e.woken > 0 {
                    println!("{} waiting event(s) are now due", e.woken);
                }
            }
        }
        RecipientCommand::List { tenant, output } => {
            let list = engine.recipients(&actor, &tenant).await?;
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
                println!("{t}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn deliveries_command(
    engine: &Arc<Engine>,
    command: DeliveriesCommand,
) -> Result<ExitCode> {
    let actor = Actor::local(&whoami());
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
                d.next_attempt_at.unwrap_or_else(|| "-".into()),
                d.last_error.unwrap_or_default(),
            ]);
        }
        println!("{t}");
    };
    match command {
        DeliveriesCommand::List {
            tenant,
            state,
            output,
        } => {
            let list = engine.deliveries(&actor, &tenant, state.as_deref()).await?;
            if output == Output::Json {
                print_json(&list)?;
            } else {
                table(list);
            }
        }
        DeliveriesCommand::Show { tenant, id, output } => {
            let d = engine.delivery(&actor, &tenant, &id).await?;
            if output == Output::Json {
                print_json(&d)?;
            } else {
                table(vec![d.delivery]);
                let mut t = Table::new();
                t.set_header(["attempt", "at", "status", "error", "ms"]);
                for a in d.history {
                    t.add_row([
                        a.attempt.to_string(),
                        a.at,
                        a.status.map(|s| s.to_string()).unwrap_or_default(),
                        a.error.unwrap_or_default(),
                        a.duration_ms.to_string(),
                    ]);
                }
                println!("{t}");
            }
        }
        DeliveriesCommand::Retry { tenant, id, output } => {
            let d = engine.retry_delivery(&actor, &tenant, &id).await?;
            if output == Output::Json {
                print_json(&d)?;
            } else {
                println!("event {} is due now", d.id);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `vow outbox …`: opens its own engine, since sending needs the webhook configuration.
pub async fn outbox_command(args: &StoreArgs, command: OutboxCommand) -> Result<ExitCode> {
    let cfg = Config::load(args, None).map_err(|e| BadInput(format!("{e:#}")))?;
    let (engine, _) = open_engine(&cfg).await?;
    let result = async {
        let OutboxCommand::Deliver { tenant, output } = command;
        let deliverer =
            Deliverer::for_engine(&engine, cfg.webhooks.timeout).map_err(anyhow::Error::msg)?;
        let actor = Actor::local(&whoami());
        let report = deliver_pass(&engine, &deliverer, &actor, tenant.as_deref()).await?;
        if output == Output::Json {
            print_json(&report)?;
        } else {
            print_report(&report);
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    engine.shutdown().await;
    result
}

fn print_report(r: &DeliveryReport) {
    println!(
        "{} event(s) due: {} delivered, {} to be retried, {} dead, {} waiting for an endpoint",
        r.claimed, r.delivered, r.failed, r.dead, r.no_endpoint
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
    tenant: &str,
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
    println!(
        "   {} event(s) due: {} delivered signed to the receiver on {addr}, {} dead (the person was erased first)",
        report.claimed, report.delivered, report.dead
    );
    for (k, (n, verified)) in kinds {
        println!("     received {k}: {n} ({verified} with a valid signature)");
    }
    Ok(())
}

async fn demo_steps(
    engine: &Arc<Engine>,
    admin: &Actor,
    tenant: &str,
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
    println!(
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
    println!(
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
        println!("   two names corrected; the second person then erased, before any delivery");
    }
    let deliverer =
        Deliverer::for_engine(engine, Duration::from_secs(5)).map_err(anyhow::Error::msg)?;
    Ok(deliver_pass(engine, &deliverer, admin, Some(tenant)).await?)
}

/// Erase a person through a delete request, as the requests workflow does it.
async fn erase(
    engine: &Arc<Engine>,
    admin: &Actor,
    tenant: &str,
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
        purposes: Vec::new(),
        corrections: Vec::new(),
    };
    let mut r = engine.submit_request(admin, tenant, &ask).await?;
    if r.state == "verifying" {
        let step = vow_engine::Step {
            declaration: true,
            authenticated: true,
            ..Default::default()
        };
        r = engine.verify_request(admin, tenant, &r.id, &step).await?;
    }
    if r.state == "verified" {
        engine.fulfil_request(admin, tenant, &r.id).await?;
    }
    Ok(())
}
