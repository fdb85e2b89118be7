//! When to try again: exponential backoff with full jitter, a lower cap by day than by night, the
//! hub's `Retry-After`, and the nightly run. Pure functions of the time they are given.

use chrono::{DateTime, Duration as Span, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Europe::London;
use rand::Rng;
use std::time::Duration;

/// The most a backoff can be before the cap: `base · 2^attempt`, without overflow.
pub fn ceiling(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let factor = 2u32.checked_pow(attempt.min(31)).unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(cap).min(cap)
}

/// Full jitter: a uniformly random delay from zero to `min(cap, base · 2^attempt)`. `attempt` is
/// 0 for the first retry after a failure.
pub fn backoff(attempt: u32, base: Duration, cap: Duration, rng: &mut impl Rng) -> Duration {
    let top = ceiling(attempt, base, cap);
    let millis = u64::try_from(top.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rng.random_range(0..=millis))
}

/// Whether `now` is night in the UK (20:00 to 07:00 Europe/London), when nobody is waiting on the
/// laptop and the cap can be longer.
pub fn is_night(now: DateTime<Utc>) -> bool {
    let hour = now.with_timezone(&London).hour();
    !(7..20).contains(&hour)
}

/// The backoff cap at `now`.
pub fn cap_at(now: DateTime<Utc>, day_cap: Duration, night_cap: Duration) -> Duration {
    if is_night(now) { night_cap } else { day_cap }
}

/// The next time after `now` that the London clock shows `at` (the nightly run). On the night the
/// clocks go forward an hour that does not exist moves to the hour after; on the night they go
/// back, the first of the two.
pub fn next_nightly(now: DateTime<Utc>, at: NaiveTime) -> DateTime<Utc> {
    let local = now.with_timezone(&London);
    let mut day = local.date_naive();
    for _ in 0..3 {
        let wanted = day.and_time(at);
        let found = London
            .from_local_datetime(&wanted)
            .earliest()
            .or_else(|| London.from_local_datetime(&(wanted + Span::hours(1))).earliest());
        if let Some(t) = found.map(|t| t.with_timezone(&Utc))
            && t > now
        {
            return t;
        }
        day = day.succ_opt().unwrap_or(day);
    }
    now + Span::days(1)
}

/// A `Retry-After` value: whole seconds, or an HTTP date. Never more than a day.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    const DAY: Duration = Duration::from_secs(24 * 3600);
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(DAY));
    }
    let when = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some((when - now).to_std().unwrap_or(Duration::ZERO).min(DAY))
}

/// The centre's nightly time, "HH:MM".
pub fn parse_clock(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const BASE: Duration = Duration::from_secs(2);
    const DAY_CAP: Duration = Duration::from_secs(300);
    const NIGHT_CAP: Duration = Duration::from_secs(900);

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn backoff_stays_within_its_bounds_and_is_spread_across_them() {
        assert_eq!(ceiling(0, BASE, DAY_CAP), Duration::from_secs(2));
        assert_eq!(ceiling(1, BASE, DAY_CAP), Duration::from_secs(4));
        assert_eq!(ceiling(7, BASE, DAY_CAP), Duration::from_secs(256));
        assert_eq!(ceiling(8, BASE, DAY_CAP), DAY_CAP);
        assert_eq!(ceiling(1000, BASE, DAY_CAP), DAY_CAP, "no overflow however long the hub is away");
        assert_eq!(ceiling(9, BASE, NIGHT_CAP), NIGHT_CAP);

        let mut rng = StdRng::seed_from_u64(7);
        for attempt in 0..40 {
            let top = ceiling(attempt, BASE, DAY_CAP);
            let draws: Vec<Duration> = (0..400).map(|_| backoff(attempt, BASE, DAY_CAP, &mut rng)).collect();
            assert!(draws.iter().all(|d| *d <= top), "attempt {attempt}");
            // Full jitter: the draws spread over the whole range, not bunched at the top.
            let low = draws.iter().filter(|d| **d < top / 4).count();
            let high = draws.iter().filter(|d| **d > top * 3 / 4).count();
            assert!(low > 40 && high > 40, "attempt {attempt}: {low} low, {high} high");
            let distinct: std::collections::HashSet<_> = draws.iter().collect();
            assert!(distinct.len() > 300, "attempt {attempt}: the delays are jittered");
        }
    }

    #[test]
    fn night_is_eight_in_the_evening_to_seven_in_the_morning_in_london() {
        // Winter: London is UTC.
        assert!(!is_night(utc("2026-01-15T07:00:00Z")));
        assert!(!is_night(utc("2026-01-15T19:59:00Z")));
        assert!(is_night(utc("2026-01-15T20:00:00Z")));
        assert!(is_night(utc("2026-01-15T06:59:00Z")));
        // Summer: London is UTC+1, so 19:30 UTC is 20:30 there.
        assert!(is_night(utc("2026-07-15T19:30:00Z")));
        assert!(!is_night(utc("2026-07-15T06:30:00Z")));
        assert_eq!(cap_at(utc("2026-01-15T12:00:00Z"), DAY_CAP, NIGHT_CAP), DAY_CAP);
        assert_eq!(cap_at(utc("2026-01-15T23:00:00Z"), DAY_CAP, NIGHT_CAP), NIGHT_CAP);
    }

    #[test]
    fn the_nightly_run_is_at_the_centre_time_in_london() {
        let two = parse_clock("02:00").unwrap();
        assert_eq!(next_nightly(utc("2026-01-15T12:00:00Z"), two), utc("2026-01-16T02:00:00Z"));
        assert_eq!(next_nightly(utc("2026-01-15T01:00:00Z"), two), utc("2026-01-15T02:00:00Z"));
        assert_eq!(next_nightly(utc("2026-01-15T02:00:00Z"), two), utc("2026-01-16T02:00:00Z"));
        assert_eq!(next_nightly(utc("2026-07-15T12:00:00Z"), two), utc("2026-07-16T01:00:00Z"), "BST");
        // 29 March 2026: 01:00 to 02:00 does not exist in London.
        let half_one = parse_clock("01:30").unwrap();
        assert_eq!(next_nightly(utc("2026-03-28T12:00:00Z"), half_one), utc("2026-03-29T01:30:00Z"));
        assert_eq!(parse_clock("25:00"), None);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = utc("2026-01-15T12:00:00Z");
        assert_eq!(retry_after("30", now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after("Thu, 15 Jan 2026 12:01:00 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(retry_after("Thu, 15 Jan 2026 11:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(retry_after("999999999", now), Some(Duration::from_secs(86400)));
        assert_eq!(retry_after("soon", now), None);
    }
}
