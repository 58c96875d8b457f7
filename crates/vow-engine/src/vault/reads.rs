//! Purpose-bound reads: what a decision about a subject needs (birth date, consent
//! ledger), the decision itself, and the values it allows; each read is audited
//! before anything is returned.

use crate::engine::ts;
use crate::error::{EngineError, FieldError, Result};
use crate::vault::keyring::{TenantKeys, value_aad};
use crate::{Actor, Engine};
use jiff::civil::Date;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_core::{Action, Ask, Category, Decision, PurposeId, SubjectFacts, decide};
use vow_crypto::{Key32, open};
use vow_store::{ConsentRow, FieldRow, Tx};

/// A value returned by a purpose-bound read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldValue {
    pub id: String,
    pub category: String,
    #[schema(value_type = Value)]
    pub value: Value,
    pub purposes: Vec<String>,
    pub source: String,
    pub store: String,
    pub collected_at: String,
    pub version: i64,
}

/// A person's birth date, opened from its sealed form.
fn birth_date(
    dek: &Key32,
    tenant: &str,
    subject: &str,
    sealed: Option<&[u8]>,
) -> Result<Option<Date>> {
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let unreadable = || EngineError::Internal("stored birth date is unreadable".into());
    let plain = open(
        dek,
        sealed,
        &value_aad(tenant, subject, "birth_date", subject),
    )?;
    let text = std::str::from_utf8(&plain).map_err(|_| unreadable())?;
    Ok(Some(text.parse::<Date>().map_err(|_| unreadable())?))
}

