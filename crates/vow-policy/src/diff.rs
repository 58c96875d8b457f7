//! What changed between two versions of a policy (S5), and which purposes need
//! consent again because of it.
//!
//! Both functions are pure. [`diff`] compares purposes, recipients, categories,
//! retention rules, the promised response times, the effective date and the rest of
//! the notice; [`consent_since`] works out, for the new version, the version since
//! which each consent-based purpose needs its consent to have been given.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use vow_core::policy::{LegalBasis, Policy, RetentionRule};
use vow_core::{Category, PurposeId};

/// Everything that changed from one version to the next. Empty lists: nothing changed there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyDiff {
    pub effective_date: DateChange,
    pub purposes: Vec<ItemChange>,
    pub recipients: Vec<ItemChange>,
    pub categories: Vec<ItemChange>,
    /// Rules are named `<category or *> for <purpose or any purpose>`.
    pub retention: Vec<ItemChange>,
    /// `requests_days`, `per_type.access`, … with the old and new number of days.
    pub response_times: Vec<FieldChange>,
    /// The rest of the notice: organisation, contacts, stores, jurisdictions,
    /// parental consent age, implied consent rules.
    pub other: Vec<FieldChange>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DateChange {
    /// None for a first version.
    pub from: Option<String>,
    pub to: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// One purpose, recipient, category or retention rule that was added, removed or
/// changed. For an added item, `fields` describe it; for a changed one, what changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemChange {
    pub id: String,
    pub change: ChangeKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

/// One value before and after (`null` where there was none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Value,
    pub to: Value,
}

/// Why a purpose needs consent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreshReason {
    /// The purpose is new and its basis is consent.
    NewPurpose,
    /// The purpose was there under another basis and now rests on consent.
    BecameConsent,
    /// The purpose may now use categories its consent did not cover.
    CategoriesWidened,
}

impl FreshReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FreshReason::NewPurpose => "new_purpose",
            FreshReason::BecameConsent => "became_consent",
            FreshReason::CategoriesWidened => "categories_widened",
        }
    }
}

/// A purpose for which consents given before this version no longer count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FreshConsent {
    pub purpose: String,
    pub reason: FreshReason,
    /// The categories the purpose may use in the new version.
    pub categories: Vec<String>,
}

fn v(x: impl Serialize) -> Value {
    serde_json::to_value(x).unwrap_or(Value::Null)
}

