//! A centre's laptop as the app leaves it: set up as `set_up_centre` does (centre, manager, the
//! usual weekly templates, settings), and a busy day at the desk written through the store's own
//! write functions, the ones the app's commands call. Shared by pops-store's restore tests and
//! pops-sync's (which include this file by path), so both restore the same day.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use pops_domain::Role;
use pops_domain::account::Account;
use pops_domain::desk::{
    CentreEvent, Enquiry, EnquiryResolution, EnquiryTopic, EventKind, Feedback, FeedbackChannel, FeedbackKind,
    FeedbackStatus,
};
use pops_domain::families::{
    AgeBand, ConsentInput, ConsentMethod, ContactInput, FamilyMemberInput, PrisonerInput, Relationship, RemovalReason,
    RenewConsentInput, SaveFamilyInput, check_family, check_renewal,
};
use pops_domain::visits::{
    AgeBands, HelpGiven, PartyArrival, SessionTemplate, SessionTimes, SupportNeeds, VisitKind, VisitOutcome,
    WALKTHROUGH_DEFAULTS, WalkthroughItem, default_templates,
};
use pops_store::centre::{self, CentreRecord, Settings};
use pops_store::keyslots::{KdfParams, WrappedKey};
use pops_store::{Connection, DbKey, Store, accounts, desk, families, visits};
use uuid::Uuid;

const FAST: KdfParams = KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };

/// The busy day: Wednesday 25 November 2026 (London is on UTC then).
pub const DAY: &str = "2026-11-25";
pub const DAY_WEEKDAY: u8 = 3;

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

pub fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, hour, minute, 0).unwrap()
}

/// The lead names and family names the day removes: after the removal they must be nowhere.
pub const REMOVED_NAMES: [&str; 2] = ["Zqxjvw Pqkrstu", "Yvwbzq Pqkrstu"];
/// The removed family's other personal details.
pub const REMOVED_DETAILS: [&str; 4] = ["07700 900999", "gone@example.com", "Xylophone Terrace", "B9876QZ"];

/// What `set_up` made: the manager's account id and the centre row.
pub struct SetUp {
    pub manager: Uuid,
    pub centre: CentreRecord,
}

/// Sets a new centre database up as the app's `set_up_centre` does: the centre, its manager, the
/// usual weekly session templates and the default settings, in one write.
pub fn set_up(store: &mut Store, key: &DbKey, manager_name: &str) -> SetUp {
    let manager = Uuid::now_v7();
    let centre = CentreRecord {
        id: Uuid::now_v7(),
        name: "HMP Liverpool Visitor Centre".into(),
        prison: "liverpool".into(),
        device_id: Uuid::now_v7(),
        created_at: Utc::now().to_rfc3339(),
    };
    store
        .write(Some(manager), Utc::now(), |w| {
            centre::create(w, &centre)?;
            let account = Account {
                id: manager,
                username: "manager".into(),
                display_name: manager_name.into(),
                role: Role::Manager,
                active: true,
                created_at: Utc::now().to_rfc3339(),
            };
            accounts::insert(w, &account, &WrappedKey::seal(key, b"402917", b"ctx", FAST)?)?;
            for (weekday, t) in default_templates() {
                let template = SessionTemplate {
                    id: Uuid::now_v7(),
                    weekday,
                    name: t.name,
                    starts_at: t.starts_at,
                    ends_at: t.ends_at,
                    kind: t.kind,
                    retired_at: None,
                };
                visits::save_template(w, &template)?;
            }
            let settings = Settings {
                idle_lock_minutes: centre::DEFAULT_IDLE_LOCK_MINUTES,
                walkthrough: WALKTHROUGH_DEFAULTS
                    .iter()
                    .map(|label| WalkthroughItem { id: Uuid::now_v7(), label: (*label).into() })
                    .collect(),
                consent_months: centre::DEFAULT_CONSENT_MONTHS,
                nightly_at: centre::DEFAULT_NIGHTLY_AT.into(),
            };
            centre::save_settings(w, centre.id, &settings)
        })
        .expect("set up");
    SetUp { manager, centre }
}

