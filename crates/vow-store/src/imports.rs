//! Imports committed in batches: their subjects stay invisible (`importing`) until
//! the import commits, and are removed together if it fails or is abandoned.

use crate::{Result, SubjectRow, Tx};

/// The subjects table's status of a subject whose import has not committed yet.
pub const IMPORTING: &str = "importing";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub id: String,
    pub tenant_id: String,
    pub actor: String,
    /// `running`, `committed` or `failed`.
    pub state: String,
    pub started_at: i64,
    pub heartbeat_at: i64,
    pub finished_at: Option<i64>,
    pub imported: i64,
    pub bad_rows: i64,
}

type ImportTuple = (
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    i64,
    i64,
);

fn import_from(t: ImportTuple) -> ImportRow {
    ImportRow {
        id: t.0,
        tenant_id: t.1,
        actor: t.2,
        state: t.3,
        started_at: t.4,
        heartbeat_at: t.5,
        finished_at: t.6,
        imported: t.7,
        bad_rows: t.8,
    }
}

macro_rules! columns {
    () => {
        "id, tenant_id, actor, state, started_at, heartbeat_at, finished_at, imported, bad_rows"
    };
}

/// The same first `limit` ids of an unfinished import in every statement of one transaction.
macro_rules! some_importing {
    () => {
        "(SELECT id FROM subjects WHERE import_id = $1 AND status = 'importing' ORDER BY id LIMIT $2)"
    };
}

/// A subject's rows, children first, then the subject.
const REMOVE: &[&str] = &[
    concat!(
        "DELETE FROM consents WHERE subject_id IN ",
        some_importing!()
    ),
    concat!("DELETE FROM fields WHERE subject_id IN ", some_importing!()),
    concat!(
        "DELETE FROM identifiers WHERE subject_id IN ",
        some_importing!()
    ),
    concat!(
        "DELETE FROM subject_keys WHERE subject_id IN ",
        some_importing!()
    ),
    concat!("DELETE FROM subjects WHERE id IN ", some_importing!()),
];

impl Tx {
    pub async fn start_import(
        &mut self,
        id: &str,
        tenant_id: &str,
        actor: &str,
        at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO imports (id, tenant_id, actor, state, started_at, heartbeat_at) VALUES ($1, $2, $3, 'running', $4, $4)",
        )
        .bind(id)
        .bind(tenant_id)
        .bind(actor)
        .bind(at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Record progress of a running import. False when it is no longer running (it
    /// was found abandoned and removed by another process): the caller stops.
    pub async fn touch_import(
        &mut self,
        id: &str,
        at: i64,
        imported: i64,
        bad_rows: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE imports SET heartbeat_at = $1, imported = $2, bad_rows = $3 WHERE id = $4 AND state = 'running'",
        )
        .bind(at)
        .bind(imported)
        .bind(bad_rows)
        .bind(id)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A subject written by a running import: invisible until [`Tx::commit_import`].
    pub async fn insert_importing_subject(
        &mut self,
        s: &SubjectRow,
        import_id: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO subjects (id, tenant_id, created_at, birth_date, status, import_id) VALUES ($1, $2, $3, $4, 'importing', $5)",
        )
        .bind(&s.id)
        .bind(&s.tenant_id)
        .bind(s.created_at)
        .bind(&s.birth_date)
        .bind(import_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Make every subject of a running import active at once, and mark it committed.
    /// Returns how many subjects became visible; None if it was not running.
    pub async fn commit_import(
        &mut self,
        id: &str,
        at: i64,
        imported: i64,
        bad_rows: i64,
    ) -> Result<Option<u64>> {
        let marked = sqlx::query(
            "UPDATE imports SET state = 'committed', finished_at = $1, heartbeat_at = $1, imported = $2, bad_rows = $3
             WHERE id = $4 AND state = 'running'",
        )
        .bind(at)
        .bind(imported)
        .bind(bad_rows)
        .bind(id)
        .execute(&mut *self.inner)
        .await?;
        if marked.rows_affected() != 1 {
            return Ok(None);
        }
        let done = sqlx::query(
            "UPDATE subjects SET status = 'active' WHERE import_id = $1 AND status = 'importing'",
        )
        .bind(id)
        .execute(&mut *self.inner)
        .await?;
        Ok(Some(done.rows_affected()))
    }

    /// Mark an import failed: its subjects stay invisible and are removed next.
    /// False if it had already finished.
    pub async fn fail_import(&mut self, id: &str, at: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE imports SET state = 'failed', finished_at = $1 WHERE id = $2 AND state = 'running'",
        )
        .bind(at)
        .bind(id)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Remove up to `limit` of an unfinished import's subjects with all their rows.
    /// Returns how many subjects were removed (0 when none are left).
    pub async fn remove_import_subjects(&mut self, import_id: &str, limit: i64) -> Result<u64> {
        let mut removed = 0;
        for sql in REMOVE {
            let done = sqlx::query(*sql)
                .bind(import_id)
                .bind(limit)
                .execute(&mut *self.inner)
                .await?;
            removed = done.rows_affected();
        }
        // The last statement removed the subjects themselves.
        Ok(removed)
    }

    /// Imports whose subjects are still to be removed: failed ones, and running ones
    /// whose heartbeat stopped before `stale_before` (their process died).
    pub async fn unfinished_imports(&mut self, stale_before: i64) -> Result<Vec<ImportRow>> {
        let rows: Vec<ImportTuple> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM imports i
             WHERE (state = 'running' AND heartbeat_at < $1)
                OR (state = 'failed' AND EXISTS (SELECT 1 FROM subjects s WHERE s.import_id = i.id AND s.status = 'importing'))
             ORDER BY started_at"
        ))
        .bind(stale_before)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(import_from).collect())
    }

    /// A tenant's imports, newest first.
    pub async fn imports(&mut self, tenant_id: &str, limit: i64) -> Result<Vec<ImportRow>> {
        let rows: Vec<ImportTuple> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM imports WHERE tenant_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2"
        ))
        .bind(tenant_id)
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(import_from).collect())
    }

    pub async fn import(&mut self, tenant_id: &str, id: &str) -> Result<Option<ImportRow>> {
        let row: Option<ImportTuple> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM imports WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(import_from))
    }
}
