//! The example shop database of `examples/shop/dataset.yml` (cargo feature `shop`).
//! It is not test-only: `vow demo` makes its shop from it (step 10e), and the
//! integration tests (vow-connect's, `vow`'s `it/external.rs`) and the connector
//! benchmarks (`vow-bench-connectors`) use it too. Eight tables with foreign keys, a
//! reference chain four deep and mixed column types, filled with `customers` people
//! of about 50 rows each, deterministic from a seed, in a database of its own
//! (PostgreSQL and MariaDB: `vow_connect_<unique>` on the server of
//! `VOW_TEST_PG_URL` / `VOW_TEST_MYSQL_URL`, defaulting to the local servers; SQLite:
//! a temporary file), dropped by [`TestDb::drop_db`].

use crate::db::{Column, ColumnKind, Db, placeholder};
use crate::error::ConnectError;
use crate::target::{Kind, Target};
use crate::value::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const MYSQL_ADMIN_URL: &str = "mysql://root@127.0.0.1:3306/mysql";

/// Orders, items per order, cards, logins and visits per customer (with the
/// customer and two addresses: 50 rows).
pub const ORDERS: u64 = 5;
pub const ITEMS: u64 = 4;
pub const CARDS: u64 = 2;
pub const LOGINS: u64 = 15;
pub const VISITS: u64 = 5;
/// Products, shared by everyone: people buy the same ones.
pub const PRODUCTS: u64 = 40;

/// The example dataset plus three customer fields of other types (a boolean, a
/// numeric and an integer) so that masking is tested on every kind.
pub fn shop_dataset() -> String {
    let example = include_str!("../../../examples/shop/dataset.yml");
    example.replacen(
        "          - name: created_at\n            data_categories: [system.operations]\n",
        "          - name: created_at\n            data_categories: [system.operations]\n          - name: newsletter\n            data_categories: [user.behavior]\n          - name: credit\n            data_categories: [user.financial]\n          - name: points\n            data_categories: [user.behavior]\n",
        1,
    )
}

/// Customer `i`'s e-mail address (1-based).
pub fn email(i: u64) -> String {
    format!("customer{i}@shop.test")
}

/// Customer `i`'s phone number.
pub fn phone(i: u64) -> String {
    format!("+4479{i:08}")
}

/// A database made for one test.
#[derive(Debug)]
pub struct TestDb {
    pub target: Target,
    name: String,
    admin: Option<String>,
    _dir: Option<tempfile_dir::Dir>,
}

mod tempfile_dir {
    /// A directory removed when dropped.
    #[derive(Debug)]
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn unique() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    /// An empty database.
    pub async fn create(kind: Kind) -> Result<TestDb, ConnectError> {
        let name = format!("vow_connect_{}", unique());
        match kind {
            Kind::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir)
                    .map_err(|_| ConnectError::new("unreachable", "cannot make a temp dir"))?;
                let path = dir.join("shop.db");
                let target = Target::parse(&format!("sqlite://{}?mode=rwc", path.display()))?;
                Ok(TestDb {
                    target,
                    name,
                    admin: None,
                    _dir: Some(tempfile_dir::Dir(dir)),
                })
            }
            Kind::Postgres | Kind::Mysql => {
                let (var, default) = if kind == Kind::Postgres {
                    ("VOW_TEST_PG_URL", PG_ADMIN_URL)
                } else {
                    ("VOW_TEST_MYSQL_URL", MYSQL_ADMIN_URL)
                };
                let admin_url = std::env::var(var).unwrap_or_else(|_| default.to_string());
                let db = Db::open(&Target::parse(&admin_url)?, 1).await?;
                // CREATE DATABASE cannot run in a transaction on PostgreSQL.
                db.fetch("fixture", &format!("CREATE DATABASE {name}"), &[])
                    .await?;
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(b, _)| b);
                let target = Target::parse(&format!("{base}/{name}"))?;
                Ok(TestDb {
                    target,
                    name,
                    admin: Some(admin_url),
                    _dir: None,
                })
            }
        }
    }

    /// The shop schema filled with `customers` people, deterministic from `seed`.
    pub async fn shop(kind: Kind, customers: u64, seed: u64) -> Result<TestDb, ConnectError> {
        let t = TestDb::create(kind).await?;
        fill_shop(&t.target, customers, seed).await?;
        Ok(t)
    }

    pub async fn drop_db(self) -> Result<(), ConnectError> {
        if let Some(admin_url) = &self.admin {
            let db = Db::open(&Target::parse(admin_url)?, 1).await?;
            let force = if self.target.kind() == Kind::Postgres {
                " WITH (FORCE)"
            } else {
                ""
            };
            db.fetch(
                "fixture",
                &format!("DROP DATABASE IF EXISTS {}{force}", self.name),
                &[],
            )
            .await?;
        }
        Ok(())
    }
}

