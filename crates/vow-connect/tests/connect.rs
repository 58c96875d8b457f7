//! The connectors against real databases: PostgreSQL and MariaDB on 127.0.0.1 (see
//! `vow_connect::shop` for the URLs) and SQLite in a temporary file. Every test
//! makes its own database from the shop fixture and drops it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use std::collections::{BTreeMap, BTreeSet};
use vow_connect::shop::{self, TestDb};
use vow_connect::{
    Action, Changes, Db, Found, Identities, Kind, Plan, Strategy, Target, Value, access, apply,
    check, correction, erasure,
};

const CUSTOMERS: u64 = 24;
const SEED: u64 = 7;
const SECRET: [u8; 32] = [9; 32];

struct Shop {
    t: TestDb,
    db: Db,
    plan: Plan,
}

async fn shop(kind: Kind, customers: u64) -> Shop {
    let t = TestDb::shop(kind, customers, SEED).await.unwrap();
    let db = Db::open(&t.target, 4).await.unwrap();
    let manifest = check(&shop::shop_dataset(), "shop.yml", None)
        .unwrap()
        .manifest;
    let schema = db.schema().await.unwrap();
    let plan = Plan::build(&manifest, "shop", &schema).unwrap();
    Shop { t, db, plan }
}

fn by_email(i: u64) -> Identities {
    BTreeMap::from([("email".to_string(), shop::email(i))])
}

fn by_phone(i: u64) -> Identities {
    BTreeMap::from([("phone_number".to_string(), shop::phone(i))])
}

/// The keys found per collection.
fn keys(found: &Found) -> BTreeMap<String, BTreeSet<i64>> {
    found
        .collections
        .iter()
        .map(|c| {
            let keys = c
                .rows
                .iter()
                .map(|r| match r.key {
                    Some(Value::Int(k)) => k,
                    ref other => panic!("key {other:?}"),
                })
                .collect();
            (c.collection.clone(), keys)
        })
        .collect()
}

async fn ids(db: &Db, sql: &str) -> BTreeSet<i64> {
    shop::query(db, &format!("SELECT CAST(x.id AS CHAR(20)) FROM ({sql}) x"))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].as_deref().unwrap().trim().parse().unwrap())
        .collect()
}

/// Ground truth, by hand-written joins: the rows of customer `i` in every table.
async fn truth(db: &Db, i: u64) -> BTreeMap<String, BTreeSet<i64>> {
    let orders = format!("SELECT id FROM orders WHERE customer_id = {i}");
    let items = format!("SELECT id FROM order_items WHERE order_id IN ({orders})");
    let mut t = BTreeMap::new();
    t.insert(
        "customers".into(),
        ids(
            db,
            &format!(
                "SELECT id FROM customers WHERE email = '{}'",
                shop::email(i)
            ),
        )
        .await,
    );
    t.insert("addresses".into(), ids(db, &format!(
        "SELECT a.id FROM addresses a WHERE a.id IN (SELECT address_id FROM customers WHERE id = {i}) \
         OR a.id IN (SELECT shipping_address_id FROM orders WHERE customer_id = {i})")).await);
    t.insert("orders".into(), ids(db, &orders).await);
    t.insert("order_items".into(), ids(db, &items).await);
    t.insert(
        "products".into(),
        ids(
            db,
            &format!(
                "SELECT DISTINCT p.id FROM products p JOIN order_items oi ON oi.product_id = p.id \
         JOIN orders o ON o.id = oi.order_id WHERE o.customer_id = {i}"
            ),
        )
        .await,
    );
    t.insert(
        "payment_cards".into(),
        ids(
            db,
            &format!("SELECT id FROM payment_cards WHERE customer_id = {i}"),
        )
        .await,
    );
    t.insert(
        "logins".into(),
        ids(
            db,
            &format!("SELECT id FROM logins WHERE customer_id = {i}"),
        )
        .await,
    );
    t.insert(
        "visits".into(),
        ids(
            db,
            &format!("SELECT id FROM visits WHERE email = '{}'", shop::email(i)),
        )
        .await,
    );
    t.retain(|_, v| !v.is_empty());
    t
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Text(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        other => Some(format!("{:?}", other)),
    }
}

