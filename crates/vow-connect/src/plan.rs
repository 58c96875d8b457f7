//! One dataset of a checked manifest, checked against the live schema and ordered
//! for the walk: which collections start from an identity, which references are
//! followed in which direction, in what stages collections are queried, and in what
//! order rows are deleted (referencing tables before the tables they reference).
//!
//! Every table and column name a connector puts in SQL comes from here, after it was
//! found in the live schema.

use crate::db::{Column, ColumnKind, LiveSchema};
use crate::manifest::{Collection, Field, Manifest, Text};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use vow_policy::{Diagnostic, Severity};

/// A masking strategy (fideslang names): `null_rewrite`, `string_rewrite`,
/// `random_string_rewrite`, `hmac`, or `delete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Strategy {
    pub name: String,
    pub configuration: Option<serde_json::Value>,
}

/// A dataset ready to walk.
#[derive(Debug, Clone)]
pub struct Plan {
    pub(crate) dataset: String,
    /// In walk order.
    pub(crate) collections: Vec<PlanCollection>,
    /// Indices into `collections`: each stage runs once the ones before it are done.
    pub(crate) stages: Vec<Vec<usize>>,
    /// References followed, in their direction.
    pub(crate) edges: Vec<Edge>,
    /// Indices into `collections`: referencing collections before referenced ones.
    pub(crate) erase_order: Vec<usize>,
    warnings: Vec<Diagnostic>,
}

#[derive(Debug, Clone)]
pub(crate) struct PlanCollection {
    pub(crate) name: String,
    pub(crate) pk: Option<Column>,
    /// Annotated fields: whole columns, or members of a JSON column.
    pub(crate) fields: Vec<PlanField>,
    /// The columns selected: fields' columns, the key and the join columns, once each.
    pub(crate) columns: Vec<Column>,
    /// identity name → column.
    pub(crate) identities: Vec<(String, String)>,
    /// Columns that join this collection to another: never masked.
    pub(crate) join_columns: BTreeSet<String>,
    /// `masking_strategy_override: {strategy: delete}`.
    pub(crate) delete: bool,
}

impl PlanCollection {
    pub(crate) fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PlanField {
    /// `column` or `column.member…`.
    pub(crate) name: String,
    pub(crate) column: Column,
    /// The path inside a JSON column; empty for the whole column.
    pub(crate) member: Vec<String>,
    pub(crate) categories: Vec<String>,
    pub(crate) length: Option<u64>,
    pub(crate) strategy: Option<Strategy>,
}

/// Values of `from.from_column` find rows of `to` where `to_column IN (…)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edge {
    pub(crate) from: usize,
    pub(crate) from_column: String,
    pub(crate) to: usize,
    pub(crate) to_column: String,
}

fn diagnostic(
    severity: Severity,
    code: &'static str,
    at: &Text,
    path: &str,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic {
        severity,
        code,
        file: String::new(),
        line: usize::try_from(at.referenced.line()).unwrap_or(0),
        column: usize::try_from(at.referenced.column()).unwrap_or(0),
        path: path.to_string(),
        message: message.into(),
    }
}

fn error(code: &'static str, at: &Text, path: &str, message: impl Into<String>) -> Diagnostic {
    diagnostic(Severity::Error, code, at, path, message)
}

