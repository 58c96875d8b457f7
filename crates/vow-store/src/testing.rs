//! Throwaway PostgreSQL databases for tests: each run makes its own uniquely named
//! database on the server named by `VOW_TEST_PG_URL` (default: the local server),
//! so parallel runs never collide, and drops it afterwards.

use crate::{Result, StoreError};
use sqlx::{AnyConnection, Connection};

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database created for one test. Call [`PgTestDb::drop_db`] at the end.
#[derive(Debug)]
pub struct PgTestDb {
    pub url: String,
    admin_url: String,
    name: String,
}

/// Whether the PostgreSQL tests were explicitly switched off (`VOW_SKIP_PG=1`).
/// They are on by default: a missing server is a failure, not a silent skip.
pub fn pg_skipped() -> bool {
    std::env::var("VOW_SKIP_PG").is_ok_and(|v| v == "1")
}

impl PgTestDb {
    pub async fn create() -> Result<PgTestDb> {
        sqlx::any::install_default_drivers();
        let admin_url =
            std::env::var("VOW_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string());
        let name = format!("vow_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = AnyConnection::connect(&admin_url)
            .await
            .map_err(StoreError::Connect)?;
        // The name is made here from a UUID, never from input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        Ok(PgTestDb {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        })
    }

    pub async fn drop_db(self) -> Result<()> {
        let mut conn = AnyConnection::connect(&self.admin_url)
            .await
            .map_err(StoreError::Connect)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        Ok(())
    }
}
