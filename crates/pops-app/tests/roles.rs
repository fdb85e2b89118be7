//! The whole role matrix: every command called as every role (and as nobody), against the one table
//! in `pops_domain::command`. A command added without a line here does not compile.
#![allow(clippy::unwrap_used)]

mod common;

use pops_app::api::*;
use pops_app::{App, Error};
use pops_domain::Role;
use pops_domain::account::{AddAccountInput, DisableAccountInput, SetAccountRoleInput};
use pops_domain::command::{Access, Command};
use pops_domain::desk::{
    CloseFeedbackInput, EventKind, FeedbackChannel, FeedbackKind, LogEnquiryInput, LogFeedbackInput, RecordEventInput,
    RespondToFeedbackInput,
};
use pops_domain::families::{RemovalReason, RemoveFamilyInput, RenewConsentInput, SearchFamiliesInput};
use pops_domain::visits::{
    AddVisitsSessionInput, AgeBands, CancelVisitsSessionInput, CheckInPartyInput, CheckOutPartyInput,
    FinishRollCallInput, MarkRollCallInput, RecordVisitOutcomeInput, RetireSessionTemplateInput,
    SaveSessionTemplateInput, SessionTimesInput, TickWalkthroughInput, VisitKind, VisitOutcome,
};
use uuid::Uuid;