impl Plan {
    /// Check dataset `dataset` of `manifest` (which passed [`crate::check`]) against
    /// the live schema: every collection a table, every field a column, documents on
    /// JSON columns, joined columns of comparable kinds. Errors carry the manifest's
    /// line and column; the caller sets the file.
    pub fn build(
        manifest: &Manifest,
        dataset: &str,
        schema: &LiveSchema,
    ) -> Result<Plan, Vec<Diagnostic>> {
        let Some((di, d)) = manifest
            .dataset
            .iter()
            .enumerate()
            .find(|(_, d)| d.fides_key.value == dataset)
        else {
            return Err(vec![Diagnostic {
                severity: Severity::Error,
                code: "unknown_dataset",
                file: String::new(),
                line: 0,
                column: 0,
                path: String::new(),
                message: "the manifest has no dataset with this fides_key".to_string(),
            }]);
        };
        let mut out = Vec::new();
        let mut collections = Vec::new();
        // Manifest collection, with its index, for each plan collection.
        let mut sources: Vec<(usize, &Collection)> = Vec::new();
        for (ci, c) in d.collections.iter().enumerate() {
            let meta = c.meta();
            if meta.is_some_and(|m| m.skip_processing) {
                continue;
            }
            let path = format!("dataset[{di}].collections[{ci}]");
            let Some(table) = schema.tables.get(&c.name.value) else {
                out.push(error(
                    "unknown_table",
                    &c.name,
                    &format!("{path}.name"),
                    "the live database has no table of this name",
                ));
                continue;
            };
            let mut pc = PlanCollection {
                name: c.name.value.clone(),
                pk: None,
                fields: Vec::new(),
                columns: Vec::new(),
                identities: Vec::new(),
                join_columns: BTreeSet::new(),
                delete: meta
                    .and_then(|m| m.masking_strategy_override.as_ref())
                    .is_some_and(|m| m.strategy.value == "delete"),
            };
            for (fi, f) in c.fields.iter().enumerate() {
                let fpath = format!("{path}.fields[{fi}]");
                let Some(column) = table.iter().find(|col| col.name == f.name.value) else {
                    out.push(error(
                        "unknown_column",
                        &f.name,
                        &format!("{fpath}.name"),
                        format!("table {} has no column of this name", c.name.value),
                    ));
                    continue;
                };
                if let Some(m) = f.meta() {
                    if m.primary_key {
                        pc.pk = Some(column.clone());
                    }
                    if let Some(id) = &m.identity {
                        // Identities are text (an external id may be a number).
                        if ColumnKind::Text.comparable(column.kind)
                            || column.kind == ColumnKind::Integer
                        {
                            pc.identities.push((id.value.clone(), column.name.clone()));
                        } else {
                            out.push(error(
                                "incomparable",
                                id,
                                &format!("{fpath}.fides_meta.identity"),
                                format!(
                                    "an identity is text, but this column holds {:?}",
                                    column.kind
                                ),
                            ));
                        }
                    }
                }
                if !f.fields.is_empty() && column.kind != ColumnKind::Json {
                    out.push(error(
                        "not_a_document",
                        &f.name,
                        &format!("{fpath}.fields"),
                        format!(
                            "nested fields describe a JSON document, but this column holds {:?}",
                            column.kind
                        ),
                    ));
                    continue;
                }
                members(f, column, &mut Vec::new(), &mut pc.fields);
                if !pc.columns.iter().any(|x| x.name == column.name) {
                    pc.columns.push(column.clone());
                }
            }
            if let Some(pk) = &pc.pk
                && !pc.columns.iter().any(|x| x.name == pk.name)
            {
                pc.columns.push(pk.clone());
            }
            collections.push(pc);
            sources.push((ci, c));
        }
        let index: BTreeMap<String, usize> = collections
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        // References, both ends checked; each becomes one or two edges.
        let mut edges = Vec::new();
        let mut fk: Vec<(usize, usize)> = Vec::new(); // (child, parent)
        let mut waits: Vec<(usize, usize)> = Vec::new(); // (first, then)
        for (me, (ci, c)) in sources.iter().enumerate() {
            for (fi, f) in c.fields.iter().enumerate() {
                let Some(m) = f.meta() else { continue };
                for (ri, r) in m.references.iter().enumerate() {
                    let rpath = format!(
                        "dataset[{di}].collections[{ci}].fields[{fi}].fides_meta.references[{ri}]"
                    );
                    if let Some(other) = &r.dataset
                        && other.value != dataset
                    {
                        out.push(diagnostic(
                            Severity::Warning,
                            "cross_dataset",
                            other,
                            &format!("{rpath}.dataset"),
                            "a reference to another dataset is not followed yet",
                        ));
                        continue;
                    }
                    let Some((oc, ofield)) = r.field.value.split_once('.') else {
                        continue;
                    };
                    let Some(&them) = index.get(oc) else {
                        // A skipped or missing collection (the latter reported above).
                        continue;
                    };
                    let Some(mine) = collections[me]
                        .columns
                        .iter()
                        .find(|x| x.name == f.name.value)
                        .cloned()
                    else {
                        continue;
                    };
                    let Some(theirs) = schema.column(oc, ofield).cloned() else {
                        out.push(error(
                            "unknown_column",
                            &r.field,
                            &format!("{rpath}.field"),
                            format!("table {oc} has no column of this name (references join whole columns)"),
                        ));
                        continue;
                    };
                    if !mine.kind.comparable(theirs.kind) {
                        out.push(error(
                            "incomparable",
                            &r.field,
                            &format!("{rpath}.field"),
                            format!(
                                "this column holds {:?} and the referenced one {:?}: their values cannot be compared",
                                mine.kind, theirs.kind
                            ),
                        ));
                        continue;
                    }
                    if !collections[them]
                        .columns
                        .iter()
                        .any(|x| x.name == theirs.name)
                    {
                        collections[them].columns.push(theirs.clone());
                    }
                    collections[me].join_columns.insert(mine.name.clone());
                    collections[them].join_columns.insert(theirs.name.clone());
                    let direction = r.direction.as_ref().map(|t| t.value.as_str());
                    if direction != Some("from") {
                        edges.push(Edge {
                            from: me,
                            from_column: mine.name.clone(),
                            to: them,
                            to_column: theirs.name.clone(),
                        });
                    }
                    if direction != Some("to") {
                        edges.push(Edge {
                            from: them,
                            from_column: theirs.name.clone(),
                            to: me,
                            to_column: mine.name.clone(),
                        });
                    }
                    let is_pk = |i: usize, col: &str| {
                        collections[i].pk.as_ref().is_some_and(|p| p.name == col)
                    };
                    if is_pk(them, &theirs.name) && !is_pk(me, &mine.name) {
                        fk.push((me, them));
                    } else if is_pk(me, &mine.name) && !is_pk(them, &theirs.name) {
                        fk.push((them, me));
                    }
                }
            }
            // `after: [dataset.x]`: x is visited before this collection.
            for after in c.meta().map(|m| m.after.as_slice()).unwrap_or_default() {
                if let Some((ds, name)) = after.value.split_once('.')
                    && ds == dataset
                    && let Some(&x) = index.get(name)
                {
                    waits.push((x, me));
                }
            }
            // `erase_after: [dataset.x]`: x is erased before this collection.
            for after in c
                .meta()
                .map(|m| m.erase_after.as_slice())
                .unwrap_or_default()
            {
                if let Some((ds, name)) = after.value.split_once('.')
                    && ds == dataset
                    && let Some(&x) = index.get(name)
                {
                    fk.push((x, me));
                }
            }
        }
        if out.iter().any(Diagnostic::is_error) {
            return Err(out);
        }
        let (stages, order, edges) = stages(&collections, edges, &waits);
        // Renumber collections in walk order.
        let mut renumber = vec![usize::MAX; collections.len()];
        for (new, &old) in order.iter().enumerate() {
            renumber[old] = new;
        }
        let mut slots: Vec<Option<PlanCollection>> = collections.into_iter().map(Some).collect();
        let collections: Vec<PlanCollection> =
            order.iter().filter_map(|&i| slots[i].take()).collect();
        let stages = stages
            .into_iter()
            .map(|s| s.into_iter().map(|i| renumber[i]).collect())
            .collect();
        let edges = edges
            .into_iter()
            .map(|e| Edge {
                from: renumber[e.from],
                to: renumber[e.to],
                ..e
            })
            .collect();
        let fk: Vec<(usize, usize)> = fk
            .into_iter()
            .filter(|&(a, b)| renumber[a] != usize::MAX && renumber[b] != usize::MAX)
            .map(|(a, b)| (renumber[a], renumber[b]))
            .collect();
        let erase_order = erase_order(collections.len(), &fk);
        Ok(Plan {
            dataset: dataset.to_string(),
            collections,
            stages,
            edges,
            erase_order,
            warnings: out,
        })
    }