/// The shop's tables: (name, [(column, SQL type per PostgreSQL/MySQL/SQLite, kind)]).
type Table = (
    &'static str,
    &'static [(&'static str, &'static str, ColumnKind)],
);

const TABLES: &[Table] = {
    use ColumnKind::*;
    &[
        (
            "addresses",
            &[
                ("id", "BIGINT PRIMARY KEY", Integer),
                ("street", "VARCHAR(120)", Text),
                ("city", "VARCHAR(80) NOT NULL", Text),
                ("postal_code", "VARCHAR(12)", Text),
            ],
        ),
        (
            "customers",
            &[
                ("id", "BIGINT PRIMARY KEY", Integer),
                ("email", "VARCHAR(120) NOT NULL", Text),
                ("name", "VARCHAR(80)", Text),
                ("phone", "VARCHAR(30)", Text),
                ("birth_date", "DATE", Date),
                ("address_id", "BIGINT REFERENCES addresses(id)", Integer),
                ("created_at", "TIMESTAMP NOT NULL", Timestamp),
                ("newsletter", "BOOLEAN NOT NULL", Bool),
                ("credit", "NUMERIC(10,2)", Decimal),
                ("points", "INTEGER NOT NULL", Integer),
            ],
        ),
        (
            "products",
            &[
                ("id", "BIGINT PRIMARY KEY", Integer),
                ("title", "VARCHAR(120) NOT NULL", Text),
                ("price_cents", "INTEGER NOT NULL", Integer),
            ],
        ),
        (
            "orders",
            &[
                ("id", "BIGINT PRIMARY KEY", Integer),
                (
                    "customer_id",
                    "BIGINT NOT NULL REFERENCES customers(id)",
                    Integer,
                ),
                (
                    "shipping_address_id",
                    "BIGINT REFERENCES addresses(id)",
                    Integer,
                ),
                ("placed_at", "TIMESTAMP NOT NULL", Timestamp),
                ("total_cents", "INTEGER NOT NULL", Integer),
            ],
        ),
        (
            "order_items",
            &[
                ("id", "BIGINT PRIMARY KEY", Integer),
                ("order_id", "BIGINT NOT NULL REFERENCES orders(id)", Integer),
                (
                    "product_id",
                    "BIGINT NOT NULL REFERENCES products(id)",
                    Integer,
                ),
                ("gift_message", "TEXT", Text),
                ("quantity", "INTEGER NOT NULL", Integer),
            ],
        ),
        (
            "payment_cards",
            &[
                ("id", "BIGINT PRIMARY KEY", Integer),
                (
                    "customer_id",
                    "BIGINT NOT NULL REFERENCES customers(id)",
                    Integer,
                ),
                ("holder", "VARCHAR(80) NOT NULL", Text),
                ("last_four", "CHAR(4) NOT NULL", Text),
                ("expires", "DATE NOT NULL", Date),
            ],
        ),
        (
            "logins",
            &[
                ("id", "BIGINT PRIMARY KEY", Integer),
                (
                    "customer_id",
                    "BIGINT NOT NULL REFERENCES customers(id)",
                    Integer,
                ),
                ("at", "TIMESTAMP NOT NULL", Timestamp),
                ("ip_address", "VARCHAR(45)", Text),
            ],
        ),
        (
            "visits",
            &[
                ("id", "BIGINT PRIMARY KEY", Integer),
                ("email", "VARCHAR(120) NOT NULL", Text),
                ("page", "TEXT NOT NULL", Text),
                ("details", "JSON", Json),
            ],
        ),
    ]
};

const INDEXES: &[(&str, &str)] = &[
    ("customers", "email"),
    ("customers", "phone"),
    ("orders", "customer_id"),
    ("order_items", "order_id"),
    ("payment_cards", "customer_id"),
    ("logins", "customer_id"),
    ("visits", "email"),
];

