//! The breach register: incidents, the scope they cover, who they affected (by
//! pseudonymous subject id) and who has been told. Subjects' coarse residence.

use crate::{Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRow {
    pub id: String,
    pub tenant_id: String,
    pub discovered_at: i64,
    pub window_from: i64,
    pub window_to: i64,
    pub description: String,
    /// JSON: stores, categories, tenants, encryption.
    pub scope: String,
    /// JSON: the counts computed at assessment.
    pub impact: String,
    pub risk: String,
    pub affected: i64,
    pub created_at: i64,
    pub created_by: String,
    /// The earliest time the record may be deleted (nothing in Vow deletes it).
    pub keep_until: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentNotificationRow {
    pub id: String,
    pub incident_id: String,
    pub tenant_id: String,
    pub audience: String,
    pub at: i64,
    pub recorded_at: i64,
    pub recorded_by: String,
    /// Individuals' notices queued to the mail outbox by this notification.
    pub queued: i64,
    pub note: String,
}

/// Affected people of one category: (tenant, category, subjects, field records).
pub type CategoryCount = (String, String, i64, i64);

type IncidentTuple = (
    String,
    String,
    i64,
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    i64,
);

macro_rules! incident_columns {
    () => {
        "SELECT id, tenant_id, discovered_at, window_from, window_to, description, scope, impact, risk, affected, created_at, created_by, keep_until FROM incidents"
    };
}

fn incident_from(t: IncidentTuple) -> IncidentRow {
    IncidentRow {
        id: t.0,
        tenant_id: t.1,
        discovered_at: t.2,
        window_from: t.3,
        window_to: t.4,
        description: t.5,
        scope: t.6,
        impact: t.7,
        risk: t.8,
        affected: t.9,
        created_at: t.10,
        created_by: t.11,
        keep_until: t.12,
    }
}

/// The fields an incident covers: in its scope, collected by the window's end and
/// not superseded before its start. `$1` incident, `$2` window end, `$3` window start.
macro_rules! covered_fields {
    () => {
        "FROM incident_scope sc
         JOIN fields f ON f.tenant_id = sc.tenant_id AND f.store = sc.store AND f.category = sc.category
         WHERE sc.incident_id = $1 AND f.collected_at <= $2
           AND (f.superseded_at IS NULL OR f.superseded_at >= $3)"
    };
}

impl Tx {
    /// Set (or clear) a subject's coarse residence. Another tenant's subject is untouched.
    pub async fn set_subject_residence(
        &mut self,
        tenant_id: &str,
        subject_id: &str,
        residence: Option<&str>,
    ) -> Result<bool> {
        let done =
            sqlx::query("UPDATE subjects SET residence = $1 WHERE id = $2 AND tenant_id = $3")
                .bind(residence)
                .bind(subject_id)
                .bind(tenant_id)
                .execute(&mut *self.inner)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn subject_residence(
        &mut self,
        tenant_id: &str,
        subject_id: &str,
    ) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT residence FROM subjects WHERE id = $1 AND tenant_id = $2")
                .bind(subject_id)
                .bind(tenant_id)
                .fetch_optional(&mut *self.inner)
                .await?;
        Ok(row.and_then(|r| r.0))
    }

    pub async fn insert_incident(&mut self, i: &IncidentRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO incidents (id, tenant_id, discovered_at, window_from, window_to, description, scope, impact, risk, affected, created_at, created_by, keep_until)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&i.id)
        .bind(&i.tenant_id)
        .bind(i.discovered_at)
        .bind(i.window_from)
        .bind(i.window_to)
        .bind(&i.description)
        .bind(&i.scope)
        .bind(&i.impact)
        .bind(&i.risk)
        .bind(i.affected)
        .bind(i.created_at)
        .bind(&i.created_by)
        .bind(i.keep_until)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Record the computed impact of an incident inserted in this transaction.
    pub async fn set_incident_impact(
        &mut self,
        id: &str,
        impact: &str,
        risk: &str,
        affected: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE incidents SET impact = $1, risk = $2, affected = $3 WHERE id = $4")
            .bind(impact)
            .bind(risk)
            .bind(affected)
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn insert_incident_scope(
        &mut self,
        incident_id: &str,
        tenant_id: &str,
        store: &str,
        category: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO incident_scope (incident_id, tenant_id, store, category) VALUES ($1, $2, $3, $4)",
        )
        .bind(incident_id)
        .bind(tenant_id)
        .bind(store)
        .bind(category)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Freeze the affected people of an incident whose scope rows are written: one
    /// set-based statement. Returns how many there are.
    pub async fn fill_incident_subjects(
        &mut self,
        incident_id: &str,
        window_from: i64,
        window_to: i64,
    ) -> Result<i64> {
        // De-duplicate first (the covering index yields each category's people in
        // order), then look up each person once.
        let done = sqlx::query(concat!(
            "INSERT INTO incident_subjects (incident_id, tenant_id, subject_id, residence)
             SELECT CAST($1 AS TEXT), s.tenant_id, s.id, s.residence
             FROM (SELECT DISTINCT f.subject_id AS sid ",
            covered_fields!(),
            ") d JOIN subjects s ON s.id = d.sid AND s.status <> 'importing'"
        ))
        .bind(incident_id)
        .bind(window_to)
        .bind(window_from)
        .execute(&mut *self.inner)
        .await?;
        Ok(i64::try_from(done.rows_affected()).unwrap_or(i64::MAX))
    }

    /// Affected people and field records per (tenant, category) of an incident.
    pub async fn incident_category_counts(
        &mut self,
        incident_id: &str,
        window_from: i64,
        window_to: i64,
    ) -> Result<Vec<CategoryCount>> {
        // One correlated count per (tenant, category): each reads its own stretch of the
        // covering index, already in subject order, so no sort of the whole set.
        let rows: Vec<CategoryCount> = sqlx::query_as(
            "SELECT x.t, x.c,
               (SELECT COUNT(DISTINCT f.subject_id) FROM incident_scope sc
                  JOIN fields f ON f.tenant_id = sc.tenant_id AND f.store = sc.store AND f.category = sc.category
                  WHERE sc.incident_id = $1 AND sc.tenant_id = x.t AND sc.category = x.c
                    AND f.collected_at <= $2 AND (f.superseded_at IS NULL OR f.superseded_at >= $3)),
               (SELECT COUNT(*) FROM incident_scope sc
                  JOIN fields f ON f.tenant_id = sc.tenant_id AND f.store = sc.store AND f.category = sc.category
                  WHERE sc.incident_id = $1 AND sc.tenant_id = x.t AND sc.category = x.c
                    AND f.collected_at <= $2 AND (f.superseded_at IS NULL OR f.superseded_at >= $3))
             FROM (SELECT DISTINCT tenant_id AS t, category AS c FROM incident_scope WHERE incident_id = $1) x
             ORDER BY x.t, x.c",
        )
        .bind(incident_id)
        .bind(window_to)
        .bind(window_from)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows)
    }

    /// Affected people per (tenant, residence) of an incident.
    pub async fn incident_residence_counts(
        &mut self,
        incident_id: &str,
    ) -> Result<Vec<(String, Option<String>, i64)>> {
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT tenant_id, residence, COUNT(*) FROM incident_subjects WHERE incident_id = $1
             GROUP BY tenant_id, residence ORDER BY tenant_id, residence",
        )
        .bind(incident_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows)
    }

    /// The affected people of an incident in one tenant (pseudonymous ids).
    pub async fn incident_subject_ids(
        &mut self,
        incident_id: &str,
        tenant_id: &str,
    ) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT subject_id FROM incident_subjects WHERE incident_id = $1 AND tenant_id = $2 ORDER BY subject_id",
        )
        .bind(incident_id)
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// An incident of `tenant_id`; another tenant's is not found.
    pub async fn incident(&mut self, tenant_id: &str, id: &str) -> Result<Option<IncidentRow>> {
        let row: Option<IncidentTuple> = sqlx::query_as(concat!(
            incident_columns!(),
            " WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(incident_from))
    }

    /// A tenant's incidents, most recently discovered first.
    pub async fn incidents(&mut self, tenant_id: &str) -> Result<Vec<IncidentRow>> {
        let rows: Vec<IncidentTuple> = sqlx::query_as(concat!(
            incident_columns!(),
            " WHERE tenant_id = $1 ORDER BY discovered_at DESC, id DESC"
        ))
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(incident_from).collect())
    }

    pub async fn insert_incident_notification(
        &mut self,
        n: &IncidentNotificationRow,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO incident_notifications (id, incident_id, tenant_id, audience, at, recorded_at, recorded_by, queued, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&n.id)
        .bind(&n.incident_id)
        .bind(&n.tenant_id)
        .bind(&n.audience)
        .bind(n.at)
        .bind(n.recorded_at)
        .bind(&n.recorded_by)
        .bind(n.queued)
        .bind(&n.note)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Notifications of an incident, earliest first.
    pub async fn incident_notifications(
        &mut self,
        incident_id: &str,
    ) -> Result<Vec<IncidentNotificationRow>> {
        let rows: Vec<(String, String, String, String, i64, i64, String, i64, String)> =
            sqlx::query_as(
                "SELECT id, incident_id, tenant_id, audience, at, recorded_at, recorded_by, queued, note
                 FROM incident_notifications WHERE incident_id = $1 ORDER BY at, id",
            )
            .bind(incident_id)
            .fetch_all(&mut *self.inner)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| IncidentNotificationRow {
                id: r.0,
                incident_id: r.1,
                tenant_id: r.2,
                audience: r.3,
                at: r.4,
                recorded_at: r.5,
                recorded_by: r.6,
                queued: r.7,
                note: r.8,
            })
            .collect())
    }
}

/// The privacy team's text of an incident's notice to one audience (migration 0017).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeEditRow {
    pub incident_id: String,
    pub tenant_id: String,
    pub audience: String,
    pub subject: String,
    pub body: String,
    pub edited_at: i64,
    pub edited_by: String,
}

