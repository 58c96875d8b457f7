//! Systems Vow cannot query (issue 11): a connection of kind `http` names a URL; Vow
//! posts each of a request's jobs there, signed as its webhooks are (Standard
//! Webhooks, with the connection's own secret), and the system answers later by
//! posting its results, signed with the same secret, to the job's callback.
//!
//! The job is `pending` until the system accepts it (2xx), then `waiting` until it
//! answers or `respond_by` passes. A refused or unreachable post is tried again on
//! the webhooks' schedule (`vow_core::webhook::next_attempt`), up to their horizon.
//! What the system found is kept in the job's sealed data in the shape a database
//! walk produces, so the access package and the request's outcome read it unchanged.

use super::jobs::{ACCESS, CORRECTION, ERASURE, JobView, LEASE_MS, open_data, seal_data};
use super::outbound::{Outbound, OutboundPost};
use super::secrets::{KIND, open_secret, open_url, secret_aad};
use crate::engine::ts;
use crate::error::{EngineError, FieldError, Result};
use crate::requests::record::load;
use crate::{Actor, Engine};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use vow_core::webhook::{HORIZON_MS, NetAllow, next_attempt};
use vow_core::{Pii, TenantId};
use vow_crypto::{WebhookSecret, seal};
use vow_store::{ConnectionRow, DatasetRow, JobRow};

/// How long a system has to answer a job it accepted.
pub const RESPOND_DAYS: i64 = 30;
/// How far a callback's `webhook-timestamp` may be from the engine's clock.
pub const TOLERANCE_SECS: i64 = 5 * 60;
/// The longest error text a system may send.
pub const MAX_ERROR_CHARS: usize = 500;

/// The URL as shown: its query (which may carry a token) replaced by `***`.
fn redacted(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.query().is_some() {
        shown.set_query(Some("***"));
    }
    shown.set_fragment(None);
    shown.to_string()
}

/// The code a connection test reports when this process has no outbound client.
pub const NO_OUTBOUND: &str = "no_outbound";
/// Without an outbound client, claimed jobs are put back for this long.
const NO_OUTBOUND_RETRY_MS: i64 = 60_000;

/// One signed POST through the installed outbound client; the status, or an error
/// class (never the URL or a body).
async fn post_signed(
    outbound: &dyn Outbound,
    allow: NetAllow,
    url: &url::Url,
    secret: &WebhookSecret,
    id: &str,
    body: &[u8],
) -> std::result::Result<u16, &'static str> {
    // The signing time is the wall clock's, as for webhooks: receivers compare it
    // with theirs.
    let timestamp = jiff::Timestamp::now().as_second();
    let headers = [
        ("content-type", "application/json".to_string()),
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", secret.sign(id, timestamp, body)),
        (
            "user-agent",
            concat!("vow-connector/", env!("CARGO_PKG_VERSION")).to_string(),
        ),
    ];
    outbound
        .post(OutboundPost {
            url: url.as_str(),
            headers: &headers,
            body,
            allow,
        })
        .await
}

impl Engine {
    /// Make outbound HTTP requests (the `http` connector's posts) through `outbound`.
    /// Without one, `http` jobs stay pending and connection tests answer `no_outbound`.
    pub fn set_outbound(&self, outbound: Arc<dyn Outbound>) {
        if let Ok(mut o) = self.outbound.write() {
            *o = Some(outbound);
        }
    }

    /// The installed outbound client, if any.
    pub fn outbound(&self) -> Option<Arc<dyn Outbound>> {
        self.outbound.read().ok().and_then(|o| o.clone())
    }
}

/// What a dataset's manifest declares: collection → field → its categories, and the
/// identity names it is sent.
struct Declared {
    collections: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// The collections in the manifest's order.
    order: Vec<String>,
    identities: BTreeSet<String>,
}

fn declared(row: &DatasetRow) -> Result<Declared> {
    let file = format!("{}.yml", row.fides_key);
    let checked = vow_connect::check(&row.manifest, &file, None).map_err(EngineError::Dataset)?;
    let mut out = Declared {
        collections: BTreeMap::new(),
        order: Vec::new(),
        identities: BTreeSet::new(),
    };
    for d in checked
        .manifest
        .dataset
        .iter()
        .filter(|d| d.fides_key.value == row.fides_key)
    {
        for c in &d.collections {
            let mut fields = BTreeMap::new();
            for f in &c.fields {
                fields.insert(
                    f.name.value.clone(),
                    f.data_categories.iter().map(|c| c.value.clone()).collect(),
                );
                if let Some(id) = f.meta().and_then(|m| m.identity.as_ref()) {
                    out.identities.insert(id.value.clone());
                }
            }
            out.order.push(c.name.value.clone());
            out.collections.insert(c.name.value.clone(), fields);
        }
    }
    Ok(out)
}

