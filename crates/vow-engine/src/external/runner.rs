//! The runner: claims due connector jobs with a lease and runs them, the requests of
//! one dataset together (one walk, one query per collection for all of them), then
//! fulfils each request whose last job has finished.

use super::datasets::plan_for;
use super::jobs::{
    ACCESS, BATCH, ERASURE, JobData, JobsReport, LEASE_MS, found_json, open_data, rows_in,
    seal_data, targeted,
};
use crate::error::{EngineError, Result};
use crate::requests::record::load;
use crate::{Actor, Engine};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use vow_connect::{Action, Changes, CollectionChanges, Db, Plan};
use vow_core::role::Capability;
use vow_core::{Policy, RequestState, TenantId};
use vow_crypto::Key32;
use vow_store::JobRow;

/// A claimed job with its request's key and its data.
struct Work {
    job: JobRow,
    key: Key32,
    data: JobData,
    /// Set when the job failed or its lease was lost: nothing more is done with it.
    over: bool,
}

impl Engine {
    /// A name for this process's runner, unique enough that two servers never share
    /// one: leases are held in it.
    pub fn runner_name(&self) -> String {
        static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        NAME.get_or_init(|| {
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "vow".into());
            format!(
                "{host}:{}:{}",
                std::process::id(),
                uuid::Uuid::now_v7().simple()
            )
        })
        .clone()
    }

    /// Run the tenant's due connector jobs, as `owner` (a name unique to this runner:
    /// leases are held in its name). Returns what was done.
    pub async fn run_connector_jobs(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        owner: &str,
    ) -> Result<JobsReport> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut report = JobsReport::default();
        (report.failed, report.requests_completed) =
            self.expire_waiting_jobs(actor, tenant).await?;
        loop {
            let now = self.now_ms();
            let mut tx = self.store.write().await?;
            let jobs = tx
                .claim_jobs(Some(tenant), owner, now, now + LEASE_MS, BATCH)
                .await?;
            tx.commit().await?;
            let claimed = jobs.len();
            if claimed == 0 {
                break;
            }
            report.claimed += claimed;
            let mut groups: BTreeMap<(String, String), Vec<JobRow>> = BTreeMap::new();
            let mut touched = BTreeSet::new();
            for j in jobs {
                touched.insert(j.request_id.clone());
                groups
                    .entry((j.dataset.clone(), j.kind.clone()))
                    .or_default()
                    .push(j);
            }
            for ((dataset, kind), group) in groups {
                let (done, failed) = self
                    .run_group(actor, tenant, owner, &dataset, &kind, group)
                    .await?;
                report.done += done;
                report.failed += failed;
            }
            for request in touched {
                if self.complete_after_jobs(actor, tenant, &request).await? {
                    report.requests_completed += 1;
                }
            }
            if (claimed as i64) < BATCH {
                break;
            }
        }
        Ok(report)
    }

    /// Fulfil a request whose jobs have all finished; false if some still run or it
    /// was fulfilled already.
    pub(super) async fn complete_after_jobs(
        &self,
        actor: &Actor,
        tenant: &str,
        request: &str,
    ) -> Result<bool> {
        let mut tx = self.store.read().await?;
        let r = load(&mut tx, tenant, request).await?;
        let jobs = tx.request_jobs(tenant, request).await?;
        drop(tx);
        if r.state != RequestState::InProgress.as_str() || jobs.iter().any(super::jobs::unfinished)
        {
            return Ok(false);
        }
        let t = TenantId::new(tenant)
            .map_err(|_| EngineError::Internal("a stored tenant id is malformed".into()))?;
        let view = self.fulfil_request(actor, &t, request).await?;
        Ok(view.state != RequestState::InProgress.as_str())
    }

    /// Run one dataset's jobs of one kind; returns (done, failed).
    async fn run_group(
        &self,
        actor: &Actor,
        tenant: &str,
        owner: &str,
        dataset: &str,
        kind: &str,
        jobs: Vec<JobRow>,
    ) -> Result<(usize, usize)> {
        if let Some(n) = self
            .run_http_group(actor, tenant, owner, dataset, &jobs)
            .await?
        {
            return Ok(n);
        }
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let row = tx.dataset(tenant, dataset).await?;
        let mut work = Vec::with_capacity(jobs.len());
        for job in jobs {
            let r = load(&mut tx, tenant, &job.request_id).await?;
            let key = self.request_key(&keys, tenant, &r)?;
            let data = open_data(&key, &job)?;
            work.push(Work {
                job,
                key,
                data,
                over: false,
            });
        }
        drop(tx);
        let reached = match row {
            None => Err("the dataset is no longer registered".to_string()),
            Some(row) => match self.open_connection(tenant, &row.connection_id).await {
                Err(e) => Err(e.to_string()),
                Ok((_, db)) => match db.schema().await {
                    Err(e) => Err(EngineError::connector(&row.connection_id, e).to_string()),
                    Ok(schema) => match plan_for(&row, &schema) {
                        Ok(plan) => Ok((db, plan)),
                        Err(d) => Err(format!(
                            "the dataset no longer matches its database: {}",
                            d.iter()
                                .filter(|d| d.is_error())
                                .map(|d| d.message.clone())
                                .collect::<Vec<_>>()
                                .join("; ")
                        )),
                    },
                },
            },
        };
        let (db, plan) = match reached {
            Ok(x) => x,
            Err(why) => {
                for w in &mut work {
                    self.fail(actor, tenant, owner, w, &why).await?;
                }
                return Ok((0, work.len()));
            }
        };
        if kind == ACCESS {
            self.run_access(actor, tenant, owner, &db, &plan, &mut work)
                .await?;
        } else {
            self.run_changes(actor, tenant, owner, &db, &plan, &policy, kind, &mut work)
                .await?;
        }
        let failed = work.iter().filter(|w| w.job.state == "failed").count();
        let done = work.iter().filter(|w| w.job.state == "done").count();
        Ok((done, failed))
    }

    async fn run_access(
        &self,
        actor: &Actor,
        tenant: &str,
        owner: &str,
        db: &Db,
        plan: &Plan,
        work: &mut [Work],
    ) -> Result<()> {
        let people: Vec<_> = work.iter().map(|w| w.data.identities.clone()).collect();
        let found = match vow_connect::access(db, plan, &people).await {
            Ok(f) => f,
            Err(e) => {
                for w in work.iter_mut() {
                    self.fail(actor, tenant, owner, w, &e.message).await?;
                }
                return Ok(());
            }
        };
        // One transaction records the whole batch: findings sealed per job, rows per
        // collection, and one audit entry per request (counts only).
        let now = self.now_ms();
        let mut tx = self.store.write().await?;
        let mut entries = Vec::new();
        let mut finished = Vec::new();
        for (i, (w, found)) in work.iter_mut().zip(found).enumerate() {
            w.data.found = Some(found_json(&found));
            let sealed = seal_data(&w.key, &w.job, &w.data)?;
            let counts = rows_in(&found);
            if !tx.set_job_sealed(&w.job.id, owner, &sealed, now).await? {
                w.over = true;
                continue;
            }
            for (c, n) in &counts {
                tx.step_done(&w.job.id, c, *n, now).await?;
            }
            tx.finish_job(&w.job.id, owner, "done", None, now).await?;
            entries.push(self.audit_entry(
                actor,
                Some(tenant),
                "connector.access",
                None,
                None,
                json!({"request": w.job.request_id, "dataset": w.job.dataset,
                       "collections": counts.iter().map(|(c, n)| json!({"collection": c, "rows": n})).collect::<Vec<_>>()}),
            ));
            finished.push(i);
        }
        self.chain.append(&mut tx, &entries).await?;
        tx.commit().await?;
        for i in finished {
            work[i].job.state = "done".into();
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_changes(
        &self,
        actor: &Actor,
        tenant: &str,
        owner: &str,
        db: &Db,
        plan: &Plan,
        policy: &Policy,
        kind: &str,
        work: &mut [Work],
    ) -> Result<()> {
        // 1. Plan what is not planned yet, for all the people at once.
        let unplanned: Vec<usize> = (0..work.len())
            .filter(|i| work[*i].data.changes.is_none())
            .collect();
        if !unplanned.is_empty() {
            let people: Vec<_> = unplanned
                .iter()
                .map(|i| work[*i].data.identities.clone())
                .collect();
            match vow_connect::access(db, plan, &people).await {
                Err(e) => {
                    for i in &unplanned {
                        self.fail(actor, tenant, owner, &mut work[*i], &e.message)
                            .await?;
                    }
                }
                Ok(found) => {
                    let mut sealed = Vec::new();
                    for (i, found) in unplanned.iter().zip(found) {
                        let w = &mut work[*i];
                        let changes = if kind == ERASURE {
                            let secret = w.key.derive(b"vow:v1:connector-mask");
                            vow_connect::erasure(
                                plan,
                                &found,
                                &|c| targeted(policy, &w.data.held, c),
                                secret.expose(),
                            )
                        } else {
                            let corrections = w.data.corrections.clone();
                            vow_connect::correction(plan, &found, &|c| corrections.get(c).cloned())
                        };
                        match changes {
                            Err(e) => self.fail(actor, tenant, owner, w, &e.message).await?,
                            Ok(changes) => {
                                w.data.changes = Some(changes);
                                sealed.push((*i, seal_data(&w.key, &w.job, &w.data)?));
                            }
                        }
                    }
                    // The plans are kept before anything is applied: a resumed job
                    // applies the same changes, never a fresh (smaller) walk's.
                    let now = self.now_ms();
                    let mut tx = self.store.write().await?;
                    for (i, blob) in &sealed {
                        if !tx
                            .set_job_sealed(&work[*i].job.id, owner, blob, now)
                            .await?
                        {
                            work[*i].over = true;
                        }
                    }
                    tx.commit().await?;
                }
            }
        }
        // 2. Apply, collection by collection, for the whole batch at once: each
        //    collection's changes of every job that has not done it yet, merged into
        //    one transaction, then recorded as done for each of those jobs.
        let action = if kind == ERASURE {
            "connector.erase"
        } else {
            "connector.correct"
        };
        let mut done: Vec<BTreeSet<String>> = Vec::with_capacity(work.len());
        {
            let mut tx = self.store.read().await?;
            for w in work.iter() {
                done.push(
                    tx.job_steps(&w.job.id)
                        .await?
                        .into_iter()
                        .map(|(c, _, _)| c)
                        .collect(),
                );
            }
        }
        let planned: Vec<Changes> = work
            .iter()
            .filter(|w| !w.over)
            .filter_map(|w| w.data.changes.clone())
            .collect();
        let order: Vec<String> = vow_connect::merge(plan, &planned)
            .collections
            .into_iter()
            .map(|c| c.collection)
            .fold(Vec::new(), |mut v, c| {
                if !v.contains(&c) {
                    v.push(c);
                }
                v
            });
        for collection in &order {
            // The jobs with changes here still to make, and each one's own changes.
            let mut part: Vec<(usize, Changes, i64)> = Vec::new();
            for (i, w) in work.iter().enumerate() {
                if w.over || done[i].contains(collection) {
                    continue;
                }
                let mine: Vec<CollectionChanges> = w
                    .data
                    .changes
                    .iter()
                    .flat_map(|c| &c.collections)
                    .filter(|c| &c.collection == collection)
                    .cloned()
                    .collect();
                if mine.is_empty() {
                    continue;
                }
                let rows = mine.iter().map(planned_rows).sum();
                part.push((i, Changes { collections: mine }, rows));
            }
            if part.is_empty() {
                continue;
            }
            let ids: Vec<String> = part
                .iter()
                .map(|(i, _, _)| work[*i].job.id.clone())
                .collect();
            let mut tx = self.store.write().await?;
            let until = self.now_ms() + LEASE_MS;
            let mut held = Vec::new();
            for (k, id) in ids.iter().enumerate() {
                if tx
                    .renew_jobs(std::slice::from_ref(id), owner, until)
                    .await?
                    == 1
                {
                    held.push(k);
                }
            }
            tx.commit().await?;
            // A job whose lease was lost belongs to another runner now.
            for (k, (i, _, _)) in part.iter().enumerate() {
                if !held.contains(&k) {
                    work[*i].over = true;
                }
            }
            let part: Vec<(usize, Changes, i64)> = part
                .into_iter()
                .enumerate()
                .filter(|(k, _)| held.contains(k))
                .map(|(_, p)| p)
                .collect();
            let merged = vow_connect::merge(
                plan,
                &part.iter().map(|(_, c, _)| c.clone()).collect::<Vec<_>>(),
            );
            let mut failed = None;
            for cc in &merged.collections {
                if let Err(e) = vow_connect::apply(db, plan, cc).await {
                    failed = Some(e.message);
                    break;
                }
            }
            if let Some(why) = failed {
                for (i, _, _) in &part {
                    self.fail(actor, tenant, owner, &mut work[*i], &why).await?;
                }
                continue;
            }
            let now = self.now_ms();
            let mut tx = self.store.write().await?;
            for (i, _, rows) in &part {
                tx.step_done(&work[*i].job.id, collection, *rows, now)
                    .await?;
            }
            let entry = self.audit_entry(
                actor,
                Some(tenant),
                action,
                None,
                None,
                json!({"dataset": work.first().map(|w| w.job.dataset.clone()), "collection": collection,
                       "requests": part.iter().map(|(i, _, rows)| json!({"request": work[*i].job.request_id, "rows": rows})).collect::<Vec<_>>()}),
            );
            self.chain.append(&mut tx, &[entry]).await?;
            tx.commit().await?;
        }
        let now = self.now_ms();
        let mut tx = self.store.write().await?;
        for w in work.iter_mut() {
            if w.over || w.data.changes.is_none() {
                continue;
            }
            if tx.finish_job(&w.job.id, owner, "done", None, now).await? {
                w.job.state = "done".into();
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Finish a job as failed, with a reason that carries no value.
    async fn fail(
        &self,
        actor: &Actor,
        tenant: &str,
        owner: &str,
        w: &mut Work,
        why: &str,
    ) -> Result<()> {
        w.over = true;
        let mut tx = self.store.write().await?;
        if tx
            .finish_job(&w.job.id, owner, "failed", Some(why), self.now_ms())
            .await?
        {
            w.job.state = "failed".into();
            let entry = self.audit_entry(
                actor,
                Some(tenant),
                "connector.failed",
                None,
                None,
                json!({"request": w.job.request_id, "dataset": w.job.dataset, "kind": w.job.kind, "error": why}),
            );
            self.chain.append(&mut tx, &[entry]).await?;
        }
        tx.commit().await?;
        tracing::warn!(dataset = %w.job.dataset, kind = %w.job.kind, error = why, "connector job failed");
        Ok(())
    }
}

/// The rows a collection's planned changes touch.
fn planned_rows(c: &CollectionChanges) -> i64 {
    let n = match &c.action {
        Action::Update { rows } => rows.len(),
        Action::Delete { keys } => keys.len(),
    };
    i64::try_from(n).unwrap_or(i64::MAX)
}