/// What the busy day wrote, to look things up by afterwards.
pub struct Day {
    pub volunteer: Uuid,
    pub templates: Vec<Uuid>,
    pub sessions: Vec<Uuid>,
    pub check_ins: Vec<Uuid>,
    pub live_family: Uuid,
    pub other_family: Uuid,
    pub removed_family: Uuid,
    pub feedback: Vec<Uuid>,
    pub roll_call: Uuid,
}

fn family_input(names: &[&str], phone: &str, email: &str, address: &str, prison_number: &str) -> SaveFamilyInput {
    SaveFamilyInput {
        family_id: None,
        consent: ConsentInput {
            consent_given: true,
            given_by: names[0].into(),
            method: Some(ConsentMethod::Written),
            given_on: "2026-11-20".into(),
        },
        members: names
            .iter()
            .enumerate()
            .map(|(i, n)| FamilyMemberInput {
                member_id: None,
                name: (*n).into(),
                relationship: Some(if i == 0 { Relationship::Partner } else { Relationship::Child }),
                date_of_birth: if i == 0 { "1988-07-14".into() } else { String::new() },
                age_band: if i == 0 { None } else { Some(AgeBand::Age5To11) },
            })
            .collect(),
        contact: ContactInput { phone: phone.into(), email: email.into(), address: address.into() },
        prisoner: PrisonerInput { name: "Dan Smith".into(), prison_number: prison_number.into() },
    }
}

fn party(session: Uuid, lead: &str, first_time: bool) -> PartyArrival {
    PartyArrival {
        session_id: session,
        adults: 1,
        children: AgeBands { age_0_1: 1, age_5_11: 2, ..Default::default() },
        first_time,
        lead_name: Some(lead.into()),
        needs: SupportNeeds::default(),
        help: HelpGiven::default(),
        family_id: None,
    }
}