/// A JSON pointer segment.
fn seg(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// A row a system found: (field, value) pairs.
type Row = Vec<(String, Json)>;

/// A validated answer.
enum Answer {
    /// Access: collection → rows of (field, value).
    Found(Vec<(String, Vec<Row>)>),
    /// Erasure, correction: collection → rows changed.
    Changed(Vec<(String, i64)>),
    Failed(String),
}

fn check_answer(body: &[u8], kind: &str, decl: &Declared) -> Result<Answer> {
    let bad = |p: String, why: &str| EngineError::InvalidResult(vec![FieldError::new(p, why)]);
    let v: Json = serde_json::from_slice(body).map_err(|_| bad(String::new(), "not JSON"))?;
    let Json::Object(o) = v else {
        return Err(bad(String::new(), "an object with `status`"));
    };
    let mut errors = Vec::new();
    let status = o.get("status").and_then(Json::as_str).unwrap_or_default();
    let data_key = if kind == ACCESS { "found" } else { "changed" };
    let allowed: &[&str] = match status {
        "done" => &["status", data_key],
        "failed" => &["status", "error"],
        _ => {
            return Err(bad(
                "/status".into(),
                "`done` (with results) or `failed` (with an `error`)",
            ));
        }
    };
    for k in o.keys() {
        if !allowed.contains(&k.as_str()) {
            errors.push(FieldError::new(
                format!("/{}", seg(k)),
                format!("not part of a `{status}` answer to an {kind} job"),
            ));
        }
    }
    if status == "failed" {
        let text = o.get("error").and_then(Json::as_str);
        match text {
            Some(t) if !t.trim().is_empty() && t.chars().count() <= MAX_ERROR_CHARS => {
                if errors.is_empty() {
                    return Ok(Answer::Failed(t.trim().to_string()));
                }
            }
            _ => errors.push(FieldError::new(
                "/error",
                format!("a text of 1 to {MAX_ERROR_CHARS} characters saying why"),
            )),
        }
        return Err(EngineError::InvalidResult(errors));
    }
    let Some(Json::Object(data)) = o.get(data_key) else {
        errors.push(FieldError::new(
            format!("/{data_key}"),
            "an object keyed by collection",
        ));
        return Err(EngineError::InvalidResult(errors));
    };
    let mut found = Vec::new();
    let mut changed = Vec::new();
    for (c, rows) in data {
        let at = format!("/{data_key}/{}", seg(c));
        let Some(fields) = decl.collections.get(c) else {
            errors.push(FieldError::new(
                at,
                format!("the dataset declares no collection `{c}`"),
            ));
            continue;
        };
        if kind != ACCESS {
            match rows.as_i64() {
                Some(n) if n >= 0 => changed.push((c.clone(), n)),
                _ => errors.push(FieldError::new(
                    at,
                    "the number of rows changed (0 or more)",
                )),
            }
            continue;
        }
        let Json::Array(rows) = rows else {
            errors.push(FieldError::new(at, "a list of rows"));
            continue;
        };
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let Json::Object(row) = row else {
                errors.push(FieldError::new(format!("{at}/{i}"), "a row: field → value"));
                continue;
            };
            let mut values = Vec::with_capacity(row.len());
            for (f, value) in row {
                if fields.contains_key(f) {
                    values.push((f.clone(), value.clone()));
                } else {
                    errors.push(FieldError::new(
                        format!("{at}/{i}/{}", seg(f)),
                        format!("the collection `{c}` declares no field `{f}`"),
                    ));
                }
            }
            out.push(values);
        }
        found.push((c.clone(), out));
    }
    if !errors.is_empty() {
        return Err(EngineError::InvalidResult(errors));
    }
    Ok(if kind == ACCESS {
        Answer::Found(found)
    } else {
        Answer::Changed(changed)
    })
}

/// The headers of a signed callback.
pub struct Signed<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