impl Engine {
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
            Some(r) if crate::engine::is_active(&r)? => r,
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
        let birth = birth_date(&dek, tenant, subject, row.birth_date.as_deref())?;
        let consents = tx.consents(tenant, subject).await?;
        Ok((dek, birth, consents))
    }

    /// What [`Engine::facts`] gives, and with `fields` the current field values, read
    /// from one snapshot in one trip to the store (no transaction held meanwhile).
    async fn person(
        &self,
        keys: &TenantKeys,
        tenant: &str,
        subject: &str,
        fields: bool,
    ) -> Result<(Key32, Option<Date>, Vec<ConsentRow>, Vec<FieldRow>)> {
        let bundle = match self.store.subject_bundle(tenant, subject, fields).await? {
            Some(b) if crate::engine::is_active(&b.subject)? => b,
            _ => return Err(EngineError::NotFound("subject")),
        };
        let key = bundle.key.ok_or(EngineError::NotFound("subject"))?;
        let dek = self.keys.subject_dek_in(&self.store, keys, &key).await?;
        let birth = birth_date(&dek, tenant, subject, bundle.subject.birth_date.as_deref())?;
        Ok((dek, birth, bundle.consents, bundle.fields))
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
        tenant: &TenantId,
        subject: &str,
        purpose: &PurposeId,
        categories: &[String],
    ) -> Result<Decision> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::Decide, tenant)?;
        let categories = Self::parse_categories(categories)?;
        let (keys, policy) = self.keys_and_policy(tenant).await?;
        let (_, birth, rows, _) = self.person(&keys, tenant, subject, false).await?;
        let events = Self::events(&rows)?;
        let decision = decide(
            &policy,
            &SubjectFacts {
                birth_date: birth,
                consents: &events,
            },
            actor.as_caller(),
            &Ask {
                action: Action::Read,
                purpose,
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
        tenant: &TenantId,
        subject: &str,
        purpose: &PurposeId,
        categories: &[String],
    ) -> Result<Vec<FieldValue>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadPersonalData, tenant)?;
        let categories = Self::parse_categories(categories)?;
        let (keys, policy) = self.keys_and_policy(tenant).await?;
        let (dek, birth, rows, fields) = self.person(&keys, tenant, subject, true).await?;
        let decision = self.decide_read(actor, &policy, birth, &rows, purpose, &categories)?;
        if !decision.allowed {
            let refusal = Refusal {
                subject,
                purpose,
                asked: &categories,
                extra: json!({}),
            };
            return Err(self.refused_read(actor, tenant, refusal, decision).await);
        }
        let asked: Vec<&str> = categories.iter().map(Category::as_str).collect();
        let mut out = Vec::new();
        for f in fields {
            let cat = crate::stored::category("field category", &f.category)?;
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

    /// The decision function on a read of `categories` for `purpose`, now, about a
    /// person with this birth date and consent ledger.
    fn decide_read(
        &self,
        actor: &Actor,
        policy: &vow_core::Policy,
        birth: Option<Date>,
        ledger: &[ConsentRow],
        purpose: &PurposeId,
        categories: &[Category],
    ) -> Result<Decision> {
        let events = Self::events(ledger)?;
        Ok(decide(
            policy,
            &SubjectFacts {
                birth_date: birth,
                consents: &events,
            },
            actor.as_caller(),
            &Ask {
                action: Action::Read,
                purpose,
                categories,
            },
            self.now(),
        ))
    }

    /// Record a refused read (`read.refused`: the categories asked and the reasons,
    /// never a value) and give the refusal as the error, or the audit's failure.
    async fn refused_read(
        &self,
        actor: &Actor,
        tenant: &str,
        r: Refusal<'_>,
        decision: Decision,
    ) -> EngineError {
        let mut detail = r.extra;
        detail["asked"] = json!(r.asked.iter().map(Category::as_str).collect::<Vec<_>>());
        detail["reasons"] = json!(
            decision
                .reasons
                .iter()
                .map(|x| x.code.as_str())
                .collect::<Vec<_>>()
        );
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "read.refused",
            Some(r.subject),
            Some(r.purpose.as_str()),
            detail,
        );
        match self.audit.record(vec![entry]).await {
            Ok(()) => EngineError::Refused(decision),
            Err(e) => e,
        }
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
            purposes: crate::stored::list("field purposes", &f.purposes)?,
            source: f.source,
            store: f.store,
            collected_at: ts(f.collected_at),
            version: f.version,
        })
    }

    /// Whether `actor` may read field history in `tenant` at all: checked before what
    /// the read names, so that a key of another tenant learns nothing (404) and a role
    /// without the capability is told so (403) whatever it sent.
    pub fn may_read_history(&self, actor: &Actor, tenant: &TenantId) -> Result<()> {
        self.authorize(actor, Capability::ReadHistory, tenant.as_str())
    }

    /// Every version of a person's fields, oldest first, for what the read serves
    /// ([`ReadGround`]): for a purpose, the versions of the categories asked (default:
    /// those held that the purpose may use), if the decision function allows the read,
    /// as for an app; for a data-subject request about this person that is being
    /// fulfilled, every version. The audit entry (`read.history`) names the purpose or
    /// the request, and is durable before anything is returned.
    pub async fn field_history(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        subject: &str,
        ground: &ReadGround,
    ) -> Result<Vec<(FieldValue, Option<String>)>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadHistory, tenant)?;
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (dek, birth, consents) = self.facts(&mut tx, &keys, tenant, subject).await?;
        let mut rows = tx.all_fields(tenant, subject).await?;
        let (purpose, detail) = match ground {
            ReadGround::Purpose {
                purpose,
                categories,
            } => {
                let (policy, _) = self.policy_for(&mut tx, tenant).await?;
                drop(tx);
                let asked = if categories.is_empty() {
                    let mut held = Vec::new();
                    for r in &rows {
                        let c = crate::stored::category("field category", &r.category)?;
                        let usable = policy
                            .purpose(purpose)
                            .is_none_or(|d| policy.purpose_allows(d, &c));
                        if usable && !held.contains(&c) {
                            held.push(c);
                        }
                    }
                    held
                } else {
                    Self::parse_categories(categories)?
                };
                let decision =
                    self.decide_read(actor, &policy, birth, &consents, purpose, &asked)?;
                if !decision.allowed {
                    let refusal = Refusal {
                        subject,
                        purpose,
                        asked: &asked,
                        extra: json!({"history": true}),
                    };
                    return Err(self.refused_read(actor, tenant, refusal, decision).await);
                }
                let names: Vec<&str> = asked.iter().map(Category::as_str).collect();
                let mut kept = Vec::new();
                for r in rows {
                    let c = crate::stored::category("field category", &r.category)?;
                    if asked.iter().any(|a| c.is_within(a)) {
                        kept.push(r);
                    }
                }
                rows = kept;
                (
                    Some(purpose.as_str()),
                    json!({"ground": "purpose", "asked": names}),
                )
            }
            ReadGround::Request(id) => {
                let r = crate::requests::record::load(&mut tx, tenant, id).await?;
                drop(tx);
                fulfilling(&r, subject)?;
                (
                    None,
                    json!({"ground": "request", "request": r.id, "request_type": r.kind}),
                )
            }
        };
        let mut out = Vec::new();
        for r in rows {
            let superseded = r.superseded_at.map(ts);
            out.push((Self::open_field(tenant, subject, &dek, r)?, superseded));
        }
        let mut detail = detail;
        detail["fields"] = json!(out.len());
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "read.history",
            Some(subject),
            purpose,
            detail,
        );
        self.audit.record(vec![entry]).await?;
        Ok(out)
    }
}

