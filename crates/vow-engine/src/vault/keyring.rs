//! The key hierarchy at run time: root key → per-tenant KEKs and index key →
//! per-subject data keys. Tenant material is unwrapped once and cached; subject
//! keys are unwrapped per operation and dropped (zeroised) right after.

use crate::error::{EngineError, Result};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use vow_crypto::{BlindIndexer, Key32, aad, unwrap_key, wrap_key};
use vow_store::Tx;

/// Unwrapped keys of one tenant.
pub struct TenantKeys {
    pub current: i64,
    pub keks: BTreeMap<i64, Key32>,
    pub indexer: BlindIndexer,
}

impl TenantKeys {
    pub fn current_kek(&self) -> Result<&Key32> {
        self.keks.get(&self.current).ok_or(EngineError::Internal(
            "the tenant's current key is missing".into(),
        ))
    }
}

pub struct Keyring {
    root: Key32,
    tenants: RwLock<HashMap<String, (Arc<TenantKeys>, Instant)>>,
    /// How long unwrapped tenant keys are trusted: another process may rotate them.
    ttl: Duration,
}

pub fn kek_aad(tenant: &str, version: i64) -> Vec<u8> {
    aad("vow:v1:kek", &[tenant.as_bytes(), &version.to_be_bytes()])
}

pub fn index_key_aad(tenant: &str) -> Vec<u8> {
    aad("vow:v1:index-key", &[tenant.as_bytes()])
}

pub fn dek_aad(tenant: &str, subject: &str, kek_version: i64) -> Vec<u8> {
    aad(
        "vow:v1:dek",
        &[
            tenant.as_bytes(),
            subject.as_bytes(),
            &kek_version.to_be_bytes(),
        ],
    )
}

/// Associated data for a sealed value: binds it to its tenant, subject and place.
pub fn value_aad(tenant: &str, subject: &str, place: &str, id: &str) -> Vec<u8> {
    aad(
        "vow:v1:value",
        &[
            tenant.as_bytes(),
            subject.as_bytes(),
            place.as_bytes(),
            id.as_bytes(),
        ],
    )
}

const ROOT_CHECK_KEY: &str = "root_check";
const ROOT_CHECK_TEXT: &[u8] = b"vow root key check v1";

impl Keyring {
    pub fn new(root: Key32, ttl: Duration) -> Self {
        Self {
            root,
            tenants: RwLock::new(HashMap::new()),
            ttl,
        }
    }

    /// A key for one use, derived from the root key (HKDF-SHA256 with `label`). It does
    /// not change when the tenants' KEKs rotate, so what it seals (unsubscribe links)
    /// keeps working.
    pub(crate) fn derived(&self, label: &[u8]) -> Key32 {
        self.root.derive(label)
    }

    /// On first use, record a check value; later, refuse a root key that does not open it,
    /// rather than silently writing data no one can read.
    pub async fn check_root(&self, tx: &mut Tx) -> Result<()> {
        let check_aad = aad("vow:v1:root-check", &[]);
        match tx.meta(ROOT_CHECK_KEY).await? {
            Some(sealed) => vow_crypto::open(&self.root, &sealed, &check_aad)
                .map(|_| ())
                .map_err(|_| {
                    EngineError::Forbidden(
                        "the root key does not match this data store (wrong key file or passphrase)".into(),
                    )
                }),
            None => {
                let sealed = vow_crypto::seal(&self.root, ROOT_CHECK_TEXT, &check_aad)?;
                tx.put_meta(ROOT_CHECK_KEY, &sealed).await?;
                Ok(())
            }
        }
    }

    /// Fresh key material for a new tenant: (wrapped index key, wrapped KEK v1).
    pub fn new_tenant_material(&self, tenant: &str) -> Result<(Vec<u8>, Vec<u8>)> {
        let index = Key32::generate()?;
        let kek = Key32::generate()?;
        Ok((
            wrap_key(&self.root, &index, &index_key_aad(tenant))?,
            wrap_key(&self.root, &kek, &kek_aad(tenant, 1))?,
        ))
    }

