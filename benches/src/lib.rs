//! Shared by the divan micro-benchmarks (`benches/decision.rs`) and the `vow-bench`
//! load tool: the policies, a deterministic generator of fictional subjects,
//! latency summaries and a /proc-based CPU breakdown (no `perf` needed).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmarks are measurement tools run by hand; a failed setup should stop them loudly"
)]

pub mod args;
pub mod cpu;
pub mod fixtures;
pub mod scale;
pub mod setup;
pub mod stats;
