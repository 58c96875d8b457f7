//! The console (issue 10): sign-in sessions (hashed tokens bound to an API key) and
//! the record of breach notices mailed to affected people.

use crate::{Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSessionRow {
    /// SHA-256 of the session token.
    pub token_hash: Vec<u8>,
    pub key_id: String,
    pub created_at: i64,
    pub last_seen: i64,
    /// The absolute end (ms).
    pub expires_at: i64,
}

/// How far a mailing of an incident's notice stands, per state: (state, people).
pub type MailingCount = (String, i64);

impl Tx {
    pub async fn insert_console_session(&mut self, s: &ConsoleSessionRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO console_sessions (token_hash, key_id, created_at, last_seen, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.token_hash)
        .bind(&s.key_id)
        .bind(s.created_at)
        .bind(s.last_seen)
        .bind(s.expires_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn console_session(
        &mut self,
        token_hash: &[u8],
    ) -> Result<Option<ConsoleSessionRow>> {
        let row: Option<(Vec<u8>, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT token_hash, key_id, created_at, last_seen, expires_at FROM console_sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| ConsoleSessionRow {
            token_hash: r.0,
            key_id: r.1,
            created_at: r.2,
            last_seen: r.3,
            expires_at: r.4,
        }))
    }

    pub async fn touch_console_session(&mut self, token_hash: &[u8], at: i64) -> Result<()> {
        sqlx::query("UPDATE console_sessions SET last_seen = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(at)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn delete_console_session(&mut self, token_hash: &[u8]) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// End sessions past `expired_before` (absolute end)
    /// or idle since `idle_before`. Returns how many went.
    pub async fn trim_console_sessions(
        &mut self,
        expired_before: i64,
        idle_before: i64,
    ) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1 OR last_seen <= $2")
                .bind(expired_before)
                .bind(idle_before)
                .execute(&mut *self.inner)
                .await?
                .rows_affected(),
        )
    }

    pub async fn delete_console_sessions_of_key(&mut self, key_id: &str) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM console_sessions WHERE key_id = $1")
                .bind(key_id)
                .execute(&mut *self.inner)
                .await?
                .rows_affected(),
        )
    }

    /// Affected people of an incident in one tenant not yet claimed for its mailing,
    /// or whose mailing failed (to be tried again), in subject order, at most `limit`.
    pub async fn incident_subjects_to_mail(
        &mut self,
        incident_id: &str,
        tenant_id: &str,
        limit: i64,
    ) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT s.subject_id FROM incident_subjects s
               LEFT JOIN incident_mailings m ON m.incident_id = s.incident_id AND m.subject_id = s.subject_id
              WHERE s.incident_id = $1 AND s.tenant_id = $2 AND (m.state IS NULL OR m.state = 'failed')
              ORDER BY s.subject_id LIMIT $3",
        )
        .bind(incident_id)
        .bind(tenant_id)
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Set one person's mailing state (claiming it when there was none).
    pub async fn set_incident_mailing(
        &mut self,
        incident_id: &str,
        subject_id: &str,
        state: &str,
        at: i64,
        message_id: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO incident_mailings (incident_id, subject_id, state, at, message_id)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (incident_id, subject_id) DO UPDATE SET state = excluded.state, at = excluded.at, message_id = excluded.message_id",
        )
        .bind(incident_id)
        .bind(subject_id)
        .bind(state)
        .bind(at)
        .bind(message_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// How many people of an incident are in each mailing state.
    pub async fn incident_mailing_counts(
        &mut self,
        incident_id: &str,
    ) -> Result<Vec<MailingCount>> {
        Ok(sqlx::query_as(
            "SELECT state, COUNT(*) FROM incident_mailings WHERE incident_id = $1 GROUP BY state ORDER BY state",
        )
        .bind(incident_id)
        .fetch_all(&mut *self.inner)
        .await?)
    }
}
