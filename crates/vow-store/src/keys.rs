//! Key material at rest (always wrapped) and API keys (always hashed).

use crate::{Result, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KekRow {
    pub tenant_id: String,
    pub version: i64,
    /// The tenant key-encryption key, wrapped by the root key.
    pub wrapped: Vec<u8>,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectKeyRow {
    pub subject_id: String,
    pub tenant_id: String,
    pub kek_version: i64,
    /// The subject's data key, wrapped by the tenant KEK of `kek_version`.
    pub wrapped: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub id: String,
    pub tenant_id: Option<String>,
    pub role: String,
    /// JSON array of purposes, for app keys.
    pub purposes: Option<String>,
    pub secret_hash: Vec<u8>,
    pub label: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// When the key stops working; None: never.
    pub expires_at: Option<i64>,
    /// The key (or `local:<user>`) that created it; None for keys made before this
    /// was recorded.
    pub created_by: Option<String>,
}

/// The columns of an API key row, in the order of [`ApiKeyTuple`].
macro_rules! api_key_columns {
    () => {
        "id, tenant_id, role, purposes, secret_hash, label, created_at, revoked_at, expires_at, created_by"
    };
}

impl crate::Store {
    /// One API key by id, read outside any transaction: one indexed read, made on
    /// every authenticated request so that a revocation takes effect on every server
    /// at once. On SQLite, one hand-off to the store's reader threads.
    pub async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRow>> {
        if let Some(readers) = &self.readers {
            let id = id.to_string();
            return readers
                .run(move |tx| {
                    use rusqlite::OptionalExtension;
                    tx.prepare_cached(API_KEY_SQLITE)?
                        .query_row([&id], |r| {
                            crate::native::FromRow::from_row(r).map(api_key_from)
                        })
                        .optional()
                })
                .await;
        }
        let row: Option<ApiKeyTuple> = sqlx::query_as(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(api_key_from))
    }
}

/// The SQLite store's reader threads take the same statement (`?1` for `$1`).
pub(crate) const API_KEY_SQLITE: &str = concat!(
    "SELECT ",
    api_key_columns!(),
    " FROM api_keys WHERE id = ?1"
);

impl Tx {
    pub async fn meta(&mut self, key: &str) -> Result<Option<Vec<u8>>> {
        let v: Option<(Vec<u8>,)> = sqlx::query_as("SELECT v FROM meta WHERE k = $1")
            .bind(key)
            .fetch_optional(&mut *self.inner)
            .await?;
        Ok(v.map(|v| v.0))
    }

    pub async fn put_meta(&mut self, key: &str, value: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO meta (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn insert_kek(&mut self, k: &KekRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO tenant_keks (tenant_id, version, wrapped, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&k.tenant_id)
        .bind(k.version)
        .bind(&k.wrapped)
        .bind(k.created_at)
        .bind(k.retired_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn keks(&mut self, tenant_id: &str) -> Result<Vec<KekRow>> {
        let rows: Vec<(String, i64, Vec<u8>, i64, Option<i64>)> = sqlx::query_as(
            "SELECT tenant_id, version, wrapped, created_at, retired_at FROM tenant_keks
             WHERE tenant_id = $1 ORDER BY version",
        )
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| KekRow {
                tenant_id: r.0,
                version: r.1,
                wrapped: r.2,
                created_at: r.3,
                retired_at: r.4,
            })
            .collect())
    }

    /// Retire a KEK once no subject key is wrapped with it: its wrapped bytes are
    /// destroyed, so a stolen old backup of the keyring no longer opens anything new.
    pub async fn retire_kek(&mut self, tenant_id: &str, version: i64, at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE tenant_keks SET retired_at = $1, wrapped = $2 WHERE tenant_id = $3 AND version = $4",
        )
        .bind(at)
        .bind(Vec::<u8>::new())
        .bind(tenant_id)
        .bind(version)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Insert a subject key wrapped with KEK `k.kek_version`, which must still be live.
    /// The check holds a share lock on PostgreSQL, so a concurrent rotation cannot retire
    /// that KEK until this transaction ends; if it already has, this fails with `Stale`.
    pub async fn insert_subject_key(&mut self, k: &SubjectKeyRow) -> Result<()> {
        let live: Option<(i64,)> = sqlx::query_as(self.backend.live_kek_sql())
            .bind(&k.tenant_id)
            .bind(k.kek_version)
            .fetch_optional(&mut *self.inner)
            .await?;
        if live.is_none() {
            return Err(StoreError::Stale(
                "the tenant's key-encryption key was rotated",
            ));
        }
        sqlx::query("INSERT INTO subject_keys (subject_id, tenant_id, kek_version, wrapped) VALUES ($1, $2, $3, $4)")
            .bind(&k.subject_id)
            .bind(&k.tenant_id)
            .bind(k.kek_version)
            .bind(&k.wrapped)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn subject_key(
        &mut self,
        tenant_id: &str,
        subject_id: &str,
    ) -> Result<Option<SubjectKeyRow>> {
        let row: Option<(String, String, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT subject_id, tenant_id, kek_version, wrapped FROM subject_keys WHERE subject_id = $1 AND tenant_id = $2",
        )
        .bind(subject_id)
        .bind(tenant_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| SubjectKeyRow {
            subject_id: r.0,
            tenant_id: r.1,
            kek_version: r.2,
            wrapped: r.3,
        }))
    }

    /// A page of subject keys still wrapped with an older KEK, for rotation.
    pub async fn subject_keys_below(
        &mut self,
        tenant_id: &str,
        version: i64,
        limit: i64,
    ) -> Result<Vec<SubjectKeyRow>> {
        let rows: Vec<(String, String, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT subject_id, tenant_id, kek_version, wrapped FROM subject_keys
             WHERE tenant_id = $1 AND kek_version < $2 ORDER BY subject_id LIMIT $3",
        )
        .bind(tenant_id)
        .bind(version)
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| SubjectKeyRow {
                subject_id: r.0,
                tenant_id: r.1,
                kek_version: r.2,
                wrapped: r.3,
            })
            .collect())
    }

    pub async fn rewrap_subject_key(
        &mut self,
        subject_id: &str,
        from_version: i64,
        to_version: i64,
        wrapped: &[u8],
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE subject_keys SET kek_version = $1, wrapped = $2 WHERE subject_id = $3 AND kek_version = $4",
        )
        .bind(to_version)
        .bind(wrapped)
        .bind(subject_id)
        .bind(from_version)
        .execute(&mut *self.inner)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Corrupt("subject key changed during rotation"));
        }
        Ok(())
    }

    pub async fn insert_api_key(&mut self, k: &ApiKeyRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, role, purposes, secret_hash, label, created_at, revoked_at, expires_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&k.id)
        .bind(&k.tenant_id)
        .bind(&k.role)
        .bind(&k.purposes)
        .bind(&k.secret_hash)
        .bind(&k.label)
        .bind(k.created_at)
        .bind(k.revoked_at)
        .bind(k.expires_at)
        .bind(&k.created_by)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn api_key(&mut self, id: &str) -> Result<Option<ApiKeyRow>> {
        let row: Option<ApiKeyTuple> = sqlx::query_as(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(api_key_from))
    }

    /// Mark an API key revoked at `at`. False if it was already revoked (or is not there).
    pub async fn revoke_api_key(&mut self, id: &str, at: i64) -> Result<bool> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(at)
                .bind(id)
                .execute(&mut *self.inner)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn api_keys(&mut self) -> Result<Vec<ApiKeyRow>> {
        let rows: Vec<ApiKeyTuple> = sqlx::query_as(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys ORDER BY created_at, id"
        ))
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(api_key_from).collect())
    }
}

type ApiKeyTuple = (
    String,
    Option<String>,
    String,
    Option<String>,
    Vec<u8>,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

fn api_key_from(r: ApiKeyTuple) -> ApiKeyRow {
    ApiKeyRow {
        id: r.0,
        tenant_id: r.1,
        role: r.2,
        purposes: r.3,
        secret_hash: r.4,
        label: r.5,
        created_at: r.6,
        revoked_at: r.7,
        expires_at: r.8,
        created_by: r.9,
    }
}
