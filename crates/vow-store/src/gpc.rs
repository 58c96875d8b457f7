//! Global Privacy Control signals from browsers no one is identified in (issue 10):
//! one row per tenant and browser, the browser named by an HMAC of its cookie.

use crate::{Result, Tx};

impl Tx {
    /// Record a browser's GPC opt-out once: true if this is its first, false if it was
    /// recorded before (the row is left as it was).
    pub async fn insert_gpc_browser(
        &mut self,
        tenant: &str,
        browser: &str,
        at: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO gpc_browsers (tenant_id, browser, recorded_at) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id, browser) DO NOTHING",
        )
        .bind(tenant)
        .bind(browser)
        .bind(at)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// When a browser's GPC opt-out was recorded, if it was.
    pub async fn gpc_browser(&mut self, tenant: &str, browser: &str) -> Result<Option<i64>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT recorded_at FROM gpc_browsers WHERE tenant_id = $1 AND browser = $2",
        )
        .bind(tenant)
        .bind(browser)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| r.0))
    }
}
