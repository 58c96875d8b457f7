//! Propagation through signed webhooks (R12, R14, issue 4): the decisions of delivery
//! (what is due, what it says, when to try again, when to give up) and the events that
//! follow consent withdrawals and policy changes. Endpoints and their secrets are in
//! [`super::endpoints`].
//!
//! The engine never speaks HTTP. [`Engine::claim_deliveries`] hands out due events,
//! each with its endpoint, secret and body; the server's worker sends them and hands
//! the outcome back to [`Engine::record_deliveries`].

use crate::engine::ts;
use crate::error::{EngineError, Result};
use crate::vault::keyring::{TenantKeys, value_aad};
use crate::{Actor, Engine};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;
use vow_core::role::Capability;
use vow_core::webhook::{HORIZON_MS, NetAllow, next_attempt};
use vow_core::{DeliveryState, TenantId, TenantRole};
use vow_crypto::{WebhookSecret, open};
use vow_store::{
    AttemptOutcome, AttemptRow, ClaimedEvent, DeliveryRow, EndpointRow, NewAudit, OutboxRow,
    PARKED, Tx,
};
use zeroize::Zeroizing;

pub use super::endpoints::{
    ADMINISTRATORS, CONTROLLER, DEFAULT_OVERLAP_SECS, EndpointView, MAX_OVERLAP_SECS,
    RotatedSecretView, check_url,
};

/// The longest `Retry-After` a receiver may ask for; longer is read as this.
const MAX_RETRY_AFTER_MS: i64 = 24 * 3600 * 1000;
const MAX_LIST: i64 = 1000;

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
}

/// A recipient of the policy with its endpoint (never its secret) and delivery counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecipientView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub country: String,
    pub endpoint: Option<String>,
    /// During a secret rotation's overlap: until when deliveries also carry the
    /// previous secret's signature.
    pub previous_secret_until: Option<String>,
    pub deliveries: DeliveryCounts,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryView {
    /// The outbox event id: the `webhook-id` header, the same on every attempt.
    pub id: String,
    pub event: String,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub created_at: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// Why it waits or died: `no_endpoint`, `subject_erased`, `expired`.
    pub reason: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    /// When retrying stops.
    pub expires_at: String,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempt: i64,
    pub at: String,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<i64>,
    /// An error class: `timeout`, `connect`, `forbidden_address`, `dns`, `http_status`, …
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: DeliveryView,
    pub history: Vec<AttemptView>,
}

/// One event ready to send. `body` may hold personal values (corrected fields): it is
/// wiped on drop and never logged.
pub struct Outgoing {
    pub id: String,
    pub tenant: String,
    pub url: String,
    pub secret: WebhookSecret,
    /// The rotated-out secret while its overlap window lasts: the delivery carries its
    /// signature after the current one's.
    pub previous: Option<WebhookSecret>,
    pub body: Zeroizing<Vec<u8>>,
    /// The number this attempt will have (1 for the first).
    pub attempt: i64,
    horizon: i64,
    event: String,
    recipient: String,
    subject: Option<String>,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// What one attempt gave.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// Unix milliseconds when the attempt started (the engine's clock).
    pub at: i64,
    /// The HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// The error class when it did not (or `http_status` for a non-2xx answer).
    pub error: Option<String>,
    pub duration_ms: i64,
    /// The receiver's `Retry-After`, in milliseconds from `at`: no attempt before then.
    pub retry_after_ms: Option<i64>,
}

/// What a pass of the worker did.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct DeliveryReport {
    pub claimed: usize,
    pub delivered: usize,
    pub failed: usize,
    pub dead: usize,
    /// Events parked until their recipient has an endpoint.
    pub no_endpoint: usize,
    /// Endpoints that answered `410 Gone` and were removed.
    pub gone: usize,
}

impl Engine {
    /// Which addresses outbound webhooks may reach beyond the public internet.
    pub fn set_webhook_net(&self, allow: NetAllow) {
        if let Ok(mut n) = self.webhook_net.write() {
            *n = allow;
        }
    }

    pub fn webhook_net(&self) -> NetAllow {
        self.webhook_net.read().map(|n| *n).unwrap_or_default()
    }

