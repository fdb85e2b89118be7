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

/// Whether a visits session is an open visit (families at tables in the hall) or a closed one
/// (behind a screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    Open,
    Closed,
}

impl VisitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VisitKind::Open => "open",
            VisitKind::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<VisitKind> {
        [VisitKind::Open, VisitKind::Closed].into_iter().find(|k| k.as_str() == s)
    }
}

pub const SESSION_NAME_MAX_CHARS: usize = 40;
pub const REASON_MAX_CHARS: usize = 200;
/// The longest free-text note anywhere at the desk.
pub const NOTE_MAX_CHARS: usize = 2000;

/// A visits session the centre runs every week on one weekday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SessionTemplate {
    pub id: Uuid,
    /// ISO weekday: 1 is Monday, 7 is Sunday.
    pub weekday: u8,
    pub name: String,
    /// `HH:MM`, Europe/London.
    pub starts_at: String,
    pub ends_at: String,
    pub kind: VisitKind,
    /// RFC 3339 when the centre stopped running it; retired templates make no more sessions.
    pub retired_at: Option<String>,
}

/// A session's name, times and kind, as typed (for a template, or a session added by hand).
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SessionTimesInput {
    pub name: String,
    pub starts_at: String,
    pub ends_at: String,
    pub kind: Option<VisitKind>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct SaveSessionTemplateInput {
    /// `None` adds a new template.
    pub template_id: Option<Uuid>,
    pub weekday: Option<u8>,
    pub times: SessionTimesInput,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct RetireSessionTemplateInput {
    pub template_id: Uuid,
}

/// Name, times and kind after checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTimes {
    pub name: String,
    pub starts_at: String,
    pub ends_at: String,
    pub kind: VisitKind,
}

/// Reads `HH:MM` (or `H:MM`, `HHMM`) as minutes after midnight.
pub fn parse_clock(s: &str) -> Option<u32> {
    let s = s.trim();
    let (h, m) = match s.split_once(':').or_else(|| s.split_once('.')) {
        Some((h, m)) => (h, m),
        None if s.len() == 4 && s.chars().all(|c| c.is_ascii_digit()) => s.split_at(2),
        None => return None,
    };
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

pub fn format_clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

pub fn check_session_times(p: &mut Problems, input: &SessionTimesInput) -> Option<SessionTimes> {
    let name = clean_text(p, "name", "The session's name", &input.name, SESSION_NAME_MAX_CHARS);
    if name.is_none() && input.name.trim().is_empty() {
        p.add("name", "Enter a name for the session, for example Afternoon visits");
    }
    let starts = parse_clock(&input.starts_at);
    if starts.is_none() {
        p.add("starts_at", "Enter the start time as hours and minutes, for example 14:00");
    }
    let ends = parse_clock(&input.ends_at);
    if ends.is_none() {
        p.add("ends_at", "Enter the end time as hours and minutes, for example 16:00");
    }
    if let (Some(s), Some(e)) = (starts, ends)
        && e <= s
    {
        p.add("ends_at", "The session must end after it starts");
    }
    if input.kind.is_none() {
        p.add("kind", "Choose open or closed visits");
    }
    Some(SessionTimes {
        name: name?,
        starts_at: format_clock(starts?),
        ends_at: format_clock(ends?),
        kind: input.kind?,
    })
}

pub fn check_template(input: &SaveSessionTemplateInput) -> Result<(u8, SessionTimes), Invalid> {
    let mut p = Problems::new();
    match input.weekday {
        Some(1..=7) => {}
        _ => p.add("weekday", "Choose the day of the week"),
    }
    let times = check_session_times(&mut p, &input.times);
    p.finish()?;
    match (input.weekday, times) {
        (Some(d), Some(t)) => Ok((d, t)),
        _ => Err(Invalid::one("weekday", "Choose the day of the week")),
    }
}

pub fn weekday_label(day: u8) -> &'static str {
    match day {
        1 => "Monday",
        2 => "Tuesday",
        3 => "Wednesday",
        4 => "Thursday",
        5 => "Friday",
        6 => "Saturday",
        _ => "Sunday",
    }
}

/// The sessions a new centre starts with; the manager changes them in Settings.
pub fn default_templates() -> Vec<(u8, SessionTimes)> {
    let t = |name: &str, s: &str, e: &str| SessionTimes {
        name: name.into(),
        starts_at: s.into(),
        ends_at: e.into(),
        kind: VisitKind::Open,
    };
    let mut out = Vec::new();
    for day in 1..=5 {
        out.push((day, t("Afternoon visits", "14:00", "16:00")));
    }
    for day in 6..=7 {
        out.push((day, t("Morning visits", "09:30", "11:30")));
        out.push((day, t("Afternoon visits", "14:00", "16:00")));
    }
    out
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
    pub name: String,
    /// `HH:MM`, Europe/London.
    pub starts_at: String,
    pub ends_at: String,
    pub kind: VisitKind,
    /// The weekly template it came from; `None` when added by hand.
    pub template_id: Option<Uuid>,
    /// RFC 3339, UTC.
    pub opened_at: String,
    pub opened_by: Uuid,
    pub cancelled_at: Option<String>,
    pub cancelled_by: Option<Uuid>,
    pub cancel_reason: Option<String>,
}

/// A session added by hand for today.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct AddVisitsSessionInput {
    pub times: SessionTimesInput,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct CancelVisitsSessionInput {
    pub session_id: Uuid,
    #[serde(default)]
    pub reason: String,
}

pub fn check_cancel(input: &CancelVisitsSessionInput) -> Result<String, Invalid> {
    let mut p = Problems::new();
    let reason = clean_text(&mut p, "reason", "The reason", &input.reason, REASON_MAX_CHARS);
    if reason.is_none() && input.reason.trim().is_empty() {
        p.add("reason", "Say why the session is cancelled, for example Prison lockdown");
    }
    p.finish()?;
    reason.ok_or_else(|| Invalid::one("reason", "Say why the session is cancelled"))
}

/// Support a party needs, noticed at the desk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct SupportNeeds {
    pub induction_loop: bool,
    pub bsl_interpreter: bool,
    pub step_free_access: bool,
    pub distress: bool,
    /// The language, when an interpreter is needed; empty when not.
    pub interpreter_language: String,
    /// Anything else, in the volunteer's words; empty when nothing.
    pub other: String,
}

