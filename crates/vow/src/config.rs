//! Configuration: one TOML file, then `VOW_…` environment variables (`…_FILE`
//! for secrets), then command-line flags. Documented in docs/configuration.md.
//! A leaf: it imports no other module of the binary.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vow_core::webhook::NetAllow;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub key_file: Option<PathBuf>,
    pub passphrase_file: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// `json` (default for serve) or `text`.
    pub log_format: Option<String>,
    /// A tracing filter, e.g. `info` or `vow=debug`.
    pub log_level: Option<String>,
    /// The From address of notices. Default privacy@localhost.
    pub mail_from: Option<String>,
    /// A directory of rule packs (and calendars/) that add to or override the built-in
    /// ones: a change of law is a data change.
    pub rules_dir: Option<PathBuf>,
    /// The URL people use to reach this server (download links in notices).
    /// Default: http(s)://<listen>.
    pub public_url: Option<String>,
    /// Where notices are written as .eml files when no SMTP server is set. Default <data>/mail
    pub mail_dir: Option<PathBuf>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_username: Option<String>,
    pub smtp_password_file: Option<PathBuf>,
    /// STARTTLS on the SMTP connection (default true).
    pub smtp_starttls: Option<bool>,
    /// `[webhooks]`: allow_loopback, allow_private, poll_interval_secs, timeout_secs,
    /// lease_secs.
    pub webhooks: Option<WebhooksFile>,
    /// How often `vow serve` runs retention, e.g. `24h`, `30m`, `1d`. Default 24h.
    pub retention_interval: Option<String>,
    /// Where erasures are recorded apart from the store, so a restored backup cannot
    /// bring an erased person back. Default <data>/erasure-ledger.jsonl.
    pub erasure_ledger: Option<PathBuf>,
    /// How far back a request's `received_at` may go without `backdated`. Default 30d.
    pub received_at_window: Option<String>,
    /// How far ahead of this server's clock a `received_at` may be. Default 5min.
    pub received_at_skew: Option<String>,
    /// A signed audit checkpoint after this many new entries. Default 1000.
    pub audit_checkpoint_every: Option<i64>,
    /// A signed audit checkpoint at least this often while the chain grows. Default 10min.
    pub audit_checkpoint_interval: Option<String>,
    /// A file outside the data directory that checkpoints are appended to (JSON lines).
    pub audit_witness_file: Option<PathBuf>,
    /// A URL each checkpoint is POSTed to (JSON).
    pub audit_witness_url: Option<String>,
    /// A file holding the key `/metrics` then requires (`Authorization: Bearer …`).
    pub metrics_key_file: Option<PathBuf>,
    /// `[connections]`: max, health_reserve, per_address, header_timeout, idle_timeout.
    pub connections: Option<ConnectionsFile>,
}

/// Signed checkpoints of the audit chain and the witnesses they are published to.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub every: i64,
    pub interval: Duration,
    pub witness_file: Option<PathBuf>,
    pub witness_url: Option<String>,
}

impl AuditConfig {
    /// The file's values, then `VOW_AUDIT_…`.
    fn load(
        every: Option<i64>,
        interval: Option<String>,
        witness_file: Option<PathBuf>,
        witness_url: Option<String>,
        data: &Path,
    ) -> Result<AuditConfig> {
        let every = match env("VOW_AUDIT_CHECKPOINT_EVERY") {
            Some(v) => Some(v.parse::<i64>().map_err(|_| {
                anyhow::anyhow!("VOW_AUDIT_CHECKPOINT_EVERY must be a whole number above 0")
            })?),
            None => every,
        }
        .unwrap_or(1000);
        if every < 1 {
            bail!("audit_checkpoint_every must be a whole number above 0");
        }
        let interval = match env("VOW_AUDIT_CHECKPOINT_INTERVAL").or(interval) {
            Some(i) => {
                parse_interval(&i).map_err(|e| anyhow::anyhow!("audit_checkpoint_interval {e}"))?
            }
            None => Duration::from_secs(600),
        };
        let witness_file = env("VOW_AUDIT_WITNESS_FILE")
            .map(PathBuf::from)
            .or(witness_file);
        if let Some(w) = &witness_file
            && inside(data, w)
        {
            bail!(
                "audit_witness_file {} is inside the data directory {}: a witness must be out of reach of whoever can change the data (another disk or host)",
                w.display(),
                data.display()
            );
        }
        let witness_url = env("VOW_AUDIT_WITNESS_URL").or(witness_url);
        if let Some(u) = &witness_url {
            let ok = url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                bail!("audit_witness_url must be an http:// or https:// URL");
            }
        }
        Ok(AuditConfig {
            every,
            interval,
            witness_file,
            witness_url,
        })
    }
}

