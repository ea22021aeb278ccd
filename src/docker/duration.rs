//! Human-readable durations as printed by `docker ps` (CREATED and STATUS).
//!
//! Port of `github.com/docker/go-units` `HumanDuration` (current version,
//! which has the `"1 second"` case and rounds hours to the nearest hour) and
//! of the daemon's `State.String()` phrasing.

use std::time::Duration;

const NANOS_PER_HOUR: u128 = 3_600 * 1_000_000_000;

/// Go's `units.HumanDuration(d)`: a rough, human-friendly duration such as
/// `"Less than a second"`, `"About a minute"`, `"3 hours"` or `"2 weeks"`.
///
/// Thresholds (checked in this order):
/// * whole seconds `< 1` → `Less than a second`; `== 1` → `1 second`;
///   `< 60` → `N seconds`;
/// * whole minutes `== 1` → `About a minute`; `< 60` → `N minutes`;
/// * hours *rounded to the nearest hour* `== 1` → `About an hour`;
///   `< 48` → `N hours`; `< 14 days` → `N days`; `< 60 days` → `N weeks`;
///   `< 730 days` → `N months` (30-day months);
/// * otherwise `N years`, computed from *truncated* hours (365-day years).
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    if seconds < 1 {
        return "Less than a second".to_string();
    }
    if seconds == 1 {
        return "1 second".to_string();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = seconds / 60;
    if minutes == 1 {
        return "About a minute".to_string();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    // go-units uses d.Round(time.Hour) here (halves round away from zero), so
    // 1h29m is "About an hour" but 1h30m is "2 hours".
    let hours = (d.as_nanos() + NANOS_PER_HOUR / 2) / NANOS_PER_HOUR;
    if hours == 1 {
        return "About an hour".to_string();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    // The year branch uses int(d.Hours()), i.e. truncated, not rounded, hours.
    format!("{} years", seconds / 3_600 / 24 / 365)
}

/// [`human_duration`] for a whole number of seconds.
pub fn human_duration_secs(secs: u64) -> String {
    human_duration(Duration::from_secs(secs))
}

/// `docker ps` CREATED column (`RunningFor`): `HumanDuration + " ago"`, e.g.
/// `"3 seconds ago"`, `"About an hour ago"`.
pub fn created_ago(secs: u64) -> String {
    format!("{} ago", human_duration_secs(secs))
}

/// STATUS of a running container: `"Up " + HumanDuration(since start)`,
/// e.g. `"Up 2 seconds"`, `"Up Less than a second"` (sic, Docker keeps the
/// capital L).
pub fn status_up(secs: u64) -> String {
    format!("Up {}", human_duration_secs(secs))
}

/// STATUS of a stopped container:
/// `"Exited (" + code + ") " + HumanDuration(since exit) + " ago"`, e.g.
/// `"Exited (137) 5 minutes ago"`.
pub fn status_exited(code: i32, secs_since_exit: u64) -> String {
    format!(
        "Exited ({code}) {} ago",
        human_duration_secs(secs_since_exit)
    )
}

/// STATUS of a container that was created but never started.
pub fn status_created() -> &'static str {
    "Created"
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    const WEEK: u64 = 7 * DAY;
    const MONTH: u64 = 30 * DAY;
    const YEAR: u64 = 365 * DAY;

    fn hd(secs: u64) -> String {
        human_duration_secs(secs)
    }

    #[test]
    fn go_units_test_table() {
        // Cases from go-units duration_test.go TestHumanDuration.
        assert_eq!(
            human_duration(Duration::from_millis(450)),
            "Less than a second"
        );
        let cases: &[(u64, &str)] = &[
            (1, "1 second"),
            (45, "45 seconds"),
            (46, "46 seconds"),
            (59, "59 seconds"),
            (60, "About a minute"),
            (3 * MIN, "3 minutes"),
            (35 * MIN, "35 minutes"),
            (35 * MIN + 40, "35 minutes"),
            (45 * MIN, "45 minutes"),
            (45 * MIN + 40, "45 minutes"),
            (46 * MIN, "46 minutes"),
            (59 * MIN, "59 minutes"),
            (HOUR, "About an hour"),
            (HOUR + 29 * MIN, "About an hour"),
            (HOUR + 31 * MIN, "2 hours"),
            (HOUR + 59 * MIN, "2 hours"),
            (3 * HOUR, "3 hours"),
            (3 * HOUR + 29 * MIN, "3 hours"),
            (3 * HOUR + 31 * MIN, "4 hours"),
            (3 * HOUR + 59 * MIN, "4 hours"),
            (3 * HOUR + 60 * MIN, "4 hours"),
            (24 * HOUR, "24 hours"),
            (DAY + 12 * HOUR, "36 hours"),
            (2 * DAY, "2 days"),
            (7 * DAY, "7 days"),
            (13 * DAY + 5 * HOUR, "13 days"),
            (2 * WEEK, "2 weeks"),
            (2 * WEEK + 4 * DAY, "2 weeks"),
            (3 * WEEK, "3 weeks"),
            (4 * WEEK, "4 weeks"),
            (4 * WEEK + 3 * DAY, "4 weeks"),
            (MONTH, "4 weeks"),
            (MONTH + 2 * WEEK, "6 weeks"),
            (2 * MONTH, "2 months"),
            (2 * MONTH + 2 * WEEK, "2 months"),
            (3 * MONTH, "3 months"),
            (3 * MONTH + WEEK, "3 months"),
            (5 * MONTH + 2 * WEEK, "5 months"),
            (13 * MONTH, "13 months"),
            (23 * MONTH, "23 months"),
            (24 * MONTH, "24 months"),
            (24 * MONTH + 2 * WEEK, "2 years"),
            (3 * YEAR + 2 * MONTH, "3 years"),
        ];
        for &(secs, want) in cases {
            assert_eq!(hd(secs), want, "{secs}s");
        }
    }

    #[test]
    fn half_hour_rounds_up() {
        assert_eq!(hd(HOUR + 30 * MIN), "2 hours");
        assert_eq!(hd(47 * HOUR + 30 * MIN), "2 days");
    }

    #[test]
    fn zero_is_less_than_a_second() {
        assert_eq!(hd(0), "Less than a second");
    }

    #[test]
    fn ps_helpers() {
        assert_eq!(created_ago(3), "3 seconds ago");
        assert_eq!(created_ago(90), "About a minute ago");
        assert_eq!(status_up(2), "Up 2 seconds");
        assert_eq!(status_up(0), "Up Less than a second");
        assert_eq!(status_exited(0, 5), "Exited (0) 5 seconds ago");
        assert_eq!(status_exited(137, 2 * HOUR), "Exited (137) 2 hours ago");
        assert_eq!(status_exited(-1, 1), "Exited (-1) 1 second ago");
        assert_eq!(status_created(), "Created");
    }
}
