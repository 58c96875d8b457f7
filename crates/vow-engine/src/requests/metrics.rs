//! Request metrics.

use super::record::original_kind;
use crate::error::Result;
use crate::{Actor, Engine};
use serde::Serialize;
use utoipa::ToSchema;
use vow_core::RequestType;
use vow_core::role::Capability;
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

impl Engine {
    /// California's annual request metrics (11 CCR §7102): per type, received, complied
    /// with in whole or in part, denied, and the median and mean days to respond.
    pub async fn request_metrics(&self, actor: &Actor, tenant: &str, year: i16) -> Result<Metrics> {
        self.authorize(actor, Capability::ManageRequests, tenant)?;
        let (start, end) = crate::assessment::year_bounds(year)?;
        let mut tx = self.store.read().await?;
        let rows = tx.requests_received(tenant, start, end).await?;
        let mut per_type = Vec::new();
        for kind in RequestType::ALL {
            let of: Vec<&RequestRow> = rows
                .iter()
                .filter(|r| original_kind(r) == kind.as_str())
                .collect();
            let count = |states: &[&str]| {
                of.iter()
                    .filter(|r| states.contains(&r.state.as_str()))
                    .count()
            };
            let mut days: Vec<f64> = of
                .iter()
                .filter(|r| {
                    matches!(
                        r.state.as_str(),
                        "fulfilled" | "partially_fulfilled" | "denied"
                    )
                })
                .filter_map(|r| {
                    r.closed_at
                        .map(|c| (c - r.received_at) as f64 / 86_400_000.0)
                })
                .collect();
            days.sort_by(f64::total_cmp);
            let mean = (!days.is_empty()).then(|| days.iter().sum::<f64>() / days.len() as f64);
            let median = (!days.is_empty()).then(|| {
                let m = days.len() / 2;
                if days.len().is_multiple_of(2) {
                    (days[m - 1] + days[m]) / 2.0
                } else {
                    days[m]
                }
            });
            per_type.push(TypeMetrics {
                kind: kind.as_str().to_string(),
                received: of.len(),
                complied_in_whole: count(&["fulfilled"]),
                complied_in_part: count(&["partially_fulfilled"]),
                denied: count(&["denied"]),
                routed_to_client: count(&["routed"]),
                withdrawn: count(&["withdrawn"]),
                open: of.iter().filter(|r| r.closed_at.is_none()).count(),
                median_days: median.map(|d| (d * 10.0).round() / 10.0),
                mean_days: mean.map(|d| (d * 10.0).round() / 10.0),
            });
        }
        Ok(Metrics {
            tenant: tenant.to_string(),
            year,
            total: rows.len(),
            per_type,
        })
    }
}
