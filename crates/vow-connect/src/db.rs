//! A pool per connection, with a concurrency limit and a count of the statements
//! sent. Every statement Vow sends to an organisation's database goes through
//! [`Db::fetch`] or [`Db::transaction`]: values are always bound as parameters, and
//! identifiers are quoted here by the driver's rules after the plan has checked them
//! against the live schema.

use crate::error::ConnectError;
use crate::target::{Kind, Target};
use crate::value::Value;
use sqlx::Row;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// The database's own description of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub kind: Kind,
    pub version: String,
}

/// The tables of the connected database (PostgreSQL: its current schema).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveSchema {
    pub tables: BTreeMap<String, Vec<Column>>,
}

impl LiveSchema {
    pub fn column(&self, table: &str, column: &str) -> Option<&Column> {
        self.tables.get(table)?.iter().find(|c| c.name == column)
    }
}

/// One column of a live table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The database's name for the type (`int4`, `varchar`, `tinyint(1)`, `TEXT`, …).
    pub sql_type: String,
    pub kind: ColumnKind,
    pub nullable: bool,
    /// Characters a text column holds at most, when the database says.
    pub max_length: Option<u64>,
}

pub use crate::value::ColumnKind;

enum Pool {
    Pg(PgPool),
    My(MySqlPool),
    Lite(SqlitePool),
}

struct Inner {
    kind: Kind,
    pool: Pool,
    permits: Semaphore,
    statements: AtomicU64,
}

/// A connection pool to one database. Cloning shares the pool, limit and counter.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

/// The kind and the count only: nothing of the connection's settings.
impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("kind", &self.inner.kind)
            .field("statements", &self.statements())
            .finish_non_exhaustive()
    }
}

/// Bind every value of `params` to a sqlx query, by the value's type.
macro_rules! bind_all {
    ($query:expr, $params:expr) => {{
        let mut q = $query;
        for p in $params {
            q = match p {
                Value::Null => q.bind(None::<String>),
                Value::Bool(b) => q.bind(*b),
                Value::Int(i) => q.bind(*i),
                Value::Float(f) => q.bind(*f),
                Value::Text(s) | Value::Date(s) | Value::Time(s) | Value::Timestamp(s) => {
                    q.bind(s.as_str())
                }
                Value::Json(j) => q.bind(j.to_string()),
                Value::Bytes(b) => q.bind(b.as_slice()),
            };
        }
        q
    }};
}

