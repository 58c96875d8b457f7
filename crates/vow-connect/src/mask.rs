//! What an erasure or a correction changes, and applying it.
//!
//! [`erasure`] and [`correction`] only compute: the [`Changes`] are plain data the
//! engine seals in its store before [`apply`] runs them, one collection per
//! transaction, so that a run killed half-way resumes from the changes it kept
//! (a fresh access would find less once some rows are masked). Applying the same
//! [`CollectionChanges`] twice leaves the same state: updates set fixed values and
//! deletes of rows already gone delete nothing.
//!
//! Masked values have their column's type (Fides leaves non-text columns as they
//! are): text gets the strategy's string, numbers 0, booleans false, dates the epoch,
//! JSON `{}`, bytes empty; `null_rewrite` gives NULL only where the column allows it.
//! Keys and join columns are never masked; a collection marked `delete` has the
//! person's rows deleted instead.

use crate::access::Found;
use crate::db::{Column, ColumnKind, Db, placeholder};
use crate::error::ConnectError;
use crate::plan::{Plan, PlanCollection, PlanField};
use crate::value::Value;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::{BTreeMap, BTreeSet};

/// Rows changed in one statement at most.
const ROWS_PER_STATEMENT: usize = 200;
/// A random string's length when the strategy does not say.
const RANDOM_LENGTH: usize = 30;

pub use crate::plan::Strategy;

/// What to change, collection by collection, in the order to apply them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    pub collections: Vec<CollectionChanges>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionChanges {
    pub collection: String,
    /// The primary key column the rows are addressed by.
    pub key: String,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Action {
    /// Key value → the columns to set and their new values.
    Update {
        rows: Vec<(Value, Vec<(String, Value)>)>,
    },
    Delete {
        keys: Vec<Value>,
    },
}

/// `a.b.c`, then `a.b`, then `a`: the most specific first.
fn within(category: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(category);
    std::iter::from_fn(move || {
        let here = next?;
        next = here.rfind('.').map(|i| &here[..i]);
        Some(here)
    })
}

/// The first answer `ask` gives for a field's categories, or those they fall within.
fn for_field<T>(field: &PlanField, ask: &dyn Fn(&str) -> Option<T>) -> Option<T> {
    field
        .categories
        .iter()
        .find_map(|c| within(c).find_map(ask))
}

fn never_changed(coll: &PlanCollection, field: &PlanField) -> bool {
    coll.pk
        .as_ref()
        .is_some_and(|pk| pk.name == field.column.name)
        || coll.join_columns.contains(&field.column.name)
}

fn key_column(coll: &PlanCollection) -> Result<&Column, ConnectError> {
    coll.pk.as_ref().ok_or_else(|| {
        ConnectError::new(
            "schema",
            format!(
                "{}: the dataset names no primary_key, so rows cannot be changed one by one",
                coll.name
            ),
        )
    })
}

