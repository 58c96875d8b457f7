//! Periods, the one duration syntax of policies, configuration and the command
//! line: a whole number and a unit, `30s`, `15min`, `72h`, `30d`, `4w`, `6mo`, `2y`.
//! A bare `m` is refused: it would be minutes to some readers and months to others.
//!
//! Months and years are calendar arithmetic in UTC: a month after 31 January is the
//! last day of February, as the GDPR month rule and ordinary reading expect.

use crate::error::CoreError;
use jiff::{Span, Timestamp, tz::TimeZone};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
    Months,
    Years,
}

/// An amount of a calendar unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub amount: u32,
    pub unit: PeriodUnit,
}

/// The longest period a policy may name: 200 years. Keeps arithmetic far from overflow.
const MAX_DAYS: u64 = 200 * 366;

impl Period {
    pub fn days(amount: u32) -> Self {
        Self {
            amount,
            unit: PeriodUnit::Days,
        }
    }

    pub fn parse(text: &str) -> Result<Self, CoreError> {
        let err = || CoreError::InvalidPeriod {
            value: text.chars().take(32).collect(),
        };
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        let (num, unit) = t.split_at(split);
        let amount: u32 = num.parse().map_err(|_| err())?;
        let unit = match unit.trim() {
            "s" | "sec" | "second" | "seconds" => PeriodUnit::Seconds,
            "min" | "minute" | "minutes" => PeriodUnit::Minutes,
            "h" | "hour" | "hours" => PeriodUnit::Hours,
            "d" | "day" | "days" => PeriodUnit::Days,
            "w" | "week" | "weeks" => PeriodUnit::Weeks,
            "mo" | "month" | "months" => PeriodUnit::Months,
            "y" | "year" | "years" => PeriodUnit::Years,
            _ => return Err(err()),
        };
        let p = Period { amount, unit };
        if p.approx_days() > MAX_DAYS {
            return Err(err());
        }
        Ok(p)
    }

    /// Roughly how many days: for ordering and sanity bounds, never for deadlines.
    pub fn approx_days(&self) -> u64 {
        let a = u64::from(self.amount);
        match self.unit {
            PeriodUnit::Seconds => a.div_ceil(86_400),
            PeriodUnit::Minutes => a.div_ceil(1_440),
            PeriodUnit::Hours => a.div_ceil(24),
            PeriodUnit::Days => a,
            PeriodUnit::Weeks => a * 7,
            PeriodUnit::Months => a * 31,
            PeriodUnit::Years => a * 366,
        }
    }

    /// The exact length, for units that have one (seconds to weeks); None for months
    /// and years, whose length depends on where they start. Intervals of the
    /// configuration (how often a sweeper runs) must have one.
    pub fn fixed(&self) -> Option<std::time::Duration> {
        let a = u64::from(self.amount);
        let secs = match self.unit {
            PeriodUnit::Seconds => a,
            PeriodUnit::Minutes => a * 60,
            PeriodUnit::Hours => a * 3_600,
            PeriodUnit::Days => a * 86_400,
            PeriodUnit::Weeks => a * 604_800,
            PeriodUnit::Months | PeriodUnit::Years => return None,
        };
        Some(std::time::Duration::from_secs(secs))
    }

    /// `from + self`, in UTC calendar arithmetic. Saturates at the far future.
    pub fn after(&self, from: Timestamp) -> Timestamp {
        let a = i64::from(self.amount);
        let span = match self.unit {
            PeriodUnit::Seconds => Span::new().seconds(a),
            PeriodUnit::Minutes => Span::new().minutes(a),
            PeriodUnit::Hours => Span::new().hours(a),
            PeriodUnit::Days => Span::new().days(a),
            PeriodUnit::Weeks => Span::new().weeks(a),
            PeriodUnit::Months => Span::new().months(a),
            PeriodUnit::Years => Span::new().years(a),
        };
        from.to_zoned(TimeZone::UTC)
            .checked_add(span)
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = match self.unit {
            PeriodUnit::Seconds => "s",
            PeriodUnit::Minutes => "min",
            PeriodUnit::Hours => "h",
            PeriodUnit::Days => "d",
            PeriodUnit::Weeks => "w",
            PeriodUnit::Months => "mo",
            PeriodUnit::Years => "y",
        };
        write!(f, "{}{}", self.amount, u)
    }
}

