//! Set-up, sign-in, the growing delay after wrong passphrases, the PIN lock, the idle lock,
//! accounts, and bad input: through the app's commands, on real encrypted files.
#![allow(clippy::unwrap_used)]

mod common;

use pops_app::api::*;
use pops_app::{App, PIN_ATTEMPTS};
use pops_domain::Role;
use pops_domain::account::{AddAccountInput, DisableAccountInput};
use pops_domain::centre::SetUpCentreInput;
use pops_domain::desk::{
    CloseFeedbackInput, EnquiryResolution, EnquiryTopic, EventKind, FeedbackChannel, FeedbackKind, FeedbackStatus,
    LogEnquiryInput, LogFeedbackInput, RecordEventInput, RespondToFeedbackInput,
};
use pops_domain::visits::{
    AddVisitsSessionInput, AgeBands, CancelVisitsSessionInput, CheckInPartyInput, CheckOutPartyInput,
    FinishRollCallInput, MarkRollCallInput, RecordVisitOutcomeInput, SessionTimesInput, TickWalkthroughInput,
    VisitKind, VisitOutcome,
};
use pops_store::keyslots::KeySlots;
use std::time::Duration;

fn fields(e: &pops_app::Error) -> Vec<&str> {
    e.problems.iter().map(|p| p.field.as_str()).collect()
}

fn sign_in(app: &App, user: &str, pass: &str) -> Result<AppStateView, pops_app::Error> {
    app.sign_in(SignInInput { username: user.into(), passphrase: pass.into() })
}

#[test]
fn first_run_set_up_then_sign_in_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config(dir.path())).unwrap();
    assert_eq!(app.get_app_state().phase, Phase::NeedsSetup);
    let result = app.set_up_centre(common::set_up_input()).unwrap();
    assert_eq!(result.state.phase, Phase::Unlocked);
    assert_eq!(result.state.user.as_ref().unwrap().role, Role::Manager);
    assert_eq!(result.state.prison_label.as_deref(), Some("HMP Risley"));
    assert_eq!(result.recovery_code.len(), 29);
    // A second set-up is refused.
    assert_eq!(app.set_up_centre(common::set_up_input()).unwrap_err().kind, ErrorKind::Conflict);
    drop(app);

    let app = App::start(common::config(dir.path())).unwrap();
    let state = app.get_app_state();
    assert_eq!(state.phase, Phase::SignedOut);
    assert_eq!(state.centre_name.as_deref(), Some("Test Visitor Centre"));
    let state = sign_in(&app, "  MANAGER.user ", common::PASSPHRASE).unwrap();
    assert_eq!(state.phase, Phase::Unlocked);

    // The recovery code head office keeps opens the same database.
    let slots = KeySlots::load(dir.path()).unwrap().unwrap();
    assert!(slots.open_with_recovery_code(&result.recovery_code).unwrap().is_some());
}

#[test]
fn set_up_refuses_bad_input_field_by_field_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config(dir.path())).unwrap();
    let e = app
        .set_up_centre(SetUpCentreInput {
            centre_name: " ".into(),
            prison: None,
            display_name: "x".repeat(61),
            username: "no spaces allowed".into(),
            passphrase: "short".into(),
            passphrase_confirm: "short".into(),
            pin: "1234".into(),
        })
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(fields(&e), ["centre_name", "prison", "display_name", "username", "passphrase", "pin"]);
    let mut mismatch = common::set_up_input();
    mismatch.passphrase_confirm = "a different passphrase".into();
    assert_eq!(fields(&app.set_up_centre(mismatch).unwrap_err()), ["passphrase_confirm"]);
    assert_eq!(app.get_app_state().phase, Phase::NeedsSetup);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing was written");
}