/// Whether `path` is `dir` or lies under it, following symbolic links as far as
/// the path exists.
fn inside(dir: &Path, path: &Path) -> bool {
    fn resolve(p: &Path) -> PathBuf {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        // Canonicalise the longest part that exists, then add the rest.
        let mut existing = abs.as_path();
        let mut rest = Vec::new();
        loop {
            if let Ok(c) = existing.canonicalize() {
                return rest.iter().rev().fold(c, |acc, part| acc.join(part));
            }
            match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    existing = parent;
                }
                _ => return abs,
            }
        }
    }
    resolve(path).starts_with(resolve(dir))
}

/// The flags every store-touching command shares. They are flattened into each
/// command that opens the store (and its subcommands), not onto `vow` itself, so a
/// command that needs no store does not show them.
#[derive(Debug, Default, Clone, clap::Args)]
#[command(next_help_heading = "Store")]
pub struct StoreArgs {
    /// TOML configuration file (settings: docs/configuration.md).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory: SQLite database, key file, mail. Default ./vow-data
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST/DB. Default: SQLite in the data directory.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

/// `[webhooks]` in the configuration file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksFile {
    pub allow_loopback: Option<bool>,
    pub allow_private: Option<bool>,
    pub poll_interval_secs: Option<u64>,
    pub timeout_secs: Option<u64>,
    pub lease_secs: Option<u64>,
}

/// The webhook flags, on the commands that reach recipients' endpoints.
#[derive(Debug, Default, Clone, clap::Args)]
#[command(next_help_heading = "Webhooks")]
pub struct WebhookArgs {
    /// Let webhooks reach loopback addresses (127.0.0.0/8, ::1), and plain http there.
    #[arg(long, global = true)]
    pub webhooks_allow_loopback: bool,
    /// Let webhooks reach private addresses (RFC 1918, 100.64.0.0/10, fc00::/7).
    #[arg(long, global = true)]
    pub webhooks_allow_private: bool,
    /// Seconds between delivery passes of `vow serve`. Default 5.
    #[arg(long, global = true, value_name = "SECONDS")]
    pub webhooks_poll_interval: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub allow: NetAllow,
    pub poll: Duration,
    pub timeout: Duration,
    /// How long a pass's claim holds an event (after a crash, how long its claimed
    /// events wait before the next pass may send them again).
    pub lease: Duration,
}

fn env_bool(name: &str) -> Result<Option<bool>> {
    match env(name) {
        None => Ok(None),
        Some(v) => match v.as_str() {
            "1" | "true" | "yes" => Ok(Some(true)),
            "0" | "false" | "no" => Ok(Some(false)),
            _ => bail!("{name} must be true or false"),
        },
    }
}

fn env_secs(name: &str) -> Result<Option<u64>> {
    match env(name) {
        None => Ok(None),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => bail!("{name} must be a whole number of seconds above 0"),
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
            .unwrap_or(10)
            .max(1);
        let lease = env_secs("VOW_WEBHOOKS_LEASE")?
            .or(file.lease_secs)
            .unwrap_or(300);
        // A claim that lapsed while its attempt still runs would let the next pass send
        // the event a second time.
        if lease <= timeout {
            bail!("webhooks lease_secs ({lease}) must be longer than timeout_secs ({timeout})");
        }
        Ok(WebhookConfig {
            allow: NetAllow { loopback, private },
            poll: Duration::from_secs(poll.max(1)),
            timeout: Duration::from_secs(timeout),
            lease: Duration::from_secs(lease),
        })
    }
}

/// `[connections]` in the configuration file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsFile {
    pub max: Option<usize>,
    pub health_reserve: Option<usize>,
    pub per_address: Option<usize>,
    pub header_timeout: Option<String>,
    pub idle_timeout: Option<String>,
}

/// What `vow serve` allows each connection (docs/configuration.md, "Connections").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// Connections served in full at once.
    pub max: usize,
    /// Connections beyond `max` that may still reach the health and metrics paths.
    pub health_reserve: usize,
    /// Connections at once from one client address (an IPv6 client: its /64).
    pub per_address: usize,
    /// From a request's first byte (or a connection's TLS handshake) to its last
    /// header line.
    pub header_timeout: Duration,
    /// A connection with no request in progress is closed after this long; so is one
    /// whose client takes nothing of a response for this long.
    pub idle_timeout: Duration,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            max: 1024,
            health_reserve: 16,
            per_address: 64,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

