//! Documents uploaded with a request (migration 0012): sealed bytes, with their type
//! and size in the clear.

use crate::{Result, Tx};

/// A document of a request. `sealed` is empty in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    pub id: String,
    pub request_id: String,
    /// `pdf`, `png` or `jpeg`.
    pub kind: String,
    pub size: i64,
    pub sealed: Vec<u8>,
    pub created_at: i64,
    /// `pending` (awaiting the privacy team's review), `accepted` or `rejected`.
    pub review: String,
    pub reviewed_at: Option<i64>,
}

impl Tx {
    pub async fn insert_document(&mut self, d: &DocumentRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO request_documents (id, request_id, kind, size, sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&d.id)
        .bind(&d.request_id)
        .bind(&d.kind)
        .bind(d.size)
        .bind(&d.sealed)
        .bind(d.created_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// A request's documents, oldest first, without their bytes.
    pub async fn documents(&mut self, request_id: &str) -> Result<Vec<DocumentRow>> {
        let rows: Vec<(String, String, i64, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, kind, size, created_at, review, reviewed_at FROM request_documents WHERE request_id = $1 ORDER BY created_at, id",
        )
        .bind(request_id)
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DocumentRow {
                id: r.0,
                request_id: request_id.to_string(),
                kind: r.1,
                size: r.2,
                sealed: Vec::new(),
                created_at: r.3,
                review: r.4,
                reviewed_at: r.5,
            })
            .collect())
    }

    /// One document of a request, with its sealed bytes.
    pub async fn document(&mut self, request_id: &str, id: &str) -> Result<Option<DocumentRow>> {
        let row: Option<(String, i64, Vec<u8>, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT kind, size, sealed, created_at, review, reviewed_at FROM request_documents WHERE request_id = $1 AND id = $2",
        )
        .bind(request_id)
        .bind(id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| DocumentRow {
            id: id.to_string(),
            request_id: request_id.to_string(),
            kind: r.0,
            size: r.1,
            sealed: r.2,
            created_at: r.3,
            review: r.4,
            reviewed_at: r.5,
        }))
    }

    /// Record the review of a document that awaits it. False when it no longer did
    /// (reviewed meanwhile): nothing changed.
    pub async fn review_document(
        &mut self,
        request_id: &str,
        id: &str,
        review: &str,
        at: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE request_documents SET review = $1, reviewed_at = $2 WHERE request_id = $3 AND id = $4 AND review = 'pending'",
        )
        .bind(review)
        .bind(at)
        .bind(request_id)
        .bind(id)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many of a request's documents await review.
    pub async fn documents_pending(&mut self, request_id: &str) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM request_documents WHERE request_id = $1 AND review = 'pending'",
        )
        .bind(request_id)
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(n)
    }
}
