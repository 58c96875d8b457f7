//! Connections to the organisation's own databases. The URL, with its credentials, is
//! sealed under the tenant's KEK (re-sealed when the KEK rotates) and opened only to
//! connect; what is shown and audited is the URL with the password replaced.

use super::fence::SqliteFence;
use crate::engine::ts;
use crate::error::{EngineError, FieldError, Result};
use crate::vault::keyring::TenantKeys;
use crate::{Actor, Engine};
use serde::Serialize;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use utoipa::ToSchema;
use vow_connect::{ConnectError, Db, Target};
use vow_core::role::Capability;
use vow_core::{Pii, TenantId};
use vow_crypto::{open, seal};
use vow_store::{ConnectionRow, Tx};

/// Concurrent statements on one connection when none is given, and the most allowed.
pub const DEFAULT_CONCURRENCY: u32 = 4;
pub const MAX_CONCURRENCY: u32 = 64;

/// A connection as shown: never its password.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectionView {
    pub id: String,
    /// `postgres`, `mysql`, `sqlite`, or `http` (a system Vow posts each job to and
    /// that answers later, signed: docs/datasets.md).
    pub kind: String,
    /// The URL with its password (for `http`, its query) replaced by `***`.
    pub url: String,
    /// An `http` connection's signing secret (`whsec_…`), present only in the answer
    /// that generated it: when the connection was made, or with `rotate_secret`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub secret: Option<Pii<String>>,
    pub max_concurrency: u32,
    /// The datasets registered with it.
    pub datasets: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What a test of a connection found: whether the server answered (and if not, the
/// kind of failure), the tables it has, and whether each dataset registered with it
/// still matches its live schema.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectionCheck {
    pub id: String,
    pub kind: String,
    pub reachable: bool,
    /// Why it could not be reached or read: a code (`unreachable`, `auth`, `bad_url`,
    /// `query`, …) and a message that never carries a password or a value.
    pub error: Option<ConnectorFailure>,
    /// The database server's own version string.
    pub server_version: Option<String>,
    pub tables: usize,
    pub datasets: Vec<DatasetDrift>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectorFailure {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DatasetDrift {
    pub fides_key: String,
    /// True when the dataset still matches the live schema.
    pub ok: bool,
    /// What no longer matches, each with its manifest line.
    #[schema(value_type = Vec<Object>)]
    pub diagnostics: Vec<vow_policy::Diagnostic>,
}

/// A connection id: what the CLI and the API name it by.
pub(crate) fn check_id(id: &str) -> std::result::Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err("an id is 1 to 64 letters, digits, '_' and '-', starting with a letter or digit".into())
    }
}

/// A SQLite connection names a database file that exists: Vow reads and changes the
/// organisation's databases, it never makes one (nor a file anywhere it may write).
/// The file must also lie within the fence (`SqliteFence::check`).
fn existing_sqlite_file(t: &Target, fence: &SqliteFence) -> std::result::Result<(), String> {
    let Some((file, options)) = sqlite_path(t) else {
        return Ok(());
    };
    if options
        .split('&')
        .any(|o| o.eq_ignore_ascii_case("mode=rwc") || o.eq_ignore_ascii_case("mode=memory"))
    {
        return Err(
            "a SQLite connection opens an existing file: mode=rwc and mode=memory are not allowed"
                .into(),
        );
    }
    if !file.is_file() {
        return Err("no SQLite database file at this path on the server".into());
    }
    fence.check(file)
}

/// A SQLite target's file and its options; None for other kinds.
fn sqlite_path(t: &Target) -> Option<(&Path, &str)> {
    if t.kind() != vow_connect::Kind::Sqlite {
        return None;
    }
    let rest = t.url().trim_start_matches("sqlite://");
    let (file, options) = rest.split_once('?').unwrap_or((rest, ""));
    Some((Path::new(file), options))
}

/// A connection's concurrency limit: the one given (checked) or the default.
pub(super) fn concurrency(max: Option<u32>, errors: &mut Vec<FieldError>) -> u32 {
    let limit = max.unwrap_or(DEFAULT_CONCURRENCY);
    if !(1..=MAX_CONCURRENCY).contains(&limit) {
        errors.push(FieldError::new(
            "/max_concurrency",
            format!("from 1 to {MAX_CONCURRENCY} statements at once"),
        ));
    }
    limit
}

pub(super) fn view(row: &ConnectionRow, datasets: Vec<String>) -> ConnectionView {
    ConnectionView {
        id: row.id.clone(),
        kind: row.kind.clone(),
        url: row.redacted.clone(),
        secret: None,
        max_concurrency: u32::try_from(row.max_concurrency).unwrap_or(DEFAULT_CONCURRENCY),
        datasets,
        created_at: ts(row.created_at),
        updated_at: ts(row.updated_at),
    }
}