/// Every column of every row as text (`None` for NULL).
macro_rules! text_rows {
    ($rows:expr) => {
        $rows
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.try_get::<Option<String>, _>(i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()
    };
}

impl Db {
    /// A pool of at most `max_concurrency` connections, each statement waiting for
    /// one of as many permits. Connections are made when first needed: [`Db::ping`]
    /// says whether the database can be reached.
    pub async fn open(target: &Target, max_concurrency: u32) -> Result<Db, ConnectError> {
        if max_concurrency == 0 || max_concurrency > 1000 {
            return Err(ConnectError::new(
                "limit",
                "max_concurrency is between 1 and 1000",
            ));
        }
        let bad = |_| ConnectError::new("bad_url", "the connection settings are not valid");
        // Connecting is retried until then: an unreachable server answers in this time.
        let timeout = Duration::from_secs(5);
        let pool = match target.kind() {
            Kind::Postgres => Pool::Pg(
                PgPoolOptions::new()
                    .max_connections(max_concurrency)
                    .acquire_timeout(timeout)
                    .connect_lazy_with(PgConnectOptions::from_str(target.url()).map_err(bad)?),
            ),
            Kind::Mysql => Pool::My(
                MySqlPoolOptions::new()
                    .max_connections(max_concurrency)
                    .acquire_timeout(timeout)
                    .connect_lazy_with(MySqlConnectOptions::from_str(target.url()).map_err(bad)?),
            ),
            Kind::Sqlite => Pool::Lite(
                SqlitePoolOptions::new()
                    .max_connections(max_concurrency)
                    .acquire_timeout(timeout)
                    .connect_lazy_with(SqliteConnectOptions::from_str(target.url()).map_err(bad)?),
            ),
        };
        Ok(Db {
            inner: Arc::new(Inner {
                kind: target.kind(),
                pool,
                permits: Semaphore::new(max_concurrency as usize),
                statements: AtomicU64::new(0),
            }),
        })
    }

    pub fn kind(&self) -> Kind {
        self.inner.kind
    }

    /// SQL statements sent so far (a transaction's BEGIN and COMMIT not counted).
    pub fn statements(&self) -> u64 {
        self.inner.statements.load(Ordering::Relaxed)
    }

    /// A real round trip: the server's version.
    pub async fn ping(&self) -> Result<ServerInfo, ConnectError> {
        let sql = match self.kind() {
            Kind::Postgres => "SELECT version()",
            Kind::Mysql => "SELECT CAST(VERSION() AS CHAR)",
            Kind::Sqlite => "SELECT sqlite_version()",
        };
        let rows = self.fetch("connection", sql, &[]).await?;
        let version = rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
            .unwrap_or_default();
        Ok(ServerInfo {
            kind: self.kind(),
            version,
        })
    }

    /// `name` quoted as an identifier by the driver's rules.
    pub(crate) fn quote(&self, name: &str) -> String {
        match self.kind() {
            Kind::Mysql => format!("`{}`", name.replace('`', "``")),
            Kind::Postgres | Kind::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// Run one query; every column read as text. `what` names the collection in errors.
    pub(crate) async fn fetch(
        &self,
        what: &str,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<Vec<Option<String>>>, ConnectError> {
        let _permit =
            self.inner.permits.acquire().await.map_err(|_| {
                ConnectError::new("unreachable", format!("{what}: the pool is closed"))
            })?;
        self.inner.statements.fetch_add(1, Ordering::Relaxed);
        let err = |e: sqlx::Error| ConnectError::driver(what, &e);
        let rows = match &self.inner.pool {
            Pool::Pg(p) => {
                let rows = bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.to_string())), params)
                    .fetch_all(p)
                    .await
                    .map_err(err)?;
                text_rows!(rows)
            }
            Pool::My(p) => {
                let rows = bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.to_string())), params)
                    .fetch_all(p)
                    .await
                    .map_err(err)?;
                text_rows!(rows)
            }
            Pool::Lite(p) => {
                let rows = bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.to_string())), params)
                    .fetch_all(p)
                    .await
                    .map_err(err)?;
                text_rows!(rows)
            }
        };
        rows.map_err(err)
    }

    /// Run statements in one transaction: all or nothing. Returns the rows they changed.
    pub(crate) async fn transaction(
        &self,
        what: &str,
        statements: &[(String, Vec<Value>)],
    ) -> Result<u64, ConnectError> {
        let _permit =
            self.inner.permits.acquire().await.map_err(|_| {
                ConnectError::new("unreachable", format!("{what}: the pool is closed"))
            })?;
        let err = |e: sqlx::Error| ConnectError::driver(what, &e);
        let mut changed = 0;
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await.map_err(err)?;
                for (sql, params) in statements {
                    self.inner.statements.fetch_add(1, Ordering::Relaxed);
                    let done = bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.to_string())), params)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                    changed += done.rows_affected();
                }
                tx.commit().await.map_err(err)?;
            }};
        }
        match &self.inner.pool {
            Pool::Pg(p) => run!(p),
            Pool::My(p) => run!(p),
            Pool::Lite(p) => run!(p),
        }
        Ok(changed)
    }

    /// The tables and columns of the connected database.
    pub async fn schema(&self) -> Result<LiveSchema, ConnectError> {
        let mut schema = LiveSchema::default();
        match self.kind() {
            Kind::Postgres => {
                let rows = self
                    .fetch(
                        "schema",
                        "SELECT c.table_name::text, c.column_name::text, c.udt_name::text, \
                         c.is_nullable::text, c.character_maximum_length::text \
                         FROM information_schema.columns c \
                         JOIN information_schema.tables t \
                           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
                         ORDER BY c.table_name, c.ordinal_position",
                        &[],
                    )
                    .await?;
                for r in rows {
                    let [Some(table), Some(name), Some(udt), Some(nullable), length] =
                        <[Option<String>; 5]>::try_from(r).unwrap_or_default()
                    else {
                        continue;
                    };
                    schema.tables.entry(table).or_default().push(Column {
                        name,
                        kind: pg_kind(&udt),
                        sql_type: udt,
                        nullable: nullable == "YES",
                        max_length: length.and_then(|l| l.parse().ok()),
                    });
                }
            }
            Kind::Mysql => {
                let rows = self
                    .fetch(
                        "schema",
                        "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), \
                         CAST(DATA_TYPE AS CHAR), CAST(COLUMN_TYPE AS CHAR), \
                         CAST(IS_NULLABLE AS CHAR), CAST(CHARACTER_MAXIMUM_LENGTH AS CHAR) \
                         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
                         ORDER BY TABLE_NAME, ORDINAL_POSITION",
                        &[],
                    )
                    .await?;
                // MariaDB's JSON is LONGTEXT with a json_valid() check.
                let checks = self
                    .fetch(
                        "schema",
                        "SELECT CAST(TABLE_NAME AS CHAR), CAST(CHECK_CLAUSE AS CHAR) \
                         FROM information_schema.CHECK_CONSTRAINTS \
                         WHERE CONSTRAINT_SCHEMA = DATABASE()",
                        &[],
                    )
                    .await
                    .unwrap_or_default();
                for r in rows {
                    let [
                        Some(table),
                        Some(name),
                        Some(data),
                        Some(full),
                        Some(nullable),
                        length,
                    ] = <[Option<String>; 6]>::try_from(r).unwrap_or_default()
                    else {
                        continue;
                    };
                    let json_check = format!("json_valid(`{name}`)");
                    let is_json = checks.iter().any(|c| {
                        c.first()
                            .is_some_and(|t| t.as_deref() == Some(table.as_str()))
                            && c.get(1).is_some_and(|k| {
                                k.as_deref().is_some_and(|k| k.contains(&json_check))
                            })
                    });
                    let kind = if is_json {
                        ColumnKind::Json
                    } else {
                        mysql_kind(&data, &full)
                    };
                    schema.tables.entry(table).or_default().push(Column {
                        name,
                        kind,
                        sql_type: full,
                        nullable: nullable == "YES",
                        max_length: length.and_then(|l| l.parse().ok()),
                    });
                }
            }
            Kind::Sqlite => {
                let tables = self
                    .fetch(
                        "schema",
                        "SELECT name FROM sqlite_master WHERE type = 'table' \
                         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                        &[],
                    )
                    .await?;
                for t in tables
                    .into_iter()
                    .filter_map(|r| r.into_iter().next().flatten())
                {
                    let cols = self
                        .fetch(
                            "schema",
                            "SELECT name, type, CAST(\"notnull\" AS TEXT), CAST(pk AS TEXT) \
                             FROM pragma_table_info(?) ORDER BY cid",
                            &[Value::Text(t.clone())],
                        )
                        .await?;
                    let mut columns = Vec::new();
                    for r in cols {
                        let [Some(name), declared, notnull, pk] =
                            <[Option<String>; 4]>::try_from(r).unwrap_or_default()
                        else {
                            continue;
                        };
                        let declared = declared.unwrap_or_default();
                        let (kind, max_length) = sqlite_kind(&declared);
                        columns.push(Column {
                            name,
                            kind,
                            sql_type: declared,
                            nullable: notnull.as_deref() != Some("1") && pk.as_deref() == Some("0"),
                            max_length,
                        });
                    }
                    schema.tables.insert(t, columns);
                }
            }
        }
        Ok(schema)
    }
}