fn env_count(name: &str) -> Result<Option<usize>> {
    match env(name) {
        None => Ok(None),
        Some(v) => match v.parse::<usize>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => bail!("{name} must be a whole number"),
        },
    }
}

impl ConnectionConfig {
    /// The file, then `VOW_CONNECTIONS_…`.
    pub fn load(file: Option<&ConnectionsFile>) -> Result<ConnectionConfig> {
        let file = file.cloned().unwrap_or_default();
        let d = ConnectionConfig::default();
        let duration =
            |name: &str, key: &str, file: Option<String>, default: Duration| match env(name)
                .or(file)
            {
                Some(t) => parse_interval(&t).map_err(|e| anyhow::anyhow!("{key} {e}")),
                None => Ok(default),
            };
        let c = ConnectionConfig {
            max: env_count("VOW_CONNECTIONS_MAX")?
                .or(file.max)
                .unwrap_or(d.max),
            health_reserve: env_count("VOW_CONNECTIONS_HEALTH_RESERVE")?
                .or(file.health_reserve)
                .unwrap_or(d.health_reserve),
            per_address: env_count("VOW_CONNECTIONS_PER_ADDRESS")?
                .or(file.per_address)
                .unwrap_or(d.per_address),
            header_timeout: duration(
                "VOW_CONNECTIONS_HEADER_TIMEOUT",
                "[connections] header_timeout",
                file.header_timeout,
                d.header_timeout,
            )?,
            idle_timeout: duration(
                "VOW_CONNECTIONS_IDLE_TIMEOUT",
                "[connections] idle_timeout",
                file.idle_timeout,
                d.idle_timeout,
            )?,
        };
        if c.max == 0 || c.per_address == 0 {
            bail!("[connections] max and per_address must be at least 1");
        }
        Ok(c)
    }
}

/// `24h`, `30m`, `1d`, `90s`: how often `vow serve` runs retention, and the
/// connection timeouts.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    // The one duration syntax (vow_core::Period), limited to units of fixed length.
    let period = vow_core::period::Period::parse(text).map_err(|e| e.to_string())?;
    let d = period
        .fixed()
        .ok_or("an interval needs a unit of fixed length: s, min, h, d or w")?;
    if d.is_zero() {
        return Err("the interval must be longer than zero".to_string());
    }
    Ok(d)
}

/// Directories SQLite connections are allowed in: each must exist.
pub fn sqlite_dirs(dirs: impl Iterator<Item = PathBuf>, from: &str) -> Result<Vec<PathBuf>> {
    dirs.map(|d| {
        if d.is_dir() {
            Ok(d)
        } else {
            bail!("{from}: {} is not a directory", d.display())
        }
    })
    .collect()
}

#[derive(Clone)]
pub struct Config {
    pub data: PathBuf,
    pub database_url: String,
    pub listen: String,
    pub key_file: PathBuf,
    pub passphrase: Option<String>,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub log_format: String,
    pub log_level: String,
    pub mail_from: String,
    pub mail: Mail,
    pub public_url: String,
    pub rules_dir: Option<PathBuf>,
    pub webhooks: WebhookConfig,
    pub retention_interval: Duration,
    pub intake: vow_engine::requests::IntakeLimits,
    pub erasure_ledger: PathBuf,
    pub audit: AuditConfig,
    pub connections: ConnectionConfig,
    /// The key `/metrics` requires, if any.
    pub metrics_key: Option<String>,
    /// The only directories SQLite connections may open files in
    /// (`VOW_SQLITE_CONNECTION_DIRS`, `vow serve --sqlite-connection-dir`); empty:
    /// anywhere but Vow's own store and data directory.
    pub sqlite_connection_dirs: Vec<PathBuf>,
}

#[derive(Clone)]
pub enum Mail {
    Files(PathBuf),
    Smtp {
        host: String,
        port: u16,
        username: Option<String>,
        password: Option<String>,
        starttls: bool,
    },
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data", &self.data)
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("key_file", &self.key_file)
            .field(
                "passphrase",
                &self.passphrase.as_ref().map(|_| "[redacted]"),
            )
            .field("tls", &self.tls)
            .field(
                "metrics_key",
                &self.metrics_key.as_ref().map(|_| "[redacted]"),
            )
            .field("mail_from", &self.mail_from)
            .finish()
    }
}

