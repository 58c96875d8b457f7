//! Bulk import of subjects from JSONL or CSV.
//!
//! All or nothing by default: every row is validated and judged, and if any is
//! bad nothing is committed and every bad row is reported by line number. With
//! `skip_bad`, good rows are committed and bad ones reported.

use crate::error::{EngineError, Result};
use crate::input::{Identifiers, NewConsent, NewField, NewSubject, ParentRef};
use crate::{Actor, Engine};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_core::{ConsentKind, Pii};

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub skip_bad: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
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

impl Engine {
    /// Import subjects into `tenant`. `progress` is called with the number of rows seen.
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
        let mut tx = self.store.write().await?;
        let keys = self.keys.tenant(&mut tx, tenant).await?;
        let (policy, version) = self.policy_for(&mut tx, tenant).await?;
        let scope = crate::vault::subjects::Scope {
            tenant,
            keys: &keys,
            policy: &policy,
            version,
        };
        let mut imported = 0;
        let mut bad = Vec::new();
        let mut audit = Vec::new();
        let mut seen = 0;
        for (line, row) in rows {
            seen += 1;
            let outcome = match row {
                Err(e) => Err(e),
                Ok(subject) => match self.prepare_subject(&mut tx, actor, &scope, &subject).await {
                    Ok(p) => {
                        if bad.is_empty() || options.skip_bad {
                            match p.insert(&mut tx).await {
                                Ok(()) => {
                                    imported += 1;
                                    audit.push(self.audit_entry(
                                        actor,
                                        Some(tenant),
                                        "subject.create",
                                        Some(&p.subject.id),
                                        None,
                                        json!({"categories": p.categories, "consents": p.consents.len(), "via": "import"}),
                                    ));
                                    Ok(())
                                }
                                Err(e @ (EngineError::Conflict(_) | EngineError::Invalid(_))) => {
                                    Err(e.to_string())
                                }
                                Err(e) => return Err(e),
                            }
                        } else {
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
                bad.push(BadRow { line, error });
            }
            if audit.len() >= 1000 {
                self.chain.append(&mut tx, &audit).await?;
                audit.clear();
            }
            if seen % 500 == 0 {
                progress(seen);
            }
        }
        progress(seen);
        if !bad.is_empty() && !options.skip_bad {
            // Dropping the transaction rolls every row back.
            return Ok(ImportReport {
                imported: 0,
                bad,
                committed: false,
            });
        }
        audit.push(self.audit_entry(
            actor,
            Some(tenant),
            "import",
            None,
            None,
            json!({"imported": imported, "bad_rows": bad.len()}),
        ));
        self.chain.append(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(ImportReport {
            imported,
            bad,
            committed: true,
        })
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