fn pg_kind(udt: &str) -> ColumnKind {
    match udt {
        "int2" | "int4" | "int8" => ColumnKind::Integer,
        "float4" | "float8" => ColumnKind::Float,
        "numeric" | "money" => ColumnKind::Decimal,
        "bool" => ColumnKind::Bool,
        "date" => ColumnKind::Date,
        "time" | "timetz" => ColumnKind::Time,
        "timestamp" | "timestamptz" => ColumnKind::Timestamp,
        "json" | "jsonb" => ColumnKind::Json,
        "bytea" => ColumnKind::Bytes,
        "uuid" => ColumnKind::Uuid,
        "text" | "varchar" | "bpchar" | "citext" | "name" => ColumnKind::Text,
        _ => ColumnKind::Other,
    }
}

fn mysql_kind(data: &str, full: &str) -> ColumnKind {
    match data.to_ascii_lowercase().as_str() {
        "tinyint" if full.to_ascii_lowercase().starts_with("tinyint(1)") => ColumnKind::Bool,
        "bool" | "boolean" => ColumnKind::Bool,
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => {
            ColumnKind::Integer
        }
        "float" | "double" | "real" => ColumnKind::Float,
        "decimal" | "numeric" => ColumnKind::Decimal,
        "date" => ColumnKind::Date,
        "time" => ColumnKind::Time,
        "datetime" | "timestamp" => ColumnKind::Timestamp,
        "json" => ColumnKind::Json,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" => {
            ColumnKind::Text
        }
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            ColumnKind::Bytes
        }
        "uuid" => ColumnKind::Uuid,
        _ => ColumnKind::Other,
    }
}

