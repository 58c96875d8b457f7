//! Security events: failed authentication, forbidden and cross-tenant attempts. Key
//! ids, tenant ids, route templates and reason codes only.

use crate::{Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEventRow {
    /// Assigned by the database on insert (ignored there); increasing.
    pub seq: i64,
    pub at: i64,
    /// `authentication_failed`, `forbidden` or `cross_tenant`.
    pub kind: String,
    pub reason: String,
    /// The id part of the key presented, when it parses as a Vow key.
    pub key_id: Option<String>,
    /// The tenant of the key, when the key is known.
    pub key_tenant: Option<String>,
    /// The tenant the request named (`{t}` of the route).
    pub tenant_id: Option<String>,
    pub method: String,
    /// The route template, e.g. `/v1/tenants/{t}/subjects/{s}/history`.
    pub route: String,
}

type Tuple = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
);

fn from_tuple(r: Tuple) -> SecurityEventRow {
    SecurityEventRow {
        seq: r.0,
        at: r.1,
        kind: r.2,
        reason: r.3,
        key_id: r.4,
        key_tenant: r.5,
        tenant_id: r.6,
        method: r.7,
        route: r.8,
    }
}

impl Tx {
    pub async fn insert_security_event(&mut self, e: &SecurityEventRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO security_events (at, kind, reason, key_id, key_tenant, tenant_id, method, route)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(e.at)
        .bind(&e.kind)
        .bind(&e.reason)
        .bind(&e.key_id)
        .bind(&e.key_tenant)
        .bind(&e.tenant_id)
        .bind(&e.method)
        .bind(&e.route)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Forget events from before `before` (ms), and all but the newest `keep`. Both
    /// deletes walk an index; returns how many rows went.
    pub async fn trim_security_events(&mut self, before: i64, keep: i64) -> Result<u64> {
        let old = sqlx::query("DELETE FROM security_events WHERE at < $1")
            .bind(before)
            .execute(&mut *self.inner)
            .await?
            .rows_affected();
        let newest: Option<(i64,)> =
            sqlx::query_as("SELECT seq FROM security_events ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *self.inner)
                .await?;
        let over = match newest {
            Some((n,)) if n > keep => sqlx::query("DELETE FROM security_events WHERE seq <= $1")
                .bind(n - keep)
                .execute(&mut *self.inner)
                .await?
                .rows_affected(),
            _ => 0,
        };
        Ok(old + over)
    }

    /// Events at or after `since` (ms), newest first, at most `limit`. With a tenant:
    /// those that named it, or were made with one of its keys.
    pub async fn security_events(
        &mut self,
        tenant: Option<&str>,
        since: i64,
        limit: i64,
    ) -> Result<Vec<SecurityEventRow>> {
        let rows: Vec<Tuple> = match tenant {
            Some(t) => {
                sqlx::query_as(
                    "SELECT seq, at, kind, reason, key_id, key_tenant, tenant_id, method, route
                     FROM security_events WHERE at >= $1 AND (tenant_id = $2 OR key_tenant = $2)
                     ORDER BY seq DESC LIMIT $3",
                )
                .bind(since)
                .bind(t)
                .bind(limit)
                .fetch_all(&mut *self.inner)
                .await?
            }
            None => {
                sqlx::query_as(
                    "SELECT seq, at, kind, reason, key_id, key_tenant, tenant_id, method, route
                     FROM security_events WHERE at >= $1 ORDER BY seq DESC LIMIT $2",
                )
                .bind(since)
                .bind(limit)
                .fetch_all(&mut *self.inner)
                .await?
            }
        };
        Ok(rows.into_iter().map(from_tuple).collect())
    }
}
