//! Time is injected so deadlines, expiry and retention are testable.

use jiff::Timestamp;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of "now".
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until moved; for tests and simulations.
#[derive(Debug)]
pub struct FixedClock {
    millis: AtomicI64,
}

impl FixedClock {
    pub fn new(at: Timestamp) -> Self {
        Self {
            millis: AtomicI64::new(at.as_millisecond()),
        }
    }

    pub fn set(&self, at: Timestamp) {
        self.millis.store(at.as_millisecond(), Ordering::SeqCst);
    }

    pub fn advance(&self, by: jiff::SignedDuration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.millis.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millisecond(self.millis.load(Ordering::SeqCst))
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// The real clock moved by a fixed offset: time flows at real speed, from a
/// chosen point. Simulations use it, and so does the test harness, which
/// moves it years ahead to prove that no test depends on today's date.
#[derive(Debug, Clone, Copy)]
pub struct ShiftedClock {
    offset: jiff::SignedDuration,
}

impl ShiftedClock {
    /// Real time plus `offset`.
    pub fn by(offset: jiff::SignedDuration) -> Self {
        Self { offset }
    }

    /// A clock that reads `at` now and runs on from there.
    pub fn starting_at(at: Timestamp) -> Self {
        Self::by(at.duration_since(Timestamp::now()))
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
            .checked_add(self.offset)
            .unwrap_or(Timestamp::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_starts_where_it_is_told_and_runs_on() {
        let at: Timestamp = "2031-05-06T07:08:09Z".parse().unwrap();
        let clock = ShiftedClock::starting_at(at);
        let first = clock.now();
        assert!(first >= at && first < at + jiff::SignedDuration::from_secs(5));
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(clock.now() > first);
    }
}
