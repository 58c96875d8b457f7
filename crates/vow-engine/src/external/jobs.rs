//! A request's work on the organisation's own databases, as jobs in the store.
//!
//! Fulfilling an access, erasure or correction request of a tenant with registered
//! datasets starts one job per dataset and leaves the request in progress. Runners
//! (`vow serve`'s loop, or `vow request run-connectors`) claim jobs with a lease,
//! many requests at once, and walk each dataset once for all of them. When every job
//! of a request has finished, the request is fulfilled as usual, with what the
//! connectors found or changed in its outcome (or partially fulfilled, naming the
//! collection that failed and why).
//!
//! An erasure first plans its changes (sealed under the request's key, in the job),
//! then applies them collection by collection, each in one transaction of the
//! external database, recording each collection when it is done. A runner killed at
//! any point leaves a job whose lease runs out; the next runner skips the collections
//! recorded and re-applies the planned changes of the one that was in flight, which
//! sets the same values again: nothing is masked twice and nothing is skipped.

use crate::engine::ts;
use crate::error::{EngineError, Result};
use crate::requests::record::{Details, load, request_aad};
use crate::vault::keyring::{TenantKeys, value_aad};
use crate::{Actor, Engine};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use vow_connect::{Changes, Found, Identities, Strategy};
use vow_core::role::Capability;
use vow_core::{Policy, RequestType, TenantId};
use vow_crypto::{Key32, open, seal};
use vow_store::{JobRow, Tx};

pub const ACCESS: &str = "access";
pub const ERASURE: &str = "erasure";
pub const CORRECTION: &str = "correction";
/// How long a claim holds a job before another runner may take it.
pub const LEASE_MS: i64 = 5 * 60 * 1000;
/// Jobs claimed at once: the requests of one dataset walk together.
pub const BATCH: i64 = 50;

/// Whether a job has still to finish: `pending` (to run or post) or `waiting` (an
/// `http` connection's system has it and will answer).
pub(super) fn unfinished(j: &JobRow) -> bool {
    matches!(j.state.as_str(), "pending" | "waiting")
}

/// The connector work a request type needs, if any.
pub(crate) fn job_kind(kind: RequestType) -> Option<&'static str> {
    match kind {
        RequestType::Access | RequestType::Portability | RequestType::Know => Some(ACCESS),
        RequestType::Delete => Some(ERASURE),
        RequestType::Correct => Some(CORRECTION),
        _ => None,
    }
}

/// What a job's sealed blob holds: the identities to start from, corrected values,
/// and then what it found (access) or will change (erasure, correction).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct JobData {
    pub(super) identities: Identities,
    #[serde(default)]
    pub(super) corrections: BTreeMap<String, String>,
    /// Categories under a live legal hold of the person when the job began (S7):
    /// an erasure leaves them as they are.
    #[serde(default)]
    pub(super) held: Vec<String>,
    #[serde(default)]
    pub(super) found: Option<Json>,
    #[serde(default)]
    pub(super) changes: Option<Changes>,
    /// An erasure: fingerprints of the targeted values its plan found (collection,
    /// field and value hashed), looked for again after the changes are applied.
    #[serde(default)]
    pub(super) before: BTreeMap<String, String>,
}

/// Fingerprint → collection, for every non-null value of a field with a targeted
/// category in what a walk found. A value masked, deleted or rewritten is no longer
/// found with the same fingerprint; one still in place is.
pub(super) fn targeted_values(
    found: &Found,
    is_targeted: &dyn Fn(&str) -> bool,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for c in &found.collections {
        for row in &c.rows {
            for f in &row.fields {
                if matches!(f.value, vow_connect::Value::Null)
                    || !f.categories.iter().any(|cat| is_targeted(cat))
                {
                    continue;
                }
                let text = format!(
                    "{}\u{0}{}\u{0}{}",
                    c.collection,
                    f.field,
                    value_json(&f.value)
                );
                out.insert(
                    hex::encode(vow_crypto::sha256(text.as_bytes())),
                    c.collection.clone(),
                );
            }
        }
    }
    out
}

fn job_aad(tenant: &str, request: &str, job: &str) -> Vec<u8> {
    request_aad(tenant, request, &format!("connector-job:{job}"))
}

