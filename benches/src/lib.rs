//! Shared by the divan micro-benchmarks (`benches/decision.rs`) and the `vow-bench`
//! load tool: the policies, a deterministic generator of fictional subjects,
//! latency summaries and a /proc-based CPU breakdown (no `perf` needed).

pub mod cpu;
pub mod fixtures;
pub mod setup;
pub mod stats;
