//! Timestamps as the logger and the metrics write them, without a date crate.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 for a clock before it): EMF's `Timestamp`.
pub(crate) fn epoch_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
}

/// `2024-05-01T12:30:45.123+00:00`: RFC 3339 with milliseconds, in UTC, written as
/// Powertools' logger writes it with `use_rfc3339=True, utc=True`.
pub(crate) struct Rfc3339(pub(crate) SystemTime);

impl Rfc3339 {
    /// The 29 bytes, written digit by digit: a log line's timestamp costs a few dozen
    /// instructions this way, hundreds through `core::fmt`.
    pub(crate) fn bytes(&self) -> [u8; 29] {
        let millis = epoch_millis(self.0);
        let (secs, millis) = (millis / 1000, millis % 1000);
        let (days, secs_of_day) = (secs / 86_400, secs % 86_400);
        let (year, month, day) = civil_from_days(days);
        let (hour, minute, second) = (secs_of_day / 3600, secs_of_day % 3600 / 60, secs_of_day % 60);
        let mut out = *b"0000-00-00T00:00:00.000+00:00";
        let mut digits = |at: usize, width: usize, mut value: u64| {
            for index in (at..at + width).rev() {
                out[index] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        digits(0, 4, year.min(9999));
        digits(5, 2, month);
        digits(8, 2, day);
        digits(11, 2, hour);
        digits(14, 2, minute);
        digits(17, 2, second);
        digits(20, 3, millis);
        out
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only ASCII digits and separators.
        f.write_str(std::str::from_utf8(&self.bytes()).unwrap_or_default())
    }
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(millis: u64) -> String {
        Rfc3339(UNIX_EPOCH + Duration::from_millis(millis)).to_string()
    }

    #[test]
    fn dates_times_and_milliseconds() {
        assert_eq!(at(0), "1970-01-01T00:00:00.000+00:00");
        assert_eq!(at(951_782_400_007), "2000-02-29T00:00:00.007+00:00"); // a leap day
        assert_eq!(at(1_709_251_199_999), "2024-02-29T23:59:59.999+00:00");
        assert_eq!(at(1_735_689_600_000), "2025-01-01T00:00:00.000+00:00");
        assert_eq!(at(4_102_444_800_123), "2100-01-01T00:00:00.123+00:00"); // not a leap year
        assert_eq!(at(4_107_542_399_000), "2100-02-28T23:59:59.000+00:00");
        assert_eq!(epoch_millis(UNIX_EPOCH - Duration::from_secs(1)), 0);
    }

    #[test]
    fn every_day_of_four_centuries_follows_the_one_before() {
        // Walk day by day from 1970 to 2370 and check each date is the successor of
        // the previous one under the Gregorian rules.
        let days_in = |year: u64, month: u64| match month {
            2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let mut previous = civil_from_days(0);
        assert_eq!(previous, (1970, 1, 1));
        for days in 1..146_097 {
            let (year, month, day) = civil_from_days(days);
            let (py, pm, pd) = previous;
            let expected = if pd < days_in(py, pm) {
                (py, pm, pd + 1)
            } else if pm < 12 {
                (py, pm + 1, 1)
            } else {
                (py + 1, 1, 1)
            };
            assert_eq!((year, month, day), expected, "day {days}");
            previous = (year, month, day);
        }
    }
}