pub(super) fn seal_data(key: &Key32, j: &JobRow, data: &JobData) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(data).map_err(|e| EngineError::Internal(e.to_string()))?;
    Ok(seal(
        key,
        &json,
        &job_aad(&j.tenant_id, &j.request_id, &j.id),
    )?)
}

pub(super) fn open_data(key: &Key32, j: &JobRow) -> Result<JobData> {
    let Some(sealed) = &j.sealed else {
        return Ok(JobData::default());
    };
    let plain = open(key, sealed, &job_aad(&j.tenant_id, &j.request_id, &j.id))?;
    serde_json::from_slice(&plain)
        .map_err(|_| EngineError::Internal("a connector job's data is unreadable".into()))
}

/// A job as shown: counts and states, never a value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    pub dataset: String,
    pub connection: String,
    /// `access`, `erasure` or `correction`.
    pub kind: String,
    /// `pending`, `waiting` (an `http` connection accepted it and will answer),
    /// `done` or `failed`.
    pub state: String,
    pub attempts: i64,
    /// Why it failed: the collection and the kind of failure, never a value.
    pub error: Option<String>,
    /// Per collection: rows found (access) or changed (erasure, correction).
    pub collections: Vec<CollectionResult>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CollectionResult {
    pub collection: String,
    pub rows: i64,
}

/// What one pass of the runner did.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct JobsReport {
    pub claimed: usize,
    pub done: usize,
    pub failed: usize,
    /// Requests fulfilled because their last job finished.
    pub requests_completed: usize,
    /// Their ids.
    pub fulfilled: Vec<String>,
}

/// Where fulfilment stands with a request's connector work.
pub(crate) enum Gate {
    /// The tenant has no datasets, or the request type needs none.
    NotNeeded,
    /// Jobs are running (or were just started): the request waits.
    Waiting(usize),
    /// Every job has finished.
    Finished(Vec<JobRow>),
}

/// What the connectors did for a finished request, for its outcome and package.
pub(crate) struct External {
    /// Per job: dataset, kind, state, error and per-collection rows.
    pub(crate) summary: Vec<Json>,
    /// Access jobs' findings: dataset → collections → rows of {field, categories, value}.
    pub(crate) found: Vec<Json>,
    /// `(dataset.collection or dataset, why)` for each failure.
    pub(crate) failures: Vec<(String, String)>,
}

impl External {
    /// Add the categories the connectors found to a package's summary (`[{code,
    /// means, sensitive}]`), each explained by the policy, each once.
    pub(crate) fn explain_categories(&self, policy: &Policy, summary: &mut Json) {
        let mut codes: std::collections::BTreeSet<String> = summary
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["code"].as_str().map(str::to_string))
            .collect();
        let mut found = std::collections::BTreeSet::new();
        for d in &self.found {
            for c in d["collections"].as_array().into_iter().flatten() {
                for row in c["rows"].as_array().into_iter().flatten() {
                    for f in row.as_array().into_iter().flatten() {
                        for cat in f["categories"].as_array().into_iter().flatten() {
                            if let Some(cat) = cat.as_str()
                                && cat.starts_with("user")
                            {
                                found.insert(cat.to_string());
                            }
                        }
                    }
                }
            }
        }
        let Some(list) = summary.as_array_mut() else {
            return;
        };
        for cat in found {
            if codes.insert(cat.clone()) {
                list.push(
                    policy
                        .categories
                        .iter()
                        .find(|d| d.id.as_str() == cat)
                        .map(|d| json!({"code": cat, "means": d.description, "sensitive": d.sensitive}))
                        .unwrap_or_else(|| json!({"code": cat})),
                );
            }
        }
    }

    /// Whether any connector found a row of the person.
    pub(crate) fn found_any(&self) -> bool {
        self.summary.iter().any(|s| {
            s["collections"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["rows"].as_i64().unwrap_or(0) > 0))
        })
    }
}

