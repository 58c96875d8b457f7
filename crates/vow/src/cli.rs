//! The command tree of API.md. Exit codes: 0 success, 1 the operation failed,
//! 2 bad usage or bad input.

use crate::config::{Config, StoreArgs};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use comfy_table::Table;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use vow_core::SystemClock;
use vow_engine::{Actor, Engine, EngineError, KeySource};

#[derive(Parser)]
#[command(
    name = "vow",
    version,
    about = "Vow, a privacy engine: keeps a privacy policy's promises mechanically"
)]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Output {
    Table,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP server (embedded SQLite under ./vow-data by default).
    Serve {
        /// Address to listen on. Default 127.0.0.1:8080
        #[arg(long)]
        listen: Option<String>,
        /// How often retention runs (e.g. 24h, 30m, 1d). Default 24h.
        #[arg(long)]
        retention_interval: Option<String>,
    },
    /// The whole engine end to end on the example profiles, narrated.
    Demo {
        /// Where the examples are. Default ./examples
        #[arg(long, default_value = "examples")]
        examples: PathBuf,
    },
    /// Check or render a policy file.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Bulk-import subjects from JSONL or CSV.
    Import {
        #[arg(long)]
        tenant: String,
        file: PathBuf,
        /// Commit the good rows and report the bad ones (default: all or nothing).
        #[arg(long)]
        skip_bad: bool,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The audit chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Data-subject requests: submit, list (deadlines first), show, verify, extend, fulfil, deny.
    Request {
        #[command(subcommand)]
        command: RequestCommand,
    },
    /// Disclosures to registered recipients: send a batch (as a JSONL file), list the log.
    Disclosure {
        #[command(subcommand)]
        command: DisclosureCommand,
    },
    /// Reports from Vow's own records.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Key management.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Recipients' webhook endpoints.
    Recipient {
        #[command(subcommand)]
        command: crate::webhooks::RecipientCommand,
    },
    /// Webhook deliveries: list, show (with the attempts), retry.
    Deliveries {
        #[command(subcommand)]
        command: crate::webhooks::DeliveriesCommand,
    },
    /// The outbox: deliver due webhook events now.
    Outbox {
        #[command(subcommand)]
        command: crate::webhooks::OutboxCommand,
    },
    /// Breaches: assess an incident, list the register, show one, record a notification.
    Breach {
        #[command(subcommand)]
        command: crate::breach::BreachCommand,
    },
    /// Retention: destroy what the policy's rules say is due.
    Retention {
        #[command(subcommand)]
        command: crate::retention::RetentionCommand,
    },
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy; errors name file, line, column and field.
    Check {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Render the human-readable notice with the California disclosure tables.
    Render {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "md")]
        format: RenderFormat,
    },
    /// What publishing NEW after OLD would change (S5), and which purposes would need
    /// fresh consent. Reads the two files only.
    Diff {
        old: PathBuf,
        new: PathBuf,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RenderFormat {
    Md,
    Html,
}

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant (and publish its policy if given).
    Create {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["controller", "processor"])]
        role: String,
        /// For a processor: the controlling client's name.
        #[arg(long)]
        controller_name: Option<String>,
        /// For a processor: the controlling client's privacy contact.
        #[arg(long)]
        controller_contact: Option<String>,
        #[arg(long)]
        policy: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// List tenants.
    List {
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Publish a new policy version for a tenant.
    Publish {
        #[arg(long)]
        tenant: String,
        file: PathBuf,
    },
    /// Every policy version of a tenant: effective dates and what each changed (S5).
    Versions {
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create an API key (shown once). Without --tenant: a global admin key.
    Create {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, value_parser = ["admin", "operator", "ingest", "app", "auditor"])]
        role: String,
        /// For app keys: comma-separated purposes.
        #[arg(long, value_delimiter = ',')]
        purposes: Vec<String>,
        #[arg(long)]
        label: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// List API keys (never the keys themselves).
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Subcommand)]
pub enum RequestCommand {
    /// Enter a request (e.g. one that arrived by phone or mail).
    Submit {
        #[arg(long)]
        tenant: String,
        /// access, know, delete, correct, opt_out, limit_sensitive, portability, withdraw_consent
        #[arg(long = "type")]
        kind: String,
        /// web, email, phone, mail, api
        #[arg(long)]
        channel: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        external_id: Option<String>,
        #[arg(long)]
        birth_date: Option<String>,
        /// Declared residence, e.g. US-CA.
        #[arg(long)]
        jurisdiction: Option<String>,
        /// When it arrived (RFC 3339), if before now.
        #[arg(long)]
        received_at: Option<String>,
        /// subject, agent or parent.
        #[arg(long, default_value = "subject")]
        requester: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Open requests, deadlines first; overdue and due-within-3-days flagged.
    List {
        #[arg(long)]
        tenant: String,
        /// Include closed requests.
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// One request with its events and notices.
    Show {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Match more identifiers, record a signed declaration, or give up (unverifiable).
    Verify {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        external_id: Option<String>,
        #[arg(long)]
        declaration: bool,
        /// The one-time code the person received.
        #[arg(long)]
        code: Option<String>,
        /// The person confirmed directly that the agent acts for them.
        #[arg(long)]
        subject_confirmed: bool,
        #[arg(long)]
        give_up: bool,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Extend the deadline (before the first one), with a reason.
    Extend {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Carry out a verified request.
    Fulfil {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Mail a one-time code to the e-mail address on file.
    Code {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Stop the clock where every applicable law allows it (e.g. UK GDPR while waiting
    /// for information needed to clarify the request).
    Pause {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Start a paused clock again; the deadlines move by the time it stood.
    Resume {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The person withdrew the request.
    Withdraw {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Deny as unverifiable every request whose deadline passed unverified.
    Sweep {
        #[arg(long)]
        tenant: String,
    },
    /// Deny with reason codes (unverifiable, no_data, exempt, manifestly_unfounded, excessive, agent_not_authorised, duplicate, other).
    Deny {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long = "reason", required = true)]
        reasons: Vec<String>,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Subcommand)]
pub enum ReportCommand {
    /// California's annual request metrics: per type, received, complied with in whole
    /// or in part, denied; median and mean days to respond.
    Metrics {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        year: i16,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The annual self-assessment (S13) from Vow's own records: policy versions,
    /// requests on time, denials, consents, disclosures, key rotations, the audit chain.
    SelfAssessment {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        year: i16,
        #[arg(long, value_enum, default_value = "md")]
        format: ReportFormat,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Sign the report as it is now, in this role (e.g. "Privacy Officer"): the role
        /// and the report's hash go into the audit chain.
        #[arg(long)]
        sign_off: Option<String>,
    },
    /// The data map: categories × stores × purposes × recipients, from the policy and
    /// from what is stored.
    DataMap {
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "md")]
        format: crate::retention::MapFormat,
    },
    /// De-identified counts grouped by attributes (R10, S9): consent.<purpose>,
    /// category.<category>, source, store, age_band, created_year. Small groups suppressed.
    Aggregate {
        #[arg(long)]
        tenant: String,
        /// Comma-separated attributes.
        #[arg(long, value_delimiter = ',', required = true)]
        by: Vec<String>,
        /// Smallest group shown (default 10, at least 5).
        #[arg(long)]
        min_group: Option<u32>,
        /// Count only people with this value, e.g. consent.research=granted (repeatable).
        #[arg(long)]
        filter: Vec<String>,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Subcommand)]
pub enum DisclosureCommand {
    /// Disclose categories of a batch of people to a recipient of the policy for a
    /// purpose. Each person is judged by the decision function; refused people are
    /// counted by reason and not written. The allowed records go to a new JSONL file
    /// (mode 0600) to hand to the recipient; the disclosure is recorded.
    Send {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        recipient: String,
        #[arg(long)]
        purpose: String,
        /// Comma-separated categories, e.g. user.name,user.contact.email
        #[arg(long, value_delimiter = ',', required = true)]
        categories: Vec<String>,
        /// A file of subject ids: one per line, or JSONL objects with "id".
        #[arg(long)]
        subjects: PathBuf,
        /// The JSONL file to create (never overwritten).
        #[arg(long, required_unless_present = "webhook", conflicts_with = "webhook")]
        out: Option<PathBuf>,
        /// Send each person's record to the recipient's webhook endpoint instead, as a
        /// signed `subject.disclosed` event.
        #[arg(long)]
        webhook: bool,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The disclosure log: recipient, purpose, categories, people, when, by whom.
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Md,
    Html,
    Json,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain; exit 1 naming the first bad entry.
    Verify {
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// New key-encryption key per tenant; re-wraps every subject key.
    Rotate {
        /// Only this tenant (default: all).
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

/// Errors that mean "bad input" exit 2; everything else 1.
#[derive(Debug)]
pub struct BadInput(pub String);
impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for BadInput {}

pub fn exit_code_for(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<BadInput>().is_some() {
        return 2;
    }
    match e.downcast_ref::<EngineError>() {
        Some(
            EngineError::Invalid(_)
            | EngineError::Identifying(_)
            | EngineError::Policy(_)
            | EngineError::Conflict(_)
            | EngineError::NotFound(_)
            | EngineError::NoPolicy(_)
            | EngineError::Refused(_),
        ) => 2,
        _ => 1,
    }
}

pub async fn open_engine(cfg: &Config) -> Result<(Arc<Engine>, bool)> {
    std::fs::create_dir_all(&cfg.data)
        .with_context(|| format!("creating the data directory {}", cfg.data.display()))?;
    // Before the database exists: the directory guards every file made in it.
    restrict(&cfg.data, 0o700);
    let key = match &cfg.passphrase {
        Some(p) => KeySource::Passphrase(p.clone()),
        None => KeySource::File(cfg.key_file.clone()),
    };
    let rules = match &cfg.rules_dir {
        Some(dir) => vow_policy::rules::load_dir(dir).map_err(|d| {
            for x in &d {
                eprintln!("{x}");
            }
            BadInput(format!("the rule packs in {} have errors", dir.display()))
        })?,
        None => vow_policy::rules::builtin(),
    };
    let opened =
        Engine::open_with_rules(&cfg.database_url, key, Arc::new(SystemClock), rules).await?;
    let transport = match &cfg.mail {
        crate::config::Mail::Files(dir) => {
            vow_engine::mail::MailTransport::File { dir: dir.clone() }
        }
        crate::config::Mail::Smtp {
            host,
            port,
            username,
            password,
            starttls,
        } => vow_engine::mail::MailTransport::Smtp {
            host: host.clone(),
            port: *port,
            username: username.clone(),
            password: password.clone(),
            starttls: *starttls,
        },
    };
    let mailer = vow_engine::mail::Mailer::new(transport, &cfg.mail_from)
        .map_err(|e| BadInput(format!("mail configuration: {e}")))?;
    opened.0.set_mailer(mailer);
    opened.0.set_public_url(&cfg.public_url);
    opened.0.set_webhook_net(cfg.webhooks.allow);
    // SQLite creates its -wal and -shm files with the database file's mode.
    if let Some(path) = cfg.database_url.strip_prefix("sqlite://") {
        restrict(
            std::path::Path::new(path.split('?').next().unwrap_or(path)),
            0o600,
        );
    }
    Ok(opened)
}

/// Owner-only permissions on what holds ciphertext and keys (best effort: the
/// operator may have chosen a shared directory on purpose).
fn restrict(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
}

pub(crate) fn print_json(v: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn read_file(path: &PathBuf) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("cannot read {}: {e}", path.display())).into())
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve {
            listen,
            retention_interval,
        } => {
            let mut cfg = Config::load(&cli.store, listen.as_deref())
                .map_err(|e| BadInput(format!("{e:#}")))?;
            if let Some(i) = retention_interval {
                cfg.retention_interval = crate::retention::parse_interval(&i)
                    .map_err(|e| BadInput(format!("--retention-interval {e}")))?;
            }
            crate::serve::serve(cfg).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { examples } => {
            let mut args = cli.store.clone();
            let from_env = [
                "VOW_DATA",
                "VOW_DATABASE_URL",
                "VOW_DATABASE_URL_FILE",
                "VOW_CONFIG",
            ]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
            if args.data.is_none()
                && args.database_url.is_none()
                && args.config.is_none()
                && !from_env
            {
                args.data = Some(PathBuf::from("vow-demo"));
            }
            let cfg = Config::load(&args, None).map_err(|e| BadInput(format!("{e:#}")))?;
            crate::demo::run(cfg, &examples).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Policy { command } => policy(command),
        Command::Outbox { command } => crate::webhooks::outbox_command(&cli.store, command).await,
        command => {
            let cfg = Config::load(&cli.store, None).map_err(|e| BadInput(format!("{e:#}")))?;
            let (engine, _) = open_engine(&cfg).await?;
            let result = store_command(&engine, command).await;
            engine.shutdown().await;
            result
        }
    }
}

fn policy(command: PolicyCommand) -> Result<ExitCode> {
    match command {
        PolicyCommand::Check { file, output } => {
            let text = read_file(&file)?;
            let name = file.display().to_string();
            let (ok, diagnostics) = match vow_policy::parse(&text, &name) {
                Ok(c) => (true, c.warnings),
                Err(d) => (false, d),
            };
            if output == Output::Json {
                print_json(&serde_json::json!({"ok": ok, "diagnostics": diagnostics}))?;
            } else {
                for d in &diagnostics {
                    eprintln!("{d}");
                }
                let errors = diagnostics
                    .iter()
                    .filter(|d| d.severity == vow_policy::Severity::Error)
                    .count();
                if ok {
                    println!("{name}: ok ({} warning(s))", diagnostics.len());
                } else {
                    eprintln!(
                        "{name}: {errors} error(s), {} warning(s)",
                        diagnostics.len() - errors
                    );
                }
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        PolicyCommand::Render { file, format } => {
            let text = read_file(&file)?;
            let checked = match vow_policy::parse(&text, &file.display().to_string()) {
                Ok(c) => c,
                Err(d) => {
                    for x in &d {
                        eprintln!("{x}");
                    }
                    return Ok(ExitCode::from(2));
                }
            };
            match format {
                RenderFormat::Md => {
                    print!("{}", vow_policy::render_markdown(&checked.policy, None))
                }
                RenderFormat::Html => print!("{}", vow_policy::render_html(&checked.policy, None)),
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Diff { old, new, output } => crate::changes::policy_diff(&old, &new, output),
    }
}

pub fn report_policy_error(e: &EngineError) {
    if let EngineError::Policy(d) = e {
        for x in d {
            eprintln!("{x}");
        }
    }
    if let EngineError::Invalid(errors) = e {
        for x in errors {
            eprintln!("  {}: {}", x.pointer, x.detail);
        }
    }
}

async fn store_command(engine: &Arc<Engine>, command: Command) -> Result<ExitCode> {
    let actor = Actor::local(&whoami());
    match command {
        Command::Tenant { command } => match command {
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
                    return Err(
                        BadInput("the policy has errors; nothing was created".into()).into(),
                    );
                }
                let controller = match (&controller_name, &controller_contact) {
                    (Some(n), Some(c)) => Some((n.as_str(), c.as_str())),
                    (None, None) => None,
                    _ => {
                        return Err(BadInput(
                            "give both --controller-name and --controller-contact".into(),
                        )
                        .into());
                    }
                };
                let t = engine
                    .create_tenant(&actor, &id, &name, &role, controller)
                    .await
                    .inspect_err(report_policy_error)?;
                let published = match source {
                    Some((text, file)) => {
                        Some(engine.publish_policy(&actor, &id, &text, &file).await?)
                    }
                    None => None,
                };
                if output == Output::Json {
                    print_json(&serde_json::json!({"tenant": t, "policy": published}))?;
                } else {
                    println!("created tenant {} ({}, {})", t.id, t.name, t.role);
                    if let Some(p) = published {
                        println!(
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
                Ok(ExitCode::SUCCESS)
            }
            TenantCommand::List { output } => {
                let list = engine.tenants(&actor).await?;
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
                            x.created_at,
                        ]);
                    }
                    println!("{t}");
                }
                Ok(ExitCode::SUCCESS)
            }
            TenantCommand::Publish { tenant, file } => {
                let text = read_file(&file)?;
                let p = engine
                    .publish_policy(&actor, &tenant, &text, &file.display().to_string())
                    .await
                    .inspect_err(report_policy_error)?;
                println!(
                    "published policy version {} for {} (effective {})",
                    p.version, tenant, p.effective_date
                );
                for w in &p.warnings {
                    eprintln!("{w}");
                }
                crate::changes::print_changes(&p.changes, "  ");
                Ok(ExitCode::SUCCESS)
            }
            TenantCommand::Versions { tenant, output } => {
                crate::changes::tenant_versions(engine, &actor, &tenant, output).await
            }
        },
        Command::Key { command } => match command {
            KeyCommand::Create {
                tenant,
                role,
                purposes,
                label,
                output,
            } => {
                let purposes = if purposes.is_empty() {
                    None
                } else {
                    Some(purposes)
                };
                let k = engine
                    .create_api_key(&actor, tenant.as_deref(), &role, purposes, label.as_deref())
                    .await
                    .inspect_err(report_policy_error)?;
                if output == Output::Json {
                    print_json(&k)?;
                } else {
                    println!("{}", k.key);
                    eprintln!(
                        "(key id {}, role {}; shown once — store it now)",
                        k.id, k.role
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            KeyCommand::List { tenant, output } => {
                let list = engine.api_keys(&actor, tenant.as_deref()).await?;
                if output == Output::Json {
                    print_json(&list)?;
                } else {
                    let mut t = Table::new();
                    t.set_header(["id", "tenant", "role", "purposes", "label", "created"]);
                    for k in list {
                        t.add_row([
                            k.id,
                            k.tenant.unwrap_or_else(|| "(global)".into()),
                            k.role,
                            k.purposes.map(|p| p.join(",")).unwrap_or_default(),
                            k.label.unwrap_or_default(),
                            k.created_at,
                        ]);
                    }
                    println!("{t}");
                }
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Import {
            tenant,
            file,
            skip_bad,
            output,
        } => {
            let text = read_file(&file)?;
            let is_csv = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            let rows: Vec<vow_engine::vault::import::Row> = if is_csv {
                vow_engine::vault::import::parse_csv(&text).map_err(BadInput)?
            } else {
                vow_engine::vault::import::parse_jsonl(&text).collect()
            };
            let bar = if output == Output::Table {
                ProgressBar::new(rows.len() as u64)
            } else {
                ProgressBar::hidden()
            };
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} importing [{bar:40}] {pos}/{len} rows ({per_sec}, {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let report = engine
                .import(
                    &actor,
                    &tenant,
                    rows,
                    vow_engine::ImportOptions { skip_bad },
                    |n| bar.set_position(n as u64),
                )
                .await?;
            bar.finish_and_clear();
            if output == Output::Json {
                print_json(&report)?;
            } else {
                for b in &report.bad {
                    eprintln!("{}:{}: {}", file.display(), b.line, b.error);
                }
                if report.committed {
                    println!(
                        "imported {} subject(s) into {tenant}; {} bad row(s) skipped",
                        report.imported,
                        report.bad.len()
                    );
                } else {
                    eprintln!(
                        "{} bad row(s): nothing was imported (use --skip-bad to import the good rows)",
                        report.bad.len()
                    );
                }
            }
            Ok(if report.committed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Audit {
            command: AuditCommand::Verify { output },
        } => {
            let bar = if output == Output::Table {
                ProgressBar::new_spinner()
            } else {
                ProgressBar::hidden()
            };
            let r = engine
                .verify_audit(&actor, |n| bar.set_message(format!("{n} entries")))
                .await?;
            bar.finish_and_clear();
            if output == Output::Json {
                print_json(&r)?;
            } else if let Some(b) = &r.first_bad {
                eprintln!("audit chain BROKEN at entry {}: {}", b.seq, b.problem);
            } else {
                println!(
                    "audit chain intact: {} entries verified; head {}",
                    r.entries,
                    r.head.as_deref().unwrap_or("-")
                );
            }
            Ok(if r.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Keys {
            command: KeysCommand::Rotate { tenant, output },
        } => {
            let tenants = match tenant {
                Some(t) => vec![t],
                None => engine
                    .tenants(&actor)
                    .await?
                    .into_iter()
                    .map(|t| t.id)
                    .collect(),
            };
            let mut reports = Vec::new();
            for t in tenants {
                let bar = if output == Output::Table {
                    ProgressBar::new_spinner()
                } else {
                    ProgressBar::hidden()
                };
                let r = engine
                    .rotate_keys(&actor, &t, |n| {
                        bar.set_message(format!("{t}: {n} subject keys re-wrapped"))
                    })
                    .await?;
                bar.finish_and_clear();
                if output == Output::Table {
                    println!(
                        "{}: key-encryption key v{} -> v{}, {} subject keys re-wrapped",
                        r.tenant, r.from_version, r.to_version, r.rewrapped
                    );
                }
                reports.push(r);
            }
            if output == Output::Json {
                print_json(&reports)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Request { command } => request_command(engine, &actor, command).await,
        Command::Disclosure { command } => match command {
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
                crate::disclosure::send(
                    engine,
                    &actor,
                    &tenant,
                    &recipient,
                    &purpose,
                    &categories,
                    &subjects,
                    out.as_deref(),
                    output,
                )
                .await
            }
            DisclosureCommand::List { tenant, output } => {
                crate::disclosure::list(engine, &actor, &tenant, output).await
            }
        },
        Command::Report {
            command:
                ReportCommand::Aggregate {
                    tenant,
                    by,
                    min_group,
                    filter,
                    output,
                },
        } => {
            crate::changes::report_aggregate(engine, &actor, &tenant, by, min_group, filter, output)
                .await
        }
        Command::Breach { command } => crate::breach::run(engine, &actor, command).await,
        Command::Report {
            command:
                ReportCommand::Metrics {
                    tenant,
                    year,
                    output,
                },
        } => {
            let m = engine.request_metrics(&actor, &tenant, year).await?;
            if output == Output::Json {
                print_json(&m)?;
            } else {
                println!(
                    "{} requests received by {} in {}",
                    m.total, m.tenant, m.year
                );
                let mut t = Table::new();
                t.set_header([
                    "type",
                    "received",
                    "complied in whole",
                    "in part",
                    "denied",
                    "routed",
                    "withdrawn",
                    "open",
                    "median days",
                    "mean days",
                ]);
                let d = |x: Option<f64>| x.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
                for p in m.per_type {
                    t.add_row([
                        p.kind,
                        p.received.to_string(),
                        p.complied_in_whole.to_string(),
                        p.complied_in_part.to_string(),
                        p.denied.to_string(),
                        p.routed_to_client.to_string(),
                        p.withdrawn.to_string(),
                        p.open.to_string(),
                        d(p.median_days),
                        d(p.mean_days),
                    ]);
                }
                println!("{t}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            command:
                ReportCommand::SelfAssessment {
                    tenant,
                    year,
                    format,
                    out,
                    sign_off,
                },
        } => {
            crate::report::self_assessment(
                engine,
                &actor,
                &tenant,
                year,
                format,
                out.as_deref(),
                sign_off.as_deref(),
            )
            .await
        }
        Command::Retention { command } => crate::retention::command(engine, &actor, command).await,
        Command::Report {
            command: ReportCommand::DataMap { tenant, format },
        } => crate::retention::data_map_command(engine, &actor, &tenant, format).await,
        Command::Recipient { command } => crate::webhooks::recipient_command(engine, command).await,
        Command::Deliveries { command } => {
            crate::webhooks::deliveries_command(engine, command).await
        }
        Command::Serve { .. }
        | Command::Demo { .. }
        | Command::Policy { .. }
        | Command::Outbox { .. } => Ok(ExitCode::SUCCESS),
    }
}

pub(crate) fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "cli".to_string())
}

fn ids(
    email: Option<String>,
    phone: Option<String>,
    external_id: Option<String>,
) -> vow_engine::input::Identifiers {
    vow_engine::input::Identifiers {
        email: email.map(vow_core::Pii::new),
        phone: phone.map(vow_core::Pii::new),
        external_id: external_id.map(vow_core::Pii::new),
    }
}

fn print_request(r: &vow_engine::RequestView, output: Output) -> Result<()> {
    if output == Output::Json {
        return print_json(r);
    }
    println!(
        "request {} ({}, via {}) in tenant {}",
        r.id, r.kind, r.channel, r.tenant
    );
    println!(
        "  state:        {}{}",
        r.state,
        r.flag
            .as_deref()
            .map(|f| format!("  [{f}]"))
            .unwrap_or_default()
    );
    println!("  received:     {}", r.received_at);
    println!(
        "  acknowledge:  {}",
        r.due.acknowledgement.as_deref().unwrap_or("-")
    );
    println!(
        "  respond by:   {} (set by {})",
        r.due.extended_to.as_deref().unwrap_or(&r.due.response),
        r.due.binding
    );
    println!(
        "  may extend to {}",
        r.due.extended_max.as_deref().unwrap_or("-")
    );
    println!("  laws:         {}", r.rules.join(", "));
    println!(
        "  matched:      {} point(s); subject {}",
        r.matched_points,
        r.subject.as_deref().unwrap_or("-")
    );
    if let Some(o) = &r.outcome {
        println!("  outcome:      {o}");
    }
    for e in &r.events {
        println!(
            "  {}  {:<12} {} -> {}",
            e.at,
            e.event,
            e.from.as_deref().unwrap_or("-"),
            e.to.as_deref().unwrap_or("-")
        );
    }
    for n in &r.notices {
        println!(
            "  notice {} ({}), sent {}",
            n.kind,
            n.created_at,
            n.sent_at.as_deref().unwrap_or("no")
        );
    }
    Ok(())
}

async fn request_command(
    engine: &Arc<Engine>,
    actor: &Actor,
    command: RequestCommand,
) -> Result<ExitCode> {
    use vow_engine::requests::{DenialReason, NewRequest, Requester, Step};
    let (r, output) = match command {
        RequestCommand::Submit {
            tenant,
            kind,
            channel,
            email,
            phone,
            external_id,
            birth_date,
            jurisdiction,
            received_at,
            requester,
            output,
        } => {
            let input = NewRequest {
                kind,
                channel,
                jurisdiction,
                identifiers: ids(email, phone, external_id),
                birth_date: birth_date.map(vow_core::Pii::new),
                requester: Some(Requester {
                    kind: Some(requester),
                    ..Requester::default()
                }),
                contact_email: None,
                received_at,
                purposes: Vec::new(),
                corrections: Vec::new(),
            };
            (
                engine
                    .submit_request(actor, &tenant, &input)
                    .await
                    .inspect_err(report_policy_error)?,
                output,
            )
        }
        RequestCommand::List {
            tenant,
            all,
            output,
        } => {
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
                        r.due.extended_to.unwrap_or(r.due.response),
                        r.flag.unwrap_or_default(),
                        r.rules.join(","),
                    ]);
                }
                println!("{t}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        RequestCommand::Show { tenant, id, output } => {
            (engine.request(actor, &tenant, &id).await?, output)
        }
        RequestCommand::Verify {
            tenant,
            id,
            email,
            phone,
            external_id,
            declaration,
            code,
            subject_confirmed,
            give_up,
            output,
        } => {
            let step = Step {
                identifiers: ids(email, phone, external_id),
                declaration,
                code,
                subject_confirmed,
                give_up,
                ..Step::default()
            };
            (
                engine.verify_request(actor, &tenant, &id, &step).await?,
                output,
            )
        }
        RequestCommand::Extend {
            tenant,
            id,
            reason,
            output,
        } => {
            let step = Step {
                reason: Some(reason),
                ..Step::default()
            };
            (
                engine.extend_request(actor, &tenant, &id, &step).await?,
                output,
            )
        }
        RequestCommand::Fulfil { tenant, id, output } => {
            (engine.fulfil_request(actor, &tenant, &id).await?, output)
        }
        RequestCommand::Code { tenant, id, output } => {
            (engine.send_code(actor, &tenant, &id).await?, output)
        }
        RequestCommand::Pause {
            tenant,
            id,
            reason,
            output,
        } => {
            let step = Step {
                reason: Some(reason),
                ..Step::default()
            };
            (
                engine.pause_request(actor, &tenant, &id, &step).await?,
                output,
            )
        }
        RequestCommand::Resume { tenant, id, output } => {
            (engine.resume_request(actor, &tenant, &id).await?, output)
        }
        RequestCommand::Withdraw { tenant, id, output } => {
            (engine.withdraw_request(actor, &tenant, &id).await?, output)
        }
        RequestCommand::Sweep { tenant } => {
            let n = engine.sweep_requests(actor, &tenant).await?;
            println!("{n} request(s) past their deadline unverified were denied as unverifiable");
            return Ok(ExitCode::SUCCESS);
        }
        RequestCommand::Deny {
            tenant,
            id,
            reasons,
            output,
        } => {
            let step = Step {
                reasons: reasons
                    .into_iter()
                    .map(|code| DenialReason { code, detail: None })
                    .collect(),
                ..Step::default()
            };
            (
                engine.deny_request(actor, &tenant, &id, &step).await?,
                output,
            )
        }
    };
    print_request(&r, output)?;
    Ok(ExitCode::SUCCESS)
}
