//! Holiday calendars: which days are business (working) days.
//!
//! A calendar is data (`rules/calendars/*.yaml`): rules that name a holiday every
//! year, plus explicit extra dates and explicit exceptions. Saturday and Sunday are
//! never business days; a date is a business day when it is a weekday and no holiday
//! (actual or observed) falls on it.
//!
//! Rules:
//! - [`HolidayRule::Fixed`]: a month and day, with what happens when it falls on a
//!   weekend ([`Observed`]): nothing; the nearest weekday (Saturday → Friday, Sunday →
//!   Monday, the US federal rule); or the next weekday (Saturday/Sunday → Monday, the
//!   UK "substitute day" and Canadian practice), cascading when that weekday is itself
//!   a holiday, so that Christmas on a Saturday and Boxing Day on a Sunday give Monday
//!   27 and Tuesday 28 December.
//! - [`HolidayRule::NthWeekday`]: the n-th (1–5) or last (-1) given weekday of a month.
//! - [`HolidayRule::EasterOffset`]: days from Gregorian Easter Sunday (Good Friday -2,
//!   Easter Monday +1).
//!
//! Every rule may be limited to a range of years (`from_year`, `until_year`), e.g. the
//! US Juneteenth holiday exists from 2021.

use jiff::civil::{Date, Weekday as JWeekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A day of the week, as written in calendar files (`monday` … `sunday`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub fn to_jiff(self) -> JWeekday {
        match self {
            Weekday::Monday => JWeekday::Monday,
            Weekday::Tuesday => JWeekday::Tuesday,
            Weekday::Wednesday => JWeekday::Wednesday,
            Weekday::Thursday => JWeekday::Thursday,
            Weekday::Friday => JWeekday::Friday,
            Weekday::Saturday => JWeekday::Saturday,
            Weekday::Sunday => JWeekday::Sunday,
        }
    }
}

/// What happens to a fixed-date holiday that falls on a Saturday or Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observed {
    /// No substitute day.
    #[default]
    None,
    /// Saturday → the Friday before, Sunday → the Monday after (US federal, 5 U.S.C.
    /// §6103(b)).
    NearestWeekday,
    /// Saturday or Sunday → the next weekday that is not already a holiday (UK
    /// substitute days; Canadian federal practice).
    NextWeekday,
}

/// How a holiday's date is found in a given year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HolidayRule {
    /// The same month and day every year (a 29 February holiday exists only in leap
    /// years).
    Fixed {
        month: i8,
        day: i8,
        #[serde(default)]
        observed: Observed,
    },
    /// The `n`-th `weekday` of `month`: `n` is 1 to 5, or -1 for the last one. A
    /// fifth weekday that does not exist in a year gives no holiday that year.
    NthWeekday { month: i8, weekday: Weekday, n: i8 },
    /// `days` after (negative: before) Easter Sunday in the Gregorian calendar.
    EasterOffset { days: i16 },
}

/// One named holiday rule of a calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub name: String,
    pub rule: HolidayRule,
    /// The first year the holiday exists (inclusive). None: always.
    #[serde(default)]
    pub from_year: Option<i16>,
    /// The last year the holiday exists (inclusive). None: still in force.
    #[serde(default)]
    pub until_year: Option<i16>,
}

impl Holiday {
    fn in_force(&self, year: i16) -> bool {
        self.from_year.is_none_or(|y| year >= y) && self.until_year.is_none_or(|y| year <= y)
    }

    /// The actual (not observed) date of this holiday in `year`, if it has one.
    pub fn actual_date(&self, year: i16) -> Option<Date> {
        if !self.in_force(year) {
            return None;
        }
        match self.rule {
            HolidayRule::Fixed { month, day, .. } => Date::new(year, month, day).ok(),
            HolidayRule::NthWeekday { month, weekday, n } => Date::new(year, month, 1)
                .ok()?
                .nth_weekday_of_month(n, weekday.to_jiff())
                .ok(),
            HolidayRule::EasterOffset { days } => {
                let easter = easter_sunday(year)?;
                easter
                    .checked_add(jiff::Span::new().days(i64::from(days)))
                    .ok()
            }
        }
    }
}

