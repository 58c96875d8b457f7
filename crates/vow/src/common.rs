//! What every command shares: output (tables, JSON, a closed pipe), errors and exit
//! codes, the local actor, and opening the engine from the configuration. A leaf:
//! it imports no command module, so every command module may import it.

use crate::config::{Config, Mail};
use anyhow::{Context, Result};
use clap::ValueEnum;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vow_core::{PurposeId, SystemClock, TenantId};
use vow_engine::{Actor, Engine, EngineError, KeySource};

/// How a command prints its result.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Output {
    /// Text and tables for people.
    Table,
    /// JSON for scripts (the API's shapes).
    Json,
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

pub fn bad(message: impl Into<String>) -> anyhow::Error {
    BadInput(message.into()).into()
}

pub fn exit_code_for(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<BadInput>().is_some() {
        return 2;
    }
    match e.downcast_ref::<EngineError>() {
        Some(
            EngineError::Invalid(_)
            | EngineError::Identifying(_)
            | EngineError::Policy(_)
            | EngineError::Dataset(_)
            | EngineError::InvalidResult(_)
            | EngineError::Conflict(_)
            | EngineError::NotFound(_)
            | EngineError::NoPolicy(_)
            | EngineError::Refused(_),
        ) => 2,
        _ => 1,
    }
}

/// Write to standard output. When the reader has gone (`vow request list | head -1`)
/// the command ends quietly, as `head` meant, instead of panicking in `println!`.
pub fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

/// `println!` through [`write_out`].
macro_rules! outln {
    () => { $crate::common::write_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::common::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}
/// `print!` through [`write_out`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::common::write_out(format_args!($($arg)*)) };
}
pub(crate) use {out, outln};

pub fn print_json(v: &impl serde::Serialize) -> Result<()> {
    outln!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// A stored time (RFC 3339, milliseconds) as people read it in a table: to the
/// minute, in UTC. JSON output keeps the exact value.
pub fn when(ts: &str) -> String {
    match ts.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => ts.to_string(),
    }
}

/// [`when`] of an optional time, `-` when there is none.
pub fn when_opt(ts: Option<&str>) -> String {
    ts.map_or_else(|| "-".to_string(), when)
}

/// Days, to one decimal (`-` when there is no value).
pub fn days(d: Option<f64>) -> String {
    d.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

pub fn read_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read {}: {e}", path.display())))
}

/// The person running the command, as the audit chain names them.
pub fn actor() -> Actor {
    Actor::local(&whoami())
}

pub fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "cli".to_string())
}

/// The policy diagnostics behind an engine error: they are not in its message, which
/// `main` prints once.
pub fn report_policy_error(e: &EngineError) {
    if let EngineError::Policy(d) | EngineError::Dataset(d) = e {
        for x in d {
            eprintln!("{x}");
        }
    }
}

/// `--tenant` must name a tenant of this store: an unknown one is bad input, not an
/// empty table.
pub async fn known_tenant(engine: &Engine, actor: &Actor, tenant: &TenantId) -> Result<()> {
    match engine.tenant(actor, tenant).await {
        Ok(_) => Ok(()),
        Err(EngineError::NotFound(_) | EngineError::Invalid(_)) => Err(bad(
            "--tenant names no tenant of this store (`vow tenant list` shows them)",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The tenant a `--tenant` flag names (checked to exist), or every tenant when it
/// names none.
pub async fn known_tenant_or_all(
    engine: &Engine,
    actor: &Actor,
    tenant: Option<TenantId>,
) -> Result<Vec<TenantId>> {
    match tenant {
        Some(t) => {
            known_tenant(engine, actor, &t).await?;
            Ok(vec![t])
        }
        None => engine
            .tenants(actor)
            .await?
            .iter()
            .map(|t| tenant_id(&t.id))
            .collect(),
    }
}

/// Whether opening may make a new store. Only `serve`, `demo` and `tenant create` may;
/// every other command refuses a place that holds none.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Init {
    MayCreate,
    MustExist,
}

/// The SQLite database file a URL names, if it is SQLite.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://")?;
    Some(PathBuf::from(rest.split('?').next().unwrap_or(rest)))
}

/// Open the store the configuration names, with its root key, rule packs, mailer and
/// webhook allowances. Returns the engine and whether a key file was created.
pub async fn open_engine(cfg: &Config, init: Init) -> Result<(Arc<Engine>, bool)> {
    let database = sqlite_file(&cfg.database_url);
    let no_database = database.as_ref().is_some_and(|p| !p.exists());
    let no_key_file = cfg.passphrase.is_none() && !cfg.key_file.exists();
    if init == Init::MustExist {
        if let Some(db) = database.as_ref().filter(|_| no_database) {
            return Err(bad(format!(
                "{} holds no Vow store (no {}); nothing was created. Point --data, \
                 --database-url or --config at an existing store, or make one with \
                 `vow tenant create` or `vow serve`",
                db.parent().unwrap_or(Path::new(".")).display(),
                db.display()
            )));
        }
        if no_key_file {
            return Err(bad(format!(
                "no root key file at {}; nothing was created. Set key_file (VOW_KEY_FILE) \
                 or the passphrase this store was made with",
                cfg.key_file.display()
            )));
        }
    }
    vow_crypto::files::create_private_dir_all(&cfg.data)
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
            bad(format!("the rule packs in {} have errors", dir.display()))
        })?,
        None => vow_policy::rules::builtin(),
    };
    let opened =
        Engine::open_with_rules(&cfg.database_url, key, Arc::new(SystemClock), rules).await?;
    let transport = match &cfg.mail {
        Mail::Files(dir) => vow_engine::mail::MailTransport::File { dir: dir.clone() },
        Mail::Smtp {
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
        .map_err(|e| bad(format!("mail configuration: {e}")))?;
    opened.0.set_mailer(mailer);
    opened.0.set_public_url(&cfg.public_url);
    opened.0.set_webhook_net(cfg.webhooks.allow);
    // The http connector's posts: the webhooks' guarded client, under the same allowance.
    vow_server::outbound::GuardedOutbound::install(&opened.0, cfg.webhooks.timeout);
    opened.0.set_webhook_lease(cfg.webhooks.lease);
    opened.0.set_intake_limits(cfg.intake);
    opened.0.set_erasure_ledger(cfg.erasure_ledger.clone());
    opened.0.set_data_dir(&cfg.data);
    opened
        .0
        .set_sqlite_connection_dirs(cfg.sqlite_connection_dirs.clone());
    // SQLite creates its -wal and -shm files with the database file's mode.
    if let Some(db) = &database {
        restrict(db, 0o600);
    }
    if no_database {
        eprintln!(
            "made a new store in {} (database {})",
            cfg.data.display(),
            database.as_deref().unwrap_or(Path::new("-")).display()
        );
    }
    if opened.1 {
        eprintln!(
            "made a new root key file {} (mode 0600): back it up apart from the database; \
             without it nothing stored can be read",
            cfg.key_file.display()
        );
    }
    Ok(opened)
}

/// Owner-only permissions on what holds ciphertext and keys (best effort: the
/// operator may have chosen a shared directory on purpose).
fn restrict(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
}

/// A tenant id that did not come through `--tenant` (example files, other flags'
/// values): malformed is bad input, exit 2.
pub fn tenant_id(text: &str) -> Result<TenantId> {
    TenantId::new(text).map_err(|e| bad(e.to_string()))
}

/// A purpose named in a file or flag: malformed is bad input, exit 2.
pub fn purpose_id(text: &str) -> Result<PurposeId> {
    PurposeId::new(text).map_err(|e| bad(e.to_string()))
}