async fn access_equals_ground_truth(kind: Kind) {
    let s = shop(kind, CUSTOMERS).await;
    let people = vec![
        by_email(3),
        by_email(7),
        by_phone(12),
        by_email(12),
        by_email(20),
    ];
    let found = access(&s.db, &s.plan, &people).await.unwrap();
    assert_eq!(found.len(), people.len());
    for (f, (i, by_phone)) in
        found
            .iter()
            .zip([(3, false), (7, false), (12, true), (12, false), (20, false)])
    {
        let mut want = truth(&s.db, i).await;
        if by_phone {
            // Visits hold e-mail addresses only.
            want.remove("visits");
        }
        assert_eq!(keys(f), want, "customer {i}");
    }
    // Found by phone or by e-mail: the same person, except visits (found by e-mail only).
    let mut by_phone_keys = keys(&found[2]);
    let by_email_keys = keys(&found[3]);
    assert!(by_phone_keys.remove("visits").is_none());
    let mut without_visits = by_email_keys.clone();
    without_visits.remove("visits");
    assert_eq!(by_phone_keys, without_visits);
    // People who bought the same product both get its row.
    let all: Vec<BTreeSet<i64>> = found
        .iter()
        .map(|f| keys(f).remove("products").unwrap_or_default())
        .collect();
    assert!(
        all[0].intersection(&all[1]).next().is_some(),
        "the fixture gives customers 3 and 7 a product in common"
    );
    // MySQL compares text without case: the rows it returns are still the person's.
    if kind == Kind::Mysql {
        let upper = BTreeMap::from([("email".to_string(), shop::email(3).to_uppercase())]);
        let shouting = access(&s.db, &s.plan, &[upper]).await.unwrap();
        assert_eq!(keys(&shouting[0]), keys(&found[0]));
    }
    // Values: what the database holds, field by field.
    let c = found[0].collection("customers").unwrap();
    let row = &c.rows[0];
    let name = shop::query(&s.db, "SELECT name, phone FROM customers WHERE id = 3")
        .await
        .unwrap();
    let field = |n: &str| row.fields.iter().find(|f| f.field == n).unwrap();
    assert_eq!(text(&field("name").value), name[0][0]);
    assert_eq!(text(&field("phone").value), name[0][1]);
    assert_eq!(field("email").categories, ["user.contact.email"]);
    assert!(matches!(field("birth_date").value, Value::Date(ref d) if d.len() == 10));
    assert!(
        matches!(field("created_at").value, Value::Timestamp(ref d) if d.as_bytes()[10] == b'T')
    );
    assert!(matches!(field("newsletter").value, Value::Bool(_)));
    // Members of a JSON document, picked.
    let v = found[0].collection("visits").unwrap();
    let fields: Vec<&str> = v.rows[0].fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        fields,
        ["id", "email", "page", "details.referrer", "details.agent"]
    );
    assert_eq!(v.rows[0].fields[4].value, Value::Text("Mozilla/5.0".into()));
    s.t.drop_db().await.unwrap();
}

fn policy(category: &str) -> Option<Strategy> {
    let s = |name: &str, configuration: Option<serde_json::Value>| {
        Some(Strategy {
            name: name.to_string(),
            configuration,
        })
    };
    match category {
        "user.contact" | "user.demographic" => s("null_rewrite", None),
        "user.name" => s(
            "random_string_rewrite",
            Some(serde_json::json!({"length": 200})),
        ),
        "user.behavior" | "user.content" => s(
            "string_rewrite",
            Some(serde_json::json!({"rewrite_value": "gone"})),
        ),
        "user.financial" | "user.device" => s("hmac", None),
        // Keys and join columns carry it: they must never change.
        "user.unique_id" => s("null_rewrite", None),
        _ => None,
    }
}

