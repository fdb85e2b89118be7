//! The manager's settings for the desk (weekly sessions, the walkthrough, exports) and feedback
//! through to closed, end to end through the real window, each as the role that does it.
//! Screenshots are kept in `target/e2e-artifacts/<test>/`.
#![allow(clippy::unwrap_used)]

use pops_e2e::{AppSession, Harness, Key};

const USERNAME: &str = "sam.manager";
const PASSPHRASE: &str = "three calm words here";
const PIN: &str = "402917";

/// First-run set-up, past the recovery code; leaves the manager on Today.
async fn set_up_centre(app: &AppSession) {
    app.wait_for("#field-centre_name").await;
    app.fill("#field-centre_name", "HMP Risley Visitor Centre").await;
    app.click("#field-prison option[value=\"risley\"]").await;
    app.fill("#field-display_name", "Sam Manager").await;
    app.fill("#field-username", USERNAME).await;
    app.fill("#field-passphrase", PASSPHRASE).await;
    app.fill("#field-passphrase_confirm", PASSPHRASE).await;
    app.fill("#field-pin", PIN).await;
    app.click("#setup-submit").await;
    app.click("#recovery-confirm").await;
    app.click("#recovery-continue").await;
    app.wait_for("#today-counts").await;
}

/// Adds an account through Settings (the manager must be on Settings).
async fn add_account(app: &AppSession, name: &str, username: &str, role: &str) {
    app.fill("#field-display_name", name).await;
    app.fill("#field-username", username).await;
    app.fill("#field-passphrase", &format!("{username} has a long passphrase")).await;
    app.fill("#field-passphrase_confirm", &format!("{username} has a long passphrase")).await;
    app.fill("#field-pin", "582047").await;
    app.click(&format!("#field-role option[value=\"{role}\"]")).await;
    app.click("#add-account-submit").await;
    app.wait_for_text("#accounts-list", name).await;
}

