//! `vow connection`: the organisation's own databases, reached by the connectors.

use crate::common::{Output, bad, known_tenant, outln, print_json, read_file};
use anyhow::Result;
use clap::Subcommand;
use comfy_table::Table;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use vow_core::{Pii, TenantId};
use vow_engine::{Actor, Engine};

#[derive(Subcommand)]
pub enum ConnectionCommand {
    /// Add a connection to one of the organisation's databases (PostgreSQL,
    /// MySQL/MariaDB or SQLite), or to a system Vow cannot query (an `https://` URL:
    /// Vow posts each job there, signed, and the system answers later), or replace
    /// its URL. The URL, credentials and all, is sealed under the tenant's key. It is
    /// checked for shape here; `vow connection test` reaches it. An http connection's
    /// signing secret is printed once, when it is made (or rotated).
    #[command(
        after_help = "Examples:\n  vow connection add --tenant shop --id orders --url sqlite:/srv/shop/shop.db\n  vow connection add --tenant shop --id orders --url-file /etc/vow/orders.url --max-concurrency 8\n  vow connection add --tenant shop --id crm --url https://crm.example/vow\n  vow connection add --tenant shop --id crm --url https://crm.example/vow --rotate-secret\n\nA URL with a password belongs in a file (--url-file) or VOW_CONNECTION_URL:\non the command line other users of the machine can read it."
    )]
    Add {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The connection's id: letters, digits, '_' and '-'.
        #[arg(long)]
        id: String,
        /// `postgres://user@host/db`, `mysql://…`, `mariadb://…` or `sqlite:PATH`,
        /// without a password.
        #[arg(long, conflicts_with = "url_file", env = "VOW_CONNECTION_URL")]
        url: Option<String>,
        /// A file whose first line is the URL (it may hold a password).
        #[arg(long, value_name = "FILE")]
        url_file: Option<PathBuf>,
        /// Statements at once on this database, across all servers (1 to 64, default 4).
        #[arg(long)]
        max_concurrency: Option<u32>,
        /// For an https:// URL: make a new signing secret (printed once); without it
        /// a re-added http connection keeps its secret.
        #[arg(long)]
        rotate_secret: bool,
        /// `table` for people, `json` for programs.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Reach a connection's database: its version, its tables, and whether each
    /// dataset registered with it still matches the live schema. Exits 1 when the
    /// database cannot be reached, 2 when a dataset no longer matches.
    #[command(after_help = "Example:\n  vow connection test --tenant shop --id orders")]
    Test {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The connection (see `vow connection list`).
        #[arg(long)]
        id: String,
        /// `table` for people, `json` for programs.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Run the tenant's due connector jobs now (`vow serve` runs them every few
    /// seconds): the access, erasure and correction work of requests in progress.
    /// Requests whose last job finishes are fulfilled.
    #[command(after_help = "Example:\n  vow connection run --tenant shop")]
    Run {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// `table` for people, `json` for programs.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// A request's connector jobs: per dataset its state, and per collection the rows
    /// found or changed (counts only).
    #[command(after_help = "Example:\n  vow connection jobs --tenant shop --request 0193…")]
    Jobs {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The request's id (see `vow request list`).
        #[arg(long)]
        request: String,
        /// `table` for people, `json` for programs.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Put a request's failed connector jobs back to run, after fixing what failed. An
    /// erasure resumes where it stopped.
    #[command(after_help = "Example:\n  vow connection retry --tenant shop --request 0193…")]
    Retry {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The request's id (see `vow request list`).
        #[arg(long)]
        request: String,
    },
    /// What an erasure or correction request would change in each registered dataset
    /// (per collection: rows, and the columns an update sets), changing nothing.
    #[command(after_help = "Example:\n  vow connection dry-run --tenant shop --request 0193…")]
    DryRun {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// The request's id (see `vow request list`).
        #[arg(long)]
        request: String,
        /// `table` for people, `json` for programs.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The tenant's connections (passwords replaced by ***).
    #[command(after_help = "Example:\n  vow connection list --tenant shop")]
    List {
        /// The tenant (see `vow tenant list`).
        #[arg(long)]
        tenant: TenantId,
        /// `table` for people, `json` for programs.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

/// Whether a URL carries a password (`scheme://user:password@…`).
fn has_password(url: &str) -> bool {
    url.split_once("://")
        .map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or(""))
        .and_then(|authority| authority.rsplit_once('@'))
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

pub async fn run(
    engine: &Arc<Engine>,
    actor: &Actor,
    command: ConnectionCommand,
) -> Result<ExitCode> {
    match command {
        ConnectionCommand::Add {
            tenant,
            id,
            url,
            url_file,
            max_concurrency,
            rotate_secret,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let url = match (url, url_file) {
                (_, Some(file)) => read_file(&file)?
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string(),
                (Some(url), None) => {
                    if has_password(&url) && std::env::var_os("VOW_CONNECTION_URL").is_none() {
                        return Err(bad(
                            "--url: the URL carries a password, which other users can read on the command line; put it in a file and use --url-file, or in VOW_CONNECTION_URL",
                        ));
                    }
                    url
                }
                (None, None) => return Err(bad("give --url or --url-file")),
            };
            let c = engine
                .put_connection(
                    actor,
                    &tenant,
                    &id,
                    &Pii::new(url),
                    max_concurrency,
                    rotate_secret,
                )
                .await?;
            if output == Output::Json {
                print_json(&c)?;
            } else {
                outln!(
                    "connection {} ({}) set to {}, {} statement(s) at once",
                    c.id,
                    c.kind,
                    c.url,
                    c.max_concurrency
                );
                if let Some(secret) = &c.secret {
                    outln!(
                        "signing secret (shown once; give it to the system, which signs its answers with it):\n{}",
                        secret.expose()
                    );
                }
                outln!(
                    "reach it with: vow connection test --tenant {tenant} --id {}",
                    c.id
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ConnectionCommand::Test { tenant, id, output } => {
            known_tenant(engine, actor, &tenant).await?;
            let c = engine.test_connection(actor, &tenant, &id).await?;
            let drifted = c.datasets.iter().any(|d| !d.ok);
            if output == Output::Json {
                print_json(&c)?;
            } else if let Some(e) = &c.error {
                eprintln!(
                    "connection {} ({}): not reached: {} ({})",
                    c.id, c.kind, e.message, e.code
                );
            } else {
                outln!(
                    "connection {} ({}): reached; {}; {} table(s)",
                    c.id,
                    c.kind,
                    c.server_version.as_deref().unwrap_or(""),
                    c.tables
                );
                for d in &c.datasets {
                    if d.ok {
                        outln!("  dataset {}: matches the live schema", d.fides_key);
                    } else {
                        outln!(
                            "  dataset {}: no longer matches the live schema",
                            d.fides_key
                        );
                    }
                    for x in &d.diagnostics {
                        eprintln!("    {x}");
                    }
                }
            }
            Ok(if !c.reachable {
                ExitCode::FAILURE
            } else if drifted {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        ConnectionCommand::Run { tenant, output } => {
            known_tenant(engine, actor, &tenant).await?;
            let r = engine
                .run_connector_jobs(actor, &tenant, &engine.runner_name())
                .await?;
            if output == Output::Json {
                print_json(&r)?;
            } else {
                outln!(
                    "{} job(s) run: {} done, {} failed; {} request(s) fulfilled",
                    r.claimed,
                    r.done,
                    r.failed,
                    r.requests_completed
                );
            }
            Ok(if r.failed > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        ConnectionCommand::Jobs {
            tenant,
            request,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let jobs = engine.connector_jobs(actor, &tenant, &request).await?;
            if output == Output::Json {
                print_json(&jobs)?;
            } else {
                let mut t = Table::new();
                t.set_header(["dataset", "kind", "state", "collection", "rows", "error"]);
                for j in jobs {
                    if j.collections.is_empty() {
                        t.add_row([
                            j.dataset.clone(),
                            j.kind.clone(),
                            j.state.clone(),
                            "-".into(),
                            "-".into(),
                            j.error.clone().unwrap_or_default(),
                        ]);
                    }
                    for c in &j.collections {
                        t.add_row([
                            j.dataset.clone(),
                            j.kind.clone(),
                            j.state.clone(),
                            c.collection.clone(),
                            c.rows.to_string(),
                            j.error.clone().unwrap_or_default(),
                        ]);
                    }
                }
                outln!("{t}");
            }
            Ok(ExitCode::SUCCESS)
        }
        ConnectionCommand::Retry { tenant, request } => {
            known_tenant(engine, actor, &tenant).await?;
            let n = engine
                .retry_connector_jobs(actor, &tenant, &request)
                .await?;
            outln!(
                "{n} failed job(s) put back; run them with: vow connection run --tenant {tenant}"
            );
            Ok(ExitCode::SUCCESS)
        }
        ConnectionCommand::DryRun {
            tenant,
            request,
            output,
        } => {
            known_tenant(engine, actor, &tenant).await?;
            let planned = engine.connector_dry_run(actor, &tenant, &request).await?;
            if output == Output::Json {
                print_json(&planned)?;
            } else {
                let mut t = Table::new();
                t.set_header(["dataset", "collection", "action", "rows", "columns"]);
                for c in planned {
                    t.add_row([
                        c.dataset,
                        c.collection,
                        c.action,
                        c.rows.to_string(),
                        c.columns.join(", "),
                    ]);
                }
                outln!("{t}");
                outln!("(a dry run: nothing was changed)");
            }
            Ok(ExitCode::SUCCESS)
        }
        ConnectionCommand::List { tenant, output } => {
            known_tenant(engine, actor, &tenant).await?;
            let list = engine.connections(actor, &tenant).await?;
            if output == Output::Json {
                print_json(&list)?;
            } else {
                let mut t = Table::new();
                t.set_header(["id", "kind", "url", "at once", "datasets", "updated"]);
                for c in list {
                    t.add_row([
                        c.id,
                        c.kind,
                        c.url,
                        c.max_concurrency.to_string(),
                        c.datasets.join(", "),
                        c.updated_at,
                    ]);
                }
                outln!("{t}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `vow serve`'s runner: every few seconds, each tenant's due connector jobs.
pub fn spawn_runner(engine: Arc<Engine>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let actor = Actor::local("connector-runner");
        let owner = engine.runner_name();
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            // Every few seconds (jobs started by other servers, leases run out), and at
            // once when this server started jobs.
            tokio::select! {
                _ = tick.tick() => {}
                () = engine.connector_jobs_due() => {}
            }
            let Ok(tenants) = engine.tenants(&actor).await else {
                continue;
            };
            for t in tenants {
                let Ok(id) = TenantId::new(t.id.as_str()) else {
                    continue;
                };
                match engine.run_connector_jobs(&actor, &id, &owner).await {
                    Ok(r) if r.claimed == 0 => {}
                    Ok(r) => tracing::info!(
                        tenant = %t.id, claimed = r.claimed, done = r.done, failed = r.failed,
                        fulfilled = r.requests_completed, "connector jobs run"
                    ),
                    Err(e) => {
                        tracing::warn!(tenant = %t.id, code = e.code(), "connector jobs failed")
                    }
                }
            }
        }
    })
}

/// The demo's step on the organisation's own databases (issue 11): a small shop in
/// SQLite in `dir` (outside the data directory: a SQLite connection may not open a
/// file in it), its dataset registered, then an access and an erasure request that
/// reach it through connector jobs.
pub async fn demo(
    engine: &Arc<Engine>,
    admin: &Actor,
    examples: &std::path::Path,
    dir: &std::path::Path,
) -> Result<()> {
    use serde_json::json;
    // The demo's narration style (`demo::say`), here to keep the two modules apart.
    let say = |line: String| outln!("   {line}");
    use vow_connect::shop;
    use vow_core::RequestState;
    let tenant = TenantId::new("lantern-goods")?;
    engine
        .create_tenant(admin, tenant.as_str(), "Lantern Goods", "controller", None)
        .await?;
    let policy_path = examples.join("shop/policy.yaml");
    let source = std::fs::read_to_string(&policy_path)?;
    engine
        .publish_policy(admin, &tenant, &source, &policy_path.display().to_string())
        .await
        .inspect_err(crate::common::report_policy_error)?;
    // The shop's database: 20 customers, about 50 rows each, in a file of its own.
    let file = dir.join("shop.db");
    // Owner-only from the start, like everything in a data directory; SQLite
    // gives its journal files the database file's mode.
    vow_crypto::files::create_private_file(&file)?;
    let make = format!("sqlite://{}?mode=rwc", file.display());
    shop::fill_shop(&vow_connect::Target::parse(&make)?, 20, 1).await?;
    let url = format!("sqlite://{}", file.display());
    say(format!(
        "the shop's own database: {} (20 customers, 8 tables)",
        file.display()
    ));
    let c = engine
        .put_connection(admin, &tenant, "shop-db", &Pii::new(url), None, false)
        .await?;
    say(format!("connection {} ({}): {}", c.id, c.kind, c.url));
    let manifest = examples.join("shop/dataset.yml");
    let registered = engine
        .register_datasets(
            admin,
            &tenant,
            "shop-db",
            &std::fs::read_to_string(&manifest)?,
            &manifest.display().to_string(),
        )
        .await
        .inspect_err(crate::common::report_policy_error)?;
    for d in &registered {
        say(format!(
            "dataset {} registered, checked against the live schema; a request walks {}",
            d.fides_key,
            d.collections.join(" → ")
        ));
    }
    // Two customers the shop's vault knows by e-mail, so their requests verify.
    let rows = (1..=2u64)
        .map(|i| {
            let email = shop::email(i);
            json!({"identifiers": {"email": email},
                   "fields": [{"category": "user.contact.email", "value": email, "purposes": ["orders"], "source": "checkout"}]})
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let rows: Vec<_> = vow_engine::vault::import::parse_jsonl(&rows).collect();
    engine
        .import(admin, &tenant, rows, Default::default(), |_| {})
        .await?;
    let owner = engine.runner_name();
    for (i, kind) in [(1u64, "access"), (2, "delete")] {
        let ask: vow_engine::NewRequest = serde_json::from_value(json!({
            "type": kind, "channel": "web", "jurisdiction": "CA",
            "identifiers": {"email": shop::email(i)},
        }))?;
        let r = engine.submit_request(admin, &tenant, &ask).await?;
        if kind == "delete" {
            for p in engine.connector_dry_run(admin, &tenant, &r.id).await? {
                say(format!(
                    "  dry run: {}.{}: {} {} row(s){}",
                    p.dataset,
                    p.collection,
                    p.action,
                    p.rows,
                    if p.columns.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", p.columns.join(", "))
                    }
                ));
            }
        }
        let r = engine.fulfil_request(admin, &tenant, &r.id).await?;
        say(format!(
            "{kind} request {}: {} (waiting on its connector jobs)",
            r.id, r.state
        ));
        let report = engine.run_connector_jobs(admin, &tenant, &owner).await?;
        let r = engine.request(admin, &tenant, &r.id).await?;
        say(format!(
            "  jobs run: {} done, {} failed; the request is now {}",
            report.done, report.failed, r.state
        ));
        for j in engine.connector_jobs(admin, &tenant, &r.id).await? {
            let rows: Vec<String> = j
                .collections
                .iter()
                .filter(|c| c.rows > 0)
                .map(|c| format!("{} {}", c.collection, c.rows))
                .collect();
            say(format!(
                "  {} in {}: {}",
                if kind == "access" { "found" } else { "changed" },
                j.dataset,
                rows.join(", ")
            ));
        }
        if r.state != RequestState::Fulfilled.as_str() {
            anyhow::bail!("the demo's {kind} request did not complete: {}", r.state);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::has_password;

    #[test]
    fn passwords_in_urls_are_seen() {
        assert!(has_password("postgres://u:secret@db/x"));
        assert!(has_password("mysql://u:p@h:3306/x?ssl=true"));
        assert!(!has_password("postgres://u@db/x"));
        assert!(!has_password("postgres://db:5432/x"));
        assert!(!has_password("sqlite:/srv/shop.db"));
    }
}
