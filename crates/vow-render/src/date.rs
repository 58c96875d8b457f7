//! Dates as people write them, one style per language, used by every document: a
//! notice, an e-mail, a report or a page never formats a date another way.
//!
//! English: "Monday 7 December 2026" and, for hour-level deadlines, "Monday 7 December
//! 2026 at 14:05 UTC". A moment is shown on its UTC day. Adding a language is adding a
//! [`Lang`] variant and its [`Words`].

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

/// A language documents are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    /// Canadian French (Canadian operators serve both languages).
    Fr,
}

/// The words of one language's date style.
struct Words {
    /// Monday first.
    weekdays: [&'static str; 7],
    months: [&'static str; 12],
    /// Between the date and the time of day.
    at: &'static str,
}

const EN: Words = Words {
    weekdays: [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ],
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    at: "at",
};

const FR: Words = Words {
    weekdays: [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ],
    months: [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    at: "à",
};

impl Lang {
    /// Every language, in the order a language switch lists them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The BCP 47 tag, for `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language of a tag's primary subtag (`fr`, `fr-CA`, `EN-us`); None for
    /// a language Vow does not write.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    fn words(self) -> &'static Words {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
        }
    }

    /// A calendar date: "Monday 7 December 2026".
    pub fn date(self, d: Date) -> String {
        let w = self.words();
        let weekday = w.weekdays[weekday_index(d.weekday())];
        let month = usize::try_from(d.month() - 1)
            .ok()
            .and_then(|m| w.months.get(m))
            .copied()
            .unwrap_or("");
        format!("{weekday} {} {month} {}", d.day(), d.year())
    }

    /// The UTC day of a moment: "Monday 7 December 2026".
    pub fn day(self, ts: Timestamp) -> String {
        self.date(ts.to_zoned(TimeZone::UTC).date())
    }

    /// A moment to the minute, in UTC: "Monday 7 December 2026 at 14:05 UTC".
    pub fn moment(self, ts: Timestamp) -> String {
        let z = ts.to_zoned(TimeZone::UTC);
        format!(
            "{} {} {:02}:{:02} UTC",
            self.date(z.date()),
            self.words().at,
            z.hour(),
            z.minute()
        )
    }

    /// A stored RFC 3339 time or ISO 8601 date (as in JSON documents) as
    /// [`Lang::day`]; text that is neither is returned as it is.
    pub fn day_of(self, s: &str) -> String {
        if let Ok(ts) = s.parse::<Timestamp>() {
            self.day(ts)
        } else if let Ok(d) = s.parse::<Date>() {
            self.date(d)
        } else {
            s.to_string()
        }
    }

    /// A stored RFC 3339 time as [`Lang::moment`]; other text as it is.
    pub fn moment_of(self, s: &str) -> String {
        s.parse::<Timestamp>()
            .map_or_else(|_| s.to_string(), |ts| self.moment(ts))
    }
}

fn weekday_index(w: Weekday) -> usize {
    usize::try_from(w.to_monday_zero_offset()).unwrap_or(0)
}

/// [`Lang::day`] in English, the language every document is written in today.
pub fn long_date(ts: Timestamp) -> String {
    Lang::En.day(ts)
}

/// [`Lang::moment`] in English.
pub fn long_date_time(ts: Timestamp) -> String {
    Lang::En.moment(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn one_english_date_style() {
        assert_eq!(
            long_date(ts("2027-01-04T09:30:00Z")),
            "Monday 4 January 2027"
        );
        assert_eq!(
            long_date_time(ts("2026-11-24T14:05:00Z")),
            "Tuesday 24 November 2026 at 14:05 UTC"
        );
        assert_eq!(
            Lang::En.date(jiff::civil::date(2026, 12, 7)),
            "Monday 7 December 2026"
        );
        // A moment late in the day is still shown on its UTC day.
        assert_eq!(
            long_date(ts("2026-02-28T23:59:59Z")),
            "Saturday 28 February 2026"
        );
        assert_eq!(Lang::En.code(), "en");
        assert_eq!(
            Lang::Fr.date(jiff::civil::date(2026, 12, 7)),
            "lundi 7 décembre 2026"
        );
        assert_eq!(Lang::parse("fr-CA"), Some(Lang::Fr));
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("de"), None);
    }

    #[test]
    fn every_weekday_and_month_has_a_name() {
        let mut d = jiff::civil::date(2026, 1, 1);
        for _ in 0..366 {
            let s = Lang::En.date(d);
            assert!(!s.contains("  "), "{s}");
            d = d.tomorrow().unwrap_or(d);
        }
    }
}
