//! Latency summaries (nearest-rank percentiles) and result tables.

use comfy_table::{Table, presets};
use serde_json::{Value, json};

/// A latency distribution, in nanoseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub count: usize,
    pub mean: f64,
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// The nearest-rank percentile `q` (0..=1) of sorted samples.
pub fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn summarize(mut samples: Vec<u64>) -> Summary {
    if samples.is_empty() {
        return Summary::default();
    }
    samples.sort_unstable();
    let sum: u128 = samples.iter().map(|&x| u128::from(x)).sum();
    Summary {
        count: samples.len(),
        mean: sum as f64 / samples.len() as f64,
        min: samples[0],
        p50: percentile(&samples, 0.50),
        p90: percentile(&samples, 0.90),
        p99: percentile(&samples, 0.99),
        p999: percentile(&samples, 0.999),
        max: samples[samples.len() - 1],
    }
}

impl Summary {
    /// As JSON, in nanoseconds.
    pub fn json_ns(&self) -> Value {
        json!({
            "count": self.count, "mean_ns": self.mean.round(), "min_ns": self.min,
            "p50_ns": self.p50, "p90_ns": self.p90, "p99_ns": self.p99,
            "p999_ns": self.p999, "max_ns": self.max,
        })
    }
}

/// A duration in nanoseconds, in a readable unit.
pub fn human_ns(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else {
        format!("{:.2} s", ns / 1_000_000_000.0)
    }
}

pub fn human_bytes(b: u64) -> String {
    let b = b as f64;
    if b < 1024.0 * 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / 1024.0 / 1024.0)
    } else {
        format!("{:.2} GiB", b / 1024.0 / 1024.0 / 1024.0)
    }
}

/// A table with one row per latency distribution.
pub fn latency_table(rows: &[(&str, &Summary)]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::ASCII_MARKDOWN);
    t.set_header(vec![
        "what", "n", "mean", "p50", "p90", "p99", "p99.9", "max",
    ]);
    for (name, s) in rows {
        t.add_row(vec![
            (*name).to_string(),
            s.count.to_string(),
            human_ns(s.mean),
            human_ns(s.p50 as f64),
            human_ns(s.p90 as f64),
            human_ns(s.p99 as f64),
            human_ns(s.p999 as f64),
            human_ns(s.max as f64),
        ]);
    }
    t
}

/// A two-column table.
pub fn kv_table(rows: &[(&str, String)]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::ASCII_MARKDOWN);
    t.set_header(vec!["measure", "value"]);
    for (k, v) in rows {
        t.add_row(vec![(*k).to_string(), v.clone()]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&v, 1.0), 100);
        assert_eq!(percentile(&[7], 0.99), 7);
        let s = summarize(vec![3, 1, 2]);
        assert_eq!((s.min, s.p50, s.max), (1, 2, 3));
    }
}
