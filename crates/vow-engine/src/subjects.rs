//! Subjects: collection (through the decision function), lookup through blind
//! indexes, corrections that keep history, the consent ledger, and purpose-bound reads.

use crate::engine::parse_time;
use crate::error::{EngineError, FieldError, Result};
use crate::input::{NewConsent, NewField, NewSubject, ParentRef, SubjectPatch};
use crate::vault::keyring::{TenantKeys, new_subject_key, value_aad};
use crate::{Actor, Engine};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use utoipa::ToSchema;
use vow_core::role::Capability;
use vow_core::{
    Action, Ask, Category, ConsentAction, ConsentEvent, ConsentKind, ConsentState, Decision,
    Policy, PurposeId, Reason, SubjectFacts, decide,
};
use vow_crypto::{IdentifierKind, Key32, open, seal};
use vow_store::{ConsentRow, FieldRow, IdentifierRow, SubjectKeyRow, SubjectRow, Tx};

pub use vow_crypto::IdentifierKind as LookupKind;

/// A value returned by a purpose-bound read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldValue {
    pub id: String,
    pub category: String,
    #[schema(value_type = Object)]
    pub value: Value,
    pub purposes: Vec<String>,
    pub source: String,
    pub store: String,
    pub collected_at: String,
    pub version: i64,
}

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

use crate::engine::ts;

fn uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Everything one new subject turns into, sealed and ready to insert.
pub(crate) struct Prepared {
    pub subject: SubjectRow,
    pub key: SubjectKeyRow,
    pub identifiers: Vec<IdentifierRow>,
    pub fields: Vec<FieldRow>,
    pub consents: Vec<ConsentRow>,
    pub categories: BTreeSet<String>,
    pub residence: Option<String>,
}

impl Prepared {
    pub(crate) async fn insert(&self, tx: &mut Tx) -> Result<()> {
        tx.insert_subject(&self.subject).await?;
        if let Some(r) = &self.residence {
            tx.set_subject_residence(&self.subject.tenant_id, &self.subject.id, Some(r))
                .await?;
        }
        tx.insert_subject_key(&self.key).await?;
        for i in &self.identifiers {
            tx.insert_identifier(i).await.map_err(|e| {
                if e.is_unique_violation() {
                    EngineError::Conflict(format!("a subject with this {} already exists", i.kind))
                } else {
                    e.into()
                }
            })?;
        }
        for f in &self.fields {
            tx.insert_field(f).await?;
        }
        for c in &self.consents {
            tx.append_consent(c).await?;
        }
        Ok(())
    }
}

type Planned = (
    (Category, Vec<PurposeId>, String, String, Timestamp),
    Value,
    Option<(String, i64)>,
);

/// What every write to one tenant works against.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub tenant: &'a str,
    pub keys: &'a TenantKeys,
    pub policy: &'a Policy,
    pub version: i64,
}

/// A consent event resolved against the policy, before sealing.
struct ResolvedConsent {
    event: ConsentEvent,
    evidence: Option<Value>,
}

fn merge_refusals(decisions: Vec<Decision>) -> Option<Decision> {
    let mut reasons: Vec<Reason> = Vec::new();
    for d in decisions {
        for r in d.reasons {
            if !reasons.contains(&r) {
                reasons.push(r);
            }
        }
    }
    if reasons.is_empty() {
        None
    } else {
        Some(Decision {
            allowed: false,
            reasons,
        })
    }
}