    pub fn dataset(&self) -> &str {
        &self.dataset
    }

    /// The collections the walk visits, in the order it visits them.
    pub fn collections(&self) -> Vec<String> {
        self.collections.iter().map(|c| c.name.clone()).collect()
    }

    /// The stages of the walk: the collections of one stage run concurrently.
    pub fn stages(&self) -> Vec<Vec<String>> {
        self.stages
            .iter()
            .map(|s| {
                s.iter()
                    .map(|&i| self.collections[i].name.clone())
                    .collect()
            })
            .collect()
    }

    /// Collections in the order rows are deleted: referencing before referenced.
    pub fn erase_order(&self) -> Vec<String> {
        self.erase_order
            .iter()
            .map(|&i| self.collections[i].name.clone())
            .collect()
    }

    /// What the plan noted but does not stop for (`cross_dataset`).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    pub(crate) fn collection(&self, name: &str) -> Option<(usize, &PlanCollection)> {
        self.collections
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
    }
}

/// A field, or the leaf members of a document field, as plan fields.
fn members(f: &Field, column: &Column, path: &mut Vec<String>, into: &mut Vec<PlanField>) {
    if f.fields.is_empty() {
        let meta = f.meta();
        let mut name = column.name.clone();
        for p in path.iter() {
            name.push('.');
            name.push_str(p);
        }
        into.push(PlanField {
            name,
            column: column.clone(),
            member: path.clone(),
            categories: f.data_categories.iter().map(|c| c.value.clone()).collect(),
            length: meta.and_then(|m| m.length),
            strategy: meta
                .and_then(|m| m.masking_strategy_override.as_ref())
                .map(|m| Strategy {
                    name: m.strategy.value.clone(),
                    configuration: m.configuration.clone(),
                }),
        });
        return;
    }
    for member in &f.fields {
        path.push(member.name.value.clone());
        members(member, column, path, into);
        path.pop();
    }
}

