//! What de-identified aggregates (R10, S9) are counted from: per active subject of a
//! tenant, its creation time, sealed birth date and wrapped key; the categories,
//! sources and stores of its current fields; its consent ledger. No field values.

use crate::{ConsentRow, Result, Tx};

/// One active subject as an aggregate needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateSubject {
    pub id: String,
    pub created_at: i64,
    /// Sealed under the subject key; opened only when an age band is asked for.
    pub birth_date: Option<Vec<u8>>,
    pub kek_version: i64,
    pub wrapped_key: Vec<u8>,
}

/// Where one current field of a subject came from and lives; never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateField {
    pub subject_id: String,
    pub category: String,
    pub source: String,
    pub store: String,
}

impl Tx {
    /// Every active subject of the tenant with its key, in id order.
    pub async fn aggregate_subjects(&mut self, tenant_id: &str) -> Result<Vec<AggregateSubject>> {
        let rows: Vec<(String, i64, Option<Vec<u8>>, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT s.id, s.created_at, s.birth_date, k.kek_version, k.wrapped
             FROM subjects s JOIN subject_keys k ON k.subject_id = s.id
             WHERE s.tenant_id = $1 AND s.status = 'active' ORDER BY s.id",
        )
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AggregateSubject {
                id: r.0,
                created_at: r.1,
                birth_date: r.2,
                kek_version: r.3,
                wrapped_key: r.4,
            })
            .collect())
    }

    /// The category, source and store of every current field in the tenant.
    pub async fn aggregate_fields(&mut self, tenant_id: &str) -> Result<Vec<AggregateField>> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT subject_id, category, source, store FROM fields
             WHERE tenant_id = $1 AND superseded_at IS NULL",
        )
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AggregateField {
                subject_id: r.0,
                category: r.1,
                source: r.2,
                store: r.3,
            })
            .collect())
    }

    /// Every consent event of the tenant, per subject in ledger order, with only what
    /// the consent state is derived from: no evidence, and no row id, sequence number or
    /// recording details (left empty), since every value read costs time at this scale.
    pub async fn aggregate_consents(&mut self, tenant_id: &str) -> Result<Vec<ConsentRow>> {
        let rows: Vec<(
            String,
            String,
            String,
            String,
            i64,
            Option<i64>,
            i64,
            Option<String>,
        )> = sqlx::query_as(
            "SELECT subject_id, purpose, action, kind, at, expires_at, policy_version, parent_subject_id
             FROM consents WHERE tenant_id = $1 ORDER BY subject_id, seq",
        )
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|t| ConsentRow {
                id: String::new(),
                tenant_id: tenant_id.to_string(),
                subject_id: t.0,
                seq: 0,
                purpose: t.1,
                action: t.2,
                kind: t.3,
                at: t.4,
                expires_at: t.5,
                policy_version: t.6,
                parent_subject_id: t.7,
                evidence: None,
                recorded_at: 0,
                recorded_by: String::new(),
            })
            .collect())
    }
}