/// A busy day at the desk, each step written as the app's command writes it.
pub fn busy_day(store: &mut Store, key: &DbKey, manager: Uuid) -> Day {
    let volunteer = Uuid::now_v7();
    store
        .write(Some(manager), at(8, 0), |w| {
            let account = Account {
                id: volunteer,
                username: "vera".into(),
                display_name: "Vera Volunteer".into(),
                role: Role::Volunteer,
                active: true,
                created_at: at(8, 0).to_rfc3339_opts(SecondsFormat::Millis, true),
            };
            accounts::insert(w, &account, &WrappedKey::seal(key, b"918273", b"ctx", FAST)?)
        })
        .unwrap();
    // The manager changes the settings and adds a Saturday template.
    let saturday = store
        .write(Some(manager), at(8, 10), |w| {
            let mut s = centre::settings(w.tx())?;
            s.consent_months = 24;
            s.idle_lock_minutes = 10;
            s.nightly_at = "03:30".into();
            let centre_id = centre::get(w.tx())?.unwrap().id;
            centre::save_settings(w, centre_id, &s)?;
            let t = SessionTemplate {
                id: Uuid::now_v7(),
                weekday: 6,
                name: "Family visits".into(),
                starts_at: "13:00".into(),
                ends_at: "15:30".into(),
                kind: VisitKind::Open,
                retired_at: None,
            };
            visits::save_template(w, &t)?;
            Ok(t.id)
        })
        .unwrap();
    let templates = store.read(visits::templates).unwrap().into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert!(templates.contains(&saturday));
    // Today opens: the day's sessions come from the templates; one is added by hand, one cancelled.
    let sessions = store
        .write(Some(manager), at(8, 30), |w| {
            visits::sessions_from_templates(w, DAY, DAY_WEEKDAY)?;
            visits::add_session(
                w,
                DAY,
                &SessionTimes {
                    name: "Morning visits".into(),
                    starts_at: "09:30".into(),
                    ends_at: "11:30".into(),
                    kind: VisitKind::Open,
                },
            )?;
            let evening = visits::add_session(
                w,
                DAY,
                &SessionTimes {
                    name: "Evening visits".into(),
                    starts_at: "18:00".into(),
                    ends_at: "19:30".into(),
                    kind: VisitKind::Closed,
                },
            )?;
            visits::cancel_session(w, evening.id, "Staff shortage at the prison")?;
            Ok(visits::day(w.tx(), DAY)?.sessions.into_iter().map(|s| s.session.id).collect::<Vec<_>>())
        })
        .unwrap();
    let morning = store
        .read(|c| Ok(visits::day(c, DAY)?.sessions.into_iter().find(|s| s.session.name == "Morning visits").unwrap()))
        .unwrap()
        .session
        .id;
    let afternoon = store
        .read(|c| Ok(visits::day(c, DAY)?.sessions.into_iter().find(|s| s.session.name == "Afternoon visits").unwrap()))
        .unwrap()
        .session
        .id;

    // Families kept with consent: two that stay, one that will be removed.
    let save = |store: &mut Store, input: SaveFamilyInput, t: DateTime<Utc>| {
        let checked = check_family(&input, today(), 24).unwrap();
        store.write(Some(manager), t, |w| families::save_family(w, checked)).unwrap()
    };
    let live = save(
        store,
        family_input(&["Aisha Khan", "Yusuf Khan-Ali"], "07700 900123", "khan@example.com", "2 Mill Lane", "A1234BC"),
        at(9, 0),
    );
    let other = save(store, family_input(&["Łukasz Nowak", "Zoë O'Neil"], "", "", "", "C5555DD"), at(9, 1));
    let removed = save(
        store,
        family_input(&REMOVED_NAMES, REMOVED_DETAILS[0], REMOVED_DETAILS[1], REMOVED_DETAILS[2], REMOVED_DETAILS[3]),
        at(9, 2),
    );
    // Aisha's family renew their consent.
    let renewal = check_renewal(
        &RenewConsentInput {
            family_id: live.id,
            consent: ConsentInput {
                consent_given: true,
                given_by: "Aisha Khan".into(),
                method: Some(ConsentMethod::Verbal),
                given_on: "2026-11-25".into(),
            },
        },
        today(),
        24,
    )
    .unwrap();
    store.write(Some(manager), at(9, 5), |w| families::renew_consent(w, live.id, renewal)).unwrap();

    // The desk: check-ins (one a first-time party with needs), check-outs, outcomes, a walkthrough.
    let walkthrough: Vec<Uuid> =
        store.read(centre::settings).unwrap().walkthrough.iter().take(3).map(|i| i.id).collect();
    let mut check_ins = Vec::new();
    let c1 = store
        .write(Some(volunteer), at(9, 20), |w| {
            let c = visits::check_in(w, &party(morning, "Amara Okafor", false))?;
            visits::link_family(w, c.id, Some(live.id))?;
            Ok(c.id)
        })
        .unwrap();
    check_ins.push(c1);
    let c2 = store
        .write(Some(volunteer), at(9, 25), |w| {
            let mut p = party(morning, "Krzysztof Wiśniewski", true);
            p.adults = 2;
            p.needs = SupportNeeds {
                step_free_access: true,
                interpreter_language: "Polish".into(),
                other: "Pushchair; first visit in years".into(),
                ..Default::default()
            };
            p.help = HelpGiven {
                information: true,
                locker: true,
                walkthrough: true,
                signposted_to: "Citizens Advice".into(),
            };
            let c = visits::check_in(w, &p)?;
            visits::set_walkthrough(w, c.id, walkthrough.clone())?;
            Ok(c.id)
        })
        .unwrap();
    check_ins.push(c2);
    let c3 = store
        .write(Some(manager), at(9, 40), |w| {
            let c = visits::check_in(w, &party(morning, REMOVED_NAMES[0], false))?;
            visits::link_family(w, c.id, Some(removed.id))?;
            Ok(c.id)
        })
        .unwrap();
    check_ins.push(c3);
    let c4 = store
        .write(Some(volunteer), at(13, 50), |w| {
            let c = visits::check_in(w, &party(afternoon, "Grace Adeyemi", false))?;
            visits::check_out(w, c.id)?;
            visits::record_outcome(w, c.id, VisitOutcome::DeclinedEntry, Some(true))?;
            Ok(c.id)
        })
        .unwrap();
    check_ins.push(c4);
    let c5 = store
        .write(Some(volunteer), at(13, 55), |w| {
            let mut p = party(afternoon, "Łukasz Nowak", false);
            p.family_id = Some(other.id);
            Ok(visits::check_in(w, &p)?.id)
        })
        .unwrap();
    check_ins.push(c5);
    store
        .write(Some(volunteer), at(11, 35), |w| {
            visits::check_out(w, c1)?;
            visits::record_outcome(w, c1, VisitOutcome::Visited, None)?;
            visits::check_out(w, c3)?;
            visits::record_outcome(w, c3, VisitOutcome::Visited, None)
        })
        .unwrap();

    // An enquiry, feedback with a response, a compliment closed, an event.
    let enquiry = Enquiry {
        id: Uuid::now_v7(),
        received_at: "2026-11-25T10:15:00.000Z".into(),
        topic: EnquiryTopic::Transport,
        resolution: EnquiryResolution::Signposted,
        signposted_to: Some("Assisted Prison Visits Scheme".into()),
        note: Some("Asked about help with train fares".into()),
        recorded_by: volunteer,
    };
    store.write(Some(volunteer), at(10, 15), |w| desk::log_enquiry(w, DAY, &enquiry)).unwrap();
    let feedback = |kind, summary: &str, minute| Feedback {
        id: Uuid::now_v7(),
        received_at: format!("2026-11-25T12:{minute:02}:00.000Z"),
        kind,
        channel: FeedbackChannel::CommentCard,
        summary: summary.into(),
        status: FeedbackStatus::Open,
        recorded_by: volunteer,
        response: None,
        responded_by: None,
        responded_at: None,
        closed_by: None,
        closed_at: None,
    };
    let complaint = feedback(FeedbackKind::Complaint, "The queue outside was long in the rain", 0);
    let compliment = feedback(FeedbackKind::Compliment, "The play area is lovely", 5);
    let suggestion = feedback(FeedbackKind::Suggestion, "Could there be a water fountain?", 10);
    for f in [&complaint, &compliment, &suggestion] {
        store.write(Some(volunteer), at(12, 0), |w| desk::log_feedback(w, DAY, f)).unwrap();
    }
    store
        .write(Some(manager), at(15, 0), |w| {
            desk::respond_to_feedback(w, complaint.id, "We have asked the prison to open the gate earlier")?;
            desk::close_feedback(w, compliment.id)
        })
        .unwrap();
    let event = CentreEvent {
        id: Uuid::now_v7(),
        date: "2026-11-21".into(),
        kind: EventKind::FamilyDay,
        title: "Autumn family day".into(),
        adults: 14,
        children: AgeBands { age_3_4: 4, age_5_11: 9, ..Default::default() },
        notes: Some("Face painting".into()),
        recorded_by: manager,
        recorded_at: "2026-11-25T15:10:00.000Z".into(),
    };
    store.write(Some(manager), at(15, 10), |w| desk::record_event(w, &event)).unwrap();

    // A fire drill: a roll-call of the parties on site.
    let roll_call = store
        .write(Some(manager), at(14, 30), |w| {
            let r = visits::start_roll_call(w, DAY)?;
            for party in r.parties.clone() {
                visits::mark_roll_call(w, r.id, party, true)?;
            }
            Ok(visits::finish_roll_call(w, r.id)?.id)
        })
        .unwrap();

    // The removed family withdraws consent: its record and the lead name typed for it go.
    store
        .write(Some(manager), at(16, 0), |w| families::remove_family(w, removed.id, RemovalReason::ConsentWithdrawn))
        .unwrap();

    Day {
        volunteer,
        templates,
        sessions,
        check_ins,
        live_family: live.id,
        other_family: other.id,
        removed_family: removed.id,
        feedback: vec![complaint.id, compliment.id, suggestion.id],
        roll_call,
    }
}