/// Help the desk gave a party.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct HelpGiven {
    pub information: bool,
    pub locker: bool,
    pub walkthrough: bool,
    /// Where the family was signposted; empty when nowhere.
    pub signposted_to: String,
}

pub const SHORT_TEXT_MAX_CHARS: usize = 100;

fn check_needs(p: &mut Problems, n: &SupportNeeds) -> SupportNeeds {
    let lang = clean_text(p, "needs.interpreter_language", "The language", &n.interpreter_language, 60);
    let other = clean_text(p, "needs.other", "Other needs", &n.other, REASON_MAX_CHARS);
    SupportNeeds { interpreter_language: lang.unwrap_or_default(), other: other.unwrap_or_default(), ..n.clone() }
}

fn check_help(p: &mut Problems, h: &HelpGiven) -> HelpGiven {
    let to = clean_text(p, "help.signposted_to", "Signposted to", &h.signposted_to, SHORT_TEXT_MAX_CHARS);
    HelpGiven { signposted_to: to.unwrap_or_default(), ..h.clone() }
}

/// How a party's visit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum VisitOutcome {
    Visited,
    DidNotGoIn,
    DeclinedEntry,
    FailedSecurity,
    CancelledByPrison,
}

impl VisitOutcome {
    pub const ALL: [VisitOutcome; 5] = [
        VisitOutcome::Visited,
        VisitOutcome::DidNotGoIn,
        VisitOutcome::DeclinedEntry,
        VisitOutcome::FailedSecurity,
        VisitOutcome::CancelledByPrison,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            VisitOutcome::Visited => "visited",
            VisitOutcome::DidNotGoIn => "did_not_go_in",
            VisitOutcome::DeclinedEntry => "declined_entry",
            VisitOutcome::FailedSecurity => "failed_security",
            VisitOutcome::CancelledByPrison => "cancelled_by_prison",
        }
    }
    pub fn parse(s: &str) -> Option<VisitOutcome> {
        VisitOutcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
    /// Outcomes after which the volunteer must offer welfare support, and record whether they did.
    pub fn needs_welfare_offer(self) -> bool {
        matches!(self, VisitOutcome::DeclinedEntry | VisitOutcome::FailedSecurity)
    }
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct RecordVisitOutcomeInput {
    pub check_in_id: Uuid,
    pub outcome: Option<VisitOutcome>,
    /// Required when the outcome is declined entry or failed security checks.
    pub welfare_offered: Option<bool>,
}

pub fn check_outcome(input: &RecordVisitOutcomeInput) -> Result<(VisitOutcome, Option<bool>), Invalid> {
    let Some(outcome) = input.outcome else {
        return Err(Invalid::one("outcome", "Choose how the visit ended"));
    };
    if outcome.needs_welfare_offer() {
        match input.welfare_offered {
            Some(w) => Ok((outcome, Some(w))),
            None => Err(Invalid::one(
                "welfare_offered",
                "Offer the family welfare support (a drink, a quiet room, someone to talk to), then say whether it was offered",
            )),
        }
    } else {
        Ok((outcome, None))
    }
}

/// Ticks on the first-visit walkthrough for one party: the ids of the items gone through.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct TickWalkthroughInput {
    pub check_in_id: Uuid,
    pub ticked: Vec<Uuid>,
}

/// One item of the centre's first-visit walkthrough.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WalkthroughItem {
    pub id: Uuid,
    pub label: String,
}

