//! Reads in one trip: what a decision about a person needs (their row, wrapped key
//! and consent ledger) and the values a read asks for, and a lookup through the
//! blind index.
//!
//! On SQLite the whole operation is handed to a reader thread once
//! ([`crate::native`]); on PostgreSQL it runs in one read transaction. The SQL
//! text is shared: written with PostgreSQL's `$N`, which SQLite reads as `?N`.

use crate::consents::consent_from;
use crate::native::FromRow;
use crate::subjects::field_from;
use crate::{ConsentRow, FieldRow, Result, Store, SubjectKeyRow, SubjectRow};

/// A person as one snapshot of the store shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectBundle {
    pub subject: SubjectRow,
    /// None only if the store is inconsistent (every subject is created with its key).
    pub key: Option<SubjectKeyRow>,
    /// The consent ledger, in order.
    pub consents: Vec<ConsentRow>,
    /// The current version of each field, when asked for (else empty).
    pub fields: Vec<FieldRow>,
}

/// The subject and its wrapped key: one indexed probe each, joined.
const SUBJECT_AND_KEY: &str =
    "SELECT s.id, s.tenant_id, s.created_at, s.birth_date, s.status, k.kek_version, k.wrapped
     FROM subjects s LEFT JOIN subject_keys k ON k.subject_id = s.id AND k.tenant_id = s.tenant_id
     WHERE s.id = $1 AND s.tenant_id = $2 AND s.status <> 'importing'";

const CONSENTS: &str = "SELECT id, tenant_id, subject_id, seq, purpose, action, kind, at, expires_at, policy_version, parent_subject_id, evidence, recorded_at, recorded_by
     FROM consents WHERE subject_id = $1 AND tenant_id = $2 ORDER BY seq";

const CURRENT_FIELDS: &str = "SELECT id, tenant_id, subject_id, category, purposes, source, store, collected_at, value, version, supersedes, superseded_at
     FROM fields WHERE subject_id = $1 AND tenant_id = $2 AND superseded_at IS NULL
     ORDER BY category, collected_at, id";

const LOOKUP: &str = "SELECT i.subject_id FROM identifiers i JOIN subjects s ON s.id = i.subject_id
     WHERE i.tenant_id = $1 AND i.kind = $2 AND i.bidx = $3 AND s.status = 'active'";

type SubjectTuple = (
    String,
    String,
    i64,
    Option<Vec<u8>>,
    String,
    Option<i64>,
    Option<Vec<u8>>,
);

fn subject_from(t: SubjectTuple) -> (SubjectRow, Option<SubjectKeyRow>) {
    let key = match (t.5, t.6) {
        (Some(kek_version), Some(wrapped)) => Some(SubjectKeyRow {
            subject_id: t.0.clone(),
            tenant_id: t.1.clone(),
            kek_version,
            wrapped,
        }),
        _ => None,
    };
    let subject = SubjectRow {
        id: t.0,
        tenant_id: t.1,
        created_at: t.2,
        birth_date: t.3,
        status: t.4,
    };
    (subject, key)
}

/// SQLite's spelling of a numbered parameter: `?N` (`$N` is a named one there).
fn sqlite_text(sql: &str) -> String {
    sql.replace('$', "?")
}

impl Store {
    /// A person of `tenant_id` (not one still importing), their key and ledger, and
    /// with `fields` their current field values, all from one snapshot.
    pub async fn subject_bundle(
        &self,
        tenant_id: &str,
        subject_id: &str,
        fields: bool,
    ) -> Result<Option<SubjectBundle>> {
        if let Some(readers) = &self.readers {
            let (tenant_id, subject_id) = (tenant_id.to_string(), subject_id.to_string());
            return readers
                .run(move |tx| sqlite_bundle(tx, &tenant_id, &subject_id, fields))
                .await;
        }
        let mut tx = self.read().await?;
        let row: Option<SubjectTuple> = sqlx::query_as(SUBJECT_AND_KEY)
            .bind(subject_id)
            .bind(tenant_id)
            .fetch_optional(&mut *tx.inner)
            .await?;
        let Some((subject, key)) = row.map(subject_from) else {
            return Ok(None);
        };
        let consents = sqlx::query_as(CONSENTS)
            .bind(subject_id)
            .bind(tenant_id)
            .fetch_all(&mut *tx.inner)
            .await?
            .into_iter()
            .map(consent_from)
            .collect();
        let fields = if fields {
            sqlx::query_as(CURRENT_FIELDS)
                .bind(subject_id)
                .bind(tenant_id)
                .fetch_all(&mut *tx.inner)
                .await?
                .into_iter()
                .map(field_from)
                .collect()
        } else {
            Vec::new()
        };
        Ok(Some(SubjectBundle {
            subject,
            key,
            consents,
            fields,
        }))
    }

    /// The active subject of `tenant_id` whose identifier of `kind` has blind index
    /// `bidx`: one indexed statement.
    pub async fn lookup_subject(
        &self,
        tenant_id: &str,
        kind: &str,
        bidx: &[u8],
    ) -> Result<Option<String>> {
        if let Some(readers) = &self.readers {
            let (tenant_id, kind, bidx) = (tenant_id.to_string(), kind.to_string(), bidx.to_vec());
            return readers
                .run(move |tx| {
                    use rusqlite::OptionalExtension;
                    tx.prepare_cached(&sqlite_text(LOOKUP))?
                        .query_row((&tenant_id, &kind, &bidx), FromRow::from_row)
                        .optional()
                        .map(|r| r.map(|(id,)| id))
                })
                .await;
        }
        let row: Option<(String,)> = sqlx::query_as(LOOKUP)
            .bind(tenant_id)
            .bind(kind)
            .bind(bidx)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.0))
    }
}

fn sqlite_bundle(
    tx: &rusqlite::Transaction<'_>,
    tenant_id: &str,
    subject_id: &str,
    with_fields: bool,
) -> rusqlite::Result<Option<SubjectBundle>> {
    use rusqlite::OptionalExtension;
    let row = tx
        .prepare_cached(&sqlite_text(SUBJECT_AND_KEY))?
        .query_row((subject_id, tenant_id), FromRow::from_row)
        .optional()?;
    let Some((subject, key)) = row.map(subject_from) else {
        return Ok(None);
    };
    let consents = tx
        .prepare_cached(&sqlite_text(CONSENTS))?
        .query_map((subject_id, tenant_id), |r| {
            FromRow::from_row(r).map(consent_from)
        })?
        .collect::<rusqlite::Result<Vec<ConsentRow>>>()?;
    let fields = if with_fields {
        tx.prepare_cached(&sqlite_text(CURRENT_FIELDS))?
            .query_map((subject_id, tenant_id), |r| {
                FromRow::from_row(r).map(field_from)
            })?
            .collect::<rusqlite::Result<Vec<FieldRow>>>()?
    } else {
        Vec::new()
    };
    Ok(Some(SubjectBundle {
        subject,
        key,
        consents,
        fields,
    }))
}
