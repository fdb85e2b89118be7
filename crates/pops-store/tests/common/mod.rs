//! What the store's tests share: a real SQLCipher file in a temporary folder, with a centre and one
//! account, so that foreign keys hold as they do in the app.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use chrono::Utc;
use pops_domain::Role;
use pops_domain::account::Account;
use pops_domain::visits::{AgeBands, HelpGiven, PartyArrival, SessionTimes, SupportNeeds, VisitKind, VisitsSession};
use pops_store::centre::CentreRecord;
use pops_store::keyslots::{KdfParams, WrappedKey};
use pops_store::{DbKey, Store, accounts, centre, visits};
use std::path::Path;
use uuid::Uuid;

pub const FAST: KdfParams = KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };

pub struct Fixture {
    pub store: Store,
    pub key: DbKey,
    pub user: Uuid,
    pub session: VisitsSession,
}

pub fn set_up(dir: &Path) -> Fixture {
    let key = DbKey::generate();
    let mut store = Store::open(&dir.join("centre.db"), &key).expect("open");
    let user = Uuid::now_v7();
    let session = store
        .write(Some(user), Utc::now(), |w| {
            centre::create(
                w,
                &CentreRecord {
                    id: Uuid::now_v7(),
                    name: "Test Visitor Centre".into(),
                    prison: "liverpool".into(),
                    device_id: Uuid::now_v7(),
                    created_at: Utc::now().to_rfc3339(),
                },
            )?;
            let account = Account {
                id: user,
                username: "manager".into(),
                display_name: "Test Manager".into(),
                role: Role::Manager,
                active: true,
                created_at: Utc::now().to_rfc3339(),
            };
            accounts::insert(w, &account, &WrappedKey::seal(&key, b"402917", b"ctx", FAST)?)?;
            visits::add_session(w, "2026-11-25", &morning())
        })
        .expect("set up");
    Fixture { store, key, user, session }
}

pub fn morning() -> SessionTimes {
    SessionTimes {
        name: "Morning visits".into(),
        starts_at: "09:30".into(),
        ends_at: "11:30".into(),
        kind: VisitKind::Open,
    }
}

pub fn party(session: Uuid, lead_name: Option<&str>) -> PartyArrival {
    PartyArrival {
        session_id: session,
        adults: 2,
        children: AgeBands { age_0_1: 1, age_5_11: 1, ..Default::default() },
        first_time: true,
        lead_name: lead_name.map(String::from),
        needs: SupportNeeds::default(),
        help: HelpGiven::default(),
        family_id: None,
    }
}

pub fn count(store: &Store, sql: &str) -> i64 {
    store.read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?)).expect("count")
}
