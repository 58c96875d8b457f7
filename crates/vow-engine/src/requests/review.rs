//! The privacy team's review of a document an authorised agent or a parent uploaded
//! on the portal. Until it is accepted the document is not taken as authority: the
//! request cannot be fulfilled (409). Rejecting it denies the request
//! (`agent_not_authorised`, with the reviewer's reason in the denial notice), in the
//! same transaction as the review.

use super::record::load;
use super::types::RequestView;
use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::role::Capability;

/// A review of a document: accept it as the requester's authority, or reject it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentReview {
    /// `accept` or `reject`.
    pub decision: String,
    /// Why, in plain words (1 to 2000 characters). Required to reject: the person is
    /// told it in the denial notice. An acceptance's reason is not kept.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What the denial notice says before the reviewer's reason.
const REJECTED: &str = "The document sent to show the authority to act for the person the request is about was not accepted:";

impl Engine {
    /// Accept or reject a document that awaits review (audited as
    /// `request.document_accepted` / `request.document_rejected`).
    pub async fn review_document(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        document: &str,
        review: &DocumentReview,
    ) -> Result<RequestView> {
        let t = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, t)?;
        let accept = match review.decision.as_str() {
            "accept" => true,
            "reject" => false,
            _ => {
                return Err(EngineError::invalid(
                    "/decision",
                    "must be accept or reject",
                ));
            }
        };
        let reason = review
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > 2000) {
            return Err(EngineError::invalid("/reason", "at most 2000 characters"));
        }
        if !accept && reason.is_none() {
            return Err(EngineError::invalid(
                "/reason",
                "a rejection needs a reason (1 to 2000 characters): the person is told it",
            ));
        }
        let mut tx = self.store.write().await?;
        let r = load(&mut tx, t, id).await?;
        let doc = tx
            .document(&r.id, document)
            .await?
            .ok_or(EngineError::NotFound("document"))?;
        if doc.review != "pending" {
            return Err(EngineError::Conflict(format!(
                "the document was {} already",
                doc.review
            )));
        }
        if r.closed_at.is_some() {
            return Err(EngineError::Conflict(format!(
                "the request is {} (closed): its documents can no longer be reviewed",
                r.state
            )));
        }
        let decided = if accept { "accepted" } else { "rejected" };
        if !tx
            .review_document(&r.id, &doc.id, decided, self.now_ms())
            .await?
        {
            return Err(EngineError::Conflict(
                "the document was reviewed meanwhile".into(),
            ));
        }
        let state = r.state.clone();
        self.event(
            &mut tx,
            actor,
            &r,
            &format!("document_{decided}"),
            Some(&state),
            json!({"document": doc.id}),
        )
        .await?;
        let queued = match reason.filter(|_| !accept) {
            Some(reason) => {
                let detail = format!("{REJECTED} {reason}");
                self.deny_in(
                    &mut tx,
                    actor,
                    t,
                    &r.id,
                    &[("agent_not_authorised".to_string(), detail)],
                )
                .await?
            }
            None => Vec::new(),
        };
        tx.commit().await?;
        self.mail(queued).await;
        self.request(actor, tenant, id).await
    }
}
