//! Visits at the front desk: the day's visits sessions, parties checked in and out, and the counts.

use crate::error::{Invalid, Problems, clean_text};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

/// Most adults one party may bring (a coach party is several parties).
pub const MAX_ADULTS: i32 = 12;
/// Most children one party may bring, across all age bands.
pub const MAX_CHILDREN: i32 = 15;
pub const LEAD_NAME_MAX_CHARS: usize = 80;

/// The slot of a visits session in the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    Morning,
    Afternoon,
    Evening,
}

impl Slot {
    pub const ALL: [Slot; 3] = [Slot::Morning, Slot::Afternoon, Slot::Evening];
    pub fn as_str(self) -> &'static str {
        match self {
            Slot::Morning => "morning",
            Slot::Afternoon => "afternoon",
            Slot::Evening => "evening",
        }
    }
    pub fn parse(s: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Children in a party, by age band.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AgeBands {
    pub age_0_1: i32,
    pub age_2: i32,
    pub age_3_4: i32,
    pub age_5_11: i32,
    pub age_12_17: i32,
}

impl AgeBands {
    pub fn total(&self) -> i32 {
        self.age_0_1 + self.age_2 + self.age_3_4 + self.age_5_11 + self.age_12_17
    }
    /// The bands with their field names and labels, in order.
    pub fn bands(&self) -> [(&'static str, &'static str, i32); 5] {
        [
            ("age_0_1", "Under 2", self.age_0_1),
            ("age_2", "Aged 2", self.age_2),
            ("age_3_4", "Aged 3 to 4", self.age_3_4),
            ("age_5_11", "Aged 5 to 11", self.age_5_11),
            ("age_12_17", "Aged 12 to 17", self.age_12_17),
        ]
    }
}

/// One visits session on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct VisitsSession {
    pub id: Uuid,
    /// The day in Europe/London, `YYYY-MM-DD`.
    pub date: String,
    pub slot: Slot,
    /// RFC 3339, UTC.
    pub opened_at: String,
    pub opened_by: Uuid,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct OpenVisitsSessionInput {
    pub slot: Option<Slot>,
}

/// A party arriving at the desk. Anonymous unless a lead name is given.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct CheckInPartyInput {
    pub session_id: Option<Uuid>,
    pub adults: i32,
    pub children: AgeBands,
    pub first_time: bool,
    /// Optional; most families give no name.
    #[serde(default)]
    pub lead_name: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct CheckOutPartyInput {
    pub check_in_id: Uuid,
}

/// One party's check-in record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CheckIn {
    pub id: Uuid,
    pub session_id: Uuid,
    pub adults: i32,
    pub children: AgeBands,
    pub first_time: bool,
    pub lead_name: Option<String>,
    /// RFC 3339, UTC.
    pub arrived_at: String,
    pub left_at: Option<String>,
    pub checked_in_by: Uuid,
    pub checked_out_by: Option<Uuid>,
}

/// A check-in after its input was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyArrival {
    pub session_id: Uuid,
    pub adults: i32,
    pub children: AgeBands,
    pub first_time: bool,
    pub lead_name: Option<String>,
}

