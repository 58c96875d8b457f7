//! Webhook delivery: recipients' endpoints, claiming due outbox events, their state and
//! the history of attempts. No bodies and nothing personal is stored here: an event's
//! values stay sealed in `outbox.sealed` until the moment of sending.

use crate::{OutboxRow, Result, Tx};

/// Far in the future: an event parked until something (an endpoint, a retry) wakes it.
pub const PARKED: i64 = i64::MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRow {
    pub tenant_id: String,
    pub recipient: String,
    pub url: String,
    pub kek_version: i64,
    /// The signing secret, sealed under the tenant's KEK of `kek_version`.
    pub secret_sealed: Vec<u8>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The secret before the last rotation, sealed under the same KEK version, while
    /// its overlap window lasts: deliveries carry its signature too.
    pub previous_sealed: Option<Vec<u8>>,
    /// When the previous secret stops being used (Unix ms).
    pub previous_until: Option<i64>,
}

/// An outbox event claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedEvent {
    pub row: OutboxRow,
    pub attempts: i64,
    pub expires_at: Option<i64>,
}

/// An event's delivery state, for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: String,
    pub tenant_id: String,
    pub event: String,
    pub recipient: Option<String>,
    pub subject_id: Option<String>,
    pub created_at: i64,
    pub state: String,
    pub reason: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub expires_at: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    pub event_id: String,
    pub attempt: i64,
    pub at: i64,
    /// The HTTP status, when the receiver answered.
    pub status: Option<i64>,
    /// An error class (`timeout`, `connect`, `forbidden_address`, `http_status`…).
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// What became of an attempt: the new state of its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    pub state: &'static str,
    pub reason: Option<&'static str>,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
}

type DeliveryTuple = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    String,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

fn delivery(r: DeliveryTuple) -> DeliveryRow {
    DeliveryRow {
        id: r.0,
        tenant_id: r.1,
        event: r.2,
        recipient: r.3,
        subject_id: r.4,
        created_at: r.5,
        state: r.6,
        reason: r.7,
        attempts: r.8,
        next_attempt_at: r.9,
        expires_at: r.10,
        last_error: r.11,
        delivered_at: r.12,
    }
}

/// A SELECT of an event's delivery state, followed by `$rest` (one literal SQL text).
macro_rules! select_delivery {
    ($rest:literal) => {
        concat!(
            "SELECT id, tenant_id, event, recipient, subject_id, created_at, state, reason, attempts,
                next_attempt_at, expires_at, last_error, delivered_at FROM outbox ",
            $rest
        )
    };
}