/// The changes an erasure makes to what `found` holds. `targeted(category)` is the
/// policy's strategy for a category (asked for the category, then those it falls
/// within); a field's `masking_strategy_override` wins over it, a collection's
/// `delete` over all. `secret` keys `hmac` and seeds random strings.
pub fn erasure(
    plan: &Plan,
    found: &Found,
    targeted: &dyn Fn(&str) -> Option<Strategy>,
    secret: &[u8; 32],
) -> Result<Changes, ConnectError> {
    let mut out = Changes::default();
    for &ci in &plan.erase_order {
        let coll = &plan.collections[ci];
        let Some(fc) = found.collection(&coll.name) else {
            continue;
        };
        if !coll.fields.iter().any(|f| for_field(f, targeted).is_some()) {
            continue;
        }
        let pk = key_column(coll)?;
        if coll.delete {
            let keys: Vec<Value> = fc
                .rows
                .iter()
                .filter_map(|r| r.key.clone())
                .filter(|k| !k.is_null())
                .collect();
            if !keys.is_empty() {
                out.collections.push(CollectionChanges {
                    collection: coll.name.clone(),
                    key: pk.name.clone(),
                    action: Action::Delete { keys },
                });
            }
            continue;
        }
        let mut rows = Vec::new();
        for row in &fc.rows {
            let Some(key) = row.key.clone().filter(|k| !k.is_null()) else {
                continue;
            };
            let mut sets: BTreeMap<String, Value> = BTreeMap::new();
            let mut docs: BTreeMap<String, serde_json::Value> = BTreeMap::new();
            for (f, ff) in coll.fields.iter().zip(&row.fields) {
                if never_changed(coll, f) || ff.value.is_null() {
                    continue;
                }
                let Some(policy) = for_field(f, targeted) else {
                    continue;
                };
                let chosen = f.strategy.as_ref().unwrap_or(&policy);
                // A policy's `delete` deletes rows only where the collection says so;
                // elsewhere the field is nulled like `null_rewrite`.
                let nulled = Strategy {
                    name: "null_rewrite".to_string(),
                    configuration: None,
                };
                let strategy = match chosen.name.as_str() {
                    "delete" => &nulled,
                    name if crate::check::FIELD_STRATEGIES.contains(&name) => chosen,
                    _ => {
                        return Err(ConnectError::new(
                            "value",
                            format!(
                                "{}.{}: Vow masks with one of {} or delete",
                                coll.name,
                                f.name,
                                crate::check::FIELD_STRATEGIES.join(", ")
                            ),
                        ));
                    }
                };
                let seed = format!("{}\u{1f}{}\u{1f}{:?}", coll.name, f.name, key.key_text());
                if f.member.is_empty() {
                    let new = masked(coll, f, strategy, &ff.value, secret, &seed)?;
                    if new != ff.value {
                        sets.insert(f.column.name.clone(), new);
                    }
                } else {
                    let member = match strategy.name.as_str() {
                        "null_rewrite" => serde_json::Value::Null,
                        _ => serde_json::Value::String(masked_text(
                            strategy, f.length, &ff.value, secret, &seed,
                        )),
                    };
                    put_member(&mut docs, row, f, member);
                }
            }
            finish_row(row, key, sets, docs, &mut rows);
        }
        push_updates(&mut out, coll, &pk.name, rows);
    }
    Ok(out)
}

/// Set a member of a row's document column, starting from the document as it was read.
fn put_member(
    docs: &mut BTreeMap<String, serde_json::Value>,
    row: &crate::access::FoundRow,
    f: &PlanField,
    member: serde_json::Value,
) {
    let doc = docs.entry(f.column.name.clone()).or_insert_with(|| {
        row.documents
            .get(&f.column.name)
            .cloned()
            .unwrap_or(serde_json::Value::Null)
    });
    set_member(doc, &f.member, member);
}

/// A row's changed columns and documents as one update, when anything changed.
fn finish_row(
    row: &crate::access::FoundRow,
    key: Value,
    mut sets: BTreeMap<String, Value>,
    docs: BTreeMap<String, serde_json::Value>,
    rows: &mut Vec<(Value, Vec<(String, Value)>)>,
) {
    for (col, doc) in docs {
        if row.documents.get(&col) != Some(&doc) {
            sets.insert(col, Value::Json(doc));
        }
    }
    if !sets.is_empty() {
        rows.push((key, sets.into_iter().collect()));
    }
}

/// A collection's row updates, when there are any.
fn push_updates(
    out: &mut Changes,
    coll: &PlanCollection,
    key: &str,
    rows: Vec<(Value, Vec<(String, Value)>)>,
) {
    if !rows.is_empty() {
        out.collections.push(CollectionChanges {
            collection: coll.name.clone(),
            key: key.to_string(),
            action: Action::Update { rows },
        });
    }
}

fn set_member(doc: &mut serde_json::Value, path: &[String], value: serde_json::Value) {
    let mut at = doc;
    for p in path {
        match at.get_mut(p) {
            Some(next) => at = next,
            None => return,
        }
    }
    *at = value;
}