#[test]
fn wrong_passphrases_are_refused_with_a_growing_delay_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config(dir.path())).unwrap();
    app.set_up_centre(common::set_up_input()).unwrap();
    app.sign_out().unwrap();

    let e = sign_in(&app, "manager.user", "").unwrap_err();
    assert_eq!(fields(&e), ["passphrase"]);
    for _ in 0..3 {
        let e = sign_in(&app, "manager.user", "not the right one").unwrap_err();
        assert_eq!(e.kind, ErrorKind::WrongCredentials);
        assert!(!e.message.contains("manager.user"));
    }
    // Now even the right passphrase must wait.
    let e = sign_in(&app, "manager.user", common::PASSPHRASE).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled, "{e:?}");
    assert!(e.message.contains("Wait"), "{}", e.message);
    // A restart does not reset the delay.
    drop(app);
    let app = App::start(common::config(dir.path())).unwrap();
    assert_eq!(sign_in(&app, "manager.user", common::PASSPHRASE).unwrap_err().kind, ErrorKind::Throttled);
    std::thread::sleep(Duration::from_millis(2100));
    sign_in(&app, "manager.user", common::PASSPHRASE).unwrap();

    // Every attempt reached the audit log once the database was open again.
    drop(app);
    let slots = KeySlots::load(dir.path()).unwrap().unwrap();
    let (_, key) = slots.open_with_passphrase("manager.user", common::PASSPHRASE).unwrap().unwrap();
    let store = pops_store::Store::open(&dir.path().join(pops_store::DATABASE_FILE), &key).unwrap();
    let actions: Vec<String> =
        store.read(|c| pops_store::audit::recent(c, 100)).unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions.iter().filter(|a| *a == "sign_in_failed").count(), 3);
    assert_eq!(actions.iter().filter(|a| *a == "sign_in_throttled").count(), 2);
    assert_eq!(store.read(pops_store::audit::verify).unwrap().problem, None);
}

#[test]
fn the_pin_unlocks_a_locked_screen_until_too_many_wrong_tries() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config(dir.path())).unwrap();
    app.set_up_centre(common::set_up_input()).unwrap();
    let state = app.lock_now().unwrap();
    assert_eq!(state.phase, Phase::Locked);
    assert_eq!(state.pin_attempts_left, Some(PIN_ATTEMPTS));
    assert_eq!(app.get_today().unwrap_err().kind, ErrorKind::Locked);
    let e = app.unlock_with_pin(UnlockWithPinInput { pin: "111112".into() }).unwrap_err();
    assert_eq!(e.kind, ErrorKind::WrongCredentials);
    assert!(e.message.contains("4 tries left"), "{}", e.message);
    let state = app.unlock_with_pin(UnlockWithPinInput { pin: common::PIN.into() }).unwrap();
    assert_eq!(state.phase, Phase::Unlocked);
    app.get_today().unwrap();

    app.lock_now().unwrap();
    for _ in 0..PIN_ATTEMPTS {
        let _ = app.unlock_with_pin(UnlockWithPinInput { pin: "111112".into() });
    }
    assert_eq!(app.get_app_state().phase, Phase::SignedOut);
    assert_eq!(
        app.unlock_with_pin(UnlockWithPinInput { pin: common::PIN.into() }).unwrap_err().kind,
        ErrorKind::Conflict
    );
    sign_in(&app, "manager.user", common::PASSPHRASE).unwrap();
}

#[test]
fn the_screen_locks_itself_when_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config_idle(dir.path(), Duration::from_millis(300))).unwrap();
    app.set_up_centre(common::set_up_input()).unwrap();
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(150));
        app.note_activity();
    }
    assert_eq!(app.get_app_state().phase, Phase::Unlocked, "activity keeps it open");
    std::thread::sleep(Duration::from_millis(400));
    assert!(app.lock_if_idle());
    assert_eq!(app.get_app_state().phase, Phase::Locked);
    assert_eq!(app.get_today().unwrap_err().kind, ErrorKind::Locked);
    app.unlock_with_pin(UnlockWithPinInput { pin: common::PIN.into() }).unwrap();
}

#[test]
fn a_disabled_account_loses_its_key_slot() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config(dir.path())).unwrap();
    common::centre_with_every_role(&app);
    let accounts = app.list_accounts().unwrap().accounts;
    assert_eq!(accounts.len(), 4);
    let volunteer = accounts.iter().find(|a| a.role == Role::Volunteer).unwrap().clone();
    let me = app.get_app_state().user.unwrap().account_id;
    assert_eq!(app.disable_account(DisableAccountInput { account_id: me }).unwrap_err().kind, ErrorKind::Conflict);
    let disabled = app.disable_account(DisableAccountInput { account_id: volunteer.id }).unwrap();
    assert!(!disabled.active);
    assert!(!KeySlots::load(dir.path()).unwrap().unwrap().has_account_slot(volunteer.id));
    assert_eq!(
        app.disable_account(DisableAccountInput { account_id: volunteer.id }).unwrap_err().kind,
        ErrorKind::Conflict
    );
    app.sign_out().unwrap();
    let e = sign_in(&app, &common::username(Role::Volunteer), common::PASSPHRASE).unwrap_err();
    assert_eq!(e.kind, ErrorKind::WrongCredentials);
}