impl Engine {
    /// Add a connection, or replace its URL and limit. The URL is checked for shape
    /// (not reached: `test_connection` does that) and sealed under the tenant's KEK.
    /// An `http(s)` URL makes an `http` connection, with a signing secret generated
    /// when it is made (or `rotate_secret`) and shown in this answer only.
    pub async fn put_connection(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        url: &Pii<String>,
        max_concurrency: Option<u32>,
        rotate_secret: bool,
    ) -> Result<ConnectionView> {
        if super::secrets::is_http_url(url.expose()) {
            return self
                .put_http_connection(actor, tenant, id, url, max_concurrency, rotate_secret)
                .await;
        }
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageConnections, tenant)?;
        let mut errors = Vec::new();
        if let Err(e) = check_id(id) {
            errors.push(FieldError::new("/id", e));
        }
        let target = Target::parse(url.expose())
            .map_err(|e| errors.push(FieldError::new("/url", e.message)))
            .ok();
        if let Some(t) = &target
            && let Err(e) = self.fenced(|f| existing_sqlite_file(t, f))
        {
            errors.push(FieldError::new("/url", e));
        }
        let limit = concurrency(max_concurrency, &mut errors);
        let (true, Some(target)) = (errors.is_empty(), target) else {
            return Err(EngineError::Invalid(errors));
        };
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let now = self.now_ms();
        let existing = tx.connection(tenant, id).await?;
        let row = ConnectionRow {
            tenant_id: tenant.to_string(),
            id: id.to_string(),
            kind: target.kind().as_str().to_string(),
            redacted: target.redacted(),
            kek_version: keys.current,
            url_sealed: seal(
                keys.current_kek()?,
                target.url().as_bytes(),
                &super::secrets::url_aad(tenant, id, keys.current),
            )?,
            max_concurrency: i64::from(limit),
            created_at: existing.as_ref().map_or(now, |c| c.created_at),
            // Strictly later than before, so pools opened on the old URL are not reused.
            updated_at: existing.as_ref().map_or(now, |c| now.max(c.updated_at + 1)),
            secret_sealed: None,
        };
        tx.put_connection(&row).await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            if existing.is_some() {
                "connection.replace"
            } else {
                "connection.add"
            },
            None,
            None,
            json!({"connection": id, "kind": row.kind, "url": row.redacted, "max_concurrency": limit}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        let datasets = datasets_of(&mut tx, tenant, id).await?;
        tx.commit().await?;
        self.pools.forget(tenant, id);
        Ok(view(&row, datasets))
    }

