//! Time as the centre sees it: stored in UTC, days counted in Europe/London.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Europe::London;

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The Europe/London calendar day of `t`, as `YYYY-MM-DD`.
pub fn london_date(t: DateTime<Utc>) -> String {
    t.with_timezone(&London).format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_turn_at_london_midnight() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // Summer time: 23:30 UTC is already the next day in London.
        assert_eq!(london_date(t("2026-07-01T23:30:00Z")), "2026-07-02");
        // Winter: London is on UTC.
        assert_eq!(london_date(t("2026-11-25T23:30:00Z")), "2026-11-25");
    }
}