/// Columns an erasure by [`policy`] may change, per table.
fn erasable(table: &str) -> &'static [&'static str] {
    match table {
        "customers" => &[
            "email",
            "name",
            "phone",
            "birth_date",
            "newsletter",
            "credit",
            "points",
        ],
        "addresses" => &["street", "city", "postal_code"],
        "order_items" => &["gift_message"],
        "logins" => &["at", "ip_address"],
        "visits" => &["email", "page", "details"],
        _ => &[],
    }
}

async fn columns(db: &Db, table: &str) -> Vec<String> {
    db.schema().await.unwrap().tables[table]
        .iter()
        .map(|c| c.name.clone())
        .collect()
}

async fn erasure_changes_exactly_the_targeted_columns_of_the_persons_rows(kind: Kind) {
    let s = shop(kind, 12).await;
    let person = 5;
    let mine = truth(&s.db, person).await;
    let before = shop::snapshot(&s.db).await.unwrap();
    let found = access(&s.db, &s.plan, &[by_email(person)]).await.unwrap();
    let changes = erasure(&s.plan, &found[0], &policy, &SECRET).unwrap();
    // A strategy Vow does not know is refused, naming the field.
    let odd = |c: &str| {
        (c == "user.name").then(|| Strategy {
            name: "rot13".into(),
            configuration: None,
        })
    };
    let e = erasure(&s.plan, &found[0], &odd, &SECRET).unwrap_err();
    assert_eq!(
        (e.code, e.message.starts_with("customers.name: ")),
        ("value", true),
        "{e}"
    );
    // Planning twice gives the same changes (random strings are seeded).
    assert_eq!(
        changes,
        erasure(&s.plan, &found[0], &policy, &SECRET).unwrap()
    );
    // Children are deleted or changed before what they reference.
    let order: Vec<&str> = changes
        .collections
        .iter()
        .map(|c| c.collection.as_str())
        .collect();
    assert!(order.contains(&"payment_cards"), "{order:?}");
    for c in &changes.collections {
        s.db.ping().await.unwrap();
        apply(&s.db, &s.plan, c).await.unwrap();
    }
    let after = shop::snapshot(&s.db).await.unwrap();
    let mut changed: BTreeSet<(String, String)> = BTreeSet::new();
    for (table, rows) in &before {
        let names = columns(&s.db, table).await;
        let person_rows = mine.get(table).cloned().unwrap_or_default();
        for (id, row) in rows {
            let now = after[table].get(id);
            if table == "payment_cards" && person_rows.contains(id) {
                assert!(now.is_none(), "{table} {id}: the person's card is deleted");
                continue;
            }
            let now = now.unwrap_or_else(|| panic!("{table} {id} was deleted"));
            for (c, (a, b)) in row.iter().zip(now).enumerate() {
                if a == b {
                    continue;
                }
                assert!(
                    person_rows.contains(id),
                    "{table} {id} is not the person's but {} changed",
                    names[c]
                );
                assert!(
                    erasable(table).contains(&names[c].as_str()),
                    "{table}.{} changed",
                    names[c]
                );
                changed.insert((table.clone(), names[c].clone()));
            }
        }
        assert_eq!(
            rows.len()
                - if table == "payment_cards" {
                    person_rows.len()
                } else {
                    0
                },
            after[table].len(),
            "{table}"
        );
    }
    // Every targeted column of the person's rows changed where it held a value.
    for table in ["customers", "addresses", "order_items", "logins", "visits"] {
        let names = columns(&s.db, table).await;
        let mut checked = 0;
        for id in &mine[table] {
            for col in erasable(table) {
                let c = names.iter().position(|n| n == col).unwrap();
                if before[table][id][c].is_some() {
                    assert_ne!(
                        before[table][id][c], after[table][id][c],
                        "{table}.{col} of row {id} was not masked"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 0, "{table}: nothing to check");
    }
    assert!(changed.len() >= 12, "{changed:?}");
    // Each masked value has its column's type.
    let row = &after["customers"][&(person as i64)];
    let names = columns(&s.db, "customers").await;
    let col = |n: &str| row[names.iter().position(|x| x == n).unwrap()].clone();
    assert_eq!(
        col("email").as_deref(),
        Some(""),
        "NOT NULL text: empty, not NULL"
    );
    assert_eq!(col("phone"), None, "nullable: NULL");
    assert_eq!(col("birth_date"), None);
    let name = col("name").unwrap();
    assert_eq!(
        name.chars().count(),
        80,
        "random string cut to the column's 80"
    );
    assert!(name.chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(
        matches!(col("newsletter").as_deref(), Some("false" | "0")),
        "{:?}",
        col("newsletter")
    );
    assert_eq!(col("points").as_deref(), Some("0"));
    assert_eq!(
        col("credit")
            .map(|c| c.parse::<f64>().unwrap())
            .unwrap_or(0.0),
        0.0
    );
    let logins = columns(&s.db, "logins").await;
    for id in &mine["logins"] {
        let l = &after["logins"][id];
        assert!(
            l[2].as_deref().unwrap().starts_with("1970-01-01"),
            "{:?}",
            l[2]
        );
        if let Some(ip) = &l[3] {
            assert_eq!(ip.len(), 45, "hmac hex cut to VARCHAR(45)");
            assert!(ip.chars().all(|c| c.is_ascii_hexdigit()));
        }
        assert_eq!(logins.len(), 4);
    }
    for id in &mine["order_items"] {
        let gift = &after["order_items"][id][3];
        assert!(
            gift.is_none() || gift.as_deref() == Some("(removed)"),
            "{gift:?}"
        );
    }
    for id in &mine["visits"] {
        let details: serde_json::Value =
            serde_json::from_str(after["visits"][id][3].as_deref().unwrap()).unwrap();
        let was: serde_json::Value =
            serde_json::from_str(before["visits"][id][3].as_deref().unwrap()).unwrap();
        assert_eq!(details["referrer"], "gone");
        assert_eq!(details["agent"].as_str().unwrap().len(), 64);
        assert_eq!(
            details["session"], was["session"],
            "an unannotated member is left alone"
        );
    }
    s.t.drop_db().await.unwrap();
}

async fn apply_twice_is_idempotent_and_a_killed_run_resumes(kind: Kind) {
    let person = 3;
    // Uninterrupted, then everything applied again.
    let a = shop(kind, 8).await;
    let found = access(&a.db, &a.plan, &[by_email(person)]).await.unwrap();
    let changes: Changes = erasure(&a.plan, &found[0], &policy, &SECRET).unwrap();
    assert!(changes.collections.len() >= 5, "{changes:?}");
    // The engine seals the changes: they survive a round trip through JSON.
    let sealed = serde_json::to_string(&changes).unwrap();
    let kept: Changes = serde_json::from_str(&sealed).unwrap();
    assert_eq!(kept, changes);
    for c in &changes.collections {
        assert!(
            apply(&a.db, &a.plan, c).await.unwrap() > 0,
            "{}",
            c.collection
        );
    }
    let once = shop::snapshot(&a.db).await.unwrap();
    for c in &changes.collections {
        apply(&a.db, &a.plan, c).await.unwrap();
    }
    assert_eq!(
        shop::snapshot(&a.db).await.unwrap(),
        once,
        "applying twice changes nothing more"
    );
    // Killed after k collections: a fresh access now finds less, so the kept changes
    // are what resumes.
    let b = shop(kind, 8).await;
    let k = 3;
    for c in &kept.collections[..k] {
        apply(&b.db, &b.plan, c).await.unwrap();
    }
    let again = access(&b.db, &b.plan, &[by_email(person)]).await.unwrap();
    assert_ne!(
        again[0], found[0],
        "part of the person is already masked or deleted"
    );
    // The collection being applied when the run died is applied again.
    for c in &kept.collections[k - 1..] {
        apply(&b.db, &b.plan, c).await.unwrap();
    }
    assert_eq!(shop::snapshot(&b.db).await.unwrap(), once);
    a.t.drop_db().await.unwrap();
    b.t.drop_db().await.unwrap();
}

async fn a_merged_batch_of_erasures_equals_one_by_one(kind: Kind) {
    let people: Vec<Identities> = [2, 3, 5].into_iter().map(by_email).collect();
    let a = shop(kind, 8).await;
    let found = access(&a.db, &a.plan, &people).await.unwrap();
    let each: Vec<Changes> = found
        .iter()
        .map(|f| erasure(&a.plan, f, &policy, &SECRET).unwrap())
        .collect();
    for changes in &each {
        for c in &changes.collections {
            apply(&a.db, &a.plan, c).await.unwrap();
        }
    }
    let b = shop(kind, 8).await;
    let merged = vow_connect::merge(&b.plan, &each);
    assert!(merged.collections.len() < each.iter().map(|c| c.collections.len()).sum());
    for c in &merged.collections {
        apply(&b.db, &b.plan, c).await.unwrap();
    }
    assert_eq!(
        shop::snapshot(&b.db).await.unwrap(),
        shop::snapshot(&a.db).await.unwrap()
    );
    a.t.drop_db().await.unwrap();
    b.t.drop_db().await.unwrap();
}

async fn unknown_email_finds_nothing_and_changes_nothing(kind: Kind) {
    let s = shop(kind, 6).await;
    let before = shop::snapshot(&s.db).await.unwrap();
    let start = s.db.statements();
    let nobody = BTreeMap::from([("email".to_string(), "nobody@shop.test".to_string())]);
    let found = access(&s.db, &s.plan, &[nobody]).await.unwrap();
    assert!(found[0].is_empty());
    // Only the identity queries ran: customers and visits hold the e-mail.
    assert_eq!(s.db.statements() - start, 2);
    let changes = erasure(&s.plan, &found[0], &policy, &SECRET).unwrap();
    assert!(changes.collections.is_empty());
    let fix = correction(&s.plan, &found[0], &|_| Some("x".to_string())).unwrap();
    assert!(fix.collections.is_empty());
    assert_eq!(shop::snapshot(&s.db).await.unwrap(), before);
    s.t.drop_db().await.unwrap();
}

async fn statements_do_not_grow_with_the_batch(kind: Kind) {
    let s = shop(kind, 60).await;
    let start = s.db.statements();
    let one = access(&s.db, &s.plan, &[by_email(1)]).await.unwrap();
    let for_one = s.db.statements() - start;
    assert_eq!(for_one, 8, "one SELECT per collection visited");
    let people: Vec<Identities> = (1..=50).map(by_email).collect();
    let start = s.db.statements();
    let fifty = access(&s.db, &s.plan, &people).await.unwrap();
    assert_eq!(s.db.statements() - start, for_one);
    assert_eq!(
        fifty[0], one[0],
        "a person's result does not depend on the batch"
    );
    assert_eq!(keys(&fifty[41]), truth(&s.db, 42).await);
    s.t.drop_db().await.unwrap();
}

async fn a_correction_sets_the_named_categories_in_their_types(kind: Kind) {
    let s = shop(kind, 6).await;
    let found = access(&s.db, &s.plan, &[by_email(2)]).await.unwrap();
    let corrected = |c: &str| match c {
        "user.name" => Some("Ada Lovelace".to_string()),
        "user.demographic.date_of_birth" => Some("1815-12-10".to_string()),
        _ => None,
    };
    let changes = correction(&s.plan, &found[0], &corrected).unwrap();
    assert_eq!(changes.collections.len(), 1, "{changes:?}");
    let Action::Update { rows } = &changes.collections[0].action else {
        panic!()
    };
    assert_eq!(rows.len(), 1);
    for c in &changes.collections {
        apply(&s.db, &s.plan, c).await.unwrap();
    }
    let row = shop::query(
        &s.db,
        "SELECT name, CAST(birth_date AS CHAR(10)) FROM customers WHERE id = 2",
    )
    .await
    .unwrap();
    assert_eq!(row[0][0].as_deref(), Some("Ada Lovelace"));
    assert_eq!(row[0][1].as_deref(), Some("1815-12-10"));
    // A value the column cannot hold: the error names the field, not the value.
    let bad = correction(&s.plan, &found[0], &|c| {
        (c == "user.demographic.date_of_birth").then(|| "tenth of December".to_string())
    })
    .unwrap_err();
    assert_eq!(bad.code, "value");
    assert!(
        bad.message.contains("customers.birth_date"),
        "{}",
        bad.message
    );
    assert!(!bad.message.contains("tenth"), "{}", bad.message);
    s.t.drop_db().await.unwrap();
}

async fn a_fides_format_dataset_loads_unchanged_and_walks(kind: Kind) {
    let s = shop(kind, 6).await;
    let source = include_str!("fixtures/fides_shop.yml");
    let checked = check(source, "fides_shop.yml", None).unwrap();
    let schema = s.db.schema().await.unwrap();
    let plan = Plan::build(&checked.manifest, "fides_shop_dataset", &schema).unwrap();
    assert!(
        !plan.collections().contains(&"payment_cards".to_string()),
        "skip_processing"
    );
    // `after`: the visits wait for the customers, though both hold an identity.
    assert_eq!(plan.stages()[0], ["customers"]);
    assert!(
        plan.stages()[1].contains(&"visits".to_string()),
        "{:?}",
        plan.stages()
    );
    let found = access(&s.db, &plan, &[by_email(4)]).await.unwrap();
    let mut want = truth(&s.db, 4).await;
    want.remove("payment_cards");
    assert_eq!(keys(&found[0]), want);
    s.t.drop_db().await.unwrap();
}

macro_rules! each_driver {
    ($($name:ident),* $(,)?) => {
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(vow_connect::Kind::Postgres).await } )* }
        mod mariadb { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(vow_connect::Kind::Mysql).await } )* }
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(vow_connect::Kind::Sqlite).await } )* }
    };
}

