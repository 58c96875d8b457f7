//! The runner: claims due connector jobs with a lease and runs them, the requests of
//! one dataset together (one walk, one query per collection for all of them), then
//! fulfils each request whose last job has finished.

use super::datasets::plan_for;
use super::jobs::{
    ACCESS, BATCH, ERASURE, JobData, JobsReport, LEASE_MS, found_json, open_data, rows_in,
    seal_data, targeted, targeted_values,
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

    /// Resolves when this process started or put back connector jobs since the runner
    /// last looked, so that `vow serve` runs them at once instead of at its next tick.
    /// Jobs started by another server are found at the tick.
    pub async fn connector_jobs_due(&self) {
        self.pools.woken().await;
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
            let fulfilled = self.complete_requests(actor, tenant, &touched).await?;
            report.requests_completed += fulfilled.len();
            report.fulfilled.extend(fulfilled);
            if (claimed as i64) < BATCH {
                break;
            }
        }
        Ok(report)
    }

    /// Fulfil the requests of a batch whose jobs have all finished, in one store
    /// transaction (one commit, one append to the audit chain's head, where one per
    /// request cost more than the connector work itself). If that fails, each is
    /// tried on its own, so one request that cannot be fulfilled holds up no other.
    async fn complete_requests(
        &self,
        actor: &Actor,
        tenant: &str,
        requests: &BTreeSet<String>,
    ) -> Result<Vec<String>> {
        match self.complete_together(actor, tenant, requests).await {
            Ok(ids) => return Ok(ids),
            Err(e) => tracing::warn!(
                code = e.code(),
                "fulfilling a batch of requests together failed; fulfilling each on its own"
            ),
        }
        let mut completed = Vec::new();
        let mut first_error = None;
        for request in requests {
            match self.complete_after_jobs(actor, tenant, request).await {
                Ok(true) => completed.push(request.clone()),
                Ok(false) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(completed),
        }
    }

    async fn complete_together(
        &self,
        actor: &Actor,
        tenant: &str,
        requests: &BTreeSet<String>,
    ) -> Result<Vec<String>> {
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let mut done = Vec::new();
        let mut ids = Vec::new();
        let mut later = Vec::new();
        for id in requests {
            let mut r = load(&mut tx, tenant, id).await?;
            if r.state == RequestState::PartiallyFulfilled.as_str() {
                later.extend(self.finished_later(&mut tx, actor, &keys, &mut r).await?);
                continue;
            }
            if r.state != RequestState::InProgress.as_str() {
                continue;
            }
            if let Some(f) = self
                .fulfil_loaded(&mut tx, actor, &keys, &policy, &mut r)
                .await?
            {
                done.push(f);
                ids.push(id.clone());
            }
        }
        tx.commit().await?;
        self.after_fulfilment(tenant, done).await;
        self.mail(later).await;
        Ok(ids)
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
        let mut r = load(&mut tx, tenant, request).await?;
        let jobs = tx.request_jobs(tenant, request).await?;
        drop(tx);
        if r.state == RequestState::PartiallyFulfilled.as_str() {
            let mut tx = self.store.write().await?;
            let keys = self.keys.tenant(&mut tx, tenant).await?;
            let later = self.finished_later(&mut tx, actor, &keys, &mut r).await?;
            tx.commit().await?;
            self.mail(later).await;
            return Ok(false);
        }
        if r.state != RequestState::InProgress.as_str() || jobs.iter().any(super::jobs::unfinished)
        {
            return Ok(false);
        }
        let t = TenantId::new(tenant)
            .map_err(|_| EngineError::Internal("a stored tenant id is malformed".into()))?;
        let view = self.fulfil_request(actor, &t, request).await?;
        Ok(view.state != RequestState::InProgress.as_str())
    }

    /// A request partially fulfilled because a connector job failed, whose failed jobs
    /// were retried: once none is left running, its outcome says what the connectors
    /// did in the end, and an event records that the remaining systems were finished.
    /// Its state stays final (`partially_fulfilled` was what the person was told); when
    /// an erasure or correction is now complete the person is told so, after the commit
    /// (the notices to mail are returned).
    async fn finished_later(
        &self,
        tx: &mut vow_store::Tx,
        actor: &Actor,
        keys: &crate::vault::keyring::TenantKeys,
        r: &mut vow_store::RequestRow,
    ) -> Result<Vec<(String, String, crate::requests::notices::Rendered)>> {
        let jobs = tx.request_jobs(&r.tenant_id, &r.id).await?;
        if jobs.is_empty() || jobs.iter().any(super::jobs::unfinished) {
            return Ok(Vec::new());
        }
        let key = self.request_key(keys, &r.tenant_id, r)?;
        let x = self.external_results(tx, &key, &jobs).await?;
        let mut outcome: serde_json::Value = r
            .outcome
            .as_deref()
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or_else(|| json!({}));
        if outcome["external"] == json!(x.summary) {
            return Ok(Vec::new());
        }
        outcome["external"] = json!(x.summary);
        let finished = x.failures.is_empty();
        if finished {
            outcome["external_finished_at"] = json!(crate::engine::ts(self.now_ms()));
        }
        r.outcome = Some(outcome.to_string());
        r.updated_at = self.now_ms();
        tx.update_request(r).await?;
        let event = if finished {
            "connectors_finished"
        } else {
            "connectors_retried"
        };
        let state = r.state.clone();
        self.event(
            tx,
            actor,
            r,
            event,
            Some(&state),
            json!({"failed": x.failures.iter().map(|(d, _)| d).collect::<Vec<_>>()}),
        )
        .await?;
        if !finished {
            return Ok(Vec::new());
        }
        let (policy, _) = self.policy_for(tx, &r.tenant_id).await?;
        let kind = vow_core::RequestType::parse(&r.kind)
            .ok_or(EngineError::Internal("unknown request type".into()))?;
        // An access request gets its package again, now complete, with a new link.
        let mut link = None;
        let words = match kind {
            vow_core::RequestType::Delete => {
                "We have now finished deleting or anonymising the information about you in all our systems, including the one we could not finish before."
            }
            vow_core::RequestType::Correct => {
                "We have now finished correcting the information you told us was wrong in all our systems, including the one we could not finish before."
            }
            _ => {
                let package = self
                    .access_package(tx, keys, &policy, r, kind, Some(&x))
                    .await?;
                let tenant = r.tenant_id.clone();
                let (_, l) = self.keep_package(tx, &key, &tenant, r, &package).await?;
                link = Some(l);
                "We have now collected your information from all our systems, including the one we could not reach before. The complete copy is ready to download for 30 days."
            }
        };
        let d = self.open_details(&key, &r.tenant_id, r)?;
        let to = crate::requests::record::contact(&d);
        let extra = crate::requests::notify::Extra {
            outcome: Some(words),
            download_url: link.as_ref().map(|(u, _): &(String, i64)| u.as_str()),
            link_expires: link.as_ref().map(|(_, e)| crate::engine::at(*e)),
            ..Default::default()
        };
        let (row, mail) = self.notice(
            crate::requests::notices::NoticeKind::Completion,
            &policy,
            r,
            &key,
            to.as_deref(),
            extra,
        )?;
        crate::requests::notify::queue_notice(tx, row, mail).await
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
        let mut steps = Vec::new();
        for (i, (w, found)) in work.iter_mut().zip(found).enumerate() {
            w.data.found = Some(found_json(&found));
            let sealed = seal_data(&w.key, &w.job, &w.data)?;
            let counts = rows_in(&found);
            if !tx.set_job_sealed(&w.job.id, owner, &sealed, now).await? {
                w.over = true;
                continue;
            }
            tx.finish_job(&w.job.id, owner, "done", None, now).await?;
            steps.extend(
                counts
                    .iter()
                    .map(|(c, n)| (w.job.id.clone(), c.clone(), *n)),
            );
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
        let steps: Vec<(&str, &str, i64)> = steps
            .iter()
            .map(|(j, c, n)| (j.as_str(), c.as_str(), *n))
            .collect();
        tx.steps_done(&steps, now).await?;
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
                            w.data.before = targeted_values(&found, &|c| {
                                targeted(policy, &w.data.held, c).is_some()
                            });
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
            let steps: Vec<(&str, &str, i64)> = part
                .iter()
                .map(|(i, _, rows)| (work[*i].job.id.as_str(), collection.as_str(), *rows))
                .collect();
            tx.steps_done(&steps, now).await?;
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
        if kind == ERASURE {
            self.check_erased(actor, tenant, owner, db, plan, policy, work)
                .await?;
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

    /// After an erasure's changes are applied: walk again from the same identities and
    /// look for every targeted value the plan found. A value still in place (a trigger
    /// or an application wrote it back, a row the changes missed) fails the job, naming
    /// the collection; the values themselves are never shown.
    #[allow(clippy::too_many_arguments)]
    async fn check_erased(
        &self,
        actor: &Actor,
        tenant: &str,
        owner: &str,
        db: &Db,
        plan: &Plan,
        policy: &Policy,
        work: &mut [Work],
    ) -> Result<()> {
        let checked: Vec<usize> = (0..work.len())
            .filter(|i| !work[*i].over && work[*i].data.changes.is_some())
            .collect();
        if checked.is_empty() {
            return Ok(());
        }
        let people: Vec<_> = checked
            .iter()
            .map(|i| work[*i].data.identities.clone())
            .collect();
        let found = match vow_connect::access(db, plan, &people).await {
            Ok(found) => found,
            Err(e) => {
                let why = format!("the check after the erasure could not walk: {}", e.message);
                for i in &checked {
                    self.fail(actor, tenant, owner, &mut work[*i], &why).await?;
                }
                return Ok(());
            }
        };
        let mut left = 0usize;
        for (i, found) in checked.iter().zip(found) {
            let w = &mut work[*i];
            let now = targeted_values(&found, &|c| targeted(policy, &w.data.held, c).is_some());
            let still: BTreeSet<&String> = w
                .data
                .before
                .iter()
                .filter(|(f, _)| now.contains_key(*f))
                .map(|(_, c)| c)
                .collect();
            if !still.is_empty() {
                left += 1;
                let still: Vec<&str> = still.into_iter().map(String::as_str).collect();
                // A retry applies these collections' planned changes again.
                let mut tx = self.store.write().await?;
                tx.undo_steps(&w.job.id, &still).await?;
                tx.commit().await?;
                let why = format!(
                    "the check after the erasure found values still in place in {}",
                    still.join(", ")
                );
                self.fail(actor, tenant, owner, w, &why).await?;
            }
        }
        let mut tx = self.store.write().await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "connector.erase_checked",
            None,
            None,
            json!({"dataset": work.first().map(|w| w.job.dataset.clone()),
                   "requests": checked.len(), "values_left": left}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
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
