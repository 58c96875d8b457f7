use crate::{Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRow {
    pub tenant_id: String,
    pub version: i64,
    pub effective_date: String,
    /// The file as published (YAML or JSON), kept verbatim.
    pub source: String,
    /// The compiled policy as JSON.
    pub compiled: String,
    pub published_at: i64,
    pub published_by: String,
}

type Tuple = (String, i64, String, String, String, i64, String);

fn from(t: Tuple) -> PolicyRow {
    PolicyRow {
        tenant_id: t.0,
        version: t.1,
        effective_date: t.2,
        source: t.3,
        compiled: t.4,
        published_at: t.5,
        published_by: t.6,
    }
}

impl Tx {
    /// Append a new version; returns its number (1 for the first).
    pub async fn insert_policy(&mut self, p: &PolicyRow) -> Result<i64> {
        if let Some(lock) = self.backend.lock_tenant_sql() {
            sqlx::query(lock)
                .bind(&p.tenant_id)
                .execute(&mut *self.inner)
                .await?;
        }
        let (next,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM policies WHERE tenant_id = $1",
        )
        .bind(&p.tenant_id)
        .fetch_one(&mut *self.inner)
        .await?;
        sqlx::query(
            "INSERT INTO policies (tenant_id, version, effective_date, source, compiled, published_at, published_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&p.tenant_id)
        .bind(next)
        .bind(&p.effective_date)
        .bind(&p.source)
        .bind(&p.compiled)
        .bind(p.published_at)
        .bind(&p.published_by)
        .execute(&mut *self.inner)
        .await?;
        Ok(next)
    }

    /// The version in force on `today` (`YYYY-MM-DD`): the newest whose effective date
    /// has come. If none has come yet, the newest published (a tenant is never without one).
    pub async fn policy_in_force(
        &mut self,
        tenant_id: &str,
        today: &str,
    ) -> Result<Option<PolicyRow>> {
        let row: Option<Tuple> = sqlx::query_as(
            "SELECT tenant_id, version, effective_date, source, compiled, published_at, published_by
             FROM policies WHERE tenant_id = $1 AND effective_date <= $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(tenant_id)
        .bind(today)
        .fetch_optional(&mut *self.inner)
        .await?;
        match row {
            Some(r) => Ok(Some(from(r))),
            None => self.current_policy(tenant_id).await,
        }
    }

    /// The newest published version, whatever its effective date.
    pub async fn current_policy(&mut self, tenant_id: &str) -> Result<Option<PolicyRow>> {
        let row: Option<Tuple> = sqlx::query_as(
            "SELECT tenant_id, version, effective_date, source, compiled, published_at, published_by
             FROM policies WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(tenant_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(from))
    }

    pub async fn policy_version(
        &mut self,
        tenant_id: &str,
        version: i64,
    ) -> Result<Option<PolicyRow>> {
        let row: Option<Tuple> = sqlx::query_as(
            "SELECT tenant_id, version, effective_date, source, compiled, published_at, published_by
             FROM policies WHERE tenant_id = $1 AND version = $2",
        )
        .bind(tenant_id)
        .bind(version)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(from))
    }

    /// Every version, oldest first (without the source text).
    pub async fn policy_versions(&mut self, tenant_id: &str) -> Result<Vec<(i64, String, i64)>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT version, effective_date, published_at FROM policies WHERE tenant_id = $1 ORDER BY version",
        )
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows)
    }
}
