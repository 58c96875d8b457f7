//! Counts for the annual self-assessment (S13): aggregates over Vow's own records,
//! never a subject id or a value.

use crate::{Result, Tx};

/// (action, count) or (purpose, action, count) rows of a reporting query.
pub type Counted<K> = Vec<(K, i64)>;

impl Tx {
    /// Consent events of a tenant in `[from, to)`: (purpose, action, count).
    pub async fn consent_counts(
        &mut self,
        tenant_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Counted<(String, String)>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT purpose, action, COUNT(*) FROM consents
             WHERE tenant_id = $1 AND at >= $2 AND at < $3
               AND subject_id NOT IN (SELECT id FROM subjects WHERE tenant_id = $1 AND status = 'importing')
             GROUP BY purpose, action ORDER BY purpose, action",
        )
        .bind(tenant_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(|(p, a, n)| ((p, a), n)).collect())
    }

    /// Audit entries of a tenant in `[from, to)`, counted by action.
    pub async fn audit_counts(
        &mut self,
        tenant_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Counted<String>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT action, COUNT(*) FROM audit
             WHERE tenant_id = $1 AND at >= $2 AND at < $3
             GROUP BY action ORDER BY action",
        )
        .bind(tenant_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows)
    }

    /// Outbox events created in `[from, to)`: (event, delivery state, count).
    pub async fn outbox_counts(
        &mut self,
        tenant_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Counted<(String, String)>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT event, state, COUNT(*) FROM outbox
             WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
             GROUP BY event, state ORDER BY event, state",
        )
        .bind(tenant_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(|(e, s, n)| ((e, s), n)).collect())
    }

    /// The details of a tenant's audit entries with one action, oldest first.
    pub async fn audit_details(
        &mut self,
        tenant_id: &str,
        action: &str,
    ) -> Result<Vec<(i64, i64, String, String)>> {
        let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT seq, at, actor, detail FROM audit WHERE tenant_id = $1 AND action = $2 ORDER BY seq",
        )
        .bind(tenant_id)
        .bind(action)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows)
    }
}
