//! De-identified aggregates (R10, S9): counts of people grouped by attributes the
//! caller picks from a fixed list of non-identifying ones, with small groups
//! suppressed. Never a value, never an identifier.
//!
//! Suppression (documented in docs/aggregates.md):
//! 1. *Primary*: a cell counting fewer than `min_group` people is shown as suppressed.
//! 2. *Total*: the number of people counted is shown only if it reaches `min_group`;
//!    otherwise every cell is suppressed as well.
//! 3. *Complementary*: if exactly one cell is suppressed and the total is shown, the
//!    smallest shown cell is suppressed too, so the total minus the shown cells is
//!    never one suppressed cell's count. Suppressed cells are not told apart.

use crate::error::{EngineError, FieldError, Result};
use crate::vault::keyring::{open_subject_key, value_aad};
use crate::{Actor, Engine};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_core::{Category, ConsentEvent, ConsentState, Policy, PurposeId};
use vow_crypto::open;

/// The smallest group size a caller may ask for.
pub const MIN_GROUP_FLOOR: u32 = 5;
/// The group size when none is given.
pub const DEFAULT_MIN_GROUP: u32 = 10;
/// At most this many attributes at once: more would cut the people into groups too small to show.
const MAX_BY: usize = 4;

/// Ages are reported in these bands only (lower bound, label).
const AGE_BANDS: &[(i32, &str)] = &[
    (65, "65+"),
    (55, "55-64"),
    (45, "45-54"),
    (35, "35-44"),
    (25, "25-34"),
    (18, "18-24"),
    (16, "16-17"),
    (13, "13-15"),
    (0, "0-12"),
];

/// Names that point at a person rather than a group: refused with 422.
const IDENTIFYING: &[&str] = &[
    "email",
    "phone",
    "external_id",
    "name",
    "id",
    "subject",
    "subject_id",
    "birth_date",
    "date_of_birth",
    "age",
    "address",
    "postal_code",
    "ip_address",
    "value",
    "identifier",
];

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AggregateQuery {
    /// Attributes to group by: `consent.<purpose>`, `category.<category>`, `source`,
    /// `store`, `age_band`, `created_year`.
    pub by: Vec<String>,
    /// Smallest group shown (default 10, at least 5).
    #[serde(default)]
    pub min_group: Option<u32>,
    /// Count only people with these attribute values, e.g. `{"consent.research": "granted"}`.
    #[serde(default)]
    pub filter: BTreeMap<String, String>,
}

/// One group: its attribute values and how many people are in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AggregateCell {
    pub values: BTreeMap<String, String>,
    /// None when suppressed.
    pub count: Option<i64>,
    pub suppressed: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AggregateReport {
    pub tenant: String,
    pub by: Vec<String>,
    pub min_group: u32,
    pub filter: BTreeMap<String, String>,
    /// People counted; None when fewer than `min_group`.
    pub total: Option<i64>,
    /// Groups with at least one person, in order of their values.
    pub cells: Vec<AggregateCell>,
    pub suppressed_cells: usize,
    /// How small groups were hidden.
    pub method: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Attr {
    Consent(PurposeId),
    Category(Category),
    Source,
    Store,
    AgeBand,
    CreatedYear,
}

/// Read an attribute name, or say why it cannot be one. `Err((identifying, message))`.
fn attr(name: &str, policy: &Policy) -> std::result::Result<Attr, (bool, String)> {
    let lower = name.trim().to_ascii_lowercase();
    let list =
        "choose from consent.<purpose>, category.<category>, source, store, age_band, created_year";
    match lower.as_str() {
        "age_band" => return Ok(Attr::AgeBand),
        "created_year" => return Ok(Attr::CreatedYear),
        "source" => return Ok(Attr::Source),
        "store" => return Ok(Attr::Store),
        _ => {}
    }
    if let Some(p) = name.strip_prefix("consent.") {
        return match PurposeId::new(p) {
            Ok(id) if policy.purpose(&id).is_some() => Ok(Attr::Consent(id)),
            _ => Err((
                false,
                "consent.<purpose> names no purpose of the policy".to_string(),
            )),
        };
    }
    if let Some(c) = name.strip_prefix("category.") {
        return match Category::new(c) {
            Ok(cat) if policy.knows_category(&cat) => Ok(Attr::Category(cat)),
            _ => Err((
                false,
                "category.<category> names no data category of the policy".to_string(),
            )),
        };
    }
    let head = lower.split(['.', '_']).next().unwrap_or("");
    if IDENTIFYING.contains(&lower.as_str())
        || IDENTIFYING.contains(&head)
        || lower.starts_with("identifier")
    {
        return Err((
            true,
            format!(
                "{} identifies a person; aggregates never group by identifiers or values: {list}",
                // Named only when it is one of our own words, never the caller's text.
                IDENTIFYING
                    .iter()
                    .find(|w| **w == lower)
                    .unwrap_or(&"this attribute")
            ),
        ));
    }
    if Category::new(name).is_ok_and(|c| policy.knows_category(&c)) {
        return Err((
            true,
            // Named: it is one of the policy's own categories, not free text.
            format!(
                "{name} is a data category, and its values are personal data; group by category.{name} (held or not) instead"
            ),
        ));
    }
    Err((false, format!("not an aggregate attribute; {list}")))
}

/// The values an attribute may take in a filter (None: any short name).
fn allowed_values(a: &Attr) -> Option<&'static [&'static str]> {
    match a {
        Attr::Consent(_) => Some(&[
            "granted",
            "withdrawn",
            "expired",
            "none",
            "fresh_consent_required",
        ]),
        Attr::Category(_) => Some(&["held", "not_held"]),
        Attr::AgeBand => Some(&[
            "0-12", "13-15", "16-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown",
        ]),
        _ => None,
    }
}

