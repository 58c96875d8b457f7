//! The [`Engine`] every workflow hangs off, the [`Actor`] doing each step, where the
//! root key comes from, and the helpers every domain shares (authorisation, audit
//! entries, stored times). It depends on no domain module: the domains depend on it.

use crate::error::{EngineError, Result};
use crate::mail;
use crate::vault::audit::{AuditWriter, Chain};
use crate::vault::keyring::Keyring;
use jiff::Timestamp;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use vow_core::role::Capability;
use vow_core::{Caller, Clock, Policy, Role, TenantId};
use vow_crypto::Key32;
use vow_store::{NewAudit, Store};

/// Where the root key comes from.
#[derive(Clone)]
pub enum KeySource {
    /// A key file, created with mode 0600 on first start.
    File(PathBuf),
    /// A passphrase, stretched with Argon2id; the salt is kept in the store.
    Passphrase(String),
    /// A key given directly (tests, benchmarks).
    Key(Arc<Key32>),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::File(p) => write!(f, "File({p:?})"),
            KeySource::Passphrase(_) => f.write_str("Passphrase([redacted])"),
            KeySource::Key(_) => f.write_str("Key([redacted])"),
        }
    }
}

/// Who is acting: an API key's caller and its tenant scope, or the local operator
/// at the command line (who holds the root key and so may do anything).
#[derive(Debug, Clone)]
pub struct Actor {
    pub caller: Caller,
    /// The tenant an API key belongs to; None for a global admin key.
    pub tenant: Option<TenantId>,
    pub(crate) local: bool,
    /// When the key stops working; None: never. Keys it creates expire no later.
    pub(crate) expires_at: Option<Timestamp>,
}

impl Actor {
    /// The command line: the person running it holds the root key.
    pub fn local(name: &str) -> Actor {
        Actor {
            caller: Caller {
                key_id: format!("local:{name}"),
                role: Role::Operator,
                purposes: None,
            },
            tenant: None,
            local: true,
            expires_at: None,
        }
    }

    pub fn key(caller: Caller, tenant: Option<TenantId>) -> Actor {
        Actor {
            caller,
            tenant,
            local: false,
            expires_at: None,
        }
    }

    /// The command line, or an admin key not bound to a tenant.
    pub fn is_global_admin(&self) -> bool {
        self.local || (self.tenant.is_none() && self.caller.role == Role::Admin)
    }

    pub fn id(&self) -> &str {
        &self.caller.key_id
    }

    /// The caller as the decision function sees it; the local operator acts as an operator.
    pub fn as_caller(&self) -> &Caller {
        &self.caller
    }
}

pub struct Engine {
    pub(crate) store: Store,
    pub(crate) keys: Keyring,
    clock: Arc<dyn Clock>,
    pub(crate) audit: AuditWriter,
    /// The chain's signing key: every append signs the new head with it.
    pub(crate) chain: Arc<Chain>,
    pub(crate) policies: RwLock<HashMap<String, CachedPolicy>>,
    /// The public notice pages' content, per tenant and version (`vault::notice_cache`).
    pub(crate) notices: crate::vault::notice_cache::NoticeCache,
    /// How many security events each source may still record this minute.
    pub(crate) security: crate::security::limit::Limiter,
    /// How many console sign-ins each address may still try this minute.
    pub(crate) sign_ins: crate::security::limit::Limiter,
    /// The request portal's limits: form posts and code checks per client address,
    /// requests per identifier (each a minute).
    pub(crate) portal_addresses: crate::security::limit::Limiter,
    pub(crate) portal_identifiers: crate::security::limit::Limiter,
    /// How often the pages' link-mailing forms may be used, per address and identifier.
    pub(crate) form_limits: crate::security::limit::FormLimits,
    /// The legal rule packs and holiday calendars deadlines are computed from.
    pub(crate) rules: vow_policy::rules::RuleBook,
    mailer: RwLock<Option<mail::Mailer>>,
    /// Where people reach this server (links in notices).
    public_url: RwLock<String>,
    /// Which internal addresses outbound webhooks may reach (none by default).
    pub(crate) webhook_net: RwLock<vow_core::webhook::NetAllow>,
    /// How long a delivery claim holds an event, in milliseconds (`set_webhook_lease`).
    pub(crate) webhook_lease_ms: std::sync::atomic::AtomicI64,
    /// How far back and ahead a request's `received_at` may lie.
    pub(crate) intake: RwLock<IntakeLimits>,
    /// Where erasures are recorded apart from the store (`requests::erasure_ledger`).
    pub(crate) erasure_ledger: RwLock<Option<std::path::PathBuf>>,
    /// Open pools on the organisation's own databases (`external`).
    pub(crate) pools: crate::external::Pools,
    /// Where SQLite connections may not and may point (`set_data_dir`,
    /// `set_sqlite_connection_dirs`).
    pub(crate) sqlite_fence: RwLock<crate::external::fence::SqliteFence>,
    /// The HTTP client outbound posts go through (`set_outbound`); none by default.
    pub(crate) outbound: RwLock<Option<Arc<dyn crate::external::Outbound>>>,
    /// Whether the missing outbound client was logged already.
    pub(crate) outbound_warned: std::sync::atomic::AtomicBool,
}

