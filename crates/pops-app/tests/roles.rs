//! The whole role matrix: every command called as every role (and as nobody), against the one table
//! in `pops_domain::command`. A command added without a line here does not compile.
#![allow(clippy::unwrap_used)]

mod common;

use pops_app::api::*;
use pops_app::{App, Error};
use pops_domain::Role;
use pops_domain::account::{AddAccountInput, DisableAccountInput, SetAccountRoleInput};
use pops_domain::command::{Access, Command};
use pops_domain::visits::{AgeBands, CheckInPartyInput, CheckOutPartyInput, OpenVisitsSessionInput, Slot};
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
        Command::OpenVisitsSession => {
            app.open_visits_session(OpenVisitsSessionInput { slot: Some(Slot::Evening) }).map(drop)
        }
        Command::CheckInParty => app
            .check_in_party(CheckInPartyInput {
                session_id: Some(Uuid::now_v7()),
                adults: 1,
                children: AgeBands::default(),
                first_time: false,
                lead_name: String::new(),
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
        Command::UpdateSettings => app.update_settings(UpdateSettingsInput { idle_lock_minutes: 5 }).map(drop),
        Command::VerifyAuditLog => app.verify_audit_log().map(drop),
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