fn age_band(birth: Option<Date>, today: Date) -> &'static str {
    let Some(b) = birth else { return "unknown" };
    let age = vow_core::decision::age_on(b, today);
    AGE_BANDS
        .iter()
        .find(|(low, _)| age >= *low)
        .map_or("unknown", |(_, l)| l)
}

/// A group's attribute values, its count, and whether it is suppressed.
type Counted = (Vec<String>, i64, bool);

/// Primary, total and complementary suppression (see the module comment).
fn suppress(groups: BTreeMap<Vec<String>, i64>, min: i64) -> (Option<i64>, Vec<Counted>) {
    let total: i64 = groups.values().sum();
    let mut cells: Vec<(Vec<String>, i64, bool)> =
        groups.into_iter().map(|(k, n)| (k, n, n < min)).collect();
    if total < min {
        for c in &mut cells {
            c.2 = true;
        }
        return (None, cells);
    }
    if cells.iter().filter(|c| c.2).count() == 1
        && let Some(smallest) = cells.iter_mut().filter(|c| !c.2).min_by_key(|c| c.1)
    {
        smallest.2 = true;
    }
    (Some(total), cells)
}

struct Person {
    created_at: i64,
    birth: Option<Date>,
    categories: BTreeSet<String>,
    sources: BTreeSet<String>,
    stores: BTreeSet<String>,
    consents: Vec<ConsentEvent>,
}

