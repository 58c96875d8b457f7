//! The annual self-assessment (S13): whether the organisation kept its word, computed
//! from Vow's own records: policy versions, requests and their deadlines, consents,
//! disclosures, key rotations and the audit chain. Counts only; no subject id and no
//! value appears in it. A sign-off binds a named role to the report's hash in the
//! audit chain, so a later change of the underlying records shows.

use super::metrics::{median, round1, tally, year_bounds};
use crate::engine::ts;
use crate::error::{EngineError, Result};
use crate::{Actor, Engine};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use vow_core::RequestState;
use vow_core::TenantId;
use vow_core::role::Capability;

mod document;
pub use document::{document, render_html, render_markdown};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SelfAssessment {
    pub tenant: String,
    pub organisation: String,
    pub year: i16,
    /// `[from, to)`, UTC.
    pub from: String,
    pub to: String,
    pub generated_at: String,
    pub policies: Vec<PolicyInForce>,
    pub requests: RequestsSection,
    pub consents: Vec<ConsentLine>,
    pub disclosures: Vec<DisclosureLine>,
    pub key_rotations: i64,
    /// Retention runs started in the year (dry runs not counted) (R6).
    pub retention: RetentionSection,
    /// Incidents discovered in the year and how their notices went (R16).
    pub incidents: Vec<IncidentLine>,
    /// Events for recipients created in the year, by delivery state (R12).
    pub deliveries: Vec<DeliveryLine>,
    /// Connector jobs of requests in the year, in the organisation's own databases,
    /// by kind (access, erasure, correction) and state (R11, R12, R14).
    pub connector_jobs: Vec<ConnectorLine>,
    pub audit: AuditSection,
    /// What a reviewer should look at, in plain words: each names the promise it bears on.
    pub findings: Vec<Finding>,
    /// SHA-256 (hex) of this report without `hash` and `sign_offs`: what a sign-off signs.
    pub hash: String,
    pub sign_offs: Vec<SignOff>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicyInForce {
    pub version: i64,
    pub effective_date: String,
    pub published_at: String,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct RequestsSection {
    pub received: usize,
    pub per_type: Vec<RequestLine>,
    /// Denials by reason code.
    pub denials: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct RequestLine {
    #[serde(rename = "type")]
    pub kind: String,
    pub received: usize,
    /// Answered (fulfilled in whole or part, denied, or sent to the controlling client).
    pub answered: usize,
    pub answered_on_time: usize,
    /// Share of answered requests answered by their deadline (extended or paused
    /// deadlines count as they stood), 0–1; None when none was answered.
    pub on_time_share: Option<f64>,
    pub median_days: Option<f64>,
    pub withdrawn: usize,
    pub open: usize,
    /// Still open past the deadline when the report was made.
    pub overdue: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentLine {
    pub purpose: String,
    pub granted: i64,
    pub withdrawn: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisclosureLine {
    pub recipient: String,
    pub purpose: String,
    pub disclosures: i64,
    pub subjects: i64,
    pub refused: i64,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct RetentionSection {
    pub runs: usize,
    /// Runs that did not finish (the next run carries on where it stopped).
    pub unfinished: usize,
    pub fields_destroyed: i64,
    pub subjects_shredded: i64,
    /// Due fields kept under a legal hold, summed over the runs.
    pub held: i64,
    pub last_run: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentLine {
    pub id: String,
    pub discovered_at: String,
    pub risk: String,
    pub affected: i64,
    /// The notices owed, each with its due date and whether it was made on time.
    pub duties: Vec<DutyLine>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DutyLine {
    pub audience: String,
    pub rule: String,
    pub due: Option<String>,
    /// `on_time`, `late` or `open`.
    #[schema(value_type = String)]
    pub status: vow_core::breach::DutyStatus,
    pub overdue: bool,
    pub notified_at: Option<String>,
    /// Hours from discovery to the notification, when made.
    pub hours_to_notify: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryLine {
    pub event: String,
    pub delivered: i64,
    pub pending: i64,
    pub dead: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectorLine {
    pub kind: String,
    pub done: i64,
    pub failed: i64,
    pub pending: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditSection {
    /// Entries of this tenant written during the year.
    pub entries_in_year: i64,
    /// The whole chain, recomputed when the report was made.
    pub chain_ok: bool,
    pub chain_entries: i64,
    pub first_bad: Option<String>,
    pub head: Option<String>,
    /// Whether the stored head carries this store's signature: valid, invalid or missing.
    pub head_signature: crate::vault::audit::HeadSignature,
    /// The newest signed checkpoint published to the witnesses, if any: compare it
    /// with the witness's copy (`vow audit verify --checkpoint FILE`).
    pub checkpoint: Option<crate::vault::checkpoint::Checkpoint>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Finding {
    /// `ok`, `attention` or `failure`.
    pub level: String,
    /// The promise ids it bears on.
    pub promises: Vec<String>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignOff {
    /// The role of whoever signs, e.g. "Privacy Officer".
    pub role: String,
    /// The API key or local user that recorded the sign-off.
    pub signed_by: String,
    pub at: String,
    /// The report hash signed.
    pub hash: String,
    /// The report as it is now has that hash: nothing changed since.
    #[serde(default)]
    pub current: bool,
}

/// A sign-off to record.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSignOff {
    pub year: i16,
    /// e.g. "Privacy Officer" (1 to 200 characters; a role, not a person's details).
    pub role: String,
    /// The hash of the report being signed, as shown in it: a stale report is refused.
    pub hash: String,
}

const SIGN_OFF: &str = "report.self_assessment.sign_off";

impl Engine {
    /// The self-assessment of `tenant` for calendar `year` (UTC).
    pub async fn self_assessment(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        year: i16,
    ) -> Result<SelfAssessment> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadReports, tenant)?;
        let (from, to) = year_bounds(year)?;
        let now = self.now_ms();
        let mut tx = self.store.read().await?;
        tx.tenant(tenant)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        let organisation = match self.policy_for(&mut tx, tenant).await {
            Ok((p, _)) => p.organisation.name.clone(),
            Err(EngineError::NotFound(_)) => String::new(),
            Err(e) => return Err(e),
        };

        // Versions in force at some time in the year: published before its end, and not
        // replaced (by effective date) before its start.
        let versions = tx.policy_versions(tenant).await?;
        let start_date = ts(from)[..10].to_string();
        let end_date = ts(to)[..10].to_string();
        let mut policies: Vec<PolicyInForce> = Vec::new();
        for (i, (v, eff, at)) in versions.iter().enumerate() {
            let replaced_by = versions.get(i + 1).map(|(_, e, _)| e.as_str());
            let begins_in_time = eff.as_str() < end_date.as_str() && *at < to;
            let ends_after_start = replaced_by.is_none_or(|e| e > start_date.as_str());
            if begins_in_time && ends_after_start {
                policies.push(PolicyInForce {
                    version: *v,
                    effective_date: eff.clone(),
                    published_at: ts(*at),
                });
            }
        }

        let rows = tx.requests_received(tenant, from, to).await?;
        let mut requests = RequestsSection {
            received: rows.len(),
            ..RequestsSection::default()
        };
        for (kind, t) in tally(&rows, now)? {
            if t.received == 0 {
                continue;
            }
            requests.per_type.push(RequestLine {
                kind: kind.as_str().to_string(),
                received: t.received,
                answered: t.answered,
                answered_on_time: t.answered_on_time,
                on_time_share: (t.answered > 0).then(|| {
                    round1(t.answered_on_time as f64 * 1000.0 / t.answered as f64) / 1000.0
                }),
                median_days: median(&t.answered_days).map(round1),
                withdrawn: t.withdrawn,
                open: t.open,
                overdue: t.overdue,
            });
        }
        for r in rows {
            if crate::engine::stored("request state", &r.state, RequestState::parse)?
                != RequestState::Denied
            {
                continue;
            }
            let outcome: Value = r
                .outcome
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or(Value::Null);
            for reason in outcome["denied"].as_array().into_iter().flatten() {
                if let Some(code) = reason["code"].as_str() {
                    *requests.denials.entry(code.to_string()).or_default() += 1;
                }
            }
        }

        let mut consents: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for ((purpose, action), n) in tx.consent_counts(tenant, from, to).await? {
            let e = consents.entry(purpose).or_default();
            match action.as_str() {
                "grant" => e.0 += n,
                _ => e.1 += n,
            }
        }
        let consents = consents
            .into_iter()
            .map(|(purpose, (granted, withdrawn))| ConsentLine {
                purpose,
                granted,
                withdrawn,
            })
            .collect();

        let mut disclosures: BTreeMap<(String, String), DisclosureLine> = BTreeMap::new();
        for d in tx
            .disclosures(tenant)
            .await?
            .into_iter()
            .filter(|d| d.created_at >= from && d.created_at < to)
        {
            let line = disclosures
                .entry((d.recipient.clone(), d.purpose.clone()))
                .or_insert_with(|| DisclosureLine {
                    recipient: d.recipient.clone(),
                    purpose: d.purpose.clone(),
                    disclosures: 0,
                    subjects: 0,
                    refused: 0,
                });
            line.disclosures += 1;
            line.subjects += d.subjects;
            line.refused += d.refused;
        }
        let disclosures: Vec<DisclosureLine> = disclosures.into_values().collect();

        let mut retention = RetentionSection::default();
        for run in tx
            .retention_runs(tenant, i64::MAX)
            .await?
            .into_iter()
            .filter(|r| !r.dry_run && r.started_at >= from && r.started_at < to)
        {
            retention.runs += 1;
            retention.unfinished += usize::from(run.finished_at.is_none());
            retention.fields_destroyed += run.fields_destroyed;
            retention.subjects_shredded += run.subjects_shredded;
            retention.held += run.held;
            // Newest first: the first one seen is the last run.
            retention.last_run.get_or_insert_with(|| ts(run.started_at));
        }
        let mut incidents = Vec::new();
        for row in tx
            .incidents(tenant)
            .await?
            .into_iter()
            .filter(|i| i.discovered_at >= from && i.discovered_at < to)
        {
            let notes = tx.incident_notifications(&row.id).await?;
            let view = self.incident_view(&row, &notes)?;
            let duties = view
                .deadlines
                .iter()
                .filter(|d| d.required && d.tenant == tenant)
                .map(|d| DutyLine {
                    audience: d.audience.clone(),
                    rule: d.rule.clone(),
                    due: d.due.clone(),
                    status: d.status,
                    overdue: d.overdue,
                    notified_at: d.notified_at.clone(),
                    hours_to_notify: d
                        .notified_at
                        .as_deref()
                        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                        .map(|t| {
                            round1((t.as_millisecond() - row.discovered_at) as f64 / 3_600_000.0)
                        }),
                })
                .collect();
            incidents.push(IncidentLine {
                id: row.id.clone(),
                discovered_at: ts(row.discovered_at),
                risk: row.risk.clone(),
                affected: row.affected,
                duties,
            });
        }
        let mut deliveries: BTreeMap<String, DeliveryLine> = BTreeMap::new();
        for ((event, state), n) in tx.outbox_counts(tenant, from, to).await? {
            let line = deliveries.entry(event.clone()).or_insert(DeliveryLine {
                event,
                delivered: 0,
                pending: 0,
                dead: 0,
            });
            match state.as_str() {
                "delivered" => line.delivered += n,
                "dead" => line.dead += n,
                _ => line.pending += n,
            }
        }
        let deliveries: Vec<DeliveryLine> = deliveries.into_values().collect();
        let mut connector_jobs: BTreeMap<String, ConnectorLine> = BTreeMap::new();
        for (kind, state, n) in tx.job_counts(tenant, from, to).await? {
            let line = connector_jobs.entry(kind.clone()).or_insert(ConnectorLine {
                kind,
                done: 0,
                failed: 0,
                pending: 0,
            });
            match state.as_str() {
                "done" => line.done += n,
                "failed" => line.failed += n,
                _ => line.pending += n,
            }
        }
        let connector_jobs: Vec<ConnectorLine> = connector_jobs.into_values().collect();

        let actions: BTreeMap<String, i64> = tx
            .audit_counts(tenant, from, to)
            .await?
            .into_iter()
            .collect();
        let key_rotations = actions.get("keys.rotate").copied().unwrap_or(0);
        // Sign-offs are about the report, not part of it: signing must not change the hash.
        let entries_in_year = actions
            .iter()
            .filter(|(a, _)| a.as_str() != SIGN_OFF)
            .map(|(_, n)| n)
            .sum();
        let signed = tx.audit_details(tenant, SIGN_OFF).await?;
        drop(tx);

        let chain = crate::vault::audit_verify::verify(
            &self.store,
            &self.chain,
            Some(tenant),
            &Default::default(),
            |_| {},
        )
        .await?;
        let checkpoint = self.latest_audit_checkpoint().await?;
        let audit = AuditSection {
            entries_in_year,
            chain_ok: chain.ok,
            chain_entries: chain.entries,
            first_bad: chain
                .first_bad
                .map(|b| format!("entry {}: {}", b.seq, b.problem)),
            head: chain.head,
            head_signature: chain.head_signature,
            checkpoint,
        };
        let findings = findings(
            &policies,
            &requests,
            &audit,
            key_rotations,
            &retention,
            &incidents,
            &deliveries,
            &connector_jobs,
        );

        let mut report = SelfAssessment {
            tenant: tenant.to_string(),
            organisation,
            year,
            from: ts(from),
            to: ts(to),
            generated_at: ts(now),
            policies,
            requests,
            consents,
            disclosures,
            key_rotations,
            retention,
            incidents,
            deliveries,
            connector_jobs,
            audit,
            findings,
            hash: String::new(),
            sign_offs: Vec::new(),
        };
        report.hash = report_hash(&report);
        report.sign_offs = signed
            .into_iter()
            .filter_map(|(_, at, actor, detail)| {
                let d: Value = serde_json::from_str(&detail).ok()?;
                (d["year"].as_i64() == Some(i64::from(year))).then(|| {
                    let hash = d["hash"].as_str().unwrap_or_default().to_string();
                    SignOff {
                        role: d["role"].as_str().unwrap_or_default().to_string(),
                        signed_by: actor,
                        at: ts(at),
                        current: hash == report.hash,
                        hash,
                    }
                })
            })
            .collect();
        Ok(report)
    }

    /// Record a sign-off of the report for `year` as it is now: refused when the hash
    /// given is not the current report's (the records changed since it was read).
    pub async fn sign_self_assessment(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        input: &NewSignOff,
    ) -> Result<SelfAssessment> {
        let tenant_id = tenant;
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ReadReports, tenant)?;
        let role = input.role.trim();
        if role.is_empty() || role.chars().count() > 200 {
            return Err(EngineError::invalid(
                "/role",
                "the role of whoever signs, 1 to 200 characters (e.g. Privacy Officer)",
            ));
        }
        let report = self.self_assessment(actor, tenant_id, input.year).await?;
        if report.hash != input.hash.trim() {
            return Err(EngineError::Conflict(format!(
                "the report for {} has changed since it was read (its hash is now {}): read it again before signing",
                input.year, report.hash
            )));
        }
        let entry = self.audit_entry(
            actor,
            Some(tenant),
            SIGN_OFF,
            None,
            None,
            json!({"year": input.year, "role": role, "hash": report.hash}),
        );
        self.audit.record(vec![entry]).await?;
        self.self_assessment(actor, tenant_id, input.year).await
    }
}

/// SHA-256 over the report's JSON without its hash and sign-offs (`generated_at` too
/// is left out: the same records give the same hash whenever it is made).
fn report_hash(r: &SelfAssessment) -> String {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("hash");
        o.remove("sign_offs");
        o.remove("generated_at");
        if let Some(a) = o.get_mut("audit").and_then(Value::as_object_mut) {
            // The chain grows with every read of the report itself.
            a.remove("chain_entries");
            a.remove("head");
            // A new checkpoint is made as the chain grows.
            a.remove("checkpoint");
        }
    }
    hex::encode(vow_crypto::sha256(v.to_string().as_bytes()))
}

#[allow(clippy::too_many_arguments)]
fn findings(
    policies: &[PolicyInForce],
    requests: &RequestsSection,
    audit: &AuditSection,
    key_rotations: i64,
    retention: &RetentionSection,
    incidents: &[IncidentLine],
    deliveries: &[DeliveryLine],
    connector_jobs: &[ConnectorLine],
) -> Vec<Finding> {
    let f = |level: &str, promises: &[&str], text: String| Finding {
        level: level.into(),
        promises: promises.iter().map(|p| p.to_string()).collect(),
        text,
    };
    let mut out = Vec::new();
    if audit.chain_ok {
        out.push(f(
            "ok",
            &["S13"],
            // No count here: the chain grows while the report is read and signed.
            "The audit chain verifies end to end, from its first entry to its head.".into(),
        ));
    } else {
        out.push(f(
            "failure",
            &["S13"],
            format!(
                "The audit chain does not verify: {}. The records below cannot be relied on until this is explained.",
                audit.first_bad.as_deref().unwrap_or("unknown entry")
            ),
        ));
    }
    if policies.is_empty() {
        out.push(f(
            "failure",
            &["S5"],
            "No policy version was in force during the year.".into(),
        ));
    }
    let answered: usize = requests.per_type.iter().map(|l| l.answered).sum();
    let late: usize = requests
        .per_type
        .iter()
        .map(|l| l.answered - l.answered_on_time)
        .sum();
    let overdue: usize = requests.per_type.iter().map(|l| l.overdue).sum();
    if late == 0 && overdue == 0 {
        out.push(f(
            "ok",
            &["R15", "S11"],
            format!("All {answered} answered requests were answered on time; none is overdue."),
        ));
    } else {
        out.push(f(
            "attention",
            &["R15", "S11"],
            format!(
                "{late} of {answered} answered requests were answered after their deadline; {overdue} open requests are past it."
            ),
        ));
    }
    if retention.runs == 0 {
        out.push(f(
            "attention",
            &["R6"],
            "No retention run during the year: nothing was destroyed on schedule.".into(),
        ));
    } else {
        out.push(f(
            if retention.unfinished > 0 { "attention" } else { "ok" },
            &["R6"],
            format!(
                "{} retention runs ({} unfinished) destroyed {} fields and {} people's data; {} due fields kept under legal holds.",
                retention.runs,
                retention.unfinished,
                retention.fields_destroyed,
                retention.subjects_shredded,
                retention.held
            ),
        ));
    }
    let duties: Vec<&DutyLine> = incidents.iter().flat_map(|i| &i.duties).collect();
    let late = duties
        .iter()
        .filter(|d| d.status == vow_core::breach::DutyStatus::Late)
        .count();
    let overdue = duties.iter().filter(|d| d.overdue).count();
    if overdue > 0 {
        out.push(f(
            "failure",
            &["R16"],
            format!("{overdue} breach notices are owed and past their deadline."),
        ));
    }
    if late > 0 {
        out.push(f(
            "attention",
            &["R16"],
            format!("{late} breach notices were made after their deadline."),
        ));
    }
    if !incidents.is_empty() && late == 0 && overdue == 0 {
        out.push(f(
            "ok",
            &["R16"],
            format!(
                "{} incidents; every notice owed was made on time or is not yet due.",
                incidents.len()
            ),
        ));
    }
    let dead: i64 = deliveries.iter().map(|d| d.dead).sum();
    if dead > 0 {
        out.push(f(
            "attention",
            &["R12", "R14"],
            format!(
                "{dead} events for recipients (corrections, erasures, withdrawals) were never delivered; see the dead letters."
            ),
        ));
    }
    let failed: i64 = connector_jobs.iter().map(|c| c.failed).sum();
    if failed > 0 {
        out.push(f(
            "attention",
            &["R11", "R12", "R14"],
            format!(
                "{failed} connector jobs in the organisation's own databases failed and were not retried to completion; their requests were only partly fulfilled."
            ),
        ));
    }
    if key_rotations == 0 {
        out.push(f(
            "attention",
            &["S10"],
            "The tenant's key-encryption key was not rotated during the year.".into(),
        ));
    }
    out
}
