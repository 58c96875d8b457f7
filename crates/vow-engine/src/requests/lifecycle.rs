//! The steps after intake that move a request on: extension, pausing and resuming
//! the clock, denial, withdrawal, and the sweep that denies what could not be
//! verified in time.

use super::notices::NoticeKind;
use super::notify::{Extra, queue_notice};
use super::record::{contact, load};
use super::types::{DENIAL_CODES, DenialReason, RequestView, Step};
use super::verification::authority;
use crate::engine::{at, ts};
use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use serde_json::json;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_core::{RequestState, RequestType};
use vow_store::{RequestRow, Tx};

impl Engine {
    pub async fn extend_request(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        step: &Step,
    ) -> Result<RequestView> {
        let tenant_id = tenant;
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let reason = reason(step, "an extension")?;
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let mut r = load(&mut tx, tenant, id).await?;
        let state =
            RequestState::parse(&r.state).ok_or(EngineError::Internal("unknown state".into()))?;
        if !state.may_extend() {
            return Err(EngineError::Conflict(format!(
                "a request that is {state} cannot be extended"
            )));
        }
        if r.extended_due.is_some() {
            return Err(EngineError::Conflict(
                "the request has already been extended once".into(),
            ));
        }
        if self.now_ms() > r.response_due {
            return Err(EngineError::Conflict(
                "the first deadline has passed: the law requires notice of an extension before it"
                    .into(),
            ));
        }
        let Some(max) = r.extended_max.filter(|m| *m > r.response_due) else {
            return Err(EngineError::Conflict(
                "no applicable rule allows an extension (or the policy's promise does not)".into(),
            ));
        };
        r.extended_due = Some(max);
        r.updated_at = self.now_ms();
        tx.update_request(&r).await?;
        let complaint = self.packs_for(&r).iter().any(|p| {
            RequestType::parse(&r.kind)
                .and_then(|k| p.requests.get(&k))
                .and_then(|rule| rule.extension.as_ref())
                .is_some_and(|e| e.complaint_statement)
        });
        self.event(
            &mut tx,
            actor,
            &r,
            "extended",
            Some(&r.state.clone()),
            json!({"to": ts(max), "complaint_statement": complaint}),
        )
        .await?;
        let key = self.request_key(&keys, tenant, &r)?;
        let d = self.open_details(&key, tenant, &r)?;
        let to = contact(&d);
        let extra = Extra {
            extension_reason: Some(reason),
            complaint_statement: complaint,
            ..Extra::default()
        };
        let (row, mail) = self.notice(
            NoticeKind::Extension,
            &policy,
            &r,
            &key,
            to.as_deref(),
            extra,
        )?;
        let queued = queue_notice(&mut tx, row, mail).await?;
        tx.commit().await?;
        self.mail(queued).await;
        self.request(actor, tenant_id, id).await
    }

    /// Stop the clock, where every applicable law allows it and no promise of n days
    /// binds (UK GDPR: while waiting for information needed to clarify the request).
    pub async fn pause_request(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        step: &Step,
    ) -> Result<RequestView> {
        let tenant_id = tenant;
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let reason = reason(step, "a pause")?;
        let mut tx = self.store.write().await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let mut r = load(&mut tx, tenant, id).await?;
        let state =
            RequestState::parse(&r.state).ok_or(EngineError::Internal("unknown state".into()))?;
        if state.is_final() || state == RequestState::Routed {
            return Err(EngineError::Conflict(format!(
                "a request that is {state} has no clock to pause"
            )));
        }
        if r.paused_at.is_some() {
            return Err(EngineError::Conflict("the clock is already paused".into()));
        }
        let kind =
            RequestType::parse(&r.kind).ok_or(EngineError::Internal("unknown type".into()))?;
        let due = vow_core::deadline::due_dates(
            &self.packs_for(&r),
            &self.rules.calendars,
            kind,
            at(r.received_at),
            &policy.response_times,
        );
        if !due.clock_pauses {
            return Err(EngineError::Conflict(format!(
                "the clock may not pause: {}",
                if due.applied.is_empty() {
                    "no applicable law provides for it".to_string()
                } else if due.promise.is_some() {
                    "the policy promises an answer within a fixed number of days".to_string()
                } else {
                    format!(
                        "not every applicable law ({}) allows it",
                        due.applied.join(", ")
                    )
                }
            )));
        }
        let now = self.now_ms();
        if now > r.extended_due.unwrap_or(r.response_due) {
            return Err(EngineError::Conflict(
                "the deadline has passed: a clock that has run out cannot be paused".into(),
            ));
        }
        r.paused_at = Some(now);
        r.updated_at = now;
        tx.update_request(&r).await?;
        self.event(
            &mut tx,
            actor,
            &r,
            "paused",
            None,
            json!({"reason": reason, "rules": due.applied}),
        )
        .await?;
        tx.commit().await?;
        self.request(actor, tenant_id, id).await
    }

