//! Disclosures to registered recipients (R4, R5, S4, S12, R24) and the events that
//! follow a person's data to them when it is corrected or erased (R12, R14).

use crate::error::{EngineError, FieldError, Result};
use crate::vault::keyring::{TenantKeys, value_aad};
use crate::{Actor, Engine};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::decision::decide_recipient;
use vow_core::role::Capability;
use vow_core::{Action, Ask, Category, Decision, PurposeId, SubjectFacts, decide};
use vow_crypto::{Key32, seal};
use vow_store::{DisclosureRow, OutboxRow, Tx};

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDisclosure {
    /// A recipient id of the policy.
    pub recipient: String,
    pub purpose: String,
    pub categories: Vec<String>,
    /// Subject ids.
    pub subjects: Vec<String>,
    /// How the records reach the recipient: `response` (default: in this answer, for
    /// the caller to pass on) or `webhook` (one signed `subject.disclosed` event per
    /// person to the recipient's endpoint, the values sealed under the person's key
    /// until sent; the answer then carries no values).
    #[serde(default)]
    pub delivery: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisclosureResult {
    pub id: String,
    pub recipient: String,
    pub purpose: String,
    pub categories: Vec<String>,
    /// Where the recipient processes the data and the transfer safeguard (S12).
    #[schema(value_type = Object)]
    pub transfer: Value,
    /// `response` or `webhook`.
    pub delivery: String,
    /// How many people's records were sent.
    pub sent: usize,
    /// The records: one per person, only the categories asked (empty when delivered
    /// by webhook).
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub refused: Vec<Value>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisclosureView {
    pub id: String,
    pub recipient: String,
    pub purpose: String,
    pub categories: Vec<String>,
    pub subjects: i64,
    pub refused: i64,
    pub at: String,
    pub actor: String,
}

const MAX_SUBJECTS: usize = 100_000;

impl Engine {
    /// Disclose: every person is judged by the decision function; refused people are
    /// listed with reasons and not sent; what is sent is recorded.
    pub async fn disclose(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        input: &NewDisclosure,
    ) -> Result<DisclosureResult> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadPersonalData, tenant)?;
        let mut errors = Vec::new();
        let purpose = PurposeId::new(input.purpose.as_str())
            .map_err(|e| errors.push(FieldError::new("/purpose", e.to_string())))
            .ok();
        let mut categories = Vec::new();
        for (i, c) in input.categories.iter().enumerate() {
            match Category::new(c.as_str()) {
                Ok(c) => categories.push(c),
                Err(e) => errors.push(FieldError::new(format!("/categories/{i}"), e.to_string())),
            }
        }
        if input.categories.is_empty() {
            errors.push(FieldError::new("/categories", "name at least one category"));
        }
        let by_webhook = match input.delivery.as_deref() {
            None | Some("response") => false,
            Some("webhook") => true,
            Some(_) => {
                errors.push(FieldError::new("/delivery", "must be response or webhook"));
                false
            }
        };
        if input.subjects.is_empty() || input.subjects.len() > MAX_SUBJECTS {
            errors.push(FieldError::new(
                "/subjects",
                format!("give 1 to {MAX_SUBJECTS} subject ids"),
            ));
        }
        let (true, Some(purpose)) = (errors.is_empty(), purpose) else {
            return Err(EngineError::Invalid(errors));
        };
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        // The recipient itself, a forbidden purpose, and a purpose the calling key is
        // not allowed refuse the whole disclosure (403), not each person in it.
        let mut whole = vow_core::decision::caller_refusals(
            actor.as_caller(),
            &Ask {
                action: Action::Disclose,
                purpose: &purpose,
                categories: &categories,
            },
        );
        whole.extend(decide_recipient(
            &policy,
            &input.recipient,
            &purpose,
            &categories,
        ));
        if let Some(p) = policy.purpose(&purpose)
            && p.forbidden
        {
            whole.push(vow_core::Reason {
                code: vow_core::ReasonCode::PurposeForbidden,
                detail: format!("the policy forbids the purpose {purpose}"),
            });
        }
        if !whole.is_empty() {
            drop(tx);
            let entry = self.audit_entry(
                actor,
                Some(tenant),
                "disclosure.refused",
                None,
                Some(purpose.as_str()),
                json!({"recipient": input.recipient, "reasons": whole.iter().map(|r| r.code.as_str()).collect::<Vec<_>>()}),
            );
            self.audit.record(vec![entry]).await?;
            return Err(EngineError::Refused(Decision {
                allowed: false,
                reasons: whole,
            }));
        }
        let recipient = policy
            .recipient(&input.recipient)
            .ok_or(EngineError::Internal("recipient vanished".into()))?;
        if by_webhook && tx.endpoint(tenant, &input.recipient).await?.is_none() {
            return Err(EngineError::Conflict(format!(
                "{} has no webhook endpoint: register one (PUT …/recipients/{}/endpoint) or take the records in the response",
                input.recipient, input.recipient
            )));
        }
        let home: BTreeSet<&str> = policy
            .jurisdictions
            .iter()
            .map(|j| j.get(..2).unwrap_or(j))
            .collect();
        let transfer = json!({
            "country": recipient.country,
            "cross_border": !home.contains(recipient.country.as_str()),
            "safeguard": recipient.safeguard,
        });
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.now();
        let cats_json = json!(input.categories).to_string();
        let mut records = Vec::new();
        let mut refused = Vec::new();
        let mut seen = BTreeSet::new();
        let mut sent: Vec<String> = Vec::new();
        for subject in &input.subjects {
            if !seen.insert(subject) {
                continue;
            }
            let facts = match self.facts(&mut tx, &keys, tenant, subject).await {
                Ok(f) => f,
                Err(EngineError::NotFound(_)) => {
                    refused.push(json!({"subject": subject, "reasons": [{"code": "not_found", "detail": "no such subject"}]}));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let (dek, birth, rows) = facts;
            let events = Self::events(&rows)?;
            let d = decide(
                &policy,
                &SubjectFacts {
                    birth_date: birth,
                    consents: &events,
                },
                actor.as_caller(),
                &Ask {
                    action: Action::Disclose,
                    purpose: &purpose,
                    categories: &categories,
                },
                now,
            );
            if !d.allowed {
                refused.push(json!({"subject": subject, "reasons": d.reasons}));
                continue;
            }
            let mut fields = Vec::new();
            for f in tx.current_fields(tenant, subject).await? {
                let cat = crate::stored::category("field category", &f.category)?;
                if categories.iter().any(|c| cat.is_within(c)) {
                    let v = Self::open_field(tenant, subject, &dek, f)?;
                    fields.push(json!({"category": v.category, "value": v.value}));
                }
            }
            sent.push(subject.clone());
            if by_webhook {
                // Sealed under the person's key until the moment of sending: an erasure
                // before then means the values are never sent.
                let event = uuid::Uuid::now_v7().to_string();
                let body = json!({"disclosure": id, "purpose": purpose.as_str(), "fields": fields});
                tx.insert_outbox(&OutboxRow {
                    id: event.clone(),
                    tenant_id: tenant.to_string(),
                    event: "subject.disclosed".into(),
                    recipient: Some(input.recipient.clone()),
                    payload: json!({"subject": subject, "disclosure": id, "categories": input.categories}).to_string(),
                    sealed: Some(seal(
                        &dek,
                        body.to_string().as_bytes(),
                        &value_aad(tenant, subject, "outbox", &event),
                    )?),
                    subject_id: Some(subject.clone()),
                    created_at: now.as_millisecond(),
                    delivered_at: None,
                })
                .await?;
            } else {
                records.push(json!({"subject": subject, "fields": fields}));
            }
        }
        tx.insert_disclosure(&DisclosureRow {
            id: id.clone(),
            tenant_id: tenant.to_string(),
            recipient: input.recipient.clone(),
            purpose: purpose.to_string(),
            categories: cats_json.clone(),
            subjects: sent.len() as i64,
            refused: refused.len() as i64,
            created_at: now.as_millisecond(),
            actor: actor.id().to_string(),
        })
        .await?;
        for subject in &sent {
            tx.insert_disclosed(
                &id,
                tenant,
                subject,
                &input.recipient,
                &cats_json,
                now.as_millisecond(),
            )
            .await?;
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "disclosure",
            None,
            Some(purpose.as_str()),
            json!({"disclosure": id, "recipient": input.recipient, "categories": input.categories,
                   "subjects": sent.len(), "refused": refused.len(), "transfer": transfer,
                   "delivery": if by_webhook { "webhook" } else { "response" }}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(DisclosureResult {
            id,
            recipient: input.recipient.clone(),
            purpose: purpose.to_string(),
            categories: input.categories.clone(),
            transfer,
            delivery: if by_webhook { "webhook" } else { "response" }.into(),
            sent: sent.len(),
            records,
            refused,
        })
    }

    pub async fn disclosures(
        &self,
        actor: &Actor,
        tenant: &TenantId,
    ) -> Result<Vec<DisclosureView>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadPolicy, tenant)?;
        let mut tx = self.store.read().await?;
        tx.disclosures(tenant)
            .await?
            .into_iter()
            .map(|d| {
                Ok(DisclosureView {
                    id: d.id,
                    recipient: d.recipient,
                    purpose: d.purpose,
                    categories: crate::stored::list("disclosed categories", &d.categories)?,
                    subjects: d.subjects,
                    refused: d.refused,
                    at: jiff::Timestamp::from_millisecond(d.created_at)
                        .map(vow_core::wire::time)
                        .unwrap_or_default(),
                    actor: d.actor,
                })
            })
            .collect()
    }

    /// R12: tell every recipient that received a corrected category, and only those, the
    /// new values of just the changed fields. Values are sealed under the subject's key.
    pub(crate) async fn propagate_correction(
        &self,
        tx: &mut Tx,
        tenant: &str,
        subject: &str,
        dek: &Key32,
        changed: &[(String, Value)],
    ) -> Result<usize> {
        let mut events = 0;
        let sent = tx.disclosed_to(tenant, subject).await?;
        let recipients: BTreeSet<&str> = sent.iter().map(|(r, _, _)| r.as_str()).collect();
        for recipient in recipients {
            let mut had: Vec<Category> = Vec::new();
            for (_, c, _) in sent.iter().filter(|(r, _, _)| r == recipient) {
                had.extend(crate::stored::categories("disclosed categories", c)?);
            }
            let mut fields: Vec<&(String, Value)> = Vec::new();
            for f in changed {
                let c = crate::stored::category("field category", &f.0)?;
                if had.iter().any(|h| c.is_within(h)) {
                    fields.push(f);
                }
            }
            if fields.is_empty() {
                continue;
            }
            let id = uuid::Uuid::now_v7().to_string();
            let body = json!({"fields": fields.iter().map(|(c, v)| json!({"category": c, "value": v})).collect::<Vec<_>>()});
            let sealed = seal(
                dek,
                body.to_string().as_bytes(),
                &value_aad(tenant, subject, "outbox", &id),
            )?;
            tx.insert_outbox(&OutboxRow {
                id,
                tenant_id: tenant.to_string(),
                event: "subject.corrected".into(),
                recipient: Some(recipient.to_string()),
                payload: json!({"subject": subject, "categories": fields.iter().map(|(c, _)| c).collect::<Vec<_>>()}).to_string(),
                sealed: Some(sealed),
                subject_id: Some(subject.to_string()),
                created_at: self.now_ms(),
                delivered_at: None,
            })
            .await?;
            events += 1;
        }
        Ok(events)
    }

    /// R14: every recipient that received the person's data is told to erase it.
    pub(crate) async fn propagate_erasure(
        &self,
        tx: &mut Tx,
        _keys: &TenantKeys,
        tenant: &str,
        subject: &str,
    ) -> Result<usize> {
        let sent = tx.disclosed_to(tenant, subject).await?;
        let recipients: BTreeSet<String> = sent.into_iter().map(|(r, _, _)| r).collect();
        for recipient in &recipients {
            tx.insert_outbox(&OutboxRow {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: tenant.to_string(),
                event: "subject.erased".into(),
                recipient: Some(recipient.clone()),
                payload: json!({"subject": subject}).to_string(),
                sealed: None,
                subject_id: Some(subject.to_string()),
                created_at: self.now_ms(),
                delivered_at: None,
            })
            .await?;
        }
        Ok(recipients.len())
    }
}