/// A masked value of the field's column type.
fn masked(
    coll: &PlanCollection,
    f: &PlanField,
    strategy: &Strategy,
    current: &Value,
    secret: &[u8; 32],
    seed: &str,
) -> Result<Value, ConnectError> {
    let col = &f.column;
    if strategy.name == "null_rewrite" && col.nullable {
        return Ok(Value::Null);
    }
    Ok(match col.kind {
        ColumnKind::Text => {
            if strategy.name == "null_rewrite" {
                Value::Text(String::new())
            } else {
                let limit = match (f.length, col.max_length) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                Value::Text(masked_text(strategy, limit, current, secret, seed))
            }
        }
        ColumnKind::Integer => Value::Int(0),
        ColumnKind::Float => Value::Float(0.0),
        ColumnKind::Decimal => Value::Text("0".to_string()),
        ColumnKind::Bool => Value::Bool(false),
        ColumnKind::Date => Value::Date("1970-01-01".to_string()),
        ColumnKind::Time => Value::Time("00:00:00".to_string()),
        ColumnKind::Timestamp if col.sql_type == "timestamptz" => {
            Value::Timestamp("1970-01-01T00:00:00+00:00".to_string())
        }
        ColumnKind::Timestamp => Value::Timestamp("1970-01-01T00:00:00".to_string()),
        ColumnKind::Json => Value::Json(serde_json::json!({})),
        ColumnKind::Bytes => Value::Bytes(Vec::new()),
        ColumnKind::Uuid => Value::Text("00000000-0000-0000-0000-000000000000".to_string()),
        ColumnKind::Other => {
            return Err(ConnectError::new(
                "value",
                format!(
                    "{}.{}: a column of type {} that cannot be NULL has no masked value",
                    coll.name, f.name, col.sql_type
                ),
            ));
        }
    })
}

/// The string a text strategy writes, at most `limit` characters.
fn masked_text(
    strategy: &Strategy,
    limit: Option<u64>,
    current: &Value,
    secret: &[u8; 32],
    seed: &str,
) -> String {
    let config = |key: &str| strategy.configuration.as_ref().and_then(|c| c.get(key));
    let text = match strategy.name.as_str() {
        "string_rewrite" => config("rewrite_value")
            .and_then(|v| v.as_str())
            .unwrap_or("MASKED")
            .to_string(),
        "random_string_rewrite" => {
            let length = config("length")
                .and_then(serde_json::Value::as_u64)
                .map_or(RANDOM_LENGTH, |l| {
                    usize::try_from(l.clamp(1, 1024)).unwrap_or(RANDOM_LENGTH)
                });
            random_string(secret, seed, length)
        }
        "hmac" => hex::encode(mac(
            secret,
            &[b"hmac", current.key_text().unwrap_or_default().as_bytes()],
        )),
        _ => String::new(),
    };
    match limit.and_then(|l| usize::try_from(l).ok()) {
        Some(l) => text.chars().take(l).collect(),
        None => text,
    }
}

fn mac(secret: &[u8; 32], parts: &[&[u8]]) -> Vec<u8> {
    let Ok(mut m) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) else {
        return Vec::new();
    };
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// Letters and digits drawn from HMAC(secret, seed, counter): the same every time.
fn random_string(secret: &[u8; 32], seed: &str, length: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut out = String::with_capacity(length);
    let mut counter = 0u64;
    while out.len() < length {
        for b in mac(
            secret,
            &[b"random", seed.as_bytes(), &counter.to_be_bytes()],
        ) {
            if out.len() == length {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
        }
        counter += 1;
    }
    out
}

/// The changes a correction makes: each field whose category `corrected` answers
/// (asked for the category, then those it falls within) gets the corrected value,
/// converted to its column's kind.
pub fn correction(
    plan: &Plan,
    found: &Found,
    corrected: &dyn Fn(&str) -> Option<String>,
) -> Result<Changes, ConnectError> {
    let mut out = Changes::default();
    for coll in &plan.collections {
        let Some(fc) = found.collection(&coll.name) else {
            continue;
        };
        let fields: Vec<(usize, Value)> = coll
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| !never_changed(coll, f))
            .filter_map(|(i, f)| Some((i, for_field(f, corrected)?)))
            .map(|(i, text)| Ok((i, convert(coll, &coll.fields[i], &text)?)))
            .collect::<Result<_, ConnectError>>()?;
        if fields.is_empty() {
            continue;
        }
        let pk = key_column(coll)?;
        let mut rows = Vec::new();
        for row in &fc.rows {
            let Some(key) = row.key.clone().filter(|k| !k.is_null()) else {
                continue;
            };
            let mut sets: BTreeMap<String, Value> = BTreeMap::new();
            let mut docs: BTreeMap<String, serde_json::Value> = BTreeMap::new();
            for (i, new) in &fields {
                let f = &coll.fields[*i];
                if f.member.is_empty() {
                    if row.fields.get(*i).map(|x| &x.value) != Some(new) {
                        sets.insert(f.column.name.clone(), new.clone());
                    }
                } else {
                    let member = match new {
                        Value::Text(s) => serde_json::Value::String(s.clone()),
                        _ => continue,
                    };
                    put_member(&mut docs, row, f, member);
                }
            }
            finish_row(row, key, sets, docs, &mut rows);
        }
        push_updates(&mut out, coll, &pk.name, rows);
    }
    Ok(out)
}