impl Tx {
    /// Keep (or replace) the edited text of a notice.
    pub async fn put_notice_edit(&mut self, e: &NoticeEditRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO incident_notice_edits (incident_id, tenant_id, audience, subject, body, edited_at, edited_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (incident_id, tenant_id, audience) DO UPDATE SET subject = excluded.subject, body = excluded.body, edited_at = excluded.edited_at, edited_by = excluded.edited_by",
        )
        .bind(&e.incident_id)
        .bind(&e.tenant_id)
        .bind(&e.audience)
        .bind(&e.subject)
        .bind(&e.body)
        .bind(e.edited_at)
        .bind(&e.edited_by)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The edited notices of an incident.
    pub async fn notice_edits(&mut self, incident_id: &str) -> Result<Vec<NoticeEditRow>> {
        let rows: Vec<(String, String, String, String, i64, String)> = sqlx::query_as(
            "SELECT tenant_id, audience, subject, body, edited_at, edited_by FROM incident_notice_edits WHERE incident_id = $1 ORDER BY tenant_id, audience",
        )
        .bind(incident_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| NoticeEditRow {
                incident_id: incident_id.to_string(),
                tenant_id: r.0,
                audience: r.1,
                subject: r.2,
                body: r.3,
                edited_at: r.4,
                edited_by: r.5,
            })
            .collect())
    }
}
