//! Dates that may be partial: families and lists often know only the year of
//! birth, or the month and year. A partial date is kept as precise as it was
//! given, never padded with invented days.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A calendar date known to the year, the month or the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartialDate {
    year: u16,
    month: Option<u8>,
    day: Option<u8>,
}

/// Why a date did not parse. Never carries the input: it may be a birth date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDate {
    #[error("not a date: expected YYYY-MM-DD, YYYY-MM, YYYY, DD.MM.YYYY or MM.YYYY")]
    Format,
    #[error("year out of range 1900-2100")]
    Year,
    #[error("month out of range 1-12")]
    Month,
    #[error("day does not exist in that month")]
    Day,
}

impl PartialDate {
    pub const MIN_YEAR: u16 = 1900;
    pub const MAX_YEAR: u16 = 2100;

    /// Builds a date, checking that it exists on the calendar.
    pub fn new(year: u16, month: Option<u8>, day: Option<u8>) -> Result<Self, InvalidDate> {
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) {
            return Err(InvalidDate::Year);
        }
        if let Some(m) = month
            && !(1..=12).contains(&m)
        {
            return Err(InvalidDate::Month);
        }
        match (month, day) {
            (None, Some(_)) => return Err(InvalidDate::Format),
            (Some(m), Some(d)) if d == 0 || d > days_in_month(year, m) => {
                return Err(InvalidDate::Day);
            }
            _ => {}
        }
        Ok(Self { year, month, day })
    }

    /// Parses the forms met in the field: ISO 8601 (`1998-03-07`, `1998-03`,
    /// `1998`) and the day-first dotted form used in Ukraine and Russia
    /// (`07.03.1998`, `03.1998`).
    pub fn parse(raw: &str) -> Result<Self, InvalidDate> {
        let s = raw.trim();
        let num = |part: &str, width: std::ops::RangeInclusive<usize>| -> Result<u32, InvalidDate> {
            if !width.contains(&part.len()) || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(InvalidDate::Format);
            }
            part.parse().map_err(|_| InvalidDate::Format)
        };
        let (y, m, d) = if s.contains('.') {
            let parts: Vec<&str> = s.split('.').collect();
            match parts.as_slice() {
                [d, m, y] => (num(y, 4..=4)?, Some(num(m, 1..=2)?), Some(num(d, 1..=2)?)),
                [m, y] => (num(y, 4..=4)?, Some(num(m, 1..=2)?), None),
                _ => return Err(InvalidDate::Format),
            }
        } else {
            let parts: Vec<&str> = s.split('-').collect();
            match parts.as_slice() {
                [y] => (num(y, 4..=4)?, None, None),
                [y, m] => (num(y, 4..=4)?, Some(num(m, 2..=2)?), None),
                [y, m, d] => (num(y, 4..=4)?, Some(num(m, 2..=2)?), Some(num(d, 2..=2)?)),
                _ => return Err(InvalidDate::Format),
            }
        };
        let year = u16::try_from(y).map_err(|_| InvalidDate::Year)?;
        let month = m.map(|m| u8::try_from(m).map_err(|_| InvalidDate::Month)).transpose()?;
        let day = d.map(|d| u8::try_from(d).map_err(|_| InvalidDate::Day)).transpose()?;
        Self::new(year, month, day)
    }

    pub fn year(&self) -> u16 {
        self.year
    }
    pub fn month(&self) -> Option<u8> {
        self.month
    }
    pub fn day(&self) -> Option<u8> {
        self.day
    }

    /// The first day the date can mean: the day itself, the 1st of its
    /// month, or January 1st of its year.
    pub fn earliest(&self) -> time::Date {
        let month = self.month.and_then(|m| time::Month::try_from(m).ok()).unwrap_or(time::Month::January);
        time::Date::from_calendar_date(i32::from(self.year), month, self.day.unwrap_or(1))
            .expect("a PartialDate exists on the calendar")
    }

    /// The date as a `time::Date` when it is known to the day.
    pub fn to_date(&self) -> Option<time::Date> {
        let month = time::Month::try_from(self.month?).ok()?;
        time::Date::from_calendar_date(i32::from(self.year), month, self.day?).ok()
    }
}

