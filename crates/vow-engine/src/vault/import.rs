//! Bulk import of subjects from JSONL or CSV.
//!
//! All or nothing by default: every row is validated and judged, and if any is
//! bad nothing is committed and every bad row is reported by line number. With
//! `skip_bad`, good rows are committed and bad ones reported.

use crate::engine::ts;
use crate::error::{EngineError, Result};
use crate::input::{Identifiers, NewConsent, NewField, NewSubject, ParentRef};
use crate::vault::keyring::TenantKeys;
use crate::vault::subjects::{Known, Prepared};
use crate::{Actor, Engine};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_core::{ConsentKind, Pii};
use vow_store::IdentifierKey;

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub skip_bad: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// The import's id: its subjects' audit entries name it, and `vow import list`.
    pub import_id: String,
    pub imported: usize,
    pub bad: Vec<BadRow>,
    /// False when bad rows stopped an all-or-nothing import: nothing was written.
    pub committed: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BadRow {
    pub line: usize,
    pub error: String,
}

/// A parsed row, or why it could not be parsed. Errors never quote the row.
pub type Row = (usize, std::result::Result<NewSubject, String>);

/// JSONL: one subject per line (the shape of `POST …/subjects`); blank lines are skipped.
pub fn parse_jsonl(text: &str) -> impl Iterator<Item = Row> + '_ {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            // The row is personal data: the error names the place and the expectation only.
            let parsed = vow_core::json::from_slice::<NewSubject>(line.as_bytes()).map_err(|e| {
                let at = if e.pointer.is_empty() {
                    String::new()
                } else {
                    format!("{} ", e.pointer)
                };
                format!("{at}(column {}): {}", e.column, e.what)
            });
            (i + 1, parsed)
        })
}

/// CSV with a header. Columns: `email`, `phone`, `external_id`, `birth_date`, `residence`,
/// `consents` (`purpose:kind[@event]` separated by `;`), `parent_email` (for
/// parental consents), and one column per field named `category[purpose+purpose]`
/// with an optional `@store` suffix, e.g. `user.name[research+panel_management]@primary`.
pub fn parse_csv(text: &str) -> std::result::Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("line 1: cannot read the header: {e}"))?
        .clone();
    let mut columns = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        columns.push(parse_header(h.trim()).map_err(|e| format!("line 1, column {}: {e}", i + 1))?);
    }
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let row = match record {
            Ok(r) => csv_row(&columns, &r),
            Err(e) => Err(match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => {
                    format!("expected {expected_len} columns, found {len}")
                }
                _ => "the row is not valid CSV".to_string(),
            }),
        };
        rows.push((line, row));
    }
    Ok(rows)
}

#[derive(Debug, Clone)]
enum Column {
    Email,
    Phone,
    ExternalId,
    BirthDate,
    Residence,
    Consents,
    ParentEmail,
    Field {
        category: String,
        purposes: Vec<String>,
        store: Option<String>,
    },
}

fn parse_header(h: &str) -> std::result::Result<Column, String> {
    Ok(match h {
        "email" => Column::Email,
        "phone" => Column::Phone,
        "external_id" => Column::ExternalId,
        "birth_date" => Column::BirthDate,
        "residence" => Column::Residence,
        "consents" => Column::Consents,
        "parent_email" => Column::ParentEmail,
        _ => {
            let (main, store) = match h.rsplit_once('@') {
                Some((m, s)) if m.ends_with(']') => (m, Some(s.to_string())),
                _ => (h, None),
            };
            let Some((category, rest)) = main.split_once('[') else {
                // Not quoted: a file without a header has a person in its first line.
                return Err("unknown column: expected email, phone, external_id, birth_date, residence, consents, parent_email or category[purpose+purpose]".to_string());
            };
            let Some(purposes) = rest.strip_suffix(']') else {
                return Err(
                    "a field column is category[purpose+purpose]: the ']' is missing".to_string(),
                );
            };
            let purposes: Vec<String> = purposes
                .split('+')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
            if purposes.is_empty() {
                return Err("a field column names at least one purpose inside [ ]".to_string());
            }
            Column::Field {
                category: category.trim().to_string(),
                purposes,
                store,
            }
        }
    })
}

