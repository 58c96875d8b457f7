//! Fulfilment: carrying out a verified request (an export, withdrawn consents, a
//! correction, an erasure) and telling the person what was done.

use super::notices::{NoticeKind, Rendered};
use super::notify::{Extra, queue_notice};
use super::record::{contact, load, request_aad};
use super::types::RequestView;
use crate::engine::{at, ts};
use crate::error::{EngineError, Result};
use crate::external::jobs::{External, Gate};
use crate::input::SubjectPatch;
use crate::vault::keyring::{TenantKeys, value_aad};
use crate::{Actor, Engine};
use serde_json::{Value, json};
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_core::{ConsentState, Policy, RequestState, RequestType};
use vow_crypto::{Key32, seal};
use vow_store::{RequestRow, Tx};

/// What is left to do once the transaction that fulfilled a request has committed.
pub(crate) struct Fulfilled {
    /// Notices to mail.
    queued: Vec<(String, String, Rendered)>,
    /// An erasure: its WAL is flushed, and the person noted in the erasure ledger.
    erased: Option<Option<String>>,
}

impl Engine {
    pub async fn fulfil_request(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<RequestView> {
        let tenant_id = tenant;
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let mut r = load(&mut tx, tenant, id).await?;
        let done = self
            .fulfil_loaded(&mut tx, actor, &keys, &policy, &mut r)
            .await?;
        tx.commit().await?;
        match done {
            Some(done) => self.after_fulfilment(tenant, vec![done]).await,
            None => self.pools.wake(),
        }
        self.request(actor, tenant_id, id).await
    }

    /// Fulfil a loaded request inside `tx`. None when it waits for its connector jobs:
    /// they were started (or are still running) and the runner fulfils it when the
    /// last one finishes.
    pub(crate) async fn fulfil_loaded(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        keys: &TenantKeys,
        policy: &Policy,
        r: &mut RequestRow,
    ) -> Result<Option<Fulfilled>> {
        let tenant = r.tenant_id.clone();
        let state =
            RequestState::parse(&r.state).ok_or(EngineError::Internal("unknown state".into()))?;
        if !matches!(state, RequestState::Verified | RequestState::InProgress) {
            return Err(EngineError::Conflict(format!(
                "a request that is {state} cannot be fulfilled: it must be verified first"
            )));
        }
        let pending = tx.documents_pending(&r.id).await?;
        if pending > 0 {
            return Err(EngineError::Conflict(format!(
                "{pending} document(s) sent as the requester's authority await review: accept or reject them first (POST …/requests/{{r}}/documents/{{d}}/review)"
            )));
        }
        let key = self.request_key(keys, &tenant, r)?;
        // The organisation's own databases first: while their jobs run the request
        // stays in progress; the runner fulfils it when the last one finishes.
        let details = self.open_details(&key, &tenant, r)?;
        let external = match self
            .connector_gate(tx, actor, r, &details, keys, &key)
            .await?
        {
            Gate::NotNeeded => None,
            Gate::Waiting(n) => {
                if state == RequestState::Verified {
                    self.transition(
                        tx,
                        actor,
                        r,
                        RequestState::InProgress,
                        json!({"connector_jobs": n}),
                    )
                    .await?;
                }
                return Ok(None);
            }
            Gate::Finished(jobs) => Some(self.external_results(tx, &key, &jobs).await?),
        };
        let queued = self
            .fulfil_in(tx, actor, r, policy, keys, &key, external.as_ref())
            .await?;
        let erased = (r.kind == RequestType::Delete.as_str()).then(|| r.subject_id.clone());
        Ok(Some(Fulfilled { queued, erased }))
    }

    /// After the commit: note erasures in the ledger, flush SQLite's WAL once, mail.
    pub(crate) async fn after_fulfilment(&self, tenant: &str, done: Vec<Fulfilled>) {
        let mut erased = false;
        for f in &done {
            if let Some(subject) = &f.erased {
                erased = true;
                if let Some(subject) = subject {
                    self.note_erasure(tenant, subject, self.now_ms(), true);
                }
            }
        }
        if erased {
            // Push the erased rows out of SQLite's WAL so no copy of the key lingers there;
            // in the background, so the answer does not wait on a full-WAL copy.
            let store = self.store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.checkpoint().await {
                    tracing::warn!(
                        code = e.code(),
                        "checkpoint after erasure failed; SQLite will checkpoint later"
                    );
                }
            });
        }
        for f in done {
            self.mail(f.queued).await;
        }
    }

    /// Carry out a verified request inside `tx`, with what the connectors did in the
    /// organisation's own databases (if it has any); returns notices to mail after commit.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn fulfil_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        r: &mut RequestRow,
        policy: &Policy,
        keys: &TenantKeys,
        key: &Key32,
        external: Option<&External>,
    ) -> Result<Vec<(String, String, Rendered)>> {
        let d = self.open_details(key, &r.tenant_id, r)?;
        let kind = RequestType::parse(&r.kind)
            .ok_or(EngineError::Internal("unknown request type".into()))?;
        let tenant = r.tenant_id.clone();
        // The person's own time-limited download link (access, portability, know).
        let mut link: Option<(String, i64)> = None;
        let mut outcome: Value = match (&r.subject_id, kind) {
            // Not in the vault, but the connectors found the person elsewhere.
            (None, _) if external.is_some_and(External::found_any) => {
                let x = external.ok_or(EngineError::Internal("no connector results".into()))?;
                match kind {
                    RequestType::Delete => {
                        json!({"done": "erased", "words": "We deleted or anonymised the information about you held in our systems."})
                    }
                    RequestType::Correct => {
                        json!({"done": "corrected", "words": "We corrected the information you told us was wrong in our systems."})
                    }
                    _ => {
                        let package = self
                            .access_package(tx, keys, policy, r, kind, Some(x))
                            .await?;
                        let (words, l) = self.keep_package(tx, key, &tenant, r, &package).await?;
                        link = Some(l);
                        words
                    }
                }
            }
            (None, _) => {
                json!({"done": "no_data", "words": "We hold no personal information that matches the details you gave."})
            }
            (
                Some(subject),
                RequestType::OptOut
                | RequestType::Unsubscribe
                | RequestType::WithdrawConsent
                | RequestType::LimitSensitive,
            ) => {
                let purposes = self
                    .purposes_to_withdraw(
                        tx,
                        keys,
                        policy,
                        &tenant,
                        subject,
                        kind,
                        &d.request.purposes,
                    )
                    .await?;
                for p in &purposes {
                    self.withdraw_in(tx, actor, keys, &tenant, subject, p, &r.id)
                        .await?;
                }
                json!({"done": "withdrawn", "purposes": purposes,
                       "words": format!("From now on we no longer use your information for: {}.", if purposes.is_empty() { "(nothing was in use)".to_string() } else { purposes.join(", ") })})
            }
            (Some(_), RequestType::Access | RequestType::Portability | RequestType::Know) => {
                let package = self
                    .access_package(tx, keys, policy, r, kind, external)
                    .await?;
                let (words, l) = self.keep_package(tx, key, &tenant, r, &package).await?;
                link = Some(l);
                words
            }
            (Some(subject), RequestType::Delete) => {
                self.erase_in(tx, actor, keys, policy, &tenant, subject, &r.id)
                    .await?
            }
            (Some(subject), RequestType::Correct) => {
                let ids = self
                    .update_subject_in(
                        tx,
                        actor,
                        &tenant,
                        subject,
                        &SubjectPatch {
                            fields: d.request.corrections.clone(),
                            residence: None,
                        },
                    )
                    .await?;
                json!({"done": "corrected", "fields": ids.len(), "words": "We corrected the information you told us was wrong; the previous values are kept in our records of changes."})
            }
        };
        if r.state == RequestState::Verified.as_str() {
            self.transition(tx, actor, r, RequestState::InProgress, json!({}))
                .await?;
        }
        if let Some(x) = external {
            outcome["external"] = json!(x.summary);
        }
        // Lawful exceptions (legal holds) make it a compliance in part, and the person is
        // told what was kept and why.
        let exceptions: Vec<(String, String)> = outcome["kept"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| {
                (
                    "exempt".to_string(),
                    k["reason"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let mut exceptions = exceptions;
        for (dataset, _) in external.map_or(&[][..], |x| &x.failures[..]) {
            // The technical reason is in the outcome for the privacy team; the person
            // is told plainly.
            exceptions.push((
                "system_unfinished".to_string(),
                format!("We could not finish in one of our systems ({dataset}); our privacy team has been told and will complete it."),
            ));
        }
        let done = if exceptions.is_empty() {
            RequestState::Fulfilled
        } else {
            RequestState::PartiallyFulfilled
        };
        r.outcome = Some(outcome.to_string());
        self.transition(tx, actor, r, done, json!({"done": outcome["done"]}))
            .await?;
        let to = contact(&d);
        let words = outcome["words"].as_str().unwrap_or("").to_string();
        let extra = Extra {
            outcome: Some(&words),
            download_url: link.as_ref().map(|(u, _)| u.as_str()),
            link_expires: link.as_ref().map(|(_, e)| at(*e)),
            denial_reasons: &exceptions,
            ..Extra::default()
        };
        let (row, mail) =
            self.notice(NoticeKind::Completion, policy, r, key, to.as_deref(), extra)?;
        queue_notice(tx, row, mail).await
    }

    /// The person's access package: what the vault holds (if they are in it) and what
    /// the connectors found in the organisation's own databases, categories explained.
    pub(crate) async fn access_package(
        &self,
        tx: &mut Tx,
        keys: &TenantKeys,
        policy: &Policy,
        r: &RequestRow,
        kind: RequestType,
        external: Option<&External>,
    ) -> Result<Value> {
        let mut package = match &r.subject_id {
            Some(subject) => {
                super::export::package(
                    self,
                    tx,
                    keys,
                    policy,
                    &r.tenant_id,
                    subject,
                    kind,
                    at(r.received_at),
                )
                .await?
            }
            None => json!({
                "format": "vow-access/1",
                "type": kind.as_str(),
                "organisation": policy.organisation.name,
                "generated_at": vow_core::wire::time(self.now()),
                "summary": {"categories": []},
            }),
        };
        if let Some(x) = external {
            package["external"] = json!(x.found);
            x.explain_categories(policy, &mut package["summary"]["categories"]);
        }
        Ok(package)
    }

    /// Keep an access package for download (30 days) and give the outcome and link.
    pub(crate) async fn keep_package(
        &self,
        tx: &mut Tx,
        key: &Key32,
        tenant: &str,
        r: &RequestRow,
        package: &Value,
    ) -> Result<(Value, (String, i64))> {
        let now = self.now_ms();
        let expires = now + 30 * 24 * 3600 * 1000;
        let sealed = seal(
            key,
            package.to_string().as_bytes(),
            &request_aad(tenant, &r.id, "export"),
        )?;
        let token = vow_crypto::random_token()?;
        tx.put_export(
            &r.id,
            now,
            expires,
            &sealed,
            &vow_crypto::sha256(token.as_bytes()),
        )
        .await?;
        let link = (format!("{}/exports/{token}", self.public_url()), expires);
        let words = json!({"done": "exported", "categories": package["summary"]["categories"], "expires_at": ts(expires),
                           "words": "Your information is ready to download for 30 days."});
        Ok((words, link))
    }

    #[allow(clippy::too_many_arguments)]
    async fn purposes_to_withdraw(
        &self,
        tx: &mut Tx,
        keys: &TenantKeys,
        policy: &Policy,
        tenant: &str,
        subject: &str,
        kind: RequestType,
        asked: &[String],
    ) -> Result<Vec<String>> {
        let (_, _, rows) = self.facts(tx, keys, tenant, subject).await?;
        let events = Self::events(&rows)?;
        let live: Vec<String> = ConsentState::all(&events, self.now())
            .into_iter()
            .filter(|(_, s)| matches!(s, ConsentState::Granted { .. }))
            .map(|(p, _)| p.to_string())
            .collect();
        let chosen: Vec<String> = if !asked.is_empty() {
            // Checked at intake; kept with the request, so a bad one is a corrupted store.
            let mut chosen = Vec::new();
            for p in asked {
                let p = crate::stored::purpose("request purpose", p)?;
                if live.iter().any(|l| p == l.as_str()) {
                    chosen.push(String::from(p));
                }
            }
            chosen
        } else {
            live.into_iter()
                .filter(|p| match kind {
                    RequestType::OptOut => {
                        vow_core::policy::is_marketing(p) || vow_core::policy::is_sale_or_sharing(p)
                    }
                    RequestType::Unsubscribe => vow_core::policy::is_marketing(p),
                    RequestType::LimitSensitive => policy.purposes.iter().any(|d| {
                        d.id.as_str() == p
                            && d.categories.iter().any(|c| {
                                policy.categories.iter().any(|cd| {
                                    cd.sensitive && (cd.id.is_within(c) || c.is_within(&cd.id))
                                })
                            })
                    }),
                    _ => true,
                })
                .collect()
        };
        Ok(chosen)
    }

    #[allow(clippy::too_many_arguments)]
    async fn withdraw_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        keys: &TenantKeys,
        tenant: &str,
        subject: &str,
        purpose: &str,
        request: &str,
    ) -> Result<()> {
        let (dek, _, _) = self.facts(tx, keys, tenant, subject).await?;
        let (_, version) = self.policy_for(tx, tenant).await?;
        let id = uuid::Uuid::now_v7().to_string();
        let evidence = json!({"channel": "request", "request": request});
        let row = vow_store::ConsentRow {
            id: id.clone(),
            tenant_id: tenant.to_string(),
            subject_id: subject.to_string(),
            seq: 0,
            purpose: purpose.to_string(),
            action: "withdraw".into(),
            kind: "express".into(),
            at: self.now_ms(),
            expires_at: None,
            policy_version: version,
            parent_subject_id: None,
            evidence: Some(seal(
                &dek,
                evidence.to_string().as_bytes(),
                &value_aad(tenant, subject, "consent", &id),
            )?),
            recorded_at: self.now_ms(),
            recorded_by: actor.id().to_string(),
        };
        tx.append_consent(&row).await?;
        self.propagate_withdrawal(tx, tenant, subject, purpose)
            .await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "consent.withdraw",
            Some(subject),
            Some(purpose),
            json!({"request": request}),
        );
        self.chain.append(tx, &[entry]).await
    }
}