#[derive(Clone)]
pub(crate) struct CachedPolicy {
    pub(crate) policy: Arc<Policy>,
    pub(crate) version: i64,
    pub(crate) loaded: Instant,
}

/// How long a cached policy or tenant key is trusted before it is re-read. Several
/// servers may share one database; a change elsewhere is seen within this time. API
/// keys are not cached: each request reads its key's row, so a revocation made on one
/// server is refused by every server from the next request.
pub(crate) const CACHE_TTL: Duration = Duration::from_secs(2);

impl Engine {
    /// Open the store at `database_url`, obtain the root key and start the audit writer.
    /// Returns the engine and whether a key file was created.
    pub async fn open(
        database_url: &str,
        key: KeySource,
        clock: Arc<dyn Clock>,
    ) -> Result<(Arc<Engine>, bool)> {
        Self::open_with_rules(database_url, key, clock, vow_policy::rules::builtin()).await
    }

    /// As [`Engine::open`], with the legal rule packs given (e.g. the built-ins plus an
    /// operator's own directory, from `vow_policy::rules::load_dir`).
    pub async fn open_with_rules(
        database_url: &str,
        key: KeySource,
        clock: Arc<dyn Clock>,
        rules: vow_policy::rules::RuleBook,
    ) -> Result<(Arc<Engine>, bool)> {
        let store = Store::open(database_url).await?;
        let (root, created) = match key {
            KeySource::File(path) => vow_crypto::load_or_create_key_file(&path)?,
            KeySource::Key(k) => ((*k).clone(), false),
            KeySource::Passphrase(p) => {
                let mut tx = store.write().await?;
                let salt: [u8; 16] = match tx.meta("passphrase_salt").await? {
                    Some(s) => s.try_into().map_err(|_| {
                        EngineError::Internal("stored passphrase salt is malformed".into())
                    })?,
                    None => {
                        let s = vow_crypto::random_bytes::<16>()?;
                        tx.put_meta("passphrase_salt", &s).await?;
                        s
                    }
                };
                tx.commit().await?;
                (vow_crypto::key_from_passphrase(p.as_bytes(), &salt)?, false)
            }
        };
        let chain = Arc::new(Chain::new(vow_crypto::AuditKey::derive(&root)));
        let keys = Keyring::new(root, CACHE_TTL);
        let mut tx = store.write().await?;
        keys.check_root(&mut tx).await?;
        chain.adopt(&mut tx).await?;
        tx.commit().await?;
        let (audit, _task) = AuditWriter::start(store.clone(), chain.clone());
        Ok((
            Arc::new(Engine {
                store,
                keys,
                clock,
                audit,
                chain,
                policies: RwLock::new(HashMap::new()),
                notices: crate::vault::notice_cache::NoticeCache::new(CACHE_TTL),
                security: Default::default(),
                sign_ins: crate::security::limit::Limiter::sign_ins(),
                portal_addresses: crate::security::limit::Limiter::new(
                    crate::security::limit::PORTAL_PER_ADDRESS,
                    crate::security::limit::PORTAL_SOURCES,
                ),
                portal_identifiers: crate::security::limit::Limiter::new(
                    crate::security::limit::PORTAL_PER_IDENTIFIER,
                    crate::security::limit::PORTAL_SOURCES,
                ),
                form_limits: Default::default(),
                rules,
                mailer: RwLock::new(None),
                public_url: RwLock::new("http://127.0.0.1:8080".to_string()),
                webhook_net: RwLock::new(Default::default()),
                webhook_lease_ms: std::sync::atomic::AtomicI64::new(vow_core::webhook::LEASE_MS),
                intake: RwLock::new(Default::default()),
                erasure_ledger: RwLock::new(None),
                pools: Default::default(),
                sqlite_fence: RwLock::new(crate::external::fence::SqliteFence::new(
                    vow_store::sqlite_file(database_url),
                )),
                outbound: RwLock::new(None),
                outbound_warned: Default::default(),
            }),
            created,
        ))
    }

    /// Send notices through this mailer (a file transport or SMTP). Without one,
    /// notices are still rendered and kept with the request, but not sent.
    pub fn set_mailer(&self, mailer: mail::Mailer) {
        if let Ok(mut m) = self.mailer.write() {
            *m = Some(mailer);
        }
    }

    /// The base URL people use to reach this server, for links in notices.
    pub fn set_public_url(&self, url: &str) {
        if let Ok(mut u) = self.public_url.write() {
            *u = url.trim_end_matches('/').to_string();
        }
    }

    /// Vow's data directory (root key, mail, the SQLite store by default): no SQLite
    /// connection may open a file in it.
    pub fn set_data_dir(&self, dir: &std::path::Path) {
        if let Ok(mut f) = self.sqlite_fence.write() {
            f.data_dir = Some(dir.to_path_buf());
        }
    }

