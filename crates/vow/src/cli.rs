//! The command tree of API.md, and the dispatch to each domain's runner. Exit codes:
//! 0 success, 1 the operation failed, 2 bad usage or bad input.

use crate::audit::AuditCommand;
use crate::breach::BreachCommand;
use crate::common::{Init, actor, bad, open_engine, out};
use crate::config::{Config, StoreArgs, WebhookArgs};
use crate::connection::ConnectionCommand;
use crate::dataset::DatasetCommand;
use crate::disclosure::DisclosureCommand;
use crate::import::ImportArgs;
use crate::key::{KeyCommand, KeysCommand};
use crate::policy::PolicyCommand;
use crate::report::ReportCommand;
use crate::request::RequestCommand;
use crate::retention::RetentionCommand;
use crate::security::SecurityCommand;
use crate::subject::SubjectCommand;
use crate::tenant::TenantCommand;
use crate::unsubscribe::UnsubscribeCommand;
use crate::webhooks::{DeliveriesCommand, OutboxCommand, RecipientCommand};
use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use vow_engine::Engine;

#[derive(Parser)]
#[command(
    name = "vow",
    version,
    propagate_version = true,
    about = "Vow, a privacy engine: keeps a privacy policy's promises mechanically",
    after_help = "Examples:\n  vow serve                      # the API on 127.0.0.1:8080, data in ./vow-data\n  vow demo                       # the whole engine on the example profiles\n  vow request list --tenant acme # the queue of data-subject requests\n\nEvery command that opens a store takes --config FILE, --data DIR and --database-url URL.\nExit codes: 0 success, 1 the operation failed, 2 bad usage or bad input.\nPromise ids such as (R4) or (S2) name the promises of docs/promises.md."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP server (embedded SQLite under ./vow-data by default). Makes the
    /// store and its root key on first start, and prints a bootstrap admin key once.
    #[command(
        after_help = "Examples:\n  vow serve\n  vow serve --config /etc/vow/vow.toml\n  vow serve --data /var/lib/vow --listen 0.0.0.0:8443\n  VOW_CONNECTIONS_PER_ADDRESS=1024 vow serve   # behind a reverse proxy\n  vow serve --sqlite-connection-dir /srv/shop   # SQLite connections only there\n\nTLS, the connection limits and timeouts ([connections]) and a key for /metrics\n(metrics_key_file) are set in the configuration file or VOW_… variables:\nsee docs/configuration.md."
    )]
    Serve {
        /// Address to listen on. Default 127.0.0.1:8080
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// How often retention runs (e.g. 24h, 30m, 1d). Default 24h.
        #[arg(long, value_name = "INTERVAL")]
        retention_interval: Option<String>,
        /// A directory SQLite connections may open files in (repeatable; replaces
        /// VOW_SQLITE_CONNECTION_DIRS). Without one: anywhere but Vow's own store and
        /// data directory.
        #[arg(long = "sqlite-connection-dir", value_name = "DIR")]
        sqlite_connection_dirs: Vec<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        hooks: WebhookArgs,
    },
    /// The whole engine end to end on the example profiles, narrated. Makes a fresh
    /// store in ./vow-demo (or the one named) each time.
    #[command(after_help = "Example:\n  vow demo --data /tmp/vow-demo")]
    Demo {
        /// A directory of example profiles to load instead of the ones built into vow
        /// (the layout of the repository's examples/)
        #[arg(long, value_name = "DIR")]
        examples: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Check, render or compare policy files (no store needed).
    #[command(after_help = "Example:\n  vow policy check policy.yaml")]
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Dataset manifests (fideslang) that describe the organisation's own databases:
    /// check one (no store needed), register it with a connection, list them.
    #[command(after_help = "Example:\n  vow dataset check examples/shop/dataset.yml")]
    Dataset {
        #[command(subcommand)]
        command: DatasetCommand,
    },
    /// Connections to the organisation's own databases (credentials sealed): add,
    /// test, list.
    #[command(
        after_help = "Example:\n  vow connection add --tenant shop --id orders --url sqlite:/srv/shop/shop.db"
    )]
    Connection {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: ConnectionCommand,
    },
    /// Tenants: create (which makes the store if there is none), list, publish a
    /// policy, versions.
    #[command(after_help = "Example:\n  vow tenant list --data ./vow-data")]
    Tenant {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// API keys (create, list, revoke) and the tenants' key-encryption keys (rotate).
    #[command(after_help = "Example:\n  vow key create --tenant acme --role operator")]
    Key {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Bulk-import subjects from JSONL or CSV, with a progress bar.
    #[command(
        after_help = "Examples:\n  vow import --tenant acme people.jsonl\n  vow import --tenant acme people.csv --skip-bad"
    )]
    Import {
        #[command(flatten)]
        args: ImportArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// People, for operators: show one by an identifier, counts per tenant, correct a
    /// field, erase through the request workflow.
    #[command(after_help = "Example:\n  vow subject show --tenant acme --email ada@example.org")]
    Subject {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: SubjectCommand,
    },
    /// One-click unsubscribe: the `List-Unsubscribe` header values for a mailing.
    #[command(
        after_help = "Example:\n  vow unsubscribe links --tenant acme --purpose marketing.email > links.jsonl"
    )]
    Unsubscribe {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: UnsubscribeCommand,
    },
    /// The audit chain: verify it (against signed checkpoints kept elsewhere), make a
    /// checkpoint, show the key that signs them.
    #[command(
        after_help = "Example:\n  vow audit verify --checkpoint /mnt/witness/vow-checkpoints.jsonl"
    )]
    Audit {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Data-subject requests: submit, list (deadlines first), show, verify, extend,
    /// fulfil, deny, and the other steps.
    #[command(after_help = "Example:\n  vow request list --tenant acme")]
    Request {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: RequestCommand,
    },
    /// Disclosures to registered recipients: send a batch, list the log.
    #[command(after_help = "Example:\n  vow disclosure list --tenant acme")]
    Disclosure {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: DisclosureCommand,
    },
    /// Reports from Vow's own records.
    #[command(after_help = "Example:\n  vow report metrics --tenant acme --year 2026")]
    Report {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// The old name of `vow key rotate`.
    #[command(hide = true, after_help = "Example:\n  vow keys rotate")]
    Keys {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Recipients' webhook endpoints.
    #[command(after_help = "Example:\n  vow recipient list --tenant acme")]
    Recipient {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        hooks: WebhookArgs,
        #[command(subcommand)]
        command: RecipientCommand,
    },
    /// Webhook deliveries: list, show (with the attempts), retry.
    #[command(after_help = "Example:\n  vow deliveries list --tenant acme")]
    Deliveries {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: DeliveriesCommand,
    },
    /// The outbox: deliver due webhook events now.
    #[command(after_help = "Example:\n  vow outbox deliver")]
    Outbox {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        hooks: WebhookArgs,
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Breaches: assess an incident, list the register, show one, record a notification.
    #[command(after_help = "Example:\n  vow breach assess incident.yaml")]
    Breach {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: BreachCommand,
    },
    /// A consistent copy of the store, taken while it serves (SQLite; PostgreSQL is
    /// copied with pg_dump). Ciphertext only: keep the root key and the erasure ledger
    /// apart from it.
    #[command(
        after_help = "Example:\n  vow backup --data ./vow-data --out /backups/vow-2026-12-07.db"
    )]
    Backup {
        /// The file to write (it must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Put a copy made by `vow backup` in place of the store (stop `vow serve` first).
    /// Everyone erased after the copy was taken is erased again, from the erasure ledger.
    #[command(after_help = "Example:\n  vow restore --data ./vow-data /backups/vow-2026-12-07.db")]
    Restore {
        /// The copy to restore.
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Retention: destroy what the policy's rules say is due.
    #[command(after_help = "Example:\n  vow retention run --dry-run")]
    Retention {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Security events: refused keys, forbidden and cross-tenant attempts.
    #[command(after_help = "Example:\n  vow security events --tenant acme --since 24h")]
    Security {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: SecurityCommand,
    },
    /// Shell completions, on standard output.
    #[command(
        after_help = "Examples:\n  vow completions bash > /etc/bash_completion.d/vow\n  vow completions zsh > \"${fpath[1]}/_vow\""
    )]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// The manual page (roff), on standard output: of `vow`, or of one of its commands.
    #[command(
        after_help = "Examples:\n  vow man | man -l -\n  vow man key revoke > vow-key-revoke.1"
    )]
    Man {
        /// A command and its subcommands, e.g. `key revoke` (default: vow itself).
        command: Vec<String>,
    },
}

