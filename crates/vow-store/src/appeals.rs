//! Appeals: the link between a denied request and the request that appeals it.

use crate::{Result, Tx};

impl Tx {
    /// Link `appeal_id` to the denied request `request_id`. Fails (unique key) if the
    /// request was appealed already.
    pub async fn insert_appeal(
        &mut self,
        tenant_id: &str,
        request_id: &str,
        appeal_id: &str,
        at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO request_appeals (tenant_id, request_id, appeal_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant_id)
        .bind(request_id)
        .bind(appeal_id)
        .bind(at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The appeal of request `request_id`, if it was appealed.
    pub async fn appeal_for(
        &mut self,
        tenant_id: &str,
        request_id: &str,
    ) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT appeal_id FROM request_appeals WHERE tenant_id = $1 AND request_id = $2",
        )
        .bind(tenant_id)
        .bind(request_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| r.0))
    }

    /// The request that `appeal_id` appeals, if it is an appeal.
    pub async fn appealed_request(
        &mut self,
        tenant_id: &str,
        appeal_id: &str,
    ) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT request_id FROM request_appeals WHERE tenant_id = $1 AND appeal_id = $2",
        )
        .bind(tenant_id)
        .bind(appeal_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| r.0))
    }

    /// Every (request, appeal) pair of a tenant.
    pub async fn appeals(&mut self, tenant_id: &str) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT request_id, appeal_id FROM request_appeals WHERE tenant_id = $1 ORDER BY created_at, request_id",
        )
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?)
    }
}