each_driver!(
    access_equals_ground_truth,
    erasure_changes_exactly_the_targeted_columns_of_the_persons_rows,
    apply_twice_is_idempotent_and_a_killed_run_resumes,
    a_merged_batch_of_erasures_equals_one_by_one,
    unknown_email_finds_nothing_and_changes_nothing,
    statements_do_not_grow_with_the_batch,
    a_correction_sets_the_named_categories_in_their_types,
    a_fides_format_dataset_loads_unchanged_and_walks,
);

#[tokio::test]
async fn plan_reports_unknown_tables_and_columns_with_their_lines() {
    let t = TestDb::shop(Kind::Sqlite, 1, SEED).await.unwrap();
    let db = Db::open(&t.target, 1).await.unwrap();
    let schema = db.schema().await.unwrap();
    let source = shop::shop_dataset()
        .replace("      - name: logins\n", "      - name: signins\n")
        .replace("          - name: page\n", "          - name: pages\n")
        .replace("          - name: title\n            data_categories: [system.operations]\n", "          - name: title\n            data_categories: [system.operations]\n            fields:\n              - name: x\n                data_categories: [system.operations]\n");
    let line = |needle: &str| source.lines().position(|l| l == needle).unwrap() + 1;
    let manifest = check(&source, "shop.yml", None).unwrap().manifest;
    let errors = Plan::build(&manifest, "shop", &schema).unwrap_err();
    let got: Vec<(&str, usize, usize)> =
        errors.iter().map(|d| (d.code, d.line, d.column)).collect();
    assert_eq!(
        got,
        [
            ("not_a_document", line("          - name: title"), 19),
            ("unknown_table", line("      - name: signins"), 15),
            ("unknown_column", line("          - name: pages"), 19),
        ]
    );
    assert!(
        errors[1].path.ends_with("collections[6].name"),
        "{}",
        errors[1].path
    );
    // The shop's walk: stage by stage, and deletes from children to parents.
    let manifest = check(&shop::shop_dataset(), "shop.yml", None)
        .unwrap()
        .manifest;
    let plan = Plan::build(&manifest, "shop", &schema).unwrap();
    assert_eq!(
        plan.stages(),
        [
            vec!["customers", "visits"],
            vec!["orders", "payment_cards", "logins"],
            vec!["addresses", "order_items"],
            vec!["products"],
        ]
    );
    let order = plan.erase_order();
    let at = |c: &str| order.iter().position(|x| x == c).unwrap();
    assert!(
        at("order_items") < at("orders") && at("orders") < at("customers"),
        "{order:?}"
    );
    assert!(
        at("order_items") < at("products") && at("orders") < at("addresses"),
        "{order:?}"
    );
    assert!(
        at("payment_cards") < at("customers") && at("logins") < at("customers"),
        "{order:?}"
    );
    assert!(at("customers") < at("addresses"), "{order:?}");
    let e = Plan::build(&manifest, "nope", &schema).unwrap_err();
    assert_eq!(e[0].code, "unknown_dataset");
    t.drop_db().await.unwrap();
}

