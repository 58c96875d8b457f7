//! `vow key create|list|revoke|rotate`: API keys, and the tenants' key-encryption keys.
//! `vow keys rotate` is kept as a hidden alias of `vow key rotate`.

use crate::common::{
    Output, bad, known_tenant, known_tenant_or_all, outln, print_json, report_policy_error, when,
    when_opt,
};
use anyhow::Result;
use clap::Subcommand;
use comfy_table::Table;
use indicatif::ProgressBar;
use std::process::ExitCode;
use std::sync::Arc;
use vow_core::TenantId;
use vow_engine::{Actor, Engine, NewKey};

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create an API key (shown once). Without --tenant: a global admin key. At the
    /// command line (which holds the root key) any key may be created; over HTTP the
    /// grant table applies. The tenant's administrators are told (a `key.created`
    /// webhook event and an e-mail to the policy's contacts).
    #[command(
        after_help = "Examples:\n  vow key create --tenant acme --role operator --label \"privacy team\"\n  vow key create --tenant acme --role app --purposes research,incentive_payment --output json\n  vow key create --tenant acme --role auditor --expires-in 90d"
    )]
    Create {
        /// The tenant the key acts for; none for a global admin key.
        #[arg(long)]
        tenant: Option<TenantId>,
        /// What the key may do (docs/api.md#authentication-and-roles).
        #[arg(long, value_parser = ["admin", "operator", "ingest", "app", "auditor"])]
        role: String,
        /// For app keys: the purposes it may read for, comma-separated.
        #[arg(long, value_delimiter = ',')]
        purposes: Vec<String>,
        /// A note on who holds the key.
        #[arg(long)]
        label: Option<String>,
        /// The key stops working after this long, e.g. 90d, 12h, 6mo (default: never).
        #[arg(long, value_name = "PERIOD")]
        expires_in: Option<String>,
        /// `table` prints the key alone on standard output; `json` {"id","key",…}.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// List API keys (never the keys themselves): who created each, when it expires,
    /// and revoked ones with the time.
    #[command(after_help = "Example:\n  vow key list --tenant acme")]
    List {
        /// Only this tenant's keys (default: every key).
        #[arg(long)]
        tenant: Option<TenantId>,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Revoke an API key: every server sharing the store refuses it from its next
    /// call. Recorded in the audit chain.
    #[command(
        after_help = "Example:\n  vow key revoke --tenant acme 0192f3c4a1b27d7e8c0e4f5a6b7c8d9e"
    )]
    Revoke {
        /// The key's id, as `vow key list` shows it.
        id: String,
        /// The tenant the key must belong to (default: any key).
        #[arg(long)]
        tenant: Option<TenantId>,
        /// `table` prints a line; `json` the key's record.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// New key-encryption key per tenant; re-wraps every subject key under it and
    /// destroys the old one. Field ciphertexts are untouched.
    #[command(after_help = "Example:\n  vow key rotate --tenant acme")]
    Rotate {
        /// Only this tenant (default: all).
        #[arg(long)]
        tenant: Option<TenantId>,
        /// `table` prints a line per tenant; `json` the rotation reports.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

/// The old spelling, `vow keys rotate`.
#[derive(Subcommand)]
pub enum KeysCommand {
    /// The same as `vow key rotate`.
    #[command(after_help = "Example:\n  vow keys rotate --tenant acme")]
    Rotate {
        /// Only this tenant (default: all).
        #[arg(long)]
        tenant: Option<TenantId>,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

impl From<KeysCommand> for KeyCommand {
    fn from(c: KeysCommand) -> KeyCommand {
        let KeysCommand::Rotate { tenant, output } = c;
        KeyCommand::Rotate { tenant, output }
    }
}

pub async fn run(engine: &Arc<Engine>, actor: &Actor, command: KeyCommand) -> Result<ExitCode> {
    match command {
        KeyCommand::Create {
            tenant,
            role,
            purposes,
            label,
            expires_in,
            output,
        } => {
            if let Some(t) = &tenant {
                known_tenant(engine, actor, t).await?;
            }
            let mut new = NewKey::new(tenant, vow_engine::input::role("/role", &role)?);
            new.purposes = (!purposes.is_empty()).then_some(purposes);
            new.label = label;
            new.expires_in = match expires_in.as_deref() {
                Some(p) => Some(
                    vow_core::Period::parse(p).map_err(|e| bad(format!("--expires-in: {e}")))?,
                ),
                None => None,
            };
            let k = engine
                .create_key(actor, &new)
                .await
                .inspect_err(report_policy_error)?;
            if output == Output::Json {
                print_json(&k)?;
            } else {
                outln!("{}", k.key);
                eprintln!(
                    "(key id {}, role {}{}; shown once — store it now)",
                    k.id,
                    k.role,
                    k.expires_at
                        .as_deref()
                        .map(|at| format!(", expires {}", when(at)))
                        .unwrap_or_default()
                );
                if let Some(note) = &k.notified.note {
                    eprintln!("({note})");
                }
            }
        }
        KeyCommand::List { tenant, output } => {
            if let Some(t) = &tenant {
                known_tenant(engine, actor, t).await?;
            }
            let list = engine.api_keys(actor, tenant.as_ref()).await?;
            if output == Output::Json {
                print_json(&list)?;
            } else {
                let mut t = Table::new();
                t.set_header([
                    "id",
                    "tenant",
                    "role",
                    "purposes",
                    "label",
                    "created",
                    "created by",
                    "expires",
                    "revoked",
                ]);
                for k in list {
                    t.add_row([
                        k.id,
                        k.tenant.unwrap_or_else(|| "(global)".into()),
                        k.role,
                        k.purposes.map(|p| p.join(",")).unwrap_or_default(),
                        k.label.unwrap_or_default(),
                        when(&k.created_at),
                        k.created_by.unwrap_or_else(|| "-".into()),
                        when_opt(k.expires_at.as_deref()),
                        when_opt(k.revoked_at.as_deref()),
                    ]);
                }
                outln!("{t}");
            }
        }
        KeyCommand::Revoke { id, tenant, output } => {
            if let Some(t) = &tenant {
                known_tenant(engine, actor, t).await?;
            }
            let k = engine.revoke_api_key(actor, tenant.as_ref(), &id).await?;
            if output == Output::Json {
                print_json(&k)?;
            } else {
                outln!(
                    "key {} ({}, {}) revoked at {}",
                    k.id,
                    k.tenant.as_deref().unwrap_or("global"),
                    k.role,
                    when_opt(k.revoked_at.as_deref())
                );
            }
        }
        KeyCommand::Rotate { tenant, output } => {
            let tenants = known_tenant_or_all(engine, actor, tenant).await?;
            let mut reports = Vec::new();
            for t in tenants {
                let bar = if output == Output::Table {
                    ProgressBar::new_spinner()
                } else {
                    ProgressBar::hidden()
                };
                let r = engine
                    .rotate_keys(actor, &t, |n| {
                        bar.set_message(format!("{t}: {n} subject keys re-wrapped"))
                    })
                    .await?;
                bar.finish_and_clear();
                if output == Output::Table {
                    outln!(
                        "{}: key-encryption key v{} -> v{}, {} subject keys re-wrapped",
                        r.tenant,
                        r.from_version,
                        r.to_version,
                        r.rewrapped
                    );
                }
                reports.push(r);
            }
            if output == Output::Json {
                print_json(&reports)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
