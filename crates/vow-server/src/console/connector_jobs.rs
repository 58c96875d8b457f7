//! The request page's "Other systems" section: the request's connector jobs on the
//! organisation's own databases (`Engine::connector_jobs`), each with its dataset,
//! connection, kind, state, attempts, per-collection row counts and, if it failed,
//! why; and, when one failed, the button that puts the failed ones back to run
//! (`Engine::retry_connector_jobs`, as `POST …/connector-jobs/retry`).

use super::Ctx;
use crate::state::AppState;
use vow_core::TenantId;
use vow_engine::EngineError;
use vow_engine::external::jobs::JobView;
use vow_render::console::{Cell, Section, Table};

/// The action the retry button posts to (`requests::action`).
pub(super) const RETRY: &str = "retry-jobs";

/// A job's state in words; a state the console does not know stays as the API names it.
fn state(s: &str) -> String {
    match s {
        "pending" => "Pending",
        "waiting" => "Waiting",
        "done" => "Done",
        "failed" => "Failed",
        other => other,
    }
    .to_string()
}

/// A job's kind in words.
fn kind(k: &str) -> String {
    match k {
        "access" => "Access",
        "erasure" => "Erasure",
        "correction" => "Correction",
        other => other,
    }
    .to_string()
}

/// Rows per collection, as `customers 1 · orders 5`; none yet: `—`.
fn rows(j: &JobView) -> String {
    if j.collections.is_empty() {
        return "—".into();
    }
    j.collections
        .iter()
        .map(|c| format!("{} {}", c.collection, c.rows))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The section; None when the request has no connector job.
pub(super) async fn section(
    s: &AppState,
    c: &Ctx,
    tid: &TenantId,
    r: &str,
) -> Result<Option<Section>, EngineError> {
    let jobs = s.engine.connector_jobs(&c.actor, tid, r).await?;
    if jobs.is_empty() {
        return Ok(None);
    }
    let failed = jobs.iter().any(|j| j.state == "failed");
    let table = Table {
        caption: String::new(),
        head: [
            "Dataset",
            "Connection",
            "Kind",
            "State",
            "Attempts",
            "Rows per collection",
            "Error",
        ]
        .map(String::from)
        .to_vec(),
        rows: jobs
            .iter()
            .map(|j| {
                let flag = (j.state == "failed").then(|| "failed".to_string());
                vec![
                    Cell::text(j.dataset.clone()),
                    Cell::text(j.connection.clone()),
                    Cell::text(kind(&j.kind)),
                    Cell::flag(state(&j.state), flag),
                    Cell::text(j.attempts.to_string()),
                    Cell::text(rows(j)),
                    Cell::text(j.error.clone().unwrap_or_default()),
                ]
            })
            .collect(),
        empty: String::new(),
    };
    let mut paras = vec![
        "The organisation's own databases this request reaches through connectors: rows found (access) or changed (erasure, correction) per collection, never a value.".to_string(),
    ];
    let mut forms = Vec::new();
    if failed {
        paras.push("A job failed. Fix what the error names, then retry: an erasure or correction resumes where it stopped, and the collections it finished are not touched again.".into());
        forms.push(c.form(
            RETRY,
            format!("/console/t/{}/requests/{r}/{RETRY}", tid.as_str()),
            Vec::new(),
            "Retry the failed jobs",
        ));
    }
    Ok(Some(Section {
        heading: "Other systems".into(),
        paras,
        table: Some(table),
        forms,
        ..Section::default()
    }))
}