fn csv_row(columns: &[Column], r: &csv::StringRecord) -> std::result::Result<NewSubject, String> {
    let mut s = NewSubject::default();
    let mut ids = Identifiers::default();
    let mut parent_email = None;
    let mut consent_specs = Vec::new();
    for (col, cell) in columns.iter().zip(r.iter()) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        match col {
            Column::Email => ids.email = Some(Pii::new(cell.to_string())),
            Column::Phone => ids.phone = Some(Pii::new(cell.to_string())),
            Column::ExternalId => ids.external_id = Some(Pii::new(cell.to_string())),
            Column::BirthDate => s.birth_date = Some(Pii::new(cell.to_string())),
            Column::Residence => s.residence = Some(cell.to_string()),
            Column::ParentEmail => parent_email = Some(cell.to_string()),
            Column::Consents => {
                for spec in cell.split(';').map(str::trim).filter(|x| !x.is_empty()) {
                    let (purpose, rest) = spec.split_once(':').ok_or(
                        "consents: each entry is purpose:kind[@event], e.g. research:express",
                    )?;
                    let (kind, event) = match rest.split_once('@') {
                        Some((k, e)) => (k, Some(e)),
                        None => (rest, None),
                    };
                    consent_specs.push((
                        purpose.trim().to_string(),
                        kind.trim().to_string(),
                        event.map(|e| e.trim().to_string()),
                    ));
                }
            }
            Column::Field {
                category,
                purposes,
                store,
            } => s.fields.push(NewField {
                category: category.clone(),
                value: Pii::new(Value::String(cell.to_string())),
                purposes: purposes.clone(),
                source: Some("import".to_string()),
                store: store.clone(),
                collected_at: None,
                corrects: None,
            }),
        }
    }
    for (purpose, kind, event) in consent_specs {
        let mut evidence = json!({"channel": "import"});
        if let Some(e) = event {
            evidence["event"] = json!(e);
        }
        // An unknown kind goes on to be refused, with its place, where consents are checked.
        let parent = if ConsentKind::parse(&kind) == Some(ConsentKind::Parental) {
            Some(ParentRef {
                email: parent_email.clone().map(Pii::new),
                ..ParentRef::default()
            })
        } else {
            None
        };
        s.consents.push(NewConsent {
            purpose,
            action: None,
            kind: Some(kind),
            evidence: Some(Pii::new(evidence)),
            at: None,
            expires_at: None,
            parent,
        });
    }
    s.identifiers = ids;
    Ok(s)
}

/// The blind indexes of a batch's identifiers (rows that do not parse, or whose
/// identifiers do not normalise, are left to `prepare_subject` to report).
fn blind_indexes(keys: &TenantKeys, batch: &[Row]) -> Vec<IdentifierKey> {
    let mut out = Vec::new();
    for (_, row) in batch {
        let Ok(subject) = row else { continue };
        for (kind, value) in subject.identifiers.iter() {
            if let Ok(norm) = vow_crypto::normalize(kind, value.expose()) {
                let b = keys.indexer.index_normalized(kind, &norm);
                out.push((kind.as_str().to_string(), b.to_vec()));
            }
        }
    }
    out
}

/// Whether a row gives a parental consent naming the parent (looked up in the store).
fn names_parent(row: &Row) -> bool {
    matches!(&row.1, Ok(s) if s.consents.iter().any(|c| c.parent.is_some()))
}

/// How long one batch's statements should hold the write lock (its commit's flush
/// comes on top): about what a read's audit entry waits behind an import. The batch
/// size follows from it.
const BATCH_TIME: Duration = Duration::from_millis(10);
/// The fewest and the most rows in one batch.
const BATCH_ROWS: std::ops::RangeInclusive<usize> = 50..=2000;
/// Subjects removed per transaction when an import is undone.
const REMOVE_BATCH: i64 = 2000;
/// An import whose heartbeat stopped this long ago is taken for dead (its process
/// was killed) and undone. A live import beats at every batch, tens of milliseconds
/// apart, or at most [`vow_store::gate::WAIT`] apart when it waits for its turn.
pub const ABANDONED_AFTER_MS: i64 = 2 * 60 * 1000;

/// What one import did (`GET …/imports`, `vow import list`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportView {
    pub id: String,
    /// `running`, `committed` or `failed`.
    pub state: String,
    /// The key (or local user) that ran it.
    pub actor: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Subjects written (all visible once committed; none once failed).
    pub imported: i64,
    pub bad_rows: i64,
}

/// What [`Engine::undo_abandoned_imports`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Undone {
    pub imports: usize,
    pub subjects: u64,
}

