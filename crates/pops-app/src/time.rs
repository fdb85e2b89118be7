//! Time as the centre sees it: stored in UTC, days counted in Europe/London.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use chrono_tz::Europe::London;

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The Europe/London calendar day of `t`, as `YYYY-MM-DD`.
pub fn london_date(t: DateTime<Utc>) -> String {
    t.with_timezone(&London).format("%Y-%m-%d").to_string()
}

/// The Europe/London calendar day of `t`.
pub fn london_day(t: DateTime<Utc>) -> chrono::NaiveDate {
    t.with_timezone(&London).date_naive()
}

/// The ISO weekday (1 Monday … 7 Sunday) of `t` in Europe/London.
pub fn london_weekday(t: DateTime<Utc>) -> u8 {
    u8::try_from(t.with_timezone(&London).weekday().number_from_monday()).unwrap_or(1)
}

/// `t` as a London wall-clock time, `YYYY-MM-DD HH:MM`, for exports.
pub fn london_minute(t: &str) -> String {
    DateTime::parse_from_rfc3339(t)
        .map(|t| t.with_timezone(&London).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
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