/// Locks, switches user and signs in as `username`.
async fn switch_to(app: &AppSession, username: &str) {
    app.click("#lock-button").await;
    app.click("#lock-switch-user").await;
    app.fill("#field-username", username).await;
    let passphrase =
        if username == USERNAME { PASSPHRASE.to_string() } else { format!("{username} has a long passphrase") };
    app.fill("#field-passphrase", &passphrase).await;
    app.click("#signin-submit").await;
    app.wait_for("#today-counts").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_sets_the_weekly_sessions_the_walkthrough_and_exports() {
    let harness = Harness::new("manager_settings");
    let data = harness.data_dir().to_path_buf();
    let exports = data.join("exports-here");
    let app = harness.start(&data, &["--export-dir", exports.to_str().unwrap()]).await;
    set_up_centre(&app).await;

    app.press_key(Key::Alt + "7").await;
    app.wait_for("#templates-list").await;
    let before = app.text("#templates-list").await;
    assert!(before.contains("Afternoon visits") && before.contains("Saturday"), "{before}");

    // A weekly session: bad input first, at the fields; then a good one.
    app.fill("#field-name", "Tuesday evening").await;
    app.fill("#field-starts_at", "19:00").await;
    app.fill("#field-ends_at", "18:00").await;
    app.click("#template-submit").await;
    let summary = app.wait_for_text("#error-summary", "end after it starts").await;
    assert!(summary.contains("Choose the day of the week") && summary.contains("open or closed"), "{summary}");
    app.screenshot("01-template-errors").await;
    app.assert_accessible("01-template-errors").await;
    app.click("#field-weekday option[value=\"2\"]").await;
    app.click("#field-kind option[value=\"closed\"]").await;
    app.fill("#field-ends_at", "20:30").await;
    app.click("#template-submit").await;
    app.wait_for_text("#flash", "every Tuesday, 19:00 to 20:30").await;
    let list = app.text("#templates-list").await;
    assert!(list.contains("Tuesday evening") && list.contains("Closed visits"), "{list}");

    // The walkthrough: add an item at the end and save.
    app.click("#walkthrough-add").await;
    app.fill("#field-walkthrough-8", "Baby changing and feeding room").await;
    app.click("#settings-save").await;
    app.wait_for_text("#flash", "the walkthrough has 9 items").await;

    // Exports go to the export folder, as CSV.
    app.click("#export-events").await;
    let shown = app.wait_for_text("#export-result", "Saved to").await;
    let files: Vec<_> = std::fs::read_dir(&exports).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let path = files[0].to_str().unwrap().to_string();
    assert!(shown.contains(&path), "{shown} names {path}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.starts_with("date,kind,title,adults"), "{text}");
    app.screenshot("02-settings").await;
    app.assert_accessible("02-settings").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_goes_from_the_desk_to_closed_and_events_are_recorded() {
    let harness = Harness::new("feedback_and_events");
    let data = harness.data_dir().to_path_buf();
    let app = harness.start(&data, &[]).await;
    set_up_centre(&app).await;
    app.press_key(Key::Alt + "7").await;
    app.wait_for("#accounts-list").await;
    add_account(&app, "Val Volunteer", "val", "volunteer").await;
    add_account(&app, "Cas Coordinator", "cas", "coordinator").await;

    // A volunteer logs a complaint at the desk (in Arabic, Hebrew and English), sees it
    // waiting, and cannot answer it or see Settings.
    switch_to(&app, "val").await;
    assert!(!app.exists("#nav-settings").await, "a volunteer has no Settings and so no exports");
    // (WebDriver cannot type characters beyond the Basic Multilingual Plane, so no emoji here: the
    // store and app tests check emoji are kept.)
    let complaint = "الانتظار كان طويلا ☹ שלום — we waited outside in the rain";
    log_feedback(&app, complaint).await;
    app.press_key(Key::Alt + "8").await;
    let waiting = app.wait_for_text("#waiting-feedback", "Complaint").await;
    assert!(waiting.contains(complaint), "stored and shown exactly as typed: {waiting}");
    assert!(waiting.contains("waiting today"), "{waiting}");
    assert!(!app.exists("#waiting-feedback .respond").await, "a volunteer cannot respond");
    assert!(!app.exists("#event-submit").await, "a volunteer does not record events");
    app.screenshot("01-volunteer-feedback").await;
    app.assert_accessible("01-volunteer-feedback").await;

    // The coordinator responds (an empty response first), then closes it.
    switch_to(&app, "cas").await;
    app.press_key(Key::Alt + "8").await;
    app.wait_for("#waiting-feedback").await;
    assert!(!app.exists("#waiting-feedback .close-feedback").await, "a complaint is answered before it is closed");
    app.click("#waiting-feedback .respond").await;
    app.click("#response-submit").await;
    app.wait_for_text("#error-summary", "Write the response").await;
    app.fill("#field-response", "Sorry. The doors now open 45 minutes before the session.").await;
    app.click("#response-submit").await;
    app.wait_for_text("#flash", "Response recorded").await;
    app.click("#waiting-feedback .close-feedback").await;
    app.wait_for_text("#flash", "Feedback closed").await;
    let closed = app.wait_for_text("#closed-feedback", "45 minutes").await;
    assert!(closed.contains("Response from Cas Coordinator"), "who responded is shown: {closed}");
    assert!(closed.contains(complaint), "{closed}");
    assert!(!app.exists("#waiting-feedback").await, "nothing left waiting");

    // An event with attendance; a bad date first.
    app.fill("#field-date", "next Saturday").await;
    app.click("#event-submit").await;
    let summary = app.wait_for_text("#error-summary", "Enter the date of the event").await;
    assert!(summary.contains("family day or family forum"), "{summary}");
    app.fill("#field-date", "2026-12-19").await;
    app.click("#field-kind option[value=\"family_day\"]").await;
    app.fill("#field-title", "Christmas family day").await;
    app.fill("#field-adults", "24").await;
    app.fill("#field-children-age_5_11", "15").await;
    app.click("#event-submit").await;
    app.wait_for_text("#flash", "Christmas family day").await;
    let events = app.text("#events-list").await;
    assert!(events.contains("Christmas family day") && events.contains("24") && events.contains("15"), "{events}");
    app.screenshot("02-coordinator-feedback-and-events").await;
    app.assert_accessible("02-coordinator-feedback-and-events").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_family_is_kept_with_consent_and_found_again_by_part_of_a_name() {
    let harness = Harness::new("families");
    let data = harness.data_dir().to_path_buf();
    let app = harness.start(&data, &[]).await;
    set_up_centre(&app).await;
    app.press_key(Key::Alt + "7").await;
    app.wait_for("#accounts-list").await;
    add_account(&app, "Val Volunteer", "val", "volunteer").await;
    add_account(&app, "Cas Coordinator", "cas", "coordinator").await;

    // The volunteer adds a family: without consent first, and a date of birth in the future.
    switch_to(&app, "val").await;
    app.press_key(Key::Alt + "4").await;
    app.wait_for("#field-family-search").await;
    app.fill("#field-family-search", "Amira").await;
    app.wait_for_text("#family-results", "No family found").await;
    app.click("#add-family").await;
    app.wait_for("#field-members-0-name").await;
    assert_eq!(app.value("#field-members-0-name").await, "Amira", "what was searched for starts the form");
    assert!(!app.exists("#field-contact-phone").await, "the desk does not record contact details");
    app.fill("#field-members-0-name", "Amira Khan-Ali").await;
    app.click("#field-members-0-relationship option[value=\"partner\"]").await;
    app.click("#add-member").await;
    app.fill("#field-members-1-name", "Yusuf Khan-Ali").await;
    app.click("#field-members-1-relationship option[value=\"child\"]").await;
    app.fill("#field-members-1-date_of_birth", "2099-01-01").await;
    app.click("#family-submit").await;
    let summary = app.wait_for_text("#error-summary", "consent").await;
    assert!(summary.contains("future"), "{summary}");
    app.screenshot("01-family-errors").await;
    app.assert_accessible("01-family-errors").await;
    assert_eq!(app.value("#field-members-1-name").await, "Yusuf Khan-Ali", "nothing typed is lost");
    app.click("#field-consent-consent_given").await;
    app.fill("#field-consent-given_by", "Amira Khan-Ali").await;
    app.click("#field-consent-method option[value=\"verbal\"]").await;
    app.fill("#field-members-1-date_of_birth", "2019-03-04").await;
    app.click("#family-submit").await;
    app.wait_for_text("#flash", "Family added").await;
    let members = app.text("#family-members").await;
    assert!(members.contains("Aged 5 to 11"), "{members}");
    assert!(!app.exists("#show-details").await, "a volunteer cannot open contact details");

    // Found again by part of any member's name, as the desk types.
    app.click("#family-view .button-secondary").await;
    app.fill("#field-family-search", "usu").await;
    app.wait_for_text("#family-results", "Yusuf Khan-Ali").await;
    app.screenshot("02-family-search").await;
    app.assert_accessible("02-family-search").await;

    // At the desk, the lead name finds the family; the party is checked in as that family.
    app.press_key(Key::Alt + "1").await;
    app.fill("#field-lead_name", "Amira").await;
    app.click("#family-match .family-link").await;
    app.wait_for_text("#family-match", "Returning family").await;
    app.click("#checkin-submit").await;
    app.wait_for_text("#flash", "Checked in").await;
    app.press_key(Key::Alt + "4").await;
    app.fill("#field-family-search", "amira").await;
    app.wait_for_text("#family-results", "1 visit").await;

    // The coordinator opens the contact details (none yet) and records the prisoner.
    switch_to(&app, "cas").await;
    app.press_key(Key::Alt + "4").await;
    app.fill("#field-family-search", "khan").await;
    app.wait_for_text("#family-results", "Amira Khan-Ali").await;
    app.click("#family-results .family-result").await;
    app.click("#show-details").await;
    app.wait_for_text("#family-details", "Not recorded").await;
    app.click("#edit-family").await;
    app.fill("#field-prisoner-prison_number", "a1234bc").await;
    app.click("#family-submit").await;
    app.wait_for_text("#flash", "saved").await;
    app.click("#show-details").await;
    app.wait_for_text("#family-details", "A1234BC").await;
    app.screenshot("03-family-details").await;
    app.assert_accessible("03-family-details").await;
    app.quit().await;
}

/// Logs feedback from the Today screen as a complaint made in person.
async fn log_feedback(app: &AppSession, summary: &str) {
    app.press_key(Key::Alt + "1").await;
    app.click("#open-feedback").await;
    app.wait_for("#feedback-form").await;
    app.click("#field-kind-complaint").await;
    app.fill("#field-summary", summary).await;
    app.click("#feedback-submit").await;
    app.wait_for_text("#flash", "Feedback logged").await;
}