/// The tally of an import so far.
#[derive(Default)]
struct Tally {
    seen: usize,
    imported: usize,
    bad: Vec<BadRow>,
    /// The blind indexes this import has taken (kind, index): a row repeating one is
    /// a duplicate, found here rather than by a failed insert.
    taken: HashSet<IdentifierKey>,
}

/// A batch validated, judged and sealed, waiting for its turn to be written.
struct Batch {
    /// Its rows, kept to prepare it again after a key rotation.
    rows: Vec<Row>,
    people: Vec<(usize, Prepared)>,
    bad: Vec<BadRow>,
    /// The identifiers it added to the tally's `taken`.
    took: Vec<IdentifierKey>,
    /// Whether rows may remain after it.
    more: bool,
}

/// Up to `size` rows: those put back first, then from `rows`. A row giving parental
/// consent starts a batch of its own (its parent, looked up in the store, may be in
/// an earlier row). Returns the rows and whether more may remain.
fn pull(
    rows: &mut impl Iterator<Item = Row>,
    pending: &mut VecDeque<Row>,
    size: usize,
) -> (Vec<Row>, bool) {
    let mut batch = Vec::new();
    while batch.len() < size {
        match pending.pop_front().or_else(|| rows.next()) {
            Some(row) if names_parent(&row) && !batch.is_empty() => {
                pending.push_front(row);
                return (batch, true);
            }
            Some(row) => batch.push(row),
            None => return (batch, false),
        }
    }
    (batch, true)
}

/// The next batch size: about BATCH_TIME of write lock, judging by the last batch;
/// at most double at a time (one quick batch says little).
fn resize(size: usize, held: Duration) -> usize {
    let scaled = size as f64 * BATCH_TIME.as_secs_f64() / held.as_secs_f64().max(1e-4);
    (scaled as usize)
        .min(size * 2)
        .clamp(*BATCH_ROWS.start(), *BATCH_ROWS.end())
}

