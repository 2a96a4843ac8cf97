//! Day arithmetic on plain integers (days since 1970-01-01), so that status
//! dates can be drawn and compared without a date library.

use homeward_domain::PartialDate;

pub(crate) type Day = i32;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) const fn day(y: i32, m: i32, d: i32) -> Day {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar date of a day number.
pub(crate) const fn civil(z: Day) -> (i32, i32, i32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub(crate) fn full(z: Day) -> PartialDate {
    let (y, m, d) = civil(z);
    PartialDate::new(y as u16, Some(m as u8), Some(d as u8)).expect("a calendar day")
}

pub(crate) fn month_only(z: Day) -> PartialDate {
    let (y, m, _) = civil(z);
    PartialDate::new(y as u16, Some(m as u8), None).expect("a calendar month")
}

pub(crate) fn year_only(z: Day) -> PartialDate {
    let (y, _, _) = civil(z);
    PartialDate::new(y as u16, None, None).expect("a year in range")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_day_of_the_period() {
        assert_eq!(day(1970, 1, 1), 0);
        assert_eq!(day(2000, 3, 1), 11_017);
        for z in day(1940, 1, 1)..day(2030, 1, 1) {
            let (y, m, d) = civil(z);
            assert_eq!(day(y, m, d), z);
        }
        assert_eq!(full(day(2026, 6, 19)).to_string(), "2026-06-19");
        assert_eq!(full(day(2024, 2, 29)).to_string(), "2024-02-29");
    }
}
