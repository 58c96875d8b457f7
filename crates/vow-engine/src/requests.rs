//! Data-subject requests, from intake to fulfilment.
//!
//! Intake computes the deadlines (the strictest of the policy's promise and every
//! law that applies), matches the identifiers given against the blind indexes,
//! routes a processor tenant's requests to its controlling client, and sends the
//! acknowledgement. Every later step is a transition of the state machine in
//! `vow_core::request`, validated there, appended to the request's own event log
//! and to the audit chain in the same transaction.

use crate::engine::parse_time;
pub mod notices;

use crate::error::{EngineError, FieldError, Result};
use crate::input::{Identifiers, NewField, SubjectPatch};
use crate::requests::notices::{NoticeContext, NoticeKind, Rendered};
use crate::vault::keyring::{TenantKeys, new_subject_key, value_aad};
use crate::{Actor, Engine};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use utoipa::ToSchema;
use vow_core::deadline::{DueDates, RulePack};
use vow_core::role::Capability;
use vow_core::{Channel, ConsentState, Pii, Policy, RequestState, RequestType, RequesterKind};
use vow_crypto::{IdentifierKind, Key32, open, seal};
use vow_store::{NoticeRow, OutboxRow, RequestEventRow, RequestRow, Tx};

/// Who submits the request, with their evidence (stored sealed).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Requester {
    /// `subject` (default), `agent` or `parent`.
    #[serde(default)]
    pub kind: Option<String>,
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub name: Option<Pii<String>>,
    /// For an agent: a power of attorney (`{"power_of_attorney": true, "document": "…"}`) or
    /// signed permission plus registration (`{"signed_permission": true, "registration": "…"}`).
    /// For a parent: `{"parent_of": …}`. A signed declaration: `{"declaration": true}`.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    pub evidence: Option<Pii<Value>>,
    /// The requester's own identifiers. A parent recorded on the child's parental consent
    /// is recognised by them, without further documents.
    #[serde(default)]
    pub identifiers: Identifiers,
}

/// A new data-subject request.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// access, know, delete, correct, opt_out, limit_sensitive, portability, withdraw_consent
    #[serde(rename = "type")]
    pub kind: String,
    /// web, email, phone, mail, api
    pub channel: String,
    /// Where the person says they live, e.g. `US-CA`, `CA-QC`, `DE`. Decides which laws apply.
    #[serde(default)]
    pub jurisdiction: Option<String>,
    #[serde(default)]
    pub identifiers: Identifiers,
    /// Another data point for matching.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub birth_date: Option<Pii<String>>,
    #[serde(default)]
    pub requester: Option<Requester>,
    /// Where notices go; default the e-mail identifier.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub contact_email: Option<Pii<String>>,
    /// When a letter or call arrived before it was entered (RFC 3339); never in the future.
    #[serde(default)]
    pub received_at: Option<String>,
    /// For opt_out and withdraw_consent: the purposes (default: every marketing, sale
    /// or sharing purpose for opt_out; every consent purpose for withdraw_consent).
    #[serde(default)]
    pub purposes: Vec<String>,
    /// For correct: the values as they should be.
    #[serde(default)]
    pub corrections: Vec<NewField>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Metrics {
    pub tenant: String,
    pub year: i16,
    pub total: usize,
    pub per_type: Vec<TypeMetrics>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TypeMetrics {
    #[serde(rename = "type")]
    pub kind: String,
    pub received: usize,
    pub complied_in_whole: usize,
    pub complied_in_part: usize,
    pub denied: usize,
    pub routed_to_client: usize,
    pub withdrawn: usize,
    pub open: usize,
    pub median_days: Option<f64>,
    pub mean_days: Option<f64>,
}

/// The type a request arrived as (a specific-pieces request downgraded to categories
/// still counts as what the person asked for).
pub(crate) fn original_kind(r: &RequestRow) -> String {
    serde_json::from_str::<Value>(&r.verification)
        .ok()
        .and_then(|v| v["asked"].as_str().map(str::to_string))
        .unwrap_or_else(|| r.kind.clone())
}

/// A legal hold to record.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    /// Categories to keep, e.g. `user.financial`.
    pub categories: Vec<String>,
    /// The law or obligation, e.g. "Income Tax Act s.230: records kept six years".
    pub reason: String,
    /// Until when: `YYYY-MM-DD` or an RFC 3339 time.
    pub until: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldView {
    pub id: String,
    pub categories: Vec<String>,
    pub reason: String,
    pub until: String,
}

/// What a notice says beyond the request itself.
#[derive(Default)]
struct Extra<'a> {
    extension_reason: Option<&'a str>,
    complaint_statement: bool,
    denial_reasons: &'a [(String, String)],
    appeal: Option<&'a str>,
    outcome: Option<&'a str>,
    download_url: Option<&'a str>,
    controller: Option<(&'a str, &'a str)>,
    link_expires: Option<Timestamp>,
}

/// What the request's sealed details hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Details {
    request: NewRequest,
    /// Identifiers added during verification.
    #[serde(default)]
    more: Identifiers,
    #[serde(default)]
    declaration: bool,
    /// The person confirmed directly that the agent acts for them.
    #[serde(default)]
    subject_confirmed: bool,
    /// For a parent's request: what the store says about the child and the parent.
    #[serde(default)]
    parent: Option<ParentCheck>,
}

