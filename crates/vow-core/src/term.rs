//! Terms of the law ("45 calendar_days", "10 business_days", "1 calendar_months",
//! "72 hours") and the arithmetic that adds one to an instant, in a time zone and a
//! holiday calendar. See [`add_term`] for how each clock counts, and the
//! interpretation choices in [`crate::deadline`] and `docs/rules.md`.

use crate::calendar::{BusinessDays, Calendar};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a term is counted. See [`add_term`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    CalendarDays,
    BusinessDays,
    CalendarMonths,
    Hours,
}

impl ClockKind {
    pub const ALL: [ClockKind; 4] = [
        ClockKind::CalendarDays,
        ClockKind::BusinessDays,
        ClockKind::CalendarMonths,
        ClockKind::Hours,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::CalendarDays => "calendar_days",
            ClockKind::BusinessDays => "business_days",
            ClockKind::CalendarMonths => "calendar_months",
            ClockKind::Hours => "hours",
        }
    }

    fn singular(self) -> &'static str {
        match self {
            ClockKind::CalendarDays => "calendar_day",
            ClockKind::BusinessDays => "business_day",
            ClockKind::CalendarMonths => "calendar_month",
            ClockKind::Hours => "hour",
        }
    }

    pub fn parse(s: &str) -> Option<ClockKind> {
        ClockKind::ALL
            .into_iter()
            .find(|c| c.as_str() == s || c.singular() == s)
    }
}

impl fmt::Display for ClockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount of a clock: `45 calendar_days`, `10 business_days`, `1 calendar_months`,
/// `72 hours` (the singular spellings are accepted too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Term {
    pub amount: u32,
    pub clock: ClockKind,
}

/// A term could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid term {value:?}: expected a whole number (at most {max}) and one of calendar_days, business_days, calendar_months, hours (e.g. `45 calendar_days`)",
    max = Term::MAX_AMOUNT
)]
pub struct TermError {
    pub value: String,
}

impl Term {
    /// The largest amount a term may have. [`add_term`] treats larger amounts as "never"
    /// ([`Timestamp::MAX`]); it keeps day-by-day counting bounded.
    pub const MAX_AMOUNT: u32 = 100_000;

    pub const fn new(amount: u32, clock: ClockKind) -> Self {
        Self { amount, clock }
    }

    pub const fn calendar_days(amount: u32) -> Self {
        Self::new(amount, ClockKind::CalendarDays)
    }

    pub const fn business_days(amount: u32) -> Self {
        Self::new(amount, ClockKind::BusinessDays)
    }

    pub const fn calendar_months(amount: u32) -> Self {
        Self::new(amount, ClockKind::CalendarMonths)
    }

    pub const fn hours(amount: u32) -> Self {
        Self::new(amount, ClockKind::Hours)
    }
}

impl FromStr for Term {
    type Err = TermError;

    fn from_str(text: &str) -> Result<Self, TermError> {
        let err = || TermError {
            value: text.chars().take(40).collect(),
        };
        let mut parts = text.split_whitespace();
        let (Some(num), Some(clock), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err());
        };
        if !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let amount: u32 = num.parse().map_err(|_| err())?;
        let clock = ClockKind::parse(clock).ok_or_else(err)?;
        if amount > Term::MAX_AMOUNT {
            return Err(err());
        }
        Ok(Term { amount, clock })
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.clock)
    }
}

impl Serialize for Term {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Term {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
/// The last millisecond (23:59:59.999) of `date` in `tz`: one millisecond before the
/// start of the next day, which is right across DST changes. Saturates at the far
/// future.
fn end_of_day(date: Date, tz: &TimeZone) -> Timestamp {
    let Ok(next) = date.tomorrow() else {
        return Timestamp::MAX;
    };
    let Ok(start) = next.to_zoned(tz.clone()) else {
        return Timestamp::MAX;
    };
    start
        .timestamp()
        .checked_sub(SignedDuration::from_millis(1))
        .unwrap_or(Timestamp::MAX)
}

/// The first business day on or after `d` (bounded: gives up after a year of
/// holidays, which only pathological data can produce).
fn roll_forward(mut d: Date, days: &mut BusinessDays<'_>) -> Option<Date> {
    for _ in 0..366 {
        if days.is_business_day(d) {
            return Some(d);
        }
        d = d.tomorrow().ok()?;
    }
    Some(d)
}

fn add_business_days(start: Date, n: u32, days: &mut BusinessDays<'_>) -> Option<Date> {
    let mut d = start;
    for _ in 0..n {
        d = roll_forward(d.tomorrow().ok()?, days)?;
    }
    Some(d)
}

/// `received + term`, as the law counts it. Pure; never earlier than `received`;
/// saturates at [`Timestamp::MAX`] (and treats amounts above [`Term::MAX_AMOUNT`] as
/// never due).
///
/// - `hours`: exactly that many hours later (no end-of-day rounding).
/// - `calendar_days`: the day of receipt (its date in `tz`) is not counted; due at the
///   end of the n-th following day (23:59:59.999 in `tz`). Not rolled off weekends.
/// - `business_days`: as calendar days, but only weekdays that are not holidays of
///   `calendar` count. Receipt on a non-business day: the next business day is the
///   first one counted.
/// - `calendar_months`: the same date n months later, clamped to the last day of a
///   shorter month (31 January + 1 month = 28/29 February), then rolled forward to the
///   next business day if it falls on a weekend or a holiday of `calendar`; due at the
///   end of that day (ICO guidance; GDPR per Reg. 1182/71).
///
/// An amount of 0 is due at the end of the day of receipt (hours: at receipt).
pub fn add_term(
    received: Timestamp,
    term: Term,
    tz: &TimeZone,
    calendar: Option<&Calendar>,
) -> Timestamp {
    if term.amount > Term::MAX_AMOUNT {
        return Timestamp::MAX;
    }
    let n = term.amount;
    if term.clock == ClockKind::Hours {
        return received
            .checked_add(Span::new().hours(i64::from(n)))
            .unwrap_or(Timestamp::MAX);
    }
    let d0 = received.to_zoned(tz.clone()).date();
    let mut days = BusinessDays::new(calendar);
    let due = match term.clock {
        ClockKind::CalendarDays => d0.checked_add(Span::new().days(i64::from(n))).ok(),
        ClockKind::BusinessDays => add_business_days(d0, n, &mut days),
        ClockKind::CalendarMonths => d0
            .checked_add(Span::new().months(i64::from(n)))
            .ok()
            .and_then(|d| roll_forward(d, &mut days)),
        ClockKind::Hours => None,
    };
    match due {
        Some(d) => end_of_day(d, tz).max(received),
        None => Timestamp::MAX,
    }
}

/// The latest date an extension may take the response to under one rule: `received +
/// respond + add`, as one term when both use the same clock (a one-month period
/// extended by two months ends three months from receipt), else one after the other.
pub fn extension_cap(
    received: Timestamp,
    respond: Term,
    add: Term,
    tz: &TimeZone,
    calendar: Option<&Calendar>,
) -> Timestamp {
    if respond.clock == add.clock {
        let amount = respond.amount.saturating_add(add.amount);
        add_term(received, Term::new(amount, respond.clock), tz, calendar)
    } else {
        let first = add_term(received, respond, tz, calendar);
        add_term(first, add, tz, calendar)
    }
}
