//! What the public pages may show of a tenant without a key: its name and the
//! notice of each version of its policy that has come into force, with what each
//! version changed. Nothing personal, so nothing is audited.

use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use std::sync::Arc;
use vow_core::{Policy, TenantId};

pub use super::notice_cache::{PublicNotice, PublicVersion};

/// The key a form's anti-forgery token is made with (HKDF from the root key).
const FORM_KEY: &[u8] = b"vow:v1:page-forms";

impl Engine {
    /// The notice of `version` (default: the one in force). Unknown tenant, no
    /// policy in force, or a version not (yet) in force: `NotFound`. From a cache
    /// for [`crate::engine::CACHE_TTL`], emptied for the tenant when this process
    /// publishes a version (`notice_cache`).
    pub async fn public_notice(
        &self,
        tenant: &TenantId,
        version: Option<i64>,
    ) -> Result<Arc<PublicNotice>> {
        let today = self.today();
        if let Some(n) = self.notices.get(tenant.as_str(), version, &today) {
            return Ok(n);
        }
        let n = Arc::new(self.read_public_notice(tenant, version, &today).await?);
        self.notices
            .put(tenant.as_str(), version, &today, n.clone());
        Ok(n)
    }

    async fn read_public_notice(
        &self,
        tenant: &TenantId,
        version: Option<i64>,
        today: &str,
    ) -> Result<PublicNotice> {
        let t = tenant.as_str();
        let mut tx = self.store.read().await?;
        let row = tx.tenant(t).await?.ok_or(EngineError::NotFound("tenant"))?;
        let current = tx
            .policy_in_force(t, today)
            .await?
            .ok_or(EngineError::NotFound("policy"))?;
        let wanted = version.unwrap_or(current.version);
        if wanted > current.version {
            return Err(EngineError::NotFound("policy version"));
        }
        let shown = if wanted == current.version {
            current.clone()
        } else {
            tx.policy_version(t, wanted)
                .await?
                .ok_or(EngineError::NotFound("policy version"))?
        };
        drop(tx);
        let policy: Policy = serde_json::from_str(&shown.compiled)
            .map_err(|_| EngineError::Internal("stored policy is unreadable".into()))?;
        // The history's summaries are public facts about the policy; the internal
        // actor only reads.
        let history = self
            .policy_history(&Actor::local("web:notice"), tenant)
            .await?;
        let mut versions: Vec<PublicVersion> = history
            .into_iter()
            .filter(|v| v.version <= current.version)
            .map(|v| PublicVersion {
                version: v.version,
                effective_date: v.effective_date,
                changes: v.summary,
            })
            .collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.version));
        Ok(PublicNotice {
            tenant_name: row.name,
            version: shown.version,
            effective_date: shown.effective_date,
            in_force: shown.version == current.version,
            notice: vow_policy::notice_document(&policy, u32::try_from(shown.version).ok()),
            versions,
        })
    }

    /// The display name of a tenant, for the pages' header; None when unknown.
    pub async fn tenant_name(&self, tenant: &TenantId) -> Result<Option<String>> {
        let mut tx = self.store.read().await?;
        Ok(tx.tenant(tenant.as_str()).await?.map(|r| r.name))
    }

    /// A fresh random value for a browser's form cookie.
    pub fn new_form_cookie(&self) -> Result<String> {
        Ok(vow_crypto::random_token()?)
    }

    /// The anti-forgery token the forms of a page carry for this browser's cookie.
    pub fn form_token(&self, cookie: &str) -> String {
        vow_crypto::form_token(&self.keys.derived(FORM_KEY), cookie)
    }

    /// Whether a form's token matches the browser's cookie (constant time).
    pub fn form_token_ok(&self, cookie: &str, token: &str) -> bool {
        vow_crypto::form_token_ok(&self.keys.derived(FORM_KEY), cookie, token)
    }
}