/// A person's corrected text as a value of the field's column. Errors name the
/// field, never the value.
fn convert(coll: &PlanCollection, f: &PlanField, text: &str) -> Result<Value, ConnectError> {
    let bad = |why: &str| {
        ConnectError::new(
            "value",
            format!("{}.{}: the corrected value {why}", coll.name, f.name),
        )
    };
    if !f.member.is_empty() {
        return Ok(Value::Text(text.to_string()));
    }
    let t = text.trim();
    Ok(match f.column.kind {
        ColumnKind::Text | ColumnKind::Other => {
            let limit = match (f.length, f.column.max_length) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(l) = limit
                && text.chars().count() as u64 > l
            {
                return Err(bad(&format!(
                    "is longer than the {l} characters the column holds"
                )));
            }
            Value::Text(text.to_string())
        }
        ColumnKind::Integer => Value::Int(t.parse().map_err(|_| bad("is not a whole number"))?),
        ColumnKind::Float => Value::Float(t.parse().map_err(|_| bad("is not a number"))?),
        ColumnKind::Decimal => {
            t.parse::<f64>().map_err(|_| bad("is not a number"))?;
            Value::Text(t.to_string())
        }
        ColumnKind::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Value::Bool(true),
            "false" | "no" | "0" => Value::Bool(false),
            _ => return Err(bad("is not true or false")),
        },
        ColumnKind::Date => Value::Date(
            t.parse::<jiff::civil::Date>()
                .map_err(|_| bad("is not a date (YYYY-MM-DD)"))?
                .to_string(),
        ),
        ColumnKind::Time => Value::Time(
            t.parse::<jiff::civil::Time>()
                .map_err(|_| bad("is not a time of day (HH:MM:SS)"))?
                .to_string(),
        ),
        ColumnKind::Timestamp => match t.parse::<jiff::Timestamp>() {
            Ok(ts) => Value::Timestamp(ts.to_string()),
            Err(_) => Value::Timestamp(
                t.parse::<jiff::civil::DateTime>()
                    .map_err(|_| bad("is not a date and time (YYYY-MM-DDTHH:MM:SS)"))?
                    .to_string(),
            ),
        },
        ColumnKind::Json => Value::Json(serde_json::from_str(t).map_err(|_| bad("is not JSON"))?),
        ColumnKind::Uuid => {
            let ok = t.len() == 36
                && t.chars().enumerate().all(|(i, c)| {
                    if matches!(i, 8 | 13 | 18 | 23) {
                        c == '-'
                    } else {
                        c.is_ascii_hexdigit()
                    }
                });
            if !ok {
                return Err(bad("is not a UUID"));
            }
            Value::Text(t.to_string())
        }
        ColumnKind::Bytes => return Err(bad("cannot be written to a binary column")),
    })
}

/// Several people's changes as one, collection by collection in apply order, each
/// row once (people who share a row would set it to the same value): a batch of
/// erasures then costs one transaction per collection instead of one per person.
pub fn merge(plan: &Plan, all: &[Changes]) -> Changes {
    let mut out = Changes::default();
    for &ci in &plan.erase_order {
        let coll = &plan.collections[ci];
        let mut seen_update = BTreeSet::new();
        let mut seen_delete = BTreeSet::new();
        let mut updates = Vec::new();
        let mut deletes = Vec::new();
        let mut key = None;
        for c in all
            .iter()
            .flat_map(|c| &c.collections)
            .filter(|c| c.collection == coll.name)
        {
            key.get_or_insert_with(|| c.key.clone());
            match &c.action {
                Action::Update { rows } => updates.extend(
                    rows.iter()
                        .filter(|(k, _)| seen_update.insert(k.key_text()))
                        .cloned(),
                ),
                Action::Delete { keys } => deletes.extend(
                    keys.iter()
                        .filter(|k| seen_delete.insert(k.key_text()))
                        .cloned(),
                ),
            }
        }
        let Some(key) = key else { continue };
        if !deletes.is_empty() {
            out.collections.push(CollectionChanges {
                collection: coll.name.clone(),
                key: key.clone(),
                action: Action::Delete { keys: deletes },
            });
        }
        if !updates.is_empty() {
            out.collections.push(CollectionChanges {
                collection: coll.name.clone(),
                key,
                action: Action::Update { rows: updates },
            });
        }
    }
    out
}