#[test]
fn a_target_never_shows_its_password() {
    let t = Target::parse("postgres://vow:s3cret@db.example:5432/shop").unwrap();
    assert_eq!(t.kind(), Kind::Postgres);
    assert_eq!(t.url(), "postgres://vow:s3cret@db.example:5432/shop");
    assert_eq!(t.redacted(), "postgres://vow:***@db.example:5432/shop");
    assert!(!format!("{t:?}").contains("s3cret"));
    let m = Target::parse("mariadb://root:pw@127.0.0.1/shop").unwrap();
    assert_eq!(m.kind(), Kind::Mysql);
    assert!(m.url().starts_with("mysql://"));
    assert_eq!(
        Target::parse("postgresql://u@h/d").unwrap().redacted(),
        "postgresql://u@h/d"
    );
    assert_eq!(
        Target::parse("sqlite:/tmp/x.db?mode=ro").unwrap().kind(),
        Kind::Sqlite
    );
    assert_eq!(
        Target::parse("sqlite:///tmp/x.db").unwrap().kind(),
        Kind::Sqlite
    );
    for bad in [
        "oracle://u:s3cret@h/d",
        "postgres://u:s3cret@/d",
        "postgres://u:s3cret@h",
        "sqlite:",
        "s3cret",
    ] {
        let e = Target::parse(bad).unwrap_err();
        assert_eq!(e.code, "bad_url", "{bad}");
        assert!(!e.message.contains("s3cret"), "{}", e.message);
    }
    assert_eq!(Kind::Mysql.as_str(), "mysql");
}