/// Stages of the walk. A collection runs once every collection whose values lead to
/// it has run; when that never happens (references both ways make cycles), the
/// collections already reached by some value run and the edges from collections
/// still waiting are dropped. Returns the stages, the walk order and the edges kept.
fn stages(
    collections: &[PlanCollection],
    edges: Vec<Edge>,
    waits: &[(usize, usize)],
) -> (Vec<Vec<usize>>, Vec<usize>, Vec<Edge>) {
    let n = collections.len();
    let mut done = vec![false; n];
    let mut stages: Vec<Vec<usize>> = Vec::new();
    loop {
        let reached = |i: usize, done: &[bool]| {
            !collections[i].identities.is_empty() || edges.iter().any(|e| e.to == i && done[e.from])
        };
        let pending: Vec<usize> = (0..n).filter(|&i| !done[i] && reached(i, &done)).collect();
        if pending.is_empty() {
            break;
        }
        let ready: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|&i| {
                // `after`: wait for the collections named.
                waits.iter().all(|&(first, then)| then != i || first == i || done[first])
                    // Collections holding an identity start the walk without waiting.
                    && (!collections[i].identities.is_empty()
                    || edges
                        .iter()
                        .all(|e| e.to != i || e.from == i || done[e.from]))
            })
            .collect();
        let stage = if ready.is_empty() { pending } else { ready };
        for &i in &stage {
            done[i] = true;
        }
        stages.push(stage);
    }
    // An edge is followed only from a collection that runs in an earlier stage.
    let mut stage_of = vec![usize::MAX; n];
    for (s, stage) in stages.iter().enumerate() {
        for &i in stage {
            stage_of[i] = s;
        }
    }
    let edges = edges
        .into_iter()
        .filter(|e| stage_of[e.from] < stage_of[e.to] && stage_of[e.to] != usize::MAX)
        .collect();
    let order = stages.iter().flatten().copied().collect();
    (stages, order, edges)
}

/// Children before parents (`fk` holds (child, parent)), otherwise walk order.
fn erase_order(n: usize, fk: &[(usize, usize)]) -> Vec<usize> {
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        // The first collection whose children are all placed; on a cycle, the first left.
        let next = (0..n)
            .find(|&i| !placed[i] && fk.iter().all(|&(c, p)| p != i || c == i || placed[c]))
            .or_else(|| (0..n).find(|&i| !placed[i]));
        let Some(i) = next else { break };
        placed[i] = true;
        order.push(i);
    }
    order
}