#[test]
fn adding_an_account_refuses_bad_input_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config(dir.path())).unwrap();
    app.set_up_centre(common::set_up_input()).unwrap();
    let good = AddAccountInput {
        display_name: "Sam Jones".into(),
        username: "sam.jones".into(),
        role: Some(Role::Volunteer),
        passphrase: "sam's long passphrase".into(),
        passphrase_confirm: "sam's long passphrase".into(),
        pin: "582047".into(),
    };
    let e = app.add_account(AddAccountInput { role: None, pin: "12".into(), ..good.clone() }).unwrap_err();
    assert_eq!(fields(&e), ["pin", "role"]);
    app.add_account(good.clone()).unwrap();
    let e = app.add_account(AddAccountInput { username: "SAM.JONES".into(), ..good }).unwrap_err();
    assert_eq!(fields(&e), ["username"]);
    assert_eq!(app.list_accounts().unwrap().accounts.len(), 2);
    // The new person can sign in with their own passphrase, and their PIN unlocks their screen.
    app.sign_out().unwrap();
    sign_in(&app, "sam.jones", "sam's long passphrase").unwrap();
    app.lock_now().unwrap();
    app.unlock_with_pin(UnlockWithPinInput { pin: "582047".into() }).unwrap();
}

#[test]
fn the_front_desk_day() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config(dir.path())).unwrap();
    common::centre_with_every_role(&app);
    common::sign_in_as(&app, Role::Volunteer);
    // Every weekday has at least one session in the default templates; it appears by itself.
    let today = app.get_today().unwrap();
    assert!(!today.sessions.is_empty());
    assert!(today.sessions.iter().all(|s| s.session.template_id.is_some()));
    assert_eq!(app.get_today().unwrap().sessions.len(), today.sessions.len(), "made once, not on every look");
    let times = |name: &str, starts: &str, ends: &str| AddVisitsSessionInput {
        times: SessionTimesInput {
            name: name.into(),
            starts_at: starts.into(),
            ends_at: ends.into(),
            kind: Some(VisitKind::Open),
        },
    };
    let e = app.add_visits_session(times("", "1900", "18:00")).unwrap_err();
    assert_eq!(fields(&e), ["name", "ends_at"]);
    let session = app.add_visits_session(times("Extra evening", "18:00", "19:30")).unwrap();
    assert_eq!(app.add_visits_session(times("Extra evening", "18:00", "19:30")).unwrap_err().kind, ErrorKind::Conflict);
    let party = |adults, children| CheckInPartyInput {
        session_id: Some(session.id),
        adults,
        children,
        first_time: true,
        lead_name: String::new(),
        needs: Default::default(),
        help: Default::default(),
        family_id: None,
    };
    let e = app.check_in_party(party(0, AgeBands::default())).unwrap_err();
    assert_eq!(fields(&e), ["adults"]);
    let e = app.check_in_party(party(1, AgeBands { age_5_11: 40, ..Default::default() })).unwrap_err();
    assert_eq!(fields(&e), ["children.age_5_11"]);
    let a = app.check_in_party(party(2, AgeBands { age_0_1: 1, age_5_11: 1, ..Default::default() })).unwrap();
    let b = app.check_in_party(party(1, AgeBands::default())).unwrap();
    let today = app.get_today().unwrap();
    assert_eq!(today.counts.parties, 2);
    assert_eq!(today.counts.adults, 3);
    assert_eq!(today.counts.children, 2);
    assert_eq!(today.counts.on_site_people, 5);
    assert_eq!(today.on_site.iter().map(|c| c.record.id).collect::<Vec<_>>(), [b.id, a.id], "newest first");
    app.check_out_party(CheckOutPartyInput { check_in_id: a.id }).unwrap();
    let e = app.check_out_party(CheckOutPartyInput { check_in_id: a.id }).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(e.message.contains("already been checked out"));
    let e = app.check_out_party(CheckOutPartyInput { check_in_id: uuid::Uuid::now_v7() }).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let e = app
        .check_in_party(CheckInPartyInput { session_id: Some(uuid::Uuid::now_v7()), ..party(1, AgeBands::default()) })
        .unwrap_err();
    assert_eq!(fields(&e), ["session_id"]);
    let today = app.get_today().unwrap();
    assert_eq!(today.counts.on_site_parties, 1);
    assert_eq!(today.left.len(), 1);
    let extra = today.sessions.iter().find(|s| s.session.id == session.id).unwrap();
    assert_eq!(extra.counts.parties, 2);
    assert_eq!(extra.counts.left_parties, 1);
}