impl Engine {
    /// Add or replace an `http` connection (see [`Engine::put_connection`]).
    pub(super) async fn put_http_connection(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        url: &Pii<String>,
        max_concurrency: Option<u32>,
        rotate_secret: bool,
    ) -> Result<super::ConnectionView> {
        use super::connections::{check_id, concurrency};
        use vow_core::role::Capability;
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageConnections, tenant)?;
        let mut errors = Vec::new();
        if let Err(e) = check_id(id) {
            errors.push(FieldError::new("/id", e));
        }
        let parsed =
            crate::obligations::webhooks::check_url(url.expose().trim(), self.webhook_net())
                .map_err(|e| errors.push(FieldError::new("/url", e)))
                .ok();
        let limit = concurrency(max_concurrency, &mut errors);
        let (true, Some(parsed)) = (errors.is_empty(), parsed) else {
            return Err(EngineError::Invalid(errors));
        };
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let now = self.now_ms();
        let existing = tx.connection(tenant, id).await?;
        // A re-registration keeps its secret unless asked to rotate it.
        let kept = match &existing {
            Some(c) if c.kind == KIND && c.secret_sealed.is_some() && !rotate_secret => {
                Some(open_secret(&keys, tenant, c)?)
            }
            _ => None,
        };
        let generated = kept.is_none();
        let secret = match kept {
            Some(s) => s,
            None => WebhookSecret::generate()?,
        };
        let row = ConnectionRow {
            tenant_id: tenant.to_string(),
            id: id.to_string(),
            kind: KIND.to_string(),
            redacted: redacted(&parsed),
            kek_version: keys.current,
            url_sealed: seal(
                keys.current_kek()?,
                parsed.as_str().as_bytes(),
                &super::secrets::url_aad(tenant, id, keys.current),
            )?,
            max_concurrency: i64::from(limit),
            created_at: existing.as_ref().map_or(now, |c| c.created_at),
            updated_at: existing.as_ref().map_or(now, |c| now.max(c.updated_at + 1)),
            secret_sealed: Some(seal(
                keys.current_kek()?,
                secret.expose(),
                &secret_aad(tenant, id, keys.current),
            )?),
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
            json!({"connection": id, "kind": KIND, "url": row.redacted, "max_concurrency": limit,
                   "secret": if generated { "generated" } else { "kept" }}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        let datasets = super::connections::datasets_of(&mut tx, tenant, id).await?;
        tx.commit().await?;
        self.pools.forget(tenant, id);
        let mut view = super::connections::view(&row, datasets);
        view.secret = generated.then(|| Pii::new(secret.to_text().to_string()));
        Ok(view)
    }

    /// Test an `http` connection: a signed `{"type":"vow.ping"}`; reachable is a 2xx.
    pub(super) async fn test_http_connection(
        &self,
        actor: &Actor,
        tenant: &str,
        row: ConnectionRow,
    ) -> Result<super::ConnectionCheck> {
        let (url, secret) = {
            let mut tx = self.store.read().await?;
            let keys = self.keys.tenant(&mut tx, tenant).await?;
            (
                open_url(&keys, tenant, &row)?,
                open_secret(&keys, tenant, &row)?,
            )
        };
        let body = serde_json::to_vec(&json!({"type": "vow.ping"}))
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let ping_id = format!("ping_{}", uuid::Uuid::now_v7().simple());
        let outcome = match self.outbound() {
            Some(o) => post_signed(&*o, self.webhook_net(), &url, &secret, &ping_id, &body).await,
            None => Err(NO_OUTBOUND),
        };
        let error = match outcome {
            Ok(status) if (200..300).contains(&status) => None,
            Ok(status) => Some(super::ConnectorFailure {
                code: "http_status".into(),
                message: format!("the system answered HTTP {status}"),
            }),
            Err(NO_OUTBOUND) => Some(super::ConnectorFailure {
                code: NO_OUTBOUND.into(),
                message: "this process has no outbound HTTP client: test from `vow serve` or the `vow connection test` command".into(),
            }),
            Err(class) => Some(super::ConnectorFailure {
                code: class.into(),
                message: "the system could not be reached".into(),
            }),
        };
        let mut tx = self.store.write().await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "connection.test",
            None,
            None,
            json!({"connection": row.id, "reachable": error.is_none(),
                   "error": error.as_ref().map(|e| e.code.clone())}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        let mut datasets = Vec::new();
        for d in tx.datasets(tenant).await? {
            if d.connection_id == row.id {
                // No live schema to compare with: the manifest is what the system declares.
                datasets.push(super::DatasetDrift {
                    fides_key: d.fides_key,
                    ok: true,
                    diagnostics: Vec::new(),
                });
            }
        }
        tx.commit().await?;
        Ok(super::ConnectionCheck {
            id: row.id,
            kind: row.kind,
            reachable: error.is_none(),
            error,
            server_version: None,
            tables: 0,
            datasets,
        })
    }

    /// The runner's hook: when the group's dataset is on an `http` connection, post
    /// each claimed job to it instead of walking a database. None otherwise.
    /// Returns (done, failed); a job the system accepted is neither (it waits).
    pub(super) async fn run_http_group(
        &self,
        actor: &Actor,
        tenant: &str,
        owner: &str,
        dataset: &str,
        jobs: &[JobRow],
    ) -> Result<Option<(usize, usize)>> {
        let mut tx = self.store.read().await?;
        let Some(ds) = tx.dataset(tenant, dataset).await? else {
            return Ok(None);
        };
        let Some(conn) = tx
            .connection(tenant, &ds.connection_id)
            .await?
            .filter(|c| c.kind == KIND)
        else {
            return Ok(None);
        };
        let Some(outbound) = self.outbound() else {
            drop(tx);
            if !self.outbound_warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    connection = %conn.id,
                    "http connector jobs stay pending: this process has no outbound HTTP client (`vow serve` has one)"
                );
            }
            let at = self.now_ms();
            let mut tx = self.store.write().await?;
            for job in jobs {
                tx.release_job(&job.id, owner, at + NO_OUTBOUND_RETRY_MS, at)
                    .await?;
            }
            tx.commit().await?;
            return Ok(Some((0, 0)));
        };
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let url = open_url(&keys, tenant, &conn)?;
        let secret = open_secret(&keys, tenant, &conn)?;
        let decl = declared(&ds)?;
        let mut work = Vec::with_capacity(jobs.len());
        for job in jobs {
            let r = load(&mut tx, tenant, &job.request_id).await?;
            let key = self.request_key(&keys, tenant, &r)?;
            let data = open_data(&key, job)?;
            work.push((job.clone(), data));
        }
        drop(tx);
        let allow = self.webhook_net();
        let (mut done, mut failed) = (0, 0);
        for (job, data) in work {
            let identities: BTreeMap<&String, &String> = data
                .identities
                .iter()
                .filter(|(k, _)| decl.identities.contains(*k))
                .collect();
            if identities.is_empty() {
                // Nothing the system could find the person by: nothing to ask.
                let mut tx = self.store.write().await?;
                if tx
                    .finish_job(&job.id, owner, "done", None, self.now_ms())
                    .await?
                {
                    done += 1;
                }
                tx.commit().await?;
                continue;
            }
            let now = self.now_ms();
            // Posts are sequential and each may take its whole timeout: hold the job
            // afresh before each, and leave it if another runner has taken it over.
            let mut tx = self.store.write().await?;
            let held = tx
                .renew_jobs(std::slice::from_ref(&job.id), owner, now + LEASE_MS)
                .await?;
            tx.commit().await?;
            if held == 0 {
                continue;
            }
            let respond_by = now + RESPOND_DAYS * 86_400_000;
            let mut message = json!({
                "type": "vow.connector_job",
                "job": job.id,
                "tenant": tenant,
                "request": job.request_id,
                "kind": job.kind,
                "dataset": job.dataset,
                "identities": identities,
                "callback": format!("{}/v1/tenants/{tenant}/connector-jobs/{}/result",
                                    self.public_url().trim_end_matches('/'), job.id),
                "respond_by": ts(respond_by),
            });
            if job.kind == CORRECTION {
                message["corrections"] = json!(data.corrections);
            }
            if job.kind == ERASURE {
                message["held_categories"] = json!(data.held);
            }
            let body = zeroize::Zeroizing::new(
                serde_json::to_vec(&message).map_err(|e| EngineError::Internal(e.to_string()))?,
            );
            drop(message);
            let outcome = post_signed(&*outbound, allow, &url, &secret, &job.id, &body).await;
            let status = outcome.as_ref().ok().copied();
            let accepted = status.is_some_and(|s| (200..300).contains(&s));
            let at = self.now_ms();
            let mut tx = self.store.write().await?;
            let mut entries = vec![self.audit_entry(
                actor,
                Some(tenant),
                "connector.http.sent",
                None,
                None,
                json!({"request": job.request_id, "job": job.id, "dataset": job.dataset,
                       "attempt": job.attempts, "status": status,
                       "error": outcome.err().map(|c| c.to_string()).or_else(|| (!accepted).then(|| "http_status".to_string()))}),
            )];
            if accepted {
                tx.set_job_waiting(&job.id, owner, respond_by, at).await?;
            } else {
                let random = u64::from_le_bytes(vow_crypto::random_bytes::<8>()?);
                let attempts = u32::try_from(job.attempts.max(1)).unwrap_or(u32::MAX);
                match next_attempt(at, attempts, job.created_at + HORIZON_MS, random) {
                    Some(next) => {
                        tx.release_job(&job.id, owner, next.max(at + 1), at).await?;
                    }
                    None => {
                        let why = format!(
                            "the http connection {} did not accept the job within {} days ({} attempts; last: {})",
                            conn.id,
                            HORIZON_MS / 86_400_000,
                            job.attempts,
                            match outcome {
                                Ok(s) => format!("HTTP {s}"),
                                Err(class) => class.to_string(),
                            }
                        );
                        if tx
                            .finish_job(&job.id, owner, "failed", Some(&why), at)
                            .await?
                        {
                            failed += 1;
                            entries.push(self.audit_entry(
                                actor,
                                Some(tenant),
                                "connector.failed",
                                None,
                                None,
                                json!({"request": job.request_id, "dataset": job.dataset, "kind": job.kind, "error": why}),
                            ));
                        }
                    }
                }
            }
            self.chain.append(&mut tx, &entries).await?;
            tx.commit().await?;
        }
        Ok(Some((done, failed)))
    }

