//! Appeals of denials, where a law provides one (RULES.md VA-02 Virginia 60 days,
//! CO-03 Colorado 45 days, CT-03 Connecticut 60 days).
//!
//! An appeal is a request of its own: a new row of the same type, about the same
//! person, with its own key and its own deadline, the earliest appeal term of the
//! rule packs that applied to the denied request (`vow_core::deadline::appeal_due`).
//! `request_appeals` links the two, one appeal per denial. The privacy team decides it
//! with the ordinary steps: fulfilling it carries the request out after all; denying
//! it is final, and its notice names the regulators to complain to.
//!
//! The person's identity check carries over when the denied request had passed it.
//! The denial notice carries a link to the appeal form (`/privacy/{t}/request/appeal/
//! {token}`): a token sealed under a key derived from the root key, naming the tenant
//! and the request; the form shows the same page whatever the token is.

use super::notices::NoticeKind;
use super::notify::{Extra, queue_notice};
use super::record::{contact, load};
use super::types::RequestView;
use crate::error::{EngineError, Result};
use crate::security::events::{SecurityAttempt, SecurityKind};
use crate::vault::keyring::new_subject_key;
use crate::vault::links::{self, day_of};
use crate::{Actor, Engine};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use vow_core::role::Capability;
use vow_core::term::add_term;
use vow_core::{Caller, Channel, Pii, RequestState, RequestType, Role, TenantId};
use vow_store::RequestRow;

/// How long an appeal link in a denial notice works, in days from the denial. The
/// laws set no fixed period to appeal in (Virginia: "a reasonable period"); a pack's
/// `request_within` still refuses a late appeal.
pub const APPEAL_LINK_VALID_DAYS: i64 = 400;
/// The longest statement an appeal may carry, in characters.
pub const MAX_STATEMENT: usize = 5_000;

const LINK_KEY: &[u8] = b"vow:v1:appeal-link";
const LINK_AAD: &[u8] = b"vow:v1:appeal";

/// An appeal of a denied request.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppeal {
    /// Why the person disagrees, in their words (kept sealed with the appeal; at most
    /// 5,000 characters).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub statement: Option<Pii<String>>,
    /// How the appeal arrived: web, email, phone, mail, api (default api).
    #[serde(default)]
    pub channel: Option<String>,
}

/// What following an appeal link did. The page shows the same thing for each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppealOutcome {
    /// The appeal was filed: its request id.
    Filed(String),
    /// A valid link whose request cannot be appealed (already appealed, not denied,
    /// out of time, or no law provides an appeal).
    NotOpen,
    /// A forged, altered or expired link.
    Refused,
}

impl Engine {
    /// Appeal the denial of request `id`: a new request with its own deadline.
    pub async fn appeal_request(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        input: &NewAppeal,
    ) -> Result<RequestView> {
        self.authorize(actor, Capability::SubmitRequest, tenant.as_str())?;
        let channel = match input.channel.as_deref() {
            None => Channel::Api,
            Some(c) => Channel::parse(c).ok_or_else(|| {
                EngineError::invalid("/channel", "must be one of web, email, phone, mail, api")
            })?,
        };
        let statement = input
            .statement
            .as_ref()
            .map(|s| s.expose().trim().to_string());
        if statement
            .as_ref()
            .is_some_and(|s| s.chars().count() > MAX_STATEMENT)
        {
            return Err(EngineError::invalid(
                "/statement",
                format!("at most {MAX_STATEMENT} characters"),
            ));
        }
        let appeal = self
            .file_appeal(actor, tenant.as_str(), id, channel, statement)
            .await?;
        self.request(actor, tenant, &appeal).await
    }