    /// How long a claim holds an event before another pass (after a crash, the
    /// restarted server's) may send it again. Keep it well above the attempt timeout.
    pub fn set_webhook_lease(&self, lease: std::time::Duration) {
        let ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        self.webhook_lease_ms
            .store(ms.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// The policy's recipients, with their endpoints and delivery counts; for a
    /// processor tenant also its controlling client (`controller`).
    pub async fn recipients(&self, actor: &Actor, tenant: &TenantId) -> Result<Vec<RecipientView>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadPolicy, tenant)?;
        let mut tx = self.store.read().await?;
        let row = tx
            .tenant(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let now = self.now_ms();
        let endpoints: HashMap<String, (String, Option<String>)> = tx
            .endpoints(tenant)
            .await?
            .into_iter()
            .map(|e| {
                let until = e.previous_until.filter(|u| *u > now).map(ts);
                (e.recipient, (e.url, until))
            })
            .collect();
        let endpoint = |id: &str| endpoints.get(id).cloned().unzip();
        let mut counts: HashMap<String, DeliveryCounts> = HashMap::new();
        for (r, state, n) in tx.delivery_counts(tenant).await? {
            let c = counts.entry(r).or_default();
            match crate::engine::stored("delivery state", &state, DeliveryState::parse)? {
                DeliveryState::Pending => c.pending = n,
                DeliveryState::Delivered => c.delivered = n,
                DeliveryState::Dead => c.dead += n,
            }
        }
        let mut out: Vec<RecipientView> = policy
            .recipients
            .iter()
            .map(|r| RecipientView {
                id: r.id.as_str().to_string(),
                name: r.name.clone(),
                kind: serde_json::to_value(r.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                country: r.country.clone(),
                endpoint: endpoint(r.id.as_str()).0,
                previous_secret_until: endpoint(r.id.as_str()).1.flatten(),
                deliveries: counts.remove(r.id.as_str()).unwrap_or_default(),
            })
            .collect();
        if crate::engine::tenant_role(&row)? == TenantRole::Processor {
            out.push(RecipientView {
                id: CONTROLLER.to_string(),
                name: row.controller_name.clone().unwrap_or_default(),
                kind: CONTROLLER.to_string(),
                country: String::new(),
                endpoint: endpoint(CONTROLLER).0,
                previous_secret_until: endpoint(CONTROLLER).1.flatten(),
                deliveries: counts.remove(CONTROLLER).unwrap_or_default(),
            });
        }
        out.push(RecipientView {
            id: ADMINISTRATORS.to_string(),
            name: format!("the administrators of {}", row.name),
            kind: ADMINISTRATORS.to_string(),
            country: String::new(),
            endpoint: endpoint(ADMINISTRATORS).0,
            previous_secret_until: endpoint(ADMINISTRATORS).1.flatten(),
            deliveries: counts.remove(ADMINISTRATORS).unwrap_or_default(),
        });
        Ok(out)
    }

    fn authorize_deliveries(&self, actor: &Actor, tenant: Option<&str>) -> Result<()> {
        match tenant {
            Some(t) => self.authorize(actor, Capability::ManageWebhooks, t),
            None if actor.is_global_admin() => Ok(()),
            None => Err(EngineError::Forbidden(
                "delivering every tenant's events needs the command line or a global admin key"
                    .into(),
            )),
        }
    }

    /// Claim up to `limit` due events (of one tenant, or all) and prepare them: open the
    /// endpoint's secret and the event's sealed values. Events without an endpoint are
    /// parked; events whose person was erased, or past their horizon, die here.
    pub async fn claim_deliveries(
        &self,
        actor: &Actor,
        tenant: Option<&TenantId>,
        limit: usize,
        report: &mut DeliveryReport,
    ) -> Result<Vec<Outgoing>> {
        let tenant = tenant.map(TenantId::as_str);
        self.authorize_deliveries(actor, tenant)?;
        let now = self.now_ms();
        let lease = self
            .webhook_lease_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        let mut tx = self.store.write().await?;
        let mut audit = Vec::new();
        // Rotated-out secrets whose overlap has ended are forgotten before anything is
        // signed, so none signs a delivery past its window.
        for (t, recipient) in tx.drop_previous_secrets(tenant, now).await? {
            audit.push(self.audit_entry(
                actor,
                Some(&t),
                "webhook.secret.previous_dropped",
                None,
                None,
                json!({"recipient": recipient}),
            ));
        }
        let claimed = tx
            .claim_due(tenant, now, now.saturating_add(lease), limit as i64)
            .await?;
        report.claimed += claimed.len();
        let mut endpoints: HashMap<String, BTreeMap<String, EndpointRow>> = HashMap::new();
        let mut out = Vec::with_capacity(claimed.len());
        for ev in claimed {
            let horizon = ev.expires_at.unwrap_or(ev.row.created_at + HORIZON_MS);
            if now > horizon {
                audit.push(
                    self.dead_letter(&mut tx, actor, &ev, "expired", now)
                        .await?,
                );
                report.dead += 1;
                continue;
            }
            if !endpoints.contains_key(&ev.row.tenant_id) {
                let map = tx
                    .endpoints(&ev.row.tenant_id)
                    .await?
                    .into_iter()
                    .map(|e| (e.recipient.clone(), e))
                    .collect();
                endpoints.insert(ev.row.tenant_id.clone(), map);
            }
            let endpoint = ev
                .row
                .recipient
                .as_ref()
                .and_then(|r| endpoints.get(&ev.row.tenant_id).and_then(|m| m.get(r)));
            let (Some(endpoint), Some(recipient)) = (endpoint, ev.row.recipient.clone()) else {
                tx.set_delivery_state(
                    &ev.row.id,
                    DeliveryState::Pending.as_str(),
                    Some("no_endpoint"),
                    PARKED,
                )
                .await?;
                report.no_endpoint += 1;
                continue;
            };
            let keys = self.keys.tenant(&mut tx, &ev.row.tenant_id).await?;
            let Some(values) = self.open_event_values(&mut tx, &keys, &ev).await? else {
                // The person was erased: their key is gone and the values with it.
                audit.push(
                    self.dead_letter(&mut tx, actor, &ev, "subject_erased", now)
                        .await?,
                );
                report.dead += 1;
                continue;
            };
            let secret = self.open_secret(&mut tx, &keys, endpoint).await?;
            let previous = match (&endpoint.previous_sealed, endpoint.previous_until) {
                (Some(sealed), Some(until)) if until > now => {
                    Some(self.open_previous(&mut tx, &keys, endpoint, sealed).await?)
                }
                _ => None,
            };
            let mut data: Value =
                serde_json::from_str(&ev.row.payload).unwrap_or_else(|_| json!({}));
            if let (Some(values), Some(obj)) = (values, data.as_object_mut()) {
                for (k, v) in values {
                    obj.insert(k, v);
                }
            }
            let body =
                json!({"type": ev.row.event, "timestamp": ts(ev.row.created_at), "data": data});
            out.push(Outgoing {
                id: ev.row.id.clone(),
                tenant: ev.row.tenant_id.clone(),
                url: endpoint.url.clone(),
                secret,
                previous,
                body: Zeroizing::new(serde_json::to_vec(&body).unwrap_or_default()),
                attempt: ev.attempts + 1,
                horizon,
                event: ev.row.event.clone(),
                recipient,
                subject: ev.row.subject_id.clone(),
            });
        }
        if !audit.is_empty() {
            self.chain.append(&mut tx, &audit).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// An event that will never be sent: dead, with its reason, and the audit entry saying so.
    async fn dead_letter(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        ev: &ClaimedEvent,
        reason: &'static str,
        now: i64,
    ) -> Result<NewAudit> {
        tx.set_delivery_state(&ev.row.id, DeliveryState::Dead.as_str(), Some(reason), now)
            .await?;
        Ok(self.dead_entry(
            actor,
            &ev.row.tenant_id,
            &ev.row.id,
            ev.row.subject_id.as_deref(),
            reason,
        ))
    }

    fn dead_entry(
        &self,
        actor: &Actor,
        tenant: &str,
        id: &str,
        subject: Option<&str>,
        reason: &str,
    ) -> NewAudit {
        self.audit_entry(
            actor,
            Some(tenant),
            "webhook.dead",
            subject,
            None,
            json!({"event": id, "reason": reason}),
        )
    }

    /// The event's sealed values as JSON object entries: `Some(None)` when it has none,
    /// `None` when they can no longer be opened (the person was erased).
    async fn open_event_values(
        &self,
        tx: &mut Tx,
        keys: &TenantKeys,
        ev: &ClaimedEvent,
    ) -> Result<Option<Option<serde_json::Map<String, Value>>>> {
        let (Some(sealed), Some(subject)) = (&ev.row.sealed, &ev.row.subject_id) else {
            return Ok(Some(None));
        };
        let tenant = ev.row.tenant_id.as_str();
        let Some(key) = tx.subject_key(tenant, subject).await? else {
            return Ok(None);
        };
        let dek = self
            .keys
            .subject_dek(tx, keys, tenant, subject, key.kek_version, &key.wrapped)
            .await?;
        // A person kept under a legal hold has a fresh key after erasure: the old
        // values do not open with it, which is erasure too.
        let Ok(plain) = open(
            &dek,
            sealed,
            &value_aad(tenant, subject, "outbox", &ev.row.id),
        ) else {
            return Ok(None);
        };
        let v: Value = serde_json::from_slice(&plain)
            .map_err(|_| EngineError::Internal("a sealed outbox event is unreadable".into()))?;
        Ok(Some(v.as_object().cloned()))
    }

    /// Record the attempts of a pass in one transaction: 2xx is delivered; anything
    /// else is tried again after a backoff, until the horizon, then dead.
    pub async fn record_deliveries(
        &self,
        actor: &Actor,
        results: Vec<(Outgoing, AttemptResult)>,
        report: &mut DeliveryReport,
    ) -> Result<()> {
        if results.is_empty() {
            return Ok(());
        }
        let now = self.now_ms();
        let mut tx = self.store.write().await?;
        let mut audit = Vec::new();
        for (o, r) in results {
            self.authorize_deliveries(actor, Some(&o.tenant))?;
            let ok = r.status.is_some_and(|s| (200..300).contains(&s));
            let error = r
                .error
                .clone()
                .or_else(|| (!ok).then(|| "http_status".to_string()));
            let last_error = error.as_ref().map(|e| match r.status {
                Some(s) => format!("{e} {s}"),
                None => e.clone(),
            });
            let outcome = if ok {
                report.delivered += 1;
                audit.push(self.audit_entry(
                    actor,
                    Some(&o.tenant),
                    "webhook.delivered",
                    o.subject.as_deref(),
                    None,
                    json!({"event": o.id, "type": o.event, "recipient": o.recipient, "attempts": o.attempt}),
                ));
                AttemptOutcome {
                    state: DeliveryState::Delivered.as_str(),
                    reason: None,
                    next_attempt_at: now,
                    delivered_at: Some(now),
                    last_error: None,
                }
            } else if r.status == Some(410) {
                // The receiver says the endpoint is gone for good: stop sending there.
                // Its events wait, parked, until an endpoint is registered again.
                if tx.delete_endpoint(&o.tenant, &o.recipient).await? {
                    report.gone += 1;
                    audit.push(self.audit_entry(
                        actor,
                        Some(&o.tenant),
                        "webhook.endpoint.gone",
                        None,
                        None,
                        json!({"recipient": o.recipient, "event": o.id}),
                    ));
                }
                AttemptOutcome {
                    state: DeliveryState::Pending.as_str(),
                    reason: Some("endpoint_gone"),
                    next_attempt_at: PARKED,
                    delivered_at: None,
                    last_error,
                }
            } else {
                let random = u64::from_le_bytes(vow_crypto::random_bytes::<8>()?);
                let attempts = u32::try_from(o.attempt).unwrap_or(u32::MAX);
                // The receiver's Retry-After (bounded) is honoured when it asks for
                // longer than our own back-off; past the event's horizon, it dies.
                let not_before = r
                    .retry_after_ms
                    .map(|ms| now + ms.clamp(0, MAX_RETRY_AFTER_MS));
                let next = next_attempt(now, attempts, o.horizon, random)
                    .map(|at| not_before.map_or(at, |nb| at.max(nb)))
                    .filter(|at| *at <= o.horizon);
                match next {
                    Some(at) => {
                        report.failed += 1;
                        AttemptOutcome {
                            state: DeliveryState::Pending.as_str(),
                            reason: None,
                            next_attempt_at: at,
                            delivered_at: None,
                            last_error,
                        }
                    }
                    None => {
                        report.dead += 1;
                        audit.push(self.dead_entry(
                            actor,
                            &o.tenant,
                            &o.id,
                            o.subject.as_deref(),
                            "expired",
                        ));
                        AttemptOutcome {
                            state: DeliveryState::Dead.as_str(),
                            reason: Some("expired"),
                            next_attempt_at: now,
                            delivered_at: None,
                            last_error,
                        }
                    }
                }
            };
            metrics::counter!("vow_webhook_attempts_total", "outcome" => outcome.state)
                .increment(1);
            tx.record_attempt(
                &AttemptRow {
                    event_id: o.id.clone(),
                    attempt: o.attempt,
                    at: r.at,
                    status: r.status.map(i64::from),
                    error,
                    duration_ms: r.duration_ms,
                },
                &outcome,
            )
            .await?;
        }
        if !audit.is_empty() {
            self.chain.append(&mut tx, &audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    fn delivery_view(d: DeliveryRow) -> Result<DeliveryView> {
        let state = crate::engine::stored("delivery state", &d.state, DeliveryState::parse)?;
        Ok(DeliveryView {
            next_attempt_at: (state == DeliveryState::Pending && d.next_attempt_at != PARKED)
                .then(|| ts(d.next_attempt_at)),
            expires_at: ts(d.expires_at.unwrap_or(d.created_at + HORIZON_MS)),
            id: d.id,
            event: d.event,
            recipient: d.recipient,
            subject: d.subject_id,
            created_at: ts(d.created_at),
            state: d.state,
            reason: d.reason,
            attempts: d.attempts,
            last_error: d.last_error,
            delivered_at: d.delivered_at.map(ts),
        })
    }

    /// A tenant's events and their delivery state, newest first.
    pub async fn deliveries(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        state: Option<DeliveryState>,
    ) -> Result<Vec<DeliveryView>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageWebhooks, tenant)?;
        let mut tx = self.store.read().await?;
        tx.tenant(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        let rows = tx
            .deliveries(tenant, state.map(DeliveryState::as_str), MAX_LIST)
            .await?;
        drop(tx);
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "webhook.list",
            None,
            None,
            json!({"state": state, "events": rows.len()}),
        );
        self.audit.record(vec![entry]).await?;
        rows.into_iter().map(Self::delivery_view).collect()
    }

    /// One event with the history of its attempts.
    pub async fn delivery(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<DeliveryDetail> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageWebhooks, tenant)?;
        let mut tx = self.store.read().await?;
        let row = tx
            .delivery(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("delivery"))?;
        let history = tx
            .delivery_attempts(id)
            .await?
            .into_iter()
            .map(|a| AttemptView {
                attempt: a.attempt,
                at: ts(a.at),
                status: a.status,
                error: a.error,
                duration_ms: a.duration_ms,
            })
            .collect();
        drop(tx);
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "webhook.show",
            row.subject_id.as_deref(),
            None,
            json!({"event": id}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(DeliveryDetail {
            delivery: Self::delivery_view(row)?,
            history,
        })
    }

    /// A dead or pending event becomes due now, with a fresh three-day horizon.
    pub async fn retry_delivery(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<DeliveryView> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageWebhooks, tenant)?;
        let now = self.now_ms();
        let mut tx = self.store.write().await?;
        let before = tx
            .delivery(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("delivery"))?;
        if !tx.retry_delivery(tenant, id, now, now + HORIZON_MS).await? {
            return Err(EngineError::Conflict(format!(
                "event {id} was already delivered"
            )));
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "webhook.retry",
            before.subject_id.as_deref(),
            None,
            json!({"event": id, "from_state": before.state, "reason": before.reason}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        let row = tx
            .delivery(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("delivery"))?;
        tx.commit().await?;
        Self::delivery_view(row)
    }

    /// Consent withdrawn: each recipient that received the person's data for that
    /// purpose is told, in the withdrawal's transaction. No values travel.
    pub(crate) async fn propagate_withdrawal(
        &self,
        tx: &mut Tx,
        tenant: &str,
        subject: &str,
        purpose: &str,
    ) -> Result<usize> {
        let recipients = tx.disclosed_for_purpose(tenant, subject, purpose).await?;
        let now = self.now_ms();
        for recipient in &recipients {
            tx.insert_outbox(&OutboxRow {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: tenant.to_string(),
                event: "consent.withdrawn".into(),
                recipient: Some(recipient.clone()),
                payload: json!({"subject": subject, "purpose": purpose, "at": ts(now)}).to_string(),
                sealed: None,
                subject_id: Some(subject.to_string()),
                created_at: now,
                delivered_at: None,
            })
            .await?;
        }
        Ok(recipients.len())
    }

    /// A new policy version: every recipient of it that has an endpoint is told, in the
    /// publication's transaction. A summary of names and counts, no links, nothing personal.
    pub(crate) async fn propagate_policy(
        &self,
        tx: &mut Tx,
        tenant: &str,
        version: i64,
        policy: &vow_core::Policy,
    ) -> Result<usize> {
        let now = self.now_ms();
        let summary = json!({
            "organisation": policy.organisation.name,
            "purposes": policy.purposes.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            "categories": policy.categories.len(),
            "recipients": policy.recipients.len(),
            "jurisdictions": policy.jurisdictions,
        });
        let mut n = 0;
        for e in tx.endpoints(tenant).await? {
            if policy.recipient(&e.recipient).is_none() {
                continue;
            }
            tx.insert_outbox(&OutboxRow {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: tenant.to_string(),
                event: "policy.published".into(),
                recipient: Some(e.recipient),
                payload: json!({"version": version, "effective_date": policy.effective_date.to_string(), "summary": summary}).to_string(),
                sealed: None,
                subject_id: None,
                created_at: now,
                delivered_at: None,
            })
            .await?;
            n += 1;
        }
        Ok(n)
    }
}
