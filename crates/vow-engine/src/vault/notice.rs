//! What the public pages may show of a tenant without a key: its name and the
//! notice of each version of its policy that has come into force, with what each
//! version changed. Nothing personal, so nothing is audited.

use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use vow_core::{Policy, TenantId};

/// One version of the notice, as a page shows it.
#[derive(Debug, Clone)]
pub struct PublicNotice {
    pub tenant_name: String,
    /// The version shown.
    pub version: i64,
    pub effective_date: String,
    /// Whether it is the version in force (else an earlier one).
    pub in_force: bool,
    pub notice: vow_policy::Notice,
    /// Every version in force now or before, newest first.
    pub versions: Vec<PublicVersion>,
}

#[derive(Debug, Clone)]
pub struct PublicVersion {
    pub version: i64,
    pub effective_date: String,
    /// What it changed from the version before (empty for the first).
    pub changes: Vec<String>,
}

/// The key a form's anti-forgery token is made with (HKDF from the root key).
const FORM_KEY: &[u8] = b"vow:v1:page-forms";

impl Engine {
    /// The notice of `version` (default: the one in force). Unknown tenant, no
    /// policy in force, or a version not (yet) in force: `NotFound`.
    pub async fn public_notice(
        &self,
        tenant: &TenantId,
        version: Option<i64>,
    ) -> Result<PublicNotice> {
        let t = tenant.as_str();
        let mut tx = self.store.read().await?;
        let row = tx.tenant(t).await?.ok_or(EngineError::NotFound("tenant"))?;
        let today = self.today();
        let current = tx
            .policy_in_force(t, &today)
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