#[test]
fn values_are_never_printed() {
    let v = Value::Text("ada@example.com".into());
    assert_eq!(format!("{v:?}"), "Text");
    let c = vow_connect::CollectionChanges {
        collection: "customers".into(),
        key: "id".into(),
        action: Action::Update {
            rows: vec![(Value::Int(1), vec![("email".into(), v)])],
        },
    };
    assert!(!format!("{c:?}").contains("ada@"));
}

#[tokio::test]
async fn an_unreachable_server_is_reported_without_the_password() {
    let t = Target::parse("postgres://vow:s3cret@127.0.0.1:1/shop").unwrap();
    let db = Db::open(&t, 1).await.unwrap();
    assert!(!format!("{db:?}").contains("s3cret"));
    let e = db.ping().await.unwrap_err();
    assert_eq!(e.code, "unreachable", "{e}");
    assert!(!e.to_string().contains("s3cret"));
    let dir = tempfile::tempdir().unwrap();
    let missing = Target::parse(&format!("sqlite:{}/none.db", dir.path().display())).unwrap();
    let e = Db::open(&missing, 1)
        .await
        .unwrap()
        .ping()
        .await
        .unwrap_err();
    assert_eq!(e.code, "unreachable", "{e}");
    let bad_password = Target::parse(&format!(
        "{}x",
        shop::PG_ADMIN_URL.replace("postgres@", "nobody_here:pw@")
    ))
    .unwrap();
    let db = Db::open(&bad_password, 1).await.unwrap();
    let e = db.ping().await.unwrap_err();
    assert_eq!(e.code, "auth", "{e}");
}

