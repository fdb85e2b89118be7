//! Shared by the app's tests: a centre set up in a temporary folder with an account for each role.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use pops_app::api::*;
use pops_app::{App, Config};
use pops_domain::Role;
use pops_domain::account::AddAccountInput;
use pops_domain::centre::{Prison, SetUpCentreInput};
use pops_store::keyslots::KdfParams;
use std::path::Path;
use std::time::Duration;

/// Cheap key derivation: these tests are about the app's rules, not Argon2's cost.
pub const FAST: KdfParams = KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };

pub fn config(dir: &Path) -> Config {
    Config { data_dir: dir.to_path_buf(), idle_lock: None, kdf: FAST, export_dir: Some(dir.join("exports")) }
}

pub fn config_idle(dir: &Path, idle: Duration) -> Config {
    Config { idle_lock: Some(idle), ..config(dir) }
}

pub fn username(role: Role) -> String {
    format!("{}.user", role.as_str().replace('_', ""))
}

pub const PASSPHRASE: &str = "a long enough passphrase";
pub const PIN: &str = "402917";

pub fn set_up_input() -> SetUpCentreInput {
    SetUpCentreInput {
        centre_name: "Test Visitor Centre".into(),
        prison: Some(Prison::Risley),
        display_name: "Manny Manager".into(),
        username: username(Role::Manager),
        passphrase: PASSPHRASE.into(),
        passphrase_confirm: PASSPHRASE.into(),
        pin: PIN.into(),
    }
}

/// Sets up a centre and adds one account for every other role; leaves the manager signed in.
pub fn centre_with_every_role(app: &App) -> SetUpResult {
    let result = app.set_up_centre(set_up_input()).expect("set up");
    for role in [Role::Volunteer, Role::EarlyYears, Role::Coordinator] {
        app.add_account(AddAccountInput {
            display_name: format!("Test {}", role.label()),
            username: username(role),
            role: Some(role),
            passphrase: PASSPHRASE.into(),
            passphrase_confirm: PASSPHRASE.into(),
            pin: PIN.into(),
        })
        .expect("add account");
    }
    result
}

pub fn sign_in_as(app: &App, role: Role) -> AppStateView {
    let state = app.get_app_state();
    if state.phase == Phase::Unlocked || state.phase == Phase::Locked {
        app.sign_out().expect("sign out");
    }
    app.sign_in(SignInInput { username: username(role), passphrase: PASSPHRASE.into() }).expect("sign in")
}

/// A family with consent given today and one adult member, the lead visitor.
pub fn family_input(lead: &str) -> pops_domain::families::SaveFamilyInput {
    use pops_domain::families::*;
    SaveFamilyInput {
        family_id: None,
        consent: ConsentInput {
            consent_given: true,
            given_by: lead.into(),
            method: Some(ConsentMethod::Verbal),
            given_on: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        },
        members: vec![FamilyMemberInput {
            member_id: None,
            name: lead.into(),
            relationship: Some(Relationship::Partner),
            date_of_birth: String::new(),
            age_band: Some(AgeBand::Adult),
        }],
        contact: ContactInput::default(),
        prisoner: PrisonerInput::default(),
    }
}
