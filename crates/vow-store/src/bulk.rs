//! Many rows in few statements: new people (a create is a batch of one, an import
//! batch is hundreds), and the check of which identifiers a batch would repeat.
//!
//! Each table gets multi-row `INSERT … VALUES (…), (…)` statements sized under both
//! databases' limit on bound parameters, so a batch of 1,000 people of 8 fields is a
//! dozen statements instead of 21,000.

use crate::{
    Backend, ConsentRow, FieldRow, IdentifierRow, Result, StoreError, SubjectKeyRow, SubjectRow, Tx,
};
use std::borrow::Borrow;
use std::collections::HashSet;

/// Bound parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_PARAMS: usize = 30_000;

/// How many rows of `width` parameters one statement takes. PostgreSQL parses and
/// plans each new statement text, and a huge one costs more there than the round
/// trips it saves: it gets statements of about 1,000 parameters, whose text repeats
/// (so stays prepared). SQLite prepares a statement far more cheaply.
pub(crate) fn rows_per_statement(backend: Backend, width: usize) -> usize {
    let params = match backend {
        Backend::Sqlite => MAX_PARAMS,
        Backend::Postgres => 1_000,
    };
    (params / width.max(1)).max(1)
}

/// `head` (`INSERT INTO t (a, b) VALUES `) followed by `rows` groups of `width`
/// placeholders. Only placeholders are formatted into the text.
///
/// SQLite gets anonymous `?`: for a numbered one it looks the number up in a list,
/// once per parameter, and a statement of 30,000 took a second to bind.
pub(crate) fn values_sql(backend: Backend, head: &str, width: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(head.len() + rows * width * 6);
    sql.push_str(head);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            placeholder(backend, &mut sql, n);
        }
        sql.push(')');
    }
    sql
}

/// `(p, p, …)`: `n` placeholders numbered from `first`, for an `IN` list.
pub(crate) fn in_list(backend: Backend, first: usize, n: usize) -> String {
    let mut sql = String::with_capacity(n * 6 + 2);
    sql.push('(');
    for k in 0..n {
        if k > 0 {
            sql.push(',');
        }
        placeholder(backend, &mut sql, first + k);
    }
    sql.push(')');
    sql
}

/// Parameter `n` (from 1): `$n` on PostgreSQL, `?` on SQLite (in order).
fn placeholder(backend: Backend, sql: &mut String, n: usize) {
    match backend {
        Backend::Postgres => {
            sql.push('$');
            sql.push_str(&n.to_string());
        }
        Backend::Sqlite => sql.push('?'),
    }
}

/// A new person's rows, written together by [`Tx::insert_people`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    pub subject: SubjectRow,
    /// Coarse residence (an ISO 3166 code), if known.
    pub residence: Option<String>,
    pub key: SubjectKeyRow,
    pub identifiers: Vec<IdentifierRow>,
    pub fields: Vec<FieldRow>,
    /// The ledger in order. A new person has none yet, so positions are 1, 2, …
    /// as listed (the rows' own `seq` is ignored).
    pub consents: Vec<ConsentRow>,
}

/// An identifier as the blind index knows it: (kind, index).
pub type IdentifierKey = (String, Vec<u8>);

impl Tx {
    /// Insert new people; with `import`, as part of that running import (invisible
    /// until it commits). Fails with `Stale` when a key was wrapped under a KEK that is
    /// no longer live, and with `Conflict` when an identifier is already taken; on
    /// PostgreSQL the failed statement ends the transaction.
    pub async fn insert_people<P: Borrow<NewPerson>>(
        &mut self,
        people: &[P],
        import: Option<&str>,
    ) -> Result<()> {
        if people.is_empty() {
            return Ok(());
        }
        let people: Vec<&NewPerson> = people.iter().map(Borrow::borrow).collect();
        let mut versions: Vec<(&str, i64)> = people
            .iter()
            .map(|p| (p.key.tenant_id.as_str(), p.key.kek_version))
            .collect();
        versions.sort_unstable();
        versions.dedup();
        for (tenant, version) in versions {
            let live: Option<(i64,)> = sqlx::query_as(self.backend.live_kek_sql())
                .bind(tenant)
                .bind(version)
                .fetch_optional(&mut *self.inner)
                .await?;
            if live.is_none() {
                return Err(StoreError::Stale(
                    "the tenant's key-encryption key was rotated",
                ));
            }
        }

        const SUBJECTS: &str = "INSERT INTO subjects (id, tenant_id, created_at, birth_date, status, import_id, residence) VALUES ";
        for part in people.chunks(rows_per_statement(self.backend, 7)) {
            let sql = values_sql(self.backend, SUBJECTS, 7, part.len());
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for p in part {
                let s = &p.subject;
                q = q
                    .bind(&s.id)
                    .bind(&s.tenant_id)
                    .bind(s.created_at)
                    .bind(&s.birth_date)
                    .bind(if import.is_some() {
                        "importing"
                    } else {
                        s.status.as_str()
                    })
                    .bind(import)
                    .bind(&p.residence);
            }
            q.execute(&mut *self.inner).await?;
        }

        const KEYS: &str =
            "INSERT INTO subject_keys (subject_id, tenant_id, kek_version, wrapped) VALUES ";
        for part in people.chunks(rows_per_statement(self.backend, 4)) {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(values_sql(
                self.backend,
                KEYS,
                4,
                part.len(),
            )));
            for p in part {
                let k = &p.key;
                q = q
                    .bind(&k.subject_id)
                    .bind(&k.tenant_id)
                    .bind(k.kek_version)
                    .bind(&k.wrapped);
            }
            q.execute(&mut *self.inner).await?;
        }

