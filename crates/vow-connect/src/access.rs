//! Find everything about a batch of people in one walk of a plan.
//!
//! Each stage's collections run concurrently (within the pool's limit). A collection
//! gets ONE `SELECT <annotated columns, key, join columns> FROM t WHERE a IN (…) OR
//! b IN (…)` for the whole batch (more only when over [`CHUNK`] values), with the
//! values of every person: their identities, and the join values their rows in
//! earlier stages led to. Rows are then split back per person by the values each
//! person reached, so two people who bought one product both get its row.

use crate::db::{Column, ColumnKind, Db, placeholder, read_as_text};
use crate::error::ConnectError;
use crate::plan::{Plan, PlanCollection};
use crate::value::{Identities, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// Values bound in one statement at most.
pub const CHUNK: usize = 1000;

/// Everything found about one person, collection by collection in walk order
/// (collections where nothing was found are left out).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    pub collections: Vec<FoundCollection>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FoundCollection {
    pub collection: String,
    /// The primary key column, when the dataset names one.
    pub key: Option<String>,
    pub rows: Vec<FoundRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FoundRow {
    pub key: Option<Value>,
    pub fields: Vec<FoundField>,
    /// Whole JSON documents (column → document) whose members are fields: kept so that
    /// masking a member rewrites the document; not part of what is shown.
    pub documents: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FoundField {
    /// The column, or `column.member` for a member of a document.
    pub field: String,
    pub categories: Vec<String>,
    pub value: Value,
}

impl Found {
    pub fn is_empty(&self) -> bool {
        self.collections.is_empty()
    }

    pub fn collection(&self, name: &str) -> Option<&FoundCollection> {
        self.collections.iter().find(|c| c.collection == name)
    }
}

/// Rows as text, one per distinct row.
type Rows = Vec<Vec<Option<String>>>;
/// Per collection: column → values reached.
type Reach = Vec<BTreeMap<String, BTreeSet<String>>>;

/// One walk for all of `people`; one [`Found`] per person, in their order.
pub async fn access(
    db: &Db,
    plan: &Plan,
    people: &[Identities],
) -> Result<Vec<Found>, ConnectError> {
    let n = plan.collections.len();
    let mut reach: Vec<Reach> = vec![vec![BTreeMap::new(); n]; people.len()];
    for (p, ids) in people.iter().enumerate() {
        for (c, coll) in plan.collections.iter().enumerate() {
            for (identity, column) in &coll.identities {
                if let Some(v) = ids.get(identity) {
                    reach[p][c]
                        .entry(column.clone())
                        .or_default()
                        .insert(v.clone());
                }
            }
        }
    }
    // Per person, per collection: the indices of their rows.
    let mut mine: Vec<Vec<Vec<usize>>> = vec![vec![Vec::new(); n]; people.len()];
    let mut rows: Vec<Rows> = vec![Vec::new(); n];
    for stage in &plan.stages {
        let queries = stage.iter().map(|&c| {
            let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for r in &reach {
                for (col, values) in &r[c] {
                    wanted
                        .entry(col.clone())
                        .or_default()
                        .extend(values.iter().cloned());
                }
            }
            select(db, &plan.collections[c], wanted)
        });
        let results = join_all(queries.collect()).await;
        for (&c, result) in stage.iter().zip(results) {
            rows[c] = result?;
            let coll = &plan.collections[c];
            for p in 0..people.len() {
                let conditions: Vec<(usize, BTreeSet<String>)> = reach[p][c]
                    .iter()
                    .filter_map(|(col, set)| {
                        let i = coll.column_index(col)?;
                        let set = if folds(db, coll.columns[i].kind) {
                            set.iter().map(|v| v.to_lowercase()).collect()
                        } else {
                            set.clone()
                        };
                        Some((i, set))
                    })
                    .collect();
                if conditions.is_empty() {
                    continue;
                }
                mine[p][c] = rows[c]
                    .iter()
                    .enumerate()
                    .filter(|(_, row)| {
                        conditions.iter().any(|(i, set)| {
                            row.get(*i).and_then(Option::as_ref).is_some_and(|v| {
                                if folds(db, coll.columns[*i].kind) {
                                    set.contains(&v.to_lowercase())
                                } else {
                                    set.contains(v)
                                }
                            })
                        })
                    })
                    .map(|(i, _)| i)
                    .collect();
                for e in plan.edges.iter().filter(|e| e.from == c) {
                    let Some(i) = coll.column_index(&e.from_column) else {
                        continue;
                    };
                    let values: Vec<String> = mine[p][c]
                        .iter()
                        .filter_map(|&r| rows[c][r].get(i).cloned().flatten())
                        .collect();
                    if !values.is_empty() {
                        reach[p][e.to]
                            .entry(e.to_column.clone())
                            .or_default()
                            .extend(values);
                    }
                }
            }
        }
    }
    Ok(mine
        .into_iter()
        .map(|per| Found {
            collections: per
                .into_iter()
                .enumerate()
                .filter(|(_, r)| !r.is_empty())
                .map(|(c, r)| found(&plan.collections[c], &rows[c], &r))
                .collect(),
        })
        .collect())
}

/// One collection's rows for the whole batch: `WHERE a IN (…) OR b IN (…)`, split
/// into statements of at most [`CHUNK`] values.
async fn select(
    db: &Db,
    coll: &PlanCollection,
    wanted: BTreeMap<String, BTreeSet<String>>,
) -> Result<Rows, ConnectError> {
    let kind = db.kind();
    let mut conditions: Vec<(&Column, Vec<Value>)> = Vec::new();
    for (col, values) in wanted {
        let Some(column) = coll.columns.iter().find(|c| c.name == col) else {
            continue;
        };
        let typed: Vec<Value> = values.iter().filter_map(|v| param(column, v)).collect();
        if !typed.is_empty() {
            conditions.push((column, typed));
        }
    }
    if conditions.is_empty() {
        return Ok(Vec::new());
    }
    let select = coll
        .columns
        .iter()
        .map(|c| read_as_text(kind, c.kind, &db.quote(&c.name)))
        .collect::<Vec<_>>()
        .join(", ");
    let head = format!("SELECT {select} FROM {} WHERE ", db.quote(&coll.name));
    // Statements: all conditions in one while they fit, else chunk by chunk.
    let total: usize = conditions.iter().map(|(_, v)| v.len()).sum();
    let mut groups: Vec<Vec<(&Column, &[Value])>> = Vec::new();
    if total <= CHUNK {
        groups.push(conditions.iter().map(|(c, v)| (*c, v.as_slice())).collect());
    } else {
        for (c, v) in &conditions {
            for chunk in v.chunks(CHUNK) {
                groups.push(vec![(*c, chunk)]);
            }
        }
    }
    let mut out: Rows = Vec::new();
    let mut seen: BTreeSet<Vec<Option<String>>> = BTreeSet::new();
    let key = coll.pk.as_ref().and_then(|pk| coll.column_index(&pk.name));
    for group in groups {
        let mut sql = head.clone();
        let mut params: Vec<Value> = Vec::new();
        for (g, (column, values)) in group.iter().enumerate() {
            if g > 0 {
                sql.push_str(" OR ");
            }
            sql.push_str(&db.quote(&column.name));
            sql.push_str(" IN (");
            for (k, v) in values.iter().enumerate() {
                if k > 0 {
                    sql.push_str(", ");
                }
                params.push(v.clone());
                sql.push_str(&placeholder(kind, column, params.len()));
            }
            sql.push(')');
        }
        for row in db.fetch(&coll.name, &sql, &params).await? {
            let identity = match key {
                Some(k) => vec![row.get(k).cloned().flatten()],
                None => row.clone(),
            };
            if seen.insert(identity) {
                out.push(row);
            }
        }
    }
    Ok(out)
}

/// MySQL's default collations compare text without case: a row its `IN (…)` found
/// for `Ada@x` belongs to the person who asked for `ada@x`.
fn folds(db: &Db, kind: ColumnKind) -> bool {
    db.kind() == crate::target::Kind::Mysql && kind == ColumnKind::Text
}

/// A reached value as a parameter for `column`, if it can be one (an identity that
/// is not a number never matches an integer column).
pub(crate) fn param(column: &Column, text: &str) -> Option<Value> {
    let v = Value::from_text(column.kind, Some(text));
    let fits = match column.kind {
        ColumnKind::Integer => matches!(v, Value::Int(_)),
        ColumnKind::Float => matches!(v, Value::Float(_)),
        ColumnKind::Bool => matches!(v, Value::Bool(_)),
        ColumnKind::Json | ColumnKind::Bytes => false,
        _ => true,
    };
    fits.then_some(v)
}

fn found(coll: &PlanCollection, rows: &Rows, mine: &[usize]) -> FoundCollection {
    let key_index = coll.pk.as_ref().and_then(|pk| coll.column_index(&pk.name));
    FoundCollection {
        collection: coll.name.clone(),
        key: coll.pk.as_ref().map(|c| c.name.clone()),
        rows: mine
            .iter()
            .filter_map(|&r| rows.get(r))
            .map(|row| {
                let text = |name: &str| {
                    coll.column_index(name)
                        .and_then(|i| row.get(i).cloned().flatten())
                };
                let mut documents = BTreeMap::new();
                let fields = coll
                    .fields
                    .iter()
                    .map(|f| {
                        let raw = text(&f.column.name);
                        let value = if f.member.is_empty() {
                            Value::from_text(f.column.kind, raw.as_deref())
                        } else {
                            let doc: serde_json::Value = raw
                                .as_deref()
                                .and_then(|t| serde_json::from_str(t).ok())
                                .unwrap_or(serde_json::Value::Null);
                            let member = pick(&doc, &f.member);
                            documents.entry(f.column.name.clone()).or_insert(doc);
                            member
                        };
                        FoundField {
                            field: f.name.clone(),
                            categories: f.categories.clone(),
                            value,
                        }
                    })
                    .collect();
                FoundRow {
                    key: key_index.map(|i| {
                        let kind = coll.columns[i].kind;
                        Value::from_text(kind, row.get(i).and_then(|v| v.as_deref()))
                    }),
                    fields,
                    documents,
                }
            })
            .collect(),
    }
}

/// A member of a JSON document as a value.
fn pick(doc: &serde_json::Value, path: &[String]) -> Value {
    let mut at = doc;
    for p in path {
        match at.get(p) {
            Some(next) => at = next,
            None => return Value::Null,
        }
    }
    match at {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Value::Int)
            .or_else(|| n.as_f64().map(Value::Float))
            .unwrap_or(Value::Null),
        serde_json::Value::String(s) => Value::Text(s.clone()),
        other => Value::Json(other.clone()),
    }
}

/// Run futures of one type together; their outputs in their order.
pub(crate) async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futures.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
