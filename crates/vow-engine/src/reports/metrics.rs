//! Request metrics, counted once: California's annual metrics (11 CCR §7102,
//! [`Engine::request_metrics`]) and the self-assessment's requests section are both
//! views of [`tally`].

use crate::error::{EngineError, Result};
use crate::requests::original_kind;
use crate::{Actor, Engine};
use serde::Serialize;
use utoipa::ToSchema;
use vow_core::TenantId;
use vow_core::role::Capability;
use vow_core::{RequestState, RequestType};
use vow_store::RequestRow;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Metrics {
    pub tenant: String,
    pub year: i16,
    pub total: usize,
    pub per_type: Vec<TypeMetrics>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TypeMetrics {
    #[serde(rename = "type")]
    pub kind: String,
    pub received: usize,
    pub complied_in_whole: usize,
    pub complied_in_part: usize,
    pub denied: usize,
    pub routed_to_client: usize,
    pub withdrawn: usize,
    pub open: usize,
    pub median_days: Option<f64>,
    pub mean_days: Option<f64>,
}

/// What the requests of one type (as the person asked it) came to.
#[derive(Debug, Clone, Default)]
pub(crate) struct TypeTally {
    pub received: usize,
    pub fulfilled: usize,
    pub partially_fulfilled: usize,
    pub denied: usize,
    /// Sent to the controlling client, which answers them.
    pub routed: usize,
    pub withdrawn: usize,
    pub open: usize,
    /// Still open past the deadline (extended, as it stands) at the time given, clock
    /// not paused.
    pub overdue: usize,
    /// Closed other than by withdrawal: fulfilled in whole or part, denied or routed.
    pub answered: usize,
    /// Answered by the deadline as it stood (extended or moved by a pause).
    pub answered_on_time: usize,
    /// Days from receipt to answer of each answered request, ascending.
    pub answered_days: Vec<f64>,
    /// Days from receipt to answer of each request complied with (in whole or part)
    /// or denied, ascending: what §7102 counts.
    pub decided_days: Vec<f64>,
}

/// The requests received in a period, per type in [`RequestType::ALL`]'s order;
/// `now` (unix ms) decides what is overdue.
pub(crate) fn tally(rows: &[RequestRow], now: i64) -> Result<Vec<(RequestType, TypeTally)>> {
    let states = rows
        .iter()
        .map(|r| crate::engine::stored("request state", &r.state, RequestState::parse))
        .collect::<Result<Vec<_>>>()?;
    Ok(RequestType::ALL
        .into_iter()
        .map(|kind| {
            let mut t = TypeTally::default();
            for (r, &state) in rows
                .iter()
                .zip(&states)
                .filter(|(r, _)| original_kind(r) == kind.as_str())
            {
                let due = r.extended_due.unwrap_or(r.response_due);
                let days = r
                    .closed_at
                    .map(|c| (c - r.received_at) as f64 / 86_400_000.0);
                t.received += 1;
                match state {
                    RequestState::Fulfilled => t.fulfilled += 1,
                    RequestState::PartiallyFulfilled => t.partially_fulfilled += 1,
                    RequestState::Denied => t.denied += 1,
                    RequestState::Routed => t.routed += 1,
                    RequestState::Withdrawn => t.withdrawn += 1,
                    _ => {}
                }
                if r.closed_at.is_none() {
                    t.open += 1;
                    if r.paused_at.is_none() && due < now {
                        t.overdue += 1;
                    }
                }
                if let Some(d) = days
                    && state != RequestState::Withdrawn
                {
                    t.answered += 1;
                    if r.closed_at.is_some_and(|c| c <= due) {
                        t.answered_on_time += 1;
                    }
                    t.answered_days.push(d);
                }
                if let Some(d) = days
                    && matches!(
                        state,
                        RequestState::Fulfilled
                            | RequestState::PartiallyFulfilled
                            | RequestState::Denied
                    )
                {
                    t.decided_days.push(d);
                }
            }
            t.answered_days.sort_by(f64::total_cmp);
            t.decided_days.sort_by(f64::total_cmp);
            (kind, t)
        })
        .collect())
}

/// The median of values sorted ascending.
pub(crate) fn median(sorted: &[f64]) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let m = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[m - 1] + sorted[m]) / 2.0
    } else {
        sorted[m]
    })
}

/// The mean, summed in the order given.
fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// One decimal place.
pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `[1 January, next 1 January)` of `year` in UTC, as unix milliseconds.
pub(crate) fn year_bounds(year: i16) -> Result<(i64, i64)> {
    let bad = || EngineError::invalid("/year", "not a year we can count (1970 to 9998)");
    if !(1970..=9998).contains(&year) {
        return Err(bad());
    }
    let start = jiff::civil::date(year, 1, 1)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|_| bad())?;
    let end = jiff::civil::date(year + 1, 1, 1)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|_| bad())?;
    Ok((
        start.timestamp().as_millisecond(),
        end.timestamp().as_millisecond(),
    ))
}

impl Engine {
    /// California's annual request metrics (11 CCR §7102): per type, received, complied
    /// with in whole or in part, denied, and the median and mean days to respond.
    pub async fn request_metrics(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        year: i16,
    ) -> Result<Metrics> {
        let tenant = tenant.as_str();
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let (start, end) = year_bounds(year)?;
        let mut tx = self.store.read().await?;
        let rows = tx.requests_received(tenant, start, end).await?;
        let per_type = tally(&rows, self.now_ms())?
            .into_iter()
            .map(|(kind, t)| TypeMetrics {
                kind: kind.as_str().to_string(),
                received: t.received,
                complied_in_whole: t.fulfilled,
                complied_in_part: t.partially_fulfilled,
                denied: t.denied,
                routed_to_client: t.routed,
                withdrawn: t.withdrawn,
                open: t.open,
                median_days: median(&t.decided_days).map(round1),
                mean_days: mean(&t.decided_days).map(round1),
            })
            .collect();
        Ok(Metrics {
            tenant: tenant.to_string(),
            year,
            total: rows.len(),
            per_type,
        })
    }
}
