//! The training centre: `pops-centre demo --data-dir DIR` builds a centre with an account for each
//! role and a few weeks of made-up visits, so new volunteers can practise on data that is not real.

use crate::api::ErrorKind;
use crate::error::{Error, Result};
use crate::{App, Config};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::London;
use pops_domain::Role;
use pops_domain::account::AddAccountInput;
use pops_domain::centre::{Prison, SetUpCentreInput};
use pops_domain::desk::{
    CentreEvent, Enquiry, EnquiryResolution, EnquiryTopic, EventKind, Feedback, FeedbackChannel, FeedbackKind,
    FeedbackStatus,
};
use pops_domain::visits::{self as visits_domain, AgeBands, HelpGiven, PartyArrival, SupportNeeds, VisitOutcome};
use pops_store::keyslots::KeySlots;
use pops_store::{DATABASE_FILE, Store, centre as centre_store, desk, visits};
use std::path::Path;
use uuid::Uuid;

/// One training account.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub role: Role,
    pub username: &'static str,
    pub display_name: &'static str,
    pub passphrase: &'static str,
    pub pin: &'static str,
}

pub const ACCOUNTS: [DemoAccount; 4] = [
    DemoAccount {
        role: Role::Manager,
        username: "manager",
        display_name: "Morgan Training",
        passphrase: "training manager pass",
        pin: "246810",
    },
    DemoAccount {
        role: Role::Volunteer,
        username: "volunteer",
        display_name: "Val Training",
        passphrase: "training volunteer pass",
        pin: "135790",
    },
    DemoAccount {
        role: Role::EarlyYears,
        username: "earlyyears",
        display_name: "Eli Training",
        passphrase: "training early years",
        pin: "975310",
    },
    DemoAccount {
        role: Role::Coordinator,
        username: "coordinator",
        display_name: "Cam Training",
        passphrase: "training coordinator",
        pin: "864200",
    },
];

/// What was built.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub recovery_code: String,
    pub days: i64,
    pub sessions: i64,
    pub parties: i64,
}

/// A small deterministic generator: the same training centre every time.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> i64 {
        i64::try_from(self.next() % n.max(1)).unwrap_or(0)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const FEEDBACK: [&str; 4] = [
    "The volunteers made my first visit much less frightening. Thank you.",
    "We waited 40 minutes outside in the rain before the doors opened.",
    "The play area is lovely, my son did not want to leave!",
    "Could the café have something halal and hot on Saturdays?",
];

const FAMILY_NAMES: [&str; 8] = [
    "Practice Family One",
    "Practice Family Two",
    "Sample Household",
    "Training Visitor",
    "Example Family",
    "Demo Party",
    "Test Family North",
    "Test Family South",
];

fn london(date: NaiveDate, minutes_after_midnight: i64) -> Option<DateTime<Utc>> {
    let t = NaiveTime::from_hms_opt(0, 0, 0)? + Duration::minutes(minutes_after_midnight);
    London.from_local_datetime(&date.and_time(t)).earliest().map(|t| t.with_timezone(&Utc))
}