pub fn check_party(input: &CheckInPartyInput) -> Result<PartyArrival, Invalid> {
    let mut p = Problems::new();
    if input.session_id.is_none() {
        p.add("session_id", "Open today's visits session before checking families in");
    }
    if input.adults < 0 {
        p.add("adults", "The number of adults cannot be less than 0");
    } else if input.adults > MAX_ADULTS {
        p.add(
            "adults",
            format!("A party can have at most {MAX_ADULTS} adults: check in a larger group as separate parties"),
        );
    }
    let mut bands_ok = true;
    for (field, label, n) in input.children.bands() {
        if n < 0 {
            p.add(&format!("children.{field}"), format!("{label}: the number cannot be less than 0"));
            bands_ok = false;
        } else if n > MAX_CHILDREN {
            p.add(&format!("children.{field}"), format!("{label}: a party can have at most {MAX_CHILDREN} children"));
            bands_ok = false;
        }
    }
    let children = input.children.total();
    if bands_ok && children > MAX_CHILDREN {
        p.add(
            "children",
            format!(
                "A party can have at most {MAX_CHILDREN} children in all: check in a larger group as separate parties"
            ),
        );
    }
    if input.adults == 0 && children == 0 {
        p.add("adults", "Enter the number of people in the party: at least 1 adult or child");
    }
    let lead_name = clean_text(&mut p, "lead_name", "The lead visitor's name", &input.lead_name, LEAD_NAME_MAX_CHARS);
    p.finish()?;
    let session_id = input.session_id.ok_or_else(|| Invalid::one("session_id", "Open today's visits session first"))?;
    Ok(PartyArrival {
        session_id,
        adults: input.adults,
        children: input.children,
        first_time: input.first_time,
        lead_name,
    })
}

/// Counts for one session or a whole day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
pub struct VisitCounts {
    pub parties: i32,
    pub adults: i32,
    pub children: i32,
    pub first_time_parties: i32,
    pub on_site_parties: i32,
    pub on_site_people: i32,
}

impl VisitCounts {
    pub fn add(&mut self, c: &CheckIn) {
        let people = c.adults + c.children.total();
        self.parties += 1;
        self.adults += c.adults;
        self.children += c.children.total();
        self.first_time_parties += i32::from(c.first_time);
        if c.left_at.is_none() {
            self.on_site_parties += 1;
            self.on_site_people += people;
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SessionSummary {
    pub session: VisitsSession,
    pub counts: VisitCounts,
}

/// Everything the Today screen shows.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TodayView {
    /// The day in Europe/London, `YYYY-MM-DD`.
    pub date: String,
    /// Newest first.
    pub sessions: Vec<SessionSummary>,
    /// Parties on site now, newest arrival first.
    pub on_site: Vec<CheckIn>,
    /// Parties that have left today, most recent departure first.
    pub left: Vec<CheckIn>,
    pub counts: VisitCounts,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(adults: i32, children: AgeBands) -> CheckInPartyInput {
        CheckInPartyInput {
            session_id: Some(Uuid::nil()),
            adults,
            children,
            first_time: true,
            lead_name: String::new(),
        }
    }

    fn fields(e: Invalid) -> Vec<String> {
        e.0.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_party_needs_someone() {
        let e = check_party(&input(0, AgeBands::default())).unwrap_err();
        assert_eq!(fields(e), ["adults"]);
    }

    #[test]
    fn children_alone_are_a_party() {
        let p = check_party(&input(0, AgeBands { age_12_17: 2, ..Default::default() })).unwrap();
        assert_eq!(p.children.total(), 2);
        assert_eq!(p.lead_name, None);
    }

    #[test]
    fn absurd_and_negative_counts_are_refused() {
        let e = check_party(&input(-1, AgeBands { age_5_11: 40, ..Default::default() })).unwrap_err();
        assert_eq!(fields(e), ["adults", "children.age_5_11"]);
        let e = check_party(&input(1, AgeBands { age_5_11: 10, age_2: 10, ..Default::default() })).unwrap_err();
        assert_eq!(fields(e), ["children"]);
    }

    #[test]
    fn over_long_lead_name_is_refused() {
        let mut i = input(1, AgeBands::default());
        i.lead_name = "a".repeat(81);
        assert_eq!(fields(check_party(&i).unwrap_err()), ["lead_name"]);
        i.lead_name = "  مريم  ".into();
        assert_eq!(check_party(&i).unwrap().lead_name.as_deref(), Some("مريم"));
    }

    #[test]
    fn no_session_is_refused() {
        let mut i = input(1, AgeBands::default());
        i.session_id = None;
        assert_eq!(fields(check_party(&i).unwrap_err()), ["session_id"]);
    }
}