    /// The only directories SQLite connections may open files in (`vow serve
    /// --sqlite-connection-dir`); none given: anywhere outside Vow's own files.
    pub fn set_sqlite_connection_dirs(&self, dirs: Vec<std::path::PathBuf>) {
        if let Ok(mut f) = self.sqlite_fence.write() {
            f.allowed = dirs;
        }
    }

    pub(crate) fn public_url(&self) -> String {
        self.public_url
            .read()
            .map(|u| u.clone())
            .unwrap_or_default()
    }

    pub(crate) fn mailer(&self) -> Option<mail::Mailer> {
        self.mailer.read().ok().and_then(|m| m.clone())
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Today's date in UTC, as policies write dates.
    pub(crate) fn today(&self) -> String {
        self.clock
            .now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .to_string()
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now().as_millisecond()
    }

    /// Check that `actor` may act in `tenant` at all. A key of another tenant gets
    /// "not found", so it cannot even learn that the tenant exists.
    pub(crate) fn scope(&self, actor: &Actor, tenant: &str) -> Result<()> {
        if actor.local {
            return Ok(());
        }
        match &actor.tenant {
            Some(t) if t.as_str() != tenant => Err(EngineError::NotFound("tenant")),
            None if actor.caller.role != Role::Admin => Err(EngineError::NotFound("tenant")),
            _ => Ok(()),
        }
    }

    /// Check that `actor` may do `cap` in `tenant` ([`Engine::scope`], then the role).
    pub(crate) fn authorize(&self, actor: &Actor, cap: Capability, tenant: &str) -> Result<()> {
        if actor.local {
            return Ok(());
        }
        self.scope(actor, tenant)?;
        if !actor.caller.role.may(cap) {
            return Err(EngineError::Forbidden(format!(
                "a key with role {} may not do this ({cap:?})",
                actor.caller.role
            )));
        }
        Ok(())
    }

    pub(crate) fn audit_entry(
        &self,
        actor: &Actor,
        tenant: Option<&str>,
        action: &str,
        subject: Option<&str>,
        purpose: Option<&str>,
        detail: serde_json::Value,
    ) -> NewAudit {
        NewAudit {
            at: self.now_ms(),
            tenant_id: tenant.map(str::to_string),
            actor: actor.id().to_string(),
            action: action.to_string(),
            subject_id: subject.map(str::to_string),
            purpose: purpose.map(str::to_string),
            detail: detail.to_string(),
        }
    }

    /// Whether the store answers: for the server's readiness check. Needs no actor:
    /// it reads nothing and says only "ok" or "unavailable".
    pub async fn check_store(&self) -> Result<()> {
        self.store.ping().await?;
        Ok(())
    }

    /// Wait until every audit entry queued so far is committed.
    pub async fn flush_audit(&self) {
        // An empty record round-trips the writer: everything queued before it is committed.
        let _ = self.audit.record(Vec::new()).await;
    }

    /// Wait for pending audit commits and close the database.
    pub async fn shutdown(&self) {
        self.flush_audit().await;
        self.store.close().await;
    }
}

/// Unix milliseconds as RFC 3339 (empty if out of range: stored times never are).
pub(crate) fn ts(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(vow_core::wire::time)
        .unwrap_or_default()
}

/// Unix milliseconds as a time (the epoch if out of range: stored times never are).
pub(crate) fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(crate) fn parse_time(pointer: &str, text: &str) -> Result<Timestamp> {
    text.parse::<Timestamp>().map_err(|_| {
        EngineError::invalid(
            pointer,
            "expected an RFC 3339 time with an offset, e.g. 2026-11-20T15:04:00Z",
        )
    })
}

/// Read back a name Vow stored (a role, a state) as its enum. A name Vow does not
/// write is an internal error, never a row silently skipped or misread.
pub(crate) fn stored<T>(
    what: &'static str,
    text: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T> {
    parse(text)
        .ok_or_else(|| EngineError::Internal(format!("a stored {what} is not one Vow writes")))
}

/// The subject row is live (not erased).
pub(crate) fn is_active(row: &vow_store::SubjectRow) -> Result<bool> {
    Ok(stored(
        "subject status",
        &row.status,
        vow_core::SubjectStatus::parse,
    )? == vow_core::SubjectStatus::Active)
}

/// What a stored tenant is to its data.
pub(crate) fn tenant_role(row: &vow_store::TenantRow) -> Result<vow_core::TenantRole> {
    stored("tenant role", &row.role, vow_core::TenantRole::parse)
}

/// How far from now a request's `received_at` may lie, set by the operator
/// (`received_at_window`, `received_at_skew` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeLimits {
    /// How far back `received_at` may go without `backdated: true`.
    pub backdate_window: std::time::Duration,
    /// How far ahead of this server's clock `received_at` may be (the sender's clock
    /// may run fast); such a time is filed as now.
    pub future_skew: std::time::Duration,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            backdate_window: std::time::Duration::from_secs(30 * 86_400),
            future_skew: std::time::Duration::from_secs(5 * 60),
        }
    }
}