/// Builds the training centre in `dir`, which must not hold a centre yet. `today` is the day the
/// history ends (it is not included: today's session is left for the trainee to open).
pub fn build(dir: &Path, today: DateTime<Utc>, weeks: i64) -> Result<DemoSummary> {
    let app = App::start(Config::new(dir))?;
    let m = &ACCOUNTS[0];
    let set_up = app.set_up_centre(SetUpCentreInput {
        centre_name: "Training Visitor Centre".into(),
        prison: Some(Prison::Liverpool),
        display_name: m.display_name.into(),
        username: m.username.into(),
        passphrase: m.passphrase.into(),
        passphrase_confirm: m.passphrase.into(),
        pin: m.pin.into(),
    })?;
    let mut ids = vec![];
    for a in &ACCOUNTS[1..] {
        let account = app.add_account(AddAccountInput {
            display_name: a.display_name.into(),
            username: a.username.into(),
            role: Some(a.role),
            passphrase: a.passphrase.into(),
            passphrase_confirm: a.passphrase.into(),
            pin: a.pin.into(),
        })?;
        ids.push(account.id);
    }
    let manager_id = set_up
        .state
        .user
        .as_ref()
        .map(|u| u.account_id)
        .ok_or_else(|| Error::new(ErrorKind::Internal, "no manager after set-up"))?;
    ids.push(manager_id);
    app.sign_out()?;
    drop(app);

    // Write the history straight through the store, with each record stamped at its own time.
    let slots = KeySlots::load(dir)?.ok_or_else(|| Error::new(ErrorKind::Internal, "no key slots after set-up"))?;
    let (_, key) = slots
        .open_with_passphrase(m.username, m.passphrase)?
        .ok_or_else(|| Error::new(ErrorKind::Internal, "the training manager cannot open the training centre"))?;
    let mut store = Store::open(&dir.join(DATABASE_FILE), &key)?;
    let mut dice = Dice(0x5EED_CAFE_F00D_1234);
    let today_london = today.with_timezone(&London).date_naive();
    let (mut sessions, mut parties) = (0, 0);
    let days = weeks * 7;
    let walkthrough = store.read(centre_store::settings)?.walkthrough;
    for back in (1..=days).rev() {
        let date = today_london - Duration::days(back);
        let date_text = date.format("%Y-%m-%d").to_string();
        let weekday = u8::try_from(date.weekday().number_from_monday()).unwrap_or(1);
        let opener = ids[usize::try_from(dice.below(ids.len() as u64)).unwrap_or(0)];
        let Some(morning) = london(date, 8 * 60) else { continue };
        store.write(Some(opener), morning, |w| visits::sessions_from_templates(w, &date_text, weekday))?;
        let day = store.read(|c| visits::day(c, &date_text))?;
        for summary in day.sessions {
            let session = summary.session;
            let Some(start) = visits_domain::parse_clock(&session.starts_at) else { continue };
            let start = i64::from(start);
            sessions += 1;
            let n = 6 + dice.below(15);
            for i in 0..n {
                let Some(arrived) = london(date, start - 40 + i * 40 / n + dice.below(5)) else { continue };
                let adults = 1 + dice.below(3) - i64::from(dice.chance(5));
                let mut children = AgeBands::default();
                for _ in 0..dice.below(4) {
                    match dice.below(5) {
                        0 => children.age_0_1 += 1,
                        1 => children.age_2 += 1,
                        2 => children.age_3_4 += 1,
                        3 => children.age_5_11 += 1,
                        _ => children.age_12_17 += 1,
                    }
                }
                let adults = if adults == 0 && children.total() == 0 { 1 } else { adults };
                let lead_name = dice.chance(12).then(|| {
                    FAMILY_NAMES[usize::try_from(dice.below(FAMILY_NAMES.len() as u64)).unwrap_or(0)].to_string()
                });
                let first_time = dice.chance(15);
                let needs = SupportNeeds {
                    distress: dice.chance(20),
                    step_free_access: dice.chance(25),
                    interpreter_language: if dice.chance(30) { "Polish".into() } else { String::new() },
                    ..Default::default()
                };
                let help = HelpGiven {
                    information: dice.chance(3),
                    locker: dice.chance(2),
                    walkthrough: first_time,
                    signposted_to: if dice.chance(40) { "Citizens Advice".into() } else { String::new() },
                };
                let party = PartyArrival {
                    session_id: session.id,
                    adults: i32::try_from(adults).unwrap_or(1),
                    children,
                    first_time,
                    lead_name,
                    needs,
                    help,
                    family_id: None,
                };
                let desk = ids[usize::try_from(dice.below(ids.len() as u64)).unwrap_or(0)];
                let record = store.write(Some(desk), arrived, |w| visits::check_in(w, &party))?;
                if first_time {
                    let ticked = walkthrough.iter().map(|i| i.id).collect();
                    store.write(Some(desk), arrived, |w| visits::set_walkthrough(w, record.id, ticked))?;
                }
                let left = arrived + Duration::minutes(100 + dice.below(60));
                let (outcome, welfare) = match dice.below(40) {
                    0 => (VisitOutcome::DeclinedEntry, Some(true)),
                    1 => (VisitOutcome::DidNotGoIn, None),
                    _ => (VisitOutcome::Visited, None),
                };
                store.write(Some(desk), left, |w| {
                    visits::record_outcome(w, record.id, outcome, welfare)?;
                    visits::check_out(w, record.id)
                })?;
                parties += 1;
            }
            if dice.chance(2) {
                let topics = EnquiryTopic::ALL;
                let e = Enquiry {
                    id: Uuid::now_v7(),
                    received_at: crate::time::rfc3339(morning),
                    topic: topics[usize::try_from(dice.below(topics.len() as u64)).unwrap_or(0)],
                    resolution: EnquiryResolution::Answered,
                    signposted_to: None,
                    note: None,
                    recorded_by: opener,
                };
                store.write(Some(opener), morning, |w| desk::log_enquiry(w, &date_text, &e))?;
            }
        }
        if dice.chance(6) {
            let f = Feedback {
                id: Uuid::now_v7(),
                received_at: crate::time::rfc3339(morning),
                kind: if dice.chance(3) { FeedbackKind::Complaint } else { FeedbackKind::Compliment },
                channel: FeedbackChannel::CommentCard,
                summary: FEEDBACK[usize::try_from(dice.below(FEEDBACK.len() as u64)).unwrap_or(0)].into(),
                status: FeedbackStatus::Open,
                recorded_by: opener,
                response: None,
                responded_by: None,
                responded_at: None,
                closed_by: None,
                closed_at: None,
            };
            store.write(Some(opener), morning, |w| desk::log_feedback(w, &date_text, &f))?;
        }
        if weekday == 6 && back < 14 && back > 7 {
            let e = CentreEvent {
                id: Uuid::now_v7(),
                date: date_text.clone(),
                kind: EventKind::FamilyDay,
                title: "Family day".into(),
                adults: 18,
                children: AgeBands { age_0_1: 2, age_2: 3, age_3_4: 5, age_5_11: 9, age_12_17: 3 },
                notes: Some("Face painting and a story corner".into()),
                recorded_by: opener,
                recorded_at: crate::time::rfc3339(morning),
            };
            store.write(Some(opener), morning, |w| desk::record_event(w, &e))?;
        }
    }
    Ok(DemoSummary { recovery_code: set_up.recovery_code, days, sessions, parties })
}