async fn create_schema(db: &Db) -> Result<(), ConnectError> {
    let mut ddl = Vec::new();
    for (table, columns) in TABLES {
        let cols: Vec<String> = columns
            .iter()
            .map(|(name, ty, _)| {
                let ty = match db.kind() {
                    Kind::Postgres => ty.replace("JSON", "JSONB"),
                    Kind::Mysql => ty.replace("TIMESTAMP", "DATETIME"),
                    Kind::Sqlite => ty.to_string(),
                };
                format!("{} {ty}", db.quote(name))
            })
            .collect();
        ddl.push((
            format!("CREATE TABLE {table} ({})", cols.join(", ")),
            Vec::new(),
        ));
    }
    for (sql, params) in ddl {
        db.transaction("fixture", &[(sql, params)]).await?;
    }
    Ok(())
}

/// splitmix64: deterministic and good enough for fixtures.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const NAMES: &[&str] = &[
    "Ada Byron",
    "Alan Turing",
    "Grace Hopper",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
];
const CITIES: &[&str] = &["Leeds", "Lyon", "Ghent", "Porto", "Graz", "Turku"];

fn date(r: &mut Rng, from_year: u64, years: u64) -> String {
    format!(
        "{}-{:02}-{:02}",
        from_year + r.below(years),
        1 + r.below(12),
        1 + r.below(28)
    )
}

fn stamp(r: &mut Rng) -> String {
    format!(
        "{} {:02}:{:02}:{:02}",
        date(r, 2020, 6),
        r.below(24),
        r.below(60),
        r.below(60)
    )
}

fn int(i: u64) -> Value {
    Value::Int(i64::try_from(i).unwrap_or(i64::MAX))
}

/// The rows of every table, in an order that satisfies the foreign keys.
pub fn rows(customers: u64, seed: u64) -> Vec<(&'static str, Vec<Vec<Value>>)> {
    let mut r = Rng(seed);
    let n = customers;
    let t = |s: String| Value::Text(s);
    let mut addresses = Vec::new();
    for i in 1..=2 * n {
        let postal = if r.below(5) == 0 {
            Value::Null
        } else {
            t(format!("{:05}", r.below(99_999)))
        };
        addresses.push(vec![
            int(i),
            t(format!("{} Main Street", 1 + r.below(200))),
            t(CITIES[r.below(6) as usize].to_string()),
            postal,
        ]);
    }
    let mut customers_rows = Vec::new();
    for i in 1..=n {
        let credit = if r.below(3) == 0 {
            Value::Null
        } else {
            t(format!("{}.{:02}", r.below(500), r.below(100)))
        };
        customers_rows.push(vec![
            int(i),
            t(email(i)),
            t(NAMES[r.below(6) as usize].to_string()),
            t(phone(i)),
            Value::Date(date(&mut r, 1950, 50)),
            int(i),
            Value::Timestamp(stamp(&mut r)),
            Value::Bool(r.below(2) == 0),
            credit,
            int(r.below(1000)),
        ]);
    }
    let products = (1..=PRODUCTS)
        .map(|p| {
            vec![
                int(p),
                t(format!("Product {p}")),
                int(100 + r.below(10_000)),
            ]
        })
        .collect();
    let (mut orders, mut items, mut cards, mut logins, mut visits) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 1..=n {
        for k in 0..ORDERS {
            let o = (i - 1) * ORDERS + k + 1;
            let ship = if k % 2 == 0 { i } else { n + i };
            orders.push(vec![
                int(o),
                int(i),
                int(ship),
                Value::Timestamp(stamp(&mut r)),
                int(r.below(50_000)),
            ]);
            for j in 0..ITEMS {
                let id = (o - 1) * ITEMS + j + 1;
                let gift = if r.below(3) == 0 {
                    t(format!("Happy birthday, {}!", NAMES[r.below(6) as usize]))
                } else {
                    Value::Null
                };
                items.push(vec![
                    int(id),
                    int(o),
                    int(1 + r.below(PRODUCTS)),
                    gift,
                    int(1 + r.below(3)),
                ]);
            }
        }
        for k in 0..CARDS {
            cards.push(vec![
                int((i - 1) * CARDS + k + 1),
                int(i),
                t(NAMES[r.below(6) as usize].to_string()),
                t(format!("{:04}", r.below(10_000))),
                Value::Date(date(&mut r, 2026, 5)),
            ]);
        }
        for k in 0..LOGINS {
            let ip = if r.below(4) == 0 {
                Value::Null
            } else {
                t(format!(
                    "10.{}.{}.{}",
                    r.below(256),
                    r.below(256),
                    r.below(256)
                ))
            };
            logins.push(vec![
                int((i - 1) * LOGINS + k + 1),
                int(i),
                Value::Timestamp(stamp(&mut r)),
                ip,
            ]);
        }
        for k in 0..VISITS {
            let details = serde_json::json!({
                "referrer": format!("https://search.test/?q={}", r.below(1000)),
                "agent": "Mozilla/5.0",
                "session": r.below(1_000_000),
            });
            visits.push(vec![
                int((i - 1) * VISITS + k + 1),
                t(email(i)),
                t(format!("/p/{}", r.below(PRODUCTS))),
                Value::Json(details),
            ]);
        }
    }
    vec![
        ("addresses", addresses),
        ("customers", customers_rows),
        ("products", products),
        ("orders", orders),
        ("order_items", items),
        ("payment_cards", cards),
        ("logins", logins),
        ("visits", visits),
    ]
}