/// Open the store, run one command on it, close it (flushing the audit writer)
/// whatever the command's outcome.
async fn session<F, Fut>(
    store: &StoreArgs,
    hooks: &WebhookArgs,
    init: Init,
    f: F,
) -> Result<ExitCode>
where
    F: FnOnce(Arc<Engine>, Config) -> Fut,
    Fut: Future<Output = Result<ExitCode>>,
{
    let cfg = Config::load(store, hooks, None).map_err(|e| bad(format!("{e:#}")))?;
    let (engine, _) = open_engine(&cfg, init).await?;
    let result = f(engine.clone(), cfg).await;
    engine.shutdown().await;
    result
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let none = WebhookArgs::default();
    let me = actor();
    let must = Init::MustExist;
    match cli.command {
        Command::Serve {
            listen,
            retention_interval,
            sqlite_connection_dirs,
            store,
            hooks,
        } => {
            let mut cfg = Config::load(&store, &hooks, listen.as_deref())
                .map_err(|e| bad(format!("{e:#}")))?;
            if !sqlite_connection_dirs.is_empty() {
                cfg.sqlite_connection_dirs = crate::config::sqlite_dirs(
                    sqlite_connection_dirs.into_iter(),
                    "--sqlite-connection-dir",
                )
                .map_err(|e| bad(format!("{e:#}")))?;
            }
            if let Some(i) = retention_interval {
                cfg.retention_interval = crate::config::parse_interval(&i)
                    .map_err(|e| bad(format!("--retention-interval {e}")))?;
            }
            crate::serve::serve(cfg).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { examples, store } => {
            let mut args = store;
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
            let cfg = Config::load(&args, &none, None).map_err(|e| bad(format!("{e:#}")))?;
            crate::demo::run(cfg, examples.as_deref()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Policy { command } => crate::policy::run(command),
        Command::Dataset { command } => match &command {
            DatasetCommand::Register { store, .. } | DatasetCommand::List { store, .. } => {
                let store = store.clone();
                session(&store, &none, must, |e, _| async move {
                    crate::dataset::run_stored(&e, &me, command).await
                })
                .await
            }
            DatasetCommand::Check { .. } => crate::dataset::run(command),
        },
        Command::Connection { store, command } => {
            session(&store, &none, must, |e, _| async move {
                crate::connection::run(&e, &me, command).await
            })
            .await
        }
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "vow", &mut buf);
            out!("{}", String::from_utf8_lossy(&buf));
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { command } => {
            let mut cmd = Cli::command();
            cmd.build();
            // Built, so a subcommand's page is titled `vow-key-revoke` and its usage
            // reads `vow key revoke`.
            for part in &command {
                cmd = cmd
                    .find_subcommand(part)
                    .filter(|c| !c.is_hide_set())
                    .cloned()
                    .ok_or_else(|| bad("`vow man`: no such command (see `vow --help`)"))?;
            }
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            out!("{}", String::from_utf8_lossy(&buf));
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenant { store, command } => {
            let init = match command {
                TenantCommand::Create { .. } => Init::MayCreate,
                _ => must,
            };
            session(&store, &none, init, |e, _| async move {
                crate::tenant::run(&e, &me, command).await
            })
            .await
        }
        Command::Key { store, command } => {
            session(&store, &none, must, |e, _| async move {
                crate::key::run(&e, &me, command).await
            })
            .await
        }
        Command::Keys { store, command } => {
            session(&store, &none, must, |e, _| async move {
                crate::key::run(&e, &me, command.into()).await
            })
            .await
        }
        Command::Import { args, store } => {
            session(&store, &none, must, |e, _| async move {
                crate::import::run(&e, &me, args).await
            })
            .await
        }
        Command::Subject { store, command } => {
            session(&store, &none, must, |e, _| async move {
                crate::subject::run(&e, &me, command).await
            })
            .await
        }
        Command::Unsubscribe { store, command } => {
            session(&store, &none, must, |e, _| async move {
                crate::unsubscribe::run(&e, &me, command).await
            })
            .await
        }
        Command::Audit { store, command } => {
            session(&store, &none, must, |e, cfg| async move {
                crate::audit::run(&e, &cfg, &me, command).await
            })
            .await
        }
        Command::Request { store, command } => {
            session(&store, &none, must, |e, _| async move {
                crate::request::run(&e, &me, command).await
            })
            .await
        }
        Command::Disclosure { store, command } => {
            session(&store, &none, must, |e, _| async move {
                crate::disclosure::run(&e, &me, command).await
            })
            .await
        }
        Command::Report { store, command } => {
            session(&store, &none, must, |e, _| async move {
                crate::report::run(&e, &me, command).await
            })
            .await
        }
        Command::Recipient {
            store,
            hooks,
            command,
        } => {
            session(&store, &hooks, must, |e, _| async move {
                crate::webhooks::recipient_command(&e, &me, command).await
            })
            .await
        }
        Command::Deliveries { store, command } => {
            session(&store, &none, must, |e, _| async move {
                crate::webhooks::deliveries_command(&e, &me, command).await
            })
            .await
        }
        Command::Outbox {
            store,
            hooks,
            command,
        } => {
            session(&store, &hooks, must, |e, cfg| async move {
                crate::webhooks::outbox_command(&e, &cfg, &me, command).await
            })
            .await
        }
        Command::Breach { store, command } => {
            session(&store, &none, must, |e, _| async move {
                crate::breach::run(&e, &me, command).await
            })
            .await
        }
        Command::Backup { out, store } => {
            let cfg = Config::load(&store, &none, None).map_err(|e| bad(format!("{e:#}")))?;
            crate::backup::backup(&cfg, &me, &out).await
        }
        Command::Restore { file, store } => {
            let cfg = Config::load(&store, &none, None).map_err(|e| bad(format!("{e:#}")))?;
            crate::backup::restore(&cfg, &me, &file).await
        }
        Command::Retention { store, command } => {
            session(&store, &none, must, |e, _| async move {
                crate::retention::command(&e, &me, command).await
            })
            .await
        }
        Command::Security { store, command } => {
            session(&store, &none, must, |e, _| async move {
                crate::security::run(&e, &me, command).await
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every argument says what it is for, and every command shows an example.
    #[test]
    fn every_argument_has_a_description_and_every_command_an_example() {
        fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let example = c
                .get_after_help()
                .is_some_and(|h| h.to_string().contains("Example"));
            if !example {
                missing.push(format!("{path}: no example in after_help"));
            }
            for a in c.get_arguments() {
                let id = a.get_id().as_str();
                if a.is_hide_set() || id == "help" || id == "version" {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {id}: no description"));
                }
            }
            for s in c.get_subcommands() {
                if s.get_name() != "help" {
                    walk(s, &format!("{path} {}", s.get_name()), missing);
                }
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut missing = Vec::new();
        walk(&cmd, "vow", &mut missing);
        assert!(missing.is_empty(), "{missing:#?}");
    }

    /// The store's flags are shown only on commands that open a store.
    #[test]
    fn store_flags_only_where_a_store_is_opened() {
        let mut cmd = Cli::command();
        cmd.build();
        let has = |path: &[&str], flag: &str| {
            let mut c = &cmd;
            for p in path {
                c = c.find_subcommand(p).expect("a command");
            }
            c.get_arguments().any(|a| a.get_id().as_str() == flag)
        };
        for flag in ["data", "config", "database_url"] {
            assert!(!has(&[], flag), "vow {flag}");
            assert!(!has(&["policy", "check"], flag), "policy check {flag}");
            assert!(!has(&["completions"], flag), "completions {flag}");
            assert!(has(&["request", "list"], flag), "request list {flag}");
            assert!(has(&["serve"], flag), "serve {flag}");
        }
        assert!(!has(&["request", "list"], "webhooks_allow_loopback"));
        assert!(has(&["outbox", "deliver"], "webhooks_allow_loopback"));
    }
}
