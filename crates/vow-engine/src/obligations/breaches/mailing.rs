//! Mailing an incident's notice to the affected people (R16, issue 10): the draft for
//! individuals goes to each affected person's e-mail address on file, opened under
//! their own key, a batch at a time.
//!
//! **Once per person.** Each person's row in `incident_mailings` is claimed
//! (`sending`) and committed *before* the mail leaves, then set to `sent` (or
//! `failed`, tried again by the next action). A repeated action skips everyone claimed;
//! a process that dies between the claim and the send leaves the person `sending`,
//! counted as unconfirmed and never mailed again (at most once, never twice).
//! People erased since the assessment are not mailed (`erased`), nor people with no
//! address on file (`no_email`). Each action that mails someone records a notification
//! to `individuals` with the counts, under the caller's key.

use super::types::NewNotification;
use crate::error::{EngineError, Result};
use crate::vault::keyring::{open_subject_key, value_aad};
use crate::{Actor, Engine};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_crypto::{IdentifierKind, open};
use vow_store::Tx;

/// People claimed and mailed per batch.
const BATCH: usize = 100;

/// What a mailing action did, and where the incident's mailing stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndividualMailing {
    pub incident: String,
    pub tenant: String,
    /// Mailed by this action.
    pub sent: i64,
    /// Not mailed by this action: erased since the assessment.
    pub erased: i64,
    /// Not mailed by this action: no e-mail address on file.
    pub no_email: i64,
    /// The mail transport refused by this action (tried again by the next).
    pub failed: i64,
    /// Over every action so far, people per state (`sent`, `erased`, `no_email`,
    /// `failed`, `sending`: claimed by an action that did not finish, not mailed again).
    #[schema(value_type = Object)]
    pub total: std::collections::BTreeMap<String, i64>,
}

/// A person's address on file, or why there is none.
enum Address {
    Email(String),
    Erased,
    NoEmail,
}

impl Engine {
    /// Mail the incident's notice to individuals to every affected person of `tenant`
    /// not mailed yet (see the module's documentation).
    pub async fn mail_incident_individuals(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<IndividualMailing> {
        let t = tenant.as_str();
        self.authorize(actor, Capability::ManageIncidents, t)?;
        let Some(mailer) = self.mailer() else {
            return Err(EngineError::Conflict(
                "no mail transport is configured (see docs/configuration.md)".into(),
            ));
        };
        let impact = self.incident_impact(actor, tenant, id).await?;
        let draft = impact
            .notices
            .iter()
            .find(|n| n.audience == "individuals" && n.tenant == t)
            .ok_or_else(|| {
                EngineError::Conflict(
                    "this incident owes no notice to individuals, so there is none to mail".into(),
                )
            })?
            .clone();
        // Never a notice with blanks: the team completes the draft first.
        let left = super::edits::placeholders(&format!("{}\n{}", draft.title, draft.text));
        if !left.is_empty() {
            return Err(EngineError::Conflict(format!(
                "the notice to individuals still has {} placeholder(s) to complete before it is mailed: {}; edit it first (PUT …/incidents/{{i}}/notices/individuals/draft)",
                left.len(),
                left.iter()
                    .map(|p| format!("\"{p}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let todo = {
            let mut tx = self.store.read().await?;
            tx.incident_subjects_to_mail(id, t, i64::MAX).await?
        };
        let (mut sent, mut erased, mut no_email, mut failed) = (0, 0, 0, 0);
        for batch in todo.chunks(BATCH) {
            // Claim the batch (and settle who cannot be mailed) before anything leaves.
            let mut tx = self.store.write().await?;
            let keys = self.keys.tenant(&mut tx, t).await?;
            let now = self.now_ms();
            let mut claimed = Vec::new();
            for subject in batch {
                let state = match address(&mut tx, &keys, t, subject).await? {
                    Address::Email(e) => {
                        claimed.push((subject, e));
                        "sending"
                    }
                    Address::Erased => {
                        erased += 1;
                        "erased"
                    }
                    Address::NoEmail => {
                        no_email += 1;
                        "no_email"
                    }
                };
                tx.set_incident_mailing(id, subject, state, now, None)
                    .await?;
            }
            tx.commit().await?;
            let mut results = Vec::new();
            for (subject, email) in claimed {
                match mailer
                    .send_message(&email, &draft.title, &draft.text, &draft.html)
                    .await
                {
                    Ok(message_id) => {
                        sent += 1;
                        results.push((subject, "sent", Some(message_id)));
                    }
                    Err(e) => {
                        tracing::warn!(incident = %id, code = e.code(), "a breach notice could not be mailed");
                        failed += 1;
                        results.push((subject, "failed", None));
                    }
                }
            }
            let mut tx = self.store.write().await?;
            let now = self.now_ms();
            for (subject, state, message_id) in &results {
                tx.set_incident_mailing(id, subject, state, now, message_id.as_deref())
                    .await?;
            }
            tx.commit().await?;
        }
        let entry = json!({"incident": id, "sent": sent, "erased": erased, "no_email": no_email, "failed": failed});
        if sent > 0 {
            self.notify_incident(
                actor,
                tenant,
                id,
                &NewNotification {
                    audience: "individuals".into(),
                    at: None,
                    tenant: Some(t.to_string()),
                    note: Some(format!(
                        "mailed by Vow to {sent} people ({erased} erased and {no_email} without an e-mail address not mailed; {failed} failed)"
                    )),
                },
            )
            .await?;
        } else {
            let mut tx = self.store.write().await?;
            let e = self.audit_entry(actor, Some(t), "incident.mail", None, None, entry);
            self.chain.append(&mut tx, &[e]).await?;
            tx.commit().await?;
        }
        let total = {
            let mut tx = self.store.read().await?;
            tx.incident_mailing_counts(id).await?.into_iter().collect()
        };
        Ok(IndividualMailing {
            incident: id.to_string(),
            tenant: t.to_string(),
            sent,
            erased,
            no_email,
            failed,
            total,
        })
    }
}

/// The e-mail address on file of an affected person, opened under their key.
async fn address(
    tx: &mut Tx,
    keys: &crate::vault::keyring::TenantKeys,
    tenant: &str,
    subject: &str,
) -> Result<Address> {
    let live = tx
        .subject(tenant, subject)
        .await?
        .is_some_and(|s| s.status != "erased");
    let Some(skey) = tx.subject_key(tenant, subject).await?.filter(|_| live) else {
        return Ok(Address::Erased);
    };
    let ids = tx.identifiers(tenant, subject).await?;
    let Some(row) = ids
        .iter()
        .find(|i| IdentifierKind::parse(&i.kind) == Some(IdentifierKind::Email))
    else {
        return Ok(Address::NoEmail);
    };
    let dek = open_subject_key(keys, tenant, subject, skey.kek_version, &skey.wrapped)?;
    let email = open(
        &dek,
        &row.value,
        &value_aad(
            tenant,
            subject,
            "identifier",
            IdentifierKind::Email.as_str(),
        ),
    )?;
    Ok(Address::Email(String::from_utf8_lossy(&email).to_string()))
}