/// A holiday on a given date: its name, and whether the date is a substitute
/// (observed) day rather than the actual one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayDate {
    pub date: Date,
    pub name: String,
    pub observed: bool,
}

/// A holiday calendar: rules, extra dates and exceptions. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    /// How packs name it: `us`, `ca`, `uk`.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    /// One-off holidays (a state funeral, a jubilee, a moved bank holiday).
    #[serde(default)]
    pub extra: Vec<Date>,
    /// Dates that are not holidays although a rule names them (a bank holiday that
    /// was moved to another date that year).
    #[serde(default)]
    pub except: Vec<Date>,
    /// Where the list comes from, and how sure it is.
    #[serde(default)]
    pub note: Option<String>,
}

/// How far a substitute day may move from its holiday before the search gives up
/// (only reachable with pathological data).
const MAX_SUBSTITUTE_SEARCH: usize = 31;

impl Calendar {
    /// Every holiday date falling in `year`, actual and observed, sorted by date.
    /// Substitute days that spill across a year end (1 January on a Saturday observed
    /// on Friday 31 December) are counted in the year they fall in.
    pub fn holidays_in(&self, year: i16) -> Vec<HolidayDate> {
        let mut out: Vec<HolidayDate> = Vec::new();
        // Actual dates of the neighbouring years too, for substitutes that spill over.
        let mut actual: Vec<(Date, &Holiday)> = Vec::new();
        for y in [year.saturating_sub(1), year, year.saturating_add(1)] {
            for h in &self.holidays {
                if let Some(d) = h.actual_date(y) {
                    actual.push((d, h));
                }
            }
        }
        actual.sort_by_key(|(d, _)| *d);
        actual.dedup_by(|a, b| a.0 == b.0 && a.1.name == b.1.name);
        // Days that are already holidays on a weekday (substitutes may not land there).
        let mut taken: BTreeSet<Date> = actual
            .iter()
            .map(|(d, _)| *d)
            .filter(|d| !is_weekend(*d))
            .collect();
        taken.extend(self.extra.iter().copied());
        for (d, h) in &actual {
            if d.year() == year {
                out.push(HolidayDate {
                    date: *d,
                    name: h.name.clone(),
                    observed: false,
                });
            }
            let HolidayRule::Fixed { observed, .. } = h.rule else {
                continue;
            };
            if !is_weekend(*d) {
                continue;
            }
            let sub = match observed {
                Observed::None => None,
                Observed::NearestWeekday => match d.weekday() {
                    JWeekday::Saturday => d.yesterday().ok(),
                    _ => d.tomorrow().ok(),
                },
                Observed::NextWeekday => {
                    let mut c = d.tomorrow().ok();
                    let mut steps = 0;
                    while let Some(x) = c {
                        if !is_weekend(x) && !taken.contains(&x) {
                            break;
                        }
                        steps += 1;
                        c = if steps > MAX_SUBSTITUTE_SEARCH {
                            None
                        } else {
                            x.tomorrow().ok()
                        };
                    }
                    c
                }
            };
            if let Some(s) = sub {
                taken.insert(s);
                if s.year() == year {
                    out.push(HolidayDate {
                        date: s,
                        name: h.name.clone(),
                        observed: true,
                    });
                }
            }
        }
        for d in &self.extra {
            if d.year() == year {
                out.push(HolidayDate {
                    date: *d,
                    name: "extra holiday".to_string(),
                    observed: false,
                });
            }
        }
        out.retain(|h| !self.except.contains(&h.date));
        out.sort_by(|a, b| a.date.cmp(&b.date).then(a.observed.cmp(&b.observed)));
        out
    }

    /// The set of holiday dates (actual and observed) in `year`.
    pub fn holiday_set(&self, year: i16) -> BTreeSet<Date> {
        self.holidays_in(year).into_iter().map(|h| h.date).collect()
    }

    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays_in(date.year()).iter().any(|h| h.date == date)
    }

    /// A weekday that is not a holiday (actual or observed).
    pub fn is_business_day(&self, date: Date) -> bool {
        !is_weekend(date) && !self.is_holiday(date)
    }
}