    async fn file_appeal(
        &self,
        actor: &Actor,
        tenant: &str,
        id: &str,
        channel: Channel,
        statement: Option<String>,
    ) -> Result<String> {
        let now = self.now();
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;
        let original = load(&mut tx, tenant, id).await?;
        if tx.appealed_request(tenant, id).await?.is_some() {
            return Err(EngineError::Conflict(
                "this request is itself an appeal: the decision on it is final, and the person may complain to the regulator".into(),
            ));
        }
        if original.state != RequestState::Denied.as_str() {
            return Err(EngineError::Conflict(format!(
                "only a denied request can be appealed; this one is {}",
                original.state
            )));
        }
        if let Some(appeal) = tx.appeal_for(tenant, id).await? {
            return Err(EngineError::Conflict(format!(
                "this request was appealed already (request {appeal})"
            )));
        }
        let kind = RequestType::parse(&original.kind).ok_or(EngineError::Internal(
            "a stored request has an unknown type".into(),
        ))?;
        let packs = self.packs_for(&original);
        let with_appeal: Vec<_> = packs
            .iter()
            .filter(|p| p.rule(kind).and_then(|r| r.appeal).is_some())
            .copied()
            .collect();
        if with_appeal.is_empty() {
            let laws: Vec<&str> = packs.iter().map(|p| p.id.as_str()).collect();
            return Err(EngineError::Conflict(format!(
                "no law that applied to this request ({}) provides an appeal; the denial notice names where to complain",
                if laws.is_empty() {
                    "none".to_string()
                } else {
                    laws.join(", ")
                }
            )));
        }
        let denied_at = crate::engine::at(original.closed_at.unwrap_or(original.updated_at));
        let open: Vec<_> = with_appeal
            .iter()
            .filter(|p| {
                let within = p
                    .rule(kind)
                    .and_then(|r| r.appeal)
                    .and_then(|a| a.request_within);
                within.is_none_or(|term| {
                    let tz = p.time_zone().unwrap_or(jiff::tz::TimeZone::UTC);
                    let cal = p
                        .calendar
                        .as_deref()
                        .and_then(|c| self.rules.calendars.get(c));
                    add_term(denied_at, term, &tz, cal) >= now
                })
            })
            .copied()
            .collect();
        let (due, pack) = vow_core::deadline::appeal_due(&open, &self.rules.calendars, kind, now)
            .ok_or_else(|| {
            EngineError::Conflict("the time to appeal this decision has passed".into())
        })?;

        let original_key = self.request_key(&keys, tenant, &original)?;
        let mut details = self.open_details(&original_key, tenant, &original)?;
        details.appeal_statement = statement.filter(|s| !s.is_empty());
        let appeal_id = uuid::Uuid::now_v7().to_string();
        let (key, key_wrapped) = new_subject_key(&keys, tenant, &appeal_id)?;
        let mut r = RequestRow {
            id: appeal_id.clone(),
            tenant_id: tenant.to_string(),
            kind: original.kind.clone(),
            channel: channel.as_str().to_string(),
            state: RequestState::Received.as_str().to_string(),
            subject_id: original.subject_id.clone(),
            requester: original.requester.clone(),
            residence: original.residence.clone(),
            rules: json!([pack]).to_string(),
            binding: pack.clone(),
            received_at: now.as_millisecond(),
            ack_due: None,
            response_due: due.as_millisecond(),
            extended_max: None,
            extended_due: None,
            paused_at: None,
            verification: original.verification.clone(),
            matched_points: original.matched_points,
            kek_version: keys.current,
            key_wrapped,
            details: self.seal_details(&key, tenant, &appeal_id, &details)?,
            outcome: None,
            closed_at: None,
            updated_at: now.as_millisecond(),
        };
        tx.insert_request(&r).await?;
        tx.insert_appeal(tenant, id, &appeal_id, now.as_millisecond())
            .await?;
        self.event(
            &mut tx,
            actor,
            &r,
            "received",
            None,
            json!({"channel": r.channel, "appeal_of": id, "rules": [&pack], "binding": &pack}),
        )
        .await?;
        self.event(
            &mut tx,
            actor,
            &original,
            "appealed",
            None,
            json!({"appeal": appeal_id}),
        )
        .await?;
        self.transition(
            &mut tx,
            actor,
            &mut r,
            RequestState::Acknowledged,
            json!({}),
        )
        .await?;
        // Who the person is was settled if the denied request got past verification.
        let verified_before = tx
            .request_events(id)
            .await?
            .iter()
            .any(|e| e.to_state.as_deref() == Some(RequestState::Verified.as_str()));
        if verified_before {
            self.transition(
                &mut tx,
                actor,
                &mut r,
                RequestState::Verified,
                json!({"carried_from": id}),
            )
            .await?;
        }
        let to = contact(&details);
        let extra = Extra {
            appeal_of: Some(id),
            ..Extra::default()
        };
        let (row, mail) = self.notice(
            NoticeKind::Acknowledgement,
            &policy,
            &r,
            &key,
            to.as_deref(),
            extra,
        )?;
        let queued = queue_notice(&mut tx, row, mail).await?;
        tx.commit().await?;
        self.mail(queued).await;
        Ok(appeal_id)
    }

    /// The address of the appeal form for request `id`, for its denial notice.
    pub(crate) fn appeal_url(&self, tenant: &str, id: &str) -> Result<String> {
        let key = self.keys.derived(LINK_KEY);
        let payload = links::encode(day_of(self.now()), &[tenant, id])?;
        let token = vow_crypto::seal_link(&key, &payload, LINK_AAD)?;
        Ok(format!(
            "{}/privacy/{tenant}/request/appeal/{token}",
            self.public_url()
        ))
    }

    /// File an appeal from the form a denial notice links to. `tenant` is the page's
    /// tenant: a link made for another tenant is refused. `source` (the client's
    /// address) only rate-limits the security event of a bad link.
    pub async fn appeal_by_link(
        &self,
        tenant: &TenantId,
        token: &str,
        statement: Option<String>,
        source: Option<String>,
    ) -> Result<AppealOutcome> {
        let key = self.keys.derived(LINK_KEY);
        let link = vow_crypto::open_link(&key, token, LINK_AAD)
            .and_then(|p| links::decode(&p, 2))
            .filter(|(day, _)| day_of(self.now()) <= day + APPEAL_LINK_VALID_DAYS)
            .and_then(|(_, parts)| <[String; 2]>::try_from(parts).ok())
            .filter(|[t, _]| t == tenant.as_str());
        let Some([t, request]) = link else {
            self.record_security_event(SecurityAttempt {
                kind: SecurityKind::InvalidLink,
                reason: "appeal_token",
                key_id: None,
                key_tenant: None,
                tenant: None,
                method: "POST".into(),
                route: "/privacy/{t}/request/appeal/{token}".into(),
                source,
            })
            .await?;
            return Ok(AppealOutcome::Refused);
        };
        let statement = statement.map(|s| s.trim().chars().take(MAX_STATEMENT).collect::<String>());
        let actor = Actor::key(
            Caller {
                key_id: "web:appeal-form".into(),
                role: Role::Ingest,
                purposes: None,
            },
            Some(tenant.clone()),
        );
        match self
            .file_appeal(&actor, &t, &request, Channel::Web, statement)
            .await
        {
            Ok(id) => Ok(AppealOutcome::Filed(id)),
            Err(EngineError::Conflict(_) | EngineError::NotFound(_)) => Ok(AppealOutcome::NotOpen),
            Err(e) => Err(e),
        }
    }
}
