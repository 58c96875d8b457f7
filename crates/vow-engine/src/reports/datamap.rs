//! The data map (R9): categories × stores × purposes × recipients, from the policy and
//! from what is actually stored (counts of live fields, from the plaintext metadata
//! columns only; no value is opened). It flags data found in a store the policy does
//! not list for its category, and stores the policy lists that hold nothing.

use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;
use vow_core::Category;
use vow_core::TenantId;
use vow_core::policy::{Policy, StoreKind, TransferSafeguard};
use vow_core::role::Capability;
use vow_render::document::{Block, Document, Inline};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DataMap {
    pub tenant: String,
    pub policy_version: i64,
    pub generated_at: String,
    pub categories: Vec<CategoryRow>,
    pub stores: Vec<StoreRow>,
    /// Live fields per category × store × purpose, as stored.
    pub cells: Vec<Cell>,
    pub flags: Vec<Flag>,
    /// What the registered datasets say the organisation's own databases hold: per
    /// dataset and collection, each category and the fields that hold it.
    pub external: Vec<ExternalRow>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExternalRow {
    pub dataset: String,
    pub connection: String,
    pub collection: String,
    pub category: String,
    pub fields: Vec<String>,
    /// False when the policy in force no longer defines the category.
    pub in_policy: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryRow {
    pub category: String,
    /// None: stored but not defined by the policy.
    pub description: Option<String>,
    pub sensitive: bool,
    /// Stores the policy lists for it.
    pub stores: Vec<String>,
    /// Purposes the policy lets use it.
    pub purposes: Vec<String>,
    pub recipients: Vec<RecipientCell>,
    /// Retention rules that govern it, e.g. `2y from relationship_end`.
    pub retention: Vec<String>,
    /// Live fields of exactly this category.
    pub live_fields: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecipientCell {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub country: String,
    /// The transfer safeguard, if the policy names one.
    pub safeguard: Option<String>,
    /// The purposes for which it may receive this category.
    pub purposes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoreRow {
    pub id: String,
    /// primary, backup or media; `unknown` for a store found in the data but not in the policy.
    pub kind: String,
    pub location: Option<String>,
    pub backup_retention_days: Option<u32>,
    /// Categories the policy lists for it.
    pub categories: Vec<String>,
    /// Live fields recorded in it. Backups hold copies of the other stores and are not
    /// recorded per field.
    pub live_fields: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cell {
    pub category: String,
    pub store: String,
    pub purpose: String,
    pub live_fields: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Flag {
    /// `not_listed_for_store` (data in a store the policy does not list for its
    /// category), `category_not_in_policy`, or `store_holds_nothing`.
    pub kind: String,
    pub category: Option<String>,
    pub store: Option<String>,
    pub live_fields: i64,
}

fn safeguard_name(s: TransferSafeguard) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn store_lists(policy: &Policy, store: &str, category: &str) -> bool {
    let Ok(cat) = Category::new(category) else {
        return false;
    };
    policy
        .store(store)
        .is_some_and(|s| s.categories.iter().any(|c| cat.is_within(c)))
}

/// Build the map from a policy and the stored counts (category, store, purposes JSON, n).
pub fn build(
    tenant: &str,
    policy: &Policy,
    version: i64,
    generated_at: String,
    counts: &[(String, String, String, i64)],
) -> DataMap {
    let mut per_category: BTreeMap<&str, i64> = BTreeMap::new();
    let mut per_store: BTreeMap<&str, i64> = BTreeMap::new();
    let mut per_cell: BTreeMap<(&str, &str, String), i64> = BTreeMap::new();
    for (cat, store, purposes, n) in counts {
        *per_category.entry(cat).or_default() += n;
        *per_store.entry(store).or_default() += n;
        let purposes = serde_json::from_str::<Vec<String>>(purposes).unwrap_or_default();
        if purposes.is_empty() {
            *per_cell.entry((cat, store, String::new())).or_default() += n;
        }
        for p in purposes {
            *per_cell.entry((cat, store, p)).or_default() += n;
        }
    }
    let mut names: BTreeSet<&str> = policy.categories.iter().map(|c| c.id.as_str()).collect();
    names.extend(per_category.keys().copied());
    let categories = names
        .into_iter()
        .map(|name| {
            let def = Category::new(name)
                .ok()
                .and_then(|c| policy.category(&c).cloned());
            let cat = Category::new(name).ok();
            let within = |list: &[Category]| {
                cat.as_ref()
                    .is_some_and(|c| list.iter().any(|l| c.is_within(l)))
            };
            CategoryRow {
                category: name.to_string(),
                description: def.as_ref().map(|d| d.description.clone()),
                sensitive: def.as_ref().is_some_and(|d| d.sensitive),
                stores: policy
                    .stores
                    .iter()
                    .filter(|s| within(&s.categories))
                    .map(|s| s.id.as_str().to_string())
                    .collect(),
                purposes: policy
                    .purposes
                    .iter()
                    .filter(|p| !p.forbidden && within(&p.categories))
                    .map(|p| p.id.as_str().to_string())
                    .collect(),
                recipients: policy
                    .recipients
                    .iter()
                    .filter(|r| within(&r.categories))
                    .map(|r| RecipientCell {
                        id: r.id.as_str().to_string(),
                        name: r.name.clone(),
                        kind: r.kind.as_str().to_string(),
                        country: r.country.clone(),
                        safeguard: r.safeguard.map(safeguard_name),
                        purposes: r.purposes.iter().map(|p| p.as_str().to_string()).collect(),
                    })
                    .collect(),
                retention: policy
                    .retention
                    .iter()
                    // A rule for a purpose shows only where that purpose may use the category.
                    .filter(|r| {
                        r.category
                            .as_ref()
                            .is_none_or(|rc| cat.as_ref().is_some_and(|c| c.is_within(rc)))
                            && r.purpose.as_ref().is_none_or(|p| {
                                policy.purpose(p).is_some_and(|d| within(&d.categories))
                            })
                    })
                    .map(|r| {
                        let mut s = format!(
                            "{} from {}",
                            r.keep,
                            serde_json::to_value(r.from)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_string))
                                .unwrap_or_default()
                        );
                        if let Some(p) = &r.purpose {
                            s.push_str(&format!(" (for {p})"));
                        }
                        s
                    })
                    .collect(),
                live_fields: per_category.get(name).copied().unwrap_or(0),
            }
        })
        .collect();
    let mut stores: Vec<StoreRow> = policy
        .stores
        .iter()
        .map(|s| StoreRow {
            id: s.id.as_str().to_string(),
            kind: s.kind.as_str().to_string(),
            location: Some(s.location.clone()),
            backup_retention_days: s.backup_retention_days,
            categories: s
                .categories
                .iter()
                .map(|c| c.as_str().to_string())
                .collect(),
            live_fields: per_store.get(s.id.as_str()).copied().unwrap_or(0),
        })
        .collect();
    for (id, n) in &per_store {
        if policy.store(id).is_none() {
            stores.push(StoreRow {
                id: id.to_string(),
                kind: "unknown".into(),
                location: None,
                backup_retention_days: None,
                categories: Vec::new(),
                live_fields: *n,
            });
        }
    }
    let mut flags = Vec::new();
    let mut outside: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for (cat, store, _, n) in counts {
        if !store_lists(policy, store, cat) {
            *outside.entry((cat, store)).or_default() += n;
        }
    }
    for ((cat, store), n) in outside {
        flags.push(Flag {
            kind: "not_listed_for_store".into(),
            category: Some(cat.to_string()),
            store: Some(store.to_string()),
            live_fields: n,
        });
    }
    for (cat, n) in &per_category {
        if !Category::new(*cat).is_ok_and(|c| policy.knows_category(&c)) {
            flags.push(Flag {
                kind: "category_not_in_policy".into(),
                category: Some(cat.to_string()),
                store: None,
                live_fields: *n,
            });
        }
    }
    for s in &policy.stores {
        if s.kind != StoreKind::Backup && !per_store.contains_key(s.id.as_str()) {
            flags.push(Flag {
                kind: "store_holds_nothing".into(),
                category: None,
                store: Some(s.id.as_str().to_string()),
                live_fields: 0,
            });
        }
    }
    DataMap {
        tenant: tenant.to_string(),
        policy_version: version,
        generated_at,
        categories,
        stores,
        cells: per_cell
            .into_iter()
            .map(|((c, s, p), n)| Cell {
                category: c.to_string(),
                store: s.to_string(),
                purpose: p,
                live_fields: n,
            })
            .collect(),
        flags,
        external: Vec::new(),
    }
}

fn text(s: impl Into<String>) -> Vec<Inline> {
    vec![Inline::Text(s.into())]
}

fn code(s: impl Into<String>) -> Vec<Inline> {
    vec![Inline::Code(s.into())]
}

fn list_or_dash(items: &[String]) -> Vec<Inline> {
    if items.is_empty() {
        text("—")
    } else {
        text(items.join(", "))
    }
}

/// The map as a document of headings and tables, for Markdown and HTML.
pub fn document(m: &DataMap) -> Document {
    let mut blocks = vec![
        Block::Heading(1, format!("Data map: {}", m.tenant)),
        Block::Para(text(format!(
            "From policy version {} and the fields stored on {}. Counts are live fields (current versions); no value is read to make this map.",
            m.policy_version,
            vow_render::Lang::En.moment_of(&m.generated_at)
        ))),
        Block::Heading(2, "Categories".into()),
        Block::Table {
            caption: "Categories × stores × purposes × recipients".into(),
            head: [
                "category",
                "sensitive",
                "stores (policy)",
                "purposes",
                "recipients (country, safeguard)",
                "retention",
                "live fields",
            ]
            .map(String::from)
            .to_vec(),
            rows: m
                .categories
                .iter()
                .map(|c| {
                    let recipients: Vec<String> = c
                        .recipients
                        .iter()
                        .map(|r| {
                            format!(
                                "{} ({}, {}{})",
                                r.name,
                                r.kind,
                                r.country,
                                r.safeguard
                                    .as_ref()
                                    .map(|s| format!(", {s}"))
                                    .unwrap_or_default()
                            )
                        })
                        .collect();
                    vec![
                        code(&c.category),
                        text(if c.sensitive { "yes" } else { "no" }),
                        list_or_dash(&c.stores),
                        list_or_dash(&c.purposes),
                        list_or_dash(&recipients),
                        list_or_dash(&c.retention),
                        text(c.live_fields.to_string()),
                    ]
                })
                .collect(),
        },
        Block::Heading(2, "Stores".into()),
        Block::Table {
            caption: "Where the data is".into(),
            head: [
                "store",
                "kind",
                "location",
                "backups kept",
                "categories (policy)",
                "live fields",
            ]
            .map(String::from)
            .to_vec(),
            rows: m
                .stores
                .iter()
                .map(|s| {
                    vec![
                        code(&s.id),
                        text(&s.kind),
                        text(s.location.clone().unwrap_or_else(|| "—".into())),
                        text(
                            s.backup_retention_days
                                .map(|d| format!("{d} days"))
                                .unwrap_or_else(|| "—".into()),
                        ),
                        list_or_dash(&s.categories),
                        text(if StoreKind::parse(&s.kind) == Some(StoreKind::Backup) {
                            "copies of the other stores".to_string()
                        } else {
                            s.live_fields.to_string()
                        }),
                    ]
                })
                .collect(),
        },
        Block::Heading(2, "What is stored".into()),
        Block::Table {
            caption: "Live fields per category, store and purpose".into(),
            head: ["category", "store", "purpose", "live fields"]
                .map(String::from)
                .to_vec(),
            rows: m
                .cells
                .iter()
                .map(|c| {
                    vec![
                        code(&c.category),
                        code(&c.store),
                        if c.purpose.is_empty() {
                            text("—")
                        } else {
                            code(&c.purpose)
                        },
                        text(c.live_fields.to_string()),
                    ]
                })
                .collect(),
        },
        Block::Heading(2, "Findings".into()),
    ];
    if m.flags.is_empty() {
        blocks.push(Block::Para(text(
            "Everything stored is where the policy says it is, and every store the policy lists holds data.",
        )));
    } else {
        blocks.push(Block::List(
            m.flags
                .iter()
                .map(|f| match f.kind.as_str() {
                    "not_listed_for_store" => text(format!(
                        "{} live field(s) of {} are in store {}, which the policy does not list for that category.",
                        f.live_fields,
                        f.category.as_deref().unwrap_or(""),
                        f.store.as_deref().unwrap_or("")
                    )),
                    "category_not_in_policy" => text(format!(
                        "{} live field(s) of {} are stored, a category the policy does not define.",
                        f.live_fields,
                        f.category.as_deref().unwrap_or("")
                    )),
                    _ => text(format!(
                        "Store {} is listed in the policy but holds no data.",
                        f.store.as_deref().unwrap_or("")
                    )),
                })
                .collect(),
        ));
    }
    if !m.external.is_empty() {
        blocks.push(Block::Heading(2, "The organisation's own databases".into()));
        blocks.push(Block::Para(text(
            "From the datasets registered with Vow's connectors: what each database holds, by collection and category. Requests reach these too.",
        )));
        blocks.push(Block::Table {
            caption: "Datasets × collections × categories".into(),
            head: [
                "dataset (connection)",
                "collection",
                "category",
                "fields",
                "in the policy",
            ]
            .map(String::from)
            .to_vec(),
            rows: m
                .external
                .iter()
                .map(|e| {
                    vec![
                        text(format!("{} ({})", e.dataset, e.connection)),
                        code(&e.collection),
                        code(&e.category),
                        text(e.fields.join(", ")),
                        text(if e.in_policy {
                            "yes"
                        } else {
                            "no: not defined"
                        }),
                    ]
                })
                .collect(),
        });
    }
    Document {
        title: format!("Data map: {}", m.tenant),
        blocks,
    }
}

impl Engine {
    /// The data map of `tenant` (R9). Reads metadata only; audited as a report.
    pub async fn data_map(&self, actor: &Actor, tenant: &TenantId) -> Result<DataMap> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadReports, tenant)?;
        let mut tx = self.store.read().await?;
        if tx.tenant(tenant).await?.is_none() {
            return Err(EngineError::NotFound("tenant"));
        }
        let (policy, version) = self.policy_for(&mut tx, tenant).await?;
        let counts: Vec<(String, String, String, i64)> = tx
            .field_counts(tenant)
            .await?
            .into_iter()
            .map(|r| (r.category, r.store, r.purposes, r.count))
            .collect();
        let datasets = tx.datasets(tenant).await?;
        drop(tx);
        let mut map = build(
            tenant,
            &policy,
            version,
            vow_core::wire::time(self.now()),
            &counts,
        );
        map.external = external_rows(&policy, &datasets);
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "report.data_map",
            None,
            None,
            json!({"policy_version": version, "flags": map.flags.len()}),
        );
        self.audit.record(vec![entry]).await?;
        Ok(map)
    }
}

/// Each registered dataset's categories, per collection, with the fields holding them.
fn external_rows(policy: &Policy, datasets: &[vow_store::DatasetRow]) -> Vec<ExternalRow> {
    let mut out = Vec::new();
    for d in datasets {
        let Ok(checked) = vow_connect::check(&d.manifest, &d.fides_key, None) else {
            continue;
        };
        for ds in checked
            .manifest
            .dataset
            .iter()
            .filter(|x| x.fides_key.value == d.fides_key)
        {
            for c in &ds.collections {
                let mut by_category: BTreeMap<String, Vec<String>> = BTreeMap::new();
                let mut stack: Vec<(String, &vow_connect::manifest::Field)> =
                    c.fields.iter().map(|f| (f.name.value.clone(), f)).collect();
                while let Some((name, f)) = stack.pop() {
                    for cat in &f.data_categories {
                        by_category
                            .entry(cat.value.clone())
                            .or_default()
                            .push(name.clone());
                    }
                    for m in &f.fields {
                        stack.push((format!("{name}.{}", m.name.value), m));
                    }
                }
                for (category, mut fields) in by_category {
                    if !category.starts_with("user") {
                        continue;
                    }
                    fields.sort();
                    let in_policy =
                        vow_core::Category::new(&category).is_ok_and(|c| policy.knows_category(&c));
                    out.push(ExternalRow {
                        dataset: d.fides_key.clone(),
                        connection: d.connection_id.clone(),
                        collection: c.name.value.clone(),
                        category,
                        fields,
                        in_policy,
                    });
                }
            }
        }
    }
    out
}

/// The data map as Markdown.
pub fn render_markdown(m: &DataMap) -> String {
    document(m).to_markdown()
}

/// The data map as a standalone HTML page.
pub fn render_html(m: &DataMap) -> String {
    document(m).to_html()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_rules_show_only_where_they_can_apply() {
        let yaml = format!(
            "{}retention:\n  - category: user.name\n    keep: 2y\n    from: relationship_end\n  - purpose: marketing.email\n    keep: 30d\n    from: consent_withdrawn\n",
            include_str!("../../../vow/tests/it/policy.yaml")
        );
        let policy = vow_policy::parse(&yaml, "policy.yaml").unwrap().policy;
        let counts = [(
            "user.name".to_string(),
            "primary".to_string(),
            "[\"research\",\"marketing.email\"]".to_string(),
            3,
        )];
        let m = build("acme", &policy, 1, "now".into(), &counts);
        let row = |c: &str| m.categories.iter().find(|r| r.category == c).unwrap();
        assert_eq!(
            row("user.name").retention,
            [
                "2y from relationship_end",
                "30d from consent_withdrawn (for marketing.email)"
            ]
        );
        assert!(row("user.health_and_medical").retention.is_empty());
        assert_eq!(row("user.name").live_fields, 3);
        assert_eq!(m.cells.len(), 2);
        let md = render_markdown(&m);
        assert!(md.contains("| `user.name` |"), "{md}");
        assert!(render_html(&m).contains("<caption>Where the data is</caption>"));
    }
}