/// Apply one collection's changes in one transaction, in batched statements
/// (`UPDATE … SET c = CASE key WHEN … END WHERE key IN (…)`, `DELETE … WHERE key IN
/// (…)`). Applying the same changes again leaves the same state. Returns the rows
/// changed.
pub async fn apply(db: &Db, plan: &Plan, changes: &CollectionChanges) -> Result<u64, ConnectError> {
    let Some((_, coll)) = plan.collection(&changes.collection) else {
        return Err(ConnectError::new(
            "schema",
            format!(
                "{}: not a collection of dataset {}",
                changes.collection,
                plan.dataset()
            ),
        ));
    };
    let pk = key_column(coll)?;
    if changes.key != pk.name {
        return Err(ConnectError::new(
            "schema",
            format!(
                "{}: the changes are keyed by another column than the primary key",
                coll.name
            ),
        ));
    }
    let kind = db.kind();
    let table = db.quote(&coll.name);
    let key = db.quote(&pk.name);
    let mut statements: Vec<(String, Vec<Value>)> = Vec::new();
    match &changes.action {
        Action::Delete { keys } => {
            for chunk in keys.chunks(ROWS_PER_STATEMENT) {
                let mut params = Vec::new();
                let list = in_list(kind, pk, chunk, &mut params);
                statements.push((
                    format!("DELETE FROM {table} WHERE {key} IN ({list})"),
                    params,
                ));
            }
        }
        Action::Update { rows } => {
            // Rows setting the same columns share statements.
            let mut groups: BTreeMap<Vec<&str>, Vec<(&Value, Vec<&Value>)>> = BTreeMap::new();
            for (k, sets) in rows {
                let names: Vec<&str> = sets.iter().map(|(c, _)| c.as_str()).collect();
                groups
                    .entry(names)
                    .or_default()
                    .push((k, sets.iter().map(|(_, v)| v).collect()));
            }
            for (names, rows) in groups {
                let columns: Vec<&Column> = names
                    .iter()
                    .map(|n| {
                        coll.columns
                            .iter()
                            .find(|c| c.name == *n && c.name != pk.name && !coll.join_columns.contains(&c.name))
                            .ok_or_else(|| {
                                ConnectError::new(
                                    "schema",
                                    format!("{}: the changes set a column the dataset does not let Vow change", coll.name),
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?;
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let mut params = Vec::new();
                    let mut sql = format!("UPDATE {table} SET ");
                    for (c, column) in columns.iter().enumerate() {
                        if c > 0 {
                            sql.push_str(", ");
                        }
                        sql.push_str(&format!("{} = CASE {key}", db.quote(&column.name)));
                        for (k, values) in chunk {
                            params.push((*k).clone());
                            let when = placeholder(kind, pk, params.len());
                            params.push(values[c].clone());
                            let then = placeholder(kind, column, params.len());
                            sql.push_str(&format!(" WHEN {when} THEN {then}"));
                        }
                        sql.push_str(&format!(" ELSE {} END", db.quote(&column.name)));
                    }
                    let keys: Vec<Value> = chunk.iter().map(|(k, _)| (*k).clone()).collect();
                    let list = in_list(kind, pk, &keys, &mut params);
                    sql.push_str(&format!(" WHERE {key} IN ({list})"));
                    statements.push((sql, params));
                }
            }
        }
    }
    if statements.is_empty() {
        return Ok(0);
    }
    db.transaction(&coll.name, &statements).await
}

fn in_list(
    kind: crate::target::Kind,
    column: &Column,
    values: &[Value],
    params: &mut Vec<Value>,
) -> String {
    values
        .iter()
        .map(|v| {
            params.push(v.clone());
            placeholder(kind, column, params.len())
        })
        .collect::<Vec<_>>()
        .join(", ")
}
