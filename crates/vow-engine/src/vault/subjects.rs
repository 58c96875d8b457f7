//! Subjects: collection (each value through the decision function, as of when it was
//! collected), corrections that keep the previous version, and a person's residence.

use crate::engine::parse_time;
use crate::error::{EngineError, FieldError, Result};
use crate::input::{NewField, NewSubject, SubjectPatch};
use crate::vault::keyring::{TenantKeys, new_subject_key, value_aad};
use crate::{Actor, Engine};
use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashSet};
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_core::{
    Action, Ask, Category, ConsentEvent, Decision, Policy, PurposeId, Reason, SubjectFacts, decide,
};
use vow_crypto::{Key32, seal};
use vow_store::{FieldRow, IdentifierKey, IdentifierRow, NewPerson, SubjectKeyRow, SubjectRow, Tx};

fn uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Everything one new subject turns into, sealed and ready to insert.
pub(crate) struct Prepared {
    pub person: NewPerson,
    pub categories: BTreeSet<String>,
}

impl Prepared {
    /// Insert the subject (a batch of one: see [`Tx::insert_people`]).
    pub(crate) async fn insert(self, tx: &mut Tx) -> Result<Prepared> {
        tx.insert_people(std::slice::from_ref(&self.person), None)
            .await
            .map_err(|e| match e {
                vow_store::StoreError::Conflict(what) => {
                    EngineError::Conflict(format!("{what} already exists"))
                }
                e => e.into(),
            })?;
        Ok(self)
    }
}

/// What an import batch already knows about its identifiers (from one query for the
/// whole batch): those held by someone, and those of people erased (suppressed).
pub(crate) struct Known {
    pub held: HashSet<IdentifierKey>,
    pub suppressed: HashSet<IdentifierKey>,
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
    /// The running import the write belongs to: its own people (not yet visible)
    /// count as existing, e.g. a parent named by a later row.
    pub import: Option<&'a str>,
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

/// A residence given in input: validated and upper-cased; a problem is added at `ptr`.
fn residence(input: Option<&str>, ptr: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match input.map(vow_core::breach::parse_residence) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            errors.push(FieldError::new(ptr, e));
            None
        }
        None => None,
    }
}

impl Engine {
    /// Set a subject's residence inside `tx` (PATCH …/subjects/{s}).
    async fn set_residence_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        tenant: &str,
        subject: &str,
        input: Option<&str>,
    ) -> Result<()> {
        let mut errors = Vec::new();
        let r = residence(input, "/residence", &mut errors);
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        match tx.subject(tenant, subject).await? {
            Some(s) if crate::engine::is_active(&s)? => {}
            _ => return Err(EngineError::NotFound("subject")),
        }
        tx.set_subject_residence(tenant, subject, r.as_deref())
            .await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "subject.residence",
            Some(subject),
            None,
            json!({}),
        );
        self.chain.append(tx, &[entry]).await
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
    /// With `known`, identifiers are checked against it rather than one by one in
    /// the store.
    pub(crate) async fn prepare_subject(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        scope: &Scope<'_>,
        input: &NewSubject,
        known: Option<&Known>,
    ) -> Result<Prepared> {
        let Scope {
            tenant,
            keys,
            policy,
            version,
            ..
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
                    let (suppressed, held) = match known {
                        Some(k) => {
                            let key = (kind.as_str().to_string(), b.to_vec());
                            (k.suppressed.contains(&key), k.held.contains(&key))
                        }
                        None => (
                            tx.is_suppressed(tenant, kind.as_str(), &b).await?,
                            tx.lookup(tenant, kind.as_str(), &b).await?.is_some(),
                        ),
                    };
                    if suppressed {
                        return Err(EngineError::Conflict(format!(
                            "this {} belongs to a person who asked to be erased; they are not re-created",
                            kind.as_str()
                        )));
                    }
                    if held {
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
        let residence = residence(input.residence.as_deref(), "/residence", &mut errors);
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
            person: NewPerson {
                subject: SubjectRow {
                    id: subject.clone(),
                    tenant_id: tenant.to_string(),
                    created_at: self.now_ms(),
                    birth_date: birth,
                    status: vow_core::SubjectStatus::Active.as_str().to_string(),
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
                residence,
            },
            categories,
        })
    }

    pub async fn create_subject(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        input: &NewSubject,
    ) -> Result<String> {
        let tenant = tenant.as_str();
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
                    import: None,
                },
                input,
                None,
            )
            .await?
            .insert(&mut tx)
            .await?;
        let id = prepared.person.subject.id.clone();
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "subject.create",
            Some(&id),
            None,
            json!({"categories": prepared.categories, "consents": prepared.person.consents.len()}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Add fields, or correct existing ones (the previous version is kept).
    /// Returns the ids of the new field versions.
    pub async fn update_subject(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        subject: &str,
        patch: &SubjectPatch,
    ) -> Result<Vec<String>> {
        let tenant = tenant.as_str();
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
            let old_purposes: Option<Vec<PurposeId>> = target
                .map(|t| crate::stored::purposes("field purposes", &t.purposes))
                .transpose()?;
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
        let events = Self::events(&rows)?;
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
        self.chain.append(tx, &[entry]).await?;
        Ok(ids)
    }
}