    /// Fail the tenant's `waiting` jobs whose answer is overdue, and fulfil the
    /// requests whose last job that was. Returns (failed, requests completed).
    pub(super) async fn expire_waiting_jobs(
        &self,
        actor: &Actor,
        tenant: &str,
    ) -> Result<(usize, usize)> {
        let now = self.now_ms();
        let overdue = {
            let mut tx = self.store.read().await?;
            tx.overdue_waiting_jobs(tenant, now).await?
        };
        let mut failed = 0;
        let mut requests = BTreeSet::new();
        for job in overdue {
            let mut tx = self.store.write().await?;
            let due = tx.job_respond_by(&job.id).await?.unwrap_or(now);
            let why = format!(
                "the http connection {} sent no answer by {}",
                job.connection_id,
                ts(due)
            );
            if tx
                .finish_waiting_job(&job.id, "failed", Some(&why), None, now)
                .await?
            {
                failed += 1;
                let entry = self.audit_entry(
                    actor,
                    Some(tenant),
                    "connector.failed",
                    None,
                    None,
                    json!({"request": job.request_id, "dataset": job.dataset, "kind": job.kind, "error": why}),
                );
                self.chain.append(&mut tx, &[entry]).await?;
                requests.insert(job.request_id.clone());
            }
            tx.commit().await?;
        }
        let mut completed = 0;
        for r in requests {
            if self.complete_after_jobs(actor, tenant, &r).await? {
                completed += 1;
            }
        }
        Ok((failed, completed))
    }