impl Engine {
    /// Import subjects into `tenant`. `progress` is called with the number of rows seen.
    ///
    /// Rows are committed in batches that hold the write lock for at most about
    /// [`BATCH_TIME`], so reads and other writes never wait for a whole import. The
    /// subjects stay invisible (`importing`) until the last batch is in; then one
    /// statement makes them all visible. All or nothing as callers see it: when a row
    /// is bad (and `skip_bad` is off), the rest are still checked so that every bad
    /// row is reported, and the subjects written so far are removed again.
    pub async fn import(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        rows: impl IntoIterator<Item = Row>,
        options: ImportOptions,
        mut progress: impl FnMut(usize),
    ) -> Result<ImportReport> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::WriteSubjects, tenant)?;
        self.undo_abandoned_imports(actor).await?;
        let id = uuid::Uuid::now_v7().to_string();
        {
            let mut tx = self.store.write().await?;
            // Fails early and plainly when the tenant has no policy.
            self.policy_for(&mut tx, tenant).await?;
            tx.start_import(&id, tenant, actor.id(), self.now_ms())
                .await?;
            tx.commit().await?;
        }
        match self
            .import_batches(actor, tenant, &id, rows, options, &mut progress)
            .await
        {
            Ok(report) => Ok(report),
            Err(e) => {
                // Undo what the batches wrote; if even that fails, the next import
                // or `vow serve` start finds it failed and finishes the job.
                if let Err(undo) = self.undo_import(actor, tenant, &id, "error").await {
                    tracing::warn!(import = %id, code = undo.code(), "an import that failed could not be undone yet");
                }
                Err(e)
            }
        }
    }

    async fn import_batches(
        &self,
        actor: &Actor,
        tenant: &str,
        id: &str,
        rows: impl IntoIterator<Item = Row>,
        options: ImportOptions,
        progress: &mut impl FnMut(usize),
    ) -> Result<ImportReport> {
        let mut rows = rows.into_iter();
        let mut tally = Tally::default();
        let mut pending: VecDeque<Row> = VecDeque::new();
        // Start small; then size batches so that each holds the write lock for about
        // BATCH_TIME.
        let mut size = *BATCH_ROWS.start() * 4;
        let (first, more) = pull(&mut rows, &mut pending, size);
        let mut current = self
            .prepare_batch(actor, tenant, id, first, more, &mut tally.taken)
            .await?;
        let mut retried = false;
        loop {
            // The next batch is prepared (CPU: validation, decisions, sealing) while
            // this one is written (the database's thread), so the two overlap.
            let next_rows = current.more.then(|| pull(&mut rows, &mut pending, size));
            // A batch that starts with a row naming a parent waits for the write: the
            // parent may be in the batch being written.
            let waits = next_rows
                .as_ref()
                .is_some_and(|(r, _)| r.first().is_some_and(names_parent));
            let taken = &mut tally.taken;
            let write = self.write_batch(
                actor,
                tenant,
                id,
                &current,
                (tally.imported, tally.bad.len()),
                options,
            );
            let prepare = async {
                match next_rows {
                    Some((r, more)) => self
                        .prepare_batch(actor, tenant, id, r, more, taken)
                        .await
                        .map(Some),
                    None => Ok(None),
                }
            };
            let (written, next) = if waits {
                let written = write.await;
                (written, prepare.await)
            } else {
                tokio::join!(write, prepare)
            };
            match written {
                Ok((written, conflicts, held)) => {
                    retried = false;
                    tally.seen += current.rows.len();
                    tally.imported += written;
                    tally.bad.append(&mut current.bad);
                    tally.bad.extend(conflicts);
                    progress(tally.seen);
                    size = resize(size, held);
                    match next? {
                        Some(b) => current = b,
                        None => break,
                    }
                    // Let a writer woken by the release (another process) go first.
                    tokio::time::sleep(vow_store::gate::BULK_PAUSE).await;
                }
                // The tenant's keys were rotated since they were cached: the batch was
                // rolled back. Both batches in hand were sealed with the old keys: put
                // their rows back and prepare again with fresh keys (once).
                Err(EngineError::Store(vow_store::StoreError::Stale(_))) if !retried => {
                    retried = true;
                    self.keys.forget(tenant);
                    let mut back: Vec<Row> = Vec::new();
                    for b in [Some(current), next?].into_iter().flatten() {
                        for k in &b.took {
                            tally.taken.remove(k);
                        }
                        back.extend(b.rows);
                    }
                    for row in back.into_iter().rev() {
                        pending.push_front(row);
                    }
                    let (rows_again, more) = pull(&mut rows, &mut pending, size);
                    current = self
                        .prepare_batch(actor, tenant, id, rows_again, more, &mut tally.taken)
                        .await?;
                }
                Err(e) => return Err(e),
            }
        }
        let Tally {
            imported, mut bad, ..
        } = tally;
        if !bad.is_empty() && !options.skip_bad {
            self.undo_import(actor, tenant, id, "bad_rows").await?;
            bad.sort_by_key(|b| b.line);
            return Ok(ImportReport {
                import_id: id.to_string(),
                imported: 0,
                bad,
                committed: false,
            });
        }
        let mut tx = self.store.write().await?;
        let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        let visible = tx
            .commit_import(id, self.now_ms(), n(imported), n(bad.len()))
            .await?
            .ok_or_else(|| {
                EngineError::Conflict(
                    "the import was taken for abandoned and undone by another process".into(),
                )
            })?;
        if visible != imported as u64 {
            return Err(EngineError::Internal(
                "an import's subjects do not match its count".into(),
            ));
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "import",
            None,
            None,
            json!({"import": id, "imported": imported, "bad_rows": bad.len()}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        tx.commit().await?;
        Ok(ImportReport {
            import_id: id.to_string(),
            imported,
            bad,
            committed: true,
        })
    }

    /// Prepare a batch in a read snapshot, without the write lock: every row parsed,
    /// validated, judged and sealed, its identifiers checked against the store with
    /// one query for the whole batch, and against the rest of the import (`taken`).
    async fn prepare_batch(
        &self,
        actor: &Actor,
        tenant: &str,
        id: &str,
        rows: Vec<Row>,
        more: bool,
        taken: &mut HashSet<IdentifierKey>,
    ) -> Result<Batch> {
        let mut batch = Batch {
            rows,
            people: Vec::new(),
            bad: Vec::new(),
            took: Vec::new(),
            more,
        };
        let mut tx = self.store.read().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, version) = self.policy_for(&mut tx, tenant).await?;
        let scope = crate::vault::subjects::Scope {
            tenant,
            keys: &keys,
            policy: &policy,
            version,
            import: Some(id),
        };
        let wanted = blind_indexes(&keys, &batch.rows);
        let (held, suppressed) = tx.taken_identifiers(tenant, &wanted).await?;
        let known = Known { held, suppressed };
        for (line, row) in &batch.rows {
            let outcome = match row {
                Err(e) => Err(e.clone()),
                Ok(subject) => match self
                    .prepare_subject(&mut tx, actor, &scope, subject, Some(&known))
                    .await
                {
                    Ok(p) => {
                        let keys: Vec<IdentifierKey> = p
                            .person
                            .identifiers
                            .iter()
                            .map(|i| (i.kind.clone(), i.bidx.clone()))
                            .collect();
                        if keys.iter().any(|k| taken.contains(k)) {
                            Err("a subject with this identifier is already in this import"
                                .to_string())
                        } else {
                            for k in keys {
                                taken.insert(k.clone());
                                batch.took.push(k);
                            }
                            batch.people.push((*line, p));
                            Ok(())
                        }
                    }
                    Err(
                        e @ (EngineError::Invalid(_)
                        | EngineError::Refused(_)
                        | EngineError::Conflict(_)),
                    ) => Err(e.to_string()),
                    Err(e) => return Err(e),
                },
            };
            if let Err(error) = outcome {
                batch.bad.push(BadRow { line: *line, error });
            }
        }
        Ok(batch)
    }

    /// Write a prepared batch, holding the write lock only for that: its identifiers
    /// are checked once more (someone may have taken one since: that row is bad), then
    /// its people, their rows and their audit entries go in multi-row statements,
    /// with the import's heartbeat. `before` is (imported, bad) so far. Once a row is
    /// bad and the import is all or nothing, nothing more is written (only checked).
    /// Returns how many people were written, the rows found taken, and how long the
    /// write lock was held.
    async fn write_batch(
        &self,
        actor: &Actor,
        tenant: &str,
        id: &str,
        batch: &Batch,
        before: (usize, usize),
        options: ImportOptions,
    ) -> Result<(usize, Vec<BadRow>, Duration)> {
        let (imported, bad_before) = before;
        let mut people: Vec<&(usize, Prepared)> = batch.people.iter().collect();
        if (bad_before > 0 || !batch.bad.is_empty()) && !options.skip_bad {
            people.clear();
        }
        let mut tx = self.store.write().await?;
        let locked = Instant::now();
        let wanted: Vec<IdentifierKey> = people
            .iter()
            .flat_map(|(_, p)| &p.person.identifiers)
            .map(|i| (i.kind.clone(), i.bidx.clone()))
            .collect();
        let (held, suppressed) = tx.taken_identifiers(tenant, &wanted).await?;
        let mut conflicts = Vec::new();
        if !held.is_empty() || !suppressed.is_empty() {
            people.retain(|(line, p)| {
                let clash = p.person.identifiers.iter().find_map(|i| {
                    let key = (i.kind.clone(), i.bidx.clone());
                    if suppressed.contains(&key) {
                        Some(format!("this {} belongs to a person who asked to be erased; they are not re-created", i.kind))
                    } else if held.contains(&key) {
                        Some(format!("a subject with this {} already exists in tenant {tenant}", i.kind))
                    } else {
                        None
                    }
                });
                match clash {
                    Some(error) => {
                        conflicts.push(BadRow { line: *line, error });
                        false
                    }
                    None => true,
                }
            });
            if !options.skip_bad {
                people.clear();
            }
        }
        let mut audit = Vec::with_capacity(people.len());
        let mut rows = Vec::with_capacity(people.len());
        for (_, p) in people {
            audit.push(self.audit_entry(
                actor,
                Some(tenant),
                "subject.create",
                Some(&p.person.subject.id),
                None,
                json!({"categories": p.categories, "consents": p.person.consents.len(), "via": "import", "import": id}),
            ));
            rows.push(&p.person);
        }
        tx.insert_people(&rows, Some(id)).await?;
        // The heartbeat, with the counts as of this commit; and the check that no
        // one took the import for abandoned meanwhile (then all of this rolls back).
        let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        let bad = bad_before + batch.bad.len() + conflicts.len();
        if !tx
            .touch_import(id, self.now_ms(), n(imported + rows.len()), n(bad))
            .await?
        {
            return Err(EngineError::Conflict(
                "the import was taken for abandoned and undone by another process".into(),
            ));
        }
        self.chain.append(&mut tx, &audit).await?;
        // The batch is sized by its statements' time: the commit's flush costs the
        // same for any size, so counting it would shrink batches on a slow disk, and
        // with them the rows each flush carries.
        let held = locked.elapsed();
        tx.commit().await?;
        Ok((rows.len(), conflicts, held))
    }

    /// Mark an import failed and remove its subjects, in batches; audited.
    async fn undo_import(
        &self,
        actor: &Actor,
        tenant: &str,
        id: &str,
        reason: &str,
    ) -> Result<u64> {
        {
            let mut tx = self.store.write().await?;
            tx.fail_import(id, self.now_ms()).await?;
            tx.commit().await?;
        }
        let mut removed = 0;
        loop {
            let mut tx = self.store.write().await?;
            let n = tx.remove_import_subjects(id, REMOVE_BATCH).await?;
            removed += n;
            if n == 0 {
                let entry = self.audit_entry(
                    actor,
                    Some(tenant),
                    "import.undone",
                    None,
                    None,
                    json!({"import": id, "reason": reason, "removed": removed}),
                );
                self.chain.append(&mut tx, &[entry]).await?;
                tx.commit().await?;
                return Ok(removed);
            }
            tx.commit().await?;
            tokio::time::sleep(vow_store::gate::BULK_PAUSE).await;
        }
    }

    /// Undo imports left unfinished: failed ones whose subjects are not all removed,
    /// and running ones whose process stopped beating (killed) [`ABANDONED_AFTER_MS`]
    /// ago. Run before every import and when `vow serve` starts.
    pub async fn undo_abandoned_imports(&self, actor: &Actor) -> Result<Undone> {
        let stale_before = self.now_ms().saturating_sub(ABANDONED_AFTER_MS);
        let found = {
            let mut tx = self.store.read().await?;
            tx.unfinished_imports(stale_before).await?
        };
        let mut undone = Undone::default();
        for i in found {
            let reason = if i.state == "running" {
                "abandoned"
            } else {
                "error"
            };
            undone.subjects += self.undo_import(actor, &i.tenant_id, &i.id, reason).await?;
            undone.imports += 1;
        }
        Ok(undone)
    }

    /// A tenant's imports, newest first.
    pub async fn imports(&self, actor: &Actor, tenant: &TenantId) -> Result<Vec<ImportView>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::WriteSubjects, tenant)?;
        let mut tx = self.store.read().await?;
        Ok(tx
            .imports(tenant, 1000)
            .await?
            .into_iter()
            .map(|r| ImportView {
                id: r.id,
                state: r.state,
                actor: r.actor,
                started_at: ts(r.started_at),
                finished_at: r.finished_at.map(ts),
                imported: r.imported,
                bad_rows: r.bad_rows,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_headers_and_rows() {
        let text = "email,birth_date,consents,user.name[research+panel]@primary\nada@example.org,1990-01-01,research:express;marketing.email:implied@purchase,Ada\n";
        let rows = parse_csv(text).unwrap();
        let s = rows[0].1.as_ref().unwrap();
        assert_eq!(rows[0].0, 2);
        assert_eq!(s.fields[0].purposes, vec!["research", "panel"]);
        assert_eq!(s.fields[0].store.as_deref(), Some("primary"));
        assert_eq!(s.consents.len(), 2);
        assert!(parse_csv("bogus\nx\n").is_err());
        let rows = parse_csv("email,user.name[research]\na@example.org\n").unwrap();
        assert!(rows[0].1.is_err());
    }

    #[test]
    fn jsonl_errors_do_not_quote_values() {
        let rows: Vec<_> =
            parse_jsonl("{\"identifiers\":{\"email\":\"secret@example.org\"},\"bogus\":1}\n\n{")
                .collect();
        assert_eq!(rows.len(), 2);
        let e = rows[0].1.as_ref().unwrap_err();
        assert!(
            e.contains("unknown field") && !e.contains("bogus") && !e.contains("secret@"),
            "{e}"
        );
        assert_eq!(rows[1].0, 3);
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,300}") {
            let _ = parse_jsonl(&s).count();
            let _ = parse_csv(&s);
        }

        #[test]
        fn csv_never_panics_on_shaped_input(cells in proptest::collection::vec("[a-z@.:;\\[\\]+0-9 -]{0,12}", 1..8)) {
            let header = "email,consents,user.name[research]";
            let text = format!("{header}\n{}\n", cells.join(","));
            let _ = parse_csv(&text);
        }
    }
}