#[tokio::test]
async fn a_failing_collection_is_named_and_nothing_half_written_survives() {
    let s = shop(Kind::Postgres, 4).await;
    let found = access(&s.db, &s.plan, &[by_email(1)]).await.unwrap();
    // The live table changed after the plan was made.
    shop::query(&s.db, "ALTER TABLE logins RENAME COLUMN ip_address TO ip")
        .await
        .unwrap();
    let e = access(&s.db, &s.plan, &[by_email(1)]).await.unwrap_err();
    assert_eq!(e.code, "query");
    assert!(e.message.starts_with("logins: "), "{}", e.message);
    assert!(!e.message.contains("customer1@"), "{}", e.message);
    // Changes naming a column Vow may not change are refused before any SQL.
    let forged = vow_connect::CollectionChanges {
        collection: "orders".into(),
        key: "id".into(),
        action: Action::Update {
            rows: vec![(Value::Int(1), vec![("customer_id".into(), Value::Int(2))])],
        },
    };
    assert_eq!(
        apply(&s.db, &s.plan, &forged).await.unwrap_err().code,
        "schema"
    );
    // One collection's update fails half-way: its transaction leaves nothing behind.
    let before = shop::snapshot(&s.db).await.unwrap();
    let changes = erasure(&s.plan, &found[0], &policy, &SECRET).unwrap();
    let logins = changes
        .collections
        .iter()
        .find(|c| c.collection == "logins")
        .unwrap();
    // Logins without an address only get `at` masked: a first statement that succeeds.
    let Action::Update { rows } = &logins.action else {
        panic!()
    };
    let shapes: BTreeSet<usize> = rows.iter().map(|(_, sets)| sets.len()).collect();
    assert_eq!(shapes, BTreeSet::from([1, 2]));
    let e = apply(&s.db, &s.plan, logins).await.unwrap_err();
    assert!(e.message.starts_with("logins: "), "{}", e.message);
    assert_eq!(shop::snapshot(&s.db).await.unwrap(), before);
    s.t.drop_db().await.unwrap();
}

