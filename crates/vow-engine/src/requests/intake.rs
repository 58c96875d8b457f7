//! Intake: a new request's deadlines (the strictest of the policy's promise and every
//! law that applies), matching the identifiers given against the blind indexes, the
//! routing of a processor tenant's requests to its client, and the acknowledgement.
//! Requests that need no verification take effect at once.

use super::notices::NoticeKind;
use super::notify::{Extra, queue_notice};
use super::record::{Details, ParentCheck};
use super::types::{NewRequest, RequestView};
use crate::engine::{parse_time, ts};
use crate::error::{EngineError, FieldError, Result};
use crate::input::Identifiers;
use crate::vault::keyring::{TenantKeys, new_subject_key, value_aad};
use crate::{Actor, Engine};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use vow_core::TenantId;
use vow_core::deadline::DueDates;
use vow_core::jurisdiction::Jurisdiction;
use vow_core::role::Capability;
use vow_core::{
    Channel, Policy, RequestHandling, RequestState, RequestType, RequesterKind, TenantRole,
};
use vow_crypto::{IdentifierKind, open};
use vow_store::{OutboxRow, RequestRow, Tx};

impl Engine {
    /// The event that tells a processor tenant's controlling client of a request
    /// (`request.routed` or `request.forwarded`): ids, type, channel and deadlines,
    /// no personal values.
    fn controller_event(&self, r: &RequestRow, event: &str) -> OutboxRow {
        OutboxRow {
            id: uuid::Uuid::now_v7().to_string(),
            tenant_id: r.tenant_id.clone(),
            event: event.into(),
            recipient: Some(crate::obligations::webhooks::CONTROLLER.into()),
            payload: json!({"request": r.id, "type": r.kind, "channel": r.channel, "received_at": ts(r.received_at),
                            "response_due": ts(r.response_due), "subject": r.subject_id})
            .to_string(),
            sealed: None,
            subject_id: r.subject_id.clone(),
            created_at: self.now_ms(),
            delivered_at: None,
        }
    }
}