        const IDENTIFIERS: &str =
            "INSERT INTO identifiers (tenant_id, kind, bidx, subject_id, value) VALUES ";
        let identifiers: Vec<&IdentifierRow> = people.iter().flat_map(|p| &p.identifiers).collect();
        for part in identifiers.chunks(rows_per_statement(self.backend, 5)) {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(values_sql(
                self.backend,
                IDENTIFIERS,
                5,
                part.len(),
            )));
            for i in part {
                q = q
                    .bind(&i.tenant_id)
                    .bind(&i.kind)
                    .bind(&i.bidx)
                    .bind(&i.subject_id)
                    .bind(&i.value);
            }
            if let Err(e) = q.execute(&mut *self.inner).await {
                let e = StoreError::from(e);
                return Err(if e.is_unique_violation() {
                    StoreError::Conflict("a subject with this identifier")
                } else {
                    e
                });
            }
        }

        let fields: Vec<&FieldRow> = people.iter().flat_map(|p| &p.fields).collect();
        self.insert_fields(&fields).await?;
        let consents: Vec<(i64, &ConsentRow)> = people
            .iter()
            .flat_map(|p| (1i64..).zip(&p.consents))
            .collect();
        self.insert_consents(&consents).await?;
        Ok(())
    }

    /// Field rows in multi-row statements (a new field, a correction, a batch of people).
    pub(crate) async fn insert_fields(&mut self, fields: &[&FieldRow]) -> Result<()> {
        const FIELDS: &str = "INSERT INTO fields (id, tenant_id, subject_id, category, purposes, source, store, collected_at, value, version, supersedes, superseded_at) VALUES ";
        for part in fields.chunks(rows_per_statement(self.backend, 12)) {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(values_sql(
                self.backend,
                FIELDS,
                12,
                part.len(),
            )));
            for f in part {
                q = q
                    .bind(&f.id)
                    .bind(&f.tenant_id)
                    .bind(&f.subject_id)
                    .bind(&f.category)
                    .bind(&f.purposes)
                    .bind(&f.source)
                    .bind(&f.store)
                    .bind(f.collected_at)
                    .bind(&f.value)
                    .bind(f.version)
                    .bind(&f.supersedes)
                    .bind(f.superseded_at);
            }
            q.execute(&mut *self.inner).await?;
        }

        Ok(())
    }

    /// Ledger rows at the given positions, in multi-row statements.
    pub(crate) async fn insert_consents(&mut self, consents: &[(i64, &ConsentRow)]) -> Result<()> {
        const CONSENTS: &str = "INSERT INTO consents (id, tenant_id, subject_id, seq, purpose, action, kind, at, expires_at, policy_version, parent_subject_id, evidence, recorded_at, recorded_by) VALUES ";
        for part in consents.chunks(rows_per_statement(self.backend, 14)) {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(values_sql(
                self.backend,
                CONSENTS,
                14,
                part.len(),
            )));
            for (seq, c) in part {
                q = q
                    .bind(&c.id)
                    .bind(&c.tenant_id)
                    .bind(&c.subject_id)
                    .bind(*seq)
                    .bind(&c.purpose)
                    .bind(&c.action)
                    .bind(&c.kind)
                    .bind(c.at)
                    .bind(c.expires_at)
                    .bind(c.policy_version)
                    .bind(&c.parent_subject_id)
                    .bind(&c.evidence)
                    .bind(c.recorded_at)
                    .bind(&c.recorded_by);
            }
            q.execute(&mut *self.inner).await?;
        }
        Ok(())
    }

    /// Of `wanted`, the identifiers a person of `tenant_id` already holds (whatever
    /// their state: active, or not yet visible in a running import), and those of
    /// people who asked to be erased (suppressed): two indexed probes per kind and
    /// batch, not two per person.
    pub async fn taken_identifiers(
        &mut self,
        tenant_id: &str,
        wanted: &[IdentifierKey],
    ) -> Result<(HashSet<IdentifierKey>, HashSet<IdentifierKey>)> {
        let mut kinds: Vec<&str> = wanted.iter().map(|(k, _)| k.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let mut held = HashSet::new();
        let mut suppressed = HashSet::new();
        for kind in kinds {
            let indexes: Vec<&Vec<u8>> = wanted
                .iter()
                .filter(|(k, _)| k == kind)
                .map(|(_, b)| b)
                .collect();
            for part in indexes.chunks(rows_per_statement(self.backend, 1).saturating_sub(2).max(1))
            {
                for (table, found) in [
                    ("identifiers", &mut held),
                    ("suppressions", &mut suppressed),
                ] {
                    let mut sql = format!("SELECT bidx FROM {table} WHERE tenant_id = ");
                    placeholder(self.backend, &mut sql, 1);
                    sql.push_str(" AND kind = ");
                    placeholder(self.backend, &mut sql, 2);
                    sql.push_str(" AND bidx IN ");
                    sql.push_str(&in_list(self.backend, 3, part.len()));
                    // The table name is one of two constants; every value is bound.
                    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(tenant_id)
                        .bind(kind);
                    for b in part {
                        q = q.bind(*b);
                    }
                    let rows: Vec<(Vec<u8>,)> = q.fetch_all(&mut *self.inner).await?;
                    found.extend(rows.into_iter().map(|(b,)| (kind.to_string(), b)));
                }
            }
        }
        Ok((held, suppressed))
    }

    /// Crypto-shred many people of `tenant_id` at once (see [`Tx::erase_subject`]):
    /// a statement per table for each 500 of them. Fails with `Corrupt`, undoing
    /// nothing itself (the caller's transaction rolls back), if one is not there.
    pub async fn erase_subjects(&mut self, tenant_id: &str, ids: &[&str], at: i64) -> Result<()> {
        // The ids lead and the tenant is checked as an expression (`tenant_id || ''`):
        // with a tenant equality the planner would walk an index over the whole tenant
        // (`fields_breach`, `subject_keys_kek`) instead of probing each person.
        for part in ids.chunks(500) {
            let list = in_list(self.backend, 1, part.len());
            let tenant_at = part.len() + 1;
            for table in ["subject_keys", "identifiers", "fields", "consents"] {
                let mut sql = format!(
                    "DELETE FROM {table} WHERE subject_id IN {list} AND (tenant_id || '') = "
                );
                placeholder(self.backend, &mut sql, tenant_at);
                // Table names are constants; every value is bound.
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for id in part {
                    q = q.bind(*id);
                }
                q.bind(tenant_id).execute(&mut *self.inner).await?;
            }
            let mut sql = String::from(
                "UPDATE subjects SET status = 'erased', birth_date = NULL, created_at = ",
            );
            placeholder(self.backend, &mut sql, 1);
            sql.push_str(" WHERE id IN ");
            sql.push_str(&in_list(self.backend, 2, part.len()));
            sql.push_str(" AND (tenant_id || '') = ");
            placeholder(self.backend, &mut sql, part.len() + 2);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at);
            for id in part {
                q = q.bind(*id);
            }
            let done = q.bind(tenant_id).execute(&mut *self.inner).await?;
            if done.rows_affected() != part.len() as u64 {
                return Err(StoreError::Corrupt("subject vanished during erasure"));
            }
        }
        Ok(())
    }

    /// Of `ids`, how many identifiers each holds, and which were ever disclosed to a
    /// recipient (they are told of an erasure one by one).
    pub async fn erasure_facts(
        &mut self,
        tenant_id: &str,
        ids: &[&str],
    ) -> Result<(std::collections::HashMap<String, i64>, HashSet<String>)> {
        let mut counts = std::collections::HashMap::new();
        let mut disclosed = HashSet::new();
        for part in ids.chunks(500) {
            let list = in_list(self.backend, 2, part.len());
            let mut sql =
                String::from("SELECT subject_id, COUNT(*) FROM identifiers WHERE tenant_id = ");
            placeholder(self.backend, &mut sql, 1);
            sql.push_str(" AND subject_id IN ");
            sql.push_str(&list);
            sql.push_str(" GROUP BY subject_id");
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tenant_id);
            for id in part {
                q = q.bind(*id);
            }
            let rows: Vec<(String, i64)> = q.fetch_all(&mut *self.inner).await?;
            counts.extend(rows);
            let mut sql =
                String::from("SELECT DISTINCT subject_id FROM disclosed WHERE tenant_id = ");
            placeholder(self.backend, &mut sql, 1);
            sql.push_str(" AND subject_id IN ");
            sql.push_str(&list);
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tenant_id);
            for id in part {
                q = q.bind(*id);
            }
            let rows: Vec<(String,)> = q.fetch_all(&mut *self.inner).await?;
            disclosed.extend(rows.into_iter().map(|r| r.0));
        }
        Ok((counts, disclosed))
    }
}
