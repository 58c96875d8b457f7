use crate::{Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub id: String,
    pub tenant_id: String,
    pub subject_id: String,
    /// Position in the subject's ledger (1, 2, …), assigned on insert.
    pub seq: i64,
    pub purpose: String,
    pub action: String,
    pub kind: String,
    pub at: i64,
    pub expires_at: Option<i64>,
    pub policy_version: i64,
    pub parent_subject_id: Option<String>,
    /// The evidence (channel, what was shown…), sealed under the subject key.
    pub evidence: Option<Vec<u8>>,
    pub recorded_at: i64,
    pub recorded_by: String,
}

pub(crate) type Tuple = (
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    i64,
    Option<i64>,
    i64,
    Option<String>,
    Option<Vec<u8>>,
    i64,
    String,
);

impl Tx {
    /// Append to the subject's ledger; returns the assigned sequence number.
    /// Ledger rows are never updated or deleted while the subject exists.
    pub async fn append_consent(&mut self, c: &ConsentRow) -> Result<i64> {
        if let Some(lock) = self.backend.lock_subject_sql() {
            sqlx::query(lock)
                .bind(&c.subject_id)
                .execute(&mut *self.inner)
                .await?;
        }
        let (seq,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) + 1 FROM consents WHERE subject_id = $1")
                .bind(&c.subject_id)
                .fetch_one(&mut *self.inner)
                .await?;
        self.insert_consents(&[(seq, c)]).await?;
        Ok(seq)
    }

    /// The subject's ledger in the order it was written.
    pub async fn consents(&mut self, tenant_id: &str, subject_id: &str) -> Result<Vec<ConsentRow>> {
        let rows: Vec<Tuple> = sqlx::query_as(
            "SELECT id, tenant_id, subject_id, seq, purpose, action, kind, at, expires_at, policy_version, parent_subject_id, evidence, recorded_at, recorded_by
             FROM consents WHERE subject_id = $1 AND tenant_id = $2 ORDER BY seq",
        )
        .bind(subject_id)
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(consent_from).collect())
    }

    /// Every ledger row about one purpose of the tenant's active subjects, by subject
    /// and in ledger order: for working out who holds a live consent to it (e.g. a
    /// mailing list's unsubscribe links).
    pub async fn consents_for_purpose(
        &mut self,
        tenant_id: &str,
        purpose: &str,
    ) -> Result<Vec<ConsentRow>> {
        let rows: Vec<Tuple> = sqlx::query_as(
            "SELECT c.id, c.tenant_id, c.subject_id, c.seq, c.purpose, c.action, c.kind, c.at, c.expires_at, c.policy_version, c.parent_subject_id, c.evidence, c.recorded_at, c.recorded_by
             FROM consents c JOIN subjects s ON s.id = c.subject_id
             WHERE c.tenant_id = $1 AND c.purpose = $2 AND s.tenant_id = $1 AND s.status = 'active'
             ORDER BY c.subject_id, c.seq",
        )
        .bind(tenant_id)
        .bind(purpose)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(consent_from).collect())
    }
}

pub(crate) fn consent_from(t: Tuple) -> ConsentRow {
    ConsentRow {
        id: t.0,
        tenant_id: t.1,
        subject_id: t.2,
        seq: t.3,
        purpose: t.4,
        action: t.5,
        kind: t.6,
        at: t.7,
        expires_at: t.8,
        policy_version: t.9,
        parent_subject_id: t.10,
        evidence: t.11,
        recorded_at: t.12,
        recorded_by: t.13,
    }
}