impl Engine {
    /// Counts grouped by non-identifying attributes, small groups suppressed (R10, S9).
    pub async fn aggregate(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        query: &AggregateQuery,
    ) -> Result<AggregateReport> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadAggregates, tenant)?;
        let mut tx = self.store.read().await?;
        tx.tenant(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        let (policy, _) = self.policy_for(&mut tx, tenant).await?;

        let mut invalid = Vec::new();
        let mut identifying = Vec::new();
        let mut by = Vec::new();
        if query.by.is_empty() {
            invalid.push(FieldError::new("/by", "name at least one attribute"));
        }
        if query.by.len() > MAX_BY {
            invalid.push(FieldError::new(
                "/by",
                format!("at most {MAX_BY} attributes at once"),
            ));
        }
        for (i, name) in query.by.iter().enumerate() {
            match attr(name, &policy) {
                Ok(a) if by.contains(&a) => invalid.push(FieldError::new(
                    format!("/by/{i}"),
                    format!("{name} is named twice"),
                )),
                Ok(a) => by.push(a),
                Err((true, m)) => identifying.push(FieldError::new(format!("/by/{i}"), m)),
                Err((false, m)) => invalid.push(FieldError::new(format!("/by/{i}"), m)),
            }
        }
        let mut filter = Vec::new();
        for (name, value) in &query.filter {
            let pointer = format!("/filter/{}", name.replace('~', "~0").replace('/', "~1"));
            match attr(name, &policy) {
                Ok(a) => {
                    let ok = match allowed_values(&a) {
                        Some(vals) => vals.contains(&value.as_str()),
                        None => {
                            !value.is_empty()
                                && value.len() <= 200
                                && !value.chars().any(char::is_control)
                        }
                    };
                    if ok {
                        filter.push((a, value.clone()));
                    } else {
                        invalid.push(FieldError::new(
                            pointer,
                            match allowed_values(&a) {
                                Some(vals) => format!("must be one of {}", vals.join(", ")),
                                None => "must be 1 to 200 printable characters".to_string(),
                            },
                        ));
                    }
                }
                Err((true, m)) => identifying.push(FieldError::new(pointer, m)),
                Err((false, m)) => invalid.push(FieldError::new(pointer, m)),
            }
        }
        let min_group = query.min_group.unwrap_or(DEFAULT_MIN_GROUP);
        if !(MIN_GROUP_FLOOR..=100_000).contains(&min_group) {
            invalid.push(FieldError::new(
                "/min_group",
                format!("must be from {MIN_GROUP_FLOOR} to 100000: smaller groups could single people out"),
            ));
        }
        // Identifiers first: that is the refusal that matters most.
        if !identifying.is_empty() {
            identifying.extend(invalid);
            return Err(EngineError::Identifying(identifying));
        }
        if !invalid.is_empty() {
            return Err(EngineError::Invalid(invalid));
        }

        // Read only what the asked attributes need: each part is a scan of the tenant.
        let asked = || by.iter().chain(filter.iter().map(|(a, _)| a));
        let needs_age = asked().any(|a| *a == Attr::AgeBand);
        let needs_fields =
            asked().any(|a| matches!(a, Attr::Category(_) | Attr::Source | Attr::Store));
        let needs_consents = asked().any(|a| matches!(a, Attr::Consent(_)));
        let keys = if needs_age {
            Some(self.keys.tenant(&mut tx, tenant).await?)
        } else {
            None
        };
        let subjects = tx.aggregate_subjects(tenant).await?;
        let fields = if needs_fields {
            tx.aggregate_fields(tenant).await?
        } else {
            Vec::new()
        };
        let consents = if needs_consents {
            tx.aggregate_consents(tenant).await?
        } else {
            Vec::new()
        };
        drop(tx);

        let mut people: HashMap<String, Person> = HashMap::with_capacity(subjects.len());
        for s in subjects {
            let birth = match (&keys, &s.birth_date) {
                (Some(keys), Some(sealed)) => {
                    let dek = open_subject_key(keys, tenant, &s.id, s.kek_version, &s.wrapped_key)?;
                    let plain = open(&dek, sealed, &value_aad(tenant, &s.id, "birth_date", &s.id))?;
                    std::str::from_utf8(&plain)
                        .ok()
                        .and_then(|t| t.parse::<Date>().ok())
                }
                _ => None,
            };
            people.insert(
                s.id,
                Person {
                    created_at: s.created_at,
                    birth,
                    categories: BTreeSet::new(),
                    sources: BTreeSet::new(),
                    stores: BTreeSet::new(),
                    consents: Vec::new(),
                },
            );
        }
        for f in fields {
            if let Some(p) = people.get_mut(&f.subject_id) {
                p.categories.insert(f.category);
                p.sources.insert(f.source);
                p.stores.insert(f.store);
            }
        }
        for row in &consents {
            if let Some(p) = people.get_mut(&row.subject_id) {
                p.consents.extend(Self::events(std::slice::from_ref(row))?);
            }
        }

        let now = self.now();
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let value = |a: &Attr, p: &Person| -> String {
            let joined = |set: &BTreeSet<String>| {
                if set.is_empty() {
                    "none".to_string()
                } else {
                    set.iter().cloned().collect::<Vec<_>>().join("+")
                }
            };
            match a {
                Attr::Consent(purpose) => {
                    let state = ConsentState::derive(&p.consents, purpose, now);
                    if vow_core::decision::stale_grant(&policy, &p.consents, purpose, now).is_some()
                    {
                        "fresh_consent_required".to_string()
                    } else {
                        state.name().to_string()
                    }
                }
                Attr::Category(c) => {
                    let held = p
                        .categories
                        .iter()
                        .any(|x| Category::new(x.as_str()).is_ok_and(|x| x.is_within(c)));
                    if held { "held" } else { "not_held" }.to_string()
                }
                Attr::Source => joined(&p.sources),
                Attr::Store => joined(&p.stores),
                Attr::AgeBand => age_band(p.birth, today).to_string(),
                Attr::CreatedYear => jiff::Timestamp::from_millisecond(p.created_at)
                    .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).year().to_string())
                    .unwrap_or_else(|_| "unknown".into()),
            }
        };
        let mut groups: BTreeMap<Vec<String>, i64> = BTreeMap::new();
        for p in people.values() {
            if filter.iter().all(|(a, v)| value(a, p) == *v) {
                let key: Vec<String> = by.iter().map(|a| value(a, p)).collect();
                *groups.entry(key).or_default() += 1;
            }
        }
        let population: i64 = groups.values().sum();
        let (total, cells) = suppress(groups, i64::from(min_group));
        let suppressed_cells = cells.iter().filter(|c| c.2).count();
        let cells: Vec<AggregateCell> = cells
            .into_iter()
            .map(|(key, n, hidden)| AggregateCell {
                values: query.by.iter().cloned().zip(key).collect(),
                count: (!hidden).then_some(n),
                suppressed: hidden,
            })
            .collect();

        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "report.aggregate",
            None,
            Some("aggregate_statistics"),
            json!({"by": query.by, "min_group": min_group,
                   "filter": query.filter.keys().collect::<Vec<_>>(),
                   "birth_dates_opened": needs_age, "people": population,
                   "cells": cells.len(), "suppressed_cells": suppressed_cells}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(AggregateReport {
            tenant: tenant.to_string(),
            by: query.by.clone(),
            min_group,
            filter: query.filter.clone(),
            total,
            cells,
            suppressed_cells,
            method: format!(
                "cells under {min_group} people suppressed; the total shown only from {min_group}; \
                 when exactly one cell is suppressed, the smallest shown cell is suppressed too"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(counts: &[i64]) -> BTreeMap<Vec<String>, i64> {
        counts
            .iter()
            .enumerate()
            .map(|(i, n)| (vec![format!("g{i}")], *n))
            .collect()
    }

    #[test]
    fn one_small_cell_takes_the_smallest_other_with_it() {
        let (total, cells) = suppress(groups(&[3, 12, 20, 11]), 10);
        assert_eq!(total, Some(46));
        let hidden: Vec<i64> = cells.iter().filter(|c| c.2).map(|c| c.1).collect();
        assert_eq!(hidden, [3, 11]);
        // The total minus the shown cells is the sum of two cells, not one.
        let shown: i64 = cells.iter().filter(|c| !c.2).map(|c| c.1).sum();
        assert_eq!(46 - shown, 14);
    }

    #[test]
    fn two_small_cells_need_no_complement_and_a_small_total_hides_everything() {
        let (_, cells) = suppress(groups(&[3, 4, 20]), 10);
        assert_eq!(cells.iter().filter(|c| c.2).count(), 2);
        let (total, cells) = suppress(groups(&[4, 5]), 10);
        assert_eq!(total, None);
        assert!(cells.iter().all(|c| c.2));
        let (total, cells) = suppress(groups(&[10, 15]), 10);
        assert_eq!(total, Some(25));
        assert!(cells.iter().all(|c| !c.2));
    }

    #[test]
    fn ages_fall_into_bands() {
        let today: Date = "2026-11-25".parse().unwrap();
        let band = |b: &str| age_band(Some(b.parse().unwrap()), today);
        assert_eq!(band("2020-01-01"), "0-12");
        assert_eq!(band("2013-11-25"), "13-15");
        assert_eq!(band("2010-11-25"), "16-17");
        assert_eq!(band("2010-11-26"), "13-15");
        assert_eq!(band("2008-11-25"), "18-24");
        assert_eq!(band("1990-01-31"), "35-44");
        assert_eq!(band("1950-01-01"), "65+");
        assert_eq!(age_band(None, today), "unknown");
    }
}