/// Calls `command` with a plausible input; answers only whether it ran or how it failed.
fn call(app: &App, command: Command) -> Result<(), Error> {
    match command {
        Command::GetAppState => {
            app.get_app_state();
            Ok(())
        }
        Command::SetUpCentre => app.set_up_centre(common::set_up_input()).map(drop),
        Command::SignIn => app
            .sign_in(SignInInput { username: "nobody.here".into(), passphrase: "not the passphrase".into() })
            .map(drop),
        Command::UnlockWithPin => app.unlock_with_pin(UnlockWithPinInput { pin: "999999".into() }).map(drop),
        Command::NoteActivity => {
            app.note_activity();
            Ok(())
        }
        Command::LockNow => app.lock_now().map(drop),
        Command::SignOut => app.sign_out().map(drop),
        Command::GetToday => app.get_today().map(drop),
        Command::AddVisitsSession => app
            .add_visits_session(AddVisitsSessionInput {
                times: SessionTimesInput {
                    name: format!("Extra {}", Uuid::now_v7().simple()).chars().take(30).collect(),
                    starts_at: "18:00".into(),
                    ends_at: "19:30".into(),
                    kind: Some(VisitKind::Open),
                },
            })
            .map(drop),
        Command::CancelVisitsSession => app
            .cancel_visits_session(CancelVisitsSessionInput { session_id: Uuid::now_v7(), reason: "Lockdown".into() })
            .map(drop),
        Command::RecordVisitOutcome => app
            .record_visit_outcome(RecordVisitOutcomeInput {
                check_in_id: Uuid::now_v7(),
                outcome: Some(VisitOutcome::Visited),
                welfare_offered: None,
            })
            .map(drop),
        Command::TickWalkthrough => {
            app.tick_walkthrough(TickWalkthroughInput { check_in_id: Uuid::now_v7(), ticked: vec![] }).map(drop)
        }
        Command::StartRollCall => app.start_roll_call().map(drop),
        Command::MarkRollCall => app
            .mark_roll_call(MarkRollCallInput {
                roll_call_id: Uuid::now_v7(),
                check_in_id: Uuid::now_v7(),
                accounted: true,
            })
            .map(drop),
        Command::FinishRollCall => app.finish_roll_call(FinishRollCallInput { roll_call_id: Uuid::now_v7() }).map(drop),
        Command::LogEnquiry => app
            .log_enquiry(LogEnquiryInput {
                topic: Some(pops_domain::desk::EnquiryTopic::Transport),
                resolution: Some(pops_domain::desk::EnquiryResolution::Answered),
                signposted_to: String::new(),
                note: String::new(),
            })
            .map(drop),
        Command::LogFeedback => app
            .log_feedback(LogFeedbackInput {
                kind: Some(FeedbackKind::Suggestion),
                channel: Some(FeedbackChannel::InPerson),
                summary: "More seats".into(),
            })
            .map(drop),
        Command::ListFeedback => app.list_feedback().map(drop),
        Command::RespondToFeedback => app
            .respond_to_feedback(RespondToFeedbackInput { feedback_id: Uuid::now_v7(), response: "Thanks".into() })
            .map(drop),
        Command::CloseFeedback => app.close_feedback(CloseFeedbackInput { feedback_id: Uuid::now_v7() }).map(drop),
        Command::ListEvents => app.list_events().map(drop),
        Command::RecordEvent => app
            .record_event(RecordEventInput {
                date: "2026-11-01".into(),
                kind: Some(EventKind::FamilyForum),
                title: "Forum".into(),
                adults: 5,
                children: AgeBands::default(),
                notes: String::new(),
            })
            .map(drop),
        Command::SearchFamilies => app.search_families(SearchFamiliesInput { query: "kha".into() }).map(drop),
        Command::GetFamily => app.get_family(FamilyIdInput { family_id: Uuid::now_v7() }).map(drop),
        Command::GetFamilyDetails => app.get_family_details(FamilyIdInput { family_id: Uuid::now_v7() }).map(drop),
        Command::SaveFamily => app.save_family(common::family_input("Amira Khan")).map(drop),
        Command::RenewFamilyConsent => app
            .renew_family_consent(RenewConsentInput {
                family_id: Uuid::now_v7(),
                consent: common::family_input("x").consent,
            })
            .map(drop),
        Command::RemoveFamily => app
            .remove_family(RemoveFamilyInput {
                family_id: Uuid::now_v7(),
                reason: Some(RemovalReason::ConsentWithdrawn),
            })
            .map(drop),
        Command::ListFamiliesDueForRenewal => app.list_families_due_for_renewal().map(drop),
        Command::ListSessionTemplates => app.list_session_templates().map(drop),
        Command::SaveSessionTemplate => app
            .save_session_template(SaveSessionTemplateInput {
                template_id: None,
                weekday: Some(2),
                times: SessionTimesInput {
                    name: "Tuesday evening".into(),
                    starts_at: "18:00".into(),
                    ends_at: "20:00".into(),
                    kind: Some(VisitKind::Closed),
                },
            })
            .map(drop),
        Command::RetireSessionTemplate => {
            app.retire_session_template(RetireSessionTemplateInput { template_id: Uuid::now_v7() }).map(drop)
        }
        Command::ExportCsv => app.export_csv(ExportCsvInput { list: Some(ExportList::Enquiries) }).map(drop),
        Command::CheckInParty => app
            .check_in_party(CheckInPartyInput {
                session_id: Some(Uuid::now_v7()),
                adults: 1,
                children: AgeBands::default(),
                first_time: false,
                lead_name: String::new(),
                needs: Default::default(),
                help: Default::default(),
                family_id: None,
            })
            .map(drop),
        Command::CheckOutParty => app.check_out_party(CheckOutPartyInput { check_in_id: Uuid::now_v7() }).map(drop),
        Command::ListAccounts => app.list_accounts().map(drop),
        Command::AddAccount => app
            .add_account(AddAccountInput {
                display_name: "Extra Person".into(),
                username: format!("extra{}", Uuid::now_v7().simple()).chars().take(20).collect(),
                role: Some(Role::Volunteer),
                passphrase: common::PASSPHRASE.into(),
                passphrase_confirm: common::PASSPHRASE.into(),
                pin: common::PIN.into(),
            })
            .map(drop),
        Command::SetAccountRole => {
            app.set_account_role(SetAccountRoleInput { account_id: Uuid::now_v7(), role: Role::Volunteer }).map(drop)
        }
        Command::DisableAccount => app.disable_account(DisableAccountInput { account_id: Uuid::now_v7() }).map(drop),
        Command::GetSettings => app.get_settings().map(drop),
        Command::UpdateSettings => app
            .update_settings(UpdateSettingsInput { idle_lock_minutes: 5, walkthrough: vec![], consent_months: 12 })
            .map(drop),
        Command::VerifyAuditLog => app.verify_audit_log().map(drop),
        Command::SyncStatus => app.sync_status().map(drop),
        Command::SyncSendNow => app.sync_send_now().map(drop),
        Command::SyncEnrol => app
            .sync_enrol(SyncEnrolInput {
                hub_address: "http://127.0.0.1:9".into(),
                enrolment_code: "ABCD-EFGH-JKMN-PQRS".into(),
            })
            .map(drop),
        Command::SyncQuarantine => app.sync_quarantine().map(drop),
        Command::SetSyncTime => app.set_sync_time(SetSyncTimeInput { nightly_at: "03:30".into() }).map(drop),
        Command::SyncRestoreStart => app.sync_restore_start().map(drop),
    }
}

