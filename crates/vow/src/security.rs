//! `vow security events`: failed authentication, forbidden and cross-tenant attempts,
//! as the server recorded them (key ids, routes and reason codes; never a secret).

use crate::common::{Output, known_tenant, outln, print_json, when};
use anyhow::Result;
use clap::Subcommand;
use comfy_table::Table;
use std::process::ExitCode;
use std::sync::Arc;
use vow_core::TenantId;
use vow_engine::{Actor, Engine};

#[derive(Subcommand)]
pub enum SecurityCommand {
    /// Security events, newest first: keys refused (malformed, unknown, wrong secret,
    /// revoked, expired), calls a key's role may not make, and keys naming another
    /// tenant. Recording is rate-limited and kept 90 days (docs/security.md).
    #[command(
        after_help = "Examples:\n  vow security events\n  vow security events --tenant acme --since 24h --output json"
    )]
    Events {
        /// Only the events that named this tenant or were made with its keys.
        #[arg(long)]
        tenant: Option<TenantId>,
        /// Only events at or after this: an RFC 3339 time, or a period back from now
        /// (24h, 7d, 2w).
        #[arg(long)]
        since: Option<String>,
        /// At most this many (newest first; at most 1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

pub async fn run(
    engine: &Arc<Engine>,
    actor: &Actor,
    command: SecurityCommand,
) -> Result<ExitCode> {
    let SecurityCommand::Events {
        tenant,
        since,
        limit,
        output,
    } = command;
    if let Some(t) = &tenant {
        known_tenant(engine, actor, t).await?;
    }
    let since = match since.as_deref() {
        Some(s) => Some(vow_engine::input::since("--since", s, engine.now())?),
        None => None,
    };
    let events = engine
        .security_events(actor, tenant.as_ref(), since, Some(limit))
        .await?;
    if output == Output::Json {
        print_json(&events)?;
        return Ok(ExitCode::SUCCESS);
    }
    if events.is_empty() {
        outln!("no security events");
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new();
    t.set_header([
        "at",
        "kind",
        "reason",
        "key",
        "key's tenant",
        "tenant",
        "route",
    ]);
    for e in events {
        t.add_row([
            when(&e.at),
            e.kind,
            e.reason,
            e.key_id.unwrap_or_else(|| "-".into()),
            e.key_tenant.unwrap_or_else(|| "-".into()),
            e.tenant.unwrap_or_else(|| "-".into()),
            format!("{} {}", e.method, e.route),
        ]);
    }
    outln!("{t}");
    Ok(ExitCode::SUCCESS)
}
