//! What every handler shares: the engine, the metrics recorder and the key
//! `/metrics` may require.

use crate::telemetry::MetricsKey;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use vow_engine::Engine;

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub metrics: PrometheusHandle,
    /// When set, `/metrics` answers only a request that carries this key.
    pub metrics_key: Option<MetricsKey>,
}
