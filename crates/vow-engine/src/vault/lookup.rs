//! Finding a subject by an identifier, through the tenant's blind index.

use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use serde_json::json;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_crypto::IdentifierKind;

pub use vow_crypto::IdentifierKind as LookupKind;

impl Engine {
    /// Find a subject through the blind index. The lookup itself is audited.
    pub async fn lookup(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        kind: IdentifierKind,
        value: &str,
    ) -> Result<Option<String>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::LookupSubjects, tenant)?;
        let keys = self.keys_of(tenant).await?;
        let bidx = keys
            .indexer
            .index(kind, value)
            .map_err(|e| EngineError::invalid(kind.as_str(), e.to_string()))?;
        let found = self
            .store
            .lookup_subject(tenant, kind.as_str(), &bidx)
            .await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "subject.lookup",
            found.as_deref(),
            None,
            json!({"by": kind.as_str(), "found": found.is_some()}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(found)
    }
}
