//! What the connections keep sealed under the tenant's KEK: their URLs and, for an
//! `http` connection, its signing secret; opened only to connect or to sign.

use crate::error::{EngineError, Result};
use crate::vault::keyring::TenantKeys;
use vow_crypto::{Key32, WebhookSecret, aad, open, seal};
use vow_store::ConnectionRow;

/// The kind of a connection reached over HTTP.
pub(crate) const KIND: &str = "http";

pub(super) fn url_aad(tenant: &str, id: &str, version: i64) -> Vec<u8> {
    aad(
        "vow:v1:connection-url",
        &[tenant.as_bytes(), id.as_bytes(), &version.to_be_bytes()],
    )
}

/// Whether a connection URL is an `http(s)` one.
pub(crate) fn is_http_url(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    u.starts_with("http://") || u.starts_with("https://")
}

pub(super) fn secret_aad(tenant: &str, id: &str, version: i64) -> Vec<u8> {
    aad(
        "vow:v1:connection-secret",
        &[tenant.as_bytes(), id.as_bytes(), &version.to_be_bytes()],
    )
}

/// A connection's sealed secret, sealed again under KEK version `to` (key rotation).
pub(super) fn reseal_secret(
    old: &Key32,
    kek: &Key32,
    tenant: &str,
    c: &ConnectionRow,
    to: i64,
    sealed: &[u8],
) -> Result<Vec<u8>> {
    let plain = zeroize::Zeroizing::new(open(
        old,
        sealed,
        &secret_aad(tenant, &c.id, c.kek_version),
    )?);
    Ok(seal(kek, &plain, &secret_aad(tenant, &c.id, to))?)
}

fn kek_of<'a>(keys: &'a TenantKeys, row: &ConnectionRow) -> Result<&'a Key32> {
    keys.keks.get(&row.kek_version).ok_or(EngineError::Internal(
        "a connection refers to an unknown key version".into(),
    ))
}

pub(super) fn open_secret(
    keys: &TenantKeys,
    tenant: &str,
    row: &ConnectionRow,
) -> Result<WebhookSecret> {
    let sealed = row.secret_sealed.as_ref().ok_or(EngineError::Internal(
        "an http connection has no secret".into(),
    ))?;
    let plain = zeroize::Zeroizing::new(open(
        kek_of(keys, row)?,
        sealed,
        &secret_aad(tenant, &row.id, row.kek_version),
    )?);
    Ok(WebhookSecret::from_bytes(&plain))
}

pub(super) fn open_url(keys: &TenantKeys, tenant: &str, row: &ConnectionRow) -> Result<url::Url> {
    let plain = open(
        kek_of(keys, row)?,
        &row.url_sealed,
        &url_aad(tenant, &row.id, row.kek_version),
    )?;
    let text = std::str::from_utf8(&plain)
        .map_err(|_| EngineError::Internal("a sealed connection URL is not UTF-8".into()))?;
    url::Url::parse(text)
        .map_err(|_| EngineError::Internal("a sealed connection URL does not parse".into()))
}