    /// Start a paused clock again: every deadline still ahead moves by the time it stood.
    pub async fn resume_request(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<RequestView> {
        let tenant_id = tenant;
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.write().await?;
        let mut r = load(&mut tx, tenant, id).await?;
        if r.paused_at.is_none() {
            return Err(EngineError::Conflict("the clock is not paused".into()));
        }
        self.resume_in(&mut tx, actor, &mut r).await?;
        tx.commit().await?;
        self.request(actor, tenant_id, id).await
    }

    pub(crate) async fn resume_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        r: &mut RequestRow,
    ) -> Result<()> {
        let Some(since) = r.paused_at.take() else {
            return Ok(());
        };
        let now = self.now_ms();
        let stood = (now - since).max(0);
        r.response_due += stood;
        r.extended_max = r.extended_max.map(|t| t + stood);
        r.extended_due = r.extended_due.map(|t| t + stood);
        r.updated_at = now;
        tx.update_request(r).await?;
        self.event(
            tx,
            actor,
            r,
            "resumed",
            None,
            json!({"paused_ms": stood, "response_due": ts(r.extended_due.unwrap_or(r.response_due))}),
        )
        .await
    }

    pub async fn deny_request(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        step: &Step,
    ) -> Result<RequestView> {
        let tenant_id = tenant;
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        if step.reasons.is_empty() {
            return Err(EngineError::invalid(
                "/reasons",
                "a denial gives at least one reason",
            ));
        }
        let mut reasons = Vec::new();
        for (i, reason) in step.reasons.iter().enumerate() {
            if !DENIAL_CODES.contains(&reason.code.as_str()) {
                return Err(EngineError::invalid(
                    format!("/reasons/{i}/code"),
                    format!("must be one of {}", DENIAL_CODES.join(", ")),
                ));
            }
            let detail = reason
                .detail
                .clone()
                .unwrap_or_else(|| denial_words(&reason.code).to_string());
            reasons.push((reason.code.clone(), detail));
        }
        let mut tx = self.store.write().await?;
        let queued = self.deny_in(&mut tx, actor, tenant, id, &reasons).await?;
        tx.commit().await?;
        self.mail(queued).await;
        self.request(actor, tenant_id, id).await
    }