/// Compare two named lists item by item: added, removed, and changed fields.
fn items<T>(
    old: &[T],
    new: &[T],
    id: impl Fn(&T) -> String,
    fields: impl Fn(&T) -> Vec<(&'static str, Value)>,
) -> Vec<ItemChange> {
    let mut out = Vec::new();
    let find = |list: &'_ [T], key: &str| list.iter().position(|x| id(x) == key);
    for n in new {
        let key = id(n);
        match find(old, &key) {
            None => out.push(ItemChange {
                id: key,
                change: ChangeKind::Added,
                fields: fields(n)
                    .into_iter()
                    .filter(|(_, to)| !to.is_null())
                    .map(|(f, to)| FieldChange {
                        field: f.to_string(),
                        from: Value::Null,
                        to,
                    })
                    .collect(),
            }),
            Some(i) => {
                let changed: Vec<FieldChange> = fields(&old[i])
                    .into_iter()
                    .zip(fields(n))
                    .filter(|((_, a), (_, b))| a != b)
                    .map(|((f, from), (_, to))| FieldChange {
                        field: f.to_string(),
                        from,
                        to,
                    })
                    .collect();
                if !changed.is_empty() {
                    out.push(ItemChange {
                        id: key,
                        change: ChangeKind::Changed,
                        fields: changed,
                    });
                }
            }
        }
    }
    for o in old {
        let key = id(o);
        if find(new, &key).is_none() {
            out.push(ItemChange {
                id: key,
                change: ChangeKind::Removed,
                fields: Vec::new(),
            });
        }
    }
    out
}

fn rule_id(r: &RetentionRule) -> String {
    format!(
        "{} for {}",
        r.category.as_ref().map_or("*", Category::as_str),
        r.purpose.as_ref().map_or("any purpose", PurposeId::as_str)
    )
}

/// What changed from `old` to `new`. `old` None: a first version (everything is added).
pub fn diff(old: Option<&Policy>, new: &Policy) -> PolicyDiff {
    let purposes = items(
        old.map_or(&[][..], |o| &o.purposes[..]),
        &new.purposes,
        |p| p.id.to_string(),
        |p| {
            vec![
                ("basis", v(p.basis)),
                ("categories", v(&p.categories)),
                ("forbidden", v(p.forbidden)),
                ("description", v(&p.description)),
            ]
        },
    );
    let recipients = items(
        old.map_or(&[][..], |o| &o.recipients[..]),
        &new.recipients,
        |r| r.id.to_string(),
        |r| {
            vec![
                ("name", v(&r.name)),
                ("kind", v(r.kind)),
                ("categories", v(&r.categories)),
                ("purposes", v(&r.purposes)),
                ("country", v(&r.country)),
                ("safeguard", v(r.safeguard)),
                ("description", v(&r.description)),
            ]
        },
    );
    let categories = items(
        old.map_or(&[][..], |o| &o.categories[..]),
        &new.categories,
        |c| c.id.to_string(),
        |c| {
            vec![
                ("sensitive", v(c.sensitive)),
                ("description", v(&c.description)),
                ("sources", v(&c.sources)),
                ("masking", v(c.masking)),
            ]
        },
    );
    let retention = items(
        old.map_or(&[][..], |o| &o.retention[..]),
        &new.retention,
        rule_id,
        |r| {
            vec![
                ("keep", v(r.keep)),
                ("from", v(r.from)),
                ("reason", v(&r.reason)),
            ]
        },
    );
    let flat = |p: Option<&Policy>| -> BTreeMap<String, Value> {
        let mut m = BTreeMap::new();
        if let Some(Value::Object(o)) = p.map(|p| v(&p.response_times)) {
            for (k, x) in o {
                match x {
                    Value::Object(per) => {
                        for (t, d) in per {
                            m.insert(format!("{k}.{t}"), d);
                        }
                    }
                    Value::Null => {}
                    x => {
                        m.insert(k, x);
                    }
                }
            }
        }
        m
    };
    let response_times = changed_values(flat(old), flat(Some(new)));
    let rest = |p: Option<&Policy>| -> BTreeMap<String, Value> {
        let mut m = BTreeMap::new();
        if let Some(p) = p {
            m.insert("organisation".into(), v(&p.organisation));
            m.insert("contacts".into(), v(&p.contacts));
            m.insert("stores".into(), v(&p.stores));
            m.insert("jurisdictions".into(), v(&p.jurisdictions));
            m.insert("parental_consent_age".into(), v(p.parental_consent_age));
            m.insert("implied_consent".into(), v(&p.implied_consent));
        }
        m
    };
    PolicyDiff {
        effective_date: DateChange {
            from: old.map(|o| o.effective_date.to_string()),
            to: new.effective_date.to_string(),
        },
        purposes,
        recipients,
        categories,
        retention,
        response_times,
        other: changed_values(rest(old), rest(Some(new))),
    }
}

/// Keys whose values differ (or appear, or disappear), in key order.
fn changed_values(old: BTreeMap<String, Value>, new: BTreeMap<String, Value>) -> Vec<FieldChange> {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let from = old.get(k).cloned().unwrap_or(Value::Null);
            let to = new.get(k).cloned().unwrap_or(Value::Null);
            (from != to).then(|| FieldChange {
                field: k.clone(),
                from,
                to,
            })
        })
        .collect()
}

impl PolicyDiff {
    /// True when nothing but (perhaps) the effective date changed.
    pub fn is_empty(&self) -> bool {
        self.purposes.is_empty()
            && self.recipients.is_empty()
            && self.categories.is_empty()
            && self.retention.is_empty()
            && self.response_times.is_empty()
            && self.other.is_empty()
    }

    /// One plain line per change, for notices, listings and the audit entry's count.
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.effective_date.from {
            Some(f) if *f != self.effective_date.to => {
                out.push(format!("effective date: {f} -> {}", self.effective_date.to))
            }
            None => out.push(format!(
                "first version, effective {}",
                self.effective_date.to
            )),
            _ => {}
        }
        for (noun, list) in [
            ("purpose", &self.purposes),
            ("recipient", &self.recipients),
            ("category", &self.categories),
            ("retention rule", &self.retention),
        ] {
            for item in list {
                let details = item
                    .fields
                    .iter()
                    .filter(|f| f.field != "description")
                    // An added item's unset flags and empty lists say nothing.
                    .filter(|f| {
                        item.change != ChangeKind::Added
                            || !matches!(&f.to, Value::Bool(false))
                                && !matches!(&f.to, Value::Array(a) if a.is_empty())
                    })
                    .map(|f| match item.change {
                        ChangeKind::Added => format!("{} {}", f.field, show(&f.to)),
                        _ => format!("{} {} -> {}", f.field, show(&f.from), show(&f.to)),
                    })
                    .collect::<Vec<_>>();
                let described = item.fields.iter().any(|f| f.field == "description");
                let mut line = format!("{noun} {} {}", item.id, item.change.as_str());
                if !details.is_empty() {
                    line.push_str(&format!(" ({})", details.join("; ")));
                } else if described && item.change == ChangeKind::Changed {
                    line.push_str(" (description)");
                }
                out.push(line);
            }
        }
        for f in &self.response_times {
            out.push(format!(
                "response time {}: {} -> {} days",
                f.field,
                show(&f.from),
                show(&f.to)
            ));
        }
        for f in &self.other {
            out.push(format!("{} changed", f.field.replace('_', " ")));
        }
        out
    }
}

