//! Key rotation: a new key-encryption key per tenant; every subject key is
//! re-wrapped under it. Field ciphertexts are never touched. Resumable: a run
//! that stops half-way is finished by the next one.

use crate::error::Result;
use crate::vault::keyring::{TenantKeys, dek_aad, open_subject_key};
use crate::{Actor, Engine};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_store::KekRow;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RotationReport {
    pub tenant: String,
    pub from_version: i64,
    pub to_version: i64,
    pub rewrapped: u64,
}

const PAGE: i64 = 1000;

/// Re-wrap up to a page of subject keys older than `to`; returns how many.
async fn rewrap_page(
    tx: &mut vow_store::Tx,
    keys: &TenantKeys,
    tenant: &str,
    to: i64,
) -> Result<u64> {
    let page = tx.subject_keys_below(tenant, to, PAGE).await?;
    let kek = keys.current_kek()?;
    for k in &page {
        let dek = open_subject_key(keys, tenant, &k.subject_id, k.kek_version, &k.wrapped)?;
        let new = vow_crypto::wrap_key(kek, &dek, &dek_aad(tenant, &k.subject_id, to))?;
        tx.rewrap_subject_key(&k.subject_id, k.kek_version, to, &new)
            .await?;
    }
    // Request records carry their own data keys under the same KEK.
    let requests = tx.request_keys_below(tenant, to, PAGE).await?;
    for (id, version, wrapped) in &requests {
        let dek = open_subject_key(keys, tenant, id, *version, wrapped)?;
        let new = vow_crypto::wrap_key(kek, &dek, &dek_aad(tenant, id, to))?;
        tx.rewrap_request_key(id, *version, to, &new).await?;
    }
    // Endpoint signing secrets are sealed under the KEK too.
    let secrets = crate::obligations::endpoints::reseal_secrets(tx, keys, tenant, to).await?;
    // And the URLs (with credentials) of connections to the organisation's databases.
    let urls = crate::external::connections::reseal_urls(tx, keys, tenant, to).await?;
    Ok((page.len() + requests.len()) as u64 + secrets + urls)
}

impl Engine {
    pub async fn rotate_keys(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        mut progress: impl FnMut(u64),
    ) -> Result<RotationReport> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageKeys, tenant)?;
        // 1. A new KEK becomes current; new subject keys use it from now on.
        let mut tx = self.store.write().await?;
        let row = tx
            .tenant(tenant)
            .await?
            .ok_or(crate::EngineError::NotFound("tenant"))?;
        let from = row.kek_version;
        let to = from + 1;
        let (_, wrapped) = self.keys.wrap_new_kek(tenant, to)?;
        tx.insert_kek(&KekRow {
            tenant_id: tenant.to_string(),
            version: to,
            wrapped,
            created_at: self.now_ms(),
            retired_at: None,
        })
        .await?;
        tx.set_tenant_kek_version(tenant, to).await?;
        tx.commit().await?;
        self.keys.forget(tenant);

        // 2. Re-wrap every older subject key, a page per transaction.
        let mut rewrapped = 0u64;
        loop {
            let mut tx = self.store.write().await?;
            let keys = self.keys.tenant(&mut tx, tenant).await?;
            let n = rewrap_page(&mut tx, &keys, tenant, to).await?;
            if n == 0 {
                break;
            }
            tx.commit().await?;
            rewrapped += n;
            progress(rewrapped);
        }

        // 3. Retire the old KEKs (destroying them) and, in the same transaction, re-wrap
        // any subject key written meanwhile by a process that still had the old KEK
        // current: retiring takes the row lock its writers share, so none slips past.
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        for k in tx.keks(tenant).await? {
            if k.version < to && k.retired_at.is_none() {
                tx.retire_kek(tenant, k.version, self.now_ms()).await?;
            }
        }
        loop {
            let n = rewrap_page(&mut tx, &keys, tenant, to).await?;
            if n == 0 {
                break;
            }
            rewrapped += n;
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "keys.rotate",
            None,
            None,
            json!({"from_version": from, "to_version": to, "rewrapped": rewrapped}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        self.keys.forget(tenant);
        Ok(RotationReport {
            tenant: tenant.to_string(),
            from_version: from,
            to_version: to,
            rewrapped,
        })
    }
}