/// A correction's values by category, as text.
pub(super) fn corrections_of(d: &Details) -> BTreeMap<String, String> {
    d.request
        .corrections
        .iter()
        .map(|c| {
            let v = match c.value.expose() {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            (c.category.clone(), v)
        })
        .collect()
}

/// The people's identities as fideslang names them.
pub(super) fn identities_of(d: &Details, from_vault: &BTreeMap<String, String>) -> Identities {
    let mut out = Identities::new();
    let ids = [&d.request.identifiers, &d.more];
    for i in ids {
        if let Some(e) = &i.email {
            out.insert("email".into(), e.expose().clone());
        }
        if let Some(p) = &i.phone {
            out.insert("phone_number".into(), p.expose().clone());
        }
        if let Some(x) = &i.external_id {
            out.insert("external_id".into(), x.expose().clone());
        }
    }
    // What the vault holds for the person wins: it is what verification matched.
    for (k, v) in from_vault {
        out.insert(k.clone(), v.clone());
    }
    out
}

pub(super) fn found_json(found: &Found) -> Json {
    json!(
        found
            .collections
            .iter()
            .map(|c| json!({
                "collection": c.collection,
                "rows": c.rows.iter().map(|r| r.fields.iter().map(|f| json!({
                    "field": f.field, "categories": f.categories, "value": value_json(&f.value),
                })).collect::<Vec<_>>()).collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>()
    )
}

/// A value as plain JSON, for the person's package.
fn value_json(v: &vow_connect::Value) -> Json {
    use vow_connect::Value as V;
    match v {
        V::Null => Json::Null,
        V::Bool(b) => json!(b),
        V::Int(i) => json!(i),
        V::Float(f) => json!(f),
        V::Text(s) | V::Date(s) | V::Time(s) | V::Timestamp(s) => json!(s),
        V::Json(j) => j.clone(),
        V::Bytes(b) => json!(hex::encode(b)),
    }
}

pub(super) fn rows_in(found: &Found) -> Vec<(String, i64)> {
    found
        .collections
        .iter()
        .map(|c| (c.collection.clone(), c.rows.len() as i64))
        .collect()
}

/// The strategy the policy names for a category (the nearest enclosing definition),
/// or NULL rewriting. Every `user.…` category is erased; `system.…` ones are not
/// about people.
pub(super) fn targeted(policy: &Policy, held: &[String], category: &str) -> Option<Strategy> {
    if !category.starts_with("user.") && category != "user" {
        return None;
    }
    if held
        .iter()
        .any(|h| category == h || category.starts_with(&format!("{h}.")))
    {
        return None;
    }
    let cat = vow_core::Category::new(category).ok()?;
    let masking = policy
        .categories
        .iter()
        .filter(|d| cat.is_within(&d.id))
        .max_by_key(|d| d.id.as_str().len())
        .and_then(|d| d.masking);
    Some(Strategy {
        name: masking
            .map_or("null_rewrite", vow_core::policy::Masking::as_str)
            .to_string(),
        configuration: None,
    })
}

impl Engine {
    /// Inside fulfilment: start the request's connector jobs if it needs them and has
    /// none yet, say whether it must wait, or hand over the finished jobs.
    pub(crate) async fn connector_gate(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        r: &vow_store::RequestRow,
        d: &Details,
        keys: &TenantKeys,
        key: &Key32,
    ) -> Result<Gate> {
        let Some(kind) = RequestType::parse(&r.kind).and_then(job_kind) else {
            return Ok(Gate::NotNeeded);
        };
        let tenant = r.tenant_id.as_str();
        let datasets = tx.datasets(tenant).await?;
        if datasets.is_empty() {
            return Ok(Gate::NotNeeded);
        }
        let jobs = tx.request_jobs(tenant, &r.id).await?;
        if !jobs.is_empty() {
            let pending = jobs.iter().filter(|j| unfinished(j)).count();
            return Ok(if pending > 0 {
                Gate::Waiting(pending)
            } else {
                Gate::Finished(jobs)
            });
        }
        let vault = match &r.subject_id {
            Some(subject) => self.vault_identities(tx, keys, tenant, subject).await?,
            None => BTreeMap::new(),
        };
        let held = match &r.subject_id {
            Some(subject) => self.held_categories(tx, tenant, subject).await?,
            None => Vec::new(),
        };
        let data = JobData {
            identities: identities_of(d, &vault),
            corrections: corrections_of(d),
            held,
            ..JobData::default()
        };
        let now = self.now_ms();
        let mut started = Vec::new();
        for ds in &datasets {
            let mut job = JobRow {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: tenant.to_string(),
                request_id: r.id.clone(),
                dataset: ds.fides_key.clone(),
                connection_id: ds.connection_id.clone(),
                kind: kind.to_string(),
                state: "pending".into(),
                attempts: 0,
                lease_owner: None,
                lease_until: None,
                sealed: None,
                error: None,
                created_at: now,
                updated_at: now,
                finished_at: None,
            };
            job.sealed = Some(seal_data(key, &job, &data)?);
            if tx.insert_job(&job).await? {
                started.push(ds.fides_key.clone());
            }
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "connector.start",
            r.subject_id.as_deref(),
            None,
            json!({"request": r.id, "kind": kind, "datasets": started}),
        );
        self.chain.append(tx, &[entry]).await?;
        Ok(Gate::Waiting(started.len()))
    }

    /// The categories a live legal hold keeps for a person.
    pub(super) async fn held_categories(
        &self,
        tx: &mut Tx,
        tenant: &str,
        subject: &str,
    ) -> Result<Vec<String>> {
        let now = self.now_ms();
        let mut out = Vec::new();
        for h in tx.holds(tenant, subject).await? {
            if h.until > now {
                for c in crate::stored::categories("hold categories", &h.categories)? {
                    out.push(c.to_string());
                }
            }
        }
        Ok(out)
    }

    /// The identities the vault holds for a person, by fideslang name.
    pub(super) async fn vault_identities(
        &self,
        tx: &mut Tx,
        keys: &TenantKeys,
        tenant: &str,
        subject: &str,
    ) -> Result<BTreeMap<String, String>> {
        let (dek, _, _) = self.facts(tx, keys, tenant, subject).await?;
        let mut out = BTreeMap::new();
        for i in tx.identifiers(tenant, subject).await? {
            let plain = open(
                &dek,
                &i.value,
                &value_aad(tenant, subject, "identifier", &i.kind),
            )?;
            let name = match i.kind.as_str() {
                "phone" => "phone_number",
                other => other,
            };
            out.insert(
                name.to_string(),
                String::from_utf8_lossy(&plain).into_owned(),
            );
        }
        Ok(out)
    }

    /// What the finished jobs of a request did: summaries for its outcome, findings for
    /// its access package, failures for a partial fulfilment.
    pub(crate) async fn external_results(
        &self,
        tx: &mut Tx,
        key: &Key32,
        jobs: &[JobRow],
    ) -> Result<External> {
        let mut out = External {
            summary: Vec::new(),
            found: Vec::new(),
            failures: Vec::new(),
        };
        for j in jobs {
            let data = open_data(key, j)?;
            let collections: Vec<Json> = tx
                .job_steps(&j.id)
                .await?
                .iter()
                .map(|(c, n, _)| json!({"collection": c, "rows": n}))
                .collect();
            out.summary.push(
                json!({"dataset": j.dataset, "kind": j.kind, "state": j.state,
                                    "error": j.error, "collections": collections}),
            );
            if j.state == "failed" {
                out.failures.push((
                    j.dataset.clone(),
                    j.error.clone().unwrap_or_else(|| "failed".into()),
                ));
            }
            if let Some(found) = data.found {
                out.found
                    .push(json!({"dataset": j.dataset, "collections": found}));
            }
        }
        Ok(out)
    }

    /// A request's connector jobs with their per-collection results.
    pub async fn connector_jobs(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        request: &str,
    ) -> Result<Vec<JobView>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.read().await?;
        load(&mut tx, tenant, request).await?;
        let jobs = tx.request_jobs(tenant, request).await?;
        let mut out = Vec::new();
        for j in jobs {
            let collections = tx
                .job_steps(&j.id)
                .await?
                .into_iter()
                .map(|(collection, rows, _)| CollectionResult { collection, rows })
                .collect();
            out.push(JobView {
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
            });
        }
        Ok(out)
    }
}

impl Engine {
    /// Put a request's failed connector jobs back to run again (after the operator
    /// fixed what failed). An erasure or correction resumes where it stopped: the
    /// collections it finished are not touched again. Returns how many were put back.
    pub async fn retry_connector_jobs(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        request: &str,
    ) -> Result<usize> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.write().await?;
        load(&mut tx, tenant, request).await?;
        let now = self.now_ms();
        let mut retried = Vec::new();
        for j in tx.request_jobs(tenant, request).await? {
            if j.state == "failed" && tx.retry_job(tenant, &j.id, now).await? {
                retried.push(j.dataset);
            }
        }
        if retried.is_empty() {
            return Err(EngineError::Conflict(
                "the request has no failed connector job to retry".into(),
            ));
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "connector.retry",
            None,
            None,
            json!({"request": request, "datasets": retried}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        self.pools.wake();
        Ok(retried.len())
    }
}
