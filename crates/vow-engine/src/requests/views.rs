//! Reading requests: one with its events and notices (their text only for keys that
//! manage requests), or the list of a tenant.

use super::record::{load, request_aad};
use super::types::{DueView, EventView, NoticeView, RequestView};
use crate::engine::ts;
use crate::error::Result;
use crate::{Actor, Engine};
use serde_json::Value;
use std::collections::HashMap;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_crypto::{Key32, open};
use vow_store::{NoticeRow, RequestEventRow, RequestRow};

/// A request's links to the request it appeals and to its appeal.
struct Appeals {
    of: Option<String>,
    by: Option<String>,
}

impl Engine {
    pub async fn request(&self, actor: &Actor, tenant: &TenantId, id: &str) -> Result<RequestView> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::SubmitRequest, tenant)?;
        let show_text = actor.local || actor.caller.role.may(Capability::ManageRequests);
        let mut tx = self.store.read().await?;
        let r = load(&mut tx, tenant, id).await?;
        let events = tx.request_events(&r.id).await?;
        let notices = tx.notices(&r.id).await?;
        let appeals = Appeals {
            of: tx.appealed_request(tenant, &r.id).await?,
            by: tx.appeal_for(tenant, &r.id).await?,
        };
        let key = if show_text {
            let keys = self.keys.tenant(&mut tx, tenant).await?;
            Some(self.request_key(&keys, tenant, &r)?)
        } else {
            None
        };
        Ok(self.view(&r, events, notices, key.as_ref(), appeals))
    }

    pub async fn requests(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        include_closed: bool,
    ) -> Result<Vec<RequestView>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.read().await?;
        let rows = tx.requests(tenant, include_closed, 10_000).await?;
        let pairs = tx.appeals(tenant).await?;
        let of: HashMap<&str, &str> = pairs
            .iter()
            .map(|(r, a)| (a.as_str(), r.as_str()))
            .collect();
        let by: HashMap<&str, &str> = pairs
            .iter()
            .map(|(r, a)| (r.as_str(), a.as_str()))
            .collect();
        Ok(rows
            .iter()
            .map(|r| {
                let appeals = Appeals {
                    of: of.get(r.id.as_str()).map(|s| s.to_string()),
                    by: by.get(r.id.as_str()).map(|s| s.to_string()),
                };
                self.view(r, Vec::new(), Vec::new(), None, appeals)
            })
            .collect())
    }

    fn view(
        &self,
        r: &RequestRow,
        events: Vec<RequestEventRow>,
        notices: Vec<NoticeRow>,
        key: Option<&Key32>,
        appeals: Appeals,
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
            appeal_of: appeals.of,
            appealed_by: appeals.by,
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