/// Saturday or Sunday.
pub fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), JWeekday::Saturday | JWeekday::Sunday)
}

/// A business day under `calendar`; with no calendar, every weekday is one.
pub fn is_business_day(date: Date, calendar: Option<&Calendar>) -> bool {
    match calendar {
        Some(c) => c.is_business_day(date),
        None => !is_weekend(date),
    }
}

/// Answers "is this a business day" for many dates, computing each year's holidays
/// once.
pub(crate) struct BusinessDays<'a> {
    calendar: Option<&'a Calendar>,
    years: BTreeMap<i16, BTreeSet<Date>>,
}

impl<'a> BusinessDays<'a> {
    pub(crate) fn new(calendar: Option<&'a Calendar>) -> Self {
        Self {
            calendar,
            years: BTreeMap::new(),
        }
    }

    pub(crate) fn is_business_day(&mut self, date: Date) -> bool {
        if is_weekend(date) {
            return false;
        }
        let Some(cal) = self.calendar else {
            return true;
        };
        !self
            .years
            .entry(date.year())
            .or_insert_with(|| cal.holiday_set(date.year()))
            .contains(&date)
    }
}

/// Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm of
/// Meeus/Jones/Butcher). None for years outside 1583..=9999.
pub fn easter_sunday(year: i16) -> Option<Date> {
    if !(1583..=9999).contains(&year) {
        return None;
    }
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = ((h + l - 7 * m + 114) % 31) + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// Calendars by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarSet {
    calendars: BTreeMap<String, Calendar>,
}

