//! Head office's monthly figures, from the latest state of each centre's records: the visits
//! sessions held, the parties and people who came, first visits, needs noticed, enquiries,
//! feedback and events. Counts only: a report never carries a name, a note or a free-text answer.
//! Each record counts on its *report day* (the London day it belongs to), kept beside the record
//! when a batch applies it, so a month's report reads one month of records.

use crate::error::{Error, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::London;
use pops_domain::change::entity;
use pops_domain::desk::{CentreEvent, Enquiry, EnquiryResolution, EventKind, Feedback, FeedbackKind};
use pops_domain::visits::{CheckIn, VisitOutcome, VisitsSession};
use uuid::Uuid;

/// The entities a report counts; only these carry a report day.
pub const REPORT_ENTITIES: [&str; 5] =
    [entity::VISITS_SESSION, entity::CHECK_IN, entity::ENQUIRY, entity::FEEDBACK, entity::CENTRE_EVENT];

/// The London day (`YYYY-MM-DD`) of an RFC 3339 time.
fn london_day(rfc3339: &str) -> Option<String> {
    let t = DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some(t.with_timezone(&London).date_naive().format("%Y-%m-%d").to_string())
}

/// A `YYYY-MM-DD` day as given, if it is one.
fn plain_day(day: &str) -> Option<String> {
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok().map(|d| d.format("%Y-%m-%d").to_string())
}

/// The day a record counts on in a report: a session's or an event's date, the London day a party
/// arrived or an enquiry or feedback was received. `None` for other entities and for payloads
/// without it.
pub fn report_day(entity: &str, payload: &serde_json::Value) -> Option<String> {
    let (field, day) = day_field(entity)?;
    day(payload.get(field)?.as_str()?)
}

/// [`report_day`] of a payload given as JSON text, reading only the one field it needs.
pub fn report_day_of_text(entity: &str, payload: &str) -> Option<String> {
    let (field, day) = day_field(entity)?;
    match pops_domain::sync::pick_fields(payload, [field]) {
        Ok([value]) => day(value?.as_str()?),
        // Not an object, or the field given twice: as a value, the last one counts.
        Err(_) => report_day(entity, &serde_json::from_str(payload).ok()?),
    }
}

/// Reads a report day from a field's text.
type ReadDay = fn(&str) -> Option<String>;

/// The payload field an entity's report day comes from, and how the day is read from it.
fn day_field(entity: &str) -> Option<(&'static str, ReadDay)> {
    match entity {
        entity::VISITS_SESSION | entity::CENTRE_EVENT => Some(("date", plain_day)),
        entity::CHECK_IN => Some(("arrived_at", london_day)),
        entity::ENQUIRY | entity::FEEDBACK => Some(("received_at", london_day)),
        _ => None,
    }
}

/// A calendar month, as head office asks for it (`YYYY-MM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// Reads `YYYY-MM`; the error is a sentence for the person who typed it.
    pub fn parse(text: &str) -> Result<Month> {
        let bad = || Error::Invalid("Enter the month as a year and month, for example 2026-11".into());
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        if !(2000..=2100).contains(&year) {
            return Err(Error::Invalid("The month must be between 2000 and 2100".into()));
        }
        Ok(Month { year, month })
    }

    /// The month that `now` falls in, in London.
    pub fn of(now: DateTime<Utc>) -> Month {
        let d = now.with_timezone(&London).date_naive();
        Month { year: d.year(), month: d.month() }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MAX)
    }

    pub fn next(self) -> Month {
        if self.month == 12 { Month { year: self.year + 1, month: 1 } } else { Month { month: self.month + 1, ..self } }
    }

    pub fn previous(self) -> Month {
        if self.month == 1 { Month { year: self.year - 1, month: 12 } } else { Month { month: self.month - 1, ..self } }
    }

    /// "November 2026".
    pub fn title(self) -> String {
        self.first_day().format("%B %Y").to_string()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// One centre's figures for a month (or the sum over centres).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub sessions_held: i64,
    pub sessions_cancelled: i64,
    pub parties: i64,
    pub first_time_parties: i64,
    pub adults: i64,
    pub children_0_1: i64,
    pub children_2: i64,
    pub children_3_4: i64,
    pub children_5_11: i64,
    pub children_12_17: i64,
    /// Parties with at least one support need noticed.
    pub parties_with_needs: i64,
    /// Parties declined entry or failing the prison's security checks.
    pub turned_away: i64,
    pub welfare_offered: i64,
    pub enquiries: i64,
    pub enquiries_signposted: i64,
    pub compliments: i64,
    pub complaints: i64,
    pub suggestions: i64,
    pub family_days: i64,
    pub family_forums: i64,
    pub event_adults: i64,
    pub event_children: i64,
}

