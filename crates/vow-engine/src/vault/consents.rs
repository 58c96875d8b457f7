//! The consent ledger: append-only events per subject and purpose, checked against
//! the policy (implied consent's lapse, parental consent's parent), with their
//! evidence sealed under the subject's key. The state now is derived, never stored.

use crate::engine::{parse_time, ts};
use crate::error::{EngineError, FieldError, Result};
use crate::input::{NewConsent, ParentRef};
use crate::vault::keyring::{TenantKeys, value_aad};
use crate::vault::subjects::Scope;
use crate::{Actor, Engine};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_core::{ConsentAction, ConsentEvent, ConsentKind, ConsentState, PurposeId};
use vow_crypto::{IdentifierKind, Key32, open, seal};
use vow_store::{ConsentRow, Tx};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentView {
    pub seq: i64,
    pub purpose: String,
    pub action: String,
    pub kind: String,
    pub at: String,
    pub expires_at: Option<String>,
    /// The policy version in force when it was recorded.
    pub policy_version: i64,
    pub parent_subject: Option<String>,
    /// Shown only to keys that may read personal data.
    #[schema(value_type = Option<Object>)]
    pub evidence: Option<Value>,
    pub recorded_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentsView {
    pub history: Vec<ConsentView>,
    /// purpose → state now (`granted`, `withdrawn`, `expired`).
    #[schema(value_type = Object)]
    pub current: serde_json::Map<String, Value>,
}

/// A consent event resolved against the policy, before sealing.
pub(crate) struct ResolvedConsent {
    pub(crate) event: ConsentEvent,
    pub(crate) evidence: Option<Value>,
}

impl Engine {
    async fn resolve_parent(
        &self,
        tx: &mut Tx,
        keys: &TenantKeys,
        tenant: &str,
        import: Option<&str>,
        p: &ParentRef,
        ptr: &str,
    ) -> Result<String> {
        if let Some(id) = &p.subject {
            return match tx.subject(tenant, id).await? {
                Some(s) if crate::engine::is_active(&s)? => Ok(s.id),
                _ => Err(EngineError::invalid(
                    ptr,
                    "no such parent subject in this tenant",
                )),
            };
        }
        let given = [
            (IdentifierKind::Email, p.email.as_ref()),
            (IdentifierKind::Phone, p.phone.as_ref()),
            (IdentifierKind::ExternalId, p.external_id.as_ref()),
        ];
        for (kind, v) in given {
            if let Some(v) = v {
                let bidx = keys.indexer.index(kind, v.expose()).map_err(|e| {
                    EngineError::invalid(format!("{ptr}/{}", kind.as_str()), e.to_string())
                })?;
                let found = match import {
                    Some(i) => tx.lookup_in_import(tenant, kind.as_str(), &bidx, i).await?,
                    None => tx.lookup(tenant, kind.as_str(), &bidx).await?,
                };
                return match found {
                    Some(id) => Ok(id),
                    None => Err(EngineError::invalid(
                        ptr,
                        "the parent must already be a subject of this tenant (record the parent first)",
                    )),
                };
            }
        }
        Err(EngineError::invalid(
            ptr,
            "name the parent by subject, email, phone or external_id",
        ))
    }

    /// Turn consent input into ledger events, checking them against the policy.
    pub(crate) async fn resolve_consent(
        &self,
        tx: &mut Tx,
        scope: &Scope<'_>,
        c: &NewConsent,
        ptr: &str,
        errors: &mut Vec<FieldError>,
    ) -> Result<Option<ResolvedConsent>> {
        let Scope {
            tenant,
            keys,
            policy,
            version,
            import,
        } = *scope;
        let now = self.now();
        let before = errors.len();
        let purpose = match PurposeId::new(c.purpose.as_str()) {
            Ok(p) if policy.purpose(&p).is_some() => Some(p),
            Ok(_) => {
                errors.push(FieldError::new(
                    format!("{ptr}/purpose"),
                    format!("the policy names no purpose {}", c.purpose),
                ));
                None
            }
            Err(e) => {
                errors.push(FieldError::new(format!("{ptr}/purpose"), e.to_string()));
                None
            }
        };
        let action = match c.action.as_deref().unwrap_or("grant") {
            "grant" => ConsentAction::Grant,
            "withdraw" => ConsentAction::Withdraw,
            _ => {
                errors.push(FieldError::new(
                    format!("{ptr}/action"),
                    "must be grant or withdraw",
                ));
                ConsentAction::Grant
            }
        };
        let kind = match ConsentKind::parse(c.kind.as_deref().unwrap_or("express")) {
            Some(k) => k,
            None => {
                errors.push(FieldError::new(
                    format!("{ptr}/kind"),
                    "must be express, implied or parental",
                ));
                ConsentKind::Express
            }
        };
        let at = match &c.at {
            Some(t) => match parse_time(&format!("{ptr}/at"), t) {
                Ok(t) if t <= now => t,
                Ok(_) => {
                    errors.push(FieldError::new(
                        format!("{ptr}/at"),
                        "must not be in the future",
                    ));
                    now
                }
                Err(EngineError::Invalid(mut e)) => {
                    errors.append(&mut e);
                    now
                }
                Err(e) => return Err(e),
            },
            None => now,
        };
        let mut expires_at = match &c.expires_at {
            Some(t) => match parse_time(&format!("{ptr}/expires_at"), t) {
                Ok(t) => Some(t),
                Err(EngineError::Invalid(mut e)) => {
                    errors.append(&mut e);
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        let evidence = c.evidence.as_ref().map(|e| e.expose().clone());
        if let Some(e) = &evidence
            && !e.is_object()
        {
            errors.push(FieldError::new(
                format!("{ptr}/evidence"),
                "must be an object, e.g. {\"channel\":\"web\"}",
            ));
        }
        if kind == ConsentKind::Implied && action == ConsentAction::Grant {
            let event = evidence
                .as_ref()
                .and_then(|e| e.get("event"))
                .and_then(Value::as_str);
            match (event, &purpose) {
                (None, _) => errors.push(FieldError::new(
                    format!("{ptr}/evidence/event"),
                    "implied consent must name the event that implies it (e.g. purchase, inquiry)",
                )),
                (Some(ev), Some(p)) => match policy.implied_rule(ev, p) {
                    Some(rule) => {
                        let lapse = rule.lasts.after(at);
                        expires_at = Some(expires_at.map_or(lapse, |x| x.min(lapse)));
                    }
                    None => errors.push(FieldError::new(
                        format!("{ptr}/evidence/event"),
                        format!(
                            "the policy has no implied-consent rule for event {ev} and purpose {p}"
                        ),
                    )),
                },
                (Some(_), None) => {}
            }
        }
        let parent = match (&c.parent, kind) {
            (Some(p), ConsentKind::Parental) => match self
                .resolve_parent(tx, keys, tenant, import, p, &format!("{ptr}/parent"))
                .await
            {
                Ok(id) => Some(id),
                Err(EngineError::Invalid(mut e)) => {
                    errors.append(&mut e);
                    None
                }
                Err(e) => return Err(e),
            },
            (None, ConsentKind::Parental) if action == ConsentAction::Grant => {
                errors.push(FieldError::new(
                    format!("{ptr}/parent"),
                    "parental consent must name the parent",
                ));
                None
            }
            (Some(_), _) => {
                errors.push(FieldError::new(
                    format!("{ptr}/parent"),
                    "only parental consent names a parent",
                ));
                None
            }
            (None, _) => None,
        };
        if errors.len() > before {
            return Ok(None);
        }
        let Some(purpose) = purpose else {
            return Ok(None);
        };
        Ok(Some(ResolvedConsent {
            event: ConsentEvent {
                purpose,
                action,
                kind,
                at,
                expires_at,
                policy_version: u32::try_from(version).unwrap_or(u32::MAX),
                parent,
            },
            evidence,
        }))
    }

    pub(crate) fn seal_consent(
        &self,
        actor: &Actor,
        tenant: &str,
        subject: &str,
        dek: &Key32,
        version: i64,
        rc: ResolvedConsent,
    ) -> Result<ConsentRow> {
        let id = uuid::Uuid::now_v7().to_string();
        let evidence = match rc.evidence {
            Some(e) => Some(seal(
                dek,
                e.to_string().as_bytes(),
                &value_aad(tenant, subject, "consent", &id),
            )?),
            None => None,
        };
        Ok(ConsentRow {
            id,
            tenant_id: tenant.to_string(),
            subject_id: subject.to_string(),
            seq: 0,
            purpose: rc.event.purpose.to_string(),
            action: rc.event.action.as_str().to_string(),
            kind: rc.event.kind.as_str().to_string(),
            at: rc.event.at.as_millisecond(),
            expires_at: rc.event.expires_at.map(|t| t.as_millisecond()),
            policy_version: version,
            parent_subject_id: rc.event.parent,
            evidence,
            recorded_at: self.now_ms(),
            recorded_by: actor.id().to_string(),
        })
    }

    /// The consent ledger's rows as events; a row that does not read back is a corrupted
    /// store, not a consent to leave out.
    pub(crate) fn events(rows: &[ConsentRow]) -> Result<Vec<ConsentEvent>> {
        use crate::stored::corrupt;
        let time = |ms: i64| Timestamp::from_millisecond(ms).map_err(|_| corrupt("consent time"));
        rows.iter()
            .map(|r| {
                Ok(ConsentEvent {
                    purpose: crate::stored::purpose("consent purpose", &r.purpose)?,
                    action: ConsentAction::parse(&r.action)
                        .ok_or_else(|| corrupt("consent action"))?,
                    kind: ConsentKind::parse(&r.kind).ok_or_else(|| corrupt("consent kind"))?,
                    at: time(r.at)?,
                    expires_at: r.expires_at.map(time).transpose()?,
                    policy_version: u32::try_from(r.policy_version).unwrap_or(0),
                    parent: r.parent_subject_id.clone(),
                })
            })
            .collect()
    }

    /// Append a consent event to the subject's ledger.
    pub async fn record_consent(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        subject: &str,
        c: &NewConsent,
    ) -> Result<ConsentView> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::RecordConsent, tenant)?;
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, version) = self.policy_for(&mut tx, tenant).await?;
        let (dek, _, _) = self.facts(&mut tx, &keys, tenant, subject).await?;
        if let Some(allowed) = &actor.caller.purposes
            && !allowed.iter().any(|p| p.as_str() == c.purpose)
        {
            return Err(EngineError::Forbidden(format!(
                "this key is not allowed the purpose {}",
                c.purpose
            )));
        }
        let mut errors = Vec::new();
        let rc = self
            .resolve_consent(
                &mut tx,
                &Scope {
                    tenant,
                    keys: &keys,
                    policy: &policy,
                    version,
                    import: None,
                },
                c,
                "",
                &mut errors,
            )
            .await?;
        let Some(rc) = rc.filter(|_| errors.is_empty()) else {
            return Err(EngineError::Invalid(errors));
        };
        let action = rc.event.action;
        let purpose = rc.event.purpose.to_string();
        let mut row = self.seal_consent(actor, tenant, subject, &dek, version, rc)?;
        row.seq = tx.append_consent(&row).await?;
        if action == ConsentAction::Withdraw {
            self.propagate_withdrawal(&mut tx, tenant, subject, &purpose)
                .await?;
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            &format!("consent.{}", action.as_str()),
            Some(subject),
            Some(&purpose),
            json!({"kind": row.kind, "policy_version": version}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(Self::consent_view(&row, None))
    }

    fn consent_view(r: &ConsentRow, evidence: Option<Value>) -> ConsentView {
        ConsentView {
            seq: r.seq,
            purpose: r.purpose.clone(),
            action: r.action.clone(),
            kind: r.kind.clone(),
            at: ts(r.at),
            expires_at: r.expires_at.map(ts),
            policy_version: r.policy_version,
            parent_subject: r.parent_subject_id.clone(),
            evidence,
            recorded_at: ts(r.recorded_at),
        }
    }

    /// The full ledger of a subject and the state it gives now.
    pub async fn consents(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        subject: &str,
    ) -> Result<ConsentsView> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadConsents, tenant)?;
        let show_evidence = actor.local || actor.caller.role.may(Capability::ReadPersonalData);
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (dek, _, rows) = self.facts(&mut tx, &keys, tenant, subject).await?;
        drop(tx);
        let mut history = Vec::new();
        for r in &rows {
            let evidence = match (&r.evidence, show_evidence) {
                (Some(e), true) => {
                    let plain = open(&dek, e, &value_aad(tenant, subject, "consent", &r.id))?;
                    serde_json::from_slice(&plain).ok()
                }
                _ => None,
            };
            history.push(Self::consent_view(r, evidence));
        }
        let events = Self::events(&rows)?;
        let mut current = serde_json::Map::new();
        for (p, s) in ConsentState::all(&events, self.now()) {
            let mut v = json!({"state": s.name()});
            if let ConsentState::Granted {
                kind, expires_at, ..
            } = s
            {
                v["kind"] = json!(kind.as_str());
                v["expires_at"] = json!(expires_at.map(vow_core::wire::time));
            }
            current.insert(p.to_string(), v);
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "consent.read",
            Some(subject),
            None,
            json!({"events": rows.len(), "evidence": show_evidence}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(ConsentsView { history, current })
    }
}
