//! Breaches (R16): record an incident, compute who is affected (one set-based query),
//! the risk, every notice deadline that applies and draft notices; track who has been
//! told. The register holds counts and pseudonymous subject ids only.
//!
//! The rules are the packs' `breach:` sections ([`vow_core::breach`]); due dates use
//! the same clock arithmetic as requests. See `docs/breaches.md`.

use super::types::{
    CategoryImpact, DeadlineView, DueView, ImpactView, IncidentView, NewIncident, NewNotification,
    NotificationView, Scope, Stored, TenantImpact, Window,
};
use crate::engine::parse_time;
use crate::error::{EngineError, FieldError, Result};
use crate::{Actor, Engine};
use jiff::Timestamp;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use vow_core::TenantId;
use vow_core::breach::{self, Audience, Duty, DutyStatus, Facts, RiskLevel};
use vow_core::deadline::{self, Term, add_term};
use vow_core::role::Capability;
use vow_core::{Category, Policy};
use vow_store::{IncidentNotificationRow, IncidentRow};

/// The key for people with no residence recorded.
const UNKNOWN: &str = "unknown";
/// The register is kept at least this long (PIPEDA s.10.3, RULES.md PI-05).
const REGISTER_MINIMUM: Term = Term::calendar_months(24);
const MAX_LIST: usize = 200;

use crate::engine::ts;

fn sensitive(policy: &Policy, cat: &Category) -> bool {
    policy
        .categories
        .iter()
        .any(|d| d.sensitive && cat.is_within(&d.id))
}