impl Tally {
    pub fn children(&self) -> i64 {
        self.children_0_1 + self.children_2 + self.children_3_4 + self.children_5_11 + self.children_12_17
    }

    pub fn visitors(&self) -> i64 {
        self.adults + self.children()
    }

    /// Counts one record. A payload that does not read as its entity (the hub quarantines those,
    /// so none should be stored) counts nowhere; the answer says whether it counted.
    pub fn add(&mut self, entity: &str, payload: &serde_json::Value) -> bool {
        fn read<T: serde::de::DeserializeOwned>(payload: &serde_json::Value) -> Option<T> {
            T::deserialize(payload).ok()
        }
        match entity {
            entity::VISITS_SESSION => {
                let Some(s) = read::<VisitsSession>(payload) else { return false };
                if s.cancelled_at.is_some() {
                    self.sessions_cancelled += 1;
                } else {
                    self.sessions_held += 1;
                }
            }
            entity::CHECK_IN => {
                let Some(c) = read::<CheckIn>(payload) else { return false };
                self.parties += 1;
                self.first_time_parties += i64::from(c.first_time);
                self.adults += i64::from(c.adults);
                self.children_0_1 += i64::from(c.children.age_0_1);
                self.children_2 += i64::from(c.children.age_2);
                self.children_3_4 += i64::from(c.children.age_3_4);
                self.children_5_11 += i64::from(c.children.age_5_11);
                self.children_12_17 += i64::from(c.children.age_12_17);
                let n = &c.needs;
                let needs = n.induction_loop
                    || n.bsl_interpreter
                    || n.step_free_access
                    || n.distress
                    || !n.interpreter_language.trim().is_empty()
                    || !n.other.trim().is_empty();
                self.parties_with_needs += i64::from(needs);
                self.turned_away +=
                    i64::from(matches!(c.outcome, Some(VisitOutcome::DeclinedEntry | VisitOutcome::FailedSecurity)));
                self.welfare_offered += i64::from(c.welfare_offered == Some(true));
            }
            entity::ENQUIRY => {
                let Some(e) = read::<Enquiry>(payload) else { return false };
                self.enquiries += 1;
                self.enquiries_signposted += i64::from(e.resolution == EnquiryResolution::Signposted);
            }
            entity::FEEDBACK => {
                let Some(f) = read::<Feedback>(payload) else { return false };
                match f.kind {
                    FeedbackKind::Compliment => self.compliments += 1,
                    FeedbackKind::Complaint => self.complaints += 1,
                    FeedbackKind::Suggestion => self.suggestions += 1,
                }
            }
            entity::CENTRE_EVENT => {
                let Some(e) = read::<CentreEvent>(payload) else { return false };
                match e.kind {
                    EventKind::FamilyDay => self.family_days += 1,
                    EventKind::FamilyForum => self.family_forums += 1,
                }
                self.event_adults += i64::from(e.adults);
                self.event_children += i64::from(e.children.total());
            }
            _ => return false,
        }
        true
    }