impl Engine {
    /// How many of the given data points identify one subject, and which subject.
    pub(crate) async fn match_points(
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
    pub(crate) async fn parent_check(
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

    pub async fn submit_request(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        input: &NewRequest,
    ) -> Result<RequestView> {
        let id = self.submit_in(actor, tenant, input, None).await?;
        self.request(actor, tenant, &id).await
    }

    /// File a request (every channel comes here); `portal`: what the request portal
    /// adds (the status link in the acknowledgement, the documents uploaded). Returns
    /// the request's id.
    pub(crate) async fn submit_in(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        input: &NewRequest,
        portal: Option<&super::types::Intake<'_>>,
    ) -> Result<String> {
        let tenant_id = tenant;
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::SubmitRequest, tenant)?;
        let now = self.now();
        let mut errors = Vec::new();
        let kind = RequestType::parse(&input.kind);
        if kind.is_none() {
            errors.push(FieldError::new(
                "/type",
                "must be one of access, know, delete, correct, opt_out, limit_sensitive, portability, withdraw_consent, unsubscribe",
            ));
        }
        let channel = Channel::parse(&input.channel);
        if channel.is_none() {
            errors.push(FieldError::new(
                "/channel",
                "must be one of web, email, phone, mail, api",
            ));
        }
        let limits = self.intake_limits();
        let received = match &input.received_at {
            Some(t) => match parse_time("/received_at", t) {
                Ok(t) => match received_in_window(t, now, input.backdated, limits) {
                    Ok(t) => t,
                    Err(e) => {
                        errors.push(e);
                        now
                    }
                },
                Err(EngineError::Invalid(mut e)) => {
                    errors.append(&mut e);
                    now
                }
                Err(e) => return Err(e),
            },
            None => now,
        };
        let jurisdiction = match input.jurisdiction.as_deref().map(Jurisdiction::parse) {
            Some(Ok(j)) => {
                // A code no rule pack covers would silently get only the policy's own
                // promise: say which codes Vow knows instead.
                if !self.rules().iter().any(|p| p.covers_residence(j.as_str())) {
                    errors.push(FieldError::new(
                        "/jurisdiction",
                        format!(
                            "no rule pack covers this region; known: {}. Leave it out to answer under the policy's own promise",
                            self.known_regions().join(", ")
                        ),
                    ));
                }
                Some(j)
            }
            Some(Err(_)) => {
                errors.push(FieldError::new(
                    "/jurisdiction",
                    "expected a code like US-CA, CA-QC, DE, EU or UK",
                ));
                None
            }
            None => None,
        };
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
        for (i, p) in input.purposes.iter().enumerate() {
            if let Err(EngineError::Invalid(mut e)) =
                crate::input::purpose(&format!("/purposes/{i}"), p)
            {
                errors.append(&mut e);
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
            jurisdiction.as_ref().map(Jurisdiction::as_str),
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
            appeal_statement: None,
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
                RequestType::OptOut
                | RequestType::Unsubscribe
                | RequestType::WithdrawConsent
                | RequestType::LimitSensitive,
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
            residence: jurisdiction.map(String::from),
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
        if let Some(p) = portal {
            self.store_documents(&mut tx, &key, tenant, &id, p.documents)
                .await?;
        }
        self.event(&mut tx, actor, &r, "received", None, json!({"channel": r.channel, "rules": due.applied, "binding": due.binding, "points": points}))
            .await?;
        let to = input
            .contact_email
            .as_ref()
            .or(input.identifiers.email.as_ref())
            .map(|e| e.expose().clone());
        let mut queued = Vec::new();

        let handling = match tx.request_handling(tenant).await? {
            Some(h) => crate::engine::stored("request handling", &h, RequestHandling::parse)?,
            None => RequestHandling::Redirect,
        };
        let processor = crate::engine::tenant_role(&tenant_row)? == TenantRole::Processor;
        let forward = handling == RequestHandling::ForwardAssist;
        if processor && forward {
            // Forward and assist: the client is told and decides; the request is carried
            // through here on its instructions, under the same deadlines.
            tx.insert_outbox(&self.controller_event(&r, "request.forwarded"))
                .await?;
        }
        if processor && !forward {
            // R23/S3: the operator holds this data for its client; the client decides.
            let controller = (
                tenant_row.controller_name.clone().unwrap_or_default(),
                tenant_row.controller_contact.clone().unwrap_or_default(),
            );
            r.outcome = Some(
                json!({"routed_to": {"name": controller.0, "contact": controller.1}}).to_string(),
            );
            self.transition(
                &mut tx,
                actor,
                &mut r,
                RequestState::Routed,
                json!({"controller": controller.0}),
            )
            .await?;
            tx.insert_outbox(&self.controller_event(&r, "request.routed"))
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
            self.transition(
                &mut tx,
                actor,
                &mut r,
                RequestState::Acknowledged,
                json!({}),
            )
            .await?;
            let status = match portal {
                Some(_) => Some(self.status_url(tenant_id, &id)?),
                None => None,
            };
            let (row, mail) = self.notice(
                NoticeKind::Acknowledgement,
                &policy,
                &r,
                &key,
                to.as_deref(),
                Extra {
                    status_url: status.as_deref(),
                    ..Extra::default()
                },
            )?;
            queued.append(&mut queue_notice(&mut tx, row, mail).await?);
            self.try_verify(&mut tx, actor, &mut r, &details, false)
                .await?;
            // Opt-outs and withdrawals take effect at once where the law asks no
            // verification, but not while an uploaded document awaits review.
            let awaiting = portal.as_ref().is_some_and(|p| !p.documents.is_empty());
            if r.state == RequestState::Verified.as_str()
                && !awaiting
                && matches!(
                    kind,
                    RequestType::OptOut
                        | RequestType::Unsubscribe
                        | RequestType::WithdrawConsent
                        | RequestType::LimitSensitive
                )
            {
                let mut q = self
                    .fulfil_in(&mut tx, actor, &mut r, &policy, &keys, &key, None)
                    .await?;
                queued.append(&mut q);
            }
        }
        tx.commit().await?;
        self.mail(queued).await;
        Ok(id)
    }
}

/// The identifiers that may count as matching data points: for a correction, not the
/// ones being corrected (CCPA regs §7060(c)(3): verify with other information).
pub(crate) fn matchable(ids: &Identifiers, request: &NewRequest) -> Identifiers {
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

impl Engine {
    /// Set how far back and ahead a request's `received_at` may lie.
    pub fn set_intake_limits(&self, limits: super::IntakeLimits) {
        if let Ok(mut l) = self.intake.write() {
            *l = limits;
        }
    }

    pub(crate) fn intake_limits(&self) -> super::IntakeLimits {
        self.intake.read().map(|l| *l).unwrap_or_default()
    }

    /// Every region some rule pack covers, in order (`EU` and its members, `US-CA`, …).
    pub fn known_regions(&self) -> Vec<String> {
        let set: BTreeSet<String> = self
            .rules()
            .iter()
            .flat_map(|p| p.scope.iter().map(|s| s.to_string()))
            .collect();
        set.into_iter().collect()
    }
}

/// `received_at` as filed: a time a little ahead of our clock (the sender's runs
/// fast) is now; further ahead is refused; further back than the window is refused
/// unless the caller says the request was back-dated on purpose (a request "received"
/// in 1900 would otherwise be filed, found overdue and denied within a minute).
fn received_in_window(
    t: Timestamp,
    now: Timestamp,
    backdated: bool,
    limits: super::IntakeLimits,
) -> std::result::Result<Timestamp, FieldError> {
    let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let ahead = t.as_millisecond() - now.as_millisecond();
    if ahead > ms(limits.future_skew) {
        return Err(FieldError::new("/received_at", "must not be in the future"));
    }
    if ahead > 0 {
        return Ok(now);
    }
    let window = ms(limits.backdate_window);
    if -ahead > window && !backdated {
        return Err(FieldError::new(
            "/received_at",
            format!(
                "more than {} days ago: if the request really arrived then, also send \"backdated\": true (its deadlines may have passed)",
                window / 86_400_000
            ),
        ));
    }
    Ok(t)
}
