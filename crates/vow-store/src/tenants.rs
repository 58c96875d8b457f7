use crate::{Result, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub controller_name: Option<String>,
    pub controller_contact: Option<String>,
    pub created_at: i64,
    /// The tenant's blind-index key, wrapped by the root key.
    pub index_key: Vec<u8>,
    /// The KEK version new subject keys are wrapped with.
    pub kek_version: i64,
}

type Tuple = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    Vec<u8>,
    i64,
);

fn from_tuple(t: Tuple) -> TenantRow {
    TenantRow {
        id: t.0,
        name: t.1,
        role: t.2,
        controller_name: t.3,
        controller_contact: t.4,
        created_at: t.5,
        index_key: t.6,
        kek_version: t.7,
    }
}

impl Tx {
    pub async fn insert_tenant(&mut self, t: &TenantRow) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO tenants (id, name, role, controller_name, controller_contact, created_at, index_key, kek_version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(&t.role)
        .bind(&t.controller_name)
        .bind(&t.controller_contact)
        .bind(t.created_at)
        .bind(&t.index_key)
        .bind(t.kek_version)
        .execute(&mut *self.inner)
        .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = StoreError::from(e);
                if e.is_unique_violation() {
                    Err(StoreError::Conflict("tenant"))
                } else {
                    Err(e)
                }
            }
        }
    }

    pub async fn tenant(&mut self, id: &str) -> Result<Option<TenantRow>> {
        let row: Option<Tuple> = sqlx::query_as(
            "SELECT id, name, role, controller_name, controller_contact, created_at, index_key, kek_version
             FROM tenants WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(from_tuple))
    }

    pub async fn tenants(&mut self) -> Result<Vec<TenantRow>> {
        let rows: Vec<Tuple> = sqlx::query_as(
            "SELECT id, name, role, controller_name, controller_contact, created_at, index_key, kek_version
             FROM tenants ORDER BY id",
        )
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows.into_iter().map(from_tuple).collect())
    }

    /// `redirect` or `forward_assist` (for processor tenants).
    pub async fn request_handling(&mut self, id: &str) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT request_handling FROM tenants WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *self.inner)
                .await?;
        Ok(row.map(|r| r.0))
    }

    pub async fn set_request_handling(&mut self, id: &str, mode: &str) -> Result<()> {
        sqlx::query("UPDATE tenants SET request_handling = $1 WHERE id = $2")
            .bind(mode)
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn set_tenant_kek_version(&mut self, id: &str, version: i64) -> Result<()> {
        sqlx::query("UPDATE tenants SET kek_version = $1 WHERE id = $2")
            .bind(version)
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }
}