    /// Each figure with its words, in the order a report lists them.
    pub fn figures(&self) -> [(&'static str, i64); 25] {
        [
            ("Visits sessions held", self.sessions_held),
            ("Visits sessions cancelled", self.sessions_cancelled),
            ("Parties checked in", self.parties),
            ("First-visit parties", self.first_time_parties),
            ("Visitors", self.visitors()),
            ("Adults", self.adults),
            ("Children", self.children()),
            ("Children under 2", self.children_0_1),
            ("Children aged 2", self.children_2),
            ("Children aged 3 to 4", self.children_3_4),
            ("Children aged 5 to 11", self.children_5_11),
            ("Children aged 12 to 17", self.children_12_17),
            ("Parties with support needs", self.parties_with_needs),
            ("Parties declined entry or failing security", self.turned_away),
            ("Welfare support offered", self.welfare_offered),
            ("Enquiries", self.enquiries),
            ("Enquiries signposted", self.enquiries_signposted),
            ("Compliments", self.compliments),
            ("Complaints", self.complaints),
            ("Suggestions", self.suggestions),
            ("Family days", self.family_days),
            ("Family forums", self.family_forums),
            ("Event attendance: adults", self.event_adults),
            ("Event attendance: children", self.event_children),
            ("Event attendance", self.event_adults + self.event_children),
        ]
    }

    fn plus(mut self, other: &Tally) -> Tally {
        let pairs = [
            (&mut self.sessions_held, other.sessions_held),
            (&mut self.sessions_cancelled, other.sessions_cancelled),
            (&mut self.parties, other.parties),
            (&mut self.first_time_parties, other.first_time_parties),
            (&mut self.adults, other.adults),
            (&mut self.children_0_1, other.children_0_1),
            (&mut self.children_2, other.children_2),
            (&mut self.children_3_4, other.children_3_4),
            (&mut self.children_5_11, other.children_5_11),
            (&mut self.children_12_17, other.children_12_17),
            (&mut self.parties_with_needs, other.parties_with_needs),
            (&mut self.turned_away, other.turned_away),
            (&mut self.welfare_offered, other.welfare_offered),
            (&mut self.enquiries, other.enquiries),
            (&mut self.enquiries_signposted, other.enquiries_signposted),
            (&mut self.compliments, other.compliments),
            (&mut self.complaints, other.complaints),
            (&mut self.suggestions, other.suggestions),
            (&mut self.family_days, other.family_days),
            (&mut self.family_forums, other.family_forums),
            (&mut self.event_adults, other.event_adults),
            (&mut self.event_children, other.event_children),
        ];
        for (mine, theirs) in pairs {
            *mine += theirs;
        }
        self
    }
}

/// One record as a report reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRecord {
    pub centre_id: Uuid,
    pub entity: String,
    pub payload: serde_json::Value,
}

/// A month's figures for every centre, in the order the centres were given, and their sum.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthReport {
    pub month: Month,
    pub centres: Vec<(Uuid, String, Tally)>,
    pub total: Tally,
}

impl MonthReport {
    /// Counts `records` (the month's, from [`crate::Storage::report_records`]) for each of
    /// `centres` (`(id, name)`); records of a centre not listed count nowhere.
    pub fn build(month: Month, centres: &[(Uuid, String)], records: &[ReportRecord]) -> MonthReport {
        let mut tallies: Vec<(Uuid, String, Tally)> =
            centres.iter().map(|(id, name)| (*id, name.clone(), Tally::default())).collect();
        let index: std::collections::HashMap<Uuid, usize> =
            tallies.iter().enumerate().map(|(i, (id, _, _))| (*id, i)).collect();
        for r in records {
            if let Some(&i) = index.get(&r.centre_id) {
                tallies[i].2.add(&r.entity, &r.payload);
            }
        }
        let total = tallies.iter().fold(Tally::default(), |sum, (_, _, t)| sum.plus(t));
        MonthReport { month, centres: tallies, total }
    }