impl CalendarSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a calendar, replacing any with the same id (returned).
    pub fn insert(&mut self, calendar: Calendar) -> Option<Calendar> {
        self.calendars.insert(calendar.id.clone(), calendar)
    }

    pub fn get(&self, id: &str) -> Option<&Calendar> {
        self.calendars.get(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.calendars.contains_key(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Calendar> {
        self.calendars.values()
    }

    pub fn len(&self) -> usize {
        self.calendars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calendars.is_empty()
    }
}

impl FromIterator<Calendar> for CalendarSet {
    fn from_iter<I: IntoIterator<Item = Calendar>>(iter: I) -> Self {
        let mut s = CalendarSet::new();
        for c in iter {
            s.insert(c);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn fixed(name: &str, month: i8, day: i8, observed: Observed) -> Holiday {
        Holiday {
            name: name.into(),
            rule: HolidayRule::Fixed {
                month,
                day,
                observed,
            },
            from_year: None,
            until_year: None,
        }
    }

    fn nth(name: &str, month: i8, weekday: Weekday, n: i8) -> Holiday {
        Holiday {
            name: name.into(),
            rule: HolidayRule::NthWeekday { month, weekday, n },
            from_year: None,
            until_year: None,
        }
    }

    fn easter(name: &str, days: i16) -> Holiday {
        Holiday {
            name: name.into(),
            rule: HolidayRule::EasterOffset { days },
            from_year: None,
            until_year: None,
        }
    }

    fn cal(id: &str, holidays: Vec<Holiday>) -> Calendar {
        Calendar {
            id: id.into(),
            name: id.into(),
            holidays,
            extra: Vec::new(),
            except: Vec::new(),
            note: None,
        }
    }

    /// Mirrors rules/calendars/us.yaml.
    pub(crate) fn us() -> Calendar {
        use Observed::NearestWeekday as N;
        let mut juneteenth = fixed("Juneteenth", 6, 19, N);
        juneteenth.from_year = Some(2021);
        cal(
            "us",
            vec![
                fixed("New Year's Day", 1, 1, N),
                nth("MLK", 1, Weekday::Monday, 3),
                nth("Washington", 2, Weekday::Monday, 3),
                nth("Memorial", 5, Weekday::Monday, -1),
                juneteenth,
                fixed("Independence", 7, 4, N),
                nth("Labor", 9, Weekday::Monday, 1),
                nth("Columbus", 10, Weekday::Monday, 2),
                fixed("Veterans", 11, 11, N),
                nth("Thanksgiving", 11, Weekday::Thursday, 4),
                fixed("Christmas", 12, 25, N),
            ],
        )
    }

    /// Mirrors rules/calendars/ca.yaml.
    pub(crate) fn ca() -> Calendar {
        use Observed::NextWeekday as X;
        let mut ndtr = fixed("Truth and Reconciliation", 9, 30, X);
        ndtr.from_year = Some(2021);
        cal(
            "ca",
            vec![
                fixed("New Year's Day", 1, 1, X),
                easter("Good Friday", -2),
                nth("Victoria Day", 5, Weekday::Monday, -2),
                fixed("Canada Day", 7, 1, X),
                nth("Labour Day", 9, Weekday::Monday, 1),
                ndtr,
                nth("Thanksgiving", 10, Weekday::Monday, 2),
                fixed("Remembrance Day", 11, 11, X),
                fixed("Christmas Day", 12, 25, X),
                fixed("Boxing Day", 12, 26, X),
            ],
        )
    }

    /// Mirrors rules/calendars/uk.yaml.
    pub(crate) fn uk() -> Calendar {
        use Observed::NextWeekday as X;
        let mut c = cal(
            "uk",
            vec![
                fixed("New Year's Day", 1, 1, X),
                easter("Good Friday", -2),
                easter("Easter Monday", 1),
                nth("Early May", 5, Weekday::Monday, 1),
                nth("Spring", 5, Weekday::Monday, -1),
                nth("Summer", 8, Weekday::Monday, -1),
                fixed("Christmas Day", 12, 25, X),
                fixed("Boxing Day", 12, 26, X),
            ],
        );
        c.extra = vec![date(2022, 6, 2), date(2022, 6, 3), date(2022, 9, 19)];
        c.except = vec![date(2022, 5, 30)];
        c
    }

    fn dates(c: &Calendar, year: i16) -> Vec<Date> {
        c.holiday_set(year).into_iter().collect()
    }

    #[test]
    fn easter_dates() {
        for (y, m, d) in [
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2028, 4, 16),
            (2038, 4, 25),
            (2285, 3, 22),
        ] {
            assert_eq!(easter_sunday(y), Some(date(y, m, d)), "{y}");
        }
        assert_eq!(easter_sunday(1500), None);
    }

    #[test]
    fn us_federal_2026_and_2027_with_observed_days() {
        let us = us();
        assert_eq!(
            dates(&us, 2026),
            vec![
                date(2026, 1, 1),
                date(2026, 1, 19),
                date(2026, 2, 16),
                date(2026, 5, 25),
                date(2026, 6, 19),
                date(2026, 7, 3), // 4 July is a Saturday: observed Friday
                date(2026, 7, 4),
                date(2026, 9, 7),
                date(2026, 10, 12),
                date(2026, 11, 11),
                date(2026, 11, 26),
                date(2026, 12, 25),
            ]
        );
        assert_eq!(
            dates(&us, 2027),
            vec![
                date(2027, 1, 1),
                date(2027, 1, 18),
                date(2027, 2, 15),
                date(2027, 5, 31),
                date(2027, 6, 18), // Juneteenth on Saturday
                date(2027, 6, 19),
                date(2027, 7, 4), // Sunday: observed Monday
                date(2027, 7, 5),
                date(2027, 9, 6),
                date(2027, 10, 11),
                date(2027, 11, 11),
                date(2027, 11, 25),
                date(2027, 12, 24), // Christmas on Saturday
                date(2027, 12, 25),
                date(2027, 12, 31), // 1 January 2028 is a Saturday
            ]
        );
        assert!(!us.is_business_day(date(2027, 12, 31)));
        assert!(!us.is_business_day(date(2026, 7, 3)));
        assert!(us.is_business_day(date(2026, 11, 27))); // day after Thanksgiving
        // Juneteenth did not exist before 2021.
        assert!(!us.is_holiday(date(2020, 6, 19)));
    }

    #[test]
    fn canada_good_friday_victoria_thanksgiving_and_christmas_substitutes() {
        let ca = ca();
        let y2026 = dates(&ca, 2026);
        for d in [
            date(2026, 1, 1),
            date(2026, 4, 3),  // Good Friday
            date(2026, 5, 18), // Victoria Day: the Monday before 25 May
            date(2026, 7, 1),
            date(2026, 9, 7),
            date(2026, 9, 30),
            date(2026, 10, 12), // Thanksgiving: second Monday of October
            date(2026, 11, 11),
            date(2026, 12, 25),
            date(2026, 12, 28), // Boxing Day (Saturday) → Monday
        ] {
            assert!(y2026.contains(&d), "{d}");
        }
        assert!(!ca.is_holiday(date(2026, 4, 6))); // Easter Monday is not federal
        // Victoria Day when 24 May is a Monday (2027) and when 25 May is (2026 → 18).
        assert!(ca.is_holiday(date(2027, 5, 24)));
        assert!(ca.is_holiday(date(2026, 5, 18)) && !ca.is_holiday(date(2026, 5, 25)));
        // 2027: Christmas on Saturday, Boxing Day on Sunday → Monday 27, Tuesday 28.
        assert!(ca.is_holiday(date(2027, 12, 27)) && ca.is_holiday(date(2027, 12, 28)));
        assert!(ca.is_business_day(date(2027, 12, 29)));
        // Canada Day 2029 is a Sunday → Monday 2 July.
        assert!(ca.is_holiday(date(2029, 7, 2)));
    }

    #[test]
    fn uk_easter_monday_substitute_days_and_moved_holidays() {
        let uk = uk();
        assert_eq!(
            dates(&uk, 2026)
                .into_iter()
                .filter(|d| !is_weekend(*d))
                .collect::<Vec<_>>(),
            vec![
                date(2026, 1, 1),
                date(2026, 4, 3),
                date(2026, 4, 6), // Easter Monday
                date(2026, 5, 4),
                date(2026, 5, 25),
                date(2026, 8, 31),
                date(2026, 12, 25),
                date(2026, 12, 28), // Boxing Day substitute
            ]
        );
        // 2021 and 2027: Christmas Saturday, Boxing Day Sunday → 27 and 28.
        for y in [2021, 2027] {
            assert!(uk.is_holiday(date(y, 12, 27)) && uk.is_holiday(date(y, 12, 28)));
        }
        // 2022: Christmas Sunday, Boxing Day Monday → substitute Tuesday 27 (cascade).
        assert!(uk.is_holiday(date(2022, 12, 26)) && uk.is_holiday(date(2022, 12, 27)));
        assert!(!uk.is_holiday(date(2022, 12, 28)));
        // 2022: spring bank holiday moved from 30 May to 2 June, plus 3 June.
        assert!(!uk.is_holiday(date(2022, 5, 30)));
        assert!(uk.is_holiday(date(2022, 6, 2)) && uk.is_holiday(date(2022, 6, 3)));
        // New Year 2028 (Saturday) → Monday 3 January 2028.
        assert!(uk.is_holiday(date(2028, 1, 3)));
        assert!(!uk.is_holiday(date(2027, 12, 31)));
    }

    #[test]
    fn weekends_only_without_a_calendar() {
        assert!(!is_business_day(date(2026, 11, 28), None));
        assert!(is_business_day(date(2026, 12, 25), None));
        let set: CalendarSet = [us(), ca(), uk()].into_iter().collect();
        assert_eq!(set.len(), 3);
        assert!(set.contains("uk") && set.get("xx").is_none());
    }

    #[test]
    fn calendars_read_from_json() {
        let c: Calendar = serde_json::from_str(
            r#"{"id":"t","name":"T","holidays":[
                {"name":"A","rule":{"fixed":{"month":1,"day":1,"observed":"next_weekday"}}},
                {"name":"B","rule":{"nth_weekday":{"month":5,"weekday":"monday","n":-1}}},
                {"name":"C","rule":{"easter_offset":{"days":-2}},"from_year":2020}],
              "extra":["2026-03-03"]}"#,
        )
        .unwrap();
        assert!(c.is_holiday(date(2026, 3, 3)));
        assert!(c.is_holiday(date(2026, 5, 25)));
        assert!(c.is_holiday(date(2026, 4, 3)));
        assert!(serde_json::from_str::<Calendar>(r#"{"id":"t","name":"T","colour":1}"#).is_err());
    }
}