impl Tx {
    /// Register or replace a recipient's endpoint, its secrets included: a replaced
    /// endpoint keeps no previous secret unless `e` carries one (a rotation).
    pub async fn put_endpoint(&mut self, e: &EndpointRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO webhook_endpoints (tenant_id, recipient, url, kek_version, secret_sealed, created_at, updated_at,
                previous_sealed, previous_until)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (tenant_id, recipient) DO UPDATE SET url = excluded.url, kek_version = excluded.kek_version,
                secret_sealed = excluded.secret_sealed, updated_at = excluded.updated_at,
                previous_sealed = excluded.previous_sealed, previous_until = excluded.previous_until",
        )
        .bind(&e.tenant_id)
        .bind(&e.recipient)
        .bind(&e.url)
        .bind(e.kek_version)
        .bind(&e.secret_sealed)
        .bind(e.created_at)
        .bind(e.updated_at)
        .bind(&e.previous_sealed)
        .bind(e.previous_until)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Forget previous secrets whose overlap window ended at or before `now` (of one
    /// tenant, or all); returns the (tenant, recipient) of each.
    pub async fn drop_previous_secrets(
        &mut self,
        tenant_id: Option<&str>,
        now: i64,
    ) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "UPDATE webhook_endpoints SET previous_sealed = NULL, previous_until = NULL
             WHERE previous_until IS NOT NULL AND previous_until <= $1 AND tenant_id = COALESCE($2, tenant_id)
             RETURNING tenant_id, recipient",
        )
        .bind(now)
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows)
    }

    /// Remove a recipient's endpoint (it answered `410 Gone`); its events then wait,
    /// parked, until an endpoint is registered again.
    pub async fn delete_endpoint(&mut self, tenant_id: &str, recipient: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND recipient = $2")
                .bind(tenant_id)
                .bind(recipient)
                .execute(&mut *self.inner)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn endpoints(&mut self, tenant_id: &str) -> Result<Vec<EndpointRow>> {
        type Row = (
            String,
            String,
            String,
            i64,
            Vec<u8>,
            i64,
            i64,
            Option<Vec<u8>>,
            Option<i64>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT tenant_id, recipient, url, kek_version, secret_sealed, created_at, updated_at,
                previous_sealed, previous_until
             FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY recipient",
        )
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| EndpointRow {
                tenant_id: r.0,
                recipient: r.1,
                url: r.2,
                kek_version: r.3,
                secret_sealed: r.4,
                created_at: r.5,
                updated_at: r.6,
                previous_sealed: r.7,
                previous_until: r.8,
            })
            .collect())
    }

    pub async fn endpoint(
        &mut self,
        tenant_id: &str,
        recipient: &str,
    ) -> Result<Option<EndpointRow>> {
        Ok(self
            .endpoints(tenant_id)
            .await?
            .into_iter()
            .find(|e| e.recipient == recipient))
    }

    /// Endpoint secrets sealed under a KEK older than `version`, for key rotation.
    pub async fn endpoints_below(
        &mut self,
        tenant_id: &str,
        version: i64,
    ) -> Result<Vec<EndpointRow>> {
        Ok(self
            .endpoints(tenant_id)
            .await?
            .into_iter()
            .filter(|e| e.kek_version < version)
            .collect())
    }

    /// Both secrets of an endpoint, re-sealed under the KEK of `version`.
    pub async fn reseal_endpoint(
        &mut self,
        tenant_id: &str,
        recipient: &str,
        version: i64,
        sealed: &[u8],
        previous_sealed: Option<&[u8]>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE webhook_endpoints SET kek_version = $1, secret_sealed = $2, previous_sealed = $3
             WHERE tenant_id = $4 AND recipient = $5",
        )
        .bind(version)
        .bind(sealed)
        .bind(previous_sealed)
        .bind(tenant_id)
        .bind(recipient)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Events parked for want of an endpoint (none yet, or the last one answered
    /// `410 Gone`) become due now, with a fresh horizon.
    /// Returns how many.
    pub async fn wake_parked(
        &mut self,
        tenant_id: &str,
        recipient: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1, expires_at = $2, reason = NULL
             WHERE tenant_id = $3 AND recipient = $4 AND state = 'pending' AND reason IN ('no_endpoint', 'endpoint_gone')",
        )
        .bind(now)
        .bind(expires_at)
        .bind(tenant_id)
        .bind(recipient)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected())
    }

    /// Claim up to `limit` due events (of one tenant, or all) until `lease_until`:
    /// another worker skips them meanwhile, and takes them over if the lease lapses
    /// (the worker died). On PostgreSQL, rows locked by another claim are skipped.
    pub async fn claim_due(
        &mut self,
        tenant_id: Option<&str>,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedEvent>> {
        let rows: Vec<(
            String,
            String,
            String,
            Option<String>,
            String,
            Option<Vec<u8>>,
            Option<String>,
            i64,
            i64,
            Option<i64>,
        )> = sqlx::query_as(self.backend.claim_outbox_sql())
            .bind(lease_until)
            .bind(now)
            .bind(tenant_id)
            .bind(limit)
            .fetch_all(&mut *self.inner)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| ClaimedEvent {
                row: OutboxRow {
                    id: r.0,
                    tenant_id: r.1,
                    event: r.2,
                    recipient: r.3,
                    payload: r.4,
                    sealed: r.5,
                    subject_id: r.6,
                    created_at: r.7,
                    delivered_at: None,
                },
                attempts: r.8,
                expires_at: r.9,
            })
            .collect())
    }

    /// Set an event's state without an attempt (parked, dead before sending).
    pub async fn set_delivery_state(
        &mut self,
        id: &str,
        state: &str,
        reason: Option<&str>,
        next_attempt_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = $1, reason = $2, next_attempt_at = $3, lease_until = NULL WHERE id = $4",
        )
        .bind(state)
        .bind(reason)
        .bind(next_attempt_at)
        .bind(id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Record one attempt and its outcome, releasing the claim.
    pub async fn record_attempt(&mut self, a: &AttemptRow, o: &AttemptOutcome) -> Result<()> {
        sqlx::query(
            "INSERT INTO delivery_attempts (event_id, attempt, at, status, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&a.event_id)
        .bind(a.attempt)
        .bind(a.at)
        .bind(a.status)
        .bind(&a.error)
        .bind(a.duration_ms)
        .execute(&mut *self.inner)
        .await?;
        sqlx::query(
            "UPDATE outbox SET state = $1, reason = $2, attempts = $3, next_attempt_at = $4, delivered_at = $5,
                last_error = $6, lease_until = NULL WHERE id = $7",
        )
        .bind(o.state)
        .bind(o.reason)
        .bind(a.attempt)
        .bind(o.next_attempt_at)
        .bind(o.delivered_at)
        .bind(&o.last_error)
        .bind(&a.event_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// A tenant's events, newest first, optionally of one state.
    pub async fn deliveries(
        &mut self,
        tenant_id: &str,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>> {
        let rows: Vec<DeliveryTuple> =
            match state {
                Some(s) => sqlx::query_as(select_delivery!(
                    "WHERE tenant_id = $1 AND state = $2 ORDER BY created_at DESC, id DESC LIMIT $3"
                ))
                .bind(tenant_id)
                .bind(s)
                .bind(limit)
                .fetch_all(&mut *self.inner)
                .await?,
                None => {
                    sqlx::query_as(select_delivery!(
                        "WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
                    ))
                    .bind(tenant_id)
                    .bind(limit)
                    .fetch_all(&mut *self.inner)
                    .await?
                }
            };
        Ok(rows.into_iter().map(delivery).collect())
    }

    pub async fn delivery(&mut self, tenant_id: &str, id: &str) -> Result<Option<DeliveryRow>> {
        let row: Option<DeliveryTuple> =
            sqlx::query_as(select_delivery!("WHERE tenant_id = $1 AND id = $2"))
                .bind(tenant_id)
                .bind(id)
                .fetch_optional(&mut *self.inner)
                .await?;
        Ok(row.map(delivery))
    }

    pub async fn delivery_attempts(&mut self, event_id: &str) -> Result<Vec<AttemptRow>> {
        let rows: Vec<(String, i64, i64, Option<i64>, Option<String>, i64)> = sqlx::query_as(
            "SELECT event_id, attempt, at, status, error, duration_ms FROM delivery_attempts
             WHERE event_id = $1 ORDER BY attempt",
        )
        .bind(event_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AttemptRow {
                event_id: r.0,
                attempt: r.1,
                at: r.2,
                status: r.3,
                error: r.4,
                duration_ms: r.5,
            })
            .collect())
    }

    /// A pending or dead event becomes due now, with a fresh horizon. False if there
    /// is no such event or it was delivered.
    pub async fn retry_delivery(
        &mut self,
        tenant_id: &str,
        id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', reason = NULL, next_attempt_at = $1, expires_at = $2, lease_until = NULL
             WHERE tenant_id = $3 AND id = $4 AND state IN ('pending', 'dead')",
        )
        .bind(now)
        .bind(expires_at)
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Per recipient and state: how many events (recipient, state, count).
    pub async fn delivery_counts(&mut self, tenant_id: &str) -> Result<Vec<(String, String, i64)>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT recipient, state, COUNT(*) FROM outbox WHERE tenant_id = $1 AND recipient IS NOT NULL
             GROUP BY recipient, state ORDER BY recipient, state",
        )
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows)
    }

    /// The recipients that received a subject's data for a purpose (disclosure log).
    pub async fn disclosed_for_purpose(
        &mut self,
        tenant_id: &str,
        subject_id: &str,
        purpose: &str,
    ) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT d.recipient FROM disclosed x JOIN disclosures d ON d.id = x.disclosure_id
             WHERE x.tenant_id = $1 AND x.subject_id = $2 AND d.purpose = $3 ORDER BY d.recipient",
        )
        .bind(tenant_id)
        .bind(subject_id)
        .bind(purpose)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}