    /// The report as CSV: a row per figure, a column per centre, then the total.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let csv_error = |e: csv::Error| Error::Database(format!("the report could not be written as CSV: {e}"));
        let mut header = vec![format!("{} ({})", self.month.title(), self.month)];
        header.extend(self.centres.iter().map(|(_, name, _)| pops_domain::labels::spreadsheet_safe(name)));
        header.push("All centres".into());
        w.write_record(&header).map_err(csv_error)?;
        let rows: Vec<[(&str, i64); 25]> = self.centres.iter().map(|(_, _, t)| t.figures()).collect();
        for (i, (label, total)) in self.total.figures().iter().enumerate() {
            let mut row = vec![label.to_string()];
            row.extend(rows.iter().map(|figures| figures[i].1.to_string()));
            row.push(total.to_string());
            w.write_record(&row).map_err(csv_error)?;
        }
        w.into_inner().map_err(|e| Error::Database(format!("the report could not be written as CSV: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_party_counts_on_the_london_day_it_arrived() {
        // 23:30 UTC on 31 May is 00:30 on 1 June in London (BST).
        let p = json!({"arrived_at": "2026-05-31T23:30:00Z"});
        assert_eq!(report_day(entity::CHECK_IN, &p).as_deref(), Some("2026-06-01"));
        let p = json!({"arrived_at": "2026-12-31T23:30:00Z"});
        assert_eq!(report_day(entity::CHECK_IN, &p).as_deref(), Some("2026-12-31"));
        assert_eq!(report_day(entity::VISITS_SESSION, &json!({"date": "2026-11-03"})).as_deref(), Some("2026-11-03"));
        assert_eq!(report_day(entity::VISITS_SESSION, &json!({"date": "3 Nov"})), None);
        assert_eq!(report_day(entity::FAMILY, &json!({"date": "2026-11-03"})), None);
        assert_eq!(report_day(entity::ENQUIRY, &json!({})), None);
    }

    #[test]
    fn a_payload_given_as_text_has_the_same_report_day_as_its_value() {
        let cases = [
            (entity::CHECK_IN, r#"{"arrived_at": "2026-05-31T23:30:00Z", "lead_name": "x"}"#),
            (entity::CHECK_IN, r#"{"arrived_at": 7}"#),
            (entity::CHECK_IN, r#"{"arrived_at": "2026-05-31T23:30:00Z", "arrived_at": "2026-01-01T10:00:00Z"}"#),
            (entity::VISITS_SESSION, r#"{"nested": {"date": "2026-01-01"}, "date": "2026-11-03"}"#),
            (entity::VISITS_SESSION, r#"{"date": "3 Nov"}"#),
            (entity::CENTRE_EVENT, r#"{"date": "2026-11-03"}"#),
            (entity::FEEDBACK, r#"{"received_at": "2026-11-03T09:00:00Z"}"#),
            (entity::ENQUIRY, "{}"),
            (entity::ENQUIRY, "[]"),
            (entity::FAMILY, r#"{"date": "2026-11-03"}"#),
        ];
        for (entity, text) in cases {
            let value: serde_json::Value = serde_json::from_str(text).expect("JSON");
            assert_eq!(report_day_of_text(entity, text), report_day(entity, &value), "{entity} {text}");
        }
        let twice = r#"{"arrived_at": "2026-05-31T23:30:00Z", "arrived_at": "2026-01-01T10:00:00Z"}"#;
        assert_eq!(report_day_of_text(entity::CHECK_IN, twice).as_deref(), Some("2026-01-01"));
    }

    #[test]
    fn months_read_as_head_office_types_them() {
        let m = Month::parse(" 2026-02 ").expect("a month");
        assert_eq!((m.first_day().to_string(), m.last_day().to_string()), ("2026-02-01".into(), "2026-02-28".into()));
        assert_eq!(Month::parse("2026-12").expect("a month").next().to_string(), "2027-01");
        assert_eq!(Month::parse("2026-01").expect("a month").previous().to_string(), "2025-12");
        assert_eq!(Month::parse("2026-11").expect("a month").title(), "November 2026");
        for bad in ["", "2026", "2026-13", "2026-00", "26-11", "2026-1", "November", "1999-12", "2026-11-01"] {
            let e = Month::parse(bad).expect_err(bad).to_string();
            assert!(e.contains("month"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_csv_report_defuses_a_centre_name_a_spreadsheet_would_run() {
        let a = Uuid::now_v7();
        let m = Month::parse("2026-11").expect("a month");
        let r = MonthReport::build(m, &[(a, "=HYPERLINK(\"x\")".into())], &[]);
        let text = String::from_utf8(r.to_csv().expect("csv")).expect("utf-8");
        assert!(text.starts_with("November 2026 (2026-11),\"'=HYPERLINK(\"\"x\"\")\",All centres\n"), "{text}");
        assert_eq!(text.lines().count(), 26);
    }
}