impl Engine {
    async fn resolve_parent(
        &self,
        tx: &mut Tx,
        keys: &TenantKeys,
        tenant: &str,
        p: &ParentRef,
        ptr: &str,
    ) -> Result<String> {
        if let Some(id) = &p.subject {
            return match tx.subject(tenant, id).await? {
                Some(s) if s.status == "active" => Ok(s.id),
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
                return match tx.lookup(tenant, kind.as_str(), &bidx).await? {
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
    async fn resolve_consent(
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
                .resolve_parent(tx, keys, tenant, p, &format!("{ptr}/parent"))
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

    fn seal_consent(
        &self,
        actor: &Actor,
        tenant: &str,
        subject: &str,
        dek: &Key32,
        version: i64,
        rc: ResolvedConsent,
    ) -> Result<ConsentRow> {
        let id = uuid();
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

    /// Validate a field's shape; returns (category, purposes, source, store, collected_at).
    fn check_field(
        &self,
        policy: &Policy,
        f: &NewField,
        ptr: &str,
        errors: &mut Vec<FieldError>,
        default_purposes: Option<&[PurposeId]>,
    ) -> Option<(Category, Vec<PurposeId>, String, String, Timestamp)> {
        let before = errors.len();
        let category = match Category::new(f.category.as_str()) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(FieldError::new(format!("{ptr}/category"), e.to_string()));
                None
            }
        };
        let mut purposes = Vec::new();
        for (j, p) in f.purposes.iter().enumerate() {
            match PurposeId::new(p.as_str()) {
                Ok(p) => purposes.push(p),
                Err(e) => errors.push(FieldError::new(
                    format!("{ptr}/purposes/{j}"),
                    e.to_string(),
                )),
            }
        }
        if f.purposes.is_empty() {
            match default_purposes {
                Some(d) => purposes = d.to_vec(),
                None => errors.push(FieldError::new(
                    format!("{ptr}/purposes"),
                    "name at least one purpose the value is collected for",
                )),
            }
        }
        match f.value.expose() {
            Value::String(s) if s.len() <= 64 * 1024 => {}
            Value::Number(_) | Value::Bool(_) => {}
            Value::String(_) => errors.push(FieldError::new(
                format!("{ptr}/value"),
                "a value may be at most 64 KiB",
            )),
            _ => errors.push(FieldError::new(
                format!("{ptr}/value"),
                "must be a string, number or boolean",
            )),
        }
        let source = f.source.clone().unwrap_or_else(|| "api".to_string());
        if source.is_empty() || source.len() > 100 || source.chars().any(char::is_control) {
            errors.push(FieldError::new(
                format!("{ptr}/source"),
                "must be 1 to 100 printable characters",
            ));
        }
        if let Some(c) = &category
            && !policy.knows_category(c)
        {
            errors.push(FieldError::new(
                format!("{ptr}/category"),
                format!("the policy names no data category {c}"),
            ));
        }
        let store = f.store.clone().unwrap_or_else(|| "primary".to_string());
        if !policy.stores.is_empty() {
            match (policy.store(&store), &category) {
                (None, _) => errors.push(FieldError::new(
                    format!("{ptr}/store"),
                    format!("the policy names no data store {store}"),
                )),
                (Some(s), Some(c)) if !s.categories.iter().any(|sc| c.is_within(sc)) => errors
                    .push(FieldError::new(
                        format!("{ptr}/store"),
                        format!("the policy does not list {c} among what store {store} holds"),
                    )),
                _ => {}
            }
        }
        let collected_at = match &f.collected_at {
            Some(t) => match parse_time(&format!("{ptr}/collected_at"), t) {
                Ok(t) if t <= self.now() => t,
                Ok(_) => {
                    errors.push(FieldError::new(
                        format!("{ptr}/collected_at"),
                        "must not be in the future",
                    ));
                    self.now()
                }
                Err(EngineError::Invalid(mut e)) => {
                    errors.append(&mut e);
                    self.now()
                }
                Err(_) => self.now(),
            },
            None => self.now(),
        };
        if errors.len() > before {
            return None;
        }
        Some((category?, purposes, source, store, collected_at))
    }

    fn seal_field(
        tenant: &str,
        subject: &str,
        dek: &Key32,
        parts: (Category, Vec<PurposeId>, String, String, Timestamp),
        value: &Value,
        version: i64,
        supersedes: Option<String>,
    ) -> Result<FieldRow> {
        let (category, purposes, source, store, collected_at) = parts;
        let id = uuid();
        let sealed = seal(
            dek,
            value.to_string().as_bytes(),
            &value_aad(tenant, subject, category.as_str(), &id),
        )?;
        Ok(FieldRow {
            id,
            tenant_id: tenant.to_string(),
            subject_id: subject.to_string(),
            category: category.to_string(),
            purposes: json!(purposes).to_string(),
            source,
            store,
            collected_at: collected_at.as_millisecond(),
            value: sealed,
            version,
            supersedes,
            superseded_at: None,
        })
    }

    /// Validate, judge and seal a new subject. Nothing is written here.
    pub(crate) async fn prepare_subject(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        scope: &Scope<'_>,
        input: &NewSubject,
    ) -> Result<Prepared> {
        let Scope {
            tenant,
            keys,
            policy,
            version,
        } = *scope;
        let mut errors = Vec::new();
        if input.identifiers.is_empty() {
            errors.push(FieldError::new(
                "/identifiers",
                "give at least one of email, phone, external_id",
            ));
        }
        let mut bidx = Vec::new();
        for (kind, value) in input.identifiers.iter() {
            let ptr = format!("/identifiers/{}", kind.as_str());
            match vow_crypto::normalize(kind, value.expose()) {
                Ok(norm) => {
                    let b = keys.indexer.index_normalized(kind, &norm);
                    if tx.is_suppressed(tenant, kind.as_str(), &b).await? {
                        return Err(EngineError::Conflict(format!(
                            "this {} belongs to a person who asked to be erased; they are not re-created",
                            kind.as_str()
                        )));
                    }
                    if tx.lookup(tenant, kind.as_str(), &b).await?.is_some() {
                        return Err(EngineError::Conflict(format!(
                            "a subject with this {} already exists in tenant {tenant}",
                            kind.as_str()
                        )));
                    }
                    bidx.push((kind, b, norm));
                }
                Err(e) => errors.push(FieldError::new(ptr, e.to_string())),
            }
        }
        let birth_date = match &input.birth_date {
            Some(b) => match b.expose().parse::<Date>() {
                Ok(d) if d <= self.now().to_zoned(jiff::tz::TimeZone::UTC).date() => Some(d),
                Ok(_) => {
                    errors.push(FieldError::new("/birth_date", "must not be in the future"));
                    None
                }
                Err(_) => {
                    errors.push(FieldError::new("/birth_date", "expected a date YYYY-MM-DD"));
                    None
                }
            },
            None => None,
        };
        let residence =
            crate::breaches::residence(input.residence.as_deref(), "/residence", &mut errors);
        let mut consents = Vec::new();
        for (i, c) in input.consents.iter().enumerate() {
            if let Some(rc) = self
                .resolve_consent(tx, scope, c, &format!("/consents/{i}"), &mut errors)
                .await?
            {
                consents.push(rc);
            }
        }
        let mut fields = Vec::new();
        for (i, f) in input.fields.iter().enumerate() {
            if let Some(parts) =
                self.check_field(policy, f, &format!("/fields/{i}"), &mut errors, None)
            {
                fields.push((parts, f.value.expose()));
            }
        }
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        // Consents given at collection count; the ledger keeps them in the order given.
        let events: Vec<ConsentEvent> = consents.iter().map(|c| c.event.clone()).collect();
        let facts = SubjectFacts {
            birth_date,
            consents: &events,
        };
        // Collection is judged as of when it happened: consent given then, age then.
        let refusals = fields
            .iter()
            .flat_map(|((cat, purposes, _, _, collected_at), _)| {
                purposes.iter().map(|p| {
                    decide(
                        policy,
                        &facts,
                        actor.as_caller(),
                        &Ask {
                            action: Action::Collect,
                            purpose: p,
                            categories: std::slice::from_ref(cat),
                        },
                        *collected_at,
                    )
                })
            })
            .filter(|d| !d.allowed)
            .collect::<Vec<_>>();
        if let Some(d) = merge_refusals(refusals) {
            return Err(EngineError::Refused(d));
        }

        let subject = uuid();
        let (dek, wrapped) = new_subject_key(keys, tenant, &subject)?;
        let birth = match birth_date {
            Some(d) => Some(seal(
                &dek,
                d.to_string().as_bytes(),
                &value_aad(tenant, &subject, "birth_date", &subject),
            )?),
            None => None,
        };
        let mut identifiers = Vec::new();
        for (kind, b, norm) in bidx {
            identifiers.push(IdentifierRow {
                tenant_id: tenant.to_string(),
                kind: kind.as_str().to_string(),
                bidx: b.to_vec(),
                subject_id: subject.clone(),
                value: seal(
                    &dek,
                    norm.as_bytes(),
                    &value_aad(tenant, &subject, "identifier", kind.as_str()),
                )?,
            });
        }
        let mut categories = BTreeSet::new();
        let mut field_rows = Vec::new();
        for (parts, value) in fields {
            categories.insert(parts.0.to_string());
            field_rows.push(Self::seal_field(
                tenant, &subject, &dek, parts, value, 1, None,
            )?);
        }
        let mut consent_rows = Vec::new();
        for rc in consents {
            consent_rows.push(self.seal_consent(actor, tenant, &subject, &dek, version, rc)?);
        }
        Ok(Prepared {
            subject: SubjectRow {
                id: subject.clone(),
                tenant_id: tenant.to_string(),
                created_at: self.now_ms(),
                birth_date: birth,
                status: "active".to_string(),
            },
            key: SubjectKeyRow {
                subject_id: subject,
                tenant_id: tenant.to_string(),
                kek_version: keys.current,
                wrapped,
            },
            identifiers,
            fields: field_rows,
            consents: consent_rows,
            categories,
            residence,
        })
    }

    pub async fn create_subject(
        &self,
        actor: &Actor,
        tenant: &str,
        input: &NewSubject,
    ) -> Result<String> {
        self.authorize(actor, Capability::WriteSubjects, tenant)?;
        match self.create_subject_once(actor, tenant, input).await {
            // Keys were rotated by another process since we cached them: once more, fresh.
            Err(EngineError::Store(vow_store::StoreError::Stale(_))) => {
                self.keys.forget(tenant);
                self.create_subject_once(actor, tenant, input).await
            }
            other => other,
        }
    }

    async fn create_subject_once(
        &self,
        actor: &Actor,
        tenant: &str,
        input: &NewSubject,
    ) -> Result<String> {
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, version) = self.policy_for(&mut tx, tenant).await?;
        let prepared = self
            .prepare_subject(
                &mut tx,
                actor,
                &Scope {
                    tenant,
                    keys: &keys,
                    policy: &policy,
                    version,
                },
                input,
            )
            .await?;
        prepared.insert(&mut tx).await?;
        let id = prepared.subject.id.clone();
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "subject.create",
            Some(&id),
            None,
            json!({"categories": prepared.categories, "consents": prepared.consents.len()}),
        );
        crate::vault::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Find a subject through the blind index. The lookup itself is audited.
    pub async fn lookup(
        &self,
        actor: &Actor,
        tenant: &str,
        kind: IdentifierKind,
        value: &str,
    ) -> Result<Option<String>> {
        self.authorize(actor, Capability::LookupSubjects, tenant)?;
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let bidx = keys
            .indexer
            .index(kind, value)
            .map_err(|e| EngineError::invalid(kind.as_str(), e.to_string()))?;
        let found = tx.lookup(tenant, kind.as_str(), &bidx).await?;
        drop(tx);
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "subject.lookup",
            found.as_deref(),
            None,
            json!({"by": kind.as_str(), "found": found.is_some()}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(found)
    }

    /// Load what decisions about a subject need; the data key is returned for reads.
    pub(crate) async fn facts(
        &self,
        tx: &mut Tx,
        keys: &TenantKeys,
        tenant: &str,
        subject: &str,
    ) -> Result<(Key32, Option<Date>, Vec<ConsentRow>)> {
        let row = tx.subject(tenant, subject).await?;
        let row = match row {
            Some(r) if r.status == "active" => r,
            _ => return Err(EngineError::NotFound("subject")),
        };
        let key = tx
            .subject_key(tenant, subject)
            .await?
            .ok_or(EngineError::NotFound("subject"))?;
        let dek = self
            .keys
            .subject_dek(tx, keys, tenant, subject, key.kek_version, &key.wrapped)
            .await?;
        let birth = match row.birth_date {
            Some(b) => {
                let plain = open(&dek, &b, &value_aad(tenant, subject, "birth_date", subject))?;
                let text = std::str::from_utf8(&plain)
                    .map_err(|_| EngineError::Internal("stored birth date is unreadable".into()))?;
                Some(
                    text.parse::<Date>().map_err(|_| {
                        EngineError::Internal("stored birth date is unreadable".into())
                    })?,
                )
            }
            None => None,
        };
        let consents = tx.consents(tenant, subject).await?;
        Ok((dek, birth, consents))
    }

    pub(crate) fn events(rows: &[ConsentRow]) -> Vec<ConsentEvent> {
        rows.iter()
            .filter_map(|r| {
                Some(ConsentEvent {
                    purpose: PurposeId::new(r.purpose.as_str()).ok()?,
                    action: ConsentAction::parse(&r.action)?,
                    kind: ConsentKind::parse(&r.kind)?,
                    at: Timestamp::from_millisecond(r.at).ok()?,
                    expires_at: r
                        .expires_at
                        .and_then(|x| Timestamp::from_millisecond(x).ok()),
                    policy_version: u32::try_from(r.policy_version).unwrap_or(0),
                    parent: r.parent_subject_id.clone(),
                })
            })
            .collect()
    }

    fn parse_categories(categories: &[String]) -> Result<Vec<Category>> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (i, c) in categories.iter().enumerate() {
            match Category::new(c.as_str()) {
                Ok(c) => out.push(c),
                Err(e) => errors.push(FieldError::new(format!("/categories/{i}"), e.to_string())),
            }
        }
        if categories.is_empty() {
            errors.push(FieldError::new("/categories", "name at least one category"));
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(EngineError::Invalid(errors))
        }
    }

    /// Would this read be allowed? Nothing is returned but the decision.
    pub async fn decide(
        &self,
        actor: &Actor,
        tenant: &str,
        subject: &str,
        purpose: &str,
        categories: &[String],
    ) -> Result<Decision> {
        self.authorize(actor, Capability::Decide, tenant)?;
        let purpose =
            PurposeId::new(purpose).map_err(|e| EngineError::invalid("/purpose", e.to_string()))?;
        let categories = Self::parse_categories(categories)?;
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let (_, birth, rows) = self.facts(&mut tx, &keys, tenant, subject).await?;
        drop(tx);
        let events = Self::events(&rows);
        let decision = decide(
            &policy,
            &SubjectFacts {
                birth_date: birth,
                consents: &events,
            },
            actor.as_caller(),
            &Ask {
                action: Action::Read,
                purpose: &purpose,
                categories: &categories,
            },
            self.now(),
        );
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "decision",
            Some(subject),
            Some(purpose.as_str()),
            json!({"categories": categories, "allowed": decision.allowed,
                   "reasons": decision.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>()}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(decision)
    }

    /// A purpose-bound read: the values of the asked categories, if the decision
    /// allows; the audit entry is durable before anything is returned.
    pub async fn read(
        &self,
        actor: &Actor,
        tenant: &str,
        subject: &str,
        purpose: &str,
        categories: &[String],
    ) -> Result<Vec<FieldValue>> {
        self.authorize(actor, Capability::ReadPersonalData, tenant)?;
        let purpose =
            PurposeId::new(purpose).map_err(|e| EngineError::invalid("/purpose", e.to_string()))?;
        let categories = Self::parse_categories(categories)?;
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let (dek, birth, rows) = self.facts(&mut tx, &keys, tenant, subject).await?;
        let events = Self::events(&rows);
        let decision = decide(
            &policy,
            &SubjectFacts {
                birth_date: birth,
                consents: &events,
            },
            actor.as_caller(),
            &Ask {
                action: Action::Read,
                purpose: &purpose,
                categories: &categories,
            },
            self.now(),
        );
        let asked: Vec<&str> = categories.iter().map(Category::as_str).collect();
        if !decision.allowed {
            drop(tx);
            let entry = self.audit_entry(
                actor,
                Some(tenant),
                "read.refused",
                Some(subject),
                Some(purpose.as_str()),
                json!({"asked": asked, "reasons": decision.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>()}),
            );
            self.audit.record(vec![entry]).await?;
            return Err(EngineError::Refused(decision));
        }
        let fields = tx.current_fields(tenant, subject).await?;
        drop(tx);
        let mut out = Vec::new();
        for f in fields {
            let Ok(cat) = Category::new(f.category.as_str()) else {
                continue;
            };
            if !categories.iter().any(|c| cat.is_within(c)) {
                continue;
            }
            out.push(Self::open_field(tenant, subject, &dek, f)?);
        }
        let returned: BTreeSet<&str> = out.iter().map(|f| f.category.as_str()).collect();
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "read",
            Some(subject),
            Some(purpose.as_str()),
            json!({"asked": asked, "returned": returned}),
        );
        self.audit.record(vec![entry]).await?;
        metrics::counter!("vow_reads_total").increment(1);
        Ok(out)
    }

    pub(crate) fn open_field(
        tenant: &str,
        subject: &str,
        dek: &Key32,
        f: FieldRow,
    ) -> Result<FieldValue> {
        let plain = open(
            dek,
            &f.value,
            &value_aad(tenant, subject, &f.category, &f.id),
        )?;
        let value: Value = serde_json::from_slice(&plain)
            .map_err(|_| EngineError::Internal("a stored value is unreadable".into()))?;
        Ok(FieldValue {
            id: f.id,
            category: f.category,
            value,
            purposes: serde_json::from_str(&f.purposes).unwrap_or_default(),
            source: f.source,
            store: f.store,
            collected_at: ts(f.collected_at),
            version: f.version,
        })
    }

    /// Add fields, or correct existing ones (the previous version is kept).
    /// Returns the ids of the new field versions.
    pub async fn update_subject(
        &self,
        actor: &Actor,
        tenant: &str,
        subject: &str,
        patch: &SubjectPatch,
    ) -> Result<Vec<String>> {
        self.authorize(actor, Capability::WriteSubjects, tenant)?;
        if patch.fields.is_empty() && patch.residence.is_none() {
            return Err(EngineError::invalid(
                "/fields",
                "give at least one field, or a residence",
            ));
        }
        let mut tx = self.store.write().await?;
        if patch.residence.is_some() {
            self.set_residence_in(&mut tx, actor, tenant, subject, patch.residence.as_deref())
                .await?;
        }
        let ids = if patch.fields.is_empty() {
            Vec::new()
        } else {
            self.update_subject_in(&mut tx, actor, tenant, subject, patch)
                .await?
        };
        tx.commit().await?;
        Ok(ids)
    }

    /// Add or correct fields inside `tx` (also used by correction requests).
    pub(crate) async fn update_subject_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        tenant: &str,
        subject: &str,
        patch: &SubjectPatch,
    ) -> Result<Vec<String>> {
        if patch.fields.is_empty() {
            return Err(EngineError::invalid("/fields", "give at least one field"));
        }
        let keys = self.keys.tenant(tx, tenant).await?;
        let (policy, _) = self.policy_for(tx, tenant).await?;
        let (dek, birth, rows) = self.facts(tx, &keys, tenant, subject).await?;
        let current = tx.current_fields(tenant, subject).await?;
        let mut errors = Vec::new();
        let mut planned: Vec<Planned> = Vec::new();
        for (i, f) in patch.fields.iter().enumerate() {
            let ptr = format!("/fields/{i}");
            let target: Option<&FieldRow> = match &f.corrects {
                Some(id) => match current.iter().find(|c| &c.id == id) {
                    Some(c) => Some(c),
                    None => {
                        errors.push(FieldError::new(
                            format!("{ptr}/corrects"),
                            "no current field with this id",
                        ));
                        continue;
                    }
                },
                None => {
                    let same: Vec<&FieldRow> = current
                        .iter()
                        .filter(|c| c.category == f.category)
                        .collect();
                    if same.len() == 1 { Some(same[0]) } else { None }
                }
            };
            if let Some(t) = target
                && t.category != f.category
            {
                errors.push(FieldError::new(
                    format!("{ptr}/category"),
                    "a correction keeps the field's category",
                ));
                continue;
            }
            let old_purposes: Option<Vec<PurposeId>> = target.map(|t| {
                serde_json::from_str::<Vec<String>>(&t.purposes)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|p| PurposeId::new(p).ok())
                    .collect()
            });
            let mut f = f.clone();
            if let Some(t) = target {
                f.source.get_or_insert_with(|| "correction".to_string());
                f.store.get_or_insert_with(|| t.store.clone());
            }
            if let Some(parts) =
                self.check_field(&policy, &f, &ptr, &mut errors, old_purposes.as_deref())
            {
                planned.push((
                    parts,
                    f.value.expose().clone(),
                    target.map(|t| (t.id.clone(), t.version)),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        let events = Self::events(&rows);
        let facts = SubjectFacts {
            birth_date: birth,
            consents: &events,
        };
        // A correction that keeps the field's purposes carries on only those that still
        // have a basis (accuracy is owed even after a withdrawal); anything else must pass whole.
        let mut refusals: Vec<Decision> = Vec::new();
        for (i, ((cat, purposes, _, _, collected_at), _, target)) in planned.iter_mut().enumerate()
        {
            let decisions: Vec<(PurposeId, Decision)> = purposes
                .iter()
                .map(|p| {
                    let d = decide(
                        &policy,
                        &facts,
                        actor.as_caller(),
                        &Ask {
                            action: Action::Collect,
                            purpose: p,
                            categories: std::slice::from_ref(cat),
                        },
                        *collected_at,
                    );
                    (p.clone(), d)
                })
                .collect();
            let kept_purposes = target.is_some() && patch.fields[i].purposes.is_empty();
            if kept_purposes && decisions.iter().any(|(_, d)| d.allowed) {
                *purposes = decisions
                    .into_iter()
                    .filter(|(_, d)| d.allowed)
                    .map(|(p, _)| p)
                    .collect();
            } else {
                refusals.extend(decisions.into_iter().map(|(_, d)| d).filter(|d| !d.allowed));
            }
        }
        if let Some(d) = merge_refusals(refusals) {
            return Err(EngineError::Refused(d));
        }
        let mut ids = Vec::new();
        let mut added = BTreeSet::new();
        let mut changed: Vec<(String, Value)> = Vec::new();
        let mut corrected = BTreeSet::new();
        for (parts, value, target) in planned {
            let category = parts.0.to_string();
            let row = match &target {
                Some((old, version)) => {
                    tx.supersede_field(tenant, old, self.now_ms())
                        .await
                        .map_err(|e| {
                            if e.is_unique_violation() {
                                EngineError::Conflict(
                                    "the field was corrected concurrently; retry".into(),
                                )
                            } else {
                                e.into()
                            }
                        })?;
                    changed.push((category.clone(), value.clone()));
                    corrected.insert(category);
                    Self::seal_field(
                        tenant,
                        subject,
                        &dek,
                        parts,
                        &value,
                        version + 1,
                        Some(old.clone()),
                    )?
                }
                None => {
                    added.insert(category);
                    Self::seal_field(tenant, subject, &dek, parts, &value, 1, None)?
                }
            };
            tx.insert_field(&row).await?;
            ids.push(row.id);
        }
        // Every recipient that received a corrected category is told, in this transaction.
        let notified = self
            .propagate_correction(tx, tenant, subject, &dek, &changed)
            .await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "subject.update",
            Some(subject),
            None,
            json!({"added": added, "corrected": corrected, "recipients_notified": notified}),
        );
        crate::vault::audit::append(tx, &[entry]).await?;
        Ok(ids)
    }

    /// Every version of every field, oldest first: for corrections history and exports.
    pub async fn field_history(
        &self,
        actor: &Actor,
        tenant: &str,
        subject: &str,
    ) -> Result<Vec<(FieldValue, Option<String>)>> {
        self.authorize(actor, Capability::ReadHistory, tenant)?;
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (dek, _, _) = self.facts(&mut tx, &keys, tenant, subject).await?;
        let rows = tx.all_fields(tenant, subject).await?;
        drop(tx);
        let mut out = Vec::new();
        for r in rows {
            let superseded = r.superseded_at.map(ts);
            out.push((Self::open_field(tenant, subject, &dek, r)?, superseded));
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "read.history",
            Some(subject),
            None,
            json!({"fields": out.len()}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(out)
    }

    /// Append a consent event to the subject's ledger.
    pub async fn record_consent(
        &self,
        actor: &Actor,
        tenant: &str,
        subject: &str,
        c: &NewConsent,
    ) -> Result<ConsentView> {
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
        crate::vault::audit::append(&mut tx, &[entry]).await?;
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
        tenant: &str,
        subject: &str,
    ) -> Result<ConsentsView> {
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
        let events = Self::events(&rows);
        let mut current = serde_json::Map::new();
        for (p, s) in ConsentState::all(&events, self.now()) {
            let mut v = json!({"state": s.name()});
            if let ConsentState::Granted {
                kind, expires_at, ..
            } = s
            {
                v["kind"] = json!(kind.as_str());
                v["expires_at"] = json!(expires_at.map(|t| t.to_string()));
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