async fn fill(db: &Db, customers: u64, seed: u64) -> Result<(), ConnectError> {
    for (table, rows) in rows(customers, seed) {
        let Some((_, columns)) = TABLES.iter().find(|(t, _)| *t == table) else {
            continue;
        };
        let names: Vec<String> = columns.iter().map(|(c, _, _)| db.quote(c)).collect();
        let per = 500;
        let mut statements = Vec::new();
        for chunk in rows.chunks(per) {
            let mut params = Vec::new();
            let mut tuples = Vec::new();
            for row in chunk {
                let mut ph = Vec::new();
                for (v, (_, ty, kind)) in row.iter().zip(columns.iter()) {
                    params.push(v.clone());
                    let sql_type = if ty.starts_with("JSON") { "jsonb" } else { "" };
                    let col = Column {
                        name: String::new(),
                        sql_type: sql_type.to_string(),
                        kind: *kind,
                        nullable: true,
                        max_length: None,
                    };
                    ph.push(placeholder(db.kind(), &col, params.len()));
                }
                tuples.push(format!("({})", ph.join(", ")));
            }
            statements.push((
                format!(
                    "INSERT INTO {table} ({}) VALUES {}",
                    names.join(", "),
                    tuples.join(", ")
                ),
                params,
            ));
        }
        db.transaction("fixture", &statements).await?;
    }
    Ok(())
}

/// Run any query in a test; every column as text.
pub async fn query(db: &Db, sql: &str) -> Result<Vec<Vec<Option<String>>>, ConnectError> {
    db.fetch("test", sql, &[]).await
}

/// Every row of every table, by table then by id, every column as text.
pub async fn snapshot(
    db: &Db,
) -> Result<BTreeMap<String, BTreeMap<i64, Vec<Option<String>>>>, ConnectError> {
    let schema = db.schema().await?;
    let mut out = BTreeMap::new();
    for (table, columns) in &schema.tables {
        let select: Vec<String> = columns
            .iter()
            .map(|c| crate::db::read_as_text(db.kind(), c.kind, &db.quote(&c.name)))
            .collect();
        let rows = query(db, &format!("SELECT {} FROM {table}", select.join(", "))).await?;
        let id = columns.iter().position(|c| c.name == "id").unwrap_or(0);
        let by_id = rows
            .into_iter()
            .map(|r| {
                (
                    r[id].as_deref().and_then(|v| v.parse().ok()).unwrap_or(-1),
                    r,
                )
            })
            .collect();
        out.insert(table.clone(), by_id);
    }
    Ok(out)
}