impl Engine {
    /// Record an incident and compute its impact, in one transaction.
    pub async fn create_incident(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        input: &NewIncident,
    ) -> Result<ImpactView> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageIncidents, tenant)?;
        for t in &input.tenants {
            self.authorize(actor, Capability::ManageIncidents, t)?;
        }
        let now = self.now();
        let mut errors = Vec::new();
        let time = |ptr: &str, text: &str, errors: &mut Vec<FieldError>| match parse_time(ptr, text)
        {
            Ok(t) => Some(t),
            Err(EngineError::Invalid(mut e)) => {
                errors.append(&mut e);
                None
            }
            Err(_) => None,
        };
        let discovered = time("/discovered_at", &input.discovered_at, &mut errors);
        let from = time("/window/from", &input.window.from, &mut errors);
        let to = time("/window/to", &input.window.to, &mut errors);
        if discovered.is_some_and(|d| d > now) {
            errors.push(FieldError::new(
                "/discovered_at",
                "must not be in the future",
            ));
        }
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            errors.push(FieldError::new(
                "/window/to",
                "the window ends before it starts",
            ));
        }
        if let (Some(d), Some(f)) = (discovered, from)
            && d < f
        {
            errors.push(FieldError::new(
                "/discovered_at",
                "a breach cannot be discovered before its window starts",
            ));
        }
        if input.description.trim().is_empty() || input.description.len() > 4000 {
            errors.push(FieldError::new(
                "/description",
                "describe what happened to which systems, in 1 to 4000 characters",
            ));
        }
        for (name, list) in [("stores", &input.stores), ("categories", &input.categories)] {
            if list.is_empty() || list.len() > MAX_LIST {
                errors.push(FieldError::new(
                    format!("/{name}"),
                    format!("name 1 to {MAX_LIST} {name}"),
                ));
            }
        }
        let mut categories = Vec::new();
        for (i, c) in input.categories.iter().enumerate() {
            match Category::new(c.as_str()) {
                Ok(c) => categories.push(c),
                Err(e) => errors.push(FieldError::new(format!("/categories/{i}"), e.to_string())),
            }
        }
        let mut tenants = vec![tenant.to_string()];
        for (i, t) in input.tenants.iter().enumerate() {
            if tenants.contains(t) {
                errors.push(FieldError::new(
                    format!("/tenants/{i}"),
                    "this tenant is already part of the incident",
                ));
            } else {
                tenants.push(t.clone());
            }
        }

        let mut tx = self.store.write().await?;
        // Each tenant's policy must know every store and category named.
        let mut per_tenant = Vec::new();
        for (ti, t) in tenants.iter().enumerate() {
            let Some(row) = tx.tenant(t).await? else {
                if ti == 0 {
                    return Err(EngineError::NotFound("tenant"));
                }
                errors.push(FieldError::new(
                    format!("/tenants/{}", ti - 1),
                    "no such tenant",
                ));
                continue;
            };
            let (policy, _) = self.policy_for(&mut tx, t).await?;
            let whose = if ti == 0 {
                String::new()
            } else {
                format!(" of tenant {t}")
            };
            for (i, s) in input.stores.iter().enumerate() {
                if policy.store(s).is_none() {
                    let known: Vec<&str> = policy.stores.iter().map(|s| s.id.as_str()).collect();
                    errors.push(FieldError::new(
                        format!("/stores/{i}"),
                        format!(
                            "no store `{s}` in the policy{whose}; known: {}",
                            known.join(", ")
                        ),
                    ));
                }
            }
            for (i, c) in categories.iter().enumerate() {
                if !policy.knows_category(c) {
                    errors.push(FieldError::new(
                        format!("/categories/{i}"),
                        format!("the policy{whose} defines no category `{c}`"),
                    ));
                }
            }
            per_tenant.push((row, policy));
        }
        let (Some(discovered), Some(from), Some(to), true) =
            (discovered, from, to, errors.is_empty())
        else {
            return Err(EngineError::Invalid(errors));
        };

        let id = uuid::Uuid::now_v7().to_string();
        let keep_until = self.keep_until(&per_tenant, discovered);
        let scope = Scope {
            stores: input.stores.clone(),
            categories: input.categories.clone(),
            tenants: input.tenants.clone(),
            encrypted: input.encrypted,
        };
        tx.insert_incident(&IncidentRow {
            id: id.clone(),
            tenant_id: tenant.to_string(),
            discovered_at: discovered.as_millisecond(),
            window_from: from.as_millisecond(),
            window_to: to.as_millisecond(),
            description: input.description.trim().to_string(),
            scope: serde_json::to_string(&scope).unwrap_or_default(),
            impact: "{}".to_string(),
            risk: RiskLevel::Low.as_str().to_string(),
            affected: 0,
            created_at: now.as_millisecond(),
            created_by: actor.id().to_string(),
            keep_until: keep_until.as_millisecond(),
        })
        .await?;
        for (row, policy) in &per_tenant {
            // Categories are matched exactly, so each asked category is expanded to the
            // policy's categories within it.
            let mut expanded = BTreeSet::new();
            for c in &categories {
                expanded.insert(c.as_str().to_string());
                for d in &policy.categories {
                    if d.id.is_within(c) {
                        expanded.insert(d.id.as_str().to_string());
                    }
                }
            }
            for s in &input.stores {
                for c in &expanded {
                    tx.insert_incident_scope(&id, &row.id, s, c).await?;
                }
            }
        }
        let (wf, wt) = (from.as_millisecond(), to.as_millisecond());
        let affected = tx.fill_incident_subjects(&id, wf, wt).await?;
        let by_category = tx.incident_category_counts(&id, wf, wt).await?;
        let by_residence = tx.incident_residence_counts(&id).await?;

        let keys_safe = input.encrypted.is_some_and(|e| !e.keys_exposed);
        let mut sensitive_found = BTreeSet::new();
        let mut impacts = Vec::new();
        for (row, policy) in &per_tenant {
            let cats: Vec<CategoryImpact> = by_category
                .iter()
                .filter(|c| c.0 == row.id && c.2 > 0)
                .map(|(_, cat, subjects, records)| {
                    let sens = Category::new(cat.as_str()).is_ok_and(|c| sensitive(policy, &c));
                    if sens {
                        sensitive_found.insert(cat.clone());
                    }
                    CategoryImpact {
                        category: cat.clone(),
                        sensitive: sens,
                        subjects: *subjects,
                        records: *records,
                    }
                })
                .collect();
            let residences: BTreeMap<String, i64> = by_residence
                .iter()
                .filter(|r| r.0 == row.id)
                .map(|(_, r, n)| (r.clone().unwrap_or_else(|| UNKNOWN.to_string()), *n))
                .collect();
            let processor = crate::engine::tenant_role(row)? == vow_core::TenantRole::Processor;
            impacts.push(TenantImpact {
                tenant: row.id.clone(),
                processor,
                client: processor.then(|| row.controller_name.clone()).flatten(),
                client_contact: processor.then(|| row.controller_contact.clone()).flatten(),
                jurisdictions: policy.jurisdictions.clone(),
                promise_days: policy.response_times.breach_notice_days,
                affected: residences.values().sum(),
                residences,
                categories: cats,
            });
        }
        let risk = breach::risk(
            u64::try_from(affected).unwrap_or(0),
            !sensitive_found.is_empty(),
            keys_safe,
        );
        let mut reasons = vec![format!("{affected} people affected")];
        if !sensitive_found.is_empty() {
            reasons.push(format!(
                "sensitive categories involved: {}",
                sensitive_found.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        if keys_safe {
            reasons.push(
                "the data was encrypted and the keys were not exposed: risk lowered to low (GDPR Art. 34(3)(a))"
                    .to_string(),
            );
        } else if input.encrypted.is_some() {
            reasons.push("the data was encrypted but the keys were exposed too".to_string());
        }
        let stored = Stored {
            tenants: impacts,
            risk_reasons: reasons,
            encrypted_keys_safe: keys_safe,
        };
        tx.set_incident_impact(
            &id,
            &serde_json::to_string(&stored).unwrap_or_default(),
            risk.as_str(),
            affected,
        )
        .await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "incident.create",
            None,
            None,
            json!({"incident": id, "affected": affected, "risk": risk.as_str(), "tenants": tenants}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        let row = tx
            .incident(tenant, &id)
            .await?
            .ok_or(EngineError::Internal("the incident vanished".into()))?;
        tx.commit().await?;
        self.impact_of(&row, &[], &per_tenant_policies(&per_tenant))
    }

    /// The register keeps an incident 24 months, or longer where a law asks.
    fn keep_until(
        &self,
        per_tenant: &[(vow_store::TenantRow, std::sync::Arc<Policy>)],
        discovered: Timestamp,
    ) -> Timestamp {
        let utc = jiff::tz::TimeZone::UTC;
        let mut until = add_term(discovered, REGISTER_MINIMUM, &utc, None);
        for (_, p) in per_tenant {
            let packs = deadline::applicable(&self.rules.packs, &p.jurisdictions, None);
            if let Some((t, _)) = breach::keep_records(&packs) {
                until = until.max(add_term(discovered, t, &utc, None));
            }
        }
        until
    }

    /// The incidents of a tenant, most recently discovered first.
    pub async fn incidents(&self, actor: &Actor, tenant: &TenantId) -> Result<Vec<IncidentView>> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageIncidents, tenant)?;
        let mut tx = self.store.read().await?;
        let rows = tx.incidents(tenant).await?;
        let mut out = Vec::new();
        for row in rows {
            let notes = tx.incident_notifications(&row.id).await?;
            out.push(self.incident_view(&row, &notes)?);
        }
        Ok(out)
    }

    pub async fn incident(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<IncidentView> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageIncidents, tenant)?;
        let mut tx = self.store.read().await?;
        let row = tx
            .incident(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("incident"))?;
        let notes = tx.incident_notifications(id).await?;
        self.incident_view(&row, &notes)
    }

    pub async fn incident_impact(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<ImpactView> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageIncidents, tenant)?;
        let mut tx = self.store.read().await?;
        let row = tx
            .incident(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("incident"))?;
        let notes = tx.incident_notifications(id).await?;
        let stored = stored(&row)?;
        let mut policies = BTreeMap::new();
        for t in &stored.tenants {
            let (p, _) = self.policy_for(&mut tx, &t.tenant).await?;
            policies.insert(t.tenant.clone(), p);
        }
        let mut impact = self.impact_of(&row, &notes, &policies)?;
        self.apply_notice_edits(&mut tx, &mut impact).await?;
        Ok(impact)
    }

    /// Record that an audience was told; returns the incident with its deadlines'
    /// standing.
    pub async fn notify_incident(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        input: &NewNotification,
    ) -> Result<IncidentView> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageIncidents, tenant)?;
        let now = self.now();
        let mut errors = Vec::new();
        let audience = Audience::parse(&input.audience);
        if audience.is_none() {
            errors.push(FieldError::new(
                "/audience",
                "expected authority, individuals or clients",
            ));
        }
        let at = match &input.at {
            Some(t) => match parse_time("/at", t) {
                Ok(t) if t > now => {
                    errors.push(FieldError::new("/at", "must not be in the future"));
                    None
                }
                Ok(t) => Some(t),
                Err(EngineError::Invalid(mut e)) => {
                    errors.append(&mut e);
                    None
                }
                Err(e) => return Err(e),
            },
            None => Some(now),
        };
        let note = input.note.clone().unwrap_or_default();
        if note.len() > 1000 {
            errors.push(FieldError::new("/note", "at most 1000 characters"));
        }
        let mut tx = self.store.write().await?;
        let row = tx
            .incident(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("incident"))?;
        let stored = stored(&row)?;
        let whose = input.tenant.clone().unwrap_or_else(|| tenant.to_string());
        if !stored.tenants.iter().any(|t| t.tenant == whose) {
            errors.push(FieldError::new(
                "/tenant",
                "this tenant is not part of the incident",
            ));
        }
        let (Some(audience), Some(at), true) = (audience, at, errors.is_empty()) else {
            return Err(EngineError::Invalid(errors));
        };
        if at.as_millisecond() < row.discovered_at {
            return Err(EngineError::invalid(
                "/at",
                "a notification cannot come before the breach was discovered",
            ));
        }
        tx.insert_incident_notification(&IncidentNotificationRow {
            id: uuid::Uuid::now_v7().to_string(),
            incident_id: id.to_string(),
            tenant_id: whose.clone(),
            audience: audience.as_str().to_string(),
            at: at.as_millisecond(),
            recorded_at: now.as_millisecond(),
            recorded_by: actor.id().to_string(),
            queued: 0,
            note,
        })
        .await?;
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            "incident.notify",
            None,
            None,
            json!({"incident": id, "audience": audience.as_str(), "tenant": whose, "at": vow_core::wire::time(at)}),
        );
        self.chain.append(&mut tx, &[entry]).await?;
        let notes = tx.incident_notifications(id).await?;
        tx.commit().await?;
        self.incident_view(&row, &notes)
    }

    /// Every duty of an incident (recomputed from the stored counts and the rule
    /// book, so a notification's standing is always current).
    fn duties_of(&self, row: &IncidentRow, stored: &Stored) -> Vec<(String, Duty)> {
        let discovered = Timestamp::from_millisecond(row.discovered_at).unwrap_or(Timestamp::MIN);
        let risk = risk_of(row);
        let mut out = Vec::new();
        for t in &stored.tenants {
            let residences: BTreeMap<Option<String>, u64> = t
                .residences
                .iter()
                .map(|(r, n)| {
                    (
                        (r != UNKNOWN).then(|| r.clone()),
                        u64::try_from(*n).unwrap_or(0),
                    )
                })
                .collect();
            let packs = deadline::applicable(&self.rules.packs, &t.jurisdictions, None);
            let facts = Facts {
                discovered,
                residences: &residences,
                risk,
                encrypted_keys_safe: stored.encrypted_keys_safe,
                processor: t.processor,
                promise_days: t.promise_days,
            };
            for d in breach::duties(&packs, &self.rules.calendars, &facts) {
                out.push((t.tenant.clone(), d));
            }
        }
        out
    }

    fn deadlines(
        &self,
        row: &IncidentRow,
        stored: &Stored,
        notes: &[IncidentNotificationRow],
    ) -> (Vec<DeadlineView>, BTreeMap<String, DueView>) {
        let now = self.now();
        let duties = self.duties_of(row, stored);
        let views = duties
            .iter()
            .map(|(tenant, d)| {
                let told = notes
                    .iter()
                    .filter(|n| &n.tenant_id == tenant && n.audience == d.audience.as_str())
                    .map(|n| n.at)
                    .min();
                let due_ms = d.due.map(|t| t.as_millisecond());
                let status = DutyStatus::of(d.required, told, due_ms);
                DeadlineView {
                    tenant: tenant.clone(),
                    audience: d.audience.as_str().to_string(),
                    rule: d.rule.clone(),
                    to: d.to.clone(),
                    law: d.law.clone(),
                    required: d.required,
                    reason: d.reason.clone(),
                    affected: d.affected,
                    term: d.term.map(|t| t.to_string()),
                    timing: d.timing.clone(),
                    due: d.due.map(vow_core::wire::time),
                    tag: d.tag.map(|t| t.as_str().to_string()),
                    contents: d.contents.clone(),
                    title: d.title.clone(),
                    status,
                    overdue: status == DutyStatus::Open && d.due.is_some_and(|due| due < now),
                    notified_at: told.map(ts),
                }
            })
            .collect();
        let plain: Vec<Duty> = duties.into_iter().map(|(_, d)| d).collect();
        let due = breach::strictest(&plain)
            .into_iter()
            .map(|(a, (due, binding))| {
                (
                    a.as_str().to_string(),
                    DueView {
                        due: due.map(vow_core::wire::time),
                        binding,
                    },
                )
            })
            .collect();
        (views, due)
    }

    pub(crate) fn incident_view(
        &self,
        row: &IncidentRow,
        notes: &[IncidentNotificationRow],
    ) -> Result<IncidentView> {
        let stored = stored(row)?;
        let scope: Scope = serde_json::from_str(&row.scope)
            .map_err(|_| EngineError::Internal("a stored incident scope is unreadable".into()))?;
        let (deadlines, due) = self.deadlines(row, &stored, notes);
        Ok(IncidentView {
            id: row.id.clone(),
            tenant: row.tenant_id.clone(),
            discovered_at: ts(row.discovered_at),
            window: Window {
                from: ts(row.window_from),
                to: ts(row.window_to),
            },
            scope,
            description: row.description.clone(),
            risk: row.risk.clone(),
            affected: row.affected,
            recorded_at: ts(row.created_at),
            recorded_by: row.created_by.clone(),
            keep_until: ts(row.keep_until),
            due,
            deadlines,
            notifications: notes
                .iter()
                .map(|n| NotificationView {
                    id: n.id.clone(),
                    tenant: n.tenant_id.clone(),
                    audience: n.audience.clone(),
                    at: ts(n.at),
                    recorded_at: ts(n.recorded_at),
                    recorded_by: n.recorded_by.clone(),
                    note: n.note.clone(),
                })
                .collect(),
        })
    }

    fn impact_of(
        &self,
        row: &IncidentRow,
        notes: &[IncidentNotificationRow],
        policies: &BTreeMap<String, std::sync::Arc<Policy>>,
    ) -> Result<ImpactView> {
        let stored = stored(row)?;
        let (deadlines, due) = self.deadlines(row, &stored, notes);
        let mut jurisdictions: BTreeMap<String, i64> = BTreeMap::new();
        for t in &stored.tenants {
            for (r, n) in &t.residences {
                *jurisdictions.entry(r.clone()).or_default() += n;
            }
        }
        let notices = super::notices::drafts(row, &stored.tenants, &deadlines, policies);
        Ok(ImpactView {
            id: row.id.clone(),
            tenant: row.tenant_id.clone(),
            risk: row.risk.clone(),
            risk_reasons: stored.risk_reasons.clone(),
            affected: row.affected,
            jurisdictions,
            tenants: stored.tenants,
            due,
            deadlines,
            notices,
        })
    }
}

fn per_tenant_policies(
    per_tenant: &[(vow_store::TenantRow, std::sync::Arc<Policy>)],
) -> BTreeMap<String, std::sync::Arc<Policy>> {
    per_tenant
        .iter()
        .map(|(r, p)| (r.id.clone(), p.clone()))
        .collect()
}

fn stored(row: &IncidentRow) -> Result<Stored> {
    serde_json::from_str(&row.impact)
        .map_err(|_| EngineError::Internal("a stored incident impact is unreadable".into()))
}

fn risk_of(row: &IncidentRow) -> RiskLevel {
    match row.risk.as_str() {
        "high" => RiskLevel::High,
        "medium" => RiskLevel::Medium,
        _ => RiskLevel::Low,
    }
}
