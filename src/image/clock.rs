//! Wall-clock time in UTC, formatted the way the imitated servers log it.
//!
//! The built-in images run with `TZ` unset, like Docker's official images, so
//! every timestamp is UTC. std has no calendar, so the civil date is computed
//! from the Unix time with Howard Hinnant's `civil_from_days` algorithm.

use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// A moment broken down into UTC calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// Full year, e.g. 2026.
    pub year: i64,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of the month, 1..=31.
    pub day: u32,
    /// Hour, 0..=23.
    pub hour: u32,
    /// Minute, 0..=59.
    pub minute: u32,
    /// Second, 0..=59.
    pub second: u32,
    /// Millisecond, 0..=999.
    pub millis: u32,
    /// Day of the week, 0 = Sunday.
    pub weekday: u32,
}

impl Utc {
    /// The current time.
    pub fn now() -> Self {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self::from_unix_millis(since.as_millis() as i64)
    }

    /// Breaks milliseconds since 1970-01-01T00:00:00Z into calendar fields.
    pub fn from_unix_millis(ms: i64) -> Self {
        let secs = ms.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        // civil_from_days: shift the epoch to 0000-03-01 so leap days come last.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
            millis: ms.rem_euclid(1000) as u32,
            // 1970-01-01 was a Thursday (4).
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    fn month_name(&self) -> &'static str {
        MONTHS[(self.month as usize).saturating_sub(1) % 12]
    }

    /// Apache access-log time: `22/Nov/2026:05:31:11 +0000`.
    pub fn apache(&self) -> String {
        format!(
            "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
            self.day,
            self.month_name(),
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }

    /// HTTP `Date:` header value: `Sun, 22 Nov 2026 05:31:11 GMT`.
    pub fn http(&self) -> String {
        format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
            WEEKDAYS[self.weekday as usize % 7],
            self.day,
            self.month_name(),
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }

    /// Apache error-log time: `Sun Nov 22 05:31:11.042000 2026`.
    pub fn apache_error(&self) -> String {
        format!(
            "{} {} {:02} {:02}:{:02}:{:02}.{:06} {}",
            WEEKDAYS[self.weekday as usize % 7],
            self.month_name(),
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.millis * 1000,
            self.year
        )
    }

    /// Tomcat (JULI) log time: `22-Nov-2026 05:31:11.123`.
    pub fn tomcat(&self) -> String {
        format!(
            "{:02}-{}-{} {:02}:{:02}:{:02}.{:03}",
            self.day,
            self.month_name(),
            self.year,
            self.hour,
            self.minute,
            self.second,
            self.millis
        )
    }

    /// Redis log time: `22 Nov 2026 05:31:11.123`.
    pub fn redis(&self) -> String {
        format!(
            "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
            self.day,
            self.month_name(),
            self.year,
            self.hour,
            self.minute,
            self.second,
            self.millis
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Utc;

    #[test]
    fn formats_a_known_instant() {
        // 2026-11-22T05:31:11.042Z, a Sunday.
        let t = Utc::from_unix_millis(1_795_325_471_042);
        assert_eq!(t.apache(), "22/Nov/2026:05:31:11 +0000");
        assert_eq!(t.http(), "Sun, 22 Nov 2026 05:31:11 GMT");
        assert_eq!(t.apache_error(), "Sun Nov 22 05:31:11.042000 2026");
        assert_eq!(t.tomcat(), "22-Nov-2026 05:31:11.042");
        assert_eq!(t.redis(), "22 Nov 2026 05:31:11.042");
    }

    #[test]
    fn handles_leap_days_and_the_epoch() {
        assert_eq!(
            Utc::from_unix_millis(0).http(),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        // 2024-02-29T12:00:00Z
        assert_eq!(
            Utc::from_unix_millis(1_709_208_000_000).apache(),
            "29/Feb/2024:12:00:00 +0000"
        );
    }
}
