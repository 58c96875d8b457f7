//! Data-subject requests, their event log, notices, exports, suppressions and the outbox.

use crate::{Result, StoreError, Tx};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub channel: String,
    pub state: String,
    pub subject_id: Option<String>,
    pub requester: String,
    pub residence: Option<String>,
    /// JSON array of the rule packs that apply.
    pub rules: String,
    pub binding: String,
    pub received_at: i64,
    pub ack_due: Option<i64>,
    pub response_due: i64,
    pub extended_max: Option<i64>,
    pub extended_due: Option<i64>,
    /// Since when the clock stands still (a pause the applicable law allows), if it does.
    pub paused_at: Option<i64>,
    /// JSON: the verification the strictest rule asks.
    pub verification: String,
    pub matched_points: i64,
    pub kek_version: i64,
    /// The request's data key, wrapped by the tenant KEK of `kek_version`.
    pub key_wrapped: Vec<u8>,
    /// Sealed JSON: identifiers given, requester and evidence, corrections asked.
    pub details: Vec<u8>,
    /// JSON: the nature of the response (what was done, denial reasons).
    pub outcome: Option<String>,
    pub closed_at: Option<i64>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestEventRow {
    pub request_id: String,
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub event: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    /// JSON, no personal values.
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    pub id: String,
    pub request_id: String,
    pub kind: String,
    pub created_at: i64,
    /// Sealed JSON {to, subject, text, html} under the request key.
    pub sealed: Vec<u8>,
    pub sent_at: Option<i64>,
    pub message_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: String,
    pub tenant_id: String,
    pub event: String,
    pub recipient: Option<String>,
    /// JSON, never personal values.
    pub payload: String,
    /// Personal values for the recipient, sealed under the subject's key.
    pub sealed: Option<Vec<u8>>,
    pub subject_id: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// 24 columns: more than sqlx's tuple decoding takes, so by name.
fn request_from(row: &AnyRow) -> std::result::Result<RequestRow, sqlx::Error> {
    Ok(RequestRow {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        kind: row.try_get("kind")?,
        channel: row.try_get("channel")?,
        state: row.try_get("state")?,
        subject_id: row.try_get("subject_id")?,
        requester: row.try_get("requester")?,
        residence: row.try_get("residence")?,
        rules: row.try_get("rules")?,
        binding: row.try_get("binding")?,
        received_at: row.try_get("received_at")?,
        ack_due: row.try_get("ack_due")?,
        response_due: row.try_get("response_due")?,
        extended_max: row.try_get("extended_max")?,
        extended_due: row.try_get("extended_due")?,
        paused_at: row.try_get("paused_at")?,
        verification: row.try_get("verification")?,
        matched_points: row.try_get("matched_points")?,
        kek_version: row.try_get("kek_version")?,
        key_wrapped: row.try_get("key_wrapped")?,
        details: row.try_get("details")?,
        outcome: row.try_get("outcome")?,
        closed_at: row.try_get("closed_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Tx {
    pub async fn insert_request(&mut self, r: &RequestRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO requests (id, tenant_id, kind, channel, state, subject_id, requester, residence, rules, binding,
                received_at, ack_due, response_due, extended_max, extended_due, paused_at, verification, matched_points,
                kek_version, key_wrapped, details, outcome, closed_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)",
        )
        .bind(&r.id)
        .bind(&r.tenant_id)
        .bind(&r.kind)
        .bind(&r.channel)
        .bind(&r.state)
        .bind(&r.subject_id)
        .bind(&r.requester)
        .bind(&r.residence)
        .bind(&r.rules)
        .bind(&r.binding)
        .bind(r.received_at)
        .bind(r.ack_due)
        .bind(r.response_due)
        .bind(r.extended_max)
        .bind(r.extended_due)
        .bind(r.paused_at)
        .bind(&r.verification)
        .bind(r.matched_points)
        .bind(r.kek_version)
        .bind(&r.key_wrapped)
        .bind(&r.details)
        .bind(&r.outcome)
        .bind(r.closed_at)
        .bind(r.updated_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// A request of `tenant_id`, locked for update on PostgreSQL (the workflow
    /// reads, checks the transition and writes in one transaction).
    pub async fn request(&mut self, tenant_id: &str, id: &str) -> Result<Option<RequestRow>> {
        let row = sqlx::query(self.backend.request_sql())
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&mut *self.inner)
            .await?;
        Ok(row.as_ref().map(request_from).transpose()?)
    }

    /// Open requests first, then closed ones; each group by due date (an extension's
    /// if granted), then receipt, then id so that both backends list ties alike.
    pub async fn requests(
        &mut self,
        tenant_id: &str,
        include_closed: bool,
        limit: i64,
    ) -> Result<Vec<RequestRow>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, kind, channel, state, subject_id, requester, residence, rules, binding,
                received_at, ack_due, response_due, extended_max, extended_due, paused_at, verification, matched_points,
                kek_version, key_wrapped, details, outcome, closed_at, updated_at
             FROM requests WHERE tenant_id = $1 AND (closed_at IS NULL OR $2 = 1)
             ORDER BY CASE WHEN closed_at IS NULL THEN 0 ELSE 1 END,
                      COALESCE(extended_due, response_due), received_at, id LIMIT $3",
        )
        .bind(tenant_id)
        .bind(i64::from(include_closed))
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .iter()
            .map(request_from)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// Requests received in `[from, to)`, for reports, by receipt then id.
    pub async fn requests_received(
        &mut self,
        tenant_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<RequestRow>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, kind, channel, state, subject_id, requester, residence, rules, binding,
                received_at, ack_due, response_due, extended_max, extended_due, paused_at, verification, matched_points,
                kek_version, key_wrapped, details, outcome, closed_at, updated_at
             FROM requests WHERE tenant_id = $1 AND received_at >= $2 AND received_at < $3 ORDER BY received_at, id",
        )
        .bind(tenant_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .iter()
            .map(request_from)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// Write the mutable part of a request back (state, dates, outcome, subject match).
    pub async fn update_request(&mut self, r: &RequestRow) -> Result<()> {
        let done = sqlx::query(
            "UPDATE requests SET kind = $1, state = $2, subject_id = $3, extended_due = $4, matched_points = $5,
                details = $6, outcome = $7, closed_at = $8, updated_at = $9, response_due = $10,
                extended_max = $11, paused_at = $12
             WHERE id = $13 AND tenant_id = $14",
        )
        .bind(&r.kind)
        .bind(&r.state)
        .bind(&r.subject_id)
        .bind(r.extended_due)
        .bind(r.matched_points)
        .bind(&r.details)
        .bind(&r.outcome)
        .bind(r.closed_at)
        .bind(r.updated_at)
        .bind(r.response_due)
        .bind(r.extended_max)
        .bind(r.paused_at)
        .bind(&r.id)
        .bind(&r.tenant_id)
        .execute(&mut *self.inner)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Corrupt("request vanished during an update"));
        }
        Ok(())
    }

    pub async fn append_request_event(&mut self, e: &RequestEventRow) -> Result<i64> {
        // The next number and the row in one statement (a request's events are written
        // by one transaction at a time: the request's row is updated in it too).
        let (seq,): (i64,) = sqlx::query_as(
            "INSERT INTO request_events (request_id, seq, at, actor, event, from_state, to_state, note)
             SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7
             FROM request_events WHERE request_id = $1
             RETURNING seq",
        )
        .bind(&e.request_id)
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.event)
        .bind(&e.from_state)
        .bind(&e.to_state)
        .bind(&e.note)
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(seq)
    }

    pub async fn request_events(&mut self, request_id: &str) -> Result<Vec<RequestEventRow>> {
        let rows: Vec<(String, i64, i64, String, String, Option<String>, Option<String>, String)> = sqlx::query_as(
            "SELECT request_id, seq, at, actor, event, from_state, to_state, note FROM request_events
             WHERE request_id = $1 ORDER BY seq",
        )
        .bind(request_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| RequestEventRow {
                request_id: r.0,
                seq: r.1,
                at: r.2,
                actor: r.3,
                event: r.4,
                from_state: r.5,
                to_state: r.6,
                note: r.7,
            })
            .collect())
    }

    pub async fn insert_notice(&mut self, n: &NoticeRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO notices (id, request_id, kind, created_at, sealed, sent_at, message_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&n.id)
        .bind(&n.request_id)
        .bind(&n.kind)
        .bind(n.created_at)
        .bind(&n.sealed)
        .bind(n.sent_at)
        .bind(&n.message_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn mark_notice_sent(&mut self, id: &str, at: i64, message_id: &str) -> Result<()> {
        sqlx::query("UPDATE notices SET sent_at = $1, message_id = $2 WHERE id = $3")
            .bind(at)
            .bind(message_id)
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn notices(&mut self, request_id: &str) -> Result<Vec<NoticeRow>> {
        let rows: Vec<(
            String,
            String,
            String,
            i64,
            Vec<u8>,
            Option<i64>,
            Option<String>,
        )> = sqlx::query_as(
            "SELECT id, request_id, kind, created_at, sealed, sent_at, message_id FROM notices
             WHERE request_id = $1 ORDER BY created_at, id",
        )
        .bind(request_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| NoticeRow {
                id: r.0,
                request_id: r.1,
                kind: r.2,
                created_at: r.3,
                sealed: r.4,
                sent_at: r.5,
                message_id: r.6,
            })
            .collect())
    }

    pub async fn put_export(
        &mut self,
        request_id: &str,
        created_at: i64,
        expires_at: i64,
        sealed: &[u8],
        token_hash: &[u8],
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO exports (request_id, created_at, expires_at, sealed, token_hash) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (request_id) DO UPDATE SET created_at = excluded.created_at,
                 expires_at = excluded.expires_at, sealed = excluded.sealed, token_hash = excluded.token_hash",
        )
        .bind(request_id)
        .bind(created_at)
        .bind(expires_at)
        .bind(sealed)
        .bind(token_hash)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// (created_at, expires_at, sealed package).
    pub async fn export(&mut self, request_id: &str) -> Result<Option<(i64, i64, Vec<u8>)>> {
        let row: Option<(i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT created_at, expires_at, sealed FROM exports WHERE request_id = $1",
        )
        .bind(request_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row)
    }

    /// The export a download token opens: (tenant, request id, expires_at).
    pub async fn export_by_token(
        &mut self,
        token_hash: &[u8],
    ) -> Result<Option<(String, String, i64)>> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT r.tenant_id, e.request_id, e.expires_at FROM exports e JOIN requests r ON r.id = e.request_id
             WHERE e.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row)
    }

    pub async fn insert_suppression(
        &mut self,
        tenant_id: &str,
        kind: &str,
        bidx: &[u8],
        at: i64,
        request_id: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO suppressions (tenant_id, kind, bidx, created_at, request_id) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id, kind, bidx) DO NOTHING",
        )
        .bind(tenant_id)
        .bind(kind)
        .bind(bidx)
        .bind(at)
        .bind(request_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn is_suppressed(
        &mut self,
        tenant_id: &str,
        kind: &str,
        bidx: &[u8],
    ) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT created_at FROM suppressions WHERE tenant_id = $1 AND kind = $2 AND bidx = $3",
        )
        .bind(tenant_id)
        .bind(kind)
        .bind(bidx)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.is_some())
    }

    /// Crypto-shred a subject: its key, identifiers (and their blind indexes), fields
    /// and consent ledger go; the subject row stays as a pseudonymous tombstone.
    pub async fn erase_subject(
        &mut self,
        tenant_id: &str,
        subject_id: &str,
        at: i64,
    ) -> Result<()> {
        for sql in [
            "DELETE FROM subject_keys WHERE subject_id = $1 AND tenant_id = $2",
            "DELETE FROM identifiers WHERE subject_id = $1 AND tenant_id = $2",
            "DELETE FROM fields WHERE subject_id = $1 AND tenant_id = $2",
            "DELETE FROM consents WHERE subject_id = $1 AND tenant_id = $2",
        ] {
            sqlx::query(sql)
                .bind(subject_id)
                .bind(tenant_id)
                .execute(&mut *self.inner)
                .await?;
        }
        let done = sqlx::query(
            "UPDATE subjects SET status = 'erased', birth_date = NULL, created_at = $1 WHERE id = $2 AND tenant_id = $3",
        )
        .bind(at)
        .bind(subject_id)
        .bind(tenant_id)
        .execute(&mut *self.inner)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Corrupt("subject vanished during erasure"));
        }
        Ok(())
    }

    pub async fn insert_outbox(&mut self, o: &OutboxRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO outbox (id, tenant_id, event, recipient, payload, sealed, subject_id, created_at, delivered_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&o.id)
        .bind(&o.tenant_id)
        .bind(&o.event)
        .bind(&o.recipient)
        .bind(&o.payload)
        .bind(&o.sealed)
        .bind(&o.subject_id)
        .bind(o.created_at)
        .bind(o.delivered_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn outbox(&mut self, tenant_id: &str) -> Result<Vec<OutboxRow>> {
        let rows: Vec<(String, String, String, Option<String>, String, Option<Vec<u8>>, Option<String>, i64, Option<i64>)> =
            sqlx::query_as(
                "SELECT id, tenant_id, event, recipient, payload, sealed, subject_id, created_at, delivered_at FROM outbox
                 WHERE tenant_id = $1 ORDER BY created_at, id",
            )
            .bind(tenant_id)
            .fetch_all(&mut *self.inner)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxRow {
                id: r.0,
                tenant_id: r.1,
                event: r.2,
                recipient: r.3,
                payload: r.4,
                sealed: r.5,
                subject_id: r.6,
                created_at: r.7,
                delivered_at: r.8,
            })
            .collect())
    }

    /// Request keys still wrapped with an older KEK, for rotation: (id, kek_version, wrapped).
    pub async fn request_keys_below(
        &mut self,
        tenant_id: &str,
        version: i64,
        limit: i64,
    ) -> Result<Vec<(String, i64, Vec<u8>)>> {
        let rows: Vec<(String, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT id, kek_version, key_wrapped FROM requests WHERE tenant_id = $1 AND kek_version < $2 ORDER BY id LIMIT $3",
        )
        .bind(tenant_id)
        .bind(version)
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows)
    }

    pub async fn rewrap_request_key(
        &mut self,
        id: &str,
        from_version: i64,
        to_version: i64,
        wrapped: &[u8],
    ) -> Result<()> {
        let done = sqlx::query("UPDATE requests SET kek_version = $1, key_wrapped = $2 WHERE id = $3 AND kek_version = $4")
            .bind(to_version)
            .bind(wrapped)
            .bind(id)
            .bind(from_version)
            .execute(&mut *self.inner)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Corrupt("request key changed during rotation"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRow {
    pub id: String,
    pub tenant_id: String,
    pub subject_id: String,
    /// JSON array of categories kept.
    pub categories: String,
    pub reason: String,
    pub until: i64,
    pub created_at: i64,
    pub created_by: String,
}

impl Tx {
    pub async fn insert_hold(&mut self, h: &HoldRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO holds (id, tenant_id, subject_id, categories, reason, until, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&h.id)
        .bind(&h.tenant_id)
        .bind(&h.subject_id)
        .bind(&h.categories)
        .bind(&h.reason)
        .bind(h.until)
        .bind(h.created_at)
        .bind(&h.created_by)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn holds(&mut self, tenant_id: &str, subject_id: &str) -> Result<Vec<HoldRow>> {
        let rows: Vec<HoldTuple> = sqlx::query_as(
            "SELECT id, tenant_id, subject_id, categories, reason, until, created_at, created_by FROM holds
             WHERE subject_id = $1 AND tenant_id = $2 ORDER BY created_at, id",
        )
        .bind(subject_id)
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(hold_from).collect())
    }
}

pub(crate) type HoldTuple = (String, String, String, String, String, i64, i64, String);

pub(crate) fn hold_from(r: HoldTuple) -> HoldRow {
    HoldRow {
        id: r.0,
        tenant_id: r.1,
        subject_id: r.2,
        categories: r.3,
        reason: r.4,
        until: r.5,
        created_at: r.6,
        created_by: r.7,
    }
}

impl Tx {
    /// Replace the request's one-time code (a new code voids the old one).
    pub async fn put_code(
        &mut self,
        request_id: &str,
        code_hash: &[u8],
        expires_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO request_codes (request_id, code_hash, expires_at, attempts) VALUES ($1, $2, $3, 0)
             ON CONFLICT (request_id) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = 0",
        )
        .bind(request_id)
        .bind(code_hash)
        .bind(expires_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// (code hash, expires_at, attempts so far).
    pub async fn code(&mut self, request_id: &str) -> Result<Option<(Vec<u8>, i64, i64)>> {
        let row: Option<(Vec<u8>, i64, i64)> = sqlx::query_as(
            "SELECT code_hash, expires_at, attempts FROM request_codes WHERE request_id = $1",
        )
        .bind(request_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row)
    }

    pub async fn count_code_attempt(&mut self, request_id: &str) -> Result<()> {
        sqlx::query("UPDATE request_codes SET attempts = attempts + 1 WHERE request_id = $1")
            .bind(request_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn delete_code(&mut self, request_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM request_codes WHERE request_id = $1")
            .bind(request_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureRow {
    pub id: String,
    pub tenant_id: String,
    pub recipient: String,
    pub purpose: String,
    /// JSON array of categories sent.
    pub categories: String,
    pub subjects: i64,
    pub refused: i64,
    pub created_at: i64,
    pub actor: String,
}

impl Tx {
    pub async fn insert_disclosure(&mut self, d: &DisclosureRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO disclosures (id, tenant_id, recipient, purpose, categories, subjects, refused, created_at, actor)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&d.id)
        .bind(&d.tenant_id)
        .bind(&d.recipient)
        .bind(&d.purpose)
        .bind(&d.categories)
        .bind(d.subjects)
        .bind(d.refused)
        .bind(d.created_at)
        .bind(&d.actor)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Record that `subject`'s `categories` (JSON) went out in disclosure `id`.
    pub async fn insert_disclosed(
        &mut self,
        id: &str,
        tenant_id: &str,
        subject_id: &str,
        recipient: &str,
        categories: &str,
        at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO disclosed (disclosure_id, tenant_id, subject_id, recipient, categories, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(tenant_id)
        .bind(subject_id)
        .bind(recipient)
        .bind(categories)
        .bind(at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn disclosures(&mut self, tenant_id: &str) -> Result<Vec<DisclosureRow>> {
        let rows: Vec<(String, String, String, String, String, i64, i64, i64, String)> = sqlx::query_as(
            "SELECT id, tenant_id, recipient, purpose, categories, subjects, refused, created_at, actor FROM disclosures
             WHERE tenant_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DisclosureRow {
                id: r.0,
                tenant_id: r.1,
                recipient: r.2,
                purpose: r.3,
                categories: r.4,
                subjects: r.5,
                refused: r.6,
                created_at: r.7,
                actor: r.8,
            })
            .collect())
    }

    /// Every (recipient, categories JSON, at) a subject's data went to, oldest first
    /// (same time: by disclosure id).
    pub async fn disclosed_to(
        &mut self,
        tenant_id: &str,
        subject_id: &str,
    ) -> Result<Vec<(String, String, i64)>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT recipient, categories, at FROM disclosed WHERE tenant_id = $1 AND subject_id = $2 ORDER BY at, disclosure_id",
        )
        .bind(tenant_id)
        .bind(subject_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows)
    }
}

impl Tx {
    /// Destroy access packages and one-time codes of `tenant_id` past their expiry:
    /// nothing personal is kept longer than the link or code that needed it.
    /// Returns (packages, codes) removed.
    pub async fn purge_expired(&mut self, tenant_id: &str, now: i64) -> Result<(u64, u64)> {
        let exports = sqlx::query(
            "DELETE FROM exports WHERE expires_at < $1 AND request_id IN (SELECT id FROM requests WHERE tenant_id = $2)",
        )
        .bind(now)
        .bind(tenant_id)
        .execute(&mut *self.inner)
        .await?;
        let codes = sqlx::query(
            "DELETE FROM request_codes WHERE expires_at < $1 AND request_id IN (SELECT id FROM requests WHERE tenant_id = $2)",
        )
        .bind(now)
        .bind(tenant_id)
        .execute(&mut *self.inner)
        .await?;
        Ok((exports.rows_affected(), codes.rows_affected()))
    }
}