/// A refused read, as its audit entry names it.
struct Refusal<'a> {
    subject: &'a str,
    purpose: &'a PurposeId,
    asked: &'a [Category],
    /// More for the entry's detail (e.g. `{"history": true}`).
    extra: Value,
}

/// What an operator's read of a person's values serves. There is no read of values
/// without one: a purpose goes through the decision function; a request must be about
/// this person and being fulfilled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadGround {
    /// A purpose of the policy, and the categories asked (none: every category held
    /// that the purpose may use).
    Purpose {
        purpose: PurposeId,
        categories: Vec<String>,
    },
    /// The id of a data-subject request (access, know, correct, delete or portability)
    /// about this person, verified or in progress.
    Request(String),
}

impl ReadGround {
    /// From what a caller named: exactly one of a purpose and a request.
    pub fn named(
        purpose: Option<&str>,
        request: Option<&str>,
        categories: Vec<String>,
    ) -> Result<ReadGround> {
        match (purpose, request) {
            (Some(p), None) => Ok(ReadGround::Purpose {
                purpose: crate::input::purpose("/purpose", p)?,
                categories,
            }),
            (None, Some(r)) if categories.is_empty() => Ok(ReadGround::Request(r.to_string())),
            (None, Some(_)) => Err(EngineError::invalid(
                "/categories",
                "categories narrow a read for a purpose; a request's read covers every field",
            )),
            (Some(_), Some(_)) => Err(EngineError::invalid(
                "/request",
                "name a purpose or a request, not both",
            )),
            (None, None) => Err(EngineError::invalid(
                "/purpose",
                "a read of values names what it serves: a purpose of the policy (purpose=…) or a data-subject request about this person that is being fulfilled (request=…)",
            )),
        }
    }
}

/// A request grounds a read of a person's values while it is about that person, of a
/// type whose fulfilment needs them, and verified or in progress.
fn fulfilling(r: &vow_store::RequestRow, subject: &str) -> Result<()> {
    use vow_core::{RequestState, RequestType};
    let kind = crate::engine::stored("request type", &r.kind, RequestType::parse)?;
    let state = crate::engine::stored("request state", &r.state, RequestState::parse)?;
    if r.subject_id.as_deref() != Some(subject) {
        return Err(EngineError::invalid(
            "/request",
            "the request is not about this person",
        ));
    }
    if !matches!(
        kind,
        RequestType::Access
            | RequestType::Know
            | RequestType::Correct
            | RequestType::Delete
            | RequestType::Portability
    ) {
        return Err(EngineError::invalid(
            "/request",
            format!(
                "a {kind} request does not need the person's values; read for a purpose instead"
            ),
        ));
    }
    if !matches!(state, RequestState::Verified | RequestState::InProgress) {
        return Err(EngineError::Conflict(format!(
            "the request is {state}: values are read for a request only while it is verified or in progress"
        )));
    }
    Ok(())
}