/// A value in a line of text: lists joined, nothing as "none".
fn show(x: &Value) -> String {
    match x {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.is_empty() => "none".into(),
        Value::Array(a) => a.iter().map(show).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// For the version `new` (to be published as number `version`, after `old`): the
/// version since which each consent-based purpose needs its consent, and the purposes
/// that need it afresh from this version. A purpose keeps the requirement it had in
/// `old` while it stays as it was; it gets `version` when it is new, becomes
/// consent-based, or may use a category its old form did not cover.
pub fn consent_since(
    old: Option<&Policy>,
    new: &Policy,
    version: u32,
) -> (BTreeMap<PurposeId, u32>, Vec<FreshConsent>) {
    let mut since = BTreeMap::new();
    let mut fresh = Vec::new();
    let Some(old) = old else {
        // A first version: every consent is given under it or later.
        return (since, fresh);
    };
    for p in &new.purposes {
        if p.basis != LegalBasis::Consent || p.forbidden {
            continue;
        }
        let reason = match old.purpose(&p.id) {
            None => Some(FreshReason::NewPurpose),
            Some(o) if o.basis != LegalBasis::Consent => Some(FreshReason::BecameConsent),
            Some(o)
                if p.categories
                    .iter()
                    .any(|c| !o.categories.iter().any(|oc| c.is_within(oc))) =>
            {
                Some(FreshReason::CategoriesWidened)
            }
            Some(_) => None,
        };
        match reason {
            Some(reason) => {
                since.insert(p.id.clone(), version);
                fresh.push(FreshConsent {
                    purpose: p.id.to_string(),
                    reason,
                    categories: p.categories.iter().map(ToString::to_string).collect(),
                });
            }
            None => {
                if let Some(&v) = old.consent_since.get(&p.id) {
                    since.insert(p.id.clone(), v);
                }
            }
        }
    }
    (since, fresh)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "format: 1
organisation: {name: Test Co.}
effective_date: 2026-01-01
contacts:
  - {channel: email, address: privacy@test.example}
categories:
  - {id: user.name, description: Name}
  - {id: user.contact.email, description: E-mail}
  - {id: user.contact.phone_number, description: Phone}
purposes:
  - {id: research, description: Studies, basis: consent, categories: [user.name]}
  - {id: payments, description: Pay, basis: contract, categories: [user.name]}
  - {id: news, description: News, basis: consent, categories: [user.contact.email]}
retention:
  - {category: user.contact, keep: 2y, from: last_activity}
recipients:
  - {id: lab, name: Lab, kind: client, categories: [user.name], purposes: [research], country: CA}
jurisdictions: [CA]
response_times: {requests_days: 30}
";

    fn parse(s: &str) -> Policy {
        crate::parse(s, "t.yaml").expect("policy").policy
    }

    fn v2() -> Policy {
        parse(
            &V1.replace("effective_date: 2026-01-01", "effective_date: 2026-06-01")
                .replace(
                    "  - {id: news, description: News, basis: consent, categories: [user.contact.email]}",
                    "  - {id: news, description: News, basis: consent, categories: [user.contact]}\n  - {id: surveys.sms, description: SMS, basis: consent, categories: [user.contact.phone_number]}",
                )
                .replace("keep: 2y", "keep: 1y")
                .replace("requests_days: 30", "requests_days: 20, per_type: {delete: 15}")
                .replace(
                    "country: CA}",
                    "country: CA}\n  - {id: sms-co, name: SMS Co, kind: vendor, categories: [user.contact.phone_number], purposes: [surveys.sms], country: US, safeguard: contract}",
                )
                .replace("  - {id: user.name, description: Name}", "  - {id: user.name, description: Name, sensitive: true}"),
        )
    }

    #[test]
    fn every_kind_of_change_is_named() {
        let old = parse(V1);
        let new = v2();
        let d = diff(Some(&old), &new);
        assert_eq!(d.effective_date.from.as_deref(), Some("2026-01-01"));
        assert_eq!(d.effective_date.to, "2026-06-01");
        let sms = d.purposes.iter().find(|p| p.id == "surveys.sms").unwrap();
        assert_eq!(sms.change, ChangeKind::Added);
        assert!(
            sms.fields
                .iter()
                .any(|f| f.field == "basis" && f.to == "consent")
        );
        let news = d.purposes.iter().find(|p| p.id == "news").unwrap();
        assert_eq!(news.change, ChangeKind::Changed);
        assert_eq!(news.fields.len(), 1);
        assert_eq!(news.fields[0].field, "categories");
        assert_eq!(news.fields[0].to, serde_json::json!(["user.contact"]));
        assert!(
            !d.purposes
                .iter()
                .any(|p| p.id == "research" || p.id == "payments")
        );
        assert_eq!(d.recipients.len(), 1);
        assert_eq!(d.recipients[0].id, "sms-co");
        assert_eq!(d.recipients[0].change, ChangeKind::Added);
        assert_eq!(d.categories.len(), 1);
        assert_eq!(d.categories[0].fields[0].field, "sensitive");
        assert_eq!(d.retention.len(), 1);
        assert_eq!(d.retention[0].id, "user.contact for any purpose");
        assert_eq!(d.retention[0].fields[0].field, "keep");
        let rt: Vec<&str> = d.response_times.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(rt, ["per_type.delete", "requests_days"]);
        assert!(d.other.is_empty(), "{:?}", d.other);
        let summary = d.summary().join("\n");
        assert!(
            summary.contains("effective date: 2026-01-01 -> 2026-06-01"),
            "{summary}"
        );
        assert!(summary.contains("purpose surveys.sms added"), "{summary}");
        assert!(summary.contains("recipient sms-co added"), "{summary}");
        assert!(
            summary.contains("retention rule user.contact for any purpose changed (keep 2y -> 1y"),
            "{summary}"
        );
        assert!(
            summary.contains("response time requests_days: 30 -> 20 days"),
            "{summary}"
        );
    }

    #[test]
    fn removals_and_identical_versions() {
        let old = v2();
        let new = parse(V1);
        let d = diff(Some(&old), &new);
        assert!(
            d.purposes
                .iter()
                .any(|p| p.id == "surveys.sms" && p.change == ChangeKind::Removed)
        );
        assert!(
            d.recipients
                .iter()
                .any(|r| r.id == "sms-co" && r.change == ChangeKind::Removed)
        );
        let same = diff(Some(&new), &new);
        assert!(same.is_empty());
        assert!(same.summary().is_empty());
        let first = diff(None, &new);
        assert_eq!(first.purposes.len(), 3);
        assert!(first.purposes.iter().all(|p| p.change == ChangeKind::Added));
        assert_eq!(first.summary()[0], "first version, effective 2026-01-01");
    }

    #[test]
    fn new_and_widened_consent_purposes_need_fresh_consent() {
        let old = parse(V1);
        let new = v2();
        let (since, fresh) = consent_since(Some(&old), &new, 2);
        let names: Vec<(&str, FreshReason)> = fresh
            .iter()
            .map(|f| (f.purpose.as_str(), f.reason))
            .collect();
        assert_eq!(
            names,
            [
                ("news", FreshReason::CategoriesWidened),
                ("surveys.sms", FreshReason::NewPurpose)
            ]
        );
        assert_eq!(since.len(), 2);
        assert_eq!(since[&PurposeId::new("news").unwrap()], 2);
        // Research did not change: no requirement, whatever the version.
        assert!(!since.contains_key(&PurposeId::new("research").unwrap()));
        // A third version that changes nothing keeps the requirement of the second.
        let mut v2c = new.clone();
        v2c.consent_since = since;
        let (since3, fresh3) = consent_since(Some(&v2c), &new, 3);
        assert!(fresh3.is_empty());
        assert_eq!(since3[&PurposeId::new("surveys.sms").unwrap()], 2);
        // Narrowing needs nothing; a first version needs nothing.
        let (s, f) = consent_since(Some(&new), &old, 4);
        assert!(s.is_empty() && f.is_empty());
        assert!(consent_since(None, &new, 1).1.is_empty());
        // A contract purpose turned into a consent one needs consent.
        let turned = parse(&V1.replace(
            "{id: payments, description: Pay, basis: contract",
            "{id: payments, description: Pay, basis: consent",
        ));
        let (_, f) = consent_since(Some(&old), &turned, 2);
        assert_eq!(f[0].reason, FreshReason::BecameConsent);
    }

    #[test]
    fn a_policy_file_may_not_set_consent_since() {
        let with = format!("{V1}consent_since: {{research: 1}}\n");
        let problems = crate::parse(&with, "t.yaml").expect_err("refused");
        assert!(
            problems.iter().any(|d| d.path == "consent_since"),
            "{problems:?}"
        );
    }
}