/// A database URL without its password.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..s], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A file holding one secret; a trailing newline is not part of it.
fn read_secret(path: &Path) -> std::io::Result<String> {
    Ok(std::fs::read_to_string(path)?
        .trim_end_matches(['\n', '\r'])
        .to_string())
}

/// `VOW_X`, or the contents of the file named by `VOW_X_FILE`.
fn env_secret(name: &str) -> Result<Option<String>> {
    if let Some(v) = env(name) {
        return Ok(Some(v));
    }
    match env(&format!("{name}_FILE")) {
        Some(path) => {
            Ok(Some(read_secret(Path::new(&path)).with_context(|| {
                format!("reading {name}_FILE ({path})")
            })?))
        }
        None => Ok(None),
    }
}

/// `VOW_X`, else the file named by `VOW_X_FILE`, else the file that the TOML `key` names.
fn secret(name: &str, key: &str, file: Option<&Path>) -> Result<Option<String>> {
    if let Some(v) = env_secret(name)? {
        return Ok(Some(v));
    }
    file.map(|p| read_secret(p).with_context(|| format!("reading {key} {}", p.display())))
        .transpose()
}

impl Config {
    pub fn load(
        args: &StoreArgs,
        hooks: &WebhookArgs,
        listen_flag: Option<&str>,
    ) -> Result<Config> {
        let file_path = args
            .config
            .clone()
            .or_else(|| env("VOW_CONFIG").map(PathBuf::from));
        let file = match &file_path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading the configuration file {}", p.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
            }
            None => FileConfig::default(),
        };
        let data = args
            .data
            .clone()
            .or_else(|| env("VOW_DATA").map(PathBuf::from))
            .or(file.data)
            .unwrap_or_else(|| PathBuf::from("vow-data"));
        let database_url = match args.database_url.clone() {
            Some(u) => Some(u),
            None => env_secret("VOW_DATABASE_URL")?.or(file.database_url),
        };
        let database_url = database_url.unwrap_or_else(|| sqlite_url(&data.join("vow.db")));
        let listen = listen_flag
            .map(str::to_string)
            .or_else(|| env("VOW_LISTEN"))
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let key_file = env("VOW_KEY_FILE")
            .map(PathBuf::from)
            .or(file.key_file)
            .unwrap_or_else(|| data.join("root.key"));
        let erasure_ledger = env("VOW_ERASURE_LEDGER")
            .map(PathBuf::from)
            .or(file.erasure_ledger.clone())
            .unwrap_or_else(|| data.join("erasure-ledger.jsonl"));
        let passphrase = secret(
            "VOW_PASSPHRASE",
            "passphrase_file",
            file.passphrase_file.as_deref(),
        )?;
        let cert = env("VOW_TLS_CERT").map(PathBuf::from).or(file.tls_cert);
        let key = env("VOW_TLS_KEY").map(PathBuf::from).or(file.tls_key);
        let tls = match (cert, key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => bail!("TLS needs both a certificate and a key (tls_cert and tls_key)"),
        };
        let smtp_password = secret(
            "VOW_SMTP_PASSWORD",
            "smtp_password_file",
            file.smtp_password_file.as_deref(),
        )?;
        let mail = match env("VOW_SMTP_HOST").or(file.smtp_host) {
            Some(host) => Mail::Smtp {
                host,
                port: match env("VOW_SMTP_PORT") {
                    Some(p) => p
                        .parse()
                        .with_context(|| format!("VOW_SMTP_PORT {p:?} is not a port number"))?,
                    None => file.smtp_port.unwrap_or(587),
                },
                username: env("VOW_SMTP_USERNAME").or(file.smtp_username),
                password: smtp_password,
                starttls: file.smtp_starttls.unwrap_or(true),
            },
            None => Mail::Files(
                env("VOW_MAIL_DIR")
                    .map(PathBuf::from)
                    .or(file.mail_dir)
                    .unwrap_or_else(|| data.join("mail")),
            ),
        };
        let public_url = env("VOW_PUBLIC_URL")
            .or(file.public_url)
            .unwrap_or_else(|| {
                format!(
                    "{}://{listen}",
                    if tls.is_some() { "https" } else { "http" }
                )
            });
        let audit = AuditConfig::load(
            file.audit_checkpoint_every,
            file.audit_checkpoint_interval,
            file.audit_witness_file,
            file.audit_witness_url,
            &data,
        )?;
        let webhooks = WebhookConfig::load(file.webhooks.as_ref(), hooks)?;
        let retention_interval = match env("VOW_RETENTION_INTERVAL").or(file.retention_interval) {
            Some(i) => parse_interval(&i).map_err(|e| anyhow::anyhow!("retention_interval {e}"))?,
            None => Duration::from_secs(24 * 3600),
        };
        let default = vow_engine::requests::IntakeLimits::default();
        let intake = vow_engine::requests::IntakeLimits {
            backdate_window: match env("VOW_RECEIVED_AT_WINDOW").or(file.received_at_window) {
                Some(i) => {
                    parse_interval(&i).map_err(|e| anyhow::anyhow!("received_at_window {e}"))?
                }
                None => default.backdate_window,
            },
            future_skew: match env("VOW_RECEIVED_AT_SKEW").or(file.received_at_skew) {
                Some(i) => {
                    parse_interval(&i).map_err(|e| anyhow::anyhow!("received_at_skew {e}"))?
                }
                None => default.future_skew,
            },
        };
        let metrics_key = secret(
            "VOW_METRICS_KEY",
            "metrics_key_file",
            file.metrics_key_file.as_deref(),
        )?;
        if metrics_key.as_deref().is_some_and(|k| k.trim().is_empty()) {
            bail!("the metrics key is empty");
        }
        let sqlite_connection_dirs = match env("VOW_SQLITE_CONNECTION_DIRS") {
            Some(v) => sqlite_dirs(
                v.split(':').filter(|d| !d.is_empty()).map(PathBuf::from),
                "VOW_SQLITE_CONNECTION_DIRS",
            )?,
            None => Vec::new(),
        };
        Ok(Config {
            sqlite_connection_dirs,
            connections: ConnectionConfig::load(file.connections.as_ref())?,
            metrics_key,
            webhooks,
            retention_interval,
            intake,
            erasure_ledger,
            audit,
            rules_dir: env("VOW_RULES_DIR").map(PathBuf::from).or(file.rules_dir),
            public_url,
            mail_from: env("VOW_MAIL_FROM")
                .or(file.mail_from)
                .unwrap_or_else(|| "privacy@localhost".to_string()),
            mail,
            data,
            database_url,
            listen,
            key_file,
            passphrase,
            tls,
            log_format: env("VOW_LOG_FORMAT")
                .or(file.log_format)
                .unwrap_or_else(|| "json".to_string()),
            log_level: env("VOW_LOG")
                .or(file.log_level)
                .unwrap_or_else(|| "info".to_string()),
        })
    }
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_interval("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_interval("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_interval("15min"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_interval("1w"), Ok(Duration::from_secs(604_800)));
        for bad in ["", "h", "10", "0h", "1mo", "-1h", "30m"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_witness_inside_the_data_directory_is_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        assert!(inside(&data, &data.join("witness.jsonl")));
        assert!(inside(&data, &data.join("sub/not-yet/witness.jsonl")));
        assert!(inside(&data, &dir.path().join("data/../data/w.jsonl")));
        assert!(!inside(&data, &dir.path().join("witness.jsonl")));
        assert!(!inside(&data, &dir.path().join("data2/witness.jsonl")));
        // A link that leads back into the data directory is inside it.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&data, &link).unwrap();
        assert!(inside(&data, &link.join("witness.jsonl")));
    }

    #[test]
    fn connection_limits_from_the_file_with_their_defaults() {
        assert_eq!(
            ConnectionConfig::load(None).unwrap(),
            ConnectionConfig::default()
        );
        let file = ConnectionsFile {
            max: Some(200),
            header_timeout: Some("2s".into()),
            idle_timeout: Some("5min".into()),
            ..ConnectionsFile::default()
        };
        let c = ConnectionConfig::load(Some(&file)).unwrap();
        assert_eq!((c.max, c.health_reserve, c.per_address), (200, 16, 64));
        assert_eq!(
            (c.header_timeout, c.idle_timeout),
            (Duration::from_secs(2), Duration::from_secs(300))
        );
        for bad in [
            ConnectionsFile {
                header_timeout: Some("10".into()),
                ..ConnectionsFile::default()
            },
            ConnectionsFile {
                max: Some(0),
                ..ConnectionsFile::default()
            },
        ] {
            assert!(ConnectionConfig::load(Some(&bad)).is_err(), "{bad:?}");
        }
        let text = "[connections]\nmax = 10\nper_address = 2\nidle_timeout = \"90s\"\n";
        let parsed: FileConfig = toml::from_str(text).unwrap();
        let c = ConnectionConfig::load(parsed.connections.as_ref()).unwrap();
        assert_eq!((c.max, c.per_address), (10, 2));
        assert!(toml::from_str::<FileConfig>("[connections]\nmaximum = 1\n").is_err());
    }
}
