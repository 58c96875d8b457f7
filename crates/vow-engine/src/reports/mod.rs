//! Reports computed from Vow's own records, counts only: the annual self-assessment
//! (`assessment`), the data map (`datamap`), aggregate statistics with small cells
//! suppressed (`aggregates`), and request metrics (`metrics`).

pub mod aggregates;
pub mod assessment;
pub mod datamap;
pub mod metrics;

pub use metrics::{Metrics, TypeMetrics};