fn j<T: serde::Serialize>(v: T) -> serde_json::Value {
    serde_json::to_value(v).unwrap()
}

/// What the app's screens read about the day's records, through the store's read functions, as one
/// JSON value: two laptops holding the same records answer the same. Templates are read by id (a
/// restored laptop also has its own, retired).
pub fn reads(conn: &Connection, day: &Day) -> serde_json::Value {
    let mut searches = serde_json::Map::new();
    for q in ["khan", "kha", "ali", "nowak", "jos", "zoe", "zqx", "pqkrstu", "yvw", "a"] {
        searches.insert(q.into(), j(families::search_families(conn, q, today(), 20).unwrap()));
    }
    let name_of = |id: Uuid| accounts::get(conn, id).unwrap().map(|(a, _)| a.display_name);
    let feedback = desk::feedback_list(conn).unwrap();
    let people: Vec<_> = feedback.iter().map(|f| (name_of(f.recorded_by), f.responded_by.map(name_of))).collect();
    let check_ins = visits::all_check_ins(conn).unwrap();
    let checked_in_by: Vec<_> = check_ins.iter().map(|(_, _, c)| name_of(c.checked_in_by)).collect();
    serde_json::json!({
        "today": j(visits::day(conn, DAY).unwrap()),
        "check_ins": j(check_ins),
        "checked_in_by": j(checked_in_by),
        "check_in": j(day.check_ins.iter().map(|id| visits::get_check_in(conn, *id).unwrap()).collect::<Vec<_>>()),
        "sessions": j(day.sessions.iter().map(|id| visits::session(conn, *id).unwrap()).collect::<Vec<_>>()),
        "templates": j(day.templates.iter().map(|id| visits::template(conn, *id).unwrap()).collect::<Vec<_>>()),
        "searches": searches,
        "families": j([day.live_family, day.other_family, day.removed_family]
            .iter()
            .map(|id| (families::get_family(conn, *id).unwrap(), families::visit_history(conn, *id).unwrap()))
            .collect::<Vec<_>>()),
        "renewals": j(families::families_due_for_renewal(conn, NaiveDate::from_ymd_opt(2028, 11, 1).unwrap()).unwrap()),
        "all_families": j(families::all_families(conn, today()).unwrap()),
        "feedback": j(feedback),
        "feedback_people": j(people),
        "all_feedback": j(desk::all_feedback(conn).unwrap()),
        "enquiries": j(desk::all_enquiries(conn).unwrap()),
        "events": j(desk::events(conn).unwrap()),
        "settings": j(centre::settings(conn).unwrap()),
        "roll_call": j(visits::get_roll_call(conn, day.roll_call).unwrap()),
        "active_roll_call": j(visits::active_roll_call(conn).unwrap()),
    })
}

/// `reads` without the sync states the lists carry (a laptop that never sent its records shows
/// them as saved; a laptop that restored them, as confirmed), and the states found, in order.
pub fn without_sync_states(mut v: serde_json::Value) -> (serde_json::Value, Vec<serde_json::Value>) {
    fn strip(v: &mut serde_json::Value, found: &mut Vec<serde_json::Value>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(s) = m.remove("sync_state") {
                    found.push(s);
                }
                m.values_mut().for_each(|v| strip(v, found));
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|v| strip(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    strip(&mut v, &mut found);
    (v, found)
}