#[test]
fn the_rest_of_the_desk_day() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config(dir.path())).unwrap();
    common::centre_with_every_role(&app);
    common::sign_in_as(&app, Role::Volunteer);
    let today = app.get_today().unwrap();
    let session = today.sessions[0].session.id;
    assert_eq!(today.walkthrough.len(), 8, "a new centre has the usual walkthrough");
    let mut input = CheckInPartyInput {
        session_id: Some(session),
        adults: 1,
        children: AgeBands { age_2: 1, ..Default::default() },
        first_time: true,
        lead_name: "Zofia".into(),
        needs: Default::default(),
        help: Default::default(),
        family_id: None,
    };
    input.needs.interpreter_language = "Polish".into();
    input.help.walkthrough = true;
    let party = app.check_in_party(input).unwrap();
    assert_eq!(party.needs.interpreter_language, "Polish");

    // The walkthrough: only items on the centre's list.
    let items: Vec<_> = today.walkthrough.iter().take(3).map(|i| i.id).collect();
    let ticked = app.tick_walkthrough(TickWalkthroughInput { check_in_id: party.id, ticked: items.clone() }).unwrap();
    assert_eq!(ticked.walkthrough, items);
    let e = app
        .tick_walkthrough(TickWalkthroughInput { check_in_id: party.id, ticked: vec![uuid::Uuid::now_v7()] })
        .unwrap_err();
    assert_eq!(fields(&e), ["ticked"]);

    // Failed security checks: the welfare offer must be recorded.
    let outcome = |o, w| RecordVisitOutcomeInput { check_in_id: party.id, outcome: Some(o), welfare_offered: w };
    let e = app.record_visit_outcome(outcome(VisitOutcome::FailedSecurity, None)).unwrap_err();
    assert_eq!(fields(&e), ["welfare_offered"]);
    let c = app.record_visit_outcome(outcome(VisitOutcome::FailedSecurity, Some(true))).unwrap();
    assert_eq!((c.outcome, c.welfare_offered), (Some(VisitOutcome::FailedSecurity), Some(true)));

    // Roll-call from the fire list.
    let roll = app.start_roll_call().unwrap();
    assert_eq!(roll.parties, [party.id]);
    assert_eq!(app.start_roll_call().unwrap().id, roll.id, "one roll-call at a time");
    let mark = |accounted| MarkRollCallInput { roll_call_id: roll.id, check_in_id: party.id, accounted };
    assert_eq!(app.mark_roll_call(mark(true)).unwrap().accounted, [party.id]);
    assert_eq!(app.get_today().unwrap().roll_call.unwrap().accounted, [party.id]);
    app.finish_roll_call(FinishRollCallInput { roll_call_id: roll.id }).unwrap();
    assert!(app.get_today().unwrap().roll_call.is_none());
    assert_eq!(app.mark_roll_call(mark(false)).unwrap_err().kind, ErrorKind::Conflict);

    // A session with people on site cannot be cancelled; once they have gone it can.
    let cancel = || CancelVisitsSessionInput { session_id: session, reason: "Prison lockdown".into() };
    assert_eq!(app.cancel_visits_session(cancel()).unwrap_err().kind, ErrorKind::Conflict);
    app.check_out_party(CheckOutPartyInput { check_in_id: party.id }).unwrap();
    let e = app.cancel_visits_session(CancelVisitsSessionInput { reason: " ".into(), ..cancel() }).unwrap_err();
    assert_eq!(fields(&e), ["reason"]);
    assert!(app.cancel_visits_session(cancel()).unwrap().cancelled_at.is_some());
    let e = app
        .check_in_party(CheckInPartyInput {
            session_id: Some(session),
            adults: 1,
            children: AgeBands::default(),
            first_time: false,
            lead_name: String::new(),
            needs: Default::default(),
            help: Default::default(),
            family_id: None,
        })
        .unwrap_err();
    assert_eq!(fields(&e), ["session_id"]);

    // Enquiries and feedback, counted on the board.
    app.log_enquiry(LogEnquiryInput {
        topic: Some(EnquiryTopic::MoneyForPrisoner),
        resolution: Some(EnquiryResolution::Signposted),
        signposted_to: "Prison finance office".into(),
        note: String::new(),
    })
    .unwrap();
    let complaint = app
        .log_feedback(LogFeedbackInput {
            kind: Some(FeedbackKind::Complaint),
            channel: Some(FeedbackChannel::InPerson),
            summary: "Nowhere to sit, \"again\", 😞".into(),
        })
        .unwrap();
    let e = app
        .log_feedback(LogFeedbackInput {
            kind: Some(FeedbackKind::Complaint),
            channel: Some(FeedbackChannel::InPerson),
            summary: String::new(),
        })
        .unwrap_err();
    assert_eq!(fields(&e), ["summary"]);
    let today = app.get_today().unwrap();
    assert_eq!((today.enquiries.len(), today.feedback_received), (1, 1));

    // A volunteer cannot answer it; the coordinator answers and closes it.
    let respond = || RespondToFeedbackInput { feedback_id: complaint.id, response: "Six more chairs ordered".into() };
    assert_eq!(app.respond_to_feedback(respond()).unwrap_err().kind, ErrorKind::Forbidden);
    common::sign_in_as(&app, Role::Coordinator);
    let close = || CloseFeedbackInput { feedback_id: complaint.id };
    assert_eq!(app.close_feedback(close()).unwrap_err().kind, ErrorKind::Conflict, "answer a complaint first");
    app.respond_to_feedback(respond()).unwrap();
    assert_eq!(app.close_feedback(close()).unwrap().status, FeedbackStatus::Closed);
    let list = app.list_feedback().unwrap();
    assert_eq!(list.items[0].feedback.status, FeedbackStatus::Closed);
    assert!(list.items[0].responded_by_name.as_deref().is_some_and(|n| !n.is_empty()), "who responded is named");

    // An event, then the manager's exports.
    let event = app
        .record_event(RecordEventInput {
            date: "2026-12-19".into(),
            kind: Some(EventKind::FamilyDay),
            title: "Christmas family day".into(),
            adults: 25,
            children: AgeBands { age_5_11: 14, ..Default::default() },
            notes: "Santa, crafts".into(),
        })
        .unwrap();
    assert_eq!(app.list_events().unwrap().events[0].id, event.id);
    common::sign_in_as(&app, Role::Manager);
    let export = app.export_csv(ExportCsvInput { list: Some(ExportList::Feedback) }).unwrap();
    assert_eq!(export.rows, 1);
    let text = std::fs::read_to_string(&export.path).unwrap();
    assert!(text.contains("\"Nowhere to sit, \"\"again\"\", 😞\""), "{text}");
    let export = app.export_csv(ExportCsvInput { list: Some(ExportList::CheckIns) }).unwrap();
    let text = std::fs::read_to_string(&export.path).unwrap();
    assert!(text.contains("Failed security checks") && text.contains("Interpreter (Polish)"), "{text}");
    assert_eq!(fields(&app.export_csv(ExportCsvInput { list: None }).unwrap_err()), ["list"]);
}