/// What the store says about a parent's authority over the person a request is about.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ParentCheck {
    /// The matched person was under the policy's parental age when the request arrived
    /// (None: no match, or no birth date on file).
    child: Option<bool>,
    /// The requester's own identifiers are those of the parent recorded on the child's
    /// parental consent.
    linked: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DueView {
    pub acknowledgement: Option<String>,
    pub response: String,
    pub extended_max: Option<String>,
    /// Set once the request has been extended.
    pub extended_to: Option<String>,
    /// The rule (pack id, `policy` or `default`) that set the response date.
    pub binding: String,
    /// The clock stands still since then; the deadlines move when it resumes.
    pub paused_since: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    pub tenant: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub channel: String,
    pub state: String,
    pub received_at: String,
    pub due: DueView,
    pub rules: Vec<String>,
    pub requester: String,
    /// The matched subject (a pseudonymous id), if any.
    pub subject: Option<String>,
    #[schema(value_type = Object)]
    pub verification: Value,
    pub matched_points: i64,
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<Value>,
    pub closed_at: Option<String>,
    /// Overdue, or due within 3 days.
    pub flag: Option<String>,
    pub events: Vec<EventView>,
    pub notices: Vec<NoticeView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub at: String,
    pub actor: String,
    pub event: String,
    pub from: Option<String>,
    pub to: Option<String>,
    #[schema(value_type = Object)]
    pub note: Value,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeView {
    pub id: String,
    pub kind: String,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// The text as sent; shown to keys that manage requests.
    pub text: Option<String>,
}

/// A step of the workflow.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// verify: more identifiers to match.
    #[serde(default)]
    pub identifiers: Identifiers,
    /// verify: a signed declaration under penalty of perjury was received.
    #[serde(default)]
    pub declaration: bool,
    /// verify: the calling app asserts the person is signed in to their account.
    #[serde(default)]
    pub authenticated: bool,
    /// verify: the person confirmed directly that the agent acts for them (needed when
    /// the agent has signed permission but no power of attorney).
    #[serde(default)]
    pub subject_confirmed: bool,
    /// verify: the one-time code the person received at the e-mail address on file.
    #[serde(default)]
    pub code: Option<String>,
    /// verify: stop trying; the request is unverifiable.
    #[serde(default)]
    pub give_up: bool,
    /// extend: why more time is needed; pause: what the clock waits for (required).
    #[serde(default)]
    pub reason: Option<String>,
    /// deny: reason codes (unverifiable, no_data, exempt, manifestly_unfounded,
    /// excessive, agent_not_authorised, duplicate, other) with plain-words details.
    #[serde(default)]
    pub reasons: Vec<DenialReason>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DenialReason {
    pub code: String,
    #[serde(default)]
    pub detail: Option<String>,
}

/// A code is kept as an HMAC under the request's own key: a copy of the database alone
/// cannot be searched for the million possible codes.
fn code_hash(key: &Key32, code: &str) -> [u8; 32] {
    vow_crypto::hmac_sha256(
        key,
        format!("vow:v1:request-code:{}", code.trim()).as_bytes(),
    )
}

/// A one-time code lives 15 minutes and allows 5 attempts.
const CODE_LIFETIME_MS: i64 = 15 * 60 * 1000;
const MAX_CODE_ATTEMPTS: i64 = 5;

pub const DENIAL_CODES: [&str; 8] = [
    "unverifiable",
    "no_data",
    "exempt",
    "manifestly_unfounded",
    "excessive",
    "agent_not_authorised",
    "duplicate",
    "other",
];

use crate::engine::ts;

use crate::engine::at;

fn request_aad(tenant: &str, id: &str, place: &str) -> Vec<u8> {
    value_aad(tenant, id, "request", place)
}

/// Plain words for the verification a rule asks.
fn verification_words(v: &Value) -> String {
    match v["level"].as_str() {
        Some("none") => "No identity check is needed for this kind of request.".to_string(),
        _ => {
            let points = v["points"].as_u64().unwrap_or(1);
            let mut s = format!(
                "We confirm who you are by matching {points} piece(s) of information you give us with what we already hold (for example your e-mail address, phone number or date of birth), or by your signing in to your account."
            );
            if v["signed_declaration"].as_bool().unwrap_or(false) {
                s.push_str(" We also need a declaration, signed under penalty of perjury, that you are the person the request is about.");
            }
            s
        }
    }
}

impl Engine {
    fn rules(&self) -> &[RulePack] {
        &self.rules.packs
    }

    fn request_key(&self, keys: &TenantKeys, tenant: &str, r: &RequestRow) -> Result<Key32> {
        let kek = keys.keks.get(&r.kek_version).ok_or(EngineError::Internal(
            "a request key refers to an unknown key version".into(),
        ))?;
        Ok(vow_crypto::unwrap_key(
            kek,
            &r.key_wrapped,
            &crate::vault::keyring::dek_aad(tenant, &r.id, r.kek_version),
        )?)
    }

    fn open_details(&self, key: &Key32, tenant: &str, r: &RequestRow) -> Result<Details> {
        let plain = open(key, &r.details, &request_aad(tenant, &r.id, "details"))?;
        serde_json::from_slice(&plain)
            .map_err(|_| EngineError::Internal("request details are unreadable".into()))
    }

    fn seal_details(&self, key: &Key32, tenant: &str, id: &str, d: &Details) -> Result<Vec<u8>> {
        let json = serde_json::to_vec(d).map_err(|e| EngineError::Internal(e.to_string()))?;
        Ok(seal(key, &json, &request_aad(tenant, id, "details"))?)
    }

    /// How many of the given data points identify one subject, and which subject.
    async fn match_points(
        &self,
        tx: &mut Tx,
        keys: &TenantKeys,
        tenant: &str,
        ids: &[&Identifiers],
        birth_date: Option<&str>,
    ) -> Result<(Option<String>, i64)> {
        let mut found: Vec<(IdentifierKind, String)> = Vec::new();
        for set in ids {
            for (kind, value) in set.iter() {
                let Ok(bidx) = keys.indexer.index(kind, value.expose()) else {
                    continue;
                };
                if let Some(s) = tx.lookup(tenant, kind.as_str(), &bidx).await?
                    && !found.iter().any(|(k, _)| *k == kind)
                {
                    found.push((kind, s));
                }
            }
        }
        let subjects: BTreeSet<&String> = found.iter().map(|(_, s)| s).collect();
        let [subject] = subjects.into_iter().collect::<Vec<_>>()[..] else {
            // None, or identifiers pointing at different people: no match.
            return Ok((None, 0));
        };
        let subject = subject.clone();
        let mut points = found.len() as i64;
        if let Some(given) = birth_date
            && let Some(row) = tx.subject(tenant, &subject).await?
            && let (Some(sealed), Some(key)) =
                (row.birth_date, tx.subject_key(tenant, &subject).await?)
        {
            let dek = crate::vault::keyring::open_subject_key(
                keys,
                tenant,
                &subject,
                key.kek_version,
                &key.wrapped,
            )?;
            let plain = open(
                &dek,
                &sealed,
                &value_aad(tenant, &subject, "birth_date", &subject),
            )?;
            if plain.as_slice() == given.trim().as_bytes() {
                points += 1;
            }
        }
        Ok((Some(subject), points))
    }

    /// For a parent's request: is the matched person a child (under the policy's parental
    /// age, else 13, California's age for a parent's request, §7070(c)), and is the requester
    /// the parent recorded on the child's parental consent?
    #[allow(clippy::too_many_arguments)]
    async fn parent_check(
        &self,
        tx: &mut Tx,
        keys: &TenantKeys,
        tenant: &str,
        subject: Option<&str>,
        d: &Details,
        policy: &Policy,
        received: Timestamp,
    ) -> Result<Option<ParentCheck>> {
        let Some(q) = d
            .request
            .requester
            .as_ref()
            .filter(|q| q.kind.as_deref() == Some("parent"))
        else {
            return Ok(None);
        };
        let Some(subject) = subject else {
            return Ok(Some(ParentCheck::default()));
        };
        let (_, birth, consents) = match self.facts(tx, keys, tenant, subject).await {
            Ok(f) => f,
            Err(EngineError::NotFound(_)) => return Ok(Some(ParentCheck::default())),
            Err(e) => return Err(e),
        };
        let limit = i32::from(policy.parental_consent_age.unwrap_or(13));
        let today = received.to_zoned(jiff::tz::TimeZone::UTC).date();
        let child = birth.map(|b| vow_core::decision::age_on(b, today) < limit);
        let parents: BTreeSet<String> = consents
            .iter()
            .filter_map(|c| c.parent_subject_id.clone())
            .collect();
        let mut linked = false;
        for (kind, value) in q.identifiers.iter() {
            let Ok(bidx) = keys.indexer.index(kind, value.expose()) else {
                continue;
            };
            if let Some(p) = tx.lookup(tenant, kind.as_str(), &bidx).await?
                && parents.contains(&p)
            {
                linked = true;
                break;
            }
        }
        Ok(Some(ParentCheck { child, linked }))
    }

    async fn event(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        r: &RequestRow,
        event: &str,
        from: Option<&str>,
        note: Value,
    ) -> Result<()> {
        tx.append_request_event(&RequestEventRow {
            request_id: r.id.clone(),
            seq: 0,
            at: self.now_ms(),
            actor: actor.id().to_string(),
            event: event.to_string(),
            from_state: from.map(str::to_string),
            to_state: Some(r.state.clone()),
            note: note.to_string(),
        })
        .await?;
        let entry = self.audit_entry(
            actor,
            Some(&r.tenant_id),
            &format!("request.{event}"),
            r.subject_id.as_deref(),
            None,
            json!({"request": r.id, "type": r.kind, "state": r.state}),
        );
        crate::vault::audit::append(tx, &[entry]).await
    }

    /// Move to `next`, refusing a transition the state machine does not allow.
    fn transition(r: &mut RequestRow, next: RequestState) -> Result<String> {
        let current = RequestState::parse(&r.state)
            .ok_or(EngineError::Internal("unknown request state".into()))?;
        if !current.can_go_to(next) {
            return Err(EngineError::Conflict(format!(
                "a request that is {current} cannot become {next}"
            )));
        }
        let from = r.state.clone();
        r.state = next.as_str().to_string();
        if next.is_final() {
            r.closed_at = Some(r.updated_at);
        }
        Ok(from)
    }

    fn packs_for(&self, r: &RequestRow) -> Vec<&RulePack> {
        let ids: Vec<String> = serde_json::from_str(&r.rules).unwrap_or_default();
        self.rules()
            .iter()
            .filter(|p| ids.contains(&p.id))
            .collect()
    }

    /// Render, store (sealed) and queue a notice; it is mailed after the commit.
    #[allow(clippy::too_many_arguments)]
    fn notice(
        &self,
        kind: NoticeKind,
        policy: &Policy,
        r: &RequestRow,
        key: &Key32,
        to: Option<&str>,
        extra: Extra<'_>,
    ) -> Result<(NoticeRow, Option<(String, Rendered)>)> {
        let rules: Vec<String> = serde_json::from_str(&r.rules).unwrap_or_default();
        let verification: Value = serde_json::from_str(&r.verification).unwrap_or(Value::Null);
        let words = verification_words(&verification);
        let rt = RequestType::parse(&r.kind).unwrap_or(RequestType::Access);
        let cx = NoticeContext {
            organisation: &policy.organisation,
            contacts: &policy.contacts,
            request_id: &r.id,
            request_type: rt,
            channel: Channel::parse(&r.channel).unwrap_or(Channel::Api),
            received_at: at(r.received_at),
            response_due: at(r.response_due),
            acknowledgement_due: r.ack_due.map(at),
            extended_to: r.extended_due.map(at),
            extension_reason: extra.extension_reason,
            complaint_statement: extra.complaint_statement,
            verification: &words,
            rules: &rules,
            denial_reasons: extra.denial_reasons,
            appeal: extra.appeal,
            outcome: extra.outcome,
            download_url: extra.download_url,
            controller: extra.controller,
            code: None,
            code_expires: extra.link_expires,
        };
        let rendered = crate::requests::notices::render(kind, &cx);
        let id = uuid::Uuid::now_v7().to_string();
        let body = json!({"to": to, "subject": rendered.subject, "text": rendered.text, "html": rendered.html});
        let sealed = seal(
            key,
            body.to_string().as_bytes(),
            &request_aad(&r.tenant_id, &r.id, &id),
        )?;
        let row = NoticeRow {
            id,
            request_id: r.id.clone(),
            kind: kind.as_str().to_string(),
            created_at: self.now_ms(),
            sealed,
            sent_at: None,
            message_id: None,
        };
        Ok((row, to.map(|t| (t.to_string(), rendered))))
    }

    /// Mail what was queued, after the commit. A failure leaves the notice unsent
    /// (visible on the request) rather than undoing the step.
    async fn mail(&self, queued: Vec<(String, String, Rendered)>) {
        let Some(mailer) = self.mailer() else { return };
        for (notice_id, to, rendered) in queued {
            match mailer.send(&to, &rendered).await {
                Ok(message_id) => {
                    if let Ok(mut tx) = self.store.write().await
                        && tx
                            .mark_notice_sent(&notice_id, self.now_ms(), &message_id)
                            .await
                            .is_ok()
                    {
                        let _ = tx.commit().await;
                    }
                }
                Err(e) => {
                    tracing::warn!(notice = %notice_id, code = e.code(), "a notice could not be mailed")
                }
            }
        }
    }

    pub async fn submit_request(
        &self,
        actor: &Actor,
        tenant: &str,
        input: &NewRequest,
    ) -> Result<RequestView> {
        self.authorize(actor, Capability::SubmitRequest, tenant)?;
        let now = self.now();
        let mut errors = Vec::new();
        let kind = RequestType::parse(&input.kind);
        if kind.is_none() {
            errors.push(FieldError::new(
                "/type",
                "must be one of access, know, delete, correct, opt_out, limit_sensitive, portability, withdraw_consent",
            ));
        }
        let channel = Channel::parse(&input.channel);
        if channel.is_none() {
            errors.push(FieldError::new(
                "/channel",
                "must be one of web, email, phone, mail, api",
            ));
        }
        let received = match &input.received_at {
            Some(t) => match parse_time("/received_at", t) {
                Ok(t) if t <= now => t,
                Ok(_) => {
                    errors.push(FieldError::new("/received_at", "must not be in the future"));
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
        if let Some(j) = &input.jurisdiction
            && !is_jurisdiction_code(j)
        {
            errors.push(FieldError::new(
                "/jurisdiction",
                "expected a code like US-CA, CA-QC, DE, EU or UK",
            ));
        }
        let asked = input
            .requester
            .as_ref()
            .and_then(|r| r.kind.as_deref())
            .unwrap_or("subject");
        let requester = RequesterKind::parse(asked).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "/requester/kind",
                "must be subject, agent or parent",
            ));
            RequesterKind::Subject
        });
        if input.identifiers.is_empty() {
            errors.push(FieldError::new(
                "/identifiers",
                "give at least one of email, phone, external_id",
            ));
        }
        for (k, v) in input.identifiers.iter() {
            if let Err(e) = vow_crypto::normalize(k, v.expose()) {
                errors.push(FieldError::new(
                    format!("/identifiers/{}", k.as_str()),
                    e.to_string(),
                ));
            }
        }
        if let Some(q) = &input.requester {
            for (k, v) in q.identifiers.iter() {
                if let Err(e) = vow_crypto::normalize(k, v.expose()) {
                    errors.push(FieldError::new(
                        format!("/requester/identifiers/{}", k.as_str()),
                        e.to_string(),
                    ));
                }
            }
        }
        if kind == Some(RequestType::Correct) && input.corrections.is_empty() {
            errors.push(FieldError::new(
                "/corrections",
                "a correction request says what the values should be",
            ));
        }
        let (Some(kind), Some(channel), true) = (kind, channel, errors.is_empty()) else {
            return Err(EngineError::Invalid(errors));
        };

        let mut tx = self.store.write().await?;
        let tenant_row = tx
            .tenant(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let packs = vow_core::deadline::applicable(
            self.rules(),
            &policy.jurisdictions,
            input.jurisdiction.as_deref(),
        );
        let due: DueDates = vow_core::deadline::due_dates(
            &packs,
            &self.rules.calendars,
            kind,
            received,
            &policy.response_times,
        );
        // Who may submit is the law's to say (the union of the applicable packs); the
        // person themselves always may.
        if requester != RequesterKind::Subject
            && !due.applied.is_empty()
            && !due.submitters.contains(&requester)
        {
            return Err(EngineError::invalid(
                "/requester/kind",
                format!(
                    "none of the laws that apply ({}) provides for {} requests made by {}; the person may submit it themselves",
                    due.applied.join(", "),
                    kind.as_str(),
                    match requester {
                        RequesterKind::Agent => "an agent",
                        _ => "a parent or guardian",
                    }
                ),
            ));
        }
        // For a correction, matching must use data other than what is being corrected.
        let (subject, points) = self
            .match_points(
                &mut tx,
                &keys,
                tenant,
                &[&matchable(&input.identifiers, input)],
                input.birth_date.as_ref().map(|b| b.expose().as_str()),
            )
            .await?;

        let id = uuid::Uuid::now_v7().to_string();
        let (key, key_wrapped) = new_subject_key(&keys, tenant, &id)?;
        let declaration = input
            .requester
            .as_ref()
            .and_then(|r| r.evidence.as_ref())
            .is_some_and(|e| e.expose()["declaration"].as_bool() == Some(true));
        let mut details = Details {
            request: input.clone(),
            more: Identifiers::default(),
            declaration,
            subject_confirmed: false,
            parent: None,
        };
        details.parent = self
            .parent_check(
                &mut tx,
                &keys,
                tenant,
                subject.as_deref(),
                &details,
                &policy,
                received,
            )
            .await?;
        // With no law to say otherwise, still never hand data over on one identifier alone:
        // pieces of data need two matching points, other rights one. Opt-outs need none.
        let (level, needed) = match (due.applied.is_empty(), kind) {
            (false, _) => (
                serde_json::to_value(due.verification.level).unwrap_or(Value::Null),
                due.verification.points,
            ),
            (
                true,
                RequestType::OptOut | RequestType::WithdrawConsent | RequestType::LimitSensitive,
            ) => (json!("none"), 0),
            (true, RequestType::Access | RequestType::Portability) => (json!("reasonable"), 2),
            (true, _) => (json!("reasonable"), 1),
        };
        let verification = json!({
            "level": level,
            "points": needed,
            "signed_declaration": due.verification.signed_declaration,
            "downgrade_to": due.verification.downgrade_to.map(|t| t.as_str()),
            "asked": kind.as_str(),
        });
        let mut r = RequestRow {
            id: id.clone(),
            tenant_id: tenant.to_string(),
            kind: kind.as_str().to_string(),
            channel: channel.as_str().to_string(),
            state: RequestState::Received.as_str().to_string(),
            subject_id: subject,
            requester: requester.as_str().to_string(),
            residence: input.jurisdiction.clone(),
            rules: json!(due.applied).to_string(),
            binding: due.binding.clone(),
            received_at: received.as_millisecond(),
            ack_due: due.acknowledgement.map(|t| t.as_millisecond()),
            response_due: due.response.as_millisecond(),
            extended_max: due.extended_max.map(|t| t.as_millisecond()),
            extended_due: None,
            paused_at: None,
            verification: verification.to_string(),
            matched_points: points,
            kek_version: keys.current,
            key_wrapped,
            details: self.seal_details(&key, tenant, &id, &details)?,
            outcome: None,
            closed_at: None,
            updated_at: self.now_ms(),
        };
        tx.insert_request(&r).await?;
        self.event(&mut tx, actor, &r, "received", None, json!({"channel": r.channel, "rules": due.applied, "binding": due.binding, "points": points}))
            .await?;
        let to = input
            .contact_email
            .as_ref()
            .or(input.identifiers.email.as_ref())
            .map(|e| e.expose().clone());
        let mut queued = Vec::new();

        let forward = tx.request_handling(tenant).await?.as_deref() == Some("forward_assist");
        if tenant_row.role == "processor" && forward {
            // Forward and assist: the client is told and decides; the request is carried
            // through here on its instructions, under the same deadlines.
            tx.insert_outbox(&OutboxRow {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: tenant.to_string(),
                event: "request.forwarded".into(),
                recipient: Some(crate::webhooks::CONTROLLER.into()),
                payload: json!({"request": r.id, "type": r.kind, "channel": r.channel, "received_at": ts(r.received_at),
                                "response_due": ts(r.response_due), "subject": r.subject_id}).to_string(),
                sealed: None,
                subject_id: r.subject_id.clone(),
                created_at: self.now_ms(),
                delivered_at: None,
            })
            .await?;
        }
        if tenant_row.role == "processor" && !forward {
            // R23/S3: the operator holds this data for its client; the client decides.
            let from = Self::transition(&mut r, RequestState::Routed)?;
            let controller = (
                tenant_row.controller_name.clone().unwrap_or_default(),
                tenant_row.controller_contact.clone().unwrap_or_default(),
            );
            r.outcome = Some(
                json!({"routed_to": {"name": controller.0, "contact": controller.1}}).to_string(),
            );
            tx.update_request(&r).await?;
            self.event(
                &mut tx,
                actor,
                &r,
                "routed",
                Some(&from),
                json!({"controller": controller.0}),
            )
            .await?;
            tx.insert_outbox(&OutboxRow {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: tenant.to_string(),
                event: "request.routed".into(),
                recipient: Some(crate::webhooks::CONTROLLER.into()),
                payload: json!({"request": r.id, "type": r.kind, "channel": r.channel, "received_at": ts(r.received_at),
                                "response_due": ts(r.response_due), "subject": r.subject_id}).to_string(),
                sealed: None,
                subject_id: r.subject_id.clone(),
                created_at: self.now_ms(),
                delivered_at: None,
            })
            .await?;
            let extra = Extra {
                controller: Some((controller.0.as_str(), controller.1.as_str())),
                ..Extra::default()
            };
            let (row, mail) = self.notice(
                NoticeKind::Redirect,
                &policy,
                &r,
                &key,
                to.as_deref(),
                extra,
            )?;
            queued.append(&mut queue_notice(&mut tx, row, mail).await?);
        } else {
            let from = Self::transition(&mut r, RequestState::Acknowledged)?;
            tx.update_request(&r).await?;
            self.event(&mut tx, actor, &r, "acknowledged", Some(&from), json!({}))
                .await?;
            let (row, mail) = self.notice(
                NoticeKind::Acknowledgement,
                &policy,
                &r,
                &key,
                to.as_deref(),
                Extra::default(),
            )?;
            queued.append(&mut queue_notice(&mut tx, row, mail).await?);
            self.try_verify(&mut tx, actor, &mut r, &details, false)
                .await?;
            // Opt-outs and withdrawals take effect at once where the law asks no verification.
            if r.state == RequestState::Verified.as_str()
                && matches!(
                    kind,
                    RequestType::OptOut
                        | RequestType::WithdrawConsent
                        | RequestType::LimitSensitive
                )
            {
                let mut q = self
                    .fulfil_in(&mut tx, actor, &mut r, &policy, &keys, &key)
                    .await?;
                queued.append(&mut q);
            }
        }
        tx.commit().await?;
        self.mail(queued).await;
        self.request(actor, tenant, &id).await
    }

    /// Verified if the matched points (and declaration) meet the rule; otherwise
    /// verifying, or unverifiable when `give_up`.
    async fn try_verify(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        r: &mut RequestRow,
        d: &Details,
        give_up: bool,
    ) -> Result<()> {
        let v: Value = serde_json::from_str(&r.verification).unwrap_or(Value::Null);
        let needed = v["points"].as_i64().unwrap_or(1);
        let needs_declaration = v["signed_declaration"].as_bool().unwrap_or(false);
        let none = v["level"].as_str() == Some("none");
        let authority = authority(r, d);
        let enough = authority.is_ok()
            && (none
                || (r.subject_id.is_some()
                    && r.matched_points >= needed
                    && (!needs_declaration || d.declaration)));
        let target = if enough {
            RequestState::Verified
        } else if give_up {
            RequestState::Unverifiable
        } else {
            RequestState::Verifying
        };
        // A specific-pieces request that reaches only the categories level is downgraded.
        if !enough
            && authority.is_ok()
            && let Some(down) = v["downgrade_to"].as_str()
            && r.subject_id.is_some()
            && r.matched_points >= 2
        {
            let from_kind = r.kind.clone();
            r.kind = down.to_string();
            let from = Self::transition(r, RequestState::Verified)?;
            tx.update_request(r).await?;
            return self
                .event(
                    tx,
                    actor,
                    r,
                    "verified",
                    Some(&from),
                    json!({"points": r.matched_points, "downgraded_from": from_kind}),
                )
                .await;
        }
        if r.state == target.as_str() {
            return Ok(());
        }
        let from = Self::transition(r, target)?;
        tx.update_request(r).await?;
        let waiting = authority.err();
        self.event(
            tx,
            actor,
            r,
            target.as_str(),
            Some(&from),
            json!({"points": r.matched_points, "needed": needed, "level": v["level"], "authority": waiting}),
        )
        .await
    }

    pub async fn verify_request(
        &self,
        actor: &Actor,
        tenant: &str,
        id: &str,
        step: &Step,
    ) -> Result<RequestView> {
        self.authorize(actor, Capability::SubmitRequest, tenant)?;
        // Checked in a transaction of its own (before ours: SQLite has one writer), so a
        // wrong attempt is counted even though this step then fails.
        let code_ok = match &step.code {
            Some(code) => {
                if !self.check_code(tenant, id, code).await? {
                    return Err(EngineError::invalid(
                        "/code",
                        "the code is wrong, has expired or was tried too often; ask for a new one",
                    ));
                }
                true
            }
            None => false,
        };
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let mut r = tx
            .request(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("request"))?;
        let key = self.request_key(&keys, tenant, &r)?;
        let mut d = self.open_details(&key, tenant, &r)?;
        for (k, v) in step.identifiers.iter() {
            if vow_crypto::normalize(k, v.expose()).is_err() {
                return Err(EngineError::invalid(
                    format!("/identifiers/{}", k.as_str()),
                    "malformed",
                ));
            }
        }
        if code_ok {
            tx.delete_code(&r.id).await?;
        }
        // The information the clock waited for has arrived.
        self.resume_in(&mut tx, actor, &mut r).await?;
        merge_identifiers(&mut d.more, &step.identifiers);
        d.declaration |= step.declaration;
        d.subject_confirmed |= step.subject_confirmed;
        let (subject, mut points) = self
            .match_points(
                &mut tx,
                &keys,
                tenant,
                &[
                    &matchable(&d.request.identifiers, &d.request),
                    &matchable(&d.more, &d.request),
                ],
                d.request.birth_date.as_ref().map(|b| b.expose().as_str()),
            )
            .await?;
        if (step.authenticated || code_ok) && subject.is_some() {
            // An account sign-in asserted by the calling app counts as meeting the level.
            let v: Value = serde_json::from_str(&r.verification).unwrap_or(Value::Null);
            points = points.max(v["points"].as_i64().unwrap_or(1));
        }
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        d.parent = self
            .parent_check(
                &mut tx,
                &keys,
                tenant,
                subject.as_deref(),
                &d,
                &policy,
                at(r.received_at),
            )
            .await?;
        r.subject_id = subject;
        r.matched_points = points;
        r.details = self.seal_details(&key, tenant, &r.id, &d)?;
        r.updated_at = self.now_ms();
        if r.state == RequestState::Received.as_str()
            || r.state == RequestState::Acknowledged.as_str()
        {
            let from = Self::transition(&mut r, RequestState::Verifying)?;
            tx.update_request(&r).await?;
            self.event(&mut tx, actor, &r, "verifying", Some(&from), json!({}))
                .await?;
        }
        self.try_verify(&mut tx, actor, &mut r, &d, step.give_up)
            .await?;
        tx.update_request(&r).await?;
        tx.commit().await?;
        self.request(actor, tenant, id).await
    }

    /// Compare a code in its own transaction, so a wrong attempt is counted even though
    /// the step it came with fails.
    async fn check_code(&self, tenant: &str, id: &str, code: &str) -> Result<bool> {
        let mut tx = self.store.write().await?;
        let Some((hash, expires, attempts)) = tx.code(id).await? else {
            return Ok(false);
        };
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let r = tx
            .request(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("request"))?;
        let given = code_hash(&self.request_key(&keys, tenant, &r)?, code);
        let ok = attempts < MAX_CODE_ATTEMPTS
            && expires > self.now_ms()
            && vow_crypto::ct_eq(&hash, &given);
        if !ok {
            tx.count_code_attempt(id).await?;
            tx.commit().await?;
        }
        Ok(ok)
    }

    /// Mail a one-time code to the e-mail address on file of the matched person (not to
    /// an address the requester gave), to verify the request (R20, S6).
    pub async fn send_code(&self, actor: &Actor, tenant: &str, id: &str) -> Result<RequestView> {
        self.authorize(actor, Capability::SubmitRequest, tenant)?;
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let r = tx
            .request(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("request"))?;
        if !matches!(
            r.state.as_str(),
            "received" | "acknowledged" | "verifying" | "unverifiable"
        ) {
            return Err(EngineError::Conflict(format!(
                "a request that is {} needs no code",
                r.state
            )));
        }
        let subject = r.subject_id.clone().ok_or_else(|| {
            EngineError::Conflict(
                "no person matched the request, so there is no e-mail on file to send a code to"
                    .into(),
            )
        })?;
        let ids = tx.identifiers(tenant, &subject).await?;
        let email_row = ids.iter().find(|i| i.kind == "email").ok_or_else(|| {
            EngineError::Conflict("the matched person has no e-mail address on file".into())
        })?;
        let skey = tx
            .subject_key(tenant, &subject)
            .await?
            .ok_or(EngineError::NotFound("subject"))?;
        let dek = crate::vault::keyring::open_subject_key(
            &keys,
            tenant,
            &subject,
            skey.kek_version,
            &skey.wrapped,
        )?;
        let email = String::from_utf8_lossy(&open(
            &dek,
            &email_row.value,
            &value_aad(tenant, &subject, "identifier", "email"),
        )?)
        .to_string();
        let n = u32::from_be_bytes(vow_crypto::random_bytes::<4>()?) % 1_000_000;
        let code = format!("{n:06}");
        let expires = self.now_ms() + CODE_LIFETIME_MS;
        tx.put_code(
            &r.id,
            &code_hash(&self.request_key(&keys, tenant, &r)?, &code),
            expires,
        )
        .await?;
        let key = self.request_key(&keys, tenant, &r)?;
        let cx_code = code.clone();
        let (row, mail) =
            self.notice_with_code(&policy, &r, &key, &email, &cx_code, at(expires))?;
        let queued = queue_notice(&mut tx, row, mail).await?;
        self.event(
            &mut tx,
            actor,
            &r,
            "code_sent",
            Some(&r.state.clone()),
            json!({"expires_at": ts(expires)}),
        )
        .await?;
        tx.commit().await?;
        self.mail(queued).await;
        self.request(actor, tenant, id).await
    }

    fn notice_with_code(
        &self,
        policy: &Policy,
        r: &RequestRow,
        key: &Key32,
        to: &str,
        code: &str,
        expires: Timestamp,
    ) -> Result<(NoticeRow, Option<(String, Rendered)>)> {
        let rules: Vec<String> = serde_json::from_str(&r.rules).unwrap_or_default();
        let mut cx = NoticeContext::new(
            &policy.organisation,
            &policy.contacts,
            &r.id,
            RequestType::parse(&r.kind).unwrap_or(RequestType::Access),
            Channel::parse(&r.channel).unwrap_or(Channel::Api),
            at(r.received_at),
            at(r.response_due),
        );
        cx.rules = &rules;
        cx.code = Some(code);
        cx.code_expires = Some(expires);
        let rendered = crate::requests::notices::render(NoticeKind::VerificationCode, &cx);
        let id = uuid::Uuid::now_v7().to_string();
        // The code itself is not kept in the stored copy of the notice: only its hash exists.
        let stored = rendered.text.replace(code, "••••••");
        let body = json!({"to": to, "subject": rendered.subject, "text": stored});
        let sealed = seal(
            key,
            body.to_string().as_bytes(),
            &request_aad(&r.tenant_id, &r.id, &id),
        )?;
        let row = NoticeRow {
            id,
            request_id: r.id.clone(),
            kind: NoticeKind::VerificationCode.as_str().to_string(),
            created_at: self.now_ms(),
            sealed,
            sent_at: None,
            message_id: None,
        };
        Ok((row, Some((to.to_string(), rendered))))
    }

    pub async fn extend_request(
        &self,
        actor: &Actor,
        tenant: &str,
        id: &str,
        step: &Step,
    ) -> Result<RequestView> {
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let reason = reason(step, "an extension")?;
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let mut r = tx
            .request(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("request"))?;
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
        self.request(actor, tenant, id).await
    }

    /// Stop the clock, where every applicable law allows it and no promise of n days
    /// binds (UK GDPR: while waiting for information needed to clarify the request).
    pub async fn pause_request(
        &self,
        actor: &Actor,
        tenant: &str,
        id: &str,
        step: &Step,
    ) -> Result<RequestView> {
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let reason = reason(step, "a pause")?;
        let mut tx = self.store.write().await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let mut r = tx
            .request(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("request"))?;
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
        self.request(actor, tenant, id).await
    }

    /// Start a paused clock again: every deadline still ahead moves by the time it stood.
    pub async fn resume_request(
        &self,
        actor: &Actor,
        tenant: &str,
        id: &str,
    ) -> Result<RequestView> {
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.write().await?;
        let mut r = tx
            .request(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("request"))?;
        if r.paused_at.is_none() {
            return Err(EngineError::Conflict("the clock is not paused".into()));
        }
        self.resume_in(&mut tx, actor, &mut r).await?;
        tx.commit().await?;
        self.request(actor, tenant, id).await
    }

    async fn resume_in(&self, tx: &mut Tx, actor: &Actor, r: &mut RequestRow) -> Result<()> {
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
        tenant: &str,
        id: &str,
        step: &Step,
    ) -> Result<RequestView> {
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
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let mut r = tx
            .request(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("request"))?;
        r.updated_at = self.now_ms();
        let from = Self::transition(&mut r, RequestState::Denied)?;
        r.outcome = Some(json!({"denied": reasons.iter().map(|(c, d)| json!({"code": c, "detail": d})).collect::<Vec<_>>()}).to_string());
        tx.update_request(&r).await?;
        self.event(
            &mut tx,
            actor,
            &r,
            "denied",
            Some(&from),
            json!({"codes": reasons.iter().map(|(c, _)| c).collect::<Vec<_>>()}),
        )
        .await?;
        let appeal = self.packs_for(&r).iter().find_map(|p| {
            RequestType::parse(&r.kind)
                .and_then(|k| p.requests.get(&k))
                .and_then(|rule| rule.appeal.as_ref())
                .map(|_| format!("Under {} you may appeal this decision: reply to this message or contact us within the time the law allows, and we will answer your appeal in writing.", p.name))
        });
        let key = self.request_key(&keys, tenant, &r)?;
        let d = self.open_details(&key, tenant, &r)?;
        let to = contact(&d);
        let extra = Extra {
            denial_reasons: &reasons,
            appeal: appeal.as_deref(),
            ..Extra::default()
        };
        let (row, mail) =
            self.notice(NoticeKind::Denial, &policy, &r, &key, to.as_deref(), extra)?;
        let queued = queue_notice(&mut tx, row, mail).await?;
        tx.commit().await?;
        self.mail(queued).await;
        self.request(actor, tenant, id).await
    }

    pub async fn withdraw_request(
        &self,
        actor: &Actor,
        tenant: &str,
        id: &str,
    ) -> Result<RequestView> {
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.write().await?;
        let mut r = tx
            .request(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("request"))?;
        r.updated_at = self.now_ms();
        let from = Self::transition(&mut r, RequestState::Withdrawn)?;
        tx.update_request(&r).await?;
        self.event(&mut tx, actor, &r, "withdrawn", Some(&from), json!({}))
            .await?;
        tx.commit().await?;
        self.request(actor, tenant, id).await
    }

    pub async fn fulfil_request(
        &self,
        actor: &Actor,
        tenant: &str,
        id: &str,
    ) -> Result<RequestView> {
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let mut r = tx
            .request(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("request"))?;
        let state =
            RequestState::parse(&r.state).ok_or(EngineError::Internal("unknown state".into()))?;
        if !matches!(state, RequestState::Verified | RequestState::InProgress) {
            return Err(EngineError::Conflict(format!(
                "a request that is {state} cannot be fulfilled: it must be verified first"
            )));
        }
        let key = self.request_key(&keys, tenant, &r)?;
        let queued = self
            .fulfil_in(&mut tx, actor, &mut r, &policy, &keys, &key)
            .await?;
        let erased = r.kind == RequestType::Delete.as_str();
        tx.commit().await?;
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
        self.mail(queued).await;
        self.request(actor, tenant, id).await
    }

    /// Carry out a verified request inside `tx`; returns notices to mail after commit.
    async fn fulfil_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        r: &mut RequestRow,
        policy: &Policy,
        keys: &TenantKeys,
        key: &Key32,
    ) -> Result<Vec<(String, String, Rendered)>> {
        let d = self.open_details(key, &r.tenant_id, r)?;
        let kind = RequestType::parse(&r.kind)
            .ok_or(EngineError::Internal("unknown request type".into()))?;
        let tenant = r.tenant_id.clone();
        // The person's own time-limited download link (access, portability, know).
        let mut link: Option<(String, i64)> = None;
        let outcome: Value = match (&r.subject_id, kind) {
            (None, _) => {
                json!({"done": "no_data", "words": "We hold no personal information that matches the details you gave."})
            }
            (
                Some(subject),
                RequestType::OptOut | RequestType::WithdrawConsent | RequestType::LimitSensitive,
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
            (Some(subject), RequestType::Access | RequestType::Portability | RequestType::Know) => {
                let package = crate::export::package(
                    self,
                    tx,
                    keys,
                    policy,
                    &tenant,
                    subject,
                    kind,
                    at(r.received_at),
                )
                .await?;
                let now = self.now_ms();
                let expires = now + 30 * 24 * 3600 * 1000;
                let sealed = seal(
                    key,
                    package.to_string().as_bytes(),
                    &request_aad(&tenant, &r.id, "export"),
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
                link = Some((format!("{}/exports/{token}", self.public_url()), expires));
                json!({"done": "exported", "categories": package["summary"]["categories"], "expires_at": ts(expires),
                       "words": "Your information is ready to download for 30 days."})
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
        r.updated_at = self.now_ms();
        if r.state == RequestState::Verified.as_str() {
            let from = Self::transition(r, RequestState::InProgress)?;
            self.event(tx, actor, r, "in_progress", Some(&from), json!({}))
                .await?;
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
        let done = if exceptions.is_empty() {
            RequestState::Fulfilled
        } else {
            RequestState::PartiallyFulfilled
        };
        let from = Self::transition(r, done)?;
        r.outcome = Some(outcome.to_string());
        tx.update_request(r).await?;
        self.event(
            tx,
            actor,
            r,
            done.as_str(),
            Some(&from),
            json!({"done": outcome["done"]}),
        )
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
        let events = Self::events(&rows);
        let live: Vec<String> = ConsentState::all(&events, self.now())
            .into_iter()
            .filter(|(_, s)| matches!(s, ConsentState::Granted { .. }))
            .map(|(p, _)| p.to_string())
            .collect();
        let chosen: Vec<String> = if !asked.is_empty() {
            asked.iter().filter(|p| live.contains(p)).cloned().collect()
        } else {
            live.into_iter()
                .filter(|p| match kind {
                    RequestType::OptOut => {
                        p.starts_with("marketing")
                            || p == "sale"
                            || p == "cross_context_advertising"
                            || p.starts_with("sharing")
                    }
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
        crate::vault::audit::append(tx, &[entry]).await
    }

    /// Crypto-shred the subject: its key, identifiers, fields and ledger go. Fields under
    /// a live legal hold are re-sealed under a fresh key first and kept; everything else
    /// becomes unreadable with the old key. Recipients that received the person's data
    /// are told. `cause` names, in the audit entry, what asked for it (a request, a
    /// retention run). Shared by erasure requests and retention.
    pub(crate) async fn shred_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        keys: &TenantKeys,
        tenant: &str,
        subject: &str,
        cause: (&str, &str),
    ) -> Result<Shredded> {
        let identifiers = tx.identifiers(tenant, subject).await?.len();
        let now = self.now_ms();
        let holds: Vec<vow_store::HoldRow> = tx
            .holds(tenant, subject)
            .await?
            .into_iter()
            .filter(|h| h.until > now)
            .collect();
        let held: Vec<vow_core::Category> = holds
            .iter()
            .flat_map(|h| serde_json::from_str::<Vec<String>>(&h.categories).unwrap_or_default())
            .filter_map(|c| vow_core::Category::new(c).ok())
            .collect();
        let mut kept = Vec::new();
        let mut new_key = None;
        if !held.is_empty() {
            let (dek, _, _) = self.facts(tx, keys, tenant, subject).await?;
            let (fresh, wrapped) = new_subject_key(keys, tenant, subject)?;
            for mut f in tx.current_fields(tenant, subject).await? {
                let Ok(cat) = vow_core::Category::new(f.category.as_str()) else {
                    continue;
                };
                if !held.iter().any(|h| cat.is_within(h)) {
                    continue;
                }
                let aad = value_aad(tenant, subject, &f.category, &f.id);
                let plain = open(&dek, &f.value, &aad)?;
                f.value = seal(&fresh, &plain, &aad)?;
                kept.push(f);
            }
            new_key = Some(vow_store::SubjectKeyRow {
                subject_id: subject.to_string(),
                tenant_id: tenant.to_string(),
                kek_version: keys.current,
                wrapped,
            });
        }
        let notified = self.propagate_erasure(tx, keys, tenant, subject).await?;
        tx.erase_subject(tenant, subject, now).await?;
        if let Some(k) = new_key.filter(|_| !kept.is_empty()) {
            tx.insert_subject_key(&k).await?;
            for f in &kept {
                tx.insert_field(f).await?;
            }
        }
        let mut detail = json!({"identifiers": identifiers, "kept_fields": kept.len()});
        detail[cause.0] = json!(cause.1);
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "subject.erase",
            Some(subject),
            None,
            detail,
        );
        crate::vault::audit::append(tx, &[entry]).await?;
        Ok(Shredded {
            holds,
            kept: kept.len(),
            notified,
        })
    }

    /// Erase the subject for a deletion request; returns the outcome (with the backup
    /// horizon). Their identifiers are suppressed so an import cannot re-create them.
    #[allow(clippy::too_many_arguments)]
    async fn erase_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        keys: &TenantKeys,
        policy: &Policy,
        tenant: &str,
        subject: &str,
        request: &str,
    ) -> Result<Value> {
        let now = self.now_ms();
        for i in &tx.identifiers(tenant, subject).await? {
            tx.insert_suppression(tenant, &i.kind, &i.bidx, now, Some(request))
                .await?;
        }
        let Shredded {
            holds,
            kept,
            notified,
        } = self
            .shred_in(tx, actor, keys, tenant, subject, ("request", request))
            .await?;
        let backup_days = policy
            .stores
            .iter()
            .filter(|s| s.kind == vow_core::policy::StoreKind::Backup)
            .filter_map(|s| s.backup_retention_days)
            .max()
            .unwrap_or(0);
        let horizon = now + i64::from(backup_days) * 24 * 3600 * 1000;
        let promise = policy.response_times.backup_purge_days;
        let within_promise = promise.is_none_or(|p| backup_days <= p);
        let kept_view: Vec<Value> = holds
            .iter()
            .map(|h| json!({"categories": serde_json::from_str::<Value>(&h.categories).unwrap_or(Value::Null), "reason": h.reason, "until": ts(h.until)}))
            .collect();
        let mut words = format!(
            "We deleted your personal information and destroyed the key that encrypted it, so copies in our backups can no longer be read; the last backup holding the old key expires by {}.",
            ts(horizon)
        );
        for h in &holds {
            words.push_str(&format!(
                " The law obliges us to keep some of it ({}) until {}: {}.",
                serde_json::from_str::<Vec<String>>(&h.categories)
                    .unwrap_or_default()
                    .join(", "),
                ts(h.until),
                h.reason
            ));
        }
        Ok(json!({
            "done": if kept == 0 { "erased" } else { "erased_except_held" },
            "backups_unreadable_by": ts(horizon),
            "backup_purge_promise_days": promise,
            "within_promise": within_promise,
            "kept": kept_view,
            "recipients_notified": notified,
            "words": words,
        }))
    }

    /// California's annual request metrics (11 CCR §7102): per type, received, complied
    /// with in whole or in part, denied, and the median and mean days to respond.
    pub async fn request_metrics(&self, actor: &Actor, tenant: &str, year: i16) -> Result<Metrics> {
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let (start, end) = crate::assessment::year_bounds(year)?;
        let mut tx = self.store.read().await?;
        let rows = tx.requests_received(tenant, start, end).await?;
        let mut per_type = Vec::new();
        for kind in RequestType::ALL {
            let of: Vec<&RequestRow> = rows
                .iter()
                .filter(|r| original_kind(r) == kind.as_str())
                .collect();
            let count = |states: &[&str]| {
                of.iter()
                    .filter(|r| states.contains(&r.state.as_str()))
                    .count()
            };
            let mut days: Vec<f64> = of
                .iter()
                .filter(|r| {
                    matches!(
                        r.state.as_str(),
                        "fulfilled" | "partially_fulfilled" | "denied"
                    )
                })
                .filter_map(|r| {
                    r.closed_at
                        .map(|c| (c - r.received_at) as f64 / 86_400_000.0)
                })
                .collect();
            days.sort_by(f64::total_cmp);
            let mean = (!days.is_empty()).then(|| days.iter().sum::<f64>() / days.len() as f64);
            let median = (!days.is_empty()).then(|| {
                let m = days.len() / 2;
                if days.len().is_multiple_of(2) {
                    (days[m - 1] + days[m]) / 2.0
                } else {
                    days[m]
                }
            });
            per_type.push(TypeMetrics {
                kind: kind.as_str().to_string(),
                received: of.len(),
                complied_in_whole: count(&["fulfilled"]),
                complied_in_part: count(&["partially_fulfilled"]),
                denied: count(&["denied"]),
                routed_to_client: count(&["routed"]),
                withdrawn: count(&["withdrawn"]),
                open: of.iter().filter(|r| r.closed_at.is_none()).count(),
                median_days: median.map(|d| (d * 10.0).round() / 10.0),
                mean_days: mean.map(|d| (d * 10.0).round() / 10.0),
            });
        }
        Ok(Metrics {
            tenant: tenant.to_string(),
            year,
            total: rows.len(),
            per_type,
        })
    }

    /// Deny, as unverifiable, every request whose deadline has passed while the person's
    /// identity could not be confirmed (the law's answer in writing, not silence).
    pub async fn sweep_requests(&self, actor: &Actor, tenant: &str) -> Result<usize> {
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
            crate::vault::audit::append(&mut tx, &[entry]).await?;
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
            self.deny_request(actor, tenant, id, &step).await?;
        }
        Ok(due.len())
    }

    /// Record a legal hold: named categories of a subject kept for a reason until a date,
    /// even after a deletion request (S7).
    pub async fn create_hold(
        &self,
        actor: &Actor,
        tenant: &str,
        subject: &str,
        hold: &NewHold,
    ) -> Result<HoldView> {
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut errors = Vec::new();
        if hold.categories.is_empty() {
            errors.push(FieldError::new(
                "/categories",
                "name at least one category to keep",
            ));
        }
        for (i, c) in hold.categories.iter().enumerate() {
            if let Err(e) = vow_core::Category::new(c.as_str()) {
                errors.push(FieldError::new(format!("/categories/{i}"), e.to_string()));
            }
        }
        let reason = hold.reason.trim();
        if reason.is_empty() || reason.len() > 500 {
            errors.push(FieldError::new(
                "/reason",
                "give the legal reason (1 to 500 characters)",
            ));
        }
        let until = match hold.until.parse::<jiff::civil::Date>() {
            Ok(d) => d
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp())
                .ok(),
            Err(_) => hold.until.parse::<Timestamp>().ok(),
        };
        match until {
            Some(u) if u > self.now() => {}
            Some(_) => errors.push(FieldError::new("/until", "must be in the future")),
            None => errors.push(FieldError::new(
                "/until",
                "expected a date YYYY-MM-DD or an RFC 3339 time",
            )),
        }
        let (true, Some(until)) = (errors.is_empty(), until) else {
            return Err(EngineError::Invalid(errors));
        };
        let mut tx = self.store.write().await?;
        match tx.subject(tenant, subject).await? {
            Some(s) if s.status == "active" => {}
            _ => return Err(EngineError::NotFound("subject")),
        }
        let row = vow_store::HoldRow {
            id: uuid::Uuid::now_v7().to_string(),
            tenant_id: tenant.to_string(),
            subject_id: subject.to_string(),
            categories: json!(hold.categories).to_string(),
            reason: reason.to_string(),
            until: until.as_millisecond(),
            created_at: self.now_ms(),
            created_by: actor.id().to_string(),
        };
        tx.insert_hold(&row).await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "hold.create",
            Some(subject),
            None,
            json!({"hold": row.id, "categories": hold.categories}),
        );
        crate::vault::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(HoldView {
            id: row.id,
            categories: hold.categories.clone(),
            reason: row.reason,
            until: ts(row.until),
        })
    }

    pub async fn request(&self, actor: &Actor, tenant: &str, id: &str) -> Result<RequestView> {
        self.authorize(actor, Capability::SubmitRequest, tenant)?;
        let show_text = actor.local || actor.caller.role.may(Capability::ManageRequests);
        let mut tx = self.store.read().await?;
        let r = tx
            .request(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("request"))?;
        let events = tx.request_events(&r.id).await?;
        let notices = tx.notices(&r.id).await?;
        let key = if show_text {
            let keys = self.keys.tenant(&mut tx, tenant).await?;
            Some(self.request_key(&keys, tenant, &r)?)
        } else {
            None
        };
        Ok(self.view(&r, events, notices, key.as_ref()))
    }

    pub async fn requests(
        &self,
        actor: &Actor,
        tenant: &str,
        include_closed: bool,
    ) -> Result<Vec<RequestView>> {
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.read().await?;
        let rows = tx.requests(tenant, include_closed, 10_000).await?;
        Ok(rows
            .iter()
            .map(|r| self.view(r, Vec::new(), Vec::new(), None))
            .collect())
    }

    /// The access or know package of a fulfilled request, while its link is valid.
    pub async fn request_export(&self, actor: &Actor, tenant: &str, id: &str) -> Result<Value> {
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let r = tx
            .request(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("request"))?;
        let (_, expires, sealed) = tx
            .export(&r.id)
            .await?
            .ok_or(EngineError::NotFound("export"))?;
        if expires < self.now_ms() {
            return Err(EngineError::NotFound("export (its link has expired)"));
        }
        let key = self.request_key(&keys, tenant, &r)?;
        let plain = open(&key, &sealed, &request_aad(tenant, &r.id, "export"))?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "request.export.read",
            r.subject_id.as_deref(),
            None,
            json!({"request": r.id}),
        );
        drop(tx);
        self.audit.record(vec![entry]).await?;
        serde_json::from_slice(&plain)
            .map_err(|_| EngineError::Internal("export unreadable".into()))
    }

    /// The package behind a person's download link, while it is valid. The token is
    /// the only credential, so it is long, random, stored hashed and expiring.
    pub async fn export_by_token(&self, token: &str) -> Result<Value> {
        if token.len() < 32 || token.len() > 128 {
            return Err(EngineError::NotFound("download"));
        }
        let mut tx = self.store.read().await?;
        let (tenant, id, expires) = tx
            .export_by_token(&vow_crypto::sha256(token.as_bytes()))
            .await?
            .ok_or(EngineError::NotFound("download"))?;
        if expires < self.now_ms() {
            return Err(EngineError::NotFound("download (the link has expired)"));
        }
        let keys = self.keys.tenant(&mut tx, &tenant).await?;
        let r = tx
            .request(&tenant, &id)
            .await?
            .ok_or(EngineError::NotFound("download"))?;
        let (_, _, sealed) = tx
            .export(&id)
            .await?
            .ok_or(EngineError::NotFound("download"))?;
        let key = self.request_key(&keys, &tenant, &r)?;
        let plain = open(&key, &sealed, &request_aad(&tenant, &id, "export"))?;
        drop(tx);
        let entry = self.audit_entry(
            &Actor::local("download-link"),
            Some(&tenant),
            "request.export.download",
            r.subject_id.as_deref(),
            None,
            json!({"request": id}),
        );
        self.audit.record(vec![entry]).await?;
        serde_json::from_slice(&plain)
            .map_err(|_| EngineError::Internal("export unreadable".into()))
    }

    fn view(
        &self,
        r: &RequestRow,
        events: Vec<RequestEventRow>,
        notices: Vec<NoticeRow>,
        key: Option<&Key32>,
    ) -> RequestView {
        let now = self.now_ms();
        let due = r.extended_due.unwrap_or(r.response_due);
        let flag = if r.closed_at.is_some() {
            None
        } else if r.paused_at.is_some() {
            Some("paused".to_string())
        } else if due < now {
            Some("overdue".to_string())
        } else if due - now <= 3 * 24 * 3600 * 1000 {
            Some("due_soon".to_string())
        } else {
            None
        };
        RequestView {
            id: r.id.clone(),
            tenant: r.tenant_id.clone(),
            kind: r.kind.clone(),
            channel: r.channel.clone(),
            state: r.state.clone(),
            received_at: ts(r.received_at),
            due: DueView {
                acknowledgement: r.ack_due.map(ts),
                response: ts(r.response_due),
                extended_max: r.extended_max.map(ts),
                extended_to: r.extended_due.map(ts),
                binding: r.binding.clone(),
                paused_since: r.paused_at.map(ts),
            },
            rules: serde_json::from_str(&r.rules).unwrap_or_default(),
            requester: r.requester.clone(),
            subject: r.subject_id.clone(),
            verification: serde_json::from_str(&r.verification).unwrap_or(Value::Null),
            matched_points: r.matched_points,
            outcome: r
                .outcome
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok()),
            closed_at: r.closed_at.map(ts),
            flag,
            events: events
                .into_iter()
                .map(|e| EventView {
                    at: ts(e.at),
                    actor: e.actor,
                    event: e.event,
                    from: e.from_state,
                    to: e.to_state,
                    note: serde_json::from_str(&e.note).unwrap_or(Value::Null),
                })
                .collect(),
            notices: notices
                .into_iter()
                .map(|n| {
                    let text = key.and_then(|k| {
                        let plain =
                            open(k, &n.sealed, &request_aad(&r.tenant_id, &r.id, &n.id)).ok()?;
                        let v: Value = serde_json::from_slice(&plain).ok()?;
                        v["text"].as_str().map(str::to_string)
                    });
                    NoticeView {
                        id: n.id,
                        kind: n.kind,
                        created_at: ts(n.created_at),
                        sent_at: n.sent_at.map(ts),
                        text,
                    }
                })
                .collect(),
        }
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

/// Whether whoever submitted may act: the person; an agent with a power of attorney, or
/// with signed permission and a registration once the person has confirmed directly
/// (Cal. Code Regs. tit. 11 §7063); a parent or guardian with evidence of it.
fn authority(r: &RequestRow, d: &Details) -> std::result::Result<(), &'static str> {
    let evidence = d
        .request
        .requester
        .as_ref()
        .and_then(|q| q.evidence.as_ref())
        .map(|e| e.expose().clone())
        .unwrap_or(Value::Null);
    let yes = |k: &str| evidence[k].as_bool() == Some(true);
    match r.requester.as_str() {
        "agent" if yes("power_of_attorney") => Ok(()),
        "agent"
            if yes("signed_permission")
                && evidence["registration"]
                    .as_str()
                    .is_some_and(|s| !s.trim().is_empty()) =>
        {
            if d.subject_confirmed {
                Ok(())
            } else {
                Err("the person must confirm directly that the agent acts for them")
            }
        }
        "agent" => {
            Err("an agent needs a power of attorney, or signed permission and a registration")
        }
        "parent" => {
            let p = d.parent.clone().unwrap_or_default();
            if p.child == Some(false) {
                Err("a parent or guardian acts only for a child under the policy's parental age")
            } else if p.linked || yes("parent_of") {
                Ok(())
            } else {
                Err(
                    "a parent or guardian needs evidence of parental authority, or to be the parent recorded on the child's parental consent",
                )
            }
        }
        _ => Ok(()),
    }
}

/// `US-CA`, `CA-QC`, `DE`, `EU`, `UK`: two capital letters, optionally a subdivision.
fn is_jurisdiction_code(s: &str) -> bool {
    vow_core::deadline::is_region_code(s)
}

/// Keep a notice with its request (in `tx`) and return it queued for mailing after
/// the commit, if there is an address to send it to.
async fn queue_notice(
    tx: &mut Tx,
    row: NoticeRow,
    mail: Option<(String, Rendered)>,
) -> Result<Vec<(String, String, Rendered)>> {
    tx.insert_notice(&row).await?;
    Ok(mail
        .map(|(to, rendered)| vec![(row.id, to, rendered)])
        .unwrap_or_default())
}

fn contact(d: &Details) -> Option<String> {
    d.request
        .contact_email
        .as_ref()
        .or(d.request.identifiers.email.as_ref())
        .map(|e| e.expose().clone())
}

/// The identifiers that may count as matching data points: for a correction, not the
/// ones being corrected (CCPA regs §7060(c)(3): verify with other information).
fn matchable(ids: &Identifiers, request: &NewRequest) -> Identifiers {
    let corrected = |prefix: &str| {
        request
            .corrections
            .iter()
            .any(|c| c.category == prefix || c.category.starts_with(&format!("{prefix}.")))
    };
    Identifiers {
        email: ids
            .email
            .clone()
            .filter(|_| !corrected("user.contact.email")),
        phone: ids
            .phone
            .clone()
            .filter(|_| !corrected("user.contact.phone_number")),
        external_id: ids.external_id.clone(),
    }
}

fn merge_identifiers(into: &mut Identifiers, from: &Identifiers) {
    if from.email.is_some() {
        into.email = from.email.clone();
    }
    if from.phone.is_some() {
        into.phone = from.phone.clone();
    }
    if from.external_id.is_some() {
        into.external_id = from.external_id.clone();
    }
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

/// What crypto-shredding a person did.
pub(crate) struct Shredded {
    /// The legal holds in force, whose fields were kept.
    pub holds: Vec<vow_store::HoldRow>,
    /// Fields kept under a fresh key.
    pub kept: usize,
    /// Recipients told of the erasure.
    pub notified: usize,
}