/// SQLite's declared type, read by the affinity rules plus the names people use for
/// dates, booleans and JSON.
fn sqlite_kind(declared: &str) -> (ColumnKind, Option<u64>) {
    let t = declared.to_ascii_uppercase();
    let length = t
        .split_once('(')
        .and_then(|(_, r)| r.trim_end_matches(')').trim().parse().ok());
    let kind = if t.starts_with("JSON") {
        ColumnKind::Json
    } else if t.starts_with("BOOL") {
        ColumnKind::Bool
    } else if t.starts_with("DATETIME") || t.starts_with("TIMESTAMP") {
        ColumnKind::Timestamp
    } else if t == "DATE" {
        ColumnKind::Date
    } else if t == "TIME" {
        ColumnKind::Time
    } else if t == "UUID" {
        ColumnKind::Uuid
    } else if t.contains("INT") {
        ColumnKind::Integer
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        ColumnKind::Text
    } else if t.contains("BLOB") {
        ColumnKind::Bytes
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        ColumnKind::Float
    } else if t.starts_with("NUMERIC") || t.starts_with("DECIMAL") {
        ColumnKind::Decimal
    } else {
        ColumnKind::Other
    };
    (
        kind,
        if kind == ColumnKind::Text {
            length
        } else {
            None
        },
    )
}

/// The SQL that reads column `q` (quoted) as text, by kind and driver.
pub(crate) fn read_as_text(kind: Kind, column: ColumnKind, q: &str) -> String {
    match (kind, column) {
        (Kind::Postgres, ColumnKind::Bytes) => format!("encode({q}, 'hex')"),
        (Kind::Postgres, _) => format!("{q}::text"),
        (Kind::Mysql, ColumnKind::Bytes) => format!("HEX({q})"),
        (Kind::Mysql, _) => format!("CAST({q} AS CHAR)"),
        (Kind::Sqlite, ColumnKind::Bytes) => format!("lower(hex({q}))"),
        (Kind::Sqlite, _) => format!("CAST({q} AS TEXT)"),
    }
}

/// The placeholder for parameter `n` (1-based) bound for a column: PostgreSQL casts
/// it to the column's type so that NULLs and text-carried values (dates, numerics)
/// are typed; MySQL and SQLite convert on their own.
pub(crate) fn placeholder(kind: Kind, column: &Column, n: usize) -> String {
    match kind {
        Kind::Mysql | Kind::Sqlite => "?".to_string(),
        Kind::Postgres => {
            let ty = match column.kind {
                ColumnKind::Text => "text",
                ColumnKind::Integer => "bigint",
                ColumnKind::Float => "double precision",
                ColumnKind::Decimal => "numeric",
                ColumnKind::Bool => "boolean",
                ColumnKind::Date => "date",
                ColumnKind::Time => "time",
                ColumnKind::Timestamp if column.sql_type == "timestamptz" => "timestamptz",
                ColumnKind::Timestamp => "timestamp",
                ColumnKind::Json if column.sql_type == "json" => "json",
                ColumnKind::Json => "jsonb",
                ColumnKind::Bytes => "bytea",
                ColumnKind::Uuid => "uuid",
                // The catalog's own type name, when it is a plain identifier.
                ColumnKind::Other
                    if !column.sql_type.is_empty()
                        && column
                            .sql_type
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') =>
                {
                    column.sql_type.as_str()
                }
                ColumnKind::Other => "text",
            };
            format!("CAST(${n} AS {ty})")
        }
    }
}