impl Period {
    /// Plain words for notices: "2 years", "6 months".
    pub fn words(&self) -> String {
        let (one, many) = match self.unit {
            PeriodUnit::Seconds => ("second", "seconds"),
            PeriodUnit::Minutes => ("minute", "minutes"),
            PeriodUnit::Hours => ("hour", "hours"),
            PeriodUnit::Days => ("day", "days"),
            PeriodUnit::Weeks => ("week", "weeks"),
            PeriodUnit::Months => ("month", "months"),
            PeriodUnit::Years => ("year", "years"),
        };
        format!(
            "{} {}",
            self.amount,
            if self.amount == 1 { one } else { many }
        )
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Period::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_displays() {
        for (t, p) in [
            ("30d", Period::days(30)),
            (
                "6mo",
                Period {
                    amount: 6,
                    unit: PeriodUnit::Months,
                },
            ),
            (
                "2 years",
                Period {
                    amount: 2,
                    unit: PeriodUnit::Years,
                },
            ),
            (
                "72h",
                Period {
                    amount: 72,
                    unit: PeriodUnit::Hours,
                },
            ),
        ] {
            assert_eq!(Period::parse(t).unwrap(), p);
        }
        assert_eq!(Period::parse("6mo").unwrap().to_string(), "6mo");
        assert_eq!(Period::parse("15 minutes").unwrap().to_string(), "15min");
        assert_eq!(Period::parse("30s").unwrap().to_string(), "30s");
        for bad in ["", "d", "30", "30x", "-3d", "99999999y", "3.5d", "30m"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        let m = Period::parse("5m").unwrap_err().to_string();
        assert!(m.contains("min for minutes or mo for months"), "{m}");
    }

    #[test]
    fn fixed_lengths_for_intervals() {
        let secs = |t: &str| Period::parse(t).unwrap().fixed().map(|d| d.as_secs());
        assert_eq!(secs("90s"), Some(90));
        assert_eq!(secs("15min"), Some(900));
        assert_eq!(secs("24h"), Some(86_400));
        assert_eq!(secs("2w"), Some(1_209_600));
        assert_eq!(secs("1mo"), None);
        assert_eq!(secs("1y"), None);
    }

    #[test]
    fn month_ends_clamp() {
        let p = Period {
            amount: 1,
            unit: PeriodUnit::Months,
        };
        assert_eq!(
            p.after(ts("2027-01-31T10:00:00Z")),
            ts("2027-02-28T10:00:00Z")
        );
        assert_eq!(
            p.after(ts("2028-01-31T10:00:00Z")),
            ts("2028-02-29T10:00:00Z")
        );
        let y = Period {
            amount: 2,
            unit: PeriodUnit::Years,
        };
        assert_eq!(
            y.after(ts("2024-02-29T00:00:00Z")),
            ts("2026-02-28T00:00:00Z")
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,12}") {
            let _ = Period::parse(&s);
        }

        #[test]
        fn after_is_never_before(amount in 0u32..5000, unit in 0usize..5, ms in 0i64..4_000_000_000_000) {
            let unit = [PeriodUnit::Hours, PeriodUnit::Days, PeriodUnit::Weeks, PeriodUnit::Months, PeriodUnit::Years][unit];
            let from = Timestamp::from_millisecond(ms).unwrap();
            let p = Period { amount, unit };
            proptest::prop_assert!(p.after(from) >= from);
        }
    }
}