pub const WALKTHROUGH_DEFAULTS: [&str; 8] = [
    "Photo ID and what to bring",
    "Lockers and what cannot go in",
    "Dress code",
    "What happens in the visits hall",
    "The play area",
    "The café and tea bar",
    "Support available from POPS",
    "How to give feedback",
];

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
    #[serde(default)]
    pub needs: SupportNeeds,
    #[serde(default)]
    pub help: HelpGiven,
    /// The family on record this party is, when the desk found them.
    #[serde(default)]
    pub family_id: Option<Uuid>,
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
    pub needs: SupportNeeds,
    pub help: HelpGiven,
    pub outcome: Option<VisitOutcome>,
    pub welfare_offered: Option<bool>,
    /// Walkthrough items gone through with this (first-time) party.
    pub walkthrough: Vec<Uuid>,
    /// The family on record that this party is, when the desk has linked one.
    #[serde(default)]
    pub family_id: Option<Uuid>,
}

/// A check-in as a list shows it: the record's fields and where its latest change to head office
/// has got to (`None` only for a record with no change, which the store never makes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CheckInRow {
    #[serde(flatten)]
    pub record: CheckIn,
    /// Where the check-in's latest change to head office has got to.
    pub sync_state: Option<crate::sync::RecordState>,
}

/// A check-in after its input was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyArrival {
    pub session_id: Uuid,
    pub adults: i32,
    pub children: AgeBands,
    pub first_time: bool,
    pub lead_name: Option<String>,
    pub needs: SupportNeeds,
    pub help: HelpGiven,
    pub family_id: Option<Uuid>,
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
    let needs = check_needs(&mut p, &input.needs);
    let help = check_help(&mut p, &input.help);
    p.finish()?;
    let session_id = input.session_id.ok_or_else(|| Invalid::one("session_id", "Open today's visits session first"))?;
    Ok(PartyArrival {
        session_id,
        adults: input.adults,
        children: input.children,
        first_time: input.first_time,
        lead_name,
        needs,
        help,
        family_id: input.family_id,
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
    pub left_parties: i32,
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
        } else {
            self.left_parties += 1;
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
    pub on_site: Vec<CheckInRow>,
    /// Parties that have left today, most recent departure first.
    pub left: Vec<CheckInRow>,
    pub counts: VisitCounts,
    /// Enquiries logged today, newest first.
    pub enquiries: Vec<crate::desk::EnquiryRow>,
    /// Feedback received today.
    pub feedback_received: i32,
    /// The centre's first-visit walkthrough.
    pub walkthrough: Vec<WalkthroughItem>,
    /// The roll-call in progress, if any.
    pub roll_call: Option<RollCall>,
}

/// A roll-call from the fire list: the parties on site when it started, and those accounted for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RollCall {
    pub id: Uuid,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub started_by: Uuid,
    pub finished_at: Option<String>,
    /// Check-in ids of the parties on site at the start.
    pub parties: Vec<Uuid>,
    pub accounted: Vec<Uuid>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct MarkRollCallInput {
    pub roll_call_id: Uuid,
    pub check_in_id: Uuid,
    pub accounted: bool,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct FinishRollCallInput {
    pub roll_call_id: Uuid,
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
            needs: SupportNeeds::default(),
            help: HelpGiven::default(),
            family_id: None,
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
    fn clock_times_are_read_leniently_and_checked() {
        assert_eq!(parse_clock("14:00"), Some(840));
        assert_eq!(parse_clock("9:30"), Some(570));
        assert_eq!(parse_clock("0930"), Some(570));
        assert_eq!(parse_clock("24:00"), None);
        assert_eq!(parse_clock("noon"), None);
        let mut p = Problems::new();
        let t = check_session_times(
            &mut p,
            &SessionTimesInput { name: "Late".into(), starts_at: "16:00".into(), ends_at: "15:00".into(), kind: None },
        );
        assert!(t.is_none());
        assert_eq!(fields(p.finish().unwrap_err()), ["ends_at", "kind"]);
    }

    #[test]
    fn declined_entry_needs_the_welfare_offer_recorded() {
        let i = RecordVisitOutcomeInput {
            check_in_id: Uuid::nil(),
            outcome: Some(VisitOutcome::DeclinedEntry),
            welfare_offered: None,
        };
        assert_eq!(fields(check_outcome(&i).unwrap_err()), ["welfare_offered"]);
        let i = RecordVisitOutcomeInput { welfare_offered: Some(true), ..i };
        assert_eq!(check_outcome(&i).unwrap(), (VisitOutcome::DeclinedEntry, Some(true)));
        let i = RecordVisitOutcomeInput { outcome: Some(VisitOutcome::Visited), ..i };
        assert_eq!(check_outcome(&i).unwrap(), (VisitOutcome::Visited, None));
    }

    #[test]
    fn no_session_is_refused() {
        let mut i = input(1, AgeBands::default());
        i.session_id = None;
        assert_eq!(fields(check_party(&i).unwrap_err()), ["session_id"]);
    }
}
