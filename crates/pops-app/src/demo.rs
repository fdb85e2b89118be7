//! The training centre: `pops-centre demo --data-dir DIR` builds a centre with an account for each
//! role and a few weeks of made-up visits, so new volunteers can practise on data that is not real.

use crate::api::ErrorKind;
use crate::error::{Error, Result};
use crate::{App, Config};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::London;
use pops_domain::Role;
use pops_domain::account::AddAccountInput;
use pops_domain::centre::{Prison, SetUpCentreInput};
use pops_domain::visits::{AgeBands, PartyArrival, Slot};
use pops_store::keyslots::KeySlots;
use pops_store::{DATABASE_FILE, Store, visits};
use std::path::Path;

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
    for back in (1..=days).rev() {
        let date = today_london - Duration::days(back);
        let weekday = date.format("%a").to_string();
        if weekday == "Mon" {
            continue; // no visits on Mondays at the training prison
        }
        let mut slots_today = vec![(Slot::Afternoon, 13 * 60)];
        if weekday == "Sat" || weekday == "Sun" {
            slots_today.insert(0, (Slot::Morning, 9 * 60));
        }
        for (slot, start) in slots_today {
            let opener = ids[usize::try_from(dice.below(ids.len() as u64)).unwrap_or(0)];
            let Some(opened_at) = london(date, start - 45) else { continue };
            let date_text = date.format("%Y-%m-%d").to_string();
            let session = store.write(Some(opener), opened_at, |w| visits::open_session(w, &date_text, slot))?;
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
                let party = PartyArrival {
                    session_id: session.id,
                    adults: i32::try_from(adults).unwrap_or(1),
                    children,
                    first_time: dice.chance(15),
                    lead_name,
                };
                let desk = ids[usize::try_from(dice.below(ids.len() as u64)).unwrap_or(0)];
                let record = store.write(Some(desk), arrived, |w| visits::check_in(w, &party))?;
                let left = arrived + Duration::minutes(100 + dice.below(60));
                store.write(Some(desk), left, |w| visits::check_out(w, record.id))?;
                parties += 1;
            }
        }
    }
    Ok(DemoSummary { recovery_code: set_up.recovery_code, days, sessions, parties })
}
