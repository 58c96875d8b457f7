//! How many security events are recorded: at most [`PER_SOURCE`] a minute from one
//! source (a key id, else the client's address) and [`TOTAL`] a minute in all, per
//! server. An attacker who floods a server with bad keys fills at most that much of the
//! table; what is not recorded is counted (`vow_security_events_dropped_total`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const PER_SOURCE: u32 = 10;
pub const TOTAL: u32 = 120;
/// Console sign-in attempts one address may make a minute.
pub const SIGN_INS_PER_MINUTE: u32 = 5;
/// The request portal: form posts and code checks a minute from one client address.
pub const PORTAL_PER_ADDRESS: u32 = 20;
/// The request portal: requests a minute naming one e-mail address.
pub const PORTAL_PER_IDENTIFIER: u32 = 5;
/// The request portal: how many addresses or identifiers one window tracks; beyond
/// that, everyone waits for the next minute.
pub const PORTAL_SOURCES: u32 = 20_000;
const WINDOW: Duration = Duration::from_secs(60);

/// A fixed one-minute window of counts. Holds at most `total` sources ([`TOTAL`] for
/// security events; the request portal's limiters are made with [`Limiter::new`]).
pub(crate) struct Limiter {
    window: Mutex<Window>,
    per_source: u32,
    total: u32,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter::new(PER_SOURCE, TOTAL)
    }
}

/// How often the pages' forms that mail a link may be used (the preference centre's
/// "send me a link"): per client address and per identifier typed, a minute each.
/// The keys are prefixed by the form's name, so that several forms share the window.
pub(crate) struct FormLimits {
    pub(crate) by_address: Limiter,
    pub(crate) by_identifier: Limiter,
}

/// Posts a minute one address may make to one form.
pub const FORM_PER_ADDRESS: u32 = 10;
/// Posts a minute naming one identifier (an e-mail address) on one form.
pub const FORM_PER_IDENTIFIER: u32 = 3;
/// At most this many addresses or identifiers are counted a minute (a memory bound:
/// beyond it, every post is refused until the minute ends).
const FORM_TOTAL: u32 = 100_000;

impl Default for FormLimits {
    fn default() -> FormLimits {
        FormLimits {
            by_address: Limiter::new(FORM_PER_ADDRESS, FORM_TOTAL),
            by_identifier: Limiter::new(FORM_PER_IDENTIFIER, FORM_TOTAL),
        }
    }
}

#[derive(Default)]
struct Window {
    started: Option<Instant>,
    total: u32,
    per_source: HashMap<String, u32>,
}

impl Limiter {
    /// At most `per_source` a minute from one source and `total` in all.
    pub(crate) fn new(per_source: u32, total: u32) -> Limiter {
        Limiter {
            window: Mutex::default(),
            per_source,
            total,
        }
    }

    /// The console's sign-in limiter: [`SIGN_INS_PER_MINUTE`] per address.
    pub(crate) fn sign_ins() -> Limiter {
        Limiter::new(SIGN_INS_PER_MINUTE, 1000)
    }

    /// Whether one more event from `source` may be recorded now.
    pub(crate) fn admit(&self, source: &str) -> bool {
        self.admit_at(source, Instant::now())
    }

    fn admit_at(&self, source: &str, now: Instant) -> bool {
        let Ok(mut w) = self.window.lock() else {
            return false;
        };
        if w.started.is_none_or(|s| now.duration_since(s) >= WINDOW) {
            *w = Window {
                started: Some(now),
                ..Window::default()
            };
        }
        if w.total >= self.total {
            return false;
        }
        let n = w.per_source.entry(source.to_string()).or_insert(0);
        if *n >= self.per_source {
            return false;
        }
        *n += 1;
        w.total += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_source_and_the_whole_are_bounded_per_minute() {
        let l = Limiter::default();
        let t0 = Instant::now();
        let admitted = (0..50).filter(|_| l.admit_at("key-a", t0)).count();
        assert_eq!(admitted, PER_SOURCE as usize);
        // Many sources: the total caps them.
        let many = (0..1000)
            .filter(|i| l.admit_at(&format!("k{i}"), t0))
            .count();
        assert_eq!(many, (TOTAL - PER_SOURCE) as usize);
        assert!(l.window.lock().unwrap().per_source.len() <= TOTAL as usize);
        // A minute later, a fresh window.
        assert!(l.admit_at("key-a", t0 + WINDOW));
    }
}
