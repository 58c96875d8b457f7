//! The stored request, shared by every step: its own key and sealed details, loading
//! it, its event log, and the one way it changes state ([`Engine::transition`]).

use super::types::NewRequest;
use crate::error::{EngineError, Result};
use crate::input::Identifiers;
use crate::vault::keyring::{TenantKeys, dek_aad, value_aad};
use crate::{Actor, Engine};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use vow_core::RequestState;
use vow_core::deadline::RulePack;
use vow_crypto::{Key32, open, seal};
use vow_store::{RequestEventRow, RequestRow, Tx};

/// The type a request arrived as (a specific-pieces request downgraded to categories
/// still counts as what the person asked for).
pub(crate) fn original_kind(r: &RequestRow) -> String {
    serde_json::from_str::<Value>(&r.verification)
        .ok()
        .and_then(|v| v["asked"].as_str().map(str::to_string))
        .unwrap_or_else(|| r.kind.clone())
}

/// What the request's sealed details hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Details {
    pub(crate) request: NewRequest,
    /// Identifiers added during verification.
    #[serde(default)]
    pub(crate) more: Identifiers,
    #[serde(default)]
    pub(crate) declaration: bool,
    /// The person confirmed directly that the agent acts for them.
    #[serde(default)]
    pub(crate) subject_confirmed: bool,
    /// For a parent's request: what the store says about the child and the parent.
    #[serde(default)]
    pub(crate) parent: Option<ParentCheck>,
    /// For an appeal: why the person disagrees with the decision, in their words.
    #[serde(default)]
    pub(crate) appeal_statement: Option<String>,
}

/// What the store says about a parent's authority over the person a request is about.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ParentCheck {
    /// The matched person was under the policy's parental age when the request arrived
    /// (None: no match, or no birth date on file).
    pub(crate) child: Option<bool>,
    /// The requester's own identifiers are those of the parent recorded on the child's
    /// parental consent.
    pub(crate) linked: bool,
}

/// Associated data for what is sealed under a request's key: its details, notices and
/// export package.
pub(crate) fn request_aad(tenant: &str, id: &str, place: &str) -> Vec<u8> {
    value_aad(tenant, id, "request", place)
}

/// The request `id` of `tenant`, or "not found".
pub(crate) async fn load(tx: &mut Tx, tenant: &str, id: &str) -> Result<RequestRow> {
    tx.request(tenant, id)
        .await?
        .ok_or(EngineError::NotFound("request"))
}

impl Engine {
    pub(crate) fn rules(&self) -> &[RulePack] {
        &self.rules.packs
    }

    pub(crate) fn request_key(
        &self,
        keys: &TenantKeys,
        tenant: &str,
        r: &RequestRow,
    ) -> Result<Key32> {
        let kek = keys.keks.get(&r.kek_version).ok_or(EngineError::Internal(
            "a request key refers to an unknown key version".into(),
        ))?;
        Ok(vow_crypto::unwrap_key(
            kek,
            &r.key_wrapped,
            &dek_aad(tenant, &r.id, r.kek_version),
        )?)
    }

    pub(crate) fn open_details(
        &self,
        key: &Key32,
        tenant: &str,
        r: &RequestRow,
    ) -> Result<Details> {
        let plain = open(key, &r.details, &request_aad(tenant, &r.id, "details"))?;
        serde_json::from_slice(&plain)
            .map_err(|_| EngineError::Internal("request details are unreadable".into()))
    }

    pub(crate) fn seal_details(
        &self,
        key: &Key32,
        tenant: &str,
        id: &str,
        d: &Details,
    ) -> Result<Vec<u8>> {
        let json = serde_json::to_vec(d).map_err(|e| EngineError::Internal(e.to_string()))?;
        Ok(seal(key, &json, &request_aad(tenant, id, "details"))?)
    }

    /// Append to the request's event log and, in the same transaction, to the audit chain.
    pub(crate) async fn event(
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
        self.chain.append(tx, &[entry]).await
    }

    /// Move the request to `next`, store it, and record the step in its event log and
    /// the audit chain: the one way a request changes state. A move the state machine
    /// (`vow_core::request`) does not allow is refused, and the step with it.
    pub(crate) async fn transition(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        r: &mut RequestRow,
        next: RequestState,
        note: Value,
    ) -> Result<()> {
        let current = RequestState::parse(&r.state)
            .ok_or(EngineError::Internal("unknown request state".into()))?;
        if !current.can_go_to(next) {
            return Err(EngineError::Conflict(format!(
                "a request that is {current} cannot become {next}"
            )));
        }
        r.state = next.as_str().to_string();
        r.updated_at = self.now_ms();
        if next.is_final() {
            r.closed_at = Some(r.updated_at);
        }
        tx.update_request(r).await?;
        self.event(tx, actor, r, next.as_str(), Some(current.as_str()), note)
            .await
    }

    /// The rule packs that applied when the request arrived.
    pub(crate) fn packs_for(&self, r: &RequestRow) -> Vec<&RulePack> {
        let ids: Vec<String> = serde_json::from_str(&r.rules).unwrap_or_default();
        self.rules()
            .iter()
            .filter(|p| ids.contains(&p.id))
            .collect()
    }
}

/// Where the request's notices go: the contact address given, else its e-mail identifier.
pub(crate) fn contact(d: &Details) -> Option<String> {
    d.request
        .contact_email
        .as_ref()
        .or(d.request.identifiers.email.as_ref())
        .map(|e| e.expose().clone())
}
