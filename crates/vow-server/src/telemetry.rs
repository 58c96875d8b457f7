//! Metrics: the one Prometheus recorder and what each metric means (its `# HELP`
//! line), the request-latency histogram per route, and the key `/metrics` may require.

use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use std::time::Instant;
use subtle::ConstantTimeEq;

/// The request-latency histogram: seconds from a request's arrival to its response's
/// head, labelled by method, route template and status class.
pub const REQUEST_SECONDS: &str = "vow_http_request_duration_seconds";

/// Its buckets, in seconds: from a cached read to the 30-second request timeout.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every metric Vow records, wherever it is recorded (the engine, the server, `vow
/// serve`'s connections), with its kind and its HELP text. docs/api.md lists the same.
const METRICS: &[(&str, Kind, &str)] = &[
    (
        "vow_http_responses_total",
        Kind::Counter,
        "HTTP responses sent, by status code.",
    ),
    (
        REQUEST_SECONDS,
        Kind::Histogram,
        "Time from a request's arrival to its response, in seconds, by method, route template and status class.",
    ),
    (
        "vow_reads_total",
        Kind::Counter,
        "Purpose-bound reads of personal data that returned values.",
    ),
    (
        "vow_audit_commits_total",
        Kind::Counter,
        "Transactions of the audit writer (each commits a batch of read audit entries).",
    ),
    (
        "vow_audit_batch_entries",
        Kind::Histogram,
        "Audit entries per commit of the audit writer.",
    ),
    (
        "vow_webhook_attempts_total",
        Kind::Counter,
        "Webhook delivery attempts, by outcome (delivered, pending: to be retried, dead).",
    ),
    (
        "vow_retention_fields_destroyed_total",
        Kind::Counter,
        "Fields destroyed by the retention sweeper.",
    ),
    (
        "vow_connections_open",
        Kind::Gauge,
        "Connections vow serve holds open, including those from the health reserve.",
    ),
    (
        "vow_connections_refused_total",
        Kind::Counter,
        "Connections closed as soon as they were accepted, by reason (capacity: over max and the health reserve; per_address: over the limit for one client address).",
    ),
    (
        "vow_connections_reserve_total",
        Kind::Counter,
        "Connections accepted from the health reserve (they may reach only /healthz, /livez and /metrics).",
    ),
    (
        "vow_connections_closed_total",
        Kind::Counter,
        "Connections vow serve closed itself, by reason (header_timeout, idle, stalled: the client took no response bytes, tls_handshake: the handshake failed or took too long).",
    ),
];

/// Counters without labels start at zero, so they are there before the first event.
const START_AT_ZERO: &[&str] = &[
    "vow_reads_total",
    "vow_audit_commits_total",
    "vow_retention_fields_destroyed_total",
];

/// One Prometheus recorder per process, however many routers are built (tests build
/// many). Every metric of [`METRICS`] is described, so `/metrics` gives it a HELP line.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.to_string()), BUCKETS)
                // Fails only for an empty list of buckets.
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed; then ours just stays empty.
            if metrics::set_global_recorder(recorder).is_ok() {
                describe();
            }
            handle
        })
        .clone()
}

fn describe() {
    for (name, kind, help) in METRICS {
        let (name, help) = (*name, *help);
        match kind {
            Kind::Counter => metrics::describe_counter!(name, help),
            Kind::Gauge => metrics::describe_gauge!(name, help),
            Kind::Histogram => metrics::describe_histogram!(name, help),
        }
    }
    for name in START_AT_ZERO {
        metrics::counter!(*name).increment(0);
    }
    metrics::gauge!("vow_connections_open").set(0.0);
}

/// Middleware: counts each response and records its latency under the route
/// *template* (`/v1/tenants/{t}/subjects`), never the path sent, which may name a
/// person and would give every request its own series.
pub async fn record_request(req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let start = Instant::now();
    let res = next.run(req).await;
    let status = res.status();
    metrics::counter!("vow_http_responses_total", "status" => status.as_u16().to_string())
        .increment(1);
    metrics::histogram!(
        REQUEST_SECONDS,
        "method" => method,
        "route" => route,
        "status_class" => status_class(status),
    )
    .record(start.elapsed().as_secs_f64());
    res
}

/// A method Vow knows by name; any other token is `other`, so a client cannot make
/// new series by inventing methods.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(s: StatusCode) -> &'static str {
    match s.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The key `/metrics` requires when the operator sets one (`metrics_key`). Only its
/// SHA-256 is kept; a presented key is hashed and compared in constant time, so
/// neither where it differs nor its length shows in the time taken.
#[derive(Clone)]
pub struct MetricsKey([u8; 32]);

impl MetricsKey {
    pub fn new(key: &str) -> MetricsKey {
        MetricsKey(Sha256::digest(key.as_bytes()).into())
    }

    pub fn admits(&self, presented: Option<&str>) -> bool {
        let Some(presented) = presented else {
            return false;
        };
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        digest.ct_eq(&self.0).into()
    }
}

impl std::fmt::Debug for MetricsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_key_admits_only_itself() {
        let k = MetricsKey::new("s3cret-metrics");
        assert!(k.admits(Some("s3cret-metrics")));
        for other in ["", "s3cret-metric", "s3cret-metricsX", "S3cret-metrics"] {
            assert!(!k.admits(Some(other)), "{other}");
        }
        assert!(!k.admits(None));
        assert!(!format!("{k:?}").contains("s3cret"));
    }

    #[test]
    fn labels_are_bounded() {
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(status_class(StatusCode::SERVICE_UNAVAILABLE), "5xx");
        assert_eq!(status_class(StatusCode::CREATED), "2xx");
    }
}