#[tokio::test]
async fn a_reference_to_another_dataset_is_a_warning_and_one_connection_is_enough() {
    let t = TestDb::shop(Kind::Sqlite, 3, SEED).await.unwrap();
    // One connection: the stages still run, one statement at a time.
    let db = Db::open(&t.target, 1).await.unwrap();
    let source = shop::shop_dataset().replacen(
        "          - name: page\n",
        "          - name: page\n            fides_meta:\n              references:\n                - dataset: crm\n                  field: contacts.page\n                  direction: to\n",
        1,
    ) + "  - fides_key: crm\n    collections:\n      - name: contacts\n        fields:\n          - name: email\n            data_categories: [user.contact.email]\n            fides_meta:\n              identity: email\n          - name: page\n            data_categories: [system.operations]\n";
    let manifest = check(&source, "shop.yml", None).unwrap().manifest;
    let plan = Plan::build(&manifest, "shop", &db.schema().await.unwrap()).unwrap();
    let codes: Vec<&str> = plan.warnings().iter().map(|d| d.code).collect();
    assert_eq!(codes, ["cross_dataset"]);
    let found = access(&db, &plan, &[by_email(2)]).await.unwrap();
    assert_eq!(keys(&found[0]), truth(&db, 2).await);
    t.drop_db().await.unwrap();
}