/// Refuses a date of something that happened (a status event, a birth)
/// that lies in the future: later than `today` plus one day, the day of
/// grace covering time zones ahead of UTC. A partial date is refused only
/// when the first day it can mean is past that (`2026-12` is accepted on
/// 2026-12-05). The reason names the rule, never the date.
pub fn check_not_future(field: &str, date: Option<PartialDate>, today: time::Date) -> Result<(), crate::FieldError> {
    let latest = today.next_day().unwrap_or(today);
    match date {
        Some(d) if d.earliest() > latest => {
            Err(crate::FieldError::new(field, "in the future: a date of something that happened is at most tomorrow"))
        }
        _ => Ok(()),
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for PartialDate {
    /// ISO 8601 at the precision that is known.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

impl FromStr for PartialDate {
    type Err = InvalidDate;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for PartialDate {
    type Error = InvalidDate;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<PartialDate> for String {
    fn from(d: PartialDate) -> String {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_iso_and_dotted_forms_at_every_precision() {
        for (input, iso) in [
            ("1998-03-07", "1998-03-07"),
            ("1998-03", "1998-03"),
            ("1998", "1998"),
            ("07.03.1998", "1998-03-07"),
            ("7.3.1998", "1998-03-07"),
            ("03.1998", "1998-03"),
            (" 2000-02-29 ", "2000-02-29"),
        ] {
            assert_eq!(PartialDate::parse(input).unwrap().to_string(), iso, "{input}");
        }
    }

    #[test]
    fn refuses_dates_that_do_not_exist() {
        assert_eq!(PartialDate::parse("1999-02-29"), Err(InvalidDate::Day));
        assert_eq!(PartialDate::parse("1900-02-29"), Err(InvalidDate::Day));
        assert_eq!(PartialDate::parse("31.04.1990"), Err(InvalidDate::Day));
        assert_eq!(PartialDate::parse("1990-13-01"), Err(InvalidDate::Month));
        assert_eq!(PartialDate::parse("1850-01-01"), Err(InvalidDate::Year));
        assert_eq!(PartialDate::parse("yesterday"), Err(InvalidDate::Format));
        assert_eq!(PartialDate::parse("1990/01/01"), Err(InvalidDate::Format));
        assert_eq!(PartialDate::parse(""), Err(InvalidDate::Format));
        assert_eq!(PartialDate::parse("1990-1-1"), Err(InvalidDate::Format));
    }

    #[test]
    fn error_messages_never_echo_the_input() {
        let err = PartialDate::parse("31.04.1990").unwrap_err().to_string();
        assert!(!err.contains("1990"), "{err}");
    }

    #[test]
    fn a_date_of_something_that_happened_is_at_most_tomorrow() {
        let today = time::macros::date!(2026 - 12 - 05);
        for ok in ["2026-12-06", "2026-12-05", "2026-12", "2026", "1998-03-07"] {
            assert_eq!(check_not_future("occurred_on", Some(PartialDate::parse(ok).unwrap()), today), Ok(()), "{ok}");
        }
        assert_eq!(check_not_future("occurred_on", None, today), Ok(()));
        for bad in ["2026-12-07", "2027-01", "2027", "2090-06-01"] {
            let e = check_not_future("occurred_on", Some(PartialDate::parse(bad).unwrap()), today).unwrap_err();
            assert_eq!(e.field, "occurred_on");
            assert!(!e.reason.contains(&bad[..4]), "{e}");
        }
    }

    #[test]
    fn orders_by_year_then_month() {
        let a = PartialDate::parse("1998").unwrap();
        let b = PartialDate::parse("1998-01").unwrap();
        let c = PartialDate::parse("1999-01-01").unwrap();
        assert!(a < b && b < c);
    }
}