/// PostgreSQL fills itself: `INSERT … SELECT … FROM generate_series`, values drawn
/// from `hashint8extended(row, seed)`, so a million customers take a minute, not an
/// hour. The people follow the same conventions as [`rows`] (e-mail, phone, ids, how
/// many rows of each), not the same random values.
async fn fill_pg(db: &Db, customers: u64, seed: u64) -> Result<(), ConnectError> {
    let n = customers;
    let seed = i64::try_from(seed % (1 << 40)).unwrap_or(0);
    // A value in 0..m from row g and a salt.
    let h = |salt: i64, m: u64| {
        format!(
            "((hashint8extended(g, {}) & 2147483647) % {m})",
            seed + salt
        )
    };
    let pick = |salt: i64, list: &[&str]| {
        let quoted: Vec<String> = list.iter().map(|x| format!("'{x}'")).collect();
        format!(
            "(ARRAY[{}])[1 + {}]",
            quoted.join(", "),
            h(salt, list.len() as u64)
        )
    };
    let stamp = |salt: i64| {
        format!(
            "TIMESTAMP '2020-01-01' + {} * INTERVAL '1 second'",
            h(salt, 6 * 365 * 86_400)
        )
    };
    let statements = [
        format!(
            "INSERT INTO addresses SELECT g, (1 + {}) || ' Main Street', {}, \
             CASE WHEN {} = 0 THEN NULL ELSE lpad({}::text, 5, '0') END \
             FROM generate_series(1, {}) g",
            h(1, 200),
            pick(2, CITIES),
            h(3, 5),
            h(4, 99_999),
            2 * n
        ),
        format!(
            "INSERT INTO customers SELECT g, 'customer' || g || '@shop.test', {}, \
             '+4479' || lpad(g::text, 8, '0'), DATE '1950-01-01' + {}::int, g, {}, {} = 0, \
             CASE WHEN {} = 0 THEN NULL ELSE ({} / 100.0)::numeric(10,2) END, {} \
             FROM generate_series(1, {n}) g",
            pick(5, NAMES),
            h(6, 18_000),
            stamp(7),
            h(8, 2),
            h(9, 3),
            h(10, 50_000),
            h(11, 1000)
        ),
        format!(
            "INSERT INTO products SELECT g, 'Product ' || g, 100 + {} FROM generate_series(1, {PRODUCTS}) g",
            h(12, 10_000)
        ),
        format!(
            "INSERT INTO orders SELECT g, (g - 1) / {ORDERS} + 1, \
             CASE WHEN ((g - 1) % {ORDERS}) % 2 = 0 THEN (g - 1) / {ORDERS} + 1 ELSE {n} + (g - 1) / {ORDERS} + 1 END, \
             {}, {} FROM generate_series(1, {}) g",
            stamp(13),
            h(14, 50_000),
            n * ORDERS
        ),
        format!(
            "INSERT INTO order_items SELECT g, (g - 1) / {ITEMS} + 1, 1 + {}, \
             CASE WHEN {} = 0 THEN 'Happy birthday, ' || {} || '!' ELSE NULL END, 1 + {} \
             FROM generate_series(1, {}) g",
            h(15, PRODUCTS),
            h(16, 3),
            pick(17, NAMES),
            h(18, 3),
            n * ORDERS * ITEMS
        ),
        format!(
            "INSERT INTO payment_cards SELECT g, (g - 1) / {CARDS} + 1, {}, lpad({}::text, 4, '0'), \
             DATE '2026-01-01' + {}::int FROM generate_series(1, {}) g",
            pick(19, NAMES),
            h(20, 10_000),
            h(21, 5 * 365),
            n * CARDS
        ),
        format!(
            "INSERT INTO logins SELECT g, (g - 1) / {LOGINS} + 1, {}, \
             CASE WHEN {} = 0 THEN NULL ELSE '10.' || {} || '.' || {} || '.' || {} END \
             FROM generate_series(1, {}) g",
            stamp(22),
            h(23, 4),
            h(24, 256),
            h(25, 256),
            h(26, 256),
            n * LOGINS
        ),
        format!(
            "INSERT INTO visits SELECT g, 'customer' || ((g - 1) / {VISITS} + 1) || '@shop.test', '/p/' || {}, \
             jsonb_build_object('referrer', 'https://search.test/?q=' || {}, 'agent', 'Mozilla/5.0', 'session', {}) \
             FROM generate_series(1, {}) g",
            h(27, PRODUCTS),
            h(28, 1000),
            h(29, 1_000_000),
            n * VISITS
        ),
    ];
    for sql in statements {
        db.transaction("fixture", &[(sql, Vec::new())]).await?;
    }
    Ok(())
}

/// Make the shop's schema in the (empty) database `target` names and fill it with
/// `customers` people, deterministic from `seed`: for [`TestDb::shop`] and the demo.
pub async fn fill_shop(target: &Target, customers: u64, seed: u64) -> Result<(), ConnectError> {
    let kind = target.kind();
    let db = Db::open(target, 2).await?;
    create_schema(&db).await?;
    if kind == Kind::Postgres {
        fill_pg(&db, customers, seed).await?;
    } else {
        fill(&db, customers, seed).await?;
    }
    // Indexes after the rows: faster than keeping them up to date row by row.
    for (table, column) in INDEXES {
        let sql = format!("CREATE INDEX {table}_{column} ON {table} ({column})");
        db.transaction("fixture", &[(sql, Vec::new())]).await?;
    }
    if kind == Kind::Postgres {
        for (table, _) in TABLES {
            db.fetch("fixture", &format!("ANALYZE {table}"), &[])
                .await?;
        }
    }
    Ok(())
}