fn refused_for_role(r: &Result<(), Error>) -> bool {
    matches!(r, Err(e) if e.kind == ErrorKind::Forbidden)
}

#[test]
fn every_command_as_every_role() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config(dir.path())).unwrap();
    common::centre_with_every_role(&app);
    let mut checked = 0;
    for role in Role::ALL {
        for &command in Command::ALL {
            common::sign_in_as(&app, role);
            let result = call(&app, command);
            let allowed = command.permits(Some(role));
            assert_eq!(
                refused_for_role(&result),
                !allowed,
                "{} as {}: {:?} (the table says allowed = {allowed})",
                command.name(),
                role.as_str(),
                result
            );
            if !allowed {
                let e = result.unwrap_err();
                assert!(e.message.contains(role.label()), "the refusal names the role: {}", e.message);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, Role::ALL.len() * Command::ALL.len());
}

#[test]
fn every_signed_in_command_is_refused_when_nobody_is_signed_in_or_the_screen_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config(dir.path())).unwrap();
    common::centre_with_every_role(&app);
    for &command in Command::ALL {
        if command.access() == Access::Anyone {
            continue;
        }
        common::sign_in_as(&app, Role::Manager);
        app.lock_now().unwrap();
        let locked = call(&app, command);
        if command == Command::SignOut {
            // Signing out is how someone else takes over a locked screen.
            assert!(locked.is_ok(), "{locked:?}");
        } else {
            assert!(matches!(&locked, Err(e) if e.kind == ErrorKind::Locked), "{}: {locked:?}", command.name());
        }
        if app.get_app_state().phase != Phase::SignedOut {
            app.sign_out().unwrap();
        }
        let signed_out = call(&app, command);
        assert!(matches!(&signed_out, Err(e) if e.kind == ErrorKind::SignedOut), "{}: {signed_out:?}", command.name());
    }
}

#[test]
fn refusals_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config(dir.path())).unwrap();
    common::centre_with_every_role(&app);
    common::sign_in_as(&app, Role::Volunteer);
    assert!(refused_for_role(&call(&app, Command::ListAccounts)));
    common::sign_in_as(&app, Role::Manager);
    let report = app.verify_audit_log().unwrap();
    assert!(report.intact);
    // Read the log through the store to find the refusal.
    let slots = pops_store::keyslots::KeySlots::load(dir.path()).unwrap().unwrap();
    let (_, key) = slots.open_with_passphrase(&common::username(Role::Manager), common::PASSPHRASE).unwrap().unwrap();
    drop(app);
    let store = pops_store::Store::open(&dir.path().join(pops_store::DATABASE_FILE), &key).unwrap();
    let entries = store.read(|c| pops_store::audit::recent(c, 100)).unwrap();
    assert!(entries.iter().any(|e| e.action == "command_refused" && e.detail == "list_accounts"));
}