    /// Deny a request inside `tx` for checked reasons (code, words); returns the notice
    /// to mail after commit.
    pub(crate) async fn deny_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        tenant: &str,
        id: &str,
        reasons: &[(String, String)],
    ) -> Result<Vec<(String, String, super::notices::Rendered)>> {
        let keys = self.keys.tenant(tx, tenant).await?;
        let (policy, _) = self.policy_for(tx, tenant).await?;
        let mut r = load(tx, tenant, id).await?;
        r.outcome = Some(json!({"denied": reasons.iter().map(|(c, d)| json!({"code": c, "detail": d})).collect::<Vec<_>>()}).to_string());
        self.transition(
            tx,
            actor,
            &mut r,
            RequestState::Denied,
            json!({"codes": reasons.iter().map(|(c, _)| c).collect::<Vec<_>>()}),
        )
        .await?;
        // An appeal's denial is final: its notice names the regulators instead. A first
        // denial under a law with appeals links to the appeal form.
        let appeal_of = tx.appealed_request(tenant, id).await?;
        let appeal = match appeal_of {
            Some(_) => None,
            None => match self.packs_for(&r).iter().find(|p| {
                RequestType::parse(&r.kind)
                    .and_then(|k| p.requests.get(&k))
                    .is_some_and(|rule| rule.appeal.is_some())
            }) {
                Some(p) => Some(format!(
                    "Under {} you may appeal this decision. Appeal online at {} or reply to this message, and we will decide your appeal in writing.",
                    p.name,
                    self.appeal_url(tenant, id)?
                )),
                None => None,
            },
        };
        let key = self.request_key(&keys, tenant, &r)?;
        let d = self.open_details(&key, tenant, &r)?;
        let to = contact(&d);
        let extra = Extra {
            denial_reasons: reasons,
            appeal: appeal.as_deref(),
            appeal_of: appeal_of.as_deref(),
            ..Extra::default()
        };
        let (row, mail) =
            self.notice(NoticeKind::Denial, &policy, &r, &key, to.as_deref(), extra)?;
        queue_notice(tx, row, mail).await
    }

    pub async fn withdraw_request(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<RequestView> {
        let tenant_id = tenant;
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.write().await?;
        let mut r = load(&mut tx, tenant, id).await?;
        self.transition(&mut tx, actor, &mut r, RequestState::Withdrawn, json!({}))
            .await?;
        tx.commit().await?;
        self.request(actor, tenant_id, id).await
    }

    /// Deny, as unverifiable, every request whose deadline has passed while the person's
    /// identity could not be confirmed (the law's answer in writing, not silence).
    pub async fn sweep_requests(&self, actor: &Actor, tenant: &TenantId) -> Result<usize> {
        let tenant_id = tenant;
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let now = self.now_ms();
        // Expired download packages and codes go first: they hold or guard personal data.
        let mut tx = self.store.write().await?;
        let (packages, codes) = tx.purge_expired(tenant, now).await?;
        if packages + codes > 0 {
            let entry = self.audit_entry(
                actor,
                Some(tenant),
                "request.purge",
                None,
                None,
                json!({"packages": packages, "codes": codes}),
            );
            self.chain.append(&mut tx, &[entry]).await?;
        }
        tx.commit().await?;
        let due: Vec<String> = {
            let mut tx = self.store.read().await?;
            tx.requests(tenant, false, 100_000)
                .await?
                .into_iter()
                .filter(|r| matches!(r.state.as_str(), "verifying" | "unverifiable"))
                .filter(|r| r.paused_at.is_none())
                .filter(|r| r.extended_due.unwrap_or(r.response_due) < now)
                .map(|r| r.id)
                .collect()
        };
        for id in &due {
            // An agent or parent who never showed authority is denied for that reason.
            let code = {
                let mut tx = self.store.read().await?;
                let keys = self.keys.tenant(&mut tx, tenant).await?;
                match tx.request(tenant, id).await? {
                    Some(r) => {
                        let key = self.request_key(&keys, tenant, &r)?;
                        let d = self.open_details(&key, tenant, &r)?;
                        if authority(&r, &d).is_err() {
                            "agent_not_authorised"
                        } else {
                            "unverifiable"
                        }
                    }
                    None => continue,
                }
            };
            let step = Step {
                reasons: vec![DenialReason {
                    code: code.into(),
                    detail: None,
                }],
                ..Step::default()
            };
            self.deny_request(actor, tenant_id, id, &step).await?;
        }
        Ok(due.len())
    }
}

/// A step's reason: required, trimmed, at most 2000 characters.
fn reason<'a>(step: &'a Step, what: &str) -> Result<&'a str> {
    step.reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty() && r.len() <= 2000)
        .ok_or_else(|| {
            EngineError::invalid(
                "/reason",
                format!("{what} needs a reason (1 to 2000 characters)"),
            )
        })
}

fn denial_words(code: &str) -> &'static str {
    match code {
        "unverifiable" => {
            "We could not confirm that you are the person the request is about, so we cannot act on it without risking someone else's privacy."
        }
        "no_data" => "We hold no personal information about you.",
        "exempt" => "The law allows or requires us to keep or withhold this information.",
        "manifestly_unfounded" => "The request is manifestly unfounded.",
        "excessive" => "The request is excessive, in particular because it repeats an earlier one.",
        "agent_not_authorised" => {
            "The person acting for you did not give us proof that you authorised them."
        }
        "duplicate" => "This request repeats one we are already handling.",
        _ => "See the explanation below.",
    }
}
