//! One-click unsubscribe (R13, S8; RFC 2369, RFC 8058).
//!
//! A link names a tenant, a person and a mailing purpose in a token sealed
//! (XChaCha20-Poly1305) under a key derived from the root key
//! (HKDF, `vow:v1:unsubscribe-link`): nobody can read who it is for or make one, and
//! it does not depend on the tenants' KEKs, so `vow keys rotate` leaves every link
//! working. A link is valid [`LINK_VALID_DAYS`] days from the day it was made (CASL
//! asks at least 60 days after the message is sent).
//!
//! Following a link withdraws the consent through the ledger, like any withdrawal:
//! the recipients that received the person's data for the purpose get
//! `consent.withdrawn` in the same transaction. A forged, altered or expired link, an
//! erased person or a consent already withdrawn changes nothing; the caller shows the
//! same page whatever happened, so a link reveals nothing.

use super::links::{self, day_of, start_of_day};
use crate::engine::ts;
use crate::error::{EngineError, Result};
use crate::input::NewConsent;
use crate::security::events::{SecurityAttempt, SecurityKind};
use crate::{Actor, Engine};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use vow_core::role::Capability;
use vow_core::{Caller, ConsentState, PurposeId, Role, TenantId};

/// How long a link works, in days from the day it was made.
pub const LINK_VALID_DAYS: i64 = 400;
/// The exact `List-Unsubscribe-Post` value (RFC 8058 §3.1).
pub const ONE_CLICK: &str = "List-Unsubscribe=One-Click";
/// At most this many subjects may be named in one call.
pub const MAX_SUBJECTS: usize = 10_000;

const LINK_KEY: &[u8] = b"vow:v1:unsubscribe-link";
const LINK_AAD: &[u8] = b"vow:v1:unsubscribe";

/// For whom to make links.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// The mailing purpose the links withdraw consent to, e.g. `marketing.email`.
    #[schema(example = "marketing.email")]
    pub purpose: String,
    /// These subjects (whatever their consent now); absent: every active subject
    /// whose consent to the purpose is granted now (the mailing list).
    #[serde(default)]
    pub subjects: Option<Vec<String>>,
}

/// One person's headers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnsubscribeLink {
    pub subject: String,
    /// The HTTPS address: `GET` shows a confirmation page, `POST` with
    /// `List-Unsubscribe=One-Click` unsubscribes at once.
    pub url: String,
    /// The `List-Unsubscribe` header's value (RFC 2369): `<url>`.
    pub list_unsubscribe: String,
    /// The `List-Unsubscribe-Post` header's value (RFC 8058): always
    /// `List-Unsubscribe=One-Click`.
    pub list_unsubscribe_post: String,
    /// The person's preference centre (`/privacy/{t}/preferences/link/…`): opens a
    /// 30-minute session with no other step. Valid 60 days.
    pub preferences: String,
}

/// Links for a mailing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnsubscribeLinks {
    pub purpose: String,
    pub issued_at: String,
    /// The links stop working after this moment (issued day + 400 days).
    pub expires_at: String,
    pub links: Vec<UnsubscribeLink>,
}

/// How the person unsubscribed: recorded as the withdrawal's evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsubscribeVia {
    /// A mail client's `POST` (RFC 8058), with no page shown.
    OneClick,
    /// The confirmation page's button.
    ConfirmPage,
}

impl UnsubscribeVia {
    fn as_str(self) -> &'static str {
        match self {
            UnsubscribeVia::OneClick => "one-click",
            UnsubscribeVia::ConfirmPage => "unsubscribe-page",
        }
    }
}

/// What following a link did. The pages show the same thing whatever it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsubscribeOutcome {
    /// The consent was withdrawn now.
    Withdrawn,
    /// A valid link whose consent was not granted (already withdrawn, never given, or
    /// the person erased): nothing to do.
    Unchanged,
    /// A forged, altered or expired link.
    Refused,
}

/// What a link says.
struct Link {
    tenant: String,
    subject: String,
    purpose: String,
    /// Days since 1970-01-01 (UTC) of the day it was made.
    issued_day: i64,
}

impl Link {
    fn encode(&self) -> Result<Vec<u8>> {
        links::encode(
            self.issued_day,
            &[&self.tenant, &self.subject, &self.purpose],
        )
    }

