//! Opening a request's evidence (the console's button, issue 10): the details the
//! requester gave, sealed under the request key, opened only on demand and each
//! opening audited under the caller's key.

use super::record::load;
use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use serde_json::{Value, json};
use vow_core::TenantId;
use vow_core::role::Capability;

impl Engine {
    /// The request's sealed details (identifiers given, declarations, an agent's or a
    /// parent's authority, contact), for keys that manage requests. Audited
    /// (`request.evidence_open`) before anything is returned.
    pub async fn request_evidence(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Value> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let r = load(&mut tx, tenant, id).await?;
        let key = self.request_key(&keys, tenant, &r)?;
        let details = serde_json::to_value(self.open_details(&key, tenant, &r)?)
            .map_err(|_| EngineError::Internal("request details are unreadable".into()))?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "request.evidence_open",
            r.subject_id.as_deref(),
            None,
            json!({"request": r.id}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(details)
    }
}