    pub fn wrap_new_kek(&self, tenant: &str, version: i64) -> Result<(Key32, Vec<u8>)> {
        let kek = Key32::generate()?;
        let wrapped = wrap_key(&self.root, &kek, &kek_aad(tenant, version))?;
        Ok((kek, wrapped))
    }

    pub fn forget(&self, tenant: &str) {
        if let Ok(mut map) = self.tenants.write() {
            map.remove(tenant);
        }
    }

    /// A subject's data key. A key re-wrapped under a KEK newer than `keys` (a rotation
    /// by another process) reloads the tenant's keys first.
    pub async fn subject_dek(
        &self,
        tx: &mut Tx,
        keys: &TenantKeys,
        tenant: &str,
        subject: &str,
        version: i64,
        wrapped: &[u8],
    ) -> Result<Key32> {
        if keys.keks.contains_key(&version) {
            return open_subject_key(keys, tenant, subject, version, wrapped);
        }
        self.forget(tenant);
        let fresh = self.tenant(tx, tenant).await?;
        open_subject_key(&fresh, tenant, subject, version, wrapped)
    }

    /// The tenant's unwrapped keys if they were loaded lately (no store access).
    pub fn cached(&self, tenant: &str) -> Option<Arc<TenantKeys>> {
        // Re-read now and then: another process may have rotated the tenant's keys.
        self.tenants.read().ok().and_then(|m| {
            m.get(tenant)
                .filter(|(_, at)| at.elapsed() < self.ttl)
                .map(|(k, _)| k.clone())
        })
    }

    /// A subject's data key, reading the store only when the key was wrapped under
    /// a KEK `keys` does not hold (see [`Keyring::subject_dek`]).
    pub async fn subject_dek_in(
        &self,
        store: &vow_store::Store,
        keys: &TenantKeys,
        key: &vow_store::SubjectKeyRow,
    ) -> Result<Key32> {
        let (tenant, subject) = (key.tenant_id.as_str(), key.subject_id.as_str());
        if keys.keks.contains_key(&key.kek_version) {
            return open_subject_key(keys, tenant, subject, key.kek_version, &key.wrapped);
        }
        let mut tx = store.read().await?;
        self.subject_dek(
            &mut tx,
            keys,
            tenant,
            subject,
            key.kek_version,
            &key.wrapped,
        )
        .await
    }

    /// The tenant's unwrapped keys, loading them on first use.
    pub async fn tenant(&self, tx: &mut Tx, tenant: &str) -> Result<Arc<TenantKeys>> {
        if let Some(k) = self.cached(tenant) {
            return Ok(k);
        }
        let row = tx
            .tenant(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        let index = unwrap_key(&self.root, &row.index_key, &index_key_aad(tenant))?;
        let mut keks = BTreeMap::new();
        for k in tx.keks(tenant).await? {
            if k.retired_at.is_none() {
                keks.insert(
                    k.version,
                    unwrap_key(&self.root, &k.wrapped, &kek_aad(tenant, k.version))?,
                );
            }
        }
        let keys = Arc::new(TenantKeys {
            current: row.kek_version,
            keks,
            indexer: BlindIndexer::new(&index),
        });
        if let Ok(mut map) = self.tenants.write() {
            map.insert(tenant.to_string(), (keys.clone(), Instant::now()));
        }
        Ok(keys)
    }
}

/// A new data key for a subject, and its wrapped form under the tenant's current KEK.
pub fn new_subject_key(keys: &TenantKeys, tenant: &str, subject: &str) -> Result<(Key32, Vec<u8>)> {
    let dek = Key32::generate()?;
    let wrapped = wrap_key(
        keys.current_kek()?,
        &dek,
        &dek_aad(tenant, subject, keys.current),
    )?;
    Ok((dek, wrapped))
}

pub fn open_subject_key(
    keys: &TenantKeys,
    tenant: &str,
    subject: &str,
    version: i64,
    wrapped: &[u8],
) -> Result<Key32> {
    let kek = keys.keks.get(&version).ok_or(EngineError::Internal(
        "a subject key refers to an unknown key version".into(),
    ))?;
    Ok(unwrap_key(
        kek,
        wrapped,
        &dek_aad(tenant, subject, version),
    )?)
}