    fn decode(b: &[u8]) -> Option<Link> {
        let (issued_day, parts) = links::decode(b, 3)?;
        let [tenant, subject, purpose] = <[String; 3]>::try_from(parts).ok()?;
        Some(Link {
            tenant,
            subject,
            purpose,
            issued_day,
        })
    }
}

impl Engine {
    /// The `List-Unsubscribe` headers for a mailing: for the subjects named, or for
    /// every active subject whose consent to the purpose is granted now.
    pub async fn unsubscribe_links(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        q: &LinkRequest,
    ) -> Result<UnsubscribeLinks> {
        let t = tenant.as_str();
        self.authorize(actor, Capability::RecordConsent, t)?;
        let purpose = crate::input::purpose("/purpose", &q.purpose)?;
        if let Some(allowed) = &actor.caller.purposes
            && !allowed.contains(&purpose)
        {
            return Err(EngineError::Forbidden(format!(
                "this key is not allowed the purpose {purpose}"
            )));
        }
        let mut tx = self.store.read().await?;
        tx.tenant(t).await?.ok_or(EngineError::NotFound("tenant"))?;
        let (policy, _) = self.policy_for(&mut tx, t).await?;
        if !policy.purposes.iter().any(|p| p.id == purpose) {
            return Err(EngineError::invalid(
                "/purpose",
                "not a purpose of the policy in force",
            ));
        }
        let now = self.now();
        let subjects = match &q.subjects {
            Some(list) => {
                if list.len() > MAX_SUBJECTS {
                    return Err(EngineError::invalid(
                        "/subjects",
                        format!("at most {MAX_SUBJECTS} subjects per call"),
                    ));
                }
                for (k, s) in list.iter().enumerate() {
                    if !tx.subject_is_live(t, s).await? || tx.subject(t, s).await?.is_none() {
                        return Err(EngineError::invalid(
                            format!("/subjects/{k}"),
                            "no such subject in this tenant",
                        ));
                    }
                }
                list.clone()
            }
            None => {
                let rows = tx.consents_for_purpose(t, purpose.as_str()).await?;
                let events = Self::events(&rows)?;
                let mut out = Vec::new();
                let mut start = 0;
                while start < rows.len() {
                    let subject = &rows[start].subject_id;
                    let end = rows[start..]
                        .iter()
                        .position(|r| &r.subject_id != subject)
                        .map_or(rows.len(), |n| start + n);
                    if matches!(
                        ConsentState::derive(&events[start..end], &purpose, now),
                        ConsentState::Granted { .. }
                    ) {
                        out.push(subject.clone());
                    }
                    start = end;
                }
                out
            }
        };
        drop(tx);
        let key = self.keys.derived(LINK_KEY);
        let issued_day = day_of(now);
        let base = self.public_url();
        let mut links = Vec::with_capacity(subjects.len());
        for subject in subjects {
            let link = Link {
                tenant: t.to_string(),
                subject,
                purpose: purpose.to_string(),
                issued_day,
            };
            let token = vow_crypto::seal_link(&key, &link.encode()?, LINK_AAD)?;
            let url = format!("{base}/u/{token}");
            let preferences = self.preference_url(
                t,
                &link.subject,
                crate::vault::preferences::SENDER_LINK_SECS,
            )?;
            links.push(UnsubscribeLink {
                preferences,
                subject: link.subject,
                list_unsubscribe: format!("<{url}>"),
                url,
                list_unsubscribe_post: ONE_CLICK.to_string(),
            });
        }
        let entry = self.audit_entry(
            actor,
            Some(t),
            "unsubscribe.links",
            None,
            Some(purpose.as_str()),
            json!({"links": links.len(), "named": q.subjects.is_some()}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(UnsubscribeLinks {
            purpose: purpose.to_string(),
            issued_at: ts(now.as_millisecond()),
            expires_at: ts(start_of_day(issued_day + LINK_VALID_DAYS)?.as_millisecond()),
            links,
        })
    }

    /// The tenant a valid, unexpired unsubscribe link names (for the page after it,
    /// which links to that tenant's preference centre); None for any other token.
    pub fn unsubscribe_tenant(&self, token: &str) -> Option<TenantId> {
        let key = self.keys.derived(LINK_KEY);
        let link = vow_crypto::open_link(&key, token, LINK_AAD).and_then(|p| Link::decode(&p))?;
        if day_of(self.now()) > link.issued_day + LINK_VALID_DAYS {
            return None;
        }
        TenantId::new(&link.tenant).ok()
    }

    /// Follow an unsubscribe link: withdraw the consent it names, at once, through the
    /// ledger (with `consent.withdrawn` for the recipients). `source` (the client's
    /// address) only rate-limits the security event of a bad link; it is not stored.
    pub async fn unsubscribe(
        &self,
        token: &str,
        via: UnsubscribeVia,
        source: Option<String>,
    ) -> Result<UnsubscribeOutcome> {
        let key = self.keys.derived(LINK_KEY);
        let now = self.now();
        let link = vow_crypto::open_link(&key, token, LINK_AAD).and_then(|p| Link::decode(&p));
        let refused = |reason: &'static str| SecurityAttempt {
            kind: SecurityKind::InvalidLink,
            reason,
            key_id: None,
            key_tenant: None,
            tenant: None,
            method: "POST".into(),
            route: "/u/{token}".into(),
            source: source.clone(),
        };
        let Some(link) = link else {
            self.record_security_event(refused("unsubscribe_token"))
                .await?;
            return Ok(UnsubscribeOutcome::Refused);
        };
        if day_of(now) > link.issued_day + LINK_VALID_DAYS {
            self.record_security_event(refused("unsubscribe_expired"))
                .await?;
            return Ok(UnsubscribeOutcome::Refused);
        }
        // A sealed link names these in the form they were written; anything else is
        // an internal error, never a guess.
        let tenant = TenantId::new(&link.tenant)
            .map_err(|_| EngineError::Internal("an unsubscribe link names a bad tenant".into()))?;
        let purpose = PurposeId::new(&link.purpose)
            .map_err(|_| EngineError::Internal("an unsubscribe link names a bad purpose".into()))?;
        let actor = Actor::key(
            Caller {
                key_id: format!("web:{}", via.as_str()),
                role: Role::Ingest,
                purposes: None,
            },
            Some(tenant.clone()),
        );
        let granted = {
            let mut tx = self.store.read().await?;
            if tx.tenant(&link.tenant).await?.is_none()
                || !tx.subject_is_live(&link.tenant, &link.subject).await?
            {
                false
            } else {
                let rows = tx.consents(&link.tenant, &link.subject).await?;
                matches!(
                    ConsentState::derive(&Self::events(&rows)?, &purpose, now),
                    ConsentState::Granted { .. }
                )
            }
        };
        if !granted {
            let entry = self.audit_entry(
                &actor,
                Some(&link.tenant),
                "unsubscribe.unchanged",
                None,
                Some(&link.purpose),
                json!({"via": via.as_str()}),
            );
            self.audit.record(vec![entry]).await?;
            return Ok(UnsubscribeOutcome::Unchanged);
        }
        let withdrawal = NewConsent {
            purpose: link.purpose.clone(),
            action: Some("withdraw".into()),
            kind: None,
            evidence: Some(vow_core::Pii::new(json!({"channel": via.as_str()}))),
            at: None,
            expires_at: None,
            parent: None,
        };
        match self
            .record_consent(&actor, &tenant, &link.subject, &withdrawal)
            .await
        {
            Ok(_) => Ok(UnsubscribeOutcome::Withdrawn),
            // Erased between the check and the withdrawal: nothing left to withdraw.
            Err(EngineError::NotFound(_)) => Ok(UnsubscribeOutcome::Unchanged),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_payload_round_trips() {
        let l = Link {
            tenant: "acme".into(),
            subject: "0190a0b4-7c1e-7000-8000-000000000000".into(),
            purpose: "marketing.email".into(),
            issued_day: 20_000,
        };
        let d = Link::decode(&l.encode().unwrap()).unwrap();
        assert_eq!(
            (d.tenant, d.subject, d.purpose, d.issued_day),
            (l.tenant, l.subject, l.purpose, l.issued_day)
        );
        assert!(Link::decode(&[]).is_none());
        assert!(Link::decode(&[2, 0, 0, 0, 0]).is_none());
        assert!(Link::decode(&[1, 0, 0, 0, 0, 9, b'a']).is_none());
    }
}