#[test]
fn families_are_kept_only_with_consent_and_their_details_only_for_the_coordinator() {
    use pops_domain::families::{
        AgeBand, FamilyMemberInput, Relationship, RemovalReason, RemoveFamilyInput, SearchFamiliesInput,
    };
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config(dir.path())).unwrap();
    common::centre_with_every_role(&app);
    common::sign_in_as(&app, Role::Volunteer);

    // No consent: refused at the tick box, nothing saved.
    let mut input = common::family_input("Amira Khan-Ali");
    input.consent.consent_given = false;
    assert_eq!(fields(&app.save_family(input).unwrap_err()), ["consent.consent_given"]);
    assert!(app.search_families(SearchFamiliesInput { query: "khan".into() }).unwrap().families.is_empty());

    // A volunteer may not record contact details.
    let mut input = common::family_input("Amira Khan-Ali");
    input.contact.phone = "07700 900123".into();
    assert_eq!(fields(&app.save_family(input).unwrap_err()), ["contact.phone"]);

    let mut input = common::family_input("Amira Khan-Ali");
    input.members.push(FamilyMemberInput {
        member_id: None,
        name: "Yusuf Khan-Ali".into(),
        relationship: Some(Relationship::Child),
        date_of_birth: "2019-03-04".into(),
        age_band: None,
    });
    let saved = app.save_family(input).unwrap();
    assert!(!saved.may_see_details);
    assert_eq!(saved.outline.members[1].age_band, AgeBand::Age5To11);

    // Found by part of any member's name; checked in as that family; the history counts it.
    let found = app.search_families(SearchFamiliesInput { query: "yus".into() }).unwrap().families;
    assert_eq!(found.len(), 1);
    let session = app.get_today().unwrap().sessions[0].session.id;
    app.check_in_party(CheckInPartyInput {
        session_id: Some(session),
        adults: 1,
        children: AgeBands { age_5_11: 1, ..Default::default() },
        first_time: false,
        lead_name: String::new(),
        needs: Default::default(),
        help: Default::default(),
        family_id: Some(saved.outline.id),
    })
    .unwrap();
    let view = app.get_family(FamilyIdInput { family_id: saved.outline.id }).unwrap();
    assert_eq!(view.visits.check_ins, 1);

    // The volunteer cannot open the contact details; the coordinator can, and records them.
    let id = FamilyIdInput { family_id: saved.outline.id };
    assert_eq!(app.get_family_details(id.clone()).unwrap_err().kind, ErrorKind::Forbidden);
    common::sign_in_as(&app, Role::Coordinator);
    let full = app.get_family_details(id.clone()).unwrap();
    let mut edit = common::family_input("Amira Khan-Ali");
    edit.family_id = Some(full.id);
    edit.members[0].member_id = Some(full.members[0].id);
    edit.members.push(FamilyMemberInput {
        member_id: Some(full.members[1].id),
        name: "Yusuf Khan-Ali".into(),
        relationship: Some(Relationship::Child),
        date_of_birth: "2019-03-04".into(),
        age_band: None,
    });
    edit.contact.phone = "07700 900123".into();
    edit.prisoner.prison_number = "a1234bc".into();
    edit.consent.given_on = full.consent.given_on.clone();
    app.save_family(edit).unwrap();
    let full = app.get_family_details(id.clone()).unwrap();
    assert_eq!(full.contact.phone.as_deref(), Some("07700 900123"));
    assert_eq!(full.prisoner.unwrap().prison_number.as_deref(), Some("A1234BC"));

    // A volunteer's later edit of the names keeps what the coordinator recorded.
    common::sign_in_as(&app, Role::Volunteer);
    let mut edit = common::family_input("Amira Khan");
    edit.family_id = Some(full.id);
    edit.members[0].member_id = Some(full.members[0].id);
    edit.members.push(FamilyMemberInput {
        member_id: Some(full.members[1].id),
        name: "Yusuf Khan".into(),
        relationship: Some(Relationship::Child),
        date_of_birth: String::new(),
        age_band: Some(AgeBand::Age5To11),
    });
    edit.consent.given_on = full.consent.given_on.clone();
    app.save_family(edit).unwrap();
    common::sign_in_as(&app, Role::Coordinator);
    let after = app.get_family_details(id.clone()).unwrap();
    assert_eq!(after.contact.phone.as_deref(), Some("07700 900123"));
    assert_eq!(after.members[1].name, "Yusuf Khan");
    assert_eq!(
        after.members[1].date_of_birth.as_deref(),
        Some("2019-03-04"),
        "the desk's edit keeps the date of birth"
    );

    // The manager's export lists the family by name, without contact details.
    common::sign_in_as(&app, Role::Manager);
    let export = app.export_csv(ExportCsvInput { list: Some(ExportList::Families) }).unwrap();
    let text = std::fs::read_to_string(&export.path).unwrap();
    assert!(text.contains("Amira Khan") && !text.contains("07700"), "{text}");
    common::sign_in_as(&app, Role::Coordinator);

    // Removed: gone from search and from view.
    app.remove_family(RemoveFamilyInput { family_id: full.id, reason: Some(RemovalReason::ConsentWithdrawn) }).unwrap();
    assert!(app.search_families(SearchFamiliesInput { query: "amira".into() }).unwrap().families.is_empty());
    assert_eq!(app.get_family(id).unwrap_err().kind, ErrorKind::NotFound);
}
