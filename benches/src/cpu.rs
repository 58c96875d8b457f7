//! Where the CPU time went, without `perf`: per-thread times from
//! `/proc/self/task/*/stat`, grouped by thread name (tokio workers, the
//! sqlx SQLite worker threads, …), and the time of local PostgreSQL backends.

use std::collections::BTreeMap;
use std::fs;

/// Linux reports these times in USER_HZ ticks, which is 100 on every mainstream platform.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, Clone, Default)]
pub struct CpuSnapshot {
    /// Thread-name group → (user, system) ticks of the live threads.
    pub threads: BTreeMap<String, (u64, u64)>,
    /// The whole process (includes threads that have ended).
    pub process: u64,
    /// All processes named `postgres` on this machine.
    pub postgres: u64,
    /// Busy ticks of the whole machine (all cores), from `/proc/stat`.
    pub machine: u64,
    /// Ticks cores sat idle waiting for I/O.
    pub iowait: u64,
}

/// (busy, iowait) ticks of the whole machine.
fn machine_busy() -> Option<(u64, u64)> {
    let text = fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    let iowait = *v.get(4)?;
    Some((v.iter().take(8).sum::<u64>() - v.get(3)? - iowait, iowait))
}

/// (comm, user ticks, system ticks) from a `stat` file.
fn stat_ticks(path: &str) -> Option<(String, u64, u64)> {
    let text = fs::read_to_string(path).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // After the name: state is field 3; utime and stime are fields 14 and 15.
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((comm, utime, stime))
}

/// `sqlx-sqlite-worker-12` → `sqlx-sqlite-worker`.
fn group(comm: &str) -> String {
    comm.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-')
        .to_string()
}

pub fn snapshot() -> CpuSnapshot {
    let mut snap = CpuSnapshot::default();
    if let Ok(tasks) = fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            let path = format!("{}/stat", t.path().display());
            if let Some((comm, user, system)) = stat_ticks(&path) {
                let e = snap.threads.entry(group(&comm)).or_default();
                e.0 += user;
                e.1 += system;
            }
        }
    }
    (snap.machine, snap.iowait) = machine_busy().unwrap_or((0, 0));
    snap.process = stat_ticks("/proc/self/stat").map_or(0, |(_, u, s)| u + s);
    if let Ok(procs) = fs::read_dir("/proc") {
        for p in procs.flatten() {
            let name = p.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if let Some((comm, user, system)) = stat_ticks(&format!("/proc/{name}/stat"))
                && comm == "postgres"
            {
                snap.postgres += user + system;
            }
        }
    }
    snap
}

/// CPU seconds spent between two snapshots, per thread group (user, system), plus the
/// process and PostgreSQL.
#[derive(Debug, Clone, Default)]
pub struct CpuUse {
    pub threads: Vec<(String, f64, f64)>,
    pub process: f64,
    pub postgres: f64,
    /// CPU used by everything else on the machine meanwhile (other people's builds…).
    pub others: f64,
    /// Core-seconds idle waiting for I/O (disk reads of pages not in the page cache, fsync).
    pub iowait: f64,
}

pub fn between(before: &CpuSnapshot, after: &CpuSnapshot) -> CpuUse {
    let secs = |a: u64, b: u64| b.saturating_sub(a) as f64 / TICKS_PER_SECOND;
    let mut threads: Vec<(String, f64, f64)> = after
        .threads
        .iter()
        .map(|(g, (u, s))| {
            let (bu, bs) = before.threads.get(g).copied().unwrap_or((0, 0));
            (g.clone(), secs(bu, *u), secs(bs, *s))
        })
        .filter(|(_, u, s)| u + s > 0.0)
        .collect();
    threads.sort_by(|a, b| (b.1 + b.2).total_cmp(&(a.1 + a.2)));
    CpuUse {
        threads,
        process: secs(before.process, after.process),
        postgres: secs(before.postgres, after.postgres),
        others: (secs(before.machine, after.machine)
            - secs(before.process, after.process)
            - secs(before.postgres, after.postgres))
        .max(0.0),
        iowait: secs(before.iowait, after.iowait),
    }
}

impl CpuUse {
    /// "vow-server 12.3 s (61%; sys 30%), …": percentages of one core over `wall` seconds.
    pub fn describe(&self, wall: f64) -> String {
        let pct = |s: f64| if wall > 0.0 { 100.0 * s / wall } else { 0.0 };
        let mut parts: Vec<String> = self
            .threads
            .iter()
            .map(|(g, u, s)| {
                format!(
                    "{g} {:.1} s ({:.0}%, of which system {:.0}%)",
                    u + s,
                    pct(u + s),
                    pct(*s)
                )
            })
            .collect();
        if self.postgres > 0.0 {
            parts.push(format!(
                "postgres backends {:.1} s ({:.0}%)",
                self.postgres,
                pct(self.postgres)
            ));
        }
        parts.push(format!(
            "other processes {:.1} s ({:.0}%)",
            self.others,
            pct(self.others)
        ));
        parts.push(format!(
            "I/O wait {:.1} s ({:.0}%)",
            self.iowait,
            pct(self.iowait)
        ));
        parts.join(", ")
    }

    pub fn json(&self) -> serde_json::Value {
        let threads: serde_json::Map<String, serde_json::Value> = self
            .threads
            .iter()
            .map(|(g, u, s)| {
                let r = |x: f64| (x * 100.0).round() / 100.0;
                (
                    g.clone(),
                    serde_json::json!({"user_s": r(*u), "system_s": r(*s)}),
                )
            })
            .collect();
        serde_json::json!({"process_s": self.process, "postgres_s": self.postgres, "others_s": self.others, "iowait_s": self.iowait, "threads_s": threads})
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn groups_strip_numbers() {
        assert_eq!(super::group("sqlx-sqlite-worker-12"), "sqlx-sqlite-worker");
        assert_eq!(super::group("vow-server"), "vow-server");
    }
}