    pub async fn connections(
        &self,
        actor: &Actor,
        tenant: &TenantId,
    ) -> Result<Vec<ConnectionView>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageConnections, tenant)?;
        let mut tx = self.store.read().await?;
        let rows = tx.connections(tenant).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(view(r, datasets_of(&mut tx, tenant, &r.id).await?));
        }
        Ok(out)
    }

    /// Reach the database: a round trip, its tables, and each registered dataset
    /// checked against them again (a column dropped since registration shows here).
    pub async fn test_connection(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<ConnectionCheck> {
        let tenant_s = tenant.as_str();
        self.authorize(actor, Capability::ManageConnections, tenant_s)?;
        let http = {
            let mut tx = self.store.read().await?;
            tx.connection(tenant_s, id).await?
        };
        if let Some(row) = http.filter(|r| r.kind == super::secrets::KIND) {
            return self.test_http_connection(actor, tenant_s, row).await;
        }
        let reached = match self.open_connection(tenant_s, id).await {
            Ok((row, db)) => match db.ping().await {
                Ok(info) => match db.schema().await {
                    Ok(schema) => Ok((row, info, schema)),
                    Err(e) => Err((row.kind, e.code, e.message)),
                },
                Err(e) => Err((row.kind, e.code, e.message)),
            },
            Err(EngineError::Connector { code, message, .. }) => {
                let mut tx = self.store.read().await?;
                let kind = tx
                    .connection(tenant_s, id)
                    .await?
                    .map(|c| c.kind)
                    .unwrap_or_default();
                Err((kind, code, message))
            }
            Err(e) => return Err(e),
        };
        let (row, info, schema) = match reached {
            Ok(x) => x,
            Err((kind, code, message)) => {
                let mut tx = self.store.write().await?;
                let entry = self.audit_entry(
                    actor,
                    Some(tenant_s),
                    "connection.test",
                    None,
                    None,
                    json!({"connection": id, "reachable": false, "error": code}),
                );
                self.chain.append(&mut tx, &[entry]).await?;
                tx.commit().await?;
                return Ok(ConnectionCheck {
                    id: id.to_string(),
                    kind,
                    reachable: false,
                    error: Some(ConnectorFailure {
                        code: code.to_string(),
                        message,
                    }),
                    server_version: None,
                    tables: 0,
                    datasets: Vec::new(),
                });
            }
        };
        let mut tx = self.store.write().await?;
        let mut datasets = Vec::new();
        for d in tx.datasets(tenant_s).await? {
            if d.connection_id != id {
                continue;
            }
            let diagnostics = match super::datasets::plan_for(&d, &schema) {
                Ok(_) => Vec::new(),
                Err(diagnostics) => diagnostics,
            };
            datasets.push(DatasetDrift {
                fides_key: d.fides_key,
                ok: !diagnostics.iter().any(vow_policy::Diagnostic::is_error),
                diagnostics,
            });
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant_s),
            "connection.test",
            None,
            None,
            json!({"connection": id, "reachable": true, "tables": schema.tables.len(),
                   "datasets_ok": datasets.iter().filter(|d| d.ok).count(),
                   "datasets_drifted": datasets.iter().filter(|d| !d.ok).count()}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(ConnectionCheck {
            id: id.to_string(),
            kind: row.kind,
            reachable: true,
            error: None,
            server_version: Some(info.version),
            tables: schema.tables.len(),
            datasets,
        })
    }

    /// The connection's row and an open pool on it (reused while it is unchanged).
    pub(crate) async fn open_connection(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<(ConnectionRow, Arc<Db>)> {
        let mut tx = self.store.read().await?;
        let row = tx
            .connection(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("connection"))?;
        if row.kind == super::secrets::KIND {
            return Err(EngineError::Connector {
                connection: id.to_string(),
                code: "not_queryable",
                message: "an http connection is not queried: its system answers each job itself"
                    .into(),
            });
        }
        if let Some(db) = self.pools.get(tenant, id, row.updated_at) {
            return Ok((row, db));
        }
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        drop(tx);
        let target = open_target(&keys, tenant, &row)?;
        // Checked again when opened: the fence may have narrowed since the connection
        // was put.
        if let Some((file, _)) = sqlite_path(&target) {
            self.fenced(|f| f.check(file))
                .map_err(|m| EngineError::connector(id, ConnectError::new("fenced", m)))?;
        }
        let limit = u32::try_from(row.max_concurrency).unwrap_or(DEFAULT_CONCURRENCY);
        let db = Arc::new(
            Db::open(&target, limit)
                .await
                .map_err(|e| EngineError::connector(id, e))?,
        );
        self.pools.put(tenant, id, row.updated_at, db.clone());
        Ok((row, db))
    }
}

impl Engine {
    fn fenced(
        &self,
        check: impl FnOnce(&SqliteFence) -> std::result::Result<(), String>,
    ) -> std::result::Result<(), String> {
        match self.sqlite_fence.read() {
            Ok(f) => check(&f),
            Err(_) => Err("the SQLite fence is unavailable".into()),
        }
    }
}

fn open_target(keys: &TenantKeys, tenant: &str, row: &ConnectionRow) -> Result<Target> {
    let kek = keys
        .keks
        .get(&row.kek_version)
        .ok_or(EngineError::Internal(
            "a connection refers to an unknown key version".into(),
        ))?;
    let plain = open(
        kek,
        &row.url_sealed,
        &super::secrets::url_aad(tenant, &row.id, row.kek_version),
    )?;
    let url = std::str::from_utf8(&plain)
        .map_err(|_| EngineError::Internal("a sealed connection URL is not UTF-8".into()))?;
    Target::parse(url).map_err(|e| EngineError::connector(&row.id, e))
}

pub(super) async fn datasets_of(
    tx: &mut Tx,
    tenant: &str,
    connection: &str,
) -> Result<Vec<String>> {
    Ok(tx
        .datasets(tenant)
        .await?
        .into_iter()
        .filter(|d| d.connection_id == connection)
        .map(|d| d.fides_key)
        .collect())
}

/// Re-seal every connection URL sealed under a KEK older than `to` (key rotation).
pub(crate) async fn reseal_urls(
    tx: &mut Tx,
    keys: &TenantKeys,
    tenant: &str,
    to: i64,
) -> Result<u64> {
    let below = tx.connections_below(tenant, to).await?;
    let kek = keys.current_kek()?;
    for c in &below {
        let old = keys.keks.get(&c.kek_version).ok_or(EngineError::Internal(
            "a connection refers to an unknown key version".into(),
        ))?;
        let plain = open(
            old,
            &c.url_sealed,
            &super::secrets::url_aad(tenant, &c.id, c.kek_version),
        )?;
        let sealed = seal(kek, &plain, &super::secrets::url_aad(tenant, &c.id, to))?;
        let secret = match &c.secret_sealed {
            Some(s) => Some(super::secrets::reseal_secret(old, kek, tenant, c, to, s)?),
            None => None,
        };
        tx.reseal_connection(tenant, &c.id, to, &sealed, secret.as_deref())
            .await?;
    }
    Ok(below.len() as u64)
}
