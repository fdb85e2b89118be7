//! The foundation, end to end through the real window: first-run set-up → the recovery code →
//! today's sessions are already there (from the weekly templates) → check in a first-time party
//! with two children → it is on site → check it out →
//! quit and restart → the data is still there → a wrong passphrase is refused → the idle lock
//! engages → the PIN unlocks → the privacy screen hides everything but the centre's name.
//! Each screen's screenshot is kept in `target/e2e-artifacts/foundation_day/`, and each screen
//! must pass axe-core's WCAG 2.0/2.1/2.2 A and AA rules (its results are kept there too).
#![allow(clippy::unwrap_used)]

use pops_e2e::{Harness, Key};
use std::time::Duration;

const CENTRE: &str = "HMP Liverpool Visitor Centre";
const USERNAME: &str = "sam.manager";
const PASSPHRASE: &str = "three calm words here";
const PIN: &str = "402917";
/// A made-up family name typed at the desk: it must never reach a log.
const PLANTED: &str = "Zebedee Quartermaine";

async fn count(app: &pops_e2e::AppSession, name: &str) -> String {
    app.text(&format!("#today-counts [data-count=\"{name}\"]")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foundation_day() {
    let harness = Harness::new("foundation_day");
    let data = harness.data_dir().to_path_buf();

    // ---- First run: set-up, with an empty submit first to see the error pattern.
    let app = harness.start(&data, &[]).await;
    app.wait_for("#field-centre_name").await;
    app.screenshot("01-setup").await;
    app.assert_accessible("set-up").await;
    app.click("#setup-submit").await;
    let summary = app.wait_for_text("#error-summary", "Enter the centre's name").await;
    assert!(summary.contains("Choose the prison"), "{summary}");
    assert!(app.exists("#error-summary a[href=\"#field-centre_name\"]").await);
    assert!(app.exists(".field-error").await, "the message is repeated at the field");
    app.screenshot("02-setup-errors").await;
    app.assert_accessible("set-up-errors").await;

    fill_set_up(&app).await;

    // ---- The recovery code, shown once.
    let code = app.wait_for("#recovery-code").await.text().await.unwrap();
    assert_eq!(code.trim().len(), 29, "recovery code {code:?}");
    app.screenshot("03-recovery-code").await;
    app.assert_accessible("recovery-code").await;
    app.click("#recovery-confirm").await;
    app.click("#recovery-continue").await;

    // ---- Today: the day's sessions come from the centre's weekly ones; check a first-time party
    // in with two children, to the session the form offers first.
    app.wait_for("#sessions-board [data-session-id]").await;
    app.wait_for("#field-adults").await;
    app.click("#adults-inc").await;
    app.click("#children-age_3_4-inc").await;
    app.click("#children-age_5_11-inc").await;
    app.click("#field-first_time").await;
    app.click("#checkin-submit").await;
    let flash = app.wait_for_text("#flash", "Checked in").await;
    assert!(flash.contains("2 adults, 2 children"), "{flash}");
    app.wait_for("#on-site-list [data-check-in-id]").await;
    assert_eq!(count(&app, "parties").await, "1");
    assert_eq!(count(&app, "children").await, "2");
    assert_eq!(count(&app, "first_time_parties").await, "1");
    assert_eq!(count(&app, "on_site_people").await, "4");
    assert_eq!(app.value("#field-adults").await, "1", "the form is ready for the next party");

    // ---- A second party by keyboard alone: Alt+N, a count, Enter (with a lead name that the
    // family asked to be known by, typed first).
    app.fill("#field-lead_name", PLANTED).await;
    app.press_key(Key::Alt + "n").await;
    app.press_key(Key::Control + "a").await;
    app.press_key("3").await;
    app.press_key(Key::Enter).await;
    app.wait_for_text("#flash", "3 adults").await;
    assert_eq!(count(&app, "parties").await, "2");
    assert_eq!(count(&app, "on_site_people").await, "7");
    app.screenshot("04-today").await;
    app.assert_accessible("today").await;

    // ---- Bad input: no people at all is refused at the field, and nothing is saved.
    app.fill("#field-adults", "0").await;
    app.click("#checkin-submit").await;
    app.wait_for_text("#error-summary", "at least 1 adult or child").await;
    assert_eq!(count(&app, "parties").await, "2");
    app.screenshot("05-today-error").await;
    app.assert_accessible("today-errors").await;
    app.fill("#field-adults", "1").await;

    // ---- Check the first party out.
    let before = app.driver().find_all(thirtyfour::By::Css("#on-site-list .check-out")).await.unwrap().len();
    assert_eq!(before, 2);
    app.click("#on-site-list [data-check-in-id]:last-child .check-out").await;
    app.wait_for_text("#today-counts [data-count=\"on_site_people\"]", "3").await;
    assert_eq!(app.driver().find_all(thirtyfour::By::Css("#on-site-list .check-out")).await.unwrap().len(), 1);
    app.screenshot("06-today-after-check-out").await;
    app.assert_accessible("today-after-check-out").await;
    app.quit().await;

    // ---- Restart: sign in; a wrong passphrase first.
    let app = harness.start(&data, &[]).await;
    app.wait_for("#field-username").await;
    let heading = app.text("main").await;
    assert!(heading.contains(CENTRE), "the sign-in screen names the centre: {heading}");
    app.assert_accessible("sign-in").await;
    app.fill("#field-username", USERNAME).await;
    app.fill("#field-passphrase", "not the passphrase").await;
    app.click("#signin-submit").await;
    app.wait_for_text("#error-summary", "not right").await;
    app.screenshot("07-sign-in-refused").await;
    app.assert_accessible("sign-in-refused").await;
    assert_eq!(app.value("#field-username").await, USERNAME, "what was typed is kept");
    app.fill("#field-passphrase", PASSPHRASE).await;
    app.click("#signin-submit").await;
    app.wait_for("#today-counts").await;
    assert_eq!(count(&app, "parties").await, "2", "the day's data survived the restart");
    assert_eq!(count(&app, "on_site_people").await, "3");
    app.quit().await;

    // ---- The idle lock, then the PIN, then the privacy screen.
    let app = harness.start(&data, &["--idle-lock-seconds", "3"]).await;
    app.fill("#field-username", USERNAME).await;
    app.fill("#field-passphrase", PASSPHRASE).await;
    app.click("#signin-submit").await;
    app.wait_for("#today-counts").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    app.wait_for("#lock-screen").await;
    assert!(!app.exists("#today-counts").await, "nothing of the day shows behind the lock");
    app.screenshot("08-locked").await;
    app.assert_accessible("lock").await;
    app.fill("#field-pin", "111112").await;
    app.click("#unlock-submit").await;
    app.wait_for_text("#error-summary", "not right").await;
    app.assert_accessible("lock-refused").await;
    app.fill("#field-pin", PIN).await;
    app.click("#unlock-submit").await;
    app.wait_for("#today-counts").await;

    app.press_key(Key::F9).await;
    let privacy = app.wait_for("#privacy-screen").await;
    let shown = privacy.text().await.unwrap();
    assert_eq!(shown.trim(), CENTRE, "the privacy screen shows the centre's name and nothing else");
    app.screenshot("09-privacy-screen").await;
    app.assert_accessible("privacy-screen").await;
    app.press_key(Key::F9).await;
    app.wait_gone("#privacy-screen").await;
    assert!(app.text("#on-site-list").await.contains(PLANTED), "the lead name is shown at the desk");
    app.quit().await;

    // ---- Nothing personal reached the logs: the app's output is in driver.log.
    let log = std::fs::read_to_string(harness.artifacts().join("driver.log")).unwrap();
    assert!(log.contains("signed in"), "the app's own log lines are in driver.log");
    for secret in [PLANTED, "Quartermaine", "Sam Manager", USERNAME, PASSPHRASE] {
        assert!(!log.contains(secret), "the log holds {secret:?}");
    }
}

/// A second launch on the same data folder does not open a second window on the same database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_launch_leaves_the_first_in_charge() {
    let harness = Harness::new("second_launch");
    let data = harness.data_dir().to_path_buf();
    let app = harness.start(&data, &[]).await;
    app.wait_for("#field-centre_name").await;
    let second = std::process::Command::new(pops_e2e::app_binary())
        .args(["--data-dir", data.to_str().unwrap()])
        .env("DISPLAY", format!(":{}", harness.display().number()))
        .output()
        .unwrap();
    assert!(second.status.success());
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(said.contains("already open"), "{said}");
    // The first is still there and still answers.
    app.fill("#field-centre_name", "Still here").await;
    assert_eq!(app.value("#field-centre_name").await, "Still here");
    app.quit().await;
}

/// Fills in the first-run set-up form and sends it.
async fn fill_set_up(app: &pops_e2e::AppSession) {
    app.fill("#field-centre_name", CENTRE).await;
    app.click("#field-prison option[value=\"liverpool\"]").await;
    app.fill("#field-display_name", "Sam Manager").await;
    app.fill("#field-username", USERNAME).await;
    app.fill("#field-passphrase", PASSPHRASE).await;
    app.fill("#field-passphrase_confirm", PASSPHRASE).await;
    app.fill("#field-pin", PIN).await;
    app.click("#setup-submit").await;
}

/// First-run set-up, past the recovery code screen; leaves the manager on Today.
async fn set_up_centre(app: &pops_e2e::AppSession) {
    fill_set_up(app).await;
    app.click("#recovery-confirm").await;
    app.click("#recovery-continue").await;
    app.wait_for("#field-adults").await;
}

/// A manager adds a volunteer, who then signs in and sees only the places a volunteer may use;
/// the manager checks the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_adds_a_volunteer_who_sees_only_the_desk() {
    let harness = Harness::new("accounts_and_roles");
    let data = harness.data_dir().to_path_buf();
    let app = harness.start(&data, &[]).await;
    set_up_centre(&app).await;

    app.press_key(Key::Alt + "7").await;
    app.wait_for("#accounts-list").await;
    // Bad input first: a short passphrase and no role.
    app.fill("#field-display_name", "Val Volunteer").await;
    app.fill("#field-username", "val").await;
    app.fill("#field-passphrase", "short").await;
    app.click("#add-account-submit").await;
    let summary = app.wait_for_text("#error-summary", "at least 10 characters").await;
    assert!(summary.contains("Choose what this person does"), "{summary}");
    app.assert_accessible("settings-add-account-errors").await;
    app.fill("#field-passphrase", "val's own passphrase").await;
    app.fill("#field-passphrase_confirm", "val's own passphrase").await;
    app.fill("#field-pin", "582047").await;
    app.click("#field-role option[value=\"volunteer\"]").await;
    app.click("#add-account-submit").await;
    app.wait_for_text("#accounts-list", "Val Volunteer").await;
    app.click("#verify-audit").await;
    app.wait_for_text("#audit-result", "entries").await;
    app.screenshot("01-settings").await;
    app.assert_accessible("settings").await;

    app.click("#lock-button").await;
    app.click("#lock-switch-user").await;
    app.fill("#field-username", "val").await;
    app.fill("#field-passphrase", "val's own passphrase").await;
    app.click("#signin-submit").await;
    app.wait_for("#field-adults").await;
    assert!(app.exists("#nav-today").await);
    assert!(!app.exists("#nav-settings").await, "a volunteer does not see Settings");
    let who = app.text("#status-user").await;
    assert!(who.contains("Val Volunteer") && who.contains("Volunteer"), "{who}");
    app.screenshot("02-volunteer-today").await;
    app.assert_accessible("today-no-session").await;
    app.quit().await;
}
