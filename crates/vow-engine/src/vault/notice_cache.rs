//! What the public notice pages show, and a short-lived cache of it. The notice page
//! is the most visited page a tenant has and the same for everyone; building it reads
//! the tenant, the policy in force, the policy shown and the whole version history with
//! each version's change summary. Kept here for [`crate::engine::CACHE_TTL`] (several
//! servers may share a store: a version published elsewhere shows within that time)
//! and dropped at once when this process publishes a version for the tenant.
//! Bounded: at most [`MAX_ENTRIES`] notices.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// One version of the notice, as a page shows it.
#[derive(Debug, Clone)]
pub struct PublicNotice {
    pub tenant_name: String,
    /// The version shown.
    pub version: i64,
    pub effective_date: String,
    /// Whether it is the version in force (else an earlier one).
    pub in_force: bool,
    pub notice: vow_policy::Notice,
    /// Every version in force now or before, newest first.
    pub versions: Vec<PublicVersion>,
}

#[derive(Debug, Clone)]
pub struct PublicVersion {
    pub version: i64,
    pub effective_date: String,
    /// What it changed from the version before (empty for the first).
    pub changes: Vec<String>,
}

/// How many notices the cache holds at most (tenants × versions asked for). A notice
/// is a few tens of KB; when full, stale entries go, then everything.
pub(crate) const MAX_ENTRIES: usize = 1024;

/// (tenant, the version asked for — None for the one in force, today's date).
type Key = (String, Option<i64>, String);

pub(crate) struct NoticeCache {
    ttl: Duration,
    map: RwLock<HashMap<Key, (Instant, Arc<PublicNotice>)>>,
}

impl NoticeCache {
    pub(crate) fn new(ttl: Duration) -> NoticeCache {
        NoticeCache {
            ttl,
            map: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn get(
        &self,
        tenant: &str,
        version: Option<i64>,
        today: &str,
    ) -> Option<Arc<PublicNotice>> {
        let map = self.map.read().ok()?;
        let key = (tenant.to_string(), version, today.to_string());
        map.get(&key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, n)| n.clone())
    }

    pub(crate) fn put(
        &self,
        tenant: &str,
        version: Option<i64>,
        today: &str,
        notice: Arc<PublicNotice>,
    ) {
        let Ok(mut map) = self.map.write() else {
            return;
        };
        if map.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| at.elapsed() < ttl);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(
            (tenant.to_string(), version, today.to_string()),
            (Instant::now(), notice),
        );
    }

    /// Forget every notice of `tenant` (a version was published).
    pub(crate) fn forget(&self, tenant: &str) {
        if let Ok(mut map) = self.map.write() {
            map.retain(|(t, _, _), _| t != tenant);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(version: i64) -> Arc<PublicNotice> {
        Arc::new(PublicNotice {
            tenant_name: "Acme".into(),
            version,
            effective_date: "2026-01-01".into(),
            in_force: true,
            notice: vow_policy::Notice {
                title: "Privacy notice".into(),
                blocks: Vec::new(),
            },
            versions: Vec::new(),
        })
    }

    #[test]
    fn entries_expire_are_forgotten_per_tenant_and_stay_bounded() {
        let c = NoticeCache::new(Duration::from_secs(60));
        c.put("a", None, "2026-12-07", notice(1));
        c.put("b", None, "2026-12-07", notice(2));
        assert_eq!(c.get("a", None, "2026-12-07").map(|n| n.version), Some(1));
        assert!(c.get("a", None, "2026-12-08").is_none(), "another day");
        assert!(
            c.get("a", Some(1), "2026-12-07").is_none(),
            "another version asked"
        );
        c.forget("a");
        assert!(c.get("a", None, "2026-12-07").is_none());
        assert!(c.get("b", None, "2026-12-07").is_some());

        let expired = NoticeCache::new(Duration::ZERO);
        expired.put("a", None, "2026-12-07", notice(1));
        assert!(expired.get("a", None, "2026-12-07").is_none());

        for i in 0..(MAX_ENTRIES as i64 * 3) {
            c.put("t", Some(i), "2026-12-07", notice(i));
            assert!(c.len() <= MAX_ENTRIES);
        }
    }
}
