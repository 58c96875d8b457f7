//! Policy changes (S5): each version's diff from the one before, the notices that
//! told the tenant's administrators, and who holds data in a category.

use crate::{Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyChangeRow {
    pub tenant_id: String,
    pub version: i64,
    pub previous_version: Option<i64>,
    /// JSON: the diff, its summary and the purposes that need fresh consent.
    pub changes: String,
    pub affected_subjects: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyNoticeRow {
    pub id: String,
    pub tenant_id: String,
    pub version: i64,
    /// The administrators' address (an organisation's contact, not a person's data).
    pub address: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub message_id: Option<String>,
}

type ChangeTuple = (String, i64, Option<i64>, String, i64);

fn change_from(t: ChangeTuple) -> PolicyChangeRow {
    PolicyChangeRow {
        tenant_id: t.0,
        version: t.1,
        previous_version: t.2,
        changes: t.3,
        affected_subjects: t.4,
    }
}

type NoticeTuple = (
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

fn notice_from(t: NoticeTuple) -> PolicyNoticeRow {
    PolicyNoticeRow {
        id: t.0,
        tenant_id: t.1,
        version: t.2,
        address: t.3,
        subject: t.4,
        text: t.5,
        html: t.6,
        created_at: t.7,
        sent_at: t.8,
        message_id: t.9,
    }
}

/// `category` itself or anything below it, as a LIKE pattern with `\` escaping.
fn below(category: &str) -> String {
    let mut p = String::with_capacity(category.len() + 3);
    for c in category.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push_str(".%");
    p
}

impl Tx {
    pub async fn insert_policy_change(&mut self, c: &PolicyChangeRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO policy_changes (tenant_id, version, previous_version, changes, affected_subjects)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&c.tenant_id)
        .bind(c.version)
        .bind(c.previous_version)
        .bind(&c.changes)
        .bind(c.affected_subjects)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn policy_change(
        &mut self,
        tenant_id: &str,
        version: i64,
    ) -> Result<Option<PolicyChangeRow>> {
        let row: Option<ChangeTuple> = sqlx::query_as(
            "SELECT tenant_id, version, previous_version, changes, affected_subjects
             FROM policy_changes WHERE tenant_id = $1 AND version = $2",
        )
        .bind(tenant_id)
        .bind(version)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(change_from))
    }

    /// Every recorded change of a tenant's policy, oldest first.
    pub async fn policy_changes(&mut self, tenant_id: &str) -> Result<Vec<PolicyChangeRow>> {
        let rows: Vec<ChangeTuple> = sqlx::query_as(
            "SELECT tenant_id, version, previous_version, changes, affected_subjects
             FROM policy_changes WHERE tenant_id = $1 ORDER BY version",
        )
        .bind(tenant_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(change_from).collect())
    }

    pub async fn insert_policy_notice(&mut self, n: &PolicyNoticeRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO policy_notices (id, tenant_id, version, address, subject, text, html, created_at, sent_at, message_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&n.id)
        .bind(&n.tenant_id)
        .bind(n.version)
        .bind(&n.address)
        .bind(&n.subject)
        .bind(&n.text)
        .bind(&n.html)
        .bind(n.created_at)
        .bind(n.sent_at)
        .bind(&n.message_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn mark_policy_notice_sent(
        &mut self,
        id: &str,
        at: i64,
        message_id: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE policy_notices SET sent_at = $1, message_id = $2 WHERE id = $3")
            .bind(at)
            .bind(message_id)
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// The administrators' notices of one version, oldest first.
    pub async fn policy_notices(
        &mut self,
        tenant_id: &str,
        version: i64,
    ) -> Result<Vec<PolicyNoticeRow>> {
        let rows: Vec<NoticeTuple> = sqlx::query_as(
            "SELECT id, tenant_id, version, address, subject, text, html, created_at, sent_at, message_id
             FROM policy_notices WHERE tenant_id = $1 AND version = $2 ORDER BY created_at, id",
        )
        .bind(tenant_id)
        .bind(version)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(notice_from).collect())
    }

    /// The active subjects of `tenant_id` holding a current field in `category` or
    /// below it. Ids only; nothing is opened.
    pub async fn holders_of(&mut self, tenant_id: &str, category: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT f.subject_id FROM fields f JOIN subjects s ON s.id = f.subject_id
             WHERE f.tenant_id = $1 AND f.superseded_at IS NULL AND s.status = 'active'
               AND (f.category = $2 OR f.category LIKE $3 ESCAPE '\\')",
        )
        .bind(tenant_id)
        .bind(category)
        .bind(below(category))
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}