    /// An http connection's signed answer to one of its jobs (see the module's
    /// documentation). Returns the job as it now stands.
    pub async fn connector_job_result(
        &self,
        tenant: &TenantId,
        job_id: &str,
        signed: Signed<'_>,
        body: &[u8],
    ) -> Result<JobView> {
        let tenant = tenant.as_str();
        let mut tx = self.store.write().await?;
        let not_found = EngineError::NotFound("connector job");
        let Some(job) = tx.job(tenant, job_id).await? else {
            return Err(not_found);
        };
        let Some(conn) = tx
            .connection(tenant, &job.connection_id)
            .await?
            .filter(|c| c.kind == KIND)
        else {
            return Err(not_found);
        };
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let secret = open_secret(&keys, tenant, &conn)?;
        let now = self.now_ms();
        check_signature(&secret, &job.id, &signed, body, now / 1000)?;
        if job.state != "waiting" {
            return Err(EngineError::Conflict(format!(
                "the job is {}, not waiting for an answer",
                job.state
            )));
        }
        let Some(ds) = tx.dataset(tenant, &job.dataset).await? else {
            return Err(EngineError::Conflict(
                "the job's dataset is no longer registered".into(),
            ));
        };
        let decl = declared(&ds)?;
        let answer = check_answer(body, &job.kind, &decl)?;
        let r = load(&mut tx, tenant, &job.request_id).await?;
        let key = self.request_key(&keys, tenant, &r)?;
        let mut data = open_data(&key, &job)?;
        let (state, error, counts) = match answer {
            Answer::Failed(text) => (
                "failed",
                Some(format!("the http connection {} reported: {text}", conn.id)),
                Vec::new(),
            ),
            Answer::Changed(changed) => ("done", None, changed),
            Answer::Found(found) => {
                let mut collections = Vec::new();
                let mut counts = Vec::new();
                // In the manifest's order, as a walk lists them.
                for c in &decl.order {
                    let Some((_, rows)) = found.iter().find(|(n, _)| n == c) else {
                        continue;
                    };
                    let fields = decl.collections.get(c);
                    let rows: Vec<Json> = rows
                        .iter()
                        .map(|row| {
                            json!(row
                                .iter()
                                .map(|(f, v)| json!({
                                    "field": f,
                                    "categories": fields.and_then(|x| x.get(f)).cloned().unwrap_or_default(),
                                    "value": v,
                                }))
                                .collect::<Vec<_>>())
                        })
                        .collect();
                    counts.push((c.clone(), rows.len() as i64));
                    collections.push(json!({"collection": c, "rows": rows}));
                }
                data.found = Some(Json::Array(collections));
                ("done", None, counts)
            }
        };
        let sealed = seal_data(&key, &job, &data)?;
        if !tx
            .finish_waiting_job(&job.id, state, error.as_deref(), Some(&sealed), now)
            .await?
        {
            return Err(EngineError::Conflict("the job was answered already".into()));
        }
        let steps: Vec<(&str, &str, i64)> = counts
            .iter()
            .map(|(c, n)| (job.id.as_str(), c.as_str(), *n))
            .collect();
        tx.steps_done(&steps, now).await?;
        let actor = Actor::local(&format!("connection:{}", conn.id));
        let entry = self.audit_entry(
            &actor,
            Some(tenant),
            "connector.http.result",
            None,
            None,
            json!({"request": job.request_id, "job": job.id, "dataset": job.dataset, "status": state,
                   "collections": counts.iter().map(|(c, n)| json!({"collection": c, "rows": n})).collect::<Vec<_>>()}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        self.complete_after_jobs(&actor, tenant, &job.request_id)
            .await?;
        let mut tx = self.store.read().await?;
        let j = tx
            .job(tenant, &job.id)
            .await?
            .ok_or(EngineError::NotFound("connector job"))?;
        let collections = tx
            .job_steps(&j.id)
            .await?
            .into_iter()
            .map(|(collection, rows, _)| super::CollectionResult { collection, rows })
            .collect();
        Ok(JobView {
            id: j.id,
            dataset: j.dataset,
            connection: j.connection_id,
            kind: j.kind,
            state: j.state,
            attempts: j.attempts,
            error: j.error,
            collections,
            created_at: ts(j.created_at),
            finished_at: j.finished_at.map(ts),
        })
    }
}

/// The Standard Webhooks checks of a callback: the id is the job's, the timestamp is
/// within [`TOLERANCE_SECS`] of `now_s`, and the signature is the secret's.
fn check_signature(
    secret: &WebhookSecret,
    job: &str,
    signed: &Signed<'_>,
    body: &[u8],
    now_s: i64,
) -> Result<()> {
    let bad = |why: &str| Err(EngineError::BadSignature(why.to_string()));
    let (Some(id), Some(timestamp), Some(signature)) =
        (signed.id, signed.timestamp, signed.signature)
    else {
        return bad(
            "sign the answer as Standard Webhooks do: webhook-id, webhook-timestamp and webhook-signature headers, with the connection's secret",
        );
    };
    if id != job {
        return bad("webhook-id must be the job's id");
    }
    let Ok(at) = timestamp.trim().parse::<i64>() else {
        return bad("webhook-timestamp must be Unix seconds");
    };
    if (now_s - at).abs() > TOLERANCE_SECS {
        return bad("webhook-timestamp is more than 5 minutes from the server's clock");
    }
    if !secret.verify(id, at, body, signature) {
        return bad("the webhook-signature is not the connection secret's signature of this body");
    }
    Ok(())
}
